/*
 * events.h: revocation events pushed to subscribed clients (issue 16). A client sends
 * {"op":"subscribe"} on its connection, for every event, for one trustpoint, or for a list
 * of certificates (issuer and serial) it holds sessions for; from then on certvald writes
 * event lines on that connection: a certificate that a newly stored CRL shows revoked, a
 * cached CRL that became unusable, a trustpoint CA certificate that expires.
 *
 * Each subscriber has a bounded queue: events wait there while the connection's output is
 * above its low-water mark, and when the queue is full the oldest event is dropped and the
 * subscriber is told how many it lost ({"event":"lost","count":N}) before the next one. A
 * subscriber that stops reading therefore costs a fixed amount of memory.
 */
#ifndef CV_EVENTS_H
#define CV_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "../common/error.h"

#define CV_EVENTS_SUBSCRIBERS_MAX 128  /* subscriptions per daemon */
#define CV_EVENTS_PER_UID_MAX     16   /* subscriptions per client user (administrators: any) */
#define CV_EVENTS_CERTS_MAX       4096 /* certificates in one subscription */
#define CV_EVENTS_QUEUE_DEFAULT   256  /* events queued per subscriber */
#define CV_EVENTS_QUEUE_MAX       4096
#define CV_EVENTS_NEW_MAX         4096 /* newly revoked entries reported per CRL */

struct cv_engine;
struct cv_events;
struct cv_subscription;

/* How the events module writes to one connection (daemon/server.c). */
struct cv_subscriber_io {
	bool (*has_room)(void *conn);                   /* output below its low-water mark */
	void (*write)(void *conn, const json_t *event); /* may close the connection */
};

/* Listens to the engine's CRL store. NULL when out of memory. */
struct cv_events *cv_events_new(struct cv_engine *engine);
void cv_events_free(struct cv_events *ev); /* the subscriptions must be gone */

/*
 * A subscribe request ({"op":"subscribe", "trustpoint":TP | "certificates":[...],
 * "queue":N}) for a connection of user uid. Returns the subscription, or NULL with err set
 * (and *limit true when a limit, not the request, refused it).
 */
struct cv_subscription *cv_events_subscribe(struct cv_events *ev, const json_t *req, uid_t uid,
                                            bool admin, const struct cv_subscriber_io *io,
                                            void *conn, bool *limit, struct cv_error *err);
/* What a subscription covers, for the reply: {"scope":..., "queue":N, ...}. */
json_t *cv_subscription_json(const struct cv_subscription *sub);
void cv_events_unsubscribe(struct cv_subscription *sub);

/* The connection's output has drained: write what is queued while there is room. */
void cv_events_flush(struct cv_subscription *sub);

/* Events that do not come from the CRL store. */
/* event "crl-stale" (refreshes fail, the last good CRL is still used) or "crl-unusable". */
void cv_events_crl_notice(struct cv_events *ev, const char *event, const char *trustpoint,
                          const char *source, const char *why);
void cv_events_ca_expiring(struct cv_events *ev, const char *trustpoint, const char *subject,
                           const char *serial, const char *not_after, const char *mode);

struct cv_events_stats {
	size_t subscribers;
	unsigned long long sent, lost;
};
void cv_events_get_stats(const struct cv_events *ev, struct cv_events_stats *out);

#endif
