/*
 * pkits_files.h: finding and loading NIST PKITS files for the CRL tests. The folder is
 * $CERTVAL_PKITS_DIR, else $CERTVAL_SOURCE_DIR/../shared/pkits.
 */
#ifndef CV_TEST_PKITS_FILES_H
#define CV_TEST_PKITS_FILES_H

#include <stddef.h>

#include "../../validator/crl/crl.h"
#include "../../common/error.h"
#include "../../validator/cert.h"

/* Writes the PKITS folder's path into out. */
void pkits_dir(char *out, size_t len);

/* <dir>/certs/<name>.crt as a certificate; NULL with err set. The caller frees it. */
struct cv_cert *pkits_cert(const char *dir, const char *name, struct cv_error *err);

/* <dir>/crls/<name>.crl ingested (not verified); NULL with err set. The caller frees it. */
struct cv_crl *pkits_crl(const char *dir, const char *name, struct cv_error *err);

#endif
