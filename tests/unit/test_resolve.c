/* Unit tests for resolve: a real libev loop and c-ares against a tiny authoritative DNS
 * responder living on the same loop (UDP on 127.0.0.1 and ::1), plus IP literals, pins,
 * the hosts file (CARES_HOSTS), cancellation, and the option syntax checks. Nothing here
 * depends on the machine's speed: a slow answer is held until the test releases it, waits
 * for callbacks end when they arrive, and only test_timeout measures time, loosely. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "resolve.h"

/* ---- the responder ---- */

struct zone_entry {
	const char *name;
	const char *a[4];
	const char *aaaa[4];
	int rcode; /* 0, 2 (SERVFAIL), 3 (NXDOMAIN) or 5 (REFUSED) */
	bool hold; /* answer only once fakedns_release() was called */
	bool drop; /* never answer */
};

static const struct zone_entry ZONE[] = {
        {"both.pcp.test", {"127.0.0.1"}, {"::1"}, 0, false, false},
        {"v4.pcp.test", {"127.0.0.3"}, {NULL}, 0, false, false},
        {"dup.pcp.test", {"127.0.0.5", "127.0.0.5", "127.0.0.6"}, {"::5", "::5"}, 0, false, false},
        {"nx.pcp.test", {NULL}, {NULL}, 3, false, false},
        {"fail.pcp.test", {NULL}, {NULL}, 2, false, false},
        {"refused.pcp.test", {NULL}, {NULL}, 5, false, false},
        {"slow.pcp.test", {"127.0.0.7"}, {NULL}, 0, true, false},
        {"fast.pcp.test", {"127.0.0.8"}, {NULL}, 0, false, false},
        {"silent.pcp.test", {NULL}, {NULL}, 0, false, true},
        {"pinned.pcp.test", {"127.0.0.9"}, {NULL}, 0, false, false},
};
#define NZONE (sizeof ZONE / sizeof ZONE[0])

/* An answer held back until fakedns_release(). */
struct held {
	int fd;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	size_t len;
	unsigned char buf[512];
	struct held *next;
};

struct fakedns {
	struct ev_loop *loop;
	int fd4, fd6;
	ev_io io4, io6;
	uint16_t port;
	unsigned queries[NZONE + 1]; /* per zone entry; the last one counts unknown names */
	struct held *held;
	bool released; /* held names are answered at once from now on */
};

/* Reads the question name into lowercase dotted text; returns the offset after QCLASS. */
static size_t parse_question(const unsigned char *q, size_t n, char *name, size_t cap,
                             unsigned *qtype)
{
	size_t off = 12, out = 0;

	if (n < 12 || q[4] != 0 || q[5] != 1)
		return 0;
	while (off < n && q[off]) {
		size_t lab = q[off++];

		if (lab > 63 || off + lab > n || out + lab + 2 > cap)
			return 0;
		if (out)
			name[out++] = '.';
		for (size_t i = 0; i < lab; i++) {
			unsigned char c = q[off + i];
			name[out++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		off += lab;
	}
	name[out] = '\0';
	if (off + 5 > n)
		return 0;
	*qtype = (unsigned)q[off + 1] << 8 | q[off + 2];
	return off + 5;
}

static size_t put_answer(unsigned char *out, size_t len, size_t cap, unsigned type,
                         const char *text)
{
	unsigned char addr[16];
	size_t alen = type == 1 ? 4 : 16;

	if (inet_pton(type == 1 ? AF_INET : AF_INET6, text, addr) != 1 || len + 12 + alen > cap)
		return len;
	out[len++] = 0xC0; /* pointer to the question name */
	out[len++] = 12;
	out[len++] = 0;
	out[len++] = (unsigned char)type;
	out[len++] = 0;
	out[len++] = 1; /* IN */
	out[len++] = 0;
	out[len++] = 0;
	out[len++] = 0;
	out[len++] = 60; /* TTL */
	out[len++] = 0;
	out[len++] = (unsigned char)alen;
	memcpy(out + len, addr, alen);
	return len + alen;
}

static void answer(struct fakedns *d, int fd, const unsigned char *q, size_t n,
                   const struct sockaddr_storage *peer, socklen_t peerlen)
{
	unsigned char out[512];
	char name[256];
	unsigned qtype = 0, ancount = 0;
	size_t qend = parse_question(q, n, name, sizeof name, &qtype), len;
	const struct zone_entry *z = NULL;
	size_t zi;
	int rcode = 3;

	if (!qend || qend > sizeof out)
		return;
	for (zi = 0; zi < NZONE; zi++)
		if (!strcmp(ZONE[zi].name, name))
			break;
	d->queries[zi]++;
	if (zi < NZONE) {
		z = &ZONE[zi];
		rcode = z->rcode;
		if (z->drop)
			return;
	}
	memcpy(out, q, qend);
	/* QR, opcode 0, AA, RD copied, RA; one question, no authority or additional. */
	out[2] = (unsigned char)(0x84 | (q[2] & 0x01));
	out[3] = (unsigned char)(0x80 | rcode);
	memset(out + 6, 0, 6);
	len = qend;
	if (z && rcode == 0) {
		const char *const *list = qtype == 1 ? z->a : qtype == 28 ? z->aaaa : NULL;

		for (size_t i = 0; list && i < 4 && list[i]; i++) {
			len = put_answer(out, len, sizeof out, qtype, list[i]);
			ancount++;
		}
	}
	out[7] = (unsigned char)ancount;
	if (z && z->hold && !d->released) {
		struct held *x = calloc(1, sizeof *x);

		assert_non_null(x);
		memcpy(x->buf, out, len);
		x->len = len;
		x->fd = fd;
		x->peer = *peer;
		x->peerlen = peerlen;
		x->next = d->held;
		d->held = x;
		return;
	}
	(void)!sendto(fd, out, len, 0, (const struct sockaddr *)peer, peerlen);
}

static void on_query(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fakedns *d = w->data;
	unsigned char q[512];

	(void)loop;
	(void)revents;
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof peer;
		ssize_t n = recvfrom(w->fd, q, sizeof q, 0, (struct sockaddr *)&peer, &plen);

		if (n < 0)
			return;
		answer(d, w->fd, q, (size_t)n, &peer, plen);
	}
}

static void fakedns_start(struct fakedns *d, struct ev_loop *loop)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	socklen_t len = sizeof sin;

	memset(d, 0, sizeof *d);
	d->loop = loop;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d->fd4 = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(d->fd4 >= 0);
	assert_int_equal(bind(d->fd4, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(d->fd4, (struct sockaddr *)&sin, &len), 0);
	d->port = ntohs(sin.sin_port);
	ev_io_init(&d->io4, on_query, d->fd4, EV_READ);
	d->io4.data = d;
	ev_io_start(loop, &d->io4);
	/* The same port on ::1 when this machine has IPv6 loopback. */
	sin6.sin6_port = sin.sin_port;
	d->fd6 = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd6 >= 0 && bind(d->fd6, (struct sockaddr *)&sin6, sizeof sin6) != 0) {
		close(d->fd6);
		d->fd6 = -1;
	}
	if (d->fd6 >= 0) {
		ev_io_init(&d->io6, on_query, d->fd6, EV_READ);
		d->io6.data = d;
		ev_io_start(loop, &d->io6);
	}
}

