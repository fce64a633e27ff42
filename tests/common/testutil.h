/* Small helpers shared by the unit tests: paths of the source tree. */
#ifndef PCP_TESTUTIL_H
#define PCP_TESTUTIL_H

/* Absolute path of a file in the source tree (PCP_SOURCE_DIR from ctest), in a static
 * buffer valid until the next call. */
const char *pcp_test_source_path(const char *rel);

#endif
