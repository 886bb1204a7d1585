/*
 * certval.h: libcertval, the client library of certvald (blocking and non-blocking APIs).
 *
 * Thread safety: the library has no global state. A client object (struct cv_client or
 * struct cv_client_async) is not thread safe: use one per thread (they are cheap; the daemon
 * serves many connections), or serialise every call on one object with your own lock.
 * Different objects may be used from different threads at the same time.
 *
 * Fail closed: only a call that returns CV_CLIENT_OK with verdict->decision ==
 * CV_CLIENT_ACCEPT means "accept". Every error (no daemon, timeout, garbage on the socket,
 * an error response) is a reason to refuse the peer.
 *
 * Every function returns CV_CLIENT_OK (0) or a negative enum cv_client_status. Link with
 * `pkg-config --libs certval`. The GnuTLS helper is in certval_gnutls.h (same library).
 * Reference: docs/client.md.
 */
#ifndef CERTVAL_H
#define CERTVAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CV_CLIENT_DEFAULT_SOCKET "/run/certval/certvald.sock"

enum cv_client_status {
	CV_CLIENT_OK = 0,
	CV_CLIENT_ERR_ARGUMENT = -1, /* a bad argument (nothing was sent) */
	CV_CLIENT_ERR_CONNECT = -2,  /* cannot connect, or the connection broke */
	CV_CLIENT_ERR_TIMEOUT = -3,  /* no reply in time; the connection is closed */
	CV_CLIENT_ERR_PROTOCOL = -4, /* the reply was not understood */
	CV_CLIENT_ERR_SERVER = -5,   /* the daemon answered with an error (see cv_client_error) */
	CV_CLIENT_ERR_MEMORY = -6,
};

/* The name of a status ("ok", "argument", "connect", "timeout", ...); never NULL. */
const char *cv_client_status_name(int status);

struct cv_client; /* opaque */

/* One DER certificate (borrowed by the request). */
struct cv_client_cert {
	const unsigned char *der;
	size_t len;
};

#define CV_CLIENT_AT_NOW INT64_MIN

/* A verify request; zero-initialise it, then set at = CV_CLIENT_AT_NOW or a time. */
struct cv_client_request {
	const struct cv_client_cert *chain; /* [0] the peer's certificate, then the rest it sent */
	size_t n_chain;                     /* 1..16 */
	const struct cv_client_cert *extra; /* more untrusted certificates, may be NULL */
	size_t n_extra;
	const char *const *trustpoints; /* allowed trustpoints in order; none: any */
	size_t n_trustpoints;
	int64_t at;              /* validation time, Unix seconds, or CV_CLIENT_AT_NOW */
	const char *purpose;     /* "any", "ike", "server", "client", or NULL (any) */
	const char *peer_name;   /* host name the peer's certificate must carry, or NULL */
	const char *peer_addr;   /* peer address for the daemon's log, or NULL */
	const char *application; /* AAA application tag, or NULL */
};

enum cv_client_decision { CV_CLIENT_REJECT = 0, CV_CLIENT_ACCEPT = 1 };

/* The essentials of a verdict; the whole verdict is in json. Release with cv_client_verdict_free.
 */
struct cv_client_verdict {
	enum cv_client_decision decision;
	char reason[48];   /* "" on ACCEPT, else "expired", "revoked", ... */
	char detail[48];   /* precise code, or "" */
	char message[320]; /* one human sentence, or "" */
	char trustpoint[64];
	char revocation[32]; /* "good", "unchecked-none", ... */
	char *json;          /* the verdict object as JSON text (malloc'd) */
};

/*
 * The blocking API. Each call sends one request and waits for its reply, at most timeout_ms
 * milliseconds (a negative timeout waits forever); a timeout closes the connection (the next
 * call reconnects). When the daemon closed the connection (it was restarted), a call
 * reconnects once and retries. After an error, cv_client_error() says why in words.
 */

/*
 * Connects to socket_path (NULL: $CERTVAL_SOCKET or CV_CLIENT_DEFAULT_SOCKET). *out is set
 * also when the connection fails (CV_CLIENT_ERR_CONNECT): the client is usable and the next
 * call tries again. Close it with cv_client_close.
 */
int cv_client_open(const char *socket_path, struct cv_client **out);
void cv_client_close(struct cv_client *client); /* NULL is fine */

/*
 * How much of the verdict the daemon renders into verdict->json (the request's "detail",
 * docs/protocol.md). The decision, reason, detail, message, trustpoint and revocation
 * members of struct cv_client_verdict are filled at every level. A client starts at
 * CV_CLIENT_DETAIL_TRACE (everything, as before this setting existed); a caller that only
 * needs the decision saves the daemon the path, evidence and trace with
 * CV_CLIENT_DETAIL_VERDICT.
 */
