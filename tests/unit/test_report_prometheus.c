/* Unit tests of the Prometheus writer: its output is checked by a small exposition-format
 * reader (every family once, HELP and TYPE first, samples grouped, labels well escaped and
 * valid UTF-8, no duplicate series) and then line by line: per-address samples, verdicts
 * emitted when they fail and absent without a chain, instants, run totals, duplicates, and
 * the exporter's per-probe answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "testrecords.h"

static const char *const store_names[] = {"old", "new", "combined"};

/* An ok record with a two-certificate chain; oks[a * 3 + i] says whether store i verifies
 * at instant a (n_ats instants). */
static void make_ok(struct pcp_result *r, const char *target, const char *addr, const bool *oks,
                    size_t n_ats)
{
	pcp_test_record(r, target, "db1.example.com", addr, 5432, PCP_STATUS_OK, "");
	pcp_test_set_str(r->tls_version, sizeof r->tls_version, "TLSv1.3");
	r->chain = calloc(2, sizeof *r->chain);
	assert_non_null(r->chain);
	r->chain_len = 2;
	r->chain[0].not_after = 1700000000;
	r->chain[1].not_after = 1800000000;
	r->verdicts = calloc(3 * n_ats, sizeof *r->verdicts);
	assert_non_null(r->verdicts);
	r->n_verdicts = 3 * n_ats;
	for (size_t k = 0; k < 3 * n_ats; k++) {
		struct pcp_verdict *v = &r->verdicts[k];

		v->ok = oks[k];
		v->code = oks[k] ? 0 : 10;
		v->depth = oks[k] ? -1 : 2;
		v->path_not_after = oks[k] ? 1747094340 : 1747094340 - 1;
		v->expiring = oks[k] && k == 2;
	}
	r->class_name = oks[0] && oks[1] ? "both"
	                : oks[0]         ? "old-only"
	                : oks[1]         ? "new-only"
	                                 : "neither";
	r->anchor = pcp_test_strdup("CN=Test Root,O=Acme");
}

/* ---- a small reader of the exposition format ---- */

