/*
 * test_worker.c: unit tests of common/worker.c: many tasks and the cap, done submitting the
 * next task, abandon before and after the result reached the pipe, and the pool freed while
 * a task still blocks; the same for a fixed pool of threads (tasks abandoned while queued
 * never run, finished ones wait on its done list for one pass of the loop, its free waits for
 * the running task). Run under ASan/TSan.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "../../common/worker.h"
#include "../support/check.h"

#define MANY 300
#define CAP  16

/* What the tasks of one test did, shared by the loop and the workers under mu. */
struct tally {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int gate_open; /* gated jobs wait in run until this is set */
	int entered, ran, done, freed, freed_on_loop, wrong;
	pthread_t loop;
	struct cv_worker_pool *pool; /* for resubmitting from done */
	int to_submit;
};

struct job {
	struct tally *t;
	int gated;
	int in, out;
};

static void
tally_init(struct tally *t)
{
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	t->gate_open = t->entered = t->ran = t->done = t->freed = t->freed_on_loop = t->wrong = 0;
	t->loop = pthread_self();
	t->pool = NULL;
	t->to_submit = 0;
}

static void
tally_destroy(struct tally *t)
{
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
}

static int
tally_get(struct tally *t, const int *field)
{
	int v;

	pthread_mutex_lock(&t->mu);
	v = *field;
	pthread_mutex_unlock(&t->mu);
	return v;
}

/* Waits up to 5 s for *field to reach want. */
static int
tally_wait(struct tally *t, const int *field, int want)
{
	struct timespec until;
	int v;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&t->mu);
	while (*field < want && pthread_cond_timedwait(&t->cv, &t->mu, &until) == 0)
		;
	v = *field;
	pthread_mutex_unlock(&t->mu);
	return v;
}

/* Adds one to *field and wakes the waiters; any thread. */
static void
tally_bump(struct tally *t, int *field)
{
	pthread_mutex_lock(&t->mu);
	(*field)++;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
}

static void
job_run(void *arg)
{
	struct job *j = arg;
	struct tally *t = j->t;

	tally_bump(t, &t->entered);
	pthread_mutex_lock(&t->mu);
	while (j->gated && !t->gate_open)
		pthread_cond_wait(&t->cv, &t->mu);
	pthread_mutex_unlock(&t->mu);
	j->out = j->in * 2;
	tally_bump(t, &t->ran);
}

static void
job_free(void *arg)
{
	struct job *j = arg;
	struct tally *t = j->t;

	if (pthread_equal(pthread_self(), t->loop))
		tally_bump(t, &t->freed_on_loop);
	tally_bump(t, &t->freed);
	free(j);
}

static struct job *
job_new(struct tally *t, int in, int gated)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		abort();
	j->t = t;
	j->in = in;
	j->gated = gated;
	return j;
}

static int submit(struct tally *t, struct cv_worker_pool *pool, int in, int gated,
                  struct cv_worker_task **handle);

static void
job_done(void *arg)
{
	struct job *j = arg;
	struct tally *t = j->t;

	if (!pthread_equal(pthread_self(), t->loop) || j->out != j->in * 2)
		t->wrong++;
	tally_bump(t, &t->done);
	/* The finished task no longer counts: the next one fits even in a full pool. */
	if (t->to_submit > 0) {
		t->to_submit--;
		if (submit(t, t->pool, t->to_submit, 0, NULL) < 0)
			t->wrong++;
	}
}

static int
submit(struct tally *t, struct cv_worker_pool *pool, int in, int gated,
       struct cv_worker_task **handle)
{
	struct job *j = job_new(t, in, gated);

	if (cv_worker_submit(pool, job_run, job_done, job_free, j, handle) < 0) {
		free(j);
		return -1;
	}
	return 0;
}

/* Runs the loop until *field reaches want (5 s at most). */
static void
loop_until(struct event_base *base, struct tally *t, const int *field, int want)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (tally_get(t, field) < want) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 5)
			break;
	}
}

static void
test_many(struct event_base *base)
{
	struct tally t;
	struct cv_worker_pool *pool;
	int i, ok = 1;

	tally_init(&t);
	CHECK((pool = cv_worker_pool_new(base, CAP)) != NULL);
	t.pool = pool;
	t.to_submit = MANY - CAP;
	for (i = 0; i < CAP; i++)
		ok &= submit(&t, pool, MANY - 1 - i, 0, NULL) == 0;
	CHECK(ok);
	CHECK_INT_EQ(cv_worker_pool_count(pool), CAP);
	errno = 0;
	CHECK_INT_EQ(submit(&t, pool, 0, 0, NULL), -1);
	CHECK_INT_EQ(errno, EBUSY);
	loop_until(base, &t, &t.freed, MANY);
	CHECK_INT_EQ(t.done, MANY);
	CHECK_INT_EQ(t.freed, MANY);
	CHECK_INT_EQ(t.freed_on_loop, MANY);
	CHECK_INT_EQ(t.wrong, 0);
	CHECK_INT_EQ(cv_worker_pool_count(pool), 0);
	cv_worker_pool_free(pool);
	tally_destroy(&t);
}

