/* Unit tests for pgwire: the SSLRequest bytes, classification of every possible reply
 * byte, bounded rendering of protocol-2 and v3 'E' bodies (never parsed), and the
 * message for an invalid reply byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pgwire.h"

static void test_sslrequest_bytes(void **state)
{
	static const unsigned char want[8] = {0x00, 0x00, 0x00, 0x08, 0x04, 0xD2, 0x16, 0x2F};
	uint32_t len, code;

	(void)state;
	assert_int_equal(PCP_SSLREQUEST_LEN, 8);
	assert_memory_equal(pcp_sslrequest, want, sizeof want);
	/* Decode as the server does: big-endian length, then the request code. */
	len = (uint32_t)pcp_sslrequest[0] << 24 | (uint32_t)pcp_sslrequest[1] << 16 |
	      (uint32_t)pcp_sslrequest[2] << 8 | pcp_sslrequest[3];
	code = (uint32_t)pcp_sslrequest[4] << 24 | (uint32_t)pcp_sslrequest[5] << 16 |
	       (uint32_t)pcp_sslrequest[6] << 8 | pcp_sslrequest[7];
	assert_int_equal(len, 8);
	assert_int_equal(code, 80877103u);
	assert_int_equal(code, (1234u << 16) | 5679u);
	/* Not the GSSENCRequest. */
	assert_int_not_equal(code, 80877104u);
}

static void test_classify_known(void **state)
{
	(void)state;
	assert_int_equal(pcp_pgwire_classify('S'), PCP_REPLY_SSL);
	assert_int_equal(pcp_pgwire_classify('N'), PCP_REPLY_NO_SSL);
	assert_int_equal(pcp_pgwire_classify('E'), PCP_REPLY_ERROR);
}

static void test_classify_all_others_invalid(void **state)
{
	(void)state;
	for (int b = 0; b < 256; b++) {
		if (b == 'S' || b == 'N' || b == 'E')
			continue;
		/* Lower-case letters, 'G' (GSS reply) and NUL are not special for SSLRequest. */
		assert_int_equal(pcp_pgwire_classify((unsigned char)b), PCP_REPLY_INVALID);
	}
}

static void test_error_text_protocol2(void **state)
{
	static const char body[] = "FATAL:  sorry, too many clients already\n";
	char out[PCP_PGWIRE_ERROR_TEXT_MAX + 1];
	size_t n;

	(void)state;
	/* sizeof includes the terminating NUL a protocol-2 server sends. */
	n = pcp_pgwire_error_text((const unsigned char *)body, sizeof body, out, sizeof out);
	assert_string_equal(out, "FATAL: sorry, too many clients already");
	assert_int_equal(n, strlen(out));
}

static void test_error_text_v3_not_parsed(void **state)
{
	/* 'E' already consumed; int32 length then NUL-terminated fields, final NUL. The
	 * length's last byte is 'A' (65) on purpose: it must appear as text, proving the
	 * framing is not interpreted. */
	static const unsigned char body[] = {
	        0x00, 0x00, 0x00, 0x41, 'S',  'F', 'A', 'T', 'A', 'L', 0x00, 'C',  '5',
	        '3',  '3',  '0',  '0',  0x00, 'M', 's', 'o', 'r', 'r', 'y',  0x00, 0x00,
	};
	char out[64];

	(void)state;
	pcp_pgwire_error_text(body, sizeof body, out, sizeof out);
	assert_string_equal(out, "ASFATAL C53300 Msorry");
}

static void test_error_text_nonprintable_runs(void **state)
{
	static const unsigned char body[] = {0x01, 0x02, ' ', 'a', 0xFF, 0x80, '\t', 'b',
	                                     '\r', '\n', ' ', ' ', 'c',  0x7F, 0x00};
	char out[32];
	size_t n;

	(void)state;
	n = pcp_pgwire_error_text(body, sizeof body, out, sizeof out);
	assert_string_equal(out, "a b c");
	assert_int_equal(n, 5);
}

static void test_error_text_empty_and_blank(void **state)
{
	static const unsigned char blank[] = {0x00, ' ', 0x01, 0x00};
	char out[16];

	(void)state;
	memset(out, 'x', sizeof out);
	assert_int_equal(pcp_pgwire_error_text(NULL, 0, out, sizeof out), 0);
	assert_string_equal(out, "");
	memset(out, 'x', sizeof out);
	assert_int_equal(pcp_pgwire_error_text(blank, 0, out, sizeof out), 0);
	assert_string_equal(out, "");
	assert_int_equal(pcp_pgwire_error_text(blank, sizeof blank, out, sizeof out), 0);
	assert_string_equal(out, "");
	/* outlen 0: nothing written at all. */
	out[0] = 'x';
	assert_int_equal(pcp_pgwire_error_text(blank, sizeof blank, out, 0), 0);
	assert_int_equal(out[0], 'x');
}

