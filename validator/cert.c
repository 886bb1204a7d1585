/*
 * cert.c: X.509 certificates loaded through GnuTLS and cert_ext.c (the parsed extensions),
 * reference counted, text forms and key facts cached. The GnuTLS object stays in here and
 * validator/ (x509int.h cv_cert_crt).
 */
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "../common/util.h"
#include "cert.h"
#include "cert_ext.h"
#include "name.h"
#include "x509int.h"

struct cv_cert {
	unsigned refs; /* atomic: certificates may be shared between threads */
	gnutls_x509_crt_t crt;
	gnutls_datum_t der; /* our own copy */
	gnutls_datum_t subject_der;
	gnutls_datum_t issuer_der;
	char *subject;
	char *issuer;
	char serial[2 * 64 + 2];
	cv_time not_before;
	cv_time not_after;
	uint8_t sha256[32]; /* of der: the certificate's identity for caches */
	struct cv_cert_key key;
	int sig_algo; /* gnutls_sign_algorithm_t */
	struct cv_cert_parsed parsed;
};

#define PEM_CERT_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_CERT_END   "-----END CERTIFICATE-----"

static void
cert_free(struct cv_cert *c)
{
	if (c == NULL)
		return;
	if (c->crt != NULL)
		gnutls_x509_crt_deinit(c->crt);
	cv_cert_parsed_clear(&c->parsed);
	gnutls_free(c->subject_der.data);
	gnutls_free(c->issuer_der.data);
	gnutls_free(c->subject);
	gnutls_free(c->issuer);
	free(c->der.data);
	free(c);
}

/* Length of the outer DER SEQUENCE (tag + length + content), or 0 when malformed. */
static size_t
der_outer_len(const uint8_t *der, size_t len)
{
	size_t hdr, body, i, n;

	if (len < 2 || der[0] != 0x30)
		return 0;
	if (der[1] < 0x80) {
		hdr = 2;
		body = der[1];
	} else {
		n = der[1] & 0x7f;
		if (n == 0 || n > 4 || len < 2 + n)
			return 0;
		body = 0;
		for (i = 0; i < n; i++)
			body = (body << 8) | der[2 + i];
		hdr = 2 + n;
	}
	if (body > len - hdr)
		return 0;
	return hdr + body;
}

static void
serial_text(gnutls_x509_crt_t crt, char *out, size_t out_len)
{
	uint8_t buf[64];
	size_t n = sizeof(buf), i = 0;
	char hex[2 * sizeof(buf) + 1];

	cv_strlcpy(out, "0", out_len);
	if (gnutls_x509_crt_get_serial(crt, buf, &n) < 0 || n == 0)
		return;
	while (i < n && buf[i] == 0)
		i++;
	if (i == n)
		return;
	cv_hex_encode(buf + i, n - i, hex);
	/* A single leading zero nibble is not printed either. */
	cv_strlcpy(out, hex[0] == '0' ? hex + 1 : hex, out_len);
}

/* The subject public key's kind, size and curve. */
static void
key_info(gnutls_x509_crt_t crt, struct cv_cert_key *k)
{
	gnutls_datum_t x = {NULL, 0}, y = {NULL, 0};
	gnutls_ecc_curve_t curve;
	unsigned bits = 0;
	/* without bits first: a DSA key that inherits its parameters has no size of its own */
	int pk = gnutls_x509_crt_get_pk_algorithm(crt, NULL);

	memset(k, 0, sizeof(*k));
	k->algorithm = pk;
	if (gnutls_x509_crt_get_pk_algorithm(crt, &bits) >= 0)
		k->bits = bits;
	switch (pk) {
	case GNUTLS_PK_RSA:
	case GNUTLS_PK_RSA_PSS:
		k->kind = CV_KEY_RSA;
		break;
	case GNUTLS_PK_DSA:
		k->kind = CV_KEY_DSA;
		break;
	case GNUTLS_PK_ECDSA:
	case GNUTLS_PK_EDDSA_ED25519:
	case GNUTLS_PK_EDDSA_ED448:
		k->kind = pk == GNUTLS_PK_ECDSA ? CV_KEY_EC : CV_KEY_EDDSA;
		if (gnutls_x509_crt_get_pk_ecc_raw(crt, &curve, &x, &y) >= 0)
			k->curve = (int)curve;
		gnutls_free(x.data);
		gnutls_free(y.data);
		break;
	default:
		k->kind = CV_KEY_OTHER;
		break;
	}
}

