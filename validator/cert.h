/*
 * cert.h: X.509 certificates as the rest of certval sees them: loaded from PEM or DER through
 * GnuTLS, reference counted, with the text forms (names, serial) computed once.
 */
#ifndef CV_CERT_H
#define CV_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/x509.h>

#include "../common/clock.h"
#include "../common/error.h"

struct cv_cert; /* opaque, reference counted */

/* An owning list of certificates (each element holds one reference). */
struct cv_cert_list {
	struct cv_cert **v;
	size_t n;
	size_t cap;
};

#define CV_CERT_FILE_MAX (4u << 20) /* a certificate file larger than 4 MiB is refused */

/* Parses one DER certificate; strict (trailing bytes refused). Returns 0 or -1 with err set. */
int cv_cert_from_der(const uint8_t *der, size_t len, struct cv_cert **out, struct cv_error *err);

/*
 * Appends every certificate of a buffer: one DER certificate, or PEM text holding one or more
 * "CERTIFICATE" blocks (other PEM blocks are ignored; a buffer with no certificate is an error).
 */
int cv_cert_list_parse(struct cv_cert_list *list, const uint8_t *data, size_t len,
                       struct cv_error *err);

/* cv_cert_list_parse on a file's contents; the error names the file. */
int cv_cert_list_load_file(struct cv_cert_list *list, const char *path, struct cv_error *err);

/* Appends one more reference to cert. Returns 0 or -1 (out of memory). */
int cv_cert_list_push(struct cv_cert_list *list, struct cv_cert *cert);
void cv_cert_list_free(struct cv_cert_list *list); /* drops every reference; list reusable */

struct cv_cert *cv_cert_ref(struct cv_cert *cert);
void cv_cert_unref(struct cv_cert *cert); /* NULL is fine */

gnutls_x509_crt_t cv_cert_gnutls(const struct cv_cert *cert);
const uint8_t *cv_cert_der(const struct cv_cert *cert, size_t *len);

/* RFC 4514 text of the names as GnuTLS prints them (most significant RDN last). */
const char *cv_cert_subject(const struct cv_cert *cert);
const char *cv_cert_issuer(const struct cv_cert *cert);
/* The serial as upper-case hex without separators or leading zeros ("0" for zero). */
const char *cv_cert_serial(const struct cv_cert *cert);
/* The raw DER of the subject and issuer Names, for exact name chaining. */
const uint8_t *cv_cert_subject_der(const struct cv_cert *cert, size_t *len);
const uint8_t *cv_cert_issuer_der(const struct cv_cert *cert, size_t *len);

cv_time cv_cert_not_before(const struct cv_cert *cert);
cv_time cv_cert_not_after(const struct cv_cert *cert);

bool cv_cert_is_self_issued(const struct cv_cert *cert);              /* subject equals issuer */
bool cv_cert_equal(const struct cv_cert *a, const struct cv_cert *b); /* same DER */

/* The SHA-256 of the DER (32 bytes), computed once: the certificate's identity in caches. */
const uint8_t *cv_cert_sha256(const struct cv_cert *cert);

/* Upper-case hex digest of the DER (GNUTLS_DIG_SHA1, _SHA256, _MD5); out >= 2*64+1. */
int cv_cert_fingerprint(const struct cv_cert *cert, gnutls_digest_algorithm_t algo, char *out,
                        size_t out_len);

#endif
