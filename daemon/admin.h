/*
 * admin.h: the daemon's administrator side: JSON views of the engine's state (the views of
 * protocol.h, each in its own file admin_<view>.c, dispatched through one table in admin.c for
 * show and one for clear), the statistics,
 * and the expiry notices of trustpoint CA certificates (R50-R58).
 *
 * The views read the engine through its accessors (policy/engine.h) at the engine's clock;
 * certvalctl turns them into the manuals' text. Access control is the server's job.
 */
#ifndef CV_ADMIN_H
#define CV_ADMIN_H

#include <jansson.h>

#include "../common/error.h"
#include "../policy/engine.h"
#include "../ipc/protocol.h"

struct event_base;
struct cv_admin;

/*
 * Creates the administrator state on the engine's loop (the engine is borrowed and must
 * outlive it). No notice is sent until cv_admin_check_expiry is first called. NULL when out
 * of memory.
 */
struct cv_admin *cv_admin_new(struct event_base *base, struct cv_engine *engine);
void cv_admin_free(struct cv_admin *admin); /* NULL is fine */

/*
 * Logs every expiry notice due now (R57: one per slot and certificate, trustpool excluded),
 * then arms the timer for the next one. Call at start, after a reload and after the clock
 * moved; the timer calls it too.
 */
void cv_admin_check_expiry(struct cv_admin *admin);

/* Issue 16: expiry notices also go to these subscribers as "ca-expiring" events (NULL:
 * none). The events module is borrowed and must outlive the admin state or be unset. */
struct cv_events;
void cv_admin_set_events(struct cv_admin *admin, struct cv_events *events);

/*
 * The object of a show request (new reference), e.g. {"crls":[...]} for CV_VIEW_CRLS. NULL
 * with *code and err set: bad-request for an unknown trustpoint, internal when out of memory.
 */
json_t *cv_admin_show(struct cv_admin *admin, const struct cv_proto_admin_req *req,
                      enum cv_proto_code *code, struct cv_error *err);

/* The same for clear: {"what":..., "trustpoint":..., "cleared":N}. */
json_t *cv_admin_clear(struct cv_admin *admin, const struct cv_proto_admin_req *req,
                       enum cv_proto_code *code, struct cv_error *err);

/* The engine's counters ({"requests",...,"by_reason":{}}), new reference or NULL. */
json_t *cv_admin_engine_stats(const struct cv_engine *engine);

/* Everything stats shows: engine counters, cache sizes, fetcher counters. */
json_t *cv_admin_stats(const struct cv_admin *admin);

#endif
