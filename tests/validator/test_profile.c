/*
 * test_profile.c: the certificate-profile rules and the key policy (validator/profile.c)
 * through cv_path_build: for each rule a certificate that must be accepted and a near miss
 * that must be refused with the rule's detail, in the profile(s) the rule belongs to.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../validator/path.h"
#include "../support/check.h"
#include "../support/testpki.h"

static cv_time now;
static struct tp_entity root; /* P-256 root shared by the cases */

#define OID_SERVER "1.3.6.1.5.5.7.3.1"

/* A byte run to replace in the leaf's TBSCertificate (then signed again), for what GnuTLS
 * will not make. */
struct patch {
	const unsigned char *from, *to;
	size_t n;
};

/* Builds root -> [ca] -> leaf and validates; 0 accept, -1 refuse (*f), -2 not issued. */
static int
run_patched(const struct tp_spec *ca_spec, const struct tp_spec *leaf_spec,
            const struct tp_spec *root_spec, const struct patch *patch, struct cv_path_params *p,
            struct cv_failure *f)
{
	struct tp_entity r, ca, leaf;
	const struct tp_entity *anchor = &root, *issuer = &root;
	struct cv_path path;
	int ret = -2;

	memset(&ca, 0, sizeof(ca));
	memset(&r, 0, sizeof(r));
	if (root_spec != NULL) {
		if (tp_issue(&r, root_spec, NULL) < 0)
			return -2;
		anchor = issuer = &r;
	}
	if (ca_spec != NULL) {
		if (tp_issue(&ca, ca_spec, anchor) < 0)
			goto out;
		issuer = &ca;
	}
	if (tp_issue(&leaf, leaf_spec, issuer) < 0)
		goto out;
	if (patch != NULL && tp_patch(&leaf, issuer, patch->from, patch->to, patch->n, NULL) < 0) {
		tp_entity_free(&leaf);
		goto out;
	}
	p->anchors = &anchor->cert;
	p->n_anchors = 1;
	p->untrusted = ca_spec != NULL ? &ca.cert : NULL;
	p->n_untrusted = ca_spec != NULL ? 1 : 0;
	p->at = now;
	ret = cv_path_build(leaf.cert, p, &path, f, NULL);
	if (ret == 0)
		cv_path_release(&path);
	tp_entity_free(&leaf);
out:
	tp_entity_free(&ca);
	tp_entity_free(&r);
	return ret;
}

static int
run_case(const struct tp_spec *ca_spec, const struct tp_spec *leaf_spec,
         const struct tp_spec *root_spec, struct cv_path_params *p, struct cv_failure *f)
{
	return run_patched(ca_spec, leaf_spec, root_spec, NULL, p, f);
}

static void
leaf_spec(struct tp_spec *s)
{
	tp_spec_leaf(s, "CN=profile.example,O=certval", now);
	s->dns[0] = "profile.example";
	s->eku[0] = OID_SERVER;
}

static void
params(struct cv_path_params *p, enum cv_profile profile)
{
	cv_path_params_init(p);
	p->profile = profile;
	p->purpose = CV_PURPOSE_TLS_SERVER;
}

/* The leaf built from s is accepted in profile `ok_in` and refused with detail in `bad_in`. */
static void
expect_leaf(const struct tp_spec *s, const struct patch *patch, int want, enum cv_profile profile,
            const char *detail, int line)
{
	struct cv_path_params p;
	struct cv_failure f;
	int got;

	memset(&f, 0, sizeof(f));
	params(&p, profile);
	got = run_patched(NULL, s, NULL, patch, &p, &f);
	if (got != want || (want < 0 && strcmp(f.detail, detail) != 0)) {
		printf("line %d: got %d (%s: %s), want %d (%s)\n", line, got, f.detail, f.message,
		       want, detail ? detail : "");
		CHECK(false);
	} else {
		CHECK(true);
	}
}

#define ACCEPT(s, profile)         expect_leaf(s, NULL, 0, profile, NULL, __LINE__)
#define REFUSE(s, profile, detail) expect_leaf(s, NULL, -1, profile, detail, __LINE__)

