/* libmicrohttpd on the libev loop (see httpd.h). MHD is started with MHD_USE_EPOLL and no
 * internal thread: one ev_io watches its epoll descriptor (readable whenever any connection,
 * the listening socket or MHD's resume channel has work), one ev_timer is set from
 * MHD_get_timeout after every MHD_run (idle timeouts, and 0 when MHD left work pending).
 * The listening socket is ours, so a bad address or a port in use is reported exactly. */
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "net.h"

struct pcp_httpd {
	struct ev_loop *loop;
	struct MHD_Daemon *daemon;
	int listen_fd; /* ours until MHD runs, MHD's afterwards (closed by it or at quiesce) */
	ev_io io;
	ev_timer timer;
	unsigned connections;
	bool running; /* inside MHD_run */
	bool resumed; /* a connection was resumed since MHD_run last started */
	bool trace;
	char address[INET6_ADDRSTRLEN + 16];
};

/* ---- the listening socket ----------------------------------------------------------- */

/* ADDR:PORT, [IPV6]:PORT or :PORT into host ("" for every address) and port text. */
static int split_listen(const char *spec, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *h = spec, *p;
	size_t n;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (!close || close[1] != ':')
			return -1;
		h = spec + 1;
		n = (size_t)(close - h);
		p = close + 2;
		if (n == 0)
			return -1;
	} else {
		const char *colon = strrchr(spec, ':');

		/* An IPv6 literal needs brackets, or its last group would read as the port. */
		if (!colon || memchr(spec, ':', (size_t)(colon - spec)))
			return -1;
		n = (size_t)(colon - spec);
		p = colon + 1;
	}
	if (n >= hostlen || !*p || strlen(p) > 5 || strspn(p, "0123456789") != strlen(p) ||
	    strtol(p, NULL, 10) > 65535)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	snprintf(port, portlen, "%s", p);
	return 0;
}

/* A listening socket on sa; -1 with errno set. */
static int listen_on(const struct sockaddr *sa, socklen_t len, bool dual_stack)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, zero = 0, saved;

	if (fd < 0)
		return -1;
	/* A restarted exporter gets its port back while old connections sit in TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    (dual_stack && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0) ||
	    bind(fd, sa, len) < 0 || listen(fd, SOMAXCONN) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Binds spec; -1 with err set (see pcp_httpd_new). */
static int open_listener(const char *spec, struct pcp_error *err)
{
	char host[256], port[8];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
	                *ai = NULL;
	int fd, rc;

	if (split_listen(spec, host, sizeof host, port, sizeof port) < 0)
		return pcp_error_set(err, PCP_ERR_USAGE,
		                     "--listen \"%s\": expected ADDR:PORT, [IPV6]:PORT or :PORT "
		                     "(PORT 0 to 65535)",
		                     spec),
		       -1;
	if (!*host) {
		/* Every address: IPv6 and IPv4 on one socket, or IPv4 alone without IPv6. */
		struct sockaddr_in6 any6 = {.sin6_family = AF_INET6,
		                            .sin6_port = htons((uint16_t)strtol(port, NULL, 10)),
		                            .sin6_addr = in6addr_any};
		struct sockaddr_in any4 = {.sin_family = AF_INET,
		                           .sin_port = any6.sin6_port,
		                           .sin_addr.s_addr = htonl(INADDR_ANY)};

		fd = listen_on((struct sockaddr *)&any6, sizeof any6, true);
		if (fd < 0 && errno == EAFNOSUPPORT)
			fd = listen_on((struct sockaddr *)&any4, sizeof any4, false);
	} else {
		/* Start-up, before the loop runs: a blocking lookup is fine here. */
		if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0)
			return pcp_error_set(err, PCP_ERR_USAGE, "--listen \"%s\": %s: %s", spec,
			                     host, gai_strerror(rc)),
			       -1;
		fd = listen_on(ai->ai_addr, ai->ai_addrlen, false);
		rc = errno;
		freeaddrinfo(ai);
		errno = rc;
	}
	if (fd < 0)
		pcp_error_set(err, errno == EADDRNOTAVAIL ? PCP_ERR_USAGE : PCP_ERR_SYSTEM,
		              "--listen \"%s\": %s", spec,
		              errno == EADDRNOTAVAIL ? "not an address of this machine"
		                                     : strerror(errno));
	return fd;
}

