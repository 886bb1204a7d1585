/*
 * http_front.c: certvald's HTTP listener on libevent's evhttp (no HTTP parsing of our own) and
 * its routes, one row each in routes[]:
 *
 *   POST /v1/verify  a verify request of the socket protocol as the body; its JSON reply back
 *   GET  /v1/auth    an auth subrequest: the client certificate from the proxy's header, 200 on
 *                    ACCEPT, 403 on REJECT (or no certificate), 503 when no verdict can be
 *                    given (fail closed), and on 200 the X-Certval-* headers for the upstream
 *   GET  /v1/auth/…  the same for proxies that append the client's path (Envoy's ext_authz
 *                    path_prefix): the query is the client's then, so only the configuration
 *                    decides format, header and trustpoint
 *   GET  /metrics    the Prometheus text exposition (metrics.c)
 *   GET  /healthz    200 "ok" while the loop runs
 *
 * Caps: header and body sizes and the read/write timeout of each connection are evhttp's
 * (http max-header, http max-body, http timeout). Requests wait for verdicts without blocking
 * anything: a slow or idle client costs its own connection only. Verdicts come from the
 * server's verify calls (verify_call.c), as on the socket.
 */
#include "http_front.h"

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "../common/log.h"
#include "../common/util.h"
#include "../ipc/http_certs.h"
#include "accept_guard.h"
#include "metrics.h"
#include "../ipc/protocol.h"
#include "server.h"
#include "../ipc/verdict_json.h"

#ifndef CV_VERSION
#define CV_VERSION "unknown"
#endif

#define HEADER_VALUE_MAX 512 /* X-Certval-* values, percent-encoded */
#define QUERY_VALUE_MAX  64  /* format, header, trustpoint, application in /v1/auth's query */

enum wait_kind { WAIT_AUTH, WAIT_VERIFY };

/* A request waiting for its verdict. */
struct waiting {
	struct cv_http_front *front;
	struct evhttp_request *req;
	struct cv_call *call; /* NULL once answered */
	enum wait_kind kind;
	json_t *id;                    /* WAIT_VERIFY: the request's id */
	enum cv_verdict_detail detail; /* WAIT_VERIFY: how much of the verdict was asked for */
	LIST_ENTRY(waiting) link;
};

struct cv_http_front {
	struct event_base *base;
	struct cv_engine *engine;
	struct cv_calls *calls;
	struct cv_cert_cache *certs; /* the socket's: certificates parsed once for both */
	struct evhttp *http;
	char *unix_path[CV_HTTP_LISTEN_MAX];
	size_t n_unix;
	struct cv_metrics_http counters;
	LIST_HEAD(, waiting) waiting;
};

typedef void (*route_fn)(struct cv_http_front *front, struct evhttp_request *req);

static void route_auth(struct cv_http_front *front, struct evhttp_request *req);
static void route_auth_prefix(struct cv_http_front *front, struct evhttp_request *req);
static void route_verify(struct cv_http_front *front, struct evhttp_request *req);
static void route_metrics(struct cv_http_front *front, struct evhttp_request *req);
static void route_healthz(struct cv_http_front *front, struct evhttp_request *req);

/* a proxy may keep the method of the request it guards: /v1/auth reads headers only */
#define ANY_METHOD                                                                                 \
	(EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | \
	 EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS)

static const struct {
	const char *path;
	bool prefix; /* path is a prefix of the request's path, not all of it */
	enum cv_metrics_route id;
	unsigned methods; /* EVHTTP_REQ_* */
	route_fn fn;
} routes[] = {
    {"/v1/auth", false, CV_ROUTE_AUTH, ANY_METHOD, route_auth},
    {"/v1/auth/", true, CV_ROUTE_AUTH, ANY_METHOD, route_auth_prefix},
    {"/v1/verify", false, CV_ROUTE_VERIFY, EVHTTP_REQ_POST, route_verify},
    {"/metrics", false, CV_ROUTE_METRICS, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, route_metrics},
    {"/healthz", false, CV_ROUTE_HEALTHZ, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, route_healthz},
};

