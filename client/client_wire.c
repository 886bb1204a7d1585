/* client_wire.c: request encoding and reply decoding shared by libcertval's two clients. */
#include "client_wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#define CERT_MAX (1u << 24) /* a DER certificate larger than this is refused */

static json_t *
cert_array(const struct cv_client_cert *certs, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < n; i++) {
		const gnutls_datum_t in = {(unsigned char *)certs[i].der,
		                           (unsigned int)certs[i].len};
		gnutls_datum_t out = {NULL, 0};
		json_t *s;

		if (certs[i].der == NULL || certs[i].len == 0 || certs[i].len > CERT_MAX ||
		    gnutls_base64_encode2(&in, &out) < 0)
			goto fail;
		s = json_stringn((const char *)out.data, out.size);
		gnutls_free(out.data);
		if (s == NULL || json_array_append_new(arr, s) != 0)
			goto fail;
	}
	return arr;
fail:
	json_decref(arr);
	return NULL;
}

static int
set_str(json_t *o, const char *key, const char *value)
{
	if (value == NULL)
		return 0;
	return json_object_set_new(o, key, json_string(value));
}

static json_t *
string_array(const char *const *v, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < n; i++) {
		if (v[i] == NULL || json_array_append_new(arr, json_string(v[i])) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

const char *
cv_wire_detail_name(enum cv_client_detail detail)
{
	switch (detail) {
	case CV_CLIENT_DETAIL_TRACE:
		return "trace";
	case CV_CLIENT_DETAIL_EVIDENCE:
		return "evidence";
	case CV_CLIENT_DETAIL_VERDICT:
		return "verdict";
	}
	return NULL;
}

json_t *
cv_wire_verify_request(const struct cv_client_request *r, enum cv_client_detail detail)
{
	json_t *req;

	if (r == NULL || r->chain == NULL || r->n_chain == 0 ||
	    (r->n_extra > 0 && r->extra == NULL) ||
	    (r->n_trustpoints > 0 && r->trustpoints == NULL))
		return NULL;
	req = json_pack("{s:s, s:o}", "op", "verify", "chain", cert_array(r->chain, r->n_chain));
	if (req == NULL)
		return NULL;
	if (r->n_extra > 0 &&
	    json_object_set_new(req, "extra", cert_array(r->extra, r->n_extra)) != 0)
		goto fail;
	if (r->n_trustpoints > 0 &&
	    json_object_set_new(req, "trustpoints",
	                        string_array(r->trustpoints, r->n_trustpoints)) != 0)
		goto fail;
	if (r->at != CV_CLIENT_AT_NOW &&
	    json_object_set_new(req, "at", json_integer((json_int_t)r->at)) != 0)
		goto fail;
	if (set_str(req, "purpose", r->purpose) != 0 ||
	    set_str(req, "peer_name", r->peer_name) != 0 ||
	    set_str(req, "peer_addr", r->peer_addr) != 0 ||
	    set_str(req, "application", r->application) != 0)
		goto fail;
	/* the default is left out: the request stays what it was before "detail" existed */
	if (detail != CV_CLIENT_DETAIL_TRACE &&
	    set_str(req, "detail", cv_wire_detail_name(detail)) != 0)
		goto fail;
	return req;
fail:
	json_decref(req);
	return NULL;
}

/*
 * The id goes first, as {"id":N,...: certvald answers a line whose bytes after the id it has
 * read before without reading its JSON again (ipc/seen_lines.h), reads one that differs only
 * in its first certificate from a template (ipc/line_templates.h), and only an id in front
 * leaves those bytes the same from one request to the next.
 */
int
cv_wire_frame(json_t *req, json_int_t id, char **line, size_t *len)
{
	char head[40], *body, *text;
	size_t head_len, body_len;

	*line = NULL;
	*len = 0;
	json_object_del(req, "id");
	body = json_dumps(req, JSON_COMPACT); /* "{...}" */
	if (body == NULL || json_object_set_new(req, "id", json_integer(id)) != 0) {
		free(body);
		return CV_CLIENT_ERR_MEMORY;
	}
	body_len = strlen(body);
	head_len = (size_t)snprintf(head, sizeof(head), "{\"id\":%" JSON_INTEGER_FORMAT "%s", id,
	                            body_len > 2 ? "," : "");
	/* the body without its "{", then the frame's newline */
	if ((text = malloc(head_len + body_len)) == NULL) {
		free(body);
		return CV_CLIENT_ERR_MEMORY;
	}
	memcpy(text, head, head_len);
	memcpy(text + head_len, body + 1, body_len - 1);
	text[head_len + body_len - 1] = '\n';
	*len = head_len + body_len;
	*line = text;
	free(body);
	return CV_CLIENT_OK;
}

int
cv_wire_parse_reply(const char *line, size_t len, json_t **resp, json_int_t *id, char *err,
                    size_t errsize)
{
	const json_t *jid;
	json_error_t jerr;

	*id = -1;
	*resp = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(*resp)) {
		json_decref(*resp);
		*resp = NULL;
		snprintf(err, errsize, "unreadable reply from certvald: %s",
		         jerr.text[0] != '\0' ? jerr.text : "not a JSON object");
		return CV_CLIENT_ERR_PROTOCOL;
	}
	jid = json_object_get(*resp, "id");
	if (json_is_integer(jid))
		*id = json_integer_value(jid);
	return CV_CLIENT_OK;
}

int
cv_wire_check_ok(const json_t *resp, char *code, size_t codesize, char *err, size_t errsize)
{
	const json_t *e = json_object_get(resp, "error");
	const char *c = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));

	if (json_is_true(json_object_get(resp, "ok")))
		return CV_CLIENT_OK;
	snprintf(code, codesize, "%s", c != NULL ? c : "internal");
	snprintf(err, errsize, "%s: %s", code, msg != NULL ? msg : "");
	return CV_CLIENT_ERR_SERVER;
}

