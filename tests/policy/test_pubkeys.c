/*
 * test_pubkeys.c: the pubkey chain (policy/pubkeys.h, R49, O-25): indexes in order, a key seen
 * again renews its entry, zeroize of one index or all, expiry with its revocation data, and
 * the signature of a forgotten entry is forgotten with it.
 */
#include <stdio.h>
#include <string.h>

#include "../../policy/pubkeys.h"
#include "../support/check.h"
#include "../support/testpki.h"

struct seen {
	unsigned index[8];
	cv_time expires[8];
	size_t n;
};

static void
collect(const struct cv_pubkey_info *info, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8) {
		s->index[s->n] = info->index;
		s->expires[s->n++] = info->expires;
	}
}

static struct seen
list(struct cv_pubkeys *p)
{
	struct seen s = {{0}, {0}, 0};

	cv_pubkeys_foreach(p, collect, &s);
	return s;
}

struct find_tp {
	const char *trustpoint;
	bool found;
	size_t n;
};

static void
find_tp(const struct cv_pubkey_info *info, void *arg)
{
	struct find_tp *f = arg;

	f->n++;
	if (strcmp(info->trustpoint, f->trustpoint) == 0)
		f->found = true;
}

static bool
has(struct cv_pubkeys *p, const char *trustpoint, size_t *n)
{
	struct find_tp f = {trustpoint, false, 0};

	cv_pubkeys_foreach(p, find_tp, &f);
	*n = f.n;
	return f.found;
}

/*
 * A full table: the same key under CV_PUBKEYS_MAX trustpoints is as many entries; one more
 * drops the least recently noted (not the first added, which was noted again), and expiry
 * and zeroize still find entries after the table has turned over.
 */
static void
test_full_table(const struct tp_entity *leaf, const struct tp_entity *ca, cv_time now)
{
	struct cv_pubkeys *p = cv_pubkeys_new(NULL);
	char tp[32];
	size_t n = 0;

	for (int i = 0; i < CV_PUBKEYS_MAX; i++) {
		snprintf(tp, sizeof(tp), "TP-%d", i);
		cv_pubkeys_note(p, leaf->cert, ca->cert, tp, now, now + 1000 + i);
	}
	CHECK(has(p, "TP-0", &n) && n == CV_PUBKEYS_MAX);
	cv_pubkeys_note(p, leaf->cert, ca->cert, "TP-0", now + 1, now + 5000);
	cv_pubkeys_note(p, leaf->cert, ca->cert, "TP-new", now + 2, now + 5000);
	CHECK(has(p, "TP-0", &n) && n == CV_PUBKEYS_MAX);
	CHECK(!has(p, "TP-1", &n));
	CHECK(has(p, "TP-new", &n) && has(p, "TP-2", &n));
	/* TP-2 .. TP-9 expire by now + 1010; TP-0 (renewed) and TP-new stay */
	CHECK_INT_EQ(cv_pubkeys_expire(p, now + 1009), 8);
	CHECK_INT_EQ(cv_pubkeys_expire(p, now + 1009), 0);
	CHECK(has(p, "TP-0", &n) && !has(p, "TP-9", &n) && has(p, "TP-10", &n));
	CHECK_INT_EQ(n, CV_PUBKEYS_MAX - 8);
	/* the freed slots are used again */
	cv_pubkeys_note(p, leaf->cert, ca->cert, "TP-again", now + 3, now + 5000);
	CHECK(has(p, "TP-again", &n) && n == CV_PUBKEYS_MAX - 7);
	CHECK_INT_EQ(cv_pubkeys_zeroize(p, 0), CV_PUBKEYS_MAX - 7);
	CHECK(!has(p, "TP-0", &n) && n == 0);
	cv_pubkeys_free(p);
}

int
main(void)
{
	struct tp_entity ca = {0}, a = {0}, b = {0};
	struct cv_link_cache *links = cv_link_cache_new(16);
	struct cv_pubkeys *p = cv_pubkeys_new(links);
	const cv_time now = cv_clock_now(NULL);
	struct cv_link_cache_stats st;
	struct tp_spec s;
	struct seen got;

	tp_spec_ca(&s, "CN=Pubkeys CA", now);
	CHECK_INT_EQ(tp_issue(&ca, &s, NULL), 0);
	tp_spec_leaf(&s, "CN=Peer A", now);
	CHECK_INT_EQ(tp_issue(&a, &s, &ca), 0);
	tp_spec_leaf(&s, "CN=Peer B", now);
	CHECK_INT_EQ(tp_issue(&b, &s, &ca), 0);
	CHECK(p != NULL);

	cv_link_cache_add(links, a.cert, ca.cert, NULL);
	cv_pubkeys_note(p, a.cert, ca.cert, "TP", now, now + 100);
	cv_pubkeys_note(p, b.cert, ca.cert, "TP", now, now + 50);
	cv_pubkeys_note(p, a.cert, ca.cert, "TP", now + 1, now + 200); /* renewed, same index */
	cv_pubkeys_note(p, b.cert, ca.cert, "TP", now, now);           /* no time left: ignored */
	got = list(p);
	CHECK_INT_EQ(got.n, 2);
	CHECK_INT_EQ(got.index[0], 1);
	CHECK_INT_EQ(got.expires[0], now + 200);
	CHECK_INT_EQ(got.index[1], 2);

	/* zeroize one index: its entry and its signature go, the other stays */
	CHECK_INT_EQ(cv_pubkeys_zeroize(p, 1), 1);
	CHECK_INT_EQ(cv_pubkeys_zeroize(p, 1), 0);
	CHECK(!cv_link_cache_known(links, a.cert, ca.cert, NULL));
	got = list(p);
	CHECK_INT_EQ(got.n, 1);
	CHECK_INT_EQ(got.index[0], 2);

	/* a new key gets the next index, not a reused one */
	cv_pubkeys_note(p, a.cert, ca.cert, "TP", now, now + 100);
	got = list(p);
	CHECK_INT_EQ(got.n, 2);
	CHECK(got.index[0] == 3 || got.index[1] == 3);

	/* expiry with the revocation data: B (now + 50) goes, A (now + 100) stays */
	CHECK_INT_EQ(cv_pubkeys_expire(p, now + 60), 1);
	got = list(p);
	CHECK_INT_EQ(got.n, 1);
	CHECK_INT_EQ(got.index[0], 3);

	/* zeroize all: every entry and every remembered signature */
	cv_link_cache_add(links, ca.cert, ca.cert, NULL);
	CHECK_INT_EQ(cv_pubkeys_zeroize(p, 0), 1);
	cv_link_cache_get_stats(links, &st);
	CHECK_INT_EQ(st.links, 0);
	CHECK_INT_EQ(list(p).n, 0);

	test_full_table(&a, &ca, now);
	cv_pubkeys_free(p);
	cv_link_cache_free(links);
	tp_entity_free(&b);
	tp_entity_free(&a);
	tp_entity_free(&ca);
	return check_summary();
}
