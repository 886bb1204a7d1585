/* testpki.c: test certificates built with GnuTLS (see testpki.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "testpki.h"
#include "../../validator/der.h"

#define DAY (24 * 3600)

void
tp_spec_ca(struct tp_spec *s, const char *subject, cv_time now)
{
	memset(s, 0, sizeof(*s));
	s->subject = subject;
	s->not_before = now - DAY;
	s->not_after = now + 3650 * (cv_time)DAY;
	s->basic_constraints = true;
	s->ca = true;
	s->path_len = -1;
	s->key_usage = GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN;
}

void
tp_spec_leaf(struct tp_spec *s, const char *subject, cv_time now)
{
	memset(s, 0, sizeof(*s));
	s->subject = subject;
	s->not_before = now - DAY;
	s->not_after = now + 365 * (cv_time)DAY;
	s->basic_constraints = true;
	s->ca = false;
	s->path_len = -1;
	s->key_usage = GNUTLS_KEY_DIGITAL_SIGNATURE;
}

static int
check(int ret, const char *what)
{
	if (ret < 0) {
		fprintf(stderr, "testpki: %s: %s\n", what, gnutls_strerror(ret));
		return -1;
	}
	return 0;
}

static int
make_key(gnutls_x509_privkey_t *key, const struct tp_spec *s)
{
	gnutls_datum_t der = {NULL, 0};
	int ret;

	if (check(gnutls_x509_privkey_init(key), "privkey_init") < 0)
		return -1;
	if (s->reuse_key != NULL) {
		ret = gnutls_x509_privkey_export2(s->reuse_key, GNUTLS_X509_FMT_DER, &der);
		if (ret >= 0)
			ret = gnutls_x509_privkey_import(*key, &der, GNUTLS_X509_FMT_DER);
		gnutls_free(der.data);
		return check(ret, "privkey copy");
	}
	switch (s->key_type) {
	case TP_KEY_RSA2048:
		ret = gnutls_x509_privkey_generate(*key, GNUTLS_PK_RSA, 2048, 0);
		break;
	case TP_KEY_RSA1024:
		ret = gnutls_x509_privkey_generate(*key, GNUTLS_PK_RSA, 1024, 0);
		break;
	case TP_KEY_RSA2056:
		ret = gnutls_x509_privkey_generate(*key, GNUTLS_PK_RSA, 2056, 0);
		break;
	case TP_KEY_RSA2052:
		ret = gnutls_x509_privkey_generate(*key, GNUTLS_PK_RSA, 2052, 0);
		break;
	case TP_KEY_DSA2048:
		ret = gnutls_x509_privkey_generate(*key, GNUTLS_PK_DSA, 2048, 0);
		break;
	case TP_KEY_P192:
		ret = gnutls_x509_privkey_generate(
		    *key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP192R1), 0);
		break;
	case TP_KEY_P384:
		ret = gnutls_x509_privkey_generate(
		    *key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1), 0);
		break;
	default:
		ret = gnutls_x509_privkey_generate(
		    *key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
		break;
	}
	return check(ret, "privkey_generate");
}

static int
dn_der(const char *text, gnutls_datum_t *out)
{
	gnutls_x509_dn_t dn = NULL;
	const char *err = NULL;
	int ret;

	if ((ret = gnutls_x509_dn_init(&dn)) >= 0 &&
	    (ret = gnutls_x509_dn_set_str(dn, text, &err)) >= 0)
		ret = gnutls_x509_dn_export2(dn, GNUTLS_X509_FMT_DER, out);
	if (dn != NULL)
		gnutls_x509_dn_deinit(dn);
	return check(ret, text);
}

/* A bounded DER writer (GnuTLS cannot encode directoryName constraints). */
struct der_buf {
	unsigned char b[4096];
	size_t n;
	bool overflow;
};

static void
der_put(struct der_buf *d, unsigned char tag, const unsigned char *v, size_t len)
{
	if (d->overflow || len > 0xffff || d->n + cv_asn1_header_len(len) + len > sizeof(d->b)) {
		d->overflow = true;
		return;
	}
	d->n += cv_asn1_put_header(d->b + d->n, tag, len);
	memmove(d->b + d->n, v, len);
	d->n += len;
}

