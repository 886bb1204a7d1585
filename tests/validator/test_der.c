/*
 * test_der.c: unit tests of the project's DER reader (validator/der.h: strict lengths, tags and
 * values) and of RFC 5280 7.1 name comparison (validator/name.h).
 */
#include <stdio.h>
#include <string.h>

#include "../../validator/der.h"
#include "../../validator/general_names.h"
#include "../../validator/name.h"
#include "../support/check.h"

static int
read_one(const uint8_t *p, size_t len, struct cv_asn1_elem *e)
{
	struct cv_asn1 d;

	cv_asn1_init(&d, p, len);
	if (cv_asn1_next(&d, e) < 0)
		return -1;
	return cv_asn1_finish(&d);
}

static void
test_der_lengths(void)
{
	struct cv_asn1_elem e;
	static const uint8_t ok[] = {0x04, 0x02, 0xaa, 0xbb};
	static const uint8_t long_short[] = {0x04, 0x81, 0x02, 0xaa, 0xbb};
	static const uint8_t beyond[] = {0x04, 0x05, 0xaa, 0xbb};
	static const uint8_t indefinite[] = {0x30, 0x80, 0x05, 0x00, 0x00, 0x00};
	static const uint8_t trailing[] = {0x04, 0x01, 0xaa, 0x00};
	static const uint8_t zero_lead[] = {0x04, 0x82, 0x00, 0x81};
	static const uint8_t high_tag[] = {0x1f, 0x81, 0x01, 0x00};
	static const uint8_t five_octets[] = {0x04, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00};
	static const uint8_t child_beyond[] = {0x30, 0x03, 0x04, 0x05, 0xaa};
	uint8_t big[300];
	struct cv_asn1 d, in;

	CHECK(read_one(ok, sizeof(ok), &e) == 0 && e.len == 2 && e.raw_len == 4);
	CHECK(read_one(long_short, sizeof(long_short), &e) < 0);
	CHECK(read_one(beyond, sizeof(beyond), &e) < 0);
	CHECK(read_one(indefinite, sizeof(indefinite), &e) < 0);
	CHECK(read_one(trailing, sizeof(trailing), &e) < 0);
	CHECK(read_one(zero_lead, sizeof(zero_lead), &e) < 0);
	CHECK(read_one(high_tag, sizeof(high_tag), &e) < 0);
	CHECK(read_one(five_octets, sizeof(five_octets), &e) < 0);
	cv_asn1_init(&d, child_beyond, sizeof(child_beyond));
	CHECK(cv_asn1_enter(&d, CV_ASN1_SEQUENCE, &in) == 0);
	CHECK(cv_asn1_next(&in, &e) < 0); /* the child claims more than its parent holds */
	memset(big, 0, sizeof(big));
	big[0] = 0x04;
	big[1] = 0x82;
	big[2] = 0x01;
	big[3] = 0x00;
	CHECK(read_one(big, 4 + 256, &e) == 0 && e.len == 256);
	big[1] = 0x81; /* 0x81 0x01: long form for a value < 128 */
	CHECK(read_one(big, 3 + 1, &e) < 0);
	CHECK(read_one(big, 0, &e) < 0);
	CHECK(read_one(big, 1, &e) < 0);
}

static int
time_of(uint8_t tag, const char *text, cv_time *t)
{
	struct cv_asn1_elem e = {tag, (const uint8_t *)text, strlen(text), NULL, 0};

	return cv_asn1_time(&e, t);
}

