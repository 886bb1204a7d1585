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

struct name {
	uint8_t type;
	struct cv_der value; /* for GN_DIR the whole Name TLV */
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
	ns->v[ns->n].value.p = p;
	ns->v[ns->n].value.len = len;
	ns->n++;
}

static void
add_email(const struct cv_der *value, void *arg)
{
	names_add(arg, GN_RFC822, value->p, value->len);
}

/* One GeneralName TLV into (type, value); directoryName keeps its inner Name TLV. */
static int
general_name(struct cv_der *in, uint8_t *type, struct cv_der *value)
{
	struct cv_der c, inner, whole;
	uint8_t tag, itag;

	if (cv_der_next(in, &tag, &c, NULL) < 0)
		return -1;
	*type = tag;
	*value = c;
	if (tag == GN_DIR) {
		if (cv_der_next(&c, &itag, &inner, &whole) < 0 || itag != 0x30 || c.len != 0)
			return -1;
		*value = whole;
	}
	return 0;
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
rfc822_within(const struct cv_der *n, const struct cv_der *b)
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
uri_within(const struct cv_der *n, const struct cv_der *b)
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
ip_within(const struct cv_der *n, const struct cv_der *b)
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
name_within(const struct name *nm, const struct cv_der *base)
{
	switch (nm->type) {
	case GN_DNS:
		return host_within(nm->value.p, nm->value.len, base->p, base->len, false);
	case GN_RFC822:
		return rfc822_within(&nm->value, base);
	case GN_URI:
		return uri_within(&nm->value, base);
	case GN_IP:
		return ip_within(&nm->value, base);
	case GN_DIR:
		return cv_name_within(nm->value.p, nm->value.len, base->p, base->len);
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
	struct cv_der in, seq;
	uint8_t tag, type;
	int ret;

	subj = cv_cert_subject_der(cert, &sl);
	if (check_dn && cv_name_rdn_count(subj, sl) > 0) {
		names_add(ns, GN_DIR, subj, sl);
		cv_name_foreach_email(subj, sl, add_email, ns);
	}
	ret = cv_cert_extension(cert, "2.5.29.17", san, &crit);
	if (ret < 0)
		return -1;
	if (ret == 0) {
		in.p = san->data;
		in.len = san->size;
		if (cv_der_next(&in, &tag, &seq, NULL) < 0 || tag != 0x30)
			return -1;
		while (seq.len > 0) {
			struct cv_der v;

			if (general_name(&seq, &type, &v) < 0)
				return -1;
			names_add(ns, type, v.p, v.len);
		}
	}
	return ns->overflow ? -1 : 0;
}

/* Checks every name against one GeneralSubtrees list (permitted or excluded). */
static int
check_subtrees(struct cv_der trees, const struct names *ns, bool permitted, char *why,
               size_t why_len)
{
	static const uint8_t types[] = {GN_RFC822, GN_DNS, GN_DIR, GN_URI, GN_IP};
	size_t t, i;

	for (t = 0; t < sizeof(types); t++) {
		for (i = 0; i < ns->n; i++) {
			struct cv_der it = trees, sub, base;
			bool have = false, hit = false;
			uint8_t tag, type;

			if (ns->v[i].type != types[t])
				continue;
			while (it.len > 0) {
				if (cv_der_next(&it, &tag, &sub, NULL) < 0 || tag != 0x30 ||
				    general_name(&sub, &type, &base) < 0) {
					snprintf(why, why_len, "unreadable name constraints");
					return -1;
				}
				if (type != types[t])
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

int
cv_nc_check(const uint8_t *nc_der, size_t nc_len, const struct cv_cert *cert, bool check_dn,
            char *why, size_t why_len)
{
	gnutls_datum_t san = {NULL, 0};
	struct cv_der in = {nc_der, nc_len}, seq, trees;
	struct names ns;
	uint8_t tag;
	int ret = -1;

	memset(&ns, 0, sizeof(ns));
	if (collect_names(cert, check_dn, &san, &ns) < 0) {
		snprintf(why, why_len, "unreadable or too many names");
		goto out;
	}
	if (cv_der_next(&in, &tag, &seq, NULL) < 0 || tag != 0x30) {
		snprintf(why, why_len, "unreadable name constraints");
		goto out;
	}
	while (seq.len > 0) {
		if (cv_der_next(&seq, &tag, &trees, NULL) < 0 || (tag != 0xa0 && tag != 0xa1)) {
			snprintf(why, why_len, "unreadable name constraints");
			goto out;
		}
		if (check_subtrees(trees, &ns, tag == 0xa0, why, why_len) < 0)
			goto out;
	}
	ret = 0;
out:
	gnutls_free(san.data);
	return ret;
}
