/* clock.c: the one clock (system time plus a test offset) and the time text formats. */
#include "clock.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const month_abbrev[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

cv_time
cv_clock_now(const struct cv_clock *clock)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (cv_time)ts.tv_sec + (clock != NULL ? clock->offset : 0);
}

static int
is_leap(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int
days_in_month(int year, int month)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const int64_t yoe = y - era * 400;
	const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

int
cv_time_from_utc(int year, int month, int day, int hour, int min, int sec, cv_time *out)
{
	if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 ||
	    day > days_in_month(year, month) || hour < 0 || hour > 23 || min < 0 || min > 59 ||
	    sec < 0 || sec > 60)
		return -1;
	*out = days_from_civil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec;
	return 0;
}

/* Reads exactly n decimal digits. */
static int
read_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int
parse_unix_seconds(const char *s, cv_time *out)
{
	char *end;
	long long v;

	if (*s == '@')
		s++;
	if (*s == '\0')
		return -1;
	for (const char *c = (*s == '-') ? s + 1 : s; *c != '\0'; c++)
		if (!isdigit((unsigned char)*c))
			return -1;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* "Z", "+hh:mm", "+hhmm", "-hh", or nothing (UTC). */
static int
parse_zone(const char *p, int64_t *offset)
{
	int hh = 0, mm = 0, sign;

	*offset = 0;
	if (*p == '\0' || ((*p == 'Z' || *p == 'z') && p[1] == '\0'))
		return 0;
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p == '-' ? -1 : 1;
	p++;
	if (read_digits(&p, 2, &hh) < 0)
		return -1;
	if (*p == ':')
		p++;
	if (*p != '\0' && read_digits(&p, 2, &mm) < 0)
		return -1;
	if (*p != '\0' || hh > 23 || mm > 59)
		return -1;
	*offset = sign * (hh * 3600 + mm * 60);
	return 0;
}

int
cv_time_parse(const char *text, cv_time *out)
{
	const char *p = text;
	int y, mo, d, h = 0, mi = 0, s = 0;
	int64_t zone;
	cv_time t;

	if (text == NULL)
		return -1;
	if (strchr(text, '-') == NULL || text[0] == '@' || text[0] == '-')
		return parse_unix_seconds(text, out);
	if (read_digits(&p, 4, &y) < 0 || *p++ != '-' || read_digits(&p, 2, &mo) < 0 ||
	    *p++ != '-' || read_digits(&p, 2, &d) < 0)
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (read_digits(&p, 2, &h) < 0 || *p++ != ':' || read_digits(&p, 2, &mi) < 0)
			return -1;
		if (*p == ':') {
			p++;
			if (read_digits(&p, 2, &s) < 0)
				return -1;
		}
		if (*p == '.') /* fractional seconds are ignored */
			while (isdigit((unsigned char)*++p))
				;
	}
	if (parse_zone(p, &zone) < 0 || cv_time_from_utc(y, mo, d, h, mi, s, &t) < 0)
		return -1;
	*out = t - zone;
	return 0;
}

static int
split_utc(cv_time t, struct tm *tm)
{
	time_t tt = (time_t)t;

	return gmtime_r(&tt, tm) == NULL ? -1 : 0;
}

char *
cv_time_format_iso(cv_time t, char buf[CV_TIME_TEXT_MAX])
{
	struct tm tm;

	if (t == CV_TIME_NONE || split_utc(t, &tm) < 0) {
		snprintf(buf, CV_TIME_TEXT_MAX, "-");
		return buf;
	}
	snprintf(buf, CV_TIME_TEXT_MAX, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return buf;
}

char *
cv_time_format_ios(cv_time t, char buf[CV_TIME_TEXT_MAX])
{
	struct tm tm;

	if (t == CV_TIME_NONE || split_utc(t, &tm) < 0) {
		snprintf(buf, CV_TIME_TEXT_MAX, "-");
		return buf;
	}
	snprintf(buf, CV_TIME_TEXT_MAX, "%02d:%02d:%02d GMT %s %d %04d", tm.tm_hour, tm.tm_min,
	         tm.tm_sec, month_abbrev[tm.tm_mon], tm.tm_mday, tm.tm_year + 1900);
	return buf;
}
