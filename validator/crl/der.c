/* der.c: the strict DER reader (X.690 section 10) and its value helpers. */
#include "der.h"

#include <stdio.h>
#include <string.h>

void
cv_asn1_init(struct cv_asn1 *d, const uint8_t *data, size_t len)
{
	d->p = data;
	d->end = data + len;
}

int
cv_asn1_peek(const struct cv_asn1 *d)
{
	return cv_asn1_empty(d) ? -1 : d->p[0];
}

/*
 * Identifier octet, then length: short form (one octet < 0x80) or long form (0x81-0x84 then
 * that many octets, the first non-zero, the value >= 128). 0x80 (indefinite) and tag number 31
 * (high-tag-number form) are refused.
 */
int
cv_asn1_next(struct cv_asn1 *d, struct cv_asn1_elem *e)
{
	const uint8_t *p = d->p;
	size_t avail, len;

	if (p >= d->end || d->end - p < 2)
		return -1;
	e->tag = p[0];
	if ((e->tag & 0x1f) == 0x1f)
		return -1;
	if (p[1] < 0x80) {
		len = p[1];
		p += 2;
	} else {
		unsigned n = p[1] & 0x7f;

		if (n == 0 || n > 4 || (size_t)(d->end - p) < 2 + (size_t)n || p[2] == 0)
			return -1;
		len = 0;
		for (unsigned i = 0; i < n; i++)
			len = (len << 8) | p[2 + i];
		if (len < 0x80)
			return -1;
		p += 2 + n;
	}
	avail = (size_t)(d->end - p);
	if (len > avail)
		return -1;
	e->val = p;
	e->len = len;
	e->raw = d->p;
	e->raw_len = (size_t)(p + len - d->p);
	d->p = p + len;
	return 0;
}

int
cv_asn1_expect(struct cv_asn1 *d, uint8_t tag, struct cv_asn1_elem *e)
{
	if (cv_asn1_peek(d) != tag)
		return -1;
	return cv_asn1_next(d, e);
}

int
cv_asn1_optional(struct cv_asn1 *d, uint8_t tag, struct cv_asn1_elem *e, bool *present)
{
	*present = false;
	if (cv_asn1_peek(d) != tag)
		return 0;
	if (cv_asn1_next(d, e) < 0)
		return -1;
	*present = true;
	return 0;
}

void
cv_asn1_open(const struct cv_asn1_elem *e, struct cv_asn1 *inner)
{
	cv_asn1_init(inner, e->val, e->len);
}

int
cv_asn1_enter(struct cv_asn1 *d, uint8_t tag, struct cv_asn1 *inner)
{
	struct cv_asn1_elem e;

	if (!(tag & CV_ASN1_CONSTRUCTED) || cv_asn1_expect(d, tag, &e) < 0)
		return -1;
	cv_asn1_open(&e, inner);
	return 0;
}

int
cv_asn1_finish(const struct cv_asn1 *d)
{
	return cv_asn1_empty(d) ? 0 : -1;
}

void
cv_asn1_int_normalise(const uint8_t **p, size_t *len)
{
	while (*len > 1 &&
	       (((*p)[0] == 0x00 && !((*p)[1] & 0x80)) || ((*p)[0] == 0xff && ((*p)[1] & 0x80)))) {
		(*p)++;
		(*len)--;
	}
}

/* CertificateSerialNumber ::= INTEGER */
int
cv_asn1_serial(const struct cv_asn1_elem *e, const uint8_t **serial, size_t *len)
{
	const uint8_t *p = e->val;
	size_t n = e->len;

	if (e->tag != CV_ASN1_INTEGER || n == 0)
		return -1;
	cv_asn1_int_normalise(&p, &n);
	if (n > CV_ASN1_SERIAL_MAX)
		return -1;
	*serial = p;
	*len = n;
	return 0;
}

/* INTEGER or ENUMERATED, minimal, 0 .. INT32_MAX. */
int
cv_asn1_small_int(const struct cv_asn1_elem *e, int32_t *out)
{
	uint32_t v = 0;

	if ((e->tag != CV_ASN1_INTEGER && e->tag != CV_ASN1_ENUMERATED) || e->len == 0 ||
	    e->len > 4 || (e->val[0] & 0x80))
		return -1;
	if (e->len > 1 && e->val[0] == 0 && !(e->val[1] & 0x80))
		return -1;
	for (size_t i = 0; i < e->len; i++)
		v = (v << 8) | e->val[i];
	*out = (int32_t)v;
	return 0;
}

