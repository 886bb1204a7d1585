/*
 * test_ocsp.c: unit tests of validator/ocsp/ and `certvalctl ocsp-check` against real
 * responses that `openssl ocsp` signs for the requests this module builds.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/ocsp.h>
#include <gnutls/x509.h>

#include "../../common/util.h"
#include "../../validator/ocsp/ocsp.h"
#include "../support/check.h"

int cv_ctl_ocsp_check(int argc, char **argv); /* ctl/ctl_ocsp_check.c */

static char dir[64];

static void
pathf(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static gnutls_x509_crt_t
load(const char *name)
{
	char p[256];
	uint8_t *data = NULL;
	size_t len = 0;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d;

	pathf(p, sizeof(p), name);
	if (cv_read_file(p, 1 << 20, &data, &len, NULL) < 0) {
		fprintf(stderr, "cannot read %s\n", p);
		exit(1);
	}
	d.data = data;
	d.size = (unsigned)len;
	if (gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0) {
		fprintf(stderr, "cannot parse %s\n", p);
		exit(1);
	}
	free(data);
	return crt;
}

static int
write_file(const char *name, const uint8_t *data, size_t len)
{
	char p[256];
	FILE *f;
	size_t w;

	pathf(p, sizeof(p), name);
	f = fopen(p, "wb");
	if (f == NULL)
		return -1;
	w = fwrite(data, 1, len, f);
	return fclose(f) == 0 && w == len ? 0 : -1;
}

static int __attribute__((format(printf, 1, 2))) run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* A response to req from `openssl ocsp`, signed by signer (name of .pem/.key in dir). */
struct blob {
	uint8_t *data;
	size_t len;
};

static struct blob
respond(const struct cv_ocsp_request *req, const char *signer, const char *extra)
{
	struct blob b = {NULL, 0};
	char p[256];

	if (write_file("req.der", req->der, req->der_len) < 0)
		return b;
	pathf(p, sizeof(p), "resp.der");
	unlink(p);
	if (run("cd %s && openssl ocsp -index index.txt -CA ca.pem -rsigner %s.pem -rkey %s.key "
	        "-reqin req.der -respout resp.der %s >/dev/null 2>&1",
	        dir, signer, signer, extra) != 0)
		return b;
	pathf(p, sizeof(p), "resp.der");
	if (cv_read_file(p, 1 << 20, &b.data, &b.len, NULL) < 0)
		b.data = NULL;
	return b;
}

/* Flips one bit in the middle of the response's signature value; 0 or -1. */
static int
flip_signature(struct blob *b)
{
	gnutls_ocsp_resp_t resp;
	gnutls_datum_t d = {b->data, (unsigned)b->len}, sig = {NULL, 0};
	uint8_t *at = NULL;

	if (b->data == NULL || gnutls_ocsp_resp_init(&resp) < 0)
		return -1;
	if (gnutls_ocsp_resp_import(resp, &d) == 0 &&
	    gnutls_ocsp_resp_get_signature(resp, &sig) == 0)
		at = memmem(b->data, b->len, sig.data, sig.size);
	if (at != NULL)
		at[sig.size / 2] ^= 0x01;
	gnutls_free(sig.data);
	gnutls_ocsp_resp_deinit(resp);
	return at != NULL ? 0 : -1;
}

static gnutls_x509_crt_t ca, leaf, revoked, unknown, ext;
static uint8_t nonce[16] = {0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
                            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
static cv_time now;

/* Builds the request for cert (SHA-1 CertID, our fixed nonce unless with_nonce is false). */
static void
build(gnutls_x509_crt_t cert, bool with_nonce, struct cv_ocsp_request *req)
{
	struct cv_error err;

	if (cv_ocsp_request_build(cert, ca, GNUTLS_DIG_SHA1, nonce, with_nonce ? sizeof(nonce) : 0,
	                          req, &err) < 0) {
		fprintf(stderr, "request: %s\n", err.msg);
		exit(1);
	}
}

/* Checks b for cert under the default policy (require, the nonce sent, now). */
static int
check_default(const struct blob *b, gnutls_x509_crt_t cert, struct cv_ocsp_result *r)
{
	struct cv_ocsp_params p;

	cv_ocsp_params_init(&p, now);
	p.nonce = nonce;
	p.nonce_len = sizeof(nonce);
	return cv_ocsp_response_check(b->data, b->len, cert, ca, &p, r);
}

static void
test_request(void)
{
	struct cv_ocsp_request req, req2;
	struct cv_error err;
	gnutls_ocsp_req_t parsed;
	gnutls_datum_t d, n = {NULL, 0};
	unsigned crit;
	uint8_t rnd1[32], rnd2[32];
	char *url = NULL, key1[CV_OCSP_CACHE_KEY_LEN], key2[CV_OCSP_CACHE_KEY_LEN];
	char key3[CV_OCSP_CACHE_KEY_LEN];
	uint8_t big[300];

	build(leaf, true, &req);
	CHECK(req.der_len > 0);
	CHECK_INT_EQ(req.nonce_len, 16);
	CHECK_INT_EQ(req.certid.digest, GNUTLS_DIG_SHA1);
	CHECK_INT_EQ(req.certid.name_hash_len, 20);
	CHECK_INT_EQ(req.certid.serial_len, 2);
	CHECK(req.certid.serial[0] == 0x10 && req.certid.serial[1] == 0x01);

	/* The nonce travels as RFC 8954 says: extension value = OCTET STRING (04 10 ...). */
	write_file("req.der", req.der, req.der_len);
	CHECK_INT_EQ(run("cd %s && openssl ocsp -reqin req.der -req_text 2>/dev/null | "
	                 "grep -A1 'OCSP Nonce' | grep -qi '04101032547698BADCFE0123456789ABCDEF'",
	                 dir),
	             0);
	CHECK_INT_EQ(run("cd %s && openssl ocsp -reqin req.der -req_text 2>/dev/null | "
	                 "grep -q 'Serial Number: 1001'",
	                 dir),
	             0);

	/* disable-nonce: no nonce extension at all. */
	build(leaf, false, &req2);
	CHECK_INT_EQ(req2.nonce_len, 0);
	d.data = req2.der;
	d.size = (unsigned)req2.der_len;
	CHECK(gnutls_ocsp_req_init(&parsed) == 0);
	CHECK(gnutls_ocsp_req_import(parsed, &d) == 0);
	CHECK_INT_EQ(gnutls_ocsp_req_get_nonce(parsed, &crit, &n),
	             GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
	CHECK_INT_EQ(gnutls_ocsp_req_get_extension(parsed, 0, NULL, NULL, NULL),
	             GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
	gnutls_ocsp_req_deinit(parsed);
	write_file("req.der", req2.der, req2.der_len);
	CHECK(run("cd %s && openssl ocsp -reqin req.der -req_text 2>/dev/null | grep -q Nonce",
	          dir) != 0);

	/* Nonce lengths: 1 and 32 are fine, 0 and 33 are refused by the generator. */
	CHECK_INT_EQ(cv_ocsp_nonce_generate(rnd1, 32, &err), 0);
	CHECK_INT_EQ(cv_ocsp_nonce_generate(rnd2, 32, &err), 0);
	CHECK(memcmp(rnd1, rnd2, 32) != 0);
	CHECK_INT_EQ(cv_ocsp_nonce_generate(rnd1, 0, &err), -1);
	CHECK_INT_EQ(cv_ocsp_nonce_generate(rnd1, 33, &err), -1);
	cv_ocsp_request_clear(&req2);
	CHECK_INT_EQ(cv_ocsp_request_build(leaf, ca, GNUTLS_DIG_SHA1, rnd1, 33, &req2, &err), -1);

	/* GET form (RFC 5019): base64, URL-encoded, appended after one slash. */
	CHECK_INT_EQ(cv_ocsp_get_url("http://127.0.0.1:8080", req.der, req.der_len, &url, &err), 0);
	if (url != NULL) {
		char *b64 = cv_base64_encode(req.der, req.der_len), *p, dec[512];
		size_t o = 0;

		CHECK(strncmp(url, "http://127.0.0.1:8080/", 22) == 0);
		CHECK(strchr(url + 22, '/') == NULL && strchr(url + 22, '+') == NULL &&
		      strchr(url + 22, '=') == NULL);
		for (p = url + 22; *p != '\0' && o + 1 < sizeof(dec); p++) {
			if (*p == '%') {
				unsigned v;

				sscanf(p + 1, "%2x", &v);
				dec[o++] = (char)v;
				p += 2;
			} else {
				dec[o++] = *p;
			}
		}
		dec[o] = '\0';
		CHECK_STR_EQ(dec, b64);
		free(b64);
		free(url);
	}
	CHECK_INT_EQ(cv_ocsp_get_url("http://h/ocsp/", req.der, req.der_len, &url, &err), 0);
	CHECK(url != NULL && strncmp(url, "http://h/ocsp/", 14) == 0 && url[14] != '/');
	free(url);
	memset(big, 0x41, sizeof(big));
	CHECK_INT_EQ(cv_ocsp_get_url("http://h/", big, 200, &url, &err), 1);
	CHECK(url == NULL);

	/* Cache key: stable per (CertID, URL), different for another URL or certificate. */
	CHECK_INT_EQ(cv_ocsp_cache_key(&req.certid, "http://a/", key1), 0);
	CHECK_INT_EQ(strlen(key1), 64);
	build(leaf, false, &req2);
	CHECK_INT_EQ(cv_ocsp_cache_key(&req2.certid, "http://a/", key2), 0);
	CHECK_STR_EQ(key1, key2);
	CHECK_INT_EQ(cv_ocsp_cache_key(&req2.certid, "http://b/", key2), 0);
	CHECK(strcmp(key1, key2) != 0);
	cv_ocsp_request_clear(&req2);
	build(revoked, false, &req2);
	CHECK_INT_EQ(cv_ocsp_cache_key(&req2.certid, "http://a/", key3), 0);
	CHECK(strcmp(key1, key3) != 0);
	cv_ocsp_request_clear(&req2);
	cv_ocsp_request_clear(&req);
}

static void
test_status(void)
{
	struct cv_ocsp_request req;
	struct cv_ocsp_result r;
	struct blob b;

	memset(&r, 0, sizeof(r));
	/* good, delegated responder with OCSPSigning and nocheck */
	build(leaf, true, &req);
	b = respond(&req, "resp_nc", "-ndays 1");
	CHECK(b.data != NULL);
	CHECK_INT_EQ(check_default(&b, leaf, &r), 0);
	CHECK_INT_EQ(r.status, CV_OCSP_STATUS_GOOD);
	CHECK_INT_EQ(r.signer_kind, CV_OCSP_SIGNER_DELEGATED);
	CHECK(strstr(r.signer, "responder nocheck") != NULL);
	CHECK_INT_EQ(r.nonce, CV_OCSP_NONCE_OUT_ECHOED);
	CHECK_STR_EQ(cv_ocsp_nonce_outcome_name(r.nonce), "sent-echoed");
	CHECK(!r.responder_needs_check);
	CHECK(r.this_update <= now + 5 && r.this_update >= now - 60);
	CHECK_INT_EQ(r.next_update - r.this_update, 86400);
	CHECK_INT_EQ(r.valid_until, r.next_update);
	CHECK(r.produced_at != CV_TIME_NONE);
	CHECK_STR_EQ(r.error, "");
	free(b.data);
	cv_ocsp_request_clear(&req);

	/* revoked: time and reason */
	build(revoked, true, &req);
	b = respond(&req, "resp_nc", "-ndays 1");
	CHECK_INT_EQ(check_default(&b, revoked, &r), 0);
	CHECK_INT_EQ(r.status, CV_OCSP_STATUS_REVOKED);
	CHECK_INT_EQ(r.revoked_at, 1735689600); /* 2025-01-01T00:00:00Z */
	CHECK_INT_EQ(r.revocation_reason, GNUTLS_X509_CRLREASON_KEYCOMPROMISE);
	CHECK_STR_EQ(cv_ocsp_reason_name(r.revocation_reason), "keyCompromise");
	free(b.data);
	cv_ocsp_request_clear(&req);

	/* unknown: a valid response, still not an answer for the method order */
	build(unknown, true, &req);
	b = respond(&req, "resp_nc", "-ndays 1");
	CHECK_INT_EQ(check_default(&b, unknown, &r), 0);
	CHECK_INT_EQ(r.status, CV_OCSP_STATUS_UNKNOWN);
	free(b.data);
	cv_ocsp_request_clear(&req);

	/* wrong CertID: the response is about another serial */
	build(revoked, true, &req);
	b = respond(&req, "resp_nc", "-ndays 1");
	CHECK_INT_EQ(check_default(&b, leaf, &r), -1);
	CHECK_INT_EQ(r.status, CV_OCSP_STATUS_ERROR);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_CERTID);
	CHECK(strstr(r.error, "serial 1001") != NULL);
	free(b.data);
	cv_ocsp_request_clear(&req);

	/* SHA-256 CertID: matches only when SHA-256 was asked */
	{
		struct cv_ocsp_params p;
		struct cv_error err;

		CHECK_INT_EQ(cv_ocsp_request_build(leaf, ca, GNUTLS_DIG_SHA256, nonce,
		                                   sizeof(nonce), &req, &err),
		             0);
		CHECK_INT_EQ(req.certid.name_hash_len, 32);
		b = respond(&req, "resp_nc", "-ndays 1");
		cv_ocsp_params_init(&p, now);
		p.nonce = nonce;
		p.nonce_len = sizeof(nonce);
		p.digest = GNUTLS_DIG_SHA256;
		CHECK_INT_EQ(cv_ocsp_response_check(b.data, b.len, leaf, ca, &p, &r), 0);
		CHECK_INT_EQ(r.status, CV_OCSP_STATUS_GOOD);
		p.digest = GNUTLS_DIG_SHA1;
		CHECK_INT_EQ(cv_ocsp_response_check(b.data, b.len, leaf, ca, &p, &r), -1);
		CHECK_INT_EQ(r.err, CV_OCSP_ERR_CERTID);
		free(b.data);
		cv_ocsp_request_clear(&req);
	}
	cv_ocsp_result_clear(&r);
}

static int
accept_ext(void *arg, gnutls_x509_crt_t responder, const gnutls_x509_crt_t *extra, size_t n)
{
	int *calls = arg;

	(*calls)++;
	return gnutls_x509_crt_equals(responder, ext) ? 0 : -1;
}

static int
accept_any(void *arg, gnutls_x509_crt_t responder, const gnutls_x509_crt_t *extra, size_t n)
{
	int *calls = arg;

	*calls += 100 + (int)n;
	return 0;
}

static int
refuse_all(void *arg, gnutls_x509_crt_t responder, const gnutls_x509_crt_t *extra, size_t n)
{
	int *calls = arg;

	(*calls)++;
	return -1;
}

static void
test_signers(void)
{
	struct cv_ocsp_request req;
	struct cv_ocsp_result r;
	struct cv_ocsp_params p;
	struct blob b;
	int calls = 0;

	memset(&r, 0, sizeof(r));
	build(leaf, true, &req);

	/* signed by the CA itself, with and without the certificate, byName and byKey */
	b = respond(&req, "ca", "-ndays 1");
	CHECK_INT_EQ(check_default(&b, leaf, &r), 0);
	CHECK_INT_EQ(r.status, CV_OCSP_STATUS_GOOD);
	CHECK_INT_EQ(r.signer_kind, CV_OCSP_SIGNER_ISSUER);
	CHECK(strstr(r.signer, "OCSP Test CA") != NULL);
	CHECK(!r.responder_needs_check);
	free(b.data);
	b = respond(&req, "ca", "-ndays 1 -resp_no_certs -resp_key_id");
	CHECK_INT_EQ(check_default(&b, leaf, &r), 0);
	CHECK_INT_EQ(r.signer_kind, CV_OCSP_SIGNER_ISSUER);
	free(b.data);

	/* delegated with OCSPSigning, no nocheck: accepted, caller must check its status */
	b = respond(&req, "resp_eku", "-ndays 1 -resp_key_id");
	CHECK_INT_EQ(check_default(&b, leaf, &r), 0);
	CHECK_INT_EQ(r.status, CV_OCSP_STATUS_GOOD);
	CHECK_INT_EQ(r.signer_kind, CV_OCSP_SIGNER_DELEGATED);
	CHECK(r.responder_needs_check);
	CHECK(r.responder_der != NULL && r.responder_der_len > 100);
	if (r.responder_der != NULL) {
		gnutls_x509_crt_t c, e = load("resp_eku.pem");
		gnutls_datum_t d = {r.responder_der, (unsigned)r.responder_der_len};

		gnutls_x509_crt_init(&c);
		CHECK(gnutls_x509_crt_import(c, &d, GNUTLS_X509_FMT_DER) == 0);
		CHECK(gnutls_x509_crt_equals(c, e));
		gnutls_x509_crt_deinit(c);
		gnutls_x509_crt_deinit(e);
	}
	free(b.data);

	/* CA-issued without OCSPSigning: refused */
	b = respond(&req, "resp_noeku", "-ndays 1");
	CHECK_INT_EQ(check_default(&b, leaf, &r), -1);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_SIGNER);
	CHECK(strstr(r.error, "id-kp-OCSPSigning") != NULL);
	free(b.data);

	/* unrelated self-signed responder: refused without an override trustpoint ... */
	b = respond(&req, "ext", "-ndays 1");
	CHECK_INT_EQ(check_default(&b, leaf, &r), -1);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_SIGNER);
	CHECK(strstr(r.error, "no responder trustpoint") != NULL);
	/* ... accepted when validate_responder anchors it ... */
	cv_ocsp_params_init(&p, now);
	p.nonce = nonce;
	p.nonce_len = sizeof(nonce);
	p.validate_responder = accept_ext;
	p.validate_responder_arg = &calls;
	CHECK_INT_EQ(cv_ocsp_response_check(b.data, b.len, leaf, ca, &p, &r), 0);
	CHECK_INT_EQ(calls, 1);
	CHECK_INT_EQ(r.status, CV_OCSP_STATUS_GOOD);
	CHECK_INT_EQ(r.signer_kind, CV_OCSP_SIGNER_TRUSTED);
	CHECK(!r.responder_needs_check); /* self-signed: the anchor itself */
	/* ... and refused when the callback refuses it */
	p.validate_responder = refuse_all;
	CHECK_INT_EQ(cv_ocsp_response_check(b.data, b.len, leaf, ca, &p, &r), -1);
	CHECK_INT_EQ(calls, 2);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_SIGNER);
	free(b.data);

	/* a responder under another PKI (issued by ext), offered to the callback with the chain */
	b = respond(&req, "ext_leaf", "-ndays 1 -resp_no_certs");
	CHECK_INT_EQ(check_default(&b, leaf, &r), -1); /* no certificate: signer not found */
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_SIGNER);
	free(b.data);
	b = respond(&req, "ext_leaf", "-ndays 1");
	p.validate_responder = accept_any;
	CHECK_INT_EQ(cv_ocsp_response_check(b.data, b.len, leaf, ca, &p, &r), 0);
	CHECK_INT_EQ(calls, 103); /* called once, with the one certificate the response carries */
	CHECK_INT_EQ(r.signer_kind, CV_OCSP_SIGNER_TRUSTED);
	CHECK(r.responder_needs_check); /* not self-signed, no nocheck: O-10 */
	calls = 2;
	p.validate_responder = refuse_all;
	CHECK_INT_EQ(cv_ocsp_response_check(b.data, b.len, leaf, ca, &p, &r), -1);
	CHECK_INT_EQ(calls, 3);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_SIGNER);
	free(b.data);

	/* bad signature: flip one bit inside the signature value, certificates left intact */
	b = respond(&req, "resp_nc", "-ndays 1");
	CHECK_INT_EQ(flip_signature(&b), 0);
	CHECK_INT_EQ(check_default(&b, leaf, &r), -1);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_SIGNATURE);
	CHECK_INT_EQ(r.status, CV_OCSP_STATUS_ERROR);
	free(b.data);
	b = respond(&req, "ca", "-ndays 1 -resp_no_certs");
	CHECK_INT_EQ(flip_signature(&b), 0);
	CHECK_INT_EQ(check_default(&b, leaf, &r), -1);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_SIGNATURE);
	free(b.data);

	cv_ocsp_request_clear(&req);
	cv_ocsp_result_clear(&r);
}

