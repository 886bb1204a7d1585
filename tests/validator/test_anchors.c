/*
 * test_anchors.c: the constraints a trust anchor's certificate carries (validator/anchor.c,
 * path_validate.c; RFC 5937), the extended key usage of CAs through the path and the leaf's
 * extendedKeyUsage profile rules (profile.c), through cv_path_build. Each rule has a case that
 * must pass and a near miss that must fail with its detail. Anchors are self-signed roots or
 * subordinate CAs configured as trust anchors ("chain-validation stop"); extensions that
 * GnuTLS does not make on request are written as raw DER.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../validator/path.h"
#include "../support/check.h"
#include "../support/testpki.h"

#define OID_SERVER "1.3.6.1.5.5.7.3.1"
#define OID_CLIENT "1.3.6.1.5.5.7.3.2"
#define OID_EMAIL  "1.3.6.1.5.5.7.3.4"
#define OID_ANY    "2.5.29.37.0"

static cv_time now;

/* --- DER of names and constraints --- */

struct der {
	unsigned char b[1024];
	size_t n;
};

static void
put(struct der *d, unsigned char tag, const void *v, size_t len)
{
	if (d->n + len + 2 > sizeof(d->b) || len > 0x7f) {
		fprintf(stderr, "test DER buffer too small\n");
		return;
	}
	d->b[d->n++] = tag;
	d->b[d->n++] = (unsigned char)len;
	memcpy(d->b + d->n, v, len);
	d->n += len;
}

/* One GeneralName: its context tag (0x80 | type, 0xa4 for a directory name) and contents. */
struct gn {
	unsigned char tag;
	const void *v;
	size_t len; /* 0: strlen */
};

#define GN_DNS(s)                                                                                  \
	{                                                                                          \
		0x82, s, 0                                                                         \
	}
#define GN_EMAIL(s)                                                                                \
	{                                                                                          \
		0x81, s, 0                                                                         \
	}
#define GN_URI(s)                                                                                  \
	{                                                                                          \
		0x86, s, 0                                                                         \
	}
#define GN_IP(v, n)                                                                                \
	{                                                                                          \
		0x87, v, n                                                                         \
	}
#define GN_DIR(v, n)                                                                               \
	{                                                                                          \
		0xa4, v, n                                                                         \
	}

static size_t
gn_len(const struct gn *g)
{
	return g->len != 0 ? g->len : strlen(g->v);
}

/* NameConstraints with one permitted (or excluded) subtree. */
static void
nc_one(const struct gn *base, bool excluded, struct der *out)
{
	struct der one = {.n = 0}, tree = {.n = 0}, trees = {.n = 0};

	put(&one, base->tag, base->v, gn_len(base));
	put(&tree, 0x30, one.b, one.n);
	put(&trees, excluded ? 0xa1 : 0xa0, tree.b, tree.n);
	out->n = 0;
	put(out, 0x30, trees.b, trees.n);
}

/* A subjectAltName of one name. */
static void
san_one(const struct gn *name, struct der *out)
{
	struct der one = {.n = 0};

	put(&one, name->tag, name->v, gn_len(name));
	out->n = 0;
	put(out, 0x30, one.b, one.n);
}

static void
raw_ext(struct tp_spec *s, const char *oid, const struct der *d, bool critical)
{
	s->ext_oid = oid;
	s->ext_value = d->b;
	s->ext_value_len = d->n;
	s->ext_critical = critical;
}

/* --- one validation --- */

/* root -> [ca] -> leaf. With sub_anchor the CA is the trust anchor (a subordinate CA as
 * trustpoint) and the root is not given; without ca the root issues the leaf. */
struct chain {
	struct tp_spec root, ca, leaf;
	bool with_ca, sub_anchor, leaf_is_anchor;
	struct cv_path_params p;
};

struct outcome {
	int rc; /* 0 accept, -1 reject, -2 not made */
	struct cv_failure f;
};

static void
chain_init(struct chain *c)
{
	memset(c, 0, sizeof(*c));
	tp_spec_ca(&c->root, "CN=Anchor Root,O=certval", now);
	tp_spec_ca(&c->ca, "CN=Anchor CA,O=certval", now);
	tp_spec_leaf(&c->leaf, "CN=leaf,O=certval", now);
	c->leaf.eku[0] = OID_SERVER;
	c->leaf.dns[0] = "www.example.com";
	cv_path_params_init(&c->p);
	c->p.purpose = CV_PURPOSE_TLS_SERVER;
	c->with_ca = true;
}