/* GeneralSubtrees [tag] of dNSName and directoryName entries, appended to out. */
static int
put_subtrees(struct der_buf *out, unsigned char tag, const char *const *dns, const char *const *dn)
{
	struct der_buf trees = {.n = 0}, name, sub;
	gnutls_datum_t d;
	size_t i;

	for (i = 0; i < TP_NAMES_MAX && dns[i] != NULL; i++) {
		name.n = 0;
		name.overflow = false;
		der_put(&name, 0x82, (const unsigned char *)dns[i], strlen(dns[i]));
		der_put(&trees, 0x30, name.b, name.n);
	}
	for (i = 0; i < TP_NAMES_MAX && dn[i] != NULL; i++) {
		if (dn_der(dn[i], &d) < 0)
			return -1;
		sub.n = 0;
		sub.overflow = false;
		der_put(&sub, 0xa4, d.data, d.size);
		gnutls_free(d.data);
		der_put(&trees, 0x30, sub.b, sub.n);
	}
	if (trees.n > 0)
		der_put(out, tag, trees.b, trees.n);
	return trees.overflow ? -1 : 0;
}

static int
set_name_constraints(gnutls_x509_crt_t crt, const struct tp_spec *s)
{
	struct der_buf body = {.n = 0}, ext = {.n = 0};

	if (s->nc_permitted_dns[0] == NULL && s->nc_excluded_dns[0] == NULL &&
	    s->nc_permitted_dn[0] == NULL && s->nc_excluded_dn[0] == NULL)
		return 0;
	if (put_subtrees(&body, 0xa0, s->nc_permitted_dns, s->nc_permitted_dn) < 0 ||
	    put_subtrees(&body, 0xa1, s->nc_excluded_dns, s->nc_excluded_dn) < 0)
		return -1;
	der_put(&ext, 0x30, body.b, body.n);
	if (body.overflow || ext.overflow)
		return -1;
	return check(gnutls_x509_crt_set_extension_by_oid(crt, "2.5.29.30", ext.b, ext.n, 1),
	             "name constraints");
}

static int
set_names(gnutls_x509_crt_t crt, const struct tp_spec *s)
{
	unsigned char ip[16];
	size_t i;

	for (i = 0; i < TP_NAMES_MAX && s->dns[i] != NULL; i++)
		if (check(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, s->dns[i],
		                                               (unsigned)strlen(s->dns[i]),
		                                               GNUTLS_FSAN_APPEND),
		          "san dns") < 0)
			return -1;
	for (i = 0; i < TP_NAMES_MAX && s->email[i] != NULL; i++)
		if (check(gnutls_x509_crt_set_subject_alt_name(
		              crt, GNUTLS_SAN_RFC822NAME, s->email[i],
		              (unsigned)strlen(s->email[i]), GNUTLS_FSAN_APPEND),
		          "san email") < 0)
			return -1;
	for (i = 0; i < TP_NAMES_MAX && s->ip[i] != NULL; i++) {
		unsigned len = strchr(s->ip[i], ':') ? 16 : 4;

		if (inet_pton(len == 16 ? AF_INET6 : AF_INET, s->ip[i], ip) != 1 ||
		    check(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, len,
		                                               GNUTLS_FSAN_APPEND),
		          "san ip") < 0)
			return -1;
	}
	return 0;
}

