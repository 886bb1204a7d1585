/*
 * engine.h: the decision for one request (SPEC 1.4): select the trustpoint, build and validate
 * the path, apply certificate maps, check revocation, ask AAA, and produce the verdict.
 *
 * Used by the daemon and, in-process, by `certvalctl verify --offline`. The call is
 * asynchronous: the done callback runs exactly once, possibly before cv_engine_verify returns
 * (when no network work is needed), otherwise later from the event loop.
 */
#ifndef CV_ENGINE_H
#define CV_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/clock.h"
#include "../common/error.h"
#include "../common/verdict.h"
#include "../validator/cert.h"
#include "../validator/path.h"
#include "config.h"
#include "verdict_cache.h"

struct event_base;
struct cv_engine;

#define CV_REQUEST_TRUSTPOINTS_MAX 8

struct cv_request {
	struct cv_cert_list chain; /* [0] the peer's certificate, then what the peer sent */
	struct cv_cert_list extra; /* more untrusted certificates (certvalctl --untrusted) */
	/* Allowed trustpoints in order of preference; none = any (O-20). */
	char trustpoints[CV_REQUEST_TRUSTPOINTS_MAX][CV_LABEL_MAX];
	size_t n_trustpoints;
	cv_time at; /* CV_TIME_NONE: now, from the engine's clock */
	enum cv_purpose purpose;
	char peer_name[256];  /* host name the leaf must carry, or "" */
	char peer_addr[64];   /* for the log line of SPEC R56, or "" */
	char application[32]; /* AAA application tag, or "" */
	/*
	 * A certificate the client passed on that does not parse. It is the peer's fault, not a
	 * usage error: the verdict is REJECT chain-invalid, detail malformed-certificate, with
	 * this position (SPEC 0 has no reason of its own for it). chain then holds only the
	 * certificates before it.
	 */
	struct {
		bool present;
		int cert_index; /* position in the chain (0 = the peer's), -1 for one in extra */
		char message[CV_MESSAGE_MAX];
	} malformed;
	/* How much of the verdict the caller will show (cv_request_init: all of it). The
	 * verdict is made only that far, and one from the verdict cache serves only a request
	 * asking no more than it was made with. */
	enum cv_verdict_detail detail;
	/* The verdict cache key made from the request's own text (cv_proto_verify_request):
	 * the key a seen chain is looked up by before its certificates are read. Without it the
	 * key is made from the certificates (cv_verdict_cache_key). */
	bool has_text_key;
	struct cv_vc_key text_key;
};

void cv_request_init(struct cv_request *req);
void cv_request_free(struct cv_request *req); /* releases the certificates */

struct cv_engine_stats {
	uint64_t requests;
	uint64_t accepted;
	uint64_t rejected;
	uint64_t failed_open;
	uint64_t reasons[CV_REASON_INTERNAL_ERROR + 1]; /* rejections by reason */
	uint64_t crl_cache_hits;  /* CRL answers from the cache (file CRLs not counted) */
	uint64_t crl_downloads;   /* CRLs downloaded and ingested for requests */
	uint64_t ocsp_cache_hits; /* OCSP answers from the cache or from a shared query */
	uint64_t ocsp_queries;    /* OCSP requests sent */
	uint64_t link_cache_hits; /* signatures not checked again: verified before */
	uint64_t links_remembered;
	struct cv_vc_stats verdict_cache; /* all zero while the cache is off */
};

/* The verdict is owned by the engine and valid only during the callback. */
typedef void (*cv_verify_done_fn)(const struct cv_verdict *verdict, void *arg);

/*
 * Creates an engine on an event loop with a configuration (the engine takes a reference).
 * clock may be NULL (system clock, no offset). Requests still in flight when the engine is
 * freed are dropped without their done callback.
 */
struct cv_engine *cv_engine_new(struct event_base *base, struct cv_config *cfg,
                                const struct cv_clock *clock);
void cv_engine_free(struct cv_engine *engine);

