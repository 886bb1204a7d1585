/*
 * admin.c: the daemon's administrator views and actions (show, clear, stats) as JSON, and the
 * timer that logs the expiry notices of trustpoint CA certificates (SPEC R50-R58, O-3, O-24).
 */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../cache/crl.h"
#include "../cache/crl_store.h"
#include "../cache/ocsp_cache.h"
#include "../common/log.h"
#include "../common/util.h"
#include "../policy/expiry.h"
#include "../validator/der.h"
#include "../validator/fetch/fetch.h"
#include "../validator/ocsp/ocsp.h"
#include "verdict_json.h"

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

struct cv_admin {
	struct event_base *base;
	struct cv_engine *engine;
	struct event *timer;
	struct notice_state *notices;
	size_t n_notices;
	size_t cap_notices;
	uint64_t notices_sent;
};

/* ---- small JSON helpers ---- */

static json_t *
jstr(const char *s)
{
	json_t *j = s != NULL ? json_string(s) : NULL;

	return j != NULL ? j : json_null();
}

/* RFC 4514 text of a DER Name, or null. */
static json_t *
dn_text(const uint8_t *der, size_t len)
{
	gnutls_datum_t in = {(unsigned char *)der, (unsigned int)len}, out = {NULL, 0};
	json_t *j = NULL;

	if (der != NULL && gnutls_x509_rdn_get2(&in, &out, 0) >= 0)
		j = json_stringn((const char *)out.data, out.size);
	gnutls_free(out.data);
	return j != NULL ? j : json_null();
}

/* The RDNs of an RFC 4514 name, one string each (the manuals print one per line). */
static json_t *
rdn_lines(const char *dn)
{
	json_t *arr = json_array();
	const char *start = dn;

	for (const char *p = dn; arr != NULL && dn[0] != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p != ',' && *p != '\0')
			continue;
		json_array_append_new(arr, json_stringn(start, (size_t)(p - start)));
		if (*p == '\0')
			break;
		start = p + 1;
	}
	return arr;
}

static void
set_error(enum cv_proto_code *code, enum cv_proto_code value, struct cv_error *err, const char *msg)
{
	*code = value;
	cv_error_set(err, "%s", msg);
}

/* The trustpoint named in a request, or NULL with an error when it does not exist. */
static int
request_trustpoint(const struct cv_config *cfg, const struct cv_proto_admin_req *req,
                   const struct cv_trustpoint **tp, enum cv_proto_code *code, struct cv_error *err)
{
	*tp = NULL;
	if (req->trustpoint[0] == '\0')
		return 0;
	*tp = cv_config_trustpoint(cfg, req->trustpoint);
	if (*tp != NULL)
		return 0;
	*code = CV_PROTO_BAD_REQUEST;
	cv_error_set(err, "no trustpoint \"%s\" in the running configuration", req->trustpoint);
	return -1;
}

/* ---- CRLs (R50, O-5, D-6) ---- */

static const char *
cache_policy(const struct cv_config *cfg, const char *tp_name, char *buf, size_t size)
{
	const struct cv_trustpoint *tp =
	    tp_name != NULL ? cv_config_trustpoint(cfg, tp_name) : NULL;
	const struct cv_rev_policy *rev = tp != NULL ? &tp->rev : &cfg->trustpool.rev;

	switch (rev->crl_cache) {
	case CV_CRL_CACHE_NONE:
		return "none";
	case CV_CRL_CACHE_DELETE_AFTER:
		snprintf(buf, size, "delete-after %u", rev->crl_delete_after_min);
		return buf;
	default:
		return "next-update";
	}
}

/* What every CRL shows: issuer, times, number, entries, size. */
static json_t *
crl_json(const struct cv_crl *crl)
{
	const struct cv_crl_info *info = cv_crl_get_info(crl);
	char number[64];
	size_t der_len = 0;

	(void)cv_crl_der(crl, &der_len);
	cv_crl_number_hex(crl, number, sizeof(number));
	return json_pack("{s:o, s:o, s:o, s:s?, s:I, s:I, s:I, s:b}", "issuer",
	                 dn_text(info->issuer, info->issuer_len), "this_update",
	                 cv_json_time(info->this_update), "next_update",
	                 cv_json_time(info->next_update), "crl_number",
	                 number[0] != '\0' ? number : NULL, "entries",
	                 (json_int_t)cv_crl_entries(crl), "bytes", (json_int_t)der_len, "memory",
	                 (json_int_t)cv_crl_memory(crl), "delta", cv_crl_is_delta(crl));
}

struct crl_walk {
	const struct cv_config *cfg;
	const char *trustpoint; /* filter, or NULL */
	json_t *arr;
};

