/* Unit tests for the driver policies' name rules and the registry. Expected values come
 * from the drivers' sources (pgJDBC 42.5.5 PGjdbcHostnameVerifier, Node 20
 * tls.checkServerIdentity with pg 8.16's servername rule, Go 1.19 crypto/x509
 * VerifyHostname), and the fleet cases from test_driver_agreement's real-driver runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "driver.h"

/* Builds names from "DNS:x", "IP:a.b.c.d" SANs and CNs; keeps the storage in a fixture. */
struct names {
	struct pcp_san san[8];
	struct pcp_name cns[4];
	struct pcp_cert_names n;
};

static void build(struct names *out, const char *const *sans, size_t n_sans, const char *const *cns,
                  size_t n_cns)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < n_sans; i++) {
		struct pcp_san *s = &out->san[i];

		if (strncmp(sans[i], "IP:", 3) == 0) {
			s->is_ip = true;
			if (inet_pton(AF_INET, sans[i] + 3, s->ip.addr) == 1)
				s->ip.len = 4;
			else if (inet_pton(AF_INET6, sans[i] + 3, s->ip.addr) == 1)
				s->ip.len = 16;
			else
				fail_msg("bad address %s", sans[i]);
		} else {
			s->dns.data = (char *)sans[i] + 4;
			s->dns.len = strlen(sans[i] + 4);
		}
	}
	out->n.san = out->san;
	out->n.n_san = n_sans;
	for (size_t i = 0; i < n_cns; i++) {
		out->cns[i].data = (char *)cns[i];
		out->cns[i].len = strlen(cns[i]);
	}
	out->n.cn = n_cns ? &out->cns[0] : NULL;
	out->n.more_cn = n_cns > 1 ? &out->cns[1] : NULL;
	out->n.n_more_cn = n_cns > 1 ? n_cns - 1 : 0;
}

static bool matches(const struct pcp_driver *d, const struct pcp_cert_names *n, const char *host)
{
	char msg[256], reason[96];

	return d->match(n, host, msg, sizeof msg, reason, sizeof reason) == PCP_HOST_MATCH;
}

static const char *reason_of(const struct pcp_driver *d, const struct pcp_cert_names *n,
                             const char *host)
{
	static char msg[256], reason[96];

	d->match(n, host, msg, sizeof msg, reason, sizeof reason);
	return reason;
}

static void test_registry(void **state)
{
	char list[128];

	(void)state;
	assert_ptr_equal(pcp_driver_find("pgjdbc"), &pcp_driver_pgjdbc);
	assert_ptr_equal(pcp_driver_find("node-postgres"), &pcp_driver_node);
	assert_ptr_equal(pcp_driver_find("pgx"), &pcp_driver_pgx);
	assert_ptr_equal(pcp_driver_find("libpq"), &pcp_driver_libpq);
	assert_null(pcp_driver_find("jdbc"));
	assert_null(pcp_driver_find(NULL));
	pcp_driver_list(list, sizeof list);
	assert_string_equal(list, "libpq, pgjdbc, node-postgres, pgx");
	assert_ptr_equal(pcp_driver_at(0), &pcp_driver_libpq);
	assert_null(pcp_driver_at(4));
}

static void test_pgjdbc_names(void **state)
{
	const struct pcp_driver *d = &pcp_driver_pgjdbc;
	struct names n;

	(void)state;
	/* A dNSName rules out the CN, even for an IP host (the fleet's ipcn server). */
	build(&n, (const char *[]){"DNS:ipcn.example.test"}, 1, (const char *[]){"127.0.0.18"}, 1);
	assert_false(matches(d, &n.n, "127.0.0.18"));
	assert_true(matches(d, &n.n, "IPCN.example.test"));
	/* Only iPAddress SANs: the CN still counts for names. */
	build(&n, (const char *[]){"IP:10.0.0.1"}, 1, (const char *[]){"db.example.com"}, 1);
	assert_true(matches(d, &n.n, "db.example.com"));
	assert_true(matches(d, &n.n, "10.0.0.1"));
	/* SANs compare as text: an IPv6 SAN is written uncompressed by Java. */
	build(&n, (const char *[]){"IP:::1"}, 1, NULL, 0);
	assert_false(matches(d, &n.n, "[::1]"));
	assert_true(matches(d, &n.n, "[0:0:0:0:0:0:0:1]"));
	build(&n, (const char *[]){"DNS:10.0.0.1"}, 1, NULL, 0);
	assert_true(matches(d, &n.n, "10.0.0.1"));
	/* Wildcards: one label, only a leading '*', the empty label too. */
	build(&n, (const char *[]){"DNS:*.example.com"}, 1, NULL, 0);
	assert_true(matches(d, &n.n, "a.example.com"));
	assert_false(matches(d, &n.n, "a.b.example.com"));
	assert_false(matches(d, &n.n, "example.com"));
	assert_true(matches(d, &n.n, ".example.com"));
	build(&n, (const char *[]){"DNS:f*.example.com"}, 1, NULL, 0);
	assert_false(matches(d, &n.n, "foo.example.com"));
	/* Several CNs: the most specific one alone decides. */
	build(&n, NULL, 0, (const char *[]){"a.example.com", "b.c.example.com"}, 2);
	assert_true(matches(d, &n.n, "b.c.example.com"));
	assert_false(matches(d, &n.n, "a.example.com"));
}

