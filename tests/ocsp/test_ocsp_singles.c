/*
 * test_ocsp_singles.c: OCSP responses no stock responder writes, built here as DER and signed
 * with the CA's key through GnuTLS's privkey API: two SingleResponses for one certificate
 * that agree or disagree (both orders), critical and non-critical singleExtensions and
 * responseExtensions, producedAt against thisUpdate, and a non-minimally encoded CertID
 * serial. Each defect next to the near miss that must be accepted, through
 * cv_ocsp_response_check and once through `certvalctl ocsp-check`.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../../common/util.h"
#include "../../validator/ocsp/ocsp.h"
#include "../support/check.h"

#define DER_MAX 8192

/* A DER buffer built inside out: contents first, then wrapped in their tag and length. */
struct der {
	uint8_t b[DER_MAX];
	size_t len;
};

static void
put(struct der *d, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (d->len + n > DER_MAX) {
		fprintf(stderr, "DER buffer overflow\n");
		exit(1);
	}
	memcpy(d->b + d->len, p, n);
	d->len += n;
}

/* Appends tag, minimal length and contents. */
static void
tlv(struct der *d, uint8_t tag, const void *p, size_t n)
{
	uint8_t h[4] = {tag};
	size_t hl = 2;

	if (n < 0x80) {
		h[1] = (uint8_t)n;
	} else if (n < 0x100) {
		h[1] = 0x81;
		h[2] = (uint8_t)n;
		hl = 3;
	} else {
		h[1] = 0x82;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hl = 4;
	}
	put(d, h, hl);
	put(d, p, n);
}

static void
wrap(struct der *out, uint8_t tag, const struct der *in)
{
	tlv(out, tag, in->b, in->len);
}

static void
gentime(struct der *d, cv_time t)
{
	const time_t tt = (time_t)t;
	struct tm tm;
	char s[32];

	gmtime_r(&tt, &tm);
	strftime(s, sizeof(s), "%Y%m%d%H%M%SZ", &tm);
	tlv(d, 0x18, s, strlen(s));
}

/* Extensions ::= SEQUENCE OF Extension, one private extension (1.3.6.1.4.1.55555.1). */
static void
extensions(struct der *d, bool critical)
{
	static const uint8_t oid[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xb2, 0x03, 0x01};
	static const uint8_t value[] = {0x05, 0x00};
	static const uint8_t yes[] = {0xff};
	struct der ext = {{0}, 0}, seq = {{0}, 0};

	tlv(&ext, 0x06, oid, sizeof(oid));
	if (critical)
		tlv(&ext, 0x01, yes, 1);
	tlv(&ext, 0x04, value, sizeof(value));
	wrap(&seq, 0x30, &ext);
	tlv(d, 0x30, seq.b, seq.len);
}

enum ext_kind { EXT_NONE, EXT_PLAIN, EXT_CRITICAL };

struct single {
	gnutls_x509_crt_t cert;
	int status;      /* CV_OCSP_STATUS_GOOD, _REVOKED or _UNKNOWN */
	bool pad_serial; /* a redundant leading 0x00 before the serial */
	enum ext_kind ext;
};

struct spec {
	struct single singles[4];
	size_t n;
	cv_time produced, this_update;
	enum ext_kind resp_ext;
};

static gnutls_x509_crt_t ca, leaf, revoked;
static gnutls_privkey_t ca_key;
static cv_time now;
static char dir[64];

