/* Small pieces the fixture servers (hostile_server, load_server) share: a non-blocking
 * listener and the parsing of a bounded number option. */
#ifndef PCP_FIXTURENET_H
#define PCP_FIXTURENET_H

#include <stdbool.h>
#include <stdint.h>

/* A non-blocking, close-on-exec, SO_REUSEADDR listener. family AF_INET takes addr4 (host
 * order); AF_INET6 listens on ::1 only (IPV6_V6ONLY). port 0 is ephemeral; *bound gets the
 * port. Returns the fd, or -1 with errno set. */
int pcp_fixture_listen(int family, uint32_t addr4, unsigned port, int backlog, unsigned *bound);

/* Parses s as a decimal in [min, max]; on error prints "PROG: bad number" to stderr. */
bool pcp_fixture_parse_uint(const char *prog, const char *s, unsigned long min, unsigned long max,
                            unsigned *out);

#endif
