/* Java truststores as Java's default TrustManager reads them: PKCS#12 (keytool's default
 * since Java 9) and JKS, recognised by their content. Pure: bytes and a password in, the
 * certificates Java would trust out. The parser is bounded by the buffer it is given and
 * by Java's own limit on key-derivation iterations. Used by truststore. */
#ifndef PCP_JAVASTORE_H
#define PCP_JAVASTORE_H

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

enum pcp_javastore_format {
	PCP_JAVASTORE_NONE,   /* not a Java keystore (PEM, DER certificate, anything else) */
	PCP_JAVASTORE_JKS,    /* magic 0xFEEDFEED */
	PCP_JAVASTORE_JCEKS,  /* magic 0xCECECECE: recognised, not read */
	PCP_JAVASTORE_PKCS12, /* DER PFX, version 3, authSafe of type data */
};

/* Bytes the detector looks at: a longer prefix changes nothing. */
#define PCP_JAVASTORE_PROBE_LEN 32

/* Java's limit on PBKDF and MAC iterations (PKCS12KeyStore.MAX_ITERATION_COUNT). */
#define PCP_JAVASTORE_MAX_ITERATIONS 5000000UL

/* The format of a file that starts with these len bytes (at most PCP_JAVASTORE_PROBE_LEN
 * are read): JKS and JCEKS by their magic, PKCS#12 by the DER prefix Java's own probe
 * accepts (SEQUENCE, INTEGER 3, SEQUENCE, OID pkcs7-data). */
enum pcp_javastore_format pcp_javastore_detect(const unsigned char *buf, size_t len);

/* "PKCS#12", "JKS", "JCEKS", or "not a Java keystore". */
const char *pcp_javastore_format_name(enum pcp_javastore_format format);

enum pcp_javastore_kind {
	PCP_JAVASTORE_TRUSTED_CERT, /* trustedCertEntry */
	PCP_JAVASTORE_PRIVATE_KEY,  /* PrivateKeyEntry: its chain's first certificate is trusted */
	PCP_JAVASTORE_SECRET_KEY,   /* PKCS#12 SecretKeyEntry: trusts nothing */
};

/* One entry of the keystore as Java lists it (an alias given twice keeps the last). */
struct pcp_javastore_entry {
	char *alias; /* owned, UTF-8 */
	enum pcp_javastore_kind kind;
	X509 *anchor; /* owned: the certificate this entry adds to Java's trust anchors, or
	               * NULL (a secret key, a private key without a certificate) */
};

struct pcp_javastore {
	enum pcp_javastore_format format;
	struct pcp_javastore_entry *entries; /* owned, in file order */
	size_t n_entries;
	size_t n_anchors;       /* entries with an anchor */
	size_t n_certs;         /* certificates in the file that Java read (any entry or bag) */
	bool integrity_checked; /* a password verified the JKS digest or the PKCS#12 MAC */
	bool skipped_encrypted; /* PKCS#12: encrypted contents left unread for lack of a password */
};

struct pcp_javastore_opts {
	const char *password;         /* UTF-8, NUL-terminated; NULL or "" for none, as Java's
	                               * javax.net.ssl.trustStorePassword treats "" */
	unsigned long max_iterations; /* 0: PCP_JAVASTORE_MAX_ITERATIONS */
};

/* Reads a JKS or PKCS#12 keystore from buf. With a password, its integrity is verified (a
 * mismatch means a wrong password or a damaged file); without one, JKS is read unchecked
 * and PKCS#12 encrypted contents are skipped, as Java does. Fills out (the caller cleans it
 * up, also on failure). Errors: PCP_ERR_CONFIG for anything wrong with the bytes or the
 * password (the message names the format and entry, never the password), PCP_ERR_SYSTEM
 * for memory. */
enum pcp_errc pcp_javastore_parse(const unsigned char *buf, size_t len,
                                  const struct pcp_javastore_opts *opts, struct pcp_javastore *out,
                                  struct pcp_error *err);

void pcp_javastore_cleanup(struct pcp_javastore *js);

#endif
