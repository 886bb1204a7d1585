/* test_path.c: path building and RFC 5280 validation on certificates made by testpki. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../validator/path.h"
#include "../support/check.h"
#include "../support/testpki.h"

#define DAY (24 * 3600)

static cv_time now;

/* The usual PKI: Root -> Sub -> leaf (peer.example, serverAuth+clientAuth). */
struct pki {
	struct tp_entity root, sub, leaf;
};

static void
pki_make(struct pki *p)
{
	struct tp_spec s;

	tp_spec_ca(&s, "CN=Test Root,O=certval,C=US", now);
	CHECK(tp_issue(&p->root, &s, NULL) == 0);
	tp_spec_ca(&s, "CN=Test Sub,O=certval,C=US", now);
	CHECK(tp_issue(&p->sub, &s, &p->root) == 0);
	tp_spec_leaf(&s, "CN=peer.example,O=certval,C=US", now);
	s.dns[0] = "peer.example";
	s.eku[0] = "1.3.6.1.5.5.7.3.1";
	s.eku[1] = "1.3.6.1.5.5.7.3.2";
	CHECK(tp_issue(&p->leaf, &s, &p->sub) == 0);
}

static void
pki_free(struct pki *p)
{
	tp_entity_free(&p->leaf);
	tp_entity_free(&p->sub);
	tp_entity_free(&p->root);
}

/* Runs a build; returns 0 accept, -1 reject with *f set. */
static int
run(const struct cv_cert *leaf, struct cv_cert *const *anchors, size_t na,
    struct cv_cert *const *untrusted, size_t nu, struct cv_path_params *p, struct cv_failure *f,
    size_t *path_len)
{
	struct cv_path path;
	int r;

	p->anchors = anchors;
	p->n_anchors = na;
	p->untrusted = untrusted;
	p->n_untrusted = nu;
	if (p->at == CV_TIME_NONE)
		p->at = now;
	r = cv_path_build(leaf, p, &path, f, NULL);
	if (path_len != NULL)
		*path_len = r == 0 ? path.n : 0;
	if (r == 0)
		cv_path_release(&path);
	return r;
}

#define EXPECT_FAIL(f, want_reason, want_detail, want_idx)                                         \
	do {                                                                                       \
		CHECK_STR_EQ(cv_reason_name((f).reason), cv_reason_name(want_reason));             \
		CHECK_STR_EQ((f).detail, want_detail);                                             \
		CHECK_INT_EQ((f).cert_index, want_idx);                                            \
	} while (0)

static void
test_valid_chain(void)
{
	struct pki k;
	struct cv_path_params p;
	struct cv_failure f;
	struct cv_verdict v;
	struct cv_path path;
	size_t n = 0;

	pki_make(&k);
	cv_path_params_init(&p);
	CHECK_INT_EQ(run(k.leaf.cert, &k.root.cert, 1, &k.sub.cert, 1, &p, &f, &n), 0);
	CHECK_INT_EQ(n, 3);
	/* trace and verdict path */
	cv_verdict_init(&v, now);
	p.at = now;
	CHECK_INT_EQ(cv_path_build(k.leaf.cert, &p, &path, &f, &v), 0);
	CHECK_INT_EQ(cv_path_to_verdict(&path, &v), 0);
	CHECK_INT_EQ(v.n_path, 3);
	CHECK(v.n_path == 3 && v.path[2].trust_anchor && !v.path[0].trust_anchor);
	CHECK(v.n_trace >= 3 &&
	      strstr(v.trace[v.n_trace - 1].text, "validation path has 2 certs") != NULL);
	cv_path_release(&path);
	cv_verdict_free(&v);
	/* leaf is the anchor */
	cv_path_params_init(&p);
	CHECK_INT_EQ(run(k.leaf.cert, &k.leaf.cert, 1, NULL, 0, &p, &f, &n), 0);
	CHECK_INT_EQ(n, 1);
	/* a subordinate CA as anchor: the path ends there, root not needed */
	cv_path_params_init(&p);
	CHECK_INT_EQ(run(k.leaf.cert, &k.sub.cert, 1, &k.root.cert, 1, &p, &f, &n), 0);
	CHECK_INT_EQ(n, 2);
	/* missing intermediate */
	cv_path_params_init(&p);
	CHECK_INT_EQ(run(k.leaf.cert, &k.root.cert, 1, NULL, 0, &p, &f, NULL), -1);
	EXPECT_FAIL(f, CV_REASON_UNTRUSTED_ISSUER, "no-issuer", 0);
	pki_free(&k);
}

