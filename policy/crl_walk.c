/*
 * crl_walk.c: the CDP walk that goes on in the background (SPEC R17, O-23, R54).
 *
 * A request whose deadline passes while its certificate's distribution points are still being
 * tried answers without the CRL, but the walk does not stop: it goes on here, each CDP with the
 * full `fetch timeout`, until one gives a usable CRL, which is cached under the trust
 * context's `crl-cache` settings so that the next request finds it. The revocation method
 * starts the walk before its own, shorter fetch of the same CDP, which then joins the walk's
 * transfer (the fetcher's single-flight) and leaves it at the request's deadline.
 *
 * Bounded: at most WALKS_MAX walks at once, REV_SOURCES_MAX CDPs each; single-flight: a CDP
 * that a running walk has still to try starts no second walk.
 *
 * `crl-request TP` with no CRL of TP cached (R54) walks the CDPs of TP's CA certificates and
 * those of the certificates recently checked under TP (remembered here, SEEN_MAX of them).
 */
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/util.h"
#include "../validator/der.h"
#include "engine_int.h"

#define WALKS_MAX 8

struct cdp_walk {
	struct cv_engine *engine;
	char trustpoint[CV_LABEL_MAX];
	char sources[REV_SOURCES_MAX][CV_URL_MAX];
	size_t n, next;
	cv_time started;
	struct cv_fetch *fetch;
	struct crl_ingest_wait *ingest; /* its download being ingested (crl_ingest.c) */
	LIST_ENTRY(cdp_walk) link;
};

static void walk_next(struct cdp_walk *w);
static void walk_ingested(const struct crl_ingest_result *in, void *arg);

static void
walk_free(struct cdp_walk *w)
{
	LIST_REMOVE(w, link);
	free(w);
}

void
crl_walk_free_all(struct cv_engine *engine)
{
	struct cdp_walk *w;

	while ((w = LIST_FIRST(&engine->walks)) != NULL) {
		if (w->fetch != NULL)
			cv_fetch_cancel(w->fetch);
		crl_ingest_cancel(w->ingest);
		walk_free(w);
	}
}

/* Whether a running walk has source still to try (or is fetching it). */
bool
crl_walk_covers(const struct cv_engine *engine, const char *source)
{
	const struct cdp_walk *w;

	LIST_FOREACH(w, &engine->walks, link)
	for (size_t i = w->next > 0 ? w->next - 1 : 0; i < w->n; i++)
		if (strcmp(w->sources[i], source) == 0)
			return true;
	return false;
}

static size_t
walk_count(const struct cv_engine *engine)
{
	const struct cdp_walk *w;
	size_t n = 0;

	LIST_FOREACH(w, &engine->walks, link)
	n++;
	return n;
}

/* Caches a fetched CRL as the trust context's settings say; true when it was kept. */
static bool
walk_store(struct cdp_walk *w, const char *source, struct cv_crl *crl,
           const struct cv_fetch_result *res)
{
	struct cv_engine *engine = w->engine;
	const cv_time now = cv_engine_now(engine);
	const struct cv_trustpoint *tp;
	const struct cv_rev_settings *rev = refresh_settings_of(engine->cfg, w->trustpoint, &tp);
	bool by_delete_after, kept = false;
	cv_time expires;

	if (rev == NULL || rev->crl_cache == CV_CRL_CACHE_NONE)
		return false;
	expires = cv_crl_store_expiry(
	    crl, now, rev->crl_cache == CV_CRL_CACHE_DELETE_AFTER ? rev->crl_delete_after_min : 0,
	    &by_delete_after);
	if (expires != CV_TIME_NONE && expires <= now) {
		cv_log_warning("CDP walk %s: the CRL served is already past its nextUpdate",
		               source);
	} else if (cv_crl_store_put(engine->crls, source, w->trustpoint, crl, now, expires,
	                            by_delete_after) == 0) {
		cv_crl_store_set_validators(engine->crls, source, res->etag, res->last_modified);
		refresh_note_download(engine, source, res); /* the server's freshness (issue 16) */
		engine->stats.crl_downloads++;
		cv_log_info("CDP walk: CRL %s cached for trustpoint %s", source, w->trustpoint);
		kept = true;
	}
	return kept;
}

