/*
 * path_build.c: certification path building. From the peer's certificate, candidate issuers
 * are searched among the trust anchors and the untrusted certificates (name chaining on
 * normalised names, AKI/SKI as an ordering hint), depth first with backtracking, and every path
 * that reaches an anchor is validated (path_validate.c) until one passes. Bounded by depth,
 * candidates per certificate and signature checks; a certificate never appears twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "x509int.h"

#define MAX_CANDIDATES_HARD 64

/* Ranks of failures: the most telling one is reported. */
enum rank {
	RANK_NO_ISSUER = 1, /* no issuer, loop */
	RANK_LINK,          /* an issuer was found but its signature did not verify */
	RANK_LIMIT,         /* depth or work bound: the search was cut short */
	RANK_PATH,          /* a path reached an anchor and failed validation */
};

struct build {
	const struct cv_path_params *params;
	struct cv_verdict *trace;
	unsigned max_depth, max_candidates, max_steps, steps;
	struct cv_sig_cache sigs;

	struct cv_cert *chain[CV_PATH_MAX_DEPTH];
	size_t n;

	struct cv_failure best;
	int best_rank;
	unsigned attempts;
	bool leaf_waived;
};

struct candidate {
	struct cv_cert *cert;
	bool anchor;
	int score;
};

void
cv_path_params_init(struct cv_path_params *params)
{
	memset(params, 0, sizeof(*params));
	params->at = CV_TIME_NONE;
	params->max_depth = CV_PATH_MAX_DEPTH;
	params->max_candidates = CV_PATH_MAX_CANDIDATES;
	params->max_sig_checks = CV_PATH_MAX_SIG_CHECKS;
}

static void
note(struct build *b, int rank, const struct cv_failure *f)
{
	if (rank > b->best_rank) {
		b->best = *f;
		b->best_rank = rank;
	}
}

static void
note_simple(struct build *b, int rank, enum cv_reason reason, const char *detail, size_t idx,
            const char *msg)
{
	struct cv_failure f;

	cv_failure_set(&f, reason, detail, (int)idx, cv_cert_subject(b->chain[idx]), "%s", msg);
	note(b, rank, &f);
	if (b->trace != NULL)
		cv_verdict_trace(b->trace, "path", "path attempt failed at %s: %s",
		                 cv_cert_subject(b->chain[idx]), msg);
}

static bool
is_anchor(const struct build *b, const struct cv_cert *c)
{
	size_t i;

	for (i = 0; i < b->params->n_anchors; i++)
		if (cv_cert_equal(b->params->anchors[i], c))
			return true;
	return false;
}

static bool
in_chain(const struct build *b, const struct cv_cert *c)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (cv_cert_equal(b->chain[i], c))
			return true;
	return false;
}

/* AKI keyIdentifier of child equals SKI of issuer: +2; differs: -2; unknown: 0. */
static int
key_id_hint(const struct cv_cert *child, const struct cv_cert *issuer)
{
	const struct cv_cert_aki *aki = cv_cert_aki(child);
	const struct cv_cert_ski *ski = cv_cert_ski(issuer);

	if (aki->key_id == NULL || !ski->present)
		return 0;
	return (aki->key_id_len == ski->key_id_len &&
	        memcmp(aki->key_id, ski->key_id, aki->key_id_len) == 0)
	           ? 2
	           : -2;
}

static int
candidate_score(const struct build *b, const struct cv_cert *child, const struct cv_cert *c,
                bool anchor)
{
	int s = key_id_hint(child, c);

	if (anchor)
		s += 4;
	if (b->params->at >= cv_cert_not_before(c) && b->params->at <= cv_cert_not_after(c))
		s += 1;
	return s;
}

static void
add_candidate(struct build *b, const struct cv_cert *child, struct cv_cert *c, bool anchor,
              struct candidate *cand, size_t *n, bool *loop)
{
	size_t i;

	if (!cv_cert_issued_by_name(child, c))
		return;
	if (in_chain(b, c)) {
		*loop = true;
		return;
	}
	for (i = 0; i < *n; i++)
		if (cv_cert_equal(cand[i].cert, c))
			return;
	if (*n == MAX_CANDIDATES_HARD)
		return;
	cand[*n].cert = c;
	cand[*n].anchor = anchor || is_anchor(b, c);
	cand[*n].score = candidate_score(b, child, c, cand[*n].anchor);
	(*n)++;
}

