/*
 * admin_config.c: the `running-config` view: the running configuration in its canonical form,
 * secrets redacted.
 */
#include <stdio.h>
#include <stdlib.h>

#include "admin_int.h"

/*
 * The running configuration as `show running-config` shows it: the secrets are left out by the
 * dump itself (cv_config_dump_redacted), since the socket's administrators need not be allowed to
 * read the configuration file.
 */
json_t *
admin_view_running_config(struct cv_admin *a, const struct cv_proto_admin_req *req,
                          const struct cv_trustpoint *tp)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_t *o = NULL;
	int rc;

	if (f == NULL)
		return NULL;
	rc = cv_config_dump_redacted(cv_engine_config(a->engine), f);
	if (fclose(f) == 0 && rc == 0 && text != NULL)
		o = json_pack("{s:s}", "text", text);
	free(text);
	return o;
}
