/*
 * test_names.c: names in path validation: the peer host-name check (validator/hostname.c,
 * RFC 9525) and the name constraints (validator/nameconstraints.c, RFC 5280 4.2.1.10), each
 * rule with a case that must pass and a near miss that must fail. Certificates are made by
 * testpki; subjectAltNames and nameConstraints are written as raw DER so that malformed ones
 * can be made too.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../validator/hostname.h"
#include "../../validator/path.h"
#include "../support/check.h"
#include "../support/testpki.h"

static cv_time now;

/* --- DER of GeneralNames and NameConstraints --- */

struct der {
	unsigned char b[2048];
	size_t n;
};

static void
put(struct der *d, unsigned char tag, const void *v, size_t len)
{
	if (d->n + len + 4 > sizeof(d->b) || len > 0xffff) {
		fprintf(stderr, "test DER buffer too small\n");
		return;
	}
	d->b[d->n++] = tag;
	if (len < 0x80) {
		d->b[d->n++] = (unsigned char)len;
	} else if (len < 0x100) {
		d->b[d->n++] = 0x81;
		d->b[d->n++] = (unsigned char)len;
	} else {
		d->b[d->n++] = 0x82;
		d->b[d->n++] = (unsigned char)(len >> 8);
		d->b[d->n++] = (unsigned char)len;
	}
	memcpy(d->b + d->n, v, len);
	d->n += len;
}

/* One GeneralName: tag and contents (len 0: strlen of s). A list ends at tag 0. */
struct gn {
	unsigned char tag;
	const char *s;
	size_t len;
};

#define DNS(x)                                                                                     \
	{                                                                                          \
		CV_GN_TAG_DNS, x, 0                                                                \
	}
#define EMAIL(x)                                                                                   \
	{                                                                                          \
		CV_GN_TAG_RFC822, x, 0                                                             \
	}
#define URI(x)                                                                                     \
	{                                                                                          \
		CV_GN_TAG_URI, x, 0                                                                \
	}
#define IP(x, n)                                                                                   \
	{                                                                                          \
		CV_GN_TAG_IP, x, n                                                                 \
	}
#define GN_END                                                                                     \
	{                                                                                          \
		0, NULL, 0                                                                         \
	}
#define EMPTY_DNS                                                                                  \
	{                                                                                          \
		CV_GN_TAG_DNS, "", 0                                                               \
	}

static size_t
gn_len(const struct gn *g)
{
	return g->len != 0 ? g->len : strlen(g->s);
}

static void
general_names(const struct gn *v, struct der *out)
{
	struct der body = {.n = 0};

	for (; v->tag != 0; v++)
		put(&body, v->tag, v->s, gn_len(v));
	out->n = 0;
	put(out, 0x30, body.b, body.n);
}

static void
subtrees(unsigned char tag, const struct gn *v, struct der *out)
{
	struct der trees = {.n = 0}, one;

	for (; v->tag != 0; v++) {
		one.n = 0;
		put(&one, v->tag, v->s, gn_len(v));
		put(&trees, 0x30, one.b, one.n);
	}
	put(out, tag, trees.b, trees.n);
}

/* NameConstraints; NULL leaves a list out, an empty list (GN_END) writes an empty one. */
static void
name_constraints(const struct gn *permitted, const struct gn *excluded, struct der *out)
{
	struct der body = {.n = 0};

	if (permitted != NULL)
		subtrees(0xa0, permitted, &body);
	if (excluded != NULL)
		subtrees(0xa1, excluded, &body);
	out->n = 0;
	put(out, 0x30, body.b, body.n);
}

/* --- one validation: Root -> CA (nameConstraints nc, or none) -> leaf --- */

struct leaf_case {
	const char *subject;     /* "CN=leaf" when NULL */
	const struct der *san;   /* raw subjectAltName, or NULL */
	const struct der *nc;    /* raw nameConstraints of the CA, or NULL */
	const struct der *ee_nc; /* nameConstraints in the leaf itself, or NULL */
	const char *peer;
	enum cv_purpose purpose;
	enum cv_profile profile;
	uint32_t relax;
};

