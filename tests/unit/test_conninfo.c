/* Unit tests for conninfo: the parser of this module against the installed libpq's own
 * PQconninfoParse on a corpus of strings (keyword=value quoting and escapes, URIs with
 * credentials, IPv6, host lists, percent-encoding, and every syntax error), the keyword
 * table against PQconndefaults, and each version's option checks in its own words (the
 * words were taken from libpq 15.18, 16.14, 17.10 and 18.4; the integration test
 * test_libpq_versions.py compares them with those libraries again). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conninfo.h"

static const char *const corpus[] = {
        "host=db.example.com port=5433 sslmode=verify-full",
        "  host = db.example.com\tport=5433  ",
        "host='db example' dbname='it''s'",
        "host='a\\'b' user=x\\ y password=p\\\\q",
        "host=a\\",
        "host='unterminated",
        "host='ends in backslash\\",
        "host=",
        "host=''",
        "sslmode",
        "sslmode =",
        "= x",
        "host=h bogus=1",
        "host=h requiressl=1",
        "host=h requiressl=0 sslmode=verify-ca",
        "host=h sslmode=verify-ca requiressl=1",
        "host=a host=b",
        "host=h sslrootcert=system sslnegotiation=direct",
        "host=h sslcertmode=require",
        "host=h hostaddr=127.0.0.1,127.0.0.2 port=1,2",
        "postgresql://",
        "postgres://h",
        "postgresql://h:5433/db?sslmode=require&connect_timeout=5",
        "postgresql://user:secret@h/db",
        "postgresql://user@h",
        "postgresql://:secret@h",
        "postgresql://us%40er:p%3Ass@h:1/d%2Fb",
        "postgresql://[::1]:5432/db",
        "postgresql://[::1]/db",
        "postgresql://[fe80::1%25lo]/db",
        "postgresql://[::1",
        "postgresql://[]:1/db",
        "postgresql://[::1]x/db",
        "postgresql://a,b:2,[::1]:3/db",
        "postgresql://a:1,b/db",
        "postgresql://h?sslmode=require",
        "postgresql://h/?sslmode=require",
        "postgresql://h/db?",
        "postgresql://h/db?&",
        "postgresql://h/db?sslmode",
        "postgresql://h/db?sslmode=require=x",
        "postgresql://h/db?sslmode=%zz",
        "postgresql://h/db?sslmode=%4",
        "postgresql://h/db?sslmode=%00",
        "postgresql://h/db?sslm%6Fde=require",
        "postgresql://h/db?bogus=1",
        "postgresql://h/db?ssl=true",
        "postgresql://h/db?ssl=false",
        "postgresql://h/db?requiressl=1",
        "postgresql://h/db?host=other&port=9",
        "postgresql://h :1/db",
        "postgresql://h/db?sslmode= require",
        "postgresql://h/db?sslmode=re%20quire",
        "postgresql://h%zz/db",
        "postgresql://h/d%00b",
        "postgresql://h/db?sslnegotiation=direct",
        "postgresql://h/db?application_name=a+b",
};

/* Both parsers on the same string: the same values, or the same message. */
static void test_own_parser_equals_libpq(void **state)
{
	int major = pcp_libpq_installed();

	(void)state;
	for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
		struct pcp_conninfo own;
		struct pcp_error err = {0};
		char *perr = NULL;
		PQconninfoOption *opts = PQconninfoParse(corpus[i], &perr);
		enum pcp_errc rc = pcp_conninfo_parse_own(corpus[i], major, &own, &err);

		if (!opts) {
			char want[256];

			snprintf(want, sizeof want, "%s", perr ? perr : "");
			want[strcspn(want, "\n")] = '\0';
			if (rc != PCP_ERR_TARGET || strcmp(err.msg, want) != 0)
				fail_msg("%s: libpq \"%s\", ours (%d) \"%s\"", corpus[i], want, rc,
				         err.msg);
			PQfreemem(perr);
			continue;
		}
		if (rc != PCP_OK)
			fail_msg("%s: libpq parses it, ours: %s", corpus[i], err.msg);
		for (PQconninfoOption *o = opts; o->keyword; o++) {
			int kw = pcp_kw_find(major, o->keyword);
			const char *mine = kw >= 0 ? own.val[kw] : NULL;

			assert_true(kw >= 0);
			if ((o->val == NULL) != (mine == NULL) ||
			    (o->val && strcmp(o->val, mine) != 0))
				fail_msg("%s: %s is \"%s\" for libpq, \"%s\" for us", corpus[i],
				         o->keyword, o->val ? o->val : "(null)",
				         mine ? mine : "(null)");
		}
		PQconninfoFree(opts);
		pcp_conninfo_cleanup(&own);
	}
}

