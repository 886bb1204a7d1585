/* bench_pki.c: in-memory benchmark PKIs made with the GnuTLS API (keys, certificates, CRLs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/util.h"
#include "bench_pki.h"

static int
gnutls_fail(const char *what, int rc)
{
	fprintf(stderr, "bench: %s: %s\n", what, gnutls_strerror(rc));
	return -1;
}

static int
wrap_key(struct bench_key *key)
{
	int rc;

	if ((rc = gnutls_privkey_init(&key->priv)) < 0)
		return gnutls_fail("gnutls_privkey_init", rc);
	if ((rc = gnutls_privkey_import_x509(key->priv, key->x, 0)) < 0)
		return gnutls_fail("gnutls_privkey_import_x509", rc);
	return 0;
}

int
bench_key_generate(struct bench_key *key, bool rsa)
{
	int rc;

	memset(key, 0, sizeof(*key));
	if ((rc = gnutls_x509_privkey_init(&key->x)) < 0)
		return gnutls_fail("gnutls_x509_privkey_init", rc);
	if (rsa)
		rc = gnutls_x509_privkey_generate(key->x, GNUTLS_PK_RSA, 2048, 0);
	else
		rc = gnutls_x509_privkey_generate(
		    key->x, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	if (rc < 0)
		return gnutls_fail("gnutls_x509_privkey_generate", rc);
	return wrap_key(key);
}

int
bench_key_copy(const struct bench_key *key, struct bench_key *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = gnutls_x509_privkey_init(&out->x)) < 0)
		return gnutls_fail("gnutls_x509_privkey_init", rc);
	if ((rc = gnutls_x509_privkey_cpy(out->x, key->x)) < 0)
		return gnutls_fail("gnutls_x509_privkey_cpy", rc);
	return wrap_key(out);
}

void
bench_key_free(struct bench_key *key)
{
	if (key->priv != NULL)
		gnutls_privkey_deinit(key->priv);
	if (key->x != NULL)
		gnutls_x509_privkey_deinit(key->x);
	memset(key, 0, sizeof(*key));
}

/* The key identifier of key's public half (SHA-1 of the key, as RFC 5280 4.2.1.2 method 1). */
static int
key_id(const struct bench_key *key, unsigned char *id, size_t *len)
{
	int rc = gnutls_x509_privkey_get_key_id(key->x, GNUTLS_KEYID_USE_SHA1, id, len);

	return rc < 0 ? gnutls_fail("gnutls_x509_privkey_get_key_id", rc) : 0;
}

