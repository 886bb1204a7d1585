/*
 * revocation_crl.c: the `crl` revocation method (SPEC R16-R25, O-13, O-14, O-15, D-3, D-6).
 *
 * The CRLs at hand are tried first: the trust context's `crl file` CRLs and the cached CRLs of
 * the certificate's distribution points (or of the map's `override cdp`). When they do not
 * settle the status, the distribution points are fetched one after the other in certificate
 * order (R17), each CRL ingested, cached per `crl-cache`, and the RFC 5280 6.3 check run again.
 * A status that stays undetermined is a method error: the next method decides.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../common/log.h"
#include "../common/util.h"
#include "../validator/der.h"
#include "engine_int.h"

/* The method's name in `revocation-check` and in the evidence (its row, below). */
static const char method_name[] = "crl";

#define CANDIDATES_MAX 64

/* The CRLs one check considers, each with where it came from. */
struct candidates {
	struct cv_crl *crl[CANDIDATES_MAX]; /* one reference each */
	const char *source[CANDIDATES_MAX];
	const char *origin[CANDIDATES_MAX]; /* "file", "cache", "download" */
	size_t n;
};

static void
candidates_add(struct candidates *c, struct cv_crl *crl, const char *source, const char *origin)
{
	if (c->n < CANDIDATES_MAX) {
		c->crl[c->n] = crl;
		c->source[c->n] = source;
		c->origin[c->n] = origin;
		c->n++;
	} else {
		cv_crl_free(crl);
	}
}

static void
candidates_free(struct candidates *c)
{
	for (size_t i = 0; i < c->n; i++)
		cv_crl_free(c->crl[i]);
	c->n = 0;
}

/* Every CRL at hand for the certificate now being checked (without fetching). */
static void
candidates_gather(struct verify_job *job, struct candidates *c)
{
	const struct cv_rev_settings *rev = job->rev.settings;
	const cv_time now = cv_engine_now(job->engine);
	struct rev_state *rs = &job->rev;

	c->n = 0;
	job->vc.relied_crl = true; /* issue 13: the verdict holds while the CRL store does */
	for (size_t i = 0; i < rev->n_crl_files; i++)
		for (size_t k = 0; k < job->engine->n_file_crls; k++) {
			const struct file_crl *fc = &job->engine->file_crls[k];

			if (fc->crl != NULL && strcmp(fc->path, rev->crl_files[i]) == 0)
				candidates_add(c, cv_crl_ref(fc->crl), fc->path, "file");
		}
	for (size_t i = 0; i < rs->n_sources; i++) {
		struct cv_crl_store_entry e;
		struct cv_crl *crl = cv_crl_store_get(job->engine->crls, rs->sources[i], now, &e);

		if (crl == NULL)
			continue;
		job_relies_until(job, e.expires); /* then a fresh evaluation fetches again */
		candidates_add(c, crl, rs->sources[i],
		               e.fetched_at >= rs->fetch_started && rs->fetch_started != 0
		                   ? "download"
		                   : "cache");
	}
	for (size_t i = 0; i < rs->n_local; i++) /* `crl-cache none`: fetched again next time */
		candidates_add(c, cv_crl_ref(rs->local[i]), rs->local_source[i], "download");
	if (rs->n_local > 0)
		job_not_cacheable(job);
	for (size_t i = 0; i < c->n; i++)
		job_relies_until(job, cv_crl_get_info(c->crl[i])->next_update);
}

static int
signer_cb(void *arg, const struct cv_cert *signer, struct cv_error *err)
{
	return rev_signer_path_good(arg, signer, NULL, 0, err) ? 0 : -1;
}

