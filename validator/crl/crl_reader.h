/*
 * crl_reader.h: a streaming reader of X.509 CRLs (RFC 5280 section 5) over the strict DER
 * reader. One pass gives the CRL's metadata and calls back once per revoked entry, without
 * allocating: every span points into the caller's buffer, which must outlive the results.
 */
#ifndef CV_CRL_READER_H
#define CV_CRL_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../common/clock.h"
#include "../../common/error.h"
#include "../der.h"
#include "../general_names.h"

/* CRLReason (RFC 5280 5.3.1); CV_CRL_REASON_NONE when an entry carries no reasonCode. */
enum cv_crl_reason {
	CV_CRL_REASON_NONE = -1,
	CV_CRL_REASON_UNSPECIFIED = 0,
	CV_CRL_REASON_KEY_COMPROMISE = 1,
	CV_CRL_REASON_CA_COMPROMISE = 2,
	CV_CRL_REASON_AFFILIATION_CHANGED = 3,
	CV_CRL_REASON_SUPERSEDED = 4,
	CV_CRL_REASON_CESSATION_OF_OPERATION = 5,
	CV_CRL_REASON_CERTIFICATE_HOLD = 6,
	/* 7 is not used */
	CV_CRL_REASON_REMOVE_FROM_CRL = 8,
	CV_CRL_REASON_PRIVILEGE_WITHDRAWN = 9,
	CV_CRL_REASON_AA_COMPROMISE = 10,
};

/* "keyCompromise", ..., "unspecified" for NONE; "?" when out of range. */
const char *cv_crl_reason_name(int reason);

/* ReasonFlags bits (bit n = named bit n), and every reason (bits 1-8). */
#define CV_REASONS_ALL 0x1feu

/* The issuingDistributionPoint CRL extension (RFC 5280 5.2.5). */
struct cv_crl_idp {
	bool present;
	struct cv_dp_name dp;
	bool only_user_certs;
	bool only_ca_certs;
	bool has_reasons;
	uint32_t only_some_reasons; /* CV_REASONS_* bits when has_reasons */
	bool indirect_crl;
	bool only_attribute_certs;
	const uint8_t *raw; /* the extension's value, to compare scopes of complete and delta */
	size_t raw_len;
};

/* What one pass over a CertificateList yields. */
struct cv_crl_info {
	const uint8_t *tbs; /* the whole tbsCertList encoding: what the signature covers */
	size_t tbs_len;
	int version;                /* 1 or 2 */
	const uint8_t *sig_alg_oid; /* contents of signatureAlgorithm.algorithm */
	size_t sig_alg_oid_len;
	const uint8_t *sig_alg_params; /* whole encoding of the parameters, NULL if absent */
	size_t sig_alg_params_len;
	const uint8_t *signature; /* signatureValue bits (no unused bits allowed) */
	size_t signature_len;
	const uint8_t *issuer; /* the whole issuer Name encoding */
	size_t issuer_len;
	uint64_t issuer_key; /* its comparison key (name.h, cv_name_key) */
	cv_time this_update;
	cv_time next_update; /* CV_TIME_NONE when absent */

	size_t n_entries;
	bool entry_unknown_critical; /* some entry has a critical extension not understood */
	bool has_certificate_issuer; /* some entry carries certificateIssuer */

	const uint8_t *crl_number; /* normalised INTEGER contents, NULL when absent */
	size_t crl_number_len;
	bool crl_number_critical; /* CRLNumber marked critical (non-conformant, RFC 5280 5.2.3) */
	const uint8_t *base_crl_number; /* deltaCRLIndicator: set means a delta CRL */
	size_t base_crl_number_len;
	struct cv_crl_idp idp;
	const uint8_t *aki_key_id; /* authorityKeyIdentifier keyIdentifier, NULL if absent */
	size_t aki_key_id_len;
	cv_time next_publish;        /* Microsoft Next CRL Publish; CV_TIME_NONE when absent */
	const uint8_t *freshest_crl; /* freshestCRL value (CRLDistributionPoints), raw */
	size_t freshest_crl_len;
	bool unknown_critical; /* a critical CRL extension not understood */
};

/* One revokedCertificates element, valid during the callback (spans into the buffer). */
struct cv_crl_entry_view {
	const uint8_t *raw; /* the whole entry encoding */
	size_t raw_len;
	const uint8_t *serial; /* normalised INTEGER contents (cv_asn1_serial) */
	size_t serial_len;
	cv_time revocation_date;
	int reason;                 /* enum cv_crl_reason */
	cv_time invalidity_date;    /* CV_TIME_NONE when absent */
	const uint8_t *cert_issuer; /* certificateIssuer: contents of GeneralNames, or NULL */
	size_t cert_issuer_len;
	bool unknown_critical;
};

/* Returns 0 to go on, -1 to stop the read (which then fails with the callback's error). */
typedef int (*cv_crl_entry_fn)(void *arg, const struct cv_crl_entry_view *entry,
                               struct cv_error *err);

/*
 * Reads a whole DER CertificateList. Every revoked entry goes to fn (which may be NULL) in
 * order, before the CRL extensions are read (they follow the entries in the encoding).
 * Returns 0 with *info filled, or -1 with err naming the field at fault.
 */
int cv_crl_read(const uint8_t *der, size_t len, struct cv_crl_info *info, cv_crl_entry_fn fn,
                void *arg, struct cv_error *err);

/* Re-reads one entry from its raw encoding (as cv_crl_read saw it). Returns 0 or -1. */
int cv_crl_read_entry(const uint8_t *raw, size_t len, struct cv_crl_entry_view *out);

#define CV_DIST_POINTS_MAX 16 /* DistributionPoints read from a CRL's freshestCRL */

#endif
