/* Capture-side TLS: handshake without verification, exactly libpq's protocol floor. */
#include "tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <string.h>

SSL_CTX *pcp_tls_ctx_new(struct pcp_error *err)
{
	SSL_CTX *ctx;

	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		pcp_error_set(err, PCP_ERR_TLS, "cannot create TLS context");
		pcp_error_append_openssl(err);
		return NULL;
	}
	/* libpq's default ssl_min_protocol_version since PostgreSQL 13. */
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		pcp_error_set(err, PCP_ERR_TLS, "cannot set TLS 1.2 minimum");
		pcp_error_append_openssl(err);
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* Verification is done later per store; here every chain must be captured. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return ctx;
}

SSL *pcp_tls_new(SSL_CTX *ctx, int fd, const char *sni, bool alpn, struct pcp_error *err)
{
	/* The wire form: one length byte, then the name. */
	static const unsigned char protos[] = "\x0a" PCP_ALPN_NAME;
	SSL *ssl;

	ERR_clear_error();
	ssl = SSL_new(ctx);
	/* SSL_set_alpn_protos returns 0 on success, unlike its neighbours. */
	if (!ssl || !SSL_set_fd(ssl, fd) || (sni && !SSL_set_tlsext_host_name(ssl, sni)) ||
	    (alpn && SSL_set_alpn_protos(ssl, protos, sizeof protos - 1) != 0)) {
		pcp_error_set(err, PCP_ERR_TLS, "cannot set up TLS");
		pcp_error_append_openssl(err);
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_connect_state(ssl);
	return ssl;
}

/* libpq's words for SSL_ERROR_SSL with this first error code, hint included. */
static void libpq_ssl_error(unsigned long code, struct pcp_tls_failure *fail)
{
	const char *reason = code ? ERR_reason_error_string(code) : NULL;
	int len;

	if (reason)
		len = snprintf(fail->libpq, sizeof fail->libpq, "SSL error: %s", reason);
	else if (code)
		len = snprintf(fail->libpq, sizeof fail->libpq, "SSL error: SSL error code %lu",
		               code);
	else
		len = snprintf(fail->libpq, sizeof fail->libpq, "SSL error: no SSL error reported");
	fail->eof = ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
	switch (ERR_GET_REASON(code)) {
	case SSL_R_NO_PROTOCOLS_AVAILABLE:
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_BAD_PROTOCOL_VERSION_NUMBER:
	case SSL_R_UNKNOWN_PROTOCOL:
	case SSL_R_UNKNOWN_SSL_VERSION:
	case SSL_R_UNSUPPORTED_SSL_VERSION:
	case SSL_R_WRONG_SSL_VERSION:
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
	case SSL_R_VERSION_TOO_HIGH:
	case SSL_R_VERSION_TOO_LOW:
		/* libpq's defaults: ssl_min_protocol_version, OpenSSL's maximum. */
		if (len > 0 && (size_t)len < sizeof fail->libpq)
			snprintf(fail->libpq + len, sizeof fail->libpq - (size_t)len,
			         "\nThis may indicate that the server does not support any SSL "
			         "protocol version between TLSv1.2 and TLSv1.3.");
		break;
	default:
		break;
	}
}

enum pcp_tls_rc pcp_tls_handshake(SSL *ssl, struct pcp_error *err, struct pcp_tls_failure *fail)
{
	struct pcp_tls_failure ignored;
	int rc, e, saved;

	if (!fail)
		fail = &ignored;
	ERR_clear_error();
	errno = 0;
	rc = SSL_connect(ssl);
	if (rc == 1)
		return PCP_TLS_DONE;
	e = SSL_get_error(ssl, rc);
	saved = errno;
	memset(fail, 0, sizeof *fail);
	switch (e) {
	case SSL_ERROR_WANT_READ:
		return PCP_TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return PCP_TLS_WANT_WRITE;
	case SSL_ERROR_SYSCALL:
		if (rc == -1 && saved)
			snprintf(fail->libpq, sizeof fail->libpq, "SSL SYSCALL error: %s",
			         strerror(saved));
		else
			snprintf(fail->libpq, sizeof fail->libpq,
			         "SSL SYSCALL error: EOF detected");
		fail->eof = !(rc == -1 && saved);
		if (ERR_peek_error()) {
			pcp_error_set(err, PCP_ERR_TLS, "TLS handshake failed");
			pcp_error_append_openssl(err);
		} else if (saved) {
			pcp_error_set(err, PCP_ERR_TLS, "TLS handshake failed: %s",
			              strerror(saved));
		} else {
			pcp_error_set(
			        err, PCP_ERR_TLS,
			        "TLS handshake failed: server closed the connection unexpectedly");
		}
		return PCP_TLS_FAILED;
	default:
		libpq_ssl_error(ERR_peek_error(), fail);
		pcp_error_set(err, PCP_ERR_TLS, "TLS handshake failed");
		pcp_error_append_openssl(err);
		return PCP_TLS_FAILED;
	}
}

enum pcp_tls_rc pcp_tls_shutdown(SSL *ssl)
{
	int rc;

	ERR_clear_error();
	rc = SSL_shutdown(ssl);
	if (rc >= 0)
		return PCP_TLS_DONE;
	switch (SSL_get_error(ssl, rc)) {
	case SSL_ERROR_WANT_WRITE:
		return PCP_TLS_WANT_WRITE;
	case SSL_ERROR_WANT_READ:
		return PCP_TLS_WANT_READ;
	default:
		ERR_clear_error();
		return PCP_TLS_FAILED;
	}
}

void pcp_tls_alpn(SSL *ssl, char *out, size_t len)
{
	const unsigned char *p = NULL;
	unsigned int n = 0;
	size_t o = 0;

	SSL_get0_alpn_selected(ssl, &p, &n);
	for (unsigned int i = 0; p && i < n && o + 1 < len; i++)
		out[o++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[o] = '\0';
}

int pcp_tls_capture(SSL *ssl, struct pcp_chain **chain, char *version, size_t vlen, char *cipher,
                    size_t clen)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);

	snprintf(version, vlen, "%s", SSL_get_version(ssl));
	snprintf(cipher, clen, "%s", c ? SSL_CIPHER_get_name(c) : "");
	/* No peer chain at all (anonymous ciphers) is an empty chain, not a failure. */
	*chain = pcp_chain_from_stack(SSL_get_peer_cert_chain(ssl));
	return *chain ? 0 : -1;
}
