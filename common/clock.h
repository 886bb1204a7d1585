/* clock.h: the one clock of certval (seconds since the Unix epoch, UTC) and time text formats. */
#ifndef CV_CLOCK_H
#define CV_CLOCK_H

#include <stddef.h>
#include <stdint.h>

typedef int64_t cv_time;

#define CV_TIME_NONE INT64_MIN /* "no time": an absent nextUpdate, an unset field */

/*
 * The daemon's clock. Every check takes "now" from the request; the request takes it from
 * here. Tests move the clock with an offset instead of waiting.
 */
struct cv_clock {
	int64_t offset; /* seconds added to the system's wall clock */
};

cv_time cv_clock_now(const struct cv_clock *clock);

/*
 * Parses ISO 8601 ("2011-04-15T00:00:00Z", "2011-04-15T00:00:00+02:00", "2011-04-15 00:00:00",
 * "2011-04-15") or Unix seconds ("1302825600", "@1302825600"). Returns 0 or -1.
 */
int cv_time_parse(const char *text, cv_time *out);

#define CV_TIME_TEXT_MAX 40

/* "2011-04-15T00:00:00Z"; "-" for CV_TIME_NONE. Returns buf. */
char *cv_time_format_iso(cv_time t, char buf[CV_TIME_TEXT_MAX]);

/* The manuals' display format, "18:57:42 GMT Nov 26 2005". Returns buf. */
char *cv_time_format_ios(cv_time t, char buf[CV_TIME_TEXT_MAX]);

/* Converts a broken-down UTC date to cv_time; -1 on an impossible date. */
int cv_time_from_utc(int year, int month, int day, int hour, int min, int sec, cv_time *out);

#endif
