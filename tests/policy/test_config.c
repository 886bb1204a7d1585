/* test_config.c: the configuration language: every command, legacy spellings, abbreviations,
 * errors with their line numbers, warnings, the dump round trip and the redacted dump. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "../../common/util.h"
#include "../../policy/config.h"
#include "../../policy/config_impl.h"
#include "../../policy/revocation.h"
#include "../../validator/path.h"
#include "../support/check.h"
#include "../support/testpki.h"

/* The row of the revocation method table of that name; a missing row ends the test. */
static const struct cv_rev_method *
method(const char *name)
{
	const struct cv_rev_method *m = cv_rev_method_find(name);

	if (m == NULL) {
		fprintf(stderr, "no revocation method '%s' in the table\n", name);
		abort();
	}
	return m;
}

static char dir[256];
static char root_pem[320], sub_pem[320], bad_pem[320];
static char root_sha1[41], root_sha256[65], root_md5[33];
static struct tp_entity root, sub;

/* Expands @DIR@ in a template. */
static char *
expand(const char *tmpl)
{
	size_t cap = strlen(tmpl) * 2 + 4096, o = 0;
	char *out = malloc(cap);

	for (const char *s = tmpl; *s != '\0';) {
		if (strncmp(s, "@DIR@", 5) == 0) {
			o += (size_t)snprintf(out + o, cap - o, "%s", dir);
			s += 5;
		} else {
			out[o++] = *s++;
		}
	}
	out[o] = '\0';
	return out;
}

static int
parse(const char *tmpl, struct cv_config **cfg, struct cv_error *err)
{
	char *text = expand(tmpl);
	int rc;

	err->msg[0] = '\0';
	rc = cv_config_parse("certvald.conf", text, strlen(text), cfg, err);
	free(text);
	return rc;
}

/* The configuration must fail with exactly this message (or, with prefix, start with it). */
static void
expect_error(const char *tmpl, const char *msg, bool prefix)
{
	struct cv_config *cfg = (struct cv_config *)1;
	struct cv_error err;
	int rc = parse(tmpl, &cfg, &err);

	CHECK_INT_EQ(rc, -1);
	CHECK(cfg == NULL);
	if (prefix && strncmp(err.msg, msg, strlen(msg)) == 0)
		CHECK(1);
	else if (prefix)
		CHECK_STR_EQ(err.msg, msg);
	else
		CHECK_STR_EQ(err.msg, msg);
	if (rc == 0)
		cv_config_unref(cfg);
}

static struct cv_config *
parse_ok(const char *tmpl)
{
	struct cv_config *cfg = NULL;
	struct cv_error err;

	if (parse(tmpl, &cfg, &err) < 0) {
		fprintf(stderr, "unexpected error: %s\n", err.msg);
		CHECK(0);
		return NULL;
	}
	CHECK(cfg != NULL);
	return cfg;
}

static char *
dump(const struct cv_config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK_INT_EQ(cv_config_dump(cfg, f), 0);
	fclose(f);
	return buf;
}

/* Parsing the dump gives the same dump. */
static void
check_round_trip(const struct cv_config *cfg)
{
	char *d1 = dump(cfg), *d2 = NULL;
	struct cv_config *again = NULL;
	struct cv_error err;

	if (cv_config_parse("dump.conf", d1, strlen(d1), &again, &err) < 0) {
		fprintf(stderr, "dump does not parse: %s\n%s", err.msg, d1);
		CHECK(0);
		free(d1);
		return;
	}
	d2 = dump(again);
	/* the first line names the source file */
	CHECK_STR_EQ(strchr(d1, '\n'), strchr(d2, '\n'));
	free(d1);
	free(d2);
	cv_config_unref(again);
}

static bool
has_warning(const struct cv_config *cfg, unsigned line, const char *text)
{
	for (size_t i = 0; i < cfg->n_warnings; i++)
		if (cfg->warnings[i].line == line && strstr(cfg->warnings[i].text, text) != NULL)
			return true;
	fprintf(stderr, "no warning at line %u containing '%s'\n", line, text);
	for (size_t i = 0; i < cfg->n_warnings; i++)
		fprintf(stderr, "  %u: %s\n", cfg->warnings[i].line, cfg->warnings[i].text);
	return false;
}

static bool
contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) != NULL)
		return true;
	fprintf(stderr, "'%s' not found in:\n%s\n", needle, hay);
	return false;
}

static void
fingerprint(const struct tp_entity *e, gnutls_digest_algorithm_t algo, char *out, size_t size)
{
	unsigned char raw[64];
	size_t n = sizeof(raw);

	gnutls_x509_crt_get_fingerprint(e->crt, algo, raw, &n);
	CHECK(2 * n + 1 <= size);
	cv_hex_encode(raw, n, out);
}

static void
setup(void)
{
	struct tp_spec s;
	cv_time now = 1700000000;
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/certval-config-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	tp_spec_ca(&s, "CN=Test Root,O=Test", now);
	CHECK_INT_EQ(tp_issue(&root, &s, NULL), 0);
	tp_spec_ca(&s, "CN=Test Sub,O=Test", now);
	CHECK_INT_EQ(tp_issue(&sub, &s, &root), 0);
	snprintf(root_pem, sizeof(root_pem), "%s/root.pem", dir);
	snprintf(sub_pem, sizeof(sub_pem), "%s/sub.pem", dir);
	snprintf(bad_pem, sizeof(bad_pem), "%s/bad.pem", dir);
	CHECK_INT_EQ(tp_write_cert_pem(&root, root_pem), 0);
	CHECK_INT_EQ(tp_write_cert_pem(&sub, sub_pem), 0);
	f = fopen(bad_pem, "w");
	fputs("this is not a certificate\n", f);
	fclose(f);
	fingerprint(&root, GNUTLS_DIG_SHA1, root_sha1, sizeof(root_sha1));
	fingerprint(&root, GNUTLS_DIG_SHA256, root_sha256, sizeof(root_sha256));
	fingerprint(&root, GNUTLS_DIG_MD5, root_md5, sizeof(root_md5));
}

