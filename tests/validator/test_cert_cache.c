/*
 * test_cert_cache.c: the parsed-certificate cache (validator/cert_cache.h): the same DER gives
 * the same parsed certificate, other bytes (one flipped signature bit) never do, a DER that
 * does not parse is refused every time and never remembered, the table stays within its
 * bound, and threads share it (run under TSan: -Db_sanitize=thread). A certificate met twice
 * is found by its request text from then on, only for exactly that text.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../../validator/cert_cache.h"
#include "../support/check.h"
#include "../support/testpki.h"

#define THREADS 4
#define ROUNDS  2000

struct shared {
	struct cv_cert_cache *cache;
	const uint8_t *der;
	size_t len;
	const struct cv_cert *want;
	int wrong;
};

static void *
lookups(void *arg)
{
	struct shared *s = arg;
	struct cv_error err = {""};
	struct cv_cert *c;

	for (int i = 0; i < ROUNDS; i++) {
		if (cv_cert_cache_from_der(s->cache, s->der, s->len, &c, &err) < 0 || c != s->want)
			__atomic_add_fetch(&s->wrong, 1, __ATOMIC_RELAXED);
		cv_cert_unref(c);
	}
	return NULL;
}

/* The text index: kept once a certificate is met again, confirmed by the text itself. */
static void
test_by_text(const struct tp_entity *root, cv_time now)
{
	static const char text[] = "MIIB-the-request-text-of-the-leaf";
	static const char other[] = "MIIB-the-request-text-of-the-lea!";
	struct cv_cert_cache *cache = cv_cert_cache_new(64);
	struct tp_entity leaf = {0}, leaf2 = {0};
	struct cv_cert_cache_stats st;
	struct cv_cert *a = NULL, *b = NULL, *c = NULL;
	struct cv_error err = {""};
	uint8_t sha[32], sha2[32];
	const uint8_t *der;
	struct tp_spec s;
	size_t len;

	CHECK(cache != NULL);
	tp_spec_leaf(&s, "CN=Text Leaf", now);
	CHECK_INT_EQ(tp_issue(&leaf, &s, root), 0);
	tp_spec_leaf(&s, "CN=Text Leaf 2", now);
	CHECK_INT_EQ(tp_issue(&leaf2, &s, root), 0);
	memset(sha, 0x5a, sizeof(sha));
	memcpy(sha2, sha, sizeof(sha2));
	sha2[31] ^= 1; /* another digest, the same slot */
	der = cv_cert_der(leaf.cert, &len);

	CHECK_INT_EQ(
	    cv_cert_cache_from_der_text(cache, der, len, sha, text, strlen(text), &a, &err), 0);
	CHECK(cv_cert_cache_by_text(cache, sha, text, strlen(text)) == NULL); /* met once */
	CHECK_INT_EQ(
	    cv_cert_cache_from_der_text(cache, der, len, sha, text, strlen(text), &b, &err), 0);
	CHECK(a == b);
	c = cv_cert_cache_by_text(cache, sha, text, strlen(text));
	CHECK(c == a);
	cv_cert_unref(c);
	cv_cert_cache_get_stats(cache, &st);
	CHECK_INT_EQ(st.text_hits, 1);
	CHECK_INT_EQ(st.hits, 1);
	/* near misses: another text under the same digest, another digest, no cache */
	CHECK(cv_cert_cache_by_text(cache, sha, other, strlen(other)) == NULL);
	CHECK(cv_cert_cache_by_text(cache, sha, text, strlen(text) - 1) == NULL);
	CHECK(cv_cert_cache_by_text(cache, sha2, text, strlen(text)) == NULL);
	CHECK(cv_cert_cache_by_text(NULL, sha, text, strlen(text)) == NULL);
	/* another certificate's text in the same slot takes its place */
	der = cv_cert_der(leaf2.cert, &len);
	for (int i = 0; i < 2; i++) {
		CHECK_INT_EQ(cv_cert_cache_from_der_text(cache, der, len, sha2, other,
		                                         strlen(other), &c, &err),
		             0);
		cv_cert_unref(c);
	}
	CHECK(cv_cert_cache_by_text(cache, sha, text, strlen(text)) == NULL);
	c = cv_cert_cache_by_text(cache, sha2, other, strlen(other));
	CHECK(c != NULL && c != a && cv_cert_equal(c, leaf2.cert));
	cv_cert_unref(c);

	cv_cert_unref(a);
	cv_cert_unref(b);
	cv_cert_cache_free(cache);
	tp_entity_free(&leaf);
	tp_entity_free(&leaf2);
}

