/*
 * verdict_cache.c: the bounded, thread-safe cache of verdicts for seen chains (issue 13). A
 * hash table of immutable, reference-counted entries on a least-recently-used list, under one
 * mutex; what a key covers and what makes an entry outdated is in verdict_cache.h.
 */
#include "verdict_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "engine.h"

/* A caller's rendering of the entry's verdict for one validation time (bytes, uninterpreted). */
struct vc_memo {
	cv_time at;
	char *text; /* NULL: none */
	size_t len;
};

struct cv_vc_entry {
	struct cv_vc_key key;
	struct cv_vc_validity validity;
	struct cv_verdict verdict; /* deep copy; path, evidence and trace owned by the entry */
	struct vc_memo memo[CV_VC_MEMO_SLOTS]; /* under the cache's lock */
	unsigned refs;                         /* 1 while in the table, plus one per reader */
	struct cv_vc_entry *hnext;             /* bucket chain */
	TAILQ_ENTRY(cv_vc_entry) lru;
};

TAILQ_HEAD(vc_lru, cv_vc_entry);

struct cv_verdict_cache {
	pthread_mutex_t lock;
	struct cv_vc_entry **buckets;
	size_t n_buckets;  /* a power of two */
	struct vc_lru lru; /* most recently used first */
	struct cv_vc_stats stats;
};

/* ---- entries ---- */

static void
entry_free(struct cv_vc_entry *e)
{
	free(e->verdict.path);
	free(e->verdict.evidence);
	free(e->verdict.trace);
	for (size_t i = 0; i < CV_VC_MEMO_SLOTS; i++)
		free(e->memo[i].text);
	free(e);
}

/* A copy of n elements of size bytes at src (NULL for none); false when out of memory. */
static bool
dup_array(void **dst, const void *src, size_t n, size_t size)
{
	*dst = NULL;
	if (n == 0)
		return true;
	*dst = malloc(n * size);
	if (*dst == NULL)
		return false;
	memcpy(*dst, src, n * size);
	return true;
}

static struct cv_vc_entry *
entry_new(const struct cv_vc_key *key, const struct cv_vc_validity *validity,
          const struct cv_verdict *v)
{
	struct cv_vc_entry *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->key = *key;
	e->validity = *validity;
	e->verdict = *v;
	e->refs = 1;
	if (!dup_array((void **)&e->verdict.path, v->path, v->n_path, sizeof(*v->path)) ||
	    !dup_array((void **)&e->verdict.evidence, v->evidence, v->n_evidence,
	               sizeof(*v->evidence)) ||
	    !dup_array((void **)&e->verdict.trace, v->trace, v->n_trace, sizeof(*v->trace))) {
		entry_free(e);
		return NULL;
	}
	e->verdict.trace_cap = v->n_trace;
	return e;
}

/* Does the validity still hold at cur? */
static bool
entry_current(const struct cv_vc_entry *e, const struct cv_vc_now *cur)
{
	const struct cv_vc_validity *v = &e->validity;

	return v->engine_gen == cur->engine_gen && (!v->relied_crl || v->crl_gen == cur->crl_gen) &&
	       (!v->relied_ocsp || v->ocsp_gen == cur->ocsp_gen) && cur->now >= v->decided_at &&
	       (v->until == CV_TIME_NONE || cur->now < v->until);
}

/* ---- the table (callers hold the lock) ---- */

static size_t
bucket_of(const struct cv_verdict_cache *c, const struct cv_vc_key *key)
{
	uint64_t h;

	memcpy(&h, key->digest, sizeof(h)); /* a SHA-256 digest: any 8 bytes spread well */
	return (size_t)(h & (c->n_buckets - 1));
}

static struct cv_vc_entry **
slot_of(struct cv_verdict_cache *c, const struct cv_vc_key *key)
{
	struct cv_vc_entry **slot = &c->buckets[bucket_of(c, key)];

	while (*slot != NULL && memcmp((*slot)->key.digest, key->digest, CV_VC_KEY_LEN) != 0)
		slot = &(*slot)->hnext;
	return slot;
}

/* Takes the entry at *slot out of the table; it is freed once no reader holds it. */
static void
unlink_at(struct cv_verdict_cache *c, struct cv_vc_entry **slot)
{
	struct cv_vc_entry *e = *slot;

	*slot = e->hnext;
	TAILQ_REMOVE(&c->lru, e, lru);
	c->stats.entries--;
	if (--e->refs == 0)
		entry_free(e);
}

static size_t
drop_all(struct cv_verdict_cache *c)
{
	size_t n = c->stats.entries;

	while (!TAILQ_EMPTY(&c->lru))
		unlink_at(c, slot_of(c, &TAILQ_LAST(&c->lru, vc_lru)->key));
	return n;
}

