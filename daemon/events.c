/*
 * events.c: the subscriptions of connected clients and the revocation events they get
 * (issue 16): the filters (everything, a trustpoint, a list of certificates), each
 * subscriber's bounded queue, and the events made from a CRL the store has just taken in
 * (a refresh, a download for a request, `crl-request`), from a cached CRL that became
 * unusable, and from a trustpoint CA certificate that expires.
 *
 * A fresh OCSP response that says revoked (validated for a request; answers from the OCSP
 * cache are not news) goes to subscribers of everything, of the trustpoint, and of that
 * certificate (once).
 *
 * A new CRL gives a subscriber of everything or of its trustpoint the entries that the CRL
 * it replaces did not list (nothing on a source's first CRL: that is not news); it gives a
 * subscriber of certificates each of its certificates that the CRL lists, once. Only the
 * CRL's own entries count (an indirect CRL's certificateIssuer entries are not matched).
 * "verified" says whether the CRL's signature was checked with a CA certificate of the
 * trustpoint; a client acting on an unverified event should verify the certificate first.
 */
#include "events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "../cache/crl_store.h"
#include "../common/clock.h"
#include "../common/log.h"
#include "../common/util.h"
#include "../ipc/verdict_json.h"
#include "../policy/config.h"
#include "../policy/engine.h"
#include "../validator/cert.h"
#include "../validator/crl/crl.h"
#include "../validator/name.h"

#define ISSUER_MAX 1024
#define SERIAL_MAX 20 /* RFC 5280 4.1.2.2: at most 20 octets */
#define SERIAL_HEX (2 * SERIAL_MAX + 1)

enum scope { SCOPE_ALL, SCOPE_TRUSTPOINT, SCOPE_CERTS };

static const char *const scope_names[] = {"all", "trustpoint", "certificates"};

/* One certificate a client holds a session for. */
struct sub_cert {
	char *issuer;            /* RFC 4514 text as certval prints names (owned) */
	char serial[SERIAL_HEX]; /* upper-case hex, no leading zeros */
	uint8_t bin[SERIAL_MAX];
	size_t bin_len;
	bool notified; /* its revocation was sent */
};

struct cv_subscription {
	struct cv_events *ev;
	LIST_ENTRY(cv_subscription) link;
	enum scope scope;
	char trustpoint[CV_LABEL_MAX];
	struct sub_cert *certs;
	size_t n_certs;
	json_t **queue; /* ring of cap events, n of them from head */
	size_t cap, head, n;
	unsigned long long lost; /* dropped since the last "lost" event */
	uid_t uid;
	const struct cv_subscriber_io *io;
	void *conn;
};

struct cv_events {
	struct cv_engine *engine;
	LIST_HEAD(, cv_subscription) subs;
	size_t n_subs;
	unsigned long long sent, lost;
};

/* ---- queues ---- */

void
cv_events_flush(struct cv_subscription *sub)
{
	while (sub->n > 0 && sub->io->has_room(sub->conn)) {
		json_t *e;

		if (sub->lost > 0) {
			e = json_pack("{s:s, s:I}", "event", "lost", "count",
			              (json_int_t)sub->lost);
			sub->lost = 0;
		} else {
			e = sub->queue[sub->head];
			sub->queue[sub->head] = NULL;
			sub->head = (sub->head + 1) % sub->cap;
			sub->n--;
			sub->ev->sent++;
		}
		if (e != NULL)
			sub->io->write(sub->conn, e);
		json_decref(e);
	}
}

/* Queues one event (a new reference is taken); a full queue loses its oldest. */
static void
deliver(struct cv_subscription *sub, json_t *e)
{
	if (e == NULL)
		return;
	if (sub->n == sub->cap) {
		json_decref(sub->queue[sub->head]);
		sub->queue[sub->head] = NULL;
		sub->head = (sub->head + 1) % sub->cap;
		sub->n--;
		sub->lost++;
		sub->ev->lost++;
	}
	sub->queue[(sub->head + sub->n) % sub->cap] = json_incref(e);
	sub->n++;
	cv_events_flush(sub);
}

static bool
wants_trustpoint(const struct cv_subscription *sub, const char *tp)
{
	return sub->scope == SCOPE_ALL ||
	       (sub->scope == SCOPE_TRUSTPOINT && strcmp(sub->trustpoint, tp) == 0);
}

/* ---- subscribing ---- */

static int
nibble(char ch)
{
	return ch >= '0' && ch <= '9'   ? ch - '0'
	       : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
	       : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
	                                : -1;
}

