/* Captured certificate chains: owned copies of what a server sent (or a PEM file held),
 * the printable facts of each certificate for the result record, the leaf's names for
 * libpq's host name check, and PEM export. */
#include "chain.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static struct pcp_chain *chain_new(void)
{
	struct pcp_chain *chain = calloc(1, sizeof *chain);

	if (!chain)
		return NULL;
	if (!(chain->certs = sk_X509_new_null())) {
		free(chain);
		return NULL;
	}
	return chain;
}

struct pcp_chain *pcp_chain_from_stack(const STACK_OF(X509) * served)
{
	struct pcp_chain *chain = chain_new();

	if (!chain)
		return NULL;
	for (int i = 0; i < sk_X509_num(served); i++) {
		X509 *x = sk_X509_value(served, i);

		/* The SSL object keeps its own references; ours must outlive it. */
		if (!X509_up_ref(x))
			goto fail;
		if (!sk_X509_push(chain->certs, x)) {
			X509_free(x);
			goto fail;
		}
	}
	return chain;
fail:
	pcp_chain_free(chain);
	return NULL;
}

struct pcp_chain *pcp_chain_load_pem(const char *path, struct pcp_error *err)
{
	struct stat st;
	struct pcp_chain *chain = NULL;
	BIO *in;
	X509 *x;
	unsigned long e;

	ERR_clear_error();
	errno = 0;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
		pcp_error_set(err, PCP_ERR_INPUT, "%s: not a regular file or a pipe", path);
		return NULL;
	}
	if (!(in = BIO_new_file(path, "r"))) {
		int saved = errno;

		ERR_clear_error();
		pcp_error_set(err, PCP_ERR_INPUT, "%s: %s", path,
		              saved ? strerror(saved) : "cannot open");
		return NULL;
	}
	if (!(chain = chain_new())) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "%s: out of memory", path);
		goto fail;
	}
	/* PEM_read_bio_X509 skips blocks of other types (keys, CRLs) on its own. */
	while ((x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(chain->certs, x)) {
			X509_free(x);
			pcp_error_set(err, PCP_ERR_SYSTEM, "%s: out of memory", path);
			goto fail;
		}
	}
	/* The loop ends on "no start line" at end of input; anything else is a broken PEM. */
	e = ERR_peek_last_error();
	if (e && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
		pcp_error_set(err, PCP_ERR_INPUT, "%s: broken PEM", path);
		pcp_error_append_openssl(err);
		goto fail;
	}
	ERR_clear_error();
	if (sk_X509_num(chain->certs) == 0) {
		pcp_error_set(err, PCP_ERR_INPUT, "%s holds no certificate", path);
		goto fail;
	}
	BIO_free(in);
	return chain;
fail:
	BIO_free(in);
	pcp_chain_free(chain);
	return NULL;
}

void pcp_chain_free(struct pcp_chain *chain)
{
	if (!chain)
		return;
	sk_X509_pop_free(chain->certs, X509_free);
	free(chain);
}

size_t pcp_chain_len(const struct pcp_chain *chain)
{
	int n = chain ? sk_X509_num(chain->certs) : 0;

	return n > 0 ? (size_t)n : 0;
}

X509 *pcp_chain_get0(const struct pcp_chain *chain, size_t i)
{
	if (i >= pcp_chain_len(chain))
		return NULL;
	return sk_X509_value(chain->certs, (int)i);
}

void pcp_cert_sha256_hex(X509 *cert, char out[PCP_SHA256_HEX])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	out[0] = '\0';
	if (!X509_digest(cert, EVP_sha256(), md, &len) || len != 32)
		return;
	for (unsigned int i = 0; i < len; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[64] = '\0';
}

/* A heap copy of len bytes, NUL-terminated. */
static char *dup_bytes(const void *data, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		return NULL;
	if (len)
		memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

char *pcp_x509_name_text(const X509_NAME *name)
{
	/* RFC 2253 order and escaping, but UTF-8 kept as is rather than \XX-escaped. */
	unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
	BIO *mem = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long len;

	if (!mem)
		return NULL;
	if (X509_NAME_print_ex(mem, name, 0, flags) >= 0) {
		len = BIO_get_mem_data(mem, &data);
		if (len >= 0)
			out = dup_bytes(data, (size_t)len);
	}
	BIO_free(mem);
	return out;
}

static char *serial_hex(X509 *cert)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex, *out = NULL;

	if (!bn)
		return NULL;
	if ((hex = BN_bn2hex(bn)) != NULL) {
		out = dup_bytes(hex, strlen(hex));
		OPENSSL_free(hex);
		for (char *p = out; p && *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	BN_free(bn);
	return out;
}

time_t pcp_asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

/* prefix + bytes, with embedded NUL bytes shown as \x00 so C strings keep them visible. */
static char *prefixed(const char *prefix, const unsigned char *data, size_t len)
{
	size_t plen = strlen(prefix), nul = 0, pos;
	char *s;

	for (size_t i = 0; i < len; i++)
		nul += data[i] == '\0';
	if (!(s = malloc(plen + len + 3 * nul + 1)))
		return NULL;
	memcpy(s, prefix, plen);
	pos = plen;
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\0') {
			memcpy(s + pos, "\\x00", 4);
			pos += 4;
		} else {
			s[pos++] = (char)data[i];
		}
	}
	s[pos] = '\0';
	return s;
}

