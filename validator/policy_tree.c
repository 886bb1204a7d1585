/* policy_tree.c: RFC 5280 certificate policy processing (the valid_policy_tree of 6.1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "../common/util.h"
#include "x509int.h"

#define ANY_POLICY        "2.5.29.32.0"
#define OID_TEXT_MAX      64
#define NODES_MAX         256
#define EXPECTED_MAX      8
#define CERT_POLICIES_MAX 16
#define MAPPINGS_MAX      16

struct node {
	char policy[OID_TEXT_MAX];
	char expected[EXPECTED_MAX][OID_TEXT_MAX];
	size_t n_expected;
	int parent; /* -1 for the root */
	size_t depth;
	bool alive;
};

struct cv_policy_state {
	struct node nodes[NODES_MAX];
	size_t n_nodes;
	bool null_tree;
	size_t n; /* certificates in the path, anchor excluded */
	size_t explicit_policy, policy_mapping, inhibit_any;
	const struct cv_path_params *params;
};

struct oid_list {
	char v[CERT_POLICIES_MAX][OID_TEXT_MAX];
	size_t n;
};

struct mapping {
	char issuer[OID_TEXT_MAX], subject[OID_TEXT_MAX];
};

static int
add_node(struct cv_policy_state *st, int parent, const char *policy, size_t depth)
{
	struct node *nd;

	if (st->n_nodes == NODES_MAX)
		return -1;
	nd = &st->nodes[st->n_nodes++];
	memset(nd, 0, sizeof(*nd));
	cv_strlcpy(nd->policy, policy, sizeof(nd->policy));
	cv_strlcpy(nd->expected[0], policy, sizeof(nd->expected[0]));
	nd->n_expected = 1;
	nd->parent = parent;
	nd->depth = depth;
	nd->alive = true;
	return 0;
}

/* Kills the descendants of dead nodes (parents always precede their children). */
static void
sweep(struct cv_policy_state *st)
{
	size_t j;

	for (j = 0; j < st->n_nodes; j++)
		if (st->nodes[j].alive && st->nodes[j].parent >= 0 &&
		    !st->nodes[st->nodes[j].parent].alive)
			st->nodes[j].alive = false;
}

static bool
has_child(const struct cv_policy_state *st, size_t idx)
{
	size_t j;

	for (j = idx + 1; j < st->n_nodes; j++)
		if (st->nodes[j].alive && st->nodes[j].parent == (int)idx)
			return true;
	return false;
}

/* Deletes nodes above depth `below` without children, bottom-up; the tree may become NULL. */
static void
prune(struct cv_policy_state *st, size_t below)
{
	size_t d, j;

	for (d = below; d-- > 0;)
		for (j = 0; j < st->n_nodes; j++)
			if (st->nodes[j].alive && st->nodes[j].depth == d && !has_child(st, j))
				st->nodes[j].alive = false;
	if (st->n_nodes == 0 || !st->nodes[0].alive)
		st->null_tree = true;
}

static bool
expects(const struct node *nd, const char *p)
{
	size_t k;

	for (k = 0; k < nd->n_expected; k++)
		if (strcmp(nd->expected[k], p) == 0)
			return true;
	return false;
}

/*
 * The value of the extension oid of cert, which must be one element with tag: 0 with *e set,
 * 1 when the extension is absent, -1 when unreadable. The caller frees d->data (gnutls_free).
 */
static int
extension_value(const struct cv_cert *cert, const char *oid, uint8_t tag, gnutls_datum_t *d,
                struct cv_asn1_elem *e)
{
	struct cv_asn1 top;
	bool crit;
	int ret;

	ret = cv_cert_extension(cert, oid, d, &crit);
	if (ret != 0)
		return ret;
	cv_asn1_init(&top, d->data, d->size);
	if (cv_asn1_expect(&top, tag, e) < 0)
		return -1;
	return cv_asn1_finish(&top);
}

