/*
 * fuzz_proto.c: libFuzzer target over the socket protocol's request parsing (ipc/protocol.h):
 * one request line, then the reader of its operation (verify into a cv_request, show, clear,
 * crl-request, clock, stats). Every refusal must come with a message that makes a response
 * line (the daemon closes the connection when it cannot encode one), and what a verify request
 * yields must be exactly what it said (no name cut short at an embedded NUL). Read through the
 * parsed-certificate cache (a miss, a DER hit, a hit by the certificate's text), a verify
 * request yields what it yields without it; read from a template (ipc/line_templates.h), a
 * line reads as jansson reads it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../ipc/line_templates.h"
#include "../../ipc/protocol.h"
#include "../../ipc/seen_lines.h"
#include "../../validator/cert_cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The error response the daemon would send must encode. */
static void
check_error(const json_t *id, enum cv_proto_code code, const struct cv_error *err)
{
	json_t *resp;
	char *text;
	size_t len;

	if (err->msg[0] == '\0')
		abort(); /* a refusal without a reason */
	resp = cv_proto_error(id, code, err->msg);
	text = resp != NULL ? cv_proto_encode(resp, &len) : NULL;
	if (text == NULL)
		abort(); /* the daemon could not answer and would drop the connection */
	free(text);
	json_decref(resp);
}

/* A string member the request gave must be exactly what was stored. */
static void
check_str(const json_t *root, const char *field, const char *stored)
{
	const json_t *v = json_object_get(root, field);

	if (v == NULL) {
		if (stored[0] != '\0')
			abort();
		return;
	}
	if (json_string_length(v) != strlen(stored) ||
	    memcmp(json_string_value(v), stored, strlen(stored)) != 0)
		abort();
}

/* A string with an embedded NUL reads as a shorter one in C: it must have been refused. */
static void
check_no_nul(const json_t *v)
{
	size_t i;
	json_t *e;

	if (json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v))
		abort();
	if (json_is_array(v)) {
		json_array_foreach(v, i, e)
		{
			check_no_nul(e);
		}
	}
}

static void
check_request(const json_t *root, const struct cv_request *req)
{
	const json_t *one = json_object_get(root, "trustpoint");
	const json_t *many = json_object_get(root, "trustpoints");
	const size_t sent = json_array_size(json_object_get(root, "chain"));
	size_t parsed = sent;
	const char *key;
	json_t *value;

	json_object_foreach((json_t *)root, key, value)
	{
		if (strcmp(key, "id") != 0) /* the id is echoed as JSON, never read in C */
			check_no_nul(value);
	}

	/* every certificate sent, or those before the first one that does not parse */
	if (req->malformed.present && req->malformed.cert_index >= 0)
		parsed = (size_t)req->malformed.cert_index;
	if (sent < 1 || sent > CV_PROTO_CHAIN_MAX || parsed > sent || req->chain.n != parsed ||
	    req->extra.n > CV_PROTO_CHAIN_MAX)
		abort();
	if (req->malformed.present &&
	    (req->malformed.cert_index < -1 || strlen(req->malformed.message) == 0))
		abort();
	if (one != NULL) {
		if (req->n_trustpoints != 1)
			abort();
		check_str(root, "trustpoint", req->trustpoints[0]);
	} else if (many != NULL) {
		if (req->n_trustpoints != json_array_size(many))
			abort();
		for (size_t i = 0; i < req->n_trustpoints; i++) {
			const json_t *e = json_array_get(many, i);

			if (json_string_length(e) != strlen(req->trustpoints[i]))
				abort(); /* the name was cut short */
		}
	} else if (req->n_trustpoints != 0) {
		abort();
	}
	check_str(root, "peer_name", req->peer_name);
	check_str(root, "peer_addr", req->peer_addr);
	check_str(root, "application", req->application);
	/* the verdict is made as far as the detail asks: no further, and never less */
	if ((json_object_get(root, "detail") == NULL && req->detail != CV_VERDICT_DETAIL_TRACE) ||
	    (json_object_get(root, "detail") != NULL &&
	     strcmp(json_string_value(json_object_get(root, "detail")),
	            (const char *[]){"verdict", "evidence", "trace"}[req->detail]) != 0))
		abort();
}

