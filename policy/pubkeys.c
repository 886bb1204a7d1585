/* pubkeys.c: the remembered peer keys, IOS "pubkey-chain" (see pubkeys.h; SPEC R49, O-25). */
#include "pubkeys.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/queue.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../common/verdict.h"

#define BUCKETS  2048 /* a power of two, twice CV_PUBKEYS_MAX */
#define NO_ENTRY (-1)

struct entry {
	bool used;
	unsigned index;
	struct cv_cert *leaf, *issuer; /* one reference each */
	char trustpoint[CV_LABEL_MAX];
	char fingerprint[65];
	cv_time added, expires;
	int next;               /* the next entry of its bucket, or of the free list */
	TAILQ_ENTRY(entry) age; /* used entries, the least recently noted first */
};

/*
 * Every verdict that accepts notes its leaf, so the per-verdict work is a bucket's chain, not
 * the table: entries are found by (certificate digest, trustpoint) in hash buckets, the oldest
 * is the head of the age list, indices in use are a bitmap, and expiry scans only once the
 * earliest expiry has come.
 */
struct cv_pubkeys {
	pthread_mutex_t mu;
	struct cv_link_cache *links; /* borrowed */
	struct entry v[CV_PUBKEYS_MAX];
	int bucket[BUCKETS];
	int free_head;
	TAILQ_HEAD(age_list, entry) by_age;
	cv_time earliest; /* no entry expires before; CV_TIME_NONE when empty */
	uint8_t taken[65536 / 8];
	unsigned next_index; /* the index the next new entry gets, 1-65535 */
};

struct cv_pubkeys *
cv_pubkeys_new(struct cv_link_cache *links)
{
	struct cv_pubkeys *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	if (pthread_mutex_init(&p->mu, NULL) != 0) {
		free(p);
		return NULL;
	}
	p->links = links;
	p->next_index = 1;
	p->earliest = CV_TIME_NONE;
	TAILQ_INIT(&p->by_age);
	for (size_t i = 0; i < BUCKETS; i++)
		p->bucket[i] = NO_ENTRY;
	for (size_t i = 0; i < CV_PUBKEYS_MAX; i++)
		p->v[i].next = i + 1 < CV_PUBKEYS_MAX ? (int)i + 1 : NO_ENTRY;
	p->free_head = 0;
	return p;
}