static void
teardown(void)
{
	char path[400];
	const char *files[] = {"root.pem", "sub.pem", "bad.pem", "certvald.conf", "rel.pem"};

	for (size_t i = 0; i < CV_ARRAY_LEN(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
	tp_entity_free(&sub);
	tp_entity_free(&root);
}

/* ---- every command ---- */

static const char full_config[] =
    "! global settings\n"
    "socket /tmp/x.sock\n"
    "socket-mode 0640\n"
    "admin-group certadm\n"
    "cache-dir /var/cache/certval\n"
    "max-request-bytes 2048\n"
    "request-timeout 7\n"
    "fetch timeout 3\n"
    "fetch retry-after 0\n"
    "fetch max-crl-size 1048576\n"
    "fetch max-ocsp-size 4096\n"
    "fetch proxy http://127.0.0.1:3128\n"
    "clock timezone CET 1 30\n"
    "aaa cache-time 60\n"
    "# maps\n"
    "crypto pki certificate map VPN-PEERS 20\n"
    " Subject-Name co ou = VPN\n"
    " issuer-name eq CN = Corp Root CA , O=Corp\n"
    " serial-number co 279d\n"
    " expires-on lt 01 01 2030 00:00:00\n"
    " valid-start ge jan 01 2003 00:00:00\n"
    " alt-subject-name co example.com\n"
    " name nc bad\n"
    " unstructured-subject-name ne router1\n"
    "crypto pki certificate map VPN-PEERS 10\n"
    " subject-name co \"cn=central  vpn\"\n"
    "crypto pki certificate map other 5\n"
    " subject-name eq cn=x\n"
    "aaa group server radius RAD\n"
    " server 127.0.0.1 auth-port 1645 key s3cret\n"
    " timeout 3\n"
    "aaa group server ldap LDAPG\n"
    " server ldap://127.0.0.1:3389\n"
    " base-dn ou=users, dc=example\n"
    " attribute certAVPair\n"
    " timeout 2\n"
    "aaa authorization list CORP-AAA group RAD group LDAPG local\n"
    "aaa attribute list crl\n"
    " attribute-type aaa-cert-serial-not 4ACA, 00ff:01\n"
    " attribute type cert-application all\n"
    "crypto pki trustpoint CORP-ROOT\n"
    " ca-certificate @DIR@/root.pem\n"
    " fingerprint @FP@\n"
    " primary\n"
    " revocation-check ocsp crl none\n"
    " crl query ldap://127.0.0.1:3389/cn=CA,o=Corp\n"
    " crl file @DIR@/a.crl\n"
    " crl file @DIR@/b.crl\n"
    " crl-cache delete-after 30\n"
    " ocsp url http://[::1]:8080/ocsp\n"
    " ocsp nonce if-echoed\n"
    " ocsp nonce length 8\n"
    " match certificate VPN-PEERS\n"
    " match certificate VPN-PEERS allow expired-certificate\n"
    " match certificate other skip revocation-check\n"
    " match certificate other skip authorization-check\n"
    " match certificate other override cdp url http://127.0.0.1/x.crl\n"
    " match certificate VPN-PEERS override cdp directory CN=CA server,O=Corp\n"
    " match certificate other override ocsp 15 url http://127.0.0.1/o15\n"
    " match certificate VPN-PEERS override ocsp trustpoint SUB CORP-ROOT 5 url "
    "http://127.0.0.1/o5\n"
    " authorization list CORP-AAA\n"
    " authorization username subjectname commonname\n"
    " source interface eth0\n"
    " vrf blue\n"
    " allow-weak-signature sha1 rsa-1024\n"
    " policy 2.5.29.32.0\n"
    " policy 1.2.3.4\n"
    " explicit-policy\n"
    " inhibit-policy-mapping\n"
    " inhibit-any-policy\n"
    "!\n"
    "crypto pki trustpoint SUB\n"
    " ca-certificate @DIR@/sub.pem\n"
    " chain-validation continue CORP-ROOT\n"
    " revocation-check crl\n"
    " ocsp disable-nonce\n"
    " crl-cache none\n"
    "exit\n"
    "crypto pki trustpool policy\n"
    " ca-bundle @DIR@/root.pem\n"
    " ca-bundle @DIR@/sub.pem\n"
    " revocation-check ocsp\n"
    " crl-cache delete-after 5\n"
    " crl query ldap://127.0.0.1\n"
    " ocsp url https://127.0.0.1/\n"
    " ocsp disable-nonce\n"
    " match certificate other skip revocation-check\n"
    " chain-validation continue CORP-ROOT\n"
    " allow-weak-signature md5 dsa\n"
    "ocsp clock-skew 60\n"
    "ocsp no-next-update-lifetime 900\n";

static void
test_full(void)
{
	char *tmpl = malloc(sizeof(full_config) + 80), *p;
	struct cv_config *cfg;
	const struct cv_trustpoint *tp, *sp;
	const struct cv_map_entry *e;
	const struct cv_aaa_server *s;
	const struct cv_aaa_list *l;
	const struct cv_aaa_attr_list *al;
	size_t n;

	/* the fingerprint with colons and lower case, as administrators paste it */
	strcpy(tmpl, full_config);
	p = strstr(tmpl, "@FP@");
	{
		char fp[80] = "";
		size_t o = 0;

		for (size_t i = 0; i < 40; i += 2)
			o += (size_t)snprintf(fp + o, sizeof(fp) - o, "%s%c%c", i ? ":" : "",
			                      root_sha1[i] | 0x20, root_sha1[i + 1] | 0x20);
		memmove(p + strlen(fp), p + 4, strlen(p + 4) + 1);
		memcpy(p, fp, strlen(fp));
	}
	cfg = parse_ok(tmpl);
	free(tmpl);
	if (cfg == NULL)
		return;

	CHECK_STR_EQ(cfg->socket_path, "/tmp/x.sock");
	CHECK_INT_EQ(cfg->socket_mode, 0640);
	CHECK_STR_EQ(cfg->admin_group, "certadm");
	CHECK_STR_EQ(cfg->cache_dir, "/var/cache/certval");
	CHECK_INT_EQ(cfg->max_request_bytes, 2048);
	CHECK_INT_EQ(cfg->request_timeout_ms, 7000);
	CHECK_INT_EQ(cfg->fetch_timeout_ms, 3000);
	CHECK_INT_EQ(cfg->fetch_retry_after_s, 0);
	CHECK_INT_EQ(cfg->ocsp_skew_s, 60);
	CHECK_INT_EQ(cfg->ocsp_no_next_update_s, 900);
	CHECK_INT_EQ(cfg->crl_max_bytes, 1048576);
	CHECK_INT_EQ(cfg->ocsp_max_bytes, 4096);
	CHECK_STR_EQ(cfg->fetch_proxy, "http://127.0.0.1:3128");
	CHECK_STR_EQ(cfg->tz_name, "CET");
	CHECK_INT_EQ(cfg->tz_offset_min, 90);
	CHECK_INT_EQ(cfg->aaa_cache_s, 60);

	/* maps: sorted by label then SEQ, values normalised */
	CHECK_INT_EQ(cfg->n_maps, 3);
	e = cv_config_map_first(cfg, "VPN-PEERS", &n);
	CHECK_INT_EQ(n, 2);
	CHECK(e != NULL && e[0].seq == 10 && e[1].seq == 20);
	if (e != NULL && n == 2) {
		CHECK_STR_EQ(e[0].lines[0].value, "cn=central vpn");
		CHECK_INT_EQ(e[1].n_lines, 8);
		CHECK_INT_EQ(e[1].lines[0].field, CV_MAP_SUBJECT_NAME);
		CHECK_INT_EQ(e[1].lines[0].op, CV_MAP_CO);
		CHECK_STR_EQ(e[1].lines[0].value, "ou=vpn");
		CHECK_STR_EQ(e[1].lines[1].value, "cn=corp root ca,o=corp");
		CHECK_INT_EQ(e[1].lines[2].field, CV_MAP_SERIAL_NUMBER);
		CHECK_STR_EQ(e[1].lines[2].value, "279d");
		CHECK_INT_EQ(e[1].lines[3].field, CV_MAP_EXPIRES_ON);
		CHECK_INT_EQ(e[1].lines[3].op, CV_MAP_LT);
		CHECK_INT_EQ(e[1].lines[3].date, 1893456000); /* 2030-01-01T00:00:00Z */
		CHECK_INT_EQ(e[1].lines[4].date, 1041379200); /* 2003-01-01T00:00:00Z */
		CHECK_INT_EQ(e[1].lines[4].op, CV_MAP_GE);
		CHECK_INT_EQ(e[1].lines[5].field, CV_MAP_ALT_SUBJECT_NAME);
		CHECK_INT_EQ(e[1].lines[6].field, CV_MAP_NAME);
		CHECK_INT_EQ(e[1].lines[6].op, CV_MAP_NC);
		CHECK_INT_EQ(e[1].lines[7].field, CV_MAP_UNSTRUCTURED_SUBJECT_NAME);
		CHECK_INT_EQ(e[1].lines[7].line, 24);
		CHECK_INT_EQ(e[1].line, 16);
	}
	CHECK(cv_config_map_first(cfg, "vpn-peers", NULL) == NULL); /* labels keep their case */

	/* AAA */
	s = cv_config_aaa_server(cfg, "RAD");
	CHECK(s != NULL && s->kind == CV_AAA_SERVER_RADIUS && s->port == 1645 &&
	      s->timeout_s == 3 && strcmp(s->secret, "s3cret") == 0 &&
	      strcmp(s->address, "127.0.0.1") == 0);
	s = cv_config_aaa_server(cfg, "LDAPG");
	CHECK(s != NULL && s->kind == CV_AAA_SERVER_LDAP && s->timeout_s == 2);
	if (s != NULL) {
		CHECK_STR_EQ(s->address, "ldap://127.0.0.1:3389");
		CHECK_STR_EQ(s->base_dn, "ou=users, dc=example");
		CHECK_STR_EQ(s->attribute, "certAVPair");
	}
	l = cv_config_aaa_list(cfg, "CORP-AAA");
	CHECK(l != NULL && l->n_methods == 3 && l->methods[0].kind == CV_AAA_METHOD_GROUP &&
	      strcmp(l->methods[1].group, "LDAPG") == 0 &&
	      l->methods[2].kind == CV_AAA_METHOD_LOCAL);
	al = cv_config_aaa_attr_list(cfg, "crl");
	CHECK(al != NULL && al->n_attrs == 3);
	if (al != NULL && al->n_attrs == 3) {
		CHECK_STR_EQ(al->attrs[0].type, "cert-serial-not");
		CHECK_STR_EQ(al->attrs[0].value, "4ACA");
		CHECK_STR_EQ(al->attrs[1].value, "FF01");
		CHECK_STR_EQ(al->attrs[2].type, "cert-application");
		CHECK_STR_EQ(al->attrs[2].value, "all");
	}

	/* trustpoint CORP-ROOT */
	tp = cv_config_trustpoint(cfg, "CORP-ROOT");
	CHECK(tp != NULL);
	if (tp == NULL)
		goto out;
	CHECK_STR_EQ(tp->ca_cert_path, root_pem);
	CHECK_INT_EQ(tp->ca_certs.n, 1);
	CHECK_STR_EQ(tp->fingerprint, root_sha1);
	CHECK(tp->authenticated);
	CHECK(tp->primary);
	CHECK_INT_EQ(tp->rev.n_methods, 3);
	CHECK(tp->rev.methods[0] == method("ocsp") && tp->rev.methods[1] == method("crl") &&
	      tp->rev.methods[2] == method("none"));
	CHECK_STR_EQ(tp->rev.crl_query_url, "ldap://127.0.0.1:3389/cn=CA,o=Corp");
	CHECK_INT_EQ(tp->rev.n_crl_files, 2);
	CHECK(tp->rev.crl_cache == CV_CRL_CACHE_DELETE_AFTER && tp->rev.crl_delete_after_min == 30);
	CHECK_STR_EQ(tp->rev.ocsp_url, "http://[::1]:8080/ocsp");
	CHECK_INT_EQ(tp->rev.nonce, CV_NONCE_IF_ECHOED);
	CHECK_INT_EQ(tp->rev.nonce_length, 8);
	CHECK_INT_EQ(tp->rev.n_matches, 8);
	if (tp->rev.n_matches == 8) {
		const struct cv_match_rule *m = tp->rev.matches;

		CHECK(m[0].kind == CV_MATCH_ACL && strcmp(m[0].label, "VPN-PEERS") == 0);
		CHECK(m[1].kind == CV_MATCH_ALLOW_EXPIRED);
		CHECK(m[2].kind == CV_MATCH_SKIP_REVOCATION && strcmp(m[2].label, "other") == 0);
		CHECK(m[3].kind == CV_MATCH_SKIP_AUTHORIZATION);
		CHECK(m[4].kind == CV_MATCH_OVERRIDE_CDP && !m[4].cdp_is_directory);
		CHECK_STR_EQ(m[4].cdp, "http://127.0.0.1/x.crl");
		CHECK(m[5].kind == CV_MATCH_OVERRIDE_CDP && m[5].cdp_is_directory);
		CHECK_STR_EQ(m[5].cdp, "CN=CA server,O=Corp");
		/* OCSP overrides last, in SEQ order */
		CHECK(m[6].kind == CV_MATCH_OVERRIDE_OCSP && m[6].ocsp_seq == 5);
		CHECK_INT_EQ(m[6].n_ocsp_trustpoints, 2);
		CHECK_STR_EQ(m[6].ocsp_trustpoints[1], "CORP-ROOT");
		CHECK_STR_EQ(m[6].ocsp_url, "http://127.0.0.1/o5");
		CHECK(m[7].kind == CV_MATCH_OVERRIDE_OCSP && m[7].ocsp_seq == 15);
		CHECK_INT_EQ(m[7].line, 59);
	}
	CHECK_STR_EQ(tp->authz_list, "CORP-AAA");
	CHECK_INT_EQ(tp->authz_username, CV_SUBJ_COMMONNAME);
	CHECK_STR_EQ(tp->source_interface, "eth0");
	CHECK_STR_EQ(tp->vrf, "blue");
	CHECK_INT_EQ(tp->allowed_weak, CV_WEAK_SHA1 | CV_WEAK_RSA_1024);
	CHECK_INT_EQ(tp->n_policies, 2);
	CHECK(tp->explicit_policy && tp->inhibit_policy_mapping && tp->inhibit_any_policy);
	CHECK_INT_EQ(tp->rev.chain, CV_CHAIN_STOP);

	sp = cv_config_trustpoint(cfg, "SUB");
	CHECK(sp != NULL && sp->rev.chain == CV_CHAIN_CONTINUE &&
	      strcmp(sp->rev.chain_parent, "CORP-ROOT") == 0 && sp->authenticated && !sp->primary &&
	      sp->rev.nonce == CV_NONCE_DISABLED && sp->rev.crl_cache == CV_CRL_CACHE_NONE &&
	      sp->authz_username == CV_SUBJ_ALL);

	CHECK(cfg->trustpool.present);
	CHECK_INT_EQ(cfg->trustpool.n_bundle_paths, 2);
	CHECK_INT_EQ(cfg->trustpool.ca_certs.n, 2);
	CHECK(cfg->trustpool.rev.n_methods == 1 && cfg->trustpool.rev.methods[0] == method("ocsp"));
	CHECK_INT_EQ(cfg->trustpool.rev.crl_delete_after_min, 5);
	CHECK_INT_EQ(cfg->trustpool.rev.nonce, CV_NONCE_DISABLED);
	CHECK_INT_EQ(cfg->trustpool.rev.n_matches, 1);
	CHECK_INT_EQ(cfg->trustpool.rev.chain, CV_CHAIN_CONTINUE);
	CHECK_INT_EQ(cfg->trustpool.allowed_weak, CV_WEAK_MD5 | CV_WEAK_DSA);
	CHECK_INT_EQ(cfg->n_warnings, 0);

	check_round_trip(cfg);
	{
		char *d = dump(cfg);

		CHECK(contains(d, "\nsocket-mode 0640\n"));
		CHECK(contains(d, "\nrequest-timeout 7\n"));
		CHECK(contains(d, "\nclock timezone CET 1 30\n"));
		CHECK(contains(d, "\n expires-on lt 01 01 2030 00:00:00\n"));
		CHECK(contains(d, "\n valid-start ge 01 01 2003 00:00:00\n"));
		CHECK(contains(d, "\n issuer-name eq cn=corp root ca,o=corp\n"));
		CHECK(contains(d, "\n attribute type cert-serial-not 4ACA\n"));
		CHECK(contains(
		    d, "\n match certificate VPN-PEERS override ocsp trustpoint SUB CORP-ROOT 5 "
		       "url http://127.0.0.1/o5\n"
		       " match certificate other override ocsp 15 url http://127.0.0.1/o15\n"));
		CHECK(contains(d, "\n ocsp nonce if-echoed\n ocsp nonce length 8\n"));
		CHECK(contains(d, "\n chain-validation continue CORP-ROOT\n"));
		CHECK(strstr(d, "ocsp nonce require") == NULL);
		CHECK(strstr(d, "fetch max-crl-size 67108864") == NULL);
		free(d);
	}
out:
	cv_config_unref(cfg);
}

/* ---- defaults ---- */

static void
test_defaults(void)
{
	struct cv_config *cfg =
	    parse_ok("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n");
	const struct cv_trustpoint *tp;
	char *d;

	if (cfg == NULL)
		return;
	CHECK_STR_EQ(cfg->socket_path, "/run/certval/certvald.sock");
	CHECK_INT_EQ(cfg->socket_mode, 0660);
	CHECK_INT_EQ(cfg->max_request_bytes, 1 << 20);
	CHECK_INT_EQ(cfg->request_timeout_ms, 30000);
	CHECK_INT_EQ(cfg->crl_max_bytes, 64 << 20);
	CHECK_INT_EQ(cfg->ocsp_max_bytes, 64 << 10);
	CHECK_INT_EQ(cfg->fetch_timeout_ms, 10000);
	CHECK_INT_EQ(cfg->fetch_retry_after_s, 10);
	CHECK_INT_EQ(cfg->ocsp_skew_s, 300);
	CHECK_INT_EQ(cfg->ocsp_no_next_update_s, 300);
	CHECK_INT_EQ(cfg->aaa_cache_s, 0);
	CHECK(!cfg->trustpool.present);
	tp = cv_config_trustpoint(cfg, "T");
	CHECK(tp != NULL && tp->rev.n_methods == 1 && tp->rev.methods[0] == method("crl") &&
	      tp->rev.nonce == CV_NONCE_REQUIRE && tp->rev.nonce_length == 16 &&
	      tp->rev.chain == CV_CHAIN_STOP && tp->rev.crl_cache == CV_CRL_CACHE_DEFAULT &&
	      tp->authz_username == CV_SUBJ_ALL && tp->authenticated && !tp->primary &&
	      tp->allowed_weak == 0);
	CHECK(cv_config_trustpoint(cfg, "t") == NULL);
	d = dump(cfg);
	/* defaults are omitted: only the trustpoint and its CA file */
	CHECK(strstr(d, "socket") == NULL && strstr(d, "revocation-check") == NULL &&
	      strstr(d, "fetch") == NULL);
	CHECK(contains(d, "crypto pki trustpoint T\n ca-certificate "));
	free(d);
	CHECK(cv_config_ref(cfg) == cfg);
	CHECK_INT_EQ(cfg->refs, 2);
	cv_config_unref(cfg);
	cv_config_unref(cfg);
	cv_config_unref(NULL);
}

/* ---- legacy spellings (R1, R15, R18) ---- */

static void
test_legacy(void)
{
	struct cv_config *cfg = parse_ok("crypto ca trustpoint A\n"
	                                 " ca-certificate @DIR@/root.pem\n"
	                                 " crl optional\n"
	                                 " query url ldap://127.0.0.1\n"
	                                 " crl cache delete-after 7\n"
	                                 "crypto ca trusted-root B\n"
	                                 " ca-certificate @DIR@/root.pem\n"
	                                 " crl best-effort\n"
	                                 "crypto ca identity C\n"
	                                 " ca-certificate @DIR@/root.pem\n"
	                                 " crl cache none\n");
	const struct cv_trustpoint *a, *b, *c;
	char *d;

	if (cfg == NULL)
		return;
	a = cv_config_trustpoint(cfg, "A");
	b = cv_config_trustpoint(cfg, "B");
	c = cv_config_trustpoint(cfg, "C");
	CHECK(a != NULL && b != NULL && c != NULL);
	if (a == NULL || b == NULL || c == NULL)
		goto out;
	CHECK(a->rev.n_methods == 1 && a->rev.methods[0] == method("none"));
	CHECK_STR_EQ(a->rev.crl_query_url, "ldap://127.0.0.1");
	CHECK_INT_EQ(a->rev.crl_delete_after_min, 7);
	CHECK(b->rev.n_methods == 2 && b->rev.methods[0] == method("crl") &&
	      b->rev.methods[1] == method("none"));
	CHECK_INT_EQ(c->rev.crl_cache, CV_CRL_CACHE_NONE);
	d = dump(cfg);
	CHECK(contains(d, "crypto pki trustpoint A\n"));
	CHECK(contains(d, "crypto pki trustpoint B\n"));
	CHECK(contains(d, "crypto pki trustpoint C\n"));
	CHECK(contains(d, " revocation-check none\n"));
	CHECK(contains(d, " revocation-check crl none\n"));
	CHECK(contains(d, " crl query ldap://127.0.0.1\n"));
	CHECK(contains(d, " crl-cache delete-after 7\n"));
	CHECK(contains(d, " crl-cache none\n"));
	CHECK(strstr(d, "crypto ca") == NULL && strstr(d, "optional") == NULL &&
	      strstr(d, "best-effort") == NULL && strstr(d, "query url") == NULL);
	free(d);
	check_round_trip(cfg);
out:
	cv_config_unref(cfg);
}

/* ---- abbreviations (unique prefixes) and case ---- */

/* ---- validation-profile, chain-depth, allow-cn-fallback (trustpoints and the trustpool) ---- */

static void
test_validation_settings(void)
{
	struct cv_config *cfg = parse_ok("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	                                 " validation-profile webpki\n chain-depth 4\n"
	                                 " allow-cn-fallback\n"
	                                 "crypto pki trustpoint U\n ca-certificate @DIR@/sub.pem\n"
	                                 " validation-profile RFC5280\n chain-depth 10\n"
	                                 "crypto pki trustpool policy\n ca-bundle @DIR@/root.pem\n"
	                                 " validation-prof web\n chain-depth 1\n");
	const struct cv_trustpoint *tp, *up;
	char *d;

	if (cfg == NULL)
		return;
	tp = cv_config_trustpoint(cfg, "T");
	up = cv_config_trustpoint(cfg, "U");
	CHECK(tp != NULL && up != NULL);
	if (tp == NULL || up == NULL)
		goto out;
	CHECK_INT_EQ(tp->profile, CV_PROFILE_WEBPKI);
	CHECK_INT_EQ(tp->chain_depth, 4);
	CHECK_INT_EQ(tp->relaxations, CV_RELAX_CN_FALLBACK);
	CHECK_INT_EQ(up->profile, CV_PROFILE_RFC5280);
	CHECK_INT_EQ(up->chain_depth, CV_PATH_MAX_DEPTH);
	CHECK_INT_EQ(up->relaxations, 0);
	CHECK_INT_EQ(cfg->trustpool.profile, CV_PROFILE_WEBPKI);
	CHECK_INT_EQ(cfg->trustpool.chain_depth, 1);
	CHECK_INT_EQ(cfg->trustpool.relaxations, 0);
	check_round_trip(cfg);
	d = dump(cfg);
	CHECK(contains(d, "\n validation-profile webpki\n chain-depth 4\n allow-cn-fallback\n"));
	CHECK(contains(d, "crypto pki trustpool policy\n"));
	CHECK(contains(d, "\n validation-profile webpki\n chain-depth 1\n"));
	/* the defaults of U are not dumped: only T and the trustpool carry these commands */
	CHECK(strstr(strstr(d, "trustpoint U"), "rfc5280") == NULL);
	CHECK(strstr(d, "chain-depth 10") == NULL);
	CHECK(strstr(strstr(d, "trustpool policy"), "allow-cn-fallback") == NULL);
	free(d);
out:
	cv_config_unref(cfg);

	/* defaults when absent */
	cfg = parse_ok("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n");
	if (cfg != NULL) {
		tp = cv_config_trustpoint(cfg, "T");
		CHECK(tp != NULL && tp->profile == CV_PROFILE_RFC5280 &&
		      tp->chain_depth == CV_PATH_MAX_DEPTH && tp->relaxations == 0);
		CHECK(cfg->trustpool.profile == CV_PROFILE_RFC5280 &&
		      cfg->trustpool.chain_depth == CV_PATH_MAX_DEPTH);
		d = dump(cfg);
		CHECK(strstr(d, "validation-profile") == NULL && strstr(d, "chain-depth") == NULL &&
		      strstr(d, "allow-cn-fallback") == NULL);
		free(d);
		cv_config_unref(cfg);
	}

	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	             " validation-profile strict\n",
	             "certvald.conf:3: validation-profile: unknown 'strict'; expected one of: "
	             "rfc5280, webpki",
	             false);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	             " validation-profile\n",
	             "certvald.conf:3: validation-profile: missing argument; expected "
	             "validation-profile rfc5280|webpki",
	             false);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n chain-depth 0\n",
	             "certvald.conf:3: chain-depth: 0 is out of range 1-10", false);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n chain-depth 11\n",
	             "certvald.conf:3: chain-depth: 11 is out of range 1-10", false);
	expect_error("crypto pki trustpool policy\n chain-depth many\n",
	             "certvald.conf:2: chain-depth: 'many' is not a number; expected 1-10", false);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	             " allow-cn-fallback yes\n",
	             "certvald.conf:3: allow-cn-fallback: unexpected 'yes'; expected "
	             "allow-cn-fallback",
	             false);
}

