/* Asynchronous name resolution for the runner: c-ares driven by the libev loop (one ev_io
 * per c-ares socket, one ev_timer for its retransmissions), pins and IP literals answered
 * without DNS. Every result waits on a ready list and is delivered by a zero-delay timer,
 * so no callback ever runs inside pcp_resolve_start. */
#include "resolve.h"

#include <ares.h>
#include <arpa/inet.h>
#include <assert.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_TIMEOUT 5.0 /* seconds, when opts->timeout is not positive */
#define TRIES           2   /* UDP sends per server: one retransmission on loss */
#define MAX_PIN_ADDRS   64

/* Said by getaddrinfo for EAI_ADDRFAMILY; used when -4/-6 leaves no pinned or literal
 * address. */
#define REASON_FAMILY "Address family for hostname not supported"

/* One watcher per socket c-ares has open, created and dropped by its state callback. */
struct sockwatch {
	ev_io io;
	struct sockwatch *next;
};

/* --resolve HOST:PORT:ADDR[,ADDR...]; addresses carry the port, duplicates removed. */
struct pin {
	char *host;
	uint16_t port;
	struct sockaddr_storage *addrs;
	size_t n;
};

/* One lookup from start to callback, on the inflight list while c-ares owns it, then on
 * the ready list (or a cancel batch) until delivered. The name follows the struct. A
 * forgotten lookup (cb NULL) runs its course and is freed without a callback. */
struct lookup {
	struct lookup *prev, *next;
	struct pcp_resolver *r;
	pcp_resolve_cb cb;
	void *arg;
	uint16_t port;
	bool cancelled;
	int status;         /* ARES_SUCCESS or an ares error code */
	const char *reason; /* overrides ares_strerror(status) when set */
	struct sockaddr_storage *addrs;
	size_t n;
	bool owns_addrs; /* else addrs points at one or at a pin's array */
	struct sockaddr_storage one;
	char name[];
};

struct list {
	struct lookup *head, *tail;
	size_t n;
};

struct pcp_resolver {
	struct ev_loop *loop;
	ares_channel channel;
	bool have_channel;
	bool lib_init;
	int family;
	struct sockwatch *socks;
	ev_timer tmo;  /* c-ares's next timeout */
	ev_timer kick; /* delivers the ready list from the loop */
	struct list inflight, ready;
	size_t pending;
	struct pin *pins; /* later entries win */
	size_t n_pins;
	unsigned busy; /* frames that touch r after running a callback */
	bool freeing, free_deferred;
};

static void list_push(struct list *l, struct lookup *x)
{
	x->next = NULL;
	x->prev = l->tail;
	if (l->tail)
		l->tail->next = x;
	else
		l->head = x;
	l->tail = x;
	l->n++;
}

static void list_unlink(struct list *l, struct lookup *x)
{
	/* x is on l: it is the head exactly when it has no prev, the tail when no next. */
	assert(!x->prev == (l->head == x) && !x->next == (l->tail == x));
	if (x->prev)
		x->prev->next = x->next;
	else
		l->head = x->next;
	if (x->next)
		x->next->prev = x->prev;
	else
		l->tail = x->prev;
	x->prev = x->next = NULL;
	l->n--;
}

