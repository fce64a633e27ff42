/* Verification of a captured chain under one trust store at one instant, with exactly the
 * parameters OpenSSL's TLS client uses inside libpq: purpose/trust ssl_server, auth level
 * of a default SSL_CTX, no partial chains, trusted-first, then libpq's name check for
 * verify-full. */
#ifndef PCP_VERIFY_H
#define PCP_VERIFY_H

#include <time.h>

#include "chain.h"
#include "driver.h"
#include "error.h"
#include "result.h"
#include "truststore.h"

/* The security level of a default client SSL_CTX on this machine (Debian: 2). Computed
 * once; call before the loop starts. */
int pcp_verify_default_auth_level(void);

struct pcp_verify_params {
	time_t at;      /* verification instant */
	int auth_level; /* from pcp_verify_default_auth_level() */
	enum pcp_sslmode sslmode;
	const char *host; /* name for verify-full; NULL means none was given */
	/* The driver whose rules apply (chain rules; its name check for verify-full); NULL is
	 * libpq. auth_level above is used when the driver's own level is -1. */
	const struct pcp_driver *driver;
	/* The audited JDK's cacerts, whose "[jdk]" roots make Java refuse SHA-1 below them;
	 * NULL: none (as Debian's). Read for drivers with sha1_ok only. */
	const struct pcp_store *jdk_cacerts;
};

/* Fills out (caller cleans up with pcp_verdict_cleanup). Returns 0, or -1 on an internal
 * failure (allocation), with err set. A chain that does not verify is not a failure of
 * this function: out->ok is false and out->code/depth/error/reason say why. */
int pcp_verify_chain(const struct pcp_chain *chain, const struct pcp_store *store,
                     const struct pcp_verify_params *params, struct pcp_verdict *out,
                     struct pcp_error *err);

/* Whether driver's TLS stack refuses the served chain during the handshake, whatever it
 * trusts: Go cannot parse a certificate on a curve it lacks; Java without PKIX (a
 * trust-all manager) still applies its algorithm constraints to the served keys and
 * signatures. True with out filled as a failure; false (out untouched) otherwise. */
bool pcp_verify_driver_refuses(const struct pcp_driver *driver, const struct pcp_chain *chain,
                               struct pcp_verdict *out);

/* libpq's verify-full name check on a verdict whose chain verified (no-op otherwise):
 * mismatch, an unusable name or no host turn it into a failure with libpq's message. */
int pcp_verify_name(const struct pcp_cert_names *names, const char *host, struct pcp_verdict *out);

/* The same for driver's name rules (NULL: libpq's). */
int pcp_verify_driver_name(const struct pcp_driver *driver, const struct pcp_cert_names *names,
                           const char *host, struct pcp_verdict *out);

#endif
