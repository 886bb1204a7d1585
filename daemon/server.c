/*
 * server.c: the daemon's connections: newline framing with a size cap, pipelined requests
 * answered in any order, deadlines, bounded output, and the dispatch of each operation.
 *
 * What runs where (issue 13): the loop frames the lines of a connection and hands them, up to
 * CV_DECODE_BATCH_MAX at a time, as one batch to the engine's worker threads (decode.c), which
 * parse the JSON, answer seen chains from the verdict cache with their reply rendered, and read
 * the requests to evaluate; while at it, they build and validate a new chain's path (the
 * engine's stage 1, decode.h), so that the chain goes through the pool once. Back on the loop,
 * batch_done dispatches the items in their order: it writes the ready replies and counts them
 * (the engine's statistics are the loop's), starts the evaluations, and runs every other
 * operation exactly as a line read on the loop. The reply to an evaluated chain is rendered on
 * a worker too (render.c), from a copy of its verdict, unless it is the verdict alone (detail
 * verdict), which costs less than a trip through the pool. For the same reason the loop itself
 * answers the seen lines of a batch of a few lines (cv_decode_batch_seen: a line read before,
 * its verdict in the cache), up to the first line that is not one; the rest goes to a worker.
 * One batch per connection at a time, so requests are dispatched in the order they came.
 * Without worker threads (`workers 0`), or when their queue is full, the batch is read and the
 * reply rendered on the loop: nothing is refused. The HTTP front (http_front.c) still reads its
 * requests and renders its replies on the loop.
 *
 * Lifetimes: a connection owns the requests it has not been answered yet (its pending list);
 * each holds a verify call (verify_call.c: engine, deadline, counters), which the connection
 * cancels when it goes away, so that late verdicts are dropped, or, once the engine answered,
 * the job rendering its reply, which it abandons. It also owns the batch out on a worker, which
 * it abandons when it goes away (the pool then frees it, and batch_done never runs). Code that
 * may close a connection from inside a callback holds conn->busy so that the memory stays
 * valid until the outermost caller lets go.
 */
#include "server.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "../common/log.h"
#include "../common/util.h"
#include "../common/worker.h"
#include "accept_guard.h"
#include "admin.h"
#include "allocator.h"
#include "decode.h"
#include "render.h"
#include "events.h"
#include "../ipc/protocol.h"
#include "../ipc/verdict_json.h"
#include "verify_call.h"

#ifndef CV_VERSION
#define CV_VERSION "unknown"
#endif

#define OUTPUT_MAX   (16u << 20) /* pending output of one connection before it is dropped */
#define INFLIGHT_MAX 256         /* unanswered requests per connection before reading pauses */
#define EVENTS_LOW   (64u << 10) /* a subscriber's events wait while more output is pending */
#define FD_RESERVE   64          /* descriptors kept for fetches, files and the HTTP front */

struct pending;

struct conn {
	struct cv_server *srv;
	struct bufferevent *bev; /* NULL once closed */
	uid_t uid;
	gid_t gid;
	pid_t pid;
	LIST_HEAD(, pending) pending; /* unanswered requests */
	size_t n_inflight;
	unsigned busy; /* callers up the stack still using this struct */
	bool dead;     /* closed; freed when busy drops to 0 */
	bool eof;      /* the peer shut down its side: answer what is in flight, then close */
	bool closing;  /* a final error is queued: close once it is written */
	bool paused;   /* reading stopped: too many requests in flight */
	bool held;     /* reading stopped: a batch is out and a request's worth waits already */
	struct cv_decode_batch *batch; /* lines out on a worker, or NULL */
	struct cv_worker_task *batch_task;
	struct cv_subscription *sub; /* revocation events (issue 16), or NULL */
	LIST_ENTRY(conn) link;
};

/* A verify request of a connection, until its reply is queued. */
struct pending {
	struct conn *conn;
	json_t *id;
	struct cv_call *call;          /* NULL once the engine answered (the call is gone) */
	struct cv_worker_task *render; /* its reply being rendered on a worker, or NULL */
	enum cv_verdict_detail detail; /* how much of the verdict the client asked for */
	LIST_ENTRY(pending) conn_link;
};

struct cv_server {
	struct event_base *base;
	struct cv_engine *engine;
	struct cv_admin *admin;      /* views, clear actions, expiry notices */
	struct cv_calls *calls;      /* verify requests of every transport */
	struct cv_cert_cache *certs; /* parse once: certificates of requests, by DER digest */
	struct cv_seen_lines *lines; /* read once: verify request lines, by their bytes */
	struct cv_line_templates *templates; /* verify lines read before, but for their leaf */
	struct cv_events *events;            /* subscriptions to revocation events (issue 16) */
	struct evconnlistener *listener;
	char *config_path;
	char *socket_path;
	bool test_clock;
	unsigned test_read_delay_ms; /* tests: cv_decode_batch.test_delay_ms */
	struct timespec started;
	LIST_HEAD(, conn) conns;
	size_t n_conns;
	unsigned long n_refused; /* connections refused beyond max-connections */
	uint64_t seen_on_loop;   /* seen lines answered by the loop (cv_decode_batch_seen) */
	size_t fd_cap;           /* connections the open-files limit leaves room for */
	unsigned long n_accept_errors;
};

