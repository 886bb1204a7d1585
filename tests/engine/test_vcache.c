/*
 * test_vcache.c: the verdict cache of seen chains (policy/verdict_cache.c, issue 13): what the
 * key covers, when a stored verdict is current, the least-recently-used bound, and readers
 * that outlive their entry (run under ASan to catch a use after free).
 */
#include <stdlib.h>
#include <string.h>

#include "../../common/verdict.h"
#include "../../policy/engine.h"
#include "../../policy/verdict_cache.h"
#include "../support/check.h"
#include "../support/testpki.h"

#define NOW ((cv_time)1800000000)

static struct tp_entity ca, leaf, other;

static int
make_pki(void)
{
	struct tp_spec s;

	tp_spec_ca(&s, "CN=VC Test CA", NOW);
	if (tp_issue(&ca, &s, NULL) < 0)
		return -1;
	tp_spec_leaf(&s, "CN=vc.example", NOW);
	if (tp_issue(&leaf, &s, &ca) < 0)
		return -1;
	tp_spec_leaf(&s, "CN=other.example", NOW);
	return tp_issue(&other, &s, &ca);
}

/* A request for [cert, ca] with the default parameters. */
static void
request(struct cv_request *req, struct cv_cert *cert)
{
	cv_request_init(req);
	cv_cert_list_push(&req->chain, cert);
	cv_cert_list_push(&req->chain, ca.cert);
}

static bool
same_key(const struct cv_request *a, const struct cv_request *b)
{
	struct cv_vc_key ka, kb;

	return cv_verdict_cache_key(a, &ka) == 0 && cv_verdict_cache_key(b, &kb) == 0 &&
	       memcmp(ka.digest, kb.digest, sizeof(ka.digest)) == 0;
}

static void
test_key(void)
{
	struct cv_request a, b;
	struct cv_vc_key k;
	uint8_t sha[2][32];

	request(&a, leaf.cert);
	request(&b, leaf.cert);
	CHECK(same_key(&a, &b));
	strcpy(b.peer_addr, "192.0.2.1"); /* the log line only */
	CHECK(same_key(&a, &b));
	b.purpose = CV_PURPOSE_TLS_SERVER;
	CHECK(!same_key(&a, &b));
	b.purpose = a.purpose;
	strcpy(b.peer_name, "vc.example");
	CHECK(!same_key(&a, &b));
	b.peer_name[0] = '\0';
	strcpy(b.application, "vpn");
	CHECK(!same_key(&a, &b));
	b.application[0] = '\0';
	strcpy(b.trustpoints[b.n_trustpoints++], "TP");
	CHECK(!same_key(&a, &b));
	cv_request_free(&b);
	request(&b, other.cert); /* another leaf */
	CHECK(!same_key(&a, &b));
	cv_request_free(&b);
	cv_request_init(&b); /* the same certificates in another order, or moved to extra */
	cv_cert_list_push(&b.chain, ca.cert);
	cv_cert_list_push(&b.chain, leaf.cert);
	CHECK(!same_key(&a, &b));
	cv_request_free(&b);
	cv_request_init(&b);
	cv_cert_list_push(&b.chain, leaf.cert);
	cv_cert_list_push(&b.extra, ca.cert);
	CHECK(!same_key(&a, &b));
	/* never cached: an explicit time, a certificate that did not parse */
	b.at = NOW;
	CHECK_INT_EQ(cv_verdict_cache_key(&b, &k), -1);
	b.at = CV_TIME_NONE;
	b.malformed.present = true;
	CHECK_INT_EQ(cv_verdict_cache_key(&b, &k), -1);
	cv_request_free(&b);
	/* from the bytes: the same key as from the parsed certificates */
	memcpy(sha[0], cv_cert_sha256(leaf.cert), 32);
	memcpy(sha[1], cv_cert_sha256(ca.cert), 32);
	{
		struct cv_vc_key from_bytes, parsed;

		CHECK_INT_EQ(
		    cv_verdict_cache_key_of(CV_VC_OF_DER, &sha[0][0], 2, NULL, 0, &a, &from_bytes),
		    0);
		CHECK_INT_EQ(cv_verdict_cache_key(&a, &parsed), 0);
		CHECK(memcmp(from_bytes.digest, parsed.digest, CV_VC_KEY_LEN) == 0);
		/* digests of the request's text: a key of its own kind, which the request then
		 * carries and cv_verdict_cache_key returns */
		struct cv_vc_key of_text, carried;

		CHECK_INT_EQ(
		    cv_verdict_cache_key_of(CV_VC_OF_TEXT, &sha[0][0], 2, NULL, 0, &a, &of_text),
		    0);
		CHECK(memcmp(of_text.digest, parsed.digest, CV_VC_KEY_LEN) != 0);
		a.has_text_key = true;
		a.text_key = of_text;
		CHECK_INT_EQ(cv_verdict_cache_key(&a, &carried), 0);
		CHECK(memcmp(carried.digest, of_text.digest, CV_VC_KEY_LEN) == 0);
	}
	cv_request_free(&a);
}

