/*
 * ctl_verify.c: certvalctl verify: through the daemon, or in-process (--offline) with a
 * configuration file or an ad-hoc trustpoint built from the command line.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "../common/clock.h"
#include "../common/util.h"
#include "../policy/config.h"
#include "../policy/engine.h"
#include "../validator/path.h"
#include "../validator/fetch/fetch.h"
#include "../client/certval.h"
#include "ctl.h"
#include "ctl_chain.h"
#include "../ipc/verdict_json.h"
#include "../ipc/verdict_text.h"

#define LIST_MAX 16

struct verify_opts {
	const char *trustpoints[CV_REQUEST_TRUSTPOINTS_MAX];
	size_t n_trustpoints;
	const char *untrusted[LIST_MAX];
	size_t n_untrusted;
	const char *crls[LIST_MAX];
	size_t n_crls;
	const char *policies[LIST_MAX];
	size_t n_policies;
	cv_time at;
	const char *purpose;
	const char *peer_name;
	const char *peer_addr;
	const char *application;
	const char *config;
	const char *ca;
	const char *revocation;
	const char *allow_weak;
	const char *profile; /* --profile: validation-profile of the ad-hoc trustpoint */
	unsigned max_depth;  /* --max-depth: chain-depth of the ad-hoc trustpoint, 0 none */
	bool allow_cn_fallback;
	bool explicit_policy, inhibit_mapping, inhibit_any;
	bool offline, json, verbose;
	const char *detail; /* --detail, or NULL: trace with -v or --json, else evidence */
	const char *chain;
};

static int
push(const char **list, size_t *n, const char *value, const char *what)
{
	size_t max = strcmp(what, "--trustpoint") == 0 ? CV_REQUEST_TRUSTPOINTS_MAX : LIST_MAX;

	if (*n >= max)
		return cv_ctl_fail(-1, "%s: at most %zu", what, max);
	list[(*n)++] = value;
	return 0;
}

enum {
	OPT_AT = 256,
	OPT_PURPOSE,
	OPT_PEER_NAME,
	OPT_PEER_ADDR,
	OPT_APPLICATION,
	OPT_UNTRUSTED,
	OPT_JSON,
	OPT_OFFLINE,
	OPT_CONFIG,
	OPT_CA,
	OPT_CRL,
	OPT_REVOCATION,
	OPT_POLICY,
	OPT_EXPLICIT,
	OPT_INHIBIT_MAPPING,
	OPT_INHIBIT_ANY,
	OPT_ALLOW_WEAK,
	OPT_PROFILE,
	OPT_MAX_DEPTH,
	OPT_ALLOW_CN_FALLBACK,
	OPT_DETAIL,
};

/* --max-depth N: certificates in a path, anchor included, 1..CV_PATH_MAX_DEPTH. */
static int
parse_depth(const char *arg, unsigned *out)
{
	char *end = NULL;
	unsigned long n = strtoul(arg, &end, 10);

	if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || n < 1 || n > CV_PATH_MAX_DEPTH)
		return cv_ctl_fail(-1, "--max-depth must be a number of certificates from 1 to %d",
		                   CV_PATH_MAX_DEPTH);
	*out = (unsigned)n;
	return 0;
}

/* --profile: the names exactly as cv_profile_name spells them. */
static int
parse_profile(const char *arg, const char **out)
{
	enum cv_profile p;

	if (cv_profile_from_name(arg, &p) != 0 || strcmp(arg, cv_profile_name(p)) != 0)
		return cv_ctl_fail(-1, "--profile must be rfc5280 or webpki");
	*out = arg;
	return 0;
}

