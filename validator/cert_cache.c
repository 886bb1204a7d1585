/*
 * cert_cache.c: the parsed-certificate cache (see cert_cache.h): a direct-mapped table of
 * references indexed by the DER's SHA-256, under one mutex. A hit is confirmed by comparing
 * the DER itself, so a lookup never returns a certificate for other bytes.
 */
#include "cert_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

struct cv_cert_cache {
	pthread_mutex_t mu;
	struct cv_cert **slots;
	size_t mask; /* slots - 1: a power of two */
	size_t certs;
	uint64_t hits, misses;
};

struct cv_cert_cache *
cv_cert_cache_new(size_t max_certs)
{
	struct cv_cert_cache *c = calloc(1, sizeof(*c));
	size_t n = 64;

	if (c == NULL)
		return NULL;
	while (n < max_certs && n < ((size_t)1 << 20))
		n <<= 1;
	c->slots = calloc(n, sizeof(*c->slots));
	if (c->slots == NULL || pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c->slots);
		free(c);
		return NULL;
	}
	c->mask = n - 1;
	return c;
}

void
cv_cert_cache_free(struct cv_cert_cache *cache)
{
	if (cache == NULL)
		return;
	for (size_t i = 0; i <= cache->mask; i++)
		cv_cert_unref(cache->slots[i]);
	pthread_mutex_destroy(&cache->mu);
	free(cache->slots);
	free(cache);
}

static size_t
slot_of(const struct cv_cert_cache *cache, const uint8_t digest[32])
{
	size_t h;

	memcpy(&h, digest, sizeof(h));
	return h & cache->mask;
}

static bool
same_der(const struct cv_cert *cert, const uint8_t *der, size_t len)
{
	size_t have_len;
	const uint8_t *have = cv_cert_der(cert, &have_len);

	return have_len == len && memcmp(have, der, len) == 0;
}

/* A reference to the cached certificate for der, or NULL. */
static struct cv_cert *
lookup(struct cv_cert_cache *cache, const uint8_t digest[32], const uint8_t *der, size_t len)
{
	struct cv_cert *hit;

	pthread_mutex_lock(&cache->mu);
	hit = cache->slots[slot_of(cache, digest)];
	if (hit != NULL && same_der(hit, der, len)) {
		cv_cert_ref(hit);
		cache->hits++;
	} else {
		hit = NULL;
		cache->misses++;
	}
	pthread_mutex_unlock(&cache->mu);
	return hit;
}

static void
insert(struct cv_cert_cache *cache, struct cv_cert *cert)
{
	struct cv_cert **slot;
	struct cv_cert *old;

	pthread_mutex_lock(&cache->mu);
	slot = &cache->slots[slot_of(cache, cv_cert_sha256(cert))];
	old = *slot;
	*slot = cv_cert_ref(cert);
	if (old == NULL)
		cache->certs++;
	pthread_mutex_unlock(&cache->mu);
	cv_cert_unref(old);
}

int
cv_cert_cache_from_der(struct cv_cert_cache *cache, const uint8_t *der, size_t len,
                       struct cv_cert **out, struct cv_error *err)
{
	uint8_t digest[32];

	*out = NULL;
	if (cache == NULL || der == NULL || len == 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, der, len, digest) < 0)
		return cv_cert_from_der(der, len, out, err);
	if ((*out = lookup(cache, digest, der, len)) != NULL)
		return 0;
	/* the digest is the certificate's identity too: not computed again */
	if (cv_cert_from_der_sha(der, len, digest, out, err) < 0)
		return -1;
	insert(cache, *out);
	return 0;
}

void
cv_cert_cache_get_stats(struct cv_cert_cache *cache, struct cv_cert_cache_stats *out)
{
	pthread_mutex_lock(&cache->mu);
	out->hits = cache->hits;
	out->misses = cache->misses;
	out->certs = cache->certs;
	pthread_mutex_unlock(&cache->mu);
}