/* Decimal 1..65535, nothing else. */
static bool parse_port(const char *s, size_t len, uint16_t *out)
{
	unsigned long v = 0;

	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* Every view of one address. Fields are only touched through this union, copied in and
 * out with memcpy: casting a sockaddr_storage pointer to sockaddr_in breaks strict
 * aliasing, and gcc -O2 did drop port stores written that way. */
union addr {
	struct sockaddr sa;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr_storage ss;
};

static union addr load(const struct sockaddr_storage *ss)
{
	union addr u;

	memcpy(&u, ss, sizeof *ss);
	return u;
}

/* An IPv4 or IPv6 address ("[v6]" too, "%zone" for IPv6), port left 0. */
static bool parse_ip(const char *s, size_t len, struct sockaddr_storage *ss)
{
	char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	union addr u;
	bool bracketed = false;
	char *zone;

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
		bracketed = true;
	}
	if (len == 0 || len >= sizeof buf || memchr(s, '\0', len))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(&u, 0, sizeof u);
	if (!bracketed && inet_pton(AF_INET, buf, &u.sin.sin_addr) == 1) {
		u.sin.sin_family = AF_INET;
		goto ok;
	}
	if ((zone = strchr(buf, '%')))
		*zone++ = '\0';
	if (inet_pton(AF_INET6, buf, &u.sin6.sin6_addr) != 1)
		return false;
	u.sin6.sin6_family = AF_INET6;
	if (zone) {
		uint16_t idx;

		/* A numeric zone up to 65535 is taken as is; otherwise an interface name. */
		if (parse_port(zone, strlen(zone), &idx))
			u.sin6.sin6_scope_id = idx;
		else if (!*zone || !(u.sin6.sin6_scope_id = if_nametoindex(zone)))
			return false;
	}
ok:
	memcpy(ss, &u, sizeof *ss);
	return true;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	union addr u = load(ss);

	if (u.sa.sa_family == AF_INET)
		u.sin.sin_port = htons(port);
	else
		u.sin6.sin6_port = htons(port);
	memcpy(ss, &u, sizeof *ss);
}

static bool same_addr(const struct sockaddr_storage *sa, const struct sockaddr_storage *sb)
{
	union addr a = load(sa), b = load(sb);

	if (a.sa.sa_family != b.sa.sa_family)
		return false;
	if (a.sa.sa_family == AF_INET)
		return a.sin.sin_addr.s_addr == b.sin.sin_addr.s_addr;
	return !memcmp(&a.sin6.sin6_addr, &b.sin6.sin6_addr, sizeof a.sin6.sin6_addr) &&
	       a.sin6.sin6_scope_id == b.sin6.sin6_scope_id;
}

/* Appends ss to addrs[0..*n) unless already there. */
static void add_unique(struct sockaddr_storage *addrs, size_t *n, const struct sockaddr_storage *ss)
{
	for (size_t i = 0; i < *n; i++)
		if (same_addr(&addrs[i], ss))
			return;
	addrs[(*n)++] = *ss;
}

static bool family_ok(int family, const struct sockaddr_storage *ss)
{
	return family == AF_UNSPEC || family == ss->ss_family;
}

/* Parses a --resolve value into out (owned strings and array on success). */
static enum pcp_errc parse_pin(const char *spec, struct pin *out, struct pcp_error *err)
{
	const char *p, *host, *host_end, *colon;
	size_t cap = 1;
	enum pcp_errc rc = PCP_ERR_USAGE;

	memset(out, 0, sizeof *out);
	if (!spec)
		return pcp_error_set(err, PCP_ERR_USAGE, "missing --resolve value");
	/* HOST is up to the first colon, or a bracketed IPv6 address. */
	if (spec[0] == '[') {
		host = spec + 1;
		host_end = strchr(host, ']');
		if (!host_end || host_end[1] != ':')
			goto bad_form;
		p = host_end + 2;
	} else {
		host = spec;
		if (!(host_end = strchr(spec, ':')))
			goto bad_form;
		p = host_end + 1;
	}
	if (host_end == host)
		goto bad_form;
	if (!(colon = strchr(p, ':')))
		goto bad_form;
	if (!parse_port(p, (size_t)(colon - p), &out->port)) {
		pcp_error_set(err, PCP_ERR_USAGE,
		              "invalid --resolve value \"%s\": bad port \"%.*s\"", spec,
		              (int)(colon - p), p);
		goto out;
	}
	p = colon + 1;
	for (const char *c = p; *c; c++)
		cap += *c == ',';
	if (cap > MAX_PIN_ADDRS) {
		pcp_error_set(err, PCP_ERR_USAGE,
		              "invalid --resolve value \"%s\": more than %d addresses", spec,
		              MAX_PIN_ADDRS);
		goto out;
	}
	if (!(out->addrs = calloc(cap, sizeof *out->addrs)))
		goto oom;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		struct sockaddr_storage ss;

