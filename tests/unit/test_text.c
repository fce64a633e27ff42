/* Unit tests of the growable string behind the text writers: it appends and grows, and a
 * length whose size arithmetic would wrap fails (and the failure sticks) instead of
 * writing out of bounds or doubling forever. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "text.h"

static void test_appends_and_grows(void **state)
{
	struct pcp_sbuf b = {0};
	char chunk[50];

	(void)state;
	memset(chunk, 'x', sizeof chunk);
	for (int i = 0; i < 5; i++)
		pcp_sbuf_put(&b, chunk, sizeof chunk);
	pcp_sbuf_cstr(&b, "end");
	assert_false(b.failed);
	assert_int_equal(b.len, 5 * sizeof chunk + 3);
	char *s = pcp_sbuf_take(&b);
	assert_non_null(s);
	assert_int_equal(strlen(s), 5 * sizeof chunk + 3);
	assert_string_equal(s + 5 * sizeof chunk, "end");
	assert_null(b.p);
	free(s);
}

/* Each length is refused before anything is copied: the source is never read. */
static void test_wrapping_length_fails(void **state)
{
	static const size_t lengths[] = {SIZE_MAX, SIZE_MAX - 5, SIZE_MAX / 2 + 1};

	(void)state;
	for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
		struct pcp_sbuf b = {0};

		pcp_sbuf_cstr(&b, "0123456789");
		pcp_sbuf_put(&b, "x", lengths[i]);
		assert_true(b.failed);
		pcp_sbuf_cstr(&b, "more");
		assert_true(b.failed);
		assert_null(pcp_sbuf_take(&b));
		assert_false(b.failed);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_appends_and_grows),
	        cmocka_unit_test(test_wrapping_length_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
