/*
 * crl_ingest.c: a downloaded CRL ingested off the event loop, once per download (issue 13).
 *
 * Parsing and indexing a CRL of a million entries takes about 140 ms; on the loop no verdict
 * would be answered meanwhile. Every waiter of a download that wants its CRL (a request's CRL
 * method, an OCSP responder's CRL, a CDP walk, a refresh) joins one ingest of that transfer:
 * the last waiter of the transfer takes the fetcher's body without a copy
 * (cv_fetch_take_body), a thread of the engine's ingest pool parses and indexes it
 * (cv_crl_ingest_any_owned), and the loop hands the finished CRL, immutable from then on, to
 * every waiter in the order they joined. Without a pool (certvalctl, tests) or with its queue
 * full, the ingest runs on the loop; the waiters are called back from the loop either way,
 * never from inside crl_ingest_join.
 *
 * A body the last waiter did not take (that waiter was cancelled during the delivery) ends
 * the ingest with an error: the waiters go on as after a failed download (fail closed).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "../common/log.h"
#include "../common/util.h"
#include "../common/worker.h"
#include "engine_int.h"

#define INGEST_THREADS 1 /* one CRL at a time: the peak memory is one CRL's (issue 13) */
#define INGEST_QUEUE   16

enum ingest_state {
	AWAITING_BODY, /* joined by waiters that were not the transfer's last */
	RUNNING,       /* on the pool */
	FINISHED,      /* crl or error set; the delivery is scheduled */
};

struct crl_ingest_wait {
	struct crl_ingest *ingest;
	crl_ingest_fn done;
	void *arg;
	struct crl_ingest_wait *next;
};

/* The part a pool thread touches; freed by the pool (free_job) once submitted. */
struct ingest_task {
	struct crl_ingest *ingest; /* not touched by the thread; done does not run once abandoned */
	uint8_t *body;
	size_t len;
	unsigned delay_ms; /* tests only (cv_engine_set_test_ingest_delay) */
	struct cv_crl *crl;
	struct cv_error err;
};

struct crl_ingest {
	struct cv_engine *engine;
	char source[CV_URL_MAX];     /* as the first waiter named it */
	char url[CV_URL_MAX];        /* the URL fetched (meta.url) */
	struct cv_fetch_result meta; /* the download's result without its body */
	enum ingest_state state;
	bool delivering;  /* a waiter's cancel then leaves the ingest to ingest_deliver */
	struct event *ev; /* the delivery (or the check that the body was taken) */
	struct cv_worker_task *task;
	struct cv_crl *crl; /* FINISHED: one reference, or NULL with error */
	char error[CV_MESSAGE_MAX];
	struct crl_ingest_wait *waiters, **tail;
	struct crl_ingest *link;
};

static void
ingest_unlink(struct crl_ingest *in)
{
	struct crl_ingest **pp = &in->engine->ingests;

	while (*pp != NULL && *pp != in)
		pp = &(*pp)->link;
	if (*pp == in)
		*pp = in->link;
}

/* Frees an ingest the loop is done with; a task still running is abandoned to the pool. */
static void
ingest_free(struct crl_ingest *in)
{
	struct crl_ingest_wait *w;

	ingest_unlink(in);
	if (in->task != NULL)
		cv_worker_abandon(in->task);
	while ((w = in->waiters) != NULL) {
		in->waiters = w->next;
		free(w);
	}
	if (in->ev != NULL)
		event_free(in->ev);
	cv_crl_free(in->crl);
	free(in);
}

/* Calls every waiter, in the order they joined, with the result; then frees the ingest. */
static void
ingest_deliver(struct crl_ingest *in)
{
	struct crl_ingest_result r = {in->crl, in->error, &in->meta, true};
	struct crl_ingest_wait *w;

	ingest_unlink(in); /* a download finishing from a callback starts an ingest of its own */
	in->delivering = true;
	while ((w = in->waiters) != NULL) {
		in->waiters = w->next;
		if (in->waiters == NULL)
			in->tail = &in->waiters;
		w->done(&r, w->arg);
		free(w);
		r.first = false;
	}
	ingest_free(in);
}

static void
ingest_event(evutil_socket_t fd, short what, void *arg)
{
	struct crl_ingest *in = arg;

	(void)fd;
	(void)what;
	if (in->state == AWAITING_BODY) {
		cv_strlcpy(in->error, "the download's body was not kept for the CRL",
		           sizeof(in->error));
		in->state = FINISHED;
	}
	if (in->state == FINISHED)
		ingest_deliver(in);
}

static void
ingest_finish(struct crl_ingest *in, struct cv_crl *crl, const struct cv_error *err)
{
	in->crl = crl;
	if (crl == NULL)
		cv_strlcpy(in->error, err->msg[0] != '\0' ? err->msg : "ingest failed",
		           sizeof(in->error));
	in->state = FINISHED;
	event_active(in->ev, EV_TIMEOUT, 1);
}

/* ---- the pool's side ---- */

