/* pkits_files.c: finding and loading NIST PKITS certificates and CRLs for the CRL tests. */
#include "pkits_files.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../common/util.h"

void
pkits_dir(char *out, size_t len)
{
	const char *env = getenv("CERTVAL_PKITS_DIR"), *src = getenv("CERTVAL_SOURCE_DIR");

	if (env != NULL)
		snprintf(out, len, "%s", env);
	else
		snprintf(out, len, "%s/../shared/pkits", src != NULL ? src : ".");
}

/* Reads <dir>/<sub>/<name><ext>; the caller frees *der. */
static int
read_pkits_file(const char *dir, const char *sub, const char *name, const char *ext, uint8_t **der,
                size_t *len, struct cv_error *err)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s/%s%s", dir, sub, name, ext);
	return cv_read_file(path, 1 << 20, der, len, err);
}

struct cv_cert *
pkits_cert(const char *dir, const char *name, struct cv_error *err)
{
	struct cv_cert *c = NULL;
	uint8_t *der;
	size_t len;

	if (read_pkits_file(dir, "certs", name, ".crt", &der, &len, err) < 0)
		return NULL;
	if (cv_cert_from_der(der, len, &c, err) < 0)
		c = NULL;
	free(der);
	return c;
}

struct cv_crl *
pkits_crl(const char *dir, const char *name, struct cv_error *err)
{
	struct cv_crl *c = NULL;
	uint8_t *der;
	size_t len;

	if (read_pkits_file(dir, "crls", name, ".crl", &der, &len, err) < 0)
		return NULL;
	if (cv_crl_ingest(der, len, NULL, &c, err) < 0)
		c = NULL;
	free(der);
	return c;
}