static void
test_nonce(void)
{
	struct cv_ocsp_request req, plain, other;
	struct cv_ocsp_result r;
	struct cv_ocsp_params p;
	struct cv_error err;
	struct blob echoed, missing, mismatch;
	uint8_t other_nonce[16];

	memset(&r, 0, sizeof(r));
	build(leaf, true, &req);
	build(leaf, false, &plain);
	memcpy(other_nonce, nonce, sizeof(nonce));
	other_nonce[15] ^= 0xff;
	CHECK_INT_EQ(cv_ocsp_request_build(leaf, ca, GNUTLS_DIG_SHA1, other_nonce,
	                                   sizeof(other_nonce), &other, &err),
	             0);
	echoed = respond(&req, "resp_nc", "-ndays 1");
	missing = respond(&plain, "resp_nc", "-ndays 1");
	mismatch = respond(&other, "resp_nc", "-ndays 1");

	cv_ocsp_params_init(&p, now);
	p.nonce = nonce;
	p.nonce_len = sizeof(nonce);
	/* require (default) */
	CHECK_INT_EQ(cv_ocsp_response_check(echoed.data, echoed.len, leaf, ca, &p, &r), 0);
	CHECK_INT_EQ(r.nonce, CV_OCSP_NONCE_OUT_ECHOED);
	CHECK_INT_EQ(cv_ocsp_response_check(missing.data, missing.len, leaf, ca, &p, &r), -1);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_NONCE);
	CHECK_INT_EQ(r.nonce, CV_OCSP_NONCE_OUT_MISSING);
	CHECK(strstr(r.error, "ocsp nonce if-echoed") != NULL);
	CHECK(strstr(r.error, "ocsp disable-nonce") != NULL);
	CHECK_INT_EQ(cv_ocsp_response_check(mismatch.data, mismatch.len, leaf, ca, &p, &r), -1);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_NONCE);
	CHECK_INT_EQ(r.nonce, CV_OCSP_NONCE_OUT_MISMATCH);
	CHECK_STR_EQ(cv_ocsp_nonce_outcome_name(r.nonce), "mismatch");
	/* if-echoed */
	p.nonce_mode = CV_OCSP_NONCE_IF_ECHOED;
	CHECK_INT_EQ(cv_ocsp_response_check(missing.data, missing.len, leaf, ca, &p, &r), 0);
	CHECK_INT_EQ(r.status, CV_OCSP_STATUS_GOOD);
	CHECK_INT_EQ(r.nonce, CV_OCSP_NONCE_OUT_MISSING);
	CHECK_STR_EQ(cv_ocsp_nonce_outcome_name(r.nonce), "sent-missing");
	CHECK_INT_EQ(cv_ocsp_response_check(mismatch.data, mismatch.len, leaf, ca, &p, &r), -1);
	CHECK_INT_EQ(r.nonce, CV_OCSP_NONCE_OUT_MISMATCH);
	CHECK_INT_EQ(cv_ocsp_response_check(echoed.data, echoed.len, leaf, ca, &p, &r), 0);
	CHECK_INT_EQ(r.nonce, CV_OCSP_NONCE_OUT_ECHOED);
	/* disabled: nothing checked, whatever the response carries */
	p.nonce_mode = CV_OCSP_NONCE_DISABLED;
	p.nonce = NULL;
	p.nonce_len = 0;
	CHECK_INT_EQ(cv_ocsp_response_check(missing.data, missing.len, leaf, ca, &p, &r), 0);
	CHECK_INT_EQ(r.nonce, CV_OCSP_NONCE_OUT_DISABLED);
	CHECK_STR_EQ(cv_ocsp_nonce_outcome_name(r.nonce), "disabled");
	CHECK_INT_EQ(cv_ocsp_response_check(mismatch.data, mismatch.len, leaf, ca, &p, &r), 0);
	/* require without a nonce given is a caller error, never an accept */
	p.nonce_mode = CV_OCSP_NONCE_REQUIRE;
	CHECK_INT_EQ(cv_ocsp_response_check(echoed.data, echoed.len, leaf, ca, &p, &r), -1);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_INTERNAL);

	free(echoed.data);
	free(missing.data);
	free(mismatch.data);
	cv_ocsp_request_clear(&req);
	cv_ocsp_request_clear(&plain);
	cv_ocsp_request_clear(&other);
	cv_ocsp_result_clear(&r);
}

