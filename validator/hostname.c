/*
 * hostname.c: the peer host-name check of a leaf certificate (RFC 9525) and the DNS-name
 * syntax, subjectAltName and commonName readers it shares with the name constraints. The
 * rules are listed in hostname.h.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <libpsl.h>

#include "hostname.h"
#include "name.h"
#include "x509int.h"

#define DNS_NAME_MAX  253 /* RFC 1035 2.3.4, without the trailing dot */
#define DNS_LABEL_MAX 63
#define SHOW_MAX      80 /* a name quoted in a message */

/* --- syntax --- */

bool
cv_general_name_tag_ok(uint8_t tag)
{
	switch (tag) {
	case CV_GN_TAG_OTHER:
	case CV_GN_TAG_RFC822:
	case CV_GN_TAG_DNS:
	case CV_GN_TAG_X400:
	case CV_GN_TAG_DIR:
	case CV_GN_TAG_EDI:
	case CV_GN_TAG_URI:
	case CV_GN_TAG_IP:
	case CV_GN_TAG_RID:
		return true;
	default:
		return false;
	}
}

static bool
ldh(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

/* RFC 1034 3.5 labels with RFC 1123 2.1's leading digits: LDH, no hyphen at either end. */
static bool
host_syntax(const uint8_t *p, size_t len)
{
	size_t i, start = 0;

	if (len == 0 || len > DNS_NAME_MAX)
		return false;
	for (i = 0; i <= len; i++) {
		if (i < len && p[i] != '.') {
			if (!ldh(p[i]))
				return false;
			continue;
		}
		if (i == start || i - start > DNS_LABEL_MAX || p[start] == '-' || p[i - 1] == '-')
			return false;
		start = i + 1;
	}
	return true;
}

enum cv_dns_kind
cv_dns_classify(const uint8_t *p, size_t len)
{
	if (len >= 2 && p[0] == '*' && p[1] == '.')
		return host_syntax(p + 2, len - 2) ? CV_DNS_WILDCARD : CV_DNS_INVALID;
	return host_syntax(p, len) ? CV_DNS_HOST : CV_DNS_INVALID;
}

bool
cv_ascii_ieq(const uint8_t *a, const uint8_t *b, size_t n)
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

void
cv_name_printable(const uint8_t *p, size_t len, char *out, size_t out_len)
{
	size_t i;

	if (out_len == 0)
		return;
	for (i = 0; i < len && i + 1 < out_len; i++)
		out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[i] = '\0';
}

/* --- matching (RFC 9525 6.3) --- */

/* Whether a wildcard's rest (lower-cased copy) is a public suffix; unknown counts as one. */
static bool
public_suffix(const uint8_t *rest, size_t len)
{
	const psl_ctx_t *psl = psl_builtin();
	char buf[DNS_NAME_MAX + 1];
	size_t i;

	if (psl == NULL || len > DNS_NAME_MAX)
		return true;
	for (i = 0; i < len; i++)
		buf[i] = (char)(rest[i] >= 'A' && rest[i] <= 'Z' ? rest[i] + 32 : rest[i]);
	buf[len] = '\0';
	return psl_is_public_suffix(psl, buf) != 0;
}

bool
cv_dns_match(const uint8_t *pattern, size_t plen, const char *host, bool webpki)
{
	const uint8_t *h = (const uint8_t *)host, *rest, *dot;
	size_t hl = strlen(host), rl;

	switch (cv_dns_classify(pattern, plen)) {
	case CV_DNS_HOST:
		return plen == hl && cv_ascii_ieq(pattern, h, hl);
	case CV_DNS_WILDCARD:
		break;
	default:
		return false;
	}
	rest = pattern + 2;
	rl = plen - 2;
	dot = memchr(h, '.', hl);
	if (memchr(rest, '.', rl) == NULL || dot == NULL || dot == h)
		return false; /* no wildcard over a single label; "*" is one whole label */
	if (hl - (size_t)(dot + 1 - h) != rl || !cv_ascii_ieq(dot + 1, rest, rl))
		return false;
	return !(webpki && public_suffix(rest, rl));
}

/* --- readers --- */

int
cv_general_names_foreach(const uint8_t *der, size_t len,
                         void (*fn)(const struct cv_asn1_elem *gn, void *arg), void *arg)
{
	struct cv_asn1 top, seq;
	struct cv_asn1_elem gn;

	cv_asn1_init(&top, der, len);
	if (cv_asn1_enter(&top, CV_ASN1_SEQUENCE, &seq) < 0 || cv_asn1_finish(&top) < 0 ||
	    cv_asn1_empty(&seq))
		return -1; /* GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName */
	while (!cv_asn1_empty(&seq)) {
		if (cv_asn1_next(&seq, &gn) < 0 || !cv_general_name_tag_ok(gn.tag))
			return -1;
		fn(&gn, arg);
	}
	return 0;
}

int
cv_san_foreach(const struct cv_cert *cert, void (*fn)(const struct cv_asn1_elem *gn, void *arg),
               void *arg)
{
	const struct cv_cert_san *san = cv_cert_san(cert);

	if (!san->present)
		return 1;
	return cv_general_names_foreach(san->raw, san->raw_len, fn, arg);
}

struct cn_walk {
	void (*fn)(const uint8_t *name, size_t len, void *arg);
	void *arg;
};

static void
cn_dns_one(const struct cv_asn1_elem *value, void *arg)
{
	const struct cn_walk *w = arg;

	if (!cv_name_text_tag(value->tag))
		return;
	if (cv_dns_classify(value->val, value->len) != CV_DNS_INVALID)
		w->fn(value->val, value->len, w->arg);
}

static const uint8_t oid_cn[] = {0x55, 0x04, 0x03};

int
cv_cert_foreach_cn_dns(const struct cv_cert *cert,
                       void (*fn)(const uint8_t *name, size_t len, void *arg), void *arg)
{
	struct cn_walk w = {fn, arg};
	const uint8_t *subj;
	size_t sl;

	subj = cv_cert_subject_der(cert, &sl);
	return cv_name_foreach_attr(subj, sl, oid_cn, sizeof(oid_cn), cn_dns_one, &w);
}

/* --- the check --- */

/* The peer as the check sees it: a host name without its trailing dot, or an address. */
struct peer {
	char host[DNS_NAME_MAX + 1];
	uint8_t ip[16];
	size_t ip_len; /* 0 for a host name, 4 or 16 */
};

static int
peer_parse(const char *name, struct peer *out)
{
	char buf[DNS_NAME_MAX + 3];
	size_t len = strlen(name);

	memset(out, 0, sizeof(*out));
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, name, len + 1);
	if (len > 1 && buf[len - 1] == '.')
		buf[--len] = '\0'; /* the root label: "a.example." is "a.example" */
	if (buf[0] == '[' && buf[len - 1] == ']') {
		buf[len - 1] = '\0';
		out->ip_len = 16;
		return inet_pton(AF_INET6, buf + 1, out->ip) == 1 ? 0 : -1;
	}
	if (inet_pton(AF_INET, buf, out->ip) == 1) {
		out->ip_len = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, out->ip) == 1) {
		out->ip_len = 16;
		return 0;
	}
	if (cv_dns_classify((const uint8_t *)buf, len) != CV_DNS_HOST)
		return -1;
	memcpy(out->host, buf, len + 1);
	return 0;
}

