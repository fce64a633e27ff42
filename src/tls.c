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

SSL *pcp_tls_new(SSL_CTX *ctx, int fd, const char *sni, struct pcp_error *err)
{
	SSL *ssl;

	ERR_clear_error();
	ssl = SSL_new(ctx);
	if (!ssl || !SSL_set_fd(ssl, fd) || (sni && !SSL_set_tlsext_host_name(ssl, sni))) {
		pcp_error_set(err, PCP_ERR_TLS, "cannot set up TLS");
		pcp_error_append_openssl(err);
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_connect_state(ssl);
	return ssl;
}

enum pcp_tls_rc pcp_tls_handshake(SSL *ssl, struct pcp_error *err)
{
	int rc, e;

	ERR_clear_error();
	errno = 0;
	rc = SSL_connect(ssl);
	if (rc == 1)
		return PCP_TLS_DONE;
	e = SSL_get_error(ssl, rc);
	switch (e) {
	case SSL_ERROR_WANT_READ:
		return PCP_TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return PCP_TLS_WANT_WRITE;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error()) {
			pcp_error_set(err, PCP_ERR_TLS, "TLS handshake failed");
			pcp_error_append_openssl(err);
		} else if (errno) {
			pcp_error_set(err, PCP_ERR_TLS, "TLS handshake failed: %s",
			              strerror(errno));
		} else {
			pcp_error_set(
			        err, PCP_ERR_TLS,
			        "TLS handshake failed: server closed the connection unexpectedly");
		}
		return PCP_TLS_FAILED;
	default:
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
