/* fetch.c: the fetcher core: URL checks, single-flight, negative cache, per-URL state. */
#include "fetch_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "../../common/util.h"

#define MAX_URLS 1024 /* remembered for `show fetch` and the negative cache */

struct url_state {
	TAILQ_ENTRY(url_state) entry;
	char *url;
	unsigned inflight;
	char last_error[CV_FETCH_ERROR_MAX];
	unsigned last_latency_ms;
	uint64_t successes;
	uint64_t failures;
	cv_time last_attempt;
	cv_time retry_at;
};

struct cv_fetch {
	TAILQ_ENTRY(cv_fetch) entry;
	struct flight *flight;
	cv_fetch_done_fn done;
	void *arg;
	int coalesced;
	unsigned timeout_ms;
	struct event *timer; /* a joiner whose deadline ends before the shared transfer's */
};

struct cv_fetcher {
	struct event_base *base;
	const struct cv_clock *clock;
	unsigned retry_after_s;
	struct cv_fetch_http *http;
	struct cv_fetch_ldap *ldap;
	TAILQ_HEAD(, flight) flights;      /* HTTP and LDAP transfers in flight */
	TAILQ_HEAD(, flight) answers;      /* negative-cache answers not yet delivered */
	TAILQ_HEAD(url_q, url_state) urls; /* most recently used first */
	unsigned nurls;
	uint64_t last_transfer; /* numbers the flights (cv_fetch_result.transfer) */
	struct cv_fetcher_stats stats;
};

void
cv_fetch_opts_init(struct cv_fetch_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->max_bytes = CV_FETCH_DEFAULT_MAX_BYTES;
	opts->timeout_ms = CV_FETCH_DEFAULT_TIMEOUT_MS;
	opts->max_redirects = CV_FETCH_DEFAULT_MAX_REDIRECTS;
	opts->if_modified_since = CV_TIME_NONE;
}

struct cv_fetcher *
cv_fetcher_new(struct event_base *base, const struct cv_clock *clock, unsigned retry_after_s)
{
	struct cv_fetcher *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->base = base;
	f->clock = clock;
	f->retry_after_s = retry_after_s;
	TAILQ_INIT(&f->flights);
	TAILQ_INIT(&f->answers);
	TAILQ_INIT(&f->urls);
	if ((f->http = cv_fetch_http_new(base)) == NULL)
		goto fail;
	if ((f->ldap = cv_fetch_ldap_new(base)) == NULL)
		goto fail;
	return f;
fail:
	cv_fetcher_free(f);
	return NULL;
}

static void
waiter_free(struct cv_fetch *w)
{
	if (w->timer != NULL)
		event_free(w->timer);
	free(w);
}

static void
flight_free(struct flight *fl)
{
	struct cv_fetch *w;

	while ((w = TAILQ_FIRST(&fl->waiters)) != NULL) {
		TAILQ_REMOVE(&fl->waiters, w, entry);
		waiter_free(w);
	}
	if (fl->counted)
		fl->us->inflight--;
	if (fl->ev != NULL)
		event_free(fl->ev);
	free(fl->key);
	free(fl->url);
	free(fl->proxy);
	free(fl->source);
	free(fl->device);
	free(fl->content_type);
	free(fl->etag);
	free(fl->post);
	free(fl->buf);
	free(fl);
}

void
cv_fetcher_free(struct cv_fetcher *f)
{
	struct flight *fl;
	struct url_state *us;

	if (f == NULL)
		return;
	/* The back ends drop their transfers without calling back; then the flights go. */
	if (f->http != NULL)
		cv_fetch_http_free(f->http);
	if (f->ldap != NULL)
		cv_fetch_ldap_free(f->ldap);
	while ((fl = TAILQ_FIRST(&f->flights)) != NULL) {
		TAILQ_REMOVE(&f->flights, fl, entry);
		flight_free(fl);
	}
	while ((fl = TAILQ_FIRST(&f->answers)) != NULL) {
		TAILQ_REMOVE(&f->answers, fl, entry);
		flight_free(fl);
	}
	while ((us = TAILQ_FIRST(&f->urls)) != NULL) {
		TAILQ_REMOVE(&f->urls, us, entry);
		free(us->url);
		free(us);
	}
	free(f);
}