static int
set_extensions(gnutls_x509_crt_t crt, const struct tp_spec *s)
{
	static const unsigned char der_null[] = {0x05, 0x00};
	gnutls_datum_t d;
	size_t i;

	if (s->basic_constraints &&
	    check(gnutls_x509_crt_set_basic_constraints(crt, s->ca, s->path_len), "bc") < 0)
		return -1;
	if (s->key_usage != 0 && check(gnutls_x509_crt_set_key_usage(crt, s->key_usage), "ku") < 0)
		return -1;
	for (i = 0; i < TP_NAMES_MAX && s->eku[i] != NULL; i++)
		if (check(gnutls_x509_crt_set_key_purpose_oid(crt, s->eku[i], 0), "eku") < 0)
			return -1;
	for (i = 0; i < TP_NAMES_MAX && s->policies[i] != NULL; i++) {
		struct gnutls_x509_policy_st pol;

		memset(&pol, 0, sizeof(pol));
		pol.oid = (char *)(uintptr_t)s->policies[i];
		if (check(gnutls_x509_crt_set_policy(crt, &pol, 0), "policy") < 0)
			return -1;
	}
	for (i = 0; i < TP_NAMES_MAX && s->crl_url[i] != NULL; i++)
		if (check(
		        gnutls_x509_crt_set_crl_dist_points(crt, GNUTLS_SAN_URI, s->crl_url[i], 0),
		        "cdp") < 0)
			return -1;
	if (s->ocsp_url != NULL) {
		d.data = (unsigned char *)(uintptr_t)s->ocsp_url;
		d.size = (unsigned)strlen(s->ocsp_url);
		if (check(gnutls_x509_crt_set_authority_info_access(crt, GNUTLS_IA_OCSP_URI, &d),
		          "aia") < 0)
			return -1;
	}
	if (s->ext_oid != NULL &&
	    check(gnutls_x509_crt_set_extension_by_oid(
	              crt, s->ext_oid, s->ext_value ? s->ext_value : der_null,
	              s->ext_value ? s->ext_value_len : sizeof(der_null), s->ext_critical),
	          "extension") < 0)
		return -1;
	if (set_names(crt, s) < 0 || set_name_constraints(crt, s) < 0)
		return -1;
	return 0;
}

static int
to_cert(struct tp_entity *e)
{
	gnutls_datum_t der = {NULL, 0};
	struct cv_error err;
	int ret;

	if (check(gnutls_x509_crt_export2(e->crt, GNUTLS_X509_FMT_DER, &der), "export") < 0)
		return -1;
	ret = cv_cert_from_der(der.data, der.size, &e->cert, &err);
	if (ret < 0)
		fprintf(stderr, "testpki: %s\n", err.msg);
	gnutls_free(der.data);
	return ret;
}

/* authorityKeyIdentifier from the issuer's subjectKeyIdentifier (self-signed: none). */
static int
set_aki(gnutls_x509_crt_t crt, const struct tp_entity *issuer)
{
	unsigned char id[64];
	size_t len = sizeof(id);
	unsigned crit;

	if (issuer == NULL || gnutls_x509_crt_get_subject_key_id(issuer->crt, id, &len, &crit) < 0)
		return 0;
	return check(gnutls_x509_crt_set_authority_key_id(crt, id, len), "aki");
}

/* Makes the key and the signed GnuTLS certificate of out (no struct cv_cert yet). */
static int
issue_crt(struct tp_entity *out, const struct tp_spec *s, const struct tp_entity *issuer)
{
	unsigned long serial = s->serial;
	unsigned char sbuf[8], kid[64];
	size_t kid_len = sizeof(kid);
	const char *err = NULL;
	int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < 8; i++)
		sbuf[i] = (unsigned char)(serial >> (8 * (7 - i)));
	if (serial == 0 && gnutls_rnd(GNUTLS_RND_NONCE, sbuf, sizeof(sbuf)) < 0)
		return -1;
	sbuf[0] = (unsigned char)((sbuf[0] & 0x7f) | (serial == 0 ? 0x10 : 0));
	if (make_key(&out->key, s) < 0 || check(gnutls_x509_crt_init(&out->crt), "crt init") < 0 ||
	    check(gnutls_x509_crt_set_version(out->crt, s->version ? (unsigned)s->version : 3),
	          "version") < 0 ||
	    check(s->serial_der != NULL
	              ? gnutls_x509_crt_set_serial(out->crt, s->serial_der, s->serial_der_len)
	              : gnutls_x509_crt_set_serial(out->crt, sbuf, sizeof(sbuf)),
	          "serial") < 0 ||
	    check(gnutls_x509_crt_set_key(out->crt, out->key), "key") < 0 ||
	    check(gnutls_x509_crt_set_activation_time(out->crt, (time_t)s->not_before), "nb") < 0 ||
	    check(gnutls_x509_crt_set_expiration_time(out->crt, (time_t)s->not_after), "na") < 0)
		goto fail;
	if (s->subject[0] != '\0' && gnutls_x509_crt_set_dn(out->crt, s->subject, &err) < 0) {
		fprintf(stderr, "testpki: bad subject %s\n", s->subject);
		goto fail;
	}
	if (s->unique_ids &&
	    (check(gnutls_x509_crt_set_issuer_unique_id(out->crt, "iuid", 4), "iuid") < 0 ||
	     check(gnutls_x509_crt_set_subject_unique_id(out->crt, "suid", 4), "suid") < 0))
		goto fail;
	if (!s->no_ski && gnutls_x509_crt_get_key_id(out->crt, 0, kid, &kid_len) >= 0 &&
	    check(gnutls_x509_crt_set_subject_key_id(out->crt, kid, kid_len), "ski") < 0)
		goto fail;
	if (set_extensions(out->crt, s) < 0 || (!s->no_aki && set_aki(out->crt, issuer) < 0))
		goto fail;
	if (issuer == NULL)
		i = gnutls_x509_crt_sign2(out->crt, out->crt, out->key,
		                          s->hash ? s->hash : GNUTLS_DIG_SHA256, 0);
	else
		i = gnutls_x509_crt_sign2(out->crt, issuer->crt, issuer->key,
		                          s->hash ? s->hash : GNUTLS_DIG_SHA256, 0);
	if (check(i, "sign") < 0)
		goto fail;
	return 0;
