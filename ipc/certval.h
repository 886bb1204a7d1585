/*
 * certval.h: libcertval, the client library of certvald (blocking API).
 *
 * A struct cv_client is one connection to the daemon's Unix socket. It is not thread safe:
 * use one client per thread (clients are cheap; the daemon serves many connections). Each
 * call sends one request and waits for its reply, at most timeout_ms milliseconds (a
 * negative timeout waits forever). When the daemon closed the connection (it was restarted),
 * a call reconnects once and retries.
 *
 * Every function returns CV_CLIENT_OK (0) or a negative enum cv_client_status; the reason in
 * words is then available from cv_client_error(). Link with `pkg-config --libs certval`.
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

/* Connects to socket_path (NULL: $CERTVAL_SOCKET or CV_CLIENT_DEFAULT_SOCKET). */
int cv_client_open(const char *socket_path, struct cv_client **out);
void cv_client_close(struct cv_client *client); /* NULL is fine */

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

#ifdef __cplusplus
}
#endif

#endif
