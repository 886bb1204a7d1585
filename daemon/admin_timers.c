/*
 * admin_timers.c: the `timers` view (SPEC R51): what will happen next, soonest first: cached
 * CRLs reaching their deadline and the next expiry notice of each trustpoint CA certificate.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../cache/crl_store.h"
#include "../common/util.h"
#include "../policy/expiry.h"
#include "admin_int.h"
#include "../ipc/verdict_json.h"

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

json_t *
admin_view_timers(struct cv_admin *a, const struct cv_proto_admin_req *req,
                  const struct cv_trustpoint *tp)
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
