/*
 * fetch_ldap.c: LDAP and LDAPS CRL fetches (RFC 4516 URLs and directory CDPs, SPEC R16, R18,
 * O-15). Each fetch runs OpenLDAP's calls as a task of common/worker.h (a detached thread with
 * its own timeouts, the result delivered to the loop), and the loop enforces the deadline with
 * a timer of its own, so the event loop never blocks and a dead server costs at most the
 * deadline. A fetch the loop gives up on finishes on its own and frees its job.
 */
#include "fetch_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <unistd.h>

#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <lber.h>
#include <ldap.h>
#include <openldap.h>

#include "../../common/util.h"
#include "../../common/worker.h"

#define MAX_JOBS   64 /* LDAP fetches running at once (each holds a thread) */
#define MAX_ATTRS  8
#define SOURCE_MAX (2 * INET6_ADDRSTRLEN + 2)
#define LDAP_PLAIN "certificateRevocationList"

/*
 * One LDAP fetch. Fields marked "loop" are touched only by the event loop; the worker reads
 * the inputs and writes the outputs.
 */
struct job {
	TAILQ_ENTRY(job) entry;      /* loop: listed while its flight waits for it */
	struct cv_fetch_ldap *l;     /* loop */
	struct flight *fl;           /* loop */
	struct cv_worker_task *task; /* loop */
	struct event *deadline;      /* loop */

	char *server; /* ldap[s]://host:port */
	char *dn;
	char *attrs[MAX_ATTRS + 1];
	char *source;
	char *device; /* `vrf NAME`: the socket is bound to this device (SO_BINDTODEVICE) */
	unsigned timeout_ms;
	size_t max_bytes;

	uint8_t *data;
	size_t len;
	char error[CV_FETCH_ERROR_MAX];
};

struct cv_fetch_ldap {
	struct event_base *base;
	struct cv_worker_pool *pool;
	TAILQ_HEAD(, job) jobs; /* started, their flights still waiting */
};

/* Frees the job's inputs and outputs (the loop released the rest); any thread. */
static void
job_free(void *arg)
{
	struct job *j = arg;
	size_t i;

	free(j->server);
	free(j->dn);
	for (i = 0; j->attrs[i] != NULL; i++)
		free(j->attrs[i]);
	free(j->source);
	free(j->device);
	free(j->data);
	free(j);
}

/* ---- the worker thread ---- */

static void
ms_to_tv(long ms, struct timeval *tv)
{
	if (ms < 1)
		ms = 1;
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

static long
ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(deadline->tv_sec - now.tv_sec) * 1000 +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* "127.0.0.2" stays; an interface name becomes its addresses ("v4 v6"). */
static int
source_addresses(const char *source, char *out, size_t outlen)
{
	struct in6_addr a6;
	struct ifaddrs *ifs, *ifa;
	char host[INET6_ADDRSTRLEN];
	int have4 = 0, have6 = 0;

	if (inet_pton(AF_INET, source, &a6) == 1 || inet_pton(AF_INET6, source, &a6) == 1)
		return cv_strlcpy(out, source, outlen) < outlen ? 0 : -1;
	if (getifaddrs(&ifs) < 0)
		return -1;
	out[0] = '\0';
	for (ifa = ifs; ifa != NULL; ifa = ifa->ifa_next) {
		if (ifa->ifa_addr == NULL || strcmp(ifa->ifa_name, source) != 0)
			continue;
		if (ifa->ifa_addr->sa_family == AF_INET && !have4) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)ifa->ifa_addr)->sin_addr,
			          host, sizeof(host));
			have4 = 1;
		} else if (ifa->ifa_addr->sa_family == AF_INET6 && !have6) {
			inet_ntop(AF_INET6,
			          &((struct sockaddr_in6 *)(void *)ifa->ifa_addr)->sin6_addr, host,
			          sizeof(host));
			have6 = 1;
		} else {
			continue;
		}
		if (out[0] != '\0')
			strncat(out, " ", outlen - strlen(out) - 1);
		strncat(out, host, outlen - strlen(out) - 1);
	}
	freeifaddrs(ifs);
	return out[0] != '\0' ? 0 : -1;
}

