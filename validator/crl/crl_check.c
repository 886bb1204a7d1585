/* crl_check.c: RFC 5280 section 6.3 CRL processing, one named function per step. */
#include "crl_check.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "crl_verify.h"
#include "../name.h"
#include "../cert_crt.h"
#include "../der.h"

#define NAME_BUF 2048

/* Everything 6.3 needs about the certificate, read once. */
struct subject {
	const struct cv_crl_check_params *p;
	const uint8_t *issuer_dn;
	size_t issuer_dn_len;
	uint64_t issuer_key;   /* name.h cv_name_key */
	const uint8_t *serial; /* INTEGER contents as the certificate encodes them */
	size_t serial_len;
	bool is_ca;
	struct cv_dist_point dps[CV_DIST_POINTS_MAX];
	size_t n_dps;
	bool has_cdp;
};

/* The state carried between CRLs (6.3.2). */
struct state {
	uint32_t reasons_mask;
	enum cv_crl_status cert_status; /* GOOD means UNREVOKED so far */
	struct cv_crl_check_result *r;
	const char *unusable; /* why the last complete CRL was refused as a whole, or NULL */
	bool notes;           /* write notes (the caller did not set no_notes) */
};

const char *
cv_crl_status_name(enum cv_crl_status status)
{
	switch (status) {
	case CV_CRL_STATUS_GOOD:
		return "good";
	case CV_CRL_STATUS_REVOKED:
		return "revoked";
	case CV_CRL_STATUS_UNDETERMINED:
		return "undetermined";
	}
	return "?";
}

