/*
 * revocation_ocsp.c: the `ocsp` revocation method (SPEC R26-R30, O-9, O-10, D-1).
 *
 * The responder is the map's `override ocsp` (lowest SEQ that matches), else the trustpoint's
 * `ocsp url`, else the certificate's AIA (R26, R27). A cached answer still in its window
 * serves; otherwise a request with a nonce (per `ocsp nonce` / `disable-nonce`) is POSTed
 * and the response validated by validator/ocsp. good and revoked are answers; unknown and
 * every failure (nonce, signer, staleness, transport) are "no answer" for the method order.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../common/util.h"
#include "../validator/name.h"
#include "../validator/ocsp/ocsp.h"
#include "engine_int.h"

/* The method's name in `revocation-check` and in the evidence (its row, below). */
static const char method_name[] = "ocsp";

#define OCSP_DIGEST GNUTLS_DIG_SHA1 /* CertID hash: what responders universally support */

static enum cv_ocsp_nonce_mode
nonce_mode(const struct cv_rev_settings *rev)
{
	switch (rev->nonce) {
	case CV_NONCE_IF_ECHOED:
		return CV_OCSP_NONCE_IF_ECHOED;
	case CV_NONCE_DISABLED:
		return CV_OCSP_NONCE_DISABLED;
	default:
		return CV_OCSP_NONCE_REQUIRE;
	}
}

/* R26, R27: override (leaf only, maps describe the peer), `ocsp url`, then AIA. */
static bool
responder_url(struct verify_job *job, const struct cv_cert *cert, char *out, size_t len)
{
	const struct cv_cert_aia *aia = cv_cert_aia(cert);

	if (job->rev.cert == 0 && job->maps.override_ocsp != NULL) {
		cv_strlcpy(out, job->maps.override_ocsp->ocsp_url, len);
		return true;
	}
	if (job->rev.settings->ocsp_url != NULL) {
		cv_strlcpy(out, job->rev.settings->ocsp_url, len);
		return true;
	}
	for (size_t i = 0; i < aia->n_ocsp; i++)
		if (aia->ocsp[i].len > 0 && cv_cert_uri_copy(&aia->ocsp[i], out, len) == 0)
			return true;
	return false;
}

static struct cv_evidence *
evidence_new(struct verify_job *job, const char *outcome)
{
	struct cv_evidence *ev =
	    cv_verdict_add_evidence(&job->verdict, (int)job->rev.cert, method_name);

	if (ev != NULL) {
		cv_strlcpy(ev->outcome, outcome, sizeof(ev->outcome));
		cv_strlcpy(ev->url, job->rev.ocsp_url, sizeof(ev->url));
	}
	return ev;
}

