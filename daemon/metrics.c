/*
 * metrics.c: the Prometheus text exposition of certvald's state. Counters come from the
 * engine (verdicts by decision and reason, cache hits), the verify calls (latency histogram,
 * requests in flight), the CRL store (per source host: CRLs, entries, age, seconds to
 * nextUpdate) and the fetcher (downloads and failures, per host as remembered). Label values
 * are bounded: fixed words and host names, at most HOSTS_MAX hosts per family.
 */
#include "metrics.h"

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "../validator/crl/crl.h"
#include "../cache/crl_store.h"
#include "../cache/ocsp_cache.h"
#include "../common/util.h"
#include "../validator/fetch/fetch.h"

#define HOSTS_MAX 64 /* distinct host label values per family; the rest are "other" */
#define HOST_LEN  64

/* Per-host aggregates of the CRL store and of the fetcher's URLs. */
struct host_row {
	char host[HOST_LEN];
	uint64_t crls, entries;
	int64_t oldest_age;   /* seconds since the oldest download */
	int64_t soonest_next; /* seconds to the earliest nextUpdate (negative: past) */
	bool has_next;
	uint64_t successes, failing; /* fetcher: downloads that succeeded, URLs now failing */
	uint64_t consecutive_failures;
};

struct host_table {
	struct host_row rows[HOSTS_MAX + 1]; /* the last one is "other" */
	size_t n;
	cv_time now;
};

struct out {
	struct evbuffer *buf;
	int rc;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(struct out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (evbuffer_add_vprintf(o->buf, fmt, ap) < 0)
		o->rc = -1;
	va_end(ap);
}

static void
family(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * The host of a URL, lower-cased, without userinfo or port (never a credential in a label):
 * "file" for `crl file` sources, "default" for a URL without a host (ldap:///DN). Only
 * [a-z0-9.-:] survive, so the label needs no escaping.
 */
static void
url_host(const char *url, char *host, size_t size)
{
	const char *p = strstr(url, "://"), *end, *at;
	size_t n = 0;

	if (strncmp(url, "file:", 5) == 0 || p == NULL) {
		cv_strlcpy(host, "file", size);
		return;
	}
	p += 3;
	end = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(end - p));
	if (at != NULL)
		p = at + 1;
	if (p < end && *p == '[') { /* [IPv6]:port */
		const char *close = memchr(p, ']', (size_t)(end - p));

		if (close != NULL)
			end = close + 1;
	} else {
		const char *colon = memchr(p, ':', (size_t)(end - p));

		if (colon != NULL)
			end = colon;
	}
	for (; p < end && n + 1 < size; p++) {
		char c = (char)tolower((unsigned char)*p);

		if (isalnum((unsigned char)c) || c == '.' || c == '-' || c == ':' || c == '[' ||
		    c == ']')
			host[n++] = c;
	}
	host[n] = '\0';
	if (n == 0)
		cv_strlcpy(host, "default", size);
}

static struct host_row *
host_row(struct host_table *t, const char *url)
{
	char host[HOST_LEN];

	url_host(url, host, sizeof(host));
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->rows[i].host, host) == 0)
			return &t->rows[i];
	if (t->n == HOSTS_MAX) {
		struct host_row *other = &t->rows[HOSTS_MAX];

		cv_strlcpy(other->host, "other", sizeof(other->host));
		return other;
	}
	memset(&t->rows[t->n], 0, sizeof(t->rows[t->n]));
	cv_strlcpy(t->rows[t->n].host, host, sizeof(t->rows[t->n].host));
	return &t->rows[t->n++];
}

/* Counts one CRL of age seconds into its host's row. */
static void
row_add_crl(struct host_row *r, const struct cv_crl *crl, int64_t age, cv_time now)
{
	const struct cv_crl_info *info = cv_crl_get_info(crl);

	r->crls++;
	r->entries += cv_crl_entries(crl);
	if (age > r->oldest_age)
		r->oldest_age = age;
	if (info->next_update != CV_TIME_NONE) {
		int64_t left = (int64_t)(info->next_update - now);

		if (!r->has_next || left < r->soonest_next)
			r->soonest_next = left;
		r->has_next = true;
	}
}

static void
crl_entry_cb(const struct cv_crl_store_entry *e, void *arg)
{
	struct host_table *t = arg;

	row_add_crl(host_row(t, e->source), e->crl,
	            e->fetched_at != CV_TIME_NONE ? (int64_t)(t->now - e->fetched_at) : 0, t->now);
}

/* A `crl file` CRL: under host "file", its age counted from its thisUpdate. */
static void
file_crl_cb(const char *path, const struct cv_crl *crl, const char *error, void *arg)
{
	struct host_table *t = arg;

	if (crl != NULL)
		row_add_crl(host_row(t, "file:"), crl,
		            (int64_t)(t->now - cv_crl_get_info(crl)->this_update), t->now);
}