static int
run_check(struct verify_job *job, const struct cv_cert *cert, const struct cv_cert *issuer,
          const struct candidates *c, struct cv_crl_check_result *r)
{
	struct cv_crl_check_params p;

	memset(&p, 0, sizeof(p));
	p.cert = cert;
	p.issuer = issuer;
	p.at = job->verdict.at;
	p.crls = c->crl;
	p.n_crls = c->n;
	p.signers = job->untrusted->v;
	p.n_signers = job->untrusted->n;
	p.validate_signer = signer_cb;
	p.signer_arg = job;
	p.verify_flags = rev_verify_flags(job);
	for (size_t i = 0; i + 2 < job->path.n; i++)
		if (job->path.certs[i + 1] == issuer)
			p.issuer_params = job->path.certs[i + 2];
	p.use_deltas = true;
	p.no_notes = job->verdict.made != CV_VERDICT_DETAIL_TRACE; /* only the trace shows them */
	return cv_crl_check(&p, r);
}

int
rev_crl_check_sync(struct verify_job *job, const struct cv_cert *cert, const struct cv_cert *issuer,
                   struct cv_crl_check_result *r)
{
	const cv_time now = cv_engine_now(job->engine);
	char urls[REV_SOURCES_MAX][CV_URL_MAX];
	size_t n_urls = 0;
	struct candidates c;
	int rc;

	candidates_gather(job, &c);
	/* a signer path certificate's own CDPs, when their CRLs are cached (O-10) */
	cert_cdp_urls(cert, urls, &n_urls);
	for (size_t i = 0; i < n_urls; i++) {
		struct cv_crl *crl = cv_crl_store_get(job->engine->crls, urls[i], now, NULL);

		if (crl != NULL)
			candidates_add(&c, crl, urls[i], "cache");
	}
	rc = run_check(job, cert, issuer, &c, r);
	candidates_free(&c);
	return rc;
}

/* ---- distribution points ---- */

static bool
fetchable_url(const char *url)
{
	static const char *const schemes[] = {"http://", "https://", "ldap://", "ldaps://"};

	for (size_t i = 0; i < CV_ARRAY_LEN(schemes); i++)
		if (strncasecmp(url, schemes[i], strlen(schemes[i])) == 0)
			return true;
	return false;
}

static void
add_source(struct rev_state *rs, const char *source)
{
	for (size_t i = 0; i < rs->n_sources; i++)
		if (strcmp(rs->sources[i], source) == 0)
			return;
	if (rs->n_sources < REV_SOURCES_MAX)
		cv_strlcpy(rs->sources[rs->n_sources++], source, sizeof(rs->sources[0]));
}

/* Calls fn for each fullName GeneralName of a certificate's distribution points, in order. */
static void
foreach_full_name(const struct cv_cert_dps *dps,
                  void (*fn)(struct verify_job *job, const struct cv_asn1_elem *name),
                  struct verify_job *job)
{
	for (size_t i = 0; i < dps->n; i++) {
		struct cv_asn1 names;
		struct cv_asn1_elem name;

		if (dps->v[i].dp.kind != CV_DP_FULL_NAME)
			continue;
		cv_asn1_init(&names, dps->v[i].dp.names, dps->v[i].dp.len);
		while (!cv_asn1_empty(&names) && cv_asn1_next(&names, &name) == 0)
			fn(job, &name);
	}
}

/* One CDP name: a URL (O-13), or a directory name (R18) that the LDAP fetcher resolves. */
static void
cdp_source(struct verify_job *job, const struct cv_asn1_elem *name)
{
	struct rev_state *rs = &job->rev;
	char buf[CV_URL_MAX];

	if (rs->n_sources >= REV_SOURCES_MAX)
		return;
	if (name->tag == CV_ASN1_CTX(6) && name->len < sizeof(buf)) {
		memcpy(buf, name->val, name->len);
		buf[name->len] = '\0';
		if (fetchable_url(buf))
			add_source(rs, buf);
		else
			cv_verdict_trace(&job->verdict, "revocation",
			                 "CDP %s: scheme not supported, skipped", buf);
	} else if (name->tag == CV_ASN1_CTX_CONS(4)) {
		const gnutls_datum_t dn = {(unsigned char *)(uintptr_t)name->val,
		                           (unsigned)name->len};
		gnutls_datum_t text = {NULL, 0};

		if (gnutls_x509_rdn_get2(&dn, &text, 0) == 0 && text.size < CV_URL_MAX)
			add_source(rs, (const char *)text.data);
		gnutls_free(text.data);
	}
}

