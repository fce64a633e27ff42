/* TLS for chain capture: one client SSL_CTX shaped like libpq's (TLS >= 1.2, the system's
 * default ciphers and security level; ALPN "postgresql" where libpq 17+ offers it) but
 * without verification, so every chain is captured and judged afterwards by verify.
 * Non-blocking handshake and shutdown steps. */
#ifndef PCP_TLS_H
#define PCP_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>

#include "chain.h"
#include "error.h"

/* A new capture context (caller owns; SSL_CTX_free). NULL with err set on failure. */
SSL_CTX *pcp_tls_ctx_new(struct pcp_error *err);

/* An SSL object on fd in client mode; sni may be NULL (no SNI, as libpq for IP hosts);
 * alpn: offer the protocol "postgresql", as libpq 17+ does. */
SSL *pcp_tls_new(SSL_CTX *ctx, int fd, const char *sni, bool alpn, struct pcp_error *err);

enum pcp_tls_rc {
	PCP_TLS_DONE,
	PCP_TLS_WANT_READ,
	PCP_TLS_WANT_WRITE,
	PCP_TLS_FAILED,
};

/* A failed handshake as libpq's open_client_SSL words it (built with this OpenSSL): "SSL
 * error: REASON" (with its protocol-version hint where libpq adds one), "SSL SYSCALL error:
 * ERRNO"; eof: the peer closed the connection without a word (OpenSSL 3 words that "SSL
 * error: unexpected eof while reading", libpq built with OpenSSL 1.1 "SSL SYSCALL error: EOF
 * detected"). */
struct pcp_tls_failure {
	bool eof;
	char libpq[256];
};

/* One step of the handshake; on failure err says why (alert, EOF, protocol) and fail (may
 * be NULL) says it in libpq's words. */
enum pcp_tls_rc pcp_tls_handshake(SSL *ssl, struct pcp_error *err, struct pcp_tls_failure *fail);

/* One step of sending close_notify; never waits for the peer's. */
enum pcp_tls_rc pcp_tls_shutdown(SSL *ssl);

/* After a completed handshake: the served chain into *chain (owned by the caller; it may
 * hold no certificate at all), and the protocol version and cipher names. Returns 0, or -1
 * when out of memory. */
int pcp_tls_capture(SSL *ssl, struct pcp_chain **chain, char *version, size_t vlen, char *cipher,
                    size_t clen);

/* The ALPN protocol the server selected (printable bytes only), "" when none. */
void pcp_tls_alpn(SSL *ssl, char *out, size_t len);

/* The ALPN protocol libpq 17+ offers, and its name. */
#define PCP_ALPN_NAME "postgresql"

#endif