/*
 * certificatePolicies ::= SEQUENCE SIZE (1..MAX) OF PolicyInformation
 * PolicyInformation ::= SEQUENCE { policyIdentifier OBJECT IDENTIFIER,
 *      policyQualifiers SEQUENCE SIZE (1..MAX) OF PolicyQualifierInfo OPTIONAL }
 */
static int
read_policies(const struct cv_cert *cert, struct oid_list *out, bool *present)
{
	gnutls_datum_t d;
	struct cv_asn1 list, info;
	struct cv_asn1_elem seq, oid, qualifiers;
	bool have_q;
	int ret;

	out->n = 0;
	*present = false;
	ret = extension_value(cert, "2.5.29.32", CV_ASN1_SEQUENCE, &d, &seq);
	if (ret != 0)
		goto out;
	*present = true;
	ret = -1;
	cv_asn1_open(&seq, &list);
	while (!cv_asn1_empty(&list)) {
		if (cv_asn1_enter(&list, CV_ASN1_SEQUENCE, &info) < 0 ||
		    cv_asn1_expect(&info, CV_ASN1_OID, &oid) < 0 ||
		    cv_asn1_optional(&info, CV_ASN1_SEQUENCE, &qualifiers, &have_q) < 0 ||
		    cv_asn1_finish(&info) < 0 || out->n == CERT_POLICIES_MAX ||
		    cv_asn1_oid_text(oid.val, oid.len, out->v[out->n], OID_TEXT_MAX) < 0)
			goto out;
		out->n++;
	}
	ret = 0;
out:
	gnutls_free(d.data);
	return ret < 0 ? -1 : 0;
}

/*
 * PolicyMappings ::= SEQUENCE SIZE (1..MAX) OF SEQUENCE {
 *      issuerDomainPolicy CertPolicyId, subjectDomainPolicy CertPolicyId }
 */
static int
read_mappings(const struct cv_cert *cert, struct mapping *m, size_t *n)
{
	gnutls_datum_t d;
	struct cv_asn1 list, pair;
	struct cv_asn1_elem seq, a, b;
	int ret;

	*n = 0;
	ret = extension_value(cert, "2.5.29.33", CV_ASN1_SEQUENCE, &d, &seq);
	if (ret != 0)
		goto out;
	ret = -1;
	cv_asn1_open(&seq, &list);
	while (!cv_asn1_empty(&list)) {
		if (cv_asn1_enter(&list, CV_ASN1_SEQUENCE, &pair) < 0 ||
		    cv_asn1_expect(&pair, CV_ASN1_OID, &a) < 0 ||
		    cv_asn1_expect(&pair, CV_ASN1_OID, &b) < 0 || cv_asn1_finish(&pair) < 0 ||
		    *n == MAPPINGS_MAX ||
		    cv_asn1_oid_text(a.val, a.len, m[*n].issuer, OID_TEXT_MAX) < 0 ||
		    cv_asn1_oid_text(b.val, b.len, m[*n].subject, OID_TEXT_MAX) < 0)
			goto out;
		(*n)++;
	}
	ret = 0;
out:
	gnutls_free(d.data);
	return ret < 0 ? -1 : 0;
}

/* An OPTIONAL SkipCerts ::= INTEGER (0..MAX) under tag; *out is left alone when absent. */
static int
optional_skip_certs(struct cv_asn1 *d, uint8_t tag, int *out)
{
	struct cv_asn1_elem e;
	bool present;
	int32_t v;

	if (cv_asn1_optional(d, tag, &e, &present) < 0 ||
	    (present && cv_asn1_small_int(&e, &v) < 0))
		return -1;
	if (present)
		*out = (int)v;
	return 0;
}

/*
 * PolicyConstraints ::= SEQUENCE { requireExplicitPolicy [0] SkipCerts OPTIONAL,
 *      inhibitPolicyMapping [1] SkipCerts OPTIONAL }; each -1 when absent.
 */
