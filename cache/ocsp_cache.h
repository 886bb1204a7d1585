/*
 * ocsp_cache.h: validated OCSP answers shared by every request (issue "OCSP", cache): one
 * answer per (CertID, responder URL) kept until the end of its usable window (nextUpdate, or
 * the short lifetime of a response without one), within a bound on the number of entries
 * (least recently used out first).
 */
#ifndef CV_OCSP_CACHE_H
#define CV_OCSP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/clock.h"

#define CV_OCSP_CACHE_DEFAULT_MAX 4096

struct cv_ocsp_answer {
	char key[65]; /* cv_ocsp_cache_key: SHA-256 hex of CertID and URL */
	char url[512];
	char subject[256]; /* the certificate's subject, for `show ocsp` */
	char serial[80];
	int status; /* enum cv_ocsp_status: only GOOD and REVOKED are cached */
	cv_time produced_at;
	cv_time this_update;
	cv_time next_update;
	cv_time valid_until;
	cv_time revoked_at;
	int revocation_reason;
	char signer[256];
	cv_time stored_at;
	cv_time last_used;
};

struct cv_ocsp_cache;

struct cv_ocsp_cache *cv_ocsp_cache_new(size_t max_entries);
void cv_ocsp_cache_free(struct cv_ocsp_cache *cache);

/* Copies the answer for key into *out when it is still usable at now; true on a hit. */
bool cv_ocsp_cache_get(struct cv_ocsp_cache *cache, const char *key, cv_time now,
                       struct cv_ocsp_answer *out);

/* Stores (or replaces) an answer; the least recently used one leaves when full. */
void cv_ocsp_cache_put(struct cv_ocsp_cache *cache, const struct cv_ocsp_answer *answer,
                       cv_time now);

size_t cv_ocsp_cache_clear(struct cv_ocsp_cache *cache);
/* A number that changes whenever an answer is stored or the cache cleared (a verdict that
 * relied on OCSP answers is current only within one generation, policy/verdict_cache.h). */
uint64_t cv_ocsp_cache_generation(const struct cv_ocsp_cache *cache);

size_t cv_ocsp_cache_count(const struct cv_ocsp_cache *cache);

typedef void (*cv_ocsp_cache_fn)(const struct cv_ocsp_answer *answer, void *arg);
void cv_ocsp_cache_foreach(const struct cv_ocsp_cache *cache, cv_ocsp_cache_fn fn, void *arg);

#endif