static void test_node_names(void **state)
{
	const struct pcp_driver *d = &pcp_driver_node;
	struct names n;

	(void)state;
	/* pg passes no servername for an IP: Node checks "localhost". */
	build(&n, (const char *[]){"DNS:ipsan.example.test", "IP:127.0.0.17"}, 2, NULL, 0);
	assert_false(matches(d, &n.n, "127.0.0.17"));
	assert_string_equal(reason_of(d, &n.n, "127.0.0.17"), "IP host checked as \"localhost\"");
	build(&n, (const char *[]){"DNS:localhost"}, 1, NULL, 0);
	assert_true(matches(d, &n.n, "127.0.0.1"));
	/* Wildcards: a prefix/suffix '*' in the first label; never "*.tld". */
	build(&n, (const char *[]){"DNS:*.example.com"}, 1, NULL, 0);
	assert_true(matches(d, &n.n, "A.Example.com."));
	assert_false(matches(d, &n.n, "a.b.example.com"));
	assert_false(matches(d, &n.n, "example.com"));
	build(&n, (const char *[]){"DNS:f*o.example.com"}, 1, NULL, 0);
	assert_true(matches(d, &n.n, "foo.example.com"));
	assert_false(matches(d, &n.n, "bar.example.com"));
	build(&n, (const char *[]){"DNS:*.com"}, 1, NULL, 0);
	assert_false(matches(d, &n.n, "example.com"));
	/* The CN only without a dNSName; every CN counts. */
	build(&n, (const char *[]){"IP:10.0.0.1"}, 1, (const char *[]){"x.example", "db.example"},
	      2);
	assert_true(matches(d, &n.n, "db.example"));
	build(&n, (const char *[]){"DNS:other.example"}, 1, (const char *[]){"db.example"}, 1);
	assert_false(matches(d, &n.n, "db.example"));
}

static void test_pgx_names(void **state)
{
	const struct pcp_driver *d = &pcp_driver_pgx;
	struct names n;

	(void)state;
	/* Never the CN. */
	build(&n, NULL, 0, (const char *[]){"cnonly.example.test"}, 1);
	assert_false(matches(d, &n.n, "cnonly.example.test"));
	assert_string_equal(reason_of(d, &n.n, "cnonly.example.test"), "CN-only certificate");
	assert_string_equal(reason_of(d, &n.n, "other.example.test"), "name mismatch");
	/* IP hosts only against IP SANs; IPv4-mapped IPv6 is the same address. */
	build(&n, (const char *[]){"DNS:db.example", "IP:::ffff:10.0.0.1"}, 2, NULL, 0);
	assert_true(matches(d, &n.n, "10.0.0.1"));
	build(&n, (const char *[]){"DNS:10.0.0.1"}, 1, (const char *[]){"10.0.0.1"}, 1);
	assert_false(matches(d, &n.n, "10.0.0.1"));
	assert_string_equal(reason_of(d, &n.n, "10.0.0.1"), "no IP SAN");
	/* Wildcards: a whole "*" first label; the host's trailing dot is dropped. */
	build(&n, (const char *[]){"DNS:*.example.com"}, 1, NULL, 0);
	assert_true(matches(d, &n.n, "A.Example.COM."));
	assert_false(matches(d, &n.n, "example.com"));
	assert_false(matches(d, &n.n, "a.b.example.com"));
	build(&n, (const char *[]){"DNS:f*.example.com"}, 1, NULL, 0);
	assert_false(matches(d, &n.n, "foo.example.com"));
	assert_true(matches(d, &n.n, "F*.example.com"));
}

static void test_chain_rules(void **state)
{
	(void)state;
	/* The data of the table in README "Which drivers connect". */
	assert_false(pcp_driver_libpq.chain.any_anchor);
	assert_true(pcp_driver_pgjdbc.chain.any_anchor);
	assert_true(pcp_driver_pgjdbc.chain.anchor_time_ignored);
	assert_true(pcp_driver_pgjdbc.chain.sha1_ok);
	assert_true(pcp_driver_pgx.chain.any_anchor);
	assert_false(pcp_driver_pgx.chain.anchor_time_ignored);
	assert_false(pcp_driver_pgx.chain.sha1_ok);
	assert_false(pcp_driver_node.chain.any_anchor);
	assert_true(pcp_driver_node.verify_ca_checks_name);
	assert_false(pcp_driver_pgx.verify_ca_checks_name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_registry),    cmocka_unit_test(test_pgjdbc_names),
	        cmocka_unit_test(test_node_names),  cmocka_unit_test(test_pgx_names),
	        cmocka_unit_test(test_chain_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
