/*
 * tls_server.c: an example TLS server that lets certvald decide about its clients'
 * certificates through libcertval's GnuTLS helper (certval_gnutls.h).
 *
 * usage: tls_server --cert SERVER.pem --key SERVER.key [--port N] [--address A]
 *                   [--socket PATH] [--trustpoint NAME]... [--timeout MS] [-n CONNECTIONS]
 *
 * It listens on address:port (default 127.0.0.1, port 0 = any free one; the line
 * "listening on PORT" says which), requires a client certificate, and for each connection,
 * one at a time, prints "handshake from ADDR: accepted ..." or "handshake from ADDR:
 * refused: REASON: ...",
 * answers an accepted client with one line and closes. It exits after -n connections.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "certval_gnutls.h"

#define MAX_TRUSTPOINTS      8
#define HANDSHAKE_TIMEOUT_MS 10000

struct options {
	const char *cert, *key, *address, *socket;
	const char *trustpoints[MAX_TRUSTPOINTS];
	size_t n_trustpoints;
	int port, timeout_ms;
	long connections; /* 0: serve forever */
};

static volatile sig_atomic_t stop_requested;

static void
on_term(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
usage(void)
{
	fputs("usage: tls_server --cert SERVER.pem --key SERVER.key [--port N] [--address A]\n"
	      "                  [--socket PATH] [--trustpoint NAME]... [--timeout MS] [-n N]\n",
	      stderr);
	exit(2);
}

static void
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
	    {"cert", required_argument, NULL, 'c'},
	    {"key", required_argument, NULL, 'k'},
	    {"port", required_argument, NULL, 'p'},
	    {"address", required_argument, NULL, 'a'},
	    {"socket", required_argument, NULL, 's'},
	    {"trustpoint", required_argument, NULL, 't'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"connections", required_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->address = "127.0.0.1";
	while ((ch = getopt_long(argc, argv, "c:k:p:a:s:t:T:n:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->cert = optarg;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 'p':
			o->port = atoi(optarg);
			break;
		case 'a':
			o->address = optarg;
			break;
		case 's':
			o->socket = optarg;
			break;
		case 't':
			if (o->n_trustpoints == MAX_TRUSTPOINTS)
				usage();
			o->trustpoints[o->n_trustpoints++] = optarg;
			break;
		case 'T':
			o->timeout_ms = atoi(optarg);
			break;
		case 'n':
			o->connections = atol(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || o->cert == NULL || o->key == NULL || o->port < 0 || o->port > 65535 ||
	    o->timeout_ms < 0 || o->connections < 0)
		usage();
}

/* A listening TCP socket on address:port (IPv4 loopback by default); prints the port. */
static int
listen_on(const char *address, int port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, address, &sa.sin_addr) != 1) {
		fprintf(stderr, "tls_server: not an IPv4 address: %s\n", address);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		fprintf(stderr, "tls_server: %s:%d: %s\n", address, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	printf("listening on %d\n", ntohs(sa.sin_port));
	fflush(stdout);
	return fd;
}

/* One TLS connection: handshake (certvald decides), one line of response, goodbye. */
static void
serve(int fd, const char *peer, gnutls_certificate_credentials_t cred, struct cv_gnutls *cvg)
{
	static const char reply[] = "hello from the certval example server\n";
	gnutls_session_t session;
	int ret;

	if (gnutls_init(&session, GNUTLS_SERVER) < 0) {
		printf("handshake from %s: refused: cannot create a TLS session\n", peer);
		return;
	}
	if (gnutls_set_default_priority(session) < 0 ||
	    gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred) < 0) {
		printf("handshake from %s: refused: cannot set up the TLS session\n", peer);
		goto done;
	}
	gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE);
	gnutls_handshake_set_timeout(session, HANDSHAKE_TIMEOUT_MS);
	gnutls_transport_set_int(session, fd);
	cv_gnutls_set_peer_addr(cvg, peer);
	cv_gnutls_install(session, cvg);
	do
		ret = gnutls_handshake(session);
	while (ret < 0 && gnutls_error_is_fatal(ret) == 0);
	if (ret < 0) {
		/* The verify function ran when the client sent a certificate: its summary. */
		if (ret == GNUTLS_E_CERTIFICATE_ERROR)
			printf("handshake from %s: %s\n", peer, cv_gnutls_summary(cvg));
		else
			printf("handshake from %s: refused: %s\n", peer, gnutls_strerror(ret));
		gnutls_alert_send_appropriate(session, ret);
		goto done;
	}
	printf("handshake from %s: %s\n", peer, cv_gnutls_summary(cvg));
	do
		ret = gnutls_record_send(session, reply, sizeof(reply) - 1);
	while (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED);
	/* Wait (bounded) for the client's close_notify, so that it sees a clean end. */
	gnutls_record_set_timeout(session, HANDSHAKE_TIMEOUT_MS);
	gnutls_bye(session, GNUTLS_SHUT_RDWR);
done:
	fflush(stdout);
	gnutls_deinit(session);
}

int
main(int argc, char **argv)
{
	gnutls_certificate_credentials_t cred = NULL;
	struct cv_gnutls *cvg = NULL;
	struct cv_gnutls_opts copts;
	struct sigaction sa;
	struct options o;
	int lfd = -1, ret, status = 1;

	parse_options(argc, argv, &o);
	signal(SIGPIPE, SIG_IGN);
	/* SIGTERM interrupts accept (no SA_RESTART): the server ends cleanly. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		goto done;
	ret = gnutls_certificate_set_x509_key_file(cred, o.cert, o.key, GNUTLS_X509_FMT_PEM);
	if (ret < 0) {
		fprintf(stderr, "tls_server: %s, %s: %s\n", o.cert, o.key, gnutls_strerror(ret));
		goto done;
	}
	memset(&copts, 0, sizeof(copts));
	copts.socket_path = o.socket;
	copts.trustpoints = o.trustpoints;
	copts.n_trustpoints = o.n_trustpoints;
	copts.purpose = "client"; /* a server checks its clients */
	copts.application = "tls";
	copts.timeout_ms = o.timeout_ms;
	if (cv_gnutls_new(&copts, &cvg) != CV_CLIENT_OK) {
		fprintf(stderr, "tls_server: cannot create the certval helper\n");
		goto done;
	}
	if ((lfd = listen_on(o.address, o.port)) < 0)
		goto done;
	for (long served = 0; !stop_requested && (o.connections == 0 || served < o.connections);
	     served++) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		char addr[INET_ADDRSTRLEN] = "?";
		int fd = accept(lfd, (struct sockaddr *)&peer, &len);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED) {
				served--;
				continue;
			}
			fprintf(stderr, "tls_server: accept: %s\n", strerror(errno));
			goto done;
		}
		inet_ntop(AF_INET, &peer.sin_addr, addr, sizeof(addr));
		serve(fd, addr, cred, cvg);
		close(fd);
	}
	status = 0;
done:
	if (lfd >= 0)
		close(lfd);
	cv_gnutls_free(cvg);
	if (cred != NULL)
		gnutls_certificate_free_credentials(cred);
	return status;
}
