/* libpq 15 (Debian 12, OpenSSL 3.0) as a driver: the reference. Its chain rules are
 * verify.c's defaults; its name rules are hostmatch.c's. */
#include "driver.h"

static enum pcp_hostmatch libpq_match(const struct pcp_cert_names *names, const char *host,
                                      char *msg, size_t msglen, char *reason, size_t reasonlen)
{
	enum pcp_hostmatch m = pcp_hostmatch_cert(names, host, msg, msglen);

	if (m != PCP_HOST_MATCH)
		pcp_driver_msg(reason, reasonlen, "%s",
		               m == PCP_HOST_MISMATCH ? "name mismatch"
		                                      : "invalid name in certificate");
	return m;
}

const struct pcp_driver pcp_driver_libpq = {
        .name = "libpq",
        .implements = "libpq 15 with OpenSSL 3.0 (Debian 12)",
        .chain = {.auth_level = -1},
        .match = libpq_match,
};
