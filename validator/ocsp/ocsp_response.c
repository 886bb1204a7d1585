/* ocsp_response.c: validation of one OCSP response (RFC 6960 3.2, 4.2; RFC 8954; SPEC D-1). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/ocsp.h>

#include "../../common/util.h"
#include "../der.h"
#include "ocsp.h"
#include "ocsp_singles.h"

#define OID_PKIX_OCSP_BASIC   "1.3.6.1.5.5.7.48.1.1"
#define OID_PKIX_OCSP_NONCE   "1.3.6.1.5.5.7.48.1.2"
#define OID_PKIX_OCSP_NOCHECK "1.3.6.1.5.5.7.48.1.5"

void
cv_ocsp_params_init(struct cv_ocsp_params *params, cv_time at)
{
	memset(params, 0, sizeof(*params));
	params->at = at;
	params->nonce_mode = CV_OCSP_NONCE_REQUIRE;
	params->skew = CV_OCSP_SKEW_DEFAULT;
	params->no_next_update_ttl = CV_OCSP_NO_NEXT_TTL;
	params->digest = GNUTLS_DIG_SHA1;
}

void
cv_ocsp_result_clear(struct cv_ocsp_result *r)
{
	if (r == NULL)
		return;
	free(r->responder_der);
	memset(r, 0, sizeof(*r));
	r->produced_at = r->this_update = r->next_update = CV_TIME_NONE;
	r->valid_until = r->revoked_at = CV_TIME_NONE;
	r->revocation_reason = -1;
}

/* Marks the result as refused; always returns -1. */
static int __attribute__((format(printf, 3, 4)))
refuse(struct cv_ocsp_result *r, enum cv_ocsp_err err, const char *fmt, ...)
{
	va_list ap;

	r->status = CV_OCSP_STATUS_ERROR;
	r->err = err;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	return -1;
}

static const char *
response_status_name(int status)
{
	switch (status) {
	case GNUTLS_OCSP_RESP_MALFORMEDREQUEST:
		return "malformedRequest";
	case GNUTLS_OCSP_RESP_INTERNALERROR:
		return "internalError";
	case GNUTLS_OCSP_RESP_TRYLATER:
		return "tryLater";
	case GNUTLS_OCSP_RESP_SIGREQUIRED:
		return "sigRequired";
	case GNUTLS_OCSP_RESP_UNAUTHORIZED:
		return "unauthorized";
	default:
		return "an undefined status";
	}
}

/* The certificate's subject as RFC 4514 text into a bounded buffer. */
static void
crt_subject(gnutls_x509_crt_t crt, char *out, size_t len)
{
	gnutls_datum_t dn = {NULL, 0};

	if (gnutls_x509_crt_get_dn3(crt, &dn, 0) < 0) {
		cv_strlcpy(out, "(unreadable name)", len);
		return;
	}
	cv_strlcpy(out, (const char *)dn.data, len);
	gnutls_free(dn.data);
}

/*
 * OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT ... }
 * ResponseBytes ::= SEQUENCE { responseType OBJECT IDENTIFIER, response OCTET STRING }
 * Checks the status is successful, the type is id-pkix-ocsp-basic, ResponseData is v1 and no
 * unknown responseExtension is critical.
 */
