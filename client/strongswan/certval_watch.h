/*
 * certval_watch.h: the plugin's subscription to certvald's revocation events (issue 16): a
 * peer whose certificate is revoked while its IKE_SA is up loses the IKE_SA.
 */
#ifndef CERTVAL_WATCH_H_
#define CERTVAL_WATCH_H_

#include "certval_listener.h"

typedef struct certval_watch_t certval_watch_t;

struct certval_watch_t {
	/* Stops the thread (within a second) and closes the subscription. */
	void (*destroy)(certval_watch_t *this);
};

/*
 * Subscribes to certvald's events (charon.plugins.certval.socket) on a thread of its own;
 * listener (borrowed, must outlive the watch) asks certvald again about the peers. A daemon
 * that is not there yet is asked again every second. NULL when out of memory.
 */
certval_watch_t *certval_watch_create(certval_listener_t *listener);

#endif