static void
single(struct der *out, const struct single *s, cv_time this_update)
{
	static const uint8_t sha1_alg[] = {0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e,
	                                   0x03, 0x02, 0x1a, 0x05, 0x00};
	static const uint8_t reason[] = {0xa0, 0x03, 0x0a, 0x01, 0x01}; /* keyCompromise */
	struct cv_ocsp_certid id;
	struct der certid = {{0}, 0}, body = {{0}, 0}, tmp = {{0}, 0}, serial = {{0}, 0};
	struct cv_error err;

	if (cv_ocsp_certid_compute(s->cert, ca, GNUTLS_DIG_SHA1, &id, &err) < 0) {
		fprintf(stderr, "certid: %s\n", err.msg);
		exit(1);
	}
	put(&certid, sha1_alg, sizeof(sha1_alg));
	tlv(&certid, 0x04, id.name_hash, id.name_hash_len);
	tlv(&certid, 0x04, id.key_hash, id.key_hash_len);
	if (s->pad_serial)
		put(&serial, "\0", 1);
	put(&serial, id.serial, id.serial_len);
	wrap(&certid, 0x02, &serial);
	wrap(&body, 0x30, &certid);
	if (s->status == CV_OCSP_STATUS_GOOD) {
		tlv(&body, 0x80, NULL, 0);
	} else if (s->status == CV_OCSP_STATUS_REVOKED) {
		gentime(&tmp, this_update - 86400);
		put(&tmp, reason, sizeof(reason));
		wrap(&body, 0xa1, &tmp);
	} else {
		tlv(&body, 0x82, NULL, 0);
	}
	gentime(&body, this_update);
	tmp.len = 0;
	gentime(&tmp, this_update + 86400);
	wrap(&body, 0xa0, &tmp);
	if (s->ext != EXT_NONE) {
		tmp.len = 0;
		extensions(&tmp, s->ext == EXT_CRITICAL);
		wrap(&body, 0xa1, &tmp);
	}
	wrap(out, 0x30, &body);
}

/* The whole OCSPResponse for spec, signed by the CA (ResponderID byName). */
static struct der *
response(const struct spec *sp)
{
	static const uint8_t ecdsa_sha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
	                                       0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
	static const uint8_t basic_oid[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01};
	static const uint8_t successful[] = {0x0a, 0x01, 0x00};
	struct der *out = calloc(1, sizeof(*out));
	struct der *data = calloc(1, sizeof(*data)), *tbs = calloc(1, sizeof(*tbs));
	struct der *list = calloc(1, sizeof(*list)), *tmp = calloc(1, sizeof(*tmp));
	gnutls_datum_t dn = {NULL, 0}, sig = {NULL, 0}, signed_part;

	CHECK(out != NULL && data != NULL && tbs != NULL && list != NULL && tmp != NULL);
	CHECK(gnutls_x509_crt_get_raw_dn(ca, &dn) == 0);
	tlv(data, 0xa1, dn.data, dn.size);
	gnutls_free(dn.data);
	gentime(data, sp->produced);
	for (size_t i = 0; i < sp->n; i++)
		single(list, &sp->singles[i], sp->this_update);
	wrap(data, 0x30, list);
	if (sp->resp_ext != EXT_NONE) {
		extensions(tmp, sp->resp_ext == EXT_CRITICAL);
		wrap(data, 0xa1, tmp);
	}
	wrap(tbs, 0x30, data);
	signed_part.data = tbs->b;
	signed_part.size = (unsigned)tbs->len;
	CHECK(gnutls_privkey_sign_data(ca_key, GNUTLS_DIG_SHA256, 0, &signed_part, &sig) == 0);
	put(tbs, ecdsa_sha256, sizeof(ecdsa_sha256));
	tmp->len = 0;
	put(tmp, "\0", 1);
	put(tmp, sig.data, sig.size);
	gnutls_free(sig.data);
	wrap(tbs, 0x03, tmp);
	list->len = 0;
	wrap(list, 0x30, tbs); /* BasicOCSPResponse */
	data->len = 0;
	tlv(data, 0x06, basic_oid, sizeof(basic_oid));
	wrap(data, 0x04, list);
	tmp->len = 0;
	wrap(tmp, 0x30, data); /* ResponseBytes */
	data->len = 0;
	put(data, successful, sizeof(successful));
	wrap(data, 0xa0, tmp);
	wrap(out, 0x30, data);
	free(data);
	free(tbs);
	free(list);
	free(tmp);
	return out;
}

