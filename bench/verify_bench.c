/*
 * verify_bench.c: verdict throughput and latency of a real certvald over its socket, in one run
 * with the bounds it is judged against (issue 13, README "Benchmarks"):
 *   - the signature bound: ECDSA P-256 (or RSA-2048) verifications per second on one thread
 *     and on every core; with the verified-link cache, a new leaf under a known intermediate
 *     costs one verification, so that rate on all cores is the bound for new chains;
 *   - GnuTLS's in-process import + gnutls_x509_trust_list_verify_crt2 on 1 and N threads;
 *   - certvald's new and seen chains at 1, 16 and 64 clients (p50, p99, daemon CPU), the
 *     p99 of 64 clients at 80% of the saturated new-chain rate, and new chains under
 *     `revocation-check crl` with `crl file` CRLs of several sizes;
 *   - a CRL's cost per verdict: two daemons side by side (`revocation-check none` and `crl`)
 *     answer the seen chains with the verdict cache off, in alternating turns;
 *   - with --compare PATH, the same turns of this certvald and of another one (built before a
 *     change): the change's cost or gain per verdict on the path beyond the signature;
 *   - the ratios against the targets; the signature bound for them is measured again around
 *     each new-chain row of the client counts (one second before it, one after), as the
 *     machine ran then.
 *
 * Generates root -> intermediate -> N distinct leaves in memory (ECDSA P-256, or RSA-2048
 * with --rsa; the leaves share one key pair, each is a distinct certificate the intermediate
 * signed), starts certvald with one trustpoint and drives it with K client threads, each
 * keeping W pipelined requests in flight on its own connection (raw JSON lines).
 *
 * usage: verify_bench [--leaves N] [--seen N] [--rsa] [--clients LIST] [--window W]
 *                     [--seconds S] [--baseline-seconds S] [--crl-entries LIST]
 *                     [--workers N] [--certvald PATH] [--compare PATH] [--keep-dir]
 *                     [--detail verdict|evidence|trace] [--verdict-cache N]
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/util.h"
#include "bench_load.h"
#include "bench_pki.h"

#define MAX_CLIENT_RUNS 4
#define MAX_CRL_RUNS    3
#define MAX_THREADS     16  /* baseline threads */
#define AROUND_SECONDS  1.0 /* each signature run around a new-chain row */
#define TURNS           12  /* turns of each daemon side by side (even: ABBA) */
#define TURN_SECS       0.4 /* the length of one turn */

struct opts {
	size_t leaves; /* chains used once each (split over the client runs) */
	size_t seen;   /* chains used over and over */
	bool rsa;
	int clients[MAX_CLIENT_RUNS];
	size_t n_clients;
	int window;
	double seconds;                 /* cap per daemon scenario */
	double base_seconds;            /* length of each GnuTLS run */
	long crl_entries[MAX_CRL_RUNS]; /* revoked serials per CRL of each CRL run */
	size_t n_crl;
	int workers; /* certvald `workers`; -1: its default */
	const char *certvald;
	const char *compare; /* --compare: another certvald, measured side by side */
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
	        "usage: verify_bench [--leaves N] [--seen N] [--rsa] [--clients 1,16,64]\n"
	        "                    [--window W] [--seconds S] [--baseline-seconds S]\n"
	        "                    [--crl-entries 0,20000] [--workers N]\n"
	        "                    [--certvald PATH] [--compare PATH] [--keep-dir]\n"
	        "                    [--detail verdict|evidence|trace] [--verdict-cache N]\n");
	exit(2);
}

/* A comma-separated list of at most max numbers in [lo, hi] into out; returns the count. */
static size_t
parse_list(const char *list, long lo, long hi, long *out, size_t max)
{
	char *copy = strdup(list), *tok, *save = NULL;
	size_t n = 0;

	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		const long v = atol(tok);

		if (v < lo || v > hi || n == max)
			usage();
		out[n++] = v;
	}
	free(copy);
	return n;
}

static void
parse_clients(struct opts *o, const char *list)
{
	long k[MAX_CLIENT_RUNS];

	o->n_clients = parse_list(list, 1, 64, k, MAX_CLIENT_RUNS);
	if (o->n_clients == 0)
		usage();
	for (size_t i = 0; i < o->n_clients; i++)
		o->clients[i] = (int)k[i];
}

