/*
 * ctl_show.c: certvalctl show, clear and stats: the daemon's administrator views printed in
 * the spirit of the manuals' show commands (R50-R53), or as JSON with --json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../common/clock.h"
#include "../common/util.h"
#include "ctl.h"

/* ---- reading the daemon's JSON ---- */

static const char *
str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static json_int_t
num(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* An ISO time member in the manuals' form ("18:57:42 GMT Nov 26 2005"), "-" when absent. */
static const char *
ios_time(const json_t *o, const char *key, char buf[CV_TIME_TEXT_MAX])
{
	cv_time t;

	if (cv_time_parse(str(o, key), &t) != 0)
		return strcpy(buf, "-");
	return cv_time_format_ios(t, buf);
}

/* label, then hex in groups of 8 ("C21514AC 12815946 ..."), as the manuals print fingerprints. */
static void
print_grouped(const char *label, const char *hex)
{
	fputs(label, stdout);
	for (size_t i = 0; hex[i] != '\0'; i++) {
		if (i > 0 && i % 8 == 0)
			putchar(' ');
		putchar(hex[i]);
	}
	putchar('\n');
}

/* label, then the strings of an array on the same line, each after a space; no newline. */
static void
print_words(const char *label, const json_t *arr)
{
	size_t i;
	json_t *v;

	fputs(label, stdout);
	json_array_foreach(arr, i, v)
	{
		printf(" %s", json_string_value(v));
	}
}

/* Each object of the array member key printed by print(object, flag), blank lines between. */
static void
print_each(const json_t *v, const char *key, void (*print)(const json_t *, bool), bool flag)
{
	size_t i;
	json_t *o;

	json_array_foreach(json_object_get(v, key), i, o)
	{
		if (i > 0)
			putchar('\n');
		print(o, flag);
	}
}

/* Each string of an array on its own line, indented. */
static void
print_lines(const json_t *arr, const char *indent)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		printf("%s%s\n", indent, json_string_value(v) != NULL ? json_string_value(v) : "?");
	}
}

/* ---- show crls (R50) ---- */

/* Issue 16: the refresh schedule of a cached CRL, and its stale state. */
static void
print_refresh(const json_t *r)
{
	char t[CV_TIME_TEXT_MAX];

	if (!json_is_object(r))
		return;
	printf("  Next refresh: %s\n", ios_time(r, "due", t));
	if (json_is_string(json_object_get(r, "fresh_until")))
		printf("  Fresh (server's Cache-Control/Expires) until: %s\n",
		       ios_time(r, "fresh_until", t));
	if (json_is_true(json_object_get(r, "stale")))
		printf("  Stale: %" JSON_INTEGER_FORMAT
		       " refreshes failed (last: %s); the last good "
		       "CRL is used until it expires; next retry %s\n",
		       num(r, "failures"), str(r, "last_error"), ios_time(r, "next_retry", t));
}

static void
print_crl(const json_t *c, bool unused)
{
	char t[CV_TIME_TEXT_MAX];
	bool file = strcmp(str(c, "kind"), "file") == 0;

	if (json_object_get(c, "error") != NULL && !json_is_null(json_object_get(c, "error"))) {
		printf("CRL file %s:\n  not loaded: %s\n", str(c, "path"), str(c, "error"));
		return;
	}
	printf("CRL Issuer Name:\n  %s\n", str(c, "issuer"));
	printf("  LastUpdate: %s\n", ios_time(c, "this_update", t));
	/* O-5: with delete-after the cache deadline; D-6: without nextUpdate, none */
	printf("  NextUpdate: %s\n", ios_time(c, "expires", t));
	if (file) {
		printf("  Loaded from file:\n    %s\n", str(c, "path"));
	} else {
		printf("  Retrieved from CRL Distribution Point:\n    %s\n", str(c, "source"));
		printf("  Trustpoint: %s\n", str(c, "trustpoint"));
	}
	printf("  CRL number: %s\n",
	       json_is_string(json_object_get(c, "crl_number")) ? str(c, "crl_number") : "none");
	printf("  Entries: %" JSON_INTEGER_FORMAT ", %" JSON_INTEGER_FORMAT
	       " bytes (%" JSON_INTEGER_FORMAT " in memory)%s\n",
	       num(c, "entries"), num(c, "bytes"), num(c, "memory"),
	       json_is_true(json_object_get(c, "delta")) ? ", delta CRL" : "");
	printf("  CRL's own nextUpdate: %s\n", ios_time(c, "next_update", t));
	if (!file) {
		printf("  Fetched: %s\n", ios_time(c, "fetched_at", t));
		printf("  Cache policy: %s; %s at %s\n", str(c, "cache_policy"),
		       json_is_true(json_object_get(c, "delete_after")) ? "deleted" : "refreshed",
		       ios_time(c, "expires", t));
		print_refresh(json_object_get(c, "refresh"));
	} else {
		print_words("  Trustpoints:", json_object_get(c, "trustpoints"));
		putchar('\n');
	}
	if (json_is_string(json_object_get(c, "warning")))
		printf("  Warning: %s\n", str(c, "warning"));
}