static void note(struct state *st, const struct cv_crl *crl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends "CRL of <issuer> (thisUpdate ...): <text>" to the result's notes. */
static void
note(struct state *st, const struct cv_crl *crl, const char *fmt, ...)
{
	char text[CV_CRL_NOTE_LEN], when[CV_TIME_TEXT_MAX];
	struct cv_crl_check_result *r = st->r;
	va_list ap;

	if (!st->notes || r->n_notes == CV_CRL_NOTES_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (crl == NULL) {
		snprintf(r->notes[r->n_notes++], CV_CRL_NOTE_LEN, "%s", text);
		return;
	}
	/* The issuer's text was rendered at ingest: a note costs no name rendering. */
	snprintf(r->notes[r->n_notes++], CV_CRL_NOTE_LEN, "%sCRL of %s (thisUpdate %s): %s",
	         cv_crl_is_delta(crl) ? "delta " : "", cv_crl_issuer_text(crl),
	         cv_time_format_iso(cv_crl_get_info(crl)->this_update, when), text);
}

/* Builds the directoryName GeneralName "base + rdn" (nameRelativeToCRLIssuer, 5.2.5). */
static int
relative_name(const uint8_t *base, size_t base_len, const uint8_t *rdn, size_t rdn_len,
              uint8_t *out, size_t cap, size_t *out_len)
{
	struct cv_asn1 d;
	struct cv_asn1_elem name;
	size_t set, seq, total, pos = 0;

	cv_asn1_init(&d, base, base_len);
	if (cv_asn1_expect(&d, CV_ASN1_SEQUENCE, &name) < 0 || rdn_len > cap || name.len > cap)
		return -1;
	set = cv_asn1_header_len(rdn_len) + rdn_len;
	seq = name.len + set;
	total = cv_asn1_header_len(seq) + seq;
	if (seq >= 0x10000 || total >= 0x10000 || cv_asn1_header_len(total) + total > cap)
		return -1;
	pos += cv_asn1_put_header(out + pos, CV_ASN1_CTX_CONS(4), total);
	pos += cv_asn1_put_header(out + pos, CV_ASN1_SEQUENCE, seq);
	memcpy(out + pos, name.val, name.len);
	pos += name.len;
	pos += cv_asn1_put_header(out + pos, CV_ASN1_SET, rdn_len);
	memcpy(out + pos, rdn, rdn_len);
	pos += rdn_len;
	*out_len = pos;
	return 0;
}

/*
 * The names of a DistributionPointName as a run of GeneralName encodings: fullName as is,
 * nameRelativeToCRLIssuer appended to base (the CRL issuer's Name).
 */
static int
dp_names(const struct cv_dp_name *dp, const uint8_t *base, size_t base_len, uint8_t *buf,
         size_t cap, const uint8_t **names, size_t *len)
{
	if (dp->kind == CV_DP_FULL_NAME) {
		*names = dp->names;
		*len = dp->len;
		return 0;
	}
	if (dp->kind != CV_DP_RELATIVE_NAME ||
	    relative_name(base, base_len, dp->names, dp->len, buf, cap, len) < 0)
		return -1;
	*names = buf;
	return 0;
}

/* Whether two runs of GeneralName share one name. */
static bool
names_intersect(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	struct cv_asn1 da, db;
	struct cv_asn1_elem ea, eb;

	cv_asn1_init(&da, a, alen);
	while (cv_asn1_next(&da, &ea) == 0) {
		cv_asn1_init(&db, b, blen);
		while (cv_asn1_next(&db, &eb) == 0)
			if (cv_name_general_equal(&ea, &eb))
				return true;
	}
	return false;
}

/* The certificate's facts, from its parsed form (cert.h): decoded once when it was read. */
static void
load_subject(const struct cv_crl_check_params *p, struct subject *s)
{
	const struct cv_cert_dps *cdp = cv_cert_crl_dps(p->cert);

	memset(s, 0, sizeof(*s));
	s->p = p;
	s->issuer_dn = cv_cert_issuer_der(p->cert, &s->issuer_dn_len);
	s->issuer_key = cv_cert_issuer_key(p->cert);
	s->serial = cv_cert_serial_der(p->cert, &s->serial_len);
	s->is_ca = cv_cert_basic_constraints(p->cert)->ca;
	if (!cdp->present) {
		/* one implicit distribution point: no name, the issuer as CRL issuer (6.3.3) */
		s->n_dps = 1;
		return;
	}
	s->has_cdp = true;
	for (size_t i = 0; i < cdp->n && i < CV_DIST_POINTS_MAX; i++)
		s->dps[s->n_dps++] = cdp->v[i];
}

/*
 * Unusable whatever the certificate: no CRLNumber or a critical one (RFC 5280 5.2.3: conforming
 * issuers MUST include it, non-critical; a v1 CRL has none), unknown critical extensions, dates
 * (O-9), and a thisUpdate older than max_age when set.
 */
static const char *
crl_unusable(const struct cv_crl *crl, const struct cv_crl_check_params *p)
{
	const struct cv_crl_info *i = cv_crl_get_info(crl);
	const cv_time at = p->at;

	if (i->crl_number == NULL)
		return "unusable: no CRLNumber extension (RFC 5280 5.2.3)";
	if (i->crl_number_critical)
		return "unusable: CRLNumber extension marked critical (RFC 5280 5.2.3)";
	if (i->unknown_critical)
		return "unusable: unknown critical CRL extension";
	if (i->entry_unknown_critical)
		return "unusable: unknown critical CRL entry extension";
	if (i->this_update > at)
		return "unusable: thisUpdate is after the validation time";
	if (i->next_update != CV_TIME_NONE && i->next_update < at)
		return "unusable: nextUpdate has passed (stale)";
	if (p->max_age > 0 && i->this_update < at - p->max_age)
		return "unusable: thisUpdate is older than the maximum age";
	return NULL;
}

/*
 * 6.3.3 (b)(1): the CRL's issuer. With cRLIssuer in the distribution point, the CRL must be
 * issued by one of those names and be an indirect CRL; otherwise by the certificate's issuer.
 */
static const char *
check_crl_issuer(const struct subject *s, const struct cv_dist_point *dp,
                 const struct cv_crl_info *i)
{
	if (dp->crl_issuer != NULL) {
		if (!cv_name_in_general_names(dp->crl_issuer, dp->crl_issuer_len, i->issuer,
		                              i->issuer_len))
			return "out of scope: issuer is not the distribution point's cRLIssuer";
		if (!i->idp.indirect_crl)
			return "out of scope: cRLIssuer names it but it is not an indirect CRL";
		return NULL;
	}
	if (!cv_name_equal_keyed(i->issuer, i->issuer_len, i->issuer_key, s->issuer_dn,
	                         s->issuer_dn_len, s->issuer_key))
		return "out of scope: issuer differs from the certificate's issuer";
	return NULL;
}

/* 6.3.3 (b)(2)(i): the IDP's distribution point name against the certificate's. */
static const char *
check_dp_name(const struct subject *s, const struct cv_dist_point *dp, const struct cv_crl_info *i)
{
	uint8_t buf_idp[NAME_BUF], buf_dp[NAME_BUF];
	const uint8_t *idp_names, *dp_list, *base;
	size_t idp_len, dp_len, base_len;

	if (i->idp.dp.kind == CV_DP_NONE)
		return NULL;
	if (!s->has_cdp)
		return "out of scope: IDP names a distribution point, certificate has none";
	if (dp_names(&i->idp.dp, i->issuer, i->issuer_len, buf_idp, sizeof(buf_idp), &idp_names,
	             &idp_len) < 0)
		return "unusable: IDP distribution point name cannot be read";
	if (dp->dp.kind != CV_DP_NONE) {
		/* relative names in the certificate are relative to its CRL issuer */
		if (dp->crl_issuer != NULL) {
			struct cv_asn1 d;
			struct cv_asn1_elem gn;

			cv_asn1_init(&d, dp->crl_issuer, dp->crl_issuer_len);
			if (cv_asn1_next(&d, &gn) < 0 || gn.tag != CV_ASN1_CTX_CONS(4))
				return "out of scope: cRLIssuer is not a directory name";
			base = gn.val;
			base_len = gn.len;
		} else {
			base = s->issuer_dn;
			base_len = s->issuer_dn_len;
		}
		if (dp_names(&dp->dp, base, base_len, buf_dp, sizeof(buf_dp), &dp_list, &dp_len) <
		    0)
			return "out of scope: certificate's distribution point name unreadable";
		if (!names_intersect(idp_names, idp_len, dp_list, dp_len))
			return "out of scope: IDP name matches no distribution point name";
		return NULL;
	}
	if (dp->crl_issuer == NULL ||
	    !names_intersect(idp_names, idp_len, dp->crl_issuer, dp->crl_issuer_len))
		return "out of scope: IDP name matches no cRLIssuer name";
	return NULL;
}

/* 6.3.3 (b): issuer and scope of a complete CRL for one distribution point. */
static const char *
check_scope(const struct subject *s, const struct cv_dist_point *dp, const struct cv_crl *crl)
{
	const struct cv_crl_info *i = cv_crl_get_info(crl);
	const char *why = check_crl_issuer(s, dp, i);

	if (why == NULL && i->idp.present) {
		why = check_dp_name(s, dp, i);
		if (why == NULL && i->idp.only_user_certs && s->is_ca)
			why = "out of scope: onlyContainsUserCerts, certificate is a CA";
		if (why == NULL && i->idp.only_ca_certs && !s->is_ca)
			why = "out of scope: onlyContainsCACerts, certificate is not a CA";
		if (why == NULL && i->idp.only_attribute_certs)
			why = "out of scope: onlyContainsAttributeCerts";
	}
	return why;
}

/* 6.3.3 (c): reasons covered by this CRL for this distribution point. */
static uint32_t
interim_reasons(const struct cv_dist_point *dp, const struct cv_crl_info *i)
{
	uint32_t m = dp->has_reasons ? dp->reasons & CV_REASONS_ALL : CV_REASONS_ALL;

	if (i->idp.present && i->idp.has_reasons)
		m &= i->idp.only_some_reasons;
	return m;
}

/* Checks crl's signature with signer's key; a DSA key without parameters takes those of
 * params_from (RFC 5280 6.1.4 (f)), and is not remembered (its identity lacks them). */
static int
verify_by(struct cv_crl *crl, const struct cv_cert *signer, const struct cv_cert *params_from,
          unsigned flags, struct cv_error *err)
{
	gnutls_pubkey_t key = NULL;
	int rc = -1;

	if (params_from == NULL || !cv_sig_key_inherits_params(signer))
		return cv_crl_verify_cert(crl, signer, flags, err);
	if (gnutls_pubkey_init(&key) < 0 || cv_sig_import_inherited(key, signer, params_from) < 0)
		cv_error_set(err, "CRL signer's key: cannot inherit its DSA parameters");
	else
		rc = cv_crl_verify_signature_key(cv_crl_get_info(crl), key, cv_cert_crt(signer),
		                                 flags, err);
	if (key != NULL)
		gnutls_pubkey_deinit(key);
	return rc;
}

/*
 * 6.3.3 (e), (f): a signer for the CRL whose key verifies it, whose keyUsage allows cRLSign,
 * and (when it is not the certificate's issuer) whose own path the caller accepts.
 */
static const struct cv_cert *
find_signer(const struct subject *s, struct cv_crl *crl, struct state *st)
{
	const struct cv_crl_check_params *p = s->p;
	const struct cv_crl_info *i = cv_crl_get_info(crl);
	struct cv_error err;
	size_t subj_len;
	const uint8_t *subj;

	for (size_t k = 0; k <= p->n_signers; k++) {
		const struct cv_cert *c = k == 0 ? p->issuer : p->signers[k - 1];

		if (c == NULL || (k > 0 && p->issuer != NULL && cv_cert_equal(c, p->issuer)))
			continue;
		subj = cv_cert_subject_der(c, &subj_len);
		if (subj == NULL || !cv_name_equal_keyed(subj, subj_len, cv_cert_subject_key(c),
		                                         i->issuer, i->issuer_len, i->issuer_key))
			continue;
		err.msg[0] = '\0';
		if (verify_by(crl, c, k == 0 ? p->issuer_params : NULL, p->verify_flags, &err) <
		    0) {
			note(st, crl, "signer %s rejected: %s", cv_cert_subject(c), err.msg);
			continue;
		}
		if (k == 0)
			return c;
		if (p->validate_signer == NULL) {
			note(st, crl, "signer %s not usable: no signer validation",
			     cv_cert_subject(c));
			continue;
		}
		if (p->validate_signer(p->signer_arg, c, &err) < 0) {
			note(st, crl, "signer %s path rejected: %s", cv_cert_subject(c), err.msg);
			continue;
		}
		return c;
	}
	return NULL;
}

/* Compares two normalised non-negative INTEGER contents. */
static int
number_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, alen);
}

