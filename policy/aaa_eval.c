/*
 * aaa_eval.c: the AAA username of a certificate (R42), the pki: AV pairs as text, and
 * their evaluation against the certificate with the manuals' trace wording (R43-R46, O-21).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../common/util.h"
#include "aaa_int.h"

/* ---- the username (R42) ---- */

static const char *
field_oid(enum cv_subject_field field)
{
	switch (field) {
	case CV_SUBJ_COMMONNAME:
		return GNUTLS_OID_X520_COMMON_NAME; /* 2.5.4.3 */
	case CV_SUBJ_COUNTRY:
		return GNUTLS_OID_X520_COUNTRY_NAME; /* 2.5.4.6 */
	case CV_SUBJ_EMAIL:
		return GNUTLS_OID_PKCS9_EMAIL; /* 1.2.840.113549.1.9.1 */
	case CV_SUBJ_IPADDRESS:
		/* IOS puts the device's address in unstructuredAddress (PKCS #9). */
		return "1.2.840.113549.1.9.8";
	case CV_SUBJ_LOCALITY:
		return GNUTLS_OID_X520_LOCALITY_NAME; /* 2.5.4.7 */
	case CV_SUBJ_ORGANIZATION:
		return GNUTLS_OID_X520_ORGANIZATION_NAME; /* 2.5.4.10 */
	case CV_SUBJ_ORGANIZATIONALUNIT:
		return GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME; /* 2.5.4.11 */
	case CV_SUBJ_POSTALCODE:
		return "2.5.4.17";
	case CV_SUBJ_SERIALNUMBER:
		return "2.5.4.5";
	case CV_SUBJ_STATE:
		return GNUTLS_OID_X520_STATE_OR_PROVINCE_NAME; /* 2.5.4.8 */
	case CV_SUBJ_STREETADDRESS:
		return "2.5.4.9";
	case CV_SUBJ_TITLE:
		return GNUTLS_OID_X520_TITLE; /* 2.5.4.12 */
	case CV_SUBJ_UNSTRUCTUREDNAME:
		return "1.2.840.113549.1.9.2";
	case CV_SUBJ_ALL:
		break;
	}
	return NULL;
}

int
cv_aaa_username(const struct cv_cert *cert, enum cv_subject_field field, char *out, size_t out_len)
{
	const char *oid;
	int rc;

	if (out_len == 0)
		return -1;
	out[0] = '\0';
	if (field == CV_SUBJ_ALL) {
		if (cv_strlcpy(out, cv_cert_subject(cert), out_len) >= out_len || out[0] == '\0')
			goto fail;
		return 0;
	}
	if ((oid = field_oid(field)) == NULL)
		return -1;
	rc = cv_cert_subject_attr_string(cert, oid, out, out_len);
	/* other string types (BMPString, UniversalString): converted for known OIDs */
	if (rc < 0 && (cv_cert_subject_attr_text(cert, oid, out, out_len) < 0 || out[0] == '#'))
		goto fail;
	if (rc == 0 || out[0] == '\0')
		goto fail;
	return 0;
fail:
	out[0] = '\0';
	return -1;
}

/* ---- AV pairs as text ---- */

int
cv_aaa_answer_add(struct cv_aaa_answer *a, const char *name, const char *value)
{
	struct cv_aaa_attr_pair *p;

	if (a->n_attrs >= CV_AAA_ATTRS_MAX)
		return -1;
	p = &a->attrs[a->n_attrs];
	if (cv_strlcpy(p->name, name, sizeof(p->name)) >= sizeof(p->name) ||
	    cv_strlcpy(p->value, value, sizeof(p->value)) >= sizeof(p->value))
		return -1;
	a->n_attrs++;
	return 0;
}

/* Skips prefix (ASCII case-insensitive) at *s; returns 1 when it was there. */
static int
skip_prefix(const char **s, size_t *len, const char *prefix)
{
	size_t n = strlen(prefix);

	if (*len < n || strncasecmp(*s, prefix, n) != 0)
		return 0;
	*s += n;
	*len -= n;
	return 1;
}

