/*
 * cert.c: X.509 certificates read by cert_ext.c (the parsed form), reference counted, with
 * their key facts and text forms from GnuTLS. GnuTLS's certificate object is made only when
 * the CRL or OCSP code asks for it (cv_cert_crt), and stays in validator/.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "../common/util.h"
#include "cert.h"
#include "cert_ext.h"
#include "spki.h"
#include "name.h"
#include "x509int.h"

struct cv_cert {
	unsigned refs; /* atomic: certificates may be shared between threads */
	/* GnuTLS's object, made on first use by the CRL and OCSP code (cv_cert_crt): reading a
	 * certificate does not need it. Set once, atomically; NULL when GnuTLS cannot read it. */
	gnutls_x509_crt_t crt;
	/* The subject public key as GnuTLS imports it, when the certificate was read (a key
	 * spki.c cannot read) or when it first verifies a signature (cv_cert_pubkey): set once,
	 * atomically, and never changed afterwards, so signature checks on any thread read it. */
	gnutls_pubkey_t pub;
	gnutls_datum_t der; /* our own copy */
	/* RFC 4514 text of the Names (GnuTLS's rendering), made on first use, set atomically */
	char *subject;
	char *issuer;
	char serial[2 * 64 + 2];
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
	if (c->pub != NULL)
		gnutls_pubkey_deinit(c->pub);
	cv_cert_parsed_clear(&c->parsed);
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

/* The serialNumber as hex without leading zeros ("0" for zero). */
static void
serial_text(const uint8_t *serial, size_t n, char *out, size_t out_len)
{
	char hex[2 * 64 + 1];
	size_t i = 0;

	cv_strlcpy(out, "0", out_len);
	while (i < n && serial[i] == 0)
		i++;
	if (i == n || n - i > 64)
		return;
	cv_hex_encode(serial + i, n - i, hex);
	/* A single leading zero nibble is not printed either. */
	cv_strlcpy(out, hex[0] == '0' ? hex + 1 : hex, out_len);
}

static enum cv_key_kind
key_kind(int pk)
{
	switch (pk) {
	case GNUTLS_PK_RSA:
	case GNUTLS_PK_RSA_PSS:
		return CV_KEY_RSA;
	case GNUTLS_PK_DSA:
		return CV_KEY_DSA;
	case GNUTLS_PK_ECDSA:
		return CV_KEY_EC;
	case GNUTLS_PK_EDDSA_ED25519:
	case GNUTLS_PK_EDDSA_ED448:
		return CV_KEY_EDDSA;
	default:
		return CV_KEY_OTHER;
	}
}

/* GnuTLS's import of the SubjectPublicKeyInfo alone (a new key), or NULL when it cannot. */
static gnutls_pubkey_t
import_key(const struct cv_cert_parsed *p)
{
	const gnutls_datum_t spki = {(unsigned char *)(uintptr_t)p->spki, (unsigned)p->spki_len};
	gnutls_pubkey_t pub = NULL;

	if (gnutls_pubkey_init(&pub) < 0)
		return NULL;
	if (gnutls_pubkey_import(pub, &spki, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_pubkey_deinit(pub);
		return NULL;
	}
	return pub;
}

/* The subject public key imported from the SubjectPublicKeyInfo alone, and its kind, size and
 * curve (the same GnuTLS reading as the certificate object's). -1 when GnuTLS cannot import
 * the key; else *out holds it. */
static int
key_info_spki(const struct cv_cert_parsed *p, struct cv_cert_key *k, gnutls_pubkey_t *out)
{
	gnutls_pubkey_t pub = import_key(p);
	gnutls_ecc_curve_t curve;
	unsigned bits = 0;
	int pk;

	memset(k, 0, sizeof(*k));
	*out = NULL;
	if (pub == NULL || (pk = gnutls_pubkey_get_pk_algorithm(pub, &bits)) <= 0) {
		gnutls_pubkey_deinit(pub);
		return -1;
	}
	k->algorithm = pk;
	k->bits = bits;
	k->kind = key_kind(pk);
	if ((k->kind == CV_KEY_EC || k->kind == CV_KEY_EDDSA) &&
	    gnutls_pubkey_export_ecc_raw2(pub, &curve, NULL, NULL, 0) >= 0)
		k->curve = (int)curve;
	*out = pub;
	return 0;
}

/* The same from GnuTLS's certificate object: for keys the SubjectPublicKeyInfo alone does not
 * give (a DSA key that inherits its parameters, an algorithm GnuTLS does not know). */
static void
key_info_crt(gnutls_x509_crt_t crt, struct cv_cert_key *k)
{
	gnutls_datum_t x = {NULL, 0}, y = {NULL, 0};
	gnutls_ecc_curve_t curve;
	unsigned bits = 0;
	/* without bits first: a DSA key that inherits its parameters has no size of its own */
	const int pk = gnutls_x509_crt_get_pk_algorithm(crt, NULL);

	memset(k, 0, sizeof(*k));
	k->algorithm = pk;
	k->kind = key_kind(pk);
	if (gnutls_x509_crt_get_pk_algorithm(crt, &bits) >= 0)
		k->bits = bits;
	if ((k->kind == CV_KEY_EC || k->kind == CV_KEY_EDDSA) &&
	    gnutls_x509_crt_get_pk_ecc_raw(crt, &curve, &x, &y) >= 0)
		k->curve = (int)curve;
	gnutls_free(x.data);
	gnutls_free(y.data);
}

/* The RFC 4514 text of a Name's encoding; an empty Name becomes "". */
static int
name_text(const uint8_t *der, size_t len, char **out)
{
	const gnutls_datum_t raw = {(unsigned char *)(uintptr_t)der, (unsigned)len};
	gnutls_datum_t d = {NULL, 0};
	const int ret = gnutls_x509_rdn_get2(&raw, &d, 0);

	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
		if ((*out = gnutls_malloc(1)) == NULL)
			return -1;
		(*out)[0] = '\0';
		return 0;
	}
	if (ret < 0)
		return -1;
	*out = (char *)d.data;
	return 0;
}