static void process_input(struct conn *c);

/* ---- connections ---- */

static void
conn_close(struct conn *c)
{
	struct pending *p;

	if (c->dead)
		return;
	c->dead = true;
	if (c->batch != NULL) { /* the pool frees it; batch_done will not run */
		cv_log_debug("connection of pid %ld closed while %zu lines were read; dropped",
		             (long)c->pid, c->batch->n);
		cv_worker_abandon(c->batch_task);
	}
	c->batch = NULL;
	cv_events_unsubscribe(c->sub);
	c->sub = NULL;
	while ((p = LIST_FIRST(&c->pending)) != NULL) {
		LIST_REMOVE(p, conn_link);
		if (p->render != NULL) /* the pool frees the job; render_done will not run */
			cv_worker_abandon(p->render);
		else
			cv_call_cancel(p->call); /* nobody left to answer */
		json_decref(p->id);
		free(p);
	}
	bufferevent_free(c->bev);
	c->bev = NULL;
	LIST_REMOVE(c, link);
	c->srv->n_conns--;
	if (c->busy == 0)
		free(c);
}

static void
conn_hold(struct conn *c)
{
	c->busy++;
}

static void
conn_release(struct conn *c)
{
	if (--c->busy == 0 && c->dead)
		free(c);
}

/* Closes the connection once nothing more is owed to the peer. */
static void
conn_maybe_finish(struct conn *c)
{
	if (c->dead || !(c->closing || c->eof) || c->batch != NULL)
		return;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
		return;
	if (c->closing || c->n_inflight == 0)
		conn_close(c);
}

/* Queues one encoded reply (text NULL: it could not be encoded, out of memory). */
static void
send_text(struct conn *c, const char *text, size_t len)
{
	struct evbuffer *out;

	if (c->dead)
		return;
	if (text == NULL) {
		cv_log_err("out of memory encoding a response; closing the connection");
		conn_close(c);
		return;
	}
	out = bufferevent_get_output(c->bev);
	/* Nothing queued before it: written at once, as far as the socket takes it. That spares
	 * the loop enabling and then disabling the write event for every reply; what the socket
	 * does not take (or an error, which the bufferevent then reports) is queued as before. */
	if (evbuffer_get_length(out) == 0) {
		const ssize_t n =
		    send(bufferevent_getfd(c->bev), text, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n == (ssize_t)len)
			return;
		if (n > 0) {
			text += n;
			len -= (size_t)n;
		}
	}
	if (evbuffer_add(out, text, len) != 0 || evbuffer_get_length(out) > OUTPUT_MAX) {
		cv_log_warning("client pid %ld uid %ld does not read its replies; disconnecting",
		               (long)c->pid, (long)c->uid);
		conn_close(c);
	}
}

static void
send_json(struct conn *c, const json_t *resp)
{
	size_t len = 0;
	char *text;

	if (c->dead)
		return;
	text = resp != NULL ? cv_proto_encode(resp, &len) : NULL;
	send_text(c, text, len);
	free(text);
}

static void
send_error(struct conn *c, const json_t *id, enum cv_proto_code code, const char *message)
{
	json_t *resp = cv_proto_error(id, code, message);

	cv_log_debug("request from pid %ld: %s: %s", (long)c->pid, cv_proto_code_name(code),
	             message);
	send_json(c, resp);
	json_decref(resp);
}

static void
conn_resume(struct conn *c)
{
	if (c->dead || !c->paused || c->n_inflight >= INFLIGHT_MAX / 2)
		return;
	c->paused = false;
	if (!c->eof && !c->closing && !c->held)
		bufferevent_enable(c->bev, EV_READ);
	if (c->busy == 1) /* not already inside process_input for this connection */
		process_input(c);
}

/* ---- requests in flight ---- */

/* Sends the one reply of a request, encoded (text NULL: out of memory), and frees it. */
static void
pending_answer_text(struct pending *p, const char *text, size_t len)
{
	struct conn *c = p->conn;

	LIST_REMOVE(p, conn_link);
	c->n_inflight--;
	json_decref(p->id);
	free(p);
	conn_hold(c);
	send_text(c, text, len);
	conn_resume(c);
	conn_maybe_finish(c);
	conn_release(c);
}

/* The same from the reply's JSON (resp may be NULL: out of memory). */
static void
pending_answer(struct pending *p, const json_t *resp)
{
	size_t len = 0;
	char *text = resp != NULL ? cv_proto_encode(resp, &len) : NULL;

	pending_answer_text(p, text, len);
	free(text);
}

