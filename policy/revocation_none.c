/*
 * revocation_none.c: the `none` revocation method (SPEC R13, O-12): accepts the certificate
 * without an answer; the verdict says it failed open ("Certificate validated without
 * revocation check"). It must be the last method of a revocation-check list.
 */
#include "../common/util.h"
#include "engine_int.h"

static void
none_start(struct verify_job *job)
{
	struct cv_evidence *ev =
	    cv_verdict_add_evidence(&job->verdict, (int)job->rev.cert, cv_rev_method_none.name);

	if (ev != NULL)
		cv_strlcpy(ev->outcome, "unchecked-none", sizeof(ev->outcome));
	cv_verdict_trace(&job->verdict, "revocation", "cert revocation status unknown.");
	job->rev.any_none = true;
	rev_method_done(job, REV_GOOD);
}

const struct cv_rev_method cv_rev_method_none = {
    .name = "none",
    .must_be_last = true,
    .revoked = "",
    .start = none_start,
};
