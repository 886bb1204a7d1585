/* crl_reader.c: one streaming pass over a DER CertificateList (RFC 5280 section 5). */
#include "crl_reader.h"

#include <stdio.h>
#include <string.h>

#include "../../common/error.h"
#include "../name.h"

/* id-ce arcs (2.5.29.x) and id-pe-authorityInfoAccess, as OID contents. */
static const uint8_t oid_reason_code[] = {0x55, 0x1d, 0x15};
static const uint8_t oid_hold_instruction[] = {0x55, 0x1d, 0x17};
static const uint8_t oid_invalidity_date[] = {0x55, 0x1d, 0x18};
static const uint8_t oid_certificate_issuer[] = {0x55, 0x1d, 0x1d};
static const uint8_t oid_aki[] = {0x55, 0x1d, 0x23};
static const uint8_t oid_issuer_alt_name[] = {0x55, 0x1d, 0x12};
static const uint8_t oid_crl_number[] = {0x55, 0x1d, 0x14};
static const uint8_t oid_delta_crl_indicator[] = {0x55, 0x1d, 0x1b};
static const uint8_t oid_idp[] = {0x55, 0x1d, 0x1c};
static const uint8_t oid_freshest_crl[] = {0x55, 0x1d, 0x2e};
static const uint8_t oid_aia[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01};
/* Microsoft's Next CRL Publish, 1.3.6.1.4.1.311.21.4 (a Time; a scheduling hint only). */
static const uint8_t oid_next_publish[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x15, 0x04};

#define OID_IS(e, oid) cv_asn1_oid_eq((e), (oid), sizeof(oid))

const char *
cv_crl_reason_name(int reason)
{
	static const char *const names[] = {
	    "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
	    "superseded",    "cessationOfOperation", "certificateHold", "?",
	    "removeFromCRL", "privilegeWithdrawn",   "aACompromise"};

	if (reason == CV_CRL_REASON_NONE)
		return "unspecified";
	if (reason < 0 || reason > CV_CRL_REASON_AA_COMPROMISE)
		return "?";
	return names[reason];
}

/*
 * Extension ::= SEQUENCE {
 *      extnID      OBJECT IDENTIFIER,
 *      critical    BOOLEAN DEFAULT FALSE,
 *      extnValue   OCTET STRING }
 * An explicit FALSE is not DER but occurs in the wild; it is accepted.
 */
static int
read_extension(struct cv_asn1 *exts, struct cv_asn1_elem *oid, bool *critical,
               struct cv_asn1_elem *value)
{
	struct cv_asn1 ext;
	struct cv_asn1_elem b;
	bool present;

	*critical = false;
	if (cv_asn1_enter(exts, CV_ASN1_SEQUENCE, &ext) < 0 ||
	    cv_asn1_expect(&ext, CV_ASN1_OID, oid) < 0 ||
	    cv_asn1_optional(&ext, CV_ASN1_BOOLEAN, &b, &present) < 0 ||
	    (present && cv_asn1_bool(&b, critical) < 0) ||
	    cv_asn1_expect(&ext, CV_ASN1_OCTET_STRING, value) < 0 || cv_asn1_finish(&ext) < 0)
		return -1;
	return 0;
}

/* An implicitly tagged BOOLEAN [n] DEFAULT FALSE (DER: present only when TRUE). */
static int
read_ctx_bool(struct cv_asn1 *d, unsigned n, bool *out)
{
	struct cv_asn1_elem e;
	bool present;

	*out = false;
	if (cv_asn1_optional(d, CV_ASN1_CTX(n), &e, &present) < 0)
		return -1;
	if (!present)
		return 0;
	e.tag = CV_ASN1_BOOLEAN;
	return cv_asn1_bool(&e, out);
}

/*
 * IssuingDistributionPoint ::= SEQUENCE {
 *      distributionPoint          [0] DistributionPointName OPTIONAL,
 *      onlyContainsUserCerts      [1] BOOLEAN DEFAULT FALSE,
 *      onlyContainsCACerts        [2] BOOLEAN DEFAULT FALSE,
 *      onlySomeReasons            [3] ReasonFlags OPTIONAL,
 *      indirectCRL                [4] BOOLEAN DEFAULT FALSE,
 *      onlyContainsAttributeCerts [5] BOOLEAN DEFAULT FALSE }
 */
