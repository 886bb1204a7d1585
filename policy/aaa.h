/*
 * aaa.h: AAA authorization of a certificate (R41-R48, O-21, D-2): the username taken from
 * the certificate, the query to the method list's backends (local attribute lists, LDAP
 * through OpenLDAP, RADIUS through libkrad), and the evaluation of the pki:
 * attribute-value pairs of the answer (cert-application, cert-trustpoint, cert-serial,
 * cert-serial-not, cert-lifetime-end).
 *
 * Queries are asynchronous: the done callback runs once, always from the event loop.
 * A done callback must not call cv_aaa_free (it may start or cancel other queries).
 * A query is named by an id, never by a pointer: ids are not reused, so cancelling a query
 * that has already finished (its done has run) or was already cancelled is a harmless no-op.
 */
#ifndef CV_AAA_H
#define CV_AAA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/clock.h"
#include "../common/error.h"
#include "../common/verdict.h"
#include "../validator/cert.h"
#include "config.h"

struct event_base;
struct cv_aaa; /* one per daemon: backends, worker threads, the answer cache */

/* A query in flight; 0 names none. Unique for the lifetime of its struct cv_aaa. */
typedef uint64_t cv_aaa_query_id;

#define CV_AAA_ATTRS_MAX 32
#define CV_AAA_VALUE_MAX 256

enum cv_aaa_status {
	CV_AAA_ANSWERED,    /* a server (or the local list) answered: attrs hold the AV pairs */
	CV_AAA_REFUSED,     /* the server refused the user (Access-Reject, no such entry) */
	CV_AAA_UNREACHABLE, /* no method answered in time: authorization fails (R41) */
};

struct cv_aaa_attr_pair {
	char name[64]; /* without the "pki:" prefix, e.g. "cert-application" */
	char value[CV_AAA_VALUE_MAX];
};

struct cv_aaa_answer {
	enum cv_aaa_status status;
	char method[80]; /* which method answered, e.g. "group RADIUS-1", "local" */
	struct cv_aaa_attr_pair attrs[CV_AAA_ATTRS_MAX];
	size_t n_attrs;
	char error[CV_MESSAGE_MAX];
	bool from_cache;
	/* Until when the answer is cached (`aaa cache-time`): the same question gets the same
	 * answer without asking; CV_TIME_NONE when it is not cached (asked again next time). */
	cv_time expires;
};

typedef void (*cv_aaa_done_fn)(const struct cv_aaa_answer *answer, void *arg);

struct cv_aaa *cv_aaa_new(struct event_base *base, const struct cv_clock *clock);
void cv_aaa_free(struct cv_aaa *aaa); /* cancels every query; no callback runs */
void cv_aaa_clear_cache(struct cv_aaa *aaa);

/*
 * Asks the methods of list_name (in cfg) about username, in order: the next method is tried
 * only when one is unreachable (IOS method-list semantics). Returns the query's id, or 0 with
 * err set on an immediate failure (unknown list). cfg must stay alive until done has run.
 */
cv_aaa_query_id cv_aaa_query_start(struct cv_aaa *aaa, const struct cv_config *cfg,
                                   const char *list_name, const char *username, cv_aaa_done_fn done,
                                   void *arg, struct cv_error *err);

/*
 * Cancels the query id: its done will not run. A no-op when id names no query in flight (0,
 * a query whose done has run, one already cancelled).
 */
void cv_aaa_query_cancel(struct cv_aaa *aaa, cv_aaa_query_id id);

/*
 * The AAA username of a certificate for `authorization username subjectname FIELD` (R42):
 * `all` is the whole subject DN as text; other fields are the first attribute of that type.
 * Returns 0, or -1 when the certificate has no such field (authorization then fails).
 */
int cv_aaa_username(const struct cv_cert *cert, enum cv_subject_field field, char *out,
                    size_t out_len);

/*
 * Applies the answer's AV pairs to the certificate (R43-R46, O-21): appends the manuals' trace
 * events ("reply attribute (...)", "cert-serial doesn't match ...", "parsed cert-lifetime-end
 * as: ...", "cert-lifetime-end is expired", ...) to v, and returns 0 when authorization
 * passes, -1 with failure filled (reason aaa-denied) when it does not.
 * application is the request's application tag ("" for none); tz_offset_min the configured
 * time zone for cert-lifetime-end. *lifetime_end receives the parsed cert-lifetime-end, or
 * CV_TIME_NONE, so that the caller can let it extend an expired certificate (O-21).
 */
int cv_aaa_evaluate(const struct cv_aaa_answer *answer, const struct cv_cert *cert,
                    const char *trustpoint, const char *application, cv_time at, int tz_offset_min,
                    cv_time *lifetime_end, struct cv_verdict *v, struct cv_failure *failure);

/* Counters for displays and tests (added by the AAA helper). */
struct cv_aaa_stats {
	uint64_t queries;          /* cv_aaa_query_start calls that returned an id */
	uint64_t cache_hits;       /* of those, answered from the cache */
	uint64_t backend_requests; /* RADIUS and LDAP requests sent to worker threads */
	size_t cached;             /* answers in the cache now (expired ones included) */
	unsigned in_flight;        /* backend requests running now */
};

void cv_aaa_get_stats(const struct cv_aaa *aaa, struct cv_aaa_stats *out);

#endif
