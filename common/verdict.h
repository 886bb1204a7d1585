/*
 * verdict.h: the one verdict structure of a request. The engine appends trace events and
 * evidence to it; only ipc/ turns it into JSON or human text.
 */
#ifndef CV_VERDICT_H
#define CV_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "clock.h"

enum cv_decision {
	CV_DECISION_REJECT = 0, /* the default: a verdict is a rejection until something accepts */
	CV_DECISION_ACCEPT = 1,
};

/* The verdict vocabulary of section 0 (docs/requirements.md), plus internal-error for faults of
 * the daemon itself (fail closed). */
enum cv_reason {
	CV_REASON_NONE = 0,
	CV_REASON_UNTRUSTED_ISSUER,
	CV_REASON_BAD_SIGNATURE,
	CV_REASON_EXPIRED,
	CV_REASON_NOT_YET_VALID,
	CV_REASON_CHAIN_INVALID,
	CV_REASON_REVOKED,
	CV_REASON_REVOCATION_UNAVAILABLE,
	CV_REASON_NOT_AUTHORIZED,
	CV_REASON_AAA_DENIED,
	CV_REASON_CONFIG_ERROR,
	CV_REASON_INTERNAL_ERROR,
};

/* The revocation outcome of the whole path (the worst of its certificates). */
enum cv_revocation {
	CV_REVOCATION_NOT_CHECKED = 0, /* validation stopped before revocation */
	CV_REVOCATION_GOOD,
	CV_REVOCATION_REVOKED,
	CV_REVOCATION_SKIPPED_BY_MAP,
	CV_REVOCATION_UNCHECKED_NONE, /* accepted through `none`: failed open */
	CV_REVOCATION_ERROR,
};

#define CV_DETAIL_MAX   48
#define CV_MESSAGE_MAX  320
#define CV_NAME_MAX     512 /* a distinguished name as text (RFC 4514), truncated beyond */
#define CV_LABEL_MAX    64  /* trustpoint and map labels */
#define CV_SERIAL_MAX   80  /* upper-case hex, no separators */
#define CV_URL_MAX      512
#define CV_TRACE_TEXT   320
#define CV_TRACE_MAX    256 /* events kept; later ones are counted as dropped */
#define CV_EVIDENCE_MAX 64

/*
 * How much of a verdict a client asked for (the request's "detail", docs/protocol.md):
 * VERDICT is the decision and its summary members only; EVIDENCE adds path and evidence;
 * TRACE adds trace and trace_dropped (everything, what cv_verdict_to_json returns).
 * A verdict is also made only as far as that (struct cv_verdict's made, issue 13).
 */
enum cv_verdict_detail {
	CV_VERDICT_DETAIL_VERDICT,
	CV_VERDICT_DETAIL_EVIDENCE,
	CV_VERDICT_DETAIL_TRACE,
};

/*
 * Why a step failed, filled in by the step and copied into the verdict by the caller that
 * decides it is final (the path builder keeps the most telling failure among its attempts).
 */
struct cv_failure {
	enum cv_reason reason;
	char detail[CV_DETAIL_MAX]; /* precise code, e.g. "path-len-exceeded" */
	int cert_index;             /* position in the path (0 = the peer's certificate), -1 none */
	char subject[CV_NAME_MAX];  /* that certificate's subject */
	char message[CV_MESSAGE_MAX]; /* one human sentence */
};

