/*
 * test_line_templates.c: verify lines read from a template (ipc/line_templates.c, issue 13).
 * A line read from a template reads exactly as jansson reads it; a line that differs from the
 * template anywhere but in a base64 first certificate is not read from it; a line whose first
 * certificate's text is not its own bytes once, between quotes, gives no template.
 */
#include <stdlib.h>
#include <string.h>

#include "../../ipc/line_templates.h"
#include "../support/check.h"

#define LINE(id, first, rest)                                                                      \
	"{\"id\":" id ",\"op\":\"verify\",\"trustpoint\":\"TP\",\"chain\":[\"" first "\"" rest "]" \
	"}"
#define SUB ",\"Q0NDQ0NDQ0ND\""

/* The lines read from a template (0) or the templates kept (1). */
static uint64_t
count(struct cv_line_templates *t, int which)
{
	uint64_t hits;
	size_t kept;

	cv_line_templates_counts(t, &hits, &kept);
	return which == 0 ? hits : kept;
}
#define hits(t) count(t, 0)
#define kept(t) count(t, 1)

/* Reads line with jansson and keeps its template; false when it has not the form or does not
 * parse. */
static bool
note(struct cv_line_templates *t, const char *line)
{
	struct cv_seen_line_form f;
	json_t *root = json_loads(line, JSON_REJECT_DUPLICATES, NULL);

	if (root == NULL || !cv_seen_line_form(line, strlen(line), &f)) {
		json_decref(root);
		return false;
	}
	cv_line_templates_note(t, &f, root);
	json_decref(root);
	return true;
}

/* 1: read from a template, as jansson reads it; 0: not read from one; -1: read from one,
 * but not as jansson reads it (the one outcome that must never be). */
static int
read_line(struct cv_line_templates *t, const char *line)
{
	struct cv_seen_line_form f;
	json_t *got, *want;
	int rc;

	if (!cv_seen_line_form(line, strlen(line), &f))
		return 0;
	got = cv_line_templates_read(t, &f);
	if (got == NULL)
		return 0;
	want = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
	rc = want != NULL && json_equal(got, want) ? 1 : -1;
	json_decref(got);
	json_decref(want);
	return rc;
}

static void
test_read(void)
{
	struct cv_line_templates *t = cv_line_templates_new();

	CHECK(t != NULL);
	CHECK_INT_EQ(read_line(t, LINE("1", "QUFBQUFBQUFB", SUB)), 0); /* nothing kept yet */
	CHECK(note(t, LINE("1", "QUFBQUFBQUFB", SUB)));
	CHECK_INT_EQ(kept(t), 1);
	/* another first certificate, another id: read from the template, as jansson reads it */
	CHECK_INT_EQ(read_line(t, LINE("2", "TUlJQm93SUJBZ0lVYWJjZA+/==", SUB)), 1);
	CHECK_INT_EQ(read_line(t, LINE("0", "Zg==", SUB)), 1);
	CHECK_INT_EQ(read_line(t, LINE("123456789012345678", "QUFB", SUB)), 1);
	CHECK_INT_EQ(read_line(t, LINE("1", "QUFBQUFBQUFB", SUB)), 1); /* the same line */
	CHECK_INT_EQ(hits(t), 4);
	/* near misses: not read from the template (jansson reads them, or refuses them) */
	CHECK_INT_EQ(read_line(t, LINE("3", "QUFB\\/QUFB", SUB)), 0);   /* an escape: "/" */
	CHECK_INT_EQ(read_line(t, LINE("3", "QUFB\\u0041", SUB)), 0);   /* an escape: "A" */
	CHECK_INT_EQ(read_line(t, LINE("3", "QUFB\",\"QUFB", SUB)), 0); /* another string */
	CHECK_INT_EQ(read_line(t, LINE("3", "", SUB)), 0);              /* empty */
	CHECK_INT_EQ(read_line(t, LINE("3", "QU FB", SUB)), 0);         /* a space */
	CHECK_INT_EQ(read_line(t, LINE("3", "QU\xc3\xa9", SUB)), 0);    /* not ASCII */
	CHECK_INT_EQ(read_line(t, LINE("3", "QUFB-_", SUB)), 0);        /* base64url */
	CHECK_INT_EQ(
	    read_line(t, "{\"id\":3,\"op\":\"verify\",\"trustpoint\":\"TQ\",\"chain\":[\"QUFB\"" SUB
	                 "]}"),
	    0); /* one byte of the prefix differs */
	CHECK_INT_EQ(read_line(t, LINE("3", "QUFB", ",\"Q0NDQ0NDQ0NE\"")), 0); /* of the suffix */
	CHECK_INT_EQ(read_line(t, LINE("3", "QUFB", SUB) " "), 0);
	CHECK_INT_EQ(read_line(t,
	                       "{\"id\":\"3\",\"op\":\"verify\",\"trustpoint\":\"TP\",\"chain\":["
	                       "\"QUFB\"" SUB "]}"),
	             0); /* not the form: a string id */
	CHECK_INT_EQ(hits(t), 4);
	cv_line_templates_free(t);
}

