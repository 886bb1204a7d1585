/* client.c: libcertval, the blocking client of the daemon's socket protocol (certval.h). */
#include "certval.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <jansson.h>

#define REPLY_MAX (64u << 20) /* a reply line longer than this is a protocol error */

struct cv_client {
	int fd; /* -1 when not connected */
	char *path;
	json_int_t next_id;
	char *buf; /* received bytes not yet consumed */
	size_t len;
	size_t cap;
	char code[32];
	char err[512];
};

static int
fail(struct cv_client *cl, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cl->err, sizeof(cl->err), fmt, ap);
	va_end(ap);
	return status;
}

static void
disconnect(struct cv_client *cl)
{
	if (cl->fd >= 0)
		close(cl->fd);
	cl->fd = -1;
	cl->len = 0;
}

static int
reconnect(struct cv_client *cl)
{
	struct sockaddr_un sa;

	disconnect(cl);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(cl->path) >= sizeof(sa.sun_path))
		return fail(cl, CV_CLIENT_ERR_ARGUMENT, "socket path too long: %s", cl->path);
	memcpy(sa.sun_path, cl->path, strlen(cl->path) + 1);
	cl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cl->fd < 0)
		return fail(cl, CV_CLIENT_ERR_CONNECT, "socket: %s", strerror(errno));
	if (connect(cl->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		disconnect(cl);
		return fail(cl, CV_CLIENT_ERR_CONNECT, "cannot connect to %s: %s", cl->path,
		            strerror(e));
	}
	return CV_CLIENT_OK;
}

int
cv_client_open(const char *socket_path, struct cv_client **out)
{
	struct cv_client *cl;
	int rc;

	*out = NULL;
	if (socket_path == NULL)
		socket_path = getenv("CERTVAL_SOCKET");
	if (socket_path == NULL || socket_path[0] == '\0')
		socket_path = CV_CLIENT_DEFAULT_SOCKET;
	cl = calloc(1, sizeof(*cl));
	if (cl == NULL)
		return CV_CLIENT_ERR_MEMORY;
	cl->fd = -1;
	cl->path = strdup(socket_path);
	if (cl->path == NULL) {
		free(cl);
		return CV_CLIENT_ERR_MEMORY;
	}
	rc = reconnect(cl);
	*out = cl; /* also on failure, so that the caller can read cv_client_error */
	return rc;
}

void
cv_client_close(struct cv_client *cl)
{
	if (cl == NULL)
		return;
	disconnect(cl);
	free(cl->buf);
	free(cl->path);
	free(cl);
}

const char *
cv_client_error(const struct cv_client *cl)
{
	return cl != NULL ? cl->err : "no client";
}

