/* verdict_json.c: turns a struct cv_verdict into its JSON form (DESIGN.md "Socket protocol"). */
#include "verdict_json.h"

#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/util.h"

json_t *
cv_json_time(cv_time t)
{
	char buf[CV_TIME_TEXT_MAX];

	if (t == CV_TIME_NONE)
		return json_null();
	return json_string(cv_time_format_iso(t, buf));
}

json_t *
cv_json_text(const char *s)
{
	json_t *j = json_string(s);
	char *copy;
	size_t i = 0, n, len;

	if (j != NULL)
		return j;
	copy = strdup(s);
	if (copy == NULL)
		return NULL;
	len = strlen(copy);
	while (i < len) {
		n = cv_utf8_seq((const uint8_t *)copy + i, len - i);
		if (n == 0)
			copy[i++] = '?';
		else
			i += n;
	}
	j = json_string(copy);
	free(copy);
	return j;
}

/* A JSON string, or null for an empty C string. */
static json_t *
str_or_null(const char *s)
{
	return s[0] != '\0' ? cv_json_text(s) : json_null();
}

/* An array of one(v, i) for i below n; NULL when any element fails. */
static json_t *
array_json(const struct cv_verdict *v, size_t n, json_t *(*one)(const struct cv_verdict *, size_t))
{
	json_t *arr = json_array();

	if (arr == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		json_t *o = one(v, i);

		if (o == NULL || json_array_append_new(arr, o) != 0)
			goto fail;
	}
	return arr;
fail:
	json_decref(arr);
	return NULL;
}

static json_t *
path_one(const struct cv_verdict *v, size_t i)
{
	const struct cv_path_entry *e = &v->path[i];

	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:b}", "subject", cv_json_text(e->subject),
	                 "issuer", cv_json_text(e->issuer), "serial", cv_json_text(e->serial),
	                 "not_before", cv_json_time(e->not_before), "not_after",
	                 cv_json_time(e->not_after), "trust_anchor", e->trust_anchor);
}

static json_t *
evidence_one(const struct cv_verdict *v, size_t i)
{
	const struct cv_evidence *e = &v->evidence[i];

	return json_pack("{s:i, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	                 "cert_index", e->cert_index, "method", e->method, "outcome", e->outcome,
	                 "source", str_or_null(e->source), "url", str_or_null(e->url), "crl_number",
	                 str_or_null(e->crl_number), "this_update", cv_json_time(e->this_update),
	                 "next_update", cv_json_time(e->next_update), "produced_at",
	                 cv_json_time(e->produced_at), "revoked_at", cv_json_time(e->revoked_at),
	                 "revocation_reason", str_or_null(e->revocation_reason), "nonce",
	                 str_or_null(e->nonce), "signer", str_or_null(e->signer), "error",
	                 str_or_null(e->error));
}

static json_t *
trace_one(const struct cv_verdict *v, size_t i)
{
	return json_pack("{s:o, s:o}", "stage", cv_json_text(v->trace[i].stage), "text",
	                 cv_json_text(v->trace[i].text));
}

/* The comma-separated relaxation names of the verdict as an array of strings ([] when none). */
static json_t *
relaxations_json(const char *names)
{
	json_t *arr = json_array();
	const char *p = names;

	while (arr != NULL && *p != '\0') {
		size_t len = strcspn(p, ",");
		json_t *one = json_stringn(p, len);

		if (one == NULL || json_array_append_new(arr, one) != 0) {
			json_decref(arr);
			return NULL;
		}
		p += len;
		p += *p == ',';
	}
	return arr;
}

static json_t *
map_json(const struct cv_verdict *v)
{
	if (v->map_seq < 0 || v->map_label[0] == '\0')
		return json_null();
	return json_pack("{s:o, s:i}", "label", cv_json_text(v->map_label), "seq", v->map_seq);
}

static json_t *
modifier_one(const struct cv_verdict *v, size_t i)
{
	const struct cv_map_modifier *m = &v->modifiers[i];

	return json_pack("{s:s, s:o, s:i}", "modifier", m->modifier, "label",
	                 cv_json_text(m->label), "seq", m->seq);
}

/* The summary members every detail level carries. */
static json_t *
summary_json(const struct cv_verdict *v)
{
	bool accept = v->decision == CV_DECISION_ACCEPT;
	json_t *reason = accept || v->reason == CV_REASON_NONE
	                     ? json_null()
	                     : json_string(cv_reason_name(v->reason));

	/* json_pack's "o" steals each reference, also on failure; NULL members fail the pack. */
	return json_pack(
	    "{s:s, s:o, s:o, s:o, s:i, s:o, s:o, s:o, s:o, s:o, s:s, s:b, s:b, s:o, s:o, s:o, "
	    "s:o, s:b}",
	    "decision", cv_decision_name(v->decision), "reason", reason, "detail",
	    str_or_null(v->detail), "message", str_or_null(v->message), "cert_index", v->cert_index,
	    "cert_subject", str_or_null(v->cert_subject), "at", cv_json_time(v->at), "trustpoint",
	    str_or_null(v->trustpoint), "map", map_json(v), "modifiers",
	    array_json(v, v->n_modifiers, modifier_one), "revocation",
	    cv_revocation_name(v->revocation), "failed_open", v->failed_open, "expiry_overridden",
	    v->expiry_overridden, "profile", str_or_null(v->profile), "relaxations",
	    relaxations_json(v->relaxations), "aaa_username", str_or_null(v->aaa_username),
	    "aaa_attributes", str_or_null(v->aaa_attributes), "cached", v->from_cache);
}

/* Sets member key of obj to value (stolen); false when value is NULL or the set fails. */
static bool
set_member(json_t *obj, const char *key, json_t *value)
{
	return value != NULL && json_object_set_new(obj, key, value) == 0;
}

json_t *
cv_verdict_to_json_detail(const struct cv_verdict *v, enum cv_verdict_detail level)
{
	json_t *obj = summary_json(v);

	if (obj == NULL || level == CV_VERDICT_DETAIL_VERDICT)
		return obj;
	if (!set_member(obj, "path", array_json(v, v->n_path, path_one)) ||
	    !set_member(obj, "evidence", array_json(v, v->n_evidence, evidence_one)))
		goto fail;
	if (level == CV_VERDICT_DETAIL_EVIDENCE)
		return obj;
	if (!set_member(obj, "trace", array_json(v, v->n_trace, trace_one)) ||
	    !set_member(obj, "trace_dropped", json_integer((json_int_t)v->trace_dropped)))
		goto fail;
	return obj;
fail:
	json_decref(obj);
	return NULL;
}

json_t *
cv_verdict_to_json(const struct cv_verdict *v)
{
	return cv_verdict_to_json_detail(v, CV_VERDICT_DETAIL_TRACE);
}

int
cv_verdict_detail_from_name(const char *name, enum cv_verdict_detail *out)
{
	static const char *const names[] = {
	    [CV_VERDICT_DETAIL_VERDICT] = "verdict",
	    [CV_VERDICT_DETAIL_EVIDENCE] = "evidence",
	    [CV_VERDICT_DETAIL_TRACE] = "trace",
	};

	for (size_t i = 0; name != NULL && i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum cv_verdict_detail)i;
			return 0;
		}
	}
	return -1;
}