		if (!parse_ip(p, len, &ss)) {
			pcp_error_set(
			        err, PCP_ERR_USAGE,
			        "invalid --resolve value \"%s\": bad address \"%.*s\" (want an "
			        "IPv4 or [IPv6] address)",
			        spec, (int)len, p);
			goto out;
		}
		set_port(&ss, out->port);
		add_unique(out->addrs, &out->n, &ss);
		if (!comma)
			break;
		p = comma + 1;
	}
	if (!(out->host = strndup(host, (size_t)(host_end - host))))
		goto oom;
	return PCP_OK;

bad_form:
	pcp_error_set(err, PCP_ERR_USAGE,
	              "invalid --resolve value \"%s\": expected HOST:PORT:ADDR[,ADDR...]", spec);
	goto out;
oom:
	rc = pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
out:
	free(out->addrs);
	free(out->host);
	memset(out, 0, sizeof *out);
	return rc;
}

/* Parses --dns-server: "ADDR", "ADDR:PORT", "[V6]:PORT", "[V6]" or a bare IPv6 address. */
static enum pcp_errc parse_server(const char *v, struct ares_addr_port_node *node,
                                  struct pcp_error *err)
{
	struct sockaddr_storage ss;
	union addr u;
	const char *port = NULL;
	size_t alen, plen = 0;
	uint16_t pnum = 53;

	memset(node, 0, sizeof *node);
	if (v[0] == '[') {
		const char *close = strchr(v, ']');

		if (!close || (close[1] && close[1] != ':'))
			goto bad_addr;
		alen = (size_t)(close - v) + 1;
		if (close[1] == ':')
			port = close + 2;
	} else {
		const char *c = strchr(v, ':');

		/* One colon separates a port; more make a bare IPv6 address. */
		if (c && !strchr(c + 1, ':')) {
			alen = (size_t)(c - v);
			port = c + 1;
		} else {
			alen = strlen(v);
		}
	}
	if (!parse_ip(v, alen, &ss))
		goto bad_addr;
	u = load(&ss);
	if (u.sa.sa_family == AF_INET6 && u.sin6.sin6_scope_id)
		return pcp_error_set(err, PCP_ERR_USAGE,
		                     "invalid --dns-server value \"%s\": zone index not supported",
		                     v);
	if (port) {
		plen = strlen(port);
		if (!parse_port(port, plen, &pnum))
			return pcp_error_set(err, PCP_ERR_USAGE,
			                     "invalid --dns-server value \"%s\": bad port \"%s\"",
			                     v, port);
	}
	node->family = u.sa.sa_family;
	if (u.sa.sa_family == AF_INET)
		node->addr.addr4 = u.sin.sin_addr;
	else
		memcpy(&node->addr.addr6, &u.sin6.sin6_addr, sizeof node->addr.addr6);
	node->udp_port = node->tcp_port = pnum;
	return PCP_OK;

bad_addr:
	return pcp_error_set(err, PCP_ERR_USAGE,
	                     "invalid --dns-server value \"%s\": expected ADDR[:PORT] with an IPv4 "
	                     "address or [IPv6]:PORT",
	                     v);
}

static void arm_kick(struct pcp_resolver *r)
{
	if (!ev_is_active(&r->kick)) {
		ev_timer_set(&r->kick, 0., 0.);
		ev_timer_start(r->loop, &r->kick);
	}
}