int
cv_aaa_answer_add_text(struct cv_aaa_answer *a, const char *text, size_t len)
{
	char name[64], value[CV_AAA_VALUE_MAX];
	const char *eq;
	size_t nlen, vlen, i;

	/* "cisco-avpair=pki:...", "cisco-avpair+=pki:...", as some servers store them */
	if (skip_prefix(&text, &len, "cisco-avpair") && !skip_prefix(&text, &len, "+=") &&
	    !skip_prefix(&text, &len, "="))
		return 0;
	if (!skip_prefix(&text, &len, "pki:"))
		return 0;
	if ((eq = memchr(text, '=', len)) == NULL || eq == text)
		return 0;
	nlen = (size_t)(eq - text);
	vlen = len - nlen - 1;
	if (nlen >= sizeof(name) || vlen >= sizeof(value))
		return -1;
	for (i = 0; i < nlen; i++)
		name[i] = (char)tolower((unsigned char)text[i]);
	name[nlen] = '\0';
	memcpy(value, eq + 1, vlen);
	value[vlen] = '\0';
	if (memchr(value, '\0', vlen) != NULL) /* embedded NUL: refuse, never truncate */
		return -1;
	return cv_aaa_answer_add(a, name, value) < 0 ? -1 : 1;
}

/* ---- evaluation (R43-R46) ---- */

/* The serial as cv_cert_serial writes it (upper-case hex, no separators or leading zeros). */
static int
norm_serial(const char *in, size_t len, char *out, size_t out_len)
{
	size_t n = 0, i = 0;

	while (i < len && (in[i] == '0' || in[i] == ':' || in[i] == ' '))
		i++;
	for (; i < len; i++) {
		if (in[i] == ':' || in[i] == ' ')
			continue;
		if (!isxdigit((unsigned char)in[i]) || n + 1 >= out_len)
			return -1;
		out[n++] = (char)toupper((unsigned char)in[i]);
	}
	if (n == 0) {
		if (len == 0 || out_len < 2)
			return -1;
		out[n++] = '0'; /* all zeros */
	}
	out[n] = '\0';
	return 0;
}

static const struct cv_aaa_attr_pair *
find_attr(const struct cv_aaa_answer *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->n_attrs; i++)
		if (strcmp(a->attrs[i].name, name) == 0)
			return &a->attrs[i];
	return NULL;
}

/* cert-application (R43, O-21): `all`, or the request's own application label. */
static int
check_application(const struct cv_aaa_answer *a, const char *application, struct cv_verdict *v,
                  struct cv_failure *f)
{
	int found = 0, granted = 0;
	size_t i;

	for (i = 0; i < a->n_attrs; i++) {
		const char *val = a->attrs[i].value;

		if (strcmp(a->attrs[i].name, "cert-application") != 0)
			continue;
		found = 1;
		if (cv_strcasecmp(val, "none") == 0) {
			cv_verdict_trace(v, "aaa", "cert-application is \"none\". Failing.");
			cv_failure_set(f, CV_REASON_AAA_DENIED, "cert-application", 0, NULL,
			               "AAA says cert-application none");
			return -1;
		}
		if (cv_strcasecmp(val, "all") == 0 ||
		    (application != NULL && application[0] != '\0' &&
		     cv_strcasecmp(val, application) == 0))
			granted = 1;
	}
	if (!found) {
		cv_verdict_trace(v, "aaa", "No cert-application attribute found. Failing.");
		cv_failure_set(f, CV_REASON_AAA_DENIED, "cert-application", 0, NULL,
		               "the AAA answer has no cert-application attribute");
		return -1;
	}
	if (!granted) {
		cv_verdict_trace(v, "aaa", "cert-application doesn't match (\"%s\")",
		                 application != NULL && application[0] ? application : "<none>");
		cv_failure_set(f, CV_REASON_AAA_DENIED, "cert-application", 0, NULL,
		               "cert-application does not authorize application \"%.60s\"",
		               application != NULL && application[0] ? application : "<none>");
		return -1;
	}
	return 0;
}

/* cert-trustpoint (R44): the anchoring trustpoint's label, case-sensitive like every label. */
static int
check_trustpoint(const struct cv_aaa_answer *a, const char *trustpoint, struct cv_verdict *v,
                 struct cv_failure *f)
{
	const struct cv_aaa_attr_pair *p = find_attr(a, "cert-trustpoint");

