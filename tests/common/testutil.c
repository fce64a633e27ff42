/* Helpers shared by the unit tests. */
#include "testutil.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

const char *pcp_test_source_path(const char *rel)
{
	static char buf[4096];
	const char *dir = getenv("PCP_SOURCE_DIR");

	snprintf(buf, sizeof buf, "%s/%s", dir ? dir : ".", rel);
	return buf;
}

void pcp_test_capture_open(struct pcp_test_capture *c)
{
	c->buf = NULL;
	c->size = 0;
	c->f = open_memstream(&c->buf, &c->size);
	assert_non_null(c->f);
}

char *pcp_test_capture_close(struct pcp_test_capture *c)
{
	assert_int_equal(fclose(c->f), 0);
	return c->buf;
}