const char *
cv_client_error_code(const struct cv_client *cl)
{
	return cl != NULL ? cl->code : "";
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before deadline (-1: none), for poll. */
static int
remaining(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - now_ms();
	return left < 0 ? 0 : left > 1000000000 ? 1000000000 : (int)left;
}

static int
wait_fd(struct cv_client *cl, short events, int64_t deadline)
{
	struct pollfd pfd = {cl->fd, events, 0};
	int rc;

	do
		rc = poll(&pfd, 1, remaining(deadline));
	while (rc < 0 && errno == EINTR);
	if (rc == 0) {
		disconnect(cl);
		return fail(cl, CV_CLIENT_ERR_TIMEOUT, "no reply from %s in time", cl->path);
	}
	if (rc < 0)
		return fail(cl, CV_CLIENT_ERR_CONNECT, "poll: %s", strerror(errno));
	return CV_CLIENT_OK;
}

static int
send_all(struct cv_client *cl, const char *data, size_t len, int64_t deadline)
{
	while (len > 0) {
		ssize_t n = send(cl->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		int rc;

		if (n > 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((rc = wait_fd(cl, POLLOUT, deadline)) != CV_CLIENT_OK)
				return rc;
			continue;
		}
		return fail(cl, CV_CLIENT_ERR_CONNECT, "send to %s: %s", cl->path,
		            n < 0 ? strerror(errno) : "nothing sent");
	}
	return CV_CLIENT_OK;
}

/* Reads one line into a malloc'd NUL-terminated string. */
static int
read_line(struct cv_client *cl, char **line, int64_t deadline)
{
	for (;;) {
		char *nl = cl->len > 0 ? memchr(cl->buf, '\n', cl->len) : NULL;
		ssize_t n;
		int rc;

		if (nl != NULL) {
			size_t l = (size_t)(nl - cl->buf);

			*line = malloc(l + 1);
			if (*line == NULL)
				return CV_CLIENT_ERR_MEMORY;
			memcpy(*line, cl->buf, l);
			(*line)[l] = '\0';
			memmove(cl->buf, nl + 1, cl->len - l - 1);
			cl->len -= l + 1;
			return CV_CLIENT_OK;
		}
		if (cl->len >= REPLY_MAX)
			return fail(cl, CV_CLIENT_ERR_PROTOCOL, "reply longer than %u bytes",
			            REPLY_MAX);
		if (cl->cap - cl->len < 4096) {
			size_t cap = cl->cap == 0 ? 16384 : cl->cap * 2;
			char *grown = realloc(cl->buf, cap);

			if (grown == NULL)
				return CV_CLIENT_ERR_MEMORY;
			cl->buf = grown;
			cl->cap = cap;
		}
		if ((rc = wait_fd(cl, POLLIN, deadline)) != CV_CLIENT_OK)
			return rc;
		n = recv(cl->fd, cl->buf + cl->len, cl->cap - cl->len, MSG_DONTWAIT);
		if (n > 0)
			cl->len += (size_t)n;
		else if (n == 0)
			return fail(cl, CV_CLIENT_ERR_CONNECT, "%s closed the connection",
			            cl->path);
		else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
			return fail(cl, CV_CLIENT_ERR_CONNECT, "recv from %s: %s", cl->path,
			            strerror(errno));
	}
}

/* Sends req (its id is set here) and waits for the reply with the same id. */
static int
exchange(struct cv_client *cl, json_t *req, int64_t deadline, json_t **resp)
{
	json_int_t id = ++cl->next_id;
	char *text = NULL, *line = NULL;
	size_t len;
	int rc;

	if (json_object_set_new(req, "id", json_integer(id)) != 0 ||
	    (text = json_dumps(req, JSON_COMPACT)) == NULL)
		return CV_CLIENT_ERR_MEMORY;
	len = strlen(text);
	text[len] = '\n'; /* json_dumps's NUL becomes the frame's newline */
	rc = send_all(cl, text, len + 1, deadline);
	free(text);
	while (rc == CV_CLIENT_OK) {
		json_error_t jerr;

		if ((rc = read_line(cl, &line, deadline)) != CV_CLIENT_OK)
			break;
		*resp = json_loads(line, 0, &jerr);
		free(line);
		if (!json_is_object(*resp)) {
			json_decref(*resp);
			*resp = NULL;
			disconnect(cl);
			return fail(cl, CV_CLIENT_ERR_PROTOCOL, "unreadable reply: %s", jerr.text);
		}
		if (json_integer_value(json_object_get(*resp, "id")) == id)
			return CV_CLIENT_OK;
		json_decref(*resp); /* a reply to a request this client gave up on */
		*resp = NULL;
	}
	return rc;
}

/* exchange with one reconnection when the daemon closed the connection. */
static int
roundtrip(struct cv_client *cl, json_t *req, int timeout_ms, json_t **resp)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	int rc = CV_CLIENT_ERR_CONNECT;

	*resp = NULL;
	cl->code[0] = '\0';
	for (int attempt = 0; attempt < 2; attempt++) {
		if (cl->fd < 0 && (rc = reconnect(cl)) != CV_CLIENT_OK)
			return rc;
		rc = exchange(cl, req, deadline, resp);
		if (rc != CV_CLIENT_ERR_CONNECT)
			break;
		disconnect(cl);
	}
	return rc;
}

/* Turns an error response into CV_CLIENT_ERR_SERVER with its code and message. */
static int
server_error(struct cv_client *cl, const json_t *resp)
{
	const json_t *e = json_object_get(resp, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));

	snprintf(cl->code, sizeof(cl->code), "%s", code != NULL ? code : "internal");
	return fail(cl, CV_CLIENT_ERR_SERVER, "%s: %s", cl->code, msg != NULL ? msg : "");
}

