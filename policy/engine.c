/*
 * engine.c: the decision for one request, in the order of SPEC 1.4: trustpoint selection and
 * path validation, certificate maps, revocation in the trustpoint's method order, AAA, verdict.
 *
 * Each request is a job that owns a reference to the configuration it started with, so a
 * reload never changes a decision half-way. Stages run one after the other; a stage that must
 * wait for the network (revocation fetches) resumes the job from the event loop. In the
 * daemon, stage 1 (path building and signature checks, the CPU work) runs on a pool of
 * worker threads (cv_engine_set_workers): it reads only the job, its configuration (immutable
 * once loaded), the certificates (immutable, atomic references) and the verified-link cache
 * (locked); everything after it runs on the loop again. The daemon also reads requests on
 * the same threads (cv_engine_pool): they look seen chains up through cv_engine_seen_reply,
 * which reads only the verdict cache (locked) and a state snapshot the loop took; the
 * statistics are counted on the loop (cv_engine_count_seen).
 */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/util.h"
#include "../common/worker.h"
#include "engine_int.h"
#include "maps.h"

#define ANCHOR_CHAIN_MAX       8  /* chain-validation continue: parents followed at most */
#define CANDIDATE_CONTEXTS_MAX 65 /* trustpoints tried per request, plus the trustpool */
#define WORKERS_MAX            256
#define WORKER_QUEUE_MAX       65536 /* beyond: stage 1 runs on the loop (never refused) */

void
cv_request_init(struct cv_request *req)
{
	memset(req, 0, sizeof(*req));
	req->at = CV_TIME_NONE;
	req->purpose = CV_PURPOSE_ANY;
	req->malformed.cert_index = -1;
	req->detail = CV_VERDICT_DETAIL_TRACE;
}

void
cv_request_free(struct cv_request *req)
{
	cv_cert_list_free(&req->chain);
	cv_cert_list_free(&req->extra);
}

/* ---- `crl file` CRLs: loaded once per configuration, shared by its requests ---- */

static void
file_crls_free(struct cv_engine *engine)
{
	for (size_t i = 0; i < engine->n_file_crls; i++) {
		free(engine->file_crls[i].path);
		cv_crl_free(engine->file_crls[i].crl);
	}
	free(engine->file_crls);
	engine->file_crls = NULL;
	engine->n_file_crls = 0;
}

static struct file_crl *
file_crl_append(struct cv_engine *engine, const char *path)
{
	struct file_crl *grown =
	    realloc(engine->file_crls, (engine->n_file_crls + 1) * sizeof(*grown));

	if (grown == NULL)
		return NULL;
	engine->file_crls = grown;
	grown += engine->n_file_crls;
	memset(grown, 0, sizeof(*grown));
	grown->path = strdup(path);
	if (grown->path == NULL)
		return NULL;
	engine->n_file_crls++;
	return grown;
}

static void
file_crl_ingest(struct cv_engine *engine, const char *path, const uint8_t *data, size_t len)
{
	struct file_crl *fc = file_crl_append(engine, path);
	struct cv_error err = {{0}};

	if (fc != NULL && cv_crl_ingest_any(data, len, &fc->crl, &err) < 0) {
		cv_strlcpy(fc->error, err.msg, sizeof(fc->error));
		cv_log_warning("crl file %s: %s", path, err.msg);
	}
}

/* A DER `crl file`: the file's buffer becomes the CRL's (no copy: the ingest's peak memory
 * stays near the index plus one DER, issue 13). */
static void
file_crl_ingest_owned(struct cv_engine *engine, const char *path, uint8_t *data, size_t len)
{
	struct file_crl *fc = file_crl_append(engine, path);
	struct cv_error err = {{0}};

	if (fc == NULL) {
		free(data);
		return;
	}
	if (cv_crl_ingest_owned(data, len, NULL, 0, &fc->crl, &err) < 0) {
		cv_strlcpy(fc->error, err.msg, sizeof(fc->error));
		cv_log_warning("crl file %s: %s", path, err.msg);
	}
}

/* A `crl file` holds one DER CRL, or any number of PEM "X509 CRL" blocks. */
static void
file_crl_load(struct cv_engine *engine, const char *path, size_t max_bytes)
{
	static const char begin[] = "-----BEGIN X509 CRL-----", end[] = "-----END X509 CRL-----";
	struct cv_error err = {{0}};
	uint8_t *data = NULL;
	size_t len = 0, found = 0;
	const char *p;

	if (cv_read_file(path, max_bytes, &data, &len, &err) < 0) {
		struct file_crl *fc = file_crl_append(engine, path);

		if (fc != NULL)
			cv_strlcpy(fc->error, err.msg, sizeof(fc->error));
		cv_log_warning("crl file %s: %s", path, err.msg);
		return;
	}
	for (p = strstr((const char *)data, begin); p != NULL; p = strstr(p, begin)) {
		const char *stop = strstr(p, end);

		if (stop == NULL)
			break;
		stop += sizeof(end) - 1;
		file_crl_ingest(engine, path, (const uint8_t *)p, (size_t)(stop - p));
		found++;
		p = stop;
	}
	if (found == 0) {
		file_crl_ingest_owned(engine, path, data, len);
		return;
	}
	free(data);
}

static void
file_crls_load_settings(struct cv_engine *engine, const struct cv_rev_settings *rev,
                        size_t max_bytes)
{
	for (size_t i = 0; i < rev->n_crl_files; i++)
		if (engine_file_crl(engine, rev->crl_files[i]) == NULL)
			file_crl_load(engine, rev->crl_files[i], max_bytes);
}

/* The trustpoint (or "trustpool") whose configuration names the CRL file path first. */
static const char *
file_crl_user(const struct cv_config *cfg, const char *path)
{
	for (size_t i = 0; i <= cfg->n_trustpoints; i++) {
		const struct cv_rev_settings *rev =
		    i < cfg->n_trustpoints ? &cfg->trustpoints[i].rev : &cfg->trustpool.rev;

		for (size_t k = 0; k < rev->n_crl_files; k++)
			if (strcmp(rev->crl_files[k], path) == 0)
				return i < cfg->n_trustpoints ? cfg->trustpoints[i].name
				                              : "trustpool";
	}
	return "";
}

/* Issue 16: the store's listener hears of each CRL of a file loaded again, with the CRL of
 * the same file and issuer it replaces (revocation events of a `crl file` reload). */
