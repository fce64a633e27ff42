/* Sockets for probes: non-blocking connect and the descriptor budget. */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

enum pcp_status pcp_net_connect_status(int errnum)
{
	return errnum == ETIMEDOUT ? PCP_STATUS_TIMEOUT : PCP_STATUS_REFUSED;
}

enum pcp_net_rc pcp_net_connect(const struct sockaddr *sa, socklen_t len, int *fd,
                                enum pcp_status *status, struct pcp_error *err)
{
	int s = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	*fd = -1;
	if (s < 0) {
		*status = PCP_STATUS_REFUSED;
		pcp_error_set(err, PCP_ERR_SYSTEM, "socket: %s", strerror(errno));
		return PCP_NET_FAILED;
	}
	/* The request and the TLS records are small and latency-bound. */
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(s, sa, len) == 0) {
		*fd = s;
		return PCP_NET_CONNECTED;
	}
	if (errno == EINPROGRESS) {
		*fd = s;
		return PCP_NET_IN_PROGRESS;
	}
	*status = pcp_net_connect_status(errno);
	pcp_error_set(err, PCP_ERR_SYSTEM, "could not connect: %s", strerror(errno));
	close(s);
	return PCP_NET_FAILED;
}

int pcp_net_connect_result(int fd)
{
	int soerr = 0;
	socklen_t len = sizeof soerr;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return errno;
	return soerr;
}

int pcp_net_addr_text(const struct sockaddr *sa, char *buf, size_t len, unsigned *port)
{
	const void *src;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		src = &in->sin_addr;
		*port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		src = &in6->sin6_addr;
		*port = ntohs(in6->sin6_port);
	} else {
		return -1;
	}
	return inet_ntop(sa->sa_family, src, buf, (socklen_t)len) ? 0 : -1;
}

/* Descriptors the process needs besides probes: stdio, the loop, store and output files. */
#define RESERVED_FDS 32

unsigned pcp_net_fit_concurrency(unsigned want)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)want + RESERVED_FDS;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return want;
	if (rl.rlim_cur < need) {
		rlim_t target = need;

		if (rl.rlim_max != RLIM_INFINITY && target > rl.rlim_max)
			target = rl.rlim_max;
		rl.rlim_cur = target;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur >= need)
		return want;
	return rl.rlim_cur > RESERVED_FDS + 1 ? (unsigned)(rl.rlim_cur - RESERVED_FDS) : 1;
}
