/*
 * fuzz_diff.c: differential libFuzzer target of the offline verdict against OpenSSL's
 * X509_verify_cert (a test-only dependency). The input is a TBSCertificate; the target signs
 * it with the fixed sub CA's key (tests/fuzz/pki/diff, ECDSA P-256, reproducible signatures),
 * so that every mutation reaches path validation with a good signature, and validates the
 * certificate below the fixed root with both. certval must never accept what OpenSSL rejects
 * for a reason of RFC 5280 path validation: such a difference aborts, unless the list below
 * explains it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <openssl/asn1err.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "../../common/util.h"
#include "../../validator/cert.h"
#include "../../validator/path.h"

#ifndef FUZZ_PKI_DIR
#error "FUZZ_PKI_DIR must name tests/fuzz/pki"
#endif

#define TBS_MAX  16384
#define AT       1811808000 /* 2027-06-01T00:00:00Z: inside the fixed PKI's validity */
#define SIG_MAX  80         /* an ECDSA P-256 signature: SEQUENCE of two INTEGERs */
#define CERT_MAX (TBS_MAX + 128)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The differences explained: OpenSSL errors after which certval may still accept, and why.
 * Each is a place where OpenSSL checks what RFC 5280 path validation does not ask for.
 */
#define DIFF_UNPARSEABLE   (-1) /* OpenSSL cannot parse the certificate */
#define DIFF_KEY_UNDECODED (-2) /* ... because it cannot decode its public key */
#define DIFF_BAD_UTF8      (-3) /* OpenSSL refuses a UTF8String that is not UTF-8 (certval too) */
#define DIFF_AKID_MISMATCH (-4) /* OpenSSL finds no issuer: AKI keyIdentifier is not its SKI */

static const struct {
	int error;
	const char *why;
} explained[] = {
    {DIFF_KEY_UNDECODED,
     "OpenSSL decodes the subject's public key when it parses a certificate, and refuses an "
     "EC point off its curve; RFC 5280 path validation never uses the end entity's key (6.1.6: "
     "it is an output), certval applies its key policy (algorithm, curve, size) and leaves the "
     "key's use to whoever checks the peer's signature with it, where such a key fails"},
    {DIFF_AKID_MISMATCH,
     "OpenSSL refuses an issuer whose subjectKeyIdentifier differs from the certificate's "
     "authorityKeyIdentifier; RFC 5280 uses the key identifiers to find candidate issuers "
     "(4.2.1.1, 4.2.1.2) and path validation (6.1) does not compare them: the issuer's "
     "signature, which certval verifies, is what binds the certificate to the issuer's key"},
};

/* The fixed PKI, loaded once (a fuzz target has no other place to keep it). */
static struct {
	bool loaded;
	gnutls_privkey_t key;
	struct cv_cert_list root, sub;
	X509_STORE *store;
	STACK_OF(X509) * untrusted;
} pki;

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_diff: %s\n", what);
	abort();
}

static X509 *
openssl_cert(const char *name)
{
	char path[4096];
	FILE *f;
	X509 *x;

	snprintf(path, sizeof(path), "%s/diff/%s", FUZZ_PKI_DIR, name);
	f = fopen(path, "r");
	x = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f != NULL)
		fclose(f);
	if (x == NULL)
		fail(path);
	return x;
}

static void
load(void)
{
	char path[4096];
	struct cv_error err;
	uint8_t *pem = NULL;
	size_t len;
	gnutls_datum_t d;
	X509 *root, *sub;

	snprintf(path, sizeof(path), "%s/diff/root.pem", FUZZ_PKI_DIR);
	if (cv_cert_list_load_file(&pki.root, path, &err) < 0)
		fail(err.msg);
	snprintf(path, sizeof(path), "%s/diff/sub.pem", FUZZ_PKI_DIR);
	if (cv_cert_list_load_file(&pki.sub, path, &err) < 0)
		fail(err.msg);
	snprintf(path, sizeof(path), "%s/diff/sub.key", FUZZ_PKI_DIR);
	if (cv_read_file(path, 65536, &pem, &len, &err) < 0)
		fail(err.msg);
	d.data = pem;
	d.size = (unsigned)len;
	if (gnutls_privkey_init(&pki.key) < 0 ||
	    gnutls_privkey_import_x509_raw(pki.key, &d, GNUTLS_X509_FMT_PEM, NULL, 0) < 0)
		fail("sub.key");
	free(pem);
	root = openssl_cert("root.pem");
	sub = openssl_cert("sub.pem");
	pki.store = X509_STORE_new();
	pki.untrusted = sk_X509_new_null();
	if (pki.store == NULL || pki.untrusted == NULL ||
	    X509_STORE_add_cert(pki.store, root) != 1 || sk_X509_push(pki.untrusted, sub) <= 0)
		fail("OpenSSL store");
	X509_free(root);
	pki.loaded = true;
}

/* DER header of a TAG element of len octets; returns its length. */
static size_t
header(uint8_t tag, size_t len, uint8_t *out)
{
	out[0] = tag;
	if (len < 0x80) {
		out[1] = (uint8_t)len;
		return 2;
	}
	if (len < 0x100) {
		out[1] = 0x81;
		out[2] = (uint8_t)len;
		return 3;
	}
	out[1] = 0x82;
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	return 4;
}

