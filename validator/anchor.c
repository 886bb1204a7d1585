/*
 * anchor.c: the form a trust anchor's certificate must have before it anchors a path (SPEC
 * issue 11, RFC 5937). The anchor is more than a name and a key: the constraints its
 * certificate carries (name constraints, pathLenConstraint, extended key usage, policy
 * constraints) restrict every path below it, as OpenSSL, Chrome, Go and rustls apply them;
 * path_validate.c applies them. This file refuses an anchor whose certificate cannot be read
 * as a CA certificate RFC 5280 would let sign certificates, each rule with its section, in
 * the same table style as profile.c.
 *
 * An anchor that is itself the peer's certificate (a pinned end entity, a path of one) issues
 * nothing: only the rules marked ANY_ROLE apply to it. Version 1 and 2 anchors carry no
 * extensions and are taken as CAs (RFC 5280 6.1.1 (d): a trust anchor is a name and a key).
 */
#include <stdio.h>

#include "../common/util.h"
#include "x509int.h"

/* A rule: NULL when the anchor conforms, else the message (static text or written to buf). */
typedef const char *(*anchor_rule_fn)(const struct cv_cert *cert, char *buf, size_t len);

struct anchor_rule {
	const char *detail;
	bool any_role; /* also when the anchor is the peer's own certificate */
	anchor_rule_fn check;
};

/* RFC 5280 4.2: an extension the relying party does not process and that is critical makes
 * the certificate unusable (6.1.3 does the same for the rest of the path). */
static const char *
rule_critical(const struct cv_cert *cert, char *buf, size_t len)
{
	const struct cv_cert_ext *x;

	for (size_t i = 0; (x = cv_cert_ext_at(cert, i)) != NULL; i++)
		if (x->critical && !cv_ext_processed(x->oid)) {
			snprintf(buf, len, "unknown critical extension %s (RFC 5280 4.2)", x->oid);
			return buf;
		}
	return NULL;
}

/* RFC 5280 4.2.1.1 and 4.2.1.2: "Conforming CAs MUST mark this extension as non-critical". */
static const char *
rule_key_ids(const struct cv_cert *cert, char *buf, size_t len)
{
	if (cv_cert_aki(cert)->present && cv_cert_aki(cert)->critical)
		return "critical authorityKeyIdentifier (RFC 5280 4.2.1.1)";
	if (cv_cert_ski(cert)->present && cv_cert_ski(cert)->critical)
		return "critical subjectKeyIdentifier (RFC 5280 4.2.1.2)";
	return NULL;
}

/* RFC 5280 4.2.1.3: "If the keyCertSign bit is asserted, then the cA bit in the basic
 * constraints extension MUST also be asserted". */
static const char *
rule_key_cert_sign_ca(const struct cv_cert *cert, char *buf, size_t len)
{
	const struct cv_cert_ku *ku = cv_cert_key_usage(cert);

	if (ku->present && (ku->bits & CV_KU_KEY_CERT_SIGN) && !cv_cert_basic_constraints(cert)->ca)
		return "keyCertSign without basicConstraints cA (RFC 5280 4.2.1.3)";
	return NULL;
}

/* RFC 5280 4.1.2.6: a CA's subject is a non-empty distinguished name; paths chain on it. */
static const char *
rule_subject(const struct cv_cert *cert, char *buf, size_t len)
{
	size_t n;
	const uint8_t *s = cv_cert_subject_der(cert, &n);

	return n == 2 && s[0] == 0x30 && s[1] == 0x00 ? "empty subject (RFC 5280 4.1.2.6)" : NULL;
}

/* RFC 5280 4.2.1.9: basicConstraints MUST appear, marked critical, in a CA certificate whose
 * key verifies certificate signatures. */
static const char *
rule_basic_constraints(const struct cv_cert *cert, char *buf, size_t len)
{
	const struct cv_cert_bc *bc = cv_cert_basic_constraints(cert);

	if (cv_cert_version(cert) < 3)
		return NULL;
	if (!bc->present)
		return "no basicConstraints in a version 3 CA certificate (RFC 5280 4.2.1.9)";
	if (!bc->critical)
		return "non-critical basicConstraints (RFC 5280 4.2.1.9)";
	return NULL;
}

/* RFC 5280 4.2.1.9 and 6.1.4 (k): cA TRUE in the certificate of an issuer. */
static const char *
rule_ca(const struct cv_cert *cert, char *buf, size_t len)
{
	if (cv_cert_version(cert) < 3 || cv_cert_basic_constraints(cert)->ca)
		return NULL;
	return "basicConstraints cA is FALSE (RFC 5280 4.2.1.9)";
}

/* RFC 5280 4.2.1.3 and 6.1.4 (n): a keyUsage without keyCertSign. */
static const char *
rule_key_usage(const struct cv_cert *cert, char *buf, size_t len)
{
	const struct cv_cert_ku *ku = cv_cert_key_usage(cert);

	if (ku->present && !(ku->bits & CV_KU_KEY_CERT_SIGN))
		return "keyUsage without keyCertSign (RFC 5280 4.2.1.3)";
	return NULL;
}

static const struct anchor_rule rules[] = {
    {"anchor-malformed", true, rule_critical},           {"anchor-malformed", true, rule_key_ids},
    {"anchor-malformed", true, rule_key_cert_sign_ca},   {"anchor-malformed", false, rule_subject},
    {"anchor-malformed", false, rule_basic_constraints}, {"anchor-not-ca", false, rule_ca},
    {"anchor-malformed", false, rule_key_usage},
};

int
cv_anchor_check(const struct cv_cert *cert, bool issues, const char **detail, char *why,
                size_t why_len)
{
	char buf[CV_MESSAGE_MAX];

	for (size_t i = 0; i < CV_ARRAY_LEN(rules); i++) {
		const char *msg;

		if ((!issues && !rules[i].any_role) ||
		    (msg = rules[i].check(cert, buf, sizeof(buf))) == NULL)
			continue;
		*detail = rules[i].detail;
		snprintf(why, why_len, "trust anchor %s: %s", cv_cert_subject(cert), msg);
		return -1;
	}
	return 0;
}