static void
file_crls_notify(struct cv_engine *engine, const struct file_crl *old, size_t n_old)
{
	for (size_t i = 0; i < engine->n_file_crls; i++) {
		const struct file_crl *fc = &engine->file_crls[i];
		const struct cv_crl_info *info;
		const struct cv_crl *prev = NULL;
		char source[CV_CRL_SOURCE_MAX];

		if (fc->crl == NULL)
			continue;
		info = cv_crl_get_info(fc->crl);
		for (size_t k = 0; prev == NULL && k < n_old; k++) {
			const struct cv_crl_info *o =
			    old[k].crl != NULL ? cv_crl_get_info(old[k].crl) : NULL;

			if (o != NULL && strcmp(old[k].path, fc->path) == 0 &&
			    o->issuer_len == info->issuer_len &&
			    memcmp(o->issuer, info->issuer, info->issuer_len) == 0)
				prev = old[k].crl;
		}
		snprintf(source, sizeof(source), "file:%s", fc->path);
		cv_crl_store_notify(engine->crls, source, file_crl_user(engine->cfg, fc->path),
		                    fc->crl, prev);
	}
}

static void
file_crls_load(struct cv_engine *engine)
{
	const struct cv_config *cfg = engine->cfg;
	struct file_crl *old = engine->file_crls;
	const size_t n_old = engine->n_file_crls;

	engine->file_crls = NULL;
	engine->n_file_crls = 0;
	for (size_t i = 0; i < cfg->n_trustpoints; i++)
		file_crls_load_settings(engine, &cfg->trustpoints[i].rev, cfg->crl_max_bytes);
	file_crls_load_settings(engine, &cfg->trustpool.rev, cfg->crl_max_bytes);
	file_crls_notify(engine, old, n_old); /* nobody listens at the first load */
	for (size_t i = 0; i < n_old; i++) {
		free(old[i].path);
		cv_crl_free(old[i].crl);
	}
	free(old);
}

const struct file_crl *
engine_file_crl(const struct cv_engine *engine, const char *path)
{
	for (size_t i = 0; i < engine->n_file_crls; i++)
		if (engine->file_crls[i].path != NULL &&
		    strcmp(engine->file_crls[i].path, path) == 0)
			return &engine->file_crls[i];
	return NULL;
}

/* ---- the engine ---- */

struct cv_engine *
cv_engine_new(struct event_base *base, struct cv_config *cfg, const struct cv_clock *clock)
{
	struct cv_engine *engine = calloc(1, sizeof(*engine));

	if (engine == NULL)
		return NULL;
	engine->base = base;
	engine->cfg = cv_config_ref(cfg);
	if (clock != NULL)
		engine->clock = *clock;
	engine->crls = cv_crl_store_new();
	engine->ocsp = cv_ocsp_cache_new(CV_OCSP_CACHE_DEFAULT_MAX);
	engine->aaa = cv_aaa_new(base, &engine->clock);
	engine->links = cv_link_cache_new(CV_LINK_CACHE_DEFAULT);
	engine->pubkeys = engine->links != NULL ? cv_pubkeys_new(engine->links) : NULL;
	if (engine->crls == NULL || engine->ocsp == NULL || engine->aaa == NULL ||
	    engine->links == NULL || engine->pubkeys == NULL) {
		cv_engine_free(engine);
		return NULL;
	}
	file_crls_load(engine);
	return engine;
}

static void job_free(struct verify_job *job);

void
cv_engine_free(struct cv_engine *engine)
{
	if (engine == NULL)
		return;
	/* First: its threads end, so no job is in use off the loop any more. */
	cv_worker_pool_free(engine->pool);
	engine->pool = NULL;
	while (engine->jobs != NULL) {
		struct verify_job *job = engine->jobs;

		if (job->fetch != NULL)
			cv_fetch_cancel(job->fetch);
		cv_aaa_query_cancel(engine->aaa, job->aaa_query);
		job->fetch = NULL;
		job->aaa_query = 0;
		job_free(job); /* in flight at shutdown: done is not called */
	}
	rev_engine_shutdown(engine);
	refresh_free_all(engine);
	crl_walk_free_all(engine);
	crl_ingest_shutdown(engine); /* after every waiter above let go */
	file_crls_free(engine);
	cv_aaa_free(engine->aaa);
	cv_pubkeys_free(engine->pubkeys);
	cv_link_cache_free(engine->links);
	aia_cache_free(engine);
	cv_verdict_cache_free(engine->vcache);
	cv_crl_store_free(engine->crls);
	cv_ocsp_cache_free(engine->ocsp);
	cv_config_unref(engine->cfg);
	free(engine);
}

void
cv_engine_set_config(struct cv_engine *engine, struct cv_config *cfg)
{
	struct cv_config *old = engine->cfg;

	engine->cfg = cv_config_ref(cfg);
	cv_config_unref(old);
	engine->generation++; /* every cached verdict was decided under the old configuration */
	if (engine->vcache != NULL)
		cv_verdict_cache_set_max(engine->vcache, cfg->verdict_cache_entries);
	file_crls_load(engine);
	cv_aaa_clear_cache(engine->aaa); /* answers were for the old lists and servers */
	if (engine->fetcher != NULL)
		cv_fetcher_set_retry_after(engine->fetcher, cfg->fetch_retry_after_s);
}

int
cv_engine_set_workers(struct cv_engine *engine, unsigned n)
{
	long cores;

	if (engine->pool != NULL)
		return (int)engine->n_workers;
	if (n == 0) {
		cores = sysconf(_SC_NPROCESSORS_ONLN);
		n = cores > 0 ? (unsigned)cores : 1u;
	}
	if (n > WORKERS_MAX)
		n = WORKERS_MAX;
	engine->pool = cv_worker_pool_new_fixed(engine->base, WORKER_QUEUE_MAX, n);
	if (engine->pool == NULL)
		return -1;
	engine->n_workers = n;
	return (int)n;
}

unsigned
cv_engine_workers(const struct cv_engine *engine)
{
	return engine->n_workers;
}

const struct cv_clock *
cv_engine_clock(const struct cv_engine *engine)
{
	return &engine->clock;
}

void
cv_engine_set_fetcher(struct cv_engine *engine, struct cv_fetcher *fetcher)
{
	engine->fetcher = fetcher;
}

struct cv_crl_store *
cv_engine_crl_store(const struct cv_engine *engine)
{
	return engine->crls;
}

struct cv_ocsp_cache *
cv_engine_ocsp_cache(const struct cv_engine *engine)
{
	return engine->ocsp;
}

int
cv_engine_persist_crls(struct cv_engine *engine, struct cv_error *err)
{
	if (engine->cfg->cache_dir == NULL)
		return 0;
	if (cv_crl_store_set_dir(engine->crls, engine->cfg->cache_dir, err) < 0)
		return -1;
	return cv_crl_store_load(engine->crls, cv_engine_now(engine), err);
}

