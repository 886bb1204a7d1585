/*
 * crl_store.h: the CRL cache shared by every request (R21-R25, O-5, D-6): ingested CRLs
 * by the source they came from (a CDP URL, or "file:PATH"), each with the moment it was
 * fetched and its effective expiry, the earlier of the CRL's nextUpdate and the trustpoint's
 * `crl-cache delete-after` limit. Expired entries are dropped when looked at.
 */
#ifndef CV_CRL_STORE_H
#define CV_CRL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/clock.h"
#include "../common/error.h"
#include "../validator/crl/crl.h"

struct cv_crl_store;

#define CV_CRL_SOURCE_MAX 512 /* longest source kept (URL or "file:PATH") */

struct cv_crl_store_entry {
	const char *source;     /* URL or "file:PATH" */
	const char *trustpoint; /* the trustpoint whose policy cached it */
	struct cv_crl *crl;     /* borrowed */
	cv_time fetched_at;
	cv_time expires;       /* effective expiry; CV_TIME_NONE: until cleared (D-6) */
	bool delete_after;     /* expiry set by `crl-cache delete-after` rather than nextUpdate */
	const char *etag;      /* the HTTP validators of the download, for a conditional GET */
	cv_time last_modified; /* CV_TIME_NONE when the server sent none */
};

struct cv_crl_store *cv_crl_store_new(void);
void cv_crl_store_free(struct cv_crl_store *store);

/* The effective expiry of a CRL fetched at fetched_at (O-5); delete_after_min 0: none. */
cv_time cv_crl_store_expiry(const struct cv_crl *crl, cv_time fetched_at, unsigned delete_after_min,
                            bool *by_delete_after);

/*
 * The CRL cached for source, or NULL when absent or expired at now (an expired entry is
 * dropped). The result holds a new reference; *entry (may be NULL) is a copy of its metadata,
 * valid until the store changes.
 */
struct cv_crl *cv_crl_store_get(struct cv_crl_store *store, const char *source, cv_time now,
                                struct cv_crl_store_entry *entry);

/* Adds or replaces the entry of source (the store takes its own reference). 0 or -1. */
int cv_crl_store_put(struct cv_crl_store *store, const char *source, const char *trustpoint,
                     struct cv_crl *crl, cv_time fetched_at, cv_time expires, bool delete_after);

/*
 * Issue 16: fn is called on every cv_crl_store_put with the CRL stored and the one it
 * replaces (NULL when the source had none, or the same object on a re-store), before the
 * old one is released; the store must not be changed from inside fn. NULL: no listener.
 */
typedef void (*cv_crl_store_put_fn)(const char *source, const char *trustpoint, struct cv_crl *crl,
                                    const struct cv_crl *prev, void *arg);
void cv_crl_store_set_listener(struct cv_crl_store *store, cv_crl_store_put_fn fn, void *arg);
/* Tells the listener of a CRL kept outside the store (a `crl file` loaded again). */
void cv_crl_store_notify(struct cv_crl_store *store, const char *source, const char *trustpoint,
                         struct cv_crl *crl, const struct cv_crl *prev);

/* Records the HTTP validators (ETag, Last-Modified) of source's download. */
void cv_crl_store_set_validators(struct cv_crl_store *store, const char *source, const char *etag,
                                 cv_time last_modified);

/* Drops entries expired at now; returns how many. */
size_t cv_crl_store_expire(struct cv_crl_store *store, cv_time now);

/* Drops every entry, or those of one trustpoint; returns how many. */
size_t cv_crl_store_clear(struct cv_crl_store *store, const char *trustpoint);

/*
 * A number that changes whenever a CRL is stored, replaced or removed (put, load, clear,
 * expire): a verdict decided on the cached CRLs of one generation may rely on them only while
 * it is current (policy/verdict_cache.h).
 */
uint64_t cv_crl_store_generation(const struct cv_crl_store *store);

size_t cv_crl_store_count(const struct cv_crl_store *store);

/*
 * Persistence (D-4). With a directory set, every entry put is also written there: the DER
 * in a file named by the source's SHA-256 and the DER's own, and a metadata file named by the
 * source's, holding its source, trustpoint, times and the DER's SHA-256. Each file is written
 * atomically (temporary file, fsync, rename, fsync of the directory), the DER first, then the
 * metadata, then the previous DER is removed: a kill at any moment leaves a metadata file
 * with the DER it names. Dropped entries lose their files. A write that fails is a problem
 * (below) and leaves no file of the entry.
 * cv_crl_store_load reads the directory back: entries whose DER is missing, does not match
 * its digest, does not parse, or has expired at now are deleted (a problem each, expiry
 * aside); the rest are cached again; temporary files and DER files no metadata names, which
 * kills leave, are removed. The CRLs' signatures are checked again when they are used, as for
 * any cached CRL.
 * Returns the number of entries loaded, or -1 with err set when the directory is unusable.
 */
int cv_crl_store_set_dir(struct cv_crl_store *store, const char *dir, struct cv_error *err);
int cv_crl_store_load(struct cv_crl_store *store, cv_time now, struct cv_error *err);

/*
 * A problem with a cache file (D-4): damaged or unreadable at load (then deleted, and the CRL
 * downloaded again when needed), or a write that failed (full disk, read-only directory; the
 * entry is then kept in memory only). Each is logged as a warning when it happens; the store
 * keeps the latest 16 for `show crls`.
 */
struct cv_crl_store_problem {
	char file[256];
	char problem[CV_ERROR_MAX];
};

/* The problems remembered, oldest first, in *list (valid until the store changes); returns
 * how many happened since the store was made. */
size_t cv_crl_store_problems(const struct cv_crl_store *store,
                             const struct cv_crl_store_problem **list, size_t *n);

typedef void (*cv_crl_store_fn)(const struct cv_crl_store_entry *entry, void *arg);
/* Calls fn for each entry, soonest expiry first. */
void cv_crl_store_foreach(const struct cv_crl_store *store, cv_crl_store_fn fn, void *arg);

#endif
