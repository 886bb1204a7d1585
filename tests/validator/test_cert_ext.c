/*
 * test_cert_ext.c: the parsed certificate (validator/cert_ext.c): every extension the engine
 * uses is decoded once when the certificate is read, and a malformed one makes the
 * certificate unreadable with an error naming it; each refusal has an accepted counterpart.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../validator/cert.h"
#include "../support/check.h"
#include "../support/testpki.h"

static cv_time now;

/* Reads back a DER certificate after patching one byte run: what GnuTLS cannot be made to
 * write (a duplicate extension). The signature is not checked on load. */
static int
load_patched(const struct cv_cert *cert, const uint8_t *from, const uint8_t *to, size_t n,
             struct cv_error *err)
{
	size_t len;
	const uint8_t *der = cv_cert_der(cert, &len);
	uint8_t buf[4096];
	struct cv_cert *c = NULL;
	uint8_t *at;
	int ret;

	if (len > sizeof(buf))
		return -2;
	memcpy(buf, der, len);
	if ((at = memmem(buf, len, from, n)) == NULL)
		return -2;
	memcpy(at, to, n);
	ret = cv_cert_from_der(buf, len, &c, err);
	cv_cert_unref(c);
	return ret;
}

static void
expect_refused(const struct tp_spec *s, const struct tp_entity *root, const char *what)
{
	struct cv_error err;

	CHECK_INT_EQ(tp_issue_load(s, root, &err), -1);
	if (strstr(err.msg, what) == NULL)
		CHECK_STR_EQ(err.msg, what);
}

static void
test_decoded_fields(const struct tp_entity *root)
{
	struct tp_entity leaf;
	struct tp_spec s;
	const struct cv_cert_san *san;
	const struct cv_cert_aia *aia;
	const struct cv_cert_dps *cdp;
	char uri[128];

	tp_spec_leaf(&s, "CN=fields,O=certval", now);
	s.dns[0] = "a.example";
	s.ip[0] = "192.0.2.7";
	s.email[0] = "x@example.org";
	s.eku[0] = "1.3.6.1.5.5.7.3.1";
	s.eku[1] = "1.3.6.1.5.5.7.3.2";
	s.policies[0] = "1.2.3.4";
	s.crl_url[0] = "http://crl.example/a.crl";
	s.ocsp_url = "http://ocsp.example/";
	s.key_usage = GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT;
	CHECK_INT_EQ(tp_issue(&leaf, &s, root), 0);

	CHECK_INT_EQ(cv_cert_version(leaf.cert), 3);
	CHECK(cv_cert_basic_constraints(leaf.cert)->present);
	CHECK(!cv_cert_basic_constraints(leaf.cert)->ca);
	CHECK_INT_EQ(cv_cert_basic_constraints(leaf.cert)->path_len, -1);
	CHECK(cv_cert_basic_constraints(root->cert)->ca);
	CHECK_INT_EQ(cv_cert_key_usage(leaf.cert)->bits,
	             CV_KU_DIGITAL_SIGNATURE | CV_KU_KEY_ENCIPHERMENT);
	CHECK(cv_cert_key_usage(leaf.cert)->critical);
	CHECK_INT_EQ(cv_cert_ext_key_usage(leaf.cert)->n, 2);
	CHECK_STR_EQ(cv_cert_ext_key_usage(leaf.cert)->oid[1], "1.3.6.1.5.5.7.3.2");
	CHECK_INT_EQ(cv_cert_policies(leaf.cert)->n, 1);
	CHECK_STR_EQ(cv_cert_policies(leaf.cert)->oid[0], "1.2.3.4");
	san = cv_cert_san(leaf.cert);
	CHECK(san->present && san->raw != NULL);
	CHECK_INT_EQ(san->n, 3);
	CHECK_INT_EQ(san->v[0].type, CV_GN_DNS);
	CHECK(san->v[0].len == 9 && memcmp(san->v[0].val, "a.example", 9) == 0);
	CHECK_INT_EQ(san->v[1].type, CV_GN_RFC822);
	CHECK_INT_EQ(san->v[2].type, CV_GN_IP);
	CHECK_INT_EQ(san->v[2].len, 4);
	aia = cv_cert_aia(leaf.cert);
	CHECK_INT_EQ(aia->n_ocsp, 1);
	CHECK_INT_EQ(cv_cert_uri_copy(&aia->ocsp[0], uri, sizeof(uri)), 0);
	CHECK_STR_EQ(uri, "http://ocsp.example/");
	CHECK_INT_EQ(cv_cert_uri_copy(&aia->ocsp[0], uri, 5), -1);
	cdp = cv_cert_crl_dps(leaf.cert);
	CHECK_INT_EQ(cdp->n, 1);
	CHECK_INT_EQ(cdp->v[0].dp.kind, CV_DP_FULL_NAME);
	CHECK(!cv_cert_freshest_crl(leaf.cert)->present);
	CHECK(cv_cert_ski(leaf.cert)->present);
	CHECK(cv_cert_aki(leaf.cert)->key_id != NULL);
	CHECK(cv_cert_aki(leaf.cert)->key_id_len == cv_cert_ski(root->cert)->key_id_len &&
	      memcmp(cv_cert_aki(leaf.cert)->key_id, cv_cert_ski(root->cert)->key_id,
	             cv_cert_aki(leaf.cert)->key_id_len) == 0);
	CHECK(!cv_cert_name_constraints(leaf.cert)->present);
	CHECK(cv_cert_ext_count(leaf.cert) >= 8);
	CHECK(cv_cert_ext_at(leaf.cert, cv_cert_ext_count(leaf.cert)) == NULL);
	CHECK_INT_EQ(cv_cert_public_key(leaf.cert)->kind, CV_KEY_EC);
	tp_entity_free(&leaf);
}