static void
test_times(void)
{
	struct cv_ocsp_request req;
	struct cv_ocsp_result r;
	struct cv_ocsp_params p;
	struct blob b, nonext;

	memset(&r, 0, sizeof(r));
	build(leaf, true, &req);
	b = respond(&req, "resp_nc", "-ndays 1");
	nonext = respond(&req, "resp_nc", "");
	cv_ocsp_params_init(&p, now);
	p.nonce = nonce;
	p.nonce_len = sizeof(nonce);

	/* stale: nextUpdate (+1 day) passed; within the skew it is still fine */
	p.at = now + 86400 + 3600;
	CHECK_INT_EQ(cv_ocsp_response_check(b.data, b.len, leaf, ca, &p, &r), -1);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_STALE);
	CHECK(strstr(r.error, "nextUpdate") != NULL);
	p.at = now + 86400 + 100;
	CHECK_INT_EQ(cv_ocsp_response_check(b.data, b.len, leaf, ca, &p, &r), 0);
	/* from the future: thisUpdate an hour after the validation time (signed by the CA, whose
	 * own dates are the path validator's business, so only the response's times matter) */
	free(b.data);
	b = respond(&req, "ca", "-ndays 1");
	p.at = now - 3600;
	CHECK_INT_EQ(cv_ocsp_response_check(b.data, b.len, leaf, ca, &p, &r), -1);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_FUTURE);
	p.at = now - 100; /* within the default 300 s skew */
	CHECK_INT_EQ(cv_ocsp_response_check(b.data, b.len, leaf, ca, &p, &r), 0);
	p.skew = 10;
	CHECK_INT_EQ(cv_ocsp_response_check(b.data, b.len, leaf, ca, &p, &r), -1);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_FUTURE);
	p.skew = CV_OCSP_SKEW_DEFAULT;
	/* max_age caps responses that do carry nextUpdate */
	p.at = now + 7200;
	p.max_age = 3600;
	CHECK_INT_EQ(cv_ocsp_response_check(b.data, b.len, leaf, ca, &p, &r), -1);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_STALE);
	p.max_age = 0;
	CHECK_INT_EQ(cv_ocsp_response_check(b.data, b.len, leaf, ca, &p, &r), 0);

	/* no nextUpdate: usable for no_next_update_ttl after thisUpdate (+ skew) */
	p.at = now;
	CHECK_INT_EQ(cv_ocsp_response_check(nonext.data, nonext.len, leaf, ca, &p, &r), 0);
	CHECK_INT_EQ(r.next_update, CV_TIME_NONE);
	CHECK_INT_EQ(r.valid_until, r.this_update + CV_OCSP_NO_NEXT_TTL);
	p.at = r.this_update + CV_OCSP_NO_NEXT_TTL + CV_OCSP_SKEW_DEFAULT + 1;
	CHECK_INT_EQ(cv_ocsp_response_check(nonext.data, nonext.len, leaf, ca, &p, &r), -1);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_STALE);
	CHECK(strstr(r.error, "no nextUpdate") != NULL);
	p.no_next_update_ttl = 3600;
	CHECK_INT_EQ(cv_ocsp_response_check(nonext.data, nonext.len, leaf, ca, &p, &r), 0);

	/* the responder certificate (valid one year) is not valid two years from now */
	free(b.data);
	b = respond(&req, "resp_nc", "-ndays 1000");
	p.at = now + 2 * 365 * 86400;
	CHECK_INT_EQ(cv_ocsp_response_check(b.data, b.len, leaf, ca, &p, &r), -1);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_SIGNER);
	CHECK(strstr(r.error, "is not valid at") != NULL);

	free(b.data);
	free(nonext.data);
	cv_ocsp_request_clear(&req);
	cv_ocsp_result_clear(&r);
}