/* Waits for the whole answer to msgid until the deadline. 1 ok, 0 timeout, -1 error. */
static int
wait_result(LDAP *ld, int msgid, const struct timespec *deadline, LDAPMessage **res)
{
	struct timeval tv;
	long left = ms_left(deadline);
	int rc;

	if (left <= 0)
		return 0;
	ms_to_tv(left, &tv);
	rc = ldap_result(ld, msgid, LDAP_MSG_ALL, &tv, res);
	return rc > 0 ? 1 : rc;
}

static const char *
ld_error(LDAP *ld)
{
	int rc = LDAP_OTHER;

	ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &rc);
	return ldap_err2string(rc);
}

/* Anonymous simple bind. */
static int
do_bind(struct job *j, LDAP *ld, const struct timespec *deadline)
{
	struct berval cred = {0, NULL};
	LDAPMessage *res = NULL;
	char *diag = NULL;
	int msgid, rc, err = LDAP_OTHER;

	rc = ldap_sasl_bind(ld, NULL, LDAP_SASL_SIMPLE, &cred, NULL, NULL, &msgid);
	if (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR) {
		snprintf(j->error, sizeof(j->error), "cannot connect to %s", j->server);
		return -1;
	}
	if (rc == LDAP_TIMEOUT) {
		snprintf(j->error, sizeof(j->error), "timeout after %u ms", j->timeout_ms);
		return -1;
	}
	if (rc != LDAP_SUCCESS) {
		snprintf(j->error, sizeof(j->error), "LDAP bind: %s", ldap_err2string(rc));
		return -1;
	}
	if ((rc = wait_result(ld, msgid, deadline, &res)) <= 0) {
		if (rc == 0)
			snprintf(j->error, sizeof(j->error), "timeout after %u ms", j->timeout_ms);
		else
			snprintf(j->error, sizeof(j->error), "LDAP bind: %s", ld_error(ld));
		return -1;
	}
	rc = ldap_parse_result(ld, res, &err, NULL, &diag, NULL, NULL, 1);
	if (rc != LDAP_SUCCESS || err != LDAP_SUCCESS) {
		snprintf(j->error, sizeof(j->error), "LDAP anonymous bind refused: %s%s%s",
		         ldap_err2string(rc != LDAP_SUCCESS ? rc : err), diag && *diag ? ": " : "",
		         diag ? diag : "");
		ldap_memfree(diag);
		return -1;
	}
	ldap_memfree(diag);
	return 0;
}

/* Copies the first value of the first wanted attribute the entry has. */
static int
take_value(struct job *j, LDAP *ld, LDAPMessage *entry)
{
	struct berval **vals;
	size_t i;

	for (i = 0; j->attrs[i] != NULL; i++) {
		vals = ldap_get_values_len(ld, entry, j->attrs[i]);
		if (vals == NULL || vals[0] == NULL) {
			ldap_value_free_len(vals);
			continue;
		}
		if (vals[0]->bv_len > j->max_bytes) {
			snprintf(j->error, sizeof(j->error), "too large (> %zu bytes)",
			         j->max_bytes);
			ldap_value_free_len(vals);
			return -1;
		}
		j->len = vals[0]->bv_len;
		if ((j->data = malloc(j->len ? j->len : 1)) == NULL) {
			snprintf(j->error, sizeof(j->error), "out of memory");
			ldap_value_free_len(vals);
			return -1;
		}
		memcpy(j->data, vals[0]->bv_val, j->len);
		ldap_value_free_len(vals);
		return 0;
	}
	snprintf(j->error, sizeof(j->error), "LDAP entry %.150s has no %s", j->dn, j->attrs[0]);
	return -1;
}

