/*
 * protocol.h: the daemon side of the socket protocol (docs/protocol.md): one request per line
 * of JSON, parsed into an operation and, for verify, a struct cv_request; responses built as
 * JSON lines.
 */
#ifndef CV_PROTOCOL_H
#define CV_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "../common/error.h"
#include "../policy/engine.h"
#include "../validator/cert_cache.h"
#include "verdict_json.h"

#define CV_PROTO_CHAIN_MAX 16  /* certificates in "chain" and in "extra" */
#define CV_PROTO_ID_MAX    256 /* characters of a string id */

/* The operations ("op"); their names are the table ops[] in protocol.c. */
enum cv_proto_op {
	CV_OP_VERIFY,
	CV_OP_PING,
	CV_OP_STATUS,
	CV_OP_RELOAD,
	CV_OP_CLOCK,
	CV_OP_SHOW,
	CV_OP_CLEAR,
	CV_OP_STATS,
	CV_OP_CRL_REQUEST,
	CV_OP_SUBSCRIBE,
};

enum cv_proto_code {
	CV_PROTO_BAD_REQUEST,
	CV_PROTO_UNKNOWN_OP,
	CV_PROTO_TOO_LARGE,
	CV_PROTO_FORBIDDEN,
	CV_PROTO_CONFIG_ERROR,
	CV_PROTO_INTERNAL,
	CV_PROTO_BUSY, /* max-connections reached: the connection is refused */
};

/* One parsed request line. */
struct cv_proto_digests;

struct cv_proto_msg {
	json_t *root; /* the whole request object (owned) */
	json_t *id;   /* borrowed from root: a string or number, or NULL (reply with "id": null) */
	enum cv_proto_op op;
	/* a verify request's certificate digests, made once, on first use by
	 * cv_proto_verify_seen_key or cv_proto_verify_request (owned) */
	struct cv_proto_digests *digests;
};

/* "bad-request", "unknown-op", "too-large", "forbidden", "config-error", "internal", "busy". */
const char *cv_proto_code_name(enum cv_proto_code code);

/*
 * Parses one request line (without its newline). On success returns 0 and fills msg (free
 * with cv_proto_msg_free). On failure returns -1 with *code and err set; msg->id is then the
 * request's usable id when it had one (msg->root kept alive for it), else NULL.
 */
int cv_proto_parse(const char *line, size_t len, struct cv_proto_msg *msg, enum cv_proto_code *code,
                   struct cv_error *err);
/* The same from the request object already read (root: taken over, also on failure). */
int cv_proto_parse_root(json_t *root, struct cv_proto_msg *msg, enum cv_proto_code *code,
                        struct cv_error *err);
void cv_proto_msg_free(struct cv_proto_msg *msg);

/*
 * Reads the fields of a verify request into req (cv_request_init'ed by the caller). A
 * certificate that is valid base64 but does not parse is no protocol error: it is noted in
 * req->malformed, and the engine answers with a REJECT verdict. Certificates are taken from
 * certs, the parsed-certificate cache, when it holds the same DER (NULL: parsed each time).
 * req->text_key is the key cv_proto_verify_seen_key gives for the same message.
 */
int cv_proto_verify_request(struct cv_proto_msg *msg, struct cv_cert_cache *certs,
                            struct cv_request *req, struct cv_error *err);

/*
 * The verdict cache key of a verify request (issue 13), from the certificates' text as the
 * request carries it (CV_VC_OF_TEXT: no base64 decoded, no certificate read), so that a seen
 * chain is answered first. Returns 0 and fills params (cv_request_init'ed by the caller; every
 * member but chain and extra) and key when the request may be cached; -1 otherwise (not
 * well-formed, or one never cached such as one with "at"), without saying why:
 * cv_proto_verify_request then reads the request and reports its errors. A key is only ever
 * stored for a request cv_proto_verify_request read (the same text reads the same), so a text
 * that is not base64 finds nothing.
 */
int cv_proto_verify_seen_key(struct cv_proto_msg *msg, struct cv_request *params,
                             struct cv_vc_key *key);

