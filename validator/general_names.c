/*
 * general_names.c: the GeneralName and DistributionPoint syntax of RFC 5280, read once for
 * the certificate's extensions and the CRL's (see general_names.h).
 */
#include "general_names.h"

#include <string.h>

#include "name.h"

static bool
ia5(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] == 0 || p[i] > 0x7f)
			return false;
	return true;
}

/* AnotherName ::= SEQUENCE { type-id OBJECT IDENTIFIER, value [0] EXPLICIT ANY } */
bool
cv_other_name_ok(const uint8_t *p, size_t len)
{
	struct cv_asn1 d, explicit;
	struct cv_asn1_elem type, value, any;

	cv_asn1_init(&d, p, len);
	if (cv_asn1_expect(&d, CV_ASN1_OID, &type) < 0 ||
	    cv_asn1_expect(&d, CV_ASN1_CTX_CONS(0), &value) < 0 || cv_asn1_finish(&d) < 0)
		return false;
	cv_asn1_open(&value, &explicit);
	return cv_asn1_next(&explicit, &any) == 0 && cv_asn1_finish(&explicit) == 0;
}

/* One or more whole elements, to the end. */
static bool
elements_ok(const uint8_t *p, size_t len)
{
	struct cv_asn1 d;
	struct cv_asn1_elem e;

	if (len == 0)
		return false;
	cv_asn1_init(&d, p, len);
	while (!cv_asn1_empty(&d))
		if (cv_asn1_next(&d, &e) < 0)
			return false;
	return true;
}

/* DirectoryString ::= CHOICE { teletexString, printableString, universalString, utf8String,
 * bmpString }, as one element that fills an EXPLICIT tag's contents. */
static bool
directory_string_ok(const struct cv_asn1_elem *tagged)
{
	struct cv_asn1 d;
	struct cv_asn1_elem s;

	cv_asn1_open(tagged, &d);
	if (cv_asn1_next(&d, &s) < 0 || cv_asn1_finish(&d) < 0)
		return false;
	return s.tag == CV_ASN1_T61_STRING || s.tag == CV_ASN1_PRINTABLE_STRING ||
	       s.tag == CV_ASN1_UNIVERSAL_STRING || s.tag == CV_ASN1_UTF8_STRING ||
	       s.tag == CV_ASN1_BMP_STRING;
}

/* EDIPartyName ::= SEQUENCE { nameAssigner [0] DirectoryString OPTIONAL,
 *      partyName [1] DirectoryString } (EXPLICIT: DirectoryString is a CHOICE) */
static bool
edi_party_ok(const uint8_t *p, size_t len)
{
	struct cv_asn1 d;
	struct cv_asn1_elem e;
	bool present;

	cv_asn1_init(&d, p, len);
	if (cv_asn1_optional(&d, CV_ASN1_CTX_CONS(0), &e, &present) < 0 ||
	    (present && !directory_string_ok(&e)))
		return false;
	return cv_asn1_expect(&d, CV_ASN1_CTX_CONS(1), &e) == 0 && directory_string_ok(&e) &&
	       cv_asn1_finish(&d) == 0;
}

/*
 * GeneralName ::= CHOICE {
 *      otherName                 [0]  AnotherName,
 *      rfc822Name                [1]  IA5String,
 *      dNSName                   [2]  IA5String,
 *      x400Address               [3]  ORAddress,
 *      directoryName             [4]  Name,
 *      ediPartyName              [5]  EDIPartyName,
 *      uniformResourceIdentifier [6]  IA5String,
 *      iPAddress                 [7]  OCTET STRING,
 *      registeredID              [8]  OBJECT IDENTIFIER }
 * (implicit tags; [4] is explicit since Name is a CHOICE). out may be NULL.
 */
int
cv_general_name_read(const struct cv_asn1_elem *e, struct cv_cert_gn *out)
{
	struct cv_cert_gn gn = {.val = e->val, .len = e->len, .raw = e->raw, .raw_len = e->raw_len};
	struct cv_asn1_elem name;

	switch (e->tag) {
	case CV_ASN1_CTX_CONS(0):
		gn.type = CV_GN_OTHER_NAME;
		if (!cv_other_name_ok(e->val, e->len))
			return -1;
		break;
	case CV_ASN1_CTX_CONS(3): /* ORAddress ::= SEQUENCE { ... }: elements, not parsed further */
		gn.type = CV_GN_X400;
		if (!elements_ok(e->val, e->len))
			return -1;
		break;
	case CV_ASN1_CTX_CONS(5):
		gn.type = CV_GN_EDI_PARTY;
		if (!edi_party_ok(e->val, e->len))
			return -1;
		break;
	case CV_ASN1_CTX(1):
	case CV_ASN1_CTX(2):
	case CV_ASN1_CTX(6):
		gn.type = (enum cv_gn_type)(e->tag & 0x1f);
		if (!ia5(e->val, e->len))
			return -1;
		break;
	case CV_ASN1_CTX_CONS(4):
		gn.type = CV_GN_DIRECTORY;
		if (cv_asn1_whole(e->val, e->len, CV_ASN1_SEQUENCE, &name) < 0 ||
		    cv_name_rdn_count(name.raw, name.raw_len) < 0)
			return -1;
		gn.val = name.raw;
		gn.len = name.raw_len;
		break;
	case CV_ASN1_CTX(7):
		gn.type = CV_GN_IP;
		if (e->len != 4 && e->len != 16)
			return -1;
		break;
	case CV_ASN1_CTX(8):
		gn.type = CV_GN_REGISTERED_ID;
		if (!cv_asn1_oid_ok(e->val, e->len)) /* found by fuzz_diff, in a name constraint */
			return -1;
		break;
	default:
		return -1;
	}
	if (out != NULL)
		*out = gn;
	return 0;
}

/* GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName, given its contents. */
int
cv_general_names_check(const uint8_t *p, size_t len)
{
	struct cv_asn1 d;
	struct cv_asn1_elem e;

	if (len == 0)
		return -1;
	cv_asn1_init(&d, p, len);
	while (!cv_asn1_empty(&d))
		if (cv_asn1_next(&d, &e) < 0 || cv_general_name_read(&e, NULL) < 0)
			return -1;
	return 0;
}

/*
 * DistributionPointName ::= CHOICE {
 *      fullName                [0]     GeneralNames,
 *      nameRelativeToCRLIssuer [1]     RelativeDistinguishedName }
 * e is the [0] element that wraps the CHOICE (explicit, since a CHOICE cannot be implicit).
 */
int
cv_dp_name_read(const struct cv_asn1_elem *e, struct cv_dp_name *out)
{
	struct cv_asn1_elem c;
	struct cv_asn1 d;

	cv_asn1_open(e, &d);
	if (cv_asn1_next(&d, &c) < 0 || cv_asn1_finish(&d) < 0)
		return -1;
	if (c.tag == CV_ASN1_CTX_CONS(0) && cv_general_names_check(c.val, c.len) == 0)
		out->kind = CV_DP_FULL_NAME;
	else if (c.tag == CV_ASN1_CTX_CONS(1) && c.len > 0)
		out->kind = CV_DP_RELATIVE_NAME;
	else
		return -1;
	out->names = c.val;
	out->len = c.len;
	return 0;
}

/*
 * DistributionPoint ::= SEQUENCE {
 *      distributionPoint       [0]     DistributionPointName OPTIONAL,
 *      reasons                 [1]     ReasonFlags OPTIONAL,
 *      cRLIssuer               [2]     GeneralNames OPTIONAL }
 */
static int
read_dist_point(struct cv_asn1 *dp, struct cv_dist_point *p)
{
	struct cv_asn1_elem e;
	bool present;

	memset(p, 0, sizeof(*p));
	if (cv_asn1_optional(dp, CV_ASN1_CTX_CONS(0), &e, &present) < 0 ||
	    (present && cv_dp_name_read(&e, &p->dp) < 0))
		return -1;
	if (cv_asn1_optional(dp, CV_ASN1_CTX(1), &e, &p->has_reasons) < 0 ||
	    (p->has_reasons && cv_asn1_bit_flags(&e, &p->reasons) < 0))
		return -1;
	if (cv_asn1_optional(dp, CV_ASN1_CTX_CONS(2), &e, &present) < 0 ||
	    (present && cv_general_names_check(e.val, e.len) < 0) || cv_asn1_finish(dp) < 0)
		return -1;
	if (present) {
		p->crl_issuer = e.val;
		p->crl_issuer_len = e.len;
	}
	/* RFC 5280 4.2.1.13: a point names its CRL, its CRL issuer, or both */
	return p->dp.kind == CV_DP_NONE && p->crl_issuer == NULL ? -1 : 0;
}

/* CRLDistributionPoints ::= SEQUENCE SIZE (1..MAX) OF DistributionPoint */
int
cv_dist_points_read(const uint8_t *der, size_t len, struct cv_dist_point *out, size_t max)
{
	struct cv_asn1 top, list, dp;
	size_t n = 0;

	cv_asn1_init(&top, der, len);
	if (cv_asn1_enter(&top, CV_ASN1_SEQUENCE, &list) < 0 || cv_asn1_finish(&top) < 0 ||
	    cv_asn1_empty(&list))
		return -1;
	while (!cv_asn1_empty(&list)) {
		if (n == max || cv_asn1_enter(&list, CV_ASN1_SEQUENCE, &dp) < 0 ||
		    read_dist_point(&dp, &out[n]) < 0)
			return -1;
		n++;
	}
	return (int)n;
}
