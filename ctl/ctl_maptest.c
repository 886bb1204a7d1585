/*
 * ctl_maptest.c: certvalctl map-test: shows, line by line, whether a certificate satisfies
 * each sequence of a certificate map (R31-R35), so a rule can be tried before it is
 * deployed. Exit 0 when some sequence matches, 1 when none does, 2 on usage or
 * configuration errors.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../policy/config.h"
#include "../policy/maps.h"
#include "../validator/cert.h"
#include "ctl.h"

static int
report(const struct cv_map_entry *entries, size_t n, const struct cv_cert *cert)
{
	const struct cv_map_entry *matched = NULL;

	printf("certificate: %s (serial %s)\n", cv_cert_subject(cert), cv_cert_serial(cert));
	for (size_t i = 0; i < n; i++) {
		const struct cv_map_entry *e = &entries[i];
		const bool all = cv_map_entry_matches(e, cert, NULL, 0);

		printf("crypto pki certificate map %s %u: %s\n", e->label, e->seq,
		       all ? "MATCH" : "no match");
		for (size_t k = 0; k < e->n_lines; k++) {
			const struct cv_map_line *l = &e->lines[k];

			printf("  line %u: %s %s %s: %s\n", l->line, cv_map_field_name(l->field),
			       cv_map_op_name(l->op), l->value != NULL ? l->value : "",
			       cv_map_line_matches(l, cert) ? "yes" : "no");
		}
		if (all && matched == NULL)
			matched = e;
	}
	if (matched != NULL)
		printf("result: %s matches through sequence %u (the first that matches wins)\n",
		       matched->label, matched->seq);
	else
		printf("result: no sequence of %s matches\n", n > 0 ? entries[0].label : "?");
	return matched != NULL ? CV_CTL_ACCEPT : CV_CTL_REJECT;
}

int
cv_ctl_map_test(const struct cv_ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"map", required_argument, NULL, 'm'},
	    {NULL, 0, NULL, 0},
	};
	const char *config = NULL, *label = NULL;
	struct cv_cert_list certs = {0};
	struct cv_config *cfg = NULL;
	struct cv_error err = {{0}};
	const struct cv_map_entry *first;
	size_t count = 0;
	int ch, status = CV_CTL_USAGE;

	(void)ctl;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'c')
			config = optarg;
		else if (ch == 'm')
			label = optarg;
		else
			return cv_ctl_usage();
	}
	if (config == NULL || label == NULL || optind + 1 != argc)
		return cv_ctl_usage();
	if (cv_config_load(config, &cfg, &err) < 0) {
		cv_ctl_fail(status, "%s", err.msg);
		goto out;
	}
	if (cv_cert_list_load_file(&certs, argv[optind], &err) < 0) {
		cv_ctl_fail(status, "%s", err.msg);
		goto out;
	}
	first = cv_config_map_first(cfg, label, &count);
	if (first == NULL || count == 0) {
		cv_ctl_fail(status, "%s: certificate map %s is not defined", config, label);
		goto out;
	}
	status = report(first, count, certs.v[0]);
out:
	cv_cert_list_free(&certs);
	cv_config_unref(cfg);
	return status;
}
