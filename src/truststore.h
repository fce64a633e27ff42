/* Named trust stores: a PEM bundle (certificates, optionally CRLs) or a hashed certificate
 * directory, loaded fully into memory once before the loop starts and read-only after. */
#ifndef PCP_TRUSTSTORE_H
#define PCP_TRUSTSTORE_H

#include <openssl/x509.h>

#include "error.h"

struct pcp_store {
	char *name;        /* owned */
	char *path;        /* owned, as given */
	X509_STORE *store; /* owned */
	size_t n_certs;    /* certificates loaded */
};

/* Loads path (file or directory). A file or directory with no certificate, an unreadable
 * path or a broken PEM is an error naming the store and path (code PCP_ERR_CONFIG). */
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
};

/* Appends; rejects a duplicate name with PCP_ERR_USAGE. Takes ownership of store on
 * success only. */
enum pcp_errc pcp_store_list_add(struct pcp_store_list *list, struct pcp_store *store,
                                 struct pcp_error *err);
void pcp_store_list_cleanup(struct pcp_store_list *list);

/* A store as configured: a name and the PEM file or directory it is loaded from. */
struct pcp_store_spec {
	char *name; /* owned */
	char *path; /* owned; resolved against the config file's directory when from a file */
};

/* The index of the store called name, or -1. */
long pcp_store_list_find(const struct pcp_store_list *list, const char *name);

/* Loads every spec in order into list (stores loaded so far stay in list on failure). */
enum pcp_errc pcp_store_list_load(struct pcp_store_list *list, const struct pcp_store_spec *specs,
                                  size_t n, struct pcp_error *err);

#endif