static void
test_validity(void)
{
	struct tp_entity root, sub, leaf;
	struct cv_path_params p;
	struct cv_failure f;
	struct cv_path path;
	struct tp_spec s;
	cv_time na = now + 10 * DAY;

	tp_spec_ca(&s, "CN=V Root", now);
	CHECK(tp_issue(&root, &s, NULL) == 0);
	tp_spec_ca(&s, "CN=V Sub", now);
	CHECK(tp_issue(&sub, &s, &root) == 0);
	tp_spec_leaf(&s, "CN=V Leaf", now);
	s.not_after = na;
	CHECK(tp_issue(&leaf, &s, &sub) == 0);

	cv_path_params_init(&p);
	p.at = na; /* inclusive */
	CHECK_INT_EQ(run(leaf.cert, &root.cert, 1, &sub.cert, 1, &p, &f, NULL), 0);
	cv_path_params_init(&p);
	p.at = na + 1;
	CHECK_INT_EQ(run(leaf.cert, &root.cert, 1, &sub.cert, 1, &p, &f, NULL), -1);
	EXPECT_FAIL(f, CV_REASON_EXPIRED, "expired", 0);
	/* waived for the leaf */
	cv_path_params_init(&p);
	p.at = na + 1;
	p.leaf_validity_waived = true;
	p.anchors = &root.cert;
	p.n_anchors = 1;
	p.untrusted = &sub.cert;
	p.n_untrusted = 1;
	CHECK_INT_EQ(cv_path_build(leaf.cert, &p, &path, &f, NULL), 0);
	CHECK(path.leaf_validity_waived_used);
	cv_path_release(&path);
	tp_entity_free(&leaf);
	tp_entity_free(&sub);

	/* not-yet-valid intermediate; the waiver does not cover CA certificates */
	tp_spec_ca(&s, "CN=V Sub", now);
	s.not_before = now + DAY;
	CHECK(tp_issue(&sub, &s, &root) == 0);
	tp_spec_leaf(&s, "CN=V Leaf", now);
	CHECK(tp_issue(&leaf, &s, &sub) == 0);
	cv_path_params_init(&p);
	p.leaf_validity_waived = true;
	CHECK_INT_EQ(run(leaf.cert, &root.cert, 1, &sub.cert, 1, &p, &f, NULL), -1);
	EXPECT_FAIL(f, CV_REASON_NOT_YET_VALID, "not-yet-valid", 1);
	CHECK(strstr(f.subject, "V Sub") != NULL);
	tp_entity_free(&leaf);
	tp_entity_free(&sub);
	tp_entity_free(&root);

	/* an expired self-signed anchor is rejected */
	tp_spec_ca(&s, "CN=Old Root", now);
	s.not_after = now - DAY / 2;
	CHECK(tp_issue(&root, &s, NULL) == 0);
	tp_spec_leaf(&s, "CN=V Leaf", now);
	CHECK(tp_issue(&leaf, &s, &root) == 0);
	cv_path_params_init(&p);
	CHECK_INT_EQ(run(leaf.cert, &root.cert, 1, NULL, 0, &p, &f, NULL), -1);
	EXPECT_FAIL(f, CV_REASON_EXPIRED, "expired", 1);
	tp_entity_free(&leaf);
	tp_entity_free(&root);
}

static void
test_signature(void)
{
	struct pki k;
	struct cv_path_params p;
	struct cv_failure f;
	struct cv_cert *bad = NULL;

	pki_make(&k);
	CHECK(tp_corrupt_signature(k.leaf.cert, &bad) == 0);
	cv_path_params_init(&p);
	CHECK_INT_EQ(run(bad, &k.root.cert, 1, &k.sub.cert, 1, &p, &f, NULL), -1);
	EXPECT_FAIL(f, CV_REASON_BAD_SIGNATURE, "signature", 0);
	cv_cert_unref(bad);
	pki_free(&k);
}