static void
test_abbreviations(void)
{
	struct cv_config *cfg = parse_ok("aaa authorization list L local\n"
	                                 "CRYPTO PKI CERT MAP m 1\n"
	                                 " SUBJ CO x\n"
	                                 "cry pki trustpoi T\n"
	                                 " ca-cert @DIR@/root.pem\n"
	                                 " auth list L\n"
	                                 " auth user subj commonname\n"
	                                 " revocation-ch OCSP n\n"
	                                 " chain-v CONT\n"
	                                 " ma cert m sk rev\n"
	                                 " crl-c del 3\n"
	                                 " ocsp non len 4\n");
	const struct cv_trustpoint *tp;

	if (cfg == NULL)
		return;
	tp = cv_config_trustpoint(cfg, "T");
	CHECK(tp != NULL);
	if (tp != NULL) {
		CHECK_STR_EQ(tp->authz_list, "L");
		CHECK_INT_EQ(tp->authz_username, CV_SUBJ_COMMONNAME);
		CHECK(tp->rev.n_methods == 2 && tp->rev.methods[0] == method("ocsp") &&
		      tp->rev.methods[1] == method("none"));
		/* continue on a self-signed root: refused with a warning */
		CHECK_INT_EQ(tp->rev.chain, CV_CHAIN_STOP);
		CHECK(has_warning(cfg, 9, "self-signed"));
		CHECK(tp->rev.n_matches == 1 &&
		      tp->rev.matches[0].kind == CV_MATCH_SKIP_REVOCATION);
		CHECK_INT_EQ(tp->rev.crl_delete_after_min, 3);
		CHECK_INT_EQ(tp->rev.nonce_length, 4);
	}
	CHECK(cfg->n_maps == 1 && cfg->maps[0].lines[0].field == CV_MAP_SUBJECT_NAME);
	cv_config_unref(cfg);
	/* "c" is a prefix of several trustpoint commands */
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n c x\n",
	             "certvald.conf:3: ambiguous command 'c' in trustpoint mode; expected one of: "
	             "ca-certificate, crl, crl-cache, chain-validation, chain-depth",
	             false);
}