/* 6.3.3 (a): whether delta may update complete (issuer, scope, base number, AKI). */
static bool
delta_matches(const struct cv_crl_info *c, const struct cv_crl_info *d)
{
	if (c->crl_number == NULL || d->base_crl_number == NULL || d->crl_number == NULL)
		return false;
	if (!cv_name_equal_keyed(c->issuer, c->issuer_len, c->issuer_key, d->issuer, d->issuer_len,
	                         d->issuer_key))
		return false;
	if (c->idp.present != d->idp.present ||
	    (c->idp.present &&
	     (c->idp.raw_len != d->idp.raw_len || memcmp(c->idp.raw, d->idp.raw, c->idp.raw_len))))
		return false;
	if (c->aki_key_id != NULL && d->aki_key_id != NULL &&
	    (c->aki_key_id_len != d->aki_key_id_len ||
	     memcmp(c->aki_key_id, d->aki_key_id, c->aki_key_id_len) != 0))
		return false;
	return number_cmp(d->base_crl_number, d->base_crl_number_len, c->crl_number,
	                  c->crl_number_len) <= 0;
}

/*
 * 6.3.3 (a) and (f) for deltas: the newest usable delta CRL for complete, verified with the
 * complete CRL's signer. *in_scope tells whether any delta was in scope at all.
 */