static void
test_shuffled(void)
{
	struct tp_entity root, a, b, c, leaf, stray;
	struct cv_path_params p;
	struct cv_failure f;
	struct tp_spec s;
	size_t n = 0;

	tp_spec_ca(&s, "CN=S Root", now);
	CHECK(tp_issue(&root, &s, NULL) == 0);
	tp_spec_ca(&s, "CN=S A", now);
	CHECK(tp_issue(&a, &s, &root) == 0);
	tp_spec_ca(&s, "CN=S B", now);
	CHECK(tp_issue(&b, &s, &a) == 0);
	tp_spec_ca(&s, "CN=S C", now);
	CHECK(tp_issue(&c, &s, &b) == 0);
	tp_spec_ca(&s, "CN=Stray", now);
	CHECK(tp_issue(&stray, &s, NULL) == 0);
	tp_spec_leaf(&s, "CN=S Leaf", now);
	CHECK(tp_issue(&leaf, &s, &c) == 0);
	{
		struct cv_cert *u[] = {a.cert,    stray.cert, b.cert, a.cert,
		                       root.cert, c.cert,     b.cert};

		cv_path_params_init(&p);
		CHECK_INT_EQ(run(leaf.cert, &root.cert, 1, u, 7, &p, &f, &n), 0);
		CHECK_INT_EQ(n, 5);
		/* depth bound: 5 certificates do not fit in 4 */
		cv_path_params_init(&p);
		p.max_depth = 4;
		CHECK_INT_EQ(run(leaf.cert, &root.cert, 1, u, 7, &p, &f, NULL), -1);
		EXPECT_FAIL(f, CV_REASON_CHAIN_INVALID, "depth-exceeded", 3);
	}
	tp_entity_free(&leaf);
	tp_entity_free(&stray);
	tp_entity_free(&c);
	tp_entity_free(&b);
	tp_entity_free(&a);
	tp_entity_free(&root);
}

/* Root -> CA (built from spec) -> leaf; returns the validation outcome. */
static int
ca_case(struct tp_spec *ca_spec, struct tp_spec *leaf_spec, struct cv_path_params *p,
        struct cv_failure *f)
{
	struct tp_entity root, ca, leaf;
	struct tp_spec s;
	int r = -2;

	tp_spec_ca(&s, "CN=Case Root", now);
	if (tp_issue(&root, &s, NULL) < 0)
		return -2;
	if (tp_issue(&ca, ca_spec, &root) == 0) {
		if (tp_issue(&leaf, leaf_spec, &ca) == 0) {
			r = run(leaf.cert, &root.cert, 1, &ca.cert, 1, p, f, NULL);
			tp_entity_free(&leaf);
		}
		tp_entity_free(&ca);
	}
	tp_entity_free(&root);
	return r;
}

/* Root -> peer (a CA certificate built from spec, at the end of the path). */
static int
ca_peer_case(struct tp_spec *peer_spec, struct cv_path_params *p, struct cv_failure *f)
{
	struct tp_entity root, peer;
	struct tp_spec s;
	int r = -2;

	tp_spec_ca(&s, "CN=Peer Case Root", now);
	if (tp_issue(&root, &s, NULL) < 0)
		return -2;
	if (tp_issue(&peer, peer_spec, &root) == 0) {
		r = run(peer.cert, &root.cert, 1, NULL, 0, p, f, NULL);
		tp_entity_free(&peer);
	}
	tp_entity_free(&root);
	return r;
}

/*
 * A CA certificate at the end of the path constrains nobody, but its critical nameConstraints
 * must still be processable (RFC 5280 4.2): found by the differential fuzz target against
 * OpenSSL (tests/fuzz/corpus/diff/diff-leaf-malformed-critical-name-constraints.tbs).
 */
static void
test_peer_ca_name_constraints(void)
{
	/* { permitted [0] { { dNSName "ab" } } } */
	static const unsigned char nc_ok[] = {0x30, 0x08, 0xa0, 0x06, 0x30,
	                                      0x04, 0x82, 0x02, 0x61, 0x62};
	/* the same with the dNSName's length running past its subtree */
	static const unsigned char nc_bad[] = {0x30, 0x08, 0xa0, 0x06, 0x30,
	                                       0x04, 0x82, 0x05, 0x61, 0x62};
	struct tp_spec peer;
	struct cv_path_params p;
	struct cv_failure f;

	tp_spec_ca(&peer, "CN=Peer CA,O=certval", now);
	peer.ext_oid = "2.5.29.30";
	peer.ext_critical = true;
	peer.ext_value = nc_ok;
	peer.ext_value_len = sizeof(nc_ok);
	cv_path_params_init(&p);
	CHECK_INT_EQ(ca_peer_case(&peer, &p, &f), 0);
	peer.ext_value = nc_bad;
	peer.ext_value_len = sizeof(nc_bad);
	cv_path_params_init(&p);
	CHECK_INT_EQ(ca_peer_case(&peer, &p, &f), -1);
	EXPECT_FAIL(f, CV_REASON_CHAIN_INVALID, "malformed-name-constraints", 0);
}

