/*
 * path_validate.c: RFC 5280 section 6.1 validation of one candidate path (leaf first, trust
 * anchor last), step by step as the RFC names them, plus certval's own rules on top: extended
 * key usage for the purpose through the whole path, the peer's host name (hostname.c), the
 * weak-algorithm and key policy and the certificate-profile rules (profile.c).
 *
 * The trust anchor is a name and a key whose certificate's constraints also hold (RFC 5937,
 * SPEC issue 11): its form (anchor.c), its name constraints, pathLenConstraint, extended key
 * usage and policy constraints restrict the path below it, and a failure they cause names the
 * anchor (details "anchor-*"). Its own signature is not checked. A self-signed anchor's
 * validity period is, because IOS rejects an expired CA certificate (SPEC R7, O-17); a
 * subordinate CA configured as trustpoint ("chain-validation stop") is taken at any date.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "../common/util.h"
#include "hostname.h"
#include "x509int.h"

#define OID_ANY_EKU  "2.5.29.37.0"
#define OID_SERVER   "1.3.6.1.5.5.7.3.1"
#define OID_CLIENT   "1.3.6.1.5.5.7.3.2"
#define OID_IPSECIKE "1.3.6.1.5.5.7.3.17"

/* The key purposes a path's extended key usages are intersected on (eku_mask). */
#define EKU_IKE    (1u << 0)
#define EKU_SERVER (1u << 1)
#define EKU_CLIENT (1u << 2)
#define EKU_ALL    (EKU_IKE | EKU_SERVER | EKU_CLIENT)

/* The extensions this module (or the revocation modules after it) processes. */
static const char *const known_extensions[] = {
    "2.5.29.14",         /* subjectKeyIdentifier */
    "2.5.29.35",         /* authorityKeyIdentifier */
    "2.5.29.15",         /* keyUsage */
    "2.5.29.37",         /* extKeyUsage */
    "2.5.29.17",         /* subjectAltName */
    "2.5.29.19",         /* basicConstraints */
    "2.5.29.30",         /* nameConstraints */
    "2.5.29.32",         /* certificatePolicies */
    "2.5.29.33",         /* policyMappings */
    "2.5.29.36",         /* policyConstraints */
    "2.5.29.54",         /* inhibitAnyPolicy */
    "2.5.29.31",         /* cRLDistributionPoints (revocation) */
    "1.3.6.1.5.5.7.1.1", /* authorityInfoAccess (OCSP) */
};

struct vstate {
	const struct cv_path_params *params;
	struct cv_sig_cache *sigs;
	struct cv_cert *const *certs; /* leaf first, anchor last */
	size_t n;                     /* certificates, anchor included */
	struct cv_path_used *used;
	struct cv_failure *failure;

	/* 6.1.2 state variables */
	const struct cv_cert *working_issuer; /* working_public_key + working_issuer_name */
	const struct cv_cert *working_params; /* working_public_key_parameters (DSA) */
	int max_path_length;
	size_t max_path_length_from; /* the certificate whose pathLen set it, SIZE_MAX: none */
	const struct cv_cert *nc_cas[CV_PATH_MAX_DEPTH]; /* permitted/excluded subtrees */
	size_t n_nc;
	struct cv_certpol_state *policy;

	/* certval: the key purposes (EKU_*) every CA so far allows of those the purpose needs */
	unsigned eku_left;
};

