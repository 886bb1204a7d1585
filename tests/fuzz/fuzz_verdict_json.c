/*
 * fuzz_verdict_json.c: libFuzzer target over certificate parsing (cv_cert_from_der) and what a
 * verdict then shows of the certificate: every accessor, the path entry, a rejection naming
 * the certificate, OCSP evidence naming it as signer, and the verdict's JSON and response
 * line. A certificate the peer chose must never make the daemon unable to answer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/util.h"
#include "../../ipc/protocol.h"
#include "../../ipc/verdict_json.h"
#include "../../validator/cert.h"
#include "../../validator/path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
accessors(const struct cv_cert *cert, const uint8_t *data, size_t size)
{
	static const gnutls_digest_algorithm_t algs[] = {GNUTLS_DIG_MD5, GNUTLS_DIG_SHA1,
	                                                 GNUTLS_DIG_SHA256};
	const uint8_t *der, *name;
	size_t len, nlen;
	char fp[2 * 64 + 1];

	der = cv_cert_der(cert, &len);
	if (len != size || memcmp(der, data, size) != 0)
		abort(); /* strict DER: the certificate is the input, no more, no less */
	if (cv_cert_version(cert) < 1 || cv_cert_subject(cert) == NULL ||
	    cv_cert_issuer(cert) == NULL || cv_cert_serial(cert)[0] == '\0')
		abort();
	name = cv_cert_subject_der(cert, &nlen);
	if (name == NULL || nlen == 0)
		abort();
	name = cv_cert_issuer_der(cert, &nlen);
	if (name == NULL || nlen == 0)
		abort();
	(void)cv_cert_is_self_issued(cert);
	if (!cv_cert_equal(cert, cert) || cv_cert_sha256(cert) == NULL)
		abort();
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (cv_cert_fingerprint(cert, algs[i], fp, sizeof(fp)) != 0)
			abort();
}

/* The reply in two parts (the verdict cache's tail, each hit's id) is the reply in one, for
 * every detail level and an id of each kind. */
static void
split_reply(const struct cv_verdict *v)
{
	json_t *ids[] = {json_integer(7), json_string("a \"quoted\" id\n"), NULL};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		for (int d = CV_VERDICT_DETAIL_VERDICT; d <= CV_VERDICT_DETAIL_TRACE; d++) {
			json_t *resp = cv_proto_verdict(ids[i], v, (enum cv_verdict_detail)d);
			size_t len = 0, tail_len = 0, joined_len = 0;
			char *whole = resp != NULL ? cv_proto_encode(resp, &len) : NULL;
			char *tail = cv_proto_verdict_tail(v, (enum cv_verdict_detail)d, &tail_len);
			char *joined = tail != NULL
			                   ? cv_proto_with_id(ids[i], tail, tail_len, &joined_len)
			                   : NULL;

			if (whole == NULL || joined == NULL || len != joined_len ||
			    memcmp(whole, joined, len) != 0)
				abort();
			free(whole);
			free(tail);
			free(joined);
			json_decref(resp);
		}
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		json_decref(ids[i]);
}

/* A verdict naming the certificate everywhere it can, as JSON and as a response line. */
static void
verdict(struct cv_cert *cert)
{
	struct cv_path path = {.n = 1};
	struct cv_verdict v;
	struct cv_failure f;
	struct cv_evidence *ev;
	json_t *vj, *id, *resp;
	char *text;
	size_t len;

	path.certs[0] = cert;
	cv_verdict_init(&v, cv_cert_not_before(cert));
	if (cv_path_to_verdict(&path, &v) != 0)
		abort();
	cv_failure_set(&f, CV_REASON_REVOKED, "ocsp-revoked", 0, cv_cert_subject(cert),
	               "certificate %s (serial %s) issued by %s is revoked", cv_cert_subject(cert),
	               cv_cert_serial(cert), cv_cert_issuer(cert));
	ev = cv_verdict_add_evidence(&v, 0, "ocsp");
	if (ev == NULL)
		abort();
	cv_strlcpy(ev->outcome, "revoked", sizeof(ev->outcome));
	cv_strlcpy(ev->signer, cv_cert_issuer(cert), sizeof(ev->signer));
	cv_verdict_reject(&v, &f);
	split_reply(&v);
	vj = cv_verdict_to_json(&v);
	cv_verdict_free(&v);
	if (vj == NULL)
		abort(); /* the daemon would drop the connection instead of answering */
	id = json_integer(1);
	resp = cv_proto_ok(id, "verdict", vj);
	text = resp != NULL ? cv_proto_encode(resp, &len) : NULL;
	if (text == NULL)
		abort();
	free(text);
	json_decref(resp);
	json_decref(id);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cv_cert *cert = NULL;
	struct cv_error err;

	err.msg[0] = '\0';
	if (cv_cert_from_der(data, size, &cert, &err) != 0) {
		if (cert != NULL || err.msg[0] == '\0')
			abort();
		return 0;
	}
	accessors(cert, data, size);
	verdict(cert);
	cv_cert_unref(cert);
	return 0;
}