static void
parse_crl_entries(struct opts *o, const char *list)
{
	o->n_crl = parse_list(list, 0, 10000000, o->crl_entries, MAX_CRL_RUNS);
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
	                                         {"compare", required_argument, NULL, 'C'},
	                                         {"baseline-seconds", required_argument, NULL, 'b'},
	                                         {"crl-entries", required_argument, NULL, 'c'},
	                                         {"workers", required_argument, NULL, 'j'},
	                                         {"detail", required_argument, NULL, 'D'},
	                                         {"verdict-cache", required_argument, NULL, 'V'},
	                                         {NULL, 0, NULL, 0}};
	int c;

	memset(o, 0, sizeof(*o));
	o->leaves = 40000;
	o->seen = 100;
	o->window = 1;
	o->seconds = 5;
	o->base_seconds = 3;
	o->workers = -1;
	o->verdict_cache = -1;
	parse_clients(o, "1,16,64");
	parse_crl_entries(o, "0,20000");
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
		case 'C':
			o->compare = optarg;
			break;
		case 'c':
			parse_crl_entries(o, optarg);
			break;
		case 'j':
			o->workers = atoi(optarg);
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
	struct base_job jobs[MAX_THREADS];
	pthread_barrier_t barrier;
	pthread_t tid[MAX_THREADS];
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

/* ---- the signature bound ---- */

struct sig_job {
	const struct pki *pki;
	double seconds;
	pthread_barrier_t *barrier;
	size_t done, failed;
	uint64_t start, end;
	double cpu; /* this thread's CPU seconds while verifying */
};

/* CPU seconds of the calling thread (robust to other load on the machine, unlike rates). */
static double
thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Verifications of one signature over a certificate-sized message with the leaves' key, as
 * the daemon's one check per new chain does (its own copies: nothing shared between threads).
 */
static void *
sig_thread(void *arg)
{
	struct sig_job *j = arg;
	const uint64_t limit = (uint64_t)(j->seconds * 1e9);
	unsigned char msg[600];
	gnutls_datum_t data = {msg, sizeof(msg)}, sig = {NULL, 0};
	struct bench_key key;
	gnutls_pubkey_t pub = NULL;
	gnutls_sign_algorithm_t algo;

	memset(msg, 0x5a, sizeof(msg));
	if (bench_key_copy(&j->pki->leaf_key, &key) < 0 || gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_pubkey_import_privkey(pub, key.priv, 0, 0) < 0)
		abort(); /* out of memory; a benchmark may stop here */
	algo =
	    gnutls_pk_to_sign(gnutls_privkey_get_pk_algorithm(key.priv, NULL), GNUTLS_DIG_SHA256);
	if (gnutls_privkey_sign_data2(key.priv, algo, 0, &data, &sig) < 0)
		abort();
	pthread_barrier_wait(j->barrier);
	j->start = bench_now_ns();
	j->cpu = thread_cpu();
	do {
		j->failed += gnutls_pubkey_verify_data2(pub, algo, 0, &data, &sig) < 0;
		j->done++;
	} while ((j->done & 15) != 0 || bench_now_ns() - j->start < limit);
	j->end = bench_now_ns();
	j->cpu = thread_cpu() - j->cpu;
	gnutls_free(sig.data);
	gnutls_pubkey_deinit(pub);
	bench_key_free(&key);
	return NULL;
}

/* Signature verifications per second on k threads during seconds; *cpu_us: CPU time of one. */
static double
sig_rate(const struct pki *p, int k, double seconds, size_t *done_out, size_t *failed,
         double *cpu_us_out)
{
	double cpu = 0;
	struct sig_job jobs[MAX_THREADS];
	pthread_barrier_t barrier;
	pthread_t tid[MAX_THREADS];
	uint64_t first = UINT64_MAX, last = 0;
	size_t done = 0;
	int i;

	*failed = 0;
	pthread_barrier_init(&barrier, NULL, (unsigned)k);
	for (i = 0; i < k; i++) {
		jobs[i] = (struct sig_job){p, seconds, &barrier, 0, 0, 0, 0, 0};
		if (pthread_create(&tid[i], NULL, sig_thread, &jobs[i]) != 0)
			abort();
	}
	for (i = 0; i < k; i++) {
		pthread_join(tid[i], NULL);
		done += jobs[i].done;
		*failed += jobs[i].failed;
		cpu += jobs[i].cpu;
		first = jobs[i].start < first ? jobs[i].start : first;
		last = jobs[i].end > last ? jobs[i].end : last;
	}
	pthread_barrier_destroy(&barrier);
	*done_out = done;
	*cpu_us_out = done > 0 ? cpu / (double)done * 1e6 : 0;
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
	/* new chains: one thread's signature rate and CPU per verification, the mean of a short
	 * run just before the row and one just after it (the daemon idle): the bound as the
	 * machine ran then (0: not measured) */
	double sig_around, sig_around_cpu_us;
};