static void
fetch_url_cb(const struct cv_fetch_url_info *info, void *arg)
{
	struct host_row *r = host_row(arg, info->url);

	r->successes += info->successes;
	r->consecutive_failures += info->failures;
	if (info->failures > 0)
		r->failing++;
}

static size_t
n_rows(const struct host_table *t)
{
	return t->rows[HOSTS_MAX].host[0] != '\0' ? HOSTS_MAX + 1 : t->n;
}

static void
write_verdicts(struct out *o, const struct cv_engine_stats *st)
{
	family(o, "certval_verdicts_total", "counter",
	       "Verdicts given, by decision and reason (reason=\"none\" for ACCEPT).");
	put(o, "certval_verdicts_total{decision=\"accept\",reason=\"none\"} %llu\n",
	    (unsigned long long)st->accepted);
	for (size_t r = CV_REASON_NONE + 1; r <= CV_REASON_INTERNAL_ERROR; r++)
		put(o, "certval_verdicts_total{decision=\"reject\",reason=\"%s\"} %llu\n",
		    cv_reason_name((enum cv_reason)r), (unsigned long long)st->reasons[r]);
	family(o, "certval_verdicts_failed_open_total", "counter",
	       "ACCEPT verdicts given although a revocation check did not answer (`none`).");
	put(o, "certval_verdicts_failed_open_total %llu\n", (unsigned long long)st->failed_open);
	family(o, "certval_crl_cache_hits_total", "counter",
	       "Revocation answers from cached CRLs.");
	put(o, "certval_crl_cache_hits_total %llu\n", (unsigned long long)st->crl_cache_hits);
	family(o, "certval_crl_downloads_total", "counter", "CRLs downloaded for requests.");
	put(o, "certval_crl_downloads_total %llu\n", (unsigned long long)st->crl_downloads);
	family(o, "certval_ocsp_cache_hits_total", "counter",
	       "OCSP answers from the cache or from a query already in flight.");
	put(o, "certval_ocsp_cache_hits_total %llu\n", (unsigned long long)st->ocsp_cache_hits);
	family(o, "certval_ocsp_queries_total", "counter", "OCSP requests sent.");
	put(o, "certval_ocsp_queries_total %llu\n", (unsigned long long)st->ocsp_queries);
	family(o, "certval_link_cache_hits_total", "counter",
	       "Signatures not checked again because they were verified before.");
	put(o, "certval_link_cache_hits_total %llu\n", (unsigned long long)st->link_cache_hits);
	family(o, "certval_link_cache_links", "gauge", "Verified signatures remembered.");
	put(o, "certval_link_cache_links %llu\n", (unsigned long long)st->links_remembered);
}

static void
write_latency(struct out *o, const struct cv_call_stats *cs)
{
	uint64_t cum = 0;

	family(o, "certval_verdict_latency_seconds", "histogram",
	       "Time from a verify request to its verdict, socket and HTTP alike.");
	for (size_t i = 0; i < CV_CALL_BUCKETS; i++) {
		cum += cs->buckets[i];
		put(o, "certval_verdict_latency_seconds_bucket{le=\"%g\"} %llu\n",
		    cv_call_bucket_bound(i), (unsigned long long)cum);
	}
	put(o, "certval_verdict_latency_seconds_bucket{le=\"+Inf\"} %llu\n",
	    (unsigned long long)cs->count);
	put(o, "certval_verdict_latency_seconds_sum %.6f\n", cs->sum_s);
	put(o, "certval_verdict_latency_seconds_count %llu\n", (unsigned long long)cs->count);
	family(o, "certval_requests_in_flight", "gauge", "Verify requests waiting for a verdict.");
	put(o, "certval_requests_in_flight %llu\n", (unsigned long long)cs->in_flight);
	family(o, "certval_deadline_exceeded_total", "counter",
	       "Verdicts given by the request-timeout deadline (REJECT internal-error).");
	put(o, "certval_deadline_exceeded_total %llu\n", (unsigned long long)cs->deadline_exceeded);
}

/* A gauge family with one sample per host: the uint64_t at offset off of each row. */
static void
host_gauge(struct out *o, const struct host_table *t, size_t n, const char *name, const char *help,
           size_t off)
{
	family(o, name, "gauge", help);
	for (size_t i = 0; i < n; i++) {
		uint64_t v;

		memcpy(&v, (const char *)&t->rows[i] + off, sizeof(v));
		put(o, "%s{host=\"%s\"} %llu\n", name, t->rows[i].host, (unsigned long long)v);
	}
}

