/*
 * crl_check.h: RFC 5280 section 6.3 CRL processing for one certificate against a set of
 * ingested CRLs, engine-independent: no fetching, no caching, no policy. The caller gives the
 * certificate, its (already validated) issuer, the validation time, the CRLs it holds, and
 * candidate CRL signers with a callback that validates a signer's own path (to the same trust
 * anchor, revocation included). Built into cv_cache (see cache/meson.build).
 *
 * Decisions beyond the RFC text, all fail-closed:
 *  - A CRL whose thisUpdate is after the validation time, or whose nextUpdate is before it, is
 *    not used (SPEC O-9). A CRL without nextUpdate is used (unless max_age says it is too old).
 *  - A CRL without the CRLNumber extension, or with CRLNumber marked critical, is not
 *    conformant (RFC 5280 5.2.3: "conforming CRL issuers MUST include this extension", and it
 *    is non-critical) and is not used: a v1 CRL is therefore never used. When no CRL is usable
 *    the result's message names the defect, and the method fails (the next one decides).
 *  - An unknown critical CRL extension or CRL entry extension makes the whole CRL unusable.
 *  - An entry with reason certificateHold counts as revoked; removeFromCRL (in a delta CRL, or
 *    wrongly in a complete CRL) counts as not listed (6.3.3 (i)).
 *  - A certificate without cRLDistributionPoints is treated as one distribution point with no
 *    name, the certificate's issuer as CRL issuer and all reasons; a CRL whose IDP names a
 *    distribution point is then out of scope for it (as OpenSSL does).
 *  - Delta CRLs (when use_deltas) must have the complete CRL's issuer, the byte-identical IDP,
 *    a base CRL number not above the complete CRL's number, be current and verify with the
 *    complete CRL's key. When deltas are in scope but none is usable, the complete CRL alone
 *    is not trusted for that scope (the issuer publishes deltas: revocations may be missing).
 */
#ifndef CV_CRL_CHECK_H
#define CV_CRL_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crl.h"
#include "../../common/clock.h"
#include "../../common/error.h"
#include "../../common/verdict.h"
#include "../cert.h"

enum cv_crl_status {
	CV_CRL_STATUS_GOOD = 0,     /* UNREVOKED with every reason covered */
	CV_CRL_STATUS_REVOKED,      /* listed (reason and date in the result) */
	CV_CRL_STATUS_UNDETERMINED, /* no usable CRL, or not every reason covered */
};

const char *cv_crl_status_name(enum cv_crl_status status); /* "good", "revoked", ... */

/*
 * Validates the path of a CRL signer that is not the certificate's issuer (a separate
 * CRL-signing key, or the cRLIssuer of an indirect CRL): the signer must chain to the same
 * trust anchor as the certificate, and its own revocation status must be good. Returns 0 when
 * the signer is acceptable, -1 (err set) otherwise. A signer's own status may come from the
 * very CRL it signs (PKITS 4.14.30): the callback must then accept a signer it is already
 * validating further up its stack instead of recursing.
 */
typedef int (*cv_crl_signer_fn)(void *arg, const struct cv_cert *signer, struct cv_error *err);

struct cv_crl_check_params {
	const struct cv_cert *cert;   /* the certificate whose status is wanted */
	const struct cv_cert *issuer; /* its issuer, already validated by the caller */
	cv_time at;                   /* validation time */
	struct cv_crl *const *crls;   /* complete and delta CRLs, any order, any issuers */
	size_t n_crls;
	struct cv_cert *const *signers; /* candidate CRL signers (other than issuer) */
	size_t n_signers;
	cv_crl_signer_fn validate_signer; /* NULL: only issuer may sign CRLs */
	void *signer_arg;
	unsigned verify_flags; /* gnutls_pubkey_verify_data2 flags */
	/* The issuer's own issuer, whose DSA parameters the issuer's key may inherit (RFC 5280
	 * 6.1.4 (f)); NULL when the issuer is the trust anchor or unknown. */
	const struct cv_cert *issuer_params;
	bool use_deltas;
	/* Seconds; 0: no limit. A CRL whose thisUpdate lies more than max_age before the
	 * validation time is not used (certvalctl crl-check --max-age). */
	int64_t max_age;
	/* No notes in the result: a verdict made without its trace never reads them, and
	 * writing them was half of a check's time. */
	bool no_notes;
};

#define CV_CRL_NOTES_MAX 16
#define CV_CRL_NOTE_LEN  200

struct cv_crl_check_result {
	enum cv_crl_status status;
	cv_time revocation_date;  /* REVOKED only */
	int reason;               /* enum cv_crl_reason; REVOKED only */
	const struct cv_crl *crl; /* the CRL that answered last (borrowed), NULL when none */
	bool from_delta;          /* the answer came from a delta CRL */
	char message[CV_MESSAGE_MAX];
	/* One line per CRL considered: what was decided about it and why (none with
	 * no_notes). Only the first n_notes are written. */
	size_t n_notes;
	char notes[CV_CRL_NOTES_MAX][CV_CRL_NOTE_LEN];
};

/* Runs 6.3 and fills *r. Returns 0 (the certificate was decoded when it was read; r says
 * UNDETERMINED when no CRL settles it). */
int cv_crl_check(const struct cv_crl_check_params *p, struct cv_crl_check_result *r);

#endif
