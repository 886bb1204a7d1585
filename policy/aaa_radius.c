/*
 * aaa_radius.c: the RADIUS backend of AAA authorization (R47, D-2): one Access-Request
 * (RFC 2865) with User-Name and the password "cisco" to the configured address and auth-port
 * (1812 by default), over UDP; the Cisco VSA 26/9/1 cisco-avpair values "pki:NAME=VALUE" of
 * the Access-Accept become the answer. Blocking; runs on a worker.
 *
 * The protocol is MIT Kerberos's libkrad: it hides the password, picks the identifier, sends
 * and resends, and takes only an answer whose Response Authenticator verifies with the key
 * and whose attributes are well formed (RFC 2865 section 3); anything else is dropped while
 * it waits. libkrad runs on a libverto loop, private to each call here. The server is always
 * given as "ADDRESS:PORT" with the configured number, so no service name is looked up and
 * /etc/services is not needed (radcli, used before, looked up "radius" on every request).
 */
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <krad.h>

#include "aaa_int.h"

/* RFC 2865 section 3 (codes) and 5 (attributes) */
#define RAD_ACCESS_REQUEST   1
#define RAD_ACCESS_ACCEPT    2
#define RAD_ACCESS_REJECT    3
#define RAD_ACCESS_CHALLENGE 11
#define RAD_USER_NAME        1
#define RAD_USER_PASSWORD    2
#define RAD_REPLY_MESSAGE    18
#define RAD_VENDOR_SPECIFIC  26
#define RAD_NAS_IP_ADDRESS   4
#define RAD_NAS_IDENTIFIER   32
#define RAD_VALUE_MAX        253 /* value bytes of one attribute */
#define CISCO_VENDOR         9   /* IANA enterprise number */
#define CISCO_AVPAIR         1   /* cisco-avpair */
#define NAS_IDENTIFIER       "certvald"
#define RAD_RETRIES          1 /* sent once more at half the timeout */
#define RAD_REMOTE_MAX       (CV_URL_MAX + 16)

/* One exchange: what the callback of libkrad fills, read once the loop stopped. */
struct call {
	const struct cv_aaa_target *t;
	struct cv_aaa_answer *out;
	krb5_context kctx;
	verto_ctx *vctx;
	bool done;
};

/* ---- reading an answer ---- */

/* The cisco-avpair values of one Vendor-Specific attribute (RFC 2865 5.26); -1 malformed. */
static int
take_vsa(const uint8_t *v, size_t len, struct cv_aaa_answer *out)
{
	size_t off;

	if (len < 4)
		return -1;
	if (((uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3]) !=
	    CISCO_VENDOR)
		return 0;
	for (off = 4; off < len; off += v[off + 1]) {
		if (off + 2 > len || v[off + 1] < 2 || off + v[off + 1] > len)
			return -1;
		if (v[off] == CISCO_AVPAIR &&
		    cv_aaa_answer_add_text(out, (const char *)v + off + 2, v[off + 1] - 2u) < 0)
			return -2;
	}
	return 0;
}

/* An authenticated Access-Accept: its pki: pairs, or a refusal when they cannot be kept. */
static void
take_accept(const krad_packet *r, struct cv_aaa_answer *out)
{
	const krb5_data *vsa;
	size_t i;
	int rc = 0;

	out->status = CV_AAA_ANSWERED;
	for (i = 0; rc == 0 && (vsa = krad_packet_get_attr(r, RAD_VENDOR_SPECIFIC, i)) != NULL; i++)
		rc = take_vsa((const uint8_t *)vsa->data, vsa->length, out);
	if (rc == 0)
		return;
	/* fail closed: dropping a pair could drop a cert-serial-not */
	out->status = CV_AAA_REFUSED;
	out->n_attrs = 0;
	if (rc == -1)
		snprintf(out->error, sizeof(out->error),
		         "Access-Accept with a malformed Cisco VSA");
	else
		snprintf(
		    out->error, sizeof(out->error),
		    "Access-Accept with more than %d pki: pairs or a value longer than %d bytes",
		    CV_AAA_ATTRS_MAX, CV_AAA_VALUE_MAX - 1);
}

