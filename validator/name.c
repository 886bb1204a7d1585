/* name.c: RFC 5280 7.1 comparison of Names and GeneralNames over the strict DER reader. */
#include "name.h"

#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../common/util.h"

/* AttributeTypeAndValue ::= SEQUENCE { type AttributeType, value AttributeValue } */
struct atav {
	struct cv_asn1_elem type, value;
};

bool
cv_name_text_tag(uint8_t tag)
{
	return tag == CV_ASN1_UTF8_STRING || tag == CV_ASN1_PRINTABLE_STRING ||
	       tag == CV_ASN1_IA5_STRING || tag == CV_ASN1_T61_STRING;
}

/* The characters RFC 4518 (2.2) maps to SPACE, as far as ASCII goes. */
static bool
is_space(uint8_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Next character of a string after case folding and whitespace compression; -1 at the end. */
static int
fold_next(const uint8_t **p, const uint8_t *end, bool *pending_space)
{
	uint8_t c;

	while (*p < end && is_space(**p)) {
		(*p)++;
		*pending_space = true;
	}
	if (*p >= end)
		return -1;
	if (*pending_space) {
		*pending_space = false;
		return ' ';
	}
	c = *(*p)++;
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static bool
string_equal(const struct cv_asn1_elem *a, const struct cv_asn1_elem *b)
{
	const uint8_t *pa = a->val, *pb = b->val, *ea = a->val + a->len, *eb = b->val + b->len;
	bool sa = false, sb = false;
	int ca, cb;

	while (pa < ea && is_space(*pa))
		pa++;
	while (pb < eb && is_space(*pb))
		pb++;
	while (ea > pa && is_space(ea[-1]))
		ea--;
	while (eb > pb && is_space(eb[-1]))
		eb--;
	do {
		ca = fold_next(&pa, ea, &sa);
		cb = fold_next(&pb, eb, &sb);
	} while (ca == cb && ca >= 0);
	return ca == cb;
}

/*
 * The forms an attribute value of a certificate's Name takes: X.520's DirectoryString
 * (TeletexString, PrintableString, UniversalString, UTF8String, BMPString; RFC 5280 4.1.2.4),
 * the IA5String of emailAddress and domainComponent, NumericString, or a constructed
 * SEQUENCE. Anything else (BOOLEAN, INTEGER, BIT or OCTET STRING, NULL, OID, SET, a time,
 * VisibleString, GeneralString and the other legacy strings, an application, context or
 * private tag) is no value a relying party reads or compares: refused, as OpenSSL refuses
 * most of them (found by fuzz_diff), rather than compared byte for byte.
 */
static bool
value_form_ok(uint8_t tag)
{
	switch (tag) {
	case CV_ASN1_UTF8_STRING:
	case CV_ASN1_NUMERIC_STRING:
	case CV_ASN1_PRINTABLE_STRING:
	case CV_ASN1_T61_STRING:
	case CV_ASN1_IA5_STRING:
	case CV_ASN1_UNIVERSAL_STRING:
	case CV_ASN1_BMP_STRING:
	case CV_ASN1_SEQUENCE:
		return true;
	default:
		return false;
	}
}

/* UCS-2 (BMPString) or UCS-4 (UniversalString) big-endian code units: whole, and each a
 * Unicode scalar value. */
static bool
ucs_ok(const uint8_t *p, size_t len, size_t width)
{
	if (len % width != 0)
		return false;
	for (size_t i = 0; i < len; i += width) {
		uint32_t c = 0;

		for (size_t k = 0; k < width; k++)
			c = (c << 8) | p[i + k];
		if (!cv_unicode_scalar(c))
			return false;
	}
	return true;
}

/*
 * The text of a value in the encoding its tag names (X.680 41: UTF8String is UTF-8 (RFC
 * 3629), BMPString UCS-2, UniversalString UCS-4): a string that is not is refused, as OpenSSL
 * refuses it (found by fuzz_diff), since it cannot be compared as text (RFC 5280 7.1).
 */
static bool
value_text_ok(const struct cv_asn1_elem *v)
{
	size_t i = 0, n;

	switch (v->tag) {
	case CV_ASN1_UTF8_STRING:
		while (i < v->len) {
			if ((n = cv_utf8_seq(v->val + i, v->len - i)) == 0)
				return false;
			i += n;
		}
		return true;
	case CV_ASN1_BMP_STRING:
		return ucs_ok(v->val, v->len, 2);
	case CV_ASN1_UNIVERSAL_STRING:
		return ucs_ok(v->val, v->len, 4);
	default:
		return true;
	}
}

/* DirectoryString ::= CHOICE { teletexString, printableString, universalString, utf8String,
 * bmpString }, each SIZE (1..MAX) (RFC 5280 4.1.2.4, appendix A.1). */
static bool
directory_string_tag(uint8_t tag)
{
	return tag == CV_ASN1_T61_STRING || tag == CV_ASN1_PRINTABLE_STRING ||
	       tag == CV_ASN1_UNIVERSAL_STRING || tag == CV_ASN1_UTF8_STRING ||
	       tag == CV_ASN1_BMP_STRING;
}

static int
read_atav(struct cv_asn1 *rdn, struct atav *out)
{
	struct cv_asn1 s;

	if (cv_asn1_enter(rdn, CV_ASN1_SEQUENCE, &s) < 0 ||
	    cv_asn1_expect(&s, CV_ASN1_OID, &out->type) < 0 || cv_asn1_next(&s, &out->value) < 0)
		return -1;
	if (!value_form_ok(out->value.tag) || !value_text_ok(&out->value))
		return -1;
	/* an empty one is malformed (GnuTLS's rendering of the Name refuses it too) */
	if (directory_string_tag(out->value.tag) && out->value.len == 0)
		return -1;
	return cv_asn1_finish(&s);
}

static bool
atav_equal(const struct atav *a, const struct atav *b)
{
	if (a->type.len != b->type.len || memcmp(a->type.val, b->type.val, a->type.len) != 0)
		return false;
	if (cv_name_text_tag(a->value.tag) && cv_name_text_tag(b->value.tag))
		return string_equal(&a->value, &b->value);
	return a->value.raw_len == b->value.raw_len &&
	       memcmp(a->value.raw, b->value.raw, a->value.raw_len) == 0;
}

/* FNV-1a over bytes, on top of h. */
static uint64_t
hash_bytes(uint64_t h, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* A final mix (splitmix64's), so that the bits of an attribute's hash spread before OR. */
static uint64_t
mix(uint64_t h)
{
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

/*
 * An attribute's hash: its type, then its value as atav_equal compares it: text (any of the
 * text tags alike) as the characters string_equal compares, anything else as its whole
 * encoding. The marker byte keeps a text from hashing as the encoding of another value.
 */
static uint64_t
atav_hash(const struct atav *x)
{
	uint64_t h = hash_bytes(0xcbf29ce484222325ull, x->type.val, x->type.len);

	if (cv_name_text_tag(x->value.tag)) {
		const uint8_t *p = x->value.val, *end = x->value.val + x->value.len;
		bool space = false;
		uint8_t c;
		int ch;

		while (p < end && is_space(*p))
			p++;
		while (end > p && is_space(end[-1]))
			end--;
		h = hash_bytes(h, (const uint8_t *)"T", 1);
		while ((ch = fold_next(&p, end, &space)) >= 0) {
			c = (uint8_t)ch;
			h = hash_bytes(h, &c, 1);
		}
		return mix(h);
	}
	h = hash_bytes(h, (const uint8_t *)"R", 1);
	return mix(hash_bytes(h, x->value.raw, x->value.raw_len));
}

/*
 * RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
 * Reads the next RDN of a Name and checks it; returns its number of attributes or -1. With
 * hash, also the RDN's hash: its number of attributes and the OR of its attributes' hashes.
 * rdns_match finds two RDNs equal when they have as many attributes and each attribute of one
 * is among the other's: the same set, whatever the order or repetitions, hence the same OR.
 */
static int
next_rdn(struct cv_asn1 *rdns, struct cv_asn1_elem *rdn, uint64_t *hash)
{
	struct cv_asn1 d;
	struct atav x;
	uint64_t set = 0;
	int n = 0;

	if (cv_asn1_expect(rdns, CV_ASN1_SET, rdn) < 0)
		return -1;
	cv_asn1_open(rdn, &d);
	while (!cv_asn1_empty(&d)) {
		if (read_atav(&d, &x) < 0)
			return -1;
		if (hash != NULL)
			set |= atav_hash(&x);
		n++;
	}
	if (hash != NULL)
		*hash = mix(set ^ mix((uint64_t)n));
	return n > 0 ? n : -1;
}

/* Every attribute of the (checked) RDN a has a matching attribute in the (checked) RDN b. */
static bool
rdn_subset(const struct cv_asn1_elem *a, const struct cv_asn1_elem *b)
{
	struct cv_asn1 da, db;
	struct atav x, y;
	bool found;

	cv_asn1_open(a, &da);
	while (!cv_asn1_empty(&da)) {
		if (read_atav(&da, &x) < 0)
			return false;
		found = false;
		cv_asn1_open(b, &db);
		while (!found && !cv_asn1_empty(&db)) {
			if (read_atav(&db, &y) < 0)
				return false;
			found = atav_equal(&x, &y);
		}
		if (!found)
			return false;
	}
	return true;
}

/* Compares the RDNs of a and b pairwise while both have one; false at a mismatch or error. */
static bool
rdns_match(struct cv_asn1 *a, struct cv_asn1 *b)
{
	struct cv_asn1_elem ra, rb;
	int na, nb;

	while (!cv_asn1_empty(a) && !cv_asn1_empty(b)) {
		na = next_rdn(a, &ra, NULL);
		nb = next_rdn(b, &rb, NULL);
		if (na < 0 || na != nb || !rdn_subset(&ra, &rb) ||
		    (na > 1 && !rdn_subset(&rb, &ra)))
			return false;
	}
	return true;
}

/* Name ::= CHOICE { rdnSequence RDNSequence }; RDNSequence ::= SEQUENCE OF RDN */
static int
name_open(const uint8_t *der, size_t len, struct cv_asn1 *rdns)
{
	struct cv_asn1 d;

	cv_asn1_init(&d, der, len);
	if (cv_asn1_enter(&d, CV_ASN1_SEQUENCE, rdns) < 0)
		return -1;
	return cv_asn1_finish(&d);
}

/*
 * Reads a whole Name and checks it; returns its number of RDNs or -1. With key, also its
 * comparison key (cv_name_key): the RDNs' hashes in order.
 */
static int
name_walk(const uint8_t *name, size_t len, uint64_t *key)
{
	struct cv_asn1 rdns;
	struct cv_asn1_elem rdn;
	uint64_t h = 0xcbf29ce484222325ull, r;
	int n = 0;

	if (name_open(name, len, &rdns) < 0)
		return -1;
	while (!cv_asn1_empty(&rdns)) {
		if (next_rdn(&rdns, &rdn, key != NULL ? &r : NULL) < 0)
			return -1;
		if (key != NULL)
			h = mix(h ^ r);
		n++;
	}
	if (key != NULL)
		*key = h;
	return n;
}

int
cv_name_rdn_count(const uint8_t *name, size_t len)
{
	return name_walk(name, len, NULL);
}

int
cv_name_key(const uint8_t *name, size_t len, uint64_t *key)
{
	return name_walk(name, len, key) < 0 ? -1 : 0;
}

bool
cv_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	struct cv_asn1 ra, rb;

	/* The same bytes (the usual case: a child's issuer copied from its issuer's subject) are
	 * the same name exactly when they are a well-formed one: one pass reads it, instead of
	 * comparing attribute by attribute. */
	if (alen == blen && memcmp(a, b, alen) == 0)
		return cv_name_rdn_count(a, alen) >= 0;
	if (name_open(a, alen, &ra) < 0 || name_open(b, blen, &rb) < 0)
		return false;
	return rdns_match(&ra, &rb) && cv_asn1_empty(&ra) && cv_asn1_empty(&rb);
}

bool
cv_name_equal_keyed(const uint8_t *a, size_t alen, uint64_t akey, const uint8_t *b, size_t blen,
                    uint64_t bkey)
{
	if (akey != bkey)
		return false;
	if (alen == blen && memcmp(a, b, alen) == 0)
		return true; /* both checked when their keys were made */
	return cv_name_equal(a, alen, b, blen);
}

bool
cv_name_within(const uint8_t *name, size_t name_len, const uint8_t *base, size_t base_len)
{
	struct cv_asn1 rn, rb;
	struct cv_asn1_elem rest;

	if (name_open(name, name_len, &rn) < 0 || name_open(base, base_len, &rb) < 0 ||
	    !rdns_match(&rn, &rb) || !cv_asn1_empty(&rb))
		return false;
	while (!cv_asn1_empty(&rn))
		if (next_rdn(&rn, &rest, NULL) < 0)
			return false;
	return true;
}

int
cv_name_foreach_attr(const uint8_t *name, size_t len, const uint8_t *oid, size_t oid_len,
                     void (*fn)(const struct cv_asn1_elem *value, void *arg), void *arg)
{
	struct cv_asn1 rdns, d;
	struct cv_asn1_elem rdn;
	struct atav x;

	if (name_open(name, len, &rdns) < 0)
		return -1;
	while (!cv_asn1_empty(&rdns)) {
		if (next_rdn(&rdns, &rdn, NULL) < 0)
			return -1;
		cv_asn1_open(&rdn, &d);
		while (!cv_asn1_empty(&d)) {
			if (read_atav(&d, &x) < 0)
				return -1;
			if (cv_asn1_oid_eq(&x.type, oid, oid_len))
				fn(&x.value, arg);
		}
	}
	return 0;
}

int
cv_name_foreach_email(const uint8_t *name, size_t len,
                      void (*fn)(const struct cv_asn1_elem *value, void *arg), void *arg)
{
	static const uint8_t email_oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01};

	return cv_name_foreach_attr(name, len, email_oid, sizeof(email_oid), fn, arg);
}

/*
 * GeneralName ::= CHOICE { otherName [0], rfc822Name [1] IA5String, dNSName [2] IA5String,
 *      x400Address [3], directoryName [4] Name, ediPartyName [5],
 *      uniformResourceIdentifier [6] IA5String, iPAddress [7] OCTET STRING,
 *      registeredID [8] OBJECT IDENTIFIER }
 * directoryName is EXPLICIT (a Name is a CHOICE), so [4] wraps a whole Name.
 */
bool
cv_name_general_equal(const struct cv_asn1_elem *a, const struct cv_asn1_elem *b)
{
	if (a->tag != b->tag)
		return false;
	if (a->tag == CV_ASN1_CTX_CONS(4))
		return cv_name_equal(a->val, a->len, b->val, b->len);
	return a->len == b->len && memcmp(a->val, b->val, a->len) == 0;
}

bool
cv_name_in_general_names(const uint8_t *names, size_t len, const uint8_t *name, size_t name_len)
{
	struct cv_asn1 d;
	struct cv_asn1_elem gn;

	cv_asn1_init(&d, names, len);
	while (cv_asn1_next(&d, &gn) == 0)
		if (gn.tag == CV_ASN1_CTX_CONS(4) && cv_name_equal(gn.val, gn.len, name, name_len))
			return true;
	return false;
}

int
cv_name_text(const uint8_t *name, size_t len, char *buf, size_t size)
{
	const gnutls_datum_t in = {(unsigned char *)(uintptr_t)name, (unsigned)len};
	gnutls_datum_t out = {NULL, 0};
	int rc = -1;

	if (size == 0)
		return -1;
	buf[0] = '\0';
	if (name != NULL && len <= UINT32_MAX && gnutls_x509_rdn_get2(&in, &out, 0) >= 0 &&
	    out.size < size) {
		memcpy(buf, out.data, out.size);
		buf[out.size] = '\0';
		rc = 0;
	}
	gnutls_free(out.data);
	return rc;
}

void
cv_name_foreach_uri(const uint8_t *names, size_t len,
                    void (*fn)(const char *uri, size_t uri_len, void *arg), void *arg)
{
	struct cv_asn1 d;
	struct cv_asn1_elem gn;

	cv_asn1_init(&d, names, len);
	while (!cv_asn1_empty(&d) && cv_asn1_next(&d, &gn) == 0)
		if (gn.tag == CV_ASN1_CTX(6))
			fn((const char *)gn.val, gn.len, arg);
}
