/*
 * verify_bench.c: verdict throughput and latency of a real certvald over its socket, against
 * GnuTLS's own in-process chain verification of the same chains (DESIGN.md "Performance
 * targets": new chains >= 80% of GnuTLS on both cores; seen chains >= 100,000/s; p99 < 2 ms).
 *
 * Generates root -> intermediate -> N distinct leaves in memory (ECDSA P-256, or RSA-2048
 * with --rsa; the leaves share one key pair, each is a distinct certificate the intermediate
 * signed), starts certvald with one trustpoint (`revocation-check none`: only path
 * validation), and drives it with K client threads, each keeping W pipelined requests in
 * flight on its own connection (raw JSON lines).
 *
 * usage: verify_bench [--leaves N] [--seen N] [--rsa] [--clients LIST] [--window W]
 *                     [--seconds S] [--baseline-seconds S] [--certvald PATH] [--keep-dir]
 *                     [--detail verdict|evidence|trace] [--verdict-cache N]
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../common/util.h"
#include "bench_load.h"
#include "bench_pki.h"

#define MAX_CLIENT_RUNS 4

struct opts {
	size_t leaves; /* chains used once each (split over the client runs) */
	size_t seen;   /* chains used over and over */
	bool rsa;
	int clients[MAX_CLIENT_RUNS];
	size_t n_clients;
	int window;
	double seconds;      /* cap per daemon scenario */
	double base_seconds; /* length of each GnuTLS run */
	const char *certvald;
	bool keep_dir;
	const char *detail; /* --detail: the requests' "detail", NULL: none (the whole trace) */
	long verdict_cache; /* --verdict-cache: `verdict-cache entries N`, -1: the default */
};

/* The generated PKI: the root and intermediate, and every leaf's DER and request body. */
struct pki {
	gnutls_x509_crt_t root, sub;
	struct bench_key root_key, sub_key, leaf_key;
	gnutls_datum_t root_der, sub_der;
	char *sub_b64;
	size_t n;                 /* leaves */
	gnutls_datum_t *leaf_der; /* gnutls_free'd */
	char **body;              /* request bodies after the id */
};

static void
usage(void)
{
	fprintf(stderr,
	        "usage: verify_bench [--leaves N] [--seen N] [--rsa] [--clients 1,2]\n"
	        "                    [--window W] [--seconds S] [--baseline-seconds S]\n"
	        "                    [--certvald PATH] [--keep-dir]\n"
	        "                    [--detail verdict|evidence|trace] [--verdict-cache N]\n");
	exit(2);
}

static void
parse_clients(struct opts *o, const char *list)
{
	char *copy = strdup(list), *tok, *save = NULL;

	o->n_clients = 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		int k = atoi(tok);

		if (k < 1 || k > 64 || o->n_clients == MAX_CLIENT_RUNS)
			usage();
		o->clients[o->n_clients++] = k;
	}
	free(copy);
	if (o->n_clients == 0)
		usage();
}

static void
parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {{"leaves", required_argument, NULL, 'n'},
	                                         {"seen", required_argument, NULL, 's'},
	                                         {"rsa", no_argument, NULL, 'r'},
	                                         {"clients", required_argument, NULL, 'k'},
	                                         {"window", required_argument, NULL, 'w'},
	                                         {"seconds", required_argument, NULL, 't'},
	                                         {"certvald", required_argument, NULL, 'd'},
	                                         {"keep-dir", no_argument, NULL, 'K'},
	                                         {"baseline-seconds", required_argument, NULL, 'b'},
	                                         {"detail", required_argument, NULL, 'D'},
	                                         {"verdict-cache", required_argument, NULL, 'V'},
	                                         {NULL, 0, NULL, 0}};
	int c;

	memset(o, 0, sizeof(*o));
	o->leaves = 20000;
	o->seen = 100;
	o->window = 16;
	o->seconds = 5;
	o->base_seconds = 3;
	o->verdict_cache = -1;
	parse_clients(o, "1,2");
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->leaves = strtoul(optarg, NULL, 10);
			break;
		case 's':
			o->seen = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			o->rsa = true;
			break;
		case 'k':
			parse_clients(o, optarg);
			break;
		case 'w':
			o->window = atoi(optarg);
			break;
		case 't':
			o->seconds = atof(optarg);
			break;
		case 'b':
			o->base_seconds = atof(optarg);
			break;
		case 'd':
			o->certvald = optarg;
			break;
		case 'K':
			o->keep_dir = true;
			break;
		case 'D':
			o->detail = optarg;
			break;
		case 'V':
			o->verdict_cache = atol(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || o->leaves < o->n_clients + 1 || o->seen < 1 || o->window < 1 ||
	    o->window > 256 || o->seconds <= 0 || o->base_seconds <= 0)
		usage();
}

