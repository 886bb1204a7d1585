/* ocsp_request.c: OCSP requests (RFC 6960 4.1), nonces (RFC 8954), GET URLs (RFC 5019), keys. */
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/ocsp.h>

#include "../../common/util.h"
#include "ocsp.h"

int
cv_ocsp_nonce_generate(uint8_t *out, size_t len, struct cv_error *err)
{
	if (out == NULL || len < CV_OCSP_NONCE_MIN || len > CV_OCSP_NONCE_MAX) {
		cv_error_set(err, "OCSP nonce length %zu outside %d..%d", len, CV_OCSP_NONCE_MIN,
		             CV_OCSP_NONCE_MAX);
		return -1;
	}
	if (gnutls_rnd(GNUTLS_RND_NONCE, out, len) < 0) {
		cv_error_set(err, "cannot generate an OCSP nonce");
		return -1;
	}
	return 0;
}

/* Copies a GnuTLS datum into a bounded field; -1 when it does not fit. */
static int
copy_datum(uint8_t *dst, size_t cap, size_t *len, const gnutls_datum_t *src)
{
	if (src->size > cap)
		return -1;
	if (src->size > 0)
		memcpy(dst, src->data, src->size);
	*len = src->size;
	return 0;
}

/* Reads CertID number indx of req into out. */
static int
certid_from_req(gnutls_ocsp_req_t req, struct cv_ocsp_certid *out, struct cv_error *err)
{
	gnutls_datum_t nh = {NULL, 0}, kh = {NULL, 0}, sn = {NULL, 0};
	gnutls_digest_algorithm_t digest;
	int rc = -1, ret;

	memset(out, 0, sizeof(*out));
	ret = gnutls_ocsp_req_get_cert_id(req, 0, &digest, &nh, &kh, &sn);
	if (ret < 0) {
		cv_error_set(err, "cannot read the OCSP CertID: %s", gnutls_strerror(ret));
		goto fail;
	}
	out->digest = digest;
	if (copy_datum(out->name_hash, sizeof(out->name_hash), &out->name_hash_len, &nh) < 0 ||
	    copy_datum(out->key_hash, sizeof(out->key_hash), &out->key_hash_len, &kh) < 0 ||
	    copy_datum(out->serial, sizeof(out->serial), &out->serial_len, &sn) < 0) {
		cv_error_set(err, "OCSP CertID field too long (serial of %u bytes)", sn.size);
		goto fail;
	}
	rc = 0;
fail:
	gnutls_free(nh.data);
	gnutls_free(kh.data);
	gnutls_free(sn.data);
	return rc;
}

/* A request holding the CertID of cert under issuer, and nothing else yet. */
static int
req_with_certid(gnutls_x509_crt_t cert, gnutls_x509_crt_t issuer, gnutls_digest_algorithm_t digest,
                gnutls_ocsp_req_t *out, struct cv_error *err)
{
	gnutls_ocsp_req_t req = NULL;
	int ret;

	*out = NULL;
	if (cert == NULL || issuer == NULL) {
		cv_error_set(err, "OCSP request needs the certificate and its issuer");
		return -1;
	}
	ret = gnutls_ocsp_req_init(&req);
	if (ret < 0) {
		cv_error_set(err, "cannot create an OCSP request: %s", gnutls_strerror(ret));
		return -1;
	}
	ret = gnutls_ocsp_req_add_cert(req, digest, issuer, cert);
	if (ret < 0) {
		cv_error_set(err, "cannot compute the OCSP CertID (%s): %s",
		             gnutls_digest_get_name(digest), gnutls_strerror(ret));
		gnutls_ocsp_req_deinit(req);
		return -1;
	}
	*out = req;
	return 0;
}

int
cv_ocsp_certid_compute(gnutls_x509_crt_t cert, gnutls_x509_crt_t issuer,
                       gnutls_digest_algorithm_t digest, struct cv_ocsp_certid *out,
                       struct cv_error *err)
{
	gnutls_ocsp_req_t req = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (req_with_certid(cert, issuer, digest, &req, err) < 0)
		return -1;
	rc = certid_from_req(req, out, err);
	gnutls_ocsp_req_deinit(req);
	return rc;
}

int
cv_ocsp_request_build(gnutls_x509_crt_t cert, gnutls_x509_crt_t issuer,
                      gnutls_digest_algorithm_t digest, const uint8_t *nonce, size_t nonce_len,
                      struct cv_ocsp_request *out, struct cv_error *err)
{
	gnutls_ocsp_req_t req = NULL;
	gnutls_datum_t der = {NULL, 0};
	int ret;

