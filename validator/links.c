/* links.c: a bounded, thread-safe table of verified certificate links (see links.h). */
#include "links.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

struct link {
	uint8_t key[32];
	bool used;
};

struct cv_link_cache {
	pthread_mutex_t mu;
	struct link *slots;
	size_t mask; /* slots - 1: a power of two */
	size_t links;
	uint64_t hits, misses;
};

struct cv_link_cache *
cv_link_cache_new(size_t max_links)
{
	struct cv_link_cache *c = calloc(1, sizeof(*c));
	size_t n = 1024;

	if (c == NULL)
		return NULL;
	while (n < max_links && n < ((size_t)1 << 24))
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
cv_link_cache_free(struct cv_link_cache *cache)
{
	if (cache == NULL)
		return;
	pthread_mutex_destroy(&cache->mu);
	free(cache->slots);
	free(cache);
}

/* SHA-256 of the three certificates' digests: the link's identity. */
static int
link_key(const struct cv_cert *child, const struct cv_cert *issuer, const struct cv_cert *params,
         uint8_t key[32])
{
	uint8_t buf[96];

	memcpy(buf, cv_cert_sha256(child), 32);
	memcpy(buf + 32, cv_cert_sha256(issuer), 32);
	if (params != NULL)
		memcpy(buf + 64, cv_cert_sha256(params), 32);
	else
		memset(buf + 64, 0, 32);
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, sizeof(buf), key);
}

static size_t
slot_of(const struct cv_link_cache *cache, const uint8_t key[32])
{
	size_t h;

	memcpy(&h, key, sizeof(h));
	return h & cache->mask;
}

bool
cv_link_cache_known(struct cv_link_cache *cache, const struct cv_cert *child,
                    const struct cv_cert *issuer, const struct cv_cert *params)
{
	uint8_t key[32];
	bool known;
	const struct link *l;

	if (cache == NULL || link_key(child, issuer, params, key) < 0)
		return false;
	pthread_mutex_lock(&cache->mu);
	l = &cache->slots[slot_of(cache, key)];
	known = l->used && memcmp(l->key, key, sizeof(key)) == 0;
	if (known)
		cache->hits++;
	else
		cache->misses++;
	pthread_mutex_unlock(&cache->mu);
	return known;
}

void
cv_link_cache_add(struct cv_link_cache *cache, const struct cv_cert *child,
                  const struct cv_cert *issuer, const struct cv_cert *params)
{
	uint8_t key[32];
	struct link *l;

	if (cache == NULL || link_key(child, issuer, params, key) < 0)
		return;
	pthread_mutex_lock(&cache->mu);
	l = &cache->slots[slot_of(cache, key)];
	if (!l->used)
		cache->links++;
	memcpy(l->key, key, sizeof(key));
	l->used = true;
	pthread_mutex_unlock(&cache->mu);
}

bool
cv_link_cache_forget(struct cv_link_cache *cache, const struct cv_cert *child,
                     const struct cv_cert *issuer, const struct cv_cert *params)
{
	uint8_t key[32];
	struct link *l;
	bool known;

	if (cache == NULL || link_key(child, issuer, params, key) < 0)
		return false;
	pthread_mutex_lock(&cache->mu);
	l = &cache->slots[slot_of(cache, key)];
	known = l->used && memcmp(l->key, key, sizeof(key)) == 0;
	if (known) {
		memset(l, 0, sizeof(*l));
		cache->links--;
	}
	pthread_mutex_unlock(&cache->mu);
	return known;
}

size_t
cv_link_cache_clear(struct cv_link_cache *cache)
{
	size_t n;

	pthread_mutex_lock(&cache->mu);
	n = cache->links;
	memset(cache->slots, 0, (cache->mask + 1) * sizeof(*cache->slots));
	cache->links = 0;
	pthread_mutex_unlock(&cache->mu);
	return n;
}

void
cv_link_cache_get_stats(struct cv_link_cache *cache, struct cv_link_cache_stats *out)
{
	pthread_mutex_lock(&cache->mu);
	out->hits = cache->hits;
	out->misses = cache->misses;
	out->links = cache->links;
	pthread_mutex_unlock(&cache->mu);
}
