/* Unit tests for verify: chains from the test PKI against stores at pinned instants (the
 * Baltimore-style root expiry, cross-signed bridges, missing intermediates, weak
 * signatures and keys, purposes, names), and a differential check that every verdict
 * agrees with OpenSSL's own TLS client verifying the same chain in a real handshake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain.h"
#include "testpki.h"
#include "truststore.h"
#include "verify.h"

/* The whole PKI of these tests, built once per run. */
struct pki {
	EVP_PKEY *k_old_root, *k_new_root, *k_int, *k_leaf, *k_rsa1024, *k_other;
	X509 *old_root; /* RSA 2048, SHA-1 self-signature, expires like Baltimore */
	X509 *new_root; /* EC, valid to 2038 */
	X509 *cross;    /* new root's subject and key, issued by the old root */
	X509 *old_int, *new_int, *leaf_old, *leaf_new;
	X509 *other_root;
	X509 *self_leaf; /* self-signed server certificate */
	X509 *sha1_leaf; /* issued by new_int with a SHA-1 signature */
	X509 *weak_leaf; /* RSA 1024 key */
	X509 *weak_int, *leaf_weak_int;
	X509 *client_leaf;            /* EKU clientAuth only */
	X509 *notca_int, *leaf_notca; /* "intermediate" with CA:FALSE */
	X509 *nobc_int, *leaf_nobc;   /* intermediate without basicConstraints */
	X509 *expired_leaf, *future_leaf;
	X509 *short_int, *leaf_short_int; /* intermediate expiring 2024-01-01 */
	X509 *same_ca, *same_leaf; /* a CA with the leaf's own DN, no key ids: self-issued leaf */
	X509 *same_ca_ids, *same_leaf_ids; /* the same with key identifiers */
	struct pcp_store *s_old, *s_new, *s_both, *s_int_root, *s_int_only, *s_other, *s_self,
	        *s_weak_int, *s_same, *s_same_ids;
	int level;
};

/* Every certificate slot of struct pki, so setup checks and teardown frees them all. */
#define N_CERTS 26
static X509 **cert_slot(struct pki *p, size_t i)
{
	X509 **slots[N_CERTS] = {
	        &p->old_root,      &p->new_root,       &p->cross,        &p->old_int,
	        &p->new_int,       &p->leaf_old,       &p->leaf_new,     &p->other_root,
	        &p->self_leaf,     &p->sha1_leaf,      &p->weak_leaf,    &p->weak_int,
	        &p->leaf_weak_int, &p->client_leaf,    &p->notca_int,    &p->leaf_notca,
	        &p->nobc_int,      &p->leaf_nobc,      &p->expired_leaf, &p->future_leaf,
	        &p->short_int,     &p->leaf_short_int, &p->same_ca,      &p->same_leaf,
	        &p->same_ca_ids,   &p->same_leaf_ids,
	};

	return slots[i];
}

static time_t T(int y, int mo, int d, int h, int mi, int s)
{
	return pcp_testpki_time(y, mo, d, h, mi, s);
}

/* Instants around the old root's expiry (2025-05-12 23:59:00 UTC). */
#define BEFORE T(2025, 5, 1, 12, 0, 0)
#define AFTER  T(2025, 6, 1, 12, 0, 0)

static const struct pcp_testpki_bytes db_name[] = {{"db.example.com", 0}};

/* Unique serials across the whole PKI, as a real CA would keep them per issuer. */
static uint64_t next_serial = 100;

static X509 *ca(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, time_t nb, time_t na,
                enum pcp_testpki_digest digest)
{
	struct pcp_testpki_spec s = {
	        .cn = cn,
	        .org = "pgcertprobe tests",
	        .serial = next_serial++,
	        .not_before = nb,
	        .not_after = na,
	        .bc = PCP_TESTPKI_BC_CA,
	        .key_usage = PCP_TESTPKI_KU_KEY_CERT_SIGN | PCP_TESTPKI_KU_CRL_SIGN,
	        .digest = digest,
	};

	return pcp_testpki_cert(&s, key, issuer, ikey);
}

/* A server certificate for db.example.com; spec tweaks are applied by the caller. */
static struct pcp_testpki_spec leaf_spec(time_t nb, time_t na)
{
	struct pcp_testpki_spec s = {
	        .cn = "db.example.com",
	        .serial = next_serial++,
	        .not_before = nb,
	        .not_after = na,
	        .bc = PCP_TESTPKI_BC_LEAF,
	        .key_usage = PCP_TESTPKI_KU_DIGITAL_SIGNATURE | PCP_TESTPKI_KU_KEY_ENCIPHERMENT,
	        .eku = PCP_TESTPKI_EKU_SERVER,
	        .dns = db_name,
	        .n_dns = 1,
	};

	return s;
}

/* Loads a store from a PEM file that is deleted right after: verification must work
 * from memory alone. */
static struct pcp_store *store_of(const char *name, X509 *const *certs, size_t n)
{
	char dir[] = "/tmp/pcp-test-verify-XXXXXX";
	char path[64];
	struct pcp_error err = {0};
	struct pcp_store *s;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/%s.pem", dir, name);
	assert_int_equal(pcp_testpki_write_certs(path, certs, n), 0);
	s = pcp_store_load(name, path, &err);
	if (!s)
		fail_msg("%s", err.msg);
	unlink(path);
	rmdir(dir);
	return s;
}