static void ocsp_error(struct verify_job *job, const char *nonce, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
ocsp_error(struct verify_job *job, const char *nonce, const char *fmt, ...)
{
	struct cv_evidence *ev = evidence_new(job, "error");
	va_list ap;

	if (ev != NULL) {
		va_start(ap, fmt);
		vsnprintf(ev->error, sizeof(ev->error), fmt, ap);
		va_end(ap);
		cv_strlcpy(ev->nonce, nonce, sizeof(ev->nonce));
		cv_verdict_trace(&job->verdict, "revocation", "ocsp %s: no answer: %s",
		                 job->rev.ocsp_url, ev->error);
	}
	rev_method_done(job, REV_ERROR);
}

static int cache_lifetime(const struct cv_rev_settings *rev);

static void
answer_done(struct verify_job *job, const struct cv_ocsp_answer *a, const char *source,
            const char *nonce)
{
	const int life = cache_lifetime(job->rev.settings);

	struct cv_evidence *ev =
	    evidence_new(job, a->status == CV_OCSP_STATUS_REVOKED ? "revoked" : "good");

	/* issue 13: the verdict holds while the answer is cached (an uncached one is asked for
	 * again by a fresh evaluation) and the OCSP cache does not change */
	job->vc.relied_ocsp = true;
	if (a->valid_until == CV_TIME_NONE || life == 0) /* life 0: this trustpoint asks anew */
		job_not_cacheable(job);
	if (life > 0 && a->stored_at != CV_TIME_NONE && strcmp(source, "request") != 0)
		job_relies_until(job, a->stored_at + life); /* its reuse ends with the lifetime */
	job_relies_until(job, a->valid_until);
	job_relies_until(job, a->next_update);

	if (ev != NULL) {
		cv_strlcpy(ev->source, source, sizeof(ev->source));
		cv_strlcpy(ev->nonce, nonce, sizeof(ev->nonce));
		cv_strlcpy(ev->signer, a->signer, sizeof(ev->signer));
		ev->produced_at = a->produced_at;
		ev->this_update = a->this_update;
		ev->next_update = a->next_update;
		if (a->status == CV_OCSP_STATUS_REVOKED) {
			ev->revoked_at = a->revoked_at;
			cv_strlcpy(ev->revocation_reason, cv_ocsp_reason_name(a->revocation_reason),
			           sizeof(ev->revocation_reason));
		}
	}
	if (strcmp(source, "request") == 0)
		job->engine->stats.ocsp_queries++;
	else
		job->engine->stats.ocsp_cache_hits++;
	cv_verdict_trace(&job->verdict, "revocation", "ocsp %s: %s (%s, signed by %s)",
	                 job->rev.ocsp_url, cv_ocsp_status_name(a->status), source, a->signer);
	rev_method_done(job, a->status == CV_OCSP_STATUS_REVOKED ? REV_REVOKED : REV_GOOD);
}

/* ---- the answer cache of a trustpoint: `ocsp cache-lifetime` (product) ---- */

/*
 * Seconds an answer is reused under these settings: 0 never (a nonce the administrator
 * requires asks afresh every time, unless a lifetime is set), -1 until the answer's own
 * validity (nextUpdate, or `ocsp no-next-update-lifetime`).
 */
static int
cache_lifetime(const struct cv_rev_settings *rev)
{
	if (rev->ocsp_cache_s >= 0)
		return rev->ocsp_cache_s;
	return rev->nonce == CV_NONCE_REQUIRE ? 0 : -1;
}

/* A cached answer this trustpoint may use: stored no longer ago than its lifetime. */
static bool
cache_lookup(struct verify_job *job, struct cv_ocsp_answer *a)
{
	const int life = cache_lifetime(job->rev.settings);
	const cv_time now = cv_engine_now(job->engine);

	if (life == 0 || !cv_ocsp_cache_get(job->engine->ocsp, job->rev.ocsp_key, now, a))
		return false;
	return life < 0 || a->stored_at + life > now;
}

/* Keeps an answer for the trustpoints that may reuse it, at most for this one's lifetime. */
static void
cache_store(struct verify_job *job, struct cv_ocsp_answer *a)
{
	const int life = cache_lifetime(job->rev.settings);
	const cv_time now = cv_engine_now(job->engine);

	if (life == 0 || a->valid_until == CV_TIME_NONE)
		return;
	if (life > 0 && a->valid_until > now + life)
		a->valid_until = now + life;
	cv_ocsp_cache_put(job->engine->ocsp, a, now);
}

/* ---- single-flight: one query per (CertID, responder) at a time ---- */

static struct ocsp_flight *
flight_find(const struct cv_engine *engine, const char *key)
{
	for (struct ocsp_flight *f = engine->flights; f != NULL; f = f->next)
		if (strcmp(f->key, key) == 0)
			return f;
	return NULL;
}

static bool
flight_wait(struct ocsp_flight *f, struct verify_job *job)
{
	struct verify_job **grown = realloc(f->waiters, (f->n_waiters + 1) * sizeof(*grown));

	if (grown == NULL)
		return false;
	f->waiters = grown;
	f->waiters[f->n_waiters++] = job;
	job->rev.ocsp_waiting = true;
	return true;
}

static struct ocsp_flight *
flight_open(struct verify_job *job)
{
	struct ocsp_flight *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	cv_strlcpy(f->key, job->rev.ocsp_key, sizeof(f->key));
	f->owner = job;
	f->next = job->engine->flights;
	job->engine->flights = f;
	job->rev.flight = f;
	return f;
}

/* Unlinks the owner's flight; the caller wakes its waiters and frees it. */
static struct ocsp_flight *
flight_take(struct verify_job *job)
{
	struct ocsp_flight *f = job->rev.flight, **pp = &job->engine->flights;

	job->rev.flight = NULL;
	while (*pp != NULL && *pp != f)
		pp = &(*pp)->next;
	if (*pp == f && f != NULL)
		*pp = f->next;
	return f;
}

/* The waiters take the shared answer (a, whether cached or not), or the shared failure. */
static void
flight_finish(struct ocsp_flight *f, const struct cv_ocsp_answer *a, const char *error)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->n_waiters; i++) {
		struct verify_job *w = f->waiters[i];

		w->rev.ocsp_waiting = false;
		if (a != NULL)
			answer_done(w, a, "shared", "");
		else
			ocsp_error(w, "", "the query shared with another request failed: %s",
			           error);
	}
	free(f->waiters);
	free(f);
}