/* Whether source was cached since the walk began (by a request that shared the transfer). */
static bool
fetched_since(const struct cdp_walk *w, const char *source)
{
	struct cv_crl_store_entry e;
	struct cv_crl *crl =
	    cv_crl_store_get(w->engine->crls, source, cv_engine_now(w->engine), &e);
	const bool fresh = crl != NULL && e.fetched_at >= w->started;

	cv_crl_free(crl);
	return fresh;
}

/* The walk's download is ingested (crl_ingest.c): cached, or the next CDP is tried. */
static void
walk_ingested(const struct crl_ingest_result *in, void *arg)
{
	struct cdp_walk *w = arg;
	const char *source = w->sources[w->next - 1];

	w->ingest = NULL;
	if (fetched_since(w, source)) { /* a request sharing the download kept it */
		walk_free(w);
		return;
	}
	if (in->crl == NULL)
		cv_log_warning("CDP walk %s: not a usable CRL: %s", source, in->error);
	else if (walk_store(w, source, in->crl, in->res)) {
		walk_free(w);
		return;
	}
	walk_next(w);
}

static void
walk_fetched(const struct cv_fetch_result *res, void *arg)
{
	struct cdp_walk *w = arg;
	const char *source = w->sources[w->next - 1];

	w->fetch = NULL;
	if (res->ok && fetched_since(w, source)) { /* the request sharing it kept it */
		walk_free(w);
		return;
	}
	if (res->ok) {
		w->ingest = crl_ingest_join(w->engine, source, res, walk_ingested, w);
		if (w->ingest != NULL)
			return;
		cv_log_warning("CDP walk %s: out of memory ingesting the CRL", source);
	} else {
		cv_log_warning("CDP walk %s: %s", source, res->error);
	}
	walk_next(w);
}

/* Fetches the next CDP that is not at hand; the walk ends at a cached one or at the end. */
static void
walk_next(struct cdp_walk *w)
{
	struct cv_engine *engine = w->engine;
	const struct cv_config *cfg = engine->cfg;
	const struct cv_trustpoint *tp;
	const struct cv_rev_settings *rev = refresh_settings_of(cfg, w->trustpoint, &tp);

	while (rev != NULL && engine->fetcher != NULL && w->next < w->n) {
		const char *source = w->sources[w->next++];
		struct cv_crl *cached =
		    cv_crl_store_get(engine->crls, source, cv_engine_now(engine), NULL);
		struct cv_error err = {{0}};
		struct cv_fetch_opts opts;

		if (cached != NULL) { /* at hand: what the walk is for */
			cv_crl_free(cached);
			break;
		}
		w->ingest = crl_ingest_await(engine, source, walk_ingested, w);
		if (w->ingest != NULL) /* downloaded, being ingested */
			return;
		cv_fetch_opts_init(&opts);
		opts.max_bytes = cfg->crl_max_bytes;
		opts.timeout_ms = cfg->fetch_timeout_ms;
		opts.proxy = cfg->fetch_proxy;
		opts.source_interface = tp != NULL ? tp->source_interface : NULL;
		opts.bind_device = tp != NULL ? tp->vrf : NULL;
		opts.ldap_default_host = rev->crl_query_url;
		w->fetch = cv_fetch_start(engine->fetcher, source, &opts, walk_fetched, w, &err);
		if (w->fetch != NULL)
			return;
		cv_log_warning("CDP walk %s: %s", source, err.msg);
	}
	walk_free(w);
}

struct url_state {
	const char *url;
	bool failed;
};

static void
url_state_of(const struct cv_fetch_url_info *info, void *arg)
{
	struct url_state *s = arg;

	if (strcmp(info->url, s->url) == 0 && strcmp(info->state, "failed") == 0)
		s->failed = true;
}

/* Whether the fetcher would refuse url now (`fetch retry-after`, D-3). */
static bool
in_retry_wait(const struct cv_engine *engine, const char *url)
{
	struct url_state s = {url, false};

	cv_fetcher_foreach_url(engine->fetcher, url_state_of, &s);
	return s.failed;
}

