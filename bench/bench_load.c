/*
 * bench_load.c: a real certvald on a temporary socket and a pipelined load driver with
 * per-request latencies, for the socket benchmarks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../common/util.h"
#include "bench_load.h"

/* No reply on a connection for this long ends the load (the daemon hangs). */
#define STALL_NS (120 * 1000000000ULL)

uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

char *
bench_tempdir(const char *prefix)
{
	const char *tmp = getenv("TMPDIR");
	char path[512];
	char *dir;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(path, sizeof(path), "%s/%s-XXXXXX", tmp, prefix);
	if (mkdtemp(path) == NULL) {
		perror(path);
		return NULL;
	}
	if ((dir = strdup(path)) == NULL)
		bench_rmtree(path);
	return dir;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0)
		perror(path);
	return 0;
}

void
bench_rmtree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
bench_certvald_path(const char *opt, char *buf, size_t size)
{
	const char *build = getenv("CERTVAL_BUILD_DIR");

	if (opt != NULL)
		return opt;
	if (build == NULL || *build == '\0')
		return NULL;
	snprintf(buf, size, "%s/daemon/certvald", build);
	return buf;
}

const char *
bench_httpd_path(const char *opt, char *buf, size_t size)
{
	const char *src = getenv("CERTVAL_SOURCE_DIR");

	if (opt != NULL)
		return opt;
	if (src == NULL || *src == '\0')
		return NULL;
	snprintf(buf, size, "%s/tests/support/httpd_fault.py", src);
	return buf;
}

void
bench_print_command(int argc, char **argv)
{
	printf("command:");
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");
}

int
bench_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	cv_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One ping on a fresh connection: does the daemon answer? */
static int
ping(const char *sock)
{
	static const char req[] = "{\"id\":0,\"op\":\"ping\"}\n";
	char buf[512];
	struct pollfd pfd;
	size_t len = 0;
	ssize_t n;
	int fd, ok = 0;

	if ((fd = bench_connect(sock)) < 0)
		return -1;
	if (write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1))
		goto out;
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (len < sizeof(buf) - 1 && poll(&pfd, 1, 2000) == 1) {
		if ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (strchr(buf, '\n') != NULL) {
			ok = strstr(buf, "pong") != NULL;
			break;
		}
	}
out:
	close(fd);
	return ok ? 0 : -1;
}

static void
exec_daemon(const char *certvald, const struct bench_daemon *d)
{
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the benchmark */
	fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	execl(certvald, "certvald", "-f", "-c", d->conf, "-s", d->sock, (char *)NULL);
	fprintf(stderr, "exec %s: %s\n", certvald, strerror(errno));
	_exit(127);
}

int
bench_daemon_start(struct bench_daemon *d, const char *certvald, const char *dir,
                   const char *config)
{
	uint64_t deadline = bench_now_ns() + 20 * 1000000000ULL;
	struct timespec pause = {0, 20 * 1000000};
	FILE *f;
	int status;

	memset(d, 0, sizeof(*d));
	d->pid = -1;
	snprintf(d->sock, sizeof(d->sock), "%s/certvald.sock", dir);
	snprintf(d->conf, sizeof(d->conf), "%s/certvald.conf", dir);
	snprintf(d->log, sizeof(d->log), "%s/certvald.log", dir);
	if ((f = fopen(d->conf, "w")) == NULL) {
		perror(d->conf);
		return -1;
	}
	fprintf(f, "socket %s\n%s", d->sock, config);
	if (fclose(f) != 0) {
		perror(d->conf);
		return -1;
	}
	if ((d->pid = fork()) < 0) {
		perror("fork");
		return -1;
	}
	if (d->pid == 0)
		exec_daemon(certvald, d);
	while (bench_now_ns() < deadline) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			fprintf(stderr, "bench: certvald exited (status %d); see %s\n", status,
			        d->log);
			d->pid = -1;
			return -1;
		}
		if (ping(d->sock) == 0)
			return 0;
		nanosleep(&pause, NULL);
	}
	fprintf(stderr, "bench: certvald did not answer within 20 s; see %s\n", d->log);
	bench_daemon_stop(d);
	return -1;
}

