/*
 * worker.c: work off the event loop, its results delivered to the loop through a pipe. Two
 * kinds of pool share the task's life cycle: one detached thread per task (blocking calls:
 * LDAP, RADIUS), whose thread writes the task's pointer to the pipe, or a fixed set of threads
 * serving a queue (CPU work: path validation), whose threads put finished tasks on a done list
 * and write to the pipe only when the loop has not been woken for that list yet (a NULL
 * pointer), so that a busy loop takes many results per wake-up. A task the loop abandons is
 * freed by whichever side lets go of it last, so the loop never waits for a running task
 * (except a fixed pool's free, which joins).
 */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/event.h>

/*
 * One task. Fields marked "loop" are touched only by the event loop; delivered and orphaned
 * are shared with the worker under mu; the rest is set before the thread starts.
 */
struct cv_worker_task {
	TAILQ_ENTRY(cv_worker_task) entry;  /* loop */
	TAILQ_ENTRY(cv_worker_task) qentry; /* fixed pools: the run queue, under the pool's qmu */
	struct cv_worker_pool *pool;        /* loop */
	int abandoned;                      /* loop: delivered, but done must not run */

	pthread_mutex_t mu;
	int delivered; /* the worker wrote the task's pointer to the pipe */
	int orphaned;  /* the loop let go before that: the worker frees the task */

	int wfd;
	cv_worker_fn run, done, free_job;
	void *job;
};

struct cv_worker_pool {
	int pipefd[2];
	struct event *rev;
	TAILQ_HEAD(, cv_worker_task) tasks; /* submitted, not yet collected or orphaned */
	unsigned ntasks;
	unsigned max_tasks;
	/* fixed pools (nthreads > 0): the threads and their queue; the rest is loop-only */
	unsigned nthreads;
	pthread_t *threads;
	pthread_mutex_t qmu;
	pthread_cond_t qcv;
	TAILQ_HEAD(, cv_worker_task) queue; /* under qmu: submitted, not yet taken by a thread */
	bool stopping;                      /* under qmu: threads exit once the queue is empty */
	bool fixed;                         /* tasks go on the queue, not on threads of their own */
	/* fixed pools: tasks run and delivered, not yet taken by the loop (at most max_tasks:
	 * the array never grows), and whether the loop was woken for them; under dmu */
	pthread_mutex_t dmu;
	struct cv_worker_task **done, **taking; /* taking: the loop's, while it collects */
	size_t n_done;
	bool woken;
};

