/* cert_policies.c: RFC 5280 certificate policy processing (the valid_policy_tree of 6.1), over
 * the policy extensions decoded when the certificate was read (cert.h). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "x509int.h"

#define ANY_POLICY   "2.5.29.32.0"
#define OID_TEXT_MAX 64
#define NODES_MAX    256 /* nodes of the tree, at most */
#define NODES_INLINE 1   /* nodes kept in the state itself: a path without policies has one */
#define EXPECTED_MAX 8

struct node {
	char policy[OID_TEXT_MAX];
	char expected[EXPECTED_MAX][OID_TEXT_MAX];
	size_t n_expected;
	int parent; /* -1 for the root */
	size_t depth;
	bool alive;
};

struct cv_certpol_state {
	size_t n_nodes, cap;
	bool null_tree;
	size_t n; /* certificates in the path, anchor excluded */
	size_t explicit_policy, policy_mapping, inhibit_any;
	const struct cv_path_params *params;
	struct node *nodes; /* cap: inline, or on the heap once the tree outgrows it */
	struct node inline_nodes[NODES_INLINE];
};

/* Room for one more node, up to NODES_MAX: the array doubles (a node may move: no pointer into
 * the array is held across add_node). */
static int
grow(struct cv_certpol_state *st)
{
	const size_t cap = st->cap * 2 < NODES_MAX ? st->cap * 2 : NODES_MAX;
	const bool inline_nodes = st->nodes == st->inline_nodes;
	struct node *v;

	if (st->cap == NODES_MAX)
		return -1;
	v = inline_nodes ? malloc(cap * sizeof(*v)) : realloc(st->nodes, cap * sizeof(*v));
	if (v == NULL)
		return -1;
	if (inline_nodes)
		memcpy(v, st->inline_nodes, st->n_nodes * sizeof(*v));
	st->nodes = v;
	st->cap = cap;
	return 0;
}

static int
add_node(struct cv_certpol_state *st, int parent, const char *policy, size_t depth)
{
	struct node *nd;

	if (st->n_nodes == st->cap && grow(st) < 0)
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
sweep(struct cv_certpol_state *st)
{
	size_t j;

	for (j = 0; j < st->n_nodes; j++)
		if (st->nodes[j].alive && st->nodes[j].parent >= 0 &&
		    !st->nodes[st->nodes[j].parent].alive)
			st->nodes[j].alive = false;
}

static bool
has_child(const struct cv_certpol_state *st, size_t idx)
{
	size_t j;

	for (j = idx + 1; j < st->n_nodes; j++)
		if (st->nodes[j].alive && st->nodes[j].parent == (int)idx)
			return true;
	return false;
}

/* Deletes nodes above depth `below` without children, bottom-up; the tree may become NULL. */
static void
prune(struct cv_certpol_state *st, size_t below)
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

/* A SkipCerts of the anchor narrows a 6.1.2 counter as 6.1.4 (i), (j) would for a CA. */
static void
narrow(size_t *counter, int skip)
{
	if (skip >= 0 && (size_t)skip < *counter)
		*counter = (size_t)skip;
}

/*
 * 6.1.2 (d)-(f). RFC 5937 3: the constraints of a trust anchor's certificate initialise the
 * state as the initial inputs do: requireExplicitPolicy, inhibitPolicyMapping and
 * inhibitAnyPolicy count the certificates below the anchor, 0 meaning the initial input TRUE.
 */
struct cv_certpol_state *
cv_certpol_init(const struct cv_path_params *params, const struct cv_cert *anchor, size_t n)
{
	const struct cv_cert_policy_constraints *pc = cv_cert_policy_constraints(anchor);
	const struct cv_cert_inhibit_any *ia = cv_cert_inhibit_any_policy(anchor);
	struct cv_certpol_state *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return NULL;
	st->nodes = st->inline_nodes;
	st->cap = NODES_INLINE;
	st->params = params;
	st->n = n;
	st->explicit_policy = params->explicit_policy ? 0 : n + 1;
	st->policy_mapping = params->inhibit_policy_mapping ? 0 : n + 1;
	st->inhibit_any = params->inhibit_any_policy ? 0 : n + 1;
	if (pc->present) {
		narrow(&st->explicit_policy, pc->require_explicit);
		narrow(&st->policy_mapping, pc->inhibit_mapping);
	}
	if (ia->present)
		narrow(&st->inhibit_any, ia->skip);
	add_node(st, -1, ANY_POLICY, 0);
	return st;
}

void
cv_certpol_free(struct cv_certpol_state *st)
{
	if (st != NULL && st->nodes != st->inline_nodes)
		free(st->nodes);
	free(st);
}

/* 6.1.3 (d) (1): a certificate policy other than anyPolicy. */
static int
process_policy(struct cv_certpol_state *st, const char *p, size_t i)
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
process_any_policy(struct cv_certpol_state *st, size_t i)
{
	size_t j, k, c, count = st->n_nodes;

	for (j = 0; j < count; j++) {
		if (!st->nodes[j].alive || st->nodes[j].depth != i - 1)
			continue;
		for (k = 0; k < st->nodes[j].n_expected; k++) {
			char p[OID_TEXT_MAX]; /* a copy: add_node may move the nodes */
			bool present = false;

			cv_strlcpy(p, st->nodes[j].expected[k], sizeof(p));
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
cv_certpol_process(struct cv_certpol_state *st, const struct cv_cert *cert, size_t i, bool is_last,
                   char *why, size_t why_len)
{
	const struct cv_cert_policies *pol = cv_cert_policies(cert);
	bool any = false;
	size_t k;

	if (pol->present && !st->null_tree) {
		for (k = 0; k < pol->n; k++) {
			if (strcmp(pol->oid[k], ANY_POLICY) == 0) {
				any = true;
				continue;
			}
			if (process_policy(st, pol->oid[k], i) < 0)
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
apply_mappings(struct cv_certpol_state *st, const struct cv_cert_mappings *pm, size_t i)
{
	const size_t nm = pm->n;
	const struct cv_cert_mapping *m = pm->v;
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
cv_certpol_prepare(struct cv_certpol_state *st, const struct cv_cert *cert, size_t i, char *why,
                   size_t why_len)
{
	const struct cv_cert_mappings *m = cv_cert_policy_mappings(cert);
	const struct cv_cert_policy_constraints *pc = cv_cert_policy_constraints(cert);
	const int require = pc->require_explicit, inhibit_map = pc->inhibit_mapping;
	const int inhibit_any = cv_cert_inhibit_any_policy(cert)->skip;
	size_t k;

	for (k = 0; k < m->n; k++) { /* (a) */
		if (strcmp(m->v[k].issuer, ANY_POLICY) == 0 ||
		    strcmp(m->v[k].subject, ANY_POLICY) == 0) {
			snprintf(why, why_len, "policy mapping to or from anyPolicy");
			return -1;
		}
	}
	if (!st->null_tree && m->n > 0 && apply_mappings(st, m, i) < 0) { /* (b) */
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
intersect(struct cv_certpol_state *st)
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
cv_certpol_wrap_up(struct cv_certpol_state *st, const struct cv_cert *cert, char *why,
                   size_t why_len)
{
	const int require = cv_cert_policy_constraints(cert)->require_explicit;

	if (st->explicit_policy > 0) /* (a) */
		st->explicit_policy--;
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