static int
check_envelope(gnutls_ocsp_resp_t resp, struct cv_ocsp_result *r)
{
	gnutls_datum_t oid = {NULL, 0}, data = {NULL, 0};
	unsigned critical, i;
	int ret;

	ret = gnutls_ocsp_resp_get_status(resp);
	if (ret < 0)
		return refuse(r, CV_OCSP_ERR_MALFORMED, "OCSP response has no readable status: %s",
		              gnutls_strerror(ret));
	if (ret != GNUTLS_OCSP_RESP_SUCCESSFUL)
		return refuse(r, CV_OCSP_ERR_RESPONSE_STATUS,
		              "OCSP responder answered %s (responseStatus %d) instead of a status",
		              response_status_name(ret), ret);
	ret = gnutls_ocsp_resp_get_response(resp, &oid, NULL);
	if (ret < 0)
		return refuse(r, CV_OCSP_ERR_MALFORMED,
		              "OCSP response carries no responseBytes: %s", gnutls_strerror(ret));
	ret = oid.size == strlen(OID_PKIX_OCSP_BASIC) &&
	      memcmp(oid.data, OID_PKIX_OCSP_BASIC, oid.size) == 0;
	gnutls_free(oid.data);
	if (!ret)
		return refuse(r, CV_OCSP_ERR_MALFORMED,
		              "OCSP response type is not id-pkix-ocsp-basic");
	ret = gnutls_ocsp_resp_get_version(resp);
	if (ret != 1)
		return refuse(r, CV_OCSP_ERR_MALFORMED, "OCSP ResponseData version %d is not v1",
		              ret);
	for (i = 0;; i++) {
		ret = gnutls_ocsp_resp_get_extension(resp, i, &oid, &critical, &data);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret < 0)
			return refuse(r, CV_OCSP_ERR_MALFORMED,
			              "OCSP response extension %u unreadable: %s", i,
			              gnutls_strerror(ret));
		ret = critical && !(oid.size == strlen(OID_PKIX_OCSP_NONCE) &&
		                    memcmp(oid.data, OID_PKIX_OCSP_NONCE, oid.size) == 0);
		if (ret)
			refuse(r, CV_OCSP_ERR_MALFORMED,
			       "OCSP response has an unsupported critical extension %.*s",
			       (int)oid.size, (const char *)oid.data);
		gnutls_free(oid.data);
		gnutls_free(data.data);
		oid.data = data.data = NULL;
		if (ret)
			return -1;
	}
	return 0;
}

/* ResponderID ::= CHOICE { byName [1] Name, byKey [2] KeyHash }: does crt match it? */
static bool
responder_id_matches(gnutls_ocsp_resp_t resp, gnutls_x509_crt_t crt)
{
	gnutls_datum_t id = {NULL, 0}, dn = {NULL, 0};
	struct cv_ocsp_certid self;
	uint8_t ski[CV_OCSP_HASH_MAX];
	size_t ski_len = sizeof(ski);
	bool match = false;

	if (gnutls_ocsp_resp_get_responder_raw_id(resp, GNUTLS_OCSP_RESP_ID_DN, &id) == 0) {
		if (gnutls_x509_crt_get_raw_dn(crt, &dn) == 0)
			match = dn.size == id.size && memcmp(dn.data, id.data, id.size) == 0;
		gnutls_free(dn.data);
		gnutls_free(id.data);
		return match;
	}
	if (gnutls_ocsp_resp_get_responder_raw_id(resp, GNUTLS_OCSP_RESP_ID_KEY, &id) != 0)
		return false;
	/* KeyHash: SHA-1 of the subjectPublicKey BIT STRING value, which is exactly what a CertID
	 * with crt as the issuer holds; a subjectKeyIdentifier equal to it is accepted as well,
	 * as GnuTLS's own signer search does. */
	if (cv_ocsp_certid_compute(crt, crt, GNUTLS_DIG_SHA1, &self, NULL) == 0)
		match =
		    self.key_hash_len == id.size && memcmp(self.key_hash, id.data, id.size) == 0;
	if (!match && gnutls_x509_crt_get_subject_key_id(crt, ski, &ski_len, NULL) == 0)
		match = ski_len == id.size && memcmp(ski, id.data, id.size) == 0;
	gnutls_free(id.data);
	return match;
}

static bool
has_ocsp_signing_eku(gnutls_x509_crt_t crt)
{
	char oid[128];
	size_t len;
	unsigned i;
	int ret;

	for (i = 0; i < 64; i++) {
		len = sizeof(oid);
		ret = gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &len, NULL);
		if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;
		if (ret < 0)
			return false;
		if (strcmp(oid, GNUTLS_KP_OCSP_SIGNING) == 0)
			return true;
	}
	return false;
}

static bool
has_extension(gnutls_x509_crt_t crt, const char *oid)
{
	size_t size = 0;
	unsigned critical;
	int ret = gnutls_x509_crt_get_extension_by_oid(crt, oid, 0, NULL, &size, &critical);

	return ret == 0 || ret == GNUTLS_E_SHORT_MEMORY_BUFFER;
}

