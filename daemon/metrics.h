/*
 * metrics.h: the daemon's counters in the Prometheus text exposition format (version 0.0.4),
 * for GET /metrics on the HTTP front. docs/monitoring in README.md lists every metric.
 */
#ifndef CV_METRICS_H
#define CV_METRICS_H

#include <stdint.h>

#include "../policy/engine.h"
#include "verify_call.h"

struct evbuffer;

/* The HTTP front's own counters, by route and by /v1/auth answer. */
enum cv_metrics_route {
	CV_ROUTE_AUTH,
	CV_ROUTE_VERIFY,
	CV_ROUTE_METRICS,
	CV_ROUTE_HEALTHZ,
	CV_ROUTE_OTHER,
	CV_ROUTE_COUNT
};
enum cv_metrics_auth { CV_AUTH_ALLOW, CV_AUTH_DENY, CV_AUTH_UNAVAILABLE, CV_AUTH_COUNT };

struct cv_metrics_http {
	uint64_t requests[CV_ROUTE_COUNT];
	uint64_t auth[CV_AUTH_COUNT]; /* 200, 403, 503 */
};

/*
 * Appends the exposition of the engine's verdict and cache counters, the verify calls'
 * latency histogram and in-flight gauge, the CRL cache and fetcher state per host (labels are
 * host names and fixed words only: never serials or subjects, and at most 64 hosts, the rest
 * under host="other"), and http (may be NULL). Returns 0 or -1 (out of memory).
 */
int cv_metrics_write(struct evbuffer *out, const struct cv_engine *engine,
                     const struct cv_calls *calls, const struct cv_metrics_http *http);

#endif