static void
test_serial(void)
{
	static const unsigned char one[] = {0x01};
	static const unsigned char serial_one[] = {0x02, 0x01, 0x01};
	static const unsigned char serial_zero[] = {0x02, 0x01, 0x00};
	const struct patch to_zero = {serial_one, serial_one, sizeof(serial_one)};
	const struct patch to_zero_real = {serial_one, serial_zero, sizeof(serial_one)};
	static const unsigned char negative[] = {0x80, 0x01};
	static const unsigned char twenty[20] = {0x7f, 1,  2,  3,  4,  5,  6,  7,  8,  9,
	                                         10,   11, 12, 13, 14, 15, 16, 17, 18, 19};
	static const unsigned char twenty_top[21] = {0x00, 0xff, 1,  2,  3,  4,  5,  6,  7,  8, 9,
	                                             10,   11,   12, 13, 14, 15, 16, 17, 18, 19};
	static const unsigned char twentyone[21] = {0x01, 1,  2,  3,  4,  5,  6,  7,  8,  9, 10,
	                                            11,   12, 13, 14, 15, 16, 17, 18, 19, 20};
	struct tp_spec s;

	leaf_spec(&s);
	s.serial_der = twenty; /* 20 octets: the longest conforming serial */
	s.serial_der_len = sizeof(twenty);
	ACCEPT(&s, CV_PROFILE_RFC5280);
	ACCEPT(&s, CV_PROFILE_WEBPKI);
	s.serial_der = twenty_top; /* 20 value octets with the top bit set: 21 encoded */
	s.serial_der_len = sizeof(twenty_top);
	ACCEPT(&s, CV_PROFILE_RFC5280);
	s.serial_der = twentyone;
	s.serial_der_len = sizeof(twentyone);
	REFUSE(&s, CV_PROFILE_RFC5280, "profile-serial");
	REFUSE(&s, CV_PROFILE_WEBPKI, "profile-serial");
	/* zero: GnuTLS will not write it, so serial 1 is patched to 0 */
	s.serial_der = one;
	s.serial_der_len = sizeof(one);
	expect_leaf(&s, &to_zero, 0, CV_PROFILE_RFC5280, NULL, __LINE__); /* 1: fine */
	expect_leaf(&s, &to_zero_real, -1, CV_PROFILE_RFC5280, "profile-serial", __LINE__);
	/* negative: tolerated by RFC 5280 (PKITS 4.4.14), refused by the BR */
	s.serial_der = negative;
	s.serial_der_len = sizeof(negative);
	ACCEPT(&s, CV_PROFILE_RFC5280);
	REFUSE(&s, CV_PROFILE_WEBPKI, "profile-serial");
}

static void
test_key_identifiers(void)
{
	struct tp_spec s, ca;
	struct cv_path_params p;
	struct cv_failure f;

	leaf_spec(&s);
	s.no_aki = true;
	REFUSE(&s, CV_PROFILE_RFC5280, "profile-aki");
	s.no_aki = false;
	ACCEPT(&s, CV_PROFILE_RFC5280);
	/* a CA without SKI (its leaf then has no AKI keyIdentifier either: that is the CA's
	 * fault, reported on the CA first) */
	tp_spec_ca(&ca, "CN=No SKI CA,O=certval", now);
	ca.no_ski = true;
	params(&p, CV_PROFILE_RFC5280);
	CHECK_INT_EQ(run_case(&ca, &s, NULL, &p, &f), -1);
	CHECK_STR_EQ(f.detail, "profile-ski");
	CHECK_INT_EQ(f.cert_index, 1);
	ca.no_ski = false;
	params(&p, CV_PROFILE_RFC5280);
	CHECK_INT_EQ(run_case(&ca, &s, NULL, &p, &f), 0);
	/* a self-signed anchor without SKI is fine: the anchor is a name and a key */
	tp_spec_ca(&ca, "CN=No SKI Root,O=certval", now);
	ca.no_ski = true;
	params(&p, CV_PROFILE_RFC5280);
	CHECK_INT_EQ(run_case(NULL, &s, &ca, &p, &f), -1);
	CHECK_STR_EQ(f.detail, "profile-aki"); /* the leaf has nothing to point at */
}

