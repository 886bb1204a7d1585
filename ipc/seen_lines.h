/*
 * seen_lines.h: verify request lines read before, remembered by their bytes (issue 13), so that
 * a client asking the same question again is answered without its JSON being read at all.
 *
 * A client such as libcertval writes each request as {"id":N,REST: N a decimal integer that
 * changes from one request to the next, REST the same bytes for the same question. The tokens
 * of {"id":N, are the same for every such N (the comma ends the number), so REST reads the same
 * after them whatever N is: two lines of this form with equal REST are the same request but for
 * their id. Once a line has been read in full, the table maps the SHA-256 of its REST to what
 * reading it gave (the verdict cache key, the detail level, the peer address); a later line
 * with the same REST takes that instead of being read. A line of any other form (another
 * member first, a string id, white space) is read as always. Nothing in the table can become
 * wrong: it depends on the bytes alone, and the verdict cache still decides whether the key's
 * verdict is current.
 */
#ifndef CV_SEEN_LINES_H
#define CV_SEEN_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/verdict.h"
#include "../policy/verdict_cache.h"

#define CV_SEEN_LINES_DEFAULT 4096 /* lines remembered (direct-mapped: a newer one replaces) */
#define CV_SEEN_LINE_ID_MAX   18   /* digits of N: any such N is a JSON integer jansson reads */

/* A request line in the form {"id":N,REST. */
struct cv_seen_line_form {
	const char *id; /* N, the digits as the line has them (the reply echoes them) */
	size_t id_len;
	const char *rest; /* REST: the bytes after {"id":N, to the end of the line */
	size_t rest_len;
	uint8_t rest_sha256[32]; /* the SHA-256 of REST */
};

/* What reading REST gave. */
struct cv_seen_line {
	struct cv_vc_key key;          /* the verdict cache key of the request */
	enum cv_verdict_detail detail; /* its "detail" */
	char peer_addr[64];            /* its "peer_addr" (for the log line), or "" */
};

struct cv_seen_lines;

struct cv_seen_lines *cv_seen_lines_new(size_t slots);
void cv_seen_lines_free(struct cv_seen_lines *lines); /* NULL is fine */

/*
 * true when line (len bytes, without its newline) is {"id":N,REST with N "0" or 1 to
 * CV_SEEN_LINE_ID_MAX digits without a leading zero, and REST not empty; form then points
 * into line (N and REST) and holds REST's digest.
 */
bool cv_seen_line_form(const char *line, size_t len, struct cv_seen_line_form *form);

/* Any thread (locked): true and *out when a line with form's REST was remembered (counted). */
bool cv_seen_lines_get(struct cv_seen_lines *lines, const struct cv_seen_line_form *form,
                       struct cv_seen_line *out);

/* Any thread (locked): remembers what reading a line of form gave (a verify request read in
 * full, with a verdict cache key). */
void cv_seen_lines_put(struct cv_seen_lines *lines, const struct cv_seen_line_form *form,
                       const struct cv_seen_line *what);

/* Any thread (locked): how many lookups found their line, and how many lines are kept. */
void cv_seen_lines_counts(struct cv_seen_lines *lines, uint64_t *hits, size_t *kept);

#endif