static int
read_policy_constraints(const struct cv_cert *cert, int *require, int *inhibit_mapping)
{
	gnutls_datum_t d;
	struct cv_asn1 pc;
	struct cv_asn1_elem seq;
	int ret;

	*require = *inhibit_mapping = -1;
	ret = extension_value(cert, "2.5.29.36", CV_ASN1_SEQUENCE, &d, &seq);
	if (ret == 0) {
		cv_asn1_open(&seq, &pc);
		if (optional_skip_certs(&pc, CV_ASN1_CTX(0), require) < 0 ||
		    optional_skip_certs(&pc, CV_ASN1_CTX(1), inhibit_mapping) < 0 ||
		    cv_asn1_finish(&pc) < 0)
			ret = -1;
	}
	gnutls_free(d.data);
	return ret < 0 ? -1 : 0;
}

/* InhibitAnyPolicy ::= SkipCerts; -1 when absent. */
static int
read_inhibit_any(const struct cv_cert *cert, int *skip)
{
	gnutls_datum_t d;
	struct cv_asn1_elem v;
	int32_t n;
	int ret;

	*skip = -1;
	ret = extension_value(cert, "2.5.29.54", CV_ASN1_INTEGER, &d, &v);
	if (ret == 0) {
		ret = cv_asn1_small_int(&v, &n);
		*skip = (int)n;
	}
	gnutls_free(d.data);
	return ret < 0 ? -1 : 0;
}

struct cv_policy_state *
cv_policy_init(const struct cv_path_params *params, size_t n)
{
	struct cv_policy_state *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return NULL;
	st->params = params;
	st->n = n;
	st->explicit_policy = params->explicit_policy ? 0 : n + 1;
	st->policy_mapping = params->inhibit_policy_mapping ? 0 : n + 1;
	st->inhibit_any = params->inhibit_any_policy ? 0 : n + 1;
	add_node(st, -1, ANY_POLICY, 0);
	return st;
}

void
cv_policy_free(struct cv_policy_state *st)
{
	free(st);
}

/* 6.1.3 (d) (1): a certificate policy other than anyPolicy. */
static int
process_policy(struct cv_policy_state *st, const char *p, size_t i)
{
	size_t j, count = st->n_nodes;
	bool matched = false;

	for (j = 0; j < count; j++) {
		if (!st->nodes[j].alive || st->nodes[j].depth != i - 1 ||
		    !expects(&st->nodes[j], p))
			continue;
		if (add_node(st, (int)j, p, i) < 0)
			return -1;
		matched = true;
	}
	if (matched)
		return 0;
	for (j = 0; j < count; j++)
		if (st->nodes[j].alive && st->nodes[j].depth == i - 1 &&
		    strcmp(st->nodes[j].policy, ANY_POLICY) == 0)
			return add_node(st, (int)j, p, i);
	return 0;
}

/* 6.1.3 (d) (2): anyPolicy in the certificate expands every expected policy not yet present. */
static int
process_any_policy(struct cv_policy_state *st, size_t i)
{
	size_t j, k, c, count = st->n_nodes;

	for (j = 0; j < count; j++) {
		if (!st->nodes[j].alive || st->nodes[j].depth != i - 1)
			continue;
		for (k = 0; k < st->nodes[j].n_expected; k++) {
			const char *p = st->nodes[j].expected[k];
			bool present = false;

			for (c = j + 1; c < st->n_nodes; c++)
				if (st->nodes[c].alive && st->nodes[c].parent == (int)j &&
				    strcmp(st->nodes[c].policy, p) == 0)
					present = true;
			if (!present && add_node(st, (int)j, p, i) < 0)
				return -1;
		}
	}
	return 0;
}

