/* ctl_ocsp_check.c: `certvalctl ocsp-check`, offline validation of a stored (stapled) response,
 * on certval certificates (validator/cert.h) through validator/ocsp's cv_ocsp_*_cert API. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "../common/clock.h"
#include "../common/util.h"
#include "../validator/cert.h"
#include "../validator/ocsp/ocsp.h"

#include "ctl.h"

#define FILE_MAX (4u << 20)

struct opts {
	const char *response, *cert, *issuer, *at, *max_age, *nonce_hex;
};

static void
usage(void)
{
	fprintf(stderr, "usage: certvalctl ocsp-check --response FILE --cert FILE --issuer FILE\n"
	                "                             [--at TIME] [--max-age SECONDS] "
	                "[--nonce-hex HEX]\n");
}

/* "--name VALUE" or "--name=VALUE"; argv[0] is the subcommand and is skipped. */
static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct {
		const char *name;
		size_t off;
	} table[] = {
	    {"response", offsetof(struct opts, response)},
	    {"cert", offsetof(struct opts, cert)},
	    {"issuer", offsetof(struct opts, issuer)},
	    {"at", offsetof(struct opts, at)},
	    {"max-age", offsetof(struct opts, max_age)},
	    {"nonce-hex", offsetof(struct opts, nonce_hex)},
	};
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *value = NULL, *eq;
		size_t k, name_len;

		if (strncmp(arg, "--", 2) != 0) {
			fprintf(stderr, "certvalctl ocsp-check: unexpected argument '%s'\n", arg);
			return -1;
		}
		arg += 2;
		eq = strchr(arg, '=');
		name_len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
		for (k = 0; k < CV_ARRAY_LEN(table); k++)
			if (strlen(table[k].name) == name_len &&
			    strncmp(table[k].name, arg, name_len) == 0)
				break;
		if (k == CV_ARRAY_LEN(table)) {
			fprintf(stderr, "certvalctl ocsp-check: unknown option '%s'\n", argv[i]);
			return -1;
		}
		if (eq != NULL)
			value = eq + 1;
		else if (i + 1 < argc)
			value = argv[++i];
		if (value == NULL || *value == '\0') {
			fprintf(stderr, "certvalctl ocsp-check: option --%s needs a value\n",
			        table[k].name);
			return -1;
		}
		*(const char **)(void *)((char *)o + table[k].off) = value;
	}
	if (o->response == NULL || o->cert == NULL || o->issuer == NULL) {
		fprintf(stderr, "certvalctl ocsp-check: --response, --cert and --issuer are "
		                "required\n");
		return -1;
	}
	return 0;
}

static bool
is_pem(const uint8_t *data, size_t len)
{
	return len >= 10 && memmem(data, len, "-----BEGIN", 10) != NULL;
}

/* Loads the first certificate of a PEM or DER file (one reference in *out); returns 0 or -1
 * (message printed). */
static int
load_cert(const char *path, struct cv_cert **out)
{
	struct cv_cert_list list = {0};
	struct cv_error err = {{0}};

	*out = NULL;
	if (cv_cert_list_load_file(&list, path, &err) < 0) {
		fprintf(stderr, "certvalctl ocsp-check: %s\n", err.msg);
		return -1;
	}
	*out = cv_cert_ref(list.v[0]);
	cv_cert_list_free(&list);
	return 0;
}

/* Loads a DER response, or a PEM "OCSP RESPONSE" block; *der is malloc'd. Returns 0, -1 when
 * the file cannot be read, -2 when it is PEM without a response (printed as INVALID). */
static int
load_response(const char *path, uint8_t **der, size_t *len)
{
	struct cv_error err;
	gnutls_datum_t in, out = {NULL, 0};
	uint8_t *data = NULL;
	size_t n = 0;
	int ret;

	*der = NULL;
	*len = 0;
	if (cv_read_file(path, FILE_MAX, &data, &n, &err) < 0) {
		fprintf(stderr, "certvalctl ocsp-check: %s\n", err.msg);
		return -1;
	}
	if (!is_pem(data, n)) {
		*der = data;
		*len = n;
		return 0;
	}
	in.data = data;
	in.size = (unsigned)n;
	ret = gnutls_pem_base64_decode2("OCSP RESPONSE", &in, &out);
	free(data);
	if (ret < 0) {
		printf("INVALID: %s holds no \"OCSP RESPONSE\" PEM block (%s)\n", path,
		       gnutls_strerror(ret));
		return -2;
	}
	*der = malloc(out.size > 0 ? out.size : 1);
	if (*der != NULL) {
		memcpy(*der, out.data, out.size);
		*len = out.size;
	}
	gnutls_free(out.data);
	return *der != NULL ? 0 : -1;
}