/* A responder certificate other than the issuer: usable for signing at the time? */
static int
check_responder_cert(gnutls_x509_crt_t crt, const char *subject, bool need_eku,
                     const struct cv_ocsp_params *p, struct cv_ocsp_result *r)
{
	unsigned ku = 0;
	int ret;
	cv_time nb = gnutls_x509_crt_get_activation_time(crt);
	cv_time na = gnutls_x509_crt_get_expiration_time(crt);

	if (need_eku && !has_ocsp_signing_eku(crt))
		return refuse(r, CV_OCSP_ERR_SIGNER,
		              "OCSP responder certificate %s lacks the id-kp-OCSPSigning extended "
		              "key usage",
		              subject);
	ret = gnutls_x509_crt_get_key_usage(crt, &ku, NULL);
	if (ret == 0 && !(ku & (GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_NON_REPUDIATION)))
		return refuse(r, CV_OCSP_ERR_SIGNER,
		              "OCSP responder certificate %s has a key usage without "
		              "digitalSignature",
		              subject);
	if (nb == (cv_time)-1 || na == (cv_time)-1 || p->at < nb || p->at > na) {
		char t1[CV_TIME_TEXT_MAX], t2[CV_TIME_TEXT_MAX], t3[CV_TIME_TEXT_MAX];

		return refuse(r, CV_OCSP_ERR_SIGNER,
		              "OCSP responder certificate %s is not valid at %s (valid %s to %s)",
		              subject, cv_time_format_iso(p->at, t1), cv_time_format_iso(nb, t2),
		              cv_time_format_iso(na, t3));
	}
	return 0;
}

/* Is crt signed by issuer (names chain and the signature verifies)? Fills why on failure. */
static bool
issued_by(gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer, char *why, size_t why_len)
{
	const unsigned flags =
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS | GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS;
	gnutls_datum_t text = {NULL, 0};
	unsigned status = 0;
	int ret;

	ret = gnutls_x509_crt_verify(crt, &issuer, 1, flags, &status);
	if (ret == 0 && status == 0)
		return true;
	if (ret < 0)
		cv_strlcpy(why, gnutls_strerror(ret), why_len);
	else if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) ==
	         0) {
		cv_strlcpy(why, (const char *)text.data, why_len);
		gnutls_free(text.data);
	} else
		cv_strlcpy(why, "verification failed", why_len);
	return false;
}

/*
 * Chooses the signing certificate (RFC 6960 4.2.2.2): the certificate the response carries that
 * matches the ResponderID, else the issuer when the ResponderID names it. Then decides whether
 * that signer is authorized: the issuer itself, a delegated responder the issuer certified, or
 * a certificate the caller's validate_responder accepts. *signer is the issuer or one of
 * certs[] (not separately owned).
 */
