/* accept_guard.c: pauses a listener whose accept() ran out of descriptors (accept_guard.h). */
#include "accept_guard.h"

#include <errno.h>

#include <event2/event.h>
#include <event2/listener.h>

#define PAUSE_MS 100 /* how long a listener rests after a shortage */

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	evconnlistener_enable(arg);
}

bool
cv_accept_pause(struct evconnlistener *listener, int error)
{
	const struct timeval pause = {0, PAUSE_MS * 1000};

	if (error != EMFILE && error != ENFILE && error != ENOBUFS && error != ENOMEM)
		return false;
	/* a one-shot event: libevent frees it once run, or with the event base */
	if (event_base_once(evconnlistener_get_base(listener), -1, EV_TIMEOUT, resume_cb, listener,
	                    &pause) != 0)
		return false; /* out of memory: keep listening rather than stop for good */
	evconnlistener_disable(listener);
	return true;
}