/* "0A1B" (any case, leading zeros allowed) into c; -1 when not hex or too long. */
static int
serial_parse(const char *hex, struct sub_cert *c)
{
	size_t len = strlen(hex), n = 0;
	char padded[SERIAL_HEX + 1];

	while (len > 1 && hex[0] == '0') {
		hex++;
		len--;
	}
	if (len == 0 || len > 2 * SERIAL_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (nibble(hex[i]) < 0)
			return -1;
		c->serial[i] = (char)(hex[i] >= 'a' ? hex[i] - 32 : hex[i]);
	}
	c->serial[len] = '\0';
	snprintf(padded, sizeof(padded), "%s%s", len % 2 ? "0" : "", c->serial);
	for (; padded[2 * n] != '\0'; n++)
		c->bin[n] = (uint8_t)(nibble(padded[2 * n]) << 4 | nibble(padded[2 * n + 1]));
	c->bin_len = n;
	return 0;
}

/* One element of "certificates": {"certificate": base64 DER} or {"issuer": DN, "serial": HEX}. */
static int
cert_parse(const json_t *item, struct sub_cert *c, struct cv_error *err)
{
	const json_t *b64 = json_object_get(item, "certificate");
	const char *issuer = json_string_value(json_object_get(item, "issuer"));
	const char *serial = json_string_value(json_object_get(item, "serial"));
	struct cv_cert *cert = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0, len = 0;
	const uint8_t *name;
	char text[ISSUER_MAX];
	int rc = -1;

	if (json_is_string(b64)) {
		if (cv_base64_decode(json_string_value(b64), json_string_length(b64), &der,
		                     &der_len) != 0 ||
		    cv_cert_from_der(der, der_len, &cert, err) != 0) {
			cv_error_set(
			    err, "certificates: \"certificate\" is not a base64 DER certificate");
			goto out;
		}
		name = cv_cert_issuer_der(cert, &len);
		if (cv_name_text(name, len, text, sizeof(text)) != 0 ||
		    serial_parse(cv_cert_serial(cert), c) < 0) {
			cv_error_set(err, "certificates: unusable issuer or serial");
			goto out;
		}
	} else if (issuer != NULL && serial != NULL) {
		if (strlen(issuer) >= sizeof(text) || serial_parse(serial, c) < 0) {
			cv_error_set(err, "certificates: issuer longer than %d or serial not hex",
			             ISSUER_MAX - 1);
			goto out;
		}
		cv_strlcpy(text, issuer, sizeof(text));
	} else {
		cv_error_set(err, "certificates: each element needs \"certificate\" (base64 DER) "
		                  "or \"issuer\" and \"serial\"");
		goto out;
	}
	c->issuer = strdup(text);
	if (c->issuer == NULL)
		cv_error_set(err, "out of memory");
	else
		rc = 0;
out:
	cv_cert_unref(cert);
	free(der);
	return rc;
}

/* The filter and queue size of a request into sub; -1 with err set. */
static int
sub_parse(struct cv_subscription *sub, const json_t *req, const struct cv_config *cfg,
          struct cv_error *err)
{
	const json_t *tp = json_object_get(req, "trustpoint");
	const json_t *certs = json_object_get(req, "certificates");
	const json_t *queue = json_object_get(req, "queue");
	size_t i;
	json_t *item;

	if (queue != NULL && (!json_is_integer(queue) || json_integer_value(queue) < 1 ||
	                      json_integer_value(queue) > CV_EVENTS_QUEUE_MAX)) {
		cv_error_set(err, "\"queue\" must be an integer 1-%d", CV_EVENTS_QUEUE_MAX);
		return -1;
	}
	sub->cap = queue != NULL ? (size_t)json_integer_value(queue) : CV_EVENTS_QUEUE_DEFAULT;
	if (tp != NULL && certs != NULL) {
		cv_error_set(err, "subscribe: \"trustpoint\" or \"certificates\", not both");
		return -1;
	}
	if (tp != NULL) {
		if (!json_is_string(tp) ||
		    cv_config_trustpoint(cfg, json_string_value(tp)) == NULL) {
			cv_error_set(err,
			             "subscribe: \"trustpoint\" must name a configured trustpoint");
			return -1;
		}
		sub->scope = SCOPE_TRUSTPOINT;
		cv_strlcpy(sub->trustpoint, json_string_value(tp), sizeof(sub->trustpoint));
		return 0;
	}
	if (certs == NULL)
		return 0; /* SCOPE_ALL */
	if (!json_is_array(certs) || json_array_size(certs) == 0 ||
	    json_array_size(certs) > CV_EVENTS_CERTS_MAX) {
		cv_error_set(err, "subscribe: \"certificates\" must be an array of 1-%d elements",
		             CV_EVENTS_CERTS_MAX);
		return -1;
	}
	sub->scope = SCOPE_CERTS;
	sub->certs = calloc(json_array_size(certs), sizeof(*sub->certs));
	if (sub->certs == NULL) {
		cv_error_set(err, "out of memory");
		return -1;
	}
	json_array_foreach(certs, i, item)
	{
		if (cert_parse(item, &sub->certs[i], err) < 0)
			return -1;
		sub->n_certs++;
	}
	return 0;
}