static int
choose_signer(gnutls_ocsp_resp_t resp, gnutls_x509_crt_t issuer, gnutls_x509_crt_t *certs, size_t n,
              const struct cv_ocsp_params *p, struct cv_ocsp_result *r, gnutls_x509_crt_t *signer)
{
	gnutls_x509_crt_t cand = NULL;
	char subject[CV_OCSP_SIGNER_MAX], issuer_name[CV_OCSP_SIGNER_MAX], why[256];
	bool self_signed, nocheck;
	size_t i;

	for (i = 0; i < n && cand == NULL; i++)
		if (responder_id_matches(resp, certs[i]))
			cand = certs[i];
	crt_subject(issuer, issuer_name, sizeof(issuer_name));
	if (cand == NULL || gnutls_x509_crt_equals(cand, issuer)) {
		if (!responder_id_matches(resp, issuer))
			return refuse(
			    r, CV_OCSP_ERR_SIGNER,
			    "OCSP response signer not found: the ResponderID names neither "
			    "the issuer %s nor any of the %zu certificates the response "
			    "carries",
			    issuer_name, n);
		*signer = issuer;
		r->signer_kind = CV_OCSP_SIGNER_ISSUER;
		cv_strlcpy(r->signer, issuer_name, sizeof(r->signer));
		return 0;
	}
	crt_subject(cand, subject, sizeof(subject));
	cv_strlcpy(r->signer, subject, sizeof(r->signer));
	self_signed = gnutls_x509_crt_check_issuer(cand, cand) != 0;
	if (!self_signed && gnutls_x509_crt_check_issuer(cand, issuer)) {
		if (!issued_by(cand, issuer, why, sizeof(why)))
			return refuse(r, CV_OCSP_ERR_SIGNER,
			              "OCSP responder certificate %s does not verify against the "
			              "issuer %s: %s",
			              subject, issuer_name, why);
		r->signer_kind = CV_OCSP_SIGNER_DELEGATED;
	} else if (p->validate_responder != NULL) {
		if (p->validate_responder(p->validate_responder_arg, cand,
		                          (const gnutls_x509_crt_t *)certs, n) != 0)
			return refuse(r, CV_OCSP_ERR_SIGNER,
			              "OCSP responder certificate %s was not accepted by the "
			              "responder trustpoint",
			              subject);
		r->signer_kind = CV_OCSP_SIGNER_TRUSTED;
	} else {
		return refuse(
		    r, CV_OCSP_ERR_SIGNER,
		    "OCSP responder certificate %s is not issued by %s (the certificate's "
		    "issuer) and no responder trustpoint is configured",
		    subject, issuer_name);
	}
	if (check_responder_cert(cand, subject, !self_signed, p, r) < 0)
		return -1;
	nocheck = has_extension(cand, OID_PKIX_OCSP_NOCHECK);
	if (!nocheck && !self_signed) {
		gnutls_datum_t der = {NULL, 0};

		if (gnutls_x509_crt_export2(cand, GNUTLS_X509_FMT_DER, &der) < 0)
			return refuse(r, CV_OCSP_ERR_INTERNAL,
			              "cannot export the responder "
			              "certificate");
		r->responder_der = malloc(der.size);
		if (r->responder_der == NULL) {
			gnutls_free(der.data);
			return refuse(r, CV_OCSP_ERR_INTERNAL, "out of memory");
		}
		memcpy(r->responder_der, der.data, der.size);
		r->responder_der_len = der.size;
		r->responder_needs_check = true;
		gnutls_free(der.data);
	}
	*signer = cand;
	return 0;
}

/* BasicOCSPResponse.signature over tbsResponseData with the chosen signer's key. */
static int
check_signature(gnutls_ocsp_resp_t resp, gnutls_x509_crt_t signer, struct cv_ocsp_result *r)
{
	unsigned verify = 0;
	int ret;

	ret = gnutls_ocsp_resp_verify_direct(resp, signer, &verify, 0);
	if (ret < 0)
		return refuse(r, CV_OCSP_ERR_SIGNATURE, "OCSP response signature check failed: %s",
		              gnutls_strerror(ret));
	if (verify == 0)
		return 0;
	if (verify & GNUTLS_OCSP_VERIFY_INSECURE_ALGORITHM)
		return refuse(r, CV_OCSP_ERR_SIGNATURE,
		              "OCSP response is signed with an insecure algorithm");
	if (verify & GNUTLS_OCSP_VERIFY_SIGNATURE_FAILURE)
		return refuse(r, CV_OCSP_ERR_SIGNATURE,
		              "OCSP response signature does not verify with the key of %s",
		              r->signer);
	return refuse(r, CV_OCSP_ERR_SIGNATURE,
	              "OCSP response signature not accepted (GnuTLS verify status 0x%x)", verify);
}

static bool
bytes_equal(const uint8_t *a, size_t alen, const gnutls_datum_t *b)
{
	return alen == b->size && (alen == 0 || memcmp(a, b->data, alen) == 0);
}

