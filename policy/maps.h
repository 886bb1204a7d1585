/*
 * maps.h: certificate-map evaluation (R31-R40, O-16, O-17): does a certificate match a
 * map entry, a map label, and which of a trustpoint's `match certificate` rules apply to it.
 */
#ifndef CV_MAPS_H
#define CV_MAPS_H

#include <stdbool.h>
#include <stddef.h>

#include "../validator/cert.h"
#include "config.h"

#define CV_MAP_WHY_MAX 320

/* Does one `FIELD OP VALUE` line hold for cert? */
bool cv_map_line_matches(const struct cv_map_line *line, const struct cv_cert *cert);

/* Does every line of the entry hold for cert (AND)? When not, why names the first failing line. */
bool cv_map_entry_matches(const struct cv_map_entry *entry, const struct cv_cert *cert, char *why,
                          size_t why_len);

/*
 * The first SEQ of label that cert matches (OR over SEQs, ascending), or NULL; why says why the
 * last entry tried did not match (or that the label has no entry).
 */
const struct cv_map_entry *cv_map_label_match(const struct cv_config *cfg, const char *label,
                                              const struct cv_cert *cert, char *why,
                                              size_t why_len);

/* What a trustpoint's `match certificate` rules say about one certificate. */
struct cv_map_outcome {
	bool acl_configured;                  /* at least one plain `match certificate L` line */
	const struct cv_map_entry *acl_match; /* the entry that satisfied the ACL, or NULL */
	bool allow_expired;
	bool skip_revocation;
	bool skip_authorization;
	const struct cv_match_rule *override_cdp;  /* the first matching override cdp, or NULL */
	const struct cv_match_rule *override_ocsp; /* the lowest-SEQ matching override, or NULL */
	const struct cv_map_entry *modifier_match[6]; /* indexed by enum cv_match_kind */
	char why[CV_MAP_WHY_MAX];                     /* why the ACL did not match */
	const struct cv_match_rule *undefined; /* the first rule whose label has no map (O-17) */
};

void cv_map_evaluate(const struct cv_config *cfg, const struct cv_rev_settings *rev,
                     const struct cv_cert *cert, struct cv_map_outcome *out);

/* Normalises a distinguished name as map values are (lower case, no spaces around = and ,). */
void cv_map_normalize_name(const char *in, char *out, size_t out_len);

#endif
