/* What a server answers to the SSLRequest: the one reply byte (pcp_pgwire_classify), the
 * message naming an invalid one, and the text of an `E` reply (pcp_pgwire_error_text),
 * rendered into buffers of every small size and of the probe's size. Input: the reply
 * byte, then the bytes that followed it. */
#include <string.h>

#include "fuzzutil.h"
#include "pgwire.h"

static void check_text(const char *out, size_t n, size_t outlen)
{
	FUZZ_CHECK(n < outlen && strlen(out) == n);
	FUZZ_CHECK(n == 0 || (out[0] != ' ' && out[n - 1] != ' '));
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(out[i] >= 0x20 && out[i] < 0x7f &&
		           !(out[i] == ' ' && out[i + 1] == ' '));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char msg[128], out[PCP_PGWIRE_ERROR_TEXT_MAX + 1];
	enum pcp_reply reply;

	if (size == 0)
		return 0;
	reply = pcp_pgwire_classify(data[0]);
	FUZZ_CHECK(reply == PCP_REPLY_SSL || reply == PCP_REPLY_NO_SSL ||
	           reply == PCP_REPLY_ERROR || reply == PCP_REPLY_INVALID);
	if (reply == PCP_REPLY_INVALID) {
		pcp_pgwire_invalid_reply_msg(data[0], msg, sizeof msg);
		check_text(msg, strlen(msg), sizeof msg);
	}
	for (size_t outlen = 1; outlen <= 8; outlen++)
		check_text(out, pcp_pgwire_error_text(data + 1, size - 1, out, outlen), outlen);
	check_text(out, pcp_pgwire_error_text(data + 1, size - 1, out, sizeof out), sizeof out);
	FUZZ_CHECK(pcp_pgwire_error_text(data + 1, size - 1, out, 0) == 0);
	return 0;
}