/* The SingleResponses' serial encodings and singleExtensions, which GnuTLS does not show. */
static int
check_singles(gnutls_ocsp_resp_t resp, struct cv_ocsp_result *r)
{
	gnutls_datum_t basic = {NULL, 0};
	char why[CV_ERROR_MAX];
	int ret;

	ret = gnutls_ocsp_resp_get_response(resp, NULL, &basic);
	if (ret < 0)
		return refuse(r, CV_OCSP_ERR_MALFORMED,
		              "OCSP response carries no responseBytes: %s", gnutls_strerror(ret));
	ret = cv_ocsp_singles_check(basic.data, basic.size, why, sizeof(why));
	gnutls_free(basic.data);
	return ret < 0 ? refuse(r, CV_OCSP_ERR_MALFORMED, "%s", why) : 0;
}

/* A serial number by value: both sides' redundant leading octets skipped (the response's are
 * refused before, by check_singles; a certificate's own may be non-minimal). */
static bool
serial_equal(const uint8_t *want, size_t want_len, const gnutls_datum_t *got)
{
	const uint8_t *p = got->data;
	size_t n = got->size;

	if (n == 0)
		return false;
	cv_asn1_int_normalise(&p, &n);
	return n == want_len && memcmp(p, want, n) == 0;
}

static cv_time
time_or_none(time_t t)
{
	return t == (time_t)-1 ? CV_TIME_NONE : (cv_time)t;
}

/* certStatus as a result status (times and reason into r when revoked); -1 when undefined. */
static int
single_status(unsigned status, time_t rt, unsigned reason, struct cv_ocsp_result *r)
{
	switch (status) {
	case GNUTLS_OCSP_CERT_GOOD:
		return CV_OCSP_STATUS_GOOD;
	case GNUTLS_OCSP_CERT_REVOKED:
		r->revoked_at = time_or_none(rt);
		r->revocation_reason = (int)reason;
		return CV_OCSP_STATUS_REVOKED;
	case GNUTLS_OCSP_CERT_UNKNOWN:
		return CV_OCSP_STATUS_UNKNOWN;
	default:
		return -1;
	}
}

/*
 * Finds the SingleResponse for id and copies its status and times into r. Every SingleResponse
 * is examined (check_singles bounds their count): two for the certificate that disagree (one
 * good, one revoked, in either order) make the response unusable, never good: a responder
 * that contradicts itself is not believed either way, and the next method decides.
 */
static int
match_single(gnutls_ocsp_resp_t resp, const struct cv_ocsp_certid *id, struct cv_ocsp_result *r)
{
	const uint8_t *want = id->serial;
	size_t want_len = id->serial_len;
	unsigned i, first = 0;
	bool found = false;

	cv_asn1_int_normalise(&want, &want_len);
	for (i = 0;; i++) {
		gnutls_datum_t nh = {NULL, 0}, kh = {NULL, 0}, sn = {NULL, 0};
		gnutls_digest_algorithm_t digest = GNUTLS_DIG_UNKNOWN;
		unsigned status = 0, reason = 0;
		time_t tu = -1, nu = -1, rt = -1;
		struct cv_ocsp_result other;
		bool match;
		int ret, st;

		ret = gnutls_ocsp_resp_get_single(resp, i, &digest, &nh, &kh, &sn, &status, &tu,
		                                  &nu, &rt, &reason);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret < 0)
			return refuse(r, CV_OCSP_ERR_MALFORMED,
			              "OCSP SingleResponse %u unreadable: %s", i,
			              gnutls_strerror(ret));
		match = digest == id->digest &&
		        bytes_equal(id->name_hash, id->name_hash_len, &nh) &&
		        bytes_equal(id->key_hash, id->key_hash_len, &kh) &&
		        serial_equal(want, want_len, &sn);
		gnutls_free(nh.data);
		gnutls_free(kh.data);
		gnutls_free(sn.data);
		if (!match)
			continue;
		st = single_status(status, rt, reason, found ? &other : r);
		if (st < 0)
			return refuse(r, CV_OCSP_ERR_MALFORMED, "OCSP certStatus %u undefined",
			              status);
		if (found) {
			if ((enum cv_ocsp_status)st != r->status)
				return refuse(r, CV_OCSP_ERR_MALFORMED,
				              "OCSP response contradicts itself: SingleResponse %u "
				              "says %s and SingleResponse %u says %s for the "
				              "certificate asked for",
				              first, cv_ocsp_status_name(r->status), i,
				              cv_ocsp_status_name((enum cv_ocsp_status)st));
			continue;
		}
		found = true;
		first = i;
		r->status = (enum cv_ocsp_status)st;
		r->this_update = time_or_none(tu);
		r->next_update = time_or_none(nu);
		if (r->this_update == CV_TIME_NONE)
			return refuse(r, CV_OCSP_ERR_MALFORMED,
			              "OCSP SingleResponse has no "
			              "readable thisUpdate");
	}
	if (!found) {
		char serial[2 * CV_OCSP_SERIAL_MAX + 1];

		cv_hex_encode(id->serial, id->serial_len, serial);
		return refuse(r, CV_OCSP_ERR_CERTID,
		              "OCSP response has no status for the certificate asked for (serial "
		              "%s, %s CertID)",
		              serial, gnutls_digest_get_name(id->digest));
	}
	return 0;
}

