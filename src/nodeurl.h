/* node-postgres connection strings (postgres://user@host:port/db?sslmode=…), read as
 * pg-connection-string 2.9.1 (node-postgres 8.16.3) reads them, down to what its TLS does:
 * plaintext, TLS without verification, the chain only, or chain and name. Pure: no I/O. */
#ifndef PCP_NODEURL_H
#define PCP_NODEURL_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

enum pcp_node_tls {
	PCP_NODE_PLAIN,     /* no ssl: no SSLRequest at all */
	PCP_NODE_NO_VERIFY, /* rejectUnauthorized: false */
	PCP_NODE_CHAIN,     /* the chain, no name (uselibpqcompat verify-ca, require + root) */
	PCP_NODE_FULL,      /* chain and name (Node's checkServerIdentity) */
};

const char *pcp_node_tls_name(enum pcp_node_tls t);

struct pcp_node_url {
	char *host; /* owned; brackets of an IPv6 literal removed */
	uint16_t port;
	enum pcp_node_tls tls;
	char *sslmode;     /* as written, owned; NULL when absent */
	char *sslrootcert; /* owned; NULL: Node's bundled roots */
	bool compat;       /* uselibpqcompat=true */
	char refusal[256]; /* pg-connection-string throws on this string at connect time */
};

/* Parses text (a postgres:// or postgresql:// URL). PCP_ERR_TARGET for what cannot be
 * probed or is not a URL, with err saying why. */
enum pcp_errc pcp_node_url_parse(const char *text, struct pcp_node_url *out, struct pcp_error *err);

void pcp_node_url_cleanup(struct pcp_node_url *u);

#endif
