/* Test PKI: generates keys and certificates in memory with explicit names, dates and
 * extensions (see testpki.h). Used by the unit tests for chains, stores and verification,
 * and by fixtures that write certificates for real servers. */
#include "testpki.h"

#include <fcntl.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Tests must see why a fixture could not be built, not just a NULL. */
static void report(const char *what)
{
	fprintf(stderr, "testpki: %s failed\n", what);
	ERR_print_errors_fp(stderr);
}

EVP_PKEY *pcp_testpki_key(enum pcp_testpki_keytype type, int bits)
{
	EVP_PKEY *key = NULL;

	ERR_clear_error();
	switch (type) {
	case PCP_TESTPKI_RSA:
		key = EVP_RSA_gen((unsigned int)bits);
		break;
	case PCP_TESTPKI_EC_P256:
		key = EVP_EC_gen("P-256");
		break;
	case PCP_TESTPKI_ED25519:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	}
	if (!key)
		report("key generation");
	return key;
}

time_t pcp_testpki_time(int year, int month, int day, int hour, int min, int sec)
{
	struct tm tm = {
	        .tm_year = year - 1900,
	        .tm_mon = month - 1,
	        .tm_mday = day,
	        .tm_hour = hour,
	        .tm_min = min,
	        .tm_sec = sec,
	};

	return timegm(&tm);
}

static size_t bytes_len(const char *data, size_t len)
{
	return len ? len : strlen(data);
}

static int build_subject(X509 *x, const struct pcp_testpki_spec *spec)
{
	X509_NAME *name = X509_get_subject_name(x);

	if (spec->org && !X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
	                                             (const unsigned char *)spec->org, -1, -1, 0))
		return -1;
	if (spec->cn) {
		int type = spec->cn_type ? spec->cn_type : MBSTRING_UTF8;
		size_t len = bytes_len(spec->cn, spec->cn_len);

		if (!X509_NAME_add_entry_by_NID(name, NID_commonName, type,
		                                (const unsigned char *)spec->cn, (int)len, -1, 0))
			return -1;
	}
	if (spec->cn2 && !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	                                             (const unsigned char *)spec->cn2, -1, -1, 0))
		return -1;
	return 0;
}

static int add_basic_constraints(X509 *x, const struct pcp_testpki_spec *spec)
{
	BASIC_CONSTRAINTS *bc;
	int ok = 0;

	if (spec->bc == PCP_TESTPKI_BC_NONE)
		return 0;
	if (!(bc = BASIC_CONSTRAINTS_new()))
		return -1;
	bc->ca = spec->bc == PCP_TESTPKI_BC_CA ? 0xFF : 0;
	if (spec->bc == PCP_TESTPKI_BC_CA && spec->set_pathlen) {
		if (!(bc->pathlen = ASN1_INTEGER_new()) ||
		    !ASN1_INTEGER_set(bc->pathlen, spec->pathlen))
			goto out;
	}
	ok = X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_DEFAULT) == 1;
out:
	BASIC_CONSTRAINTS_free(bc);
	return ok ? 0 : -1;
}

static int add_key_usage(X509 *x, int flags)
{
	ASN1_BIT_STRING *ku;
	int ok = 0;

	if (!flags)
		return 0;
	if (!(ku = ASN1_BIT_STRING_new()))
		return -1;
	for (int bit = 0; bit < 9; bit++)
		if ((flags & (1 << bit)) && !ASN1_BIT_STRING_set_bit(ku, bit, 1))
			goto out;
	ok = X509_add1_ext_i2d(x, NID_key_usage, ku, 1, X509V3_ADD_DEFAULT) == 1;
out:
	ASN1_BIT_STRING_free(ku);
	return ok ? 0 : -1;
}

