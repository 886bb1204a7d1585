/*
 * test_pkits_crl.c: NIST PKITS sections 4.4, 4.14 and 4.15 at the revocation level. For each
 * row, the path from the end entity to the trust anchor is found among the row's certificates
 * (issuer name plus signature); every non-anchor certificate of it is checked with
 * cv_crl_check against the row's CRLs; "all good" must equal the expected "valid". The other
 * certificates of the row are candidate CRL signers, validated the same way (a path to the
 * anchor, each certificate of it not revoked).
 *
 * It also reads a few PKITS CRLs and checks what the reader makes of their fields.
 *
 * PKITS comes from $CERTVAL_PKITS_DIR or $CERTVAL_SOURCE_DIR/../shared/pkits; exit 77 (skipped)
 * when absent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/util.h"
#include "../../validator/cert.h"
#include "../../validator/crl/crl_check.h"
#include "../../validator/crl/crl_verify.h"
#include "../../validator/name.h"
#include "../../validator/x509int.h"
#include "../support/check.h"
#include "pkits_files.h"

#define ROW_CERTS_MAX 12
#define ROW_CRLS_MAX  12
#define DEPTH_MAX     6

struct row {
	char id[16];
	bool expect_valid;
	cv_time at;
	struct cv_cert *anchor;
	struct cv_cert *certs[ROW_CERTS_MAX]; /* intermediates, then the end entity last */
	size_t n_certs;
	struct cv_crl *crls[ROW_CRLS_MAX];
	size_t n_crls;
	struct cv_cert *all[ROW_CERTS_MAX + 1]; /* anchor + certs: candidate signers */
	size_t n_all;
	const struct cv_cert *stack[DEPTH_MAX]; /* signers being validated (recursion) */
	int depth;
	bool verbose;
};

static char pkits[1024];

static struct cv_cert *
load_cert(const char *name)
{
	struct cv_error err;
	struct cv_cert *c = pkits_cert(pkits, name, &err);

	if (c == NULL)
		fprintf(stderr, "%s: %s\n", name, err.msg);
	return c;
}

static struct cv_crl *
load_crl(const char *name)
{
	struct cv_error err;
	struct cv_crl *c = pkits_crl(pkits, name, &err);

	if (c == NULL)
		printf("  (%s not usable: %s)\n", name, err.msg);
	return c;
}

/* Whether issuer's subject names cert's issuer and issuer's key verifies cert's signature. */
static bool
issued_by(const struct cv_cert *cert, const struct cv_cert *issuer)
{
	size_t a, b;
	const uint8_t *in = cv_cert_issuer_der(cert, &a), *sn = cv_cert_subject_der(issuer, &b);
	gnutls_x509_crt_t c = cv_cert_crt(cert), i = cv_cert_crt(issuer);
	unsigned status = 0;

	if (cv_cert_equal(cert, issuer) || !cv_name_equal(in, a, sn, b))
		return false;
	if (gnutls_x509_crt_verify(
	        c, &i, 1,
	        GNUTLS_VERIFY_DISABLE_TIME_CHECKS | GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS |
	            GNUTLS_VERIFY_DISABLE_CA_SIGN | GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1,
	        &status) < 0)
		return false;
	return status == 0;
}

static const struct cv_cert *
find_issuer(const struct row *r, const struct cv_cert *cert)
{
	for (size_t i = 0; i < r->n_all; i++)
		if (issued_by(cert, r->all[i]))
			return r->all[i];
	return NULL;
}

static bool check_path_good(struct row *r, const struct cv_cert *leaf, const char *who);

static int
validate_signer(void *arg, const struct cv_cert *signer, struct cv_error *err)
{
	struct row *r = arg;

	/* A CRL signer whose own status comes from the CRL it signs (4.14.30): its validation is
	 * already under way further up; accept it here instead of looping. */
	for (int i = 0; i < r->depth; i++)
		if (cv_cert_equal(r->stack[i], signer))
			return 0;
	if (r->depth >= DEPTH_MAX) {
		cv_error_set(err, "signer validation too deep");
		return -1;
	}
	r->stack[r->depth++] = signer;
	bool ok = check_path_good(r, signer, "signer");
	r->depth--;
	if (!ok) {
		cv_error_set(err, "signer path invalid or revoked");
		return -1;
	}
	return 0;
}

/* Walks from leaf to the anchor; every non-anchor certificate must be GOOD. */
/*
 * The same check without notes (a verdict made without its trace) decides the same: status,
 * reason, date, message and answering CRL; it writes no note, where the check with notes
 * wrote at least one (every CRL considered gets one).
 */
static void
check_quiet_same(const struct cv_crl_check_params *p, const struct cv_crl_check_result *with)
{
	struct cv_crl_check_params q = *p;
	struct cv_crl_check_result res;

	q.no_notes = true;
	memset(&res, 0xa5, sizeof(res)); /* whatever the caller's stack held */
	cv_crl_check(&q, &res);
	CHECK(res.status == with->status);
	CHECK(res.reason == with->reason);
	CHECK(res.revocation_date == with->revocation_date);
	CHECK(res.crl == with->crl && res.from_delta == with->from_delta);
	CHECK_STR_EQ(res.message, with->message);
	CHECK(res.n_notes == 0);
	CHECK(with->n_notes > 0 || p->n_crls == 0);
}

