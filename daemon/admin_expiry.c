/*
 * admin_expiry.c: the expiry notices of trustpoint CA certificates (SPEC R57, R58, O-24): what
 * was last sent per (trustpoint, certificate), the timer that sends the next one, and the
 * expiry as the views show it. The slots and the text are policy/expiry.c's.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <gnutls/gnutls.h>

#include "../common/log.h"
#include "../common/util.h"
#include "../policy/expiry.h"
#include "admin_int.h"
#include "events.h"
#include "../ipc/verdict_json.h"

#define NOTICE_RECHECK_MAX 3600 /* seconds between expiry checks at the most */
#define FINGERPRINT_MAX    (2 * 64 + 1)

/* What was last sent for one CA certificate of one trustpoint. */
struct notice_state {
	char trustpoint[CV_LABEL_MAX];
	char fingerprint[FINGERPRINT_MAX]; /* SHA-256 of the certificate */
	cv_time last_slot;                 /* slot of the last notice, CV_TIME_NONE: none yet */
	cv_time last_sent;
	enum cv_expiry_mode last_mode;
	bool seen; /* still configured at the last check */
};

struct admin_expiry {
	struct cv_engine *engine;
	struct cv_events *events; /* "ca-expiring" subscribers, or NULL */
	struct event *timer;
	struct notice_state *notices;
	size_t n_notices;
	size_t cap_notices;
	uint64_t sent;
};

static struct notice_state *
notice_find(const struct admin_expiry *x, const char *tp, const char *fingerprint)
{
	for (size_t i = 0; i < x->n_notices; i++)
		if (strcmp(x->notices[i].trustpoint, tp) == 0 &&
		    strcmp(x->notices[i].fingerprint, fingerprint) == 0)
			return &x->notices[i];
	return NULL;
}

/* The state of (tp, cert), created when new; NULL when out of memory. */
static struct notice_state *
notice_get(struct admin_expiry *x, const char *tp, const struct cv_cert *cert)
{
	char fp[FINGERPRINT_MAX];
	struct notice_state *st;

	if (cv_cert_fingerprint(cert, GNUTLS_DIG_SHA256, fp, sizeof(fp)) != 0)
		return NULL;
	st = notice_find(x, tp, fp);
	if (st != NULL)
		return st;
	if (x->n_notices == x->cap_notices) {
		size_t cap = x->cap_notices != 0 ? 2 * x->cap_notices : 16;
		struct notice_state *grown = realloc(x->notices, cap * sizeof(*grown));

		if (grown == NULL)
			return NULL;
		x->notices = grown;
		x->cap_notices = cap;
	}
	st = &x->notices[x->n_notices++];
	memset(st, 0, sizeof(*st));
	cv_strlcpy(st->trustpoint, tp, sizeof(st->trustpoint));
	cv_strlcpy(st->fingerprint, fp, sizeof(st->fingerprint));
	st->last_slot = CV_TIME_NONE;
	st->last_sent = CV_TIME_NONE;
	return st;
}

/* The state of (tp, cert) without creating it. */
static const struct notice_state *
notice_peek(const struct admin_expiry *x, const char *tp, const struct cv_cert *cert)
{
	char fp[FINGERPRINT_MAX];

	if (cv_cert_fingerprint(cert, GNUTLS_DIG_SHA256, fp, sizeof(fp)) != 0)
		return NULL;
	return notice_find(x, tp, fp);
}

static void
notice_send(struct admin_expiry *x, const char *tp, const struct cv_cert *cert,
            enum cv_expiry_mode mode, cv_time now)
{
	struct cv_expiry_notice n = {tp,
	                             "CA",
	                             cv_cert_serial(cert),
	                             cv_cert_issuer(cert),
	                             cv_cert_subject(cert),
	                             cv_cert_not_after(cert)};
	char line[1024];

	if (cv_expiry_format(mode, &n, now, line, sizeof(line)) < 0) {
		cv_log_warning("expiry notice for trustpoint %s could not be formatted in full: %s",
		               tp, line);
		return;
	}
	/* log.h has no alert level: the alert goes out at the highest one it has */
	cv_log(mode == CV_EXPIRY_ALERT ? CV_LOG_ERR : CV_LOG_WARNING, "%s", line);
	x->sent++;
	if (x->events != NULL) {
		char when[CV_TIME_TEXT_MAX];

		cv_events_ca_expiring(x->events, tp, n.subject, n.serial,
		                      cv_time_format_iso(n.not_after, when),
		                      mode == CV_EXPIRY_ALERT ? "alert" : "warning");
	}
}