/* Base-scope search of the DN for the CRL attributes. */
static int
do_search(struct job *j, LDAP *ld, const struct timespec *deadline)
{
	LDAPMessage *res = NULL, *entry;
	struct timeval tv;
	char *diag = NULL;
	int msgid, rc, err = LDAP_OTHER, ret = -1;

	ms_to_tv(ms_left(deadline), &tv);
	rc = ldap_search_ext(ld, j->dn, LDAP_SCOPE_BASE, "(objectClass=*)", j->attrs, 0, NULL, NULL,
	                     &tv, 1, &msgid);
	if (rc != LDAP_SUCCESS) {
		snprintf(j->error, sizeof(j->error), "LDAP search: %s", ldap_err2string(rc));
		return -1;
	}
	if ((rc = wait_result(ld, msgid, deadline, &res)) <= 0) {
		if (rc == 0)
			snprintf(j->error, sizeof(j->error), "timeout after %u ms", j->timeout_ms);
		else
			snprintf(j->error, sizeof(j->error), "LDAP search: %s", ld_error(ld));
		goto out;
	}
	rc = ldap_parse_result(ld, res, &err, NULL, &diag, NULL, NULL, 0);
	if (rc != LDAP_SUCCESS || err != LDAP_SUCCESS) {
		snprintf(j->error, sizeof(j->error), "LDAP search %.150s: %s", j->dn,
		         ldap_err2string(rc != LDAP_SUCCESS ? rc : err));
		goto out;
	}
	if ((entry = ldap_first_entry(ld, res)) == NULL) {
		snprintf(j->error, sizeof(j->error), "LDAP search %.150s: no entry", j->dn);
		goto out;
	}
	ret = take_value(j, ld, entry);
out:
	ldap_memfree(diag);
	ldap_msgfree(res);
	return ret;
}

/* A non-blocking connect that gives up at the deadline; 0 when connected. */
static int
connect_until(int fd, const struct addrinfo *ai, const struct timespec *deadline)
{
	const int flags = fcntl(fd, F_GETFL);
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int soerr = 0;
	socklen_t len = sizeof(soerr);
	long left;

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS)
			return -1;
		left = ms_left(deadline);
		if (left <= 0 || poll(&p, 1, (int)left) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr != 0) {
			errno = soerr != 0 ? soerr : ETIMEDOUT;
			return -1;
		}
	}
	return fcntl(fd, F_SETFL, flags);
}

/*
 * `vrf NAME` (R22, O-22): libldap connects inside its own code, where a socket cannot be bound
 * to a device before connect (its connect callbacks run after). So the connection is made
 * here, the socket bound to the VRF's device first (SO_BINDTODEVICE), and handed to libldap
 * (ldap_init_fd). ldap:// only: TLS over such a socket is not set up, ldaps:// is refused.
 */
static int
device_connect(struct job *j, const struct timespec *deadline, LDAP **ld)
{
	const struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	LDAPURLDesc *lud = NULL;
	char port[8];
	int fd = -1, rc = -1;

	if (ldap_url_parse(j->server, &lud) != LDAP_URL_SUCCESS || lud->lud_host == NULL ||
	    strcasecmp(lud->lud_scheme, "ldap") != 0) {
		snprintf(j->error, sizeof(j->error),
		         "vrf %.64s: LDAP %.200s: only ldap:// is fetched over a VRF", j->device,
		         j->server);
		goto out;
	}
	snprintf(port, sizeof(port), "%d", lud->lud_port > 0 ? lud->lud_port : LDAP_PORT);
	if (getaddrinfo(lud->lud_host, port, &hints, &ai) != 0 || ai == NULL) {
		snprintf(j->error, sizeof(j->error), "LDAP %.200s: cannot resolve %.100s",
		         j->server, lud->lud_host);
		goto out;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, j->device,
	                         (socklen_t)strlen(j->device)) < 0) {
		snprintf(j->error, sizeof(j->error), "vrf %.64s: cannot bind to the device: %s",
		         j->device, strerror(errno));
		goto out;
	}
	if (connect_until(fd, ai, deadline) < 0) {
		snprintf(j->error, sizeof(j->error), "LDAP %.200s over vrf %.64s: %s", j->server,
		         j->device, strerror(errno));
		goto out;
	}
	if (ldap_init_fd(fd, LDAP_PROTO_TCP, j->server, ld) != LDAP_SUCCESS) {
		snprintf(j->error, sizeof(j->error), "LDAP %.200s: cannot take the connection",
		         j->server);
		goto out;
	}
	fd = -1; /* libldap's now: ldap_unbind_ext_s closes it */
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ai != NULL)
		freeaddrinfo(ai);
	ldap_free_urldesc(lud);
	return rc;
}

