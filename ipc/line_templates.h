/*
 * line_templates.h: verify request lines that differ from a line read before only in the text
 * of their first certificate (issue 13), read without jansson lexing that text again.
 *
 * A client such as libcertval or an IKE daemon asks about a new peer with the same bytes as
 * before but for its id and the peer's certificate: {"id":N,PREFIX LEAF SUFFIX, where PREFIX
 * ends with the quote that opens "chain"[0] and SUFFIX begins with the quote that closes it.
 * Once such a line has been read in full by jansson, its PREFIX and SUFFIX are kept with what
 * it read (the template). A later line of the form {"id":N,REST whose REST is PREFIX, then a
 * text of base64 characters only (A-Z a-z 0-9 + / =), then SUFFIX, reads as the template with
 * "id" N and "chain"[0] that text:
 *   - JSON reads a string up to the first quote or backslash: a base64 text has neither, and
 *     SUFFIX begins with the closing quote, so the tokens are the template's but for that
 *     string's value, which is the text itself (no escape, no control character, ASCII);
 *   - a template is only kept from a line whose REST has no backslash at all (every string
 *     of it is then its own bytes) and in which the first certificate's text occurs once (so
 *     that occurrence is the token's), between quotes.
 * Nothing here decides anything: the read object goes through the protocol's checks, the
 * certificate through the parser and the validator, as jansson's reading of the line would.
 */
#ifndef CV_LINE_TEMPLATES_H
#define CV_LINE_TEMPLATES_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "seen_lines.h"

#define CV_LINE_TEMPLATES_MAX 16 /* templates kept (a newer one replaces the oldest) */

struct cv_line_templates;

struct cv_line_templates *cv_line_templates_new(void);
void cv_line_templates_free(struct cv_line_templates *t); /* NULL is fine */

/*
 * Any thread (locked): the object that reading the line of form form with jansson would give (a
 * new reference), when a template fits its REST; NULL otherwise (then read it in full). t may
 * be NULL.
 */
json_t *cv_line_templates_read(struct cv_line_templates *t, const struct cv_seen_line_form *form);

/*
 * Any thread (locked): keeps the template of the line of form form, when it can make one. root
 * is what jansson read from the line (not kept: a copy is). t may be NULL.
 */
void cv_line_templates_note(struct cv_line_templates *t, const struct cv_seen_line_form *form,
                            const json_t *root);

/* Any thread (locked): the lines read from a template, and the templates kept. */
void cv_line_templates_counts(struct cv_line_templates *t, uint64_t *hits, size_t *kept);

#endif
