/*
 * cert_cache.h: parse once. A bounded, thread-safe table of parsed certificates keyed by the
 * SHA-256 of their DER: a certificate seen before (the same intermediate in every request,
 * a client that reconnects) is taken from here instead of being decoded again. The table
 * holds references; a newer certificate may take an older one's place.
 */
#ifndef CV_CERT_CACHE_H
#define CV_CERT_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "cert.h"

#define CV_CERT_CACHE_DEFAULT 8192 /* certificates kept (a few KiB each) */

struct cv_cert_cache;

struct cv_cert_cache *cv_cert_cache_new(size_t max_certs);
void cv_cert_cache_free(struct cv_cert_cache *cache); /* NULL is fine */

/*
 * cv_cert_from_der through the cache: *out gets a reference of its own (cv_cert_unref),
 * the same certificate for the same DER bytes. cache may be NULL (no caching). A DER that
 * does not parse is not remembered: the error is the parser's, each time.
 */
int cv_cert_cache_from_der(struct cv_cert_cache *cache, const uint8_t *der, size_t len,
                           struct cv_cert **out, struct cv_error *err);

struct cv_cert_cache_stats {
	uint64_t hits, misses;
	size_t certs;
};
void cv_cert_cache_get_stats(struct cv_cert_cache *cache, struct cv_cert_cache_stats *out);

#endif
