/*
 * accept_guard.h: keeps a listener from spinning when accept() fails for want of descriptors
 * (EMFILE, ENFILE) or memory. libevent's listeners are level-triggered: a pending connection
 * that cannot be accepted wakes the loop again at once, forever. The socket server and the
 * HTTP front share the process's descriptors, so both listeners call this from their accept
 * error callbacks.
 */
#ifndef CV_ACCEPT_GUARD_H
#define CV_ACCEPT_GUARD_H

#include <stdbool.h>

struct evconnlistener;

/*
 * For an accept() that failed with error: when it is a shortage (EMFILE, ENFILE, ENOBUFS,
 * ENOMEM), disables listener and enables it again 100 ms later; returns whether it did. The
 * listener must live until its event loop is freed (both certvald listeners do).
 */
bool cv_accept_pause(struct evconnlistener *listener, int error);

#endif
