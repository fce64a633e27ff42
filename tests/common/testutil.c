/* Helpers shared by the unit tests. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

const char *pcp_test_source_path(const char *rel)
{
	static char buf[4096];
	const char *dir = getenv("PCP_SOURCE_DIR");

	snprintf(buf, sizeof buf, "%s/%s", dir ? dir : ".", rel);
	return buf;
}