/* Checks spec's response for cert now, nonce not checked; returns the status. */
static enum cv_ocsp_status
check(const struct spec *sp, gnutls_x509_crt_t cert, struct cv_ocsp_result *r)
{
	struct der *d = response(sp);
	struct cv_ocsp_params p;

	cv_ocsp_params_init(&p, now);
	p.nonce_mode = CV_OCSP_NONCE_DISABLED;
	cv_ocsp_response_check(d->b, d->len, cert, ca, &p, r);
	free(d);
	return r->status;
}

static struct spec
base(void)
{
	struct spec sp = {{{leaf, CV_OCSP_STATUS_GOOD, false, EXT_NONE}}, 1, 0, 0, EXT_NONE};

	sp.this_update = now - 3600;
	sp.produced = now - 60;
	return sp;
}

static void
test_baseline(void)
{
	struct cv_ocsp_result r = {0};
	struct spec sp = base();

	/* the builder makes valid responses: good, and revoked with its date and reason */
	CHECK_INT_EQ(check(&sp, leaf, &r), CV_OCSP_STATUS_GOOD);
	CHECK_STR_EQ(r.error, "");
	CHECK_INT_EQ(r.signer_kind, CV_OCSP_SIGNER_ISSUER);
	sp.singles[0].status = CV_OCSP_STATUS_REVOKED;
	CHECK_INT_EQ(check(&sp, leaf, &r), CV_OCSP_STATUS_REVOKED);
	CHECK_INT_EQ(r.revoked_at, sp.this_update - 86400);
	CHECK_STR_EQ(cv_ocsp_reason_name(r.revocation_reason), "keyCompromise");
	cv_ocsp_result_clear(&r);
}

/* Two SingleResponses for one certificate: never GOOD when they disagree, in either order. */
static void
test_disagreeing_singles(void)
{
	static const int pairs[][2] = {
	    {CV_OCSP_STATUS_GOOD, CV_OCSP_STATUS_REVOKED},
	    {CV_OCSP_STATUS_REVOKED, CV_OCSP_STATUS_GOOD},
	    {CV_OCSP_STATUS_GOOD, CV_OCSP_STATUS_UNKNOWN},
	    {CV_OCSP_STATUS_UNKNOWN, CV_OCSP_STATUS_GOOD},
	};
	struct cv_ocsp_result r = {0};
	struct spec sp = base();

	sp.n = 2;
	sp.singles[1] = sp.singles[0];
	for (size_t i = 0; i < CV_ARRAY_LEN(pairs); i++) {
		sp.singles[0].status = pairs[i][0];
		sp.singles[1].status = pairs[i][1];
		CHECK_INT_EQ(check(&sp, leaf, &r), CV_OCSP_STATUS_ERROR);
		CHECK_INT_EQ(r.err, CV_OCSP_ERR_MALFORMED);
		CHECK(strstr(r.error, "contradicts itself") != NULL);
	}
	/* near misses: two that agree; another certificate's revoked entry beside ours */
	sp.singles[0].status = sp.singles[1].status = CV_OCSP_STATUS_GOOD;
	CHECK_INT_EQ(check(&sp, leaf, &r), CV_OCSP_STATUS_GOOD);
	sp.singles[0].status = sp.singles[1].status = CV_OCSP_STATUS_REVOKED;
	CHECK_INT_EQ(check(&sp, leaf, &r), CV_OCSP_STATUS_REVOKED);
	sp.singles[0] = (struct single){revoked, CV_OCSP_STATUS_REVOKED, false, EXT_NONE};
	sp.singles[1] = (struct single){leaf, CV_OCSP_STATUS_GOOD, false, EXT_NONE};
	CHECK_INT_EQ(check(&sp, leaf, &r), CV_OCSP_STATUS_GOOD);
	CHECK_INT_EQ(check(&sp, revoked, &r), CV_OCSP_STATUS_REVOKED);
	cv_ocsp_result_clear(&r);
}