/* Takes the text of a get_dn3 call; an empty Name (ret "not available") becomes "". */
static int
name_text(int ret, gnutls_datum_t *d, char **out)
{
	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
		if ((*out = gnutls_malloc(1)) == NULL)
			return -1;
		(*out)[0] = '\0';
		return 0;
	}
	if (ret < 0)
		return -1;
	*out = (char *)d->data;
	return 0;
}

int
cv_cert_from_der(const uint8_t *der, size_t len, struct cv_cert **out, struct cv_error *err)
{
	struct cv_cert *c = NULL;
	gnutls_datum_t d;
	int ret;

	*out = NULL;
	if (der == NULL || len == 0 || der_outer_len(der, len) != len) {
		cv_error_set(err, "certificate: not a single DER certificate (bad length or "
		                  "trailing bytes)");
		goto fail;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL || (c->der.data = malloc(len)) == NULL) {
		cv_error_set(err, "certificate: out of memory");
		goto fail;
	}
	c->refs = 1;
	memcpy(c->der.data, der, len);
	c->der.size = (unsigned)len;
	/* ours first: its errors name the extension at fault */
	if (cv_cert_parse(c->der.data, c->der.size, &c->parsed, err) < 0)
		goto fail;
	if ((ret = gnutls_x509_crt_init(&c->crt)) < 0) {
		cv_error_set(err, "certificate: %s", gnutls_strerror(ret));
		goto fail;
	}
	if ((ret = gnutls_x509_crt_import(c->crt, &c->der, GNUTLS_X509_FMT_DER)) < 0) {
		cv_error_set(err, "certificate: %s", gnutls_strerror(ret));
		goto fail;
	}
	key_info(c->crt, &c->key);
	c->sig_algo = gnutls_x509_crt_get_signature_algorithm(c->crt);
	if (name_text(gnutls_x509_crt_get_dn3(c->crt, &d, 0), &d, &c->subject) < 0) {
		cv_error_set(err, "certificate subject: unreadable name");
		goto fail;
	}
	if (name_text(gnutls_x509_crt_get_issuer_dn3(c->crt, &d, 0), &d, &c->issuer) < 0) {
		cv_error_set(err, "certificate issuer: unreadable name");
		goto fail;
	}
	if ((ret = gnutls_x509_crt_get_raw_dn(c->crt, &c->subject_der)) < 0 ||
	    (ret = gnutls_x509_crt_get_raw_issuer_dn(c->crt, &c->issuer_der)) < 0) {
		cv_error_set(err, "certificate names: %s", gnutls_strerror(ret));
		goto fail;
	}
	serial_text(c->crt, c->serial, sizeof(c->serial));
	c->not_before = c->parsed.not_before;
	c->not_after = c->parsed.not_after;
	if ((ret = gnutls_hash_fast(GNUTLS_DIG_SHA256, c->der.data, c->der.size, c->sha256)) < 0) {
		cv_error_set(err, "certificate digest: %s", gnutls_strerror(ret));
		goto fail;
	}
	*out = c;
	return 0;
fail:
	cert_free(c);
	return -1;
}

