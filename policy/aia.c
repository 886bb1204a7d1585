/*
 * aia.c: missing intermediates from the AIA caIssuers URL of a certificate (RFC 5280
 * 4.2.2.1), for peers such as nginx's auth subrequests that pass their leaf only. Off unless
 * a trustpoint the request may use says `aia-fetch`.
 *
 * When path building found no issuer for a certificate, the first certificate up the chain
 * whose issuer is nowhere at hand (the request, the trustpoints, the trustpool) names an http://
 * caIssuers URL; its body (DER or PEM certificates; a PKCS#7 certs-only bundle is not read) is
 * fetched with the engine's fetcher (single-flight, negative cache, size cap, the request's
 * deadline), kept in a small cache for an hour, added to the request's untrusted certificates,
 * and path building runs again. What was fetched is named in the verdict's evidence (method
 * "aia"). The fetched certificates are untrusted like any the peer sends: a path still has to
 * reach a trust anchor.
 */
#include <string.h>

#include "../common/log.h"
#include "../common/util.h"
#include "../validator/fetch/fetch.h"
#include "engine_int.h"

/* The first http:// caIssuers URI of cert's AIA (parsed once, validator/cert.h). */
static bool
ca_issuers_url(const struct cv_cert *cert, char *out, size_t len)
{
	const struct cv_cert_aia *aia = cv_cert_aia(cert);

	for (size_t i = 0; i < aia->n_ca_issuers; i++)
		if (cv_cert_uri_copy(&aia->ca_issuers[i], out, len) == 0 &&
		    strncmp(out, "http://", 7) == 0 && out[7] != '\0')
			return true;
	return false;
}

/* May the request use a trustpoint with aia-fetch? */
static bool
aia_allowed(const struct verify_job *job)
{
	const struct cv_config *cfg = job->cfg;

	if (job->req.n_trustpoints == 0) {
		for (size_t i = 0; i < cfg->n_trustpoints; i++)
			if (cfg->trustpoints[i].aia_fetch)
				return true;
		return false;
	}
	for (size_t i = 0; i < job->req.n_trustpoints; i++) {
		const struct cv_trustpoint *tp = cv_config_trustpoint(cfg, job->req.trustpoints[i]);

		if (tp != NULL && tp->aia_fetch)
			return true;
	}
	return false;
}

static const struct cv_cert *
issuer_in(const struct cv_cert_list *list, const struct cv_cert *cert)
{
	size_t ilen, slen;
	const uint8_t *issuer = cv_cert_issuer_der(cert, &ilen);

	for (size_t i = 0; i < list->n; i++) {
		const uint8_t *subject = cv_cert_subject_der(list->v[i], &slen);

		if (slen == ilen && memcmp(subject, issuer, ilen) == 0 && list->v[i] != cert)
			return list->v[i];
	}
	return NULL;
}

/* A certificate whose issuer (by name) is at hand: the request's, a trustpoint's, the pool's. */
static const struct cv_cert *
issuer_at_hand(const struct verify_job *job, const struct cv_cert *cert)
{
	const struct cv_cert *found = issuer_in(&job->req.chain, cert);

	if (found == NULL)
		found = issuer_in(&job->req.extra, cert);
	for (size_t i = 0; found == NULL && i < job->cfg->n_trustpoints; i++)
		found = issuer_in(&job->cfg->trustpoints[i].ca_certs, cert);
	if (found == NULL)
		found = issuer_in(&job->cfg->trustpool.ca_certs, cert);
	return found;
}

/* The first certificate up from the peer's whose issuer is not at hand, or NULL. */
static const struct cv_cert *
orphan(const struct verify_job *job, int *index)
{
	const struct cv_cert *cur = job->req.chain.v[0];

	for (int depth = 0; depth < CV_PATH_MAX_DEPTH; depth++) {
		const struct cv_cert *up;

		if (cv_cert_is_self_issued(cur))
			return NULL;
		up = issuer_at_hand(job, cur);
		if (up == NULL) {
			*index = depth;
			return cur;
		}
		cur = up;
	}
	return NULL;
}

static bool
tried(const struct verify_job *job, const char *url)
{
	for (size_t i = 0; i < job->n_aia; i++)
		if (strcmp(job->aia[i].url, url) == 0)
			return true;
	return false;
}

static struct aia_entry *
cache_get(struct cv_engine *engine, const char *url, cv_time now)
{
	for (size_t i = 0; i < AIA_CACHE_MAX; i++) {
		struct aia_entry *e = &engine->aia[i];

		if (e->url[0] != '\0' && strcmp(e->url, url) == 0)
			return now - e->fetched < AIA_CACHE_S && now >= e->fetched ? e : NULL;
	}
	return NULL;
}

static void
cache_put(struct cv_engine *engine, const char *url, const struct cv_cert_list *certs, cv_time now)
{
	struct aia_entry *e = NULL;

	for (size_t i = 0; i < AIA_CACHE_MAX && e == NULL; i++)
		if (strcmp(engine->aia[i].url, url) == 0)
			e = &engine->aia[i];
	if (e == NULL) {
		e = &engine->aia[engine->aia_next];
		engine->aia_next = (engine->aia_next + 1) % AIA_CACHE_MAX;
	}
	cv_cert_list_free(&e->certs);
	e->url[0] = '\0';
	for (size_t i = 0; i < certs->n; i++)
		if (cv_cert_list_push(&e->certs, certs->v[i]) != 0)
			return; /* not cached: the slot stays free */
	cv_strlcpy(e->url, url, sizeof(e->url));
	e->fetched = now;
}