	if (p == NULL || (trustpoint != NULL && strcmp(p->value, trustpoint) == 0))
		return 0;
	cv_verdict_trace(v, "aaa", "cert-trustpoint doesn't match (\"%s\" != \"%s\")", p->value,
	                 trustpoint != NULL ? trustpoint : "");
	cv_failure_set(f, CV_REASON_AAA_DENIED, "cert-trustpoint", 0, NULL,
	               "AAA requires trustpoint %.63s, the chain is anchored at %.63s", p->value,
	               trustpoint != NULL ? trustpoint : "none");
	return -1;
}

/* cert-serial (R44). */
static int
check_serial(const struct cv_aaa_answer *a, const char *serial, struct cv_verdict *v,
             struct cv_failure *f)
{
	const struct cv_aaa_attr_pair *p = find_attr(a, "cert-serial");
	char want[CV_SERIAL_MAX];

	if (p == NULL)
		return 0;
	if (norm_serial(p->value, strlen(p->value), want, sizeof(want)) == 0 &&
	    strcmp(want, serial) == 0)
		return 0;
	cv_verdict_trace(v, "aaa", "cert-serial doesn't match (\"%s\" != \"%s\")", p->value,
	                 serial);
	cv_failure_set(f, CV_REASON_AAA_DENIED, "cert-serial", 0, NULL,
	               "AAA requires serial %.80s, the certificate has %.80s", p->value, serial);
	return -1;
}

/*
 * cert-serial-not (R46, O-21): every attribute, each a list separated by commas or spaces.
 * A match is traced with the manual's own (odd) wording.
 */
static int
check_serial_not(const struct cv_aaa_answer *a, const char *serial, struct cv_verdict *v,
                 struct cv_failure *f)
{
	static const char seps[] = ", \t";
	char one[CV_SERIAL_MAX];
	size_t i, len;

	for (i = 0; i < a->n_attrs; i++) {
		const char *s = a->attrs[i].value;

		if (strcmp(a->attrs[i].name, "cert-serial-not") != 0)
			continue;
		while (*s != '\0') {
			s += strspn(s, seps);
			len = strcspn(s, seps);
			if (len == 0)
				break;
			if (norm_serial(s, len, one, sizeof(one)) == 0 &&
			    strcmp(one, serial) == 0) {
				cv_verdict_trace(v, "aaa",
				                 "cert-serial doesn't match (\"%s\" != \"%s\")",
				                 one, serial);
				cv_failure_set(f, CV_REASON_AAA_DENIED, "cert-serial-not", 0, NULL,
				               "serial %.80s is excluded by AAA (cert-serial-not)",
				               serial);
				return -1;
			}
			s += len;
		}
	}
	return 0;
}

/*
 * "hours:minutes month day, year" (R45): "1:00 jan 1, 2003"; only the first three letters of
 * the month count ("Janxxxx"). The comma is optional. Local time at tz_offset_min.
 */
static int
parse_lifetime_end(const char *text, int tz_offset_min, cv_time *out)
{
	static const char months[][4] = {"jan", "feb", "mar", "apr", "may", "jun",
	                                 "jul", "aug", "sep", "oct", "nov", "dec"};
	char mon[16], tail;
	int hour, min, day, year, m, n = 0;
	cv_time t;

	if (sscanf(text, " %2d:%2d %15[A-Za-z] %2d%n", &hour, &min, mon, &day, &n) != 4 || n == 0)
		return -1;
	text += n;
	if (*text == ',')
		text++;
	n = 0;
	if (sscanf(text, " %4d%n", &year, &n) != 1 || n == 0 || sscanf(text + n, " %c", &tail) == 1)
		return -1;
	if (strlen(mon) < 3 || hour < 0 || hour > 23 || min < 0 || min > 59 || year < 1970)
		return -1;
	for (m = 0; m < 12; m++)
		if (strncasecmp(mon, months[m], 3) == 0)
			break;
	if (m == 12 || cv_time_from_utc(year, m + 1, day, hour, min, 0, &t) < 0)
		return -1;
	*out = t - (cv_time)tz_offset_min * 60;
	return 0;
}

/* "01:00:00 Jan 1 2003" for a local time given as seconds since the epoch. */
static void
local_text(cv_time t, char *out, size_t out_len)
{
	static const char months[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL) {
		cv_strlcpy(out, "?", out_len);
		return;
	}
	snprintf(out, out_len, "%02d:%02d:%02d %s %d %d", tm.tm_hour, tm.tm_min, tm.tm_sec,
	         months[tm.tm_mon], tm.tm_mday, tm.tm_year + 1900);
}

