/*
 * x509int.h: internals shared by the validator's files (not for other modules): signature
 * checks with a per-build cache, name constraints, the policy tree and the 6.1 validation of
 * one candidate path. DER reading and name comparison are der.h and name.h; the GnuTLS object
 * of a certificate (also for validator/crl and validator/ocsp) is cert_crt.h.
 */
#ifndef CV_X509INT_H
#define CV_X509INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/abstract.h>

#include "../common/verdict.h"
#include "cert.h"
#include "cert_crt.h"
#include "der.h"
#include "name.h"
#include "path.h"

/* --- signatures (sig.c) --- */

enum cv_sig_result {
	CV_SIG_OK = 0,
	CV_SIG_BAD,     /* the signature does not verify with the key */
	CV_SIG_UNKNOWN, /* the issuer's key cannot be used alone (DSA without parameters) */
	CV_SIG_LIMIT,   /* the signature-check budget is spent */
};

#define CV_SIG_CACHE_MAX (CV_PATH_MAX_SIG_CHECKS * 4)

struct cv_sig_cache {
	struct {
		const struct cv_cert *child, *issuer, *params;
		enum cv_sig_result result;
	} e[CV_SIG_CACHE_MAX];
	size_t n;
	unsigned spent, budget;
	struct cv_link_cache *links; /* verified links remembered across builds, or NULL */
};

/*
 * Verifies child's signature with issuer's public key; params (may be NULL) supplies DSA
 * domain parameters when issuer's key inherits them (RFC 5280 6.1.4 (f)). Cached per triple.
 */
enum cv_sig_result cv_sig_check(struct cv_sig_cache *cache, const struct cv_cert *child,
                                const struct cv_cert *issuer, const struct cv_cert *params);

/*
 * The weak-algorithm policy for a certificate's signature algorithm (digest, DSA): returns 0
 * when allowed (the CV_WEAK_* bits relied on are added to *used), else -1 with a short
 * description in why. Keys are cv_key_check's.
 */
int cv_sig_weak_check(const struct cv_cert *cert, uint32_t allowed, uint32_t *used, char *why,
                      size_t why_len);

/* --- certificate profile and key policy (profile.c) --- */

/* Where a certificate stands: idx 0 is the leaf (the anchor is not profile-checked). */
struct cv_profile_pos {
	size_t idx;
	enum cv_purpose purpose;
	enum cv_profile profile;
};

/* The profile rules for cert at pos: 0, or -1 with *detail ("profile-serial", ...) and why
 * (the rule and its RFC 5280 / CA/B BR section). */
int cv_profile_check(const struct cv_cert *cert, const struct cv_profile_pos *pos,
                     const char **detail, char *why, size_t why_len);

/* The key policy for cert's public key: 0 when allowed (CV_WEAK_* bits relied on added to
 * *used), -1 with why. */
int cv_key_check(const struct cv_cert *cert, uint32_t allowed, uint32_t *used, char *why,
                 size_t why_len);

/* --- trust anchors (anchor.c) --- */

/*
 * The form rules for a trust anchor's certificate (RFC 5937, RFC 5280 4.2): 0 when it may
 * anchor a path, else -1 with *detail ("anchor-malformed", "anchor-not-ca") and why (naming
 * the anchor's subject, the rule and its section). issues: the anchor signs a certificate of
 * the path (false when the anchor is the peer's own certificate: then only the rules on
 * critical extensions and keyCertSign apply).
 */
int cv_anchor_check(const struct cv_cert *cert, bool issues, const char **detail, char *why,
                    size_t why_len);

/* True when oid names an extension path validation (or revocation after it) processes: a
 * critical extension not in this set makes a certificate unusable (path_validate.c). */
bool cv_ext_processed(const char *oid);

/* --- name constraints (nameconstraints.c) --- */

enum cv_nc_status {
	CV_NC_OK = 0,
	CV_NC_VIOLATED,  /* a name is outside a permitted or inside an excluded subtree */
	CV_NC_MALFORMED, /* the constraints themselves are malformed */
	CV_NC_BAD_NAME,  /* a name of the certificate is malformed under a constraint of its form */
};

/* Whether a NameConstraints value (DER) can be processed: structure, subtrees and bases as
 * cv_nc_check reads them. 0, or -1 with why set. */
int cv_nc_validate(const uint8_t *nc_der, size_t nc_len, char *why, size_t why_len);

/*
 * Checks cert's names (subject, its emailAddress attributes, subjectAltName; for a leaf
 * without a dNSName also its host-like commonNames) against the NameConstraints extension
 * value of one CA (DER). The rules are listed in nameconstraints.c; why names the name and
 * the constraint.
 */
enum cv_nc_status cv_nc_check(const uint8_t *nc_der, size_t nc_len, const struct cv_cert *cert,
                              bool leaf, char *why, size_t why_len);

/* --- validation (path_validate.c) --- */

/* What a validation relied on beyond the profile: reported in the path and the verdict. */
struct cv_path_used {
	bool leaf_waived;     /* the leaf's dates were out of range but waived */
	uint32_t relaxations; /* enum cv_relaxation bits used */
	uint32_t weak;        /* enum cv_weak_alg bits used */
};

/* Validates certs[0..n-1] (leaf first, anchor last) per RFC 5280 6.1 at params->at. Returns 0
 * with *used filled, or -1 with *failure set. */
int cv_path_validate(struct cv_cert *const *certs, size_t n, const struct cv_path_params *params,
                     struct cv_sig_cache *sigs, struct cv_path_used *used,
                     struct cv_failure *failure);

/* --- RFC 5280 certificate policies (cert_policies.c) --- */

struct cv_certpol_state;
/* 6.1.2 (d)-(f) for a path of n certificates below anchor: the user's initial inputs,
 * narrowed by the anchor's own policyConstraints and inhibitAnyPolicy (RFC 5937 3). */
struct cv_certpol_state *cv_certpol_init(const struct cv_path_params *params,
                                         const struct cv_cert *anchor, size_t n);
void cv_certpol_free(struct cv_certpol_state *st);
/* 6.1.3 (d)-(f) for the certificate at RFC position i (1 = next to the anchor). */
int cv_certpol_process(struct cv_certpol_state *st, const struct cv_cert *cert, size_t i,
                       bool is_last, char *why, size_t why_len);
/* 6.1.4 (a)-(b), (h)-(j) for an intermediate certificate. */
int cv_certpol_prepare(struct cv_certpol_state *st, const struct cv_cert *cert, size_t i, char *why,
                       size_t why_len);
/* 6.1.5 (a)-(b), (g) for the last certificate; -1 when no acceptable policy remains. */
int cv_certpol_wrap_up(struct cv_certpol_state *st, const struct cv_cert *cert, char *why,
                       size_t why_len);

#endif