static void
sub_free(struct cv_subscription *sub)
{
	for (size_t k = 0; k < sub->n; k++)
		json_decref(sub->queue[(sub->head + k) % sub->cap]);
	free(sub->queue);
	for (size_t i = 0; i < sub->n_certs; i++)
		free(sub->certs[i].issuer);
	free(sub->certs);
	free(sub);
}

static size_t
subs_of_uid(const struct cv_events *ev, uid_t uid)
{
	size_t n = 0;
	const struct cv_subscription *s;

	LIST_FOREACH(s, &ev->subs, link)
	n += s->uid == uid;
	return n;
}

struct cv_subscription *
cv_events_subscribe(struct cv_events *ev, const json_t *req, uid_t uid, bool admin,
                    const struct cv_subscriber_io *io, void *conn, bool *limit,
                    struct cv_error *err)
{
	struct cv_subscription *sub;

	*limit = true;
	if (ev->n_subs >= CV_EVENTS_SUBSCRIBERS_MAX) {
		cv_error_set(err, "subscribe: %d subscriptions already", CV_EVENTS_SUBSCRIBERS_MAX);
		return NULL;
	}
	if (!admin && subs_of_uid(ev, uid) >= CV_EVENTS_PER_UID_MAX) {
		cv_error_set(err, "subscribe: uid %ld has %d subscriptions already", (long)uid,
		             CV_EVENTS_PER_UID_MAX);
		return NULL;
	}
	*limit = false;
	sub = calloc(1, sizeof(*sub));
	if (sub == NULL) {
		cv_error_set(err, "out of memory");
		return NULL;
	}
	if (sub_parse(sub, req, cv_engine_config(ev->engine), err) < 0)
		goto fail;
	sub->queue = calloc(sub->cap, sizeof(*sub->queue));
	if (sub->queue == NULL) {
		cv_error_set(err, "out of memory");
		goto fail;
	}
	sub->ev = ev;
	sub->uid = uid;
	sub->io = io;
	sub->conn = conn;
	LIST_INSERT_HEAD(&ev->subs, sub, link);
	ev->n_subs++;
	return sub;
fail:
	sub_free(sub);
	return NULL;
}

json_t *
cv_subscription_json(const struct cv_subscription *sub)
{
	return json_pack("{s:s, s:s?, s:I, s:I}", "scope", scope_names[sub->scope], "trustpoint",
	                 sub->scope == SCOPE_TRUSTPOINT ? sub->trustpoint : NULL, "certificates",
	                 (json_int_t)sub->n_certs, "queue", (json_int_t)sub->cap);
}

void
cv_events_unsubscribe(struct cv_subscription *sub)
{
	if (sub == NULL)
		return;
	LIST_REMOVE(sub, link);
	sub->ev->n_subs--;
	sub_free(sub);
}

/* ---- events from a new CRL ---- */

/* What every event of one CRL says about it. */
struct crl_facts {
	const char *trustpoint;
	const char *source;
	const struct cv_crl *crl;
	const struct cv_crl *prev;
	char issuer[ISSUER_MAX];
	char number[64];
	bool verified;
	size_t reported; /* newly revoked entries turned into events */
};

/* The CRL's signature, checked with a CA certificate of its trustpoint named as its issuer. */
static bool
crl_verified(const struct cv_engine *engine, const char *tp_name, struct cv_crl *crl)
{
	const struct cv_trustpoint *tp = cv_config_trustpoint(cv_engine_config(engine), tp_name);
	const struct cv_crl_info *info = cv_crl_get_info(crl);
	struct cv_error err = {{0}};

	for (size_t i = 0; tp != NULL && i < tp->ca_certs.n; i++) {
		size_t len = 0;
		const uint8_t *subject = cv_cert_subject_der(tp->ca_certs.v[i], &len);

		if (len == info->issuer_len && memcmp(subject, info->issuer, len) == 0 &&
		    cv_crl_verify_cert(crl, tp->ca_certs.v[i], 0, &err) == 0)
			return true;
	}
	return false;
}

