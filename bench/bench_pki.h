/*
 * bench_pki.h: in-memory benchmark PKIs made with the GnuTLS API (keys, certificates, CRLs).
 *
 * Every function returns 0 or -1 (with a message on stderr); the caller frees what it gets.
 */
#ifndef BENCH_PKI_H
#define BENCH_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

/* A key pair; free with bench_key_free. */
struct bench_key {
	gnutls_x509_privkey_t x;
	gnutls_privkey_t priv; /* wraps x (not owning it) for signing */
};

/* Generates an ECDSA P-256 key, or RSA-2048 when rsa is set. */
int bench_key_generate(struct bench_key *key, bool rsa);

/* An independent copy of key (for another thread). */
int bench_key_copy(const struct bench_key *key, struct bench_key *out);

void bench_key_free(struct bench_key *key);

/* What to put in a certificate. */
struct bench_cert_opts {
	const char *dn;  /* subject, e.g. "CN=leaf 1,O=certval bench" */
	uint64_t serial; /* > 0 */
	bool ca;         /* CA: basicConstraints cA, keyCertSign + cRLSign */
	int pathlen;     /* for a CA: -1 none */
	const char *cdp; /* a CRL distribution point URI, or NULL */
};

/*
 * Issues a certificate for the public half of subject_key, signed by issuer_key with issuer's
 * name (issuer NULL: self-signed). Valid from an hour ago for a year. *out is the caller's
 * (gnutls_x509_crt_deinit).
 */
int bench_cert_issue(const struct bench_cert_opts *opts, const struct bench_key *subject_key,
                     gnutls_x509_crt_t issuer, const struct bench_key *issuer_key,
                     gnutls_x509_crt_t *out);

/* The certificate's DER in base64 (malloc'd), or NULL. */
char *bench_cert_base64(gnutls_x509_crt_t crt);

/* A copy of crt (through its DER). */
int bench_cert_copy(gnutls_x509_crt_t crt, gnutls_x509_crt_t *out);

/* Writes crt as PEM to path. */
int bench_cert_write_pem(gnutls_x509_crt_t crt, const char *path);

/* Writes an empty CRL of issuer (valid from an hour ago for a week), DER or PEM, to path. */
int bench_crl_write(gnutls_x509_crt_t issuer, const struct bench_key *issuer_key, bool pem,
                    const char *path);

/* The same CRL revoking n_revoked serials that no benchmark certificate carries. */
int bench_crl_write_n(gnutls_x509_crt_t issuer, const struct bench_key *issuer_key, bool pem,
                      size_t n_revoked, const char *path);

/* A CRL of issuer (ECDSA P-256 key) revoking n serials no benchmark certificate carries, each
 * entry with a reasonCode, written as DER directly (fast at a million entries); *der_len gets
 * its size. The issuer's key must be ECDSA (P-256). */
int bench_crl_write_big(gnutls_x509_crt_t issuer, const struct bench_key *issuer_key, size_t n,
                        const char *path, size_t *der_len);

#endif
