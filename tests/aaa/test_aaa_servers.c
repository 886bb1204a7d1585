/*
 * test_aaa_servers.c: the RADIUS and LDAP backends against a real FreeRADIUS or slapd
 * (started by run_servers.py): answers, refusals, the manuals' R44-R46 scenarios end to end,
 * method fallback, and the answer cache (requests counted in the server's own log).
 * usage: test_aaa_servers radius|ldap PORT LOGFILE
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "../../common/util.h"
#include "../../policy/aaa.h"
#include "../support/check.h"
#include "../support/testpki.h"
#include "harness.h"

static struct event_base *base;
static struct cv_aaa *aaa;
static struct cv_clock clk;
static const char *logfile;
static struct tp_entity ca;

static void
query(const struct cv_config *cfg, const char *list, const char *user, struct got *g)
{
	struct cv_error err = {{0}};

	memset(g, 0, sizeof(*g));
	CHECK(cv_aaa_query_start(aaa, cfg, list, user, on_done, g, &err) != 0);
	run_until(base, g, 1, 8000);
	CHECK_INT_EQ(g->called, 1);
}

static struct cv_config *
parse(const char *text)
{
	struct cv_config *cfg = NULL;
	struct cv_error err = {{0}};

	if (cv_config_parse("test", text, strlen(text), &cfg, &err) < 0) {
		fprintf(stderr, "config: %s\n", err.msg);
		abort();
	}
	return cfg;
}

/* Lines of the server's log that contain text (polled: the server writes them late). */
static int
log_count(const char *text, int at_least)
{
	struct timespec t0;
	uint8_t *data = NULL;
	size_t len;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		const char *p;
		struct cv_error err;

		n = 0;
		if (cv_read_file(logfile, 64u << 20, &data, &len, &err) == 0) {
			for (p = (const char *)data; (p = strstr(p, text)) != NULL; p++)
				n++;
			free(data);
		}
		if (n >= at_least || elapsed_ms(&t0) > 1500)
			return n;
		usleep(20000);
	}
}

static const char *
attr(const struct cv_aaa_answer *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->n_attrs; i++)
		if (strcmp(a->attrs[i].name, name) == 0)
			return a->attrs[i].value;
	return "";
}

static int
has_trace(const struct cv_verdict *v, const char *text)
{
	size_t i;

	for (i = 0; i < v->n_trace; i++)
		if (strcmp(v->trace[i].text, text) == 0)
			return 1;
	return 0;
}

static void
issue(struct tp_entity *e, const char *subject, unsigned long serial)
{
	struct tp_spec s;

	tp_spec_leaf(&s, subject, cv_clock_now(&clk));
	s.serial = serial;
	if (tp_issue(e, &s, &ca) < 0)
		abort();
}

