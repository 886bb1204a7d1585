/*
 * aaa_local.c: the `local` method of an AAA authorization list: the `aaa attribute list`
 * named like the user, else the one named "default", else the user is refused.
 */
#include <stdio.h>

#include "aaa_int.h"

void
cv_aaa_local_run(const struct cv_config *cfg, const char *username, struct cv_aaa_answer *out)
{
	const struct cv_aaa_attr_list *l;
	size_t i;

	if ((l = cv_config_aaa_attr_list(cfg, username)) == NULL)
		l = cv_config_aaa_attr_list(cfg, "default");
	if (l == NULL) {
		out->status = CV_AAA_REFUSED;
		snprintf(out->error, sizeof(out->error),
		         "no aaa attribute list named after the user or \"default\"");
		return;
	}
	out->status = CV_AAA_ANSWERED;
	for (i = 0; i < l->n_attrs; i++) {
		if (cv_aaa_answer_add(out, l->attrs[i].type, l->attrs[i].value) < 0) {
			/* fail closed: a partial list could drop a cert-serial-not */
			out->status = CV_AAA_REFUSED;
			out->n_attrs = 0;
			snprintf(out->error, sizeof(out->error),
			         "aaa attribute list %.63s has more than %d attributes or a value "
			         "longer than %d bytes",
			         l->name, CV_AAA_ATTRS_MAX, CV_AAA_VALUE_MAX - 1);
			return;
		}
	}
}
