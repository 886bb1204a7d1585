/* ctl_admin.c: certvalctl ping, status and reload: administrative calls to the daemon. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../client/certval.h"
#include "ctl.h"

/* Exit status for an error response of the daemon. */
static int
error_status(const char *code)
{
	if (strcmp(code, "bad-request") == 0 || strcmp(code, "config-error") == 0)
		return CV_CTL_USAGE;
	return CV_CTL_ERROR;
}

/* Sends req; on success *result is the reply's member named key (new reference). */
static int
call_request(const struct cv_ctl *ctl, const json_t *req, const char *key, json_t **result)
{
	struct cv_client *cl = NULL;
	char *reqtext = NULL, *text = NULL;
	json_t *resp = NULL;
	int rc, status = CV_CTL_ERROR;

	*result = NULL;
	reqtext = json_dumps(req, JSON_COMPACT);
	if (reqtext == NULL)
		return cv_ctl_fail(CV_CTL_ERROR, "out of memory");
	rc = cv_client_open(ctl->socket_path, &cl);
	if (rc == CV_CLIENT_OK)
		rc = cv_client_call_json(cl, reqtext, CV_CTL_TIMEOUT_MS, &text);
	if (rc != CV_CLIENT_OK) {
		cv_ctl_fail(CV_CTL_ERROR, "%s", cv_client_error(cl));
		goto done;
	}
	resp = json_loads(text, 0, NULL);
	if (json_is_true(json_object_get(resp, "ok"))) {
		*result = json_incref(json_object_get(resp, key));
		status = *result != NULL ? CV_CTL_ACCEPT : CV_CTL_ERROR;
		if (*result == NULL)
			cv_ctl_fail(CV_CTL_ERROR, "reply without \"%s\"", key);
	} else {
		json_t *e = json_object_get(resp, "error");
		const char *code = json_string_value(json_object_get(e, "code"));
		const char *msg = json_string_value(json_object_get(e, "message"));

		status = error_status(code != NULL ? code : "internal");
		cv_ctl_fail(status, "%s: %s", code != NULL ? code : "error",
		            msg != NULL ? msg : "no message");
	}
done:
	json_decref(resp);
	free(text);
	free(reqtext);
	cv_client_close(cl);
	return status;
}

int
cv_ctl_call(const struct cv_ctl *ctl, const json_t *req, const char *key, json_t **result)
{
	return call_request(ctl, req, key, result);
}

/* Sends {"op":op}. */
static int
call(const struct cv_ctl *ctl, const char *op, const char *key, json_t **result)
{
	json_t *req = json_pack("{s:s}", "op", op);
	int status;

	if (req == NULL)
		return cv_ctl_fail(CV_CTL_ERROR, "out of memory");
	status = call_request(ctl, req, key, result);
	json_decref(req);
	return status;
}

/* Parses [--json]; returns -1 on a usage error. */
static int
json_flag(int argc, char **argv, bool *json)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	*json = false;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'j')
			return -1;
		*json = true;
	}
	return optind == argc ? 0 : -1;
}

int
cv_ctl_ping(const struct cv_ctl *ctl, int argc, char **argv)
{
	json_t *pong;
	bool json;
	int status;

	if (json_flag(argc, argv, &json) != 0)
		return cv_ctl_usage();
	status = call(ctl, "ping", "pong", &pong);
	if (status == CV_CTL_ACCEPT) {
		if (json)
			json_dumpf(pong, stdout, JSON_INDENT(2));
		else
			printf("pong: certvald %s",
			       json_string_value(json_object_get(pong, "version")) != NULL
			           ? json_string_value(json_object_get(pong, "version"))
			           : "?");
		putchar('\n');
	}
	json_decref(pong);
	return status;
}

static void
print_status(const json_t *st)
{
	const json_t *stats = json_object_get(st, "stats");
	const json_t *by_reason = json_object_get(stats, "by_reason");
	const char *key;
	json_t *v;
	size_t i;

	printf("certvald %s, up %" JSON_INTEGER_FORMAT " s\n",
	       json_string_value(json_object_get(st, "version")),
	       json_integer_value(json_object_get(st, "uptime")));
	printf("configuration: %s\n", json_string_value(json_object_get(st, "config")) != NULL
	                                  ? json_string_value(json_object_get(st, "config"))
	                                  : "-");
	printf("clock: %s\n", json_string_value(json_object_get(st, "now")) != NULL
	                          ? json_string_value(json_object_get(st, "now"))
	                          : "-");
	fputs("trustpoints:", stdout);
	json_array_foreach(json_object_get(st, "trustpoints"), i, v)
	{
		printf(" %s", json_string_value(v) != NULL ? json_string_value(v) : "?");
	}
	putchar('\n');
	printf("requests: %" JSON_INTEGER_FORMAT " (accepted %" JSON_INTEGER_FORMAT
	       ", rejected %" JSON_INTEGER_FORMAT ", failed open %" JSON_INTEGER_FORMAT ")\n",
	       json_integer_value(json_object_get(stats, "requests")),
	       json_integer_value(json_object_get(stats, "accepted")),
	       json_integer_value(json_object_get(stats, "rejected")),
	       json_integer_value(json_object_get(stats, "failed_open")));
	json_object_foreach((json_t *)by_reason, key, v)
	{
		if (json_integer_value(v) > 0)
			printf("  %-24s %" JSON_INTEGER_FORMAT "\n", key, json_integer_value(v));
	}
	printf("connections: %" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(st, "connections")));
}

int
cv_ctl_status(const struct cv_ctl *ctl, int argc, char **argv)
{
	json_t *st;
	bool json;
	int status;

	if (json_flag(argc, argv, &json) != 0)
		return cv_ctl_usage();
	status = call(ctl, "status", "status", &st);
	if (status == CV_CTL_ACCEPT) {
		if (json) {
			json_dumpf(st, stdout, JSON_INDENT(2));
			putchar('\n');
		} else {
			print_status(st);
		}
	}
	json_decref(st);
	return status;
}

int
cv_ctl_reload(const struct cv_ctl *ctl, int argc, char **argv)
{
	json_t *r, *w;
	bool json;
	size_t i;
	int status;

	if (json_flag(argc, argv, &json) != 0)
		return cv_ctl_usage();
	status = call(ctl, "reload", "reload", &r);
	if (status == CV_CTL_ACCEPT) {
		if (json) {
			json_dumpf(r, stdout, JSON_INDENT(2));
			putchar('\n');
		} else {
			printf("configuration reloaded from %s\n",
			       json_string_value(json_object_get(r, "config")) != NULL
			           ? json_string_value(json_object_get(r, "config"))
			           : "?");
			json_array_foreach(json_object_get(r, "warnings"), i, w)
			{
				printf("warning: %s\n", json_string_value(w));
			}
		}
	}
	json_decref(r);
	return status;
}
