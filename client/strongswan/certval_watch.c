/*
 * certval_watch.c: revocation events from certvald delete the IKE_SAs of revoked peers
 * (issue 16). A thread of the plugin holds a libcertval watch (every event of the daemon).
 * On a "revoked" event it looks through the established IKE_SAs for a peer that authenticated
 * with a certificate of that serial number; each one's certificates are verified again
 * through certvald (an event is a notice: the verdict decides, which also covers the issuer
 * the serial belongs to), and the IKE_SA is deleted unless the verdict is still ACCEPT. When
 * events may have been missed ("lost", "reconnected"), every established IKE_SA is verified
 * again the same way: fail closed.
 */
#include "certval_watch.h"

#include <daemon.h>
#include <credentials/certificates/x509.h>
#include <threading/thread.h>

#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "certval.h"

#define MAX_RECHECK       1024 /* IKE_SAs checked again per event (more: logged) */
#define WAIT_MS           500  /* how long the thread waits for events before looking at stop */
#define SERIAL_HEX_MAX    (2 * 20 + 1)
#define SUBSCRIBE_WAIT_MS 3000

typedef struct private_certval_watch_t private_certval_watch_t;

struct private_certval_watch_t {
	certval_watch_t public;
	certval_listener_t *listener;
	struct cv_client_watch *watch;
	thread_t *thread;
	volatile sig_atomic_t stop;
};

/* The serial as certvald writes it: upper-case hex without leading zeros ("0" for zero). */
static void
serial_hex(chunk_t serial, char out[SERIAL_HEX_MAX])
{
	static const char digits[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < serial.len && o + 2 < SERIAL_HEX_MAX; i++) {
		if (o == 0 && serial.ptr[i] >> 4 == 0) {
			if (serial.ptr[i] != 0)
				out[o++] = digits[serial.ptr[i] & 0xf];
			continue;
		}
		out[o++] = digits[serial.ptr[i] >> 4];
		out[o++] = digits[serial.ptr[i] & 0xf];
	}
	if (o == 0)
		out[o++] = '0';
	out[o] = '\0';
}

/* Whether the peer authenticated with a certificate of that serial (NULL: any certificate). */
static bool
peer_has_serial(ike_sa_t *ike_sa, const char *serial)
{
	enumerator_t *rounds = ike_sa->create_auth_cfg_enumerator(ike_sa, FALSE);
	auth_cfg_t *auth;
	certificate_t *cert;
	char hex[SERIAL_HEX_MAX];
	bool found = FALSE;

	while (!found && rounds->enumerate(rounds, &auth)) {
		cert = auth->get(auth, AUTH_RULE_SUBJECT_CERT);
		if (cert == NULL || cert->get_type(cert) != CERT_X509)
			continue;
		serial_hex(((x509_t *)cert)->get_serial((x509_t *)cert), hex);
		found = serial == NULL || strcmp(hex, serial) == 0;
	}
	rounds->destroy(rounds);
	return found;
}

/*
 * Verifies again the peers concerned and deletes the IKE_SAs certvald no longer accepts. The
 * enumeration (which holds the IKE_SA manager) only collects; each IKE_SA is then checked out
 * alone for its verdict, as for the authorization itself.
 */
static void
recheck_peers(private_certval_watch_t *this, const char *serial, const char *why)
{
	uint32_t ids[MAX_RECHECK];
	size_t n = 0, more = 0;
	enumerator_t *e;
	ike_sa_t *ike_sa;
	bool ok;

	e = charon->controller->create_ike_sa_enumerator(charon->controller, TRUE);
	while (e->enumerate(e, &ike_sa)) {
		if (ike_sa->get_state(ike_sa) != IKE_ESTABLISHED ||
		    !peer_has_serial(ike_sa, serial))
			continue;
		if (n < MAX_RECHECK)
			ids[n++] = ike_sa->get_unique_id(ike_sa);
		else
			more++;
	}
	e->destroy(e);
	if (more > 0)
		DBG1(DBG_IKE, "certval: %zu more IKE_SAs not checked again now", more);
	for (size_t i = 0; i < n; i++) {
		ike_sa = charon->ike_sa_manager->checkout_by_id(charon->ike_sa_manager, ids[i]);
		if (ike_sa == NULL)
			continue; /* gone meanwhile */
		ok = ike_sa->get_state(ike_sa) != IKE_ESTABLISHED ||
		     this->listener->recheck(this->listener, ike_sa);
		charon->ike_sa_manager->checkin(charon->ike_sa_manager, ike_sa);
		if (ok)
			continue;
		DBG1(DBG_IKE, "certval: %s: deleting IKE_SA #%u", why, ids[i]);
		charon->controller->terminate_ike(charon->controller, ids[i], FALSE, NULL, NULL, 0);
	}
}

static void
on_event(const struct cv_client_event *ev, void *arg)
{
	private_certval_watch_t *this = arg;
	char why[160];

	if (strcmp(ev->event, "revoked") == 0) {
		DBG1(DBG_IKE, "certval: event: serial %s of '%s' revoked (%s, %s)", ev->serial,
		     ev->issuer, ev->reason, ev->source);
		snprintf(why, sizeof(why), "peer certificate serial %.42s revoked", ev->serial);
		recheck_peers(this, ev->serial, why);
	} else if (strcmp(ev->event, "lost") == 0 || strcmp(ev->event, "reconnected") == 0) {
		DBG1(DBG_IKE, "certval: events may have been missed (%s): checking every peer",
		     ev->event);
		recheck_peers(this, NULL, "peer no longer accepted");
	}
}

static void *
watch_main(private_certval_watch_t *this)
{
	while (!this->stop) {
		if (cv_client_watch_wait(this->watch, WAIT_MS) != CV_CLIENT_OK &&
		    cv_client_watch_fd(this->watch) < 0)
			sleep(1); /* certvald is not there: try again in a second */
	}
	return NULL;
}

METHOD(certval_watch_t, destroy, void, private_certval_watch_t *this)
{
	if (this->thread != NULL) {
		this->stop = 1;
		this->thread->join(this->thread);
	}
	cv_client_watch_close(this->watch);
	free(this);
}

certval_watch_t *
certval_watch_create(certval_listener_t *listener)
{
	private_certval_watch_t *this;
	const char *sock = lib->settings->get_str(lib->settings, "%s.plugins.certval.socket",
	                                          CV_CLIENT_DEFAULT_SOCKET, lib->ns);
	int rc;

	INIT(this,
	     .public =
	         {
	             .destroy = _destroy,
	         },
	     .listener = listener, );
	rc = cv_client_watch_open(sock, NULL, SUBSCRIBE_WAIT_MS, on_event, this, &this->watch);
	if (this->watch == NULL) {
		free(this);
		return NULL;
	}
	if (rc != CV_CLIENT_OK)
		DBG1(DBG_CFG, "certval: no revocation events yet (%s); trying again",
		     cv_client_watch_error(this->watch));
	this->thread = thread_create((thread_main_t)watch_main, this);
	if (this->thread == NULL) {
		destroy(this);
		return NULL;
	}
	DBG1(DBG_CFG, "certval: IKE_SAs of peers revoked mid-session are deleted (events of %s)",
	     sock);
	return &this->public;
}
