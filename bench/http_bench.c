/*
 * http_bench.c: verdicts per second through the HTTP front's GET /v1/auth (as nginx's
 * auth_request asks: one request at a time per keep-alive connection, the leaf only as
 * URL-encoded PEM, the intermediate from `intermediate-pool`) against the socket's rate on the
 * same chains (the leaf with the intermediate in "extra", as raw JSON lines).
 *
 * Generates root -> intermediate -> N leaves (ECDSA P-256), starts certvald with one
 * trustpoint (`revocation-check none`) and `http listen unix:DIR/http.sock`, then runs, for K
 * client threads: the socket with one request in flight per connection, the socket with W
 * pipelined, and /v1/auth; each for S seconds over the same chains.
 *
 * usage: http_bench [--leaves N] [--clients K] [--window W] [--seconds S] [--certvald PATH]
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench_load.h"
#include "bench_pki.h"

#define MAX_THREADS 64
#define REPLY_MAX   8192

struct opts {
	size_t leaves;
	int clients;
	int window;
	double seconds;
	const char *certvald;
};

struct chains {
	size_t n;
	char **body;    /* socket: the JSON request after its id */
	char **request; /* HTTP: the whole GET /v1/auth request */
};

struct http_thread {
	const char *sock;
	const struct chains *c;
	size_t first;
	double seconds;
	size_t ok, bad;
	uint64_t *lat; /* ns per request */
	size_t n_lat, cap_lat;
	int rc;
};

static void
usage(void)
{
	fprintf(stderr, "usage: http_bench [--leaves N] [--clients K] [--window W] [--seconds S]\n"
	                "                  [--certvald PATH]\n");
	exit(2);
}

static void
parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"leaves", required_argument, NULL, 'n'},   {"clients", required_argument, NULL, 'k'},
	    {"window", required_argument, NULL, 'w'},   {"seconds", required_argument, NULL, 't'},
	    {"certvald", required_argument, NULL, 'c'}, {NULL, 0, NULL, 0}};
	int ch;

	*o = (struct opts){100, 2, 16, 5.0, NULL};
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			o->leaves = strtoul(optarg, NULL, 10);
			break;
		case 'k':
			o->clients = atoi(optarg);
			break;
		case 'w':
			o->window = atoi(optarg);
			break;
		case 't':
			o->seconds = atof(optarg);
			break;
		case 'c':
			o->certvald = optarg;
			break;
		default:
			usage();
		}
	}
	if (o->leaves == 0 || o->clients < 1 || o->clients > MAX_THREADS || o->window < 1 ||
	    o->window > 256 || o->seconds <= 0)
		usage();
}

/* RFC 3986 percent-encoding of everything but unreserved characters (nginx's escaping). */
static char *
url_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(3 * strlen(s) + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

static char *
leaf_pem(gnutls_x509_crt_t crt)
{
	gnutls_datum_t pem = {NULL, 0};
	char *s;

	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem) < 0)
		return NULL;
	s = strndup((const char *)pem.data, pem.size);
	gnutls_free(pem.data);
	return s;
}

/* The leaf requests (n of them) under one root and one intermediate, written to dir. */
static int
make_leaves(struct chains *c, gnutls_x509_crt_t s, const struct bench_key *sub_key,
            const struct bench_key *leaf_key, const char *sub_b64)
{
	for (size_t i = 0; i < c->n; i++) {
		struct bench_cert_opts lo = {NULL, 100 + i, false, -1, NULL};
		char dn[64], *b64 = NULL, *pem = NULL, *esc = NULL;
		gnutls_x509_crt_t leaf = NULL;
		int rc = -1;

		snprintf(dn, sizeof(dn), "CN=http bench leaf %zu,O=certval bench", i);
		lo.dn = dn;
		if (bench_cert_issue(&lo, leaf_key, s, sub_key, &leaf) == 0 &&
		    (b64 = bench_cert_base64(leaf)) != NULL && (pem = leaf_pem(leaf)) != NULL &&
		    (esc = url_escape(pem)) != NULL &&
		    asprintf(&c->body[i],
		             "\"op\":\"verify\",\"trustpoint\":\"BENCH\",\"purpose\":\"client\","
		             "\"chain\":[\"%s\"],\"extra\":[\"%s\"]}",
		             b64, sub_b64) >= 0 &&
		    asprintf(&c->request[i],
		             "GET /v1/auth?trustpoint=BENCH HTTP/1.1\r\nHost: certval\r\n"
		             "X-Client-Cert: %s\r\n\r\n",
		             esc) >= 0)
			rc = 0;
		free(b64);
		free(pem);
		free(esc);
		if (leaf != NULL)
			gnutls_x509_crt_deinit(leaf);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static void
chains_free(struct chains *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->body != NULL ? c->body[i] : NULL);
		free(c->request != NULL ? c->request[i] : NULL);
	}
	free(c->body);
	free(c->request);
	memset(c, 0, sizeof(*c));
}