/* producedAt, thisUpdate, nextUpdate against the validation time (see ocsp.h). */
static int
check_times(const struct cv_ocsp_params *p, struct cv_ocsp_result *r)
{
	char t1[CV_TIME_TEXT_MAX], t2[CV_TIME_TEXT_MAX];
	cv_time limit = p->at + p->skew;

	/* RFC 6960 4.2.2.1: producedAt is when the response was signed, thisUpdate when the status
	 * was known to be correct: a status signed before it was known is not believed. */
	if (r->produced_at != CV_TIME_NONE && r->produced_at < r->this_update)
		return refuse(r, CV_OCSP_ERR_MALFORMED,
		              "OCSP response producedAt %s is earlier than its thisUpdate %s",
		              cv_time_format_iso(r->produced_at, t1),
		              cv_time_format_iso(r->this_update, t2));
	if (r->produced_at != CV_TIME_NONE && r->produced_at > limit)
		return refuse(r, CV_OCSP_ERR_FUTURE,
		              "OCSP response producedAt %s is later than the validation time %s "
		              "plus %lld s skew",
		              cv_time_format_iso(r->produced_at, t1), cv_time_format_iso(p->at, t2),
		              (long long)p->skew);
	if (r->this_update > limit)
		return refuse(r, CV_OCSP_ERR_FUTURE,
		              "OCSP response thisUpdate %s is later than the validation time %s "
		              "plus %lld s skew",
		              cv_time_format_iso(r->this_update, t1), cv_time_format_iso(p->at, t2),
		              (long long)p->skew);
	if (r->next_update != CV_TIME_NONE) {
		if (r->next_update < r->this_update)
			return refuse(r, CV_OCSP_ERR_MALFORMED,
			              "OCSP response nextUpdate precedes thisUpdate");
		r->valid_until = r->next_update;
	} else {
		r->valid_until = r->this_update + p->no_next_update_ttl;
	}
	if (p->max_age > 0 && r->this_update + p->max_age < r->valid_until)
		r->valid_until = r->this_update + p->max_age;
	if (p->at > r->valid_until + p->skew) {
		if (r->next_update != CV_TIME_NONE && r->valid_until == r->next_update)
			return refuse(r, CV_OCSP_ERR_STALE,
			              "OCSP response is stale: nextUpdate %s has passed at %s",
			              cv_time_format_iso(r->next_update, t1),
			              cv_time_format_iso(p->at, t2));
		return refuse(
		    r, CV_OCSP_ERR_STALE,
		    "OCSP response is stale: thisUpdate %s is more than %lld s before %s%s",
		    cv_time_format_iso(r->this_update, t1),
		    (long long)(r->valid_until - r->this_update), cv_time_format_iso(p->at, t2),
		    r->next_update == CV_TIME_NONE ? " and it has no nextUpdate" : "");
	}
	return 0;
}

