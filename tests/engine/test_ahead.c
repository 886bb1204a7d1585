/*
 * test_ahead.c: stage 1 run ahead on another thread (cv_engine_ahead, issue 13), then taken on
 * by the loop (cv_engine_verify_ahead): the verdict is the one cv_engine_verify gives, stage 1
 * is not run twice, and a configuration reload or a clock that moved in between has the
 * request decided afresh, in both directions (a wrong accept and a wrong reject).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "../../common/util.h"
#include "../../policy/config.h"
#include "../../policy/engine.h"
#include "../support/check.h"
#include "../support/testpki.h"

static char tmpdir[] = "/tmp/certval-ahead-XXXXXX";
static cv_time now;
static struct tp_entity root, sub, hub, other_root;
static char root_pem[256], other_pem[256];

struct outcome {
	enum cv_decision decision;
	enum cv_reason reason;
	size_t n_path;
	bool trace_has_path;
	bool called;
};

static void
on_done(const struct cv_verdict *v, void *arg)
{
	struct outcome *o = arg;

	o->called = true;
	o->decision = v->decision;
	o->reason = v->reason;
	o->n_path = v->n_path;
	for (size_t i = 0; i < v->n_trace; i++)
		if (strstr(v->trace[i].text, "Using T to validate certificate") != NULL)
			o->trace_has_path = true;
}

/* A configuration with trustpoint T anchored at the certificate in pem. */
static struct cv_config *
config_trusting(const char *pem)
{
	char text[1024];
	struct cv_config *cfg = NULL;
	struct cv_error err = {{0}};

	snprintf(text, sizeof(text),
	         "crypto pki trustpoint T\n ca-certificate %s\n"
	         " revocation-check none\n",
	         pem);
	if (cv_config_parse("test.conf", text, strlen(text), &cfg, &err) < 0)
		fprintf(stderr, "config error: %s\n", err.msg);
	return cfg;
}

/* The request of every case: hub, then sub; the time is the engine's. */
static void
request_hub(struct cv_request *req)
{
	cv_request_init(req);
	cv_cert_list_push(&req->chain, hub.cert);
	cv_cert_list_push(&req->chain, sub.cert);
	req->detail = CV_VERDICT_DETAIL_TRACE;
}

/* Stage 1 on a thread of its own, as the daemon's worker runs it. */
struct ahead_call {
	struct cv_engine *engine;
	struct cv_config *cfg;
	struct cv_vc_now state;
	const struct cv_request *req;
	struct cv_engine_ahead *out;
};

static void *
ahead_thread(void *arg)
{
	struct ahead_call *a = arg;

	a->out = cv_engine_ahead(a->engine, a->cfg, &a->state, a->req);
	return NULL;
}

static struct cv_engine_ahead *
ahead_on_thread(struct cv_engine *engine, const struct cv_request *req)
{
	struct ahead_call a = {.engine = engine, .req = req};
	pthread_t tid;

	cv_engine_seen_state(engine, &a.state);
	a.cfg = cv_config_ref(cv_engine_config(engine));
	CHECK_INT_EQ(pthread_create(&tid, NULL, ahead_thread, &a), 0);
	pthread_join(tid, NULL);
	cv_config_unref(a.cfg);
	return a.out;
}

/* What may happen between stage 1 and the loop taking the job on. */
enum between { NOTHING, RELOAD, CLOCK };

/*
 * Runs stage 1 ahead under cfg, then `between`, then takes the job on; *link_hits: the link
 * cache hits counted while the loop took it on (a second stage 1 would hit the link that
 * the first remembered).
 */
