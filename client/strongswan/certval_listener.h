/*
 * certval_listener.h: the charon bus listener that asks certvald about every peer that
 * authenticated with a certificate, and refuses the IKE_SA unless the verdict is ACCEPT.
 */
#ifndef CERTVAL_LISTENER_H_
#define CERTVAL_LISTENER_H_

#include <bus/listeners/listener.h>
#include <sa/ike_sa.h>

typedef struct certval_listener_t certval_listener_t;

struct certval_listener_t {
	listener_t listener; /* register this on charon->bus */
	/*
	 * Asks certvald again about every certificate the peer of an established IKE_SA
	 * authenticated with (issue 16: after a revocation event); TRUE only when every
	 * verdict is ACCEPT.
	 */
	bool (*recheck)(certval_listener_t *this, ike_sa_t *ike_sa);
	void (*destroy)(certval_listener_t *this);
};

/*
 * Reads charon.plugins.certval.{socket,trustpoint,timeout,application} and connects to
 * certvald. Returns NULL (with a log line) on a bad setting or no memory.
 */
certval_listener_t *certval_listener_create(void);

#endif
