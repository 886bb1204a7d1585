/* verdict_json.h: the one place where a verdict becomes JSON (daemon replies, certvalctl --json).
 */
#ifndef CV_VERDICT_JSON_H
#define CV_VERDICT_JSON_H

#include <jansson.h>

#include "../common/verdict.h"

/*
 * Returns a new JSON object (one reference, the caller owns it) holding every field of the
 * verdict: decision, reason, detail, message, cert_index, cert_subject, at, trustpoint, map,
 * revocation, failed_open, expiry_overridden, profile, relaxations (an array of names),
 * aaa_username, aaa_attributes, path, evidence, trace, trace_dropped. Times are ISO 8601 UTC
 * strings or null. NULL
 * when out of memory.
 */
json_t *cv_verdict_to_json(const struct cv_verdict *v);

/* The verdict rendered only as far as level asks (new reference, NULL when out of memory). */
json_t *cv_verdict_to_json_detail(const struct cv_verdict *v, enum cv_verdict_detail level);

/* "verdict", "evidence", "trace" to the level; -1 for any other name (or NULL). */
int cv_verdict_detail_from_name(const char *name, enum cv_verdict_detail *out);

/* ISO 8601 text of t as a JSON string, or JSON null for CV_TIME_NONE (new reference). */
json_t *cv_json_time(cv_time t);

/*
 * s as a JSON string (new reference, NULL only when out of memory). Text that is not valid
 * UTF-8 (a name from a certificate, or one cut short inside a character by a bounded buffer)
 * is shown with each byte of an invalid sequence replaced by '?', rather than making the
 * whole response impossible to encode.
 */
json_t *cv_json_text(const char *s);

#endif
