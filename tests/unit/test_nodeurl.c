/* Unit tests for nodeurl: pg-connection-string 2.9.1's parse() and pg 8.16.3's
 * ConnectionParameters, down to what Node's TLS checks. The fleet cases are in
 * test_driver_agreement (real node-postgres). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "nodeurl.h"

static enum pcp_node_tls tls_of(const char *text)
{
	struct pcp_node_url u;
	struct pcp_error err = {0};
	enum pcp_node_tls t;

	if (pcp_node_url_parse(text, &u, &err) != PCP_OK)
		fail_msg("%s: %s", text, err.msg);
	t = u.tls;
	pcp_node_url_cleanup(&u);
	return t;
}

static void test_tls(void **state)
{
	(void)state;
	assert_int_equal(tls_of("postgres://h/db"), PCP_NODE_PLAIN);
	assert_int_equal(tls_of("postgres://h/db?ssl=true"), PCP_NODE_FULL);
	assert_int_equal(tls_of("postgres://h/db?ssl=1"), PCP_NODE_FULL);
	assert_int_equal(tls_of("postgres://h/db?ssl=0"), PCP_NODE_PLAIN);
	/* "false" is a truthy string to pg. */
	assert_int_equal(tls_of("postgres://h/db?ssl=false"), PCP_NODE_FULL);
	assert_int_equal(tls_of("postgres://h/db?ssl=no-verify"), PCP_NODE_NO_VERIFY);
	/* Without uselibpqcompat every sslmode but disable and no-verify is full. */
	assert_int_equal(tls_of("postgres://h/db?sslmode=prefer"), PCP_NODE_FULL);
	assert_int_equal(tls_of("postgres://h/db?sslmode=require"), PCP_NODE_FULL);
	assert_int_equal(tls_of("postgres://h/db?sslmode=verify-ca"), PCP_NODE_FULL);
	assert_int_equal(tls_of("postgres://h/db?sslmode=allow"), PCP_NODE_FULL);
	assert_int_equal(tls_of("postgres://h/db?sslmode=no-verify"), PCP_NODE_NO_VERIFY);
	assert_int_equal(tls_of("postgres://h/db?sslmode=disable&ssl=true"), PCP_NODE_PLAIN);
	/* A root file makes ssl an object: TLS even with ssl=0. */
	assert_int_equal(tls_of("postgres://h/db?ssl=0&sslrootcert=/r.pem"), PCP_NODE_FULL);
	/* uselibpqcompat=true: libpq's meanings. */
	assert_int_equal(tls_of("postgres://h/db?sslmode=prefer&uselibpqcompat=true"),
	                 PCP_NODE_NO_VERIFY);
	assert_int_equal(tls_of("postgres://h/db?sslmode=require&uselibpqcompat=true"),
	                 PCP_NODE_NO_VERIFY);
	assert_int_equal(
	        tls_of("postgres://h/db?sslmode=require&sslrootcert=/r&uselibpqcompat=true"),
	        PCP_NODE_CHAIN);
	assert_int_equal(
	        tls_of("postgres://h/db?sslmode=verify-ca&sslrootcert=/r&uselibpqcompat=true"),
	        PCP_NODE_CHAIN);
	assert_int_equal(tls_of("postgres://h/db?sslmode=verify-full&uselibpqcompat=true"),
	                 PCP_NODE_FULL);
}

static void test_parts(void **state)
{
	struct pcp_node_url u;
	struct pcp_error err = {0};

	(void)state;
	assert_int_equal(pcp_node_url_parse("postgresql://u:p%40ss@[::1]:6543/db?sslmode=verify-ca&"
	                                    "uselibpqcompat=true",
	                                    &u, &err),
	                 PCP_OK);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 6543);
	assert_true(u.compat);
	assert_string_equal(u.sslmode, "verify-ca");
	assert_string_not_equal(u.refusal, ""); /* verify-ca needs sslrootcert in compat mode */
	pcp_node_url_cleanup(&u);
	assert_int_equal(pcp_node_url_parse("postgres://h:1/db?host=other&port=7", &u, &err),
	                 PCP_OK);
	assert_string_equal(u.host, "other");
	assert_int_equal(u.port, 7);
	pcp_node_url_cleanup(&u);
	assert_int_equal(pcp_node_url_parse("host=h sslmode=require", &u, &err), PCP_ERR_TARGET);
	assert_int_equal(pcp_node_url_parse("postgres://h:99999/db", &u, &err), PCP_ERR_TARGET);
	/* An empty host is pg's default, localhost (measured with pg 8.16.3)... */
	assert_int_equal(pcp_node_url_parse("postgres:///db", &u, &err), PCP_OK);
	assert_string_equal(u.host, "localhost");
	assert_int_equal(u.port, 5432);
	pcp_node_url_cleanup(&u);
	assert_int_equal(
	        pcp_node_url_parse("postgres://u:p@/db?port=5433&sslmode=no-verify", &u, &err),
	        PCP_OK);
	assert_string_equal(u.host, "localhost");
	assert_int_equal(u.port, 5433);
	assert_int_equal(u.tls, PCP_NODE_NO_VERIFY);
	pcp_node_url_cleanup(&u);
	assert_int_equal(pcp_node_url_parse("postgres://?host=h", &u, &err), PCP_OK);
	assert_string_equal(u.host, "h");
	pcp_node_url_cleanup(&u);
	/* ...but WHATWG URL parsing refuses it with a port or after userinfo (unless "@/"),
	 * and pg-connection-string throws. */
	assert_int_equal(pcp_node_url_parse("postgres://u@:5433/db", &u, &err), PCP_ERR_TARGET);
	assert_non_null(strstr(err.msg, "searchParams"));
	assert_int_equal(pcp_node_url_parse("postgres://:5433/db", &u, &err), PCP_ERR_TARGET);
	assert_int_equal(pcp_node_url_parse("postgres://u@?sslmode=require", &u, &err),
	                 PCP_ERR_TARGET);
	assert_int_equal(pcp_node_url_parse("postgres://u@", &u, &err), PCP_ERR_TARGET);
	assert_int_equal(pcp_node_url_parse("postgres://[]/db", &u, &err), PCP_ERR_TARGET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_tls),
	        cmocka_unit_test(test_parts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
