/* fetch_http.c: HTTP and HTTPS fetches through libcurl's multi interface driven by libevent. */
#include "fetch_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "../../common/log.h"
#include "../../common/util.h"

/* One socket curl asked us to watch (curl_multi_assign keeps the pointer). */
struct sock {
	TAILQ_ENTRY(sock) entry;
	struct event *ev;
};

/* What the caching headers of one response say (RFC 9111 5.2, 5.3, 5.1; RFC 9110 6.6.1). */
struct freshness {
	long max_age;   /* Cache-Control max-age, -1 if absent */
	int no_cache;   /* no-cache or no-store */
	long age;       /* Age, 0 if absent */
	time_t date;    /* Date, -1 if absent */
	time_t expires; /* Expires, -1 if absent; 0 for an invalid date (already stale) */
};

/* One transfer: flight->backend. */
struct transfer {
	TAILQ_ENTRY(transfer) entry;
	struct cv_fetch_http *h;
	struct flight *fl;
	CURL *easy;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
	int too_large;
	struct freshness fresh; /* of the latest response's headers */
};

struct cv_fetch_http {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	TAILQ_HEAD(, transfer) transfers;
	TAILQ_HEAD(, sock) socks;
	int global_init;
};

static void check_done(struct cv_fetch_http *h);

static void
on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct cv_fetch_http *h = arg;
	int action = 0, running;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(h->multi, fd, action, &running);
	check_done(h);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct cv_fetch_http *h = arg;
	int running;

	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(h);
}

static void
sock_free(struct cv_fetch_http *h, struct sock *s)
{
	TAILQ_REMOVE(&h->socks, s, entry);
	event_free(s->ev);
	free(s);
}

/* CURLMOPT_SOCKETFUNCTION: watch, re-watch or forget a socket. */
static int
sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct cv_fetch_http *h = userp;
	struct sock *s = socketp;
	short kind = EV_PERSIST;

	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			sock_free(h, s);
			curl_multi_assign(h->multi, fd, NULL);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return -1;
		if ((s->ev = event_new(h->base, fd, kind, on_socket_event, h)) == NULL) {
			free(s);
			return -1;
		}
		TAILQ_INSERT_TAIL(&h->socks, s, entry);
		curl_multi_assign(h->multi, fd, s);
	} else {
		event_del(s->ev);
		event_assign(s->ev, h->base, fd, kind, on_socket_event, h);
	}
	return event_add(s->ev, NULL) == 0 ? 0 : -1;
}

/* CURLMOPT_TIMERFUNCTION: one libevent timer for the whole multi handle. */
static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct cv_fetch_http *h = userp;
	struct timeval tv;

	if (timeout_ms < 0)
		return evtimer_del(h->timer);
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	return evtimer_add(h->timer, &tv);
}

struct cv_fetch_http *
cv_fetch_http_new(struct event_base *base)
{
	const curl_version_info_data *vi;
	struct cv_fetch_http *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->base = base;
	TAILQ_INIT(&h->transfers);
	TAILQ_INIT(&h->socks);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto fail;
	h->global_init = 1;
	vi = curl_version_info(CURLVERSION_NOW);
	if (!(vi->features & CURL_VERSION_ASYNCHDNS))
		cv_log_warning("fetch: libcurl %s resolves names synchronously; a slow DNS server "
		               "can stall the event loop",
		               vi->version);
	if ((h->multi = curl_multi_init()) == NULL)
		goto fail;
	if ((h->timer = evtimer_new(base, on_timer, h)) == NULL)
		goto fail;
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	return h;
fail:
	cv_fetch_http_free(h);
	return NULL;
}

static void
transfer_free(struct transfer *t)
{
	struct cv_fetch_http *h = t->h;

	TAILQ_REMOVE(&h->transfers, t, entry);
	if (t->easy != NULL) {
		curl_multi_remove_handle(h->multi, t->easy);
		curl_easy_cleanup(t->easy);
	}
	curl_slist_free_all(t->headers);
	t->fl->backend = NULL;
	free(t);
}

