/*
 * cert_crt.h: the GnuTLS side of a parsed certificate, for the validator's own sub-libraries
 * (validator/crl for CRL signatures, validator/ocsp for CertIDs and responder checks). Not for
 * modules above validator/: they read the parsed fields of cert.h. The rest of the validator's
 * internals are x509int.h, which includes this header.
 */
#ifndef CV_CERT_CRT_H
#define CV_CERT_CRT_H

#include <stdbool.h>

#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "cert.h"

/* The GnuTLS object of a certificate (cert.c), owned by cert. */
gnutls_x509_crt_t cv_cert_crt(const struct cv_cert *cert);

/* The subject public key as GnuTLS imports it (once, on the first call, from any thread), or
 * NULL when it cannot (a DSA key without its parameters, an unknown algorithm). Owned by cert
 * and never changed once made: signature checks on any thread may verify with it, nothing may
 * modify it. */
gnutls_pubkey_t cv_cert_pubkey(const struct cv_cert *cert);

/* True when the key of cert is DSA with absent domain parameters (sig.c). */
bool cv_sig_key_inherits_params(const struct cv_cert *cert);

/* Imports into pub the DSA key of cert with the domain parameters of params' key (RFC 5280
 * 6.1.4 (f); sig.c). 0 or -1. */
int cv_sig_import_inherited(gnutls_pubkey_t pub, const struct cv_cert *cert,
                            const struct cv_cert *params);

#endif