static void
test_ca_bits(void)
{
	struct tp_spec s;

	leaf_spec(&s);
	s.key_usage = GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_CERT_SIGN;
	REFUSE(&s, CV_PROFILE_RFC5280, "profile-key-cert-sign");
	s.key_usage = GNUTLS_KEY_DIGITAL_SIGNATURE;
	ACCEPT(&s, CV_PROFILE_RFC5280);
	/* a CA certificate as the TLS server's certificate */
	leaf_spec(&s);
	s.ca = true;
	REFUSE(&s, CV_PROFILE_RFC5280, "profile-leaf-ca");
	REFUSE(&s, CV_PROFILE_WEBPKI, "profile-leaf-ca");
	{
		struct cv_path_params p;
		struct cv_failure f;

		params(&p, CV_PROFILE_RFC5280);
		p.purpose = CV_PURPOSE_IKE; /* not a TLS purpose: the rule does not apply */
		CHECK_INT_EQ(run_case(NULL, &s, NULL, &p, &f), 0);
	}
}

static void
test_extensions(void)
{
	/* id-ad-ocsp http://o */
	static const unsigned char aia[] = {0x30, 0x16, 0x30, 0x14, 0x06, 0x08, 0x2b, 0x06,
	                                    0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x86, 0x08,
	                                    'h',  't',  't',  'p',  ':',  '/',  '/',  'o'};
	static const unsigned char pc[] = {0x30, 0x03, 0x80, 0x01, 0x05};
	static const unsigned char version3[] = {0xa0, 0x03, 0x02, 0x01, 0x02};
	static const unsigned char version2[] = {0xa0, 0x03, 0x02, 0x01, 0x01};
	const struct patch v3 = {version3, version3, sizeof(version3)};
	const struct patch v2 = {version3, version2, sizeof(version3)};
	static const unsigned char san_dns[] = {0x30, 0x11, 0x82, 0x0f, 'p', 'r', 'o',
	                                        'f',  'i',  'l',  'e',  '.', 'e', 'x',
	                                        'a',  'm',  'p',  'l',  'e'};
	struct tp_spec s;

	leaf_spec(&s);
	s.ext_oid = "1.3.6.1.5.5.7.1.1";
	s.ext_value = aia;
	s.ext_value_len = sizeof(aia);
	ACCEPT(&s, CV_PROFILE_RFC5280);
	s.ext_critical = true;
	REFUSE(&s, CV_PROFILE_RFC5280, "profile-aia");
	/* policyConstraints non-critical: refused under webpki only (PKITS has them) */
	leaf_spec(&s);
	s.ext_oid = "2.5.29.36";
	s.ext_value = pc;
	s.ext_value_len = sizeof(pc);
	ACCEPT(&s, CV_PROFILE_RFC5280);
	REFUSE(&s, CV_PROFILE_WEBPKI, "profile-policy-constraints");
	s.ext_critical = true;
	ACCEPT(&s, CV_PROFILE_WEBPKI);
	/* a version 2 certificate with extensions (GnuTLS will not sign one: patched) cannot be
	 * read at all (RFC 5280 4.1.2.9, cert_ext.c) */
	leaf_spec(&s);
	expect_leaf(&s, &v3, 0, CV_PROFILE_RFC5280, NULL, __LINE__);
	{
		struct tp_entity leaf;
		struct cv_error err;

		CHECK_INT_EQ(tp_issue(&leaf, &s, &root), 0);
		CHECK_INT_EQ(tp_patch(&leaf, &root, v2.from, v2.to, v2.n, &err), -1);
		CHECK_STR_EQ(err.msg, "certificate: version 2 with extensions (RFC 5280 4.1.2.9)");
		tp_entity_free(&leaf);
	}
	/* subjectAltName and the subject */
	leaf_spec(&s);
	s.dns[0] = NULL;
	s.subject = "";
	s.ext_oid = "2.5.29.17";
	s.ext_value = san_dns;
	s.ext_value_len = sizeof(san_dns);
	REFUSE(&s, CV_PROFILE_RFC5280, "profile-san"); /* empty subject, SAN not critical */
	s.ext_critical = true;
	ACCEPT(&s, CV_PROFILE_RFC5280);
	ACCEPT(&s, CV_PROFILE_WEBPKI);
	s.subject = "CN=profile.example,O=certval"; /* critical SAN beside a subject */
	ACCEPT(&s, CV_PROFILE_RFC5280);
	REFUSE(&s, CV_PROFILE_WEBPKI, "profile-san");
	s.ext_critical = false;
	ACCEPT(&s, CV_PROFILE_WEBPKI);
}