int
main(void)
{
	struct tp_entity root = {0}, leaf = {0};
	struct cv_cert_cache *cache = cv_cert_cache_new(64);
	struct cv_cert_cache_stats st;
	struct cv_cert *a = NULL, *b = NULL, *forged = NULL, *c = NULL;
	struct cv_error err = {""};
	struct shared sh = {0};
	pthread_t th[THREADS];
	const uint8_t *der;
	uint8_t *copy;
	size_t len;
	struct tp_spec s;
	const cv_time now = cv_clock_now(NULL);

	CHECK(cache != NULL);
	tp_spec_ca(&s, "CN=Cache Root", now);
	CHECK_INT_EQ(tp_issue(&root, &s, NULL), 0);
	tp_spec_leaf(&s, "CN=Cache Leaf", now);
	CHECK_INT_EQ(tp_issue(&leaf, &s, &root), 0);
	der = cv_cert_der(leaf.cert, &len);

	/* the same bytes: parsed once, the same certificate twice */
	CHECK_INT_EQ(cv_cert_cache_from_der(cache, der, len, &a, &err), 0);
	CHECK_INT_EQ(cv_cert_cache_from_der(cache, der, len, &b, &err), 0);
	CHECK(a != NULL && a == b);
	CHECK(a != leaf.cert); /* parsed from the bytes, not borrowed from the caller */
	cv_cert_cache_get_stats(cache, &st);
	CHECK_INT_EQ(st.hits, 1);
	CHECK_INT_EQ(st.misses, 1);

	/* other bytes with the same names: another certificate */
	CHECK_INT_EQ(tp_corrupt_signature(leaf.cert, &forged), 0);
	der = cv_cert_der(forged, &len);
	CHECK_INT_EQ(cv_cert_cache_from_der(cache, der, len, &c, &err), 0);
	CHECK(c != NULL && c != a && !cv_cert_equal(c, a));
	cv_cert_unref(c);

	/* a DER that does not parse: refused, and refused again (nothing remembered) */
	der = cv_cert_der(leaf.cert, &len);
	copy = malloc(len);
	CHECK(copy != NULL);
	memcpy(copy, der, len);
	copy[len / 2] ^= 0xff;
	copy[4] ^= 0x1f; /* the TBSCertificate's tag */
	CHECK_INT_EQ(cv_cert_cache_from_der(cache, copy, len - 1, &c, &err), -1);
	CHECK(c == NULL);
	CHECK_INT_EQ(cv_cert_cache_from_der(cache, copy, len - 1, &c, &err), -1);
	CHECK(c == NULL);
	free(copy);

	/* without a cache: parsed each time */
	CHECK_INT_EQ(cv_cert_cache_from_der(NULL, der, len, &c, &err), 0);
	CHECK(c != NULL && c != a && cv_cert_equal(c, a));
	cv_cert_unref(c);

	/* bounded: many certificates never grow it past its slots */
	for (int i = 0; i < 200; i++) {
		struct tp_entity e = {0};
		char cn[64];

		snprintf(cn, sizeof(cn), "CN=Cache Leaf %d", i);
		tp_spec_leaf(&s, cn, now);
		CHECK_INT_EQ(tp_issue(&e, &s, &root), 0);
		der = cv_cert_der(e.cert, &len);
		CHECK_INT_EQ(cv_cert_cache_from_der(cache, der, len, &c, &err), 0);
		cv_cert_unref(c);
		tp_entity_free(&e);
	}
	cv_cert_cache_get_stats(cache, &st);
	CHECK(st.certs <= 64);

	/* threads: every lookup gets the one cached certificate */
	der = cv_cert_der(leaf.cert, &len);
	CHECK_INT_EQ(cv_cert_cache_from_der(cache, der, len, &c, &err), 0);
	sh = (struct shared){.cache = cache, .der = der, .len = len, .want = c};
	for (int i = 0; i < THREADS; i++)
		CHECK_INT_EQ(pthread_create(&th[i], NULL, lookups, &sh), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	CHECK_INT_EQ(sh.wrong, 0);
	cv_cert_unref(c);

	test_by_text(&root, now);

	cv_cert_unref(a);
	cv_cert_unref(b);
	cv_cert_unref(forged);
	cv_cert_cache_free(cache);
	tp_entity_free(&leaf);
	tp_entity_free(&root);
	return check_summary();
}
