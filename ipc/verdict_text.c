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

/* ' modifier="skip revocation-check" map=L/SEQ' for each map matched through a modifier. */
static void
print_modifiers(FILE *out, const json_t *v)
{
	const json_t *arr = json_object_get(v, "modifiers");
	const json_t *m;
	size_t i;

	json_array_foreach(arr, i, m)
	{
		fprintf(out, " modifier=\"%s\" map=%s/%" JSON_INTEGER_FORMAT,
		        str(m, "modifier", "?"), str(m, "label", "?"),
		        json_integer_value(json_object_get(m, "seq")));
	}
}

/* " relaxations=a,b" when the verdict relied on relaxations of its profile. */
static void
print_relaxations(FILE *out, const json_t *v)
{
	const json_t *arr = json_object_get(v, "relaxations");
	size_t i;
	json_t *e;

	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return;
	json_array_foreach(arr, i, e)
	{
		fprintf(out, "%s%s", i == 0 ? " relaxations=" : ",",
		        json_string_value(e) != NULL ? json_string_value(e) : "?");
	}
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
		print_modifiers(out, v);
		if (json_is_true(json_object_get(v, "failed_open")))
			fputs(" failed-open", out);
		if (json_is_true(json_object_get(v, "expiry_overridden")))
			fputs(" expiry-overridden", out);
		if (str(v, "aaa_username", NULL) != NULL)
			fprintf(out, " aaa-username=\"%s\"", str(v, "aaa_username", ""));
		print_relaxations(out, v);
		fputc('\n', out);
		return;
	}
	fprintf(out, "REJECT %s", str(v, "reason", "?"));
	if (str(v, "detail", NULL) != NULL &&
	    strcmp(str(v, "detail", ""), str(v, "reason", "")) != 0)
		fprintf(out, " (%s)", str(v, "detail", ""));
	fputc(':', out);
	idx = json_integer_value(json_object_get(v, "cert_index"));
	if (json_is_integer(json_object_get(v, "cert_index")) && idx >= 0 &&
	    str(v, "cert_subject", NULL) != NULL)
		fprintf(out, " certificate %" JSON_INTEGER_FORMAT " (%s):", idx,
		        str(v, "cert_subject", ""));
	else if (json_is_integer(json_object_get(v, "cert_index")) && idx >= 0)
		fprintf(out, " certificate %" JSON_INTEGER_FORMAT ":", idx);
	fprintf(out, " %s\n", str(v, "message", "no message"));
	if (str(v, "trustpoint", NULL) != NULL) {
		fprintf(out, "  trustpoint=%s revocation=%s", str(v, "trustpoint", ""),
		        str(v, "revocation", "?"));
		print_relaxations(out, v);
		fputc('\n', out);
	}
}

static void
print_path_entry(FILE *out, size_t i, const json_t *e)
{
	fprintf(out, "  %zu %s%s\n", i, str(e, "subject", "?"),
	        json_is_true(json_object_get(e, "trust_anchor")) ? " [trust anchor]" : "");
	fprintf(out, "    issuer %s serial %s valid %s to %s\n", str(e, "issuer", "?"),
	        str(e, "serial", "?"), str(e, "not_before", "-"), str(e, "not_after", "-"));
}

/* The optional members of an evidence entry, in print order. */
static const struct {
	const char *key, *label;
	bool quoted;
} evidence_fields[] = {
    {"source", "source", false},
    {"url", "url", false},
    {"crl_number", "crl-number", false},
    {"this_update", "this-update", false},
    {"next_update", "next-update", false},
    {"produced_at", "produced-at", false},
    {"revoked_at", "revoked-at", false},
    {"revocation_reason", "reason", false},
    {"nonce", "nonce", false},
    {"error", "error", true},
};

static void
print_evidence_entry(FILE *out, size_t i, const json_t *e)
{
	fprintf(out, "  cert %" JSON_INTEGER_FORMAT " %s %s",
	        json_integer_value(json_object_get(e, "cert_index")), str(e, "method", "?"),
	        str(e, "outcome", "?"));
	for (size_t f = 0; f < sizeof(evidence_fields) / sizeof(evidence_fields[0]); f++) {
		const char *s = str(e, evidence_fields[f].key, NULL);

		if (s != NULL)
			fprintf(out, evidence_fields[f].quoted ? " %s=\"%s\"" : " %s=%s",
			        evidence_fields[f].label, s);
	}
	fputc('\n', out);
}

/* "key:" and each entry of the array member key of v; nothing when it is absent or empty. */
static void
print_section(FILE *out, const json_t *v, const char *key,
              void (*entry)(FILE *, size_t, const json_t *))
{
	const json_t *arr = json_object_get(v, key);
	size_t i;
	json_t *e;

	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return;
	fprintf(out, "%s:\n", key);
	json_array_foreach(arr, i, e)
	{
		entry(out, i, e);
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
	print_section(out, verdict, "path", print_path_entry);
	if (verbose) {
		print_section(out, verdict, "evidence", print_evidence_entry);
		print_trace(out, verdict);
	}
}
