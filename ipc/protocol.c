/* protocol.c: parsing request lines and building response lines of the socket protocol. */
#include "protocol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "../common/clock.h"
#include "../common/util.h"
#include "../validator/path.h"
#include "verdict_json.h"

/* The operations: the one list the parser, its messages and docs/protocol.md follow. */
static const struct {
	const char *name;
	enum cv_proto_op op;
	bool test_only; /* dispatched only by certvald --test-clock: no certvalctl command */
} ops[] = {
    {"verify", CV_OP_VERIFY, false},       {"ping", CV_OP_PING, false},
    {"status", CV_OP_STATUS, false},       {"reload", CV_OP_RELOAD, false},
    {"show", CV_OP_SHOW, false},           {"clear", CV_OP_CLEAR, false},
    {"stats", CV_OP_STATS, false},         {"crl-request", CV_OP_CRL_REQUEST, false},
    {"subscribe", CV_OP_SUBSCRIBE, false}, {"clock", CV_OP_CLOCK, true},
};

/* What a view accepts beyond "what". */
#define TAKES_TRUSTPOINT 0x1u  /* show VIEW with "trustpoint" */
#define TAKES_STATUS     0x2u  /* show VIEW with "status" */
#define TAKES_VERBOSE    0x4u  /* show VIEW with "verbose", only with a trustpoint (R53) */
#define CLEARABLE        0x8u  /* clear VIEW */
#define CLEAR_TRUSTPOINT 0x10u /* clear VIEW with "trustpoint" */

/* The views of show and clear: the one list the parser and its messages follow. */
static const struct {
	const char *name;
	unsigned flags;
} views[] = {
    [CV_VIEW_CRLS] = {"crls", TAKES_TRUSTPOINT | CLEARABLE | CLEAR_TRUSTPOINT},
    [CV_VIEW_OCSP] = {"ocsp", CLEARABLE},
    [CV_VIEW_FETCH] = {"fetch", 0},
    [CV_VIEW_TRUSTPOINTS] = {"trustpoints", TAKES_TRUSTPOINT | TAKES_STATUS},
    [CV_VIEW_TIMERS] = {"timers", 0},
    [CV_VIEW_RUNNING_CONFIG] = {"running-config", 0},
    [CV_VIEW_CERTIFICATES] = {"certificates", TAKES_TRUSTPOINT | TAKES_VERBOSE},
    [CV_VIEW_PUBKEYS] = {"pubkeys", CLEARABLE},
};

_Static_assert(CV_ARRAY_LEN(views) == CV_VIEW_COUNT, "a view without its row in views[]");

static const char *const code_names[] = {
    [CV_PROTO_BAD_REQUEST] = "bad-request",
    [CV_PROTO_UNKNOWN_OP] = "unknown-op",
    [CV_PROTO_TOO_LARGE] = "too-large",
    [CV_PROTO_FORBIDDEN] = "forbidden",
    [CV_PROTO_CONFIG_ERROR] = "config-error",
    [CV_PROTO_INTERNAL] = "internal",
    [CV_PROTO_BUSY] = "busy",
};

const char *
cv_proto_code_name(enum cv_proto_code code)
{
	if ((size_t)code >= CV_ARRAY_LEN(code_names) || code_names[code] == NULL)
		return "internal";
	return code_names[code];
}

/* A usable id is a string of bounded length or a number. */
static json_t *
usable_id(json_t *root)
{
	json_t *id = json_object_get(root, "id");

	if (json_is_number(id))
		return id;
	if (json_is_string(id) && json_string_length(id) <= CV_PROTO_ID_MAX)
		return id;
	return NULL;
}

/* Appends ", word" (or word alone) to the list in buf; a full buffer stays terminated. */
static void
list_add(char *buf, size_t size, const char *word, const char *note)
{
	size_t len = strlen(buf);

	if (len < size)
		snprintf(buf + len, size - len, "%s%s%s", len > 0 ? ", " : "", word, note);
}

/* The operations, from ops[]: "verify, ping, ..., clock (certvald --test-clock only)". */
static const char *
op_list(char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < CV_ARRAY_LEN(ops); i++)
		list_add(buf, size, ops[i].name,
		         ops[i].test_only ? " (certvald --test-clock only)" : "");
	return buf;
}