static int setup(void **state)
{
	struct pki *p = calloc(1, sizeof *p);
	struct pcp_testpki_spec s;
	time_t lnb = T(2024, 1, 1, 0, 0, 0), lna = T(2026, 1, 1, 0, 0, 0);

	assert_non_null(p);
	p->level = pcp_verify_default_auth_level();
	assert_non_null(p->k_old_root = pcp_testpki_key(PCP_TESTPKI_RSA, 2048));
	assert_non_null(p->k_new_root = pcp_testpki_key(PCP_TESTPKI_EC_P256, 0));
	assert_non_null(p->k_int = pcp_testpki_key(PCP_TESTPKI_EC_P256, 0));
	assert_non_null(p->k_leaf = pcp_testpki_key(PCP_TESTPKI_EC_P256, 0));
	assert_non_null(p->k_rsa1024 = pcp_testpki_key(PCP_TESTPKI_RSA, 1024));
	assert_non_null(p->k_other = pcp_testpki_key(PCP_TESTPKI_EC_P256, 0));

	p->old_root = ca("Old Root", p->k_old_root, NULL, NULL, T(2000, 5, 12, 18, 46, 0),
	                 T(2025, 5, 12, 23, 59, 0), PCP_TESTPKI_SHA1);
	p->new_root = ca("New Root G2", p->k_new_root, NULL, NULL, T(2013, 8, 1, 12, 0, 0),
	                 T(2038, 1, 15, 12, 0, 0), PCP_TESTPKI_SHA256);
	p->cross = ca("New Root G2", p->k_new_root, p->old_root, p->k_old_root,
	              T(2020, 1, 1, 0, 0, 0), T(2027, 1, 1, 0, 0, 0), PCP_TESTPKI_SHA256);
	p->old_int = ca("Old Intermediate", p->k_int, p->old_root, p->k_old_root,
	                T(2015, 1, 1, 0, 0, 0), T(2030, 1, 1, 0, 0, 0), PCP_TESTPKI_SHA256);
	p->new_int = ca("New Intermediate", p->k_int, p->new_root, p->k_new_root,
	                T(2020, 1, 1, 0, 0, 0), T(2030, 1, 1, 0, 0, 0), PCP_TESTPKI_SHA256);
	p->other_root = ca("Other Root", p->k_other, NULL, NULL, T(2010, 1, 1, 0, 0, 0),
	                   T(2040, 1, 1, 0, 0, 0), PCP_TESTPKI_SHA256);
	p->weak_int = ca("Weak Intermediate", p->k_rsa1024, p->new_root, p->k_new_root,
	                 T(2020, 1, 1, 0, 0, 0), T(2030, 1, 1, 0, 0, 0), PCP_TESTPKI_SHA256);
	p->short_int = ca("Short Intermediate", p->k_int, p->new_root, p->k_new_root,
	                  T(2020, 1, 1, 0, 0, 0), T(2024, 1, 1, 0, 0, 0), PCP_TESTPKI_SHA256);

	s = leaf_spec(lnb, lna);
	p->leaf_old = pcp_testpki_cert(&s, p->k_leaf, p->old_int, p->k_int);
	p->leaf_new = pcp_testpki_cert(&s, p->k_leaf, p->new_int, p->k_int);
	p->self_leaf = pcp_testpki_cert(&s, p->k_leaf, NULL, NULL);
	p->leaf_weak_int = pcp_testpki_cert(&s, p->k_leaf, p->weak_int, p->k_rsa1024);
	s.digest = PCP_TESTPKI_SHA1;
	p->sha1_leaf = pcp_testpki_cert(&s, p->k_leaf, p->new_int, p->k_int);
	s = leaf_spec(lnb, lna);
	p->weak_leaf = pcp_testpki_cert(&s, p->k_rsa1024, p->new_int, p->k_int);
	s.eku = PCP_TESTPKI_EKU_CLIENT;
	p->client_leaf = pcp_testpki_cert(&s, p->k_leaf, p->new_int, p->k_int);

	s = leaf_spec(T(2020, 1, 1, 0, 0, 0), T(2030, 1, 1, 0, 0, 0));
	s.cn = "Not A CA";
	s.n_dns = 0;
	s.key_usage |= PCP_TESTPKI_KU_KEY_CERT_SIGN;
	p->notca_int = pcp_testpki_cert(&s, p->k_int, p->new_root, p->k_new_root);
	s.cn = "No Constraints CA";
	s.bc = PCP_TESTPKI_BC_NONE;
	s.eku = PCP_TESTPKI_EKU_NONE;
	p->nobc_int = pcp_testpki_cert(&s, p->k_int, p->new_root, p->k_new_root);
	s = leaf_spec(lnb, lna);
	p->leaf_notca = pcp_testpki_cert(&s, p->k_leaf, p->notca_int, p->k_int);
	p->leaf_nobc = pcp_testpki_cert(&s, p->k_leaf, p->nobc_int, p->k_int);

	s = leaf_spec(T(2023, 1, 1, 0, 0, 0), T(2025, 1, 1, 0, 0, 0));
	p->expired_leaf = pcp_testpki_cert(&s, p->k_leaf, p->new_int, p->k_int);
	s = leaf_spec(T(2030, 1, 1, 0, 0, 0), T(2031, 1, 1, 0, 0, 0));
	p->future_leaf = pcp_testpki_cert(&s, p->k_leaf, p->new_int, p->k_int);
	s = leaf_spec(T(2022, 1, 1, 0, 0, 0), T(2025, 1, 1, 0, 0, 0));
	p->leaf_short_int = pcp_testpki_cert(&s, p->k_leaf, p->short_int, p->k_int);

	s = leaf_spec(T(2020, 1, 1, 0, 0, 0), T(2030, 1, 1, 0, 0, 0));
	s.bc = PCP_TESTPKI_BC_CA;
	s.key_usage = PCP_TESTPKI_KU_KEY_CERT_SIGN;
	s.eku = PCP_TESTPKI_EKU_NONE;
	s.no_key_ids = true;
	p->same_ca = pcp_testpki_cert(&s, p->k_other, NULL, NULL);
	s.no_key_ids = false;
	p->same_ca_ids = pcp_testpki_cert(&s, p->k_other, NULL, NULL);
	s = leaf_spec(lnb, lna);
	s.no_key_ids = true;
	p->same_leaf = pcp_testpki_cert(&s, p->k_leaf, p->same_ca, p->k_other);
	s.no_key_ids = false;
	p->same_leaf_ids = pcp_testpki_cert(&s, p->k_leaf, p->same_ca_ids, p->k_other);

	for (size_t i = 0; i < N_CERTS; i++)
		assert_non_null(*cert_slot(p, i));

	p->s_old = store_of("old", (X509 *[]){p->old_root}, 1);
	p->s_new = store_of("new", (X509 *[]){p->new_root}, 1);
	p->s_both = store_of("both", (X509 *[]){p->old_root, p->new_root}, 2);
	p->s_int_root = store_of("int_root", (X509 *[]){p->old_int, p->old_root}, 2);
	p->s_int_only = store_of("int_only", (X509 *[]){p->old_int}, 1);
	p->s_other = store_of("other", (X509 *[]){p->other_root}, 1);
	p->s_self = store_of("self", (X509 *[]){p->self_leaf}, 1);
	p->s_weak_int = store_of("weak_int", (X509 *[]){p->weak_int, p->new_root}, 2);
	p->s_same = store_of("same", (X509 *[]){p->same_ca}, 1);
	p->s_same_ids = store_of("same_ids", (X509 *[]){p->same_ca_ids}, 1);
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct pki *p = *state;
	EVP_PKEY *keys[] = {p->k_old_root, p->k_new_root, p->k_int,
	                    p->k_leaf,     p->k_rsa1024,  p->k_other};
	struct pcp_store *stores[] = {p->s_old,      p->s_new,     p->s_both, p->s_int_root,
	                              p->s_int_only, p->s_other,   p->s_self, p->s_weak_int,
	                              p->s_same,     p->s_same_ids};

	for (size_t i = 0; i < N_CERTS; i++)
		X509_free(*cert_slot(p, i));
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		EVP_PKEY_free(keys[i]);
	for (size_t i = 0; i < sizeof stores / sizeof stores[0]; i++)
		pcp_store_free(stores[i]);
	free(p);
	return 0;
}

