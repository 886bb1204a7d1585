/*
 * cert.h: X.509 certificates as the rest of certval sees them: loaded from PEM or DER,
 * reference counted, with the text forms (names, serial) and every extension the engine uses
 * decoded once, strictly, when the certificate is read (cert_ext.c). The rest of certval reads
 * certificates only through these accessors: no GnuTLS certificate object leaves validator/.
 */
#ifndef CV_CERT_H
#define CV_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/x509.h>

#include "../common/clock.h"
#include "../common/error.h"
#include "general_names.h"

struct cv_cert; /* opaque, reference counted */

/* An owning list of certificates (each element holds one reference). */
struct cv_cert_list {
	struct cv_cert **v;
	size_t n;
	size_t cap;
};

#define CV_CERT_FILE_MAX (4u << 20) /* a certificate file larger than 4 MiB is refused */

/* Parses one DER certificate; strict (trailing bytes refused). Returns 0 or -1 with err set. */
int cv_cert_from_der(const uint8_t *der, size_t len, struct cv_cert **out, struct cv_error *err);
/* The same with the DER's SHA-256 given by a caller that has it (it must be of exactly der). */
int cv_cert_from_der_sha(const uint8_t *der, size_t len, const uint8_t sha256[32],
                         struct cv_cert **out, struct cv_error *err);

/*
 * Appends every certificate of a buffer: one DER certificate, or PEM text holding one or more
 * "CERTIFICATE" blocks (other PEM blocks are ignored; a buffer with no certificate is an error).
 */
int cv_cert_list_parse(struct cv_cert_list *list, const uint8_t *data, size_t len,
                       struct cv_error *err);

/* cv_cert_list_parse on a file's contents; the error names the file. */
int cv_cert_list_load_file(struct cv_cert_list *list, const char *path, struct cv_error *err);

/* Appends one more reference to cert. Returns 0 or -1 (out of memory). */
int cv_cert_list_push(struct cv_cert_list *list, struct cv_cert *cert);
void cv_cert_list_free(struct cv_cert_list *list); /* drops every reference; list reusable */

struct cv_cert *cv_cert_ref(struct cv_cert *cert);
void cv_cert_unref(struct cv_cert *cert); /* NULL is fine */

const uint8_t *cv_cert_der(const struct cv_cert *cert, size_t *len);
/* The whole SubjectPublicKeyInfo encoding inside the DER: what keys are imported from. */
const uint8_t *cv_cert_spki(const struct cv_cert *cert, size_t *len);

/* RFC 4514 text of the names as GnuTLS prints them (most significant RDN last). */
const char *cv_cert_subject(const struct cv_cert *cert);
const char *cv_cert_issuer(const struct cv_cert *cert);
/* The serial as upper-case hex without separators or leading zeros ("0" for zero). */
const char *cv_cert_serial(const struct cv_cert *cert);
/* The raw DER of the subject and issuer Names, for exact name chaining. */
const uint8_t *cv_cert_subject_der(const struct cv_cert *cert, size_t *len);
const uint8_t *cv_cert_issuer_der(const struct cv_cert *cert, size_t *len);
/* Their comparison keys (name.h, cv_name_key), made when the certificate was read. */
uint64_t cv_cert_subject_key(const struct cv_cert *cert);
uint64_t cv_cert_issuer_key(const struct cv_cert *cert);
/* Whether child's issuer Name matches issuer's subject Name (RFC 5280 7.1), keys first. */
bool cv_cert_issued_by_name(const struct cv_cert *child, const struct cv_cert *issuer);

cv_time cv_cert_not_before(const struct cv_cert *cert);
cv_time cv_cert_not_after(const struct cv_cert *cert);

bool cv_cert_is_self_issued(const struct cv_cert *cert);              /* subject equals issuer */
bool cv_cert_equal(const struct cv_cert *a, const struct cv_cert *b); /* same DER */

/* The SHA-256 of the DER (32 bytes), computed once: the certificate's identity in caches. */
const uint8_t *cv_cert_sha256(const struct cv_cert *cert);

/* Upper-case hex digest of the DER (GNUTLS_DIG_SHA1, _SHA256, _MD5); out >= 2*64+1. */
int cv_cert_fingerprint(const struct cv_cert *cert, gnutls_digest_algorithm_t algo, char *out,
                        size_t out_len);

