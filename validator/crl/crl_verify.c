/* crl_verify.c: CRL signature verification over the raw tbsCertList with GnuTLS. */
#include "crl_verify.h"

#include <stdio.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

/* The signature algorithm of info; GNUTLS_SIGN_UNKNOWN with err set when it is not known. */
static gnutls_sign_algorithm_t
sign_algorithm(const struct cv_crl_info *info, struct cv_error *err)
{
	char oid[128];
	gnutls_sign_algorithm_t algo;

	if (cv_asn1_oid_text(info->sig_alg_oid, info->sig_alg_oid_len, oid, sizeof(oid)) < 0) {
		cv_error_set(err, "CRL signature algorithm: malformed OID");
		return GNUTLS_SIGN_UNKNOWN;
	}
	algo = gnutls_oid_to_sign(oid);
	if (algo == GNUTLS_SIGN_UNKNOWN)
		cv_error_set(err, "CRL signature algorithm %s not supported", oid);
	return algo;
}

unsigned
cv_crl_tbs_digest(const struct cv_crl_info *info, uint8_t out[64])
{
	struct cv_error ignored;
	const gnutls_sign_algorithm_t algo = sign_algorithm(info, &ignored);
	const gnutls_pk_algorithm_t pk = gnutls_sign_get_pk_algorithm(algo);
	const gnutls_digest_algorithm_t hash = gnutls_sign_get_hash_algorithm(algo);
	const unsigned len = gnutls_hash_get_len(hash);

	if (algo == GNUTLS_SIGN_UNKNOWN ||
	    (pk != GNUTLS_PK_RSA && pk != GNUTLS_PK_ECDSA && pk != GNUTLS_PK_DSA) || len == 0 ||
	    len > 64 || gnutls_hash_fast(hash, info->tbs, info->tbs_len, out) < 0)
		return 0;
	return len;
}

/* The signature check itself: over the digest when there is one, else over the message. */
static int
verify(const struct cv_crl_info *info, const gnutls_datum_t *digest, gnutls_pubkey_t key,
       gnutls_x509_crt_t signer, unsigned flags, struct cv_error *err)
{
	gnutls_datum_t data, sig;
	unsigned usage = 0, critical = 0;
	gnutls_sign_algorithm_t algo;
	int rc;

	if (signer == NULL) { /* GnuTLS could not read the certificate: nothing to check with */
		cv_error_set(err, "CRL signer's certificate cannot be read");
		return -1;
	}
	if (gnutls_x509_crt_get_key_usage(signer, &usage, &critical) >= 0 &&
	    !(usage & GNUTLS_KEY_CRL_SIGN)) {
		cv_error_set(err, "CRL signer's keyUsage lacks cRLSign");
		return -1;
	}
	if ((algo = sign_algorithm(info, err)) == GNUTLS_SIGN_UNKNOWN)
		return -1;
	data.data = (unsigned char *)info->tbs;
	data.size = (unsigned)info->tbs_len;
	sig.data = (unsigned char *)info->signature;
	sig.size = (unsigned)info->signature_len;
	/* the same checks either way: key fits the algorithm, weak algorithms need flags */
	rc = digest != NULL && digest->size > 0
	         ? gnutls_pubkey_verify_hash2(key, algo, flags, digest, &sig)
	         : gnutls_pubkey_verify_data2(key, algo, flags, &data, &sig);
	if (rc < 0) {
		cv_error_set(err, "CRL signature does not verify (%s: %s)",
		             gnutls_sign_get_name((gnutls_sign_algorithm_t)algo),
		             gnutls_strerror(rc));
		return -1;
	}
	return 0;
}

int
cv_crl_verify_signature_key(const struct cv_crl_info *info, gnutls_pubkey_t key,
                            gnutls_x509_crt_t signer, unsigned flags, struct cv_error *err)
{
	return verify(info, NULL, key, signer, flags, err);
}

int
cv_crl_verify_signature(const struct cv_crl_info *info, gnutls_x509_crt_t signer, unsigned flags,
                        struct cv_error *err)
{
	return cv_crl_verify_signature_digest(info, NULL, signer, flags, err);
}

int
cv_crl_verify_signature_digest(const struct cv_crl_info *info, const gnutls_datum_t *digest,
                               gnutls_x509_crt_t signer, unsigned flags, struct cv_error *err)
{
	gnutls_pubkey_t key = NULL;
	int rc = -1;

	if (gnutls_pubkey_init(&key) < 0 || gnutls_pubkey_import_x509(key, signer, 0) < 0)
		cv_error_set(err, "CRL signer's public key cannot be read");
	else
		rc = verify(info, digest, key, signer, flags, err);
	if (key != NULL)
		gnutls_pubkey_deinit(key);
	return rc;
}

int
cv_crl_signer_key_id(gnutls_x509_crt_t signer, uint8_t out[32])
{
	gnutls_pubkey_t key = NULL;
	uint8_t buf[16384];
	size_t len = sizeof(buf);
	int rc = -1;

	if (gnutls_pubkey_init(&key) < 0)
		return -1;
	if (gnutls_pubkey_import_x509(key, signer, 0) >= 0 &&
	    gnutls_pubkey_export(key, GNUTLS_X509_FMT_DER, buf, &len) >= 0 &&
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, len, out) >= 0)
		rc = 0;
	gnutls_pubkey_deinit(key);
	return rc;
}
