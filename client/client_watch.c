/* client_watch.c: libcertval's subscription to certvald's revocation events (certval.h). */
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

#include <gnutls/gnutls.h>
#include <jansson.h>

#include "client_wire.h"

#define WATCH_LINE_MAX (1u << 20) /* an event line longer than this drops the connection */

struct cv_client_watch {
	int fd; /* -1 while disconnected */
	char *path;
	json_t *request; /* the subscribe request, sent again on every connection */
	int timeout_ms;
	cv_client_event_cb cb;
	void *arg;
	bool subscribed_once; /* a later subscription reports "reconnected" */
	char *buf;
	size_t len, cap;
	char err[CV_WIRE_ERR_SIZE];
};

static int fail(struct cv_client_watch *w, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct cv_client_watch *w, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	return status;
}

static void
disconnect(struct cv_client_watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	w->len = 0;
}

/* The subscribe request of opts (without its id); NULL when opts cannot be encoded. */
static json_t *
subscribe_request(const struct cv_client_watch_opts *o)
{
	json_t *req = json_pack("{s:s}", "op", "subscribe"), *certs;

	if (req == NULL || o == NULL)
		return req;
	if (o->trustpoint != NULL &&
	    json_object_set_new(req, "trustpoint", json_string(o->trustpoint)) != 0)
		goto fail;
	if (o->queue > 0 && json_object_set_new(req, "queue", json_integer(o->queue)) != 0)
		goto fail;
	if (o->n_certs == 0)
		return req;
	if (o->certs == NULL || (certs = json_array()) == NULL ||
	    json_object_set_new(req, "certificates", certs) != 0)
		goto fail;
	for (size_t i = 0; i < o->n_certs; i++) {
		const struct cv_client_watch_cert *c = &o->certs[i];
		json_t *e;

		if (c->cert_der != NULL) {
			const gnutls_datum_t in = {(unsigned char *)c->cert_der,
			                           (unsigned int)c->cert_der_len};
			gnutls_datum_t out = {NULL, 0};

			if (c->cert_der_len == 0 || c->cert_der_len > (1u << 24) ||
			    gnutls_base64_encode2(&in, &out) < 0)
				goto fail;
			e = json_pack("{s:s%}", "certificate", (const char *)out.data,
			              (size_t)out.size);
			gnutls_free(out.data);
		} else if (c->issuer != NULL && c->serial != NULL) {
			e = json_pack("{s:s, s:s}", "issuer", c->issuer, "serial", c->serial);
		} else {
			goto fail;
		}
		if (e == NULL || json_array_append_new(certs, e) != 0)
			goto fail;
	}
	return req;
fail:
	json_decref(req);
	return NULL;
}