void
cv_fetch_http_free(struct cv_fetch_http *h)
{
	struct transfer *t;
	struct sock *s;

	if (h == NULL)
		return;
	while ((t = TAILQ_FIRST(&h->transfers)) != NULL)
		transfer_free(t);
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	while ((s = TAILQ_FIRST(&h->socks)) != NULL)
		sock_free(h, s);
	if (h->timer != NULL)
		event_free(h->timer);
	if (h->global_init)
		curl_global_cleanup();
	free(h);
}

int
cv_fetch_http_check_url(const char *url, struct cv_error *err)
{
	CURLU *u;
	CURLUcode rc;
	char *host = NULL;
	int ret = -1;

	if ((u = curl_url()) == NULL) {
		cv_error_set(err, "out of memory");
		return -1;
	}
	if ((rc = curl_url_set(u, CURLUPART_URL, url, 0)) != CURLUE_OK) {
		cv_error_set(err, "bad URL \"%.200s\": %s", url, curl_url_strerror(rc));
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
		cv_error_set(err, "bad URL \"%.200s\": no host", url);
		goto out;
	}
	ret = 0;
out:
	curl_free(host);
	curl_url_cleanup(u);
	return ret;
}

/* CURLOPT_WRITEFUNCTION: append to the flight's buffer, abort beyond max_bytes. */
static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	struct flight *fl = t->fl;
	size_t n = size * nmemb, cap;
	uint8_t *p;

	if (n > fl->max_bytes - fl->len) {
		t->too_large = 1;
		return 0;
	}
	if (fl->len + n > fl->cap) {
		cap = fl->cap ? fl->cap : 16384;
		while (cap < fl->len + n)
			cap *= 2;
		if (cap > fl->max_bytes)
			cap = fl->max_bytes;
		if ((p = realloc(fl->buf, cap)) == NULL)
			return 0;
		fl->buf = p;
		fl->cap = cap;
	}
	memcpy(fl->buf + fl->len, data, n);
	fl->len += n;
	return n;
}

/* ASCII case-insensitive "does data start with prefix". */
static int
has_prefix_ci(const char *data, size_t n, const char *prefix)
{
	size_t i;
	char c;

	for (i = 0; prefix[i] != '\0'; i++) {
		if (i >= n)
			return 0;
		c = data[i] >= 'A' && data[i] <= 'Z' ? (char)(data[i] + 32) : data[i];
		if (c != prefix[i]) /* prefix is lower case */
			return 0;
	}
	return 1;
}

static void
freshness_reset(struct freshness *f)
{
	f->max_age = -1;
	f->no_cache = 0;
	f->age = 0;
	f->date = -1;
	f->expires = -1;
}

/* A non-negative delta-seconds (RFC 9111 1.2.2), saturated; -1 when not a number. */
static long
delta_seconds(const char *v)
{
	long n = 0;

	if (*v < '0' || *v > '9')
		return -1;
	for (; *v >= '0' && *v <= '9'; v++)
		n = n > 100000000L ? n : n * 10 + (*v - '0');
	return n;
}

/* Cache-Control directives, comma separated, case-insensitive; the others are ignored. */
static void
parse_cache_control(const char *v, struct freshness *f)
{
	while (*v != '\0') {
		size_t len;

		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		len = strcspn(v, ",");
		if (has_prefix_ci(v, len, "no-cache") || has_prefix_ci(v, len, "no-store"))
			f->no_cache = 1;
		else if (has_prefix_ci(v, len, "max-age="))
			f->max_age = delta_seconds(v + 8);
		v += len;
	}
}

/* One header line: name (lower case, with ':') matched, value copied trimmed into out. */
static int
header_value(const char *data, size_t n, const char *name, char *out, size_t outlen)
{
	const size_t nl = strlen(name);
	const char *v = data + nl;
	size_t len = n - nl;

	if (!has_prefix_ci(data, n, name))
		return 0;
	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
		len--;
	if (len == 0 || len >= outlen)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return 0; /* never echo control characters into a later request */
	memcpy(out, v, len);
	out[len] = '\0';
	return 1;
}