static void fakedns_stop(struct fakedns *d)
{
	ev_io_stop(d->loop, &d->io4);
	close(d->fd4);
	if (d->fd6 >= 0) {
		ev_io_stop(d->loop, &d->io6);
		close(d->fd6);
	}
	while (d->held) {
		struct held *x = d->held;

		d->held = x->next;
		free(x);
	}
}

/* Sends the held answers, and answers held names at once from now on. */
static void fakedns_release(struct fakedns *d)
{
	d->released = true;
	while (d->held) {
		struct held *x = d->held;

		d->held = x->next;
		(void)!sendto(x->fd, x->buf, x->len, 0, (struct sockaddr *)&x->peer, x->peerlen);
		free(x);
	}
}

static unsigned queries_for(const struct fakedns *d, const char *name)
{
	for (size_t i = 0; i < NZONE; i++)
		if (!strcmp(ZONE[i].name, name))
			return d->queries[i];
	return d->queries[NZONE];
}

static unsigned queries_total(const struct fakedns *d)
{
	unsigned n = 0;

	for (size_t i = 0; i <= NZONE; i++)
		n += d->queries[i];
	return n;
}

/* ---- test harness: a loop, the responder, and recorded callbacks ---- */

#define MAX_CALLS 16

struct call {
	char tag[32];
	int calls;
	size_t n;
	struct sockaddr_storage addrs[8];
	char error[1100];
	int cancelled;
	double at; /* ev_time() when called */
};

struct env {
	struct ev_loop *loop;
	struct fakedns dns;
	struct pcp_resolver *r;
	struct call calls[MAX_CALLS];
	int ncalls;    /* distinct lookups started */
	int delivered; /* callbacks run */
	int want;      /* ev_break when delivered reaches this */
	int order[MAX_CALLS];
	double started;
	/* re-entrancy hooks */
	bool start_inside, free_inside, cancel_inside;
};

static struct env *g_env; /* the callback's view of the running test */

static void on_resolved(void *arg, const struct pcp_resolved *res)
{
	struct call *c = arg;
	struct env *e = g_env;

	c->calls++;
	c->at = ev_time();
	c->cancelled = res->cancelled;
	c->n = res->n;
	for (size_t i = 0; i < res->n && i < 8; i++)
		c->addrs[i] = res->addrs[i];
	if (res->n)
		assert_null(res->error);
	else
		assert_non_null(res->error);
	snprintf(c->error, sizeof c->error, "%s", res->error ? res->error : "");
	e->order[e->delivered++] = (int)(c - e->calls);
	if (e->want && e->delivered >= e->want)
		ev_break(e->loop, EVBREAK_ONE);
}