/* Verifies and returns the verdict (caller: pcp_verdict_cleanup). */
static struct pcp_verdict check(const struct pki *p, struct pcp_chain *chain,
                                const struct pcp_store *store, time_t at, enum pcp_sslmode mode,
                                const char *host)
{
	struct pcp_verify_params params = {
	        .at = at,
	        .auth_level = p->level,
	        .sslmode = mode,
	        .host = host,
	};
	struct pcp_verdict v;
	struct pcp_error err = {0};

	assert_non_null(chain);
	if (pcp_verify_chain(chain, store, &params, &v, &err) != 0)
		fail_msg("pcp_verify_chain: %s", err.msg);
	return v;
}

static struct pcp_verdict check_ca(const struct pki *p, struct pcp_chain *chain,
                                   const struct pcp_store *store, time_t at)
{
	return check(p, chain, store, at, PCP_SSLMODE_VERIFY_CA, NULL);
}

static void assert_path_at(const struct pcp_verdict *v, size_t i, X509 *cert)
{
	char hex[PCP_SHA256_HEX];

	assert_true(i < v->path_len);
	pcp_cert_sha256_hex(cert, hex);
	assert_string_equal(v->path[i], hex);
}

static void assert_ok(const struct pcp_verdict *v, size_t path_len)
{
	if (!v->ok)
		fail_msg("expected ok, got code %d depth %d: %s (%s)", v->code, v->depth, v->error,
		         v->reason);
	assert_int_equal(v->code, 0);
	assert_int_equal(v->depth, -1);
	assert_string_equal(v->error, "");
	assert_string_equal(v->reason, "");
	assert_int_equal(v->path_len, path_len);
}

static void assert_fail(const struct pcp_verdict *v, int code, int depth, size_t path_len,
                        const char *reason)
{
	if (v->ok)
		fail_msg("expected code %d, got ok", code);
	assert_int_equal(v->code, code);
	assert_int_equal(v->depth, depth);
	assert_int_equal(v->path_len, path_len);
	assert_string_equal(v->reason, reason);
}

static void test_default_auth_level(void **state)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	(void)state;
	assert_non_null(ctx);
	assert_int_equal(pcp_verify_default_auth_level(), SSL_CTX_get_security_level(ctx));
	assert_int_equal(pcp_verify_default_auth_level(), pcp_verify_default_auth_level());
	SSL_CTX_free(ctx);
}

