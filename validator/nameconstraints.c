/* nameconstraints.c: RFC 5280 4.2.1.10 name constraints of one CA applied to a certificate. */
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "x509int.h"

#define GN_RFC822 0x81
#define GN_DNS    0x82
#define GN_DIR    0xa4
#define GN_URI    0x86
#define GN_IP     0x87

#define NAMES_MAX 64

/* One GeneralName: its tag and contents (for GN_DIR the whole inner Name encoding). */
struct name {
	uint8_t type;
	const uint8_t *p;
	size_t len;
};

struct names {
	struct name v[NAMES_MAX];
	size_t n;
	bool overflow;
};

static void
names_add(struct names *ns, uint8_t type, const uint8_t *p, size_t len)
{
	if (ns->n == NAMES_MAX) {
		ns->overflow = true;
		return;
	}
	ns->v[ns->n].type = type;
	ns->v[ns->n].p = p;
	ns->v[ns->n].len = len;
	ns->n++;
}

static void
add_email(const struct cv_asn1_elem *value, void *arg)
{
	names_add(arg, GN_RFC822, value->val, value->len);
}

/* One GeneralName (context-specific tags only); a directoryName must hold one valid Name. */
static int
general_name(struct cv_asn1 *in, struct name *out)
{
	struct cv_asn1_elem e;

	if (cv_asn1_next(in, &e) < 0 || (e.tag & 0xc0) != CV_ASN1_CONTEXT)
		return -1;
	out->type = e.tag;
	out->p = e.val;
	out->len = e.len;
	if (e.tag == GN_DIR && cv_name_rdn_count(e.val, e.len) < 0)
		return -1;
	return 0;
}

/*
 * GeneralSubtree ::= SEQUENCE { base GeneralName, minimum [0] BaseDistance DEFAULT 0,
 *      maximum [1] BaseDistance OPTIONAL } (minimum and maximum are read, not used)
 */
static int
read_subtree(struct cv_asn1 *trees, struct name *base)
{
	struct cv_asn1 sub;
	struct cv_asn1_elem e;
	bool present;

	if (cv_asn1_enter(trees, CV_ASN1_SEQUENCE, &sub) < 0 || general_name(&sub, base) < 0 ||
	    cv_asn1_optional(&sub, CV_ASN1_CTX(0), &e, &present) < 0 ||
	    cv_asn1_optional(&sub, CV_ASN1_CTX(1), &e, &present) < 0)
		return -1;
	return cv_asn1_finish(&sub);
}

static bool
ascii_ieq(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t x = a[i], y = b[i];
		if (x >= 'A' && x <= 'Z')
			x += 32;
		if (y >= 'A' && y <= 'Z')
			y += 32;
		if (x != y)
			return false;
	}
	return true;
}

/* host is within the DNS subtree base ("example.com" covers "a.example.com"; ".x" suffix only). */
static bool
host_within(const uint8_t *h, size_t hl, const uint8_t *b, size_t bl, bool dot_means_subdomain)
{
	if (bl == 0)
		return true;
	if (b[0] == '.' && dot_means_subdomain)
		return hl > bl && ascii_ieq(h + hl - bl, b, bl);
	if (hl == bl)
		return ascii_ieq(h, b, bl);
	return hl > bl && h[hl - bl - 1] == '.' && ascii_ieq(h + hl - bl, b, bl);
}

static bool
rfc822_within(const struct name *n, const struct name *b)
{
	const uint8_t *at = memchr(n->p, '@', n->len);
	const uint8_t *host;
	size_t hl;

	if (memchr(b->p, '@', b->len) != NULL)
		return n->len == b->len && ascii_ieq(n->p, b->p, n->len);
	if (at == NULL)
		return false;
	host = at + 1;
	hl = n->len - (size_t)(host - n->p);
	if (b->len > 0 && b->p[0] == '.')
		return hl > b->len && ascii_ieq(host + hl - b->len, b->p, b->len);
	return hl == b->len && ascii_ieq(host, b->p, hl);
}

static bool
uri_within(const struct name *n, const struct name *b)
{
	const uint8_t *p = n->p, *end = n->p + n->len, *s, *h, *e;

	s = memchr(p, ':', n->len);
	if (s == NULL || end - s < 3 || s[1] != '/' || s[2] != '/')
		return false;
	h = s + 3;
	for (e = h; e < end && *e != '/' && *e != '?' && *e != '#'; e++)
		if (*e == '@')
			h = e + 1;
	for (s = h; s < e && *s != ':'; s++)
		;
	e = s;
	if (e == h)
		return false;
	if (b->len > 0 && b->p[0] == '.')
		return (size_t)(e - h) > b->len && ascii_ieq(e - b->len, b->p, b->len);
	return (size_t)(e - h) == b->len && ascii_ieq(h, b->p, b->len);
}

static bool
ip_within(const struct name *n, const struct name *b)
{
	size_t i;

	if (b->len != 2 * n->len || (n->len != 4 && n->len != 16))
		return false;
	for (i = 0; i < n->len; i++)
		if ((n->p[i] & b->p[n->len + i]) != (b->p[i] & b->p[n->len + i]))
			return false;
	return true;
}

