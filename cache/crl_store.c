/* crl_store.c: the CRL cache: ingested CRLs by source with their effective expiry. */
#include "crl_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "../common/log.h"
#include "../common/util.h"

#define META_MAGIC     "certval-crl-cache 1"
#define CACHE_FILE_MAX (1u << 30) /* a cached CRL file is never larger than what was fetched */

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
	char *dir;           /* cache-dir, or NULL: nothing persisted */
	uint64_t generation; /* counts every change of the cached CRLs (issue 13) */
	cv_crl_store_put_fn listener; /* issue 16: revocation events */
	void *listener_arg;
};

static void persist_remove(const struct cv_crl_store *store, const char *source);
static void persist_write(const struct cv_crl_store *store, const struct slot *s);

struct cv_crl_store *
cv_crl_store_new(void)
{
	return calloc(1, sizeof(struct cv_crl_store));
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
	persist_remove(store, store->slots[i].source);
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

/* dir/<SHA-256 of the source>.<ext> */
static int
cache_path(const struct cv_crl_store *store, const char *source, const char *ext, char *out,
           size_t len)
{
	uint8_t digest[32];
	char hex[65];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, source, strlen(source), digest) < 0)
		return -1;
	cv_hex_encode(digest, sizeof(digest), hex);
	return snprintf(out, len, "%s/%s.%s", store->dir, hex, ext) < (int)len ? 0 : -1;
}

static int
write_atomic(const char *path, const void *data, size_t len)
{
	char tmp[4096];
	int fd;
	size_t done = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	while (done < len) {
		const ssize_t n = write(fd, (const uint8_t *)data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

static void
persist_write(const struct cv_crl_store *store, const struct slot *s)
{
	char der_path[4096], meta_path[4096], meta[8192], hex[65];
	uint8_t digest[32];
	size_t der_len;
	const uint8_t *der;
	int n;

	if (store->dir == NULL || strchr(s->source, '\n') != NULL ||
	    strchr(s->trustpoint, '\n') != NULL)
		return;
	der = cv_crl_der(s->crl, &der_len);
	if (cache_path(store, s->source, "crl", der_path, sizeof(der_path)) < 0 ||
	    cache_path(store, s->source, "meta", meta_path, sizeof(meta_path)) < 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, der, der_len, digest) < 0)
		return;
	cv_hex_encode(digest, sizeof(digest), hex);
	n = snprintf(meta, sizeof(meta),
	             "%s\nsource %s\ntrustpoint %s\nfetched %lld\nexpires %lld\n"
	             "delete-after %d\nsha256 %s\n",
	             META_MAGIC, s->source, s->trustpoint, (long long)s->fetched_at,
	             (long long)s->expires, s->delete_after ? 1 : 0, hex);
	/* The DER first: the metadata file is what makes an entry exist. */
	if (n >= (int)sizeof(meta) || write_atomic(der_path, der, der_len) < 0 ||
	    write_atomic(meta_path, meta, (size_t)n) < 0)
		cv_log_warning("CRL cache: cannot persist %s in %s: %s", s->source, store->dir,
		               strerror(errno));
}

static void
persist_remove(const struct cv_crl_store *store, const char *source)
{
	char path[4096];

	if (store->dir == NULL)
		return;
	if (cache_path(store, source, "meta", path, sizeof(path)) == 0)
		unlink(path);
	if (cache_path(store, source, "crl", path, sizeof(path)) == 0)
		unlink(path);
}

int
cv_crl_store_set_dir(struct cv_crl_store *store, const char *dir, struct cv_error *err)
{
	struct stat st;
	char *copy = NULL;

	if (dir != NULL) {
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) < 0) {
			cv_error_set(err, "cache-dir %s: not a writable directory", dir);
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

/* Loads one entry from its metadata file; false when it is unusable (then deleted). */
static bool
load_one(struct cv_crl_store *store, const char *meta_path, cv_time now)
{
	char crl_path[4096] = "", hex[65];
	uint8_t *text = NULL, *der = NULL, digest[32];
	size_t text_len, der_len;
	struct cv_error err = {{0}};
	struct cv_crl *crl = NULL;
	struct meta m;
	bool ok = false;

	memset(&m, 0, sizeof(m));
	m.last_modified = CV_TIME_NONE;
	if (cv_read_file(meta_path, 16384, &text, &text_len, &err) < 0 ||
	    meta_parse((char *)text, &m) < 0 ||
	    cache_path(store, m.source, "crl", crl_path, sizeof(crl_path)) < 0 ||
	    cv_read_file(crl_path, CACHE_FILE_MAX, &der, &der_len, &err) < 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, der, der_len, digest) < 0)
		goto out;
	cv_hex_encode(digest, sizeof(digest), hex);
	if (cv_strcasecmp(hex, m.sha256) != 0) {
		cv_log_warning("CRL cache: %s does not match its digest, dropped", crl_path);
		goto out;
	}
	if (m.expires != CV_TIME_NONE && now >= m.expires)
		goto out;
	if (cv_crl_ingest_owned(der, der_len, NULL, 0, &crl, &err) < 0) {
		der = NULL; /* freed by the ingest */
		cv_log_warning("CRL cache: %s: %s, dropped", crl_path, err.msg);
		goto out;
	}
	der = NULL;
	ok = insert(store, m.source, m.trustpoint, crl, m.fetched, m.expires,
	            m.delete_after != 0) != NULL;
out:
	if (!ok) {
		unlink(meta_path);
		if (crl_path[0] != '\0')
			unlink(crl_path);
	}
	cv_crl_free(crl);
	free(der);
	free(text);
	return ok;
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
	closedir(d);
	return loaded;
}