int
cv_policy_process(struct cv_policy_state *st, const struct cv_cert *cert, size_t i, bool is_last,
                  char *why, size_t why_len)
{
	struct oid_list pol;
	bool present, any = false;
	size_t k;

	if (read_policies(cert, &pol, &present) < 0) {
		snprintf(why, why_len, "unreadable certificate policies");
		return -1;
	}
	if (present && !st->null_tree) {
		for (k = 0; k < pol.n; k++) {
			if (strcmp(pol.v[k], ANY_POLICY) == 0) {
				any = true;
				continue;
			}
			if (process_policy(st, pol.v[k], i) < 0)
				goto toobig;
		}
		if (any && (st->inhibit_any > 0 || (!is_last && cv_cert_is_self_issued(cert))) &&
		    process_any_policy(st, i) < 0)
			goto toobig;
		prune(st, i);
	} else {
		st->null_tree = true; /* (e) */
	}
	if (st->explicit_policy == 0 && st->null_tree) { /* (f) */
		snprintf(why, why_len,
		         "no acceptable certificate policy (explicit policy required)");
		return -1;
	}
	return 0;
toobig:
	snprintf(why, why_len, "policy tree too large");
	return -1;
}

/* 6.1.4 (b): apply or delete the mapped policies at depth i. */
static int
apply_mappings(struct cv_policy_state *st, const struct mapping *m, size_t nm, size_t i)
{
	size_t a, j, k, count;

	for (a = 0; a < nm; a++) {
		const char *idp = m[a].issuer;
		bool done = false;

		/* each issuerDomainPolicy once, with all its subjectDomainPolicy values */
		for (k = 0; k < a; k++)
			if (strcmp(m[k].issuer, idp) == 0)
				done = true;
		if (done)
			continue;
		count = st->n_nodes;
		if (st->policy_mapping == 0) {
			for (j = 0; j < count; j++)
				if (st->nodes[j].alive && st->nodes[j].depth == i &&
				    strcmp(st->nodes[j].policy, idp) == 0)
					st->nodes[j].alive = false;
			continue;
		}
		for (j = 0; j < count; j++) {
			if (st->nodes[j].alive && st->nodes[j].depth == i &&
			    strcmp(st->nodes[j].policy, idp) == 0)
				break;
		}
		if (j == count) {
			for (j = 0; j < count; j++)
				if (st->nodes[j].alive && st->nodes[j].depth == i &&
				    strcmp(st->nodes[j].policy, ANY_POLICY) == 0)
					break;
			if (j == count)
				continue;
			if (add_node(st, st->nodes[j].parent, idp, i) < 0)
				return -1;
			j = st->n_nodes - 1;
		}
		for (; j < st->n_nodes; j++) {
			struct node *nd = &st->nodes[j];

			if (!nd->alive || nd->depth != i || strcmp(nd->policy, idp) != 0)
				continue;
			nd->n_expected = 0;
			for (k = 0; k < nm; k++) {
				if (strcmp(m[k].issuer, idp) != 0)
					continue;
				if (nd->n_expected == EXPECTED_MAX)
					return -1;
				cv_strlcpy(nd->expected[nd->n_expected++], m[k].subject,
				           OID_TEXT_MAX);
			}
		}
	}
	if (st->policy_mapping == 0) {
		sweep(st);
		prune(st, i);
	}
	return 0;
}

int
cv_policy_prepare(struct cv_policy_state *st, const struct cv_cert *cert, size_t i, char *why,
                  size_t why_len)
{
	struct mapping m[MAPPINGS_MAX];
	size_t nm, k;
	int require, inhibit_map, inhibit_any;

	if (read_mappings(cert, m, &nm) < 0) {
		snprintf(why, why_len, "unreadable policy mappings");
		return -1;
	}
	for (k = 0; k < nm; k++) { /* (a) */
		if (strcmp(m[k].issuer, ANY_POLICY) == 0 || strcmp(m[k].subject, ANY_POLICY) == 0) {
			snprintf(why, why_len, "policy mapping to or from anyPolicy");
			return -1;
		}
	}
	if (!st->null_tree && nm > 0 && apply_mappings(st, m, nm, i) < 0) { /* (b) */
		snprintf(why, why_len, "policy tree too large");
		return -1;
	}
	if (!cv_cert_is_self_issued(cert)) { /* (h) */
		if (st->explicit_policy > 0)
			st->explicit_policy--;
		if (st->policy_mapping > 0)
			st->policy_mapping--;
		if (st->inhibit_any > 0)
			st->inhibit_any--;
	}
	if (read_policy_constraints(cert, &require, &inhibit_map) < 0 ||
	    read_inhibit_any(cert, &inhibit_any) < 0) {
		snprintf(why, why_len, "unreadable policy constraints");
		return -1;
	}
	if (require >= 0 && (size_t)require < st->explicit_policy) /* (i) */
		st->explicit_policy = (size_t)require;
	if (inhibit_map >= 0 && (size_t)inhibit_map < st->policy_mapping)
		st->policy_mapping = (size_t)inhibit_map;
	if (inhibit_any >= 0 && (size_t)inhibit_any < st->inhibit_any) /* (j) */
		st->inhibit_any = (size_t)inhibit_any;
	return 0;
}

