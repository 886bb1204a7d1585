/*
 * admin_int.h: what the administrator views share (not for other modules): the
 * administrator state, the JSON helpers, one show function per view (admin_<view>.c) and the
 * expiry notices (admin_expiry.c). admin.c holds the tables that map a request to them.
 */
#ifndef CV_ADMIN_INT_H
#define CV_ADMIN_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "../policy/config.h"
#include "admin.h"

struct admin_expiry;
struct cv_fetcher;

struct cv_admin {
	struct event_base *base;
	struct cv_engine *engine;
	struct admin_expiry *expiry; /* admin_expiry.c */
};

/* ---- JSON helpers (admin.c) ---- */

/* s as a JSON string, or null when s is NULL. */
json_t *admin_jstr(const char *s);
/* The RDNs of an RFC 4514 name, one string each (the manuals print one per line). */
json_t *admin_rdn_lines(const char *dn);
/* The `crl-cache` setting of the trustpoint tp_name (the trustpool when NULL or unknown):
 * "next-update", "none" or "delete-after N", written in buf when it needs one. */
const char *admin_crl_cache_mode(const struct cv_config *cfg, const char *tp_name, char *buf,
                                 size_t size);

/* ---- the views: the object of a show request; tp is the request's trustpoint, or NULL ---- */

json_t *admin_view_crls(struct cv_admin *a, const struct cv_proto_admin_req *req,
                        const struct cv_trustpoint *tp); /* admin_crls.c */
json_t *admin_view_ocsp(struct cv_admin *a, const struct cv_proto_admin_req *req,
                        const struct cv_trustpoint *tp); /* admin_ocsp.c */
json_t *admin_view_fetch(struct cv_admin *a, const struct cv_proto_admin_req *req,
                         const struct cv_trustpoint *tp); /* admin_fetch.c */
json_t *admin_view_trustpoints(struct cv_admin *a, const struct cv_proto_admin_req *req,
                               const struct cv_trustpoint *tp); /* admin_trustpoints.c */
json_t *admin_view_certificates(struct cv_admin *a, const struct cv_proto_admin_req *req,
                                const struct cv_trustpoint *tp); /* admin_certificates.c */
json_t *admin_view_timers(struct cv_admin *a, const struct cv_proto_admin_req *req,
                          const struct cv_trustpoint *tp); /* admin_timers.c */
json_t *admin_view_running_config(struct cv_admin *a, const struct cv_proto_admin_req *req,
                                  const struct cv_trustpoint *tp); /* admin_config.c */
json_t *admin_view_pubkeys(struct cv_admin *a, const struct cv_proto_admin_req *req,
                           const struct cv_trustpoint *tp); /* admin_stats.c */

/* ---- the clear actions: drop what the view shows, return how many entries ---- */

size_t admin_clear_crls(struct cv_admin *a, const struct cv_trustpoint *tp);    /* admin_crls.c */
size_t admin_clear_ocsp(struct cv_admin *a, const struct cv_trustpoint *tp);    /* admin_ocsp.c */
size_t admin_clear_pubkeys(struct cv_admin *a, const struct cv_trustpoint *tp); /* admin_stats.c */
size_t admin_zeroize_pubkey(struct cv_admin *a, unsigned index);                /* admin_stats.c */

/* ---- shared pieces of the views ---- */

/* What every view of a CA certificate of trustpoint tp shows (admin_trustpoints.c). */
json_t *admin_ca_cert_json(struct cv_admin *a, const char *tp, const struct cv_cert *cert,
                           cv_time now);
/* The fetcher's counters, or null without a fetcher (admin_fetch.c). */
json_t *admin_fetch_stats_json(const struct cv_fetcher *f);

/* ---- expiry notices of trustpoint CA certificates (admin_expiry.c; R57, R58, O-24) ---- */

/* The notice state and its timer on base, for the engine's trustpoints. NULL: out of memory. */
struct admin_expiry *admin_expiry_new(struct event_base *base, struct cv_engine *engine);
void admin_expiry_free(struct admin_expiry *x);
/* Sends the notices due now and arms the timer for the next one. */
void admin_expiry_check(struct admin_expiry *x);
struct cv_events;
void admin_expiry_set_events(struct admin_expiry *x, struct cv_events *events);
/* The expiry of (tp, cert) as the views show it: days left, mode, next and last notice. */
json_t *admin_expiry_json(const struct admin_expiry *x, const char *tp, const struct cv_cert *cert,
                          cv_time now);
/* How many notices were sent (stats). */
uint64_t admin_expiry_sent(const struct admin_expiry *x);

#endif
