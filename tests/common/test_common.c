/* test_common.c: unit tests of common/: time parsing and formats, base64, verdict trace. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

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
	/* a text is base64 alone: GnuTLS decoded what came before a '-' */
	CHECK_INT_EQ(cv_base64_decode("MIIB/wA=-junk", 13, &back, &n), -1);
	CHECK_INT_EQ(cv_base64_decode("MIIB/wA=\n", 9, &back, &n), -1);
	CHECK_INT_EQ(cv_base64_decode("", 0, &back, &n), -1);
	free(text);
	free(back);
}

/* A small deterministic generator (xorshift64*) for the differential test. */
static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/*
 * cv_base64_decode (nettle's decoder, called directly) decides as gnutls_base64_decode2, which
 * it replaced, on texts of base64's characters: valid encodings of random bytes, then the same
 * with one character changed (to another base64 character or '='), cut short, or lengthened;
 * and random strings of those characters. Both accept the same texts with the same bytes.
 */
static void
test_base64_as_gnutls(void)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	size_t agree = 0, accepted = 0;

	for (int round = 0; round < 40000; round++) {
		uint8_t raw[48], *ours = NULL;
		char text[80];
		size_t raw_len = next_rand(&seed) % sizeof(raw) + 1, len, n = 0;
		char *enc;
		gnutls_datum_t in, theirs = {NULL, 0};
		int rc_ours, rc_theirs;

		for (size_t i = 0; i < raw_len; i++)
			raw[i] = (uint8_t)next_rand(&seed);
		enc = cv_base64_encode(raw, raw_len);
		CHECK(enc != NULL);
		if (enc == NULL)
			return;
		len = strlen(enc);
		memcpy(text, enc, len);
		free(enc);
		switch (round % 5) {
		case 1: /* one character changed */
			text[next_rand(&seed) % len] = alphabet[next_rand(&seed) % 65];
			break;
		case 2: /* cut short */
			len -= next_rand(&seed) % len;
			break;
		case 3: /* lengthened */
			for (size_t k = next_rand(&seed) % 4 + 1; k > 0 && len < sizeof(text); k--)
				text[len++] = alphabet[next_rand(&seed) % 65];
			break;
		case 4: /* any string of those characters */
			len = next_rand(&seed) % 12 + 1;
			for (size_t i = 0; i < len; i++)
				text[i] = alphabet[next_rand(&seed) % 65];
			break;
		default: /* as encoded */
			break;
		}
		in.data = (unsigned char *)text;
		in.size = (unsigned)len;
		rc_ours = cv_base64_decode(text, len, &ours, &n);
		rc_theirs = gnutls_base64_decode2(&in, &theirs) < 0 ? -1 : 0;
		if (rc_ours == rc_theirs &&
		    (rc_ours < 0 || (n == theirs.size && memcmp(ours, theirs.data, n) == 0)))
			agree++;
		else
			fprintf(stderr, "base64 differs on \"%.*s\": ours %d, GnuTLS %d\n",
			        (int)len, text, rc_ours, rc_theirs);
		accepted += rc_ours == 0;
		if (rc_ours == 0)
			free(ours);
		gnutls_free(theirs.data);
	}
	CHECK_INT_EQ(agree, 40000);
	CHECK(accepted > 8000 && accepted < 40000); /* both kinds were tried */
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
	test_base64_as_gnutls();
	test_verdict_trace_bound();
	test_strings();
	return check_summary();
}