/* At shutdown, after the jobs: the queries still in flight. */
static void
ocsp_shutdown(struct cv_engine *engine)
{
	while (engine->flights != NULL) {
		struct ocsp_flight *f = engine->flights;

		engine->flights = f->next;
		free(f->waiters);
		free(f);
	}
}

/* ---- the responder's certificate (R27 trustpoint override, O-10) ---- */

/* `override ocsp trustpoint TP...`: the responder must validate under one of those (R30). */
static int
validate_responder(void *arg, const struct cv_cert *responder, struct cv_cert *const *extra,
                   size_t n)
{
	struct verify_job *job = arg;
	const struct cv_match_rule *rule = job->maps.override_ocsp;
	struct cert_set *anchors = calloc(1, sizeof(*anchors));
	struct cert_set *untrusted = calloc(1, sizeof(*untrusted));
	struct cv_path_params params;
	struct cv_failure f;
	struct cv_path path;
	int rc = -1;

	if (anchors == NULL || untrusted == NULL || rule == NULL)
		goto out;
	for (size_t t = 0; t < rule->n_ocsp_trustpoints; t++) {
		const struct cv_trustpoint *tp =
		    cv_config_trustpoint(job->cfg, rule->ocsp_trustpoints[t]);

		for (size_t i = 0; tp != NULL && tp->authenticated && i < tp->ca_certs.n &&
		                   anchors->n < CANDIDATE_CERTS_MAX;
		     i++)
			anchors->v[anchors->n++] = tp->ca_certs.v[i];
	}
	for (size_t i = 0; i < n && untrusted->n < CANDIDATE_CERTS_MAX; i++)
		untrusted->v[untrusted->n++] = cv_cert_ref(extra[i]);
	cv_path_params_init(&params);
	params.at = job->verdict.at;
	params.allowed_weak = job->anchor.allowed_weak;
	params.links = job->engine->links;
	params.anchors = anchors->v;
	params.n_anchors = anchors->n;
	params.untrusted = untrusted->v;
	params.n_untrusted = untrusted->n;
	if (cv_path_build(responder, &params, &path, &f, NULL) == 0) {
		cv_path_release(&path);
		rc = 0;
	} else {
		cv_verdict_trace(&job->verdict, "revocation",
		                 "ocsp responder %s refused by override trustpoints: %s",
		                 cv_cert_subject(responder), f.message);
	}
out:
	if (untrusted != NULL)
		for (size_t i = 0; i < untrusted->n; i++)
			cv_cert_unref(untrusted->v[i]);
	free(anchors);
	free(untrusted);
	return rc;
}

/* O-10: a delegated responder without id-pkix-ocsp-nocheck is checked with CRLs only. */
static bool
responder_status_good(struct verify_job *job, const struct cv_ocsp_result *res,
                      struct cv_error *err)
{
	struct cv_cert *resp = NULL;
	bool good;

	if (cv_cert_from_der(res->responder_der, res->responder_der_len, &resp, err) < 0)
		return false;
	good = rev_signer_path_good(job, resp, NULL, 0, err);
	cv_cert_unref(resp);
	return good;
}

/* ---- request and response ---- */

static void
answer_from_result(struct verify_job *job, const struct cv_ocsp_result *res,
                   struct cv_ocsp_answer *a)
{
	const struct cv_cert *cert = job->path.certs[job->rev.cert];