static void
test_der_values(void)
{
	cv_time t;
	struct cv_asn1_elem e;
	const uint8_t *s;
	size_t n;
	bool b;
	int32_t v;
	char oid[64];
	static const uint8_t sha256rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};
	static const uint8_t s1[] = {0x00, 0x80}, s2[] = {0x00, 0x00, 0x01}, s3[] = {0xff, 0x80};
	static const uint8_t t_true[] = {0xff}, t_bad[] = {0x01};
	static const uint8_t oid_lead80[] = {0x2a, 0x80, 0x01}; /* an arc with a 0x80 lead octet */

	CHECK(time_of(CV_ASN1_UTC_TIME, "500101000000Z", &t) == 0 && t == -631152000);
	CHECK(time_of(CV_ASN1_UTC_TIME, "491231235959Z", &t) == 0 && t == 2524607999);
	CHECK(time_of(CV_ASN1_GENERALIZED_TIME, "20500101000000Z", &t) == 0 && t == 2524608000);
	CHECK(time_of(CV_ASN1_UTC_TIME, "5001010000Z", &t) < 0);               /* no seconds */
	CHECK(time_of(CV_ASN1_UTC_TIME, "500101000000+0100", &t) < 0);         /* not Zulu */
	CHECK(time_of(CV_ASN1_GENERALIZED_TIME, "20500101000000.5Z", &t) < 0); /* fraction */
	CHECK(time_of(CV_ASN1_UTC_TIME, "500231000000Z", &t) < 0);             /* 31 February */
	CHECK(time_of(CV_ASN1_UTC_TIME, "50010100000aZ", &t) < 0);
	CHECK(time_of(CV_ASN1_OCTET_STRING, "500101000000Z", &t) < 0);

	e = (struct cv_asn1_elem){CV_ASN1_INTEGER, s1, sizeof(s1), NULL, 0};
	CHECK(cv_asn1_serial(&e, &s, &n) == 0 && n == 2);
	e.val = s2;
	e.len = sizeof(s2);
	CHECK(cv_asn1_serial(&e, &s, &n) == 0 && n == 1 && s[0] == 1);
	e.val = s3;
	e.len = sizeof(s3);
	CHECK(cv_asn1_serial(&e, &s, &n) == 0 && n == 1 && s[0] == 0x80);
	e.len = 0;
	CHECK(cv_asn1_serial(&e, &s, &n) < 0);

	e = (struct cv_asn1_elem){CV_ASN1_BOOLEAN, t_true, 1, NULL, 0};
	CHECK(cv_asn1_bool(&e, &b) == 0 && b);
	e.val = t_bad;
	CHECK(cv_asn1_bool(&e, &b) < 0); /* BER TRUE, not DER */
	e = (struct cv_asn1_elem){CV_ASN1_ENUMERATED, t_bad, 1, NULL, 0};
	CHECK(cv_asn1_small_int(&e, &v) == 0 && v == 1);
	e.tag = CV_ASN1_CTX(0); /* requireExplicitPolicy [0] SkipCerts */
	CHECK(cv_asn1_small_int(&e, &v) == 0 && v == 1);
	e.tag = CV_ASN1_CTX_CONS(0);
	CHECK(cv_asn1_small_int(&e, &v) < 0);
	e.tag = CV_ASN1_OCTET_STRING;
	CHECK(cv_asn1_small_int(&e, &v) < 0);
	e = (struct cv_asn1_elem){CV_ASN1_INTEGER, s3, sizeof(s3), NULL, 0};
	CHECK(cv_asn1_small_int(&e, &v) < 0); /* negative */
	e = (struct cv_asn1_elem){CV_ASN1_INTEGER, s2, sizeof(s2), NULL, 0};
	CHECK(cv_asn1_small_int(&e, &v) < 0); /* not minimal */
	e.val = s1;
	e.len = sizeof(s1);
	CHECK(cv_asn1_small_int(&e, &v) == 0 && v == 0x80);
	CHECK(cv_asn1_oid_text(oid_lead80, sizeof(oid_lead80), oid, sizeof(oid)) < 0);
	CHECK(cv_asn1_oid_text(sha256rsa, sizeof(sha256rsa), oid, sizeof(oid)) == 0);
	CHECK_STR_EQ(oid, "1.2.840.113549.1.1.11");
	CHECK(cv_asn1_oid_text(sha256rsa, 5, oid, sizeof(oid)) < 0); /* ends inside an arc */
	/* each first arc, a zero arc, the largest arc, and the text exactly filling its buffer */
	{
		static const uint8_t joint[] = {0x88, 0x37, 0x00}; /* 2.999.0 */
		static const uint8_t itu[] = {0x00};               /* 0.0 */
		static const uint8_t iso[] = {0x27};               /* 0.39 */
		static const uint8_t big[] = {0x2a, 0x81, 0xff, 0xff, 0xff, 0xff,
		                              0xff, 0xff, 0xff, 0xff, 0x7f}; /* 1.2.2^64-1 */
		static const uint8_t over[] = {0x2a, 0x82, 0x80, 0x80, 0x80, 0x80,
		                               0x80, 0x80, 0x80, 0x80, 0x00}; /* 1.2.2^65 */
		char small[8];

		CHECK(cv_asn1_oid_text(joint, sizeof(joint), oid, sizeof(oid)) == 0);
		CHECK_STR_EQ(oid, "2.999.0");
		CHECK(cv_asn1_oid_text(itu, sizeof(itu), oid, sizeof(oid)) == 0);
		CHECK_STR_EQ(oid, "0.0");
		CHECK(cv_asn1_oid_text(iso, sizeof(iso), oid, sizeof(oid)) == 0);
		CHECK_STR_EQ(oid, "0.39");
		CHECK(cv_asn1_oid_text(big, sizeof(big), oid, sizeof(oid)) == 0);
		CHECK_STR_EQ(oid, "1.2.18446744073709551615");
		CHECK(cv_asn1_oid_text(over, sizeof(over), oid, sizeof(oid)) < 0);
		CHECK(cv_asn1_oid_text(joint, sizeof(joint), small, sizeof(small)) == 0);
		CHECK_STR_EQ(small, "2.999.0"); /* 7 characters and the NUL */
		CHECK(cv_asn1_oid_text(joint, sizeof(joint), small, 7) < 0);
		CHECK(cv_asn1_oid_text(joint, sizeof(joint), small, 4) <
		      0); /* "2.99" does not fit */
	}
}

