/* test_cert.c: certificate loading (strict DER, multi-block PEM), text forms and fingerprints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../validator/cert.h"
#include "../support/check.h"
#include "../support/testpki.h"

int
main(void)
{
	struct tp_entity root, leaf;
	struct tp_spec s;
	struct cv_cert_list list = {0};
	struct cv_cert *c = NULL;
	struct cv_error err;
	gnutls_datum_t pem1 = {0}, pem2 = {0};
	const uint8_t *der;
	uint8_t *buf;
	size_t len, n;
	char fp[2 * 64 + 1], text[8192], path[] = "/tmp/certval-test-cert-XXXXXX";
	cv_time now = (cv_time)time(NULL);
	int fd;

	tp_spec_ca(&s, "CN=Cert Root,O=certval,C=US", now);
	s.serial = 0x00ab12;
	CHECK(tp_issue(&root, &s, NULL) == 0);
	tp_spec_leaf(&s, "CN=leaf,O=certval,C=US", now);
	s.serial = 0x0f;
	CHECK(tp_issue(&leaf, &s, &root) == 0);

	CHECK_STR_EQ(cv_cert_subject(root.cert), "CN=Cert Root,O=certval,C=US");
	CHECK_STR_EQ(cv_cert_issuer(leaf.cert), "CN=Cert Root,O=certval,C=US");
	CHECK_STR_EQ(cv_cert_serial(root.cert), "AB12");
	CHECK_STR_EQ(cv_cert_serial(leaf.cert), "F");
	CHECK(cv_cert_is_self_issued(root.cert));
	CHECK(!cv_cert_is_self_issued(leaf.cert));
	CHECK(cv_cert_not_after(leaf.cert) > now && cv_cert_not_before(leaf.cert) < now);
	CHECK(cv_cert_fingerprint(leaf.cert, GNUTLS_DIG_SHA256, fp, sizeof(fp)) == 0);
	CHECK_INT_EQ(strlen(fp), 64);
	CHECK(cv_cert_fingerprint(leaf.cert, GNUTLS_DIG_SHA256, fp, 10) < 0);

	/* strict DER: a trailing byte is refused */
	der = cv_cert_der(leaf.cert, &len);
	buf = malloc(len + 1);
	memcpy(buf, der, len);
	buf[len] = 0;
	CHECK(cv_cert_from_der(buf, len + 1, &c, &err) < 0);
	CHECK(cv_cert_from_der(buf, len - 1, &c, &err) < 0);
	CHECK(cv_cert_from_der(buf, len, &c, &err) == 0);
	CHECK(c != NULL && cv_cert_equal(c, leaf.cert));
	CHECK(cv_cert_ref(c) == c);
	cv_cert_unref(c);
	cv_cert_unref(c);
	free(buf);

	/* PEM with two CERTIFICATE blocks and a foreign block, through a file */
	CHECK(gnutls_x509_crt_export2(leaf.crt, GNUTLS_X509_FMT_PEM, &pem1) >= 0);
	CHECK(gnutls_x509_crt_export2(root.crt, GNUTLS_X509_FMT_PEM, &pem2) >= 0);
	n = (size_t)snprintf(text, sizeof(text),
	                     "junk\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
	                     "%.*s%.*s",
	                     (int)pem1.size, pem1.data, (int)pem2.size, pem2.data);
	fd = mkstemp(path);
	CHECK(fd >= 0 && write(fd, text, n) == (ssize_t)n);
	close(fd);
	CHECK(cv_cert_list_load_file(&list, path, &err) == 0);
	CHECK_INT_EQ(list.n, 2);
	CHECK(list.n == 2 && cv_cert_equal(list.v[1], root.cert));
	cv_cert_list_free(&list);
	unlink(path);
	CHECK(cv_cert_list_parse(&list, (const uint8_t *)"no pem here", 11, &err) < 0);
	CHECK(strstr(err.msg, "no CERTIFICATE") != NULL);
	text[pem1.size - 10] = '\0'; /* truncated block */
	CHECK(cv_cert_list_parse(&list, (const uint8_t *)text, strlen(text), &err) < 0);
	CHECK_INT_EQ(list.n, 0);
	cv_cert_list_free(&list);

	gnutls_free(pem1.data);
	gnutls_free(pem2.data);
	tp_entity_free(&leaf);
	tp_entity_free(&root);
	return check_summary();
}