static void on_guard(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ONE);
}

/* How long a test waits for callbacks that should come at once: reached only when one is
 * missing, so that the test fails instead of hanging. */
#define WAIT_S 30.0
/* The timeout of resolvers whose lookups must be answered: no lookup comes near it. */
#define LOOKUP_TIMEOUT 60.0

/* Runs the loop until want callbacks have run in all, or limit seconds pass. */
static void run_loop(struct env *e, int want, double limit)
{
	ev_timer guard;

	e->want = want;
	ev_timer_init(&guard, on_guard, limit, 0.);
	ev_timer_start(e->loop, &guard);
	if (e->delivered < want)
		ev_run(e->loop, 0);
	ev_timer_stop(e->loop, &guard);
}

/* Runs the loop until want callbacks have run in all. */
static void run_until(struct env *e, int want)
{
	run_loop(e, want, WAIT_S);
}

/* Runs the loop for secs, to see that nothing more happens (on a slow machine a shorter
 * look can miss a late callback, never report one that did not happen). */
static void run_for(struct env *e, double secs)
{
	run_loop(e, 1 << 30, secs);
}

static struct pcp_resolver *make_resolver(struct env *e, int family, double timeout)
{
	char server[32];
	struct pcp_resolve_opts o = {.family = family, .dns_server = server, .timeout = timeout};
	struct pcp_error err = {0};
	struct pcp_resolver *r;

	snprintf(server, sizeof server, "127.0.0.1:%u", e->dns.port);
	r = pcp_resolver_new(e->loop, &o, &err);
	if (!r)
		fail_msg("pcp_resolver_new: %s", err.msg);
	return r;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof *e);

	if (!e)
		return -1;
	e->loop = ev_loop_new(EVFLAG_AUTO);
	fakedns_start(&e->dns, e->loop);
	e->started = ev_time();
	g_env = e;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	pcp_resolver_free(e->r);
	fakedns_stop(&e->dns);
	ev_loop_destroy(e->loop);
	free(e);
	g_env = NULL;
	unsetenv("CARES_HOSTS");
	return 0;
}

/* Starts a lookup, asserting its callback has not run when start returns. */
static struct call *start(struct env *e, const char *name, uint16_t port, const char *tag)
{
	struct call *c = &e->calls[e->ncalls++];
	struct pcp_error err = {0};

	snprintf(c->tag, sizeof c->tag, "%s", tag);
	if (pcp_resolve_start(e->r, name, port, on_resolved, c, &err) != 0)
		fail_msg("pcp_resolve_start(%s): %s", name, err.msg);
	assert_int_equal(c->calls, 0);
	return c;
}

union addr {
	struct sockaddr_storage ss;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
};

static bool has_addr(const struct call *c, const char *text, uint16_t port)
{
	for (size_t i = 0; i < c->n; i++) {
		union addr a;
		unsigned char want[16];

		memcpy(&a, &c->addrs[i], sizeof a);
		if (a.ss.ss_family == AF_INET) {
			if (inet_pton(AF_INET, text, want) == 1 &&
			    !memcmp(want, &a.sin.sin_addr, 4) && ntohs(a.sin.sin_port) == port)
				return true;
		} else if (a.ss.ss_family == AF_INET6) {
			if (inet_pton(AF_INET6, text, want) == 1 &&
			    !memcmp(want, &a.sin6.sin6_addr, 16) && ntohs(a.sin6.sin6_port) == port)
				return true;
		}
	}
	return false;
}

static size_t count_family(const struct call *c, int family)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += c->addrs[i].ss_family == family;
	return n;
}

/* ---- tests ---- */

static void test_literals(void **state)
{
	struct env *e = *state;
	struct call *v4, *v6, *br, *zero, *zone, *badname;

	e->r = make_resolver(e, AF_UNSPEC, LOOKUP_TIMEOUT);
	v4 = start(e, "127.0.0.42", 5432, "v4");
	v6 = start(e, "::1", 6432, "v6");
	br = start(e, "[2001:db8::7]", 5433, "bracketed");
	zero = start(e, "", 5432, "empty");
	zone = start(e, "fe80::1%lo", 5432, "zone");
	badname = start(e, "no such..name", 5432, "bad name");
	assert_int_equal(pcp_resolver_pending(e->r), 6);
	run_until(e, 6);
	assert_int_equal(e->delivered, 6);
	assert_int_equal(zone->n, 1);
	assert_true(has_addr(zone, "fe80::1", 5432));
	assert_int_equal(badname->n, 0);
	assert_string_equal(badname->error, "could not translate host name \"no such..name\" to "
	                                    "address: Misformatted domain name");
	assert_int_equal(v4->calls, 1);
	assert_int_equal(v4->n, 1);
	assert_true(has_addr(v4, "127.0.0.42", 5432));
	assert_int_equal(v6->n, 1);
	assert_true(has_addr(v6, "::1", 6432));
	assert_int_equal(br->n, 1);
	assert_true(has_addr(br, "2001:db8::7", 5433));
	assert_int_equal(zero->n, 0);
	assert_non_null(strstr(zero->error, "could not translate host name \"\" to address: "));
	assert_int_equal(pcp_resolver_pending(e->r), 0);
	/* Literals never reach DNS, nor does a name c-ares cannot even encode. */
	assert_int_equal(queries_total(&e->dns), 0);
}