void
cv_fetcher_set_retry_after(struct cv_fetcher *f, unsigned retry_after_s)
{
	f->retry_after_s = retry_after_s;
}

void
cv_fetcher_clear_negative(struct cv_fetcher *f)
{
	struct url_state *us;

	TAILQ_FOREACH(us, &f->urls, entry)
	us->retry_at = CV_TIME_NONE;
}

void
cv_fetcher_get_stats(const struct cv_fetcher *f, struct cv_fetcher_stats *out)
{
	*out = f->stats;
}

void
cv_fetcher_foreach_url(const struct cv_fetcher *f, cv_fetch_url_fn fn, void *arg)
{
	const struct url_state *us;
	struct cv_fetch_url_info info;
	cv_time now = cv_clock_now(f->clock);

	TAILQ_FOREACH(us, &f->urls, entry)
	{
		memset(&info, 0, sizeof(info));
		info.url = us->url;
		if (us->inflight > 0)
			info.state = "fetching";
		else if (us->failures == 0)
			info.state = "ok";
		else if (us->retry_at != CV_TIME_NONE && now < us->retry_at)
			info.state = "failed";
		else
			info.state = "retry";
		info.last_error = us->last_error;
		info.last_latency_ms = us->last_latency_ms;
		info.successes = us->successes;
		info.failures = us->failures;
		info.last_attempt = us->last_attempt;
		info.next_retry = us->retry_at;
		fn(&info, arg);
	}
}

/* Finds or creates the state of url and makes it the most recently used. */
static struct url_state *
url_state_get(struct cv_fetcher *f, const char *url)
{
	struct url_state *us, *victim = NULL;
	cv_time now = cv_clock_now(f->clock);

	TAILQ_FOREACH(us, &f->urls, entry)
	{
		if (strcmp(us->url, url) == 0) {
			TAILQ_REMOVE(&f->urls, us, entry);
			TAILQ_INSERT_HEAD(&f->urls, us, entry);
			return us;
		}
	}
	if (f->nurls >= MAX_URLS) {
		/* Evict the least recently used idle URL, preferring one not in a retry wait. */
		TAILQ_FOREACH_REVERSE(us, &f->urls, url_q, entry)
		{
			if (us->inflight > 0)
				continue;
			if (victim == NULL)
				victim = us;
			if (us->retry_at == CV_TIME_NONE || now >= us->retry_at) {
				victim = us;
				break;
			}
		}
		if (victim != NULL) {
			TAILQ_REMOVE(&f->urls, victim, entry);
			free(victim->url);
			free(victim);
			f->nurls--;
		}
	}
	if ((us = calloc(1, sizeof(*us))) == NULL)
		return NULL;
	if ((us->url = strdup(url)) == NULL) {
		free(us);
		return NULL;
	}
	us->last_attempt = CV_TIME_NONE;
	us->retry_at = CV_TIME_NONE;
	TAILQ_INSERT_HEAD(&f->urls, us, entry);
	f->nurls++;
	return us;
}