struct outcome {
	int rc; /* 0 accept, -1 reject, -2 harness error, -3 leaf refused at load */
	struct cv_failure f;
	uint32_t relaxations_used;
};

static void
run_case(const struct leaf_case *c, struct outcome *o)
{
	struct tp_entity root = {0}, ca = {0}, leaf = {0};
	struct tp_spec rs, cs, ls;
	struct cv_path_params p;
	struct cv_path path;

	memset(o, 0, sizeof(*o));
	o->rc = -2;
	tp_spec_ca(&rs, "CN=Names Root", now);
	tp_spec_ca(&cs, "CN=Names CA", now);
	if (c->nc != NULL) {
		cs.ext_oid = "2.5.29.30";
		cs.ext_value = c->nc->b;
		cs.ext_value_len = c->nc->n;
		cs.ext_critical = true;
	}
	tp_spec_leaf(&ls, c->subject != NULL ? c->subject : "CN=leaf", now);
	ls.eku[0] = "1.3.6.1.5.5.7.3.1"; /* serverAuth, as webpki's BR 7.1.2.7.10 asks */
	ls.eku[1] = "1.3.6.1.5.5.7.3.2"; /* clientAuth */
	if (c->san != NULL || c->ee_nc != NULL) {
		ls.ext_oid = c->san != NULL ? "2.5.29.17" : "2.5.29.30";
		ls.ext_value = c->san != NULL ? c->san->b : c->ee_nc->b;
		ls.ext_value_len = c->san != NULL ? c->san->n : c->ee_nc->n;
		ls.ext_critical = c->ee_nc != NULL;
	}
	if (tp_issue(&root, &rs, NULL) < 0 || tp_issue(&ca, &cs, &root) < 0)
		goto out;
	if (tp_issue(&leaf, &ls, &ca) < 0) {
		o->rc = -3; /* made, but refused when loaded (cv_cert_from_der) */
		goto out;
	}
	cv_path_params_init(&p);
	p.anchors = &root.cert;
	p.n_anchors = 1;
	p.untrusted = &ca.cert;
	p.n_untrusted = 1;
	p.at = now;
	p.purpose = c->purpose;
	p.profile = c->profile;
	p.relaxations = c->relax;
	p.peer_name = c->peer;
	o->rc = cv_path_build(leaf.cert, &p, &path, &o->f, NULL);
	if (o->rc == 0) {
		o->relaxations_used = path.relaxations_used;
		cv_path_release(&path);
	}
out:
	tp_entity_free(&leaf);
	tp_entity_free(&ca);
	tp_entity_free(&root);
}

static void
expect_accept(const struct leaf_case *c, int line)
{
	struct outcome o;

	run_case(c, &o);
	CHECK_INT_EQ(o.rc, 0);
	if (o.rc != 0)
		fprintf(stderr, "  line %d: %s: %s\n", line, o.f.detail, o.f.message);
}

static void
expect_reject(const struct leaf_case *c, const char *detail, int line)
{
	struct outcome o;

	run_case(c, &o);
	CHECK_INT_EQ(o.rc, -1);
	if (o.rc == -1)
		CHECK_STR_EQ(o.f.detail, detail);
	if (o.rc != -1 || strcmp(o.f.detail, detail) != 0)
		fprintf(stderr, "  line %d: rc %d %s: %s\n", line, o.rc, o.f.detail, o.f.message);
}

/* GnuTLS refuses some malformed names (an empty dNSName) when the certificate is loaded. */
static void
expect_unloadable(const struct leaf_case *c, int line)
{
	struct outcome o;

	run_case(c, &o);
	CHECK_INT_EQ(o.rc, -3);
	if (o.rc != -3)
		fprintf(stderr, "  line %d: rc %d %s: %s\n", line, o.rc, o.f.detail, o.f.message);
}

#define ACCEPT(c)         expect_accept(&(c), __LINE__)
#define UNLOADABLE(c)     expect_unloadable(&(c), __LINE__)
#define REJECT(c, detail) expect_reject(&(c), detail, __LINE__)

/* --- the matcher alone --- */

static bool
match(const char *pattern, const char *host, bool webpki)
{
	return cv_dns_match((const uint8_t *)pattern, strlen(pattern), host, webpki);
}