/* --- names --- */

struct der {
	uint8_t p[512];
	size_t n;
};

static void
put_tlv(struct der *d, uint8_t tag, const void *val, size_t len)
{
	if (len > 127 || d->n + 2 + len > sizeof(d->p)) {
		CHECK(!"test encoding too long");
		return;
	}
	d->p[d->n++] = tag;
	d->p[d->n++] = (uint8_t)len;
	memcpy(d->p + d->n, val, len);
	d->n += len;
}

/*
 * One attribute "TYPE=value" (CN, O, OU, C, or E for emailAddress as IA5String); a value
 * starting with '~' is a UTF8String, with '#' a BMPString of the bytes after it, else a
 * PrintableString.
 */
static void
put_atav(struct der *rdn, const char *s, size_t len)
{
	static const struct {
		const char *key;
		uint8_t oid[9];
		size_t oid_len;
	} types[] = {
	    {"CN", {0x55, 0x04, 0x03}, 3},
	    {"O", {0x55, 0x04, 0x0a}, 3},
	    {"OU", {0x55, 0x04, 0x0b}, 3},
	    {"C", {0x55, 0x04, 0x06}, 3},
	    {"E", {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01}, 9},
	};
	const char *eq = memchr(s, '=', len), *v;
	struct der a = {{0}, 0};
	uint8_t tag = CV_ASN1_PRINTABLE_STRING;
	size_t i;

	if (eq == NULL) {
		CHECK(!"attribute without '='");
		return;
	}
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].key) == (size_t)(eq - s) &&
		    memcmp(types[i].key, s, (size_t)(eq - s)) == 0)
			break;
	if (i == sizeof(types) / sizeof(types[0])) {
		CHECK(!"unknown attribute type");
		return;
	}
	v = eq + 1;
	if (i == 4)
		tag = CV_ASN1_IA5_STRING;
	if (v < s + len && (*v == '~' || *v == '#')) {
		tag = *v == '~' ? CV_ASN1_UTF8_STRING : CV_ASN1_BMP_STRING;
		v++;
	}
	put_tlv(&a, CV_ASN1_OID, types[i].oid, types[i].oid_len);
	put_tlv(&a, tag, v, (size_t)(s + len - v));
	put_tlv(rdn, CV_ASN1_SEQUENCE, a.p, a.n);
}