/* The first Reply-Message of r, as printable text, into msg. */
static void
reply_message(const krad_packet *r, char *msg, size_t size)
{
	const krb5_data *m = krad_packet_get_attr(r, RAD_REPLY_MESSAGE, 0);
	size_t i, n = 0;

	for (i = 0; m != NULL && i < m->length && n + 1 < size; i++) {
		uint8_t c = (uint8_t)m->data[i];

		msg[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	msg[n] = '\0';
}

static void
take_answer(const krad_packet *r, const struct cv_aaa_target *t, struct cv_aaa_answer *out)
{
	char msg[128];

	switch (krad_packet_get_code(r)) {
	case RAD_ACCESS_ACCEPT:
		take_accept(r, out);
		break;
	case RAD_ACCESS_REJECT:
		reply_message(r, msg, sizeof(msg));
		out->status = CV_AAA_REFUSED;
		snprintf(out->error, sizeof(out->error), "Access-Reject from %.200s%s%s",
		         t->address, msg[0] ? ": " : "", msg);
		break;
	case RAD_ACCESS_CHALLENGE:
		out->status = CV_AAA_REFUSED;
		snprintf(out->error, sizeof(out->error),
		         "Access-Challenge from %.200s (not supported)", t->address);
		break;
	default:
		out->status = CV_AAA_REFUSED;
		snprintf(out->error, sizeof(out->error),
		         "RADIUS code %u from %.200s (not an answer)", krad_packet_get_code(r),
		         t->address);
		break;
	}
}

/* ---- the exchange ---- */

/* A krb5 or errno code of libkrad as text, into out->error after the server's name. */
static void
report_error(struct call *c, krb5_error_code code)
{
	const char *msg = krb5_get_error_message(c->kctx, code);

	snprintf(c->out->error, sizeof(c->out->error), "cannot reach %.200s port %u: %s",
	         c->t->address, c->t->port, msg);
	krb5_free_error_message(c->kctx, msg);
}

/*
 * libkrad's callback: an answer that verified, or why none came. A timeout covers a silent
 * server, a closed port and answers that libkrad dropped (forged, malformed, another key): it
 * cannot tell them apart, so neither can the message.
 */
static void
on_answer(krb5_error_code code, const krad_packet *request, const krad_packet *response, void *data)
{
	struct call *c = data;

	(void)request;
	if (c->done)
		return; /* the cancellation while the client is freed */
	c->done = true;
	if (code == 0 && response != NULL)
		take_answer(response, c->t, c->out);
	else if (code == ETIMEDOUT)
		snprintf(c->out->error, sizeof(c->out->error),
		         "no answer from %.200s port %u in %u s (silent, closed, or answers that "
		         "did not verify: wrong key?)",
		         c->t->address, c->t->port, c->t->timeout_s);
	else
		report_error(c, code);
}

/*
 * "ADDRESS:PORT", the port always a number. libkrad splits at the last colon, so an IPv6
 * address needs no brackets; its "[ADDRESS]:PORT" form is broken in 1.20 (the brackets reach
 * getaddrinfo, which then asks the resolver for the name "[::1]").
 */
static void
remote_name(const struct cv_aaa_target *t, char *remote, size_t size)
{
	snprintf(remote, size, "%s:%u", t->address, t->port);
}

/*
 * The NAS-IP-Address: the `ip radius source-interface` address (IOS sends from it; libkrad
 * cannot bind its socket, so here it names the NAS and the kernel picks the packets' source),
 * else the IPv4 address this host sends from to the server: the local address of a UDP socket
 * connected to it (no packet is sent; the kernel picks the route and source, as for the
 * request itself, so the host's own name never has to resolve). RFC 2865 5.4 NAS-IP-Address.
 * An IPv6 server gets NAS-Identifier alone: libkrad 1.20 refuses NAS-IPv6-Address (RFC 3162,
 * type 95) with EMSGSIZE. Returns RAD_NAS_IP_ADDRESS with addr filled, or 0.
 */
/* `ip radius source-interface`: an IPv4 address, or the first IPv4 address of that
 * interface; false when it has none. */
static bool
source_address(const char *source, uint8_t addr[4])
{
	struct ifaddrs *ifs, *ifa;
	bool found = false;

	if (inet_pton(AF_INET, source, addr) == 1)
		return true;
	if (getifaddrs(&ifs) < 0)
		return false;
	for (ifa = ifs; ifa != NULL && !found; ifa = ifa->ifa_next) {
		if (ifa->ifa_addr == NULL || ifa->ifa_addr->sa_family != AF_INET ||
		    strcmp(ifa->ifa_name, source) != 0)
			continue;
		memcpy(addr, &((struct sockaddr_in *)(void *)ifa->ifa_addr)->sin_addr, 4);
		found = true;
	}
	freeifaddrs(ifs);
	return found;
}

static int
local_address(const struct cv_aaa_target *t, uint8_t addr[4])
{
	const struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	char port[8];
	int fd = -1, type = 0;

	if (t->source[0] != '\0')
		return source_address(t->source, addr) ? RAD_NAS_IP_ADDRESS : 0;
	snprintf(port, sizeof(port), "%u", t->port);
	if (getaddrinfo(t->address, port, &hints, &ai) != 0 || ai == NULL)
		return 0;
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
	    getsockname(fd, (struct sockaddr *)&local, &len) == 0) {
		if (local.ss_family == AF_INET) {
			memcpy(addr, &((struct sockaddr_in *)&local)->sin_addr, 4);
			type = RAD_NAS_IP_ADDRESS;
		}
	}
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return type;
}

/* The Access-Request's attributes: User-Name, User-Password (R47), NAS-Identifier, and the
 * NAS-IP-Address this host sends from (IPv4 servers). */
static krb5_error_code
request_attrs(krb5_context kctx, const struct cv_aaa_target *t, const char *username,
              krad_attrset **attrs)
{
	uint8_t addr[4];
	const int addr_type = local_address(t, addr);
	const krb5_data nas_ip = {.data = (char *)addr, .length = sizeof(addr)};
	const krb5_data user = {.data = (char *)username, .length = strlen(username)},
	                pass = {.data = (char *)CV_AAA_RADIUS_PASSWORD,
	                        .length = sizeof(CV_AAA_RADIUS_PASSWORD) - 1},
	                nas = {.data = (char *)NAS_IDENTIFIER,
	                       .length = sizeof(NAS_IDENTIFIER) - 1};
	krb5_error_code rc = krad_attrset_new(kctx, attrs);

	if (rc == 0)
		rc = krad_attrset_add(*attrs, RAD_USER_NAME, &user);
	if (rc == 0)
		rc = krad_attrset_add(*attrs, RAD_USER_PASSWORD, &pass);
	if (rc == 0)
		rc = krad_attrset_add(*attrs, RAD_NAS_IDENTIFIER, &nas);
	if (rc == 0 && addr_type != 0)
		rc = krad_attrset_add(*attrs, (krad_attr)addr_type, &nas_ip);
	return rc;
}

/*
 * Sends the request and runs the private loop until libkrad's callback came, which it does
 * within the timeout (its own timer, RAD_RETRIES resends included). 0, or a libkrad error.
 */
static krb5_error_code
exchange(struct call *c, const char *username)
{
	char remote[RAD_REMOTE_MAX];
	krad_attrset *attrs = NULL;
	krad_client *client = NULL;
	krb5_error_code rc;

	remote_name(c->t, remote, sizeof(remote));
	rc = request_attrs(c->kctx, c->t, username, &attrs);
	if (rc == 0)
		rc = krad_client_new(c->kctx, c->vctx, &client);
	if (rc == 0)
		rc = krad_client_send(client, RAD_ACCESS_REQUEST, attrs, remote, c->t->secret,
		                      (int)c->t->timeout_s * 1000, RAD_RETRIES, on_answer, c);
	while (rc == 0 && !c->done)
		verto_run_once(c->vctx);
	krad_client_free(client);
	krad_attrset_free(attrs);
	return rc;
}

void
cv_aaa_radius_run(const struct cv_aaa_target *t, const char *username, struct cv_aaa_answer *out)
{
	struct call c = {.t = t, .out = out};
	krb5_error_code rc;

	out->status = CV_AAA_UNREACHABLE;
	if (strlen(username) > RAD_VALUE_MAX || username[0] == '\0') {
		out->status = CV_AAA_REFUSED;
		snprintf(out->error, sizeof(out->error),
		         "username empty or longer than RADIUS allows (%d bytes)", RAD_VALUE_MAX);
		return;
	}
	if (t->secret[0] == '\0') {
		snprintf(out->error, sizeof(out->error),
		         "RADIUS request to %.200s not built (no key?)", t->address);
		return;
	}
	if (krb5_init_secure_context(&c.kctx) != 0) {
		snprintf(out->error, sizeof(out->error), "RADIUS: no krb5 context");
		return;
	}
	c.vctx = verto_new(NULL, VERTO_EV_TYPE_IO | VERTO_EV_TYPE_TIMEOUT);
	if (c.vctx == NULL)
		snprintf(out->error, sizeof(out->error),
		         "RADIUS: no event loop (libverto module?)");
	else if ((rc = exchange(&c, username)) != 0 && !c.done)
		report_error(&c, rc);
	if (c.vctx != NULL)
		verto_free(c.vctx);
	krb5_free_context(c.kctx);
}