/* ---- replies ---- */

static const char *
status_reason(int code)
{
	switch (code) {
	case HTTP_OK:
		return "OK";
	case HTTP_BADREQUEST:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case HTTP_SERVUNAVAIL:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

static void
reply_text(struct evhttp_request *req, int code, const char *reason, const char *text)
{
	struct evbuffer *body = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	                  "text/plain; charset=utf-8");
	if (body != NULL)
		evbuffer_add_printf(body, "%s\n", text);
	evhttp_send_reply(req, code, reason, body);
	if (body != NULL)
		evbuffer_free(body);
}

/* A protocol response as JSON; NULL resp (out of memory) becomes a 500. */
static void
reply_json(struct evhttp_request *req, int code, const json_t *resp)
{
	struct evbuffer *body = evbuffer_new();
	size_t len = 0;
	char *text = resp != NULL ? cv_proto_encode(resp, &len) : NULL;

	if (body == NULL || text == NULL || evbuffer_add(body, text, len) != 0) {
		free(text);
		if (body != NULL)
			evbuffer_free(body);
		reply_text(req, HTTP_INTERNAL, "Internal Server Error", "out of memory");
		return;
	}
	free(text);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	                  "application/json");
	evhttp_send_reply(req, code, status_reason(code), body);
	evbuffer_free(body);
}

static void
reply_proto_error(struct evhttp_request *req, int code, const json_t *id, enum cv_proto_code pc,
                  const char *message)
{
	json_t *resp = cv_proto_error(id, pc, message);

	reply_json(req, code, resp);
	json_decref(resp);
}

/*
 * Adds a header whose value may come from a certificate (the AAA username) or the
 * configuration: bytes outside printable ASCII, and '%', are percent-encoded, so that no value
 * can end the header or smuggle another one.
 */
static void
add_header(struct evhttp_request *req, const char *name, const char *value)
{
	char buf[HEADER_VALUE_MAX];
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)value;
	     *p != '\0' && n + 4 < sizeof(buf); p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '%')
			buf[n++] = (char)*p;
		else
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%%%02X", *p);
	}
	buf[n] = '\0';
	if (n > 0)
		evhttp_add_header(evhttp_request_get_output_headers(req), name, buf);
}

/* ---- waiting requests ---- */

static struct waiting *
waiting_new(struct cv_http_front *front, struct evhttp_request *req, enum wait_kind kind,
            cv_call_done_fn done)
{
	struct waiting *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->call = cv_call_new(front->calls, done, w);
	if (w->call == NULL) {
		free(w);
		return NULL;
	}
	w->front = front;
	w->req = req;
	w->kind = kind;
	return w;
}

/* Frees a request that was never started (its call with it). */
static void
waiting_discard(struct waiting *w)
{
	cv_call_discard(w->call);
	json_decref(w->id);
	free(w);
}

/* Starts the call; on failure answers 503 (auth) or an internal error (verify). */
static void
waiting_start(struct waiting *w)
{
	struct cv_http_front *front = w->front;
	struct cv_error err = {""};
	struct evhttp_request *req = w->req;

	LIST_INSERT_HEAD(&front->waiting, w, link);
	/* the done callback may run before cv_call_start returns and free w */
	if (cv_call_start(w->call, &err) == 0)
		return;
	LIST_REMOVE(w, link);
	if (w->kind == WAIT_AUTH) {
		front->counters.auth[CV_AUTH_UNAVAILABLE]++;
		reply_text(req, HTTP_SERVUNAVAIL, "Service Unavailable", err.msg);
	} else {
		reply_proto_error(req, HTTP_INTERNAL, w->id, CV_PROTO_INTERNAL, err.msg);
	}
	waiting_discard(w);
}

/* The call is answered (it frees itself): forget the request. */
static void
waiting_done(struct waiting *w)
{
	LIST_REMOVE(w, link);
	json_decref(w->id);
	free(w);
}