static void
cached_crl(const struct cv_crl_store_entry *e, void *arg)
{
	struct crl_walk *w = arg;
	const char *warning = NULL;
	char policy[48];
	json_t *o;

	if (w->trustpoint != NULL && strcmp(w->trustpoint, e->trustpoint) != 0)
		return;
	o = crl_json(e->crl);
	if (o == NULL)
		return;
	if (cv_crl_get_info(e->crl)->next_update == CV_TIME_NONE)
		warning =
		    e->expires == CV_TIME_NONE
		        ? "the CRL has no nextUpdate: kept until cleared, a manual request or "
		          "a restart without cache-dir (D-6)"
		        : "the CRL has no nextUpdate: kept until the delete-after deadline";
	json_object_set_new(o, "kind", json_string("cache"));
	json_object_set_new(o, "source", jstr(e->source));
	json_object_set_new(o, "url",
	                    strncmp(e->source, "file:", 5) != 0 ? jstr(e->source) : json_null());
	json_object_set_new(o, "trustpoint", jstr(e->trustpoint));
	json_object_set_new(o, "fetched_at", cv_json_time(e->fetched_at));
	json_object_set_new(o, "expires", cv_json_time(e->expires));
	json_object_set_new(o, "delete_after", json_boolean(e->delete_after));
	json_object_set_new(o, "cache_policy",
	                    jstr(cache_policy(w->cfg, e->trustpoint, policy, sizeof(policy))));
	json_object_set_new(o, "warning", jstr(warning));
	json_array_append_new(w->arr, o);
}

/* The names of the trustpoints (and "trustpool") whose `crl file` is path. */
static json_t *
file_crl_users(const struct cv_config *cfg, const char *path, const char *only, bool *match)
{
	json_t *arr = json_array();

	*match = only == NULL;
	for (size_t i = 0; arr != NULL && i <= cfg->n_trustpoints; i++) {
		const struct cv_rev_policy *rev =
		    i < cfg->n_trustpoints ? &cfg->trustpoints[i].rev : &cfg->trustpool.rev;
		const char *name = i < cfg->n_trustpoints ? cfg->trustpoints[i].name : "trustpool";

		for (size_t k = 0; k < rev->n_crl_files; k++) {
			if (strcmp(rev->crl_files[k], path) != 0)
				continue;
			json_array_append_new(arr, json_string(name));
			if (only != NULL && strcmp(only, name) == 0)
				*match = true;
			break;
		}
	}
	return arr;
}

static void
file_crl(const char *path, const struct cv_crl *crl, const char *error, void *arg)
{
	struct crl_walk *w = arg;
	char source[CV_URL_MAX];
	bool match;
	json_t *users = file_crl_users(w->cfg, path, w->trustpoint, &match), *o;

	if (!match) {
		json_decref(users);
		return;
	}
	o = crl != NULL ? crl_json(crl) : json_object();
	if (o == NULL) {
		json_decref(users);
		return;
	}
	snprintf(source, sizeof(source), "file:%s", path);
	json_object_set_new(o, "kind", json_string("file"));
	json_object_set_new(o, "source", jstr(source));
	json_object_set_new(o, "path", jstr(path));
	json_object_set_new(o, "trustpoints", users != NULL ? users : json_array());
	json_object_set_new(o, "expires",
	                    crl != NULL ? cv_json_time(cv_crl_get_info(crl)->next_update)
	                                : json_null());
	json_object_set_new(o, "error", crl == NULL ? jstr(error) : json_null());
	json_object_set_new(o, "warning",
	                    crl != NULL && cv_crl_get_info(crl)->next_update == CV_TIME_NONE
	                        ? json_string("the CRL has no nextUpdate")
	                        : json_null());
	json_array_append_new(w->arr, o);
}

/* The cache files found damaged or that could not be written (D-4), latest last. */
static json_t *
cache_problems_json(const struct cv_crl_store *store)
{
	const struct cv_crl_store_problem *list;
	size_t n;
	const size_t total = cv_crl_store_problems(store, &list, &n);
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < n; i++)
		json_array_append_new(
		    arr, json_pack("{s:s, s:s}", "file", list[i].file, "problem", list[i].problem));
	return json_pack("{s:I, s:o}", "total", (json_int_t)total, "latest",
	                 arr != NULL ? arr : json_array());
}

static json_t *
show_crls(struct cv_admin *a, const struct cv_trustpoint *tp)
{
	struct crl_walk w = {cv_engine_config(a->engine), tp != NULL ? tp->name : NULL,
	                     json_array()};
	struct cv_crl_store *store = cv_engine_crl_store(a->engine);

	if (w.arr == NULL)
		return NULL;
	(void)cv_crl_store_expire(store, cv_engine_now(a->engine));
	cv_crl_store_foreach(store, cached_crl, &w);
	cv_engine_foreach_file_crl(a->engine, file_crl, &w);
	return json_pack("{s:o, s:o, s:o}", "now", cv_json_time(cv_engine_now(a->engine)), "crls",
	                 w.arr, "cache_problems", cache_problems_json(store));
}

/* ---- OCSP answers ---- */