static size_t
bucket_of(const uint8_t *sha256, const char *trustpoint)
{
	uint32_t h = 2166136261u; /* FNV-1a over the trustpoint, then the digest's first bytes */

	for (const char *c = trustpoint; *c != '\0'; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	for (size_t i = 0; i < 4; i++)
		h = (h ^ sha256[i]) * 16777619u;
	return h & (BUCKETS - 1);
}

static bool
index_taken(const struct cv_pubkeys *p, unsigned index)
{
	return (p->taken[index / 8] >> (index % 8)) & 1;
}

static void
index_mark(struct cv_pubkeys *p, unsigned index, bool taken)
{
	if (taken)
		p->taken[index / 8] |= (uint8_t)(1u << (index % 8));
	else
		p->taken[index / 8] &= (uint8_t) ~(1u << (index % 8));
}

/* The next free index, wrapping at 65535 (at most CV_PUBKEYS_MAX are taken). */
static unsigned
take_index(struct cv_pubkeys *p)
{
	unsigned index = p->next_index;

	while (index_taken(p, index))
		index = index % 65535 + 1;
	p->next_index = index % 65535 + 1;
	index_mark(p, index, true);
	return index;
}

/* Drops an entry and the signature it vouched for; called with the lock held. */
static void
drop(struct cv_pubkeys *p, struct entry *e)
{
	const int self = (int)(e - p->v);
	int *link = &p->bucket[bucket_of(cv_cert_sha256(e->leaf), e->trustpoint)];

	while (*link != NO_ENTRY && *link != self)
		link = &p->v[*link].next;
	if (*link == self)
		*link = e->next;
	TAILQ_REMOVE(&p->by_age, e, age);
	index_mark(p, e->index, false);
	if (p->links != NULL)
		cv_link_cache_forget(p->links, e->leaf, e->issuer, NULL);
	cv_cert_unref(e->leaf);
	cv_cert_unref(e->issuer);
	memset(e, 0, sizeof(*e));
	e->next = p->free_head;
	p->free_head = self;
}

void
cv_pubkeys_free(struct cv_pubkeys *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < CV_PUBKEYS_MAX; i++)
		if (p->v[i].used) {
			cv_cert_unref(p->v[i].leaf);
			cv_cert_unref(p->v[i].issuer);
		}
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* The entry of leaf under trustpoint, or NULL. */
static struct entry *
find(struct cv_pubkeys *p, const uint8_t *sha256, const char *trustpoint)
{
	for (int i = p->bucket[bucket_of(sha256, trustpoint)]; i != NO_ENTRY; i = p->v[i].next) {
		struct entry *e = &p->v[i];

		if (memcmp(cv_cert_sha256(e->leaf), sha256, 32) == 0 &&
		    strcmp(e->trustpoint, trustpoint) == 0)
			return e;
	}
	return NULL;
}

/* A new entry for leaf under trustpoint: a free slot, else the oldest one (dropped). */
static struct entry *
add(struct cv_pubkeys *p, struct cv_cert *leaf, struct cv_cert *issuer, const char *trustpoint)
{
	const uint8_t *sha256 = cv_cert_sha256(leaf);
	size_t b = bucket_of(sha256, trustpoint);
	struct entry *e;

	if (p->free_head == NO_ENTRY)
		drop(p, TAILQ_FIRST(&p->by_age));
	e = &p->v[p->free_head];
	p->free_head = e->next;
	e->used = true;
	e->index = take_index(p);
	e->leaf = cv_cert_ref(leaf);
	e->issuer = cv_cert_ref(issuer);
	cv_strlcpy(e->trustpoint, trustpoint, sizeof(e->trustpoint));
	cv_hex_encode(sha256, 32, e->fingerprint);
	e->next = p->bucket[b];
	p->bucket[b] = (int)(e - p->v);
	TAILQ_INSERT_TAIL(&p->by_age, e, age);
	return e;
}

void
cv_pubkeys_note(struct cv_pubkeys *p, struct cv_cert *leaf, struct cv_cert *issuer,
                const char *trustpoint, cv_time now, cv_time expires)
{
	struct entry *e;

	if (p == NULL || expires <= now)
		return;
	pthread_mutex_lock(&p->mu);
	e = find(p, cv_cert_sha256(leaf), trustpoint);
	if (e != NULL) {
		TAILQ_REMOVE(&p->by_age, e, age);
		TAILQ_INSERT_TAIL(&p->by_age, e, age);
	} else {
		e = add(p, leaf, issuer, trustpoint);
	}
	e->added = now;
	e->expires = expires;
	if (p->earliest == CV_TIME_NONE || expires < p->earliest)
		p->earliest = expires;
	pthread_mutex_unlock(&p->mu);
}

size_t
cv_pubkeys_expire(struct cv_pubkeys *p, cv_time now)
{
	struct entry *e, *next;
	size_t n = 0;

	if (p == NULL)
		return 0;
	pthread_mutex_lock(&p->mu);
	if (p->earliest != CV_TIME_NONE && p->earliest <= now) {
		p->earliest = CV_TIME_NONE;
		for (e = TAILQ_FIRST(&p->by_age); e != NULL; e = next) {
			next = TAILQ_NEXT(e, age);
			if (e->expires <= now) {
				drop(p, e);
				n++;
			} else if (p->earliest == CV_TIME_NONE || e->expires < p->earliest) {
				p->earliest = e->expires;
			}
		}
	}
	pthread_mutex_unlock(&p->mu);
	return n;
}

size_t
cv_pubkeys_zeroize(struct cv_pubkeys *p, unsigned index)
{
	size_t n = 0;

	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < CV_PUBKEYS_MAX; i++)
		if (p->v[i].used && (index == 0 || p->v[i].index == index)) {
			drop(p, &p->v[i]);
			n++;
		}
	if (index == 0 && p->links != NULL)
		cv_link_cache_clear(p->links); /* every signature, CA links included */
	pthread_mutex_unlock(&p->mu);
	return n;
}

void
cv_pubkeys_foreach(struct cv_pubkeys *p, cv_pubkey_fn fn, void *arg)
{
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < CV_PUBKEYS_MAX; i++) {
		const struct entry *e = &p->v[i];
		struct cv_pubkey_info info;

		if (!e->used)
			continue;
		info.index = e->index;
		info.subject = cv_cert_subject(e->leaf);
		info.issuer = cv_cert_subject(e->issuer);
		info.serial = cv_cert_serial(e->leaf);
		info.trustpoint = e->trustpoint;
		info.key_algorithm = cv_cert_key_algorithm_name(e->leaf);
		info.fingerprint = e->fingerprint;
		info.added = e->added;
		info.expires = e->expires;
		fn(&info, arg);
	}
	pthread_mutex_unlock(&p->mu);
}