static void test_literal_family(void **state)
{
	struct env *e = *state;
	struct call *v6, *v4;

	e->r = make_resolver(e, AF_INET, LOOKUP_TIMEOUT);
	v6 = start(e, "::1", 5432, "v6 under -4");
	v4 = start(e, "127.0.0.1", 5432, "v4 under -4");
	run_until(e, 2);
	assert_int_equal(v6->n, 0);
	assert_string_equal(v6->error, "could not translate host name \"::1\" to address: "
	                               "Address family for hostname not supported");
	assert_int_equal(v4->n, 1);
	assert_int_equal(queries_total(&e->dns), 0);
}

static void test_pins(void **state)
{
	struct env *e = *state;
	struct pcp_error err = {0};
	struct call *p, *upper, *other_port, *v6pin;

	e->r = make_resolver(e, AF_UNSPEC, LOOKUP_TIMEOUT);
	assert_int_equal(
	        pcp_resolver_pin(e->r, "Pinned.PCP.test:5432:127.0.0.2,[::2],127.0.0.2", &err),
	        PCP_OK);
	assert_int_equal(pcp_resolver_pin(e->r, "[::1]:7000:127.0.0.11", &err), PCP_OK);
	assert_int_equal(pcp_resolver_pin(e->r, "bare6.pcp.test:6000:::6", &err), PCP_OK);
	p = start(e, "pinned.pcp.test", 5432, "pinned");
	upper = start(e, "PINNED.pcp.TEST", 5432, "case");
	other_port = start(e, "pinned.pcp.test", 5433, "other port");
	v6pin = start(e, "::1", 7000, "literal pinned");
	start(e, "bare6.pcp.test", 6000, "bare v6 pin");
	run_until(e, 5);
	assert_int_equal(e->delivered, 5);
	assert_int_equal(p->n, 2); /* the duplicate went */
	assert_true(has_addr(p, "127.0.0.2", 5432));
	assert_true(has_addr(p, "::2", 5432));
	assert_int_equal(upper->n, 2);
	/* Another port is not pinned: DNS answers, and was asked. */
	assert_int_equal(other_port->n, 1);
	assert_true(has_addr(other_port, "127.0.0.9", 5433));
	assert_true(queries_for(&e->dns, "pinned.pcp.test") >= 1);
	assert_int_equal(v6pin->n, 1);
	assert_true(has_addr(v6pin, "127.0.0.11", 7000));
	assert_true(has_addr(&e->calls[4], "::6", 6000));
	/* Only the unpinned port's lookup asked: A and AAAA, nothing for the pinned ones. */
	assert_int_equal(queries_total(&e->dns), queries_for(&e->dns, "pinned.pcp.test"));
	assert_true(queries_total(&e->dns) <= 4);
}

static void test_pins_family(void **state)
{
	struct env *e = *state;
	struct pcp_error err = {0};
	struct call *six, *none;

	e->r = make_resolver(e, AF_INET6, LOOKUP_TIMEOUT);
	assert_int_equal(pcp_resolver_pin(e->r, "a.pcp.test:5432:127.0.0.2,[::2]", &err), PCP_OK);
	assert_int_equal(pcp_resolver_pin(e->r, "b.pcp.test:5432:127.0.0.2", &err), PCP_OK);
	/* A later pin for the same host and port wins. */
	assert_int_equal(pcp_resolver_pin(e->r, "c.pcp.test:5432:127.0.0.2", &err), PCP_OK);
	assert_int_equal(pcp_resolver_pin(e->r, "c.pcp.test:5432:[::3]", &err), PCP_OK);
	six = start(e, "a.pcp.test", 5432, "a");
	none = start(e, "b.pcp.test", 5432, "b");
	start(e, "c.pcp.test", 5432, "c");
	run_until(e, 3);
	assert_int_equal(six->n, 1);
	assert_true(has_addr(six, "::2", 5432));
	assert_int_equal(none->n, 0);
	assert_non_null(strstr(none->error, "\"b.pcp.test\""));
	assert_int_equal(e->calls[2].n, 1);
	assert_true(has_addr(&e->calls[2], "::3", 5432));
	assert_int_equal(queries_total(&e->dns), 0);
}