static int
make_chains(struct chains *c, size_t n, const char *dir)
{
	struct bench_cert_opts root = {"CN=http bench root,O=certval bench", 1, true, -1, NULL};
	struct bench_cert_opts sub = {"CN=http bench sub,O=certval bench", 2, true, 0, NULL};
	struct bench_key root_key = {0}, sub_key = {0}, leaf_key = {0};
	gnutls_x509_crt_t r = NULL, s = NULL;
	char root_path[512], pool_path[512], *sub_b64 = NULL;
	int rc = -1;

	c->n = n;
	c->body = calloc(n, sizeof(*c->body));
	c->request = calloc(n, sizeof(*c->request));
	snprintf(root_path, sizeof(root_path), "%s/root.pem", dir);
	snprintf(pool_path, sizeof(pool_path), "%s/pool.pem", dir);
	if (c->body != NULL && c->request != NULL && bench_key_generate(&root_key, false) == 0 &&
	    bench_key_generate(&sub_key, false) == 0 && bench_key_generate(&leaf_key, false) == 0 &&
	    bench_cert_issue(&root, &root_key, NULL, NULL, &r) == 0 &&
	    bench_cert_issue(&sub, &sub_key, r, &root_key, &s) == 0 &&
	    (sub_b64 = bench_cert_base64(s)) != NULL && bench_cert_write_pem(r, root_path) == 0 &&
	    bench_cert_write_pem(s, pool_path) == 0)
		rc = make_leaves(c, s, &sub_key, &leaf_key, sub_b64);
	free(sub_b64);
	if (s != NULL)
		gnutls_x509_crt_deinit(s);
	if (r != NULL)
		gnutls_x509_crt_deinit(r);
	bench_key_free(&leaf_key);
	bench_key_free(&sub_key);
	bench_key_free(&root_key);
	return rc;
}

/* Reads one response; returns its status, or -1. Keeps nothing beyond it (no pipelining). */
static int
read_reply(int fd)
{
	char buf[REPLY_MAX + 1];
	size_t got = 0, need = 0;
	char *end = NULL, *cl;
	int status;

	while (end == NULL) {
		ssize_t r = recv(fd, buf + got, REPLY_MAX - got, 0);

		if (r <= 0)
			return -1;
		got += (size_t)r;
		buf[got] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end == NULL && got == REPLY_MAX)
			return -1;
	}
	if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
		return -1;
	cl = strcasestr(buf, "\r\nContent-Length:");
	if (cl != NULL && cl < end)
		need = strtoul(cl + 17, NULL, 10);
	got -= (size_t)(end + 4 - buf);
	while (got < need) {
		ssize_t r = recv(fd, buf, sizeof(buf) - 1, 0);

		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return status;
}

static void *
http_worker(void *arg)
{
	struct http_thread *t = arg;
	const uint64_t stop = bench_now_ns() + (uint64_t)(t->seconds * 1e9);
	int fd = bench_connect(t->sock);

	t->rc = -1;
	if (fd < 0)
		return NULL;
	for (size_t i = t->first; bench_now_ns() < stop; i++) {
		const char *req = t->c->request[i % t->c->n];
		const uint64_t t0 = bench_now_ns();
		int status;

		if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req) ||
		    (status = read_reply(fd)) < 0)
			break;
		if (status == 200)
			t->ok++;
		else
			t->bad++;
		if (t->n_lat == t->cap_lat) {
			uint64_t *grown = realloc(t->lat, (t->cap_lat * 2 + 1024) * sizeof(*grown));

			if (grown == NULL)
				break;
			t->lat = grown;
			t->cap_lat = t->cap_lat * 2 + 1024;
		}
		t->lat[t->n_lat++] = bench_now_ns() - t0;
	}
	close(fd);
	t->rc = 0;
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
print_row(const char *name, int k, int w, size_t ok, size_t bad, double secs, uint64_t p50,
          uint64_t p99)
{
	printf("%-28s %3d %3d %9zu %5zu %11.0f %9.3f %9.3f\n", name, k, w, ok, bad,
	       secs > 0 ? (double)ok / secs : 0, (double)p50 / 1e6, (double)p99 / 1e6);
}

