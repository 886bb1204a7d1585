/*
 * fuzz_ocsp.c: libFuzzer target over OCSP response validation (cv_ocsp_response_check) for a
 * fixed certificate/issuer pair. A fuzzed input cannot forge an ECDSA signature, so it may be
 * GOOD or REVOKED only when it still holds, byte for byte, the tbsResponseData of a response
 * a legitimate signer made (tests/fuzz/pki/signed-*.der, see mkseeds.sh there); anything
 * else answered GOOD or REVOKED is a wrong accept and aborts.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/util.h"
#include "../../validator/cert.h"
#include "../../validator/der.h"
#include "../../validator/ocsp/ocsp.h"

#ifndef FUZZ_PKI_DIR
#error "FUZZ_PKI_DIR must name tests/fuzz/pki"
#endif

#define SIGNED_MAX 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixed PKI, loaded once (a fuzz target has no other place to keep it). */
static struct {
	bool loaded;
	struct cv_cert_list ca, leaf, revoked;
	uint8_t *signed_der[SIGNED_MAX];
	const uint8_t *tbs[SIGNED_MAX]; /* tbsResponseData inside signed_der[i] */
	size_t tbs_len[SIGNED_MAX];
	size_t n_signed;
	cv_time at;
} pki;

static void
load_cert(struct cv_cert_list *list, const char *name)
{
	char path[4096];
	struct cv_error err;

	snprintf(path, sizeof(path), "%s/%s", FUZZ_PKI_DIR, name);
	if (cv_cert_list_load_file(list, path, &err) < 0 || list->n != 1) {
		fprintf(stderr, "fuzz_ocsp: %s: %s\n", path, err.msg);
		abort();
	}
}

/* OCSPResponse { status, [0] { SEQ { OID, OCTET STRING { BasicOCSPResponse { tbs ... */
static int
find_tbs(const uint8_t *der, size_t len, const uint8_t **tbs, size_t *tbs_len)
{
	struct cv_asn1 d, resp, wrap, bytes, basic, inner;
	struct cv_asn1_elem e, oct;

	cv_asn1_init(&d, der, len);
	if (cv_asn1_enter(&d, CV_ASN1_SEQUENCE, &resp) < 0 ||
	    cv_asn1_expect(&resp, CV_ASN1_ENUMERATED, &e) < 0 ||
	    cv_asn1_enter(&resp, CV_ASN1_CTX_CONS(0), &wrap) < 0 ||
	    cv_asn1_enter(&wrap, CV_ASN1_SEQUENCE, &bytes) < 0 ||
	    cv_asn1_expect(&bytes, CV_ASN1_OID, &e) < 0 ||
	    cv_asn1_expect(&bytes, CV_ASN1_OCTET_STRING, &oct) < 0)
		return -1;
	cv_asn1_open(&oct, &inner);
	if (cv_asn1_enter(&inner, CV_ASN1_SEQUENCE, &basic) < 0 ||
	    cv_asn1_expect(&basic, CV_ASN1_SEQUENCE, &e) < 0)
		return -1;
	*tbs = e.raw;
	*tbs_len = e.raw_len;
	return 0;
}

static void
load_signed(void)
{
	DIR *dir = opendir(FUZZ_PKI_DIR);
	struct dirent *de;

	if (dir == NULL)
		abort();
	while ((de = readdir(dir)) != NULL) {
		char path[4096];
		size_t len, i = pki.n_signed;
		struct cv_error err;

		if (strncmp(de->d_name, "signed-", 7) != 0 || i == SIGNED_MAX)
			continue;
		snprintf(path, sizeof(path), "%s/%s", FUZZ_PKI_DIR, de->d_name);
		if (cv_read_file(path, CV_OCSP_RESPONSE_MAX, &pki.signed_der[i], &len, &err) < 0 ||
		    find_tbs(pki.signed_der[i], len, &pki.tbs[i], &pki.tbs_len[i]) < 0) {
			fprintf(stderr, "fuzz_ocsp: %s: not a reference response\n", path);
			abort();
		}
		pki.n_signed++;
	}
	closedir(dir);
	if (pki.n_signed == 0)
		abort();
}

static void
load(void)
{
	if (pki.loaded)
		return;
	load_cert(&pki.ca, "ca.pem");
	load_cert(&pki.leaf, "leaf.pem");
	load_cert(&pki.revoked, "revoked.pem");
	load_signed();
	/* the responses were made when the leaf was issued and are valid for 10 years */
	pki.at = cv_cert_not_before(pki.leaf.v[0]) + 86400;
	pki.loaded = true;
}

/* Does the input hold the tbsResponseData of a legitimately signed response? */
static bool
holds_signed_tbs(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < pki.n_signed; i++)
		if (memmem(data, size, pki.tbs[i], pki.tbs_len[i]) != NULL)
			return true;
	return false;
}

/* One check; never_status is the answer that no legitimate response gives for cert. */
static void
check(const uint8_t *data, size_t size, const struct cv_cert *cert, gnutls_digest_algorithm_t dig,
      enum cv_ocsp_nonce_mode mode, enum cv_ocsp_status never_status)
{
	static const uint8_t nonce[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
	struct cv_ocsp_params p;
	struct cv_ocsp_result r;
	int rc;

	memset(&r, 0, sizeof(r));
	cv_ocsp_params_init(&p, pki.at);
	p.digest = dig;
	p.nonce_mode = mode;
	p.nonce = nonce;
	p.nonce_len = sizeof(nonce);
	rc = cv_ocsp_response_check_cert(data, size, cert, pki.ca.v[0], &p, NULL, NULL, &r);
	if ((rc == 0) != (r.status != CV_OCSP_STATUS_ERROR))
		abort(); /* the return value and the status disagree */
	if (rc < 0 && (r.err == CV_OCSP_OK || r.error[0] == '\0'))
		abort(); /* a refusal without a reason */
	if (r.status == CV_OCSP_STATUS_GOOD || r.status == CV_OCSP_STATUS_REVOKED) {
		if (!holds_signed_tbs(data, size) || r.status == never_status)
			abort(); /* a wrong accept */
		if (r.signer_kind != CV_OCSP_SIGNER_ISSUER &&
		    r.signer_kind != CV_OCSP_SIGNER_DELEGATED)
			abort();
		if (r.responder_needs_check != (r.responder_der != NULL))
			abort();
	}
	cv_ocsp_result_clear(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	load();
	check(data, size, pki.leaf.v[0], GNUTLS_DIG_SHA1, CV_OCSP_NONCE_IF_ECHOED,
	      CV_OCSP_STATUS_REVOKED);
	check(data, size, pki.revoked.v[0], GNUTLS_DIG_SHA1, CV_OCSP_NONCE_REQUIRE,
	      CV_OCSP_STATUS_GOOD);
	check(data, size, pki.leaf.v[0], GNUTLS_DIG_SHA256, CV_OCSP_NONCE_DISABLED,
	      CV_OCSP_STATUS_REVOKED);
	return 0;
}