void
aia_cache_free(struct cv_engine *engine)
{
	for (size_t i = 0; i < AIA_CACHE_MAX; i++)
		cv_cert_list_free(&engine->aia[i].certs);
}

/* Adds certs to the request's untrusted certificates; 0 or -1 (out of memory). */
static int
add_certs(struct verify_job *job, const struct cv_cert_list *certs)
{
	for (size_t i = 0; i < certs->n; i++)
		if (cv_cert_list_push(&job->req.extra, certs->v[i]) != 0)
			return -1;
	return 0;
}

/* A fresh verdict for the next attempt, naming every AIA fetch of the request so far. */
static void
restart_verdict(struct verify_job *job)
{
	const cv_time at = job->verdict.at;

	cv_verdict_free(&job->verdict);
	cv_verdict_init(&job->verdict, at);
	for (size_t i = 0; i < job->n_aia; i++) {
		const struct aia_note *n = &job->aia[i];
		struct cv_evidence *ev =
		    cv_verdict_add_evidence(&job->verdict, n->cert_index, "aia");

		if (ev != NULL) {
			cv_strlcpy(ev->url, n->url, sizeof(ev->url));
			cv_strlcpy(ev->outcome, n->outcome, sizeof(ev->outcome));
			cv_strlcpy(ev->source, n->source, sizeof(ev->source));
			cv_strlcpy(ev->error, n->error, sizeof(ev->error));
		}
		cv_verdict_trace(&job->verdict, "path", "AIA caIssuers %s: %s%s%s", n->url,
		                 n->outcome, n->error[0] != '\0' ? ": " : "", n->error);
	}
}

static void
aia_fetched(const struct cv_fetch_result *r, void *arg)
{
	struct verify_job *job = arg;
	struct aia_note *n = &job->aia[job->n_aia - 1];
	struct cv_cert_list certs = {0};
	struct cv_error err = {""};

	job->fetch = NULL;
	if (!r->ok) {
		cv_strlcpy(n->error, r->error, sizeof(n->error));
	} else if (r->len == 0 || cv_cert_list_parse(&certs, r->data, r->len, &err) != 0) {
		cv_strlcpy(n->error, r->len == 0 ? "empty body" : err.msg, sizeof(n->error));
	} else if (add_certs(job, &certs) != 0) {
		cv_strlcpy(n->error, "out of memory", sizeof(n->error));
	} else {
		cv_strlcpy(n->outcome, "fetched", sizeof(n->outcome));
		cache_put(job->engine, n->url, &certs, cv_engine_now(job->engine));
	}
	cv_cert_list_free(&certs);
	restart_verdict(job);
	job_run(job); /* a failed fetch: the next build fails the same way and the job ends */
}

int
aia_try(struct verify_job *job)
{
	const cv_time now = cv_engine_now(job->engine);
	const unsigned remaining = job_remaining_ms(job);
	struct cv_fetch_opts opts;
	struct cv_error err = {""};
	const struct cv_cert *cert;
	struct aia_entry *cached;
	struct aia_note *n;
	int index = 0;

	if (job->verdict.reason != CV_REASON_UNTRUSTED_ISSUER || job->n_aia == AIA_FETCHES_MAX ||
	    !aia_allowed(job) || (cert = orphan(job, &index)) == NULL)
		return -1;
	n = &job->aia[job->n_aia];
	memset(n, 0, sizeof(*n));
	if (!ca_issuers_url(cert, n->url, sizeof(n->url)) || tried(job, n->url))
		return -1;
	n->cert_index = index;
	cv_strlcpy(n->outcome, "error", sizeof(n->outcome));
	job->n_aia++;
	/* the verdict cache: an issuer from the network (or the AIA cache of an hour) is asked
	 * for again by a fresh evaluation, so a verdict that tried one is never cached */
	job_not_cacheable(job);
	cached = cache_get(job->engine, n->url, now);
	if (cached != NULL) {
		cv_strlcpy(n->source, "cache", sizeof(n->source));
		cv_strlcpy(n->outcome, "fetched", sizeof(n->outcome));
		if (add_certs(job, &cached->certs) != 0)
			return -1;
		restart_verdict(job);
		return 1;
	}
	cv_strlcpy(n->source, "download", sizeof(n->source));
	if (job->engine->fetcher == NULL || remaining == 0) {
		cv_strlcpy(n->error,
		           job->engine->fetcher == NULL ? "no fetcher (offline)"
		                                        : "request deadline reached",
		           sizeof(n->error));
		restart_verdict(job);
		return 1; /* the build fails again and the verdict names the attempt */
	}
	cv_fetch_opts_init(&opts);
	opts.max_bytes = AIA_MAX_BYTES;
	opts.timeout_ms =
	    job->cfg->fetch_timeout_ms < remaining ? job->cfg->fetch_timeout_ms : remaining;
	opts.proxy = job->cfg->fetch_proxy;
	job->fetch = cv_fetch_start(job->engine->fetcher, n->url, &opts, aia_fetched, job, &err);
	if (job->fetch == NULL) {
		cv_strlcpy(n->error, err.msg, sizeof(n->error));
		restart_verdict(job);
		return 1;
	}
	cv_log_debug("AIA: fetching the issuer of certificate %d from %s", index, n->url);
	return 0;
}
