/*
 * test_fetch_ldap.c: the fetcher's LDAP side against a private slapd (started by run_ldap.py):
 * RFC 4516 URLs, directory CDPs through `crl query`, errors, deadlines, single-flight, cancel.
 * usage: test_fetch_ldap PORT CRL.der
 */
#include <signal.h>
#include <stdint.h>

#include "../../common/util.h"
#include "../support/check.h"
#include "harness.h"

static struct cv_clock clk;
static int port;
static uint8_t *crl;
static size_t crl_len;
static char url_buf[512], host_buf[128];

static const char *
lurl(const char *rest)
{
	snprintf(url_buf, sizeof(url_buf), "ldap://127.0.0.1:%d/%s", port, rest);
	return url_buf;
}

static const char *
query_host(void)
{
	snprintf(host_buf, sizeof(host_buf), "ldap://127.0.0.1:%d", port);
	return host_buf;
}

static int
is_crl(const struct got *g)
{
	return g->ok && g->len == crl_len && memcmp(g->data, crl, crl_len) == 0;
}

static void
fetch1(struct cv_fetcher *f, const char *u, const struct cv_fetch_opts *o, struct got *g)
{
	got_free(g);
	CHECK(start(f, u, o, g) != NULL);
	CHECK_INT_EQ(g->called, 0);
	run_loop(10000);
	CHECK_INT_EQ(g->called, 1);
}

static void
test_urls(struct cv_fetcher *f)
{
	struct cv_fetch_opts o;
	struct got g = {0};
	char want[512];

	fetch1(f, lurl("cn=CA1,dc=test?certificateRevocationList;binary"), NULL, &g);
	CHECK(is_crl(&g));
	if (!g.ok)
		fprintf(stderr, "ldap: %s\n", g.error);
	CHECK_INT_EQ(g.status, 0);

	fetch1(f, lurl("cn=CA1,dc=test"), NULL, &g); /* default attributes (O-15) */
	CHECK(is_crl(&g));
	fetch1(f, lurl("cn=CA1,dc=test?certificateRevocationList"), NULL, &g);
	CHECK(is_crl(&g));

	/* R18: a directory CDP is looked up on the `crl query` server. */
	cv_fetch_opts_init(&o);
	o.ldap_default_host = query_host();
	fetch1(f, "CN=CA1,DC=test", &o, &g);
	CHECK(is_crl(&g));
	snprintf(want, sizeof(want), "ldap://127.0.0.1:%d/CN=CA1,DC=test??base", port);
	CHECK_STR_EQ(g.url, want);
	fetch1(f, "ldap:///cn=CA 2,dc=test", &o, &g); /* no host in the URL; a space in the DN */
	CHECK(is_crl(&g));
	fetch1(f, "cn=CA 2,dc=test", &o, &g);
	CHECK(is_crl(&g));
	o.ldap_default_host = "127.0.0.1:1"; /* the CDP's own host wins over crl query */
	fetch1(f, lurl("cn=CA1,dc=test"), &o, &g);
	CHECK(is_crl(&g));

	/* A crl query URL with a DN is used when the CDP has none (O-15). */
	snprintf(host_buf, sizeof(host_buf), "ldap://127.0.0.1:%d/cn=CA1,dc=test", port);
	o.ldap_default_host = host_buf;
	fetch1(f, "ldap:///", &o, &g);
	CHECK(is_crl(&g));

	fetch1(f, lurl("cn=Nope,dc=test"), NULL, &g);
	CHECK(!g.ok);
	CHECK(strstr(g.error, "No such object") != NULL);
	fetch1(f, lurl("cn=NoCRL,dc=test"), NULL, &g);
	CHECK(!g.ok);
	CHECK(strstr(g.error, "has no certificateRevocationList") != NULL);
	/* The URL's attribute is the one asked for: no silent switch to another list. */
	fetch1(f, lurl("cn=CA1,dc=test?authorityRevocationList"), NULL, &g);
	CHECK(!g.ok);
	CHECK(strstr(g.error, "has no authorityRevocationList;binary") != NULL);

	cv_fetch_opts_init(&o);
	o.max_bytes = 100;
	fetch1(f, lurl("cn=CA1,dc=test"), &o, &g);
	CHECK(!g.ok);
	CHECK_STR_EQ(g.error, "too large (> 100 bytes)");

	cv_fetch_opts_init(&o);
	o.source_interface = "127.0.0.2"; /* R22 for LDAP: a bound socket */
	fetch1(f, lurl("cn=CA1,dc=test"), &o, &g);
	CHECK(is_crl(&g));
	if (!g.ok)
		fprintf(stderr, "ldap source: %s\n", g.error);
	got_free(&g);
}