static void
run_ldap(void *arg)
{
	struct job *j = arg;
	LDAP *ld = NULL;
	Sockbuf *sb = NULL;
	struct timespec deadline;
	struct timeval tv;
	char source[SOURCE_MAX];
	int version = LDAP_VERSION3, rc;
	ber_len_t max_incoming;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += j->timeout_ms / 1000;
	deadline.tv_nsec += (long)(j->timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	if (j->device != NULL) {
		if (device_connect(j, &deadline, &ld) < 0)
			return;
	} else if ((rc = ldap_initialize(&ld, j->server)) != LDAP_SUCCESS) {
		snprintf(j->error, sizeof(j->error), "LDAP %s: %s", j->server, ldap_err2string(rc));
		return;
	}
	ms_to_tv(j->timeout_ms, &tv);
	ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
	ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
	ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
	if (j->source != NULL) {
		if (source_addresses(j->source, source, sizeof(source)) < 0 ||
		    ldap_set_option(ld, LDAP_OPT_SOCKET_BIND_ADDRESSES, source) !=
		        LDAP_OPT_SUCCESS) {
			snprintf(j->error, sizeof(j->error), "bad source interface \"%.100s\"",
			         j->source);
			goto out;
		}
	}
	if (do_bind(j, ld, &deadline) < 0)
		goto out;
	/* liblber refuses any message larger than this before reading it into memory. */
	max_incoming = (ber_len_t)j->max_bytes + 65536;
	if (ldap_get_option(ld, LDAP_OPT_SOCKBUF, &sb) == LDAP_OPT_SUCCESS && sb != NULL)
		ber_sockbuf_ctrl(sb, LBER_SB_OPT_SET_MAX_INCOMING, &max_incoming);
	do_search(j, ld, &deadline);
out:
	ldap_unbind_ext_s(ld, NULL, NULL);
}

/* ---- the loop side ---- */

/* The loop lets go of a fetch: no result, no deadline; the job is the worker's to free. */
static void
job_release(struct job *j)
{
	TAILQ_REMOVE(&j->l->jobs, j, entry);
	event_free(j->deadline);
	j->fl->backend = NULL;
	cv_worker_abandon(j->task);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;
	struct flight *fl = j->fl;

	snprintf(fl->res.error, sizeof(fl->res.error), "timeout after %u ms", j->timeout_ms);
	job_release(j);
	cv_fetch_flight_done(fl);
}

/* The worker's result reached the loop (the worker pool frees the job afterwards). */
static void
collect(void *arg)
{
	struct job *j = arg;
	struct flight *fl = j->fl;

	TAILQ_REMOVE(&j->l->jobs, j, entry);
	event_free(j->deadline);
	fl->backend = NULL;
	if (j->data != NULL) {
		fl->res.ok = 1;
		fl->buf = j->data;
		fl->len = fl->cap = j->len;
		j->data = NULL;
	} else {
		cv_strlcpy(fl->res.error, j->error[0] ? j->error : "LDAP fetch failed",
		           sizeof(fl->res.error));
	}
	cv_fetch_flight_done(fl);
}

struct cv_fetch_ldap *
cv_fetch_ldap_new(struct event_base *base)
{
	struct cv_fetch_ldap *l;
	int dummy = 0;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->base = base;
	TAILQ_INIT(&l->jobs);
	/* libldap's global initialisation, once, on this thread. */
	ldap_get_option(NULL, LDAP_OPT_PROTOCOL_VERSION, &dummy);
	if ((l->pool = cv_worker_pool_new(base, MAX_JOBS)) == NULL) {
		free(l);
		return NULL;
	}
	return l;
}

void
cv_fetch_ldap_free(struct cv_fetch_ldap *l)
{
	struct job *j;

	if (l == NULL)
		return;
	while ((j = TAILQ_FIRST(&l->jobs)) != NULL)
		job_release(j);
	cv_worker_pool_free(l->pool);
	free(l);
}

void
cv_fetch_ldap_abort(struct cv_fetch_ldap *l, struct flight *fl)
{
	if (fl->backend != NULL)
		job_release(fl->backend);
}

static int
is_ldap_scheme(const char *scheme)
{
	return scheme != NULL &&
	       (cv_strcasecmp(scheme, "ldap") == 0 || cv_strcasecmp(scheme, "ldaps") == 0);
}

/* Parses an LDAP URL and refuses what this fetcher cannot honour. */
static int
parse_url(const char *url, LDAPURLDesc **out, struct cv_error *err)
{
	int rc;

	if ((rc = ldap_url_parse(url, out)) != LDAP_URL_SUCCESS) {
		cv_error_set(err, "bad LDAP URL \"%.200s\" (error %d)", url, rc);
		return -1;
	}
	if (!is_ldap_scheme((*out)->lud_scheme) || (*out)->lud_crit_exts != 0) {
		cv_error_set(err, "unsupported LDAP URL \"%.200s\"", url);
		ldap_free_urldesc(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static int
dn_valid(const char *dn)
{
	LDAPDN parsed = NULL;

	if (ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		return 0;
	ldap_dnfree(parsed);
	return 1;
}

char *
cv_fetch_ldap_resolve(const char *location, const char *default_host, struct cv_error *err)
{
	LDAPURLDesc *loc = NULL, *def = NULL, *use;
	const char *dn = NULL;
	char *saved_dn, *text, *out = NULL, defurl[512];

	if (strstr(location, "://") == NULL)
		dn = location; /* a directory CDP: a bare DN */
	else if (parse_url(location, &loc, err) < 0)
		return NULL;
	if (loc != NULL && loc->lud_dn != NULL && loc->lud_dn[0] != '\0')
		dn = loc->lud_dn;
	use = loc;
	if (loc == NULL || loc->lud_host == NULL || loc->lud_host[0] == '\0' || dn == NULL) {
		if (default_host == NULL || default_host[0] == '\0') {
			if (loc == NULL || loc->lud_host == NULL || loc->lud_host[0] == '\0')
				cv_error_set(err, "no LDAP server for directory-only CDP "
				                  "(configure crl query)");
			else
				cv_error_set(err, "LDAP URL \"%.200s\" has no DN", location);
			goto out;
		}
		snprintf(defurl, sizeof(defurl), "%s%s",
		         strstr(default_host, "://") ? "" : "ldap://", default_host);
		if (parse_url(defurl, &def, err) < 0) {
			cv_error_prefix(err, "crl query");
			goto out;
		}
		if (def->lud_host == NULL || def->lud_host[0] == '\0') {
			cv_error_set(err, "crl query \"%.200s\" names no host", default_host);
			goto out;
		}
		if (dn == NULL)
			dn = def->lud_dn; /* O-15: the query URL's DN only when the CDP has none */
		if (loc == NULL || loc->lud_host == NULL || loc->lud_host[0] == '\0')
			use = def;
	}
	if (dn == NULL || dn[0] == '\0') {
		cv_error_set(err, "LDAP location \"%.200s\" has no DN", location);
		goto out;
	}
	if (!dn_valid(dn)) {
		cv_error_set(err, "bad DN \"%.200s\"", dn);
		goto out;
	}
	saved_dn = use->lud_dn;
	use->lud_dn = (char *)dn;
	use->lud_scope = LDAP_SCOPE_BASE;
	text = ldap_url_desc2str(use);
	use->lud_dn = saved_dn;
	if (text == NULL || (out = strdup(text)) == NULL)
		cv_error_set(err, "out of memory");
	ldap_memfree(text);
out:
	if (loc != NULL)
		ldap_free_urldesc(loc);
	if (def != NULL)
		ldap_free_urldesc(def);
	return out;
}

/* Adds attr to the job's list unless it is there already. */
static int
add_attr(struct job *j, size_t *n, const char *attr)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (cv_strcasecmp(j->attrs[i], attr) == 0)
			return 0;
	if (*n >= MAX_ATTRS)
		return 0;
	if ((j->attrs[*n] = strdup(attr)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

/*
 * Fills the job's server, DN and attribute list from the canonical URL. The attributes are
 * those the URL names, or certificateRevocationList; each is asked for with ";binary" first,
 * then without (O-15).
 */
static int
job_target(struct job *j, const char *url, struct cv_error *err)
{
	static char *defaults[] = {LDAP_PLAIN, NULL};
	static const char binary[] = ";binary";
	LDAPURLDesc *u = NULL;
	char server[512], with[128], plain[128];
	char **want;
	size_t n = 0, i, len;

	if (parse_url(url, &u, err) < 0)
		return -1;
	snprintf(server, sizeof(server), strchr(u->lud_host, ':') ? "%s://[%s]:%d" : "%s://%s:%d",
	         u->lud_scheme, u->lud_host, u->lud_port);
	if ((j->server = strdup(server)) == NULL || (j->dn = strdup(u->lud_dn)) == NULL)
		goto nomem;
	want = u->lud_attrs != NULL && u->lud_attrs[0] != NULL ? u->lud_attrs : defaults;
	for (i = 0; want[i] != NULL; i++) {
		len = strlen(want[i]);
		if (len > strlen(binary) &&
		    cv_strcasecmp(want[i] + len - strlen(binary), binary) == 0)
			len -= strlen(binary);
		if (len >= sizeof(plain) - strlen(binary))
			continue;
		snprintf(plain, sizeof(plain), "%.*s", (int)len, want[i]);
		snprintf(with, sizeof(with), "%s%s", plain, binary);
		if (add_attr(j, &n, with) < 0 || add_attr(j, &n, plain) < 0)
			goto nomem;
	}
	ldap_free_urldesc(u);
	return 0;
nomem:
	cv_error_set(err, "out of memory");
	ldap_free_urldesc(u);
	return -1;
}

int
cv_fetch_ldap_start(struct cv_fetch_ldap *l, struct flight *fl, struct cv_error *err)
{
	struct job *j;
	struct timeval tv;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		cv_error_set(err, "out of memory");
		return -1;
	}
	j->l = l;
	j->timeout_ms = fl->timeout_ms;
	j->max_bytes = fl->max_bytes;
	if (job_target(j, fl->url, err) < 0)
		goto fail;
	if ((fl->source != NULL && (j->source = strdup(fl->source)) == NULL) ||
	    (fl->device != NULL && (j->device = strdup(fl->device)) == NULL) ||
	    (j->deadline = evtimer_new(l->base, on_deadline, j)) == NULL) {
		cv_error_set(err, "out of memory");
		goto fail;
	}
	if (cv_worker_submit(l->pool, run_ldap, collect, job_free, j, &j->task) < 0) {
		if (errno == EBUSY)
			cv_error_set(err, "too many LDAP fetches in flight (%u)",
			             cv_worker_pool_count(l->pool));
		else
			cv_error_set(err, "cannot start LDAP worker: %s", strerror(errno));
		goto fail;
	}
	ms_to_tv(fl->timeout_ms, &tv);
	evtimer_add(j->deadline, &tv);
	j->fl = fl;
	fl->backend = j;
	TAILQ_INSERT_TAIL(&l->jobs, j, entry);
	return 0;
fail:
	if (j->deadline != NULL)
		event_free(j->deadline);
	job_free(j);
	return -1;
}
