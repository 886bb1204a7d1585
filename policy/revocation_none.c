/*
 * revocation_none.c: the `none` revocation method (SPEC R13, O-12): accepts the certificate
 * without an answer; the verdict says it failed open ("Certificate validated without
 * revocation check"). It must be the last method of a revocation-check list.
 */
#include "../common/util.h"
#include "engine_int.h"

/* The method's name in `revocation-check` and in the evidence (its row, below). */
static const char method_name[] = "none";

static void
none_start(struct verify_job *job)
{
	struct cv_evidence *ev =
	    cv_verdict_add_evidence(&job->verdict, (int)job->rev.cert, method_name);

	if (ev != NULL)
		cv_strlcpy(ev->outcome, "unchecked-none", sizeof(ev->outcome));
	cv_verdict_trace(&job->verdict, "revocation", "cert revocation status unknown.");
	job->rev.any_none = true;
	rev_method_done(job, REV_GOOD);
}

const struct cv_rev_method cv_rev_method_none = {
    .name = method_name,
    .must_be_last = true,
    .revoked = "",
    .start = none_start,
};
