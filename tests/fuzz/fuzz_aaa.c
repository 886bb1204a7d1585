/*
 * fuzz_aaa.c: libFuzzer target over what an AAA server answers (policy/aaa.h): each input line
 * is one attribute value as RADIUS cisco-avpair or LDAP gives it ("pki:NAME=VALUE",
 * "cisco-avpair=pki:..."), added with cv_aaa_answer_add_text and evaluated for a fixed
 * certificate (tests/fuzz/pki/leaf.pem). A pass must follow the rules of R43-R46 (checked here
 * again from the stored pairs), a cert-serial-not naming the certificate must always deny, and
 * the verdict, which quotes the server's bytes in its trace, must still make a response line.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/util.h"
#include "../../ipc/protocol.h"
#include "../../ipc/verdict_json.h"
#include "../../policy/aaa_int.h"

#ifndef FUZZ_PKI_DIR
#error "FUZZ_PKI_DIR must name tests/fuzz/pki"
#endif

#define TRUSTPOINT  "T"
#define APPLICATION "vpn"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixed certificate, loaded once (a fuzz target has no other place to keep it). */
static struct cv_cert_list leaf;

static const struct cv_cert *
cert(void)
{
	char path[4096];
	struct cv_error err;

	if (leaf.n == 0) {
		snprintf(path, sizeof(path), "%s/leaf.pem", FUZZ_PKI_DIR);
		if (cv_cert_list_load_file(&leaf, path, &err) < 0 || leaf.n != 1) {
			fprintf(stderr, "fuzz_aaa: %s: %s\n", path, err.msg);
			abort();
		}
	}
	return leaf.v[0];
}

static const struct cv_aaa_attr_pair *
first(const struct cv_aaa_answer *a, const char *name)
{
	for (size_t i = 0; i < a->n_attrs; i++)
		if (strcmp(a->attrs[i].name, name) == 0)
			return &a->attrs[i];
	return NULL;
}

/* What a pass requires of the answer, independently of how aaa_eval.c finds it out. */
static void
check_pass(const struct cv_aaa_answer *a, cv_time at, cv_time lifetime_end)
{
	const struct cv_aaa_attr_pair *tp = first(a, "cert-trustpoint");
	bool granted = false;

	for (size_t i = 0; i < a->n_attrs; i++) {
		if (strcmp(a->attrs[i].name, "cert-application") != 0)
			continue;
		if (cv_strcasecmp(a->attrs[i].value, "none") == 0)
			abort(); /* cert-application none always denies */
		if (cv_strcasecmp(a->attrs[i].value, "all") == 0 ||
		    cv_strcasecmp(a->attrs[i].value, APPLICATION) == 0)
			granted = true;
	}
	if (!granted)
		abort(); /* no cert-application for this application */
	if (tp != NULL && strcmp(tp->value, TRUSTPOINT) != 0)
		abort();
	if (lifetime_end != CV_TIME_NONE && at >= lifetime_end)
		abort(); /* an expired cert-lifetime-end */
}

/* Evaluates the answer; returns cv_aaa_evaluate's result. */
static int
evaluate(const struct cv_aaa_answer *a, cv_time at)
{
	struct cv_verdict v;
	struct cv_failure f;
	cv_time end;
	json_t *vj, *resp;
	char *text;
	size_t len;
	int rc;

	cv_verdict_init(&v, at);
	memset(&f, 0, sizeof(f));
	rc = cv_aaa_evaluate(a, cert(), TRUSTPOINT, APPLICATION, at, 90, &end, &v, &f);
	if (rc == 0)
		check_pass(a, at, end);
	else if (f.reason != CV_REASON_AAA_DENIED)
		abort(); /* a denial names its reason */
	else
		cv_verdict_reject(&v, &f);
	vj = cv_verdict_to_json(&v);
	cv_verdict_free(&v);
	resp = vj != NULL ? cv_proto_ok(NULL, "verdict", vj) : NULL;
	text = resp != NULL ? cv_proto_encode(resp, &len) : NULL;
	if (text == NULL)
		abort(); /* the daemon could not answer and would drop the connection */
	free(text);
	json_decref(resp);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cv_aaa_answer *a = calloc(1, sizeof(*a));
	const char *p = (const char *)data, *end = p + size;
	cv_time at = cv_cert_not_before(cert()) + 86400;
	char deny[CV_SERIAL_MAX + 32];

	if (a == NULL)
		abort();
	a->status = CV_AAA_ANSWERED;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		if (cv_aaa_answer_add_text(a, p, len) > 1)
			abort();
		p += len + 1;
	}
	if (a->n_attrs > CV_AAA_ATTRS_MAX)
		abort();
	(void)evaluate(a, at);
	/* the same answer excluding the certificate's own serial must deny */
	snprintf(deny, sizeof(deny), "pki:cert-serial-not=%s", cv_cert_serial(cert()));
	if (cv_aaa_answer_add_text(a, deny, strlen(deny)) == 1 && evaluate(a, at) == 0)
		abort();
	free(a);
	return 0;
}