static enum cv_dns_kind
classify(const char *s)
{
	return cv_dns_classify((const uint8_t *)s, strlen(s));
}

static void
test_matcher(void)
{
	CHECK(match("www.example.com", "WWW.Example.COM", false));
	CHECK(!match("www.example.com", "ww.example.com", false));
	CHECK(match("*.example.com", "a.example.com", false));
	CHECK(!match("*.example.com", "example.com", false));
	CHECK(!match("*.example.com", "a.b.example.com", false));
	CHECK(!match("*.com", "example.com", false)); /* single-label rest */
	CHECK(match("*.co.uk", "example.co.uk", false));
	CHECK(!match("*.co.uk", "example.co.uk", true)); /* public suffix under webpki */
	CHECK(match("*.example.co.uk", "www.example.co.uk", true));
	CHECK(!match("f*o.example.com", "foo.example.com", false));
	CHECK(!match("*o.example.com", "foo.example.com", false));
	CHECK(!match("xn--*.example.com", "xn--bcher-kva.example.com", false));
	CHECK(!match("a.*.example.com", "a.b.example.com", false));

	CHECK_INT_EQ(classify("a-1.example.com"), CV_DNS_HOST);
	CHECK_INT_EQ(classify("*.example.com"), CV_DNS_WILDCARD);
	CHECK_INT_EQ(classify(".example.com"), CV_DNS_INVALID);
	CHECK_INT_EQ(classify("a_b.example.com"), CV_DNS_INVALID);
	CHECK_INT_EQ(classify(""), CV_DNS_INVALID);
	CHECK_INT_EQ(classify("example.com."), CV_DNS_INVALID);
	CHECK_INT_EQ(classify("a..example.com"), CV_DNS_INVALID);
	CHECK_INT_EQ(classify("-a.example.com"), CV_DNS_INVALID);
	CHECK_INT_EQ(classify("f*o.example.com"), CV_DNS_INVALID);
	CHECK_INT_EQ(classify("*"), CV_DNS_INVALID);
}

/* --- the peer name (class 3) --- */

static void
test_hostname_san(void)
{
	static const struct gn one[] = {DNS("www.example.com"), GN_END};
	static const struct gn wild[] = {DNS("*.example.com"), GN_END};
	static const struct gn psl[] = {DNS("*.co.uk"), GN_END};
	static const struct gn single[] = {DNS("*.localhost"), GN_END};
	static const struct gn partial[] = {DNS("f*o.example.com"), GN_END};
	static const struct gn under[] = {DNS("www.example.com"), DNS("a_b.example.com"), GN_END};
	static const struct gn empty[] = {DNS("www.example.com"), EMPTY_DNS, GN_END};
	struct der san;
	struct leaf_case c = {.purpose = CV_PURPOSE_TLS_SERVER, .san = &san};

	general_names(one, &san);
	c.peer = "WWW.Example.com.";
	ACCEPT(c);
	c.peer = "example.com";
	REJECT(c, "hostname");
	c.peer = "bad_name.example.com";
	REJECT(c, "hostname");

	general_names(wild, &san);
	c.peer = "a.example.com";
	ACCEPT(c);
	c.peer = "a.b.example.com";
	REJECT(c, "hostname");

	general_names(psl, &san);
	c.peer = "shop.co.uk";
	ACCEPT(c); /* rfc5280 profile: the public-suffix rule is webpki's */
	c.profile = CV_PROFILE_WEBPKI;
	REJECT(c, "hostname");
	c.profile = CV_PROFILE_RFC5280;

	general_names(single, &san);
	c.peer = "a.localhost";
	REJECT(c, "hostname");

	general_names(partial, &san);
	c.peer = "foo.example.com";
	REJECT(c, "malformed-san");
	general_names(under, &san);
	c.peer = "www.example.com";
	REJECT(c, "malformed-san");
	general_names(empty, &san);
	UNLOADABLE(c);
}

