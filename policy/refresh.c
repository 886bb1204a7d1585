/*
 * refresh.c: keeping cached CRLs fresh (issue "CRL revocation"; R21, R54; issue 16). A CRL
 * downloaded from a URL is downloaded again inside its refresh window, with a conditional GET
 * (If-None-Match / If-Modified-Since), so that no verdict waits for a download in steady
 * state; `crl-request TP` does the same at once for one trustpoint.
 *
 * The schedule of one source (for a fleet of daemons behind one HTTP cache):
 * - the window ends at the cached CRL's expiry and starts `crl refresh-window` before it
 *   (a percentage of the CRL's life, default 10, or a duration), or at the CRL's Next CRL
 *   Publish (1.3.6.1.4.1.311.21.4) when the CRL has one inside its life;
 * - this daemon refreshes at a point of the window's first half given by a random seed of
 *   its own and the source, so daemons with the same CRL spread over the window and the
 *   second half is left for retries;
 * - never before the server's Cache-Control max-age / Expires says its answer is stale
 *   (RFC 9111 4.2): a shared cache then answers the whole fleet from one download;
 * - a failed refresh is retried with exponential backoff, from a twentieth of the CRL's life
 *   (at least 1 s, at most 30 s) doubling up to an hour; the
 *   cached CRL stays in use until it expires, and `show crls` reports it as stale.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <gnutls/crypto.h>

#include "../common/log.h"
#include "../common/util.h"
#include "engine_int.h"

#define REFRESH_TICK_S     30   /* the cache is looked at least this often */
#define REFRESH_WINDOW_MIN 60   /* a percentage window is at least this long, */
#define REFRESH_WINDOW_MAX 3600 /* and at most this long (a duration is taken as written) */
#define RETRY_FIRST_S      30   /* first backoff after a failed refresh, at most (then doubled) */
#define RETRY_MAX_S        3600 /* ... at most an hour */
#define SCHED_MAX          4096 /* sources with a schedule; beyond, the defaults apply */

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

/* ---- the schedule of each source ---- */

static struct refresh_sched *
sched_find(const struct cv_engine *engine, const char *source)
{
	for (size_t i = 0; i < engine->n_sched; i++)
		if (strcmp(engine->sched[i].source, source) == 0)
			return &engine->sched[i];
	return NULL;
}

/* The schedule of source, created on first use; NULL when out of memory or SCHED_MAX. */
static struct refresh_sched *
sched_get(struct cv_engine *engine, const char *source)
{
	struct refresh_sched *s = sched_find(engine, source);

	if (s != NULL || engine->n_sched >= SCHED_MAX)
		return s;
	if (engine->n_sched == engine->cap_sched) {
		const size_t cap = engine->cap_sched == 0 ? 8 : engine->cap_sched * 2;
		struct refresh_sched *grown = realloc(engine->sched, cap * sizeof(*grown));

		if (grown == NULL)
			return NULL;
		engine->sched = grown;
		engine->cap_sched = cap;
	}
	s = &engine->sched[engine->n_sched++];
	memset(s, 0, sizeof(*s));
	cv_strlcpy(s->source, source, sizeof(s->source));
	s->fresh_until = CV_TIME_NONE;
	s->last_attempt = CV_TIME_NONE;
	return s;
}

/* Drops schedules that say nothing any more (no freshness ahead, no failure for a day). */
static void
sched_prune(struct cv_engine *engine, cv_time now)
{
	for (size_t i = 0; i < engine->n_sched;) {
		const struct refresh_sched *s = &engine->sched[i];
		const bool idle =
		    s->failures == 0 && (s->fresh_until == CV_TIME_NONE || s->fresh_until <= now);
		const bool old = s->last_attempt == CV_TIME_NONE || s->last_attempt < now - 86400;

		if (idle && old)
			engine->sched[i] = engine->sched[--engine->n_sched];
		else
			i++;
	}
}

static void refresh_arm(struct cv_engine *engine, cv_time delay);

void
refresh_note_download(struct cv_engine *engine, const char *source,
                      const struct cv_fetch_result *res)
{
	const cv_time now = cv_engine_now(engine);
	struct refresh_sched *s = sched_get(engine, source);

	if (s == NULL)
		return;
	s->last_attempt = now;
	s->fresh_until = res->fresh_s > 0 ? now + res->fresh_s : CV_TIME_NONE;
	s->failures = 0;
	s->last_error[0] = '\0';
	refresh_arm(engine, 1); /* the new CRL's window may come before the next tick */
}

void
cv_engine_set_crl_notice(struct cv_engine *engine, cv_engine_crl_notice_fn fn, void *arg)
{
	engine->crl_notice = fn;
	engine->crl_notice_arg = arg;
}