static void
test_duplicate_extension(const struct tp_entity *root)
{
	static const uint8_t ian_oid[] = {0x06, 0x03, 0x55, 0x1d, 0x12}; /* issuerAltName */
	static const uint8_t san_oid[] = {0x06, 0x03, 0x55, 0x1d, 0x11}; /* subjectAltName */
	static const uint8_t ian_value[] = {0x30, 0x03, 0x82, 0x01, 0x62};
	struct tp_entity leaf;
	struct tp_spec s;
	struct cv_error err;

	tp_spec_leaf(&s, "CN=dup,O=certval", now);
	s.dns[0] = "a.example";
	s.ext_oid = "2.5.29.18";
	s.ext_value = ian_value;
	s.ext_value_len = sizeof(ian_value);
	CHECK_INT_EQ(tp_issue(&leaf, &s, root), 0); /* two different extensions: fine */
	CHECK_INT_EQ(load_patched(leaf.cert, ian_oid, ian_oid, sizeof(ian_oid), &err), 0);
	CHECK_INT_EQ(load_patched(leaf.cert, ian_oid, san_oid, sizeof(san_oid), &err), -1);
	CHECK(strstr(err.msg, "2.5.29.17 appears twice") != NULL);
	tp_entity_free(&leaf);
}

/* Validity: the times as written; a month 13 or a day 32 is refused, not normalised into a
 * later date as GnuTLS's reader does (found by fuzz_diff). */
static void
test_validity(const struct tp_entity *root)
{
	static const char good[] = "260102030405Z", month13[] = "261302030405Z",
	                  day32[] = "260132030405Z", no_zulu[] = "2601020304050";
	cv_time t;
	struct tp_entity leaf;
	struct tp_spec s;
	struct cv_error err;

	CHECK_INT_EQ(cv_time_from_utc(2026, 1, 2, 3, 4, 5, &t), 0);
	tp_spec_leaf(&s, "CN=validity,O=certval", now);
	s.not_before = t;
	CHECK_INT_EQ(tp_issue(&leaf, &s, root), 0);
	CHECK(cv_cert_not_before(leaf.cert) == t);
	CHECK_INT_EQ(
	    load_patched(leaf.cert, (const uint8_t *)good, (const uint8_t *)good, 13, &err), 0);
	CHECK_INT_EQ(
	    load_patched(leaf.cert, (const uint8_t *)good, (const uint8_t *)month13, 13, &err), -1);
	CHECK(strstr(err.msg, "malformed validity") != NULL);
	CHECK_INT_EQ(
	    load_patched(leaf.cert, (const uint8_t *)good, (const uint8_t *)day32, 13, &err), -1);
	CHECK_INT_EQ(
	    load_patched(leaf.cert, (const uint8_t *)good, (const uint8_t *)no_zulu, 13, &err), -1);
	tp_entity_free(&leaf);
}

/* One known extension with a good value and a near miss. */
static void
pair(const struct tp_entity *root, const char *oid, const uint8_t *good, size_t good_len,
     const uint8_t *bad, size_t bad_len, const char *what)
{
	struct tp_spec s;
	struct cv_error err;

	tp_spec_leaf(&s, "CN=pair,O=certval", now);
	s.basic_constraints = false;
	s.key_usage = 0;
	s.ext_oid = oid;
	s.ext_value = good;
	s.ext_value_len = good_len;
	CHECK_INT_EQ(tp_issue_load(&s, root, &err), 0);
	s.ext_value = bad;
	s.ext_value_len = bad_len;
	expect_refused(&s, root, what);
}

