/*
 * cert_cache.c: the parsed-certificate cache (see cert_cache.h): a direct-mapped table of
 * references indexed by the DER's SHA-256, and a smaller one indexed by the SHA-256 of the
 * base64 text a request carried it in, under one mutex. A hit is confirmed by comparing the
 * DER or the text itself, so a lookup never returns a certificate for other bytes.
 */
#include "cert_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#define TEXT_SLOTS 1024 /* texts of certificates met more than once (a power of two) */
#define TEXT_MAX   8192 /* longer texts are not kept: 8 MiB at most for the table */

/* A certificate's base64 text (a copy) and the certificate it decodes to. */
struct text_slot {
	uint8_t sha256[32]; /* of the text */
	char *text;
	size_t len;
	struct cv_cert *cert; /* a reference; NULL: the slot is free */
};

struct cv_cert_cache {
	pthread_mutex_t mu;
	struct cv_cert **slots;
	size_t mask; /* slots - 1: a power of two */
	size_t certs;
	uint64_t hits, misses, text_hits;
	struct text_slot *texts; /* TEXT_SLOTS */
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
	c->texts = calloc(TEXT_SLOTS, sizeof(*c->texts));
	if (c->slots == NULL || c->texts == NULL || pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c->slots);
		free(c->texts);
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
	for (size_t i = 0; i < TEXT_SLOTS; i++) {
		cv_cert_unref(cache->texts[i].cert);
		free(cache->texts[i].text);
	}
	pthread_mutex_destroy(&cache->mu);
	free(cache->slots);
	free(cache->texts);
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

static struct text_slot *
text_slot_of(const struct cv_cert_cache *cache, const uint8_t text_sha256[32])
{
	size_t h;

	memcpy(&h, text_sha256, sizeof(h));
	return &cache->texts[h & (TEXT_SLOTS - 1)];
}

struct cv_cert *
cv_cert_cache_by_text(struct cv_cert_cache *cache, const uint8_t text_sha256[32], const char *text,
                      size_t len)
{
	const struct text_slot *t;
	struct cv_cert *hit = NULL;

	if (cache == NULL)
		return NULL;
	pthread_mutex_lock(&cache->mu);
	t = text_slot_of(cache, text_sha256);
	if (t->cert != NULL && t->len == len && memcmp(t->sha256, text_sha256, 32) == 0 &&
	    memcmp(t->text, text, len) == 0) {
		hit = cv_cert_ref(t->cert);
		cache->text_hits++;
	}
	pthread_mutex_unlock(&cache->mu);
	return hit;
}

/* Remembers that text decodes to cert (a certificate met more than once); best effort. */
static void
keep_text(struct cv_cert_cache *cache, const uint8_t text_sha256[32], const char *text, size_t len,
          struct cv_cert *cert)
{
	char *copy = malloc(len > 0 ? len : 1);
	struct text_slot *t, old;

	if (copy == NULL)
		return;
	memcpy(copy, text, len);
	pthread_mutex_lock(&cache->mu);
	t = text_slot_of(cache, text_sha256);
	old = *t;
	memcpy(t->sha256, text_sha256, 32);
	t->text = copy;
	t->len = len;
	t->cert = cv_cert_ref(cert);
	pthread_mutex_unlock(&cache->mu);
	cv_cert_unref(old.cert);
	free(old.text);
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
	return cv_cert_cache_from_der_text(cache, der, len, NULL, NULL, 0, out, err);
}

int
cv_cert_cache_from_der_text(struct cv_cert_cache *cache, const uint8_t *der, size_t len,
                            const uint8_t text_sha256[32], const char *text, size_t text_len,
                            struct cv_cert **out, struct cv_error *err)
{
	uint8_t digest[32];

	*out = NULL;
	if (cache == NULL || der == NULL || len == 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, der, len, digest) < 0)
		return cv_cert_from_der(der, len, out, err);
	if ((*out = lookup(cache, digest, der, len)) != NULL) {
		if (text_sha256 != NULL && text_len <= TEXT_MAX) /* met before: it may come again */
			keep_text(cache, text_sha256, text, text_len, *out);
		return 0;
	}
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
	out->text_hits = cache->text_hits;
	out->certs = cache->certs;
	pthread_mutex_unlock(&cache->mu);
}
