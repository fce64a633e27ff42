/* The client audit for pgJDBC 42.5.5 connection URLs: what ConnectionFactoryImpl
 * (enableSSL), LibPQFactory, NonValidatingFactory and MakeSSL make of the probe's
 * outcome, in pgJDBC's words. Unlike libpq, prefer does not fall back to plaintext after a
 * TLS failure, and an 'E' answer to SSLRequest reconnects in plaintext unless encryption
 * is required; LibPQFactory verifies nothing for prefer and require. */
#include <stdio.h>
#include <string.h>

#include "client.h"

#define MSG_NO_SSL "The server does not support SSL."

void pcp_client_decide_pgjdbc(const struct pcp_client_case *c, struct pcp_client_verdict *out)
{
	bool require = c->mode >= PCP_LIBPQ_REQUIRE;

	memset(out, 0, sizeof *out);
	if (pcp_client_unreachable(c, out))
		return;
	/* disable sends no SSLRequest; allow starts in plaintext. */
	if (c->mode == PCP_LIBPQ_DISABLE || c->mode == PCP_LIBPQ_ALLOW) {
		out->connects = true;
		return;
	}
	if (c->status == PCP_STATUS_NO_SSL ||
	    (c->status == PCP_STATUS_PROTOCOL_ERROR && c->status_error &&
	     strstr(c->status_error, "error response"))) {
		/* N goes on in plaintext, E reconnects in plaintext: unless SSL is required. */
		if (require)
			pcp_client_fail(out, MSG_NO_SSL);
		else
			out->connects = true;
		return;
	}
	if (c->status != PCP_STATUS_OK) {
		/* Any other answer, or a failed handshake: no plaintext retry, even for prefer. */
		snprintf(out->error, sizeof out->error, "SSL error: %s",
		         c->status_error && c->status_error[0] ? c->status_error : "failed");
		return;
	}
	if (c->factory == PCP_JDBC_OTHER) {
		pcp_client_fail(out, "an application's own sslfactory: not judged");
		return;
	}
	/* DefaultJavaSSLFactory verifies with the JVM's truststore, which the caller loaded
	 * (javax.net.ssl.trustStore as configured, else the JDK's cacerts) when it could. */
	if (c->factory == PCP_JDBC_DEFAULT_JAVA && !c->rootcert_exists) {
		out->undecided = true;
		pcp_client_fail(out, c->rootcert_error);
		return;
	}
	if (c->factory == PCP_JDBC_LIBPQ &&
	    (c->mode == PCP_LIBPQ_VERIFY_CA || c->mode == PCP_LIBPQ_VERIFY_FULL)) {
		if (!c->rootcert_exists) {
			/* FileInputStream fails on a missing file and a directory; a file that
			 * opens but holds no certificate fails to read. */
			snprintf(out->error, sizeof out->error,
			         c->rootcert_error && !c->rootcert_is_dir
			                 ? "Could not read SSL root certificate file %s."
			                 : "Could not open SSL root certificate file %s.",
			         c->rootcert ? c->rootcert : "~/.postgresql/root.crt");
			return;
		}
	}
	/* Without PKIX the JVM still applies its algorithm constraints to the served chain. */
	if (c->tls_refusal) {
		snprintf(out->error, sizeof out->error, "SSL error: %.200s", c->tls_refusal->error);
		return;
	}
	/* The chain (LibPQFactory with verify-ca/verify-full) and, for verify-full, the name
	 * (any factory) were judged by the caller into c->chain. */
	if (c->chain && !c->chain->ok) {
		bool name = c->chain->code == PCP_VERDICT_NAME_MISMATCH ||
		            c->chain->code == PCP_VERDICT_NO_HOST;

		if (name)
			pcp_client_fail(out, c->chain->error);
		else
			snprintf(out->error, sizeof out->error,
			         "SSL error: PKIX path validation failed: %s", c->chain->reason);
		return;
	}
	out->connects = true;
	out->encrypted = true;
}
