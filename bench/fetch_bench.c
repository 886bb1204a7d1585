/*
 * fetch_bench.c: the fetch targets of DESIGN.md "Performance targets" through a real
 * certvald and a real HTTP CDP server (tests/support/httpd_fault.py): N concurrent requests
 * for leaves sharing one uncached CRL must cause one download; a dead CDP (one that never
 * answers) must cost each request at most its deadline.
 *
 * usage: fetch_bench [--requests N] [--connections C] [--leaves L] [--stall-requests N]
 *                    [--fetch-timeout S] [--request-timeout S] [--certvald PATH]
 *                    [--httpd PATH] [--keep-dir]
 *
 * Exits 0 when it ran and got verdicts; whether the targets are met is printed.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_load.h"
#include "bench_pki.h"

struct opts {
	size_t requests;     /* concurrent requests for the shared CRL */
	int connections;     /* they are spread over this many connections */
	size_t leaves;       /* distinct leaves sharing the CRL */
	size_t stall;        /* concurrent requests against the dead CDP */
	int fetch_timeout;   /* seconds */
	int request_timeout; /* seconds */
	const char *certvald, *httpd;
	bool keep_dir;
};

static void
usage(void)
{
	fprintf(stderr, "usage: fetch_bench [--requests N] [--connections C] [--leaves L]\n"
	                "                   [--stall-requests N] [--fetch-timeout S] "
	                "[--request-timeout S]\n"
	                "                   [--certvald PATH] [--httpd PATH] [--keep-dir]\n");
	exit(2);
}

static void
parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {{"requests", required_argument, NULL, 'n'},
	                                         {"connections", required_argument, NULL, 'c'},
	                                         {"leaves", required_argument, NULL, 'l'},
	                                         {"stall-requests", required_argument, NULL, 's'},
	                                         {"fetch-timeout", required_argument, NULL, 'f'},
	                                         {"request-timeout", required_argument, NULL, 'r'},
	                                         {"certvald", required_argument, NULL, 'd'},
	                                         {"httpd", required_argument, NULL, 'h'},
	                                         {"keep-dir", no_argument, NULL, 'K'},
	                                         {NULL, 0, NULL, 0}};
	int c;

	memset(o, 0, sizeof(*o));
	o->requests = 1000;
	o->connections = 4;
	o->leaves = 50;
	o->stall = 200;
	o->fetch_timeout = 2;
	o->request_timeout = 3;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->requests = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			o->connections = atoi(optarg);
			break;
		case 'l':
			o->leaves = strtoul(optarg, NULL, 10);
			break;
		case 's':
			o->stall = strtoul(optarg, NULL, 10);
			break;
		case 'f':
			o->fetch_timeout = atoi(optarg);
			break;
		case 'r':
			o->request_timeout = atoi(optarg);
			break;
		case 'd':
			o->certvald = optarg;
			break;
		case 'h':
			o->httpd = optarg;
			break;
		case 'K':
			o->keep_dir = true;
			break;
		default:
			usage();
		}
	}
	/* every request must be in flight at once: at most 256 per connection */
	if (optind != argc || o->connections < 1 || o->connections > 64 || o->leaves < 1 ||
	    o->requests < 1 || o->requests > 256 * (size_t)o->connections || o->stall < 1 ||
	    o->stall > 256 * (size_t)o->connections || o->fetch_timeout < 1 ||
	    o->request_timeout < 1)
		usage();
}

/* ---- the PKI ---- */

struct pki {
	gnutls_x509_crt_t root, sub;
	struct bench_key root_key, sub_key, leaf_key;
	char *sub_b64;
	char **good;  /* request bodies of leaves whose CDP serves the CRL */
	char **stall; /* request bodies of leaves whose CDP never answers */
	size_t n_good, n_stall;
};

/* Request bodies for n leaves with CDP url (serials from serial0). */
static char **
make_leaves(struct pki *p, size_t n, const char *url, uint64_t serial0)
{
	char **body = calloc(n, sizeof(*body));
	gnutls_x509_crt_t crt;
	char dn[128], *b64;
	size_t i, len;

	for (i = 0; body != NULL && i < n; i++) {
		struct bench_cert_opts co = {dn, serial0 + i, false, -1, url};

		snprintf(dn, sizeof(dn), "CN=peer-%llu.bench.example,O=certval bench",
		         (unsigned long long)(serial0 + i));
		if (bench_cert_issue(&co, &p->leaf_key, p->sub, &p->sub_key, &crt) < 0)
			return NULL; /* the process exits */
		b64 = bench_cert_base64(crt);
		gnutls_x509_crt_deinit(crt);
		len = (b64 != NULL ? strlen(b64) : 0) + strlen(p->sub_b64) + 80;
		if (b64 == NULL || (body[i] = malloc(len)) == NULL)
			return NULL;
		snprintf(body[i], len,
		         "\"op\":\"verify\",\"trustpoint\":\"BENCH\",\"chain\":[\"%s\",\"%s\"]}",
		         b64, p->sub_b64);
		free(b64);
	}
	return body;
}

