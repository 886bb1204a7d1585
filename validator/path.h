/*
 * path.h: certification path building and RFC 5280 section 6.1 path validation.
 *
 * The caller (policy/) supplies the trust anchors of the trustpoint(s) in play and the
 * certificates the peer sent; this module finds a path from the peer's certificate to one
 * anchor, trying several candidate issuers (backtracking) within fixed bounds, and validates it
 * at the requested time. It knows nothing of trustpoints, maps or revocation.
 */
#ifndef CV_PATH_H
#define CV_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/clock.h"
#include "../common/verdict.h"
#include "cert.h"

enum cv_purpose {
	CV_PURPOSE_ANY = 0, /* no extended key usage required */
	CV_PURPOSE_IKE,     /* id-kp-ipsecIKE, serverAuth or clientAuth, or no EKU at all */
	CV_PURPOSE_TLS_SERVER,
	CV_PURPOSE_TLS_CLIENT,
};

/* Weak signature algorithms and keys, rejected unless the trustpoint allows them. */
enum cv_weak_alg {
	CV_WEAK_SHA1 = 1u << 0,     /* any signature over SHA-1 */
	CV_WEAK_MD5 = 1u << 1,      /* md5WithRSA, md2WithRSA */
	CV_WEAK_DSA = 1u << 2,      /* DSA signatures of any digest */
	CV_WEAK_RSA_1024 = 1u << 3, /* RSA keys of 1024 up to 2047 bits */
	CV_WEAK_P192 = 1u << 4,     /* ECDSA keys on P-192 (secp192r1) */
	CV_WEAK_RSA_ODD = 1u << 5,  /* RSA moduli whose size is not a multiple of 8 bits */
};
#define CV_WEAK_ALG_COUNT 6 /* the bits above are 1u << 0 .. 1u << (CV_WEAK_ALG_COUNT - 1) */

/*
 * Validation profiles: which certificate-profile rules apply on top of RFC 5280 6.1.
 * Set per trustpoint with `validation-profile rfc5280|webpki`.
 */
enum cv_profile {
	CV_PROFILE_RFC5280 = 0, /* the MUSTs of RFC 5280 a relying party can check (default) */
	CV_PROFILE_WEBPKI,      /* plus the CA/Browser Forum Baseline Requirements, TLS servers */
};

/*
 * Relaxations an administrator can choose per trustpoint for a legacy PKI. Each one that a
 * validation actually relied on is reported in cv_path.relaxations_used and in the verdict.
 */
enum cv_relaxation {
	CV_RELAX_CN_FALLBACK = 1u << 0, /* host name matched to the subject CN when no SAN */
};

#define CV_PATH_MAX_DEPTH      10 /* certificates in a path, anchor included */
#define CV_PATH_MAX_CANDIDATES 16 /* candidate issuers considered per certificate */
#define CV_PATH_MAX_SIG_CHECKS 64 /* signature verifications per build */
#define CV_POLICY_OIDS_MAX     16

struct cv_link_cache;

struct cv_path_params {
	/* Trust anchors; a subordinate CA certificate may be an anchor (chain-validation stop). */
	struct cv_cert *const *anchors;
	size_t n_anchors;
	/* Certificates that may be used as intermediates: what the peer sent after its leaf,
	 * plus trusted-store certificates that fill gaps. Duplicates and strays are fine. */
	struct cv_cert *const *untrusted;
	size_t n_untrusted;

	cv_time at; /* validation time */
	enum cv_purpose purpose;
	const char *peer_name;     /* when set, the leaf must name this host (SAN dNSName/IP) */
	uint32_t allowed_weak;     /* bit set of enum cv_weak_alg */
	bool leaf_validity_waived; /* `allow expired-certificate`: leaf dates are reported only */
	enum cv_profile profile;   /* certificate-profile rules applied */
	uint32_t relaxations;      /* bit set of enum cv_relaxation the trustpoint allows */

	/* RFC 5280 6.1.1 (c), (e), (f), (g); n_policies == 0 means { anyPolicy }. */
	const char *policies[CV_POLICY_OIDS_MAX];
	size_t n_policies;
	bool explicit_policy;
	bool inhibit_policy_mapping;
	bool inhibit_any_policy;

	/* Verified links remembered across builds (validator/links.h), or NULL: every
	 * signature is checked. Only signature checks are skipped; every other check runs. */
	struct cv_link_cache *links;

	/* Bounds; 0 selects the CV_PATH_MAX_* default. */
	unsigned max_depth;
	unsigned max_candidates;
	unsigned max_sig_checks;
};

/* A validated path: certs[0] is the peer's certificate, certs[n-1] the trust anchor. */
struct cv_path {
	struct cv_cert *certs[CV_PATH_MAX_DEPTH];
	size_t n;
	bool leaf_validity_waived_used; /* the leaf's dates were out of range but waived */
	uint32_t relaxations_used;      /* enum cv_relaxation bits the accepted path relied on */
	uint32_t weak_used;             /* enum cv_weak_alg bits the accepted path relied on */
	unsigned sig_checks;            /* signature verifications spent */
};

void cv_path_params_init(struct cv_path_params *params); /* zero + defaults */

/*
 * Builds and validates a path for leaf. On success returns 0 and fills *path (holding one
 * reference per certificate; release with cv_path_release). On failure returns -1 and fills
 * *failure with the most telling reason among the paths tried: a path that reached an anchor
 * and failed validation beats one that found no issuer. Trace events ("validation path has N
 * certs", "Found a issuer match", ...) are appended to trace when it is not NULL.
 */
int cv_path_build(const struct cv_cert *leaf, const struct cv_path_params *params,
                  struct cv_path *path, struct cv_failure *failure, struct cv_verdict *trace);

void cv_path_release(struct cv_path *path);

/* Fills path entries of a verdict from a path (leaf first), when the verdict is made with
 * them (v->made EVIDENCE or TRACE); returns 0 or -1. */
int cv_path_to_verdict(const struct cv_path *path, struct cv_verdict *v);

/* Parses "sha1", "md5", "dsa", "rsa-1024", "p192", "rsa-odd-size" into a CV_WEAK_* bit; 0
 * when unknown. */
uint32_t cv_weak_alg_from_name(const char *name);
/* The name of one CV_WEAK_* bit as `allow-weak-signature` spells it, or NULL. */
const char *cv_weak_alg_name(uint32_t bit);
/*
 * Renders what a path relied on beyond its profile (cv_path.relaxations_used, .weak_used) as
 * comma-separated names: relaxations first ("cn-fallback"), then weak algorithms with the
 * prefix "weak:" ("weak:sha1", "weak:rsa-1024"); "" when nothing. Returns 0, or -1 when buf
 * was too small (the names that fit are kept whole).
 */
int cv_path_relied_on_names(uint32_t relaxations, uint32_t weak, char *buf, size_t size);
const char *cv_purpose_name(enum cv_purpose purpose);
const char *cv_profile_name(enum cv_profile profile); /* "rfc5280", "webpki" */
int cv_profile_from_name(const char *name,
                         enum cv_profile *out); /* "any", "ike", "server", "client" */
int cv_purpose_from_name(const char *name, enum cv_purpose *out);

#endif