/* Re-arms the one timer at c-ares's next deadline, or stops it when nothing is queued. */
static void rearm_timeout(struct pcp_resolver *r)
{
	struct timeval tv, *tvp;

	ev_timer_stop(r->loop, &r->tmo);
	if (!r->have_channel || !(tvp = ares_timeout(r->channel, NULL, &tv)))
		return;
	/* A millisecond late rather than early: an early wake-up only re-arms. */
	ev_timer_set(&r->tmo, (double)tvp->tv_sec + (double)tvp->tv_usec / 1e6 + 0.001, 0.);
	ev_timer_start(r->loop, &r->tmo);
}

static void on_sock(struct ev_loop *loop, ev_io *w, int revents)
{
	struct pcp_resolver *r = w->data;
	ares_socket_t fd = w->fd;

	(void)loop;
	/* c-ares may close this socket, and the state callback free w, in here. */
	ares_process_fd(r->channel, (revents & EV_READ) ? fd : ARES_SOCKET_BAD,
	                (revents & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	rearm_timeout(r);
}

static void on_tmo(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pcp_resolver *r = w->data;

	(void)loop;
	(void)revents;
	ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	rearm_timeout(r);
}

/* c-ares says which of its sockets to watch for what; both zero means it closes one. */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct pcp_resolver *r = data;
	struct sockwatch **pp = &r->socks, *w;

	while ((w = *pp) && w->io.fd != fd)
		pp = &w->next;
	if (!readable && !writable) {
		if (w) {
			ev_io_stop(r->loop, &w->io);
			*pp = w->next;
			free(w);
		}
		return;
	}
	if (!w) {
		/* Out of memory: the query then ends by c-ares's timeout, still driven by tmo. */
		if (!(w = calloc(1, sizeof *w)))
			return;
		ev_init(&w->io, on_sock);
		w->io.data = r;
		w->next = r->socks;
		r->socks = w;
	} else {
		ev_io_stop(r->loop, &w->io);
	}
	ev_io_set(&w->io, fd, (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
	ev_io_start(r->loop, &w->io);
}

/* Copies c-ares's answer into l: IPv4/IPv6 only, duplicates removed, port set. */
static int take_addrs(struct lookup *l, const struct ares_addrinfo *res)
{
	size_t cap = 0;

	for (const struct ares_addrinfo_node *nd = res->nodes; nd; nd = nd->ai_next)
		cap++;
	if (cap == 0)
		return ARES_ENODATA;
	if (!(l->addrs = calloc(cap, sizeof *l->addrs)))
		return ARES_ENOMEM;
	l->owns_addrs = true;
	for (const struct ares_addrinfo_node *nd = res->nodes; nd; nd = nd->ai_next) {
		struct sockaddr_storage ss;
		size_t len = nd->ai_family == AF_INET    ? sizeof(struct sockaddr_in)
		             : nd->ai_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		                                         : 0;

		if (!len || !nd->ai_addr || (size_t)nd->ai_addrlen < len)
			continue;
		memset(&ss, 0, sizeof ss);
		memcpy(&ss, nd->ai_addr, len);
		if (!family_ok(l->r->family, &ss))
			continue;
		set_port(&ss, l->port);
		add_unique(l->addrs, &l->n, &ss);
	}
	return l->n ? ARES_SUCCESS : ARES_ENODATA;
}

/* c-ares's callback, possibly from inside ares_getaddrinfo or ares_cancel: queue only. */
static void on_ares(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct lookup *l = arg;
	struct pcp_resolver *r = l->r;

	(void)timeouts;
	if (status == ARES_SUCCESS)
		status = res ? take_addrs(l, res) : ARES_ENODATA;
	if (res)
		ares_freeaddrinfo(res);
	l->status = status;
	list_unlink(&r->inflight, l);
	list_push(&r->ready, l);
	arm_kick(r);
}

/* Runs l's callback (l already off its list) and frees l. */
static void deliver(struct pcp_resolver *r, struct lookup *l)
{
	struct pcp_resolved res = {0};
	char msg[1024];

	r->pending--;
	if (l->cancelled) {
		res.cancelled = 1;
		l->status = ARES_ECANCELLED;
		l->reason = NULL;
	}
	if (l->status == ARES_SUCCESS && l->n) {
		res.addrs = l->addrs;
		res.n = l->n;
	} else {
		snprintf(msg, sizeof msg, "could not translate host name \"%s\" to address: %s",
		         l->name, l->reason ? l->reason : ares_strerror(l->status));
		res.error = msg;
	}
	if (l->cb)
		l->cb(l->arg, &res);
	if (l->owns_addrs)
		free(l->addrs);
	free(l);
}

/* Ends a frame that ran callbacks; true when it freed r (a callback asked for it). */
static bool release(struct pcp_resolver *r)
{
	if (--r->busy == 0 && r->free_deferred) {
		free(r);
		return true;
	}
	return false;
}

static void on_kick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pcp_resolver *r = w->data;
	size_t budget = r->ready.n; /* what is queued now; later arrivals wait a turn */

	(void)loop;
	(void)revents;
	r->busy++;
	while (budget-- && r->ready.head) {
		struct lookup *l = r->ready.head;

		list_unlink(&r->ready, l);
		deliver(r, l);
	}
	if (release(r))
		return;
	if (r->ready.head && !r->freeing)
		arm_kick(r);
}

/* Counts the servers the system configuration gives c-ares (at least one). */
static int system_server_count(void)
{
	ares_channel tmp;
	struct ares_addr_port_node *servers = NULL;
	int n = 0;

	if (ares_init(&tmp) != ARES_SUCCESS)
		return 1;
	if (ares_get_servers_ports(tmp, &servers) == ARES_SUCCESS)
		for (struct ares_addr_port_node *s = servers; s; s = s->next)
			n++;
	ares_free_data(servers);
	ares_destroy(tmp);
	return n > 0 ? n : 1;
}

struct pcp_resolver *pcp_resolver_new(struct ev_loop *loop, const struct pcp_resolve_opts *opts,
                                      struct pcp_error *err)
{
	static char lookups[] = "fb"; /* hosts file first, then DNS */
	struct pcp_resolver *r = NULL;
	struct ares_addr_port_node server;
	struct ares_options o;
	double timeout = opts && opts->timeout > 0 ? opts->timeout : DEFAULT_TIMEOUT;
	int family = opts ? opts->family : AF_UNSPEC;
	int st, nservers = 1;
	double per_try;

	if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6) {
		pcp_error_set(err, PCP_ERR_USAGE, "unsupported address family %d", family);
		return NULL;
	}
	if (opts && opts->dns_server && parse_server(opts->dns_server, &server, err))
		return NULL;
	if (!(r = calloc(1, sizeof *r))) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
		return NULL;
	}
	r->loop = loop;
	r->family = family;
	ev_init(&r->tmo, on_tmo);
	r->tmo.data = r;
	ev_init(&r->kick, on_kick);
	r->kick.data = r;
	if ((st = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "c-ares: %s", ares_strerror(st));
		goto fail;
	}
	r->lib_init = true;
	if (!(opts && opts->dns_server))
		nservers = system_server_count();
	/* c-ares sends to each server TRIES times, doubling the wait every round:
	 * nservers * t * (2^TRIES - 1) in all, which is to equal the timeout. */
	per_try = timeout * 1000.0 / (nservers * ((1 << TRIES) - 1));
	memset(&o, 0, sizeof o);
	/* c-ares 1.18 answers SERVFAIL and REFUSED by trying the next server and, when none
	 * is left, reports "Could not contact DNS servers" as for a dead one. With a single
	 * server there is nothing to fail over to: pass the answer through, so the reason
	 * says what the server said. */
	o.flags = nservers == 1 ? ARES_FLAG_NOCHECKRESP : 0;
	o.timeout = per_try < 1.0 ? 1 : per_try > 1e9 ? 1000000000 : (int)per_try;
	o.tries = TRIES;
	o.lookups = lookups;
	o.sock_state_cb = sock_state;
	o.sock_state_cb_data = r;
	st = ares_init_options(&r->channel, &o,
	                       ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	                               ARES_OPT_LOOKUPS | ARES_OPT_SOCK_STATE_CB);
	if (st != ARES_SUCCESS) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "c-ares: %s", ares_strerror(st));
		goto fail;
	}
	r->have_channel = true;
	/* Replaces resolv.conf's servers; its search list and ndots still apply. */
	if (opts && opts->dns_server &&
	    (st = ares_set_servers_ports(r->channel, &server)) != ARES_SUCCESS) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "c-ares: cannot use DNS server \"%s\": %s",
		              opts->dns_server, ares_strerror(st));
		goto fail;
	}
	return r;

