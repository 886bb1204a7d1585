/*
 * test_spki.c: a public key's facts read from its SubjectPublicKeyInfo (validator/spki.c) are
 * GnuTLS's own for the same key (RSA, EC on each named curve, Ed25519, Ed448), and every
 * near miss of those forms is left to GnuTLS (-1): other algorithms, explicit or unknown
 * curves, compressed points, absent or extra parameters, a key of the wrong size, trailing
 * bytes.
 */
#include <stdio.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../../validator/cert.h"
#include "../../validator/der.h"
#include "../../validator/spki.h"
#include "../support/check.h"

#define SPKI_MAX 2048

/* A fresh key's SubjectPublicKeyInfo DER into der[SPKI_MAX]; its length, or 0. */
static size_t
make_spki(gnutls_pk_algorithm_t pk, unsigned bits, uint8_t *der)
{
	gnutls_privkey_t priv = NULL;
	gnutls_pubkey_t pub = NULL;
	size_t len = SPKI_MAX;

	if (gnutls_privkey_init(&priv) < 0 || gnutls_privkey_generate(priv, pk, bits, 0) < 0 ||
	    gnutls_pubkey_init(&pub) < 0 || gnutls_pubkey_import_privkey(pub, priv, 0, 0) < 0 ||
	    gnutls_pubkey_export(pub, GNUTLS_X509_FMT_DER, der, &len) < 0)
		len = 0;
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(priv);
	return len;
}

/* GnuTLS's reading of the same bytes, as cert.c made it before spki.c. */
static int
gnutls_info(const uint8_t *der, size_t len, struct cv_cert_key *k)
{
	const gnutls_datum_t d = {(unsigned char *)(uintptr_t)der, (unsigned)len};
	gnutls_pubkey_t pub = NULL;
	gnutls_ecc_curve_t curve;
	unsigned bits = 0;
	int pk, rc = -1;

	memset(k, 0, sizeof(*k));
	if (gnutls_pubkey_init(&pub) < 0)
		return -1;
	if (gnutls_pubkey_import(pub, &d, GNUTLS_X509_FMT_DER) >= 0 &&
	    (pk = gnutls_pubkey_get_pk_algorithm(pub, &bits)) > 0) {
		k->algorithm = pk;
		k->bits = bits;
		if ((pk == GNUTLS_PK_ECDSA || pk == GNUTLS_PK_EDDSA_ED25519 ||
		     pk == GNUTLS_PK_EDDSA_ED448) &&
		    gnutls_pubkey_export_ecc_raw2(pub, &curve, NULL, NULL, 0) >= 0)
			k->curve = (int)curve;
		rc = 0;
	}
	gnutls_pubkey_deinit(pub);
	return rc;
}

struct key_case {
	const char *name;
	gnutls_pk_algorithm_t pk;
	unsigned bits; /* for generation; a curve for EC keys */
	enum cv_key_kind kind;
};

static void
test_same_as_gnutls(void)
{
	static const struct key_case cases[] = {
	    {"RSA 1024", GNUTLS_PK_RSA, 1024, CV_KEY_RSA},
	    {"RSA 2048", GNUTLS_PK_RSA, 2048, CV_KEY_RSA},
	    {"RSA 2056", GNUTLS_PK_RSA, 2056, CV_KEY_RSA},
	    {"P-256", GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), CV_KEY_EC},
	    {"P-384", GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1), CV_KEY_EC},
	    {"P-521", GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP521R1), CV_KEY_EC},
	    {"Ed25519", GNUTLS_PK_EDDSA_ED25519, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED25519),
	     CV_KEY_EDDSA},
	    {"Ed448", GNUTLS_PK_EDDSA_ED448, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED448),
	     CV_KEY_EDDSA},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t der[SPKI_MAX];
		const size_t len = make_spki(cases[i].pk, cases[i].bits, der);
		struct cv_cert_key mine, theirs;

		fprintf(stderr, "key %s\n", cases[i].name);
		CHECK(len > 0);
		CHECK_INT_EQ(gnutls_info(der, len, &theirs), 0);
		CHECK_INT_EQ(cv_spki_key_info(der, len, &mine), 0);
		CHECK_INT_EQ(mine.algorithm, theirs.algorithm);
		CHECK_INT_EQ(mine.bits, theirs.bits);
		CHECK_INT_EQ(mine.curve, theirs.curve);
		CHECK_INT_EQ(mine.kind, cases[i].kind);
		/* trailing bytes after the SubjectPublicKeyInfo: not the form */
		der[len] = 0;
		CHECK_INT_EQ(cv_spki_key_info(der, len + 1, &mine), -1);
		/* truncated */
		CHECK_INT_EQ(cv_spki_key_info(der, len - 1, &mine), -1);
	}
}

