/*
 * revocation.c: stage 3 of the engine (SPEC R12-R14, O-11): every certificate of the path
 * below the trust anchor is checked with the trust context's methods in the order written.
 * The next method is tried only when one gives no answer; `revoked` is final; `none` accepts
 * without an answer and marks the verdict as failed open. The methods are the rows of
 * rev_methods below (revocation.h), each in its own file, and report through rev_method_done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "../common/util.h"
#include "engine_int.h"

static void rev_cert_begin(struct verify_job *job);

unsigned
rev_verify_flags(const struct verify_job *job)
{
	unsigned flags = 0;

	if (job->anchor.allowed_weak & CV_WEAK_SHA1)
		flags |= GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1;
	if (job->anchor.allowed_weak & CV_WEAK_MD5)
		flags |= GNUTLS_VERIFY_ALLOW_BROKEN;
	return flags;
}

static void
rev_finish(struct verify_job *job)
{
	struct cv_verdict *v = &job->verdict;

	if (job->rev.any_none) {
		v->revocation = CV_REVOCATION_UNCHECKED_NONE;
		v->failed_open = true;
		cv_verdict_trace(v, "revocation", "Certificate validated without revocation check");
	} else {
		v->revocation = CV_REVOCATION_GOOD;
	}
	job_after_revocation(job);
}

/*
 * The revocation methods (R12), one row each: ROW(x) names the struct cv_rev_method
 * cv_rev_method_x that x's own file defines. A new method (a pushed or stapled source, say)
 * is that file and one row here; the order does not matter.
 */
#define REV_METHODS(ROW)                                                                           \
	ROW(crl)  /* revocation_crl.c */                                                           \
	ROW(ocsp) /* revocation_ocsp.c */                                                          \
	ROW(none) /* revocation_none.c */

#define REV_DECLARE(x) extern const struct cv_rev_method cv_rev_method_##x;
#define REV_ROW(x)     &cv_rev_method_##x,

REV_METHODS(REV_DECLARE)

static const struct cv_rev_method *const rev_methods[] = {REV_METHODS(REV_ROW)};

/* Duplicates are refused, so a revocation-check list is never longer than the table. */
_Static_assert(CV_ARRAY_LEN(rev_methods) <= CV_REV_METHODS_MAX,
               "CV_REV_METHODS_MAX (config.h) must hold every method once");

size_t
cv_rev_method_count(void)
{
	return CV_ARRAY_LEN(rev_methods);
}

const struct cv_rev_method *
cv_rev_method_at(size_t i)
{
	return i < CV_ARRAY_LEN(rev_methods) ? rev_methods[i] : NULL;
}

const struct cv_rev_method *
cv_rev_method_find(const char *name)
{
	for (size_t i = 0; i < CV_ARRAY_LEN(rev_methods); i++)
		if (strcmp(rev_methods[i]->name, name) == 0)
			return rev_methods[i];
	return NULL;
}

void
rev_job_cancel(struct verify_job *job)
{
	crl_ingest_cancel(job->ingest); /* a downloaded CRL it waited for (CRL or OCSP method) */
	job->ingest = NULL;
	for (size_t i = 0; i < CV_ARRAY_LEN(rev_methods); i++)
		if (rev_methods[i]->cancel != NULL)
			rev_methods[i]->cancel(job);
}

void
rev_engine_shutdown(struct cv_engine *engine)
{
	for (size_t i = 0; i < CV_ARRAY_LEN(rev_methods); i++)
		if (rev_methods[i]->shutdown != NULL)
			rev_methods[i]->shutdown(engine);
}