	memset(a, 0, sizeof(*a));
	cv_strlcpy(a->key, job->rev.ocsp_key, sizeof(a->key));
	cv_strlcpy(a->url, job->rev.ocsp_url, sizeof(a->url));
	cv_strlcpy(a->subject, cv_cert_subject(cert), sizeof(a->subject));
	cv_strlcpy(a->serial, cv_cert_serial(cert), sizeof(a->serial));
	a->status = res->status;
	a->produced_at = res->produced_at;
	a->this_update = res->this_update;
	a->next_update = res->next_update;
	a->valid_until = res->valid_until;
	a->revoked_at = res->revoked_at;
	a->revocation_reason = res->revocation_reason;
	cv_strlcpy(a->signer, res->signer, sizeof(a->signer));
}

static int start_request(struct verify_job *job, const struct cv_cert *cert,
                         const struct cv_cert *issuer, bool use_get, struct cv_error *err);

static int responder_crl_fetch(struct verify_job *job, const struct cv_ocsp_result *res,
                               const uint8_t *der, size_t len);

void
cv_engine_set_revoked_fn(struct cv_engine *engine, cv_engine_revoked_fn fn, void *arg)
{
	engine->revoked_fn = fn;
	engine->revoked_arg = arg;
}

/* Issue 16: subscribers hear of a certificate a fresh response says is revoked. */
void
engine_tell_ocsp_revoked(struct cv_engine *engine, const char *trustpoint,
                         const struct cv_cert *cert, const struct cv_ocsp_answer *a)
{
	char issuer[1024];
	size_t len = 0;
	const uint8_t *der = cv_cert_issuer_der(cert, &len);
	struct cv_engine_revocation r = {trustpoint,           issuer,        cv_cert_serial(cert),
	                                 a->revocation_reason, a->revoked_at, a->url,
	                                 a->produced_at};

	if (engine->revoked_fn == NULL || a->status != CV_OCSP_STATUS_REVOKED ||
	    cv_name_text(der, len, issuer, sizeof(issuer)) != 0)
		return;
	engine->revoked_fn(&r, engine->revoked_arg);
}

/* Issue 16: a fresh answer to a GET (no nonce, no override responder) is prefetched from
 * now on while the certificate is seen (ocsp_prefetch.c). */
static void
note_fresh(struct verify_job *job, const struct cv_cert *cert, const struct cv_cert *issuer,
           const struct cv_ocsp_answer *a, bool override)
{
	struct engine_prefetch_note n = {job->engine, job->rev.settings_name, cert, issuer, a};

	engine_tell_ocsp_revoked(job->engine, job->anchor.name, cert, a);
	if (job->rev.ocsp_get && !override && a->valid_until != CV_TIME_NONE)
		prefetch_note(&n);
}

/*
 * Validates a response; 0 with *a filled for good or revoked, 1 when the delegated
 * responder's CRL is being fetched (O-10; the response is held and checked again then), -1
 * with error set otherwise.
 */
static int
check_response(struct verify_job *job, const uint8_t *der, size_t len, struct cv_ocsp_answer *a,
               const char **nonce, char *error, size_t error_len)
{
	const struct cv_cert *cert = job->path.certs[job->rev.cert];
	const struct cv_cert *issuer = job->path.certs[job->rev.cert + 1];
	struct cv_ocsp_params params;
	struct cv_ocsp_result res;
	struct cv_error err = {{0}};
	const bool override = job->rev.cert == 0 && job->maps.override_ocsp != NULL &&
	                      job->maps.override_ocsp->n_ocsp_trustpoints > 0;
	int rc = -1;

	cv_ocsp_params_init(&params, job->verdict.at);
	params.nonce_mode = nonce_mode(job->rev.settings);
	params.nonce = job->rev.nonce;
	params.nonce_len = job->rev.nonce_len;
	params.digest = OCSP_DIGEST;
	params.skew = job->cfg->ocsp_skew_s;
	params.no_next_update_ttl = job->cfg->ocsp_no_next_update_s;
	memset(&res, 0, sizeof(res));
	cv_ocsp_response_check_cert(der, len, cert, issuer, &params,
	                            override ? validate_responder : NULL, job, &res);
	*nonce = cv_ocsp_nonce_outcome_name(res.nonce);
	if (res.status == CV_OCSP_STATUS_ERROR) {
		snprintf(error, error_len, "invalid response: %s", res.error);
	} else if (res.status == CV_OCSP_STATUS_UNKNOWN) {
		snprintf(error, error_len, "the responder does not know the certificate (unknown)");
	} else if (res.responder_needs_check && !responder_status_good(job, &res, &err)) {
		snprintf(error, error_len, "responder certificate status not established: %s",
		         err.msg);
		if (responder_crl_fetch(job, &res, der, len) == 0)
			rc = 1;
	} else {
		answer_from_result(job, &res, a);
		cache_store(job, a);
		note_fresh(job, cert, issuer, a, override);
		rc = 0;
	}
	cv_ocsp_result_clear(&res);
	return rc;
}

