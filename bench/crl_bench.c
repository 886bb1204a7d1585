/*
 * crl_bench.c: generates a large signed CRL in memory (own DER writer, ECDSA P-256 through
 * gnutls_privkey_sign_data2), then measures certval's ingest (parse + verify + index), lookup
 * speed and memory, and GnuTLS's gnutls_x509_crl_import and `openssl crl` on the same CRLs.
 *
 * usage: crl_bench [--entries N] [--out FILE] [--lookups N] [--compare] [--limit SECONDS]
 *                  [--keep-dir DIR]
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../validator/crl/crl.h"
#include "../validator/cert.h"
#include "../validator/crl/crl_check.h"

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void
die(const char *what)
{
	fprintf(stderr, "crl_bench: %s\n", what);
	exit(1);
}

static void
put(struct buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + len)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (b->p == NULL)
			die("out of memory");
		b->cap = cap;
	}
	if (len > 0) /* an empty value may come with a NULL pointer */
		memcpy(b->p + b->len, data, len);
	b->len += len;
}

/* DER writer: tag, minimal length, contents. */
static void
put_tlv(struct buf *b, uint8_t tag, const void *val, size_t len)
{
	uint8_t h[6];
	size_t n = 0;

	h[n++] = tag;
	if (len < 0x80) {
		h[n++] = (uint8_t)len;
	} else if (len <= 0xff) {
		h[n++] = 0x81;
		h[n++] = (uint8_t)len;
	} else if (len <= 0xffff) {
		h[n++] = 0x82;
		h[n++] = (uint8_t)(len >> 8);
		h[n++] = (uint8_t)len;
	} else if (len <= 0xffffff) {
		h[n++] = 0x83;
		h[n++] = (uint8_t)(len >> 16);
		h[n++] = (uint8_t)(len >> 8);
		h[n++] = (uint8_t)len;
	} else {
		h[n++] = 0x84;
		h[n++] = (uint8_t)(len >> 24);
		h[n++] = (uint8_t)(len >> 16);
		h[n++] = (uint8_t)(len >> 8);
		h[n++] = (uint8_t)len;
	}
	put(b, h, n);
	put(b, val, len);
}

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A positive 16-octet serial, first octet in 0x01..0x7f. */
static void
make_serial(uint64_t *rng, uint8_t out[16])
{
	uint64_t a = xorshift(rng), b = xorshift(rng);

	memcpy(out, &a, 8);
	memcpy(out + 8, &b, 8);
	out[0] = (uint8_t)((out[0] & 0x7f) | 0x01);
}

struct pki {
	gnutls_privkey_t key;
	gnutls_x509_crt_t crt;
	gnutls_datum_t dn;         /* issuer Name DER */
	struct cv_cert *ca, *leaf; /* parsed: the CA and a certificate it issued, not listed */
};

static struct cv_cert *
parsed(gnutls_x509_crt_t crt)
{
	gnutls_datum_t der = {NULL, 0};
	struct cv_cert *c = NULL;
	struct cv_error err;

	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) < 0 ||
	    cv_cert_from_der(der.data, der.size, &c, &err) < 0)
		die("parsing a benchmark certificate failed");
	gnutls_free(der.data);
	return c;
}

/* A leaf of the CA (its own key) with a serial no benchmark CRL lists, both parsed. */
static void
make_leaf(struct pki *k)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_x509_crt_t leaf = NULL;
	time_t now = time(NULL);
	uint8_t serial[3] = {0x7f, 0xee, 0x01};

	if (gnutls_pubkey_init(&pub) < 0 || gnutls_pubkey_import_privkey(pub, k->key, 0, 0) < 0 ||
	    gnutls_x509_crt_init(&leaf) < 0 || gnutls_x509_crt_set_version(leaf, 3) < 0 ||
	    gnutls_x509_crt_set_serial(leaf, serial, sizeof(serial)) < 0 ||
	    gnutls_x509_crt_set_dn(leaf, "CN=certval bench leaf,O=certval", NULL) < 0 ||
	    gnutls_x509_crt_set_activation_time(leaf, now - 3600) < 0 ||
	    gnutls_x509_crt_set_expiration_time(leaf, now + 86400 * 365) < 0 ||
	    gnutls_x509_crt_set_pubkey(leaf, pub) < 0 ||
	    gnutls_x509_crt_privkey_sign(leaf, k->crt, k->key, GNUTLS_DIG_SHA256, 0) < 0)
		die("leaf certificate generation failed");
	k->ca = parsed(k->crt);
	k->leaf = parsed(leaf);
	gnutls_x509_crt_deinit(leaf);
	gnutls_pubkey_deinit(pub);
}