/* Sizes the buckets for max entries (at least one bucket); false when out of memory. */
static bool
set_buckets(struct cv_verdict_cache *c, size_t max)
{
	size_t n = 16;
	struct cv_vc_entry **b;

	while (n < max && n < ((size_t)1 << 30))
		n <<= 1;
	b = calloc(n, sizeof(*b));
	if (b == NULL)
		return false;
	free(c->buckets);
	c->buckets = b;
	c->n_buckets = n;
	return true;
}

/* ---- the interface ---- */

struct cv_verdict_cache *
cv_verdict_cache_new(size_t max_entries)
{
	struct cv_verdict_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	TAILQ_INIT(&c->lru);
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return NULL;
	}
	if (!set_buckets(c, max_entries)) {
		cv_verdict_cache_free(c);
		return NULL;
	}
	c->stats.max_entries = max_entries;
	return c;
}

void
cv_verdict_cache_free(struct cv_verdict_cache *c)
{
	if (c == NULL)
		return;
	if (c->buckets != NULL)
		drop_all(c);
	pthread_mutex_destroy(&c->lock);
	free(c->buckets);
	free(c);
}

void
cv_verdict_cache_set_max(struct cv_verdict_cache *c, size_t max_entries)
{
	pthread_mutex_lock(&c->lock);
	if (max_entries != c->stats.max_entries) {
		drop_all(c);
		/* out of memory keeps the old buckets, which serve any bound (chains get longer) */
		set_buckets(c, max_entries);
		c->stats.max_entries = max_entries;
	}
	pthread_mutex_unlock(&c->lock);
}

/* Feeds len bytes, prefixed by their length, into the digest (no two inputs concatenate
 * alike). */
static int
hash_field(gnutls_hash_hd_t h, const void *data, size_t len)
{
	const uint64_t n = len;

	if (gnutls_hash(h, &n, sizeof(n)) < 0)
		return -1;
	return len > 0 ? gnutls_hash(h, data, len) : 0;
}

static int
hash_certs(gnutls_hash_hd_t h, enum cv_vc_digests of, const uint8_t *sha, size_t n)
{
	/* the label says what was hashed: a DER key and a text key never meet */
	if (hash_field(h, of == CV_VC_OF_TEXT ? "text" : "certs", of == CV_VC_OF_TEXT ? 4 : 5) <
	        0 ||
	    hash_field(h, &n, sizeof(n)) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) /* each certificate by the SHA-256 of its DER or text */
		if (hash_field(h, sha + 32 * i, 32) < 0)
			return -1;
	return 0;
}

int
cv_verdict_cache_key_of(enum cv_vc_digests of, const uint8_t *chain_sha, size_t n_chain,
                        const uint8_t *extra_sha, size_t n_extra, const struct cv_request *req,
                        struct cv_vc_key *key)
{
	const int32_t purpose = (int32_t)req->purpose;
	gnutls_hash_hd_t h;
	int rc = -1;

	if (req->at != CV_TIME_NONE || req->malformed.present || n_chain == 0 ||
	    n_chain > CV_VC_CERTS_MAX || n_extra > CV_VC_CERTS_MAX)
		return -1;
	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return -1;
	if (hash_field(h, "certval verdict cache 1", 23) < 0 ||
	    hash_certs(h, of, chain_sha, n_chain) < 0 ||
	    hash_certs(h, of, extra_sha, n_extra) < 0 ||
	    hash_field(h, &req->n_trustpoints, sizeof(req->n_trustpoints)) < 0)
		goto out;
	for (size_t i = 0; i < req->n_trustpoints; i++)
		if (hash_field(h, req->trustpoints[i], strlen(req->trustpoints[i])) < 0)
			goto out;
	if (hash_field(h, &purpose, sizeof(purpose)) < 0 ||
	    hash_field(h, req->peer_name, strlen(req->peer_name)) < 0 ||
	    hash_field(h, req->application, strlen(req->application)) < 0)
		goto out;
	rc = 0;
out:
	gnutls_hash_deinit(h, rc == 0 ? key->digest : NULL);
	return rc;
}

/* The SHA-256 of each certificate of list, in order, into sha (n * 32 bytes). */
static int
certs_sha(const struct cv_cert_list *list, uint8_t sha[CV_VC_CERTS_MAX][32])
{
	if (list->n > CV_VC_CERTS_MAX)
		return -1;
	for (size_t i = 0; i < list->n; i++)
		memcpy(sha[i], cv_cert_sha256(list->v[i]), 32);
	return 0;
}

