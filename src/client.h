/* The client audit: what libpq (15 to 18) does with exactly the connection string a target
 * was given as (its sslmode, its root file, its sslnegotiation), against what the server
 * serves. Decisions are pure; loading the root file is done once per path by the caller
 * through truststore. */
#ifndef PCP_CLIENT_H
#define PCP_CLIENT_H

#include <stdbool.h>

#include "error.h"
#include "result.h"
#include "targets.h"
#include "truststore.h"

/* The root file libpq would load for t: sslrootcert as written (relative paths as libpq
 * resolves them), or HOME/.postgresql/root.crt when the string names none, HOME being
 * client_home when given, else the home directory libpq would use. Returns a malloc'd
 * path, or NULL when no file would be loaded (the default file does not exist). */
char *pcp_client_rootcert_path(const struct pcp_target *t, const char *client_home);

/* The audited clients' home directory: client_home when given, else the one libpq would
 * use (pqGetHomeDirectory: $HOME when set and not empty, else the user's passwd entry).
 * Their ~/.postgresql/root.crt and ~/.pg_service.conf live there. Returns a malloc'd path,
 * or NULL when there is none (or out of memory). */
char *pcp_client_home(const char *client_home);

/* The store a client falls back to when its string names no root file, by its driver:
 * libpq and pgJDBC's LibPQFactory the home directory's root.crt (as above), pgx Go's
 * system pool (Debian: /etc/ssl/certs/ca-certificates.crt), node-postgres Node's bundled
 * roots (node_roots, a PEM snapshot; NULL when none is configured). Returns a malloc'd
 * path or NULL when there is none. */
char *pcp_client_store_path(const struct pcp_target *t, const char *client_home,
                            const char *node_roots);

/* Where Go's crypto/x509 looks first for the system pool on Debian (root_linux.go). */
#define PCP_GO_SYSTEM_ROOTS "/etc/ssl/certs/ca-certificates.crt"

/* HOME/.postgresql/root.crt (HOME as above) whether or not it exists: the path libpq names
 * when it is missing. Returns a malloc'd path, or NULL when there is no home directory. */
char *pcp_client_default_rootcert(const char *client_home);

/* Loads a root file as libpq's initialize_SSL does: stat() decides whether there is one
 * (NULL, error ""), and what is there must load as a certificate file (a directory or a
 * file without certificates does not: NULL, error = OpenSSL's reason). */
struct pcp_store *pcp_client_load_rootcert(const char *path, char *error, size_t errlen);

/* Where Debian's JDKs find their cacerts (java.home/lib/security/cacerts links there). */
#define PCP_JDK_CACERTS "/etc/ssl/certs/java/cacerts"

/* True when libpq verifies the chain for this mode: verify-ca, verify-full, or any mode
 * that sends SSLRequest with a root file present. */
bool pcp_client_verifies(enum pcp_libpq_sslmode mode, bool rootcert_exists);

/* The same for the client a target describes (its driver, and for pgJDBC its factory):
 * whether the chain is verified against its root file. */
bool pcp_client_target_verifies(const struct pcp_target *t, bool rootcert_exists);

/* Whether that client checks the host name (for pgJDBC's NonValidatingFactory, without
 * verifying the chain). */
bool pcp_client_target_checks_name(const struct pcp_target *t);

/* The inputs of one decision. */
struct pcp_client_case {
	enum pcp_libpq_sslmode mode;
	const char *rootcert;            /* path libpq opens (the default path when that file is
	                                  * missing), NULL when there is no home directory */
	bool rootcert_exists;            /* loaded and holds certificates */
	const char *rootcert_error;      /* the file exists but does not load: OpenSSL's reason
	                                  * (libpq: could not read root certificate file); NULL
	                                  * when it loaded or does not exist. pgJDBC's
	                                  * DefaultJavaSSLFactory: why its truststore is not
	                                  * known here */
	bool rootcert_is_dir;            /* ...because it is a directory */
	enum pcp_status status;          /* what the probe saw */
	const char *status_error;        /* the probe's error text */
	const struct pcp_verdict *chain; /* the chain under the root file (verify-ca rules for
	                                  * ca/require/prefer/allow, verify-full rules for
	                                  * verify-full); NULL when not verified */
	/* libpq 16+ (0 means 15: every field below then keeps libpq 15's behaviour). */
	int libpq_version;
	bool direct;                           /* the client's sslnegotiation=direct (17+) */
	bool system_roots;                     /* sslrootcert=system (16+): rootcert is "system" */
	enum pcp_negotiation probed;           /* how the probe asked for TLS */
	enum pcp_direct_tls direct_tls;        /* what the probe learnt about direct TLS */
	const char *alpn;                      /* the ALPN the server selected ("" or NULL: none) */
	const char *tls_error_libpq;           /* a failed handshake in libpq's words, or NULL */
	bool tls_eof;                          /* ...because the server closed the connection */
	const struct pcp_driver *driver;       /* whose rules decide; NULL: libpq */
	enum pcp_jdbc_factory factory;         /* pgJDBC's sslfactory */
	const struct pcp_target *target;       /* the string's other settings (node-postgres's TLS,
	                                        * pgx's sslrootcert) */
	const struct pcp_verdict *tls_refusal; /* the driver's TLS stack refuses the served
	                                        * chain whatever it trusts (Go's parser, Java's
	                                        * algorithm constraints without PKIX); NULL */
};

/* The client's outcome for one case (connects, encrypted, error in its driver's words). */
void pcp_client_decide(const struct pcp_client_case *c, struct pcp_client_verdict *out);

/* For the deciders: out->error = text ("failed" when empty). */
void pcp_client_fail(struct pcp_client_verdict *out, const char *text);

/* What every client does alike: a target never probed or not reached fails in every
 * mode with the probe's error. Returns true when that decided *out. */
bool pcp_client_unreachable(const struct pcp_client_case *c, struct pcp_client_verdict *out);

/* The end of a handshake that went through, for node-postgres and pgx: an encrypted
 * session, unless the client verifies and has no root store (no_roots says so) or the
 * chain failed under it (its error). */
void pcp_client_tls_outcome(const struct pcp_client_case *c, bool verifies, const char *no_roots,
                            struct pcp_client_verdict *out);

/* pgJDBC's (client_pgjdbc.c); pcp_client_decide calls it for pgJDBC cases. */
void pcp_client_decide_pgjdbc(const struct pcp_client_case *c, struct pcp_client_verdict *out);

/* node-postgres's and pgx's outcomes (client_node.c, client_pgx.c). */
void pcp_client_decide_node(const struct pcp_client_case *c, struct pcp_client_verdict *out);
void pcp_client_decide_pgx(const struct pcp_client_case *c, struct pcp_client_verdict *out);

/* The anchors in a loaded root file, marking the two roots of the Azure change by
 * fingerprint. Returns 0, or -1 on allocation failure. */
int pcp_client_roots(const struct pcp_store *store, struct pcp_client_root **out, size_t *n);

#endif