static void test_hosts_file(void **state)
{
	struct env *e = *state;
	char path[] = "/tmp/pcp-hosts-XXXXXX";
	int fd = mkstemp(path);
	static const char hosts[] = "# test hosts file\n"
	                            "127.0.0.77 hosts-only.pcp.test alias.pcp.test\n"
	                            "::77 hosts-only.pcp.test\n"
	                            "127.0.0.77 hosts-only.pcp.test\n"
	                            "127.0.0.78 both.pcp.test\n";
	struct call *loc, *h, *alias, *shadow;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, hosts, sizeof hosts - 1), (ssize_t)(sizeof hosts - 1));
	close(fd);

	/* The system's hosts file (no CARES_HOSTS): localhost, without DNS. */
	e->r = make_resolver(e, AF_UNSPEC, LOOKUP_TIMEOUT);
	loc = start(e, "localhost", 5432, "localhost");
	run_until(e, 1);
	assert_int_equal(loc->calls, 1);
	assert_true(loc->n >= 1);
	assert_true(has_addr(loc, "127.0.0.1", 5432) || has_addr(loc, "::1", 5432));
	assert_int_equal(queries_total(&e->dns), 0);

	setenv("CARES_HOSTS", path, 1);
	h = start(e, "hosts-only.pcp.test", 5432, "hosts");
	alias = start(e, "ALIAS.pcp.test", 5433, "alias");
	/* The hosts file comes first even when DNS knows the name. */
	shadow = start(e, "both.pcp.test", 5432, "shadow");
	run_until(e, 4);
	unlink(path);
	assert_int_equal(h->n, 2);
	assert_true(has_addr(h, "127.0.0.77", 5432));
	assert_true(has_addr(h, "::77", 5432));
	assert_int_equal(alias->n, 1);
	assert_true(has_addr(alias, "127.0.0.77", 5433));
	assert_int_equal(shadow->n, 1);
	assert_true(has_addr(shadow, "127.0.0.78", 5432));
	assert_int_equal(queries_total(&e->dns), 0);
}

static void test_both_families(void **state)
{
	struct env *e = *state;
	struct call *both, *v4only;

	e->r = make_resolver(e, AF_UNSPEC, LOOKUP_TIMEOUT);
	both = start(e, "both.pcp.test", 5432, "both");
	v4only = start(e, "v4.pcp.test", 6432, "v4 only");
	run_until(e, 2);
	assert_int_equal(both->n, 2);
	assert_true(has_addr(both, "127.0.0.1", 5432));
	assert_true(has_addr(both, "::1", 5432));
	assert_int_equal(v4only->n, 1);
	assert_true(has_addr(v4only, "127.0.0.3", 6432));
	assert_true(queries_for(&e->dns, "both.pcp.test") >= 2); /* A and AAAA */
}

static void test_family_filter(void **state)
{
	struct env *e = *state;
	struct call *four, *six, *six_none;

	e->r = make_resolver(e, AF_INET, LOOKUP_TIMEOUT);
	four = start(e, "both.pcp.test", 5432, "-4");
	run_until(e, 1);
	assert_int_equal(four->n, 1);
	assert_int_equal(count_family(four, AF_INET), 1);
	pcp_resolver_free(e->r);

	e->r = make_resolver(e, AF_INET6, LOOKUP_TIMEOUT);
	six = start(e, "both.pcp.test", 5432, "-6");
	six_none = start(e, "v4.pcp.test", 5432, "-6 no AAAA");
	run_until(e, 3);
	assert_int_equal(six->n, 1);
	assert_int_equal(count_family(six, AF_INET6), 1);
	assert_true(has_addr(six, "::1", 5432));
	assert_int_equal(six_none->n, 0);
	assert_string_equal(six_none->error,
	                    "could not translate host name \"v4.pcp.test\" to address: DNS "
	                    "server returned answer with no data");
}

static void test_duplicates(void **state)
{
	struct env *e = *state;
	struct call *c;

	e->r = make_resolver(e, AF_UNSPEC, LOOKUP_TIMEOUT);
	c = start(e, "dup.pcp.test", 5432, "dup");
	run_until(e, 1);
	assert_int_equal(c->n, 3);
	assert_true(has_addr(c, "127.0.0.5", 5432));
	assert_true(has_addr(c, "127.0.0.6", 5432));
	assert_true(has_addr(c, "::5", 5432));
}

static void test_nxdomain_servfail(void **state)
{
	struct env *e = *state;
	struct call *nx, *sf, *unknown, *refused;

	e->r = make_resolver(e, AF_UNSPEC, LOOKUP_TIMEOUT);
	nx = start(e, "nx.pcp.test", 5432, "nx");
	sf = start(e, "fail.pcp.test", 5432, "servfail");
	unknown = start(e, "nowhere.pcp.test", 5432, "unknown");
	refused = start(e, "refused.pcp.test", 5432, "refused");
	run_until(e, 4);
	assert_int_equal(e->delivered, 4);
	assert_string_equal(refused->error, "could not translate host name \"refused.pcp.test\" to "
	                                    "address: DNS server refused query");
	assert_string_equal(nx->error, "could not translate host name \"nx.pcp.test\" to address: "
	                               "Domain name not found");
	assert_string_equal(sf->error, "could not translate host name \"fail.pcp.test\" to "
	                               "address: DNS server returned general failure");
	assert_non_null(strstr(unknown->error, "Domain name not found"));
	assert_int_equal(nx->cancelled, 0);
}