static void
test_malformed(void)
{
	/* OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED } without responseBytes */
	static const uint8_t try_later[] = {0x30, 0x03, 0x0a, 0x01, 0x03};
	static const uint8_t unauthorized[] = {0x30, 0x03, 0x0a, 0x01, 0x06};
	struct cv_ocsp_request req;
	struct cv_ocsp_result r;
	struct blob b, g = {NULL, 0};
	uint8_t garbage[512], *longer;
	unsigned i;

	memset(&r, 0, sizeof(r));
	g.data = (uint8_t *)(uintptr_t)try_later;
	g.len = sizeof(try_later);
	CHECK_INT_EQ(check_default(&g, leaf, &r), -1);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_RESPONSE_STATUS);
	CHECK(strstr(r.error, "tryLater") != NULL);
	g.data = (uint8_t *)(uintptr_t)unauthorized;
	g.len = sizeof(unauthorized);
	CHECK_INT_EQ(check_default(&g, leaf, &r), -1);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_RESPONSE_STATUS);
	CHECK(strstr(r.error, "unauthorized") != NULL);

	for (i = 0; i < sizeof(garbage); i++)
		garbage[i] = (uint8_t)(i * 7 + 3);
	g.data = garbage;
	g.len = sizeof(garbage);
	CHECK_INT_EQ(check_default(&g, leaf, &r), -1);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_MALFORMED);
	CHECK_INT_EQ(r.status, CV_OCSP_STATUS_ERROR);
	g.len = 0;
	CHECK_INT_EQ(check_default(&g, leaf, &r), -1);

	build(leaf, true, &req);
	b = respond(&req, "resp_nc", "-ndays 1");
	/* truncated at every 37th length: never accepted */
	for (i = 1; i < b.len; i += 37) {
		struct blob t = {b.data, i};

		CHECK_INT_EQ(check_default(&t, leaf, &r), -1);
	}
	/* trailing bytes after the response */
	longer = malloc(b.len + 4);
	memcpy(longer, b.data, b.len);
	memset(longer + b.len, 0, 4);
	g.data = longer;
	g.len = b.len + 4;
	CHECK_INT_EQ(check_default(&g, leaf, &r), -1);
	CHECK_INT_EQ(r.err, CV_OCSP_ERR_MALFORMED);
	free(longer);
	/* the request itself is not a response */
	g.data = req.der;
	g.len = req.der_len;
	CHECK_INT_EQ(check_default(&g, leaf, &r), -1);
	free(b.data);
	cv_ocsp_request_clear(&req);
	cv_ocsp_result_clear(&r);
}

