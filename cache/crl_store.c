/* crl_store.c: the CRL cache: ingested CRLs by source with their effective expiry. */
#include "crl_store.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "../common/log.h"
#include "../common/util.h"

#define META_MAGIC     "certval-crl-cache 1"
#define CACHE_FILE_MAX (1u << 30) /* a cached CRL file is never larger than what was fetched */
#define PROBLEMS_MAX   16         /* cache-file problems remembered for `show crls` */
#define HEX_NAME_LEN   64         /* a cache file's name: the SHA-256 of its source, in hex */
#define DER_DIGEST_LEN 16         /* then, for a CRL file, that of its content (16 hex digits) */

struct slot {
	char *source;
	char *trustpoint;
	struct cv_crl *crl;
	cv_time fetched_at;
	cv_time expires;
	bool delete_after;
	char etag[128];
	cv_time last_modified;
};

struct cv_crl_store {
	struct slot *slots;
	size_t n;
	size_t cap;
	char *dir;                    /* cache-dir, or NULL: nothing persisted */
	uint64_t generation;          /* counts every change of the cached CRLs (issue 13) */
	cv_crl_store_put_fn listener; /* issue 16: revocation events */
	void *listener_arg;
	struct cv_crl_store_problem problems[PROBLEMS_MAX]; /* the latest, oldest first */
	size_t n_problems;
	size_t total_problems;
};

static void persist_remove(const struct cv_crl_store *store, const char *source, const char *keep);
static void persist_write(struct cv_crl_store *store, const struct slot *s);
static void persist_remove_crls(const struct cv_crl_store *store, const char *source,
                                const char *keep);

struct cv_crl_store *
cv_crl_store_new(void)
{
	return calloc(1, sizeof(struct cv_crl_store));
}

/* Remembers a cache-file problem (the latest PROBLEMS_MAX) and logs it as a warning. */
static void
problem(struct cv_crl_store *store, const char *file, const char *what)
{
	struct cv_crl_store_problem *p;

	cv_log_warning("CRL cache: %s: %s", file, what);
	if (store->n_problems == PROBLEMS_MAX) {
		memmove(store->problems, store->problems + 1,
		        (PROBLEMS_MAX - 1) * sizeof(store->problems[0]));
		store->n_problems--;
	}
	p = &store->problems[store->n_problems++];
	cv_strlcpy(p->file, file, sizeof(p->file));
	cv_strlcpy(p->problem, what, sizeof(p->problem));
	store->total_problems++;
}

size_t
cv_crl_store_problems(const struct cv_crl_store *store, const struct cv_crl_store_problem **list,
                      size_t *n)
{
	*list = store->problems;
	*n = store->n_problems;
	return store->total_problems;
}

static void
slot_clear(struct slot *s)
{
	free(s->source);
	free(s->trustpoint);
	cv_crl_free(s->crl);
	memset(s, 0, sizeof(*s));
}

void
cv_crl_store_free(struct cv_crl_store *store)
{
	if (store == NULL)
		return;
	for (size_t i = 0; i < store->n; i++)
		slot_clear(&store->slots[i]);
	free(store->slots);
	free(store->dir);
	free(store);
}

cv_time
cv_crl_store_expiry(const struct cv_crl *crl, cv_time fetched_at, unsigned delete_after_min,
                    bool *by_delete_after)
{
	const cv_time next_update = cv_crl_get_info(crl)->next_update;
	cv_time limit = CV_TIME_NONE;

	*by_delete_after = false;
	if (delete_after_min > 0)
		limit = fetched_at + (cv_time)delete_after_min * 60;
	if (limit != CV_TIME_NONE && (next_update == CV_TIME_NONE || limit < next_update)) {
		*by_delete_after = true;
		return limit;
	}
	return next_update;
}

static bool
expired(const struct slot *s, cv_time now)
{
	return s->expires != CV_TIME_NONE && now >= s->expires;
}

static void
remove_at(struct cv_crl_store *store, size_t i)
{
	store->generation++;
	persist_remove(store, store->slots[i].source, NULL);
	slot_clear(&store->slots[i]);
	store->slots[i] = store->slots[--store->n];
}

