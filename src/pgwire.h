/* The PostgreSQL SSLRequest negotiation as pure functions: the request bytes, the
 * classification of the one-byte reply, and bounded rendering of an `E` reply's text. */
#ifndef PCP_PGWIRE_H
#define PCP_PGWIRE_H

#include <stddef.h>

#define PCP_SSLREQUEST_LEN 8
/* 00 00 00 08 04 D2 16 2F: length 8, code (1234 << 16) | 5679 */
extern const unsigned char pcp_sslrequest[PCP_SSLREQUEST_LEN];

enum pcp_reply {
	PCP_REPLY_SSL,     /* 'S': TLS follows */
	PCP_REPLY_NO_SSL,  /* 'N' */
	PCP_REPLY_ERROR,   /* 'E': server error before TLS; body may be protocol 2 */
	PCP_REPLY_INVALID, /* anything else */
};

enum pcp_reply pcp_pgwire_classify(unsigned char byte);

/* Longest E text we keep. */
#define PCP_PGWIRE_ERROR_TEXT_MAX 200

/* Renders the bytes that followed an 'E' as printable ASCII for a message: each run of
 * non-printable bytes (including NUL separators and v3 field codes' framing) becomes one
 * space, leading and trailing spaces are dropped, and at most outlen-1 bytes are written.
 * Never interprets the bytes as a v3 ErrorResponse. Returns the length written. */
size_t pcp_pgwire_error_text(const unsigned char *buf, size_t len, char *out, size_t outlen);

/* Message for a reply byte that is neither S, N nor E, naming the byte. */
void pcp_pgwire_invalid_reply_msg(unsigned char byte, char *out, size_t outlen);

#endif