#define SILENT_TIMEOUT 2.0

static void test_timeout(void **state)
{
	struct env *e = *state;
	struct call *c;
	double t0;

	e->r = make_resolver(e, AF_UNSPEC, SILENT_TIMEOUT);
	t0 = ev_time();
	c = start(e, "silent.pcp.test", 5432, "silent");
	run_until(e, 1);
	assert_int_equal(c->calls, 1);
	assert_string_equal(c->error, "could not translate host name \"silent.pcp.test\" to "
	                              "address: Timeout while contacting DNS servers");
	/* The timeout bounds the whole lookup, retries included: the callback comes no sooner
	 * (load only delays timers), and before the 3 x timeout it would take if each of the
	 * two tries had the whole timeout; the 3.5 s in between are for a loaded machine. */
	assert_true(c->at - t0 >= 0.8 * SILENT_TIMEOUT);
	assert_true(c->at - t0 < 2.75 * SILENT_TIMEOUT);
	/* One retransmission: A and AAAA asked twice each. */
	assert_int_equal(queries_for(&e->dns, "silent.pcp.test"), 4);
}

static void test_slow_does_not_delay_fast(void **state)
{
	struct env *e = *state;
	struct call *slow, *fast, *lit;

	e->r = make_resolver(e, AF_INET, LOOKUP_TIMEOUT);
	slow = start(e, "slow.pcp.test", 5432, "slow");
	fast = start(e, "fast.pcp.test", 5432, "fast");
	lit = start(e, "127.0.0.1", 5432, "literal");
	/* The slow answer is held: the others are delivered without it. One that waited for
	 * the slow lookup would never come, and run_until would give up. */
	run_until(e, 2);
	assert_int_equal(e->delivered, 2);
	assert_int_equal(slow->calls, 0);
	assert_int_equal(fast->n, 1);
	assert_int_equal(lit->n, 1);
	assert_true(queries_for(&e->dns, "slow.pcp.test") >= 1);
	fakedns_release(&e->dns);
	run_until(e, 3);
	assert_int_equal(slow->calls, 1);
	assert_int_equal(e->order[2], (int)(slow - e->calls));
	assert_true(has_addr(slow, "127.0.0.7", 5432));
}

