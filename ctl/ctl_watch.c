/*
 * ctl_watch.c: certvalctl watch: prints certvald's revocation events (issue 16) as they come,
 * one line each (or the daemon's JSON line with --json), through libcertval's watch API.
 * It reconnects when the daemon restarts. With --count N it exits after N events, for scripts.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../client/certval.h"
#include "ctl.h"
#include "ctl_chain.h"

#define WATCH_CERTS_MAX 64 /* --cert files */

struct watch_state {
	bool json;
	unsigned long count; /* 0: forever */
	unsigned long seen;
};

static void
print_event(const struct cv_client_event *e, void *arg)
{
	struct watch_state *st = arg;

	st->seen++;
	if (st->json) {
		printf("%s\n", e->json);
	} else if (strcmp(e->event, "revoked") == 0) {
		printf("revoked trustpoint=%s serial=%s reason=%s time=%s source=%s crl=%s "
		       "verified=%s issuer=\"%s\"\n",
		       e->trustpoint, e->serial, e->reason, e->revocation_time, e->source,
		       e->crl_number[0] != '\0' ? e->crl_number : "-", e->verified ? "yes" : "no",
		       e->issuer);
	} else if (strcmp(e->event, "lost") == 0) {
		printf("lost %llu events (this watcher read too slowly)\n", e->lost);
	} else if (strcmp(e->event, "reconnected") == 0) {
		printf("reconnected (events of the gap may be lost)\n");
	} else {
		printf("%s trustpoint=%s %s\n", e->event, e->trustpoint, e->json);
	}
	fflush(stdout);
}

/* --cert FILE: every certificate of the file joins the subscription. */
static int
add_certs(const char *path, struct ctl_chain *chains, size_t *n_chains,
          struct cv_client_watch_cert *certs, size_t *n_certs)
{
	struct cv_error err = {""};
	struct ctl_chain *c = &chains[*n_chains];

	if (*n_chains >= WATCH_CERTS_MAX)
		return cv_ctl_fail(CV_CTL_USAGE, "at most %d --cert files", WATCH_CERTS_MAX);
	if (ctl_chain_read(path, c, &err) != 0)
		return cv_ctl_fail(CV_CTL_USAGE, "%s", err.msg);
	(*n_chains)++;
	for (size_t i = 0; i < c->n; i++) {
		if (*n_certs >= WATCH_CERTS_MAX)
			return cv_ctl_fail(CV_CTL_USAGE, "at most %d certificates",
			                   WATCH_CERTS_MAX);
		certs[*n_certs].cert_der = c->v[i].der;
		certs[*n_certs].cert_der_len = c->v[i].len;
		(*n_certs)++;
	}
	return CV_CTL_ACCEPT;
}

int
cv_ctl_watch(const struct cv_ctl *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"trustpoint", required_argument, NULL, 't'},
	    {"cert", required_argument, NULL, 'c'},
	    {"count", required_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	static struct ctl_chain chains[WATCH_CERTS_MAX];
	static struct cv_client_watch_cert certs[WATCH_CERTS_MAX];
	struct cv_client_watch_opts opts = {0};
	struct watch_state st = {0};
	struct cv_client_watch *w = NULL;
	size_t n_chains = 0;
	int opt, rc = CV_CTL_ACCEPT;
	char *end;

	optind = 1;
	while (rc == CV_CTL_ACCEPT && (opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			st.json = true;
			break;
		case 't':
			opts.trustpoint = optarg;
			break;
		case 'c':
			rc = add_certs(optarg, chains, &n_chains, certs, &opts.n_certs);
			break;
		case 'n':
			st.count = strtoul(optarg, &end, 10);
			if (*end != '\0' || st.count == 0)
				rc = cv_ctl_fail(CV_CTL_USAGE, "--count wants a positive number");
			break;
		default:
			rc = cv_ctl_usage();
			break;
		}
	}
	if (rc == CV_CTL_ACCEPT && optind != argc)
		rc = cv_ctl_usage();
	opts.certs = opts.n_certs > 0 ? certs : NULL;
	if (rc == CV_CTL_ACCEPT && cv_client_watch_open(ctl->socket_path, &opts, CV_CTL_TIMEOUT_MS,
	                                                print_event, &st, &w) != CV_CLIENT_OK)
		rc = cv_ctl_fail(CV_CTL_ERROR, "%s", cv_client_watch_error(w));
	if (rc == CV_CTL_ACCEPT && !st.json)
		fprintf(stderr, "certvalctl: watching revocation events\n");
	while (rc == CV_CTL_ACCEPT && (st.count == 0 || st.seen < st.count)) {
		/* a lost daemon is not fatal: the watch reconnects at the next call */
		(void)cv_client_watch_wait(w, 1000);
	}
	cv_client_watch_close(w);
	for (size_t i = 0; i < n_chains; i++)
		ctl_chain_free(&chains[i]);
	return rc;
}
