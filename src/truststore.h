/* Named trust stores: a PEM bundle (certificates, optionally CRLs), a hashed certificate
 * directory, or a Java truststore (PKCS#12 or JKS, told apart by content), loaded fully
 * into memory once before the loop starts and read-only after. */
#ifndef PCP_TRUSTSTORE_H
#define PCP_TRUSTSTORE_H

#include <openssl/x509.h>
#include <stdbool.h>
#include <time.h>

#include "error.h"

/* What a store was read from. Java clients read only the last two. */
enum pcp_store_kind {
	PCP_STORE_PEM,       /* a PEM file, as libpq's sslrootcert */
	PCP_STORE_DIRECTORY, /* a hashed certificate directory */
	PCP_STORE_PKCS12,    /* a Java truststore in PKCS#12 (keytool's default) */
	PCP_STORE_JKS,       /* a Java truststore in JKS */
};

/* "pem", "directory", "pkcs12" or "jks": the names used in output. */
const char *pcp_store_kind_name(enum pcp_store_kind kind);

struct pcp_store {
	char *name;        /* owned */
	char *path;        /* owned, as given */
	X509_STORE *store; /* owned */
	size_t n_certs;    /* certificates loaded: for a Java store, its trust anchors */
	enum pcp_store_kind kind;
	bool integrity_checked; /* Java stores: a password verified the file (JKS digest,
	                         * PKCS#12 MAC); false when read without one */
	/* What they are: self-signed CAs (roots), other CAs (intermediates), and the rest
	 * (servers' own certificates); first_pin: the subject of the first non-root, owned or
	 * NULL. A driver that takes any store certificate as anchor trusts the non-roots as
	 * pins, which break when the server's intermediate or certificate rotates. */
	size_t n_roots, n_intermediates, n_leaves;
	char *first_pin;
	/* Java stores: the SHA-256 of every anchor whose alias holds " [jdk" (owned): what a
	 * JDK reading this file as its own lib/security/cacerts takes for its jdkCA roots
	 * (sun.security.util.AnchorCertificates). Debian's cacerts labels none. */
	unsigned char (*jdk_anchors)[32];
	size_t n_jdk_anchors;
	/* Some certificate has an EC key on a curve other than P-256, P-384 and P-521, which
	 * Java or Go may refuse where OpenSSL does not. */
	bool uncommon_curves;
	time_t modified; /* the file's modification time (0 for a directory or the system) */
};

/* Whether cert is one of jdk's "[jdk]" anchors (false when jdk is NULL). */
bool pcp_store_is_jdk_anchor(const struct pcp_store *jdk, X509 *cert);

/* cert's EC curve into buf ("P-256" where NIST names it, else OpenSSL's short name, or
 * "explicit parameters") and its key's bits; false when the key is not EC. */
bool pcp_cert_ec_curve(X509 *cert, char *buf, size_t len, int *bits);

/* Whether a curve (as named above) is one every driver has: P-256, P-384, P-521. */
bool pcp_curve_common(const char *curve);

/* Whether cert has an EC key on any other curve. */
bool pcp_cert_uncommon_curve(X509 *cert);

/* What a certificate is in a store: "root", "intermediate" or "leaf" (static). */
const char *pcp_store_cert_kind(X509 *cert);

/* Where a Java truststore's password comes from. */
enum pcp_password_source {
	PCP_PASSWORD_NONE,
	PCP_PASSWORD_LITERAL, /* --store-password */
	PCP_PASSWORD_FILE,    /* the first line of a file */
	PCP_PASSWORD_ENV,     /* an environment variable */
};

/* A store as configured: a name, the file or directory it is loaded from, and for a Java
 * truststore how to get its password. */
struct pcp_store_spec {
	char *name; /* owned */
	char *path; /* owned; resolved against the config file's directory when from a file */
	enum pcp_password_source pw_source;
	char *pw; /* owned, cleansed when freed: the password, its file or its variable */
};

/* Loads spec->path: a directory, a Java truststore (by content) or else a PEM file. A
 * path with no certificate (for a Java store: nothing Java would trust), an unreadable
 * path, a broken PEM, a damaged keystore, a wrong password or a password for a store that
 * is not a Java truststore is an error naming the store and path, never the password
 * (code PCP_ERR_CONFIG). */
struct pcp_store *pcp_store_load_spec(const struct pcp_store_spec *spec, struct pcp_error *err);

/* A PEM file or directory as libpq reads its root file: a Java truststore is not
 * recognised (it holds no PEM certificate). Errors as pcp_store_load_spec. */
struct pcp_store *pcp_store_load(const char *name, const char *path, struct pcp_error *err);

/* OpenSSL's default roots, as SSL_CTX_set_default_verify_paths would use them: the default
 * file and every directory of the default path ($SSL_CERT_FILE and $SSL_CERT_DIR override
 * them), all loaded now. Missing files and an empty result are not errors (that client
 * then trusts nothing). NULL only on allocation failure. */
struct pcp_store *pcp_store_load_system(const char *name, struct pcp_error *err);

void pcp_store_free(struct pcp_store *store);

/* A list of stores in run order. */
struct pcp_store_list {
	struct pcp_store **items; /* owned */
	size_t n;
	const char **names; /* items[i]->name, NULL-terminated (for writers) */
	const char **paths; /* items[i]->path, NULL-terminated */
	const char **kinds; /* pcp_store_kind_name(items[i]->kind), NULL-terminated */
};

/* Appends; rejects a duplicate name with PCP_ERR_USAGE. Takes ownership of store on
 * success only. */
enum pcp_errc pcp_store_list_add(struct pcp_store_list *list, struct pcp_store *store,
                                 struct pcp_error *err);
void pcp_store_list_cleanup(struct pcp_store_list *list);

/* Frees what a spec owns, cleansing the password, and zeroes it. */
void pcp_store_spec_cleanup(struct pcp_store_spec *spec);

/* The index of the store called name, or -1. */
long pcp_store_list_find(const struct pcp_store_list *list, const char *name);

/* Loads every spec in order into list (stores loaded so far stay in list on failure). */
enum pcp_errc pcp_store_list_load(struct pcp_store_list *list, const struct pcp_store_spec *specs,
                                  size_t n, struct pcp_error *err);

#endif