/* Stable ordering: higher score first, input order otherwise. */
static void
sort_candidates(struct candidate *cand, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++) {
		struct candidate t = cand[i];

		for (j = i; j > 0 && cand[j - 1].score < t.score; j--)
			cand[j] = cand[j - 1];
		cand[j] = t;
	}
}

static int try_path(struct build *b, struct cv_path *out);
static int extend(struct build *b, struct cv_path *out);

/* Tries one candidate issuer of the top of the chain; 1 success, 0 go on, -1 stop searching. */
static int
try_candidate(struct build *b, const struct candidate *c, struct cv_path *out)
{
	const struct cv_cert *top = b->chain[b->n - 1];
	int r;

	if (b->trace != NULL)
		cv_verdict_trace(b->trace, "path", "Found a issuer match: %s",
		                 cv_cert_subject(c->cert));
	switch (cv_sig_check(&b->sigs, top, c->cert, NULL)) {
	case CV_SIG_LIMIT:
		note_simple(b, RANK_LIMIT, CV_REASON_CHAIN_INVALID, "work-limit", b->n - 1,
		            "signature-check budget exhausted");
		return -1;
	case CV_SIG_BAD:
		note_simple(b, RANK_LINK, CV_REASON_BAD_SIGNATURE, "signature", b->n - 1,
		            "signature does not verify with the key of a candidate issuer");
		return 0;
	default: /* OK, or not decidable before the whole path is known (DSA parameters) */
		break;
	}
	b->chain[b->n++] = c->cert;
	r = extend(b, out);
	b->n--;
	return r;
}

static int
extend(struct build *b, struct cv_path *out)
{
	const struct cv_cert *top = b->chain[b->n - 1];
	struct candidate cand[MAX_CANDIDATES_HARD];
	size_t n = 0, i;
	bool loop = false;
	int r;

	if (++b->steps > b->max_steps) {
		note_simple(b, RANK_LIMIT, CV_REASON_CHAIN_INVALID, "work-limit", b->n - 1,
		            "path-building work limit reached");
		return -1;
	}
	if (is_anchor(b, top))
		return try_path(b, out);
	if (b->n >= b->max_depth) {
		/* chain-depth (max_depth) counts every certificate of the path, anchor included:
		 * a path of max_depth certificates passes, one more does not. */
		char msg[CV_MESSAGE_MAX];

		snprintf(msg, sizeof(msg),
		         "no trust anchor within %u certificates (the chain-depth limit)",
		         b->max_depth);
		note_simple(b, RANK_LIMIT, CV_REASON_CHAIN_INVALID, "depth-exceeded", b->n - 1,
		            msg);
		return 0;
	}
	for (i = 0; i < b->params->n_anchors; i++)
		add_candidate(b, top, b->params->anchors[i], true, cand, &n, &loop);
	for (i = 0; i < b->params->n_untrusted; i++)
		add_candidate(b, top, b->params->untrusted[i], false, cand, &n, &loop);
	if (n == 0) {
		note_simple(b, RANK_NO_ISSUER, CV_REASON_UNTRUSTED_ISSUER,
		            loop ? "loop" : "no-issuer", b->n - 1,
		            loop ? "the only issuers found are already in the path"
		                 : "no issuer certificate found (no path to a trust anchor)");
		return 0;
	}
	sort_candidates(cand, n);
	if (n > b->max_candidates)
		n = b->max_candidates;
	for (i = 0; i < n; i++)
		if ((r = try_candidate(b, &cand[i], out)) != 0)
			return r;
	return 0;
}