int
bench_cert_issue(const struct bench_cert_opts *opts, const struct bench_key *subject_key,
                 gnutls_x509_crt_t issuer, const struct bench_key *issuer_key,
                 gnutls_x509_crt_t *out)
{
	gnutls_x509_crt_t crt = NULL;
	unsigned char serial[8], ski[64], aki[64];
	size_t ski_len = sizeof(ski), aki_len = sizeof(aki);
	time_t now = time(NULL);
	unsigned usage;
	const char *what;
	int i, rc;

	for (i = 0; i < 8; i++)
		serial[i] = (unsigned char)(opts->serial >> (56 - 8 * i));
	serial[0] &= 0x7f; /* a positive INTEGER */
	usage = opts->ca ? GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN
	                 : GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT;
	if (key_id(subject_key, ski, &ski_len) < 0 ||
	    key_id(issuer_key != NULL ? issuer_key : subject_key, aki, &aki_len) < 0)
		return -1;
	what = "gnutls_x509_crt_init";
	if ((rc = gnutls_x509_crt_init(&crt)) < 0)
		goto fail;
	what = "building the certificate";
	if ((rc = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (rc = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (rc = gnutls_x509_crt_set_dn(crt, opts->dn, NULL)) < 0 ||
	    (rc = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
	    (rc = gnutls_x509_crt_set_expiration_time(crt, now + 365 * 86400)) < 0 ||
	    (rc = gnutls_x509_crt_set_key(crt, subject_key->x)) < 0 ||
	    (rc = gnutls_x509_crt_set_basic_constraints(crt, opts->ca, opts->pathlen)) < 0 ||
	    (rc = gnutls_x509_crt_set_key_usage(crt, usage)) < 0 ||
	    (rc = gnutls_x509_crt_set_subject_key_id(crt, ski, ski_len)) < 0)
		goto fail;
	if (issuer != NULL && (rc = gnutls_x509_crt_set_authority_key_id(crt, aki, aki_len)) < 0)
		goto fail;
	if (opts->cdp != NULL &&
	    (rc = gnutls_x509_crt_set_crl_dist_points2(crt, GNUTLS_SAN_URI, opts->cdp,
	                                               (unsigned)strlen(opts->cdp), 0)) < 0)
		goto fail;
	what = "gnutls_x509_crt_privkey_sign";
	if ((rc = gnutls_x509_crt_privkey_sign(
	         crt, issuer != NULL ? issuer : crt,
	         issuer_key != NULL ? issuer_key->priv : subject_key->priv, GNUTLS_DIG_SHA256, 0)) <
	    0)
		goto fail;
	*out = crt;
	return 0;
fail:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	return gnutls_fail(what, rc);
}

char *
bench_cert_base64(gnutls_x509_crt_t crt)
{
	gnutls_datum_t der;
	char *b64;
	int rc;

	if ((rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der)) < 0) {
		gnutls_fail("gnutls_x509_crt_export2", rc);
		return NULL;
	}
	b64 = cv_base64_encode(der.data, der.size);
	gnutls_free(der.data);
	return b64;
}

int
bench_cert_copy(gnutls_x509_crt_t crt, gnutls_x509_crt_t *out)
{
	gnutls_datum_t der;
	int rc;

	if ((rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der)) < 0)
		return gnutls_fail("gnutls_x509_crt_export2", rc);
	if ((rc = gnutls_x509_crt_init(out)) < 0) {
		gnutls_free(der.data);
		return gnutls_fail("gnutls_x509_crt_init", rc);
	}
	rc = gnutls_x509_crt_import(*out, &der, GNUTLS_X509_FMT_DER);
	gnutls_free(der.data);
	if (rc < 0) {
		gnutls_x509_crt_deinit(*out);
		*out = NULL;
		return gnutls_fail("gnutls_x509_crt_import", rc);
	}
	return 0;
}

static int
write_datum(const gnutls_datum_t *d, const char *path)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	ok = fwrite(d->data, 1, d->size, f) == d->size;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok) {
		fprintf(stderr, "bench: cannot write %s\n", path);
		return -1;
	}
	return 0;
}

int
bench_cert_write_pem(gnutls_x509_crt_t crt, const char *path)
{
	gnutls_datum_t pem;
	int rc;

	if ((rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem)) < 0)
		return gnutls_fail("gnutls_x509_crt_export2", rc);
	rc = write_datum(&pem, path);
	gnutls_free(pem.data);
	return rc;
}

int
bench_crl_write(gnutls_x509_crt_t issuer, const struct bench_key *issuer_key, bool pem,
                const char *path)
{
	return bench_crl_write_n(issuer, issuer_key, pem, 0, path);
}

/* Revokes n serials 0x7f000000, 0x7f000001, ... (no benchmark certificate has them). */
static int
crl_revoke_n(gnutls_x509_crl_t crl, size_t n, time_t when)
{
	unsigned char serial[8];
	int rc;

	for (size_t i = 0; i < n; i++) {
		uint64_t v = 0x7f000000u + (uint64_t)i;

		for (int b = 7; b >= 0; b--, v >>= 8)
			serial[b] = (unsigned char)(v & 0xff);
		if ((rc = gnutls_x509_crl_set_crt_serial(crl, serial + 3, 5, when)) < 0)
			return gnutls_fail("gnutls_x509_crl_set_crt_serial", rc);
	}
	return 0;
}

