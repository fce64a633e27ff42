/* The record of one probed address: status, timings, the captured chain's facts and one
 * verdict per trust store. Plain data only: writers read it without OpenSSL or sockets.
 * The runner owns each record; writers borrow it for one call. */
#ifndef PCP_RESULT_H
#define PCP_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Stable names (pcp_status_name) are part of the JSON contract: never renumber or rename. */
enum pcp_status {
	PCP_STATUS_OK,             /* TLS handshake completed, chain captured */
	PCP_STATUS_NO_SSL,         /* server answered N to SSLRequest */
	PCP_STATUS_REFUSED,        /* connect() failed: refused, unreachable, reset early */
	PCP_STATUS_TIMEOUT,        /* the probe's deadline passed */
	PCP_STATUS_DNS_FAILED,     /* the name did not resolve */
	PCP_STATUS_TLS_FAILED,     /* TLS handshake failed */
	PCP_STATUS_PROTOCOL_ERROR, /* E, unknown byte, EOF, or plaintext after S */
	PCP_STATUS_CANCELLED,      /* interrupted by SIGINT/SIGTERM */
	PCP_STATUS_INVALID_TARGET, /* the target text could not be used */
};

const char *pcp_status_name(enum pcp_status status);
/* The status in a few words for people ("no SSL", "timeout"), for cells and "error". */
const char *pcp_status_short(enum pcp_status status);

/* How the probe asked for TLS: SSLRequest first (every libpq), or a TLS ClientHello at once
 * with ALPN "postgresql" (libpq 17+ sslnegotiation=direct; PostgreSQL 17+ servers). */
enum pcp_negotiation {
	PCP_NEGOTIATION_POSTGRES,
	PCP_NEGOTIATION_DIRECT,
};

const char *pcp_negotiation_name(enum pcp_negotiation n);

/* Whether the server accepts direct TLS, and how that is known: a direct handshake
 * (negotiation direct), the ALPN the server chose over SSLRequest (PostgreSQL 17+ selects
 * "postgresql" on both paths, older servers ignore ALPN), or an N to SSLRequest (no TLS
 * at all). Unknown otherwise. */
enum pcp_direct_tls {
	PCP_DIRECT_UNKNOWN,
	PCP_DIRECT_ACCEPTED,
	PCP_DIRECT_REFUSED,
};

enum pcp_direct_basis {
	PCP_DIRECT_BY_HANDSHAKE,
	PCP_DIRECT_BY_ALPN,
	PCP_DIRECT_BY_NO_SSL,
};

/* "accepted", "refused" or NULL; "direct", "alpn" or "no_ssl". */
const char *pcp_direct_tls_name(enum pcp_direct_tls d);
const char *pcp_direct_basis_name(enum pcp_direct_basis b);

enum pcp_sslmode {
	PCP_SSLMODE_VERIFY_CA,
	PCP_SSLMODE_VERIFY_FULL,
};

const char *pcp_sslmode_name(enum pcp_sslmode mode);

#define PCP_SHA256_HEX 65 /* 64 hex digits + NUL */

/* Facts of one served certificate, as strings ready to print (untrusted bytes: escape). */
struct pcp_cert_facts {
	char *subject; /* RFC 2253 one-line form, owned */
	char *issuer;  /* owned */
	char *serial;  /* hex, owned */
	time_t not_before;
	time_t not_after;
	char sha256[PCP_SHA256_HEX];
	char **san; /* "DNS:name" / "IP:addr" entries, owned */
	size_t n_san;
	char *key;     /* e.g. "RSA 2048", "EC P-256", owned */
	char *sig_alg; /* e.g. "sha256WithRSAEncryption", owned */
	bool self_issued;
};

