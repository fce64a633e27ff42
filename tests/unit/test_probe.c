/* Unit tests for probe: the state machine against a scripted server on a loopback socket
 * in the same loop. Each script is one reply to the SSLRequest (N, E with text, an unknown
 * byte, S with plaintext after it, silence, EOF) or a real TLS handshake; the probe's
 * status, error, captured chain, the bytes it sent, and that its done callback never runs
 * inside pcp_probe_start are asserted. Deadlines are driven by hand (pcp_probe_expire),
 * never by the clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pgwire.h"
#include "probe.h"
#include "testpki.h"
#include "tls.h"

enum script {
	SAY_N,
	SAY_E,
	SAY_X,
	SAY_S_EXTRA,
	SAY_NOTHING_CLOSE,
	SILENT,
	TLS_OK,
};

struct server {
	int lfd, cfd;
	struct sockaddr_in addr;
	enum script script;
	ev_io accept_io, io;
	unsigned char got[16];
	size_t n_got;
	SSL_CTX *ctx;
	SSL *ssl;
	bool handshaken;
};

struct env {
	struct ev_loop *loop;
	struct pcp_probe_env penv;
	struct server srv;
	struct pcp_probe probe;
	int done_calls;
	bool in_start; /* pcp_probe_start is on the stack */
	X509 *root, *leaf;
	EVP_PKEY *kroot, *kleaf;
};

static void on_done(struct pcp_probe *p, void *arg)
{
	struct env *e = arg;

	(void)p;
	assert_false(e->in_start);
	e->done_calls++;
	ev_break(e->loop, EVBREAK_ALL);
}

static void srv_close(struct server *s, struct ev_loop *loop)
{
	ev_io_stop(loop, &s->io);
	if (s->ssl) {
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->cfd >= 0) {
		close(s->cfd);
		s->cfd = -1;
	}
}

