/*
 * decode.c: the request lines of a batch read on a worker thread (see decode.h for what runs
 * where). Each line gets the treatment the loop gave it before (server.c, issue 13): the
 * parse errors, the seen-chain answer and the request's errors are the same, in the same order.
 */
#include "decode.h"

#include <stdlib.h>
#include <string.h>

#include "../common/util.h"

struct cv_decode_batch *
cv_decode_batch_new(struct cv_engine *engine, struct cv_cert_cache *certs,
                    struct cv_seen_lines *lines, void *owner, const size_t *lens, size_t n)
{
	struct cv_decode_batch *b = calloc(1, sizeof(*b) + n * sizeof(b->items[0]));
	size_t off = 0;

	if (b == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		b->items[i].off = off;
		b->items[i].len = lens[i];
		cv_request_init(&b->items[i].req);
		off += lens[i] + 1;
	}
	b->text = malloc(off > 0 ? off : 1);
	if (b->text == NULL) {
		free(b);
		return NULL;
	}
	b->text_len = off;
	b->engine = engine;
	b->certs = certs;
	b->lines = lines;
	b->owner = owner;
	b->n = n;
	b->lookups = cv_engine_seen_state(engine, &b->state);
	b->cfg = cv_config_ref(cv_engine_config(engine));
	clock_gettime(CLOCK_MONOTONIC, &b->received);
	return b;
}

/* The reply of a hit without its id: made once per entry, detail and second (the cache
 * keeps it), then each hit puts its own id in front. */
static char *
render_tail(const struct cv_verdict *verdict, void *arg, size_t *len)
{
	const struct cv_decode_item *it = arg;

	return cv_proto_verdict_tail(verdict, it->req.detail, len);
}

/*
 * A line seen before (ipc/seen_lines.h) whose verdict the cache holds: answered without its
 * JSON being read, the reply carrying the line's own id. false: read the line.
 */
static bool
decode_seen_line(struct cv_decode_batch *b, struct cv_decode_item *it)
{
	struct cv_seen_line seen;
	struct cv_seen_reply r;

	if (!it->has_form || !cv_seen_lines_get(b->lines, &it->form, &seen))
		return false;
	it->req.detail = seen.detail; /* render_tail's */
	if (!cv_engine_seen_reply(b->engine, &seen.key, &b->state, seen.detail, render_tail, it,
	                          &r))
		return false;
	cv_strlcpy(it->req.peer_addr, seen.peer_addr, sizeof(it->req.peer_addr));
	it->outcome = r.outcome;
	it->reply = r.text != NULL ? cv_proto_with_id_text(it->form.id, it->form.id_len, r.text,
	                                                   r.len, &it->reply_len)
	                           : NULL;
	free(r.text);
	return true;
}

/* Remembers what reading a line of the form {"id":N,REST gave, for the next with its REST. */
static void
remember_line(struct cv_decode_batch *b, const struct cv_decode_item *it,
              const struct cv_vc_key *key)
{
	struct cv_seen_line seen;

	if (!it->has_form || !json_is_integer(it->msg.id))
		return;
	seen.key = *key;
	seen.detail = it->req.detail;
	cv_strlcpy(seen.peer_addr, it->req.peer_addr, sizeof(seen.peer_addr));
	cv_seen_lines_put(b->lines, &it->form, &seen);
}

/* A seen chain: true when answered from the verdict cache (it->req holds the parameters). */
static bool
decode_seen(struct cv_decode_batch *b, struct cv_decode_item *it)
{
	struct cv_seen_reply r;
	struct cv_vc_key key;

	if (cv_proto_verify_seen_key(&it->msg, &it->req, &key) != 0)
		return false;
	remember_line(b, it, &key);
	if (!cv_engine_seen_reply(b->engine, &key, &b->state, it->req.detail, render_tail, it, &r))
		return false;
	it->outcome = r.outcome;
	it->reply =
	    r.text != NULL ? cv_proto_with_id(it->msg.id, r.text, r.len, &it->reply_len) : NULL;
	free(r.text);
	return true;
}

/* Stage 1 here and now: the batch's only line, or every thread is busy anyway (decode.h). */
static bool
go_ahead(const struct cv_decode_batch *b)
{
	return b->pool != NULL && (b->n == 1 || cv_worker_pool_backlog(b->pool));
}