static void
run(struct chain *c, struct outcome *o)
{
	struct tp_entity root = {0}, ca = {0}, leaf = {0};
	struct cv_path path;
	const struct tp_entity *issuer;
	struct cv_cert *anchor;

	memset(o, 0, sizeof(*o));
	o->rc = -2;
	if (tp_issue(&root, &c->root, NULL) < 0 || (c->with_ca && tp_issue(&ca, &c->ca, &root) < 0))
		goto out;
	issuer = c->with_ca ? &ca : &root;
	if (c->leaf_is_anchor ? tp_issue(&leaf, &c->leaf, NULL) < 0
	                      : tp_issue(&leaf, &c->leaf, issuer) < 0)
		goto out;
	anchor = c->leaf_is_anchor ? leaf.cert : c->sub_anchor ? ca.cert : root.cert;
	c->p.anchors = &anchor;
	c->p.n_anchors = 1;
	c->p.untrusted = c->with_ca && !c->sub_anchor ? &ca.cert : NULL;
	c->p.n_untrusted = c->with_ca && !c->sub_anchor ? 1 : 0;
	c->p.at = now;
	o->rc = cv_path_build(leaf.cert, &c->p, &path, &o->f, NULL);
	if (o->rc == 0)
		cv_path_release(&path);
out:
	tp_entity_free(&leaf);
	tp_entity_free(&ca);
	tp_entity_free(&root);
}

static void
expect_accept(struct chain *c, int line)
{
	struct outcome o;

	run(c, &o);
	CHECK_INT_EQ(o.rc, 0);
	if (o.rc != 0)
		fprintf(stderr, "  line %d: rc %d %s: %s\n", line, o.rc, o.f.detail, o.f.message);
}

static void
expect_reject(struct chain *c, const char *detail, int pos, int line)
{
	struct outcome o;

	run(c, &o);
	CHECK_INT_EQ(o.rc, -1);
	CHECK_STR_EQ(o.f.detail, detail);
	CHECK_INT_EQ(o.f.cert_index, pos);
	if (o.rc != -1 || strcmp(o.f.detail, detail) != 0 || o.f.cert_index != pos)
		fprintf(stderr, "  line %d: rc %d %s at %d: %s\n", line, o.rc, o.f.detail,
		        o.f.cert_index, o.f.message);
}

#define ACCEPT(c)              expect_accept(&(c), __LINE__)
#define REJECT(c, detail, pos) expect_reject(&(c), detail, pos, __LINE__)

/* --- class 1: the anchor's name constraints --- */

/* One base in the anchor's constraints, one name in the leaf's SAN: inside, then outside. */
static void
nc_pair(const struct gn *base, bool excluded, const struct gn *in, const struct gn *out)
{
	struct der nc, san;
	struct chain c;

	chain_init(&c);
	nc_one(base, excluded, &nc);
	raw_ext(&c.root, "2.5.29.30", &nc, true);
	c.leaf.dns[0] = NULL;
	c.p.purpose = CV_PURPOSE_ANY;
	san_one(in, &san);
	raw_ext(&c.leaf, "2.5.29.17", &san, false);
	ACCEPT(c);
	san_one(out, &san);
	raw_ext(&c.leaf, "2.5.29.17", &san, false);
	REJECT(c, "anchor-name-constraints", 0);
	c.with_ca = false; /* the anchor issues the leaf itself */
	REJECT(c, "anchor-name-constraints", 0);
	san_one(in, &san);
	raw_ext(&c.leaf, "2.5.29.17", &san, false);
	ACCEPT(c);
}

