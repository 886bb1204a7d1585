/* crl_store.c: the CRL cache: ingested CRLs by source with their effective expiry. */
#include "crl_store.h"

#include <stdlib.h>
#include <string.h>

struct slot {
	char *source;
	char *trustpoint;
	struct cv_crl *crl;
	cv_time fetched_at;
	cv_time expires;
	bool delete_after;
};

struct cv_crl_store {
	struct slot *slots;
	size_t n;
	size_t cap;
};

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

int
cv_crl_store_put(struct cv_crl_store *store, const char *source, const char *trustpoint,
                 struct cv_crl *crl, cv_time fetched_at, cv_time expires, bool delete_after)
{
	struct slot fresh = {0};
	size_t i;
	struct slot *s;

	fresh.source = strdup(source);
	fresh.trustpoint = strdup(trustpoint != NULL ? trustpoint : "");
	if (fresh.source == NULL || fresh.trustpoint == NULL)
		goto fail;
	fresh.crl = cv_crl_ref(crl);
	fresh.fetched_at = fetched_at;
	fresh.expires = expires;
	fresh.delete_after = delete_after;
	s = find(store, source, &i);
	if (s != NULL) {
		slot_clear(s);
		*s = fresh;
		return 0;
	}
	if (store->n == store->cap) {
		const size_t cap = store->cap == 0 ? 8 : store->cap * 2;
		struct slot *grown = realloc(store->slots, cap * sizeof(*grown));

		if (grown == NULL)
			goto fail;
		store->slots = grown;
		store->cap = cap;
	}
	store->slots[store->n++] = fresh;
	return 0;
fail:
	slot_clear(&fresh);
	return -1;
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