/* The end of the job's query: its waiters and itself get the answer, or the error. */
static void
ocsp_conclude(struct verify_job *job, const struct cv_ocsp_answer *a, const char *nonce,
              const char *error)
{
	struct ocsp_flight *flight = flight_take(job);

	flight_finish(flight, error == NULL ? a : NULL, error == NULL ? "" : error);
	if (error == NULL)
		answer_done(job, a, "request", nonce);
	else
		ocsp_error(job, nonce, "%s", error);
}

/* The delegated responder's CRL arrived (or not): the held response is checked again. */
static void
responder_crl_check(struct verify_job *job)
{
	struct rev_state *rs = &job->rev;
	struct cv_ocsp_answer a;
	char error[CV_MESSAGE_MAX];
	const char *nonce = "";
	int rc;

	rc =
	    check_response(job, rs->ocsp_held, rs->ocsp_held_len, &a, &nonce, error, sizeof(error));
	free(rs->ocsp_held);
	rs->ocsp_held = NULL;
	if (rc != 1)
		ocsp_conclude(job, &a, nonce, rc == 0 ? NULL : error);
}

/* The responder's CRL is ingested (crl_ingest.c), or is not usable. */
static void
responder_crl_ingested(const struct crl_ingest_result *in, void *arg)
{
	struct verify_job *job = arg;

	job->ingest = NULL;
	if (in->crl == NULL)
		cv_verdict_trace(&job->verdict, "revocation",
		                 "responder CDP %s: not a usable CRL: %s", in->res->url, in->error);
	else
		rev_crl_keep(job, in->res->url, in->crl);
	responder_crl_check(job);
}

static void
responder_crl_fetched(const struct cv_fetch_result *r, void *arg)
{
	struct verify_job *job = arg;

	job->fetch = NULL;
	if (!r->ok) {
		cv_verdict_trace(&job->verdict, "revocation", "responder CDP %s: %s", r->url,
		                 r->error);
	} else {
		job->ingest = crl_ingest_join(job->engine, r->url, r, responder_crl_ingested, job);
		if (job->ingest != NULL)
			return;
		cv_verdict_trace(&job->verdict, "revocation",
		                 "responder CDP %s: out of memory ingesting the CRL", r->url);
	}
	responder_crl_check(job);
}

/*
 * O-10: the delegated responder's own status is not at hand: its first CDP whose CRL is not
 * cached is fetched (once per check), and the response is held until it arrives. 0 when a
 * fetch started.
 */