static void
test_name_constraints(void)
{
	static const unsigned char net24[] = {192, 0, 2, 0, 255, 255, 255, 0};
	static const unsigned char in4[] = {192, 0, 2, 7}, out4[] = {198, 51, 100, 7};
	static const unsigned char net6[] = {
	    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	static const unsigned char in6[] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	                                    0,    0,    0,    0,    0, 0, 0, 1};
	static const unsigned char out6[] = {0x20, 0x01, 0x0d, 0xb9, 0, 0, 0, 0,
	                                     0,    0,    0,    0,    0, 0, 0, 1};
	/* Names: { O=certval }, { O=certval, CN=Good } and { O=Evil } */
	static const unsigned char o_certval[] = {0x30, 0x12, 0x31, 0x10, 0x30, 0x0e, 0x06,
	                                          0x03, 0x55, 0x04, 0x0a, 0x0c, 0x07, 'c',
	                                          'e',  'r',  't',  'v',  'a',  'l'};
	static const unsigned char o_good[] = {0x30, 0x21, 0x31, 0x10, 0x30, 0x0e, 0x06, 0x03, 0x55,
	                                       0x04, 0x0a, 0x0c, 0x07, 'c',  'e',  'r',  't',  'v',
	                                       'a',  'l',  0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55,
	                                       0x04, 0x03, 0x0c, 0x04, 'G',  'o',  'o',  'd'};
	static const unsigned char o_evil[] = {0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55,
	                                       0x04, 0x0a, 0x0c, 0x04, 'E',  'v',  'i',  'l'};
	const struct gn dns = GN_DNS("example.com"), dns_in = GN_DNS("www.example.com"),
	                dns_out = GN_DNS("www.example.org");
	const struct gn email = GN_EMAIL("example.com"), email_in = GN_EMAIL("ops@example.com"),
	                email_out = GN_EMAIL("ops@example.net");
	const struct gn uri = GN_URI(".example.com"), uri_in = GN_URI("https://www.example.com/x"),
	                uri_out = GN_URI("https://www.example.net/x");
	const struct gn ip4 = GN_IP(net24, 8), ip4_in = GN_IP(in4, 4), ip4_out = GN_IP(out4, 4);
	const struct gn ip6 = GN_IP(net6, 32), ip6_in = GN_IP(in6, 16), ip6_out = GN_IP(out6, 16);
	const struct gn dir = GN_DIR(o_certval, sizeof(o_certval)),
	                dir_in = GN_DIR(o_good, sizeof(o_good)),
	                dir_out = GN_DIR(o_evil, sizeof(o_evil));

	nc_pair(&dns, false, &dns_in, &dns_out);
	nc_pair(&dns, true, &dns_out, &dns_in); /* excluded: the names swap roles */
	nc_pair(&email, false, &email_in, &email_out);
	nc_pair(&uri, false, &uri_in, &uri_out);
	nc_pair(&ip4, false, &ip4_in, &ip4_out);
	nc_pair(&ip6, false, &ip6_in, &ip6_out);
	/* the subjects (O=certval) are inside; a directoryName in the SAN is held to it too */
	nc_pair(&dir, false, &dir_in, &dir_out);
}

/* The anchor's directory-name constraint binds the subjects of the CAs below it too, and a
 * subordinate CA configured as anchor carries its constraints as an anchor. */
static void
test_name_constraints_path(void)
{
	static const unsigned char o_certval[] = {0x30, 0x12, 0x31, 0x10, 0x30, 0x0e, 0x06,
	                                          0x03, 0x55, 0x04, 0x0a, 0x0c, 0x07, 'c',
	                                          'e',  'r',  't',  'v',  'a',  'l'};
	static const unsigned char bad_ip[] = {192, 0, 2, 0, 255};
	const struct gn dir = GN_DIR(o_certval, sizeof(o_certval));
	const struct gn dns = GN_DNS("example.com");
	const struct gn ip_bad = GN_IP(bad_ip, 5);
	struct der nc;
	struct chain c;

	chain_init(&c);
	nc_one(&dir, false, &nc);
	raw_ext(&c.root, "2.5.29.30", &nc, true);
	ACCEPT(c);
	c.ca.subject = "CN=Anchor CA,O=Elsewhere";
	REJECT(c, "anchor-name-constraints", 1);

	/* a subordinate CA as anchor: its constraints hold, and name it as the anchor */
	chain_init(&c);
	nc_one(&dns, false, &nc);
	raw_ext(&c.ca, "2.5.29.30", &nc, true);
	c.sub_anchor = true;
	c.p.peer_name = "www.example.com";
	ACCEPT(c);
	c.leaf.dns[0] = "www.example.org";
	c.p.peer_name = "www.example.org";
	REJECT(c, "anchor-name-constraints", 0);
	c.sub_anchor = false; /* the same CA in the middle of the path */
	REJECT(c, "name-constraints", 0);

	/* malformed constraints in the anchor: an iPAddress base of 5 octets */
	chain_init(&c);
	nc_one(&ip_bad, false, &nc);
	raw_ext(&c.root, "2.5.29.30", &nc, true);
	REJECT(c, "anchor-malformed", 1); /* found on the first certificate below it */
}