static void test_cancel_all(void **state)
{
	struct env *e = *state;
	struct pcp_error err = {0};

	e->r = make_resolver(e, AF_UNSPEC, LOOKUP_TIMEOUT);
	assert_int_equal(pcp_resolver_pin(e->r, "pin.pcp.test:5432:127.0.0.2", &err), PCP_OK);
	start(e, "silent.pcp.test", 5432, "dns");
	start(e, "slow.pcp.test", 5432, "slow");
	start(e, "127.0.0.1", 5432, "literal");
	start(e, "pin.pcp.test", 5432, "pin");
	assert_int_equal(pcp_resolver_pending(e->r), 4);
	pcp_resolver_cancel_all(e->r);
	assert_int_equal(pcp_resolver_pending(e->r), 0);
	assert_int_equal(e->delivered, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(e->calls[i].calls, 1);
		assert_int_equal(e->calls[i].cancelled, 1);
		assert_int_equal(e->calls[i].n, 0);
		assert_non_null(strstr(e->calls[i].error, "DNS query cancelled"));
	}
	/* Nothing more arrives later, though the slow answer does. */
	fakedns_release(&e->dns);
	run_for(e, 0.5);
	assert_int_equal(e->delivered, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(e->calls[i].calls, 1);
	/* The resolver still works afterwards. */
	start(e, "fast.pcp.test", 5432, "after");
	run_until(e, 5);
	assert_int_equal(e->calls[4].n, 1);
	assert_int_equal(e->calls[4].cancelled, 0);
}

/* Forgotten lookups, in c-ares's hands or answered and queued, end without a callback;
 * the others are delivered as ever. */
static void test_forget(void **state)
{
	struct env *e = *state;
	struct call *slow, *lit, *fast;
	double limit;

	e->r = make_resolver(e, AF_INET, LOOKUP_TIMEOUT);
	slow = start(e, "slow.pcp.test", 5432, "slow");
	lit = start(e, "127.0.0.1", 5432, "literal");
	fast = start(e, "fast.pcp.test", 5432, "fast");
	pcp_resolve_forget(e->r, slow);
	pcp_resolve_forget(e->r, lit);
	run_until(e, 1);
	assert_int_equal(fast->n, 1);
	fakedns_release(&e->dns);
	limit = ev_time() + WAIT_S;
	while (pcp_resolver_pending(e->r) && ev_time() < limit)
		ev_run(e->loop, EVRUN_ONCE);
	assert_int_equal(pcp_resolver_pending(e->r), 0);
	assert_int_equal(e->delivered, 1);
	assert_int_equal(slow->calls, 0);
	assert_int_equal(lit->calls, 0);
}

static void test_cancel_after_half_answer(void **state)
{
	struct env *e = *state;
	struct call *c, *done;

	/* slow has an A (held) and no AAAA (answered at once): cancel in between. fast's
	 * answers leave the responder after slow's AAAA, so once fast is delivered, c-ares has
	 * read that half. */
	e->r = make_resolver(e, AF_UNSPEC, LOOKUP_TIMEOUT);
	c = start(e, "slow.pcp.test", 5432, "half");
	done = start(e, "fast.pcp.test", 5432, "fast");
	run_until(e, 1);
	assert_int_equal(c->calls, 0);
	assert_int_equal(done->calls, 1);
	done = start(e, "127.0.0.1", 5432, "queued");
	pcp_resolver_cancel_all(e->r);
	assert_int_equal(c->calls, 1);
	assert_int_equal(c->cancelled, 1);
	assert_int_equal(done->calls, 1);
	assert_int_equal(done->cancelled, 1);
	/* The held half arrives now: nothing more is delivered. */
	fakedns_release(&e->dns);
	run_for(e, 0.5);
	assert_int_equal(c->calls, 1);
	assert_int_equal(e->delivered, 3);
}

static void test_free_cancels(void **state)
{
	struct env *e = *state;

	e->r = make_resolver(e, AF_UNSPEC, LOOKUP_TIMEOUT);
	start(e, "silent.pcp.test", 5432, "dns");
	start(e, "127.0.0.1", 5432, "literal");
	pcp_resolver_free(e->r);
	e->r = NULL;
	assert_int_equal(e->delivered, 2);
	assert_int_equal(e->calls[0].cancelled, 1);
	assert_int_equal(e->calls[1].cancelled, 1);
	run_for(e, 0.3);
	assert_int_equal(e->delivered, 2);
	pcp_resolver_free(NULL);
}

/* Callbacks that call back into the resolver: start, cancel, free. */
static void on_reenter(void *arg, const struct pcp_resolved *res)
{
	struct env *e = g_env;
	struct pcp_error err = {0};

	on_resolved(arg, res);
	if (e->start_inside) {
		struct call *c = &e->calls[e->ncalls++];

		e->start_inside = false;
		snprintf(c->tag, sizeof c->tag, "inner");
		assert_int_equal(pcp_resolve_start(e->r, "127.0.0.9", 1, on_resolved, c, &err), 0);
		assert_int_equal(c->calls, 0);
	} else if (e->cancel_inside) {
		e->cancel_inside = false;
		pcp_resolver_cancel_all(e->r);
	} else if (e->free_inside) {
		e->free_inside = false;
		pcp_resolver_free(e->r);
		e->r = NULL;
	}
}

static void test_reentrant(void **state)
{
	struct env *e = *state;
	struct pcp_error err = {0};
	struct call *c;

	e->r = make_resolver(e, AF_UNSPEC, LOOKUP_TIMEOUT);
	/* A lookup started from a callback is delivered later, not inside. */
	e->start_inside = true;
	c = &e->calls[e->ncalls++];
	assert_int_equal(pcp_resolve_start(e->r, "127.0.0.8", 1, on_reenter, c, &err), 0);
	run_until(e, 2);
	assert_int_equal(e->delivered, 2);
	assert_int_equal(e->calls[1].n, 1);

	/* cancel_all from a callback ends the rest exactly once. */
	e->cancel_inside = true;
	c = &e->calls[e->ncalls++];
	assert_int_equal(pcp_resolve_start(e->r, "127.0.0.7", 1, on_reenter, c, &err), 0);
	start(e, "127.0.0.6", 1, "queued behind");
	start(e, "silent.pcp.test", 1, "in c-ares");
	run_until(e, 5);
	assert_int_equal(e->delivered, 5);
	assert_int_equal(e->calls[2].cancelled, 0);
	assert_int_equal(e->calls[3].cancelled, 1);
	assert_int_equal(e->calls[4].cancelled, 1);
	assert_int_equal(pcp_resolver_pending(e->r), 0);

	/* Freeing the resolver from a callback: the others end cancelled, nothing leaks. */
	e->free_inside = true;
	c = &e->calls[e->ncalls++];
	assert_int_equal(pcp_resolve_start(e->r, "127.0.0.5", 1, on_reenter, c, &err), 0);
	start(e, "127.0.0.4", 1, "queued behind");
	start(e, "silent.pcp.test", 1, "in c-ares");
	run_until(e, 8);
	assert_null(e->r);
	assert_int_equal(e->delivered, 8);
	assert_int_equal(e->calls[5].cancelled, 0);
	assert_int_equal(e->calls[6].cancelled, 1);
	assert_int_equal(e->calls[7].cancelled, 1);
	run_for(e, 0.2);
	assert_int_equal(e->delivered, 8);
}

static void test_dns_server_ipv6(void **state)
{
	struct env *e = *state;
	struct pcp_resolve_opts o = {.family = AF_UNSPEC, .timeout = LOOKUP_TIMEOUT};
	struct pcp_error err = {0};
	char server[48];
	struct call *c;

	if (e->dns.fd6 < 0)
		skip();
	snprintf(server, sizeof server, "[::1]:%u", e->dns.port);
	o.dns_server = server;
	e->r = pcp_resolver_new(e->loop, &o, &err);
	assert_non_null(e->r);
	c = start(e, "v4.pcp.test", 5432, "via ::1");
	run_until(e, 1);
	assert_int_equal(c->n, 1);
	assert_true(has_addr(c, "127.0.0.3", 5432));
}

static void test_dns_server_values(void **state)
{
	struct env *e = *state;
	static const char *const good[] = {"127.0.0.1", "127.0.0.1:5353", "[::1]:5353",
	                                   "::1",       "[::1]",          "fe80::1:53"};
	static const char *const bad[] = {"",
	                                  "1.2.3.4:",
	                                  "1.2.3.4:0",
	                                  "1.2.3.4:99999",
	                                  "1.2.3.4:53x",
	                                  "[::1",
	                                  "[::1]:",
	                                  "[::1]x",
	                                  "dns.example",
	                                  "1.2.3",
	                                  "1.2.3.4,5.6.7.8",
	                                  "[1.2.3.4]:53",
	                                  " 1.2.3.4"};

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct pcp_resolve_opts o = {.dns_server = good[i], .timeout = 1};
		struct pcp_error err = {0};
		struct pcp_resolver *r = pcp_resolver_new(e->loop, &o, &err);

		if (!r)
			fail_msg("\"%s\" rejected: %s", good[i], err.msg);
		pcp_resolver_free(r);
		assert_int_equal(pcp_resolve_server_check(good[i], &err), PCP_OK);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct pcp_resolve_opts o = {.dns_server = bad[i], .timeout = 1};
		struct pcp_error err = {0};
		struct pcp_resolver *r = pcp_resolver_new(e->loop, &o, &err);
		char quoted[64];

		if (r)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_int_equal(err.code, PCP_ERR_USAGE);
		snprintf(quoted, sizeof quoted, "\"%s\"", bad[i]);
		if (!strstr(err.msg, quoted) || !strstr(err.msg, "--dns-server"))
			fail_msg("message for \"%s\" does not name it: %s", bad[i], err.msg);
		/* The option parser's check says the same, without a resolver. */
		struct pcp_error check = {0};

		assert_int_equal(pcp_resolve_server_check(bad[i], &check), PCP_ERR_USAGE);
		assert_string_equal(check.msg, err.msg);
	}
}

