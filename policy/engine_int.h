/*
 * engine_int.h: what the engine's stage files share (not for other modules): the engine, the
 * job of one request, and the calls that move a job along its pipeline.
 */
#ifndef CV_ENGINE_INT_H
#define CV_ENGINE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>

#include "../validator/crl/crl.h"
#include "../cache/crl_store.h"
#include "../cache/ocsp_cache.h"
#include "../validator/crl/crl_check.h"
#include "../validator/fetch/fetch.h"
#include "../validator/links.h"
#include "aaa.h"
#include "engine.h"
#include "maps.h"
#include "pubkeys.h"
#include "revocation.h"
#include "verdict_cache.h"

#define CANDIDATE_CERTS_MAX 256
#define REV_SOURCES_MAX     10 /* O-23: CDPs tried per certificate */
#define REV_LOCAL_CRLS_MAX  16 /* CRLs fetched by one request and not cached (crl-cache none) */

/* A CRL of a `crl file` of the running configuration (a file may hold several), loaded when
 * the configuration is set. */
struct file_crl {
	char *path;
	struct cv_crl *crl; /* NULL when it could not be loaded */
	char error[CV_MESSAGE_MAX];
};

struct verify_job;

/* One OCSP query in flight for a (CertID, responder): later requests wait for it. */
struct ocsp_flight {
	char key[65];
	struct verify_job *owner;
	struct verify_job **waiters;
	size_t n_waiters;
	struct ocsp_flight *next;
};

/* A background download of a cached CRL (refresh ahead of expiry, or `crl-request`). */
struct crl_refresh {
	struct cv_engine *engine;
	char source[CV_URL_MAX];
	char trustpoint[CV_LABEL_MAX];
	struct cv_fetch *fetch;
	struct crl_ingest_wait *ingest; /* its download being ingested (crl_ingest.c) */
	LIST_ENTRY(crl_refresh) link;
};

/* A CDP recently checked under a trust context, for `crl-request` (crl_walk.c, R54). */
#define SEEN_MAX 32
struct crl_seen {
	char trustpoint[CV_LABEL_MAX]; /* "" when the slot is free */
	char source[CV_URL_MAX];
};

struct cdp_walk; /* crl_walk.c: a CDP walk going on after a request's deadline */

/* The refresh schedule of one cached CRL source: what the server said and how refreshes went. */
struct refresh_sched {
	char source[CV_URL_MAX];
	cv_time fresh_until; /* Cache-Control max-age / Expires: not asked before; NONE: none */
	cv_time last_attempt;
	unsigned failures; /* consecutive failed refreshes */
	char last_error[CV_MESSAGE_MAX];
};

/* An OCSP answer asked with GET, asked again before it goes stale (ocsp_prefetch.c). */
struct ocsp_prefetch {
	struct cv_engine *engine;
	char key[65];  /* the OCSP cache's key */
	char url[512]; /* the responder */
	char *get_url; /* the RFC 5019 GET of the request */
	char trustpoint[CV_LABEL_MAX];
	struct cv_cert *cert, *issuer;
	cv_time this_update, valid_until; /* of the cached answer */
	cv_time last_seen;                /* a verdict used the answer */
	cv_time last_attempt;
	struct cv_fetch *fetch; /* in flight, or NULL */
};

/* AIA caIssuers (per trustpoint `aia-fetch`): what one request fetched, and the engine's cache. */
#define AIA_FETCHES_MAX 4  /* URLs one request may fetch */
#define AIA_CACHE_MAX   32 /* URLs whose certificates the engine remembers */
#define AIA_CACHE_S     3600
#define AIA_MAX_BYTES   (64u << 10)

struct aia_note {
	int cert_index; /* the certificate whose issuer was sought (0 = the peer's) */
	char url[CV_URL_MAX];
	char outcome[24]; /* "fetched", "error" */
	char source[16];  /* "download", "cache" */
	char error[CV_MESSAGE_MAX];
};

struct aia_entry {
	char url[CV_URL_MAX]; /* "" when the slot is free */
	struct cv_cert_list certs;
	cv_time fetched;
};