static struct outcome
run_ahead(struct cv_config *cfg, enum between between, struct cv_config *next, uint64_t *link_hits)
{
	struct event_base *base = event_base_new();
	struct cv_engine *engine = cv_engine_new(base, cfg, NULL);
	struct cv_engine_stats before, after;
	struct cv_engine_ahead *a;
	struct outcome o = {.decision = CV_DECISION_ACCEPT}; /* must be overwritten */
	struct cv_request req;

	request_hub(&req);
	a = ahead_on_thread(engine, &req);
	CHECK(a != NULL);
	if (between == RELOAD)
		cv_engine_set_config(engine, next);
	else if (between == CLOCK)
		cv_engine_set_clock_offset(engine, 20 * 365 * 86400LL);
	cv_engine_get_stats(engine, &before);
	CHECK_INT_EQ(cv_engine_verify_ahead(engine, a, on_done, &o), 0);
	while (!o.called && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	CHECK(o.called);
	cv_engine_get_stats(engine, &after);
	CHECK_INT_EQ(after.requests - before.requests, 1);
	*link_hits = after.link_cache_hits - before.link_cache_hits;
	cv_request_free(&req);
	cv_engine_free(engine);
	event_base_free(base);
	return o;
}

/* Nothing in between: the verdict of stage 1 run ahead, stage 1 not run again. */
static void
test_taken_on(void)
{
	struct cv_config *trusting = config_trusting(root_pem);
	uint64_t hits = 99;
	struct outcome o = run_ahead(trusting, NOTHING, NULL, &hits);

	CHECK_INT_EQ(o.decision, CV_DECISION_ACCEPT);
	CHECK_INT_EQ(o.n_path, 3);
	CHECK(o.trace_has_path);
	CHECK_INT_EQ(hits, 0);
	cv_config_unref(trusting);
}

/* A reload that withdraws trust in between: REJECT under the new configuration. */
static void
test_reload_rejects(void)
{
	struct cv_config *trusting = config_trusting(root_pem);
	struct cv_config *other = config_trusting(other_pem);
	uint64_t hits = 0;
	struct outcome o = run_ahead(trusting, RELOAD, other, &hits);

	CHECK_INT_EQ(o.decision, CV_DECISION_REJECT);
	CHECK_INT_EQ(o.reason, CV_REASON_UNTRUSTED_ISSUER);
	cv_config_unref(trusting);
	cv_config_unref(other);
}

/* A reload that grants trust in between: ACCEPT, stage 1 run again (the link it remembered
 * is hit); without the reload the same request is refused. */
static void
test_reload_accepts(void)
{
	struct cv_config *trusting = config_trusting(root_pem);
	struct cv_config *other = config_trusting(other_pem);
	uint64_t hits = 0;
	struct outcome o = run_ahead(other, NOTHING, NULL, &hits);

	CHECK_INT_EQ(o.decision, CV_DECISION_REJECT);
	o = run_ahead(other, RELOAD, trusting, &hits);
	CHECK_INT_EQ(o.decision, CV_DECISION_ACCEPT);
	CHECK_INT_EQ(o.n_path, 3);
	cv_config_unref(trusting);
	cv_config_unref(other);
}

/* The clock moved past the leaf's notAfter in between: REJECT expired, at the new time (the
 * job stage 1 ran for accepted the chain: see test_taken_on). */
static void
test_clock_moved(void)
{
	struct cv_config *trusting = config_trusting(root_pem);
	uint64_t hits = 0;
	struct outcome o = run_ahead(trusting, CLOCK, NULL, &hits);

	CHECK_INT_EQ(o.decision, CV_DECISION_REJECT);
	CHECK_INT_EQ(o.reason, CV_REASON_EXPIRED);
	cv_config_unref(trusting);
}

/* What stage 1 would not start is left to cv_engine_verify; a job never taken on is freed. */
static void
test_not_ahead(void)
{
	struct cv_config *trusting = config_trusting(root_pem);
	struct event_base *base = event_base_new();
	struct cv_engine *engine = cv_engine_new(base, trusting, NULL);
	struct cv_request req;

	cv_request_init(&req);
	CHECK(ahead_on_thread(engine, &req) == NULL); /* no certificate */
	request_hub(&req);
	req.malformed.present = true;
	CHECK(ahead_on_thread(engine, &req) == NULL);
	req.malformed.present = false;
	cv_engine_ahead_free(ahead_on_thread(engine, &req)); /* ASan: nothing leaks */
	cv_engine_ahead_free(NULL);
	cv_request_free(&req);
	cv_engine_free(engine);
	event_base_free(base);
	cv_config_unref(trusting);
}

int
main(void)
{
	struct tp_spec s;

	now = cv_clock_now(NULL);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	tp_spec_ca(&s, "CN=Ahead Root", now);
	CHECK_INT_EQ(tp_issue(&root, &s, NULL), 0);
	tp_spec_ca(&s, "CN=Ahead Sub", now);
	CHECK_INT_EQ(tp_issue(&sub, &s, &root), 0);
	tp_spec_leaf(&s, "CN=Ahead Peer", now);
	CHECK_INT_EQ(tp_issue(&hub, &s, &sub), 0);
	tp_spec_ca(&s, "CN=Other Root", now);
	CHECK_INT_EQ(tp_issue(&other_root, &s, NULL), 0);
	snprintf(root_pem, sizeof(root_pem), "%s/root.pem", tmpdir);
	snprintf(other_pem, sizeof(other_pem), "%s/other.pem", tmpdir);
	CHECK_INT_EQ(tp_write_cert_pem(&root, root_pem), 0);
	CHECK_INT_EQ(tp_write_cert_pem(&other_root, other_pem), 0);

	test_taken_on();
	test_reload_rejects();
	test_reload_accepts();
	test_clock_moved();
	test_not_ahead();

	unlink(root_pem);
	unlink(other_pem);
	rmdir(tmpdir);
	tp_entity_free(&root);
	tp_entity_free(&sub);
	tp_entity_free(&hub);
	tp_entity_free(&other_root);
	return check_summary();
}
