/*
 * path_validate.c: RFC 5280 section 6.1 validation of one candidate path (leaf first, trust
 * anchor last), step by step as the RFC names them, plus certval's own rules on top: extended
 * key usage for the purpose, the peer's host name (hostname.c), the weak-algorithm and key
 * policy and the certificate-profile rules (profile.c).
 *
 * The trust anchor is a name and a key: its own signature, extensions, constraints and (when it
 * is a subordinate CA configured as trustpoint, "chain-validation stop") its validity are not
 * processed. A self-signed anchor's validity period IS checked, because IOS rejects an expired
 * CA certificate (SPEC R7, O-17).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "../common/util.h"
#include "hostname.h"
#include "x509int.h"

#define OID_ANY_EKU  "2.5.29.37.0"
#define OID_SERVER   "1.3.6.1.5.5.7.3.1"
#define OID_CLIENT   "1.3.6.1.5.5.7.3.2"
#define OID_IPSECIKE "1.3.6.1.5.5.7.3.17"

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
	const struct cv_cert *nc_cas[CV_PATH_MAX_DEPTH]; /* permitted/excluded subtrees */
	size_t n_nc;
	struct cv_certpol_state *policy;
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

int
cv_cert_extension(const struct cv_cert *cert, const char *oid, gnutls_datum_t *out, bool *critical)
{
	const struct cv_cert_ext *x;

	out->data = NULL;
	out->size = 0;
	*critical = false;
	for (size_t i = 0; (x = cv_cert_ext_at(cert, i)) != NULL; i++) {
		if (strcmp(x->oid, oid) != 0)
			continue;
		if ((out->data = gnutls_malloc(x->len ? x->len : 1)) == NULL)
			return -1;
		memcpy(out->data, x->value, x->len);
		out->size = (unsigned)x->len;
		*critical = x->critical;
		return 0;
	}
	return 1;
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
	const uint8_t *a, *b;
	size_t al, bl;

	a = cv_cert_issuer_der(st->certs[idx], &al);
	b = cv_cert_subject_der(st->working_issuer, &bl);
	if (!cv_name_equal(a, al, b, bl))
		return fail(st, CV_REASON_CHAIN_INVALID, "name-chaining", idx,
		            "issuer name does not match the subject of %s",
		            cv_cert_subject(st->working_issuer));
	return 0;
}

static int
check_critical_extensions(struct vstate *st, size_t idx)
{
	const struct cv_cert_ext *x;
	size_t i, k;

	for (i = 0; (x = cv_cert_ext_at(st->certs[idx], i)) != NULL; i++) {
		bool known = false;

		for (k = 0; k < CV_ARRAY_LEN(known_extensions); k++)
			if (strcmp(x->oid, known_extensions[k]) == 0)
				known = true;
		if (x->critical && !known)
			return fail(st, CV_REASON_CHAIN_INVALID, "unknown-critical-extension", idx,
			            "unknown critical extension %s", x->oid);
	}
	return 0;
}

/* An end entity (not a CA) must not carry nameConstraints (RFC 5280 4.2.1.10). */
static int
check_ee_name_constraints(struct vstate *st, size_t idx)
{
	const struct cv_cert *c = st->certs[idx];

	if (!cv_cert_name_constraints(c)->present || cv_cert_basic_constraints(c)->ca)
		return 0;
	return fail(st, CV_REASON_CHAIN_INVALID, "malformed-name-constraints", idx,
	            "nameConstraints in an end-entity certificate (RFC 5280 4.2.1.10)");
}

static const char *
nc_detail(enum cv_nc_status status)
{
	switch (status) {
	case CV_NC_MALFORMED:
		return "malformed-name-constraints";
	case CV_NC_BAD_NAME:
		return "malformed-san";
	default:
		return "name-constraints";
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

		status = cv_nc_check(nc->raw, nc->raw_len, c, idx == 0, why, sizeof(why));
		if (status != CV_NC_OK)
			return fail(st, CV_REASON_CHAIN_INVALID, nc_detail(status), idx,
			            "name constraints of %s: %s", cv_cert_subject(st->nc_cas[k]),
			            why);
	}
	return 0;
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
		return fail(st, CV_REASON_CHAIN_INVALID, "policy", idx, "%s", why);
	return 0;
}