/* The views with all the flags of mask (0: every view), from views[]. */
static const char *
view_list(char *buf, size_t size, unsigned mask)
{
	buf[0] = '\0';
	for (size_t i = 0; i < CV_ARRAY_LEN(views); i++)
		if ((views[i].flags & mask) == mask)
			list_add(buf, size, views[i].name, "");
	return buf;
}

int
cv_proto_parse(const char *line, size_t len, struct cv_proto_msg *msg, enum cv_proto_code *code,
               struct cv_error *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);

	if (root == NULL) {
		memset(msg, 0, sizeof(*msg));
		*code = CV_PROTO_BAD_REQUEST;
		cv_error_set(err, "malformed JSON at column %d: %s", jerr.column, jerr.text);
		return -1;
	}
	return cv_proto_parse_root(root, msg, code, err);
}

int
cv_proto_parse_root(json_t *root, struct cv_proto_msg *msg, enum cv_proto_code *code,
                    struct cv_error *err)
{
	const char *opname;
	char list[256];
	json_t *op;

	memset(msg, 0, sizeof(*msg));
	*code = CV_PROTO_BAD_REQUEST;
	msg->root = root;
	if (!json_is_object(msg->root)) {
		cv_error_set(err, "a request must be a JSON object");
		return -1;
	}
	msg->id = usable_id(msg->root);
	if (msg->id == NULL) {
		cv_error_set(err, "\"id\" must be a string (at most %d characters) or a number",
		             CV_PROTO_ID_MAX);
		return -1;
	}
	op = json_object_get(msg->root, "op");
	opname = json_string_value(op);
	if (opname == NULL) {
		cv_error_set(err, "\"op\" must be a string");
		return -1;
	}
	for (size_t i = 0; i < CV_ARRAY_LEN(ops); i++) {
		if (strcmp(opname, ops[i].name) == 0) {
			msg->op = ops[i].op;
			return 0;
		}
	}
	*code = CV_PROTO_UNKNOWN_OP;
	cv_error_set(err, "unknown operation \"%.64s\"; expected one of: %s", opname,
	             op_list(list, sizeof(list)));
	return -1;
}

/*
 * The certificates of "chain" (0) and "extra" (1) of a verify request as the request carries
 * them: the SHA-256 of each base64 text, the verdict cache key's digests (CV_VC_OF_TEXT), so
 * that a seen chain is found without decoding a certificate.
 */
struct cv_proto_digests {
	bool ok;              /* both arrays well formed: every element a string, counts in range */
	size_t n[2];          /* certificates of each array */
	uint8_t sha256[][32]; /* n[0] of "chain", then n[1] of "extra" */
};

/* Certificates in the array (absent: none); -1 when its shape is not what cert_array takes. */
static int
text_count(const json_t *arr, size_t min, bool optional)
{
	if (arr == NULL && optional)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) < min ||
	    json_array_size(arr) > CV_PROTO_CHAIN_MAX)
		return -1;
	return (int)json_array_size(arr);
}

/* Hashes an array's base64 texts into out; -1 when an element is not a string. */
static int
text_array(const json_t *arr, uint8_t (*out)[32])
{
	size_t i;
	json_t *e;

	json_array_foreach(arr, i, e)
	{
		if (!json_is_string(e) || gnutls_hash_fast(GNUTLS_DIG_SHA256, json_string_value(e),
		                                           json_string_length(e), out[i]) < 0)
			return -1;
	}
	return 0;
}

/*
 * The request's certificate digests, made on first use (sized to the request: a chain's few
 * digests stay a small allocation); NULL when out of memory.
 */