/* RSASSA-PSS names its hash in the parameters: GnuTLS's object reads those. */
#define OID_RSASSA_PSS "1.2.840.113549.1.1.10"

/*
 * The facts kept beside the parsed form: key, signature algorithm, serial, digest. GnuTLS
 * reads the key; its certificate object is made only for what the parsed form does not give
 * (RSASSA-PSS parameters, unusual keys). The Names' text is made when first asked for.
 */
static int
cert_facts(struct cv_cert *c, struct cv_error *err)
{
	const struct cv_cert_parsed *p = &c->parsed;
	gnutls_x509_crt_t crt = NULL;
	/* A peer's key verifies nothing: reading its facts from the DER spares the import */
	const bool key_read = cv_spki_key_info(p->spki, p->spki_len, &c->key) == 0 ||
	                      key_info_spki(p, &c->key, &c->pub) == 0;

	if (!key_read || strcmp(p->sig_oid, OID_RSASSA_PSS) == 0) {
		if ((crt = cv_cert_crt(c)) == NULL) {
			cv_error_set(err, "certificate: GnuTLS cannot read it");
			return -1;
		}
		if (c->key.algorithm == 0)
			key_info_crt(crt, &c->key);
	}
	c->sig_algo = crt != NULL ? gnutls_x509_crt_get_signature_algorithm(crt)
	                          : (int)gnutls_oid_to_sign(p->sig_oid);
	serial_text(p->serial, p->serial_len, c->serial, sizeof(c->serial));
	return 0;
}

int
cv_cert_from_der(const uint8_t *der, size_t len, struct cv_cert **out, struct cv_error *err)
{
	return cv_cert_from_der_sha(der, len, NULL, out, err);
}

int
cv_cert_from_der_sha(const uint8_t *der, size_t len, const uint8_t sha256[32], struct cv_cert **out,
                     struct cv_error *err)
{
	struct cv_cert *c = NULL;
	int ret;

