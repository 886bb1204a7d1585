/* verdict.c: building the verdict of one request: decision, path, evidence and trace. */
#include "verdict.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void
cv_failure_set(struct cv_failure *f, enum cv_reason reason, const char *detail, int cert_index,
               const char *subject, const char *fmt, ...)
{
	va_list ap;

	f->reason = reason;
	cv_strlcpy(f->detail, detail != NULL ? detail : "", sizeof(f->detail));
	f->cert_index = cert_index;
	cv_strlcpy(f->subject, subject != NULL ? subject : "", sizeof(f->subject));
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
}

void
cv_verdict_init(struct cv_verdict *v, cv_time at)
{
	memset(v, 0, sizeof(*v));
	v->decision = CV_DECISION_REJECT;
	v->reason = CV_REASON_NONE;
	v->cert_index = -1;
	v->map_seq = -1;
	v->at = at;
	v->revocation = CV_REVOCATION_NOT_CHECKED;
	v->made = CV_VERDICT_DETAIL_TRACE;
}

void
cv_verdict_free(struct cv_verdict *v)
{
	free(v->path);
	free(v->evidence);
	free(v->trace);
	v->path = NULL;
	v->evidence = NULL;
	v->trace = NULL;
	v->n_path = v->n_evidence = v->n_trace = v->trace_cap = 0;
}

void
cv_verdict_trace_add(struct cv_verdict *v, const char *stage, const char *fmt, ...)
{
	struct cv_trace_event *ev;
	va_list ap;

	if (v->n_trace == v->trace_cap) {
		size_t cap = v->trace_cap == 0 ? 16 : v->trace_cap * 2;
		struct cv_trace_event *grown;

		if (cap > CV_TRACE_MAX)
			cap = CV_TRACE_MAX;
		if (v->n_trace >= cap) {
			v->trace_dropped++;
			return;
		}
		grown = realloc(v->trace, cap * sizeof(*grown));
		if (grown == NULL) {
			v->trace_dropped++;
			return;
		}
		v->trace = grown;
		v->trace_cap = cap;
	}
	ev = &v->trace[v->n_trace++];
	cv_strlcpy(ev->stage, stage, sizeof(ev->stage));
	va_start(ap, fmt);
	vsnprintf(ev->text, sizeof(ev->text), fmt, ap);
	va_end(ap);
}

void
cv_verdict_reject(struct cv_verdict *v, const struct cv_failure *f)
{
	v->decision = CV_DECISION_REJECT;
	v->reason = f->reason;
	cv_strlcpy(v->detail, f->detail, sizeof(v->detail));
	cv_strlcpy(v->message, f->message, sizeof(v->message));
	v->cert_index = f->cert_index;
	cv_strlcpy(v->cert_subject, f->subject, sizeof(v->cert_subject));
	if (f->cert_index >= 0 && f->subject[0] != '\0')
		cv_verdict_trace(v, "verdict", "rejected: %s (%s) at certificate %d (%s): %s",
		                 cv_reason_name(f->reason), f->detail, f->cert_index, f->subject,
		                 f->message);
	else if (f->cert_index >= 0) /* e.g. a certificate that does not parse: no subject */
		cv_verdict_trace(v, "verdict", "rejected: %s (%s) at certificate %d: %s",
		                 cv_reason_name(f->reason), f->detail, f->cert_index, f->message);
	else
		cv_verdict_trace(v, "verdict", "rejected: %s (%s): %s", cv_reason_name(f->reason),
		                 f->detail, f->message);
}

void
cv_verdict_accept(struct cv_verdict *v)
{
	v->decision = CV_DECISION_ACCEPT;
	v->reason = CV_REASON_NONE;
	v->detail[0] = '\0';
	v->message[0] = '\0';
	v->cert_index = -1;
	v->cert_subject[0] = '\0';
}

int
cv_verdict_set_path(struct cv_verdict *v, const struct cv_path_entry *entries, size_t n)
{
	struct cv_path_entry *copy = NULL;

	if (n > 0) {
		copy = malloc(n * sizeof(*copy));
		if (copy == NULL)
			return -1;
		memcpy(copy, entries, n * sizeof(*copy));
	}
	free(v->path);
	v->path = copy;
	v->n_path = n;
	return 0;
}

struct cv_evidence *
cv_verdict_add_evidence(struct cv_verdict *v, int cert_index, const char *method)
{
	struct cv_evidence *grown, *ev;

	if (v->n_evidence >= CV_EVIDENCE_MAX)
		return NULL;
	grown = realloc(v->evidence, (v->n_evidence + 1) * sizeof(*grown));
	if (grown == NULL)
		return NULL;
	v->evidence = grown;
	ev = &v->evidence[v->n_evidence++];
	memset(ev, 0, sizeof(*ev));
	ev->cert_index = cert_index;
	cv_strlcpy(ev->method, method, sizeof(ev->method));
	ev->this_update = ev->next_update = ev->produced_at = ev->revoked_at = CV_TIME_NONE;
	return ev;
}

const char *
cv_reason_name(enum cv_reason reason)
{
	static const char *const names[] = {
	    [CV_REASON_NONE] = "none",
	    [CV_REASON_UNTRUSTED_ISSUER] = "untrusted-issuer",
	    [CV_REASON_BAD_SIGNATURE] = "bad-signature",
	    [CV_REASON_EXPIRED] = "expired",
	    [CV_REASON_NOT_YET_VALID] = "not-yet-valid",
	    [CV_REASON_CHAIN_INVALID] = "chain-invalid",
	    [CV_REASON_REVOKED] = "revoked",
	    [CV_REASON_REVOCATION_UNAVAILABLE] = "revocation-unavailable",
	    [CV_REASON_NOT_AUTHORIZED] = "not-authorized",
	    [CV_REASON_AAA_DENIED] = "aaa-denied",
	    [CV_REASON_CONFIG_ERROR] = "config-error",
	    [CV_REASON_INTERNAL_ERROR] = "internal-error",
	};

	return (size_t)reason < CV_ARRAY_LEN(names) ? names[reason] : "internal-error";
}

const char *
cv_revocation_name(enum cv_revocation outcome)
{
	static const char *const names[] = {
	    [CV_REVOCATION_NOT_CHECKED] = "not-checked",
	    [CV_REVOCATION_GOOD] = "good",
	    [CV_REVOCATION_REVOKED] = "revoked",
	    [CV_REVOCATION_SKIPPED_BY_MAP] = "skipped-by-map",
	    [CV_REVOCATION_UNCHECKED_NONE] = "unchecked-none",
	    [CV_REVOCATION_ERROR] = "error",
	};

	return (size_t)outcome < CV_ARRAY_LEN(names) ? names[outcome] : "error";
}

const char *
cv_decision_name(enum cv_decision decision)
{
	return decision == CV_DECISION_ACCEPT ? "ACCEPT" : "REJECT";
}