struct cv_engine {
	struct event_base *base;
	struct cv_config *cfg;
	struct cv_clock clock;
	struct cv_engine_stats stats;
	struct cv_fetcher *fetcher; /* borrowed; NULL: no network, files and caches only */
	struct cv_crl_store *crls;
	struct cv_ocsp_cache *ocsp;
	struct file_crl *file_crls;
	size_t n_file_crls;
	struct cv_aaa *aaa;
	struct cv_link_cache *links;        /* verified signatures, across requests */
	struct cv_pubkeys *pubkeys;         /* the peer keys accepted (R49), each with its link */
	struct ocsp_flight *flights;        /* OCSP queries in flight (single-flight per CertID) */
	LIST_HEAD(, crl_refresh) refreshes; /* background CRL downloads in flight */
	struct event *refresh_timer;        /* NULL until cv_engine_start_refresh */
	LIST_HEAD(, cdp_walk) walks;        /* CDP walks after a deadline (crl_walk.c) */
	struct crl_seen seen[SEEN_MAX];
	size_t seen_next;
	struct verify_job *jobs;         /* in flight, for cv_engine_free */
	struct cv_verdict_cache *vcache; /* NULL: off (offline); engine_vcache.c */
	uint64_t generation;             /* counts configuration changes (reloads) */
	/* Threads for stage 1 (path building and signatures); NULL: it runs on the loop. */
	struct cv_worker_pool *pool;
	unsigned n_workers;
	struct refresh_sched *sched; /* per cached source, refresh.c */
	size_t n_sched, cap_sched;
	uint64_t refresh_seed;              /* this daemon's jitter within refresh windows */
	cv_engine_crl_notice_fn crl_notice; /* issue 16: stale and unusable CRLs */
	void *crl_notice_arg;
	cv_engine_revoked_fn revoked_fn; /* issue 16: OCSP answers that say revoked */
	void *revoked_arg;
	struct ocsp_prefetch **prefetch; /* PREFETCH_MAX slots once used */
	size_t n_prefetch;
	struct aia_entry aia[AIA_CACHE_MAX];
	size_t aia_next;                    /* the slot the next AIA download replaces */
	struct crl_ingest *ingests;         /* downloaded CRLs being ingested (crl_ingest.c) */
	struct cv_worker_pool *ingest_pool; /* their thread; NULL until the first, or no pool */
	unsigned test_ingest_delay_ms;      /* tests: each ingest thread waits this long first */
};

/* A bounded, non-owning list of certificates assembled for one path build. */
struct cert_set {
	struct cv_cert *v[CANDIDATE_CERTS_MAX];
	size_t n;
};

/* The trust context a chain is validated under: a trustpoint or the trustpool. */
struct anchor_ctx {
	const char *name;
	const struct cv_trustpoint *tp; /* NULL for the trustpool */
	const struct cv_rev_settings *rev;
	uint32_t allowed_weak;
	enum cv_profile profile; /* validation-profile */
	unsigned chain_depth;    /* chain-depth */
	uint32_t relaxations;    /* allow-cn-fallback, ...: enum cv_relaxation bits */
};

/* Where the revocation stage is: which certificate, which method, which source. */
struct rev_state {
	size_t cert; /* index in the path of the certificate being checked */
	/* whose settings check it: the anchoring trust context, or under `chain-validation
	 * continue P` the parent P for a trustpoint's own CA certificate (O-11) */
	const struct cv_rev_settings *settings;
	const char *settings_name;
	const struct cv_trustpoint *settings_tp; /* NULL for the trustpool */
	size_t method;                           /* index in the trust context's method list */
	bool any_none;                           /* some certificate passed through `none` */
	/* CRL method */
	char sources[REV_SOURCES_MAX][CV_URL_MAX];
	size_t n_sources;
	size_t next_source;
	struct cv_crl *local[REV_LOCAL_CRLS_MAX];
	char local_source[REV_LOCAL_CRLS_MAX][CV_URL_MAX];
	size_t n_local;
	cv_time fetch_started;
	/* OCSP method */
	char ocsp_url[CV_URL_MAX];
	char ocsp_key[65];
	uint8_t nonce[32];
	size_t nonce_len;
	bool ocsp_get;              /* the query went out as an RFC 5019 GET */
	struct ocsp_flight *flight; /* the query this job owns, or NULL */
	bool ocsp_waiting;          /* this job waits for another job's query */
	/* O-10: a response held while its delegated responder's CRL is fetched */
	uint8_t *ocsp_held;
	size_t ocsp_held_len;
	bool responder_crl_tried;
	/* signer validation in progress (indirect CRLs, CRL signing keys, responders) */
	const struct cv_cert *signer_stack[8];
	int signer_depth;
};