/* Reads the offset of a clock request. */
int cv_proto_clock_offset(const json_t *root, int64_t *offset, struct cv_error *err);

/*
 * What `show` and `clear` look at ("what"). The names, and what each view accepts (trustpoint,
 * status, verbose, clear), are the table views[] in protocol.c: the one list, which error
 * messages quote.
 */
enum cv_proto_view {
	CV_VIEW_CRLS,
	CV_VIEW_OCSP,
	CV_VIEW_FETCH,
	CV_VIEW_TRUSTPOINTS,
	CV_VIEW_TIMERS,
	CV_VIEW_RUNNING_CONFIG,
	CV_VIEW_CERTIFICATES,
	CV_VIEW_PUBKEYS, /* the remembered peer keys (verified signatures), R49 */
	CV_VIEW_COUNT    /* not a view: their number */
};

/* A parsed show or clear request. */
struct cv_proto_admin_req {
	enum cv_proto_view what;
	char trustpoint[CV_LABEL_MAX]; /* "" when not given */
	bool status;                   /* show trustpoints status */
	bool verbose;                  /* show certificates TP verbose */
	unsigned index;                /* clear pubkeys INDEX (1-65535); 0 when not given */
};

/* The view's name in requests ("crls", ...), "?" for a value that is not a view. */
const char *cv_proto_view_name(enum cv_proto_view what);

/*
 * Reads a show request: "what" (any view) and the optional members the view takes:
 * "trustpoint", "status", "verbose" (only with a trustpoint, R53).
 */
int cv_proto_show_request(const json_t *root, struct cv_proto_admin_req *out, struct cv_error *err);

/* Reads a clear request: "what" (a view that can be cleared), "trustpoint" where it takes one,
 * "index" (1-65535) for pubkeys: one entry of the pubkey chain (R49). */
int cv_proto_clear_request(const json_t *root, struct cv_proto_admin_req *out,
                           struct cv_error *err);

/* crl-request {"trustpoint": TP}: download TP's cached CRLs again now (R54). */
int cv_proto_crl_request(const json_t *root, struct cv_proto_admin_req *out, struct cv_error *err);

/* Reads a stats request (no fields beyond id and op). */
int cv_proto_stats_request(const json_t *root, struct cv_error *err);

/* {"id":id,"ok":true,key:value}: steals value; id may be NULL. New reference or NULL. */
json_t *cv_proto_ok(const json_t *id, const char *key, json_t *value);

/* {"id":id,"ok":true,"verdict":...}: the verdict rendered as far as detail asks. New
 * reference or NULL (out of memory). */
json_t *cv_proto_verdict(const json_t *id, const struct cv_verdict *v,
                         enum cv_verdict_detail detail);
/*
 * The same reply in two parts, for a verdict answered many times (the verdict cache keeps the
 * tail): cv_proto_verdict_tail encodes everything after `{"id":ID,` (newline included), and
 * cv_proto_with_id puts an id in front of a tail. Together they give the bytes cv_proto_encode
 * gives for cv_proto_verdict. Both return malloc'ed text, or NULL when out of memory.
 */
char *cv_proto_verdict_tail(const struct cv_verdict *v, enum cv_verdict_detail detail, size_t *len);
char *cv_proto_with_id(const json_t *id, const char *tail, size_t tail_len, size_t *len);
/* How a reply line opens, and a request line of the form ipc/seen_lines.h reads. */
#define CV_PROTO_ID_OPEN "{\"id\":"
/* The same with the id's JSON text as it is (a request line's own, ipc/seen_lines.h). */
char *cv_proto_with_id_text(const char *id, size_t id_len, const char *tail, size_t tail_len,
                            size_t *len);

/* {"id":id,"ok":false,"error":{"code":...,"message":...}}. New reference or NULL. */
json_t *cv_proto_error(const json_t *id, enum cv_proto_code code, const char *message);

/* The compact text of a response followed by "\n" (malloc'd, caller frees), or NULL. */
char *cv_proto_encode(const json_t *response, size_t *len);

#endif
