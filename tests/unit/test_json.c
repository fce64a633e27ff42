/* Unit tests of the JSON helpers: escaping of every class of byte (controls, quotes,
 * multibyte UTF-8, invalid, overlong, surrogate, out of range, embedded NUL), checked both
 * against exact expected text and by parsing the output back with jansson; RFC 3339 times. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "testutil.h"

/* Runs pcp_json_string over len bytes and returns the output (caller frees). */
static char *escape(const char *s, size_t len)
{
	struct pcp_test_capture c;

	pcp_test_capture_open(&c);
	pcp_json_string(c.f, s, len);
	return pcp_test_capture_close(&c);
}

static void check(const char *in, size_t len, const char *want)
{
	char *got = escape(in, len);

	assert_string_equal(got, want);
	free(got);
}

#define CHECK(lit, want) check(lit, sizeof(lit) - 1, want)

/* Parses out as a JSON string; returns the decoded bytes and their length. */
static json_t *parse_string(const char *text)
{
	json_error_t err;
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);

	if (!v)
		fail_msg("jansson rejected %s: %s", text, err.text);
	assert_true(json_is_string(v));
	return v;
}

static void test_plain_ascii(void **state)
{
	(void)state;
	CHECK("", "\"\"");
	CHECK("abc", "\"abc\"");
	CHECK("CN=db1.example.com,O=Acme/Ops", "\"CN=db1.example.com,O=Acme/Ops\"");
	CHECK(" ~", "\" ~\"");
}

static void test_quote_backslash(void **state)
{
	(void)state;
	CHECK("a\"b", "\"a\\\"b\"");
	CHECK("a\\b", "\"a\\\\b\"");
	CHECK("\\\"", "\"\\\\\\\"\"");
}