static struct cv_crl *
find_delta(const struct subject *s, const struct cv_crl *complete, const struct cv_cert *signer,
           bool *in_scope, struct state *st)
{
	const struct cv_crl_check_params *p = s->p;
	const struct cv_crl_info *ci = cv_crl_get_info(complete);
	struct cv_crl *best = NULL;

	*in_scope = false;
	for (size_t k = 0; k < p->n_crls; k++) {
		struct cv_crl *d = p->crls[k];
		const struct cv_crl_info *di = cv_crl_get_info(d);
		const char *why;
		struct cv_error err;

		if (!cv_crl_is_delta(d) || !delta_matches(ci, di))
			continue;
		*in_scope = true;
		why = crl_unusable(d, p);
		if (why != NULL) {
			note(st, d, "%s", why);
			continue;
		}
		if (cv_crl_verify_cert(d, signer, p->verify_flags, &err) < 0) {
			note(st, d, "unusable: %s", err.msg);
			continue;
		}
		if (best == NULL || number_cmp(di->crl_number, di->crl_number_len,
		                               cv_crl_get_info(best)->crl_number,
		                               cv_crl_get_info(best)->crl_number_len) > 0)
			best = d;
	}
	return best;
}

/* 6.3.3 (g), (h), (i): the certificate's status in the delta, then the complete CRL. */
static void
lookup_status(const struct subject *s, const struct cv_crl *complete, const struct cv_crl *delta,
              struct state *st)
{
	struct cv_crl_entry e;
	const struct cv_crl *src = NULL;

	if (delta != NULL &&
	    cv_crl_lookup(delta, s->issuer_dn, s->issuer_dn_len, s->serial, s->serial_len, &e))
		src = delta;
	else if (cv_crl_lookup(complete, s->issuer_dn, s->issuer_dn_len, s->serial, s->serial_len,
	                       &e))
		src = complete;
	if (src == NULL) {
		note(st, complete, "certificate not listed%s", delta ? " (delta checked)" : "");
		return;
	}
	if (e.reason == CV_CRL_REASON_REMOVE_FROM_CRL) {
		note(st, src, "entry removeFromCRL: not revoked");
		return;
	}
	st->cert_status = CV_CRL_STATUS_REVOKED;
	st->r->revocation_date = e.revocation_date;
	st->r->reason = e.reason;
	st->r->crl = src;
	st->r->from_delta = src == delta;
	note(st, src, "certificate listed: %s", cv_crl_reason_name(e.reason));
}