static void
print_crls(const json_t *v)
{
	const json_t *problems = json_object_get(json_object_get(v, "cache_problems"), "latest");
	size_t i;
	const json_t *p;

	print_each(v, "crls", print_crl, false); /* an empty cache prints nothing (R50) */
	/* D-4: cache files found damaged or not written; the CRLs are downloaded again */
	json_array_foreach(problems, i, p)
	    printf("CRL cache problem: %s: %s\n", str(p, "file"), str(p, "problem"));
}

/* ---- show timers (R51) ---- */

static void
print_timers(const json_t *v)
{
	size_t i;
	json_t *t;

	puts("PKI Timers");
	json_array_foreach(json_object_get(v, "timers"), i, t)
	{
		json_int_t ms = num(t, "remaining_ms");
		json_int_t s = ms / 1000;

		printf("| %" JSON_INTEGER_FORMAT "d%02d:%02d:%02d.%03d %s %s\n", s / 86400,
		       (int)(s % 86400 / 3600), (int)(s % 3600 / 60), (int)(s % 60),
		       (int)(ms % 1000), str(t, "type"), str(t, "object"));
	}
}

/* ---- show trustpoints [status] (R52) ---- */

static void
print_expiry(const json_t *cert, const char *indent)
{
	const json_t *e = json_object_get(cert, "expiry");
	const json_t *last = json_object_get(e, "last_notice");
	char t[CV_TIME_TEXT_MAX];

	printf("%sExpires: %s (%" JSON_INTEGER_FORMAT " days left)\n", indent,
	       ios_time(cert, "not_after", t), num(e, "days_left"));
	if (num(e, "seconds_left") <= 0)
		printf("%sExpiry notice: expired\n", indent);
	else if (strcmp(str(e, "mode"), "none") == 0)
		printf("%sExpiry notice: not yet due\n", indent);
	else if (json_is_object(last))
		printf("%sExpiry notice: %s mode, last sent %s\n", indent, str(e, "mode"),
		       ios_time(last, "at", t));
	else
		printf("%sExpiry notice: %s mode, none sent\n", indent, str(e, "mode"));
	if (json_is_string(json_object_get(e, "next_notice")))
		printf("%sNext expiry notice: %s\n", indent, ios_time(e, "next_notice", t));
}

static void
print_trustpoint_plain(const json_t *tp)
{
	const json_t *certs = json_object_get(tp, "certificates");
	size_t i;
	json_t *c;

	json_array_foreach(certs, i, c)
	{
		puts("  Subject Name:");
		print_lines(json_object_get(c, "subject_rdns"), "    ");
		printf("    Serial Number: %s\n", str(c, "serial"));
	}
	if (json_array_size(certs) > 0)
		puts("  Certificate configured.");
	else
		puts("  Certificate not configured.");
	printf("  CRL query url: %s\n", json_is_string(json_object_get(tp, "crl_query_url"))
	                                    ? str(tp, "crl_query_url")
	                                    : "none");
	if (json_is_true(json_object_get(tp, "primary")))
		puts("  Primary trustpoint.");
}

