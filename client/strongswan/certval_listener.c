/*
 * certval_listener.c: charon's final authorize hook asks certvald (through libcertval, purpose
 * "ike") about each certificate a peer authenticated with, and forbids the IKE_SA unless the
 * verdict is ACCEPT.
 *
 * Why the final authorize hook: charon calls it once per IKE_SA, after every authentication
 * round has succeeded and the peer configuration is chosen, on both sides (as responder a
 * refusal sends AUTHENTICATION_FAILED, as initiator it deletes the SA). Every completed round of
 * the peer is there with the certificate it proved possession of, the intermediates charon
 * built the path through (AUTH_RULE_IM_CERT) and those the peer sent (AUTH_HELPER_IM_CERT).
 * Rounds without a certificate (PSK, EAP) are not the plugin's to judge.
 *
 * Fail closed: no daemon, a timeout, an error answer, anything but ACCEPT refuses.
 */
#include "certval_listener.h"
#include "certval_pool.h"

#include <daemon.h>
#include <credentials/auth_cfg.h>
#include <credentials/certificates/certificate.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_TRUSTPOINTS    8
#define MAX_CHAIN          16 /* libcertval's limit of chain certificates */
#define MAX_EXTRA          16
#define DEFAULT_TIMEOUT_MS 3000

typedef struct private_certval_listener_t private_certval_listener_t;

struct private_certval_listener_t {
	certval_listener_t public;
	certval_pool_t *pool;
	char *trustpoint_list;                    /* owned copy, split in place */
	const char *trustpoints[MAX_TRUSTPOINTS]; /* into trustpoint_list */
	size_t n_trustpoints;
	char *application; /* owned, or NULL */
};

/* The certificates of one authentication round, DER (owned chunks). */
struct round_certs {
	chunk_t der[MAX_CHAIN + MAX_EXTRA];
	struct cv_client_cert chain[MAX_CHAIN];
	struct cv_client_cert extra[MAX_EXTRA];
	certificate_t *seen[MAX_CHAIN + MAX_EXTRA]; /* borrowed, for duplicates */
	size_t n_chain, n_extra, n_der;
};

static void
round_certs_free(struct round_certs *rc)
{
	for (size_t i = 0; i < rc->n_der; i++)
		chunk_free(&rc->der[i]);
}

static bool
round_certs_seen(const struct round_certs *rc, certificate_t *cert)
{
	for (size_t i = 0; i < rc->n_der; i++) {
		if (rc->seen[i]->equals(rc->seen[i], cert))
			return TRUE;
	}
	return FALSE;
}

/* Adds an X.509 certificate to the chain (to_chain) or the extra certificates once. */
static bool
round_certs_add(struct round_certs *rc, certificate_t *cert, bool to_chain)
{
	chunk_t der;

	if (cert->get_type(cert) != CERT_X509 || round_certs_seen(rc, cert))
		return TRUE;
	if ((to_chain && rc->n_chain == MAX_CHAIN) || (!to_chain && rc->n_extra == MAX_EXTRA)) {
		DBG1(DBG_IKE, "certval: more than %d certificates, '%Y' not sent",
		     to_chain ? MAX_CHAIN : MAX_EXTRA, cert->get_subject(cert));
		return TRUE;
	}
	if (!cert->get_encoding(cert, CERT_ASN1_DER, &der))
		return FALSE;
	rc->der[rc->n_der] = der;
	rc->seen[rc->n_der++] = cert;
	if (to_chain)
		rc->chain[rc->n_chain++] = (struct cv_client_cert){der.ptr, der.len};
	else
		rc->extra[rc->n_extra++] = (struct cv_client_cert){der.ptr, der.len};
	return TRUE;
}

/* The peer's certificate, then the path charon built, then what else the peer sent. */
static bool
round_certs_collect(struct round_certs *rc, auth_cfg_t *auth, certificate_t *subject)
{
	enumerator_t *e;
	auth_rule_t rule;
	void *value;
	bool ok = round_certs_add(rc, subject, TRUE);

	e = auth->create_enumerator(auth);
	while (ok && e->enumerate(e, &rule, &value)) {
		if (rule == AUTH_RULE_IM_CERT)
			ok = round_certs_add(rc, value, TRUE);
	}
	e->destroy(e);
	e = auth->create_enumerator(auth);
	while (ok && e->enumerate(e, &rule, &value)) {
		if (rule == AUTH_HELPER_IM_CERT)
			ok = round_certs_add(rc, value, FALSE);
	}
	e->destroy(e);
	return ok;
}