static struct slot *
find(struct cv_crl_store *store, const char *source, size_t *index)
{
	for (size_t i = 0; i < store->n; i++)
		if (strcmp(store->slots[i].source, source) == 0) {
			*index = i;
			return &store->slots[i];
		}
	return NULL;
}

static void
entry_of(const struct slot *s, struct cv_crl_store_entry *e)
{
	e->source = s->source;
	e->trustpoint = s->trustpoint;
	e->crl = s->crl;
	e->fetched_at = s->fetched_at;
	e->expires = s->expires;
	e->delete_after = s->delete_after;
	e->etag = s->etag;
	e->last_modified = s->last_modified;
}

struct cv_crl *
cv_crl_store_get(struct cv_crl_store *store, const char *source, cv_time now,
                 struct cv_crl_store_entry *entry)
{
	size_t i;
	struct slot *s = find(store, source, &i);

	if (s == NULL)
		return NULL;
	if (expired(s, now)) {
		remove_at(store, i);
		return NULL;
	}
	if (entry != NULL)
		entry_of(s, entry);
	return cv_crl_ref(s->crl);
}

/* Adds or replaces an entry in memory; the slot stored, or NULL (out of memory). */
static struct slot *
insert(struct cv_crl_store *store, const char *source, const char *trustpoint, struct cv_crl *crl,
       cv_time fetched_at, cv_time expires, bool delete_after)
{
	struct slot fresh = {0};
	size_t i;
	struct slot *s;

	store->generation++;
	fresh.source = strdup(source);
	fresh.trustpoint = strdup(trustpoint != NULL ? trustpoint : "");
	if (fresh.source == NULL || fresh.trustpoint == NULL)
		goto fail;
	fresh.crl = cv_crl_ref(crl);
	fresh.fetched_at = fetched_at;
	fresh.expires = expires;
	fresh.delete_after = delete_after;
	fresh.last_modified = CV_TIME_NONE;
	s = find(store, source, &i);
	if (s != NULL) {
		slot_clear(s);
		*s = fresh;
		return s;
	}
	if (store->n == store->cap) {
		const size_t cap = store->cap == 0 ? 8 : store->cap * 2;
		struct slot *grown = realloc(store->slots, cap * sizeof(*grown));

		if (grown == NULL)
			goto fail;
		store->slots = grown;
		store->cap = cap;
	}
	store->slots[store->n] = fresh;
	return &store->slots[store->n++];
fail:
	slot_clear(&fresh);
	return NULL;
}

void
cv_crl_store_set_listener(struct cv_crl_store *store, cv_crl_store_put_fn fn, void *arg)
{
	store->listener = fn;
	store->listener_arg = arg;
}

void
cv_crl_store_notify(struct cv_crl_store *store, const char *source, const char *trustpoint,
                    struct cv_crl *crl, const struct cv_crl *prev)
{
	if (store->listener != NULL)
		store->listener(source, trustpoint, crl, prev, store->listener_arg);
}

int
cv_crl_store_put(struct cv_crl_store *store, const char *source, const char *trustpoint,
                 struct cv_crl *crl, cv_time fetched_at, cv_time expires, bool delete_after)
{
	size_t i;
	const struct slot *old = find(store, source, &i);
	struct cv_crl *prev = old != NULL ? cv_crl_ref(old->crl) : NULL;
	const struct slot *s =
	    insert(store, source, trustpoint, crl, fetched_at, expires, delete_after);

	if (s != NULL) {
		persist_write(store, s);
		if (store->listener != NULL)
			store->listener(source, trustpoint != NULL ? trustpoint : "", crl, prev,
			                store->listener_arg);
	}
	cv_crl_free(prev);
	return s != NULL ? 0 : -1;
}

void
cv_crl_store_set_validators(struct cv_crl_store *store, const char *source, const char *etag,
                            cv_time last_modified)
{
	size_t i;
	struct slot *s = find(store, source, &i);

	if (s == NULL)
		return;
	cv_strlcpy(s->etag, etag != NULL ? etag : "", sizeof(s->etag));
	s->last_modified = last_modified;
	persist_write(store, s);
}

size_t
cv_crl_store_expire(struct cv_crl_store *store, cv_time now)
{
	size_t dropped = 0;

	for (size_t i = 0; i < store->n;)
		if (expired(&store->slots[i], now)) {
			remove_at(store, i);
			dropped++;
		} else {
			i++;
		}
	return dropped;
}

