/* error.c: filling in a bounded error message for the caller. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
cv_error_set(struct cv_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

void
cv_error_prefix(struct cv_error *err, const char *fmt, ...)
{
	char prefix[CV_ERROR_MAX], old[CV_ERROR_MAX];
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
}