static int
read_idp(const struct cv_asn1_elem *value, struct cv_crl_idp *idp)
{
	struct cv_asn1 outer, d;
	struct cv_asn1_elem e;
	bool present;

	memset(idp, 0, sizeof(*idp));
	idp->present = true;
	idp->raw = value->val;
	idp->raw_len = value->len;
	cv_asn1_open(value, &outer);
	if (cv_asn1_enter(&outer, CV_ASN1_SEQUENCE, &d) < 0 || cv_asn1_finish(&outer) < 0)
		return -1;
	if (cv_asn1_optional(&d, CV_ASN1_CTX_CONS(0), &e, &present) < 0 ||
	    (present && cv_dp_name_read(&e, &idp->dp) < 0))
		return -1;
	if (read_ctx_bool(&d, 1, &idp->only_user_certs) < 0 ||
	    read_ctx_bool(&d, 2, &idp->only_ca_certs) < 0)
		return -1;
	if (cv_asn1_optional(&d, CV_ASN1_CTX(3), &e, &idp->has_reasons) < 0 ||
	    (idp->has_reasons && cv_asn1_bit_flags(&e, &idp->only_some_reasons) < 0))
		return -1;
	if (read_ctx_bool(&d, 4, &idp->indirect_crl) < 0 ||
	    read_ctx_bool(&d, 5, &idp->only_attribute_certs) < 0 || cv_asn1_finish(&d) < 0)
		return -1;
	/* At most one of the "only" flags may be set (RFC 5280 5.2.5). */
	if (idp->only_user_certs + idp->only_ca_certs + idp->only_attribute_certs > 1)
		return -1;
	return 0;
}

/*
 * AuthorityKeyIdentifier ::= SEQUENCE {
 *      keyIdentifier             [0] KeyIdentifier           OPTIONAL,
 *      authorityCertIssuer       [1] GeneralNames            OPTIONAL,
 *      authorityCertSerialNumber [2] CertificateSerialNumber OPTIONAL }
 */
static int
read_aki(const struct cv_asn1_elem *value, struct cv_crl_info *info)
{
	struct cv_asn1 outer, d;
	struct cv_asn1_elem e;
	bool present;

	cv_asn1_open(value, &outer);
	if (cv_asn1_enter(&outer, CV_ASN1_SEQUENCE, &d) < 0 || cv_asn1_finish(&outer) < 0 ||
	    cv_asn1_optional(&d, CV_ASN1_CTX(0), &e, &present) < 0)
		return -1;
	if (present) {
		info->aki_key_id = e.val;
		info->aki_key_id_len = e.len;
	}
	if (cv_asn1_optional(&d, CV_ASN1_CTX_CONS(1), &e, &present) < 0 ||
	    cv_asn1_optional(&d, CV_ASN1_CTX(2), &e, &present) < 0 || cv_asn1_finish(&d) < 0)
		return -1;
	return 0;
}

/* CRLNumber ::= INTEGER (0..MAX); BaseCRLNumber ::= CRLNumber */
static int
read_crl_number(const struct cv_asn1_elem *value, const uint8_t **num, size_t *len)
{
	struct cv_asn1_elem e;

	if (cv_asn1_whole(value->val, value->len, CV_ASN1_INTEGER, &e) < 0 || e.len == 0 ||
	    e.len > 21 || (e.val[0] & 0x80))
		return -1;
	*num = e.val;
	*len = e.len;
	cv_asn1_int_normalise(num, len);
	return 0;
}

/*
 * Next CRL Publish: when the CA will publish the next CRL (UTCTime or GeneralizedTime). Only
 * the refresh schedule reads it, so a malformed value is ignored rather than fatal.
 */
static void
read_next_publish(const struct cv_asn1_elem *value, struct cv_crl_info *info)
{
	struct cv_asn1 d;
	struct cv_asn1_elem e;
	cv_time t;

	cv_asn1_open(value, &d);
	if (cv_asn1_next(&d, &e) == 0 && cv_asn1_finish(&d) == 0 && cv_asn1_time(&e, &t) == 0)
		info->next_publish = t;
}

/* One crlExtensions element; sets err on failure. */
static int
read_crl_extension(struct cv_asn1 *exts, struct cv_crl_info *info, unsigned *seen,
                   struct cv_error *err)
{
	struct cv_asn1_elem oid, value;
	bool critical;
	unsigned bit = 0;
	int rc = 0;