/* BOOLEAN: DER requires FALSE = 0x00 and TRUE = 0xFF. */
int
cv_asn1_bool(const struct cv_asn1_elem *e, bool *out)
{
	if (e->tag != CV_ASN1_BOOLEAN || e->len != 1 || (e->val[0] != 0 && e->val[0] != 0xff))
		return -1;
	*out = e->val[0] == 0xff;
	return 0;
}

/* BIT STRING (primitive only in DER): unused-bit count, then the bits. */
int
cv_asn1_bit_string(const struct cv_asn1_elem *e, const uint8_t **bits, size_t *nbytes,
                   unsigned *unused)
{
	if ((e->tag & ~(CV_ASN1_CONTEXT | 0x1f)) != 0 || e->len == 0 || e->val[0] > 7)
		return -1;
	if (e->len == 1 && e->val[0] != 0)
		return -1;
	if (e->len > 1 && (e->val[e->len - 1] & ((1u << e->val[0]) - 1)) != 0)
		return -1;
	*unused = e->val[0];
	*bits = e->val + 1;
	*nbytes = e->len - 1;
	return 0;
}

/* Named bits: bit 0 is the most significant bit of the first octet. */
int
cv_asn1_bit_flags(const struct cv_asn1_elem *e, uint32_t *out)
{
	const uint8_t *bits;
	size_t n;
	unsigned unused;
	uint32_t v = 0;

	if (cv_asn1_bit_string(e, &bits, &n, &unused) < 0 || n > 2)
		return -1;
	for (size_t i = 0; i < n; i++)
		for (unsigned b = 0; b < 8; b++)
			if (bits[i] & (0x80u >> b))
				v |= 1u << (i * 8 + b);
	*out = v;
	return 0;
}