static int add_eku(X509 *x, enum pcp_testpki_eku which)
{
	EXTENDED_KEY_USAGE *eku;
	int ok = 0;

	if (which == PCP_TESTPKI_EKU_NONE)
		return 0;
	if (!(eku = sk_ASN1_OBJECT_new_null()))
		return -1;
	if ((which == PCP_TESTPKI_EKU_SERVER || which == PCP_TESTPKI_EKU_SERVER_CLIENT) &&
	    !sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_server_auth)))
		goto out;
	if ((which == PCP_TESTPKI_EKU_CLIENT || which == PCP_TESTPKI_EKU_SERVER_CLIENT) &&
	    !sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_client_auth)))
		goto out;
	ok = X509_add1_ext_i2d(x, NID_ext_key_usage, eku, 0, X509V3_ADD_DEFAULT) == 1;
out:
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return ok ? 0 : -1;
}

/* One GENERAL_NAME of an ASN1_STRING type (IA5String or OCTET STRING) holding raw bytes. */
static int push_name(GENERAL_NAMES *names, int gen_type, int str_type, const char *data, size_t len)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_STRING *s = ASN1_STRING_type_new(str_type);

	if (!gn || !s || !ASN1_STRING_set(s, data, (int)len))
		goto fail;
	GENERAL_NAME_set0_value(gn, gen_type, s);
	s = NULL;
	if (!sk_GENERAL_NAME_push(names, gn))
		goto fail;
	return 0;
fail:
	ASN1_STRING_free(s);
	GENERAL_NAME_free(gn);
	return -1;
}

static int add_san(X509 *x, const struct pcp_testpki_spec *spec)
{
	GENERAL_NAMES *names;
	int ok = 0;

	if (!spec->n_dns && !spec->n_ip && !spec->uri && !spec->email)
		return 0;
	if (!(names = GENERAL_NAMES_new()))
		return -1;
	for (size_t i = 0; i < spec->n_dns; i++)
		if (push_name(names, GEN_DNS, V_ASN1_IA5STRING, spec->dns[i].data,
		              bytes_len(spec->dns[i].data, spec->dns[i].len)) < 0)
			goto out;
	for (size_t i = 0; i < spec->n_ip; i++)
		if (push_name(names, GEN_IPADD, V_ASN1_OCTET_STRING, spec->ip[i].data,
		              spec->ip[i].len) < 0)
			goto out;
	if (spec->uri &&
	    push_name(names, GEN_URI, V_ASN1_IA5STRING, spec->uri, strlen(spec->uri)) < 0)
		goto out;
	if (spec->email &&
	    push_name(names, GEN_EMAIL, V_ASN1_IA5STRING, spec->email, strlen(spec->email)) < 0)
		goto out;
	ok = X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT) == 1;
out:
	GENERAL_NAMES_free(names);
	return ok ? 0 : -1;
}

/* subjectKeyIdentifier = SHA-1 of the public key (RFC 5280 method 1); the authority key
 * id repeats the issuer's (or, self-signed, our own) so path building sees real data. */
static int add_key_ids(X509 *x, X509 *issuer)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	ASN1_OCTET_STRING *skid = ASN1_OCTET_STRING_new();
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	const ASN1_OCTET_STRING *issuer_skid;
	int ok = 0;

	if (!skid || !akid || !X509_pubkey_digest(x, EVP_sha1(), md, &mdlen) ||
	    !ASN1_OCTET_STRING_set(skid, md, (int)mdlen) ||
	    X509_add1_ext_i2d(x, NID_subject_key_identifier, skid, 0, X509V3_ADD_DEFAULT) != 1)
		goto out;
	issuer_skid = issuer ? X509_get0_subject_key_id(issuer) : skid;
	if (issuer_skid) {
		if (!(akid->keyid = ASN1_OCTET_STRING_dup(issuer_skid)) ||
		    X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0,
		                      X509V3_ADD_DEFAULT) != 1)
			goto out;
	}
	ok = 1;
out:
	ASN1_OCTET_STRING_free(skid);
	AUTHORITY_KEYID_free(akid);
	return ok ? 0 : -1;
}