static void
ocsp_answer(const struct cv_ocsp_answer *ans, void *arg)
{
	json_t *o = json_pack(
	    "{s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:s?, s:o, s:o, s:o}", "url",
	    cv_json_text(ans->url), "subject", cv_json_text(ans->subject), "serial",
	    cv_json_text(ans->serial), "status",
	    cv_ocsp_status_name((enum cv_ocsp_status)ans->status), "produced_at",
	    cv_json_time(ans->produced_at), "this_update", cv_json_time(ans->this_update),
	    "next_update", cv_json_time(ans->next_update), "valid_until",
	    cv_json_time(ans->valid_until), "revoked_at", cv_json_time(ans->revoked_at),
	    "revocation_reason",
	    ans->status == CV_OCSP_STATUS_REVOKED ? cv_ocsp_reason_name(ans->revocation_reason)
	                                          : NULL,
	    "signer", cv_json_text(ans->signer), "stored_at", cv_json_time(ans->stored_at),
	    "last_used", cv_json_time(ans->last_used));

	if (o != NULL)
		json_array_append_new(arg, o);
}

static json_t *
show_ocsp(struct cv_admin *a)
{
	json_t *arr = json_array();

	if (arr == NULL)
		return NULL;
	cv_ocsp_cache_foreach(cv_engine_ocsp_cache(a->engine), ocsp_answer, arr);
	return json_pack("{s:o, s:o}", "now", cv_json_time(cv_engine_now(a->engine)), "answers",
	                 arr);
}

/* ---- fetcher ---- */

static json_t *
fetch_stats_json(const struct cv_fetcher *f)
{
	struct cv_fetcher_stats st;

	if (f == NULL)
		return json_null();
	cv_fetcher_get_stats(f, &st);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "started",
	                 (json_int_t)st.started, "transfers", (json_int_t)st.transfers, "coalesced",
	                 (json_int_t)st.coalesced, "completed", (json_int_t)st.completed, "failed",
	                 (json_int_t)st.failed, "negative_hits", (json_int_t)st.negative_hits,
	                 "bytes", (json_int_t)st.bytes, "in_flight", (json_int_t)st.in_flight);
}

static void
fetch_url(const struct cv_fetch_url_info *info, void *arg)
{
	json_t *o = json_pack("{s:o, s:s, s:o?, s:I, s:I, s:I, s:o, s:o}", "url",
	                      cv_json_text(info->url), "state", info->state, "last_error",
	                      info->last_error[0] != '\0' ? cv_json_text(info->last_error) : NULL,
	                      "latency_ms", (json_int_t)info->last_latency_ms, "successes",
	                      (json_int_t)info->successes, "failures", (json_int_t)info->failures,
	                      "last_attempt", cv_json_time(info->last_attempt), "next_retry",
	                      cv_json_time(info->next_retry));

	if (o != NULL)
		json_array_append_new(arg, o);
}

static json_t *
show_fetch(struct cv_admin *a)
{
	const struct cv_fetcher *f = cv_engine_fetcher(a->engine);
	json_t *arr = json_array();

	if (arr == NULL)
		return NULL;
	if (f != NULL)
		cv_fetcher_foreach_url(f, fetch_url, arr);
	return json_pack("{s:o, s:o, s:o}", "now", cv_json_time(cv_engine_now(a->engine)), "urls",
	                 arr, "stats", fetch_stats_json(f));
}

/* ---- expiry notices (R57, R58, O-24) ---- */

static struct notice_state *
notice_find(struct cv_admin *a, const char *tp, const char *fingerprint)
{
	for (size_t i = 0; i < a->n_notices; i++)
		if (strcmp(a->notices[i].trustpoint, tp) == 0 &&
		    strcmp(a->notices[i].fingerprint, fingerprint) == 0)
			return &a->notices[i];
	return NULL;
}

/* The state of (tp, cert), created when new; NULL when out of memory. */
static struct notice_state *
notice_get(struct cv_admin *a, const char *tp, const struct cv_cert *cert)
{
	char fp[FINGERPRINT_MAX];
	struct notice_state *st;

	if (cv_cert_fingerprint(cert, GNUTLS_DIG_SHA256, fp, sizeof(fp)) != 0)
		return NULL;
	st = notice_find(a, tp, fp);
	if (st != NULL)
		return st;
	if (a->n_notices == a->cap_notices) {
		size_t cap = a->cap_notices != 0 ? 2 * a->cap_notices : 16;
		struct notice_state *grown = realloc(a->notices, cap * sizeof(*grown));

		if (grown == NULL)
			return NULL;
		a->notices = grown;
		a->cap_notices = cap;
	}
	st = &a->notices[a->n_notices++];
	memset(st, 0, sizeof(*st));
	cv_strlcpy(st->trustpoint, tp, sizeof(st->trustpoint));
	cv_strlcpy(st->fingerprint, fp, sizeof(st->fingerprint));
	st->last_slot = CV_TIME_NONE;
	st->last_sent = CV_TIME_NONE;
	return st;
}

/* The state of (tp, cert) without creating it. */
static const struct notice_state *
notice_peek(struct cv_admin *a, const char *tp, const struct cv_cert *cert)
{
	char fp[FINGERPRINT_MAX];

	if (cv_cert_fingerprint(cert, GNUTLS_DIG_SHA256, fp, sizeof(fp)) != 0)
		return NULL;
	return notice_find(a, tp, fp);
}

static void
notice_send(struct cv_admin *a, const char *tp, const struct cv_cert *cert,
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
	a->notices_sent++;
}

