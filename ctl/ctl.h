/* ctl.h: the command groups of certvalctl and what they share (exit codes, the socket). */
#ifndef CV_CTL_H
#define CV_CTL_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

/* Exit status contract (DESIGN.md "Command line contract"). */
enum {
	CV_CTL_ACCEPT = 0, /* accepted, or an administrative command succeeded */
	CV_CTL_REJECT = 1,
	CV_CTL_USAGE = 2, /* usage or configuration error */
	CV_CTL_ERROR = 3, /* internal or connection error */
};

#define CV_CTL_TIMEOUT_MS 60000 /* how long a command waits for the daemon */

struct cv_ctl {
	const char *socket_path; /* --socket, $CERTVAL_SOCKET or the default */
};

/* Each command takes its own argv (argv[0] is the command name) and returns the exit status. */
int cv_ctl_verify(const struct cv_ctl *ctl, int argc, char **argv);
int cv_ctl_ping(const struct cv_ctl *ctl, int argc, char **argv);
int cv_ctl_status(const struct cv_ctl *ctl, int argc, char **argv);
int cv_ctl_reload(const struct cv_ctl *ctl, int argc, char **argv);
/* show, clear and stats (ctl_show.c): the administrator views of the daemon. */
int cv_ctl_show(const struct cv_ctl *ctl, int argc, char **argv);
int cv_ctl_clear(const struct cv_ctl *ctl, int argc, char **argv);
int cv_ctl_stats(const struct cv_ctl *ctl, int argc, char **argv);
/* The usage rows of show and clear, one per view, from ctl_show.c's table of views. */
void cv_ctl_show_usage(FILE *out);
void cv_ctl_clear_usage(FILE *out);

/*
 * Sends one request object to the daemon; on success (CV_CTL_ACCEPT) *result is the reply's
 * member named key (new reference); otherwise the error is printed and its exit status
 * returned.
 */
int cv_ctl_call(const struct cv_ctl *ctl, const json_t *req, const char *key, json_t **result);

/* certvalctl crl-request TP (ctl_show.c): downloads a trustpoint's cached CRLs again. */
int cv_ctl_crl_request(const struct cv_ctl *ctl, int argc, char **argv);

/* certvalctl watch (ctl_watch.c): prints the daemon's revocation events (issue 16). */
int cv_ctl_watch(const struct cv_ctl *ctl, int argc, char **argv);

/* certvalctl map-test (ctl_maptest.c): tries a certificate map on a certificate offline. */
int cv_ctl_map_test(const struct cv_ctl *ctl, int argc, char **argv);

/* certvalctl ocsp-check (ctl_ocsp_check.c): checks a stored OCSP response offline. */
int cv_ctl_ocsp_check(int argc, char **argv);

/* certvalctl crl-check (ctl_crl_check.c): one certificate against one CRL offline (6.3). */
int cv_ctl_crl_check(const struct cv_ctl *ctl, int argc, char **argv);

/* Prints a message to stderr prefixed with "certvalctl: " and returns status. */
int cv_ctl_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the usage text to stderr and returns CV_CTL_USAGE. */
int cv_ctl_usage(void);

/*
 * One row of the usage text: "  COMMAND WORDS" and help in a column, or below when the words
 * are long. Lines of words after a '\n' are indented under the first word after COMMAND; help
 * may have several lines too.
 */
void cv_ctl_usage_row(FILE *out, const char *command, const char *words, const char *help);

#endif