static void
task_free(struct cv_worker_task *t)
{
	t->free_job(t->job);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

/* ---- the worker thread ---- */

static void
write_pointer(int fd, struct cv_worker_task *t)
{
	ssize_t n;

	do
		n = write(fd, &t, sizeof(t));
	while (n < 0 && errno == EINTR);
}

/* A fixed pool's task delivered: on the done list, the loop woken unless it already was. */
static void
deliver_fixed(struct cv_worker_pool *pool, struct cv_worker_task *t)
{
	bool wake;

	pthread_mutex_lock(&pool->dmu);
	pool->done[pool->n_done++] = t; /* room: at most max_tasks are listed */
	wake = !pool->woken;
	pool->woken = true;
	pthread_mutex_unlock(&pool->dmu);
	if (wake)
		write_pointer(pool->pipefd[1], NULL);
}

/*
 * Runs t and hands it back to the loop. A queued task (fixed pools) the loop let go of before
 * a thread took it is dropped without running: nobody wants its result.
 */
static void
execute(struct cv_worker_task *t, bool queued)
{
	struct cv_worker_pool *pool = t->pool;
	bool orphaned;

	pthread_mutex_lock(&t->mu);
	orphaned = t->orphaned;
	pthread_mutex_unlock(&t->mu);
	if (queued && orphaned) {
		task_free(t);
		return;
	}
	t->run(t->job);
	pthread_mutex_lock(&t->mu);
	if (t->orphaned) {
		pthread_mutex_unlock(&t->mu);
		task_free(t);
		return;
	}
	t->delivered = 1;
	if (!queued) {
		/* under the lock: the pool may close the pipe as soon as it is let go */
		write_pointer(t->wfd, t);
		pthread_mutex_unlock(&t->mu);
		return;
	}
	/*
	 * A fixed pool's thread lets go of the lock first: the loop, woken for the task, then
	 * never waits for this thread on it (collect). The pool, read before (t may be freed by a
	 * closing pool from here on), outlives its threads, and closes its pipe after joining them.
	 */
	pthread_mutex_unlock(&t->mu);
	deliver_fixed(pool, t);
}

/* A detached thread of its own: one task. */
static void *
detached_thread(void *arg)
{
	execute(arg, false);
	return NULL;
}

/* A thread of a fixed pool: tasks from the queue until the pool stops and the queue is empty. */
static void *
pool_thread(void *arg)
{
	struct cv_worker_pool *pool = arg;
	struct cv_worker_task *t;

	for (;;) {
		pthread_mutex_lock(&pool->qmu);
		while (TAILQ_EMPTY(&pool->queue) && !pool->stopping)
			pthread_cond_wait(&pool->qcv, &pool->qmu);
		t = TAILQ_FIRST(&pool->queue);
		if (t != NULL)
			TAILQ_REMOVE(&pool->queue, t, qentry);
		pthread_mutex_unlock(&pool->qmu);
		if (t == NULL)
			return NULL;
		execute(t, true);
	}
}

/* ---- the loop side ---- */

static void
unlist(struct cv_worker_task *t)
{
	TAILQ_REMOVE(&t->pool->tasks, t, entry);
	t->pool->ntasks--;
}

/*
 * The loop lets go of t. One still running is unlisted and left to its worker; one already
 * delivered stays listed until its pointer is read from the pipe, or goes now if the pool
 * is closing.
 */
static void
release(struct cv_worker_task *t, int closing)
{
	pthread_mutex_lock(&t->mu);
	if (!t->delivered) {
		/* Unlisted first: once unlocked, the worker may free the task at any moment. */
		unlist(t);
		t->orphaned = 1;
		pthread_mutex_unlock(&t->mu);
		return;
	}
	pthread_mutex_unlock(&t->mu);
	t->abandoned = 1;
	if (closing) {
		unlist(t);
		task_free(t);
	}
}

/* A worker's result reached the loop. */
static void
collect(struct cv_worker_task *t)
{
	/* The worker wrote the pointer under the lock: wait until it has let go of it. */
	pthread_mutex_lock(&t->mu);
	pthread_mutex_unlock(&t->mu);
	unlist(t);
	if (!t->abandoned)
		t->done(t->job);
	task_free(t);
}

#define COLLECT_MAX 64 /* task pointers read from the pipe at once */

/* A fixed pool's done list, taken whole (the loop is woken again for what comes after). */
static void
collect_fixed(struct cv_worker_pool *pool)
{
	struct cv_worker_task **list;
	size_t n;

	pthread_mutex_lock(&pool->dmu);
	list = pool->done;
	n = pool->n_done;
	pool->done = pool->taking;
	pool->taking = list;
	pool->n_done = 0;
	pool->woken = false;
	pthread_mutex_unlock(&pool->dmu);
	for (size_t i = 0; i < n; i++)
		collect(list[i]);
}

/*
 * Results reached the loop: up to COLLECT_MAX pointers per read (pointer-sized writes are
 * atomic, so the pipe only ever holds whole pointers), until the pipe is drained. A NULL
 * pointer: the fixed pool's done list has tasks.
 */
static void
on_pipe(evutil_socket_t fd, short what, void *arg)
{
	struct cv_worker_pool *pool = arg;
	struct cv_worker_task *t[COLLECT_MAX];
	ssize_t n;

	for (;;) {
		n = read(fd, t, sizeof(t));
		if (n < (ssize_t)sizeof(t[0]))
			return; /* EAGAIN: drained */
		for (size_t i = 0; i < (size_t)n / sizeof(t[0]); i++) {
			if (t[i] != NULL)
				collect(t[i]);
			else
				collect_fixed(pool);
		}
		if ((size_t)n < sizeof(t))
			return; /* fewer than asked: the pipe was drained */
	}
}

/* Stops a fixed pool's threads: queued tasks are all orphans by now, running ones finish. */
static void
threads_stop(struct cv_worker_pool *pool)
{
	pthread_mutex_lock(&pool->qmu);
	pool->stopping = true;
	pthread_cond_broadcast(&pool->qcv);
	pthread_mutex_unlock(&pool->qmu);
	for (unsigned i = 0; i < pool->nthreads; i++)
		pthread_join(pool->threads[i], NULL);
	pool->nthreads = 0;
}

static int
threads_start(struct cv_worker_pool *pool, unsigned nthreads)
{
	if ((pool->threads = calloc(nthreads, sizeof(*pool->threads))) == NULL)
		return -1;
	for (; pool->nthreads < nthreads; pool->nthreads++)
		if (pthread_create(&pool->threads[pool->nthreads], NULL, pool_thread, pool) != 0)
			return -1;
	return 0;
}

struct cv_worker_pool *
cv_worker_pool_new_fixed(struct event_base *base, unsigned max_tasks, unsigned nthreads)
{
	struct cv_worker_pool *pool;

	if ((pool = calloc(1, sizeof(*pool))) == NULL)
		return NULL;
	pool->pipefd[0] = pool->pipefd[1] = -1;
	pool->max_tasks = max_tasks;
	TAILQ_INIT(&pool->tasks);
	TAILQ_INIT(&pool->queue);
	pthread_mutex_init(&pool->qmu, NULL);
	pthread_cond_init(&pool->qcv, NULL);
	pthread_mutex_init(&pool->dmu, NULL);
	if (nthreads > 0 && ((pool->done = calloc(max_tasks, sizeof(*pool->done))) == NULL ||
	                     (pool->taking = calloc(max_tasks, sizeof(*pool->taking))) == NULL))
		goto fail;
	if (pipe2(pool->pipefd, O_CLOEXEC) < 0 || fcntl(pool->pipefd[0], F_SETFL, O_NONBLOCK) < 0)
		goto fail;
	if ((pool->rev = event_new(base, pool->pipefd[0], EV_READ | EV_PERSIST, on_pipe, pool)) ==
	        NULL ||
	    event_add(pool->rev, NULL) < 0)
		goto fail;
	if (nthreads > 0 && threads_start(pool, nthreads) < 0)
		goto fail;
	pool->fixed = nthreads > 0;
	return pool;
fail:
	cv_worker_pool_free(pool);
	return NULL;
}

struct cv_worker_pool *
cv_worker_pool_new(struct event_base *base, unsigned max_tasks)
{
	return cv_worker_pool_new_fixed(base, max_tasks, 0);
}

void
cv_worker_pool_free(struct cv_worker_pool *pool)
{
	struct cv_worker_task *t;

	if (pool == NULL)
		return;
	while ((t = TAILQ_FIRST(&pool->tasks)) != NULL)
		release(t, 1);
	threads_stop(pool);
	free(pool->threads);
	pthread_cond_destroy(&pool->qcv);
	pthread_mutex_destroy(&pool->qmu);
	pthread_mutex_destroy(&pool->dmu); /* the done lists' tasks were freed above, unread */
	free(pool->done);
	free(pool->taking);
	if (pool->rev != NULL)
		event_free(pool->rev);
	if (pool->pipefd[0] >= 0)
		close(pool->pipefd[0]);
	if (pool->pipefd[1] >= 0)
		close(pool->pipefd[1]);
	free(pool);
}

/* Starts t: on the fixed pool's queue, or on a detached thread of its own. 0 or an errno. */
static int
start(struct cv_worker_pool *pool, struct cv_worker_task *t)
{
	pthread_attr_t attr;
	pthread_t tid;
	int rc;

	if (pool->fixed) {
		pthread_mutex_lock(&pool->qmu);
		TAILQ_INSERT_TAIL(&pool->queue, t, qentry);
		pthread_cond_signal(&pool->qcv);
		pthread_mutex_unlock(&pool->qmu);
		return 0;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, detached_thread, t);
	pthread_attr_destroy(&attr);
	return rc;
}

int
cv_worker_submit(struct cv_worker_pool *pool, cv_worker_fn run, cv_worker_fn done,
                 cv_worker_fn free_job, void *job, struct cv_worker_task **handle)
{
	struct cv_worker_task *t;
	int rc;

	if (pool->ntasks >= pool->max_tasks) {
		errno = EBUSY;
		return -1;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	pthread_mutex_init(&t->mu, NULL);
	t->pool = pool;
	t->wfd = pool->pipefd[1];
	t->run = run;
	t->done = done;
	t->free_job = free_job;
	t->job = job;
	/* Listed first: the worker may be done before start returns, and the loop reads its
	 * pointer only after this call. */
	TAILQ_INSERT_TAIL(&pool->tasks, t, entry);
	pool->ntasks++;
	if ((rc = start(pool, t)) != 0) {
		unlist(t);
		pthread_mutex_destroy(&t->mu);
		free(t);
		errno = rc;
		return -1;
	}
	if (handle != NULL)
		*handle = t;
	return 0;
}

void
cv_worker_abandon(struct cv_worker_task *task)
{
	if (task != NULL)
		release(task, 0);
}

unsigned
cv_worker_pool_count(const struct cv_worker_pool *pool)
{
	return pool->ntasks;
}

bool
cv_worker_pool_backlog(struct cv_worker_pool *pool)
{
	bool waiting;

	if (!pool->fixed)
		return false;
	pthread_mutex_lock(&pool->qmu);
	waiting = !TAILQ_EMPTY(&pool->queue);
	pthread_mutex_unlock(&pool->qmu);
	return waiting;
}