static int
parse_one(struct verify_opts *o, int ch)
{
	switch (ch) {
	case 't':
		return push(o->trustpoints, &o->n_trustpoints, optarg, "--trustpoint");
	case 'v':
		o->verbose = true;
		return 0;
	case OPT_AT:
		if (cv_time_parse(optarg, &o->at) != 0)
			return cv_ctl_fail(-1, "--at: not an ISO 8601 time or Unix seconds: %s",
			                   optarg);
		return 0;
	case OPT_PURPOSE: {
		enum cv_purpose p;

		/* the names exactly as cv_purpose_name spells them */
		if (cv_purpose_from_name(optarg, &p) == 0 &&
		    strcmp(optarg, cv_purpose_name(p)) == 0) {
			o->purpose = optarg;
			return 0;
		}
		return cv_ctl_fail(-1, "--purpose must be any, ike, server or client");
	}
	case OPT_PEER_NAME:
		o->peer_name = optarg;
		return 0;
	case OPT_PEER_ADDR:
		o->peer_addr = optarg;
		return 0;
	case OPT_APPLICATION:
		o->application = optarg;
		return 0;
	case OPT_UNTRUSTED:
		return push(o->untrusted, &o->n_untrusted, optarg, "--untrusted");
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_OFFLINE:
		o->offline = true;
		return 0;
	case OPT_CONFIG:
		o->config = optarg;
		return 0;
	case OPT_CA:
		o->ca = optarg;
		return 0;
	case OPT_CRL:
		return push(o->crls, &o->n_crls, optarg, "--crl");
	case OPT_REVOCATION:
		o->revocation = optarg;
		return 0;
	case OPT_POLICY:
		return push(o->policies, &o->n_policies, optarg, "--policy");
	case OPT_EXPLICIT:
		o->explicit_policy = true;
		return 0;
	case OPT_INHIBIT_MAPPING:
		o->inhibit_mapping = true;
		return 0;
	case OPT_INHIBIT_ANY:
		o->inhibit_any = true;
		return 0;
	case OPT_ALLOW_WEAK:
		o->allow_weak = optarg;
		return 0;
	case OPT_PROFILE:
		return parse_profile(optarg, &o->profile);
	case OPT_MAX_DEPTH:
		return parse_depth(optarg, &o->max_depth);
	case OPT_DETAIL: {
		enum cv_verdict_detail level;

		if (cv_verdict_detail_from_name(optarg, &level) != 0)
			return cv_ctl_fail(-1, "--detail must be verdict, evidence or trace");
		o->detail = optarg;
		return 0;
	}
	case OPT_ALLOW_CN_FALLBACK:
		o->allow_cn_fallback = true;
		return 0;
	default:
		return -1;
	}
}

static int
parse_opts(int argc, char **argv, struct verify_opts *o)
{
	static const struct option longopts[] = {
	    {"trustpoint", required_argument, NULL, 't'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"at", required_argument, NULL, OPT_AT},
	    {"purpose", required_argument, NULL, OPT_PURPOSE},
	    {"peer-name", required_argument, NULL, OPT_PEER_NAME},
	    {"peer-addr", required_argument, NULL, OPT_PEER_ADDR},
	    {"application", required_argument, NULL, OPT_APPLICATION},
	    {"untrusted", required_argument, NULL, OPT_UNTRUSTED},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"offline", no_argument, NULL, OPT_OFFLINE},
	    {"config", required_argument, NULL, OPT_CONFIG},
	    {"ca", required_argument, NULL, OPT_CA},
	    {"crl", required_argument, NULL, OPT_CRL},
	    {"revocation", required_argument, NULL, OPT_REVOCATION},
	    {"policy", required_argument, NULL, OPT_POLICY},
	    {"explicit-policy", no_argument, NULL, OPT_EXPLICIT},
	    {"inhibit-mapping", no_argument, NULL, OPT_INHIBIT_MAPPING},
	    {"inhibit-any", no_argument, NULL, OPT_INHIBIT_ANY},
	    {"allow-weak", required_argument, NULL, OPT_ALLOW_WEAK},
	    {"profile", required_argument, NULL, OPT_PROFILE},
	    {"max-depth", required_argument, NULL, OPT_MAX_DEPTH},
	    {"allow-cn-fallback", no_argument, NULL, OPT_ALLOW_CN_FALLBACK},
	    {"detail", required_argument, NULL, OPT_DETAIL},
	    {NULL, 0, NULL, 0},
	};
	bool adhoc_opts;
	int ch;

	memset(o, 0, sizeof(*o));
	o->at = CV_TIME_NONE;
	while ((ch = getopt_long(argc, argv, "t:v", longopts, NULL)) != -1)
		if (parse_one(o, ch) != 0)
			return -1;
	if (optind != argc - 1)
		return cv_ctl_fail(-1, "verify needs exactly one CHAIN file");
	o->chain = argv[optind];
	adhoc_opts = o->n_crls > 0 || o->revocation != NULL || o->n_policies > 0 ||
	             o->explicit_policy || o->inhibit_mapping || o->inhibit_any ||
	             o->allow_weak != NULL || o->profile != NULL || o->max_depth != 0 ||
	             o->allow_cn_fallback;
	if (!o->offline && (o->config != NULL || o->ca != NULL || adhoc_opts))
		return cv_ctl_fail(-1, "--config, --ca and the ad-hoc trustpoint options need "
		                       "--offline");
	if (o->offline && (o->config == NULL) == (o->ca == NULL))
		return cv_ctl_fail(-1, "verify --offline needs either --config or --ca");
	if (o->config != NULL && adhoc_opts)
		return cv_ctl_fail(-1, "the ad-hoc trustpoint options need --ca, not --config");
	return 0;
}

