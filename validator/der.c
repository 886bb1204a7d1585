/* der.c: the minimal DER reader of the validator and RFC 5280 7.1 distinguished-name matching. */
#include <stdio.h>
#include <string.h>

#include "x509int.h"

#define TAG_SEQUENCE 0x30
#define TAG_SET      0x31
#define TAG_OID      0x06

int
cv_der_next(struct cv_der *in, uint8_t *tag, struct cv_der *content, struct cv_der *whole)
{
	size_t hdr = 2, body = 0, n, i;

	if (in->len < 2 || (in->p[0] & 0x1f) == 0x1f)
		return -1;
	if (in->p[1] < 0x80) {
		body = in->p[1];
	} else {
		n = in->p[1] & 0x7f;
		if (n == 0 || n > 4 || in->len < 2 + n)
			return -1;
		for (i = 0; i < n; i++)
			body = (body << 8) | in->p[2 + i];
		hdr += n;
	}
	if (body > in->len - hdr)
		return -1;
	*tag = in->p[0];
	content->p = in->p + hdr;
	content->len = body;
	if (whole != NULL) {
		whole->p = in->p;
		whole->len = hdr + body;
	}
	in->p += hdr + body;
	in->len -= hdr + body;
	return 0;
}

int
cv_der_oid_text(const struct cv_der *oid, char *out, size_t out_len)
{
	size_t i, pos = 0;
	unsigned long v = 0;
	int w;
	bool first = true;

	if (oid->len == 0 || out_len == 0)
		return -1;
	for (i = 0; i < oid->len; i++) {
		if (v > (~0ul >> 8))
			return -1;
		v = (v << 7) | (oid->p[i] & 0x7f);
		if (oid->p[i] & 0x80)
			continue;
		if (first) {
			unsigned long a = v < 80 ? v / 40 : 2;
			w = snprintf(out + pos, out_len - pos, "%lu.%lu", a, v - a * 40);
			first = false;
		} else {
			w = snprintf(out + pos, out_len - pos, ".%lu", v);
		}
		if (w < 0 || (size_t)w >= out_len - pos)
			return -1;
		pos += (size_t)w;
		v = 0;
	}
	return (oid->p[oid->len - 1] & 0x80) ? -1 : 0;
}

int
cv_der_small_int(const struct cv_der *in, int *out)
{
	size_t i;
	int v = 0;

	if (in->len == 0 || in->len > 3 || (in->p[0] & 0x80))
		return -1;
	for (i = 0; i < in->len; i++)
		v = (v << 8) | in->p[i];
	*out = v;
	return 0;
}

static bool
is_string_tag(uint8_t tag)
{
	/* UTF8String, PrintableString, TeletexString, IA5String, VisibleString */
	return tag == 0x0c || tag == 0x13 || tag == 0x14 || tag == 0x16 || tag == 0x1a;
}

static unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* caseIgnoreMatch with insignificant whitespace removed (RFC 4518 simplified to ASCII). */
static bool
string_equal(const struct cv_der *a, const struct cv_der *b)
{
	size_t i = 0, j = 0;

	while (i < a->len && is_space(a->p[i]))
		i++;
	while (j < b->len && is_space(b->p[j]))
		j++;
	for (;;) {
		bool sa = false, sb = false;

		while (i < a->len && is_space(a->p[i])) {
			i++;
			sa = true;
		}
		while (j < b->len && is_space(b->p[j])) {
			j++;
			sb = true;
		}
		if (i == a->len || j == b->len)
			return i == a->len && j == b->len;
		if (sa != sb || lower(a->p[i]) != lower(b->p[j]))
			return false;
		i++;
		j++;
	}
}

static bool
ava_equal(struct cv_der a, struct cv_der b)
{
	struct cv_der oa, ob, va, vb;
	uint8_t ta, tb;

	if (cv_der_next(&a, &ta, &oa, NULL) < 0 || cv_der_next(&b, &tb, &ob, NULL) < 0 ||
	    ta != TAG_OID || tb != TAG_OID || oa.len != ob.len || memcmp(oa.p, ob.p, oa.len) != 0)
		return false;
	if (cv_der_next(&a, &ta, &va, NULL) < 0 || cv_der_next(&b, &tb, &vb, NULL) < 0)
		return false;
	if (is_string_tag(ta) && is_string_tag(tb))
		return string_equal(&va, &vb);
	return ta == tb && va.len == vb.len && memcmp(va.p, vb.p, va.len) == 0;
}

