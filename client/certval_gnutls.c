/* certval_gnutls.c: the GnuTLS verify function that asks certvald (certval_gnutls.h). */
#include "certval_gnutls.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cv_gnutls {
	struct cv_client *client;
	char **trustpoints;
	size_t n_trustpoints;
	char *purpose, *peer_name, *application;
	int timeout_ms;
	char peer_addr[64];
	int status;
	bool have_verdict;
	struct cv_client_verdict verdict;
	char summary[512];
};

static char *
dup_opt(const char *s, bool *ok)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*ok = false;
	return d;
}

void
cv_gnutls_free(struct cv_gnutls *g)
{
	if (g == NULL)
		return;
	cv_client_close(g->client);
	for (size_t i = 0; i < g->n_trustpoints; i++)
		free(g->trustpoints[i]);
	free(g->trustpoints);
	free(g->purpose);
	free(g->peer_name);
	free(g->application);
	cv_client_verdict_free(&g->verdict);
	free(g);
}

int
cv_gnutls_new(const struct cv_gnutls_opts *o, struct cv_gnutls **out)
{
	struct cv_gnutls *g;
	bool ok = true;
	int rc;

	if (out == NULL)
		return CV_CLIENT_ERR_ARGUMENT;
	*out = NULL;
	if (o == NULL || o->timeout_ms < 0 || (o->n_trustpoints > 0 && o->trustpoints == NULL))
		return CV_CLIENT_ERR_ARGUMENT;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return CV_CLIENT_ERR_MEMORY;
	g->status = CV_CLIENT_ERR_ARGUMENT;
	snprintf(g->summary, sizeof(g->summary), "refused: no verification yet");
	g->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : CV_GNUTLS_DEFAULT_TIMEOUT_MS;
	if (o->n_trustpoints > 0 &&
	    (g->trustpoints = calloc(o->n_trustpoints, sizeof(*g->trustpoints))) == NULL)
		ok = false;
	for (size_t i = 0; ok && i < o->n_trustpoints; i++, g->n_trustpoints++)
		if (o->trustpoints[i] == NULL ||
		    (g->trustpoints[i] = strdup(o->trustpoints[i])) == NULL)
			ok = false;
	g->purpose = dup_opt(o->purpose, &ok);
	g->peer_name = dup_opt(o->peer_name, &ok);
	g->application = dup_opt(o->application, &ok);
	rc = cv_client_open(o->socket_path, &g->client);
	if (!ok || g->client == NULL || (rc != CV_CLIENT_OK && rc != CV_CLIENT_ERR_CONNECT)) {
		rc = ok && g->client != NULL ? rc : CV_CLIENT_ERR_MEMORY;
		cv_gnutls_free(g);
		return rc;
	}
	*out = g;
	return CV_CLIENT_OK;
}

void
cv_gnutls_set_peer_addr(struct cv_gnutls *g, const char *peer_addr)
{
	if (g != NULL)
		snprintf(g->peer_addr, sizeof(g->peer_addr), "%s",
		         peer_addr != NULL ? peer_addr : "");
}

int
cv_gnutls_peer_chain(gnutls_session_t session, struct cv_client_cert *chain, size_t max, size_t *n)
{
	const gnutls_datum_t *peers;
	unsigned int count = 0;

	*n = 0;
	if (gnutls_certificate_type_get2(session, GNUTLS_CTYPE_PEERS) != GNUTLS_CRT_X509)
		return CV_CLIENT_ERR_ARGUMENT;
	peers = gnutls_certificate_get_peers(session, &count);
	if (peers == NULL || count == 0 || count > max)
		return CV_CLIENT_ERR_ARGUMENT;
	for (unsigned int i = 0; i < count; i++) {
		chain[i].der = peers[i].data;
		chain[i].len = peers[i].size;
	}
	*n = count;
	return CV_CLIENT_OK;
}

/* Records a refusal without a verdict and returns the handshake's error. */
static int
refuse(struct cv_gnutls *g, int status, const char *what)
{
	g->status = status;
	snprintf(g->summary, sizeof(g->summary), "refused: %s", what);
	return GNUTLS_E_CERTIFICATE_ERROR;
}

int
cv_gnutls_verify(gnutls_session_t session, struct cv_gnutls *g)
{
	struct cv_client_cert chain[CV_GNUTLS_MAX_CHAIN];
	struct cv_client_request req;
	const struct cv_client_verdict *v;
	char what[600];
	size_t n;
	int rc;

	if (g == NULL)
		return GNUTLS_E_CERTIFICATE_ERROR;
	v = &g->verdict;
	cv_client_verdict_free(&g->verdict);
	memset(&g->verdict, 0, sizeof(g->verdict));
	g->have_verdict = false;
	if (cv_gnutls_peer_chain(session, chain, CV_GNUTLS_MAX_CHAIN, &n) != CV_CLIENT_OK)
		return refuse(g, CV_CLIENT_ERR_ARGUMENT,
		              "the peer sent no X.509 certificate or more than 16");
	memset(&req, 0, sizeof(req));
	req.chain = chain;
	req.n_chain = n;
	req.trustpoints = (const char *const *)g->trustpoints;
	req.n_trustpoints = g->n_trustpoints;
	req.at = CV_CLIENT_AT_NOW;
	req.purpose = g->purpose;
	req.peer_name = g->peer_name;
	req.peer_addr = g->peer_addr[0] != '\0' ? g->peer_addr : NULL;
	req.application = g->application;
	rc = cv_client_verify(g->client, &req, g->timeout_ms, &g->verdict);
	if (rc != CV_CLIENT_OK) {
		snprintf(what, sizeof(what), "certvald unavailable: %s",
		         cv_client_error(g->client));
		return refuse(g, rc, what);
	}
	g->status = CV_CLIENT_OK;
	g->have_verdict = true;
	if (v->decision != CV_CLIENT_ACCEPT) {
		bool detail = v->detail[0] != '\0' && strcmp(v->detail, v->reason) != 0;

		snprintf(g->summary, sizeof(g->summary), "refused: %s%s%s%s%s%s", v->reason,
		         detail ? " (" : "", detail ? v->detail : "", detail ? ")" : "",
		         v->message[0] != '\0' ? ": " : "", v->message);
		return GNUTLS_E_CERTIFICATE_ERROR;
	}
	snprintf(g->summary, sizeof(g->summary), "accepted by trustpoint %s", v->trustpoint);
	return 0;
}

static int
verify_function(gnutls_session_t session)
{
	struct cv_gnutls *g = gnutls_session_get_ptr(session);

	if (g == NULL)
		return GNUTLS_E_CERTIFICATE_ERROR;
	return cv_gnutls_verify(session, g);
}

int
cv_gnutls_install(gnutls_session_t session, struct cv_gnutls *g)
{
	if (session == NULL || g == NULL)
		return CV_CLIENT_ERR_ARGUMENT;
	gnutls_session_set_ptr(session, g);
	gnutls_session_set_verify_function(session, verify_function);
	return CV_CLIENT_OK;
}

int
cv_gnutls_status(const struct cv_gnutls *g)
{
	return g != NULL ? g->status : CV_CLIENT_ERR_ARGUMENT;
}

const struct cv_client_verdict *
cv_gnutls_verdict(const struct cv_gnutls *g)
{
	return g != NULL && g->have_verdict ? &g->verdict : NULL;
}

const char *
cv_gnutls_summary(const struct cv_gnutls *g)
{
	return g != NULL ? g->summary : "refused: no helper";
}
