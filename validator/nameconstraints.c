/*
 * nameconstraints.c: RFC 5280 4.2.1.10 name constraints of one CA applied to a certificate
 * below it (6.1.3 (b), (c)). The rules certval adds, all failing closed (docs/names.md):
 *  - the constraints themselves must be well formed, else "malformed-name-constraints":
 *    permitted or excluded present, neither empty; minimum 0 and no maximum; a dNSName base a
 *    host name (no wildcard, no leading period: RFC 5280 defines dNSName constraints as host
 *    names, ".example.com" is the rfc822Name/URI form); an rfc822Name base a mailbox, a host
 *    or ".domain"; a URI base a host or ".domain"; an iPAddress base address and mask of 8
 *    (IPv4) or 32 (IPv6) octets whose mask is a contiguous prefix; an empty base of the
 *    dNSName, rfc822Name or URI form covers the whole form;
 *  - a name of a constrained form must be well formed, else "malformed-san": dNSName in host
 *    syntax (a leaf's "*." wildcard allowed), rfc822Name a mailbox local@host, a URI with a
 *    DNS host in its authority (RFC 5280 4.2.1.10), an iPAddress of 4 or 16 octets;
 *  - a wildcard dNSName "*.rest" stands for every name one label below rest: it is within a
 *    permitted subtree when rest is, and inside an excluded one when rest is or when the
 *    excluded base is one label below rest (CVE-2025-61727);
 *  - the subject's emailAddress attributes are rfc822Names; in a leaf without a dNSName, its
 *    host-like commonNames (hostname.h) are dNSNames, as OpenSSL and Chromium apply them;
 *  - a constraint of a form certval does not process (otherName, x400Address, ediPartyName,
 *    registeredID) fails every certificate that carries a name of that form (4.2.1.10: process
 *    or reject).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "hostname.h"
#include "x509int.h"

#define NAMES_MAX 256
#define SHOW_MAX  80

/* One name of the certificate: its GeneralName tag and contents (GN_DIR: the whole Name). */
struct name {
	uint8_t type;
	const uint8_t *p;
	size_t len;
	const char *origin; /* "subjectAltName", "subject emailAddress", "subject commonName" */
};

struct names {
	struct name v[NAMES_MAX];
	size_t n;
	bool overflow;
	bool have_dns_san;
};

static void
names_add(struct names *ns, uint8_t type, const uint8_t *p, size_t len, const char *origin)
{
	if (ns->n == NAMES_MAX) {
		ns->overflow = true;
		return;
	}
	ns->v[ns->n].type = type;
	ns->v[ns->n].p = p;
	ns->v[ns->n].len = len;
	ns->v[ns->n].origin = origin;
	ns->n++;
}

static void
add_email(const struct cv_asn1_elem *value, void *arg)
{
	names_add(arg, CV_GN_TAG_RFC822, value->val, value->len, "subject emailAddress");
}

static void
add_san(const struct cv_asn1_elem *gn, void *arg)
{
	struct names *ns = arg;

	if (gn->tag == CV_GN_TAG_DNS)
		ns->have_dns_san = true;
	names_add(ns, gn->tag, gn->val, gn->len, "subjectAltName");
}

static void
add_cn(const uint8_t *name, size_t len, void *arg)
{
	names_add(arg, CV_GN_TAG_DNS, name, len, "subject commonName");
}

/* Fills ns with cert's names; they point into the certificate's DER (its subject and its
 * parsed subjectAltName, cert.h). */
static int
collect_names(const struct cv_cert *cert, bool leaf, struct names *ns)
{
	const struct cv_cert_san *san = cv_cert_san(cert);
	const uint8_t *subj;
	size_t sl, i;
	int ret;

	subj = cv_cert_subject_der(cert, &sl);
	ret = cv_name_rdn_count(subj, sl);
	if (ret < 0)
		return -1;
	if (ret > 0)
		names_add(ns, CV_GN_TAG_DIR, subj, sl, "subject");
	if (cv_name_foreach_email(subj, sl, add_email, ns) < 0)
		return -1;
	if (san->present && cv_general_names_foreach(san->raw, san->raw_len, add_san, ns) < 0)
		return -1;
	for (i = 0; i < ns->n; i++)
		if (ns->v[i].type == CV_GN_TAG_DIR && ns->v[i].p != subj &&
		    cv_name_rdn_count(ns->v[i].p, ns->v[i].len) < 0)
			return -1;
	if (leaf && !ns->have_dns_san && cv_cert_foreach_cn_dns(cert, add_cn, ns) < 0)
		return -1;
	return ns->overflow ? -1 : 0;
}

