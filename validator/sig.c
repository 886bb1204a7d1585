/* sig.c: one certificate's signature checked with its issuer's key, and the weak-algorithm rule. */
#include <stdio.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "x509int.h"

/* The parts of a Certificate's DER the checks need. */
struct cert_parts {
	struct cv_der tbs;       /* whole TBSCertificate TLV */
	struct cv_der sig;       /* signature bits (unused-bits octet removed) */
	struct cv_der spki_alg;  /* AlgorithmIdentifier content of subjectPublicKeyInfo */
	struct cv_der spki_bits; /* subjectPublicKey bits */
};

static int
cert_split(const struct cv_cert *cert, struct cert_parts *out)
{
	struct cv_der in, c, tbs, f, spki;
	size_t len;
	uint8_t tag;
	int i;

	in.p = cv_cert_der(cert, &len);
	in.len = len;
	if (cv_der_next(&in, &tag, &c, NULL) < 0 || cv_der_next(&c, &tag, &tbs, &out->tbs) < 0 ||
	    cv_der_next(&c, &tag, &f, NULL) < 0 || cv_der_next(&c, &tag, &f, NULL) < 0 ||
	    tag != 0x03 || f.len < 1)
		return -1;
	out->sig.p = f.p + 1;
	out->sig.len = f.len - 1;
	/* [0] version, serial, signature, issuer, validity, subject, subjectPublicKeyInfo */
	if (tbs.len > 0 && tbs.p[0] == 0xa0 && cv_der_next(&tbs, &tag, &f, NULL) < 0)
		return -1;
	for (i = 0; i < 5; i++)
		if (cv_der_next(&tbs, &tag, &f, NULL) < 0)
			return -1;
	if (cv_der_next(&tbs, &tag, &spki, NULL) < 0 ||
	    cv_der_next(&spki, &tag, &out->spki_alg, NULL) < 0 ||
	    cv_der_next(&spki, &tag, &f, NULL) < 0 || tag != 0x03 || f.len < 1)
		return -1;
	out->spki_bits.p = f.p + 1;
	out->spki_bits.len = f.len - 1;
	return 0;
}

bool
cv_sig_key_inherits_params(const struct cv_cert *cert)
{
	struct cert_parts parts;
	struct cv_der oid, alg;
	uint8_t tag;

	if (gnutls_x509_crt_get_pk_algorithm(cv_cert_gnutls(cert), NULL) != GNUTLS_PK_DSA ||
	    cert_split(cert, &parts) < 0)
		return false;
	alg = parts.spki_alg;
	if (cv_der_next(&alg, &tag, &oid, NULL) < 0)
		return false;
	return alg.len == 0 || (alg.len == 2 && alg.p[0] == 0x05); /* absent or NULL */
}

/* A DSA key built from cert's y and the domain parameters of params' key. */
static int
import_dsa_inherited(gnutls_pubkey_t pub, const struct cv_cert *cert, const struct cv_cert *params)
{
	gnutls_datum_t p = {0}, q = {0}, g = {0}, y = {0}, py = {0};
	gnutls_pubkey_t pp = NULL;
	struct cert_parts parts;
	struct cv_der bits, yint;
	uint8_t tag;
	int ret = -1;

	if (cert_split(cert, &parts) < 0)
		return -1;
	bits = parts.spki_bits;
	if (cv_der_next(&bits, &tag, &yint, NULL) < 0 || tag != 0x02)
		return -1;
	if (gnutls_pubkey_init(&pp) < 0 ||
	    gnutls_pubkey_import_x509(pp, cv_cert_gnutls(params), 0) < 0 ||
	    gnutls_pubkey_export_dsa_raw2(pp, &p, &q, &g, &py, 0) < 0)
		goto out;
	y.data = (unsigned char *)(uintptr_t)yint.p;
	y.size = (unsigned)yint.len;
	if (gnutls_pubkey_import_dsa_raw(pub, &p, &q, &g, &y) < 0)
		goto out;
	ret = 0;
out:
	gnutls_free(p.data);
	gnutls_free(q.data);
	gnutls_free(g.data);
	gnutls_free(py.data);
	gnutls_pubkey_deinit(pp);
	return ret;
}

