/* der.c: the project's strict DER reader (X.690 section 10) and its value helpers. */
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
 * (high-tag-number form) are refused, and so are universal tags in a form DER forbids
 * (X.690 8.9, 8.11, 10.2): SEQUENCE and SET primitive, any other universal type constructed,
 * and tag 0 (end-of-contents, which only indefinite lengths use).
 */
static bool
universal_form_ok(uint8_t tag)
{
	const uint8_t number = tag & 0x1f;

	if ((tag & 0xc0) != 0)
		return true; /* application, context-specific, private: either form */
	if (number == 0)
		return false;
	if (number == 0x10 || number == 0x11)
		return (tag & CV_ASN1_CONSTRUCTED) != 0;
	return (tag & CV_ASN1_CONSTRUCTED) == 0;
}

/* X.690 8.19: an OBJECT IDENTIFIER's subidentifiers end in an octet < 0x80 and start with no
 * 0x80 padding octet; there is at least one. */
bool
cv_asn1_oid_ok(const uint8_t *v, size_t len)
{
	bool start = true;

	if (len == 0 || (v[len - 1] & 0x80))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (start && v[i] == 0x80)
			return false;
		start = !(v[i] & 0x80);
	}
	return true;
}

int
cv_asn1_next(struct cv_asn1 *d, struct cv_asn1_elem *e)
{
	const uint8_t *p = d->p;
	size_t avail, len;

	if (p >= d->end || d->end - p < 2)
		return -1;
	e->tag = p[0];
	if ((e->tag & 0x1f) == 0x1f || !universal_form_ok(e->tag))
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
	if (len > avail || (e->tag == CV_ASN1_OID && !cv_asn1_oid_ok(p, len)))
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

int
cv_asn1_whole(const uint8_t *v, size_t len, uint8_t tag, struct cv_asn1_elem *e)
{
	struct cv_asn1 d;

	cv_asn1_init(&d, v, len);
	if (cv_asn1_expect(&d, tag, e) < 0)
		return -1;
	return cv_asn1_finish(&d);
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

/* INTEGER, ENUMERATED or [n] IMPLICIT INTEGER, minimal, 0 .. INT32_MAX. */
int
cv_asn1_small_int(const struct cv_asn1_elem *e, int32_t *out)
{
	uint32_t v = 0;
	bool implicit = (e->tag & (0xc0 | CV_ASN1_CONSTRUCTED)) == CV_ASN1_CONTEXT;

	if ((e->tag != CV_ASN1_INTEGER && e->tag != CV_ASN1_ENUMERATED && !implicit) ||
	    e->len == 0 || e->len > 4 || (e->val[0] & 0x80))
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

/* Appends "." (unless first) and v in decimal to out at *pos; -1 when out_len is too short. */
static int
append_arc(char *out, size_t out_len, size_t *pos, uint64_t v, bool first)
{
	char digits[20];
	size_t n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if (*pos + !first + n >= out_len) /* the NUL too */
		return -1;
	if (!first)
		out[(*pos)++] = '.';
	while (n > 0)
		out[(*pos)++] = digits[--n];
	out[*pos] = '\0';
	return 0;
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
		if (start && oid[i] == 0x80)
			return -1;
		start = false;
		if (arc > (UINT64_MAX >> 7))
			return -1;
		arc = (arc << 7) | (oid[i] & 0x7f);
		if (oid[i] & 0x80)
			continue;
		if (first) {
			const unsigned x = arc < 40 ? 0 : arc < 80 ? 1 : 2;

			if (append_arc(out, out_len, &pos, x, true) < 0 ||
			    append_arc(out, out_len, &pos, arc - 40 * x, false) < 0)
				return -1;
			first = false;
		} else if (append_arc(out, out_len, &pos, arc, false) < 0) {
			return -1;
		}
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

size_t
cv_asn1_header_len(size_t len)
{
	return len < 0x80 ? 2 : len < 0x100 ? 3 : 4;
}

size_t
cv_asn1_put_header(uint8_t *out, uint8_t tag, size_t len)
{
	size_t n = 0;

	out[n++] = tag;
	if (len >= 0x100) {
		out[n++] = 0x82;
		out[n++] = (uint8_t)(len >> 8);
	} else if (len >= 0x80) {
		out[n++] = 0x81;
	}
	out[n++] = (uint8_t)len;
	return n;
}
