/*
 * ctl_crl_check.c: `certvalctl crl-check`, one certificate against one CRL offline. It runs the
 * engine's own RFC 5280 6.3 processing (validator/crl/crl_check.c, cv_crl_check) with the
 * given issuer as the only CRL signer, and prints GOOD, REVOKED (date and reason) or why the
 * CRL cannot answer, followed by the check's notes, so an administrator sees why a CRL is
 * refused. Exit status as `ocsp-check`: 0 GOOD, 1 REVOKED or unusable, 2 usage or unreadable
 * files, 3 internal error.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../validator/crl/crl.h"
#include "../common/clock.h"
#include "../common/util.h"
#include "../validator/cert.h"
#include "../validator/crl/crl_check.h"
#include "../validator/name.h"
#include "ctl.h"

#define CRL_CHECK_MAX_AGE_LIMIT (100LL * 365 * 86400)

struct opts {
	const char *crl, *cert, *issuer, *at, *max_age;
};

static int
usage(void)
{
	fprintf(stderr, "usage: certvalctl crl-check --crl FILE --cert FILE --issuer FILE "
	                "[--at TIME] [--max-age SECONDS]\n");
	return CV_CTL_USAGE;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
	    {"crl", required_argument, NULL, 'c'},     {"cert", required_argument, NULL, 'e'},
	    {"issuer", required_argument, NULL, 'i'},  {"at", required_argument, NULL, 'a'},
	    {"max-age", required_argument, NULL, 'm'}, {NULL, 0, NULL, 0},
	};
	int ch;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->crl = optarg;
			break;
		case 'e':
			o->cert = optarg;
			break;
		case 'i':
			o->issuer = optarg;
			break;
		case 'a':
			o->at = optarg;
			break;
		case 'm':
			o->max_age = optarg;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc || o->crl == NULL || o->cert == NULL || o->issuer == NULL) {
		fprintf(stderr, "certvalctl crl-check: --crl, --cert and --issuer are required\n");
		return -1;
	}
	return 0;
}

static int
parse_seconds(const char *text, int64_t *out)
{
	char *end;
	long long v;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	v = strtoll(text, &end, 10);
	if (*end != '\0' || v <= 0 || v > CRL_CHECK_MAX_AGE_LIMIT)
		return -1;
	*out = v;
	return 0;
}

/* The first certificate of a PEM or DER file (one new reference), or NULL (printed). */
static struct cv_cert *
load_cert(const char *path)
{
	struct cv_cert_list list = {0};
	struct cv_cert *cert = NULL;
	struct cv_error err = {{0}};

	if (cv_cert_list_load_file(&list, path, &err) < 0)
		fprintf(stderr, "certvalctl crl-check: %s\n", err.msg);
	else
		cert = cv_cert_ref(list.v[0]);
	cv_cert_list_free(&list);
	return cert;
}

/* Reads and parses the CRL (PEM or DER). Returns 0, -1 when the file cannot be read (usage),
 * -2 when it holds no well-formed CRL (printed as INVALID). */
static int
load_crl(const char *path, struct cv_crl **out)
{
	struct cv_error err = {{0}};
	uint8_t *data = NULL;
	size_t len = 0;
	int rc = 0;

	if (cv_read_file(path, CV_CRL_MAX_SIZE, &data, &len, &err) < 0) {
		fprintf(stderr, "certvalctl crl-check: %s\n", err.msg);
		return -1;
	}
	if (cv_crl_ingest_any(data, len, out, &err) < 0) {
		printf("INVALID: %s holds no well-formed CRL: %s\n", path, err.msg);
		rc = -2;
	}
	free(data);
	return rc;
}