static void test_old_root_chain(void **state)
{
	struct pki *p = *state;
	struct pcp_chain *c = pcp_testpki_chain(p->leaf_old, p->old_int, NULL);
	struct pcp_verdict v;

	v = check_ca(p, c, p->s_old, BEFORE);
	assert_ok(&v, 3);
	assert_path_at(&v, 0, p->leaf_old);
	assert_path_at(&v, 1, p->old_int);
	assert_path_at(&v, 2, p->old_root);
	assert_int_equal(v.path_not_after, T(2025, 5, 12, 23, 59, 0));
	pcp_verdict_cleanup(&v);

	/* notAfter is inclusive of the last second before it: 23:58:59 passes, 23:59 not. */
	v = check_ca(p, c, p->s_old, T(2025, 5, 12, 23, 58, 59));
	assert_ok(&v, 3);
	pcp_verdict_cleanup(&v);
	v = check_ca(p, c, p->s_old, T(2025, 5, 12, 23, 59, 0));
	assert_fail(&v, X509_V_ERR_CERT_HAS_EXPIRED, 2, 3, "root expired 2025-05-12");
	pcp_verdict_cleanup(&v);

	v = check_ca(p, c, p->s_old, AFTER);
	assert_fail(&v, X509_V_ERR_CERT_HAS_EXPIRED, 2, 3, "root expired 2025-05-12");
	assert_string_equal(v.error, "certificate verify failed: certificate has expired");
	assert_path_at(&v, 2, p->old_root);
	pcp_verdict_cleanup(&v);

	/* The new root does not help a chain whose intermediate the old root issued. */
	v = check_ca(p, c, p->s_both, AFTER);
	assert_fail(&v, X509_V_ERR_CERT_HAS_EXPIRED, 2, 3, "root expired 2025-05-12");
	pcp_verdict_cleanup(&v);
	v = check_ca(p, c, p->s_new, BEFORE);
	assert_fail(&v, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 1, 2, "unknown issuer");
	assert_string_equal(v.error,
	                    "certificate verify failed: unable to get local issuer certificate");
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);
}

static void test_new_root_chain(void **state)
{
	struct pki *p = *state;
	struct pcp_chain *c = pcp_testpki_chain(p->leaf_new, p->new_int, NULL);
	struct pcp_verdict v;

	v = check_ca(p, c, p->s_new, AFTER);
	assert_ok(&v, 3);
	assert_path_at(&v, 2, p->new_root);
	assert_int_equal(v.path_not_after, T(2026, 1, 1, 0, 0, 0));
	pcp_verdict_cleanup(&v);
	v = check_ca(p, c, p->s_both, AFTER);
	assert_ok(&v, 3);
	pcp_verdict_cleanup(&v);
	v = check_ca(p, c, p->s_old, BEFORE);
	assert_fail(&v, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 1, 2, "unknown issuer");
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);
}

static void test_cross_signed_bridge(void **state)
{
	struct pki *p = *state;
	struct pcp_chain *c = pcp_testpki_chain(p->leaf_new, p->new_int, p->cross, NULL);
	struct pcp_verdict v;

	/* Trusted-first: the store's new root ends the path, the cross cert is unused. */
	v = check_ca(p, c, p->s_both, BEFORE);
	assert_ok(&v, 3);
	assert_path_at(&v, 2, p->new_root);
	pcp_verdict_cleanup(&v);
	v = check_ca(p, c, p->s_both, AFTER);
	assert_ok(&v, 3);
	assert_path_at(&v, 2, p->new_root);
	pcp_verdict_cleanup(&v);
	v = check_ca(p, c, p->s_new, AFTER);
	assert_ok(&v, 3);
	pcp_verdict_cleanup(&v);

	/* Old root only: the path runs through the cross cert and dies with the root. */
	v = check_ca(p, c, p->s_old, BEFORE);
	assert_ok(&v, 4);
	assert_path_at(&v, 2, p->cross);
	assert_path_at(&v, 3, p->old_root);
	assert_int_equal(v.path_not_after, T(2025, 5, 12, 23, 59, 0));
	pcp_verdict_cleanup(&v);
	v = check_ca(p, c, p->s_old, AFTER);
	assert_fail(&v, X509_V_ERR_CERT_HAS_EXPIRED, 3, 4, "root expired 2025-05-12");
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);
}

static void test_missing_intermediate(void **state)
{
	struct pki *p = *state;
	struct pcp_chain *c = pcp_testpki_chain(p->leaf_old, NULL);
	struct pcp_verdict v;

	v = check_ca(p, c, p->s_old, BEFORE);
	assert_fail(&v, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 0, 1, "unknown issuer");
	assert_path_at(&v, 0, p->leaf_old);
	pcp_verdict_cleanup(&v);

	/* Intermediates in the store still build the path. */
	v = check_ca(p, c, p->s_int_root, BEFORE);
	assert_ok(&v, 3);
	assert_path_at(&v, 1, p->old_int);
	pcp_verdict_cleanup(&v);

	/* No partial chains: an intermediate alone is not an anchor. */
	v = check_ca(p, c, p->s_int_only, BEFORE);
	assert_fail(&v, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, 1, 2, "unknown issuer");
	assert_string_equal(v.error, "certificate verify failed: unable to get issuer certificate");
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);

	c = pcp_testpki_chain(p->leaf_old, p->old_int, NULL);
	v = check_ca(p, c, p->s_int_only, BEFORE);
	assert_fail(&v, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, 1, 2, "unknown issuer");
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);
}

