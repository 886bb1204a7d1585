/*
 * aaa.c: AAA authorization queries (R41, R47, D-2): the method list in order (the next
 * method only when one is unreachable), the blocking RADIUS and LDAP clients run as tasks of
 * common/worker.h (a detached thread whose answer the event loop receives), and the answer
 * cache.
 *
 * As in validator/fetch/fetch_ldap.c, the loop enforces each method's deadline with a timer
 * of its own; a request the loop gave up on finishes on its own and frees its job.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <ldap.h>

#include "../common/util.h"
#include "../common/worker.h"
#include "aaa_int.h"

#define MAX_JOBS      64   /* backend requests running at once (each holds a thread) */
#define CACHE_MAX     1024 /* cached answers */
#define GRACE_MS      250  /* the loop's deadline trails the worker's own timeout */
#define QUERY_ERR_MAX CV_MESSAGE_MAX

/*
 * One backend request on a worker thread. The loop owns q; the worker reads target and
 * username and writes answer.
 */
struct job {
	struct cv_aaa_query *q;

	struct cv_aaa_target target;
	char username[CV_NAME_MAX];
	struct cv_aaa_answer answer;
};

struct cv_aaa_query {
	TAILQ_ENTRY(cv_aaa_query) entry;
	cv_aaa_query_id id;
	struct cv_aaa *aaa;
	const struct cv_aaa_list *list;
	const struct cv_config *cfg;
	char username[CV_NAME_MAX];
	size_t method;              /* the method being tried */
	struct cv_worker_task *job; /* its backend request, if any */
	struct event *timer;        /* the job's deadline, or the deferred delivery */
	unsigned deadline_ms;       /* of the job */
	char errors[QUERY_ERR_MAX]; /* why earlier methods were unreachable */
	struct cv_aaa_answer answer;
	cv_aaa_done_fn done;
	void *arg;
};

struct cache_entry {
	TAILQ_ENTRY(cache_entry) entry;
	char list[CV_LABEL_MAX];
	char username[CV_NAME_MAX];
	cv_time expires;
	struct cv_aaa_answer answer;
};

struct cv_aaa {
	struct event_base *base;
	const struct cv_clock *clock;
	struct cv_worker_pool *pool; /* the backend requests */
	TAILQ_HEAD(, cv_aaa_query) queries;
	cv_aaa_query_id last_id;                   /* ids are handed out in order, never reused */
	TAILQ_HEAD(cache_head, cache_entry) cache; /* most recently stored first */
	size_t ncache;
	const struct cv_config *cache_cfg; /* the configuration the cache was filled under */
	struct cv_aaa_stats stats;
};

/* ---- the answer cache (D-2) ---- */

static void
cache_drop(struct cv_aaa *aaa, struct cache_entry *e)
{
	TAILQ_REMOVE(&aaa->cache, e, entry);
	aaa->ncache--;
	free(e);
}

void
cv_aaa_clear_cache(struct cv_aaa *aaa)
{
	struct cache_entry *e;

	while ((e = TAILQ_FIRST(&aaa->cache)) != NULL)
		cache_drop(aaa, e);
}

static const struct cache_entry *
cache_find(struct cv_aaa *aaa, const struct cv_config *cfg, const char *list, const char *username)
{
	struct cache_entry *e, *next;
	cv_time now = cv_clock_now(aaa->clock);

	if (cfg != aaa->cache_cfg) { /* a reload: the lists may mean something else now */
		cv_aaa_clear_cache(aaa);
		aaa->cache_cfg = cfg;
		return NULL;
	}
	for (e = TAILQ_FIRST(&aaa->cache); e != NULL; e = next) {
		next = TAILQ_NEXT(e, entry);
		if (now >= e->expires) {
			cache_drop(aaa, e);
			continue;
		}
		if (strcmp(e->list, list) == 0 && strcmp(e->username, username) == 0)
			return e;
	}
	return NULL;
}

/* Caches the answer of q; returns until when (CV_TIME_NONE: not cached, asked again next time). */
static cv_time
cache_store(struct cv_aaa *aaa, const struct cv_aaa_query *q)
{
	struct cache_entry *e;
	unsigned ttl = q->cfg->aaa_cache_s;

	/* Only answers: an unreachable server must be asked again. */
	if (ttl == 0 || q->answer.status == CV_AAA_UNREACHABLE || q->cfg != aaa->cache_cfg)
		return CV_TIME_NONE;
	if (aaa->ncache >= CACHE_MAX)
		cache_drop(aaa, TAILQ_LAST(&aaa->cache, cache_head));
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return CV_TIME_NONE;
	cv_strlcpy(e->list, q->list->name, sizeof(e->list));
	cv_strlcpy(e->username, q->username, sizeof(e->username));
	e->expires = cv_clock_now(aaa->clock) + ttl;
	e->answer = q->answer;
	e->answer.expires = e->expires;
	TAILQ_INSERT_HEAD(&aaa->cache, e, entry);
	aaa->ncache++;
	return e->expires;
}

/* ---- the worker side ---- */

static void
job_free(void *arg)
{
	free(arg);
}