/* One pass over the subjectAltName: well-formedness, counts and the match. */
struct san_scan {
	const struct peer *peer;
	bool webpki;
	size_t n_dns, n_ip;
	bool matched;
	bool malformed;
	char bad[SHOW_MAX]; /* the first malformed entry, printable */
};

static void
san_scan_one(const struct cv_asn1_elem *gn, void *arg)
{
	struct san_scan *s = arg;

	if (gn->tag == CV_GN_TAG_DNS) {
		s->n_dns++;
		if (cv_dns_classify(gn->val, gn->len) == CV_DNS_INVALID && !s->malformed) {
			s->malformed = true;
			cv_name_printable(gn->val, gn->len, s->bad, sizeof(s->bad));
		}
		if (s->peer->ip_len == 0 &&
		    cv_dns_match(gn->val, gn->len, s->peer->host, s->webpki))
			s->matched = true;
	} else if (gn->tag == CV_GN_TAG_IP) {
		s->n_ip++;
		if (gn->len != 4 && gn->len != 16 && !s->malformed) {
			s->malformed = true;
			snprintf(s->bad, sizeof(s->bad), "an iPAddress of %zu octets", gn->len);
		}
		if (s->peer->ip_len == gn->len && memcmp(gn->val, s->peer->ip, gn->len) == 0)
			s->matched = true;
	}
}

/* The commonName fallback: a host-like commonName that names the peer. */
struct cn_match {
	const struct peer *peer;
	bool webpki;
	bool matched;
};

static void
cn_match_one(const uint8_t *name, size_t len, void *arg)
{
	struct cn_match *m = arg;

	if (m->peer->ip_len == 0 && cv_dns_match(name, len, m->peer->host, m->webpki))
		m->matched = true;
}

/* webpki: every commonName is one of the subjectAltName values (BR 7.1.4.3). */
struct cn_in_san {
	const struct cv_cert *leaf;
	const struct cv_asn1_elem *cn;
	bool found;
	bool all_found;
	char missing[SHOW_MAX];
};

static void
cn_in_san_entry(const struct cv_asn1_elem *gn, void *arg)
{
	struct cn_in_san *c = arg;
	char text[INET6_ADDRSTRLEN];

	if (gn->tag == CV_GN_TAG_DNS && gn->len == c->cn->len &&
	    cv_ascii_ieq(gn->val, c->cn->val, gn->len))
		c->found = true;
	if (gn->tag == CV_GN_TAG_IP && (gn->len == 4 || gn->len == 16) &&
	    inet_ntop(gn->len == 4 ? AF_INET : AF_INET6, gn->val, text, sizeof(text)) != NULL &&
	    strlen(text) == c->cn->len && memcmp(text, c->cn->val, c->cn->len) == 0)
		c->found = true;
}