static void
print_trustpoint_status(const json_t *tp)
{
	const json_t *certs = json_object_get(tp, "certificates");
	size_t i;
	json_t *c;

	printf("  Issuing CA certificate %sconfigured:\n",
	       json_array_size(certs) > 0 ? "" : "not ");
	json_array_foreach(certs, i, c)
	{
		puts("    Subject Name:");
		printf("      %s\n", str(c, "subject"));
		print_grouped("    Fingerprint: ", str(c, "fingerprint_md5"));
		print_grouped("    Fingerprint SHA256: ", str(c, "fingerprint_sha256"));
		print_expiry(c, "    ");
	}
	puts("  State:");
	printf("    Issuing CA authenticated ..... %s\n",
	       json_is_true(json_object_get(tp, "authenticated")) ? "Yes" : "No");
	if (json_is_string(json_object_get(tp, "auth_error")))
		printf("      (%s)\n", str(tp, "auth_error"));
	printf("    Primary trustpoint ..... %s\n",
	       json_is_true(json_object_get(tp, "primary")) ? "Yes" : "No");
	print_words("    Revocation check .....", json_object_get(tp, "revocation"));
	printf("\n    CRL cache ..... %s\n", str(tp, "crl_cache"));
}

static void
print_trustpoint(const json_t *tp, bool status)
{
	printf("Trustpoint %s:\n", str(tp, "name"));
	if (status)
		print_trustpoint_status(tp);
	else
		print_trustpoint_plain(tp);
}

static void
print_trustpoints(const json_t *v)
{
	print_each(v, "trustpoints", print_trustpoint, json_is_true(json_object_get(v, "status")));
}

/* ---- show certificates [TP [verbose]] (R53) ---- */

/* The manuals' summary of a CA's key usage. */
static const char *
usage_summary(const json_t *names)
{
	bool sign = false, enc = false;
	size_t i;
	json_t *n;

	json_array_foreach(names, i, n)
	{
		const char *s = json_string_value(n);

		if (s == NULL)
			continue;
		if (strstr(s, "Encipher") != NULL || strstr(s, "Agreement") != NULL)
			enc = true;
		else
			sign = true;
	}
	return sign && enc ? "General Purpose" : enc ? "Encryption" : "Signature";
}

static void
print_cert_verbose(const json_t *c)
{
	const json_t *ku = json_object_get(c, "key_usage");
	const json_t *bc = json_object_get(c, "basic_constraints");
	size_t i;
	json_t *a;

	puts("  Subject Key Info:");
	printf("    Public Key Algorithm: %s\n", str(c, "public_key_algorithm"));
	printf("    Public Key: (%" JSON_INTEGER_FORMAT " bit)\n", num(c, "public_key_bits"));
	printf("  Signature Algorithm: %s\n", str(c, "signature_algorithm"));
	print_grouped("  Fingerprint MD5: ", str(c, "fingerprint_md5"));
	print_grouped("  Fingerprint SHA1: ", str(c, "fingerprint_sha1"));
	puts("  X509v3 extensions:");
	if (json_is_object(ku)) {
		printf("    X509v3 Key Usage: %s\n", str(ku, "hex"));
		print_lines(json_object_get(ku, "names"), "      ");
	}
	if (json_is_string(json_object_get(c, "subject_key_id")))
		print_grouped("    X509v3 Subject Key ID: ", str(c, "subject_key_id"));
	if (json_is_string(json_object_get(c, "authority_key_id")))
		print_grouped("    X509v3 Authority Key ID: ", str(c, "authority_key_id"));
	if (json_is_object(bc))
		printf("    X509v3 Basic Constraints:\n      CA: %s\n",
		       json_is_true(json_object_get(bc, "ca")) ? "TRUE" : "FALSE");
	puts("    Authority Info Access:");
	json_array_foreach(json_object_get(c, "authority_info_access"), i, a)
	{
		printf("      %s: %s\n", str(a, "method"), str(a, "uri"));
	}
}