static void describe(struct pcp_httpd *h)
{
	/* Zeroed: clang's analyzer cannot see getsockname fill it (glibc passes it through a
	 * transparent union under _GNU_SOURCE). */
	struct sockaddr_storage ss = {0};
	socklen_t len = sizeof ss;
	char addr[INET6_ADDRSTRLEN];
	unsigned port = 0;

	if (getsockname(h->listen_fd, (struct sockaddr *)&ss, &len) < 0 ||
	    pcp_net_addr_text((struct sockaddr *)&ss, addr, sizeof addr, &port) < 0) {
		snprintf(h->address, sizeof h->address, "?");
		return;
	}
	snprintf(h->address, sizeof h->address, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u",
	         addr, port);
}

/* ---- MHD on the loop ------------------------------------------------------------------ */

/* After every MHD_run: when MHD wants to run again (0 when work is pending, or when a
 * connection was resumed: MHD has no wake-up channel of its own without a thread). */
static void arm_timer(struct pcp_httpd *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	ev_timer_stop(h->loop, &h->timer);
	if (h->resumed)
		ev_timer_set(&h->timer, 0., 0.);
	else if (MHD_get_timeout(h->daemon, &ms) == MHD_YES)
		ev_timer_set(&h->timer, (double)ms / 1000.0, 0.);
	else
		return;
	ev_timer_start(h->loop, &h->timer);
}

static void run(struct pcp_httpd *h)
{
	h->running = true;
	h->resumed = false;
	MHD_run(h->daemon);
	h->running = false;
	arm_timer(h);
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	run(w->data);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	run(w->data);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
	struct pcp_httpd *h = cls;

	(void)c;
	(void)socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		h->connections++;
	else if (h->connections > 0)
		h->connections--;
}

/* MHD's messages (bad requests, limits reached) name client behaviour, not problems of the
 * exporter: only traced, so no client can fill the log. */
static void on_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void on_log(void *cls, const char *fmt, va_list ap)
{
	struct pcp_httpd *h = cls;
	char buf[512];
	size_t n;

	if (!h->trace)
		return;
	vsnprintf(buf, sizeof buf, fmt, ap);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	pcp_log_warn("http: %s", buf);
}

struct pcp_httpd *pcp_httpd_new(const struct pcp_httpd_config *cfg, struct pcp_error *err)
{
	struct pcp_httpd *h = calloc(1, sizeof *h);
	const union MHD_DaemonInfo *info;

	if (!h)
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory"), NULL;
	h->loop = cfg->loop;
	h->trace = cfg->trace;
	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) != MHD_YES) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "libmicrohttpd was built without epoll");
		goto fail;
	}
	if ((h->listen_fd = open_listener(cfg->listen, err)) < 0)
		goto fail;
	describe(h);
	h->daemon = MHD_start_daemon(
	        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	        cfg->handler, cfg->arg, MHD_OPTION_EXTERNAL_LOGGER, on_log, h,
	        MHD_OPTION_LISTEN_SOCKET, h->listen_fd, MHD_OPTION_CONNECTION_LIMIT,
	        cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_per_ip,
	        MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout,
	        MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->memory_limit, MHD_OPTION_NOTIFY_COMPLETED,
	        cfg->completed, cfg->arg, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
	        MHD_OPTION_END);
	if (!h->daemon) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "--listen %s: cannot start the HTTP server",
		              cfg->listen);
		close(h->listen_fd);
		goto fail;
	}
	info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "libmicrohttpd has no epoll descriptor");
		goto fail;
	}
	ev_io_init(&h->io, on_io, info->epoll_fd, EV_READ);
	h->io.data = h;
	ev_io_start(h->loop, &h->io);
	ev_init(&h->timer, on_timer);
	h->timer.data = h;
	arm_timer(h);
	return h;
fail:
	pcp_httpd_free(h);
	return NULL;
}

const char *pcp_httpd_address(const struct pcp_httpd *h)
{
	return h->address;
}

void pcp_httpd_resume(struct pcp_httpd *h, struct MHD_Connection *c)
{
	MHD_resume_connection(c);
	h->resumed = true;
	if (!h->running)
		arm_timer(h);
}

void pcp_httpd_quiesce(struct pcp_httpd *h)
{
	MHD_socket fd = MHD_quiesce_daemon(h->daemon);

	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

unsigned pcp_httpd_connections(const struct pcp_httpd *h)
{
	return h->connections;
}

void pcp_httpd_free(struct pcp_httpd *h)
{
	if (!h)
		return;
	ev_io_stop(h->loop, &h->io);
	ev_timer_stop(h->loop, &h->timer);
	if (h->daemon)
		MHD_stop_daemon(h->daemon);
	free(h);
}
