/*
 * verify_call.h: one verify request, whatever transport carried it (the socket's NDJSON lines,
 * the HTTP front's POST /v1/verify and GET /v1/auth): the engine call, its deadline, and the
 * counters the metrics show (latency histogram, requests in flight). The transports own the
 * framing; this file owns what happens between a parsed request and its verdict.
 *
 * Lifetimes: a call belongs to its transport until cv_call_start succeeds; from then on the
 * done callback runs exactly once (possibly before cv_call_start returns) unless the transport
 * cancels the call first, and the call frees itself after done. A cancelled call lingers
 * until the engine calls back; cv_calls_free releases what the engine never called back.
 */
#ifndef CV_VERIFY_CALL_H
#define CV_VERIFY_CALL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "../common/error.h"
#include "../common/verdict.h"
#include "../ipc/protocol.h"
#include "../policy/engine.h"

struct event_base;
struct cv_calls;
struct cv_call;

/* Where the reply to a seen chain goes: the transport's own writer (resp may be NULL: out of
 * memory). */
typedef void (*cv_seen_reply_fn)(void *to, const json_t *resp);

/*
 * A seen chain (issue 13), answered at once from the verdict cache, keyed by the request's
 * bytes, before any certificate is parsed: reply(to, resp) has run when this returns true.
 * false: not cached, or not a well-formed cacheable request (the transport reads it in full
 * and reports its errors).
 */
bool cv_call_serve_seen(struct cv_engine *engine, struct cv_proto_msg *msg, cv_seen_reply_fn reply,
                        void *to);

/* Upper bounds of the latency histogram, in seconds (fixed buckets, Prometheus "le"). */
#define CV_CALL_BUCKETS 12

struct cv_call_stats {
	uint64_t buckets[CV_CALL_BUCKETS]; /* verdicts at or under each bound (not cumulative) */
	uint64_t count;                    /* verdicts given */
	double sum_s;                      /* their latencies added up, in seconds */
	uint64_t deadline_exceeded;        /* verdicts given by the deadline */
	uint64_t in_flight;                /* calls started and not yet answered */
};

/* The bound of bucket i in seconds (i < CV_CALL_BUCKETS). */
double cv_call_bucket_bound(size_t i);

/* verdict is valid only during the callback. */
typedef void (*cv_call_done_fn)(const struct cv_verdict *verdict, void *arg);

struct cv_calls *cv_calls_new(struct event_base *base, struct cv_engine *engine);
/* After cv_engine_free: frees the calls the engine will never call back. NULL is fine. */
void cv_calls_free(struct cv_calls *calls);
void cv_calls_get_stats(const struct cv_calls *calls, struct cv_call_stats *out);

/* A call with its request initialised (cv_request_init) for the transport to fill. */
struct cv_call *cv_call_new(struct cv_calls *calls, cv_call_done_fn done, void *arg);
struct cv_request *cv_call_request(struct cv_call *call);
/* Frees a call that was never started. */
void cv_call_discard(struct cv_call *call);

/*
 * When the request was received (CLOCK_MONOTONIC), when that was before cv_call_start: the
 * socket reads requests on worker threads, and the time a request waits there counts towards
 * its deadline and its latency. Without it, both count from cv_call_start.
 */
void cv_call_set_received(struct cv_call *call, const struct timespec *received);

/* The request's stage 1, run already on the thread that read it (cv_engine_ahead; NULL: none):
 * the call takes it, and cv_call_start goes on from there. */
void cv_call_set_ahead(struct cv_call *call, struct cv_engine_ahead *ahead);

/*
 * Starts the verification of the call's request with the configured request-timeout. Returns
 * 0 (done will run) or -1 with err set (the engine could not start; the call is still the
 * caller's to discard).
 */
int cv_call_start(struct cv_call *call, struct cv_error *err);

/* The transport is gone: done will not run. */
void cv_call_cancel(struct cv_call *call);

#endif