static int
run_http(const char *sock, const struct chains *c, int k, double seconds)
{
	struct http_thread t[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	size_t ok = 0, bad = 0, n = 0, at = 0;
	uint64_t *all, t0 = bench_now_ns();
	double secs;
	int rc = 0;

	for (int i = 0; i < k; i++) {
		t[i] = (struct http_thread){
		    .sock = sock, .c = c, .first = (size_t)i * c->n / k, .seconds = seconds};
		if (pthread_create(&tid[i], NULL, http_worker, &t[i]) != 0)
			return -1;
	}
	for (int i = 0; i < k; i++) {
		pthread_join(tid[i], NULL);
		rc |= t[i].rc;
		ok += t[i].ok;
		bad += t[i].bad;
		n += t[i].n_lat;
	}
	secs = (double)(bench_now_ns() - t0) / 1e9;
	all = calloc(n + 1, sizeof(*all));
	for (int i = 0; i < k; i++) {
		if (all != NULL)
			memcpy(all + at, t[i].lat, t[i].n_lat * sizeof(*all));
		at += t[i].n_lat;
		free(t[i].lat);
	}
	if (all == NULL || n == 0) {
		free(all);
		return -1;
	}
	qsort(all, n, sizeof(*all), cmp_u64);
	print_row("http /v1/auth (leaf only)", k, 1, ok, bad, secs, all[n / 2], all[n * 99 / 100]);
	free(all);
	return rc != 0 || bad > 0 ? -1 : 0;
}

static int
run_socket(const char *sock, const struct chains *c, int k, int w, double seconds)
{
	struct bench_load load = {sock, c->body, c->n, 0, SIZE_MAX, seconds, k, w, false, 0};
	struct bench_result res;

	if (bench_load_run(&load, &res) < 0)
		return -1;
	print_row("socket verify (leaf + extra)", k, w, res.accepts, res.rejects + res.errors,
	          res.seconds, res.p50, res.p99);
	return res.rejects + res.errors > 0 ? -1 : 0;
}

int
main(int argc, char **argv)
{
	struct bench_daemon d = {.pid = -1};
	struct chains c = {0};
	struct opts o;
	char exe[512], conf[1024], http_sock[512], *dir = NULL;
	const char *certvald;
	int rc = 1;

	parse_opts(&o, argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((certvald = bench_certvald_path(o.certvald, exe, sizeof(exe))) == NULL) {
		fprintf(stderr, "http_bench: give --certvald PATH or set CERTVAL_BUILD_DIR\n");
		return 2;
	}
	if ((dir = bench_tempdir("certval-http-bench")) == NULL ||
	    make_chains(&c, o.leaves, dir) < 0) {
		fprintf(stderr, "http_bench: setting up failed\n");
		goto out;
	}
	snprintf(http_sock, sizeof(http_sock), "%s/http.sock", dir);
	snprintf(conf, sizeof(conf),
	         "socket-mode 0600\nrequest-timeout 30\nhttp listen unix:%s\n"
	         "intermediate-pool %s/pool.pem\n"
	         "crypto pki trustpoint BENCH\n ca-certificate %s/root.pem\n"
	         " revocation-check none\n",
	         http_sock, dir, dir);
	if (bench_daemon_start(&d, certvald, dir, conf) < 0)
		goto out;
	printf("%zu chains (ECDSA P-256: root, intermediate, leaf), %.1f s per row\n\n", c.n,
	       o.seconds);
	printf("%-28s %3s %3s %9s %5s %11s %9s %9s\n", "transport", "K", "W", "verdicts", "bad",
	       "verdicts/s", "p50 ms", "p99 ms");
	/* warm-up: every chain once, so that each row sees the same (seen) chains */
	if (run_socket(d.sock, &c, 1, 16, o.seconds / 5) < 0 ||
	    run_socket(d.sock, &c, o.clients, 1, o.seconds) < 0 ||
	    run_http(http_sock, &c, o.clients, o.seconds) < 0 ||
	    run_socket(d.sock, &c, o.clients, o.window, o.seconds) < 0)
		goto out;
	printf("\nK: client threads (one connection each); W: requests in flight per connection.\n"
	       "The first row is the warm-up.\n");
	rc = 0;
out:
	if (d.pid > 0 && bench_daemon_stop(&d) != 0)
		fprintf(stderr, "http_bench: certvald did not exit cleanly; see %s\n", d.log);
	if (dir != NULL)
		bench_rmtree(dir);
	free(dir);
	chains_free(&c);
	return rc;
}