/* Abandoned while it blocks: the count drops at once, the worker frees the job, no done. */
static void
test_abandon_running(struct event_base *base)
{
	struct tally t;
	struct cv_worker_pool *pool;
	struct cv_worker_task *task = NULL;

	tally_init(&t);
	CHECK((pool = cv_worker_pool_new(base, 1)) != NULL);
	CHECK_INT_EQ(submit(&t, pool, 1, 1, &task), 0);
	CHECK_INT_EQ(cv_worker_pool_count(pool), 1);
	cv_worker_abandon(task);
	CHECK_INT_EQ(cv_worker_pool_count(pool), 0);
	/* Its thread still runs, but the pool has room again. */
	CHECK_INT_EQ(submit(&t, pool, 2, 0, NULL), 0);
	loop_until(base, &t, &t.done, 1);
	CHECK_INT_EQ(tally_get(&t, &t.freed), 1);
	tally_bump(&t, &t.gate_open);
	CHECK_INT_EQ(tally_wait(&t, &t.freed, 2), 2);
	event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK_INT_EQ(t.done, 1);
	CHECK_INT_EQ(t.freed_on_loop, 1); /* the abandoned job went on its worker */
	CHECK_INT_EQ(t.wrong, 0);
	cv_worker_pool_free(pool);
	tally_destroy(&t);
}

/*
 * Abandoned after its result reached the pipe: it counts until the loop reads it, then it
 * is freed on the loop without done. Returns 1 when that case was met (the worker had
 * written), 0 when the worker was still before its write (then it was an orphan).
 */
static int
abandon_delivered(struct event_base *base)
{
	struct tally t;
	struct cv_worker_pool *pool;
	struct cv_worker_task *task = NULL;
	int delivered;

	tally_init(&t);
	CHECK((pool = cv_worker_pool_new(base, 4)) != NULL);
	CHECK_INT_EQ(submit(&t, pool, 3, 0, &task), 0);
	CHECK_INT_EQ(tally_wait(&t, &t.ran, 1), 1);
	usleep(50000); /* the write follows run at once */
	cv_worker_abandon(task);
	delivered = cv_worker_pool_count(pool) == 1;
	if (delivered)
		CHECK_INT_EQ(tally_get(&t, &t.freed), 0);
	loop_until(base, &t, &t.freed, 1);
	event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK_INT_EQ(t.freed, 1);
	CHECK_INT_EQ(t.done, 0);
	CHECK_INT_EQ(t.freed_on_loop, delivered);
	CHECK_INT_EQ(cv_worker_pool_count(pool), 0);
	cv_worker_pool_free(pool);
	tally_destroy(&t);
	return delivered;
}

static void
test_abandon_delivered(struct event_base *base)
{
	int i, met = 0;

	for (i = 0; i < 5 && !met; i++)
		met = abandon_delivered(base);
	CHECK(met);
}

/*
 * The pool freed with one task blocked and one delivered but not yet read: the delivered one
 * is freed at once, the blocked one by its worker when it returns; no done runs.
 */
static void
test_pool_free_while_blocked(struct event_base *base)
{
	struct tally t;
	struct cv_worker_pool *pool;

	tally_init(&t);
	CHECK((pool = cv_worker_pool_new(base, 4)) != NULL);
	CHECK_INT_EQ(submit(&t, pool, 4, 1, NULL), 0);
	CHECK_INT_EQ(submit(&t, pool, 5, 0, NULL), 0);
	CHECK_INT_EQ(tally_wait(&t, &t.ran, 1), 1);
	usleep(50000);
	cv_worker_pool_free(pool);
	CHECK(tally_get(&t, &t.freed) <= 1);
	tally_bump(&t, &t.gate_open);
	CHECK_INT_EQ(tally_wait(&t, &t.freed, 2), 2);
	event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK_INT_EQ(t.done, 0);
	CHECK_INT_EQ(t.ran, 2);
	tally_destroy(&t);
}

/* A fixed pool of 2 threads: every task runs once and its done runs on the loop. */
static void
test_fixed_many(struct event_base *base)
{
	struct tally t;
	struct cv_worker_pool *pool;
	int i, ok = 1;

	tally_init(&t);
	CHECK((pool = cv_worker_pool_new_fixed(base, CAP, 2)) != NULL);
	t.pool = pool;
	t.to_submit = MANY - CAP;
	for (i = 0; i < CAP; i++)
		ok &= submit(&t, pool, i, 0, NULL) == 0;
	CHECK(ok);
	errno = 0;
	CHECK_INT_EQ(submit(&t, pool, 0, 0, NULL), -1);
	CHECK_INT_EQ(errno, EBUSY);
	loop_until(base, &t, &t.freed, MANY);
	CHECK_INT_EQ(t.ran, MANY);
	CHECK_INT_EQ(t.done, MANY);
	CHECK_INT_EQ(t.freed_on_loop, MANY);
	CHECK_INT_EQ(t.wrong, 0);
	cv_worker_pool_free(pool);
	tally_destroy(&t);
}