/* RFC 8954 nonce against the one sent, per the nonce policy (D-1). */
static int
check_nonce(gnutls_ocsp_resp_t resp, const struct cv_ocsp_params *p, struct cv_ocsp_result *r)
{
	gnutls_datum_t n = {NULL, 0};
	unsigned critical = 0;
	bool equal;
	int ret;

	if (p->nonce_mode == CV_OCSP_NONCE_DISABLED) {
		r->nonce = CV_OCSP_NONCE_OUT_DISABLED;
		return 0;
	}
	if (p->nonce == NULL || p->nonce_len == 0)
		return refuse(r, CV_OCSP_ERR_INTERNAL,
		              "nonce policy %s but no nonce was sent with the request",
		              cv_ocsp_nonce_mode_name(p->nonce_mode));
	ret = gnutls_ocsp_resp_get_nonce(resp, &critical, &n);
	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
		r->nonce = CV_OCSP_NONCE_OUT_MISSING;
		if (p->nonce_mode == CV_OCSP_NONCE_IF_ECHOED)
			return 0;
		return refuse(r, CV_OCSP_ERR_NONCE,
		              "OCSP response carries no nonce although one was sent (nonce policy "
		              "require); `ocsp nonce if-echoed` or `ocsp disable-nonce` on the "
		              "trustpoint would accept it");
	}
	if (ret < 0) {
		r->nonce = CV_OCSP_NONCE_OUT_MISMATCH;
		return refuse(r, CV_OCSP_ERR_NONCE,
		              "OCSP response nonce mismatch: its nonce extension is not an OCTET "
		              "STRING (%s)",
		              gnutls_strerror(ret));
	}
	equal = bytes_equal(p->nonce, p->nonce_len, &n);
	gnutls_free(n.data);
	if (!equal) {
		r->nonce = CV_OCSP_NONCE_OUT_MISMATCH;
		return refuse(r, CV_OCSP_ERR_NONCE,
		              "OCSP response nonce mismatch: the response echoes a different nonce "
		              "than the %zu bytes sent",
		              p->nonce_len);
	}
	r->nonce = CV_OCSP_NONCE_OUT_ECHOED;
	return 0;
}

int
cv_ocsp_response_check(const uint8_t *der, size_t der_len, gnutls_x509_crt_t cert,
                       gnutls_x509_crt_t issuer, const struct cv_ocsp_params *p,
                       struct cv_ocsp_result *r)
{
	gnutls_ocsp_resp_t resp = NULL;
	gnutls_x509_crt_t *certs = NULL, signer = NULL;
	struct cv_ocsp_certid id;
	struct cv_error err;
	size_t n = 0, i;
	time_t produced;
	int rc = -1, ret;

	cv_ocsp_result_clear(r);
	if (der == NULL || der_len == 0 || cert == NULL || issuer == NULL || p == NULL) {
		refuse(r, CV_OCSP_ERR_INTERNAL,
		       "OCSP check called without response or certificates");
		return -1;
	}
	if (der_len > CV_OCSP_RESPONSE_MAX || der_len > UINT32_MAX) {
		refuse(r, CV_OCSP_ERR_MALFORMED,
		       "OCSP response of %zu bytes exceeds the %u byte cap", der_len,
		       CV_OCSP_RESPONSE_MAX);
		return -1;
	}
	if (cv_ocsp_certid_compute(cert, issuer, p->digest, &id, &err) < 0) {
		refuse(r, CV_OCSP_ERR_INTERNAL, "%s", err.msg);
		return -1;
	}
	if (gnutls_ocsp_resp_init(&resp) < 0) {
		refuse(r, CV_OCSP_ERR_INTERNAL, "out of memory");
		return -1;
	}
	{
		gnutls_datum_t d = {(unsigned char *)(uintptr_t)der, (unsigned)der_len};

		ret = gnutls_ocsp_resp_import2(resp, &d, GNUTLS_X509_FMT_DER);
	}
	if (ret < 0) {
		refuse(r, CV_OCSP_ERR_MALFORMED, "not a DER OCSP response: %s",
		       gnutls_strerror(ret));
		goto fail;
	}
	if (check_envelope(resp, r) < 0)
		goto fail;
	produced = gnutls_ocsp_resp_get_produced(resp);
	if (produced == (time_t)-1) {
		refuse(r, CV_OCSP_ERR_MALFORMED, "OCSP response has no readable producedAt");
		goto fail;
	}
	r->produced_at = (cv_time)produced;
	ret = gnutls_ocsp_resp_get_certs(resp, &certs, &n);
	if (ret < 0) {
		refuse(r, CV_OCSP_ERR_MALFORMED, "OCSP response certificates unreadable: %s",
		       gnutls_strerror(ret));
		goto fail;
	}
	if (choose_signer(resp, issuer, certs, n, p, r, &signer) < 0 ||
	    check_signature(resp, signer, r) < 0 || check_singles(resp, r) < 0 ||
	    match_single(resp, &id, r) < 0 || check_times(p, r) < 0 || check_nonce(resp, p, r) < 0)
		goto fail;
	rc = 0;
fail:
	if (rc < 0)
		r->status = CV_OCSP_STATUS_ERROR;
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(certs[i]);
	gnutls_free(certs);
	gnutls_ocsp_resp_deinit(resp);
	return rc;
}