static void
test_ca_rules(void)
{
	struct tp_spec ca, leaf;
	struct cv_path_params p;
	struct cv_failure f;

	tp_spec_leaf(&leaf, "CN=Rule Leaf", now);
	/* not a CA */
	tp_spec_ca(&ca, "CN=Rule CA", now);
	ca.ca = false;
	cv_path_params_init(&p);
	CHECK_INT_EQ(ca_case(&ca, &leaf, &p, &f), -1);
	EXPECT_FAIL(f, CV_REASON_CHAIN_INVALID, "not-a-ca", 1);
	/* keyCertSign missing */
	tp_spec_ca(&ca, "CN=Rule CA", now);
	ca.key_usage = GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_CRL_SIGN;
	cv_path_params_init(&p);
	CHECK_INT_EQ(ca_case(&ca, &leaf, &p, &f), -1);
	EXPECT_FAIL(f, CV_REASON_CHAIN_INVALID, "key-cert-sign-missing", 1);
	/* unknown critical extension on the leaf; the same extension non-critical is fine */
	tp_spec_ca(&ca, "CN=Rule CA", now);
	leaf.ext_oid = "1.3.6.1.4.1.55555.1";
	leaf.ext_critical = true;
	cv_path_params_init(&p);
	CHECK_INT_EQ(ca_case(&ca, &leaf, &p, &f), -1);
	EXPECT_FAIL(f, CV_REASON_CHAIN_INVALID, "unknown-critical-extension", 0);
	leaf.ext_critical = false;
	cv_path_params_init(&p);
	CHECK_INT_EQ(ca_case(&ca, &leaf, &p, &f), 0);
	leaf.ext_oid = NULL;
	/* weak algorithm: a SHA-1 signature on the leaf */
	leaf.hash = GNUTLS_DIG_SHA1;
	cv_path_params_init(&p);
	CHECK_INT_EQ(ca_case(&ca, &leaf, &p, &f), -1);
	EXPECT_FAIL(f, CV_REASON_CHAIN_INVALID, "weak-algorithm", 0);
	cv_path_params_init(&p);
	p.allowed_weak = CV_WEAK_SHA1;
	CHECK_INT_EQ(ca_case(&ca, &leaf, &p, &f), 0);
	leaf.hash = 0;
	/* weak key: an RSA-1024 CA */
	ca.key_type = TP_KEY_RSA1024;
	cv_path_params_init(&p);
	CHECK_INT_EQ(ca_case(&ca, &leaf, &p, &f), -1);
	EXPECT_FAIL(f, CV_REASON_CHAIN_INVALID, "weak-algorithm", 0);
	cv_path_params_init(&p);
	p.allowed_weak = cv_weak_alg_from_name("rsa-1024");
	CHECK_INT_EQ(ca_case(&ca, &leaf, &p, &f), 0);
}

static void
test_path_len(void)
{
	struct tp_entity root, a, b, leaf;
	struct cv_path_params p;
	struct cv_failure f;
	struct tp_spec s;
	struct cv_cert *u[2];

	tp_spec_ca(&s, "CN=PL Root", now);
	CHECK(tp_issue(&root, &s, NULL) == 0);
	tp_spec_ca(&s, "CN=PL A", now);
	s.path_len = 0;
	CHECK(tp_issue(&a, &s, &root) == 0);
	tp_spec_ca(&s, "CN=PL B", now);
	CHECK(tp_issue(&b, &s, &a) == 0);
	tp_spec_leaf(&s, "CN=PL Leaf", now);
	CHECK(tp_issue(&leaf, &s, &b) == 0);
	u[0] = a.cert;
	u[1] = b.cert;
	cv_path_params_init(&p);
	CHECK_INT_EQ(run(leaf.cert, &root.cert, 1, u, 2, &p, &f, NULL), -1);
	EXPECT_FAIL(f, CV_REASON_CHAIN_INVALID, "path-len-exceeded", 1);
	tp_entity_free(&leaf);
	tp_entity_free(&b);
	tp_entity_free(&a);
	tp_entity_free(&root);
}

/*
 * The valid_policy_tree is bounded (256 nodes). CA 1 asserts 1.2.3.1.1-2, CAs 2 to 5 assert
 * anyPolicy, and each CA k < 5 maps 1.2.3.k.1 and 1.2.3.k.2 to all of 1.2.3.(k+1).1-8: each
 * anyPolicy expands every expected policy, so the levels hold 2, 16, 44, 100, then 212 nodes
 * (375 in all): too large at CA 5. Its near miss asserts 1.2.3.5.1 at CA 5 instead (16 nodes,
 * 179 in all): accepted, the tree having grown well past the node its state holds inline.
 */
static void
mappings_der(unsigned level, unsigned char *der, size_t *len)
{
	size_t n = 0;

	der[n++] = 0x30; /* SEQUENCE of 16 mappings of 14 bytes */
	der[n++] = 0x81;
	der[n++] = 0xe0;
	for (unsigned from = 1; from <= 2; from++)
		for (unsigned to = 1; to <= 8; to++) {
			const unsigned char m[] = {0x30, 0x0c, 0x06, 0x04, 0x2a, 0x03,      level,
			                           from, 0x06, 0x04, 0x2a, 0x03, level + 1, to};

			memcpy(der + n, m, sizeof(m));
			n += sizeof(m);
		}
	*len = n;
}

