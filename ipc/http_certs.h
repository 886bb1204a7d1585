/*
 * http_certs.h: the client certificate as each reverse proxy passes it to an auth subrequest
 * (GET /v1/auth): nginx, Envoy, Traefik and Caddy, one row each in http_certs.c's table.
 */
#ifndef CV_HTTP_CERTS_H
#define CV_HTTP_CERTS_H

#include "../common/error.h"
#include "../policy/config.h"
#include "../validator/cert.h"

#define CV_HTTP_CERTS_MAX 16 /* certificates in one header, as in a socket request's chain */

/* The header the format's proxy uses by default ("X-Client-Cert", "x-forwarded-client-cert", ...).
 */
const char *cv_http_certs_header(enum cv_http_cert_format f);

/*
 * Appends the certificates a header value of format f carries to chain, the client's own
 * first. Returns 0, or -1 with err set when the value is not of that format, holds no
 * certificate, more than CV_HTTP_CERTS_MAX, or one that does not parse: the caller refuses.
 */
int cv_http_certs_read(enum cv_http_cert_format f, const char *value, struct cv_cert_list *chain,
                       struct cv_error *err);

#endif
