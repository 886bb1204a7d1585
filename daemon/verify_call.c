/*
 * verify_call.c: one verify request between its transport and the engine: the deadline (a
 * request-timeout REJECT internal-error verdict when the engine is late), the cancellation by
 * a transport that went away, and the latency and in-flight counters of the metrics.
 */
#include "verify_call.h"

#include <stdbool.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/event.h>

#include "../common/log.h"
#include "../common/util.h"

/* Seconds; chosen around the verdict latencies of the README's benchmarks and fetch timeouts. */
static const double bucket_bounds[CV_CALL_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   1.0,   5.0,  30.0};

struct cv_call {
	struct cv_calls *calls;
	struct cv_request req;
	struct cv_engine_ahead *ahead; /* its stage 1, run where it was read; NULL: none */
	struct event *deadline;
	cv_call_done_fn done; /* NULL once answered or cancelled */
	void *arg;
	unsigned timeout_ms;
	struct timespec started;
	bool in_engine; /* the engine has not called back yet */
	bool received;  /* started holds when the request was received (cv_call_set_received) */
	LIST_ENTRY(cv_call) link;
};

struct cv_calls {
	struct event_base *base;
	struct cv_engine *engine;
	struct cv_call_stats stats;
	LIST_HEAD(, cv_call) started; /* every started call not yet freed */
};

/* The reply to a request answered from the verdict cache, built in its callback. */
struct seen_reply {
	cv_seen_reply_fn reply;
	void *to;
	const json_t *id;
	enum cv_verdict_detail detail;
};

static void
seen_done(const struct cv_verdict *verdict, void *arg)
{
	const struct seen_reply *r = arg;
	json_t *resp = cv_proto_verdict(r->id, verdict, r->detail);

	r->reply(r->to, resp);
	json_decref(resp);
}

bool
cv_call_serve_seen(struct cv_engine *engine, struct cv_proto_msg *msg, cv_seen_reply_fn reply,
                   void *to)
{
	struct seen_reply r = {reply, to, msg->id, CV_VERDICT_DETAIL_TRACE};
	struct cv_request params;
	struct cv_vc_key key;
	bool served = false;

	cv_request_init(&params);
	if (cv_proto_verify_seen_key(msg, &params, &key) == 0) {
		r.detail = params.detail;
		served =
		    cv_engine_serve_seen(engine, &key, r.detail, params.peer_addr, seen_done, &r);
	}
	cv_request_free(&params);
	return served;
}

double
cv_call_bucket_bound(size_t i)
{
	return i < CV_CALL_BUCKETS ? bucket_bounds[i] : 0.0;
}

struct cv_calls *
cv_calls_new(struct event_base *base, struct cv_engine *engine)
{
	struct cv_calls *calls = calloc(1, sizeof(*calls));

	if (calls == NULL)
		return NULL;
	calls->base = base;
	calls->engine = engine;
	LIST_INIT(&calls->started);
	return calls;
}

void
cv_calls_get_stats(const struct cv_calls *calls, struct cv_call_stats *out)
{
	*out = calls->stats;
}

struct cv_call *
cv_call_new(struct cv_calls *calls, cv_call_done_fn done, void *arg)
{
	struct cv_call *call = calloc(1, sizeof(*call));

	if (call == NULL)
		return NULL;
	call->deadline = evtimer_new(calls->base, NULL, NULL);
	if (call->deadline == NULL) {
		free(call);
		return NULL;
	}
	cv_request_init(&call->req);
	call->calls = calls;
	call->done = done;
	call->arg = arg;
	return call;
}

struct cv_request *
cv_call_request(struct cv_call *call)
{
	return &call->req;
}

void
cv_call_discard(struct cv_call *call)
{
	if (call == NULL)
		return;
	cv_request_free(&call->req);
	cv_engine_ahead_free(call->ahead);
	event_free(call->deadline);
	free(call);
}

void
cv_call_set_ahead(struct cv_call *call, struct cv_engine_ahead *ahead)
{
	cv_engine_ahead_free(call->ahead);
	call->ahead = ahead;
}

static void
call_maybe_free(struct cv_call *call)
{
	if (call->in_engine || call->done != NULL)
		return;
	LIST_REMOVE(call, link);
	cv_call_discard(call);
}