/* Every method of the list tried gave no answer: R12's "revocation-check crl ocsp" text. */
static void
rev_no_answer(struct verify_job *job)
{
	const struct cv_rev_settings *rev = job->rev.settings;
	char msg[CV_MESSAGE_MAX];
	size_t len;

	len = (size_t)snprintf(msg, sizeof(msg),
	                       "no revocation method gave an answer (revocation-check");
	for (size_t i = 0; i < rev->n_methods && len < sizeof(msg); i++)
		len += (size_t)snprintf(msg + len, sizeof(msg) - len, " %s", rev->methods[i]->name);
	if (len < sizeof(msg))
		snprintf(msg + len, sizeof(msg) - len, ")");
	job->verdict.revocation = CV_REVOCATION_ERROR;
	job_reject(job, CV_REASON_REVOCATION_UNAVAILABLE, "no-method-answered", (int)job->rev.cert,
	           msg);
}

static void
rev_method_run(struct verify_job *job)
{
	const struct cv_rev_settings *rev = job->rev.settings;

	if (job->rev.method >= rev->n_methods) {
		rev_no_answer(job);
		return;
	}
	rev->methods[job->rev.method]->start(job);
}

void
rev_method_done(struct verify_job *job, enum rev_result result)
{
	const struct cv_rev_settings *rev = job->rev.settings;

	switch (result) {
	case REV_GOOD:
		job->rev.cert++;
		rev_cert_begin(job);
		return;
	case REV_REVOKED:
		job->verdict.revocation = CV_REVOCATION_REVOKED;
		job_reject(job, CV_REASON_REVOKED, "revoked", (int)job->rev.cert,
		           rev->methods[job->rev.method]->revoked);
		return;
	case REV_ERROR:
		job_not_cacheable(job); /* issue 13: the method may answer a fresh evaluation */
		job->rev.method++;
		rev_method_run(job);
		return;
	}
}

/* Drops what the previous certificate's methods gathered. */
static void
rev_reset_cert(struct verify_job *job)
{
	rev_job_cancel(job);
	job->rev.method = 0;
}

static bool
cert_in_list(const struct cv_cert *cert, const struct cv_cert_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		if (cv_cert_equal(list->v[i], cert))
			return true;
	return false;
}

/* O-11: a certificate is checked with the anchoring context's settings, except a trustpoint's
 * own CA certificate under `chain-validation continue P`, which P's settings check. */
static void
rev_select_settings(struct verify_job *job)
{
	const struct cv_cert *cert = job->path.certs[job->rev.cert];
	const struct cv_config *cfg = job->cfg;
	struct rev_state *rs = &job->rev;

	rs->settings = job->anchor.rev;
	rs->settings_name = job->anchor.name;
	rs->settings_tp = job->anchor.tp;
	for (size_t i = 0; i < cfg->n_trustpoints; i++) {
		const struct cv_trustpoint *tp = &cfg->trustpoints[i];
		const struct cv_trustpoint *parent;

		if (tp->rev.chain != CV_CHAIN_CONTINUE || tp->rev.chain_parent == NULL ||
		    !cert_in_list(cert, &tp->ca_certs))
			continue;
		parent = cv_config_trustpoint(cfg, tp->rev.chain_parent);
		if (parent == NULL)
			continue;
		rs->settings = &parent->rev;
		rs->settings_name = parent->name;
		rs->settings_tp = parent;
		cv_verdict_trace(
		    &job->verdict, "revocation",
		    "trustpoint %s's CA certificate is checked with the settings of %s", tp->name,
		    parent->name);
		return;
	}
}

static void
rev_cert_begin(struct verify_job *job)
{
	if (job->rev.cert + 1 >= job->path.n) {
		rev_finish(job);
		return;
	}
	rev_reset_cert(job);
	rev_select_settings(job);
	cv_verdict_trace(&job->verdict, "revocation", "checking revocation of certificate %zu (%s)",
	                 job->rev.cert, cv_cert_subject(job->path.certs[job->rev.cert]));
	rev_method_run(job);
}

