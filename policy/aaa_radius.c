/*
 * aaa_radius.c: the RADIUS backend of AAA authorization (R47, D-2): one Access-Request
 * (RFC 2865) with User-Name and the password "cisco" to the configured address and auth-port
 * (1812 by default), over UDP; the Cisco VSA 26/9/1 cisco-avpair values "pki:NAME=VALUE" of
 * the Access-Accept become the answer. Blocking; runs on a worker.
 *
 * The client is this file, on GnuTLS's MD5 and HMAC-MD5, rather than a RADIUS library: radcli
 * looks every server up with the service name "radius", so it depends on /etc/services even
 * when the port is given, and a minimal system has no such file. Here the port is always the
 * configured number and no service name is ever resolved.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "aaa_int.h"

/* RFC 2865 section 3 (codes) and 5 (attributes); RFC 3579 section 3.2 (80) */
#define RAD_ACCESS_REQUEST        1
#define RAD_ACCESS_ACCEPT         2
#define RAD_ACCESS_REJECT         3
#define RAD_ACCESS_CHALLENGE      11
#define RAD_USER_NAME             1
#define RAD_USER_PASSWORD         2
#define RAD_REPLY_MESSAGE         18
#define RAD_VENDOR_SPECIFIC       26
#define RAD_NAS_IDENTIFIER        32
#define RAD_MESSAGE_AUTHENTICATOR 80
#define RAD_HEADER                20   /* code, identifier, length, authenticator */
#define RAD_AUTH_LEN              16   /* authenticator, MD5 and HMAC-MD5 sizes */
#define RAD_PACKET_MAX            4096 /* RFC 2865 section 3 */
#define RAD_VALUE_MAX             253  /* value bytes of one attribute */
#define RAD_PASSWORD_MAX          128  /* RFC 2865 section 5.2 */
#define CISCO_VENDOR              9    /* IANA enterprise number */
#define CISCO_AVPAIR              1    /* cisco-avpair */
#define NAS_IDENTIFIER            "certvald"

struct packet {
	uint8_t b[RAD_PACKET_MAX];
	size_t len;
};

/* ---- building the Access-Request ---- */

static int
add_attr(struct packet *p, uint8_t type, const void *value, size_t len)
{
	if (len > RAD_VALUE_MAX || p->len + 2 + len > sizeof(p->b))
		return -1;
	p->b[p->len] = type;
	p->b[p->len + 1] = (uint8_t)(len + 2);
	memcpy(p->b + p->len + 2, value, len);
	p->len += 2 + len;
	return 0;
}

/* out = MD5(a || b) */
static int
md5_pair(uint8_t out[RAD_AUTH_LEN], const void *a, size_t alen, const void *b, size_t blen)
{
	gnutls_hash_hd_t h;

	if (gnutls_hash_init(&h, GNUTLS_DIG_MD5) < 0)
		return -1;
	if (gnutls_hash(h, a, alen) < 0 || gnutls_hash(h, b, blen) < 0) {
		gnutls_hash_deinit(h, NULL);
		return -1;
	}
	gnutls_hash_deinit(h, out);
	return 0;
}

/* RFC 2865 section 5.2: the password padded to 16 bytes, each block XOR MD5(secret || prev). */
static int
hide_password(const char *secret, const uint8_t *authenticator, const char *password,
              uint8_t out[RAD_PASSWORD_MAX], size_t *out_len)
{
	size_t len = strlen(password), padded = len == 0 ? 16 : (len + 15) / 16 * 16, i, j;
	const uint8_t *prev = authenticator;
	uint8_t mask[RAD_AUTH_LEN];

	if (padded > RAD_PASSWORD_MAX)
		return -1;
	memset(out, 0, padded);
	memcpy(out, password, len);
	for (i = 0; i < padded; i += 16) {
		if (md5_pair(mask, secret, strlen(secret), prev, RAD_AUTH_LEN) < 0)
			return -1;
		for (j = 0; j < 16; j++)
			out[i + j] ^= mask[j];
		prev = out + i;
	}
	*out_len = padded;
	return 0;
}

/*
 * The Access-Request: Message-Authenticator first (RFC 3579 3.2; the Blast-RADIUS advice),
 * User-Name, User-Password, NAS-Identifier. -1 when a value does not fit or crypto fails.
 */
