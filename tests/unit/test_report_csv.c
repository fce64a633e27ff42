/* Unit tests of the CSV writer: its output is read back by a strict RFC 4180 reader (CRLF
 * rows, quoted fields only where needed, doubled quotes, valid UTF-8) and checked field by
 * field: header, one row per address per store per instant, rows for addresses without a
 * chain, hostile bytes, --warn-days. */
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

enum {
	C_TARGET,
	C_HOST,
	C_ADDR,
	C_PORT,
	C_STATUS,
	C_ERROR,
	C_STORE,
	C_AT,
	C_OK,
	C_CODE,
	C_DEPTH,
	C_REASON,
	C_CLASS,
	C_ANCHOR,
	C_PATH_NOT_AFTER,
	C_EXPIRING,
	C_LEAF_SHA256,
	C_LEAF_NOT_AFTER,
	C_NEGOTIATION,
	C_DIRECT_TLS,
	N_COLUMNS,
};

/* An ok record; oks[a * 3 + i]: store i verifies at instant a. */
static void make_ok(struct pcp_result *r, const char *target, const bool *oks, size_t n_ats)
{
	pcp_test_record(r, target, "db1.example.com", "10.0.0.1", 5432, PCP_STATUS_OK, "");
	r->chain = calloc(2, sizeof *r->chain);
	assert_non_null(r->chain);
	r->chain_len = 2;
	pcp_test_fill_hex(r->chain[0].sha256, 'a');
	r->chain[0].not_after = 1700000000;
	pcp_test_fill_hex(r->chain[1].sha256, 'b');
	r->chain[1].not_after = 1800000000;
	r->verdicts = calloc(3 * n_ats, sizeof *r->verdicts);
	assert_non_null(r->verdicts);
	r->n_verdicts = 3 * n_ats;
	for (size_t k = 0; k < 3 * n_ats; k++) {
		struct pcp_verdict *v = &r->verdicts[k];

		v->ok = oks[k];
		v->code = oks[k] ? 0 : 10;
		v->depth = oks[k] ? -1 : 2;
		pcp_test_set_str(v->reason, sizeof v->reason,
		                 oks[k] ? "" : "root expired 2025-05-12");
		pcp_test_set_str(v->error, sizeof v->error,
		                 oks[k] ? "" : "certificate has expired");
		v->path_not_after = 1747094340;
		v->expiring = oks[k] && k % 3 == 2;
	}
	r->class_name = "new-only";
	r->anchor = pcp_test_strdup("CN=Test Root,O=Acme");
}

/* ---- a strict RFC 4180 reader ---- */

struct table {
	char ***rows; /* rows[i][j], NUL-terminated fields */
	size_t n_rows;
	bool *quoted; /* whether field j of row i was quoted: quoted[i * N_COLUMNS + j] */
};

/* Every row has N_COLUMNS fields and ends with CRLF; quotes only around whole fields, and
 * a field that needs them has them. */
static struct table parse_csv(const char *out)
{
	struct table t = {0};
	const char *p = out;

	assert_true(pcp_test_valid_utf8(out, strlen(out)));
	while (*p) {
		char **row = calloc(N_COLUMNS, sizeof *row);
		size_t col = 0;

		assert_non_null(row);
		t.rows = realloc(t.rows, (t.n_rows + 1) * sizeof *t.rows);
		t.quoted = realloc(t.quoted, (t.n_rows + 1) * N_COLUMNS * sizeof *t.quoted);
		assert_non_null(t.rows);
		assert_non_null(t.quoted);
		t.rows[t.n_rows] = row;
		for (;;) {
			char *field = malloc(strlen(p) + 1);
			size_t n = 0;
			bool quoted = *p == '"';

			assert_non_null(field);
			assert_true(col < N_COLUMNS);
			if (quoted) {
				for (p++;; p++) {
					assert_true(*p != '\0'); /* unterminated quote */
					if (*p == '"' && p[1] == '"')
						field[n++] = *p++;
					else if (*p == '"')
						break;
					else
						field[n++] = *p;
				}
				p++;
			} else {
				for (; *p && *p != ',' && *p != '\r'; p++) {
					assert_true(*p != '"' && *p != '\n');
					field[n++] = *p;
				}
			}
			field[n] = '\0';
			/* Quoted exactly when needed. */
			assert_int_equal(quoted, strpbrk(field, ",\"\r\n") != NULL);
			t.quoted[t.n_rows * N_COLUMNS + col] = quoted;
			row[col++] = field;
			if (*p == ',') {
				p++;
				continue;
			}
			assert_int_equal(p[0], '\r');
			assert_int_equal(p[1], '\n');
			p += 2;
			break;
		}
		assert_int_equal(col, N_COLUMNS);
		t.n_rows++;
	}
	return t;
}

