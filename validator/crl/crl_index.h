/*
 * crl_index.h: the serial-number index of one CRL, built once from the reader's entries.
 *
 * Layout (about 10 bytes per entry, on top of the CRL's own DER which the index points into):
 * an array of (32-bit keyed hash of the serial, offset of the entry in the DER) sorted by hash,
 * and a bucket directory over the top bits of the hash (one bucket per two entries), so a
 * lookup reads one directory slot, scans a run of about two records and parses the one entry
 * whose hash matches: O(1) expected. The hash is SipHash-2-4 under a random key per index, so
 * a crafted CRL cannot pile its serials into one bucket.
 *
 * Indirect CRLs: the entries are split into segments by the certificateIssuer entry extension
 * (an entry's issuer is the one named by the last certificateIssuer at or before it, or the
 * CRL's issuer before the first); a lookup names the certificate's issuer and only entries of
 * a segment whose issuer matches it (RFC 5280 7.1 name comparison) count.
 */
#ifndef CV_CRL_INDEX_H
#define CV_CRL_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../common/error.h"
#include "crl_reader.h"

struct cv_crl_index; /* opaque; owned by its creator, freed with cv_crl_index_free */

/* What a lookup found. Spans point into the CRL's DER. */
struct cv_crl_entry {
	bool revoked; /* false: the serial is not listed (for that issuer) */
	cv_time revocation_date;
	int reason; /* enum cv_crl_reason; CV_CRL_REASON_NONE when absent */
	cv_time invalidity_date;
	bool unknown_critical;
	const uint8_t *cert_issuer; /* the entry's certificateIssuer segment names, or NULL */
	size_t cert_issuer_len;
};

/*
 * Starts an index over der (the whole CRL, which must outlive the index); expected_entries
 * is a sizing hint (0 is fine). Returns NULL when out of memory.
 */
struct cv_crl_index *cv_crl_index_new(const uint8_t *der, size_t der_len, size_t expected_entries);

/* Adds one entry as cv_crl_read's callback sees it: a cv_crl_entry_fn with arg = the index. */
int cv_crl_index_add(void *index, const struct cv_crl_entry_view *entry, struct cv_error *err);

/* Sorts and builds the directory; the index is read-only (and thread-safe) afterwards. */
int cv_crl_index_finish(struct cv_crl_index *index, struct cv_error *err);

/*
 * Looks up a serial (INTEGER contents as in the certificate; redundant leading octets are
 * ignored) issued by the Name cert_issuer (whole DER encoding). crl_issuer is the CRL's
 * issuer Name, the issuer of entries before any certificateIssuer. Fills *out; returns
 * true when listed.
 */
bool cv_crl_index_lookup(const struct cv_crl_index *index, const uint8_t *crl_issuer,
                         size_t crl_issuer_len, const uint8_t *cert_issuer, size_t cert_issuer_len,
                         const uint8_t *serial, size_t serial_len, struct cv_crl_entry *out);

size_t cv_crl_index_count(const struct cv_crl_index *index);
/* Bytes the index holds on the heap (itself, records, directory, segment table). */
size_t cv_crl_index_memory(const struct cv_crl_index *index);
void cv_crl_index_free(struct cv_crl_index *index);

#endif
