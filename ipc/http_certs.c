/*
 * http_certs.c: reading the client certificate from the header a reverse proxy adds to its
 * auth subrequest. One row per proxy format (as curl's Curl_handler table makes a protocol one
 * row): its usual header and its reader. Every reader is strict and bounded: a value that is
 * not of its format is an error, never an empty chain that something else might accept.
 */
#include "http_certs.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/util.h"

#define VALUE_MAX (256u << 10) /* a header value longer than this is refused */

typedef int (*reader_fn)(const char *value, size_t len, struct cv_cert_list *chain,
                         struct cv_error *err);

static int read_nginx(const char *value, size_t len, struct cv_cert_list *chain,
                      struct cv_error *err);
static int read_envoy(const char *value, size_t len, struct cv_cert_list *chain,
                      struct cv_error *err);
static int read_traefik(const char *value, size_t len, struct cv_cert_list *chain,
                        struct cv_error *err);
static int read_caddy(const char *value, size_t len, struct cv_cert_list *chain,
                      struct cv_error *err);

static const struct {
	const char *header;
	reader_fn read;
} formats[] = {
    /* proxy_set_header X-Client-Cert $ssl_client_escaped_cert; URL-encoded PEM, leaf only */
    [CV_HTTP_CERT_NGINX] = {"X-Client-Cert", read_nginx},
    /* forward_client_cert_details: Cert="<URL-encoded PEM>";Chain="<URL-encoded PEM>" */
    [CV_HTTP_CERT_ENVOY] = {"X-Forwarded-Client-Cert", read_envoy},
    /* passTLSClientCert pem: base64 DER without PEM lines, comma-separated, URL-escaped */
    [CV_HTTP_CERT_TRAEFIK] = {"X-Forwarded-Tls-Client-Cert", read_traefik},
    /* header_up X-Client-Cert {http.request.tls.client.certificate_der_base64} */
    [CV_HTTP_CERT_CADDY] = {"X-Client-Cert", read_caddy},
};

_Static_assert(CV_ARRAY_LEN(formats) == CV_HTTP_CERT_FORMATS, "a format without its row");

