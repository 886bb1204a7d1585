/* util.c: string, hex, base64 and file helpers shared by every module. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <nettle/base64.h>

size_t
cv_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

int
cv_read_file(const char *path, size_t max, uint8_t **data, size_t *len, struct cv_error *err)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cv_error_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		cv_error_set(err, "%s: not a regular file", path);
		goto fail;
	}
	if ((uint64_t)st.st_size > max) {
		cv_error_set(err, "%s: larger than %zu bytes", path, max);
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		cv_error_set(err, "%s: out of memory", path);
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			cv_error_set(err, "%s: read failed: %s", path,
			             n < 0 ? strerror(errno) : "short");
			goto fail;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
	*data = buf;
	*len = got;
	return 0;
fail:
	free(buf);
	close(fd);
	return -1;
}

void
cv_hex_encode(const uint8_t *data, size_t len, char *out)
{
	static const char digits[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 0xf];
	}
	out[2 * len] = '\0';
}

char *
cv_base64_encode(const uint8_t *data, size_t len)
{
	const gnutls_datum_t in = {(unsigned char *)data, (unsigned int)len};
	gnutls_datum_t out = {NULL, 0};
	char *text;

	if (len > UINT32_MAX / 2 || gnutls_base64_encode2(&in, &out) < 0)
		return NULL;
	text = malloc(out.size + 1);
	if (text != NULL) {
		memcpy(text, out.data, out.size);
		text[out.size] = '\0';
	}
	gnutls_free(out.data);
	return text;
}

/*
 * nettle's decoder straight into the caller's buffer: GnuTLS's gnutls_base64_decode2 is the
 * same decoder behind a copy of the text, a second buffer and a copy of the result (52
 * instructions per character under callgrind, 1.7% of a new chain's CPU). The text must be
 * base64 alone: white space, which nettle would skip, and anything else are refused (GnuTLS's
 * copy stopped at a '-' and decoded what came before it).
 */
int
cv_base64_decode(const char *text, size_t text_len, uint8_t **out, size_t *out_len)
{
	struct base64_decode_ctx ctx;
	size_t n = BASE64_DECODE_LENGTH(text_len);
	uint8_t *buf;

	if (text_len == 0 || text_len > UINT32_MAX / 2)
		return -1;
	for (size_t i = 0; i < text_len; i++)
		if (!cv_base64_char(text[i]))
			return -1;
	if ((buf = malloc(n)) == NULL)
		return -1;
	base64_decode_init(&ctx);
	if (base64_decode_update(&ctx, &n, buf, text_len, text) != 1 || n == 0 ||
	    base64_decode_final(&ctx) != 1) {
		free(buf);
		return -1;
	}
	*out = buf;
	*out_len = n;
	return 0;
}

static int
ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

int
cv_strcasecmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		const int ca = ascii_lower((unsigned char)*a), cb = ascii_lower((unsigned char)*b);

		if (ca != cb || ca == '\0')
			return ca - cb;
	}
}

const char *
cv_strcasestr(const char *haystack, const char *needle)
{
	const size_t n = strlen(needle);

	for (; *haystack != '\0'; haystack++) {
		size_t i = 0;

		while (i < n && ascii_lower((unsigned char)haystack[i]) ==
		                    ascii_lower((unsigned char)needle[i]))
			i++;
		if (i == n)
			return haystack;
	}
	return n == 0 ? haystack : NULL;
}

int
cv_unicode_scalar(uint32_t c)
{
	return c <= 0x10ffff && (c < 0xd800 || c > 0xdfff);
}

size_t
cv_utf8_seq(const uint8_t *s, size_t avail)
{
	uint32_t c;
	size_t n;

	if (avail == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || !cv_unicode_scalar(c))
		return 0; /* overlong, beyond Unicode, or a surrogate */
	return n;
}