static void srv_tls_step(struct env *e)
{
	struct server *s = &e->srv;
	int rc = SSL_accept(s->ssl);

	if (rc == 1) {
		s->handshaken = true;
		return;
	}
	switch (SSL_get_error(s->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return;
	default:
		fail_msg("server handshake failed");
	}
}

static void srv_reply(struct env *e)
{
	struct server *s = &e->srv;
	static const char etext[] = "EFATAL:  sorry, too many clients already";

	switch (s->script) {
	case SAY_N:
		assert_int_equal(send(s->cfd, "N", 1, 0), 1);
		break;
	case SAY_E:
		assert_int_equal(send(s->cfd, etext, sizeof etext, 0), (ssize_t)sizeof etext);
		srv_close(s, e->loop);
		break;
	case SAY_X:
		assert_int_equal(send(s->cfd, "X", 1, 0), 1);
		break;
	case SAY_S_EXTRA:
		assert_int_equal(send(s->cfd, "Sx", 2, 0), 2);
		break;
	case SAY_NOTHING_CLOSE:
		srv_close(s, e->loop);
		break;
	case SILENT:
		break;
	case TLS_OK:
		assert_int_equal(send(s->cfd, "S", 1, 0), 1);
		s->ssl = SSL_new(s->ctx);
		assert_non_null(s->ssl);
		SSL_set_fd(s->ssl, s->cfd);
		break;
	}
}

static void on_srv_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct env *e = w->data;
	struct server *s = &e->srv;

	(void)loop;
	(void)revents;
	if (s->ssl) {
		if (!s->handshaken)
			srv_tls_step(e);
		else {
			char buf[256];

			/* the probe's close_notify, then EOF */
			if (SSL_read(s->ssl, buf, sizeof buf) <= 0 &&
			    SSL_get_error(s->ssl, -1) != SSL_ERROR_WANT_READ)
				srv_close(s, e->loop);
		}
		return;
	}
	if (s->n_got < PCP_SSLREQUEST_LEN) {
		ssize_t n = recv(s->cfd, s->got + s->n_got, PCP_SSLREQUEST_LEN - s->n_got, 0);

		if (n <= 0)
			return;
		s->n_got += (size_t)n;
		if (s->n_got == PCP_SSLREQUEST_LEN)
			srv_reply(e);
	}
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct env *e = w->data;
	struct server *s = &e->srv;

	(void)revents;
	s->cfd = accept(s->lfd, NULL, NULL);
	assert_true(s->cfd >= 0);
	assert_int_equal(fcntl(s->cfd, F_SETFL, O_NONBLOCK), 0);
	ev_io_stop(loop, w);
	ev_io_init(&s->io, on_srv_io, s->cfd, EV_READ);
	s->io.data = e;
	ev_io_start(loop, &s->io);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof *e);
	struct pcp_error err = {0};
	socklen_t len = sizeof e->srv.addr;
	static const struct pcp_testpki_bytes name[] = {{"db.example.com", 0}};
	struct pcp_testpki_spec root = {.cn = "Probe Test Root",
	                                .not_before = time(NULL) - 3600,
	                                .not_after = time(NULL) + 86400,
	                                .bc = PCP_TESTPKI_BC_CA,
	                                .key_usage = PCP_TESTPKI_KU_KEY_CERT_SIGN};
	struct pcp_testpki_spec leaf = {.cn = "db.example.com",
	                                .serial = 2,
	                                .not_before = time(NULL) - 3600,
	                                .not_after = time(NULL) + 86400,
	                                .eku = PCP_TESTPKI_EKU_SERVER,
	                                .dns = name,
	                                .n_dns = 1};

	assert_non_null(e);
	e->loop = ev_default_loop(0);
	e->penv = (struct pcp_probe_env){
	        .loop = e->loop, .timeout = 3600, .done = on_done, .done_arg = e};
	e->penv.ssl_ctx = pcp_tls_ctx_new(&err);
	assert_non_null(e->penv.ssl_ctx);
	e->kroot = pcp_testpki_key(PCP_TESTPKI_EC_P256, 0);
	e->kleaf = pcp_testpki_key(PCP_TESTPKI_EC_P256, 0);
	e->root = pcp_testpki_cert(&root, e->kroot, NULL, NULL);
	e->leaf = pcp_testpki_cert(&leaf, e->kleaf, e->root, e->kroot);
	assert_non_null(e->leaf);
	e->srv.ctx = SSL_CTX_new(TLS_server_method());
	assert_int_equal(SSL_CTX_use_certificate(e->srv.ctx, e->leaf), 1);
	assert_int_equal(SSL_CTX_add1_chain_cert(e->srv.ctx, e->root), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(e->srv.ctx, e->kleaf), 1);
	e->srv.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	e->srv.addr.sin_family = AF_INET;
	e->srv.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(e->srv.lfd, (struct sockaddr *)&e->srv.addr, sizeof e->srv.addr), 0);
	assert_int_equal(listen(e->srv.lfd, 8), 0);
	assert_int_equal(getsockname(e->srv.lfd, (struct sockaddr *)&e->srv.addr, &len), 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	close(e->srv.lfd);
	SSL_CTX_free(e->srv.ctx);
	SSL_CTX_free(e->penv.ssl_ctx);
	X509_free(e->root);
	X509_free(e->leaf);
	EVP_PKEY_free(e->kroot);
	EVP_PKEY_free(e->kleaf);
	free(e);
	return 0;
}

/* Starts a probe against the scripted server and runs the loop until it is done or, with
 * expire set, until the server has the SSLRequest (then ends it by hand). */
static void run(struct env *e, enum script script, bool expire)
{
	struct server *s = &e->srv;

	s->script = script;
	s->cfd = -1;
	s->n_got = 0;
	s->handshaken = false;
	e->done_calls = 0;
	ev_io_init(&s->accept_io, on_accept, s->lfd, EV_READ);
	s->accept_io.data = e;
	ev_io_start(e->loop, &s->accept_io);
	e->in_start = true;
	pcp_probe_start(&e->probe, &e->penv, (struct sockaddr *)&s->addr, sizeof s->addr,
	                "db.example.com");
	e->in_start = false;
	assert_int_equal(e->done_calls, 0);
	if (expire) {
		while (s->n_got < PCP_SSLREQUEST_LEN)
			ev_run(e->loop, EVRUN_ONCE);
		assert_int_equal(e->probe.state, PCP_PROBE_READ_REPLY);
		pcp_probe_expire(&e->probe, 5);
	} else {
		ev_run(e->loop, 0);
	}
	assert_int_equal(e->done_calls, 1);
	assert_int_equal(e->probe.state, PCP_PROBE_DONE);
	assert_true(e->probe.fd < 0);
	if (s->n_got)
		assert_memory_equal(s->got, pcp_sslrequest, PCP_SSLREQUEST_LEN);
	srv_close(s, e->loop);
	ev_io_stop(e->loop, &s->accept_io);
}

