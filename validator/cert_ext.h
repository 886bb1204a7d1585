/*
 * cert_ext.h: the parsed form of a certificate (validator-internal): what cert_ext.c decodes
 * from the TBSCertificate once when a certificate is read, and cert.c keeps in struct cv_cert.
 * Everything points into the certificate's own DER copy; only the SAN list and the OIDs' text
 * are allocated.
 */
#ifndef CV_CERT_EXT_H
#define CV_CERT_EXT_H

#include "../common/error.h"
#include "cert.h"

struct cv_oid_block;

struct cv_cert_parsed {
	int version; /* 1, 2, 3 */
	const uint8_t *serial;
	size_t serial_len;
	const uint8_t *issuer, *subject; /* the two Names' whole encodings */
	size_t issuer_len, subject_len;
	uint64_t issuer_key, subject_key; /* name.h cv_name_key */
	const char *sig_oid;              /* signatureAlgorithm (the same as the TBS's signature) */
	cv_time not_before, not_after;    /* Validity */
	const uint8_t *spki;              /* the whole SubjectPublicKeyInfo encoding */
	size_t spki_len;
	struct cv_cert_ext ext[CV_CERT_EXT_MAX];
	size_t n_ext;

	struct cv_cert_bc bc;
	struct cv_cert_ku ku;
	struct cv_cert_eku eku;
	struct cv_cert_san san;
	struct cv_cert_gn *san_names; /* allocated: san.v */
	struct cv_cert_nc nc;
	struct cv_cert_policies policies;
	struct cv_cert_mappings mappings;
	struct cv_cert_policy_constraints pc;
	struct cv_cert_inhibit_any iap;
	struct cv_cert_aki aki;
	struct cv_cert_ski ski;
	struct cv_cert_aia aia;
	struct cv_cert_dps cdp;
	struct cv_cert_dps freshest;
	struct cv_oid_block *oid_blocks; /* allocated: the OIDs' text, which the members point to */
};

/* Decodes the TBSCertificate of a whole Certificate encoding (der stays owned by the caller
 * and must outlive out). Returns 0, or -1 with err naming what is malformed. */
int cv_cert_parse(const uint8_t *der, size_t len, struct cv_cert_parsed *out, struct cv_error *err);
void cv_cert_parsed_clear(struct cv_cert_parsed *p);

/* The parsed form kept by cert.c. */
const struct cv_cert_parsed *cv_cert_parsed(const struct cv_cert *cert);

#endif
