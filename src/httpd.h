/* An HTTP server on the libev loop: libmicrohttpd with no thread of its own. Its epoll
 * descriptor is watched by an ev_io, and MHD_run is driven from that and from a timer set
 * from MHD_get_timeout, so request handlers run on the loop the probes use. Parsing HTTP is
 * MHD's; the exporter gives the handlers. Limits for hostile clients (connections at once,
 * per client address, idle time, bytes of request line and headers) are MHD's options. */
#ifndef PCP_HTTPD_H
#define PCP_HTTPD_H

#include <ev.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct pcp_httpd_config {
	struct ev_loop *loop;
	const char *listen;       /* ADDR:PORT, [IPV6]:PORT, NAME:PORT or :PORT (every address) */
	unsigned max_connections; /* open at once, all clients */
	unsigned max_per_ip;      /* open at once from one client address */
	unsigned idle_timeout;    /* seconds without a byte before a connection is closed */
	size_t memory_limit;      /* bytes per connection for the request line and headers */
	MHD_AccessHandlerCallback handler;
	MHD_RequestCompletedCallback completed; /* after each request, answered or not */
	void *arg;                              /* for handler and completed */
	bool trace;                             /* MHD's own messages to stderr */
};

struct pcp_httpd;

/* Binds cfg->listen and starts serving. NULL with err set: PCP_ERR_USAGE for a value that is
 * not an address of this machine with a port, PCP_ERR_SYSTEM when the port cannot be had
 * (in use, no permission) or MHD cannot start. */
struct pcp_httpd *pcp_httpd_new(const struct pcp_httpd_config *cfg, struct pcp_error *err);

/* Where it listens: "ADDR:PORT" or "[IPV6]:PORT", with the port actually bound. */
const char *pcp_httpd_address(const struct pcp_httpd *h);

/* Resumes a connection a handler suspended (MHD_suspend_connection): MHD calls the handler
 * again on the next turn of the loop. */
void pcp_httpd_resume(struct pcp_httpd *h, struct MHD_Connection *c);

/* Stops accepting connections; those open are still served. */
void pcp_httpd_quiesce(struct pcp_httpd *h);

/* Connections open now. */
unsigned pcp_httpd_connections(const struct pcp_httpd *h);

/* Stops the server and closes every connection; none may be suspended then. NULL: no-op. */
void pcp_httpd_free(struct pcp_httpd *h);

#endif