int
bench_daemon_stop(struct bench_daemon *d)
{
	struct timespec pause = {0, 20 * 1000000};
	int i, status;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	for (i = 0; i < 500; i++) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = -1;
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		}
		nanosleep(&pause, NULL);
	}
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &status, 0);
	d->pid = -1;
	return -1;
}

/* ---- the load driver ---- */

struct buf {
	char *p;
	size_t off, len, cap; /* unread data is p[off..len) */
};

static int
buf_reserve(struct buf *b, size_t more)
{
	char *p;
	size_t cap;

	if (b->off > 0 && b->off == b->len)
		b->off = b->len = 0;
	if (b->len + more <= b->cap)
		return 0;
	if (b->off > 0) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->len + more <= b->cap)
			return 0;
	}
	cap = b->cap ? b->cap : 65536;
	while (cap < b->len + more)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

struct u64s {
	uint64_t *v;
	size_t n, cap;
};

static int
u64s_set(struct u64s *a, size_t i, uint64_t x)
{
	if (i >= a->cap) {
		size_t cap = a->cap ? a->cap : 4096;
		uint64_t *v;

		while (cap <= i)
			cap *= 2;
		if ((v = realloc(a->v, cap * sizeof(*v))) == NULL)
			return -1;
		a->v = v;
		a->cap = cap;
	}
	a->v[i] = x;
	if (i >= a->n)
		a->n = i + 1;
	return 0;
}

struct worker {
	const struct bench_load *load;
	pthread_barrier_t *barrier;
	size_t index;  /* this worker sends requests index, index + threads, ... */
	size_t n_mine; /* how many that is */
	int fd;
	struct u64s sent;    /* send time by sequence number; 0 once answered */
	struct u64s latency; /* one per reply */
	uint64_t start, last_reply;
	struct bench_result res; /* counts, reasons and first problem of this worker */
	struct buf in, out;
	size_t inflight;
};

static void
note_reason(struct bench_result *res, const char *name)
{
	size_t i;

	for (i = 0; i < res->n_reasons; i++)
		if (strcmp(res->reasons[i].name, name) == 0) {
			res->reasons[i].n++;
			return;
		}
	if (res->n_reasons < BENCH_MAX_REASONS) {
		cv_strlcpy(res->reasons[i].name, name, sizeof(res->reasons[i].name));
		res->reasons[i].n = 1;
		res->n_reasons++;
	}
}

static const char *
str_or(json_t *obj, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : dflt;
}

/* Classifies a reply fully (jansson): accept, reject with reason, or error. */
static void
classify_parsed(struct worker *w, const char *line, size_t len)
{
	json_t *root = json_loadb(line, len, 0, NULL);
	json_t *verdict = json_object_get(root, "verdict");
	char name[96];

	if (root == NULL || !json_is_true(json_object_get(root, "ok")) || verdict == NULL) {
		snprintf(name, sizeof(name), "error:%s",
		         str_or(json_object_get(root, "error"), "code", "unparseable"));
		w->res.errors++;
	} else if (strcmp(str_or(verdict, "decision", ""), "ACCEPT") == 0) {
		snprintf(name, sizeof(name), "ACCEPT revocation=%s",
		         str_or(verdict, "revocation", "?"));
		w->res.accepts++;
	} else {
		snprintf(name, sizeof(name), "REJECT %s/%s", str_or(verdict, "reason", "?"),
		         str_or(verdict, "detail", "-"));
		w->res.rejects++;
	}
	if (w->load->parse_reasons)
		note_reason(&w->res, name);
	json_decref(root);
}