static void test_resolve_specs(void **state)
{
	struct env *e = *state;
	static const char *const good[] = {"db:5432:127.0.0.1",
	                                   "db.example.com:5432:127.0.0.1,127.0.0.2",
	                                   "db:5432:[::1]",
	                                   "db:5432:::1",
	                                   "db:65535:[2001:db8::1],10.0.0.1",
	                                   "[::1]:5432:127.0.0.1"};
	static const char *const bad[] = {"db",
	                                  "db:5432",
	                                  "db:5432:",
	                                  ":5432:127.0.0.1",
	                                  "db::127.0.0.1",
	                                  "db:abc:127.0.0.1",
	                                  "db:0:127.0.0.1",
	                                  "db:70000:127.0.0.1",
	                                  "db:5432:notanip",
	                                  "db:5432:127.0.0.1,",
	                                  "db:5432:,127.0.0.1",
	                                  "db:5432:[::1",
	                                  "db:5432:127.0.0.1:5432",
	                                  "db:5432:[127.0.0.1]",
	                                  "[::1:5432:127.0.0.1"};

	e->r = make_resolver(e, AF_UNSPEC, 1);
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct pcp_error err = {0};

		if (pcp_resolve_spec_check(good[i], &err) != PCP_OK)
			fail_msg("\"%s\" rejected: %s", good[i], err.msg);
		assert_int_equal(pcp_resolver_pin(e->r, good[i], &err), PCP_OK);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct pcp_error err = {0}, err2 = {0};
		char quoted[64];

		if (pcp_resolve_spec_check(bad[i], &err) != PCP_ERR_USAGE)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_int_equal(err.code, PCP_ERR_USAGE);
		snprintf(quoted, sizeof quoted, "\"%s\"", bad[i]);
		if (!strstr(err.msg, quoted))
			fail_msg("message for \"%s\" does not name it: %s", bad[i], err.msg);
		assert_int_equal(pcp_resolver_pin(e->r, bad[i], &err2), PCP_ERR_USAGE);
		assert_string_equal(err.msg, err2.msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_literals, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_literal_family, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_pins, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_pins_family, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_hosts_file, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_both_families, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_family_filter, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_nxdomain_servfail, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_slow_does_not_delay_fast, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_cancel_all, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_forget, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_cancel_after_half_answer, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_free_cancels, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_reentrant, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_dns_server_ipv6, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_dns_server_values, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_resolve_specs, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
