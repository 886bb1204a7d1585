/* httpd.h: the project's HTTP test server (tests/support/httpd_fault.py) for the C tests. */
#ifndef CV_TEST_HTTPD_H
#define CV_TEST_HTTPD_H

#include <sys/types.h>

/*
 * Starts httpd_fault.py (from $CERTVAL_SOURCE_DIR, else the current directory) on a free
 * loopback port, serving root (NULL: its default), and dies with this process. *port gets its
 * port. The server exits when its stdin closes: *to_server is the write end (NULL: it stays
 * open until this process ends). Returns its pid, or -1.
 */
pid_t test_httpd_start(const char *root, int *port, int *to_server);

#endif