fail:
	pcp_resolver_free(r);
	return NULL;
}

enum pcp_errc pcp_resolve_spec_check(const char *spec, struct pcp_error *err)
{
	struct pin p;
	enum pcp_errc rc = parse_pin(spec, &p, err);

	free(p.addrs);
	free(p.host);
	return rc;
}

enum pcp_errc pcp_resolve_server_check(const char *v, struct pcp_error *err)
{
	struct ares_addr_port_node node;

	return parse_server(v, &node, err);
}

enum pcp_errc pcp_resolver_pin(struct pcp_resolver *r, const char *spec, struct pcp_error *err)
{
	struct pin p, *grown;
	enum pcp_errc rc;

	if ((rc = parse_pin(spec, &p, err)))
		return rc;
	/* Entries are never replaced in place: queued lookups may point at their arrays. */
	if (!(grown = realloc(r->pins, (r->n_pins + 1) * sizeof *grown))) {
		free(p.addrs);
		free(p.host);
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	}
	r->pins = grown;
	r->pins[r->n_pins++] = p;
	return PCP_OK;
}

static const struct pin *find_pin(const struct pcp_resolver *r, const char *name, uint16_t port)
{
	for (size_t i = r->n_pins; i-- > 0;)
		if (r->pins[i].port == port && !strcasecmp(r->pins[i].host, name))
			return &r->pins[i];
	return NULL;
}