static enum cv_sig_result
verify_once(const struct cv_cert *child, const struct cv_cert *issuer, const struct cv_cert *params)
{
	const unsigned flags = GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1 | GNUTLS_VERIFY_ALLOW_BROKEN;
	gnutls_pubkey_t pub = NULL;
	struct cert_parts parts;
	gnutls_datum_t tbs, sig;
	int algo, ret;
	enum cv_sig_result r = CV_SIG_BAD;

	if (cert_split(child, &parts) < 0 || gnutls_pubkey_init(&pub) < 0)
		goto out;
	if (cv_sig_key_inherits_params(issuer)) {
		if (params == NULL) {
			r = CV_SIG_UNKNOWN;
			goto out;
		}
		if (import_dsa_inherited(pub, issuer, params) < 0)
			goto out;
	} else if (gnutls_pubkey_import_x509(pub, cv_cert_gnutls(issuer), 0) < 0) {
		goto out;
	}
	algo = gnutls_x509_crt_get_signature_algorithm(cv_cert_gnutls(child));
	if (algo <= 0)
		goto out;
	tbs.data = (unsigned char *)(uintptr_t)parts.tbs.p;
	tbs.size = (unsigned)parts.tbs.len;
	sig.data = (unsigned char *)(uintptr_t)parts.sig.p;
	sig.size = (unsigned)parts.sig.len;
	ret = gnutls_pubkey_verify_data2(pub, (gnutls_sign_algorithm_t)algo, flags, &tbs, &sig);
	r = ret >= 0 ? CV_SIG_OK : CV_SIG_BAD;
out:
	gnutls_pubkey_deinit(pub);
	return r;
}

enum cv_sig_result
cv_sig_check(struct cv_sig_cache *cache, const struct cv_cert *child, const struct cv_cert *issuer,
             const struct cv_cert *params)
{
	enum cv_sig_result r;
	size_t i;

	if (!cv_sig_key_inherits_params(issuer))
		params = NULL; /* the parameters play no part: share the cache entry */
	for (i = 0; i < cache->n; i++)
		if (cache->e[i].child == child && cache->e[i].issuer == issuer &&
		    cache->e[i].params == params)
			return cache->e[i].result;
	if (cache->spent >= cache->budget)
		return CV_SIG_LIMIT;
	r = verify_once(child, issuer, params);
	if (r != CV_SIG_UNKNOWN)
		cache->spent++;
	if (cache->n < CV_SIG_CACHE_MAX) {
		cache->e[cache->n].child = child;
		cache->e[cache->n].issuer = issuer;
		cache->e[cache->n].params = params;
		cache->e[cache->n].result = r;
		cache->n++;
	}
	return r;
}

int
cv_sig_weak_check(const struct cv_cert *cert, const struct cv_cert *signer, uint32_t allowed,
                  char *why, size_t why_len)
{
	int algo = gnutls_x509_crt_get_signature_algorithm(cv_cert_gnutls(cert));
	gnutls_digest_algorithm_t dig;
	unsigned bits = 0;
	int pk;

	if (algo <= 0) {
		snprintf(why, why_len, "unknown signature algorithm");
		return -1;
	}
	dig = gnutls_sign_get_hash_algorithm((gnutls_sign_algorithm_t)algo);
	pk = gnutls_sign_get_pk_algorithm((gnutls_sign_algorithm_t)algo);
	if ((dig == GNUTLS_DIG_MD5 || dig == GNUTLS_DIG_MD2) && !(allowed & CV_WEAK_MD5)) {
		snprintf(why, why_len, "signature algorithm %s",
		         gnutls_sign_get_name((gnutls_sign_algorithm_t)algo));
		return -1;
	}
	if (dig == GNUTLS_DIG_SHA1 && !(allowed & CV_WEAK_SHA1)) {
		snprintf(why, why_len, "signature algorithm %s",
		         gnutls_sign_get_name((gnutls_sign_algorithm_t)algo));
		return -1;
	}
	if (pk == GNUTLS_PK_DSA && !(allowed & CV_WEAK_DSA)) {
		snprintf(why, why_len, "DSA signature");
		return -1;
	}
	if (gnutls_x509_crt_get_pk_algorithm(cv_cert_gnutls(signer), &bits) == GNUTLS_PK_RSA) {
		if (bits < 1024 || (bits < 2048 && !(allowed & CV_WEAK_RSA_1024))) {
			snprintf(why, why_len, "RSA key of %u bits", bits);
			return -1;
		}
	}
	return 0;
}
