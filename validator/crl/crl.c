/* crl.c: an ingested CRL: DER, metadata, serial index and remembered signature checks. */
#include "crl.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../../common/util.h"
#include "../cert.h"
#include "../cert_crt.h"
#include "crl_verify.h"

#define VERIFIED_KEYS_MAX 4

struct cv_crl {
	atomic_int refs;
	uint8_t *der;
	size_t der_len;
	struct cv_crl_info info;
	struct cv_crl_index *index;
	char *issuer_text;    /* the issuer Name as RFC 4514 text, rendered once at ingest */
	pthread_mutex_t lock; /* guards verified[] */
	uint8_t verified[VERIFIED_KEYS_MAX][32];
	unsigned n_verified;
	/* the tbsCertList hashed at ingest, off the event loop for a downloaded CRL (issue 13):
	 * a signature check then costs no pass over a CRL of many megabytes; 0: none */
	uint8_t tbs_digest[64];
	unsigned tbs_digest_len;
};

/* The smallest revoked entry is about 17 octets; this bounds the first allocation. */
static size_t
estimate_entries(size_t len)
{
	return len / 40;
}

/*
 * The issuer's name as text, once: messages about the CRL name it, and rendering it for each
 * verdict cost more than the rest of the CRL check (issue 13). "?" when it does not render.
 */
static void
issuer_text_render(struct cv_crl *crl)
{
	gnutls_datum_t in = {(unsigned char *)(uintptr_t)crl->info.issuer,
	                     (unsigned)crl->info.issuer_len},
	               dn = {NULL, 0};

	if (gnutls_x509_rdn_get2(&in, &dn, 0) >= 0 && dn.data != NULL)
		crl->issuer_text = strdup((const char *)dn.data);
	gnutls_free(dn.data);
}

const char *
cv_crl_issuer_text(const struct cv_crl *crl)
{
	return crl->issuer_text != NULL ? crl->issuer_text : "?";
}

int
cv_crl_ingest_owned(uint8_t *der, size_t len, gnutls_x509_crt_t issuer, unsigned verify_flags,
                    struct cv_crl **out, struct cv_error *err)
{
	struct cv_crl *crl;

	*out = NULL;
	if (len > CV_CRL_MAX_SIZE) {
		cv_error_set(err, "CRL of %zu bytes exceeds the %u-byte cap", len, CV_CRL_MAX_SIZE);
		free(der);
		return -1;
	}
	crl = calloc(1, sizeof(*crl));
	if (crl == NULL) {
		cv_error_set(err, "out of memory");
		free(der);
		return -1;
	}
	atomic_init(&crl->refs, 1);
	pthread_mutex_init(&crl->lock, NULL);
	crl->der = der;
	crl->der_len = len;
	crl->index = cv_crl_index_new(der, len, estimate_entries(len));
	if (crl->index == NULL) {
		cv_error_set(err, "out of memory");
		goto fail;
	}
	if (cv_crl_read(der, len, &crl->info, cv_crl_index_add, crl->index, err) < 0) {
		cv_error_prefix(err, "CRL");
		goto fail;
	}
	if (cv_crl_index_finish(crl->index, err) < 0)
		goto fail;
	issuer_text_render(crl);
	crl->tbs_digest_len = cv_crl_tbs_digest(&crl->info, crl->tbs_digest);
	if (issuer != NULL && cv_crl_verify(crl, issuer, verify_flags, err) < 0)
		goto fail;
	*out = crl;
	return 0;
fail:
	cv_crl_free(crl);
	return -1;
}

int
cv_crl_ingest(const uint8_t *der, size_t len, gnutls_x509_crt_t issuer, struct cv_crl **out,
              struct cv_error *err)
{
	uint8_t *copy;

	*out = NULL;
	if (len > CV_CRL_MAX_SIZE) {
		cv_error_set(err, "CRL of %zu bytes exceeds the %u-byte cap", len, CV_CRL_MAX_SIZE);
		return -1;
	}
	copy = malloc(len ? len : 1);
	if (copy == NULL) {
		cv_error_set(err, "out of memory");
		return -1;
	}
	if (len > 0)
		memcpy(copy, der, len);
	return cv_crl_ingest_owned(copy, len, issuer, 0, out, err);
}

static bool
is_pem(const uint8_t *data, size_t len)
{
	static const char marker[] = "-----BEGIN X509 CRL-----";

	return len >= sizeof(marker) - 1 && memmem(data, len, marker, sizeof(marker) - 1) != NULL;
}

/* The DER of a PEM CRL in a malloc'd buffer of its own; NULL with err set. */
static uint8_t *
pem_decode(const uint8_t *data, size_t len, size_t *der_len, struct cv_error *err)
{
	gnutls_datum_t in, der = {NULL, 0};
	uint8_t *copy;

	in.data = (unsigned char *)(uintptr_t)data;
	in.size = (unsigned)len;
	if (len > CV_CRL_MAX_SIZE * 2u || gnutls_pem_base64_decode2("X509 CRL", &in, &der) < 0) {
		cv_error_set(err, "CRL: malformed PEM");
		return NULL;
	}
	copy = malloc(der.size ? der.size : 1);
	if (copy == NULL)
		cv_error_set(err, "out of memory");
	else
		memcpy(copy, der.data, der.size);
	*der_len = der.size;
	gnutls_free(der.data);
	return copy;
}

int
cv_crl_ingest_any(const uint8_t *data, size_t len, struct cv_crl **out, struct cv_error *err)
{
	uint8_t *der;
	size_t der_len = 0;

	if (!is_pem(data, len))
		return cv_crl_ingest(data, len, NULL, out, err);
	*out = NULL;
	if ((der = pem_decode(data, len, &der_len, err)) == NULL)
		return -1;
	return cv_crl_ingest_owned(der, der_len, NULL, 0, out, err);
}