static void
copy_member(char *dst, size_t size, const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	snprintf(dst, size, "%s", s != NULL ? s : "");
}

int
cv_wire_verdict(const json_t *resp, struct cv_client_verdict *verdict, char *code, size_t codesize,
                char *err, size_t errsize)
{
	const json_t *v;
	const char *decision;
	int rc;

	memset(verdict, 0, sizeof(*verdict));
	if ((rc = cv_wire_check_ok(resp, code, codesize, err, errsize)) != CV_CLIENT_OK)
		return rc;
	v = json_object_get(resp, "verdict");
	decision = json_string_value(json_object_get(v, "decision"));
	if (decision == NULL) {
		snprintf(err, errsize, "reply from certvald without a verdict");
		return CV_CLIENT_ERR_PROTOCOL;
	}
	verdict->decision = strcmp(decision, "ACCEPT") == 0 ? CV_CLIENT_ACCEPT : CV_CLIENT_REJECT;
	copy_member(verdict->reason, sizeof(verdict->reason), v, "reason");
	if (verdict->decision == CV_CLIENT_REJECT && verdict->reason[0] == '\0')
		snprintf(verdict->reason, sizeof(verdict->reason), "internal-error");
	copy_member(verdict->detail, sizeof(verdict->detail), v, "detail");
	copy_member(verdict->message, sizeof(verdict->message), v, "message");
	copy_member(verdict->trustpoint, sizeof(verdict->trustpoint), v, "trustpoint");
	copy_member(verdict->revocation, sizeof(verdict->revocation), v, "revocation");
	verdict->json = json_dumps(v, JSON_COMPACT);
	if (verdict->json == NULL) {
		snprintf(err, errsize, "out of memory");
		return CV_CLIENT_ERR_MEMORY;
	}
	return CV_CLIENT_OK;
}

int
cv_wire_connect(const char *path, int nonblock, char *err, size_t errsize)
{
	struct sockaddr_un sa;
	size_t len = strlen(path);
	int fd, e;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (len >= sizeof(sa.sun_path)) {
		snprintf(err, errsize, "socket path too long: %s", path);
		return -1;
	}
	memcpy(sa.sun_path, path, len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0) {
		snprintf(err, errsize, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		e = errno;
		close(fd);
		snprintf(err, errsize, "cannot connect to %s: %s", path,
		         e == EAGAIN ? "the daemon's listen queue is full" : strerror(e));
		return -1;
	}
	return fd;
}

int64_t
cv_wire_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
