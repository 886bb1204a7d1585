/*
 * cert_ext.c: the parsed certificate. Reads the TBSCertificate once, with the project's DER
 * reader, when a certificate is loaded, and decodes every extension the engine uses
 * (RFC 5280 4.2) strictly: a duplicate extension, a malformed or empty value, trailing bytes
 * or an element out of its bounds make the whole certificate unreadable, with an error naming
 * the extension. Modelled on rpki-client's x509.c (each extension decoded once) and
 * BoringSSL's pki/parsed_certificate.h. The accessors at the end are declared in cert.h.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "cert_ext.h"
#include "der.h"
#include "name.h"

/* One extension decoder: the extnValue contents in, 0 or -1 (malformed) out. */
typedef int (*ext_decode_fn)(const uint8_t *v, size_t len, struct cv_cert_parsed *p);

struct ext_kind {
	const char *oid;  /* dotted text */
	const char *name; /* for errors */
	ext_decode_fn decode;
	size_t present_off, critical_off; /* of the decoded struct's present and critical */
};

/*
 * The OIDs' text of one certificate, in blocks that never move once made, so that the parsed
 * form points into them; a leaf's OIDs fit in one block. Freed by cv_cert_parsed_clear.
 */
#define OID_BLOCK_TEXT 448 /* bytes of text per block: at least CV_OID_TEXT_MAX */

struct cv_oid_block {
	struct cv_oid_block *next;
	size_t used;
	char text[OID_BLOCK_TEXT];
};

/* The NUL-terminated text (n bytes with its NUL, n <= CV_OID_TEXT_MAX) kept in p's blocks;
 * NULL when out of memory. */
static const char *
oid_keep(struct cv_cert_parsed *p, const char *text, size_t n)
{
	struct cv_oid_block *b = p->oid_blocks;

	if (b == NULL || OID_BLOCK_TEXT - b->used < n) {
		if ((b = malloc(sizeof(*b))) == NULL)
			return NULL;
		b->next = p->oid_blocks;
		b->used = 0;
		p->oid_blocks = b;
	}
	memcpy(b->text + b->used, text, n);
	b->used += n;
	return b->text + b->used - n;
}

/* Reads an OID element into dotted text kept with p (*out). */
static int
oid_text(struct cv_asn1 *d, struct cv_cert_parsed *p, const char **out)
{
	char text[CV_OID_TEXT_MAX];
	struct cv_asn1_elem e;

	if (cv_asn1_expect(d, CV_ASN1_OID, &e) < 0 || e.len == 0 ||
	    cv_asn1_oid_text(e.val, e.len, text, sizeof(text)) < 0 ||
	    (*out = oid_keep(p, text, strlen(text) + 1)) == NULL)
		return -1;
	return 0;
}

/* BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE,
 *      pathLenConstraint INTEGER (0..MAX) OPTIONAL } */
static int
dec_basic_constraints(const uint8_t *v, size_t len, struct cv_cert_parsed *p)
{
	struct cv_asn1_elem seq, e;
	struct cv_asn1 d;
	bool present;
	int32_t n;

	p->bc.path_len = -1;
	if (cv_asn1_whole(v, len, CV_ASN1_SEQUENCE, &seq) < 0)
		return -1;
	cv_asn1_open(&seq, &d);
	if (cv_asn1_optional(&d, CV_ASN1_BOOLEAN, &e, &present) < 0 ||
	    (present && cv_asn1_bool(&e, &p->bc.ca) < 0))
		return -1;
	if (cv_asn1_optional(&d, CV_ASN1_INTEGER, &e, &present) < 0 ||
	    (present && cv_asn1_small_int(&e, &n) < 0))
		return -1;
	/* pathLenConstraint INTEGER (0..MAX), and only with cA TRUE (RFC 5280 4.2.1.9): a
	 * negative one would read as no constraint at all */
	if (present && (n < 0 || !p->bc.ca))
		return -1;
	if (present)
		p->bc.path_len = (int)n;
	return cv_asn1_finish(&d);
}

/* KeyUsage ::= BIT STRING { digitalSignature (0), ..., decipherOnly (8) } */
static int
dec_key_usage(const uint8_t *v, size_t len, struct cv_cert_parsed *p)
{
	struct cv_asn1_elem e;

	if (cv_asn1_whole(v, len, CV_ASN1_BIT_STRING, &e) < 0 ||
	    cv_asn1_bit_flags(&e, &p->ku.bits) < 0)
		return -1;
	/* RFC 5280 4.2.1.3: when keyUsage appears, at least one bit MUST be set (found by
	 * fuzz_diff: OpenSSL takes such a certificate for invalid) */
	return p->ku.bits != 0 ? 0 : -1;
}

/* ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId (OBJECT IDENTIFIER) */
static int
dec_ext_key_usage(const uint8_t *v, size_t len, struct cv_cert_parsed *p)
{
	struct cv_asn1_elem seq;
	struct cv_asn1 d;

	if (cv_asn1_whole(v, len, CV_ASN1_SEQUENCE, &seq) < 0 || seq.len == 0)
		return -1;
	cv_asn1_open(&seq, &d);
	while (!cv_asn1_empty(&d)) {
		if (p->eku.n == CV_CERT_EKU_MAX || oid_text(&d, p, &p->eku.oid[p->eku.n]) < 0)
			return -1;
		p->eku.n++;
	}
	return 0;
}

/* One name of a SubjectAltName or IssuerAltName: well formed, and (as GnuTLS requires too) a
 * string or address form is not empty (RFC 5280 4.2.1.6). */
static int
alt_name_read(const struct cv_asn1_elem *e, struct cv_cert_gn *g)
{
	if (cv_general_name_read(e, g) < 0)
		return -1;
	switch (g->type) {
	case CV_GN_RFC822:
	case CV_GN_DNS:
	case CV_GN_URI:
	case CV_GN_IP:
		return g->len > 0 ? 0 : -1;
	default:
		return 0;
	}
}

/* SubjectAltName ::= GeneralNames; GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName */
static int
dec_subject_alt_name(const uint8_t *v, size_t len, struct cv_cert_parsed *p)
{
	struct cv_asn1_elem seq, e;
	struct cv_asn1 d;
	size_t n = 0;

	if (cv_asn1_whole(v, len, CV_ASN1_SEQUENCE, &seq) < 0 || seq.len == 0)
		return -1;
	cv_asn1_open(&seq, &d);
	while (!cv_asn1_empty(&d)) {
		if (cv_asn1_next(&d, &e) < 0 || ++n > CV_CERT_SAN_MAX)
			return -1;
	}
	if ((p->san_names = calloc(n, sizeof(*p->san_names))) == NULL)
		return -1;
	cv_asn1_open(&seq, &d);
	for (size_t i = 0; i < n; i++)
		if (cv_asn1_next(&d, &e) < 0 || alt_name_read(&e, &p->san_names[i]) < 0)
			return -1;
	p->san.v = p->san_names;
	p->san.n = n;
	p->san.raw = v;
	p->san.raw_len = len;
	return 0;
}

/* NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees OPTIONAL,
 *      excludedSubtrees [1] GeneralSubtrees OPTIONAL }: kept raw, read by nameconstraints.c. */
static int
dec_name_constraints(const uint8_t *v, size_t len, struct cv_cert_parsed *p)
{
	struct cv_asn1_elem seq;

	if (cv_asn1_whole(v, len, CV_ASN1_SEQUENCE, &seq) < 0)
		return -1;
	p->nc.raw = v;
	p->nc.raw_len = len;
	return 0;
}

/*
 * PolicyQualifierInfo ::= SEQUENCE { policyQualifierId PolicyQualifierId,
 *      qualifier ANY DEFINED BY policyQualifierId }
 * The qualifiers are not processed (RFC 5280 6.1 ignores them), but they must be well formed.
 */
static int
policy_qualifiers_ok(const struct cv_asn1_elem *q)
{
	struct cv_asn1 list, pqi;
	struct cv_asn1_elem e;

	cv_asn1_open(q, &list);
	if (cv_asn1_empty(&list))
		return -1;
	while (!cv_asn1_empty(&list))
		if (cv_asn1_enter(&list, CV_ASN1_SEQUENCE, &pqi) < 0 ||
		    cv_asn1_expect(&pqi, CV_ASN1_OID, &e) < 0 || cv_asn1_next(&pqi, &e) < 0 ||
		    cv_asn1_finish(&pqi) < 0)
			return -1;
	return 0;
}

/*
 * certificatePolicies ::= SEQUENCE SIZE (1..MAX) OF PolicyInformation
 * PolicyInformation ::= SEQUENCE { policyIdentifier CertPolicyId,
 *      policyQualifiers SEQUENCE SIZE (1..MAX) OF PolicyQualifierInfo OPTIONAL }
 */
