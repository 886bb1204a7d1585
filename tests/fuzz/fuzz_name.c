/*
 * fuzz_name.c: libFuzzer target over RFC 5280 name comparison (validator/name.h) and so the
 * strict DER reader under it. The first octet splits the rest into two Names a and b.
 */
#include <stddef.h>
#include <stdint.h>

#include "../../validator/name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
count(const struct cv_asn1_elem *value, void *arg)
{
	size_t *n = arg;

	*n += value->len;
}

/*
 * A Name has a key exactly when it is well formed; equal Names have the same key; the
 * comparison by keys decides as cv_name_equal does.
 */
static void
check_keys(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	uint64_t ka, kb;
	const bool has_a = cv_name_key(a, alen, &ka) == 0, has_b = cv_name_key(b, blen, &kb) == 0;
	const bool eq = cv_name_equal(a, alen, b, blen);

	if (has_a != (cv_name_rdn_count(a, alen) >= 0) ||
	    has_b != (cv_name_rdn_count(b, blen) >= 0))
		__builtin_trap();
	if (has_a && has_b &&
	    ((eq && ka != kb) || cv_name_equal_keyed(a, alen, ka, b, blen, kb) != eq))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *a, *b;
	size_t alen, blen, emails = 0;
	struct cv_asn1 d;
	struct cv_asn1_elem ga, gb;

	if (size < 1)
		return 0;
	alen = (size - 1) * data[0] / 255;
	a = data + 1;
	b = a + alen;
	blen = size - 1 - alen;
	if (cv_name_equal(a, alen, b, blen) != cv_name_equal(b, blen, a, alen))
		__builtin_trap(); /* the comparison must be symmetric */
	if (cv_name_equal(a, alen, b, blen) &&
	    (!cv_name_within(a, alen, b, blen) || cv_name_rdn_count(a, alen) < 0))
		__builtin_trap(); /* equal names are within each other and valid */
	check_keys(a, alen, b, blen);
	(void)cv_name_within(b, blen, a, alen);
	(void)cv_name_foreach_email(a, alen, count, &emails);
	(void)cv_name_in_general_names(b, blen, a, alen);
	cv_asn1_init(&d, a, alen);
	if (cv_asn1_next(&d, &ga) == 0) {
		cv_asn1_init(&d, b, blen);
		if (cv_asn1_next(&d, &gb) == 0)
			(void)cv_name_general_equal(&ga, &gb);
	}
	return 0;
}
