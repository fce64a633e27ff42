/* The per-address state machine. One driver runs the current state's step until a step
 * needs I/O; the wanted direction is mapped onto the single embedded ev_io. */
#include "probe.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "pgwire.h"
#include "tls.h"

enum step {
	STEP_NEXT, /* state changed: run the next step now */
	STEP_WANT_READ,
	STEP_WANT_WRITE,
	STEP_FINISHED, /* status and err are final */
};

/* How long to wait for the rest of an E reply's text once the 'E' arrived. */
#define ETEXT_WAIT 0.5

const char *pcp_probe_state_name(enum pcp_probe_state state)
{
	static const char *const names[] = {
	        "CONNECTING",    "SEND_SSLREQ", "READ_REPLY", "READ_ERROR_TEXT",
	        "TLS_HANDSHAKE", "CLOSING",     "DONE"};
	return state <= PCP_PROBE_DONE ? names[state] : "?";
}

static void set_state(struct pcp_probe *p, enum pcp_probe_state next)
{
	if (p->env->trace)
		pcp_log_warn("probe %p: %s -> %s", (void *)p, pcp_probe_state_name(p->state),
		             pcp_probe_state_name(next));
	p->state = next;
}

static double elapsed_ms(const struct pcp_probe *p)
{
	return (ev_now(p->env->loop) - p->started) * 1000.0;
}

static double remaining(const struct pcp_probe *p)
{
	double left = p->env->timeout - (ev_now(p->env->loop) - p->started);

	return left > 0 ? left : 0;
}

static enum step fail(struct pcp_probe *p, enum pcp_status status, const char *msg,
                      const char *detail)
{
	p->status = status;
	if (detail)
		pcp_error_set(&p->err, PCP_ERR_TARGET, "%s: %s", msg, detail);
	else
		pcp_error_set(&p->err, PCP_ERR_TARGET, "%s", msg);
	return STEP_FINISHED;
}

/* The SSL object exists only once TLS is due: after an 'S', or at once when direct. */
static enum step start_tls(struct pcp_probe *p)
{
	bool direct = p->env->negotiation == PCP_NEGOTIATION_DIRECT;

	p->ssl = pcp_tls_new(p->env->ssl_ctx, p->fd, p->sni, direct || p->env->alpn, &p->err);
	if (!p->ssl) {
		p->status = PCP_STATUS_TLS_FAILED;
		return STEP_FINISHED;
	}
	set_state(p, PCP_PROBE_TLS_HANDSHAKE);
	return STEP_NEXT;
}

static enum step connected(struct pcp_probe *p)
{
	if (p->env->negotiation == PCP_NEGOTIATION_DIRECT)
		return start_tls(p);
	set_state(p, PCP_PROBE_SEND_SSLREQ);
	return STEP_NEXT;
}

static enum step step_connecting(struct pcp_probe *p)
{
	int e = pcp_net_connect_result(p->fd);

	if (e == EINPROGRESS || e == EALREADY)
		return STEP_WANT_WRITE;
	if (e)
		return fail(p, pcp_net_connect_status(e), "could not connect", strerror(e));
	p->connect_ms = elapsed_ms(p);
	return connected(p);
}

static enum step step_send(struct pcp_probe *p)
{
	while (p->sent < PCP_SSLREQUEST_LEN) {
		ssize_t n = send(p->fd, pcp_sslrequest + p->sent, PCP_SSLREQUEST_LEN - p->sent,
		                 MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return STEP_WANT_WRITE;
			if (errno == EINTR)
				continue;
			return fail(p, PCP_STATUS_PROTOCOL_ERROR, "could not send SSLRequest",
			            strerror(errno));
		}
		p->sent += (size_t)n;
	}
	set_state(p, PCP_PROBE_READ_REPLY);
	return STEP_NEXT;
}