size_t
cv_engine_clear_links(struct cv_engine *engine)
{
	return cv_link_cache_clear(engine->links);
}

void
cv_engine_foreach_pubkey(struct cv_engine *engine,
                         void (*fn)(const struct cv_pubkey_info *info, void *arg), void *arg)
{
	cv_pubkeys_expire(engine->pubkeys, cv_engine_now(engine));
	cv_pubkeys_foreach(engine->pubkeys, fn, arg);
}

size_t
cv_engine_zeroize_pubkey(struct cv_engine *engine, unsigned index)
{
	return cv_pubkeys_zeroize(engine->pubkeys, index);
}

/*
 * R49: an accepted peer's key is remembered as long as the revocation data that vouched for
 * it (the earliest nextUpdate of its own good evidence), else CV_PUBKEY_TTL_S.
 */
static void
remember_peer_key(struct verify_job *job)
{
	const struct cv_verdict *v = &job->verdict;
	const cv_time now = cv_engine_now(job->engine);
	cv_time expires = now + CV_PUBKEY_TTL_S;
	bool vouched = false;

	if (!job->have_path || job->path.n < 2)
		return;
	for (size_t i = 0; i < v->n_evidence; i++) {
		const struct cv_evidence *e = &v->evidence[i];

		if (e->cert_index != 0 || strcmp(e->outcome, "good") != 0 ||
		    e->next_update == CV_TIME_NONE)
			continue;
		if (!vouched || e->next_update < expires)
			expires = e->next_update;
		vouched = true;
	}
	cv_pubkeys_note(job->engine->pubkeys, job->path.certs[0], job->path.certs[1], v->trustpoint,
	                now, expires);
}

struct cv_fetcher *
cv_engine_fetcher(const struct cv_engine *engine)
{
	return engine->fetcher;
}

void
cv_engine_foreach_file_crl(const struct cv_engine *engine, cv_engine_file_crl_fn fn, void *arg)
{
	for (size_t i = 0; i < engine->n_file_crls; i++)
		fn(engine->file_crls[i].path, engine->file_crls[i].crl, engine->file_crls[i].error,
		   arg);
}

struct cv_config *
cv_engine_config(const struct cv_engine *engine)
{
	return engine->cfg;
}

void
cv_engine_set_test_ingest_delay(struct cv_engine *engine, unsigned ms)
{
	engine->test_ingest_delay_ms = ms;
}

void
cv_engine_set_clock_offset(struct cv_engine *engine, int64_t offset)
{
	/* No invalidation (issue 13): forward is time passing, which the cached verdicts' time
	 * bounds cover; backward is refused by their decided_at (engine_vcache.c). */
	engine->clock.offset = offset;
}

int
cv_engine_enable_verdict_cache(struct cv_engine *engine)
{
	if (engine->vcache == NULL)
		engine->vcache = cv_verdict_cache_new(engine->cfg->verdict_cache_entries);
	return engine->vcache != NULL ? 0 : -1;
}

cv_time
cv_engine_now(const struct cv_engine *engine)
{
	return cv_clock_now(&engine->clock);
}

void
cv_engine_get_stats(const struct cv_engine *engine, struct cv_engine_stats *out)
{
	struct cv_link_cache_stats links = {0, 0, 0};

	*out = engine->stats;
	if (engine->links != NULL)
		cv_link_cache_get_stats(engine->links, &links);
	out->link_cache_hits = links.hits;
	out->links_remembered = links.links;
	if (engine->vcache != NULL)
		cv_verdict_cache_get_stats(engine->vcache, &out->verdict_cache);
}

/* ---- helpers ---- */

static void
cert_set_add(struct cert_set *set, struct cv_cert *cert)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i] == cert || cv_cert_equal(set->v[i], cert))
			return;
	if (set->n < CANDIDATE_CERTS_MAX)
		set->v[set->n++] = cert;
}

static void
cert_set_add_list(struct cert_set *set, const struct cv_cert_list *list, size_t from)
{
	for (size_t i = from; i < list->n; i++)
		cert_set_add(set, list->v[i]);
}

/* Copies the request, taking a reference on every certificate. */
static int
request_copy(struct cv_request *dst, const struct cv_request *src)
{
	cv_request_init(dst);
	memcpy(dst->trustpoints, src->trustpoints, sizeof(dst->trustpoints));
	dst->n_trustpoints = src->n_trustpoints;
	dst->at = src->at;
	dst->purpose = src->purpose;
	cv_strlcpy(dst->peer_name, src->peer_name, sizeof(dst->peer_name));
	cv_strlcpy(dst->peer_addr, src->peer_addr, sizeof(dst->peer_addr));
	cv_strlcpy(dst->application, src->application, sizeof(dst->application));
	dst->malformed = src->malformed;
	dst->detail = src->detail;
	dst->has_text_key = src->has_text_key;
	dst->text_key = src->text_key;
	for (size_t i = 0; i < src->chain.n; i++)
		if (cv_cert_list_push(&dst->chain, src->chain.v[i]) < 0)
			goto fail;
	for (size_t i = 0; i < src->extra.n; i++)
		if (cv_cert_list_push(&dst->extra, src->extra.v[i]) < 0)
			goto fail;
	return 0;
fail:
	cv_request_free(dst);
	return -1;
}

/* A job for a copy of req under cfg, not yet the engine's (job_start): any thread. */
static struct verify_job *
job_new(struct cv_engine *engine, struct cv_config *cfg, const struct cv_request *req, cv_time now)
{
	struct verify_job *job = calloc(1, sizeof(*job));

	if (job == NULL)
		return NULL;
	if (request_copy(&job->req, req) < 0) {
		free(job);
		return NULL;
	}
	job->engine = engine;
	job->cfg = cv_config_ref(cfg);
	cv_verdict_init(&job->verdict, req->at != CV_TIME_NONE ? req->at : now);
	job->verdict.made = req->detail; /* nothing made that the caller will not show */
	return job;
}

/* Frees what the job owns: any thread, for a job that started nothing on the loop. */
static void
job_release(struct verify_job *job)
{
	free(job->anchors);
	free(job->untrusted);
	if (job->have_path)
		cv_path_release(&job->path);
	cv_verdict_free(&job->verdict);
	cv_request_free(&job->req);
	cv_config_unref(job->cfg);
	free(job);
}

/* On the loop: the job becomes the engine's, with its deadline and callback. */
static void
job_start(struct verify_job *job, const struct cv_vc_key *key, cv_verify_done_fn done, void *arg)
{
	struct cv_engine *engine = job->engine;

	job->next = engine->jobs;
	if (engine->jobs != NULL)
		engine->jobs->prev = job;
	engine->jobs = job;
	job->deadline = cv_engine_now(engine) + (job->cfg->request_timeout_ms + 999) / 1000;
	job->done = done;
	job->done_arg = arg;
	vcache_job_start(job, key);
	engine->stats.requests++;
}

