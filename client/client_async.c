/* client_async.c: libcertval's non-blocking client for servers with their own event loop. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "certval.h"
#include "client_wire.h"

#define READ_CHUNK 65536

/* A request in flight. */
struct pending {
	struct pending *next;
	uint64_t id;
	int64_t deadline; /* CLOCK_MONOTONIC milliseconds, -1: none */
	cv_client_async_cb cb;
	void *arg;
};

struct cv_client_async {
	int fd;       /* -1 when not connected */
	unsigned gen; /* counts dropped connections, to notice a drop inside a loop */
	bool broken;  /* a send failed outside process(): drop at the next process() */
	bool in_process;
	char *path;
	uint64_t next_id;
	struct pending *head; /* in submission order */
	size_t n_pending;
	char *in; /* received bytes not yet consumed */
	size_t in_len, in_cap;
	char *out; /* queued request lines; out[out_off..out_len) not yet sent */
	size_t out_off, out_len, out_cap;
	char err[CV_WIRE_ERR_SIZE];
	enum cv_client_detail detail; /* of verify requests */
};

static int fail(struct cv_client_async *ac, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct cv_client_async *ac, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ac->err, sizeof(ac->err), fmt, ap);
	va_end(ap);
	return status;
}

static void
deliver(struct pending *p, int status, const struct cv_client_verdict *v, const char *error,
        const char *code)
{
	struct cv_client_result r;

	r.id = p->id;
	r.status = status;
	r.verdict = status == CV_CLIENT_OK ? v : NULL;
	r.error = status == CV_CLIENT_OK ? "" : error;
	r.error_code = code != NULL ? code : "";
	p->cb(&r, p->arg);
	free(p);
}

/* Closes the connection and fails every request in flight with status and the text of err. */
static int
drop(struct cv_client_async *ac, int status)
{
	char why[CV_WIRE_ERR_SIZE];
	struct pending *list = ac->head, *next;

	if (ac->fd >= 0)
		close(ac->fd);
	ac->fd = -1;
	ac->gen++;
	ac->broken = false;
	ac->in_len = 0;
	ac->out_off = ac->out_len = 0;
	ac->head = NULL;
	ac->n_pending = 0;
	/* Callbacks may submit (and so reconnect) while the old requests are failed. */
	snprintf(why, sizeof(why), "%s", ac->err);
	for (; list != NULL; list = next) {
		next = list->next;
		deliver(list, status, NULL, why, NULL);
	}
	return status;
}

int
cv_client_async_new(const char *socket_path, struct cv_client_async **out)
{
	struct cv_client_async *ac;

	if (out == NULL)
		return CV_CLIENT_ERR_ARGUMENT;
	*out = NULL;
	if (socket_path == NULL)
		socket_path = getenv("CERTVAL_SOCKET");
	if (socket_path == NULL || socket_path[0] == '\0')
		socket_path = CV_CLIENT_DEFAULT_SOCKET;
	ac = calloc(1, sizeof(*ac));
	if (ac == NULL)
		return CV_CLIENT_ERR_MEMORY;
	ac->fd = -1;
	ac->path = strdup(socket_path);
	if (ac->path == NULL) {
		free(ac);
		return CV_CLIENT_ERR_MEMORY;
	}
	*out = ac;
	return CV_CLIENT_OK;
}

void
cv_client_async_free(struct cv_client_async *ac)
{
	struct pending *p, *next;

	if (ac == NULL)
		return;
	if (ac->fd >= 0)
		close(ac->fd);
	for (p = ac->head; p != NULL; p = next) {
		next = p->next;
		free(p);
	}
	free(ac->in);
	free(ac->out);
	free(ac->path);
	free(ac);
}

const char *
cv_client_async_error(const struct cv_client_async *ac)
{
	return ac != NULL ? ac->err : "no client";
}

size_t
cv_client_async_pending(const struct cv_client_async *ac)
{
	return ac != NULL ? ac->n_pending : 0;
}