static void
make_pki(struct pki *k)
{
	gnutls_x509_privkey_t xkey;
	time_t now = time(NULL);
	uint8_t serial[1] = {1};

	if (gnutls_x509_privkey_init(&xkey) < 0 ||
	    gnutls_x509_privkey_generate(xkey, GNUTLS_PK_ECDSA,
	                                 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
	    gnutls_privkey_init(&k->key) < 0 ||
	    gnutls_privkey_import_x509(k->key, xkey, GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE) < 0)
		die("key generation failed");
	if (gnutls_x509_crt_init(&k->crt) < 0 || gnutls_x509_crt_set_version(k->crt, 3) < 0 ||
	    gnutls_x509_crt_set_serial(k->crt, serial, 1) < 0 ||
	    gnutls_x509_crt_set_dn(k->crt, "CN=certval bench CA,O=certval", NULL) < 0 ||
	    gnutls_x509_crt_set_issuer_dn(k->crt, "CN=certval bench CA,O=certval", NULL) < 0 ||
	    gnutls_x509_crt_set_activation_time(k->crt, now - 3600) < 0 ||
	    gnutls_x509_crt_set_expiration_time(k->crt, now + 86400 * 365) < 0 ||
	    gnutls_x509_crt_set_basic_constraints(k->crt, 1, -1) < 0 ||
	    gnutls_x509_crt_set_key_usage(k->crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN) <
	        0 ||
	    gnutls_x509_crt_set_key(k->crt, xkey) < 0 ||
	    gnutls_x509_crt_privkey_sign(k->crt, k->crt, k->key, GNUTLS_DIG_SHA256, 0) < 0 ||
	    gnutls_x509_crt_get_raw_dn(k->crt, &k->dn) < 0)
		die("CA certificate generation failed");
}

/* Builds a CRL with n entries (serials[i] 16 octets each), every entry with a reasonCode. */
static void
make_crl(const struct pki *k, size_t n, const uint8_t (*serials)[16], struct buf *out)
{
	static const uint8_t ecdsa_sha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
	                                       0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
	static const uint8_t reason_oid[] = {0x55, 0x1d, 0x15};
	static const uint8_t crl_number_ext[] = {0xa0, 0x0e, 0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03,
	                                         0x55, 0x1d, 0x14, 0x04, 0x03, 0x02, 0x01, 0x01};
	struct buf list = {0}, tbs = {0}, cl = {0}, e = {0}, tmp = {0};
	char when[16];
	time_t now = time(NULL);
	struct tm tm;
	gnutls_datum_t data, sig;
	uint8_t v2 = 1;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y%m%d%H%M%SZ", &tm);
	for (size_t i = 0; i < n; i++) {
		uint8_t reason_val[3] = {0x0a, 0x01, (uint8_t)(1 + i % 5)};
		uint8_t ext[32];
		size_t el;

		e.len = 0;
		put_tlv(&e, 0x02, serials[i], 16);
		put_tlv(&e, 0x17, when + 2, 13);
		/* extensions: SEQUENCE { SEQUENCE { OID reasonCode, OCTET STRING { ENUMERATED } } }
		 */
		tmp.len = 0;
		put_tlv(&tmp, 0x06, reason_oid, sizeof(reason_oid));
		put_tlv(&tmp, 0x04, reason_val, sizeof(reason_val));
		el = 0;
		ext[el++] = 0x30;
		ext[el++] = (uint8_t)(tmp.len + 2);
		ext[el++] = 0x30;
		ext[el++] = (uint8_t)tmp.len;
		memcpy(ext + el, tmp.p, tmp.len);
		el += tmp.len;
		put(&e, ext, el);
		put_tlv(&list, 0x30, e.p, e.len);
	}
	put_tlv(&tmp, 0, NULL, 0); /* keep tmp allocated even for n = 0 */
	tmp.len = 0;
	put_tlv(&tmp, 0x02, &v2, 1);
	put(&tmp, ecdsa_sha256, sizeof(ecdsa_sha256));
	put(&tmp, k->dn.data, k->dn.size);
	put_tlv(&tmp, 0x17, when + 2, 13);
	now += 7 * 86400;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y%m%d%H%M%SZ", &tm);
	put_tlv(&tmp, 0x17, when + 2, 13);
	if (n > 0)
		put_tlv(&tmp, 0x30, list.p, list.len);
	/* crlExtensions [0] { CRLNumber 1 }: RFC 5280 5.2.3 (certval refuses a CRL without) */
	put(&tmp, crl_number_ext, sizeof(crl_number_ext));
	put_tlv(&tbs, 0x30, tmp.p, tmp.len);
	data.data = tbs.p;
	data.size = (unsigned)tbs.len;
	if (gnutls_privkey_sign_data2(k->key, GNUTLS_SIGN_ECDSA_SHA256, 0, &data, &sig) < 0)
		die("signing failed");
	put(&cl, tbs.p, tbs.len);
	put(&cl, ecdsa_sha256, sizeof(ecdsa_sha256));
	tmp.len = 0;
	put(&tmp, "\0", 1);
	put(&tmp, sig.data, sig.size);
	put_tlv(&cl, 0x03, tmp.p, tmp.len);
	gnutls_free(sig.data);
	out->len = 0;
	put_tlv(out, 0x30, cl.p, cl.len);
	free(list.p);
	free(tbs.p);
	free(cl.p);
	free(e.p);
	free(tmp.p);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct result {
	size_t n, der_len;
	double ingest_s, ingest_cpu_s, parse_index_s, lookup_hit_ns, lookup_miss_ns;
	double check_ns; /* one RFC 5280 6.3 check (cv_crl_check) of a certificate not listed */
	size_t mem, heap_delta;
	double gnutls_s, openssl_s; /* < 0: over the limit; NaN: not run */
	int gnutls_status, openssl_status;
};

/*
 * The per-verdict work of the CRL method on a CRL at hand: cv_crl_check of a certificate the
 * CRL does not list (scope, signer with its remembered key, lookup). Nanoseconds per check.
 */
static double
measure_check(const struct pki *k, struct cv_crl *crl, size_t rounds)
{
	struct cv_crl_check_params p;
	struct cv_crl_check_result r;
	double t0;

	memset(&p, 0, sizeof(p));
	p.cert = k->leaf;
	p.issuer = k->ca;
	p.at = (cv_time)time(NULL);
	p.crls = &crl;
	p.n_crls = 1;
	p.use_deltas = true;
	if (cv_crl_check(&p, &r) < 0 || r.status != CV_CRL_STATUS_GOOD) {
		fprintf(stderr, "crl_bench: %s%s%s\n", r.message, r.n_notes > 0 ? "; " : "",
		        r.n_notes > 0 ? r.notes[0] : "");
		die("the CRL check of the benchmark leaf did not answer good");
	}
	t0 = now_s();
	for (size_t i = 0; i < rounds; i++)
		cv_crl_check(&p, &r);
	return (now_s() - t0) * 1e9 / (double)rounds;
}

static void
measure_certval(const struct pki *k, const struct buf *der, size_t n, const uint8_t (*serials)[16],
                size_t lookups, struct result *r)
{
	struct cv_crl *crl;
	struct cv_error err;
	struct cv_crl_entry ent;
	double t0, c0;
	size_t hits = 0;
	uint64_t rng = 0x9e3779b97f4a7c15ULL;
	struct mallinfo2 m0, m1;

	/* parse + index only */
	t0 = now_s();
	if (cv_crl_ingest(der->p, der->len, NULL, &crl, &err) < 0)
		die(err.msg);
	r->parse_index_s = now_s() - t0;
	cv_crl_free(crl);

	/* the full ingest: parse + index + signature */
	m0 = mallinfo2();
	t0 = now_s();
	c0 = cpu_s();
	if (cv_crl_ingest(der->p, der->len, k->crt, &crl, &err) < 0)
		die(err.msg);
	r->ingest_cpu_s = cpu_s() - c0;
	r->ingest_s = now_s() - t0;
	m1 = mallinfo2();
	r->mem = cv_crl_memory(crl);
	r->heap_delta = m1.uordblks + m1.hblkhd - m0.uordblks - m0.hblkhd;
	if (cv_crl_entries(crl) != n)
		die("entry count mismatch");

	if (n > 0) {
		t0 = now_s();
		for (size_t i = 0; i < lookups; i++)
			hits += cv_crl_lookup(crl, k->dn.data, k->dn.size,
			                      serials[xorshift(&rng) % n], 16, &ent);
		r->lookup_hit_ns = (now_s() - t0) * 1e9 / (double)lookups;
		if (hits != lookups)
			die("a listed serial was not found");
	}
	hits = 0;
	t0 = now_s();
	for (size_t i = 0; i < lookups; i++) {
		uint8_t s[16];

		make_serial(&rng, s);
		s[15] ^= 0x5a; /* random serials: practically never listed */
		hits += cv_crl_lookup(crl, k->dn.data, k->dn.size, s, 16, &ent);
	}
	r->lookup_miss_ns = (now_s() - t0) * 1e9 / (double)lookups;
	if (hits > 1)
		die("absent serials were found");
	r->check_ns = measure_check(k, crl, lookups / 10 + 1);
	cv_crl_free(crl);
}

/* Runs fn in a child under a time limit; returns seconds, -1 over the limit, NaN on failure. */
static double
timed_child(double limit, int (*fn)(void *), void *arg, int *status)
{
	double t0 = now_s();
	pid_t pid = fork();
	int st;

	if (pid < 0)
		die("fork failed");
	if (pid == 0) {
		alarm((unsigned)limit + 1);
		_exit(fn(arg) == 0 ? 0 : 1);
	}
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			break;
		if (now_s() - t0 > limit) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			*status = -1;
			return -1;
		}
		usleep(2000);
	}
	*status = st;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return 0.0 / 0.0;
	return now_s() - t0;
}