static void
job_free(struct verify_job *job)
{
	struct cv_engine *engine = job->engine;

	if (job->prev != NULL)
		job->prev->next = job->next;
	else if (engine->jobs == job)
		engine->jobs = job->next;
	if (job->next != NULL)
		job->next->prev = job->prev;
	rev_job_cancel(job);
	job_release(job);
}

/* The manuals' name for a chain validation result (trace of SPEC R55). */
static const char *
ios_result_name(const struct cv_verdict *v)
{
	if (v->decision == CV_DECISION_ACCEPT)
		return "CRYPTO_VALID_CERT";
	switch (v->reason) {
	case CV_REASON_EXPIRED:
	case CV_REASON_NOT_YET_VALID:
		return "CRYPTO_CERT_EXPIRED";
	case CV_REASON_REVOKED:
		return "CRYPTO_CERT_REVOKED";
	case CV_REASON_NOT_AUTHORIZED:
	case CV_REASON_AAA_DENIED:
		return "CRYPTO_PKI_CERT_NOT_AUTHORIZED";
	case CV_REASON_UNTRUSTED_ISSUER:
		return "CRYPTO_CERT_NO_ISSUER";
	case CV_REASON_REVOCATION_UNAVAILABLE:
		return "CRYPTO_CERT_REVOCATION_UNAVAILABLE";
	default:
		return "CRYPTO_INVALID_CERT";
	}
}

static void
count_outcome(struct cv_engine *engine, enum cv_decision decision, enum cv_reason reason,
              bool failed_open, const char *message, const char *peer_addr)
{
	struct cv_engine_stats *stats = &engine->stats;

	if (decision == CV_DECISION_ACCEPT) {
		stats->accepted++;
		if (failed_open)
			stats->failed_open++;
	} else {
		stats->rejected++;
		if ((size_t)reason < CV_ARRAY_LEN(stats->reasons))
			stats->reasons[reason]++;
		cv_log_notice("%%CRYPTO-5-IKMP_INVALID_CERT: Certificate received from %s is bad: "
		              "certificate invalid (%s: %s)",
		              peer_addr[0] != '\0' ? peer_addr : "local client",
		              cv_reason_name(reason), message);
	}
}

void
engine_count_verdict(struct cv_engine *engine, const struct cv_verdict *v, const char *peer_addr)
{
	count_outcome(engine, v->decision, v->reason, v->failed_open, v->message, peer_addr);
}

void
cv_engine_count_seen(struct cv_engine *engine, const struct cv_seen_outcome *o,
                     const char *peer_addr)
{
	engine->stats.requests++;
	count_outcome(engine, o->decision, o->reason, o->failed_open, o->message,
	              peer_addr != NULL ? peer_addr : "");
}

struct cv_worker_pool *
cv_engine_pool(const struct cv_engine *engine)
{
	return engine->pool;
}

/* Last stage: the closing trace event, statistics, the log line of SPEC R56, the verdict
 * cache, the callback. */
static void
job_finish(struct verify_job *job)
{
	struct cv_verdict *v = &job->verdict;

	if (v->trustpoint[0] != '\0')
		cv_verdict_trace(v, "verdict",
		                 "chain cert was anchored to trustpoint %s, and chain validation "
		                 "result was: %s",
		                 v->trustpoint, ios_result_name(v));
	if (v->decision == CV_DECISION_ACCEPT)
		remember_peer_key(job); /* R49: the peer key chain */
	engine_count_verdict(job->engine, v, job->req.peer_addr);
	vcache_job_store(job);
	job->done(v, job->done_arg);
	job_free(job);
}

void
job_reject(struct verify_job *job, enum cv_reason reason, const char *detail, int index,
           const char *msg)
{
	const char *subject = "";
	struct cv_failure f;

	if (job->have_path && index >= 0 && (size_t)index < job->path.n)
		subject = cv_cert_subject(job->path.certs[index]);
	else if (index == 0 && job->req.chain.n > 0)
		subject = cv_cert_subject(job->req.chain.v[0]);
	cv_failure_set(&f, reason, detail, index, subject, "%s", msg);
	cv_verdict_reject(&job->verdict, &f);
	job_finish(job);
}

/* ---- stage 1: trustpoint selection and path validation (SPEC R3, R9-R11, O-20) ---- */

/*
 * Collects the anchors of a trustpoint. Under `chain-validation stop` (the default) the
 * trustpoint's own CA certificates are the anchors; under `continue PARENT` they become
 * intermediates that must themselves validate up to the parent's anchors (SPEC R11).
 */
static int
collect_anchors(const struct cv_config *cfg, const struct cv_trustpoint *tp,
                struct cert_set *anchors, struct cert_set *intermediates, struct cv_failure *f)
{
	for (int depth = 0; depth < ANCHOR_CHAIN_MAX; depth++) {
		if (!tp->authenticated) {
			cv_failure_set(f, CV_REASON_UNTRUSTED_ISSUER, "ca-not-authenticated", -1,
			               "", "trustpoint %s: issuing CA not authenticated: %s",
			               tp->name, tp->auth_error);
			return -1;
		}
		if (tp->rev.chain == CV_CHAIN_STOP) {
			cert_set_add_list(anchors, &tp->ca_certs, 0);
			return 0;
		}
		cert_set_add_list(intermediates, &tp->ca_certs, 0);
		if (tp->rev.chain_parent == NULL) {
			cv_failure_set(f, CV_REASON_CHAIN_INVALID, "no-parent-trustpoint", -1, "",
			               "trustpoint %s: chain-validation continue needs a parent "
			               "trustpoint",
			               tp->name);
			return -1;
		}
		if (strcmp(tp->rev.chain_parent, tp->name) == 0) { /* loads with a warning */
			cv_failure_set(
			    f, CV_REASON_CHAIN_INVALID, "parent-is-itself", -1, "",
			    "trustpoint %s: chain-validation continue names the trustpoint "
			    "itself as its parent",
			    tp->name);
			return -1;
		}
		tp = cv_config_trustpoint(cfg, tp->rev.chain_parent);
		if (tp == NULL) {
			cv_failure_set(f, CV_REASON_CONFIG_ERROR, "unknown-parent-trustpoint", -1,
			               "", "parent trustpoint is not configured");
			return -1;
		}
	}
	cv_failure_set(f, CV_REASON_CONFIG_ERROR, "parent-chain-too-long", -1, "",
	               "chain-validation continue nests deeper than %d trustpoints",
	               ANCHOR_CHAIN_MAX);
	return -1;
}