/* Loads every certificate of a file (PEM or DER) into list. */
static int
load_certs(struct cv_cert_list *list, const char *path)
{
	struct cv_error err = {""};

	if (cv_cert_list_load_file(list, path, &err) != 0)
		return cv_ctl_fail(-1, "%s", err.msg);
	return 0;
}

/*
 * How much of the verdict to ask for (issue 13): --detail, else the whole trace for -v and
 * --json (which print it), else path and evidence (what the plain text shows).
 */
static enum cv_verdict_detail
detail_level(const struct verify_opts *o)
{
	enum cv_verdict_detail level = CV_VERDICT_DETAIL_EVIDENCE;

	if (o->detail != NULL && cv_verdict_detail_from_name(o->detail, &level) == 0)
		return level;
	return o->verbose || o->json ? CV_VERDICT_DETAIL_TRACE : CV_VERDICT_DETAIL_EVIDENCE;
}

static enum cv_client_detail
client_detail(enum cv_verdict_detail level)
{
	switch (level) {
	case CV_VERDICT_DETAIL_VERDICT:
		return CV_CLIENT_DETAIL_VERDICT;
	case CV_VERDICT_DETAIL_EVIDENCE:
		return CV_CLIENT_DETAIL_EVIDENCE;
	default:
		return CV_CLIENT_DETAIL_TRACE;
	}
}

