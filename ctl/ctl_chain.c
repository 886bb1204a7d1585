/*
 * ctl_chain.c: certvalctl's reading of the peer's chain file into per-certificate bytes,
 * keeping the position of a certificate that does not parse (issue 11: a malformed
 * certificate is a rejection, not a usage error).
 */
#include "ctl_chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "../common/util.h"
#include "../validator/cert.h"

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END   "-----END CERTIFICATE-----"

void
ctl_chain_free(struct ctl_chain *chain)
{
	for (size_t i = 0; i < chain->n; i++)
		free(chain->v[i].der);
	free(chain->v);
	chain->v = NULL;
	chain->n = 0;
}

/* Appends a copy of len bytes at data; 0 or -1 (out of memory). */
static int
blob_append(struct ctl_chain *chain, const uint8_t *data, size_t len)
{
	struct ctl_blob *grown = reallocarray(chain->v, chain->n + 1, sizeof(*grown));
	uint8_t *copy = malloc(len > 0 ? len : 1);

	if (grown != NULL)
		chain->v = grown;
	if (grown == NULL || copy == NULL) {
		free(copy);
		return -1;
	}
	memcpy(copy, data, len);
	chain->v[chain->n].der = copy;
	chain->v[chain->n].len = len;
	chain->n++;
	return 0;
}

/* One PEM block: its DER when the base64 decodes, else the block's own bytes (which will not
 * parse as a certificate, and so are reported at this position). */
static int
pem_block_append(struct ctl_chain *chain, const char *begin, size_t len)
{
	gnutls_datum_t in = {(unsigned char *)(uintptr_t)begin, (unsigned)len}, der = {NULL, 0};
	int rc;

	if (len <= UINT32_MAX && gnutls_pem_base64_decode2("CERTIFICATE", &in, &der) >= 0)
		rc = blob_append(chain, der.data, der.size);
	else
		rc = blob_append(chain, (const uint8_t *)begin, len);
	gnutls_free(der.data);
	return rc;
}

/* Every CERTIFICATE block of text; a block without its END line runs to the end. */
static int
pem_blocks(struct ctl_chain *chain, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	const char *b;

	while (p < end &&
	       (b = memmem(p, (size_t)(end - p), PEM_BEGIN, strlen(PEM_BEGIN))) != NULL) {
		const char *e = memmem(b, (size_t)(end - b), PEM_END, strlen(PEM_END));

		e = e != NULL ? e + strlen(PEM_END) : end;
		if (pem_block_append(chain, b, (size_t)(e - b)) < 0)
			return -1;
		p = e;
	}
	return 0;
}

int
ctl_chain_read(const char *path, struct ctl_chain *out, struct cv_error *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (cv_read_file(path, CV_CERT_FILE_MAX, &data, &len, err) < 0)
		return -1;
	if (len == 0) {
		cv_error_set(err, "%s: empty file", path);
		goto done;
	}
	if (memmem(data, len, PEM_BEGIN, strlen(PEM_BEGIN)) != NULL)
		rc = pem_blocks(out, (const char *)data, len);
	else
		rc = blob_append(out, data, len);
	if (rc < 0)
		cv_error_set(err, "%s: out of memory", path);
done:
	free(data);
	if (rc < 0)
		ctl_chain_free(out);
	return rc;
}

int
ctl_chain_to_request(const struct ctl_chain *chain, const char *path, struct cv_request *req)
{
	for (size_t i = 0; i < chain->n; i++) {
		struct cv_error why = {""};
		struct cv_cert *cert = NULL;
		int rc;

		if (cv_cert_from_der(chain->v[i].der, chain->v[i].len, &cert, &why) < 0) {
			req->malformed.present = true;
			req->malformed.cert_index = (int)i;
			snprintf(req->malformed.message, sizeof(req->malformed.message),
			         "%s: does not parse as an X.509 certificate (%s)", path, why.msg);
			return 0;
		}
		rc = cv_cert_list_push(&req->chain, cert);
		cv_cert_unref(cert);
		if (rc < 0)
			return -1;
	}
	return 0;
}