/* --- the parsed certificate (decoded once in cv_cert_from_der, cert_ext.c) --- */

#define CV_OID_TEXT_MAX      64   /* dotted OID text, NUL included */
#define CV_CERT_EXT_MAX      32   /* extensions in one certificate */
#define CV_CERT_EKU_MAX      16   /* KeyPurposeIds in one extKeyUsage */
#define CV_CERT_POLICIES_MAX 16   /* PolicyInformation in one certificatePolicies */
#define CV_CERT_MAPPINGS_MAX 16   /* pairs in one policyMappings */
#define CV_CERT_URIS_MAX     8    /* OCSP or caIssuers URIs in one authorityInfoAccess */
#define CV_CERT_DPS_MAX      16   /* DistributionPoints in one cRLDistributionPoints */
#define CV_CERT_SAN_MAX      1024 /* GeneralNames in one subjectAltName */

/* KeyUsage (RFC 5280 4.2.1.3) as a mask: bit n is named bit n of the BIT STRING. */
#define CV_KU_DIGITAL_SIGNATURE (1u << 0)
#define CV_KU_NON_REPUDIATION   (1u << 1)
#define CV_KU_KEY_ENCIPHERMENT  (1u << 2)
#define CV_KU_DATA_ENCIPHERMENT (1u << 3)
#define CV_KU_KEY_AGREEMENT     (1u << 4)
#define CV_KU_KEY_CERT_SIGN     (1u << 5)
#define CV_KU_CRL_SIGN          (1u << 6)
#define CV_KU_ENCIPHER_ONLY     (1u << 7)
#define CV_KU_DECIPHER_ONLY     (1u << 8)

/*
 * The OIDs below are dotted text (at most CV_OID_TEXT_MAX bytes with the NUL) kept with the
 * parsed certificate, as long as it lives: a certificate holds only the texts it carries.
 */

/* One extension as the certificate carries it. value is the extnValue OCTET STRING's
 * contents (into the certificate's DER). */
struct cv_cert_ext {
	const char *oid;
	bool critical;
	bool known; /* one of the extensions decoded here */
	const uint8_t *value;
	size_t len;
};

/* Every decoded extension starts with these two: present, and its criticality. */
struct cv_cert_bc {
	bool present, critical;
	bool ca;
	int path_len; /* -1 when absent */
};

struct cv_cert_ku {
	bool present, critical;
	uint32_t bits; /* CV_KU_* */
};

struct cv_cert_eku {
	bool present, critical;
	size_t n;
	const char *oid[CV_CERT_EKU_MAX];
};

/* subjectAltName: the decoded names and the raw extension value (GeneralNames SEQUENCE). */
struct cv_cert_san {
	bool present, critical;
	size_t n;
	const struct cv_cert_gn *v;
	const uint8_t *raw;
	size_t raw_len;
};

/* nameConstraints: raw extension value (the NameConstraints SEQUENCE, checked to be one). */
struct cv_cert_nc {
	bool present, critical;
	const uint8_t *raw;
	size_t raw_len;
};

struct cv_cert_policies {
	bool present, critical;
	size_t n;
	const char *oid[CV_CERT_POLICIES_MAX];
};

struct cv_cert_mapping {
	const char *issuer, *subject;
};

struct cv_cert_mappings {
	bool present, critical;
	size_t n;
	struct cv_cert_mapping v[CV_CERT_MAPPINGS_MAX];
};

struct cv_cert_policy_constraints {
	bool present, critical;
	int require_explicit; /* SkipCerts, -1 when absent */
	int inhibit_mapping;  /* SkipCerts, -1 when absent */
};

struct cv_cert_inhibit_any {
	bool present, critical;
	int skip; /* SkipCerts, -1 when absent */
};

struct cv_cert_aki {
	bool present, critical;
	const uint8_t *key_id; /* keyIdentifier contents, NULL when absent */
	size_t key_id_len;
	const uint8_t *issuer; /* authorityCertIssuer GeneralNames contents, NULL when absent */
	size_t issuer_len;
	const uint8_t *serial; /* authorityCertSerialNumber contents, NULL when absent */
	size_t serial_len;
};

struct cv_cert_ski {
	bool present, critical;
	const uint8_t *key_id;
	size_t key_id_len;
};

/* A URI (IA5String contents, not NUL-terminated: copy with cv_cert_uri_copy). */
struct cv_cert_uri {
	const char *p;
	size_t len;
};