/* ---- the PKI ---- */

struct gen_job {
	struct pki *pki;
	size_t index, step;
	int rc;
};

/* Issues leaves index, index + step, ... with this thread's own copies of the signer. */
static void *
gen_leaves(void *arg)
{
	struct gen_job *j = arg;
	struct pki *p = j->pki;
	struct bench_key sub_key, leaf_key;
	gnutls_x509_crt_t sub = NULL, crt;
	char dn[128];
	size_t i;

	j->rc = -1;
	if (bench_key_copy(&p->sub_key, &sub_key) < 0 ||
	    bench_key_copy(&p->leaf_key, &leaf_key) < 0 || bench_cert_copy(p->sub, &sub) < 0)
		return NULL;
	for (i = j->index; i < p->n; i += j->step) {
		struct bench_cert_opts co = {dn, 0x100000 + i, false, -1, NULL};
		char *b64;
		size_t blen;

		snprintf(dn, sizeof(dn), "CN=peer-%zu.bench.example,O=certval bench", i);
		if (bench_cert_issue(&co, &leaf_key, sub, &sub_key, &crt) < 0)
			goto out;
		b64 = bench_cert_base64(crt);
		if (b64 == NULL ||
		    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &p->leaf_der[i]) < 0) {
			free(b64);
			gnutls_x509_crt_deinit(crt);
			goto out;
		}
		gnutls_x509_crt_deinit(crt);
		blen = strlen(b64) + strlen(p->sub_b64) + 80;
		if ((p->body[i] = malloc(blen)) == NULL) {
			free(b64);
			goto out;
		}
		snprintf(p->body[i], blen,
		         "\"op\":\"verify\",\"trustpoint\":\"BENCH\",\"chain\":[\"%s\",\"%s\"]}",
		         b64, p->sub_b64);
		free(b64);
	}
	j->rc = 0;
out:
	gnutls_x509_crt_deinit(sub);
	bench_key_free(&sub_key);
	bench_key_free(&leaf_key);
	return NULL;
}

static int
make_pki(struct pki *p, size_t n, bool rsa)
{
	struct bench_cert_opts root = {"CN=certval bench root,O=certval bench", 1, true, -1, NULL};
	struct bench_cert_opts sub = {"CN=certval bench sub,O=certval bench", 2, true, 0, NULL};
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct gen_job jobs[16];
	pthread_t tid[16];
	size_t i, k = ncpu < 1 ? 1 : ncpu > 16 ? 16 : (size_t)ncpu;
	int rc = 0;

	memset(p, 0, sizeof(*p));
	p->n = n;
	p->leaf_der = calloc(n, sizeof(*p->leaf_der));
	p->body = calloc(n, sizeof(*p->body));
	if (p->leaf_der == NULL || p->body == NULL || bench_key_generate(&p->root_key, rsa) < 0 ||
	    bench_key_generate(&p->sub_key, rsa) < 0 || bench_key_generate(&p->leaf_key, rsa) < 0 ||
	    bench_cert_issue(&root, &p->root_key, NULL, NULL, &p->root) < 0 ||
	    bench_cert_issue(&sub, &p->sub_key, p->root, &p->root_key, &p->sub) < 0 ||
	    gnutls_x509_crt_export2(p->root, GNUTLS_X509_FMT_DER, &p->root_der) < 0 ||
	    gnutls_x509_crt_export2(p->sub, GNUTLS_X509_FMT_DER, &p->sub_der) < 0 ||
	    (p->sub_b64 = bench_cert_base64(p->sub)) == NULL)
		return -1;
	for (i = 0; i < k; i++) {
		jobs[i] = (struct gen_job){p, i, k, -1};
		if (pthread_create(&tid[i], NULL, gen_leaves, &jobs[i]) != 0)
			return -1; /* the process exits; nothing to clean up */
	}
	for (i = 0; i < k; i++) {
		pthread_join(tid[i], NULL);
		rc |= jobs[i].rc;
	}
	return rc;
}

static void
free_pki(struct pki *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		gnutls_free(p->leaf_der[i].data);
		free(p->body[i]);
	}
	free(p->leaf_der);
	free(p->body);
	free(p->sub_b64);
	gnutls_free(p->root_der.data);
	gnutls_free(p->sub_der.data);
	if (p->root != NULL)
		gnutls_x509_crt_deinit(p->root);
	if (p->sub != NULL)
		gnutls_x509_crt_deinit(p->sub);
	bench_key_free(&p->root_key);
	bench_key_free(&p->sub_key);
	bench_key_free(&p->leaf_key);
}

