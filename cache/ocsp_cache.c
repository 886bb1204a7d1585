/* ocsp_cache.c: validated OCSP answers by (CertID, responder), bounded, least recently used out. */
#include "ocsp_cache.h"

#include <stdlib.h>
#include <string.h>

struct cv_ocsp_cache {
	struct cv_ocsp_answer *v;
	size_t n;
	size_t max;
	uint64_t generation; /* counts every answer stored and every clear (issue 13) */
};

struct cv_ocsp_cache *
cv_ocsp_cache_new(size_t max_entries)
{
	struct cv_ocsp_cache *cache = calloc(1, sizeof(*cache));

	if (cache == NULL)
		return NULL;
	cache->max = max_entries > 0 ? max_entries : CV_OCSP_CACHE_DEFAULT_MAX;
	cache->v = calloc(cache->max, sizeof(*cache->v));
	if (cache->v == NULL) {
		free(cache);
		return NULL;
	}
	return cache;
}

void
cv_ocsp_cache_free(struct cv_ocsp_cache *cache)
{
	if (cache == NULL)
		return;
	free(cache->v);
	free(cache);
}

static long
find(const struct cv_ocsp_cache *cache, const char *key)
{
	for (size_t i = 0; i < cache->n; i++)
		if (strcmp(cache->v[i].key, key) == 0)
			return (long)i;
	return -1;
}

static void
remove_at(struct cv_ocsp_cache *cache, size_t i)
{
	cache->v[i] = cache->v[--cache->n];
}

bool
cv_ocsp_cache_get(struct cv_ocsp_cache *cache, const char *key, cv_time now,
                  struct cv_ocsp_answer *out)
{
	const long i = find(cache, key);

	if (i < 0)
		return false;
	if (cache->v[i].valid_until != CV_TIME_NONE && now > cache->v[i].valid_until) {
		remove_at(cache, (size_t)i);
		return false;
	}
	cache->v[i].last_used = now;
	*out = cache->v[i];
	return true;
}

void
cv_ocsp_cache_put(struct cv_ocsp_cache *cache, const struct cv_ocsp_answer *answer, cv_time now)
{
	long i = find(cache, answer->key);

	cache->generation++;
	if (i < 0 && cache->n < cache->max) {
		i = (long)cache->n++;
	} else if (i < 0) {
		i = 0;
		for (size_t j = 1; j < cache->n; j++)
			if (cache->v[j].last_used < cache->v[i].last_used)
				i = (long)j;
	}
	cache->v[i] = *answer;
	cache->v[i].stored_at = now;
	cache->v[i].last_used = now;
}

size_t
cv_ocsp_cache_clear(struct cv_ocsp_cache *cache)
{
	const size_t n = cache->n;

	cache->generation++;
	cache->n = 0;
	return n;
}

uint64_t
cv_ocsp_cache_generation(const struct cv_ocsp_cache *cache)
{
	return cache->generation;
}

size_t
cv_ocsp_cache_count(const struct cv_ocsp_cache *cache)
{
	return cache->n;
}

void
cv_ocsp_cache_foreach(const struct cv_ocsp_cache *cache, cv_ocsp_cache_fn fn, void *arg)
{
	for (size_t i = 0; i < cache->n; i++)
		fn(&cache->v[i], arg);
}
