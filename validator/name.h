/*
 * name.h: the project's one comparison of X.501 Names and GeneralNames (RFC 5280 7.1), over the
 * strict DER reader (der.h). The validator uses it for name chaining and directoryName
 * constraints, CRL processing for issuer, cRLIssuer, certificateIssuer and distribution point
 * names.
 *
 * Rules: a Name is a SEQUENCE of RDNs, an RDN a non-empty SET of AttributeTypeAndValue
 * (SEQUENCE { OBJECT IDENTIFIER, value }), all valid DER with nothing trailing; a malformed
 * Name is never equal to, nor within, anything. Two Names match when they have the same
 * number of RDNs and the RDNs match pairwise in order; two RDNs match when they have the same
 * number of attributes and every attribute of each has a matching one in the other (in any
 * order). Attributes match when their types are equal and their values are: for the directory
 * string types (UTF8String, PrintableString, TeletexString, IA5String, VisibleString, in any
 * mix) after ASCII case folding and whitespace compression (RFC 4518 reduced to ASCII: leading
 * and trailing whitespace dropped, internal runs compared as one space); for other types as
 * identical encodings. Arguments are whole encodings (tag included); nothing allocates.
 * For the displays, cv_name_text renders a Name as RFC 4514 text.
 */
#ifndef CV_NAME_H
#define CV_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "der.h"

/* Whether an attribute value of this tag is compared as text (RFC 5280 7.1: case and spaces
 * folded): the string types whose octets read as ASCII text. */
bool cv_name_text_tag(uint8_t tag);

/* The number of RDNs of a Name, or -1 when it is malformed (checks the whole encoding). */
int cv_name_rdn_count(const uint8_t *name, size_t len);

/* Whether two Names match (see above). */
bool cv_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/*
 * A Name's comparison key: a hash of the form cv_name_equal compares (per RDN its number of
 * attributes and the set of its attributes, each the type and the value with case and spaces
 * folded when it is text), so that two Names cv_name_equal finds equal have the same key.
 * Checks the whole encoding as cv_name_rdn_count does; returns 0, or -1 when it is malformed.
 */
int cv_name_key(const uint8_t *name, size_t len, uint64_t *key);

/*
 * cv_name_equal for two Names that cv_name_key accepted, with their keys: different keys are
 * different Names, and the same bytes the same Name, without reading either again.
 */
bool cv_name_equal_keyed(const uint8_t *a, size_t alen, uint64_t akey, const uint8_t *b,
                         size_t blen, uint64_t bkey);

/* Whether the RDNs of base match the first RDNs of name (directoryName subtrees, 4.2.1.10). */
bool cv_name_within(const uint8_t *name, size_t name_len, const uint8_t *base, size_t base_len);

/*
 * Calls fn for the value element of every attribute of type oid (OID contents, e.g.
 * "\x55\x04\x03" for commonName) of a Name, in order. Returns 0, or -1 when the Name is
 * malformed (fn may have been called).
 */
int cv_name_foreach_attr(const uint8_t *name, size_t len, const uint8_t *oid, size_t oid_len,
                         void (*fn)(const struct cv_asn1_elem *value, void *arg), void *arg);

/*
 * Calls fn for the value element of every emailAddress attribute (1.2.840.113549.1.9.1) of a
 * Name, in order. Returns 0, or -1 when the Name is malformed (fn may have been called).
 */
int cv_name_foreach_email(const uint8_t *name, size_t len,
                          void (*fn)(const struct cv_asn1_elem *value, void *arg), void *arg);

/*
 * Whether two GeneralName elements are the same name: directoryName [4] through
 * cv_name_equal, the other types as identical contents under the same tag.
 */
bool cv_name_general_equal(const struct cv_asn1_elem *a, const struct cv_asn1_elem *b);

/* Whether a run of GeneralName encodings (GeneralNames contents) holds name as a directoryName. */
bool cv_name_in_general_names(const uint8_t *names, size_t len, const uint8_t *name,
                              size_t name_len);

/*
 * The RFC 4514 text of a DER Name (GnuTLS's rendering) into buf. Returns 0, or -1 with buf
 * empty when the Name cannot be rendered or the text does not fit in size.
 */
int cv_name_text(const uint8_t *name, size_t len, char *buf, size_t size);

/* Calls fn for the contents of every uniformResourceIdentifier [6] of a run of GeneralName
 * encodings (GeneralNames contents), in order; stops at the first malformed element. */
void cv_name_foreach_uri(const uint8_t *names, size_t len,
                         void (*fn)(const char *uri, size_t uri_len, void *arg), void *arg);

#endif
