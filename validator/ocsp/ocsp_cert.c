/*
 * ocsp_cert.c: the OCSP client core's interface on certval certificates (struct cv_cert):
 * the rest of certval builds requests, computes CertIDs and checks responses through these,
 * and never sees the GnuTLS certificate objects ocsp_request.c and ocsp_response.c work on.
 */
#include <stdlib.h>
#include <string.h>

#include "../cert_crt.h"
#include "ocsp.h"

#define EXTRA_CERTS_MAX 16

int
cv_ocsp_request_build_cert(const struct cv_cert *cert, const struct cv_cert *issuer,
                           gnutls_digest_algorithm_t digest, const uint8_t *nonce, size_t nonce_len,
                           struct cv_ocsp_request *req, struct cv_error *err)
{
	if (cv_cert_crt(cert) == NULL || cv_cert_crt(issuer) == NULL) {
		cv_error_set(err, "OCSP request: GnuTLS cannot read the certificate or its issuer");
		return -1;
	}
	return cv_ocsp_request_build(cv_cert_crt(cert), cv_cert_crt(issuer), digest, nonce,
	                             nonce_len, req, err);
}

int
cv_ocsp_certid_compute_cert(const struct cv_cert *cert, const struct cv_cert *issuer,
                            gnutls_digest_algorithm_t digest, struct cv_ocsp_certid *out,
                            struct cv_error *err)
{
	if (cv_cert_crt(cert) == NULL || cv_cert_crt(issuer) == NULL) {
		cv_error_set(err, "OCSP CertID: GnuTLS cannot read the certificate or its issuer");
		return -1;
	}
	return cv_ocsp_certid_compute(cv_cert_crt(cert), cv_cert_crt(issuer), digest, out, err);
}

/* A certval certificate from a GnuTLS one (a certificate a response carried). */
static int
cert_from_crt(gnutls_x509_crt_t crt, struct cv_cert **out)
{
	gnutls_datum_t der = {NULL, 0};
	int rc = -1;

	*out = NULL;
	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) == 0)
		rc = cv_cert_from_der(der.data, der.size, out, NULL);
	gnutls_free(der.data);
	return rc;
}

struct adapter {
	cv_ocsp_responder_cert_fn fn;
	void *arg;
};

/* The GnuTLS-typed callback of ocsp_response.c, forwarded on certval certificates. A
 * responder that certval cannot read is refused; unreadable extra certificates are left out. */
static int
adapt(void *arg, gnutls_x509_crt_t responder, const gnutls_x509_crt_t *extra, size_t n)
{
	const struct adapter *a = arg;
	struct cv_cert *resp = NULL, *certs[EXTRA_CERTS_MAX];
	size_t k = 0, i;
	int rc = -1;

	if (cert_from_crt(responder, &resp) < 0)
		return -1;
	for (i = 0; i < n && k < EXTRA_CERTS_MAX; i++)
		if (cert_from_crt(extra[i], &certs[k]) == 0)
			k++;
	rc = a->fn(a->arg, resp, certs, k);
	for (i = 0; i < k; i++)
		cv_cert_unref(certs[i]);
	cv_cert_unref(resp);
	return rc;
}

int
cv_ocsp_response_check_cert(const uint8_t *der, size_t der_len, const struct cv_cert *cert,
                            const struct cv_cert *issuer, const struct cv_ocsp_params *params,
                            cv_ocsp_responder_cert_fn validate, void *validate_arg,
                            struct cv_ocsp_result *result)
{
	struct adapter a = {validate, validate_arg};
	struct cv_ocsp_params p = *params;

	p.validate_responder = validate != NULL ? adapt : NULL;
	p.validate_responder_arg = validate != NULL ? &a : NULL;
	return cv_ocsp_response_check(der, der_len, cv_cert_crt(cert), cv_cert_crt(issuer), &p,
	                              result);
}