static void want(struct env *e, enum pcp_status status, const char *words)
{
	if (e->probe.status != status)
		fail_msg("status %d, want %d (%s)", (int)e->probe.status, (int)status,
		         e->probe.err.msg);
	if (words && !strstr(e->probe.err.msg, words))
		fail_msg("error \"%s\", want one with \"%s\"", e->probe.err.msg, words);
	pcp_probe_cleanup(&e->probe);
}

static void test_replies(void **state)
{
	struct env *e = *state;

	run(e, SAY_N, false);
	want(e, PCP_STATUS_NO_SSL, "server does not support SSL");
	run(e, SAY_E, false);
	want(e, PCP_STATUS_PROTOCOL_ERROR,
	     "error response during SSL exchange (unauthenticated text: \"FATAL: sorry, too many "
	     "clients already\")"); /* runs of blanks shown as one */
	run(e, SAY_X, false);
	want(e, PCP_STATUS_PROTOCOL_ERROR, "invalid response to SSL negotiation");
	run(e, SAY_S_EXTRA, false);
	want(e, PCP_STATUS_PROTOCOL_ERROR, "received unencrypted data after SSL response");
	run(e, SAY_NOTHING_CLOSE, false);
	want(e, PCP_STATUS_PROTOCOL_ERROR, "closed the connection before answering SSLRequest");
}

static void test_tls_capture(void **state)
{
	struct env *e = *state;

	run(e, TLS_OK, false);
	assert_int_equal(e->probe.status, PCP_STATUS_OK);
	assert_non_null(e->probe.chain);
	assert_int_equal(pcp_chain_len(e->probe.chain), 2);
	assert_int_equal(X509_cmp(pcp_chain_get0(e->probe.chain, 0), e->leaf), 0);
	assert_string_equal(e->probe.tls_version, "TLSv1.3");
	assert_true(e->probe.connect_ms >= 0);
	pcp_probe_cleanup(&e->probe);
	assert_null(e->probe.chain);
}

static void test_deadline_and_cancel(void **state)
{
	struct env *e = *state;

	run(e, SILENT, true);
	want(e, PCP_STATUS_TIMEOUT, "no answer within 5 s (while READ_REPLY)");
	/* cancelling a finished probe changes nothing */
	pcp_probe_cancel(&e->probe);
	assert_int_equal(e->done_calls, 1);
	assert_int_equal(e->probe.status, PCP_STATUS_TIMEOUT);
}

/* A port nobody listens on: refused, reported from the loop, never from inside start. */
static void test_refused(void **state)
{
	struct env *e = *state;
	struct sockaddr_in closed = e->srv.addr;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	socklen_t len = sizeof closed;

	closed.sin_port = 0;
	assert_int_equal(bind(fd, (struct sockaddr *)&closed, sizeof closed), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&closed, &len), 0);
	/* Bound but never listening, and kept bound until the probe is done: no other process
	 * can start listening there meanwhile (as it could on a port bound and released). */
	e->done_calls = 0;
	e->in_start = true;
	pcp_probe_start(&e->probe, &e->penv, (struct sockaddr *)&closed, sizeof closed, NULL);
	e->in_start = false;
	assert_int_equal(e->done_calls, 0);
	ev_run(e->loop, 0);
	close(fd);
	assert_int_equal(e->done_calls, 1);
	want(e, PCP_STATUS_REFUSED, "could not connect");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_replies),
	        cmocka_unit_test(test_tls_capture),
	        cmocka_unit_test(test_deadline_and_cancel),
	        cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
