/*
 * admin_crls.c: the `crls` view and `clear crls` (SPEC R50, O-5, D-6): the cached CRLs with
 * their source, trustpoint and deadline, and the CRLs of `crl file` commands, from the CRL
 * store and the engine's file CRLs.
 */
#include <stdio.h>
#include <string.h>

#include "../cache/crl_store.h"
#include "../common/log.h"
#include "../validator/crl/crl.h"
#include "../validator/fetch/fetch.h"
#include "../validator/name.h"
#include "admin_int.h"
#include "../ipc/verdict_json.h"

#define ISSUER_TEXT_MAX 1024

const char *
admin_crl_cache_mode(const struct cv_config *cfg, const char *tp_name, char *buf, size_t size)
{
	const struct cv_trustpoint *tp =
	    tp_name != NULL ? cv_config_trustpoint(cfg, tp_name) : NULL;
	const struct cv_rev_settings *rev = tp != NULL ? &tp->rev : &cfg->trustpool.rev;

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

/* The CRL's issuer as RFC 4514 text, or null. */
static json_t *
issuer_json(const struct cv_crl_info *info)
{
	char dn[ISSUER_TEXT_MAX];

	if (cv_name_text(info->issuer, info->issuer_len, dn, sizeof(dn)) != 0)
		return json_null();
	return admin_jstr(dn);
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
	return json_pack("{s:o, s:o, s:o, s:s?, s:I, s:I, s:I, s:b}", "issuer", issuer_json(info),
	                 "this_update", cv_json_time(info->this_update), "next_update",
	                 cv_json_time(info->next_update), "crl_number",
	                 number[0] != '\0' ? number : NULL, "entries",
	                 (json_int_t)cv_crl_entries(crl), "bytes", (json_int_t)der_len, "memory",
	                 (json_int_t)cv_crl_memory(crl), "delta", cv_crl_is_delta(crl));
}

struct crl_walk {
	const struct cv_engine *engine;
	const struct cv_config *cfg;
	const char *trustpoint; /* filter, or NULL */
	json_t *arr;
};

/* Issue 16: when the next refresh may start, the server's freshness, and failed refreshes
 * (stale: the CRL in use is the last good one, kept until it expires). */
static json_t *
refresh_json(const struct cv_engine *engine, const struct cv_crl_store_entry *e)
{
	struct cv_crl_refresh_info ri;

	cv_engine_crl_refresh_info(engine, e, &ri);
	return json_pack("{s:o, s:o, s:b, s:I, s:o, s:o}", "due", cv_json_time(ri.due),
	                 "fresh_until", cv_json_time(ri.fresh_until), "stale", ri.failures > 0,
	                 "failures", (json_int_t)ri.failures, "next_retry",
	                 cv_json_time(ri.next_retry), "last_error",
	                 ri.last_error[0] != '\0' ? json_string(ri.last_error) : json_null());
}

static void
cached_crl(const struct cv_crl_store_entry *e, void *arg)
{
	struct crl_walk *w = arg;
	const char *warning = NULL;
	char cache_mode[48];
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
	json_object_set_new(o, "source", admin_jstr(e->source));
	json_object_set_new(
	    o, "url", strncmp(e->source, "file:", 5) != 0 ? admin_jstr(e->source) : json_null());
	json_object_set_new(o, "trustpoint", admin_jstr(e->trustpoint));
	json_object_set_new(o, "fetched_at", cv_json_time(e->fetched_at));
	json_object_set_new(o, "expires", cv_json_time(e->expires));
	json_object_set_new(o, "delete_after", json_boolean(e->delete_after));
	json_object_set_new(o, "cache_policy",
	                    admin_jstr(admin_crl_cache_mode(w->cfg, e->trustpoint, cache_mode,
	                                                    sizeof(cache_mode))));
	json_object_set_new(o, "warning", admin_jstr(warning));
	json_object_set_new(o, "refresh", refresh_json(w->engine, e));
	json_array_append_new(w->arr, o);
}

/* The names of the trustpoints (and "trustpool") whose `crl file` is path. */
static json_t *
file_crl_users(const struct cv_config *cfg, const char *path, const char *only, bool *match)
{
	json_t *arr = json_array();

	*match = only == NULL;
	for (size_t i = 0; arr != NULL && i <= cfg->n_trustpoints; i++) {
		const struct cv_rev_settings *rev =
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
	json_object_set_new(o, "source", admin_jstr(source));
	json_object_set_new(o, "path", admin_jstr(path));
	json_object_set_new(o, "trustpoints", users != NULL ? users : json_array());
	json_object_set_new(o, "expires",
	                    crl != NULL ? cv_json_time(cv_crl_get_info(crl)->next_update)
	                                : json_null());
	json_object_set_new(o, "error", crl == NULL ? admin_jstr(error) : json_null());
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

json_t *
admin_view_crls(struct cv_admin *a, const struct cv_proto_admin_req *req,
                const struct cv_trustpoint *tp)
{
	struct crl_walk w = {a->engine, cv_engine_config(a->engine), tp != NULL ? tp->name : NULL,
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

size_t
admin_clear_crls(struct cv_admin *a, const struct cv_trustpoint *tp)
{
	struct cv_fetcher *f = cv_engine_fetcher(a->engine);
	size_t n = cv_crl_store_clear(cv_engine_crl_store(a->engine), tp != NULL ? tp->name : NULL);

	if (f != NULL)
		cv_fetcher_clear_negative(f); /* the next request fetches at once */
	cv_log_notice("clear crls%s%s: %zu cached CRLs dropped", tp != NULL ? " " : "",
	              tp != NULL ? tp->name : "", n);
	return n;
}
