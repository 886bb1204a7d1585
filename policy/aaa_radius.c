/*
 * aaa_radius.c: the RADIUS backend of AAA authorization through radcli (R47, D-2): one
 * Access-Request with User-Name and the password "cisco", the Cisco VSA 26/9/1 cisco-avpair
 * values "pki:NAME=VALUE" of the Access-Accept become the answer. Blocking; runs on a worker.
 */
#include <stdio.h>
#include <string.h>

#include <radcli/radcli.h>

#include "../common/util.h"
#include "aaa_int.h"

#define CISCO_VENDOR 9 /* IANA enterprise number */
#define CISCO_AVPAIR 1 /* cisco-avpair */

/*
 * The dictionary radcli needs: what radcli itself adds to a request and the Cisco VSA. Built
 * in, so that the daemon depends on no dictionary file (radcli skips reply attributes it does
 * not know, and without this vendor entry it would drop every cisco-avpair).
 */
static const char dictionary[] = "ATTRIBUTE\tUser-Name\t\t1\tstring\n"
                                 "ATTRIBUTE\tPassword\t\t2\tstring\n"
                                 "ATTRIBUTE\tNAS-IP-Address\t\t4\tipv4addr\n"
                                 "ATTRIBUTE\tNAS-Port-Id\t\t5\tinteger\n"
                                 "ATTRIBUTE\tService-Type\t\t6\tinteger\n"
                                 "ATTRIBUTE\tReply-Message\t\t18\tstring\n"
                                 "ATTRIBUTE\tState\t\t\t24\tstring\n"
                                 "ATTRIBUTE\tClass\t\t\t25\tstring\n"
                                 "ATTRIBUTE\tVendor-Specific\t\t26\tstring\n"
                                 "ATTRIBUTE\tNAS-Identifier\t\t32\tstring\n"
                                 "ATTRIBUTE\tProxy-State\t\t33\tstring\n"
                                 "ATTRIBUTE\tMessage-Authenticator\t80\tstring\n"
                                 "ATTRIBUTE\tNAS-IPv6-Address\t95\tipv6addr\n"
                                 "VENDOR\t\tCisco\t\t9\n"
                                 "ATTRIBUTE\tCisco-AVPair\t\t1\tstring\tCisco\n";

/* A configured radcli handle for one server, or NULL with out->error set. */
static rc_handle *
open_handle(const struct cv_aaa_target *t, struct cv_aaa_answer *out)
{
	char server[sizeof(t->address) + sizeof(t->secret) + 16], timeout[16];
	rc_handle *rh;

	/* radcli splits server lists on commas and blanks */
	if (t->secret[0] == '\0' || strpbrk(t->secret, ", \t") != NULL ||
	    strlen(t->secret) > MAX_SECRET_LENGTH || strpbrk(t->address, ", \t[]") != NULL) {
		snprintf(out->error, sizeof(out->error),
		         "RADIUS server or key not usable by radcli (blank, comma, or a key "
		         "longer than %d bytes)",
		         MAX_SECRET_LENGTH);
		return NULL;
	}
	snprintf(server, sizeof(server), strchr(t->address, ':') ? "[%s]:%u:%s" : "%s:%u:%s",
	         t->address, t->port, t->secret);
	snprintf(timeout, sizeof(timeout), "%u", t->timeout_s);
	if ((rh = rc_new()) == NULL || (rh = rc_config_init(rh)) == NULL) {
		snprintf(out->error, sizeof(out->error), "radcli: out of memory");
		return NULL;
	}
	if (rc_add_config(rh, "authserver", server, "certval", 0) != 0 ||
	    rc_add_config(rh, "radius_timeout", timeout, "certval", 0) != 0 ||
	    rc_add_config(rh, "radius_retries", "1", "certval", 0) != 0 ||
	    rc_add_config(rh, "radius_deadtime", "0", "certval", 0) != 0 ||
	    rc_apply_config(rh) != 0 ||
	    rc_read_dictionary_from_buffer(rh, dictionary, sizeof(dictionary) - 1) != 0) {
		snprintf(out->error, sizeof(out->error), "radcli: cannot configure server %.200s",
		         t->address);
		rc_destroy(rh);
		return NULL;
	}
	return rh;
}

/* The cisco-avpair values of an Access-Accept. */
static void
take_avpairs(VALUE_PAIR *received, struct cv_aaa_answer *out)
{
	VALUE_PAIR *vp;
	unsigned type, id, len;
	char *val;

	out->status = CV_AAA_ANSWERED;
	for (vp = received; vp != NULL; vp = rc_avpair_next(vp)) {
		rc_avpair_get_attr(vp, &type, &id);
		if (VENDOR(id) != CISCO_VENDOR || ATTRID(id) != CISCO_AVPAIR ||
		    rc_avpair_get_raw(vp, &val, &len) != 0)
			continue;
		if (cv_aaa_answer_add_text(out, val, len) < 0) {
			/* fail closed: dropping a pair could drop a cert-serial-not */
			out->status = CV_AAA_REFUSED;
			out->n_attrs = 0;
			snprintf(out->error, sizeof(out->error),
			         "Access-Accept with more than %d pki: pairs or a value longer "
			         "than %d bytes",
			         CV_AAA_ATTRS_MAX, CV_AAA_VALUE_MAX - 1);
			return;
		}
	}
}

void
cv_aaa_radius_run(const struct cv_aaa_target *t, const char *username, struct cv_aaa_answer *out)
{
	VALUE_PAIR *send = NULL, *received = NULL;
	char msg[PW_MAX_MSG_SIZE];
	rc_handle *rh;
	int rc;

	out->status = CV_AAA_UNREACHABLE;
	if (strlen(username) > AUTH_STRING_LEN) {
		out->status = CV_AAA_REFUSED;
		snprintf(out->error, sizeof(out->error),
		         "username longer than RADIUS allows (%d bytes)", AUTH_STRING_LEN);
		return;
	}
	if ((rh = open_handle(t, out)) == NULL)
		return;
	if (rc_avpair_add(rh, &send, PW_USER_NAME, username, -1, 0) == NULL ||
	    rc_avpair_add(rh, &send, PW_USER_PASSWORD, CV_AAA_RADIUS_PASSWORD, -1, 0) == NULL) {
		snprintf(out->error, sizeof(out->error), "radcli: cannot build the request");
		goto out;
	}
	msg[0] = '\0';
	rc = rc_aaa(rh, 0, send, &received, msg, 0, PW_ACCESS_REQUEST);
	switch (rc) {
	case OK_RC:
		take_avpairs(received, out);
		break;
	case REJECT_RC:
		out->status = CV_AAA_REFUSED;
		snprintf(out->error, sizeof(out->error), "Access-Reject from %.200s%s%.100s",
		         t->address, msg[0] ? ": " : "", msg);
		break;
	case CHALLENGE_RC:
		out->status = CV_AAA_REFUSED;
		snprintf(out->error, sizeof(out->error),
		         "Access-Challenge from %.200s (not supported)", t->address);
		break;
	case TIMEOUT_RC:
		snprintf(out->error, sizeof(out->error), "no answer from %.200s port %u in %u s",
		         t->address, t->port, t->timeout_s);
		break;
	case BADRESP_RC:
	case BADRESPID_RC:
		snprintf(out->error, sizeof(out->error),
		         "bad answer from %.200s port %u (wrong key?)", t->address, t->port);
		break;
	default:
		snprintf(out->error, sizeof(out->error), "cannot reach %.200s port %u", t->address,
		         t->port);
		break;
	}
out:
	rc_avpair_free(send);
	rc_avpair_free(received);
	rc_destroy(rh);
}