static void
test_malformed_values(const struct tp_entity *root)
{
	/* extKeyUsage: one KeyPurposeId; an empty SEQUENCE is refused (SIZE (1..MAX)) */
	static const uint8_t eku_ok[] = {0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06,
	                                 0x01, 0x05, 0x05, 0x07, 0x03, 0x01};
	static const uint8_t eku_empty[] = {0x30, 0x00};
	/* basicConstraints: trailing bytes after the SEQUENCE */
	static const uint8_t bc_ok[] = {0x30, 0x03, 0x01, 0x01, 0xff};
	static const uint8_t bc_trailing[] = {0x30, 0x03, 0x01, 0x01, 0xff, 0x00};
	/* basicConstraints: pathLenConstraint 0 with cA TRUE; -1; 0 without cA (4.2.1.9) */
	static const uint8_t bc_len0[] = {0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x00};
	static const uint8_t bc_negative[] = {0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0xff};
	static const uint8_t bc_len_no_ca[] = {0x30, 0x03, 0x02, 0x01, 0x00};
	/* authorityInfoAccess: id-ad-ocsp with a URI; a location that is no GeneralName */
	static const uint8_t aia_ok[] = {0x30, 0x10, 0x30, 0x0e, 0x06, 0x08, 0x2b, 0x06, 0x01,
	                                 0x05, 0x05, 0x07, 0x30, 0x01, 0x86, 0x02, 0x68, 0x3a};
	static const uint8_t aia_bad[] = {0x30, 0x10, 0x30, 0x0e, 0x06, 0x08, 0x2b, 0x06, 0x01,
	                                  0x05, 0x05, 0x07, 0x30, 0x01, 0x16, 0x02, 0x68, 0x3a};
	/* cRLDistributionPoints: fullName URI; a DistributionPoint naming nothing */
	static const uint8_t cdp_ok[] = {0x30, 0x08, 0x30, 0x06, 0xa0,
	                                 0x04, 0xa0, 0x02, 0x86, 0x00};
	static const uint8_t cdp_empty_point[] = {0x30, 0x02, 0x30, 0x00};
	/* subjectAltName: an iPAddress of 4 octets; one of 5 octets */
	static const uint8_t san_ok[] = {0x30, 0x06, 0x87, 0x04, 0xc0, 0x00, 0x02, 0x01};
	static const uint8_t san_bad_ip[] = {0x30, 0x07, 0x87, 0x05, 0xc0, 0x00, 0x02, 0x01, 0x00};
	/* keyUsage: unused bits that are not zero */
	static const uint8_t ku_ok[] = {0x03, 0x02, 0x07, 0x80};
	static const uint8_t ku_bad[] = {0x03, 0x02, 0x07, 0x81};
	/* keyUsage with no bit set (RFC 5280 4.2.1.3), minimal and padded */
	static const uint8_t ku_none[] = {0x03, 0x01, 0x00};
	static const uint8_t ku_zero[] = {0x03, 0x02, 0x02, 0x00};

	pair(root, "2.5.29.37", eku_ok, sizeof(eku_ok), eku_empty, sizeof(eku_empty),
	     "extKeyUsage (2.5.29.37): malformed value");
	pair(root, "2.5.29.19", bc_ok, sizeof(bc_ok), bc_trailing, sizeof(bc_trailing),
	     "basicConstraints (2.5.29.19): malformed value");
	pair(root, "2.5.29.19", bc_len0, sizeof(bc_len0), bc_negative, sizeof(bc_negative),
	     "basicConstraints (2.5.29.19): malformed value");
	pair(root, "2.5.29.19", bc_len0, sizeof(bc_len0), bc_len_no_ca, sizeof(bc_len_no_ca),
	     "basicConstraints (2.5.29.19): malformed value");
	pair(root, "1.3.6.1.5.5.7.1.1", aia_ok, sizeof(aia_ok), aia_bad, sizeof(aia_bad),
	     "authorityInfoAccess (1.3.6.1.5.5.7.1.1): malformed value");
	pair(root, "2.5.29.31", cdp_ok, sizeof(cdp_ok), cdp_empty_point, sizeof(cdp_empty_point),
	     "cRLDistributionPoints (2.5.29.31): malformed value");
	pair(root, "2.5.29.17", san_ok, sizeof(san_ok), san_bad_ip, sizeof(san_bad_ip),
	     "subjectAltName (2.5.29.17): malformed value");
	pair(root, "2.5.29.15", ku_ok, sizeof(ku_ok), ku_bad, sizeof(ku_bad),
	     "keyUsage (2.5.29.15): malformed value");
	pair(root, "2.5.29.15", ku_ok, sizeof(ku_ok), ku_none, sizeof(ku_none),
	     "keyUsage (2.5.29.15): malformed value");
	pair(root, "2.5.29.15", ku_ok, sizeof(ku_ok), ku_zero, sizeof(ku_zero),
	     "keyUsage (2.5.29.15): malformed value");
}

int
main(void)
{
	struct tp_entity root;
	struct tp_spec s;

	now = (cv_time)time(NULL);
	tp_spec_ca(&s, "CN=Ext Root,O=certval", now);
	CHECK_INT_EQ(tp_issue(&root, &s, NULL), 0);
	test_decoded_fields(&root);
	test_duplicate_extension(&root);
	test_validity(&root);
	test_malformed_values(&root);
	tp_entity_free(&root);
	return check_summary();
}
