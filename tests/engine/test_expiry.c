/*
 * test_expiry.c: the CA certificate expiry notice schedule and text (policy/expiry.c, SPEC
 * R57, R58, O-24), walked with a simulated clock.
 */
#include <stdio.h>
#include <string.h>

#include "../../policy/expiry.h"
#include "../support/check.h"

#define DAY  86400
#define HOUR 3600

static const cv_time not_after = 1800000000; /* 2027-01-15T08:00:00Z */

/*
 * Walks the clock from `from` to `to` seconds before notAfter in steps of `step`, sending
 * each notice that falls due; records the time left (in seconds) when each was sent.
 */
static size_t
walk(cv_time from, cv_time to, cv_time step, cv_time *sent, enum cv_expiry_mode *modes, size_t max)
{
	cv_time last = CV_TIME_NONE, slot;
	size_t n = 0;

	for (cv_time left = from; left >= to; left -= step) {
		enum cv_expiry_mode m = cv_expiry_due(not_after, not_after - left, last, &slot);

		if (m == CV_EXPIRY_NONE)
			continue;
		CHECK(slot <= not_after - left);
		last = slot;
		if (n < max) {
			sent[n] = left;
			modes[n] = m;
		}
		n++;
	}
	return n;
}

static void
test_schedule(void)
{
	cv_time sent[64];
	enum cv_expiry_mode modes[64];
	size_t n;

	/* R57 test: at -60d one warning, at -53d a second, then one alert a day in the last week */
	n = walk(70 * DAY, 1, HOUR, sent, modes, 64);
	CHECK_INT_EQ(n, 8 + 7);
	CHECK_INT_EQ(sent[0], 60 * DAY);
	CHECK_INT_EQ(modes[0], CV_EXPIRY_WARNING);
	CHECK_INT_EQ(sent[1], 53 * DAY);
	CHECK_INT_EQ(modes[1], CV_EXPIRY_WARNING);
	for (size_t i = 0; i < 8; i++) {
		CHECK_INT_EQ(sent[i], (60 - 7 * (cv_time)i) * DAY);
		CHECK_INT_EQ(modes[i], CV_EXPIRY_WARNING);
	}
	for (size_t i = 8; i < 15; i++) {
		CHECK_INT_EQ(sent[i], (7 - (cv_time)(i - 8)) * DAY);
		CHECK_INT_EQ(modes[i], CV_EXPIRY_ALERT);
	}

	/* nothing before 60 days, nothing once expired */
	CHECK_INT_EQ(cv_expiry_due(not_after, not_after - 60 * DAY - 1, CV_TIME_NONE, NULL),
	             CV_EXPIRY_NONE);
	CHECK_INT_EQ(cv_expiry_due(not_after, not_after, CV_TIME_NONE, NULL), CV_EXPIRY_NONE);
	CHECK_INT_EQ(cv_expiry_due(not_after, not_after + DAY, CV_TIME_NONE, NULL), CV_EXPIRY_NONE);

	/* a daemon started 3 days before expiry sends the current slot's alert once */
	n = walk(3 * DAY - 100, 3 * DAY - 100 - 12 * HOUR, 60, sent, modes, 64);
	CHECK_INT_EQ(n, 1);
	CHECK_INT_EQ(modes[0], CV_EXPIRY_ALERT);
	/* ... and the next one a day later (-6d, -5d: the test of R57 in alert mode) */
	CHECK_INT_EQ(cv_expiry_due(not_after, not_after - 6 * DAY, not_after - 7 * DAY, NULL),
	             CV_EXPIRY_ALERT);
	CHECK_INT_EQ(cv_expiry_due(not_after, not_after - 5 * DAY, not_after - 6 * DAY, NULL),
	             CV_EXPIRY_ALERT);
	CHECK_INT_EQ(cv_expiry_due(not_after, not_after - 5 * DAY - 1, not_after - 6 * DAY, NULL),
	             CV_EXPIRY_NONE);

	/* the timer's next wake-ups */
	CHECK_INT_EQ(cv_expiry_next(not_after, not_after - 90 * DAY), not_after - 60 * DAY);
	CHECK_INT_EQ(cv_expiry_next(not_after, not_after - 60 * DAY), not_after - 53 * DAY);
	CHECK_INT_EQ(cv_expiry_next(not_after, not_after - 10 * DAY), not_after - 7 * DAY);
	CHECK_INT_EQ(cv_expiry_next(not_after, not_after - 7 * DAY), not_after - 6 * DAY);
	CHECK_INT_EQ(cv_expiry_next(not_after, not_after - HOUR), CV_TIME_NONE);
	CHECK_INT_EQ(cv_expiry_next(not_after, not_after + 1), CV_TIME_NONE);
}