static const struct cv_proto_digests *
msg_digests(struct cv_proto_msg *msg)
{
	const json_t *chain, *extra;
	struct cv_proto_digests *d;
	int n0, n1;

	if (msg->digests != NULL)
		return msg->digests;
	chain = json_object_get(msg->root, "chain");
	extra = json_object_get(msg->root, "extra");
	n0 = text_count(chain, 1, false);
	n1 = text_count(extra, 0, true);
	d = malloc(sizeof(*d) + (n0 > 0 ? (size_t)n0 : 0) * sizeof(d->sha256[0]) +
	           (n1 > 0 ? (size_t)n1 : 0) * sizeof(d->sha256[0]));
	if (d == NULL)
		return NULL;
	d->ok = n0 >= 1 && n1 >= 0;
	d->n[0] = d->ok ? (size_t)n0 : 0;
	d->n[1] = d->ok ? (size_t)n1 : 0;
	d->ok = d->ok && text_array(chain, d->sha256) == 0 &&
	        (extra == NULL || text_array(extra, d->sha256 + d->n[0]) == 0);
	msg->digests = d;
	return d;
}

/* The key of a request from its text digests (-1: not cached, or the digests are unusable). */
static int
text_key(const struct cv_proto_digests *d, const struct cv_request *params, struct cv_vc_key *key)
{
	if (d == NULL || !d->ok)
		return -1;
	return cv_verdict_cache_key_of(CV_VC_OF_TEXT, d->sha256[0], d->n[0],
	                               (const uint8_t *)(d->sha256 + d->n[0]), d->n[1], params,
	                               key);
}

void
cv_proto_msg_free(struct cv_proto_msg *msg)
{
	json_decref(msg->root);
	msg->root = NULL;
	msg->id = NULL;
	free(msg->digests);
	msg->digests = NULL;
}

/*
 * Notes the first certificate of the request that does not parse. Base64 and JSON framing are
 * the client's business (a protocol error); what the bytes hold is the peer's: a certificate
 * that does not parse gets a REJECT verdict from the engine (chain-invalid,
 * malformed-certificate), with its position when it is in "chain".
 */
static void
note_malformed(struct cv_request *req, const char *field, size_t i, bool in_chain,
               const struct cv_error *why)
{
	if (req->malformed.present)
		return;
	req->malformed.present = true;
	req->malformed.cert_index = in_chain ? (int)i : -1;
	snprintf(req->malformed.message, sizeof(req->malformed.message),
	         "\"%s\"[%zu] does not parse as an X.509 certificate (%s)", field, i, why->msg);
}

/*
 * Decodes an array of base64 DER certificates into list. Every element must be base64; the
 * certificates are parsed until the first one that does not parse (noted in req->malformed).
 */
static int
cert_array(const json_t *arr, const char *field, size_t min, const uint8_t (*text_sha)[32],
           struct cv_cert_cache *certs, struct cv_cert_list *list, struct cv_request *req,
           struct cv_error *err)
{
	const bool in_chain = list == &req->chain;
	size_t i;
	json_t *e;

	if (!json_is_array(arr) || json_array_size(arr) < min ||
	    json_array_size(arr) > CV_PROTO_CHAIN_MAX) {
		cv_error_set(err, "\"%s\" must be an array of %zu to %d base64 DER certificates",
		             field, min, CV_PROTO_CHAIN_MAX);
		return -1;
	}
	json_array_foreach(arr, i, e)
	{
		const uint8_t *sha = text_sha != NULL ? text_sha[i] : NULL;
		struct cv_cert *cert = NULL;
		struct cv_error why = {""};
		uint8_t *der = NULL;
		size_t der_len = 0;
		int rc;

		/* a text met before: its certificate, without decoding it again */
		if (sha != NULL && !req->malformed.present && json_is_string(e) &&
		    (cert = cv_cert_cache_by_text(certs, sha, json_string_value(e),
		                                  json_string_length(e))) != NULL)
			goto push;
		if (!json_is_string(e) ||
		    cv_base64_decode(json_string_value(e), json_string_length(e), &der, &der_len) !=
		        0) {
			cv_error_set(err, "\"%s\"[%zu] is not base64", field, i);
			return -1;
		}
		rc = req->malformed.present
		         ? 0
		         : cv_cert_cache_from_der_text(certs, der, der_len, sha,
		                                       json_string_value(e), json_string_length(e),
		                                       &cert, &why);
		free(der);
		if (rc != 0)
			note_malformed(req, field, i, in_chain, &why);
		if (cert == NULL)
			continue;
	push:
		rc = cv_cert_list_push(list, cert);
		cv_cert_unref(cert);
		if (rc != 0) {
			cv_error_set(err, "out of memory");
			return -1;
		}
	}
	return 0;
}

