/*
 * worker.h: work off the event loop whose result the loop receives: a blocking call on a
 * detached thread of its own, or CPU work on a fixed set of threads. The loop may give up on
 * a task (abandon); it then finishes (or, still queued, is dropped) and its job is freed.
 */
#ifndef CV_WORKER_H
#define CV_WORKER_H

#include <stdbool.h>

struct event_base;
struct cv_worker_pool;
struct cv_worker_task;

/* One of the three functions a task is made of; job is the caller's structure. */
typedef void (*cv_worker_fn)(void *job);

/*
 * A pool of at most max_tasks tasks that the loop of base waits for. Tasks the loop
 * abandoned while they ran do not count: their threads finish alone. NULL on failure.
 */
struct cv_worker_pool *cv_worker_pool_new(struct event_base *base, unsigned max_tasks);

/*
 * A pool of nthreads threads (0: as cv_worker_pool_new) serving a queue of at most max_tasks
 * tasks in submission order. The tasks' run must be bounded: freeing the pool waits for the
 * running ones (queued ones are dropped, their jobs freed without run or done).
 */
struct cv_worker_pool *cv_worker_pool_new_fixed(struct event_base *base, unsigned max_tasks,
                                                unsigned nthreads);

/*
 * Frees the pool from the loop. Tasks still running are abandoned (their threads free their
 * jobs when their blocking call returns); tasks finished but not yet seen by the loop are
 * freed now. No done runs. Loop-side state of the jobs (timers) is the caller's to release
 * first. A fixed pool's free returns once its threads have ended (after their running tasks).
 */
void cv_worker_pool_free(struct cv_worker_pool *pool);

/*
 * Runs run(job) on a new detached thread (a fixed pool: on one of its threads). When it returns,
 * done(job) runs on the loop and then free_job(job); done must not free the pool. When the loop
 * abandons the task first, done never runs and free_job(job) runs on whichever side lets go last
 * (possibly the worker thread: free_job must not touch the loop). run must end on its own (its own
 * timeouts). The job's memory is the pool's from a successful call on; *handle (may be NULL) names
 * the task until done runs or the task is abandoned. Returns 0, or -1 with errno EBUSY (max_tasks
 * reached), ENOMEM, or pthread_create's error; on failure the job stays the caller's.
 */
int cv_worker_submit(struct cv_worker_pool *pool, cv_worker_fn run, cv_worker_fn done,
                     cv_worker_fn free_job, void *job, struct cv_worker_task **handle);

/* The loop gives up on a task (from the loop, before its done ran): done will not run. */
void cv_worker_abandon(struct cv_worker_task *task);

/* Tasks submitted and not yet done or abandoned while running (see cv_worker_pool_new). */
unsigned cv_worker_pool_count(const struct cv_worker_pool *pool);

/* Any thread: tasks of a fixed pool wait in its queue for a thread (every thread is busy).
 * false for a pool of detached threads. */
bool cv_worker_pool_backlog(struct cv_worker_pool *pool);

#endif
