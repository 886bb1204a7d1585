/*
 * aaa_ldap.c: the LDAP backend of AAA authorization through OpenLDAP (D-2): an anonymous
 * bind, a subtree search of base-dn for (cn=USERNAME), and the values of the configured
 * attribute (default ciscoAVPair) that are pki: AV pairs. Blocking; runs on a worker.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <lber.h>
#include <ldap.h>

#include "../common/util.h"
#include "aaa_int.h"

#define USER_ATTR "cn" /* the attribute holding the AAA username (docs/configuration.md) */

static void
set_tv(struct timeval *tv, const struct timespec *deadline)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long)(deadline->tv_sec - now.tv_sec) * 1000 +
	     (deadline->tv_nsec - now.tv_nsec) / 1000000;
	if (ms < 1)
		ms = 1;
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

/* Transport failures make the method unreachable; the rest are answers. */
static int
is_transport_error(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT ||
	       rc == LDAP_TIMELIMIT_EXCEEDED || rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY ||
	       rc == LDAP_LOCAL_ERROR || rc == LDAP_NO_MEMORY;
}

/* Waits for msgid's whole answer; returns the LDAP result code of the operation. */
static int
wait_done(LDAP *ld, int msgid, const struct timespec *deadline, LDAPMessage **res)
{
	struct timeval tv;
	int rc, err = LDAP_OTHER;

	set_tv(&tv, deadline);
	rc = ldap_result(ld, msgid, LDAP_MSG_ALL, &tv, res);
	if (rc == 0)
		return LDAP_TIMEOUT;
	if (rc < 0) {
		ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &err);
		return err;
	}
	if (ldap_parse_result(ld, *res, &err, NULL, NULL, NULL, NULL, 0) != LDAP_SUCCESS)
		return LDAP_DECODING_ERROR;
	return err;
}

static int
do_bind(LDAP *ld, const struct timespec *deadline)
{
	struct berval cred = {0, NULL};
	LDAPMessage *res = NULL;
	int msgid, rc;

	rc = ldap_sasl_bind(ld, NULL, LDAP_SASL_SIMPLE, &cred, NULL, NULL, &msgid);
	if (rc == LDAP_SUCCESS)
		rc = wait_done(ld, msgid, deadline, &res);
	ldap_msgfree(res);
	return rc;
}

/* The pki: pairs of the one entry found. */
static void
take_entry(LDAP *ld, LDAPMessage *entry, const struct cv_aaa_target *t, struct cv_aaa_answer *out)
{
	struct berval **vals = ldap_get_values_len(ld, entry, t->attribute);
	size_t i;

	out->status = CV_AAA_ANSWERED;
	for (i = 0; vals != NULL && vals[i] != NULL; i++) {
		if (cv_aaa_answer_add_text(out, vals[i]->bv_val, vals[i]->bv_len) < 0) {
			out->status = CV_AAA_REFUSED; /* fail closed, as for RADIUS */
			out->n_attrs = 0;
			snprintf(out->error, sizeof(out->error),
			         "entry has more than %d pki: values or one longer than %d bytes",
			         CV_AAA_ATTRS_MAX, CV_AAA_VALUE_MAX - 1);
			break;
		}
	}
	ldap_value_free_len(vals);
}

static void
do_search(LDAP *ld, const struct cv_aaa_target *t, const char *username,
          const struct timespec *deadline, struct cv_aaa_answer *out)
{
	struct berval user = {strlen(username), (char *)username}, esc = {0, NULL};
	char filter[CV_NAME_MAX * 3 + 16], *attrs[] = {(char *)t->attribute, NULL};
	LDAPMessage *res = NULL, *entry;
	struct timeval tv;
	int msgid, rc, n;

	if (ldap_bv2escaped_filter_value(&user, &esc) != 0) {
		snprintf(out->error, sizeof(out->error), "cannot escape the username");
		return;
	}
	n = snprintf(filter, sizeof(filter), "(%s=%s)", USER_ATTR, esc.bv_val);
	ber_memfree(esc.bv_val);
	if (n < 0 || (size_t)n >= sizeof(filter)) {
		out->status = CV_AAA_REFUSED;
		snprintf(out->error, sizeof(out->error), "username too long for an LDAP filter");
		return;
	}
	set_tv(&tv, deadline);
	rc = ldap_search_ext(ld, t->base_dn[0] ? t->base_dn : NULL, LDAP_SCOPE_SUBTREE, filter,
	                     attrs, 0, NULL, NULL, &tv, 2, &msgid);
	if (rc == LDAP_SUCCESS)
		rc = wait_done(ld, msgid, deadline, &res);
	if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
		if (!is_transport_error(rc))
			out->status = CV_AAA_REFUSED;
		snprintf(out->error, sizeof(out->error), "LDAP search %.100s under %.150s: %s",
		         filter, t->base_dn, ldap_err2string(rc));
		goto out;
	}
	n = ldap_count_entries(ld, res);
	if (n != 1 || rc == LDAP_SIZELIMIT_EXCEEDED) {
		out->status = CV_AAA_REFUSED;
		snprintf(out->error, sizeof(out->error), "%s entry %.100s under %.150s",
		         n == 0 ? "no" : "more than one", filter, t->base_dn);
		goto out;
	}
	entry = ldap_first_entry(ld, res);
	take_entry(ld, entry, t, out);
out:
	ldap_msgfree(res);
}

void
cv_aaa_ldap_run(const struct cv_aaa_target *t, const char *username, struct cv_aaa_answer *out)
{
	LDAP *ld = NULL;
	struct timespec deadline;
	struct timeval tv = {(time_t)t->timeout_s, 0};
	int version = LDAP_VERSION3, rc;

	out->status = CV_AAA_UNREACHABLE;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += t->timeout_s;
	if ((rc = ldap_initialize(&ld, t->address)) != LDAP_SUCCESS) {
		snprintf(out->error, sizeof(out->error), "LDAP %.200s: %s", t->address,
		         ldap_err2string(rc));
		return;
	}
	ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
	ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
	ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
	if ((rc = do_bind(ld, &deadline)) != LDAP_SUCCESS) {
		snprintf(out->error, sizeof(out->error), "LDAP %.200s: anonymous bind: %s",
		         t->address, ldap_err2string(rc));
		goto out;
	}
	do_search(ld, t, username, &deadline, out);
out:
	ldap_unbind_ext_s(ld, NULL, NULL);
}
