/*
 * test_links.c: the verified-link cache (validator/links.h): a chain seen before is validated
 * without signature checks, a changed certificate never profits from it, one link can be
 * forgotten, and the table stays within its bound.
 */
#include <string.h>

#include "../../validator/links.h"
#include "../../validator/path.h"
#include "../support/check.h"
#include "../support/testpki.h"

static cv_time now;

static int
build(const struct cv_cert *leaf, struct tp_entity *root, struct tp_entity *sub,
      struct cv_link_cache *links, unsigned *checks, struct cv_failure *f)
{
	struct cv_cert *anchors[] = {root->cert};
	struct cv_cert *untrusted[] = {sub->cert};
	struct cv_path_params p;
	struct cv_path path;
	int rc;

	cv_path_params_init(&p);
	p.at = now;
	p.anchors = anchors;
	p.n_anchors = 1;
	p.untrusted = untrusted;
	p.n_untrusted = 1;
	p.links = links;
	rc = cv_path_build(leaf, &p, &path, f, NULL);
	*checks = path.sig_checks;
	if (rc == 0)
		cv_path_release(&path);
	return rc;
}

int
main(void)
{
	struct tp_entity root = {0}, sub = {0}, leaf = {0};
	struct cv_link_cache *links = cv_link_cache_new(16);
	struct cv_link_cache_stats st;
	struct cv_cert *forged = NULL;
	struct cv_failure f;
	struct tp_spec s;
	unsigned checks = 0;

	now = cv_clock_now(NULL);
	tp_spec_ca(&s, "CN=Links Root", now);
	CHECK_INT_EQ(tp_issue(&root, &s, NULL), 0);
	tp_spec_ca(&s, "CN=Links Sub", now);
	CHECK_INT_EQ(tp_issue(&sub, &s, &root), 0);
	tp_spec_leaf(&s, "CN=Links Leaf", now);
	CHECK_INT_EQ(tp_issue(&leaf, &s, &sub), 0);
	CHECK(links != NULL);

	CHECK_INT_EQ(build(leaf.cert, &root, &sub, links, &checks, &f), 0);
	CHECK_INT_EQ(checks, 2); /* leaf by sub, sub by root */
	CHECK_INT_EQ(build(leaf.cert, &root, &sub, links, &checks, &f), 0);
	CHECK_INT_EQ(checks, 0); /* both links remembered */
	cv_link_cache_get_stats(links, &st);
	CHECK_INT_EQ(st.hits, 2);
	CHECK_INT_EQ(st.links, 2);

	/* one link forgotten (an expired or zeroized peer key, R49): only it is checked again */
	CHECK(cv_link_cache_forget(links, leaf.cert, sub.cert, NULL));
	CHECK(!cv_link_cache_forget(links, leaf.cert, sub.cert, NULL));
	CHECK(!cv_link_cache_forget(links, sub.cert, leaf.cert, NULL)); /* never remembered */
	cv_link_cache_get_stats(links, &st);
	CHECK_INT_EQ(st.links, 1);
	CHECK_INT_EQ(build(leaf.cert, &root, &sub, links, &checks, &f), 0);
	CHECK_INT_EQ(checks, 1);

	/* the same names, another signature: a different link, checked and refused */
	CHECK_INT_EQ(tp_corrupt_signature(leaf.cert, &forged), 0);
	CHECK_INT_EQ(build(forged, &root, &sub, links, &checks, &f), -1);
	CHECK_INT_EQ(f.reason, CV_REASON_BAD_SIGNATURE);
	CHECK_INT_EQ(build(forged, &root, &sub, links, &checks, &f), -1); /* failures not kept */
	CHECK_INT_EQ(f.reason, CV_REASON_BAD_SIGNATURE);

	/* without a cache every build checks again */
	CHECK_INT_EQ(build(leaf.cert, &root, &sub, NULL, &checks, &f), 0);
	CHECK_INT_EQ(checks, 2);

	cv_cert_unref(forged);
	cv_link_cache_free(links);
	tp_entity_free(&leaf);
	tp_entity_free(&sub);
	tp_entity_free(&root);
	return check_summary();
}