/* A Name from "CN=Test CA/O=x+OU=y": '/' separates RDNs, '+' the attributes of one RDN. */
static struct der
make_name(const char *spec)
{
	struct der rdns = {{0}, 0}, rdn, name = {{0}, 0};
	const char *p = spec, *q;
	size_t rl, al;

	while (*p != '\0') {
		rl = strcspn(p, "/");
		rdn.n = 0;
		for (q = p; q < p + rl; q += al + (q[al] == '+')) {
			al = strcspn(q, "+/");
			put_atav(&rdn, q, al);
		}
		put_tlv(&rdns, CV_ASN1_SET, rdn.p, rdn.n);
		p += rl + (p[rl] == '/');
	}
	put_tlv(&name, CV_ASN1_SEQUENCE, rdns.p, rdns.n);
	return name;
}

/*
 * Name equality of two specs, checked to be symmetric, and the comparison by keys to agree:
 * equal Names have the same key, and cv_name_equal_keyed decides as cv_name_equal does.
 */
static bool
name_eq(const char *a, const char *b)
{
	struct der x = make_name(a), y = make_name(b);
	bool r = cv_name_equal(x.p, x.n, y.p, y.n);
	uint64_t kx = 0, ky = 0;

	CHECK(r == cv_name_equal(y.p, y.n, x.p, x.n));
	CHECK(cv_name_key(x.p, x.n, &kx) == 0 && cv_name_key(y.p, y.n, &ky) == 0);
	CHECK(!r || kx == ky);
	CHECK(cv_name_equal_keyed(x.p, x.n, kx, y.p, y.n, ky) == r);
	CHECK(cv_name_equal_keyed(y.p, y.n, ky, x.p, x.n, kx) == r);
	return r;
}

/* Different Names whose comparison keys differ (a near miss of the equal ones above). */
static bool
keys_differ(const char *a, const char *b)
{
	struct der x = make_name(a), y = make_name(b);
	uint64_t kx = 0, ky = 0;

	CHECK(cv_name_key(x.p, x.n, &kx) == 0 && cv_name_key(y.p, y.n, &ky) == 0);
	return kx != ky;
}

static bool
name_in(const char *name, const char *base)
{
	struct der x = make_name(name), y = make_name(base);

	return cv_name_within(x.p, x.n, y.p, y.n);
}

static void
test_name_equal(void)
{
	/* PKITS 4.3.3-4.3.5, 4.3.9-4.3.11: whitespace, case, PrintableString and UTF8String mixed
	 */
	CHECK(
	    name_eq("C=US/O=Test Certificates/CN=Test CA", "C=US/O=Test Certificates/CN=Test CA"));
	CHECK(name_eq("CN=Test CA", "CN=~  test   ca "));
	CHECK(name_eq("CN=Test CA", "CN=TEST\tCA\r\n"));
	CHECK(name_eq("CN=a\x0b\x0c b", "CN=~A B"));
	CHECK(!name_eq("CN=Test CA", "CN=TestCA"));
	CHECK(!name_eq("CN=Test CA", "O=Test CA"));
	CHECK(!name_eq("CN=Test CA", "CN=Test CB"));
	CHECK(!name_eq("CN=Test", "CN=Test CA"));
	/* UTF-8 outside ASCII compares as bytes, no folding */
	CHECK(name_eq("CN=~\xc3\xa9t\xc3\xa9", "CN=~\xc3\xa9T\xc3\xa9"));
	CHECK(!name_eq("CN=~\xc3\xa9t\xc3\xa9", "CN=~\xc3\x89t\xc3\xa9"));
	/* other string types compare as encodings */
	CHECK(name_eq("CN=#\001a", "CN=#\001a"));
	CHECK(!name_eq("CN=#\001a", "CN=#\001A"));
	CHECK(!name_eq("CN=#\001a", "CN=a"));
	/* RDN order matters, attribute order inside one RDN does not */
	CHECK(!name_eq("C=US/CN=x", "CN=x/C=US"));
	CHECK(name_eq("C=US/CN=x+OU=y", "C=US/OU=Y+CN=x"));
	CHECK(!name_eq("CN=x+OU=y", "CN=x"));
	CHECK(!name_eq("CN=x+CN=x", "CN=x+OU=y"));
	CHECK(!name_eq("C=US/CN=x", "C=US+CN=x"));
	CHECK(name_eq("", ""));
	CHECK(!name_eq("", "CN=x"));
	/* an RDN is its number of attributes and their set: repetitions match either way */
	CHECK(name_eq("CN=x+CN=x+OU=y", "OU=y+CN=x+OU=y"));
	CHECK(!name_eq("CN=x+CN=x+OU=y", "OU=y+CN=x"));
	CHECK(!name_eq("CN=x+CN=x+OU=y", "OU=y+CN=x+OU=z"));
	/* the keys tell different Names apart without reading them (issue 13) */
	CHECK(keys_differ("O=certval/CN=certval bench sub", "O=certval/CN=certval bench root"));
	CHECK(keys_differ("CN=Test CA", "CN=Test CB"));
	CHECK(keys_differ("CN=Test CA", "O=Test CA"));
	CHECK(keys_differ("C=US/CN=x", "CN=x/C=US"));
	CHECK(keys_differ("C=US/CN=x", "C=US+CN=x"));
	CHECK(keys_differ("CN=#\001a", "CN=a"));
	CHECK(keys_differ("CN=x+OU=y", "CN=x"));
}