static int
policy_chain(const char *last_policy, struct cv_failure *f)
{
	unsigned char der[4][3 + 16 * 14];
	struct tp_entity e[7] = {{0}};
	struct cv_cert *u[5];
	struct cv_path_params p;
	struct tp_spec s;
	int rc = -2;

	tp_spec_ca(&s, "CN=Policy Root", now);
	if (tp_issue(&e[0], &s, NULL) != 0)
		goto out;
	for (unsigned k = 1; k <= 5; k++) {
		char name[32];

		snprintf(name, sizeof(name), "CN=Policy CA %u", k);
		tp_spec_ca(&s, name, now);
		s.policies[0] = k == 1 ? "1.2.3.1.1" : k == 5 ? last_policy : "2.5.29.32.0";
		s.policies[1] = k == 1 ? "1.2.3.1.2" : NULL;
		if (k < 5) {
			mappings_der(k, der[k - 1], &s.ext_value_len);
			s.ext_oid = "2.5.29.33";
			s.ext_value = der[k - 1];
		}
		if (tp_issue(&e[k], &s, &e[k - 1]) != 0)
			goto out;
		u[k - 1] = e[k].cert;
	}
	tp_spec_leaf(&s, "CN=Policy Leaf", now);
	if (tp_issue(&e[6], &s, &e[5]) != 0)
		goto out;
	cv_path_params_init(&p);
	rc = run(e[6].cert, &e[0].cert, 1, u, 5, &p, f, NULL);
out:
	for (size_t i = 0; i < 7; i++)
		tp_entity_free(&e[i]);
	return rc;
}

static void
test_policy_tree_bound(void)
{
	struct cv_failure f;

	CHECK_INT_EQ(policy_chain("1.2.3.5.1", &f), 0);
	CHECK_INT_EQ(policy_chain("2.5.29.32.0", &f), -1);
	EXPECT_FAIL(f, CV_REASON_CHAIN_INVALID, "policy", 1);
	CHECK(strstr(f.message, "policy tree too large") != NULL);
}

static void
test_eku_hostname(void)
{
	static const struct {
		const char *eku;
		enum cv_purpose purpose;
		int ok;
	} cases[] = {
	    {"1.3.6.1.5.5.7.3.1", CV_PURPOSE_TLS_SERVER, 0},
	    {"1.3.6.1.5.5.7.3.1", CV_PURPOSE_TLS_CLIENT, -1},
	    {"1.3.6.1.5.5.7.3.2", CV_PURPOSE_TLS_SERVER, -1},
	    {"1.3.6.1.5.5.7.3.2", CV_PURPOSE_TLS_CLIENT, 0},
	    {"1.3.6.1.5.5.7.3.17", CV_PURPOSE_IKE, 0},
	    {"1.3.6.1.5.5.7.3.17", CV_PURPOSE_TLS_SERVER, -1},
	    {"1.3.6.1.5.5.7.3.4", CV_PURPOSE_IKE, -1}, /* emailProtection */
	    {"1.3.6.1.5.5.7.3.1", CV_PURPOSE_IKE, 0},
	    {"2.5.29.37.0", CV_PURPOSE_TLS_CLIENT, 0},
	    {NULL, CV_PURPOSE_IKE, 0}, /* no EKU */
	    {"1.3.6.1.5.5.7.3.4", CV_PURPOSE_ANY, 0},
	};
	struct tp_spec ca, leaf;
	struct cv_path_params p;
	struct cv_failure f;
	size_t i;
	int r;

	tp_spec_ca(&ca, "CN=EKU CA", now);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tp_spec_leaf(&leaf, "CN=EKU Leaf", now);
		leaf.eku[0] = cases[i].eku;
		cv_path_params_init(&p);
		p.purpose = cases[i].purpose;
		r = ca_case(&ca, &leaf, &p, &f);
		CHECK_INT_EQ(r, cases[i].ok);
		if (r != cases[i].ok)
			fprintf(stderr, "  eku case %zu\n", i);
		if (cases[i].ok < 0)
			EXPECT_FAIL(f, CV_REASON_CHAIN_INVALID, "eku", 0);
	}
	tp_spec_leaf(&leaf, "CN=host", now);
	leaf.dns[0] = "vpn.example.com";
	leaf.ip[0] = "192.0.2.7";
	cv_path_params_init(&p);
	p.peer_name = "vpn.example.com";
	CHECK_INT_EQ(ca_case(&ca, &leaf, &p, &f), 0);
	cv_path_params_init(&p);
	p.peer_name = "192.0.2.7";
	CHECK_INT_EQ(ca_case(&ca, &leaf, &p, &f), 0);
	cv_path_params_init(&p);
	p.peer_name = "other.example.com";
	CHECK_INT_EQ(ca_case(&ca, &leaf, &p, &f), -1);
	EXPECT_FAIL(f, CV_REASON_CHAIN_INVALID, "hostname", 0);
}

