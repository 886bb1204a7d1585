/* httpd.c: starts the project's HTTP test server for the C tests (see httpd.h). */
#include "httpd.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

/* The child: stdout to out, stdin from in, then the server. */
static void
exec_server(const char *script, const char *root, const int out[2], const int in[2])
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	dup2(out[1], 1);
	dup2(in[0], 0);
	close(out[0]);
	close(in[1]);
	if (root != NULL)
		execlp("python3", "python3", script, "--root", root, "--stdin-exit", (char *)NULL);
	else
		execlp("python3", "python3", script, "--stdin-exit", (char *)NULL);
	_exit(127);
}

pid_t
test_httpd_start(const char *root, int *port, int *to_server)
{
	const char *src = getenv("CERTVAL_SOURCE_DIR");
	char script[1024], line[64];
	int out[2], in[2];
	FILE *fp;
	pid_t pid;

	snprintf(script, sizeof(script), "%s/tests/support/httpd_fault.py", src ? src : ".");
	if (pipe(out) < 0 || pipe(in) < 0)
		return -1;
	if ((pid = fork()) == 0)
		exec_server(script, root, out, in);
	close(out[1]);
	close(in[0]);
	if (to_server != NULL)
		*to_server = in[1];
	fp = fdopen(out[0], "r");
	if (fp == NULL || fgets(line, sizeof(line), fp) == NULL)
		return -1;
	fclose(fp);
	*port = atoi(line);
	return *port > 0 ? pid : -1;
}
