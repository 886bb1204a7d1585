/* fetch.h: "get this URL with this deadline and size cap, tell me later" (HTTP, HTTPS, LDAP). */
#ifndef CV_FETCH_H
#define CV_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "../../common/clock.h"
#include "../../common/error.h"

struct event_base;

/*
 * One fetcher per daemon, living on the daemon's event_base. Every result is delivered from
 * the loop, never from inside cv_fetch_start. Concurrent fetches with the same key (URL,
 * POST body, conditional headers and every option that changes the transfer except the
 * timeout) share one transfer (single-flight) and each waiter gets the result. A URL whose fetch
 * failed is not contacted again for retry_after_s seconds of the cv_clock (negative cache, SPEC
 * D-3); starts in that window complete with from_negative_cache = 1.
 *
 * HTTP and HTTPS go through libcurl's multi interface driven by libevent (threaded resolver,
 * no blocking call in the loop). LDAP and LDAPS run each operation on a short-lived worker
 * thread with its own timeouts and report to the loop through a pipe; the loop enforces the
 * deadline itself, so a stuck server costs a request at most its timeout.
 *
 * The process must ignore SIGPIPE (libldap writes to sockets a server may have closed).
 * The fetcher does not decode PEM or check what it fetched: that is its callers' job.
 */

#define CV_FETCH_DEFAULT_MAX_BYTES     (64u * 1024 * 1024) /* D-3: CRL cap */
#define CV_FETCH_DEFAULT_TIMEOUT_MS    10000u              /* O-23: per fetch */
#define CV_FETCH_DEFAULT_MAX_REDIRECTS 5u
#define CV_FETCH_ERROR_MAX             256

struct cv_fetch_opts {
	size_t max_bytes;             /* body cap; 0 = CV_FETCH_DEFAULT_MAX_BYTES */
	unsigned timeout_ms;          /* whole transfer; 0 = CV_FETCH_DEFAULT_TIMEOUT_MS */
	unsigned max_redirects;       /* HTTP; 0 = a redirect is an error */
	const char *proxy;            /* HTTP proxy URL; NULL = none (environment ignored) */
	const char *source_interface; /* interface name or address (SPEC R22, O-22); NULL = any */
	const char *bind_device;      /* `vrf NAME`: SO_BINDTODEVICE on that device (O-22), for
	                                 HTTP and ldap:// (ldaps:// over a device is refused);
	                                 NULL = none */
	const uint8_t *post_body;     /* HTTP POST when not NULL (OCSP); copied */
	size_t post_len;
	const char *content_type;      /* POST Content-Type, e.g. "application/ocsp-request" */
	const char *etag;              /* conditional GET: If-None-Match; NULL = none */
	cv_time if_modified_since;     /* conditional GET; CV_TIME_NONE = none */
	const char *ldap_default_host; /* `crl query ldap://host[:port][/DN]` for DN-only CDPs */
};

/* Defaults: 64 MiB, 10 s, 5 redirects, everything else unset. */
void cv_fetch_opts_init(struct cv_fetch_opts *opts);

struct cv_fetch_result {
	int ok;              /* 1: data holds the body (or not_modified is set) */
	long http_status;    /* 0 for LDAP and for failures before a status */
	const uint8_t *data; /* valid only during the callback; not NUL-terminated;
	                        NULL when len is 0 */
	size_t len;
	char error[CV_FETCH_ERROR_MAX]; /* when !ok: "timeout after 10000 ms", "HTTP 404", ... */
	char etag[128];                 /* ETag of the response, "" if none */
	cv_time last_modified;          /* Last-Modified, CV_TIME_NONE if none */
	int not_modified;               /* conditional GET answered 304: ok = 1, len = 0 */
	/* RFC 9111 4.2: how long the server says the response stays fresh, from Cache-Control
	 * max-age (less Age) or Expires - Date; 0 for no-cache/no-store, -1 when it says nothing */
	long fresh_s;
	unsigned elapsed_ms;     /* of the shared transfer */
	int coalesced;           /* this waiter joined a transfer already in flight */
	int from_negative_cache; /* failed without contacting the server */
	const char *url;         /* the URL fetched (LDAP: the effective ldap:// URL) */
	uint64_t transfer;       /* the waiters of one transfer see the same number (never 0 for
	                            a transfer; 0 for an answer of the waiter's own deadline) */
	void *flight;            /* the fetcher's, for cv_fetch_take_body */
};

