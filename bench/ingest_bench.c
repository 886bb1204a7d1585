/*
 * ingest_bench.c: a downloaded CRL's ingest through a real certvald (issue 13). A CRL of N
 * entries (default 1,000,000) is served over HTTP on loopback (tests/support/httpd_fault.py);
 * one verify makes the daemon download it. Reported: the DER size, the daemon's VmHWM before
 * and after (/proc/PID/status) and the growth over the DER size (target < 1.5); and the
 * latency of verifies of another trustpoint (revocation-check none, seen before) sent one
 * at a time in a loop, before and while the CRL is downloaded and ingested (max and p99).
 *
 * usage: ingest_bench [--entries N] [--certvald PATH] [--compare PATH] [--httpd PATH]
 *                     [--keep-dir]
 *
 * --compare PATH runs the same measurement against another certvald (one built before a
 * change) in the same run, and prints the ratios. Exits 0 when every run got its verdicts.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_load.h"
#include "bench_pki.h"

#define SAMPLES_MAX 1000000

struct opts {
	size_t entries;
	const char *certvald, *compare, *httpd;
	bool keep_dir;
};

static void
usage(void)
{
	fprintf(stderr, "usage: ingest_bench [--entries N] [--certvald PATH] [--compare PATH]\n"
	                "                    [--httpd PATH] [--keep-dir]\n");
	exit(2);
}

static void
parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"entries", required_argument, NULL, 'n'}, {"certvald", required_argument, NULL, 'd'},
	    {"compare", required_argument, NULL, 'c'}, {"httpd", required_argument, NULL, 'h'},
	    {"keep-dir", no_argument, NULL, 'K'},      {NULL, 0, NULL, 0}};
	int c;

	memset(o, 0, sizeof(*o));
	o->entries = 1000000;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->entries = strtoul(optarg, NULL, 10);
			break;
		case 'd':
			o->certvald = optarg;
			break;
		case 'c':
			o->compare = optarg;
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
	if (optind != argc)
		usage();
}

/* ---- the PKI: BIG (a leaf whose CDP serves the large CRL) and FAST (no revocation) ---- */

struct pki {
	struct bench_key big_key, fast_key, leaf_key;
	gnutls_x509_crt_t big_root, fast_root;
	char *big_req, *fast_req; /* request bodies after `{"id":N,` */
	size_t der_len;
};

/* The request body of a one-certificate chain under trustpoint tp. */
static char *
request_body(gnutls_x509_crt_t leaf, const char *tp)
{
	char *b64 = bench_cert_base64(leaf), *body = NULL;
	size_t len;

	if (b64 == NULL)
		return NULL;
	len = strlen(b64) + 80;
	if ((body = malloc(len)) != NULL)
		snprintf(body, len, "\"op\":\"verify\",\"trustpoint\":\"%s\",\"chain\":[\"%s\"]}",
		         tp, b64);
	free(b64);
	return body;
}