fail:
	tp_entity_free(out);
	return -1;
}

int
tp_issue(struct tp_entity *out, const struct tp_spec *s, const struct tp_entity *issuer)
{
	if (issue_crt(out, s, issuer) < 0)
		return -1;
	if (to_cert(out) < 0) {
		tp_entity_free(out);
		return -1;
	}
	return 0;
}

int
tp_issue_load(const struct tp_spec *s, const struct tp_entity *issuer, struct cv_error *err)
{
	struct tp_entity e;
	gnutls_datum_t der = {NULL, 0};
	struct cv_cert *cert = NULL;
	int ret = -2;

	cv_error_set(err, "not issued");
	if (issue_crt(&e, s, issuer) < 0)
		return -2;
	if (gnutls_x509_crt_export2(e.crt, GNUTLS_X509_FMT_DER, &der) == 0)
		ret = cv_cert_from_der(der.data, der.size, &cert, err);
	gnutls_free(der.data);
	cv_cert_unref(cert);
	tp_entity_free(&e);
	return ret;
}

void
tp_entity_free(struct tp_entity *e)
{
	if (e->crt != NULL)
		gnutls_x509_crt_deinit(e->crt);
	if (e->key != NULL)
		gnutls_x509_privkey_deinit(e->key);
	cv_cert_unref(e->cert);
	memset(e, 0, sizeof(*e));
}

int
tp_corrupt_signature(const struct cv_cert *cert, struct cv_cert **out)
{
	const uint8_t *der;
	uint8_t *copy;
	size_t len;
	struct cv_error err;
	int ret;

	der = cv_cert_der(cert, &len);
	if ((copy = malloc(len)) == NULL)
		return -1;
	memcpy(copy, der, len);
	copy[len - 3] ^= 0x01; /* inside the signature BIT STRING, the last element */
	ret = cv_cert_from_der(copy, len, out, &err);
	free(copy);
	return ret;
}

static int
write_datum(const char *path, const gnutls_datum_t *d)
{
	FILE *fp = fopen(path, "wb");
	int ret;

	if (fp == NULL)
		return -1;
	ret = fwrite(d->data, 1, d->size, fp) == d->size ? 0 : -1;
	if (fclose(fp) != 0)
		ret = -1;
	return ret;
}

int
tp_write_cert_pem(const struct tp_entity *e, const char *path)
{
	gnutls_datum_t d = {NULL, 0};
	int ret;

	if (check(gnutls_x509_crt_export2(e->crt, GNUTLS_X509_FMT_PEM, &d), "export") < 0)
		return -1;
	ret = write_datum(path, &d);
	gnutls_free(d.data);
	return ret;
}