static void test_unknown_root(void **state)
{
	struct pki *p = *state;
	struct pcp_chain *c = pcp_testpki_chain(p->leaf_old, p->old_int, NULL);
	struct pcp_verdict v;

	v = check_ca(p, c, p->s_other, BEFORE);
	assert_fail(&v, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 1, 2, "unknown issuer");
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);

	/* A server that sends its root too: the root is not trusted just for being sent. */
	c = pcp_testpki_chain(p->leaf_old, p->old_int, p->old_root, NULL);
	v = check_ca(p, c, p->s_other, BEFORE);
	assert_fail(&v, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, 2, 3, "untrusted root");
	pcp_verdict_cleanup(&v);
	v = check_ca(p, c, p->s_old, BEFORE);
	assert_ok(&v, 3);
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);
}

static void test_self_signed_leaf(void **state)
{
	struct pki *p = *state;
	struct pcp_chain *c = pcp_testpki_chain(p->self_leaf, NULL);
	struct pcp_verdict v;

	v = check_ca(p, c, p->s_other, BEFORE);
	assert_fail(&v, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, 0, 1, "self-signed leaf");
	pcp_verdict_cleanup(&v);
	/* sslrootcert=server.crt: the certificate is its own anchor. */
	v = check_ca(p, c, p->s_self, BEFORE);
	assert_ok(&v, 1);
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);
}

/* A CA that shares the server's DN: without key identifiers OpenSSL takes the leaf for
 * self-signed (error 18) even with the CA trusted; with them the path builds. */
static void test_self_issued_leaf(void **state)
{
	struct pki *p = *state;
	struct pcp_chain *c = pcp_testpki_chain(p->same_leaf, NULL);
	struct pcp_verdict v;

	v = check_ca(p, c, p->s_same, BEFORE);
	assert_fail(&v, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, 0, 1, "self-signed leaf");
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);

	c = pcp_testpki_chain(p->same_leaf_ids, NULL);
	v = check_ca(p, c, p->s_same_ids, BEFORE);
	assert_ok(&v, 2);
	assert_path_at(&v, 1, p->same_ca_ids);
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);
}

static void test_weak_signature(void **state)
{
	struct pki *p = *state;
	struct pcp_chain *c = pcp_testpki_chain(p->sha1_leaf, p->new_int, NULL);
	struct pcp_verify_params params = {
	        .at = BEFORE,
	        .auth_level = 0,
	        .sslmode = PCP_SSLMODE_VERIFY_CA,
	};
	struct pcp_error err = {0};
	struct pcp_verdict v;

	assert_int_equal(p->level, 2); /* Debian's default; the case below depends on it */
	v = check_ca(p, c, p->s_new, BEFORE);
	assert_fail(&v, X509_V_ERR_CA_MD_TOO_WEAK, 0, 3, "weak signature (SHA-1)");
	assert_string_equal(v.error,
	                    "certificate verify failed: CA signature digest algorithm too weak");
	pcp_verdict_cleanup(&v);

	/* OpenSSL 3.0 rates SHA-1 signatures below level 1 too (63 bits)... */
	params.auth_level = 1;
	assert_int_equal(pcp_verify_chain(c, p->s_new, &params, &v, &err), 0);
	assert_fail(&v, X509_V_ERR_CA_MD_TOO_WEAK, 0, 3, "weak signature (SHA-1)");
	pcp_verdict_cleanup(&v);
	/* ...and only level 0 (SECLEVEL=0 in the client's config) accepts it. */
	params.auth_level = 0;
	assert_int_equal(pcp_verify_chain(c, p->s_new, &params, &v, &err), 0);
	assert_ok(&v, 3);
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);

	/* The anchor's own SHA-1 self-signature is never checked (old chain passes). */
	c = pcp_testpki_chain(p->leaf_old, p->old_int, NULL);
	v = check_ca(p, c, p->s_old, BEFORE);
	assert_ok(&v, 3);
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);
}

static void test_weak_key(void **state)
{
	struct pki *p = *state;
	struct pcp_chain *c = pcp_testpki_chain(p->weak_leaf, p->new_int, NULL);
	struct pcp_verdict v;

	v = check_ca(p, c, p->s_new, BEFORE);
	assert_fail(&v, X509_V_ERR_EE_KEY_TOO_SMALL, 0, 1, "weak key (RSA 1024)");
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);

	c = pcp_testpki_chain(p->leaf_weak_int, p->weak_int, NULL);
	v = check_ca(p, c, p->s_new, BEFORE);
	assert_fail(&v, X509_V_ERR_CA_KEY_TOO_SMALL, 1, 3, "weak key (RSA 1024)");
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);
}

static void test_client_only_eku(void **state)
{
	struct pki *p = *state;
	struct pcp_chain *c = pcp_testpki_chain(p->client_leaf, p->new_int, NULL);
	struct pcp_verdict v;

	v = check_ca(p, c, p->s_new, BEFORE);
	assert_fail(&v, X509_V_ERR_INVALID_PURPOSE, 0, 3, "not for TLS servers");
	assert_string_equal(v.error, "certificate verify failed: unsuitable certificate purpose");
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);
}

static void test_intermediate_not_ca(void **state)
{
	struct pki *p = *state;
	struct pcp_chain *c = pcp_testpki_chain(p->leaf_notca, p->notca_int, NULL);
	struct pcp_verdict v;

	v = check_ca(p, c, p->s_new, BEFORE);
	assert_fail(&v, X509_V_ERR_INVALID_CA, 1, 3, "invalid CA certificate");
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);

	/* No basicConstraints at all (keyUsage keyCertSign): still not a CA for OpenSSL. */
	c = pcp_testpki_chain(p->leaf_nobc, p->nobc_int, NULL);
	v = check_ca(p, c, p->s_new, BEFORE);
	assert_fail(&v, X509_V_ERR_INVALID_CA, 1, 3, "invalid CA certificate");
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);
}

