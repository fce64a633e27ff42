/* Asynchronous name resolution on the libev loop with c-ares: every A and AAAA record of a
 * name, the hosts file first as the system resolver does, optional pinned answers
 * (--resolve HOST:PORT:ADDR) and an optional DNS server (--dns-server ADDR[:PORT]).
 * Never blocks on the network; callbacks come from the loop, never from inside
 * pcp_resolve_start (cancel_all and free run the cancelled callbacks before returning).
 * c-ares 1.18 reads the hosts file on each lookup: a small local read, not a DNS wait. */
#ifndef PCP_RESOLVE_H
#define PCP_RESOLVE_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "error.h"

struct pcp_resolver;

struct pcp_resolve_opts {
	int family;             /* AF_UNSPEC (default), AF_INET (-4) or AF_INET6 (-6) */
	const char *dns_server; /* "ADDR" or "ADDR:PORT" / "[V6]:PORT"; NULL: system resolv.conf */
	double timeout;         /* seconds for one lookup, all tries included */
};

/* The outcome of one lookup. On success addrs holds n >= 1 distinct addresses (port set),
 * in the resolver's order; on failure n == 0 and error says why, in words like libpq's
 * "could not translate host name \"NAME\" to address: REASON". Both are valid only during
 * the callback. */
struct pcp_resolved {
	const struct sockaddr_storage *addrs;
	size_t n;
	const char *error; /* NULL on success */
	int cancelled;     /* non-zero when ended by pcp_resolver_cancel_all */
};

typedef void (*pcp_resolve_cb)(void *arg, const struct pcp_resolved *res);

/* Creates a resolver on loop. NULL with err set (PCP_ERR_USAGE for a bad dns_server,
 * PCP_ERR_SYSTEM otherwise). */
struct pcp_resolver *pcp_resolver_new(struct ev_loop *loop, const struct pcp_resolve_opts *opts,
                                      struct pcp_error *err);

/* Frees the resolver; pending lookups end with cancelled callbacks first. */
void pcp_resolver_free(struct pcp_resolver *r);

/* Pins host:port to addresses, like curl's --resolve HOST:PORT:ADDR[,ADDR...]. spec is the
 * whole option value. PCP_ERR_USAGE with a message naming spec when malformed. */
enum pcp_errc pcp_resolver_pin(struct pcp_resolver *r, const char *spec, struct pcp_error *err);

/* Validates a --resolve spec without a resolver (for option parsing). */
enum pcp_errc pcp_resolve_spec_check(const char *spec, struct pcp_error *err);

/* Validates a --dns-server value as pcp_resolver_new reads it, without a resolver (for
 * option parsing). PCP_ERR_USAGE with a message naming v when malformed. */
enum pcp_errc pcp_resolve_server_check(const char *v, struct pcp_error *err);

/* Starts resolving name for port (IP literals are answered too, without DNS). cb runs
 * exactly once, later, from the loop. Returns 0, or -1 with err set when the lookup could
 * not even be queued (out of memory, or the resolver is being freed). */
int pcp_resolve_start(struct pcp_resolver *r, const char *name, uint16_t port, pcp_resolve_cb cb,
                      void *arg, struct pcp_error *err);

/* The pending lookups started with arg end without their callback: the caller no longer
 * waits for them and may free arg at once. O(pending). Not from a callback that
 * pcp_resolver_cancel_all or _free runs (their batch is out of reach). */
void pcp_resolve_forget(struct pcp_resolver *r, const void *arg);

/* Ends every pending lookup: each callback runs once with cancelled set. */
void pcp_resolver_cancel_all(struct pcp_resolver *r);

/* Lookups started and not yet called back. */
size_t pcp_resolver_pending(const struct pcp_resolver *r);

#endif