/* CURLOPT_HEADERFUNCTION: the final response's ETag and caching headers. */
static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	const size_t n = size * nmemb;
	char v[256];

	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		t->fl->res.etag[0] = '\0'; /* a new response (after a redirect) */
		freshness_reset(&t->fresh);
		return n;
	}
	if (header_value(data, n, "etag:", v, sizeof(t->fl->res.etag)))
		memcpy(t->fl->res.etag, v, strlen(v) + 1);
	else if (header_value(data, n, "cache-control:", v, sizeof(v)))
		parse_cache_control(v, &t->fresh);
	else if (header_value(data, n, "age:", v, sizeof(v)))
		t->fresh.age = delta_seconds(v) < 0 ? 0 : delta_seconds(v);
	else if (header_value(data, n, "date:", v, sizeof(v)))
		t->fresh.date = curl_getdate(v, NULL);
	else if (header_value(data, n, "expires:", v, sizeof(v)))
		t->fresh.expires = curl_getdate(v, NULL) < 0 ? 0 : curl_getdate(v, NULL);
	return n;
}

/*
 * RFC 9111 4.2.1: the freshness lifetime is max-age when present, else Expires - Date (Date
 * absent: our own time); the remaining freshness subtracts the Age a shared cache reports.
 */
static long
fresh_seconds(const struct freshness *f)
{
	long life;

	if (f->no_cache)
		return 0;
	if (f->max_age >= 0)
		life = f->max_age;
	else if (f->expires >= 0)
		life = (long)(f->expires - (f->date >= 0 ? f->date : time(NULL)));
	else
		return -1;
	life -= f->age;
	return life > 0 ? life : 0;
}

static int
add_header(struct transfer *t, const char *name, const char *value)
{
	char line[512];
	struct curl_slist *l;

	if (snprintf(line, sizeof(line), "%s: %s", name, value) >= (int)sizeof(line) ||
	    strpbrk(line, "\r\n") != NULL)
		return -1;
	if ((l = curl_slist_append(t->headers, line)) == NULL)
		return -1;
	t->headers = l;
	return 0;
}

/* `vrf NAME` (O-22): the socket is bound to the VRF's device before it connects. */
static int
bind_device_cb(void *device, curl_socket_t fd, curlsocktype purpose)
{
	const char *dev = device;

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKOPT_OK;
	return setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev)) == 0
	           ? CURL_SOCKOPT_OK
	           : CURL_SOCKOPT_ERROR;
}

/* RFC 9110 5.6.7: "Sun, 06 Nov 1994 08:49:37 GMT" (English names whatever the locale). */
static const char *
http_date(cv_time t, char out[40])
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	const time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		return "Thu, 01 Jan 1970 00:00:00 GMT";
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
	         months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return out;
}

static int
setup_easy(struct transfer *t, struct cv_error *err)
{
	const struct flight *fl = t->fl;
	CURL *e = t->easy;
	char date[40];
	int bad = 0;

	bad |= curl_easy_setopt(e, CURLOPT_URL, fl->url);
	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, t);
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	bad |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, fl->max_redirects > 0 ? 1L : 0L);
	bad |= curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)fl->max_redirects);
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)fl->timeout_ms);
	bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)fl->timeout_ms);
	bad |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)fl->max_bytes);
	bad |= curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L);
	bad |= curl_easy_setopt(e, CURLOPT_FILETIME, 1L);
	bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, "certval/0.1");
	/* "" ignores http_proxy and friends: only the configuration chooses a proxy. */
	bad |= curl_easy_setopt(e, CURLOPT_PROXY, fl->proxy ? fl->proxy : "");
	if (fl->source != NULL)
		bad |= curl_easy_setopt(e, CURLOPT_INTERFACE, fl->source);
	if (fl->device != NULL) {
		bad |= curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, bind_device_cb);
		bad |= curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, fl->device);
	}
	if (fl->is_post) {
		bad |= curl_easy_setopt(e, CURLOPT_POST, 1L);
		bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)fl->post_len);
		bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, fl->post);
		if (add_header(t, "Content-Type",
		               fl->content_type ? fl->content_type : "application/octet-stream") <
		        0 ||
		    add_header(t, "Expect", "") < 0)
			goto bad_header;
	}
	if (fl->etag != NULL && fl->etag[0] != '\0' && add_header(t, "If-None-Match", fl->etag) < 0)
		goto bad_header;
	/* If-Modified-Since as a plain header: curl's own time condition would also drop a
	 * 200 whose Last-Modified is not newer (a CRL republished within the same second). */
	if (fl->if_modified_since != CV_TIME_NONE &&
	    add_header(t, "If-Modified-Since", http_date(fl->if_modified_since, date)) < 0)
		goto bad_header;
	if (t->headers != NULL)
		bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
	if (bad) {
		cv_error_set(err, "libcurl refused an option for %.200s", fl->url);
		return -1;
	}
	return 0;
