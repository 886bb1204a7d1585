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

#define CV_CERT_CACHE_DEFAULT 8192 /* certificates kept (about 5 KiB each, README "Limits") */

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

/*
 * A certificate as a request carries it, in base64 text of text_len bytes whose SHA-256 is
 * text_sha256 (the caller decoded the text to der). The same as cv_cert_cache_from_der; a
 * certificate met before (a DER hit) has its text remembered too (a table of its own, 1,024
 * texts of at most 8 KiB), so that cv_cert_cache_by_text gives it for the same text without
 * the text being decoded or the DER hashed. text_sha256 NULL: as cv_cert_cache_from_der.
 */
int cv_cert_cache_from_der_text(struct cv_cert_cache *cache, const uint8_t *der, size_t len,
                                const uint8_t text_sha256[32], const char *text, size_t text_len,
                                struct cv_cert **out, struct cv_error *err);
/* A reference to the certificate remembered for exactly this text (confirmed by comparing the
 * text), or NULL. cache may be NULL. */
struct cv_cert *cv_cert_cache_by_text(struct cv_cert_cache *cache, const uint8_t text_sha256[32],
                                      const char *text, size_t len);

struct cv_cert_cache_stats {
	uint64_t hits, misses;
	uint64_t text_hits; /* certificates found by their text (cv_cert_cache_by_text) */
	size_t certs;
};
void cv_cert_cache_get_stats(struct cv_cert_cache *cache, struct cv_cert_cache_stats *out);

#endif