/* ---- the GnuTLS baseline ---- */

#define PREPARSED_MAX 1000 /* verify-only cycles over this many pre-imported chains */

struct base_job {
	const struct pki *pki;
	size_t index, step; /* chains index, index + step, ... */
	bool preparsed;     /* certificates imported before the clock starts */
	double seconds;
	pthread_barrier_t *barrier;
	size_t done, failed;
	uint64_t start, end;
};

static gnutls_x509_crt_t
import(const gnutls_datum_t *der)
{
	gnutls_x509_crt_t crt;

	if (gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return NULL;
	}
	return crt;
}

/* One chain [leaf, sub] against the trust list; true when GnuTLS accepts it. */
static bool
verify_one(gnutls_x509_trust_list_t tl, gnutls_x509_crt_t leaf, gnutls_x509_crt_t sub)
{
	gnutls_x509_crt_t list[2] = {leaf, sub};
	unsigned status = 1;

	if (leaf == NULL || sub == NULL)
		return false;
	return gnutls_x509_trust_list_verify_crt2(tl, list, 2, NULL, 0, 0, &status, NULL) == 0 &&
	       status == 0;
}

static void *
base_thread(void *arg)
{
	struct base_job *j = arg;
	const struct pki *p = j->pki;
	const uint64_t limit = (uint64_t)(j->seconds * 1e9);
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_x509_crt_t root = import(&p->root_der), sub = NULL, pre[PREPARSED_MAX];
	size_t i, n_pre = 0, mine = 0;

	if (j->index >= p->n)
		abort(); /* baseline() guarantees a chain per thread */
	if (gnutls_x509_trust_list_init(&tl, 0) < 0 || root == NULL ||
	    gnutls_x509_trust_list_add_cas(tl, &root, 1, 0) != 1)
		abort(); /* out of memory; a benchmark may stop here */
	if (j->preparsed) {
		sub = import(&p->sub_der);
		for (i = j->index; i < p->n && n_pre < PREPARSED_MAX; i += j->step)
			pre[n_pre++] = import(&p->leaf_der[i]);
	}
	pthread_barrier_wait(j->barrier);
	j->start = bench_now_ns();
	for (i = j->index;; i = i + j->step < p->n ? i + j->step : j->index) {
		bool ok;

		if (j->preparsed) {
			ok = verify_one(tl, pre[mine++ % n_pre], sub);
		} else {
			gnutls_x509_crt_t leaf = import(&p->leaf_der[i]), s = import(&p->sub_der);

			ok = verify_one(tl, leaf, s);
			if (leaf != NULL)
				gnutls_x509_crt_deinit(leaf);
			if (s != NULL)
				gnutls_x509_crt_deinit(s);
		}
		j->done++;
		j->failed += !ok;
		if ((j->done & 15) == 0 && bench_now_ns() - j->start >= limit)
			break;
	}
	j->end = bench_now_ns();
	for (i = 0; i < n_pre; i++)
		if (pre[i] != NULL)
			gnutls_x509_crt_deinit(pre[i]);
	if (sub != NULL)
		gnutls_x509_crt_deinit(sub);
	gnutls_x509_trust_list_deinit(tl, 1);
	return NULL;
}

/*
 * Verifications per second with k threads (separate trust lists) during seconds; *done_out
 * counts the verifications, *failed those GnuTLS rejected.
 */
static double
baseline(const struct pki *p, int k, bool preparsed, double seconds, size_t *done_out,
         size_t *failed)
{
	struct base_job jobs[2];
	pthread_barrier_t barrier;
	pthread_t tid[2];
	uint64_t first = UINT64_MAX, last = 0;
	size_t done = 0;
	int i;

	*failed = 0;
	pthread_barrier_init(&barrier, NULL, (unsigned)k);
	for (i = 0; i < k; i++) {
		jobs[i] = (struct base_job){p,        (size_t)i, (size_t)k, preparsed, seconds,
		                            &barrier, 0,         0,         0,         0};
		if (pthread_create(&tid[i], NULL, base_thread, &jobs[i]) != 0)
			abort();
	}
	for (i = 0; i < k; i++) {
		pthread_join(tid[i], NULL);
		done += jobs[i].done;
		*failed += jobs[i].failed;
		first = jobs[i].start < first ? jobs[i].start : first;
		last = jobs[i].end > last ? jobs[i].end : last;
	}
	pthread_barrier_destroy(&barrier);
	*done_out = done;
	return last > first ? (double)done / ((double)(last - first) / 1e9) : 0;
}