static void
fill_path_params(const struct verify_job *job, const struct anchor_ctx *ctx,
                 struct cv_path_params *params)
{
	cv_path_params_init(params);
	params->at = job->verdict.at;
	params->purpose = job->req.purpose;
	params->peer_name = job->req.peer_name[0] != '\0' ? job->req.peer_name : NULL;
	params->allowed_weak = ctx->allowed_weak;
	params->profile = ctx->profile;
	params->max_depth = ctx->chain_depth;
	params->relaxations = ctx->relaxations;
	params->links = job->engine->links;
	if (ctx->tp != NULL) {
		const struct cv_trustpoint *tp = ctx->tp;

		for (size_t i = 0; i < tp->n_policies && i < CV_POLICY_OIDS_MAX; i++)
			params->policies[params->n_policies++] = tp->policies[i];
		params->explicit_policy = tp->explicit_policy;
		params->inhibit_policy_mapping = tp->inhibit_policy_mapping;
		params->inhibit_any_policy = tp->inhibit_any_policy;
	}
}

/* Is the new failure more telling than the one kept? A reached anchor beats "no issuer". */
static bool
failure_better(const struct cv_failure *candidate, const struct cv_failure *kept, bool have)
{
	if (!have)
		return true;
	return kept->reason == CV_REASON_UNTRUSTED_ISSUER &&
	       candidate->reason != CV_REASON_UNTRUSTED_ISSUER;
}

/* Tries one trust context; 0 when it anchors a valid path (job->path is then set). */
static int
try_anchor(struct verify_job *job, const struct anchor_ctx *ctx, struct cv_failure *f)
{
	struct cert_set *anchors = calloc(1, sizeof(*anchors));
	struct cert_set *untrusted = calloc(1, sizeof(*untrusted));
	struct cv_path_params params;
	int rc = -1;

	if (anchors == NULL || untrusted == NULL) {
		cv_failure_set(f, CV_REASON_INTERNAL_ERROR, "out-of-memory", -1, "",
		               "out of memory");
		goto out;
	}
	if (ctx->tp != NULL) {
		if (collect_anchors(job->cfg, ctx->tp, anchors, untrusted, f) < 0)
			goto out;
	} else {
		cert_set_add_list(anchors, &job->cfg->trustpool.ca_certs, 0);
	}
	cert_set_add_list(untrusted, &job->req.chain, 1);
	cert_set_add_list(untrusted, &job->req.extra, 0);
	/* SPEC R9: gaps in the peer's chain are filled from the trusted store. */
	for (size_t i = 0; i < job->cfg->n_trustpoints; i++)
		cert_set_add_list(untrusted, &job->cfg->trustpoints[i].ca_certs, 0);

	/* Maps first: `allow expired-certificate` must be known while validating (R38). */
	cv_map_evaluate(job->cfg, ctx->rev, job->req.chain.v[0], &job->maps);
	fill_path_params(job, ctx, &params);
	/* O-21: under AAA a certificate whose only defect is its notAfter is left to
	 * cert-lifetime-end; stage 4 decides. */
	params.leaf_validity_waived =
	    job->maps.allow_expired || (ctx->tp != NULL && ctx->tp->authz_list != NULL);
	params.anchors = anchors->v;
	params.n_anchors = anchors->n;
	params.untrusted = untrusted->v;
	params.n_untrusted = untrusted->n;
	rc = cv_path_build(job->req.chain.v[0], &params, &job->path, f, &job->verdict);
	if (rc < 0 && f->reason == CV_REASON_UNTRUSTED_ISSUER && ctx->tp != NULL &&
	    ctx->tp->rev.chain == CV_CHAIN_CONTINUE) {
		/* R11 (c): a gap between a `continue` trustpoint and its parent that the peer
		 * did not fill makes the chain invalid. */
		char msg[CV_MESSAGE_MAX];

		snprintf(msg, sizeof(msg), "chain-validation continue %s: %s",
		         ctx->tp->rev.chain_parent != NULL ? ctx->tp->rev.chain_parent : "",
		         f->message);
		f->reason = CV_REASON_CHAIN_INVALID;
		cv_strlcpy(f->message, msg, sizeof(f->message));
	}
	if (rc == 0) {
		job->have_path = true;
		job->anchors = anchors; /* kept: CRL signers and responders chain to them too */
		job->untrusted = untrusted;
		return 0;
	}
out:
	free(anchors);
	free(untrusted);
	return rc;
}

static void
anchor_from_trustpoint(struct anchor_ctx *ctx, const struct cv_trustpoint *tp)
{
	ctx->name = tp->name;
	ctx->tp = tp;
	ctx->rev = &tp->rev;
	ctx->allowed_weak = tp->allowed_weak;
	ctx->profile = tp->profile;
	ctx->chain_depth = tp->chain_depth;
	ctx->relaxations = tp->relaxations;
}

/* The candidate order of O-20: the request's list, else primary first, then file order. */
static size_t
candidate_trustpoints(const struct verify_job *job, const struct cv_trustpoint **out, size_t max,
                      struct cv_failure *f)
{
	const struct cv_config *cfg = job->cfg;
	size_t n = 0;

	if (job->req.n_trustpoints > 0) {
		for (size_t i = 0; i < job->req.n_trustpoints && n < max; i++) {
			const struct cv_trustpoint *tp =
			    cv_config_trustpoint(cfg, job->req.trustpoints[i]);

			if (tp == NULL) {
				cv_failure_set(f, CV_REASON_CONFIG_ERROR, "unknown-trustpoint", -1,
				               "", "trustpoint %s is not configured",
				               job->req.trustpoints[i]);
				return (size_t)-1;
			}
			out[n++] = tp;
		}
		return n;
	}
	for (size_t i = 0; i < cfg->n_trustpoints && n < max; i++)
		if (cfg->trustpoints[i].primary)
			out[n++] = &cfg->trustpoints[i];
	for (size_t i = 0; i < cfg->n_trustpoints && n < max; i++)
		if (!cfg->trustpoints[i].primary)
			out[n++] = &cfg->trustpoints[i];
	return n;
}

/* The trust contexts to try, in order: the candidate trustpoints, then the trustpool (O-2). */
static size_t
candidate_contexts(const struct verify_job *job, struct anchor_ctx *out, size_t max,
                   struct cv_failure *f)
{
	const struct cv_trustpoint *tps[CANDIDATE_CONTEXTS_MAX];
	size_t n = candidate_trustpoints(job, tps, max - 1, f);