/* --- syntax of names and of constraint bases --- */

static bool
is_host(const uint8_t *p, size_t len)
{
	return cv_dns_classify(p, len) == CV_DNS_HOST;
}

/* A mailbox local@host: the host after the last '@' (a quoted local part may hold one). */
static const uint8_t *
mailbox_host(const uint8_t *p, size_t len)
{
	const uint8_t *at = NULL;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] == '@')
			at = p + i;
	if (at == NULL || at == p || !is_host(at + 1, len - (size_t)(at + 1 - p)))
		return NULL;
	return at + 1;
}

/* The host of a URI's authority (RFC 3986 3.2.2), without userinfo and port; -1 without one. */
static int
uri_host(const uint8_t *p, size_t len, const uint8_t **host, size_t *host_len)
{
	const uint8_t *end = p + len, *s, *h, *e;

	s = memchr(p, ':', len);
	if (s == NULL || s == p || end - s < 3 || s[1] != '/' || s[2] != '/')
		return -1;
	h = s + 3;
	for (e = h; e < end && *e != '/' && *e != '?' && *e != '#'; e++)
		if (*e == '@')
			h = e + 1;
	for (s = h; s < e && *s != ':'; s++)
		;
	*host = h;
	*host_len = (size_t)(s - h);
	return is_host(h, *host_len) ? 0 : -1; /* IP literals and empty hosts are not DNS hosts */
}

static bool
name_well_formed(const struct name *n)
{
	const uint8_t *h;
	size_t hl;

	switch (n->type) {
	case CV_GN_TAG_DNS:
		return cv_dns_classify(n->p, n->len) != CV_DNS_INVALID;
	case CV_GN_TAG_RFC822:
		return mailbox_host(n->p, n->len) != NULL;
	case CV_GN_TAG_URI:
		return uri_host(n->p, n->len, &h, &hl) == 0;
	case CV_GN_TAG_IP:
		return n->len == 4 || n->len == 16;
	default:
		return true; /* directoryName checked when read; other forms not processed */
	}
}

/* A host, or ".domain" when leading_dot (rfc822Name and URI bases), or empty. */
static bool
domain_base_ok(const uint8_t *p, size_t len, bool leading_dot)
{
	if (len == 0)
		return true;
	if (leading_dot && p[0] == '.')
		return is_host(p + 1, len - 1);
	return is_host(p, len);
}

/* Address and mask, 4+4 or 16+16 octets, the mask a contiguous prefix (4.2.1.10). */
static bool
ip_base_ok(const uint8_t *p, size_t len)
{
	size_t half = len / 2, i;
	bool ended = false;

	if (len != 8 && len != 32)
		return false;
	for (i = 0; i < half; i++) {
		uint8_t inv = (uint8_t)~p[half + i];

		if ((ended && inv != 0xff) || (inv & (uint8_t)(inv + 1)) != 0)
			return false; /* a one after a zero, or a mask octet not of the
			                 form 1..10..0 */
		if (inv != 0)
			ended = true;
	}
	return true;
}

static bool
base_well_formed(const struct name *b)
{
	switch (b->type) {
	case CV_GN_TAG_DNS:
		return domain_base_ok(b->p, b->len, false);
	case CV_GN_TAG_RFC822:
		if (memchr(b->p, '@', b->len) != NULL)
			return mailbox_host(b->p, b->len) != NULL;
		return domain_base_ok(b->p, b->len, true);
	case CV_GN_TAG_URI:
		return domain_base_ok(b->p, b->len, true);
	case CV_GN_TAG_IP:
		return ip_base_ok(b->p, b->len);
	case CV_GN_TAG_DIR:
		return cv_name_rdn_count(b->p, b->len) >= 0;
	case CV_GN_TAG_OTHER:
		return cv_other_name_ok(b->p, b->len);
	case CV_GN_TAG_RID: /* found by fuzz_diff: an OID whose last octet continues */
		return cv_asn1_oid_ok(b->p, b->len);
	default:
		return true;
	}
}

/* --- matching --- */

/* host is base or below it ("example.com" covers "a.example.com", not "badexample.com"). */
static bool
host_within(const uint8_t *h, size_t hl, const uint8_t *b, size_t bl)
{
	if (bl == 0)
		return true;
	if (hl == bl)
		return cv_ascii_ieq(h, b, bl);
	return hl > bl && h[hl - bl - 1] == '.' && cv_ascii_ieq(h + hl - bl, b, bl);
}

