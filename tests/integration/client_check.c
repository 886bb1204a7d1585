/*
 * client_check.c: drives libcertval against a real certvald or a fake one for test_client.py.
 *
 * client_check sync SOCKET LEAF.der SUB.der EXPIRED.der
 *   The blocking API: verify, ping, call_json and errors; prints "phase1 ok", waits for a
 *   line on stdin (the test restarts the daemon meanwhile), checks that the client
 *   reconnects and prints "phase2 ok".
 * client_check async SOCKET LEAF.der SUB.der EXPIRED.der
 *   The non-blocking API: several requests in flight, cancel, errors; "phase1 ok"; a line
 *   (the test stops the daemon with SIGSTOP); submits requests that stay unanswered,
 *   "submitted"; a line (the test kills the daemon and starts a new one); the requests in
 *   flight fail with a connection error, the next submit reconnects; "phase2 ok".
 * client_check timeout SOCKET LEAF.der
 *   Against a server that never answers: timeouts of both APIs; "timeout ok".
 * client_check bad SOCKET LEAF.der
 *   Against a server that answers with garbage: prints "sync=STATUS async=STATUS" (status
 *   names, "ok:REJECT" for a verdict) and fails if anything was accepted.
 */
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certval.h"

static int failed;

#define EXPECT(cond)                                                                               \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond);         \
			failed++;                                                                  \
		}                                                                                  \
	} while (0)

static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = malloc(1 << 16);

	if (f == NULL || buf == NULL) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(2);
	}
	*len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	return buf;
}

static int
verify(struct cv_client *cl, const struct cv_client_cert *chain, size_t n, const char *tp,
       struct cv_client_verdict *v)
{
	struct cv_client_request req;
	const char *tps[1] = {tp};

