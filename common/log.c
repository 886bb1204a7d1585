/* log.c: the process's log sink, stderr or syslog. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

/* The sink is process-wide configuration set once at start-up, as in OpenSSH's log.c. */
static struct {
	bool use_syslog;
	enum cv_log_level max_level;
	const char *ident;
} sink = {false, CV_LOG_WARNING, "certval"};

void
cv_log_open(const char *ident, bool use_syslog, enum cv_log_level max_level)
{
	sink.ident = ident;
	sink.use_syslog = use_syslog;
	sink.max_level = max_level;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
cv_log_close(void)
{
	if (sink.use_syslog)
		closelog();
	sink.use_syslog = false;
}

static const char *
level_name(enum cv_log_level level)
{
	switch (level) {
	case CV_LOG_ERR:
		return "error";
	case CV_LOG_WARNING:
		return "warning";
	case CV_LOG_NOTICE:
		return "notice";
	case CV_LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void
cv_log(enum cv_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level > sink.max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sink.use_syslog)
		syslog((int)level, "%s", msg);
	else
		fprintf(stderr, "%s: %s: %s\n", sink.ident, level_name(level), msg);
}