/* ---- /v1/auth ---- */

/* 200 ACCEPT; 503 when no verdict could be given (deadline, engine or configuration
 * failure); 403 for every other REJECT. */
static int
auth_status(const struct cv_verdict *v, enum cv_metrics_auth *counter)
{
	if (v->decision == CV_DECISION_ACCEPT) {
		*counter = CV_AUTH_ALLOW;
		return HTTP_OK;
	}
	if (v->reason == CV_REASON_INTERNAL_ERROR || v->reason == CV_REASON_CONFIG_ERROR) {
		*counter = CV_AUTH_UNAVAILABLE;
		return HTTP_SERVUNAVAIL;
	}
	*counter = CV_AUTH_DENY;
	return 403;
}

static void
auth_done(const struct cv_verdict *v, void *arg)
{
	struct waiting *w = arg;
	struct evhttp_request *req = w->req;
	enum cv_metrics_auth counter;
	int code = auth_status(v, &counter);

	w->front->counters.auth[counter]++;
	add_header(req, "X-Certval-Verdict", cv_decision_name(v->decision));
	if (v->decision == CV_DECISION_ACCEPT) {
		add_header(req, "X-Certval-Trustpoint", v->trustpoint);
		add_header(req, "X-Certval-Map", v->map_label);
		add_header(req, "X-Certval-Revocation", cv_revocation_name(v->revocation));
		add_header(req, "X-Certval-User", v->aaa_username);
		add_header(req, "X-Certval-Aaa-Attributes", v->aaa_attributes);
		if (v->failed_open)
			add_header(req, "X-Certval-Failed-Open", "true");
	} else {
		add_header(req, "X-Certval-Reason", cv_reason_name(v->reason));
		add_header(req, "X-Certval-Detail", v->detail);
	}
	cv_log_info("http auth: %s %s%s%s", cv_decision_name(v->decision),
	            v->decision == CV_DECISION_ACCEPT ? v->trustpoint : cv_reason_name(v->reason),
	            v->detail[0] != '\0' ? " " : "", v->detail);
	evhttp_send_reply(req, code, status_reason(code), NULL);
	waiting_done(w);
}

/* A query parameter, or fallback; NULL when present but too long. */
static const char *
query_param(const struct evkeyvalq *q, const char *key, const char *fallback)
{
	const char *v = evhttp_find_header(q, key);

	if (v == NULL)
		return fallback;
	return strlen(v) < QUERY_VALUE_MAX ? v : NULL;
}

/* What /v1/auth reads, from the query or else the configuration. */
struct auth_params {
	enum cv_http_cert_format format;
	const char *header;
	const char *trustpoint; /* NULL: any */
	const char *application;
};

static int
auth_params(const struct cv_config *cfg, const struct evkeyvalq *q, struct auth_params *ap,
            struct cv_error *err)
{
	const char *format = query_param(q, "format", NULL);

	ap->format = cfg->http_cert_format;
	if (format != NULL && cv_http_cert_format_from_name(format, &ap->format) != 0) {
		cv_error_set(err, "format must be nginx, envoy, traefik or caddy");
		return -1;
	}
	ap->header = query_param(q, "header",
	                         cfg->http_cert_header != NULL && format == NULL
	                             ? cfg->http_cert_header
	                             : cv_http_certs_header(ap->format));
	ap->trustpoint = query_param(q, "trustpoint", cfg->http_trustpoint);
	ap->application = query_param(q, "application", "");
	if (ap->header == NULL || ap->application == NULL ||
	    (evhttp_find_header(q, "trustpoint") != NULL && ap->trustpoint == NULL)) {
		cv_error_set(err, "a query parameter is longer than %d bytes", QUERY_VALUE_MAX - 1);
		return -1;
	}
	return 0;
}

/* The request for the engine: the proxy's certificates, then the intermediate pool. */
static int
auth_request(const struct cv_config *cfg, const struct auth_params *ap, struct evhttp_request *req,
             struct cv_request *r, struct cv_error *err)
{
	const char *value = evhttp_find_header(evhttp_request_get_input_headers(req), ap->header);