/*
 * Serves verdicts of seen chains from a cache of `verdict-cache entries` verdicts (issue 13;
 * policy/verdict_cache.h, README.md "Verdict cache"); a reload applies a new bound. Only the
 * daemon calls it: an offline verification decides one request. Returns 0 or -1 (no memory).
 */
int cv_engine_enable_verdict_cache(struct cv_engine *engine);

/* Replaces the configuration (takes a reference); requests in flight keep the old one. */
void cv_engine_set_config(struct cv_engine *engine, struct cv_config *cfg);
struct cv_config *cv_engine_config(const struct cv_engine *engine); /* borrowed */

/*
 * Runs path building and signature checks (stage 1, the CPU work) on n worker threads
 * (0: one per online core; at most 256) instead of the loop; the done callback then always
 * runs later from the loop. Only the daemon calls it, once: a second call changes nothing.
 * Returns the number of threads, or -1 (the engine keeps validating on the loop).
 */
int cv_engine_set_workers(struct cv_engine *engine, unsigned n);
unsigned cv_engine_workers(const struct cv_engine *engine); /* 0: validation on the loop */

struct cv_fetcher;
struct cv_crl_store;
struct cv_crl_store_entry;
struct cv_ocsp_cache;

/*
 * Lets the engine fetch CRLs and OCSP answers (the fetcher is borrowed and must outlive the
 * engine). Without a fetcher, revocation uses `crl file` CRLs and the caches only.
 */
void cv_engine_set_fetcher(struct cv_engine *engine, struct cv_fetcher *fetcher);

/*
 * Keeps the CRL cache under the configuration's cache-dir (SPEC D-4): loads what an earlier
 * run left there and writes every CRL cached from now on. Only the daemon calls it (an
 * offline verification must not touch the daemon's cache). Returns the number of CRLs
 * loaded, 0 without a cache-dir, or -1 with err set.
 */
int cv_engine_persist_crls(struct cv_engine *engine, struct cv_error *err);

/*
 * Keeps cached CRLs fresh: a CRL downloaded from a URL is downloaded again (conditional GET)
 * inside the refresh window before its cache expiry (`crl refresh-window`, or from the
 * CRL's Next CRL Publish), at a point of the window's first half chosen by this daemon's
 * random jitter, never while the server's Cache-Control / Expires says its answer is fresh,
 * and after a failure with exponential backoff; so that no verdict waits for a download in
 * steady state and a fleet behind one HTTP cache does not refresh in the same second.
 * The daemon calls it once; refreshes are checked when the next one is due (at least every
 * 30 seconds) and whenever cv_engine_refresh_now is called (after the test clock moves).
 * Returns 0 or -1.
 */
int cv_engine_start_refresh(struct cv_engine *engine);
void cv_engine_refresh_now(struct cv_engine *engine);

/*
 * `crl-request TP` (SPEC R54): downloads again, now and unconditionally, every CRL cached
 * under trustpoint tp. Returns how many downloads started (0: nothing cached for tp).
 */
int cv_engine_crl_request(struct cv_engine *engine, const char *tp);

/*
 * Issue 16: fn hears of cached CRLs going bad: event "crl-stale" when the first refresh of a
 * source fails (the cached CRL is still used), "crl-unusable" when a cached CRL expires
 * without a replacement. NULL: nobody listens.
 */
typedef void (*cv_engine_crl_notice_fn)(const char *event, const char *trustpoint,
                                        const char *source, const char *why, void *arg);
void cv_engine_set_crl_notice(struct cv_engine *engine, cv_engine_crl_notice_fn fn, void *arg);

/* Issue 16: a fresh OCSP response (not a cached one) validated for a request says the
 * certificate is revoked. Strings are valid during the call. NULL fn: nobody listens. */
struct cv_engine_revocation {
	const char *trustpoint;
	const char *issuer; /* RFC 4514 text of the certificate's issuer */
	const char *serial; /* upper-case hex */
	int reason;         /* enum cv_crl_reason (CRLReason) */
	cv_time revocation_time;
	const char *url; /* the responder */
	cv_time produced_at;
};
typedef void (*cv_engine_revoked_fn)(const struct cv_engine_revocation *r, void *arg);
void cv_engine_set_revoked_fn(struct cv_engine *engine, cv_engine_revoked_fn fn, void *arg);