static int fail(struct vstate *st, enum cv_reason reason, const char *detail, size_t idx,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
fail(struct vstate *st, enum cv_reason reason, const char *detail, size_t idx, const char *fmt, ...)
{
	char msg[CV_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cv_failure_set(st->failure, reason, detail, (int)idx, cv_cert_subject(st->certs[idx]), "%s",
	               msg);
	return -1;
}

/* --- 6.1.3 basic certificate processing --- */

/*
 * The key policy (profile.c) for key, reported at idx: each issuer's key (the anchor's
 * included) where it verifies the signature of the certificate at idx, and the leaf's own
 * key at 0, so that every key of the path passes it.
 */
static int
check_key(struct vstate *st, const struct cv_cert *key, size_t idx)
{
	char why[128];

	if (cv_key_check(key, st->params->allowed_weak, &st->used->weak, why, sizeof(why)) < 0)
		return fail(st, CV_REASON_CHAIN_INVALID, "weak-algorithm", idx,
		            "weak algorithm not allowed: %s%s",
		            key == st->certs[idx] ? "" : "issuer's ", why);
	return 0;
}

static int
check_validity(struct vstate *st, size_t idx)
{
	const struct cv_cert *c = st->certs[idx];
	cv_time at = st->params->at;
	bool out = at < cv_cert_not_before(c) || at > cv_cert_not_after(c);
	char t[CV_TIME_TEXT_MAX];

	if (!out)
		return 0;
	if (idx == 0 && st->params->leaf_validity_waived) {
		st->used->leaf_waived = true;
		return 0;
	}
	if (at < cv_cert_not_before(c))
		return fail(st, CV_REASON_NOT_YET_VALID, "not-yet-valid", idx,
		            "certificate is not yet valid (notBefore %s)",
		            cv_time_format_iso(cv_cert_not_before(c), t));
	return fail(st, CV_REASON_EXPIRED, "expired", idx, "certificate has expired (notAfter %s)",
	            cv_time_format_iso(cv_cert_not_after(c), t));
}

static int
check_signature(struct vstate *st, size_t idx)
{
	const struct cv_cert *c = st->certs[idx];
	char why[128];

	switch (cv_sig_check(st->sigs, c, st->working_issuer, st->working_params)) {
	case CV_SIG_OK:
		break;
	case CV_SIG_LIMIT:
		return fail(st, CV_REASON_CHAIN_INVALID, "work-limit", idx,
		            "signature-check budget exhausted");
	default:
		return fail(st, CV_REASON_BAD_SIGNATURE, "signature", idx,
		            "signature does not verify with the key of %s",
		            cv_cert_subject(st->working_issuer));
	}
	if (cv_sig_weak_check(c, st->params->allowed_weak, &st->used->weak, why, sizeof(why)) < 0)
		return fail(st, CV_REASON_CHAIN_INVALID, "weak-algorithm", idx,
		            "weak algorithm not allowed: %s", why);
	return check_key(st, st->working_issuer, idx);
}

/* The certificate-profile rules of params->profile (profile.c); not for the anchor. */
static int
check_profile(struct vstate *st, size_t idx)
{
	const struct cv_profile_pos pos = {idx, st->params->purpose, st->params->profile};
	const char *detail = "profile";
	char why[CV_MESSAGE_MAX];

	if (cv_profile_check(st->certs[idx], &pos, &detail, why, sizeof(why)) < 0)
		return fail(st, CV_REASON_CHAIN_INVALID, detail, idx, "%s", why);
	return 0;
}

static int
check_name_chaining(struct vstate *st, size_t idx)
{
	if (!cv_cert_issued_by_name(st->certs[idx], st->working_issuer))
		return fail(st, CV_REASON_CHAIN_INVALID, "name-chaining", idx,
		            "issuer name does not match the subject of %s",
		            cv_cert_subject(st->working_issuer));
	return 0;
}

bool
cv_ext_processed(const char *oid)
{
	for (size_t k = 0; k < CV_ARRAY_LEN(known_extensions); k++)
		if (strcmp(oid, known_extensions[k]) == 0)
			return true;
	return false;
}

static int
check_critical_extensions(struct vstate *st, size_t idx)
{
	const struct cv_cert_ext *x;

	for (size_t i = 0; (x = cv_cert_ext_at(st->certs[idx], i)) != NULL; i++) {
		if (x->critical && !cv_ext_processed(x->oid))
			return fail(st, CV_REASON_CHAIN_INVALID, "unknown-critical-extension", idx,
			            "unknown critical extension %s", x->oid);
	}
	return 0;
}

/*
 * The peer's own nameConstraints (RFC 5280 4.2.1.10): an end entity (not a CA) must not carry
 * them; a CA at the end of the path carries them for nobody below, but a critical extension
 * that cannot be processed still rejects the certificate (RFC 5280 4.2), as OpenSSL does.
 */
static int
check_ee_name_constraints(struct vstate *st, size_t idx)
{
	const struct cv_cert *c = st->certs[idx];
	const struct cv_cert_nc *nc = cv_cert_name_constraints(c);
	char why[256];

	if (!nc->present)
		return 0;
	if (!cv_cert_basic_constraints(c)->ca)
		return fail(st, CV_REASON_CHAIN_INVALID, "malformed-name-constraints", idx,
		            "nameConstraints in an end-entity certificate (RFC 5280 4.2.1.10)");
	if (cv_nc_validate(nc->raw, nc->raw_len, why, sizeof(why)) < 0)
		return fail(st, CV_REASON_CHAIN_INVALID, "malformed-name-constraints", idx,
		            "its own name constraints cannot be processed: %s (RFC 5280 4.2)", why);
	return 0;
}

/* The detail of a name-constraints failure; the anchor's own constraints name the anchor
 * (RFC 5937: its subtrees restrict the path like those of a CA in it). */
static const char *
nc_detail(enum cv_nc_status status, bool anchor)
{
	switch (status) {
	case CV_NC_MALFORMED:
		return anchor ? "anchor-malformed" : "malformed-name-constraints";
	case CV_NC_BAD_NAME:
		return "malformed-san";
	default:
		return anchor ? "anchor-name-constraints" : "name-constraints";
	}
}

static int
check_name_constraints(struct vstate *st, size_t idx)
{
	const struct cv_cert *c = st->certs[idx];
	enum cv_nc_status status;
	char why[256];
	size_t k;

	if (idx == 0 && check_ee_name_constraints(st, idx) < 0)
		return -1;
	/* 6.1.3 (b), (c): a self-issued intermediate is exempt. */
	if (idx != 0 && cv_cert_is_self_issued(c))
		return 0;
	for (k = 0; k < st->n_nc; k++) {
		const struct cv_cert_nc *nc = cv_cert_name_constraints(st->nc_cas[k]);
		const bool anchor = st->nc_cas[k] == st->certs[st->n - 1];

		status = cv_nc_check(nc->raw, nc->raw_len, c, idx == 0, why, sizeof(why));
		if (status != CV_NC_OK)
			return fail(st, CV_REASON_CHAIN_INVALID, nc_detail(status, anchor), idx,
			            "name constraints of %s%s: %s", anchor ? "trust anchor " : "",
			            cv_cert_subject(st->nc_cas[k]), why);
	}
	return 0;
}

/*
 * A certificate-policy failure. When the anchor carries policyConstraints or inhibitAnyPolicy
 * (which initialised the counters, RFC 5937 3), the message names them and the anchor: they
 * may be what left no acceptable policy.
 */
static int
policy_fail(struct vstate *st, size_t idx, const char *why)
{
	const struct cv_cert *anchor = st->certs[st->n - 1];
	const struct cv_cert_policy_constraints *pc = cv_cert_policy_constraints(anchor);
	const struct cv_cert_inhibit_any *ia = cv_cert_inhibit_any_policy(anchor);

	if (!pc->present && !ia->present)
		return fail(st, CV_REASON_CHAIN_INVALID, "policy", idx, "%s", why);
	return fail(st, CV_REASON_CHAIN_INVALID, "policy", idx,
	            "%s, under the %s%s%s of trust anchor %s (RFC 5937)", why,
	            pc->present ? "policyConstraints" : "",
	            pc->present && ia->present ? " and " : "",
	            ia->present ? "inhibitAnyPolicy" : "", cv_cert_subject(anchor));
}

static int
basic_certificate_processing(struct vstate *st, size_t idx, size_t rfc_i)
{
	char why[128];

	if (check_signature(st, idx) < 0 || check_validity(st, idx) < 0 ||
	    check_name_chaining(st, idx) < 0 || check_critical_extensions(st, idx) < 0 ||
	    check_profile(st, idx) < 0 || check_name_constraints(st, idx) < 0)
		return -1;
	if (cv_certpol_process(st->policy, st->certs[idx], rfc_i, idx == 0, why, sizeof(why)) < 0)
		return policy_fail(st, idx, why);
	return 0;
}

/* --- 6.1.4 preparation for the next certificate --- */

/* 6.1.4 (l): one more non-self-issued CA below the certificate whose pathLenConstraint set
 * max_path_length (the anchor's: RFC 5937). */
static int
check_path_length(struct vstate *st, size_t idx)
{
	const size_t from = st->max_path_length_from;

	if (st->max_path_length > 0) {
		st->max_path_length--;
		return 0;
	}
	if (from == st->n - 1)
		return fail(st, CV_REASON_CHAIN_INVALID, "anchor-path-len", idx,
		            "path length constraint of trust anchor %s exceeded",
		            cv_cert_subject(st->certs[from]));
	return fail(st, CV_REASON_CHAIN_INVALID, "path-len-exceeded", idx,
	            "path length constraint exceeded");
}

/* The key purposes (EKU_*) an extendedKeyUsage allows: all of them when it is absent or
 * lists anyExtendedKeyUsage (RFC 5280 4.2.1.12). */
static unsigned
eku_mask(const struct cv_cert_eku *eku)
{
	unsigned m = 0;

	if (!eku->present)
		return EKU_ALL;
	for (size_t i = 0; i < eku->n; i++) {
		if (strcmp(eku->oid[i], OID_ANY_EKU) == 0)
			return EKU_ALL;
		m |= strcmp(eku->oid[i], OID_IPSECIKE) == 0 ? EKU_IKE : 0;
		m |= strcmp(eku->oid[i], OID_SERVER) == 0 ? EKU_SERVER : 0;
		m |= strcmp(eku->oid[i], OID_CLIENT) == 0 ? EKU_CLIENT : 0;
	}
	return m;
}

/* The key purposes that satisfy a purpose: ike takes ipsecIKE, serverAuth or clientAuth
 * (RFC 4945 5.1.3.12); 0 for any (no extended key usage required). */
static unsigned
eku_needed(enum cv_purpose purpose)
{
	switch (purpose) {
	case CV_PURPOSE_IKE:
		return EKU_ALL;
	case CV_PURPOSE_TLS_SERVER:
		return EKU_SERVER;
	case CV_PURPOSE_TLS_CLIENT:
		return EKU_CLIENT;
	default:
		return 0;
	}
}

/*
 * An extendedKeyUsage in a CA certificate (the anchor's included) restricts every certificate
 * below it, as OpenSSL, Chrome and Mozilla apply it: the purpose must stay allowed by the
 * intersection of the CAs' key purposes (SPEC issue 11).
 */
static int
check_ca_eku(struct vstate *st, size_t idx)
{
	const bool anchor = idx == st->n - 1;

	if (eku_needed(st->params->purpose) == 0)
		return 0;
	st->eku_left &= eku_mask(cv_cert_ext_key_usage(st->certs[idx]));
	if (st->eku_left != 0)
		return 0;
	return fail(st, CV_REASON_CHAIN_INVALID, anchor ? "anchor-eku" : "eku", idx,
	            "extended key usage of %s%s does not allow %s below it",
	            anchor ? "trust anchor " : "CA ", cv_cert_subject(st->certs[idx]),
	            cv_purpose_name(st->params->purpose));
}

static int
prepare_for_next(struct vstate *st, size_t idx, size_t rfc_i)
{
	const struct cv_cert *c = st->certs[idx];
	const struct cv_cert_bc *bc = cv_cert_basic_constraints(c);
	const struct cv_cert_ku *ku = cv_cert_key_usage(c);
	char why[128];

	/* (a), (b), (h), (i), (j): policy mappings and counters */
	if (cv_certpol_prepare(st->policy, c, rfc_i, why, sizeof(why)) < 0)
		return policy_fail(st, idx, why);
	/* (c)-(f): working issuer name, key and parameters */
	st->working_issuer = c;
	if (!cv_sig_key_inherits_params(c))
		st->working_params = c;
	/* (g): name constraints */
	if (cv_cert_name_constraints(c)->present)
		st->nc_cas[st->n_nc++] = c;
	/* (k): a CA certificate */
	if (cv_cert_version(c) < 3 || !bc->present || !bc->ca)
		return fail(st, CV_REASON_CHAIN_INVALID, "not-a-ca", idx,
		            "issuer certificate is not a CA (basicConstraints cA)");
	/* (l), (m): path length */
	if (!cv_cert_is_self_issued(c) && check_path_length(st, idx) < 0)
		return -1;
	if (bc->path_len >= 0 && bc->path_len < st->max_path_length) {
		st->max_path_length = bc->path_len;
		st->max_path_length_from = idx;
	}
	/* (n): keyCertSign */
	if (ku->present && !(ku->bits & CV_KU_KEY_CERT_SIGN))
		return fail(st, CV_REASON_CHAIN_INVALID, "key-cert-sign-missing", idx,
		            "key usage lacks keyCertSign");
	return check_ca_eku(st, idx);
}

/* --- 6.1.5 wrap-up, then certval's leaf rules --- */

/* The peer's host name (hostname.h: RFC 9525, no commonName fallback but for ike or when
 * the trustpoint allows it, which is then reported). */
static int
check_peer_name(struct vstate *st)
{
	const struct cv_path_params *p = st->params;
	struct cv_host_rules rules = {p->purpose, p->profile,
	                              (p->relaxations & CV_RELAX_CN_FALLBACK) != 0};
	enum cv_host_status status;
	char why[256];

	if (p->peer_name == NULL || p->peer_name[0] == '\0')
		return 0;
	status = cv_host_check(st->certs[0], p->peer_name, &rules, why, sizeof(why));
	if (status == CV_HOST_MATCH_CN_RELAX)
		st->used->relaxations |= CV_RELAX_CN_FALLBACK;
	if (cv_host_status_detail(status) == NULL)
		return 0;
	return fail(st, CV_REASON_CHAIN_INVALID, cv_host_status_detail(status), 0, "%s", why);
}

static int
check_leaf(struct vstate *st)
{
	const unsigned own = eku_mask(cv_cert_ext_key_usage(st->certs[0]));
	const char *purpose = cv_purpose_name(st->params->purpose);

	if (check_key(st, st->certs[0], 0) < 0)
		return -1;
	if (eku_needed(st->params->purpose) != 0 && (st->eku_left & own) == 0)
		return fail(st, CV_REASON_CHAIN_INVALID, "eku", 0,
		            (own & eku_needed(st->params->purpose)) == 0
		                ? "extended key usage does not allow %s"
		                : "extended key usage allows %s only through key purposes the CAs "
		                  "above it do not allow",
		            purpose);
	return check_peer_name(st);
}

static int
wrap_up(struct vstate *st)
{
	char why[128];

	if (cv_certpol_wrap_up(st->policy, st->certs[0], why, sizeof(why)) < 0)
		return policy_fail(st, 0, why);
	return check_leaf(st);
}

/* --- 6.1.2 initialization and the trust anchor --- */

/* The anchor's form (anchor.c), its validity when self-issued or the peer's own certificate,
 * and, when it issues, its extended key usage. */
static int
check_anchor(struct vstate *st)
{
	const size_t a = st->n - 1;
	const char *detail = "anchor-malformed";
	char why[CV_MESSAGE_MAX];

	if (cv_anchor_check(st->certs[a], st->n > 1, &detail, why, sizeof(why)) < 0)
		return fail(st, CV_REASON_CHAIN_INVALID, detail, a, "%s", why);
	if ((cv_cert_is_self_issued(st->certs[a]) || st->n == 1) && check_validity(st, a) < 0)
		return -1;
	return st->n > 1 ? check_ca_eku(st, a) : 0;
}

/* 6.1.2 with the anchor's constraints (RFC 5937 3): its pathLenConstraint bounds
 * max_path_length, its name constraints are the first subtrees, its policy constraints
 * initialise the policy counters. */
static int
initialize(struct vstate *st)
{
	const size_t a = st->n - 1;
	const struct cv_cert *anchor = st->certs[a];
	const int anchor_len = cv_cert_basic_constraints(anchor)->path_len;

	st->working_issuer = anchor;
	st->working_params = anchor;
	st->max_path_length = (int)(st->n - 1);
	st->max_path_length_from = SIZE_MAX;
	if (anchor_len >= 0 && anchor_len < st->max_path_length) {
		st->max_path_length = anchor_len;
		st->max_path_length_from = a;
	}
	st->n_nc = 0;
	if (cv_cert_name_constraints(anchor)->present)
		st->nc_cas[st->n_nc++] = anchor;
	st->policy = cv_certpol_init(st->params, anchor, st->n - 1);
	if (st->policy == NULL)
		return fail(st, CV_REASON_INTERNAL_ERROR, "out-of-memory", a, "out of memory");
	return 0;
}

int
cv_path_validate(struct cv_cert *const *certs, size_t n, const struct cv_path_params *params,
                 struct cv_sig_cache *sigs, struct cv_path_used *used, struct cv_failure *failure)
{
	struct vstate st;
	size_t idx, rfc_i;
	int ret = -1;

	memset(&st, 0, sizeof(st));
	st.params = params;
	st.sigs = sigs;
	st.certs = certs;
	st.n = n;
	st.used = used;
	st.failure = failure;
	st.eku_left = eku_needed(params->purpose);
	memset(used, 0, sizeof(*used));
	if (n == 0 || n > CV_PATH_MAX_DEPTH)
		return -1;
	if (check_anchor(&st) < 0)
		return -1;
	if (n == 1)
		return check_leaf(&st); /* the peer's certificate is itself a trust anchor */
	if (initialize(&st) < 0)
		return -1;
	for (idx = n - 1; idx-- > 0;) {
		rfc_i = n - 1 - idx;
		if (basic_certificate_processing(&st, idx, rfc_i) < 0)
			goto out;
		if (idx > 0 && prepare_for_next(&st, idx, rfc_i) < 0)
			goto out;
	}
	ret = wrap_up(&st);
out:
	cv_certpol_free(st.policy);
	return ret;
}