/*
 * The peer name certvald checks against the certificate's subjectAltName: the IKE identity
 * when it is a host name or an address (RFC 7296 3.5; RFC 4945 3.1 wants it in the
 * certificate). A DN, e-mail or key-id identity is no host name: charon has already matched it
 * to the certificate, certvald gets none.
 */
static const char *
peer_name(identification_t *id, char *buf, size_t len)
{
	switch (id->get_type(id)) {
	case ID_FQDN:
	case ID_IPV4_ADDR:
	case ID_IPV6_ADDR:
		snprintf(buf, len, "%Y", id);
		return buf;
	default:
		return NULL;
	}
}

/* Milliseconds since start (CLOCK_MONOTONIC). */
static double
elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* Logs the verdict in one line, with the time it took; TRUE on ACCEPT. */
static bool
judge(int status, const struct cv_client_verdict *v, const char *err, identification_t *id,
      host_t *host, double ms)
{
	const char *detail;

	if (status != CV_CLIENT_OK) {
		DBG1(DBG_IKE, "certval: no verdict for '%Y' at %H (%s: %s), refusing (%.1f ms)", id,
		     host, cv_client_status_name(status), err, ms);
		return FALSE;
	}
	if (v->decision == CV_CLIENT_ACCEPT) {
		DBG1(DBG_IKE, "certval: ACCEPT '%Y' at %H, trustpoint %s, revocation %s (%.2f ms)",
		     id, host, v->trustpoint[0] ? v->trustpoint : "-",
		     v->revocation[0] ? v->revocation : "-", ms);
		return TRUE;
	}
	/* the detail only where it says more than the reason ("revoked/revoked" does not) */
	detail = v->detail[0] != '\0' && strcmp(v->detail, v->reason) != 0 ? v->detail : "";
	DBG1(DBG_IKE, "certval: REJECT '%Y' at %H, reason %s%s%s, trustpoint %s: %s (%.2f ms)", id,
	     host, v->reason[0] ? v->reason : "-", detail[0] ? "/" : "", detail,
	     v->trustpoint[0] ? v->trustpoint : "-", v->message, ms);
	return FALSE;
}

/* Asks certvald about one round's certificate; TRUE only on ACCEPT. */
static bool
check_round(private_certval_listener_t *this, ike_sa_t *ike_sa, auth_cfg_t *auth,
            certificate_t *subject)
{
	identification_t *id = ike_sa->get_other_id(ike_sa);
	host_t *host = ike_sa->get_other_host(ike_sa);
	struct round_certs rc = {.n_chain = 0};
	struct cv_client_request req = {.at = CV_CLIENT_AT_NOW, .purpose = "ike"};
	struct cv_client_verdict verdict = {.json = NULL};
	char name[256], addr[64], err[256] = "";
	int status = CV_CLIENT_ERR_MEMORY;
	struct timespec start;
	bool ok;

	clock_gettime(CLOCK_MONOTONIC, &start);
	if (round_certs_collect(&rc, auth, subject)) {
		snprintf(addr, sizeof(addr), "%H", host);
		req.chain = rc.chain;
		req.n_chain = rc.n_chain;
		req.extra = rc.n_extra ? rc.extra : NULL;
		req.n_extra = rc.n_extra;
		req.trustpoints = this->n_trustpoints ? this->trustpoints : NULL;
		req.n_trustpoints = this->n_trustpoints;
		req.peer_name = peer_name(id, name, sizeof(name));
		req.peer_addr = addr;
		req.application = this->application;
		status = this->pool->verify(this->pool, &req, &verdict, err, sizeof(err));
	} else {
		snprintf(err, sizeof(err), "cannot encode the certificates");
	}
	ok = judge(status, &verdict, err, id, host, elapsed_ms(&start));
	if (status == CV_CLIENT_OK)
		cv_client_verdict_free(&verdict);
	round_certs_free(&rc);
	return ok;
}