static void
notice(struct cv_engine *engine, const char *event, const char *tp, const char *source,
       const char *why)
{
	if (engine->crl_notice != NULL)
		engine->crl_notice(event, tp, source, why, engine->crl_notice_arg);
}

/* A refresh failed: due_at backs off (next_retry); the cached CRL stays until it expires. */
static void
note_failure(struct cv_engine *engine, const char *tp, const char *source, const char *error)
{
	const cv_time now = cv_engine_now(engine);
	struct refresh_sched *s = sched_get(engine, source);

	cv_log_warning("CRL refresh %s failed: %s", source, error);
	if (s == NULL)
		return;
	s->last_attempt = now;
	if (s->failures < 1000)
		s->failures++;
	cv_strlcpy(s->last_error, error, sizeof(s->last_error));
	if (s->failures == 1)
		notice(engine, "crl-stale", tp, source, error);
}

/* This daemon's place in source's window, in [0, 1): its random seed hashed with the URL. */
double
refresh_jitter(const struct cv_engine *engine, const char *source)
{
	uint64_t h = 1469598103934665603ull ^ engine->refresh_seed; /* FNV-1a, then a mix */

	for (const unsigned char *p = (const unsigned char *)source; *p != '\0'; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (double)(h >> 11) / (double)(1ull << 53);
}

/* Where the refresh window of a cached entry starts (never before it was fetched). */
static cv_time
window_start(const struct cv_rev_settings *rev, const struct cv_crl_store_entry *e)
{
	const struct cv_crl_info *info = cv_crl_get_info(e->crl);
	const cv_time born =
	    e->delete_after || info->this_update >= e->expires ? e->fetched_at : info->this_update;
	const cv_time life = e->expires - born;
	cv_time window, start;

	if (info->next_publish != CV_TIME_NONE && info->next_publish > info->this_update &&
	    info->next_publish < e->expires) {
		start = info->next_publish;
	} else {
		if (rev->crl_refresh_s != 0) {
			window = rev->crl_refresh_s;
		} else {
			window = life * (cv_time)rev->crl_refresh_pct / 100;
			if (window < REFRESH_WINDOW_MIN)
				window = REFRESH_WINDOW_MIN;
			if (window > REFRESH_WINDOW_MAX)
				window = REFRESH_WINDOW_MAX;
		}
		start = e->expires - window;
	}
	return start > e->fetched_at ? start : e->fetched_at;
}

/* The first retry delay of e: a twentieth of its life, 1 to RETRY_FIRST_S seconds; an entry
 * kept without an expiry (a CRL without nextUpdate, D-6) has no life to divide: the most. */
static cv_time
retry_base(const struct cv_crl_store_entry *e)
{
	const struct cv_crl_info *info = cv_crl_get_info(e->crl);
	const cv_time born =
	    e->delete_after || info->this_update >= e->expires ? e->fetched_at : info->this_update;
	cv_time base;

	if (e->expires == CV_TIME_NONE || born == CV_TIME_NONE)
		return RETRY_FIRST_S;
	base = (e->expires - born) / 20;

	return base < 1 ? 1 : base > RETRY_FIRST_S ? RETRY_FIRST_S : base;
}

/* When a failed source may be tried again: base, 2 base, 4 base, ... at most RETRY_MAX_S. */
static cv_time
next_retry(const struct refresh_sched *s, const struct cv_crl_store_entry *e)
{
	cv_time backoff = retry_base(e);

	if (s == NULL || s->failures == 0 || s->last_attempt == CV_TIME_NONE)
		return CV_TIME_NONE;
	for (unsigned i = 1; i < s->failures && backoff < RETRY_MAX_S; i++)
		backoff *= 2;
	return s->last_attempt + (backoff < RETRY_MAX_S ? backoff : RETRY_MAX_S);
}

/* When the next unforced refresh of e may start; CV_TIME_NONE: never. */
static cv_time
due_at(const struct cv_engine *engine, const struct cv_crl_store_entry *e)
{
	const struct cv_trustpoint *tp;
	const struct cv_rev_settings *rev = refresh_settings_of(engine->cfg, e->trustpoint, &tp);
	const struct refresh_sched *s = sched_find(engine, e->source);
	cv_time start, due, retry;

	if (rev == NULL || e->expires == CV_TIME_NONE || strncmp(e->source, "file:", 5) == 0)
		return CV_TIME_NONE;
	start = window_start(rev, e);
	due =
	    start + (cv_time)(refresh_jitter(engine, e->source) * (double)(e->expires - start) / 2);
	if (s == NULL)
		return due;
	if (s->fresh_until != CV_TIME_NONE && s->fresh_until > due)
		due = s->fresh_until; /* RFC 9111 4.2: the server says it is still fresh */
	retry = next_retry(s, e);
	if (retry != CV_TIME_NONE && retry > due)
		due = retry;
	if (s->last_attempt != CV_TIME_NONE && s->last_attempt + retry_base(e) > due)
		due = s->last_attempt + retry_base(e); /* a server answering 304 over and over */
	return due;
}

void
cv_engine_crl_refresh_info(const struct cv_engine *engine, const struct cv_crl_store_entry *entry,
                           struct cv_crl_refresh_info *out)
{
	const struct refresh_sched *s = sched_find(engine, entry->source);

	out->due = due_at(engine, entry);
	out->fresh_until = s != NULL ? s->fresh_until : CV_TIME_NONE;
	out->failures = s != NULL ? s->failures : 0;
	out->next_retry = next_retry(s, entry);
	out->last_error = s != NULL ? s->last_error : "";
}

/* ---- background downloads ---- */

static void
refresh_free(struct crl_refresh *r)
{
	LIST_REMOVE(r, link);
	free(r);
}

void
refresh_free_all(struct cv_engine *engine)
{
	struct crl_refresh *r;

	while ((r = LIST_FIRST(&engine->refreshes)) != NULL) {
		if (r->fetch != NULL)
			cv_fetch_cancel(r->fetch);
		crl_ingest_cancel(r->ingest);
		refresh_free(r);
	}
	if (engine->refresh_timer != NULL)
		event_free(engine->refresh_timer);
	engine->refresh_timer = NULL;
	free(engine->sched);
	engine->sched = NULL;
	prefetch_free_all(engine);
	engine->n_sched = engine->cap_sched = 0;
}

static bool
refresh_running(const struct cv_engine *engine, const char *source)
{
	const struct crl_refresh *r;

	LIST_FOREACH(r, &engine->refreshes, link)
	if (strcmp(r->source, source) == 0)
		return true;
	return crl_ingest_running(engine, source); /* a download of it is being ingested */
}

/* Keeps what the download brought (crl: the new CRL, or NULL for a 304), under the
 * trustpoint's current cache settings. */
static void
refresh_store(struct crl_refresh *r, struct cv_crl *crl, const struct cv_fetch_result *res)
{
	struct cv_engine *engine = r->engine;
	const cv_time now = cv_engine_now(engine);
	const struct cv_trustpoint *tp;
	const struct cv_rev_settings *rev = refresh_settings_of(engine->cfg, r->trustpoint, &tp);
	bool by_delete_after;
	cv_time expires;

	if (rev == NULL || rev->crl_cache == CV_CRL_CACHE_NONE)
		return;
	if (crl == NULL) {
		crl = cv_crl_store_get(engine->crls, r->source, now, NULL);
		if (crl == NULL)
			return; /* expired meanwhile: the next validation downloads */
	} else {
		cv_crl_ref(crl);
	}
	expires = cv_crl_store_expiry(
	    crl, now, rev->crl_cache == CV_CRL_CACHE_DELETE_AFTER ? rev->crl_delete_after_min : 0,
	    &by_delete_after);
	if (expires != CV_TIME_NONE && expires <= now) {
		note_failure(engine, r->trustpoint, r->source,
		             "the CRL served is already past its nextUpdate");
	} else if (cv_crl_store_put(engine->crls, r->source, r->trustpoint, crl, now, expires,
	                            by_delete_after) == 0) {
		cv_crl_store_set_validators(engine->crls, r->source, res->etag, res->last_modified);
		refresh_note_download(engine, r->source, res);
		cv_log_info("CRL %s refreshed (%s)", r->source,
		            res->not_modified ? "not modified" : "new download");
	}
	cv_crl_free(crl);
}

/* Whether the trustpoint still caches CRLs (else a download is not even ingested). */
static bool
refresh_keeps(const struct crl_refresh *r)
{
	const struct cv_trustpoint *tp;
	const struct cv_rev_settings *rev = refresh_settings_of(r->engine->cfg, r->trustpoint, &tp);

	return rev != NULL && rev->crl_cache != CV_CRL_CACHE_NONE;
}

static void
refresh_end(struct crl_refresh *r)
{
	struct cv_engine *engine = r->engine;

	refresh_free(r);
	refresh_arm(engine, 1); /* the new CRL's window may come sooner than the next tick */
}

/* The refresh's download is ingested (crl_ingest.c). */
static void
refresh_ingested(const struct crl_ingest_result *in, void *arg)
{
	struct crl_refresh *r = arg;
	char msg[CV_MESSAGE_MAX];

	r->ingest = NULL;
	if (in->crl != NULL) {
		refresh_store(r, in->crl, in->res);
	} else {
		snprintf(msg, sizeof(msg), "not a usable CRL: %s", in->error);
		note_failure(r->engine, r->trustpoint, r->source, msg);
	}
	refresh_end(r);
}

static void
refresh_done(const struct cv_fetch_result *res, void *arg)
{
	struct crl_refresh *r = arg;
	struct cv_engine *engine = r->engine;

	r->fetch = NULL;
	if (res->ok && !res->not_modified && refresh_keeps(r)) {
		r->ingest = crl_ingest_join(engine, r->source, res, refresh_ingested, r);
		if (r->ingest != NULL)
			return;
		note_failure(engine, r->trustpoint, r->source, "out of memory ingesting the CRL");
	} else if (res->ok) {
		refresh_store(r, NULL, res);
	} else {
		note_failure(engine, r->trustpoint, r->source, res->error);
	}
	refresh_end(r);
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
	LIST_INSERT_HEAD(&engine->refreshes, r, link);
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
	cv_time earliest; /* the soonest due time not reached yet */
	const struct cv_engine *engine;
	const char *only_tp; /* crl-request: every entry of this trustpoint */
};

static void
collect_due(const struct cv_crl_store_entry *e, void *arg)
{
	struct due *d = arg;
	const cv_time due = d->only_tp != NULL ? CV_TIME_NONE : due_at(d->engine, e);
	const bool wanted = d->only_tp != NULL ? strcmp(e->trustpoint, d->only_tp) == 0
	                                       : due != CV_TIME_NONE && d->now >= due;

	if (!wanted) {
		if (due != CV_TIME_NONE && (d->earliest == CV_TIME_NONE || due < d->earliest))
			d->earliest = due;
		return;
	}
	if (d->n >= CV_ARRAY_LEN(d->v))
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

/* Starts the refreshes due (or those of only_tp); *earliest: the next due time or NONE. */
static int
refresh_sweep(struct cv_engine *engine, const char *only_tp, cv_time *earliest)
{
	struct due *d = calloc(1, sizeof(*d));
	int started = 0;

	*earliest = CV_TIME_NONE;
	if (d == NULL)
		return 0;
	d->now = cv_engine_now(engine);
	d->earliest = CV_TIME_NONE;
	d->engine = engine;
	d->only_tp = only_tp;
	cv_crl_store_foreach(engine->crls, collect_due, d);
	for (size_t i = 0; i < d->n; i++)
		started += refresh_start(engine, &d->v[i], only_tp != NULL);
	*earliest = d->earliest;
	free(d);
	return started;
}

static void
refresh_tick(evutil_socket_t fd, short what, void *arg)
{
	cv_engine_refresh_now(arg);
}

/* The next look at the cache in delay seconds (1 to REFRESH_TICK_S). */
static void
refresh_arm(struct cv_engine *engine, cv_time delay)
{
	struct timeval tv = {REFRESH_TICK_S, 0};

	if (engine->refresh_timer == NULL)
		return;
	if (delay < 1)
		delay = 1;
	if (delay < REFRESH_TICK_S)
		tv.tv_sec = (time_t)delay;
	event_add(engine->refresh_timer, &tv);
}

/* cv_crl_store_foreach: a cached CRL expiring now without a replacement. */
static void
tell_expired(const struct cv_crl_store_entry *e, void *arg)
{
	struct cv_engine *engine = arg;

	if (e->expires != CV_TIME_NONE && cv_engine_now(engine) >= e->expires)
		notice(engine, "crl-unusable", e->trustpoint, e->source,
		       "the cached CRL expired and no newer one could be downloaded");
}

void
cv_engine_refresh_now(struct cv_engine *engine)
{
	const cv_time now = cv_engine_now(engine);
	cv_time earliest;

	if (engine->crl_notice != NULL)
		cv_crl_store_foreach(engine->crls, tell_expired, engine);
	cv_crl_store_expire(engine->crls, now);
	sched_prune(engine, now);
	refresh_sweep(engine, NULL, &earliest);
	prefetch_sweep(engine, now, &earliest); /* OCSP answers asked with GET (issue 16) */
	refresh_arm(engine, earliest == CV_TIME_NONE ? REFRESH_TICK_S : earliest - now);
}

int
cv_engine_start_refresh(struct cv_engine *engine)
{
	if (engine->refresh_timer != NULL)
		return 0;
	gnutls_rnd(GNUTLS_RND_NONCE, &engine->refresh_seed, sizeof(engine->refresh_seed));
	engine->refresh_timer = evtimer_new(engine->base, refresh_tick, engine);
	if (engine->refresh_timer == NULL)
		return -1;
	refresh_arm(engine, REFRESH_TICK_S);
	return 0;
}

int
cv_engine_crl_request(struct cv_engine *engine, const char *tp)
{
	cv_time earliest;
	const int started = refresh_sweep(engine, tp, &earliest);

	/* R54: nothing of tp cached: its CA certificates' CDPs and those seen under it */
	return started > 0 ? started : crl_walk_request(engine, tp);
}