/* Runs cv_ctl_ocsp_check with stdout captured into out. */
static int
ctl(char *out, size_t out_len, const char *const *args)
{
	char *argv[16], p[256];
	int argc = 0, rc, saved, fd;
	ssize_t n;

	argv[argc++] = (char *)"ocsp-check";
	while (*args != NULL && argc < 15)
		argv[argc++] = (char *)(uintptr_t)*args++;
	argv[argc] = NULL;
	pathf(p, sizeof(p), "ctl.out");
	fflush(stdout);
	saved = dup(1);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 1);
	close(fd);
	rc = cv_ctl_ocsp_check(argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	fd = open(p, O_RDONLY);
	n = read(fd, out, out_len - 1);
	close(fd);
	out[n > 0 ? n : 0] = '\0';
	return rc;
}

static void
test_ctl(void)
{
	struct cv_ocsp_request req, plain;
	struct blob b;
	char out[4096], resp[256], respk[256], cert[256], rev[256], issuer[256], pem[256];
	char at[32], later[32], nonce_hex[33], bad_nonce[33];

	pathf(resp, sizeof(resp), "ctl_resp.der");
	pathf(respk, sizeof(respk), "ctl_resp_nonce.der");
	pathf(cert, sizeof(cert), "leaf.pem");
	pathf(rev, sizeof(rev), "revoked.pem");
	pathf(issuer, sizeof(issuer), "ca.pem");
	pathf(pem, sizeof(pem), "ctl_resp.pem");
	snprintf(at, sizeof(at), "%lld", (long long)now);
	snprintf(later, sizeof(later), "@%lld", (long long)(now + 3 * 86400));
	cv_hex_encode(nonce, sizeof(nonce), nonce_hex);
	memcpy(bad_nonce, nonce_hex, sizeof(bad_nonce));
	bad_nonce[0] = bad_nonce[0] == 'A' ? 'B' : 'A';

	build(leaf, false, &plain); /* a stapled response: no nonce */
	b = respond(&plain, "resp_nc", "-ndays 1");
	write_file("ctl_resp.der", b.data, b.len);
	free(b.data);
	build(leaf, true, &req);
	b = respond(&req, "resp_nc", "-ndays 1");
	write_file("ctl_resp_nonce.der", b.data, b.len);
	free(b.data);
	run("cd %s && (echo '-----BEGIN OCSP RESPONSE-----'; base64 ctl_resp.der; "
	    "echo '-----END OCSP RESPONSE-----') > ctl_resp.pem",
	    dir);

	{
		const char *a[] = {"--response", resp,   "--cert", cert, "--issuer",
		                   issuer,       "--at", at,       NULL};
		CHECK_INT_EQ(ctl(out, sizeof(out), a), 0);
		CHECK(strncmp(out, "GOOD\n", 5) == 0);
		CHECK(strstr(out, "responder nocheck (delegated)") != NULL);
		CHECK(strstr(out, "nonce: not checked") != NULL);
	}
	{
		const char *a[] = {"--response=", NULL};
		CHECK_INT_EQ(ctl(out, sizeof(out), a), 2);
	}
	{
		char opt[300];
		const char *a[] = {opt, "--cert", cert, "--issuer", issuer, NULL};

		snprintf(opt, sizeof(opt), "--response=%s", pem);
		CHECK_INT_EQ(ctl(out, sizeof(out), a), 0); /* PEM form, time now */
		CHECK(strncmp(out, "GOOD\n", 5) == 0);
	}
	{
		const char *a[] = {"--response", resp, "--cert", rev, "--issuer", issuer, NULL};

		CHECK_INT_EQ(ctl(out, sizeof(out), a), 1); /* response about another serial */
		CHECK(strncmp(out, "INVALID: ", 9) == 0 && strstr(out, "serial 1002") != NULL);
	}
	{
		const char *a[] = {"--response", resp,   "--cert", cert, "--issuer",
		                   issuer,       "--at", later,    NULL};

		CHECK_INT_EQ(ctl(out, sizeof(out), a), 1);
		CHECK(strstr(out, "stale") != NULL);
	}
	{
		const char *a[] = {"--response", resp, "--cert", cert,  "--issuer", issuer,
		                   "--max-age",  "1",  "--at",   later, NULL};

		CHECK_INT_EQ(ctl(out, sizeof(out), a), 1);
	}
	{
		const char *a[] = {"--response", respk,         "--cert",  cert, "--issuer",
		                   issuer,       "--nonce-hex", nonce_hex, NULL};

		CHECK_INT_EQ(ctl(out, sizeof(out), a), 0);
		CHECK(strstr(out, "nonce: sent-echoed") != NULL);
	}
	{
		const char *a[] = {"--response", respk,         "--cert",  cert, "--issuer",
		                   issuer,       "--nonce-hex", bad_nonce, NULL};

		CHECK_INT_EQ(ctl(out, sizeof(out), a), 1);
		CHECK(strstr(out, "mismatch") != NULL);
	}
	{
		const char *a[] = {"--response", resp,          "--cert",  cert, "--issuer",
		                   issuer,       "--nonce-hex", nonce_hex, NULL};

		CHECK_INT_EQ(ctl(out, sizeof(out), a), 1); /* stapled: no nonce, but one required */
		CHECK(strstr(out, "no nonce") != NULL);
	}
	/* revoked */
	{
		cv_ocsp_request_clear(&plain);
		build(revoked, false, &plain);
		b = respond(&plain, "ca", "-ndays 1");
		write_file("ctl_rev.der", b.data, b.len);
		free(b.data);
		cv_ocsp_request_clear(&plain);
		pathf(resp, sizeof(resp), "ctl_rev.der");
		{
			const char *a[] = {"--response", resp,   "--cert", rev,
			                   "--issuer",   issuer, NULL};

			CHECK_INT_EQ(ctl(out, sizeof(out), a), 1);
			CHECK(strncmp(out,
			              "REVOKED: revoked at 2025-01-01T00:00:00Z, reason "
			              "keyCompromise",
			              58) == 0);
		}
	}
	/* usage errors */
	{
		const char *a1[] = {"--cert", cert, "--issuer", issuer, NULL};
		const char *a2[] = {"--response", resp,      "--cert", cert, "--issuer",
		                    issuer,       "--bogus", "x",      NULL};
		const char *a3[] = {"--response", resp,   "--cert",    cert, "--issuer",
		                    issuer,       "--at", "yesterday", NULL};
		const char *a4[] = {"--response", resp,          "--cert", cert, "--issuer",
		                    issuer,       "--nonce-hex", "abc",    NULL};
		const char *a5[] = {"--response", resp,   "--cert", "/nonexistent/x.pem",
		                    "--issuer",   issuer, NULL};
		const char *a6[] = {"--response", resp,        "--cert", cert, "--issuer",
		                    issuer,       "--max-age", "-5",     NULL};
		const char *a7[] = {"--response", resp, "--cert", cert, "--issuer", NULL};

		CHECK_INT_EQ(ctl(out, sizeof(out), a1), 2);
		CHECK_INT_EQ(ctl(out, sizeof(out), a2), 2);
		CHECK_INT_EQ(ctl(out, sizeof(out), a3), 2);
		CHECK_INT_EQ(ctl(out, sizeof(out), a4), 2);
		CHECK_INT_EQ(ctl(out, sizeof(out), a5), 2);
		CHECK_INT_EQ(ctl(out, sizeof(out), a6), 2);
		CHECK_INT_EQ(ctl(out, sizeof(out), a7), 2);
	}
	/* a garbage response is invalid (1), not a usage error */
	{
		const char *a[] = {"--response", issuer, "--cert", cert, "--issuer", issuer, NULL};

		CHECK_INT_EQ(ctl(out, sizeof(out), a), 1);
		CHECK(strncmp(out, "INVALID: ", 9) == 0);
	}
	{
		const char *a[] = {"--response", cert + 0, "--cert", cert,
		                   "--issuer",   issuer,   NULL};
		char gpath[256];
		uint8_t g[64];

		memset(g, 0x30, sizeof(g));
		write_file("garbage.der", g, sizeof(g));
		pathf(gpath, sizeof(gpath), "garbage.der");
		a[1] = gpath;
		CHECK_INT_EQ(ctl(out, sizeof(out), a), 1);
		CHECK(strncmp(out, "INVALID: not a DER OCSP response", 32) == 0);
	}
	cv_ocsp_request_clear(&req);
	cv_ocsp_request_clear(&plain);
}