/* --- class 1: pathLenConstraint --- */

static void
test_path_len(void)
{
	struct chain c;

	chain_init(&c);
	c.root.path_len = 0;
	REJECT(c, "anchor-path-len", 1);
	c.with_ca = false;
	ACCEPT(c); /* pathLen 0: the leaf only */
	c.with_ca = true;
	c.root.path_len = 1;
	ACCEPT(c);
}

/*
 * root -> CA 1 -> CA 2 -> leaf, with CA 1 or the root as the anchor: detail (NULL: accepted)
 * at position pos. The chain helper holds one CA only.
 */
static void
deep(int root_len, int ca1_len, bool ca1_anchor, const char *detail, int pos, int line)
{
	struct tp_entity root = {0}, ca = {0}, ca2 = {0}, leaf = {0};
	struct tp_spec rs, cs, c2s, ls;
	struct cv_path_params p;
	struct cv_path path;
	struct cv_failure f;
	struct cv_cert *untrusted[2];
	int rc;

	tp_spec_ca(&rs, "CN=Deep Root", now);
	tp_spec_ca(&cs, "CN=Deep CA 1", now);
	tp_spec_ca(&c2s, "CN=Deep CA 2", now);
	tp_spec_leaf(&ls, "CN=deep leaf", now);
	rs.path_len = root_len;
	cs.path_len = ca1_len;
	if (tp_issue(&root, &rs, NULL) < 0 || tp_issue(&ca, &cs, &root) < 0 ||
	    tp_issue(&ca2, &c2s, &ca) < 0 || tp_issue(&leaf, &ls, &ca2) < 0) {
		CHECK(!"certificates made");
		goto out;
	}
	cv_path_params_init(&p);
	untrusted[0] = ca.cert;
	untrusted[1] = ca2.cert;
	p.anchors = ca1_anchor ? &ca.cert : &root.cert;
	p.n_anchors = 1;
	p.untrusted = untrusted;
	p.n_untrusted = 2;
	p.at = now;
	rc = cv_path_build(leaf.cert, &p, &path, &f, NULL);
	CHECK_INT_EQ(rc, detail != NULL ? -1 : 0);
	if (rc == 0) {
		cv_path_release(&path);
	} else if (detail != NULL) {
		CHECK_STR_EQ(f.detail, detail);
		CHECK_INT_EQ(f.cert_index, pos);
		CHECK(strstr(f.message, ca1_anchor ? "CN=Deep CA 1" : "CN=Deep Root") != NULL ||
		      strcmp(detail, "path-len-exceeded") == 0);
	}
	if ((rc == 0) != (detail == NULL) || (rc != 0 && strcmp(f.detail, detail) != 0))
		fprintf(stderr, "  line %d: rc %d %s at %d: %s\n", line, rc, rc ? f.detail : "",
		        rc ? f.cert_index : 0, rc ? f.message : "");
out:
	tp_entity_free(&leaf);
	tp_entity_free(&ca2);
	tp_entity_free(&ca);
	tp_entity_free(&root);
}

static void
test_path_len_deep(void)
{
	deep(-1, -1, false, NULL, 0, __LINE__);
	deep(1, -1, false, "anchor-path-len", 1, __LINE__); /* one CA below the root, not two */
	deep(2, -1, false, NULL, 0, __LINE__);
	deep(-1, 0, false, "path-len-exceeded", 1, __LINE__); /* CA 1's own, as intermediate */
	deep(-1, 0, true, "anchor-path-len", 1, __LINE__);    /* CA 1's own, as anchor */
	deep(-1, 1, true, NULL, 0, __LINE__);
	deep(0, -1, true, NULL, 0, __LINE__); /* the root is out of the path: its pathLen too */
}

