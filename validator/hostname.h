/*
 * hostname.h: DNS names as certificates present them and the check that a leaf certificate
 * names the peer (RFC 9525, which obsoletes RFC 6125), with the reading of the subjectAltName
 * and of the subject's host-like commonNames that the check and the dNSName constraints
 * (nameconstraints.c) share. Validator-internal.
 *
 * The rules of the peer-name check, per purpose and profile (docs/names.md):
 *  - the peer name is a DNS host name (one trailing dot ignored) or an IPv4/IPv6 literal
 *    ("[...]" accepted around IPv6); anything else is refused;
 *  - an IP literal matches only a subjectAltName iPAddress of the same family and value, never
 *    a dNSName nor a commonName (RFC 9525 6.2);
 *  - a host name matches a subjectAltName dNSName case-insensitively (ASCII only; A-labels are
 *    compared as they are), or a wildcard "*.rest" whose "*" stands for exactly the peer's
 *    left-most label; no partial wildcards ("f*o.", "xn--*"), none below the left-most label,
 *    none over a single-label rest; in the webpki profile none over a public suffix (libpsl);
 *  - every dNSName and iPAddress of the subjectAltName must be well formed (RFC 5280 4.2.1.6:
 *    preferred name syntax, 4 or 16 octets), else the leaf is refused as malformed;
 *  - a leaf with no dNSName and no iPAddress is refused for every purpose but `ike` (RFC 9525
 *    6.3: no commonName fallback) unless the trustpoint allows `allow-cn-fallback`; for `ike`
 *    (and under that relaxation) a host name may then match a host-like commonName;
 *  - in the webpki profile every commonName must be one of the subjectAltName's dNSName
 *    (case-insensitive) or iPAddress (as text) values (CA/B Baseline Requirements 7.1.4.3).
 */
#ifndef CV_HOSTNAME_H
#define CV_HOSTNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert.h"
#include "der.h"
#include "path.h"

/* GeneralName tags (RFC 5280 4.2.1.6; implicit tagging: constructed for [0], [3], [4], [5]). */
#define CV_GN_TAG_OTHER  0xa0
#define CV_GN_TAG_RFC822 0x81
#define CV_GN_TAG_DNS    0x82
#define CV_GN_TAG_X400   0xa3
#define CV_GN_TAG_DIR    0xa4
#define CV_GN_TAG_EDI    0xa5
#define CV_GN_TAG_URI    0x86
#define CV_GN_TAG_IP     0x87
#define CV_GN_TAG_RID    0x88

/* Whether an identifier octet is one of the nine GeneralName forms with its right encoding. */
bool cv_general_name_tag_ok(uint8_t tag);

enum cv_dns_kind {
	CV_DNS_INVALID = 0,
	CV_DNS_HOST,     /* labels of letters, digits and hyphens (RFC 1034 3.5, RFC 1123 2.1) */
	CV_DNS_WILDCARD, /* "*." followed by a CV_DNS_HOST */
};

/*
 * Classifies a DNS name: labels of 1-63 letters, digits and hyphens that neither start nor end
 * with a hyphen, at most 253 octets, no trailing dot. Empty names, leading or doubled dots,
 * underscores, partial wildcards and wildcards past the left-most label are CV_DNS_INVALID.
 */
enum cv_dns_kind cv_dns_classify(const uint8_t *p, size_t len);

/*
 * Whether the presented dNSName pattern names host (a CV_DNS_HOST, no trailing dot): see the
 * matching rules above; webpki adds the public-suffix rule for wildcards.
 */
bool cv_dns_match(const uint8_t *pattern, size_t plen, const char *host, bool webpki);

/*
 * Calls fn for every GeneralName of a GeneralNames encoding (DER). Returns 0 when every entry
 * was read, -1 when it is malformed (empty, bad DER, a tag that is not a GeneralName form); fn
 * may have been called before a -1. Elements point into der.
 */
int cv_general_names_foreach(const uint8_t *der, size_t len,
                             void (*fn)(const struct cv_asn1_elem *gn, void *arg), void *arg);

/*
 * cv_general_names_foreach over cert's parsed subjectAltName (cert.h); the elements point into
 * the certificate's DER and live as long as cert. Returns 1 when cert has none, else as above.
 */
int cv_san_foreach(const struct cv_cert *cert, void (*fn)(const struct cv_asn1_elem *gn, void *arg),
                   void *arg);

/*
 * Calls fn for every commonName of cert's subject that is a DNS name (CV_DNS_HOST or
 * CV_DNS_WILDCARD) in an 8-bit string type: the names a commonName fallback can match, and so
 * the names dNSName constraints apply to in a leaf without a dNSName. 0, or -1 when the
 * subject is malformed.
 */
int cv_cert_foreach_cn_dns(const struct cv_cert *cert,
                           void (*fn)(const uint8_t *name, size_t len, void *arg), void *arg);

enum cv_host_status {
	CV_HOST_MATCH = 0,      /* a subjectAltName entry names the peer */
	CV_HOST_MATCH_CN,       /* a commonName names the peer (purpose ike) */
	CV_HOST_MATCH_CN_RELAX, /* a commonName names the peer under allow-cn-fallback */
	CV_HOST_NO_MATCH,       /* "hostname" */
	CV_HOST_SAN_MISSING,    /* "san-missing": no dNSName/iPAddress, no fallback allowed */
	CV_HOST_MALFORMED_SAN,  /* "malformed-san" */
	CV_HOST_BAD_PEER,       /* "hostname": the peer name is neither host name nor address */
	CV_HOST_CN_NOT_IN_SAN,  /* "cn-not-in-san" (webpki) */
};

struct cv_host_rules {
	enum cv_purpose purpose;
	enum cv_profile profile;
	bool allow_cn_fallback; /* CV_RELAX_CN_FALLBACK */
};

/* Checks that leaf names peer; why gets one sentence naming the peer and the entry at fault. */
enum cv_host_status cv_host_check(const struct cv_cert *leaf, const char *peer,
                                  const struct cv_host_rules *rules, char *why, size_t why_len);

/* The failure detail of a status ("hostname", "san-missing", ...); NULL for the matches. */
const char *cv_host_status_detail(enum cv_host_status status);

/* Whether n bytes of a and b are equal, ASCII letters compared without case. */
bool cv_ascii_ieq(const uint8_t *a, const uint8_t *b, size_t n);

/* Copies at most out_len-1 octets of a name into out, printable ASCII kept, others as '?'. */
void cv_name_printable(const uint8_t *p, size_t len, char *out, size_t out_len);

#endif
