/*
 * crl.h: one ingested CRL, the object the CRL cache stores: its DER, the metadata read from
 * it, the serial index, and which signer keys have verified it.
 *
 * Ingestion walks the DER once (validator/crl/crl_reader.h), building the index from the
 * entries, then optionally verifies the signature. The object is immutable afterwards except
 * for the remembered verifications (under a lock), so several threads may share it; it is
 * reference counted: the creator holds one reference, cv_crl_ref adds one, cv_crl_free drops
 * one and frees on the last.
 */
#ifndef CV_CRL_H
#define CV_CRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/x509.h>

#include "../../common/error.h"
#include "crl_reader.h"
#include "crl_index.h"

struct cv_crl; /* opaque */

/* Hard cap on a CRL's size (D-3's default; the fetcher applies the configured one). */
#define CV_CRL_MAX_SIZE (64u << 20)

/*
 * Parses, indexes and (when issuer is not NULL) verifies a DER CRL. The DER is copied.
 * verify_flags go to gnutls_pubkey_verify_data2 (0: GnuTLS's defaults). Returns 0 with *out
 * holding one reference, or -1 with err set (a bad signature is an error: fail closed).
 */
int cv_crl_ingest(const uint8_t *der, size_t len, gnutls_x509_crt_t issuer, struct cv_crl **out,
                  struct cv_error *err);
/* The same, taking ownership of a malloc'd buffer (freed by the object, or here on error). */
int cv_crl_ingest_owned(uint8_t *der, size_t len, gnutls_x509_crt_t issuer, unsigned verify_flags,
                        struct cv_crl **out, struct cv_error *err);
/* PEM ("X509 CRL") or DER, as the command line and files give them; copies. */
int cv_crl_ingest_any(const uint8_t *data, size_t len, struct cv_crl **out, struct cv_error *err);
/* The same, taking ownership of a malloc'd buffer: DER is kept as it is (no copy); PEM is
 * decoded into a new buffer and data freed. data is freed on error too. */
int cv_crl_ingest_any_owned(uint8_t *data, size_t len, struct cv_crl **out, struct cv_error *err);

/*
 * Verifies the CRL's signature with signer (keyUsage cRLSign required when keyUsage is
 * present). A key that verified once is remembered (SHA-256 of its SubjectPublicKeyInfo), so
 * later calls with it cost a hash of the key, not of the CRL. Returns 0 or -1 with err set.
 */
int cv_crl_verify(struct cv_crl *crl, gnutls_x509_crt_t signer, unsigned verify_flags,
                  struct cv_error *err);

struct cv_cert;
/*
 * The same for a parsed certificate: its keyUsage is the parsed one and its key's identity the
 * SHA-256 of its SubjectPublicKeyInfo bytes, so a key verified before costs no GnuTLS call
 * (the per-verdict path, issue 13); the GnuTLS object is used only to verify the first time.
 */
int cv_crl_verify_cert(struct cv_crl *crl, const struct cv_cert *signer, unsigned verify_flags,
                       struct cv_error *err);

/*
 * Looks up a certificate: cert_issuer is the whole DER Name of the certificate's issuer (for
 * indirect CRLs; NULL matches any issuer), serial the INTEGER contents of its serial number.
 * Returns true when listed, with *out filled. O(1) expected.
 */
bool cv_crl_lookup(const struct cv_crl *crl, const uint8_t *cert_issuer, size_t cert_issuer_len,
                   const uint8_t *serial, size_t serial_len, struct cv_crl_entry *out);

/* Metadata; the pointers inside live as long as the object. */
const struct cv_crl_info *cv_crl_get_info(const struct cv_crl *crl);
/* The issuer's name as RFC 4514 text (rendered at ingest), or "?". */
const char *cv_crl_issuer_text(const struct cv_crl *crl);
const uint8_t *cv_crl_der(const struct cv_crl *crl, size_t *len);
size_t cv_crl_entries(const struct cv_crl *crl);
bool cv_crl_is_delta(const struct cv_crl *crl);
/* The CRL number as upper-case hex ("" when absent); out holds at least 2*21+1 bytes. */
void cv_crl_number_hex(const struct cv_crl *crl, char *out, size_t out_len);
/* Heap bytes held by the object: DER copy, index and the object itself. */
size_t cv_crl_memory(const struct cv_crl *crl);

struct cv_crl *cv_crl_ref(struct cv_crl *crl);
void cv_crl_free(struct cv_crl *crl); /* drops one reference; NULL is fine */

#endif