/* --- class 1: the anchor's form --- */

static void
test_anchor_form(void)
{
	static const unsigned char bc_ca[] = {0x30, 0x03, 0x01, 0x01, 0xff};
	static const unsigned char key_id[] = {0x04, 0x04, 1, 2, 3, 4};
	static const unsigned char aki[] = {0x30, 0x06, 0x80, 0x04, 1, 2, 3, 4};
	struct der d;
	struct chain c;

	/* an unknown critical extension; the same extension non-critical is fine */
	chain_init(&c);
	c.root.ext_oid = "1.3.6.1.4.1.55555.1";
	c.root.ext_critical = false;
	ACCEPT(c);
	c.root.ext_critical = true;
	REJECT(c, "anchor-malformed", 2);
	c.sub_anchor = true; /* only the anchor's own extensions count */
	ACCEPT(c);
	c.ca.ext_oid = "1.3.6.1.4.1.55555.1";
	c.ca.ext_critical = true;
	REJECT(c, "anchor-malformed", 1);

	/* a critical subjectKeyIdentifier or authorityKeyIdentifier */
	chain_init(&c);
	c.root.no_ski = true;
	memcpy(d.b, key_id, sizeof(key_id));
	d.n = sizeof(key_id);
	raw_ext(&c.root, "2.5.29.14", &d, false);
	ACCEPT(c);
	c.root.ext_critical = true;
	REJECT(c, "anchor-malformed", 2);
	chain_init(&c);
	c.root.no_aki = true;
	memcpy(d.b, aki, sizeof(aki));
	d.n = sizeof(aki);
	raw_ext(&c.root, "2.5.29.35", &d, false);
	ACCEPT(c);
	c.root.ext_critical = true;
	REJECT(c, "anchor-malformed", 2);

	/* basicConstraints: critical cA TRUE; missing or non-critical is refused */
	chain_init(&c);
	c.root.basic_constraints = false;
	memcpy(d.b, bc_ca, sizeof(bc_ca));
	d.n = sizeof(bc_ca);
	raw_ext(&c.root, "2.5.29.19", &d, true);
	ACCEPT(c);
	c.root.ext_critical = false;
	REJECT(c, "anchor-malformed", 2);
	c.root.ext_oid = NULL;
	c.root.key_usage = 0;
	REJECT(c, "anchor-malformed", 2);
	chain_init(&c);
	c.root.ca = false;
	c.root.key_usage = GNUTLS_KEY_DIGITAL_SIGNATURE;
	REJECT(c, "anchor-not-ca", 2);

	/* cA TRUE without keyCertSign, keyCertSign without cA */
	chain_init(&c);
	c.root.key_usage = GNUTLS_KEY_CRL_SIGN | GNUTLS_KEY_DIGITAL_SIGNATURE;
	REJECT(c, "anchor-malformed", 2);
	c.root.key_usage = 0; /* no keyUsage: any use */
	ACCEPT(c);
	c.root.ca = false;
	c.root.key_usage = GNUTLS_KEY_KEY_CERT_SIGN;
	REJECT(c, "anchor-malformed", 2);

	/* a subordinate anchor is held to the same form */
	chain_init(&c);
	c.sub_anchor = true;
	c.ca.key_usage = GNUTLS_KEY_DIGITAL_SIGNATURE;
	REJECT(c, "anchor-malformed", 1);
}

/* An empty subject: such an anchor chains on nothing a relying party can name. */
static void
test_anchor_empty_subject(void)
{
	struct chain c;

	chain_init(&c);
	c.root.subject = "";
	c.with_ca = false;
	REJECT(c, "anchor-malformed", 1);
	c.root.subject = "CN=Anchor Root";
	ACCEPT(c);
}

/* The peer's own certificate as anchor (a path of one) issues nothing: no CA rule applies,
 * but an unknown critical extension still refuses it. */
static void
test_leaf_as_anchor(void)
{
	struct chain c;

	chain_init(&c);
	c.leaf_is_anchor = true;
	c.with_ca = false;
	ACCEPT(c);
	c.leaf.ext_oid = "1.3.6.1.4.1.55555.1";
	c.leaf.ext_critical = true;
	REJECT(c, "anchor-malformed", 0);
}

