/*
 * admin_ocsp.c: the `ocsp` view and `clear ocsp`: the OCSP answers in the engine's cache, with
 * their status, times and signer (SPEC R28; cleared per O-3).
 */
#include "../cache/ocsp_cache.h"
#include "../common/log.h"
#include "../validator/ocsp/ocsp.h"
#include "admin_int.h"
#include "../ipc/verdict_json.h"

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

json_t *
admin_view_ocsp(struct cv_admin *a, const struct cv_proto_admin_req *req,
                const struct cv_trustpoint *tp)
{
	json_t *arr = json_array();

	if (arr == NULL)
		return NULL;
	cv_ocsp_cache_foreach(cv_engine_ocsp_cache(a->engine), ocsp_answer, arr);
	return json_pack("{s:o, s:o}", "now", cv_json_time(cv_engine_now(a->engine)), "answers",
	                 arr);
}

size_t
admin_clear_ocsp(struct cv_admin *a, const struct cv_trustpoint *tp)
{
	size_t n = cv_ocsp_cache_clear(cv_engine_ocsp_cache(a->engine));

	cv_log_notice("clear ocsp: %zu cached answers dropped", n);
	return n;
}
