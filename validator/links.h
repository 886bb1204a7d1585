/*
 * links.h: certificate signatures already verified, remembered across requests: a link
 * (certificate, issuer, DSA parameter source) whose signature verified once is not verified
 * again. Only successes are kept; the table is bounded (a newer link may take an older one's
 * place) and safe to share between threads.
 */
#ifndef CV_LINKS_H
#define CV_LINKS_H

#include <stddef.h>
#include <stdint.h>

#include "cert.h"

#define CV_LINK_CACHE_DEFAULT 65536 /* links remembered (2 MiB) */

struct cv_link_cache;

struct cv_link_cache *cv_link_cache_new(size_t max_links);
void cv_link_cache_free(struct cv_link_cache *cache);

/* Was the signature of child by issuer (params: where DSA parameters come from, or NULL)
 * verified before? */
bool cv_link_cache_known(struct cv_link_cache *cache, const struct cv_cert *child,
                         const struct cv_cert *issuer, const struct cv_cert *params);
void cv_link_cache_add(struct cv_link_cache *cache, const struct cv_cert *child,
                       const struct cv_cert *issuer, const struct cv_cert *params);

/* Forgets one link (an expired or zeroized peer key, R49); true when it was remembered. */
bool cv_link_cache_forget(struct cv_link_cache *cache, const struct cv_cert *child,
                          const struct cv_cert *issuer, const struct cv_cert *params);

/* Forgets every link (`clear pubkeys`, IOS `crypto key zeroize pubkey-chain`); returns how
 * many there were. */
size_t cv_link_cache_clear(struct cv_link_cache *cache);

struct cv_link_cache_stats {
	uint64_t hits, misses;
	size_t links;
};
void cv_link_cache_get_stats(struct cv_link_cache *cache, struct cv_link_cache_stats *out);

#endif
