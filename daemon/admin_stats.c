/*
 * admin_stats.c: the `pubkeys` view and `clear pubkeys` (SPEC R49: the remembered peer
 * signatures), and the statistics: the engine's counters, cache sizes, fetcher counters and
 * expiry notices sent.
 */
#include "../cache/crl_store.h"
#include "../cache/ocsp_cache.h"
#include "../common/log.h"
#include "admin_int.h"

/* The remembered peer keys (R49). */
json_t *
admin_view_pubkeys(struct cv_admin *a, const struct cv_proto_admin_req *req,
                   const struct cv_trustpoint *tp)
{
	struct cv_engine_stats st;

	cv_engine_get_stats(a->engine, &st);
	return json_pack("{s:I, s:I}", "links", (json_int_t)st.links_remembered, "hits",
	                 (json_int_t)st.link_cache_hits);
}

size_t
admin_clear_pubkeys(struct cv_admin *a, const struct cv_trustpoint *tp)
{
	size_t n = cv_engine_clear_links(a->engine);

	cv_log_notice("clear pubkeys: %zu remembered signatures dropped", n);
	return n;
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

/* The verdict cache of seen chains (issue 13). */
static json_t *
verdict_cache_json(const struct cv_vc_stats *vc)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "entries", (json_int_t)vc->entries,
	                 "max_entries", (json_int_t)vc->max_entries, "hits", (json_int_t)vc->hits,
	                 "misses", (json_int_t)vc->misses, "stores", (json_int_t)vc->stores,
	                 "invalidations", (json_int_t)vc->invalidations, "evictions",
	                 (json_int_t)vc->evictions);
}

json_t *
cv_admin_stats(const struct cv_admin *a)
{
	struct cv_engine_stats st;
	size_t n_files = 0;

	cv_engine_get_stats(a->engine, &st);
	cv_engine_foreach_file_crl(a->engine, count_file_crl, &n_files);
	return json_pack("{s:o, s:{s:I, s:I}, s:{s:I}, s:o, s:o, s:I}", "engine",
	                 cv_admin_engine_stats(a->engine), "crl_cache", "entries",
	                 (json_int_t)cv_crl_store_count(cv_engine_crl_store(a->engine)),
	                 "file_crls", (json_int_t)n_files, "ocsp_cache", "entries",
	                 (json_int_t)cv_ocsp_cache_count(cv_engine_ocsp_cache(a->engine)),
	                 "verdict_cache", verdict_cache_json(&st.verdict_cache), "fetch",
	                 admin_fetch_stats_json(cv_engine_fetcher(a->engine)),
	                 "expiry_notices_sent", (json_int_t)admin_expiry_sent(a->expiry));
}