static struct cv_vc_key
key_of(struct cv_cert *cert)
{
	struct cv_request req;
	struct cv_vc_key k;

	request(&req, cert);
	cv_verdict_cache_key(&req, &k);
	cv_request_free(&req);
	return k;
}

/* A verdict with a path, an evidence entry and trace events, as the engine leaves it. */
static void
verdict(struct cv_verdict *v, const char *trustpoint)
{
	struct cv_path_entry path[2] = {{.not_after = NOW + 100}, {.trust_anchor = true}};

	cv_verdict_init(v, NOW);
	strcpy(v->trustpoint, trustpoint);
	cv_verdict_set_path(v, path, 2);
	cv_verdict_add_evidence(v, 0, "crl");
	cv_verdict_trace(v, "path", "Trust-Point %s picked up", trustpoint);
	cv_verdict_accept(v);
}

static const struct cv_vc_validity validity = {.engine_gen = 1,
                                               .relied_crl = true,
                                               .crl_gen = 5,
                                               .relied_ocsp = false,
                                               .ocsp_gen = 9,
                                               .decided_at = NOW,
                                               .until = NOW + 100};

static bool
served(struct cv_verdict_cache *c, const struct cv_vc_key *k, struct cv_vc_now cur)
{
	struct cv_verdict out;
	const struct cv_vc_entry *e =
	    cv_verdict_cache_get(c, k, &cur, CV_VERDICT_DETAIL_TRACE, &out);

	cv_verdict_cache_release(c, e);
	return e != NULL;
}

static void
test_validity(void)
{
	struct cv_verdict_cache *c = cv_verdict_cache_new(8);
	const struct cv_vc_key k = key_of(leaf.cert);
	const struct cv_vc_now cur = {.engine_gen = 1, .crl_gen = 5, .ocsp_gen = 1, .now = NOW};
	struct cv_vc_now moved;
	struct cv_vc_stats st;
	struct cv_verdict v;

	verdict(&v, "TP");
	/* each change drops the entry (then stored again for the next case) */
	struct {
		int field;
		cv_time now;
		bool current;
	} cases[] = {
	    {0, NOW, true},  {0, NOW + 99, true}, {0, NOW + 100, false}, {0, NOW - 1, false},
	    {1, NOW, false}, {2, NOW, false},     {3, NOW, true}, /* OCSP not relied on */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cv_verdict_cache_put(c, &k, &validity, &v);
		moved = cur;
		moved.now = cases[i].now;
		moved.engine_gen += cases[i].field == 1;
		moved.crl_gen += cases[i].field == 2;
		moved.ocsp_gen += cases[i].field == 3;
		CHECK_INT_EQ(served(c, &k, moved), cases[i].current);
	}
	cv_verdict_cache_get_stats(c, &st);
	CHECK_INT_EQ(st.invalidations, 4);
	CHECK_INT_EQ(st.hits, 3);
	CHECK_INT_EQ(st.entries, 1);
	cv_verdict_free(&v);
	cv_verdict_cache_free(c);
}

static void
test_copy_and_readers(void)
{
	struct cv_verdict_cache *c = cv_verdict_cache_new(1);
	const struct cv_vc_key k = key_of(leaf.cert), k2 = key_of(other.cert);
	const struct cv_vc_now cur = {.engine_gen = 1, .crl_gen = 5, .now = NOW};
	const struct cv_vc_entry *e;
	struct cv_verdict v, out;
	struct cv_vc_stats st;

	verdict(&v, "TP");
	cv_verdict_cache_put(c, &k, &validity, &v);
	cv_verdict_free(&v); /* the entry holds its own copy */
	e = cv_verdict_cache_get(c, &k, &cur, CV_VERDICT_DETAIL_TRACE, &out);
	CHECK(e != NULL);
	/* a reader keeps its verdict while the entry is evicted by another */
	verdict(&v, "OTHER");
	cv_verdict_cache_put(c, &k2, &validity, &v);
	cv_verdict_free(&v);
	CHECK_STR_EQ(out.trustpoint, "TP");
	CHECK_INT_EQ(out.n_path, 2);
	CHECK(out.path != NULL && out.path[1].trust_anchor);
	CHECK_INT_EQ(out.n_evidence, 1);
	CHECK(out.n_trace >= 1 && strstr(out.trace[0].text, "TP") != NULL);
	cv_verdict_cache_release(c, e);
	CHECK(!served(c, &k, cur)); /* evicted: the bound is one entry */
	CHECK(served(c, &k2, cur));
	cv_verdict_cache_get_stats(c, &st);
	CHECK_INT_EQ(st.evictions, 1);
	CHECK_INT_EQ(st.entries, 1);
	/* a new bound drops everything; 0 turns the cache off */
	cv_verdict_cache_set_max(c, 0);
	verdict(&v, "TP");
	cv_verdict_cache_put(c, &k, &validity, &v);
	CHECK(!served(c, &k, cur));
	cv_verdict_cache_set_max(c, 4);
	cv_verdict_cache_put(c, &k, &validity, &v);
	cv_verdict_cache_put(c, &k, &validity, &v); /* replaced, not doubled */
	cv_verdict_cache_put(c, &k2, &validity, &v);
	cv_verdict_cache_get_stats(c, &st);
	CHECK_INT_EQ(st.entries, 2);
	CHECK_INT_EQ(cv_verdict_cache_clear(c), 2);
	CHECK(!served(c, &k2, cur));
	cv_verdict_free(&v);
	cv_verdict_cache_free(c);
}