static bool metric_name_ok(const char *s, size_t n)
{
	if (n == 0 ||
	    !(s[0] == '_' || s[0] == ':' || ((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z')))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(s[i] == '_' || s[i] == ':' || (s[i] >= '0' && s[i] <= '9') ||
		      ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')))
			return false;
	return true;
}

/* Checks the whole output; returns the number of samples. Families are gauges, each seen
 * once, HELP then TYPE then its samples; series (name and labels) are unique. */
static size_t check_exposition(const char *out)
{
	char seen_families[64][64];
	size_t n_families = 0, n_samples = 0;
	char current[64] = "";
	char **series = NULL;
	size_t n_series = 0;
	const char *p = out;

	assert_true(pcp_test_valid_utf8(out, strlen(out)));
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len;

		assert_non_null(nl); /* every line ends with \n */
		len = (size_t)(nl - p);
		if (strncmp(p, "# HELP ", 7) == 0) {
			const char *name = p + 7, *sp = memchr(name, ' ', len - 7);

			assert_non_null(sp);
			assert_true(metric_name_ok(name, (size_t)(sp - name)));
			assert_true((size_t)(sp - name) < sizeof current);
			for (size_t i = 0; i < n_families; i++)
				if (strlen(seen_families[i]) == (size_t)(sp - name) &&
				    memcmp(seen_families[i], name, (size_t)(sp - name)) == 0)
					fail_msg("family %s twice", seen_families[i]);
			memcpy(current, name, (size_t)(sp - name));
			current[sp - name] = '\0';
			assert_true(n_families < 64);
			snprintf(seen_families[n_families++], sizeof seen_families[0], "%s",
			         current);
			/* TYPE must follow at once. */
			p = nl + 1;
			nl = strchr(p, '\n');
			assert_non_null(nl);
			char want[128];
			snprintf(want, sizeof want, "# TYPE %s gauge", current);
			assert_int_equal((size_t)(nl - p), strlen(want));
			assert_memory_equal(p, want, strlen(want));
		} else if (p[0] == '#') {
			assert_true(strncmp(p, "# TYPE ", 7) != 0); /* only after its HELP */
		} else {
			/* name{label="value",...} value */
			size_t nlen = strlen(current);
			const char *q;

			assert_true(nlen > 0);
			assert_true(len > nlen && memcmp(p, current, nlen) == 0);
			q = p + nlen;
			if (*q == '{') {
				q++;
				while (*q != '}') {
					const char *eq = strchr(q, '=');

					assert_non_null(eq);
					assert_true(metric_name_ok(q, (size_t)(eq - q)));
					assert_int_equal(eq[1], '"');
					q = eq + 2;
					while (*q != '"') {
						assert_true(*q != '\n');
						if (*q == '\\') {
							q++;
							assert_true(*q == '\\' || *q == '"' ||
							            *q == 'n');
						}
						q++;
					}
					q++;
					assert_true(*q == ',' || *q == '}');
					if (*q == ',')
						q++;
				}
				q++;
			}
			assert_int_equal(*q, ' ');
			{
				char *end;
				size_t key = (size_t)(q - p);

				strtod(q + 1, &end);
				assert_ptr_equal(end, nl); /* the value, nothing after it */
				for (size_t i = 0; i < n_series; i++)
					if (strlen(series[i]) == key &&
					    memcmp(series[i], p, key) == 0)
						fail_msg("duplicate series %s", series[i]);
				series = realloc(series, (n_series + 1) * sizeof *series);
				assert_non_null(series);
				series[n_series] = strndup(p, key);
				assert_non_null(series[n_series++]);
			}
			n_samples++;
		}
		p = nl + 1;
	}
	for (size_t i = 0; i < n_series; i++)
		free(series[i]);
	free(series);
	return n_samples;
}

/* The output holds exactly this line. */
static void assert_line(const char *out, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = out; (p = strstr(p, line)); p++)
		if ((p == out || p[-1] == '\n') && p[n] == '\n')
			return;
	fail_msg("missing line: %s\n--- output:\n%s", line, out);
}

/* No sample line of this family holds this text. */
static void assert_no_sample(const char *out, const char *family, const char *text)
{
	size_t n = strlen(family);

	for (const char *p = out; *p; p = strchr(p, '\n') + 1) {
		const char *nl = strchr(p, '\n');

		if (strncmp(p, family, n) == 0 && (p[n] == '{' || p[n] == ' ')) {
			char *line = strndup(p, (size_t)(nl - p));

			assert_non_null(line);
			if (strstr(line, text))
				fail_msg("unexpected sample: %s", line);
			free(line);
		}
	}
}

static size_t count_lines(const char *out, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);

	for (const char *p = out; *p; p = strchr(p, '\n') + 1)
		n += strncmp(p, prefix, len) == 0;
	return n;
}

/* ---- tests ---- */

static void test_format_name(void **state)
{
	enum pcp_format f = PCP_FORMAT_TEXT;

	(void)state;
	assert_int_equal(pcp_format_parse("prometheus", &f), 0);
	assert_int_equal(f, PCP_FORMAT_PROMETHEUS);
	assert_int_equal(pcp_format_parse("Prometheus", &f), -1);
}

#define A "target=\"db1\",addr=\"10.0.0.1\",port=\"5432\""

static void test_ok_record(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 1, -1);
	const bool oks[3] = {false, true, true};
	struct pcp_result r;

	(void)state;
	make_ok(&r, "db1", "10.0.0.1", oks, 1);
	char *out = pcp_test_run_writer(PCP_FORMAT_PROMETHEUS, &info, &r, 1, NULL);
	check_exposition(out);
	assert_line(out,
	            "# HELP pgcertprobe_verified 1 when a libpq client (or the driver of the "
	            "driver label) with this store as sslrootcert passes the TLS phase; absent "
	            "when no chain was captured.");
	assert_line(out, "pgcertprobe_probe_success{" A "} 1");
	assert_line(out, "pgcertprobe_probe_duration_seconds{" A "} 0.012250");
	assert_line(out, "pgcertprobe_tls_reached{" A "} 1");
	assert_line(out,
	            "pgcertprobe_probe_status{" A ",status=\"ok\",negotiation=\"postgres\"} 1");
	assert_line(out, "pgcertprobe_class{" A ",class=\"new-only\"} 1");
	assert_line(out, "pgcertprobe_anchor{" A ",anchor=\"CN=Test Root,O=Acme\"} 1");
	/* Failing verdicts are samples too, with their code. */
	assert_line(out, "pgcertprobe_verified{" A ",store=\"old\"} 0");
	assert_line(out, "pgcertprobe_verified{" A ",store=\"new\"} 1");
	assert_line(out, "pgcertprobe_verified{" A ",store=\"combined\"} 1");
	assert_line(out, "pgcertprobe_verify_error_code{" A ",store=\"old\"} 10");
	assert_line(out, "pgcertprobe_verify_error_code{" A ",store=\"new\"} 0");
	/* The path's end only where it verifies. */
	assert_line(out, "pgcertprobe_path_not_after_seconds{" A ",store=\"new\"} 1747094340");
	assert_no_sample(out, "pgcertprobe_path_not_after_seconds", "store=\"old\"");
	assert_line(out, "pgcertprobe_cert_not_after_seconds{" A ",position=\"0\"} 1700000000");
	assert_line(out, "pgcertprobe_cert_not_after_seconds{" A ",position=\"1\"} 1800000000");
	/* One instant: no at label; no --warn-days: no expiring family. */
	assert_null(strstr(out, "at=\""));
	assert_null(strstr(out, "pgcertprobe_expiring"));
	/* Fingerprints and serials stay in JSON. */
	assert_null(strstr(out, "sha256"));
	assert_null(strstr(out, "serial"));
	assert_line(out, "pgcertprobe_run_addresses 1");
	assert_line(out, "pgcertprobe_run_unreachable_addresses 0");
	assert_line(out, "pgcertprobe_run_verified_addresses{store=\"old\"} 0");
	assert_line(out, "pgcertprobe_run_verified_addresses{store=\"combined\"} 1");
	assert_line(out, "pgcertprobe_build_info{version=\"0.1.0\"} 1");
	free(out);
	pcp_result_cleanup(&r);
}