/* ---- errors, each with its line ---- */

static void
test_errors(void)
{
	expect_error(
	    "crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	    " revocation-chek crl\n",
	    "certvald.conf:3: unknown command 'revocation-chek' in trustpoint mode; "
	    "expected one of: ca-certificate, fingerprint, primary, revocation-check, crl, "
	    "crl-cache, ocsp, match, chain-validation, allow-weak-signature, "
	    "validation-profile, chain-depth, allow-cn-fallback, authorization, source, vrf, "
	    "aia-fetch, "
	    "policy, explicit-policy, inhibit-policy-mapping, inhibit-any-policy",
	    false);
	expect_error("socket\n", "certvald.conf:1: socket: missing argument; expected socket PATH",
	             false);
	expect_error("\n\nfetch timeout abc\n",
	             "certvald.conf:3: fetch timeout: 'abc' is not a number; expected 1-600",
	             false);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	             "\n ! comment\n crl-cache delete-after 0\n",
	             "certvald.conf:5: crl-cache delete-after: 0 is out of range 1-43200", false);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	             " crl-cache delete-after 43201\n",
	             "certvald.conf:3: crl-cache delete-after: 43201 is out of range 1-43200",
	             false);
	expect_error("fetch retry-after 3601\n",
	             "certvald.conf:1: fetch retry-after: 3601 is out of range 0-3600", false);
	expect_error("ocsp clock-skew 3601\n",
	             "certvald.conf:1: ocsp clock-skew: 3601 is out of range 0-3600", false);
	expect_error(
	    "crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	    " ocsp url ftp://127.0.0.1/\n",
	    "certvald.conf:3: ocsp url: 'ftp://127.0.0.1/' is not an http:// or https:// URL",
	    false);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	             " crl query http://127.0.0.1/\n",
	             "certvald.conf:3: crl query: 'http://127.0.0.1/' is not an ldap:// URL",
	             false);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	             " ocsp url http://[::1/\n",
	             "certvald.conf:3: ocsp url: 'http://[::1/' is not an http:// or https:// URL",
	             false);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/sub.pem\n"
	             " chain-validation continue NOPE\n",
	             "certvald.conf:3: chain-validation continue: parent trustpoint 'NOPE' is not "
	             "defined",
	             false);
	expect_error("crypto pki trustpoint A\n ca-certificate @DIR@/sub.pem\n"
	             " chain-validation continue B\n"
	             "crypto pki trustpoint B\n ca-certificate @DIR@/sub.pem\n"
	             " chain-validation continue A\n",
	             "certvald.conf:3: chain-validation continue: parent trustpoints form a cycle "
	             "(A -> B -> A)",
	             false);
	/* the trustpoint itself as its parent (the manual's step example): loads, warned */
	{
		struct cv_config *self =
		    parse_ok("crypto pki trustpoint A\n ca-certificate @DIR@/sub.pem\n"
		             " chain-validation continue A\n");

		CHECK(self != NULL && has_warning(self, 3, "the parent is the trustpoint itself"));
		cv_config_unref(self);
	}
	expect_error("crypto pki certificate map m 10\n subject-name lt x\n",
	             "certvald.conf:2: subject-name: operator 'lt' applies to dates only; expected "
	             "one of: eq, ne, co, nc",
	             false);
	expect_error(
	    "crypto pki certificate map m 10\n serial-number ge 12\n",
	    "certvald.conf:2: serial-number: operator 'ge' applies to dates only; expected "
	    "one of: eq, ne, co, nc",
	    false);
	expect_error("crypto pki certificate map m 10\n expires-on co 2030\n",
	             "certvald.conf:2: expires-on: operator 'co' does not apply to dates; expected "
	             "one of: eq, ne, lt, ge",
	             false);
	expect_error(
	    "crypto pki certificate map m 10\n subject-name xx y\n",
	    "certvald.conf:2: subject-name: unknown 'xx'; expected one of: eq, ne, co, nc, "
	    "lt, ge",
	    false);
	expect_error(
	    "crypto pki certificate map m 10\n expires-on lt 31 02 2030 00:00:00\n",
	    "certvald.conf:2: expires-on: bad date; expected dd mm yyyy hh:mm:ss or mmm dd "
	    "yyyy hh:mm:ss",
	    false);
	expect_error("crypto pki certificate map m 10\n valid-start ge foo 01 2003 00:00:00\n",
	             "certvald.conf:2: valid-start: bad date", true);
	expect_error("crypto pki certificate map m 10\n valid-start ge 01 01 2003\n",
	             "certvald.conf:2: valid-start: bad date", true);
	expect_error("crypto pki certificate map m 10\n subject-name co a\n"
	             "crypto pki certificate map m 10\n",
	             "certvald.conf:3: crypto pki certificate map m 10 is defined twice (first at "
	             "line 1)",
	             false);
	expect_error("crypto pki certificate map m 10\n foo co a\n",
	             "certvald.conf:2: unknown command 'foo' in certificate map mode; expected one "
	             "of: alt-subject-name, expires-on, issuer-name, name, serial-number, "
	             "subject-name, unstructured-subject-name, valid-start",
	             false);
	expect_error("socket /x\n\ncrypto pki trustpoint T\n revocation-check crl\n",
	             "certvald.conf:3: trustpoint T has no CA certificate; expected ca-certificate "
	             "PATH or a crypto pki certificate chain T block",
	             false);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/missing.pem\n",
	             "certvald.conf:2: ca-certificate: ", true);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/bad.pem\n",
	             "certvald.conf:2: ca-certificate: ", true);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	             " revocation-check crl crl\n",
	             "certvald.conf:3: revocation-check: 'crl' is listed twice", false);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	             " revocation-check none crl\n",
	             "certvald.conf:3: revocation-check: 'none' must be the last method", false);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	             " revocation-check crl ocsp none crl\n",
	             "certvald.conf:3: revocation-check: unexpected 'crl'; expected "
	             "revocation-check crl|ocsp|none [crl|ocsp|none [crl|ocsp|none]]",
	             false);
	expect_error(
	    "crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	    " revocation-check crl foo\n",
	    "certvald.conf:3: revocation-check: unknown 'foo'; expected one of: crl, ocsp, "
	    "none",
	    false);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	             " fingerprint 1234\n",
	             "certvald.conf:3: fingerprint: 4 hex digits; expected 32 (MD5), 40 (SHA-1) or "
	             "64 (SHA-256)",
	             false);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	             " authorization list NOLIST\n",
	             "certvald.conf:3: authorization list: aaa authorization list 'NOLIST' is not "
	             "defined",
	             false);
	expect_error("aaa authorization list L group NOGROUP\n",
	             "certvald.conf:1: aaa authorization list L: server group 'NOGROUP' is not "
	             "defined; expected aaa group server radius|ldap NOGROUP",
	             false);
	expect_error("aaa group server radius R\n server 127.0.0.1 auth-port 1812\n",
	             "certvald.conf:2: server: missing key; expected server ADDRESS [auth-port N] "
	             "key SECRET",
	             false);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	             " ocsp nonce length 33\n",
	             "certvald.conf:3: ocsp nonce length: 33 is out of range 1-32", false);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	             " match certificate m override ocsp 5 url ftp://x/\n",
	             "certvald.conf:3: match certificate override ocsp url: 'ftp://x/' is not an "
	             "http:// or https:// URL",
	             false);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	             " match certificate m override ocsp 5 http://x/\n",
	             "certvald.conf:3: match certificate override ocsp: wrong number of arguments",
	             true);
	expect_error("crypto pki certificate map m 1\n subject-name co x\n"
	             "crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	             " match certificate m override ocsp trustpoint NOTP 5 url http://x/\n",
	             "certvald.conf:5: match certificate override ocsp: trustpoint 'NOTP' is not "
	             "defined",
	             false);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	             " allow-weak-signature sha256\n",
	             "certvald.conf:3: allow-weak-signature: unknown 'sha256'; expected one of: "
	             "sha1, md5, dsa, rsa-1024, p192, rsa-odd-size",
	             false);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n policy 1..2\n",
	             "certvald.conf:3: policy: '1..2' is not an OID", true);
	expect_error("crypto pki trust T\n",
	             "certvald.conf:1: ambiguous command 'crypto pki trust' in global mode; "
	             "expected one of: trustpoint, trustpool",
	             true);
	expect_error("crypto pki\n",
	             "certvald.conf:1: incomplete command 'crypto pki' in global mode; expected "
	             "'crypto pki' followed by one of: certificate, trustpoint, trustpool",
	             false);
	expect_error("crypto pki certificate chain X\n certificate ca 01\n  3082\n  quit\n",
	             "certvald.conf:4: certificate ca 01: ", true);
	expect_error("crypto pki certificate chain X\n certificate ca 01\n  30zz\n",
	             "certvald.conf:3: certificate 01: 'z' is not a hex digit", true);
	expect_error("crypto pki certificate chain X\n certificate ca 01\n  3082\n",
	             "certvald.conf:2: certificate 01: no 'quit' before the end of the file",
	             false);
	expect_error("crypto pki foo T\n",
	             "certvald.conf:1: unknown command 'crypto pki foo' in global mode; expected "
	             "'crypto pki' followed by one of: certificate, trustpoint, trustpool",
	             false);
	/* a global command at the left margin ends the block */
	expect_error(
	    "crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\nocsp url http://a/\n",
	    "certvald.conf:3: unknown command 'ocsp url' in global mode", true);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n exit\n"
	             " revocation-check crl\n",
	             "certvald.conf:4: unknown command 'revocation-check' in global mode", true);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	             " chain-validation stop T\n",
	             "certvald.conf:3: chain-validation stop: unexpected 'T'", true);
	expect_error("request-timeout 5 6\n",
	             "certvald.conf:1: request-timeout: unexpected '6'; expected request-timeout "
	             "SECONDS",
	             false);
	expect_error("aaa attribute list A\n attribute type cert-serial-not 4ACA,XYZ\n",
	             "certvald.conf:2: attribute type cert-serial-not: 'XYZ' is not a hex serial "
	             "number",
	             false);
	expect_error(
	    "socket-mode 0999\n",
	    "certvald.conf:1: socket-mode: '0999' is not an octal mode; expected 0000-0777", false);
	expect_error("admin-group \"unterminated\n", "certvald.conf:1: unterminated quoted string",
	             false);
	expect_error("aaa group server radius X\naaa group server ldap X\n",
	             "certvald.conf:2: aaa group server: X is already a radius group (line 1)",
	             false);
	expect_error("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	             " match certificate m skip\n",
	             "certvald.conf:3: match certificate skip: missing argument", true);
	expect_error("crypto pki trustpoint "
	             "T123456789012345678901234567890123456789012345678901234567890123456789\n",
	             "certvald.conf:1: trustpoint: name", true);
}

