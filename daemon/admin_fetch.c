/*
 * admin_fetch.c: the `fetch` view: the fetcher's URLs (state, last error, latency, retry) and
 * its counters (the fetch limits are SPEC O-23).
 */
#include "../validator/fetch/fetch.h"
#include "admin_int.h"
#include "../ipc/verdict_json.h"

json_t *
admin_fetch_stats_json(const struct cv_fetcher *f)
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

json_t *
admin_view_fetch(struct cv_admin *a, const struct cv_proto_admin_req *req,
                 const struct cv_trustpoint *tp)
{
	const struct cv_fetcher *f = cv_engine_fetcher(a->engine);
	json_t *arr = json_array();

	if (arr == NULL)
		return NULL;
	if (f != NULL)
		cv_fetcher_foreach_url(f, fetch_url, arr);
	return json_pack("{s:o, s:o, s:o}", "now", cv_json_time(cv_engine_now(a->engine)), "urls",
	                 arr, "stats", admin_fetch_stats_json(f));
}
