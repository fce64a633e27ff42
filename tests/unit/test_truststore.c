/* Unit tests for truststore: PEM bundles with certificates and CRLs, directories loaded
 * whole (hash links, junk files, subdirectories), the error for each bad input, that a
 * loaded store no longer needs its files, and duplicate names in a store list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testpki.h"
#include "truststore.h"
#include "verify.h"

struct fixture {
	EVP_PKEY *key;
	X509 *root_a, *root_b, *leaf_a; /* leaf_a issued by root_a */
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct pcp_testpki_spec s = {
	        .not_before = pcp_testpki_time(2020, 1, 1, 0, 0, 0),
	        .not_after = pcp_testpki_time(2040, 1, 1, 0, 0, 0),
	        .bc = PCP_TESTPKI_BC_CA,
	};

	assert_non_null(f);
	assert_non_null(f->key = pcp_testpki_key(PCP_TESTPKI_EC_P256, 0));
	s.cn = "Root A";
	assert_non_null(f->root_a = pcp_testpki_cert(&s, f->key, NULL, NULL));
	s.cn = "Root B";
	assert_non_null(f->root_b = pcp_testpki_cert(&s, f->key, NULL, NULL));
	s.cn = "db.example.com";
	s.bc = PCP_TESTPKI_BC_LEAF;
	s.eku = PCP_TESTPKI_EKU_SERVER;
	assert_non_null(f->leaf_a = pcp_testpki_cert(&s, f->key, f->root_a, f->key));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	X509_free(f->root_a);
	X509_free(f->root_b);
	X509_free(f->leaf_a);
	EVP_PKEY_free(f->key);
	free(f);
	return 0;
}

/* A fresh scratch directory per test, removed with everything in it afterwards. */
static int mkscratch(void **state)
{
	struct fixture *f = *state;

	snprintf(f->dir, sizeof f->dir, "/tmp/pcp-test-store-XXXXXX");
	return mkdtemp(f->dir) ? 0 : -1;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

/* Depth-first, not following links: removes the scratch directory and all it holds. */
static void remove_tree(const char *path)
{
	if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "could not remove %s\n", path);
}

static int rmscratch(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	if (stat(f->dir, &st) == 0)
		remove_tree(f->dir);
	return 0;
}

static const char *in_dir(const struct fixture *f, const char *name)
{
	static char buf[2][160];
	static int which;

	which ^= 1;
	snprintf(buf[which], sizeof buf[which], "%s/%s", f->dir, name);
	return buf[which];
}

static size_t count_objects(const struct pcp_store *s, X509_LOOKUP_TYPE type)
{
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(s->store);
	size_t n = 0;

	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++)
		n += X509_OBJECT_get_type(sk_X509_OBJECT_value(objs, i)) == type;
	return n;
}

/* What libpq does with sslrootcert: SSL_CTX_load_verify_locations(ctx, file, NULL). */
static bool libpq_loader_accepts(const char *path)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	bool ok;

	assert_non_null(ctx);
	ok = SSL_CTX_load_verify_locations(ctx, path, NULL) == 1;
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/* Verifies leaf_a against the store now that its files are gone. */
static bool verifies_leaf_a(const struct fixture *f, const struct pcp_store *s)
{
	struct pcp_chain *c = pcp_testpki_chain(f->leaf_a, NULL);
	struct pcp_verify_params params = {
	        .at = pcp_testpki_time(2025, 1, 1, 0, 0, 0),
	        .auth_level = pcp_verify_default_auth_level(),
	        .sslmode = PCP_SSLMODE_VERIFY_CA,
	};
	struct pcp_verdict v;
	struct pcp_error err = {0};
	bool ok;

	assert_non_null(c);
	assert_int_equal(pcp_verify_chain(c, s, &params, &v, &err), 0);
	ok = v.ok;
	pcp_verdict_cleanup(&v);
	pcp_chain_free(c);
	return ok;
}