X509 *pcp_testpki_cert(const struct pcp_testpki_spec *spec, EVP_PKEY *key, X509 *issuer,
                       EVP_PKEY *issuer_key)
{
	X509 *x = NULL;
	EVP_PKEY *signer = issuer ? issuer_key : key;
	const EVP_MD *md = NULL;

	ERR_clear_error();
	if (!(x = X509_new()) || !X509_set_version(x, X509_VERSION_3) ||
	    !ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), spec->serial ? spec->serial : 1) ||
	    !ASN1_TIME_set(X509_getm_notBefore(x), spec->not_before) ||
	    !ASN1_TIME_set(X509_getm_notAfter(x), spec->not_after) || !X509_set_pubkey(x, key) ||
	    build_subject(x, spec) < 0 ||
	    !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer)
	                                    : X509_get_subject_name(x)))
		goto fail;
	if (add_basic_constraints(x, spec) < 0 || add_key_usage(x, spec->key_usage) < 0 ||
	    add_eku(x, spec->eku) < 0 || add_san(x, spec) < 0 ||
	    (!spec->no_key_ids && add_key_ids(x, issuer) < 0))
		goto fail;
	/* Ed25519 signs the message itself: no digest may be named. */
	if (EVP_PKEY_get_base_id(signer) != EVP_PKEY_ED25519)
		md = spec->digest == PCP_TESTPKI_SHA1 ? EVP_sha1() : EVP_sha256();
	if (X509_sign(x, signer, md) <= 0)
		goto fail;
	return x;
fail:
	report("certificate");
	X509_free(x);
	return NULL;
}

X509_CRL *pcp_testpki_crl(X509 *issuer, EVP_PKEY *issuer_key, time_t last_update,
                          time_t next_update, const uint64_t *revoked, size_t n_revoked)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *last = ASN1_TIME_set(NULL, last_update);
	ASN1_TIME *next = ASN1_TIME_set(NULL, next_update);

	ERR_clear_error();
	if (!crl || !last || !next || !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) ||
	    !X509_CRL_set1_lastUpdate(crl, last) || !X509_CRL_set1_nextUpdate(crl, next))
		goto fail;
	for (size_t i = 0; i < n_revoked; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *serial = ASN1_INTEGER_new();
		int ok = r && serial && ASN1_INTEGER_set_uint64(serial, revoked[i]) &&
		         X509_REVOKED_set_serialNumber(r, serial) &&
		         X509_REVOKED_set_revocationDate(r, last) && X509_CRL_add0_revoked(crl, r);

		ASN1_INTEGER_free(serial); /* set_serialNumber copied it */
		if (!ok) {
			X509_REVOKED_free(r);
			goto fail;
		}
	}
	if (!X509_CRL_sort(crl) || X509_CRL_sign(crl, issuer_key, EVP_sha256()) <= 0)
		goto fail;
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	return crl;
fail:
	report("CRL");
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	X509_CRL_free(crl);
	return NULL;
}

struct pcp_chain *pcp_testpki_chain(X509 *first, ...)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	struct pcp_chain *chain = NULL;
	va_list ap;

	if (!sk)
		return NULL;
	va_start(ap, first);
	for (X509 *x = first; x; x = va_arg(ap, X509 *))
		if (!sk_X509_push(sk, x))
			goto out;
	chain = pcp_chain_from_stack(sk);
out:
	va_end(ap);
	sk_X509_free(sk); /* the chain took its own references */
	return chain;
}

static FILE *open_mode(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	FILE *f;

	if (fd < 0)
		return NULL;
	if (fchmod(fd, mode) < 0 || !(f = fdopen(fd, "w"))) {
		close(fd);
		return NULL;
	}
	return f;
}

int pcp_testpki_write_certs(const char *path, X509 *const *certs, size_t n)
{
	FILE *f = open_mode(path, 0644);
	int rc = 0;

	if (!f)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!PEM_write_X509(f, certs[i]))
			rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

int pcp_testpki_append_crl(const char *path, X509_CRL *crl)
{
	FILE *f = fopen(path, "a");
	int rc = 0;

	if (!f)
		return -1;
	if (!PEM_write_X509_CRL(f, crl))
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

int pcp_testpki_write_key(const char *path, EVP_PKEY *key)
{
	FILE *f = open_mode(path, 0600);
	int rc = 0;

	if (!f)
		return -1;
	if (!PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL))
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

int pcp_testpki_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = open_mode(path, 0644);
	int rc = 0;

	if (!f)
		return -1;
	if (len && fwrite(data, 1, len, f) != len)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}
