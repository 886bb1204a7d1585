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
#include <unistd.h>

#include <jansson.h>

#include "client_wire.h"

struct cv_client {
	int fd; /* -1 when not connected */
	char *path;
	json_int_t next_id;
	char *buf; /* received bytes not yet consumed */
	size_t len;
	size_t cap;
	char code[CV_WIRE_CODE_SIZE];
	char err[CV_WIRE_ERR_SIZE];
	enum cv_client_detail detail; /* of verify requests */
};

static int fail(struct cv_client *cl, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

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
	disconnect(cl);
	cl->fd = cv_wire_connect(cl->path, 0, cl->err, sizeof(cl->err));
	return cl->fd >= 0 ? CV_CLIENT_OK : CV_CLIENT_ERR_CONNECT;
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

/* Milliseconds left before deadline (-1: none), for poll. */
static int
remaining(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - cv_wire_now_ms();
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
		if (cl->len >= CV_WIRE_REPLY_MAX) {
			disconnect(cl);
			return fail(cl, CV_CLIENT_ERR_PROTOCOL, "reply longer than %u bytes",
			            CV_WIRE_REPLY_MAX);
		}
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
		if (n > 0) {
			cl->len += (size_t)n;
		} else if (n == 0) {
			disconnect(cl);
			return fail(cl, CV_CLIENT_ERR_CONNECT, "%s closed the connection",
			            cl->path);
		} else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
			rc = fail(cl, CV_CLIENT_ERR_CONNECT, "recv from %s: %s", cl->path,
			          strerror(errno));
			disconnect(cl);
			return rc;
		}
	}
}

/*
 * Sends req (its id is set here) and waits for the reply with the same id. Replies to
 * requests this client gave up on are skipped; an unreadable reply, or an error the daemon
 * could not attribute to a request ("id": null, after which it closes), ends the connection.
 */
static int
exchange(struct cv_client *cl, json_t *req, int64_t deadline, json_t **resp)
{
	json_int_t id = ++cl->next_id, got;
	char *text = NULL, *line = NULL;
	size_t len;
	int rc;

	if ((rc = cv_wire_frame(req, id, &text, &len)) != CV_CLIENT_OK)
		return fail(cl, rc, "out of memory");
	rc = send_all(cl, text, len, deadline);
	free(text);
	while (rc == CV_CLIENT_OK) {
		if ((rc = read_line(cl, &line, deadline)) != CV_CLIENT_OK)
			break;
		rc = cv_wire_parse_reply(line, strlen(line), resp, &got, cl->err, sizeof(cl->err));
		free(line);
		if (rc != CV_CLIENT_OK)
			break;
		if (got == id)
			return CV_CLIENT_OK;
		if (got == -1 && (rc = cv_wire_check_ok(*resp, cl->code, sizeof(cl->code), cl->err,
		                                        sizeof(cl->err))) == CV_CLIENT_OK)
			rc = fail(cl, CV_CLIENT_ERR_PROTOCOL, "reply without a usable id");
		json_decref(*resp);
		*resp = NULL;
	}
	if (rc != CV_CLIENT_ERR_TIMEOUT)
		disconnect(cl);
	return rc;
}

/* exchange with one reconnection when the daemon closed the connection. */
static int
roundtrip(struct cv_client *cl, json_t *req, int timeout_ms, json_t **resp)
{
	int64_t deadline = timeout_ms < 0 ? -1 : cv_wire_now_ms() + timeout_ms;
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

int
cv_client_verify(struct cv_client *cl, const struct cv_client_request *r, int timeout_ms,
                 struct cv_client_verdict *verdict)
{
	json_t *req, *resp = NULL;
	int rc;

	if (verdict == NULL)
		return cl != NULL ? fail(cl, CV_CLIENT_ERR_ARGUMENT, "no verdict given")
		                  : CV_CLIENT_ERR_ARGUMENT;
	memset(verdict, 0, sizeof(*verdict));
	if (cl == NULL)
		return CV_CLIENT_ERR_ARGUMENT;
	if (r == NULL || r->chain == NULL || r->n_chain == 0)
		return fail(cl, CV_CLIENT_ERR_ARGUMENT, "no chain given");
	req = cv_wire_verify_request(r, cl->detail);
	if (req == NULL)
		return fail(cl, CV_CLIENT_ERR_ARGUMENT, "cannot encode the request");
	rc = roundtrip(cl, req, timeout_ms, &resp);
	json_decref(req);
	if (rc == CV_CLIENT_OK)
		rc = cv_wire_verdict(resp, verdict, cl->code, sizeof(cl->code), cl->err,
		                     sizeof(cl->err));
	json_decref(resp);
	return rc;
}

int
cv_client_set_detail(struct cv_client *cl, enum cv_client_detail detail)
{
	if (cl == NULL)
		return CV_CLIENT_ERR_ARGUMENT;
	if (cv_wire_detail_name(detail) == NULL)
		return fail(cl, CV_CLIENT_ERR_ARGUMENT, "unknown detail level %d", (int)detail);
	cl->detail = detail;
	return CV_CLIENT_OK;
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
	if (rc == CV_CLIENT_OK)
		rc = cv_wire_check_ok(resp, cl->code, sizeof(cl->code), cl->err, sizeof(cl->err));
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

const char *
cv_client_status_name(int status)
{
	switch (status) {
	case CV_CLIENT_OK:
		return "ok";
	case CV_CLIENT_ERR_ARGUMENT:
		return "argument";
	case CV_CLIENT_ERR_CONNECT:
		return "connect";
	case CV_CLIENT_ERR_TIMEOUT:
		return "timeout";
	case CV_CLIENT_ERR_PROTOCOL:
		return "protocol";
	case CV_CLIENT_ERR_SERVER:
		return "server";
	case CV_CLIENT_ERR_MEMORY:
		return "memory";
	default:
		return "unknown";
	}
}
