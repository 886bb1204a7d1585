/* verdict_json.c: turns a struct cv_verdict into its JSON form (DESIGN.md "Socket protocol"). */
#include "verdict_json.h"

#include "../common/clock.h"

json_t *
cv_json_time(cv_time t)
{
	char buf[CV_TIME_TEXT_MAX];

	if (t == CV_TIME_NONE)
		return json_null();
	return json_string(cv_time_format_iso(t, buf));
}

/* A JSON string, or null for an empty C string. */
static json_t *
str_or_null(const char *s)
{
	return s[0] != '\0' ? json_string(s) : json_null();
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

	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:b}", "subject", e->subject, "issuer",
	                 e->issuer, "serial", e->serial, "not_before", cv_json_time(e->not_before),
	                 "not_after", cv_json_time(e->not_after), "trust_anchor", e->trust_anchor);
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
	return json_pack("{s:s, s:s}", "stage", v->trace[i].stage, "text", v->trace[i].text);
}

static json_t *
map_json(const struct cv_verdict *v)
{
	if (v->map_seq < 0 || v->map_label[0] == '\0')
		return json_null();
	return json_pack("{s:s, s:i}", "label", v->map_label, "seq", v->map_seq);
}

json_t *
cv_verdict_to_json(const struct cv_verdict *v)
{
	bool accept = v->decision == CV_DECISION_ACCEPT;
	json_t *reason = accept || v->reason == CV_REASON_NONE
	                     ? json_null()
	                     : json_string(cv_reason_name(v->reason));

	/* json_pack's "o" steals each reference, also on failure; NULL members fail the pack. */
	return json_pack(
	    "{s:s, s:o, s:o, s:o, s:i, s:o, s:o, s:o, s:o, s:s, s:b, s:b, s:o, s:o, "
	    "s:o, s:o, s:I}",
	    "decision", cv_decision_name(v->decision), "reason", reason, "detail",
	    str_or_null(v->detail), "message", str_or_null(v->message), "cert_index", v->cert_index,
	    "cert_subject", str_or_null(v->cert_subject), "at", cv_json_time(v->at), "trustpoint",
	    str_or_null(v->trustpoint), "map", map_json(v), "revocation",
	    cv_revocation_name(v->revocation), "failed_open", v->failed_open, "expiry_overridden",
	    v->expiry_overridden, "aaa_username", str_or_null(v->aaa_username), "path",
	    array_json(v, v->n_path, path_one), "evidence",
	    array_json(v, v->n_evidence, evidence_one), "trace",
	    array_json(v, v->n_trace, trace_one), "trace_dropped", (json_int_t)v->trace_dropped);
}