/* On the loop, the reply rendered by a worker. */
static void
render_done(void *job)
{
	const struct cv_render *r = job;
	struct pending *p = r->owner;

	p->render = NULL;
	pending_answer_text(p, r->text, r->len);
}

/*
 * The engine's verdict: its reply is rendered on a worker from a copy (render.c), or here when
 * it is the verdict alone (a few members: cheaper than a trip through the pool), when there is
 * no worker, the queue is full or memory is short.
 */
static void
verify_done(const struct cv_verdict *verdict, void *arg)
{
	struct pending *p = arg;
	struct cv_worker_pool *pool = cv_engine_pool(p->conn->srv->engine);
	struct cv_render *r = pool != NULL && p->detail != CV_VERDICT_DETAIL_VERDICT
	                          ? cv_render_new(verdict, p->id, p->detail, p)
	                          : NULL;
	json_t *resp;

	p->call = NULL; /* it frees itself after this callback */
	if (r != NULL &&
	    cv_worker_submit(pool, cv_render_run, render_done, cv_render_free, r, &p->render) == 0)
		return;
	cv_render_free(r);
	resp = cv_proto_verdict(p->id, verdict, p->detail);
	pending_answer(p, resp);
	json_decref(resp);
}

/* A seen chain's reply, written to its connection (cv_call_serve_seen). */
static void
seen_reply(void *to, const json_t *resp)
{
	send_json(to, resp);
}

/* A request in flight for call, whose request is read: starts its evaluation. */
static void
pending_start(struct conn *c, struct pending *p, struct cv_call *call, json_t *id)
{
	struct cv_error err = {""};

	p->id = json_incref(id);
	p->conn = c;
	p->call = call;
	LIST_INSERT_HEAD(&c->pending, p, conn_link);
	c->n_inflight++;
	/* verify_done may run before cv_call_start returns and free p: do not touch it. */
	if (cv_call_start(call, &err) != 0) {
		json_t *resp = cv_proto_error(p->id, CV_PROTO_INTERNAL, err.msg);

		cv_call_discard(call);
		pending_answer(p, resp);
		json_decref(resp);
	}
}

static void
start_verify(struct conn *c, struct cv_proto_msg *msg)
{
	struct cv_error err = {""};
	struct pending *p;
	struct cv_call *call;

	if (cv_call_serve_seen(c->srv->engine, msg, seen_reply, c))
		return;
	p = calloc(1, sizeof(*p));
	call = p != NULL ? cv_call_new(c->srv->calls, verify_done, p) : NULL;
	if (call == NULL) {
		free(p);
		send_error(c, msg->id, CV_PROTO_INTERNAL, "out of memory");
		return;
	}
	if (cv_proto_verify_request(msg, c->srv->certs, cv_call_request(call), &err) != 0) {
		send_error(c, msg->id, CV_PROTO_BAD_REQUEST, err.msg);
		cv_call_discard(call);
		free(p);
		return;
	}
	p->detail = cv_call_request(call)->detail;
	pending_start(c, p, call, msg->id);
}

/* A verify request read on a worker (decode.c): its request moves into the call. */
static void
start_prepared(struct conn *c, const struct cv_decode_batch *b, struct cv_decode_item *it)
{
	struct pending *p = calloc(1, sizeof(*p));
	struct cv_call *call = p != NULL ? cv_call_new(c->srv->calls, verify_done, p) : NULL;

	if (call == NULL) {
		free(p);
		send_error(c, it->msg.id, CV_PROTO_INTERNAL, "out of memory");
		return;
	}
	p->detail = it->req.detail;
	*cv_call_request(call) = it->req; /* the call's was only initialised: nothing lost */
	cv_request_init(&it->req);
	cv_call_set_ahead(call, it->ahead); /* stage 1, when the worker ran it */
	it->ahead = NULL;
	cv_call_set_received(call, &b->received); /* the time on the worker counts */
	pending_start(c, p, call, it->msg.id);
}

/* ---- revocation events (issue 16) ---- */

static bool
events_room(void *arg)
{
	const struct conn *c = arg;

	return !c->dead && evbuffer_get_length(bufferevent_get_output(c->bev)) < EVENTS_LOW;
}

/* An event line: only written below EVENTS_LOW, so it never closes the connection. */
static void
events_write(void *arg, const json_t *event)
{
	struct conn *c = arg;
	size_t len = 0;
	char *text = cv_proto_encode(event, &len);

	if (text != NULL && !c->dead)
		evbuffer_add(bufferevent_get_output(c->bev), text, len);
	free(text);
}

static const struct cv_subscriber_io events_io = {events_room, events_write};