static void
test_name_constraints(void)
{
	struct tp_spec ca, leaf;
	struct cv_path_params p;
	struct cv_failure f;

	tp_spec_ca(&ca, "CN=NC CA,O=certval", now);
	ca.nc_permitted_dns[0] = "good.example";
	ca.nc_excluded_dn[0] = "O=Banned,C=US";
	tp_spec_leaf(&leaf, "CN=a,O=Fine,C=US", now);
	leaf.dns[0] = "host.good.example";
	cv_path_params_init(&p);
	CHECK_INT_EQ(ca_case(&ca, &leaf, &p, &f), 0);
	leaf.dns[0] = "host.bad.example";
	cv_path_params_init(&p);
	CHECK_INT_EQ(ca_case(&ca, &leaf, &p, &f), -1);
	EXPECT_FAIL(f, CV_REASON_CHAIN_INVALID, "name-constraints", 0);
	leaf.dns[0] = "host.good.example";
	leaf.subject = "CN=b,O=Banned,C=US";
	cv_path_params_init(&p);
	CHECK_INT_EQ(ca_case(&ca, &leaf, &p, &f), -1);
	EXPECT_FAIL(f, CV_REASON_CHAIN_INVALID, "name-constraints", 0);
	/* DN permitted subtree */
	tp_spec_ca(&ca, "CN=NC CA,O=certval", now);
	ca.nc_permitted_dn[0] = "O=Inside,C=US";
	leaf.subject = "CN=c,O=Inside,C=US";
	cv_path_params_init(&p);
	CHECK_INT_EQ(ca_case(&ca, &leaf, &p, &f), 0);
	leaf.subject = "CN=c,O=Outside,C=US";
	cv_path_params_init(&p);
	CHECK_INT_EQ(ca_case(&ca, &leaf, &p, &f), -1);
	EXPECT_FAIL(f, CV_REASON_CHAIN_INVALID, "name-constraints", 0);
}

/* Issues spec under a fresh root and expects the certificate to be unreadable, with an error
 * naming what. */
static void
expect_unreadable(const struct tp_spec *spec, const char *what)
{
	struct tp_entity root;
	struct tp_spec s;
	struct cv_error err;

	tp_spec_ca(&s, "CN=Case Root", now);
	CHECK_INT_EQ(tp_issue(&root, &s, NULL), 0);
	CHECK_INT_EQ(tp_issue_load(spec, &root, &err), -1);
	if (strstr(err.msg, what) == NULL)
		CHECK_STR_EQ(err.msg, what);
	tp_entity_free(&root);
}

/* Extensions are decoded by the strict DER reader when the certificate is read: a malformed
 * one makes the certificate unreadable (cert_ext.c). */
static void
test_strict_extensions(void)
{
	static const unsigned char nc_ok[] = {0x30, 0x06, 0xa0, 0x04, 0x30, 0x02, 0x82, 0x00};
	static const unsigned char nc_long[] = {0x30, 0x81, 0x06, 0xa0, 0x04,
	                                        0x30, 0x02, 0x82, 0x00};
	static const unsigned char pc_ok[] = {0x30, 0x03, 0x81, 0x01, 0x00};
	static const unsigned char pc_padded[] = {0x30, 0x04, 0x81, 0x02, 0x00, 0x00};
	struct tp_spec ca, leaf;
	struct cv_path_params p;
	struct cv_failure f;

	tp_spec_leaf(&leaf, "CN=strict,O=certval", now);
	leaf.dns[0] = "a.example";
	tp_spec_ca(&ca, "CN=Strict CA,O=certval", now);
	ca.ext_oid = "2.5.29.30";
	ca.ext_critical = true;
	ca.ext_value = nc_ok;
	ca.ext_value_len = sizeof(nc_ok);
	cv_path_params_init(&p);
	CHECK_INT_EQ(ca_case(&ca, &leaf, &p, &f), 0);
	ca.ext_value = nc_long; /* long-form length for 6 octets: BER, not DER */
	ca.ext_value_len = sizeof(nc_long);
	expect_unreadable(&ca, "nameConstraints (2.5.29.30): malformed value");
	ca.ext_oid = "2.5.29.36";
	ca.ext_value = pc_ok;
	ca.ext_value_len = sizeof(pc_ok);
	cv_path_params_init(&p);
	CHECK_INT_EQ(ca_case(&ca, &leaf, &p, &f), 0);
	ca.ext_value = pc_padded; /* inhibitPolicyMapping 0 with a redundant leading octet */
	ca.ext_value_len = sizeof(pc_padded);
	expect_unreadable(&ca, "policyConstraints (2.5.29.36): malformed value");
}