const char *
cv_ocsp_status_name(enum cv_ocsp_status status)
{
	switch (status) {
	case CV_OCSP_STATUS_GOOD:
		return "good";
	case CV_OCSP_STATUS_REVOKED:
		return "revoked";
	case CV_OCSP_STATUS_UNKNOWN:
		return "unknown";
	case CV_OCSP_STATUS_ERROR:
		break;
	}
	return "error";
}

const char *
cv_ocsp_nonce_outcome_name(enum cv_ocsp_nonce_outcome outcome)
{
	switch (outcome) {
	case CV_OCSP_NONCE_OUT_ECHOED:
		return "sent-echoed";
	case CV_OCSP_NONCE_OUT_MISSING:
		return "sent-missing";
	case CV_OCSP_NONCE_OUT_MISMATCH:
		return "mismatch";
	case CV_OCSP_NONCE_OUT_DISABLED:
		return "disabled";
	case CV_OCSP_NONCE_OUT_NONE:
		break;
	}
	return "";
}

const char *
cv_ocsp_nonce_mode_name(enum cv_ocsp_nonce_mode mode)
{
	switch (mode) {
	case CV_OCSP_NONCE_REQUIRE:
		return "require";
	case CV_OCSP_NONCE_IF_ECHOED:
		return "if-echoed";
	case CV_OCSP_NONCE_DISABLED:
		return "disabled";
	}
	return "?";
}

const char *
cv_ocsp_signer_kind_name(enum cv_ocsp_signer_kind kind)
{
	switch (kind) {
	case CV_OCSP_SIGNER_ISSUER:
		return "issuer";
	case CV_OCSP_SIGNER_DELEGATED:
		return "delegated";
	case CV_OCSP_SIGNER_TRUSTED:
		return "trusted";
	case CV_OCSP_SIGNER_NONE:
		break;
	}
	return "";
}

const char *
cv_ocsp_reason_name(int reason)
{
	static const char *const names[] = {
	    "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
	    "superseded",    "cessationOfOperation", "certificateHold", "(7)",
	    "removeFromCRL", "privilegeWithdrawn",   "aACompromise",
	};

	if (reason < 0)
		return "";
	if ((size_t)reason >= CV_ARRAY_LEN(names) || reason == 7)
		return "undefined";
	return names[reason];
}

const char *
cv_ocsp_err_name(enum cv_ocsp_err err)
{
	switch (err) {
	case CV_OCSP_OK:
		return "ok";
	case CV_OCSP_ERR_INTERNAL:
		return "internal";
	case CV_OCSP_ERR_MALFORMED:
		return "malformed";
	case CV_OCSP_ERR_RESPONSE_STATUS:
		return "response-status";
	case CV_OCSP_ERR_SIGNER:
		return "signer";
	case CV_OCSP_ERR_SIGNATURE:
		return "signature";
	case CV_OCSP_ERR_CERTID:
		return "certid";
	case CV_OCSP_ERR_FUTURE:
		return "not-yet-valid";
	case CV_OCSP_ERR_STALE:
		return "stale";
	case CV_OCSP_ERR_NONCE:
		return "nonce";
	}
	return "?";
}
