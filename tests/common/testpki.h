/* A small in-memory PKI for tests: keys and certificates with full control over names,
 * dates, extensions and signature digest, so that unit tests verify at pinned instants and
 * integration fixtures can write the same certificates to files. Helpers print OpenSSL's
 * errors to stderr and return NULL/-1 on failure; tests assert on the result. */
#ifndef PCP_TESTPKI_H
#define PCP_TESTPKI_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "chain.h"

enum pcp_testpki_keytype {
	PCP_TESTPKI_RSA,     /* bits as given (e.g. 1024, 2048) */
	PCP_TESTPKI_EC_P256, /* bits ignored */
	PCP_TESTPKI_ED25519, /* bits ignored; signs without a digest */
};

/* Generates a fresh key. The caller owns it (EVP_PKEY_free). NULL on failure. */
EVP_PKEY *pcp_testpki_key(enum pcp_testpki_keytype type, int bits);

/* UTC calendar time to time_t (timegm), e.g. pcp_testpki_time(2025, 5, 12, 23, 59, 0). */
time_t pcp_testpki_time(int year, int month, int day, int hour, int min, int sec);

/* Basic constraints of a certificate. */
enum pcp_testpki_bc {
	PCP_TESTPKI_BC_LEAF = 0, /* basicConstraints critical CA:FALSE */
	PCP_TESTPKI_BC_CA,       /* basicConstraints critical CA:TRUE (pathlen if set) */
	PCP_TESTPKI_BC_NONE,     /* no basicConstraints extension at all */
};

/* keyUsage bits as flags (bit n of the ASN.1 BIT STRING = 1 << n). 0 = no extension. */
enum {
	PCP_TESTPKI_KU_DIGITAL_SIGNATURE = 1 << 0,
	PCP_TESTPKI_KU_KEY_ENCIPHERMENT = 1 << 2,
	PCP_TESTPKI_KU_KEY_AGREEMENT = 1 << 4,
	PCP_TESTPKI_KU_KEY_CERT_SIGN = 1 << 5,
	PCP_TESTPKI_KU_CRL_SIGN = 1 << 6,
};

/* extendedKeyUsage. */
enum pcp_testpki_eku {
	PCP_TESTPKI_EKU_NONE = 0, /* no extension */
	PCP_TESTPKI_EKU_SERVER,   /* serverAuth */
	PCP_TESTPKI_EKU_CLIENT,   /* clientAuth only */
	PCP_TESTPKI_EKU_SERVER_CLIENT,
};

enum pcp_testpki_digest {
	PCP_TESTPKI_SHA256 = 0,
	PCP_TESTPKI_SHA1,
};

/* A byte string that may hold NUL bytes; len 0 means strlen(data). */
struct pcp_testpki_bytes {
	const char *data;
	size_t len;
};

/* Everything about a certificate but its keys. A zeroed spec (plus dates) gives a v3
 * leaf with no names, serial 1, CA:FALSE, SHA-256, subject and authority key ids. */
struct pcp_testpki_spec {
	const char *cn;  /* first commonName, NULL for none */
	size_t cn_len;   /* 0: strlen(cn); set it to embed NUL bytes */
	int cn_type;     /* ASN.1 string type of the first CN: 0 = UTF8String, or e.g.
	                  * V_ASN1_BMPSTRING with cn holding the raw (UTF-16BE) bytes */
	const char *cn2; /* second commonName (after the first), NULL for none */
	const char *org; /* organizationName placed before the CNs, NULL for none */
	uint64_t serial; /* 0 means 1 */
	time_t not_before;
	time_t not_after;
	enum pcp_testpki_bc bc;
	bool set_pathlen; /* with PCP_TESTPKI_BC_CA: add pathLenConstraint = pathlen */
	int pathlen;
	int key_usage; /* PCP_TESTPKI_KU_* flags, 0 = no keyUsage extension */
	enum pcp_testpki_eku eku;
	const struct pcp_testpki_bytes *dns; /* dNSName SANs, raw bytes */
	size_t n_dns;
	const struct pcp_testpki_bytes *ip; /* iPAddress SANs, raw bytes (len must be set) */
	size_t n_ip;
	const char *uri;   /* one uniformResourceIdentifier SAN, NULL for none */
	const char *email; /* one rfc822Name SAN, NULL for none */
	enum pcp_testpki_digest digest;
	bool no_key_ids; /* omit subjectKeyIdentifier and authorityKeyIdentifier */
};

/* Issues a certificate for key's public half, signed by issuer_key with issuer's subject
 * as issuer name, or self-signed by key when issuer is NULL (issuer_key ignored). The
 * caller owns the result (X509_free). NULL on failure. */
X509 *pcp_testpki_cert(const struct pcp_testpki_spec *spec, EVP_PKEY *key, X509 *issuer,
                       EVP_PKEY *issuer_key);

/* A CRL issued by issuer (signed with issuer_key, SHA-256) valid from last_update to
 * next_update, revoking the given serials (revoked at last_update). The caller owns it
 * (X509_CRL_free). NULL on failure. */
X509_CRL *pcp_testpki_crl(X509 *issuer, EVP_PKEY *issuer_key, time_t last_update,
                          time_t next_update, const uint64_t *revoked, size_t n_revoked);

/* A chain of the given certificates in order (leaf first), NULL-terminated argument
 * list; each certificate gets its own reference, the caller keeps theirs. Free with
 * pcp_chain_free. NULL on failure. */
struct pcp_chain *pcp_testpki_chain(X509 *first, ...);

/* Writes certificates as PEM to path (created or truncated, mode 0644). 0 or -1. */
int pcp_testpki_write_certs(const char *path, X509 *const *certs, size_t n);

/* Appends a CRL as PEM to path (created if missing). 0 or -1. */
int pcp_testpki_append_crl(const char *path, X509_CRL *crl);

/* Writes a private key as unencrypted PKCS#8 PEM (mode 0600, as servers demand). 0 or -1. */
int pcp_testpki_write_key(const char *path, EVP_PKEY *key);

/* Writes arbitrary bytes to path (for broken PEM and similar fixtures). 0 or -1. */
int pcp_testpki_write_file(const char *path, const void *data, size_t len);

#endif
