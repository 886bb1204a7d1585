/*
 * client_check.c: drives libcertval against a running certvald for test_client.py.
 * usage: client_check SOCKET LEAF.der SUB.der EXPIRED.der
 * Phase 1 checks verify, ping, call_json and errors, prints "phase1 ok", waits for a line on
 * stdin (the test restarts the daemon meanwhile), then checks that the client reconnects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int
main(int argc, char **argv)
{
	struct cv_client_cert good[2], expired[2], junk[1];
	struct cv_client_verdict v;
	struct cv_client *cl = NULL, *gone = NULL;
	char *resp = NULL, line[16];
	unsigned char *bufs[3];

	if (argc != 5)
		return 2;
	bufs[0] = slurp(argv[2], &good[0].len);
	bufs[1] = slurp(argv[3], &good[1].len);
	bufs[2] = slurp(argv[4], &expired[0].len);
	good[0].der = bufs[0];
	good[1].der = expired[1].der = bufs[1];
	expired[1].len = good[1].len;
	expired[0].der = bufs[2];
	junk[0].der = (const unsigned char *)"not a certificate";
	junk[0].len = 17;

	EXPECT(cv_client_open(argv[1], &cl) == CV_CLIENT_OK);
	EXPECT(cv_client_ping(cl, 5000) == CV_CLIENT_OK);
	EXPECT(verify(cl, good, 2, "TP", &v) == CV_CLIENT_OK);
	EXPECT(v.decision == CV_CLIENT_ACCEPT && strcmp(v.trustpoint, "TP") == 0);
	EXPECT(v.json != NULL && strstr(v.json, "\"path\"") != NULL);
	cv_client_verdict_free(&v);
	EXPECT(verify(cl, expired, 2, NULL, &v) == CV_CLIENT_OK);
	EXPECT(v.decision == CV_CLIENT_REJECT && strcmp(v.reason, "expired") == 0);
	cv_client_verdict_free(&v);
	EXPECT(verify(cl, junk, 1, "TP", &v) == CV_CLIENT_ERR_SERVER);
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
	if (fgets(line, sizeof(line), stdin) == NULL)
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