static void
op_subscribe(struct conn *c, const struct cv_proto_msg *msg)
{
	const struct cv_config *cfg = cv_engine_config(c->srv->engine);
	struct cv_error err = {""};
	bool limit = false;
	json_t *resp;

	if (c->sub != NULL) {
		send_error(c, msg->id, CV_PROTO_BAD_REQUEST,
		           "this connection is subscribed already; open another one");
		return;
	}
	c->sub = cv_events_subscribe(c->srv->events, msg->root, c->uid,
	                             cv_server_peer_is_admin(c->uid, c->gid, cfg->admin_group),
	                             &events_io, c, &limit, &err);
	if (c->sub == NULL) {
		send_error(c, msg->id, limit ? CV_PROTO_FORBIDDEN : CV_PROTO_BAD_REQUEST, err.msg);
		return;
	}
	cv_log_info("pid %ld uid %ld subscribed to revocation events", (long)c->pid, (long)c->uid);
	resp = cv_proto_ok(msg->id, "subscribed", cv_subscription_json(c->sub));
	send_json(c, resp);
	json_decref(resp);
}

/* ---- administrative operations ---- */

static json_t *
status_json(const struct cv_server *srv)
{
	const struct cv_config *cfg = cv_engine_config(srv->engine);
	json_t *tps = json_array();
	struct cv_cert_cache_stats cs;
	struct timespec now;
	struct cv_events_stats ev;
	uint64_t line_hits, template_hits;
	size_t lines_kept, templates_kept;

	for (size_t i = 0; tps != NULL && i < cfg->n_trustpoints; i++)
		json_array_append_new(tps, json_string(cfg->trustpoints[i].name));
	clock_gettime(CLOCK_MONOTONIC, &now);
	cv_cert_cache_get_stats(srv->certs, &cs);
	cv_events_get_stats(srv->events, &ev);
	cv_seen_lines_counts(srv->lines, &line_hits, &lines_kept);
	cv_line_templates_counts(srv->templates, &template_hits, &templates_kept);
	return json_pack(
	    "{s:s, s:I, s:s?, s:o, s:o, s:o, s:I, s:I, s:I, s:s, s:{s:I, s:I, s:I, s:I}, "
	    "s:{s:I, s:I, s:I}, s:{s:I, s:I}, s:{s:I, s:I, s:I}}",
	    "version", CV_VERSION, "uptime", (json_int_t)(now.tv_sec - srv->started.tv_sec),
	    "config", srv->config_path, "now", cv_json_time(cv_engine_now(srv->engine)),
	    "trustpoints", tps, "stats", cv_admin_engine_stats(srv->engine), "connections",
	    (json_int_t)srv->n_conns, "connections_refused", (json_int_t)srv->n_refused, "workers",
	    (json_int_t)cv_engine_workers(srv->engine), "allocator", cv_allocator_name(),
	    "parsed_certificates", "hits", (json_int_t)cs.hits, "text_hits",
	    (json_int_t)cs.text_hits, "misses", (json_int_t)cs.misses, "kept", (json_int_t)cs.certs,
	    "seen_lines", "hits", (json_int_t)line_hits, "kept", (json_int_t)lines_kept, "on_loop",
	    (json_int_t)srv->seen_on_loop, "line_templates", "hits", (json_int_t)template_hits,
	    "kept", (json_int_t)templates_kept, "events", "subscribers", (json_int_t)ev.subscribers,
	    "sent", (json_int_t)ev.sent, "lost", (json_int_t)ev.lost);
}

static int
reload_config(struct cv_server *srv, json_t *warnings, struct cv_error *err)
{
	struct cv_config *cfg = NULL;
	struct stat st;

	/* An empty file is a configuration half written (truncated, then not yet filled), not
	 * the wish to drop every trustpoint: refused like an invalid one. */
	if (stat(srv->config_path, &st) == 0 && st.st_size == 0) {
		cv_error_set(err, "%s is empty", srv->config_path);
		cv_log_err("reload failed, keeping the running configuration: %s", err->msg);
		return -1;
	}
	if (cv_config_load(srv->config_path, &cfg, err) != 0) {
		cv_log_err("reload failed, keeping the running configuration: %s", err->msg);
		return -1;
	}
	for (size_t i = 0; i < cfg->n_warnings; i++) {
		char line[320];

		snprintf(line, sizeof(line), "%s:%u: %s", srv->config_path, cfg->warnings[i].line,
		         cfg->warnings[i].text);
		cv_log_warning("%s", line);
		if (warnings != NULL)
			json_array_append_new(warnings, json_string(line));
	}
	if (cfg->socket_path != NULL && strcmp(cfg->socket_path, srv->socket_path) != 0)
		cv_log_notice("socket path changes take effect at restart (still %s)",
		              srv->socket_path);
	if (cfg->workers != cv_engine_config(srv->engine)->workers)
		cv_log_notice("workers changes take effect at restart (still %u threads)",
		              cv_engine_workers(srv->engine));
	cv_engine_set_config(srv->engine, cfg);
	cv_config_unref(cfg);
	cv_log_notice("configuration reloaded from %s", srv->config_path);
	cv_admin_check_expiry(srv->admin);
	return 0;
}

