/*
 * verdict_cache.h: verdicts of chains already decided (issue 13, "seen chains"), served again
 * without evaluating them afresh for as long as nothing that could change them has changed.
 *
 * The key is a SHA-256 digest over everything of a request that can change its verdict (the
 * chain's certificates in order, the extra certificates, the allowed trustpoints in order, the
 * purpose, the peer name, the AAA application). An entry holds the verdict and its validity:
 * the generations of what it was decided under (the configuration; the CRL store and
 * the OCSP cache when it consulted them), the time it was decided, and the first instant at
 * which time alone could change it. Why a hit can never differ from a fresh evaluation is
 * explained in README.md, "Verdict cache".
 *
 * Bounded (least recently used out first) and safe to use from several threads: one mutex
 * guards the table; entries are immutable once stored and reference counted, so a verdict
 * served from the cache stays readable while its entry is replaced or evicted.
 */
#ifndef CV_VERDICT_CACHE_H
#define CV_VERDICT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/clock.h"
#include "../common/verdict.h"

struct cv_request;
struct cv_verdict_cache;
struct cv_vc_entry;

#define CV_VC_KEY_LEN 32

struct cv_vc_key {
	uint8_t digest[CV_VC_KEY_LEN];
};

/* What a verdict was decided under, and the interval of time in which it holds. */
struct cv_vc_validity {
	uint64_t engine_gen; /* the configuration (cv_engine generation) */
	bool relied_crl;     /* consulted CRLs: crl_gen must still be current */
	uint64_t crl_gen;    /* CRL store generation when the evaluation started */
	bool relied_ocsp;    /* consulted OCSP answers: ocsp_gen must still be current */
	uint64_t ocsp_gen;   /* OCSP cache generation when the evaluation started */
	cv_time decided_at;  /* not served before it (a clock stepped back) */
	cv_time until;       /* not served from then on; CV_TIME_NONE: no time bound */
};

/* The state a stored validity is checked against at lookup. */
struct cv_vc_now {
	uint64_t engine_gen;
	uint64_t crl_gen;
	uint64_t ocsp_gen;
	cv_time now;
};

struct cv_vc_stats {
	uint64_t hits;
	uint64_t misses; /* requests with a key that were evaluated (cv_verdict_cache_note_miss) */
	uint64_t stores; /* verdicts stored */
	uint64_t invalidations; /* entries found outdated at lookup and dropped */
	uint64_t evictions;     /* entries dropped for room (least recently used) */
	size_t entries;         /* stored now */
	size_t max_entries;     /* 0: the cache is off */
};

/* A cache of at most max_entries verdicts (0: off, every lookup misses). NULL: no memory. */
struct cv_verdict_cache *cv_verdict_cache_new(size_t max_entries);
void cv_verdict_cache_free(struct cv_verdict_cache *cache); /* NULL is fine */

/* Changes the bound; the entries are dropped when it changes. */
void cv_verdict_cache_set_max(struct cv_verdict_cache *cache, size_t max_entries);

/*
 * The key of a request, or -1 when the request is not cached at all: one with an explicit
 * validation time `at` (a policy simulation, not a seen peer), or one carrying a certificate
 * that does not parse. peer_addr is not part of the key: it only names the peer in the log.
 */
int cv_verdict_cache_key(const struct cv_request *req, struct cv_vc_key *key);

#define CV_VC_CERTS_MAX 64 /* certificates of chain or extra in a cached request */

/*
 * The key from digests of the certificates without parsing them: chain_sha and extra_sha hold
 * a SHA-256 per certificate, 32 bytes each, in order; params gives the other members (its chain
 * and extra are not read). Of the DER (CV_VC_OF_DER): the key cv_verdict_cache_key makes from
 * the parsed request. Of the text the request carried each certificate in (CV_VC_OF_TEXT: the
 * protocol's base64, so that a seen chain is found without decoding it): a key of its own kind
 * (the two never collide), set in the request as text_key, which cv_verdict_cache_key returns.
 */
enum cv_vc_digests { CV_VC_OF_DER, CV_VC_OF_TEXT };
int cv_verdict_cache_key_of(enum cv_vc_digests of, const uint8_t *chain_sha, size_t n_chain,
                            const uint8_t *extra_sha, size_t n_extra,
                            const struct cv_request *params, struct cv_vc_key *key);

/*
 * Looks key up. On a hit returns the entry (hold it until done with *out, then
 * cv_verdict_cache_release) and fills *out with a shallow copy of the stored verdict whose
 * path, evidence and trace point into the entry: read it, never cv_verdict_free it. An entry
 * whose validity no longer holds at cur is dropped (an invalidation) and NULL returned. An
 * entry whose verdict was made with less than need (struct cv_verdict's made) is kept but not
 * served: NULL, and the caller's fresh evaluation replaces it with a fuller one.
 */
const struct cv_vc_entry *cv_verdict_cache_get(struct cv_verdict_cache *cache,
                                               const struct cv_vc_key *key,
                                               const struct cv_vc_now *cur,
                                               enum cv_verdict_detail need, struct cv_verdict *out);
void cv_verdict_cache_release(struct cv_verdict_cache *cache, const struct cv_vc_entry *entry);

/*
 * A rendering of an entry's verdict kept with it (a reply's bytes that depend on nothing but
 * the verdict, the detail level and the validation time): slot is the caller's (a detail
 * level), at the validation time it was made for. cv_verdict_cache_memo returns a malloc'ed
 * copy when one is kept for at, else NULL; the entry must be held (cv_verdict_cache_get).
 * The cache never reads the bytes; they go with the entry.
 */
#define CV_VC_MEMO_SLOTS 3
char *cv_verdict_cache_memo(struct cv_verdict_cache *cache, const struct cv_vc_entry *entry,
                            size_t slot, cv_time at, size_t *len);
void cv_verdict_cache_memo_keep(struct cv_verdict_cache *cache, const struct cv_vc_entry *entry,
                                size_t slot, cv_time at, const char *text, size_t len);

/* Counts a miss: a request with a key that had to be evaluated (a lookup may be tried more
 * than once for one request; the evaluation happens once). */
void cv_verdict_cache_note_miss(struct cv_verdict_cache *cache);

/* Stores a deep copy of v under key (replacing an older entry). Out of memory stores nothing. */
void cv_verdict_cache_put(struct cv_verdict_cache *cache, const struct cv_vc_key *key,
                          const struct cv_vc_validity *validity, const struct cv_verdict *v);

/* Drops every entry; returns how many. */
size_t cv_verdict_cache_clear(struct cv_verdict_cache *cache);

void cv_verdict_cache_get_stats(struct cv_verdict_cache *cache, struct cv_vc_stats *out);

#endif