static int
parse_nonce(const char *hex, uint8_t *out, size_t *len)
{
	size_t n = strlen(hex), i;

	if (n % 2 != 0 || n / 2 < CV_OCSP_NONCE_MIN || n / 2 > CV_OCSP_NONCE_MAX)
		return -1;
	for (i = 0; i < n / 2; i++) {
		unsigned v;
		char byte[3] = {hex[2 * i], hex[2 * i + 1], '\0'};
		char *end;

		v = (unsigned)strtoul(byte, &end, 16);
		if (*end != '\0' || byte[0] == '+' || byte[0] == '-' || byte[0] == ' ')
			return -1;
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return 0;
}

static int
parse_seconds(const char *text, int64_t *out)
{
	char *end;
	long long v;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	v = strtoll(text, &end, 10);
	if (*end != '\0' || v <= 0 || v > 100LL * 365 * 86400)
		return -1;
	*out = v;
	return 0;
}

static void
print_result(const struct cv_ocsp_result *r)
{
	char t1[CV_TIME_TEXT_MAX], t2[CV_TIME_TEXT_MAX], t3[CV_TIME_TEXT_MAX];

	switch (r->status) {
	case CV_OCSP_STATUS_GOOD:
		printf("GOOD\n");
		break;
	case CV_OCSP_STATUS_REVOKED:
		printf("REVOKED: revoked at %s, reason %s\n", cv_time_format_iso(r->revoked_at, t1),
		       cv_ocsp_reason_name(r->revocation_reason));
		break;
	case CV_OCSP_STATUS_UNKNOWN:
		printf("UNKNOWN: the responder does not know the certificate\n");
		break;
	case CV_OCSP_STATUS_ERROR:
		printf("INVALID: %s\n", r->error);
		break;
	}
	if (r->signer_kind != CV_OCSP_SIGNER_NONE)
		printf("  signer: %s (%s)\n", r->signer, cv_ocsp_signer_kind_name(r->signer_kind));
	if (r->produced_at != CV_TIME_NONE)
		printf("  producedAt: %s\n", cv_time_format_iso(r->produced_at, t1));
	if (r->this_update != CV_TIME_NONE)
		printf("  thisUpdate: %s  nextUpdate: %s  usable until: %s\n",
		       cv_time_format_iso(r->this_update, t1),
		       r->next_update != CV_TIME_NONE ? cv_time_format_iso(r->next_update, t2)
		                                      : "(none)",
		       cv_time_format_iso(r->valid_until, t3));
	if (r->nonce != CV_OCSP_NONCE_OUT_NONE)
		printf("  nonce: %s\n", r->nonce == CV_OCSP_NONCE_OUT_DISABLED
		                            ? "not checked (no --nonce-hex)"
		                            : cv_ocsp_nonce_outcome_name(r->nonce));
	if (r->status != CV_OCSP_STATUS_ERROR && r->responder_needs_check)
		printf("  note: the responder certificate has no id-pkix-ocsp-nocheck; its own "
		       "revocation status was not checked here\n");
}

int
cv_ctl_ocsp_check(int argc, char **argv)
{
	struct opts o;
	struct cv_ocsp_params params;
	struct cv_ocsp_result result;
	struct cv_clock clock = {0};
	struct cv_cert *cert = NULL, *issuer = NULL;
	uint8_t *der = NULL, nonce[CV_OCSP_NONCE_MAX];
	size_t der_len = 0, nonce_len = 0;
	cv_time at;
	int64_t max_age = 0;
	int rc = CV_CTL_USAGE, ret;

	memset(&result, 0, sizeof(result));
	if (parse_opts(argc, argv, &o) < 0)
		goto usage;
	at = cv_clock_now(&clock);
	if (o.at != NULL && cv_time_parse(o.at, &at) < 0) {
		fprintf(stderr, "certvalctl ocsp-check: bad --at time '%s'\n", o.at);
		goto usage;
	}
	if (o.max_age != NULL && parse_seconds(o.max_age, &max_age) < 0) {
		fprintf(stderr, "certvalctl ocsp-check: bad --max-age '%s' (seconds > 0)\n",
		        o.max_age);
		goto usage;
	}
	if (o.nonce_hex != NULL && parse_nonce(o.nonce_hex, nonce, &nonce_len) < 0) {
		fprintf(stderr, "certvalctl ocsp-check: bad --nonce-hex (1 to 32 bytes in hex)\n");
		goto usage;
	}
	if (load_cert(o.cert, &cert) < 0 || load_cert(o.issuer, &issuer) < 0)
		goto fail;
	ret = load_response(o.response, &der, &der_len);
	if (ret < 0) {
		rc = ret == -2 ? CV_CTL_REJECT : CV_CTL_USAGE;
		goto fail;
	}

	cv_ocsp_params_init(&params, at);
	if (max_age > 0) {
		params.max_age = max_age;
		params.no_next_update_ttl = max_age;
	}
	if (nonce_len > 0) {
		params.nonce_mode = CV_OCSP_NONCE_REQUIRE;
		params.nonce = nonce;
		params.nonce_len = nonce_len;
	} else {
		params.nonce_mode = CV_OCSP_NONCE_DISABLED;
	}
	cv_ocsp_response_check_cert(der, der_len, cert, issuer, &params, NULL, NULL, &result);
	print_result(&result);
	if (result.status == CV_OCSP_STATUS_GOOD)
		rc = CV_CTL_ACCEPT;
	else if (result.status == CV_OCSP_STATUS_ERROR && result.err == CV_OCSP_ERR_INTERNAL)
		rc = CV_CTL_ERROR;
	else
		rc = CV_CTL_REJECT;
	goto fail;
usage:
	usage();
fail:
	cv_ocsp_result_clear(&result);
	free(der);
	cv_cert_unref(cert);
	cv_cert_unref(issuer);
	return rc;
}