static int
try_path(struct build *b, struct cv_path *out)
{
	struct cv_failure f;
	struct cv_path_used used;
	size_t i;

	b->attempts++;
	if (b->trace != NULL)
		/* The manuals count the certificates below the anchor (SPEC R55: a leaf issued
		 * by the trustpoint's CA gives "validation path has 1 certs"). */
		cv_verdict_trace(b->trace, "path", "validation path has %zu certs",
		                 b->n > 0 ? b->n - 1 : 0);
	memset(&f, 0, sizeof(f));
	if (cv_path_validate(b->chain, b->n, b->params, &b->sigs, &used, &f) < 0) {
		note(b, strcmp(f.detail, "work-limit") == 0 ? RANK_LIMIT : RANK_PATH, &f);
		if (b->trace != NULL)
			cv_verdict_trace(b->trace, "path", "path attempt failed: %s (%s)",
			                 f.message, f.detail);
		return strcmp(f.detail, "work-limit") == 0 ? -1 : 0;
	}
	memset(out, 0, sizeof(*out));
	for (i = 0; i < b->n; i++)
		out->certs[i] = cv_cert_ref(b->chain[i]);
	out->n = b->n;
	out->leaf_validity_waived_used = used.leaf_waived;
	out->relaxations_used = used.relaxations;
	out->weak_used = used.weak;
	return 1;
}

static unsigned
bound(unsigned v, unsigned def, unsigned hard)
{
	if (v == 0)
		v = def;
	return v > hard ? hard : v;
}

int
cv_path_build(const struct cv_cert *leaf, const struct cv_path_params *params, struct cv_path *path,
              struct cv_failure *failure, struct cv_verdict *trace)
{
	struct build *b;
	int r;

	memset(path, 0, sizeof(*path));
	cv_failure_set(failure, CV_REASON_INTERNAL_ERROR, "internal", -1, "",
	               "path building failed");
	if (leaf == NULL || params == NULL || (b = calloc(1, sizeof(*b))) == NULL)
		return -1;
	b->params = params;
	b->trace = trace;
	b->max_depth = bound(params->max_depth, CV_PATH_MAX_DEPTH, CV_PATH_MAX_DEPTH);
	b->max_candidates =
	    bound(params->max_candidates, CV_PATH_MAX_CANDIDATES, MAX_CANDIDATES_HARD);
	b->sigs.budget = bound(params->max_sig_checks, CV_PATH_MAX_SIG_CHECKS, CV_SIG_CACHE_MAX);
	b->sigs.links = params->links;
	b->max_steps = 4 * b->sigs.budget + 8;
	b->chain[0] = (struct cv_cert *)(uintptr_t)leaf; /* only read; never released */
	b->n = 1;
	r = extend(b, path);
	path->sig_checks = b->sigs.spent;
	if (r != 1) {
		if (b->best_rank == 0)
			cv_failure_set(&b->best, CV_REASON_UNTRUSTED_ISSUER, "no-issuer", 0,
			               cv_cert_subject(leaf), "no path to a trust anchor");
		*failure = b->best;
		free(b);
		return -1;
	}
	memset(failure, 0, sizeof(*failure));
	failure->cert_index = -1;
	free(b);
	return 0;
}

void
cv_path_release(struct cv_path *path)
{
	size_t i;

	for (i = 0; i < path->n; i++)
		cv_cert_unref(path->certs[i]);
	path->n = 0;
}

int
cv_path_to_verdict(const struct cv_path *path, struct cv_verdict *v)
{
	struct cv_path_entry e[CV_PATH_MAX_DEPTH];
	size_t i;

	if (v->made < CV_VERDICT_DETAIL_EVIDENCE)
		return 0; /* not shown: the Names' text is not even made */
	memset(e, 0, sizeof(e));
	for (i = 0; i < path->n && i < CV_PATH_MAX_DEPTH; i++) {
		const struct cv_cert *next = i + 1 < path->n ? path->certs[i + 1] : NULL;
		size_t ilen, slen;
		const uint8_t *idn = cv_cert_issuer_der(path->certs[i], &ilen);
		const uint8_t *sdn = next != NULL ? cv_cert_subject_der(next, &slen) : NULL;

		cv_strlcpy(e[i].subject, cv_cert_subject(path->certs[i]), sizeof(e[i].subject));
		/* the same encoding as the issuer's subject (the usual case): the same text,
		 * already made for that certificate (kept in the parsed-certificate cache) */
		cv_strlcpy(e[i].issuer,
		           sdn != NULL && slen == ilen && memcmp(sdn, idn, ilen) == 0
		               ? cv_cert_subject(next)
		               : cv_cert_issuer(path->certs[i]),
		           sizeof(e[i].issuer));
		cv_strlcpy(e[i].serial, cv_cert_serial(path->certs[i]), sizeof(e[i].serial));
		e[i].not_before = cv_cert_not_before(path->certs[i]);
		e[i].not_after = cv_cert_not_after(path->certs[i]);
		e[i].trust_anchor = i + 1 == path->n;
	}
	return cv_verdict_set_path(v, e, i);
}