int
cv_client_async_fd(const struct cv_client_async *ac)
{
	return ac != NULL ? ac->fd : -1;
}

int
cv_client_async_events(const struct cv_client_async *ac)
{
	if (ac == NULL || ac->fd < 0)
		return 0;
	return CV_CLIENT_WANT_READ | (ac->out_off < ac->out_len ? CV_CLIENT_WANT_WRITE : 0);
}

int
cv_client_async_next_timeout_ms(const struct cv_client_async *ac)
{
	int64_t first = -1, now;

	if (ac == NULL)
		return -1;
	if (ac->broken)
		return 0;
	for (const struct pending *p = ac->head; p != NULL; p = p->next)
		if (p->deadline >= 0 && (first < 0 || p->deadline < first))
			first = p->deadline;
	if (first < 0)
		return -1;
	now = cv_wire_now_ms();
	if (first <= now)
		return 0;
	return first - now > 1000000000 ? 1000000000 : (int)(first - now);
}

/*
 * Before a submit: when nothing is in flight, a connection the daemon closed meanwhile (a
 * restart) is replaced by a new one, so that the request is not lost on a dead socket.
 */
static int
ensure_connected(struct cv_client_async *ac)
{
	char c;

	if (ac->fd >= 0 && ac->head == NULL && !ac->broken) {
		ssize_t n = recv(ac->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

		if (n == 0 ||
		    (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			close(ac->fd);
			ac->fd = -1;
			ac->gen++;
			ac->in_len = 0;
			ac->out_off = ac->out_len = 0;
		}
	}
	if (ac->fd >= 0)
		return CV_CLIENT_OK;
	ac->fd = cv_wire_connect(ac->path, 1, ac->err, sizeof(ac->err));
	return ac->fd >= 0 ? CV_CLIENT_OK : CV_CLIENT_ERR_CONNECT;
}

static int
queue(struct cv_client_async *ac, const char *line, size_t len)
{
	if (ac->out_off > 0 && ac->out_off == ac->out_len)
		ac->out_off = ac->out_len = 0;
	if (ac->out_cap - ac->out_len < len) {
		size_t cap = ac->out_cap == 0 ? 16384 : ac->out_cap;
		char *grown;

		while (cap - ac->out_len < len)
			cap *= 2;
		grown = realloc(ac->out, cap);
		if (grown == NULL)
			return CV_CLIENT_ERR_MEMORY;
		ac->out = grown;
		ac->out_cap = cap;
	}
	memcpy(ac->out + ac->out_len, line, len);
	ac->out_len += len;
	return CV_CLIENT_OK;
}

/* Sends what the socket takes now. Returns CV_CLIENT_OK or CV_CLIENT_ERR_CONNECT (err set). */
static int
flush(struct cv_client_async *ac)
{
	while (ac->out_off < ac->out_len) {
		ssize_t n = send(ac->fd, ac->out + ac->out_off, ac->out_len - ac->out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			ac->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return CV_CLIENT_OK;
		return fail(ac, CV_CLIENT_ERR_CONNECT, "send to %s: %s", ac->path,
		            n < 0 ? strerror(errno) : "nothing sent");
	}
	ac->out_off = ac->out_len = 0;
	return CV_CLIENT_OK;
}

int
cv_client_async_verify(struct cv_client_async *ac, const struct cv_client_request *r,
                       int timeout_ms, cv_client_async_cb cb, void *arg, uint64_t *id)
{
	struct pending *p = NULL, **tail;
	json_t *req = NULL;
	char *line = NULL;
	size_t len;
	int rc;

	if (ac == NULL)
		return CV_CLIENT_ERR_ARGUMENT;
	if (cb == NULL)
		return fail(ac, CV_CLIENT_ERR_ARGUMENT, "no callback given");
	if ((req = cv_wire_verify_request(r, ac->detail)) == NULL)
		return fail(ac, CV_CLIENT_ERR_ARGUMENT, "no chain given or cannot encode it");
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    cv_wire_frame(req, (json_int_t)(ac->next_id + 1), &line, &len) != CV_CLIENT_OK) {
		rc = fail(ac, CV_CLIENT_ERR_MEMORY, "out of memory");
		goto fail;
	}
	if ((rc = ensure_connected(ac)) != CV_CLIENT_OK || (rc = queue(ac, line, len)) != 0)
		goto fail;
	p->id = ++ac->next_id;
	p->deadline = timeout_ms > 0 ? cv_wire_now_ms() + timeout_ms : -1;
	p->cb = cb;
	p->arg = arg;
	for (tail = &ac->head; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = p;
	ac->n_pending++;
	/* Inside a callback process() flushes afterwards; a failed send is handled there too. */
	if (!ac->in_process && !ac->broken && flush(ac) != CV_CLIENT_OK)
		ac->broken = true;
	if (id != NULL)
		*id = p->id;
	free(line);
	json_decref(req);
	return CV_CLIENT_OK;
fail:
	free(line);
	free(p);
	json_decref(req);
	return rc;
}

/* Unlinks the request with this id, or returns NULL. */
static struct pending *
take(struct cv_client_async *ac, uint64_t id)
{
	for (struct pending **pp = &ac->head; *pp != NULL; pp = &(*pp)->next) {
		struct pending *p = *pp;

		if (p->id == id) {
			*pp = p->next;
			ac->n_pending--;
			return p;
		}
	}
	return NULL;
}

int
cv_client_async_set_detail(struct cv_client_async *ac, enum cv_client_detail detail)
{
	if (ac == NULL)
		return CV_CLIENT_ERR_ARGUMENT;
	if (cv_wire_detail_name(detail) == NULL)
		return fail(ac, CV_CLIENT_ERR_ARGUMENT, "unknown detail level %d", (int)detail);
	ac->detail = detail;
	return CV_CLIENT_OK;
}

int
cv_client_async_cancel(struct cv_client_async *ac, uint64_t id)
{
	struct pending *p;

	if (ac == NULL)
		return CV_CLIENT_ERR_ARGUMENT;
	if ((p = take(ac, id)) == NULL)
		return fail(ac, CV_CLIENT_ERR_ARGUMENT, "no request %llu in flight",
		            (unsigned long long)id);
	free(p);
	return CV_CLIENT_OK;
}

/* One reply line: the callback of its request, or a drop when the line is not a reply. */
static int
handle_line(struct cv_client_async *ac, const char *line, size_t len)
{
	char code[CV_WIRE_CODE_SIZE] = "", err[CV_WIRE_ERR_SIZE] = "";
	struct cv_client_verdict v;
	struct pending *p;
	json_t *resp = NULL;
	json_int_t id;
	int rc;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return CV_CLIENT_OK;
	if (cv_wire_parse_reply(line, len, &resp, &id, ac->err, sizeof(ac->err)) != CV_CLIENT_OK)
		return drop(ac, CV_CLIENT_ERR_PROTOCOL);
	if (id < 0) {
		/* The daemon could not frame our input; it closes the connection next. */
		if (cv_wire_check_ok(resp, code, sizeof(code), err, sizeof(err)) == CV_CLIENT_OK)
			snprintf(err, sizeof(err), "reply without a usable id");
		json_decref(resp);
		fail(ac, CV_CLIENT_ERR_PROTOCOL, "certvald: %s", err);
		return drop(ac, CV_CLIENT_ERR_PROTOCOL);
	}
	p = take(ac, (uint64_t)id);
	if (p == NULL) { /* cancelled or timed out */
		json_decref(resp);
		return CV_CLIENT_OK;
	}
	rc = cv_wire_verdict(resp, &v, code, sizeof(code), err, sizeof(err));
	json_decref(resp);
	deliver(p, rc, &v, err, code);
	cv_client_verdict_free(&v);
	return CV_CLIENT_OK;
}

/* Handles the complete lines in the input buffer. */
static int
consume(struct cv_client_async *ac)
{
	unsigned gen = ac->gen;
	size_t pos = 0;
	int rc;

	while (pos < ac->in_len) {
		char *nl = memchr(ac->in + pos, '\n', ac->in_len - pos);
		size_t l;

		if (nl == NULL)
			break;
		l = (size_t)(nl - (ac->in + pos));
		rc = handle_line(ac, ac->in + pos, l);
		if (ac->gen != gen)
			return rc; /* dropped: the buffer is gone */
		pos += l + 1;
	}
	memmove(ac->in, ac->in + pos, ac->in_len - pos);
	ac->in_len -= pos;
	if (ac->in_len >= CV_WIRE_REPLY_MAX) {
		fail(ac, CV_CLIENT_ERR_PROTOCOL, "reply from certvald longer than %u bytes",
		     CV_WIRE_REPLY_MAX);
		return drop(ac, CV_CLIENT_ERR_PROTOCOL);
	}
	return CV_CLIENT_OK;
}

/* Reads until the socket would block; handles the lines. */
static int
receive(struct cv_client_async *ac)
{
	unsigned gen = ac->gen;
	int rc;

	while (ac->fd >= 0 && ac->gen == gen) {
		ssize_t n;

		if (ac->in_cap - ac->in_len < READ_CHUNK) {
			size_t cap = ac->in_cap == 0 ? 2 * READ_CHUNK : ac->in_cap * 2;
			char *grown = realloc(ac->in, cap);

			if (grown == NULL) {
				fail(ac, CV_CLIENT_ERR_MEMORY, "out of memory");
				return drop(ac, CV_CLIENT_ERR_MEMORY);
			}
			ac->in = grown;
			ac->in_cap = cap;
		}
		n = recv(ac->fd, ac->in + ac->in_len, ac->in_cap - ac->in_len, MSG_DONTWAIT);
		if (n == 0) {
			fail(ac, CV_CLIENT_ERR_CONNECT, "%s closed the connection", ac->path);
			return drop(ac, CV_CLIENT_ERR_CONNECT);
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return CV_CLIENT_OK;
			fail(ac, CV_CLIENT_ERR_CONNECT, "recv from %s: %s", ac->path,
			     strerror(errno));
			return drop(ac, CV_CLIENT_ERR_CONNECT);
		}
		ac->in_len += (size_t)n;
		if ((rc = consume(ac)) != CV_CLIENT_OK)
			return rc;
	}
	return CV_CLIENT_OK;
}

/* Fails the requests whose deadline has passed (the connection stays). */
static void
expire(struct cv_client_async *ac)
{
	struct pending *due = NULL, **due_tail = &due, *p;
	int64_t now = cv_wire_now_ms();

	for (struct pending **pp = &ac->head; (p = *pp) != NULL;) {
		if (p->deadline >= 0 && p->deadline <= now) {
			*pp = p->next;
			ac->n_pending--;
			p->next = NULL;
			*due_tail = p;
			due_tail = &p->next;
		} else {
			pp = &p->next;
		}
	}
	for (; due != NULL; due = p) {
		char why[CV_WIRE_ERR_SIZE];

		p = due->next;
		snprintf(why, sizeof(why), "no reply from %s in time", ac->path);
		deliver(due, CV_CLIENT_ERR_TIMEOUT, NULL, why, NULL);
	}
}

int
cv_client_async_process(struct cv_client_async *ac)
{
	int rc = CV_CLIENT_OK;

	if (ac == NULL || ac->in_process)
		return CV_CLIENT_ERR_ARGUMENT;
	ac->in_process = true;
	if (ac->broken)
		rc = drop(ac, CV_CLIENT_ERR_CONNECT);
	if (rc == CV_CLIENT_OK && ac->fd >= 0 && (rc = flush(ac)) != CV_CLIENT_OK)
		rc = drop(ac, rc);
	if (rc == CV_CLIENT_OK && ac->fd >= 0)
		rc = receive(ac);
	expire(ac);
	/* What callbacks submitted meanwhile. */
	if (ac->fd >= 0 && flush(ac) != CV_CLIENT_OK)
		ac->broken = true;
	ac->in_process = false;
	return rc;
}