METHOD(listener_t, authorize, bool, private_certval_listener_t *this, ike_sa_t *ike_sa, bool final,
       bool *success)
{
	enumerator_t *rounds;
	auth_cfg_t *auth;
	certificate_t *subject;

	if (!final)
		return TRUE;
	rounds = ike_sa->create_auth_cfg_enumerator(ike_sa, FALSE);
	while (*success && rounds->enumerate(rounds, &auth)) {
		subject = auth->get(auth, AUTH_RULE_SUBJECT_CERT);
		if (subject != NULL && !check_round(this, ike_sa, auth, subject))
			*success = FALSE;
	}
	rounds->destroy(rounds);
	return TRUE; /* stay registered */
}

METHOD(certval_listener_t, recheck, bool, private_certval_listener_t *this, ike_sa_t *ike_sa)
{
	enumerator_t *rounds;
	auth_cfg_t *auth;
	certificate_t *subject;
	bool ok = TRUE;

	rounds = ike_sa->create_auth_cfg_enumerator(ike_sa, FALSE);
	while (ok && rounds->enumerate(rounds, &auth)) {
		subject = auth->get(auth, AUTH_RULE_SUBJECT_CERT);
		if (subject != NULL)
			ok = check_round(this, ike_sa, auth, subject);
	}
	rounds->destroy(rounds);
	return ok;
}

METHOD(certval_listener_t, destroy, void, private_certval_listener_t *this)
{
	DESTROY_IF(this->pool);
	free(this->trustpoint_list);
	free(this->application);
	free(this);
}

/* Splits the comma-separated trustpoint setting; FALSE (logged) on too many or empty names. */
static bool
split_trustpoints(private_certval_listener_t *this)
{
	char *save = NULL, *tok;

	if (this->trustpoint_list == NULL)
		return TRUE;
	for (tok = strtok_r(this->trustpoint_list, ", ", &save); tok != NULL;
	     tok = strtok_r(NULL, ", ", &save)) {
		if (this->n_trustpoints == MAX_TRUSTPOINTS) {
			DBG1(DBG_CFG,
			     "certval: more than %d trustpoints in %s.plugins.certval.trustpoint",
			     MAX_TRUSTPOINTS, lib->ns);
			return FALSE;
		}
		this->trustpoints[this->n_trustpoints++] = tok;
	}
	return TRUE;
}

certval_listener_t *
certval_listener_create(void)
{
	private_certval_listener_t *this;
	const char *sock, *tps, *app;
	int timeout_ms;

	sock = lib->settings->get_str(lib->settings, "%s.plugins.certval.socket",
	                              CV_CLIENT_DEFAULT_SOCKET, lib->ns);
	tps = lib->settings->get_str(lib->settings, "%s.plugins.certval.trustpoint", NULL, lib->ns);
	app =
	    lib->settings->get_str(lib->settings, "%s.plugins.certval.application", NULL, lib->ns);
	timeout_ms = lib->settings->get_int(lib->settings, "%s.plugins.certval.timeout",
	                                    DEFAULT_TIMEOUT_MS, lib->ns);
	if (timeout_ms <= 0) {
		/* a wait without end would hold charon's worker threads: refuse the setting */
		DBG1(DBG_CFG, "certval: %s.plugins.certval.timeout must be > 0 ms", lib->ns);
		return NULL;
	}
	INIT(this,
	     .public =
	         {
	             .listener =
	                 {
	                     .authorize = _authorize,
	                 },
	             .recheck = _recheck,
	             .destroy = _destroy,
	         },
	     .trustpoint_list = strdupnull(tps), .application = strdupnull(app),
	     .pool = certval_pool_create(sock, timeout_ms), );
	if (this->pool == NULL || !split_trustpoints(this)) {
		destroy(this);
		return NULL;
	}
	DBG1(DBG_CFG, "certval: asking certvald at %s (timeout %d ms, trustpoints %s)", sock,
	     timeout_ms, tps ? tps : "any");
	return &this->public;
}