static void test_error_text_bounded(void **state)
{
	unsigned char big[4096];
	/* The guard follows the buffer in one object, so an overrun would show. */
	struct {
		char text[PCP_PGWIRE_ERROR_TEXT_MAX + 1];
		char guard[8];
	} b;
	char out[8];
	size_t n;

	(void)state;
	memset(big, 'A', sizeof big);
	memset(b.guard, 0x5A, sizeof b.guard);
	n = pcp_pgwire_error_text(big, sizeof big, b.text, sizeof b.text);
	assert_int_equal(n, PCP_PGWIRE_ERROR_TEXT_MAX);
	assert_int_equal(strlen(b.text), PCP_PGWIRE_ERROR_TEXT_MAX);
	for (size_t i = 0; i < sizeof b.guard; i++)
		assert_int_equal((unsigned char)b.guard[i], 0x5A);

	/* Exact fits and one-byte buffers. */
	n = pcp_pgwire_error_text((const unsigned char *)"abc", 3, out, 4);
	assert_int_equal(n, 3);
	assert_string_equal(out, "abc");
	n = pcp_pgwire_error_text((const unsigned char *)"abcd", 4, out, 4);
	assert_int_equal(n, 3);
	assert_string_equal(out, "abc");
	n = pcp_pgwire_error_text((const unsigned char *)"abc", 3, out, 1);
	assert_int_equal(n, 0);
	assert_string_equal(out, "");
}

static void test_error_text_no_trailing_space_at_cut(void **state)
{
	char out[4];

	(void)state;
	/* "ab cd" into 3 usable bytes: "ab" then a separator that would leave no room
	 * for a character; the result must not end in a space. */
	pcp_pgwire_error_text((const unsigned char *)"ab cd", 5, out, sizeof out);
	assert_string_equal(out, "ab");
	pcp_pgwire_error_text((const unsigned char *)"a cd", 4, out, sizeof out);
	assert_string_equal(out, "a c");
}

static void test_invalid_reply_msg(void **state)
{
	char out[128];

	(void)state;
	/* libpq 15's wording, byte shown as itself when printable. */
	pcp_pgwire_invalid_reply_msg('X', out, sizeof out);
	assert_string_equal(out, "received invalid response to SSL negotiation: X");
	pcp_pgwire_invalid_reply_msg('-', out, sizeof out);
	assert_string_equal(out, "received invalid response to SSL negotiation: -");
	/* Control, space, DEL and high bytes in hex. */
	pcp_pgwire_invalid_reply_msg(0x00, out, sizeof out);
	assert_string_equal(out, "received invalid response to SSL negotiation: 0x00");
	pcp_pgwire_invalid_reply_msg(' ', out, sizeof out);
	assert_string_equal(out, "received invalid response to SSL negotiation: 0x20");
	pcp_pgwire_invalid_reply_msg(0x7F, out, sizeof out);
	assert_string_equal(out, "received invalid response to SSL negotiation: 0x7F");
	pcp_pgwire_invalid_reply_msg(0xFF, out, sizeof out);
	assert_string_equal(out, "received invalid response to SSL negotiation: 0xFF");
	pcp_pgwire_invalid_reply_msg(0x16, out, sizeof out);
	assert_string_equal(out, "received invalid response to SSL negotiation: 0x16");
}

static void test_invalid_reply_msg_bounded(void **state)
{
	char out[10];

	(void)state;
	memset(out, 'x', sizeof out);
	pcp_pgwire_invalid_reply_msg('X', out, sizeof out);
	assert_int_equal(strlen(out), sizeof out - 1);
	assert_memory_equal(out, "received ", 9);
	out[0] = 'q';
	pcp_pgwire_invalid_reply_msg('X', out, 0);
	assert_int_equal(out[0], 'q');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sslrequest_bytes),
	        cmocka_unit_test(test_classify_known),
	        cmocka_unit_test(test_classify_all_others_invalid),
	        cmocka_unit_test(test_error_text_protocol2),
	        cmocka_unit_test(test_error_text_v3_not_parsed),
	        cmocka_unit_test(test_error_text_nonprintable_runs),
	        cmocka_unit_test(test_error_text_empty_and_blank),
	        cmocka_unit_test(test_error_text_bounded),
	        cmocka_unit_test(test_error_text_no_trailing_space_at_cut),
	        cmocka_unit_test(test_invalid_reply_msg),
	        cmocka_unit_test(test_invalid_reply_msg_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
