/*
 * test_cert_ext.c: the parsed certificate (validator/cert_ext.c): every extension the engine
 * uses is decoded once when the certificate is read, and a malformed one makes the
 * certificate unreadable with an error naming it; each refusal has an accepted counterpart.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>

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

/* The same with the nth occurrence of from replaced (0: the first). */
static int
load_patched_nth(const struct cv_cert *cert, const uint8_t *from, const uint8_t *to, size_t n,
                 int nth, struct cv_cert **out, struct cv_error *err)
{
	size_t len;
	const uint8_t *der = cv_cert_der(cert, &len);
	uint8_t buf[4096];
	uint8_t *at = buf;

	*out = NULL;
	if (len > sizeof(buf))
		return -2;
	memcpy(buf, der, len);
	for (int i = 0; i <= nth; i++, at++)
		if ((at = memmem(at, len - (size_t)(at - buf), from, n)) == NULL)
			return -2;
	memcpy(at - 1, to, n);
	return cv_cert_from_der(buf, len, out, err);
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

/*
 * The OIDs' text is kept with the certificate (cert_ext.c, in blocks of 448 bytes): more text
 * than one block holds reads back whole in every member, which stay valid as blocks are added;
 * an OID whose text does not fit CV_OID_TEXT_MAX makes the certificate unreadable.
 */
static void
test_oid_texts(const struct tp_entity *root)
{
	static const char *const eku[] = {
	    "1.3.6.1.4.1.55555.1.101.102.103.104.105.106.107.108.109.110.1",
	    "1.3.6.1.4.1.55555.1.201.202.203.204.205.206.207.208.209.210.2",
	    "1.3.6.1.4.1.55555.1.301.302.303.304.305.306.307.308.309.310.3", "1.3.6.1.5.5.7.3.1"};
	static const char *const pol[] = {
	    "1.3.6.1.4.1.55555.2.101.102.103.104.105.106.107.108.109.110.1",
	    "1.3.6.1.4.1.55555.2.201.202.203.204.205.206.207.208.209.210.2",
	    "1.3.6.1.4.1.55555.2.301.302.303.304.305.306.307.308.309.310.3",
	    "1.3.6.1.4.1.55555.2.401.402.403.404.405.406.407.408.409.410.4"};
	/* 63 characters fit with the NUL; 64 do not */
	static const char fits[] =
	    "1.3.6.1.4.1.55555.3.1001.1002.1003.1004.1005.1006.1007.1008.109";
	static const char too_long[] =
	    "1.3.6.1.4.1.55555.3.1001.1002.1003.1004.1005.1006.1007.1008.1009";
	const struct cv_cert_ext *x;
	struct tp_entity leaf;
	struct cv_error err;
	struct tp_spec s;
	size_t text = 0;
	bool eku_seen = false;

	CHECK_INT_EQ((int)strlen(fits), CV_OID_TEXT_MAX - 1);
	CHECK_INT_EQ((int)strlen(too_long), CV_OID_TEXT_MAX);
	tp_spec_leaf(&s, "CN=oid texts,O=certval", now);
	for (size_t i = 0; i < 4; i++) {
		s.eku[i] = eku[i];
		s.policies[i] = pol[i];
		text += strlen(eku[i]) + strlen(pol[i]) + 2;
	}
	CHECK(text > 448);
	CHECK_INT_EQ(tp_issue(&leaf, &s, root), 0);
	CHECK_INT_EQ(cv_cert_ext_key_usage(leaf.cert)->n, 4);
	CHECK_INT_EQ(cv_cert_policies(leaf.cert)->n, 4);
	for (size_t i = 0; i < 4; i++) {
		CHECK_STR_EQ(cv_cert_ext_key_usage(leaf.cert)->oid[i], eku[i]);
		CHECK_STR_EQ(cv_cert_policies(leaf.cert)->oid[i], pol[i]);
	}
	for (size_t i = 0; (x = cv_cert_ext_at(leaf.cert, i)) != NULL; i++) {
		CHECK(x->oid != NULL && strlen(x->oid) > 4 && strncmp(x->oid, "2.5.29.", 7) == 0);
		eku_seen |= strcmp(x->oid, "2.5.29.37") == 0 && x->known;
	}
	CHECK(eku_seen);
	tp_entity_free(&leaf);

	s.policies[0] = fits;
	CHECK_INT_EQ(tp_issue_load(&s, root, &err), 0);
	s.policies[0] = too_long;
	CHECK_INT_EQ(tp_issue_load(&s, root, &err), -1);
	CHECK(strstr(err.msg, "certificatePolicies") != NULL);
	s.policies[0] = pol[0];
	s.eku[3] = too_long;
	CHECK_INT_EQ(tp_issue_load(&s, root, &err), -1);
	CHECK(strstr(err.msg, "extKeyUsage") != NULL);
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

/*
 * signatureAlgorithm must be the TBS's signature field (RFC 5280 4.1.1.2): what was signed
 * names the algorithm that is checked. Changing either alone is refused; both together load,
 * and the certificate then names the new algorithm.
 */
static void
test_signature_algorithm(const struct tp_entity *root)
{
	/* AlgorithmIdentifier ecdsa-with-SHA256 and ecdsa-with-SHA384 */
	static const uint8_t sha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
	                                 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
	static const uint8_t sha384[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
	                                 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
	struct tp_entity leaf;
	struct tp_spec s;
	struct cv_error err;
	struct cv_cert *c = NULL, *both = NULL;
	size_t len;
	uint8_t buf[4096];
	const uint8_t *der;
	uint8_t *at;

	tp_spec_leaf(&s, "CN=sigalg,O=certval", now);
	CHECK_INT_EQ(tp_issue(&leaf, &s, root), 0);
	CHECK_INT_EQ(cv_cert_signature_algorithm(leaf.cert), GNUTLS_SIGN_ECDSA_SHA256);
	for (int nth = 0; nth < 2; nth++) {
		CHECK_INT_EQ(
		    load_patched_nth(leaf.cert, sha256, sha384, sizeof(sha256), nth, &c, &err), -1);
		CHECK(strstr(err.msg, "4.1.1.2") != NULL);
	}
	/* both occurrences: a consistent certificate (whose signature no longer verifies) */
	der = cv_cert_der(leaf.cert, &len);
	CHECK(len <= sizeof(buf));
	memcpy(buf, der, len);
	for (at = buf; (at = memmem(at, len - (size_t)(at - buf), sha256, sizeof(sha256))) != NULL;
	     at += sizeof(sha256))
		memcpy(at, sha384, sizeof(sha384));
	CHECK_INT_EQ(cv_cert_from_der(buf, len, &both, &err), 0);
	if (both != NULL)
		CHECK_INT_EQ(cv_cert_signature_algorithm(both), GNUTLS_SIGN_ECDSA_SHA384);
	cv_cert_unref(both);
	/* the signatureValue, right after the second AlgorithmIdentifier, must be a BIT STRING */
	memcpy(buf, der, len);
	at = memmem(buf, len, sha256, sizeof(sha256));
	CHECK(at != NULL);
	if (at != NULL)
		at = memmem(at + 1, len - (size_t)(at + 1 - buf), sha256, sizeof(sha256));
	CHECK(at != NULL && at[sizeof(sha256)] == 0x03);
	if (at != NULL) {
		at[sizeof(sha256)] = 0x04;
		CHECK_INT_EQ(cv_cert_from_der(buf, len, &c, &err), -1);
		CHECK(strstr(err.msg, "signatureValue") != NULL);
	}
	tp_entity_free(&leaf);
}

/* issuerUniqueID and subjectUniqueID only in version 2 or 3 (RFC 5280 4.1.2.8). */
static void
test_unique_ids(const struct tp_entity *root)
{
	struct tp_spec s;
	struct cv_error err;

	static const uint8_t v2[] = {0xa0, 0x03, 0x02, 0x01, 0x01},
	                     v1[] = {0xa0, 0x03, 0x02, 0x01, 0x00};
	struct tp_entity leaf;

	tp_spec_leaf(&s, "CN=uid,O=certval", now);
	s.unique_ids = true;
	CHECK_INT_EQ(tp_issue_load(&s, root, &err), 0); /* version 3 with extensions */
	s.basic_constraints = false;
	s.key_usage = 0;
	s.no_ski = true;
	s.no_aki = true;
	s.version = 2;
	CHECK_INT_EQ(tp_issue_load(&s, root, &err), 0);
	/* GnuTLS will not write them into a version 1 certificate: the version is patched */
	CHECK_INT_EQ(tp_issue(&leaf, &s, root), 0);
	CHECK_INT_EQ(load_patched(leaf.cert, v2, v1, sizeof(v2), &err), -1);
	CHECK(strstr(err.msg, "malformed TBSCertificate") != NULL);
	tp_entity_free(&leaf);
	s.unique_ids = false;
	CHECK_INT_EQ(tp_issue(&leaf, &s, root), 0);
	CHECK_INT_EQ(load_patched(leaf.cert, v2, v1, sizeof(v2), &err), 0); /* without them */
	tp_entity_free(&leaf);
}

/*
 * The alternative names: every form read to its end; the string and address forms must not be
 * empty (GnuTLS refused those too). An ediPartyName is read; issuerAltName has the same rules,
 * though nothing else reads it.
 */
static void
test_alt_names(const struct tp_entity *root)
{
	/* ediPartyName { partyName [1] UTF8String "abc" } */
	static const uint8_t edi[] = {0x30, 0x09, 0xa5, 0x07, 0xa1, 0x05,
	                              0x0c, 0x03, 0x61, 0x62, 0x63};
	static const uint8_t dns_ok[] = {0x30, 0x03, 0x82, 0x01, 0x62};
	static const uint8_t dns_empty[] = {0x30, 0x02, 0x82, 0x00};
	static const uint8_t uri_empty[] = {0x30, 0x02, 0x86, 0x00};
	static const uint8_t email_empty[] = {0x30, 0x02, 0x81, 0x00};
	static const uint8_t ip_empty[] = {0x30, 0x02, 0x87, 0x00};
	static const uint8_t edi_bad[] = {0x30, 0x09, 0xa5, 0x07, 0xa1, 0x05,
	                                  0x0c, 0x04, 0x61, 0x62, 0x63};

	pair(root, "2.5.29.17", edi, sizeof(edi), uri_empty, sizeof(uri_empty),
	     "subjectAltName (2.5.29.17): malformed value");
	pair(root, "2.5.29.17", dns_ok, sizeof(dns_ok), email_empty, sizeof(email_empty),
	     "subjectAltName (2.5.29.17): malformed value");
	pair(root, "2.5.29.17", dns_ok, sizeof(dns_ok), ip_empty, sizeof(ip_empty),
	     "subjectAltName (2.5.29.17): malformed value");
	pair(root, "2.5.29.18", dns_ok, sizeof(dns_ok), dns_empty, sizeof(dns_empty),
	     "issuerAltName (2.5.29.18): malformed value");
	pair(root, "2.5.29.18", edi, sizeof(edi), edi_bad, sizeof(edi_bad),
	     "issuerAltName (2.5.29.18): malformed value");
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
	test_oid_texts(&root);
	test_duplicate_extension(&root);
	test_validity(&root);
	test_malformed_values(&root);
	test_signature_algorithm(&root);
	test_unique_ids(&root);
	test_alt_names(&root);
	tp_entity_free(&root);
	return check_summary();
}