/* cert-lifetime-end (R45, O-21). */
static int
check_lifetime_end(const struct cv_aaa_answer *a, cv_time at, int tz_offset_min,
                   cv_time *lifetime_end, struct cv_verdict *v, struct cv_failure *f)
{
	const struct cv_aaa_attr_pair *p = find_attr(a, "cert-lifetime-end");
	char text[48];
	cv_time end;
	int off = tz_offset_min < 0 ? -tz_offset_min : tz_offset_min;

	if (p == NULL)
		return 0;
	if (parse_lifetime_end(p->value, tz_offset_min, &end) < 0) {
		cv_verdict_trace(v, "aaa", "cannot parse cert-lifetime-end \"%s\"", p->value);
		cv_failure_set(f, CV_REASON_AAA_DENIED, "cert-lifetime-end", 0, NULL,
		               "cert-lifetime-end \"%.80s\" is not \"hours:minutes month day, "
		               "year\"",
		               p->value);
		return -1;
	}
	*lifetime_end = end;
	local_text(end + (cv_time)tz_offset_min * 60, text, sizeof(text));
	cv_verdict_trace(v, "aaa", "parsed cert-lifetime-end as: %s UTC%c%02d:%02d", text,
	                 tz_offset_min < 0 ? '-' : '+', off / 60, off % 60);
	if (tz_offset_min != 0)
		cv_verdict_trace(v, "aaa", "timezone specific extended");
	if (find_attr(a, "cert-trustpoint") == NULL || find_attr(a, "cert-serial") == NULL) {
		cv_verdict_trace(
		    v, "aaa", "cert-lifetime-end needs cert-trustpoint and cert-serial. Failing.");
		cv_failure_set(f, CV_REASON_AAA_DENIED, "cert-lifetime-end-incomplete", 0, NULL,
		               "cert-lifetime-end without cert-trustpoint and cert-serial "
		               "(AAA misconfiguration)");
		return -1;
	}
	if (at >= end) {
		cv_verdict_trace(v, "aaa", "cert-lifetime-end is expired");
		cv_verdict_trace(v, "aaa", "cert-lifetime-end check failed.");
		cv_failure_set(f, CV_REASON_AAA_DENIED, "cert-lifetime-end", 0, NULL,
		               "cert-lifetime-end %.40s has passed", p->value);
		return -1;
	}
	return 0;
}

int
cv_aaa_evaluate(const struct cv_aaa_answer *answer, const struct cv_cert *cert,
                const char *trustpoint, const char *application, cv_time at, int tz_offset_min,
                cv_time *lifetime_end, struct cv_verdict *v, struct cv_failure *failure)
{
	const char *serial = cv_cert_serial(cert);
	size_t i;

	*lifetime_end = CV_TIME_NONE;
	if (answer->status != CV_AAA_ANSWERED) {
		/* The manuals' trace of a refused (or unanswered) authorization. */
		cv_verdict_trace(v, "aaa",
		                 "authorization declined by AAA, or AAA server not found.");
		cv_verdict_trace(v, "aaa", "No cert-application attribute found. Failing.");
		cv_failure_set(failure, CV_REASON_AAA_DENIED,
		               answer->status == CV_AAA_REFUSED ? "aaa-refused" : "aaa-unreachable",
		               0, NULL, "%s%s%.200s",
		               answer->status == CV_AAA_REFUSED ? "AAA refused the user"
		                                                : "no AAA method answered",
		               answer->error[0] ? ": " : "", answer->error);
		return -1;
	}
	/* As the manuals show them; cert-lifetime-end is traced as "parsed ... as" instead. */
	for (i = 0; i < answer->n_attrs; i++)
		if (strcmp(answer->attrs[i].name, "cert-lifetime-end") != 0)
			cv_verdict_trace(v, "aaa", "reply attribute (\"%s\" = \"%s\")",
			                 answer->attrs[i].name, answer->attrs[i].value);
	if (check_application(answer, application, v, failure) < 0 ||
	    check_trustpoint(answer, trustpoint, v, failure) < 0 ||
	    check_serial(answer, serial, v, failure) < 0 ||
	    check_serial_not(answer, serial, v, failure) < 0 ||
	    check_lifetime_end(answer, at, tz_offset_min, lifetime_end, v, failure) < 0)
		return -1;
	return 0;
}