int
main(void)
{
	const char *src = getenv("CERTVAL_SOURCE_DIR");
	char script[512];

	if (gnutls_global_init() < 0)
		return 1;
	snprintf(dir, sizeof(dir), "/tmp/cv-ocsp-test-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(script, sizeof(script), "%s/tests/ocsp/mkpki.sh", src != NULL ? src : ".");
	if (run("sh '%s' '%s'", script, dir) != 0) {
		fprintf(stderr, "cannot build the test PKI with %s (openssl installed?)\n", script);
		return 1;
	}
	now = (cv_time)time(NULL);
	ca = load("ca.pem");
	leaf = load("leaf.pem");
	revoked = load("revoked.pem");
	unknown = load("unknown.pem");
	ext = load("ext.pem");

	test_request();
	test_status();
	test_signers();
	test_nonce();
	test_times();
	test_malformed();
	test_ctl();

	gnutls_x509_crt_deinit(ca);
	gnutls_x509_crt_deinit(leaf);
	gnutls_x509_crt_deinit(revoked);
	gnutls_x509_crt_deinit(unknown);
	gnutls_x509_crt_deinit(ext);
	if (getenv("CV_KEEP_TMP") == NULL)
		run("rm -rf '%s'", dir);
	gnutls_global_deinit();
	return check_summary();
}
