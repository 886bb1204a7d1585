/* maps.c: evaluating certificate maps against a certificate (R31-R40, O-16, O-17). */
#include "maps.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "../common/util.h"

#define FIELD_TEXT_MAX 1024
#define SAN_MAX        64 /* subjectAltName entries looked at */

static const char OID_UNSTRUCTURED_NAME[] = "1.2.840.113549.1.9.2";

void
cv_map_normalize_name(const char *in, char *out, size_t out_len)
{
	size_t o = 0;

	if (out_len == 0)
		return;
	for (size_t i = 0; in[i] != '\0' && o + 1 < out_len; i++) {
		char c = in[i];

		if (c == ' ') {
			/* drop spaces next to '=' or ',' (on either side) */
			size_t j = i;

			while (in[j] == ' ')
				j++;
			if (in[j] == '=' || in[j] == ',' || in[j] == '\0' ||
			    (o > 0 && (out[o - 1] == '=' || out[o - 1] == ',')) || o == 0) {
				i = j - 1;
				continue;
			}
		}
		out[o++] = (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
	}
	out[o] = '\0';
}

/* eq/ne/co/nc on one text value; values are already normalised. */
static bool
text_test(enum cv_map_op op, const char *have, const char *want)
{
	switch (op) {
	case CV_MAP_EQ:
		return cv_strcasecmp(have, want) == 0;
	case CV_MAP_NE:
		return cv_strcasecmp(have, want) != 0;
	case CV_MAP_CO:
		return cv_strcasestr(have, want) != NULL;
	case CV_MAP_NC:
		return cv_strcasestr(have, want) == NULL;
	default:
		return false; /* lt/ge on text is refused at load; never match */
	}
}

static bool
date_test(enum cv_map_op op, cv_time have, cv_time want)
{
	switch (op) {
	case CV_MAP_EQ:
		return have == want;
	case CV_MAP_NE:
		return have != want;
	case CV_MAP_LT:
		return have < want;
	case CV_MAP_GE:
		return have >= want;
	default:
		return false;
	}
}

/* The subjectAltName entries as text (DNS, email, URI, IP), normalised to lower case. */
static size_t
san_entries(const struct cv_cert *cert, char out[][FIELD_TEXT_MAX], size_t max)
{
	const struct cv_cert_san *san = cv_cert_san(cert);
	size_t n = 0;

	for (size_t i = 0; n < max && i < san->n && i < SAN_MAX; i++) {
		const struct cv_cert_gn *gn = &san->v[i];
		char buf[FIELD_TEXT_MAX];

		if (gn->type == CV_GN_IP) {
			const int af = gn->len == 4 ? AF_INET : AF_INET6; /* 4 or 16 (cert.h) */

			if (inet_ntop(af, gn->val, out[n], FIELD_TEXT_MAX) == NULL)
				continue;
		} else if (gn->type == CV_GN_DNS || gn->type == CV_GN_RFC822 ||
		           gn->type == CV_GN_URI) {
			if (gn->len >= sizeof(buf) - 1)
				continue; /* longer than any name a map can test */
			memcpy(buf, gn->val, gn->len);
			buf[gn->len] = '\0';
			cv_map_normalize_name(buf, out[n], FIELD_TEXT_MAX);
		} else {
			continue;
		}
		n++;
	}
	return n;
}

static void
unstructured_name(const struct cv_cert *cert, char *out, size_t out_len)
{
	char buf[FIELD_TEXT_MAX];

	out[0] = '\0';
	if (cv_cert_subject_attr_text(cert, OID_UNSTRUCTURED_NAME, buf, sizeof(buf)) == 0)
		cv_map_normalize_name(buf, out, out_len);
}

/*
 * A multi-valued field (alt-subject-name, name) matches a positive test (eq, co) when any
 * value does, and a negative test (ne, nc) when every value does.
 */
static bool
multi_test(enum cv_map_op op, char values[][FIELD_TEXT_MAX], size_t n, const char *want)
{
	const bool negative = op == CV_MAP_NE || op == CV_MAP_NC;

	for (size_t i = 0; i < n; i++) {
		const bool ok = text_test(op, values[i], want);

		if (!negative && ok)
			return true;
		if (negative && !ok)
			return false;
	}
	return negative;
}

bool
cv_map_line_matches(const struct cv_map_line *line, const struct cv_cert *cert)
{
	char text[FIELD_TEXT_MAX];
	char values[SAN_MAX + 1][FIELD_TEXT_MAX];
	size_t n;

	switch (line->field) {
	case CV_MAP_SUBJECT_NAME:
		cv_map_normalize_name(cv_cert_subject(cert), text, sizeof(text));
		return text_test(line->op, text, line->value);
	case CV_MAP_ISSUER_NAME:
		cv_map_normalize_name(cv_cert_issuer(cert), text, sizeof(text));
		return text_test(line->op, text, line->value);
	case CV_MAP_UNSTRUCTURED_SUBJECT_NAME:
		unstructured_name(cert, text, sizeof(text));
		return text_test(line->op, text, line->value);
	case CV_MAP_SERIAL_NUMBER:
		return text_test(line->op, cv_cert_serial(cert), line->value);
	case CV_MAP_ALT_SUBJECT_NAME:
		n = san_entries(cert, values, SAN_MAX);
		return multi_test(line->op, values, n, line->value);
	case CV_MAP_NAME:
		cv_map_normalize_name(cv_cert_subject(cert), values[0], FIELD_TEXT_MAX);
		n = 1 + san_entries(cert, values + 1, SAN_MAX);
		return multi_test(line->op, values, n, line->value);
	case CV_MAP_EXPIRES_ON:
		return date_test(line->op, cv_cert_not_after(cert), line->date);
	case CV_MAP_VALID_START:
		return date_test(line->op, cv_cert_not_before(cert), line->date);
	}
	return false;
}

bool
cv_map_entry_matches(const struct cv_map_entry *entry, const struct cv_cert *cert, char *why,
                     size_t why_len)
{
	for (size_t i = 0; i < entry->n_lines; i++) {
		const struct cv_map_line *line = &entry->lines[i];

		if (!cv_map_line_matches(line, cert)) {
			if (why != NULL)
				snprintf(why, why_len, "map %s seq %u: line %u `%s %s %s` failed",
				         entry->label, entry->seq, line->line,
				         cv_map_field_name(line->field), cv_map_op_name(line->op),
				         line->value != NULL ? line->value : "");
			return false;
		}
	}
	return true;
}

const struct cv_map_entry *
cv_map_label_match(const struct cv_config *cfg, const char *label, const struct cv_cert *cert,
                   char *why, size_t why_len)
{
	size_t count = 0;
	const struct cv_map_entry *first = cv_config_map_first(cfg, label, &count);

	if (first == NULL || count == 0) {
		if (why != NULL)
			snprintf(why, why_len, "certificate map %s is not defined", label);
		return NULL;
	}
	for (size_t i = 0; i < count; i++)
		if (cv_map_entry_matches(&first[i], cert, why, why_len))
			return &first[i];
	return NULL;
}

static void
apply_rule(const struct cv_match_rule *rule, const struct cv_map_entry *entry,
           struct cv_map_outcome *out)
{
	if ((size_t)rule->kind < CV_ARRAY_LEN(out->modifier_match) &&
	    out->modifier_match[rule->kind] == NULL)
		out->modifier_match[rule->kind] = entry;
	switch (rule->kind) {
	case CV_MATCH_ACL:
		if (out->acl_match == NULL)
			out->acl_match = entry;
		break;
	case CV_MATCH_ALLOW_EXPIRED:
		out->allow_expired = true;
		break;
	case CV_MATCH_SKIP_REVOCATION:
		out->skip_revocation = true;
		break;
	case CV_MATCH_SKIP_AUTHORIZATION:
		out->skip_authorization = true;
		break;
	case CV_MATCH_OVERRIDE_CDP:
		if (out->override_cdp == NULL)
			out->override_cdp = rule;
		break;
	case CV_MATCH_OVERRIDE_OCSP:
		if (out->override_ocsp == NULL || rule->ocsp_seq < out->override_ocsp->ocsp_seq) {
			out->override_ocsp = rule;
			out->modifier_match[rule->kind] = entry; /* the map of the rule used */
		}
		break;
	}
}

void
cv_map_evaluate(const struct cv_config *cfg, const struct cv_rev_settings *rev,
                const struct cv_cert *cert, struct cv_map_outcome *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < rev->n_matches; i++) {
		const struct cv_match_rule *rule = &rev->matches[i];
		char why[CV_MAP_WHY_MAX] = "";
		const struct cv_map_entry *entry =
		    cv_map_label_match(cfg, rule->label, cert, why, sizeof(why));

		if (out->undefined == NULL && cv_config_map_first(cfg, rule->label, NULL) == NULL)
			out->undefined = rule;

		if (rule->kind == CV_MATCH_ACL) {
			out->acl_configured = true;
			if (entry == NULL && out->acl_match == NULL)
				cv_strlcpy(out->why, why, sizeof(out->why));
		}
		if (entry != NULL)
			apply_rule(rule, entry, out);
	}
}
