/* The PostgreSQL SSLRequest negotiation as pure functions (see pgwire.h): the request
 * bytes, the one-byte reply classification, and bounded, printable rendering of what a
 * server sent after 'E'. No I/O here; the probe module owns the socket. */
#include "pgwire.h"

#include <stdio.h>

const unsigned char pcp_sslrequest[PCP_SSLREQUEST_LEN] = {0x00, 0x00, 0x00, 0x08,
                                                          0x04, 0xD2, 0x16, 0x2F};

enum pcp_reply pcp_pgwire_classify(unsigned char byte)
{
	switch (byte) {
	case 'S':
		return PCP_REPLY_SSL;
	case 'N':
		return PCP_REPLY_NO_SSL;
	case 'E':
		return PCP_REPLY_ERROR;
	default:
		return PCP_REPLY_INVALID;
	}
}

/* Printable ASCII other than space; locale-independent on purpose (isgraph is not). */
static int is_graph(unsigned char c)
{
	return c > 0x20 && c < 0x7F;
}

size_t pcp_pgwire_error_text(const unsigned char *buf, size_t len, char *out, size_t outlen)
{
	size_t n = 0;
	int pending_space = 0;

	if (!out || outlen == 0)
		return 0;
	out[0] = '\0';
	if (!buf)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = buf[i];

		/* Spaces and non-printables alike form one separator, so a v2 "FATAL:  x\0"
		 * and a v3 body's NUL-framed fields both read as plain words. */
		if (!is_graph(c)) {
			pending_space = n > 0;
			continue;
		}
		/* Room for the separator and the character and the final NUL. */
		if (n + (size_t)pending_space + 1 > outlen - 1)
			break;
		if (pending_space)
			out[n++] = ' ';
		pending_space = 0;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return n;
}

void pcp_pgwire_invalid_reply_msg(unsigned char byte, char *out, size_t outlen)
{
	if (!out || outlen == 0)
		return;
	/* libpq prints the byte with %c; a control byte or one above 0x7E would be
	 * invisible or break the output encoding, so those are named in hex instead. */
	if (is_graph(byte))
		snprintf(out, outlen, "received invalid response to SSL negotiation: %c", byte);
	else
		snprintf(out, outlen, "received invalid response to SSL negotiation: 0x%02X", byte);
}