static int
responder_crl_fetch(struct verify_job *job, const struct cv_ocsp_result *res, const uint8_t *der,
                    size_t len)
{
	struct rev_state *rs = &job->rev;
	const struct cv_config *cfg = job->cfg;
	const unsigned remaining = job_remaining_ms(job);
	char urls[REV_SOURCES_MAX][CV_URL_MAX];
	size_t n = 0, i;
	struct cv_cert *resp = NULL;
	struct cv_error err = {{0}};
	struct cv_fetch_opts opts;

	if (rs->responder_crl_tried || job->engine->fetcher == NULL || remaining == 0 ||
	    cv_cert_from_der(res->responder_der, res->responder_der_len, &resp, &err) < 0)
		return -1;
	rs->responder_crl_tried = true;
	cert_cdp_urls(resp, urls, &n);
	cv_cert_unref(resp);
	for (i = 0; i < n; i++) {
		struct cv_crl *cached =
		    cv_crl_store_get(job->engine->crls, urls[i], cv_engine_now(job->engine), NULL);

		if (cached == NULL)
			break;
		cv_crl_free(cached);
	}
	if (i == n || (rs->ocsp_held = malloc(len)) == NULL)
		return -1;
	memcpy(rs->ocsp_held, der, len);
	rs->ocsp_held_len = len;
	cv_fetch_opts_init(&opts);
	opts.max_bytes = cfg->crl_max_bytes;
	opts.timeout_ms = cfg->fetch_timeout_ms < remaining ? cfg->fetch_timeout_ms : remaining;
	opts.proxy = cfg->fetch_proxy;
	opts.source_interface = rs->settings_tp != NULL ? rs->settings_tp->source_interface : NULL;
	opts.bind_device = rs->settings_tp != NULL ? rs->settings_tp->vrf : NULL;
	opts.ldap_default_host = rs->settings->crl_query_url;
	job->fetch =
	    cv_fetch_start(job->engine->fetcher, urls[i], &opts, responder_crl_fetched, job, &err);
	if (job->fetch == NULL) {
		free(rs->ocsp_held);
		rs->ocsp_held = NULL;
		return -1;
	}
	cv_verdict_trace(&job->verdict, "revocation",
	                 "the delegated responder's status is not at hand: fetching CRL from %s "
	                 "(O-10)",
	                 urls[i]);
	return 0;
}

static void
ocsp_fetched(const struct cv_fetch_result *r, void *arg)
{
	struct verify_job *job = arg;
	struct cv_ocsp_answer a;
	struct cv_error err = {{0}};
	char error[CV_MESSAGE_MAX];
	const char *nonce = "";
	int rc = -1;

	job->fetch = NULL;
	/* RFC 5019: a responder that refuses GET is asked again by POST. */
	if (!r->ok && job->rev.ocsp_get && r->http_status >= 400) {
		cv_verdict_trace(&job->verdict, "revocation",
		                 "ocsp %s: GET refused (%s), using POST", job->rev.ocsp_url,
		                 r->error);
		if (start_request(job, job->path.certs[job->rev.cert],
		                  job->path.certs[job->rev.cert + 1], false, &err) == 0)
			return;
		snprintf(error, sizeof(error), "request failed: %s", err.msg);
	} else if (!r->ok) {
		snprintf(error, sizeof(error), "request failed: %s", r->error);
	} else {
		rc = check_response(job, r->data, r->len, &a, &nonce, error, sizeof(error));
	}
	if (rc != 1) /* 1: responder_crl_fetched concludes */
		ocsp_conclude(job, &a, nonce, rc == 0 ? NULL : error);
}

static int
start_request(struct verify_job *job, const struct cv_cert *cert, const struct cv_cert *issuer,
              bool use_get, struct cv_error *err)
{
	const struct cv_rev_settings *rev = job->rev.settings;
	struct rev_state *rs = &job->rev;
	struct cv_ocsp_request req;
	struct cv_fetch_opts opts;
	const unsigned remaining = job_remaining_ms(job);
	char *get_url = NULL;

	memset(&req, 0, sizeof(req));
	rs->nonce_len = 0;
	if (rev->nonce != CV_NONCE_DISABLED) {
		rs->nonce_len = rev->nonce_length > 0 ? rev->nonce_length : CV_OCSP_NONCE_DEFAULT;
		if (cv_ocsp_nonce_generate(rs->nonce, rs->nonce_len, err) < 0)
			return -1;
	}
	if (cv_ocsp_request_build_cert(cert, issuer, OCSP_DIGEST, rs->nonce, rs->nonce_len, &req,
	                               err) < 0)
		return -1;
	cv_fetch_opts_init(&opts);
	opts.max_bytes = job->cfg->ocsp_max_bytes;
	opts.timeout_ms =
	    job->cfg->fetch_timeout_ms < remaining ? job->cfg->fetch_timeout_ms : remaining;
	opts.proxy = job->cfg->fetch_proxy;
	opts.source_interface =
	    job->rev.settings_tp != NULL ? job->rev.settings_tp->source_interface : NULL;
	opts.bind_device = job->rev.settings_tp != NULL ? job->rev.settings_tp->vrf : NULL;
	/* RFC 5019: without a nonce the request is the same every time: GET when it is small
	 * enough, so that HTTP caches in front of the responder can serve it. */
	rs->ocsp_get = use_get && rs->nonce_len == 0 &&
	               cv_ocsp_get_url(rs->ocsp_url, req.der, req.der_len, &get_url, NULL) == 0;
	if (!rs->ocsp_get) {
		opts.post_body = req.der;
		opts.post_len = req.der_len;
		opts.content_type = "application/ocsp-request";
	}
	job->fetch = cv_fetch_start(job->engine->fetcher, rs->ocsp_get ? get_url : rs->ocsp_url,
	                            &opts, ocsp_fetched, job, err);
	free(get_url);
	cv_ocsp_request_clear(&req); /* the fetcher copied the body */
	return job->fetch != NULL ? 0 : -1;
}