/* Checks one certificate; returns the time of its next notice slot. */
static cv_time
notice_check_cert(struct cv_admin *a, const char *tp, const struct cv_cert *cert, cv_time now)
{
	struct notice_state *st = notice_get(a, tp, cert);
	cv_time na = cv_cert_not_after(cert), slot;
	enum cv_expiry_mode mode;

	if (st == NULL)
		return CV_TIME_NONE;
	st->seen = true;
	mode = cv_expiry_due(na, now, st->last_slot, &slot);
	if (mode != CV_EXPIRY_NONE) {
		notice_send(a, tp, cert, mode, now);
		st->last_slot = slot;
		st->last_sent = now;
		st->last_mode = mode;
	}
	return cv_expiry_next(na, now);
}

static void
notice_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	cv_admin_check_expiry(arg);
}

void
cv_admin_check_expiry(struct cv_admin *a)
{
	const struct cv_config *cfg = cv_engine_config(a->engine);
	cv_time now = cv_engine_now(a->engine), next = CV_TIME_NONE;
	struct timeval tv = {NOTICE_RECHECK_MAX, 0};
	size_t kept = 0;

	for (size_t i = 0; i < a->n_notices; i++)
		a->notices[i].seen = false;
	/* trustpoints only: trustpool certificates have no notices (R5) */
	for (size_t i = 0; i < cfg->n_trustpoints; i++) {
		const struct cv_trustpoint *tp = &cfg->trustpoints[i];

		for (size_t k = 0; k < tp->ca_certs.n; k++) {
			cv_time t = notice_check_cert(a, tp->name, tp->ca_certs.v[k], now);

			if (t != CV_TIME_NONE && (next == CV_TIME_NONE || t < next))
				next = t;
		}
	}
	for (size_t i = 0; i < a->n_notices; i++)
		if (a->notices[i].seen)
			a->notices[kept++] = a->notices[i];
	a->n_notices = kept;
	if (next != CV_TIME_NONE && next - now < NOTICE_RECHECK_MAX)
		tv.tv_sec = next - now > 0 ? (time_t)(next - now) : 1;
	evtimer_add(a->timer, &tv);
}

static json_t *
notice_json(struct cv_admin *a, const char *tp, const struct cv_cert *cert, cv_time now)
{
	const struct notice_state *st = notice_peek(a, tp, cert);
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

/* ---- trustpoints (R52) ---- */

static json_t *
fingerprint(const struct cv_cert *cert, gnutls_digest_algorithm_t algo)
{
	char fp[FINGERPRINT_MAX];

	if (cv_cert_fingerprint(cert, algo, fp, sizeof(fp)) != 0)
		return json_null();
	return jstr(fp);
}

/* What every view of a CA certificate shows. */
static json_t *
ca_cert_json(struct cv_admin *a, const char *tp, const struct cv_cert *cert, cv_time now)
{
	return json_pack(
	    "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "subject",
	    cv_json_text(cv_cert_subject(cert)), "subject_rdns", rdn_lines(cv_cert_subject(cert)),
	    "issuer", cv_json_text(cv_cert_issuer(cert)), "issuer_rdns",
	    rdn_lines(cv_cert_issuer(cert)), "serial", cv_json_text(cv_cert_serial(cert)),
	    "not_before", cv_json_time(cv_cert_not_before(cert)), "not_after",
	    cv_json_time(cv_cert_not_after(cert)), "fingerprint_md5",
	    fingerprint(cert, GNUTLS_DIG_MD5), "fingerprint_sha1",
	    fingerprint(cert, GNUTLS_DIG_SHA1), "fingerprint_sha256",
	    fingerprint(cert, GNUTLS_DIG_SHA256), "expiry", notice_json(a, tp, cert, now));
}

static json_t *
methods_json(const struct cv_rev_policy *rev)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < rev->n_methods; i++)
		json_array_append_new(arr, json_string(cv_rev_method_name(rev->methods[i])));
	return arr;
}

static json_t *
trustpoint_json(struct cv_admin *a, const struct cv_config *cfg, const struct cv_trustpoint *tp,
                cv_time now)
{
	json_t *certs = json_array(), *o;
	char policy[48];

	for (size_t i = 0; certs != NULL && i < tp->ca_certs.n; i++)
		json_array_append_new(certs, ca_cert_json(a, tp->name, tp->ca_certs.v[i], now));
	o = json_pack("{s:s, s:b, s:b, s:s?, s:s?, s:s?, s:o, s:s?, s:s?, s:s, s:s, s:o}", "name",
	              tp->name, "primary", tp->primary, "authenticated", tp->authenticated,
	              "auth_error", tp->auth_error[0] != '\0' ? tp->auth_error : NULL,
	              "ca_certificate_path", tp->ca_cert_path, "fingerprint_configured",
	              tp->fingerprint, "revocation", methods_json(&tp->rev), "crl_query_url",
	              tp->rev.crl_query_url, "ocsp_url", tp->rev.ocsp_url, "crl_cache",
	              cache_policy(cfg, tp->name, policy, sizeof(policy)), "chain_validation",
	              tp->rev.chain == CV_CHAIN_STOP ? "stop" : "continue", "certificates", certs);
	return o;
}

