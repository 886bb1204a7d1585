/*
 * spki.c: a subject public key's facts read from its SubjectPublicKeyInfo (see spki.h). The
 * reading is strict: whatever is not the plain form of the four kinds below is left to GnuTLS,
 * which imports the key and reads its facts as before.
 */
#include "spki.h"

#include <stdbool.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "der.h"

#define OID_TEXT_MAX 64

static const uint8_t oid_rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
static const uint8_t oid_ec[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t oid_ed25519[] = {0x2b, 0x65, 0x70};
static const uint8_t oid_ed448[] = {0x2b, 0x65, 0x71};

/* The size in bits of a positive INTEGER's contents (no sign octet); 0 when not positive. */
static unsigned
integer_bits(const uint8_t *v, size_t len)
{
	unsigned bits;
	uint8_t top;

	if (len == 0 || (v[0] & 0x80) != 0)
		return 0;
	cv_asn1_int_normalise(&v, &len);
	if (len == 1 && v[0] == 0)
		return 0;
	if (v[0] == 0) { /* the sign octet of a value whose top bit is set */
		v++;
		len--;
	}
	bits = (unsigned)(len - 1) * 8;
	for (top = v[0]; top != 0; top >>= 1)
		bits++;
	return bits;
}

/*
 * RFC 3279 2.3.1: RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER },
 * the whole of the subjectPublicKey BIT STRING; the AlgorithmIdentifier's parameters are NULL.
 */
static int
rsa_info(struct cv_asn1 *alg, const uint8_t *key, size_t key_len, struct cv_cert_key *k)
{
	struct cv_asn1_elem null, seq, n, e;
	struct cv_asn1 d;

	if (cv_asn1_expect(alg, CV_ASN1_NULL, &null) < 0 || null.len != 0 ||
	    cv_asn1_finish(alg) < 0 || cv_asn1_whole(key, key_len, CV_ASN1_SEQUENCE, &seq) < 0)
		return -1;
	cv_asn1_open(&seq, &d);
	if (cv_asn1_expect(&d, CV_ASN1_INTEGER, &n) < 0 ||
	    cv_asn1_expect(&d, CV_ASN1_INTEGER, &e) < 0 || cv_asn1_finish(&d) < 0 ||
	    integer_bits(e.val, e.len) == 0 || (k->bits = integer_bits(n.val, n.len)) == 0)
		return -1;
	k->algorithm = GNUTLS_PK_RSA;
	k->kind = CV_KEY_RSA;
	return 0;
}

/*
 * RFC 5480 2.1.1: ECParameters ::= CHOICE { namedCurve OBJECT IDENTIFIER, ... }, only the
 * named curve; 2.2: ECPoint, here only the uncompressed form 04 || X || Y.
 */
static int
ec_info(struct cv_asn1 *alg, const uint8_t *key, size_t key_len, struct cv_cert_key *k)
{
	struct cv_asn1_elem curve_oid;
	char text[OID_TEXT_MAX];
	gnutls_ecc_curve_t curve;
	size_t size;

	if (cv_asn1_expect(alg, CV_ASN1_OID, &curve_oid) < 0 || cv_asn1_finish(alg) < 0 ||
	    cv_asn1_oid_text(curve_oid.val, curve_oid.len, text, sizeof(text)) < 0)
		return -1;
	curve = gnutls_oid_to_ecc_curve(text);
	if (curve == GNUTLS_ECC_CURVE_INVALID ||
	    gnutls_ecc_curve_get_pk(curve) != GNUTLS_PK_ECDSA ||
	    (size = (size_t)gnutls_ecc_curve_get_size(curve)) == 0 || key_len != 1 + 2 * size ||
	    key[0] != 0x04)
		return -1;
	k->algorithm = GNUTLS_PK_ECDSA;
	k->kind = CV_KEY_EC;
	k->curve = (int)curve;
	k->bits = (unsigned)size * 8;
	return 0;
}

/* RFC 8410 3: the parameters are absent; 4: the key is the raw public key octets. */
static int
eddsa_info(struct cv_asn1 *alg, size_t key_len, gnutls_ecc_curve_t curve, int pk,
           struct cv_cert_key *k)
{
	const size_t size = (size_t)gnutls_ecc_curve_get_size(curve);

	if (cv_asn1_finish(alg) < 0 || size == 0 || key_len != size)
		return -1;
	k->algorithm = pk;
	k->kind = CV_KEY_EDDSA;
	k->curve = (int)curve;
	k->bits = (unsigned)size * 8;
	return 0;
}

/*
 * SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
 *                                     subjectPublicKey BIT STRING }
 * AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }
 */
int
cv_spki_key_info(const uint8_t *spki, size_t len, struct cv_cert_key *k)
{
	struct cv_asn1_elem whole, alg_seq, oid, bits;
	struct cv_asn1 d, alg;
	const uint8_t *key;
	size_t key_len;
	unsigned unused;
	int rc = -1;

	memset(k, 0, sizeof(*k));
	if (cv_asn1_whole(spki, len, CV_ASN1_SEQUENCE, &whole) < 0)
		return -1;
	cv_asn1_open(&whole, &d);
	if (cv_asn1_expect(&d, CV_ASN1_SEQUENCE, &alg_seq) < 0 ||
	    cv_asn1_expect(&d, CV_ASN1_BIT_STRING, &bits) < 0 || cv_asn1_finish(&d) < 0 ||
	    cv_asn1_bit_string(&bits, &key, &key_len, &unused) < 0 || unused != 0 || key_len == 0)
		return -1;
	cv_asn1_open(&alg_seq, &alg);
	if (cv_asn1_expect(&alg, CV_ASN1_OID, &oid) < 0)
		return -1;
	if (cv_asn1_oid_eq(&oid, oid_rsa, sizeof(oid_rsa)))
		rc = rsa_info(&alg, key, key_len, k);
	else if (cv_asn1_oid_eq(&oid, oid_ec, sizeof(oid_ec)))
		rc = ec_info(&alg, key, key_len, k);
	else if (cv_asn1_oid_eq(&oid, oid_ed25519, sizeof(oid_ed25519)))
		rc =
		    eddsa_info(&alg, key_len, GNUTLS_ECC_CURVE_ED25519, GNUTLS_PK_EDDSA_ED25519, k);
	else if (cv_asn1_oid_eq(&oid, oid_ed448, sizeof(oid_ed448)))
		rc = eddsa_info(&alg, key_len, GNUTLS_ECC_CURVE_ED448, GNUTLS_PK_EDDSA_ED448, k);
	if (rc < 0)
		memset(k, 0, sizeof(*k));
	return rc;
}
