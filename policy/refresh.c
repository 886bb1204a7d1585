/*
 * refresh.c: keeping cached CRLs fresh (issue "CRL revocation"; R21, R54). A CRL
 * downloaded from a URL is downloaded again shortly before its cache expiry, with a
 * conditional GET (If-None-Match / If-Modified-Since), so that no verdict waits for a
 * download in steady state; `crl-request TP` does the same at once for one trustpoint.
 * A refresh that fails leaves the cached CRL alone until it expires.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "../common/log.h"
#include "../common/util.h"
#include "engine_int.h"

#define REFRESH_TICK_S     30   /* how often the cache is looked at */
#define REFRESH_MARGIN_MIN 60   /* refresh at least this long before expiry, */
#define REFRESH_MARGIN_MAX 3600 /* at most this long, else a tenth of the CRL's cache life */

const struct cv_rev_settings *
refresh_settings_of(const struct cv_config *cfg, const char *trustpoint,
                    const struct cv_trustpoint **tp)
{
	*tp = cv_config_trustpoint(cfg, trustpoint);
	if (*tp != NULL)
		return &(*tp)->rev;
	return strcmp(trustpoint, "trustpool") == 0 && cfg->trustpool.present ? &cfg->trustpool.rev
	                                                                      : NULL;
}

static void
refresh_free(struct crl_refresh *r)
{
	struct crl_refresh **pp = &r->engine->refreshes;

	while (*pp != NULL && *pp != r)
		pp = &(*pp)->next;
	if (*pp == r)
		*pp = r->next;
	free(r);
}

void
refresh_free_all(struct cv_engine *engine)
{
	while (engine->refreshes != NULL) {
		struct crl_refresh *r = engine->refreshes;

		if (r->fetch != NULL)
			cv_fetch_cancel(r->fetch);
		engine->refreshes = r->next;
		free(r);
	}
	if (engine->refresh_timer != NULL)
		event_free(engine->refresh_timer);
	engine->refresh_timer = NULL;
}

static bool
refresh_running(const struct cv_engine *engine, const char *source)
{
	for (const struct crl_refresh *r = engine->refreshes; r != NULL; r = r->next)
		if (strcmp(r->source, source) == 0)
			return true;
	return false;
}

/* Keeps what the download brought, under the trustpoint's current cache settings. */
static void
refresh_store(struct crl_refresh *r, const struct cv_fetch_result *res)
{
	struct cv_engine *engine = r->engine;
	const cv_time now = cv_engine_now(engine);
	const struct cv_trustpoint *tp;
	const struct cv_rev_settings *rev = refresh_settings_of(engine->cfg, r->trustpoint, &tp);
	struct cv_error err = {{0}};
	struct cv_crl *crl = NULL;
	bool by_delete_after;
	cv_time expires;

	if (rev == NULL || rev->crl_cache == CV_CRL_CACHE_NONE)
		return;
	if (res->not_modified) {
		crl = cv_crl_store_get(engine->crls, r->source, now, NULL);
		if (crl == NULL)
			return; /* expired meanwhile: the next validation downloads */
	} else if (cv_crl_ingest_any(res->data, res->len, &crl, &err) < 0) {
		cv_log_warning("CRL refresh %s: not a usable CRL: %s", r->source, err.msg);
		return;
	}
	expires = cv_crl_store_expiry(
	    crl, now, rev->crl_cache == CV_CRL_CACHE_DELETE_AFTER ? rev->crl_delete_after_min : 0,
	    &by_delete_after);
	if (expires != CV_TIME_NONE && expires <= now) {
		cv_log_warning("CRL refresh %s: the CRL served is already past its nextUpdate",
		               r->source);
	} else if (cv_crl_store_put(engine->crls, r->source, r->trustpoint, crl, now, expires,
	                            by_delete_after) == 0) {
		cv_crl_store_set_validators(engine->crls, r->source, res->etag, res->last_modified);
		cv_log_info("CRL %s refreshed (%s)", r->source,
		            res->not_modified ? "not modified" : "new download");
	}
	cv_crl_free(crl);
}

static void
refresh_done(const struct cv_fetch_result *res, void *arg)
{
	struct crl_refresh *r = arg;

	r->fetch = NULL;
	if (res->ok)
		refresh_store(r, res);
	else
		cv_log_warning("CRL refresh %s failed: %s", r->source, res->error);
	refresh_free(r);
}