static json_t *
show_trustpoints(struct cv_admin *a, const struct cv_trustpoint *only, bool status)
{
	const struct cv_config *cfg = cv_engine_config(a->engine);
	cv_time now = cv_engine_now(a->engine);
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < cfg->n_trustpoints; i++) {
		if (only != NULL && only != &cfg->trustpoints[i])
			continue;
		json_array_append_new(arr, trustpoint_json(a, cfg, &cfg->trustpoints[i], now));
	}
	if (arr == NULL)
		return NULL;
	return json_pack("{s:o, s:b, s:o, s:I}", "now", cv_json_time(now), "status", status,
	                 "trustpoints", arr, "trustpool_certificates",
	                 (json_int_t)cfg->trustpool.ca_certs.n);
}

/* ---- timers (R51) ---- */

static int
timer_cmp(const void *x, const void *y)
{
	json_int_t a = json_integer_value(json_object_get(*(json_t *const *)x, "remaining_ms"));
	json_int_t b = json_integer_value(json_object_get(*(json_t *const *)y, "remaining_ms"));

	return a < b ? -1 : a > b;
}

struct timer_walk {
	cv_time now;
	json_t *arr;
};

static void
crl_timer(const struct cv_crl_store_entry *e, void *arg)
{
	struct timer_walk *w = arg;
	json_t *o;

	if (e->expires == CV_TIME_NONE || e->expires < w->now)
		return;
	o = json_pack("{s:I, s:s, s:o, s:s, s:o}", "remaining_ms",
	              (json_int_t)(e->expires - w->now) * 1000, "type", "CRL", "object",
	              cv_json_text(e->source), "trustpoint", e->trustpoint, "at",
	              cv_json_time(e->expires));
	if (o != NULL)
		json_array_append_new(w->arr, o);
}

static void
notice_timers(const struct cv_config *cfg, struct timer_walk *w)
{
	for (size_t i = 0; i < cfg->n_trustpoints; i++) {
		const struct cv_trustpoint *tp = &cfg->trustpoints[i];

		for (size_t k = 0; k < tp->ca_certs.n; k++) {
			const struct cv_cert *cert = tp->ca_certs.v[k];
			cv_time next = cv_expiry_next(cv_cert_not_after(cert), w->now);
			char serial[160], object[256];
			json_t *o;

			if (next == CV_TIME_NONE)
				continue;
			if (cv_expiry_format_serial(cv_cert_serial(cert), serial, sizeof(serial)) !=
			    0)
				cv_strlcpy(serial, cv_cert_serial(cert), sizeof(serial));
			snprintf(object, sizeof(object), "%s %s", tp->name, serial);
			o = json_pack("{s:I, s:s, s:s, s:s, s:o}", "remaining_ms",
			              (json_int_t)(next - w->now) * 1000, "type", "EXPIRY-NOTICE",
			              "object", object, "trustpoint", tp->name, "at",
			              cv_json_time(next));
			if (o != NULL)
				json_array_append_new(w->arr, o);
		}
	}
}

static json_t *
show_timers(struct cv_admin *a)
{
	struct cv_crl_store *store = cv_engine_crl_store(a->engine);
	struct timer_walk w = {cv_engine_now(a->engine), json_array()};
	json_t **v, *sorted, *e;
	size_t n, i;

	if (w.arr == NULL)
		return NULL;
	(void)cv_crl_store_expire(store, w.now);
	cv_crl_store_foreach(store, crl_timer, &w);
	notice_timers(cv_engine_config(a->engine), &w);
	n = json_array_size(w.arr);
	v = calloc(n + 1, sizeof(*v));
	sorted = json_array();
	if (v == NULL || sorted == NULL) {
		free(v);
		json_decref(sorted);
		json_decref(w.arr);
		return NULL;
	}
	json_array_foreach(w.arr, i, e) v[i] = e;
	qsort(v, n, sizeof(*v), timer_cmp);
	for (i = 0; i < n; i++)
		json_array_append(sorted, v[i]);
	free(v);
	json_decref(w.arr);
	return json_pack("{s:o, s:o}", "now", cv_json_time(w.now), "timers", sorted);
}

/* ---- running configuration ---- */

/*
 * The running configuration as `show running-config` shows it: the secrets are left out by the
 * dump itself (cv_config_dump_redacted), since the socket's administrators need not be allowed to
 * read the configuration file.
 */
static json_t *
show_running_config(struct cv_admin *a)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_t *o = NULL;
	int rc;

	if (f == NULL)
		return NULL;
	rc = cv_config_dump_redacted(cv_engine_config(a->engine), f);
	if (fclose(f) == 0 && rc == 0 && text != NULL)
		o = json_pack("{s:s}", "text", text);
	free(text);
	return o;
}

/* ---- certificates (R53) ---- */