/* Copies a string member into dst; absent is fine, wrong type or too long is an error. */
static int
copy_str(const json_t *root, const char *field, char *dst, size_t size, struct cv_error *err)
{
	const json_t *v = json_object_get(root, field);

	if (v == NULL)
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= size ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		cv_error_set(err, "\"%s\" must be a string of at most %zu characters", field,
		             size - 1);
		return -1;
	}
	cv_strlcpy(dst, json_string_value(v), size);
	return 0;
}

static int
add_trustpoint(struct cv_request *req, const json_t *name, struct cv_error *err)
{
	if (!json_is_string(name) || json_string_length(name) == 0 ||
	    json_string_length(name) >= CV_LABEL_MAX) {
		cv_error_set(err, "a trustpoint name must be a string of 1 to %d characters",
		             CV_LABEL_MAX - 1);
		return -1;
	}
	if (req->n_trustpoints == CV_REQUEST_TRUSTPOINTS_MAX) {
		cv_error_set(err, "at most %d trustpoints", CV_REQUEST_TRUSTPOINTS_MAX);
		return -1;
	}
	cv_strlcpy(req->trustpoints[req->n_trustpoints++], json_string_value(name), CV_LABEL_MAX);
	return 0;
}

static int
trustpoints(const json_t *root, struct cv_request *req, struct cv_error *err)
{
	const json_t *one = json_object_get(root, "trustpoint");
	const json_t *many = json_object_get(root, "trustpoints");
	size_t i;
	json_t *e;

	if (one != NULL && many != NULL) {
		cv_error_set(err, "give \"trustpoint\" or \"trustpoints\", not both");
		return -1;
	}
	if (one != NULL)
		return add_trustpoint(req, one, err);
	if (many == NULL)
		return 0;
	if (!json_is_array(many)) {
		cv_error_set(err, "\"trustpoints\" must be an array of names");
		return -1;
	}
	json_array_foreach(many, i, e)
	{
		if (add_trustpoint(req, e, err) != 0)
			return -1;
	}
	return 0;
}

static int
validation_time(const json_t *root, struct cv_request *req, struct cv_error *err)
{
	const json_t *at = json_object_get(root, "at");

	if (at == NULL || json_is_null(at))
		return 0;
	if (json_is_integer(at)) {
		req->at = json_integer_value(at);
		return 0;
	}
	if (json_is_string(at) && cv_time_parse(json_string_value(at), &req->at) == 0)
		return 0;
	cv_error_set(err, "\"at\" must be an ISO 8601 time or Unix seconds");
	return -1;
}

static int
purpose(const json_t *root, struct cv_request *req, struct cv_error *err)
{
	const char *name = json_string_value(json_object_get(root, "purpose"));
	enum cv_purpose p;

	if (json_object_get(root, "purpose") == NULL)
		return 0;
	/* the names exactly as cv_purpose_name spells them */
	if (cv_purpose_from_name(name, &p) == 0 && strcmp(name, cv_purpose_name(p)) == 0) {
		req->purpose = p;
		return 0;
	}
	cv_error_set(err, "\"purpose\" must be \"any\", \"ike\", \"server\" or \"client\"");
	return -1;
}

/* Fail closed on a misspelt field rather than silently validating under other rules. */
static int
known_fields(const json_t *root, const char *const *names, size_t n, struct cv_error *err)
{
	const char *key;
	json_t *value;

	json_object_foreach((json_t *)root, key, value)
	{
		size_t i;

		for (i = 0; i < n && strcmp(key, names[i]) != 0; i++)
			;
		if (i == n) {
			cv_error_set(err, "unknown field \"%.64s\"", key);
			return -1;
		}
	}
	return 0;
}

/* The members of a verify request. */
static const char *const verify_fields[] = {
    "id", "op",      "chain",     "extra",     "trustpoint",  "trustpoints",
    "at", "purpose", "peer_name", "peer_addr", "application", "detail",
};

