/*
 * engine_vcache.c: the engine's side of the verdict cache (issue 13): serving a seen chain
 * before any work, and deciding at the end of a job whether its verdict may be served again
 * and until when. The rules, and why a cached verdict never differs from a fresh evaluation,
 * are in README.md, "Verdict cache".
 *
 * What a verdict depends on, and how each dependency is covered:
 *  - the request: the key (cv_verdict_cache_key);
 *  - the configuration (trustpoints, anchors, maps, `crl file` CRLs, AAA lists):
 *    engine->generation, moved by cv_engine_set_config;
 *  - cached CRLs and OCSP answers: the store and cache generations, when the job consulted
 *    them (relied_crl, relied_ocsp), and their own expiry (job_relies_until);
 *  - time: every validity period the job relied on (job_relies_on_cert), every nextUpdate of
 *    its evidence, the AAA answer's cache lifetime and cert-lifetime-end. A verdict is served
 *    only from its decision time (decided_at) to the first of these instants (until), so a
 *    clock that moves (the test clock's offset, or the system clock stepped) needs nothing
 *    else: forward is time passing, backward falls before decided_at;
 *  - what a fresh evaluation would ask again (a method that did not answer, and so anything
 *    that failed open through `none` after it; an uncached CRL or answer):
 *    job_not_cacheable, or the verdict's own evidence (verdict_cacheable).
 * The remembered signatures (the link cache, `clear pubkeys`) are no dependency: a signature
 * that verified once verifies again, so forgetting it only costs time.
 */
#include <stdio.h>
#include <string.h>

#include "engine_int.h"

static struct cv_vc_now
current_state(const struct cv_engine *engine)
{
	return (struct cv_vc_now){.engine_gen = engine->generation,
	                          .crl_gen = cv_crl_store_generation(engine->crls),
	                          .ocsp_gen = cv_ocsp_cache_generation(engine->ocsp),
	                          .now = cv_engine_now(engine)};
}

bool
cv_engine_serve_seen(struct cv_engine *engine, const struct cv_vc_key *key,
                     enum cv_verdict_detail detail, const char *peer_addr, cv_verify_done_fn done,
                     void *arg)
{
	const struct cv_vc_entry *entry;
	struct cv_vc_now cur;
	struct cv_verdict v;

	if (engine->vcache == NULL)
		return false;
	cur = current_state(engine);
	entry = cv_verdict_cache_get(engine->vcache, key, &cur, detail, &v);
	if (entry == NULL)
		return false;
	v.at = cur.now; /* the verdict holds now: nothing it depends on changed since */
	v.from_cache = true;
	engine->stats.requests++;
	engine_count_verdict(engine, &v, peer_addr != NULL ? peer_addr : "");
	done(&v, arg);
	cv_verdict_cache_release(engine->vcache, entry);
	return true;
}

bool
cv_engine_seen_state(const struct cv_engine *engine, struct cv_vc_now *out)
{
	*out = current_state(engine);
	return engine->vcache != NULL;
}

bool
cv_engine_seen_current(const struct cv_engine *engine, const struct cv_vc_now *state)
{
	const struct cv_vc_now cur = current_state(engine);

	return cur.engine_gen == state->engine_gen && cur.crl_gen == state->crl_gen &&
	       cur.ocsp_gen == state->ocsp_gen && cur.now == state->now;
}

/* Any thread: engine->vcache is set before the daemon takes requests and never changes
 * after, and the cache locks itself; state is the caller's snapshot, so no other engine
 * member is read. */
bool
cv_engine_seen_reply(struct cv_engine *engine, const struct cv_vc_key *key,
                     const struct cv_vc_now *state, enum cv_verdict_detail detail,
                     cv_seen_render_fn render, void *arg, struct cv_seen_reply *out)
{
	const struct cv_vc_entry *entry;
	struct cv_verdict v;

	if (engine->vcache == NULL)
		return false;
	entry = cv_verdict_cache_get(engine->vcache, key, state, detail, &v);
	if (entry == NULL)
		return false;
	v.at = state->now;
	v.from_cache = true;
	cv_engine_seen_outcome(&v, &out->outcome);
	out->text = cv_verdict_cache_memo(engine->vcache, entry, detail, state->now, &out->len);
	if (out->text == NULL && (out->text = render(&v, arg, &out->len)) != NULL)
		cv_verdict_cache_memo_keep(engine->vcache, entry, detail, state->now, out->text,
		                           out->len);
	cv_verdict_cache_release(engine->vcache, entry);
	return true;
}

void
cv_engine_seen_outcome(const struct cv_verdict *v, struct cv_seen_outcome *out)
{
	out->decision = v->decision;
	out->reason = v->reason;
	out->failed_open = v->failed_open;
	snprintf(out->message, sizeof(out->message), "%s", v->message);
}

