/*
 * test_pkits_paths.c: NIST PKITS path-validation rows run straight through cv_path_build, with
 * revocation off. Rows whose expected "invalid" comes only from a CRL are skipped (listed in
 * revocation_only[] with the reason). Skips (exit 77) when the PKITS data is absent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/util.h"
#include "../../validator/path.h"

#define COLS 15

/* Rows that are invalid only because of revocation (a CRL), which this level does not check. */
static const struct {
	const char *id, *why;
} revocation_only[] = {
    {"4.5.2", "the old-with-new CA certificate is revoked by the CRL"},
    {"4.5.5", "the new-with-old CA certificate is revoked by the CRL"},
    {"4.5.7", "the end entity is revoked by a CRL signed with the self-issued key"},
    {"4.7.4", "the CA's key lacks cRLSign, so its CRL is unusable (revocation unknown)"},
    {"4.7.5", "the CA's key lacks cRLSign, so its CRL is unusable (revocation unknown)"},
};

static const char *const sections[] = {"4.1", "4.2",  "4.3",  "4.5",  "4.6",  "4.7", "4.8",
                                       "4.9", "4.10", "4.11", "4.12", "4.13", "4.16"};

struct tally {
	int pass, fail, skip;
};

static int
section_index(const char *s)
{
	size_t i;

	for (i = 0; i < CV_ARRAY_LEN(sections); i++)
		if (strcmp(sections[i], s) == 0)
			return (int)i;
	return -1;
}

static const char *
revocation_reason(const char *id)
{
	size_t i;

	for (i = 0; i < CV_ARRAY_LEN(revocation_only); i++)
		if (strcmp(revocation_only[i].id, id) == 0)
			return revocation_only[i].why;
	return NULL;
}

static int
load(const char *dir, const char *name, struct cv_cert_list *list)
{
	char path[1024];
	struct cv_error err;

	snprintf(path, sizeof(path), "%s/certs/%s.crt", dir, name);
	if (cv_cert_list_load_file(list, path, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	return 0;
}

static int
load_csv(const char *dir, char *csv, struct cv_cert_list *list)
{
	char *tok, *save = NULL;

	if (strcmp(csv, "-") == 0)
		return 0;
	for (tok = strtok_r(csv, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
		if (load(dir, tok, list) < 0)
			return -1;
	return 0;
}

/* Runs one row; returns 1 agree, 0 disagree, -1 data error. */
static int
run_row(const char *dir, char **col)
{
	struct cv_cert_list anchor = {0}, inter = {0}, ee = {0};
	struct cv_path_params p;
	struct cv_path path;
	struct cv_failure f;
	char *pol, *tok, *save = NULL;
	int ok, ret = -1;

	if (load(dir, col[5], &anchor) < 0 || load_csv(dir, col[6], &inter) < 0 ||
	    load(dir, col[7], &ee) < 0)
		goto out;
	cv_path_params_init(&p);
	p.anchors = anchor.v;
	p.n_anchors = anchor.n;
	p.untrusted = inter.v;
	p.n_untrusted = inter.n;
	p.allowed_weak = CV_WEAK_DSA | CV_WEAK_SHA1;
	if (cv_time_parse(col[14], &p.at) < 0)
		goto out;
	pol = col[9];
	for (tok = strtok_r(pol, ",", &save); tok != NULL && p.n_policies < CV_POLICY_OIDS_MAX;
	     tok = strtok_r(NULL, ",", &save))
		p.policies[p.n_policies++] = tok;
	p.explicit_policy = strcmp(col[10], "1") == 0;
	p.inhibit_policy_mapping = strcmp(col[11], "1") == 0;
	p.inhibit_any_policy = strcmp(col[12], "1") == 0;

	ok = cv_path_build(ee.v[0], &p, &path, &f, NULL) == 0;
	if (ok)
		cv_path_release(&path);
	ret = ok == (strcmp(col[4], "valid") == 0);
	if (getenv("CERTVAL_PKITS_VERBOSE") != NULL)
		printf("%-7s %-8s %s %s\n", col[0], ok ? "valid" : "invalid", ok ? "" : f.detail,
		       ok ? "" : f.message);
	if (!ret)
		fprintf(stderr, "DISAGREE %s %s: expected %s, got %s%s%s (%s, cert %d)\n", col[0],
		        col[3], col[4], ok ? "valid" : "invalid: ", ok ? "" : f.detail,
		        ok ? "" : "", ok ? "-" : f.message, ok ? -1 : f.cert_index);
out:
	cv_cert_list_free(&anchor);
	cv_cert_list_free(&inter);
	cv_cert_list_free(&ee);
	return ret;
}

int
main(void)
{
	char dir[1024], tsv[1100], *line = NULL, *col[COLS], *s;
	const char *env = getenv("CERTVAL_PKITS_DIR"), *src = getenv("CERTVAL_SOURCE_DIR");
	struct tally t[CV_ARRAY_LEN(sections)];
	size_t cap = 0, i;
	int total_fail = 0, k, r;
	FILE *fp;

	memset(t, 0, sizeof(t));
	if (env != NULL && env[0] != '\0')
		snprintf(dir, sizeof(dir), "%s", env);
	else
		snprintf(dir, sizeof(dir), "%s/../shared/pkits", src != NULL ? src : ".");
	snprintf(tsv, sizeof(tsv), "%s/pkits-expected.tsv", dir);
	if ((fp = fopen(tsv, "r")) == NULL) {
		printf("SKIP: PKITS data not found at %s (set CERTVAL_PKITS_DIR)\n", dir);
		return 77;
	}
	while (getline(&line, &cap, fp) > 0) {
		line[strcspn(line, "\r\n")] = '\0';
		s = line;
		for (k = 0; k < COLS; k++)
			col[k] = strsep(&s, "\t");
		if (col[COLS - 1] == NULL || (k = section_index(col[1])) < 0)
			continue;
		if (revocation_reason(col[0]) != NULL) {
			/* must be valid at the path level, else it is not revocation-only */
			col[4] = "valid";
			t[k].skip++;
		}
		r = run_row(dir, col);
		if (r == 1) {
			if (revocation_reason(col[0]) == NULL)
				t[k].pass++;
		} else {
			t[k].fail++;
			total_fail++;
		}
	}
	free(line);
	fclose(fp);
	for (i = 0; i < CV_ARRAY_LEN(sections); i++)
		printf("PKITS %-5s %2d passed, %d failed, %d skipped (revocation)\n", sections[i],
		       t[i].pass, t[i].fail, t[i].skip);
	for (i = 0; i < CV_ARRAY_LEN(revocation_only); i++)
		printf("skipped %s: %s\n", revocation_only[i].id, revocation_only[i].why);
	return total_fail == 0 ? 0 : 1;
}
