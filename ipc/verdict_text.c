/* verdict_text.c: a verdict as a few lines of text for administrators (certvalctl). */
#include "verdict_text.h"

#include <string.h>

/* The string member key of o, or def when absent, null or not a string. */
static const char *
str(const json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : def;
}

static void
print_decision(FILE *out, const json_t *v)
{
	const char *decision = str(v, "decision", "?");
	json_t *map = json_object_get(v, "map");
	json_int_t idx;

	if (strcmp(decision, "ACCEPT") == 0) {
		fprintf(out, "ACCEPT trustpoint=%s revocation=%s", str(v, "trustpoint", "-"),
		        str(v, "revocation", "?"));
		if (json_is_object(map))
			fprintf(out, " map=%s/%" JSON_INTEGER_FORMAT, str(map, "label", "?"),
			        json_integer_value(json_object_get(map, "seq")));
		if (json_is_true(json_object_get(v, "failed_open")))
			fputs(" failed-open", out);
		if (json_is_true(json_object_get(v, "expiry_overridden")))
			fputs(" expiry-overridden", out);
		if (str(v, "aaa_username", NULL) != NULL)
			fprintf(out, " aaa-username=\"%s\"", str(v, "aaa_username", ""));
		fputc('\n', out);
		return;
	}
	fprintf(out, "REJECT %s", str(v, "reason", "?"));
	if (str(v, "detail", NULL) != NULL &&
	    strcmp(str(v, "detail", ""), str(v, "reason", "")) != 0)
		fprintf(out, " (%s)", str(v, "detail", ""));
	fputc(':', out);
	idx = json_integer_value(json_object_get(v, "cert_index"));
	if (json_is_integer(json_object_get(v, "cert_index")) && idx >= 0)
		fprintf(out, " certificate %" JSON_INTEGER_FORMAT " (%s):", idx,
		        str(v, "cert_subject", "?"));
	fprintf(out, " %s\n", str(v, "message", "no message"));
	if (str(v, "trustpoint", NULL) != NULL)
		fprintf(out, "  trustpoint=%s revocation=%s\n", str(v, "trustpoint", ""),
		        str(v, "revocation", "?"));
}

static void
print_path(FILE *out, const json_t *v)
{
	const json_t *path = json_object_get(v, "path");
	size_t i;
	json_t *e;

	if (!json_is_array(path) || json_array_size(path) == 0)
		return;
	fputs("path:\n", out);
	json_array_foreach(path, i, e)
	{
		fprintf(out, "  %zu %s%s\n", i, str(e, "subject", "?"),
		        json_is_true(json_object_get(e, "trust_anchor")) ? " [trust anchor]" : "");
		fprintf(out, "    issuer %s serial %s valid %s to %s\n", str(e, "issuer", "?"),
		        str(e, "serial", "?"), str(e, "not_before", "-"), str(e, "not_after", "-"));
	}
}

static void
print_evidence(FILE *out, const json_t *v)
{
	const json_t *ev = json_object_get(v, "evidence");
	size_t i;
	json_t *e;

	if (!json_is_array(ev) || json_array_size(ev) == 0)
		return;
	fputs("evidence:\n", out);
	json_array_foreach(ev, i, e)
	{
		fprintf(out, "  cert %" JSON_INTEGER_FORMAT " %s %s",
		        json_integer_value(json_object_get(e, "cert_index")), str(e, "method", "?"),
		        str(e, "outcome", "?"));
		if (str(e, "source", NULL) != NULL)
			fprintf(out, " source=%s", str(e, "source", ""));
		if (str(e, "url", NULL) != NULL)
			fprintf(out, " url=%s", str(e, "url", ""));
		if (str(e, "crl_number", NULL) != NULL)
			fprintf(out, " crl-number=%s", str(e, "crl_number", ""));
		if (str(e, "this_update", NULL) != NULL)
			fprintf(out, " this-update=%s", str(e, "this_update", ""));
		if (str(e, "next_update", NULL) != NULL)
			fprintf(out, " next-update=%s", str(e, "next_update", ""));
		if (str(e, "produced_at", NULL) != NULL)
			fprintf(out, " produced-at=%s", str(e, "produced_at", ""));
		if (str(e, "revoked_at", NULL) != NULL)
			fprintf(out, " revoked-at=%s", str(e, "revoked_at", ""));
		if (str(e, "revocation_reason", NULL) != NULL)
			fprintf(out, " reason=%s", str(e, "revocation_reason", ""));
		if (str(e, "nonce", NULL) != NULL)
			fprintf(out, " nonce=%s", str(e, "nonce", ""));
		if (str(e, "error", NULL) != NULL)
			fprintf(out, " error=\"%s\"", str(e, "error", ""));
		fputc('\n', out);
	}
}

static void
print_trace(FILE *out, const json_t *v)
{
	const json_t *trace = json_object_get(v, "trace");
	json_int_t dropped = json_integer_value(json_object_get(v, "trace_dropped"));
	size_t i;
	json_t *e;

	if (!json_is_array(trace))
		return;
	fputs("trace:\n", out);
	json_array_foreach(trace, i, e)
	{
		fprintf(out, "  [%s] %s\n", str(e, "stage", "?"), str(e, "text", ""));
	}
	if (dropped > 0)
		fprintf(out, "  (%" JSON_INTEGER_FORMAT " more events dropped)\n", dropped);
}

void
cv_verdict_text_print(FILE *out, const json_t *verdict, bool verbose)
{
	print_decision(out, verdict);
	print_path(out, verdict);
	if (verbose) {
		print_evidence(out, verdict);
		print_trace(out, verdict);
	}
}