/* The manuals' scenarios through a backend: R42 username, R46 serial-not, R45 lifetime. */
static void
test_scenarios(const struct cv_config *cfg, const char *list)
{
	struct tp_entity c4aca = {0}, c4acb = {0}, c15de = {0};
	struct cv_verdict v;
	struct cv_failure f;
	struct got g;
	char user[CV_NAME_MAX];
	cv_time end, in2004;

	issue(&c4aca, "CN=PKIAAAA,O=Example", 0x4ACA);
	issue(&c4acb, "CN=PKIAAAA,O=Example", 0x4ACB);
	issue(&c15de, "CN=PKIAAA-L,O=Example", 0x15DE);

	CHECK_INT_EQ(cv_aaa_username(c4aca.cert, CV_SUBJ_COMMONNAME, user, sizeof(user)), 0);
	query(cfg, list, user, &g);
	CHECK_INT_EQ(g.a.status, CV_AAA_ANSWERED);
	CHECK_STR_EQ(attr(&g.a, "cert-application"), "all");
	CHECK_STR_EQ(attr(&g.a, "cert-trustpoint"), "CA1");
	CHECK_STR_EQ(attr(&g.a, "cert-serial-not"), "4ACA");
	CHECK_INT_EQ(g.a.n_attrs, 3); /* shell:priv-lvl is not a pki: pair */

	cv_verdict_init(&v, cv_clock_now(&clk));
	CHECK_INT_EQ(cv_aaa_evaluate(&g.a, c4aca.cert, "CA1", "", v.at, 0, &end, &v, &f), -1);
	CHECK_STR_EQ(f.detail, "cert-serial-not");
	CHECK(has_trace(&v, "reply attribute (\"cert-serial-not\" = \"4ACA\")"));
	CHECK(has_trace(&v, "cert-serial doesn't match (\"4ACA\" != \"4ACA\")"));
	cv_verdict_free(&v);
	cv_verdict_init(&v, cv_clock_now(&clk));
	CHECK_INT_EQ(cv_aaa_evaluate(&g.a, c4acb.cert, "CA1", "", v.at, 0, &end, &v, &f), 0);
	cv_verdict_free(&v);

	query(cfg, list, "PKIAAA-L", &g);
	CHECK_INT_EQ(g.a.status, CV_AAA_ANSWERED);
	CHECK_INT_EQ(g.a.n_attrs, 4);
	CHECK_STR_EQ(attr(&g.a, "cert-lifetime-end"), "1:00 jan 1, 2003");
	cv_time_from_utc(2004, 3, 1, 0, 0, 0, &in2004);
	cv_verdict_init(&v, in2004);
	CHECK_INT_EQ(cv_aaa_evaluate(&g.a, c15de.cert, "CA1", "", in2004, 0, &end, &v, &f), -1);
	CHECK_STR_EQ(f.detail, "cert-lifetime-end");
	CHECK(has_trace(&v, "reply attribute (\"cert-serial\" = \"15DE\")"));
	CHECK(has_trace(&v, "cert-lifetime-end is expired"));
	CHECK(has_trace(&v, "cert-lifetime-end check failed."));
	cv_verdict_free(&v);

	query(cfg, list, "nobody-at-all", &g);
	CHECK_INT_EQ(g.a.status, CV_AAA_REFUSED);
	tp_entity_free(&c4aca);
	tp_entity_free(&c4acb);
	tp_entity_free(&c15de);
}

/* The cache: a second query is not sent; expiry (clock moved) and clear send again. */
static void
test_cache(const struct cv_config *cfg, const char *list, const char *user, const char *logtext)
{
	struct got g;
	int n0 = log_count(logtext, 0);

	query(cfg, list, user, &g);
	CHECK_INT_EQ(g.a.status, CV_AAA_ANSWERED);
	CHECK(!g.a.from_cache);
	CHECK_INT_EQ(log_count(logtext, n0 + 1), n0 + 1);
	query(cfg, list, user, &g);
	CHECK_INT_EQ(g.a.status, CV_AAA_ANSWERED);
	CHECK(g.a.from_cache);
	CHECK_STR_EQ(attr(&g.a, "cert-application"), "all");
	usleep(300000);
	CHECK_INT_EQ(log_count(logtext, n0 + 2), n0 + 1); /* not asked again */

	clk.offset += 61; /* cache-time 60 */
	query(cfg, list, user, &g);
	CHECK(!g.a.from_cache);
	CHECK_INT_EQ(log_count(logtext, n0 + 2), n0 + 2);
	clk.offset -= 61;

	cv_aaa_clear_cache(aaa);
	query(cfg, list, user, &g);
	CHECK(!g.a.from_cache);
	CHECK_INT_EQ(log_count(logtext, n0 + 3), n0 + 3);
}

/* Several queries at once, each on its own worker. */
static void
test_concurrent(const struct cv_config *cfg, const char *list)
{
	struct got g[8];
	struct cv_error err;
	size_t i;

	memset(g, 0, sizeof(g));
	for (i = 0; i < CV_ARRAY_LEN(g); i++)
		CHECK(cv_aaa_query_start(aaa, cfg, list, i % 2 ? "PKIAAAA" : "PKIAAA-L", on_done,
		                         &g[i], &err) != 0);
	run_until(base, g, CV_ARRAY_LEN(g), 8000);
	for (i = 0; i < CV_ARRAY_LEN(g); i++) {
		CHECK_INT_EQ(g[i].called, 1);
		CHECK_INT_EQ(g[i].a.status, CV_AAA_ANSWERED);
		CHECK_INT_EQ(g[i].a.n_attrs, i % 2 ? 3 : 4);
	}
}

