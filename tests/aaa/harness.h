/*
 * harness.h: what the AAA query tests share: a record of the answer a query got, and a loop
 * runner that stops once every awaited answer came or a time limit passed.
 */
#ifndef CV_TEST_AAA_HARNESS_H
#define CV_TEST_AAA_HARNESS_H

#include <stddef.h>
#include <time.h>

#include <event2/event.h>

#include "../../policy/aaa.h"

struct got {
	int called;
	struct cv_aaa_answer a;
};

static void
on_done(const struct cv_aaa_answer *a, void *arg)
{
	struct got *g = arg;

	g->called++;
	g->a = *a;
}

static void
on_stop(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Runs the loop until each of the n records got its answer, or ms passed; the elapsed ms. */
static long
run_until(struct event_base *base, struct got *g, size_t n, long ms)
{
	struct timespec t0;
	struct event *stop = evtimer_new(base, on_stop, base);
	struct timeval tv = {0, 20000};
	size_t i, done;
	long spent;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		evtimer_add(stop, &tv);
		event_base_loop(base, EVLOOP_ONCE);
		for (done = 0, i = 0; i < n; i++)
			done += g[i].called != 0;
		spent = elapsed_ms(&t0);
	} while (done < n && spent <= ms);
	event_free(stop);
	return spent;
}

#endif