int
cv_server_reload(struct cv_server *srv, struct cv_error *err)
{
	return reload_config(srv, NULL, err);
}

static void
op_reload(struct conn *c, const json_t *id)
{
	struct cv_error err = {""};
	json_t *warnings = json_array();
	json_t *resp;

	if (reload_config(c->srv, warnings, &err) != 0) {
		json_decref(warnings);
		send_error(c, id, CV_PROTO_CONFIG_ERROR, err.msg);
		return;
	}
	resp = cv_proto_ok(
	    id, "reload",
	    json_pack("{s:s, s:o}", "config", c->srv->config_path, "warnings", warnings));
	send_json(c, resp);
	json_decref(resp);
}

static void
op_clock(struct conn *c, const json_t *root, const json_t *id)
{
	struct cv_error err = {""};
	int64_t offset;
	json_t *resp;

	if (cv_proto_clock_offset(root, &offset, &err) != 0) {
		send_error(c, id, CV_PROTO_BAD_REQUEST, err.msg);
		return;
	}
	cv_engine_set_clock_offset(c->srv->engine, offset);
	cv_log_notice("clock offset set to %lld s by pid %ld", (long long)offset, (long)c->pid);
	cv_admin_check_expiry(c->srv->admin);
	cv_engine_refresh_now(c->srv->engine); /* timers run on the moved clock too */
	resp = cv_proto_ok(id, "clock",
	                   json_pack("{s:I, s:o}", "offset", (json_int_t)offset, "now",
	                             cv_json_time(cv_engine_now(c->srv->engine))));
	send_json(c, resp);
	json_decref(resp);
}

/* show, clear and stats: the request's fields, then the view or action of admin.c. */
static void
op_admin(struct conn *c, const struct cv_proto_msg *msg)
{
	enum cv_proto_code code = CV_PROTO_BAD_REQUEST;
	struct cv_proto_admin_req req;
	struct cv_error err = {""};
	json_t *result = NULL, *resp;
	const char *key = "stats";

	switch (msg->op) {
	case CV_OP_SHOW:
		key = "show";
		if (cv_proto_show_request(msg->root, &req, &err) == 0)
			result = cv_admin_show(c->srv->admin, &req, &code, &err);
		break;
	case CV_OP_CLEAR:
		key = "clear";
		if (cv_proto_clear_request(msg->root, &req, &err) == 0) {
			cv_log_notice("clear %s requested by uid %ld pid %ld",
			              cv_proto_view_name(req.what), (long)c->uid, (long)c->pid);
			result = cv_admin_clear(c->srv->admin, &req, &code, &err);
		}
		break;
	case CV_OP_CRL_REQUEST:
		key = "crl-request";
		if (cv_proto_crl_request(msg->root, &req, &err) != 0)
			break;
		if (cv_config_trustpoint(cv_engine_config(c->srv->engine), req.trustpoint) ==
		    NULL) {
			cv_error_set(&err, "trustpoint %s is not configured", req.trustpoint);
			break;
		}
		cv_log_notice("crl-request %s by uid %ld pid %ld", req.trustpoint, (long)c->uid,
		              (long)c->pid);
		result = json_pack("{s:s, s:i}", "trustpoint", req.trustpoint, "started",
		                   cv_engine_crl_request(c->srv->engine, req.trustpoint));
		code = CV_PROTO_INTERNAL;
		break;
	default:
		if (cv_proto_stats_request(msg->root, &err) == 0) {
			result = cv_admin_stats(c->srv->admin);
			code = CV_PROTO_INTERNAL;
			if (result == NULL)
				cv_error_set(&err, "out of memory");
		}
		break;
	}
	if (result == NULL) {
		send_error(c, msg->id, code, err.msg);
		return;
	}
	resp = cv_proto_ok(msg->id, key, result);
	send_json(c, resp);
	json_decref(resp);
}

static void
dispatch(struct conn *c, struct cv_proto_msg *msg)
{
	const struct cv_config *cfg = cv_engine_config(c->srv->engine);
	json_t *resp;

	switch (msg->op) {
	case CV_OP_VERIFY:
		start_verify(c, msg);
		return;
	case CV_OP_PING:
		resp = cv_proto_ok(msg->id, "pong", json_pack("{s:s}", "version", CV_VERSION));
		send_json(c, resp);
		json_decref(resp);
		return;
	case CV_OP_SUBSCRIBE:
		op_subscribe(c, msg);
		return;
	default:
		break;
	}
	if (msg->op == CV_OP_CLOCK && !c->srv->test_clock) {
		send_error(c, msg->id, CV_PROTO_FORBIDDEN,
		           "the clock operation needs certvald --test-clock");
		return;
	}
	if (!cv_server_peer_is_admin(c->uid, c->gid, cfg->admin_group)) {
		cv_log_notice("administrative request refused for uid %ld pid %ld", (long)c->uid,
		              (long)c->pid);
		send_error(c, msg->id, CV_PROTO_FORBIDDEN,
		           "administrative operations need root, the daemon's user or the admin "
		           "group");
		return;
	}
	switch (msg->op) {
	case CV_OP_STATUS:
		resp = cv_proto_ok(msg->id, "status", status_json(c->srv));
		send_json(c, resp);
		json_decref(resp);
		break;
	case CV_OP_RELOAD:
		op_reload(c, msg->id);
		break;
	case CV_OP_CLOCK:
		op_clock(c, msg->root, msg->id);
		break;
	case CV_OP_SHOW:
	case CV_OP_CLEAR:
	case CV_OP_STATS:
	case CV_OP_CRL_REQUEST:
		op_admin(c, msg);
		break;
	default:
		send_error(c, msg->id, CV_PROTO_INTERNAL, "unhandled operation");
		break;
	}
}