static void
test_hostname_ip(void)
{
	static const unsigned char v4[] = {192, 0, 2, 7};
	static const unsigned char v6[] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	                                   0,    0,    0,    0,    0, 0, 0, 1};
	static const unsigned char bad[] = {192, 0, 2, 7, 0};
	const struct gn ips[] = {IP((const char *)v4, 4), IP((const char *)v6, 16), GN_END};
	const struct gn dns_only[] = {DNS("192.0.2.7"), GN_END};
	const struct gn wrong_len[] = {DNS("www.example.com"), IP((const char *)bad, 5), GN_END};
	struct der san;
	struct leaf_case c = {.purpose = CV_PURPOSE_TLS_SERVER, .san = &san};

	general_names(ips, &san);
	c.peer = "192.0.2.7";
	ACCEPT(c);
	c.peer = "2001:db8::1";
	ACCEPT(c);
	c.peer = "[2001:DB8::1]";
	ACCEPT(c);
	c.peer = "192.0.2.8";
	REJECT(c, "hostname");
	c.peer = "::ffff:192.0.2.7";
	REJECT(c, "hostname");

	general_names(dns_only, &san); /* an address never matches a dNSName */
	c.peer = "192.0.2.7";
	REJECT(c, "hostname");

	general_names(wrong_len, &san); /* refused when read: the parsed certificate is strict */
	c.peer = "www.example.com";
	UNLOADABLE(c);
}

static void
test_cn_fallback(void)
{
	static const struct gn email_only[] = {EMAIL("ops@example.com"), GN_END};
	struct der san;
	struct leaf_case c = {.subject = "CN=test.example.com,O=certval",
	                      .purpose = CV_PURPOSE_TLS_SERVER,
	                      .peer = "test.example.com"};
	struct outcome o;

	REJECT(c, "san-missing");
	c.purpose = CV_PURPOSE_ANY;
	REJECT(c, "san-missing");
	general_names(email_only, &san);
	c.san = &san; /* a subjectAltName without dNSName or iPAddress is no better */
	REJECT(c, "san-missing");
	c.san = NULL;

	/* allow-cn-fallback: accepted, and reported */
	c.purpose = CV_PURPOSE_TLS_SERVER;
	c.relax = CV_RELAX_CN_FALLBACK;
	run_case(&c, &o);
	CHECK_INT_EQ(o.rc, 0);
	CHECK_INT_EQ(o.relaxations_used, CV_RELAX_CN_FALLBACK);
	c.peer = "other.example.com";
	REJECT(c, "hostname");
	c.peer = "192.0.2.7"; /* never an address through the CN */
	c.subject = "CN=192.0.2.7";
	REJECT(c, "hostname");

	/* ike keeps its CN rule without the relaxation, and reports none */
	c.relax = 0;
	c.purpose = CV_PURPOSE_IKE;
	c.subject = "CN=vpn.example.com";
	c.peer = "vpn.example.com";
	run_case(&c, &o);
	CHECK_INT_EQ(o.rc, 0);
	CHECK_INT_EQ(o.relaxations_used, 0);
	c.peer = "vpn2.example.com";
	REJECT(c, "hostname");

	/* a relaxation not relied on is not reported */
	general_names((const struct gn[]){DNS("vpn.example.com"), GN_END}, &san);
	c.san = &san;
	c.purpose = CV_PURPOSE_TLS_SERVER;
	c.relax = CV_RELAX_CN_FALLBACK;
	c.peer = "vpn.example.com";
	run_case(&c, &o);
	CHECK_INT_EQ(o.rc, 0);
	CHECK_INT_EQ(o.relaxations_used, 0);
}

static void
test_cn_consistency(void)
{
	static const unsigned char v4[] = {192, 0, 2, 7};
	const struct gn names[] = {DNS("www.example.com"), IP((const char *)v4, 4), GN_END};
	struct der san;
	struct leaf_case c = {.subject = "CN=WWW.example.com",
	                      .san = &san,
	                      .purpose = CV_PURPOSE_TLS_SERVER,
	                      .profile = CV_PROFILE_WEBPKI,
	                      .peer = "www.example.com"};

	general_names(names, &san);
	ACCEPT(c);
	c.subject = "CN=192.0.2.7";
	ACCEPT(c);
	c.subject = "O=certval"; /* no CN at all */
	ACCEPT(c);
	c.subject = "CN=other.example.com";
	REJECT(c, "cn-not-in-san");
	c.profile = CV_PROFILE_RFC5280; /* rfc5280: the host name is matched to the SAN only */
	ACCEPT(c);
}