/* One store's verdict for the record's chain, host and sslmode at one instant. */
struct pcp_verdict {
	bool ok;         /* libpq with this store as sslrootcert passes the TLS phase */
	int code;        /* X509_V_ERR_* (0 when ok); PCP_VERDICT_NAME_MISMATCH for names */
	int depth;       /* depth of the failing certificate, -1 when not applicable */
	char error[256]; /* libpq-style text, empty when ok */
	char reason[96]; /* short reason for tables: "root expired 2025-05-12" */
	char (*path)[PCP_SHA256_HEX]; /* built path, leaf to anchor (as far as built), owned */
	size_t path_len;
	time_t path_not_after; /* earliest notAfter along the built path; 0 when none */
	char *anchor; /* subject of the last certificate of the built path, owned; NULL when none */
	bool expiring; /* ok, but the path stops verifying within --warn-days of the instant */
	bool pinned;   /* ok only because the store pins a certificate that is not a root (an
	                * intermediate or the server's own): anchor names it; a driver that
	                * takes any store certificate as anchor breaks when it rotates */
};

/* One client driver's verdicts for a record, laid out as the record's verdicts. */
struct pcp_driver_verdicts {
	const char *driver;           /* static name ("pgjdbc") */
	struct pcp_verdict *verdicts; /* [a * n_stores + i], owned */
	size_t n_verdicts;
};

/* Not an X509_V_ERR code: OpenSSL's codes stay below 100 in OpenSSL 3.0. */
#define PCP_VERDICT_NAME_MISMATCH   1000
#define PCP_VERDICT_NO_HOST         1001
#define PCP_VERDICT_UNSUPPORTED_KEY 1002 /* a driver cannot use a certificate's key */
#define PCP_VERDICT_ROOT_FILE       1003 /* a driver cannot read the store as its root file */

/* libpq's sslmode values, for audited clients (the verdict columns use pcp_sslmode). */
enum pcp_libpq_sslmode {
	PCP_LIBPQ_DISABLE,
	PCP_LIBPQ_ALLOW,
	PCP_LIBPQ_PREFER,
	PCP_LIBPQ_REQUIRE,
	PCP_LIBPQ_VERIFY_CA,
	PCP_LIBPQ_VERIFY_FULL,
};

const char *pcp_libpq_sslmode_name(enum pcp_libpq_sslmode mode);

/* One audited client's fate against the served (or the future) chain. */
struct pcp_client_verdict {
	bool undecided;  /* the probe saw nothing this client's negotiation would see (a
	                  * direct probe the server refused, for a client that sends
	                  * SSLRequest): connects and encrypted mean nothing, error says why */
	bool connects;   /* libpq with exactly that connection string connects */
	bool encrypted;  /* ...and the session is encrypted (prefer/allow may fall back) */
	char error[256]; /* libpq's reason when it would not connect, else "" */
};

/* A trust anchor found in a client's root file. */
struct pcp_client_root {
	char *subject; /* RFC 2253, owned */
	char sha256[PCP_SHA256_HEX];
	const char *known; /* "Baltimore CyberTrust Root", "DigiCert Global Root G2" or NULL */
	const char *kind;  /* static: "root", "intermediate" or "leaf" */
};

/* The client a connection-string target describes (its driver's behaviour with that
 * string). */
struct pcp_client {
	int libpq_version;              /* the libpq major whose rules decided */
	bool direct;                    /* sslnegotiation=direct */
	const char *driver;             /* static: "libpq", "pgjdbc", ... */
	const char *factory;            /* static: pgJDBC's sslfactory, else NULL */
	const char *tls;                /* static: node-postgres's TLS (plaintext, tls-no-verify,
	                                 * verify-chain, verify-full), else NULL */
	char *sslmode_text;             /* node-postgres: sslmode as written (owned), else NULL */
	enum pcp_libpq_sslmode sslmode; /* prefer when the string names none */
	char *rootcert;                 /* the file libpq would load, owned; NULL when none */
	bool rootcert_exists;           /* the file exists and holds certificates */
	bool verifies;                  /* libpq would verify the chain */
	/* pgJDBC's DefaultJavaSSLFactory: the JVM's truststore instead of a root file */
	const char *truststore_source; /* static: "jdk-cacerts" (the JDK's lib/security/cacerts)
	                                * or "javax.net.ssl.trustStore"; NULL for other clients */
	char *truststore;              /* its path, owned */
	char *truststore_store;        /* javax.net.ssl.trustStore: the --store, owned */
	const char *truststore_kind;   /* static: "jks" or "pkcs12"; NULL when not loaded */
	time_t truststore_modified;    /* the file's modification time, 0 when unknown */
	size_t truststore_anchors;     /* certificates Java trusts in it */
	struct pcp_client_root *roots; /* anchors in rootcert (or the truststore), owned */
	size_t n_roots;
	struct pcp_client_verdict now;
	bool has_after; /* --future-chain given */
	struct pcp_client_verdict after;
};