/* The table knows exactly the installed libpq's keywords. */
static void test_keywords_equal_libpq(void **state)
{
	int major = pcp_libpq_installed(), n = 0, mine = 0;
	PQconninfoOption *opts = PQconndefaults();

	(void)state;
	assert_non_null(opts);
	for (PQconninfoOption *o = opts; o->keyword; o++, n++)
		if (pcp_kw_find(major, o->keyword) < 0)
			fail_msg("libpq %d knows \"%s\", we do not", major, o->keyword);
	for (int k = 0; k < PCP_KW_N; k++)
		mine += pcp_kw_since((enum pcp_kw)k) <= major;
	assert_int_equal(mine, n);
	PQconninfoFree(opts);
}

/* text under libpq major: NULL when libpq accepts it, else its message. */
static void expect(int major, const char *text, const char *want)
{
	struct pcp_conninfo ci;
	struct pcp_conninfo_facts facts;
	struct pcp_error err = {0};
	enum pcp_errc rc = pcp_conninfo_parse_own(text, major, &ci, &err);

	if (rc == PCP_OK) {
		rc = pcp_conninfo_check(&ci, &facts, &err);
		pcp_conninfo_cleanup(&ci);
	}
	if (!want && rc != PCP_OK)
		fail_msg("libpq %d accepts %s, we say: %s", major, text, err.msg);
	if (want && (rc != PCP_ERR_TARGET || strcmp(err.msg, want) != 0))
		fail_msg("libpq %d on %s: \"%s\", we say: \"%s\"", major, text, want, err.msg);
}

#define WEAK_DIRECT(m)                                                                             \
	"weak sslmode \"" m "\" may not be used with sslnegotiation=direct (use \"require\", "     \
	"\"verify-ca\", or \"verify-full\")"
#define WEAK_SYSTEM(m)                                                                             \
	"weak sslmode \"" m "\" may not be used with sslrootcert=system (use \"verify-full\")"

static void test_words_by_version(void **state)
{
	(void)state;
	for (int v = 15; v <= 18; v++) {
		expect(v, "host=h sslmode=bogus", "invalid sslmode value: \"bogus\"");
		expect(v, "host=h sslmode=", "invalid sslmode value: \"\"");
		expect(v, "host=h channel_binding=x sslmode=y",
		       "invalid channel_binding value: \"x\"");
		expect(v,
		       "host=h ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.2",
		       "invalid SSL protocol version range");
		expect(v, "host=h ssl_min_protocol_version=tlsv1.3", NULL);
		expect(v, "host=h target_session_attrs=any sslmode=bogus gssencmode=bogus",
		       "invalid sslmode value: \"bogus\"");
		expect(v, "postgresql://h/db?sslmode=%zz",
		       "invalid percent-encoded token: \"%zz\"");
	}
	expect(15, "host=h ssl_min_protocol_version=x",
	       "invalid ssl_min_protocol_version value: \"x\"");
	expect(16, "host=h ssl_max_protocol_version=x",
	       "invalid ssl_max_protocol_version value: \"x\"");
	expect(17, "host=h ssl_min_protocol_version=x",
	       "invalid \"ssl_min_protocol_version\" value: \"x\"");
	expect(18, "host=h ssl_max_protocol_version=x",
	       "invalid \"ssl_max_protocol_version\" value: \"x\"");

	/* Keywords by version. */
	expect(15, "host=h sslcertmode=x", "invalid connection option \"sslcertmode\"");
	expect(16, "host=h sslcertmode=x", "invalid sslcertmode value: \"x\"");
	expect(16, "host=h sslnegotiation=direct", "invalid connection option \"sslnegotiation\"");
	expect(16, "postgresql://h/?sslnegotiation=direct",
	       "invalid URI query parameter: \"sslnegotiation\"");
	expect(17, "host=h sslnegotiation=bogus", "invalid sslnegotiation value: \"bogus\"");
	expect(17, "host=h sslnegotiation=Direct sslmode=require",
	       "invalid sslnegotiation value: \"Direct\"");
	expect(17, "host=h min_protocol_version=3.2",
	       "invalid connection option \"min_protocol_version\"");
	expect(18, "host=h sslkeylogfile=/tmp/k oauth_issuer=x gssdelegation=1", NULL);

	/* sslnegotiation=direct needs an encrypting sslmode (17+). */
	expect(17, "host=h sslnegotiation=direct", WEAK_DIRECT("prefer"));
	expect(18, "host=h sslnegotiation=direct sslmode=allow", WEAK_DIRECT("allow"));
	expect(17, "host=h sslnegotiation=direct sslmode=disable", WEAK_DIRECT("disable"));
	expect(17, "host=h sslnegotiation=direct sslmode=require", NULL);
	expect(17, "host=h sslnegotiation=postgres sslmode=disable", NULL);
	expect(17, "host=h sslmode=bogus sslnegotiation=bogus", "invalid sslmode value: \"bogus\"");

	/* sslrootcert=system (16+): verify-full, the default when no sslmode is given. */
	expect(15, "host=h sslrootcert=system sslmode=require", NULL);
	expect(16, "host=h sslrootcert=system sslmode=require", WEAK_SYSTEM("require"));
	expect(16, "host=h sslrootcert=system", NULL);
	expect(17, "host=h sslrootcert=system sslnegotiation=direct", NULL);
	expect(17, "host=h sslrootcert=system sslmode=prefer sslnegotiation=direct",
	       WEAK_DIRECT("prefer"));

	/* require_auth (16+), oauth from 18. */
	expect(15, "host=h require_auth=password", "invalid connection option \"require_auth\"");
	expect(16, "host=h require_auth=bogus", "invalid require_auth value: \"bogus\"");
	expect(16, "host=h require_auth=password,!md5",
	       "negative require_auth method \"!md5\" cannot be mixed with non-negative methods");
	expect(16, "host=h require_auth=!password,md5",
	       "require_auth method \"md5\" cannot be mixed with negative methods");
	expect(16, "host=h require_auth=password,password",
	       "require_auth method \"password\" is specified more than once");
	expect(16, "host=h require_auth=!gss,!sspi,!gss",
	       "require_auth method \"!gss\" is specified more than once");
	expect(16, "host=h require_auth=gss,sspi", NULL);
	expect(16, "host=h require_auth=!none,!none",
	       "require_auth method \"!none\" is specified more than once");
	expect(16, "host=h require_auth=!", "invalid require_auth value: \"\"");
	expect(16, "host=h require_auth=", NULL);
	expect(17, "host=h require_auth=oauth", "invalid require_auth value: \"oauth\"");
	expect(18, "host=h require_auth=scram-sha-256,oauth", NULL);
	expect(18, "host=h require_auth=oauth,oauth",
	       "require_auth method \"oauth\" is specified more than once");
	expect(16, "host=h channel_binding=bogus sslmode=bogus require_auth=bogus",
	       "invalid require_auth value: \"bogus\"");

	/* 16: load_balance_hosts; 18: SCRAM keys and protocol versions, in that order. */
	expect(16, "host=h load_balance_hosts=bogus",
	       "invalid load_balance_hosts value: \"bogus\"");
	expect(18, "host=h scram_client_key=bogus", "invalid SCRAM client key");
	expect(18, "host=h scram_server_key=AAAA", "invalid SCRAM server key length: 3");
	expect(18, "host=h scram_client_key=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", NULL);
	expect(18, "host=h min_protocol_version=3.1",
	       "invalid min_protocol_version value: \"3.1\"");
	expect(18, "host=h min_protocol_version=latest max_protocol_version=3.0",
	       "\"min_protocol_version\" is greater than \"max_protocol_version\"");
	expect(18, "host=h min_protocol_version=3.2 max_protocol_version=latest", NULL);
	expect(18, "host=h load_balance_hosts=x min_protocol_version=x",
	       "invalid load_balance_hosts value: \"x\"");

	/* libpq 18 trims spaces around URI parts and rejects them inside. */
	expect(17, "postgresql://h/db?sslmode= require", "invalid sslmode value: \" require\"");
	expect(18, "postgresql://h/db?sslmode= require", NULL);
	expect(18, "postgresql://h/db?sslmode=re quire",
	       "unexpected spaces found in \"re quire\", use percent-encoded spaces (%20) instead");
}

