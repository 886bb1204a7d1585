/* expiry.c: the schedule and the text of CA certificate expiry notices (R57, R58, O-24). */
#include "expiry.h"

#include <stdio.h>
#include <string.h>

const char *
cv_expiry_mode_name(enum cv_expiry_mode mode)
{
	switch (mode) {
	case CV_EXPIRY_WARNING:
		return "warning";
	case CV_EXPIRY_ALERT:
		return "alert";
	default:
		return "none";
	}
}

enum cv_expiry_mode
cv_expiry_slot(cv_time not_after, cv_time now, cv_time *slot_start)
{
	cv_time left, start;
	enum cv_expiry_mode mode;

	if (slot_start != NULL)
		*slot_start = CV_TIME_NONE;
	if (not_after == CV_TIME_NONE || now == CV_TIME_NONE || now >= not_after ||
	    not_after - now > CV_EXPIRY_WARN_BEFORE)
		return CV_EXPIRY_NONE;
	left = not_after - now;
	if (left <= CV_EXPIRY_ALERT_BEFORE) {
		mode = CV_EXPIRY_ALERT;
		start =
		    not_after - CV_EXPIRY_ALERT_BEFORE +
		    (CV_EXPIRY_ALERT_BEFORE - left) / CV_EXPIRY_ALERT_EVERY * CV_EXPIRY_ALERT_EVERY;
	} else {
		mode = CV_EXPIRY_WARNING;
		start =
		    not_after - CV_EXPIRY_WARN_BEFORE +
		    (CV_EXPIRY_WARN_BEFORE - left) / CV_EXPIRY_WARN_EVERY * CV_EXPIRY_WARN_EVERY;
	}
	if (slot_start != NULL)
		*slot_start = start;
	return mode;
}

enum cv_expiry_mode
cv_expiry_due(cv_time not_after, cv_time now, cv_time last_slot, cv_time *slot)
{
	cv_time start;
	enum cv_expiry_mode mode = cv_expiry_slot(not_after, now, &start);

	if (slot != NULL)
		*slot = CV_TIME_NONE;
	if (mode == CV_EXPIRY_NONE || (last_slot != CV_TIME_NONE && start <= last_slot))
		return CV_EXPIRY_NONE;
	if (slot != NULL)
		*slot = start;
	return mode;
}

cv_time
cv_expiry_next(cv_time not_after, cv_time now)
{
	cv_time start, next;
	enum cv_expiry_mode mode;

	if (not_after == CV_TIME_NONE || now == CV_TIME_NONE || now >= not_after)
		return CV_TIME_NONE;
	if (not_after - now > CV_EXPIRY_WARN_BEFORE)
		return not_after - CV_EXPIRY_WARN_BEFORE;
	mode = cv_expiry_slot(not_after, now, &start);
	if (mode == CV_EXPIRY_WARNING) {
		next = start + CV_EXPIRY_WARN_EVERY;
		if (next > not_after - CV_EXPIRY_ALERT_BEFORE)
			next = not_after - CV_EXPIRY_ALERT_BEFORE;
		return next;
	}
	next = start + CV_EXPIRY_ALERT_EVERY;
	return next < not_after ? next : CV_TIME_NONE;
}

char *
cv_expiry_format_left(cv_time seconds, char *buf, size_t size)
{
	if (seconds < 0)
		seconds = 0;
	snprintf(buf, size, "%lld days, %d hours, %d minutes, %d seconds",
	         (long long)(seconds / 86400), (int)(seconds % 86400 / 3600),
	         (int)(seconds % 3600 / 60), (int)(seconds % 60));
	return buf;
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
cv_expiry_format_serial(const char *hex, char *buf, size_t size)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t n = strlen(hex), pos = 0, i = 0;

	if (n == 0 || size == 0)
		return -1;
	buf[0] = '\0';
	/* an odd number of digits: the first byte has a leading zero */
	while (i < n) {
		int hi = (n - i) % 2 != 0 ? 0 : hex_digit(hex[i++]);
		int lo = hex_digit(hex[i++]);

		if (hi < 0 || lo < 0 || pos + (pos > 0 ? 3 : 2) >= size)
			return -1;
		if (pos > 0)
			buf[pos++] = ':';
		buf[pos++] = digits[hi];
		buf[pos++] = digits[lo];
		buf[pos] = '\0';
	}
	return 0;
}

int
cv_expiry_format(enum cv_expiry_mode mode, const struct cv_expiry_notice *n, cv_time now, char *buf,
                 size_t size)
{
	char serial[160], left[96];
	int len;

	if (size > 0)
		buf[0] = '\0';
	if (mode == CV_EXPIRY_NONE ||
	    cv_expiry_format_serial(n->serial, serial, sizeof(serial)) != 0)
		return -1;
	cv_expiry_format_left(n->not_after - now, left, sizeof(left));
	len = snprintf(buf, size,
	               "%s : Certificate expiring %s. Trustpoint Name= %s, Certificate Type= %s, "
	               "Serial Number= %s, Issuer Name= %s, Subject name= %s, Time Left= %s",
	               mode == CV_EXPIRY_ALERT ? "%SECURITY-CEPKI-1-CERT_EXPIRING_ALERT"
	                                       : "%SECURITY-CEPKI-4-CERT_EXPIRING_WARNING",
	               mode == CV_EXPIRY_ALERT ? "WITHIN A WEEK" : "WITHIN 60 DAYS", n->trustpoint,
	               n->cert_type, serial, n->issuer, n->subject, left);
	if (len < 0 || (size_t)len >= size)
		return -1;
	return len;
}