static void
ocsp_start(struct verify_job *job)
{
	const struct cv_cert *cert = job->path.certs[job->rev.cert];
	const struct cv_cert *issuer = job->path.certs[job->rev.cert + 1];
	struct rev_state *rs = &job->rev;
	struct cv_ocsp_certid id;
	struct ocsp_flight *flight;
	struct cv_ocsp_answer a;
	struct cv_error err = {{0}};

	rs->responder_crl_tried = false;
	if (!responder_url(job, cert, rs->ocsp_url, sizeof(rs->ocsp_url))) {
		rs->ocsp_url[0] = '\0';
		ocsp_error(job, "", "%s", "no OCSP responder (no AIA, no ocsp url, no override)");
		return;
	}
	if (cv_ocsp_certid_compute_cert(cert, issuer, OCSP_DIGEST, &id, &err) < 0 ||
	    cv_ocsp_cache_key(&id, rs->ocsp_url, rs->ocsp_key) < 0) {
		ocsp_error(job, "", "%s",
		           err.msg[0] != '\0' ? err.msg : "cannot compute the CertID");
		return;
	}
	if (cache_lookup(job, &a)) {
		prefetch_seen(job->engine, rs->ocsp_key);
		answer_done(job, &a, "cache", "");
		return;
	}
	if (job->engine->fetcher == NULL) {
		ocsp_error(job, "", "%s", "no cached answer and fetching is off");
		return;
	}
	if (job_remaining_ms(job) == 0) {
		ocsp_error(job, "", "%s", "request deadline reached before asking the responder");
		return;
	}
	/* Another request is asking the same question: wait for its answer. */
	flight = flight_find(job->engine, rs->ocsp_key);
	if (flight != NULL && flight_wait(flight, job)) {
		cv_verdict_trace(&job->verdict, "revocation",
		                 "waiting for the OCSP query already asking %s", rs->ocsp_url);
		return;
	}
	if (start_request(job, cert, issuer, true, &err) < 0) {
		ocsp_error(job, "", "%s", err.msg);
		return;
	}
	if (flight_open(job) == NULL)
		cv_verdict_trace(&job->verdict, "revocation", "out of memory: query not shared");
	cv_verdict_trace(&job->verdict, "revocation", "asking OCSP responder %s (nonce %s)",
	                 rs->ocsp_url,
	                 rs->nonce_len > 0 ? cv_ocsp_nonce_mode_name(nonce_mode(job->rev.settings))
	                                   : "disabled");
}

static void
ocsp_cancel(struct verify_job *job)
{
	job->rev.ocsp_url[0] = '\0';
	free(job->rev.ocsp_held);
	job->rev.ocsp_held = NULL;
	job->rev.responder_crl_tried = false;
}

const struct cv_rev_method cv_rev_method_ocsp = {
    .name = method_name,
    .revoked = "the OCSP responder says the certificate is revoked",
    .start = ocsp_start,
    .cancel = ocsp_cancel,
    .shutdown = ocsp_shutdown,
};