	if (read_extension(exts, &oid, &critical, &value) < 0) {
		cv_error_set(err, "crlExtensions: malformed extension");
		return -1;
	}
	if (OID_IS(&oid, oid_crl_number)) {
		bit = 1;
		rc = read_crl_number(&value, &info->crl_number, &info->crl_number_len);
		info->crl_number_critical = critical;
	} else if (OID_IS(&oid, oid_delta_crl_indicator)) {
		bit = 2;
		rc = read_crl_number(&value, &info->base_crl_number, &info->base_crl_number_len);
	} else if (OID_IS(&oid, oid_idp)) {
		bit = 4;
		rc = read_idp(&value, &info->idp);
	} else if (OID_IS(&oid, oid_aki)) {
		bit = 8;
		rc = read_aki(&value, info);
	} else if (OID_IS(&oid, oid_freshest_crl)) {
		bit = 16;
		info->freshest_crl = value.val;
		info->freshest_crl_len = value.len;
	} else if (OID_IS(&oid, oid_next_publish)) {
		read_next_publish(&value, info);
	} else if (OID_IS(&oid, oid_issuer_alt_name) || OID_IS(&oid, oid_aia)) {
		/* understood and not needed */
	} else if (critical) {
		info->unknown_critical = true;
	}
	if (rc < 0) {
		char text[64];

		if (cv_asn1_oid_text(oid.val, oid.len, text, sizeof(text)) < 0)
			snprintf(text, sizeof(text), "?");
		cv_error_set(err, "crlExtensions: malformed extension %s", text);
		return -1;
	}
	if (bit != 0) {
		if (*seen & bit) {
			cv_error_set(err, "crlExtensions: duplicate extension");
			return -1;
		}
		*seen |= bit;
	}
	return 0;
}

/*
 * crlEntryExtensions: reasonCode (CRLReason ::= ENUMERATED), invalidityDate (GeneralizedTime),
 * certificateIssuer (GeneralNames), holdInstructionCode (OBJECT IDENTIFIER; understood, not
 * used). Each at most once.
 */
static int
read_entry_extensions(const struct cv_asn1_elem *exts_elem, struct cv_crl_entry_view *out)
{
	struct cv_asn1 exts;
	unsigned seen = 0;

	cv_asn1_open(exts_elem, &exts);
	if (cv_asn1_empty(&exts))
		return -1;
	while (!cv_asn1_empty(&exts)) {
		struct cv_asn1_elem oid, value, v;
		bool critical;
		unsigned bit = 0;
		int32_t reason;

		if (read_extension(&exts, &oid, &critical, &value) < 0)
			return -1;
		if (OID_IS(&oid, oid_reason_code)) {
			bit = 1;
			if (cv_asn1_whole(value.val, value.len, CV_ASN1_ENUMERATED, &v) < 0 ||
			    cv_asn1_small_int(&v, &reason) < 0 ||
			    reason > CV_CRL_REASON_AA_COMPROMISE || reason == 7)
				return -1;
			out->reason = reason;
		} else if (OID_IS(&oid, oid_invalidity_date)) {
			bit = 2;
			if (cv_asn1_whole(value.val, value.len, CV_ASN1_GENERALIZED_TIME, &v) < 0 ||
			    cv_asn1_time(&v, &out->invalidity_date) < 0)
				return -1;
		} else if (OID_IS(&oid, oid_certificate_issuer)) {
			bit = 4;
			if (cv_asn1_whole(value.val, value.len, CV_ASN1_SEQUENCE, &v) < 0 ||
			    cv_general_names_check(v.val, v.len) < 0)
				return -1;
			out->cert_issuer = v.val;
			out->cert_issuer_len = v.len;
		} else if (OID_IS(&oid, oid_hold_instruction)) {
			bit = 8;
			if (cv_asn1_whole(value.val, value.len, CV_ASN1_OID, &v) < 0)
				return -1;
		} else if (critical) {
			out->unknown_critical = true;
		}
		if (bit != 0) {
			if (seen & bit)
				return -1;
			seen |= bit;
		}
	}
	return 0;
}

/*
 * revokedCertificates SEQUENCE OF SEQUENCE {
 *      userCertificate         CertificateSerialNumber,
 *      revocationDate          Time,
 *      crlEntryExtensions      Extensions OPTIONAL }
 */
