/*
 * ocsp.h: the OCSP client core (RFC 6960, RFC 5019, RFC 8954 nonces) without network I/O.
 *
 * This module builds requests (DER for HTTP POST, the RFC 5019 URL for GET) and validates
 * responses; the fetcher moves the bytes and the revocation code decides what an answer means
 * for the method order (SPEC R14). It is pure: every input (certificate, issuer, time, nonce
 * policy and the nonce that was sent, tolerances) comes from the caller, and nothing reads the
 * system clock. GnuTLS (gnutls/ocsp.h) does all ASN.1 and signature work.
 *
 * Decisions (SPEC R28-R30, O-7 to O-10, D-1):
 *  - A response is usable only when every check passes; any failure, and the status `unknown`,
 *    is "no answer" for the method order (O-9, D-1). cv_ocsp_response_check never turns an
 *    error into `good`: on failure result->status is CV_OCSP_STATUS_ERROR.
 *  - Signers, tried in this order: (1) the certificate's issuer itself; (2) a delegated
 *    responder certified by that issuer, which must carry id-kp-OCSPSigning; (3) when the
 *    caller passes validate_responder (an `override ocsp trustpoint TP` is in force), a
 *    responder certificate the callback accepts, which must also carry id-kp-OCSPSigning
 *    unless it is self-signed (then the trustpoint anchors exactly that certificate).
 *    The responder certificate must be within its validity period at the validation time.
 *    For (2) and (3), unless the certificate carries id-pkix-ocsp-nocheck, the result asks the
 *    caller to check the responder certificate's own status with CRLs only (O-10).
 *  - Times: thisUpdate and producedAt may lie at most `skew` seconds after the validation time;
 *    the response is stale once the validation time passes nextUpdate + skew. A response
 *    without nextUpdate is usable until thisUpdate + no_next_update_ttl (default 300 s): such
 *    a responder promises nothing about later state, so its answer counts only while fresh.
 *    max_age, when set, also caps thisUpdate's age for responses that carry nextUpdate.
 *    result.valid_until is the end of that window without the skew.
 *  - Nonces (D-1): `require` (default) refuses a response without the nonce sent and names
 *    `ocsp nonce if-echoed` and `ocsp disable-nonce` in the error; `if-echoed` accepts a
 *    missing nonce; any different nonce is an error under both; `disabled` sends none and
 *    checks none.
 *  - The CertID hash is SHA-1 by default (RFC 5019 responders expect it); the response's
 *    CertID must match the one asked for: hash algorithm, issuer name hash and issuer key hash
 *    exactly, the serial by value. A non-minimally encoded serial in a response is malformed
 *    (not another certificate), and the whole response is refused.
 *  - Every SingleResponse is examined (at most CV_OCSP_SINGLE_RESPONSES_MAX, else refused):
 *    two for the certificate asked for that disagree (good and revoked, in either order; or
 *    either and unknown) make the response unusable ("malformed"), never good; the next
 *    method decides. A critical singleExtension anywhere (none is processed) and a critical
 *    responseExtension other than the nonce make it unusable too, as does a producedAt earlier
 *    than the thisUpdate of the answer (RFC 6960 4.2.2.1: signed before it was known).
 */
#ifndef CV_OCSP_H
#define CV_OCSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../../common/clock.h"
#include "../../common/error.h"
#include "../cert.h"

#define CV_OCSP_NONCE_MIN            1  /* RFC 8954 */
#define CV_OCSP_NONCE_MAX            32 /* RFC 8954 */
#define CV_OCSP_NONCE_DEFAULT        16 /* D-1 `ocsp nonce length` default */
#define CV_OCSP_SKEW_DEFAULT         300
#define CV_OCSP_NO_NEXT_TTL          300
#define CV_OCSP_HASH_MAX             64            /* SHA-512 */
#define CV_OCSP_SERIAL_MAX           64            /* bytes of the serial INTEGER's contents */
#define CV_OCSP_GET_MAX              255           /* RFC 5019: GET only below this encoded size */
#define CV_OCSP_RESPONSE_MAX         (64u * 1024u) /* D-3 OCSP response cap */
#define CV_OCSP_CACHE_KEY_LEN        65            /* 64 hex digits + NUL */
#define CV_OCSP_SIGNER_MAX           512
#define CV_OCSP_SINGLE_RESPONSES_MAX 1024 /* SingleResponses examined per response */

enum cv_ocsp_nonce_mode {
	CV_OCSP_NONCE_REQUIRE = 0, /* `ocsp nonce require` (default) */
	CV_OCSP_NONCE_IF_ECHOED,   /* `ocsp nonce if-echoed` */
	CV_OCSP_NONCE_DISABLED,    /* `ocsp disable-nonce` */
};

/* What happened to the nonce; names are the verdict's evidence strings. */
enum cv_ocsp_nonce_outcome {
	CV_OCSP_NONCE_OUT_NONE = 0, /* not examined (the response failed earlier): "" */
	CV_OCSP_NONCE_OUT_ECHOED,   /* "sent-echoed" */
	CV_OCSP_NONCE_OUT_MISSING,  /* "sent-missing" (an error under require) */
	CV_OCSP_NONCE_OUT_MISMATCH, /* "mismatch" (always an error) */
	CV_OCSP_NONCE_OUT_DISABLED, /* "disabled": none sent, none checked */
};

