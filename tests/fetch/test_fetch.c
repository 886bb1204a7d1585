/*
 * test_fetch.c: the fetcher's HTTP side against tests/support/httpd_fault.py on loopback:
 * results and errors, deadlines, size cap, redirects, schemes, single-flight, negative cache,
 * cancel, conditional GET, POST, proxy and source address.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "../support/check.h"
#include "../support/httpd.h"
#include "harness.h"

static struct cv_clock clk;
static int port;
static char url_buf[512];

static const char *
url(const char *path)
{
	snprintf(url_buf, sizeof(url_buf), "http://127.0.0.1:%d%s", port, path);
	return url_buf;
}

/* How many requests reached path, asked with a blocking socket (not through the fetcher). */
static int
server_count(const char *path)
{
	struct sockaddr_in sa;
	char req[512], resp[4096], *body;
	size_t got = 0;
	ssize_t n;
	int fd, count = -1;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	loopback_addr(&sa, port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out;
	snprintf(req, sizeof(req), "GET /_count?path=%s HTTP/1.0\r\n\r\n", path);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		goto out;
	while (got < sizeof(resp) - 1 && (n = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0)
		got += (size_t)n;
	resp[got] = '\0';
	if ((body = strstr(resp, "\r\n\r\n")) != NULL)
		count = atoi(body + 4);
out:
	close(fd);
	return count;
}

/* One fetch, run to completion. */
static void
fetch1(struct cv_fetcher *f, const char *path, const struct cv_fetch_opts *o, struct got *g)
{
	got_free(g);
	CHECK(start(f, url(path), o, g) != NULL);
	CHECK_INT_EQ(g->called, 0); /* never from inside cv_fetch_start */
	run_loop(20000);
	CHECK_INT_EQ(g->called, 1);
}

static void
test_good_and_errors(struct cv_fetcher *f)
{
	struct got g = {0};
	size_t i;
	int same = 1;

	fetch1(f, "/bytes/100000", NULL, &g);
	CHECK(g.ok);
	CHECK_INT_EQ(g.status, 200);
	CHECK_INT_EQ(g.len, 100000);
	for (i = 0; g.data && i < g.len; i++)
		same &= g.data[i] == (uint8_t)((i * 7 + 3) & 0xff);
	CHECK(same);

	fetch1(f, "/status/404/a", NULL, &g);
	CHECK(!g.ok);
	CHECK_INT_EQ(g.status, 404);
	CHECK_STR_EQ(g.error, "HTTP 404");
	CHECK_INT_EQ(g.len, 0);

	fetch1(f, "/status/500/a", NULL, &g);
	CHECK(!g.ok);
	CHECK_STR_EQ(g.error, "HTTP 500");

	fetch1(f, "/reset/a", NULL, &g);
	CHECK(!g.ok);
	CHECK(g.error[0] != '\0');

	fetch1(f, "/garbage/a", NULL, &g);
	CHECK(!g.ok);
	CHECK(g.error[0] != '\0');

	/* https is allowed: against a plain HTTP port it fails in the TLS handshake. */
	snprintf(url_buf, sizeof(url_buf), "https://127.0.0.1:%d/bytes/1", port);
	got_free(&g);
	CHECK(start(f, url_buf, NULL, &g) != NULL);
	run_loop(5000);
	CHECK(!g.ok);
	CHECK(g.error[0] != '\0' && strstr(g.error, "not supported") == NULL);

	snprintf(url_buf, sizeof(url_buf), "http://127.0.0.1:%d/x", dead_port());
	got_free(&g);
	CHECK(start(f, url_buf, NULL, &g) != NULL);
	run_loop(5000);
	CHECK(!g.ok);
	CHECK_STR_EQ(g.error, "connection refused");
	got_free(&g);
}

static void
test_timeout(struct cv_fetcher *f)
{
	struct cv_fetch_opts o;
	struct got g = {0};
	long t0 = now_ms(), took;

	cv_fetch_opts_init(&o);
	o.timeout_ms = 500;
	fetch1(f, "/stall/t1", &o, &g);
	took = now_ms() - t0;
	CHECK(!g.ok);
	CHECK_STR_EQ(g.error, "timeout after 500 ms");
	CHECK(took >= 450 && took < 2000);
	CHECK(g.elapsed_ms >= 450 && g.elapsed_ms < 2000);
	got_free(&g);
}

static void
test_size_cap(struct cv_fetcher *f)
{
	struct cv_fetch_opts o;
	struct got g = {0};
	long t0;

	cv_fetch_opts_init(&o);
	o.max_bytes = 1024 * 1024;
	t0 = now_ms();
	fetch1(f, "/huge/200", &o, &g); /* Content-Length says 200 MiB: refused at once */
	CHECK(!g.ok);
	CHECK_STR_EQ(g.error, "too large (> 1048576 bytes)");
	CHECK(now_ms() - t0 < 3000);

	t0 = now_ms();
	fetch1(f, "/huge/200/nolength", &o, &g); /* no length: cut off after 1 MiB */
	CHECK(!g.ok);
	CHECK_STR_EQ(g.error, "too large (> 1048576 bytes)");
	CHECK(now_ms() - t0 < 3000);

	o.max_bytes = 1000;
	fetch1(f, "/bytes/1000", &o, &g); /* exactly the cap is fine */
	CHECK(g.ok);
	CHECK_INT_EQ(g.len, 1000);
	fetch1(f, "/bytes/1001", &o, &g);
	CHECK(!g.ok);
	CHECK_STR_EQ(g.error, "too large (> 1000 bytes)");
	got_free(&g);
}

static void
test_redirects(struct cv_fetcher *f)
{
	struct cv_fetch_opts o;
	struct got g = {0};

	cv_fetch_opts_init(&o);
	o.max_redirects = 3;
	fetch1(f, "/loop/0", &o, &g);
	CHECK(!g.ok);
	CHECK_STR_EQ(g.error, "too many redirects (> 3)");
	CHECK_INT_EQ(server_count("/loop/3"), 1);
	CHECK_INT_EQ(server_count("/loop/4"), 0);

	fetch1(f, "/redirect/bytes/10", &o, &g);
	CHECK(g.ok);
	CHECK_INT_EQ(g.len, 10);

	o.max_redirects = 0;
	fetch1(f, "/redirect/bytes/11", &o, &g);
	CHECK(!g.ok);
	CHECK_STR_EQ(g.error, "HTTP 302");
	CHECK_INT_EQ(server_count("/bytes/11"), 0);

	/* A redirect may not leave http and https. */
	o.max_redirects = 3;
	fetch1(f, "/redirect_to?url=file:///etc/passwd", &o, &g);
	CHECK(!g.ok);
	CHECK(strstr(g.error, "file") != NULL); /* curl: Protocol "file" not supported */
	got_free(&g);
}

static void
test_schemes(struct cv_fetcher *f)
{
	static const char *bad[] = {
	    "file:///etc/passwd",
	    "ftp://127.0.0.1/crl",
	    "tftp://127.0.0.1/x",
	    "gopher://h/",
	    "http://",
	    "not a url",
	    "",
	};
	struct cv_error err = {{0}};
	struct got g = {0};

	check_refused(f, bad, sizeof(bad) / sizeof(bad[0]), &g);
	cv_fetch_start(f, "FTP://127.0.0.1/crl", NULL, on_done, &g, &err);
	CHECK(strstr(err.msg, "scheme not allowed") != NULL);
	run_loop(50);
	CHECK_INT_EQ(g.called, 0);
	/* Scheme case does not matter for allowed ones. */
	snprintf(url_buf, sizeof(url_buf), "HTTP://127.0.0.1:%d/bytes/3", port);
	CHECK(start(f, url_buf, NULL, &g) != NULL);
	run_loop(5000);
	CHECK(g.ok && g.len == 3);
	got_free(&g);
}

static void
test_single_flight(struct cv_fetcher *f)
{
	enum { N = 200 };
	static struct got g[N];
	struct cv_fetcher_stats before, after;
	int i, ok = 0, coalesced = 0, called = 0, same = 0;

	cv_fetcher_get_stats(f, &before);
	for (i = 0; i < N; i++)
		CHECK(start(f, url("/stall/300/sf"), NULL, &g[i]) != NULL);
	run_loop(10000);
	for (i = 0; i < N; i++) {
		called += g[i].called;
		ok += g[i].ok;
		coalesced += g[i].coalesced;
		same += g[i].data && strcmp((char *)g[i].data, "stalled 300") == 0;
		got_free(&g[i]);
	}
	CHECK_INT_EQ(called, N);
	CHECK_INT_EQ(ok, N);
	CHECK_INT_EQ(same, N);
	CHECK_INT_EQ(coalesced, N - 1);
	CHECK_INT_EQ(server_count("/stall/300/sf"), 1);
	cv_fetcher_get_stats(f, &after);
	CHECK_INT_EQ(after.transfers - before.transfers, 1);
	CHECK_INT_EQ(after.coalesced - before.coalesced, N - 1);

	/* A joiner with a shorter deadline leaves at its own deadline; the transfer goes on. */
	{
		struct cv_fetch_opts o_long, o_short;
		long t0 = now_ms(), t_short = -1;

		cv_fetch_opts_init(&o_long);
		o_long.timeout_ms = 5000;
		cv_fetch_opts_init(&o_short);
		o_short.timeout_ms = 200;
		CHECK(start(f, url("/stall/800/jd"), &o_long, &g[0]) != NULL);
		CHECK(start(f, url("/stall/800/jd"), &o_short, &g[1]) != NULL);
		while (pending == 2 && now_ms() - t0 < 3000)
			event_base_loop(base, EVLOOP_ONCE);
		t_short = now_ms() - t0;
		CHECK_INT_EQ(g[1].called, 1);
		CHECK_STR_EQ(g[1].error, "timeout after 200 ms");
		CHECK(g[1].coalesced);
		CHECK(t_short >= 150 && t_short < 700);
		CHECK_INT_EQ(g[0].called, 0);
		run_loop(5000);
		CHECK(g[0].ok);
		CHECK_INT_EQ(g[1].called, 1);
		CHECK_INT_EQ(server_count("/stall/800/jd"), 1);
		got_free(&g[0]);
		got_free(&g[1]);
	}

	/* Once done, the next start is a new transfer. */
	CHECK(start(f, url("/stall/300/sf"), NULL, &g[0]) != NULL);
	run_loop(5000);
	CHECK_INT_EQ(g[0].coalesced, 0);
	CHECK_INT_EQ(server_count("/stall/300/sf"), 2);
	got_free(&g[0]);
}

/* What a waiter of test_take_body saw: whether it could take the body, and what it held. */
struct took {
	int called;
	int taken;     /* cv_fetch_take_body returned the body */
	int again;     /* a second call returned it too (must not) */
	int data_ok;   /* r->data held the body before the take was tried */
	char body[64]; /* the body taken (its length checked, NUL added) */
};

static void
on_take(const struct cv_fetch_result *r, void *arg)
{
	struct took *t = arg;
	size_t len = 0, len2 = 0;
	uint8_t *body, *body2;

	/* every waiter sees the body; a waiter that takes it reads it from what it took */
	t->data_ok = r->data != NULL && r->len == strlen("stalled 300") &&
	             memcmp(r->data, "stalled 300", r->len) == 0;
	body = cv_fetch_take_body(r, &len);
	body2 = cv_fetch_take_body(r, &len2);
	t->called++;
	t->taken = body != NULL;
	t->again = body2 != NULL;
	if (body != NULL && len < sizeof(t->body)) {
		memcpy(t->body, body, len);
		t->body[len] = '\0';
	}
	free(body);
	free(body2);
	pending--;
}

/* Issue 13: the last waiter of a transfer takes its body (no copy); the others may not. */
static void
test_take_body(struct cv_fetcher *f)
{
	enum { N = 3 };
	struct took t[N];
	struct cv_error err = {{0}};
	int i;

	memset(t, 0, sizeof(t));
	for (i = 0; i < N; i++) {
		CHECK(cv_fetch_start(f, url("/stall/300/tb"), NULL, on_take, &t[i], &err) != NULL);
		pending++;
	}
	run_loop(5000);
	for (i = 0; i < N; i++) {
		CHECK_INT_EQ(t[i].called, 1);
		CHECK(t[i].data_ok);
		CHECK_INT_EQ(t[i].again, 0);
		CHECK_INT_EQ(t[i].taken, i == N - 1); /* the waiters are called in order */
	}
	CHECK_STR_EQ(t[N - 1].body, "stalled 300");
	CHECK_INT_EQ(server_count("/stall/300/tb"), 1);

	/* alone, a waiter is the last one */
	memset(t, 0, sizeof(t));
	CHECK(cv_fetch_start(f, url("/stall/300/tb1"), NULL, on_take, &t[0], &err) != NULL);
	pending++;
	run_loop(5000);
	CHECK(t[0].taken && !t[0].again);
	CHECK_STR_EQ(t[0].body, "stalled 300");

	/* a failure has no body to take */
	memset(t, 0, sizeof(t));
	CHECK(cv_fetch_start(f, url("/status/404"), NULL, on_take, &t[0], &err) != NULL);
	pending++;
	run_loop(5000);
	CHECK_INT_EQ(t[0].called, 1);
	CHECK_INT_EQ(t[0].taken, 0);
}

struct url_seen {
	const char *url;
	char state[16];
	uint64_t failures;
	cv_time next_retry;
};

static void
on_url(const struct cv_fetch_url_info *info, void *arg)
{
	struct url_seen *s = arg;

	if (strcmp(info->url, s->url) == 0) {
		snprintf(s->state, sizeof(s->state), "%s", info->state);
		s->failures = info->failures;
		s->next_retry = info->next_retry;
	}
}

static void
test_negative_cache(void)
{
	struct cv_fetcher *f = cv_fetcher_new(base, &clk, 10);
	struct cv_fetcher_stats st;
	struct url_seen seen = {0};
	struct got g = {0};
	char u[512];

	snprintf(u, sizeof(u), "%s", url("/status/500/neg"));
	fetch1(f, "/status/500/neg", NULL, &g);
	CHECK(!g.ok && !g.negative);
	CHECK_INT_EQ(server_count("/status/500/neg"), 1);

	seen.url = u;
	cv_fetcher_foreach_url(f, on_url, &seen);
	CHECK_STR_EQ(seen.state, "failed");
	CHECK_INT_EQ(seen.failures, 1);
	CHECK(seen.next_retry != CV_TIME_NONE);

	fetch1(f, "/status/500/neg", NULL, &g); /* within retry-after: the server is not asked */
	CHECK(!g.ok);
	CHECK(g.negative);
	CHECK(strncmp(g.error, "negative-cached: HTTP 500 (retry in ", 36) == 0);
	CHECK_INT_EQ(server_count("/status/500/neg"), 1);
	cv_fetcher_get_stats(f, &st);
	CHECK_INT_EQ(st.negative_hits, 1);

	clk.offset += 11; /* past retry-after */
	cv_fetcher_foreach_url(f, on_url, &seen);
	CHECK_STR_EQ(seen.state, "retry");
	fetch1(f, "/status/500/neg", NULL, &g);
	CHECK(!g.ok && !g.negative);
	CHECK_STR_EQ(g.error, "HTTP 500");
	CHECK_INT_EQ(server_count("/status/500/neg"), 2);

	/* clear_negative lets the next start through at once. */
	cv_fetcher_clear_negative(f);
	fetch1(f, "/status/500/neg", NULL, &g);
	CHECK(!g.negative);
	CHECK_INT_EQ(server_count("/status/500/neg"), 3);

	/* A success ends the failure state of its URL. */
	fetch1(f, "/bytes/5", NULL, &g);
	CHECK(g.ok);
	clk.offset = 0;
	got_free(&g);
	cv_fetcher_free(f);

	/* retry-after 0: every start contacts the server (the manuals' behaviour, R15). */
	f = cv_fetcher_new(base, &clk, 0);
	fetch1(f, "/status/500/neg0", NULL, &g);
	fetch1(f, "/status/500/neg0", NULL, &g);
	CHECK(!g.negative);
	CHECK_INT_EQ(server_count("/status/500/neg0"), 2);
	got_free(&g);
	cv_fetcher_free(f);
}

static void
test_cancel(struct cv_fetcher *f)
{
	struct got a = {0}, b = {0}, c = {0};
	struct cv_fetch *ha, *hc;
	struct cv_fetcher *f2;

	/* The only waiter leaves: no callback, the transfer is dropped. */
	ha = start(f, url("/stall/300/c1"), NULL, &a);
	cv_fetch_cancel(ha);
	pending--;
	run_loop(50);
	pending = 1; /* run the loop a while to see that nothing arrives */
	run_loop(600);
	pending = 0;
	CHECK_INT_EQ(a.called, 0);

	/* One of two waiters leaves: the other still gets the result. */
	ha = start(f, url("/stall/200/c2"), NULL, &a);
	CHECK(start(f, url("/stall/200/c2"), NULL, &b) != NULL);
	cv_fetch_cancel(ha);
	pending--;
	run_loop(5000);
	CHECK_INT_EQ(a.called, 0);
	CHECK_INT_EQ(b.called, 1);
	CHECK(b.ok);
	CHECK_INT_EQ(server_count("/stall/200/c2"), 1);

	/* Freeing a fetcher with transfers in flight calls nobody and leaks nothing. */
	f2 = cv_fetcher_new(base, &clk, 10);
	hc = start(f2, url("/stall/fl"), NULL, &c);
	CHECK(hc != NULL);
	free_in_flight(f2, 200, 200);
	CHECK_INT_EQ(c.called, 0);
	got_free(&a);
	got_free(&b);
	got_free(&c);
}

static void
test_conditional(struct cv_fetcher *f)
{
	struct cv_fetch_opts o;
	struct got g = {0};

	fetch1(f, "/etag/v1", NULL, &g);
	CHECK(g.ok && !g.not_modified);
	CHECK_STR_EQ((char *)g.data, "etag-v1");
	CHECK_STR_EQ(g.etag, "\"v1\"");
	CHECK_INT_EQ(g.last_modified, 1300000000);

	cv_fetch_opts_init(&o);
	o.etag = "\"v1\"";
	fetch1(f, "/etag/v1", &o, &g);
	CHECK(g.ok);
	CHECK(g.not_modified);
	CHECK_INT_EQ(g.status, 304);
	CHECK_INT_EQ(g.len, 0);

	o.etag = "\"v0\"";
	fetch1(f, "/etag/v1", &o, &g);
	CHECK(g.ok && !g.not_modified);
	CHECK_INT_EQ(g.len, 7);

	cv_fetch_opts_init(&o);
	o.if_modified_since = 1300000000;
	fetch1(f, "/etag/v1", &o, &g);
	CHECK(g.ok && g.not_modified);

	o.if_modified_since = 1200000000; /* older than Last-Modified: full body */
	fetch1(f, "/etag/v1", &o, &g);
	CHECK(g.ok && !g.not_modified);
	CHECK_INT_EQ(g.len, 7);

	/* An ETag with a line break never reaches the wire. */
	cv_fetch_opts_init(&o);
	o.etag = "\"v1\"\r\nX-Evil: 1";
	got_free(&g);
	{
		struct cv_error err = {{0}};
		CHECK(cv_fetch_start(f, url("/etag/v1"), &o, on_done, &g, &err) == NULL);
	}
	got_free(&g);
}

/* Issue 16, RFC 9111 4.2: how long the server says an answer stays fresh. */
static void
test_freshness(struct cv_fetcher *f)
{
	struct got g = {0};

	fetch1(f, "/cachehdr/max-age/600", NULL, &g);
	CHECK(g.ok);
	CHECK_INT_EQ(g.fresh_s, 600);
	fetch1(f, "/cachehdr/aged/600", NULL, &g); /* a shared cache held it 10 s */
	CHECK_INT_EQ(g.fresh_s, 590);
	fetch1(f, "/cachehdr/expires/600", NULL, &g);
	CHECK(g.fresh_s >= 599 && g.fresh_s <= 600);
	fetch1(f, "/cachehdr/no-store/600", NULL, &g); /* no-store wins over max-age */
	CHECK_INT_EQ(g.fresh_s, 0);
	fetch1(f, "/cachehdr/none/0", NULL, &g);
	CHECK_INT_EQ(g.fresh_s, -1);
	fetch1(f, "/etag/v1", NULL, &g);
	CHECK_INT_EQ(g.fresh_s, -1);
	got_free(&g);
}

static void
test_post(struct cv_fetcher *f)
{
	static const uint8_t body[] = {0x30, 0x00, 0x0a, 0xff, 'o', 'c', 's', 'p', 0x00, 0x0d};
	static const char prefix[] = "Content-Type: application/ocsp-request\n";
	struct cv_fetch_opts o, o2;
	struct got g = {0}, g2 = {0}, g3 = {0};
	uint8_t body2[] = {1, 2, 3};

	cv_fetch_opts_init(&o);
	o.post_body = body;
	o.post_len = sizeof(body);
	o.content_type = "application/ocsp-request";
	fetch1(f, "/echo", &o, &g);
	CHECK(g.ok);
	CHECK_INT_EQ(g.len, strlen(prefix) + sizeof(body));
	CHECK(g.len >= strlen(prefix) && memcmp(g.data, prefix, strlen(prefix)) == 0 &&
	      memcmp(g.data + strlen(prefix), body, sizeof(body)) == 0);

	/* Different bodies are different fetches; the same body is shared. */
	o2 = o;
	o2.post_body = body2;
	o2.post_len = sizeof(body2);
	CHECK(start(f, url("/echo"), &o, &g) != NULL);
	CHECK(start(f, url("/echo"), &o2, &g2) != NULL);
	CHECK(start(f, url("/echo"), &o, &g3) != NULL);
	run_loop(5000);
	CHECK(g.ok && g2.ok && g3.ok);
	CHECK(g3.coalesced && !g2.coalesced);
	CHECK_INT_EQ(g2.len, strlen(prefix) + 3);
	CHECK_INT_EQ(server_count("/echo"), 3);
	got_free(&g);
	got_free(&g2);
	got_free(&g3);
}

static void
test_proxy_and_source(struct cv_fetcher *f)
{
	struct cv_fetch_opts o;
	struct got g = {0};
	char proxy[64];

	/* Through a proxy (the fault server answers proxy requests too): no DNS for the host. */
	cv_fetch_opts_init(&o);
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", port);
	o.proxy = proxy;
	CHECK(start(f, "http://cdp.invalid/bytes/6", &o, &g) != NULL);
	run_loop(5000);
	CHECK(g.ok);
	CHECK_INT_EQ(g.len, 6);

	/* R22: the source address is the configured one. */
	cv_fetch_opts_init(&o);
	o.source_interface = "127.0.0.2";
	fetch1(f, "/peer", &o, &g);
	CHECK(g.ok);
	CHECK_STR_EQ((char *)g.data, "127.0.0.2");
	fetch1(f, "/peer", NULL, &g);
	CHECK_STR_EQ((char *)g.data, "127.0.0.1");
	got_free(&g);
}

int
main(void)
{
	struct cv_fetcher *f;
	pid_t pid;

	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	if ((pid = test_httpd_start(NULL, &port, NULL)) < 0) {
		fprintf(stderr, "cannot start httpd_fault.py\n");
		return 1;
	}
	f = cv_fetcher_new(base, &clk, 0);
	CHECK(f != NULL);
	test_good_and_errors(f);
	test_timeout(f);
	test_size_cap(f);
	test_redirects(f);
	test_schemes(f);
	test_single_flight(f);
	test_take_body(f);
	test_negative_cache();
	test_cancel(f);
	test_conditional(f);
	test_freshness(f);
	test_post(f);
	test_proxy_and_source(f);
	cv_fetcher_free(f);
	event_base_free(base);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return check_summary();
}
