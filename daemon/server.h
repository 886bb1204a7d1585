/*
 * server.h: the daemon's socket server: the listener, the connections, request framing and
 * the dispatch of operations to the engine and to the administrative handlers.
 */
#ifndef CV_SERVER_H
#define CV_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

#include "../common/error.h"
#include "../policy/engine.h"

struct event_base;
struct cv_server;

struct cv_server_opts {
	const char *config_path;       /* the file `reload` reads again */
	const char *socket_path;       /* where to listen */
	unsigned socket_mode;          /* e.g. 0660 */
	const char *socket_group;      /* group of the socket file (the admin group), or NULL */
	bool test_clock;               /* allow the `clock` operation */
	unsigned test_ingest_delay_ms; /* tests: see cv_engine_set_test_ingest_delay */
	unsigned test_read_delay_ms; /* tests: each batch read on a worker waits this long after */
};

/*
 * Creates the listening socket (a stale socket file nobody listens on is replaced; a live one
 * is an error). Call before daemonising so that errors reach the terminal; returns the file
 * descriptor or -1 with err set.
 */
int cv_server_bind(const struct cv_server_opts *opts, struct cv_error *err);

/*
 * Starts serving on fd (taken over) with the engine (borrowed; it must outlive the server's
 * use of it, see cv_server_free). Returns NULL with err set on failure (fd is then closed).
 */
struct cv_server *cv_server_new(struct event_base *base, struct cv_engine *engine, int fd,
                                const struct cv_server_opts *opts, struct cv_error *err);

/* Reloads the configuration file; on error keeps the running one and says why in err. */
int cv_server_reload(struct cv_server *srv, struct cv_error *err);

/*
 * Shutdown, in two steps around cv_engine_free: cv_server_close stops listening, removes the
 * socket file and closes every connection (replies still due are dropped); after the engine
 * is freed (it calls back or forgets the requests in flight), cv_server_free releases the rest.
 */
void cv_server_close(struct cv_server *srv);
void cv_server_free(struct cv_server *srv);

/*
 * The server's verify calls (verify_call.h), which the HTTP front shares so that both
 * transports run one implementation and one set of counters; and its administrative views.
 */
struct cv_calls *cv_server_calls(const struct cv_server *srv);
/* The parsed-certificate cache the server's requests share (borrowed: lives as the server). */
struct cv_cert_cache *cv_server_certs(const struct cv_server *srv);
struct cv_admin *cv_server_admin(const struct cv_server *srv);

/*
 * May the peer (credentials from SO_PEERCRED) run administrative operations? Yes for uid 0,
 * the daemon's own uid, and members of group (primary or supplementary through the peer's
 * passwd entry). group may be NULL.
 */
bool cv_server_peer_is_admin(uid_t uid, gid_t gid, const char *group);

#endif
