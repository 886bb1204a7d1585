/* log.h: logging to stderr or syslog, one sink for the whole process. */
#ifndef CV_LOG_H
#define CV_LOG_H

#include <stdbool.h>

enum cv_log_level {
	CV_LOG_ERR = 3,
	CV_LOG_WARNING = 4,
	CV_LOG_NOTICE = 5,
	CV_LOG_INFO = 6,
	CV_LOG_DEBUG = 7,
};

/* Chooses the sink; until called, messages at WARNING and above go to stderr. */
void cv_log_open(const char *ident, bool use_syslog, enum cv_log_level max_level);
void cv_log_close(void);

void cv_log(enum cv_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define cv_log_err(...)     cv_log(CV_LOG_ERR, __VA_ARGS__)
#define cv_log_warning(...) cv_log(CV_LOG_WARNING, __VA_ARGS__)
#define cv_log_notice(...)  cv_log(CV_LOG_NOTICE, __VA_ARGS__)
#define cv_log_info(...)    cv_log(CV_LOG_INFO, __VA_ARGS__)
#define cv_log_debug(...)   cv_log(CV_LOG_DEBUG, __VA_ARGS__)

#endif