/* A verdict made with less than a request asks is not served to it: a fresh evaluation makes
 * the fuller one and replaces it; made with more, it serves every request. */
static void
test_made(void)
{
	struct cv_verdict_cache *c = cv_verdict_cache_new(8);
	const struct cv_vc_key k = key_of(leaf.cert);
	const struct cv_vc_now cur = {.engine_gen = 1, .crl_gen = 5, .ocsp_gen = 1, .now = NOW};
	struct cv_vc_stats st;
	struct cv_verdict v, out;

	for (int made = CV_VERDICT_DETAIL_VERDICT; made <= CV_VERDICT_DETAIL_TRACE; made++) {
		cv_verdict_init(&v, NOW);
		v.made = (enum cv_verdict_detail)made;
		cv_verdict_trace(&v, "path", "traced only when made with the trace");
		CHECK_INT_EQ(v.n_trace, made == CV_VERDICT_DETAIL_TRACE);
		cv_verdict_accept(&v);
		cv_verdict_cache_put(c, &k, &validity, &v);
		cv_verdict_free(&v);
		for (int need = CV_VERDICT_DETAIL_VERDICT; need <= CV_VERDICT_DETAIL_TRACE;
		     need++) {
			const struct cv_vc_entry *e =
			    cv_verdict_cache_get(c, &k, &cur, (enum cv_verdict_detail)need, &out);

			CHECK_INT_EQ(e != NULL, need <= made);
			CHECK(e == NULL || (int)out.made == made);
			cv_verdict_cache_release(c, e);
		}
	}
	cv_verdict_cache_get_stats(c, &st);
	CHECK_INT_EQ(st.entries, 1); /* kept, not dropped, when it serves less than asked */
	CHECK_INT_EQ(st.invalidations, 0);
	CHECK_INT_EQ(st.hits, 1 + 2 + 3);
	cv_verdict_cache_free(c);
}

/* A rendering kept with an entry: per slot and validation time, gone with the entry. */
static void
test_memo(void)
{
	struct cv_verdict_cache *c = cv_verdict_cache_new(8);
	const struct cv_vc_key k = key_of(leaf.cert);
	const struct cv_vc_now cur = {.engine_gen = 1, .crl_gen = 5, .ocsp_gen = 1, .now = NOW};
	const struct cv_vc_entry *e;
	struct cv_verdict v, out;
	size_t len = 0;
	char *text;

	cv_verdict_init(&v, NOW);
	cv_verdict_accept(&v);
	cv_verdict_cache_put(c, &k, &validity, &v);
	e = cv_verdict_cache_get(c, &k, &cur, CV_VERDICT_DETAIL_TRACE, &out);
	CHECK(e != NULL);
	if (e == NULL)
		goto out;
	CHECK(cv_verdict_cache_memo(c, e, 0, NOW, &len) == NULL);
	cv_verdict_cache_memo_keep(c, e, 0, NOW, "first", 5);
	text = cv_verdict_cache_memo(c, e, 0, NOW, &len);
	CHECK(text != NULL && len == 5 && memcmp(text, "first", 5) == 0);
	free(text);
	CHECK(cv_verdict_cache_memo(c, e, 0, NOW + 1, &len) == NULL); /* another second */
	CHECK(cv_verdict_cache_memo(c, e, 1, NOW, &len) == NULL);     /* another slot */
	CHECK(cv_verdict_cache_memo(c, e, CV_VC_MEMO_SLOTS, NOW, &len) == NULL);
	cv_verdict_cache_memo_keep(c, e, 0, NOW + 1, "second", 6);
	CHECK(cv_verdict_cache_memo(c, e, 0, NOW, &len) == NULL);
	text = cv_verdict_cache_memo(c, e, 0, NOW + 1, &len);
	CHECK(text != NULL && len == 6 && memcmp(text, "second", 6) == 0);
	free(text);
	cv_verdict_cache_release(c, e);
	/* a new verdict under the key is a new entry: nothing kept for it yet */
	cv_verdict_cache_put(c, &k, &validity, &v);
	e = cv_verdict_cache_get(c, &k, &cur, CV_VERDICT_DETAIL_TRACE, &out);
	CHECK(e != NULL && cv_verdict_cache_memo(c, e, 0, NOW + 1, &len) == NULL);
	cv_verdict_cache_release(c, e);
out:
	cv_verdict_free(&v);
	cv_verdict_cache_free(c); /* the memos go with their entries (ASan) */
}

int
main(void)
{
	if (make_pki() < 0) {
		fprintf(stderr, "cannot make the test PKI\n");
		return 1;
	}
	test_key();
	test_made();
	test_validity();
	test_copy_and_readers();
	test_memo();
	tp_entity_free(&leaf);
	tp_entity_free(&other);
	tp_entity_free(&ca);
	return check_summary();
}