/* Fills l from a pin, keeping the addresses -4/-6 allow; ARES_ENOMEM when a filtered
 * copy cannot be made. */
static int answer_pin(struct lookup *l, const struct pin *p)
{
	size_t keep = 0;

	for (size_t i = 0; i < p->n; i++)
		keep += family_ok(l->r->family, &p->addrs[i]);
	if (keep == p->n) {
		l->addrs = p->addrs;
		l->n = p->n;
		return ARES_SUCCESS;
	}
	if (keep == 0) {
		l->reason = REASON_FAMILY;
		return ARES_EBADFAMILY;
	}
	if (!(l->addrs = calloc(keep, sizeof *l->addrs)))
		return ARES_ENOMEM;
	l->owns_addrs = true;
	for (size_t i = 0; i < p->n; i++)
		if (family_ok(l->r->family, &p->addrs[i]))
			l->addrs[l->n++] = p->addrs[i];
	return ARES_SUCCESS;
}

int pcp_resolve_start(struct pcp_resolver *r, const char *name, uint16_t port, pcp_resolve_cb cb,
                      void *arg, struct pcp_error *err)
{
	size_t len = name ? strlen(name) : 0;
	struct ares_addrinfo_hints hints;
	const struct pin *pin;
	struct lookup *l;

	if (r->freeing) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "resolver is shutting down");
		return -1;
	}
	if (!(l = calloc(1, sizeof *l + len + 1))) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
		return -1;
	}
	if (len)
		memcpy(l->name, name, len);
	l->r = r;
	l->cb = cb;
	l->arg = arg;
	l->port = port;
	r->pending++;

	if ((pin = find_pin(r, l->name, port))) {
		l->status = answer_pin(l, pin);
	} else if (parse_ip(l->name, len, &l->one)) {
		set_port(&l->one, port);
		l->addrs = &l->one;
		l->n = 1;
		l->status = ARES_SUCCESS;
		if (!family_ok(r->family, &l->one)) {
			l->status = ARES_EBADFAMILY;
			l->reason = REASON_FAMILY;
		}
	} else if (len == 0) {
		l->status = ARES_EBADNAME;
	} else {
		/* On the inflight list first: c-ares may call back before returning. */
		list_push(&r->inflight, l);
		memset(&hints, 0, sizeof hints);
		hints.ai_family = r->family;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_protocol = IPPROTO_TCP;
		/* CARES_HOSTS in the environment replaces /etc/hosts (tests use it). */
		hints.ai_flags = ARES_AI_ENVHOSTS;
		ares_getaddrinfo(r->channel, l->name, NULL, &hints, on_ares, l);
		rearm_timeout(r);
		return 0;
	}
	list_push(&r->ready, l);
	arm_kick(r);
	return 0;
}