/* Key policy: the leaf's key kind, refused by default and accepted with its allow value. */
static void
key_case(enum tp_key_type kind, uint32_t allow, bool on_root)
{
	struct tp_spec s, r;
	struct cv_path_params p;
	struct cv_failure f;

	leaf_spec(&s);
	tp_spec_ca(&r, "CN=Key Root,O=certval", now);
	if (on_root)
		r.key_type = kind;
	else
		s.key_type = kind;
	params(&p, CV_PROFILE_RFC5280);
	if (run_case(NULL, &s, &r, &p, &f) != -1 || strcmp(f.detail, "weak-algorithm") != 0) {
		printf("key %d on %s: %s (%s)\n", (int)kind, on_root ? "root" : "leaf", f.detail,
		       f.message);
		CHECK(false);
	}
	params(&p, CV_PROFILE_RFC5280);
	p.allowed_weak = allow;
	CHECK_INT_EQ(run_case(NULL, &s, &r, &p, &f), 0);
}

static void
test_keys(void)
{
	struct tp_spec s;
	struct cv_path_params p;
	struct cv_failure f;

	key_case(TP_KEY_RSA1024, CV_WEAK_RSA_1024, false);
	key_case(TP_KEY_RSA1024, CV_WEAK_RSA_1024, true);
	key_case(TP_KEY_RSA2052, CV_WEAK_RSA_ODD, false);
	key_case(TP_KEY_DSA2048, CV_WEAK_DSA, false);
	key_case(TP_KEY_P192, CV_WEAK_P192, false);
	/* near misses that are fine: RSA 2048 and 2056, P-384 */
	leaf_spec(&s);
	s.key_type = TP_KEY_RSA2048;
	ACCEPT(&s, CV_PROFILE_RFC5280);
	s.key_type = TP_KEY_RSA2056;
	ACCEPT(&s, CV_PROFILE_RFC5280);
	s.key_type = TP_KEY_P384;
	ACCEPT(&s, CV_PROFILE_RFC5280);
	/* the allowed weakness is reported as used */
	s.key_type = TP_KEY_RSA1024;
	{
		struct tp_entity leaf;
		struct cv_path path;

		CHECK_INT_EQ(tp_issue(&leaf, &s, &root), 0);
		params(&p, CV_PROFILE_RFC5280);
		p.allowed_weak = CV_WEAK_RSA_1024 | CV_WEAK_SHA1;
		p.anchors = &root.cert;
		p.n_anchors = 1;
		p.at = now;
		CHECK_INT_EQ(cv_path_build(leaf.cert, &p, &path, &f, NULL), 0);
		CHECK_INT_EQ(path.weak_used, CV_WEAK_RSA_1024);
		cv_path_release(&path);
		tp_entity_free(&leaf);
	}
	/* the peer's certificate is itself the anchor: its key is still held to the policy */
	{
		struct tp_entity self;
		struct cv_path path;

		tp_spec_ca(&s, "CN=Weak Anchor,O=certval", now);
		s.key_type = TP_KEY_RSA1024;
		CHECK_INT_EQ(tp_issue(&self, &s, NULL), 0);
		params(&p, CV_PROFILE_RFC5280);
		p.purpose = CV_PURPOSE_ANY;
		p.anchors = &self.cert;
		p.n_anchors = 1;
		p.at = now;
		CHECK_INT_EQ(cv_path_build(self.cert, &p, &path, &f, NULL), -1);
		CHECK_STR_EQ(f.detail, "weak-algorithm");
		p.allowed_weak = CV_WEAK_RSA_1024;
		CHECK_INT_EQ(cv_path_build(self.cert, &p, &path, &f, NULL), 0);
		CHECK_INT_EQ(path.weak_used, CV_WEAK_RSA_1024);
		cv_path_release(&path);
		tp_entity_free(&self);
	}
	CHECK_INT_EQ(cv_weak_alg_from_name("p192"), CV_WEAK_P192);
	CHECK_INT_EQ(cv_weak_alg_from_name("rsa-odd-size"), CV_WEAK_RSA_ODD);
}

int
main(void)
{
	struct tp_spec s;

	now = (cv_time)time(NULL);
	tp_spec_ca(&s, "CN=Profile Root,O=certval", now);
	CHECK_INT_EQ(tp_issue(&root, &s, NULL), 0);
	test_serial();
	test_key_identifiers();
	test_ca_bits();
	test_extensions();
	test_keys();
	tp_entity_free(&root);
	return check_summary();
}