int
cv_crl_read_entry(const uint8_t *raw, size_t len, struct cv_crl_entry_view *out)
{
	struct cv_asn1 outer, d;
	struct cv_asn1_elem e;
	bool present;

	memset(out, 0, sizeof(*out));
	out->reason = CV_CRL_REASON_NONE;
	out->invalidity_date = CV_TIME_NONE;
	out->raw = raw;
	out->raw_len = len;
	cv_asn1_init(&outer, raw, len);
	if (cv_asn1_enter(&outer, CV_ASN1_SEQUENCE, &d) < 0 || cv_asn1_finish(&outer) < 0 ||
	    cv_asn1_expect(&d, CV_ASN1_INTEGER, &e) < 0 ||
	    cv_asn1_serial(&e, &out->serial, &out->serial_len) < 0 || cv_asn1_next(&d, &e) < 0 ||
	    cv_asn1_time(&e, &out->revocation_date) < 0 ||
	    cv_asn1_optional(&d, CV_ASN1_SEQUENCE, &e, &present) < 0 || cv_asn1_finish(&d) < 0)
		return -1;
	if (present && read_entry_extensions(&e, out) < 0)
		return -1;
	return 0;
}

static int
read_entries(const struct cv_asn1_elem *list, struct cv_crl_info *info, cv_crl_entry_fn fn,
             void *arg, struct cv_error *err)
{
	struct cv_asn1 d;
	struct cv_asn1_elem e;
	struct cv_crl_entry_view entry;

	cv_asn1_open(list, &d);
	while (!cv_asn1_empty(&d)) {
		if (cv_asn1_expect(&d, CV_ASN1_SEQUENCE, &e) < 0 ||
		    cv_crl_read_entry(e.raw, e.raw_len, &entry) < 0) {
			cv_error_set(err, "revokedCertificates: malformed entry %zu",
			             info->n_entries);
			return -1;
		}
		if (entry.unknown_critical)
			info->entry_unknown_critical = true;
		if (entry.cert_issuer != NULL)
			info->has_certificate_issuer = true;
		info->n_entries++;
		if (fn != NULL && fn(arg, &entry, err) < 0)
			return -1;
	}
	return 0;
}

/* AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL } */
static int
read_algorithm(struct cv_asn1 *d, struct cv_asn1_elem *whole, struct cv_asn1_elem *oid,
               struct cv_asn1_elem *params, bool *has_params)
{
	struct cv_asn1 a;

	if (cv_asn1_expect(d, CV_ASN1_SEQUENCE, whole) < 0)
		return -1;
	cv_asn1_open(whole, &a);
	if (cv_asn1_expect(&a, CV_ASN1_OID, oid) < 0)
		return -1;
	*has_params = !cv_asn1_empty(&a);
	if (*has_params && cv_asn1_next(&a, params) < 0)
		return -1;
	return cv_asn1_finish(&a);
}

/*
 * TBSCertList  ::=  SEQUENCE  {
 *      version                 Version OPTIONAL, -- if present, MUST be v2
 *      signature               AlgorithmIdentifier,
 *      issuer                  Name,
 *      thisUpdate              Time,
 *      nextUpdate              Time OPTIONAL,
 *      revokedCertificates     SEQUENCE OF SEQUENCE { ... } OPTIONAL,
 *      crlExtensions           [0] EXPLICIT Extensions OPTIONAL }
 */