/* Prints the verdict and returns the exit status it implies. */
static int
report(const json_t *verdict, const struct verify_opts *o)
{
	const char *decision = json_string_value(json_object_get(verdict, "decision"));

	if (o->json) {
		json_dumpf(verdict, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		cv_verdict_text_print(stdout, verdict, o->verbose);
	}
	return decision != NULL && strcmp(decision, "ACCEPT") == 0 ? CV_CTL_ACCEPT : CV_CTL_REJECT;
}

/* ---- through the daemon ---- */

static int
to_client_certs(const struct cv_cert_list *list, struct cv_client_cert *out)
{
	for (size_t i = 0; i < list->n; i++)
		out[i].der = cv_cert_der(list->v[i], &out[i].len);
	return 0;
}

/* The chain file's certificates as read, malformed ones included: the daemon judges them. */
static void
chain_to_client_certs(const struct ctl_chain *chain, struct cv_client_cert *out)
{
	for (size_t i = 0; i < chain->n; i++) {
		out[i].der = chain->v[i].der;
		out[i].len = chain->v[i].len;
	}
}

/* Reads the chain file; a file that cannot be read is a usage error. */
static int
read_chain(const char *path, struct ctl_chain *chain)
{
	struct cv_error err = {""};

	if (ctl_chain_read(path, chain, &err) != 0)
		return cv_ctl_fail(-1, "%s", err.msg);
	return 0;
}

static int
verify_online(const struct cv_ctl *ctl, const struct verify_opts *o)
{
	struct cv_cert_list extra = {NULL, 0, 0};
	struct ctl_chain chain = {NULL, 0};
	struct cv_client_cert *cc = NULL, *ce = NULL;
	struct cv_client_verdict verdict;
	struct cv_client_request req;
	struct cv_client *cl = NULL;
	json_t *vj = NULL;
	int rc, status = CV_CTL_USAGE;

	memset(&verdict, 0, sizeof(verdict));
	if (read_chain(o->chain, &chain) != 0)
		goto done;
	for (size_t i = 0; i < o->n_untrusted; i++)
		if (load_certs(&extra, o->untrusted[i]) != 0)
			goto done;
	status = CV_CTL_ERROR;
	cc = calloc(chain.n, sizeof(*cc));
	ce = calloc(extra.n + 1, sizeof(*ce));
	if (cc == NULL || ce == NULL)
		goto done;
	chain_to_client_certs(&chain, cc);
	to_client_certs(&extra, ce);
	memset(&req, 0, sizeof(req));
	req.chain = cc;
	req.n_chain = chain.n;
	req.extra = ce;
	req.n_extra = extra.n;
	req.trustpoints = o->trustpoints;
	req.n_trustpoints = o->n_trustpoints;
	req.at = o->at != CV_TIME_NONE ? o->at : CV_CLIENT_AT_NOW;
	req.purpose = o->purpose;
	req.peer_name = o->peer_name;
	req.peer_addr = o->peer_addr;
	req.application = o->application;
	rc = cv_client_open(ctl->socket_path, &cl);
	if (rc == CV_CLIENT_OK)
		rc = cv_client_set_detail(cl, client_detail(detail_level(o)));
	if (rc == CV_CLIENT_OK)
		rc = cv_client_verify(cl, &req, CV_CTL_TIMEOUT_MS, &verdict);
	if (rc != CV_CLIENT_OK) {
		if (rc == CV_CLIENT_ERR_SERVER &&
		    strcmp(cv_client_error_code(cl), "bad-request") == 0)
			status = CV_CTL_USAGE;
		cv_ctl_fail(status, "%s", cv_client_error(cl));
		goto done;
	}
	vj = json_loads(verdict.json, 0, NULL);
	if (vj == NULL) {
		cv_ctl_fail(status, "unreadable verdict");
		goto done;
	}
	status = report(vj, o);
done:
	json_decref(vj);
	cv_client_verdict_free(&verdict);
	cv_client_close(cl);
	free(cc);
	free(ce);
	ctl_chain_free(&chain);
	cv_cert_list_free(&extra);
	return status;
}

/* ---- in-process ---- */

/* Appends a quoted absolute path to the configuration text. */
static int
append_path(char *buf, size_t size, const char *keyword, const char *path)
{
	char *abs = realpath(path, NULL);
	size_t used = strlen(buf);
	int n;

	if (abs == NULL)
		return cv_ctl_fail(-1, "%s: cannot read", path);
	if (strpbrk(abs, "\"\n\\") != NULL) {
		free(abs);
		return cv_ctl_fail(-1, "%s: unsupported character in the path", path);
	}
	n = snprintf(buf + used, size - used, " %s \"%s\"\n", keyword, abs);
	free(abs);
	if (n < 0 || (size_t)n >= size - used)
		return cv_ctl_fail(-1, "ad-hoc configuration too long");
	return 0;
}

/* Appends " keyword WORDS\n" where words is a comma-separated list of [a-z0-9.-] tokens. */
static int
append_words(char *buf, size_t size, const char *keyword, const char *words, const char *what)
{
	size_t used = strlen(buf);
	int n;

	if (words[0] == '\0' ||
	    strspn(words, "abcdefghijklmnopqrstuvwxyz0123456789.-,") != strlen(words))
		return cv_ctl_fail(-1, "%s: unexpected \"%s\"", what, words);
	n = snprintf(buf + used, size - used, " %s %s\n", keyword, words);
	if (n < 0 || (size_t)n >= size - used)
		return cv_ctl_fail(-1, "ad-hoc configuration too long");
	for (char *p = buf + used; *p != '\0'; p++)
		if (*p == ',')
			*p = ' ';
	return 0;
}

static char *
adhoc_text(const struct verify_opts *o)
{
	size_t size = 64 * 1024;
	char *buf = calloc(1, size);

	if (buf == NULL)
		return NULL;
	cv_strlcpy(buf, "crypto pki trustpoint ADHOC\n", size);
	if (append_path(buf, size, "ca-certificate", o->ca) != 0)
		goto fail;
	if (append_words(buf, size, "revocation-check",
	                 o->revocation != NULL ? o->revocation
	                 : o->n_crls > 0       ? "crl"
	                                       : "none",
	                 "--revocation") != 0)
		goto fail;
	for (size_t i = 0; i < o->n_crls; i++)
		if (append_path(buf, size, "crl file", o->crls[i]) != 0)
			goto fail;
	for (size_t i = 0; i < o->n_policies; i++)
		if (append_words(buf, size, "policy", o->policies[i], "--policy") != 0 ||
		    strchr(o->policies[i], ',') != NULL)
			goto fail;
	if (o->explicit_policy)
		cv_strlcpy(buf + strlen(buf), " explicit-policy\n", size - strlen(buf));
	if (o->inhibit_mapping)
		cv_strlcpy(buf + strlen(buf), " inhibit-policy-mapping\n", size - strlen(buf));
	if (o->inhibit_any)
		cv_strlcpy(buf + strlen(buf), " inhibit-any-policy\n", size - strlen(buf));
	if (o->allow_weak != NULL &&
	    append_words(buf, size, "allow-weak-signature", o->allow_weak, "--allow-weak") != 0)
		goto fail;
	if (o->profile != NULL &&
	    append_words(buf, size, "validation-profile", o->profile, "--profile") != 0)
		goto fail;
	if (o->max_depth != 0)
		snprintf(buf + strlen(buf), size - strlen(buf), " chain-depth %u\n", o->max_depth);
	if (o->allow_cn_fallback)
		cv_strlcpy(buf + strlen(buf), " allow-cn-fallback\n", size - strlen(buf));
	return buf;
fail:
	free(buf);
	return NULL;
}

static int
load_config(const struct verify_opts *o, struct cv_config **cfg)
{
	struct cv_error err = {""};
	char *text;
	int rc;

	if (o->config != NULL) {
		rc = cv_config_load(o->config, cfg, &err);
	} else {
		text = adhoc_text(o);
		if (text == NULL)
			return -1;
		rc = cv_config_parse("<adhoc>", text, strlen(text), cfg, &err);
		free(text);
	}
	if (rc != 0)
		return cv_ctl_fail(-1, "configuration error: %s", err.msg);
	for (size_t i = 0; i < (*cfg)->n_warnings; i++)
		fprintf(stderr, "certvalctl: warning: %s:%u: %s\n", (*cfg)->path,
		        (*cfg)->warnings[i].line, (*cfg)->warnings[i].text);
	return 0;
}

static int
build_request(const struct verify_opts *o, struct cv_request *req)
{
	struct ctl_chain chain;
	int rc;

	if (read_chain(o->chain, &chain) != 0)
		return -1;
	rc = ctl_chain_to_request(&chain, o->chain, req);
	ctl_chain_free(&chain);
	if (rc != 0)
		return cv_ctl_fail(-1, "out of memory");
	for (size_t i = 0; i < o->n_untrusted; i++)
		if (load_certs(&req->extra, o->untrusted[i]) != 0)
			return -1;
	for (size_t i = 0; i < o->n_trustpoints; i++) {
		if (strlen(o->trustpoints[i]) >= CV_LABEL_MAX)
			return cv_ctl_fail(-1, "trustpoint name too long: %s", o->trustpoints[i]);
		cv_strlcpy(req->trustpoints[i], o->trustpoints[i], CV_LABEL_MAX);
	}
	req->n_trustpoints = o->n_trustpoints;
	if (o->ca != NULL && o->n_trustpoints == 0) {
		cv_strlcpy(req->trustpoints[0], "ADHOC", CV_LABEL_MAX);
		req->n_trustpoints = 1;
	}
	req->at = o->at;
	if (o->purpose != NULL)
		cv_purpose_from_name(o->purpose, &req->purpose); /* checked by parse_one */
	if ((o->peer_name != NULL &&
	     cv_strlcpy(req->peer_name, o->peer_name, sizeof(req->peer_name)) >=
	         sizeof(req->peer_name)) ||
	    (o->peer_addr != NULL &&
	     cv_strlcpy(req->peer_addr, o->peer_addr, sizeof(req->peer_addr)) >=
	         sizeof(req->peer_addr)) ||
	    (o->application != NULL &&
	     cv_strlcpy(req->application, o->application, sizeof(req->application)) >=
	         sizeof(req->application)))
		return cv_ctl_fail(-1, "--peer-name, --peer-addr or --application too long");
	return 0;
}

struct offline_result {
	enum cv_verdict_detail detail;
	struct event_base *base;
	bool done;
	json_t *verdict;
};

static void
offline_done(const struct cv_verdict *verdict, void *arg)
{
	struct offline_result *r = arg;

	r->done = true;
	r->verdict = cv_verdict_to_json_detail(verdict, r->detail);
	if (r->base != NULL)
		event_base_loopbreak(r->base); /* the engine may keep timers: stop here */
}

static void
offline_deadline(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static int
verify_offline(const struct verify_opts *o)
{
	struct offline_result result = {detail_level(o), NULL, false, NULL};
	struct cv_config *cfg = NULL;
	struct event_base *base = NULL;
	struct cv_engine *engine = NULL;
	struct cv_fetcher *fetcher = NULL;
	struct event *deadline = NULL;
	struct cv_request req;
	int status = CV_CTL_USAGE;

	cv_request_init(&req);
	if (load_config(o, &cfg) != 0 || build_request(o, &req) != 0)
		goto done;
	status = CV_CTL_ERROR;
	base = event_base_new();
	if (base == NULL || (engine = cv_engine_new(base, cfg, NULL)) == NULL ||
	    (fetcher = cv_fetcher_new(base, cv_engine_clock(engine), cfg->fetch_retry_after_s)) ==
	        NULL) {
		cv_ctl_fail(status, "cannot start the engine");
		goto done;
	}
	cv_engine_set_fetcher(engine, fetcher);
	result.base = base;
	if (cv_engine_verify(engine, &req, offline_done, &result) != 0) {
		cv_ctl_fail(status, "the engine could not start the verification");
		goto done;
	}
	if (!result.done) {
		unsigned ms = cfg->request_timeout_ms + 1000;
		struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

		deadline = evtimer_new(base, offline_deadline, base);
		if (deadline == NULL || evtimer_add(deadline, &tv) != 0) {
			cv_ctl_fail(status, "out of memory");
			goto done;
		}
		event_base_dispatch(base);
	}
	if (!result.done) {
		cv_ctl_fail(status, "no verdict within %u ms", cfg->request_timeout_ms);
		goto done;
	}
	if (result.verdict == NULL) {
		cv_ctl_fail(status, "out of memory");
		goto done;
	}
	status = report(result.verdict, o);
done:
	json_decref(result.verdict);
	cv_request_free(&req);
	if (engine != NULL)
		cv_engine_free(engine); /* before the fetcher: it cancels its fetches */
	cv_fetcher_free(fetcher);
	if (deadline != NULL)
		event_free(deadline);
	if (base != NULL)
		event_base_free(base);
	cv_config_unref(cfg);
	return status;
}

int
cv_ctl_verify(const struct cv_ctl *ctl, int argc, char **argv)
{
	struct verify_opts o;

	if (parse_opts(argc, argv, &o) != 0)
		return cv_ctl_usage();
	return o.offline ? verify_offline(&o) : verify_online(ctl, &o);
}