/* The known members and the required chain. */
static int
verify_shape(const json_t *root, struct cv_error *err)
{
	if (known_fields(root, verify_fields, CV_ARRAY_LEN(verify_fields), err) != 0)
		return -1;
	if (json_object_get(root, "chain") == NULL) {
		cv_error_set(err, "\"chain\" is required");
		return -1;
	}
	return 0;
}

/*
 * The optional "detail" of a verify request: "verdict", "evidence" or "trace" (the default,
 * everything, as before the member existed). Anything else is a bad request.
 */
static int
verify_detail(const json_t *root, enum cv_verdict_detail *out, struct cv_error *err)
{
	const json_t *v = json_object_get(root, "detail");

	*out = CV_VERDICT_DETAIL_TRACE;
	if (v == NULL || cv_verdict_detail_from_name(json_string_value(v), out) == 0)
		return 0;
	cv_error_set(err, "\"detail\" must be \"verdict\", \"evidence\" or \"trace\"");
	return -1;
}

/* Every member but the certificates. */
static int
verify_params(const json_t *root, struct cv_request *req, struct cv_error *err)
{
	if (trustpoints(root, req, err) != 0 || validation_time(root, req, err) != 0 ||
	    purpose(root, req, err) != 0 || verify_detail(root, &req->detail, err) != 0)
		return -1;
	if (copy_str(root, "peer_name", req->peer_name, sizeof(req->peer_name), err) != 0 ||
	    copy_str(root, "peer_addr", req->peer_addr, sizeof(req->peer_addr), err) != 0 ||
	    copy_str(root, "application", req->application, sizeof(req->application), err) != 0)
		return -1;
	return 0;
}

int
cv_proto_verify_request(struct cv_proto_msg *msg, struct cv_cert_cache *certs,
                        struct cv_request *req, struct cv_error *err)
{
	const json_t *root = msg->root, *extra = json_object_get(root, "extra");
	const struct cv_proto_digests *d;

	if (verify_shape(root, err) != 0)
		return -1;
	/* the texts' digests: the verdict cache key's, and the certificates' found by text */
	d = msg_digests(msg);
	if (d != NULL && !d->ok)
		d = NULL;
	if (cert_array(json_object_get(root, "chain"), "chain", 1, d != NULL ? d->sha256 : NULL,
	               certs, &req->chain, req, err) != 0)
		return -1;
	if (extra != NULL && cert_array(extra, "extra", 0, d != NULL ? d->sha256 + d->n[0] : NULL,
	                                certs, &req->extra, req, err) != 0)
		return -1;
	if (verify_params(root, req, err) != 0)
		return -1;
	/* the key its verdict is stored under: the one a seen chain is looked up by */
	req->has_text_key = text_key(d, req, &req->text_key) == 0;
	return 0;
}

int
cv_proto_verify_seen_key(struct cv_proto_msg *msg, struct cv_request *params, struct cv_vc_key *key)
{
	const json_t *root = msg->root;
	struct cv_error err = {""};

	if (verify_shape(root, &err) != 0 || verify_params(root, params, &err) != 0)
		return -1;
	return text_key(msg_digests(msg), params, key);
}

int
cv_proto_clock_offset(const json_t *root, int64_t *offset, struct cv_error *err)
{
	static const char *const fields[] = {"id", "op", "offset"};
	const json_t *v = json_object_get(root, "offset");

	if (known_fields(root, fields, CV_ARRAY_LEN(fields), err) != 0)
		return -1;
	if (!json_is_integer(v)) {
		cv_error_set(err, "\"offset\" must be an integer number of seconds");
		return -1;
	}
	*offset = json_integer_value(v);
	return 0;
}

const char *
cv_proto_view_name(enum cv_proto_view what)
{
	if ((size_t)what >= CV_ARRAY_LEN(views) || views[what].name == NULL)
		return "?";
	return views[what].name;
}

/* Reads "what" into out->what: one of the views with all the flags of mask. */
static int
view(const json_t *root, unsigned mask, const char *verb, struct cv_proto_admin_req *out,
     struct cv_error *err)
{
	const char *name = json_string_value(json_object_get(root, "what"));
	char list[256];