	if (n == (size_t)-1)
		return n;
	for (size_t i = 0; i < n; i++)
		anchor_from_trustpoint(&out[i], tps[i]);
	if (job->req.n_trustpoints == 0 && job->cfg->trustpool.present) {
		const struct cv_trustpool *pool = &job->cfg->trustpool;

		out[n++] = (struct anchor_ctx){.name = "trustpool",
		                               .rev = &pool->rev,
		                               .allowed_weak = pool->allowed_weak,
		                               .profile = pool->profile,
		                               .chain_depth = pool->chain_depth,
		                               .relaxations = pool->relaxations};
	}
	return n;
}

static int
stage_select_and_validate(struct verify_job *job)
{
	struct anchor_ctx ctxs[CANDIDATE_CONTEXTS_MAX];
	struct cv_failure best, f;
	enum cv_profile best_profile = CV_PROFILE_RFC5280;
	bool have_best = false;
	const size_t n = candidate_contexts(job, ctxs, CV_ARRAY_LEN(ctxs), &f);

	if (n == (size_t)-1) {
		cv_verdict_reject(&job->verdict, &f);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (ctxs[i].tp != NULL)
			cv_verdict_trace(&job->verdict, "path", "Trust-Point %s picked up",
			                 ctxs[i].name);
		else
			cv_verdict_trace(&job->verdict, "path", "Trustpool picked up");
		if (try_anchor(job, &ctxs[i], &f) == 0) {
			job->anchor = ctxs[i];
			return 0;
		}
		if (failure_better(&f, &best, have_best)) {
			best = f;
			best_profile = ctxs[i].profile;
			have_best = true;
		}
	}
	if (!have_best)
		cv_failure_set(&best, CV_REASON_UNTRUSTED_ISSUER, "no-trustpoint", 0,
		               cv_cert_subject(job->req.chain.v[0]), "no trustpoint is configured");
	else /* the profile under which the reported failure happened */
		cv_strlcpy(job->verdict.profile, cv_profile_name(best_profile),
		           sizeof(job->verdict.profile));
	cv_verdict_reject(&job->verdict, &best);
	return -1;
}

/* ---- stage 2: certificate maps (SPEC R31-R40) ---- */

static void
trace_modifier(struct verify_job *job, enum cv_match_kind kind, const char *what)
{
	const struct cv_map_entry *e = job->maps.modifier_match[kind];

	if (e != NULL)
		cv_verdict_trace(&job->verdict, "map", "certificate map %s seq %u matched: %s",
		                 e->label, e->seq, what);
}

/* The verdict's `modifiers`: each map that matched through a modifier, named by it. */
static void
record_modifiers(struct cv_verdict *v, const struct cv_map_outcome *m)
{
	static const char *const names[] = {
	    [CV_MATCH_ALLOW_EXPIRED] = "allow expired-certificate",
	    [CV_MATCH_SKIP_REVOCATION] = "skip revocation-check",
	    [CV_MATCH_SKIP_AUTHORIZATION] = "skip authorization-check",
	    [CV_MATCH_OVERRIDE_CDP] = "override cdp",
	    [CV_MATCH_OVERRIDE_OCSP] = "override ocsp",
	};

	v->n_modifiers = 0;
	for (size_t k = CV_MATCH_ALLOW_EXPIRED; k < CV_ARRAY_LEN(names); k++) {
		const struct cv_map_entry *e = m->modifier_match[k];
		struct cv_map_modifier *o;

		if (e == NULL || v->n_modifiers == CV_MODIFIERS_MAX)
			continue;
		o = &v->modifiers[v->n_modifiers++];
		cv_strlcpy(o->modifier, names[k], sizeof(o->modifier));
		cv_strlcpy(o->label, e->label, sizeof(o->label));
		o->seq = (int)e->seq;
	}
}

/*
 * SPEC R36-R40, O-17, O-19: the ACL is checked on every request, right after path validation
 * and before any network I/O; the modifiers were evaluated with it.
 */
static int
stage_maps(struct verify_job *job)
{
	const struct cv_map_outcome *m = &job->maps;
	struct cv_verdict *v = &job->verdict;

	/* O-17: a label without a map rejects every chain of the trustpoint (fail closed) */
	if (m->undefined != NULL) {
		char why[CV_MAP_WHY_MAX];

		snprintf(why, sizeof(why),
		         "match certificate %s (configuration line %u): certificate map %s is not "
		         "defined",
		         m->undefined->label, m->undefined->line, m->undefined->label);
		cv_verdict_trace(v, "map", "%s", why);
		job_reject(job, CV_REASON_NOT_AUTHORIZED, "undefined-map", 0, why);
		return -1;
	}
	if (m->acl_configured) {
		if (m->acl_match == NULL) {
			cv_verdict_trace(v, "map", "no certificate map matched: %s", m->why);
			job_reject(job, CV_REASON_NOT_AUTHORIZED, "no-map-matched", 0, m->why);
			return -1;
		}
		cv_strlcpy(v->map_label, m->acl_match->label, sizeof(v->map_label));
		v->map_seq = (int)m->acl_match->seq;
		cv_verdict_trace(v, "map", "certificate map %s seq %u matched", m->acl_match->label,
		                 m->acl_match->seq);
	}
	record_modifiers(v, m);
	if (job->path.leaf_validity_waived_used)
		trace_modifier(job, CV_MATCH_ALLOW_EXPIRED,
		               "allow expired-certificate: validity period not enforced");
	trace_modifier(job, CV_MATCH_SKIP_REVOCATION, "skip revocation-check");
	trace_modifier(job, CV_MATCH_SKIP_AUTHORIZATION, "skip authorization-check");
	return 0;
}

/* ---- stage 4: AAA authorization (SPEC R41-R48, O-21) ---- */

static void
aaa_evidence(struct verify_job *job, const struct cv_aaa_answer *answer, bool passed)
{
	struct cv_evidence *ev = cv_verdict_add_evidence(&job->verdict, 0, "aaa");

	if (ev == NULL)
		return;
	cv_strlcpy(ev->outcome, passed ? "good" : "error", sizeof(ev->outcome));
	cv_strlcpy(ev->source, answer->from_cache ? "cache" : "request", sizeof(ev->source));
	cv_strlcpy(ev->url, answer->method, sizeof(ev->url));
	cv_strlcpy(ev->error, answer->error, sizeof(ev->error));
}