static int
list_parse_pem(struct cv_cert_list *list, const char *text, size_t len, struct cv_error *err)
{
	const char *p = text, *end = text + len, *b, *e;
	gnutls_datum_t in, der = {NULL, 0};
	struct cv_cert *c = NULL;
	size_t found = 0;
	int ret;

	while (p < end &&
	       (b = memmem(p, (size_t)(end - p), PEM_CERT_BEGIN, strlen(PEM_CERT_BEGIN))) != NULL) {
		e = memmem(b, (size_t)(end - b), PEM_CERT_END, strlen(PEM_CERT_END));
		if (e == NULL) {
			cv_error_set(err, "PEM certificate block %zu has no END line", found + 1);
			goto fail;
		}
		e += strlen(PEM_CERT_END);
		in.data = (unsigned char *)(uintptr_t)b;
		in.size = (unsigned)(e - b);
		if ((ret = gnutls_pem_base64_decode2("CERTIFICATE", &in, &der)) < 0) {
			cv_error_set(err, "PEM certificate block %zu: %s", found + 1,
			             gnutls_strerror(ret));
			goto fail;
		}
		if (cv_cert_from_der(der.data, der.size, &c, err) < 0) {
			cv_error_prefix(err, "PEM certificate block %zu", found + 1);
			goto fail;
		}
		gnutls_free(der.data);
		der.data = NULL;
		if (cv_cert_list_push(list, c) < 0) {
			cv_error_set(err, "out of memory");
			goto fail;
		}
		cv_cert_unref(c);
		c = NULL;
		found++;
		p = e;
	}
	if (found == 0) {
		cv_error_set(err, "no CERTIFICATE block found");
		goto fail;
	}
	return 0;
fail:
	gnutls_free(der.data);
	cv_cert_unref(c);
	return -1;
}

int
cv_cert_list_parse(struct cv_cert_list *list, const uint8_t *data, size_t len, struct cv_error *err)
{
	struct cv_cert *c = NULL;

	if (data == NULL || len == 0) {
		cv_error_set(err, "empty certificate data");
		return -1;
	}
	if (data[0] == 0x30) {
		if (cv_cert_from_der(data, len, &c, err) < 0)
			return -1;
		if (cv_cert_list_push(list, c) < 0) {
			cv_cert_unref(c);
			cv_error_set(err, "out of memory");
			return -1;
		}
		cv_cert_unref(c);
		return 0;
	}
	return list_parse_pem(list, (const char *)data, len, err);
}

int
cv_cert_list_load_file(struct cv_cert_list *list, const char *path, struct cv_error *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int ret;

	if (cv_read_file(path, CV_CERT_FILE_MAX, &data, &len, err) < 0)
		return -1;
	ret = cv_cert_list_parse(list, data, len, err);
	if (ret < 0)
		cv_error_prefix(err, "%s", path);
	free(data);
	return ret;
}

int
cv_cert_list_push(struct cv_cert_list *list, struct cv_cert *cert)
{
	struct cv_cert **v;
	size_t cap;

	if (list->n == list->cap) {
		cap = list->cap ? list->cap * 2 : 8;
		if ((v = reallocarray(list->v, cap, sizeof(*v))) == NULL)
			return -1;
		list->v = v;
		list->cap = cap;
	}
	list->v[list->n++] = cv_cert_ref(cert);
	return 0;
}

void
cv_cert_list_free(struct cv_cert_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		cv_cert_unref(list->v[i]);
	free(list->v);
	list->v = NULL;
	list->n = list->cap = 0;
}

struct cv_cert *
cv_cert_ref(struct cv_cert *cert)
{
	if (cert != NULL)
		__atomic_add_fetch(&cert->refs, 1, __ATOMIC_RELAXED);
	return cert;
}

