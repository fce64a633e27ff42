/* The client audit for pgx v4.15 strings (--client-driver pgx): pgconn 1.11's configTLS and
 * its fallbacks. prefer tries TLS without verification, then a new plaintext connection
 * after any failure ('N', 'E', a failed handshake); allow starts in plaintext; require
 * verifies like verify-ca only with a root file; without sslrootcert verify-ca and
 * verify-full use Go's system pool (pgx v4 reads no ~/.postgresql/root.crt). */
#include <stdio.h>
#include <string.h>

#include "client.h"

void pcp_client_decide_pgx(const struct pcp_client_case *c, struct pcp_client_verdict *out)
{
	const struct pcp_target *t = c->target;
	bool verifies = t && pcp_client_target_verifies(t, c->rootcert_exists);

	memset(out, 0, sizeof *out);
	if (pcp_client_unreachable(c, out))
		return;
	if (c->mode == PCP_LIBPQ_DISABLE) {
		out->connects = true;
		return;
	}
	/* configTLS reads the root file for every mode but disable (allow too, for its TLS
	 * fallback): a missing one fails before connecting. */
	if (t && t->sslrootcert && c->rootcert_is_dir) {
		pcp_driver_pgx.root_dir_error(t->sslrootcert, out->error, sizeof out->error);
		return;
	}
	if (t && t->sslrootcert && !c->rootcert_exists) {
		snprintf(out->error, sizeof out->error, "unable to read CA file: %s",
		         c->rootcert_error ? c->rootcert_error : "no such file or directory");
		return;
	}
	if (c->mode == PCP_LIBPQ_ALLOW) {
		out->connects = true;
		return;
	}
	/* 'N', 'E', a failed handshake, or a served certificate Go cannot parse. */
	if (c->status != PCP_STATUS_OK || c->tls_refusal) {
		if (c->mode == PCP_LIBPQ_PREFER)
			out->connects = true; /* the plaintext fallback */
		else
			pcp_client_fail(out, c->status == PCP_STATUS_NO_SSL
			                             ? "server refused TLS connection"
			                     : c->tls_refusal ? c->tls_refusal->error
			                                      : c->status_error);
		return;
	}
	pcp_client_tls_outcome(c, verifies,
	                       "x509: certificate signed by unknown authority (no system roots)",
	                       out);
}