/* ---- fingerprints (R2, O-1) ---- */

static void
test_fingerprints(void)
{
	char text[600];
	struct cv_config *cfg;
	const struct cv_trustpoint *tp;

	snprintf(text, sizeof(text),
	         "crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n fingerprint %s\n",
	         root_md5);
	cfg = parse_ok(text);
	tp = cfg != NULL ? cv_config_trustpoint(cfg, "T") : NULL;
	CHECK(tp != NULL && tp->authenticated);
	cv_config_unref(cfg);

	snprintf(text, sizeof(text),
	         "crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n fingerprint %.32s "
	         "%.32s\n",
	         root_sha256, root_sha256 + 32);
	cfg = parse_ok(text);
	tp = cfg != NULL ? cv_config_trustpoint(cfg, "T") : NULL;
	CHECK(tp != NULL && tp->authenticated);
	cv_config_unref(cfg);

	/* a mismatch loads, but the trustpoint is not authenticated */
	cfg = parse_ok("crypto pki trustpoint T\n ca-certificate @DIR@/sub.pem\n"
	               " fingerprint 00112233445566778899AABBCCDDEEFF00112233\n");
	tp = cfg != NULL ? cv_config_trustpoint(cfg, "T") : NULL;
	CHECK(tp != NULL && !tp->authenticated && tp->auth_error[0] != '\0');
	if (cfg != NULL)
		CHECK(has_warning(cfg, 1, "not authenticated"));
	cv_config_unref(cfg);
}