void cv_failure_set(struct cv_failure *f, enum cv_reason reason, const char *detail, int cert_index,
                    const char *subject, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

struct cv_trace_event {
	char stage[16]; /* "request", "path", "map", "revocation", "aaa", "verdict", ... */
	char text[CV_TRACE_TEXT];
};

/* One certificate of the validated (or best attempted) path, leaf first. */
struct cv_path_entry {
	char subject[CV_NAME_MAX];
	char issuer[CV_NAME_MAX];
	char serial[CV_SERIAL_MAX];
	cv_time not_before;
	cv_time not_after;
	bool trust_anchor; /* a trustpoint's certificate: validation stopped here */
};

/* What one revocation method (or AAA) saw for one certificate. */
struct cv_evidence {
	int cert_index;
	char method[8];   /* "crl", "ocsp", "none", "aaa" */
	char outcome[24]; /* "good", "revoked", "error", "skipped-by-map", "unchecked-none" */
	char source[16];  /* "download", "cache", "file", "" */
	char url[CV_URL_MAX];
	char crl_number[CV_SERIAL_MAX];
	cv_time this_update;
	cv_time next_update;
	cv_time produced_at;
	cv_time revoked_at;
	char revocation_reason[32];
	char nonce[16];           /* "sent-echoed", "sent-missing", "mismatch", "disabled", "" */
	char signer[CV_NAME_MAX]; /* OCSP: the subject of the certificate that signed the answer */
	char error[CV_MESSAGE_MAX];
};

/* A certificate map that applied to the peer through a `match certificate` modifier. */
#define CV_MODIFIERS_MAX 5
struct cv_map_modifier {
	char modifier[32]; /* "allow expired-certificate", "skip revocation-check", ... */
	char label[CV_LABEL_MAX];
	int seq;
};

struct cv_verdict {
	enum cv_decision decision;
	enum cv_reason reason;
	char detail[CV_DETAIL_MAX];
	char message[CV_MESSAGE_MAX];
	int cert_index;
	char cert_subject[CV_NAME_MAX];

	cv_time at; /* the validation time used */
	char trustpoint[CV_LABEL_MAX];
	char map_label[CV_LABEL_MAX];
	int map_seq; /* -1 when no map matched */
	/* the maps matched through modifiers (R38-R40, R19, R27), in the order of the kinds */
	struct cv_map_modifier modifiers[CV_MODIFIERS_MAX];
	size_t n_modifiers;
	enum cv_revocation revocation;
	bool failed_open;       /* accepted although a check did not answer (`none`) */
	bool expiry_overridden; /* `allow expired-certificate` accepted a validity defect */
	char profile[16];       /* the validation profile applied ("rfc5280", "webpki") */
	/* Relaxations of the profile the verdict relied on, comma-separated names
	 * ("cn-fallback", "weak:sha1", ...); "" when none. */
	char relaxations[CV_MESSAGE_MAX];
	char aaa_username[CV_NAME_MAX];
	/* The attributes of the AAA answer, "NAME=VALUE" joined by "; " ("cert-application=all;
	 * ..."), whether they authorized the peer or refused it; "" when no AAA answer came. */
	char aaa_attributes[CV_MESSAGE_MAX];
	/* Served from the verdict cache: decided by an earlier evaluation, and nothing it
	 * depends on has changed since (policy/verdict_cache.h). */
	bool from_cache;

	/* How far the verdict is recorded: trace events only at TRACE, the path from EVIDENCE
	 * up; the summary and the evidence always (the verdict cache reads the evidence).
	 * cv_verdict_init sets TRACE; a caller that will show less sets less before any work. */
	enum cv_verdict_detail made;

	struct cv_path_entry *path;
	size_t n_path;
	struct cv_evidence *evidence;
	size_t n_evidence;
	struct cv_trace_event *trace;
	size_t n_trace;
	size_t trace_cap;
	size_t trace_dropped;
};

void cv_verdict_init(struct cv_verdict *v, cv_time at);
void cv_verdict_free(struct cv_verdict *v);

/* Appends a trace event; beyond CV_TRACE_MAX events they are only counted. */
void cv_verdict_trace_add(struct cv_verdict *v, const char *stage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A trace event, when the verdict is made with its trace: the arguments (a Name's text, a
 * number formatted) are not even evaluated otherwise. */
#define cv_verdict_trace(v, ...)                                                                   \
	do {                                                                                       \
		struct cv_verdict *const cv_trace_v_ = (v);                                        \
		if (cv_trace_v_->made == CV_VERDICT_DETAIL_TRACE)                                  \
			cv_verdict_trace_add(cv_trace_v_, __VA_ARGS__);                            \
	} while (0)

/* Records the rejection (decision, reason, detail, position, subject, message) and traces it. */
void cv_verdict_reject(struct cv_verdict *v, const struct cv_failure *f);

void cv_verdict_accept(struct cv_verdict *v);

/* Replaces the recorded path; returns 0 or -1 (out of memory). */
int cv_verdict_set_path(struct cv_verdict *v, const struct cv_path_entry *entries, size_t n);

/* A zeroed evidence slot owned by the verdict (times CV_TIME_NONE), or NULL when full. */
struct cv_evidence *cv_verdict_add_evidence(struct cv_verdict *v, int cert_index,
                                            const char *method);

const char *cv_reason_name(enum cv_reason reason);          /* "untrusted-issuer" ... */
const char *cv_revocation_name(enum cv_revocation outcome); /* "good" ... */
const char *cv_decision_name(enum cv_decision decision);    /* "ACCEPT" / "REJECT" */

#endif