enum cv_ocsp_status {
	CV_OCSP_STATUS_ERROR = 0, /* no usable answer; see result.error */
	CV_OCSP_STATUS_GOOD,
	CV_OCSP_STATUS_REVOKED,
	CV_OCSP_STATUS_UNKNOWN, /* a valid response saying "unknown": still no answer (O-9) */
};

/* Why a response was refused (for trace details and tests); names via cv_ocsp_err_name. */
enum cv_ocsp_err {
	CV_OCSP_OK = 0,
	CV_OCSP_ERR_INTERNAL,        /* "internal" (memory, library failure, bad arguments) */
	CV_OCSP_ERR_MALFORMED,       /* "malformed": not a DER OCSPResponse, or unsupported shape */
	CV_OCSP_ERR_RESPONSE_STATUS, /* "response-status": tryLater, unauthorized, ... */
	CV_OCSP_ERR_SIGNER,          /* "signer": no acceptable signer certificate */
	CV_OCSP_ERR_SIGNATURE,       /* "signature": the signature does not verify */
	CV_OCSP_ERR_CERTID,          /* "certid": no SingleResponse for the CertID asked */
	CV_OCSP_ERR_FUTURE,          /* "not-yet-valid": thisUpdate/producedAt too far ahead */
	CV_OCSP_ERR_STALE,           /* "stale": nextUpdate passed, or too old */
	CV_OCSP_ERR_NONCE,           /* "nonce": missing under require, or different */
};

/* The certificate identifier of RFC 6960 4.1.1, in raw bytes. */
struct cv_ocsp_certid {
	gnutls_digest_algorithm_t digest;
	uint8_t name_hash[CV_OCSP_HASH_MAX];
	size_t name_hash_len;
	uint8_t key_hash[CV_OCSP_HASH_MAX];
	size_t key_hash_len;
	uint8_t serial[CV_OCSP_SERIAL_MAX];
	size_t serial_len;
};

/* A built request. der is malloc'd and owned by the struct: release with cv_ocsp_request_clear. */
struct cv_ocsp_request {
	uint8_t *der;
	size_t der_len;
	struct cv_ocsp_certid certid;
	uint8_t nonce[CV_OCSP_NONCE_MAX];
	size_t nonce_len; /* 0: no nonce extension was put in the request */
};

/* Responder certificate check by the caller (override trustpoint, R27/R30): return 0 to accept
 * responder (extra_certs are the certificates the response carried, for path building), any
 * other value to refuse it. The callback must not keep the pointers. */
typedef int (*cv_ocsp_validate_responder_fn)(void *arg, gnutls_x509_crt_t responder,
                                             const gnutls_x509_crt_t *extra_certs, size_t n);

struct cv_ocsp_params {
	cv_time at; /* the validation time */
	enum cv_ocsp_nonce_mode nonce_mode;
	const uint8_t *nonce; /* the nonce sent (ignored when nonce_mode is disabled) */
	size_t nonce_len;
	int64_t skew;                     /* seconds; default CV_OCSP_SKEW_DEFAULT */
	int64_t no_next_update_ttl;       /* seconds; default CV_OCSP_NO_NEXT_TTL */
	int64_t max_age;                  /* seconds; 0 = no limit beyond nextUpdate */
	gnutls_digest_algorithm_t digest; /* CertID hash asked for; default GNUTLS_DIG_SHA1 */
	cv_ocsp_validate_responder_fn validate_responder; /* NULL: no override trustpoint */
	void *validate_responder_arg;
};

enum cv_ocsp_signer_kind {
	CV_OCSP_SIGNER_NONE = 0,
	CV_OCSP_SIGNER_ISSUER,    /* "issuer": the certificate's own CA */
	CV_OCSP_SIGNER_DELEGATED, /* "delegated": certified by that CA for OCSPSigning */
	CV_OCSP_SIGNER_TRUSTED,   /* "trusted": accepted by validate_responder */
};

/*
 * The outcome of one response. Times are CV_TIME_NONE when absent. On error, fields filled
 * before the failure are kept for diagnostics only. responder_der is malloc'd (owned by the
 * result; release with cv_ocsp_result_clear) and set when responder_needs_check is true.
 */
struct cv_ocsp_result {
	enum cv_ocsp_status status;
	enum cv_ocsp_err err;
	char error[CV_ERROR_MAX]; /* one sentence; "" when status is not ERROR */

	cv_time produced_at;
	cv_time this_update;
	cv_time next_update;
	cv_time valid_until; /* end of the usable window: what a cache may keep it for */
	cv_time revoked_at;
	int revocation_reason; /* gnutls_x509_crl_reason_t, -1 when not revoked */

	enum cv_ocsp_nonce_outcome nonce;
	enum cv_ocsp_signer_kind signer_kind;
	char signer[CV_OCSP_SIGNER_MAX]; /* the signing certificate's subject (RFC 4514) */