static void
test_refused(struct cv_fetcher *f)
{
	static const char *bad[] = {"cn=CA1,dc=test", "ldap:///cn=CA1,dc=test", "ldap://h",
	                            "ldap://127.0.0.1:1/notadn", "ldapx://h/cn=x"};
	struct cv_error err = {{0}};
	struct got g = {0};

	check_refused(f, bad, sizeof(bad) / sizeof(bad[0]), &g);
	cv_fetch_start(f, "CN=CA1,O=Example", NULL, on_done, &g, &err);
	CHECK_STR_EQ(err.msg, "no LDAP server for directory-only CDP (configure crl query)");
	CHECK_INT_EQ(g.called, 0);
}

static void
test_dead_servers(struct cv_fetcher *f)
{
	struct cv_fetch_opts o;
	struct got g = {0};
	char u[256];
	long t0, took;
	int fd, lport = 0;

	/* Nothing listens: an error well within the deadline. */
	cv_fetch_opts_init(&o);
	o.timeout_ms = 2000;
	snprintf(u, sizeof(u), "ldap://127.0.0.1:%d/cn=CA1,dc=test", dead_port());
	t0 = now_ms();
	fetch1(f, u, &o, &g);
	took = now_ms() - t0;
	CHECK(!g.ok);
	CHECK(strstr(g.error, "cannot connect") != NULL);
	CHECK(took < 2500);

	/* Accepts the connection and never answers: the deadline holds. */
	fd = bound_socket(&lport);
	CHECK(fd >= 0 && listen(fd, 8) == 0);
	snprintf(u, sizeof(u), "ldap://127.0.0.1:%d/cn=CA1,dc=test", lport);
	o.timeout_ms = 700;
	t0 = now_ms();
	fetch1(f, u, &o, &g);
	took = now_ms() - t0;
	CHECK(!g.ok);
	CHECK_STR_EQ(g.error, "timeout after 700 ms");
	CHECK(took >= 650 && took < 1500);

	/* A fetcher freed while a worker is stuck: nobody is called, the worker cleans up. */
	{
		struct cv_fetcher *f2 = cv_fetcher_new(base, &clk, 0);
		struct got c = {0};

		CHECK(start(f2, u, &o, &c) != NULL);
		free_in_flight(f2, 100, 1000);
		CHECK_INT_EQ(c.called, 0);
	}
	close(fd);
	got_free(&g);
}

static void
test_single_flight_and_cancel(struct cv_fetcher *f)
{
	enum { N = 20 };
	static struct got g[N];
	struct cv_fetcher_stats before, after;
	struct cv_fetch *h;
	struct got c = {0};
	int i, good = 0;

	cv_fetcher_get_stats(f, &before);
	for (i = 0; i < N; i++)
		CHECK(start(f, lurl("cn=CA1,dc=test"), NULL, &g[i]) != NULL);
	run_loop(10000);
	for (i = 0; i < N; i++) {
		good += is_crl(&g[i]) && g[i].called == 1;
		got_free(&g[i]);
	}
	cv_fetcher_get_stats(f, &after);
	CHECK_INT_EQ(good, N);
	CHECK_INT_EQ(after.transfers - before.transfers, 1);
	CHECK_INT_EQ(after.coalesced - before.coalesced, N - 1);

	h = start(f, lurl("cn=CA1,dc=test"), NULL, &c);
	cv_fetch_cancel(h);
	pending = 1;
	run_loop(300);
	pending = 0;
	CHECK_INT_EQ(c.called, 0);
}

int
main(int argc, char **argv)
{
	struct cv_fetcher *f;
	struct cv_error err;

	if (argc != 3) {
		fprintf(stderr, "usage: test_fetch_ldap PORT CRL.der (see run_ldap.py)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	port = atoi(argv[1]);
	if (cv_read_file(argv[2], 1 << 20, &crl, &crl_len, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 2;
	}
	base = event_base_new();
	f = cv_fetcher_new(base, &clk, 0);
	test_urls(f);
	test_refused(f);
	test_dead_servers(f);
	test_single_flight_and_cancel(f);
	cv_fetcher_free(f);
	event_base_free(base);
	free(crl);
	usleep(300 * 1000); /* let abandoned workers finish and free their jobs */
	return check_summary();
}