static void
test_cross_signed(void)
{
	struct tp_entity root, old_root, x_old, x_new, leaf;
	struct cv_path_params p;
	struct cv_failure f;
	struct tp_spec s;
	struct cv_cert *u[2];
	size_t n = 0;

	/* Two "CN=X CA" certificates with the same key: one (listed first, issued by an old
	 * root that is also trusted) expired, one current from the new root. */
	tp_spec_ca(&s, "CN=New Root", now);
	CHECK(tp_issue(&root, &s, NULL) == 0);
	tp_spec_ca(&s, "CN=X CA", now);
	CHECK(tp_issue(&x_new, &s, &root) == 0);
	tp_spec_ca(&s, "CN=X CA", now);
	s.reuse_key = x_new.key;
	s.not_after = now - DAY / 2;
	s.not_before = now - 100 * DAY;
	tp_spec_ca(&s, "CN=Old Root", now);
	CHECK(tp_issue(&old_root, &s, NULL) == 0);
	tp_spec_ca(&s, "CN=X CA", now);
	s.reuse_key = x_new.key;
	s.not_before = now - 100 * DAY;
	s.not_after = now - DAY / 2;
	CHECK(tp_issue(&x_old, &s, &old_root) == 0);
	tp_spec_leaf(&s, "CN=X Leaf", now);
	CHECK(tp_issue(&leaf, &s, &x_new) == 0);
	u[0] = x_old.cert;
	u[1] = x_new.cert;
	{
		struct cv_cert *anchors[] = {old_root.cert, root.cert};

		cv_path_params_init(&p);
		CHECK_INT_EQ(run(leaf.cert, anchors, 2, u, 2, &p, &f, &n), 0);
		CHECK_INT_EQ(n, 3);
		/* only the expired cross certificate: the path reached an anchor and failed */
		cv_path_params_init(&p);
		CHECK_INT_EQ(run(leaf.cert, anchors, 2, u, 1, &p, &f, NULL), -1);
		EXPECT_FAIL(f, CV_REASON_EXPIRED, "expired", 1);
	}
	tp_entity_free(&leaf);
	tp_entity_free(&x_old);
	tp_entity_free(&x_new);
	tp_entity_free(&old_root);
	tp_entity_free(&root);
}

static void
test_loop_and_bounds(void)
{
	struct tp_entity root, a, b, a2, leaf, fakes[30], good;
	struct cv_path_params p;
	struct cv_failure f;
	struct cv_path path;
	struct tp_spec s;
	struct cv_cert *u[31];
	size_t i;

	/* A and B issue each other; no anchor reachable */
	tp_spec_ca(&s, "CN=Loop Root", now);
	CHECK(tp_issue(&root, &s, NULL) == 0);
	tp_spec_ca(&s, "CN=Loop A", now);
	CHECK(tp_issue(&a, &s, NULL) == 0);
	tp_spec_ca(&s, "CN=Loop B", now);
	CHECK(tp_issue(&b, &s, &a) == 0);
	tp_spec_ca(&s, "CN=Loop A", now);
	s.reuse_key = a.key;
	CHECK(tp_issue(&a2, &s, &b) == 0); /* A certified by B */
	tp_spec_leaf(&s, "CN=Loop Leaf", now);
	CHECK(tp_issue(&leaf, &s, &a2) == 0);
	u[0] = a2.cert;
	u[1] = b.cert;
	cv_path_params_init(&p);
	CHECK_INT_EQ(run(leaf.cert, &root.cert, 1, u, 2, &p, &f, NULL), -1);
	CHECK_INT_EQ(f.reason, CV_REASON_UNTRUSTED_ISSUER);
	CHECK(strcmp(f.detail, "loop") == 0 || strcmp(f.detail, "no-issuer") == 0);
	tp_entity_free(&leaf);

	/* 30 same-named issuers with wrong keys (all signed by the root), then the right one */
	tp_spec_ca(&s, "CN=Many", now);
	for (i = 0; i < 30; i++) {
		CHECK(tp_issue(&fakes[i], &s, &root) == 0);
		u[i] = fakes[i].cert;
	}
	CHECK(tp_issue(&good, &s, &root) == 0);
	u[30] = good.cert;
	tp_spec_leaf(&s, "CN=Many Leaf", now);
	CHECK(tp_issue(&leaf, &s, &good) == 0);
	cv_path_params_init(&p);
	p.anchors = &root.cert;
	p.n_anchors = 1;
	p.untrusted = u;
	p.n_untrusted = 30; /* without the right one */
	p.at = now;
	CHECK_INT_EQ(cv_path_build(leaf.cert, &p, &path, &f, NULL), -1);
	EXPECT_FAIL(f, CV_REASON_BAD_SIGNATURE, "signature", 0);
	CHECK(path.sig_checks <= CV_PATH_MAX_CANDIDATES);
	p.max_sig_checks = 5;
	CHECK_INT_EQ(cv_path_build(leaf.cert, &p, &path, &f, NULL), -1);
	CHECK(path.sig_checks <= 5);
	EXPECT_FAIL(f, CV_REASON_CHAIN_INVALID, "work-limit", 0);
	/* with the right one last: the AKI/SKI hint puts it first, few checks are spent */
	p.max_sig_checks = 0;
	p.n_untrusted = 31;
	CHECK_INT_EQ(cv_path_build(leaf.cert, &p, &path, &f, NULL), 0);
	CHECK(path.sig_checks <= 3);
	cv_path_release(&path);
	for (i = 0; i < 30; i++)
		tp_entity_free(&fakes[i]);
	tp_entity_free(&good);
	tp_entity_free(&leaf);
	tp_entity_free(&a2);
	tp_entity_free(&b);
	tp_entity_free(&a);
	tp_entity_free(&root);
}

