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

#include "testjava.h"
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

/* A spec for path with a password source. */
static struct pcp_store_spec spec_of(const char *name, const char *path,
                                     enum pcp_password_source src, const char *pw)
{
	return (struct pcp_store_spec){
	        .name = (char *)name, .path = (char *)path, .pw_source = src, .pw = (char *)pw};
}

/* Java truststores are recognised by content whatever their name, hold their trust
 * anchors only, and verify like a PEM file of the same roots. */
static void test_java_stores(void **state)
{
	struct fixture *f = *state;
	const struct pcp_testjava_entry e[] = {
	        {.alias = "a", .certs = &f->root_a, .n_certs = 1},
	        {.alias = "b", .certs = &f->root_b, .n_certs = 1},
	};
	size_t len;
	unsigned char *jks = pcp_testjava_jks(e, 2, "changeit", &len);
	char jks_path[160], p12_path[160];
	struct pcp_error err = {0};
	struct pcp_store *s;
	struct pcp_store_spec spec;

	assert_non_null(jks);
	snprintf(jks_path, sizeof jks_path, "%s",
	         pcp_testjava_write(f->dir, "truststore", jks, len));
	free(jks);
	assert_non_null(jks = pcp_testjava_p12(e, 2, "changeit", NULL, &len));
	snprintf(p12_path, sizeof p12_path, "%s",
	         pcp_testjava_write(f->dir, "roots.pem", jks, len));
	free(jks);

	spec = spec_of("j", jks_path, PCP_PASSWORD_LITERAL, "changeit");
	if (!(s = pcp_store_load_spec(&spec, &err)))
		fail_msg("%s", err.msg);
	assert_int_equal(s->kind, PCP_STORE_JKS);
	assert_true(s->integrity_checked);
	assert_int_equal(s->n_certs, 2);
	assert_true(verifies_leaf_a(f, s));
	pcp_store_free(s);

	/* JKS without a password: read, unchecked. */
	spec = spec_of("j", jks_path, PCP_PASSWORD_NONE, NULL);
	assert_non_null(s = pcp_store_load_spec(&spec, &err));
	assert_false(s->integrity_checked);
	pcp_store_free(s);

	/* A PKCS#12 file called roots.pem is still PKCS#12. */
	spec = spec_of("p", p12_path, PCP_PASSWORD_LITERAL, "changeit");
	if (!(s = pcp_store_load_spec(&spec, &err)))
		fail_msg("%s", err.msg);
	assert_int_equal(s->kind, PCP_STORE_PKCS12);
	assert_string_equal(pcp_store_kind_name(s->kind), "pkcs12");
	assert_int_equal(s->n_certs, 2);
	unlink(p12_path);
	assert_true(verifies_leaf_a(f, s));
	pcp_store_free(s);

	/* libpq's reader (client root files) does not know Java stores. */
	assert_null(pcp_store_load("root.crt", jks_path, &err));
	assert_non_null(strstr(err.msg, "holds no certificate"));
}

/* The password from a file (its first line, CRLF or not) or from the environment. */
static void test_java_password_sources(void **state)
{
	struct fixture *f = *state;
	const struct pcp_testjava_entry e = {.alias = "a", .certs = &f->root_a, .n_certs = 1};
	size_t len;
	unsigned char *buf = pcp_testjava_p12(&e, 1, "pa ss", NULL, &len);
	char path[160], pwfile[160], expect[400];
	struct pcp_error err = {0};
	struct pcp_store *s;
	struct pcp_store_spec spec;

	assert_non_null(buf);
	snprintf(path, sizeof path, "%s", pcp_testjava_write(f->dir, "truststore", buf, len));
	free(buf);
	snprintf(pwfile, sizeof pwfile, "%s", in_dir(f, "pw"));

	assert_int_equal(pcp_testpki_write_file(pwfile, "pa ss\r\nsecond line\n", 19), 0);
	spec = spec_of("t", path, PCP_PASSWORD_FILE, pwfile);
	if (!(s = pcp_store_load_spec(&spec, &err)))
		fail_msg("%s", err.msg);
	assert_true(s->integrity_checked);
	pcp_store_free(s);
	assert_int_equal(pcp_testpki_write_file(pwfile, "pa ss", 5), 0);
	assert_non_null(s = pcp_store_load_spec(&spec, &err));
	pcp_store_free(s);

	assert_int_equal(setenv("PCP_TEST_STORE_PW", "pa ss", 1), 0);
	spec = spec_of("t", path, PCP_PASSWORD_ENV, "PCP_TEST_STORE_PW");
	assert_non_null(s = pcp_store_load_spec(&spec, &err));
	pcp_store_free(s);
	unsetenv("PCP_TEST_STORE_PW");
	assert_null(pcp_store_load_spec(&spec, &err));
	assert_int_equal(err.code, PCP_ERR_CONFIG);
	assert_string_equal(err.msg, "store t: password variable PCP_TEST_STORE_PW is not set");

	spec = spec_of("t", path, PCP_PASSWORD_FILE, in_dir(f, "missing"));
	assert_null(pcp_store_load_spec(&spec, &err));
	snprintf(expect, sizeof expect, "store t: password file %s: No such file or directory",
	         in_dir(f, "missing"));
	assert_string_equal(err.msg, expect);

	assert_int_equal(pcp_testpki_write_file(pwfile, "pa\0ss\n", 6), 0);
	spec = spec_of("t", path, PCP_PASSWORD_FILE, pwfile);
	assert_null(pcp_store_load_spec(&spec, &err));
	assert_non_null(strstr(err.msg, "first line holds a NUL byte"));
}