/* Classifies a reply: a cheap scan for the decision, jansson when the scan is unsure. */
static void
classify(struct worker *w, const char *line, size_t len)
{
	static const char acc[] = "\"decision\":\"ACCEPT\"", rej[] = "\"decision\":\"REJECT\"";
	size_t before = w->res.accepts;

	if (w->load->parse_reasons)
		classify_parsed(w, line, len);
	else if (memmem(line, len, acc, sizeof(acc) - 1) != NULL)
		w->res.accepts++;
	else if (memmem(line, len, rej, sizeof(rej) - 1) != NULL)
		w->res.rejects++;
	else
		classify_parsed(w, line, len);
	if (w->res.accepts == before && w->res.first_problem[0] == '\0')
		snprintf(w->res.first_problem, sizeof(w->res.first_problem), "%.*s",
		         (int)(len < 199 ? len : 199), line);
}

/* Handles one reply line: matches its id, records the latency, classifies it. */
static void
reply(struct worker *w, const char *line, size_t len, uint64_t now)
{
	const size_t k = (size_t)w->load->threads;
	unsigned long long id;
	size_t seq;
	char *end;

	w->res.replies++;
	/* line is never NULL; testing it quiets GCC's -Wnonnull under the sanitizers */
	if (line == NULL || len < 7 || memcmp(line, "{\"id\":", 6) != 0)
		goto bad;
	id = strtoull(line + 6, &end, 10);
	if (end == line + 6 || *end != ',' || id < w->index || (id - w->index) % k != 0)
		goto bad;
	seq = (size_t)((id - w->index) / k);
	if (seq >= w->sent.n || w->sent.v[seq] == 0)
		goto bad;
	u64s_set(&w->latency, w->latency.n, now - w->sent.v[seq]);
	w->sent.v[seq] = 0;
	w->inflight--;
	classify(w, line, len);
	return;
bad:
	w->res.errors++;
	if (w->res.first_problem[0] == '\0')
		snprintf(w->res.first_problem, sizeof(w->res.first_problem), "unmatched: %.*s",
		         (int)(len < 180 ? len : 180), line);
}

/* Appends request number seq of this worker to the output buffer. */
static int
queue_request(struct worker *w, size_t seq, uint64_t now)
{
	const struct bench_load *l = w->load;
	size_t id = w->index + seq * (size_t)l->threads;
	const char *body = l->bodies[(l->first + id) % l->n_bodies];
	size_t blen = strlen(body);
	int n;

	if (buf_reserve(&w->out, blen + 32) < 0)
		return -1;
	n = snprintf(w->out.p + w->out.len, 32, "{\"id\":%zu,", id);
	w->out.len += (size_t)n;
	memcpy(w->out.p + w->out.len, body, blen);
	w->out.len += blen;
	w->out.p[w->out.len++] = '\n';
	if (u64s_set(&w->sent, seq, now) < 0)
		return -1;
	w->inflight++;
	return 0;
}

/* Reads what is there and handles every complete line; -1 when the connection ended. */
static int
read_replies(struct worker *w)
{
	uint64_t now;
	ssize_t n;
	char *p, *nl;

	for (;;) {
		if (buf_reserve(&w->in, 65536) < 0 || (p = w->in.p) == NULL)
			return -1;
		n = read(w->fd, p + w->in.len, w->in.cap - w->in.len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0)
			return -1;
		w->in.len += (size_t)n;
		now = bench_now_ns();
		w->last_reply = now;
		while ((nl = memchr(p + w->in.off, '\n', w->in.len - w->in.off)) != NULL) {
			size_t len = (size_t)(nl - (p + w->in.off));

			if (len > 0)
				reply(w, p + w->in.off, len, now);
			w->in.off += len + 1;
		}
	}
}

static int
write_requests(struct worker *w)
{
	ssize_t n = write(w->fd, w->out.p + w->out.off, w->out.len - w->out.off);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	w->out.off += (size_t)n;
	return 0;
}

/*
 * When request seq of this connection may go: paced by the load's rate, else at once. The
 * connections' schedules are staggered by their index, so that together they send at an even
 * pace (request seq of connection i at (seq * threads + i) / rate), not all at once: in phase,
 * 64 paced clients are a burst of 64 requests every 64 / rate seconds.
 */
static uint64_t
due(const struct worker *w, size_t seq)
{
	const struct bench_load *l = w->load;

	if (l->rate <= 0)
		return 0;
	return w->start +
	       (uint64_t)(((double)seq * (double)l->threads + (double)w->index) / l->rate * 1e9);
}