/* current: no operation before it in the batch may have changed the engine's state. */
static void
decode_verify(struct cv_decode_batch *b, struct cv_decode_item *it, bool lookup, bool current)
{
	if (lookup && decode_seen(b, it)) {
		it->kind = CV_DECODE_SEEN;
		return;
	}
	cv_request_free(&it->req);
	cv_request_init(&it->req);
	if (cv_proto_verify_request(&it->msg, b->certs, &it->req, &it->err) != 0) {
		cv_request_free(&it->req);
		cv_request_init(&it->req);
		it->kind = CV_DECODE_BAD;
		return;
	}
	it->kind = CV_DECODE_PREPARED;
	if (current && go_ahead(b))
		it->ahead = cv_engine_ahead(b->engine, b->cfg, &b->state, &it->req);
}

/*
 * A line's JSON: from a template when one fits it (a verify line read before but for its first
 * certificate), else read in full, and then kept as a template if it can be one.
 */
static int
read_line(struct cv_decode_batch *b, struct cv_decode_item *it, const char *line, size_t len)
{
	json_t *root = it->has_form ? cv_line_templates_read(b->templates, &it->form) : NULL;

	if (root != NULL)
		return cv_proto_parse_root(root, &it->msg, &it->code, &it->err);
	if (cv_proto_parse(line, len, &it->msg, &it->code, &it->err) != 0)
		return -1;
	if (it->has_form && it->msg.op == CV_OP_VERIFY)
		cv_line_templates_note(b->templates, &it->form, it->msg.root);
	return 0;
}

/* Once per line: its end cut off (the newline, then a CR), and its form when it may be
 * looked up. */
static void
prepare_line(struct cv_decode_batch *b, struct cv_decode_item *it, bool lookup)
{
	char *line = b->text + it->off;

	if (it->prepared)
		return;
	it->prepared = true;
	line[it->len] = '\0';
	if (it->len > 0 && line[it->len - 1] == '\r')
		it->len--;
	it->has_form = lookup && it->len > 0 && b->lines != NULL &&
	               cv_seen_line_form(line, it->len, &it->form);
}

bool
cv_decode_batch_seen(struct cv_decode_batch *b)
{
	if (b->n > CV_DECODE_LOOP_MAX || !b->lookups || b->lines == NULL)
		return false;
	for (; b->decided < b->n; b->decided++) {
		struct cv_decode_item *it = &b->items[b->decided];

		prepare_line(b, it, true);
		if (it->len == 0)
			it->kind = CV_DECODE_EMPTY;
		else if (decode_seen_line(b, it))
			it->kind = CV_DECODE_SEEN;
		else
			return false;
	}
	return true;
}

void
cv_decode_batch_run(void *batch)
{
	struct cv_decode_batch *b = batch;
	/* The snapshot holds until an operation of this batch may change what the cache is
	 * checked against (reload, clock, clear...): later verify lines are looked up and
	 * validated on the loop (cv_engine_verify), after that operation ran. The lines the
	 * loop answered (cv_decode_batch_seen) are all verify lines. */
	bool current = true;

	for (size_t i = b->decided; i < b->n; i++) {
		struct cv_decode_item *it = &b->items[i];
		const char *line = b->text + it->off;
		const bool lookup = current && b->lookups;
		size_t len;

		prepare_line(b, it, lookup);
		len = it->len;
		if (len == 0) {
			it->kind = CV_DECODE_EMPTY;
			continue;
		}
		if (lookup && decode_seen_line(b, it)) {
			it->kind = CV_DECODE_SEEN;
			continue;
		}
		if (read_line(b, it, line, len) != 0) {
			it->kind = CV_DECODE_ERROR;
			continue;
		}
		if (it->msg.op == CV_OP_VERIFY) {
			decode_verify(b, it, lookup, current);
			continue;
		}
		it->kind = CV_DECODE_OP;
		if (it->msg.op != CV_OP_PING)
			current = false;
	}
	if (b->test_delay_ms > 0)
		nanosleep(&(struct timespec){.tv_sec = b->test_delay_ms / 1000,
		                             .tv_nsec = (long)(b->test_delay_ms % 1000) * 1000000},
		          NULL);
}

int
cv_decode_item_read(const struct cv_decode_batch *b, struct cv_decode_item *it)
{
	if (it->msg.root != NULL)
		return 0;
	return cv_proto_parse(b->text + it->off, it->len, &it->msg, &it->code, &it->err);
}

void
cv_decode_batch_free(void *batch)
{
	struct cv_decode_batch *b = batch;

	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++) {
		cv_proto_msg_free(&b->items[i].msg);
		cv_request_free(&b->items[i].req);
		cv_engine_ahead_free(b->items[i].ahead);
		free(b->items[i].reply);
	}
	cv_config_unref(b->cfg);
	free(b->text);
	free(b);
}