static void test_leaf_dates(void **state)
{
	struct pki *p = *state;
	struct pcp_chain *c = pcp_testpki_chain(p->expired_leaf, p->new_int, NULL);
	struct pcp_verdict v;

	v = check_ca(p, c, p->s_new, BEFORE);
	assert_fail(&v, X509_V_ERR_CERT_HAS_EXPIRED, 0, 3, "leaf expired 2025-01-01");
	assert_int_equal(v.path_not_after, T(2025, 1, 1, 0, 0, 0));
	pcp_verdict_cleanup(&v);
	v = check_ca(p, c, p->s_new, T(2024, 6, 1, 0, 0, 0));
	assert_ok(&v, 3);
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);

	c = pcp_testpki_chain(p->future_leaf, p->new_int, NULL);
	v = check_ca(p, c, p->s_new, BEFORE);
	assert_fail(&v, X509_V_ERR_CERT_NOT_YET_VALID, 0, 3, "not yet valid until 2030-01-01");
	assert_string_equal(v.error, "certificate verify failed: certificate is not yet valid");
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);

	c = pcp_testpki_chain(p->leaf_short_int, p->short_int, NULL);
	v = check_ca(p, c, p->s_new, T(2024, 6, 1, 0, 0, 0));
	assert_fail(&v, X509_V_ERR_CERT_HAS_EXPIRED, 1, 3, "intermediate expired 2024-01-01");
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);
}

static void test_names(void **state)
{
	struct pki *p = *state;
	struct pcp_chain *c = pcp_testpki_chain(p->leaf_new, p->new_int, NULL);
	struct pcp_verdict v;

	v = check(p, c, p->s_new, BEFORE, PCP_SSLMODE_VERIFY_FULL, "db.example.com");
	assert_ok(&v, 3);
	pcp_verdict_cleanup(&v);
	v = check(p, c, p->s_new, BEFORE, PCP_SSLMODE_VERIFY_FULL, "DB.Example.COM");
	assert_ok(&v, 3);
	pcp_verdict_cleanup(&v);

	v = check(p, c, p->s_new, BEFORE, PCP_SSLMODE_VERIFY_FULL, "other.example.com");
	assert_fail(&v, PCP_VERDICT_NAME_MISMATCH, 0, 3, "name mismatch");
	assert_string_equal(v.error, "server certificate for \"db.example.com\" does not match "
	                             "host name \"other.example.com\"");
	pcp_verdict_cleanup(&v);

	/* An IP host falls back to the CN despite the dNSName SAN: two names examined
	 * (text checked against psql 15 on this machine). */
	v = check(p, c, p->s_new, BEFORE, PCP_SSLMODE_VERIFY_FULL, "127.0.0.1");
	assert_fail(&v, PCP_VERDICT_NAME_MISMATCH, 0, 3, "name mismatch");
	assert_string_equal(v.error, "server certificate for \"db.example.com\" (and 1 other "
	                             "name) does not match host name \"127.0.0.1\"");
	pcp_verdict_cleanup(&v);

	v = check(p, c, p->s_new, BEFORE, PCP_SSLMODE_VERIFY_FULL, NULL);
	assert_fail(&v, PCP_VERDICT_NO_HOST, 0, 3, "no host name");
	assert_string_equal(v.error, "host name must be specified for a verified SSL connection");
	pcp_verdict_cleanup(&v);

	/* verify-ca never looks at names. */
	v = check(p, c, p->s_new, BEFORE, PCP_SSLMODE_VERIFY_CA, "other.example.com");
	assert_ok(&v, 3);
	pcp_verdict_cleanup(&v);
	v = check(p, c, p->s_new, BEFORE, PCP_SSLMODE_VERIFY_CA, NULL);
	assert_ok(&v, 3);
	pcp_verdict_cleanup(&v);

	/* A chain failure comes first: the name is not checked. */
	v = check(p, c, p->s_old, BEFORE, PCP_SSLMODE_VERIFY_FULL, "other.example.com");
	assert_fail(&v, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 1, 2, "unknown issuer");
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);
}

/* A dNSName with an embedded NUL: libpq refuses to compare at all. */
static void test_name_with_nul(void **state)
{
	struct pki *p = *state;
	static const struct pcp_testpki_bytes nul[] = {{"db.example.com\0.evil", 20}};
	struct pcp_testpki_spec s = leaf_spec(T(2024, 1, 1, 0, 0, 0), T(2026, 1, 1, 0, 0, 0));
	struct pcp_verdict v;
	struct pcp_chain *c;
	X509 *x;

	s.dns = nul;
	assert_non_null(x = pcp_testpki_cert(&s, p->k_leaf, p->new_int, p->k_int));
	assert_non_null(c = pcp_testpki_chain(x, p->new_int, NULL));
	v = check(p, c, p->s_new, BEFORE, PCP_SSLMODE_VERIFY_FULL, "db.example.com");
	assert_fail(&v, PCP_VERDICT_NAME_MISMATCH, 0, 3, "invalid name in certificate");
	assert_string_equal(v.error, "SSL certificate's name contains embedded null");
	pcp_verdict_cleanup(&v);
	v = check(p, c, p->s_new, BEFORE, PCP_SSLMODE_VERIFY_CA, "db.example.com");
	assert_ok(&v, 3);
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);
	X509_free(x);
}