static bool
user_set_is_any(const struct cv_path_params *p)
{
	size_t k;

	if (p->n_policies == 0)
		return true;
	for (k = 0; k < p->n_policies; k++)
		if (strcmp(p->policies[k], ANY_POLICY) == 0)
			return true;
	return false;
}

static bool
in_user_set(const struct cv_path_params *p, const char *oid)
{
	size_t k;

	for (k = 0; k < p->n_policies; k++)
		if (strcmp(p->policies[k], oid) == 0)
			return true;
	return false;
}

/* 6.1.5 (g) (iii): the intersection of the tree with user-initial-policy-set. */
static int
intersect(struct cv_policy_state *st)
{
	const struct cv_path_params *p = st->params;
	size_t j, k, count = st->n_nodes;
	int any_leaf = -1;

	for (j = 0; j < count; j++) {
		struct node *nd = &st->nodes[j];

		if (!nd->alive || nd->parent < 0 ||
		    strcmp(st->nodes[nd->parent].policy, ANY_POLICY) != 0)
			continue;
		/* nd belongs to valid_policy_node_set */
		if (strcmp(nd->policy, ANY_POLICY) != 0 && !in_user_set(p, nd->policy))
			nd->alive = false;
	}
	sweep(st);
	for (j = 0; j < count; j++)
		if (st->nodes[j].alive && st->nodes[j].depth == st->n &&
		    strcmp(st->nodes[j].policy, ANY_POLICY) == 0)
			any_leaf = (int)j;
	if (any_leaf >= 0) {
		for (k = 0; k < p->n_policies; k++) {
			bool present = false;

			for (j = 0; j < count; j++) {
				const struct node *nd = &st->nodes[j];

				if (nd->alive && nd->parent >= 0 &&
				    strcmp(st->nodes[nd->parent].policy, ANY_POLICY) == 0 &&
				    strcmp(nd->policy, p->policies[k]) == 0)
					present = true;
			}
			if (!present &&
			    add_node(st, st->nodes[any_leaf].parent, p->policies[k], st->n) < 0)
				return -1;
		}
		st->nodes[any_leaf].alive = false;
	}
	prune(st, st->n);
	return 0;
}

int
cv_policy_wrap_up(struct cv_policy_state *st, const struct cv_cert *cert, char *why, size_t why_len)
{
	int require, inhibit_map;

	if (st->explicit_policy > 0) /* (a) */
		st->explicit_policy--;
	if (read_policy_constraints(cert, &require, &inhibit_map) < 0) {
		snprintf(why, why_len, "unreadable policy constraints");
		return -1;
	}
	if (require == 0) /* (b) */
		st->explicit_policy = 0;
	if (!st->null_tree && !user_set_is_any(st->params) && intersect(st) < 0) { /* (g) */
		snprintf(why, why_len, "policy tree too large");
		return -1;
	}
	if (st->explicit_policy == 0 && st->null_tree) {
		snprintf(why, why_len, "no acceptable certificate policy in the path");
		return -1;
	}
	return 0;
}