int
cv_verdict_cache_key(const struct cv_request *req, struct cv_vc_key *key)
{
	uint8_t chain[CV_VC_CERTS_MAX][32], extra[CV_VC_CERTS_MAX][32];

	if (req->has_text_key) {
		*key = req->text_key;
		return 0;
	}
	if (certs_sha(&req->chain, chain) < 0 || certs_sha(&req->extra, extra) < 0)
		return -1;
	return cv_verdict_cache_key_of(CV_VC_OF_DER, &chain[0][0], req->chain.n, &extra[0][0],
	                               req->extra.n, req, key);
}

const struct cv_vc_entry *
cv_verdict_cache_get(struct cv_verdict_cache *c, const struct cv_vc_key *key,
                     const struct cv_vc_now *cur, enum cv_verdict_detail need,
                     struct cv_verdict *out)
{
	struct cv_vc_entry **slot, *e = NULL;

	pthread_mutex_lock(&c->lock);
	slot = slot_of(c, key);
	if (*slot != NULL && !entry_current(*slot, cur)) {
		unlink_at(c, slot);
		c->stats.invalidations++;
	} else if (*slot != NULL && (*slot)->verdict.made >= need) {
		e = *slot;
		e->refs++;
		TAILQ_REMOVE(&c->lru, e, lru);
		TAILQ_INSERT_HEAD(&c->lru, e, lru);
		*out = e->verdict;
	}
	if (e != NULL)
		c->stats.hits++;
	pthread_mutex_unlock(&c->lock);
	return e;
}

char *
cv_verdict_cache_memo(struct cv_verdict_cache *c, const struct cv_vc_entry *entry, size_t slot,
                      cv_time at, size_t *len)
{
	const struct vc_memo *m;
	char *copy = NULL;

	if (slot >= CV_VC_MEMO_SLOTS)
		return NULL;
	m = &entry->memo[slot];
	pthread_mutex_lock(&c->lock);
	if (m->text != NULL && m->at == at && (copy = malloc(m->len)) != NULL) {
		memcpy(copy, m->text, m->len);
		*len = m->len;
	}
	pthread_mutex_unlock(&c->lock);
	return copy;
}

void
cv_verdict_cache_memo_keep(struct cv_verdict_cache *c, const struct cv_vc_entry *entry, size_t slot,
                           cv_time at, const char *text, size_t len)
{
	struct cv_vc_entry *e = (struct cv_vc_entry *)entry;
	char *copy;

	if (slot >= CV_VC_MEMO_SLOTS || len == 0 || (copy = malloc(len)) == NULL)
		return;
	memcpy(copy, text, len);
	pthread_mutex_lock(&c->lock);
	free(e->memo[slot].text);
	e->memo[slot] = (struct vc_memo){at, copy, len};
	pthread_mutex_unlock(&c->lock);
}

void
cv_verdict_cache_note_miss(struct cv_verdict_cache *c)
{
	pthread_mutex_lock(&c->lock);
	c->stats.misses++;
	pthread_mutex_unlock(&c->lock);
}

void
cv_verdict_cache_release(struct cv_verdict_cache *c, const struct cv_vc_entry *entry)
{
	struct cv_vc_entry *e = (struct cv_vc_entry *)entry;

	if (e == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	if (--e->refs == 0)
		entry_free(e);
	pthread_mutex_unlock(&c->lock);
}

void
cv_verdict_cache_put(struct cv_verdict_cache *c, const struct cv_vc_key *key,
                     const struct cv_vc_validity *validity, const struct cv_verdict *v)
{
	struct cv_vc_entry *e, **slot;

	e = entry_new(key, validity, v);
	if (e == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	if (c->stats.max_entries == 0) {
		pthread_mutex_unlock(&c->lock);
		entry_free(e);
		return;
	}
	slot = slot_of(c, key);
	if (*slot != NULL)
		unlink_at(c, slot);
	while (c->stats.entries >= c->stats.max_entries) {
		unlink_at(c, slot_of(c, &TAILQ_LAST(&c->lru, vc_lru)->key));
		c->stats.evictions++;
	}
	slot = &c->buckets[bucket_of(c, key)];
	e->hnext = *slot;
	*slot = e;
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	c->stats.entries++;
	c->stats.stores++;
	pthread_mutex_unlock(&c->lock);
}

size_t
cv_verdict_cache_clear(struct cv_verdict_cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = drop_all(c);
	pthread_mutex_unlock(&c->lock);
	return n;
}

void
cv_verdict_cache_get_stats(struct cv_verdict_cache *c, struct cv_vc_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->stats;
	pthread_mutex_unlock(&c->lock);
}