static void test_short_escapes(void **state)
{
	(void)state;
	CHECK("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
	CHECK("line1\nline2", "\"line1\\nline2\"");
}

static void test_other_controls(void **state)
{
	(void)state;
	CHECK("\x01", "\"\\u0001\"");
	CHECK("\x1b[31m", "\"\\u001b[31m\"");
	CHECK("\x0b", "\"\\u000b\"");
	CHECK("\x1f", "\"\\u001f\"");
	CHECK("\x7f", "\"\\u007f\"");
	/* Every C0 control escapes and never appears raw. */
	for (int c = 0; c < 0x20; c++) {
		char in = (char)c;
		char *got = escape(&in, 1);
		for (const char *p = got; *p; p++)
			assert_true((unsigned char)*p >= 0x20);
		json_t *v = parse_string(got);
		assert_int_equal(json_string_length(v), 1);
		assert_int_equal(json_string_value(v)[0], c);
		json_decref(v);
		free(got);
	}
}

static void test_embedded_nul(void **state)
{
	(void)state;
	CHECK("a\0b", "\"a\\u0000b\"");
	CHECK("\0", "\"\\u0000\"");

	char *got = escape("db\0.evil.com", 12);
	json_t *v = parse_string(got);
	assert_int_equal(json_string_length(v), 12);
	assert_memory_equal(json_string_value(v), "db\0.evil.com", 12);
	json_decref(v);
	free(got);
}

static void test_valid_multibyte(void **state)
{
	(void)state;
	CHECK("caf\xc3\xa9", "\"caf\xc3\xa9\"");           /* U+00E9 */
	CHECK("\xc2\x80", "\"\xc2\x80\"");                 /* U+0080, smallest 2-byte */
	CHECK("\xdf\xbf", "\"\xdf\xbf\"");                 /* U+07FF */
	CHECK("\xe0\xa0\x80", "\"\xe0\xa0\x80\"");         /* U+0800, smallest 3-byte */
	CHECK("\xe2\x82\xac", "\"\xe2\x82\xac\"");         /* U+20AC euro */
	CHECK("\xed\x9f\xbf", "\"\xed\x9f\xbf\"");         /* U+D7FF, below surrogates */
	CHECK("\xee\x80\x80", "\"\xee\x80\x80\"");         /* U+E000, above surrogates */
	CHECK("\xef\xbf\xbf", "\"\xef\xbf\xbf\"");         /* U+FFFF */
	CHECK("\xf0\x90\x80\x80", "\"\xf0\x90\x80\x80\""); /* U+10000 */
	CHECK("\xf0\x9d\x84\x9e", "\"\xf0\x9d\x84\x9e\""); /* U+1D11E */
	CHECK("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""); /* U+10FFFF, the last */
	CHECK("\xe6\x97\xa5\xe6\x9c\xac", "\"\xe6\x97\xa5\xe6\x9c\xac\"");
	/* Line separators are valid JSON but break JavaScript: escaped. */
	CHECK("\xe2\x80\xa8\xe2\x80\xa9", "\"\\u2028\\u2029\"");
}

static void test_invalid_bytes(void **state)
{
	(void)state;
	CHECK("\x80", "\"\\ufffd\""); /* lone continuation */
	CHECK("\xbf", "\"\\ufffd\"");
	CHECK("a\x80\x80z", "\"a\\ufffd\\ufffdz\""); /* one replacement per byte */
	CHECK("\xc3", "\"\\ufffd\"");                /* truncated at the end */
	CHECK("\xe2\x82", "\"\\ufffd\\ufffd\"");
	CHECK("\xf0\x9d\x84", "\"\\ufffd\\ufffd\\ufffd\"");
	CHECK("\xe2\x82"
	      "A",
	      "\"\\ufffd\\ufffdA\"");                 /* interrupted by ASCII */
	CHECK("\xc3\xc3\xa9", "\"\\ufffd\xc3\xa9\""); /* bad lead, then a good sequence */
	CHECK("\xf5\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	CHECK("\xfe\xff", "\"\\ufffd\\ufffd\"");
	CHECK("\xf8\x88\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

static void test_overlong(void **state)
{
	(void)state;
	CHECK("\xc0\xaf", "\"\\ufffd\\ufffd\""); /* '/' in two bytes */
	CHECK("\xc1\xbf", "\"\\ufffd\\ufffd\"");
	CHECK("\xc0\x80", "\"\\ufffd\\ufffd\"");            /* "modified UTF-8" NUL */
	CHECK("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\""); /* '/' in three bytes */
	CHECK("\xe0\x9f\xbf", "\"\\ufffd\\ufffd\\ufffd\""); /* U+07FF in three bytes */
	CHECK("\xf0\x80\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	CHECK("\xf0\x8f\xbf\xbf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* U+FFFF in four */
}

static void test_surrogates_and_range(void **state)
{
	(void)state;
	CHECK("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* U+D800 */
	CHECK("\xed\xbf\xbf", "\"\\ufffd\\ufffd\\ufffd\""); /* U+DFFF */
	CHECK("\xed\xa0\xbd\xed\xb8\x80",                   /* CESU-8 pair */
	      "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"");
	CHECK("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* U+110000 */
	CHECK("\xf7\xbf\xbf\xbf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

static void test_cstr(void **state)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	(void)state;
	assert_non_null(f);
	pcp_json_cstr(f, NULL);
	putc(' ', f);
	pcp_json_cstr(f, "");
	putc(' ', f);
	pcp_json_cstr(f, "x\"\xff");
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "null \"\" \"x\\\"\\ufffd\"");
	free(buf);
}

/* Pieces that are complete and valid on their own, and pieces that are not. */
static const char *const good_pieces[] = {
        "a",
        "Z",
        " ",
        "\"",
        "\\",
        "/",
        "\n",
        "\t",
        "\x01",
        "\x1f",
        "\x7f",
        "\xc3\xa9",
        "\xe2\x82\xac",
        "\xf0\x9f\x94\x92",
        "\xf4\x8f\xbf\xbf",
        "\xef\xbb\xbf",
        "\xe2\x80\xa8",
};
static const char *const bad_pieces[] = {
        "\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\xff",
        "\xc3", "\xf0",     "\xfe",
};

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* Random mixes of pieces and raw bytes: the output always parses as a JSON string (jansson
 * checks UTF-8), and inputs made only of valid pieces round-trip unchanged. */
static void test_random_inputs(void **state)
{
	uint32_t seed = 20250512;

	(void)state;
	for (int round = 0; round < 5000; round++) {
		char in[256];
		size_t len = 0;
		bool all_good = true;
		size_t pieces = lcg(&seed) % 24;

		for (size_t k = 0; k < pieces && len < sizeof in - 8; k++) {
			uint32_t pick = lcg(&seed) % 3;
			const char *p;
			size_t plen;
			char raw;
			if (pick == 0) {
				p = good_pieces[lcg(&seed) %
				                (sizeof good_pieces / sizeof *good_pieces)];
				plen = strlen(p);
			} else if (pick == 1) {
				p = bad_pieces[lcg(&seed) %
				               (sizeof bad_pieces / sizeof *bad_pieces)];
				plen = strlen(p);
				all_good = false;
			} else {
				raw = (char)(lcg(&seed) & 0xFF);
				p = &raw;
				plen = 1;
				if ((unsigned char)raw >= 0x80)
					all_good = false;
			}
			memcpy(in + len, p, plen);
			len += plen;
		}
		char *got = escape(in, len);
		json_t *v = parse_string(got);
		for (const char *q = got; *q; q++)
			assert_true((unsigned char)*q >= 0x20);
		if (all_good) {
			assert_int_equal(json_string_length(v), len);
			assert_memory_equal(json_string_value(v), in, len);
		}
		json_decref(v);
		free(got);
	}
}

static void test_format_time(void **state)
{
	char buf[32];

	(void)state;
	pcp_format_time(0, buf, sizeof buf);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	pcp_format_time(1613347200, buf, sizeof buf);
	assert_string_equal(buf, "2021-02-15T00:00:00Z");
	pcp_format_time(1747094340, buf, sizeof buf);
	assert_string_equal(buf, "2025-05-12T23:59:00Z");
	pcp_format_time(-1, buf, sizeof buf);
	assert_string_equal(buf, "1969-12-31T23:59:59Z");
	pcp_format_time((time_t)253402300799, buf, sizeof buf);
	assert_string_equal(buf, "9999-12-31T23:59:59Z");
	/* RFC 3339 has no five-digit or negative years: clamped. */
	pcp_format_time((time_t)253402300800, buf, sizeof buf);
	assert_string_equal(buf, "9999-12-31T23:59:59Z");
	pcp_format_time((time_t)-62167219201, buf, sizeof buf); /* 0000-01-01 minus 1 s */
	assert_string_equal(buf, "0000-01-01T00:00:00Z");
	pcp_format_time((time_t)-62135596800, buf, sizeof buf); /* 0001-01-01 */
	assert_string_equal(buf, "0001-01-01T00:00:00Z");
	/* The documented minimum buffer holds the whole text. */
	char small[21];
	pcp_format_time(1613347200, small, sizeof small);
	assert_string_equal(small, "2021-02-15T00:00:00Z");
}

static void test_json_time(void **state)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	(void)state;
	assert_non_null(f);
	pcp_json_time(f, 1613347200);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "\"2021-02-15T00:00:00Z\"");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_plain_ascii),
	        cmocka_unit_test(test_quote_backslash),
	        cmocka_unit_test(test_short_escapes),
	        cmocka_unit_test(test_other_controls),
	        cmocka_unit_test(test_embedded_nul),
	        cmocka_unit_test(test_valid_multibyte),
	        cmocka_unit_test(test_invalid_bytes),
	        cmocka_unit_test(test_overlong),
	        cmocka_unit_test(test_surrogates_and_range),
	        cmocka_unit_test(test_cstr),
	        cmocka_unit_test(test_random_inputs),
	        cmocka_unit_test(test_format_time),
	        cmocka_unit_test(test_json_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
