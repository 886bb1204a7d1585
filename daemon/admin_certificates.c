/*
 * admin_certificates.c: the `certificates` view (SPEC R53): each authenticated trustpoint's CA
 * certificates once, with key usage, distribution points, associated trustpoints and, verbose,
 * the key, signature, key identifiers, basic constraints and authority information access,
 * all from the parsed certificate (validator/cert.h).
 */
#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "../validator/name.h"
#include "admin_int.h"
#include "../ipc/verdict_json.h"

static json_t *
key_usage_json(const struct cv_cert *cert)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} bits[] = {
	    {CV_KU_DIGITAL_SIGNATURE, "Digital Signature"},
	    {CV_KU_NON_REPUDIATION, "Non Repudiation"},
	    {CV_KU_KEY_ENCIPHERMENT, "Key Encipherment"},
	    {CV_KU_DATA_ENCIPHERMENT, "Data Encipherment"},
	    {CV_KU_KEY_AGREEMENT, "Key Agreement"},
	    {CV_KU_KEY_CERT_SIGN, "Key Cert Sign"},
	    {CV_KU_CRL_SIGN, "CRL Signature"},
	    {CV_KU_ENCIPHER_ONLY, "Encipher Only"},
	    {CV_KU_DECIPHER_ONLY, "Decipher Only"},
	};
	const struct cv_cert_ku *ku = cv_cert_key_usage(cert);
	uint32_t octets = 0;
	char hex[16];
	json_t *arr;

	if (!ku->present)
		return json_null();
	arr = json_array();
	for (size_t i = 0; arr != NULL && i < CV_ARRAY_LEN(bits); i++)
		if (ku->bits & bits[i].bit)
			json_array_append_new(arr, json_string(bits[i].name));
	/* the BIT STRING as the manuals print it: named bit n is bit 31-n of the word */
	for (unsigned n = 0; n < 9; n++)
		if (ku->bits & (1u << n))
			octets |= 0x80000000u >> n;
	snprintf(hex, sizeof(hex), "%08X", octets);
	return json_pack("{s:s, s:o, s:b}", "hex", hex, "names", arr != NULL ? arr : json_array(),
	                 "critical", ku->critical);
}

static void
dp_uri(const char *uri, size_t len, void *arg)
{
	json_array_append_new(arg, json_stringn(uri, len));
}

/* The URIs among the fullNames of the certificate's distribution points. */
static json_t *
crl_dps_json(const struct cv_cert *cert)
{
	const struct cv_cert_dps *dps = cv_cert_crl_dps(cert);
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < dps->n; i++)
		if (dps->v[i].dp.kind == CV_DP_FULL_NAME)
			cv_name_foreach_uri(dps->v[i].dp.names, dps->v[i].dp.len, dp_uri, arr);
	return arr;
}

static json_t *
key_id_json(const uint8_t *id, size_t len)
{
	char hex[2 * 64 + 1];

	if (id == NULL || len > 64)
		return json_null();
	cv_hex_encode(id, len, hex);
	return admin_jstr(hex);
}

static void
aia_add(json_t *arr, const char *method, const struct cv_cert_uri *uri)
{
	json_t *o = json_pack("{s:s, s:s%}", "method", method, "uri", uri->p, uri->len);

	if (o != NULL)
		json_array_append_new(arr, o);
}

/* OCSP locations first, then CA Issuers, each in certificate order. */
static json_t *
aia_json(const struct cv_cert *cert)
{
	const struct cv_cert_aia *aia = cv_cert_aia(cert);
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < aia->n_ocsp; i++)
		aia_add(arr, "OCSP", &aia->ocsp[i]);
	for (size_t i = 0; arr != NULL && i < aia->n_ca_issuers; i++)
		aia_add(arr, "CA Issuers", &aia->ca_issuers[i]);
	return arr;
}

/* The verbose fields of R53. */
static void
cert_verbose(json_t *o, const struct cv_cert *cert)
{
	const struct cv_cert_bc *bc = cv_cert_basic_constraints(cert);
	const struct cv_cert_ski *ski = cv_cert_ski(cert);
	const struct cv_cert_aki *aki = cv_cert_aki(cert);

	json_object_set_new(o, "version", json_integer(cv_cert_version(cert)));
	json_object_set_new(o, "public_key_algorithm",
	                    admin_jstr(cv_cert_key_algorithm_name(cert)));
	json_object_set_new(o, "public_key_bits", json_integer(cv_cert_public_key(cert)->bits));
	json_object_set_new(o, "signature_algorithm",
	                    admin_jstr(cv_cert_signature_algorithm_name(cert)));
	json_object_set_new(o, "subject_key_id",
	                    ski->present ? key_id_json(ski->key_id, ski->key_id_len) : json_null());
	json_object_set_new(o, "authority_key_id", key_id_json(aki->key_id, aki->key_id_len));
	json_object_set_new(o, "basic_constraints",
	                    !bc->present
	                        ? json_null()
	                        : json_pack("{s:b, s:i}", "ca", bc->ca, "path_len", bc->path_len));
	json_object_set_new(o, "authority_info_access", aia_json(cert));
}

static json_t *
associated(const struct cv_config *cfg, const struct cv_cert *cert)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < cfg->n_trustpoints; i++)
		for (size_t k = 0; k < cfg->trustpoints[i].ca_certs.n; k++)
			if (cv_cert_equal(cfg->trustpoints[i].ca_certs.v[k], cert)) {
				json_array_append_new(arr, json_string(cfg->trustpoints[i].name));
				break;
			}
	return arr;
}

static json_t *
certificate_json(struct cv_admin *a, const struct cv_config *cfg, const char *tp,
                 const struct cv_cert *cert, bool verbose, cv_time now)
{
	json_t *o = admin_ca_cert_json(a, tp, cert, now);

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "status", json_string("Available"));
	json_object_set_new(o, "key_usage", key_usage_json(cert));
	json_object_set_new(o, "crl_distribution_points", crl_dps_json(cert));
	json_object_set_new(o, "associated_trustpoints", associated(cfg, cert));
	if (verbose)
		cert_verbose(o, cert);
	return o;
}

/* Each authenticated trustpoint's CA certificates, once each (R53). */
json_t *
admin_view_certificates(struct cv_admin *a, const struct cv_proto_admin_req *req,
                        const struct cv_trustpoint *only)
{
	const bool verbose = req->verbose;
	const struct cv_config *cfg = cv_engine_config(a->engine);
	cv_time now = cv_engine_now(a->engine);
	json_t *arr = json_array();
	size_t j;
	json_t *e;

	for (size_t i = 0; arr != NULL && i < cfg->n_trustpoints; i++) {
		const struct cv_trustpoint *tp = &cfg->trustpoints[i];

		if ((only != NULL && only != tp) || !tp->authenticated)
			continue;
		for (size_t k = 0; k < tp->ca_certs.n; k++) {
			const char *fp_new;
			json_t *o =
			    certificate_json(a, cfg, tp->name, tp->ca_certs.v[k], verbose, now);
			bool dup = false;

			if (o == NULL)
				continue;
			fp_new = json_string_value(json_object_get(o, "fingerprint_sha256"));
			json_array_foreach(arr, j, e)
			{
				const char *fp =
				    json_string_value(json_object_get(e, "fingerprint_sha256"));

				if (fp != NULL && fp_new != NULL && strcmp(fp, fp_new) == 0)
					dup = true;
			}
			if (dup)
				json_decref(o);
			else
				json_array_append_new(arr, o);
		}
	}
	if (arr == NULL)
		return NULL;
	return json_pack("{s:b, s:o}", "verbose", verbose, "certificates", arr);
}
