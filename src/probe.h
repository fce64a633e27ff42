/* One probe = one address: connect, SSLRequest, one reply byte, TLS handshake, close_notify;
 * or, with direct negotiation, connect, TLS handshake with ALPN "postgresql", close_notify.
 * A state machine driven by one embedded ev_io and bounded by one embedded ev_timer. The
 * runner owns probes; a probe reports once through its done callback and is freed by the
 * runner after that callback returns. */
#ifndef PCP_PROBE_H
#define PCP_PROBE_H

#include <ev.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "chain.h"
#include "error.h"
#include "result.h"
#include "tls.h"

/* Bytes of an E reply kept for the message. */
#define PCP_PROBE_ETEXT_MAX 512

enum pcp_probe_state {
	PCP_PROBE_CONNECTING,
	PCP_PROBE_SEND_SSLREQ,
	PCP_PROBE_READ_REPLY,
	PCP_PROBE_READ_ERROR_TEXT, /* after 'E': collect bounded text until EOF */
	PCP_PROBE_TLS_HANDSHAKE,
	PCP_PROBE_CLOSING,
	PCP_PROBE_DONE,
};

const char *pcp_probe_state_name(enum pcp_probe_state state);

struct pcp_probe;
typedef void (*pcp_probe_done_fn)(struct pcp_probe *probe, void *arg);

/* Shared, read-only while probes run. */
struct pcp_probe_env {
	struct ev_loop *loop;
	SSL_CTX *ssl_ctx;
	double timeout; /* seconds for the whole probe */
	pcp_probe_done_fn done;
	void *done_arg;
	bool trace;                       /* log state changes to stderr */
	enum pcp_negotiation negotiation; /* SSLRequest first, or TLS at once */
	bool alpn; /* offer ALPN "postgresql" after SSLRequest too (as libpq 17+); the direct
	            * path always offers it, as the server requires */
};

struct pcp_probe {
	ev_io io;       /* first: the callback recovers the probe from it */
	ev_timer timer; /* only for an immediate failure and an E reply's text */
	const struct pcp_probe_env *env;
	enum pcp_probe_state state;
	int fd;
	SSL *ssl;
	const char *sni;      /* borrowed for the probe's lifetime; NULL: no SNI */
	size_t sent;          /* SSLRequest bytes written */
	int io_events;        /* events io is started with, 0 when stopped */
	bool failed_at_start; /* an immediate failure waits for the loop to report it */
	ev_tstamp started;
	/* Outcome, read by the runner in the done callback. */
	enum pcp_status status;
	struct pcp_error err;
	struct pcp_chain *chain; /* captured chain, owned until the runner takes it */
	char tls_version[16];
	char tls_cipher[64];
	char alpn[32];                      /* what the server selected, "" when none */
	struct pcp_tls_failure tls_failure; /* a failed handshake in libpq's words */
	double connect_ms;
	double total_ms;
	char etext[PCP_PROBE_ETEXT_MAX];
	size_t etext_len;
	void *user; /* the runner's per-probe data */
};

/* Starts probing addr. The SNI name may be NULL. Never completes synchronously: even an
 * immediate failure is reported through the loop. */
void pcp_probe_start(struct pcp_probe *p, const struct pcp_probe_env *env,
                     const struct sockaddr *addr, socklen_t addrlen, const char *sni);

/* Ends a probe whose deadline passed, seconds after it started, with status timeout (or,
 * while it waits for an E reply's text, with that text); reports through the done callback
 * now.
 * The owner keeps the deadlines: all probes share one timeout, so a list in start order and
 * one timer cost O(1) per probe where a timer each would cost O(log n). */
void pcp_probe_expire(struct pcp_probe *p, double seconds);

/* Ends a probe in flight with status cancelled; reports through the done callback now. */
void pcp_probe_cancel(struct pcp_probe *p);

/* Copies what a finished probe learnt about the negotiation into its record: how it asked
 * for TLS, the ALPN the server chose, whether the server accepts direct TLS, and a failed
 * handshake in libpq's words. */
void pcp_probe_note(const struct pcp_probe *p, struct pcp_result *res);

/* Releases what a finished probe still holds (chain not taken). */
void pcp_probe_cleanup(struct pcp_probe *p);

#endif
