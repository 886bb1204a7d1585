/*
 * certval_pool.h: the charon plugin's long-lived connections to certvald.
 *
 * charon decides authorizations in its worker threads, several at once, and a libcertval
 * client is not thread safe: the pool lends one connection per verdict and takes it back, so
 * connections live as long as the plugin (no connect per IKE_SA) and verdicts do not wait for
 * each other. The revocation event stream will get a connection of its own beside the pool.
 */
#ifndef CERTVAL_POOL_H_
#define CERTVAL_POOL_H_

#include <stddef.h>

/* libcertval's API: the plugin's one include of it (the header moves to client/ later). */
#include "certval.h"

typedef struct certval_pool_t certval_pool_t;

struct certval_pool_t {
	/*
	 * One verdict within timeout_ms milliseconds. Returns CV_CLIENT_OK and fills *verdict
	 * (release with cv_client_verdict_free), or a negative cv_client_status with the reason
	 * in words in err. Thread safe.
	 */
	int (*verify)(certval_pool_t *this, const struct cv_client_request *req,
	              struct cv_client_verdict *verdict, char *err, size_t err_len);

	/* Closes every connection; no verify may be running. */
	void (*destroy)(certval_pool_t *this);
};

/*
 * A pool for certvald at socket_path (copied); verdicts wait at most timeout_ms. Connects one
 * connection at once (a daemon not running yet is no error: the first verdict retries).
 * Returns NULL when out of memory.
 */
certval_pool_t *certval_pool_create(const char *socket_path, int timeout_ms);

#endif