/* authorityInfoAccess: the uniformResourceIdentifier locations of id-ad-ocsp and
 * id-ad-caIssuers, in certificate order (other locations are checked and skipped). */
struct cv_cert_aia {
	bool present, critical;
	size_t n_ocsp, n_ca_issuers;
	struct cv_cert_uri ocsp[CV_CERT_URIS_MAX];
	struct cv_cert_uri ca_issuers[CV_CERT_URIS_MAX];
};

/* cRLDistributionPoints or freshestCRL (the same syntax). */
struct cv_cert_dps {
	bool present, critical;
	size_t n;
	struct cv_dist_point v[CV_CERT_DPS_MAX];
};

enum cv_key_kind { CV_KEY_OTHER = 0, CV_KEY_RSA, CV_KEY_DSA, CV_KEY_EC, CV_KEY_EDDSA };

/* The subject public key as GnuTLS reads it, once. */
struct cv_cert_key {
	enum cv_key_kind kind;
	unsigned bits; /* RSA modulus or DSA p size, EC field size */
	int curve;     /* gnutls_ecc_curve_t for EC and EdDSA keys, else 0 */
	int algorithm; /* gnutls_pk_algorithm_t */
};

int cv_cert_version(const struct cv_cert *cert); /* 1, 2 or 3 */
/* serialNumber INTEGER contents as encoded (two's complement, as the CA wrote it). */
const uint8_t *cv_cert_serial_der(const struct cv_cert *cert, size_t *len);
const struct cv_cert_key *cv_cert_public_key(const struct cv_cert *cert);
int
cv_cert_signature_algorithm(const struct cv_cert *cert); /* gnutls_sign_algorithm_t, <= 0 unknown */
const char *cv_cert_signature_algorithm_name(const struct cv_cert *cert); /* "?" if unknown */
const char *cv_cert_key_algorithm_name(const struct cv_cert *cert);       /* "?" if unknown */

/* The extensions in certificate order. */
size_t cv_cert_ext_count(const struct cv_cert *cert);
const struct cv_cert_ext *cv_cert_ext_at(const struct cv_cert *cert, size_t i);

const struct cv_cert_bc *cv_cert_basic_constraints(const struct cv_cert *cert);
const struct cv_cert_ku *cv_cert_key_usage(const struct cv_cert *cert);
const struct cv_cert_eku *cv_cert_ext_key_usage(const struct cv_cert *cert);
const struct cv_cert_san *cv_cert_san(const struct cv_cert *cert);
const struct cv_cert_nc *cv_cert_name_constraints(const struct cv_cert *cert);
const struct cv_cert_policies *cv_cert_policies(const struct cv_cert *cert);
const struct cv_cert_mappings *cv_cert_policy_mappings(const struct cv_cert *cert);
const struct cv_cert_policy_constraints *cv_cert_policy_constraints(const struct cv_cert *cert);
const struct cv_cert_inhibit_any *cv_cert_inhibit_any_policy(const struct cv_cert *cert);
const struct cv_cert_aki *cv_cert_aki(const struct cv_cert *cert);
const struct cv_cert_ski *cv_cert_ski(const struct cv_cert *cert);
const struct cv_cert_aia *cv_cert_aia(const struct cv_cert *cert);
const struct cv_cert_dps *cv_cert_crl_dps(const struct cv_cert *cert);
const struct cv_cert_dps *cv_cert_freshest_crl(const struct cv_cert *cert);

/* Copies a URI NUL-terminated; 0, or -1 when it does not fit or holds a NUL. */
int cv_cert_uri_copy(const struct cv_cert_uri *uri, char *out, size_t out_len);

/*
 * The first subject attribute of type oid (dotted text) whose value is a UTF8String,
 * PrintableString, T61String or IA5String, copied as is: 1 found, 0 no such attribute, -1
 * another string type, too long or holding a NUL.
 */
int cv_cert_subject_attr_string(const struct cv_cert *cert, const char *oid, char *out,
                                size_t out_len);
/* The first subject attribute of type oid as GnuTLS prints it (converted from BMPString and
 * UniversalString for known OIDs, "#hex" otherwise). 0, or -1 when absent or too long. */
int cv_cert_subject_attr_text(const struct cv_cert *cert, const char *oid, char *out,
                              size_t out_len);

#endif
