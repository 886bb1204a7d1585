/*
 * aaa_int.h: what the AAA query machinery (aaa.c) shares with its backends (aaa_local.c,
 * aaa_radius.c, aaa_ldap.c) and the AV-pair parser (aaa_eval.c). Not for other modules.
 */
#ifndef CV_AAA_INT_H
#define CV_AAA_INT_H

#include "aaa.h"

/*
 * One server group, copied so that a worker thread can use it after a reload freed the
 * configuration it came from.
 */
struct cv_aaa_target {
	char group[CV_LABEL_MAX];
	enum cv_aaa_server_kind kind;
	char address[CV_URL_MAX]; /* radius: host or address; ldap: URL */
	unsigned port;            /* radius */
	char secret[256];         /* radius */
	char base_dn[1024];       /* ldap */
	char attribute[128];      /* ldap */
	unsigned timeout_s;
	char source[64]; /* radius: `ip radius source-interface`, "" for the route's address */
};

#define CV_AAA_DEFAULT_TIMEOUT_S 5u
#define CV_AAA_RADIUS_PASSWORD   "cisco" /* R47 */

/* Fills t from a configured group; -1 with err set when a value does not fit. */
int cv_aaa_target_init(struct cv_aaa_target *t, const struct cv_aaa_server *s,
                       struct cv_error *err);

/*
 * The blocking backends, run on a worker thread: each fills out (status, attrs, error) and
 * never takes longer than about t->timeout_s seconds.
 */
void cv_aaa_radius_run(const struct cv_aaa_target *t, const char *username,
                       struct cv_aaa_answer *out);
void cv_aaa_ldap_run(const struct cv_aaa_target *t, const char *username,
                     struct cv_aaa_answer *out);

/* The `local` method: synchronous (see docs/configuration.md, "AAA backends"). */
void cv_aaa_local_run(const struct cv_config *cfg, const char *username, struct cv_aaa_answer *out);

/*
 * Adds one AV pair given as text to the answer: "pki:NAME=VALUE", "cisco-avpair=pki:NAME=VALUE"
 * or "cisco-avpair+=pki:..." (any case for the prefixes). Returns 1 when added, 0 when the
 * text is not a pki: pair (ignored), -1 when the answer is full or the pair too long.
 */
int cv_aaa_answer_add_text(struct cv_aaa_answer *a, const char *text, size_t len);

/* Adds NAME = VALUE as is (the local backend). Returns 0 or -1 (full, too long). */
int cv_aaa_answer_add(struct cv_aaa_answer *a, const char *name, const char *value);

#endif
