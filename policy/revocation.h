/*
 * revocation.h: the revocation methods of `revocation-check` (SPEC R12, R13) as one table. A
 * method is one row, a struct cv_rev_method defined in its own file (revocation_crl.c,
 * revocation_ocsp.c, revocation_none.c) and listed in revocation.c's table; the configuration
 * parser, its dump, the verdict's evidence and the administrator views read the names from
 * here. Adding a method is one new file and one row.
 */
#ifndef CV_REVOCATION_H
#define CV_REVOCATION_H

#include <stdbool.h>
#include <stddef.h>

struct cv_engine;
struct verify_job;

struct cv_rev_method {
	const char *name;    /* the keyword of revocation-check, and the evidence's method */
	bool must_be_last;   /* accepts without an answer: no method may follow it (`none`) */
	const char *revoked; /* the verdict's message when this method finds the cert revoked */
	/* Checks job->rev.cert and reports once through rev_method_done (engine_int.h). */
	void (*start)(struct verify_job *job);
	/* Drops what the method gathered for the job's current certificate; NULL when nothing. */
	void (*cancel)(struct verify_job *job);
	/* At engine shutdown, after the jobs are freed: what the method shares between jobs. */
	void (*shutdown)(struct cv_engine *engine);
};

/* The table (revocation.c): rows 0 .. cv_rev_method_count() - 1. */
size_t cv_rev_method_count(void);
const struct cv_rev_method *cv_rev_method_at(size_t i);
/* The method of that exact name, or NULL. */
const struct cv_rev_method *cv_rev_method_find(const char *name);

#endif
