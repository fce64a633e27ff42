/* Java truststores built in memory for tests: JKS written byte by byte in the layout of
 * Java's JavaKeyStore, PKCS#12 assembled with OpenSSL the way keytool writes it (keys in
 * a plain SafeContents, certificates in an encrypted one, Oracle's trusted-key-usage
 * attribute on trusted certificates). Helpers return NULL on failure, printing why. */
#ifndef PCP_TESTJAVA_H
#define PCP_TESTJAVA_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

/* One keystore entry: a trusted certificate (certs[0]) or a private key with its chain. */
struct pcp_testjava_entry {
	const char *alias;  /* written as is (UTF-8; JKS: as modified UTF-8), NULL: PKCS#12
	                     * bag without friendlyName */
	EVP_PKEY *key;      /* non-NULL: a private-key entry whose chain is certs */
	X509 *const *certs; /* the trusted certificate, or the chain, leaf first */
	size_t n_certs;
	const char *leaf_alias; /* PKCS#12: friendlyName of the key's leaf bag, NULL: alias */
};

/* A JKS file (version 2) whose digest is keyed by password (NULL: an all-zero digest, as
 * if the file had been altered). The caller frees the result; *len is its size. */
unsigned char *pcp_testjava_jks(const struct pcp_testjava_entry *entries, size_t n,
                                const char *password, size_t *len);

enum pcp_testjava_enc {
	PCP_TESTJAVA_AES256, /* PBES2, PBKDF2 with HMAC-SHA256, AES-256-CBC: keytool since 17 */
	PCP_TESTJAVA_RC2_40, /* pbeWithSHA1And40BitRC2-CBC: keytool before 8u301 / 11.0.12 */
	PCP_TESTJAVA_PLAIN,  /* certificates unencrypted (keystore.pkcs12.certProtection NONE) */
};

struct pcp_testjava_p12_opts {
	enum pcp_testjava_enc enc;
	int iter;           /* encryption iterations, 0: 10000 */
	int mac_iter;       /* 0: 10000 */
	bool no_mac;        /* no MacData (keystore.pkcs12.macAlgorithm NONE) */
	bool untrusted;     /* no trusted-key-usage attribute, as openssl pkcs12 writes */
	const char *mac_pw; /* MAC keyed with this instead of the password (a damaged MAC) */
};

/* A PKCS#12 file. The caller frees the result; *len is its size. */
unsigned char *pcp_testjava_p12(const struct pcp_testjava_entry *entries, size_t n,
                                const char *password, const struct pcp_testjava_p12_opts *opts,
                                size_t *len);

/* Writes len bytes to a new file under dir (named name); returns its path in a static
 * buffer valid until the next call, or NULL. */
const char *pcp_testjava_write(const char *dir, const char *name, const unsigned char *buf,
                               size_t len);

#endif