static char *ip_text(const ASN1_OCTET_STRING *ip)
{
	const unsigned char *d = ASN1_STRING_get0_data(ip);
	int len = ASN1_STRING_length(ip);
	char buf[INET6_ADDRSTRLEN + 32];

	if (len == 4 && inet_ntop(AF_INET, d, buf + 3, sizeof buf - 3))
		memcpy(buf, "IP:", 3);
	else if (len == 16 && inet_ntop(AF_INET6, d, buf + 3, sizeof buf - 3))
		memcpy(buf, "IP:", 3);
	else
		snprintf(buf, sizeof buf, "IP:invalid length %d", len);
	return dup_bytes(buf, strlen(buf));
}

/* One printable SAN entry, or NULL with *skip set for types we do not show. */
static char *san_text(const GENERAL_NAME *gn, bool *skip)
{
	*skip = false;
	switch (gn->type) {
	case GEN_DNS:
		return prefixed("DNS:", ASN1_STRING_get0_data(gn->d.dNSName),
		                (size_t)ASN1_STRING_length(gn->d.dNSName));
	case GEN_IPADD:
		return ip_text(gn->d.iPAddress);
	case GEN_URI:
		return prefixed("URI:", ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier),
		                (size_t)ASN1_STRING_length(gn->d.uniformResourceIdentifier));
	case GEN_EMAIL:
		return prefixed("email:", ASN1_STRING_get0_data(gn->d.rfc822Name),
		                (size_t)ASN1_STRING_length(gn->d.rfc822Name));
	default:
		*skip = true;
		return NULL;
	}
}

static int fill_sans(X509 *cert, struct pcp_cert_facts *out)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	int n = sk_GENERAL_NAME_num(names), rc = -1;

	if (!names || n <= 0) {
		GENERAL_NAMES_free(names);
		return 0;
	}
	if (!(out->san = calloc((size_t)n, sizeof *out->san)))
		goto out;
	for (int i = 0; i < n; i++) {
		bool skip;
		char *s = san_text(sk_GENERAL_NAME_value(names, i), &skip);

		if (skip)
			continue;
		if (!s)
			goto out;
		out->san[out->n_san++] = s;
	}
	rc = 0;
out:
	GENERAL_NAMES_free(names);
	return rc;
}

static char *key_text(X509 *cert)
{
	EVP_PKEY *pkey = X509_get0_pubkey(cert);
	char buf[80], group[64];
	size_t glen = 0;

	if (!pkey)
		return dup_bytes("unknown", 7);
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		snprintf(buf, sizeof buf, "RSA %d", EVP_PKEY_get_bits(pkey));
		break;
	case EVP_PKEY_RSA_PSS:
		snprintf(buf, sizeof buf, "RSA-PSS %d", EVP_PKEY_get_bits(pkey));
		break;
	case EVP_PKEY_DSA:
		snprintf(buf, sizeof buf, "DSA %d", EVP_PKEY_get_bits(pkey));
		break;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
		                                   sizeof group, &glen)) {
			/* "prime256v1" → "P-256" where NIST has a name for the curve. */
			const char *nist = EC_curve_nid2nist(OBJ_sn2nid(group));

			snprintf(buf, sizeof buf, "EC %s", nist ? nist : group);
		} else {
			snprintf(buf, sizeof buf, "EC %d", EVP_PKEY_get_bits(pkey));
		}
		break;
	case EVP_PKEY_ED25519:
		snprintf(buf, sizeof buf, "Ed25519");
		break;
	case EVP_PKEY_ED448:
		snprintf(buf, sizeof buf, "Ed448");
		break;
	default: {
		const char *tn = EVP_PKEY_get0_type_name(pkey);

		snprintf(buf, sizeof buf, "%s %d", tn ? tn : "unknown", EVP_PKEY_get_bits(pkey));
		break;
	}
	}
	ERR_clear_error();
	return dup_bytes(buf, strlen(buf));
}

static char *sig_alg_text(X509 *cert)
{
	const X509_ALGOR *alg = NULL;
	const ASN1_OBJECT *obj = NULL;
	char buf[128];
	int nid = X509_get_signature_nid(cert);

	if (nid != NID_undef) {
		const char *ln = OBJ_nid2ln(nid);

		if (ln)
			return dup_bytes(ln, strlen(ln));
	}
	/* Unknown to OpenSSL: the dotted OID. */
	X509_get0_signature(NULL, &alg, cert);
	if (alg)
		X509_ALGOR_get0(&obj, NULL, NULL, alg);
	if (!obj || OBJ_obj2txt(buf, sizeof buf, obj, 1) <= 0)
		snprintf(buf, sizeof buf, "unknown");
	return dup_bytes(buf, strlen(buf));
}

