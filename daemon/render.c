/*
 * render.c: a verify reply rendered from a copy of its verdict (see render.h), exactly as the
 * loop rendered it before: the verdict as far as the detail asks, in {"id","ok","verdict"}.
 */
#include "render.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../ipc/protocol.h"

/* A copy of n elements of size bytes at src (NULL for none); false when out of memory. */
static bool
dup_array(void **dst, const void *src, size_t n, size_t size)
{
	*dst = NULL;
	if (n == 0)
		return true;
	*dst = malloc(n * size);
	if (*dst == NULL)
		return false;
	memcpy(*dst, src, n * size);
	return true;
}

/* The verdict without the arrays its detail does not show (they are not rendered). */
static bool
copy_verdict(struct cv_verdict *dst, const struct cv_verdict *src, enum cv_verdict_detail detail)
{
	const bool lists = detail != CV_VERDICT_DETAIL_VERDICT;
	const bool trace = detail == CV_VERDICT_DETAIL_TRACE;

	*dst = *src;
	dst->path = NULL;
	dst->evidence = NULL;
	dst->trace = NULL;
	dst->n_path = lists ? src->n_path : 0;
	dst->n_evidence = lists ? src->n_evidence : 0;
	dst->n_trace = dst->trace_cap = trace ? src->n_trace : 0;
	return dup_array((void **)&dst->path, src->path, dst->n_path, sizeof(*src->path)) &&
	       dup_array((void **)&dst->evidence, src->evidence, dst->n_evidence,
	                 sizeof(*src->evidence)) &&
	       dup_array((void **)&dst->trace, src->trace, dst->n_trace, sizeof(*src->trace));
}

struct cv_render *
cv_render_new(const struct cv_verdict *verdict, json_t *id, enum cv_verdict_detail detail,
              void *owner)
{
	struct cv_render *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	if (!copy_verdict(&r->verdict, verdict, detail)) {
		cv_render_free(r);
		return NULL;
	}
	r->id = json_incref(id);
	r->detail = detail;
	r->owner = owner;
	return r;
}

void
cv_render_run(void *job)
{
	struct cv_render *r = job;
	json_t *resp = cv_proto_verdict(r->id, &r->verdict, r->detail);

	r->text = resp != NULL ? cv_proto_encode(resp, &r->len) : NULL;
	json_decref(resp);
}

void
cv_render_free(void *job)
{
	struct cv_render *r = job;

	if (r == NULL)
		return;
	cv_verdict_free(&r->verdict);
	json_decref(r->id);
	free(r->text);
	free(r);
}