static void
write_crls(struct out *o, const struct cv_engine *engine, struct host_table *t)
{
	size_t n;

	t->now = cv_engine_now(engine);
	cv_crl_store_foreach(cv_engine_crl_store(engine), crl_entry_cb, t);
	cv_engine_foreach_file_crl(engine, file_crl_cb, t);
	n = n_rows(t);
	host_gauge(o, t, n, "certval_crls_cached",
	           "CRLs in the cache, by source host (host=\"file\": the `crl file` CRLs).",
	           offsetof(struct host_row, crls));
	host_gauge(o, t, n, "certval_crl_entries",
	           "Revoked-certificate entries of the cached CRLs.",
	           offsetof(struct host_row, entries));
	family(o, "certval_crl_age_seconds", "gauge",
	       "Seconds since the oldest CRL of the host was downloaded (file CRLs: since "
	       "thisUpdate).");
	for (size_t i = 0; i < n; i++)
		put(o, "certval_crl_age_seconds{host=\"%s\"} %lld\n", t->rows[i].host,
		    (long long)t->rows[i].oldest_age);
	family(o, "certval_crl_next_update_seconds", "gauge",
	       "Seconds to the earliest nextUpdate of the host's cached CRLs (negative: past).");
	for (size_t i = 0; i < n; i++)
		if (t->rows[i].has_next)
			put(o, "certval_crl_next_update_seconds{host=\"%s\"} %lld\n",
			    t->rows[i].host, (long long)t->rows[i].soonest_next);
	family(o, "certval_ocsp_cached", "gauge", "OCSP answers in the cache.");
	put(o, "certval_ocsp_cached %zu\n", cv_ocsp_cache_count(cv_engine_ocsp_cache(engine)));
}

static void
write_fetch(struct out *o, const struct cv_fetcher *f, struct host_table *t)
{
	struct cv_fetcher_stats st = {0};
	size_t n;

	if (f != NULL) {
		cv_fetcher_get_stats(f, &st);
		cv_fetcher_foreach_url(f, fetch_url_cb, t);
	}
	n = n_rows(t);
	family(o, "certval_fetch_downloads_total", "counter",
	       "CRL and OCSP transfers (HTTP and LDAP) that succeeded.");
	put(o, "certval_fetch_downloads_total %llu\n", (unsigned long long)st.completed);
	family(o, "certval_fetch_failures_total", "counter", "Transfers that failed.");
	put(o, "certval_fetch_failures_total %llu\n", (unsigned long long)st.failed);
	family(o, "certval_fetch_in_flight", "gauge", "Transfers running now.");
	put(o, "certval_fetch_in_flight %u\n", st.in_flight);
	host_gauge(o, t, n, "certval_fetch_host_successes",
	           "Successful transfers per CDP or responder host, over the URLs remembered.",
	           offsetof(struct host_row, successes));
	host_gauge(o, t, n, "certval_fetch_host_failing_urls",
	           "URLs of the host whose last transfer failed.",
	           offsetof(struct host_row, failing));
	host_gauge(o, t, n, "certval_fetch_host_consecutive_failures",
	           "Consecutive failed transfers of the host's URLs, added up.",
	           offsetof(struct host_row, consecutive_failures));
}

static void
write_http(struct out *o, const struct cv_metrics_http *h)
{
	static const char *const routes[CV_ROUTE_COUNT] = {"/v1/auth", "/v1/verify", "/metrics",
	                                                   "/healthz", "other"};
	static const char *const codes[CV_AUTH_COUNT] = {"200", "403", "503"};

	family(o, "certval_http_requests_total", "counter", "HTTP requests by route.");
	for (size_t i = 0; i < CV_ROUTE_COUNT; i++)
		put(o, "certval_http_requests_total{route=\"%s\"} %llu\n", routes[i],
		    (unsigned long long)h->requests[i]);
	family(o, "certval_http_auth_responses_total", "counter",
	       "Answers of /v1/auth: 200 ACCEPT, 403 REJECT or no certificate, 503 no verdict.");
	for (size_t i = 0; i < CV_AUTH_COUNT; i++)
		put(o, "certval_http_auth_responses_total{code=\"%s\"} %llu\n", codes[i],
		    (unsigned long long)h->auth[i]);
}

int
cv_metrics_write(struct evbuffer *buf, const struct cv_engine *engine, const struct cv_calls *calls,
                 const struct cv_metrics_http *http)
{
	struct out o = {buf, 0};
	struct cv_engine_stats st;
	struct cv_call_stats cs;
	struct host_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	cv_engine_get_stats(engine, &st);
	cv_calls_get_stats(calls, &cs);
	family(&o, "certval_requests_total", "counter", "Verify requests the engine decided.");
	put(&o, "certval_requests_total %llu\n", (unsigned long long)st.requests);
	write_verdicts(&o, &st);
	write_latency(&o, &cs);
	write_crls(&o, engine, t);
	memset(t, 0, sizeof(*t));
	write_fetch(&o, cv_engine_fetcher(engine), t);
	if (http != NULL)
		write_http(&o, http);
	free(t);
	return o.rc;
}