int
bench_crl_write_n(gnutls_x509_crt_t issuer, const struct bench_key *issuer_key, bool pem,
                  size_t n_revoked, const char *path)
{
	gnutls_x509_crl_t crl = NULL;
	gnutls_datum_t out = {NULL, 0};
	unsigned char aki[64], number[1] = {1};
	size_t aki_len = sizeof(aki);
	time_t now = time(NULL);
	int rc;

	if (key_id(issuer_key, aki, &aki_len) < 0)
		return -1;
	if ((rc = gnutls_x509_crl_init(&crl)) < 0)
		return gnutls_fail("gnutls_x509_crl_init", rc);
	if (crl_revoke_n(crl, n_revoked, now - 7200) < 0) {
		gnutls_x509_crl_deinit(crl);
		return -1;
	}
	if ((rc = gnutls_x509_crl_set_version(crl, 2)) < 0 ||
	    (rc = gnutls_x509_crl_set_this_update(crl, now - 3600)) < 0 ||
	    (rc = gnutls_x509_crl_set_next_update(crl, now + 7 * 86400)) < 0 ||
	    (rc = gnutls_x509_crl_set_number(crl, number, sizeof(number))) < 0 ||
	    (rc = gnutls_x509_crl_set_authority_key_id(crl, aki, aki_len)) < 0 ||
	    (rc = gnutls_x509_crl_privkey_sign(crl, issuer, issuer_key->priv, GNUTLS_DIG_SHA256,
	                                       0)) < 0 ||
	    (rc = gnutls_x509_crl_export2(crl, pem ? GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER,
	                                  &out)) < 0) {
		gnutls_x509_crl_deinit(crl);
		return gnutls_fail("building the CRL", rc);
	}
	gnutls_x509_crl_deinit(crl);
	rc = write_datum(&out, path);
	gnutls_free(out.data);
	return rc;
}

/* ---- large CRLs, written as DER directly (GnuTLS's CRL builder is quadratic) ---- */

/* A growing byte buffer; on allocation failure it stays failed and put does nothing. */
struct der_buf {
	uint8_t *p;
	size_t len, cap;
	bool failed;
};

