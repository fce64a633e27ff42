/* Records built by hand for the report writer tests, and a whole writer run over them. The
 * helpers assert (cmocka) on every failure, so call them only from inside a test. */
#ifndef PCP_TESTRECORDS_H
#define PCP_TESTRECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "report.h"

#define PCP_TEST_AT_2021_02_15 ((time_t)1613347200) /* 2021-02-15T00:00:00Z */
#define PCP_TEST_AT_2025_06_01 ((time_t)1748736000) /* 2025-06-01T00:00:00Z */

/* The instants of pcp_test_run_info: PCP_TEST_AT_2021_02_15, PCP_TEST_AT_2025_06_01. */
extern const time_t pcp_test_two_ats[2];

/* strdup that asserts it got the memory. */
char *pcp_test_strdup(const char *s);

/* Copies src into the fixed-size buffer dst, truncated to fit. */
void pcp_test_set_str(char *dst, size_t size, const char *src);

/* A SHA-256 hex string of 64 times c. */
void pcp_test_fill_hex(char out[PCP_SHA256_HEX], char c);

/* A run over three stores (names from stores) at PCP_TEST_AT_2021_02_15, --at given,
 * verify-full, no colour, version 0.1.0; n_ats (0 to 2) of pcp_test_two_ats; warn_days -1
 * when not given. */
struct pcp_run_info pcp_test_run_info(const char *const *stores, size_t n_ats, double warn_days);

/* A record without chain or verdicts: the given fields (host may be NULL), verify-full,
 * connected in 1.5 ms when status is ok or no_ssl (else -1), 12.25 ms in all, no class. */
void pcp_test_record(struct pcp_result *r, const char *target, const char *host, const char *addr,
                     uint16_t port, enum pcp_status status, const char *error);

/* pcp_test_record at host db1.example.com port 5432, classed as the runner classes a record
 * without a chain: unreachable, or no class for an invalid target. */
void pcp_test_unreachable(struct pcp_result *r, const char *target, const char *addr,
                          enum pcp_status status, const char *error);

/* Whether the n bytes at s are valid UTF-8 (as pcp_utf8_decode reads it). */
bool pcp_test_valid_utf8(const char *s, size_t n);

/* Runs a whole writer of format fmt (begin, every record, end with totals, which may be
 * NULL) and returns what it wrote, which the caller frees. */
char *pcp_test_run_writer(enum pcp_format fmt, const struct pcp_run_info *info,
                          const struct pcp_result *recs, size_t n,
                          const struct pcp_run_totals *totals);

#endif