void pcp_client_cleanup(struct pcp_client *c);

/* One difference from a baseline run (--baseline) for the same target and address. */
struct pcp_change {
	const char *kind; /* static: leaf_rotated, intermediate_changed, anchor_changed,
	                   * verdict_flipped, newly_unreachable, reachable_again, new_address,
	                   * address_vanished */
	char *store;      /* for verdict_flipped: the store, owned; else NULL */
	char *from;       /* the baseline's value (fingerprint, anchor, "ok"/"fail", status,
	                   * address), owned, may be NULL */
	char *to;         /* this run's value, owned, may be NULL */
};

struct pcp_result {
	char *target;  /* the target as given, owned */
	char *host;    /* name checked and sent as SNI; may be NULL (hostaddr only) */
	char addr[64]; /* numeric address connected to ("" when none) */
	uint16_t port;
	enum pcp_sslmode sslmode; /* effective mode whose verdict is reported */
	enum pcp_status status;
	char error[512];      /* human text whenever status is not ok */
	char tls_version[16]; /* "TLSv1.3" */
	char tls_cipher[64];
	enum pcp_negotiation negotiation; /* how this probe asked for TLS */
	char alpn[32];                    /* the ALPN protocol the server selected, "" when none */
	enum pcp_direct_tls direct_tls;   /* does the server accept direct TLS */
	enum pcp_direct_basis direct_basis;
	char tls_error_libpq[256]; /* a failed handshake as libpq (with this OpenSSL) words it,
	                            * "" otherwise: for the client audit */
	bool tls_eof;              /* ...and it failed because the server closed the connection */
	double connect_ms;         /* time to TCP connected, -1 when not reached */
	double total_ms;           /* whole probe */
	struct pcp_cert_facts *chain; /* served chain, leaf first, owned */
	size_t chain_len;
	struct pcp_verdict *verdicts; /* per instant per store: [a * n_stores + i], owned */
	size_t n_verdicts;
	struct pcp_driver_verdicts *drivers; /* --driver verdicts besides libpq's, owned */
	size_t n_drivers;
	const char *class_name;     /* migration class: old-only, new-only, both, neither,
	                             * unreachable (static string) */
	char *anchor;               /* where the chain ends: the anchor of the first store that
	                             * verifies it, else where the first store's path ended;
	                             * owned, NULL when no chain */
	bool divergent;             /* the addresses of this target serve different chains */
	struct pcp_client *client;  /* owned; NULL unless the target is a connection string */
	struct pcp_verdict *future; /* --future-chain under each store, owned; NULL when none */
	size_t n_future;
	struct pcp_driver_verdicts *future_drivers; /* ...and each --driver's, owned */
	size_t n_future_drivers;
	struct pcp_change *changes; /* differences from --baseline, owned */
	size_t n_changes;
	bool has_baseline; /* --baseline given: changes is meaningful even when empty */
};

/* Frees everything the record owns (not the record itself); safe on a zeroed record. */
void pcp_result_cleanup(struct pcp_result *r);
void pcp_cert_facts_cleanup(struct pcp_cert_facts *f);
void pcp_verdict_cleanup(struct pcp_verdict *v);

/* Deep copies (dst is overwritten; on failure dst is left clean). Return 0 or -1. */
int pcp_cert_facts_copy(struct pcp_cert_facts *dst, const struct pcp_cert_facts *src);
int pcp_verdict_copy(struct pcp_verdict *dst, const struct pcp_verdict *src);

#endif