static void test_records_without_chain(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 1, 30);
	struct pcp_result r[3];

	(void)state;
	pcp_test_unreachable(&r[0], "db2", "10.0.0.2", PCP_STATUS_NO_SSL,
	                     "server does not support SSL");
	pcp_test_unreachable(&r[1], "db3", "10.0.0.3", PCP_STATUS_TLS_FAILED, "handshake failure");
	pcp_test_unreachable(&r[2], "db4:99999", "", PCP_STATUS_INVALID_TARGET,
	                     "port out of range");
	r[2].port = 0;
	r[2].total_ms = -1;
	char *out = pcp_test_run_writer(PCP_FORMAT_PROMETHEUS, &info, r, 3, NULL);
	check_exposition(out);
	assert_line(out,
	            "pgcertprobe_probe_success{target=\"db2\",addr=\"10.0.0.2\",port=\"5432\"} 0");
	assert_line(out,
	            "pgcertprobe_tls_reached{target=\"db2\",addr=\"10.0.0.2\",port=\"5432\"} 0");
	assert_line(out,
	            "pgcertprobe_tls_reached{target=\"db3\",addr=\"10.0.0.3\",port=\"5432\"} 1");
	assert_line(out, "pgcertprobe_probe_status{target=\"db2\",addr=\"10.0.0.2\",port=\"5432\","
	                 "status=\"no_ssl\",negotiation=\"postgres\"} 1");
	assert_line(out, "pgcertprobe_probe_status{target=\"db4:99999\",addr=\"\",port=\"0\","
	                 "status=\"invalid_target\",negotiation=\"postgres\"} 1");
	assert_line(out, "pgcertprobe_class{target=\"db2\",addr=\"10.0.0.2\",port=\"5432\","
	                 "class=\"unreachable\"} 1");
	/* No chain: no verdict samples at all, and no family without samples. */
	assert_null(strstr(out, "pgcertprobe_verified"));
	assert_null(strstr(out, "pgcertprobe_verify_error_code"));
	assert_null(strstr(out, "pgcertprobe_expiring"));
	assert_null(strstr(out, "pgcertprobe_cert_not_after_seconds"));
	/* No duration for a probe that never ran; no class for an invalid target. */
	assert_no_sample(out, "pgcertprobe_probe_duration_seconds", "db4");
	assert_no_sample(out, "pgcertprobe_class", "db4");
	assert_line(out, "pgcertprobe_run_addresses 3");
	assert_line(out, "pgcertprobe_run_unreachable_addresses 3");
	assert_line(out, "pgcertprobe_run_verified_addresses{store=\"new\"} 0");
	free(out);
	for (int i = 0; i < 3; i++)
		pcp_result_cleanup(&r[i]);
}