/* A verify answered from the verdict cache on a worker (or on the loop: on_loop): sent and
 * counted, unless what the cache is checked against moved since the lookup (then decided
 * again, as a new request). */
static void
serve_decoded_seen(struct conn *c, const struct cv_decode_batch *b, struct cv_decode_item *it,
                   bool on_loop)
{
	if (!cv_engine_seen_current(c->srv->engine, &b->state)) {
		if (cv_decode_item_read(b, it) != 0)
			send_error(c, NULL, it->code, it->err.msg);
		else
			start_verify(c, &it->msg);
		return;
	}
	cv_engine_count_seen(c->srv->engine, &it->outcome, it->req.peer_addr);
	c->srv->seen_on_loop += on_loop;
	send_text(c, it->reply, it->reply_len);
}

static void
dispatch_item(struct conn *c, const struct cv_decode_batch *b, struct cv_decode_item *it,
              bool on_loop)
{
	switch (it->kind) {
	case CV_DECODE_EMPTY:
		break;
	case CV_DECODE_ERROR:
		send_error(c, it->msg.id, it->code, it->err.msg);
		break;
	case CV_DECODE_OP:
		dispatch(c, &it->msg);
		break;
	case CV_DECODE_SEEN:
		serve_decoded_seen(c, b, it, on_loop);
		break;
	case CV_DECODE_PREPARED:
		start_prepared(c, b, it);
		break;
	case CV_DECODE_BAD:
		send_error(c, it->msg.id, CV_PROTO_BAD_REQUEST, it->err.msg);
		break;
	}
}

/* The items of a read batch, in order, until the connection goes. */
static void
batch_dispatch(struct conn *c, struct cv_decode_batch *b)
{
	for (size_t i = 0; i < b->n && !c->dead; i++)
		dispatch_item(c, b, &b->items[i], i < b->decided);
}

/* The line cannot be framed: say so and close. */
static void
too_large(struct conn *c, size_t max)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "request longer than %zu bytes; closing the connection", max);
	send_error(c, NULL, CV_PROTO_TOO_LARGE, msg);
	if (c->dead)
		return;
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	evbuffer_drain(bufferevent_get_input(c->bev), (size_t)-1);
}

/*
 * Takes up to limit complete lines of the input into a new batch (NULL: none complete, or the
 * connection is closing). A line longer than max is refused (too_large) once the lines before
 * it are answered: it ends the batch, and the next call finds it first.
 */
static struct cv_decode_batch *
frame_batch(struct conn *c, size_t max, size_t limit)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t lens[CV_DECODE_BATCH_MAX], n = 0, taken = 0;
	struct cv_decode_batch *b;
	struct evbuffer_ptr pos;

	evbuffer_ptr_set(in, &pos, 0, EVBUFFER_PTR_SET);
	while (n < limit && n < CV_DECODE_BATCH_MAX) {
		size_t eol_len = 0;
		struct evbuffer_ptr eol = evbuffer_search_eol(in, &pos, &eol_len, EVBUFFER_EOL_LF);

		if (eol.pos < 0 || (size_t)(eol.pos - pos.pos) > max) {
			if (n == 0 && (eol.pos >= 0 || evbuffer_get_length(in) > max))
				too_large(c, max);
			break;
		}
		lens[n++] = (size_t)(eol.pos - pos.pos);
		taken = (size_t)eol.pos + eol_len;
		if (evbuffer_ptr_set(in, &pos, taken, EVBUFFER_PTR_SET) != 0)
			break;
	}
	if (n == 0)
		return NULL;
	b = cv_decode_batch_new(c->srv->engine, c->srv->certs, c->srv->lines, c, lens, n);
	if (b == NULL || evbuffer_remove(in, b->text, taken) != (int)taken) {
		cv_decode_batch_free(b);
		conn_close(c);
		return NULL;
	}
	b->templates = c->srv->templates;
	return b;
}