/* What the upstream of an auth subrequest may want to see: "NAME=VALUE; NAME=VALUE". */
static void
aaa_attributes(struct cv_verdict *v, const struct cv_aaa_answer *answer)
{
	size_t len = 0;

	v->aaa_attributes[0] = '\0';
	for (size_t i = 0; i < answer->n_attrs && len < sizeof(v->aaa_attributes); i++) {
		int n =
		    snprintf(v->aaa_attributes + len, sizeof(v->aaa_attributes) - len, "%s%s=%s",
		             i > 0 ? "; " : "", answer->attrs[i].name, answer->attrs[i].value);

		if (n < 0 || (size_t)n >= sizeof(v->aaa_attributes) - len) {
			v->aaa_attributes[len] =
			    '\0'; /* a pair that does not fit is left out whole */
			break;
		}
		len += (size_t)n;
	}
}

/* O-21: an expired leaf passes only when AAA's cert-lifetime-end is still ahead. */
static int
lifetime_extension(struct verify_job *job, cv_time lifetime_end, struct cv_failure *f)
{
	const struct cv_cert *leaf = job->req.chain.v[0];
	char when[CV_TIME_TEXT_MAX];

	if (!job->expired_pending_aaa)
		return 0;
	if (lifetime_end == CV_TIME_NONE || job->verdict.at >= lifetime_end) {
		cv_failure_set(
		    f, CV_REASON_EXPIRED, "expired", 0, cv_cert_subject(leaf),
		    "certificate has expired and AAA gave no cert-lifetime-end beyond it");
		return -1;
	}
	job->verdict.expiry_overridden = true;
	cv_verdict_trace(&job->verdict, "aaa",
	                 "expired certificate accepted until cert-lifetime-end %s",
	                 cv_time_format_iso(lifetime_end, when));
	return 0;
}

static void
aaa_done(const struct cv_aaa_answer *answer, void *arg)
{
	struct verify_job *job = arg;
	const struct cv_trustpoint *tp = job->anchor.tp;
	struct cv_verdict *v = &job->verdict;
	cv_time lifetime_end = CV_TIME_NONE;
	struct cv_failure f;
	int rc;

	job->aaa_query = 0;
	rc = cv_aaa_evaluate(answer, job->req.chain.v[0], job->anchor.name, job->req.application,
	                     v->at, job->cfg->tz_offset_min, &lifetime_end, v, &f);
	job_relies_on_aaa(job, answer, lifetime_end);
	if (rc == 0)
		rc = lifetime_extension(job, lifetime_end, &f);
	aaa_evidence(job, answer, rc == 0);
	aaa_attributes(v, answer); /* also on a refusal: which attribute refused is a field */
	cv_verdict_trace(v, "aaa", "post-authorization chain validation status (0x%x)",
	                 rc == 0 ? 4u : 7u);
	if (rc < 0) {
		cv_verdict_trace(v, "aaa", "authorization failed");
		cv_verdict_trace(v, "aaa", "AAA authorization for list '%s', and user '%s' failed.",
		                 tp->authz_list, v->aaa_username);
		cv_verdict_reject(v, &f);
		job_finish(job);
		return;
	}
	cv_verdict_trace(v, "aaa", "authorization passed");
	cv_verdict_accept(v);
	job_finish(job);
}

/* Returns 1 when the job went on asynchronously, 0 to accept now, -1 after a rejection. */
static int
stage_authorization(struct verify_job *job)
{
	const struct cv_trustpoint *tp = job->anchor.tp;
	struct cv_verdict *v = &job->verdict;
	struct cv_error err = {{0}};

	if (tp == NULL || tp->authz_list == NULL)
		return 0;
	if (job->maps.skip_authorization) {
		cv_verdict_trace(v, "aaa", "authorization skipped by certificate map");
		if (job->expired_pending_aaa) {
			job_reject(
			    job, CV_REASON_EXPIRED, "expired", 0,
			    "certificate has expired (AAA, which could extend it, was skipped)");
			return -1;
		}
		return 0;
	}
	if (cv_aaa_username(job->req.chain.v[0], tp->authz_username, v->aaa_username,
	                    sizeof(v->aaa_username)) < 0) {
		cv_verdict_trace(v, "aaa", "the certificate has no %s for the AAA username",
		                 cv_subject_field_name(tp->authz_username));
		job_reject(job, CV_REASON_AAA_DENIED, "aaa-no-username", 0,
		           "the certificate has no subject field for the AAA username");
		return -1;
	}
	cv_verdict_trace(v, "aaa", "Selected AAA username: '%s'", v->aaa_username);
	cv_verdict_trace(v, "aaa", "Anticipate checking AAA list:'%s'", tp->authz_list);
	cv_verdict_trace(v, "aaa", "checking AAA authorization (%s, %s, <all>)", tp->authz_list,
	                 v->aaa_username);
	cv_verdict_trace(v, "aaa", "pre-authorization chain validation status (0x4)");
	job->aaa_query = cv_aaa_query_start(job->engine->aaa, job->cfg, tp->authz_list,
	                                    v->aaa_username, aaa_done, job, &err);
	if (job->aaa_query == 0) {
		cv_verdict_trace(v, "aaa",
		                 "authorization declined by AAA, or AAA server not found.");
		job_reject(job, CV_REASON_AAA_DENIED, "aaa-unavailable", 0, err.msg);
		return -1;
	}
	return 1;
}

/* The leaf's dates were waived: by `allow expired-certificate`, or for AAA to decide (O-21). */
static int
stage_leaf_validity(struct verify_job *job)
{
	const struct cv_cert *leaf = job->req.chain.v[0];

	if (job->maps.allow_expired) {
		job->verdict.expiry_overridden = true;
		return 0;
	}
	if (cv_cert_not_before(leaf) > job->verdict.at) {
		job_reject(job, CV_REASON_NOT_YET_VALID, "not-yet-valid", 0,
		           "certificate is not yet valid");
		return -1;
	}
	job->expired_pending_aaa = true;
	cv_verdict_trace(&job->verdict, "path",
	                 "certificate has expired: AAA cert-lifetime-end decides (O-21)");
	return 0;
}

/* ---- the pipeline ---- */

/* Stages 4 and 5, after revocation has let the chain through. */
void
job_after_revocation(struct verify_job *job)
{
	if (stage_authorization(job) != 0)
		return;
	cv_verdict_accept(&job->verdict);
	job_finish(job);
}

unsigned
job_remaining_ms(const struct verify_job *job)
{
	const cv_time now = cv_engine_now(job->engine);

	return job->deadline > now ? (unsigned)(job->deadline - now) * 1000u : 0;
}

/*
 * The verdict names what the validated path relied on: the trust context's profile, and the
 * relaxations and weak algorithms (cv_path.relaxations_used, .weak_used) without which it
 * would have failed; each one used is traced.
 */