static int
rdn_count_avas(struct cv_der rdn)
{
	struct cv_der c;
	uint8_t tag;
	int n = 0;

	while (rdn.len > 0) {
		if (cv_der_next(&rdn, &tag, &c, NULL) < 0 || tag != TAG_SEQUENCE)
			return -1;
		n++;
	}
	return n;
}

/* Set equality of two RDNs: every AVA of a has an equal AVA in b, and the counts match. */
static bool
rdn_equal(struct cv_der a, struct cv_der b)
{
	struct cv_der ca, cb, it;
	uint8_t tag;
	int na = rdn_count_avas(a), nb = rdn_count_avas(b);

	if (na < 0 || na != nb)
		return false;
	while (a.len > 0) {
		bool found = false;

		if (cv_der_next(&a, &tag, &ca, NULL) < 0)
			return false;
		it = b;
		while (!found && it.len > 0) {
			if (cv_der_next(&it, &tag, &cb, NULL) < 0)
				return false;
			found = ava_equal(ca, cb);
		}
		if (!found)
			return false;
	}
	return true;
}

static int
name_open(const uint8_t *der, size_t len, struct cv_der *rdns)
{
	struct cv_der in = {der, len};
	uint8_t tag;

	if (cv_der_next(&in, &tag, rdns, NULL) < 0 || tag != TAG_SEQUENCE || in.len != 0)
		return -1;
	return 0;
}

/* Compares the RDNs of a and b pairwise while both last; *rest_a/rest_b get what remains. */
static bool
rdns_match(struct cv_der *a, struct cv_der *b)
{
	struct cv_der ra, rb;
	uint8_t ta, tb;

	while (a->len > 0 && b->len > 0) {
		if (cv_der_next(a, &ta, &ra, NULL) < 0 || cv_der_next(b, &tb, &rb, NULL) < 0 ||
		    ta != TAG_SET || tb != TAG_SET || !rdn_equal(ra, rb))
			return false;
	}
	return true;
}

bool
cv_name_equal(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
	struct cv_der ra, rb;

	if (a_len == b_len && memcmp(a, b, a_len) == 0)
		return true;
	if (name_open(a, a_len, &ra) < 0 || name_open(b, b_len, &rb) < 0)
		return false;
	return rdns_match(&ra, &rb) && ra.len == 0 && rb.len == 0;
}

bool
cv_name_within(const uint8_t *name, size_t name_len, const uint8_t *base, size_t base_len)
{
	struct cv_der rn, rb;

	if (name_open(name, name_len, &rn) < 0 || name_open(base, base_len, &rb) < 0)
		return false;
	return rdns_match(&rn, &rb) && rb.len == 0;
}

int
cv_name_rdn_count(const uint8_t *name, size_t len)
{
	struct cv_der rdns, c;
	uint8_t tag;
	int n = 0;

	if (name_open(name, len, &rdns) < 0)
		return -1;
	while (rdns.len > 0) {
		if (cv_der_next(&rdns, &tag, &c, NULL) < 0)
			return -1;
		n++;
	}
	return n;
}

void
cv_name_foreach_email(const uint8_t *name, size_t len,
                      void (*fn)(const struct cv_der *value, void *arg), void *arg)
{
	static const uint8_t email_oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01};
	struct cv_der rdns, rdn, ava, oid, val;
	uint8_t tag;

	if (name_open(name, len, &rdns) < 0)
		return;
	while (rdns.len > 0) {
		if (cv_der_next(&rdns, &tag, &rdn, NULL) < 0)
			return;
		while (rdn.len > 0) {
			if (cv_der_next(&rdn, &tag, &ava, NULL) < 0 ||
			    cv_der_next(&ava, &tag, &oid, NULL) < 0 ||
			    cv_der_next(&ava, &tag, &val, NULL) < 0)
				return;
			if (oid.len == sizeof(email_oid) &&
			    memcmp(oid.p, email_oid, sizeof(email_oid)) == 0)
				fn(&val, arg);
		}
	}
}
