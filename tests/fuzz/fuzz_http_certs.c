/*
 * fuzz_http_certs.c: libFuzzer target over the proxies' client-certificate headers
 * (ipc/http_certs.h). The first byte picks the format (nginx, envoy, traefik, caddy), the rest
 * is the header value. A value is either read into 1 to CV_HTTP_CERTS_MAX certificates or
 * refused with a message: never an empty chain that could be taken for an answer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../ipc/http_certs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cv_cert_list chain = {0};
	struct cv_error err = {""};
	enum cv_http_cert_format f;
	char *value;
	int rc;

	if (size == 0)
		return 0;
	f = (enum cv_http_cert_format)(data[0] % CV_HTTP_CERT_FORMATS);
	value = malloc(size);
	if (value == NULL)
		return 0;
	memcpy(value, data + 1, size - 1);
	value[size - 1] = '\0'; /* a header value as evhttp gives it */
	rc = cv_http_certs_read(f, value, &chain, &err);
	if (rc == 0 && (chain.n == 0 || chain.n > CV_HTTP_CERTS_MAX))
		abort();
	if (rc != 0 && err.msg[0] == '\0')
		abort();
	cv_cert_list_free(&chain);
	free(value);
	return 0;
}