/* --- name constraints --- */

/* Class 2: the CN a fallback could match is under the dNSName constraints. */
static void
test_nc_common_name(void)
{
	static const struct gn ex_localhost[] = {DNS("localhost"), GN_END};
	static const struct gn ex_other[] = {DNS("example.org"), GN_END};
	static const struct gn perm_example[] = {DNS("example.com"), GN_END};
	struct der nc;
	struct leaf_case c = {.subject = "CN=test.localhost",
	                      .nc = &nc,
	                      .purpose = CV_PURPOSE_IKE,
	                      .peer = "test.localhost"};

	name_constraints(NULL, ex_localhost, &nc);
	REJECT(c, "name-constraints");
	c.purpose = CV_PURPOSE_TLS_SERVER;
	c.relax = CV_RELAX_CN_FALLBACK;
	REJECT(c, "name-constraints");
	c.peer = NULL; /* no peer name: the constraints apply all the same */
	REJECT(c, "name-constraints");
	name_constraints(NULL, ex_other, &nc);
	c.peer = "test.localhost";
	ACCEPT(c);

	name_constraints(perm_example, NULL, &nc);
	c.subject = "CN=evil.test";
	REJECT(c, "name-constraints");
	c.subject = "CN=www.example.com";
	c.peer = "www.example.com";
	ACCEPT(c);
	c.subject = "CN=Not A Host Name,O=certval"; /* not host-like: never matched, not checked */
	c.peer = NULL;
	ACCEPT(c);
}

/* Class 5: a wildcard is the set of names it covers (CVE-2025-61727). */
static void
test_nc_wildcard(void)
{
	static const struct gn wild[] = {DNS("*.example.com"), GN_END};
	static const struct gn ex_bar[] = {DNS("bar.example.com"), GN_END};
	static const struct gn ex_deeper[] = {DNS("a.bar.example.com"), GN_END};
	static const struct gn ex_other[] = {DNS("bar.example.org"), GN_END};
	static const struct gn perm_bar[] = {DNS("bar.example.com"), GN_END};
	static const struct gn perm_example[] = {DNS("example.com"), GN_END};
	struct der nc, san;
	struct leaf_case c = {
	    .san = &san, .nc = &nc, .purpose = CV_PURPOSE_TLS_SERVER, .peer = "foo.example.com"};

	general_names(wild, &san);
	name_constraints(NULL, ex_bar, &nc);
	REJECT(c, "name-constraints");
	name_constraints(NULL, ex_deeper, &nc); /* "*" is one label: a.bar is not covered */
	ACCEPT(c);
	name_constraints(NULL, ex_other, &nc);
	ACCEPT(c);
	name_constraints(perm_bar, NULL, &nc);
	REJECT(c, "name-constraints");
	name_constraints(perm_example, NULL, &nc);
	ACCEPT(c);
}