/* On the loop, the batch read by a worker: its items dispatched, then the next lines. */
static void
batch_done(void *job)
{
	struct cv_decode_batch *b = job;
	struct conn *c = b->owner;

	c->batch = NULL;
	conn_hold(c);
	batch_dispatch(c, b);
	if (!c->dead && c->held) {
		c->held = false;
		if (!c->paused && !c->eof && !c->closing)
			bufferevent_enable(c->bev, EV_READ);
	}
	if (!c->dead)
		process_input(c);
	conn_release(c);
}

/* Hands b to a worker; false: no worker or a full queue (the caller reads it on the loop). */
static bool
batch_submit(struct conn *c, struct cv_decode_batch *b)
{
	struct cv_worker_pool *pool = cv_engine_pool(c->srv->engine);

	if (pool == NULL)
		return false;
	b->pool = pool; /* on a thread of it: new chains validated there too */
	b->test_delay_ms = c->srv->test_read_delay_ms;
	if (cv_worker_submit(pool, cv_decode_batch_run, batch_done, cv_decode_batch_free, b,
	                     &c->batch_task) != 0) {
		b->pool = NULL;
		b->test_delay_ms = 0;
		return false;
	}
	c->batch = b;
	return true;
}

/* While a batch is out, the input waits; beyond a request's worth, reading stops too. */
static void
hold_if_full(struct conn *c, size_t max)
{
	if (c->dead || c->held || evbuffer_get_length(bufferevent_get_input(c->bev)) <= max)
		return;
	c->held = true;
	bufferevent_disable(c->bev, EV_READ);
}

static void
process_input(struct conn *c)
{
	size_t max = cv_engine_config(c->srv->engine)->max_request_bytes;

	conn_hold(c);
	while (!c->dead && !c->closing && c->batch == NULL && c->n_inflight < INFLIGHT_MAX) {
		struct cv_decode_batch *b = frame_batch(c, max, INFLIGHT_MAX - c->n_inflight);

		if (b == NULL)
			break;
		/* a small batch of seen lines is answered here; tests that delay the workers'
		 * reading (--test-read-delay) keep every batch on them */
		if ((c->srv->test_read_delay_ms > 0 || !cv_decode_batch_seen(b)) &&
		    batch_submit(c, b))
			break;
		cv_decode_batch_run(b);
		batch_dispatch(c, b);
		cv_decode_batch_free(b);
	}
	if (c->batch != NULL)
		hold_if_full(c, max);
	if (!c->dead && c->n_inflight >= INFLIGHT_MAX && !c->paused) {
		c->paused = true;
		bufferevent_disable(c->bev, EV_READ);
	}
	conn_maybe_finish(c);
	conn_release(c);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	process_input(arg);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->sub != NULL)
		cv_events_flush(c->sub);
	conn_maybe_finish(c);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (what & BEV_EVENT_ERROR) {
		conn_close(c);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		c->eof = true;
		bufferevent_disable(c->bev, EV_READ);
		conn_maybe_finish(c);
	}
}

/*
 * Beyond max-connections a client gets one "busy" error line and the connection is closed,
 * so that file descriptors are never exhausted and the client knows why. The line is short
 * and the socket new: it fits its buffer, so the non-blocking send never waits.
 */