	if (cv_http_certs_read(ap->format, value, &r->chain, err) != 0)
		return -1;
	for (size_t i = 0; i < cfg->intermediate_pool.n; i++) {
		if (cv_cert_list_push(&r->extra, cfg->intermediate_pool.v[i]) != 0) {
			cv_error_set(err, "out of memory");
			return -1;
		}
	}
	if (ap->trustpoint != NULL && ap->trustpoint[0] != '\0') {
		cv_strlcpy(r->trustpoints[0], ap->trustpoint, sizeof(r->trustpoints[0]));
		r->n_trustpoints = 1;
	}
	cv_strlcpy(r->application, ap->application, sizeof(r->application));
	r->purpose = CV_PURPOSE_TLS_CLIENT;
	return 0;
}

static void
auth_refuse(struct cv_http_front *front, struct evhttp_request *req, const char *why)
{
	front->counters.auth[CV_AUTH_DENY]++;
	add_header(req, "X-Certval-Verdict", "REJECT");
	add_header(req, "X-Certval-Error", why);
	cv_log_info("http auth: refused: %s", why);
	reply_text(req, 403, "Forbidden", why);
}

/* query: the administrator's parameters, or NULL when the configuration alone decides. */
static void
auth(struct cv_http_front *front, struct evhttp_request *req, const char *query)
{
	const struct cv_config *cfg = cv_engine_config(front->engine);
	struct evkeyvalq q = {0};
	struct cv_error err = {""};
	struct auth_params ap;
	struct waiting *w;

	TAILQ_INIT(&q);
	if (query != NULL && evhttp_parse_query_str(query, &q) != 0) {
		auth_refuse(front, req, "malformed query string");
		return;
	}
	if (auth_params(cfg, &q, &ap, &err) != 0) {
		auth_refuse(front, req, err.msg);
		evhttp_clear_headers(&q);
		return;
	}
	w = waiting_new(front, req, WAIT_AUTH, auth_done);
	if (w == NULL) {
		front->counters.auth[CV_AUTH_UNAVAILABLE]++;
		reply_text(req, HTTP_SERVUNAVAIL, "Service Unavailable", "out of memory");
	} else if (auth_request(cfg, &ap, req, cv_call_request(w->call), &err) != 0) {
		auth_refuse(front, req, err.msg);
		waiting_discard(w);
	} else {
		waiting_start(w);
	}
	evhttp_clear_headers(&q);
}

static void
route_auth(struct cv_http_front *front, struct evhttp_request *req)
{
	auth(front, req, evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req)));
}

/* The path and query after /v1/auth/ are the client's, never the administrator's. */
static void
route_auth_prefix(struct cv_http_front *front, struct evhttp_request *req)
{
	auth(front, req, NULL);
}

/* ---- /v1/verify ---- */

static void
verify_done(const struct cv_verdict *v, void *arg)
{
	struct waiting *w = arg;
	json_t *resp = cv_proto_verdict(w->id, v, w->detail);

	reply_json(w->req, HTTP_OK, resp);
	json_decref(resp);
	waiting_done(w);
}

/* A seen chain's reply (cv_call_serve_seen), as for any verdict over HTTP. */
static void
seen_reply(void *to, const json_t *resp)
{
	reply_json(to, HTTP_OK, resp);
}

