/* Unit tests for jdbcurl: pgJDBC 42.5.5's Driver.parseURL and SslMode.of, case by case from
 * their source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "jdbcurl.h"

static void parse_ok(const char *text, struct pcp_jdbc_url *u)
{
	struct pcp_error err = {0};

	if (pcp_jdbc_url_parse(text, u, &err) != PCP_OK)
		fail_msg("%s: %s", text, err.msg);
}

static void parse_bad(const char *text, const char *word)
{
	struct pcp_jdbc_url u;
	struct pcp_error err = {0};

	assert_int_equal(pcp_jdbc_url_parse(text, &u, &err), PCP_ERR_TARGET);
	if (!strstr(err.msg, word))
		fail_msg("%s: %s lacks %s", text, err.msg, word);
}

static void test_hosts(void **state)
{
	struct pcp_jdbc_url u;

	(void)state;
	parse_ok("jdbc:postgresql://db1:6543,[::1],:7/app?x=1", &u);
	assert_int_equal(u.n_hosts, 3);
	assert_string_equal(u.hosts[0], "db1");
	assert_int_equal(u.ports[0], 6543);
	assert_string_equal(u.hosts[1], "[::1]");
	assert_int_equal(u.ports[1], 5432);
	assert_string_equal(u.hosts[2], "localhost"); /* an empty host before a port */
	assert_int_equal(u.ports[2], 7);
	assert_int_equal(u.sslmode, PCP_LIBPQ_PREFER);
	assert_int_equal(u.factory, PCP_JDBC_LIBPQ);
	pcp_jdbc_url_cleanup(&u);
	/* No host part: localhost:5432. */
	parse_ok("jdbc:postgresql:app", &u);
	assert_int_equal(u.n_hosts, 1);
	assert_string_equal(u.hosts[0], "localhost");
	pcp_jdbc_url_cleanup(&u);
	parse_ok("jdbc:postgresql://db,/", &u); /* split() drops trailing empty entries */
	assert_int_equal(u.n_hosts, 1);
	pcp_jdbc_url_cleanup(&u);
}

static void test_ssl_settings(void **state)
{
	struct pcp_jdbc_url u;

	(void)state;
	parse_ok("jdbc:postgresql://db/app?ssl=true&sslrootcert=%2Fetc%2Froot+1.crt", &u);
	assert_int_equal(u.sslmode, PCP_LIBPQ_VERIFY_FULL);
	assert_string_equal(u.sslrootcert, "/etc/root 1.crt");
	pcp_jdbc_url_cleanup(&u);
	parse_ok("jdbc:postgresql://db/app?ssl", &u); /* a bare ssl is verify-full too */
	assert_int_equal(u.sslmode, PCP_LIBPQ_VERIFY_FULL);
	pcp_jdbc_url_cleanup(&u);
	parse_ok("jdbc:postgresql://db/app?ssl=false", &u);
	assert_int_equal(u.sslmode, PCP_LIBPQ_PREFER);
	pcp_jdbc_url_cleanup(&u);
	/* sslmode wins over ssl, case-insensitively; the last sslmode wins. */
	parse_ok("jdbc:postgresql://db/app?ssl=true&sslmode=require&sslmode=VERIFY-CA", &u);
	assert_int_equal(u.sslmode, PCP_LIBPQ_VERIFY_CA);
	pcp_jdbc_url_cleanup(&u);
	parse_ok("jdbc:postgresql://db/app?sslfactory=org.postgresql.ssl.NonValidatingFactory", &u);
	assert_int_equal(u.factory, PCP_JDBC_NON_VALIDATING);
	pcp_jdbc_url_cleanup(&u);
	parse_ok("jdbc:postgresql://db/app?sslfactory=org.postgresql.ssl.DefaultJavaSSLFactory",
	         &u);
	assert_int_equal(u.factory, PCP_JDBC_DEFAULT_JAVA);
	pcp_jdbc_url_cleanup(&u);
	parse_ok("jdbc:postgresql://db/app?sslfactory=com.example.MyFactory", &u);
	assert_int_equal(u.factory, PCP_JDBC_OTHER);
	pcp_jdbc_url_cleanup(&u);
}

static void test_refused(void **state)
{
	(void)state;
	parse_bad("jdbc:postgresql://db", "must contain a /");
	parse_bad("jdbc:postgresql://db/app/x", "too many /");
	parse_bad("jdbc:postgresql:/app", "cannot start with /");
	parse_bad("jdbc:postgresql://db:0/app", "invalid port");
	parse_bad("jdbc:postgresql://db:x/app", "invalid port");
	parse_bad("jdbc:postgresql://db:/app", "invalid port");
	parse_bad("jdbc:postgresql://a,,b/app", "empty host");
	parse_bad("jdbc:postgresql://db/app?sslmode=verify-all", "Invalid sslmode value");
	parse_bad("jdbc:postgresql://db/app?sslrootcert=%4", "escape");
	parse_bad("jdbc:postgresql://db/a%zz", "escape");
	parse_bad("jdbc:postgresql://db/app?service=x", "service");
	parse_bad("jdbc:mysql://db/app", "jdbc:postgresql:");
	assert_true(pcp_jdbc_url_is("JDBC:postgresql://x/"));
	assert_false(pcp_jdbc_url_is("postgresql://x/"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_hosts),
	        cmocka_unit_test(test_ssl_settings),
	        cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
