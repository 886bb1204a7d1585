/* test_common.c: unit tests of common/: time parsing and formats, base64, verdict trace. */
#include <stdlib.h>

#include "../../common/clock.h"
#include "../../common/util.h"
#include "../../common/verdict.h"
#include "../support/check.h"

static void
test_time_parse(void)
{
	cv_time t;
	char buf[CV_TIME_TEXT_MAX];

	CHECK_INT_EQ(cv_time_parse("2011-04-15T00:00:00Z", &t), 0);
	CHECK_INT_EQ(t, 1302825600);
	CHECK_INT_EQ(cv_time_parse("1302825600", &t), 0);
	CHECK_INT_EQ(t, 1302825600);
	CHECK_INT_EQ(cv_time_parse("@1302825600", &t), 0);
	CHECK_INT_EQ(t, 1302825600);
	CHECK_INT_EQ(cv_time_parse("2011-04-15T02:00:00+02:00", &t), 0);
	CHECK_INT_EQ(t, 1302825600);
	CHECK_INT_EQ(cv_time_parse("2011-04-15", &t), 0);
	CHECK_INT_EQ(t, 1302825600);
	CHECK_INT_EQ(cv_time_parse("2011-02-30T00:00:00Z", &t), -1);
	CHECK_INT_EQ(cv_time_parse("2011-04-15T00:00:00Zjunk", &t), -1);
	CHECK_INT_EQ(cv_time_parse("12a", &t), -1);
	CHECK_INT_EQ(cv_time_parse("", &t), -1);
	CHECK_STR_EQ(cv_time_format_iso(1302825600, buf), "2011-04-15T00:00:00Z");
	CHECK_STR_EQ(cv_time_format_ios(1133031462, buf), "18:57:42 GMT Nov 26 2005");
	CHECK_STR_EQ(cv_time_format_iso(CV_TIME_NONE, buf), "-");
}

static void
test_base64(void)
{
	const uint8_t raw[] = {0x30, 0x82, 0x01, 0xff, 0x00};
	uint8_t *back = NULL;
	size_t n = 0;
	char *text = cv_base64_encode(raw, sizeof(raw));

	CHECK_STR_EQ(text, "MIIB/wA=");
	CHECK_INT_EQ(cv_base64_decode(text, strlen(text), &back, &n), 0);
	CHECK_INT_EQ(n, sizeof(raw));
	CHECK(back != NULL && memcmp(back, raw, sizeof(raw)) == 0);
	CHECK_INT_EQ(cv_base64_decode("MII B/wA=", 9, &back, &n), -1);
	CHECK_INT_EQ(cv_base64_decode("!!!!", 4, &back, &n), -1);
	free(text);
	free(back);
}

static void
test_verdict_trace_bound(void)
{
	struct cv_verdict v;
	struct cv_failure f;

	cv_verdict_init(&v, 0);
	CHECK_INT_EQ(v.decision, CV_DECISION_REJECT);
	for (int i = 0; i < CV_TRACE_MAX + 10; i++)
		cv_verdict_trace(&v, "test", "event %d", i);
	CHECK_INT_EQ(v.n_trace, CV_TRACE_MAX);
	CHECK_INT_EQ(v.trace_dropped, 10);
	cv_failure_set(&f, CV_REASON_EXPIRED, "expired", 0, "CN=leaf", "certificate expired");
	cv_verdict_reject(&v, &f);
	CHECK_STR_EQ(cv_reason_name(v.reason), "expired");
	CHECK_INT_EQ(v.cert_index, 0);
	cv_verdict_free(&v);
}

static void
test_strings(void)
{
	char small[4];

	CHECK_INT_EQ(cv_strlcpy(small, "abcdef", sizeof(small)), 6);
	CHECK_STR_EQ(small, "abc");
	CHECK_INT_EQ(cv_strcasecmp("Subject-Name", "subject-name"), 0);
	CHECK(cv_strcasestr("CN=Central VPN", "central vpn") != NULL);
	CHECK(cv_strcasestr("CN=Central VPN", "hub") == NULL);
}

int
main(void)
{
	test_time_parse();
	test_base64();
	test_verdict_trace_bound();
	test_strings();
	return check_summary();
}
