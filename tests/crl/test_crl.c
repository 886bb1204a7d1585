/*
 * test_crl.c: unit tests of the CRL reader, the serial index and CRL signature checks, on CRLs
 * made at run time with GnuTLS's CRL writer (the code behind `certtool --generate-crl`). The
 * reads of PKITS CRLs are in test_pkits_crl.c, which is skipped where PKITS is absent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../../validator/crl/crl.h"
#include "../../validator/cert.h"
#include "../../common/util.h"
#include "../../validator/crl/crl_reader.h"
#include "../../validator/crl/crl_verify.h"
#include "../support/check.h"

struct ca {
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
};

/* A self-signed ECDSA CA; san, when not NULL, is its subjectAltName value as is. */
static void
make_ca_san(struct ca *ca, const char *dn, unsigned usage, const uint8_t *san, size_t san_len)
{
	time_t now = time(NULL);
	uint8_t serial[1] = {1};

	CHECK(gnutls_x509_privkey_init(&ca->key) == 0);
	CHECK(gnutls_x509_privkey_generate(ca->key, GNUTLS_PK_ECDSA,
	                                   GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
	                                   0) == 0);
	CHECK(gnutls_x509_crt_init(&ca->crt) == 0);
	gnutls_x509_crt_set_version(ca->crt, 3);
	gnutls_x509_crt_set_serial(ca->crt, serial, 1);
	gnutls_x509_crt_set_dn(ca->crt, dn, NULL);
	gnutls_x509_crt_set_activation_time(ca->crt, now - 3600);
	gnutls_x509_crt_set_expiration_time(ca->crt, now + 86400);
	gnutls_x509_crt_set_basic_constraints(ca->crt, 1, -1);
	gnutls_x509_crt_set_key_usage(ca->crt, usage);
	gnutls_x509_crt_set_key(ca->crt, ca->key);
	if (san != NULL)
		CHECK(gnutls_x509_crt_set_extension_by_oid(ca->crt, "2.5.29.17", san, san_len, 0) ==
		      0);
	CHECK(gnutls_x509_crt_sign2(ca->crt, ca->crt, ca->key, GNUTLS_DIG_SHA256, 0) == 0);
}

static void
make_ca(struct ca *ca, const char *dn, unsigned usage)
{
	make_ca_san(ca, dn, usage, NULL, 0);
}

static void
free_ca(struct ca *ca)
{
	gnutls_x509_crt_deinit(ca->crt);
	gnutls_x509_privkey_deinit(ca->key);
}

static const uint8_t serial_small[] = {0x01};
static const uint8_t serial_lead0[] = {0x00, 0xff};
static const uint8_t serial_20[] = {0x7f, 2,  3,  4,  5,  6,  7,  8,  9,  10,
                                    11,   12, 13, 14, 15, 16, 17, 18, 19, 20};
static const uint8_t serial_21[] = {0x00, 0x80, 2,  3,  4,  5,  6,  7,  8,  9, 10,
                                    11,   12,   13, 14, 15, 16, 17, 18, 19, 20};

/* A CRL written by GnuTLS (what certtool --generate-crl does) listing the four serials. */
static gnutls_datum_t
make_crl(const struct ca *ca)
{
	gnutls_x509_crl_t crl;
	gnutls_datum_t out = {NULL, 0};
	time_t now = time(NULL);
	uint8_t number[1] = {7};

	CHECK(gnutls_x509_crl_init(&crl) == 0);
	gnutls_x509_crl_set_version(crl, 2);
	gnutls_x509_crl_set_this_update(crl, now - 60);
	gnutls_x509_crl_set_next_update(crl, now + 3600);
	gnutls_x509_crl_set_number(crl, number, 1);
	CHECK(gnutls_x509_crl_set_crt_serial(crl, serial_small, sizeof(serial_small), now - 100) ==
	      0);
	CHECK(gnutls_x509_crl_set_crt_serial(crl, serial_lead0, sizeof(serial_lead0), now - 100) ==
	      0);
	CHECK(gnutls_x509_crl_set_crt_serial(crl, serial_20, sizeof(serial_20), now - 100) == 0);
	CHECK(gnutls_x509_crl_set_crt_serial(crl, serial_21, sizeof(serial_21), now - 100) == 0);
	CHECK(gnutls_x509_crl_set_authority_key_id(crl, (const uint8_t *)"0123456789abcdef0123",
	                                           20) == 0);
	CHECK(gnutls_x509_crl_sign2(crl, ca->crt, ca->key, GNUTLS_DIG_SHA256, 0) == 0);
	CHECK(gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_DER, &out) == 0);
	gnutls_x509_crl_deinit(crl);
	return out;
}