unsigned
cv_fetch_elapsed_ms(const struct flight *fl)
{
	struct timespec now;
	int64_t ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms =
	    (int64_t)(now.tv_sec - fl->t0.tv_sec) * 1000 + (now.tv_nsec - fl->t0.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (unsigned)ms;
}

/* Calls every waiter with the flight's result, then frees the flight. */
static void
deliver(struct flight *fl)
{
	struct cv_fetch_result r;
	struct cv_fetch *w;

	fl->done = 1;
	fl->res.data = fl->res.ok ? fl->buf : NULL;
	fl->res.len = fl->res.ok ? fl->len : 0;
	fl->res.url = fl->url;
	fl->res.flight = fl;
	while ((w = TAILQ_FIRST(&fl->waiters)) != NULL) {
		TAILQ_REMOVE(&fl->waiters, w, entry);
		r = fl->res;
		r.coalesced = w->coalesced;
		w->done(&r, w->arg);
		waiter_free(w);
	}
	flight_free(fl);
}

uint8_t *
cv_fetch_take_body(const struct cv_fetch_result *r, size_t *len)
{
	struct flight *fl = r->flight;
	uint8_t *body, *shrunk;

	*len = 0;
	/* deliver() unlists each waiter before calling it: an empty list means the last one */
	if (fl == NULL || !r->ok || fl->buf == NULL || fl->buf != r->data ||
	    !TAILQ_EMPTY(&fl->waiters))
		return NULL;
	body = fl->buf;
	fl->buf = NULL;
	*len = fl->len;
	shrunk = realloc(body, fl->len > 0 ? fl->len : 1); /* the growth's slack goes back */
	return shrunk != NULL ? shrunk : body;
}

void
cv_fetch_flight_done(struct flight *fl)
{
	struct cv_fetcher *f = fl->fetcher;
	struct url_state *us = fl->us;
	cv_time now = cv_clock_now(f->clock);

	TAILQ_REMOVE(&f->flights, fl, entry);
	f->stats.in_flight--;
	fl->res.elapsed_ms = cv_fetch_elapsed_ms(fl);
	if (fl->res.ok) {
		f->stats.completed++;
		f->stats.bytes += fl->len;
	} else {
		f->stats.failed++;
	}
	if (us != NULL) {
		us->last_attempt = now;
		us->last_latency_ms = fl->res.elapsed_ms;
		if (fl->res.ok) {
			us->successes++;
			us->failures = 0;
			us->last_error[0] = '\0';
			us->retry_at = CV_TIME_NONE;
		} else {
			us->failures++;
			cv_strlcpy(us->last_error, fl->res.error, sizeof(us->last_error));
			us->retry_at =
			    f->retry_after_s > 0 ? now + (cv_time)f->retry_after_s : CV_TIME_NONE;
		}
	}
	deliver(fl);
}

static void
answer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct flight *fl = arg;

	TAILQ_REMOVE(&fl->fetcher->answers, fl, entry);
	deliver(fl);
}

/* Single-flight key: everything that changes what goes on the wire or what is accepted. */
static char *
flight_key(enum flight_kind kind, const char *url, const struct flight *fl)
{
	char *key = NULL;
	size_t keylen = 0, i;
	FILE *fp;

	if ((fp = open_memstream(&key, &keylen)) == NULL)
		return NULL;
	fprintf(fp, "%d\x1f%s\x1f%zu\x1f%u\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%" PRId64 "\x1f%d\x1f",
	        kind, url, fl->max_bytes, fl->max_redirects, fl->proxy ? fl->proxy : "",
	        fl->source ? fl->source : "", fl->device ? fl->device : "",
	        fl->content_type ? fl->content_type : "", fl->etag ? fl->etag : "",
	        fl->if_modified_since, fl->is_post);
	for (i = 0; i < fl->post_len; i++)
		fprintf(fp, "%02x", fl->post[i]);
	if (fclose(fp) != 0) {
		free(key);
		return NULL;
	}
	return key;
}

static int
dup_opt(char **dst, const char *src)
{
	if (src == NULL)
		return 0;
	return (*dst = strdup(src)) == NULL ? -1 : 0;
}

/* A new flight holding a copy of the options. */
static struct flight *
flight_new(struct cv_fetcher *f, const struct cv_fetch_opts *o)
{
	struct flight *fl;

	if ((fl = calloc(1, sizeof(*fl))) == NULL)
		return NULL;
	fl->fetcher = f;
	TAILQ_INIT(&fl->waiters);
	fl->max_bytes = o->max_bytes ? o->max_bytes : CV_FETCH_DEFAULT_MAX_BYTES;
	fl->timeout_ms = o->timeout_ms ? o->timeout_ms : CV_FETCH_DEFAULT_TIMEOUT_MS;
	fl->max_redirects = o->max_redirects;
	fl->if_modified_since = o->if_modified_since;
	fl->res.last_modified = CV_TIME_NONE;
	fl->res.fresh_s = -1;
	if (dup_opt(&fl->proxy, o->proxy) < 0 || dup_opt(&fl->source, o->source_interface) < 0 ||
	    dup_opt(&fl->device, o->bind_device) < 0 ||
	    dup_opt(&fl->content_type, o->content_type) < 0 || dup_opt(&fl->etag, o->etag) < 0)
		goto fail;
	if (o->post_body != NULL) {
		fl->is_post = 1;
		fl->post_len = o->post_len;
		if ((fl->post = malloc(o->post_len ? o->post_len : 1)) == NULL)
			goto fail;
		if (o->post_len > 0)
			memcpy(fl->post, o->post_body, o->post_len);
	}
	fl->res.transfer = ++f->last_transfer;
	clock_gettime(CLOCK_MONOTONIC, &fl->t0);
	return fl;
fail:
	flight_free(fl);
	return NULL;
}