void
vcache_job_start(struct verify_job *job, const struct cv_vc_key *key)
{
	struct cv_engine *engine = job->engine;

	memset(&job->vc, 0, sizeof(job->vc));
	job->vc.until = CV_TIME_NONE;
	job->vc.decided_at = job->verdict.at;
	if (key == NULL)
		return;
	job->vc_keyed = true;
	job->vc_key = *key;
	cv_verdict_cache_note_miss(engine->vcache);
	/* Noted before any work: data that changes while the job runs makes its verdict stale
	 * at once rather than valid under a generation it never saw. */
	job->vc.engine_gen = engine->generation;
	job->vc.crl_gen = cv_crl_store_generation(engine->crls);
	job->vc.ocsp_gen = cv_ocsp_cache_generation(engine->ocsp);
}

void
job_relies_until(struct verify_job *job, cv_time t)
{
	/* an instant already passed at the validation time cannot un-pass: an entry is never
	 * served before its decided_at, so the clock only moves forward while it is */
	if (t == CV_TIME_NONE || t <= job->verdict.at)
		return;
	if (job->vc.until == CV_TIME_NONE || t < job->vc.until)
		job->vc.until = t;
}

void
job_relies_on_cert(struct verify_job *job, const struct cv_cert *cert)
{
	const cv_time not_after = cv_cert_not_after(cert);

	/* valid from notBefore through notAfter inclusive (validator/path_validate.c) */
	job_relies_until(job, cv_cert_not_before(cert));
	if (not_after != CV_TIME_NONE && not_after < INT64_MAX)
		job_relies_until(job, not_after + 1);
}

void
job_not_cacheable(struct verify_job *job)
{
	job->vc_uncacheable = true;
}

void
job_relies_on_aaa(struct verify_job *job, const struct cv_aaa_answer *answer, cv_time lifetime_end)
{
	/* an answer that is not cached is asked for again by a fresh evaluation */
	if (answer->status == CV_AAA_UNREACHABLE || answer->expires == CV_TIME_NONE)
		job_not_cacheable(job);
	else
		job_relies_until(job, answer->expires);
	job_relies_until(job, lifetime_end); /* O-21: an extension ends there */
}

/*
 * Verdicts a fresh evaluation may decide differently whatever the caches hold. A method that
 * did not answer made the job uncacheable already (rev_method_done); its evidence says so
 * too. Passing through `none` without any method failing first (`revocation-check none`)
 * depends on the configuration only and is cached; failing open after a failure never is.
 */
static bool
verdict_cacheable(const struct cv_verdict *v)
{
	if (v->revocation == CV_REVOCATION_ERROR)
		return false;
	switch (v->reason) {
	case CV_REASON_REVOCATION_UNAVAILABLE: /* the network may answer next time */
	case CV_REASON_INTERNAL_ERROR:
	case CV_REASON_CONFIG_ERROR:
		return false;
	default:
		break;
	}
	if (strcmp(v->detail, "aaa-unavailable") == 0)
		return false;
	for (size_t i = 0; i < v->n_evidence; i++) /* a method that did not answer */
		if (strcmp(v->evidence[i].outcome, "error") == 0)
			return false;
	return true;
}

static void
relies_on_list(struct verify_job *job, const struct cv_cert_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		job_relies_on_cert(job, list->v[i]);
}

/* Every certificate whose validity period may have entered the decision: the request's, the
 * path's, and every anchor of the configuration (a rejection may have tried them all). */
static void
relies_on_time(struct verify_job *job)
{
	const struct cv_config *cfg = job->cfg;
	const struct cv_verdict *v = &job->verdict;

	relies_on_list(job, &job->req.chain);
	relies_on_list(job, &job->req.extra);
	for (size_t i = 0; job->have_path && i < job->path.n; i++)
		job_relies_on_cert(job, job->path.certs[i]);
	for (size_t i = 0; i < cfg->n_trustpoints; i++)
		relies_on_list(job, &cfg->trustpoints[i].ca_certs);
	relies_on_list(job, &cfg->trustpool.ca_certs);
	for (size_t i = 0; i < v->n_evidence; i++)
		job_relies_until(job, v->evidence[i].next_update);
}

void
vcache_job_store(struct verify_job *job)
{
	struct cv_engine *engine = job->engine;

	if (engine->vcache == NULL || !job->vc_keyed || job->vc_uncacheable ||
	    !verdict_cacheable(&job->verdict))
		return;
	/* what the job read may be newer than the generations it noted: not stored */
	if (engine->generation != job->vc.engine_gen ||
	    (job->vc.relied_crl && cv_crl_store_generation(engine->crls) != job->vc.crl_gen) ||
	    (job->vc.relied_ocsp && cv_ocsp_cache_generation(engine->ocsp) != job->vc.ocsp_gen))
		return;
	relies_on_time(job);
	cv_verdict_cache_put(engine->vcache, &job->vc_key, &job->vc, &job->verdict);
}