/* The refresh state of one cached CRL source, for `show crls`. */
struct cv_crl_refresh_info {
	cv_time due;         /* when the next refresh may start; CV_TIME_NONE: never (file, none) */
	cv_time fresh_until; /* the server's freshness (max-age / Expires); CV_TIME_NONE: none */
	unsigned failures;   /* consecutive failed refreshes: the cached CRL is stale */
	cv_time next_retry;  /* CV_TIME_NONE when none failed */
	const char *last_error; /* "" when none; valid until the engine changes */
};
/* Fills *out for a cached entry (from cv_crl_store_foreach). */
void cv_engine_crl_refresh_info(const struct cv_engine *engine,
                                const struct cv_crl_store_entry *entry,
                                struct cv_crl_refresh_info *out);

/* The engine's caches and fetcher, for the administrator's show and clear commands. */
struct cv_crl_store *cv_engine_crl_store(const struct cv_engine *engine);
struct cv_ocsp_cache *cv_engine_ocsp_cache(const struct cv_engine *engine);
struct cv_fetcher *cv_engine_fetcher(const struct cv_engine *engine); /* NULL: none */

/* SPEC R49: forgets the remembered signatures (the peer key cache; IOS `crypto key zeroize
 * pubkey-chain`); returns how many. Maps and revocation never depended on them. */
size_t cv_engine_clear_links(struct cv_engine *engine);

/* R49, O-25: the remembered peer keys (policy/pubkeys.h), expired ones dropped first; and
 * `zeroize pubkey-chain INDEX`: forgets one entry and its signature (0: all, as above).
 * Returns the entries forgotten. */
struct cv_pubkey_info;
void cv_engine_foreach_pubkey(struct cv_engine *engine,
                              void (*fn)(const struct cv_pubkey_info *info, void *arg), void *arg);
size_t cv_engine_zeroize_pubkey(struct cv_engine *engine, unsigned index);

struct cv_crl;
/* The `crl file` CRLs of the running configuration; crl is NULL when the file did not load,
 * and error says why. */
typedef void (*cv_engine_file_crl_fn)(const char *path, const struct cv_crl *crl, const char *error,
                                      void *arg);
void cv_engine_foreach_file_crl(const struct cv_engine *engine, cv_engine_file_crl_fn fn,
                                void *arg);

/* The engine's clock, for the fetcher (its negative cache moves with the test clock). */
const struct cv_clock *cv_engine_clock(const struct cv_engine *engine);

/* Tests only (certvald --test-ingest-delay): each downloaded CRL's ingest thread waits ms
 * first, so that a test can tell verdicts answered during an ingest without racing it. */
void cv_engine_set_test_ingest_delay(struct cv_engine *engine, unsigned ms);

/* Moves the engine's clock (tests); the offset is added to the system clock. */
void cv_engine_set_clock_offset(struct cv_engine *engine, int64_t offset);
cv_time cv_engine_now(const struct cv_engine *engine);

/* Starts a verification. Returns 0 (done will be called) or -1 (done will not be called). */
int cv_engine_verify(struct cv_engine *engine, const struct cv_request *req, cv_verify_done_fn done,
                     void *arg);

/*
 * A seen chain (issue 13): when the verdict cache holds a current verdict for key (see
 * cv_verdict_cache_key_of: the daemon computes it from the request's bytes, before parsing
 * any certificate), made with at least detail, counts the request, calls done with that
 * verdict (marked from_cache, at = now) before returning, and returns true. false: not cached
 * (verify it with cv_engine_verify, which looks the cache up again). peer_addr names the peer
 * in the log.
 */
bool cv_engine_serve_seen(struct cv_engine *engine, const struct cv_vc_key *key,
                          enum cv_verdict_detail detail, const char *peer_addr,
                          cv_verify_done_fn done, void *arg);