static void
record_latency(struct cv_calls *calls, const struct timespec *started)
{
	struct cv_call_stats *st = &calls->stats;
	struct timespec now;
	double s;
	size_t i;

	clock_gettime(CLOCK_MONOTONIC, &now);
	s = (double)(now.tv_sec - started->tv_sec) + (double)(now.tv_nsec - started->tv_nsec) / 1e9;
	for (i = 0; i < CV_CALL_BUCKETS && s > bucket_bounds[i]; i++)
		;
	if (i < CV_CALL_BUCKETS)
		st->buckets[i]++;
	st->count++;
	st->sum_s += s;
}

/* Gives the call's one verdict to its transport. */
static void
call_answer(struct cv_call *call, const struct cv_verdict *v)
{
	cv_call_done_fn done = call->done;

	if (done == NULL)
		return;
	call->done = NULL;
	event_del(call->deadline);
	call->calls->stats.in_flight--;
	record_latency(call->calls, &call->started);
	done(v, call->arg);
}

static void
engine_done(const struct cv_verdict *verdict, void *arg)
{
	struct cv_call *call = arg;

	call->in_engine = false;
	call_answer(call, verdict);
	call_maybe_free(call);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cv_call *call = arg;
	struct cv_verdict v;
	struct cv_failure f;

	cv_verdict_init(&v, call->req.at != CV_TIME_NONE ? call->req.at
	                                                 : cv_engine_now(call->calls->engine));
	cv_failure_set(&f, CV_REASON_INTERNAL_ERROR, "deadline-exceeded", -1, NULL,
	               "deadline exceeded: no verdict within %u ms", call->timeout_ms);
	cv_verdict_reject(&v, &f);
	cv_log_warning("verify: deadline of %u ms exceeded", call->timeout_ms);
	call->calls->stats.deadline_exceeded++;
	call_answer(call, &v);
	cv_verdict_free(&v);
	call_maybe_free(call);
}

void
cv_call_set_received(struct cv_call *call, const struct timespec *received)
{
	call->started = *received;
	call->received = true;
}

/* What is left of the request-timeout since the call started (zero when none is left). */
static struct timeval
time_left(const struct cv_call *call)
{
	struct timespec now;
	int64_t left_us = (int64_t)call->timeout_ms * 1000;

	clock_gettime(CLOCK_MONOTONIC, &now);
	left_us -= ((int64_t)now.tv_sec - call->started.tv_sec) * 1000000 +
	           (now.tv_nsec - call->started.tv_nsec) / 1000;
	if (left_us < 0)
		left_us = 0;
	return (struct timeval){.tv_sec = (time_t)(left_us / 1000000),
	                        .tv_usec = (suseconds_t)(left_us % 1000000)};
}

/* The engine takes the request on: after its stage 1 when it ran ahead, else from the start. */
static int
call_verify(struct cv_call *call)
{
	struct cv_engine_ahead *ahead = call->ahead;

	if (ahead == NULL)
		return cv_engine_verify(call->calls->engine, &call->req, engine_done, call);
	call->ahead = NULL; /* the engine's now */
	return cv_engine_verify_ahead(call->calls->engine, ahead, engine_done, call);
}

int
cv_call_start(struct cv_call *call, struct cv_error *err)
{
	struct cv_calls *calls = call->calls;
	struct timeval tv;

	call->timeout_ms = cv_engine_config(calls->engine)->request_timeout_ms;
	if (!call->received)
		clock_gettime(CLOCK_MONOTONIC, &call->started);
	tv = time_left(call);
	event_assign(call->deadline, calls->base, -1, 0, deadline_cb, call);
	LIST_INSERT_HEAD(&calls->started, call, link);
	calls->stats.in_flight++;
	evtimer_add(call->deadline, &tv);
	call->in_engine = true;
	/* The engine may call back before it returns, and the call may then be gone. */
	if (call_verify(call) != 0) {
		call->in_engine = false;
		event_del(call->deadline);
		calls->stats.in_flight--;
		LIST_REMOVE(call, link);
		cv_error_set(err, "the engine could not start the verification");
		return -1;
	}
	return 0;
}

void
cv_call_cancel(struct cv_call *call)
{
	if (call->done == NULL)
		return;
	call->done = NULL;
	event_del(call->deadline);
	call->calls->stats.in_flight--;
	call_maybe_free(call);
}

void
cv_calls_free(struct cv_calls *calls)
{
	struct cv_call *call;

	if (calls == NULL)
		return;
	while ((call = LIST_FIRST(&calls->started)) != NULL) {
		/* the engine is gone: it will never call back */
		call->in_engine = false;
		call->done = NULL;
		call_maybe_free(call);
	}
	free(calls);
}
