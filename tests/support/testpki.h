/*
 * testpki.h: a small builder of test certificates on the GnuTLS API, for the C unit tests
 * (validator, CRL, OCSP, policy). Keys are ECDSA P-256 unless a spec asks for RSA.
 *
 * Usage:
 *	struct tp_entity root, leaf;
 *	struct tp_spec s;
 *	tp_spec_ca(&s, "CN=Root,O=Test", now);           // a CA spec with sane defaults
 *	tp_issue(&root, &s, NULL);                         // NULL issuer: self-signed
 *	tp_spec_leaf(&s, "CN=peer,O=Test", now);
 *	s.dns[0] = "peer.example";
 *	tp_issue(&leaf, &s, &root);                        // signed by root's key
 *	... use leaf.cert (struct cv_cert *), leaf.crt, leaf.key ...
 *	tp_entity_free(&leaf); tp_entity_free(&root);
 *
 * Every tp_* returning int returns 0 on success and -1 on failure (with a message on stderr).
 */
#ifndef CV_TESTPKI_H
#define CV_TESTPKI_H

#include <stdbool.h>
#include <stddef.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../../common/clock.h"
#include "../../validator/cert.h"

enum tp_key_type {
	TP_KEY_EC256 = 0, /* ECDSA P-256 (fast; the default) */
	TP_KEY_RSA2048,
	TP_KEY_RSA1024,
	TP_KEY_RSA2056, /* a multiple of 8 above 2048: the near miss of RSA2052 */
	TP_KEY_RSA2052, /* a modulus size that is not a multiple of 8 */
	TP_KEY_DSA2048,
	TP_KEY_P192,
	TP_KEY_P384,
};

#define TP_NAMES_MAX 4

/* What to put into one certificate. Zero/NULL fields are left out. */
struct tp_spec {
	const char *subject;  /* RFC 4514 text, e.g. "CN=Sub CA,O=Test,C=US"; "" an empty Name */
	unsigned long serial; /* 0 picks a fresh serial */
	const unsigned char *serial_der; /* when set: the serialNumber INTEGER contents as is */
	size_t serial_der_len;
	int version;     /* 0: 3 */
	bool unique_ids; /* issuerUniqueID and subjectUniqueID (RFC 5280 4.1.2.8) */
	bool no_ski;     /* leave subjectKeyIdentifier out */
	bool no_aki;     /* leave authorityKeyIdentifier out */
	cv_time not_before, not_after;

	bool basic_constraints; /* emit basicConstraints (with ca and path_len) */
	bool ca;
	int path_len;       /* -1: no pathLenConstraint */
	unsigned key_usage; /* GNUTLS_KEY_* bits; 0: no keyUsage extension */

	const char *eku[TP_NAMES_MAX];   /* key purpose OIDs */
	const char *dns[TP_NAMES_MAX];   /* subjectAltName dNSName */
	const char *ip[TP_NAMES_MAX];    /* subjectAltName iPAddress, text ("192.0.2.1", "::1") */
	const char *email[TP_NAMES_MAX]; /* subjectAltName rfc822Name */

	/* nameConstraints (critical): DNS names and directory names (RFC 4514 text) */
	const char *nc_permitted_dns[TP_NAMES_MAX];
	const char *nc_excluded_dns[TP_NAMES_MAX];
	const char *nc_permitted_dn[TP_NAMES_MAX];
	const char *nc_excluded_dn[TP_NAMES_MAX];

	const char *crl_url[TP_NAMES_MAX];  /* cRLDistributionPoints URIs */
	const char *ocsp_url;               /* authorityInfoAccess id-ad-ocsp URI */
	const char *policies[TP_NAMES_MAX]; /* certificatePolicies OIDs */

	/* one arbitrary extension: its OID and DER value (NULL value: DER NULL 05 00) */
	const char *ext_oid;
	const unsigned char *ext_value;
	size_t ext_value_len;
	bool ext_critical;

	gnutls_digest_algorithm_t hash; /* 0: SHA-256 */
	enum tp_key_type key_type;
	gnutls_x509_privkey_t reuse_key; /* when set, this key is used (and copied), none made */
};

/* A certificate with its private key. All members are owned by the entity. */
struct tp_entity {
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	struct cv_cert *cert; /* the same certificate as certval sees it */
};

/* A CA spec: basicConstraints cA=true without pathLen, keyUsage keyCertSign|cRLSign,
 * valid from now-1 day to now+10 years. */
void tp_spec_ca(struct tp_spec *s, const char *subject, cv_time now);
/* A leaf spec: basicConstraints cA=false, keyUsage digitalSignature, valid now-1 day to +1 year. */
void tp_spec_leaf(struct tp_spec *s, const char *subject, cv_time now);

/* Makes a key and a certificate per spec, signed by issuer (NULL: self-signed). */
int tp_issue(struct tp_entity *out, const struct tp_spec *spec, const struct tp_entity *issuer);
void tp_entity_free(struct tp_entity *e); /* safe on a zeroed entity */

/* Issues per spec and reads the result back with cv_cert_from_der: its result (0 or -1 with
 * err set), or -2 when the certificate could not be made. For certificates certval must
 * refuse to read (malformed extensions). */
int tp_issue_load(const struct tp_spec *s, const struct tp_entity *issuer, struct cv_error *err);

/*
 * Replaces the first occurrence of from[0..n) in e's TBSCertificate with to[0..n) and signs
 * it again with issuer's key (SHA-256): certificates GnuTLS will not make (a zero serial, a
 * version 2 certificate with extensions). e->crt and e->cert are replaced. 0, or -1 with err
 * set (err may be NULL): the cv_cert_from_der error when certval refuses to read the result.
 */
int tp_patch(struct tp_entity *e, const struct tp_entity *issuer, const unsigned char *from,
             const unsigned char *to, size_t n, struct cv_error *err);

/* A copy of cert whose signature has one byte flipped (*out holds one reference). */
int tp_corrupt_signature(const struct cv_cert *cert, struct cv_cert **out);

/* Writes the entity's certificate (PEM) or key (PKCS#8 PEM, unencrypted) to a file. */
int tp_write_cert_pem(const struct tp_entity *e, const char *path);
int tp_write_key_pem(const struct tp_entity *e, const char *path);

#endif