int
crl_walk_start(struct cv_engine *engine, const char *trustpoint, const char (*sources)[CV_URL_MAX],
               size_t n)
{
	const struct cv_trustpoint *tp;
	const struct cv_rev_settings *rev = refresh_settings_of(engine->cfg, trustpoint, &tp);
	struct cdp_walk *w;

	if (engine->fetcher == NULL)
		return 0;
	while (n > 0 && in_retry_wait(engine, sources[0])) { /* the walk would stop there */
		sources++;
		n--;
	}
	if (n == 0 || rev == NULL || rev->crl_cache == CV_CRL_CACHE_NONE ||
	    crl_walk_covers(engine, sources[0]) || walk_count(engine) >= WALKS_MAX)
		return 0;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return 0;
	w->engine = engine;
	w->started = cv_engine_now(engine);
	cv_strlcpy(w->trustpoint, trustpoint, sizeof(w->trustpoint));
	for (size_t i = 0; i < n && w->n < REV_SOURCES_MAX; i++)
		cv_strlcpy(w->sources[w->n++], sources[i], sizeof(w->sources[0]));
	LIST_INSERT_HEAD(&engine->walks, w, link);
	walk_next(w);
	return 1;
}

/* ---- R54: what `crl-request TP` walks when nothing of TP is cached ---- */

void
crl_seen_note(struct cv_engine *engine, const char *trustpoint, const char *source)
{
	struct crl_seen *s;

	for (size_t i = 0; i < SEEN_MAX; i++)
		if (strcmp(engine->seen[i].trustpoint, trustpoint) == 0 &&
		    strcmp(engine->seen[i].source, source) == 0)
			return;
	s = &engine->seen[engine->seen_next];
	engine->seen_next = (engine->seen_next + 1) % SEEN_MAX;
	cv_strlcpy(s->trustpoint, trustpoint, sizeof(s->trustpoint));
	cv_strlcpy(s->source, source, sizeof(s->source));
}

static void
add_unique(char (*v)[CV_URL_MAX], size_t *n, const char *url)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(v[i], url) == 0)
			return;
	if (*n < REV_SOURCES_MAX)
		cv_strlcpy(v[(*n)++], url, CV_URL_MAX);
}

/* The http(s) and ldap(s) URIs of a certificate's distribution points (fullName). */
void
cert_cdp_urls(const struct cv_cert *cert, char (*v)[CV_URL_MAX], size_t *n)
{
	const struct cv_cert_dps *dps = cv_cert_crl_dps(cert);

	for (size_t i = 0; i < dps->n; i++) {
		struct cv_asn1 names;
		struct cv_asn1_elem name;

		if (dps->v[i].dp.kind != CV_DP_FULL_NAME)
			continue;
		cv_asn1_init(&names, dps->v[i].dp.names, dps->v[i].dp.len);
		while (!cv_asn1_empty(&names) && cv_asn1_next(&names, &name) == 0) {
			char url[CV_URL_MAX];

			if (name.tag != CV_ASN1_CTX(6) || name.len == 0 || name.len >= sizeof(url))
				continue;
			memcpy(url, name.val, name.len);
			url[name.len] = '\0';
			if (strncasecmp(url, "http", 4) == 0 || strncasecmp(url, "ldap", 4) == 0)
				add_unique(v, n, url);
		}
	}
}

int
crl_walk_request(struct cv_engine *engine, const char *trustpoint)
{
	const struct cv_trustpoint *tp = cv_config_trustpoint(engine->cfg, trustpoint);
	char sources[REV_SOURCES_MAX][CV_URL_MAX];
	size_t n = 0;
	int started = 0;

	if (tp == NULL)
		return 0;
	for (size_t i = 0; i < tp->ca_certs.n; i++)
		cert_cdp_urls(tp->ca_certs.v[i], sources, &n);
	for (size_t i = 0; i < SEEN_MAX; i++)
		if (strcmp(engine->seen[i].trustpoint, trustpoint) == 0 &&
		    engine->seen[i].source[0] != '\0')
			add_unique(sources, &n, engine->seen[i].source);
	/* one walk per URL: each may be another CA's CRL, and each should end up cached */
	for (size_t i = 0; i < n; i++)
		started += crl_walk_start(engine, trustpoint, &sources[i], 1);
	return started;
}
