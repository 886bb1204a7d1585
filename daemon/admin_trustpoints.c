/*
 * admin_trustpoints.c: the `trustpoints` view (SPEC R52): each trustpoint's state, revocation
 * settings and CA certificates with their fingerprints and expiry.
 */
#include <gnutls/gnutls.h>

#include "../policy/revocation.h"
#include "admin_int.h"
#include "../ipc/verdict_json.h"

#define FINGERPRINT_MAX (2 * 64 + 1)

static json_t *
fingerprint(const struct cv_cert *cert, gnutls_digest_algorithm_t algo)
{
	char fp[FINGERPRINT_MAX];

	if (cv_cert_fingerprint(cert, algo, fp, sizeof(fp)) != 0)
		return json_null();
	return admin_jstr(fp);
}

json_t *
admin_ca_cert_json(struct cv_admin *a, const char *tp, const struct cv_cert *cert, cv_time now)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "subject",
	                 cv_json_text(cv_cert_subject(cert)), "subject_rdns",
	                 admin_rdn_lines(cv_cert_subject(cert)), "issuer",
	                 cv_json_text(cv_cert_issuer(cert)), "issuer_rdns",
	                 admin_rdn_lines(cv_cert_issuer(cert)), "serial",
	                 cv_json_text(cv_cert_serial(cert)), "not_before",
	                 cv_json_time(cv_cert_not_before(cert)), "not_after",
	                 cv_json_time(cv_cert_not_after(cert)), "fingerprint_md5",
	                 fingerprint(cert, GNUTLS_DIG_MD5), "fingerprint_sha1",
	                 fingerprint(cert, GNUTLS_DIG_SHA1), "fingerprint_sha256",
	                 fingerprint(cert, GNUTLS_DIG_SHA256), "expiry",
	                 admin_expiry_json(a->expiry, tp, cert, now));
}

static json_t *
methods_json(const struct cv_rev_settings *rev)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < rev->n_methods; i++)
		json_array_append_new(arr, json_string(rev->methods[i]->name));
	return arr;
}

static json_t *
trustpoint_json(struct cv_admin *a, const struct cv_config *cfg, const struct cv_trustpoint *tp,
                cv_time now)
{
	json_t *certs = json_array(), *o;
	char cache_mode[48];

	for (size_t i = 0; certs != NULL && i < tp->ca_certs.n; i++)
		json_array_append_new(certs,
		                      admin_ca_cert_json(a, tp->name, tp->ca_certs.v[i], now));
	o = json_pack("{s:s, s:b, s:b, s:s?, s:s?, s:s?, s:o, s:s?, s:s?, s:s, s:s, s:o}", "name",
	              tp->name, "primary", tp->primary, "authenticated", tp->authenticated,
	              "auth_error", tp->auth_error[0] != '\0' ? tp->auth_error : NULL,
	              "ca_certificate_path", tp->ca_cert_path, "fingerprint_configured",
	              tp->fingerprint, "revocation", methods_json(&tp->rev), "crl_query_url",
	              tp->rev.crl_query_url, "ocsp_url", tp->rev.ocsp_url, "crl_cache",
	              admin_crl_cache_mode(cfg, tp->name, cache_mode, sizeof(cache_mode)),
	              "chain_validation", tp->rev.chain == CV_CHAIN_STOP ? "stop" : "continue",
	              "certificates", certs);
	return o;
}

json_t *
admin_view_trustpoints(struct cv_admin *a, const struct cv_proto_admin_req *req,
                       const struct cv_trustpoint *only)
{
	const struct cv_config *cfg = cv_engine_config(a->engine);
	cv_time now = cv_engine_now(a->engine);
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < cfg->n_trustpoints; i++) {
		if (only != NULL && only != &cfg->trustpoints[i])
			continue;
		json_array_append_new(arr, trustpoint_json(a, cfg, &cfg->trustpoints[i], now));
	}
	if (arr == NULL)
		return NULL;
	return json_pack("{s:o, s:b, s:o, s:I}", "now", cv_json_time(now), "status", req->status,
	                 "trustpoints", arr, "trustpool_certificates",
	                 (json_int_t)cfg->trustpool.ca_certs.n);
}
