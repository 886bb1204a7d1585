/* harness.h: what the fetcher tests share: a loop runner and a callback that records results. */
#ifndef CV_TEST_FETCH_HARNESS_H
#define CV_TEST_FETCH_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "../../validator/fetch/fetch.h"
#include "../support/check.h"

static struct event_base *base;

struct got {
	int called;
	int ok;
	long status;
	char error[CV_FETCH_ERROR_MAX];
	char etag[128];
	uint8_t *data;
	size_t len;
	int not_modified;
	int coalesced;
	int negative;
	cv_time last_modified;
	long fresh_s;
	unsigned elapsed_ms;
	char url[512];
};

static int pending;

static void __attribute__((unused)) on_done(const struct cv_fetch_result *r, void *arg)
{
	struct got *g = arg;

	g->called++;
	g->ok = r->ok;
	g->status = r->http_status;
	snprintf(g->error, sizeof(g->error), "%s", r->error);
	snprintf(g->etag, sizeof(g->etag), "%s", r->etag);
	free(g->data);
	g->data = malloc(r->len + 1);
	memcpy(g->data, r->data ? (const void *)r->data : "", r->len);
	g->data[r->len] = '\0';
	g->len = r->len;
	g->not_modified = r->not_modified;
	g->coalesced = r->coalesced;
	g->negative = r->from_negative_cache;
	g->last_modified = r->last_modified;
	g->fresh_s = r->fresh_s;
	g->elapsed_ms = r->elapsed_ms;
	snprintf(g->url, sizeof(g->url), "%s", r->url ? r->url : "");
	pending--;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Runs the loop until no fetch is pending or max_ms have passed; returns the time taken. */
static long __attribute__((unused)) run_loop(long max_ms)
{
	long start = now_ms();
	struct timeval tv = {0, 20000};

	while (pending > 0 && now_ms() - start < max_ms) {
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	return now_ms() - start;
}

static void __attribute__((unused)) got_free(struct got *g)
{
	free(g->data);
	memset(g, 0, sizeof(*g));
}

/* 127.0.0.1:port */
static void __attribute__((unused)) loopback_addr(struct sockaddr_in *sa, int port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

/* A TCP socket bound to a free loopback port, which *port receives; -1 on error. */
static int __attribute__((unused)) bound_socket(int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	loopback_addr(&sa, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* A port on which nothing listens. */
static int __attribute__((unused)) dead_port(void)
{
	int p = 0, fd = bound_socket(&p);

	if (fd >= 0)
		close(fd);
	return p;
}

static struct cv_fetch *__attribute__((unused))
start(struct cv_fetcher *f, const char *u, const struct cv_fetch_opts *o, struct got *g)
{
	struct cv_error err = {{0}};
	struct cv_fetch *h = cv_fetch_start(f, u, o, on_done, g, &err);

	if (h != NULL)
		pending++;
	else
		fprintf(stderr, "start %s: %s\n", u, err.msg);
	return h;
}

/* cv_fetch_start refuses each of the n URLs with a message (and never calls on_done). */
static void __attribute__((unused))
check_refused(struct cv_fetcher *f, const char *const *bad, size_t n, struct got *g)
{
	for (size_t i = 0; i < n; i++) {
		struct cv_error err = {{0}};
		struct cv_fetch *h = cv_fetch_start(f, bad[i], NULL, on_done, g, &err);

		if (h != NULL || err.msg[0] == '\0')
			fprintf(stderr, "URL \"%s\" was not refused with a message\n", bad[i]);
		CHECK(h == NULL);
		CHECK(err.msg[0] != '\0');
	}
}

/* Frees fetcher f while its transfer is in flight, after letting it run for before_ms; the
 * loop then runs for after_ms, in which nobody may be called (the caller checks). */
static void __attribute__((unused))
free_in_flight(struct cv_fetcher *f, long before_ms, long after_ms)
{
	pending = 1;
	run_loop(before_ms);
	cv_fetcher_free(f);
	pending = 1;
	run_loop(after_ms);
	pending = 0;
}

#endif