	memset(&req, 0, sizeof(req));
	req.chain = chain;
	req.n_chain = n;
	req.trustpoints = tps;
	req.n_trustpoints = tp != NULL ? 1 : 0;
	req.at = CV_CLIENT_AT_NOW;
	req.purpose = "server";
	return cv_client_verify(cl, &req, 10000, v);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
wait_line(void)
{
	char line[16];

	return fgets(line, sizeof(line), stdin) != NULL;
}

/* What an async callback saw. */
struct seen {
	int calls;
	uint64_t id;
	int status;
	enum cv_client_decision decision;
	char reason[48];
	char code[32];
	char error[512];
	int64_t at_ms;
	bool has_trace; /* the verdict's JSON carries a trace */
	bool has_path;
};

static void
on_result(const struct cv_client_result *r, void *arg)
{
	struct seen *s = arg;

	s->calls++;
	s->id = r->id;
	s->status = r->status;
	s->at_ms = now_ms();
	snprintf(s->code, sizeof(s->code), "%s", r->error_code);
	snprintf(s->error, sizeof(s->error), "%s", r->error);
	if (r->verdict != NULL) {
		s->decision = r->verdict->decision;
		snprintf(s->reason, sizeof(s->reason), "%s", r->verdict->reason);
		s->has_trace = strstr(r->verdict->json, "\"trace\"") != NULL;
		s->has_path = strstr(r->verdict->json, "\"path\"") != NULL;
	}
	if ((r->status == CV_CLIENT_OK) != (r->verdict != NULL) || r->error == NULL ||
	    r->error_code == NULL) {
		fprintf(stderr, "inconsistent result\n");
		failed++;
	}
}

/* An event loop: runs until nothing is in flight or max_ms have passed. */
static void
run_loop(struct cv_client_async *ac, int max_ms)
{
	int64_t end = now_ms() + max_ms;

	while (cv_client_async_pending(ac) > 0 && now_ms() < end) {
		int fd = cv_client_async_fd(ac), ev = cv_client_async_events(ac);
		int t = cv_client_async_next_timeout_ms(ac);
		struct pollfd pfd = {fd, 0, 0};

		if (t < 0 || t > 50)
			t = 50;
		pfd.events = (short)(((ev & CV_CLIENT_WANT_READ) ? POLLIN : 0) |
		                     ((ev & CV_CLIENT_WANT_WRITE) ? POLLOUT : 0));
		poll(&pfd, fd >= 0 ? 1 : 0, t);
		cv_client_async_process(ac);
	}
}

static void
request_for(struct cv_client_request *req, const struct cv_client_cert *chain, size_t n,
            const char *const *tps, size_t n_tps)
{
	memset(req, 0, sizeof(*req));
	req->chain = chain;
	req->n_chain = n;
	req->trustpoints = tps;
	req->n_trustpoints = n_tps;
	req->at = CV_CLIENT_AT_NOW;
	req->purpose = "server";
}

static int
submit_tp(struct cv_client_async *ac, const struct cv_client_cert *chain, size_t n, const char *tp,
          int timeout_ms, struct seen *s, uint64_t *id)
{
	const char *const tps[1] = {tp};
	struct cv_client_request req;

	request_for(&req, chain, n, tps, 1);
	memset(s, 0, sizeof(*s));
	return cv_client_async_verify(ac, &req, timeout_ms, on_result, s, id);
}

static int
submit(struct cv_client_async *ac, const struct cv_client_cert *chain, size_t n, int timeout_ms,
       struct seen *s, uint64_t *id)
{
	return submit_tp(ac, chain, n, "TP", timeout_ms, s, id);
}

/* A trustpoint name longer than the protocol allows: the daemon answers bad-request. */
#define TOO_LONG_TP "T234567890123456789012345678901234567890123456789012345678901234567890"

#define N_MANY 40

static int
async_mode(const char *sock, const struct cv_client_cert *good,
           const struct cv_client_cert *expired)
{
	struct cv_client_async *ac = NULL, *gone = NULL;
	struct seen a, b, c, d, many[N_MANY], stalled[3], after;
	uint64_t ida = 0, idb = 0, idc = 0, idd = 0;
	struct cv_client_request req;
	int64_t t0;

	EXPECT(cv_client_async_new(sock, &ac) == CV_CLIENT_OK);
	EXPECT(cv_client_async_fd(ac) == -1 && cv_client_async_events(ac) == 0);
	EXPECT(cv_client_async_next_timeout_ms(ac) == -1);
	/* Four in flight at once: accept, reject, error response, cancelled. */
	EXPECT(submit(ac, good, 2, 10000, &a, &ida) == CV_CLIENT_OK);
	EXPECT(submit(ac, expired, 2, 10000, &b, &idb) == CV_CLIENT_OK);
	EXPECT(submit_tp(ac, good, 2, TOO_LONG_TP, 10000, &c, &idc) == CV_CLIENT_OK);
	EXPECT(submit(ac, good, 2, 10000, &d, &idd) == CV_CLIENT_OK);
	EXPECT(ida != idb && idb != idc && idc != idd);
	EXPECT(cv_client_async_fd(ac) >= 0);
	EXPECT(cv_client_async_events(ac) & CV_CLIENT_WANT_READ);
	EXPECT(cv_client_async_pending(ac) == 4);
	EXPECT(a.calls == 0); /* never from the submit itself */
	EXPECT(cv_client_async_cancel(ac, idd) == CV_CLIENT_OK);
	EXPECT(cv_client_async_cancel(ac, idd) == CV_CLIENT_ERR_ARGUMENT);
	run_loop(ac, 10000);
	EXPECT(cv_client_async_pending(ac) == 0);
	EXPECT(a.calls == 1 && a.id == ida && a.status == CV_CLIENT_OK &&
	       a.decision == CV_CLIENT_ACCEPT);
	EXPECT(b.calls == 1 && b.id == idb && b.status == CV_CLIENT_OK &&
	       b.decision == CV_CLIENT_REJECT && strcmp(b.reason, "expired") == 0);
	EXPECT(c.calls == 1 && c.status == CV_CLIENT_ERR_SERVER &&
	       strcmp(c.code, "bad-request") == 0);
	EXPECT(d.calls == 0);
	/* Many in flight, answered in any order, each matched to its own request. */
	for (int i = 0; i < N_MANY; i++)
		EXPECT(submit(ac, i % 2 ? expired : good, 2, 10000, &many[i], NULL) ==
		       CV_CLIENT_OK);
	run_loop(ac, 20000);
	for (int i = 0; i < N_MANY; i++)
		EXPECT(many[i].calls == 1 && many[i].status == CV_CLIENT_OK &&
		       many[i].decision == (i % 2 ? CV_CLIENT_REJECT : CV_CLIENT_ACCEPT));
	/* Bad arguments and no daemon: an error from the submit, no callback. */
	request_for(&req, good, 0, NULL, 0);
	EXPECT(cv_client_async_verify(ac, &req, 1000, on_result, &a, NULL) ==
	       CV_CLIENT_ERR_ARGUMENT);
	request_for(&req, good, 2, NULL, 0);
	EXPECT(cv_client_async_verify(ac, &req, 1000, NULL, NULL, NULL) == CV_CLIENT_ERR_ARGUMENT);
	EXPECT(cv_client_async_new("/nonexistent/certvald.sock", &gone) == CV_CLIENT_OK);
	EXPECT(submit(gone, good, 2, 1000, &a, NULL) == CV_CLIENT_ERR_CONNECT && a.calls == 0);
	EXPECT(strstr(cv_client_async_error(gone), "cannot connect") != NULL);
	cv_client_async_free(gone);
	/* The detail asked for (issue 13): everything by default, the summary on request. */
	EXPECT(many[0].has_trace && many[0].has_path);
	EXPECT(cv_client_async_set_detail(ac, CV_CLIENT_DETAIL_VERDICT) == CV_CLIENT_OK);
	EXPECT(cv_client_async_set_detail(ac, (enum cv_client_detail)7) == CV_CLIENT_ERR_ARGUMENT);
	EXPECT(submit(ac, good, 2, 10000, &d, NULL) == CV_CLIENT_OK);
	run_loop(ac, 10000);
	EXPECT(d.calls == 1 && d.status == CV_CLIENT_OK && d.decision == CV_CLIENT_ACCEPT);
	EXPECT(!d.has_trace && !d.has_path);
	EXPECT(cv_client_async_set_detail(ac, CV_CLIENT_DETAIL_TRACE) == CV_CLIENT_OK);

	printf("phase1 %s\n", failed ? "failed" : "ok");
	fflush(stdout);
	if (!wait_line()) /* the daemon is stopped (SIGSTOP) now */
		return 2;
	for (int i = 0; i < 3; i++)
		EXPECT(submit(ac, good, 2, 30000, &stalled[i], NULL) == CV_CLIENT_OK);
	run_loop(ac, 300);
	EXPECT(cv_client_async_pending(ac) == 3);
	printf("submitted\n");
	fflush(stdout);
	if (!wait_line()) /* the daemon was killed and a new one started */
		return 2;
	t0 = now_ms();
	run_loop(ac, 10000);
	EXPECT(now_ms() - t0 < 5000); /* failed at once, not at their deadline */
	for (int i = 0; i < 3; i++)
		EXPECT(stalled[i].calls == 1 && stalled[i].status == CV_CLIENT_ERR_CONNECT &&
		       stalled[i].error[0] != '\0');
	fprintf(stderr, "in flight at the restart: %s\n", stalled[0].error);
	EXPECT(submit(ac, good, 2, 10000, &after, NULL) == CV_CLIENT_OK);
	run_loop(ac, 10000);
	EXPECT(after.calls == 1 && after.status == CV_CLIENT_OK &&
	       after.decision == CV_CLIENT_ACCEPT);
	cv_client_async_free(ac);
	printf("phase2 %s\n", failed ? "failed" : "ok");
	return failed ? 1 : 0;
}

static int
timeout_mode(const char *sock, const struct cv_client_cert *leaf)
{
	struct cv_client_async *ac = NULL;
	struct cv_client *cl = NULL;
	struct cv_client_verdict v;
	struct cv_client_request req;
	struct seen a, b, c;
	uint64_t idc = 0;
	int64_t t0;
	int t;

	request_for(&req, leaf, 1, NULL, 0);
	EXPECT(cv_client_open(sock, &cl) == CV_CLIENT_OK);
	t0 = now_ms();
	EXPECT(cv_client_verify(cl, &req, 300, &v) == CV_CLIENT_ERR_TIMEOUT);
	EXPECT(now_ms() - t0 >= 290 && now_ms() - t0 < 3000);
	EXPECT(strstr(cv_client_error(cl), "in time") != NULL);
	t0 = now_ms();
	EXPECT(cv_client_ping(cl, 200) == CV_CLIENT_ERR_TIMEOUT);
	EXPECT(now_ms() - t0 >= 190 && now_ms() - t0 < 3000);
	cv_client_close(cl);

	EXPECT(cv_client_async_new(sock, &ac) == CV_CLIENT_OK);
	t0 = now_ms();
	EXPECT(submit(ac, leaf, 1, 600, &b, NULL) == CV_CLIENT_OK);
	EXPECT(submit(ac, leaf, 1, 200, &a, NULL) == CV_CLIENT_OK);
	EXPECT(submit(ac, leaf, 1, 0, &c, &idc) == CV_CLIENT_OK); /* no limit */
	t = cv_client_async_next_timeout_ms(ac);
	EXPECT(t > 0 && t <= 200);
	while (cv_client_async_pending(ac) > 1 && now_ms() - t0 < 5000)
		run_loop(ac, 50);
	EXPECT(a.calls == 1 && a.status == CV_CLIENT_ERR_TIMEOUT);
	EXPECT(b.calls == 1 && b.status == CV_CLIENT_ERR_TIMEOUT);
	EXPECT(a.at_ms - t0 >= 195 && b.at_ms - t0 >= 595 && a.at_ms < b.at_ms);
	EXPECT(b.at_ms - t0 < 3000);
	EXPECT(c.calls == 0 && cv_client_async_pending(ac) == 1);
	EXPECT(cv_client_async_next_timeout_ms(ac) == -1);
	EXPECT(cv_client_async_fd(ac) >= 0); /* a timeout keeps the connection */
	EXPECT(cv_client_async_cancel(ac, idc) == CV_CLIENT_OK);
	EXPECT(cv_client_async_pending(ac) == 0);
	cv_client_async_free(ac);
	printf("timeout %s\n", failed ? "failed" : "ok");
	return failed ? 1 : 0;
}

static void
describe(char *buf, size_t size, int status, enum cv_client_decision d)
{
	snprintf(buf, size, "%s%s", cv_client_status_name(status),
	         status != CV_CLIENT_OK  ? ""
	         : d == CV_CLIENT_ACCEPT ? ":ACCEPT"
	                                 : ":REJECT");
}

static int
bad_mode(const char *sock, const struct cv_client_cert *leaf)
{
	struct cv_client_async *ac = NULL;
	struct cv_client *cl = NULL;
	struct cv_client_verdict v;
	struct cv_client_request req;
	char sync_s[32], async_s[32];
	struct seen a;
	int rc;

	request_for(&req, leaf, 1, NULL, 0);
	cv_client_open(sock, &cl);
	rc = cv_client_verify(cl, &req, 1000, &v);
	describe(sync_s, sizeof(sync_s), rc, v.decision);
	fprintf(stderr, "sync: %s\n", cv_client_error(cl));
	cv_client_verdict_free(&v);
	cv_client_close(cl);

	EXPECT(cv_client_async_new(sock, &ac) == CV_CLIENT_OK);
	EXPECT(submit(ac, leaf, 1, 1000, &a, NULL) == CV_CLIENT_OK);
	run_loop(ac, 5000);
	EXPECT(a.calls == 1);
	describe(async_s, sizeof(async_s), a.status, a.decision);
	fprintf(stderr, "async: %s\n", a.error);
	cv_client_async_free(ac);
	printf("sync=%s async=%s\n", sync_s, async_s);
	EXPECT(strstr(sync_s, "ACCEPT") == NULL && strstr(async_s, "ACCEPT") == NULL);
	return failed ? 1 : 0;
}

static int
sync_mode(int argc, char **argv)
{
	struct cv_client_cert good[2], expired[2], junk[1];
	struct cv_client_verdict v;
	struct cv_client *cl = NULL, *gone = NULL;
	char *resp = NULL;
	unsigned char *bufs[3];

	if (argc != 6)
		return 2;
	bufs[0] = slurp(argv[3], &good[0].len);
	bufs[1] = slurp(argv[4], &good[1].len);
	bufs[2] = slurp(argv[5], &expired[0].len);
	good[0].der = bufs[0];
	good[1].der = expired[1].der = bufs[1];
	expired[1].len = good[1].len;
	expired[0].der = bufs[2];
	junk[0].der = (const unsigned char *)"not a certificate";
	junk[0].len = 17;

	if (strcmp(argv[1], "async") == 0) {
		int rc = async_mode(argv[2], good, expired);

		for (int i = 0; i < 3; i++)
			free(bufs[i]);
		return rc;
	}
	EXPECT(cv_client_open(argv[2], &cl) == CV_CLIENT_OK);
	EXPECT(cv_client_ping(cl, 5000) == CV_CLIENT_OK);
	EXPECT(verify(cl, good, 2, "TP", &v) == CV_CLIENT_OK);
	EXPECT(v.decision == CV_CLIENT_ACCEPT && strcmp(v.trustpoint, "TP") == 0);
	EXPECT(v.json != NULL && strstr(v.json, "\"path\"") != NULL);
	EXPECT(v.json != NULL && strstr(v.json, "\"trace\"") != NULL); /* the default: all */
	cv_client_verdict_free(&v);
	/* The detail asked for (issue 13): the essentials are filled at every level. */
	EXPECT(cv_client_set_detail(cl, CV_CLIENT_DETAIL_EVIDENCE) == CV_CLIENT_OK);
	EXPECT(verify(cl, good, 2, "TP", &v) == CV_CLIENT_OK && v.decision == CV_CLIENT_ACCEPT);
	EXPECT(v.json != NULL && strstr(v.json, "\"path\"") != NULL &&
	       strstr(v.json, "\"trace\"") == NULL);
	cv_client_verdict_free(&v);
	EXPECT(cv_client_set_detail(cl, CV_CLIENT_DETAIL_VERDICT) == CV_CLIENT_OK);
	EXPECT(verify(cl, expired, 2, NULL, &v) == CV_CLIENT_OK);
	EXPECT(v.decision == CV_CLIENT_REJECT && strcmp(v.reason, "expired") == 0 &&
	       strcmp(v.detail, "expired") == 0 && v.message[0] != '\0');
	EXPECT(v.json != NULL && strstr(v.json, "\"path\"") == NULL &&
	       strstr(v.json, "\"trace\"") == NULL);
	cv_client_verdict_free(&v);
	EXPECT(cv_client_set_detail(cl, (enum cv_client_detail) - 1) == CV_CLIENT_ERR_ARGUMENT);
	EXPECT(cv_client_set_detail(NULL, CV_CLIENT_DETAIL_VERDICT) == CV_CLIENT_ERR_ARGUMENT);
	EXPECT(cv_client_set_detail(cl, CV_CLIENT_DETAIL_TRACE) == CV_CLIENT_OK);
	EXPECT(verify(cl, expired, 2, NULL, &v) == CV_CLIENT_OK);
	EXPECT(v.decision == CV_CLIENT_REJECT && strcmp(v.reason, "expired") == 0);
	cv_client_verdict_free(&v);
	/* bytes that are no certificate: the peer's fault, a verdict (issue 11 class 10) */
	EXPECT(verify(cl, junk, 1, "TP", &v) == CV_CLIENT_OK);
	EXPECT(v.decision == CV_CLIENT_REJECT && strcmp(v.reason, "chain-invalid") == 0 &&
	       strcmp(v.detail, "malformed-certificate") == 0);
	cv_client_verdict_free(&v);
	EXPECT(verify(cl, good, 2, TOO_LONG_TP, &v) == CV_CLIENT_ERR_SERVER);
	EXPECT(strcmp(cv_client_error_code(cl), "bad-request") == 0);
	EXPECT(v.json == NULL);
	EXPECT(verify(cl, good, 0, "TP", &v) == CV_CLIENT_ERR_ARGUMENT);
	EXPECT(cv_client_call_json(cl, "{\"op\":\"status\"}", 5000, &resp) == CV_CLIENT_OK);
	EXPECT(resp != NULL && strstr(resp, "\"trustpoints\"") != NULL);
	free(resp);
	EXPECT(cv_client_call_json(cl, "[1]", 5000, &resp) == CV_CLIENT_ERR_ARGUMENT);
	EXPECT(cv_client_open("/nonexistent/certvald.sock", &gone) == CV_CLIENT_ERR_CONNECT);
	EXPECT(strstr(cv_client_error(gone), "cannot connect") != NULL);
	cv_client_close(gone);

	printf("phase1 %s\n", failed ? "failed" : "ok");
	fflush(stdout);
	if (!wait_line())
		return 2;
	/* The daemon was restarted: the first call reconnects by itself. */
	EXPECT(cv_client_ping(cl, 5000) == CV_CLIENT_OK);
	EXPECT(verify(cl, good, 2, "TP", &v) == CV_CLIENT_OK && v.decision == CV_CLIENT_ACCEPT);
	cv_client_verdict_free(&v);
	cv_client_close(cl);
	for (int i = 0; i < 3; i++)
		free(bufs[i]);
	printf("phase2 %s\n", failed ? "failed" : "ok");
	return failed ? 1 : 0;
}

int
main(int argc, char **argv)
{
	struct cv_client_cert leaf;
	unsigned char *buf;
	int rc;

	if (argc >= 2 && (strcmp(argv[1], "sync") == 0 || strcmp(argv[1], "async") == 0))
		return sync_mode(argc, argv);
	if (argc != 4)
		return 2;
	buf = slurp(argv[3], &leaf.len);
	leaf.der = buf;
	if (strcmp(argv[1], "timeout") == 0)
		rc = timeout_mode(argv[2], &leaf);
	else if (strcmp(argv[1], "bad") == 0)
		rc = bad_mode(argv[2], &leaf);
	else
		rc = 2;
	free(buf);
	return rc;
}
