/*
 * pubkeys.h: the remembered peer keys, the IOS "pubkey-chain" (SPEC R49, O-25). Each peer
 * certificate accepted is remembered with an index (1-65535) as long as the revocation data
 * that vouched for it (its CRL's or OCSP answer's nextUpdate; a day at most without any),
 * and with it the verified signature of its issuer (validator/links.h): forgetting an entry,
 * by expiry or `clear pubkeys INDEX` (IOS `crypto key zeroize pubkey-chain [index]`), makes
 * the next validation verify that signature again. A remembered key never skips the maps or
 * any other check (R36). Safe to share between threads.
 */
#ifndef CV_PUBKEYS_H
#define CV_PUBKEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/clock.h"
#include "../validator/cert.h"
#include "../validator/links.h"

#define CV_PUBKEYS_MAX  1024  /* entries; the oldest leaves when full */
#define CV_PUBKEY_TTL_S 86400 /* without revocation data */

struct cv_pubkeys;

/* One entry as the view shows it; the strings are valid during the callback only. */
struct cv_pubkey_info {
	unsigned index;
	const char *subject;
	const char *issuer;
	const char *serial;
	const char *trustpoint;
	const char *key_algorithm;
	const char *fingerprint; /* SHA-256 of the certificate, hex */
	cv_time added;
	cv_time expires;
};

struct cv_pubkeys *cv_pubkeys_new(struct cv_link_cache *links);
void cv_pubkeys_free(struct cv_pubkeys *p);

/* Remembers (or renews) leaf, certified by issuer, under trustpoint until expires. */
void cv_pubkeys_note(struct cv_pubkeys *p, struct cv_cert *leaf, struct cv_cert *issuer,
                     const char *trustpoint, cv_time now, cv_time expires);

/* Forgets the entries whose time is over; returns how many. */
size_t cv_pubkeys_expire(struct cv_pubkeys *p, cv_time now);

/* Forgets entry index, or every entry and every remembered signature with index 0; returns
 * how many entries went (0: no such index). */
size_t cv_pubkeys_zeroize(struct cv_pubkeys *p, unsigned index);

typedef void (*cv_pubkey_fn)(const struct cv_pubkey_info *info, void *arg);
void cv_pubkeys_foreach(struct cv_pubkeys *p, cv_pubkey_fn fn, void *arg);

#endif
