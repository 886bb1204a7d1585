/*
 * test_crl_ingest.c: a downloaded CRL through the engine (policy/crl_ingest.c, issue 13),
 * with and without the engine's threads: requests waiting on one download get one ingest and
 * the right verdicts (a revoked leaf REJECT, a good one ACCEPT), and an engine freed while its
 * CRL is downloaded or ingested frees everything (the ASan run checks it). The CDP is
 * tests/support/httpd_fault.py on loopback, serving a CRL made here with GnuTLS.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "../../common/util.h"
#include "../../policy/config.h"
#include "../../policy/engine.h"
#include "../../validator/fetch/fetch.h"
#include "../support/check.h"
#include "../support/httpd.h"
#include "../support/testpki.h"

static char tmpdir[] = "/tmp/certval-ingest-XXXXXX";
static cv_time now;
static int port;
static struct tp_entity root, good, revoked, other_root, other_leaf;
static char root_pem[300], other_pem[300];

/* The CRL of root revoking `revoked`, DER, at tmpdir/root.crl. */
static int
write_crl(void)
{
	gnutls_x509_crl_t crl;
	gnutls_datum_t der = {NULL, 0};
	unsigned char serial[40], number[1] = {1}, ski[64];
	size_t serial_len = sizeof(serial), ski_len = sizeof(ski);
	char path[300];
	FILE *f;
	int rc = -1;

	if (gnutls_x509_crl_init(&crl) < 0)
		return -1;
	if (gnutls_x509_crt_get_serial(revoked.crt, serial, &serial_len) >= 0 &&
	    gnutls_x509_crl_set_version(crl, 2) >= 0 &&
	    gnutls_x509_crl_set_crt_serial(crl, serial, serial_len, (time_t)now - 3600) >= 0 &&
	    gnutls_x509_crl_set_this_update(crl, (time_t)now - 3600) >= 0 &&
	    gnutls_x509_crl_set_next_update(crl, (time_t)now + 86400) >= 0 &&
	    gnutls_x509_crl_set_number(crl, number, sizeof(number)) >= 0 &&
	    gnutls_x509_crt_get_subject_key_id(root.crt, ski, &ski_len, NULL) >= 0 &&
	    gnutls_x509_crl_set_authority_key_id(crl, ski, ski_len) >= 0 &&
	    gnutls_x509_crl_sign2(crl, root.crt, root.key, GNUTLS_DIG_SHA256, 0) >= 0 &&
	    gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_DER, &der) >= 0) {
		snprintf(path, sizeof(path), "%s/root.crl", tmpdir);
		if ((f = fopen(path, "wb")) != NULL) {
			rc = fwrite(der.data, 1, der.size, f) == der.size ? 0 : -1;
			fclose(f);
		}
	}
	gnutls_free(der.data);
	gnutls_x509_crl_deinit(crl);
	return rc;
}

static void
make_pki(void)
{
	char url[128];
	struct tp_spec s;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/file/root.crl", port);
	tp_spec_ca(&s, "CN=Ingest Root,O=certval", now);
	CHECK_INT_EQ(tp_issue(&root, &s, NULL), 0);
	tp_spec_leaf(&s, "CN=good.example,O=certval", now);
	s.crl_url[0] = url;
	CHECK_INT_EQ(tp_issue(&good, &s, &root), 0);
	tp_spec_leaf(&s, "CN=revoked.example,O=certval", now);
	s.crl_url[0] = url;
	CHECK_INT_EQ(tp_issue(&revoked, &s, &root), 0);
	tp_spec_ca(&s, "CN=Other Root,O=certval", now);
	CHECK_INT_EQ(tp_issue(&other_root, &s, NULL), 0);
	tp_spec_leaf(&s, "CN=other.example,O=certval", now);
	CHECK_INT_EQ(tp_issue(&other_leaf, &s, &other_root), 0);
	snprintf(root_pem, sizeof(root_pem), "%s/root.pem", tmpdir);
	snprintf(other_pem, sizeof(other_pem), "%s/other.pem", tmpdir);
	CHECK_INT_EQ(tp_write_cert_pem(&root, root_pem), 0);
	CHECK_INT_EQ(tp_write_cert_pem(&other_root, other_pem), 0);
	CHECK_INT_EQ(write_crl(), 0);
}

/* The verdicts in the order the engine gave them. */
struct order {
	char who[8][16];
	enum cv_decision decision[8];
	enum cv_reason reason[8];
	size_t n;
};

struct call {
	struct order *order;
	const char *who;
};

static void
on_done(const struct cv_verdict *v, void *arg)
{
	struct call *c = arg;
	struct order *o = c->order;

	if (o->n < 8) {
		cv_strlcpy(o->who[o->n], c->who, sizeof(o->who[0]));
		o->decision[o->n] = v->decision;
		o->reason[o->n] = v->reason;
		o->n++;
	}
}

static void
verify(struct cv_engine *engine, const char *tp, struct tp_entity *leaf, struct call *c)
{
	struct cv_request req;

	cv_request_init(&req);
	cv_cert_list_push(&req.chain, leaf->cert);
	cv_strlcpy(req.trustpoints[0], tp, sizeof(req.trustpoints[0]));
	req.n_trustpoints = 1;
	CHECK_INT_EQ(cv_engine_verify(engine, &req, on_done, c), 0);
	cv_request_free(&req);
}