	bool responder_needs_check; /* delegated/trusted responder without id-pkix-ocsp-nocheck */
	uint8_t *responder_der;
	size_t responder_der_len;
};

/* Fills len random bytes (GnuTLS nonce generator); len within 1..CV_OCSP_NONCE_MAX. */
int cv_ocsp_nonce_generate(uint8_t *out, size_t len, struct cv_error *err);

/*
 * Builds an OCSPRequest for cert issued by issuer with one CertID hashed with digest
 * (GNUTLS_DIG_SHA1, _SHA256, ...). With nonce_len > 0 the request carries the nonce extension
 * (RFC 8954: OCTET STRING, not critical) holding nonce[0..nonce_len); nonce_len 0 leaves it out
 * (`ocsp disable-nonce`). Returns 0, or -1 with err set (req is then empty).
 */
int cv_ocsp_request_build(gnutls_x509_crt_t cert, gnutls_x509_crt_t issuer,
                          gnutls_digest_algorithm_t digest, const uint8_t *nonce, size_t nonce_len,
                          struct cv_ocsp_request *req, struct cv_error *err);
void cv_ocsp_request_clear(struct cv_ocsp_request *req);

/* The CertID of cert under issuer (what the request asks and the response must answer). */
int cv_ocsp_certid_compute(gnutls_x509_crt_t cert, gnutls_x509_crt_t issuer,
                           gnutls_digest_algorithm_t digest, struct cv_ocsp_certid *out,
                           struct cv_error *err);

/*
 * The RFC 5019 GET form: base_url + "/" (unless it ends in "/") + URL-encoded base64 of the
 * request. Returns 0 with a malloc'd URL in *out; 1 when the encoded request is 255 bytes or
 * more (use POST; *out is NULL); -1 with err set on bad input or out of memory.
 */
int cv_ocsp_get_url(const char *base_url, const uint8_t *der, size_t der_len, char **out,
                    struct cv_error *err);

/* Cache key per (CertID, responder URL): SHA-256 in upper-case hex. Returns 0 or -1. */
int cv_ocsp_cache_key(const struct cv_ocsp_certid *id, const char *url,
                      char out[CV_OCSP_CACHE_KEY_LEN]);

void cv_ocsp_params_init(struct cv_ocsp_params *params, cv_time at); /* defaults */

/*
 * Validates a DER OCSPResponse for cert (issued by issuer) under params. Returns 0 when the
 * response is valid (status GOOD, REVOKED or UNKNOWN: the caller treats UNKNOWN as no answer),
 * -1 when it is not (status ERROR, err and error say why). Always call cv_ocsp_result_clear.
 */
int cv_ocsp_response_check(const uint8_t *der, size_t der_len, gnutls_x509_crt_t cert,
                           gnutls_x509_crt_t issuer, const struct cv_ocsp_params *params,
                           struct cv_ocsp_result *result);
void cv_ocsp_result_clear(struct cv_ocsp_result *result); /* frees responder_der; re-usable */

/*
 * The same three operations on certval's certificates (ocsp_cert.c): what the rest of certval
 * calls; no GnuTLS certificate object crosses this interface. The responder callback gets
 * the responder and the certificates the response carried as certval certificates.
 */
typedef int (*cv_ocsp_responder_cert_fn)(void *arg, const struct cv_cert *responder,
                                         struct cv_cert *const *extra_certs, size_t n);

int cv_ocsp_request_build_cert(const struct cv_cert *cert, const struct cv_cert *issuer,
                               gnutls_digest_algorithm_t digest, const uint8_t *nonce,
                               size_t nonce_len, struct cv_ocsp_request *req, struct cv_error *err);
int cv_ocsp_certid_compute_cert(const struct cv_cert *cert, const struct cv_cert *issuer,
                                gnutls_digest_algorithm_t digest, struct cv_ocsp_certid *out,
                                struct cv_error *err);
/* cv_ocsp_response_check; validate (may be NULL) replaces params->validate_responder. */
int cv_ocsp_response_check_cert(const uint8_t *der, size_t der_len, const struct cv_cert *cert,
                                const struct cv_cert *issuer, const struct cv_ocsp_params *params,
                                cv_ocsp_responder_cert_fn validate, void *validate_arg,
                                struct cv_ocsp_result *result);

/* Names: "good", "revoked", "unknown", "error"; evidence nonce strings; "issuer",
 * "delegated", "trusted"; RFC 5280 reason names ("keyCompromise"); error codes. */
const char *cv_ocsp_status_name(enum cv_ocsp_status status);
const char *cv_ocsp_nonce_outcome_name(enum cv_ocsp_nonce_outcome outcome);
const char *cv_ocsp_nonce_mode_name(enum cv_ocsp_nonce_mode mode);
const char *cv_ocsp_signer_kind_name(enum cv_ocsp_signer_kind kind);
const char *cv_ocsp_reason_name(int reason);
const char *cv_ocsp_err_name(enum cv_ocsp_err err);

#endif
