/* fetch_int.h: what the fetcher core (fetch.c) shares with its HTTP and LDAP back ends. */
#ifndef CV_FETCH_INT_H
#define CV_FETCH_INT_H

#include <sys/queue.h>
#include <time.h>

#include "fetch.h"

struct url_state;

enum flight_kind {
	FLIGHT_HTTP,
	FLIGHT_LDAP,
	FLIGHT_NEGATIVE, /* an answer from the negative cache, delivered from the loop */
};

/*
 * One transfer and the waiters that share it. Owned by fetch.c; a back end keeps its own
 * state in backend and, when the transfer ends, fills buf/len and res (ok, error, status,
 * etag, last_modified, not_modified), releases its state and calls cv_fetch_flight_done.
 */
struct flight {
	TAILQ_ENTRY(flight) entry;
	struct cv_fetcher *fetcher;
	enum flight_kind kind;
	char *key;
	char *url; /* effective URL */
	struct url_state *us;
	int counted; /* counted in us->inflight */
	TAILQ_HEAD(, cv_fetch) waiters;

	/* copied options */
	size_t max_bytes;
	unsigned timeout_ms;
	unsigned max_redirects;
	char *proxy;
	char *source;
	char *device; /* SO_BINDTODEVICE */
	char *content_type;
	char *etag;
	cv_time if_modified_since;
	uint8_t *post;
	size_t post_len;
	int is_post;

	struct timespec t0;
	uint8_t *buf;
	size_t len, cap;
	struct cv_fetch_result res;
	void *backend;
	struct event *ev; /* FLIGHT_NEGATIVE: the delivery */
	int done;
};

/* Called by a back end when its transfer has ended (from the loop). Frees fl. */
void cv_fetch_flight_done(struct flight *fl);

/* Milliseconds since fl->t0 (monotonic). */
unsigned cv_fetch_elapsed_ms(const struct flight *fl);

/* HTTP and HTTPS: libcurl multi on libevent (fetch_http.c). */
struct cv_fetch_http;
struct cv_fetch_http *cv_fetch_http_new(struct event_base *base);
void cv_fetch_http_free(struct cv_fetch_http *h); /* aborts all; no flight_done */
int cv_fetch_http_check_url(const char *url, struct cv_error *err);
int cv_fetch_http_start(struct cv_fetch_http *h, struct flight *fl, struct cv_error *err);
void cv_fetch_http_abort(struct cv_fetch_http *h, struct flight *fl);

/* LDAP and LDAPS: worker threads reporting to the loop (fetch_ldap.c). */
struct cv_fetch_ldap;
struct cv_fetch_ldap *cv_fetch_ldap_new(struct event_base *base);
void cv_fetch_ldap_free(struct cv_fetch_ldap *l); /* orphans running workers; no flight_done */
/* Turns a CDP (ldap URL or bare DN) into the canonical ldap[s]://host:port/DN?attrs URL. */
char *cv_fetch_ldap_resolve(const char *location, const char *default_host, struct cv_error *err);
int cv_fetch_ldap_start(struct cv_fetch_ldap *l, struct flight *fl, struct cv_error *err);
void cv_fetch_ldap_abort(struct cv_fetch_ldap *l, struct flight *fl);

#endif