	for (size_t i = 0; name != NULL && i < CV_ARRAY_LEN(views); i++) {
		if (views[i].name != NULL && strcmp(name, views[i].name) == 0 &&
		    (views[i].flags & mask) == mask) {
			out->what = (enum cv_proto_view)i;
			return 0;
		}
	}
	cv_error_set(err, "\"what\" of %s must be one of: %s", verb,
	             view_list(list, sizeof(list), mask));
	return -1;
}

/* Reads an optional boolean member; absent is false. */
static int
flag(const json_t *root, const char *field, bool *out, struct cv_error *err)
{
	const json_t *v = json_object_get(root, field);

	*out = false;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v)) {
		cv_error_set(err, "\"%s\" must be true or false", field);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

/* Reads an optional trustpoint name. */
static int
admin_trustpoint(const json_t *root, struct cv_proto_admin_req *out, struct cv_error *err)
{
	const json_t *v = json_object_get(root, "trustpoint");

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) >= CV_LABEL_MAX ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		cv_error_set(err, "\"trustpoint\" must be a name of 1 to %d characters",
		             CV_LABEL_MAX - 1);
		return -1;
	}
	cv_strlcpy(out->trustpoint, json_string_value(v), sizeof(out->trustpoint));
	return 0;
}

int
cv_proto_show_request(const json_t *root, struct cv_proto_admin_req *out, struct cv_error *err)
{
	static const char *const fields[] = {"id", "op", "what", "trustpoint", "status", "verbose"};
	unsigned flags;

	memset(out, 0, sizeof(*out));
	if (known_fields(root, fields, CV_ARRAY_LEN(fields), err) != 0 ||
	    view(root, 0, "show", out, err) != 0 || admin_trustpoint(root, out, err) != 0 ||
	    flag(root, "status", &out->status, err) != 0 ||
	    flag(root, "verbose", &out->verbose, err) != 0)
		return -1;
	flags = views[out->what].flags;
	if (out->trustpoint[0] != '\0' && !(flags & TAKES_TRUSTPOINT)) {
		cv_error_set(err, "show %s takes no trustpoint", cv_proto_view_name(out->what));
		return -1;
	}
	if (out->status && !(flags & TAKES_STATUS)) {
		cv_error_set(err, "show %s takes no \"status\"", cv_proto_view_name(out->what));
		return -1;
	}
	if (out->verbose && (!(flags & TAKES_VERBOSE) || out->trustpoint[0] == '\0')) {
		cv_error_set(err, "\"verbose\" needs show certificates with a trustpoint");
		return -1;
	}
	return 0;
}

int
cv_proto_clear_request(const json_t *root, struct cv_proto_admin_req *out, struct cv_error *err)
{
	static const char *const fields[] = {"id", "op", "what", "trustpoint", "index"};
	const json_t *index;

	memset(out, 0, sizeof(*out));
	if (known_fields(root, fields, CV_ARRAY_LEN(fields), err) != 0 ||
	    view(root, CLEARABLE, "clear", out, err) != 0 || admin_trustpoint(root, out, err) != 0)
		return -1;
	if ((index = json_object_get(root, "index")) != NULL) {
		if (out->what != CV_VIEW_PUBKEYS || !json_is_integer(index) ||
		    json_integer_value(index) < 1 || json_integer_value(index) > 65535) {
			cv_error_set(err,
			             "\"index\" is an integer 1-65535, for clear pubkeys only");
			return -1;
		}
		out->index = (unsigned)json_integer_value(index);
	}
	if (out->trustpoint[0] != '\0' && !(views[out->what].flags & CLEAR_TRUSTPOINT)) {
		cv_error_set(err, "clear %s takes no trustpoint", cv_proto_view_name(out->what));
		return -1;
	}
	return 0;
}

int
cv_proto_crl_request(const json_t *root, struct cv_proto_admin_req *out, struct cv_error *err)
{
	static const char *const fields[] = {"id", "op", "trustpoint"};

	memset(out, 0, sizeof(*out));
	if (known_fields(root, fields, CV_ARRAY_LEN(fields), err) != 0 ||
	    admin_trustpoint(root, out, err) != 0)
		return -1;
	if (out->trustpoint[0] == '\0') {
		cv_error_set(err, "crl-request needs \"trustpoint\"");
		return -1;
	}
	return 0;
}

