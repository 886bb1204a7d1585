/* certvald.c: the daemon's entry point: options, configuration, daemonising, signals, loop. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "allocator.h"
#include "../common/log.h"
#include "../policy/config.h"
#include "../policy/engine.h"
#include "../validator/fetch/fetch.h"
#include "http_front.h"
#include "server.h"

#define DEFAULT_CONFIG "/etc/certval/certvald.conf"

struct options {
	bool foreground;
	bool debug;
	bool test_clock;
	unsigned test_ingest_delay_ms;
	unsigned test_read_delay_ms;
	const char *config;
	const char *socket;
};

static void
usage(void)
{
	fputs("usage: certvald [-f] [-d] [-c CONFIG] [-s SOCKET] [--test-clock]\n"
	      "                [--test-ingest-delay MS] [--test-read-delay MS]\n"
	      "  -f, --foreground  stay in the foreground and log to stderr\n"
	      "  -d, --debug       log debug messages\n"
	      "  -c, --config FILE configuration file (default " DEFAULT_CONFIG ")\n"
	      "  -s, --socket PATH listen here instead of the configured socket\n"
	      "  --test-clock      allow the `clock` operation (tests only)\n"
	      "  --test-ingest-delay MS  each downloaded CRL's ingest waits MS first (tests only)\n"
	      "  --test-read-delay MS    each batch of request lines read on a worker waits MS "
	      "before\n"
	      "                          the loop dispatches it (tests only)\n",
	      stderr);
	exit(2);
}

/* A delay of 0 to 60000 ms, all digits. */
static int
test_delay(const char *arg, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || errno != 0 || v > 60000)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static void
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
	    {"foreground", no_argument, NULL, 'f'},
	    {"debug", no_argument, NULL, 'd'},
	    {"config", required_argument, NULL, 'c'},
	    {"socket", required_argument, NULL, 's'},
	    {"test-clock", no_argument, NULL, 'T'},
	    {"test-ingest-delay", required_argument, NULL, 'I'},
	    {"test-read-delay", required_argument, NULL, 'R'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->config = DEFAULT_CONFIG;
	while ((ch = getopt_long(argc, argv, "fdc:s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			o->foreground = true;
			break;
		case 'd':
			o->debug = true;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 's':
			o->socket = optarg;
			break;
		case 'T':
			o->test_clock = true;
			break;
		case 'I':
			if (test_delay(optarg, &o->test_ingest_delay_ms) < 0)
				usage();
			break;
		case 'R':
			if (test_delay(optarg, &o->test_read_delay_ms) < 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

/* An absolute form of path (the daemon changes directory to /), malloc'd. */
static char *
absolute(const char *path)
{
	char cwd[PATH_MAX];
	char *abs;

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return strdup(path);
	if (asprintf(&abs, "%s/%s", cwd, path) < 0)
		return NULL;
	return abs;
}

static void
log_warnings(const struct cv_config *cfg)
{
	for (size_t i = 0; i < cfg->n_warnings; i++)
		cv_log_warning("%s:%u: %s", cfg->path, cfg->warnings[i].line,
		               cfg->warnings[i].text);
}

/*
 * Raises the soft limit on open files to the hard one: a thousand idle clients on the HTTP
 * front must not use up the descriptors that the Unix socket's clients and the fetches need
 * (systemd's default soft limit is 1024, its hard limit far higher).
 */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		cv_log_warning("setrlimit(RLIMIT_NOFILE): %s", strerror(errno));
}

static void
hup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct cv_error err = {""};

	cv_log_notice("SIGHUP: reloading the configuration");
	(void)cv_server_reload(arg, &err); /* a failure is logged; the old configuration stays */
}

static void
term_cb(evutil_socket_t sig, short what, void *arg)
{
	cv_log_notice("signal %d: shutting down", (int)sig);
	event_base_loopbreak(arg);
}

/* Runs the loop until SIGTERM or SIGINT; returns the exit status. */
static int
serve(struct cv_config *cfg, struct cv_server_opts *sopts, int fd,
      struct cv_http_listeners *http_fds)
{
	struct cv_http_front *front = NULL;
	struct event *sig_hup = NULL, *sig_term = NULL, *sig_int = NULL;
	struct event_base *base = event_base_new();
	struct cv_engine *engine = NULL;
	struct cv_fetcher *fetcher = NULL;
	struct cv_server *srv = NULL;
	struct cv_error err = {""};
	int status = 1, loaded;

	if (base == NULL || (engine = cv_engine_new(base, cfg, NULL)) == NULL ||
	    (fetcher = cv_fetcher_new(base, cv_engine_clock(engine), cfg->fetch_retry_after_s)) ==
	        NULL) {
		cv_log_err("cannot create the event loop, the engine or the fetcher");
		close(fd);
		goto done;
	}
	cv_engine_set_fetcher(engine, fetcher);
	cv_engine_set_test_ingest_delay(engine, sopts->test_ingest_delay_ms);
	if (cv_engine_set_workers(engine, cfg->workers) < 0)
		cv_log_warning(
		    "worker threads not started: chains are validated on the event loop");
	if (cv_engine_enable_verdict_cache(engine) < 0)
		cv_log_warning(
		    "verdict cache not started (out of memory): every chain is evaluated");
	if (cv_engine_start_refresh(engine) < 0)
		cv_log_warning("CRL refresh timer not started: CRLs are downloaded on demand only");
	loaded = cv_engine_persist_crls(engine, &err);
	if (loaded < 0)
		cv_log_warning("CRL cache not persisted: %s", err.msg);
	else if (loaded > 0)
		cv_log_notice("%d cached CRLs loaded from %s", loaded, cfg->cache_dir);
	srv = cv_server_new(base, engine, fd, sopts, &err);
	if (srv == NULL) {
		cv_log_err("%s", err.msg);
		goto done;
	}
	if (http_fds->n > 0 &&
	    (front = cv_http_front_new(base, engine, cv_server_calls(srv), cv_server_certs(srv),
	                               http_fds, &err)) == NULL) {
		cv_log_err("%s", err.msg);
		goto done;
	}
	sig_hup = evsignal_new(base, SIGHUP, hup_cb, srv);
	sig_term = evsignal_new(base, SIGTERM, term_cb, base);
	sig_int = evsignal_new(base, SIGINT, term_cb, base);
	if (sig_hup == NULL || sig_term == NULL || sig_int == NULL || evsignal_add(sig_hup, NULL) ||
	    evsignal_add(sig_term, NULL) || evsignal_add(sig_int, NULL)) {
		cv_log_err("cannot install signal handlers");
		goto done;
	}
	cv_log_notice("certvald listening on %s", sopts->socket_path);
	if (event_base_dispatch(base) < 0) {
		cv_log_err("event loop failed");
		goto done;
	}
	status = 0;
done:
	cv_http_front_free(front); /* before the engine: it answers what still waits */
	cv_http_listeners_close(http_fds);
	if (srv != NULL)
		cv_server_close(srv);
	else
		unlink(sopts->socket_path);
	if (engine != NULL)
		cv_engine_free(engine); /* before the fetcher: it cancels its fetches */
	cv_fetcher_free(fetcher);
	cv_server_free(srv);
	if (sig_hup != NULL)
		event_free(sig_hup);
	if (sig_term != NULL)
		event_free(sig_term);
	if (sig_int != NULL)
		event_free(sig_int);
	if (base != NULL)
		event_base_free(base);
	return status;
}

int
main(int argc, char **argv)
{
	struct cv_http_listeners http_fds = {0};
	struct cv_server_opts sopts;
	struct cv_config *cfg = NULL;
	struct cv_error err = {""};
	struct options o;
	char *config_path = NULL, *socket_path = NULL;
	int fd, status = 1;

	/* jansson's hash seed, once, before any object and before the worker threads parse
	 * requests (server.c, decode.c) */
	json_object_seed(0);
	cv_allocator_setup();
	parse_options(argc, argv, &o);
	cv_log_open("certvald", false, o.debug ? CV_LOG_DEBUG : CV_LOG_INFO);
	config_path = absolute(o.config);
	if (config_path == NULL) {
		cv_log_err("out of memory");
		return 1;
	}
	if (cv_config_load(config_path, &cfg, &err) != 0) {
		fprintf(stderr, "certvald: configuration error: %s\n", err.msg);
		free(config_path);
		return 2;
	}
	log_warnings(cfg);
	socket_path = absolute(o.socket != NULL ? o.socket : cfg->socket_path);
	if (socket_path == NULL)
		goto done;
	memset(&sopts, 0, sizeof(sopts));
	sopts.config_path = config_path;
	sopts.socket_path = socket_path;
	sopts.socket_mode = cfg->socket_mode;
	sopts.socket_group = cfg->admin_group;
	sopts.test_clock = o.test_clock;
	sopts.test_ingest_delay_ms = o.test_ingest_delay_ms;
	sopts.test_read_delay_ms = o.test_read_delay_ms;
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	fd = cv_server_bind(&sopts, &err);
	if (fd < 0) {
		cv_log_err("%s", err.msg);
		goto done;
	}
	if (cv_http_bind(cfg, &http_fds, &err) != 0) {
		cv_log_err("%s", err.msg);
		close(fd);
		unlink(socket_path);
		goto done;
	}
	if (!o.foreground) {
		if (daemon(0, 0) != 0) {
			cv_log_err("daemon: %s", strerror(errno));
			close(fd);
			unlink(socket_path);
			cv_http_listeners_close(&http_fds);
			goto done;
		}
		cv_log_open("certvald", true, o.debug ? CV_LOG_DEBUG : CV_LOG_INFO);
	}
	status = serve(cfg, &sopts, fd, &http_fds);
done:
	cv_config_unref(cfg);
	free(socket_path);
	free(config_path);
	cv_log_close();
	return status;
}
