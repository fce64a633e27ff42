/* Hand-built records and writer runs for the report tests (see testrecords.h). */
#include "testrecords.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "utf8.h"

const time_t pcp_test_two_ats[2] = {PCP_TEST_AT_2021_02_15, PCP_TEST_AT_2025_06_01};

char *pcp_test_strdup(const char *s)
{
	char *p = strdup(s);

	assert_non_null(p);
	return p;
}

void pcp_test_set_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

void pcp_test_fill_hex(char out[PCP_SHA256_HEX], char c)
{
	memset(out, c, PCP_SHA256_HEX - 1);
	out[PCP_SHA256_HEX - 1] = '\0';
}

struct pcp_run_info pcp_test_run_info(const char *const *stores, size_t n_ats, double warn_days)
{
	struct pcp_run_info info = {
	        .store_names = stores,
	        .n_stores = 3,
	        .at = PCP_TEST_AT_2021_02_15,
	        .now_mask = 0,
	        .ats = n_ats ? pcp_test_two_ats : NULL,
	        .n_ats = n_ats,
	        .warn_days = warn_days,
	        .sslmode = PCP_SSLMODE_VERIFY_FULL,
	        .version = "0.1.0",
	};

	assert_true(n_ats <= 2);
	return info;
}

void pcp_test_record(struct pcp_result *r, const char *target, const char *host, const char *addr,
                     uint16_t port, enum pcp_status status, const char *error)
{
	memset(r, 0, sizeof *r);
	r->target = pcp_test_strdup(target);
	r->host = host ? pcp_test_strdup(host) : NULL;
	pcp_test_set_str(r->addr, sizeof r->addr, addr);
	r->port = port;
	r->sslmode = PCP_SSLMODE_VERIFY_FULL;
	r->status = status;
	pcp_test_set_str(r->error, sizeof r->error, error);
	r->connect_ms = status == PCP_STATUS_OK || status == PCP_STATUS_NO_SSL ? 1.5 : -1;
	r->total_ms = 12.25;
}

void pcp_test_unreachable(struct pcp_result *r, const char *target, const char *addr,
                          enum pcp_status status, const char *error)
{
	pcp_test_record(r, target, "db1.example.com", addr, 5432, status, error);
	r->class_name = status == PCP_STATUS_INVALID_TARGET ? NULL : "unreachable";
}

bool pcp_test_valid_utf8(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = pcp_utf8_decode((const unsigned char *)s + i, n - i, &cp);

		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

char *pcp_test_run_writer(enum pcp_format fmt, const struct pcp_run_info *info,
                          const struct pcp_result *recs, size_t n,
                          const struct pcp_run_totals *totals)
{
	struct pcp_test_capture c;

	pcp_test_capture_open(&c);
	struct pcp_writer *w = pcp_writer_new(fmt, c.f, info);
	assert_non_null(w);
	assert_int_equal(w->ops->begin(w), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(w->ops->record(w, &recs[i]), 0);
	assert_int_equal(w->ops->end(w, totals), 0);
	pcp_writer_free(w);
	return pcp_test_capture_close(&c);
}