/*
 * A fixed pool's tasks that finish while the loop does not run wait on its done list: one
 * pass of the loop takes them all, the one abandoned after it finished is freed there without
 * its done, and a full list (every task of the pool finished) takes nothing beyond the pool's
 * room. Tasks finished when the pool is freed are freed with it, their done never run.
 */
static void
test_fixed_done_list(struct event_base *base)
{
	struct cv_worker_task *first = NULL;
	struct tally t;
	struct cv_worker_pool *pool;
	int i, ok = 1;

	tally_init(&t);
	CHECK((pool = cv_worker_pool_new_fixed(base, CAP, 2)) != NULL);
	for (i = 0; i < CAP; i++)
		ok &= submit(&t, pool, i, 0, i == 0 ? &first : NULL) == 0;
	CHECK(ok);
	CHECK_INT_EQ(tally_wait(&t, &t.ran, CAP), CAP);
	usleep(50000);            /* each delivery follows its run at once */
	cv_worker_abandon(first); /* delivered: it stays until the loop takes it */
	CHECK_INT_EQ(cv_worker_pool_count(pool), CAP);
	CHECK_INT_EQ(tally_get(&t, &t.freed), 0);
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	CHECK_INT_EQ(t.done, CAP - 1);
	CHECK_INT_EQ(tally_get(&t, &t.freed_on_loop), CAP);
	CHECK_INT_EQ(cv_worker_pool_count(pool), 0);
	for (i = 0; i < 3; i++)
		ok &= submit(&t, pool, i, 0, NULL) == 0;
	CHECK(ok);
	CHECK_INT_EQ(tally_wait(&t, &t.ran, CAP + 3), CAP + 3);
	usleep(50000);
	cv_worker_pool_free(pool);
	CHECK_INT_EQ(tally_get(&t, &t.freed), CAP + 3);
	CHECK_INT_EQ(t.done, CAP - 1);
	CHECK_INT_EQ(t.wrong, 0);
	tally_destroy(&t);
}

/* One thread held by a gated task: a task abandoned while queued never runs. */
static void
test_fixed_abandon_queued(struct event_base *base)
{
	struct tally t;
	struct cv_worker_pool *pool;
	struct cv_worker_task *queued = NULL;

	tally_init(&t);
	CHECK((pool = cv_worker_pool_new_fixed(base, 4, 1)) != NULL);
	CHECK_INT_EQ(submit(&t, pool, 1, 1, NULL), 0);
	CHECK_INT_EQ(submit(&t, pool, 2, 0, &queued), 0);
	cv_worker_abandon(queued);
	CHECK_INT_EQ(cv_worker_pool_count(pool), 1);
	tally_bump(&t, &t.gate_open);
	loop_until(base, &t, &t.freed, 2);
	CHECK_INT_EQ(t.ran, 1);
	CHECK_INT_EQ(t.done, 1);
	CHECK_INT_EQ(t.freed, 2);
	CHECK_INT_EQ(t.wrong, 0);
	cv_worker_pool_free(pool);
	tally_destroy(&t);
}

static void *
open_gate_later(void *arg)
{
	struct tally *t = arg;

	usleep(100000);
	tally_bump(t, &t->gate_open);
	return NULL;
}

/* Freed while its one thread runs a gated task and two wait: all freed, no done, no hang. */
static void
test_fixed_free_busy(struct event_base *base)
{
	struct tally t;
	struct cv_worker_pool *pool;
	pthread_t opener;

	tally_init(&t);
	CHECK((pool = cv_worker_pool_new_fixed(base, 4, 1)) != NULL);
	CHECK_INT_EQ(submit(&t, pool, 1, 1, NULL), 0);
	CHECK_INT_EQ(submit(&t, pool, 2, 0, NULL), 0);
	CHECK_INT_EQ(submit(&t, pool, 3, 0, NULL), 0);
	CHECK_INT_EQ(tally_wait(&t, &t.entered, 1), 1);
	CHECK_INT_EQ(pthread_create(&opener, NULL, open_gate_later, &t), 0);
	cv_worker_pool_free(pool);
	pthread_join(opener, NULL);
	CHECK_INT_EQ(tally_get(&t, &t.freed), 3);
	CHECK(tally_get(&t, &t.ran) >= 1);
	event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK_INT_EQ(t.done, 0);
	tally_destroy(&t);
}

int
main(void)
{
	struct event_base *base = event_base_new();

	if (base == NULL)
		return 1;
	test_many(base);
	test_abandon_running(base);
	test_abandon_delivered(base);
	test_pool_free_while_blocked(base);
	test_fixed_many(base);
	test_fixed_done_list(base);
	test_fixed_abandon_queued(base);
	test_fixed_free_busy(base);
	event_base_free(base);
	usleep(100000); /* the last worker threads return after freeing their tasks */
	return check_summary();
}