static void
test_name_malformed(void)
{
	struct der a = make_name("C=US/CN=Test CA");
	/* a non-minimal length (0x81 0x07) in an otherwise equal name */
	static const uint8_t long_len[] = {0x30, 0x11, 0x31, 0x0f, 0x30, 0x0d, 0x06, 0x03,
	                                   0x55, 0x04, 0x03, 0x13, 0x81, 0x02, 'C',  'A'};
	static const uint8_t ok[] = {0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03,
	                             0x55, 0x04, 0x03, 0x13, 0x02, 'C',  'A'};
	static const uint8_t empty_rdn[] = {0x30, 0x02, 0x31, 0x00};
	static const uint8_t three[] = {0x30, 0x0b, 0x31, 0x09, 0x30, 0x07, 0x06,
	                                0x03, 0x55, 0x04, 0x03, 0x05, 0x00};
	static const uint8_t extra[] = {0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55,
	                                0x04, 0x03, 0x13, 0x02, 'C',  'A',  0x05, 0x00};
	static const uint8_t dir_tags[] = {CV_ASN1_T61_STRING, CV_ASN1_PRINTABLE_STRING,
	                                   CV_ASN1_UNIVERSAL_STRING, CV_ASN1_UTF8_STRING,
	                                   CV_ASN1_BMP_STRING};
	uint8_t trailing[sizeof(ok) + 2];

	CHECK_INT_EQ(cv_name_rdn_count(a.p, a.n), 2);
	CHECK_INT_EQ(cv_name_rdn_count(ok, sizeof(ok)), 1);
	{ /* the key checks the Name as the count does; a malformed one has no key */
		uint64_t k;

		CHECK(cv_name_key(ok, sizeof(ok), &k) == 0);
		CHECK(cv_name_key(long_len, sizeof(long_len), &k) < 0);
		CHECK(cv_name_key(empty_rdn, sizeof(empty_rdn), &k) < 0);
		CHECK(cv_name_key(three, sizeof(three), &k) < 0);
		CHECK(cv_name_key(extra, sizeof(extra), &k) < 0);
	}
	CHECK_INT_EQ(cv_name_rdn_count((const uint8_t *)"\x30\x00", 2), 0);
	CHECK(cv_name_equal(ok, sizeof(ok), ok, sizeof(ok)));
	CHECK(cv_name_equal(a.p, a.n, a.p, a.n)); /* the same bytes: one pass, two RDNs */
	CHECK(cv_name_rdn_count(long_len, sizeof(long_len)) < 0);
	CHECK(!cv_name_equal(long_len, sizeof(long_len), long_len, sizeof(long_len)));
	CHECK(!cv_name_equal(long_len, sizeof(long_len), ok, sizeof(ok)));
	CHECK(cv_name_rdn_count(empty_rdn, sizeof(empty_rdn)) < 0);
	CHECK(!cv_name_equal(empty_rdn, sizeof(empty_rdn), empty_rdn, sizeof(empty_rdn)));
	CHECK(cv_name_rdn_count(three, sizeof(three)) < 0); /* a NULL value: no string */
	/* an empty DirectoryString (SIZE (1..MAX)) is refused in every form; IA5String may be */
	for (size_t i = 0; i < sizeof(dir_tags); i++) {
		uint8_t empty[sizeof(three)];

		memcpy(empty, three, sizeof(three));
		empty[sizeof(three) - 2] = dir_tags[i];
		CHECK(cv_name_rdn_count(empty, sizeof(empty)) < 0);
		empty[sizeof(three) - 2] = CV_ASN1_IA5_STRING;
		CHECK_INT_EQ(cv_name_rdn_count(empty, sizeof(empty)), 1);
	}
	CHECK(cv_name_rdn_count(extra, sizeof(extra)) < 0); /* three elements in an attribute */
	memcpy(trailing, ok, sizeof(ok));
	trailing[sizeof(ok)] = 0x05;
	trailing[sizeof(ok) + 1] = 0x00;
	CHECK(cv_name_rdn_count(trailing, sizeof(trailing)) < 0);
	CHECK(!cv_name_equal(trailing, sizeof(trailing), ok, sizeof(ok)));
	CHECK(!cv_name_equal(a.p, a.n - 1, a.p, a.n));
	CHECK(!cv_name_within(long_len, sizeof(long_len), (const uint8_t *)"\x30\x00", 2));
}