static void
test_note(void)
{
	struct cv_line_templates *t = cv_line_templates_new();
	char line[256];

	/* no template of a line with an escape anywhere: its strings are not their bytes */
	CHECK(note(
	    t, "{\"id\":1,\"op\":\"verify\",\"trustpoint\":\"T\\u0050\",\"chain\":[\"QUFBQUFB\"" SUB
	       "]}"));
	/* the first certificate escaped, its value written out in the second: the occurrence
	 * found would not be the first certificate's */
	CHECK(note(t, LINE("1", "\\u0051UFBQUFB", ",\"QUFBQUFB\"")));
	CHECK(note(t, LINE("1", "QUFBQUFB", ",\"QUFBQUFB\""))); /* twice: which one is unknown */
	CHECK(note(t, LINE("1", "QUFBQUFBQUFB", ",\"xQUFBQUFBQUFBx\"")));      /* inside another */
	CHECK(note(t, LINE("1", "QU FB", SUB)));                               /* not base64 */
	CHECK(note(t, LINE("1", "QUF", SUB)));                                 /* too short */
	CHECK(note(t, "{\"id\":1,\"op\":\"verify\",\"chain\":\"QUFBQUFB\"}")); /* not an array */
	CHECK(note(t, "{\"id\":1,\"op\":\"verify\",\"chain\":[7]}"));
	CHECK(note(t, "{\"id\":1,\"op\":\"verify\"}"));
	CHECK_INT_EQ(kept(t), 0);
	/* the same template twice is kept once */
	CHECK(note(t, LINE("1", "QUFBQUFB", SUB)));
	CHECK(note(t, LINE("2", "QkJCQkJC", SUB)));
	CHECK_INT_EQ(kept(t), 1);
	/* the oldest goes first */
	for (int i = 0; i < CV_LINE_TEMPLATES_MAX; i++) {
		snprintf(
		    line, sizeof(line),
		    "{\"id\":1,\"op\":\"verify\",\"trustpoint\":\"T%d\",\"chain\":[\"QUFBQUFB\"]}",
		    i);
		CHECK(note(t, line));
	}
	CHECK_INT_EQ(kept(t), CV_LINE_TEMPLATES_MAX);
	CHECK_INT_EQ(read_line(t, LINE("5", "QkJCQkJC", SUB)), 0);
	CHECK_INT_EQ(
	    read_line(t,
	              "{\"id\":5,\"op\":\"verify\",\"trustpoint\":\"T15\",\"chain\":[\"QkJC\"]}"),
	    1);
	cv_line_templates_free(t);
	cv_line_templates_free(NULL);
	CHECK(cv_line_templates_read(NULL, &(struct cv_seen_line_form){0}) == NULL);
}

int
main(void)
{
	test_read();
	test_note();
	return check_summary();
}