static void
print_certificate(const json_t *c, bool verbose)
{
	const json_t *ku = json_object_get(c, "key_usage");
	char t[CV_TIME_TEXT_MAX];

	puts("CA Certificate");
	printf("  Status: %s\n", str(c, "status"));
	if (verbose)
		printf("  Version: %" JSON_INTEGER_FORMAT "\n", num(c, "version"));
	printf("  Certificate Serial Number: %s\n", str(c, "serial"));
	if (json_is_object(ku))
		printf("  Certificate Usage: %s\n", usage_summary(json_object_get(ku, "names")));
	else
		puts("  Key Usage: Not Set");
	puts("  Issuer:");
	print_lines(json_object_get(c, "issuer_rdns"), "    ");
	puts("  Subject:");
	print_lines(json_object_get(c, "subject_rdns"), "    ");
	if (json_array_size(json_object_get(c, "crl_distribution_points")) > 0) {
		puts("  CRL Distribution Points:");
		print_lines(json_object_get(c, "crl_distribution_points"), "    ");
	}
	puts("  Validity Date:");
	printf("    start date: %s\n", ios_time(c, "not_before", t));
	printf("    end   date: %s\n", ios_time(c, "not_after", t));
	if (verbose)
		print_cert_verbose(c);
	print_words("  Associated Trustpoints:", json_object_get(c, "associated_trustpoints"));
	putchar('\n');
}

static void
print_certificates(const json_t *v)
{
	print_each(v, "certificates", print_certificate,
	           json_is_true(json_object_get(v, "verbose")));
}

/* ---- show ocsp, show fetch ---- */

static void
print_ocsp_answer(const json_t *a, bool unused)
{
	char t[CV_TIME_TEXT_MAX];

	printf("OCSP Responder:\n  %s\n", str(a, "url"));
	printf("  Subject: %s\n", str(a, "subject"));
	printf("  Serial Number: %s\n", str(a, "serial"));
	printf("  Status: %s", str(a, "status"));
	if (json_is_string(json_object_get(a, "revocation_reason")))
		printf(" (%s, %s)", str(a, "revocation_reason"), ios_time(a, "revoked_at", t));
	putchar('\n');
	printf("  Produced At: %s\n", ios_time(a, "produced_at", t));
	printf("  This Update: %s\n", ios_time(a, "this_update", t));
	printf("  Next Update: %s\n", ios_time(a, "next_update", t));
	printf("  Cached until: %s\n", ios_time(a, "valid_until", t));
	printf("  Signer: %s\n", str(a, "signer"));
	printf("  Stored: %s, last used %s\n", ios_time(a, "stored_at", t),
	       ios_time(a, "last_used", t));
}

static void
print_ocsp(const json_t *v)
{
	print_each(v, "answers", print_ocsp_answer, false);
}

static void
print_fetch_stats(const json_t *st)
{
	if (!json_is_object(st)) {
		puts("Fetches: no fetcher");
		return;
	}
	printf("Fetches: %" JSON_INTEGER_FORMAT " started, %" JSON_INTEGER_FORMAT
	       " downloads, %" JSON_INTEGER_FORMAT " coalesced, %" JSON_INTEGER_FORMAT
	       " completed, %" JSON_INTEGER_FORMAT " failed, %" JSON_INTEGER_FORMAT
	       " negative-cache hits, %" JSON_INTEGER_FORMAT " bytes, %" JSON_INTEGER_FORMAT
	       " in flight\n",
	       num(st, "started"), num(st, "transfers"), num(st, "coalesced"), num(st, "completed"),
	       num(st, "failed"), num(st, "negative_hits"), num(st, "bytes"), num(st, "in_flight"));
}

static void
print_fetch(const json_t *v)
{
	char t[CV_TIME_TEXT_MAX];
	size_t i;
	json_t *u;

	print_fetch_stats(json_object_get(v, "stats"));
	json_array_foreach(json_object_get(v, "urls"), i, u)
	{
		printf("\nURL %s\n", str(u, "url"));
		printf("  State: %s\n", str(u, "state"));
		printf("  Last error: %s\n", json_is_string(json_object_get(u, "last_error"))
		                                 ? str(u, "last_error")
		                                 : "none");
		printf("  Latency: %" JSON_INTEGER_FORMAT " ms\n", num(u, "latency_ms"));
		printf("  Successes: %" JSON_INTEGER_FORMAT
		       ", consecutive failures: %" JSON_INTEGER_FORMAT "\n",
		       num(u, "successes"), num(u, "failures"));
		printf("  Last attempt: %s\n", ios_time(u, "last_attempt", t));
		if (json_is_string(json_object_get(u, "next_retry")))
			printf("  No retry before: %s\n", ios_time(u, "next_retry", t));
	}
}