struct verify_job {
	struct cv_engine *engine;
	struct cv_config *cfg;
	struct cv_request req;
	struct cv_verdict verdict;
	struct anchor_ctx anchor;
	struct cert_set *anchors;   /* of the chosen trust context */
	struct cert_set *untrusted; /* intermediates available to path building */
	struct cv_map_outcome maps; /* the anchor's `match certificate` rules on the leaf */
	struct cv_path path;
	bool have_path;
	int validate_rc; /* stage 1's result, from a worker thread */
	cv_time deadline;
	struct cv_fetch *fetch;         /* the fetch this job waits for, or NULL */
	struct crl_ingest_wait *ingest; /* the downloaded CRL this job waits for, or NULL */
	cv_aaa_query_id aaa_query;      /* the AAA query this job waits for, or 0 */
	bool expired_pending_aaa; /* O-21: only notAfter is wrong; cert-lifetime-end decides */
	struct rev_state rev;
	struct aia_note aia[AIA_FETCHES_MAX];
	size_t n_aia;
	/* the verdict cache (engine_vcache.c): the request's key, and what the verdict relied on */
	struct cv_vc_key vc_key;
	bool vc_keyed;       /* the request may be cached: vc_key is set */
	bool vc_uncacheable; /* it relied on something that is not cached itself */
	struct cv_vc_validity vc;
	cv_verify_done_fn done;
	void *done_arg;
	struct verify_job *next, *prev;
};

/* engine.c */
void job_run(struct verify_job *job); /* stages 1 to 5 */
void job_reject(struct verify_job *job, enum cv_reason reason, const char *detail, int index,
                const char *msg);
void job_after_revocation(struct verify_job *job);
unsigned job_remaining_ms(const struct verify_job *job);

/* engine.c: statistics and the log line of SPEC R56 for a verdict given out */
void engine_count_verdict(struct cv_engine *engine, const struct cv_verdict *v,
                          const char *peer_addr);

/* engine_vcache.c: the verdict cache of seen chains (issue 13) */
/* Notes what the job starts under; key NULL: the job's verdict is not cached. */
void vcache_job_start(struct verify_job *job, const struct cv_vc_key *key);
/* Stores the job's final verdict when it may be served again. */
void vcache_job_store(struct verify_job *job);
/* The verdict may change at t (a CRL's nextUpdate, an answer's cache expiry, ...); only a t
 * after the validation time bounds it. */
void job_relies_until(struct verify_job *job, cv_time t);
/* The verdict relied on cert's validity period: it may change at notBefore or notAfter. */
void job_relies_on_cert(struct verify_job *job, const struct cv_cert *cert);
/* The verdict relied on something a fresh evaluation would not find again (an uncached CRL
 * or answer, a network failure): it is not cached. */
void job_not_cacheable(struct verify_job *job);
/* The verdict relied on an AAA answer (cached until answer->expires, or not at all) and on
 * its cert-lifetime-end (CV_TIME_NONE: none). */
void job_relies_on_aaa(struct verify_job *job, const struct cv_aaa_answer *answer,
                       cv_time lifetime_end);

/* revocation.c: stage 3, ends with job_after_revocation or a rejection */
void rev_start(struct verify_job *job);
/* Every method drops what it holds for the job (its cancel), and at shutdown what it shares. */
void rev_job_cancel(struct verify_job *job);
void rev_engine_shutdown(struct cv_engine *engine);
enum rev_result { REV_GOOD, REV_REVOKED, REV_ERROR };
void rev_method_done(struct verify_job *job, enum rev_result result);
unsigned rev_verify_flags(const struct verify_job *job);
/* Synchronous CRL status of one certificate of a signer's path, with what is at hand. */
/* revocation_crl.c: caches a CRL the job fetched as its trust context's crl-cache says. */
void rev_crl_keep(struct verify_job *job, const char *source, struct cv_crl *crl);
bool rev_signer_path_good(struct verify_job *job, const struct cv_cert *signer,
                          const struct cv_cert *const *extra, size_t n_extra, struct cv_error *err);

/* revocation_crl.c */
/* The RFC 5280 6.3 status of cert from the CRLs at hand (files, caches), without fetching. */
int rev_crl_check_sync(struct verify_job *job, const struct cv_cert *cert,
                       const struct cv_cert *issuer, struct cv_crl_check_result *r);

/* aia.c: the path has no issuer for a certificate; its AIA caIssuers may name one. Returns 1
 * when certificates were added from the cache (build again now), 0 when a download started
 * (job_run runs again when it ends), -1 when there is nothing to fetch. */