static void
test_radius(int port)
{
	char text[2048];
	struct cv_config *cfg, *cfg2;
	struct got g;

	snprintf(text, sizeof(text),
	         "aaa cache-time 60\n"
	         "aaa group server radius R1\n"
	         " server 127.0.0.1 auth-port %d key s3cret\n"
	         " timeout 2\n"
	         "aaa group server radius BADKEY\n"
	         " server 127.0.0.1 auth-port %d key wrong\n"
	         " timeout 1\n"
	         "aaa group server radius CLOSED\n"
	         " server 127.0.0.1 auth-port 9 key s3cret\n"
	         " timeout 1\n"
	         "aaa authorization list RAD group R1\n"
	         "aaa authorization list BAD group BADKEY\n"
	         "aaa authorization list FALLBACK group CLOSED group R1\n"
	         "aaa authorization list REFUSED-STOPS group R1 local\n"
	         "aaa attribute list default\n"
	         " attribute type cert-application all\n",
	         port, port);
	cfg = parse(text);
	test_scenarios(cfg, "RAD");

	/* R47: the password is "cisco"; the users file refuses any other */
	query(cfg, "RAD", "REJECTED", &g);
	CHECK_INT_EQ(g.a.status, CV_AAA_REFUSED);
	CHECK(strstr(g.a.error, "Access-Reject") != NULL);
	/* a refusal is an answer: the next method (local) is not asked */
	query(cfg, "REFUSED-STOPS", "REJECTED", &g);
	CHECK_INT_EQ(g.a.status, CV_AAA_REFUSED);
	CHECK_STR_EQ(g.a.method, "group R1");
	/*
	 * A wrong key: the server rejects the password it cannot decrypt, with a Response
	 * Authenticator that does not verify here, so libkrad drops the answer (or the server
	 * drops the request). Either way no answer is taken from it: unreachable, never an accept.
	 */
	query(cfg, "BAD", "PKIAAAA", &g);
	CHECK_INT_EQ(g.a.status, CV_AAA_UNREACHABLE);
	CHECK(strstr(g.a.error, "no answer from 127.0.0.1") != NULL);
	CHECK_INT_EQ(g.a.n_attrs, 0);
	/* NAS-IP-Address is the address the request leaves from (127.0.0.1 here): the users
	 * file answers NASIP only from that address, NASIP-OTHER only from another one */
	query(cfg, "RAD", "NASIP", &g);
	CHECK_INT_EQ(g.a.status, CV_AAA_ANSWERED);
	query(cfg, "RAD", "NASIP-OTHER", &g);
	CHECK_INT_EQ(g.a.status, CV_AAA_REFUSED);
	/* `ip radius source-interface ADDRESS` names the NAS instead */
	snprintf(text, sizeof(text),
	         "ip radius source-interface 192.0.2.99\n"
	         "aaa group server radius R1\n"
	         " server 127.0.0.1 auth-port %d key s3cret\n"
	         " timeout 2\n"
	         "aaa authorization list RAD group R1\n",
	         port);
	cfg2 = parse(text);
	query(cfg2, "RAD", "NASIP-OTHER", &g);
	CHECK_INT_EQ(g.a.status, CV_AAA_ANSWERED);
	query(cfg2, "RAD", "NASIP", &g);
	CHECK_INT_EQ(g.a.status, CV_AAA_REFUSED);
	cv_config_unref(cfg2);
	/* an unreachable method falls through to the next */
	query(cfg, "FALLBACK", "PKIAAAA", &g);
	CHECK_INT_EQ(g.a.status, CV_AAA_ANSWERED);
	CHECK_STR_EQ(g.a.method, "group R1");

	cv_aaa_clear_cache(aaa);
	test_concurrent(cfg, "RAD");
	cv_aaa_clear_cache(aaa);
	test_cache(cfg, "RAD", "PKIAAAA", "Login OK: [PKIAAAA]");
	cv_config_unref(cfg);
}