/* A critical singleExtension (none is processed) or unknown critical responseExtension. */
static void
test_critical_extensions(void)
{
	struct cv_ocsp_result r = {0};
	struct spec sp = base();

	sp.singles[0].ext = EXT_PLAIN;
	CHECK_INT_EQ(check(&sp, leaf, &r), CV_OCSP_STATUS_GOOD);
	sp.singles[0].ext = EXT_CRITICAL;
	CHECK_INT_EQ(check(&sp, leaf, &r), CV_OCSP_STATUS_ERROR);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_MALFORMED);
	CHECK(strstr(r.error, "critical singleExtension 1.3.6.1.4.1.55555.1") != NULL);
	/* on another certificate's SingleResponse too: the response is refused as a whole */
	sp.n = 2;
	sp.singles[1] = sp.singles[0];
	sp.singles[0] = (struct single){leaf, CV_OCSP_STATUS_GOOD, false, EXT_NONE};
	sp.singles[1].cert = revoked;
	CHECK_INT_EQ(check(&sp, leaf, &r), CV_OCSP_STATUS_ERROR);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_MALFORMED);

	sp = base();
	sp.resp_ext = EXT_PLAIN;
	CHECK_INT_EQ(check(&sp, leaf, &r), CV_OCSP_STATUS_GOOD);
	sp.resp_ext = EXT_CRITICAL;
	CHECK_INT_EQ(check(&sp, leaf, &r), CV_OCSP_STATUS_ERROR);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_MALFORMED);
	CHECK(strstr(r.error, "unsupported critical extension") != NULL);
	cv_ocsp_result_clear(&r);
}

/* producedAt (signing) before thisUpdate (status known): not believed. */
static void
test_produced_before_this_update(void)
{
	struct cv_ocsp_result r = {0};
	struct spec sp = base();

	sp.produced = sp.this_update;
	CHECK_INT_EQ(check(&sp, leaf, &r), CV_OCSP_STATUS_GOOD);
	sp.produced = sp.this_update - 1;
	CHECK_INT_EQ(check(&sp, leaf, &r), CV_OCSP_STATUS_ERROR);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_MALFORMED);
	CHECK(strstr(r.error, "earlier than its thisUpdate") != NULL);
	cv_ocsp_result_clear(&r);
}

/* A redundant leading zero in the CertID serial: malformed, not "another certificate". */
static void
test_serial_encoding(void)
{
	struct cv_ocsp_result r = {0};
	struct spec sp = base();

	sp.singles[0].pad_serial = true;
	CHECK_INT_EQ(check(&sp, leaf, &r), CV_OCSP_STATUS_ERROR);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_MALFORMED);
	CHECK(r.err != CV_OCSP_ERR_CERTID);
	/* and beside a well-encoded good answer for the same certificate */
	sp.n = 2;
	sp.singles[1] = (struct single){leaf, CV_OCSP_STATUS_GOOD, false, EXT_NONE};
	CHECK_INT_EQ(check(&sp, leaf, &r), CV_OCSP_STATUS_ERROR);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_MALFORMED);
	cv_ocsp_result_clear(&r);
}

/* `certvalctl ocsp-check` on the contradicting response (good first, then revoked: GOOD
 * before): INVALID, exit 1; its near miss (both entries good) GOOD, exit 0. */