/* The certificate's CDPs in certificate order (O-13): URLs, and directory names (R18). */
static void
cdp_sources(struct verify_job *job, const struct cv_cert *cert)
{
	foreach_full_name(cv_cert_crl_dps(cert), cdp_source, job);
}

/* A freshestCRL name of the certificate: fetched when it is a URL. */
static void
delta_source(struct verify_job *job, const struct cv_asn1_elem *name)
{
	char uri[CV_URL_MAX];

	if (name->tag != CV_ASN1_CTX(6) || name->len == 0 || name->len >= sizeof(uri))
		return;
	memcpy(uri, name->val, name->len);
	uri[name->len] = '\0';
	if (fetchable_url(uri))
		add_source(&job->rev, uri);
}

/* The URIs of a cRLDistributionPoints or freshestCRL extension value (fullName only). */
static void
add_dp_uris(struct rev_state *rs, const uint8_t *ext, size_t len)
{
	struct cv_dist_point dps[CV_DIST_POINTS_MAX];
	const int n = ext != NULL ? cv_dist_points_read(ext, len, dps, CV_DIST_POINTS_MAX) : -1;

	for (int i = 0; i < n; i++) {
		struct cv_asn1 names;
		struct cv_asn1_elem name;

		if (dps[i].dp.kind != CV_DP_FULL_NAME)
			continue;
		cv_asn1_init(&names, dps[i].dp.names, dps[i].dp.len);
		while (!cv_asn1_empty(&names) && cv_asn1_next(&names, &name) == 0) {
			char uri[CV_URL_MAX];

			if (name.tag != CV_ASN1_CTX(6) || name.len == 0 || name.len >= sizeof(uri))
				continue;
			memcpy(uri, name.val, name.len);
			uri[name.len] = '\0';
			if (fetchable_url(uri))
				add_source(rs, uri);
		}
	}
}

/*
 * RFC 5280 5.2.6: where the certificate or a complete CRL at hand names a freshestCRL, the
 * delta CRL is fetched too (6.3 does not trust a complete CRL alone when deltas exist).
 */
static void
delta_sources(struct verify_job *job, const struct cv_cert *cert, const struct candidates *c)
{
	foreach_full_name(cv_cert_freshest_crl(cert), delta_source, job);
	for (size_t i = 0; i < c->n; i++) {
		const struct cv_crl_info *info = cv_crl_get_info(c->crl[i]);

		add_dp_uris(&job->rev, info->freshest_crl, info->freshest_crl_len);
	}
}

/* ---- evidence ---- */

static void
evidence_from_check(struct verify_job *job, const struct cv_crl_check_result *r,
                    const struct candidates *c)
{
	struct cv_evidence *ev =
	    cv_verdict_add_evidence(&job->verdict, (int)job->rev.cert, method_name);

	if (ev == NULL)
		return;
	cv_strlcpy(ev->outcome,
	           r->status == CV_CRL_STATUS_GOOD      ? "good"
	           : r->status == CV_CRL_STATUS_REVOKED ? "revoked"
	                                                : "error",
	           sizeof(ev->outcome));
	for (size_t i = 0; i < c->n; i++) {
		const struct cv_crl_info *info;

		if (c->crl[i] != r->crl)
			continue;
		info = cv_crl_get_info(c->crl[i]);
		cv_strlcpy(ev->url, c->source[i], sizeof(ev->url));
		cv_strlcpy(ev->source, c->origin[i], sizeof(ev->source));
		if (strcmp(c->origin[i], "cache") == 0)
			job->engine->stats.crl_cache_hits++;
		cv_crl_number_hex(c->crl[i], ev->crl_number, sizeof(ev->crl_number));
		ev->this_update = info->this_update;
		ev->next_update = info->next_update;
	}
	if (r->status == CV_CRL_STATUS_REVOKED) {
		ev->revoked_at = r->revocation_date;
		cv_strlcpy(ev->revocation_reason, cv_crl_reason_name(r->reason),
		           sizeof(ev->revocation_reason));
	}
	if (r->status == CV_CRL_STATUS_UNDETERMINED)
		cv_strlcpy(ev->error, r->message, sizeof(ev->error));
}