static void
job_run(void *arg)
{
	struct job *j = arg;

	if (j->target.kind == CV_AAA_SERVER_RADIUS)
		cv_aaa_radius_run(&j->target, j->username, &j->answer);
	else
		cv_aaa_ldap_run(&j->target, j->username, &j->answer);
}

static void collect(void *arg);

static int
job_start(struct cv_aaa *aaa, struct cv_aaa_query *q, const struct cv_aaa_target *t,
          struct cv_error *err)
{
	struct job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		cv_error_set(err, "out of memory");
		return -1;
	}
	j->q = q;
	j->target = *t;
	cv_strlcpy(j->username, q->username, sizeof(j->username));
	if (cv_worker_submit(aaa->pool, job_run, collect, job_free, j, &q->job) < 0) {
		if (errno == EBUSY)
			cv_error_set(err, "too many AAA requests in flight (%u)",
			             cv_worker_pool_count(aaa->pool));
		else
			cv_error_set(err, "cannot start an AAA worker: %s", strerror(errno));
		job_free(j);
		return -1;
	}
	aaa->stats.backend_requests++;
	return 0;
}

/* ---- the query: methods in order ---- */

static void next_method(struct cv_aaa_query *q);

static void
query_free(struct cv_aaa_query *q)
{
	cv_worker_abandon(q->job);
	if (q->timer != NULL)
		event_free(q->timer);
	TAILQ_REMOVE(&q->aaa->queries, q, entry);
	free(q);
}

/* Delivers q->answer and frees the query. */
static void
finish(struct cv_aaa_query *q)
{
	struct cv_aaa_answer *a = malloc(sizeof(*a));
	cv_aaa_done_fn done = q->done;
	void *arg = q->arg;

	if (a == NULL) { /* fail closed, without the answer */
		static const struct cv_aaa_answer oom = {.status = CV_AAA_UNREACHABLE,
		                                         .error = "out of memory",
		                                         .expires = CV_TIME_NONE};
		query_free(q);
		done(&oom, arg);
		return;
	}
	if (!q->answer.from_cache)
		q->answer.expires = cache_store(q->aaa, q);
	*a = q->answer;
	query_free(q);
	done(a, arg);
	free(a);
}

static void
note_error(struct cv_aaa_query *q, const char *method, const char *what)
{
	size_t len = strlen(q->errors);

	snprintf(q->errors + len, sizeof(q->errors) - len, "%s%s: %s", len ? "; " : "", method,
	         what);
}

/* The method failed to answer: try the next one. */
static void
method_unreachable(struct cv_aaa_query *q, const char *what)
{
	note_error(q, q->answer.method, what);
	q->method++;
	next_method(q);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct cv_aaa_query *q = arg;
	char msg[64];

	if (q->job == NULL) { /* a deferred delivery (local, cache) */
		finish(q);
		return;
	}
	cv_worker_abandon(q->job);
	q->job = NULL;
	snprintf(msg, sizeof(msg), "timeout after %u ms", q->deadline_ms);
	method_unreachable(q, msg);
}

/* Runs the finish from the loop, never from inside cv_aaa_query_start. */
static void
defer_finish(struct cv_aaa_query *q)
{
	struct timeval zero = {0, 0};

	evtimer_add(q->timer, &zero);
}

static void
next_method(struct cv_aaa_query *q)
{
	const struct cv_aaa_method *m;
	const struct cv_aaa_server *s;
	struct cv_aaa_target t;
	struct cv_error err;
	struct timeval tv;

	memset(&q->answer, 0, sizeof(q->answer));
	for (; q->method < q->list->n_methods; q->method++) {
		m = &q->list->methods[q->method];
		if (m->kind == CV_AAA_METHOD_LOCAL) {
			cv_strlcpy(q->answer.method, "local", sizeof(q->answer.method));
			cv_aaa_local_run(q->cfg, q->username, &q->answer);
			defer_finish(q);
			return;
		}
		snprintf(q->answer.method, sizeof(q->answer.method), "group %.63s", m->group);
		err.msg[0] = '\0';
		if ((s = cv_config_aaa_server(q->cfg, m->group)) == NULL) {
			note_error(q, q->answer.method, "no such server group");
			continue;
		}
		if (cv_aaa_target_init(&t, s, &err) < 0 || job_start(q->aaa, q, &t, &err) < 0) {
			note_error(q, q->answer.method, err.msg);
			continue;
		}
		q->deadline_ms = t.timeout_s * 1000 + GRACE_MS;
		tv.tv_sec = q->deadline_ms / 1000;
		tv.tv_usec = (q->deadline_ms % 1000) * 1000;
		evtimer_add(q->timer, &tv);
		return;
	}
	/* every method unreachable (R41) */
	q->answer.status = CV_AAA_UNREACHABLE;
	cv_strlcpy(q->answer.error, q->errors[0] ? q->errors : "the list has no method",
	           sizeof(q->answer.error));
	defer_finish(q);
}