/* ---- stats ---- */

static void
print_stats(const json_t *v)
{
	const json_t *e = json_object_get(v, "engine");
	const char *key;
	json_t *n;

	printf("Requests: %" JSON_INTEGER_FORMAT " (accepted %" JSON_INTEGER_FORMAT
	       ", rejected %" JSON_INTEGER_FORMAT ", failed open %" JSON_INTEGER_FORMAT ")\n",
	       num(e, "requests"), num(e, "accepted"), num(e, "rejected"), num(e, "failed_open"));
	json_object_foreach((json_t *)json_object_get(e, "by_reason"), key, n)
	{
		if (json_integer_value(n) > 0)
			printf("  %-24s %" JSON_INTEGER_FORMAT "\n", key, json_integer_value(n));
	}
	printf("CRL cache: %" JSON_INTEGER_FORMAT " cached, %" JSON_INTEGER_FORMAT
	       " from files, %" JSON_INTEGER_FORMAT " hits, %" JSON_INTEGER_FORMAT " downloads\n",
	       num(json_object_get(v, "crl_cache"), "entries"),
	       num(json_object_get(v, "crl_cache"), "file_crls"), num(e, "crl_cache_hits"),
	       num(e, "crl_downloads"));
	printf("OCSP cache: %" JSON_INTEGER_FORMAT " answers, %" JSON_INTEGER_FORMAT
	       " hits, %" JSON_INTEGER_FORMAT " queries\n",
	       num(json_object_get(v, "ocsp_cache"), "entries"), num(e, "ocsp_cache_hits"),
	       num(e, "ocsp_queries"));
	printf("Verdict cache: %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
	       " verdicts, %" JSON_INTEGER_FORMAT " hits, %" JSON_INTEGER_FORMAT
	       " misses, %" JSON_INTEGER_FORMAT " invalidations, %" JSON_INTEGER_FORMAT
	       " evictions\n",
	       num(json_object_get(v, "verdict_cache"), "entries"),
	       num(json_object_get(v, "verdict_cache"), "max_entries"),
	       num(json_object_get(v, "verdict_cache"), "hits"),
	       num(json_object_get(v, "verdict_cache"), "misses"),
	       num(json_object_get(v, "verdict_cache"), "invalidations"),
	       num(json_object_get(v, "verdict_cache"), "evictions"));
	print_fetch_stats(json_object_get(v, "fetch"));
	printf("Expiry notices sent: %" JSON_INTEGER_FORMAT "\n", num(v, "expiry_notices_sent"));
}

/* ---- the commands ---- */

/* Removes every "--json" from argv (in place); returns the new argc. */
static int
take_json_flag(int argc, char **argv, bool *json)
{
	int out = 0;

	*json = false;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			*json = true;
		else
			argv[out++] = argv[i];
	}
	return out;
}

static int
run(const struct cv_ctl *ctl, json_t *req, const char *key, bool json,
    void (*print)(const json_t *))
{
	json_t *result = NULL;
	int status;

	if (req == NULL)
		return cv_ctl_fail(CV_CTL_ERROR, "out of memory");
	status = cv_ctl_call(ctl, req, key, &result);
	json_decref(req);
	if (status == CV_CTL_ACCEPT) {
		if (json) {
			json_dumpf(result, stdout, JSON_INDENT(2));
			putchar('\n');
		} else {
			print(result);
		}
	}
	json_decref(result);
	return status;
}

static void
print_running_config(const json_t *v)
{
	fputs(str(v, "text"), stdout);
}

