/* pubkeys.c: the remembered peer keys, IOS "pubkey-chain" (see pubkeys.h; SPEC R49, O-25). */
#include "pubkeys.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../common/verdict.h"

struct entry {
	bool used;
	unsigned index;
	struct cv_cert *leaf, *issuer; /* one reference each */
	char trustpoint[CV_LABEL_MAX];
	char fingerprint[65];
	cv_time added, expires;
};

struct cv_pubkeys {
	pthread_mutex_t mu;
	struct cv_link_cache *links; /* borrowed */
	struct entry v[CV_PUBKEYS_MAX];
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
	return p;
}

/* Drops an entry and the signature it vouched for; called with the lock held. */
static void
drop(struct cv_pubkeys *p, struct entry *e)
{
	if (p->links != NULL)
		cv_link_cache_forget(p->links, e->leaf, e->issuer, NULL);
	cv_cert_unref(e->leaf);
	cv_cert_unref(e->issuer);
	memset(e, 0, sizeof(*e));
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

static bool
index_taken(const struct cv_pubkeys *p, unsigned index)
{
	for (size_t i = 0; i < CV_PUBKEYS_MAX; i++)
		if (p->v[i].used && p->v[i].index == index)
			return true;
	return false;
}

/* The next free index, wrapping at 65535 (at most CV_PUBKEYS_MAX are taken). */
static unsigned
take_index(struct cv_pubkeys *p)
{
	unsigned index = p->next_index;

	while (index_taken(p, index))
		index = index % 65535 + 1;
	p->next_index = index % 65535 + 1;
	return index;
}

/* The entry of leaf under trustpoint, else a free slot, else the oldest one (dropped). */
static struct entry *
slot_for(struct cv_pubkeys *p, const char *fingerprint, const char *trustpoint)
{
	struct entry *free_slot = NULL, *oldest = NULL;

	for (size_t i = 0; i < CV_PUBKEYS_MAX; i++) {
		struct entry *e = &p->v[i];

		if (!e->used) {
			free_slot = free_slot != NULL ? free_slot : e;
			continue;
		}
		if (strcmp(e->fingerprint, fingerprint) == 0 &&
		    strcmp(e->trustpoint, trustpoint) == 0)
			return e;
		if (oldest == NULL || e->added < oldest->added)
			oldest = e;
	}
	if (free_slot != NULL)
		return free_slot;
	drop(p, oldest);
	return oldest;
}

void
cv_pubkeys_note(struct cv_pubkeys *p, struct cv_cert *leaf, struct cv_cert *issuer,
                const char *trustpoint, cv_time now, cv_time expires)
{
	char fp[65];
	struct entry *e;

	if (p == NULL || expires <= now ||
	    cv_cert_fingerprint(leaf, GNUTLS_DIG_SHA256, fp, sizeof(fp)) != 0)
		return;
	pthread_mutex_lock(&p->mu);
	e = slot_for(p, fp, trustpoint);
	if (!e->used) {
		e->used = true;
		e->index = take_index(p);
		e->leaf = cv_cert_ref(leaf);
		e->issuer = cv_cert_ref(issuer);
		cv_strlcpy(e->trustpoint, trustpoint, sizeof(e->trustpoint));
		cv_strlcpy(e->fingerprint, fp, sizeof(e->fingerprint));
	}
	e->added = now;
	e->expires = expires;
	pthread_mutex_unlock(&p->mu);
}

size_t
cv_pubkeys_expire(struct cv_pubkeys *p, cv_time now)
{
	size_t n = 0;

	if (p == NULL)
		return 0;
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < CV_PUBKEYS_MAX; i++)
		if (p->v[i].used && p->v[i].expires <= now) {
			drop(p, &p->v[i]);
			n++;
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