static const char *
field(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* Calls the callback with one event object (line: its text). */
static void
emit(struct cv_client_watch *w, const json_t *o, const char *line)
{
	const json_t *evd = json_object_get(o, "evidence");
	struct cv_client_event e = {
	    .event = field(o, "event"),
	    .trustpoint = field(o, "trustpoint"),
	    .issuer = field(o, "issuer"),
	    .serial = field(o, "serial"),
	    .reason = field(o, "reason"),
	    .revocation_time = field(o, "revocation_time"),
	    .source = field(evd != NULL ? evd : o, "source"),
	    .crl_number = field(evd, "crl_number"),
	    .verified = json_is_true(json_object_get(o, "verified")),
	    .lost = (unsigned long long)json_integer_value(json_object_get(o, "count")),
	    .json = line,
	};

	w->cb(&e, w->arg);
}

/* One line: an event, or the reply to our subscribe request (*replied set). */
static int
handle_line(struct cv_client_watch *w, const char *line, size_t len, bool *replied)
{
	char code[CV_WIRE_CODE_SIZE] = "";
	json_int_t id;
	json_t *o;
	int rc = cv_wire_parse_reply(line, len, &o, &id, w->err, sizeof(w->err));

	if (rc != CV_CLIENT_OK)
		return rc;
	if (json_object_get(o, "event") != NULL) {
		emit(w, o, line);
	} else if (replied != NULL) {
		rc = cv_wire_check_ok(o, code, sizeof(code), w->err, sizeof(w->err));
		*replied = true;
	}
	json_decref(o);
	return rc;
}

/* Reads what is available; complete lines are handled. Returns OK, or an error (dropped). */
static int
read_some(struct cv_client_watch *w, bool *replied)
{
	for (;;) {
		char *nl;
		ssize_t n;
		int rc;

		while ((nl = w->len > 0 ? memchr(w->buf, '\n', w->len) : NULL) != NULL) {
			const size_t l = (size_t)(nl - w->buf);

			*nl = '\0';
			rc = handle_line(w, w->buf, l, replied);
			memmove(w->buf, nl + 1, w->len - l - 1);
			w->len -= l + 1;
			if (rc != CV_CLIENT_OK) {
				disconnect(w);
				return rc;
			}
		}
		if (w->len >= WATCH_LINE_MAX) {
			disconnect(w);
			return fail(w, CV_CLIENT_ERR_PROTOCOL, "event line longer than %u bytes",
			            WATCH_LINE_MAX);
		}
		if (w->cap - w->len < 4096) {
			const size_t cap = w->cap == 0 ? 16384 : w->cap * 2;
			char *grown = realloc(w->buf, cap);

			if (grown == NULL)
				return fail(w, CV_CLIENT_ERR_MEMORY, "out of memory");
			w->buf = grown;
			w->cap = cap;
		}
		n = recv(w->fd, w->buf + w->len, w->cap - w->len - 1, MSG_DONTWAIT);
		if (n > 0) {
			w->len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return CV_CLIENT_OK;
		rc = fail(w, CV_CLIENT_ERR_CONNECT, "%s: %s", w->path,
		          n == 0 ? "the daemon closed the connection" : strerror(errno));
		disconnect(w);
		return rc;
	}
}

/* Connects, sends the subscribe request and waits for its reply (events before it are
 * delivered). */
static int
subscribe(struct cv_client_watch *w)
{
	const int64_t deadline = w->timeout_ms < 0 ? -1 : cv_wire_now_ms() + w->timeout_ms;
	bool replied = false;
	char *text = NULL;
	size_t len = 0, off = 0;
	int rc;

	w->fd = cv_wire_connect(w->path, 0, w->err, sizeof(w->err));
	if (w->fd < 0)
		return CV_CLIENT_ERR_CONNECT;
	if ((rc = cv_wire_frame(w->request, 1, &text, &len)) != CV_CLIENT_OK) {
		disconnect(w);
		return fail(w, rc, "out of memory");
	}
	while (off < len) {
		const ssize_t n = send(w->fd, text + off, len - off, MSG_NOSIGNAL);

		if (n <= 0 && errno != EINTR) {
			free(text);
			disconnect(w);
			return fail(w, CV_CLIENT_ERR_CONNECT, "send to %s: %s", w->path,
			            strerror(errno));
		}
		off += n > 0 ? (size_t)n : 0;
	}
	free(text);
	while (!replied) {
		struct pollfd pfd = {w->fd, POLLIN, 0};
		const int64_t left = deadline < 0 ? -1 : deadline - cv_wire_now_ms();

		if (deadline >= 0 && left <= 0) {
			disconnect(w);
			return fail(w, CV_CLIENT_ERR_TIMEOUT, "no reply from %s in time", w->path);
		}
		if (poll(&pfd, 1, left < 0 ? -1 : (int)left) < 0 && errno != EINTR) {
			disconnect(w);
			return fail(w, CV_CLIENT_ERR_CONNECT, "poll: %s", strerror(errno));
		}
		if ((rc = read_some(w, &replied)) != CV_CLIENT_OK)
			return rc;
		if (w->fd < 0)
			return fail(w, CV_CLIENT_ERR_CONNECT, "%s closed the connection", w->path);
	}
	if (w->subscribed_once) {
		static const char line[] = "{\"event\":\"reconnected\"}";
		json_t *o = json_pack("{s:s}", "event", "reconnected");

		if (o != NULL)
			emit(w, o, line);
		json_decref(o);
	}
	w->subscribed_once = true;
	return CV_CLIENT_OK;
}

int
cv_client_watch_open(const char *socket_path, const struct cv_client_watch_opts *opts,
                     int timeout_ms, cv_client_event_cb cb, void *arg, struct cv_client_watch **out)
{
	struct cv_client_watch *w;

	*out = NULL;
	if (cb == NULL)
		return CV_CLIENT_ERR_ARGUMENT;
	if (socket_path == NULL)
		socket_path = getenv("CERTVAL_SOCKET");
	if (socket_path == NULL || socket_path[0] == '\0')
		socket_path = CV_CLIENT_DEFAULT_SOCKET;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return CV_CLIENT_ERR_MEMORY;
	w->fd = -1;
	w->cb = cb;
	w->arg = arg;
	w->timeout_ms = timeout_ms;
	w->path = strdup(socket_path);
	w->request = subscribe_request(opts);
	*out = w;
	if (w->path == NULL)
		return fail(w, CV_CLIENT_ERR_MEMORY, "out of memory");
	if (w->request == NULL)
		return fail(w, CV_CLIENT_ERR_ARGUMENT, "the subscription cannot be encoded");
	return subscribe(w);
}

void
cv_client_watch_close(struct cv_client_watch *w)
{
	if (w == NULL)
		return;
	disconnect(w);
	json_decref(w->request);
	free(w->buf);
	free(w->path);
	free(w);
}

int
cv_client_watch_fd(const struct cv_client_watch *w)
{
	return w != NULL ? w->fd : -1;
}

int
cv_client_watch_process(struct cv_client_watch *w)
{
	int rc;

	if (w == NULL || w->request == NULL)
		return CV_CLIENT_ERR_ARGUMENT;
	if (w->fd < 0 && (rc = subscribe(w)) != CV_CLIENT_OK)
		return rc;
	return read_some(w, NULL);
}

int
cv_client_watch_wait(struct cv_client_watch *w, int timeout_ms)
{
	struct pollfd pfd;

	if (w == NULL)
		return CV_CLIENT_ERR_ARGUMENT;
	if (w->fd >= 0) {
		pfd.fd = w->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR)
			return fail(w, CV_CLIENT_ERR_CONNECT, "poll: %s", strerror(errno));
	} else if (timeout_ms > 0) {
		poll(NULL, 0, timeout_ms < 1000 ? timeout_ms : 1000); /* before reconnecting */
	}
	return cv_client_watch_process(w);
}

const char *
cv_client_watch_error(const struct cv_client_watch *w)
{
	return w != NULL ? w->err : "no watch";
}