/* In the spirit of IOS `show crypto key pubkey-chain rsa` (R49, O-25): one entry per key. */
static void
print_pubkeys(const json_t *v)
{
	const json_t *keys = json_object_get(v, "keys");
	char t[CV_TIME_TEXT_MAX];
	size_t i;
	const json_t *k;

	if (json_array_size(keys) > 0)
		printf("Codes: C - Extracted from certificate\n\n%-6s %-4s %-8s %-16s %s\n",
		       "Index", "Code", "Usage", "Trustpoint", "Name");
	json_array_foreach(keys, i, k)
	{
		printf("%-6" JSON_INTEGER_FORMAT " %-4s %-8s %-16s X.500 DN name: %s\n",
		       num(k, "index"), "C", "Signing", str(k, "trustpoint"), str(k, "subject"));
		printf("       Issuer: %s\n       Serial: %s  Key: %s\n", str(k, "issuer"),
		       str(k, "serial"), str(k, "key_algorithm"));
		printf("       SHA-256 fingerprint: %s\n", str(k, "fingerprint_sha256"));
		printf("       Remembered until: %s\n", ios_time(k, "expires", t));
	}
	printf("Remembered signatures: %" JSON_INTEGER_FORMAT ", used %" JSON_INTEGER_FORMAT
	       " times\n",
	       num(v, "links"), num(v, "hits"));
}

/*
 * The views of show and clear: the one table of certvalctl for their words, their usage lines
 * and their printing. The daemon's list is protocol.c's; the test integration-ctl checks that
 * every view the daemon knows is here.
 */
static const struct view {
	const char *word;
	const char *args;   /* what `show WORD` takes */
	const char *option; /* a word after it that sets the request member of that name */
	const char *help;   /* for `show WORD` */
	void (*print)(const json_t *);
	const char *cleared; /* what `clear WORD` drops; NULL: the view cannot be cleared */
	bool clear_tp;       /* clear WORD [TP] */
} views[] = {
    {"crls", "[TP]", NULL, "cached CRLs and `crl file` CRLs", print_crls, "cached CRLs", true},
    {"trustpoints", "[status | TP [status]]", "status",
     "trustpoints, CA authentication, expiry notices", print_trustpoints, NULL, false},
    {"certificates", "[TP [verbose]]", "verbose", "the trustpoints' CA certificates",
     print_certificates, NULL, false},
    {"timers", "", NULL, "CRL expiries and expiry notices, soonest first", print_timers, NULL,
     false},
    {"ocsp", "", NULL, "cached OCSP answers", print_ocsp, "cached OCSP answers", false},
    {"fetch", "", NULL, "CDP and responder URLs: state, last error, latency", print_fetch, NULL,
     false},
    {"running-config", "", NULL, "the running configuration, secrets as <hidden>",
     print_running_config, NULL, false},
    {"pubkeys", "", NULL, "remembered peer keys, the pubkey chain (R49)", print_pubkeys,
     "remembered peer keys", false},
};

static const struct view *
find_view(const char *word)
{
	for (size_t i = 0; word != NULL && i < CV_ARRAY_LEN(views); i++)
		if (strcmp(word, views[i].word) == 0)
			return &views[i];
	return NULL;
}

void
cv_ctl_show_usage(FILE *out)
{
	char words[96];

	for (size_t i = 0; i < CV_ARRAY_LEN(views); i++) {
		snprintf(words, sizeof(words), "%s%s%s", views[i].word, views[i].args[0] ? " " : "",
		         views[i].args);
		cv_ctl_usage_row(out, "show", words, views[i].help);
	}
}

void
cv_ctl_clear_usage(FILE *out)
{
	char words[96], help[128];

	for (size_t i = 0; i < CV_ARRAY_LEN(views); i++) {
		if (views[i].cleared == NULL)
			continue;
		const bool pubkeys = strcmp(views[i].word, "pubkeys") == 0;

		snprintf(words, sizeof(words), "%s%s", views[i].word,
		         views[i].clear_tp ? " [TP]"
		         : pubkeys         ? " [INDEX]"
		                           : "");
		snprintf(help, sizeof(help), "drop the %s%s", views[i].cleared,
		         views[i].clear_tp ? " (all, or one trustpoint's)"
		         : pubkeys         ? " (all, or the key of that index)"
		                           : "");
		cv_ctl_usage_row(out, "clear", words, help);
	}
}