/* An attribute value is a string or a SEQUENCE; every other form is refused (fuzz_diff). */
static void
test_name_value_forms(void)
{
	static const uint8_t good[] = {0x0c, 0x12, 0x13, 0x14, 0x16, 0x1c, 0x1e};
	static const uint8_t bad[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0a, 0x15, 0x17,
	                              0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x33, 0x43, 0x83, 0xc3};
	/* a value of four octets: text in every encoding (UCS-4 U+0043, UCS-2 U+0000 U+0043) */
	uint8_t name[] = {0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55,
	                  0x04, 0x03, 0x13, 0x04, 0x00, 0x00, 0x00, 'C'};
	uint8_t seq[] = {0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55,
	                 0x04, 0x03, 0x30, 0x04, 0x0c, 0x02, 'C',  'A'};

	for (size_t i = 0; i < sizeof(good); i++) {
		name[11] = good[i];
		CHECK_INT_EQ(cv_name_rdn_count(name, sizeof(name)), 1);
	}
	for (size_t i = 0; i < sizeof(bad); i++) {
		name[11] = bad[i];
		CHECK(cv_name_rdn_count(name, sizeof(name)) < 0);
	}
	CHECK_INT_EQ(cv_name_rdn_count(seq, sizeof(seq)), 1);
	seq[11] = 0x31; /* a SET value */
	CHECK(cv_name_rdn_count(seq, sizeof(seq)) < 0);
}

/* A string value's text is what its tag says: UTF-8, UCS-2, UCS-4 (fuzz_diff). */
static void
test_name_value_text(void)
{
	static const struct {
		uint8_t tag, text[4];
		bool ok;
	} cases[] = {
	    {0x0c, {'a', 0xc3, 0xa9, 'b'}, true},    /* UTF-8 e-acute */
	    {0x0c, {'a', 0xc3, 0x28, 'b'}, false},   /* a cut sequence */
	    {0x0c, {0xed, 0xa0, 0x80, 'b'}, false},  /* a surrogate in UTF-8 */
	    {0x0c, {0xc0, 0xaf, 'a', 'b'}, false},   /* overlong */
	    {0x1e, {0x00, 'a', 0x4e, 0x2d}, true},   /* UCS-2 */
	    {0x1e, {0xd8, 0x00, 0x00, 'a'}, false},  /* a surrogate code unit */
	    {0x1c, {0x00, 0x01, 0xf6, 0x00}, true},  /* UCS-4 U+1F600 */
	    {0x1c, {0x00, 0x11, 0x00, 0x00}, false}, /* beyond U+10FFFF */
	};
	uint8_t name[] = {0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55,
	                  0x04, 0x03, 0x13, 0x04, 0x00, 0x00, 0x00, 0x00};
	/* UCS-2 of an odd length: three octets */
	static const uint8_t odd[] = {0x30, 0x0e, 0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03,
	                              0x55, 0x04, 0x03, 0x1e, 0x03, 0x00, 'a',  0x00};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		name[11] = cases[i].tag;
		memcpy(name + 13, cases[i].text, 4);
		CHECK_INT_EQ(cv_name_rdn_count(name, sizeof(name)), cases[i].ok ? 1 : -1);
	}
	CHECK(cv_name_rdn_count(odd, sizeof(odd)) < 0);
}