static void
test_format(void)
{
	struct cv_expiry_notice n = {"check",        "CA",     "2EC", "CN=Issuing CA,C=IN",
	                             "CN=cisco.com", not_after};
	char buf[512], left[96];
	cv_time now;

	/* R58 test: the alert line 19 seconds after two days were left */
	now = not_after - (2 * DAY - 19);
	CHECK(cv_expiry_format(CV_EXPIRY_ALERT, &n, now, buf, sizeof(buf)) > 0);
	CHECK_STR_EQ(buf, "%SECURITY-CEPKI-1-CERT_EXPIRING_ALERT : Certificate expiring WITHIN A "
	                  "WEEK. Trustpoint Name= check, Certificate Type= CA, Serial Number= "
	                  "02:EC, Issuer Name= CN=Issuing CA,C=IN, Subject name= CN=cisco.com, "
	                  "Time Left= 1 days, 23 hours, 59 minutes, 41 seconds");
	CHECK(strstr(buf, "Time Left= 1 days, 23 hours, 59 minutes, 41 seconds") != NULL);
	CHECK(strstr(buf, "Serial Number= 02:EC,") != NULL);

	/* warnings: severity 4, the same body */
	now = not_after - 60 * DAY;
	CHECK(cv_expiry_format(CV_EXPIRY_WARNING, &n, now, buf, sizeof(buf)) > 0);
	CHECK(strncmp(buf, "%SECURITY-CEPKI-4-CERT_EXPIRING_WARNING : Certificate expiring ", 63) ==
	      0);
	CHECK(strstr(buf, "Trustpoint Name= check, Certificate Type= CA, Serial Number= 02:EC, "
	                  "Issuer Name= CN=Issuing CA,C=IN, Subject name= CN=cisco.com, Time "
	                  "Left= 60 days, 0 hours, 0 minutes, 0 seconds") != NULL);

	/* no line for NONE, a bad serial, or a buffer too small */
	CHECK_INT_EQ(cv_expiry_format(CV_EXPIRY_NONE, &n, now, buf, sizeof(buf)), -1);
	n.serial = "xyz";
	CHECK_INT_EQ(cv_expiry_format(CV_EXPIRY_ALERT, &n, now, buf, sizeof(buf)), -1);
	n.serial = "2EC";
	CHECK_INT_EQ(cv_expiry_format(CV_EXPIRY_ALERT, &n, now, buf, 40), -1);

	CHECK_STR_EQ(cv_expiry_format_left(0, left, sizeof(left)),
	             "0 days, 0 hours, 0 minutes, 0 seconds");
	CHECK_STR_EQ(cv_expiry_format_left(-5, left, sizeof(left)),
	             "0 days, 0 hours, 0 minutes, 0 seconds");
	CHECK_STR_EQ(cv_expiry_format_left(47 * HOUR + 59 * 60 + 41, left, sizeof(left)),
	             "1 days, 23 hours, 59 minutes, 41 seconds");
}

static void
test_serial(void)
{
	char buf[64];

	CHECK_INT_EQ(cv_expiry_format_serial("2EC", buf, sizeof(buf)), 0);
	CHECK_STR_EQ(buf, "02:EC");
	CHECK_INT_EQ(cv_expiry_format_serial("02ec", buf, sizeof(buf)), 0);
	CHECK_STR_EQ(buf, "02:EC");
	CHECK_INT_EQ(cv_expiry_format_serial("1", buf, sizeof(buf)), 0);
	CHECK_STR_EQ(buf, "01");
	CHECK_INT_EQ(cv_expiry_format_serial("0123456789ABCDEF", buf, sizeof(buf)), 0);
	CHECK_STR_EQ(buf, "01:23:45:67:89:AB:CD:EF");
	CHECK_INT_EQ(cv_expiry_format_serial("", buf, sizeof(buf)), -1);
	CHECK_INT_EQ(cv_expiry_format_serial("12G4", buf, sizeof(buf)), -1);
	CHECK_INT_EQ(cv_expiry_format_serial("1234", buf, 5), -1); /* "12:34" needs 6 */
	CHECK_INT_EQ(cv_expiry_format_serial("1234", buf, 6), 0);
	CHECK_STR_EQ(buf, "12:34");
}

int
main(void)
{
	test_schedule();
	test_format();
	test_serial();
	return check_summary();
}