static int
gnutls_import(void *arg)
{
	const struct buf *der = arg;
	gnutls_x509_crl_t crl;
	gnutls_datum_t d = {der->p, (unsigned)der->len};
	int rc;

	if (gnutls_x509_crl_init(&crl) < 0)
		return -1;
	rc = gnutls_x509_crl_import(crl, &d, GNUTLS_X509_FMT_DER);
	gnutls_x509_crl_deinit(crl);
	return rc < 0 ? -1 : 0;
}

static int
openssl_crl(void *arg)
{
	const char *path = arg;
	int fd = open("/dev/null", O_WRONLY);

	if (fd >= 0) {
		dup2(fd, 1);
		close(fd);
	}
	execlp("openssl", "openssl", "crl", "-inform", "DER", "-noout", "-in", path, (char *)NULL);
	_exit(127);
}

static void
write_file(const char *path, const struct buf *b)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(b->p, 1, b->len, f) != b->len || fclose(f) != 0)
		die("cannot write the CRL file");
}

static void
fmt_peer(char *out, size_t len, double s, double limit)
{
	if (s != s)
		snprintf(out, len, "n/a");
	else if (s < 0)
		snprintf(out, len, "> %.0f s", limit);
	else
		snprintf(out, len, "%.3f s", s);
}

