/*
 * render.h: the reply to an evaluated verify request rendered off the event loop (issue 13).
 * The engine's verdict is valid only during its callback, so the loop copies it (as far as the
 * request's detail needs) into a render job; a worker thread turns it into the reply's bytes;
 * the loop writes them.
 *
 * What runs where: cv_render_new on the loop; cv_render_run on a worker (or on the loop);
 * cv_render_free on either. The job owns everything it reads: its verdict copy and a reference
 * to the request's id (jansson's reference counts are atomic).
 */
#ifndef CV_RENDER_H
#define CV_RENDER_H

#include <stddef.h>

#include <jansson.h>

#include "../common/verdict.h"
#include "../ipc/verdict_json.h"

struct cv_render {
	struct cv_verdict verdict;     /* a copy; its arrays are the job's */
	json_t *id;                    /* a reference */
	enum cv_verdict_detail detail; /* how much of the verdict the reply carries */
	void *owner;                   /* the loop's: the request in flight */
	char *text;                    /* after run: the reply line, or NULL (out of memory) */
	size_t len;
};

/* On the loop: a job for the reply to the request id with verdict. NULL when out of memory. */
struct cv_render *cv_render_new(const struct cv_verdict *verdict, json_t *id,
                                enum cv_verdict_detail detail, void *owner);

/* Renders text (a worker's run function: takes the job). */
void cv_render_run(void *job);

/* Frees the job (a worker's free_job function); NULL is fine. */
void cv_render_free(void *job);

#endif