static void
test_name_within(void)
{
	CHECK(name_in("C=US/O=Test/CN=x", "C=US/O=Test"));
	CHECK(name_in("C=US/O=Test/CN=x", "C=~us/O=~ TEST"));
	CHECK(name_in("C=US/O=Test/CN=x", "C=US/O=Test/CN=x"));
	CHECK(name_in("C=US/O=Test/CN=x", ""));
	CHECK(!name_in("C=US/O=Test/CN=x", "C=US/O=Other"));
	CHECK(!name_in("C=US/O=Test", "C=US/O=Test/CN=x"));
	CHECK(!name_in("O=Test/C=US/CN=x", "C=US/O=Test"));
}

static void
count_email(const struct cv_asn1_elem *value, void *arg)
{
	char *seen = arg;
	size_t n = strlen(seen);

	if (n + value->len + 2 < 64) {
		memcpy(seen + n, value->val, value->len);
		memcpy(seen + n + value->len, ";", 2);
	}
}

static void
test_name_email_and_general(void)
{
	struct der n = make_name("C=US/CN=x+E=a@example.com/E=b@example.org");
	struct der m = make_name("C=us/CN=X+E=a@example.com/E=b@example.org");
	struct der gn = {{0}, 0}, gm = {{0}, 0}, names = {{0}, 0};
	struct cv_asn1 d;
	struct cv_asn1_elem ea, eb, uri, uri_case;
	char seen[64] = "";

	CHECK(cv_name_foreach_email(n.p, n.n, count_email, seen) == 0);
	CHECK_STR_EQ(seen, "a@example.com;b@example.org;");
	CHECK(cv_name_foreach_email(n.p, n.n - 1, count_email, seen) < 0);

	put_tlv(&gn, CV_ASN1_CTX_CONS(4), n.p, n.n);
	put_tlv(&gm, CV_ASN1_CTX_CONS(4), m.p, m.n);
	cv_asn1_init(&d, gn.p, gn.n);
	CHECK(cv_asn1_next(&d, &ea) == 0);
	cv_asn1_init(&d, gm.p, gm.n);
	CHECK(cv_asn1_next(&d, &eb) == 0);
	CHECK(cv_name_general_equal(&ea, &eb));

	put_tlv(&names, CV_ASN1_CTX(6), "http://x.example/a.crl", 22);
	put_tlv(&names, CV_ASN1_CTX(6), "http://X.example/a.crl", 22);
	cv_asn1_init(&d, names.p, names.n);
	CHECK(cv_asn1_next(&d, &uri) == 0 && cv_asn1_next(&d, &uri_case) == 0);
	CHECK(cv_name_general_equal(&uri, &uri));
	CHECK(!cv_name_general_equal(&uri, &uri_case)); /* URIs compare as octets */
	CHECK(!cv_name_general_equal(&uri, &ea));
	CHECK(!cv_name_in_general_names(names.p, names.n, m.p, m.n));
	put_tlv(&names, CV_ASN1_CTX_CONS(4), n.p, n.n);
	CHECK(cv_name_in_general_names(names.p, names.n, m.p, m.n));
	CHECK(!cv_name_in_general_names(names.p, names.n - 1, m.p, m.n));
}

static void
append_uri(const char *uri, size_t len, void *arg)
{
	char *seen = arg;
	size_t n = strlen(seen);

	if (n + len + 2 < 128) {
		memcpy(seen + n, uri, len);
		memcpy(seen + n + len, ";", 2);
	}
}