static bool
refuse_if_full(struct cv_server *srv, evutil_socket_t fd)
{
	const size_t configured = cv_engine_config(srv->engine)->max_connections;
	const size_t max = configured < srv->fd_cap ? configured : srv->fd_cap;
	json_t *resp;
	char msg[128], *text;
	size_t len = 0;

	if (srv->n_conns < max)
		return false;
	snprintf(msg, sizeof(msg), "too many connections (%s %zu); try again later",
	         max == configured ? "max-connections" : "open-files limit allows", max);
	resp = cv_proto_error(NULL, CV_PROTO_BUSY, msg);
	text = resp != NULL ? cv_proto_encode(resp, &len) : NULL;
	if (text != NULL && send(fd, text, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		cv_log_debug("busy reply not sent: %s", strerror(errno));
	free(text);
	json_decref(resp);
	srv->n_refused++;
	if (srv->n_refused == 1 || srv->n_refused % 1000 == 0)
		cv_log_warning("%s %zu reached: %lu connections refused so far",
		               max == configured ? "max-connections" : "open-files limit allows",
		               max, srv->n_refused);
	evutil_closesocket(fd);
	return true;
}

static void
accept_cb(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa, int socklen,
          void *arg)
{
	struct cv_server *srv = arg;
	struct ucred cred;
	socklen_t cred_len = sizeof(cred);
	struct conn *c;

	if (refuse_if_full(srv, fd))
		return;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) != 0) {
		cv_log_warning("SO_PEERCRED: %s; refusing the connection", strerror(errno));
		evutil_closesocket(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		evutil_closesocket(fd);
		return;
	}
	c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	c->srv = srv;
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->pid = cred.pid;
	LIST_INIT(&c->pending);
	LIST_INSERT_HEAD(&srv->conns, c, link);
	srv->n_conns++;
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	cv_log_debug("connection from pid %ld uid %ld gid %ld", (long)c->pid, (long)c->uid,
	             (long)c->gid);
}

/*
 * accept() failed: out of descriptors (the HTTP front and fetches share them), the listener
 * pauses instead of spinning (accept_guard.h). The first error of a run is logged, then one in
 * a thousand.
 */
static void
accept_error_cb(struct evconnlistener *listener, void *arg)
{
	struct cv_server *srv = arg;
	const int e = errno;

	if (srv->n_accept_errors++ % 1000 == 0)
		cv_log_warning("accept: %s (%lu times so far)", strerror(e), srv->n_accept_errors);
	(void)cv_accept_pause(listener, e);
}

/* Connections the open-files limit leaves room for, FD_RESERVE kept for the rest. */
static size_t
fd_capacity(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return SIZE_MAX;
	return rl.rlim_cur > 2 * FD_RESERVE ? (size_t)rl.rlim_cur - FD_RESERVE
	                                    : (size_t)rl.rlim_cur / 2;
}

struct cv_server *
cv_server_new(struct event_base *base, struct cv_engine *engine, int fd,
              const struct cv_server_opts *opts, struct cv_error *err)
{
	struct cv_server *srv = calloc(1, sizeof(*srv));

	if (srv == NULL) {
		cv_error_set(err, "out of memory");
		close(fd);
		return NULL;
	}
	srv->base = base;
	srv->engine = engine;
	srv->test_clock = opts->test_clock;
	srv->test_read_delay_ms = opts->test_read_delay_ms;
	LIST_INIT(&srv->conns);
	clock_gettime(CLOCK_MONOTONIC, &srv->started);
	srv->config_path = strdup(opts->config_path);
	srv->socket_path = strdup(opts->socket_path);
	srv->calls = cv_calls_new(base, engine);
	srv->certs = cv_cert_cache_new(CV_CERT_CACHE_DEFAULT);
	srv->lines = cv_seen_lines_new(CV_SEEN_LINES_DEFAULT);
	srv->templates = cv_line_templates_new();
	if (srv->config_path == NULL || srv->socket_path == NULL || srv->calls == NULL ||
	    srv->certs == NULL || srv->lines == NULL || srv->templates == NULL) {
		cv_error_set(err, "out of memory");
		close(fd);
		goto fail;
	}
	/* backlog 0: fd already listens with SOMAXCONN (socket.c); -1 would shrink it to 128,
	 * and a burst of clients connecting at once would get EAGAIN */
	srv->listener = evconnlistener_new(base, accept_cb, srv,
	                                   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (srv->listener == NULL) {
		cv_error_set(err, "cannot listen on %s", opts->socket_path);
		close(fd);
		goto fail;
	}
	evconnlistener_set_error_cb(srv->listener, accept_error_cb);
	srv->fd_cap = fd_capacity();
	srv->admin = cv_admin_new(base, engine);
	if (srv->admin == NULL) {
		cv_error_set(err, "out of memory");
		goto fail;
	}
	srv->events = cv_events_new(engine);
	if (srv->events == NULL) {
		cv_error_set(err, "out of memory");
		goto fail;
	}
	cv_admin_set_events(srv->admin, srv->events);
	cv_admin_check_expiry(srv->admin);
	return srv;
fail:
	cv_server_free(srv);
	return NULL;
}

void
cv_server_close(struct cv_server *srv)
{
	struct conn *c;

	cv_admin_set_events(srv->admin, NULL);
	cv_admin_free(srv->admin); /* before the engine goes */
	srv->admin = NULL;
	if (srv->listener != NULL) {
		evconnlistener_free(srv->listener);
		srv->listener = NULL;
		if (unlink(srv->socket_path) != 0 && errno != ENOENT)
			cv_log_warning("unlink %s: %s", srv->socket_path, strerror(errno));
	}
	while ((c = LIST_FIRST(&srv->conns)) != NULL)
		conn_close(c);
	cv_events_free(srv->events); /* its subscriptions went with their connections */
	srv->events = NULL;
}

void
cv_server_free(struct cv_server *srv)
{
	if (srv == NULL)
		return;
	cv_server_close(srv);
	cv_calls_free(srv->calls); /* the engine is gone: it will never call back */
	cv_cert_cache_free(srv->certs);
	cv_seen_lines_free(srv->lines);
	cv_line_templates_free(srv->templates);
	free(srv->config_path);
	free(srv->socket_path);
	free(srv);
}

struct cv_calls *
cv_server_calls(const struct cv_server *srv)
{
	return srv->calls;
}

struct cv_cert_cache *
cv_server_certs(const struct cv_server *srv)
{
	return srv->certs;
}

struct cv_admin *
cv_server_admin(const struct cv_server *srv)
{
	return srv->admin;
}