	*out = NULL;
	if (der == NULL || len == 0 || der_outer_len(der, len) != len) {
		cv_error_set(err, "certificate: not a single DER certificate (bad length or "
		                  "trailing bytes)");
		goto fail;
	}
	/* cv_cert_parse clears the parsed form (9 KB): only what is before it is cleared here,
	 * and until it has run, c is freed as a plain block */
	if ((c = malloc(sizeof(*c))) == NULL) {
		cv_error_set(err, "certificate: out of memory");
		goto fail;
	}
	memset(c, 0, offsetof(struct cv_cert, parsed));
	if ((c->der.data = malloc(len)) == NULL) {
		free(c);
		c = NULL;
		cv_error_set(err, "certificate: out of memory");
		goto fail;
	}
	c->refs = 1;
	memcpy(c->der.data, der, len);
	c->der.size = (unsigned)len;
	if (cv_cert_parse(c->der.data, c->der.size, &c->parsed, err) < 0 || cert_facts(c, err) < 0)
		goto fail;
	if (sha256 != NULL) {
		memcpy(c->sha256, sha256, sizeof(c->sha256));
	} else if ((ret = gnutls_hash_fast(GNUTLS_DIG_SHA256, c->der.data, c->der.size,
	                                   c->sha256)) < 0) {
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

gnutls_pubkey_t
cv_cert_pubkey(const struct cv_cert *cert)
{
	/* imported once, whichever thread asks first, as cv_cert_crt */
	struct cv_cert *c = (struct cv_cert *)(uintptr_t)cert;
	gnutls_pubkey_t have = __atomic_load_n(&c->pub, __ATOMIC_ACQUIRE), made;

	if (have != NULL)
		return have;
	if ((made = import_key(&c->parsed)) == NULL)
		return NULL;
	if (__atomic_compare_exchange_n(&c->pub, &have, made, false, __ATOMIC_ACQ_REL,
	                                __ATOMIC_ACQUIRE))
		return made;
	gnutls_pubkey_deinit(made); /* another thread made it first */
	return have;
}

gnutls_x509_crt_t
cv_cert_crt(const struct cv_cert *cert)
{
	/* a cache of the certificate's own bytes: made once, whichever thread asks first */
	struct cv_cert *c = (struct cv_cert *)(uintptr_t)cert;
	gnutls_x509_crt_t have = __atomic_load_n(&c->crt, __ATOMIC_ACQUIRE), made = NULL;

	if (have != NULL)
		return have;
	if (gnutls_x509_crt_init(&made) < 0)
		return NULL;
	if (gnutls_x509_crt_import(made, &c->der, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(made);
		return NULL;
	}
	if (__atomic_compare_exchange_n(&c->crt, &have, made, false, __ATOMIC_ACQ_REL,
	                                __ATOMIC_ACQUIRE))
		return made;
	gnutls_x509_crt_deinit(made); /* another thread made it first */
	return have;
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

	if (out_len == 0 || cv_cert_crt(cert) == NULL ||
	    gnutls_x509_crt_get_subject(cv_cert_crt(cert), &dn) < 0)
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

	if (out_len == 0 || cv_cert_crt(cert) == NULL ||
	    gnutls_x509_crt_get_dn_by_oid(cv_cert_crt(cert), oid, 0, 0, out, &size) < 0)
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

/*
 * The text of a Name, rendered once by whichever thread asks first. The Name was read to its
 * last value when the certificate was (name.c refuses what GnuTLS cannot render), so only a
 * failed allocation leaves "?".
 */
static const char *
lazy_name(char **slot, const uint8_t *der, size_t len)
{
	char *have = __atomic_load_n(slot, __ATOMIC_ACQUIRE), *made = NULL;

	if (have != NULL)
		return have;
	if (name_text(der, len, &made) < 0)
		return "?";
	if (__atomic_compare_exchange_n(slot, &have, made, false, __ATOMIC_ACQ_REL,
	                                __ATOMIC_ACQUIRE))
		return made;
	gnutls_free(made);
	return have;
}

const char *
cv_cert_subject(const struct cv_cert *cert)
{
	struct cv_cert *c = (struct cv_cert *)(uintptr_t)cert;

	return lazy_name(&c->subject, c->parsed.subject, c->parsed.subject_len);
}

const char *
cv_cert_issuer(const struct cv_cert *cert)
{
	struct cv_cert *c = (struct cv_cert *)(uintptr_t)cert;

	return lazy_name(&c->issuer, c->parsed.issuer, c->parsed.issuer_len);
}

const char *
cv_cert_serial(const struct cv_cert *cert)
{
	return cert->serial;
}

const uint8_t *
cv_cert_subject_der(const struct cv_cert *cert, size_t *len)
{
	*len = cert->parsed.subject_len;
	return cert->parsed.subject;
}

const uint8_t *
cv_cert_issuer_der(const struct cv_cert *cert, size_t *len)
{
	*len = cert->parsed.issuer_len;
	return cert->parsed.issuer;
}

uint64_t
cv_cert_subject_key(const struct cv_cert *cert)
{
	return cert->parsed.subject_key;
}

uint64_t
cv_cert_issuer_key(const struct cv_cert *cert)
{
	return cert->parsed.issuer_key;
}

bool
cv_cert_issued_by_name(const struct cv_cert *child, const struct cv_cert *issuer)
{
	return cv_name_equal_keyed(child->parsed.issuer, child->parsed.issuer_len,
	                           child->parsed.issuer_key, issuer->parsed.subject,
	                           issuer->parsed.subject_len, issuer->parsed.subject_key);
}

cv_time
cv_cert_not_before(const struct cv_cert *cert)
{
	return cert->parsed.not_before;
}

cv_time
cv_cert_not_after(const struct cv_cert *cert)
{
	return cert->parsed.not_after;
}

bool
cv_cert_is_self_issued(const struct cv_cert *cert)
{
	/* RFC 5280 6.1: the two names match under the rules of 7.1 */
	return cv_name_equal_keyed(cert->parsed.subject, cert->parsed.subject_len,
	                           cert->parsed.subject_key, cert->parsed.issuer,
	                           cert->parsed.issuer_len, cert->parsed.issuer_key);
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