bad_header:
	cv_error_set(err, "bad request header for %.200s", fl->url);
	return -1;
}

int
cv_fetch_http_start(struct cv_fetch_http *h, struct flight *fl, struct cv_error *err)
{
	struct transfer *t;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		cv_error_set(err, "out of memory");
		return -1;
	}
	t->h = h;
	t->fl = fl;
	freshness_reset(&t->fresh);
	fl->backend = t;
	TAILQ_INSERT_TAIL(&h->transfers, t, entry);
	if ((t->easy = curl_easy_init()) == NULL) {
		cv_error_set(err, "out of memory");
		goto fail;
	}
	if (setup_easy(t, err) < 0)
		goto fail;
	if (curl_multi_add_handle(h->multi, t->easy) != CURLM_OK) {
		cv_error_set(err, "cannot add transfer for %.200s", fl->url);
		goto fail;
	}
	return 0;
fail:
	transfer_free(t);
	return -1;
}

void
cv_fetch_http_abort(struct cv_fetch_http *h, struct flight *fl)
{
	if (fl->backend != NULL)
		transfer_free(fl->backend);
}

/* Puts a failed transfer's reason into words. */
static void
describe_error(struct transfer *t, CURLcode rc, long status)
{
	const struct flight *fl = t->fl;
	char *out = t->fl->res.error;
	size_t outlen = sizeof(t->fl->res.error);
	long oserr = 0;

	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(out, outlen, "timeout after %u ms", fl->timeout_ms);
		return;
	case CURLE_FILESIZE_EXCEEDED:
		snprintf(out, outlen, "too large (> %zu bytes)", fl->max_bytes);
		return;
	case CURLE_WRITE_ERROR:
		if (t->too_large)
			snprintf(out, outlen, "too large (> %zu bytes)", fl->max_bytes);
		else
			snprintf(out, outlen, "out of memory");
		return;
	case CURLE_TOO_MANY_REDIRECTS:
		snprintf(out, outlen, "too many redirects (> %u)", fl->max_redirects);
		return;
	case CURLE_HTTP_RETURNED_ERROR:
		snprintf(out, outlen, "HTTP %ld", status);
		return;
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(t->easy, CURLINFO_OS_ERRNO, &oserr);
		if (oserr == ECONNREFUSED) {
			snprintf(out, outlen, "connection refused");
			return;
		}
		break;
	default:
		break;
	}
	snprintf(out, outlen, "%s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
}

/* A transfer ended: fill in the result, release curl's state, tell the core. */
static void
finish(struct transfer *t, CURLcode rc)
{
	struct flight *fl = t->fl;
	struct cv_fetch_result *res = &fl->res;
	long status = 0;
	curl_off_t filetime = -1;

	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	res->http_status = status;
	if (rc != CURLE_OK) {
		describe_error(t, rc, status);
	} else {
		curl_easy_getinfo(t->easy, CURLINFO_FILETIME_T, &filetime);
		if (filetime >= 0)
			res->last_modified = (cv_time)filetime;
		res->fresh_s = fresh_seconds(&t->fresh);
		if (status == 304) {
			res->ok = 1;
			res->not_modified = 1;
			fl->len = 0;
		} else if (status >= 200 && status < 300) {
			res->ok = 1;
		} else {
			snprintf(res->error, sizeof(res->error), "HTTP %ld", status);
		}
	}
	transfer_free(t);
	cv_fetch_flight_done(fl);
}

static void
check_done(struct cv_fetch_http *h)
{
	struct transfer *t;
	CURLMsg *msg;
	CURLcode rc;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		rc = msg->data.result;
		t = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		if (t != NULL)
			finish(t, rc);
	}
}