static int
build_request(struct packet *p, const char *secret, const char *username)
{
	static const uint8_t zero[RAD_AUTH_LEN];
	uint8_t hidden[RAD_PASSWORD_MAX];
	size_t hidden_len, ma;

	p->b[0] = RAD_ACCESS_REQUEST;
	if (gnutls_rnd(GNUTLS_RND_NONCE, p->b + 1, 1) < 0 ||
	    gnutls_rnd(GNUTLS_RND_RANDOM, p->b + 4, RAD_AUTH_LEN) < 0)
		return -1;
	p->len = RAD_HEADER;
	ma = p->len + 2;
	if (add_attr(p, RAD_MESSAGE_AUTHENTICATOR, zero, sizeof(zero)) < 0 ||
	    add_attr(p, RAD_USER_NAME, username, strlen(username)) < 0 ||
	    hide_password(secret, p->b + 4, CV_AAA_RADIUS_PASSWORD, hidden, &hidden_len) < 0 ||
	    add_attr(p, RAD_USER_PASSWORD, hidden, hidden_len) < 0 ||
	    add_attr(p, RAD_NAS_IDENTIFIER, NAS_IDENTIFIER, strlen(NAS_IDENTIFIER)) < 0)
		return -1;
	p->b[2] = (uint8_t)(p->len >> 8);
	p->b[3] = (uint8_t)p->len;
	return gnutls_hmac_fast(GNUTLS_MAC_MD5, secret, strlen(secret), p->b, p->len, p->b + ma) < 0
	           ? -1
	           : 0;
}

/* ---- checking an answer ---- */