int
cv_crl_ingest_any_owned(uint8_t *data, size_t len, struct cv_crl **out, struct cv_error *err)
{
	uint8_t *der;
	size_t der_len = 0;

	if (!is_pem(data, len))
		return cv_crl_ingest_owned(data, len, NULL, 0, out, err);
	*out = NULL;
	der = pem_decode(data, len, &der_len, err);
	free(data);
	if (der == NULL)
		return -1;
	return cv_crl_ingest_owned(der, der_len, NULL, 0, out, err);
}

/* The digest computed at ingest, as GnuTLS takes it (empty when there is none). */
static const gnutls_datum_t *
tbs_digest(struct cv_crl *crl, gnutls_datum_t *out)
{
	out->data = crl->tbs_digest;
	out->size = crl->tbs_digest_len;
	return out;
}

static bool
key_known(struct cv_crl *crl, const uint8_t id[32])
{
	bool known = false;

	pthread_mutex_lock(&crl->lock);
	for (unsigned i = 0; i < crl->n_verified && !known; i++)
		known = memcmp(crl->verified[i], id, 32) == 0;
	pthread_mutex_unlock(&crl->lock);
	return known;
}

static void
remember_key(struct cv_crl *crl, const uint8_t id[32])
{
	pthread_mutex_lock(&crl->lock);
	if (crl->n_verified < VERIFIED_KEYS_MAX)
		memcpy(crl->verified[crl->n_verified++], id, 32);
	pthread_mutex_unlock(&crl->lock);
}

int
cv_crl_verify(struct cv_crl *crl, gnutls_x509_crt_t signer, unsigned verify_flags,
              struct cv_error *err)
{
	uint8_t id[32];
	bool have_id = cv_crl_signer_key_id(signer, id) == 0;
	unsigned usage = 0, critical = 0;
	gnutls_datum_t digest;

	if (signer == NULL) {
		cv_error_set(err, "CRL signer's certificate cannot be read");
		return -1;
	}
	if (have_id && key_known(crl, id)) {
		/* the key verified before; keyUsage belongs to this certificate, check it again */
		if (gnutls_x509_crt_get_key_usage(signer, &usage, &critical) >= 0 &&
		    !(usage & GNUTLS_KEY_CRL_SIGN)) {
			cv_error_set(err, "CRL signer's keyUsage lacks cRLSign");
			return -1;
		}
		return 0;
	}
	if (cv_crl_verify_signature_digest(&crl->info, tbs_digest(crl, &digest), signer,
	                                   verify_flags, err) < 0)
		return -1;
	if (have_id)
		remember_key(crl, id);
	return 0;
}

int
cv_crl_verify_cert(struct cv_crl *crl, const struct cv_cert *signer, unsigned verify_flags,
                   struct cv_error *err)
{
	const struct cv_cert_ku *ku = cv_cert_key_usage(signer);
	const uint8_t *spki;
	uint8_t id[32];
	size_t len;
	bool have_id;
	gnutls_datum_t digest;

	if (ku->present && !(ku->bits & CV_KU_CRL_SIGN)) {
		cv_error_set(err, "CRL signer's keyUsage lacks cRLSign");
		return -1;
	}
	spki = cv_cert_spki(signer, &len);
	have_id = spki != NULL && gnutls_hash_fast(GNUTLS_DIG_SHA256, spki, len, id) >= 0;
	if (have_id && key_known(crl, id))
		return 0;
	if (cv_crl_verify_signature_digest(&crl->info, tbs_digest(crl, &digest),
	                                   cv_cert_crt(signer), verify_flags, err) < 0)
		return -1;
	if (have_id)
		remember_key(crl, id);
	return 0;
}

bool
cv_crl_lookup(const struct cv_crl *crl, const uint8_t *cert_issuer, size_t cert_issuer_len,
              const uint8_t *serial, size_t serial_len, struct cv_crl_entry *out)
{
	return cv_crl_index_lookup(crl->index, crl->info.issuer, crl->info.issuer_len, cert_issuer,
	                           cert_issuer_len, serial, serial_len, out);
}

const struct cv_crl_info *
cv_crl_get_info(const struct cv_crl *crl)
{
	return &crl->info;
}

const uint8_t *
cv_crl_der(const struct cv_crl *crl, size_t *len)
{
	*len = crl->der_len;
	return crl->der;
}

size_t
cv_crl_entries(const struct cv_crl *crl)
{
	return crl->info.n_entries;
}

bool
cv_crl_is_delta(const struct cv_crl *crl)
{
	return crl->info.base_crl_number != NULL;
}

void
cv_crl_number_hex(const struct cv_crl *crl, char *out, size_t out_len)
{
	if (out_len == 0)
		return;
	out[0] = '\0';
	if (crl->info.crl_number == NULL || out_len < 2 * crl->info.crl_number_len + 1)
		return;
	cv_hex_encode(crl->info.crl_number, crl->info.crl_number_len, out);
}

size_t
cv_crl_memory(const struct cv_crl *crl)
{
	return sizeof(*crl) + crl->der_len + (crl->index ? cv_crl_index_memory(crl->index) : 0);
}

struct cv_crl *
cv_crl_ref(struct cv_crl *crl)
{
	atomic_fetch_add(&crl->refs, 1);
	return crl;
}

void
cv_crl_free(struct cv_crl *crl)
{
	if (crl == NULL || atomic_fetch_sub(&crl->refs, 1) != 1)
		return;
	cv_crl_index_free(crl->index);
	free(crl->issuer_text);
	pthread_mutex_destroy(&crl->lock);
	free(crl->der);
	free(crl);
}