static void free_table(struct table *t)
{
	for (size_t i = 0; i < t->n_rows; i++) {
		for (size_t j = 0; j < N_COLUMNS; j++)
			free(t->rows[i][j]);
		free(t->rows[i]);
	}
	free(t->rows);
	free(t->quoted);
}

/* Row i (header is row 0), column c equals s. */
#define assert_cell(t, i, c, s) assert_string_equal((t).rows[(i)][(c)], (s))

/* ---- tests ---- */

static void test_format_name(void **state)
{
	enum pcp_format f = PCP_FORMAT_TEXT;

	(void)state;
	assert_int_equal(pcp_format_parse("csv", &f), 0);
	assert_int_equal(f, PCP_FORMAT_CSV);
	assert_int_equal(pcp_format_parse("CSV", &f), -1);
}

static void test_header_and_ok_rows(void **state)
{
	static const char *const header[N_COLUMNS] = {
	        "target",      "host",           "addr",           "port",
	        "status",      "error",          "store",          "at",
	        "ok",          "code",           "depth",          "reason",
	        "class",       "anchor",         "path_not_after", "expiring",
	        "leaf_sha256", "leaf_not_after", "negotiation",    "direct_tls"};
	struct pcp_run_info info = pcp_test_run_info(store_names, 1, -1);
	const bool oks[3] = {false, true, true};
	struct pcp_result r;
	char leaf[PCP_SHA256_HEX];

	(void)state;
	make_ok(&r, "db1.example.com", oks, 1);
	char *out = pcp_test_run_writer(PCP_FORMAT_CSV, &info, &r, 1, NULL);
	assert_non_null(strstr(out, "target,host,addr,port,status,error,store,at,ok,code,depth,"
	                            "reason,class,anchor,path_not_after,expiring,leaf_sha256,"
	                            "leaf_not_after,negotiation,direct_tls\r\n"));
	struct table t = parse_csv(out);
	assert_int_equal(t.n_rows, 1 + 3);
	for (size_t j = 0; j < N_COLUMNS; j++)
		assert_cell(t, 0, j, header[j]);
	memset(leaf, 'a', sizeof leaf - 1);
	leaf[sizeof leaf - 1] = '\0';
	for (size_t i = 1; i <= 3; i++) {
		assert_cell(t, i, C_TARGET, "db1.example.com");
		assert_cell(t, i, C_HOST, "db1.example.com");
		assert_cell(t, i, C_ADDR, "10.0.0.1");
		assert_cell(t, i, C_PORT, "5432");
		assert_cell(t, i, C_STATUS, "ok");
		assert_cell(t, i, C_ERROR, "");
		assert_cell(t, i, C_NEGOTIATION, "postgres");
		assert_cell(t, i, C_DIRECT_TLS, "");
		assert_cell(t, i, C_STORE, store_names[i - 1]);
		assert_cell(t, i, C_AT, "2021-02-15T00:00:00Z");
		assert_cell(t, i, C_CLASS, "new-only");
		/* The anchor's comma makes it quoted. */
		assert_cell(t, i, C_ANCHOR, "CN=Test Root,O=Acme");
		assert_true(t.quoted[i * N_COLUMNS + C_ANCHOR]);
		assert_cell(t, i, C_PATH_NOT_AFTER, "2025-05-12T23:59:00Z");
		assert_cell(t, i, C_EXPIRING, ""); /* no --warn-days */
		assert_cell(t, i, C_LEAF_SHA256, leaf);
		assert_cell(t, i, C_LEAF_NOT_AFTER, "2023-11-14T22:13:20Z");
	}
	assert_cell(t, 1, C_OK, "false");
	assert_cell(t, 1, C_CODE, "10");
	assert_cell(t, 1, C_DEPTH, "2");
	assert_cell(t, 1, C_REASON, "root expired 2025-05-12");
	assert_cell(t, 2, C_OK, "true");
	assert_cell(t, 2, C_CODE, "0");
	assert_cell(t, 2, C_DEPTH, "-1");
	assert_cell(t, 2, C_REASON, "");
	free_table(&t);
	free(out);
	pcp_result_cleanup(&r);
}