static void
der_put(struct der_buf *b, const void *data, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *p;

		while (cap < b->len + n)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

/* A TLV: tag, DER length, value. */
static void
der_tlv(struct der_buf *b, uint8_t tag, const void *val, size_t n)
{
	uint8_t hdr[6] = {tag};
	size_t h = 1;

	if (n < 0x80) {
		hdr[h++] = (uint8_t)n;
	} else {
		unsigned bytes = n > 0xffffff ? 4 : n > 0xffff ? 3 : n > 0xff ? 2 : 1;

		hdr[h++] = (uint8_t)(0x80 | bytes);
		for (unsigned i = bytes; i > 0; i--)
			hdr[h++] = (uint8_t)(n >> (8 * (i - 1)));
	}
	der_put(b, hdr, h);
	der_put(b, val, n);
}

/* UTCTime text (YYMMDDHHMMSSZ) of t: the last 13 characters of a GeneralizedTime. */
static void
utc_time(time_t t, char out[16])
{
	char full[20];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(full, sizeof(full), "%Y%m%d%H%M%SZ", &tm);
	memcpy(out, full + 2, 14);
}

/* n entries with 16-octet serials 7E 00 .. (no benchmark certificate has them), each with a
 * reasonCode, as real CRLs carry (the same shape as crl_bench's). */
static void
der_entries(struct der_buf *list, size_t n, const char *when)
{
	static const uint8_t reason_ext[] = {0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55,
	                                     0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01, 0x01};
	struct der_buf e = {0};
	uint8_t serial[16] = {0x7e};

	for (size_t i = 0; i < n; i++) {
		for (int b = 0; b < 8; b++)
			serial[15 - b] = (uint8_t)((uint64_t)i >> (8 * b));
		e.len = 0;
		der_tlv(&e, 0x02, serial, sizeof(serial));
		der_tlv(&e, 0x17, when, 13);
		der_put(&e, reason_ext, sizeof(reason_ext));
		der_tlv(list, 0x30, e.p, e.len);
	}
	list->failed |= e.failed;
	free(e.p);
}

/* crlExtensions [0]: authorityKeyIdentifier (the issuer key's id) and cRLNumber 1. */
static int
der_crl_extensions(struct der_buf *out, const struct bench_key *issuer_key)
{
	static const uint8_t number[] = {0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d,
	                                 0x14, 0x04, 0x03, 0x02, 0x01, 0x01};
	static const uint8_t aki_oid[] = {0x06, 0x03, 0x55, 0x1d, 0x23};
	struct der_buf kid = {0}, oct = {0}, ext = {0}, exts = {0};
	unsigned char id[64];
	size_t id_len = sizeof(id);

	if (key_id(issuer_key, id, &id_len) < 0)
		return -1;
	der_tlv(&kid, 0x80, id, id_len); /* [0] keyIdentifier */
	der_tlv(&oct, 0x30, kid.p, kid.len);
	der_put(&ext, aki_oid, sizeof(aki_oid));
	der_tlv(&ext, 0x04, oct.p, oct.len);
	der_tlv(&exts, 0x30, ext.p, ext.len);
	der_put(&exts, number, sizeof(number));
	kid.len = 0;
	der_tlv(&kid, 0x30, exts.p, exts.len);
	der_tlv(out, 0xa0, kid.p, kid.len);
	out->failed |= kid.failed || oct.failed || ext.failed || exts.failed;
	free(kid.p);
	free(oct.p);
	free(ext.p);
	free(exts.p);
	return 0;
}

int
bench_crl_write_big(gnutls_x509_crt_t issuer, const struct bench_key *issuer_key, size_t n,
                    const char *path, size_t *der_len)
{
	static const uint8_t ecdsa_sha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
	                                       0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
	static const uint8_t v2[] = {0x02, 0x01, 0x01};
	struct der_buf list = {0}, body = {0}, tbs = {0}, crl = {0}, out = {0};
	gnutls_datum_t dn = {NULL, 0}, data, sig = {NULL, 0};
	const time_t now = time(NULL);
	char this_update[16], next_update[16];
	int rc = -1, grc;

	utc_time(now - 3600, this_update);
	utc_time(now + 7 * 86400, next_update);
	if ((grc = gnutls_x509_crt_get_raw_dn(issuer, &dn)) < 0)
		return gnutls_fail("gnutls_x509_crt_get_raw_dn", grc);
	der_entries(&list, n, this_update);
	der_put(&body, v2, sizeof(v2));
	der_put(&body, ecdsa_sha256, sizeof(ecdsa_sha256));
	der_put(&body, dn.data, dn.size);
	der_tlv(&body, 0x17, this_update, 13);
	der_tlv(&body, 0x17, next_update, 13);
	if (n > 0)
		der_tlv(&body, 0x30, list.p, list.len);
	if (der_crl_extensions(&body, issuer_key) < 0)
		goto out;
	der_tlv(&tbs, 0x30, body.p, body.len);
	if (list.failed || body.failed || tbs.failed) {
		fprintf(stderr, "bench_crl_write_big: out of memory\n");
		goto out;
	}
	data.data = tbs.p;
	data.size = (unsigned)tbs.len;
	if ((grc = gnutls_privkey_sign_data2(issuer_key->priv, GNUTLS_SIGN_ECDSA_SHA256, 0, &data,
	                                     &sig)) < 0) {
		gnutls_fail("gnutls_privkey_sign_data2", grc);
		goto out;
	}
	der_put(&crl, tbs.p, tbs.len);
	der_put(&crl, ecdsa_sha256, sizeof(ecdsa_sha256));
	body.len = 0;
	der_put(&body, "", 1); /* no unused bits */
	der_put(&body, sig.data, sig.size);
	der_tlv(&crl, 0x03, body.p, body.len);
	der_tlv(&out, 0x30, crl.p, crl.len);
	if (crl.failed || out.failed || body.failed) {
		fprintf(stderr, "bench_crl_write_big: out of memory\n");
		goto out;
	}
	data.data = out.p;
	data.size = (unsigned)out.len;
	if (write_datum(&data, path) == 0) {
		*der_len = out.len;
		rc = 0;
	}
out:
	gnutls_free(dn.data);
	gnutls_free(sig.data);
	free(list.p);
	free(body.p);
	free(tbs.p);
	free(crl.p);
	free(out.p);
	return rc;
}