static json_t *
key_usage_json(const struct cv_cert *cert)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} bits[] = {
	    {CV_KU_DIGITAL_SIGNATURE, "Digital Signature"},
	    {CV_KU_NON_REPUDIATION, "Non Repudiation"},
	    {CV_KU_KEY_ENCIPHERMENT, "Key Encipherment"},
	    {CV_KU_DATA_ENCIPHERMENT, "Data Encipherment"},
	    {CV_KU_KEY_AGREEMENT, "Key Agreement"},
	    {CV_KU_KEY_CERT_SIGN, "Key Cert Sign"},
	    {CV_KU_CRL_SIGN, "CRL Signature"},
	    {CV_KU_ENCIPHER_ONLY, "Encipher Only"},
	    {CV_KU_DECIPHER_ONLY, "Decipher Only"},
	};
	const struct cv_cert_ku *ku = cv_cert_key_usage(cert);
	uint32_t octets = 0;
	char hex[16];
	json_t *arr;

	if (!ku->present)
		return json_null();
	arr = json_array();
	for (size_t i = 0; arr != NULL && i < CV_ARRAY_LEN(bits); i++)
		if (ku->bits & bits[i].bit)
			json_array_append_new(arr, json_string(bits[i].name));
	/* the BIT STRING as the manuals print it: named bit n is bit 31-n of the word */
	for (unsigned n = 0; n < 9; n++)
		if (ku->bits & (1u << n))
			octets |= 0x80000000u >> n;
	snprintf(hex, sizeof(hex), "%08X", octets);
	return json_pack("{s:s, s:o, s:b}", "hex", hex, "names", arr != NULL ? arr : json_array(),
	                 "critical", ku->critical);
}

/* The URIs among the fullNames of the certificate's distribution points. */
static json_t *
crl_dps_json(const struct cv_cert *cert)
{
	const struct cv_cert_dps *dps = cv_cert_crl_dps(cert);
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < dps->n; i++) {
		struct cv_asn1 names;
		struct cv_asn1_elem name;

		if (dps->v[i].kind != CV_CERT_DP_FULL_NAME)
			continue;
		cv_asn1_init(&names, dps->v[i].names, dps->v[i].names_len);
		while (!cv_asn1_empty(&names) && cv_asn1_next(&names, &name) == 0)
			if (name.tag == CV_ASN1_CTX(6))
				json_array_append_new(
				    arr, json_stringn((const char *)name.val, name.len));
	}
	return arr;
}

static json_t *
key_id_json(const uint8_t *id, size_t len)
{
	char hex[2 * 64 + 1];

	if (id == NULL || len > 64)
		return json_null();
	cv_hex_encode(id, len, hex);
	return jstr(hex);
}

static void
aia_add(json_t *arr, const char *method, const struct cv_cert_uri *uri)
{
	json_t *o = json_pack("{s:s, s:s%}", "method", method, "uri", uri->p, uri->len);

	if (o != NULL)
		json_array_append_new(arr, o);
}

/* OCSP locations first, then CA Issuers, each in certificate order. */
static json_t *
aia_json(const struct cv_cert *cert)
{
	const struct cv_cert_aia *aia = cv_cert_aia(cert);
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < aia->n_ocsp; i++)
		aia_add(arr, "OCSP", &aia->ocsp[i]);
	for (size_t i = 0; arr != NULL && i < aia->n_ca_issuers; i++)
		aia_add(arr, "CA Issuers", &aia->ca_issuers[i]);
	return arr;
}

/* The verbose fields of R53. */
static void
cert_verbose(json_t *o, const struct cv_cert *cert)
{
	const struct cv_cert_bc *bc = cv_cert_basic_constraints(cert);
	const struct cv_cert_ski *ski = cv_cert_ski(cert);
	const struct cv_cert_aki *aki = cv_cert_aki(cert);

	json_object_set_new(o, "version", json_integer(cv_cert_version(cert)));
	json_object_set_new(o, "public_key_algorithm", jstr(cv_cert_key_algorithm_name(cert)));
	json_object_set_new(o, "public_key_bits", json_integer(cv_cert_public_key(cert)->bits));
	json_object_set_new(o, "signature_algorithm", jstr(cv_cert_signature_algorithm_name(cert)));
	json_object_set_new(o, "subject_key_id",
	                    ski->present ? key_id_json(ski->key_id, ski->key_id_len) : json_null());
	json_object_set_new(o, "authority_key_id", key_id_json(aki->key_id, aki->key_id_len));
	json_object_set_new(o, "basic_constraints",
	                    !bc->present
	                        ? json_null()
	                        : json_pack("{s:b, s:i}", "ca", bc->ca, "path_len", bc->path_len));
	json_object_set_new(o, "authority_info_access", aia_json(cert));
}

static json_t *
associated(const struct cv_config *cfg, const struct cv_cert *cert)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < cfg->n_trustpoints; i++)
		for (size_t k = 0; k < cfg->trustpoints[i].ca_certs.n; k++)
			if (cv_cert_equal(cfg->trustpoints[i].ca_certs.v[k], cert)) {
				json_array_append_new(arr, json_string(cfg->trustpoints[i].name));
				break;
			}
	return arr;
}

static json_t *
certificate_json(struct cv_admin *a, const struct cv_config *cfg, const char *tp,
                 const struct cv_cert *cert, bool verbose, cv_time now)
{
	json_t *o = ca_cert_json(a, tp, cert, now);

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "status", json_string("Available"));
	json_object_set_new(o, "key_usage", key_usage_json(cert));
	json_object_set_new(o, "crl_distribution_points", crl_dps_json(cert));
	json_object_set_new(o, "associated_trustpoints", associated(cfg, cert));
	if (verbose)
		cert_verbose(o, cert);
	return o;
}