int
main(int argc, char **argv)
{
	size_t n = 1000000, lookups = 1000000;
	const char *out = NULL, *dir = NULL;
	bool compare = false;
	double limit = 60;
	struct pki k;
	struct result res[3];
	size_t sizes[3], n_sizes = 0;
	char tmpdir[] = "/tmp/crl_bench.XXXXXX";
	uint8_t(*serials)[16];
	uint64_t rng = 42;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--entries") == 0 && i + 1 < argc)
			n = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--lookups") == 0 && i + 1 < argc)
			lookups = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc)
			limit = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--keep-dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--compare") == 0)
			compare = true;
		else {
			fprintf(stderr, "usage: crl_bench [--entries N] [--lookups N] [--out FILE] "
			                "[--compare] [--limit SECONDS] [--keep-dir DIR]\n");
			return 2;
		}
	}
	if (lookups == 0)
		lookups = 1;
	if (gnutls_global_init() < 0)
		die("gnutls_global_init failed");
	make_pki(&k);
	make_leaf(&k);
	serials = malloc((n ? n : 1) * sizeof(*serials));
	if (serials == NULL)
		die("out of memory");
	for (size_t i = 0; i < n; i++)
		make_serial(&rng, serials[i]);

	if (compare) {
		if (n > 10000)
			sizes[n_sizes++] = 10000;
		if (n > 100000)
			sizes[n_sizes++] = 100000;
		if (dir == NULL) {
			if (mkdtemp(tmpdir) == NULL)
				die("mkdtemp failed");
			dir = tmpdir;
		}
	}
	sizes[n_sizes++] = n;
	for (size_t s = 0; s < n_sizes; s++) {
		struct buf der = {0};
		struct result *r = &res[s];
		char path[4096];

		memset(r, 0, sizeof(*r));
		r->n = sizes[s];
		make_crl(&k, sizes[s], (const uint8_t(*)[16])serials, &der);
		r->der_len = der.len;
		if (out != NULL && sizes[s] == n)
			write_file(out, &der);
		measure_certval(&k, &der, sizes[s], (const uint8_t(*)[16])serials, lookups, r);
		r->gnutls_s = r->openssl_s = 0.0 / 0.0;
		if (compare) {
			snprintf(path, sizeof(path), "%s/crl-%zu.der", dir, sizes[s]);
			write_file(path, &der);
			if (sizes[s] <= 100000)
				r->gnutls_s =
				    timed_child(limit, gnutls_import, &der, &r->gnutls_status);
			r->openssl_s = timed_child(limit, openssl_crl, path, &r->openssl_status);
			if (dir == tmpdir)
				unlink(path);
		}
		free(der.p);
	}
	if (dir == tmpdir)
		rmdir(tmpdir);

	printf("CRL: ECDSA P-256 / SHA-256, 16-octet serials, every entry with a reasonCode\n");
	printf("%-9s %11s %12s %12s %11s %11s %11s %12s %8s %13s %13s\n", "entries", "DER bytes",
	       "ingest", "parse+index", "lookup hit", "lookup miss", "6.3 check", "memory",
	       "mem/DER", "gnutls import", "openssl crl");
	for (size_t s = 0; s < n_sizes; s++) {
		const struct result *r = &res[s];
		char g[32], o[32];

		fmt_peer(g, sizeof(g), r->gnutls_s, limit);
		fmt_peer(o, sizeof(o), r->openssl_s, limit);
		printf("%-9zu %11zu %9.1f ms %9.1f ms %8.0f ns %8.0f ns %8.0f ns %12zu %8.2f %13s "
		       "%13s\n",
		       r->n, r->der_len, r->ingest_s * 1e3, r->parse_index_s * 1e3,
		       r->lookup_hit_ns, r->lookup_miss_ns, r->check_ns, r->mem,
		       (double)r->mem / (double)r->der_len, g, o);
	}
	printf("ingest = cv_crl_ingest (copy, parse, index, verify) wall time, one thread "
	       "(CPU %.1f ms for the last row); memory = the cv_crl object's heap bytes "
	       "(malloc'd delta %zu)\n",
	       res[n_sizes - 1].ingest_cpu_s * 1e3, res[n_sizes - 1].heap_delta);
	free(serials);
	cv_cert_unref(k.ca);
	cv_cert_unref(k.leaf);
	gnutls_free(k.dn.data);
	gnutls_x509_crt_deinit(k.crt);
	gnutls_privkey_deinit(k.key);
	gnutls_global_deinit();
	return 0;
}
