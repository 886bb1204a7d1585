/*
 * general_names.h: the GeneralName and DistributionPoint syntax of RFC 5280 (4.2.1.6,
 * 4.2.1.13, 5.2.5), read in one place for certificates (cert_ext.c) and CRLs
 * (crl/crl_reader.c). Every result points into the caller's DER.
 */
#ifndef CV_GENERAL_NAMES_H
#define CV_GENERAL_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "der.h"

/* GeneralName CHOICE numbers (RFC 5280 4.2.1.6): the context tag of each alternative. */
enum cv_gn_type {
	CV_GN_OTHER_NAME = 0,
	CV_GN_RFC822 = 1,
	CV_GN_DNS = 2,
	CV_GN_X400 = 3,
	CV_GN_DIRECTORY = 4,
	CV_GN_EDI_PARTY = 5,
	CV_GN_URI = 6,
	CV_GN_IP = 7,
	CV_GN_REGISTERED_ID = 8,
};

/* One GeneralName: its type, its contents (for [4] the Name SEQUENCE inside the EXPLICIT
 * tag, whole), and its whole encoding. */
struct cv_cert_gn {
	enum cv_gn_type type;
	const uint8_t *val;
	size_t len;
	const uint8_t *raw;
	size_t raw_len;
};

/* DistributionPointName ::= CHOICE { fullName [0], nameRelativeToCRLIssuer [1] } */
enum cv_dp_kind {
	CV_DP_NONE = 0,
	CV_DP_FULL_NAME,    /* names: contents of GeneralNames (a run of GeneralName) */
	CV_DP_RELATIVE_NAME /* names: the contents of the RelativeDistinguishedName SET */
};

struct cv_dp_name {
	enum cv_dp_kind kind;
	const uint8_t *names;
	size_t len;
};

/* One DistributionPoint of a cRLDistributionPoints or freshestCRL extension. */
struct cv_dist_point {
	struct cv_dp_name dp;
	bool has_reasons;
	uint32_t reasons;          /* ReasonFlags, bit n = named bit n */
	const uint8_t *crl_issuer; /* contents of cRLIssuer GeneralNames, NULL if absent */
	size_t crl_issuer_len;
};

/* Reads one GeneralName element (out may be NULL: a check). Returns 0 or -1. */
int cv_general_name_read(const struct cv_asn1_elem *e, struct cv_cert_gn *out);

/* Whether the contents of an otherName ([0] implicit AnotherName) are one: a type-id OID and
 * one [0] EXPLICIT value. */
bool cv_other_name_ok(const uint8_t *p, size_t len);

/* Checks the contents of a GeneralNames (SIZE (1..MAX)): each one a well-formed GeneralName. */
int cv_general_names_check(const uint8_t *p, size_t len);

/* Reads the [0] element that wraps a DistributionPointName. Returns 0 or -1. */
int cv_dp_name_read(const struct cv_asn1_elem *e, struct cv_dp_name *out);

/*
 * Reads a CRLDistributionPoints (or FreshestCRL) extension value into at most max points.
 * Returns the count, or -1 when malformed, empty, or longer than max.
 */
int cv_dist_points_read(const uint8_t *der, size_t len, struct cv_dist_point *out, size_t max);

#endif