/* host strictly below ".domain", or (no leading period) equal to base; "" covers all. */
static bool
domain_within(const uint8_t *h, size_t hl, const uint8_t *b, size_t bl)
{
	if (bl == 0)
		return true;
	if (b[0] == '.')
		return hl > bl && cv_ascii_ieq(h + hl - bl, b, bl);
	return hl == bl && cv_ascii_ieq(h, b, bl);
}

/*
 * A dNSName against a base. For "*.rest" the name is the set of one-label-below-rest names:
 * for a permitted subtree all of them must be within (rest within base), for an excluded one
 * any of them (also base exactly one label below rest).
 */
static bool
dns_within(const struct name *n, const struct name *b, bool excluded)
{
	const uint8_t *rest, *dot;
	size_t rl;

	if (cv_dns_classify(n->p, n->len) != CV_DNS_WILDCARD)
		return host_within(n->p, n->len, b->p, b->len);
	rest = n->p + 2;
	rl = n->len - 2;
	if (host_within(rest, rl, b->p, b->len))
		return true;
	if (!excluded || b->len == 0)
		return false;
	dot = memchr(b->p, '.', b->len);
	return dot != NULL && (size_t)(b->p + b->len - (dot + 1)) == rl &&
	       cv_ascii_ieq(dot + 1, rest, rl);
}

/*
 * rfc822Name: a base with '@' is one mailbox (local part exact for permitted, case-folded for
 * excluded, so both fail closed; RFC 5280 7.5), a host all mailboxes there, ".domain" all
 * mailboxes at hosts below it.
 */
static bool
rfc822_within(const struct name *n, const struct name *b, bool excluded)
{
	const uint8_t *host = mailbox_host(n->p, n->len), *bhost;
	size_t hl = n->len - (size_t)(host - n->p), local = (size_t)(host - n->p);

	if (memchr(b->p, '@', b->len) == NULL)
		return domain_within(host, hl, b->p, b->len);
	bhost = mailbox_host(b->p, b->len);
	if ((size_t)(bhost - b->p) != local)
		return false;
	if (excluded ? !cv_ascii_ieq(n->p, b->p, local) : memcmp(n->p, b->p, local) != 0)
		return false;
	return hl == b->len - local && cv_ascii_ieq(host, bhost, hl);
}

static bool
uri_within(const struct name *n, const struct name *b)
{
	const uint8_t *h;
	size_t hl;

	return uri_host(n->p, n->len, &h, &hl) == 0 && domain_within(h, hl, b->p, b->len);
}

static bool
ip_within(const struct name *n, const struct name *b)
{
	size_t i;

	if (b->len != 2 * n->len)
		return false;
	for (i = 0; i < n->len; i++)
		if ((n->p[i] & b->p[n->len + i]) != (b->p[i] & b->p[n->len + i]))
			return false;
	return true;
}

/* Whether nm is within base (of the same form); only called on well-formed names. */
static bool
name_within(const struct name *nm, const struct name *base, bool excluded)
{
	switch (nm->type) {
	case CV_GN_TAG_DNS:
		return dns_within(nm, base, excluded);
	case CV_GN_TAG_RFC822:
		return rfc822_within(nm, base, excluded);
	case CV_GN_TAG_URI:
		return uri_within(nm, base);
	case CV_GN_TAG_IP:
		return ip_within(nm, base);
	case CV_GN_TAG_DIR:
		return cv_name_within(nm->p, nm->len, base->p, base->len);
	default:
		return false;
	}
}

static bool
processed_form(uint8_t type)
{
	return type == CV_GN_TAG_DNS || type == CV_GN_TAG_RFC822 || type == CV_GN_TAG_URI ||
	       type == CV_GN_TAG_IP || type == CV_GN_TAG_DIR;
}

/* --- messages --- */

static const char *
form_name(uint8_t type)
{
	switch (type) {
	case CV_GN_TAG_DNS:
		return "dNSName";
	case CV_GN_TAG_RFC822:
		return "rfc822Name";
	case CV_GN_TAG_URI:
		return "URI";
	case CV_GN_TAG_IP:
		return "iPAddress";
	case CV_GN_TAG_DIR:
		return "directoryName";
	case CV_GN_TAG_OTHER:
		return "otherName";
	case CV_GN_TAG_X400:
		return "x400Address";
	case CV_GN_TAG_EDI:
		return "ediPartyName";
	default:
		return "registeredID";
	}
}

