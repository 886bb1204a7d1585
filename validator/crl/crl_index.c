/* crl_index.c: the compact, hashed serial index of one CRL (see crl_index.h). */
#include "crl_index.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "../der.h"
#include "../name.h"

struct record {
	uint32_t hash;
	uint32_t off; /* offset of the entry's encoding in the DER */
};

/* A run of entries sharing one issuer: from entry offset start to the next segment's. */
struct segment {
	uint32_t start;
	const uint8_t *names; /* certificateIssuer GeneralNames contents; NULL: the CRL issuer */
	size_t names_len;
};

struct cv_crl_index {
	const uint8_t *der;
	size_t der_len;
	uint64_t k0, k1; /* SipHash key */
	struct record *rec;
	size_t n, cap;
	uint32_t *dir; /* 2^bits + 1 slots */
	unsigned bits;
	struct segment *seg;
	size_t n_seg, seg_cap;
};

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = ROTL(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = ROTL(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = ROTL(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = ROTL(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = ROTL(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = ROTL(v2, 32);                                                                 \
	} while (0)

/* SipHash-2-4 (Aumasson and Bernstein) of a short message, truncated to 32 bits. */
static uint32_t
siphash(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
	uint64_t b = (uint64_t)len << 56, m;
	size_t i, left = len & 7, end = len - left;

	for (i = 0; i < end; i += 8) {
		m = 0;
		for (int j = 0; j < 8; j++)
			m |= (uint64_t)in[i + j] << (8 * j);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; j < left; j++)
		b |= (uint64_t)in[end + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	b = v0 ^ v1 ^ v2 ^ v3;
	return (uint32_t)(b ^ (b >> 32));
}

struct cv_crl_index *
cv_crl_index_new(const uint8_t *der, size_t der_len, size_t expected_entries)
{
	struct cv_crl_index *ix;
	uint64_t key[2];

	if (der_len > UINT32_MAX)
		return NULL;
	ix = calloc(1, sizeof(*ix));
	if (ix == NULL)
		return NULL;
	if (gnutls_rnd(GNUTLS_RND_NONCE, key, sizeof(key)) < 0) {
		free(ix);
		return NULL;
	}
	ix->k0 = key[0];
	ix->k1 = key[1];
	ix->der = der;
	ix->der_len = der_len;
	if (expected_entries > 0) {
		ix->rec = malloc(expected_entries * sizeof(*ix->rec));
		if (ix->rec == NULL) {
			free(ix);
			return NULL;
		}
		ix->cap = expected_entries;
	}
	return ix;
}

static int
add_segment(struct cv_crl_index *ix, uint32_t start, const uint8_t *names, size_t len)
{
	if (ix->n_seg == ix->seg_cap) {
		size_t cap = ix->seg_cap ? ix->seg_cap * 2 : 4;
		struct segment *s = realloc(ix->seg, cap * sizeof(*s));

		if (s == NULL)
			return -1;
		ix->seg = s;
		ix->seg_cap = cap;
	}
	ix->seg[ix->n_seg].start = start;
	ix->seg[ix->n_seg].names = names;
	ix->seg[ix->n_seg].names_len = len;
	ix->n_seg++;
	return 0;
}

int
cv_crl_index_add(void *arg, const struct cv_crl_entry_view *entry, struct cv_error *err)
{
	struct cv_crl_index *ix = arg;
	size_t off;

	if (entry->raw < ix->der || entry->raw + entry->raw_len > ix->der + ix->der_len) {
		cv_error_set(err, "CRL index: entry outside the CRL");
		return -1;
	}
	off = (size_t)(entry->raw - ix->der);
	if (ix->n == ix->cap) {
		size_t cap = ix->cap ? ix->cap + ix->cap / 2 : 64;
		struct record *r = realloc(ix->rec, cap * sizeof(*r));

		if (r == NULL) {
			cv_error_set(err, "CRL index: out of memory");
			return -1;
		}
		ix->rec = r;
		ix->cap = cap;
	}
	if (entry->cert_issuer != NULL &&
	    add_segment(ix, (uint32_t)off, entry->cert_issuer, entry->cert_issuer_len) < 0) {
		cv_error_set(err, "CRL index: out of memory");
		return -1;
	}
	ix->rec[ix->n].hash = siphash(ix->k0, ix->k1, entry->serial, entry->serial_len);
	ix->rec[ix->n].off = (uint32_t)off;
	ix->n++;
	return 0;
}

/* LSD radix sort of the records by hash, 8 bits per pass. */
static int
sort_records(struct cv_crl_index *ix)
{
	struct record *tmp, *src = ix->rec, *dst;
	size_t count[256];

	if (ix->n < 2)
		return 0;
	tmp = malloc(ix->n * sizeof(*tmp));
	if (tmp == NULL)
		return -1;
	dst = tmp;
	for (unsigned shift = 0; shift < 32; shift += 8) {
		size_t sum = 0;

		memset(count, 0, sizeof(count));
		for (size_t i = 0; i < ix->n; i++)
			count[(src[i].hash >> shift) & 0xff]++;
		for (unsigned b = 0; b < 256; b++) {
			size_t c = count[b];

			count[b] = sum;
			sum += c;
		}
		for (size_t i = 0; i < ix->n; i++)
			dst[count[(src[i].hash >> shift) & 0xff]++] = src[i];
		struct record *t = src;

		src = dst;
		dst = t;
	}
	/* four passes: the sorted data is back in ix->rec */
	free(tmp);
	return 0;
}

static inline size_t
bucket_of(const struct cv_crl_index *ix, uint32_t hash)
{
	return ix->bits == 0 ? 0 : hash >> (32 - ix->bits);
}

int
cv_crl_index_finish(struct cv_crl_index *ix, struct cv_error *err)
{
	size_t nb, i = 0;

	if (ix->n < ix->cap) { /* give back the growth slack */
		struct record *r = realloc(ix->rec, (ix->n ? ix->n : 1) * sizeof(*r));

		if (r != NULL) {
			ix->rec = r;
			ix->cap = ix->n ? ix->n : 1;
		}
	}
	if (sort_records(ix) < 0)
		goto oom;
	ix->bits = 0;
	while (ix->bits < 30 && ((size_t)2 << ix->bits) <= ix->n)
		ix->bits++;
	nb = (size_t)1 << ix->bits;
	ix->dir = malloc((nb + 1) * sizeof(*ix->dir));
	if (ix->dir == NULL)
		goto oom;
	for (size_t b = 0; b <= nb; b++) {
		while (i < ix->n && bucket_of(ix, ix->rec[i].hash) < b)
			i++;
		ix->dir[b] = (uint32_t)i;
	}
	return 0;
oom:
	cv_error_set(err, "CRL index: out of memory");
	return -1;
}

/* The segment holding the entry at offset off, or NULL before the first certificateIssuer. */
static const struct segment *
segment_of(const struct cv_crl_index *ix, uint32_t off)
{
	size_t lo = 0, hi = ix->n_seg;

	while (lo < hi) { /* first segment starting after off */
		size_t mid = lo + (hi - lo) / 2;

		if (ix->seg[mid].start <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? NULL : &ix->seg[lo - 1];
}

static bool
issuer_matches(const struct cv_crl_index *ix, uint32_t off, const uint8_t *crl_issuer,
               size_t crl_issuer_len, const uint8_t *cert_issuer, size_t cert_issuer_len)
{
	const struct segment *s = segment_of(ix, off);

	if (cert_issuer == NULL)
		return true;
	if (s == NULL)
		return crl_issuer == NULL ||
		       (crl_issuer_len == cert_issuer_len &&
		        memcmp(crl_issuer, cert_issuer, cert_issuer_len) == 0) ||
		       cv_name_equal(crl_issuer, crl_issuer_len, cert_issuer, cert_issuer_len);
	return cv_name_in_general_names(s->names, s->names_len, cert_issuer, cert_issuer_len);
}

bool
cv_crl_index_lookup(const struct cv_crl_index *ix, const uint8_t *crl_issuer, size_t crl_issuer_len,
                    const uint8_t *cert_issuer, size_t cert_issuer_len, const uint8_t *serial,
                    size_t serial_len, struct cv_crl_entry *out)
{
	uint32_t h;
	size_t b;

	memset(out, 0, sizeof(*out));
	out->reason = CV_CRL_REASON_NONE;
	out->revocation_date = CV_TIME_NONE;
	out->invalidity_date = CV_TIME_NONE;
	if (ix == NULL || ix->dir == NULL || serial_len == 0)
		return false;
	cv_asn1_int_normalise(&serial, &serial_len);
	h = siphash(ix->k0, ix->k1, serial, serial_len);
	b = bucket_of(ix, h);
	for (size_t i = ix->dir[b]; i < ix->dir[b + 1]; i++) {
		struct cv_crl_entry_view e;
		struct cv_asn1 d;
		struct cv_asn1_elem el;
		uint32_t off = ix->rec[i].off;

		if (ix->rec[i].hash != h)
			continue;
		cv_asn1_init(&d, ix->der + off, ix->der_len - off);
		if (cv_asn1_next(&d, &el) < 0 || cv_crl_read_entry(el.raw, el.raw_len, &e) < 0)
			continue;
		if (e.serial_len != serial_len || memcmp(e.serial, serial, serial_len) != 0)
			continue;
		if (!issuer_matches(ix, off, crl_issuer, crl_issuer_len, cert_issuer,
		                    cert_issuer_len))
			continue;
		const struct segment *s = segment_of(ix, off);

		out->revoked = true;
		out->revocation_date = e.revocation_date;
		out->reason = e.reason;
		out->invalidity_date = e.invalidity_date;
		out->unknown_critical = e.unknown_critical;
		if (s != NULL) {
			out->cert_issuer = s->names;
			out->cert_issuer_len = s->names_len;
		}
		return true;
	}
	return false;
}

size_t
cv_crl_index_count(const struct cv_crl_index *ix)
{
	return ix->n;
}

size_t
cv_crl_index_memory(const struct cv_crl_index *ix)
{
	size_t m = sizeof(*ix) + ix->cap * sizeof(*ix->rec) + ix->seg_cap * sizeof(*ix->seg);

	if (ix->dir != NULL)
		m += (((size_t)1 << ix->bits) + 1) * sizeof(*ix->dir);
	return m;
}

void
cv_crl_index_free(struct cv_crl_index *ix)
{
	if (ix == NULL)
		return;
	free(ix->rec);
	free(ix->dir);
	free(ix->seg);
	free(ix);
}