int
cv_proto_stats_request(const json_t *root, struct cv_error *err)
{
	static const char *const fields[] = {"id", "op"};

	return known_fields(root, fields, CV_ARRAY_LEN(fields), err);
}

json_t *
cv_proto_ok(const json_t *id, const char *key, json_t *value)
{
	return json_pack("{s:O?, s:b, s:o}", "id", (json_t *)id, "ok", 1, key, value);
}

json_t *
cv_proto_verdict(const json_t *id, const struct cv_verdict *v, enum cv_verdict_detail detail)
{
	json_t *vj = cv_verdict_to_json_detail(v, detail);

	return vj != NULL ? cv_proto_ok(id, "verdict", vj) : NULL;
}

/* What every verify reply begins with before its id, and the id of a tail's rendering. */
#define TAIL_PREFIX CV_PROTO_ID_OPEN "null,"

char *
cv_proto_verdict_tail(const struct cv_verdict *v, enum cv_verdict_detail detail, size_t *len)
{
	const size_t skip = sizeof(TAIL_PREFIX) - 1;
	json_t *resp = cv_proto_verdict(NULL, v, detail);
	char *full = resp != NULL ? cv_proto_encode(resp, len) : NULL;

	json_decref(resp);
	if (full == NULL || *len <= skip || memcmp(full, TAIL_PREFIX, skip) != 0) {
		free(full);
		return NULL;
	}
	*len -= skip;
	memmove(full, full + skip, *len);
	return full;
}

char *
cv_proto_with_id_text(const char *id, size_t id_len, const char *tail, size_t tail_len, size_t *len)
{
	const size_t open = sizeof(CV_PROTO_ID_OPEN) - 1;
	char *line = malloc(open + id_len + 1 + tail_len);

	if (line == NULL)
		return NULL;
	memcpy(line, CV_PROTO_ID_OPEN, open);
	memcpy(line + open, id, id_len);
	line[open + id_len] = ',';
	memcpy(line + open + id_len + 1, tail, tail_len);
	*len = open + id_len + 1 + tail_len;
	return line;
}

char *
cv_proto_with_id(const json_t *id, const char *tail, size_t tail_len, size_t *len)
{
	char *id_text = id != NULL ? json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	const char *shown = id != NULL ? id_text : "null";
	char *line;

	if (shown == NULL)
		return NULL;
	line = cv_proto_with_id_text(shown, strlen(shown), tail, tail_len, len);
	free(id_text);
	return line;
}

json_t *
cv_proto_error(const json_t *id, enum cv_proto_code code, const char *message)
{
	/* the message may quote the request's own bytes, cut short inside a character */
	return json_pack("{s:O?, s:b, s:{s:s, s:o}}", "id", (json_t *)id, "ok", 0, "error", "code",
	                 cv_proto_code_name(code), "message", cv_json_text(message));
}

/* A growing output buffer for json_dump_callback. */
struct encode_buf {
	char *data;
	size_t len, cap;
};

static int
encode_append(const char *chunk, size_t size, void *arg)
{
	struct encode_buf *b = arg;

	if (b->cap - b->len < size + 1) {
		size_t cap = b->cap * 2;
		char *grown;

		while (cap - b->len < size + 1)
			cap *= 2;
		grown = realloc(b->data, cap);
		if (grown == NULL)
			return -1;
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, chunk, size);
	b->len += size;
	return 0;
}

/* Serialised once, into a buffer that grows by doubling (issue 13: the response used to be
 * serialised twice, once for its size). */
char *
cv_proto_encode(const json_t *response, size_t *len)
{
	struct encode_buf b = {malloc(4096), 0, 4096};

	if (b.data == NULL)
		return NULL;
	if (json_dump_callback(response, encode_append, &b, JSON_COMPACT) != 0 || b.len == 0) {
		free(b.data);
		return NULL;
	}
	b.data[b.len] = '\n'; /* encode_append always leaves room for it */
	*len = b.len + 1;
	return b.data;
}