static void
route_verify(struct cv_http_front *front, struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *body = (const char *)evbuffer_pullup(in, -1);
	struct cv_error err = {""};
	struct cv_proto_msg msg;
	enum cv_proto_code code;
	struct waiting *w;
	json_t *resp;

	if (cv_proto_parse(body != NULL ? body : "", len, &msg, &code, &err) != 0) {
		reply_proto_error(req, HTTP_BADREQUEST, msg.id, code, err.msg);
	} else if (msg.op == CV_OP_PING) {
		resp = cv_proto_ok(msg.id, "pong", json_pack("{s:s}", "version", CV_VERSION));
		reply_json(req, HTTP_OK, resp);
		json_decref(resp);
	} else if (msg.op != CV_OP_VERIFY) {
		reply_proto_error(req, 403, msg.id, CV_PROTO_FORBIDDEN,
		                  "only verify and ping are served over HTTP; administrative "
		                  "operations need the Unix socket");
	} else if (cv_call_serve_seen(front->engine, &msg, seen_reply, req)) {
		/* answered */
	} else if ((w = waiting_new(front, req, WAIT_VERIFY, verify_done)) == NULL) {
		reply_proto_error(req, HTTP_INTERNAL, msg.id, CV_PROTO_INTERNAL, "out of memory");
	} else if (cv_proto_verify_request(&msg, front->certs, cv_call_request(w->call), &err) !=
	           0) {
		reply_proto_error(req, HTTP_BADREQUEST, msg.id, CV_PROTO_BAD_REQUEST, err.msg);
		waiting_discard(w);
	} else {
		w->detail = cv_call_request(w->call)->detail;
		w->id = json_incref(msg.id);
		waiting_start(w);
	}
	cv_proto_msg_free(&msg);
}

/* ---- /metrics, /healthz ---- */

