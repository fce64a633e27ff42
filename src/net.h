/* Non-blocking TCP sockets: connect, completion check, errno mapping, and the open-file
 * limit the concurrency needs. No event loop here: the probe drives these. */
#ifndef PCP_NET_H
#define PCP_NET_H

#include <stdbool.h>
#include <sys/socket.h>

#include "error.h"
#include "result.h"

enum pcp_net_rc {
	PCP_NET_CONNECTED,
	PCP_NET_IN_PROGRESS,
	PCP_NET_FAILED,
};

/* Opens a non-blocking, close-on-exec socket and starts connecting. On failure *fd is -1,
 * *status says how to report it and err holds the reason. */
enum pcp_net_rc pcp_net_connect(const struct sockaddr *sa, socklen_t len, int *fd,
                                enum pcp_status *status, struct pcp_error *err);

/* After the socket turned writable: 0 when connected, else errno from SO_ERROR. */
int pcp_net_connect_result(int fd);

/* The status a failed connect or early read maps to: refused for ECONNREFUSED,
 * unreachable networks and hosts; timeout for ETIMEDOUT. */
enum pcp_status pcp_net_connect_status(int errnum);

/* Formats addr as numeric text without brackets and returns its port. */
int pcp_net_addr_text(const struct sockaddr *sa, char *buf, size_t len, unsigned *port);

/* Raises the soft open-file limit towards what `want` descriptors need. Returns how many
 * probes can be in flight with the limit obtained (<= want). */
unsigned pcp_net_fit_concurrency(unsigned want);

#endif