const char *
cv_http_certs_header(enum cv_http_cert_format f)
{
	return (size_t)f < CV_HTTP_CERT_FORMATS ? formats[f].header : "X-Client-Cert";
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * RFC 3986 2.1 percent-decoding of len bytes into a new NUL-terminated buffer ('+' stays '+':
 * it is base64, never a space, in these headers). NULL on a broken escape or a NUL byte.
 */
static char *
url_decode(const char *s, size_t len, size_t *out_len)
{
	char *out = malloc(len + 1);
	size_t o = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (i + 2 >= len)
			goto bad;
		hi = hexval(s[i + 1]);
		lo = hexval(s[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			goto bad;
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[o] = '\0';
	*out_len = o;
	return out;
bad:
	free(out);
	return NULL;
}

/* PEM text holding one or more CERTIFICATE blocks, appended in order. */
static int
push_pem(const char *pem, size_t len, struct cv_cert_list *chain, struct cv_error *err)
{
	struct cv_cert_list got = {0};
	struct cv_error why = {""};
	int rc = -1;

	if (len < 11 || strncmp(pem, "-----BEGIN ", 11) != 0) {
		cv_error_set(err, "expected PEM text (-----BEGIN CERTIFICATE-----)");
		return -1;
	}
	if (cv_cert_list_parse(&got, (const uint8_t *)pem, len, &why) != 0) {
		cv_error_set(err, "the PEM does not hold certificates that parse: %s", why.msg);
		goto done;
	}
	for (size_t i = 0; i < got.n; i++) {
		if (chain->n == CV_HTTP_CERTS_MAX) {
			cv_error_set(err, "more than %d certificates", CV_HTTP_CERTS_MAX);
			goto done;
		}
		if (cv_cert_list_push(chain, got.v[i]) != 0) {
			cv_error_set(err, "out of memory");
			goto done;
		}
	}
	rc = 0;
done:
	cv_cert_list_free(&got);
	return rc;
}

/* One base64 DER certificate (surrounding spaces allowed), appended. */
static int
push_b64der(const char *s, size_t len, struct cv_cert_list *chain, struct cv_error *err)
{
	struct cv_error why = {""};
	struct cv_cert *cert = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0;
	int rc;

	while (len > 0 && isspace((unsigned char)s[0]))
		s++, len--;
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (chain->n == CV_HTTP_CERTS_MAX) {
		cv_error_set(err, "more than %d certificates", CV_HTTP_CERTS_MAX);
		return -1;
	}
	if (len == 0 || cv_base64_decode(s, len, &der, &der_len) != 0) {
		cv_error_set(err, "certificate %zu is not base64", chain->n);
		return -1;
	}
	rc = cv_cert_from_der(der, der_len, &cert, &why);
	free(der);
	if (rc != 0) {
		cv_error_set(err, "certificate %zu does not parse: %s", chain->n, why.msg);
		return -1;
	}
	rc = cv_cert_list_push(chain, cert);
	cv_cert_unref(cert);
	if (rc != 0)
		cv_error_set(err, "out of memory");
	return rc;
}

/* Percent-decoded PEM. */
static int
push_url_pem(const char *s, size_t len, struct cv_cert_list *chain, struct cv_error *err)
{
	size_t pem_len = 0;
	char *pem = url_decode(s, len, &pem_len);
	int rc;

	if (pem == NULL) {
		cv_error_set(err, "broken percent-encoding");
		return -1;
	}
	rc = push_pem(pem, pem_len, chain, err);
	free(pem);
	return rc;
}

static int
read_nginx(const char *value, size_t len, struct cv_cert_list *chain, struct cv_error *err)
{
	return push_url_pem(value, len, chain, err);
}

/*
 * The value of one key of an XFCC element (Envoy's x-forwarded-client-cert): KEY=VALUE pairs
 * separated by ';', a VALUE quoted when it holds ',', ';' or '=' (with \" inside). *found is
 * set when the key is present; the value is returned as [*vs, *vs + *vlen), quotes removed
 * (escaped quotes cannot occur in URL-encoded PEM and are refused). Returns 0 or -1.
 */
static int
xfcc_get(const char *el, size_t len, const char *key, const char **vs, size_t *vlen, bool *found)
{
	size_t i = 0, klen = strlen(key);

	*found = false;
	while (i < len) {
		size_t ks = i, ve;
		const char *v;
		bool match;

		while (i < len && el[i] != '=' && el[i] != ';')
			i++;
		if (i == len || el[i] != '=')
			return -1;
		match = i - ks == klen && strncasecmp(el + ks, key, klen) == 0;
		i++;
		if (i < len && el[i] == '"') {
			v = el + ++i;
			while (i < len && el[i] != '"') {
				if (el[i] == '\\')
					return -1;
				i++;
			}
			if (i == len)
				return -1;
			ve = i++;
		} else {
			v = el + i;
			while (i < len && el[i] != ';')
				i++;
			ve = i;
		}
		if (match) {
			*vs = v;
			*vlen = (size_t)(el + ve - v);
			*found = true;
		}
		if (i < len && el[i] != ';')
			return -1;
		if (i < len)
			i++;
	}
	return 0;
}

/*
 * x-forwarded-client-cert: elements separated by ',' outside quotes, one per proxy; the last
 * is the one the nearest Envoy added about its own client (with forward_client_cert_details
 * APPEND_FORWARD, earlier elements are whatever the client sent). Chain= (the whole chain,
 * leaf first) is read when present, else Cert= (the leaf).
 */
static int
read_envoy(const char *value, size_t len, struct cv_cert_list *chain, struct cv_error *err)
{
	const char *el = value, *vs = NULL;
	size_t vlen = 0;
	bool quoted = false, found = false;

	for (size_t i = 0; i < len; i++) {
		if (value[i] == '"')
			quoted = !quoted;
		else if (value[i] == ',' && !quoted)
			el = value + i + 1;
	}
	while (el < value + len && *el == ' ')
		el++;
	if (xfcc_get(el, (size_t)(value + len - el), "Chain", &vs, &vlen, &found) != 0) {
		cv_error_set(err, "not an x-forwarded-client-cert element (KEY=VALUE;...)");
		return -1;
	}
	if (!found)
		(void)xfcc_get(el, (size_t)(value + len - el), "Cert", &vs, &vlen, &found);
	if (!found || vlen == 0) {
		cv_error_set(err, "the x-forwarded-client-cert element has no Cert= or Chain=");
		return -1;
	}
	return push_url_pem(vs, vlen, chain, err);
}

/* Comma-separated base64 DER after percent-decoding (Traefik escapes the value). */
static int
read_traefik(const char *value, size_t len, struct cv_cert_list *chain, struct cv_error *err)
{
	size_t dlen = 0;
	char *d = url_decode(value, len, &dlen);
	const char *p;
	int rc = 0;

	if (d == NULL) {
		cv_error_set(err, "broken percent-encoding");
		return -1;
	}
	p = d;
	while (rc == 0) {
		const char *comma = memchr(p, ',', (size_t)(d + dlen - p));
		const char *end = comma != NULL ? comma : d + dlen;

		rc = push_b64der(p, (size_t)(end - p), chain, err);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	free(d);
	return rc;
}

/* Caddy's placeholders: certificate_der_base64 (base64 DER) or an escaped PEM. */
static int
read_caddy(const char *value, size_t len, struct cv_cert_list *chain, struct cv_error *err)
{
	if (len > 0 && (value[0] == '-' || value[0] == '%'))
		return push_url_pem(value, len, chain, err);
	return push_b64der(value, len, chain, err);
}

int
cv_http_certs_read(enum cv_http_cert_format f, const char *value, struct cv_cert_list *chain,
                   struct cv_error *err)
{
	size_t len;

	if ((size_t)f >= CV_HTTP_CERT_FORMATS) {
		cv_error_set(err, "unknown client-certificate format");
		return -1;
	}
	if (value == NULL || value[0] == '\0') {
		cv_error_set(err, "no client certificate (header %s absent or empty)",
		             formats[f].header);
		return -1;
	}
	len = strlen(value);
	if (len > VALUE_MAX) {
		cv_error_set(err, "client-certificate header longer than %u bytes", VALUE_MAX);
		return -1;
	}
	if (formats[f].read(value, len, chain, err) != 0)
		return -1;
	if (chain->n == 0) {
		cv_error_set(err, "no certificate in the %s header", cv_http_cert_format_name(f));
		return -1;
	}
	return 0;
}