static void
test_nc_malformed_constraints(void)
{
	static const unsigned char net[] = {192, 0, 2, 0, 255, 255, 255, 0};
	static const unsigned char holes[] = {192, 0, 2, 0, 255, 0, 255, 0};
	static const unsigned char short_ip[] = {192, 0, 2, 0};
	static const unsigned char v4[] = {192, 0, 2, 7};
	const struct gn perm_net[] = {IP((const char *)net, 8), GN_END};
	const struct gn perm_holes[] = {IP((const char *)holes, 8), GN_END};
	const struct gn perm_short[] = {IP((const char *)short_ip, 4), GN_END};
	const struct gn names[] = {DNS("www.example.com"), IP((const char *)v4, 4), GN_END};
	static const struct gn wild[] = {DNS("*.example.com"), GN_END};
	static const struct gn dot[] = {DNS(".example.com"), GN_END};
	static const struct gn fine[] = {DNS("example.com"), GN_END};
	static const struct gn none[] = {GN_END};
	static const struct gn bad_uri[] = {URI("https://example.com/"), GN_END};
	static const struct gn bad_mail[] = {EMAIL("@example.com"), GN_END};
	static const char rid_good[] = "\x2a\x03\x04", rid_cont[] = "\x2a\x03\x84";
	static const char upn[] = "\x06\x03\x2a\x03\x04\xa0\x03\x0c\x01x";
	static const char upn_no_value[] = "\x06\x03\x2a\x03\x04";
	const struct gn rid_ok[] = {{CV_GN_TAG_RID, rid_good, 3}, GN_END};
	const struct gn rid_bad[] = {{CV_GN_TAG_RID, rid_cont, 3}, GN_END};
	const struct gn other_ok[] = {{CV_GN_TAG_OTHER, upn, sizeof(upn) - 1}, GN_END};
	const struct gn other_bad[] = {{CV_GN_TAG_OTHER, upn_no_value, sizeof(upn_no_value) - 1},
	                               GN_END};
	struct der nc, san;
	struct leaf_case c = {
	    .san = &san, .nc = &nc, .purpose = CV_PURPOSE_TLS_SERVER, .peer = "www.example.com"};

	general_names(names, &san);
	name_constraints(fine, NULL, &nc);
	ACCEPT(c);
	name_constraints(wild, NULL, &nc);
	REJECT(c, "malformed-name-constraints");
	name_constraints(NULL, dot, &nc);
	REJECT(c, "malformed-name-constraints");
	name_constraints(NULL, NULL, &nc);
	REJECT(c, "malformed-name-constraints");
	name_constraints(none, fine, &nc);
	REJECT(c, "malformed-name-constraints");
	name_constraints(NULL, bad_uri, &nc);
	REJECT(c, "malformed-name-constraints");
	name_constraints(NULL, bad_mail, &nc);
	REJECT(c, "malformed-name-constraints");

	name_constraints(perm_net, NULL, &nc);
	ACCEPT(c);
	name_constraints(perm_holes, NULL, &nc);
	REJECT(c, "malformed-name-constraints");
	name_constraints(perm_short, NULL, &nc);
	REJECT(c, "malformed-name-constraints");

	/* excluded registeredID and otherName bases: well formed, and near misses (fuzz_diff) */
	name_constraints(NULL, rid_ok, &nc);
	ACCEPT(c);
	name_constraints(NULL, rid_bad, &nc);
	REJECT(c, "malformed-name-constraints");
	name_constraints(NULL, other_ok, &nc);
	ACCEPT(c);
	name_constraints(NULL, other_bad, &nc);
	REJECT(c, "malformed-name-constraints");
}

static void
test_nc_ip(void)
{
	static const unsigned char net[] = {192, 0, 2, 0, 255, 255, 255, 0};
	static const unsigned char in[] = {192, 0, 2, 7}, out[] = {198, 51, 100, 7};
	static const unsigned char v6[] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	                                   0,    0,    0,    0,    0, 0, 0, 1};
	static const unsigned char odd[] = {192, 0, 2, 7, 1};
	const struct gn perm[] = {IP((const char *)net, 8), GN_END};
	const struct gn san_in[] = {IP((const char *)in, 4), GN_END};
	const struct gn san_out[] = {IP((const char *)out, 4), GN_END};
	const struct gn san_v6[] = {IP((const char *)v6, 16), GN_END};
	const struct gn san_odd[] = {DNS("a.example.com"), IP((const char *)odd, 5), GN_END};
	struct der nc, san;
	struct leaf_case c = {.san = &san, .nc = &nc, .purpose = CV_PURPOSE_TLS_SERVER};

	name_constraints(perm, NULL, &nc);
	general_names(san_in, &san);
	c.peer = "192.0.2.7";
	ACCEPT(c);
	general_names(san_out, &san);
	c.peer = "198.51.100.7";
	REJECT(c, "name-constraints");
	general_names(san_v6, &san); /* only IPv4 is permitted */
	c.peer = "2001:db8::1";
	REJECT(c, "name-constraints");
	general_names(san_odd, &san); /* refused when read: the parsed certificate is strict */
	c.peer = NULL;
	UNLOADABLE(c);
	name_constraints(NULL, perm, &nc);
	general_names(san_in, &san);
	c.peer = "192.0.2.7";
	REJECT(c, "name-constraints");
}