static bool
same16(const uint8_t *a, const uint8_t *b)
{
	uint8_t diff = 0;
	size_t i;

	for (i = 0; i < RAD_AUTH_LEN; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

/*
 * Whether the attributes of r (r->len already checked) are well formed and, where r carries
 * a Message-Authenticator, whether it is right (RFC 3579 3.2: HMAC-MD5 over the packet with
 * the request's authenticator and the attribute zeroed).
 */
static bool
attributes_ok(const struct packet *r, const struct packet *req, const char *secret)
{
	struct packet copy;
	uint8_t mac[RAD_AUTH_LEN];
	size_t off, ma = 0;

	for (off = RAD_HEADER; off < r->len; off += r->b[off + 1]) {
		if (off + 2 > r->len || r->b[off + 1] < 2 || off + r->b[off + 1] > r->len)
			return false;
		if (r->b[off] == RAD_MESSAGE_AUTHENTICATOR) {
			if (r->b[off + 1] != 2 + RAD_AUTH_LEN || ma != 0)
				return false;
			ma = off + 2;
		}
	}
	if (ma == 0)
		return true;
	memcpy(copy.b, r->b, r->len);
	memcpy(copy.b + 4, req->b + 4, RAD_AUTH_LEN);
	memset(copy.b + ma, 0, RAD_AUTH_LEN);
	return gnutls_hmac_fast(GNUTLS_MAC_MD5, secret, strlen(secret), copy.b, r->len, mac) == 0 &&
	       same16(mac, r->b + ma);
}

/*
 * Whether the datagram r answers req (RFC 2865 section 3): the identifier, a length that fits,
 * the Response Authenticator MD5(code id length || request authenticator || attributes ||
 * secret), well-formed attributes. Trailing bytes past the length are dropped (section 3).
 */
static bool
answers(struct packet *r, const struct packet *req, const char *secret)
{
	uint8_t head[4 + RAD_AUTH_LEN], sum[RAD_AUTH_LEN];
	size_t len;
	gnutls_hash_hd_t h;

	if (r->len < RAD_HEADER || r->b[1] != req->b[1])
		return false;
	len = (size_t)r->b[2] << 8 | r->b[3];
	if (len < RAD_HEADER || len > r->len)
		return false;
	r->len = len;
	memcpy(head, r->b, 4);
	memcpy(head + 4, req->b + 4, RAD_AUTH_LEN);
	if (gnutls_hash_init(&h, GNUTLS_DIG_MD5) < 0)
		return false;
	if (gnutls_hash(h, head, sizeof(head)) < 0 ||
	    gnutls_hash(h, r->b + RAD_HEADER, len - RAD_HEADER) < 0 ||
	    gnutls_hash(h, secret, strlen(secret)) < 0) {
		gnutls_hash_deinit(h, NULL);
		return false;
	}
	gnutls_hash_deinit(h, sum);
	return same16(sum, r->b + 4) && attributes_ok(r, req, secret);
}

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
take_accept(const struct packet *r, struct cv_aaa_answer *out)
{
	size_t off;
	int rc = 0;

	out->status = CV_AAA_ANSWERED;
	for (off = RAD_HEADER; off < r->len && rc == 0; off += r->b[off + 1])
		if (r->b[off] == RAD_VENDOR_SPECIFIC)
			rc = take_vsa(r->b + off + 2, r->b[off + 1] - 2u, out);
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
reply_message(const struct packet *r, char *msg, size_t size)
{
	size_t off, i, n = 0;

	msg[0] = '\0';
	for (off = RAD_HEADER; off < r->len; off += r->b[off + 1]) {
		if (r->b[off] != RAD_REPLY_MESSAGE)
			continue;
		for (i = 0; i < r->b[off + 1] - 2u && n + 1 < size; i++) {
			uint8_t c = r->b[off + 2 + i];

			msg[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
		}
		msg[n] = '\0';
		return;
	}
}

static void
take_answer(const struct packet *r, const struct cv_aaa_target *t, struct cv_aaa_answer *out)
{
	char msg[128];

	switch (r->b[0]) {
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
		         "RADIUS code %u from %.200s (not an answer)", r->b[0], t->address);
		break;
	}
}

/* ---- the exchange ---- */

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A UDP socket connected to the server's configured address and port, or -1. */
static int
connect_server(const struct cv_aaa_target *t)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV}, *res, *ai;
	char port[8];
	int fd = -1;

	snprintf(port, sizeof(port), "%u", t->port);
	if (getaddrinfo(t->address, port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

/*
 * Sends req (again at half time) and waits up to the timeout for a datagram that answers it;
 * others are dropped. 0 with the answer in r, or -1 with out->error set.
 */
static int
exchange(int fd, const struct packet *req, const struct cv_aaa_target *t, struct packet *r,
         struct cv_aaa_answer *out)
{
	long start = now_ms(), deadline = start + (long)t->timeout_s * 1000,
	     resend = start + (long)t->timeout_s * 500;
	bool sent = false, bad = false;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	ssize_t n;

	for (;;) {
		long now = now_ms();

		if (!sent || (resend > 0 && now >= resend)) {
			if (sent)
				resend = 0;
			sent = true;
			if (send(fd, req->b, req->len, 0) < 0 && errno != ECONNREFUSED)
				break;
		}
		if (now >= deadline) {
			if (bad)
				snprintf(out->error, sizeof(out->error),
				         "bad answer from %.200s port %u (wrong key?)", t->address,
				         t->port);
			else
				snprintf(out->error, sizeof(out->error),
				         "no answer from %.200s port %u in %u s", t->address,
				         t->port, t->timeout_s);
			return -1;
		}
		if (poll(&pfd, 1, (int)((resend > 0 ? resend : deadline) - now)) <= 0)
			continue; /* a timeout, or EINTR: the loop decides */
		n = recv(fd, r->b, sizeof(r->b), 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			break;
		r->len = (size_t)n;
		if (answers(r, req, t->secret))
			return 0;
		bad = true;
	}
	snprintf(out->error, sizeof(out->error), "cannot reach %.200s port %u: %s", t->address,
	         t->port, strerror(errno));
	return -1;
}

void
cv_aaa_radius_run(const struct cv_aaa_target *t, const char *username, struct cv_aaa_answer *out)
{
	struct packet req, r;
	int fd;

	out->status = CV_AAA_UNREACHABLE;
	if (strlen(username) > RAD_VALUE_MAX || username[0] == '\0') {
		out->status = CV_AAA_REFUSED;
		snprintf(out->error, sizeof(out->error),
		         "username empty or longer than RADIUS allows (%d bytes)", RAD_VALUE_MAX);
		return;
	}
	if (t->secret[0] == '\0' || build_request(&req, t->secret, username) < 0) {
		snprintf(out->error, sizeof(out->error),
		         "RADIUS request to %.200s not built (no key?)", t->address);
		return;
	}
	if ((fd = connect_server(t)) < 0) {
		snprintf(out->error, sizeof(out->error), "cannot reach %.200s port %u: no address",
		         t->address, t->port);
		return;
	}
	if (exchange(fd, &req, t, &r, out) == 0)
		take_answer(&r, t, out);
	close(fd);
}
