/*
 * crl_verify.h: checks a CRL's signature over its raw tbsCertList bytes with a candidate
 * issuer's public key, through GnuTLS's public-key primitives (no GnuTLS CRL parsing).
 */
#ifndef CV_CRL_VERIFY_H
#define CV_CRL_VERIFY_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../../common/error.h"
#include "crl_reader.h"

/*
 * Verifies info's signature with signer's public key. When signer has a keyUsage extension
 * it must assert cRLSign. flags are gnutls_certificate_verify_flags passed to
 * gnutls_pubkey_verify_data2 (e.g. GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1); 0 uses GnuTLS's
 * defaults. Does not compare names: the caller decides which signer fits which CRL.
 * Returns 0 when the signature verifies, -1 with err set otherwise.
 */
int cv_crl_verify_signature(const struct cv_crl_info *info, gnutls_x509_crt_t signer,
                            unsigned flags, struct cv_error *err);

/* The same with the tbsCertList already hashed with the signature algorithm's hash (at
 * ingest, off the event loop: issue 13); digest NULL or empty: the tbsCertList is hashed. */
int cv_crl_verify_signature_digest(const struct cv_crl_info *info, const gnutls_datum_t *digest,
                                   gnutls_x509_crt_t signer, unsigned flags, struct cv_error *err);

/* Hashes info's tbsCertList with the hash of its signature algorithm into out (at most 64
 * octets) when the algorithm signs a digest (RSA PKCS#1 v1.5, ECDSA, DSA); the length, or 0
 * when it does not apply (RSA-PSS, EdDSA, unknown: verified over the message). */
unsigned cv_crl_tbs_digest(const struct cv_crl_info *info, uint8_t out[64]);

/* The SHA-256 of signer's SubjectPublicKeyInfo, to remember which key verified a CRL. */
int cv_crl_signer_key_id(gnutls_x509_crt_t signer, uint8_t out[32]);

/* The same check with a public key already built (e.g. DSA parameters inherited, RFC 5280
 * 6.1.4 (f)); signer still supplies the keyUsage. */
int cv_crl_verify_signature_key(const struct cv_crl_info *info, gnutls_pubkey_t key,
                                gnutls_x509_crt_t signer, unsigned flags, struct cv_error *err);

#endif
