/*
 * der.h: certval's one DER reader (ITU-T X.690): strict and bounds-checked, for every
 * structure certval reads itself (certificate parts and extensions in the validator, CRLs,
 * OCSP). RFC 5280 name comparison over it is in name.h.
 *
 * Rules enforced everywhere: low-tag-number form only (tag numbers 0-30, which covers every
 * X.509 structure), definite lengths in minimal form (short form below 128, no leading zero
 * octets in the long form, at most 4 length octets), every length within its parent, no
 * indefinite lengths, and cv_asn1_finish() refuses trailing bytes where a structure ends.
 * Nothing here allocates: elements point into the caller's buffer.
 */
#ifndef CV_DER_H
#define CV_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/clock.h"

/* Universal tags and the two bits of the identifier octet that matter here. */
#define CV_ASN1_BOOLEAN          0x01
#define CV_ASN1_INTEGER          0x02
#define CV_ASN1_BIT_STRING       0x03
#define CV_ASN1_OCTET_STRING     0x04
#define CV_ASN1_NULL             0x05
#define CV_ASN1_OID              0x06
#define CV_ASN1_ENUMERATED       0x0a
#define CV_ASN1_UTF8_STRING      0x0c
#define CV_ASN1_NUMERIC_STRING   0x12
#define CV_ASN1_PRINTABLE_STRING 0x13
#define CV_ASN1_T61_STRING       0x14
#define CV_ASN1_IA5_STRING       0x16
#define CV_ASN1_UTC_TIME         0x17
#define CV_ASN1_GENERALIZED_TIME 0x18
#define CV_ASN1_VISIBLE_STRING   0x1a
#define CV_ASN1_UNIVERSAL_STRING 0x1c
#define CV_ASN1_BMP_STRING       0x1e
#define CV_ASN1_SEQUENCE         0x30
#define CV_ASN1_SET              0x31
#define CV_ASN1_CONSTRUCTED      0x20
#define CV_ASN1_CONTEXT          0x80

/* [n] IMPLICIT primitive, [n] constructed (EXPLICIT or IMPLICIT over a constructed type). */
#define CV_ASN1_CTX(n)      (CV_ASN1_CONTEXT | (n))
#define CV_ASN1_CTX_CONS(n) (CV_ASN1_CONTEXT | CV_ASN1_CONSTRUCTED | (n))

/* A cursor over the contents of one structure: [p, end). */
struct cv_asn1 {
	const uint8_t *p;
	const uint8_t *end;
};

/* One element: its identifier octet, its contents, and the whole encoding (tag to end). */
struct cv_asn1_elem {
	uint8_t tag;
	const uint8_t *val;
	size_t len;
	const uint8_t *raw;
	size_t raw_len;
};

void cv_asn1_init(struct cv_asn1 *d, const uint8_t *data, size_t len);
static inline bool
cv_asn1_empty(const struct cv_asn1 *d)
{
	return d->p >= d->end;
}
/* The identifier octet of the next element, or -1 at the end. */
int cv_asn1_peek(const struct cv_asn1 *d);

/* Reads the next element whatever its tag. Returns 0, or -1 on malformed or truncated input. */
int cv_asn1_next(struct cv_asn1 *d, struct cv_asn1_elem *e);
/* Reads the next element, which must carry tag. */
int cv_asn1_expect(struct cv_asn1 *d, uint8_t tag, struct cv_asn1_elem *e);
/* Reads an OPTIONAL element: *present tells whether the next element carried tag. */
int cv_asn1_optional(struct cv_asn1 *d, uint8_t tag, struct cv_asn1_elem *e, bool *present);
/* Reads a constructed element with tag and gives a cursor over its contents. */
int cv_asn1_enter(struct cv_asn1 *d, uint8_t tag, struct cv_asn1 *inner);
/* A cursor over an element's contents. */
void cv_asn1_open(const struct cv_asn1_elem *e, struct cv_asn1 *inner);
/* 0 when the cursor is exhausted, -1 when bytes remain (trailing data). */
int cv_asn1_finish(const struct cv_asn1 *d);

/* Reads one element of tag that must fill [v, v+len) exactly (an extension's value, an
 * EXPLICIT tag's contents). Returns 0 or -1. */
int cv_asn1_whole(const uint8_t *v, size_t len, uint8_t tag, struct cv_asn1_elem *e);

/*
 * INTEGER contents as a certificate serial number: 1 to CV_ASN1_SERIAL_MAX octets. Negative and
 * zero values are accepted (RFC 5280 4.1.2.2 tolerates them from non-conforming CAs; PKITS
 * 4.4.14 has one), as are 21-octet serials (a 20-octet value with its top bit set). A
 * non-minimal encoding (a redundant leading 0x00 or 0xFF) is not valid DER; it is accepted
 * and normalised (the redundant octets skipped) because rejecting one entry would make a whole
 * CRL unusable. serial and len give the normalised octets, a view into the element.
 */
#define CV_ASN1_SERIAL_MAX 32
int cv_asn1_serial(const struct cv_asn1_elem *e, const uint8_t **serial, size_t *len);
/* Skips redundant leading octets of two's-complement INTEGER contents (see above). */
void cv_asn1_int_normalise(const uint8_t **p, size_t *len);
/*
 * Small non-negative INTEGER or ENUMERATED (minimal encoding) into *out (at most INT32_MAX). A
 * context-specific primitive tag is taken as an [n] IMPLICIT INTEGER (e.g. SkipCerts).
 */
int cv_asn1_small_int(const struct cv_asn1_elem *e, int32_t *out);
/* BOOLEAN contents: one octet, 0x00 or 0xFF (DER). */
int cv_asn1_bool(const struct cv_asn1_elem *e, bool *out);
/*
 * BIT STRING contents: *unused is the count of unused bits in the last octet (0-7, zero when
 * empty, and those bits must be zero in DER). bits and nbytes give the octets after it.
 */
int cv_asn1_bit_string(const struct cv_asn1_elem *e, const uint8_t **bits, size_t *nbytes,
                       unsigned *unused);
/* A named-bit BIT STRING of at most 16 bits as a mask with bit n = named bit n. */
int cv_asn1_bit_flags(const struct cv_asn1_elem *e, uint32_t *out);
/* UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ) per RFC 5280 4.1.2.5. */
int cv_asn1_time(const struct cv_asn1_elem *e, cv_time *out);
/* OBJECT IDENTIFIER contents to dotted text ("1.2.840.113549.1.1.11"); -1 if malformed. */
int cv_asn1_oid_text(const uint8_t *oid, size_t len, char *out, size_t out_len);

/* X.690 8.19: whether the contents of an OBJECT IDENTIFIER are well formed (the reader checks
 * universal OIDs itself; this is for implicitly tagged ones, such as a registeredID). */
bool cv_asn1_oid_ok(const uint8_t *oid, size_t len);
/* True when OID contents equal the given contents (e.g. "\x55\x1d\x14" for 2.5.29.20). */
bool cv_asn1_oid_eq(const struct cv_asn1_elem *e, const uint8_t *oid, size_t len);

/*
 * The writing side, for the few DER values the project builds itself: the size of the header
 * (tag and minimal definite length) of a value of len octets, and the header written at out.
 * len must be below 65,536 (a header is then at most 4 octets).
 */
size_t cv_asn1_header_len(size_t len);
size_t cv_asn1_put_header(uint8_t *out, uint8_t tag, size_t len);

#endif