static int
make_pki(struct pki *p, const struct opts *o, const char *dir, int port)
{
	struct bench_cert_opts root = {"CN=certval fetch bench root,O=certval bench", 1, true, -1,
	                               NULL};
	struct bench_cert_opts sub = {"CN=certval fetch bench sub,O=certval bench", 2, true, 0,
	                              NULL};
	char path[512], url[128];

	memset(p, 0, sizeof(*p));
	if (bench_key_generate(&p->root_key, false) < 0 ||
	    bench_key_generate(&p->sub_key, false) < 0 ||
	    bench_key_generate(&p->leaf_key, false) < 0 ||
	    bench_cert_issue(&root, &p->root_key, NULL, NULL, &p->root) < 0 ||
	    bench_cert_issue(&sub, &p->sub_key, p->root, &p->root_key, &p->sub) < 0 ||
	    (p->sub_b64 = bench_cert_base64(p->sub)) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/root.pem", dir);
	if (bench_cert_write_pem(p->root, path) < 0)
		return -1;
	/* the root's CRL (for the intermediate) is a local file; the sub's is on the CDP */
	snprintf(path, sizeof(path), "%s/root.crl.pem", dir);
	if (bench_crl_write(p->root, &p->root_key, true, path) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/www/sub.crl", dir);
	if (bench_crl_write(p->sub, &p->sub_key, false, path) < 0)
		return -1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/file/sub.crl", port);
	p->n_good = o->leaves;
	if ((p->good = make_leaves(p, p->n_good, url, 0x1000)) == NULL)
		return -1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/stall/bench", port);
	p->n_stall = o->leaves;
	if ((p->stall = make_leaves(p, p->n_stall, url, 0x100000)) == NULL)
		return -1;
	return 0;
}

static void
free_bodies(char **body, size_t n)
{
	size_t i;

	for (i = 0; body != NULL && i < n; i++)
		free(body[i]);
	free(body);
}

static void
free_pki(struct pki *p)
{
	free_bodies(p->good, p->n_good);
	free_bodies(p->stall, p->n_stall);
	free(p->sub_b64);
	if (p->root != NULL)
		gnutls_x509_crt_deinit(p->root);
	if (p->sub != NULL)
		gnutls_x509_crt_deinit(p->sub);
	bench_key_free(&p->root_key);
	bench_key_free(&p->sub_key);
	bench_key_free(&p->leaf_key);
}

/* ---- the runs ---- */

/* n requests at once (window n / connections), every reply parsed for its reason. */
static int
burst(const char *sock, char **bodies, size_t n_bodies, size_t n, int connections,
      struct bench_result *res)
{
	int window = (int)((n + (size_t)connections - 1) / (size_t)connections);
	struct bench_load load = {sock, bodies, n_bodies, 0, n, 0, connections, window, true, 0};

	return bench_load_run(&load, res);
}

static void
print_result(const char *name, const struct bench_result *r)
{
	size_t i;

	printf("%-34s %8zu %8zu %8zu %8zu %9.1f %9.1f %9.1f %9.1f\n", name, r->replies, r->accepts,
	       r->rejects, r->errors, r->seconds * 1e3, (double)r->p50 / 1e6, (double)r->p99 / 1e6,
	       (double)r->max / 1e6);
	for (i = 0; i < r->n_reasons; i++)
		printf("    %6zu x %s\n", r->reasons[i].n, r->reasons[i].name);
}

int
main(int argc, char **argv)
{
	struct bench_daemon d = {.pid = -1};
	struct bench_httpd h = {-1, 0};
	struct bench_result cold, warm, stall;
	struct opts o;
	struct pki pki;
	char exe[512], script[512], path[512], conf[1024], *dir = NULL, *body;
	const char *certvald;
	long downloads = -1, downloads_warm = -1, stall_fetches = -1;
	double deadline_ms;
	int rc = 1;

	parse_opts(&o, argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&pki, 0, sizeof(pki));
	if ((certvald = bench_certvald_path(o.certvald, exe, sizeof(exe))) == NULL) {
		fprintf(stderr, "fetch_bench: give --certvald PATH or set CERTVAL_BUILD_DIR\n");
		return 2;
	}
	if ((o.httpd = bench_httpd_path(o.httpd, script, sizeof(script))) == NULL) {
		fprintf(stderr, "fetch_bench: give --httpd PATH or set CERTVAL_SOURCE_DIR\n");
		return 2;
	}
	bench_print_command(argc, argv);
	if ((dir = bench_tempdir("certval-fetch-bench")) == NULL)
		goto out;
	snprintf(path, sizeof(path), "%s/www", dir);
	if (mkdir(path, 0755) != 0 || bench_httpd_start(&h, o.httpd, path) < 0 ||
	    make_pki(&pki, &o, dir, h.port) < 0)
		goto out;
	snprintf(conf, sizeof(conf),
	         "socket-mode 0600\nrequest-timeout %d\nfetch timeout %d\nfetch retry-after 0\n"
	         "crypto pki trustpoint BENCH\n ca-certificate %s/root.pem\n"
	         " revocation-check crl\n crl file %s/root.crl.pem\n",
	         o.request_timeout, o.fetch_timeout, dir, dir);
	if (bench_daemon_start(&d, certvald, dir, conf) < 0)
		goto out;
	if ((body = bench_http_get(h.port, "/_reset")) == NULL)
		goto out;
	free(body);

	/* 1: every request at once, the CRL not cached; then the same again, cached */
	if (burst(d.sock, pki.good, pki.n_good, o.requests, o.connections, &cold) < 0)
		goto out;
	downloads = bench_http_count(h.port, "/file/sub.crl");
	if (burst(d.sock, pki.good, pki.n_good, o.requests, o.connections, &warm) < 0)
		goto out;
	downloads_warm = bench_http_count(h.port, "/file/sub.crl");

	/* 2: every request at once against a CDP that never answers */
	if (burst(d.sock, pki.stall, pki.n_stall, o.stall, o.connections, &stall) < 0)
		goto out;
	stall_fetches = bench_http_count(h.port, "/stall/bench");

	printf("\n%zu requests at once over %d connections for %zu leaves sharing one CRL; "
	       "dead CDP: %zu requests,\nfetch timeout %d s, request-timeout %d s\n\n",
	       o.requests, o.connections, o.leaves, o.stall, o.fetch_timeout, o.request_timeout);
	printf("%-34s %8s %8s %8s %8s %9s %9s %9s %9s\n", "run", "replies", "accept", "reject",
	       "error", "wall ms", "p50 ms", "p99 ms", "max ms");
	print_result("shared CRL, not cached", &cold);
	print_result("shared CRL, cached", &warm);
	print_result("dead CDP (/stall)", &stall);
	deadline_ms =
	    1000.0 * (o.fetch_timeout < o.request_timeout ? o.fetch_timeout : o.request_timeout);
	printf("\ndownloads of the CRL: %ld after the first burst, %ld after the second "
	       "(target 1: %s)\n",
	       downloads, downloads_warm,
	       downloads == 1 && downloads_warm == 1 && cold.accepts == o.requests ? "met"
	                                                                           : "NOT met");
	printf("requests that reached the dead CDP: %ld\n", stall_fetches);
	printf("dead CDP: max latency %.1f ms against the %.0f ms deadline (the smaller of fetch "
	       "timeout %d s and request-timeout %d s): %s\n",
	       (double)stall.max / 1e6, deadline_ms, o.fetch_timeout, o.request_timeout,
	       stall.replies == o.stall && (double)stall.max / 1e6 <= deadline_ms + 250
	           ? "met (within 250 ms)"
	           : "NOT met");
	rc = cold.accepts > 0 && stall.replies > 0 ? 0 : 1;
out:
	if (d.pid > 0 && bench_daemon_stop(&d) != 0) {
		fprintf(stderr, "fetch_bench: certvald did not exit cleanly; see %s\n", d.log);
		rc = 1;
	}
	bench_httpd_stop(&h);
	if (dir != NULL) {
		if (o.keep_dir)
			printf("kept %s\n", dir);
		else
			bench_rmtree(dir);
		free(dir);
	}
	free_pki(&pki);
	return rc;
}
