/*
 * worker.c: blocking calls on detached threads, their results delivered to the event loop
 * through a pipe (the task's pointer). A task the loop abandons is freed by whichever side
 * lets go of it last, so the loop never waits for a thread and a thread never touches the
 * loop or the pool.
 */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/event.h>

/*
 * One task. Fields marked "loop" are touched only by the event loop; delivered and orphaned
 * are shared with the worker under mu; the rest is set before the thread starts.
 */
struct cv_worker_task {
	TAILQ_ENTRY(cv_worker_task) entry; /* loop */
	struct cv_worker_pool *pool;       /* loop */
	int abandoned;                     /* loop: delivered, but done must not run */

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
};

static void
task_free(struct cv_worker_task *t)
{
	t->free_job(t->job);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

/* ---- the worker thread ---- */

static void *
worker(void *arg)
{
	struct cv_worker_task *t = arg;
	ssize_t n;

	t->run(t->job);
	pthread_mutex_lock(&t->mu);
	if (t->orphaned) {
		pthread_mutex_unlock(&t->mu);
		task_free(t);
		return NULL;
	}
	t->delivered = 1;
	do
		n = write(t->wfd, &t, sizeof(t));
	while (n < 0 && errno == EINTR);
	pthread_mutex_unlock(&t->mu);
	return NULL;
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

static void
on_pipe(evutil_socket_t fd, short what, void *arg)
{
	struct cv_worker_task *t;
	ssize_t n;

	for (;;) {
		n = read(fd, &t, sizeof(t));
		if (n != (ssize_t)sizeof(t))
			return; /* EAGAIN: drained (pointer-sized writes are atomic) */
		collect(t);
	}
}

struct cv_worker_pool *
cv_worker_pool_new(struct event_base *base, unsigned max_tasks)
{
	struct cv_worker_pool *pool;

	if ((pool = calloc(1, sizeof(*pool))) == NULL)
		return NULL;
	pool->pipefd[0] = pool->pipefd[1] = -1;
	pool->max_tasks = max_tasks;
	TAILQ_INIT(&pool->tasks);
	if (pipe2(pool->pipefd, O_CLOEXEC) < 0 || fcntl(pool->pipefd[0], F_SETFL, O_NONBLOCK) < 0)
		goto fail;
	if ((pool->rev = event_new(base, pool->pipefd[0], EV_READ | EV_PERSIST, on_pipe, NULL)) ==
	        NULL ||
	    event_add(pool->rev, NULL) < 0)
		goto fail;
	return pool;
fail:
	cv_worker_pool_free(pool);
	return NULL;
}

void
cv_worker_pool_free(struct cv_worker_pool *pool)
{
	struct cv_worker_task *t;

	if (pool == NULL)
		return;
	while ((t = TAILQ_FIRST(&pool->tasks)) != NULL)
		release(t, 1);
	if (pool->rev != NULL)
		event_free(pool->rev);
	if (pool->pipefd[0] >= 0)
		close(pool->pipefd[0]);
	if (pool->pipefd[1] >= 0)
		close(pool->pipefd[1]);
	free(pool);
}

int
cv_worker_submit(struct cv_worker_pool *pool, cv_worker_fn run, cv_worker_fn done,
                 cv_worker_fn free_job, void *job, struct cv_worker_task **handle)
{
	struct cv_worker_task *t;
	pthread_attr_t attr;
	pthread_t tid;
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
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, worker, t);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		pthread_mutex_destroy(&t->mu);
		free(t);
		errno = rc;
		return -1;
	}
	/* The worker may already be done: the loop reads its pointer only after this. */
	TAILQ_INSERT_TAIL(&pool->tasks, t, entry);
	pool->ntasks++;
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