/* Each way a Java store can fail is a configuration error naming the store and path,
 * never the password. */
static void test_java_store_errors(void **state)
{
	struct fixture *f = *state;
	const struct pcp_testjava_entry e = {.alias = "a", .certs = &f->root_a, .n_certs = 1};
	struct pcp_testjava_p12_opts untrusted = {.untrusted = true};
	size_t len;
	unsigned char *buf = pcp_testjava_p12(&e, 1, "right-pw", NULL, &len);
	char path[160], pem[160], prefix[300];
	struct pcp_error err = {0};
	struct pcp_store_spec spec;

	assert_non_null(buf);
	snprintf(path, sizeof path, "%s", pcp_testjava_write(f->dir, "ts", buf, len));
	snprintf(prefix, sizeof prefix, "store t: %s: PKCS#12", path);

	spec = spec_of("t", path, PCP_PASSWORD_LITERAL, "wrong-pw");
	assert_null(pcp_store_load_spec(&spec, &err));
	assert_int_equal(err.code, PCP_ERR_CONFIG);
	assert_true(strncmp(err.msg, prefix, strlen(prefix)) == 0);
	assert_non_null(strstr(err.msg, "wrong password"));
	assert_null(strstr(err.msg, "wrong-pw"));

	spec = spec_of("t", path, PCP_PASSWORD_NONE, NULL);
	assert_null(pcp_store_load_spec(&spec, &err));
	assert_non_null(strstr(err.msg, "encrypted certificates: without a password Java reads "
	                                "none of them (give --store-password t=...)"));

	/* Truncated: still PKCS#12 by its first bytes, but damaged. */
	assert_non_null(pcp_testjava_write(f->dir, "ts", buf, len / 2));
	spec = spec_of("t", path, PCP_PASSWORD_LITERAL, "right-pw");
	assert_null(pcp_store_load_spec(&spec, &err));
	assert_true(strncmp(err.msg, prefix, strlen(prefix)) == 0);
	free(buf);

	assert_non_null(buf = pcp_testjava_p12(&e, 1, "right-pw", &untrusted, &len));
	assert_non_null(pcp_testjava_write(f->dir, "ts", buf, len));
	assert_null(pcp_store_load_spec(&spec, &err));
	assert_non_null(strstr(err.msg, "holds 1 certificates but no trusted-certificate entry"));
	free(buf);

	assert_non_null(
	        pcp_testjava_write(f->dir, "ts", (const unsigned char *)"\xce\xce\xce\xce", 4));
	assert_null(pcp_store_load_spec(&spec, &err));
	assert_non_null(strstr(err.msg, "JCEKS keystore: not supported"));

	/* A password for a PEM file or a directory is a mistake worth stopping for. */
	snprintf(pem, sizeof pem, "%s", in_dir(f, "a.pem"));
	assert_int_equal(pcp_testpki_write_certs(pem, &f->root_a, 1), 0);
	spec = spec_of("t", pem, PCP_PASSWORD_LITERAL, "right-pw");
	assert_null(pcp_store_load_spec(&spec, &err));
	assert_int_equal(err.code, PCP_ERR_CONFIG);
	snprintf(prefix, sizeof prefix,
	         "store t: %s is not a PKCS#12 or JKS truststore: it takes no password", pem);
	assert_string_equal(err.msg, prefix);
	spec = spec_of("t", f->dir, PCP_PASSWORD_ENV, "X");
	assert_null(pcp_store_load_spec(&spec, &err));
	assert_non_null(strstr(err.msg, "is a directory, not a Java truststore"));
}

/* The list keeps each store's kind name for writers. */
static void test_list_kinds(void **state)
{
	struct fixture *f = *state;
	const struct pcp_testjava_entry e = {.alias = "a", .certs = &f->root_a, .n_certs = 1};
	size_t len;
	unsigned char *buf = pcp_testjava_jks(&e, 1, NULL, &len);
	char jks[160], pem[160];
	struct pcp_store_list list = {0};
	struct pcp_error err = {0};
	struct pcp_store_spec specs[3];

	assert_non_null(buf);
	snprintf(jks, sizeof jks, "%s", pcp_testjava_write(f->dir, "ts", buf, len));
	free(buf);
	snprintf(pem, sizeof pem, "%s", in_dir(f, "a.pem"));
	assert_int_equal(pcp_testpki_write_certs(pem, &f->root_a, 1), 0);
	specs[0] = spec_of("pem", pem, PCP_PASSWORD_NONE, NULL);
	specs[1] = spec_of("jks", jks, PCP_PASSWORD_NONE, NULL);
	specs[2] = spec_of("dir", f->dir, PCP_PASSWORD_NONE, NULL);
	if (pcp_store_list_load(&list, specs, 3, &err))
		fail_msg("%s", err.msg);
	assert_string_equal(list.kinds[0], "pem");
	assert_string_equal(list.kinds[1], "jks");
	assert_string_equal(list.kinds[2], "directory");
	assert_null(list.kinds[3]);
	pcp_store_list_cleanup(&list);
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
	        cmocka_unit_test_setup_teardown(test_java_stores, mkscratch, rmscratch),
	        cmocka_unit_test_setup_teardown(test_java_password_sources, mkscratch, rmscratch),
	        cmocka_unit_test_setup_teardown(test_java_store_errors, mkscratch, rmscratch),
	        cmocka_unit_test_setup_teardown(test_list_kinds, mkscratch, rmscratch),
	        cmocka_unit_test_setup_teardown(test_list_rejects_duplicate_names, mkscratch,
	                                        rmscratch),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