static json_t *
revoked_event(const struct crl_facts *f, const char *serial, cv_time when, int reason)
{
	const struct cv_crl_info *info = cv_crl_get_info(f->crl);
	const bool url = strncmp(f->source, "file:", 5) != 0;

	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:b, s:{s:s, s:s, s:s?, s:s?, s:o, s:o}}",
	                 "event", "revoked", "trustpoint", f->trustpoint, "issuer", f->issuer,
	                 "serial", serial, "reason", cv_crl_reason_name(reason), "revocation_time",
	                 cv_json_time(when), "verified", f->verified, "evidence", "method", "crl",
	                 "source", f->source, "url", url ? f->source : NULL, "crl_number",
	                 f->number[0] != '\0' ? f->number : NULL, "this_update",
	                 cv_json_time(info->this_update), "next_update",
	                 cv_json_time(info->next_update));
}

/* Upper-case hex of a normalised serial, without leading zeros ("0" for zero). */
static void
serial_hex(const uint8_t *serial, size_t len, char out[SERIAL_HEX])
{
	char *p;

	if (len > SERIAL_MAX)
		len = SERIAL_MAX;
	cv_hex_encode(serial, len, out);
	for (p = out; p[0] == '0' && p[1] != '\0'; p++)
		;
	memmove(out, p, strlen(p) + 1);
}

struct new_walk {
	struct crl_facts *facts;
	struct cv_events *ev;
};

/* cv_crl_read callback: an entry the replaced CRL did not list goes to every subscriber of
 * everything or of the trustpoint. */
static int
new_entry(void *arg, const struct cv_crl_entry_view *entry, struct cv_error *err)
{
	struct crl_facts *f = ((struct new_walk *)arg)->facts;
	struct cv_events *ev = ((struct new_walk *)arg)->ev;
	struct cv_crl_entry old;
	struct cv_subscription *sub;
	char serial[SERIAL_HEX];
	json_t *e;

	if (entry->reason == CV_CRL_REASON_REMOVE_FROM_CRL ||
	    cv_crl_lookup(f->prev, NULL, 0, entry->serial, entry->serial_len, &old))
		return 0;
	if (f->reported >= CV_EVENTS_NEW_MAX) {
		cv_error_set(err, "more than %d new entries", CV_EVENTS_NEW_MAX);
		return -1;
	}
	f->reported++;
	serial_hex(entry->serial, entry->serial_len, serial);
	e = revoked_event(f, serial, entry->revocation_date, entry->reason);
	LIST_FOREACH(sub, &ev->subs, link)
	if (wants_trustpoint(sub, f->trustpoint))
		deliver(sub, e);
	json_decref(e);
	return 0;
}

/* Subscribers of certificates: each listed certificate of theirs, once. */
static void
certs_listed(struct cv_events *ev, const struct crl_facts *f)
{
	struct cv_subscription *sub;

	LIST_FOREACH(sub, &ev->subs, link)
	{
		for (size_t i = 0; sub->scope == SCOPE_CERTS && i < sub->n_certs; i++) {
			struct sub_cert *c = &sub->certs[i];
			struct cv_crl_entry entry;
			json_t *e;

			if (c->notified || strcmp(c->issuer, f->issuer) != 0 ||
			    !cv_crl_lookup(f->crl, NULL, 0, c->bin, c->bin_len, &entry) ||
			    !entry.revoked || entry.reason == CV_CRL_REASON_REMOVE_FROM_CRL)
				continue;
			c->notified = true;
			e = revoked_event(f, c->serial, entry.revocation_date, entry.reason);
			deliver(sub, e);
			json_decref(e);
		}
	}
}

static bool
any_wants_trustpoint(const struct cv_events *ev, const char *tp)
{
	const struct cv_subscription *sub;

	LIST_FOREACH(sub, &ev->subs, link)
	if (wants_trustpoint(sub, tp))
		return true;
	return false;
}

/* cv_crl_store_put_fn */
static void
on_crl_stored(const char *source, const char *trustpoint, struct cv_crl *crl,
              const struct cv_crl *prev, void *arg)
{
	struct cv_events *ev = arg;
	const struct cv_crl_info *info = cv_crl_get_info(crl);
	struct crl_facts f = {trustpoint, source, crl, prev, "", "", false, 0};
	struct cv_error err = {{0}};
	size_t der_len = 0;
	const uint8_t *der;
	struct cv_crl_info again;
	struct new_walk walk = {&f, ev};

	if (LIST_EMPTY(&ev->subs) || crl == prev)
		return;
	if (cv_name_text(info->issuer, info->issuer_len, f.issuer, sizeof(f.issuer)) != 0)
		return;
	cv_crl_number_hex(crl, f.number, sizeof(f.number));
	f.verified = crl_verified(ev->engine, trustpoint, crl);
	certs_listed(ev, &f);
	if (prev == NULL || !any_wants_trustpoint(ev, trustpoint))
		return;
	der = cv_crl_der(crl, &der_len);
	if (cv_crl_read(der, der_len, &again, new_entry, &walk, &err) < 0)
		cv_log_warning("revocation events for %s: %s", source, err.msg);
}