static void
test_names(void)
{
	enum cv_purpose pu;

	CHECK_INT_EQ(cv_weak_alg_from_name("SHA1"), CV_WEAK_SHA1);
	CHECK_INT_EQ(cv_weak_alg_from_name("md5"), CV_WEAK_MD5);
	CHECK_INT_EQ(cv_weak_alg_from_name("dsa"), CV_WEAK_DSA);
	CHECK_INT_EQ(cv_weak_alg_from_name("bogus"), 0);
	CHECK(cv_purpose_from_name("server", &pu) == 0 && pu == CV_PURPOSE_TLS_SERVER);
	CHECK(cv_purpose_from_name("ike", &pu) == 0 && pu == CV_PURPOSE_IKE);
	CHECK(cv_purpose_from_name("nope", &pu) < 0);
	CHECK_STR_EQ(cv_purpose_name(CV_PURPOSE_TLS_CLIENT), "client");
}

/* What a path relied on, as the verdict names it (one table for config and verdict). */
static void
test_relied_on_names(void)
{
	char buf[64], tiny[12];

	for (unsigned i = 0; i < CV_WEAK_ALG_COUNT; i++)
		CHECK_INT_EQ(cv_weak_alg_from_name(cv_weak_alg_name(1u << i)), 1u << i);
	CHECK(cv_weak_alg_name(1u << CV_WEAK_ALG_COUNT) == NULL);
	CHECK_STR_EQ(cv_weak_alg_name(CV_WEAK_RSA_1024), "rsa-1024");
	CHECK_INT_EQ(cv_path_relied_on_names(0, 0, buf, sizeof(buf)), 0);
	CHECK_STR_EQ(buf, "");
	CHECK_INT_EQ(cv_path_relied_on_names(0, CV_WEAK_SHA1, buf, sizeof(buf)), 0);
	CHECK_STR_EQ(buf, "weak:sha1");
	CHECK_INT_EQ(cv_path_relied_on_names(CV_RELAX_CN_FALLBACK, CV_WEAK_MD5 | CV_WEAK_RSA_1024,
	                                     buf, sizeof(buf)),
	             0);
	CHECK_STR_EQ(buf, "cn-fallback,weak:md5,weak:rsa-1024");
	/* too small: whole names only, and the caller is told */
	CHECK_INT_EQ(
	    cv_path_relied_on_names(CV_RELAX_CN_FALLBACK, CV_WEAK_SHA1, tiny, sizeof(tiny)), -1);
	CHECK_STR_EQ(tiny, "cn-fallback");
}

int
main(void)
{
	now = (cv_time)time(NULL);
	test_valid_chain();
	test_validity();
	test_signature();
	test_shuffled();
	test_ca_rules();
	test_peer_ca_name_constraints();
	test_path_len();
	test_policy_tree_bound();
	test_eku_hostname();
	test_name_constraints();
	test_strict_extensions();
	test_cross_signed();
	test_loop_and_bounds();
	test_names();
	test_relied_on_names();
	return check_summary();
}