static void
cn_in_san_one(const struct cv_asn1_elem *value, void *arg)
{
	struct cn_in_san *c = arg;

	c->cn = value;
	c->found = false;
	if (cv_san_foreach(c->leaf, cn_in_san_entry, c) == 0 && c->found)
		return;
	if (c->all_found)
		cv_name_printable(value->val, value->len, c->missing, sizeof(c->missing));
	c->all_found = false;
}

static enum cv_host_status
check_cn_in_san(const struct cv_cert *leaf, char *why, size_t why_len)
{
	struct cn_in_san c;
	const uint8_t *subj;
	size_t sl;

	memset(&c, 0, sizeof(c));
	c.leaf = leaf;
	c.all_found = true;
	subj = cv_cert_subject_der(leaf, &sl);
	if (cv_name_foreach_attr(subj, sl, oid_cn, sizeof(oid_cn), cn_in_san_one, &c) < 0) {
		snprintf(why, why_len, "unreadable subject name");
		return CV_HOST_CN_NOT_IN_SAN;
	}
	if (c.all_found)
		return CV_HOST_MATCH;
	snprintf(why, why_len,
	         "commonName %s is not one of the subjectAltName values (webpki profile, "
	         "CA/B BR 7.1.4.3)",
	         c.missing);
	return CV_HOST_CN_NOT_IN_SAN;
}

/* No dNSName or iPAddress: the commonName fallback when the purpose or a relaxation allows. */
static enum cv_host_status
check_cn_fallback(const struct cv_cert *leaf, const char *peer_name, const struct peer *peer,
                  const struct cv_host_rules *rules, char *why, size_t why_len)
{
	struct cn_match m = {peer, rules->profile == CV_PROFILE_WEBPKI, false};

	if (rules->purpose != CV_PURPOSE_IKE && !rules->allow_cn_fallback) {
		snprintf(why, why_len,
		         "certificate has no subjectAltName dNSName or iPAddress to match %s "
		         "(RFC 9525 6.3: no commonName fallback unless allow-cn-fallback)",
		         peer_name);
		return CV_HOST_SAN_MISSING;
	}
	if (cv_cert_foreach_cn_dns(leaf, cn_match_one, &m) < 0) {
		snprintf(why, why_len, "unreadable subject name");
		return CV_HOST_NO_MATCH;
	}
	if (!m.matched) {
		snprintf(why, why_len,
		         "certificate does not name %s (no subjectAltName; commonName does not "
		         "match)",
		         peer_name);
		return CV_HOST_NO_MATCH;
	}
	return rules->purpose == CV_PURPOSE_IKE ? CV_HOST_MATCH_CN : CV_HOST_MATCH_CN_RELAX;
}

enum cv_host_status
cv_host_check(const struct cv_cert *leaf, const char *peer_name, const struct cv_host_rules *rules,
              char *why, size_t why_len)
{
	struct peer peer;
	struct san_scan s;
	int ret;

	if (peer_parse(peer_name, &peer) < 0) {
		snprintf(why, why_len,
		         "peer name %.*s is neither a DNS host name nor an IP address", SHOW_MAX,
		         peer_name);
		return CV_HOST_BAD_PEER;
	}
	memset(&s, 0, sizeof(s));
	s.peer = &peer;
	s.webpki = rules->profile == CV_PROFILE_WEBPKI;
	ret = cv_san_foreach(leaf, san_scan_one, &s);
	if (ret < 0) {
		snprintf(why, why_len, "unreadable or malformed subjectAltName");
		return CV_HOST_MALFORMED_SAN;
	}
	if (s.malformed) {
		snprintf(why, why_len, "malformed subjectAltName entry %s (RFC 5280 4.2.1.6)",
		         s.bad);
		return CV_HOST_MALFORMED_SAN;
	}
	if (s.n_dns + s.n_ip == 0)
		return check_cn_fallback(leaf, peer_name, &peer, rules, why, why_len);
	if (!s.matched) {
		snprintf(why, why_len,
		         "certificate does not name %s (no subjectAltName %s matches)", peer_name,
		         peer.ip_len != 0 ? "iPAddress" : "dNSName");
		return CV_HOST_NO_MATCH;
	}
	if (s.webpki)
		return check_cn_in_san(leaf, why, why_len);
	return CV_HOST_MATCH;
}

const char *
cv_host_status_detail(enum cv_host_status status)
{
	switch (status) {
	case CV_HOST_SAN_MISSING:
		return "san-missing";
	case CV_HOST_MALFORMED_SAN:
		return "malformed-san";
	case CV_HOST_CN_NOT_IN_SAN:
		return "cn-not-in-san";
	case CV_HOST_NO_MATCH:
	case CV_HOST_BAD_PEER:
		return "hostname";
	default:
		return NULL;
	}
}