static json_t *
cert_array(const struct cv_client_cert *certs, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < n; i++) {
		const gnutls_datum_t in = {(unsigned char *)certs[i].der,
		                           (unsigned int)certs[i].len};
		gnutls_datum_t out = {NULL, 0};
		json_t *s;

		if (certs[i].der == NULL || certs[i].len == 0 || certs[i].len > (1u << 24) ||
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
verify_request(const struct cv_client_request *r)
{
	json_t *req =
	    json_pack("{s:s, s:o}", "op", "verify", "chain", cert_array(r->chain, r->n_chain));
	json_t *tps;

	if (req == NULL)
		return NULL;
	if (r->n_extra > 0 &&
	    json_object_set_new(req, "extra", cert_array(r->extra, r->n_extra)) != 0)
		goto fail;
	if (r->n_trustpoints > 0) {
		tps = json_array();
		for (size_t i = 0; tps != NULL && i < r->n_trustpoints; i++)
			if (json_array_append_new(tps, json_string(r->trustpoints[i])) != 0)
				goto fail_tps;
		if (json_object_set_new(req, "trustpoints", tps) != 0)
			goto fail;
	}
	if (r->at != CV_CLIENT_AT_NOW &&
	    json_object_set_new(req, "at", json_integer((json_int_t)r->at)) != 0)
		goto fail;
	if (set_str(req, "purpose", r->purpose) != 0 ||
	    set_str(req, "peer_name", r->peer_name) != 0 ||
	    set_str(req, "peer_addr", r->peer_addr) != 0 ||
	    set_str(req, "application", r->application) != 0)
		goto fail;
	return req;
fail_tps:
	json_decref(tps);
fail:
	json_decref(req);
	return NULL;
}

static void
copy_member(char *dst, size_t size, const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	snprintf(dst, size, "%s", s != NULL ? s : "");
}

int
cv_client_verify(struct cv_client *cl, const struct cv_client_request *r, int timeout_ms,
                 struct cv_client_verdict *verdict)
{
	json_t *req, *resp = NULL, *v;
	const char *decision;
	int rc;

	memset(verdict, 0, sizeof(*verdict));
	if (cl == NULL || r == NULL || r->chain == NULL || r->n_chain == 0)
		return cl != NULL ? fail(cl, CV_CLIENT_ERR_ARGUMENT, "no chain given")
		                  : CV_CLIENT_ERR_ARGUMENT;
	req = verify_request(r);
	if (req == NULL)
		return fail(cl, CV_CLIENT_ERR_ARGUMENT, "cannot encode the request");
	rc = roundtrip(cl, req, timeout_ms, &resp);
	json_decref(req);
	if (rc != CV_CLIENT_OK)
		return rc;
	if (!json_is_true(json_object_get(resp, "ok"))) {
		rc = server_error(cl, resp);
		goto done;
	}
	v = json_object_get(resp, "verdict");
	decision = json_string_value(json_object_get(v, "decision"));
	if (decision == NULL) {
		rc = fail(cl, CV_CLIENT_ERR_PROTOCOL, "reply without a verdict");
		goto done;
	}
	/* Anything but an explicit ACCEPT is a rejection. */
	verdict->decision = strcmp(decision, "ACCEPT") == 0 ? CV_CLIENT_ACCEPT : CV_CLIENT_REJECT;
	copy_member(verdict->reason, sizeof(verdict->reason), v, "reason");
	copy_member(verdict->detail, sizeof(verdict->detail), v, "detail");
	copy_member(verdict->message, sizeof(verdict->message), v, "message");
	copy_member(verdict->trustpoint, sizeof(verdict->trustpoint), v, "trustpoint");
	copy_member(verdict->revocation, sizeof(verdict->revocation), v, "revocation");
	verdict->json = json_dumps(v, JSON_COMPACT);
	if (verdict->json == NULL)
		rc = CV_CLIENT_ERR_MEMORY;
done:
	json_decref(resp);
	return rc;
}

void
cv_client_verdict_free(struct cv_client_verdict *verdict)
{
	if (verdict == NULL)
		return;
	free(verdict->json);
	verdict->json = NULL;
}

int
cv_client_ping(struct cv_client *cl, int timeout_ms)
{
	json_t *req, *resp = NULL;
	int rc;

	if (cl == NULL)
		return CV_CLIENT_ERR_ARGUMENT;
	req = json_pack("{s:s}", "op", "ping");
	if (req == NULL)
		return CV_CLIENT_ERR_MEMORY;
	rc = roundtrip(cl, req, timeout_ms, &resp);
	json_decref(req);
	if (rc == CV_CLIENT_OK && !json_is_true(json_object_get(resp, "ok")))
		rc = server_error(cl, resp);
	json_decref(resp);
	return rc;
}

int
cv_client_call_json(struct cv_client *cl, const char *request_json, int timeout_ms,
                    char **response_json)
{
	json_t *req, *resp = NULL;
	json_error_t jerr;
	int rc;

	*response_json = NULL;
	if (cl == NULL || request_json == NULL)
		return CV_CLIENT_ERR_ARGUMENT;
	req = json_loads(request_json, 0, &jerr);
	if (!json_is_object(req)) {
		json_decref(req);
		return fail(cl, CV_CLIENT_ERR_ARGUMENT, "the request is not a JSON object");
	}
	rc = roundtrip(cl, req, timeout_ms, &resp);
	json_decref(req);
	if (rc == CV_CLIENT_OK) {
		*response_json = json_dumps(resp, JSON_COMPACT);
		if (*response_json == NULL)
			rc = CV_CLIENT_ERR_MEMORY;
	}
	json_decref(resp);
	return rc;
}