	memset(out, 0, sizeof(*out));
	if (nonce_len > CV_OCSP_NONCE_MAX || (nonce_len > 0 && nonce == NULL)) {
		cv_error_set(err, "OCSP nonce length %zu outside %d..%d", nonce_len,
		             CV_OCSP_NONCE_MIN, CV_OCSP_NONCE_MAX);
		return -1;
	}
	if (req_with_certid(cert, issuer, digest, &req, err) < 0)
		return -1;
	if (certid_from_req(req, &out->certid, err) < 0)
		goto fail;
	if (nonce_len > 0) {
		gnutls_datum_t n = {(unsigned char *)(uintptr_t)nonce, (unsigned)nonce_len};

		/* RFC 8954: the extension value is an OCTET STRING; GnuTLS encodes it so. */
		ret = gnutls_ocsp_req_set_nonce(req, 0, &n);
		if (ret < 0) {
			cv_error_set(err, "cannot set the OCSP nonce: %s", gnutls_strerror(ret));
			goto fail;
		}
		memcpy(out->nonce, nonce, nonce_len);
		out->nonce_len = nonce_len;
	}
	ret = gnutls_ocsp_req_export(req, &der);
	if (ret < 0) {
		cv_error_set(err, "cannot encode the OCSP request: %s", gnutls_strerror(ret));
		goto fail;
	}
	out->der = malloc(der.size);
	if (out->der == NULL) {
		cv_error_set(err, "out of memory");
		goto fail;
	}
	memcpy(out->der, der.data, der.size);
	out->der_len = der.size;
	gnutls_free(der.data);
	gnutls_ocsp_req_deinit(req);
	return 0;
fail:
	gnutls_free(der.data);
	gnutls_ocsp_req_deinit(req);
	cv_ocsp_request_clear(out);
	return -1;
}

void
cv_ocsp_request_clear(struct cv_ocsp_request *req)
{
	if (req == NULL)
		return;
	free(req->der);
	memset(req, 0, sizeof(*req));
}

int
cv_ocsp_get_url(const char *base_url, const uint8_t *der, size_t der_len, char **out,
                struct cv_error *err)
{
	static const char hex[] = "0123456789ABCDEF";
	char *b64 = NULL, *url = NULL;
	size_t enc_len = 0, base_len, i, o;
	bool slash;

	*out = NULL;
	if (base_url == NULL || der == NULL || der_len == 0) {
		cv_error_set(err, "OCSP GET URL needs a responder URL and a request");
		return -1;
	}
	/* Base64 grows by 4/3; stop early for requests that cannot fit at all. */
	if (der_len > CV_OCSP_GET_MAX)
		return 1;
	b64 = cv_base64_encode(der, der_len);
	if (b64 == NULL) {
		cv_error_set(err, "out of memory");
		return -1;
	}
	for (i = 0; b64[i] != '\0'; i++)
		enc_len += (b64[i] == '+' || b64[i] == '/' || b64[i] == '=') ? 3 : 1;
	if (enc_len >= CV_OCSP_GET_MAX) {
		free(b64);
		return 1;
	}
	base_len = strlen(base_url);
	slash = base_len > 0 && base_url[base_len - 1] == '/';
	url = malloc(base_len + 1 + enc_len + 1);
	if (url == NULL) {
		free(b64);
		cv_error_set(err, "out of memory");
		return -1;
	}
	memcpy(url, base_url, base_len);
	o = base_len;
	if (!slash)
		url[o++] = '/';
	for (i = 0; b64[i] != '\0'; i++) {
		unsigned char c = (unsigned char)b64[i];

		if (c == '+' || c == '/' || c == '=') {
			url[o++] = '%';
			url[o++] = hex[c >> 4];
			url[o++] = hex[c & 0x0f];
		} else {
			url[o++] = (char)c;
		}
	}
	url[o] = '\0';
	free(b64);
	*out = url;
	return 0;
}

/* Feeds one length-prefixed field into the hash, so that fields cannot run into each other. */
static int
hash_field(gnutls_hash_hd_t h, const void *data, size_t len)
{
	uint8_t lenbuf[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
	                     (uint8_t)len};

	if (gnutls_hash(h, lenbuf, sizeof(lenbuf)) < 0)
		return -1;
	if (len > 0 && gnutls_hash(h, data, len) < 0)
		return -1;
	return 0;
}

int
cv_ocsp_cache_key(const struct cv_ocsp_certid *id, const char *url, char out[CV_OCSP_CACHE_KEY_LEN])
{
	gnutls_hash_hd_t h;
	uint8_t digest[32], alg;
	int rc = -1;

	out[0] = '\0';
	if (id == NULL || url == NULL)
		return -1;
	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return -1;
	alg = (uint8_t)id->digest;
	if (hash_field(h, "certval-ocsp-1", 14) < 0 || hash_field(h, &alg, 1) < 0 ||
	    hash_field(h, id->name_hash, id->name_hash_len) < 0 ||
	    hash_field(h, id->key_hash, id->key_hash_len) < 0 ||
	    hash_field(h, id->serial, id->serial_len) < 0 || hash_field(h, url, strlen(url)) < 0)
		goto fail;
	rc = 0;
fail:
	gnutls_hash_deinit(h, digest);
	if (rc == 0)
		cv_hex_encode(digest, sizeof(digest), out);
	return rc;
}