void
rev_start(struct verify_job *job)
{
	struct cv_verdict *v = &job->verdict;

	if (job->maps.skip_revocation) {
		struct cv_evidence *ev = cv_verdict_add_evidence(v, 0, cv_rev_method_none.name);

		if (ev != NULL)
			cv_strlcpy(ev->outcome, "skipped-by-map", sizeof(ev->outcome));
		v->revocation = CV_REVOCATION_SKIPPED_BY_MAP;
		cv_verdict_trace(v, "revocation", "Certificate validated without revocation check");
		job_after_revocation(job);
		return;
	}
	if (job->path.n <= 1) {
		v->revocation = CV_REVOCATION_NOT_CHECKED;
		cv_verdict_trace(v, "revocation", "the peer's certificate is a trust anchor");
		job_after_revocation(job);
		return;
	}
	job->rev.cert = 0;
	rev_cert_begin(job);
}

/* ---- the path of a CRL signer or OCSP responder (O-10, RFC 5280 6.3.3 (f)) ---- */

static bool
signer_in_progress(const struct verify_job *job, const struct cv_cert *signer)
{
	for (int i = 0; i < job->rev.signer_depth; i++)
		if (cv_cert_equal(job->rev.signer_stack[i], signer))
			return true;
	return false;
}

static bool
signer_path_checked(struct verify_job *job, const struct cv_cert *signer,
                    const struct cv_cert *const *extra, size_t n_extra, struct cv_error *err)
{
	struct cert_set *untrusted = calloc(1, sizeof(*untrusted));
	struct cv_path_params params;
	struct cv_failure f;
	struct cv_path path;
	bool good = false;

	if (untrusted == NULL) {
		cv_error_set(err, "out of memory");
		return false;
	}
	*untrusted = *job->untrusted;
	for (size_t i = 0; i < job->path.n && untrusted->n < CANDIDATE_CERTS_MAX; i++)
		untrusted->v[untrusted->n++] = job->path.certs[i];
	for (size_t i = 0; i < n_extra && untrusted->n < CANDIDATE_CERTS_MAX; i++)
		untrusted->v[untrusted->n++] = (struct cv_cert *)extra[i];
	cv_path_params_init(&params);
	params.at = job->verdict.at;
	params.allowed_weak = job->anchor.allowed_weak;
	params.links = job->engine->links;
	params.anchors = job->anchors->v;
	params.n_anchors = job->anchors->n;
	params.untrusted = untrusted->v;
	params.n_untrusted = untrusted->n;
	if (cv_path_build(signer, &params, &path, &f, NULL) < 0) {
		cv_error_set(err, "signer %s does not chain to the trust anchor: %s",
		             cv_cert_subject(signer), f.message);
		goto out;
	}
	good = true;
	for (size_t i = 0; i < path.n; i++) /* issue 13: the signer's validity periods */
		job_relies_on_cert(job, path.certs[i]);
	for (size_t i = 0; good && i + 1 < path.n; i++) {
		struct cv_crl_check_result r;

		if (rev_crl_check_sync(job, path.certs[i], path.certs[i + 1], &r) < 0 ||
		    r.status != CV_CRL_STATUS_GOOD) {
			cv_error_set(err, "signer path certificate %s: revocation status %s: %s",
			             cv_cert_subject(path.certs[i]), cv_crl_status_name(r.status),
			             r.message);
			good = false;
		}
	}
	cv_path_release(&path);
out:
	free(untrusted);
	return good;
}

bool
rev_signer_path_good(struct verify_job *job, const struct cv_cert *signer,
                     const struct cv_cert *const *extra, size_t n_extra, struct cv_error *err)
{
	struct rev_state *rs = &job->rev;
	bool good;

	/* A signer whose own status comes from the CRL it signs (PKITS 4.14.30) is already
	 * being validated further up: accept it here instead of looping. */
	if (signer_in_progress(job, signer))
		return true;
	if (rs->signer_depth >= (int)CV_ARRAY_LEN(rs->signer_stack)) {
		cv_error_set(err, "signer validation nests too deep");
		return false;
	}
	rs->signer_stack[rs->signer_depth++] = signer;
	good = signer_path_checked(job, signer, extra, n_extra, err);
	rs->signer_depth--;
	return good;
}