/* A DER TLV of tag around v into out; its length. */
static size_t
tlv(uint8_t tag, const uint8_t *v, size_t len, uint8_t *out)
{
	const size_t n = cv_asn1_header_len(len);

	memmove(out + n, v, len);
	cv_asn1_put_header(out, tag, len);
	return n + len;
}

/* SEQUENCE { SEQUENCE { alg }, BIT STRING { unused, key } } into out; its length. */
static size_t
spki_of(const uint8_t *alg, size_t alg_len, uint8_t unused, const uint8_t *key, size_t key_len,
        uint8_t *out)
{
	uint8_t a[256], b[1100], body[1400];
	size_t na = tlv(0x30, alg, alg_len, a), nb;

	b[0] = unused;
	memcpy(b + 1, key, key_len);
	nb = tlv(0x03, b, key_len + 1, body + na);
	memcpy(body, a, na);
	return tlv(0x30, body, na + nb, out);
}

static const uint8_t oid_ec[] = {0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t oid_p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t oid_rsa[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
static const uint8_t oid_ed25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};

/* An AlgorithmIdentifier's contents: oid then params (may be empty). */
static size_t
alg_of(const uint8_t *oid, size_t oid_len, const uint8_t *params, size_t params_len, uint8_t *out)
{
	memcpy(out, oid, oid_len);
	if (params_len > 0)
		memcpy(out + oid_len, params, params_len);
	return oid_len + params_len;
}

static void
check_ec(const uint8_t *params, size_t params_len, uint8_t first, size_t key_len, int want)
{
	uint8_t alg[64], key[200], der[400];
	const size_t na = alg_of(oid_ec, sizeof(oid_ec), params, params_len, alg);
	struct cv_cert_key k;

	memset(key, 0x11, sizeof(key));
	key[0] = first;
	CHECK_INT_EQ(cv_spki_key_info(der, spki_of(alg, na, 0, key, key_len, der), &k), want);
	if (want == 0) {
		CHECK_INT_EQ(k.algorithm, GNUTLS_PK_ECDSA);
		CHECK_INT_EQ(k.curve, GNUTLS_ECC_CURVE_SECP256R1);
		CHECK_INT_EQ(k.bits, 256);
	} else {
		CHECK_INT_EQ(k.algorithm, 0); /* nothing half-filled */
	}
}

static void
test_ec_near_misses(void)
{
	static const uint8_t unknown_curve[] = {0x06, 0x03, 0x2a, 0x03, 0x04}; /* 1.2.3.4 */
	static const uint8_t explicit_params[] = {0x30, 0x03, 0x02, 0x01, 0x01};

	check_ec(oid_p256, sizeof(oid_p256), 0x04, 65, 0);  /* the form itself */
	check_ec(oid_p256, sizeof(oid_p256), 0x02, 33, -1); /* compressed point */
	check_ec(oid_p256, sizeof(oid_p256), 0x04, 64, -1); /* a point one octet short */
	check_ec(oid_p256, sizeof(oid_p256), 0x04, 97, -1); /* a P-384-sized point */
	check_ec(unknown_curve, sizeof(unknown_curve), 0x04, 65, -1);
	check_ec(explicit_params, sizeof(explicit_params), 0x04, 65, -1);
	check_ec(NULL, 0, 0x04, 65, -1); /* no curve at all */
}

static void
check_rsa(const uint8_t *params, size_t params_len, const uint8_t *n, size_t n_len, uint8_t unused,
          int want, unsigned bits)
{
	static const uint8_t e[] = {0x02, 0x03, 0x01, 0x00, 0x01};
	uint8_t alg[64], ints[600], key[620], der[800];
	const size_t na = alg_of(oid_rsa, sizeof(oid_rsa), params, params_len, alg);
	size_t ni = tlv(0x02, n, n_len, ints);
	struct cv_cert_key k;

	memcpy(ints + ni, e, sizeof(e));
	ni += sizeof(e);
	CHECK_INT_EQ(
	    cv_spki_key_info(der, spki_of(alg, na, unused, key, tlv(0x30, ints, ni, key), der), &k),
	    want);
	if (want == 0) {
		CHECK_INT_EQ(k.algorithm, GNUTLS_PK_RSA);
		CHECK_INT_EQ(k.kind, CV_KEY_RSA);
		CHECK_INT_EQ(k.bits, bits);
	}
}

static void
test_rsa_near_misses(void)
{
	static const uint8_t null[] = {0x05, 0x00};
	uint8_t n[300];

	memset(n, 0xC5, sizeof(n));
	n[0] = 0x00; /* positive, top bit of the next octet set: 2048 bits */
	check_rsa(null, sizeof(null), n, 257, 0, 0, 2048);
	n[1] = 0x01;
	check_rsa(null, sizeof(null), n + 1, 256, 0, 0, 2041); /* 0x01...: 2041 bits */
	check_rsa(null, sizeof(null), n, 257, 0, 0, 2041);     /* a redundant 0x00: the same */
	n[1] = 0xC5;
	check_rsa(null, sizeof(null), n + 1, 256, 0, -1, 0);     /* negative modulus */
	check_rsa(NULL, 0, n, 257, 0, -1, 0);                    /* parameters absent */
	check_rsa(oid_p256, sizeof(oid_p256), n, 257, 0, -1, 0); /* parameters not NULL */
	check_rsa(null, sizeof(null), n, 257, 1, -1, 0);         /* unused bits */
	n[0] = 0;
	check_rsa(null, sizeof(null), n, 1, 0, -1, 0); /* a zero modulus */
}

static void
test_eddsa_near_misses(void)
{
	static const uint8_t null[] = {0x05, 0x00};
	uint8_t alg[32], key[64], der[128];
	size_t na = alg_of(oid_ed25519, sizeof(oid_ed25519), NULL, 0, alg);
	struct cv_cert_key k;

	memset(key, 0x42, sizeof(key));
	CHECK_INT_EQ(cv_spki_key_info(der, spki_of(alg, na, 0, key, 32, der), &k), 0);
	CHECK_INT_EQ(k.algorithm, GNUTLS_PK_EDDSA_ED25519);
	CHECK_INT_EQ(cv_spki_key_info(der, spki_of(alg, na, 0, key, 31, der), &k), -1);
	CHECK_INT_EQ(cv_spki_key_info(der, spki_of(alg, na, 0, key, 57, der), &k), -1);
	na = alg_of(oid_ed25519, sizeof(oid_ed25519), null, sizeof(null), alg);
	CHECK_INT_EQ(cv_spki_key_info(der, spki_of(alg, na, 0, key, 32, der), &k), -1);
}

/* Another algorithm (DSA) is left to GnuTLS, and the certificate still reads through it. */
static void
test_other_algorithm(void)
{
	uint8_t der[SPKI_MAX];
	const size_t len = make_spki(GNUTLS_PK_DSA, 2048, der);
	struct cv_cert_key k;

	CHECK(len > 0);
	CHECK_INT_EQ(cv_spki_key_info(der, len, &k), -1);
	CHECK_INT_EQ(k.algorithm, 0);
}

int
main(void)
{
	gnutls_global_init();
	test_same_as_gnutls();
	test_ec_near_misses();
	test_rsa_near_misses();
	test_eddsa_near_misses();
	test_other_algorithm();
	gnutls_global_deinit();
	return check_summary();
}