static bool
check_path_good(struct row *r, const struct cv_cert *leaf, const char *who)
{
	const struct cv_cert *cur = leaf;

	for (int hops = 0; hops < DEPTH_MAX; hops++) {
		const struct cv_cert *issuer;
		struct cv_crl_check_params p;
		struct cv_crl_check_result res;

		if (cv_cert_equal(cur, r->anchor))
			return true;
		issuer = find_issuer(r, cur);
		if (issuer == NULL) {
			if (r->verbose)
				printf("  %s: no issuer for %s\n", who, cv_cert_subject(cur));
			return false;
		}
		memset(&p, 0, sizeof(p));
		p.cert = cur;
		p.issuer = issuer;
		p.at = r->at;
		p.crls = r->crls;
		p.n_crls = r->n_crls;
		p.signers = r->all;
		p.n_signers = r->n_all;
		p.validate_signer = validate_signer;
		p.signer_arg = r;
		p.verify_flags = GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1;
		p.use_deltas = true;
		cv_crl_check(&p, &res);
		check_quiet_same(&p, &res);
		if (r->verbose) {
			printf("  %s %s: %s (%s)\n", who, cv_cert_subject(cur),
			       cv_crl_status_name(res.status), res.message);
			for (size_t i = 0; i < res.n_notes; i++)
				printf("    %s\n", res.notes[i]);
		}
		if (res.status != CV_CRL_STATUS_GOOD)
			return false;
		cur = issuer;
	}
	return false;
}

/* Splits a comma-separated list in place. */
static size_t
split(char *s, char **out, size_t max)
{
	size_t n = 0;

	while (s != NULL && *s != '\0' && n < max) {
		out[n++] = s;
		s = strchr(s, ',');
		if (s != NULL)
			*s++ = '\0';
	}
	return n;
}

static void
free_row(struct row *r)
{
	cv_cert_unref(r->anchor);
	for (size_t i = 0; i < r->n_certs; i++)
		cv_cert_unref(r->certs[i]);
	for (size_t i = 0; i < r->n_crls; i++)
		cv_crl_free(r->crls[i]);
}

/* Columns: id section section_name name expected trust_anchor intermediates ee crls ... time */
static int
run_row(char **col, size_t ncol, bool verbose)
{
	struct row r;
	char *names[ROW_CERTS_MAX];
	size_t n;
	bool valid, ok = true;

	memset(&r, 0, sizeof(r));
	cv_strlcpy(r.id, col[0], sizeof(r.id));
	r.verbose = verbose;
	r.expect_valid = strcmp(col[4], "valid") == 0;
	if (cv_time_parse(col[ncol - 1], &r.at) < 0)
		return -1;
	r.anchor = load_cert(col[5]);
	ok = r.anchor != NULL;
	n = split(col[6], names, ROW_CERTS_MAX - 1);
	for (size_t i = 0; i < n && ok; i++)
		ok = (r.certs[r.n_certs++] = load_cert(names[i])) != NULL;
	if (ok)
		ok = (r.certs[r.n_certs++] = load_cert(col[7])) != NULL;
	/* a CRL that fails ingestion (e.g. 4.4.4's malformed signature) is simply not there,
	 * as in the daemon, where it is a method error */
	n = split(col[8], names, ROW_CRLS_MAX);
	for (size_t i = 0; i < n && ok; i++)
		if ((r.crls[r.n_crls] = load_crl(names[i])) != NULL)
			r.n_crls++;
	if (!ok) {
		free_row(&r);
		return -1;
	}
	r.all[r.n_all++] = r.anchor;
	for (size_t i = 0; i < r.n_certs; i++)
		r.all[r.n_all++] = r.certs[i];
	if (verbose)
		printf("%s %s (expected %s)\n", r.id, col[3], col[4]);
	valid = check_path_good(&r, r.certs[r.n_certs - 1], "cert");
	free_row(&r);
	return valid == r.expect_valid ? 1 : 0;
}

/* The reader's view of a few PKITS CRLs: entries, IDP flags, delta, unknown extensions. */
static void
test_crl_fields(void)
{
	struct cv_crl *c;
	const struct cv_crl_info *i;

	c = load_crl("GoodCACRL");
	CHECK(c != NULL && cv_crl_entries(c) == 2);
	cv_crl_free(c);
	c = load_crl("onlyContainsUserCertsCACRL");
	CHECK(c != NULL);
	if (c != NULL) {
		i = cv_crl_get_info(c);
		CHECK(i->idp.present && i->idp.only_user_certs && !i->idp.only_ca_certs);
		cv_crl_free(c);
	}
	c = load_crl("deltaCRLCA1deltaCRL");
	CHECK(c != NULL && cv_crl_is_delta(c));
	cv_crl_free(c);
	c = load_crl("UnknownCRLEntryExtensionCACRL");
	CHECK(c != NULL && cv_crl_get_info(c)->entry_unknown_critical);
	cv_crl_free(c);
	c = load_crl("UnknownCRLExtensionCACRL");
	CHECK(c != NULL && cv_crl_get_info(c)->unknown_critical);
	cv_crl_free(c);
	c = load_crl("onlySomeReasonsCA1compromiseCRL");
	CHECK(c != NULL && cv_crl_get_info(c)->idp.has_reasons);
	cv_crl_free(c);
	c = load_crl("indirectCRLCA5CRL");
	CHECK(c != NULL && cv_crl_get_info(c)->idp.indirect_crl &&
	      cv_crl_get_info(c)->has_certificate_issuer);
	cv_crl_free(c);
}

