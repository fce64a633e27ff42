/* TLS for chain capture: one client SSL_CTX shaped like libpq's (TLS >= 1.2, the system's
 * default ciphers and security level, no ALPN) but without verification, so every chain is
 * captured and judged afterwards by verify. Non-blocking handshake and shutdown steps. */
#ifndef PCP_TLS_H
#define PCP_TLS_H

#include <openssl/ssl.h>

#include "chain.h"
#include "error.h"

/* A new capture context (caller owns; SSL_CTX_free). NULL with err set on failure. */
SSL_CTX *pcp_tls_ctx_new(struct pcp_error *err);

/* An SSL object on fd in client mode; sni may be NULL (no SNI, as libpq for IP hosts). */
SSL *pcp_tls_new(SSL_CTX *ctx, int fd, const char *sni, struct pcp_error *err);

enum pcp_tls_rc {
	PCP_TLS_DONE,
	PCP_TLS_WANT_READ,
	PCP_TLS_WANT_WRITE,
	PCP_TLS_FAILED,
};

/* One step of the handshake; on failure err says why (alert, EOF, protocol). */
enum pcp_tls_rc pcp_tls_handshake(SSL *ssl, struct pcp_error *err);

/* One step of sending close_notify; never waits for the peer's. */
enum pcp_tls_rc pcp_tls_shutdown(SSL *ssl);

/* After a completed handshake: the served chain into *chain (owned by the caller; it may
 * hold no certificate at all), and the protocol version and cipher names. Returns 0, or -1
 * when out of memory. */
int pcp_tls_capture(SSL *ssl, struct pcp_chain **chain, char *version, size_t vlen, char *cipher,
                    size_t clen);

#endif