/* Families stay grouped however records interleave, each under one HELP and TYPE. */
static void test_grouping(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 1, 30);
	const bool oks[3] = {true, true, true};
	struct pcp_result r[4];

	(void)state;
	make_ok(&r[0], "db1", "10.0.0.1", oks, 1);
	pcp_test_unreachable(&r[1], "db2", "10.0.0.2", PCP_STATUS_TIMEOUT, "");
	make_ok(&r[2], "db3", "10.0.0.3", oks, 1);
	pcp_test_unreachable(&r[3], "db4", "10.0.0.4", PCP_STATUS_REFUSED, "connection refused");
	char *out = pcp_test_run_writer(PCP_FORMAT_PROMETHEUS, &info, r, 4, NULL);
	size_t n = check_exposition(out);
	assert_int_equal(count_lines(out, "# HELP pgcertprobe_verified "), 1);
	assert_int_equal(count_lines(out, "pgcertprobe_verified{"), 6);
	assert_int_equal(count_lines(out, "pgcertprobe_probe_success{"), 4);
	assert_int_equal(count_lines(out, "pgcertprobe_expiring{"), 6);
	assert_line(out, "pgcertprobe_expiring{target=\"db3\",addr=\"10.0.0.3\",port=\"5432\","
	                 "store=\"combined\"} 1");
	assert_line(out, "pgcertprobe_expiring{target=\"db3\",addr=\"10.0.0.3\",port=\"5432\","
	                 "store=\"old\"} 0");
	assert_line(out, "pgcertprobe_run_verified_addresses{store=\"old\"} 2");
	assert_line(out, "pgcertprobe_run_unreachable_addresses 2");
	assert_true(n > 30);
	free(out);
	for (int i = 0; i < 4; i++)
		pcp_result_cleanup(&r[i]);
}

/* Several instants: every verdict family and the per-store totals carry at. */
static void test_instants(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 2, -1);
	const bool oks[6] = {true, true, true, false, true, true};
	struct pcp_result r;

	(void)state;
	make_ok(&r, "db1", "10.0.0.1", oks, 2);
	char *out = pcp_test_run_writer(PCP_FORMAT_PROMETHEUS, &info, &r, 1, NULL);
	check_exposition(out);
	assert_line(out, "pgcertprobe_verified{" A ",store=\"old\",at=\"2021-02-15T00:00:00Z\"} 1");
	assert_line(out, "pgcertprobe_verified{" A ",store=\"old\",at=\"2025-06-01T00:00:00Z\"} 0");
	assert_line(out, "pgcertprobe_verify_error_code{" A ",store=\"old\","
	                 "at=\"2025-06-01T00:00:00Z\"} 10");
	assert_line(out, "pgcertprobe_run_verified_addresses{store=\"old\","
	                 "at=\"2021-02-15T00:00:00Z\"} 1");
	assert_line(out, "pgcertprobe_run_verified_addresses{store=\"old\","
	                 "at=\"2025-06-01T00:00:00Z\"} 0");
	assert_int_equal(count_lines(out, "pgcertprobe_verified{"), 6);
	/* Per-address facts do not depend on the instant. */
	assert_line(out, "pgcertprobe_probe_success{" A "} 1");
	assert_int_equal(count_lines(out, "pgcertprobe_cert_not_after_seconds{"), 2);
	free(out);
	pcp_result_cleanup(&r);
}

/* Label values: backslash, quote and newline escaped; invalid UTF-8 replaced. */
static void test_hostile_labels(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 1, -1);
	const bool oks[3] = {true, false, true};
	struct pcp_result r;

	(void)state;
	make_ok(&r, "host=\"a\\b\"\nx\xff\xc0\x80 é", "10.0.0.1", oks, 1);
	free(r.anchor);
	r.anchor = pcp_test_strdup("CN=\"} 1\nfake_metric 1");
	char *out = pcp_test_run_writer(PCP_FORMAT_PROMETHEUS, &info, &r, 1, NULL);
	check_exposition(out);
	assert_line(out,
	            "pgcertprobe_probe_success{target=\"host=\\\"a\\\\b\\\"\\nx"
	            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD é\",addr=\"10.0.0.1\",port=\"5432\"} 1");
	assert_null(strstr(out, "\nfake_metric"));
	assert_non_null(strstr(out, "anchor=\"CN=\\\"} 1\\nfake_metric 1\"} 1\n"));
	free(out);
	pcp_result_cleanup(&r);
}