static void
test_ctl(void)
{
	const char *build = getenv("CERTVAL_BUILD_DIR");
	struct spec sp = base();
	char cmd[1024], path[128];
	int want[2] = {1, 0};

	sp.n = 2;
	sp.singles[1] = sp.singles[0];
	for (int k = 0; k < 2; k++) {
		struct der *d;
		FILE *f;
		int rc;

		sp.singles[1].status = k == 0 ? CV_OCSP_STATUS_REVOKED : CV_OCSP_STATUS_GOOD;
		d = response(&sp);
		snprintf(path, sizeof(path), "%s/resp%d.der", dir, k);
		f = fopen(path, "wb");
		CHECK(f != NULL && fwrite(d->b, 1, d->len, f) == d->len);
		if (f != NULL)
			fclose(f);
		free(d);
		snprintf(cmd, sizeof(cmd),
		         "'%s/ctl/certvalctl' ocsp-check --response %s --cert %s/leaf.pem "
		         "--issuer %s/ca.pem > %s/ctl%d.out",
		         build != NULL ? build : "build", path, dir, dir, dir, k);
		rc = system(cmd);
		CHECK(WIFEXITED(rc));
		CHECK_INT_EQ(WEXITSTATUS(rc), want[k]);
		snprintf(path, sizeof(path), "%s/ctl%d.out", dir, k);
		{
			uint8_t *out = NULL;
			size_t len = 0;

			CHECK(cv_read_file(path, 1 << 16, &out, &len, NULL) == 0);
			if (out != NULL)
				CHECK(strncmp((const char *)out,
				              k == 0 ? "INVALID: OCSP response contradicts itself"
				                     : "GOOD",
				              k == 0 ? 41 : 4) == 0);
			free(out);
		}
	}
}

static gnutls_x509_crt_t
load_crt(const char *name)
{
	char p[256];
	uint8_t *data = NULL;
	size_t len = 0;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (cv_read_file(p, 1 << 20, &data, &len, NULL) < 0 || gnutls_x509_crt_init(&crt) < 0) {
		fprintf(stderr, "cannot read %s\n", p);
		exit(1);
	}
	d.data = data;
	d.size = (unsigned)len;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0) {
		fprintf(stderr, "cannot parse %s\n", p);
		exit(1);
	}
	free(data);
	return crt;
}

static void
load_key(void)
{
	char p[256];
	uint8_t *data = NULL;
	size_t len = 0;
	gnutls_datum_t d;

	snprintf(p, sizeof(p), "%s/ca.key", dir);
	if (cv_read_file(p, 1 << 20, &data, &len, NULL) < 0 || gnutls_privkey_init(&ca_key) < 0) {
		fprintf(stderr, "cannot read %s\n", p);
		exit(1);
	}
	d.data = data;
	d.size = (unsigned)len;
	if (gnutls_privkey_import_x509_raw(ca_key, &d, GNUTLS_X509_FMT_PEM, NULL, 0) < 0) {
		fprintf(stderr, "cannot parse %s\n", p);
		exit(1);
	}
	free(data);
}

int
main(void)
{
	const char *src = getenv("CERTVAL_SOURCE_DIR");
	char cmd[512];

	if (gnutls_global_init() < 0)
		return 1;
	snprintf(dir, sizeof(dir), "/tmp/cv-ocsp-singles-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(cmd, sizeof(cmd), "sh '%s/tests/ocsp/mkpki.sh' '%s' >/dev/null 2>&1",
	         src != NULL ? src : ".", dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot build the test PKI (openssl installed?)\n");
		return 1;
	}
	now = (cv_time)time(NULL);
	ca = load_crt("ca.pem");
	leaf = load_crt("leaf.pem");
	revoked = load_crt("revoked.pem");
	load_key();

	test_baseline();
	test_disagreeing_singles();
	test_critical_extensions();
	test_produced_before_this_update();
	test_serial_encoding();
	test_ctl();

	gnutls_x509_crt_deinit(ca);
	gnutls_x509_crt_deinit(leaf);
	gnutls_x509_crt_deinit(revoked);
	gnutls_privkey_deinit(ca_key);
	if (getenv("CV_KEEP_TMP") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
	gnutls_global_deinit();
	return check_summary();
}