static void evidence_error(struct verify_job *job, const char *url, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
evidence_error(struct verify_job *job, const char *url, const char *fmt, ...)
{
	struct cv_evidence *ev =
	    cv_verdict_add_evidence(&job->verdict, (int)job->rev.cert, method_name);
	va_list ap;

	if (ev == NULL)
		return;
	cv_strlcpy(ev->outcome, "error", sizeof(ev->outcome));
	cv_strlcpy(ev->url, url, sizeof(ev->url));
	va_start(ap, fmt);
	vsnprintf(ev->error, sizeof(ev->error), fmt, ap);
	va_end(ap);
}

/* ---- the method ---- */

static void crl_try(struct verify_job *job);

/* Whether source's CRL was cached since this job began fetching (by a request that shared
 * the download). */
static bool
already_kept(struct verify_job *job, const char *source)
{
	struct cv_crl_store_entry e;
	struct cv_crl *crl =
	    cv_crl_store_get(job->engine->crls, source, cv_engine_now(job->engine), &e);
	const bool kept = crl != NULL && e.fetched_at >= job->rev.fetch_started;

	cv_crl_free(crl);
	return kept;
}

/* Caches a CRL just fetched as the trust context's `crl-cache` says (R23-R25). */
void
rev_crl_keep(struct verify_job *job, const char *source, struct cv_crl *crl)
{
	const struct cv_rev_settings *rev = job->rev.settings;
	struct rev_state *rs = &job->rev;
	const cv_time now = cv_engine_now(job->engine);
	bool by_delete_after;
	cv_time expires;

	if (rev->crl_cache == CV_CRL_CACHE_NONE) {
		if (rs->n_local < REV_LOCAL_CRLS_MAX) {
			rs->local[rs->n_local] = cv_crl_ref(crl);
			cv_strlcpy(rs->local_source[rs->n_local++], source,
			           sizeof(rs->local_source[0]));
		}
		return;
	}
	expires = cv_crl_store_expiry(
	    crl, now, rev->crl_cache == CV_CRL_CACHE_DELETE_AFTER ? rev->crl_delete_after_min : 0,
	    &by_delete_after);
	if (cv_crl_store_put(job->engine->crls, source, job->rev.settings_name, crl, now, expires,
	                     by_delete_after) < 0)
		cv_log_warning("CRL cache: out of memory storing %s", source);
}

/* The CRL of the download this job waited for is ingested (crl_ingest.c), or is not usable. */
static void
crl_ingested(const struct crl_ingest_result *in, void *arg)
{
	struct verify_job *job = arg;
	struct rev_state *rs = &job->rev;
	const char *source = rs->sources[rs->next_source - 1];

	job->ingest = NULL;
	if (in->crl == NULL) {
		cv_verdict_trace(&job->verdict, "revocation", "CDP %s: not a usable CRL: %s",
		                 source, in->error);
		evidence_error(job, source, "not a usable CRL: %s", in->error);
		crl_try(job);
		return;
	}
	if (in->first) /* one ingest, whatever the number of requests that waited for it */
		job->engine->stats.crl_downloads++;
	cv_verdict_trace(&job->verdict, "revocation", "CRL retrieved from %s (%zu entries)", source,
	                 cv_crl_entries(in->crl));
	if (!already_kept(job, source)) {
		rev_crl_keep(job, source, in->crl);
		cv_crl_store_set_validators(job->engine->crls, source, in->res->etag,
		                            in->res->last_modified);
		refresh_note_download(job->engine, source, in->res);
	}
	crl_try(job);
}

static void
crl_fetched(const struct cv_fetch_result *r, void *arg)
{
	struct verify_job *job = arg;
	struct rev_state *rs = &job->rev;
	const char *source = rs->sources[rs->next_source - 1];

	job->fetch = NULL;
	if (!r->ok) {
		cv_verdict_trace(&job->verdict, "revocation", "CDP %s: %s", source, r->error);
		evidence_error(job, source, "fetch failed: %s", r->error);
		crl_try(job);
		return;
	}
	/* Requests waiting on the same download ingest it once (single-flight): one ingest off
	 * the loop that they all join (crl_ingest.c); one that was cached since is used. */
	if (already_kept(job, source)) {
		crl_try(job);
		return;
	}
	job->ingest = crl_ingest_join(job->engine, source, r, crl_ingested, job);
	if (job->ingest == NULL) {
		evidence_error(job, source, "%s", "out of memory ingesting the CRL");
		crl_try(job);
	}
}

/*
 * R17, O-23: the CDPs from index from on are walked in the background when this request's
 * deadline cuts the walk short (crl_walk.c), so that the next request finds the CRL.
 */
static void
hand_off(struct verify_job *job, size_t from)
{
	struct rev_state *rs = &job->rev;

	if (from < rs->n_sources && crl_walk_start(job->engine, rs->settings_name,
	                                           &rs->sources[from], rs->n_sources - from))
		cv_verdict_trace(&job->verdict, "revocation",
		                 "the CDPs from %s on are walked in the background too, past this "
		                 "request's deadline if need be (R17)",
		                 rs->sources[from]);
}

/* Starts the next distribution point not already at hand; false when none is left. */
static bool
fetch_next_source(struct verify_job *job)
{
	const struct cv_config *cfg = job->cfg;
	struct rev_state *rs = &job->rev;
	const cv_time now = cv_engine_now(job->engine);

	while (rs->next_source < rs->n_sources) {
		const char *source = rs->sources[rs->next_source++];
		struct cv_fetch_opts opts;
		struct cv_error err = {{0}};
		struct cv_crl *cached = cv_crl_store_get(job->engine->crls, source, now, NULL);
		const unsigned remaining = job_remaining_ms(job);

		if (cached != NULL) { /* already among the candidates */
			cv_crl_free(cached);
			continue;
		}
		if (remaining == 0) {
			evidence_error(job, source, "%s",
			               "request deadline reached before fetching");
			hand_off(job, rs->next_source - 1);
			return false;
		}
		/* the walk first: this request's shorter fetch then joins its transfer */
		if (remaining < cfg->fetch_timeout_ms)
			hand_off(job, rs->next_source - 1);
		cv_fetch_opts_init(&opts);
		opts.max_bytes = cfg->crl_max_bytes;
		opts.timeout_ms =
		    cfg->fetch_timeout_ms < remaining ? cfg->fetch_timeout_ms : remaining;
		opts.proxy = cfg->fetch_proxy;
		opts.source_interface =
		    job->rev.settings_tp != NULL ? job->rev.settings_tp->source_interface : NULL;
		opts.bind_device = job->rev.settings_tp != NULL ? job->rev.settings_tp->vrf : NULL;
		opts.ldap_default_host = job->rev.settings->crl_query_url;
		if (rs->fetch_started == 0)
			rs->fetch_started = now;
		/* a download of source is being ingested: its CRL is the one to wait for */
		job->ingest = crl_ingest_await(job->engine, source, crl_ingested, job);
		if (job->ingest != NULL) {
			cv_verdict_trace(&job->verdict, "revocation",
			                 "waiting for the CRL downloaded from %s", source);
			return true;
		}
		job->fetch =
		    cv_fetch_start(job->engine->fetcher, source, &opts, crl_fetched, job, &err);
		if (job->fetch != NULL) {
			cv_verdict_trace(&job->verdict, "revocation", "fetching CRL from %s",
			                 source);
			return true;
		}
		cv_verdict_trace(&job->verdict, "revocation", "CDP %s: %s", source, err.msg);
		evidence_error(job, source, "%s", err.msg);
	}
	return false;
}

static void
crl_try(struct verify_job *job)
{
	const struct cv_cert *cert = job->path.certs[job->rev.cert];
	const struct cv_cert *issuer = job->path.certs[job->rev.cert + 1];
	struct cv_crl_check_result r;
	struct candidates c;

	for (;;) {
		const size_t known = job->rev.n_sources;

		candidates_gather(job, &c);
		memset(&r, 0, sizeof(r));
		r.status = CV_CRL_STATUS_UNDETERMINED;
		if (c.n > 0)
			run_check(job, cert, issuer, &c, &r);
		if (r.status != CV_CRL_STATUS_UNDETERMINED) {
			evidence_from_check(job, &r, &c);
			cv_verdict_trace(&job->verdict, "revocation", "crl: %s (%s)",
			                 cv_crl_status_name(r.status), r.message);
			candidates_free(&c);
			rev_method_done(job,
			                r.status == CV_CRL_STATUS_GOOD ? REV_GOOD : REV_REVOKED);
			return;
		}
		/* Delta CRLs named by what is at hand are sources too; a cached one joins the
		 * candidates on the next round. */
		delta_sources(job, cert, &c);
		if (job->rev.n_sources == known)
			break;
		candidates_free(&c);
	}
	if (job->engine->fetcher != NULL && fetch_next_source(job)) {
		candidates_free(&c);
		return;
	}
	if (c.n > 0)
		evidence_from_check(job, &r, &c);
	else if (job->rev.n_sources == 0)
		evidence_error(job, "", "%s",
		               "no CRL distribution point and no CRL at hand (O-14)");
	else if (job->engine->fetcher == NULL)
		evidence_error(job, job->rev.sources[0], "%s",
		               "no CRL at hand and fetching is off");
	cv_verdict_trace(&job->verdict, "revocation", "crl: no answer%s%s", c.n > 0 ? ": " : "",
	                 c.n > 0 ? r.message : "");
	for (size_t i = 0; i < r.n_notes; i++)
		cv_verdict_trace(&job->verdict, "revocation", "  %s", r.notes[i]);
	candidates_free(&c);
	rev_method_done(job, REV_ERROR);
}

static void
crl_start(struct verify_job *job)
{
	const struct cv_cert *cert = job->path.certs[job->rev.cert];
	struct rev_state *rs = &job->rev;

	rs->n_sources = 0;
	rs->next_source = 0;
	if (job->rev.cert == 0 && job->maps.override_cdp != NULL) {
		add_source(rs, job->maps.override_cdp->cdp);
		cv_verdict_trace(&job->verdict, "revocation",
		                 "override cdp %s (certificate map %s)",
		                 job->maps.override_cdp->cdp, job->maps.override_cdp->label);
	} else {
		cdp_sources(job, cert);
		for (size_t i = 0; i < rs->n_sources; i++)
			crl_seen_note(job->engine, rs->settings_name, rs->sources[i]);
	}
	crl_try(job);
}

/* The CRLs fetched for the current certificate and not cached (crl-cache none). */
static void
crl_cancel(struct verify_job *job)
{
	struct rev_state *rs = &job->rev;

	for (size_t i = 0; i < rs->n_local; i++)
		cv_crl_free(rs->local[i]);
	rs->n_local = 0;
	rs->n_sources = 0;
	rs->next_source = 0;
}

const struct cv_rev_method cv_rev_method_crl = {
    .name = method_name,
    .revoked = "the certificate is listed on its issuer's CRL",
    .start = crl_start,
    .cancel = crl_cancel,
};