static bool
name_within(const struct name *nm, const struct name *base)
{
	switch (nm->type) {
	case GN_DNS:
		return host_within(nm->p, nm->len, base->p, base->len, false);
	case GN_RFC822:
		return rfc822_within(nm, base);
	case GN_URI:
		return uri_within(nm, base);
	case GN_IP:
		return ip_within(nm, base);
	case GN_DIR:
		return cv_name_within(nm->p, nm->len, base->p, base->len);
	default:
		return false;
	}
}

static int
collect_names(const struct cv_cert *cert, bool check_dn, gnutls_datum_t *san, struct names *ns)
{
	const uint8_t *subj;
	size_t sl;
	bool crit;
	struct cv_asn1 top, seq;
	struct name v;
	int ret;

	subj = cv_cert_subject_der(cert, &sl);
	if (check_dn) {
		ret = cv_name_rdn_count(subj, sl);
		if (ret < 0)
			return -1;
		if (ret > 0)
			names_add(ns, GN_DIR, subj, sl);
		if (cv_name_foreach_email(subj, sl, add_email, ns) < 0)
			return -1;
	}
	ret = cv_cert_extension(cert, "2.5.29.17", san, &crit);
	if (ret < 0)
		return -1;
	if (ret == 0) {
		cv_asn1_init(&top, san->data, san->size);
		if (cv_asn1_enter(&top, CV_ASN1_SEQUENCE, &seq) < 0 || cv_asn1_finish(&top) < 0)
			return -1;
		while (!cv_asn1_empty(&seq)) {
			if (general_name(&seq, &v) < 0)
				return -1;
			names_add(ns, v.type, v.p, v.len);
		}
	}
	return ns->overflow ? -1 : 0;
}

/* GeneralSubtrees ::= SEQUENCE SIZE (1..MAX) OF GeneralSubtree: every subtree readable. */
static int
subtrees_readable(const struct cv_asn1_elem *trees)
{
	struct cv_asn1 it;
	struct name base;

	cv_asn1_open(trees, &it);
	while (!cv_asn1_empty(&it))
		if (read_subtree(&it, &base) < 0)
			return -1;
	return 0;
}

/* Checks every name against one (readable) GeneralSubtrees list, permitted or excluded. */
static int
check_subtrees(const struct cv_asn1_elem *trees, const struct names *ns, bool permitted, char *why,
               size_t why_len)
{
	static const uint8_t types[] = {GN_RFC822, GN_DNS, GN_DIR, GN_URI, GN_IP};
	size_t t, i;

	for (t = 0; t < sizeof(types); t++) {
		for (i = 0; i < ns->n; i++) {
			struct cv_asn1 it;
			struct name base;
			bool have = false, hit = false;

			if (ns->v[i].type != types[t])
				continue;
			cv_asn1_open(trees, &it);
			while (!cv_asn1_empty(&it) && read_subtree(&it, &base) == 0) {
				if (base.type != types[t])
					continue;
				have = true;
				if (name_within(&ns->v[i], &base))
					hit = true;
			}
			if (permitted ? (have && !hit) : hit) {
				snprintf(why, why_len, "%s name %s the %s subtrees",
				         types[t] == GN_DIR      ? "directory"
				         : types[t] == GN_DNS    ? "DNS"
				         : types[t] == GN_RFC822 ? "email"
				         : types[t] == GN_URI    ? "URI"
				                                 : "IP address",
				         permitted ? "outside" : "inside",
				         permitted ? "permitted" : "excluded");
				return -1;
			}
		}
	}
	return 0;
}

/*
 * NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees OPTIONAL,
 *      excludedSubtrees [1] GeneralSubtrees OPTIONAL }
 */
int
cv_nc_check(const uint8_t *nc_der, size_t nc_len, const struct cv_cert *cert, bool check_dn,
            char *why, size_t why_len)
{
	gnutls_datum_t san = {NULL, 0};
	struct cv_asn1 top, nc;
	struct cv_asn1_elem permitted, excluded;
	bool have_p, have_x;
	struct names ns;
	int ret = -1;

	memset(&ns, 0, sizeof(ns));
	if (collect_names(cert, check_dn, &san, &ns) < 0) {
		snprintf(why, why_len, "unreadable or too many names");
		goto out;
	}
	cv_asn1_init(&top, nc_der, nc_len);
	if (cv_asn1_enter(&top, CV_ASN1_SEQUENCE, &nc) < 0 || cv_asn1_finish(&top) < 0 ||
	    cv_asn1_optional(&nc, CV_ASN1_CTX_CONS(0), &permitted, &have_p) < 0 ||
	    cv_asn1_optional(&nc, CV_ASN1_CTX_CONS(1), &excluded, &have_x) < 0 ||
	    cv_asn1_finish(&nc) < 0 || (have_p && subtrees_readable(&permitted) < 0) ||
	    (have_x && subtrees_readable(&excluded) < 0)) {
		snprintf(why, why_len, "unreadable name constraints");
		goto out;
	}
	if ((have_p && check_subtrees(&permitted, &ns, true, why, why_len) < 0) ||
	    (have_x && check_subtrees(&excluded, &ns, false, why, why_len) < 0))
		goto out;
	ret = 0;
out:
	gnutls_free(san.data);
	return ret;
}