static int
dec_policies(const uint8_t *v, size_t len, struct cv_cert_parsed *p)
{
	struct cv_asn1_elem seq, q;
	struct cv_asn1 list, info;
	bool have_q;

	if (cv_asn1_whole(v, len, CV_ASN1_SEQUENCE, &seq) < 0 || seq.len == 0)
		return -1;
	cv_asn1_open(&seq, &list);
	while (!cv_asn1_empty(&list)) {
		if (p->policies.n == CV_CERT_POLICIES_MAX ||
		    cv_asn1_enter(&list, CV_ASN1_SEQUENCE, &info) < 0 ||
		    oid_text(&info, p, &p->policies.oid[p->policies.n]) < 0 ||
		    cv_asn1_optional(&info, CV_ASN1_SEQUENCE, &q, &have_q) < 0 ||
		    (have_q && policy_qualifiers_ok(&q) < 0) || cv_asn1_finish(&info) < 0)
			return -1;
		p->policies.n++;
	}
	return 0;
}

/* PolicyMappings ::= SEQUENCE SIZE (1..MAX) OF SEQUENCE {
 *      issuerDomainPolicy CertPolicyId, subjectDomainPolicy CertPolicyId } */
static int
dec_policy_mappings(const uint8_t *v, size_t len, struct cv_cert_parsed *p)
{
	struct cv_cert_mappings *m = &p->mappings;
	struct cv_asn1_elem seq;
	struct cv_asn1 list, pair;

	if (cv_asn1_whole(v, len, CV_ASN1_SEQUENCE, &seq) < 0 || seq.len == 0)
		return -1;
	cv_asn1_open(&seq, &list);
	while (!cv_asn1_empty(&list)) {
		if (m->n == CV_CERT_MAPPINGS_MAX ||
		    cv_asn1_enter(&list, CV_ASN1_SEQUENCE, &pair) < 0 ||
		    oid_text(&pair, p, &m->v[m->n].issuer) < 0 ||
		    oid_text(&pair, p, &m->v[m->n].subject) < 0 || cv_asn1_finish(&pair) < 0)
			return -1;
		m->n++;
	}
	return 0;
}

/* An OPTIONAL SkipCerts ::= INTEGER (0..MAX) under tag; *out is left alone when absent. */
static int
optional_skip_certs(struct cv_asn1 *d, uint8_t tag, int *out)
{
	struct cv_asn1_elem e;
	bool present;
	int32_t v;

	if (cv_asn1_optional(d, tag, &e, &present) < 0 ||
	    (present && cv_asn1_small_int(&e, &v) < 0))
		return -1;
	if (present)
		*out = (int)v;
	return 0;
}

/* PolicyConstraints ::= SEQUENCE { requireExplicitPolicy [0] SkipCerts OPTIONAL,
 *      inhibitPolicyMapping [1] SkipCerts OPTIONAL } */
static int
dec_policy_constraints(const uint8_t *v, size_t len, struct cv_cert_parsed *p)
{
	struct cv_asn1_elem seq;
	struct cv_asn1 d;

	p->pc.require_explicit = p->pc.inhibit_mapping = -1;
	if (cv_asn1_whole(v, len, CV_ASN1_SEQUENCE, &seq) < 0)
		return -1;
	cv_asn1_open(&seq, &d);
	if (optional_skip_certs(&d, CV_ASN1_CTX(0), &p->pc.require_explicit) < 0 ||
	    optional_skip_certs(&d, CV_ASN1_CTX(1), &p->pc.inhibit_mapping) < 0)
		return -1;
	return cv_asn1_finish(&d);
}

/* InhibitAnyPolicy ::= SkipCerts */
static int
dec_inhibit_any(const uint8_t *v, size_t len, struct cv_cert_parsed *p)
{
	struct cv_asn1_elem e;
	int32_t n;

	if (cv_asn1_whole(v, len, CV_ASN1_INTEGER, &e) < 0 || cv_asn1_small_int(&e, &n) < 0)
		return -1;
	p->iap.skip = (int)n;
	return 0;
}

/*
 * AuthorityKeyIdentifier ::= SEQUENCE {
 *      keyIdentifier             [0] KeyIdentifier           OPTIONAL,
 *      authorityCertIssuer       [1] GeneralNames            OPTIONAL,
 *      authorityCertSerialNumber [2] CertificateSerialNumber OPTIONAL }
 */