int
tp_write_key_pem(const struct tp_entity *e, const char *path)
{
	gnutls_datum_t d = {NULL, 0};
	int ret;

	if (check(gnutls_x509_privkey_export2_pkcs8(e->key, GNUTLS_X509_FMT_PEM, NULL,
	                                            GNUTLS_PKCS_PLAIN, &d),
	          "export key") < 0)
		return -1;
	ret = write_datum(path, &d);
	gnutls_free(d.data);
	return ret;
}

/* Offset and length of the first element (tag, length, contents) of der, or -1. */
static int
tlv(const unsigned char *der, size_t len, size_t *hdr, size_t *total)
{
	size_t body = 0, n;

	if (len < 2)
		return -1;
	if (der[1] < 0x80) {
		*hdr = 2;
		body = der[1];
	} else {
		n = der[1] & 0x7f;
		if (n == 0 || n > 3 || len < 2 + n)
			return -1;
		for (size_t i = 0; i < n; i++)
			body = (body << 8) | der[2 + i];
		*hdr = 2 + n;
	}
	*total = *hdr + body;
	return *total <= len ? 0 : -1;
}

int
tp_patch(struct tp_entity *e, const struct tp_entity *issuer, const unsigned char *from,
         const unsigned char *to, size_t n, struct cv_error *err)
{
	gnutls_datum_t der = {NULL, 0}, tbs, sig = {NULL, 0}, out;
	gnutls_privkey_t key = NULL;
	struct der_buf body = {.n = 0}, bits = {.n = 0}, cert = {.n = 0};
	unsigned char sigbits[1024];
	size_t hdr, total, thdr, ttotal;
	unsigned char *at;
	int ret = -1;

	cv_error_set(err, "not patched");
	if (gnutls_x509_crt_export2(e->crt, GNUTLS_X509_FMT_DER, &der) < 0 ||
	    tlv(der.data, der.size, &hdr, &total) < 0 ||
	    tlv(der.data + hdr, total - hdr, &thdr, &ttotal) < 0)
		goto out;
	tbs.data = der.data + hdr;
	tbs.size = (unsigned)ttotal;
	if ((at = memmem(tbs.data, tbs.size, from, n)) == NULL)
		goto out;
	memcpy(at, to, n);
	if (gnutls_privkey_init(&key) < 0 ||
	    gnutls_privkey_import_x509(key, issuer->key, GNUTLS_PRIVKEY_IMPORT_COPY) < 0 ||
	    gnutls_privkey_sign_data(key, GNUTLS_DIG_SHA256, 0, &tbs, &sig) < 0 ||
	    sig.size + 1 > sizeof(sigbits) || total > sizeof(body.b) - 8)
		goto out;
	/* Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } */
	memcpy(body.b, tbs.data, tbs.size);
	body.n = tbs.size;
	{
		size_t ahdr, atotal;
		const unsigned char *alg = tbs.data + tbs.size;

		if (tlv(alg, total - hdr - ttotal, &ahdr, &atotal) < 0)
			goto out;
		memcpy(body.b + body.n, alg, atotal);
		body.n += atotal;
	}
	sigbits[0] = 0;
	memcpy(sigbits + 1, sig.data, sig.size);
	der_put(&bits, 0x03, sigbits, sig.size + 1);
	memcpy(body.b + body.n, bits.b, bits.n);
	body.n += bits.n;
	der_put(&cert, 0x30, body.b, body.n);
	if (body.overflow || bits.overflow || cert.overflow)
		goto out;
	out.data = cert.b;
	out.size = (unsigned)cert.n;
	cv_cert_unref(e->cert);
	e->cert = NULL;
	if (cv_cert_from_der(cert.b, cert.n, &e->cert, err) < 0)
		goto out;
	gnutls_x509_crt_deinit(e->crt);
	e->crt = NULL;
	if (gnutls_x509_crt_init(&e->crt) < 0 ||
	    gnutls_x509_crt_import(e->crt, &out, GNUTLS_X509_FMT_DER) < 0)
		goto out;
	ret = 0;
out:
	gnutls_free(der.data);
	gnutls_free(sig.data);
	gnutls_privkey_deinit(key);
	return ret;
}