static void test_facts(void **state)
{
	static const struct {
		int major;
		const char *text;
		enum pcp_libpq_sslmode mode;
		bool direct, system;
	} cases[] = {
	        {15, "host=h sslrootcert=system", PCP_LIBPQ_PREFER, false, false},
	        {16, "host=h sslrootcert=system", PCP_LIBPQ_VERIFY_FULL, false, true},
	        {16, "host=h sslrootcert=system sslmode=verify-full", PCP_LIBPQ_VERIFY_FULL, false,
	         true},
	        {17, "host=h sslnegotiation=direct sslmode=verify-ca", PCP_LIBPQ_VERIFY_CA, true,
	         false},
	        {17, "host=h sslnegotiation=postgres sslmode=require", PCP_LIBPQ_REQUIRE, false,
	         false},
	        {18, "postgresql://h/?sslnegotiation=direct&sslrootcert=system",
	         PCP_LIBPQ_VERIFY_FULL, true, true},
	        {18, "host=h", PCP_LIBPQ_PREFER, false, false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct pcp_conninfo ci;
		struct pcp_conninfo_facts f;
		struct pcp_error err = {0};

		assert_int_equal(pcp_conninfo_parse_own(cases[i].text, cases[i].major, &ci, &err),
		                 PCP_OK);
		assert_int_equal(pcp_conninfo_check(&ci, &f, &err), PCP_OK);
		assert_int_equal(f.sslmode, cases[i].mode);
		assert_int_equal(f.direct, cases[i].direct);
		assert_int_equal(f.system_roots, cases[i].system);
		pcp_conninfo_cleanup(&ci);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_own_parser_equals_libpq),
	        cmocka_unit_test(test_keywords_equal_libpq),
	        cmocka_unit_test(test_words_by_version),
	        cmocka_unit_test(test_facts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