uint64_t
cv_crl_store_generation(const struct cv_crl_store *store)
{
	return store->generation;
}

size_t
cv_crl_store_clear(struct cv_crl_store *store, const char *trustpoint)
{
	size_t dropped = 0;

	for (size_t i = 0; i < store->n;)
		if (trustpoint == NULL || strcmp(store->slots[i].trustpoint, trustpoint) == 0) {
			remove_at(store, i);
			dropped++;
		} else {
			i++;
		}
	return dropped;
}

size_t
cv_crl_store_count(const struct cv_crl_store *store)
{
	return store->n;
}

/* Soonest expiry first; entries that never expire last. */
static int
by_expiry(const void *a, const void *b)
{
	const struct slot *x = *(const struct slot *const *)a, *y = *(const struct slot *const *)b;
	const cv_time ex = x->expires == CV_TIME_NONE ? INT64_MAX : x->expires;
	const cv_time ey = y->expires == CV_TIME_NONE ? INT64_MAX : y->expires;

	return ex < ey ? -1 : ex > ey ? 1 : strcmp(x->source, y->source);
}

void
cv_crl_store_foreach(const struct cv_crl_store *store, cv_crl_store_fn fn, void *arg)
{
	const struct slot **order;

	if (store->n == 0)
		return;
	order = malloc(store->n * sizeof(*order));
	if (order == NULL)
		return;
	for (size_t i = 0; i < store->n; i++)
		order[i] = &store->slots[i];
	qsort(order, store->n, sizeof(*order), by_expiry);
	for (size_t i = 0; i < store->n; i++) {
		struct cv_crl_store_entry e;

		entry_of(order[i], &e);
		fn(&e, arg);
	}
	free(order);
}

/* ---- persistence under cache-dir (D-4) ---- */

/* The SHA-256 of a source in hex: the first part of its files' names. */
static int
source_hex(const char *source, char hex[HEX_NAME_LEN + 1])
{
	uint8_t digest[32];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, source, strlen(source), digest) < 0)
		return -1;
	cv_hex_encode(digest, sizeof(digest), hex);
	return 0;
}

/* dir/<SHA-256 of the source>.<ext> */
static int
cache_path(const struct cv_crl_store *store, const char *source, const char *ext, char *out,
           size_t len)
{
	char hex[HEX_NAME_LEN + 1];

	if (source_hex(source, hex) < 0)
		return -1;
	return snprintf(out, len, "%s/%s.%s", store->dir, hex, ext) < (int)len ? 0 : -1;
}

/*
 * The CRL file of a source: dir/<SHA-256 of the source>.<16 hex digits of the CRL's SHA-256>.crl.
 * Each download gets its own file, and the metadata file, renamed last, switches from one to
 * the next: a kill at any moment leaves a metadata file with the CRL it names (D-4).
 */
static int
der_path(const struct cv_crl_store *store, const char *source, const char *crl_hex, char *out,
         size_t len)
{
	char ext[DER_DIGEST_LEN + 8];

	if (strlen(crl_hex) < DER_DIGEST_LEN)
		return -1;
	snprintf(ext, sizeof(ext), "%.*s.crl", DER_DIGEST_LEN, crl_hex);
	return cache_path(store, source, ext, out, len);
}