/* --- class 1: the anchor's policy constraints (RFC 5937 3) --- */

static void
test_anchor_policy(void)
{
	static const unsigned char require0[] = {0x30, 0x03, 0x80, 0x01, 0x00};
	static const unsigned char require1[] = {0x30, 0x03, 0x80, 0x01, 0x01};
	static const unsigned char inhibit_map0[] = {0x30, 0x03, 0x81, 0x01, 0x00};
	static const unsigned char inhibit_any0[] = {0x02, 0x01, 0x00};
	/* policyMappings { 1.2.3.1 -> 1.2.3.2 } */
	static const unsigned char mapping[] = {0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x2a,
	                                        0x03, 0x01, 0x06, 0x03, 0x2a, 0x03, 0x02};
	struct der d, m;
	struct chain c;
	struct outcome o;

	/* requireExplicitPolicy 0: every certificate below needs an acceptable policy */
	chain_init(&c);
	memcpy(d.b, require0, sizeof(require0));
	d.n = sizeof(require0);
	raw_ext(&c.root, "2.5.29.36", &d, true);
	REJECT(c, "policy", 1);
	run(&c, &o); /* the message names the anchor's constraint */
	CHECK(strstr(o.f.message, "policyConstraints of trust anchor CN=Anchor Root") != NULL);
	c.ca.policies[0] = "1.2.3.1";
	c.leaf.policies[0] = "1.2.3.1";
	ACCEPT(c);
	c.leaf.policies[0] = "1.2.3.9";
	REJECT(c, "policy", 0);
	/* requireExplicitPolicy 1: the CA may go without a policy, the path may not (6.1.5 (a)) */
	memcpy(d.b, require1, sizeof(require1));
	c.ca.policies[0] = NULL;
	c.leaf.policies[0] = NULL;
	REJECT(c, "policy", 0);
	/* requireExplicitPolicy 3 is beyond a path of two: as if absent */
	d.b[4] = 3;
	ACCEPT(c);

	/* inhibitAnyPolicy 0: anyPolicy below the anchor is no match */
	chain_init(&c);
	c.p.explicit_policy = true;
	c.ca.policies[0] = "2.5.29.32.0";
	c.leaf.policies[0] = "2.5.29.32.0";
	ACCEPT(c);
	memcpy(d.b, inhibit_any0, sizeof(inhibit_any0));
	d.n = sizeof(inhibit_any0);
	raw_ext(&c.root, "2.5.29.54", &d, true);
	REJECT(c, "policy", 1); /* the CA's anyPolicy already counts for nothing */

	/* inhibitPolicyMapping 0: the CA's mapping 1.2.3.1 -> 1.2.3.2 is not honoured */
	chain_init(&c);
	c.p.explicit_policy = true;
	c.ca.policies[0] = "1.2.3.1";
	memcpy(m.b, mapping, sizeof(mapping));
	m.n = sizeof(mapping);
	raw_ext(&c.ca, "2.5.29.33", &m, true);
	c.leaf.policies[0] = "1.2.3.2";
	ACCEPT(c);
	memcpy(d.b, inhibit_map0, sizeof(inhibit_map0));
	d.n = sizeof(inhibit_map0);
	raw_ext(&c.root, "2.5.29.36", &d, true);
	REJECT(c, "policy", 0);
}

/* --- class 4: the extended key usage of the CAs --- */