static void test_empty_chain_is_internal_error(void **state)
{
	struct pki *p = *state;
	struct pcp_chain *c = pcp_testpki_chain(NULL);
	struct pcp_verify_params params = {.at = BEFORE, .auth_level = p->level};
	struct pcp_error err = {0};
	struct pcp_verdict v;

	assert_non_null(c);
	assert_int_equal(pcp_verify_chain(c, p->s_new, &params, &v, &err), -1);
	assert_int_not_equal(err.code, PCP_OK);
	pcp_chain_free(c);
}

/* ---- differential: OpenSSL's TLS client on a real (in-memory) handshake ---- */

struct tls_outcome {
	long verify_result;
	int depth;                 /* first failing depth seen by the verify callback */
	STACK_OF(X509) * verified; /* the client's verified chain, owned */
	struct pcp_chain *served;  /* what a capture handshake (SSL_VERIFY_NONE) saw */
};

static int remember_depth(int ok, X509_STORE_CTX *ctx)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx());
	int *depth = SSL_get_app_data(ssl);

	if (!ok && *depth < 0)
		*depth = X509_STORE_CTX_get_error_depth(ctx);
	return ok; /* same decision as without a callback */
}

/* Runs one handshake between a server serving certs[0..n) with key and a client that
 * verifies with store at `at` (verify) or not at all (capture). */
