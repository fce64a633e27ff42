/* The client audit for node-postgres 8.16.3 strings (--client-driver node-postgres): what
 * pg's Connection and Node's TLS make of the probe's outcome. No plaintext retry in any
 * mode: a string with TLS fails on 'N' and on any TLS or verification failure; without
 * TLS there is no SSLRequest at all. Messages are Node's and pg's. */
#include <stdio.h>
#include <string.h>

#include "client.h"

void pcp_client_decide_node(const struct pcp_client_case *c, struct pcp_client_verdict *out)
{
	const struct pcp_target *t = c->target;

	memset(out, 0, sizeof *out);
	if (t && t->client_refusal) {
		pcp_client_fail(out, t->client_refusal);
		return;
	}
	if (pcp_client_unreachable(c, out))
		return;
	if (!t) {
		out->connects = true;
		return;
	}
	/* sslrootcert is read (readFileSync) while the string is parsed, whatever the
	 * sslmode, disable included. */
	if (t->sslrootcert && !c->rootcert_exists && !c->rootcert_error) {
		snprintf(out->error, sizeof out->error,
		         "ENOENT: no such file or directory, open '%s'", t->sslrootcert);
		return;
	}
	if (t->sslrootcert && c->rootcert_is_dir) {
		pcp_driver_node.root_dir_error(t->sslrootcert, out->error, sizeof out->error);
		return;
	}
	if (t->client_tls == PCP_NODE_PLAIN) {
		out->connects = true;
		return;
	}
	if (c->status == PCP_STATUS_NO_SSL) {
		pcp_client_fail(out, "The server does not support SSL connections");
		return;
	}
	if (c->status != PCP_STATUS_OK) {
		pcp_client_fail(out, c->status_error);
		return;
	}
	pcp_client_tls_outcome(c, t->client_tls != PCP_NODE_NO_VERIFY,
	                       c->rootcert
	                               ? "the root file holds no certificate Node can use"
	                               : "Node's bundled roots are not configured (--node-roots)",
	                       out);
}