static void test_file_with_certs_and_crl(void **state)
{
	struct fixture *f = *state;
	X509 *certs[] = {f->root_a, f->root_b};
	const char *path = in_dir(f, "bundle.pem");
	X509_CRL *crl =
	        pcp_testpki_crl(f->root_a, f->key, pcp_testpki_time(2024, 1, 1, 0, 0, 0),
	                        pcp_testpki_time(2024, 2, 1, 0, 0, 0), (const uint64_t[]){42}, 1);
	struct pcp_error err = {0};
	struct pcp_store *s;

	assert_non_null(crl);
	assert_int_equal(pcp_testpki_write_certs(path, certs, 2), 0);
	assert_int_equal(pcp_testpki_append_crl(path, crl), 0);
	assert_true(libpq_loader_accepts(path));
	s = pcp_store_load("bundle", path, &err);
	if (!s)
		fail_msg("%s", err.msg);
	assert_string_equal(s->name, "bundle");
	assert_string_equal(s->path, path);
	assert_int_equal(s->n_certs, 2);
	assert_int_equal(count_objects(s, X509_LU_X509), 2);
	assert_int_equal(count_objects(s, X509_LU_CRL), 1);
	/* The CRL is loaded but not consulted (its nextUpdate has passed): no CRL flags. */
	assert_int_equal(X509_VERIFY_PARAM_get_flags(X509_STORE_get0_param(s->store)), 0);
	unlink(path);
	assert_true(verifies_leaf_a(f, s));
	pcp_store_free(s);
	X509_CRL_free(crl);
}

static void test_directory(void **state)
{
	struct fixture *f = *state;
	struct pcp_error err = {0};
	struct pcp_store *s;
	static const char readme[] = "these are our roots\n";
	static const char broken[] =
	        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";

	assert_int_equal(pcp_testpki_write_certs(in_dir(f, "a.pem"), &f->root_a, 1), 0);
	assert_int_equal(
	        pcp_testpki_write_certs(in_dir(f, "b.crt"), (X509 *[]){f->root_b, f->root_a}, 2),
	        0);
	/* c_rehash style link to a.pem, a dangling link, junk, a broken PEM, a subdir. */
	assert_int_equal(symlink("a.pem", in_dir(f, "0123abcd.0")), 0);
	assert_int_equal(symlink("gone.pem", in_dir(f, "deadbeef.0")), 0);
	assert_int_equal(pcp_testpki_write_file(in_dir(f, "README"), readme, sizeof readme - 1), 0);
	assert_int_equal(pcp_testpki_write_file(in_dir(f, "broken.pem"), broken, sizeof broken - 1),
	                 0);
	assert_int_equal(mkdir(in_dir(f, "sub"), 0755), 0);
	assert_int_equal(pcp_testpki_write_certs(in_dir(f, "sub/ignored.pem"), &f->leaf_a, 1), 0);

	s = pcp_store_load("dir", f->dir, &err);
	if (!s)
		fail_msg("%s", err.msg);
	assert_int_equal(s->n_certs, 2); /* root_a counted once however often it appears */
	assert_string_equal(s->path, f->dir);
	/* Everything was read up front: the directory can go. */
	remove_tree(f->dir);
	assert_true(verifies_leaf_a(f, s));
	pcp_store_free(s);
}

static void test_directory_without_certs(void **state)
{
	struct fixture *f = *state;
	struct pcp_error err = {0};
	char expect[256];

	assert_null(pcp_store_load("emptydir", f->dir, &err));
	assert_int_equal(err.code, PCP_ERR_CONFIG);
	snprintf(expect, sizeof expect, "store emptydir: %s holds no certificate", f->dir);
	assert_string_equal(err.msg, expect);

	assert_int_equal(pcp_testpki_write_file(in_dir(f, "README"), "hello\n", 6), 0);
	assert_null(pcp_store_load("emptydir", f->dir, &err));
	assert_string_equal(err.msg, expect);
}