enum cv_client_detail {
	CV_CLIENT_DETAIL_TRACE = 0,    /* everything: summary, path, evidence, trace */
	CV_CLIENT_DETAIL_EVIDENCE = 1, /* summary, path and evidence */
	CV_CLIENT_DETAIL_VERDICT = 2,  /* the summary members only */
};

/* Sets the detail of the verify requests this client sends from now on. */
int cv_client_set_detail(struct cv_client *client, enum cv_client_detail detail);

/* Asks for a verdict. On CV_CLIENT_OK fills *verdict (free it with cv_client_verdict_free). */
int cv_client_verify(struct cv_client *client, const struct cv_client_request *req, int timeout_ms,
                     struct cv_client_verdict *verdict);
void cv_client_verdict_free(struct cv_client_verdict *verdict);

/* Checks that the daemon answers. */
int cv_client_ping(struct cv_client *client, int timeout_ms);

/*
 * Sends one request given as a JSON object (its "id" is replaced by the library's own) and
 * returns the whole response line, malloc'd, in *response_json. The response may be an error
 * response: that is still CV_CLIENT_OK here; the caller reads "ok".
 */
int cv_client_call_json(struct cv_client *client, const char *request_json, int timeout_ms,
                        char **response_json);

/* The last error of this client in words (never NULL). */
const char *cv_client_error(const struct cv_client *client);

/* After CV_CLIENT_ERR_SERVER: the daemon's error code ("bad-request", "forbidden", ...). */
const char *cv_client_error_code(const struct cv_client *client);

/*
 * The non-blocking API, for servers with their own event loop (poll, epoll, libevent, ...).
 *
 *   cv_client_async_new(NULL, &ac);
 *   cv_client_async_verify(ac, &req, 5000, on_verdict, conn, &id);   // queues, never blocks
 *   loop:
 *     fd = cv_client_async_fd(ac); events = cv_client_async_events(ac);
 *     wait for events on fd, at most cv_client_async_next_timeout_ms(ac) milliseconds;
 *     cv_client_async_process(ac);          // reads, writes, calls callbacks, expires timeouts
 *
 * Query fd, events and timeout again after every call into the library: the descriptor
 * changes when the client reconnects. Several requests may be in flight; replies are matched
 * by id. A submit that returns CV_CLIENT_OK calls its callback exactly once later, from
 * cv_client_async_process (never from the submit itself), unless the request is cancelled or
 * the client freed first. A submit that returns an error calls nothing.
 *
 * When the daemon closes the connection (restart, crash) or sends something that is not a
 * valid reply (garbage, a line over 8 MiB), the connection is dropped and every request in
 * flight gets its callback with CV_CLIENT_ERR_CONNECT or CV_CLIENT_ERR_PROTOCOL: fail closed.
 * The next submit reconnects. A request that times out gets CV_CLIENT_ERR_TIMEOUT; the
 * connection stays and a late reply is dropped.
 *
 * Callbacks may submit and cancel requests on the same client; they must not call
 * cv_client_async_process or cv_client_async_free on it.
 */
struct cv_client_async; /* opaque */

/* What a callback receives; everything is borrowed for the duration of the callback. */
struct cv_client_result {
	uint64_t id;                             /* as returned by the submit */
	int status;                              /* CV_CLIENT_OK or a negative cv_client_status */
	const struct cv_client_verdict *verdict; /* non-NULL exactly when status == CV_CLIENT_OK */
	const char *error;                       /* "" on CV_CLIENT_OK, else the reason in words */
	const char *error_code; /* after CV_CLIENT_ERR_SERVER: the daemon's code, else "" */
};

typedef void (*cv_client_async_cb)(const struct cv_client_result *result, void *arg);

#define CV_CLIENT_WANT_READ  1
#define CV_CLIENT_WANT_WRITE 2

/*
 * Creates a client for socket_path (NULL: $CERTVAL_SOCKET or CV_CLIENT_DEFAULT_SOCKET). It
 * connects at the first submit, so a daemon that is not running yet is not an error here.
 * Free it with cv_client_async_free.
 */
int cv_client_async_new(const char *socket_path, struct cv_client_async **out);

/* Closes the connection and frees the client; callbacks of requests in flight are not called. */
void cv_client_async_free(struct cv_client_async *client); /* NULL is fine */

/*
 * Queues a verify request (req and the certificates it points to are copied: they may go
 * away when this returns). timeout_ms > 0 bounds the wait for the reply (<= 0: no limit).
 * On CV_CLIENT_OK, *id (may be NULL) identifies the request for cancel and the callback.
 * Errors: CV_CLIENT_ERR_ARGUMENT, CV_CLIENT_ERR_CONNECT (no daemon), CV_CLIENT_ERR_MEMORY.
 */
int cv_client_async_verify(struct cv_client_async *client, const struct cv_client_request *req,
                           int timeout_ms, cv_client_async_cb cb, void *arg, uint64_t *id);

/* Sets the detail of the verify requests this client queues from now on (see
 * cv_client_set_detail). */
int cv_client_async_set_detail(struct cv_client_async *client, enum cv_client_detail detail);