static void
check_admin(const json_t *root, const struct cv_proto_admin_req *a)
{
	const json_t *tp = json_object_get(root, "trustpoint");
	const char *key;
	json_t *value;

	json_object_foreach((json_t *)root, key, value)
	{
		if (strcmp(key, "id") != 0)
			check_no_nul(value);
	}
	if (json_is_string(tp))
		check_str(root, "trustpoint", a->trustpoint);
	else if (a->trustpoint[0] != '\0')
		abort();
	if (strcmp(cv_proto_view_name(a->what), "?") == 0)
		abort();
}

/*
 * The seen-chain key (issue 13) read from the request's text, from a message of its own: for a
 * request the full parse accepts, equal to the key its verdict is stored under (a cached
 * verdict is never served for another request). A request the full parse refuses stores
 * nothing, whatever its key.
 */
static void
check_seen_key(const struct cv_proto_msg *msg, int full_rc, const struct cv_request *req)
{
	struct cv_proto_msg fresh = {json_incref(msg->root), msg->id, msg->op, NULL};
	struct cv_vc_key seen, stored;
	struct cv_request params;
	int rc;

	cv_request_init(&params);
	rc = cv_proto_verify_seen_key(&fresh, &params, &seen);
	cv_request_free(&params);
	cv_proto_msg_free(&fresh);
	if (full_rc != 0 || req->malformed.present) /* never stored */
		return;
	if (cv_verdict_cache_key(req, &stored) == 0) {
		/* stored under a key: it is the text key, and the one looked up */
		if (rc != 0 || !req->has_text_key ||
		    memcmp(seen.digest, stored.digest, sizeof(seen.digest)) != 0)
			abort();
	} else if (rc == 0) {
		abort(); /* looked up under a key it is never stored under */
	}
}

static bool
same_certs(const struct cv_cert_list *a, const struct cv_cert_list *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!cv_cert_equal(a->v[i], b->v[i]))
			return false;
	return true;
}

/*
 * The parsed-certificate cache never changes what a request reads: the message read three
 * times through one cache (a miss, a DER hit that remembers each text, a hit by the text)
 * gives what reading it without a cache gave (plain, when rc is 0). The cache lives across
 * inputs, as the daemon's does, small enough that inputs take each other's slots.
 */
static void
check_cached_read(const struct cv_proto_msg *msg, int rc, const struct cv_request *plain)
{
	static struct cv_cert_cache *cache;

	if (cache == NULL && (cache = cv_cert_cache_new(64)) == NULL)
		abort();
	for (int i = 0; i < 3; i++) {
		struct cv_proto_msg again = {json_incref(msg->root), msg->id, msg->op, NULL};
		struct cv_error err = {""};
		struct cv_request req;
		int r;

		cv_request_init(&req);
		r = cv_proto_verify_request(&again, cache, &req, &err);
		if (r != rc ||
		    (r == 0 && (!same_certs(&plain->chain, &req.chain) ||
		                !same_certs(&plain->extra, &req.extra) ||
		                plain->malformed.present != req.malformed.present ||
		                plain->malformed.cert_index != req.malformed.cert_index)))
			abort();
		cv_request_free(&req);
		cv_proto_msg_free(&again);
	}
}

/* Reads the operation's fields; returns 0 or -1 with err set. */
static int
read_op(struct cv_proto_msg *msg, struct cv_error *err)
{
	struct cv_proto_admin_req admin;
	struct cv_request req;
	int64_t offset;
	int rc = 0;

	switch (msg->op) {
	case CV_OP_VERIFY:
		cv_request_init(&req);
		rc = cv_proto_verify_request(msg, NULL, &req, err);
		if (rc == 0) /* an unknown detail is refused there, before any verdict */
			check_request(msg->root, &req);
		check_seen_key(msg, rc, &req);
		check_cached_read(msg, rc, &req);
		cv_request_free(&req);
		break;
	case CV_OP_SHOW:
		rc = cv_proto_show_request(msg->root, &admin, err);
		if (rc == 0)
			check_admin(msg->root, &admin);
		break;
	case CV_OP_CLEAR:
		rc = cv_proto_clear_request(msg->root, &admin, err);
		if (rc == 0)
			check_admin(msg->root, &admin);
		break;
	case CV_OP_CRL_REQUEST:
		rc = cv_proto_crl_request(msg->root, &admin, err);
		if (rc == 0)
			check_admin(msg->root, &admin);
		break;
	case CV_OP_CLOCK:
		rc = cv_proto_clock_offset(msg->root, &offset, err);
		break;
	case CV_OP_STATS:
		rc = cv_proto_stats_request(msg->root, err);
		break;
	case CV_OP_PING:
	case CV_OP_STATUS:
	case CV_OP_RELOAD:
	case CV_OP_SUBSCRIBE: /* its fields are read by daemon/events.c */
		break;
	}
	return rc;
}

