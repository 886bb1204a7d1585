/*
 * decode.h: a batch of a connection's request lines read off the event loop (issue 13). The
 * loop frames the lines (server.c) and hands the batch to a worker thread, which parses each
 * line's JSON (or reads it from a template: ipc/line_templates.h) and, for verify, does everything
 * that needs no loop state: the seen-chain key and the verdict-cache lookup, the reply of a hit
 * rendered to its bytes, and for a miss the request read (base64, the parsed-certificate cache).
 * The loop then dispatches the items in order (server.c): it writes the replies, starts the
 * evaluations, and runs every other operation from its parsed JSON.
 *
 * What runs where: cv_decode_batch_new, cv_decode_batch_seen (a small batch's seen lines, which
 * cost less than the trip through the pool) and the dispatch run on the loop;
 * cv_decode_batch_run on a worker (or on the loop when there is none); cv_decode_batch_free on
 * either. While it runs, the batch reads only itself, the state snapshot and configuration
 * taken by cv_decode_batch_new, the verdict cache (locked, through cv_engine_seen_reply) and
 * the parsed-certificate cache (locked). On a worker, a new chain's path is built and validated
 * there too (cv_engine_ahead: stage 1 reads the configuration, the certificates and the locked
 * link caches), so that it needs no second trip through the pool: when the batch is its
 * connection's only line, or when other tasks wait for the threads anyway; a batch of several
 * lines on an idle pool leaves its chains to the threads in parallel.
 */
#ifndef CV_DECODE_H
#define CV_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "../ipc/protocol.h"
#include "../ipc/line_templates.h"
#include "../ipc/seen_lines.h"
#include "../common/worker.h"
#include "../policy/engine.h"

#define CV_DECODE_BATCH_MAX 64 /* lines per batch */
/* Batches of at most so many lines have their seen lines answered on the loop
 * (cv_decode_batch_seen): a trip through the pool costs two thread wake-ups, more than a few
 * seen lines' work, while a larger batch spreads that cost over its lines. */
#define CV_DECODE_LOOP_MAX 4

enum cv_decode_kind {
	CV_DECODE_EMPTY,    /* an empty line: nothing to answer */
	CV_DECODE_ERROR,    /* not a request: code and err (msg.id when it had one) */
	CV_DECODE_OP,       /* any operation but verify: the loop dispatches msg */
	CV_DECODE_SEEN,     /* verify answered from the verdict cache: reply, outcome (msg not
	                     * read when the line was seen before: cv_decode_item_read) */
	CV_DECODE_PREPARED, /* verify to evaluate: req and detail read */
	CV_DECODE_BAD,      /* verify that cannot be read: err (a bad-request) */
};

struct cv_decode_item {
	enum cv_decode_kind kind;
	struct cv_proto_msg msg;        /* the parsed line (root kept for the id of errors) */
	enum cv_proto_code code;        /* ERROR */
	struct cv_error err;            /* ERROR, BAD */
	char *reply;                    /* SEEN: the reply line; NULL: out of memory */
	size_t reply_len;               /* its length, newline included */
	struct cv_seen_outcome outcome; /* SEEN: what the loop counts */
	struct cv_request req;          /* PREPARED: the request; SEEN: its parameters (detail,
	                                 * peer_addr) */
	size_t off, len;                /* the line in text (len: without its newline or CR) */
	bool prepared;                  /* its end cut off and has_form set (prepare_line) */
	bool has_form;                  /* the line is {"id":N,REST: form is set */
	struct cv_seen_line_form form;
	struct cv_engine_ahead *ahead; /* PREPARED: its stage 1 run already, or NULL */
};

struct cv_decode_batch {
	struct cv_engine *engine;    /* its verdict cache (locked) */
	struct cv_cert_cache *certs; /* the parsed-certificate cache (locked) */
	struct cv_seen_lines *lines; /* the request lines read before (locked), or NULL */
	struct cv_line_templates
	    *templates;              /* their templates (locked), or NULL: set by the loop */
	struct cv_vc_now state;      /* the verdict cache's state when the batch was made */
	struct timespec received;    /* when it was made (CLOCK_MONOTONIC): the deadlines count */
	bool lookups;                /* the verdict cache is on */
	struct cv_config *cfg;       /* a reference: the configuration of state (stage 1 ahead) */
	struct cv_worker_pool *pool; /* the loop's, when the batch runs on a thread of it: stage 1
	                              * of its new chains runs there too (cv_engine_ahead) */
	unsigned test_delay_ms;      /* tests (certvald --test-read-delay): the worker waits this
	                              * long once the batch is read, so that a test can change the
	                              * engine's state between the reading and the dispatch */
	void *owner;                 /* the loop's: the connection */
	char *text;                  /* the lines, each followed by its newline */
	size_t text_len;
	size_t n;
	size_t decided;                /* items answered on the loop (cv_decode_batch_seen) */
	struct cv_decode_item items[]; /* n */
};

/*
 * On the loop: a batch of n lines of lens[i] bytes (without their newline), for the loop to
 * copy into text (text_len = the sum of lens[i] + 1). NULL when out of memory.
 */
struct cv_decode_batch *cv_decode_batch_new(struct cv_engine *engine, struct cv_cert_cache *certs,
                                            struct cv_seen_lines *lines, void *owner,
                                            const size_t *lens, size_t n);

/*
 * On the loop, before the batch goes to a worker, for a batch of at most CV_DECODE_LOOP_MAX
 * lines: its lines seen before whose verdicts the cache holds are answered here, in order, up
 * to the first that is not (decided counts them). true when every line was: the batch needs no
 * worker. The same answer a worker gives (decode_seen_line), from the same snapshot.
 */
bool cv_decode_batch_seen(struct cv_decode_batch *b);

/* Reads every line the loop did not answer (a worker's run function: takes the batch). */
void cv_decode_batch_run(void *batch);

/*
 * On the loop, after the batch ran: reads a SEEN item's line when it was answered without
 * being read (a line seen before), for the loop to decide it again. 0, or -1 with code and
 * err set (the line no longer reads: out of memory).
 */
int cv_decode_item_read(const struct cv_decode_batch *b, struct cv_decode_item *it);

/* Frees the batch and what its items still own (a worker's free_job function). */
void cv_decode_batch_free(void *batch);

#endif
