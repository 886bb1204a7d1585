/*
 * certval_gnutls.h: libcertval's GnuTLS helper: certvald decides whether a TLS handshake
 * accepts the peer's certificate chain.
 *
 * A TLS server creates one struct cv_gnutls per thread that runs handshakes (it holds one
 * connection to the daemon and the last result; it is not thread safe) and installs it on
 * each session before gnutls_handshake:
 *
 *   struct cv_gnutls_opts o = {.purpose = "client", .timeout_ms = 3000};
 *   cv_gnutls_new(&o, &cvg);
 *   ...
 *   gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE);
 *   cv_gnutls_install(session, cvg);
 *   ret = gnutls_handshake(session);           // fails unless certvald said ACCEPT
 *   log("%s", cv_gnutls_summary(cvg));
 *
 * The verification runs inside gnutls_handshake and blocks it for at most timeout_ms while
 * the daemon answers. Fail closed: a missing certificate, a daemon that is down or slow, a
 * garbled reply or any verdict but ACCEPT fails the handshake (GNUTLS_E_CERTIFICATE_ERROR).
 * Servers that must never block in a handshake use cv_gnutls_peer_chain with the
 * non-blocking API of certval.h instead (docs/client.md).
 *
 * Link with `pkg-config --libs certval gnutls`.
 */
#ifndef CERTVAL_GNUTLS_H
#define CERTVAL_GNUTLS_H

#include <gnutls/gnutls.h>

#include "certval.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CV_GNUTLS_DEFAULT_TIMEOUT_MS 5000
#define CV_GNUTLS_MAX_CHAIN          16

/* Options; zero-initialise, then set what you need. Strings are copied by cv_gnutls_new. */
struct cv_gnutls_opts {
	const char *socket_path;        /* NULL: $CERTVAL_SOCKET or CV_CLIENT_DEFAULT_SOCKET */
	const char *const *trustpoints; /* allowed trustpoints in order; none: any */
	size_t n_trustpoints;
	const char *purpose;     /* "client" (a server checking its clients), "server", NULL: any */
	const char *peer_name;   /* host name the peer's certificate must carry, or NULL */
	const char *application; /* AAA application tag, or NULL */
	int timeout_ms;          /* at most this long per handshake; 0: the default above */
};

struct cv_gnutls; /* opaque */

/*
 * Creates a helper (it connects to the daemon now if it can, else at the first handshake:
 * a daemon that is down is not an error here). Free it with cv_gnutls_free.
 * Returns CV_CLIENT_OK, CV_CLIENT_ERR_ARGUMENT or CV_CLIENT_ERR_MEMORY.
 */
int cv_gnutls_new(const struct cv_gnutls_opts *opts, struct cv_gnutls **out);
void cv_gnutls_free(struct cv_gnutls *cvg); /* NULL is fine */

/*
 * The peer's address for the daemon's log line of the next handshakes (e.g. "192.0.2.7"),
 * or NULL for none.
 */
void cv_gnutls_set_peer_addr(struct cv_gnutls *cvg, const char *peer_addr);

/*
 * Makes certvald's verdict decide the session's certificate check: sets the session's verify
 * function (gnutls_session_set_verify_function) and stores cvg as the session's user pointer
 * (gnutls_session_set_ptr). An application that needs the session's user pointer for
 * itself installs its own verify function that calls cv_gnutls_verify instead.
 * The session does not own cvg. Returns CV_CLIENT_OK or CV_CLIENT_ERR_ARGUMENT.
 */
int cv_gnutls_install(gnutls_session_t session, struct cv_gnutls *cvg);

/*
 * The verification itself, for a verify function of the application's own: asks certvald
 * about the peer's certificate list and returns 0 when it said ACCEPT, else
 * GNUTLS_E_CERTIFICATE_ERROR (a handshake-fatal error).
 */
int cv_gnutls_verify(gnutls_session_t session, struct cv_gnutls *cvg);

/*
 * The last verification on this helper, for logging: its status (CV_CLIENT_OK when the
 * daemon gave a verdict, else why there is none; CV_CLIENT_ERR_ARGUMENT before the first
 * one or when the peer sent no usable certificate), the verdict (NULL without one; valid
 * until the next verification or cv_gnutls_free) and one line in words, e.g.
 * "accepted by trustpoint CORP", "refused: revoked: The certificate was revoked ..." or
 * "refused: certvald unavailable: cannot connect to ...".
 */
int cv_gnutls_status(const struct cv_gnutls *cvg);
const struct cv_client_verdict *cv_gnutls_verdict(const struct cv_gnutls *cvg);
const char *cv_gnutls_summary(const struct cv_gnutls *cvg);

/*
 * The peer's certificates in a session whose handshake received them, for the non-blocking
 * API: fills chain[0..*n) with pointers into the session's data (valid while the session
 * lives). Returns CV_CLIENT_OK, or CV_CLIENT_ERR_ARGUMENT when the peer sent no X.509
 * certificate or more than max.
 */
int cv_gnutls_peer_chain(gnutls_session_t session, struct cv_client_cert *chain, size_t max,
                         size_t *n);

#ifdef __cplusplus
}
#endif

#endif