static bool
listed(const struct cv_crl *crl, const uint8_t *s, size_t n)
{
	struct cv_crl_entry e;

	return cv_crl_lookup(crl, NULL, 0, s, n, &e);
}

static struct cv_cert *
parsed(const struct ca *ca)
{
	gnutls_datum_t der = {NULL, 0};
	struct cv_cert *c = NULL;
	struct cv_error err;

	CHECK(gnutls_x509_crt_export2(ca->crt, GNUTLS_X509_FMT_DER, &der) == 0);
	CHECK(cv_cert_from_der(der.data, der.size, &c, &err) == 0);
	gnutls_free(der.data);
	return c;
}

/*
 * cv_crl_verify_cert, the per-verdict check on parsed certificates: the issuer's key verifies
 * (the first time and, remembered, again), another key with the same name does not, and a
 * keyUsage without cRLSign is refused even for the remembered key.
 */
static void
verify_parsed(struct cv_crl *crl, const struct ca *ca, const struct ca *other,
              const struct ca *no_crlsign)
{
	struct cv_cert *good = parsed(ca), *wrong = parsed(other), *nosign = parsed(no_crlsign);
	struct cv_error err;

	if (good == NULL || wrong == NULL || nosign == NULL)
		goto out;
	CHECK(cv_crl_verify_cert(crl, good, 0, &err) == 0);
	CHECK(cv_crl_verify_cert(crl, good, 0, &err) == 0);
	CHECK(cv_crl_verify_cert(crl, wrong, 0, &err) < 0);
	CHECK(cv_crl_verify_cert(crl, wrong, 0, &err) < 0); /* failures are not remembered */
	CHECK(cv_crl_verify_cert(crl, nosign, 0, &err) < 0);
	CHECK(strstr(err.msg, "cRLSign") != NULL);
out:
	cv_cert_unref(good);
	cv_cert_unref(wrong);
	cv_cert_unref(nosign);
}

