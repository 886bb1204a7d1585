/*
 * certval_pool.c: a pool of libcertval blocking clients, one lent per verdict (see
 * certval_pool.h).
 */
#include "certval_pool.h"

#include <collections/linked_list.h>
#include <library.h>
#include <threading/mutex.h>
#include <utils/debug.h>

#include <stdio.h>

/* Idle connections kept; more verdicts at once open more, closed when given back. */
#define POOL_MAX_IDLE 8

typedef struct private_certval_pool_t private_certval_pool_t;

struct private_certval_pool_t {
	certval_pool_t public;
	char *socket_path;
	int timeout_ms;
	mutex_t *lock;       /* guards idle */
	linked_list_t *idle; /* struct cv_client *, owned */
};

/* An idle connection, or a new one (NULL when out of memory). */
static struct cv_client *
borrow(private_certval_pool_t *this)
{
	struct cv_client *client = NULL;

	this->lock->lock(this->lock);
	if (this->idle->remove_first(this->idle, (void **)&client) != SUCCESS)
		client = NULL;
	this->lock->unlock(this->lock);
	if (client == NULL) {
		/* CV_CLIENT_ERR_CONNECT still sets client: the verify call connects again */
		if (cv_client_open(this->socket_path, &client) == CV_CLIENT_ERR_MEMORY)
			client = NULL;
	}
	return client;
}

/* Keeps client for the next verdict, or closes it when enough are idle. */
static void
give_back(private_certval_pool_t *this, struct cv_client *client)
{
	this->lock->lock(this->lock);
	if (this->idle->get_count(this->idle) < POOL_MAX_IDLE) {
		this->idle->insert_last(this->idle, client);
		client = NULL;
	}
	this->lock->unlock(this->lock);
	cv_client_close(client);
}

METHOD(certval_pool_t, verify, int, private_certval_pool_t *this,
       const struct cv_client_request *req, struct cv_client_verdict *verdict, char *err,
       size_t err_len)
{
	struct cv_client *client = borrow(this);
	int status;

	if (client == NULL) {
		snprintf(err, err_len, "out of memory");
		return CV_CLIENT_ERR_MEMORY;
	}
	/* libcertval bounds the whole call, reconnects a connection the daemon closed */
	status = cv_client_verify(client, req, this->timeout_ms, verdict);
	if (status != CV_CLIENT_OK)
		snprintf(err, err_len, "%s", cv_client_error(client));
	give_back(this, client);
	return status;
}

METHOD(certval_pool_t, destroy, void, private_certval_pool_t *this)
{
	this->idle->destroy_function(this->idle, (void *)cv_client_close);
	this->lock->destroy(this->lock);
	free(this->socket_path);
	free(this);
}

certval_pool_t *
certval_pool_create(const char *socket_path, int timeout_ms)
{
	private_certval_pool_t *this;
	struct cv_client *first;

	INIT(this,
	     .public =
	         {
	             .verify = _verify,
	             .destroy = _destroy,
	         },
	     .socket_path = strdup(socket_path), .timeout_ms = timeout_ms,
	     .lock = mutex_create(MUTEX_TYPE_DEFAULT), .idle = linked_list_create(), );
	if (this->socket_path == NULL) {
		destroy(this);
		return NULL;
	}
	first = borrow(this);
	if (first != NULL)
		give_back(this, first);
	return &this->public;
}