/*
 * Issue 13: a CRL's tbsCertList is hashed at ingest and its signature checked over that digest
 * (gnutls_pubkey_verify_hash2); the answer must be the one of a check over the message
 * (gnutls_pubkey_verify_data2) for every flag, key and CRL: RSA with SHA-256, DSA with SHA-1
 * with and without GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1, the wrong key.
 */
static void
check_digest_agrees(const char *crl_name, const char *signer_name, bool sha1, int expect_allowed)
{
	static const unsigned flags[] = {0, GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1};
	struct cv_error err = {{0}};
	struct cv_crl *crl = load_crl(crl_name);
	struct cv_cert *signer = pkits_cert(pkits, signer_name, &err);
	uint8_t md[64];
	gnutls_datum_t digest = {md, 0};

	CHECK(crl != NULL && signer != NULL);
	if (crl == NULL || signer == NULL)
		goto out;
	digest.size = cv_crl_tbs_digest(cv_crl_get_info(crl), md);
	CHECK_INT_EQ(digest.size, sha1 ? 20 : 32); /* RSA with SHA-256, DSA with SHA-1 */
	for (size_t i = 0; i < CV_ARRAY_LEN(flags); i++) {
		const int by_data =
		    cv_crl_verify_signature(cv_crl_get_info(crl), cv_cert_crt(signer), flags[i],
		                            &err) == 0;
		const int by_digest =
		    cv_crl_verify_signature_digest(cv_crl_get_info(crl), &digest,
		                                   cv_cert_crt(signer), flags[i], &err) == 0;

		if (by_data != by_digest)
			printf("  %s, flags %u: over the message %d, over the digest %d\n",
			       crl_name, flags[i], by_data, by_digest);
		CHECK_INT_EQ(by_digest, by_data);
		if (flags[i] != 0)
			CHECK_INT_EQ(by_digest, expect_allowed);
	}
out:
	cv_crl_free(crl);
	cv_cert_unref(signer);
}

static void
test_digest_agrees(void)
{
	check_digest_agrees("TrustAnchorRootCRL", "TrustAnchorRootCertificate", false, 1);
	check_digest_agrees("GoodCACRL", "GoodCACert", false, 1);
	check_digest_agrees("GoodCACRL", "TrustAnchorRootCertificate", false, 0); /* wrong key */
	check_digest_agrees("DSACACRL", "DSACACert", true, 1);
	check_digest_agrees("DSACACRL", "GoodCACert", true, 0); /* an RSA key for DSA */
}

int
main(int argc, char **argv)
{
	char path[1024], line[4096];
	const char *only = argc > 1 ? argv[1] : NULL;
	FILE *f;
	int rows = 0, passed = 0;

	pkits_dir(pkits, sizeof(pkits));
	snprintf(path, sizeof(path), "%s/pkits-expected.tsv", pkits);
	f = fopen(path, "r");
	if (f == NULL) {
		printf("SKIP: PKITS not found at %s (set CERTVAL_PKITS_DIR)\n", pkits);
		return 77;
	}
	if (gnutls_global_init() < 0)
		return 1;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *col[16], *s = line;
		size_t ncol = 0;
		int rc;

		line[strcspn(line, "\r\n")] = '\0';
		while (ncol < 16 && s != NULL) {
			col[ncol++] = s;
			s = strchr(s, '\t');
			if (s != NULL)
				*s++ = '\0';
		}
		if (ncol < 15 || (strcmp(col[1], "4.4") != 0 && strcmp(col[1], "4.14") != 0 &&
		                  strcmp(col[1], "4.15") != 0))
			continue;
		if (only != NULL && strcmp(only, col[0]) != 0)
			continue;
		rows++;
		rc = run_row(col, ncol, only != NULL);
		CHECK(rc >= 0);
		if (rc == 1)
			passed++;
		else
			printf("FAIL %s %s (expected %s)\n", col[0], col[3], col[4]);
		CHECK(rc == 1);
	}
	fclose(f);
	if (only == NULL) {
		test_crl_fields();
		test_digest_agrees();
	}
	printf("PKITS 4.4/4.14/4.15 at the revocation level: %d of %d rows pass\n", passed, rows);
	CHECK(rows == 66 || only != NULL);
	gnutls_global_deinit();
	return check_summary();
}