static void
test_ca_eku(void)
{
	struct chain c;

	/* the anchor's EKU */
	chain_init(&c);
	c.root.eku[0] = OID_EMAIL;
	REJECT(c, "anchor-eku", 2);
	c.root.eku[0] = OID_SERVER;
	ACCEPT(c);
	c.root.eku[0] = OID_ANY;
	ACCEPT(c);
	c.root.eku[0] = OID_EMAIL;
	c.sub_anchor = true; /* a subordinate anchor's EKU, the root out of the path */
	ACCEPT(c);
	c.ca.eku[0] = OID_EMAIL;
	REJECT(c, "anchor-eku", 1);

	/* an intermediate's EKU */
	chain_init(&c);
	c.ca.eku[0] = OID_EMAIL;
	REJECT(c, "eku", 1);
	c.leaf.eku[0] = NULL; /* a leaf without EKU is still below the CA's */
	REJECT(c, "eku", 1);
	c.p.purpose = CV_PURPOSE_ANY; /* no purpose: nothing to restrict */
	ACCEPT(c);
	c.leaf.eku[0] = OID_SERVER;
	c.p.purpose = CV_PURPOSE_TLS_SERVER;
	c.ca.eku[1] = OID_SERVER;
	ACCEPT(c);
	c.ca.eku[0] = OID_CLIENT;
	c.ca.eku[1] = NULL;
	c.leaf.eku[0] = OID_CLIENT;
	c.p.purpose = CV_PURPOSE_TLS_CLIENT;
	ACCEPT(c);
	c.p.purpose = CV_PURPOSE_TLS_SERVER;
	c.leaf.eku[1] = OID_SERVER;
	REJECT(c, "eku", 1);

	/* ike: the leaf's and the CAs' key purposes must meet */
	chain_init(&c);
	c.p.purpose = CV_PURPOSE_IKE;
	c.ca.eku[0] = OID_CLIENT;
	c.leaf.eku[0] = OID_SERVER;
	REJECT(c, "eku", 0);
	c.leaf.eku[0] = OID_CLIENT;
	ACCEPT(c);
	c.root.eku[0] = OID_SERVER; /* anchor serverAuth, CA clientAuth: nothing left */
	REJECT(c, "eku", 1);
}

/* --- class 4: the leaf's extendedKeyUsage by profile --- */

static void
test_leaf_eku_profile(void)
{
	/* extKeyUsage { serverAuth } */
	static const unsigned char eku_server[] = {0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06,
	                                           0x01, 0x05, 0x05, 0x07, 0x03, 0x01};
	static const unsigned char eku_empty[] = {0x30, 0x00};
	struct der d;
	struct chain c;
	struct cv_error err;

	chain_init(&c);
	c.leaf.eku[0] = NULL; /* no EKU: any purpose in rfc5280, refused for a webpki server */
	ACCEPT(c);
	c.p.profile = CV_PROFILE_WEBPKI;
	REJECT(c, "profile-eku", 0);
	c.p.purpose = CV_PURPOSE_TLS_CLIENT; /* the BR rule is for server certificates */
	ACCEPT(c);

	chain_init(&c); /* anyExtendedKeyUsage */
	c.leaf.eku[0] = OID_ANY;
	ACCEPT(c);
	c.leaf.eku[1] = OID_SERVER;
	c.p.profile = CV_PROFILE_WEBPKI;
	REJECT(c, "profile-eku", 0);
	c.leaf.eku[0] = OID_CLIENT;
	ACCEPT(c);
	c.leaf.eku[1] = NULL;
	REJECT(c, "profile-eku", 0); /* clientAuth only: not a server certificate */
	c.p.profile = CV_PROFILE_RFC5280;
	REJECT(c, "eku", 0);

	chain_init(&c); /* a critical EKU */
	c.leaf.eku[0] = NULL;
	memcpy(d.b, eku_server, sizeof(eku_server));
	d.n = sizeof(eku_server);
	raw_ext(&c.leaf, "2.5.29.37", &d, true);
	ACCEPT(c);
	c.p.profile = CV_PROFILE_WEBPKI;
	REJECT(c, "profile-eku", 0);
	c.leaf.ext_critical = false;
	ACCEPT(c);

	/* an empty EKU is refused when the certificate is read, in every profile */
	c.leaf.ext_value = eku_empty;
	c.leaf.ext_value_len = sizeof(eku_empty);
	CHECK_INT_EQ(tp_issue_load(&c.leaf, NULL, &err), -1);
}

int
main(void)
{
	now = (cv_time)time(NULL);
	if (gnutls_global_init() < 0)
		return 1;
	test_name_constraints();
	test_name_constraints_path();
	test_path_len();
	test_path_len_deep();
	test_anchor_form();
	test_anchor_empty_subject();
	test_leaf_as_anchor();
	test_anchor_policy();
	test_ca_eku();
	test_leaf_eku_profile();
	gnutls_global_deinit();
	return check_summary();
}