/* Certificate ::= SEQUENCE { tbs, ecdsa-with-SHA256, BIT STRING signature }; its length. */
static size_t
sign(const uint8_t *tbs, size_t tbs_len, uint8_t *out)
{
	static const uint8_t alg[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
	                              0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
	const gnutls_datum_t d = {(unsigned char *)(uintptr_t)tbs, (unsigned)tbs_len};
	gnutls_datum_t sig = {NULL, 0};
	uint8_t bits[8];
	size_t n, bits_len, body;

	if (gnutls_privkey_sign_data(pki.key, GNUTLS_DIG_SHA256, GNUTLS_PRIVKEY_FLAG_REPRODUCIBLE,
	                             &d, &sig) < 0 ||
	    sig.size > SIG_MAX)
		fail("cannot sign");
	bits_len = header(0x03, sig.size + 1, bits);
	body = tbs_len + sizeof(alg) + bits_len + 1 + sig.size;
	n = header(0x30, body, out);
	memcpy(out + n, tbs, tbs_len);
	n += tbs_len;
	memcpy(out + n, alg, sizeof(alg));
	n += sizeof(alg);
	memcpy(out + n, bits, bits_len);
	n += bits_len;
	out[n++] = 0; /* no unused bits */
	memcpy(out + n, sig.data, sig.size);
	n += sig.size;
	gnutls_free(sig.data);
	return n;
}

static bool
certval_accepts(const uint8_t *der, size_t len, struct cv_failure *f)
{
	struct cv_path_params params;
	struct cv_path path;
	struct cv_cert *leaf = NULL;
	struct cv_error err;
	bool ok;

	if (cv_cert_from_der(der, len, &leaf, &err) < 0)
		return false;
	cv_path_params_init(&params);
	params.anchors = pki.root.v;
	params.n_anchors = pki.root.n;
	params.untrusted = pki.sub.v;
	params.n_untrusted = pki.sub.n;
	params.at = AT;
	params.purpose = CV_PURPOSE_ANY;
	memset(&path, 0, sizeof(path));
	ok = cv_path_build(leaf, &params, &path, f, NULL) == 0;
	if (ok)
		cv_path_release(&path);
	cv_cert_unref(leaf);
	return ok;
}

/* Does cert name, in its AKI keyIdentifier, another key than issuer's SKI? */
static bool
akid_mismatch(X509 *issuer, X509 *cert)
{
	const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id(cert);
	const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(issuer);

	return akid != NULL && skid != NULL && ASN1_OCTET_STRING_cmp(akid, skid) != 0;
}

/* OpenSSL's verdict: 0 when it accepts, else its X509_V_ERR_* code or a DIFF_* one. */
static int
openssl_error(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rc = DIFF_UNPARSEABLE;

	if (x == NULL && ERR_GET_LIB(ERR_peek_error()) == ERR_LIB_ASN1 &&
	    ERR_GET_REASON(ERR_peek_error()) == ASN1_R_INVALID_UTF8STRING)
		rc = DIFF_BAD_UTF8;
	if (ctx == NULL)
		fail("out of memory");
	if (x != NULL && p == der + len &&
	    X509_STORE_CTX_init(ctx, pki.store, x, pki.untrusted) == 1) {
		X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);

		X509_VERIFY_PARAM_set_time(param, AT);
		/* RFC 5280 6.1 policy processing, as certval does it (initial anyPolicy) */
		X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_POLICY_CHECK);
		rc = X509_verify_cert(ctx) == 1 ? 0 : X509_STORE_CTX_get_error(ctx);
		if (rc == X509_V_ERR_UNSPECIFIED && X509_get0_pubkey(x) == NULL)
			rc = DIFF_KEY_UNDECODED;
		if (rc == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY &&
		    akid_mismatch(sk_X509_value(pki.untrusted, 0), x))
			rc = DIFF_AKID_MISMATCH;
	}
	X509_STORE_CTX_free(ctx);
	X509_free(x);
	ERR_clear_error();
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t cert[CERT_MAX];
	struct cv_failure f;
	size_t len;
	bool accepted;
	int err;

	if (!pki.loaded)
		load();
	if (size == 0 || size > TBS_MAX)
		return 0;
	len = sign(data, size, cert);
	memset(&f, 0, sizeof(f));
	accepted = certval_accepts(cert, len, &f);
	if (getenv("FUZZ_DIFF_DUMP") != NULL) { /* the signed certificate, to look at it */
		FILE *out = fopen(getenv("FUZZ_DIFF_DUMP"), "wb");

		if (out != NULL) {
			fwrite(cert, 1, len, out);
			fclose(out);
		}
	}
	if (getenv("FUZZ_DIFF_VERBOSE") != NULL) /* what each said, to explain a seed */
		fprintf(stderr, "certval %s (%s), OpenSSL %s\n", accepted ? "ACCEPT" : "REJECT",
		        accepted ? "-" : f.detail,
		        X509_verify_cert_error_string(openssl_error(cert, len)));
	if (!accepted)
		return 0;
	err = openssl_error(cert, len);
	if (err == 0)
		return 0;
	for (size_t i = 0; i < CV_ARRAY_LEN(explained); i++)
		if (explained[i].error == err)
			return 0;
	fprintf(stderr, "fuzz_diff: certval accepts what OpenSSL rejects: %d %s\n", err,
	        err == DIFF_UNPARSEABLE ? "OpenSSL cannot parse it"
	                                : X509_verify_cert_error_string(err));
	abort();
}
