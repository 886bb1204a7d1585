/* sig.c: one certificate's signature checked with its issuer's key, and the weak-algorithm rule. */
#include <stdio.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "links.h"
#include "x509int.h"

/* The parts of a Certificate's DER the checks need (views into the certificate's DER). */
struct cert_parts {
	struct cv_asn1_elem tbs;      /* TBSCertificate (raw: the signed bytes) */
	struct cv_asn1_elem spki;     /* SubjectPublicKeyInfo (raw: what keys are imported from) */
	struct cv_asn1_elem spki_alg; /* AlgorithmIdentifier of subjectPublicKeyInfo */
	const uint8_t *sig, *key;     /* signatureValue and subjectPublicKey octets */
	size_t sig_len, key_len;
};

/* A BIT STRING that must hold whole octets (signatures, public keys). */
static int
octet_bits(struct cv_asn1 *d, const uint8_t **p, size_t *len)
{
	struct cv_asn1_elem e;
	unsigned unused;

	if (cv_asn1_expect(d, CV_ASN1_BIT_STRING, &e) < 0 ||
	    cv_asn1_bit_string(&e, p, len, &unused) < 0)
		return -1;
	return unused == 0 ? 0 : -1;
}

/*
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
 * TBSCertificate ::= SEQUENCE { version [0] EXPLICIT OPTIONAL, serialNumber, signature,
 *      issuer, validity, subject, subjectPublicKeyInfo, ... }
 * SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
 */
static int
cert_split(const struct cv_cert *cert, struct cert_parts *out)
{
	struct cv_asn1 d, c, tbs, spki;
	struct cv_asn1_elem e;
	const uint8_t *der;
	size_t len;
	bool present;
	int i;

	der = cv_cert_der(cert, &len);
	cv_asn1_init(&d, der, len);
	if (cv_asn1_enter(&d, CV_ASN1_SEQUENCE, &c) < 0 || cv_asn1_finish(&d) < 0 ||
	    cv_asn1_expect(&c, CV_ASN1_SEQUENCE, &out->tbs) < 0 ||
	    cv_asn1_expect(&c, CV_ASN1_SEQUENCE, &e) < 0 ||
	    octet_bits(&c, &out->sig, &out->sig_len) < 0 || cv_asn1_finish(&c) < 0)
		return -1;
	cv_asn1_open(&out->tbs, &tbs);
	if (cv_asn1_optional(&tbs, CV_ASN1_CTX_CONS(0), &e, &present) < 0 ||
	    cv_asn1_expect(&tbs, CV_ASN1_INTEGER, &e) < 0)
		return -1;
	for (i = 0; i < 4; i++) /* signature, issuer, validity, subject */
		if (cv_asn1_expect(&tbs, CV_ASN1_SEQUENCE, &e) < 0)
			return -1;
	if (cv_asn1_expect(&tbs, CV_ASN1_SEQUENCE, &out->spki) < 0)
		return -1;
	cv_asn1_open(&out->spki, &spki);
	if (cv_asn1_expect(&spki, CV_ASN1_SEQUENCE, &out->spki_alg) < 0 ||
	    octet_bits(&spki, &out->key, &out->key_len) < 0)
		return -1;
	return cv_asn1_finish(&spki);
}

bool
cv_sig_key_inherits_params(const struct cv_cert *cert)
{
	struct cert_parts parts;
	struct cv_asn1 alg;
	struct cv_asn1_elem oid, params;

	if (cv_cert_public_key(cert)->kind != CV_KEY_DSA || cert_split(cert, &parts) < 0)
		return false;
	cv_asn1_open(&parts.spki_alg, &alg);
	if (cv_asn1_expect(&alg, CV_ASN1_OID, &oid) < 0)
		return false;
	if (cv_asn1_empty(&alg))
		return true; /* parameters absent */
	return cv_asn1_expect(&alg, CV_ASN1_NULL, &params) == 0 && params.len == 0 &&
	       cv_asn1_empty(&alg);
}

/*
 * A DSA key built from cert's y (DSAPublicKey ::= INTEGER) and the parameters of params' key,
 * read from params' own key (cv_cert_pubkey: imported once, and exporting only reads it; the
 * shared certificate's GnuTLS object is not used, as GnuTLS does not promise that two threads
 * may read one gnutls_x509_crt_t at once).
 */