static bool
cert_names_delta(const struct cv_cert *cert)
{
	return cv_cert_freshest_crl(cert)->present;
}

/* 6.3.3 for one complete CRL and one distribution point. */
static void
process_crl(const struct subject *s, const struct cv_dist_point *dp, struct cv_crl *crl,
            struct state *st)
{
	const struct cv_crl_info *i = cv_crl_get_info(crl);
	const struct cv_cert *signer;
	struct cv_crl *delta = NULL;
	const char *why;
	uint32_t interim;

	if ((why = crl_unusable(crl, s->p)) != NULL) {
		note(st, crl, "%s", why);
		st->unusable = why;
		return;
	}
	if ((why = check_scope(s, dp, crl)) != NULL) {
		note(st, crl, "%s", why);
		return;
	}
	interim = interim_reasons(dp, i);
	if ((interim & ~st->reasons_mask) == 0) {
		note(st, crl, "skipped: covers no reason not already covered");
		return;
	}
	signer = find_signer(s, crl, st);
	if (signer == NULL) {
		note(st, crl, "unusable: no valid signer");
		return;
	}
	if (s->p->use_deltas) {
		bool in_scope;

		delta = find_delta(s, crl, signer, &in_scope, st);
		if (in_scope && delta == NULL) {
			note(st, crl, "unusable: its delta CRLs are not usable");
			return;
		}
		/* A CA that names a delta CRL (freshestCRL, RFC 5280 5.2.6) may have revoked
		 * since this CRL: without the delta at hand the status stays open (fail closed;
		 * the caller fetches the delta and asks again). */
		if (!in_scope && (i->freshest_crl != NULL || cert_names_delta(s->p->cert))) {
			note(st, crl,
			     "unusable alone: it or the certificate names a delta CRL "
			     "(freshestCRL) and none is at hand");
			return;
		}
	}
	lookup_status(s, crl, delta, st);
	st->reasons_mask |= interim; /* 6.3.3 (j) */
	if (st->r->crl == NULL)
		st->r->crl = crl;
}

int
cv_crl_check(const struct cv_crl_check_params *p, struct cv_crl_check_result *r)
{
	struct subject s;
	struct state st = {0, CV_CRL_STATUS_GOOD, r, NULL, !p->no_notes};

	/* the notes are written as they come: clearing their 3 KB cost more than a check */
	memset(r, 0, offsetof(struct cv_crl_check_result, notes));
	r->status = CV_CRL_STATUS_UNDETERMINED;
	r->revocation_date = CV_TIME_NONE;
	r->reason = CV_CRL_REASON_NONE;
	load_subject(p, &s);
	for (size_t d = 0; d < s.n_dps && st.cert_status == CV_CRL_STATUS_GOOD &&
	                   st.reasons_mask != CV_REASONS_ALL;
	     d++)
		for (size_t k = 0; k < p->n_crls && st.cert_status == CV_CRL_STATUS_GOOD &&
		                   st.reasons_mask != CV_REASONS_ALL;
		     k++)
			if (!cv_crl_is_delta(p->crls[k]))
				process_crl(&s, &s.dps[d], p->crls[k], &st);
	/* 6.3.3 (k) and 6.3.4 */
	if (st.cert_status == CV_CRL_STATUS_REVOKED) {
		r->status = CV_CRL_STATUS_REVOKED;
		snprintf(r->message, sizeof(r->message), "certificate revoked (%s)",
		         cv_crl_reason_name(r->reason));
	} else if (st.reasons_mask == CV_REASONS_ALL) {
		r->status = CV_CRL_STATUS_GOOD;
		snprintf(r->message, sizeof(r->message), "certificate not revoked");
	} else if (st.reasons_mask == 0 && st.unusable != NULL) {
		/* name the defect: the administrator sees why the method failed */
		r->crl = NULL;
		snprintf(r->message, sizeof(r->message), "no usable CRL for the certificate (%s)",
		         st.unusable);
	} else {
		r->crl = NULL;
		snprintf(r->message, sizeof(r->message), "%s",
		         st.reasons_mask == 0 ? "no usable CRL for the certificate"
		                              : "the usable CRLs do not cover every reason");
	}
	return 0;
}