/* ---- warnings ---- */

static void
test_warnings(void)
{
	struct cv_config *cfg = parse_ok("crypto pki trustpoint A\n"
	                                 " enrollment url http://192.0.2.33:80\n"
	                                 " ca-certificate @DIR@/root.pem\n"
	                                 " primary\n"
	                                 " rsakeypair STOREVPN 1024\n"
	                                 " crl-cache none\n"
	                                 " crl-cache delete-after 5\n"
	                                 "crypto pki trustpoint B\n"
	                                 " ca-certificate @DIR@/root.pem\n"
	                                 " primary\n"
	                                 " crl-cache delete-after 5\n"
	                                 " crl-cache none\n"
	                                 " chain-validation continue A\n"
	                                 "crypto pki certificate map m 1\n"
	                                 " name co x\n"
	                                 "crypto pki trustpoint C\n"
	                                 " ca-certificate @DIR@/root.pem\n"
	                                 " match certificate m override ocsp 10 url http://a/\n"
	                                 " match certificate m override ocsp 10 url http://b/\n");
	const struct cv_trustpoint *a, *b, *c;

	if (cfg == NULL)
		return;
	a = cv_config_trustpoint(cfg, "A");
	b = cv_config_trustpoint(cfg, "B");
	c = cv_config_trustpoint(cfg, "C");
	CHECK(has_warning(cfg, 2, "enrollment"));
	CHECK(has_warning(cfg, 5, "rsakeypair"));
	CHECK(has_warning(cfg, 7, "replaces crl-cache none"));
	CHECK(has_warning(cfg, 10, "primary moved from trustpoint A to trustpoint B"));
	CHECK(has_warning(cfg, 12, "replaces crl-cache delete-after 5"));
	CHECK(has_warning(cfg, 13, "self-signed"));
	CHECK(has_warning(cfg, 19, "replaces"));
	CHECK(a != NULL && !a->primary && a->rev.crl_cache == CV_CRL_CACHE_DELETE_AFTER);
	CHECK(b != NULL && b->primary && b->rev.crl_cache == CV_CRL_CACHE_NONE &&
	      b->rev.chain == CV_CHAIN_STOP && b->rev.chain_parent == NULL);
	CHECK(c != NULL && c->rev.n_matches == 1 &&
	      strcmp(c->rev.matches[0].ocsp_url, "http://b/") == 0);
	check_round_trip(cfg);
	cv_config_unref(cfg);
}

/*
 * The manuals' forms (000_74df1f70eb9db823.txt:2189-2209, 2559-2566, 2891-2899): global AAA,
 * router lines skipped with warnings, lines that lost their indentation, an undefined map label
 * (O-17). tests/manuals/ loads the manuals' examples through the daemon.
 */
static void
test_manual_forms(void)
{
	struct cv_config *cfg = parse_ok("hostname router7200router7200\n"
	                                 "aaa new-model\n"
	                                 "aaa authentication login default group tacacs+\n"
	                                 "aaa authorization exec ACSLab group tacacs+\n"
	                                 "aaa authorization network ACSLab group tacacs+\n"
	                                 "radius-server host 192.0.2.1 key another_secret_key\n"
	                                 "aaa authorization network R group radius local\n"
	                                 "crypto pki server ca\n"
	                                 " database level complete\n"
	                                 "crypto pki trustpoint home-office\n"
	                                 "enrollment url http://ca.home-office.com:80/x\n"
	                                 "revocation-check crl\n"
	                                 " ca-certificate @DIR@/root.pem\n"
	                                 " aaa new-model\n"
	                                 " authorization list ACSLab\n"
	                                 " match certificate nomap\n"
	                                 "aaa attribute list crl\n"
	                                 "attribute-type aaa-cert-serial-not 4ACA\n"
	                                 "ip radius source-interface Loopback0\n"
	                                 "ip domain name example.com\n");
	const struct cv_trustpoint *tp;
	const struct cv_aaa_server *radius;
	const struct cv_aaa_list *acs, *r;
	char *d1;

	if (cfg == NULL)
		return;
	tp = cv_config_trustpoint(cfg, "home-office");
	radius = cv_config_aaa_server(cfg, "radius");
	acs = cv_config_aaa_list(cfg, "ACSLab");
	r = cv_config_aaa_list(cfg, "R");
	CHECK(has_warning(cfg, 1, "configures the router itself"));
	CHECK(has_warning(cfg, 3, "configures the router itself"));
	CHECK(has_warning(cfg, 4, "configures the router itself"));
	CHECK(has_warning(cfg, 5, "tacacs+ is not supported"));
	CHECK(has_warning(cfg, 8, "configures the router itself"));
	CHECK(has_warning(cfg, 11, "left margin"));
	CHECK(has_warning(cfg, 16, "'nomap' is not defined"));
	CHECK(has_warning(cfg, 18, "left margin"));
	CHECK(has_warning(cfg, 20, "configures the router itself"));
	CHECK(cfg->radius_source != NULL && strcmp(cfg->radius_source, "Loopback0") == 0);
	CHECK(tp != NULL && tp->rev.n_methods == 1 && tp->authz_list != NULL &&
	      strcmp(tp->authz_list, "ACSLab") == 0);
	CHECK(radius != NULL && radius->kind == CV_AAA_SERVER_RADIUS && radius->port == 1812 &&
	      strcmp(radius->address, "192.0.2.1") == 0 &&
	      strcmp(radius->secret, "another_secret_key") == 0);
	CHECK(acs != NULL && acs->n_methods == 1);
	CHECK(r != NULL && r->n_methods == 2 && r->methods[1].kind == CV_AAA_METHOD_LOCAL);
	CHECK(cfg->n_aaa_attr_lists == 1 && cfg->aaa_attr_lists[0].n_attrs == 1 &&
	      strcmp(cfg->aaa_attr_lists[0].attrs[0].value, "4ACA") == 0);
	d1 = dump(cfg);
	CHECK(d1 != NULL && strstr(d1, "aaa authorization list ACSLab group tacacs+\n") != NULL &&
	      strstr(d1, "aaa group server radius radius\n server 192.0.2.1 key "
	                 "another_secret_key\n") != NULL &&
	      strstr(d1, "hostname") == NULL && strstr(d1, "new-model") == NULL &&
	      strstr(d1, "ip radius source-interface Loopback0\n") != NULL &&
	      strstr(d1, "ip domain") == NULL);
	free(d1);
	check_round_trip(cfg);
	cv_config_unref(cfg);
	/* near misses: a key is needed, one global host only, no other undefined group */
	expect_error("radius-server host 192.0.2.1\n",
	             "certvald.conf:1: radius-server host 192.0.2.1: no key", true);
	expect_error("radius-server key k\nradius-server host 192.0.2.1\n"
	             "radius-server host 192.0.2.2 key k\n",
	             "certvald.conf:3: radius-server host: a second host", true);
	expect_error("aaa authorization network L group nosuch\n",
	             "certvald.conf:1: aaa authorization list L: server group 'nosuch' is not "
	             "defined",
	             true);
	expect_error(
	    "crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\nrevocation-chec crl\n"
	    "nonsense\n",
	    "certvald.conf:4: unknown command 'nonsense' in global mode", true);
}

/* `ocsp cache-lifetime`: unset (-1) by default, 0 turns the cache off, shown when set. */
static void
test_ocsp_cache_lifetime(void)
{
	struct cv_config *cfg = parse_ok("crypto pki trustpoint A\n ca-certificate @DIR@/root.pem\n"
	                                 " ocsp cache-lifetime 0\n"
	                                 "crypto pki trustpoint B\n ca-certificate @DIR@/root.pem\n"
	                                 "crypto pki trustpool policy\n ocsp cache-lifetime 600\n");
	char *d;

	if (cfg == NULL)
		return;
	CHECK_INT_EQ(cv_config_trustpoint(cfg, "A")->rev.ocsp_cache_s, 0);
	CHECK_INT_EQ(cv_config_trustpoint(cfg, "B")->rev.ocsp_cache_s, -1);
	CHECK_INT_EQ(cfg->trustpool.rev.ocsp_cache_s, 600);
	d = dump(cfg);
	CHECK(d != NULL && strstr(d, " ocsp cache-lifetime 0\n") != NULL &&
	      strstr(d, " ocsp cache-lifetime 600\n") != NULL);
	free(d);
	check_round_trip(cfg);
	cv_config_unref(cfg);
	expect_error("crypto pki trustpoint A\n ca-certificate @DIR@/root.pem\n"
	             " ocsp cache-lifetime 86401\n",
	             "certvald.conf:3: ocsp cache-lifetime: 86401 is out of range 0-86400", false);
}

/* ---- quoting ---- */

