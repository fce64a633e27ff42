/* Client drivers as policies: what libpq, pgJDBC, node-postgres and pgx each decide about
 * one captured chain, store, host, sslmode and instant. The chain is verified by verify.c
 * for every driver; a driver is data (its chain rules) and one hook (its verify-full name
 * check), each in its own file (driver_libpq.c, driver_pgjdbc.c, driver_node.c,
 * driver_pgx.c). The registry (driver.c) finds them by name. Pure: no I/O. */
#ifndef PCP_DRIVER_H
#define PCP_DRIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "hostmatch.h"

/* Which elliptic curves a driver's TLS stack can use, beyond the security level's limits. */
enum pcp_driver_curves {
	PCP_CURVES_OPENSSL, /* every curve OpenSSL knows */
	PCP_CURVES_JAVA,    /* Java 17 (SunEC): jdk.certpath.disabledAlgorithms refuses "EC
	                     * keySize < 224" in the path; of the rest only P-256, P-384 and
	                     * P-521 verify a signature ("Curve not supported") */
	PCP_CURVES_GO,      /* Go 1.19: a served certificate on any curve but P-224, P-256,
	                     * P-384 and P-521 does not parse, and the handshake fails */
};

/* How a driver's TLS stack verifies a chain, as differences from libpq's OpenSSL. */
struct pcp_driver_chain {
	bool any_anchor;          /* every store certificate is a trust anchor: a store that
	                           * holds an intermediate or the server's own certificate
	                           * completes the chain there (Java PKIX, Go x509) */
	bool anchor_time_ignored; /* the anchor's own validity is not checked (Java PKIX) */
	bool sha1_ok;             /* SHA-1 signatures below the anchor pass (Java), unless the
	                           * anchor is one of the JDK's "[jdk]" cacerts roots
	                           * (jdk.certpath.disabledAlgorithms "SHA1 jdkCA & usage
	                           * TLSServer") */
	bool ca_eku_ignored;      /* an intermediate's extended key usage is not checked (Java) */
	enum pcp_driver_curves curves;
	bool key_size_any; /* no minimum key size (Go) */
	int auth_level;    /* the OpenSSL security level its limits match; -1: this
	                    * machine's default, as libpq */
};

struct pcp_driver {
	const char *name;       /* as --driver takes it and outputs key it: "pgjdbc" */
	const char *implements; /* the exact versions whose rules these are */
	struct pcp_driver_chain chain;
	bool verify_ca_checks_name; /* sslmode=verify-ca in its connection string checks the
	                             * host name too (node-postgres without uselibpqcompat) */
	/* Its words for a root file that is a directory, which it cannot read (NULL: libpq,
	 * whose stores may be hashed directories). */
	void (*root_dir_error)(const char *path, char *msg, size_t msglen);
	/* verify-full's decision for host on a chain that verified: PCP_HOST_MATCH, else
	 * MISMATCH or ERROR with the driver's message in msg and a short reason in reason. */
	enum pcp_hostmatch (*match)(const struct pcp_cert_names *names, const char *host, char *msg,
	                            size_t msglen, char *reason, size_t reasonlen);
};

extern const struct pcp_driver pcp_driver_libpq;
extern const struct pcp_driver pcp_driver_pgjdbc;
extern const struct pcp_driver pcp_driver_node;
extern const struct pcp_driver pcp_driver_pgx;

/* The known drivers in a fixed order (libpq first); NULL past the end. */
const struct pcp_driver *pcp_driver_at(size_t i);

/* The driver called name, or NULL. */
const struct pcp_driver *pcp_driver_find(const char *name);

/* "libpq, pgjdbc, node-postgres, pgx" into buf (for usage errors). */
void pcp_driver_list(char *buf, size_t len);

/* The driver's name text helpers share: printf into msg, tolerating NULL/0. */
void pcp_driver_msg(char *msg, size_t len, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* A certificate name as a C string when it holds no NUL (else NULL): copies into buf. */
const char *pcp_driver_name_text(const struct pcp_name *n, char *buf, size_t len);

#endif
