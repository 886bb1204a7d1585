/*
 * certvalctl.c: the administrator's command: global options, and the table of commands that
 * both the dispatch and the usage text come from.
 */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../client/certval.h"
#include "ctl.h"

static int ocsp_check(const struct cv_ctl *ctl, int argc, char **argv);

/*
 * The commands: the dispatch and the usage text both come from this table (as bgpctl prints
 * its help from its parser table), so that a command cannot miss from the help. Adding a
 * command is one row: name, function, arguments, help. A row without a function is a further
 * form of the command above it; a row with usage prints its own rows (show and clear, from the
 * table of views in ctl_show.c).
 */
static const struct command {
	const char *name;
	int (*fn)(const struct cv_ctl *, int, char **);
	const char *args; /* lines separated by '\n' */
	const char *help; /* lines separated by '\n' */
	void (*usage)(FILE *out);
} commands[] = {
    {"verify", cv_ctl_verify,
     "[--trustpoint NAME]... [--at TIME] [--purpose any|ike|server|client]\n"
     "[--peer-name NAME] [--peer-addr ADDR] [--application TAG]\n"
     "[--untrusted FILE]... [--detail verdict|evidence|trace] [--json] [-v] CHAIN.pem",
     "ask the daemon for a verdict on CHAIN.pem (peer certificate first, then\n"
     "intermediates in any order; PEM or DER); TIME is ISO 8601 or Unix seconds",
     NULL},
    {"verify", NULL, "--offline --config FILE [--trustpoint NAME]... [options as above] CHAIN.pem",
     "the same engine in-process with a configuration file (no daemon)", NULL},
    {"verify", NULL,
     "--offline --ca TRUST.pem [--crl CRLS.pem]... [--revocation crl|ocsp|none[,..]]\n"
     "[--policy OID]... [--explicit-policy] [--inhibit-mapping] [--inhibit-any]\n"
     "[--allow-weak sha1,md5,dsa,rsa-1024,p192,rsa-odd-size] [--profile rfc5280|webpki]\n"
     "[--max-depth N] [--allow-cn-fallback] [options as above] CHAIN.pem",
     "the engine in-process with an ad-hoc trustpoint ADHOC (revocation: none\n"
     "without --crl, crl with --crl)",
     NULL},
    {"ping", cv_ctl_ping, "", "check that the daemon answers", NULL},
    {"status", cv_ctl_status, "[--json]", "daemon status and statistics", NULL},
    {"reload", cv_ctl_reload, "", "reload the daemon's configuration", NULL},
    {"show", cv_ctl_show, NULL, NULL, cv_ctl_show_usage},
    {"clear", cv_ctl_clear, NULL, NULL, cv_ctl_clear_usage},
    {"stats", cv_ctl_stats, "", "requests, verdicts, caches and downloads", NULL},
    {"crl-request", cv_ctl_crl_request, "TP", "download the trustpoint's cached CRLs again now",
     NULL},
    {"watch", cv_ctl_watch, "[--json] [--trustpoint TP | --cert CERT.pem...] [--count N]",
     "print revocation events as they come (all, a trustpoint's, or those of\n"
     "the certificates given); reconnects when the daemon restarts",
     NULL},
    {"subscribe", cv_ctl_watch, "[options as watch]", "the same (the protocol's name)", NULL},
    {"map-test", cv_ctl_map_test, "--config FILE --map LABEL CERT.pem",
     "show which sequences and lines of a certificate map CERT.pem satisfies", NULL},
    {"ocsp-check", ocsp_check,
     "--response FILE --cert FILE --issuer FILE [--at TIME]\n[--max-age SECONDS] [--nonce-hex HEX]",
     "check a stored OCSP response offline", NULL},
    {"crl-check", cv_ctl_crl_check,
     "--crl FILE --cert FILE --issuer FILE [--at TIME]\n[--max-age SECONDS]",
     "check a certificate against one CRL offline (RFC 5280 6.3)", NULL},
};

#define USAGE_COLUMN 25 /* where help starts when the words fit before it */

/* Writes the lines of text, the first after what is on the line already, the others indented. */
static void
put_lines(FILE *out, const char *text, int indent)
{
	for (const char *p = text;; p++) {
		const char *nl = strchr(p, '\n');

		fprintf(out, "%.*s\n", nl != NULL ? (int)(nl - p) : (int)strlen(p), p);
		if (nl == NULL)
			return;
		p = nl;
		fprintf(out, "%*s", indent, "");
	}
}

void
cv_ctl_usage_row(FILE *out, const char *command, const char *words, const char *help)
{
	int len = (int)strlen(command) + (words[0] != '\0' ? 1 + (int)strlen(words) : 0);

	fprintf(out, "  %s%s", command, words[0] != '\0' ? " " : "");
	if (strchr(words, '\n') == NULL && len < USAGE_COLUMN) {
		fprintf(out, "%s%*s", words, USAGE_COLUMN - len, "");
		put_lines(out, help, 2 + USAGE_COLUMN);
		return;
	}
	put_lines(out, words, 3 + (int)strlen(command));
	fprintf(out, "      ");
	put_lines(out, help, 6);
}

static void
usage(FILE *out)
{
	fputs("usage: certvalctl [--socket PATH] COMMAND [ARGS]\n\n", out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (commands[i].usage != NULL)
			commands[i].usage(out);
		else
			cv_ctl_usage_row(out, commands[i].name, commands[i].args, commands[i].help);
	}
	fputs("\n"
	      "  status, reload, show, clear, stats and crl-request are for administrators;\n"
	      "  status, show, clear, stats and crl-request take --json.\n"
	      "  --socket PATH defaults to $CERTVAL_SOCKET, then " CV_CLIENT_DEFAULT_SOCKET ".\n"
	      "  --json prints the full verdict as JSON; -v adds the evidence and the trace.\n"
	      "\n"
	      "exit status: 0 accepted (or done), 1 rejected, 2 usage or configuration error,\n"
	      "             3 internal or connection error\n",
	      out);
}

int
cv_ctl_usage(void)
{
	usage(stderr);
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
			usage(stdout);
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
		if (commands[i].fn != NULL && strcmp(argv[optind], commands[i].name) == 0) {
			char **sub = argv + optind;
			int subc = argc - optind;

			optind = 0; /* reinitialise getopt for the command's own options */
			return commands[i].fn(&ctl, subc, sub);
		}
	}
	cv_ctl_fail(CV_CTL_USAGE, "unknown command \"%s\"", argv[optind]);
	return cv_ctl_usage();
}