static void
test_nc_malformed_names(void)
{
	static const struct gn perm[] = {DNS("example.com"), GN_END};
	static const struct gn perm_uri[] = {URI("example.org"), GN_END};
	static const struct gn dot[] = {DNS(".example.com"), GN_END};
	static const struct gn under[] = {DNS("a_b.example.com"), GN_END};
	static const struct gn empty[] = {EMPTY_DNS, GN_END};
	static const struct gn ok[] = {DNS("a.example.com"), GN_END};
	struct der nc, san;
	struct leaf_case c = {.san = &san, .nc = &nc, .purpose = CV_PURPOSE_ANY};

	name_constraints(perm, NULL, &nc);
	general_names(ok, &san);
	ACCEPT(c);
	general_names(dot, &san);
	REJECT(c, "malformed-san");
	general_names(under, &san);
	REJECT(c, "malformed-san");
	general_names(empty, &san);
	UNLOADABLE(c);
	/* a name of a form that is not constrained is not judged here */
	name_constraints(perm_uri, NULL, &nc);
	general_names(under, &san);
	ACCEPT(c);
}

/* otherName, x400Address, ediPartyName, registeredID constraints fail names of their form. */
static void
test_nc_unprocessed_forms(void)
{
	static const char upn[] = "\x06\x0a\x2b\x06\x01\x04\x01\x82\x37\x14\x02\x03"
	                          "\xa0\x07\x0c\x05"
	                          "a@b.c";
	static const char rid[] = "\x2b\x06\x01\x04\x01";
	const struct gn perm_other[] = {{CV_GN_TAG_OTHER, upn, sizeof(upn) - 1}, GN_END};
	const struct gn ex_rid[] = {{CV_GN_TAG_RID, rid, sizeof(rid) - 1}, GN_END};
	const struct gn with_other[] = {
	    DNS("a.example.com"), {CV_GN_TAG_OTHER, upn, sizeof(upn) - 1}, GN_END};
	const struct gn with_rid[] = {
	    DNS("a.example.com"), {CV_GN_TAG_RID, rid, sizeof(rid) - 1}, GN_END};
	const struct gn plain[] = {DNS("a.example.com"), GN_END};
	struct der nc, san;
	struct leaf_case c = {.san = &san, .nc = &nc, .purpose = CV_PURPOSE_ANY};

	name_constraints(perm_other, NULL, &nc);
	general_names(plain, &san);
	ACCEPT(c);
	general_names(with_other, &san);
	REJECT(c, "name-constraints");
	name_constraints(NULL, ex_rid, &nc);
	general_names(with_other, &san);
	ACCEPT(c);
	general_names(with_rid, &san);
	REJECT(c, "name-constraints");
}

static void
test_nc_uri(void)
{
	static const struct gn perm_dom[] = {URI(".example.com"), GN_END};
	static const struct gn ex_host[] = {URI("evil.example.com"), GN_END};
	struct der nc, san;
	struct leaf_case c = {.san = &san, .nc = &nc, .purpose = CV_PURPOSE_ANY};

	name_constraints(perm_dom, NULL, &nc);
	general_names((const struct gn[]){URI("https://www.EXAMPLE.com:8443/x?y"), GN_END}, &san);
	ACCEPT(c);
	general_names((const struct gn[]){URI("https://example.com/"), GN_END}, &san);
	REJECT(c, "name-constraints"); /* ".example.com" is the hosts below it */
	general_names((const struct gn[]){URI("https://wwwexample.com/"), GN_END}, &san);
	REJECT(c, "name-constraints");
	general_names((const struct gn[]){URI("urn:uuid:1234"), GN_END}, &san);
	REJECT(c, "malformed-san");
	general_names((const struct gn[]){URI("https://[2001:db8::1]/"), GN_END}, &san);
	REJECT(c, "malformed-san");

	name_constraints(NULL, ex_host, &nc);
	general_names((const struct gn[]){URI("https://good.example.com/"), GN_END}, &san);
	ACCEPT(c);
	general_names((const struct gn[]){URI("https://user@Evil.example.com:1/"), GN_END}, &san);
	REJECT(c, "name-constraints");
	general_names((const struct gn[]){URI("https://a.evil.example.com/"), GN_END}, &san);
	ACCEPT(c); /* a host constraint is that host only (4.2.1.10) */
}