static void
test_generated_crl(void)
{
	struct ca ca, other, no_crlsign;
	gnutls_datum_t der;
	struct cv_crl *crl = NULL;
	struct cv_crl_info info;
	struct cv_error err;
	uint8_t *copy;
	static const uint8_t absent[] = {0x02}, padded[] = {0x00, 0x00, 0x01};
	size_t dn_len;
	gnutls_datum_t dn;

	make_ca(&ca, "CN=CRL Test CA,O=certval", GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN);
	make_ca(&other, "CN=CRL Test CA,O=certval", GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN);
	make_ca(&no_crlsign, "CN=CRL Test CA,O=certval", GNUTLS_KEY_KEY_CERT_SIGN);
	der = make_crl(&ca);

	CHECK(cv_crl_read(der.data, der.size, &info, NULL, NULL, &err) == 0);
	CHECK_INT_EQ(info.version, 2);
	CHECK_INT_EQ(info.n_entries, 4);
	CHECK(info.crl_number != NULL && info.crl_number_len == 1 && info.crl_number[0] == 7);
	CHECK(info.aki_key_id != NULL && info.aki_key_id_len == 20);
	CHECK(info.next_update != CV_TIME_NONE && info.next_update > info.this_update);
	CHECK(!info.idp.present && !info.unknown_critical && info.base_crl_number == NULL);

	CHECK(cv_crl_ingest(der.data, der.size, ca.crt, &crl, &err) == 0);
	if (crl != NULL) {
		CHECK(listed(crl, serial_small, sizeof(serial_small)));
		CHECK(listed(crl, serial_lead0, sizeof(serial_lead0)));
		CHECK(listed(crl, serial_20, sizeof(serial_20)));
		CHECK(listed(crl, serial_21, sizeof(serial_21)));
		CHECK(listed(crl, padded, sizeof(padded))); /* non-minimal form of 1 */
		CHECK(!listed(crl, absent, sizeof(absent)));
		CHECK(!listed(crl, serial_20, sizeof(serial_20) - 1));
		/* by issuer: the CRL issuer's own name matches, another name does not */
		CHECK(gnutls_x509_crt_get_raw_dn(ca.crt, &dn) == 0);
		struct cv_crl_entry e;

		CHECK(cv_crl_lookup(crl, dn.data, dn.size, serial_small, 1, &e) && e.revoked);
		CHECK(e.reason == CV_CRL_REASON_NONE && e.revocation_date != CV_TIME_NONE);
		dn_len = cv_crl_get_info(crl)->issuer_len;
		CHECK(dn_len == dn.size);
		gnutls_free(dn.data);
		CHECK(cv_crl_memory(crl) > der.size);
		/* the same key again is remembered; keyUsage without cRLSign is refused */
		CHECK(cv_crl_verify(crl, ca.crt, 0, &err) == 0);
		CHECK(cv_crl_verify(crl, other.crt, 0, &err) < 0);
		CHECK(cv_crl_verify(crl, no_crlsign.crt, 0, &err) < 0);
		verify_parsed(crl, &ca, &other, &no_crlsign);
		CHECK_STR_EQ(cv_crl_issuer_text(crl), "CN=CRL Test CA,O=certval");
		cv_crl_free(crl);
	}
	/* wrong issuer key */
	CHECK(cv_crl_ingest(der.data, der.size, other.crt, &crl, &err) < 0);
	/* a flipped byte in the signature, then in the tbsCertList */
	copy = malloc(der.size);
	memcpy(copy, der.data, der.size);
	copy[der.size - 3] ^= 0x01;
	CHECK(cv_crl_ingest(copy, der.size, ca.crt, &crl, &err) < 0);
	memcpy(copy, der.data, der.size);
	CHECK(cv_crl_read(copy, der.size, &info, NULL, NULL, &err) == 0);
	copy[(info.tbs - copy) + info.tbs_len - 5] ^= 0x01; /* inside the CRL number's extension */
	if (cv_crl_ingest(copy, der.size, NULL, &crl, &err) == 0) {
		CHECK(cv_crl_verify(crl, ca.crt, 0, &err) < 0);
		cv_crl_free(crl);
	}
	/* every truncation fails cleanly, as does trailing data */
	for (size_t i = 0; i < der.size; i++)
		CHECK(cv_crl_read(der.data, i, &info, NULL, NULL, &err) < 0);
	copy = realloc(copy, der.size + 1);
	memcpy(copy, der.data, der.size);
	copy[der.size] = 0;
	CHECK(cv_crl_read(copy, der.size + 1, &info, NULL, NULL, &err) < 0);
	/* every single-byte corruption is handled without a crash (ASan checks the reads) */
	for (size_t i = 0; i < der.size; i++) {
		memcpy(copy, der.data, der.size);
		copy[i] ^= 0x80;
		if (cv_crl_ingest(copy, der.size, NULL, &crl, &err) == 0)
			cv_crl_free(crl);
	}
	free(copy);
	gnutls_free(der.data);
	free_ca(&ca);
	free_ca(&other);
	free_ca(&no_crlsign);
}

/*
 * A CRL signer whose certificate certval reads but GnuTLS does not (an ediPartyName in its
 * subjectAltName, a form GnuTLS's reader refuses): its CRL signature cannot be checked through
 * GnuTLS, so the check fails closed; the same CA without that name verifies.
 */
static void
test_signer_gnutls_cannot_read(void)
{
	static const uint8_t edi[] = {0x30, 0x09, 0xa5, 0x07, 0xa1, 0x05,
	                              0x0c, 0x03, 0x61, 0x62, 0x63};
	struct ca ca;
	gnutls_datum_t der, cder = {NULL, 0};
	struct cv_crl *crl = NULL;
	struct cv_cert *signer = NULL;
	struct cv_error err;

	make_ca_san(&ca, "CN=EDI CA,O=certval", GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN, edi,
	            sizeof(edi));
	der = make_crl(&ca);
	CHECK(gnutls_x509_crt_export2(ca.crt, GNUTLS_X509_FMT_DER, &cder) == 0);
	CHECK(cv_cert_from_der(cder.data, cder.size, &signer, &err) == 0);
	CHECK(cv_crl_ingest(der.data, der.size, NULL, &crl, &err) == 0);
	if (crl != NULL && signer != NULL) {
		CHECK(cv_crl_verify_cert(crl, signer, 0, &err) < 0);
		CHECK(strstr(err.msg, "cannot be read") != NULL);
	}
	cv_crl_free(crl);
	cv_cert_unref(signer);
	gnutls_free(cder.data);
	gnutls_free(der.data);
	free_ca(&ca);
}

int
main(void)
{
	if (gnutls_global_init() < 0)
		return 1;
	test_generated_crl();
	test_signer_gnutls_cannot_read();
	gnutls_global_deinit();
	return check_summary();
}