static void
test_quoting(void)
{
	struct cv_config *cfg = parse_ok("admin-group \"cert admins\"\n"
	                                 "aaa group server radius R\n"
	                                 " server ::1 key \"a \\\"q\\\" !x\"\n"
	                                 "aaa group server ldap L # trailing comment\n"
	                                 " server ldaps://[::1]:636\n"
	                                 " base-dn \"ou=a  b\"\n");
	const struct cv_aaa_server *s;

	if (cfg == NULL)
		return;
	CHECK_STR_EQ(cfg->admin_group, "cert admins");
	s = cv_config_aaa_server(cfg, "R");
	CHECK(s != NULL && strcmp(s->secret, "a \"q\" !x") == 0 && strcmp(s->address, "::1") == 0);
	s = cv_config_aaa_server(cfg, "L");
	CHECK(s != NULL && strcmp(s->base_dn, "ou=a  b") == 0);
	check_round_trip(cfg);
	cv_config_unref(cfg);
}

/* ---- secrets: the full dump keeps them, the redacted dump never writes them ---- */

static char *
dump_redacted(const struct cv_config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK_INT_EQ(cv_config_dump_redacted(cfg, f), 0);
	fclose(f);
	return buf;
}

static size_t
count(const char *text, const char *what)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what))
		n++;
	return n;
}

/* Every secret holds "Zq", which no other part of the configuration does. */
static const char secrets_conf[] =
    "fetch proxy socks5://Zq1u:Zq1p@[::1]:1080\n"
    "aaa group server radius R1\n server 127.0.0.1 key \"ab key Zq2\"\n"
    "aaa group server radius R2\n server 127.0.0.2 auth-port 1645 key key\n"
    "aaa group server radius R3\n server 127.0.0.3 key \"Zq3\\\" \\\\ !x\"\n"
    "aaa group server radius R4\n server 127.0.0.4 key Zq4 auth-port 1813\n"
    "aaa group server ldap L\n server ldaps://Zq5@[::1]:636\n"
    "crypto pki certificate map M 1\n subject-name co x\n"
    "crypto pki certificate map N 1\n subject-name co y\n"
    "crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
    " ocsp url https://Zq6u:Zq6p@ocsp.example/\n crl query ldap://Zq7:a/b@ldap.example\n"
    " match certificate M override cdp url http://Zq8@cdp.example/x.crl\n"
    " match certificate N override cdp directory cn=a@b\n"
    " match certificate M override ocsp 1 url http://Zq9:p@ss@ocsp2.example/\n"
    "crypto pki trustpool policy\n query url ldap://u:Zq10@ldap.example\n";

static void
test_secrets(void)
{
	struct cv_config *cfg = parse_ok(secrets_conf), *again = NULL;
	char *full, *shown;
	struct cv_error err;

	if (cfg == NULL)
		return;
	/* a URL with credentials other than the proxy's is accepted with a warning */
	for (unsigned line = 1; line <= 24; line++) {
		bool want = line == 11 || line == 18 || line == 20 || line == 22 || line == 24;
		bool got = false;

		for (size_t i = 0; i < cfg->n_warnings; i++)
			got |= cfg->warnings[i].line == line &&
			       strstr(cfg->warnings[i].text, "the URL has credentials") != NULL;
		if (got != want)
			fprintf(stderr, "line %u: credentials warning %s\n", line,
			        want ? "missing" : "unexpected");
		CHECK(got == want);
	}
	full = dump(cfg);
	shown = dump_redacted(cfg);
	/* the full dump holds each secret and reads back the same */
	CHECK(strstr(full, " server 127.0.0.1 key \"ab key Zq2\"\n") != NULL);
	CHECK(strstr(full, " server 127.0.0.2 auth-port 1645 key key\n") != NULL);
	CHECK(strstr(full, " server 127.0.0.3 key \"Zq3\\\" \\\\ !x\"\n") != NULL);
	CHECK(strstr(full, " crl query ldap://Zq7:a/b@ldap.example\n") != NULL);
	CHECK_INT_EQ(count(full, "Zq"), 12);
	CHECK_INT_EQ(count(full, "<hidden>"), 0);
	check_round_trip(cfg);
	/* the redacted one none of them */
	CHECK_INT_EQ(count(shown, "Zq"), 0);
	CHECK_INT_EQ(count(shown, "<hidden>"), 11);
	CHECK(strstr(shown, "fetch proxy socks5://<hidden>@[::1]:1080\n") != NULL);
	CHECK(strstr(shown, " server 127.0.0.1 key <hidden>\n") != NULL);
	CHECK(strstr(shown, " server 127.0.0.2 auth-port 1645 key <hidden>\n") != NULL);
	CHECK(strstr(shown, " server 127.0.0.3 key <hidden>\n") != NULL);
	CHECK(strstr(shown, " server 127.0.0.4 auth-port 1813 key <hidden>\n") != NULL);
	CHECK(strstr(shown, " server ldaps://<hidden>@[::1]:636\n") != NULL);
	CHECK(strstr(shown, " ocsp url https://<hidden>@ocsp.example/\n") != NULL);
	CHECK(strstr(shown, " crl query ldap://<hidden>@ldap.example\n") != NULL);
	CHECK(strstr(shown, " crl query ldap://<hidden>@ldap.example\n!\n") != NULL); /* pool */
	CHECK(strstr(shown, " override cdp url http://<hidden>@cdp.example/x.crl\n") != NULL);
	CHECK(strstr(shown, " override cdp directory cn=a@b\n") != NULL); /* a DN, not a URL */
	CHECK(strstr(shown, " override ocsp 1 url http://<hidden>@ocsp2.example/\n") != NULL);
	/* what is not a secret is the same in both */
	CHECK(strstr(shown, "crypto pki certificate map M 1\n subject-name co x\n") != NULL);
	CHECK(strstr(shown, "/root.pem\n") != NULL);
	/* the redacted dump is still a configuration, with the secrets replaced */
	if (cv_config_parse("shown.conf", shown, strlen(shown), &again, &err) < 0) {
		fprintf(stderr, "redacted dump does not parse: %s\n%s", err.msg, shown);
		CHECK(0);
	} else {
		CHECK_STR_EQ(cv_config_aaa_server(again, "R1")->secret, "<hidden>");
		cv_config_unref(again);
	}
	free(full);
	free(shown);
	cv_config_unref(cfg);
}

/* Each row that may carry credentials is marked, so that a new URL row cannot forget it. */
static void
test_secret_rows(void)
{
	const struct cfg_mode *modes[] = {
	    &cfg_mode_global,    &cfg_mode_trustpoint, &cfg_mode_trustpool, &cfg_mode_map,
	    &cfg_mode_attr_list, &cfg_mode_radius,     &cfg_mode_ldap};
	size_t secret = 0;

	for (size_t m = 0; m < CV_ARRAY_LEN(modes); m++)
		for (size_t i = 0; i < modes[m]->n_cmds; i++) {
			const struct cfg_cmd *cmd = &modes[m]->cmds[i];
			bool url = cmd->check >= CFG_URL_HTTP;

			if (url && !(cmd->flags & CFG_SECRET))
				fprintf(stderr, "%s mode: URL row '%s %s' is not CFG_SECRET\n",
				        modes[m]->name, cmd->w[0], cmd->w[1] ? cmd->w[1] : "");
			CHECK(!url || (cmd->flags & CFG_SECRET));
			secret += (cmd->flags & CFG_SECRET) != 0;
		}
	/* fetch proxy; ocsp url, crl query, query url and match in trustpoints and the pool;
	 * the radius and ldap servers; radius-server host and key */
	CHECK_INT_EQ(secret, 1 + 2 * 4 + 2 + 2);
}

/* A mis-quoted RADIUS key is refused without its words in the message. */
static void
test_secret_errors(void)
{
	expect_error("aaa group server radius R\n server 127.0.0.1 key Zq1 Zq2 Zq3\n",
	             "certvald.conf:2: server: unexpected word after the key; a key with "
	             "spaces must be quoted",
	             false);
	expect_error("aaa group server radius R\n server 127.0.0.1 key Zq1 Zq2 Zq3 Zq4 Zq5\n",
	             "certvald.conf:2: server: unexpected word after the key; a key with "
	             "spaces must be quoted",
	             false);
	expect_error("aaa group server radius R\n server 127.0.0.1 colour red key k\n",
	             "certvald.conf:2: server: unknown 'colour'; expected one of: auth-port, key",
	             false);
}

/* ---- R27: override ocsp entries by SEQ ---- */

static void
test_override_order(void)
{
	struct cv_config *cfg = parse_ok(
	    "crypto pki certificate map map1 1\n subject-name co a\n"
	    "crypto pki certificate map map2 1\n subject-name co b\n"
	    "crypto pki certificate map map3 1\n subject-name co c\n"
	    "crypto pki certificate map map4 1\n subject-name co d\n"
	    "crypto pki trustpoint tp1\n ca-certificate @DIR@/root.pem\n"
	    "crypto pki trustpoint tp2\n ca-certificate @DIR@/root.pem\n"
	    "crypto pki trustpoint tp3\n ca-certificate @DIR@/root.pem\n"
	    "crypto pki trustpoint tp4\n ca-certificate @DIR@/root.pem\n"
	    "crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n"
	    " match certificate map1 override ocsp trustpoint tp1 10 url http://192.0.2.1/\n"
	    " match certificate map2 override ocsp trustpoint tp2 15 url http://192.0.2.2/\n"
	    " match certificate map3 override ocsp trustpoint tp3 5 url http://192.0.2.3/\n"
	    " match certificate map4 override ocsp trustpoint tp4 10 url "
	    "http://192.0.2.4/newvalue\n");
	char *d;

	if (cfg == NULL)
		return;
	d = dump(cfg);
	CHECK(contains(
	    d, " match certificate map3 override ocsp trustpoint tp3 5 url http://192.0.2.3/\n"
	       " match certificate map4 override ocsp trustpoint tp4 10 url "
	       "http://192.0.2.4/newvalue\n"
	       " match certificate map2 override ocsp trustpoint tp2 15 url http://192.0.2.2/\n"));
	CHECK(strstr(d, "192.0.2.1") == NULL);
	free(d);
	cv_config_unref(cfg);
}

