/*
 * check.h: the minimal assertion harness of the C unit tests. A test program calls CHECK*
 * and ends with `return check_summary();`, which prints "N passed, N failed" and returns the
 * exit status meson expects: 0 when every check passed, 1 when one failed or when no check ran
 * at all (a test that checks nothing proves nothing). A test that cannot run (missing data or
 * privileges) prints "SKIP: reason" and returns 77 instead of calling check_summary.
 */
#ifndef CV_CHECK_H
#define CV_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (cond) {                                                                        \
			check_passed++;                                                            \
		} else {                                                                           \
			check_failed++;                                                            \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
		}                                                                                  \
	} while (0)

#define CHECK_INT_EQ(a, b)                                                                         \
	do {                                                                                       \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);                    \
		if (check_a_ == check_b_) {                                                        \
			check_passed++;                                                            \
		} else {                                                                           \
			check_failed++;                                                            \
			fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n",          \
			        __FILE__, __LINE__, #a, #b, check_a_, check_b_);                   \
		}                                                                                  \
	} while (0)

#define CHECK_STR_EQ(a, b)                                                                         \
	do {                                                                                       \
		const char *check_a_ = (a), *check_b_ = (b);                                       \
		if (check_a_ != NULL && check_b_ != NULL && strcmp(check_a_, check_b_) == 0) {     \
			check_passed++;                                                            \
		} else {                                                                           \
			check_failed++;                                                            \
			fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" != \"%s\")\n",      \
			        __FILE__, __LINE__, #a, #b, check_a_ ? check_a_ : "(null)",        \
			        check_b_ ? check_b_ : "(null)");                                   \
		}                                                                                  \
	} while (0)

static inline int
check_summary(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	if (check_passed + check_failed == 0) {
		fprintf(stderr, "no check ran: the test proves nothing\n");
		return 1;
	}
	return check_failed == 0 ? 0 : 1;
}

#endif