/* Puts "detail":LEVEL in front of every request body (--detail); 0 or -1 (no memory). */
static int
add_detail(struct pki *p, const char *detail)
{
	for (size_t i = 0; detail != NULL && i < p->n; i++) {
		size_t len = strlen(p->body[i]) + strlen(detail) + 16;
		char *body = malloc(len);

		if (body == NULL)
			return -1;
		snprintf(body, len, "\"detail\":\"%s\",%s", detail, p->body[i]);
		free(p->body[i]);
		p->body[i] = body;
	}
	return 0;
}

/* ---- the daemon ---- */

/* CPU seconds (user + system) used so far by process pid. */
static double
cpu_of(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long utime = 0, stime = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* fields after the command's closing parenthesis: state is field 3, utime 14, stime 15 */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) !=
	        2)
		return 0;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static double
cpu_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

struct row {
	char name[48];
	int clients, window;
	size_t n, bad;
	double rate, p50, p99, max;    /* per second; milliseconds */
	double cpu_daemon, cpu_client; /* in cores (1.0 = one core busy) */
	bool has_latency;
};

static int
run_load(const struct bench_daemon *d, const struct pki *p, size_t first, size_t n_bodies,
         size_t total, int clients, int window, double seconds, const char *name, struct row *row)
{
	struct bench_load load = {d->sock, p->body + first, n_bodies, 0,    total,
	                          seconds, clients,         window,   false};
	struct bench_result res;
	double cd = cpu_of(d->pid), cc = cpu_self();

	if (bench_load_run(&load, &res) < 0)
		return -1;
	cd = cpu_of(d->pid) - cd;
	cc = cpu_self() - cc;
	memset(row, 0, sizeof(*row));
	snprintf(row->name, sizeof(row->name), "%s", name);
	row->clients = clients;
	row->window = window;
	row->n = res.replies;
	row->bad = res.rejects + res.errors;
	row->rate = res.seconds > 0 ? (double)res.accepts / res.seconds : 0;
	row->p50 = (double)res.p50 / 1e6;
	row->p99 = (double)res.p99 / 1e6;
	row->max = (double)res.max / 1e6;
	row->cpu_daemon = res.seconds > 0 ? cd / res.seconds : 0;
	row->cpu_client = res.seconds > 0 ? cc / res.seconds : 0;
	row->has_latency = true;
	if (row->bad > 0)
		fprintf(stderr, "verify_bench: %s: %zu of %zu replies were not ACCEPT; first: %s\n",
		        name, row->bad, res.replies, res.first_problem);
	return res.accepts > 0 ? 0 : -1;
}

static void
print_row(const struct row *r, double gnutls2)
{
	char lat[64] = "         -        -        -", cpu[32] = "        -      -";

	if (r->has_latency) {
		snprintf(lat, sizeof(lat), "%10.3f %8.3f %8.2f", r->p50, r->p99, r->max);
		snprintf(cpu, sizeof(cpu), "%9.2f %6.2f", r->cpu_daemon, r->cpu_client);
	}
	char kw[16] = "   -    -";

	if (r->clients > 0)
		snprintf(kw, sizeof(kw), "%3d %4d", r->clients, r->window);
	printf("%-34s %s %8zu %5zu %11.0f %s %s %8.2f\n", r->name, kw, r->n, r->bad, r->rate, lat,
	       cpu, gnutls2 > 0 ? r->rate / gnutls2 : 0);
}

/* The load average now (other work on the machine skews every number). */
static void
print_loadavg(const char *when)
{
	char buf[128] = "?";
	FILE *f = fopen("/proc/loadavg", "r");

	if (f != NULL) {
		if (fgets(buf, sizeof(buf), f) == NULL)
			cv_strlcpy(buf, "?\n", sizeof(buf));
		fclose(f);
	}
	printf("load average %s: %s", when, buf);
}