static int
make_pki(struct pki *p, const char *dir, int port, size_t entries)
{
	struct bench_cert_opts big = {"CN=certval ingest bench CA,O=certval bench", 1, true, -1,
	                              NULL};
	struct bench_cert_opts fast = {"CN=certval ingest bench fast CA,O=certval bench", 2, true,
	                               -1, NULL};
	char path[512], url[128];
	gnutls_x509_crt_t leaf = NULL;
	int rc = -1;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/file/big.crl", port);
	struct bench_cert_opts big_leaf = {"CN=big.bench.example,O=certval bench", 3, false, -1,
	                                   url};
	struct bench_cert_opts fast_leaf = {"CN=fast.bench.example,O=certval bench", 4, false, -1,
	                                    NULL};

	if (bench_key_generate(&p->big_key, false) < 0 ||
	    bench_key_generate(&p->fast_key, false) < 0 ||
	    bench_key_generate(&p->leaf_key, false) < 0 ||
	    bench_cert_issue(&big, &p->big_key, NULL, NULL, &p->big_root) < 0 ||
	    bench_cert_issue(&fast, &p->fast_key, NULL, NULL, &p->fast_root) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/big-root.pem", dir);
	if (bench_cert_write_pem(p->big_root, path) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/fast-root.pem", dir);
	if (bench_cert_write_pem(p->fast_root, path) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/www/big.crl", dir);
	if (bench_crl_write_big(p->big_root, &p->big_key, entries, path, &p->der_len) < 0)
		return -1;
	if (bench_cert_issue(&big_leaf, &p->leaf_key, p->big_root, &p->big_key, &leaf) < 0)
		return -1;
	p->big_req = request_body(leaf, "BIG");
	gnutls_x509_crt_deinit(leaf);
	if (bench_cert_issue(&fast_leaf, &p->leaf_key, p->fast_root, &p->fast_key, &leaf) < 0)
		return -1;
	p->fast_req = request_body(leaf, "FAST");
	gnutls_x509_crt_deinit(leaf);
	if (p->big_req != NULL && p->fast_req != NULL)
		rc = 0;
	return rc;
}

static void
free_pki(struct pki *p)
{
	free(p->big_req);
	free(p->fast_req);
	if (p->big_root != NULL)
		gnutls_x509_crt_deinit(p->big_root);
	if (p->fast_root != NULL)
		gnutls_x509_crt_deinit(p->fast_root);
	bench_key_free(&p->big_key);
	bench_key_free(&p->fast_key);
	bench_key_free(&p->leaf_key);
}

/* ---- one request at a time on a connection ---- */

/* Sends `{"id":id,` body and reads the reply line into buf; 0 or -1. */
static int
call(int fd, unsigned long id, const char *body, char *buf, size_t size)
{
	char head[32];
	size_t got = 0;
	ssize_t n;
	int hl = snprintf(head, sizeof(head), "{\"id\":%lu,", id);

	if (write(fd, head, (size_t)hl) != hl || write(fd, body, strlen(body)) < 0 ||
	    write(fd, "\n", 1) != 1)
		return -1;
	while (got < size - 1) {
		if ((n = read(fd, buf + got, size - 1 - got)) <= 0)
			return -1;
		got += (size_t)n;
		buf[got] = '\0';
		if (memchr(buf, '\n', got) != NULL)
			return 0;
	}
	return -1;
}

static bool
accepted(const char *reply)
{
	return strstr(reply, "\"decision\":\"ACCEPT\"") != NULL ||
	       strstr(reply, "\"decision\": \"ACCEPT\"") != NULL;
}

/* The FAST loop: verifies one at a time until stop, each one's send time and latency. */
struct fast_loop {
	const char *sock, *body;
	atomic_bool stop;
	uint64_t *sent, *lat;
	size_t n;
	size_t rejected;
	int failed;
};

static void *
fast_run(void *arg)
{
	struct fast_loop *f = arg;
	char reply[65536];
	int fd = bench_connect(f->sock);

	if (fd < 0) {
		f->failed = 1;
		return NULL;
	}
	while (!atomic_load(&f->stop) && f->n < SAMPLES_MAX) {
		const uint64_t t0 = bench_now_ns();

		if (call(fd, f->n, f->body, reply, sizeof(reply)) < 0) {
			f->failed = 1;
			break;
		}
		f->sent[f->n] = t0;
		f->lat[f->n] = bench_now_ns() - t0;
		f->rejected += !accepted(reply);
		f->n++;
	}
	close(fd);
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The p99 and max (ms) of the latencies of requests sent in [from, to). */
struct window {
	size_t n;
	double p99_ms, max_ms;
};

static struct window
window_of(const struct fast_loop *f, uint64_t from, uint64_t to)
{
	struct window w = {0, 0, 0};
	uint64_t *v = malloc((f->n ? f->n : 1) * sizeof(*v));

	if (v == NULL)
		return w;
	for (size_t i = 0; i < f->n; i++)
		if (f->sent[i] >= from && f->sent[i] < to)
			v[w.n++] = f->lat[i];
	if (w.n > 0) {
		qsort(v, w.n, sizeof(*v), cmp_u64);
		w.p99_ms = (double)v[(w.n * 99) / 100 < w.n ? (w.n * 99) / 100 : w.n - 1] / 1e6;
		w.max_ms = (double)v[w.n - 1] / 1e6;
	}
	free(v);
	return w;
}

/* VmHWM of pid in kB, or -1. */
static long
vm_hwm_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

/* ---- one run against one certvald ---- */

struct run {
	const char *certvald;
	long hwm_before_kb, hwm_after_kb;
	double growth_over_der;
	double verdict_ms; /* the BIG request: send to verdict (download + ingest + check) */
	bool big_accepted;
	long downloads;
	struct window idle, during;
	size_t fast_rejected;
};

static void
msleep(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int
run_one(struct run *r, const char *dir, const struct pki *p, const struct bench_httpd *h)
{
	static struct fast_loop f;
	struct bench_daemon d = {.pid = -1};
	char conf[2048], reply[65536], *body;
	uint64_t t_start, t_big, t_verdict;
	pthread_t thread;
	int fd = -1, rc = -1;

	snprintf(conf, sizeof(conf),
	         "socket-mode 0600\nrequest-timeout 120\nfetch timeout 120\nfetch retry-after 0\n"
	         "crypto pki trustpoint BIG\n ca-certificate %s/big-root.pem\n"
	         " revocation-check crl\n"
	         "crypto pki trustpoint FAST\n ca-certificate %s/fast-root.pem\n"
	         " revocation-check none\n",
	         dir, dir);
	if (bench_daemon_start(&d, r->certvald, dir, conf) < 0)
		return -1;
	if ((body = bench_http_get(h->port, "/_reset")) == NULL)
		goto out;
	free(body);
	memset(&f, 0, sizeof(f));
	f.sock = d.sock;
	f.body = p->fast_req;
	f.sent = calloc(SAMPLES_MAX, sizeof(*f.sent));
	f.lat = calloc(SAMPLES_MAX, sizeof(*f.lat));
	if (f.sent == NULL || f.lat == NULL || (fd = bench_connect(d.sock)) < 0)
		goto out;
	/* FAST seen before: its chain is warm (verdict cache) */
	for (unsigned long i = 0; i < 100; i++)
		if (call(fd, i, p->fast_req, reply, sizeof(reply)) < 0)
			goto out;
	r->hwm_before_kb = vm_hwm_kb(d.pid);
	atomic_init(&f.stop, false);
	t_start = bench_now_ns();
	if (pthread_create(&thread, NULL, fast_run, &f) != 0)
		goto out;
	msleep(300); /* the idle baseline */
	t_big = bench_now_ns();
	if (call(fd, 1000, p->big_req, reply, sizeof(reply)) == 0)
		r->big_accepted = accepted(reply);
	t_verdict = bench_now_ns();
	msleep(200);
	atomic_store(&f.stop, true);
	pthread_join(thread, NULL);
	r->hwm_after_kb = vm_hwm_kb(d.pid);
	r->growth_over_der = (double)(r->hwm_after_kb - r->hwm_before_kb) * 1024.0 /
	                     (double)(p->der_len ? p->der_len : 1);
	r->verdict_ms = (double)(t_verdict - t_big) / 1e6;
	r->idle = window_of(&f, t_start, t_big);
	r->during = window_of(&f, t_big, t_verdict);
	r->fast_rejected = f.rejected;
	r->downloads = bench_http_count(h->port, "/file/big.crl");
	if (!r->big_accepted)
		fprintf(stderr, "ingest_bench: the BIG verify was not accepted: %.300s\n", reply);
	rc = f.failed || !r->big_accepted || f.rejected > 0 ? -1 : 0;
out:
	if (fd >= 0)
		close(fd);
	free(f.sent);
	free(f.lat);
	if (bench_daemon_stop(&d) != 0) {
		fprintf(stderr, "ingest_bench: certvald did not exit cleanly; see %s\n", d.log);
		rc = -1;
	}
	return rc;
}

static void
print_run(const char *name, const struct run *r, size_t der_len)
{
	printf("%-9s %10.1f %10.1f %9.2f %10.1f %5ld %8zu %8.2f %8.2f %8zu %9.2f %9.2f\n", name,
	       (double)r->hwm_before_kb / 1024.0, (double)r->hwm_after_kb / 1024.0,
	       r->growth_over_der, r->verdict_ms, r->downloads, r->idle.n, r->idle.p99_ms,
	       r->idle.max_ms, r->during.n, r->during.p99_ms, r->during.max_ms);
	(void)der_len;
}

int
main(int argc, char **argv)
{
	struct bench_httpd h = {-1, 0};
	struct run runs[2];
	struct opts o;
	struct pki pki;
	char exe[512], script[512], path[512], *dir = NULL;
	size_t n_runs = 0;
	int rc = 1;

	parse_opts(&o, argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&pki, 0, sizeof(pki));
	memset(runs, 0, sizeof(runs));
	if ((runs[0].certvald = bench_certvald_path(o.certvald, exe, sizeof(exe))) == NULL) {
		fprintf(stderr, "ingest_bench: give --certvald PATH or set CERTVAL_BUILD_DIR\n");
		return 2;
	}
	if ((o.httpd = bench_httpd_path(o.httpd, script, sizeof(script))) == NULL) {
		fprintf(stderr, "ingest_bench: give --httpd PATH or set CERTVAL_SOURCE_DIR\n");
		return 2;
	}
	bench_print_command(argc, argv);
	if ((dir = bench_tempdir("certval-ingest-bench")) == NULL)
		goto out;
	snprintf(path, sizeof(path), "%s/www", dir);
	if (mkdir(path, 0755) != 0 || bench_httpd_start(&h, o.httpd, path) < 0 ||
	    make_pki(&pki, dir, h.port, o.entries) < 0)
		goto out;
	printf("CRL of %zu entries: %zu bytes of DER (%.1f MB)\n\n", o.entries, pki.der_len,
	       (double)pki.der_len / 1e6);
	if (o.compare != NULL) { /* the compared one first, then the one under test */
		runs[1].certvald = runs[0].certvald;
		runs[0].certvald = o.compare;
		n_runs++;
	}
	n_runs++;
	rc = 0;
	for (size_t i = 0; i < n_runs; i++)
		if (run_one(&runs[i], dir, &pki, &h) < 0)
			rc = 1;
	printf("%-9s %10s %10s %9s %10s %5s %8s %8s %8s %8s %9s %9s\n", "certvald", "HWM0 MiB",
	       "HWM1 MiB", "grow/DER", "verdict ms", "dl", "idle n", "idle p99", "idle max",
	       "during n", "dur. p99", "dur. max");
	for (size_t i = 0; i < n_runs; i++)
		print_run(n_runs == 2 && i == 0 ? "compared" : "tested", &runs[i], pki.der_len);
	for (size_t i = 0; i < n_runs; i++)
		printf("%s: %s\n", n_runs == 2 && i == 0 ? "compared" : "tested", runs[i].certvald);
	{
		const struct run *t = &runs[n_runs - 1];

		printf(
		    "\npeak memory growth during the ingest: %.2f x the DER (target < 1.5: %s)\n",
		    t->growth_over_der, t->growth_over_der < 1.5 ? "met" : "NOT met");
		printf(
		    "verifies of FAST while the CRL was downloaded and ingested: max %.2f ms, p99 "
		    "%.2f ms (%zu verifies; idle before: max %.2f ms, p99 %.2f ms)\n",
		    t->during.max_ms, t->during.p99_ms, t->during.n, t->idle.max_ms,
		    t->idle.p99_ms);
		if (n_runs == 2 && runs[0].growth_over_der > 0 && t->during.max_ms > 0)
			printf(
			    "tested / compared: memory growth %.2f, max latency %.3f, p99 latency "
			    "%.3f\n",
			    t->growth_over_der / runs[0].growth_over_der,
			    t->during.max_ms / runs[0].during.max_ms,
			    t->during.p99_ms / runs[0].during.p99_ms);
	}
out:
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