void
cv_cert_unref(struct cv_cert *cert)
{
	if (cert == NULL || __atomic_sub_fetch(&cert->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	cert_free(cert);
}

gnutls_x509_crt_t
cv_cert_crt(const struct cv_cert *cert)
{
	return cert->crt;
}

const struct cv_cert_parsed *
cv_cert_parsed(const struct cv_cert *cert)
{
	return &cert->parsed;
}

const struct cv_cert_key *
cv_cert_public_key(const struct cv_cert *cert)
{
	return &cert->key;
}

int
cv_cert_signature_algorithm(const struct cv_cert *cert)
{
	return cert->sig_algo;
}

const char *
cv_cert_signature_algorithm_name(const struct cv_cert *cert)
{
	const char *name = cert->sig_algo > 0
	                       ? gnutls_sign_get_name((gnutls_sign_algorithm_t)cert->sig_algo)
	                       : NULL;

	return name != NULL ? name : "?";
}

const char *
cv_cert_key_algorithm_name(const struct cv_cert *cert)
{
	const char *name = gnutls_pk_algorithm_get_name((gnutls_pk_algorithm_t)cert->key.algorithm);

	return name != NULL ? name : "?";
}

/*
 * GnuTLS prints unknown OIDs (unstructuredName, unstructuredAddress) only as hex, so the AVAs
 * are read directly here.
 */
int
cv_cert_subject_attr_string(const struct cv_cert *cert, const char *oid, char *out, size_t out_len)
{
	const size_t olen = strlen(oid);
	gnutls_x509_dn_t dn;
	gnutls_x509_ava_st ava;
	int irdn, iava, rc;

	if (out_len == 0 || gnutls_x509_crt_get_subject(cert->crt, &dn) < 0)
		return -1;
	for (irdn = 0;; irdn++) {
		for (iava = 0; (rc = gnutls_x509_dn_get_rdn_ava(dn, irdn, iava, &ava)) == 0;
		     iava++) {
			/* the OID text, with or without its NUL in the size */
			if (ava.oid.size < olen || ava.oid.size > olen + 1 ||
			    memcmp(ava.oid.data, oid, olen) != 0 ||
			    (ava.oid.size > olen && ava.oid.data[olen] != '\0'))
				continue;
			/* UTF8String, PrintableString, T61String, IA5String */
			if ((ava.value_tag != 12 && ava.value_tag != 19 && ava.value_tag != 20 &&
			     ava.value_tag != 22) ||
			    ava.value.size >= out_len ||
			    memchr(ava.value.data, '\0', ava.value.size) != NULL)
				return -1;
			memcpy(out, ava.value.data, ava.value.size);
			out[ava.value.size] = '\0';
			return 1;
		}
		if (iava == 0) /* no such RDN: the end */
			return 0;
	}
}

int
cv_cert_subject_attr_text(const struct cv_cert *cert, const char *oid, char *out, size_t out_len)
{
	size_t size = out_len;

	if (out_len == 0 || gnutls_x509_crt_get_dn_by_oid(cert->crt, oid, 0, 0, out, &size) < 0)
		return -1;
	return 0;
}

const uint8_t *
cv_cert_der(const struct cv_cert *cert, size_t *len)
{
	*len = cert->der.size;
	return cert->der.data;
}

const uint8_t *
cv_cert_spki(const struct cv_cert *cert, size_t *len)
{
	*len = cert->parsed.spki_len;
	return cert->parsed.spki;
}

const char *
cv_cert_subject(const struct cv_cert *cert)
{
	return cert->subject;
}

const char *
cv_cert_issuer(const struct cv_cert *cert)
{
	return cert->issuer;
}

const char *
cv_cert_serial(const struct cv_cert *cert)
{
	return cert->serial;
}

const uint8_t *
cv_cert_subject_der(const struct cv_cert *cert, size_t *len)
{
	*len = cert->subject_der.size;
	return cert->subject_der.data;
}

const uint8_t *
cv_cert_issuer_der(const struct cv_cert *cert, size_t *len)
{
	*len = cert->issuer_der.size;
	return cert->issuer_der.data;
}

cv_time
cv_cert_not_before(const struct cv_cert *cert)
{
	return cert->not_before;
}

cv_time
cv_cert_not_after(const struct cv_cert *cert)
{
	return cert->not_after;
}

bool
cv_cert_is_self_issued(const struct cv_cert *cert)
{
	/* RFC 5280 6.1: the two names match under the rules of 7.1 */
	return cv_name_equal(cert->subject_der.data, cert->subject_der.size, cert->issuer_der.data,
	                     cert->issuer_der.size);
}

bool
cv_cert_equal(const struct cv_cert *a, const struct cv_cert *b)
{
	if (a == b)
		return true;
	if (a == NULL || b == NULL)
		return false;
	return a->der.size == b->der.size && memcmp(a->der.data, b->der.data, a->der.size) == 0;
}

int
cv_cert_fingerprint(const struct cv_cert *cert, gnutls_digest_algorithm_t algo, char *out,
                    size_t out_len)
{
	uint8_t md[64];
	unsigned len = gnutls_hash_get_len(algo);

	if (len == 0 || len > sizeof(md) || out_len < 2 * (size_t)len + 1)
		return -1;
	if (gnutls_hash_fast(algo, cert->der.data, cert->der.size, md) < 0)
		return -1;
	cv_hex_encode(md, len, out);
	return 0;
}

const uint8_t *
cv_cert_sha256(const struct cv_cert *cert)
{
	return cert->sha256;
}