static void
print_command(int argc, char **argv)
{
	int i;

	printf("command:");
	for (i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");
}

int
main(int argc, char **argv)
{
	struct row rows[4 + 2 * (MAX_CLIENT_RUNS + 1)];
	struct bench_daemon d = {.pid = -1};
	struct opts o;
	struct pki pki;
	char exe[512], path[512], conf[1024], vcache[48] = "", *dir = NULL;
	const char *certvald;
	size_t i, n_rows = 0, slice, failed;
	double gnutls2 = 0;
	uint64_t t0;
	int rc = 1;

	parse_opts(&o, argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((certvald = bench_certvald_path(o.certvald, exe, sizeof(exe))) == NULL) {
		fprintf(stderr, "verify_bench: give --certvald PATH or set CERTVAL_BUILD_DIR\n");
		return 2;
	}
	if (access(certvald, X_OK) != 0) {
		perror(certvald);
		return 2;
	}
	print_command(argc, argv);
	printf("machine: %ld CPUs online; GnuTLS %s; %s keys\n", sysconf(_SC_NPROCESSORS_ONLN),
	       gnutls_check_version(NULL), o.rsa ? "RSA-2048" : "ECDSA P-256");
	print_loadavg("before");
	t0 = bench_now_ns();
	if (make_pki(&pki, o.leaves + o.seen, o.rsa) < 0) {
		fprintf(stderr, "verify_bench: generating the PKI failed\n");
		goto out;
	}
	printf("generated root, intermediate and %zu leaves in %.1f s\n", pki.n,
	       (double)(bench_now_ns() - t0) / 1e9);
	if (add_detail(&pki, o.detail) < 0)
		goto out;

	/* GnuTLS in-process: import the DER and verify [leaf, sub], as the daemon must. */
	for (i = 0; i < 4; i++) {
		int k = (int)(i % 2) + 1;
		bool pre = i >= 2;
		struct row *r = &rows[n_rows++];

		memset(r, 0, sizeof(*r));
		snprintf(r->name, sizeof(r->name), "gnutls %s, %d thread%s",
		         pre ? "verify only" : "import+verify", k, k > 1 ? "s" : "");
		r->rate = baseline(&pki, k, pre, o.base_seconds, &r->n, &failed);
		r->bad = failed;
		if (k == 2 && !pre)
			gnutls2 = r->rate;
		if (failed > 0)
			fprintf(stderr, "verify_bench: GnuTLS rejected %zu chains\n", failed);
	}

	if ((dir = bench_tempdir("certval-bench")) == NULL)
		goto out;
	snprintf(path, sizeof(path), "%s/root.pem", dir);
	if (bench_cert_write_pem(pki.root, path) < 0)
		goto out;
	if (o.verdict_cache >= 0)
		snprintf(vcache, sizeof(vcache), "verdict-cache entries %ld\n", o.verdict_cache);
	snprintf(conf, sizeof(conf),
	         "socket-mode 0600\nrequest-timeout 30\n%s"
	         "crypto pki trustpoint BENCH\n ca-certificate %s\n revocation-check none\n",
	         vcache, path);
	if (bench_daemon_start(&d, certvald, dir, conf) < 0)
		goto out;

	/*
	 * Warm up with every seen chain three times. Then, per client count, the seen chains
	 * for the time limit and a slice of new chains (each used once); last the latency probe:
	 * one client, one request at a time.
	 */
	if (run_load(&d, &pki, 0, o.seen, 3 * o.seen, 1, 16, o.seconds, "warm-up", &rows[n_rows]) <
	    0)
		goto out;
	slice = o.leaves / (o.n_clients + 1);
	for (i = 0; i <= o.n_clients; i++) {
		int k = i < o.n_clients ? o.clients[i] : 1, w = i < o.n_clients ? o.window : 1;
		double secs = i < o.n_clients ? o.seconds : o.seconds / 2;
		char name[48];

		snprintf(name, sizeof(name), "certvald seen chains (%zu)", o.seen);
		if (run_load(&d, &pki, 0, o.seen, SIZE_MAX, k, w, secs, name, &rows[n_rows++]) <
		        0 ||
		    run_load(&d, &pki, o.seen + i * slice, slice, slice, k, w, secs,
		             "certvald new chains", &rows[n_rows++]) < 0)
			goto out;
	}
	rc = 0;
	for (i = 0; i < n_rows; i++)
		rc |= rows[i].bad > 0;
	printf("\n%-34s %3s %4s %8s %5s %11s %10s %8s %8s %9s %6s %8s\n", "scenario", "K", "W",
	       "verdicts", "bad", "verdicts/s", "p50 ms", "p99 ms", "max ms", "daemonCPU", "client",
	       "/gnutls2");
	for (i = 0; i < n_rows; i++)
		print_row(&rows[i], gnutls2);
	print_loadavg("after");
	printf("\nK: client threads (one connection each); W: requests in flight per connection;\n"
	       "CPU in cores; /gnutls2: rate divided by GnuTLS import+verify on 2 threads.\n");
out:
	if (d.pid > 0 && bench_daemon_stop(&d) != 0) {
		fprintf(stderr, "verify_bench: certvald did not exit cleanly; see %s\n", d.log);
		rc = 1;
	}
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