static void
verdict_relied_on(struct verify_job *job)
{
	struct cv_verdict *v = &job->verdict;

	cv_strlcpy(v->profile, cv_profile_name(job->anchor.profile), sizeof(v->profile));
	if (cv_path_relied_on_names(job->path.relaxations_used, job->path.weak_used, v->relaxations,
	                            sizeof(v->relaxations)) < 0)
		cv_log_warning("verdict: relaxation names truncated");
	if (v->relaxations[0] != '\0')
		cv_verdict_trace(v, "path", "validation under profile %s relied on: %s", v->profile,
		                 v->relaxations);
}

/* Everything after stage 1, on the loop. */
static void
job_after_validate(struct verify_job *job)
{
	if (job->validate_rc < 0) {
		/* leaf-only peers: the issuer named by AIA caIssuers (aia.c) */
		const int aia = aia_try(job);

		if (aia == 0)
			return; /* downloading: aia_fetched runs the job again */
		if (aia > 0)
			job_run(job); /* the issuer is at hand: build again */
		else
			job_finish(job);
		return;
	}
	cv_strlcpy(job->verdict.trustpoint, job->anchor.name, sizeof(job->verdict.trustpoint));
	cv_verdict_trace(&job->verdict, "path", "Using %s to validate certificate",
	                 job->anchor.name);
	if (cv_path_to_verdict(&job->path, &job->verdict) < 0) {
		job_reject(job, CV_REASON_INTERNAL_ERROR, "out-of-memory", -1, "out of memory");
		return;
	}
	verdict_relied_on(job);
	if (job->path.leaf_validity_waived_used && stage_leaf_validity(job) < 0)
		return;
	if (stage_maps(job) < 0)
		return;
	rev_start(job);
}

/* On a worker thread: stage 1 touches the job and what it shares read-only (see the top). */
static void
job_validate_task(void *arg)
{
	struct verify_job *job = arg;

	job->validate_rc = stage_select_and_validate(job);
}

static void
job_validate_done(void *arg)
{
	job_after_validate(arg);
}

/* The job belongs to the engine's list, not to the task: cv_engine_free frees it. */
static void
job_task_release(void *arg)
{
	(void)arg;
}

void
job_run(struct verify_job *job)
{
	struct cv_worker_pool *pool = job->engine->pool;

	if (pool != NULL && cv_worker_submit(pool, job_validate_task, job_validate_done,
	                                     job_task_release, job, NULL) == 0)
		return;
	/* No pool (certvalctl, tests), or the queue is full: on the loop, never refused. */
	job->validate_rc = stage_select_and_validate(job);
	job_after_validate(job);
}

/* The trace's first line: the peer's certificate. */
static void
trace_request(struct verify_job *job)
{
	cv_verdict_trace(&job->verdict, "request", "peer certificate %s (serial %s), %zu sent",
	                 cv_cert_subject(job->req.chain.v[0]), cv_cert_serial(job->req.chain.v[0]),
	                 job->req.chain.n);
}

/* A certificate of the request does not parse: rejected before any validation, never a usage
 * error (issue 11: never a wrong accept; the peer sent it). */
static void
reject_malformed(struct verify_job *job)
{
	const char *msg = job->req.malformed.message;
	struct cv_failure f;

	cv_failure_set(&f, CV_REASON_CHAIN_INVALID, "malformed-certificate",
	               job->req.malformed.cert_index, "", "%s",
	               msg[0] != '\0' ? msg : "malformed certificate");
	cv_verdict_trace(&job->verdict, "request", "the peer sent a malformed certificate: %s",
	                 f.message);
	cv_verdict_reject(&job->verdict, &f);
	job_finish(job);
}

int
cv_engine_verify(struct cv_engine *engine, const struct cv_request *req, cv_verify_done_fn done,
                 void *arg)
{
	struct verify_job *job;
	struct cv_vc_key key;
	const bool keyed = engine->vcache != NULL && cv_verdict_cache_key(req, &key) == 0;

	if (keyed && cv_engine_serve_seen(engine, &key, req->detail, req->peer_addr, done, arg))
		return 0; /* a seen chain, nothing changed since its verdict (issue 13) */
	job = job_new(engine, engine->cfg, req, cv_engine_now(engine));
	if (job == NULL)
		return -1;
	job_start(job, keyed ? &key : NULL, done, arg);
	cv_pubkeys_expire(engine->pubkeys, cv_engine_now(engine)); /* before any link is used */
	if (job->req.malformed.present) {
		reject_malformed(job);
		return 0;
	}
	if (job->req.chain.n == 0) {
		job_reject(job, CV_REASON_CHAIN_INVALID, "empty-chain", -1,
		           "the request carries no certificate");
		return 0;
	}
	trace_request(job);
	job_run(job);
	return 0;
}

/* ---- stage 1 ahead, on the thread that read the request (engine.h) ---- */

struct cv_engine_ahead {
	struct verify_job *job; /* stage 1 run, not yet the engine's */
	struct cv_vc_now state; /* what it ran under */
	bool keyed;
	struct cv_vc_key key; /* its verdict cache key, when keyed */
};

struct cv_engine_ahead *
cv_engine_ahead(struct cv_engine *engine, struct cv_config *cfg, const struct cv_vc_now *state,
                const struct cv_request *req)
{
	struct cv_engine_ahead *a;

	if (req->malformed.present || req->chain.n == 0 || (a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->job = job_new(engine, cfg, req, state->now);
	if (a->job == NULL) {
		free(a);
		return NULL;
	}
	a->state = *state;
	/* engine->vcache is set before the daemon takes requests and never changes after */
	a->keyed = engine->vcache != NULL && cv_verdict_cache_key(req, &a->key) == 0;
	cv_pubkeys_expire(engine->pubkeys, state->now); /* locked; before any link is used */
	trace_request(a->job);
	a->job->validate_rc = stage_select_and_validate(a->job);
	return a;
}

int
cv_engine_verify_ahead(struct cv_engine *engine, struct cv_engine_ahead *a, cv_verify_done_fn done,
                       void *arg)
{
	struct verify_job *job = a->job;

	/* Stage 1 read the configuration and the time, nothing else that changes (CRLs and
	 * answers are read after it, from here on) */
	if (engine->generation != a->state.engine_gen || cv_engine_now(engine) != a->state.now) {
		const int rc = cv_engine_verify(engine, &job->req, done, arg); /* afresh */

		cv_engine_ahead_free(a);
		return rc;
	}
	job_start(job, a->keyed ? &a->key : NULL, done, arg);
	free(a);
	job_after_validate(job);
	return 0;
}

void
cv_engine_ahead_free(struct cv_engine_ahead *a)
{
	if (a == NULL)
		return;
	job_release(a->job);
	free(a);
}