/*
 * A line of the form {"id":N,REST (ipc/seen_lines.h) reads the same with any other N: the
 * daemon answers such a line from what reading another line with its REST gave. Both lines
 * parse or both fail, to the same object but for the id, and a verify request gives the same
 * seen-chain key, detail and peer address.
 */
static void
check_seen_line(const uint8_t *data, size_t size)
{
	struct cv_seen_line_form form;
	struct cv_proto_msg a, b;
	enum cv_proto_code code;
	struct cv_error err;
	char *other;
	size_t len;
	int ra, rb;

	if (!cv_seen_line_form((const char *)data, size, &form))
		return;
	len = strlen("{\"id\":") + 2 + form.rest_len;
	if ((other = malloc(len)) == NULL)
		return;
	/* another N: 7 unless it was 7 */
	memcpy(other, "{\"id\":", 6);
	other[6] = form.id_len == 1 && form.id[0] == '7' ? '8' : '7';
	other[7] = ',';
	memcpy(other + 8, form.rest, form.rest_len);
	ra = cv_proto_parse((const char *)data, size, &a, &code, &err);
	rb = cv_proto_parse(other, len, &b, &code, &err);
	if (ra != rb)
		abort();
	if (ra == 0) {
		struct cv_request pa, pb;
		struct cv_vc_key ka, kb;
		int sa, sb;

		if (!json_is_integer(a.id) || !json_is_integer(b.id) || a.op != b.op)
			abort();
		json_object_del(a.root, "id");
		json_object_del(b.root, "id");
		if (!json_equal(a.root, b.root))
			abort();
		cv_request_init(&pa);
		cv_request_init(&pb);
		sa = a.op == CV_OP_VERIFY ? cv_proto_verify_seen_key(&a, &pa, &ka) : -1;
		sb = b.op == CV_OP_VERIFY ? cv_proto_verify_seen_key(&b, &pb, &kb) : -1;
		if (sa != sb || (sa == 0 && (memcmp(ka.digest, kb.digest, sizeof(ka.digest)) != 0 ||
		                             pa.detail != pb.detail ||
		                             strcmp(pa.peer_addr, pb.peer_addr) != 0)))
			abort();
		cv_request_free(&pa);
		cv_request_free(&pb);
	}
	cv_proto_msg_free(&a);
	cv_proto_msg_free(&b);
	free(other);
}

/*
 * A line read from a template reads as jansson reads it (and jansson reads it). The templates
 * live across inputs, as the daemon's do: each line that parses leaves its own where it can,
 * and later inputs (the fuzzer's mutations of earlier ones) are read from them where they fit.
 */
static void
check_template_read(const uint8_t *data, size_t size)
{
	static struct cv_line_templates *templates;
	const char *line = (const char *)data;
	struct cv_seen_line_form form;
	json_t *got, *want;

	if (templates == NULL && (templates = cv_line_templates_new()) == NULL)
		abort();
	if (!cv_seen_line_form(line, size, &form))
		return;
	got = cv_line_templates_read(templates, &form);
	want = json_loadb(line, size, JSON_REJECT_DUPLICATES, NULL);
	if (got != NULL && (want == NULL || !json_equal(got, want)))
		abort();
	if (got == NULL && json_is_object(want))
		cv_line_templates_note(templates, &form, want);
	json_decref(got);
	json_decref(want);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cv_proto_msg msg;
	enum cv_proto_code code;
	struct cv_error err;

	err.msg[0] = '\0';
	check_seen_line(data, size);
	check_template_read(data, size);
	if (cv_proto_parse((const char *)data, size, &msg, &code, &err) != 0) {
		check_error(msg.id, code, &err);
		cv_proto_msg_free(&msg);
		return 0;
	}
	if (msg.root == NULL || msg.id == NULL)
		abort();
	if (read_op(&msg, &err) != 0)
		check_error(msg.id, CV_PROTO_BAD_REQUEST, &err);
	cv_proto_msg_free(&msg);
	return 0;
}
