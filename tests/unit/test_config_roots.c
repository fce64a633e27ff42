/* The shipped trust stores: each root in config/ is the real public certificate (checked by
 * SHA-256 fingerprint), combined.pem holds exactly the two roots, and the default
 * configuration loads its three stores. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain.h"
#include "cli.h"
#include "testutil.h"
#include "truststore.h"

#define BALTIMORE_SHA256   "16af57a9f676b0ab126095aa5ebadef22ab31119d644ac95cd4b93dbf3f26aeb"
#define DIGICERT_G2_SHA256 "cb3ccbb76031e5e0138f8dd39a23f9de47ffc35e43c1144cea27d46a5ab1cb5f"

static void expect_fingerprints(const char *rel, const char *const *want, size_t n)
{
	struct pcp_error err = {0};
	struct pcp_chain *chain = pcp_chain_load_pem(pcp_test_source_path(rel), &err);
	char hex[PCP_SHA256_HEX];

	assert_non_null(chain);
	assert_int_equal(pcp_chain_len(chain), n);
	for (size_t i = 0; i < n; i++) {
		pcp_cert_sha256_hex(pcp_chain_get0(chain, i), hex);
		assert_string_equal(hex, want[i]);
	}
	pcp_chain_free(chain);
}

static void test_baltimore(void **state)
{
	static const char *const want[] = {BALTIMORE_SHA256};

	(void)state;
	expect_fingerprints("config/baltimore-cybertrust-root.pem", want, 1);
}

static void test_digicert_g2(void **state)
{
	static const char *const want[] = {DIGICERT_G2_SHA256};

	(void)state;
	expect_fingerprints("config/digicert-global-root-g2.pem", want, 1);
}

static void test_combined(void **state)
{
	static const char *const want[] = {BALTIMORE_SHA256, DIGICERT_G2_SHA256};

	(void)state;
	expect_fingerprints("config/combined.pem", want, 2);
}

static void test_default_config_stores(void **state)
{
	static const char *const names[] = {"baltimore", "digicert-g2", "combined"};
	static const size_t certs[] = {1, 1, 2};
	char *argv[] = {"pgcertprobe", "--config", NULL, "127.0.0.1", NULL};
	char path[4096];
	struct pcp_settings s;
	struct pcp_error err = {0};

	(void)state;
	snprintf(path, sizeof path, "%s", pcp_test_source_path("config/pgcertprobe.conf"));
	argv[2] = path;
	pcp_settings_init(&s);
	assert_int_equal(pcp_cli_parse(4, argv, &s, &err), PCP_OK);
	assert_int_equal(s.n_stores, 3);
	assert_int_equal(s.sslmode, PCP_SSLMODE_VERIFY_FULL);
	assert_true(s.timeout == 10.0);
	assert_int_equal(s.concurrency, 256);
	for (size_t i = 0; i < 3; i++) {
		struct pcp_store *st;

		assert_string_equal(s.stores[i].name, names[i]);
		st = pcp_store_load(s.stores[i].name, s.stores[i].path, &err);
		assert_non_null(st);
		assert_int_equal(st->n_certs, certs[i]);
		pcp_store_free(st);
	}
	pcp_settings_cleanup(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_baltimore),
	        cmocka_unit_test(test_digicert_g2),
	        cmocka_unit_test(test_combined),
	        cmocka_unit_test(test_default_config_stores),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