static int
dec_aki(const uint8_t *v, size_t len, struct cv_cert_parsed *p)
{
	struct cv_asn1_elem seq, e;
	struct cv_asn1 d;
	bool present;

	if (cv_asn1_whole(v, len, CV_ASN1_SEQUENCE, &seq) < 0)
		return -1;
	cv_asn1_open(&seq, &d);
	if (cv_asn1_optional(&d, CV_ASN1_CTX(0), &e, &present) < 0)
		return -1;
	if (present) {
		p->aki.key_id = e.val;
		p->aki.key_id_len = e.len;
	}
	if (cv_asn1_optional(&d, CV_ASN1_CTX_CONS(1), &e, &present) < 0 ||
	    (present && cv_general_names_check(e.val, e.len) < 0))
		return -1;
	if (present) {
		p->aki.issuer = e.val;
		p->aki.issuer_len = e.len;
	}
	if (cv_asn1_optional(&d, CV_ASN1_CTX(2), &e, &present) < 0 || (present && e.len == 0))
		return -1;
	if (present) {
		p->aki.serial = e.val;
		p->aki.serial_len = e.len;
	}
	/* RFC 5280 4.2.1.1: the issuer and serial come together or not at all */
	if ((p->aki.issuer == NULL) != (p->aki.serial == NULL))
		return -1;
	return cv_asn1_finish(&d);
}

/* SubjectKeyIdentifier ::= KeyIdentifier; KeyIdentifier ::= OCTET STRING */
static int
dec_ski(const uint8_t *v, size_t len, struct cv_cert_parsed *p)
{
	struct cv_asn1_elem e;

	if (cv_asn1_whole(v, len, CV_ASN1_OCTET_STRING, &e) < 0)
		return -1;
	p->ski.key_id = e.val;
	p->ski.key_id_len = e.len;
	return 0;
}

/*
 * AuthorityInfoAccessSyntax ::= SEQUENCE SIZE (1..MAX) OF AccessDescription
 * AccessDescription ::= SEQUENCE { accessMethod OBJECT IDENTIFIER,
 *      accessLocation GeneralName }
 */
static int
dec_aia(const uint8_t *v, size_t len, struct cv_cert_parsed *p)
{
	static const uint8_t ad_ocsp[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01};
	static const uint8_t ad_ca_issuers[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02};
	struct cv_cert_aia *a = &p->aia;
	struct cv_asn1_elem seq, method, loc;
	struct cv_asn1 list, ad;

	if (cv_asn1_whole(v, len, CV_ASN1_SEQUENCE, &seq) < 0 || seq.len == 0)
		return -1;
	cv_asn1_open(&seq, &list);
	while (!cv_asn1_empty(&list)) {
		struct cv_cert_uri *slot = NULL;

		if (cv_asn1_enter(&list, CV_ASN1_SEQUENCE, &ad) < 0 ||
		    cv_asn1_expect(&ad, CV_ASN1_OID, &method) < 0 || method.len == 0 ||
		    cv_asn1_next(&ad, &loc) < 0 || cv_asn1_finish(&ad) < 0 ||
		    cv_general_name_read(&loc, NULL) < 0)
			return -1;
		if (loc.tag != CV_ASN1_CTX(6))
			continue;
		if (cv_asn1_oid_eq(&method, ad_ocsp, sizeof(ad_ocsp)) &&
		    a->n_ocsp < CV_CERT_URIS_MAX)
			slot = &a->ocsp[a->n_ocsp++];
		else if (cv_asn1_oid_eq(&method, ad_ca_issuers, sizeof(ad_ca_issuers)) &&
		         a->n_ca_issuers < CV_CERT_URIS_MAX)
			slot = &a->ca_issuers[a->n_ca_issuers++];
		if (slot != NULL) {
			slot->p = (const char *)loc.val;
			slot->len = loc.len;
		}
	}
	return 0;
}

/* CRLDistributionPoints and FreshestCRL: general_names.c reads the syntax. */
static int
read_dist_points(const uint8_t *v, size_t len, struct cv_cert_dps *out)
{
	const int n = cv_dist_points_read(v, len, out->v, CV_CERT_DPS_MAX);

	if (n < 0)
		return -1;
	out->n = (size_t)n;
	return 0;
}

static int
dec_crl_dps(const uint8_t *v, size_t len, struct cv_cert_parsed *p)
{
	return read_dist_points(v, len, &p->cdp);
}

static int
dec_freshest_crl(const uint8_t *v, size_t len, struct cv_cert_parsed *p)
{
	return read_dist_points(v, len, &p->freshest);
}

/* The table entry of one extension: decoded into member of struct cv_cert_parsed. */
#define EXT(oid, name, fn, member)                                                                 \
	{                                                                                          \
		oid, name, fn, offsetof(struct cv_cert_parsed, member.present),                    \
		    offsetof(struct cv_cert_parsed, member.critical)                               \
	}