/* show VIEW [TP] [OPTION], as the table says (the daemon refuses what a view does not take) */
int
cv_ctl_show(const struct cv_ctl *ctl, int argc, char **argv)
{
	const char *tp = NULL;
	const struct view *v;
	bool json, option = false;
	json_t *req;

	argc = take_json_flag(argc, argv, &json);
	if (argc < 2)
		return cv_ctl_usage();
	v = find_view(argv[1]);
	if (v == NULL)
		return cv_ctl_fail(CV_CTL_USAGE, "unknown view \"%s\"", argv[1]);
	for (int i = 2; i < argc; i++) {
		if (v->option != NULL && strcmp(argv[i], v->option) == 0 && !option)
			option = true;
		else if (tp == NULL && !option)
			tp = argv[i];
		else
			return cv_ctl_usage();
	}
	req = json_pack("{s:s, s:s}", "op", "show", "what", v->word);
	if (req != NULL && tp != NULL)
		json_object_set_new(req, "trustpoint", json_string(tp));
	if (req != NULL && option)
		json_object_set_new(req, v->option, json_true());
	return run(ctl, req, "show", json, v->print);
}

static void
print_cleared(const json_t *v)
{
	const struct view *view = find_view(str(v, "what"));

	printf("%" JSON_INTEGER_FORMAT " %s dropped\n", num(v, "cleared"),
	       view != NULL && view->cleared != NULL ? view->cleared : "entries");
}

/* clear VIEW [TP] for the views with something to drop (pubkeys: IOS zeroize pubkey-chain) */
int
cv_ctl_clear(const struct cv_ctl *ctl, int argc, char **argv)
{
	const struct view *v;
	bool json, pubkeys;
	json_t *req;

	argc = take_json_flag(argc, argv, &json);
	v = argc >= 2 ? find_view(argv[1]) : NULL;
	pubkeys = v != NULL && strcmp(v->word, "pubkeys") == 0;
	if (v == NULL || v->cleared == NULL || argc > (v->clear_tp || pubkeys ? 3 : 2))
		return cv_ctl_usage();
	req = json_pack("{s:s, s:s}", "op", "clear", "what", v->word);
	if (req != NULL && argc == 3 && pubkeys) { /* zeroize pubkey-chain INDEX (R49) */
		char *end;
		const unsigned long index = strtoul(argv[2], &end, 10);

		if (*end != '\0' || index < 1 || index > 65535) {
			json_decref(req);
			return cv_ctl_usage();
		}
		json_object_set_new(req, "index", json_integer((json_int_t)index));
	} else if (req != NULL && argc == 3) {
		json_object_set_new(req, "trustpoint", json_string(argv[2]));
	}
	return run(ctl, req, "clear", json, print_cleared);
}

static void
print_crl_request(const json_t *v)
{
	if (num(v, "started") > 0)
		printf("%" JSON_INTEGER_FORMAT " CRL downloads of trustpoint %s started\n",
		       num(v, "started"), str(v, "trustpoint"));
	else
		printf("no CRL is cached for trustpoint %s and no CDP is known for it: the next "
		       "validation downloads\n",
		       str(v, "trustpoint"));
}

/* crl-request TP (R54) */
int
cv_ctl_crl_request(const struct cv_ctl *ctl, int argc, char **argv)
{
	bool json;

	argc = take_json_flag(argc, argv, &json);
	if (argc != 2)
		return cv_ctl_usage();
	return run(ctl, json_pack("{s:s, s:s}", "op", "crl-request", "trustpoint", argv[1]),
	           "crl-request", json, print_crl_request);
}

int
cv_ctl_stats(const struct cv_ctl *ctl, int argc, char **argv)
{
	bool json;

	argc = take_json_flag(argc, argv, &json);
	if (argc != 1)
		return cv_ctl_usage();
	return run(ctl, json_pack("{s:s}", "op", "stats"), "stats", json, print_stats);
}