static struct cv_config *
config(void)
{
	char text[2048];
	struct cv_config *cfg = NULL;
	struct cv_error err = {{0}};

	snprintf(text, sizeof(text),
	         "fetch retry-after 0\n"
	         "crypto pki trustpoint ROOT\n ca-certificate %s\n revocation-check crl\n"
	         "crypto pki trustpoint OTHER\n ca-certificate %s\n revocation-check none\n",
	         root_pem, other_pem);
	if (cv_config_parse("test.conf", text, strlen(text), &cfg, &err) < 0)
		fprintf(stderr, "config: %s\n", err.msg);
	return cfg;
}

/* Three requests wait on one download, one of OTHER needs none: the verdicts are right, and
 * the CRL was downloaded and ingested once (crl_downloads). */
static void
test_one_download(unsigned workers)
{
	struct event_base *base = event_base_new();
	struct cv_config *cfg = config();
	struct cv_engine *engine = cv_engine_new(base, cfg, NULL);
	struct cv_fetcher *fetcher = cv_fetcher_new(base, cv_engine_clock(engine), 0);
	struct order o = {0};
	struct call c[4] = {{&o, "revoked"}, {&o, "good"}, {&o, "revoked"}, {&o, "other"}};
	struct cv_engine_stats st;

	CHECK(engine != NULL && fetcher != NULL);
	cv_engine_set_fetcher(engine, fetcher);
	if (workers > 0)
		CHECK(cv_engine_set_workers(engine, workers) > 0);
	verify(engine, "ROOT", &revoked, &c[0]);
	verify(engine, "ROOT", &good, &c[1]);
	verify(engine, "ROOT", &revoked, &c[2]);
	verify(engine, "OTHER", &other_leaf, &c[3]);
	for (int i = 0; i < 2000 && o.n < 4; i++)
		event_base_loop(base, EVLOOP_ONCE);
	CHECK_INT_EQ(o.n, 4);
	for (size_t i = 0; i < o.n; i++) {
		const bool is_revoked = strcmp(o.who[i], "revoked") == 0;

		CHECK_INT_EQ(o.decision[i], is_revoked ? CV_DECISION_REJECT : CV_DECISION_ACCEPT);
		if (is_revoked)
			CHECK_INT_EQ(o.reason[i], CV_REASON_REVOKED);
	}
	cv_engine_get_stats(engine, &st);
	CHECK_INT_EQ(st.crl_downloads, 1);
	cv_engine_free(engine);
	cv_fetcher_free(fetcher);
	cv_config_unref(cfg);
	event_base_free(base);
}

/*
 * The engine freed after the download has ended and before the loop turned again: its CRL
 * is queued for, or being, or has been ingested on the engine's thread (the verdict needs a
 * later turn of the loop), and the ingest is abandoned: nothing is called back, nothing
 * leaks (the ASan run checks it).
 */
static void
test_free_during_ingest(void)
{
	/* after the download, the engine waits that long before it is freed: the ingest is then
	 * likely queued, running, or done but not yet seen by the loop (each path frees) */
	static const long pause_us[] = {0, 200, 2000, 20000, 100000};

	for (size_t round = 0; round < CV_ARRAY_LEN(pause_us); round++) {
		const struct timespec pause = {0, pause_us[round] * 1000};
		struct event_base *base = event_base_new();
		struct cv_config *cfg = config();
		struct cv_engine *engine = cv_engine_new(base, cfg, NULL);
		struct cv_fetcher *fetcher = cv_fetcher_new(base, cv_engine_clock(engine), 0);
		struct cv_fetcher_stats fs = {0};
		struct order o = {0};
		struct call c = {&o, "revoked"};

		cv_engine_set_fetcher(engine, fetcher);
		CHECK(cv_engine_set_workers(engine, 1) > 0);
		verify(engine, "ROOT", &revoked, &c);
		for (int i = 0; i < 2000 && fs.completed == 0; i++) {
			event_base_loop(base, EVLOOP_ONCE);
			cv_fetcher_get_stats(fetcher, &fs);
		}
		CHECK_INT_EQ(fs.completed, 1);
		CHECK_INT_EQ(o.n, 0);
		nanosleep(&pause, NULL);
		cv_engine_free(engine);
		cv_fetcher_free(fetcher);
		cv_config_unref(cfg);
		event_base_free(base);
		CHECK_INT_EQ(o.n, 0);
	}
}

int
main(void)
{
	char path[300];
	int to_server = -1;
	pid_t pid;

	signal(SIGPIPE, SIG_IGN);
	now = (cv_time)time(NULL);
	if (mkdtemp(tmpdir) == NULL || (pid = test_httpd_start(tmpdir, &port, &to_server)) < 0) {
		fprintf(stderr, "cannot start httpd_fault.py\n");
		return 1;
	}
	make_pki();
	test_one_download(0); /* no threads: ingested on the loop */
	test_one_download(2); /* on the engine's ingest thread */
	test_free_during_ingest();
	tp_entity_free(&root);
	tp_entity_free(&good);
	tp_entity_free(&revoked);
	tp_entity_free(&other_root);
	tp_entity_free(&other_leaf);
	close(to_server);
	waitpid(pid, NULL, 0);
	snprintf(path, sizeof(path), "rm -rf '%s'", tmpdir);
	if (system(path) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return check_summary();
}