typedef void (*cv_fetch_done_fn)(const struct cv_fetch_result *r, void *arg);

/*
 * From inside a callback: the body becomes the caller's (malloc'd, shrunk to its length; free
 * it) when this waiter is the last one of its transfer to be called, so a large CRL is not
 * copied (issue 13). NULL when later waiters still need r->data (copy it then), when the
 * result carries no body, or when it was taken already. Once it is taken, r->data is no
 * longer valid (shrinking may move it): use the buffer returned.
 */
uint8_t *cv_fetch_take_body(const struct cv_fetch_result *r, size_t *len);

struct cv_fetcher;
struct cv_fetch;

/* NULL on failure. The clock is borrowed and must outlive the fetcher. */
struct cv_fetcher *cv_fetcher_new(struct event_base *base, const struct cv_clock *clock,
                                  unsigned retry_after_s);

/*
 * Cancels every fetch (their callbacks are not called) and frees the fetcher. Must not be
 * called from inside a fetch callback. LDAP worker threads still blocked on a server finish
 * on their own (bounded by their timeout) and free what they hold.
 */
void cv_fetcher_free(struct cv_fetcher *f);

/* `fetch retry-after SECONDS` on reload; applies to failures from now on. */
void cv_fetcher_set_retry_after(struct cv_fetcher *f, unsigned retry_after_s);

/* Forgets every remembered failure (for `clear crls` and tests). */
void cv_fetcher_clear_negative(struct cv_fetcher *f);

/*
 * Starts (or joins) a fetch. url is http://, https://, ldap://, ldaps:// (case-insensitive
 * scheme), or a bare LDAP DN such as "CN=CA1,O=Example" (a directory CDP), which, like
 * "ldap:///DN", is looked up on opts->ldap_default_host. opts may be NULL (defaults); it and
 * its strings are copied. Returns a handle that stays valid until the callback has returned
 * or cv_fetch_cancel; NULL with err set on an immediate failure (bad URL, scheme not allowed,
 * directory CDP without a server, out of memory). done is always called from the loop, at
 * the latest when this waiter's timeout_ms has passed: a waiter that joins a transfer which
 * may run longer gets "timeout after N ms" at its own deadline while the transfer goes on.
 */
struct cv_fetch *cv_fetch_start(struct cv_fetcher *f, const char *url,
                                const struct cv_fetch_opts *opts, cv_fetch_done_fn done, void *arg,
                                struct cv_error *err);

/*
 * Withdraws a waiter: its callback will not be called and the handle is freed. The transfer
 * continues while other waiters remain; when the last one leaves it is aborted. A caller
 * that wants a retrieval to go on after its request gave up (SPEC R17) keeps a waiter of its
 * own instead of cancelling. Never call it on a handle whose callback has already run.
 */
void cv_fetch_cancel(struct cv_fetch *fetch);

struct cv_fetcher_stats {
	uint64_t started;       /* cv_fetch_start calls that returned a handle */
	uint64_t transfers;     /* transfers actually begun (HTTP or LDAP) */
	uint64_t coalesced;     /* waiters that joined a transfer in flight */
	uint64_t completed;     /* transfers that succeeded */
	uint64_t failed;        /* transfers that failed */
	uint64_t negative_hits; /* starts answered from the negative cache */
	uint64_t bytes;         /* body bytes received */
	unsigned in_flight;     /* transfers now running */
};

void cv_fetcher_get_stats(const struct cv_fetcher *f, struct cv_fetcher_stats *out);

/* One URL as `show fetch` lists it; pointers are valid during the callback only. */
struct cv_fetch_url_info {
	const char *url;
	const char *state; /* "fetching", "ok", "failed" (in retry wait), "retry" (wait over) */
	const char *last_error; /* "" if the last attempt succeeded */
	unsigned last_latency_ms;
	uint64_t successes;
	uint64_t failures;    /* consecutive failures */
	cv_time last_attempt; /* CV_TIME_NONE if never */
	cv_time next_retry;   /* end of the negative-cache window, CV_TIME_NONE if none */
};

typedef void (*cv_fetch_url_fn)(const struct cv_fetch_url_info *info, void *arg);

/* Calls fn for every remembered URL, most recently used first (at most 1024 are kept). */
void cv_fetcher_foreach_url(const struct cv_fetcher *f, cv_fetch_url_fn fn, void *arg);

#endif