/* The same target, address and port twice: one set of series (the collector rejects
 * duplicates), counted in the totals and said in a comment. */
static void test_duplicates(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 1, -1);
	const bool oks[3] = {true, true, true};
	struct pcp_result r[3];

	(void)state;
	make_ok(&r[0], "db1", "10.0.0.1", oks, 1);
	make_ok(&r[1], "db1", "10.0.0.1", oks, 1);
	make_ok(&r[2], "db1", "10.0.0.2", oks, 1);
	char *out = pcp_test_run_writer(PCP_FORMAT_PROMETHEUS, &info, r, 3, NULL);
	check_exposition(out);
	assert_int_equal(count_lines(out, "pgcertprobe_probe_success{"), 2);
	assert_line(out, "pgcertprobe_run_addresses 3");
	assert_true(strncmp(out, "# 1 record(s) repeated an earlier target", 40) == 0);
	free(out);
	for (int i = 0; i < 3; i++)
		pcp_result_cleanup(&r[i]);
}

/* Many addresses: the key set grows; every address keeps its own series. */
static void test_many(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 1, -1);
	const bool oks[3] = {true, false, true};
	enum { N = 300 };
	struct pcp_result *r = calloc(N, sizeof *r);

	(void)state;
	assert_non_null(r);
	for (int i = 0; i < N; i++) {
		char addr[32];

		snprintf(addr, sizeof addr, "10.0.%d.%d", i / 256, i % 256);
		make_ok(&r[i], "db", addr, oks, 1);
	}
	char *out = pcp_test_run_writer(PCP_FORMAT_PROMETHEUS, &info, r, N, NULL);
	check_exposition(out);
	assert_int_equal(count_lines(out, "pgcertprobe_verified{"), 3 * N);
	assert_line(out, "pgcertprobe_run_verified_addresses{store=\"combined\"} 300");
	assert_line(out, "pgcertprobe_run_verified_addresses{store=\"new\"} 0");
	free(out);
	for (int i = 0; i < N; i++)
		pcp_result_cleanup(&r[i]);
	free(r);
}

/* A run without records still says when it ran. */
/* An exporter answer (per_probe): the address families only, and the instant that is the
 * probe's now labelled at="now" so a series stays the same across scrapes. */
static void test_per_probe(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 2, -1);
	const bool oks[6] = {true, true, true, false, true, true};
	struct pcp_result r;

	(void)state;
	info.per_probe = true;
	info.now_mask = 2;
	make_ok(&r, "db1", "10.0.0.1", oks, 2);
	char *out = pcp_test_run_writer(PCP_FORMAT_PROMETHEUS, &info, &r, 1, NULL);
	check_exposition(out);
	assert_line(out, "pgcertprobe_verified{" A ",store=\"old\",at=\"2021-02-15T00:00:00Z\"} 1");
	assert_line(out, "pgcertprobe_verified{" A ",store=\"old\",at=\"now\"} 0");
	assert_line(out, "pgcertprobe_probe_success{" A "} 1");
	assert_null(strstr(out, "pgcertprobe_run_"));
	assert_null(strstr(out, "pgcertprobe_build_info"));
	free(out);
	pcp_result_cleanup(&r);
}

static void test_empty_run(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 1, -1);

	(void)state;
	char *out = pcp_test_run_writer(PCP_FORMAT_PROMETHEUS, &info, NULL, 0, NULL);
	check_exposition(out);
	assert_line(out, "pgcertprobe_run_addresses 0");
	const char *ts = strstr(out, "\npgcertprobe_run_timestamp_seconds ");
	assert_non_null(ts);
	assert_true(strtod(ts + 35, NULL) > 1.6e9);
	const char *d = strstr(out, "\npgcertprobe_run_duration_seconds ");
	assert_non_null(d);
	assert_true(strtod(d + 34, NULL) >= 0);
	assert_null(strstr(out, "pgcertprobe_probe_success"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_format_name),
	        cmocka_unit_test(test_ok_record),
	        cmocka_unit_test(test_records_without_chain),
	        cmocka_unit_test(test_grouping),
	        cmocka_unit_test(test_instants),
	        cmocka_unit_test(test_hostile_labels),
	        cmocka_unit_test(test_duplicates),
	        cmocka_unit_test(test_many),
	        cmocka_unit_test(test_per_probe),
	        cmocka_unit_test(test_empty_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