static void test_file_without_certs(void **state)
{
	struct fixture *f = *state;
	struct pcp_error err = {0};
	char expect[256];
	const char *empty = in_dir(f, "empty.pem");
	const char *keyonly = in_dir(f, "key.pem");

	assert_int_equal(pcp_testpki_write_file(empty, "", 0), 0);
	assert_false(libpq_loader_accepts(empty));
	assert_null(pcp_store_load("e", empty, &err));
	assert_int_equal(err.code, PCP_ERR_CONFIG);
	snprintf(expect, sizeof expect, "store e: %s holds no certificate", empty);
	assert_string_equal(err.msg, expect);

	assert_int_equal(pcp_testpki_write_key(keyonly, f->key), 0);
	assert_false(libpq_loader_accepts(keyonly));
	assert_null(pcp_store_load("k", keyonly, &err));
	snprintf(expect, sizeof expect, "store k: %s holds no certificate", keyonly);
	assert_string_equal(err.msg, expect);
}

static void test_broken_pem(void **state)
{
	struct fixture *f = *state;
	struct pcp_error err = {0};
	char expect[256];
	const char *path = in_dir(f, "broken.pem");
	static const char broken[] = "-----BEGIN CERTIFICATE-----\nMIIB!!notbase64\n"
	                             "-----END CERTIFICATE-----\n";

	FILE *out;

	/* A good certificate first: one broken block still spoils the whole file, as in
	 * X509_load_cert_crl_file. */
	assert_int_equal(pcp_testpki_write_certs(path, &f->root_a, 1), 0);
	assert_non_null(out = fopen(path, "a"));
	assert_int_equal(fputs(broken, out) >= 0, 1);
	assert_int_equal(fclose(out), 0);
	assert_false(libpq_loader_accepts(path));
	assert_null(pcp_store_load("b", path, &err));
	if (getenv("PCP_TEST_VERBOSE"))
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(err.code, PCP_ERR_CONFIG);
	snprintf(expect, sizeof expect, "store b: %s: broken PEM: ", path);
	/* OpenSSL's own reason follows. */
	assert_true(strncmp(err.msg, expect, strlen(expect)) == 0);
	assert_true(strlen(err.msg) > strlen(expect));
}

static void test_missing_path(void **state)
{
	struct fixture *f = *state;
	struct pcp_error err = {0};
	char expect[256];
	const char *path = in_dir(f, "nope.pem");

	assert_null(pcp_store_load("m", path, &err));
	assert_int_equal(err.code, PCP_ERR_CONFIG);
	snprintf(expect, sizeof expect, "store m: %s: No such file or directory", path);
	assert_string_equal(err.msg, expect);
}

static void test_list_rejects_duplicate_names(void **state)
{
	struct fixture *f = *state;
	struct pcp_store_list list = {0};
	struct pcp_error err = {0};
	const char *path = in_dir(f, "a.pem");
	struct pcp_store *a, *b, *dup;

	assert_int_equal(pcp_testpki_write_certs(path, &f->root_a, 1), 0);
	assert_non_null(a = pcp_store_load("azure", path, &err));
	assert_non_null(b = pcp_store_load("system", path, &err));
	assert_non_null(dup = pcp_store_load("azure", path, &err));
	assert_int_equal(pcp_store_list_add(&list, a, &err), PCP_OK);
	assert_int_equal(pcp_store_list_add(&list, b, &err), PCP_OK);
	assert_int_equal(pcp_store_list_add(&list, dup, &err), PCP_ERR_USAGE);
	assert_string_equal(err.msg, "duplicate store name azure");
	assert_int_equal(list.n, 2);
	assert_ptr_equal(list.items[0], a);
	assert_ptr_equal(list.items[1], b);
	pcp_store_free(dup); /* not taken on failure */
	pcp_store_list_cleanup(&list);
	assert_int_equal(list.n, 0);
	pcp_store_list_cleanup(&list);
	pcp_store_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_file_with_certs_and_crl, mkscratch, rmscratch),
	        cmocka_unit_test_setup_teardown(test_directory, mkscratch, rmscratch),
	        cmocka_unit_test_setup_teardown(test_directory_without_certs, mkscratch, rmscratch),
	        cmocka_unit_test_setup_teardown(test_file_without_certs, mkscratch, rmscratch),
	        cmocka_unit_test_setup_teardown(test_broken_pem, mkscratch, rmscratch),
	        cmocka_unit_test_setup_teardown(test_missing_path, mkscratch, rmscratch),
	        cmocka_unit_test_setup_teardown(test_list_rejects_duplicate_names, mkscratch,
	                                        rmscratch),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