static const struct ext_kind ext_kinds[] = {
    EXT("2.5.29.19", "basicConstraints", dec_basic_constraints, bc),
    EXT("2.5.29.15", "keyUsage", dec_key_usage, ku),
    EXT("2.5.29.37", "extKeyUsage", dec_ext_key_usage, eku),
    EXT("2.5.29.17", "subjectAltName", dec_subject_alt_name, san),
    EXT("2.5.29.30", "nameConstraints", dec_name_constraints, nc),
    EXT("2.5.29.32", "certificatePolicies", dec_policies, policies),
    EXT("2.5.29.33", "policyMappings", dec_policy_mappings, mappings),
    EXT("2.5.29.36", "policyConstraints", dec_policy_constraints, pc),
    EXT("2.5.29.54", "inhibitAnyPolicy", dec_inhibit_any, iap),
    EXT("2.5.29.35", "authorityKeyIdentifier", dec_aki, aki),
    EXT("2.5.29.14", "subjectKeyIdentifier", dec_ski, ski),
    EXT("1.3.6.1.5.5.7.1.1", "authorityInfoAccess", dec_aia, aia),
    EXT("2.5.29.31", "cRLDistributionPoints", dec_crl_dps, cdp),
    EXT("2.5.29.46", "freshestCRL", dec_freshest_crl, freshest),
};

/* Decodes one extension of a known kind into its slot of p. */
static int
decode_known(const struct ext_kind *k, const struct cv_cert_ext *x, struct cv_cert_parsed *p,
             struct cv_error *err)
{
	*(bool *)(void *)((uint8_t *)p + k->present_off) = true;
	*(bool *)(void *)((uint8_t *)p + k->critical_off) = x->critical;
	if (k->decode(x->value, x->len, p) < 0) {
		cv_error_set(err, "certificate extension %s (%s): malformed value", k->name,
		             x->oid);
		return -1;
	}
	return 0;
}

/* Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE,
 *      extnValue OCTET STRING } */
static int
read_extension(struct cv_asn1 *list, struct cv_cert_parsed *p, struct cv_cert_ext *x,
               struct cv_error *err)
{
	struct cv_asn1_elem e;
	struct cv_asn1 d;
	bool present;

	memset(x, 0, sizeof(*x));
	if (cv_asn1_enter(list, CV_ASN1_SEQUENCE, &d) < 0 || oid_text(&d, p, &x->oid) < 0) {
		cv_error_set(err, "certificate extension: malformed Extension");
		return -1;
	}
	/* An explicit critical FALSE is not DER, but common in older CAs' certificates: read. */
	if (cv_asn1_optional(&d, CV_ASN1_BOOLEAN, &e, &present) < 0 ||
	    (present && cv_asn1_bool(&e, &x->critical) < 0) ||
	    cv_asn1_expect(&d, CV_ASN1_OCTET_STRING, &e) < 0 || cv_asn1_finish(&d) < 0) {
		cv_error_set(err, "certificate extension %s: malformed Extension", x->oid);
		return -1;
	}
	x->value = e.val;
	x->len = e.len;
	return 0;
}

/*
 * IssuerAltName ::= GeneralNames (RFC 5280 4.2.1.7): nothing in path validation reads it, so it
 * stays unknown (a critical one is still refused as unrecognised), but it must be well formed,
 * as GnuTLS's certificate reader required before certificates were read here alone.
 */
static int
dec_issuer_alt_name(const struct cv_cert_ext *x, struct cv_error *err)
{
	struct cv_asn1_elem seq, e;
	struct cv_cert_gn g;
	struct cv_asn1 d;

	if (cv_asn1_whole(x->value, x->len, CV_ASN1_SEQUENCE, &seq) < 0 || seq.len == 0)
		goto bad;
	cv_asn1_open(&seq, &d);
	while (!cv_asn1_empty(&d))
		if (cv_asn1_next(&d, &e) < 0 || alt_name_read(&e, &g) < 0)
			goto bad;
	return 0;
bad:
	cv_error_set(err, "certificate extension issuerAltName (%s): malformed value", x->oid);
	return -1;
}

/* Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension; each extnID at most once (4.2). */
static int
read_extensions(const struct cv_asn1_elem *wrap, struct cv_cert_parsed *p, struct cv_error *err)
{
	struct cv_asn1_elem seq;
	struct cv_asn1 list;

	if (cv_asn1_whole(wrap->val, wrap->len, CV_ASN1_SEQUENCE, &seq) < 0 || seq.len == 0) {
		cv_error_set(err, "certificate extensions: malformed or empty");
		return -1;
	}
	cv_asn1_open(&seq, &list);
	while (!cv_asn1_empty(&list)) {
		struct cv_cert_ext *x = &p->ext[p->n_ext];

		if (p->n_ext == CV_CERT_EXT_MAX) {
			cv_error_set(err, "certificate: more than %d extensions", CV_CERT_EXT_MAX);
			return -1;
		}
		if (read_extension(&list, p, x, err) < 0)
			return -1;
		for (size_t i = 0; i < p->n_ext; i++)
			if (strcmp(p->ext[i].oid, x->oid) == 0) {
				cv_error_set(err, "certificate extension %s appears twice", x->oid);
				return -1;
			}
		p->n_ext++;
		if (strcmp(x->oid, "2.5.29.18") == 0 && dec_issuer_alt_name(x, err) < 0)
			return -1;
		for (size_t k = 0; k < CV_ARRAY_LEN(ext_kinds); k++)
			if (strcmp(ext_kinds[k].oid, x->oid) == 0) {
				x->known = true;
				if (decode_known(&ext_kinds[k], x, p, err) < 0)
					return -1;
			}
	}
	return 0;
}

/*
 * Validity ::= SEQUENCE { notBefore Time, notAfter Time }
 * Read by the project's strict reader (RFC 5280 4.1.2.5: seconds present, Zulu, calendar
 * fields in range): GnuTLS's reader normalises a month 24 or a day 32 into a later date
 * (found by fuzz_diff). notBefore after notAfter is left to path validation (no valid time).
 */
static int
read_validity(const struct cv_asn1_elem *validity, struct cv_cert_parsed *p, struct cv_error *err)
{
	struct cv_asn1 in;
	struct cv_asn1_elem nb, na;

	cv_asn1_init(&in, validity->val, validity->len);
	if (cv_asn1_next(&in, &nb) < 0 || cv_asn1_next(&in, &na) < 0 || cv_asn1_finish(&in) < 0 ||
	    cv_asn1_time(&nb, &p->not_before) < 0 || cv_asn1_time(&na, &p->not_after) < 0) {
		cv_error_set(err, "certificate: malformed validity (RFC 5280 4.1.2.5)");
		return -1;
	}
	return 0;
}

/*
 * TBSCertificate ::= SEQUENCE {
 *      version         [0]  EXPLICIT Version DEFAULT v1,
 *      serialNumber         CertificateSerialNumber,
 *      signature            AlgorithmIdentifier,
 *      issuer               Name,
 *      validity             Validity,
 *      subject              Name,
 *      subjectPublicKeyInfo SubjectPublicKeyInfo,
 *      issuerUniqueID  [1]  IMPLICIT UniqueIdentifier OPTIONAL,
 *      subjectUniqueID [2]  IMPLICIT UniqueIdentifier OPTIONAL,
 *      extensions      [3]  EXPLICIT Extensions OPTIONAL }
 * The Names are kept as encodings (name.c reads them); the key is imported by cert.c.
 */
/* UniqueIdentifier ::= BIT STRING, [1] or [2] IMPLICIT: only in version 2 or 3 (4.1.2.8). */
static int
read_unique_id(struct cv_asn1 *tbs, uint8_t tag, int version)
{
	struct cv_asn1_elem e;
	const uint8_t *bits;
	size_t n;
	unsigned unused;
	bool present;

	if (cv_asn1_optional(tbs, tag, &e, &present) < 0)
		return -1;
	if (!present)
		return 0;
	return version >= 2 && cv_asn1_bit_string(&e, &bits, &n, &unused) == 0 ? 0 : -1;
}

static int
read_tbs(struct cv_asn1 *tbs, struct cv_cert_parsed *p, struct cv_asn1_elem *sig_alg,
         struct cv_error *err)
{
	struct cv_asn1_elem e, v, issuer, validity, subject, spki;
	bool present;
	int32_t version = 0;

