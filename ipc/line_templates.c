/*
 * line_templates.c: verify request lines read as a line read before but for the text of their
 * first certificate (see line_templates.h for why such a line reads the same). A few templates
 * under one lock, the oldest replaced first.
 */
#include "line_templates.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"

#define TEXT_MIN 4 /* characters of the first certificate's text, at least */

struct template
{
	char *prefix; /* REST up to and with the quote that opens "chain"[0] */
	size_t prefix_len;
	char *suffix; /* REST from the quote that closes it */
	size_t suffix_len;
	json_t *root; /* what jansson read from the line (a copy of its own) */
};

struct cv_line_templates {
	pthread_mutex_t lock;
	uint64_t hits;  /* under lock */
	size_t n, next; /* under lock: templates kept, the slot replaced next */
	struct template *v[CV_LINE_TEMPLATES_MAX]; /* under lock */
};

struct cv_line_templates *
cv_line_templates_new(void)
{
	struct cv_line_templates *t = calloc(1, sizeof(*t));

	if (t != NULL)
		pthread_mutex_init(&t->lock, NULL);
	return t;
}

static void
template_free(struct template *e)
{
	if (e == NULL)
		return;
	free(e->prefix);
	free(e->suffix);
	json_decref(e->root);
	free(e);
}

void
cv_line_templates_free(struct cv_line_templates *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		template_free(t->v[i]);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* Only the characters of base64 (RFC 4648 section 4), padding included: none is special to
 * JSON inside a string. */
static bool
base64_text(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!cv_base64_char(s[i]))
			return false;
	return len > 0;
}

/* The JSON integer N: at most CV_SEEN_LINE_ID_MAX digits, so it fits (seen_lines.h). */
static json_t *
id_of(const struct cv_seen_line_form *form)
{
	json_int_t n = 0;

	for (size_t i = 0; i < form->id_len; i++)
		n = n * 10 + (form->id[i] - '0');
	return json_integer(n);
}

static bool
fits(const struct template *e, const char *rest, size_t rest_len)
{
	return rest_len > e->prefix_len + e->suffix_len &&
	       memcmp(rest, e->prefix, e->prefix_len) == 0 &&
	       memcmp(rest + rest_len - e->suffix_len, e->suffix, e->suffix_len) == 0 &&
	       base64_text(rest + e->prefix_len, rest_len - e->prefix_len - e->suffix_len);
}

/* The copy of a template's object (taken over) with line's id and first certificate; NULL when
 * out of memory. */
static json_t *
fill(json_t *root, const struct cv_seen_line_form *form, const char *text, size_t len)
{
	json_t *chain = json_object_get(root, "chain");

	if (json_object_set_new(root, "id", id_of(form)) != 0 ||
	    json_array_set_new(chain, 0, json_stringn_nocheck(text, len)) != 0) {
		json_decref(root);
		return NULL;
	}
	return root;
}

json_t *
cv_line_templates_read(struct cv_line_templates *t, const struct cv_seen_line_form *form)
{
	const char *rest = form->rest;
	const size_t rest_len = form->rest_len;
	size_t prefix_len = 0, suffix_len = 0;
	json_t *root = NULL;

	if (t == NULL)
		return NULL;
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->n && root == NULL; i++) {
		const struct template *e = t->v[i];

		if (!fits(e, rest, rest_len))
			continue;
		root = json_deep_copy(e->root);
		prefix_len = e->prefix_len;
		suffix_len = e->suffix_len;
		t->hits += root != NULL;
	}
	pthread_mutex_unlock(&t->lock);
	if (root == NULL)
		return NULL;
	return fill(root, form, rest + prefix_len, rest_len - prefix_len - suffix_len);
}

/* Where line's first certificate's text is its own bytes, once, between quotes (see
 * line_templates.h); NULL when no template can be made of the line. */
static const char *
first_text(const char *rest, size_t rest_len, const json_t *root, size_t *text_len)
{
	const json_t *first = json_array_get(json_object_get(root, "chain"), 0);
	const char *text = json_string_value(first);
	const size_t n = json_string_length(first);
	const char *at;

	if (text == NULL || n < TEXT_MIN || !base64_text(text, n) ||
	    memchr(rest, '\\', rest_len) != NULL)
		return NULL;
	at = memmem(rest, rest_len, text, n);
	if (at == NULL || at == rest || at[-1] != '"' || (size_t)(at - rest) + n >= rest_len ||
	    at[n] != '"' || memmem(at + 1, rest_len - (size_t)(at + 1 - rest), text, n) != NULL)
		return NULL;
	*text_len = n;
	return at;
}

static struct template *
template_new(const char *rest, size_t rest_len, const char *at, size_t text_len, const json_t *root)
{
	struct template *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->prefix_len = (size_t)(at - rest);
	e->suffix_len = rest_len - e->prefix_len - text_len;
	e->prefix = malloc(e->prefix_len);
	e->suffix = malloc(e->suffix_len);
	e->root = json_deep_copy(root);
	if (e->prefix == NULL || e->suffix == NULL || e->root == NULL) {
		template_free(e);
		return NULL;
	}
	memcpy(e->prefix, rest, e->prefix_len);
	memcpy(e->suffix, at + text_len, e->suffix_len);
	return e;
}

static bool
same(const struct template *a, const struct template *b)
{
	return a->prefix_len == b->prefix_len && a->suffix_len == b->suffix_len &&
	       memcmp(a->prefix, b->prefix, a->prefix_len) == 0 &&
	       memcmp(a->suffix, b->suffix, a->suffix_len) == 0;
}

void
cv_line_templates_note(struct cv_line_templates *t, const struct cv_seen_line_form *form,
                       const json_t *root)
{
	size_t text_len;
	const char *at = t != NULL ? first_text(form->rest, form->rest_len, root, &text_len) : NULL;
	struct template *e;

	if (at == NULL ||
	    (e = template_new(form->rest, form->rest_len, at, text_len, root)) == NULL)
		return;
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->n && e != NULL; i++)
		if (same(t->v[i], e)) {
			template_free(e);
			e = NULL;
		}
	if (e != NULL) {
		if (t->n < CV_LINE_TEMPLATES_MAX) {
			t->v[t->n++] = e;
		} else {
			template_free(t->v[t->next]);
			t->v[t->next] = e;
			t->next = (t->next + 1) % CV_LINE_TEMPLATES_MAX;
		}
	}
	pthread_mutex_unlock(&t->lock);
}

void
cv_line_templates_counts(struct cv_line_templates *t, uint64_t *hits, size_t *kept)
{
	pthread_mutex_lock(&t->lock);
	*hits = t->hits;
	*kept = t->n;
	pthread_mutex_unlock(&t->lock);
}
