/*
 * test_seen_lines.c: the request lines read before (ipc/seen_lines.c, issue 13). A line has
 * the form {"id":N,REST only with N a JSON integer jansson reads the same way (no sign, no
 * leading zero, at most CV_SEEN_LINE_ID_MAX digits) and a REST; the table gives back what was
 * put for the same REST only, whatever N.
 */
#include <stdlib.h>
#include <string.h>

#include "../../ipc/seen_lines.h"
#include "../support/check.h"

static bool
form_of(const char *line, struct cv_seen_line_form *f)
{
	return cv_seen_line_form(line, strlen(line), f);
}

static void
test_form(void)
{
	static const char *const yes[] = {
	    "{\"id\":0,\"op\":\"verify\"}", "{\"id\":7,x",
	    "{\"id\":123456789012345678,\"op\":\"verify\"}", /* 18 digits */
	};
	static const char *const no[] = {
	    "{\"id\":1234567890123456789,\"op\":\"verify\"}", /* 19 digits */
	    "{\"id\":01,\"op\":\"verify\"}",                  /* a leading zero: not JSON */
	    "{\"id\":-1,\"op\":\"verify\"}",                  /* a sign */
	    "{\"id\":1.5,\"op\":\"verify\"}",                 /* not an integer */
	    "{\"id\":1e3,\"op\":\"verify\"}",
	    "{\"id\": 1,\"op\":\"verify\"}", /* white space */
	    "{\"id\":1 ,\"op\":\"verify\"}",
	    "{\"id\":\"1\",\"op\":\"verify\"}", /* a string */
	    "{\"op\":\"verify\",\"id\":1}",     /* not first */
	    "{\"id\":1,",                       /* nothing after the id */
	    "{\"id\":1}",
	    "{\"id\":",
	    "{\"ID\":1,\"op\":\"verify\"}",
	    "",
	};
	struct cv_seen_line_form f;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		CHECK(form_of(yes[i], &f));
		CHECK(f.id == yes[i] + 6 && f.id_len == strcspn(yes[i] + 6, ","));
		CHECK(f.rest == f.id + f.id_len + 1 &&
		      f.rest_len == strlen(yes[i]) - (size_t)(f.rest - yes[i]));
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (form_of(no[i], &f)) {
			fprintf(stderr, "has the form: %s\n", no[i]);
			CHECK(!"a line outside the form");
		}
	/* the length counts, not a NUL: REST is the bytes given */
	CHECK(!cv_seen_line_form("{\"id\":1,x", 8, &f));
	CHECK(cv_seen_line_form("{\"id\":1,x", 9, &f));
}

static void
put(struct cv_seen_lines *t, const char *line, uint8_t tag)
{
	struct cv_seen_line_form f;
	struct cv_seen_line what;

	memset(&what, 0, sizeof(what));
	memset(what.key.digest, tag, sizeof(what.key.digest));
	what.detail = CV_VERDICT_DETAIL_EVIDENCE;
	snprintf(what.peer_addr, sizeof(what.peer_addr), "192.0.2.%u", tag);
	CHECK(form_of(line, &f));
	cv_seen_lines_put(t, &f, &what);
}

/* The tag of what was put for line's REST, or -1 when nothing is. */
static int
get(struct cv_seen_lines *t, const char *line)
{
	struct cv_seen_line_form f;
	struct cv_seen_line what;

	if (!form_of(line, &f) || !cv_seen_lines_get(t, &f, &what))
		return -1;
	return what.key.digest[0];
}

static void
test_table(void)
{
	struct cv_seen_lines *t = cv_seen_lines_new(64);
	struct cv_seen_lines *one = cv_seen_lines_new(1);
	struct cv_seen_line_form f;
	struct cv_seen_line what;

	CHECK(cv_seen_lines_new(0) == NULL);
	put(t, "{\"id\":1,\"op\":\"verify\",\"chain\":[\"AA\"]}", 5);
	CHECK_INT_EQ(get(t, "{\"id\":2,\"op\":\"verify\",\"chain\":[\"AA\"]}"), 5);
	CHECK_INT_EQ(get(t, "{\"id\":99999,\"op\":\"verify\",\"chain\":[\"AA\"]}"), 5);
	/* any byte after the id differs: another line */
	CHECK_INT_EQ(get(t, "{\"id\":2,\"op\":\"verify\",\"chain\":[\"AB\"]}"), -1);
	CHECK_INT_EQ(get(t, "{\"id\":2,\"op\":\"verify\",\"chain\":[\"AA\"]} "), -1);
	/* what was put comes back whole */
	CHECK(form_of("{\"id\":3,\"op\":\"verify\",\"chain\":[\"AA\"]}", &f));
	CHECK(cv_seen_lines_get(t, &f, &what));
	CHECK_INT_EQ(what.detail, CV_VERDICT_DETAIL_EVIDENCE);
	CHECK_STR_EQ(what.peer_addr, "192.0.2.5");
	/* a newer line for the same REST replaces the older */
	put(t, "{\"id\":4,\"op\":\"verify\",\"chain\":[\"AA\"]}", 6);
	CHECK_INT_EQ(get(t, "{\"id\":5,\"op\":\"verify\",\"chain\":[\"AA\"]}"), 6);
	/* one slot: a line with another REST takes it, and the first is read again */
	put(one, "{\"id\":1,a", 1);
	put(one, "{\"id\":1,b", 2);
	CHECK_INT_EQ(get(one, "{\"id\":1,a"), -1);
	CHECK_INT_EQ(get(one, "{\"id\":7,b"), 2);
	cv_seen_lines_free(t);
	cv_seen_lines_free(one);
	cv_seen_lines_free(NULL);
}

int
main(void)
{
	test_form();
	test_table();
	return check_summary();
}