/* The CRL's issuer, dates and number, to know which CRL the answer is about. */
static void
print_crl(const struct cv_crl *crl)
{
	const struct cv_crl_info *i = cv_crl_get_info(crl);
	char t1[CV_TIME_TEXT_MAX], t2[CV_TIME_TEXT_MAX], number[2 * 21 + 1], dn[1024];

	cv_crl_number_hex(crl, number, sizeof(number));
	if (cv_name_text(i->issuer, i->issuer_len, dn, sizeof(dn)) != 0)
		cv_strlcpy(dn, "?", sizeof(dn));
	printf("  CRL: v%d%s, issuer %s, %zu entries\n", i->version,
	       cv_crl_is_delta(crl) ? " delta" : "", dn, cv_crl_entries(crl));
	printf("  thisUpdate: %s  nextUpdate: %s  CRLNumber: %s%s\n",
	       cv_time_format_iso(i->this_update, t1),
	       i->next_update != CV_TIME_NONE ? cv_time_format_iso(i->next_update, t2) : "(none)",
	       number[0] != '\0' ? number : "(none)", i->crl_number_critical ? " (critical)" : "");
}

/* The answer first (as `ocsp-check`), then the CRL, then what 6.3 decided about it. */
static int
print_result(const struct cv_crl_check_result *r, const struct cv_cert *cert,
             const struct cv_crl *crl)
{
	char when[CV_TIME_TEXT_MAX];
	int rc = CV_CTL_REJECT;

	switch (r->status) {
	case CV_CRL_STATUS_GOOD:
		printf("GOOD\n");
		rc = CV_CTL_ACCEPT;
		break;
	case CV_CRL_STATUS_REVOKED:
		printf("REVOKED: revoked at %s, reason %s\n",
		       cv_time_format_iso(r->revocation_date, when), cv_crl_reason_name(r->reason));
		break;
	case CV_CRL_STATUS_UNDETERMINED:
		printf("UNUSABLE: %s\n", r->message);
		break;
	}
	printf("  certificate: %s (serial %s)\n", cv_cert_subject(cert), cv_cert_serial(cert));
	print_crl(crl);
	if (cv_crl_is_delta(crl))
		printf("  note: a delta CRL does not answer alone; give its complete CRL\n");
	for (size_t k = 0; k < r->n_notes; k++)
		printf("  %s\n", r->notes[k]);
	return rc;
}

/* Runs RFC 5280 6.3 as the engine does (deltas considered), the issuer the only signer. */
static int
check(const struct cv_cert *cert, const struct cv_cert *issuer, struct cv_crl *crl, cv_time at,
      int64_t max_age)
{
	struct cv_crl_check_params p = {0};
	struct cv_crl_check_result r;

	p.cert = cert;
	p.issuer = issuer;
	p.at = at;
	p.crls = &crl;
	p.n_crls = 1;
	p.use_deltas = true;
	p.max_age = max_age;
	if (cv_crl_check(&p, &r) < 0) {
		printf("ERROR: %s\n", r.message);
		return CV_CTL_ERROR;
	}
	return print_result(&r, cert, crl);
}

int
cv_ctl_crl_check(const struct cv_ctl *ctl, int argc, char **argv)
{
	struct opts o;
	struct cv_clock clock = {0};
	struct cv_cert *cert = NULL, *issuer = NULL;
	struct cv_crl *crl = NULL;
	cv_time at;
	int64_t max_age = 0;
	int rc = CV_CTL_USAGE, ret;

	(void)ctl;
	if (parse_opts(argc, argv, &o) < 0)
		return usage();
	at = cv_clock_now(&clock);
	if (o.at != NULL && cv_time_parse(o.at, &at) < 0) {
		fprintf(stderr, "certvalctl crl-check: bad --at time '%s'\n", o.at);
		return usage();
	}
	if (o.max_age != NULL && parse_seconds(o.max_age, &max_age) < 0) {
		fprintf(stderr, "certvalctl crl-check: bad --max-age '%s' (seconds > 0)\n",
		        o.max_age);
		return usage();
	}
	cert = load_cert(o.cert);
	issuer = cert != NULL ? load_cert(o.issuer) : NULL;
	if (issuer == NULL)
		goto out;
	ret = load_crl(o.crl, &crl);
	if (ret < 0) {
		rc = ret == -2 ? CV_CTL_REJECT : CV_CTL_USAGE;
		goto out;
	}
	rc = check(cert, issuer, crl, at, max_age);
out:
	cv_crl_free(crl);
	cv_cert_unref(cert);
	cv_cert_unref(issuer);
	return rc;
}
