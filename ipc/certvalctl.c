/* certvalctl.c: the administrator's command: global options and dispatch to the commands. */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certval.h"
#include "ctl.h"

static const char usage_text[] =
    "usage: certvalctl [--socket PATH] COMMAND [ARGS]\n"
    "\n"
    "  verify [--trustpoint NAME]... [--at TIME] [--purpose any|ike|server|client]\n"
    "         [--peer-name NAME] [--peer-addr ADDR] [--application TAG]\n"
    "         [--untrusted FILE]... [--json] [-v] CHAIN.pem\n"
    "      ask the daemon for a verdict on CHAIN.pem (peer certificate first, then\n"
    "      intermediates in any order; PEM or DER); TIME is ISO 8601 or Unix seconds\n"
    "  verify --offline --config FILE [--trustpoint NAME]... [options as above] CHAIN.pem\n"
    "      the same engine in-process with a configuration file (no daemon)\n"
    "  verify --offline --ca TRUST.pem [--crl CRLS.pem]... [--revocation crl|ocsp|none[,..]]\n"
    "         [--policy OID]... [--explicit-policy] [--inhibit-mapping] [--inhibit-any]\n"
    "         [--allow-weak sha1,md5,dsa,rsa-1024,p192,rsa-odd-size] [options as above] CHAIN.pem\n"
    "      the engine in-process with an ad-hoc trustpoint ADHOC (revocation: none\n"
    "      without --crl, crl with --crl)\n"
    "  ping                     check that the daemon answers\n"
    "  status [--json]          daemon status and statistics (administrators)\n"
    "  reload                   reload the daemon's configuration (administrators)\n"
    "  show crls [TP]           cached CRLs and `crl file` CRLs\n"
    "  show trustpoints [status | TP [status]]\n"
    "                           trustpoints, CA authentication, expiry notices\n"
    "  show certificates [TP [verbose]]\n"
    "                           the trustpoints' CA certificates\n"
    "  show timers              CRL expiries and expiry notices, soonest first\n"
    "  show ocsp                cached OCSP answers\n"
    "  show fetch               CDP and responder URLs: state, last error, latency\n"
    "  show running-config      the running configuration in canonical form\n"
    "  clear crls [TP]          drop cached CRLs (all, or one trustpoint's)\n"
    "  clear ocsp               drop cached OCSP answers\n"
    "  stats                    requests, verdicts, caches and downloads\n"
    "      (show, clear and stats are for administrators and take --json)\n"
    "  crl-request TRUSTPOINT      download the trustpoint's cached CRLs again now\n"
    "  map-test --config FILE --map LABEL CERT.pem\n"
    "      show which sequences and lines of a certificate map CERT.pem satisfies\n"
    "  ocsp-check --response FILE --cert FILE --issuer FILE [--at TIME]\n"
    "         [--max-age SECONDS] [--nonce-hex HEX]\n"
    "      check a stored OCSP response offline\n"
    "\n"
    "  --socket PATH defaults to $CERTVAL_SOCKET, then " CV_CLIENT_DEFAULT_SOCKET ".\n"
    "  --json prints the full verdict as JSON; -v adds the evidence and the trace.\n"
    "\n"
    "exit status: 0 accepted (or done), 1 rejected, 2 usage or configuration error,\n"
    "             3 internal or connection error\n";

int
cv_ctl_usage(void)
{
	fputs(usage_text, stderr);
	return CV_CTL_USAGE;
}

int
cv_ctl_fail(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("certvalctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

static int
ocsp_check(const struct cv_ctl *ctl, int argc, char **argv)
{
	return cv_ctl_ocsp_check(argc, argv);
}

static const struct {
	const char *name;
	int (*fn)(const struct cv_ctl *, int, char **);
} commands[] = {
    {"verify", cv_ctl_verify},     {"ping", cv_ctl_ping},
    {"status", cv_ctl_status},     {"reload", cv_ctl_reload},
    {"ocsp-check", ocsp_check},    {"show", cv_ctl_show},
    {"clear", cv_ctl_clear},       {"stats", cv_ctl_stats},
    {"map-test", cv_ctl_map_test}, {"crl-request", cv_ctl_crl_request},
};

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"socket", required_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct cv_ctl ctl = {NULL};
	int ch;

	/* A daemon that goes away, or an LDAP server that closes early (offline verification
	 * fetches CRLs), must give an error, not kill the command. */
	signal(SIGPIPE, SIG_IGN);

	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'S':
			ctl.socket_path = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return cv_ctl_usage();
		}
	}
	if (ctl.socket_path == NULL)
		ctl.socket_path = getenv("CERTVAL_SOCKET");
	if (ctl.socket_path == NULL || ctl.socket_path[0] == '\0')
		ctl.socket_path = CV_CLIENT_DEFAULT_SOCKET;
	if (optind >= argc)
		return cv_ctl_usage();
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			char **sub = argv + optind;
			int subc = argc - optind;

			optind = 0; /* reinitialise getopt for the command's own options */
			return commands[i].fn(&ctl, subc, sub);
		}
	}
	cv_ctl_fail(CV_CTL_USAGE, "unknown command \"%s\"", argv[optind]);
	return cv_ctl_usage();
}
