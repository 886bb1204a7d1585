/* ocsp_singles.c: the SingleResponses of a BasicOCSPResponse through the strict DER reader. */
#include "ocsp_singles.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "../der.h"
#include "ocsp.h"

static int __attribute__((format(printf, 3, 4)))
fail(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return -1;
}

/* DER INTEGER contents are minimal: no redundant leading 0x00 or 0xFF octet (X.690 8.3.2). */
static bool
integer_minimal(const struct cv_asn1_elem *e)
{
	if (e->len == 0)
		return false;
	if (e->len == 1)
		return true;
	return !((e->val[0] == 0x00 && !(e->val[1] & 0x80)) ||
	         (e->val[0] == 0xff && (e->val[1] & 0x80)));
}

/*
 * Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension
 * Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE,
 *                          extnValue OCTET STRING }
 * Returns 0 when none is critical, 1 when one is (oid names it), -1 when malformed.
 */
static int
any_critical(const struct cv_asn1_elem *wrapper, char *oid, size_t oid_len)
{
	struct cv_asn1 w, exts, ext;
	struct cv_asn1_elem id, b, value;
	bool present, critical;

	cv_asn1_open(wrapper, &w);
	if (cv_asn1_enter(&w, CV_ASN1_SEQUENCE, &exts) < 0 || cv_asn1_finish(&w) < 0 ||
	    cv_asn1_empty(&exts))
		return -1;
	while (!cv_asn1_empty(&exts)) {
		critical = false;
		if (cv_asn1_enter(&exts, CV_ASN1_SEQUENCE, &ext) < 0 ||
		    cv_asn1_expect(&ext, CV_ASN1_OID, &id) < 0 ||
		    cv_asn1_optional(&ext, CV_ASN1_BOOLEAN, &b, &present) < 0 ||
		    (present && cv_asn1_bool(&b, &critical) < 0) ||
		    cv_asn1_expect(&ext, CV_ASN1_OCTET_STRING, &value) < 0 ||
		    cv_asn1_finish(&ext) < 0)
			return -1;
		if (critical) {
			if (cv_asn1_oid_text(id.val, id.len, oid, oid_len) < 0)
				snprintf(oid, oid_len, "?");
			return 1;
		}
	}
	return 0;
}

/*
 * SingleResponse ::= SEQUENCE {
 *      certID                  CertID,
 *      certStatus              CertStatus,
 *      thisUpdate              GeneralizedTime,
 *      nextUpdate          [0] EXPLICIT GeneralizedTime OPTIONAL,
 *      singleExtensions    [1] EXPLICIT Extensions OPTIONAL }
 * CertID ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash OCTET STRING,
 *                       issuerKeyHash OCTET STRING, serialNumber CertificateSerialNumber }
 */
static int
check_single(struct cv_asn1 *list, unsigned n, char *why, size_t why_len)
{
	struct cv_asn1 single, certid;
	struct cv_asn1_elem e;
	char oid[128];
	bool present;
	int crit;

	if (cv_asn1_enter(list, CV_ASN1_SEQUENCE, &single) < 0 ||
	    cv_asn1_enter(&single, CV_ASN1_SEQUENCE, &certid) < 0 ||
	    cv_asn1_expect(&certid, CV_ASN1_SEQUENCE, &e) < 0 ||
	    cv_asn1_expect(&certid, CV_ASN1_OCTET_STRING, &e) < 0 ||
	    cv_asn1_expect(&certid, CV_ASN1_OCTET_STRING, &e) < 0 ||
	    cv_asn1_expect(&certid, CV_ASN1_INTEGER, &e) < 0 || cv_asn1_finish(&certid) < 0)
		return fail(why, why_len, "OCSP SingleResponse %u: malformed CertID", n);
	if (!integer_minimal(&e))
		return fail(why, why_len,
		            "OCSP SingleResponse %u: CertID serialNumber is not minimally encoded "
		            "(malformed DER)",
		            n);
	if (cv_asn1_next(&single, &e) < 0 ||
	    cv_asn1_expect(&single, CV_ASN1_GENERALIZED_TIME, &e) < 0 ||
	    cv_asn1_optional(&single, CV_ASN1_CTX_CONS(0), &e, &present) < 0 ||
	    cv_asn1_optional(&single, CV_ASN1_CTX_CONS(1), &e, &present) < 0 ||
	    cv_asn1_finish(&single) < 0)
		return fail(why, why_len, "OCSP SingleResponse %u: malformed", n);
	crit = present ? any_critical(&e, oid, sizeof(oid)) : 0;
	if (crit < 0)
		return fail(why, why_len, "OCSP SingleResponse %u: malformed singleExtensions", n);
	if (crit > 0)
		return fail(
		    why, why_len,
		    "OCSP SingleResponse %u carries an unsupported critical singleExtension "
		    "%s",
		    n, oid);
	return 0;
}

/*
 * BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData, ... }
 * ResponseData ::= SEQUENCE {
 *      version             [0] EXPLICIT Version DEFAULT v1,
 *      responderID             ResponderID,
 *      producedAt              GeneralizedTime,
 *      responses               SEQUENCE OF SingleResponse,
 *      responseExtensions  [1] EXPLICIT Extensions OPTIONAL }
 */
int
cv_ocsp_singles_check(const uint8_t *basic, size_t len, char *why, size_t why_len)
{
	struct cv_asn1 top, resp, data, list;
	struct cv_asn1_elem e;
	bool present;
	unsigned n;

	cv_asn1_init(&top, basic, len);
	if (cv_asn1_enter(&top, CV_ASN1_SEQUENCE, &resp) < 0 || cv_asn1_finish(&top) < 0 ||
	    cv_asn1_enter(&resp, CV_ASN1_SEQUENCE, &data) < 0 ||
	    cv_asn1_optional(&data, CV_ASN1_CTX_CONS(0), &e, &present) < 0 ||
	    cv_asn1_next(&data, &e) < 0 ||
	    cv_asn1_expect(&data, CV_ASN1_GENERALIZED_TIME, &e) < 0 ||
	    cv_asn1_enter(&data, CV_ASN1_SEQUENCE, &list) < 0)
		return fail(why, why_len, "OCSP ResponseData is not strict DER");
	for (n = 0; !cv_asn1_empty(&list); n++) {
		if (n == CV_OCSP_SINGLE_RESPONSES_MAX)
			return fail(why, why_len,
			            "OCSP response holds more than %u SingleResponses",
			            CV_OCSP_SINGLE_RESPONSES_MAX);
		if (check_single(&list, n, why, why_len) < 0)
			return -1;
	}
	return 0;
}