static int
read_tbs(const struct cv_asn1_elem *tbs, struct cv_asn1_elem *inner_alg, struct cv_crl_info *info,
         cv_crl_entry_fn fn, void *arg, struct cv_error *err)
{
	struct cv_asn1 d, exts;
	struct cv_asn1_elem e, oid, params;
	bool present, has_params;
	int32_t version;
	unsigned seen = 0;

	cv_asn1_open(tbs, &d);
	info->version = 1;
	if (cv_asn1_optional(&d, CV_ASN1_INTEGER, &e, &present) < 0)
		goto bad;
	if (present) {
		if (cv_asn1_small_int(&e, &version) < 0 || version != 1) {
			cv_error_set(err, "tbsCertList.version: not v2");
			return -1;
		}
		info->version = 2;
	}
	if (read_algorithm(&d, inner_alg, &oid, &params, &has_params) < 0) {
		cv_error_set(err, "tbsCertList.signature: malformed AlgorithmIdentifier");
		return -1;
	}
	if (cv_asn1_expect(&d, CV_ASN1_SEQUENCE, &e) < 0 ||
	    cv_name_key(e.raw, e.raw_len, &info->issuer_key) < 0) {
		cv_error_set(err, "tbsCertList.issuer: malformed Name");
		return -1;
	}
	info->issuer = e.raw;
	info->issuer_len = e.raw_len;
	if (cv_asn1_next(&d, &e) < 0 || cv_asn1_time(&e, &info->this_update) < 0) {
		cv_error_set(err, "tbsCertList.thisUpdate: malformed time");
		return -1;
	}
	info->next_update = CV_TIME_NONE;
	info->next_publish = CV_TIME_NONE;
	if (cv_asn1_peek(&d) == CV_ASN1_UTC_TIME || cv_asn1_peek(&d) == CV_ASN1_GENERALIZED_TIME) {
		if (cv_asn1_next(&d, &e) < 0 || cv_asn1_time(&e, &info->next_update) < 0) {
			cv_error_set(err, "tbsCertList.nextUpdate: malformed time");
			return -1;
		}
	}
	if (cv_asn1_optional(&d, CV_ASN1_SEQUENCE, &e, &present) < 0)
		goto bad;
	if (present && read_entries(&e, info, fn, arg, err) < 0)
		return -1;
	if (cv_asn1_peek(&d) == CV_ASN1_CTX_CONS(0)) {
		struct cv_asn1 wrap;

		if (info->version < 2 || cv_asn1_enter(&d, CV_ASN1_CTX_CONS(0), &wrap) < 0 ||
		    cv_asn1_enter(&wrap, CV_ASN1_SEQUENCE, &exts) < 0 ||
		    cv_asn1_finish(&wrap) < 0 || cv_asn1_empty(&exts)) {
			cv_error_set(err, "crlExtensions: malformed");
			return -1;
		}
		while (!cv_asn1_empty(&exts))
			if (read_crl_extension(&exts, info, &seen, err) < 0)
				return -1;
	}
	if (cv_asn1_finish(&d) < 0)
		goto bad;
	return 0;
bad:
	cv_error_set(err, "tbsCertList: malformed or trailing data");
	return -1;
}

/*
 * CertificateList  ::=  SEQUENCE  {
 *      tbsCertList          TBSCertList,
 *      signatureAlgorithm   AlgorithmIdentifier,
 *      signatureValue       BIT STRING  }
 */
int
cv_crl_read(const uint8_t *der, size_t len, struct cv_crl_info *info, cv_crl_entry_fn fn, void *arg,
            struct cv_error *err)
{
	struct cv_asn1 top, cl;
	struct cv_asn1_elem tbs, inner_alg, outer_alg, oid, params, sig;
	bool has_params;
	unsigned unused;

	memset(info, 0, sizeof(*info));
	if (err != NULL)
		err->msg[0] = '\0';
	cv_asn1_init(&top, der, len);
	if (cv_asn1_enter(&top, CV_ASN1_SEQUENCE, &cl) < 0 || cv_asn1_finish(&top) < 0) {
		cv_error_set(err, "CertificateList: not one DER SEQUENCE");
		return -1;
	}
	if (cv_asn1_expect(&cl, CV_ASN1_SEQUENCE, &tbs) < 0) {
		cv_error_set(err, "tbsCertList: malformed");
		return -1;
	}
	info->tbs = tbs.raw;
	info->tbs_len = tbs.raw_len;
	if (read_tbs(&tbs, &inner_alg, info, fn, arg, err) < 0)
		return -1;
	if (read_algorithm(&cl, &outer_alg, &oid, &params, &has_params) < 0) {
		cv_error_set(err, "signatureAlgorithm: malformed AlgorithmIdentifier");
		return -1;
	}
	if (outer_alg.raw_len != inner_alg.raw_len ||
	    memcmp(outer_alg.raw, inner_alg.raw, inner_alg.raw_len) != 0) {
		cv_error_set(err, "signatureAlgorithm differs from tbsCertList.signature");
		return -1;
	}
	info->sig_alg_oid = oid.val;
	info->sig_alg_oid_len = oid.len;
	if (has_params) {
		info->sig_alg_params = params.raw;
		info->sig_alg_params_len = params.raw_len;
	}
	if (cv_asn1_expect(&cl, CV_ASN1_BIT_STRING, &sig) < 0 ||
	    cv_asn1_bit_string(&sig, &info->signature, &info->signature_len, &unused) < 0 ||
	    unused != 0 || cv_asn1_finish(&cl) < 0) {
		cv_error_set(err, "signatureValue: malformed or trailing data");
		return -1;
	}
	return 0;
}
