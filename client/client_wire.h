/*
 * client_wire.h: what libcertval's blocking and non-blocking clients share (private):
 * encoding requests as protocol lines and decoding replies (docs/protocol.md).
 */
#ifndef CV_CLIENT_WIRE_H
#define CV_CLIENT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "certval.h"

/* A reply line longer than this is a protocol error: the connection is dropped. */
#define CV_WIRE_REPLY_MAX (8u << 20)

/* Bounded error texts of both clients. */
#define CV_WIRE_ERR_SIZE  512
#define CV_WIRE_CODE_SIZE 32

/*
 * The verify request for r without its id (NULL: r cannot be encoded). Caller decrefs.
 * detail other than CV_CLIENT_DETAIL_TRACE adds the request's "detail" member.
 */
json_t *cv_wire_verify_request(const struct cv_client_request *r, enum cv_client_detail detail);

/* The wire name of a detail level ("trace", "evidence", "verdict"), NULL for other values. */
const char *cv_wire_detail_name(enum cv_client_detail detail);

/*
 * Sets req's "id" to id and renders it as one line ending in '\n' into *line (malloc'd,
 * caller frees; *len excludes the terminating NUL). Returns CV_CLIENT_OK or
 * CV_CLIENT_ERR_MEMORY.
 */
int cv_wire_frame(json_t *req, json_int_t id, char **line, size_t *len);

/*
 * Parses one reply line. Returns CV_CLIENT_OK with *resp (caller decrefs) and *id (-1 when
 * the reply's id is not an integer, e.g. the daemon's "id": null on a framing error), or
 * CV_CLIENT_ERR_PROTOCOL with a reason in err when the line is not a JSON object.
 */
int cv_wire_parse_reply(const char *line, size_t len, json_t **resp, json_int_t *id, char *err,
                        size_t errsize);

/*
 * The outcome of a verify reply: CV_CLIENT_OK with *verdict filled (free it with
 * cv_client_verdict_free), CV_CLIENT_ERR_SERVER (code and err set from the error response),
 * CV_CLIENT_ERR_PROTOCOL (a reply without a usable verdict) or CV_CLIENT_ERR_MEMORY.
 * Anything but an explicit "ACCEPT" is a rejection.
 */
int cv_wire_verdict(const json_t *resp, struct cv_client_verdict *verdict, char *code,
                    size_t codesize, char *err, size_t errsize);

/*
 * For replies without a verdict (ping): CV_CLIENT_OK when "ok" is true, else
 * CV_CLIENT_ERR_SERVER with code and err set.
 */
int cv_wire_check_ok(const json_t *resp, char *code, size_t codesize, char *err, size_t errsize);

/*
 * A close-on-exec Unix stream socket connected to path, or -1 (err set). With nonblock the
 * socket is non-blocking and a full listen queue is an error instead of a wait.
 */
int cv_wire_connect(const char *path, int nonblock, char *err, size_t errsize);

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t cv_wire_now_ms(void);

#endif
