/*
 * spki.h: the facts of a subject public key (algorithm, size, curve) read from its
 * SubjectPublicKeyInfo DER, for the common keys, so that a certificate whose key verifies
 * nothing (a peer's) is read without GnuTLS importing its key (validator/ only).
 */
#ifndef CV_SPKI_H
#define CV_SPKI_H

#include <stddef.h>
#include <stdint.h>

#include "cert.h"

/*
 * Fills *k for an RSA key (rsaEncryption, NULL parameters), an EC key on a named curve that
 * GnuTLS knows (uncompressed point of the curve's size), or an Ed25519 or Ed448 key, with the
 * values GnuTLS gives for the same key. -1 for anything else (another algorithm, explicit
 * curve parameters, a point or modulus that does not read): the caller asks GnuTLS.
 */
int cv_spki_key_info(const uint8_t *spki, size_t len, struct cv_cert_key *k);

#endif