static int
has_scheme(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);
	char buf[8];

	if (strlen(url) < n + 3 || n >= sizeof(buf))
		return 0;
	memcpy(buf, url, n);
	buf[n] = '\0';
	return cv_strcasecmp(buf, scheme) == 0 && strncmp(url + n, "://", 3) == 0;
}

/*
 * Sorts a location into HTTP or LDAP and gives its effective URL (malloc'd). A location with
 * no "scheme://" that looks like a DN is a directory CDP.
 */
static int
classify(const char *url, const struct cv_fetch_opts *o, enum flight_kind *kind, char **eff,
         struct cv_error *err)
{
	if (has_scheme(url, "http") || has_scheme(url, "https")) {
		if (cv_fetch_http_check_url(url, err) < 0)
			return -1;
		*kind = FLIGHT_HTTP;
		*eff = strdup(url);
	} else if (has_scheme(url, "ldap") || has_scheme(url, "ldaps") ||
	           (strstr(url, "://") == NULL && strchr(url, '=') != NULL)) {
		*kind = FLIGHT_LDAP;
		if ((*eff = cv_fetch_ldap_resolve(url, o->ldap_default_host, err)) == NULL)
			return -1;
	} else {
		const char *colon = strstr(url, "://");

		if (colon != NULL && colon > url && colon - url < 16)
			cv_error_set(err,
			             "scheme not allowed: %.*s (only http, https, ldap, ldaps)",
			             (int)(colon - url), url);
		else
			cv_error_set(err, "not a URL or LDAP DN: \"%.200s\"", url);
		return -1;
	}
	if (*eff == NULL) {
		cv_error_set(err, "out of memory");
		return -1;
	}
	return 0;
}

static struct flight *
find_flight(struct cv_fetcher *f, const char *key)
{
	struct flight *fl;

	TAILQ_FOREACH(fl, &f->flights, entry)
	if (strcmp(fl->key, key) == 0)
		return fl;
	return NULL;
}

/* Answers a start from the negative cache: a flight of its own, delivered from the loop. */
static int
answer_negative(struct cv_fetcher *f, struct flight *fl, cv_time now, struct cv_error *err)
{
	fl->kind = FLIGHT_NEGATIVE;
	if ((fl->ev = event_new(f->base, -1, 0, answer_cb, fl)) == NULL) {
		cv_error_set(err, "out of memory");
		return -1;
	}
	fl->res.ok = 0;
	fl->res.from_negative_cache = 1;
	snprintf(fl->res.error, sizeof(fl->res.error), "negative-cached: %.200s (retry in %lld s)",
	         fl->us->last_error, (long long)(fl->us->retry_at - now));
	TAILQ_INSERT_TAIL(&f->answers, fl, entry);
	event_active(fl->ev, EV_TIMEOUT, 1);
	f->stats.negative_hits++;
	return 0;
}

/* A joiner's own deadline passed before the shared transfer ended: it leaves with a timeout. */
static void
waiter_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct cv_fetch *w = arg;
	struct cv_fetch_result r;
	cv_fetch_done_fn done = w->done;
	void *done_arg = w->arg;
	char *url = strdup(w->flight->url);

	memset(&r, 0, sizeof(r));
	r.last_modified = CV_TIME_NONE;
	r.fresh_s = -1;
	r.coalesced = 1;
	r.elapsed_ms = w->timeout_ms;
	r.url = url != NULL ? url : "";
	snprintf(r.error, sizeof(r.error), "timeout after %u ms", w->timeout_ms);
	cv_fetch_cancel(w);
	done(&r, done_arg);
	free(url);
}