/*
 * How long a connection sleeps for its socket: until its next request is due when it may send
 * one, else until a reply comes (bounded, for the stall check). A paced client wakes for its
 * own requests and replies only, as a real peer does, not on a polling tick.
 */
static struct timespec
wait_until_due(const struct worker *w, size_t next, bool sending, uint64_t now)
{
	uint64_t ns = 100000000; /* 100 ms */

	if (sending && w->inflight < (size_t)w->load->window && next < w->n_mine) {
		const uint64_t at = due(w, next);

		ns = at > now ? at - now : 0;
	}
	return (struct timespec){.tv_sec = (time_t)(ns / 1000000000),
	                         .tv_nsec = (long)(ns % 1000000000)};
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	const struct bench_load *l = w->load;
	const uint64_t limit = l->seconds > 0 ? (uint64_t)(l->seconds * 1e9) : UINT64_MAX;
	size_t next = 0;
	bool sending = true;
	struct pollfd pfd;
	struct timespec wait;
	uint64_t now;

	pthread_barrier_wait(w->barrier);
	w->start = w->last_reply = bench_now_ns();
	if (w->fd < 0)
		goto broken;
	for (;;) {
		now = bench_now_ns();
		if (sending && (next >= w->n_mine || now - w->start >= limit))
			sending = false;
		while (sending && w->inflight < (size_t)l->window && next < w->n_mine &&
		       now >= due(w, next))
			if (queue_request(w, next++, now) < 0)
				goto broken;
		if (!sending && w->inflight == 0)
			break;
		if (w->out.off < w->out.len && write_requests(w) < 0)
			goto broken;
		pfd.fd = w->fd;
		pfd.events = POLLIN | (w->out.off < w->out.len ? POLLOUT : 0);
		wait = wait_until_due(w, next, sending, now);
		if (ppoll(&pfd, 1, &wait, NULL) < 0 && errno != EINTR)
			goto broken;
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) && read_replies(w) < 0)
			goto broken;
		if (bench_now_ns() - w->last_reply > STALL_NS)
			goto broken;
	}
	return NULL;
broken:
	w->res.errors += w->inflight;
	if (w->res.first_problem[0] == '\0')
		snprintf(w->res.first_problem, sizeof(w->res.first_problem),
		         "connection %zu broke with %zu requests in flight", w->index, w->inflight);
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n). */
static uint64_t
percentile(const uint64_t *v, size_t n, unsigned pct)
{
	size_t rank = (n * pct + 99) / 100;

	return n == 0 ? 0 : v[rank > 0 ? rank - 1 : 0];
}

static void
merge(struct bench_result *res, const struct worker *w, size_t k)
{
	uint64_t first = UINT64_MAX, last = 0;
	struct u64s all = {NULL, 0, 0};
	size_t i, j, m;

	for (i = 0; i < k; i++) {
		const struct bench_result *r = &w[i].res;

		res->replies += r->replies;
		res->accepts += r->accepts;
		res->rejects += r->rejects;
		res->errors += r->errors;
		for (j = 0; j < r->n_reasons; j++)
			for (m = 0; m < r->reasons[j].n; m++)
				note_reason(res, r->reasons[j].name);
		if (res->first_problem[0] == '\0')
			memcpy(res->first_problem, r->first_problem, sizeof(res->first_problem));
		first = w[i].start < first ? w[i].start : first;
		last = w[i].last_reply > last ? w[i].last_reply : last;
		for (j = 0; j < w[i].latency.n; j++)
			u64s_set(&all, all.n, w[i].latency.v[j]);
	}
	res->seconds = last > first ? (double)(last - first) / 1e9 : 0;
	qsort(all.v, all.n, sizeof(*all.v), cmp_u64);
	res->p50 = percentile(all.v, all.n, 50);
	res->p99 = percentile(all.v, all.n, 99);
	res->max = all.n > 0 ? all.v[all.n - 1] : 0;
	free(all.v);
}