/* Exactly one byte: what follows it belongs to TLS, or is injected plaintext. */
static enum step step_reply(struct pcp_probe *p)
{
	unsigned char c, extra;
	ssize_t n = recv(p->fd, &c, 1, 0);
	char msg[96];

	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return STEP_WANT_READ;
		return fail(p, PCP_STATUS_PROTOCOL_ERROR,
		            "connection lost before the SSLRequest reply", strerror(errno));
	}
	if (n == 0)
		return fail(p, PCP_STATUS_PROTOCOL_ERROR,
		            "server closed the connection before answering SSLRequest", NULL);
	switch (pcp_pgwire_classify(c)) {
	case PCP_REPLY_SSL:
		/* libpq (CVE-2021-23222) rejects bytes that arrived together with the 'S'. */
		if (recv(p->fd, &extra, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
			return fail(p, PCP_STATUS_PROTOCOL_ERROR,
			            "received unencrypted data after SSL response", NULL);
		return start_tls(p);
	case PCP_REPLY_NO_SSL:
		return fail(p, PCP_STATUS_NO_SSL, "server does not support SSL", NULL);
	case PCP_REPLY_ERROR:
		/* Shorten the deadline: the text is a courtesy, the verdict is already known. */
		ev_timer_stop(p->env->loop, &p->timer);
		ev_timer_set(&p->timer, remaining(p) < ETEXT_WAIT ? remaining(p) : ETEXT_WAIT, 0.);
		ev_timer_start(p->env->loop, &p->timer);
		set_state(p, PCP_PROBE_READ_ERROR_TEXT);
		return STEP_NEXT;
	case PCP_REPLY_INVALID:
		break;
	}
	pcp_pgwire_invalid_reply_msg(c, msg, sizeof msg);
	return fail(p, PCP_STATUS_PROTOCOL_ERROR, msg, NULL);
}

static enum step finish_error_text(struct pcp_probe *p)
{
	char text[PCP_PGWIRE_ERROR_TEXT_MAX + 1];

	/* libpq 15.9+ (CVE-2024-10977) shows none of this text: it is unauthenticated. We keep
	 * it for diagnosis, labelled as such, after libpq's own words. */
	pcp_pgwire_error_text((const unsigned char *)p->etext, p->etext_len, text, sizeof text);
	p->status = PCP_STATUS_PROTOCOL_ERROR;
	if (*text)
		pcp_error_set(&p->err, PCP_ERR_TARGET,
		              "server sent an error response during SSL exchange (unauthenticated "
		              "text: \"%s\")",
		              text);
	else
		pcp_error_set(&p->err, PCP_ERR_TARGET,
		              "server sent an error response during SSL exchange");
	return STEP_FINISHED;
}

/* Bounded read of whatever text follows the 'E' (possibly protocol 2: never parsed). */
static enum step step_error_text(struct pcp_probe *p)
{
	while (p->etext_len < sizeof p->etext) {
		ssize_t n = recv(p->fd, p->etext + p->etext_len, sizeof p->etext - p->etext_len, 0);

		if (n > 0) {
			p->etext_len += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return STEP_WANT_READ;
		break; /* EOF or reset: the text is complete */
	}
	return finish_error_text(p);
}

/* A server before PostgreSQL 17 reads the ClientHello as a startup packet of absurd length
 * and closes; a pooler may answer in its own protocol: either way, say so first. */
static void direct_refused(struct pcp_probe *p)
{
	char inner[sizeof p->err.msg];

	snprintf(inner, sizeof inner, "%s", p->err.msg);
	pcp_error_set(&p->err, PCP_ERR_TARGET,
	              "server did not accept direct TLS (a server before PostgreSQL 17, a pooler, "
	              "or no TLS at all): %s",
	              inner);
}

static enum step step_handshake(struct pcp_probe *p)
{
	switch (pcp_tls_handshake(p->ssl, &p->err, &p->tls_failure)) {
	case PCP_TLS_WANT_READ:
		return STEP_WANT_READ;
	case PCP_TLS_WANT_WRITE:
		return STEP_WANT_WRITE;
	case PCP_TLS_FAILED:
		p->status = PCP_STATUS_TLS_FAILED;
		if (p->env->negotiation == PCP_NEGOTIATION_DIRECT)
			direct_refused(p);
		return STEP_FINISHED;
	case PCP_TLS_DONE:
		break;
	}
	pcp_tls_alpn(p->ssl, p->alpn, sizeof p->alpn);
	if (pcp_tls_capture(p->ssl, &p->chain, p->tls_version, sizeof p->tls_version, p->tls_cipher,
	                    sizeof p->tls_cipher) < 0) {
		/* Not the server's doing: the engine ends the run on a system error. */
		p->status = PCP_STATUS_TLS_FAILED;
		pcp_error_set(&p->err, PCP_ERR_SYSTEM, "keeping the served chain: out of memory");
		return STEP_FINISHED;
	}
	/* libpq fails the same handshake: with no certificate there is nothing to verify. */
	if (pcp_chain_len(p->chain) == 0) {
		pcp_chain_free(p->chain);
		p->chain = NULL;
		return fail(p, PCP_STATUS_TLS_FAILED, "server sent no certificate", NULL);
	}
	p->status = PCP_STATUS_OK;
	set_state(p, PCP_PROBE_CLOSING);
	return STEP_NEXT;
}

static enum step step_closing(struct pcp_probe *p)
{
	switch (pcp_tls_shutdown(p->ssl)) {
	case PCP_TLS_WANT_WRITE:
		return STEP_WANT_WRITE;
	default:
		/* close_notify sent (or the peer is gone): the outcome is already known. */
		return STEP_FINISHED;
	}
}

static enum step run_step(struct pcp_probe *p)
{
	switch (p->state) {
	case PCP_PROBE_CONNECTING:
		return step_connecting(p);
	case PCP_PROBE_SEND_SSLREQ:
		return step_send(p);
	case PCP_PROBE_READ_REPLY:
		return step_reply(p);
	case PCP_PROBE_READ_ERROR_TEXT:
		return step_error_text(p);
	case PCP_PROBE_TLS_HANDSHAKE:
		return step_handshake(p);
	case PCP_PROBE_CLOSING:
		return step_closing(p);
	case PCP_PROBE_DONE:
		break;
	}
	return STEP_FINISHED;
}

static void release_io(struct pcp_probe *p)
{
	ev_io_stop(p->env->loop, &p->io);
	ev_timer_stop(p->env->loop, &p->timer);
	p->io_events = 0;
	if (p->ssl) {
		SSL_free(p->ssl);
		p->ssl = NULL;
	}
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
}

static void finish(struct pcp_probe *p)
{
	release_io(p);
	p->total_ms = elapsed_ms(p);
	set_state(p, PCP_PROBE_DONE);
	p->env->done(p, p->env->done_arg);
}

static void want(struct pcp_probe *p, int events)
{
	if (p->io_events == events)
		return;
	ev_io_stop(p->env->loop, &p->io);
	ev_io_set(&p->io, p->fd, events);
	ev_io_start(p->env->loop, &p->io);
	p->io_events = events;
}

static void drive(struct pcp_probe *p)
{
	for (;;) {
		switch (run_step(p)) {
		case STEP_NEXT:
			continue;
		case STEP_WANT_READ:
			want(p, EV_READ);
			return;
		case STEP_WANT_WRITE:
			want(p, EV_WRITE);
			return;
		case STEP_FINISHED:
			finish(p);
			return;
		}
	}
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	drive((struct pcp_probe *)w);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pcp_probe *p = (struct pcp_probe *)((char *)w - offsetof(struct pcp_probe, timer));

	(void)loop;
	(void)revents;
	if (p->failed_at_start) {
		finish(p);
		return;
	}
	/* The only other use of the probe's own timer: the wait for an E reply's text. */
	finish_error_text(p);
	finish(p);
}

void pcp_probe_expire(struct pcp_probe *p, double seconds)
{
	if (p->state == PCP_PROBE_DONE)
		return;
	if (p->state == PCP_PROBE_READ_ERROR_TEXT) {
		finish_error_text(p);
		finish(p);
		return;
	}
	p->status = PCP_STATUS_TIMEOUT;
	pcp_error_set(&p->err, PCP_ERR_TARGET, "no answer within %g s (while %s)",
	              round(seconds * 1000) / 1000, pcp_probe_state_name(p->state));
	finish(p);
}

void pcp_probe_start(struct pcp_probe *p, const struct pcp_probe_env *env,
                     const struct sockaddr *addr, socklen_t addrlen, const char *sni)
{
	void *user = p->user;

	memset(p, 0, sizeof *p);
	p->user = user;
	p->env = env;
	p->fd = -1;
	p->sni = sni;
	p->connect_ms = -1;
	p->state = PCP_PROBE_CONNECTING;
	p->started = ev_now(env->loop);
	ev_init(&p->io, on_io);
	ev_timer_init(&p->timer, on_timer, 0., 0.);

	switch (pcp_net_connect(addr, addrlen, &p->fd, &p->status, &p->err)) {
	case PCP_NET_FAILED:
		/* Reported through the loop, never from inside the caller's stack. */
		p->failed_at_start = true;
		ev_timer_start(env->loop, &p->timer);
		break;
	case PCP_NET_CONNECTED:
		p->connect_ms = elapsed_ms(p);
		if (connected(p) == STEP_FINISHED) {
			p->failed_at_start = true;
			ev_timer_start(env->loop, &p->timer);
			break;
		}
		want(p, EV_WRITE);
		break;
	case PCP_NET_IN_PROGRESS:
		want(p, EV_WRITE);
		break;
	}
}

void pcp_probe_cancel(struct pcp_probe *p)
{
	if (p->state == PCP_PROBE_DONE)
		return;
	p->status = PCP_STATUS_CANCELLED;
	pcp_error_set(&p->err, PCP_ERR_TARGET, "interrupted (while %s)",
	              pcp_probe_state_name(p->state));
	finish(p);
}

void pcp_probe_note(const struct pcp_probe *p, struct pcp_result *res)
{
	bool reached = p->status == PCP_STATUS_OK || p->status == PCP_STATUS_TLS_FAILED ||
	               p->status == PCP_STATUS_PROTOCOL_ERROR || p->status == PCP_STATUS_NO_SSL;

	res->negotiation = p->env->negotiation;
	snprintf(res->alpn, sizeof res->alpn, "%s", p->alpn);
	if (p->status == PCP_STATUS_TLS_FAILED)
		snprintf(res->tls_error_libpq, sizeof res->tls_error_libpq, "%s",
		         p->tls_failure.libpq);
	res->tls_eof = p->status == PCP_STATUS_TLS_FAILED && p->tls_failure.eof;
	res->direct_tls = PCP_DIRECT_UNKNOWN;
	if (p->env->negotiation == PCP_NEGOTIATION_DIRECT && reached) {
		res->direct_tls =
		        p->status == PCP_STATUS_OK ? PCP_DIRECT_ACCEPTED : PCP_DIRECT_REFUSED;
		res->direct_basis = PCP_DIRECT_BY_HANDSHAKE;
	} else if (p->status == PCP_STATUS_NO_SSL) {
		res->direct_tls = PCP_DIRECT_REFUSED;
		res->direct_basis = PCP_DIRECT_BY_NO_SSL;
	} else if (p->status == PCP_STATUS_OK && p->env->alpn) {
		/* PostgreSQL 17+ select "postgresql" on both paths; older servers ignore ALPN. */
		res->direct_tls = strcmp(p->alpn, PCP_ALPN_NAME) == 0 ? PCP_DIRECT_ACCEPTED
		                                                      : PCP_DIRECT_REFUSED;
		res->direct_basis = PCP_DIRECT_BY_ALPN;
	}
}

void pcp_probe_cleanup(struct pcp_probe *p)
{
	pcp_chain_free(p->chain);
	p->chain = NULL;
}
