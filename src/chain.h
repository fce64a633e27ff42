/* A captured certificate chain, as served (leaf first), holding its own references to the
 * X509 objects, and the extraction of printable facts and names from it. */
#ifndef PCP_CHAIN_H
#define PCP_CHAIN_H

#include <openssl/x509.h>
#include <stdio.h>

#include "error.h"
#include "hostmatch.h"
#include "result.h"

struct pcp_chain {
	STACK_OF(X509) * certs; /* owned, each certificate up-referenced; leaf at index 0 */
};

/* Copies a chain served by a peer (SSL_get_peer_cert_chain, NULL counts as empty), taking
 * a reference on each certificate so it outlives the SSL object. Returns NULL on
 * allocation failure only. */
struct pcp_chain *pcp_chain_from_stack(const STACK_OF(X509) * served);

/* Reads every certificate of a PEM file, in file order. NULL with err set when the file
 * cannot be read or holds no certificate. */
struct pcp_chain *pcp_chain_load_pem(const char *path, struct pcp_error *err);

void pcp_chain_free(struct pcp_chain *chain);

size_t pcp_chain_len(const struct pcp_chain *chain);
X509 *pcp_chain_get0(const struct pcp_chain *chain, size_t i);

/* Fills facts for certificate i; returns 0, or -1 on allocation failure. */
int pcp_chain_facts(const struct pcp_chain *chain, size_t i, struct pcp_cert_facts *out);

/* A name as one RFC 2253 line, UTF-8 kept (malloc'd; NULL on allocation failure). */
char *pcp_x509_name_text(const X509_NAME *name);

/* An ASN1_TIME as time_t (0 when absent or unreadable). */
time_t pcp_asn1_time(const ASN1_TIME *t);

/* Lower-case hex SHA-256 of a certificate's DER encoding. */
void pcp_cert_sha256_hex(X509 *cert, char out[PCP_SHA256_HEX]);

/* The leaf's names for libpq's verify-full check (hostmatch). Free with
 * pcp_cert_names_cleanup. Returns 0, or -1 on allocation failure. */
int pcp_chain_leaf_names(const struct pcp_chain *chain, struct pcp_cert_names *out);

/* Writes the chain as PEM, leaf first, as served. Returns 0 or -1 (errno set). */
int pcp_chain_write_pem(const struct pcp_chain *chain, FILE *out);

#endif