/* ---- crypto pki certificate chain (R2, manual layout) ---- */

static void
test_chain_block(void)
{
	size_t len, o = 0, cap;
	const uint8_t *der = cv_cert_der(root.cert, &len);
	char *text;
	struct cv_config *cfg;
	const struct cv_trustpoint *tp;

	cap = len * 3 + 1024;
	text = malloc(cap);
	o += (size_t)snprintf(text + o, cap - o,
	                      "crypto pki trustpoint EM-CERT-SERV\n"
	                      "  enrollment url http://192.0.2.33:80\n"
	                      "  crl optional\n"
	                      "!\n"
	                      "crypto pki certificate chain EM-CERT-SERV\n"
	                      "certificate 04\n"
	                      "  30820214 3082017D\n"
	                      "quit\n"
	                      "certificate ca 01\n");
	for (size_t i = 0; i < len; i++)
		o += (size_t)snprintf(text + o, cap - o, "%s%02X",
		                      i % 32 == 0 ? "\n  " : (i % 4 == 0 ? " " : ""), der[i]);
	snprintf(text + o, cap - o, "\n  quit\n!\nsocket /tmp/s\n");
	cfg = parse_ok(text);
	free(text);
	if (cfg == NULL)
		return;
	tp = cv_config_trustpoint(cfg, "EM-CERT-SERV");
	CHECK(tp != NULL && tp->ca_certs.n == 1 && tp->n_inline_certs == 1 && tp->authenticated);
	if (tp != NULL && tp->ca_certs.n == 1)
		CHECK(cv_cert_equal(tp->ca_certs.v[0], root.cert));
	CHECK_STR_EQ(cfg->socket_path, "/tmp/s");
	CHECK(has_warning(cfg, 6, "not a CA certificate"));
	check_round_trip(cfg);
	cv_config_unref(cfg);

	expect_error("crypto pki certificate chain NOTP\n certificate ca 01\n  3082\n  quit\n",
	             "certvald.conf:4: certificate ca 01: ", true);
}

/* ---- loading from a file: relative paths, error names the file ---- */

static void
test_load_file(void)
{
	char conf[400], rel[400], want[600];
	struct cv_config *cfg = NULL;
	struct cv_error err;
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/certvald.conf", dir);
	snprintf(rel, sizeof(rel), "%s/rel.pem", dir);
	CHECK_INT_EQ(tp_write_cert_pem(&root, rel), 0);
	f = fopen(conf, "w");
	fputs("crypto pki trustpoint T\n ca-certificate rel.pem\n", f);
	fclose(f);
	CHECK_INT_EQ(cv_config_load(conf, &cfg, &err), 0);
	if (cfg != NULL) {
		CHECK_STR_EQ(cfg->path, conf);
		CHECK_STR_EQ(cv_config_trustpoint(cfg, "T")->ca_cert_path, rel);
		cv_config_unref(cfg);
	}
	f = fopen(conf, "w");
	fputs("crypto pki trustpoint T\n ca-certificate rel.pem\n bogus\n", f);
	fclose(f);
	cfg = NULL;
	CHECK_INT_EQ(cv_config_load(conf, &cfg, &err), -1);
	CHECK(cfg == NULL);
	snprintf(want, sizeof(want), "%s:3: unknown command 'bogus'", conf);
	CHECK(strncmp(err.msg, want, strlen(want)) == 0);
	snprintf(conf, sizeof(conf), "%s/nonexistent.conf", dir);
	CHECK_INT_EQ(cv_config_load(conf, &cfg, &err), -1);
}

/* ---- the HTTP front and the intermediate pool (issue 14) ---- */

static void
test_http_front(void)
{
	struct cv_config *cfg;
	char *d;

	cfg = parse_ok("crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n");
	if (cfg != NULL) { /* defaults: no listener, nginx's format */
		CHECK_INT_EQ(cfg->n_http_listen, 0);
		CHECK_INT_EQ(cfg->http_max_body, 64u << 10);
		CHECK_INT_EQ(cfg->http_max_header, 32u << 10);
		CHECK_INT_EQ(cfg->http_timeout_s, 10);
		CHECK_INT_EQ(cfg->http_cert_format, CV_HTTP_CERT_NGINX);
		CHECK(cfg->http_cert_header == NULL && cfg->http_trustpoint == NULL);
		CHECK_INT_EQ(cfg->intermediate_pool.n, 0);
		d = dump(cfg);
		CHECK(strstr(d, "http") == NULL && strstr(d, "intermediate-pool") == NULL);
		free(d);
		cv_config_unref(cfg);
	}
	cfg = parse_ok("http listen unix:/run/certval/http.sock\n"
	               "http listen 127.0.0.1:8181\n"
	               "http listen [::1]:8181\n"
	               "http listen 192.0.2.1:80\n"
	               "http max-body 2048\n"
	               "http max-header 4096\n"
	               "http timeout 3\n"
	               "http client-cert-header envoy X-Peer-Cert\n"
	               "http trustpoint T\n"
	               "intermediate-pool @DIR@/sub.pem\n"
	               "crypto pki trustpoint T\n ca-certificate @DIR@/root.pem\n aia-fetch\n");
	if (cfg != NULL) {
		CHECK_INT_EQ(cfg->n_http_listen, 4);
		CHECK_STR_EQ(cfg->http_listen[0], "unix:/run/certval/http.sock");
		CHECK_STR_EQ(cfg->http_listen[2], "[::1]:8181");
		CHECK_INT_EQ(cfg->http_max_body, 2048);
		CHECK_INT_EQ(cfg->http_max_header, 4096);
		CHECK_INT_EQ(cfg->http_timeout_s, 3);
		CHECK_INT_EQ(cfg->http_cert_format, CV_HTTP_CERT_ENVOY);
		CHECK_STR_EQ(cfg->http_cert_header, "X-Peer-Cert");
		CHECK_STR_EQ(cfg->http_trustpoint, "T");
		CHECK_INT_EQ(cfg->intermediate_pool.n, 1);
		/* only the non-loopback address is warned about */
		CHECK(has_warning(cfg, 4, "not a loopback address"));
		CHECK_INT_EQ(cfg->n_warnings, 1);
		check_round_trip(cfg);
		d = dump(cfg);
		CHECK(contains(d, "\nhttp listen [::1]:8181\n"));
		CHECK(contains(d, "\nhttp client-cert-header envoy X-Peer-Cert\n"));
		CHECK(contains(d, "\nintermediate-pool "));
		CHECK(contains(d, "\n aia-fetch\n"));
		CHECK(cfg->n_trustpoints == 1 && cfg->trustpoints[0].aia_fetch);
		free(d);
		cv_config_unref(cfg);
	}
	expect_error("http listen 127.0.0.1\n",
	             "certvald.conf:1: http listen: '127.0.0.1': expected unix:PATH, ADDRESS:PORT "
	             "or [ADDRESS]:PORT",
	             false);
	expect_error("http listen 127.0.0.1:0\n",
	             "certvald.conf:1: http listen: '127.0.0.1:0': the port must be 1 to 65535",
	             false);
	expect_error("http listen unix:relative.sock\n",
	             "certvald.conf:1: http listen: 'unix:relative.sock': expected "
	             "unix:/ABSOLUTE/PATH (at most 107 bytes)",
	             false);
	expect_error("http listen ::1:80\n",
	             "certvald.conf:1: http listen: '::1:80': an IPv6 address goes in brackets",
	             false);
	expect_error("http listen unix:/a\nhttp listen unix:/b\nhttp listen unix:/c\n"
	             "http listen unix:/d\nhttp listen unix:/e\n",
	             "certvald.conf:5: http listen: at most 4 addresses", false);
	expect_error("http client-cert-header apache\n",
	             "certvald.conf:1: http client-cert-header: unknown format 'apache'; expected "
	             "one of: nginx, envoy, traefik, caddy",
	             false);
	expect_error("http max-body 100\n", "certvald.conf:1: http max-body", true);
	expect_error("intermediate-pool @DIR@/missing.pem\n", "certvald.conf:1: intermediate-pool",
	             true);
	expect_error("http trustpoint NOPE\ncrypto pki trustpoint T\n ca-certificate "
	             "@DIR@/root.pem\n",
	             "certvald.conf:1: http trustpoint NOPE is not configured", false);
}

int
main(void)
{
	setup();
	test_full();
	test_defaults();
	test_legacy();
	test_abbreviations();
	test_validation_settings();
	test_errors();
	test_fingerprints();
	test_warnings();
	test_manual_forms();
	test_ocsp_cache_lifetime();
	test_quoting();
	test_secrets();
	test_secret_rows();
	test_secret_errors();
	test_override_order();
	test_chain_block();
	test_load_file();
	test_http_front();
	teardown();
	return check_summary();
}