static void
route_metrics(struct cv_http_front *front, struct evhttp_request *req)
{
	struct evbuffer *body = evbuffer_new();

	if (body == NULL ||
	    cv_metrics_write(body, front->engine, front->calls, &front->counters) != 0) {
		if (body != NULL)
			evbuffer_free(body);
		reply_text(req, HTTP_INTERNAL, "Internal Server Error", "out of memory");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	                  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", body);
	evbuffer_free(body);
}

static void
route_healthz(struct cv_http_front *front, struct evhttp_request *req)
{
	reply_text(req, HTTP_OK, "OK", "ok");
}

/* ---- dispatch ---- */

static void
dispatch_cb(struct evhttp_request *req, void *arg)
{
	struct cv_http_front *front = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	unsigned method = (unsigned)evhttp_request_get_command(req);

	for (size_t i = 0; path != NULL && i < CV_ARRAY_LEN(routes); i++) {
		if (routes[i].prefix ? strncmp(path, routes[i].path, strlen(routes[i].path)) != 0
		                     : strcmp(path, routes[i].path) != 0)
			continue;
		front->counters.requests[routes[i].id]++;
		if (!(routes[i].methods & method)) {
			reply_text(req, 405, "Method Not Allowed", "method not allowed");
			return;
		}
		routes[i].fn(front, req);
		return;
	}
	front->counters.requests[CV_ROUTE_OTHER]++;
	reply_text(req, HTTP_NOTFOUND, "Not Found",
	           "not found; routes: /v1/auth, /v1/verify, /metrics, /healthz");
}

/* ---- listening sockets ---- */

/* ADDRESS:PORT or [ADDRESS]:PORT, as http listen checked it. */
static int
bind_tcp(const char *spec, struct cv_error *err)
{
	struct addrinfo hints = {0}, *res = NULL;
	char host[128];
	const char *colon = strrchr(spec, ':');
	size_t hlen = (size_t)(colon - spec);
	int fd = -1, one = 1, rc;

	if (spec[0] == '[') {
		spec++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host)) {
		cv_error_set(err, "http listen %s: bad address", spec);
		return -1;
	}
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc != 0) {
		cv_error_set(err, "http listen %s: %s", host, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
		cv_error_set(err, "http listen %s port %s: %s", host, colon + 1, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

void
cv_http_listeners_close(struct cv_http_listeners *l)
{
	for (size_t i = 0; i < l->n; i++) {
		close(l->fd[i]);
		if (l->unix_path[i] != NULL)
			unlink(l->unix_path[i]);
		free(l->unix_path[i]);
	}
	memset(l, 0, sizeof(*l));
}

int
cv_http_bind(const struct cv_config *cfg, struct cv_http_listeners *out, struct cv_error *err)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < cfg->n_http_listen && i < CV_HTTP_LISTEN_MAX; i++) {
		const char *spec = cfg->http_listen[i];
		int fd;

		if (strncmp(spec, "unix:", 5) == 0) {
			struct cv_server_opts o = {.socket_path = spec + 5,
			                           .socket_mode = cfg->socket_mode,
			                           .socket_group = cfg->admin_group};

			fd = cv_server_bind(&o, err);
			if (fd >= 0 && (out->unix_path[out->n] = strdup(spec + 5)) == NULL) {
				close(fd);
				unlink(spec + 5);
				cv_error_set(err, "out of memory");
				fd = -1;
			}
		} else {
			fd = bind_tcp(spec, err);
		}
		if (fd < 0) {
			cv_http_listeners_close(out);
			return -1;
		}
		out->fd[out->n++] = fd;
	}
	return 0;
}

static void
accept_error_cb(struct evconnlistener *listener, void *arg)
{
	const int e = errno;

	cv_log_debug("http: accept: %s", strerror(e));
	(void)cv_accept_pause(listener, e);
}

struct cv_http_front *
cv_http_front_new(struct event_base *base, struct cv_engine *engine, struct cv_calls *calls,
                  struct cv_cert_cache *certs, struct cv_http_listeners *l, struct cv_error *err)
{
	const struct cv_config *cfg = cv_engine_config(engine);
	struct cv_http_front *front = calloc(1, sizeof(*front));

	if (front == NULL || (front->http = evhttp_new(base)) == NULL) {
		free(front);
		cv_error_set(err, "out of memory");
		cv_http_listeners_close(l);
		return NULL;
	}
	front->base = base;
	front->engine = engine;
	front->calls = calls;
	front->certs = certs;
	LIST_INIT(&front->waiting);
	evhttp_set_max_headers_size(front->http, (ev_ssize_t)cfg->http_max_header);
	evhttp_set_max_body_size(front->http, (ev_ssize_t)cfg->http_max_body);
	evhttp_set_timeout(front->http, (int)cfg->http_timeout_s);
	evhttp_set_allowed_methods(front->http, ANY_METHOD);
	evhttp_set_gencb(front->http, dispatch_cb, front);
	for (size_t i = 0; i < l->n; i++) {
		struct evhttp_bound_socket *bound =
		    evhttp_accept_socket_with_handle(front->http, l->fd[i]);

		if (bound == NULL) {
			cv_error_set(err, "http: cannot listen on %s", cfg->http_listen[i]);
			cv_http_front_free(front);
			cv_http_listeners_close(l);
			return NULL;
		}
		/* out of descriptors, pause instead of spinning on accept (accept_guard.h) */
		evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(bound),
		                            accept_error_cb);
		l->fd[i] = -1;
		front->unix_path[front->n_unix++] = l->unix_path[i]; /* NULL for TCP */
		l->unix_path[i] = NULL;
		cv_log_notice("http front listening on %s", cfg->http_listen[i]);
	}
	l->n = 0;
	return front;
}

void
cv_http_front_free(struct cv_http_front *front)
{
	struct waiting *w;

	if (front == NULL)
		return;
	while ((w = LIST_FIRST(&front->waiting)) != NULL) {
		cv_call_cancel(w->call);
		if (w->kind == WAIT_AUTH)
			reply_text(w->req, HTTP_SERVUNAVAIL, "Service Unavailable",
			           "shutting down");
		else
			reply_proto_error(w->req, HTTP_SERVUNAVAIL, w->id, CV_PROTO_INTERNAL,
			                  "shutting down");
		waiting_done(w);
	}
	evhttp_free(front->http);
	for (size_t i = 0; i < front->n_unix; i++) {
		if (front->unix_path[i] != NULL && unlink(front->unix_path[i]) != 0 &&
		    errno != ENOENT)
			cv_log_warning("unlink %s: %s", front->unix_path[i], strerror(errno));
		free(front->unix_path[i]);
	}
	free(front);
}