/* --- 6.1.4 preparation for the next certificate --- */

static int
prepare_for_next(struct vstate *st, size_t idx, size_t rfc_i)
{
	const struct cv_cert *c = st->certs[idx];
	const struct cv_cert_bc *bc = cv_cert_basic_constraints(c);
	const struct cv_cert_ku *ku = cv_cert_key_usage(c);
	char why[128];

	/* (a), (b), (h), (i), (j): policy mappings and counters */
	if (cv_certpol_prepare(st->policy, c, rfc_i, why, sizeof(why)) < 0)
		return fail(st, CV_REASON_CHAIN_INVALID, "policy", idx, "%s", why);
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
	if (!cv_cert_is_self_issued(c)) {
		if (st->max_path_length <= 0)
			return fail(st, CV_REASON_CHAIN_INVALID, "path-len-exceeded", idx,
			            "path length constraint exceeded");
		st->max_path_length--;
	}
	if (bc->path_len >= 0 && bc->path_len < st->max_path_length)
		st->max_path_length = bc->path_len;
	/* (n): keyCertSign */
	if (ku->present && !(ku->bits & CV_KU_KEY_CERT_SIGN))
		return fail(st, CV_REASON_CHAIN_INVALID, "key-cert-sign-missing", idx,
		            "key usage lacks keyCertSign");
	return 0;
}

/* --- 6.1.5 wrap-up, then certval's leaf rules --- */

static bool
eku_fits(const struct cv_cert_eku *eku, enum cv_purpose purpose)
{
	bool any = false, server = false, client = false, ike = false;

	for (size_t i = 0; i < eku->n; i++) {
		any |= strcmp(eku->oid[i], OID_ANY_EKU) == 0;
		server |= strcmp(eku->oid[i], OID_SERVER) == 0;
		client |= strcmp(eku->oid[i], OID_CLIENT) == 0;
		ike |= strcmp(eku->oid[i], OID_IPSECIKE) == 0;
	}
	if (!eku->present || any)
		return true; /* no EKU at all, or anyExtendedKeyUsage */
	switch (purpose) {
	case CV_PURPOSE_IKE:
		return ike || server || client;
	case CV_PURPOSE_TLS_SERVER:
		return server;
	case CV_PURPOSE_TLS_CLIENT:
		return client;
	default:
		return true;
	}
}

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
	if (check_key(st, st->certs[0], 0) < 0)
		return -1;
	if (!eku_fits(cv_cert_ext_key_usage(st->certs[0]), st->params->purpose))
		return fail(st, CV_REASON_CHAIN_INVALID, "eku", 0,
		            "extended key usage does not allow %s",
		            cv_purpose_name(st->params->purpose));
	return check_peer_name(st);
}

static int
wrap_up(struct vstate *st)
{
	char why[128];

	if (cv_certpol_wrap_up(st->policy, st->certs[0], why, sizeof(why)) < 0)
		return fail(st, CV_REASON_CHAIN_INVALID, "policy", 0, "%s", why);
	return check_leaf(st);
}

/* --- 6.1.2 initialization and the trust anchor --- */

static int
check_anchor(struct vstate *st)
{
	size_t a = st->n - 1;

	if (!cv_cert_is_self_issued(st->certs[a]) && st->n > 1)
		return 0;
	return check_validity(st, a);
}

static int
initialize(struct vstate *st)
{
	size_t a = st->n - 1;

	st->working_issuer = st->certs[a];
	st->working_params = st->certs[a];
	st->max_path_length = (int)(st->n - 1);
	st->n_nc = 0;
	st->policy = cv_certpol_init(st->params, st->n - 1);
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
