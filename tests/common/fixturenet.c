/* Shared fixture server pieces (see fixturenet.h). */
#include "fixturenet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int pcp_fixture_listen(int family, uint32_t addr4, unsigned port, int backlog, unsigned *bound)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, e;
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&ss, 0, sizeof ss);
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sin->sin_addr.s_addr = htonl(addr4);
		len = sizeof *sin;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof *sin6;
	}
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, backlog) != 0)
		goto fail;
	len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		goto fail;
	*bound = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
	                                 : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

bool pcp_fixture_parse_uint(const char *prog, const char *s, unsigned long min, unsigned long max,
                            unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, "%s: bad number \"%s\" (%lu..%lu)\n", prog, s, min, max);
		return false;
	}
	*out = (unsigned)v;
	return true;
}