int
cv_sig_import_inherited(gnutls_pubkey_t pub, const struct cv_cert *cert,
                        const struct cv_cert *params)
{
	gnutls_datum_t p = {0}, q = {0}, g = {0}, y = {0}, py = {0};
	gnutls_pubkey_t pp;
	struct cert_parts parts;
	struct cv_asn1 key;
	struct cv_asn1_elem yint;
	int ret = -1;

	if (cert_split(cert, &parts) < 0)
		return -1;
	cv_asn1_init(&key, parts.key, parts.key_len);
	if (cv_asn1_expect(&key, CV_ASN1_INTEGER, &yint) < 0 || cv_asn1_finish(&key) < 0)
		return -1;
	if ((pp = cv_cert_pubkey(params)) == NULL ||
	    gnutls_pubkey_export_dsa_raw2(pp, &p, &q, &g, &py, 0) < 0)
		goto out;
	y.data = (unsigned char *)(uintptr_t)yint.val;
	y.size = (unsigned)yint.len;
	if (gnutls_pubkey_import_dsa_raw(pub, &p, &q, &g, &y) < 0)
		goto out;
	ret = 0;
out:
	gnutls_free(p.data);
	gnutls_free(q.data);
	gnutls_free(g.data);
	gnutls_free(py.data);
	return ret;
}

static enum cv_sig_result
verify_once(const struct cv_cert *child, const struct cv_cert *issuer, const struct cv_cert *params)
{
	const unsigned flags = GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1 | GNUTLS_VERIFY_ALLOW_BROKEN;
	gnutls_pubkey_t pub = NULL, own = NULL; /* own: imported here, freed here */
	struct cert_parts parts;
	gnutls_datum_t tbs, sig;
	int algo, ret;
	enum cv_sig_result r = CV_SIG_BAD;

	if (cert_split(child, &parts) < 0)
		goto out;
	if (cv_sig_key_inherits_params(issuer)) {
		if (params == NULL) {
			r = CV_SIG_UNKNOWN;
			goto out;
		}
		if (gnutls_pubkey_init(&own) < 0 ||
		    cv_sig_import_inherited(own, issuer, params) < 0)
			goto out;
		pub = own;
	} else if ((pub = cv_cert_pubkey(issuer)) == NULL) {
		goto out; /* GnuTLS cannot import the issuer's key */
	}
	algo = cv_cert_signature_algorithm(child);
	if (algo <= 0)
		goto out;
	tbs.data = (unsigned char *)(uintptr_t)parts.tbs.raw;
	tbs.size = (unsigned)parts.tbs.raw_len;
	sig.data = (unsigned char *)(uintptr_t)parts.sig;
	sig.size = (unsigned)parts.sig_len;
	ret = gnutls_pubkey_verify_data2(pub, (gnutls_sign_algorithm_t)algo, flags, &tbs, &sig);
	r = ret >= 0 ? CV_SIG_OK : CV_SIG_BAD;
out:
	if (own != NULL)
		gnutls_pubkey_deinit(own);
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
	if (cv_link_cache_known(cache->links, child, issuer, params)) {
		r = CV_SIG_OK; /* verified by an earlier request: no budget spent */
		goto remember;
	}
	if (cache->spent >= cache->budget)
		return CV_SIG_LIMIT;
	r = verify_once(child, issuer, params);
	if (r != CV_SIG_UNKNOWN)
		cache->spent++;
	if (r == CV_SIG_OK)
		cv_link_cache_add(cache->links, child, issuer, params);
remember:
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
cv_sig_weak_check(const struct cv_cert *cert, uint32_t allowed, uint32_t *used, char *why,
                  size_t why_len)
{
	const int algo = cv_cert_signature_algorithm(cert);
	gnutls_digest_algorithm_t dig;
	uint32_t need = 0;

	if (algo <= 0) {
		snprintf(why, why_len, "unknown signature algorithm");
		return -1;
	}
	dig = gnutls_sign_get_hash_algorithm((gnutls_sign_algorithm_t)algo);
	if (dig == GNUTLS_DIG_MD5 || dig == GNUTLS_DIG_MD2)
		need |= CV_WEAK_MD5;
	if (dig == GNUTLS_DIG_SHA1)
		need |= CV_WEAK_SHA1;
	if (gnutls_sign_get_pk_algorithm((gnutls_sign_algorithm_t)algo) == GNUTLS_PK_DSA)
		need |= CV_WEAK_DSA;
	if ((need & ~allowed) == CV_WEAK_DSA) {
		snprintf(why, why_len, "DSA signature");
		return -1;
	}
	if (need & ~allowed) {
		snprintf(why, why_len, "signature algorithm %s",
		         cv_cert_signature_algorithm_name(cert));
		return -1;
	}
	*used |= need;
	return 0;
}
