/*
 * http_front.h: certvald's HTTP listener (libevent's evhttp) for TLS servers that cannot be
 * changed: POST /v1/verify (the socket protocol's verify over HTTP), GET /v1/auth (reverse
 * proxies' auth subrequests: nginx auth_request, Envoy ext_authz, Traefik forwardAuth, Caddy
 * forward_auth), GET /metrics (Prometheus) and GET /healthz. Off unless `http listen` is set.
 */
#ifndef CV_HTTP_FRONT_H
#define CV_HTTP_FRONT_H

#include <stddef.h>

#include "../common/error.h"
#include "../policy/config.h"
#include "../policy/engine.h"
#include "verify_call.h"

struct cv_cert_cache;

struct event_base;
struct cv_http_front;

/* The bound sockets of the `http listen` lines, made before daemonising. */
struct cv_http_listeners {
	int fd[CV_HTTP_LISTEN_MAX];
	char *unix_path[CV_HTTP_LISTEN_MAX]; /* removed at shutdown; NULL for TCP */
	size_t n;
};

/*
 * Binds every `http listen` address of cfg (a Unix socket gets mode and group as the main
 * socket: socket-mode, admin-group). Returns 0 (out->n may be 0: no HTTP front) or -1 with
 * err set and nothing left open.
 */
int cv_http_bind(const struct cv_config *cfg, struct cv_http_listeners *out, struct cv_error *err);
/* Closes what cv_http_bind opened and was not handed to a front. */
void cv_http_listeners_close(struct cv_http_listeners *l);

/*
 * Serves on the listeners (taken over, l is emptied) with the engine, the server's verify
 * calls and its parsed-certificate cache (all borrowed: they outlive the front). NULL with err
 * set on failure.
 */
struct cv_http_front *cv_http_front_new(struct event_base *base, struct cv_engine *engine,
                                        struct cv_calls *calls, struct cv_cert_cache *certs,
                                        struct cv_http_listeners *l, struct cv_error *err);

/*
 * Stops listening, answers 503 to the requests still waiting, removes the Unix socket files.
 * Call before cv_engine_free. NULL is fine.
 */
void cv_http_front_free(struct cv_http_front *front);

#endif