/* Forgets a request in flight: its callback will not be called (a late reply is dropped). */
int cv_client_async_cancel(struct cv_client_async *client, uint64_t id);

/* The descriptor to watch, or -1 when not connected (nothing to watch). */
int cv_client_async_fd(const struct cv_client_async *client);

/* CV_CLIENT_WANT_READ and/or CV_CLIENT_WANT_WRITE for the descriptor; 0 when not connected. */
int cv_client_async_events(const struct cv_client_async *client);

/*
 * Milliseconds until cv_client_async_process must run even without events on the descriptor
 * (the earliest request deadline; 0: now), or -1 when nothing needs it.
 */
int cv_client_async_next_timeout_ms(const struct cv_client_async *client);

/*
 * Does everything possible without blocking: sends queued requests, reads replies and calls
 * their callbacks, fails the requests whose time is up. Returns CV_CLIENT_OK, or the error
 * that dropped the connection in this call (its requests already got their callbacks).
 */
int cv_client_async_process(struct cv_client_async *client);

/* The number of requests in flight (submitted, callback not yet called). */
size_t cv_client_async_pending(const struct cv_client_async *client);

/* The last error of this client in words (never NULL). */
const char *cv_client_async_error(const struct cv_client_async *client);

/*
 * Revocation events (issue 16): a watch is a connection of its own subscribed to certvald's
 * events: every event, those of one trustpoint, or those of the certificates (issuer and
 * serial) the application holds sessions for. Drive it like the async client: wait for
 * reading on cv_client_watch_fd, then call cv_client_watch_process, which calls the callback
 * once per event line. When the daemon goes away the watch reconnects and subscribes again
 * at the next process call, and reports {"event":"reconnected"} (events of the gap may be
 * lost: check the certificates again). A subscriber that reads too slowly loses the oldest
 * events and gets {"event":"lost","count":N}.
 *
 * An event is a notice, not a verdict: "verified" false means certvald could not check the
 * CRL's signature with a CA certificate of the trustpoint; verify the certificate (cv_client
 * _verify) before acting on such an event.
 */
struct cv_client_watch; /* opaque */

/* One certificate of a subscription: the issuer as certval prints names (RFC 4514), and the
 * serial in hex; or cert_der (the certificate, which gives both). */
struct cv_client_watch_cert {
	const char *issuer;
	const char *serial;
	const uint8_t *cert_der;
	size_t cert_der_len;
};

struct cv_client_watch_opts {
	const char *trustpoint;                   /* NULL: not restricted to one trustpoint */
	const struct cv_client_watch_cert *certs; /* NULL: not restricted to certificates */
	size_t n_certs;
	unsigned queue; /* events the daemon queues for this watch; 0: its default */
};

/* One event; every pointer is borrowed for the duration of the callback. */
struct cv_client_event {
	const char *event;      /* "revoked", "crl-stale", "crl-unusable", "ca-expiring", "lost",
	                           "reconnected" */
	const char *trustpoint; /* "" when not given */
	const char *issuer;
	const char *serial;
	const char *reason;          /* revoked: the CRL reason ("keyCompromise", ...) */
	const char *revocation_time; /* ISO 8601 */
	const char *source;          /* the CRL's URL or "file:PATH" */
	const char *crl_number;
	int verified;            /* revoked: the CRL's signature was checked */
	unsigned long long lost; /* "lost": how many events the daemon dropped */
	const char *json;        /* the whole event line */
};

typedef void (*cv_client_event_cb)(const struct cv_client_event *event, void *arg);

/*
 * Connects to socket_path (NULL: as cv_client_open) and subscribes. *out is set also on
 * failure (read cv_client_watch_error). Errors: CV_CLIENT_ERR_CONNECT, CV_CLIENT_ERR_SERVER
 * (the daemon refused the subscription), CV_CLIENT_ERR_ARGUMENT, CV_CLIENT_ERR_MEMORY.
 */
int cv_client_watch_open(const char *socket_path, const struct cv_client_watch_opts *opts,
                         int timeout_ms, cv_client_event_cb cb, void *arg,
                         struct cv_client_watch **out);
void cv_client_watch_close(struct cv_client_watch *watch); /* NULL is fine */

/* The descriptor to wait on for reading, or -1 while disconnected (call process again
 * later: it reconnects). */
int cv_client_watch_fd(const struct cv_client_watch *watch);

/*
 * Reads what is there without blocking and calls cb per event; reconnects and subscribes
 * again when disconnected. Returns CV_CLIENT_OK or the error that dropped the connection.
 */
int cv_client_watch_process(struct cv_client_watch *watch);

/* Waits up to timeout_ms (negative: forever) for events, then processes them. */
int cv_client_watch_wait(struct cv_client_watch *watch, int timeout_ms);

const char *cv_client_watch_error(const struct cv_client_watch *watch);

#ifdef __cplusplus
}
#endif

#endif
