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

/* A port on which nothing listens. */
static int __attribute__((unused)) dead_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), p;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(fd, (struct sockaddr *)&sa, &len);
	p = ntohs(sa.sin_port);
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

#endif