static void
test_ldap(int port)
{
	char text[2048];
	struct cv_config *cfg;
	struct got g;

	snprintf(text, sizeof(text),
	         "aaa cache-time 60\n"
	         "aaa group server ldap LD\n"
	         " server ldap://127.0.0.1:%d\n"
	         " base-dn dc=test\n"
	         " timeout 2\n"
	         "aaa group server ldap LD-DESC\n"
	         " server ldap://127.0.0.1:%d\n"
	         " base-dn ou=users,dc=test\n"
	         " attribute description\n"
	         "aaa group server ldap LD-NOBASE\n"
	         " server ldap://127.0.0.1:%d\n"
	         " base-dn ou=missing,dc=test\n"
	         "aaa group server ldap CLOSED\n"
	         " server ldap://127.0.0.1:9\n"
	         " timeout 1\n"
	         "aaa authorization list LDL group LD\n"
	         "aaa authorization list DESC group LD-DESC\n"
	         "aaa authorization list NOBASE group LD-NOBASE\n"
	         "aaa authorization list FALLBACK group CLOSED group LD\n",
	         port, port, port);
	cfg = parse(text);
	cv_aaa_clear_cache(aaa);
	test_scenarios(cfg, "LDL");

	/* RFC 4515 escaping: the specials match literally, a wildcard matches nothing */
	query(cfg, "LDL", "Peer (1)*, x", &g);
	CHECK_INT_EQ(g.a.status, CV_AAA_ANSWERED);
	CHECK_STR_EQ(attr(&g.a, "cert-application"), "all");
	query(cfg, "LDL", "PKI*", &g);
	CHECK_INT_EQ(g.a.status, CV_AAA_REFUSED);
	query(cfg, "LDL", "*", &g);
	CHECK_INT_EQ(g.a.status, CV_AAA_REFUSED);
	/* two entries for one user: refused (fail closed) */
	query(cfg, "LDL", "DUP", &g);
	CHECK_INT_EQ(g.a.status, CV_AAA_REFUSED);
	CHECK(strstr(g.a.error, "more than one") != NULL);
	/* an entry without pairs answers with none (evaluation then fails, R43) */
	query(cfg, "LDL", "EMPTY", &g);
	CHECK_INT_EQ(g.a.status, CV_AAA_ANSWERED);
	CHECK_INT_EQ(g.a.n_attrs, 0);
	/* the attribute is configurable */
	query(cfg, "DESC", "DESC", &g);
	CHECK_INT_EQ(g.a.status, CV_AAA_ANSWERED);
	CHECK_INT_EQ(g.a.n_attrs, 1);
	CHECK_STR_EQ(attr(&g.a, "cert-application"), "ipsec");
	query(cfg, "NOBASE", "PKIAAAA", &g);
	CHECK_INT_EQ(g.a.status, CV_AAA_REFUSED);
	query(cfg, "FALLBACK", "PKIAAAA", &g);
	CHECK_INT_EQ(g.a.status, CV_AAA_ANSWERED);
	CHECK_STR_EQ(g.a.method, "group LD");

	cv_aaa_clear_cache(aaa);
	test_concurrent(cfg, "LDL");
	cv_aaa_clear_cache(aaa);
	test_cache(cfg, "LDL", "PKIAAAA", "filter=\"(cn=pkiaaaa)\"" /* slapd logs it normalised */);
	cv_config_unref(cfg);
}

int
main(int argc, char **argv)
{
	struct tp_spec s;

	if (argc != 4) {
		fprintf(stderr, "usage: test_aaa_servers radius|ldap PORT LOGFILE\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	logfile = argv[3];
	tp_spec_ca(&s, "CN=Test CA1", cv_clock_now(&clk));
	if (tp_issue(&ca, &s, NULL) < 0)
		return 1;
	base = event_base_new();
	aaa = cv_aaa_new(base, &clk);
	if (strcmp(argv[1], "radius") == 0)
		test_radius(atoi(argv[2]));
	else
		test_ldap(atoi(argv[2]));
	cv_aaa_free(aaa);
	event_base_free(base);
	tp_entity_free(&ca);
	return check_summary();
}