/* ---- events from OCSP ---- */

/* cv_engine_revoked_fn: a fresh OCSP response says revoked (its signature was checked). */
static void
on_ocsp_revoked(const struct cv_engine_revocation *r, void *arg)
{
	struct cv_events *ev = arg;
	struct cv_subscription *sub;
	json_t *e;

	if (LIST_EMPTY(&ev->subs))
		return;
	e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:b, s:{s:s, s:s, s:s, s:o}}", "event",
	              "revoked", "trustpoint", r->trustpoint, "issuer", r->issuer, "serial",
	              r->serial, "reason", cv_crl_reason_name(r->reason), "revocation_time",
	              cv_json_time(r->revocation_time), "verified", true, "evidence", "method",
	              "ocsp", "source", r->url, "url", r->url, "produced_at",
	              cv_json_time(r->produced_at));
	LIST_FOREACH(sub, &ev->subs, link)
	{
		if (sub->scope != SCOPE_CERTS) {
			if (wants_trustpoint(sub, r->trustpoint))
				deliver(sub, e);
			continue;
		}
		for (size_t i = 0; i < sub->n_certs; i++) {
			struct sub_cert *c = &sub->certs[i];

			if (!c->notified && strcmp(c->issuer, r->issuer) == 0 &&
			    strcmp(c->serial, r->serial) == 0) {
				c->notified = true;
				deliver(sub, e);
			}
		}
	}
	json_decref(e);
}

/* ---- other events ---- */

static void
broadcast(struct cv_events *ev, const char *trustpoint, json_t *e)
{
	struct cv_subscription *sub;

	LIST_FOREACH(sub, &ev->subs, link)
	if (sub->scope != SCOPE_CERTS && wants_trustpoint(sub, trustpoint))
		deliver(sub, e);
	json_decref(e);
}

void
cv_events_crl_notice(struct cv_events *ev, const char *event, const char *trustpoint,
                     const char *source, const char *why)
{
	if (ev == NULL || LIST_EMPTY(&ev->subs))
		return;
	broadcast(ev, trustpoint,
	          json_pack("{s:s, s:s, s:s, s:s}", "event", event, "trustpoint", trustpoint,
	                    "source", source, "detail", why));
}

/* cv_engine_crl_notice_fn */
static void
on_crl_notice(const char *event, const char *trustpoint, const char *source, const char *why,
              void *arg)
{
	cv_events_crl_notice(arg, event, trustpoint, source, why);
}

void
cv_events_ca_expiring(struct cv_events *ev, const char *trustpoint, const char *subject,
                      const char *serial, const char *not_after, const char *mode)
{
	if (ev == NULL || LIST_EMPTY(&ev->subs))
		return;
	broadcast(ev, trustpoint,
	          json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "event", "ca-expiring", "trustpoint",
	                    trustpoint, "subject", subject, "serial", serial, "not_after",
	                    not_after, "notice", mode));
}

/* ---- the module ---- */

struct cv_events *
cv_events_new(struct cv_engine *engine)
{
	struct cv_events *ev = calloc(1, sizeof(*ev));

	if (ev == NULL)
		return NULL;
	ev->engine = engine;
	LIST_INIT(&ev->subs);
	cv_crl_store_set_listener(cv_engine_crl_store(engine), on_crl_stored, ev);
	cv_engine_set_crl_notice(engine, on_crl_notice, ev);
	cv_engine_set_revoked_fn(engine, on_ocsp_revoked, ev);
	return ev;
}

void
cv_events_free(struct cv_events *ev)
{
	if (ev == NULL)
		return;
	cv_crl_store_set_listener(cv_engine_crl_store(ev->engine), NULL, NULL);
	cv_engine_set_crl_notice(ev->engine, NULL, NULL);
	cv_engine_set_revoked_fn(ev->engine, NULL, NULL);
	while (!LIST_EMPTY(&ev->subs))
		cv_events_unsubscribe(LIST_FIRST(&ev->subs));
	free(ev);
}

void
cv_events_get_stats(const struct cv_events *ev, struct cv_events_stats *out)
{
	out->subscribers = ev->n_subs;
	out->sent = ev->sent;
	out->lost = ev->lost;
}