int
bench_load_run(const struct bench_load *load, struct bench_result *res)
{
	const size_t k = (size_t)load->threads;
	pthread_barrier_t barrier;
	struct worker *w;
	pthread_t tid[64];
	size_t i, started = 0;

	memset(res, 0, sizeof(*res));
	if (load->threads < 1 || load->threads > 64 || load->window < 1 || load->window > 256 ||
	    load->n_bodies == 0) {
		fprintf(stderr, "bench: bad load (threads 1..64, window 1..256)\n");
		return -1;
	}
	if ((w = calloc(k, sizeof(*w))) == NULL)
		return -1;
	pthread_barrier_init(&barrier, NULL, (unsigned)k);
	for (i = 0; i < k; i++) {
		w[i].load = load;
		w[i].barrier = &barrier;
		w[i].index = i;
		w[i].n_mine =
		    load->total == SIZE_MAX ? SIZE_MAX : load->total / k + (i < load->total % k);
		w[i].fd = bench_connect(load->sock);
		if (w[i].fd < 0)
			fprintf(stderr, "bench: cannot connect to %s: %s\n", load->sock,
			        strerror(errno));
		else
			fcntl(w[i].fd, F_SETFL, fcntl(w[i].fd, F_GETFL) | O_NONBLOCK);
	}
	for (i = 0; i < k; i++) {
		if (pthread_create(&tid[i], NULL, worker_main, &w[i]) != 0)
			break;
		started++;
	}
	if (started < k) /* cannot happen in practice; the barrier would never open */
		abort();
	for (i = 0; i < k; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&barrier);
	merge(res, w, k);
	for (i = 0; i < k; i++) {
		if (w[i].fd >= 0)
			close(w[i].fd);
		free(w[i].sent.v);
		free(w[i].latency.v);
		free(w[i].in.p);
		free(w[i].out.p);
	}
	free(w);
	return 0;
}

char *
bench_http_get(int port, const char *path)
{
	struct sockaddr_in sa;
	struct buf b = {NULL, 0, 0, 0};
	char req[512], *body = NULL, *sep;
	ssize_t n;
	int fd, len;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	len = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	if (len < 0 || (size_t)len >= sizeof(req))
		return NULL;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    write(fd, req, (size_t)len) != len)
		goto out;
	for (;;) {
		if (buf_reserve(&b, 4096) < 0)
			goto out;
		if ((n = read(fd, b.p + b.len, b.cap - b.len - 1)) < 0)
			goto out;
		if (n == 0)
			break;
		b.len += (size_t)n;
	}
	b.p[b.len] = '\0';
	if ((sep = strstr(b.p, "\r\n\r\n")) != NULL)
		body = strdup(sep + 4);
out:
	close(fd);
	free(b.p);
	return body;
}

/* ---- the HTTP server ---- */

int
bench_httpd_start(struct bench_httpd *h, const char *script, const char *root)
{
	int fds[2];
	char line[64];
	FILE *f;

	h->pid = -1;
	if (pipe(fds) != 0 || (h->pid = fork()) < 0) {
		perror("httpd");
		return -1;
	}
	if (h->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		close(fds[0]);
		dup2(fds[1], STDOUT_FILENO);
		close(fds[1]);
		execlp("python3", "python3", script, "--root", root, (char *)NULL);
		perror("python3");
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	h->port = f != NULL && fgets(line, sizeof(line), f) != NULL ? atoi(line) : 0;
	if (f != NULL)
		fclose(f);
	else
		close(fds[0]);
	if (h->port <= 0) {
		fprintf(stderr, "bench: %s did not start\n", script);
		return -1;
	}
	return 0;
}

void
bench_httpd_stop(struct bench_httpd *h)
{
	if (h->pid <= 0)
		return;
	kill(h->pid, SIGTERM);
	waitpid(h->pid, NULL, 0);
	h->pid = -1;
}

long
bench_http_count(int port, const char *path)
{
	char q[256], *body;
	long n;

	snprintf(q, sizeof(q), "/_count?path=%s", path);
	if ((body = bench_http_get(port, q)) == NULL)
		return -1;
	n = strtol(body, NULL, 10);
	free(body);
	return n;
}