static void handshake(X509 *const *certs, size_t n, EVP_PKEY *key, X509_STORE *store, time_t at,
                      bool verify, struct tls_outcome *out)
{
	SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL *srv, *cli;
	BIO *bs = NULL, *bc = NULL;
	int depth = -1;

	assert_non_null(sctx);
	assert_non_null(cctx);
	/* The server must be able to serve weak certificates; the client keeps defaults. */
	SSL_CTX_set_security_level(sctx, 0);
	assert_int_equal(SSL_CTX_use_certificate(sctx, certs[0]), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(sctx, key), 1);
	for (size_t i = 1; i < n; i++)
		assert_int_equal(SSL_CTX_add1_chain_cert(sctx, certs[i]), 1);
	/* Serve exactly certs[]: never complete the chain from a store. */
	SSL_CTX_set_mode(sctx, SSL_MODE_NO_AUTO_CHAIN);
	assert_true(X509_STORE_up_ref(store));
	SSL_CTX_set_cert_store(cctx, store);
	X509_VERIFY_PARAM_set_time(SSL_CTX_get0_param(cctx), at);
	SSL_CTX_set_verify(cctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
	                   verify ? remember_depth : NULL);

	assert_non_null(srv = SSL_new(sctx));
	assert_non_null(cli = SSL_new(cctx));
	SSL_set_app_data(cli, &depth);
	assert_int_equal(BIO_new_bio_pair(&bs, 0, &bc, 0), 1);
	SSL_set_bio(srv, bs, bs);
	SSL_set_bio(cli, bc, bc);
	SSL_set_accept_state(srv);
	SSL_set_connect_state(cli);
	for (int round = 0; round < 50; round++) {
		int rc = SSL_do_handshake(cli);
		int rs = SSL_do_handshake(srv);

		if ((rc == 1 && rs == 1) ||
		    (rc <= 0 && SSL_get_error(cli, rc) != SSL_ERROR_WANT_READ &&
		     SSL_get_error(cli, rc) != SSL_ERROR_WANT_WRITE))
			break;
	}
	ERR_clear_error();
	out->verify_result = SSL_get_verify_result(cli);
	out->depth = depth;
	if (verify) {
		STACK_OF(X509) *vc = SSL_get0_verified_chain(cli);

		out->verified = vc ? X509_chain_up_ref(vc) : NULL;
	} else {
		out->served = pcp_chain_from_stack(SSL_get_peer_cert_chain(cli));
		assert_non_null(out->served);
	}
	SSL_free(cli);
	SSL_free(srv);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

struct scenario {
	const char *name;
	X509 *certs[4];
	EVP_PKEY *key;
	const struct pcp_store *store;
	time_t at;
};

static void test_agrees_with_tls_client(void **state)
{
	struct pki *p = *state;
	const time_t mid = T(2024, 6, 1, 0, 0, 0);
	const bool verbose = getenv("PCP_TEST_VERBOSE") != NULL; /* print the table */
	/* clang-format off */
	const struct scenario sc[] = {
		{ "old chain before", { p->leaf_old, p->old_int }, p->k_leaf, p->s_old, BEFORE },
		{ "old chain after", { p->leaf_old, p->old_int }, p->k_leaf, p->s_old, AFTER },
		{ "old chain, both roots", { p->leaf_old, p->old_int }, p->k_leaf, p->s_both, AFTER },
		{ "new chain, old root", { p->leaf_new, p->new_int }, p->k_leaf, p->s_old, BEFORE },
		{ "new chain, new root", { p->leaf_new, p->new_int }, p->k_leaf, p->s_new, AFTER },
		{ "bridge, both", { p->leaf_new, p->new_int, p->cross }, p->k_leaf, p->s_both, AFTER },
		{ "bridge, old, before", { p->leaf_new, p->new_int, p->cross }, p->k_leaf, p->s_old,
		  BEFORE },
		{ "bridge, old, after", { p->leaf_new, p->new_int, p->cross }, p->k_leaf, p->s_old,
		  AFTER },
		{ "leaf only", { p->leaf_old }, p->k_leaf, p->s_old, BEFORE },
		{ "leaf only, int+root", { p->leaf_old }, p->k_leaf, p->s_int_root, BEFORE },
		{ "leaf only, int only", { p->leaf_old }, p->k_leaf, p->s_int_only, BEFORE },
		{ "unknown root", { p->leaf_old, p->old_int }, p->k_leaf, p->s_other, BEFORE },
		{ "root sent, untrusted", { p->leaf_old, p->old_int, p->old_root }, p->k_leaf,
		  p->s_other, BEFORE },
		{ "self-signed", { p->self_leaf }, p->k_leaf, p->s_other, BEFORE },
		{ "self-signed trusted", { p->self_leaf }, p->k_leaf, p->s_self, BEFORE },
		{ "sha1 leaf", { p->sha1_leaf, p->new_int }, p->k_leaf, p->s_new, BEFORE },
		{ "rsa1024 leaf", { p->weak_leaf, p->new_int }, p->k_rsa1024, p->s_new, BEFORE },
		{ "rsa1024 intermediate", { p->leaf_weak_int, p->weak_int }, p->k_leaf, p->s_new,
		  BEFORE },
		{ "rsa1024 intermediate in store", { p->leaf_weak_int }, p->k_leaf, p->s_weak_int,
		  BEFORE },
		{ "clientAuth only", { p->client_leaf, p->new_int }, p->k_leaf, p->s_new, BEFORE },
		{ "CA:FALSE intermediate", { p->leaf_notca, p->notca_int }, p->k_leaf, p->s_new,
		  BEFORE },
		{ "no basicConstraints", { p->leaf_nobc, p->nobc_int }, p->k_leaf, p->s_new,
		  BEFORE },
		{ "expired leaf", { p->expired_leaf, p->new_int }, p->k_leaf, p->s_new, BEFORE },
		{ "future leaf", { p->future_leaf, p->new_int }, p->k_leaf, p->s_new, BEFORE },
		{ "expired intermediate", { p->leaf_short_int, p->short_int }, p->k_leaf, p->s_new,
		  mid },
		{ "self-issued leaf, CA trusted", { p->same_leaf }, p->k_leaf, p->s_same, BEFORE },
		{ "self-issued leaf, CA sent", { p->same_leaf, p->same_ca }, p->k_leaf, p->s_other,
		  BEFORE },
		{ "self-issued leaf, unknown", { p->same_leaf }, p->k_leaf, p->s_other, BEFORE },
		{ "self-issued leaf with key ids", { p->same_leaf_ids }, p->k_leaf, p->s_same_ids,
		  BEFORE },
		{ "leaf sent twice", { p->leaf_new, p->leaf_new, p->new_int }, p->k_leaf, p->s_new,
		  BEFORE },
	};
	/* clang-format on */

	for (size_t i = 0; i < sizeof sc / sizeof sc[0]; i++) {
		size_t n = 0;
		struct tls_outcome cap = {0}, ver = {0};
		struct pcp_verdict v;

		while (n < 4 && sc[i].certs[n])
			n++;
		handshake(sc[i].certs, n, sc[i].key, sc[i].store->store, sc[i].at, false, &cap);
		handshake(sc[i].certs, n, sc[i].key, sc[i].store->store, sc[i].at, true, &ver);
		assert_int_equal(pcp_chain_len(cap.served), n);
		v = check_ca(p, cap.served, sc[i].store, sc[i].at);
		if (verbose)
			fprintf(stderr,
			        "%-32s TLS client %2ld at %2d, pcp %2d at %2d, path %zu: %s\n",
			        sc[i].name, ver.verify_result, ver.depth, v.code, v.depth,
			        v.path_len, v.reason);
		if (v.code != ver.verify_result || v.ok != (ver.verify_result == X509_V_OK) ||
		    (!v.ok && v.depth != ver.depth))
			fail_msg("%s: pcp code %d depth %d, TLS client code %ld depth %d",
			         sc[i].name, v.code, v.depth, ver.verify_result, ver.depth);
		if (v.ok) {
			assert_non_null(ver.verified);
			assert_int_equal(v.path_len, (size_t)sk_X509_num(ver.verified));
			for (size_t j = 0; j < v.path_len; j++)
				assert_path_at(&v, j, sk_X509_value(ver.verified, (int)j));
		}
		pcp_verdict_cleanup(&v);
		pcp_chain_free(cap.served);
		sk_X509_pop_free(ver.verified, X509_free);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_default_auth_level),
	        cmocka_unit_test(test_old_root_chain),
	        cmocka_unit_test(test_new_root_chain),
	        cmocka_unit_test(test_cross_signed_bridge),
	        cmocka_unit_test(test_missing_intermediate),
	        cmocka_unit_test(test_unknown_root),
	        cmocka_unit_test(test_self_signed_leaf),
	        cmocka_unit_test(test_self_issued_leaf),
	        cmocka_unit_test(test_weak_signature),
	        cmocka_unit_test(test_weak_key),
	        cmocka_unit_test(test_client_only_eku),
	        cmocka_unit_test(test_intermediate_not_ca),
	        cmocka_unit_test(test_leaf_dates),
	        cmocka_unit_test(test_names),
	        cmocka_unit_test(test_name_with_nul),
	        cmocka_unit_test(test_empty_chain_is_internal_error),
	        cmocka_unit_test(test_agrees_with_tls_client),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