	if (cv_asn1_optional(tbs, CV_ASN1_CTX_CONS(0), &e, &present) < 0 ||
	    (present && (cv_asn1_whole(e.val, e.len, CV_ASN1_INTEGER, &v) < 0 ||
	                 cv_asn1_small_int(&v, &version) < 0 || version > 2))) {
		cv_error_set(err, "certificate: malformed or unknown version");
		return -1;
	}
	p->version = (int)version + 1;
	if (cv_asn1_expect(tbs, CV_ASN1_INTEGER, &e) < 0 || e.len == 0 ||
	    (e.len > 1 && ((e.val[0] == 0x00 && !(e.val[1] & 0x80)) ||
	                   (e.val[0] == 0xff && (e.val[1] & 0x80))))) {
		/* X.690 8.3.2: the shortest two's complement; a padded serial is not DER */
		cv_error_set(err, "certificate: malformed serialNumber");
		return -1;
	}
	p->serial = e.val;
	p->serial_len = e.len;
	if (cv_asn1_expect(tbs, CV_ASN1_SEQUENCE, sig_alg) < 0 ||
	    cv_asn1_expect(tbs, CV_ASN1_SEQUENCE, &issuer) < 0 ||
	    cv_asn1_expect(tbs, CV_ASN1_SEQUENCE, &validity) < 0 ||
	    cv_asn1_expect(tbs, CV_ASN1_SEQUENCE, &subject) < 0 ||
	    cv_asn1_expect(tbs, CV_ASN1_SEQUENCE, &spki) < 0 ||
	    read_unique_id(tbs, CV_ASN1_CTX(1), p->version) < 0 ||
	    read_unique_id(tbs, CV_ASN1_CTX(2), p->version) < 0 ||
	    cv_asn1_optional(tbs, CV_ASN1_CTX_CONS(3), &e, &present) < 0 ||
	    cv_asn1_finish(tbs) < 0) {
		cv_error_set(err, "certificate: malformed TBSCertificate");
		return -1;
	}
	if (read_validity(&validity, p, err) < 0)
		return -1;
	/* Both Names well formed to the last attribute value (strict DER), whether or not path
	 * validation ever compares them (found by fuzz_diff: a leaf subject OpenSSL refuses). */
	if (cv_name_key(issuer.raw, issuer.raw_len, &p->issuer_key) < 0 ||
	    cv_name_key(subject.raw, subject.raw_len, &p->subject_key) < 0) {
		cv_error_set(err, "certificate: malformed issuer or subject Name");
		return -1;
	}
	p->issuer = issuer.raw;
	p->issuer_len = issuer.raw_len;
	p->subject = subject.raw;
	p->subject_len = subject.raw_len;
	p->spki = spki.raw; /* signature checks import keys from these bytes */
	p->spki_len = spki.raw_len;
	if (!present)
		return 0;
	if (p->version < 3) {
		cv_error_set(err, "certificate: version %d with extensions (RFC 5280 4.1.2.9)",
		             p->version);
		return -1;
	}
	return read_extensions(&e, p, err);
}

/*
 * AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }
 * The Certificate's signatureAlgorithm: the same encoding as the TBS's signature field
 * (RFC 5280 4.1.1.2), so what was signed names the algorithm that is checked.
 */
static int
read_sig_alg(struct cv_asn1 *cert, const struct cv_asn1_elem *tbs_alg, struct cv_cert_parsed *p)
{
	struct cv_asn1_elem alg, param;
	struct cv_asn1 d;

	if (cv_asn1_expect(cert, CV_ASN1_SEQUENCE, &alg) < 0 || alg.raw_len != tbs_alg->raw_len ||
	    memcmp(alg.raw, tbs_alg->raw, alg.raw_len) != 0)
		return -1;
	cv_asn1_open(&alg, &d);
	if (oid_text(&d, p, &p->sig_oid) < 0)
		return -1;
	if (!cv_asn1_empty(&d) && cv_asn1_next(&d, &param) < 0)
		return -1;
	return cv_asn1_finish(&d);
}

/* Certificate ::= SEQUENCE { tbsCertificate TBSCertificate,
 *      signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING } */
int
cv_cert_parse(const uint8_t *der, size_t len, struct cv_cert_parsed *out, struct cv_error *err)
{
	struct cv_asn1 top, cert, tbs;
	struct cv_asn1_elem tbs_alg, sig;
	const uint8_t *bits;
	size_t n;
	unsigned unused;

	memset(out, 0, sizeof(*out));
	out->bc.path_len = -1;
	out->pc.require_explicit = out->pc.inhibit_mapping = -1;
	out->iap.skip = -1;
	cv_asn1_init(&top, der, len);
	if (cv_asn1_enter(&top, CV_ASN1_SEQUENCE, &cert) < 0 || cv_asn1_finish(&top) < 0 ||
	    cv_asn1_enter(&cert, CV_ASN1_SEQUENCE, &tbs) < 0) {
		cv_error_set(err, "certificate: malformed Certificate");
		return -1;
	}
	if (read_tbs(&tbs, out, &tbs_alg, err) < 0)
		goto fail;
	if (read_sig_alg(&cert, &tbs_alg, out) < 0) {
		cv_error_set(err, "certificate: malformed signatureAlgorithm, or not the same as "
		                  "the TBSCertificate's signature (RFC 5280 4.1.1.2)");
		goto fail;
	}
	if (cv_asn1_expect(&cert, CV_ASN1_BIT_STRING, &sig) < 0 ||
	    cv_asn1_bit_string(&sig, &bits, &n, &unused) < 0 || cv_asn1_finish(&cert) < 0) {
		cv_error_set(err, "certificate: malformed signatureValue");
		goto fail;
	}
	return 0;
fail:
	cv_cert_parsed_clear(out);
	return -1;
}

void
cv_cert_parsed_clear(struct cv_cert_parsed *p)
{
	struct cv_oid_block *b, *next;

	for (b = p->oid_blocks; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	p->oid_blocks = NULL;
	free(p->san_names);
	p->san_names = NULL;
	p->san.v = NULL;
	p->san.n = 0;
}

/* --- accessors (cert.h) --- */

int
cv_cert_version(const struct cv_cert *cert)
{
	return cv_cert_parsed(cert)->version;
}

const uint8_t *
cv_cert_serial_der(const struct cv_cert *cert, size_t *len)
{
	*len = cv_cert_parsed(cert)->serial_len;
	return cv_cert_parsed(cert)->serial;
}

size_t
cv_cert_ext_count(const struct cv_cert *cert)
{
	return cv_cert_parsed(cert)->n_ext;
}

const struct cv_cert_ext *
cv_cert_ext_at(const struct cv_cert *cert, size_t i)
{
	const struct cv_cert_parsed *p = cv_cert_parsed(cert);

	return i < p->n_ext ? &p->ext[i] : NULL;
}

const struct cv_cert_bc *
cv_cert_basic_constraints(const struct cv_cert *cert)
{
	return &cv_cert_parsed(cert)->bc;
}

const struct cv_cert_ku *
cv_cert_key_usage(const struct cv_cert *cert)
{
	return &cv_cert_parsed(cert)->ku;
}

const struct cv_cert_eku *
cv_cert_ext_key_usage(const struct cv_cert *cert)
{
	return &cv_cert_parsed(cert)->eku;
}

const struct cv_cert_san *
cv_cert_san(const struct cv_cert *cert)
{
	return &cv_cert_parsed(cert)->san;
}

const struct cv_cert_nc *
cv_cert_name_constraints(const struct cv_cert *cert)
{
	return &cv_cert_parsed(cert)->nc;
}

const struct cv_cert_policies *
cv_cert_policies(const struct cv_cert *cert)
{
	return &cv_cert_parsed(cert)->policies;
}

const struct cv_cert_mappings *
cv_cert_policy_mappings(const struct cv_cert *cert)
{
	return &cv_cert_parsed(cert)->mappings;
}

const struct cv_cert_policy_constraints *
cv_cert_policy_constraints(const struct cv_cert *cert)
{
	return &cv_cert_parsed(cert)->pc;
}

const struct cv_cert_inhibit_any *
cv_cert_inhibit_any_policy(const struct cv_cert *cert)
{
	return &cv_cert_parsed(cert)->iap;
}

const struct cv_cert_aki *
cv_cert_aki(const struct cv_cert *cert)
{
	return &cv_cert_parsed(cert)->aki;
}

const struct cv_cert_ski *
cv_cert_ski(const struct cv_cert *cert)
{
	return &cv_cert_parsed(cert)->ski;
}

const struct cv_cert_aia *
cv_cert_aia(const struct cv_cert *cert)
{
	return &cv_cert_parsed(cert)->aia;
}

const struct cv_cert_dps *
cv_cert_crl_dps(const struct cv_cert *cert)
{
	return &cv_cert_parsed(cert)->cdp;
}

const struct cv_cert_dps *
cv_cert_freshest_crl(const struct cv_cert *cert)
{
	return &cv_cert_parsed(cert)->freshest;
}

int
cv_cert_uri_copy(const struct cv_cert_uri *uri, char *out, size_t out_len)
{
	if (out_len == 0 || uri->len >= out_len || memchr(uri->p, '\0', uri->len) != NULL)
		return -1;
	memcpy(out, uri->p, uri->len);
	out[uri->len] = '\0';
	return 0;
}