/* Text of a name or base: strings as printable ASCII, addresses, Names as RFC 4514. */
static void
show(const struct name *n, char *out, size_t out_len)
{
	char a[INET6_ADDRSTRLEN];
	gnutls_datum_t in, txt = {NULL, 0};
	size_t half = n->len / 2, i;
	unsigned bits = 0;

	switch (n->type) {
	case CV_GN_TAG_IP:
		if ((n->len == 4 || n->len == 16) &&
		    inet_ntop(n->len == 4 ? AF_INET : AF_INET6, n->p, a, sizeof(a)) != NULL) {
			snprintf(out, out_len, "%s", a);
			return;
		}
		if ((n->len == 8 || n->len == 32) &&
		    inet_ntop(n->len == 8 ? AF_INET : AF_INET6, n->p, a, sizeof(a)) != NULL) {
			for (i = 0; i < half; i++)
				bits += (unsigned)__builtin_popcount(n->p[half + i]);
			snprintf(out, out_len, "%s/%u", a, bits);
			return;
		}
		snprintf(out, out_len, "(%zu octets)", n->len);
		return;
	case CV_GN_TAG_DIR:
		in.data = (unsigned char *)(uintptr_t)n->p;
		in.size = (unsigned)n->len;
		if (gnutls_x509_rdn_get2(&in, &txt, 0) >= 0) {
			cv_name_printable(txt.data, txt.size, out, out_len);
			gnutls_free(txt.data);
			return;
		}
		snprintf(out, out_len, "(unreadable Name)");
		return;
	case CV_GN_TAG_DNS:
	case CV_GN_TAG_RFC822:
	case CV_GN_TAG_URI:
		if (n->len == 0) {
			snprintf(out, out_len, "\"\"");
			return;
		}
		cv_name_printable(n->p, n->len, out, out_len);
		return;
	default:
		snprintf(out, out_len, "(%s)", form_name(n->type));
	}
}

/* --- the constraints --- */

/*
 * GeneralSubtree ::= SEQUENCE { base GeneralName, minimum [0] BaseDistance DEFAULT 0,
 *      maximum [1] BaseDistance OPTIONAL }; RFC 5280: minimum MUST be 0, maximum absent.
 */
static int
read_subtree(struct cv_asn1 *trees, struct name *base)
{
	struct cv_asn1 sub;
	struct cv_asn1_elem e;
	bool present;
	int32_t min = 0;

	if (cv_asn1_enter(trees, CV_ASN1_SEQUENCE, &sub) < 0 || cv_asn1_next(&sub, &e) < 0 ||
	    !cv_general_name_tag_ok(e.tag))
		return -1;
	base->type = e.tag;
	base->p = e.val;
	base->len = e.len;
	base->origin = NULL;
	if (cv_asn1_optional(&sub, CV_ASN1_CTX(0), &e, &present) < 0 ||
	    (present && (cv_asn1_small_int(&e, &min) < 0 || min != 0)) ||
	    cv_asn1_optional(&sub, CV_ASN1_CTX(1), &e, &present) < 0 || present)
		return -1;
	return cv_asn1_finish(&sub);
}

/* GeneralSubtrees ::= SEQUENCE SIZE (1..MAX) OF GeneralSubtree, each base well formed. */
static int
subtrees_ok(const struct cv_asn1_elem *trees, char *why, size_t why_len)
{
	struct cv_asn1 it;
	struct name base;
	char b[SHOW_MAX];

	cv_asn1_open(trees, &it);
	if (cv_asn1_empty(&it)) {
		snprintf(why, why_len, "empty subtrees");
		return -1;
	}
	while (!cv_asn1_empty(&it)) {
		if (read_subtree(&it, &base) < 0) {
			snprintf(why, why_len, "unreadable subtree (or minimum/maximum set)");
			return -1;
		}
		if (!base_well_formed(&base)) {
			show(&base, b, sizeof(b));
			snprintf(why, why_len, "malformed %s constraint %s", form_name(base.type),
			         b);
			return -1;
		}
	}
	return 0;
}

