/* Small helpers shared by the unit tests: paths of the source tree, output captured in
 * memory. */
#ifndef PCP_TESTUTIL_H
#define PCP_TESTUTIL_H

#include <stddef.h>
#include <stdio.h>

/* Absolute path of a file in the source tree (PCP_SOURCE_DIR from ctest), in a static
 * buffer valid until the next call. */
const char *pcp_test_source_path(const char *rel);

/* Output captured in memory: write to f; buf and size are up to date after each flush. */
struct pcp_test_capture {
	char *buf;
	size_t size;
	FILE *f;
};

/* Opens c on a fresh memstream; asserts that it opened. */
void pcp_test_capture_open(struct pcp_test_capture *c);

/* Closes c (asserting the close) and returns everything written, which the caller frees. */
char *pcp_test_capture_close(struct pcp_test_capture *c);

#endif