/* The displays' helpers: RFC 4514 text of a Name, the URIs of a GeneralNames. */
static void
test_name_text_and_uris(void)
{
	struct der n = make_name("C=US/O=Example/CN=Test CA");
	struct der names = {{0}, 0};
	char text[64], small[8], seen[128] = "";

	CHECK(cv_name_text(n.p, n.n, text, sizeof(text)) == 0);
	CHECK_STR_EQ(text, "CN=Test CA,O=Example,C=US");
	CHECK(cv_name_text(n.p, n.n, small, sizeof(small)) < 0); /* does not fit: no truncation */
	CHECK_STR_EQ(small, "");
	CHECK(cv_name_text(n.p, n.n - 1, text, sizeof(text)) < 0); /* malformed */
	CHECK_STR_EQ(text, "");

	put_tlv(&names, CV_ASN1_CTX(6), "http://a.example/1.crl", 22);
	put_tlv(&names, CV_ASN1_CTX_CONS(4), n.p, n.n); /* a directoryName is not a URI */
	put_tlv(&names, CV_ASN1_CTX(6), "ldap://b.example/", 17);
	cv_name_foreach_uri(names.p, names.n, append_uri, seen);
	CHECK_STR_EQ(seen, "http://a.example/1.crl;ldap://b.example/;");
	seen[0] = '\0';
	cv_name_foreach_uri(names.p, names.n - 1, append_uri, seen); /* stops at the bad element */
	CHECK_STR_EQ(seen, "http://a.example/1.crl;");
}

/* GeneralNames (general_names.c): each form read to its end, with a near miss each. */
static void
test_general_names(void)
{
	static const struct {
		const char *what;
		const char *der;
		size_t len;
		int ok;
	} cases[] = {
#define GN(w, d, ok) {w, d, sizeof(d) - 1, ok}
	    GN("registeredID", "\x88\x03\x2a\x03\x04", 0),
	    GN("registeredID, last octet continues", "\x88\x03\x2a\x03\x84", -1),
	    GN("registeredID, padded arc", "\x88\x03\x2a\x80\x04", -1),
	    GN("otherName", "\xa0\x0a\x06\x03\x2a\x03\x04\xa0\x03\x0c\x01x", 0),
	    GN("otherName without value", "\xa0\x05\x06\x03\x2a\x03\x04", -1),
	    GN("otherName, two values", "\xa0\x0d\x06\x03\x2a\x03\x04\xa0\x06\x0c\x01x\x0c\x01y",
	       -1),
	    GN("ediPartyName",
	       "\xa5\x07\xa1\x05\x0c\x03"
	       "abc",
	       0),
	    GN("ediPartyName with assigner",
	       "\xa5\x0c\xa0\x03\x13\x01z\xa1\x05\x0c\x03"
	       "abc",
	       0),
	    GN("ediPartyName, OCTET STRING party",
	       "\xa5\x07\xa1\x05\x04\x03"
	       "abc",
	       -1),
	    GN("ediPartyName without party", "\xa5\x05\xa0\x03\x13\x01z", -1),
	    GN("directoryName", "\xa4\x0e\x30\x0c\x31\x0a\x30\x08\x06\x03\x55\x04\x03\x0c\x01x", 0),
	    GN("directoryName, OCTET STRING value",
	       "\xa4\x0e\x30\x0c\x31\x0a\x30\x08\x06\x03\x55\x04\x03\x04\x01x", -1),
	    GN("x400Address", "\xa3\x03\x13\x01x", 0),
	    GN("x400Address, cut element", "\xa3\x03\x13\x05x", -1),
	    GN("x400Address, empty", "\xa3\x00", -1),
#undef GN
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const int got = cv_general_names_check((const uint8_t *)cases[i].der, cases[i].len);

		if (got != cases[i].ok)
			printf("general name: %s\n", cases[i].what);
		CHECK_INT_EQ(got, cases[i].ok);
	}
}

int
main(void)
{
	test_der_lengths();
	test_der_values();
	test_general_names();
	test_name_equal();
	test_name_malformed();
	test_name_value_forms();
	test_name_value_text();
	test_name_within();
	test_name_email_and_general();
	test_name_text_and_uris();
	return check_summary();
}
