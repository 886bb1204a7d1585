/*
 * ocsp_prefetch.c: OCSP answers asked again before they go stale (issue 16). An answer that
 * came from an RFC 5019 GET (a trustpoint with `ocsp disable-nonce`: the request is the same
 * every time, so a shared HTTP cache in front of the responder can serve a whole fleet) is
 * remembered with its certificate and issuer; while the certificate is seen (a verdict used
 * the answer during its current life), the same GET is sent again inside the window before
 * the answer's end of validity, at this daemon's jittered point of the window's first half
 * (as CRL refreshes, refresh.c), and the validated response replaces the cached answer. No
 * verdict then waits for the responder.
 *
 * Only answers the validator accepts on its own are prefetched: signed by the issuer, or by
 * a delegated responder carrying id-pkix-ocsp-nocheck. A responder that needs an override
 * trustpoint or a revocation check of its own is left to the requests (they have the job's
 * context for it).
 */
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/util.h"
#include "../validator/name.h"
#include "../validator/ocsp/ocsp.h"
#include "engine_int.h"

#define PREFETCH_MAX        1024 /* certificates remembered; the least recently seen go */
#define PREFETCH_WINDOW_MIN 60   /* the window is a tenth of the answer's life, at least, */
#define PREFETCH_WINDOW_MAX 3600 /* and at most */
#define PREFETCH_RETRY_S    30   /* after an attempt, the next one at the earliest */
#define OCSP_DIGEST         GNUTLS_DIG_SHA1 /* as revocation_ocsp.c asks */

/* Empties an entry for reuse (a fetch in flight is withdrawn). */
static void
entry_clear(struct ocsp_prefetch *p)
{
	if (p->fetch != NULL)
		cv_fetch_cancel(p->fetch);
	cv_cert_unref(p->cert);
	cv_cert_unref(p->issuer);
	free(p->get_url);
	memset(p, 0, sizeof(*p));
}

void
prefetch_free_all(struct cv_engine *engine)
{
	for (size_t i = 0; i < engine->n_prefetch; i++) {
		entry_clear(engine->prefetch[i]);
		free(engine->prefetch[i]);
	}
	free(engine->prefetch);
	engine->prefetch = NULL;
	engine->n_prefetch = 0;
}

static struct ocsp_prefetch *
entry_find(const struct cv_engine *engine, const char *key)
{
	for (size_t i = 0; i < engine->n_prefetch; i++)
		if (strcmp(engine->prefetch[i]->key, key) == 0)
			return engine->prefetch[i];
	return NULL;
}

/* A free entry: a new one (each has its own memory: a fetch in flight points at it), or,
 * at PREFETCH_MAX, the least recently seen that is not fetching. */
static struct ocsp_prefetch *
entry_slot(struct cv_engine *engine)
{
	struct ocsp_prefetch *victim = NULL, **grown;

	if (engine->prefetch == NULL &&
	    (engine->prefetch = calloc(PREFETCH_MAX, sizeof(*engine->prefetch))) == NULL)
		return NULL;
	if (engine->n_prefetch < PREFETCH_MAX) {
		grown = &engine->prefetch[engine->n_prefetch];
		if ((*grown = calloc(1, sizeof(**grown))) == NULL)
			return NULL;
		engine->n_prefetch++;
		return *grown;
	}
	for (size_t i = 0; i < engine->n_prefetch; i++) {
		struct ocsp_prefetch *p = engine->prefetch[i];

		if (p->fetch == NULL && (victim == NULL || p->last_seen < victim->last_seen))
			victim = p;
	}
	if (victim != NULL)
		entry_clear(victim);
	return victim;
}

void
prefetch_note(struct engine_prefetch_note *n)
{
	struct cv_engine *engine = n->engine;
	struct ocsp_prefetch *p = entry_find(engine, n->answer->key);
	struct cv_ocsp_request req = {0};
	struct cv_error err = {{0}};
	char *url = NULL;

	if (p == NULL) {
		if (cv_ocsp_request_build_cert(n->cert, n->issuer, OCSP_DIGEST, NULL, 0, &req,
		                               &err) < 0 ||
		    cv_ocsp_get_url(n->answer->url, req.der, req.der_len, &url, &err) != 0 ||
		    (p = entry_slot(engine)) == NULL) {
			free(url);
			cv_ocsp_request_clear(&req);
			return;
		}
		cv_ocsp_request_clear(&req);
		cv_strlcpy(p->key, n->answer->key, sizeof(p->key));
		cv_strlcpy(p->url, n->answer->url, sizeof(p->url));
		cv_strlcpy(p->trustpoint, n->trustpoint, sizeof(p->trustpoint));
		p->get_url = url;
		p->cert = cv_cert_ref((struct cv_cert *)n->cert);
		p->issuer = cv_cert_ref((struct cv_cert *)n->issuer);
		p->last_attempt = CV_TIME_NONE;
	}
	p->this_update = n->answer->this_update;
	p->valid_until = n->answer->valid_until;
	p->last_seen = cv_engine_now(engine);
}

void
prefetch_seen(struct cv_engine *engine, const char *key)
{
	struct ocsp_prefetch *p = entry_find(engine, key);

	if (p != NULL)
		p->last_seen = cv_engine_now(engine);
}