/* The names of enum cv_weak_alg and enum cv_relaxation, defined here only: the configuration
 * (`allow-weak-signature`) and the verdict ("weak:sha1", "cn-fallback") use them. */
struct bit_name {
	uint32_t bit;
	const char *name;
};

static const struct bit_name weak_names[CV_WEAK_ALG_COUNT] = {
    {CV_WEAK_SHA1, "sha1"},         {CV_WEAK_MD5, "md5"},   {CV_WEAK_DSA, "dsa"},
    {CV_WEAK_RSA_1024, "rsa-1024"}, {CV_WEAK_P192, "p192"}, {CV_WEAK_RSA_ODD, "rsa-odd-size"},
};

static const struct bit_name relaxation_names[] = {
    {CV_RELAX_CN_FALLBACK, "cn-fallback"},
};

uint32_t
cv_weak_alg_from_name(const char *name)
{
	for (size_t i = 0; name != NULL && i < CV_ARRAY_LEN(weak_names); i++)
		if (cv_strcasecmp(name, weak_names[i].name) == 0)
			return weak_names[i].bit;
	return 0;
}

const char *
cv_weak_alg_name(uint32_t bit)
{
	for (size_t i = 0; i < CV_ARRAY_LEN(weak_names); i++)
		if (weak_names[i].bit == bit)
			return weak_names[i].name;
	return NULL;
}

/* Appends ",PREFIXNAME" (no comma first) for every entry of table whose bit is in bits. */
static bool
append_names(char *buf, size_t size, const struct bit_name *table, size_t n, uint32_t bits,
             const char *prefix)
{
	bool whole = true;

	for (size_t i = 0; i < n; i++) {
		size_t used = strlen(buf);
		int w;

		if (!(bits & table[i].bit))
			continue;
		w = snprintf(buf + used, size - used, "%s%s%s", used > 0 ? "," : "", prefix,
		             table[i].name);
		if (w < 0 || (size_t)w >= size - used) {
			buf[used] = '\0'; /* never half a name */
			whole = false;
		}
	}
	return whole;
}

int
cv_path_relied_on_names(uint32_t relaxations, uint32_t weak, char *buf, size_t size)
{
	bool whole;

	if (size == 0)
		return -1;
	buf[0] = '\0';
	whole = append_names(buf, size, relaxation_names, CV_ARRAY_LEN(relaxation_names),
	                     relaxations, "");
	whole =
	    append_names(buf, size, weak_names, CV_ARRAY_LEN(weak_names), weak, "weak:") && whole;
	return whole ? 0 : -1;
}

const char *
cv_purpose_name(enum cv_purpose purpose)
{
	switch (purpose) {
	case CV_PURPOSE_IKE:
		return "ike";
	case CV_PURPOSE_TLS_SERVER:
		return "server";
	case CV_PURPOSE_TLS_CLIENT:
		return "client";
	default:
		return "any";
	}
}

int
cv_purpose_from_name(const char *name, enum cv_purpose *out)
{
	static const enum cv_purpose all[] = {CV_PURPOSE_ANY, CV_PURPOSE_IKE, CV_PURPOSE_TLS_SERVER,
	                                      CV_PURPOSE_TLS_CLIENT};
	size_t i;

	for (i = 0; name != NULL && i < CV_ARRAY_LEN(all); i++) {
		if (cv_strcasecmp(name, cv_purpose_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	}
	return -1;
}

const char *
cv_profile_name(enum cv_profile profile)
{
	return profile == CV_PROFILE_WEBPKI ? "webpki" : "rfc5280";
}

int
cv_profile_from_name(const char *name, enum cv_profile *out)
{
	static const enum cv_profile all[] = {CV_PROFILE_RFC5280, CV_PROFILE_WEBPKI};
	size_t i;

	for (i = 0; name != NULL && i < CV_ARRAY_LEN(all); i++) {
		if (cv_strcasecmp(name, cv_profile_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	}
	return -1;
}