/* Makes the directory's entries (a rename, an unlink) durable. */
static int
fsync_dir(const char *dir)
{
	const int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * Writes path through a temporary file in the same directory: write, fsync, rename, then
 * fsync the directory, so that after a crash path holds either its old or its new content
 * (D-4). The temporary file is removed on any error; one left by a kill is removed at the
 * next load (cleanup_temporaries). errno tells why on failure.
 */
static int
write_atomic(const char *dir, const char *path, const void *data, size_t len)
{
	char tmp[4096];
	int fd, saved;
	size_t done = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	while (done < len) {
		const ssize_t n = write(fd, (const uint8_t *)data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = ENOSPC;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	if (fsync(fd) < 0) /* ENOSPC and EIO may only show here */
		goto fail;
	saved = close(fd);
	fd = -1;
	if (saved < 0 || rename(tmp, path) < 0)
		goto fail;
	return fsync_dir(dir);
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

static void
persist_write(struct cv_crl_store *store, const struct slot *s)
{
	char crl_path[4096], meta_path[4096], meta[8192], hex[65], what[CV_ERROR_MAX];
	uint8_t digest[32];
	size_t der_len;
	const uint8_t *der;
	int n;

	if (store->dir == NULL || strchr(s->source, '\n') != NULL ||
	    strchr(s->trustpoint, '\n') != NULL)
		return;
	der = cv_crl_der(s->crl, &der_len);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der, der_len, digest) < 0)
		return;
	cv_hex_encode(digest, sizeof(digest), hex);
	if (der_path(store, s->source, hex, crl_path, sizeof(crl_path)) < 0 ||
	    cache_path(store, s->source, "meta", meta_path, sizeof(meta_path)) < 0)
		return;
	n = snprintf(meta, sizeof(meta),
	             "%s\nsource %s\ntrustpoint %s\nfetched %lld\nexpires %lld\n"
	             "delete-after %d\nsha256 %s\n",
	             META_MAGIC, s->source, s->trustpoint, (long long)s->fetched_at,
	             (long long)s->expires, s->delete_after ? 1 : 0, hex);
	if (n >= (int)sizeof(meta))
		return;
	/* The CRL first (once: its name is its digest), then the metadata file that names it,
	 * then the previous download's file goes. */
	if ((access(crl_path, F_OK) != 0 && write_atomic(store->dir, crl_path, der, der_len) < 0) ||
	    write_atomic(store->dir, meta_path, meta, (size_t)n) < 0) {
		snprintf(what, sizeof(what), "cannot persist %s: %s; kept in memory only",
		         s->source, strerror(errno));
		/* no older download left behind to come back at the next start */
		persist_remove(store, s->source, NULL);
		problem(store, crl_path, what);
		return;
	}
	persist_remove_crls(store, s->source, strrchr(crl_path, '/') + 1);
}

/* Is name a CRL file (not a temporary one) of the source whose hex is prefix? */
static bool
crl_file_of(const char *name, const char *prefix)
{
	const size_t len = strlen(name);

	return strncmp(name, prefix, HEX_NAME_LEN) == 0 && name[HEX_NAME_LEN] == '.' &&
	       len >= HEX_NAME_LEN + 4 && strcmp(name + len - 4, ".crl") == 0 &&
	       strstr(name, ".tmp.") == NULL;
}

/* Removes the CRL files of source, except the one named keep (may be NULL). */
static void
persist_remove_crls(const struct cv_crl_store *store, const char *source, const char *keep)
{
	char hex[HEX_NAME_LEN + 1], path[4096];
	DIR *d;
	const struct dirent *e;

	if (source_hex(source, hex) < 0 || (d = opendir(store->dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (crl_file_of(e->d_name, hex) && (keep == NULL || strcmp(e->d_name, keep) != 0) &&
		    snprintf(path, sizeof(path), "%s/%s", store->dir, e->d_name) <
		        (int)sizeof(path))
			unlink(path);
	closedir(d);
}

/* Removes the metadata file of source (the entry is gone), then its CRL files. */
static void
persist_remove(const struct cv_crl_store *store, const char *source, const char *keep)
{
	char path[4096];

	if (store->dir == NULL)
		return;
	if (cache_path(store, source, "meta", path, sizeof(path)) == 0)
		unlink(path);
	persist_remove_crls(store, source, keep);
}

int
cv_crl_store_set_dir(struct cv_crl_store *store, const char *dir, struct cv_error *err)
{
	struct stat st;
	char *copy = NULL;

	if (dir != NULL) {
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) < 0) {
			cv_error_set(err, "cache-dir %s: not a writable directory", dir);
			problem(store, dir,
			        "not a writable directory: CRLs are kept in memory only");
			return -1;
		}
		copy = strdup(dir);
		if (copy == NULL) {
			cv_error_set(err, "out of memory");
			return -1;
		}
	}
	free(store->dir);
	store->dir = copy;
	return 0;
}

struct meta {
	char source[CV_CRL_SOURCE_MAX];
	char trustpoint[128];
	long long fetched, expires, last_modified;
	int delete_after;
	char sha256[65];
	char etag[128];
};

/* Reads "key value" lines after the magic line; 0 when every field was found. */
static int
meta_parse(char *text, struct meta *m)
{
	unsigned found = 0;
	char *save = NULL, *line = strtok_r(text, "\n", &save);

	if (line == NULL || strcmp(line, META_MAGIC) != 0)
		return -1;
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		char *value = strchr(line, ' ');

		if (value == NULL)
			return -1;
		*value++ = '\0';
		if (strcmp(line, "source") == 0 && strlen(value) < sizeof(m->source))
			found |= 1, cv_strlcpy(m->source, value, sizeof(m->source));
		else if (strcmp(line, "trustpoint") == 0 && strlen(value) < sizeof(m->trustpoint))
			found |= 2, cv_strlcpy(m->trustpoint, value, sizeof(m->trustpoint));
		else if (strcmp(line, "fetched") == 0 && sscanf(value, "%lld", &m->fetched) == 1)
			found |= 4;
		else if (strcmp(line, "expires") == 0 && sscanf(value, "%lld", &m->expires) == 1)
			found |= 8;
		else if (strcmp(line, "delete-after") == 0 &&
		         sscanf(value, "%d", &m->delete_after) == 1)
			found |= 16;
		else if (strcmp(line, "sha256") == 0 && strlen(value) == 64)
			found |= 32, cv_strlcpy(m->sha256, value, sizeof(m->sha256));
		else if (strcmp(line, "last-modified") == 0 &&
		         sscanf(value, "%lld", &m->last_modified) == 1)
			continue;
		else if (strcmp(line, "etag") == 0 && strlen(value) < sizeof(m->etag))
			cv_strlcpy(m->etag, value, sizeof(m->etag));
		else
			return -1;
	}
	return found == 63 ? 0 : -1;
}

/* Reads a metadata file into *m; 0, or -1 (err says why when the file cannot be read). */
static int
read_meta(const char *path, struct meta *m, struct cv_error *err)
{
	uint8_t *text = NULL;
	size_t text_len;
	int rc;

	memset(m, 0, sizeof(*m));
	m->last_modified = CV_TIME_NONE;
	if (cv_read_file(path, 16384, &text, &text_len, err) < 0)
		return -1;
	rc = meta_parse((char *)text, m);
	free(text);
	return rc;
}

/* The CRL file a metadata file names; one of an older release's cache (<source hex>.crl)
 * when that is what exists. */
static int
crl_path_of(const struct cv_crl_store *store, const struct meta *m, char *out, size_t len)
{
	if (der_path(store, m->source, m->sha256, out, len) < 0)
		return -1;
	if (access(out, F_OK) != 0 && cache_path(store, m->source, "crl", out, len) == 0 &&
	    access(out, F_OK) != 0)
		return der_path(store, m->source, m->sha256, out, len);
	return 0;
}

/* Loads one entry from its metadata file; false when it is unusable (then deleted). */
static bool
load_one(struct cv_crl_store *store, const char *meta_path, cv_time now)
{
	char crl_path[4096] = "", hex[65], what[CV_ERROR_MAX] = "";
	uint8_t *der = NULL, digest[32];
	size_t der_len;
	struct cv_error err = {{0}};
	struct cv_crl *crl = NULL;
	struct meta m;
	bool ok = false;

	if (read_meta(meta_path, &m, &err) < 0) {
		snprintf(what, sizeof(what), "unreadable metadata%s%s, dropped",
		         err.msg[0] != '\0' ? ": " : "", err.msg);
		goto out;
	}
	if (crl_path_of(store, &m, crl_path, sizeof(crl_path)) < 0) {
		crl_path[0] = '\0';
		snprintf(what, sizeof(what), "metadata of %s names no CRL file, dropped", m.source);
		goto out;
	}
	if (access(crl_path, F_OK) != 0 && errno == ENOENT) {
		snprintf(what, sizeof(what),
		         "the CRL file of %s its metadata names is missing (damaged), dropped",
		         m.source);
		goto out;
	}
	if (cv_read_file(crl_path, CACHE_FILE_MAX, &der, &der_len, &err) < 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, der, der_len, digest) < 0) {
		snprintf(what, sizeof(what), "the CRL of %s is unreadable: %s, dropped", m.source,
		         err.msg);
		goto out;
	}
	cv_hex_encode(digest, sizeof(digest), hex);
	if (cv_strcasecmp(hex, m.sha256) != 0) {
		snprintf(what, sizeof(what),
		         "the CRL of %s does not match its digest (damaged), dropped", m.source);
		goto out;
	}
	if (m.expires != CV_TIME_NONE && now >= m.expires)
		goto out;
	if (cv_crl_ingest_owned(der, der_len, NULL, 0, &crl, &err) < 0) {
		der = NULL; /* freed by the ingest */
		snprintf(what, sizeof(what), "the CRL of %s does not parse: %s, dropped", m.source,
		         err.msg);
		goto out;
	}
	der = NULL;
	ok = insert(store, m.source, m.trustpoint, crl, m.fetched, m.expires,
	            m.delete_after != 0) != NULL;
out:
	if (!ok) {
		if (what[0] != '\0')
			problem(store, crl_path[0] != '\0' ? crl_path : meta_path, what);
		unlink(meta_path);
		if (crl_path[0] != '\0')
			unlink(crl_path);
	}
	cv_crl_free(crl);
	free(der);
	return ok;
}

/* Does name start with HEX_NAME_LEN hexadecimal digits and a dot (one of our files)? */
static bool
cache_name(const char *name)
{
	for (size_t i = 0; i < HEX_NAME_LEN; i++)
		if (!isxdigit((unsigned char)name[i]))
			return false;
	return name[HEX_NAME_LEN] == '.';
}

/* Is the CRL file name one that no metadata file names (left by a kill, or superseded)? */
static bool
orphan_crl(const struct cv_crl_store *store, const char *name)
{
	char path[4096];
	struct cv_error err;
	struct meta m;

	if (snprintf(path, sizeof(path), "%s/%.*s.meta", store->dir, HEX_NAME_LEN, name) >=
	    (int)sizeof(path))
		return false;
	if (read_meta(path, &m, &err) < 0)
		return access(path, F_OK) != 0 && errno == ENOENT;
	if (strcmp(name + HEX_NAME_LEN, ".crl") == 0) /* an older release's name */
		return false;
	return strlen(name) != HEX_NAME_LEN + 1 + DER_DIGEST_LEN + 4 ||
	       strncasecmp(name + HEX_NAME_LEN + 1, m.sha256, DER_DIGEST_LEN) != 0;
}

/*
 * Removes what interrupted writes leave behind (D-4): temporary files, and CRL files that no
 * metadata file names, so that kills never make the directory grow.
 */
static void
cleanup_leftovers(struct cv_crl_store *store, DIR *d)
{
	const struct dirent *e;
	char path[4096];
	size_t removed = 0;

	while ((e = readdir(d)) != NULL) {
		const size_t len = strlen(e->d_name);

		if (len < HEX_NAME_LEN + 4 || !cache_name(e->d_name) ||
		    snprintf(path, sizeof(path), "%s/%s", store->dir, e->d_name) >=
		        (int)sizeof(path))
			continue;
		if (strstr(e->d_name, ".tmp.") != NULL ||
		    (strcmp(e->d_name + len - 4, ".crl") == 0 && orphan_crl(store, e->d_name)))
			if (unlink(path) == 0)
				removed++;
	}
	if (removed > 0) {
		cv_log_notice("CRL cache: %zu files of interrupted writes removed from %s", removed,
		              store->dir);
		(void)fsync_dir(store->dir);
	}
}

int
cv_crl_store_load(struct cv_crl_store *store, cv_time now, struct cv_error *err)
{
	DIR *d;
	struct dirent *e;
	int loaded = 0;

	if (store->dir == NULL)
		return 0;
	d = opendir(store->dir);
	if (d == NULL) {
		cv_error_set(err, "cache-dir %s: %s", store->dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		const size_t len = strlen(e->d_name);
		char path[4096];

		if (len != 64 + 5 || strcmp(e->d_name + 64, ".meta") != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", store->dir, e->d_name) >=
		    (int)sizeof(path))
			continue;
		if (load_one(store, path, now))
			loaded++;
	}
	rewinddir(d);
	cleanup_leftovers(store, d);
	closedir(d);
	return loaded;
}