void pcp_resolve_forget(struct pcp_resolver *r, const void *arg)
{
	struct lookup *lists[] = {r->inflight.head, r->ready.head};

	for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
		for (struct lookup *l = lists[i]; l; l = l->next)
			if (l->arg == arg)
				l->cb = NULL;
}

/* Cancels and delivers every lookup now. The caller holds r (busy), so r outlives it. */
static void cancel_and_deliver(struct pcp_resolver *r)
{
	struct list batch = {0};
	struct lookup *l;

	assert(r->busy > 0);
	for (l = r->inflight.head; l; l = l->next)
		l->cancelled = true;
	/* ares_cancel calls back (ARES_ECANCELLED) for every query it holds, synchronously;
	 * on_ares moves each lookup to the ready list. A lookup whose A answer came in
	 * before the cancel may come back as a success: the flag above overrides it. */
	for (int i = 0; i < 3 && r->have_channel && r->inflight.head; i++)
		ares_cancel(r->channel);
	rearm_timeout(r);
	/* Taken off the ready list first, so a nested cancel or start cannot deliver them
	 * twice; the callbacks then run in order. */
	while ((l = r->ready.head)) {
		list_unlink(&r->ready, l);
		l->cancelled = true;
		list_push(&batch, l);
	}
	ev_timer_stop(r->loop, &r->kick);
	while ((l = batch.head)) {
		list_unlink(&batch, l);
		deliver(r, l);
	}
}

void pcp_resolver_cancel_all(struct pcp_resolver *r)
{
	if (!r)
		return;
	r->busy++;
	cancel_and_deliver(r);
	if (release(r))
		return;
	if (r->ready.head && !r->freeing)
		arm_kick(r);
}

void pcp_resolver_free(struct pcp_resolver *r)
{
	if (!r || r->freeing)
		return;
	r->freeing = true;
	/* Held until the release at the end: a callback freeing r again only returns. */
	r->busy++;
	cancel_and_deliver(r);
	if (r->have_channel) {
		/* Nothing should remain; ARES_EDESTRUCTION callbacks would queue to ready. */
		ares_destroy(r->channel);
		r->have_channel = false;
		cancel_and_deliver(r);
	}
	ev_timer_stop(r->loop, &r->tmo);
	ev_timer_stop(r->loop, &r->kick);
	while (r->socks) {
		struct sockwatch *w = r->socks;

		r->socks = w->next;
		ev_io_stop(r->loop, &w->io);
		free(w);
	}
	for (size_t i = 0; i < r->n_pins; i++) {
		free(r->pins[i].host);
		free(r->pins[i].addrs);
	}
	free(r->pins);
	r->pins = NULL;
	r->n_pins = 0;
	if (r->lib_init) {
		ares_library_cleanup();
		r->lib_init = false;
	}
	r->free_deferred = true;
	release(r);
}

size_t pcp_resolver_pending(const struct pcp_resolver *r)
{
	return r ? r->pending : 0;
}