/* Addresses without a chain: one row per store, verdict columns empty. */
static void test_rows_without_chain(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 1, 30);
	struct pcp_result r[2];

	(void)state;
	pcp_test_unreachable(&r[0], "db2", "10.0.0.1", PCP_STATUS_NO_SSL,
	                     "server does not support SSL");
	pcp_test_unreachable(&r[1], "db3", "10.0.0.1", PCP_STATUS_TIMEOUT, "");
	free(r[1].host);
	r[1].host = NULL;
	char *out = pcp_test_run_writer(PCP_FORMAT_CSV, &info, r, 2, NULL);
	struct table t = parse_csv(out);
	assert_int_equal(t.n_rows, 1 + 2 * 3);
	for (size_t i = 1; i <= 6; i++) {
		assert_cell(t, i, C_STORE, store_names[(i - 1) % 3]);
		assert_cell(t, i, C_OK, "");
		assert_cell(t, i, C_CODE, "");
		assert_cell(t, i, C_DEPTH, "");
		assert_cell(t, i, C_REASON, "");
		assert_cell(t, i, C_ANCHOR, "");
		assert_cell(t, i, C_PATH_NOT_AFTER, "");
		assert_cell(t, i, C_EXPIRING, "");
		assert_cell(t, i, C_LEAF_SHA256, "");
		assert_cell(t, i, C_LEAF_NOT_AFTER, "");
		assert_cell(t, i, C_CLASS, "unreachable");
	}
	assert_cell(t, 1, C_STATUS, "no_ssl");
	assert_cell(t, 1, C_ERROR, "server does not support SSL");
	assert_cell(t, 4, C_STATUS, "timeout");
	assert_cell(t, 4, C_ERROR, "timeout"); /* the short text when there is no message */
	assert_cell(t, 4, C_HOST, "");
	free_table(&t);
	free(out);
	pcp_result_cleanup(&r[0]);
	pcp_result_cleanup(&r[1]);
}

/* Several instants: rows per instant, then per store, as the verdicts are laid out. */
static void test_instants_and_warn_days(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 2, 30);
	const bool oks[6] = {true, true, true, false, true, true};
	struct pcp_result r;

	(void)state;
	make_ok(&r, "db1", oks, 2);
	char *out = pcp_test_run_writer(PCP_FORMAT_CSV, &info, &r, 1, NULL);
	struct table t = parse_csv(out);
	assert_int_equal(t.n_rows, 1 + 6);
	for (size_t i = 1; i <= 6; i++) {
		assert_cell(t, i, C_STORE, store_names[(i - 1) % 3]);
		assert_cell(t, i, C_AT, i <= 3 ? "2021-02-15T00:00:00Z" : "2025-06-01T00:00:00Z");
		assert_cell(t, i, C_OK, oks[i - 1] ? "true" : "false");
		assert_cell(t, i, C_EXPIRING, (i - 1) % 3 == 2 ? "true" : "false");
	}
	assert_cell(t, 4, C_REASON, "root expired 2025-05-12");
	free_table(&t);
	free(out);
	pcp_result_cleanup(&r);
}

/* Commas, quotes, CR and LF are quoted with quotes doubled; invalid UTF-8 becomes U+FFFD;
 * nothing else changes. */
static void test_hostile_fields(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 1, -1);
	struct pcp_result r;

	(void)state;
	pcp_test_unreachable(&r, "host=\"a,b\"\r\nport=1 \xff\xfe tab\there =SUM(A1)", "10.0.0.1",
	                     PCP_STATUS_PROTOCOL_ERROR, "server said \"no\"\n\xc3");
	free(r.host);
	r.host = pcp_test_strdup("plain é");
	char *out = pcp_test_run_writer(PCP_FORMAT_CSV, &info, &r, 1, NULL);
	struct table t = parse_csv(out);
	assert_int_equal(t.n_rows, 1 + 3);
	assert_cell(t, 1, C_TARGET,
	            "host=\"a,b\"\r\nport=1 \xEF\xBF\xBD\xEF\xBF\xBD tab\there =SUM(A1)");
	assert_true(t.quoted[1 * N_COLUMNS + C_TARGET]);
	assert_cell(t, 1, C_ERROR, "server said \"no\"\n\xEF\xBF\xBD");
	assert_cell(t, 1, C_HOST, "plain é");
	assert_false(t.quoted[1 * N_COLUMNS + C_HOST]);
	assert_non_null(strstr(out, "\"host=\"\"a,b\"\"\r\nport=1 "));
	free_table(&t);
	free(out);
	pcp_result_cleanup(&r);
}

/* Only the header when nothing was probed; rows stream out record by record. */
static void test_streaming(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 1, -1);
	const bool oks[3] = {true, true, true};
	struct pcp_result r;
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	(void)state;
	assert_non_null(f);
	make_ok(&r, "db1", oks, 1);
	struct pcp_writer *w = pcp_writer_new(PCP_FORMAT_CSV, f, &info);
	assert_non_null(w);
	assert_int_equal(w->ops->begin(w), 0);
	fflush(f);
	size_t header = size;
	assert_true(header > 0);
	assert_int_equal(w->ops->record(w, &r), 0);
	assert_true(size > header); /* flushed by record, before end */
	assert_int_equal(w->ops->end(w, NULL), 0);
	pcp_writer_free(w);
	assert_int_equal(fclose(f), 0);
	struct table t = parse_csv(buf);
	assert_int_equal(t.n_rows, 4);
	free_table(&t);
	free(buf);
	pcp_result_cleanup(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_format_name),
	        cmocka_unit_test(test_header_and_ok_rows),
	        cmocka_unit_test(test_rows_without_chain),
	        cmocka_unit_test(test_instants_and_warn_days),
	        cmocka_unit_test(test_hostile_fields),
	        cmocka_unit_test(test_streaming),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