/* Daemon CPU time per verdict, in microseconds (all its threads). */
static double
cpu_us(const struct row *r)
{
	return r->rate > 0 ? r->cpu_daemon / r->rate * 1e6 : 0;
}

static int
run_load(const struct bench_daemon *d, const struct pki *p, size_t first, size_t n_bodies,
         size_t total, int clients, int window, double seconds, double rate, const char *name,
         struct row *row)
{
	struct bench_load load = {d->sock, p->body + first, n_bodies, 0,     total,
	                          seconds, clients,         window,   false, rate};
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
	char lat[64] = "         -        -        -", cpu[48] = "        -      -       -";

	if (r->has_latency) {
		snprintf(lat, sizeof(lat), "%10.3f %8.3f %8.2f", r->p50, r->p99, r->max);
		snprintf(cpu, sizeof(cpu), "%9.2f %6.2f %7.1f", r->cpu_daemon, r->cpu_client,
		         cpu_us(r));
	}
	char kw[16] = "   -    -";

	if (r->clients > 0)
		snprintf(kw, sizeof(kw), "%3d %4d", r->clients, r->window);
	printf("%-36s %s %8zu %5zu %11.0f %s %s %8.2f\n", r->name, kw, r->n, r->bad, r->rate, lat,
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

/* Two daemons' turns side by side (measure_turns), in microseconds of daemon CPU per verdict. */
struct turns {
	double a_us, b_us;           /* medians of the turns' CPU per verdict */
	double median, lowest, most; /* of the turns' differences, b - a */
	bool measured;
};

/* What one run measured, for the targets. */
struct summary {
	int ncpu;
	double sig1, sign;           /* signature verifications/s: 1 thread, ncpu threads */
	double sig_cpu_us;           /* CPU time of one verification (1 thread) */
	double gnutls1, gnutlsn;     /* GnuTLS import+verify chains/s: 1 thread, ncpu threads */
	const struct row *new_sat;   /* the best new-chain rate of the client counts */
	const struct row *new_kmax;  /* new chains at the most clients */
	const struct row *seen_kmax; /* seen chains at the most clients */
	const struct row *new_paced; /* the most clients at 80% of new_kmax's rate */
	struct turns crl_cost[MAX_CRL_RUNS]; /* a: revocation-check none, b: crl */
	struct turns compared;               /* a: this certvald, b: --compare's */
};

/*
 * A new-chain row between two short single-thread signature runs: on a shared machine the
 * signature rate measured at the start can be a minute away from the row, and the machine's
 * speed moves in between; the mean of the two runs is the bound as it was during the row.
 */
static int
run_new_row(const struct bench_daemon *d, const struct pki *p, size_t first, size_t n, int clients,
            const struct opts *o, const char *name, struct row *row)
{
	double before, after, cpu_before = 0, cpu_after = 0;
	size_t done, failed;
	int rc;

	before = sig_rate(p, 1, AROUND_SECONDS, &done, &failed, &cpu_before);
	rc = run_load(d, p, first, n, n, clients, o->window, o->seconds, 0, name, row);
	after = sig_rate(p, 1, AROUND_SECONDS, &done, &failed, &cpu_after);
	row->sig_around = (before + after) / 2;
	row->sig_around_cpu_us = (cpu_before + cpu_after) / 2;
	return rc;
}

/* Starts certvald on the PKI: `revocation-check none`, or crl with file CRLs (crl_entries >=
 * 0: revoked serials in the intermediate's CRL). */
static int
start_daemon(struct bench_daemon *d, const char *certvald, const char *dir, const struct pki *p,
             const struct opts *o, long crl_entries, long verdict_cache)
{
	char root[512], rcrl[512], scrl[512], workers[80] = "", conf[2048];

	snprintf(root, sizeof(root), "%s/root.pem", dir);
	snprintf(rcrl, sizeof(rcrl), "%s/root.crl", dir);
	snprintf(scrl, sizeof(scrl), "%s/sub-%ld.crl", dir, crl_entries);
	if (o->workers >= 0)
		snprintf(workers, sizeof(workers), "workers %d\n", o->workers);
	if (verdict_cache >= 0)
		snprintf(workers + strlen(workers), sizeof(workers) - strlen(workers),
		         "verdict-cache entries %ld\n", verdict_cache);
	if (bench_cert_write_pem(p->root, root) < 0)
		return -1;
	if (crl_entries < 0) {
		snprintf(
		    conf, sizeof(conf),
		    "socket-mode 0600\nrequest-timeout 30\n%s"
		    "crypto pki trustpoint BENCH\n ca-certificate %s\n revocation-check none\n",
		    workers, root);
	} else {
		if (bench_crl_write(p->root, &p->root_key, false, rcrl) < 0 ||
		    bench_crl_write_n(p->sub, &p->sub_key, false, (size_t)crl_entries, scrl) < 0)
			return -1;
		snprintf(conf, sizeof(conf),
		         "socket-mode 0600\nrequest-timeout 30\n%s"
		         "crypto pki trustpoint BENCH\n ca-certificate %s\n revocation-check crl\n"
		         " crl file %s\n crl file %s\n",
		         workers, root, rcrl, scrl);
	}
	return bench_daemon_start(d, certvald, dir, conf);
}

static int
stop_daemon(struct bench_daemon *d)
{
	int rc = 0;

	if (d->pid > 0 && bench_daemon_stop(d) != 0) {
		fprintf(stderr, "verify_bench: certvald did not exit cleanly; see %s\n", d->log);
		rc = -1;
	}
	d->pid = -1;
	return rc;
}

static int
cmp_double(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of n values (sorted in place). */
static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One daemon of a side-by-side measurement: its certvald, its CRLs (measure_crl_cost) and the
 * name of its turns. */
struct side {
	const char *certvald;
	long crl_entries; /* `crl file` CRLs of so many entries; -1: `revocation-check none` */
	const char *what;
};

/*
 * Two daemons' CPU per verdict, end to end on the daemon's path, side by side. Both run with
 * the verdict cache off and answer the seen chains, whose signatures are all in the
 * verified-link cache: each verdict is the whole path (the request read, the path built and
 * validated, revocation, maps, the reply) without a signature, about 30 us instead of 150, so
 * that the two differ by what sets them apart and little noise. The daemons take short turns
 * in the order ABBA, so that the machine's drift falls on both alike; the difference is the
 * median of the turns' differences. Each daemon works in DIR/turns-TAG-a and -b.
 */
static int
measure_turns(const struct side sides[2], const char *dir, const char *tag, const struct pki *p,
              const struct opts *o, struct turns *out)
{
	struct bench_daemon d[2] = {{.pid = -1}, {.pid = -1}};
	double us[2][TURNS / 2], diff[TURNS / 2];
	char path[600];
	struct row r;
	int rc = -1;

	for (int k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "%s/turns-%s-%c", dir, tag, k == 0 ? 'a' : 'b');
		if (mkdir(path, 0755) != 0 ||
		    start_daemon(&d[k], sides[k].certvald, path, p, o, sides[k].crl_entries, 0) <
		        0 ||
		    run_load(&d[k], p, 0, o->seen, 3 * o->seen, 1, 16, o->seconds, 0, "warm-up",
		             &r) < 0)
			goto out;
	}
	for (int t = 0; t < TURNS; t++) {
		const int k = (t % 4 == 0 || t % 4 == 3) ? 0 : 1; /* A B B A */

		if (run_load(&d[k], p, 0, o->seen, SIZE_MAX, 16, o->window, TURN_SECS, 0,
		             sides[k].what, &r) < 0 ||
		    r.bad > 0)
			goto out;
		us[k][t / 2] = cpu_us(&r);
	}
	for (int i = 0; i < TURNS / 2; i++)
		diff[i] = us[1][i] - us[0][i];
	out->median = median(diff, TURNS / 2);
	out->lowest = diff[0];
	out->most = diff[TURNS / 2 - 1];
	out->a_us = median(us[0], TURNS / 2);
	out->b_us = median(us[1], TURNS / 2);
	out->measured = true;
	rc = 0;
out:
	for (int k = 0; k < 2; k++)
		if (stop_daemon(&d[k]) < 0)
			rc = -1;
	return rc;
}

/*
 * A CRL's cost per verdict: the same certvald side by side, `revocation-check none` and `crl`
 * over `crl file` CRLs of the root and of the intermediate (entries revoked serials, none of
 * them a leaf's).
 */
static int
measure_crl_cost(const char *certvald, const char *dir, const struct pki *p, const struct opts *o,
                 long entries, struct turns *cost)
{
	const struct side sides[2] = {{certvald, -1, "seen, no verdict cache"},
	                              {certvald, entries, "seen, no verdict cache, CRL"}};
	char tag[32];

	snprintf(tag, sizeof(tag), "crl-%ld", entries);
	return measure_turns(sides, dir, tag, p, o, cost);
}

/* The signature bound and GnuTLS's rates, each a row. */
static void
measure_bounds(const struct pki *p, const struct opts *o, struct summary *sum, struct row *rows,
               size_t *n_rows)
{
	size_t failed;
	double cpu;

	for (int i = 0; i < 2; i++) {
		int k = i == 0 ? 1 : sum->ncpu;
		struct row *r = &rows[(*n_rows)++];

		memset(r, 0, sizeof(*r));
		snprintf(r->name, sizeof(r->name), "signature verify, %d thread%s", k,
		         k > 1 ? "s" : "");
		r->rate = sig_rate(p, k, o->base_seconds, &r->n, &failed, &cpu);
		r->bad = failed;
		*(i == 0 ? &sum->sig1 : &sum->sign) = r->rate;
		if (i == 0)
			sum->sig_cpu_us = cpu;
	}
	for (int i = 0; i < 4; i++) {
		int k = i % 2 == 0 ? 1 : sum->ncpu;
		bool pre = i >= 2;
		struct row *r = &rows[(*n_rows)++];

		memset(r, 0, sizeof(*r));
		snprintf(r->name, sizeof(r->name), "gnutls %s, %d thread%s",
		         pre ? "verify only" : "import+verify", k, k > 1 ? "s" : "");
		r->rate = baseline(p, k, pre, o->base_seconds, &r->n, &failed);
		r->bad = failed;
		if (!pre)
			*(k == 1 ? &sum->gnutls1 : &sum->gnutlsn) = r->rate;
		if (failed > 0)
			fprintf(stderr, "verify_bench: GnuTLS rejected %zu chains\n", failed);
	}
}

/*
 * A new-chain row's daemon CPU per verdict beyond its one signature check, the signature's
 * CPU as measured around the row (the one at the start can be minutes away from it, and the
 * machine's speed moves in between).
 */
static double
beyond_us(const struct row *r, const struct summary *s)
{
	return cpu_us(r) - (r->sig_around > 0 ? r->sig_around_cpu_us : s->sig_cpu_us);
}

static void
print_target(const char *what, double value, const char *unit, const char *op, double target)
{
	bool met = strcmp(op, ">=") == 0 ? value >= target : value < target;

	/* a ratio with three decimals: 0.697 is not met, and reads so */
	printf("  %-58s %10.*f %-6s target %s %-8g %s\n", what, unit[0] == '\0' ? 3 : 2, value,
	       unit, op, target, met ? "met" : "NOT MET");
}

static void
print_targets(const struct summary *s, const struct opts *o)
{
	const struct row *n = s->new_sat;
	const double sig = n->sig_around > 0 ? n->sig_around : s->sig1;
	const double bound = sig * s->ncpu;

	printf("\nsignature bound: %.0f verifications/s per core x %d cores = %.0f/s at the start "
	       "(measured on %d threads at once: %.0f/s); a new leaf under a known intermediate "
	       "costs one verification, so new chains are bounded by that\n",
	       s->sig1, s->ncpu, s->sig1 * s->ncpu, s->ncpu, s->sign);
	if (n->sig_around > 0)
		printf("around the best new-chain row (%d clients): %.0f verifications/s per core "
		       "(the mean of %.0f s before and after it), a bound of %.0f/s; the targets "
		       "below use it\n",
		       n->clients, n->sig_around, AROUND_SECONDS, bound);
	printf("targets (best new-chain rate: %d clients, window %d):\n", n->clients, n->window);
	print_target("new chains / signature bound", n->rate / bound, "", ">=", 0.7);
	print_target("new chains / GnuTLS import+verify on as many threads", n->rate / s->gnutlsn,
	             "", ">=", 2.0);
	print_target("daemon CPU per new chain beyond its one signature check", beyond_us(n, s),
	             "us", "<", 50);
	print_target("daemon CPU per seen chain (no signature check at all)", cpu_us(s->seen_kmax),
	             "us", "<", 50);
	if (s->new_paced != NULL)
		print_target("p99, most clients at 80% of their saturated new-chain rate",
		             s->new_paced->p99, "ms", "<", 2);
	for (size_t i = 0; i < o->n_crl; i++) {
		const struct turns *c = &s->crl_cost[i];
		char what[96];

		if (!c->measured)
			continue;
		snprintf(what, sizeof(what), "CRL checking per verdict, %ld-entry CRL",
		         o->crl_entries[i]);
		print_target(what, c->median, "us", "<", 5);
	}
}

/* Each CRL cost measurement: the two daemons' CPU per verdict and the turns' differences. */
static void
print_crl_costs(const struct summary *s, const struct opts *o)
{
	printf("\nCRL cost per verdict (seen chains, verdict cache off, %d turns of %.1f s, ABBA; "
	       "daemon CPU per verdict, median of the turns):\n",
	       TURNS, TURN_SECS);
	for (size_t i = 0; i < o->n_crl; i++) {
		const struct turns *c = &s->crl_cost[i];

		if (c->measured)
			printf("  %8ld entries: none %6.2f us, crl %6.2f us; difference median "
			       "%5.2f us "
			       "(turns %.2f to %.2f)\n",
			       o->crl_entries[i], c->a_us, c->b_us, c->median, c->lowest, c->most);
	}
}

/* --compare: this certvald and the other one, side by side. */
static void
print_compared(const struct summary *s, const struct opts *o)
{
	const struct turns *c = &s->compared;

	if (!c->measured)
		return;
	printf("\ncompared with %s (seen chains, verdict cache off, %d turns of %.1f s, ABBA; "
	       "daemon CPU per verdict, median of the turns):\n"
	       "  tested %6.2f us, compared %6.2f us; compared - tested: median %5.2f us "
	       "(turns %.2f to %.2f)\n",
	       o->compare, TURNS, TURN_SECS, c->a_us, c->b_us, c->median, c->lowest, c->most);
}

int
main(int argc, char **argv)
{
	struct row rows[8 + 2 * MAX_CLIENT_RUNS + 2 + MAX_CRL_RUNS];
	struct bench_daemon d = {.pid = -1};
	struct summary sum = {0};
	struct opts o;
	struct pki pki;
	char exe[512], *dir = NULL;
	const char *certvald;
	size_t i, n_rows = 0, slice, next = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int kmax, rc = 1;
	uint64_t t0;

	parse_opts(&o, argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	sum.ncpu = ncpu < 1 ? 1 : ncpu > MAX_THREADS ? MAX_THREADS : (int)ncpu;
	if ((certvald = bench_certvald_path(o.certvald, exe, sizeof(exe))) == NULL) {
		fprintf(stderr, "verify_bench: give --certvald PATH or set CERTVAL_BUILD_DIR\n");
		return 2;
	}
	for (int k = 0; k < 2; k++) {
		const char *bin = k == 0 ? certvald : o.compare;

		if (bin != NULL && access(bin, X_OK) != 0) {
			perror(bin);
			return 2;
		}
	}
	bench_print_command(argc, argv);
	printf("machine: %ld CPUs online; GnuTLS %s; %s keys\n", ncpu, gnutls_check_version(NULL),
	       o.rsa ? "RSA-2048" : "ECDSA P-256");
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
	measure_bounds(&pki, &o, &sum, rows, &n_rows);

	if ((dir = bench_tempdir("certval-bench")) == NULL ||
	    start_daemon(&d, certvald, dir, &pki, &o, -1, o.verdict_cache) < 0)
		goto out;
	/*
	 * Warm up with every seen chain three times. Then, per client count, the seen chains
	 * for the time limit and a slice of new chains (each used once); then the most clients
	 * at 80% of their new-chain rate; then new chains under each CRL size.
	 */
	if (run_load(&d, &pki, 0, o.seen, 3 * o.seen, 1, 16, o.seconds, 0, "warm-up",
	             &rows[n_rows]) < 0)
		goto out;
	slice = o.leaves / (o.n_clients + 1 + o.n_crl);
	kmax = o.clients[o.n_clients - 1];
	for (i = 0; i < o.n_clients; i++) {
		int k = o.clients[i];
		char name[48];

		snprintf(name, sizeof(name), "certvald seen chains (%zu)", o.seen);
		sum.seen_kmax = &rows[n_rows];
		if (run_load(&d, &pki, 0, o.seen, SIZE_MAX, k, o.window, o.seconds, 0, name,
		             &rows[n_rows++]) < 0 ||
		    run_new_row(&d, &pki, o.seen + next, slice, k, &o, "certvald new chains",
		                &rows[n_rows++]) < 0)
			goto out;
		next += slice;
		if (sum.new_sat == NULL || rows[n_rows - 1].rate > sum.new_sat->rate)
			sum.new_sat = &rows[n_rows - 1];
		sum.new_kmax = &rows[n_rows - 1];
	}
	if (run_load(&d, &pki, o.seen + next, slice, slice, kmax, o.window, o.seconds,
	             0.8 * sum.new_kmax->rate, "certvald new chains, 80% rate",
	             &rows[n_rows++]) < 0)
		goto out;
	sum.new_paced = &rows[n_rows - 1];
	next += slice;
	if (stop_daemon(&d) < 0)
		goto out;
	for (i = 0; i < o.n_crl; i++) {
		char name[48];

		snprintf(name, sizeof(name), "certvald new, CRL %ld entries", o.crl_entries[i]);
		if (start_daemon(&d, certvald, dir, &pki, &o, o.crl_entries[i], o.verdict_cache) <
		        0 ||
		    run_load(&d, &pki, 0, o.seen, 3 * o.seen, 1, 16, o.seconds, 0, "warm-up",
		             &rows[n_rows]) < 0 ||
		    run_load(&d, &pki, o.seen + next, slice, slice, kmax, o.window, o.seconds, 0,
		             name, &rows[n_rows++]) < 0 ||
		    stop_daemon(&d) < 0)
			goto out;
		next += slice;
		if (measure_crl_cost(certvald, dir, &pki, &o, o.crl_entries[i], &sum.crl_cost[i]) <
		    0)
			goto out;
	}
	if (o.compare != NULL) {
		const struct side sides[2] = {{certvald, -1, "seen, no verdict cache, tested"},
		                              {o.compare, -1, "seen, no verdict cache, compared"}};

		if (measure_turns(sides, dir, "compare", &pki, &o, &sum.compared) < 0)
			goto out;
	}
	rc = 0;
	for (i = 0; i < n_rows; i++)
		rc |= rows[i].bad > 0;
	printf("\n%-36s %3s %4s %8s %5s %11s %10s %8s %8s %9s %6s %7s %8s\n", "scenario", "K", "W",
	       "verdicts", "bad", "verdicts/s", "p50 ms", "p99 ms", "max ms", "daemonCPU", "client",
	       "us/vdt", "/gnutlsN");
	for (i = 0; i < n_rows; i++)
		print_row(&rows[i], sum.gnutlsn);
	print_crl_costs(&sum, &o);
	print_compared(&sum, &o);
	print_targets(&sum, &o);
	print_loadavg("after");
	printf(
	    "\nK: client threads (one connection each); W: requests in flight per connection;\n"
	    "CPU in cores; us/vdt: daemon CPU (all threads) per verdict; /gnutlsN: rate divided\n"
	    "by GnuTLS import+verify on %d threads.\n",
	    sum.ncpu);
out:
	if (stop_daemon(&d) < 0)
		rc = 1;
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