/* Checks one certificate; returns the time of its next notice slot. */
static cv_time
notice_check_cert(struct admin_expiry *x, const char *tp, const struct cv_cert *cert, cv_time now)
{
	struct notice_state *st = notice_get(x, tp, cert);
	cv_time na = cv_cert_not_after(cert), slot;
	enum cv_expiry_mode mode;

	if (st == NULL)
		return CV_TIME_NONE;
	st->seen = true;
	mode = cv_expiry_due(na, now, st->last_slot, &slot);
	if (mode != CV_EXPIRY_NONE) {
		notice_send(x, tp, cert, mode, now);
		st->last_slot = slot;
		st->last_sent = now;
		st->last_mode = mode;
	}
	return cv_expiry_next(na, now);
}

static void
notice_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	admin_expiry_check(arg);
}

void
admin_expiry_check(struct admin_expiry *x)
{
	const struct cv_config *cfg = cv_engine_config(x->engine);
	cv_time now = cv_engine_now(x->engine), next = CV_TIME_NONE;
	struct timeval tv = {NOTICE_RECHECK_MAX, 0};
	size_t kept = 0;

	for (size_t i = 0; i < x->n_notices; i++)
		x->notices[i].seen = false;
	/* trustpoints only: trustpool certificates have no notices (R5) */
	for (size_t i = 0; i < cfg->n_trustpoints; i++) {
		const struct cv_trustpoint *tp = &cfg->trustpoints[i];

		for (size_t k = 0; k < tp->ca_certs.n; k++) {
			cv_time t = notice_check_cert(x, tp->name, tp->ca_certs.v[k], now);

			if (t != CV_TIME_NONE && (next == CV_TIME_NONE || t < next))
				next = t;
		}
	}
	for (size_t i = 0; i < x->n_notices; i++)
		if (x->notices[i].seen)
			x->notices[kept++] = x->notices[i];
	x->n_notices = kept;
	if (next != CV_TIME_NONE && next - now < NOTICE_RECHECK_MAX)
		tv.tv_sec = next - now > 0 ? (time_t)(next - now) : 1;
	evtimer_add(x->timer, &tv);
}

json_t *
admin_expiry_json(const struct admin_expiry *x, const char *tp, const struct cv_cert *cert,
                  cv_time now)
{
	const struct notice_state *st = notice_peek(x, tp, cert);
	cv_time na = cv_cert_not_after(cert);
	json_t *last = json_null();

	if (st != NULL && st->last_sent != CV_TIME_NONE)
		last =
		    json_pack("{s:s, s:o, s:o}", "mode", cv_expiry_mode_name(st->last_mode), "at",
		              cv_json_time(st->last_sent), "slot", cv_json_time(st->last_slot));
	return json_pack("{s:I, s:I, s:s, s:o, s:o?}", "seconds_left", (json_int_t)(na - now),
	                 "days_left", (json_int_t)((na - now) / 86400), "mode",
	                 cv_expiry_mode_name(cv_expiry_slot(na, now, NULL)), "next_notice",
	                 cv_json_time(cv_expiry_next(na, now)), "last_notice", last);
}

uint64_t
admin_expiry_sent(const struct admin_expiry *x)
{
	return x->sent;
}

struct admin_expiry *
admin_expiry_new(struct event_base *base, struct cv_engine *engine)
{
	struct admin_expiry *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return NULL;
	x->engine = engine;
	x->timer = evtimer_new(base, notice_timer_cb, x);
	if (x->timer == NULL) {
		free(x);
		return NULL;
	}
	return x;
}

void
admin_expiry_free(struct admin_expiry *x)
{
	if (x == NULL)
		return;
	event_free(x->timer);
	free(x->notices);
	free(x);
}

void
admin_expiry_set_events(struct admin_expiry *x, struct cv_events *events)
{
	x->events = events;
}