/* Starts a download of a cached CRL; conditional unless forced. Returns true when started. */
static bool
refresh_start(struct cv_engine *engine, const struct cv_crl_store_entry *e, bool forced)
{
	const struct cv_config *cfg = engine->cfg;
	const struct cv_trustpoint *tp;
	const struct cv_rev_settings *rev = refresh_settings_of(cfg, e->trustpoint, &tp);
	struct cv_error err = {{0}};
	struct cv_fetch_opts opts;
	struct crl_refresh *r;

	if (engine->fetcher == NULL || rev == NULL || refresh_running(engine, e->source) ||
	    strncmp(e->source, "file:", 5) == 0)
		return false;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return false;
	r->engine = engine;
	cv_strlcpy(r->source, e->source, sizeof(r->source));
	cv_strlcpy(r->trustpoint, e->trustpoint, sizeof(r->trustpoint));
	cv_fetch_opts_init(&opts);
	opts.max_bytes = cfg->crl_max_bytes;
	opts.timeout_ms = cfg->fetch_timeout_ms;
	opts.proxy = cfg->fetch_proxy;
	opts.source_interface = tp != NULL ? tp->source_interface : NULL;
	opts.bind_device = tp != NULL ? tp->vrf : NULL;
	opts.ldap_default_host = rev->crl_query_url;
	if (!forced) {
		opts.etag = e->etag != NULL && e->etag[0] != '\0' ? e->etag : NULL;
		opts.if_modified_since = e->last_modified;
	}
	r->fetch = cv_fetch_start(engine->fetcher, r->source, &opts, refresh_done, r, &err);
	if (r->fetch == NULL) {
		cv_log_warning("CRL refresh %s: %s", r->source, err.msg);
		free(r);
		return false;
	}
	r->next = engine->refreshes;
	engine->refreshes = r;
	return true;
}

/* Collected first, started after: starting may change the store being walked. */
struct due {
	struct cv_crl_store_entry v[64];
	char source[64][CV_URL_MAX];
	char trustpoint[64][CV_LABEL_MAX];
	char etag[64][128];
	size_t n;
	cv_time now;
	const char *only_tp; /* crl-request: every entry of this trustpoint */
};

static bool
due_now(const struct cv_crl_store_entry *e, cv_time now)
{
	cv_time margin;

	if (e->expires == CV_TIME_NONE)
		return false;
	margin = (e->expires - e->fetched_at) / 10;
	if (margin < REFRESH_MARGIN_MIN)
		margin = REFRESH_MARGIN_MIN;
	if (margin > REFRESH_MARGIN_MAX)
		margin = REFRESH_MARGIN_MAX;
	return now >= e->expires - margin;
}

static void
collect_due(const struct cv_crl_store_entry *e, void *arg)
{
	struct due *d = arg;
	const bool wanted =
	    d->only_tp != NULL ? strcmp(e->trustpoint, d->only_tp) == 0 : due_now(e, d->now);

	if (!wanted || d->n >= CV_ARRAY_LEN(d->v))
		return;
	cv_strlcpy(d->source[d->n], e->source, sizeof(d->source[0]));
	cv_strlcpy(d->trustpoint[d->n], e->trustpoint, sizeof(d->trustpoint[0]));
	cv_strlcpy(d->etag[d->n], e->etag != NULL ? e->etag : "", sizeof(d->etag[0]));
	d->v[d->n] = *e;
	d->v[d->n].source = d->source[d->n];
	d->v[d->n].trustpoint = d->trustpoint[d->n];
	d->v[d->n].etag = d->etag[d->n];
	d->n++;
}

static int
refresh_sweep(struct cv_engine *engine, const char *only_tp)
{
	struct due *d = calloc(1, sizeof(*d));
	int started = 0;

	if (d == NULL)
		return 0;
	d->now = cv_engine_now(engine);
	d->only_tp = only_tp;
	cv_crl_store_foreach(engine->crls, collect_due, d);
	for (size_t i = 0; i < d->n; i++)
		started += refresh_start(engine, &d->v[i], only_tp != NULL);
	free(d);
	return started;
}

void
cv_engine_refresh_now(struct cv_engine *engine)
{
	cv_crl_store_expire(engine->crls, cv_engine_now(engine));
	refresh_sweep(engine, NULL);
}

static void
refresh_tick(evutil_socket_t fd, short what, void *arg)
{
	cv_engine_refresh_now(arg);
}

int
cv_engine_start_refresh(struct cv_engine *engine)
{
	const struct timeval tick = {REFRESH_TICK_S, 0};

	if (engine->refresh_timer != NULL)
		return 0;
	engine->refresh_timer = event_new(engine->base, -1, EV_PERSIST, refresh_tick, engine);
	if (engine->refresh_timer == NULL || event_add(engine->refresh_timer, &tick) < 0)
		return -1;
	return 0;
}

int
cv_engine_crl_request(struct cv_engine *engine, const char *tp)
{
	const int started = refresh_sweep(engine, tp);

	/* R54: nothing of tp cached: its CA certificates' CDPs and those seen under it */
	return started > 0 ? started : crl_walk_request(engine, tp);
}
