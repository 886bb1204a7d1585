/*
 * ocsp_singles.h: a strict DER pass over the SingleResponses of a BasicOCSPResponse (RFC 6960
 * 4.2.1), for what GnuTLS's accessors do not show. Internal to validator/ocsp/.
 */
#ifndef CV_OCSP_SINGLES_H
#define CV_OCSP_SINGLES_H

#include <stddef.h>
#include <stdint.h>

/*
 * basic is the BasicOCSPResponse DER (the responseBytes.response OCTET STRING's contents).
 * Refuses (returns -1 with why set to one sentence) when the ResponseData cannot be read, when
 * it holds more than CV_OCSP_SINGLE_RESPONSES_MAX SingleResponses (so that every one is
 * examined), when a CertID serialNumber is not minimally encoded (malformed DER: it names no
 * other certificate), or when a SingleResponse carries a critical singleExtension (certval
 * processes none, so every critical one is unknown). Returns 0 otherwise.
 */
int cv_ocsp_singles_check(const uint8_t *basic, size_t len, char *why, size_t why_len);

#endif
