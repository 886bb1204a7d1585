/* util.h: small string and file helpers shared by every module. */
#ifndef CV_UTIL_H
#define CV_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define CV_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* BSD strlcpy: always NUL-terminates when size > 0; returns strlen(src). */
size_t cv_strlcpy(char *dst, const char *src, size_t size);

/* Reads a whole file of at most max bytes into a malloc'd buffer (NUL-terminated beyond len). */
int cv_read_file(const char *path, size_t max, uint8_t **data, size_t *len, struct cv_error *err);

/* Upper-case hex of data, no separators; out must hold 2*len+1 bytes. */
void cv_hex_encode(const uint8_t *data, size_t len, char *out);

/* Base64 (RFC 4648, no line breaks) of data; malloc'd, NUL-terminated, or NULL. */
char *cv_base64_encode(const uint8_t *data, size_t len);

/* Whether c is one of base64's characters (RFC 4648 section 4), padding '=' included. */
static inline bool
cv_base64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '=';
}

/* Decodes base64 (its characters only: no white space); malloc'd result in *out. Returns 0 or
 * -1. */
int cv_base64_decode(const char *text, size_t text_len, uint8_t **out, size_t *out_len);

/* ASCII case-insensitive helpers that never depend on the locale. */
/* Length of the valid UTF-8 sequence (RFC 3629) at s, within avail bytes, or 0 when it is
 * not one (a stray or cut byte, overlong, a surrogate, beyond U+10FFFF). */
size_t cv_utf8_seq(const uint8_t *s, size_t avail);

/* Whether a Unicode scalar value: at most U+10FFFF and no surrogate. */
int cv_unicode_scalar(uint32_t c);

int cv_strcasecmp(const char *a, const char *b);
const char *cv_strcasestr(const char *haystack, const char *needle);

#endif
