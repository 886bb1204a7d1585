/*
 * test_engine.c: the decision pipeline of policy/engine.c driven with real configurations and
 * certificates: trustpoint selection, chain-validation, certificate maps and their modifiers,
 * the revocation method order, AAA fail-closed, and the trace wording.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "../../common/util.h"
#include "../../policy/config.h"
#include "../../policy/engine.h"
#include "../../policy/maps.h"
#include "../support/check.h"
#include "../support/testpki.h"

static char tmpdir[] = "/tmp/certval-engine-XXXXXX";
static cv_time now;

/* The PKI of every test: Root -> Sub -> {hub, spoke, expired}; Other is an unrelated root. */
static struct tp_entity root, sub, hub, spoke, expired, other_root, other_leaf;
static char root_pem[256], sub_pem[256], other_pem[256];

struct outcome {
	enum cv_decision decision;
	enum cv_reason reason;
	char detail[CV_DETAIL_MAX];
	char trustpoint[CV_LABEL_MAX];
	char map_label[CV_LABEL_MAX];
	int map_seq;
	enum cv_revocation revocation;
	bool failed_open;
	bool expiry_overridden;
	size_t n_path;
	char trace[8192];
	bool called;
};

static void
on_done(const struct cv_verdict *v, void *arg)
{
	struct outcome *o = arg;
	size_t used = 0;

	o->called = true;
	o->decision = v->decision;
	o->reason = v->reason;
	cv_strlcpy(o->detail, v->detail, sizeof(o->detail));
	cv_strlcpy(o->trustpoint, v->trustpoint, sizeof(o->trustpoint));
	cv_strlcpy(o->map_label, v->map_label, sizeof(o->map_label));
	o->map_seq = v->map_seq;
	o->revocation = v->revocation;
	o->failed_open = v->failed_open;
	o->expiry_overridden = v->expiry_overridden;
	o->n_path = v->n_path;
	for (size_t i = 0; i < v->n_trace && used + 2 < sizeof(o->trace); i++) {
		int n =
		    snprintf(o->trace + used, sizeof(o->trace) - used, "%s\n", v->trace[i].text);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static struct cv_config *config_from(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static struct cv_config *
config_from(const char *fmt, ...)
{
	char text[8192];
	struct cv_config *cfg = NULL;
	struct cv_error err = {{0}};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (cv_config_parse("test.conf", text, strlen(text), &cfg, &err) < 0) {
		fprintf(stderr, "config error: %s\n--- config ---\n%s\n", err.msg, text);
		return NULL;
	}
	return cfg;
}

/* Runs one request; chain is NULL-terminated, trustpoint may be NULL (any). */
static struct outcome
run(struct cv_config *cfg, const char *trustpoint, struct tp_entity *const *chain)
{
	struct outcome o;
	struct event_base *base = event_base_new();
	struct cv_engine *engine;
	struct cv_request req;

	memset(&o, 0, sizeof(o));
	o.decision = CV_DECISION_ACCEPT; /* must be overwritten */
	engine = cv_engine_new(base, cfg, NULL);
	cv_request_init(&req);
	req.at = now;
	for (size_t i = 0; chain[i] != NULL; i++)
		cv_cert_list_push(&req.chain, chain[i]->cert);
	if (trustpoint != NULL) {
		cv_strlcpy(req.trustpoints[0], trustpoint, sizeof(req.trustpoints[0]));
		req.n_trustpoints = 1;
	}
	CHECK_INT_EQ(cv_engine_verify(engine, &req, on_done, &o), 0);
	while (!o.called && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	CHECK(o.called);
	cv_request_free(&req);
	cv_engine_free(engine);
	event_base_free(base);
	return o;
}

static void
make_pki(void)
{
	struct tp_spec s;

	tp_spec_ca(&s, "CN=Test Root,O=Home Office Inc", now);
	CHECK_INT_EQ(tp_issue(&root, &s, NULL), 0);
	tp_spec_ca(&s, "CN=Test Sub,O=Home Office Inc", now);
	CHECK_INT_EQ(tp_issue(&sub, &s, &root), 0);
	tp_spec_leaf(&s, "CN=Central VPN Gateway,OU=WAN,O=Home Office Inc", now);
	s.serial = 0x1279D0;
	s.dns[0] = "hub.example.net";
	s.ip[0] = "192.0.2.1";
	s.email[0] = "vpn@example.net";
	CHECK_INT_EQ(tp_issue(&hub, &s, &sub), 0);
	tp_spec_leaf(&s, "CN=Spoke 7,O=Cisco", now);
	s.serial = 0x4ACA;
	s.dns[0] = "spoke7.example.net";
	CHECK_INT_EQ(tp_issue(&spoke, &s, &sub), 0);
	tp_spec_leaf(&s, "CN=Branch 1,O=Cisco", now);
	s.not_before = now - 400 * 86400;
	s.not_after = now - 86400;
	CHECK_INT_EQ(tp_issue(&expired, &s, &sub), 0);
	tp_spec_ca(&s, "CN=Other Root", now);
	CHECK_INT_EQ(tp_issue(&other_root, &s, NULL), 0);
	tp_spec_leaf(&s, "CN=Other Peer", now);
	CHECK_INT_EQ(tp_issue(&other_leaf, &s, &other_root), 0);

	snprintf(root_pem, sizeof(root_pem), "%s/root.pem", tmpdir);
	snprintf(sub_pem, sizeof(sub_pem), "%s/sub.pem", tmpdir);
	snprintf(other_pem, sizeof(other_pem), "%s/other.pem", tmpdir);
	CHECK_INT_EQ(tp_write_cert_pem(&root, root_pem), 0);
	CHECK_INT_EQ(tp_write_cert_pem(&sub, sub_pem), 0);
	CHECK_INT_EQ(tp_write_cert_pem(&other_root, other_pem), 0);
}

/* ---- certificate-map fields and operators (SPEC R32-R35, O-16) ---- */

struct map_case {
	const char *line;
	bool hub_matches; /* does the hub's certificate satisfy it? */
};

static void
test_map_fields(void)
{
	char expires_lt[64], expires_ge[64], start_ge[64], start_lt[64];
	const struct map_case cases[] = {
	    {"subject-name co central vpn", true},
	    {"Subject-Name CO Central VPN", true},
	    {"subject-name eq cn = central vpn gateway, ou = wan, o = home office inc", true},
	    {"subject-name eq cn=central vpn gateway", false},
	    {"subject-name ne cn=central vpn gateway", true},
	    {"subject-name nc ou=wan", false},
	    {"subject-name nc ou=lan", true},
	    {"issuer-name eq cn=test sub,o=home office inc", true},
	    {"issuer-name co test root", false},
	    {"serial-number eq 1279D0", true},
	    {"serial-number eq 1279d0", true},
	    {"serial-number co 279d", true},
	    {"serial-number eq 4ACA", false},
	    {"serial-number nc 4aca", true},
	    {"alt-subject-name eq hub.example.net", true},
	    {"alt-subject-name co 192.0.2.1", true},
	    {"alt-subject-name eq vpn@example.net", true},
	    {"alt-subject-name eq spoke7.example.net", false},
	    {"alt-subject-name ne spoke7.example.net", true},
	    {"name co hub.example", true},
	    {"name co central vpn", true},
	    {"name eq nothing.example", false},
	    {"unstructured-subject-name co router", false},
	    {expires_lt, true},
	    {expires_ge, false},
	    {start_ge, true},
	    {start_lt, false},
	};

	/* hub: notBefore = now - 1 day, notAfter = now + 1 year (tp_spec_leaf). */
	snprintf(expires_lt, sizeof(expires_lt), "expires-on lt 01 01 %d 00:00:00",
	         1970 + (int)((now + 3 * 365 * 86400LL) / (365.2425 * 86400)));
	snprintf(expires_ge, sizeof(expires_ge), "expires-on ge jan 01 %d 00:00:00",
	         1970 + (int)((now + 3 * 365 * 86400LL) / (365.2425 * 86400)));
	snprintf(start_ge, sizeof(start_ge), "valid-start ge 01 01 2003 00:00:00");
	snprintf(start_lt, sizeof(start_lt), "valid-start lt jan 01 2003 00:00:00");

	for (size_t i = 0; i < CV_ARRAY_LEN(cases); i++) {
		struct cv_config *cfg = config_from("crypto pki certificate map M 10\n %s\n"
		                                    "crypto pki trustpoint T\n ca-certificate %s\n"
		                                    " match certificate M\n",
		                                    cases[i].line, root_pem);
		size_t count = 0;
		const struct cv_map_entry *e =
		    cfg != NULL ? cv_config_map_first(cfg, "M", &count) : NULL;
		char why[CV_MAP_WHY_MAX] = "";
		const bool got = e != NULL && cv_map_entry_matches(e, hub.cert, why, sizeof(why));

		if (got != cases[i].hub_matches)
			fprintf(stderr, "map line `%s`: expected %s (%s)\n", cases[i].line,
			        cases[i].hub_matches ? "match" : "no match", why);
		CHECK(e != NULL);
		CHECK(got == cases[i].hub_matches);
		cv_config_unref(cfg);
	}
}

/* Lines of one entry are ANDed, entries of one label ORed in SEQ order (R35). */
static void
test_map_and_or(void)
{
	struct tp_entity *hub_chain[] = {&hub, &sub, NULL};
	struct tp_entity *spoke_chain[] = {&spoke, &sub, NULL};
	struct cv_config *cfg = config_from("crypto pki certificate map G 10\n"
	                                    " subject-name co ou=wan\n"
	                                    " subject-name co o=home office\n"
	                                    "crypto pki trustpoint T\n ca-certificate %s\n"
	                                    " revocation-check none\n match certificate G\n",
	                                    root_pem);
	struct outcome o = run(cfg, "T", hub_chain);

	CHECK_INT_EQ(o.decision, CV_DECISION_ACCEPT);
	CHECK_STR_EQ(o.map_label, "G");
	CHECK_INT_EQ(o.map_seq, 10);
	CHECK(strstr(o.trace, "certificate map G seq 10 matched") != NULL);
	o = run(cfg, "T", spoke_chain);
	CHECK_INT_EQ(o.decision, CV_DECISION_REJECT);
	CHECK_INT_EQ(o.reason, CV_REASON_NOT_AUTHORIZED);
	CHECK(strstr(o.trace, "no certificate map matched") != NULL);
	cv_config_unref(cfg);

	cfg = config_from("crypto pki certificate map G 10\n subject-name co ou=wan\n"
	                  " subject-name co o=cisco\n"
	                  "crypto pki certificate map G 20\n subject-name co o=cisco\n"
	                  "crypto pki trustpoint T\n ca-certificate %s\n revocation-check none\n"
	                  " match certificate G\n",
	                  root_pem);
	o = run(cfg, "T", spoke_chain);
	CHECK_INT_EQ(o.decision, CV_DECISION_ACCEPT);
	CHECK_INT_EQ(o.map_seq, 20);
	o = run(cfg, "T", hub_chain);
	CHECK_INT_EQ(o.decision, CV_DECISION_REJECT);
	cv_config_unref(cfg);
}

/* R38: allow expired-certificate admits the matching expired leaf only. */
static void
test_allow_expired(void)
{
	struct tp_entity *expired_chain[] = {&expired, &sub, NULL};
	struct cv_config *cfg = config_from("crypto pki certificate map B1 10\n"
	                                    " subject-name co branch 1\n"
	                                    "crypto pki trustpoint T\n ca-certificate %s\n"
	                                    " revocation-check none\n"
	                                    " match certificate B1 allow expired-certificate\n",
	                                    root_pem);
	struct outcome o = run(cfg, "T", expired_chain);

	CHECK_INT_EQ(o.decision, CV_DECISION_ACCEPT);
	CHECK(o.expiry_overridden);
	CHECK(strstr(o.trace, "allow expired-certificate") != NULL);
	cv_config_unref(cfg);

	cfg = config_from("crypto pki certificate map B2 10\n subject-name co branch 2\n"
	                  "crypto pki trustpoint T\n ca-certificate %s\n revocation-check none\n"
	                  " match certificate B2 allow expired-certificate\n",
	                  root_pem);
	o = run(cfg, "T", expired_chain);
	CHECK_INT_EQ(o.decision, CV_DECISION_REJECT);
	CHECK_INT_EQ(o.reason, CV_REASON_EXPIRED);
	CHECK(!o.expiry_overridden);
	cv_config_unref(cfg);
}

/* R14, R39: method order, `none` fails open, skip revocation-check by map. */
static void
test_revocation_order(void)
{
	struct tp_entity *hub_chain[] = {&hub, &sub, NULL};
	struct tp_entity *spoke_chain[] = {&spoke, &sub, NULL};
	struct cv_config *cfg = config_from("crypto pki certificate map CENTRAL 10\n"
	                                    " subject-name co central vpn\n"
	                                    "crypto pki trustpoint T\n ca-certificate %s\n"
	                                    " revocation-check crl\n"
	                                    " match certificate CENTRAL skip revocation-check\n",
	                                    root_pem);
	struct outcome o = run(cfg, "T", hub_chain);

	CHECK_INT_EQ(o.decision, CV_DECISION_ACCEPT);
	CHECK_INT_EQ(o.revocation, CV_REVOCATION_SKIPPED_BY_MAP);
	CHECK(!o.failed_open);
	o = run(cfg, "T", spoke_chain); /* no CDP, no CRL: the only method errors */
	CHECK_INT_EQ(o.decision, CV_DECISION_REJECT);
	CHECK_INT_EQ(o.reason, CV_REASON_REVOCATION_UNAVAILABLE);
	cv_config_unref(cfg);

	cfg = config_from("crypto pki trustpoint T\n ca-certificate %s\n"
	                  " revocation-check crl none\n",
	                  root_pem);
	o = run(cfg, "T", spoke_chain);
	CHECK_INT_EQ(o.decision, CV_DECISION_ACCEPT);
	CHECK_INT_EQ(o.revocation, CV_REVOCATION_UNCHECKED_NONE);
	CHECK(o.failed_open);
	CHECK(strstr(o.trace, "cert revocation status unknown.") != NULL);
	CHECK(strstr(o.trace, "Certificate validated without revocation check") != NULL);
	cv_config_unref(cfg);

	/* legacy `crl optional` is `revocation-check none` (R15) */
	cfg = config_from("crypto ca trustpoint T\n ca-certificate %s\n crl optional\n", root_pem);
	o = run(cfg, "T", spoke_chain);
	CHECK_INT_EQ(o.decision, CV_DECISION_ACCEPT);
	CHECK_INT_EQ(o.revocation, CV_REVOCATION_UNCHECKED_NONE);
	cv_config_unref(cfg);
}

/* R40, R41: AAA fails closed; skip authorization-check lets the matching peer through. */
static void
test_authorization(void)
{
	struct tp_entity *hub_chain[] = {&hub, &sub, NULL};
	struct tp_entity *spoke_chain[] = {&spoke, &sub, NULL};
	struct cv_config *cfg = config_from("aaa authorization list L local\n"
	                                    "crypto pki certificate map CENTRAL 10\n"
	                                    " subject-name co central vpn\n"
	                                    "crypto pki trustpoint T\n ca-certificate %s\n"
	                                    " revocation-check none\n"
	                                    " authorization list L\n"
	                                    " match certificate CENTRAL skip authorization-check\n",
	                                    root_pem);
	struct outcome o = run(cfg, "T", hub_chain);

	CHECK_INT_EQ(o.decision, CV_DECISION_ACCEPT);
	o = run(cfg, "T", spoke_chain);
	CHECK_INT_EQ(o.decision, CV_DECISION_REJECT);
	CHECK_INT_EQ(o.reason, CV_REASON_AAA_DENIED);
	CHECK(strstr(o.trace, "authorization declined by AAA, or AAA server not found.") != NULL);
	cv_config_unref(cfg);
}

/* Index of the first trace line containing text, or -1. */
static int
trace_index(const struct outcome *o, const char *text)
{
	const char *hit = strstr(o->trace, text);
	int line = 0;

	if (hit == NULL)
		return -1;
	for (const char *p = o->trace; p < hit; p++)
		line += *p == '\n';
	return line;
}

/* R43-R48, O-21: AAA through the local backend, with the manuals' trace in order. */
static void
test_aaa_local(void)
{
	struct tp_entity *hub_chain[] = {&hub, &sub, NULL};
	struct tp_entity *spoke_chain[] = {&spoke, &sub, NULL};
	struct tp_entity *expired_chain[] = {&expired, &sub, NULL};
	const char *order[] = {"Selected AAA username: 'Central VPN Gateway'",
	                       "Anticipate checking AAA list:'L'",
	                       "checking AAA authorization (L, Central VPN Gateway, <all>)",
	                       "pre-authorization chain validation status",
	                       "reply attribute (\"cert-application\" = \"all\")",
	                       "post-authorization chain validation status",
	                       "authorization passed"};
	struct cv_config *cfg;
	struct outcome o;
	int last = -1;

	cfg = config_from("aaa attribute list default\n attribute type cert-application all\n"
	                  " attribute type cert-serial-not 4ACA\n"
	                  "aaa authorization list L local\n"
	                  "crypto pki trustpoint T\n ca-certificate %s\n revocation-check none\n"
	                  " authorization list L\n authorization username subjectname commonname\n",
	                  root_pem);
	o = run(cfg, "T", hub_chain);
	CHECK_INT_EQ(o.decision, CV_DECISION_ACCEPT);
	for (size_t i = 0; i < CV_ARRAY_LEN(order); i++) {
		const int at = trace_index(&o, order[i]);

		if (at <= last)
			fprintf(stderr, "trace line `%s` missing or out of order\n%s", order[i],
			        o.trace);
		CHECK(at > last);
		last = at;
	}
	o = run(cfg, "T", spoke_chain); /* serial 4ACA: R46 */
	CHECK_INT_EQ(o.decision, CV_DECISION_REJECT);
	CHECK_INT_EQ(o.reason, CV_REASON_AAA_DENIED);
	CHECK(strstr(o.trace, "cert-serial doesn't match (\"4ACA\" != \"4ACA\")") != NULL);
	CHECK(strstr(o.trace, "AAA authorization for list 'L', and user 'Spoke 7' failed.") !=
	      NULL);
	CHECK(strstr(o.trace, "CRYPTO_PKI_CERT_NOT_AUTHORIZED") != NULL);
	cv_config_unref(cfg);

	/* O-21: an expired leaf is extended by cert-lifetime-end ahead of now, not by one past */
	for (int ahead = 0; ahead <= 1; ahead++) {
		char lifetime[64], serial[CV_SERIAL_MAX];
		struct tm tm;
		const time_t end = (time_t)(now + (ahead ? 86400 * 30 : -86400 * 30));
		static const char *const mon[] = {"jan", "feb", "mar", "apr", "may", "jun",
		                                  "jul", "aug", "sep", "oct", "nov", "dec"};

		gmtime_r(&end, &tm);
		snprintf(lifetime, sizeof(lifetime), "%d:%02d %s %d, %d", tm.tm_hour, tm.tm_min,
		         mon[tm.tm_mon], tm.tm_mday, tm.tm_year + 1900);
		cv_strlcpy(serial, cv_cert_serial(expired.cert), sizeof(serial));
		cfg = config_from(
		    "aaa attribute list default\n attribute type cert-application all\n"
		    " attribute type cert-trustpoint T\n attribute type cert-serial %s\n"
		    " attribute type cert-lifetime-end \"%s\"\n"
		    "aaa authorization list L local\n"
		    "crypto pki trustpoint T\n ca-certificate %s\n revocation-check none\n"
		    " authorization list L\n",
		    serial, lifetime, root_pem);
		CHECK(cfg != NULL);
		o = run(cfg, "T", expired_chain);
		CHECK_INT_EQ(o.decision, ahead ? CV_DECISION_ACCEPT : CV_DECISION_REJECT);
		CHECK(o.expiry_overridden == (ahead != 0));
		if (!ahead)
			CHECK(strstr(o.trace, "cert-lifetime-end is expired") != NULL);
		cv_config_unref(cfg);
	}
}

/* R1, R2, R3, R9, R11, O-20: trustpoint selection and chain-validation. */
static void
test_trustpoints(void)
{
	struct tp_entity *leaf_only[] = {&spoke, NULL};
	struct tp_entity *spoke_chain[] = {&spoke, &sub, NULL};
	struct tp_entity *full_chain[] = {&spoke, &sub, &root, NULL};
	struct tp_entity *other_chain[] = {&other_leaf, NULL};
	struct cv_config *cfg;
	struct outcome o;

	/* the sub CA as a `stop` trustpoint: validation ends at it, Root need not exist (R9) */
	cfg = config_from("crypto pki trustpoint SUB\n ca-certificate %s\n revocation-check none\n",
	                  sub_pem);
	o = run(cfg, NULL, full_chain);
	CHECK_INT_EQ(o.decision, CV_DECISION_ACCEPT);
	CHECK_INT_EQ(o.n_path, 2);
	CHECK_STR_EQ(o.trustpoint, "SUB");
	CHECK(strstr(o.trace, "Trust-Point SUB picked up") != NULL);
	CHECK(strstr(o.trace, "validation path has 1 certs") != NULL);
	CHECK(strstr(o.trace, "Using SUB to validate certificate") != NULL);
	CHECK(strstr(o.trace, "chain cert was anchored to trustpoint SUB, and chain validation "
	                      "result was: CRYPTO_VALID_CERT") != NULL);
	cv_config_unref(cfg);

	/* SUB `continue ROOT`: the sub CA is validated too, and may come from the store (R11) */
	cfg = config_from("crypto pki trustpoint ROOT\n ca-certificate %s\n revocation-check none\n"
	                  "crypto pki trustpoint SUB\n ca-certificate %s\n revocation-check none\n"
	                  " chain-validation continue ROOT\n",
	                  root_pem, sub_pem);
	o = run(cfg, "SUB", leaf_only);
	CHECK_INT_EQ(o.decision, CV_DECISION_ACCEPT);
	CHECK_INT_EQ(o.n_path, 3);
	CHECK_STR_EQ(o.trustpoint, "SUB");
	cv_config_unref(cfg);

	/* two trustpoints; with none named the chain finds its own (R3, O-20) */
	cfg =
	    config_from("crypto pki trustpoint OTHER\n ca-certificate %s\n revocation-check none\n"
	                "crypto pki trustpoint ROOT\n ca-certificate %s\n revocation-check none\n",
	                other_pem, root_pem);
	o = run(cfg, NULL, spoke_chain);
	CHECK_INT_EQ(o.decision, CV_DECISION_ACCEPT);
	CHECK_STR_EQ(o.trustpoint, "ROOT");
	o = run(cfg, "OTHER", spoke_chain);
	CHECK_INT_EQ(o.decision, CV_DECISION_REJECT);
	CHECK_INT_EQ(o.reason, CV_REASON_UNTRUSTED_ISSUER);
	o = run(cfg, NULL, other_chain);
	CHECK_STR_EQ(o.trustpoint, "OTHER");
	o = run(cfg, "NOSUCH", spoke_chain); /* R1: an undeclared trustpoint */
	CHECK_INT_EQ(o.decision, CV_DECISION_REJECT);
	CHECK_INT_EQ(o.reason, CV_REASON_CONFIG_ERROR);
	cv_config_unref(cfg);

	/* the primary trustpoint is tried first (O-18) */
	cfg =
	    config_from("crypto pki trustpoint OTHER\n ca-certificate %s\n revocation-check none\n"
	                "crypto pki trustpoint ROOT\n ca-certificate %s\n revocation-check none\n"
	                " primary\n",
	                other_pem, root_pem);
	o = run(cfg, NULL, spoke_chain);
	CHECK_INT_EQ(o.decision, CV_DECISION_ACCEPT);
	CHECK(strncmp(o.trace + strcspn(o.trace, "\n") + 1, "Trust-Point ROOT picked up", 26) == 0);
	cv_config_unref(cfg);

	/* O-2: chains no trustpoint anchors are validated against the trustpool */
	cfg =
	    config_from("crypto pki trustpoint OTHER\n ca-certificate %s\n revocation-check none\n"
	                "crypto pki trustpool policy\n ca-bundle %s\n revocation-check none\n",
	                other_pem, root_pem);
	o = run(cfg, NULL, spoke_chain);
	CHECK_INT_EQ(o.decision, CV_DECISION_ACCEPT);
	CHECK_STR_EQ(o.trustpoint, "trustpool");
	CHECK(strstr(o.trace, "Trustpool picked up") != NULL);
	o = run(cfg, "OTHER", spoke_chain); /* a named trustpoint excludes the pool */
	CHECK_INT_EQ(o.decision, CV_DECISION_REJECT);
	cv_config_unref(cfg);

	/* R2: a fingerprint that does not match: the CA is not authenticated */
	cfg = config_from("crypto pki trustpoint ROOT\n ca-certificate %s\n revocation-check none\n"
	                  " fingerprint 00112233445566778899AABBCCDDEEFF00112233\n",
	                  root_pem);
	CHECK(cfg != NULL);
	o = run(cfg, "ROOT", spoke_chain);
	CHECK_INT_EQ(o.decision, CV_DECISION_REJECT);
	CHECK_INT_EQ(o.reason, CV_REASON_UNTRUSTED_ISSUER);
	CHECK_STR_EQ(o.detail, "ca-not-authenticated");
	cv_config_unref(cfg);
}

/* Writes a CRL of issuer listing revoked (NULL: none), valid from now-1h to now+1d. */
static int
write_crl(const struct tp_entity *issuer, const struct tp_entity *revoked, const char *path)
{
	static const uint8_t number[] = {1}; /* CRLNumber: required (RFC 5280 5.2.3) */
	gnutls_x509_crl_t crl = NULL;
	gnutls_datum_t pem = {NULL, 0};
	FILE *f = NULL;
	int rc = -1;

	if (gnutls_x509_crl_init(&crl) < 0 || gnutls_x509_crl_set_version(crl, 2) < 0 ||
	    gnutls_x509_crl_set_number(crl, number, sizeof(number)) < 0 ||
	    gnutls_x509_crl_set_this_update(crl, (time_t)(now - 3600)) < 0 ||
	    gnutls_x509_crl_set_next_update(crl, (time_t)(now + 86400)) < 0 ||
	    (revoked != NULL &&
	     gnutls_x509_crl_set_crt(crl, revoked->crt, (time_t)(now - 60)) < 0) ||
	    gnutls_x509_crl_sign2(crl, issuer->crt, issuer->key, GNUTLS_DIG_SHA256, 0) < 0 ||
	    gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_PEM, &pem) < 0)
		goto out;
	f = fopen(path, "w");
	if (f != NULL && fwrite(pem.data, 1, pem.size, f) == pem.size)
		rc = 0;
out:
	if (f != NULL)
		fclose(f);
	gnutls_free(pem.data);
	gnutls_x509_crl_deinit(crl);
	return rc;
}

/* R11 (d), R11 (c), O-11: chain-validation across a three-level hierarchy. */
static void
test_chain_validation(void)
{
	struct tp_entity sub1, sub11, leaf;
	struct tp_spec spec;
	char sub1_pem[256], sub11_pem[256], crl_pem[256], empty_crl[256], root_crl[256];
	struct cv_config *cfg;
	struct outcome o;

	memset(&sub1, 0, sizeof(sub1));
	memset(&sub11, 0, sizeof(sub11));
	memset(&leaf, 0, sizeof(leaf));
	tp_spec_ca(&spec, "CN=Sub1,O=Test", now);
	CHECK_INT_EQ(tp_issue(&sub1, &spec, &root), 0);
	tp_spec_ca(&spec, "CN=Sub11,O=Test", now);
	CHECK_INT_EQ(tp_issue(&sub11, &spec, &sub1), 0);
	tp_spec_leaf(&spec, "CN=Peer,O=Test", now);
	CHECK_INT_EQ(tp_issue(&leaf, &spec, &sub11), 0);
	snprintf(sub1_pem, sizeof(sub1_pem), "%s/sub1.pem", tmpdir);
	snprintf(sub11_pem, sizeof(sub11_pem), "%s/sub11.pem", tmpdir);
	snprintf(crl_pem, sizeof(crl_pem), "%s/sub1-revokes-sub11.crl", tmpdir);
	snprintf(empty_crl, sizeof(empty_crl), "%s/sub11-empty.crl", tmpdir);
	snprintf(root_crl, sizeof(root_crl), "%s/root-empty.crl", tmpdir);
	CHECK_INT_EQ(tp_write_cert_pem(&sub1, sub1_pem), 0);
	CHECK_INT_EQ(tp_write_cert_pem(&sub11, sub11_pem), 0);
	CHECK_INT_EQ(write_crl(&sub1, &sub11, crl_pem), 0);
	CHECK_INT_EQ(write_crl(&sub11, NULL, empty_crl), 0);
	CHECK_INT_EQ(write_crl(&root, NULL, root_crl), 0);

	{
		struct tp_entity *peer_only[] = {&leaf, NULL};
		struct tp_entity *with_sub1[] = {&leaf, &sub1, NULL};

		/* Root stop, Sub1 continue Root, Sub11 continue Sub1: all four validated (d) */
		cfg = config_from("crypto pki trustpoint Root\n ca-certificate %s\n"
		                  " revocation-check none\n chain-validation stop\n"
		                  "crypto pki trustpoint Sub1\n ca-certificate %s\n"
		                  " revocation-check none\n chain-validation continue Root\n"
		                  "crypto pki trustpoint Sub11\n ca-certificate %s\n"
		                  " revocation-check none\n chain-validation continue Sub1\n",
		                  root_pem, sub1_pem, sub11_pem);
		o = run(cfg, "Sub11", peer_only);
		CHECK_INT_EQ(o.decision, CV_DECISION_ACCEPT);
		CHECK_INT_EQ(o.n_path, 4);
		CHECK_STR_EQ(o.trustpoint, "Sub11");
		cv_config_unref(cfg);

		/* the gap: Sub1 not configured; only a peer that sends Sub1 passes (c) */
		cfg = config_from("crypto pki trustpoint Root\n ca-certificate %s\n"
		                  " revocation-check none\n"
		                  "crypto pki trustpoint Sub11\n ca-certificate %s\n"
		                  " revocation-check none\n chain-validation continue Root\n",
		                  root_pem, sub11_pem);
		o = run(cfg, "Sub11", peer_only);
		CHECK_INT_EQ(o.decision, CV_DECISION_REJECT);
		CHECK_INT_EQ(o.reason, CV_REASON_CHAIN_INVALID);
		o = run(cfg, "Sub11", with_sub1);
		CHECK_INT_EQ(o.decision, CV_DECISION_ACCEPT);
		CHECK_INT_EQ(o.n_path, 4);
		cv_config_unref(cfg);

		/* O-11: under `continue Sub1`, Sub11's certificate is checked with Sub1's settings,
		 * whose CRL revokes it; under `stop` it is the trusted anchor and is not checked */
		cfg = config_from(
		    "crypto pki trustpoint Root\n ca-certificate %s\n"
		    " revocation-check crl\n crl file %s\n"
		    "crypto pki trustpoint Sub1\n ca-certificate %s\n"
		    " revocation-check crl\n crl file %s\n chain-validation continue Root\n"
		    "crypto pki trustpoint Sub11\n ca-certificate %s\n"
		    " revocation-check crl\n crl file %s\n chain-validation continue Sub1\n",
		    root_pem, root_crl, sub1_pem, crl_pem, sub11_pem, empty_crl);
		o = run(cfg, "Sub11", peer_only);
		CHECK_INT_EQ(o.decision, CV_DECISION_REJECT);
		CHECK_INT_EQ(o.reason, CV_REASON_REVOKED);
		CHECK(strstr(o.trace,
		             "trustpoint Sub11's CA certificate is checked with the settings "
		             "of Sub1") != NULL);
		cv_config_unref(cfg);
		cfg = config_from("crypto pki trustpoint Sub11\n ca-certificate %s\n"
		                  " revocation-check crl\n crl file %s\n crl file %s\n",
		                  sub11_pem, empty_crl, crl_pem);
		o = run(cfg, "Sub11", peer_only);
		CHECK_INT_EQ(o.decision, CV_DECISION_ACCEPT);
		CHECK_INT_EQ(o.revocation, CV_REVOCATION_GOOD);
		cv_config_unref(cfg);
	}
	unlink(sub1_pem);
	unlink(sub11_pem);
	unlink(crl_pem);
	unlink(empty_crl);
	unlink(root_crl);
	tp_entity_free(&sub1);
	tp_entity_free(&sub11);
	tp_entity_free(&leaf);
}

int
main(void)
{
	now = cv_clock_now(NULL);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	make_pki();
	test_map_fields();
	test_map_and_or();
	test_allow_expired();
	test_revocation_order();
	test_authorization();
	test_aaa_local();
	test_trustpoints();
	test_chain_validation();

	unlink(root_pem);
	unlink(sub_pem);
	unlink(other_pem);
	rmdir(tmpdir);
	tp_entity_free(&root);
	tp_entity_free(&sub);
	tp_entity_free(&hub);
	tp_entity_free(&spoke);
	tp_entity_free(&expired);
	tp_entity_free(&other_root);
	tp_entity_free(&other_leaf);
	return check_summary();
}