/* One name against one GeneralSubtrees list (permitted or excluded, already validated). */
static int
check_name(const struct cv_asn1_elem *trees, const struct name *nm, bool permitted,
           enum cv_nc_status *status, char *why, size_t why_len)
{
	struct cv_asn1 it;
	struct name base, hit_base;
	bool have = false, hit = false;
	char n[SHOW_MAX], b[SHOW_MAX];

	cv_asn1_open(trees, &it);
	while (!cv_asn1_empty(&it) && read_subtree(&it, &base) == 0) {
		if (base.type != nm->type)
			continue;
		have = true;
		if (!processed_form(nm->type) || !name_well_formed(nm))
			break;
		if (!hit && name_within(nm, &base, !permitted)) {
			hit = true;
			hit_base = base;
		}
	}
	if (!have)
		return 0;
	show(nm, n, sizeof(n));
	if (!processed_form(nm->type)) {
		*status = CV_NC_VIOLATED;
		snprintf(why, why_len,
		         "%s %s under %s constraints, a form certval does not process", nm->origin,
		         form_name(nm->type), form_name(nm->type));
		return -1;
	}
	if (!name_well_formed(nm)) {
		*status = CV_NC_BAD_NAME;
		snprintf(why, why_len, "malformed %s %s %s under %s constraints", nm->origin,
		         form_name(nm->type), n, form_name(nm->type));
		return -1;
	}
	if (permitted == hit)
		return 0;
	*status = CV_NC_VIOLATED;
	if (permitted)
		snprintf(why, why_len, "%s %s %s is outside the permitted %s subtrees", nm->origin,
		         form_name(nm->type), n, form_name(nm->type));
	else {
		show(&hit_base, b, sizeof(b));
		snprintf(why, why_len, "%s %s %s is inside the excluded subtree %s", nm->origin,
		         form_name(nm->type), n, b);
	}
	return -1;
}

/*
 * NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees OPTIONAL,
 *      excludedSubtrees [1] GeneralSubtrees OPTIONAL }; one of them present (4.2.1.10).
 */
static int
read_constraints(const uint8_t *der, size_t len, struct cv_asn1_elem *permitted, bool *have_p,
                 struct cv_asn1_elem *excluded, bool *have_x, char *why, size_t why_len)
{
	struct cv_asn1 top, nc;

	cv_asn1_init(&top, der, len);
	if (cv_asn1_enter(&top, CV_ASN1_SEQUENCE, &nc) < 0 || cv_asn1_finish(&top) < 0 ||
	    cv_asn1_optional(&nc, CV_ASN1_CTX_CONS(0), permitted, have_p) < 0 ||
	    cv_asn1_optional(&nc, CV_ASN1_CTX_CONS(1), excluded, have_x) < 0 ||
	    cv_asn1_finish(&nc) < 0) {
		snprintf(why, why_len, "unreadable name constraints");
		return -1;
	}
	if (!*have_p && !*have_x) {
		snprintf(why, why_len, "neither permitted nor excluded subtrees");
		return -1;
	}
	if ((*have_p && subtrees_ok(permitted, why, why_len) < 0) ||
	    (*have_x && subtrees_ok(excluded, why, why_len) < 0))
		return -1;
	return 0;
}

int
cv_nc_validate(const uint8_t *nc_der, size_t nc_len, char *why, size_t why_len)
{
	struct cv_asn1_elem permitted, excluded;
	bool have_p, have_x;

	return read_constraints(nc_der, nc_len, &permitted, &have_p, &excluded, &have_x, why,
	                        why_len);
}

enum cv_nc_status
cv_nc_check(const uint8_t *nc_der, size_t nc_len, const struct cv_cert *cert, bool leaf, char *why,
            size_t why_len)
{
	struct cv_asn1_elem permitted, excluded;
	bool have_p, have_x;
	enum cv_nc_status status = CV_NC_OK;
	struct names ns;
	size_t i;

	if (read_constraints(nc_der, nc_len, &permitted, &have_p, &excluded, &have_x, why,
	                     why_len) < 0)
		return CV_NC_MALFORMED;
	memset(&ns, 0, sizeof(ns));
	if (collect_names(cert, leaf, &ns) < 0) {
		snprintf(why, why_len, "unreadable subject or subjectAltName, or too many names");
		return CV_NC_BAD_NAME;
	}
	for (i = 0; i < ns.n; i++)
		if ((have_p && check_name(&permitted, &ns.v[i], true, &status, why, why_len) < 0) ||
		    (have_x && check_name(&excluded, &ns.v[i], false, &status, why, why_len) < 0))
			break;
	return status;
}