static int
digits(const uint8_t *p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/*
 * Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime }
 * RFC 5280 4.1.2.5: UTCTime YYMMDDHHMMSSZ (YY >= 50 is 19YY, else 20YY); GeneralizedTime
 * YYYYMMDDHHMMSSZ; seconds always present, no fractions, Zulu only.
 */
int
cv_asn1_time(const struct cv_asn1_elem *e, cv_time *out)
{
	const uint8_t *p = e->val;
	int year, mon, day, hour, min, sec;

	if (e->tag == CV_ASN1_UTC_TIME && e->len == 13) {
		year = digits(p, 2);
		if (year < 0)
			return -1;
		year += year >= 50 ? 1900 : 2000;
		p += 2;
	} else if (e->tag == CV_ASN1_GENERALIZED_TIME && e->len == 15) {
		year = digits(p, 4);
		p += 4;
	} else {
		return -1;
	}
	mon = digits(p, 2);
	day = digits(p + 2, 2);
	hour = digits(p + 4, 2);
	min = digits(p + 6, 2);
	sec = digits(p + 8, 2);
	if (year < 0 || mon < 0 || day < 0 || hour < 0 || min < 0 || sec < 0 || p[10] != 'Z' ||
	    sec > 59)
		return -1;
	return cv_time_from_utc(year, mon, day, hour, min, sec, out);
}

/* OBJECT IDENTIFIER: base-128 arcs, minimal (no 0x80 lead octet), the first octet 40*X+Y. */
int
cv_asn1_oid_text(const uint8_t *oid, size_t len, char *out, size_t out_len)
{
	size_t pos = 0;
	uint64_t arc = 0;
	bool first = true, start = true;

	if (len == 0 || out_len == 0 || (oid[len - 1] & 0x80))
		return -1;
	for (size_t i = 0; i < len; i++) {
		int n;

		if (start && oid[i] == 0x80)
			return -1;
		start = false;
		if (arc > (UINT64_MAX >> 7))
			return -1;
		arc = (arc << 7) | (oid[i] & 0x7f);
		if (oid[i] & 0x80)
			continue;
		if (first) {
			unsigned x = arc < 40 ? 0 : arc < 80 ? 1 : 2;

			n = snprintf(out + pos, out_len - pos, "%u.%llu", x,
			             (unsigned long long)(arc - 40 * x));
			first = false;
		} else {
			n = snprintf(out + pos, out_len - pos, ".%llu", (unsigned long long)arc);
		}
		if (n < 0 || (size_t)n >= out_len - pos)
			return -1;
		pos += (size_t)n;
		arc = 0;
		start = true;
	}
	return 0;
}

bool
cv_asn1_oid_eq(const struct cv_asn1_elem *e, const uint8_t *oid, size_t len)
{
	return e->tag == CV_ASN1_OID && e->len == len && memcmp(e->val, oid, len) == 0;
}

static bool
is_string_tag(uint8_t tag)
{
	return tag == CV_ASN1_UTF8_STRING || tag == CV_ASN1_PRINTABLE_STRING ||
	       tag == CV_ASN1_IA5_STRING || tag == CV_ASN1_T61_STRING ||
	       tag == CV_ASN1_VISIBLE_STRING;
}

static bool
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Next character of a string after RFC 4518-style folding; -1 at the end. */
static int
fold_next(const uint8_t **p, const uint8_t *end, bool *pending_space)
{
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
	uint8_t c = *(*p)++;

	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static bool
string_equal(const struct cv_asn1_elem *a, const struct cv_asn1_elem *b)
{
	const uint8_t *pa = a->val, *pb = b->val, *ea = a->val + a->len, *eb = b->val + b->len;
	bool sa = false, sb = false;

	while (pa < ea && is_space(*pa))
		pa++;
	while (pb < eb && is_space(*pb))
		pb++;
	while (ea > pa && is_space(ea[-1]))
		ea--;
	while (eb > pb && is_space(eb[-1]))
		eb--;
	for (;;) {
		int ca = fold_next(&pa, ea, &sa), cb = fold_next(&pb, eb, &sb);

		if (ca != cb)
			return false;
		if (ca < 0)
			return true;
	}
}

/* AttributeTypeAndValue ::= SEQUENCE { type AttributeType, value AttributeValue } */
static bool
atav_equal(struct cv_asn1 *a, struct cv_asn1 *b)
{
	struct cv_asn1 sa, sb;
	struct cv_asn1_elem ta, tb, va, vb;

	if (cv_asn1_enter(a, CV_ASN1_SEQUENCE, &sa) < 0 ||
	    cv_asn1_enter(b, CV_ASN1_SEQUENCE, &sb) < 0 ||
	    cv_asn1_expect(&sa, CV_ASN1_OID, &ta) < 0 ||
	    cv_asn1_expect(&sb, CV_ASN1_OID, &tb) < 0 || cv_asn1_next(&sa, &va) < 0 ||
	    cv_asn1_next(&sb, &vb) < 0 || cv_asn1_finish(&sa) < 0 || cv_asn1_finish(&sb) < 0)
		return false;
	if (ta.len != tb.len || memcmp(ta.val, tb.val, ta.len) != 0)
		return false;
	if (is_string_tag(va.tag) && is_string_tag(vb.tag))
		return string_equal(&va, &vb);
	return va.raw_len == vb.raw_len && memcmp(va.raw, vb.raw, va.raw_len) == 0;
}

/*
 * Name ::= CHOICE { rdnSequence RDNSequence }
 * RDNSequence ::= SEQUENCE OF RelativeDistinguishedName
 * RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
 */
bool
cv_asn1_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	struct cv_asn1 da, db, na, nb;

	cv_asn1_init(&da, a, alen);
	cv_asn1_init(&db, b, blen);
	if (cv_asn1_enter(&da, CV_ASN1_SEQUENCE, &na) < 0 ||
	    cv_asn1_enter(&db, CV_ASN1_SEQUENCE, &nb) < 0 || cv_asn1_finish(&da) < 0 ||
	    cv_asn1_finish(&db) < 0)
		return false;
	while (!cv_asn1_empty(&na) && !cv_asn1_empty(&nb)) {
		struct cv_asn1 ra, rb;

		if (cv_asn1_enter(&na, CV_ASN1_SET, &ra) < 0 ||
		    cv_asn1_enter(&nb, CV_ASN1_SET, &rb) < 0 || cv_asn1_empty(&ra))
			return false;
		while (!cv_asn1_empty(&ra) && !cv_asn1_empty(&rb))
			if (!atav_equal(&ra, &rb))
				return false;
		if (!cv_asn1_empty(&ra) || !cv_asn1_empty(&rb))
			return false;
	}
	return cv_asn1_empty(&na) && cv_asn1_empty(&nb);
}

/*
 * GeneralName ::= CHOICE { otherName [0], rfc822Name [1] IA5String, dNSName [2] IA5String,
 *      x400Address [3], directoryName [4] Name, ediPartyName [5],
 *      uniformResourceIdentifier [6] IA5String, iPAddress [7] OCTET STRING,
 *      registeredID [8] OBJECT IDENTIFIER }
 * directoryName is EXPLICIT (a Name is a CHOICE), so [4] wraps a whole Name.
 */
bool
cv_asn1_general_name_equal(const struct cv_asn1_elem *a, const struct cv_asn1_elem *b)
{
	if (a->tag != b->tag)
		return false;
	if (a->tag == CV_ASN1_CTX_CONS(4))
		return cv_asn1_name_equal(a->val, a->len, b->val, b->len);
	return a->len == b->len && memcmp(a->val, b->val, a->len) == 0;
}
