/*
 * bench_load.h: what the socket benchmarks share: a scratch directory, a real certvald on a
 * temporary socket, and a load driver that keeps a window of pipelined requests in flight on
 * each of K connections (one thread each) and records every request's latency.
 *
 * Functions return 0 or -1 (with a message on stderr) unless said otherwise.
 */
#ifndef BENCH_LOAD_H
#define BENCH_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Nanoseconds on CLOCK_MONOTONIC. */
uint64_t bench_now_ns(void);

/* A fresh directory under $TMPDIR or /tmp (malloc'd path), or NULL. */
char *bench_tempdir(const char *prefix);

/* Removes dir and everything under it. */
void bench_rmtree(const char *dir);

/* The certvald to run: opt when set, else $CERTVAL_BUILD_DIR/daemon/certvald, else NULL. */
const char *bench_certvald_path(const char *opt, char *buf, size_t size);

/* The project's HTTP test server: opt when set, else
 * $CERTVAL_SOURCE_DIR/tests/support/httpd_fault.py, else NULL. */
const char *bench_httpd_path(const char *opt, char *buf, size_t size);

/* Prints "command: ARGV..." (the first line of every benchmark's report). */
void bench_print_command(int argc, char **argv);

/* A certvald in the foreground; its output goes to DIR/certvald.log. */
struct bench_daemon {
	pid_t pid;
	char sock[256]; /* DIR/certvald.sock */
	char conf[256]; /* DIR/certvald.conf */
	char log[256];  /* DIR/certvald.log */
};

/*
 * Writes config (the socket line is added first) to DIR/certvald.conf, starts certvald and
 * waits until it answers a ping (at most 20 s).
 */
int bench_daemon_start(struct bench_daemon *d, const char *certvald, const char *dir,
                       const char *config);

/* SIGTERM, then waits (SIGKILL after 10 s). Returns the exit status, or -1. */
int bench_daemon_stop(struct bench_daemon *d);

/* Connects to a Unix socket; returns the descriptor or -1. */
int bench_connect(const char *path);

/*
 * A load: request i (0 <= i < total) is `{"id":i,` followed by bodies[(first + i) % n_bodies]
 * and a newline; bodies are the rest of a JSON object, e.g. `"op":"verify",...}`.
 */
struct bench_load {
	const char *sock;
	char *const *bodies;
	size_t n_bodies;
	size_t first;
	size_t total;       /* requests to send; SIZE_MAX: until seconds have passed */
	double seconds;     /* stop sending after this many seconds (<= 0: no limit) */
	int threads;        /* connections, one thread each (1..64) */
	int window;         /* requests in flight per connection (1..256) */
	bool parse_reasons; /* parse every reply with jansson and count reasons */
	double rate;        /* requests per second over all connections; 0: as the window allows */
};

#define BENCH_MAX_REASONS 16

/* What a load got back. Latencies are in nanoseconds, send to reply. */
struct bench_result {
	size_t replies; /* responses received */
	size_t accepts; /* verdicts ACCEPT */
	size_t rejects; /* verdicts REJECT */
	size_t errors;  /* error responses, unparseable lines, broken connections */
	double seconds; /* wall time from the first send to the last reply */
	uint64_t p50, p99, max;
	size_t n_reasons; /* with parse_reasons: "reason/detail" of rejects and errors */
	struct {
		char name[96];
		size_t n;
	} reasons[BENCH_MAX_REASONS];
	char first_problem[200]; /* the first reply that was not an ACCEPT (truncated), or "" */
};

/* Runs a load against a running daemon. Fails only when it cannot run at all. */
int bench_load_run(const struct bench_load *load, struct bench_result *res);

/* GET http://127.0.0.1:port/path; returns the body (malloc'd, NUL-terminated) or NULL. */
char *bench_http_get(int port, const char *path);

/* tests/support/httpd_fault.py (or another server printing its port first) on loopback. */
struct bench_httpd {
	pid_t pid;
	int port;
};

/* Starts python3 SCRIPT --root ROOT and reads the port it prints first. */
int bench_httpd_start(struct bench_httpd *h, const char *script, const char *root);

void bench_httpd_stop(struct bench_httpd *h);

/* How many requests reached path on an httpd_fault.py server, or -1. */
long bench_http_count(int port, const char *path);

#endif