/* When p is asked again; CV_TIME_NONE: not (no window, not seen during its answer's life). */
static cv_time
due_at(const struct cv_engine *engine, const struct ocsp_prefetch *p)
{
	const cv_time life = p->valid_until - p->this_update;
	cv_time window = life / 10, start, due;

	if (p->valid_until == CV_TIME_NONE || p->this_update == CV_TIME_NONE || life <= 0 ||
	    p->last_seen < p->this_update)
		return CV_TIME_NONE;
	if (window < PREFETCH_WINDOW_MIN)
		window = PREFETCH_WINDOW_MIN;
	if (window > PREFETCH_WINDOW_MAX)
		window = PREFETCH_WINDOW_MAX;
	if (window > life)
		window = life;
	start = p->valid_until - window;
	due = start + (cv_time)(refresh_jitter(engine, p->key) * (double)window / 2);
	if (p->last_attempt != CV_TIME_NONE && p->last_attempt + PREFETCH_RETRY_S > due)
		due = p->last_attempt + PREFETCH_RETRY_S;
	return due;
}

/* The trustpoint still asks OCSP without a nonce (a reload may have changed it). */
static bool
still_wanted(const struct cv_engine *engine, const struct ocsp_prefetch *p)
{
	const struct cv_trustpoint *tp;
	const struct cv_rev_settings *rev = refresh_settings_of(engine->cfg, p->trustpoint, &tp);

	if (rev == NULL || rev->nonce != CV_NONCE_DISABLED)
		return false;
	for (size_t i = 0; i < rev->n_methods; i++)
		if (strcmp(rev->methods[i]->name, "ocsp") == 0)
			return true;
	return false;
}

/* The validated response becomes the cached answer; a revocation goes to subscribers. */
static void
prefetch_store(struct ocsp_prefetch *p, const uint8_t *der, size_t len)
{
	struct cv_engine *engine = p->engine;
	const cv_time now = cv_engine_now(engine);
	struct cv_ocsp_params params;
	struct cv_ocsp_result res;
	struct cv_ocsp_answer a;

	cv_ocsp_params_init(&params, now);
	params.nonce_mode = CV_OCSP_NONCE_DISABLED;
	params.digest = OCSP_DIGEST;
	params.skew = engine->cfg->ocsp_skew_s;
	params.no_next_update_ttl = engine->cfg->ocsp_no_next_update_s;
	memset(&res, 0, sizeof(res));
	cv_ocsp_response_check_cert(der, len, p->cert, p->issuer, &params, NULL, NULL, &res);
	if ((res.status == CV_OCSP_STATUS_GOOD || res.status == CV_OCSP_STATUS_REVOKED) &&
	    !res.responder_needs_check && res.valid_until != CV_TIME_NONE) {
		memset(&a, 0, sizeof(a));
		cv_strlcpy(a.key, p->key, sizeof(a.key));
		cv_strlcpy(a.url, p->url, sizeof(a.url));
		cv_strlcpy(a.subject, cv_cert_subject(p->cert), sizeof(a.subject));
		cv_strlcpy(a.serial, cv_cert_serial(p->cert), sizeof(a.serial));
		a.status = res.status;
		a.produced_at = res.produced_at;
		a.this_update = res.this_update;
		a.next_update = res.next_update;
		a.valid_until = res.valid_until;
		a.revoked_at = res.revoked_at;
		a.revocation_reason = res.revocation_reason;
		cv_strlcpy(a.signer, res.signer, sizeof(a.signer));
		cv_ocsp_cache_put(engine->ocsp, &a, now);
		p->this_update = a.this_update;
		p->valid_until = a.valid_until;
		if (a.status == CV_OCSP_STATUS_REVOKED)
			engine_tell_ocsp_revoked(engine, p->trustpoint, p->cert, &a);
	} else {
		cv_log_warning("OCSP prefetch for %s: %s", cv_cert_subject(p->cert),
		               res.status == CV_OCSP_STATUS_ERROR ? res.error
		                                                  : "not an answer to keep");
	}
	cv_ocsp_result_clear(&res);
}

static void
prefetch_done(const struct cv_fetch_result *r, void *arg)
{
	struct ocsp_prefetch *p = arg;

	p->fetch = NULL;
	if (r->ok && !r->not_modified)
		prefetch_store(p, r->data, r->len);
	else
		cv_log_warning("OCSP prefetch %s: %s", p->get_url,
		               r->ok ? "not modified" : r->error);
}

static void
prefetch_start(struct cv_engine *engine, struct ocsp_prefetch *p)
{
	const struct cv_trustpoint *tp = cv_config_trustpoint(engine->cfg, p->trustpoint);
	struct cv_error err = {{0}};
	struct cv_fetch_opts opts;

	cv_fetch_opts_init(&opts);
	opts.max_bytes = engine->cfg->ocsp_max_bytes;
	opts.timeout_ms = engine->cfg->fetch_timeout_ms;
	opts.proxy = engine->cfg->fetch_proxy;
	opts.source_interface = tp != NULL ? tp->source_interface : NULL;
	opts.bind_device = tp != NULL ? tp->vrf : NULL;
	p->engine = engine;
	p->last_attempt = cv_engine_now(engine);
	p->fetch = cv_fetch_start(engine->fetcher, p->get_url, &opts, prefetch_done, p, &err);
	if (p->fetch == NULL)
		cv_log_warning("OCSP prefetch %s: %s", p->get_url, err.msg);
}

void
prefetch_sweep(struct cv_engine *engine, cv_time now, cv_time *earliest)
{
	for (size_t i = 0; engine->fetcher != NULL && i < engine->n_prefetch; i++) {
		struct ocsp_prefetch *p = engine->prefetch[i];
		const cv_time due =
		    p->fetch == NULL && still_wanted(engine, p) ? due_at(engine, p) : CV_TIME_NONE;

		if (due == CV_TIME_NONE || p->valid_until <= now)
			continue;
		if (now >= due)
			prefetch_start(engine, p);
		else if (*earliest == CV_TIME_NONE || due < *earliest)
			*earliest = due;
	}
}