static void
task_run(void *arg)
{
	struct ingest_task *t = arg;
	uint8_t *body = t->body;

	t->body = NULL; /* cv_crl_ingest_any_owned owns it from here */
	if (t->delay_ms > 0) {
		struct timespec ts = {t->delay_ms / 1000, (long)(t->delay_ms % 1000) * 1000000L};

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	if (cv_crl_ingest_any_owned(body, t->len, &t->crl, &t->err) < 0)
		t->crl = NULL;
}

static void
task_done(void *arg)
{
	struct ingest_task *t = arg;
	struct crl_ingest *in = t->ingest;
	struct cv_crl *crl = t->crl;

	t->crl = NULL; /* handed to the loop: immutable from here on */
	in->task = NULL;
	ingest_finish(in, crl, &t->err);
}

static void
task_free(void *arg)
{
	struct ingest_task *t = arg;

	free(t->body);
	cv_crl_free(t->crl);
	free(t);
}

static struct cv_worker_pool *
ingest_pool(struct cv_engine *engine)
{
	if (engine->pool == NULL) /* no validation threads: no ingest threads either */
		return NULL;
	if (engine->ingest_pool == NULL)
		engine->ingest_pool =
		    cv_worker_pool_new_fixed(engine->base, INGEST_QUEUE, INGEST_THREADS);
	return engine->ingest_pool;
}

/* Ingests body (owned) on the pool, or on the loop when there is none or it is full. */
static void
ingest_start(struct crl_ingest *in, uint8_t *body, size_t len)
{
	struct cv_worker_pool *pool = ingest_pool(in->engine);
	struct ingest_task *t = calloc(1, sizeof(*t));
	struct cv_error err = {{0}};
	struct cv_crl *crl = NULL;

	in->state = RUNNING;
	if (t != NULL && pool != NULL) {
		t->ingest = in;
		t->body = body;
		t->len = len;
		t->delay_ms = in->engine->test_ingest_delay_ms;
		if (cv_worker_submit(pool, task_run, task_done, task_free, t, &in->task) == 0)
			return;
		in->task = NULL;
	}
	free(t);
	if (cv_crl_ingest_any_owned(body, len, &crl, &err) < 0)
		crl = NULL;
	ingest_finish(in, crl, &err);
}

/* ---- the waiters' side ---- */

/* The ingest of a transfer: by its number alone, since waiters may name one source
 * differently (a directory CDP's DN, the LDAP URL it resolved to). */
static struct crl_ingest *
ingest_find(const struct cv_engine *engine, uint64_t transfer)
{
	for (struct crl_ingest *in = engine->ingests; in != NULL; in = in->link)
		if (in->meta.transfer == transfer)
			return in;
	return NULL;
}

static struct crl_ingest *
ingest_new(struct cv_engine *engine, const char *source, const struct cv_fetch_result *res)
{
	struct crl_ingest *in = calloc(1, sizeof(*in));

	if (in == NULL)
		return NULL;
	in->ev = event_new(engine->base, -1, 0, ingest_event, in);
	if (in->ev == NULL) {
		free(in);
		return NULL;
	}
	in->engine = engine;
	cv_strlcpy(in->source, source, sizeof(in->source));
	in->meta = *res;
	in->meta.data = NULL;
	in->meta.len = 0;
	in->meta.flight = NULL;
	cv_strlcpy(in->url, res->url != NULL ? res->url : source, sizeof(in->url));
	in->meta.url = in->url;
	in->state = AWAITING_BODY;
	in->tail = &in->waiters;
	in->link = engine->ingests;
	engine->ingests = in;
	/* after this delivery of the download: by then the last waiter has taken the body */
	event_active(in->ev, EV_TIMEOUT, 1);
	return in;
}

struct crl_ingest_wait *
crl_ingest_join(struct cv_engine *engine, const char *source, const struct cv_fetch_result *res,
                crl_ingest_fn done, void *arg)
{
	struct crl_ingest *in = res->transfer != 0 ? ingest_find(engine, res->transfer) : NULL;
	struct crl_ingest_wait *w = calloc(1, sizeof(*w));
	uint8_t *body;
	size_t len;

	if (w == NULL)
		return NULL;
	if (in == NULL && (in = ingest_new(engine, source, res)) == NULL) {
		free(w);
		return NULL;
	}
	w->ingest = in;
	w->done = done;
	w->arg = arg;
	*in->tail = w;
	in->tail = &w->next;
	if (in->state != AWAITING_BODY)
		return w;
	body = cv_fetch_take_body(res, &len);
	if (body == NULL && res->ok && res->data != NULL && res->flight == NULL) {
		/* a result of no shared transfer: a copy (the fetcher always shares) */
		if ((body = malloc(res->len > 0 ? res->len : 1)) != NULL) {
			memcpy(body, res->data, res->len);
			len = res->len;
		}
	}
	if (body != NULL)
		ingest_start(in, body, len);
	return w;
}

static struct crl_ingest *
ingest_of(const struct cv_engine *engine, const char *source)
{
	for (struct crl_ingest *in = engine->ingests; in != NULL; in = in->link)
		if (strcmp(in->source, source) == 0)
			return in;
	return NULL;
}

bool
crl_ingest_running(const struct cv_engine *engine, const char *source)
{
	return ingest_of(engine, source) != NULL;
}

struct crl_ingest_wait *
crl_ingest_await(struct cv_engine *engine, const char *source, crl_ingest_fn done, void *arg)
{
	struct crl_ingest *in = ingest_of(engine, source);
	struct crl_ingest_wait *w;

	if (in == NULL || (w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->ingest = in;
	w->done = done;
	w->arg = arg;
	*in->tail = w;
	in->tail = &w->next;
	return w;
}

void
crl_ingest_cancel(struct crl_ingest_wait *w)
{
	struct crl_ingest *in;
	struct crl_ingest_wait **pp;

	if (w == NULL)
		return;
	in = w->ingest;
	for (pp = &in->waiters; *pp != NULL && *pp != w; pp = &(*pp)->next)
		;
	if (*pp == w) {
		*pp = w->next;
		if (in->tail == &w->next)
			in->tail = pp;
	}
	free(w);
	if (in->waiters == NULL && !in->delivering) /* nobody wants it: a task is abandoned */
		ingest_free(in);
}

void
crl_ingest_shutdown(struct cv_engine *engine)
{
	while (engine->ingests != NULL)
		ingest_free(engine->ingests);
	cv_worker_pool_free(engine->ingest_pool); /* waits for a task still running */
	engine->ingest_pool = NULL;
}