int pcp_chain_facts(const struct pcp_chain *chain, size_t i, struct pcp_cert_facts *out)
{
	X509 *cert = pcp_chain_get0(chain, i);

	memset(out, 0, sizeof *out);
	if (!cert)
		return -1;
	ERR_clear_error();
	out->subject = pcp_x509_name_text(X509_get_subject_name(cert));
	out->issuer = pcp_x509_name_text(X509_get_issuer_name(cert));
	out->serial = serial_hex(cert);
	out->key = key_text(cert);
	out->sig_alg = sig_alg_text(cert);
	if (!out->subject || !out->issuer || !out->serial || !out->key || !out->sig_alg ||
	    fill_sans(cert, out) < 0)
		goto fail;
	out->not_before = pcp_asn1_time(X509_get0_notBefore(cert));
	out->not_after = pcp_asn1_time(X509_get0_notAfter(cert));
	pcp_cert_sha256_hex(cert, out->sha256);
	out->self_issued =
	        X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) == 0;
	ERR_clear_error();
	return 0;
fail:
	ERR_clear_error();
	pcp_cert_facts_cleanup(out);
	return -1;
}

static int copy_name(struct pcp_name *dst, const ASN1_STRING *s)
{
	size_t len = (size_t)ASN1_STRING_length(s);

	if (!(dst->data = dup_bytes(ASN1_STRING_get0_data(s), len)))
		return -1;
	dst->len = len;
	return 0;
}

int pcp_chain_leaf_names(const struct pcp_chain *chain, struct pcp_cert_names *out)
{
	X509 *leaf = pcp_chain_get0(chain, 0);
	GENERAL_NAMES *names = NULL;
	const X509_NAME *subject;
	int n, cn_index, rc = -1;

	memset(out, 0, sizeof *out);
	if (!leaf)
		return -1;
	ERR_clear_error();
	names = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	n = sk_GENERAL_NAME_num(names);
	if (n > 0 && !(out->san = calloc((size_t)n, sizeof *out->san)))
		goto out;
	/* In certificate order: libpq's walk stops at the first match or error. */
	for (int i = 0; i < n; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		struct pcp_san *san = &out->san[out->n_san];

		if (gn->type == GEN_DNS) {
			/* Raw bytes and length: embedded NULs must reach hostmatch. */
			if (copy_name(&san->dns, gn->d.dNSName) < 0)
				goto out;
		} else if (gn->type == GEN_IPADD) {
			size_t len = (size_t)ASN1_STRING_length(gn->d.iPAddress);

			/* Keep the true length: odd sizes are an error in hostmatch. */
			san->is_ip = true;
			memcpy(san->ip.addr, ASN1_STRING_get0_data(gn->d.iPAddress),
			       len < sizeof san->ip.addr ? len : sizeof san->ip.addr);
			san->ip.len = len;
		} else {
			continue;
		}
		out->n_san++;
	}
	/* libpq reads only the first CN, as the raw bytes of the ASN.1 string. */
	subject = X509_get_subject_name(leaf);
	cn_index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
	if (cn_index >= 0) {
		const ASN1_STRING *cn =
		        X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, cn_index));

		if (!(out->cn = calloc(1, sizeof *out->cn)) || copy_name(out->cn, cn) < 0)
			goto out;
	}
	/* The other drivers read every CN (pgJDBC the most specific, Node any). */
	while (cn_index >= 0 &&
	       (cn_index = X509_NAME_get_index_by_NID(subject, NID_commonName, cn_index)) >= 0) {
		const ASN1_STRING *cn =
		        X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, cn_index));
		struct pcp_name *more =
		        realloc(out->more_cn, (out->n_more_cn + 1) * sizeof *out->more_cn);

		if (!more)
			goto out;
		out->more_cn = more;
		if (copy_name(&out->more_cn[out->n_more_cn], cn) < 0)
			goto out;
		out->n_more_cn++;
	}
	rc = 0;
out:
	GENERAL_NAMES_free(names);
	ERR_clear_error();
	if (rc < 0)
		pcp_cert_names_cleanup(out);
	return rc;
}

int pcp_chain_write_pem(const struct pcp_chain *chain, FILE *out)
{
	for (size_t i = 0; i < pcp_chain_len(chain); i++) {
		ERR_clear_error();
		errno = 0;
		if (!PEM_write_X509(out, pcp_chain_get0(chain, i))) {
			ERR_clear_error();
			if (!errno)
				errno = EIO;
			return -1;
		}
	}
	return 0;
}