/* Each authenticated trustpoint's CA certificates, once each (R53). */
static json_t *
show_certificates(struct cv_admin *a, const struct cv_trustpoint *only, bool verbose)
{
	const struct cv_config *cfg = cv_engine_config(a->engine);
	cv_time now = cv_engine_now(a->engine);
	json_t *arr = json_array();
	size_t j;
	json_t *e;

	for (size_t i = 0; arr != NULL && i < cfg->n_trustpoints; i++) {
		const struct cv_trustpoint *tp = &cfg->trustpoints[i];

		if ((only != NULL && only != tp) || !tp->authenticated)
			continue;
		for (size_t k = 0; k < tp->ca_certs.n; k++) {
			const char *fp_new;
			json_t *o =
			    certificate_json(a, cfg, tp->name, tp->ca_certs.v[k], verbose, now);
			bool dup = false;

			if (o == NULL)
				continue;
			fp_new = json_string_value(json_object_get(o, "fingerprint_sha256"));
			json_array_foreach(arr, j, e)
			{
				const char *fp =
				    json_string_value(json_object_get(e, "fingerprint_sha256"));

				if (fp != NULL && fp_new != NULL && strcmp(fp, fp_new) == 0)
					dup = true;
			}
			if (dup)
				json_decref(o);
			else
				json_array_append_new(arr, o);
		}
	}
	if (arr == NULL)
		return NULL;
	return json_pack("{s:b, s:o}", "verbose", verbose, "certificates", arr);
}

/* ---- the operations: one table of views for show, one for clear ---- */

/* A show view: the object for the request; tp is the request's trustpoint, or NULL. */
typedef json_t *(*show_view)(struct cv_admin *a, const struct cv_proto_admin_req *req,
                             const struct cv_trustpoint *tp);

static json_t *
view_crls(struct cv_admin *a, const struct cv_proto_admin_req *req, const struct cv_trustpoint *tp)
{
	return show_crls(a, tp);
}

static json_t *
view_ocsp(struct cv_admin *a, const struct cv_proto_admin_req *req, const struct cv_trustpoint *tp)
{
	return show_ocsp(a);
}

static json_t *
view_fetch(struct cv_admin *a, const struct cv_proto_admin_req *req, const struct cv_trustpoint *tp)
{
	return show_fetch(a);
}

static json_t *
view_trustpoints(struct cv_admin *a, const struct cv_proto_admin_req *req,
                 const struct cv_trustpoint *tp)
{
	return show_trustpoints(a, tp, req->status);
}

static json_t *
view_timers(struct cv_admin *a, const struct cv_proto_admin_req *req,
            const struct cv_trustpoint *tp)
{
	return show_timers(a);
}

static json_t *
view_running_config(struct cv_admin *a, const struct cv_proto_admin_req *req,
                    const struct cv_trustpoint *tp)
{
	return show_running_config(a);
}

static json_t *
view_certificates(struct cv_admin *a, const struct cv_proto_admin_req *req,
                  const struct cv_trustpoint *tp)
{
	return show_certificates(a, tp, req->verbose);
}

/* The remembered peer keys (R49). */
static json_t *
view_pubkeys(struct cv_admin *a, const struct cv_proto_admin_req *req,
             const struct cv_trustpoint *tp)
{
	struct cv_engine_stats st;

	cv_engine_get_stats(a->engine, &st);
	return json_pack("{s:I, s:I}", "links", (json_int_t)st.links_remembered, "hits",
	                 (json_int_t)st.link_cache_hits);
}

static const show_view show_views[] = {
    [CV_VIEW_CRLS] = view_crls,
    [CV_VIEW_OCSP] = view_ocsp,
    [CV_VIEW_FETCH] = view_fetch,
    [CV_VIEW_TRUSTPOINTS] = view_trustpoints,
    [CV_VIEW_TIMERS] = view_timers,
    [CV_VIEW_RUNNING_CONFIG] = view_running_config,
    [CV_VIEW_CERTIFICATES] = view_certificates,
    [CV_VIEW_PUBKEYS] = view_pubkeys,
};

_Static_assert(CV_ARRAY_LEN(show_views) == CV_VIEW_COUNT, "a view without its show function");

/* A clear action: drops what the view shows and returns how many entries. */
typedef size_t (*clear_view)(struct cv_admin *a, const struct cv_trustpoint *tp);

static size_t
clear_crls(struct cv_admin *a, const struct cv_trustpoint *tp)
{
	struct cv_fetcher *f = cv_engine_fetcher(a->engine);
	size_t n = cv_crl_store_clear(cv_engine_crl_store(a->engine), tp != NULL ? tp->name : NULL);

	if (f != NULL)
		cv_fetcher_clear_negative(f); /* the next request fetches at once */
	cv_log_notice("clear crls%s%s: %zu cached CRLs dropped", tp != NULL ? " " : "",
	              tp != NULL ? tp->name : "", n);
	return n;
}

