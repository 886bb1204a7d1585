/* error.h: a bounded error message that a failing function fills in for its caller. */
#ifndef CV_ERROR_H
#define CV_ERROR_H

#define CV_ERROR_MAX 512

struct cv_error {
	char msg[CV_ERROR_MAX];
};

/* Sets the message (printf style). Safe with err == NULL. */
void cv_error_set(struct cv_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepends "prefix: " to the message already set. Safe with err == NULL. */
void cv_error_prefix(struct cv_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