int aia_try(struct verify_job *job);
void aia_cache_free(struct cv_engine *engine);

/* refresh.c */
void refresh_free_all(struct cv_engine *engine);
/* A CRL of source was downloaded (for a request or a refresh): remember what the server said
 * about its freshness and forget earlier failures. */
void refresh_note_download(struct cv_engine *engine, const char *source,
                           const struct cv_fetch_result *res);
/* The revocation settings a cached CRL was stored under (by trustpoint name), or NULL. */
const struct cv_rev_settings *refresh_settings_of(const struct cv_config *cfg,
                                                  const char *trustpoint,
                                                  const struct cv_trustpoint **tp);

/* crl_ingest.c: a downloaded CRL ingested off the loop, once per download (issue 13) */
struct crl_ingest;
struct crl_ingest_wait;
struct crl_ingest_result {
	struct cv_crl *crl; /* borrowed (cv_crl_ref to keep it); NULL when it is not usable */
	const char *error;  /* why, when crl is NULL */
	const struct cv_fetch_result *res; /* the download's result, without its body */
	bool first;                        /* the first waiter called back for this ingest */
};
typedef void (*crl_ingest_fn)(const struct crl_ingest_result *r, void *arg);
/* From a fetch callback whose res->ok: joins (or starts) the ingest of res's download of
 * source; done is called later from the loop, never from here. NULL when out of memory. */
struct crl_ingest_wait *crl_ingest_join(struct cv_engine *engine, const char *source,
                                        const struct cv_fetch_result *res, crl_ingest_fn done,
                                        void *arg);
/* Joins the ingest of a download of source already under way (so that a request arriving
 * during it does not download again); NULL when there is none (or out of memory). */
struct crl_ingest_wait *crl_ingest_await(struct cv_engine *engine, const char *source,
                                         crl_ingest_fn done, void *arg);
/* Whether a download of source is being ingested. */
bool crl_ingest_running(const struct cv_engine *engine, const char *source);
/* Withdraws a waiter before its done ran; the last one's leaving stops the ingest. */
void crl_ingest_cancel(struct crl_ingest_wait *w);
/* At the engine's end, after every waiter was withdrawn: stops what still runs. */
void crl_ingest_shutdown(struct cv_engine *engine);

/* crl_walk.c (R17, O-23, R54) */
/* Walks sources (at most REV_SOURCES_MAX) in the background under the trust context's
 * settings until one gives a CRL; 1 when started, 0 when covered, full, or pointless. */
int crl_walk_start(struct cv_engine *engine, const char *trustpoint,
                   const char (*sources)[CV_URL_MAX], size_t n);
bool crl_walk_covers(const struct cv_engine *engine, const char *source);
void crl_walk_free_all(struct cv_engine *engine);
void crl_seen_note(struct cv_engine *engine, const char *trustpoint, const char *source);
/* The http(s) and ldap(s) URIs of cert's distribution points, added to v (at most
 * REV_SOURCES_MAX, no repeats). */
void cert_cdp_urls(const struct cv_cert *cert, char (*v)[CV_URL_MAX], size_t *n);
/* crl-request with nothing cached: walks of the CA certificates' and the seen CDPs. */
int crl_walk_request(struct cv_engine *engine, const char *trustpoint);

/* This daemon's place in a refresh window for key, in [0, 1) (refresh.c). */
double refresh_jitter(const struct cv_engine *engine, const char *key);

/* ocsp_prefetch.c: issue 16 */
struct engine_prefetch_note {
	struct cv_engine *engine;
	const char *trustpoint;
	const struct cv_cert *cert, *issuer;
	const struct cv_ocsp_answer *answer; /* fresh, from an RFC 5019 GET */
};
void prefetch_note(struct engine_prefetch_note *note);
void prefetch_seen(struct cv_engine *engine, const char *key); /* a verdict used the answer */
/* Starts the prefetches due at now; *earliest: lowered to the next one's due time. */
void prefetch_sweep(struct cv_engine *engine, cv_time now, cv_time *earliest);
void prefetch_free_all(struct cv_engine *engine);

/* revocation_ocsp.c: a fresh answer says revoked: tell the engine's revoked_fn. */
void engine_tell_ocsp_revoked(struct cv_engine *engine, const char *trustpoint,
                              const struct cv_cert *cert, const struct cv_ocsp_answer *a);

/* engine.c: loading `crl file` CRLs of a configuration */
const struct file_crl *engine_file_crl(const struct cv_engine *engine, const char *path);

#endif