static void
test_nc_rfc822(void)
{
	static const struct gn perm_host[] = {EMAIL("example.com"), GN_END};
	static const struct gn perm_dom[] = {EMAIL(".example.com"), GN_END};
	static const struct gn perm_box[] = {EMAIL("alice@example.com"), GN_END};
	static const struct gn ex_box[] = {EMAIL("alice@example.com"), GN_END};
	struct der nc, san;
	struct leaf_case c = {.san = &san, .nc = &nc, .purpose = CV_PURPOSE_ANY};

	name_constraints(perm_host, NULL, &nc);
	general_names((const struct gn[]){EMAIL("bob@EXAMPLE.com"), GN_END}, &san);
	ACCEPT(c);
	general_names((const struct gn[]){EMAIL("bob@mail.example.com"), GN_END}, &san);
	REJECT(c, "name-constraints");
	general_names((const struct gn[]){EMAIL("bob"), GN_END}, &san);
	REJECT(c, "malformed-san");

	name_constraints(perm_dom, NULL, &nc);
	general_names((const struct gn[]){EMAIL("bob@mail.example.com"), GN_END}, &san);
	ACCEPT(c);
	general_names((const struct gn[]){EMAIL("bob@example.com"), GN_END}, &san);
	REJECT(c, "name-constraints");

	name_constraints(perm_box, NULL, &nc);
	general_names((const struct gn[]){EMAIL("alice@Example.COM"), GN_END}, &san);
	ACCEPT(c);
	general_names((const struct gn[]){EMAIL("Alice@example.com"), GN_END}, &san);
	REJECT(c, "name-constraints"); /* the local part is case-sensitive (RFC 5280 7.5) */

	name_constraints(NULL, ex_box, &nc);
	general_names((const struct gn[]){EMAIL("bob@example.com"), GN_END}, &san);
	ACCEPT(c);
	general_names((const struct gn[]){EMAIL("ALICE@example.com"), GN_END}, &san);
	REJECT(c, "name-constraints"); /* excluded: folded, so the doubt rejects */

	/* the subject's emailAddress attribute is an rfc822Name (4.2.1.10) */
	name_constraints(perm_host, NULL, &nc);
	c.san = NULL;
	c.subject = "CN=mail user,EMAIL=bob@example.com";
	ACCEPT(c);
	c.subject = "CN=mail user,EMAIL=bob@evil.test";
	REJECT(c, "name-constraints");
}

static void
test_nc_directory_and_ee(void)
{
	static const struct gn perm_dns[] = {DNS("example.com"), GN_END};
	struct der nc, ee;
	struct leaf_case c = {.nc = &nc, .purpose = CV_PURPOSE_ANY};

	/* a directoryName subtree as DER: [4] { Name O=Inside } */
	static const char inside[] = "\x30\x11\x31\x0f\x30\x0d\x06\x03\x55\x04\x0a\x0c\x06Inside";
	const struct gn perm_dir[] = {{CV_GN_TAG_DIR, inside, sizeof(inside) - 1}, GN_END};

	name_constraints(perm_dir, NULL, &nc);
	c.subject = "CN=x,O=Inside";
	ACCEPT(c);
	c.subject = "CN=x,O=Outside";
	REJECT(c, "name-constraints");

	/* nameConstraints in an end-entity certificate */
	name_constraints(perm_dns, NULL, &ee);
	c.nc = NULL;
	c.subject = "CN=x";
	ACCEPT(c);
	c.ee_nc = &ee;
	REJECT(c, "malformed-name-constraints");
}

int
main(void)
{
	if (gnutls_global_init() < 0)
		return 1;
	now = (cv_time)time(NULL);
	test_matcher();
	test_hostname_san();
	test_hostname_ip();
	test_cn_fallback();
	test_cn_consistency();
	test_nc_common_name();
	test_nc_wildcard();
	test_nc_malformed_constraints();
	test_nc_ip();
	test_nc_malformed_names();
	test_nc_unprocessed_forms();
	test_nc_uri();
	test_nc_rfc822();
	test_nc_directory_and_ee();
	gnutls_global_deinit();
	return check_summary();
}