/* Gives a joiner a timer of its own when its deadline comes before the transfer's. */
static int
join_deadline(struct cv_fetcher *f, struct flight *fl, struct cv_fetch *w, unsigned timeout_ms)
{
	unsigned elapsed = cv_fetch_elapsed_ms(fl);
	struct timeval tv;

	w->timeout_ms = timeout_ms;
	if (elapsed >= fl->timeout_ms || timeout_ms >= fl->timeout_ms - elapsed)
		return 0;
	if ((w->timer = evtimer_new(f->base, waiter_timeout, w)) == NULL)
		return -1;
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	return evtimer_add(w->timer, &tv);
}

struct cv_fetch *
cv_fetch_start(struct cv_fetcher *f, const char *url, const struct cv_fetch_opts *opts,
               cv_fetch_done_fn done, void *arg, struct cv_error *err)
{
	struct cv_fetch_opts defaults;
	struct flight *fl = NULL, *shared;
	struct cv_fetch *w = NULL;
	enum flight_kind kind;
	char *eff = NULL;
	cv_time now = cv_clock_now(f->clock);

	if (opts == NULL) {
		cv_fetch_opts_init(&defaults);
		opts = &defaults;
	}
	if (url == NULL || done == NULL) {
		cv_error_set(err, "no URL or no callback");
		return NULL;
	}
	if (classify(url, opts, &kind, &eff, err) < 0)
		return NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL || (fl = flight_new(f, opts)) == NULL)
		goto nomem;
	w->done = done;
	w->arg = arg;
	fl->kind = kind;
	fl->url = eff;
	eff = NULL;
	if ((fl->us = url_state_get(f, fl->url)) == NULL)
		goto nomem;

	if (fl->us->retry_at != CV_TIME_NONE && now < fl->us->retry_at) {
		if (answer_negative(f, fl, now, err) < 0)
			goto fail;
		goto started;
	}
	if ((fl->key = flight_key(kind, fl->url, fl)) == NULL)
		goto nomem;
	if ((shared = find_flight(f, fl->key)) != NULL) {
		unsigned timeout_ms = fl->timeout_ms;

		flight_free(fl);
		fl = shared;
		if (join_deadline(f, fl, w, timeout_ms) < 0) {
			fl = NULL;
			goto nomem;
		}
		w->coalesced = 1;
		f->stats.coalesced++;
		goto started;
	}
	fl->us->inflight++;
	fl->counted = 1;
	if ((kind == FLIGHT_HTTP ? cv_fetch_http_start(f->http, fl, err)
	                         : cv_fetch_ldap_start(f->ldap, fl, err)) < 0)
		goto fail;
	TAILQ_INSERT_TAIL(&f->flights, fl, entry);
	f->stats.transfers++;
	f->stats.in_flight++;
started:
	w->flight = fl;
	TAILQ_INSERT_TAIL(&fl->waiters, w, entry);
	f->stats.started++;
	return w;
nomem:
	cv_error_set(err, "out of memory");
fail:
	free(eff);
	if (w != NULL)
		waiter_free(w);
	if (fl != NULL)
		flight_free(fl);
	return NULL;
}

void
cv_fetch_cancel(struct cv_fetch *w)
{
	struct flight *fl;
	struct cv_fetcher *f;

	if (w == NULL)
		return;
	fl = w->flight;
	f = fl->fetcher;
	TAILQ_REMOVE(&fl->waiters, w, entry);
	waiter_free(w);
	if (fl->done || !TAILQ_EMPTY(&fl->waiters))
		return;
	/* The last waiter left: stop the transfer. */
	if (fl->kind == FLIGHT_NEGATIVE) {
		TAILQ_REMOVE(&f->answers, fl, entry);
	} else {
		if (fl->kind == FLIGHT_HTTP)
			cv_fetch_http_abort(f->http, fl);
		else
			cv_fetch_ldap_abort(f->ldap, fl);
		TAILQ_REMOVE(&f->flights, fl, entry);
		f->stats.in_flight--;
	}
	flight_free(fl);
}