static size_t
clear_ocsp(struct cv_admin *a, const struct cv_trustpoint *tp)
{
	size_t n = cv_ocsp_cache_clear(cv_engine_ocsp_cache(a->engine));

	cv_log_notice("clear ocsp: %zu cached answers dropped", n);
	return n;
}

static size_t
clear_pubkeys(struct cv_admin *a, const struct cv_trustpoint *tp)
{
	size_t n = cv_engine_clear_links(a->engine);

	cv_log_notice("clear pubkeys: %zu remembered signatures dropped", n);
	return n;
}

/* NULL: the view cannot be cleared (protocol.c refuses the request before). */
static const clear_view clear_views[CV_VIEW_COUNT] = {
    [CV_VIEW_CRLS] = clear_crls,
    [CV_VIEW_OCSP] = clear_ocsp,
    [CV_VIEW_PUBKEYS] = clear_pubkeys,
};

json_t *
cv_admin_show(struct cv_admin *a, const struct cv_proto_admin_req *req, enum cv_proto_code *code,
              struct cv_error *err)
{
	const struct cv_trustpoint *tp;
	json_t *o;

	if (request_trustpoint(cv_engine_config(a->engine), req, &tp, code, err) != 0)
		return NULL;
	if ((size_t)req->what >= CV_ARRAY_LEN(show_views)) {
		set_error(code, CV_PROTO_BAD_REQUEST, err, "no such view");
		return NULL;
	}
	o = show_views[req->what](a, req, tp);
	if (o != NULL)
		json_object_set_new(o, "what", json_string(cv_proto_view_name(req->what)));
	else
		set_error(code, CV_PROTO_INTERNAL, err, "out of memory building the view");
	return o;
}

json_t *
cv_admin_clear(struct cv_admin *a, const struct cv_proto_admin_req *req, enum cv_proto_code *code,
               struct cv_error *err)
{
	const struct cv_trustpoint *tp;
	size_t n;
	json_t *o;

	if (request_trustpoint(cv_engine_config(a->engine), req, &tp, code, err) != 0)
		return NULL;
	if ((size_t)req->what >= CV_ARRAY_LEN(clear_views) || clear_views[req->what] == NULL) {
		set_error(code, CV_PROTO_BAD_REQUEST, err, "this view cannot be cleared");
		return NULL;
	}
	n = clear_views[req->what](a, tp);
	o = json_pack("{s:s, s:s?, s:I}", "what", cv_proto_view_name(req->what), "trustpoint",
	              tp != NULL ? tp->name : NULL, "cleared", (json_int_t)n);
	if (o == NULL)
		set_error(code, CV_PROTO_INTERNAL, err, "out of memory");
	return o;
}

json_t *
cv_admin_engine_stats(const struct cv_engine *engine)
{
	struct cv_engine_stats st;
	json_t *by_reason = json_object();

	cv_engine_get_stats(engine, &st);
	for (int r = CV_REASON_NONE + 1; by_reason != NULL && r <= CV_REASON_INTERNAL_ERROR; r++)
		json_object_set_new(by_reason, cv_reason_name((enum cv_reason)r),
		                    json_integer((json_int_t)st.reasons[r]));
	return json_pack(
	    "{s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I}", "requests",
	    (json_int_t)st.requests, "accepted", (json_int_t)st.accepted, "rejected",
	    (json_int_t)st.rejected, "failed_open", (json_int_t)st.failed_open, "by_reason",
	    by_reason, "crl_cache_hits", (json_int_t)st.crl_cache_hits, "crl_downloads",
	    (json_int_t)st.crl_downloads, "ocsp_cache_hits", (json_int_t)st.ocsp_cache_hits,
	    "ocsp_queries", (json_int_t)st.ocsp_queries, "link_cache_hits",
	    (json_int_t)st.link_cache_hits, "links_remembered", (json_int_t)st.links_remembered);
}

static void
count_file_crl(const char *path, const struct cv_crl *crl, const char *error, void *arg)
{
	(*(size_t *)arg)++;
}

json_t *
cv_admin_stats(const struct cv_admin *a)
{
	size_t n_files = 0;

	cv_engine_foreach_file_crl(a->engine, count_file_crl, &n_files);
	return json_pack("{s:o, s:{s:I, s:I}, s:{s:I}, s:o, s:I}", "engine",
	                 cv_admin_engine_stats(a->engine), "crl_cache", "entries",
	                 (json_int_t)cv_crl_store_count(cv_engine_crl_store(a->engine)),
	                 "file_crls", (json_int_t)n_files, "ocsp_cache", "entries",
	                 (json_int_t)cv_ocsp_cache_count(cv_engine_ocsp_cache(a->engine)), "fetch",
	                 fetch_stats_json(cv_engine_fetcher(a->engine)), "expiry_notices_sent",
	                 (json_int_t)a->notices_sent);
}

struct cv_admin *
cv_admin_new(struct event_base *base, struct cv_engine *engine)
{
	struct cv_admin *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->base = base;
	a->engine = engine;
	a->timer = evtimer_new(base, notice_timer_cb, a);
	if (a->timer == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

void
cv_admin_free(struct cv_admin *a)
{
	if (a == NULL)
		return;
	event_free(a->timer);
	free(a->notices);
	free(a);
}
