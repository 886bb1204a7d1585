/*
 * fuzz_config.c: libFuzzer target over the configuration parser (cv_config_parse) and the
 * dump round trip: whatever loads must dump to text that loads again and dumps the same, and
 * the redacted dump hides nothing when there is no secret.
 * "@DIR@" in the input becomes the directory of the fixed test PKI (tests/fuzz/pki), so that
 * trustpoints can name real CA files (@DIR@/ca.pem, @DIR@/sub.pem).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/config.h"

#ifndef FUZZ_PKI_DIR
#error "FUZZ_PKI_DIR must name tests/fuzz/pki"
#endif

#define PLACEHOLDER "@DIR@"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input with every placeholder replaced (binary-safe; malloc'd, *len set). */
static char *
expand(const uint8_t *data, size_t size, size_t *len)
{
	const size_t plen = strlen(PLACEHOLDER), dlen = strlen(FUZZ_PKI_DIR);
	size_t n = 0, o = 0;
	char *out;

	for (size_t i = 0; i + plen <= size; i++)
		if (memcmp(data + i, PLACEHOLDER, plen) == 0)
			n++;
	out = malloc(size + n * dlen + 1);
	if (out == NULL)
		abort();
	for (size_t i = 0; i < size;) {
		if (i + plen <= size && memcmp(data + i, PLACEHOLDER, plen) == 0) {
			memcpy(out + o, FUZZ_PKI_DIR, dlen);
			o += dlen;
			i += plen;
		} else {
			out[o++] = (char)data[i++];
		}
	}
	out[o] = '\0';
	*len = o;
	return out;
}

/* The stream's buffer and size live on the heap, not in dump's frame: GCC at -O3 would
 * otherwise take the buffer for a pointer into that frame (-Wdangling-pointer). */
struct memout {
	char *buf;
	size_t len;
};

static char *
dump(const struct cv_config *cfg, bool redacted)
{
	struct memout *m = calloc(1, sizeof(*m));
	FILE *f = m != NULL ? open_memstream(&m->buf, &m->len) : NULL;
	char *buf;

	if (f == NULL || (redacted ? cv_config_dump_redacted(cfg, f) : cv_config_dump(cfg, f)) != 0)
		abort();
	if (fclose(f) != 0 || m->buf == NULL)
		abort();
	buf = m->buf;
	free(m);
	return buf;
}

/* The dump without its first line (which names the source file). */
static const char *
body(const char *d)
{
	const char *nl = strchr(d, '\n');

	return nl != NULL ? nl : d;
}

/* Without a secret (no RADIUS key, no '@' for a URL's userinfo) the redacted dump is the dump. */
static void
check_redacted(const struct cv_config *cfg, const char *text, const char *full)
{
	char *shown = dump(cfg, true);
	bool secrets = strchr(text, '@') != NULL;

	for (size_t i = 0; i < cfg->n_aaa_servers; i++)
		secrets |= cfg->aaa_servers[i].kind == CV_AAA_SERVER_RADIUS;
	if (!secrets && strcmp(shown, full) != 0) {
		fprintf(stderr, "fuzz_config: the redacted dump differs without secrets:\n%s",
		        shown);
		abort();
	}
	free(shown);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cv_config *cfg = NULL, *again = NULL;
	struct cv_error err;
	char *text, *d1, *d2;
	size_t len;

	text = expand(data, size, &len);
	err.msg[0] = '\0';
	if (cv_config_parse("fuzz.conf", text, len, &cfg, &err) != 0) {
		free(text);
		if (cfg != NULL || err.msg[0] == '\0')
			abort(); /* an error must come with its message and no configuration */
		return 0;
	}
	d1 = dump(cfg, false);
	check_redacted(cfg, text, d1);
	free(text);
	if (cv_config_parse("dump.conf", d1, strlen(d1), &again, &err) != 0) {
		fprintf(stderr, "fuzz_config: the dump does not load: %s\n%s", err.msg, d1);
		abort();
	}
	d2 = dump(again, false);
	if (strcmp(body(d1), body(d2)) != 0) {
		fprintf(stderr, "fuzz_config: the dump changes on a round trip:\n%s----\n%s", d1,
		        d2);
		abort();
	}
	free(d1);
	free(d2);
	cv_config_unref(again);
	cv_config_unref(cfg);
	return 0;
}
