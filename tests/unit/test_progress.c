/* Unit tests of the progress line: written to a memstream with fake clock values. Nothing
 * before a second, at most ten redraws a second, the total and time left only once the
 * total is known, cleared at the end, and silent when disabled. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"
#include "testutil.h"

/* What was written since the last call (the stream is flushed by every draw). */
static char *cap_take(struct pcp_test_capture *c, size_t *seen)
{
	fflush(c->f);
	char *s = strndup(c->buf + *seen, c->size - *seen);
	assert_non_null(s);
	*seen = c->size;
	return s;
}

static void test_nothing_in_the_first_second(void **state)
{
	struct pcp_test_capture c;
	size_t seen = 0;

	(void)state;
	pcp_test_capture_open(&c);
	struct pcp_progress *p = pcp_progress_new(c.f, true);
	assert_non_null(p);
	pcp_progress_update(p, 0, 0, 0, 100.0); /* starts the clock */
	pcp_progress_update(p, 50, 1, 0, 100.5);
	pcp_progress_update(p, 90, 1, 100, 100.99);
	char *s = cap_take(&c, &seen);
	assert_string_equal(s, "");
	free(s);
	/* A short run ends without a trace: nothing to clear. */
	pcp_progress_free(p);
	s = cap_take(&c, &seen);
	assert_string_equal(s, "");
	free(s);
	fclose(c.f);
	free(c.buf);
}

static void test_streamed_then_known_total(void **state)
{
	struct pcp_test_capture c;
	size_t seen = 0;

	(void)state;
	pcp_test_capture_open(&c);
	struct pcp_progress *p = pcp_progress_new(c.f, true);
	pcp_progress_update(p, 0, 0, 0, 10.0);
	/* Total still unknown: done and rate only. */
	pcp_progress_update(p, 250, 3, 0, 12.0);
	char *s = cap_take(&c, &seen);
	assert_string_equal(s, "\r250 done, 125/s, 3 failed\033[K");
	free(s);
	/* Within a tenth of a second of the last draw: nothing. */
	pcp_progress_update(p, 260, 3, 0, 12.05);
	s = cap_take(&c, &seen);
	assert_string_equal(s, "");
	free(s);
	/* Total known: done/total and the time left at the current rate. */
	pcp_progress_update(p, 300, 4, 1000, 14.0);
	s = cap_take(&c, &seen);
	assert_string_equal(s, "\r300/1000 done, 75/s, 4 failed, ~10s left\033[K");
	free(s);
	/* Minutes and hours, rounded up; a slow rate with one decimal. */
	pcp_progress_update(p, 301, 4, 1000, 14.2);
	s = cap_take(&c, &seen);
	assert_string_equal(s, "\r301/1000 done, 72/s, 4 failed, ~10s left\033[K");
	free(s);
	pcp_progress_update(p, 310, 4, 100000, 15.0);
	s = cap_take(&c, &seen);
	assert_string_equal(s, "\r310/100000 done, 62/s, 4 failed, ~26m48s left\033[K");
	free(s);
	pcp_progress_update(p, 311, 5, 10000000, 110.0);
	s = cap_take(&c, &seen);
	assert_string_equal(s, "\r311/10000000 done, 3.1/s, 5 failed, ~893h08m left\033[K");
	free(s);
	/* All done: no time left shown. */
	pcp_progress_update(p, 10000000, 5, 10000000, 120.0);
	s = cap_take(&c, &seen);
	assert_string_equal(s, "\r10000000/10000000 done, 90909/s, 5 failed\033[K");
	free(s);
	/* finish clears the line once; a later update draws again at once. */
	pcp_progress_finish(p);
	pcp_progress_finish(p);
	s = cap_take(&c, &seen);
	assert_string_equal(s, "\r\033[K");
	free(s);
	pcp_progress_update(p, 10000000, 5, 10000000, 120.01);
	s = cap_take(&c, &seen);
	assert_string_equal(s, "\r10000000/10000000 done, 90901/s, 5 failed\033[K");
	free(s);
	pcp_progress_free(p);
	s = cap_take(&c, &seen);
	assert_string_equal(s, "\r\033[K");
	free(s);
	fclose(c.f);
	free(c.buf);
}

/* At most ten redraws a second however often the runner calls. */
static void test_throttled(void **state)
{
	struct pcp_test_capture c;
	size_t seen = 0;

	(void)state;
	pcp_test_capture_open(&c);
	struct pcp_progress *p = pcp_progress_new(c.f, true);
	pcp_progress_update(p, 0, 0, 0, 0.0);
	size_t draws = 0;
	for (int i = 0; i <= 2000; i++) {
		pcp_progress_update(p, (size_t)i, 0, 0, 1.0 + i * 0.001); /* 1000 calls a second */
		char *s = cap_take(&c, &seen);
		draws += s[0] != '\0';
		free(s);
	}
	assert_true(draws >= 19 && draws <= 21);
	pcp_progress_free(p);
	fclose(c.f);
	free(c.buf);
}

/* Not a terminal: never a byte, and NULL is accepted everywhere. */
static void test_disabled_and_null(void **state)
{
	struct pcp_test_capture c;
	size_t seen = 0;

	(void)state;
	pcp_test_capture_open(&c);
	struct pcp_progress *p = pcp_progress_new(c.f, false);
	assert_non_null(p);
	pcp_progress_update(p, 0, 0, 0, 0.0);
	pcp_progress_update(p, 10, 1, 20, 5.0);
	pcp_progress_finish(p);
	pcp_progress_free(p);
	char *s = cap_take(&c, &seen);
	assert_string_equal(s, "");
	free(s);
	pcp_progress_update(NULL, 1, 0, 0, 1.0);
	pcp_progress_finish(NULL);
	pcp_progress_free(NULL);
	fclose(c.f);
	free(c.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_nothing_in_the_first_second),
	        cmocka_unit_test(test_streamed_then_known_total),
	        cmocka_unit_test(test_throttled),
	        cmocka_unit_test(test_disabled_and_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
