/*
 * seen_lines.c: verify request lines read before, by the digest of their bytes after the id
 * (see seen_lines.h for why equal bytes read the same). A direct-mapped table under one lock:
 * a line's slot is given by its digest, and a newer line replaces an older one there.
 */
#include "seen_lines.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "protocol.h"

struct slot {
	bool used;
	uint8_t rest_sha256[32];
	struct cv_seen_line what;
};

struct cv_seen_lines {
	pthread_mutex_t lock;
	uint64_t hits; /* under lock */
	size_t kept;   /* under lock: slots used */
	size_t n;
	struct slot slots[]; /* n */
};

struct cv_seen_lines *
cv_seen_lines_new(size_t slots)
{
	struct cv_seen_lines *lines;

	if (slots == 0 ||
	    (lines = calloc(1, sizeof(*lines) + slots * sizeof(lines->slots[0]))) == NULL)
		return NULL;
	pthread_mutex_init(&lines->lock, NULL);
	lines->n = slots;
	return lines;
}

void
cv_seen_lines_free(struct cv_seen_lines *lines)
{
	if (lines == NULL)
		return;
	pthread_mutex_destroy(&lines->lock);
	free(lines);
}

/* The digits of N: "0", or up to CV_SEEN_LINE_ID_MAX digits without a leading zero. */
static size_t
id_digits(const char *p, size_t avail)
{
	size_t n = 0;

	while (n < avail && n <= CV_SEEN_LINE_ID_MAX && p[n] >= '0' && p[n] <= '9')
		n++;
	if (n == 0 || n > CV_SEEN_LINE_ID_MAX || (n > 1 && p[0] == '0'))
		return 0;
	return n;
}

bool
cv_seen_line_form(const char *line, size_t len, struct cv_seen_line_form *form)
{
	const size_t open = sizeof(CV_PROTO_ID_OPEN) - 1;
	size_t digits, rest;

	if (len <= open || memcmp(line, CV_PROTO_ID_OPEN, open) != 0)
		return false;
	digits = id_digits(line + open, len - open);
	if (digits == 0 || open + digits >= len || line[open + digits] != ',')
		return false;
	rest = open + digits + 1;
	if (rest >= len ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, line + rest, len - rest, form->rest_sha256) < 0)
		return false;
	form->id = line + open;
	form->id_len = digits;
	form->rest = line + rest;
	form->rest_len = len - rest;
	return true;
}

static struct slot *
slot_of(struct cv_seen_lines *lines, const uint8_t sha[32])
{
	uint64_t h;

	memcpy(&h, sha, sizeof(h));
	return &lines->slots[h % lines->n];
}

bool
cv_seen_lines_get(struct cv_seen_lines *lines, const struct cv_seen_line_form *form,
                  struct cv_seen_line *out)
{
	const struct slot *s = slot_of(lines, form->rest_sha256);
	bool found;

	pthread_mutex_lock(&lines->lock);
	found = s->used && memcmp(s->rest_sha256, form->rest_sha256, sizeof(s->rest_sha256)) == 0;
	if (found) {
		*out = s->what;
		lines->hits++;
	}
	pthread_mutex_unlock(&lines->lock);
	return found;
}

void
cv_seen_lines_put(struct cv_seen_lines *lines, const struct cv_seen_line_form *form,
                  const struct cv_seen_line *what)
{
	struct slot *s = slot_of(lines, form->rest_sha256);

	pthread_mutex_lock(&lines->lock);
	lines->kept += !s->used;
	s->used = true;
	memcpy(s->rest_sha256, form->rest_sha256, sizeof(s->rest_sha256));
	s->what = *what;
	pthread_mutex_unlock(&lines->lock);
}

void
cv_seen_lines_counts(struct cv_seen_lines *lines, uint64_t *hits, size_t *kept)
{
	pthread_mutex_lock(&lines->lock);
	*hits = lines->hits;
	*kept = lines->kept;
	pthread_mutex_unlock(&lines->lock);
}