/* A worker's answer reached the loop (the worker pool frees the job afterwards). */
static void
collect(void *arg)
{
	struct job *j = arg;
	struct cv_aaa_query *q = j->q;
	char method[sizeof(q->answer.method)];

	q->job = NULL;
	evtimer_del(q->timer);
	cv_strlcpy(method, q->answer.method, sizeof(method));
	q->answer = j->answer;
	cv_strlcpy(q->answer.method, method, sizeof(q->answer.method));
	if (q->answer.status == CV_AAA_UNREACHABLE) {
		method_unreachable(q, q->answer.error[0] ? q->answer.error : "no answer");
		return;
	}
	finish(q);
}

/* ---- public API ---- */

int
cv_aaa_target_init(struct cv_aaa_target *t, const struct cv_aaa_server *s, struct cv_error *err)
{
	memset(t, 0, sizeof(*t));
	t->kind = s->kind;
	t->port = s->port ? s->port : 1812;
	t->timeout_s = s->timeout_s ? s->timeout_s : CV_AAA_DEFAULT_TIMEOUT_S;
	if (cv_strlcpy(t->group, s->name, sizeof(t->group)) >= sizeof(t->group) ||
	    s->address == NULL ||
	    cv_strlcpy(t->address, s->address, sizeof(t->address)) >= sizeof(t->address) ||
	    cv_strlcpy(t->secret, s->secret ? s->secret : "", sizeof(t->secret)) >=
	        sizeof(t->secret) ||
	    cv_strlcpy(t->base_dn, s->base_dn ? s->base_dn : "", sizeof(t->base_dn)) >=
	        sizeof(t->base_dn) ||
	    cv_strlcpy(t->attribute, s->attribute ? s->attribute : "ciscoAVPair",
	               sizeof(t->attribute)) >= sizeof(t->attribute)) {
		cv_error_set(err, "server group %.63s: no server, or a value too long", s->name);
		return -1;
	}
	return 0;
}

struct cv_aaa *
cv_aaa_new(struct event_base *base, const struct cv_clock *clock)
{
	struct cv_aaa *aaa;
	int dummy = 0;

	if ((aaa = calloc(1, sizeof(*aaa))) == NULL)
		return NULL;
	aaa->base = base;
	aaa->clock = clock;
	TAILQ_INIT(&aaa->queries);
	TAILQ_INIT(&aaa->cache);
	/* libldap's global initialisation, once, on this thread. */
	ldap_get_option(NULL, LDAP_OPT_PROTOCOL_VERSION, &dummy);
	if ((aaa->pool = cv_worker_pool_new(base, MAX_JOBS)) == NULL) {
		free(aaa);
		return NULL;
	}
	return aaa;
}

void
cv_aaa_free(struct cv_aaa *aaa)
{
	struct cv_aaa_query *q;

	if (aaa == NULL)
		return;
	while ((q = TAILQ_FIRST(&aaa->queries)) != NULL)
		query_free(q);
	cv_worker_pool_free(aaa->pool);
	cv_aaa_clear_cache(aaa);
	free(aaa);
}

cv_aaa_query_id
cv_aaa_query_start(struct cv_aaa *aaa, const struct cv_config *cfg, const char *list_name,
                   const char *username, cv_aaa_done_fn done, void *arg, struct cv_error *err)
{
	const struct cv_aaa_list *list = cv_config_aaa_list(cfg, list_name);
	const struct cache_entry *hit;
	struct cv_aaa_query *q;

	if (list == NULL) {
		cv_error_set(err, "no aaa authorization list %.63s", list_name);
		return 0;
	}
	if (username == NULL || username[0] == '\0') {
		cv_error_set(err, "empty AAA username");
		return 0;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->timer = evtimer_new(aaa->base, on_timer, q)) == NULL) {
		free(q);
		cv_error_set(err, "out of memory");
		return 0;
	}
	if (cv_strlcpy(q->username, username, sizeof(q->username)) >= sizeof(q->username)) {
		event_free(q->timer);
		free(q);
		cv_error_set(err, "AAA username longer than %d bytes", CV_NAME_MAX - 1);
		return 0;
	}
	q->id = ++aaa->last_id;
	q->aaa = aaa;
	q->cfg = cfg;
	q->list = list;
	q->done = done;
	q->arg = arg;
	TAILQ_INSERT_TAIL(&aaa->queries, q, entry);
	aaa->stats.queries++;
	hit = cache_find(aaa, cfg, list->name, username);
	if (hit != NULL && cfg->aaa_cache_s > 0) {
		aaa->stats.cache_hits++;
		q->answer = hit->answer;
		q->answer.from_cache = true;
		q->answer.expires = hit->expires;
		defer_finish(q);
		return q->id;
	}
	next_method(q);
	return q->id;
}

void
cv_aaa_query_cancel(struct cv_aaa *aaa, cv_aaa_query_id id)
{
	struct cv_aaa_query *q;

	if (id == 0)
		return;
	TAILQ_FOREACH(q, &aaa->queries, entry)
	{
		if (q->id == id) {
			query_free(q);
			return;
		}
	}
}

void
cv_aaa_get_stats(const struct cv_aaa *aaa, struct cv_aaa_stats *out)
{
	*out = aaa->stats;
	out->cached = aaa->ncache;
	out->in_flight = cv_worker_pool_count(aaa->pool);
}