/*
 * Seen chains looked up off the loop (the daemon decodes requests on the worker threads,
 * issue 13), in three steps:
 *  - cv_engine_seen_state (loop): the state the verdict cache is checked against now; false
 *    when the cache is off.
 *  - cv_engine_seen_reply (any thread): looks key up under that state, for a verdict made with
 *    at least detail; on a hit gives the verdict's outcome and its rendering (the verdict
 *    marked from_cache, at = state->now), and returns true. It counts nothing but the
 *    cache's own statistics (locked).
 *  - on the loop again, cv_engine_seen_current says whether the state is still the one of the
 *    snapshot (else the caller decides again, as a new request), and cv_engine_count_seen counts
 *    the verdict served, with its log line (what cv_engine_serve_seen does in one step).
 */
struct cv_seen_outcome {
	enum cv_decision decision;
	enum cv_reason reason;
	bool failed_open;
	char message[CV_MESSAGE_MAX];
};
bool cv_engine_seen_state(const struct cv_engine *engine, struct cv_vc_now *out);
void cv_engine_seen_outcome(const struct cv_verdict *v, struct cv_seen_outcome *out);
/*
 * The rendering is made once per entry, detail level and second of validation time: out gets the
 * outcome and a malloc'ed copy of it (text NULL when out of memory), made by render when none is
 * kept yet.
 */
typedef char *(*cv_seen_render_fn)(const struct cv_verdict *v, void *arg, size_t *len);
struct cv_seen_reply {
	struct cv_seen_outcome outcome;
	char *text;
	size_t len;
};
bool cv_engine_seen_reply(struct cv_engine *engine, const struct cv_vc_key *key,
                          const struct cv_vc_now *state, enum cv_verdict_detail detail,
                          cv_seen_render_fn render, void *arg, struct cv_seen_reply *out);
bool cv_engine_seen_current(const struct cv_engine *engine, const struct cv_vc_now *state);
void cv_engine_count_seen(struct cv_engine *engine, const struct cv_seen_outcome *o,
                          const char *peer_addr);

/*
 * Stage 1 ahead (issue 13): the worker thread that read a verify request builds and validates
 * its path there and then, so that a new chain goes through the pool once, not twice.
 *  - cv_engine_ahead (any thread): a job for a copy of req with stage 1 run, under cfg (a
 *    reference the caller took on the loop with cv_engine_config, when it took state with
 *    cv_engine_seen_state) at state->now (or req->at). NULL for a request stage 1 would not
 *    start (a malformed certificate, an empty chain) or when out of memory: the loop then
 *    verifies it with cv_engine_verify.
 *  - cv_engine_verify_ahead (loop): takes the job on after stage 1, as cv_engine_verify does
 *    after its own, when the engine is still under the configuration and the second that
 *    stage 1 ran under; otherwise the request is decided afresh (cv_engine_verify). Takes
 *    the job; returns as cv_engine_verify.
 *  - cv_engine_ahead_free (any thread): a job never taken on.
 * Stage 1 reads only the job, its configuration, the certificates and the locked link and
 * peer-key caches; the engine's own state (its jobs, statistics, verdict cache notes) is
 * touched on the loop only, when the job is taken on.
 */
struct cv_engine_ahead;
struct cv_engine_ahead *cv_engine_ahead(struct cv_engine *engine, struct cv_config *cfg,
                                        const struct cv_vc_now *state,
                                        const struct cv_request *req);
int cv_engine_verify_ahead(struct cv_engine *engine, struct cv_engine_ahead *ahead,
                           cv_verify_done_fn done, void *arg);
void cv_engine_ahead_free(struct cv_engine_ahead *ahead);

/* The worker threads' pool (cv_engine_set_workers), for other CPU work of the daemon; NULL
 * when validation runs on the loop. */
struct cv_worker_pool;
struct cv_worker_pool *cv_engine_pool(const struct cv_engine *engine);

void cv_engine_get_stats(const struct cv_engine *engine, struct cv_engine_stats *out);

#endif
