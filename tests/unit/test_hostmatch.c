/* Unit tests for hostmatch: libpq 15's verify-full name rules, each rule with a case that
 * must match and one that must not, and libpq's exact message texts. Expected values come
 * from fe-secure-common.c / fe-secure-openssl.c and from psql (libpq 15.18) run against a
 * server serving such certificates, never from this code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "hostmatch.h"

/* A name from a literal, with its full length: embedded NULs included. */
#define NAME(s)                                                                                    \
	{                                                                                          \
		(char *)(s), sizeof(s) - 1                                                         \
	}
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
/* A dNSName SAN from a literal, and the SAN list fields of a pcp_cert_names. */
#define DNS(s)                                                                                     \
	{                                                                                          \
		.is_ip = false, .dns = NAME(s)                                                     \
	}
#define SANS(a) .san = (a), .n_san = COUNT(a)

static struct pcp_ipname ip(const char *text)
{
	struct pcp_ipname out;

	memset(&out, 0, sizeof out);
	if (inet_pton(AF_INET, text, out.addr) == 1)
		out.len = 4;
	else if (inet_pton(AF_INET6, text, out.addr) == 1)
		out.len = 16;
	else
		fail_msg("bad test address %s", text);
	return out;
}

static struct pcp_ipname ip_len(size_t len)
{
	struct pcp_ipname out;

	memset(&out, 0, sizeof out);
	out.len = len;
	return out;
}

static struct pcp_san ip_san(const char *text)
{
	struct pcp_san out = {.is_ip = true, .ip = ip(text)};

	return out;
}

static struct pcp_san ip_san_len(size_t len)
{
	struct pcp_san out = {.is_ip = true, .ip = ip_len(len)};

	return out;
}

/* Runs the whole decision and checks both verdict and message. */
static void expect_cert(const struct pcp_cert_names *names, const char *host,
                        enum pcp_hostmatch want, const char *want_msg)
{
	char msg[512];

	memset(msg, 'x', sizeof msg);
	assert_int_equal(pcp_hostmatch_cert(names, host, msg, sizeof msg), want);
	assert_string_equal(msg, want_msg);
}

/* ---- pcp_host_is_ip_literal: inet_aton || inet_pton(AF_INET6) ---- */

static void test_literal_ipv4_forms(void **state)
{
	(void)state;
	assert_true(pcp_host_is_ip_literal("127.0.0.1"));
	assert_true(pcp_host_is_ip_literal("127.1"));
	assert_true(pcp_host_is_ip_literal("1"));
	assert_true(pcp_host_is_ip_literal("0x7f.1"));
	assert_true(pcp_host_is_ip_literal("2130706433"));
	assert_true(pcp_host_is_ip_literal("010.0.0.1"));
}

static void test_literal_ipv6_forms(void **state)
{
	(void)state;
	assert_true(pcp_host_is_ip_literal("::1"));
	assert_true(pcp_host_is_ip_literal("::"));
	assert_true(pcp_host_is_ip_literal("2001:DB8::1"));
	assert_true(pcp_host_is_ip_literal("::ffff:127.0.0.1"));
	assert_true(pcp_host_is_ip_literal("0:0:0:0:0:0:0:1"));
}

static void test_literal_not_ip(void **state)
{
	(void)state;
	assert_false(pcp_host_is_ip_literal(NULL));
	assert_false(pcp_host_is_ip_literal(""));
	assert_false(pcp_host_is_ip_literal("db.example.com"));
	assert_false(pcp_host_is_ip_literal("localhost"));
	assert_false(pcp_host_is_ip_literal("fe80::1%eth0")); /* inet_pton takes no zone */
	assert_false(pcp_host_is_ip_literal("[::1]"));
	assert_false(pcp_host_is_ip_literal("256.1.1.1"));
	assert_false(pcp_host_is_ip_literal("1.2.3.4.5"));
	assert_false(pcp_host_is_ip_literal("1::2::3"));
	assert_false(pcp_host_is_ip_literal("127.0.0.1."));
}

/* glibc's inet_aton stops at white space, so libpq on Debian calls this an IP host. */
static void test_literal_glibc_trailing_space(void **state)
{
	(void)state;
	assert_true(pcp_host_is_ip_literal("127.0.0.1 junk"));
	assert_false(pcp_host_is_ip_literal("127.0.0.1junk"));
}

/* ---- pcp_hostmatch_name: exact, case, wildcard, NUL ---- */

static void test_name_exact(void **state)
{
	(void)state;
	assert_int_equal(pcp_hostmatch_name("db.example.com", 14, "db.example.com"),
	                 PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_name("db.example.com", 14, "db.example.co"),
	                 PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("db.example.com", 14, "db.example.comx"),
	                 PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("db.example.com", 14, "xdb.example.com"),
	                 PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("", 0, "db.example.com"), PCP_HOST_MISMATCH);
}

/* The length bounds the pattern: bytes after it are not part of the name. */
static void test_name_uses_length_not_nul(void **state)
{
	(void)state;
	assert_int_equal(pcp_hostmatch_name("db.example.comGARBAGE", 14, "db.example.com"),
	                 PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_name("db.example.comGARBAGE", 15, "db.example.com"),
	                 PCP_HOST_MISMATCH);
}

static void test_name_ascii_case_folding(void **state)
{
	(void)state;
	assert_int_equal(pcp_hostmatch_name("DB.Example.COM", 14, "db.example.com"),
	                 PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_name("db.example.com", 14, "DB.EXAMPLE.com"),
	                 PCP_HOST_MATCH);
	/* Only A-Z fold: '[' and '{' differ by 0x20 but are not letters. */
	assert_int_equal(pcp_hostmatch_name("a[b", 3, "a{b"), PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("a@b", 3, "a`b"), PCP_HOST_MISMATCH);
}

static void test_name_no_unicode_folding_no_idna(void **state)
{
	(void)state;
	/* "é" (c3 a9) vs "É" (c3 89): bytes >= 0x80 are not folded. */
	assert_int_equal(pcp_hostmatch_name("\xc3\xa9.example", 10, "\xc3\x89.example"),
	                 PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("\xc3\xa9.example", 10, "\xc3\xa9.example"),
	                 PCP_HOST_MATCH);
	/* No IDNA: the A-label and the U-label are different names. */
	assert_int_equal(pcp_hostmatch_name("xn--bcher-kva.example", 21,
	                                    "b\xc3\xbc"
	                                    "cher.example"),
	                 PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("xn--bcher-kva.example", 21, "XN--BCHER-KVA.example"),
	                 PCP_HOST_MATCH);
}

static void test_name_no_trailing_dot_normalisation(void **state)
{
	(void)state;
	assert_int_equal(pcp_hostmatch_name("db.example.com", 14, "db.example.com."),
	                 PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("db.example.com.", 15, "db.example.com"),
	                 PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("db.example.com.", 15, "db.example.com."),
	                 PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_name("*.example.com", 13, "db.example.com."),
	                 PCP_HOST_MISMATCH);
}

static void test_wildcard_one_label(void **state)
{
	(void)state;
	assert_int_equal(pcp_hostmatch_name("*.example.com", 13, "db.example.com"), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_name("*.example.com", 13, "x.example.com"), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_name("*.EXAMPLE.com", 13, "DB.example.COM"), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_name("*.example.com", 13, "a.b.example.com"),
	                 PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("*.example.com", 13, "example.com"), PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("*.example.com", 13, ".example.com"),
	                 PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("*.example.com", 13, "db.example.org"),
	                 PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("*.example.com", 13, "dbexample.com"),
	                 PCP_HOST_MISMATCH);
}

/* libpq only forbids a '.' before the last byte the '*' covers, so a host whose wildcard
 * label ends in '.' (an empty label after it) still matches. */
static void test_wildcard_libpq_dot_quirk(void **state)
{
	(void)state;
	assert_int_equal(pcp_hostmatch_name("*.example.com", 13, "a..example.com"), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_name("*.example.com", 13, "..example.com"), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_name("*.example.com", 13, "ab..example.com"),
	                 PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_name("*.example.com", 13, ".a.example.com"),
	                 PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("*.example.com", 13, ".db.example.com"),
	                 PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("*.a", 3, "..a"), PCP_HOST_MATCH);
}

static void test_wildcard_only_leading_star_dot(void **state)
{
	(void)state;
	assert_int_equal(pcp_hostmatch_name("d*.example.com", 14, "db.example.com"),
	                 PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("d*.example.com", 14, "d.example.com"),
	                 PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("*db.example.com", 15, "xdb.example.com"),
	                 PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("db.*.com", 8, "db.example.com"), PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("*.*.example.com", 15, "a.b.example.com"),
	                 PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("*", 1, "db"), PCP_HOST_MISMATCH);
	/* Not a wildcard, so compared as text: a literal '*' host matches itself. */
	assert_int_equal(pcp_hostmatch_name("d*.example.com", 14, "d*.example.com"),
	                 PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_name("*", 1, "*"), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_name("*.*.example.com", 15, "a.*.example.com"),
	                 PCP_HOST_MATCH);
}

/* "*." is shorter than 3, so it is no wildcard at all: only the literal host "*." matches. */
static void test_wildcard_short_patterns(void **state)
{
	(void)state;
	assert_int_equal(pcp_hostmatch_name("*.", 2, "."), PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("*.", 2, "a."), PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("*.", 2, "*."), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_name("*.a", 3, "x.a"), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_name("*.a", 3, ".a"), PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("*.a", 3, "a"), PCP_HOST_MISMATCH);
}

/* A dNSName holding an IP literal is plain text, wildcard included. */
static void test_name_ip_text(void **state)
{
	(void)state;
	assert_int_equal(pcp_hostmatch_name("127.0.0.1", 9, "127.0.0.1"), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_name("127.0.0.1", 9, "127.1"), PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("::1", 3, "::1"), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_name("::1", 3, "0::1"), PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_name("*.0.0.1", 7, "127.0.0.1"), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_name("*.0.0.1", 7, "127.0.0.2"), PCP_HOST_MISMATCH);
}

static void test_name_embedded_nul(void **state)
{
	static const char evil[] = "db.example.com\0.evil.test";
	static const char tail[] = "db.example.com\0";

	(void)state;
	assert_int_equal(pcp_hostmatch_name(evil, sizeof evil - 1, "db.example.com"),
	                 PCP_HOST_ERROR);
	assert_int_equal(pcp_hostmatch_name(tail, sizeof tail - 1, "db.example.com"),
	                 PCP_HOST_ERROR);
	assert_int_equal(pcp_hostmatch_name("\0", 1, "x"), PCP_HOST_ERROR);
	/* The same bytes without the NUL are an ordinary name. */
	assert_int_equal(pcp_hostmatch_name(tail, sizeof tail - 2, "db.example.com"),
	                 PCP_HOST_MATCH);
}

static void test_name_host_missing(void **state)
{
	(void)state;
	assert_int_equal(pcp_hostmatch_name("db.example.com", 14, NULL), PCP_HOST_ERROR);
	assert_int_equal(pcp_hostmatch_name("db.example.com", 14, ""), PCP_HOST_ERROR);
	assert_int_equal(pcp_hostmatch_name("", 0, ""), PCP_HOST_ERROR);
	assert_int_equal(pcp_hostmatch_name("db.example.com", 14, "db.example.com"),
	                 PCP_HOST_MATCH);
}

/* ---- pcp_hostmatch_ip ---- */

static void test_ip4_inet_aton_forms(void **state)
{
	struct pcp_ipname lo = ip("127.0.0.1");

	(void)state;
	assert_int_equal(pcp_hostmatch_ip(&lo, "127.0.0.1"), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_ip(&lo, "127.1"), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_ip(&lo, "0x7f.0.0.1"), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_ip(&lo, "2130706433"), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_ip(&lo, "0177.0.0.1"), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_ip(&lo, "127.0.0.2"), PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_ip(&lo, "127.2"), PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_ip(&lo, "1.0.0.127"), PCP_HOST_MISMATCH);
}

/* A host that is no IPv4 address is a mismatch for a 4-byte SAN, never an error. */
static void test_ip4_non_address_host(void **state)
{
	struct pcp_ipname lo = ip("127.0.0.1");

	(void)state;
	assert_int_equal(pcp_hostmatch_ip(&lo, "localhost"), PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_ip(&lo, "::1"), PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_ip(&lo, "::ffff:127.0.0.1"), PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_ip(&lo, "::ffff:7f00:1"), PCP_HOST_MISMATCH);
}

static void test_ip6_forms(void **state)
{
	struct pcp_ipname lo = ip("::1");
	struct pcp_ipname doc = ip("2001:db8::1");

	(void)state;
	assert_int_equal(pcp_hostmatch_ip(&lo, "::1"), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_ip(&lo, "0:0:0:0:0:0:0:1"), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_ip(&lo, "0000::0001"), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_ip(&lo, "::2"), PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_ip(&lo, "127.0.0.1"), PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_ip(&lo, "localhost"), PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_ip(&lo, "::1%lo"), PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_ip(&doc, "2001:DB8::1"), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_ip(&doc, "2001:db8:0:0:0:0:0:1"), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_ip(&doc, "2001:db8::2"), PCP_HOST_MISMATCH);
}

/* No IPv4-mapped equivalence in either direction. */
static void test_ip6_v4_mapped(void **state)
{
	struct pcp_ipname mapped = ip("::ffff:127.0.0.1");

	(void)state;
	assert_int_equal(mapped.len, 16);
	assert_int_equal(pcp_hostmatch_ip(&mapped, "::ffff:127.0.0.1"), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_ip(&mapped, "::ffff:7f00:1"), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_ip(&mapped, "127.0.0.1"), PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_ip(&mapped, "::127.0.0.1"), PCP_HOST_MISMATCH);
}

/* libpq: "certificate contains IP address with invalid length": an error, whatever host. */
static void test_ip_bad_length(void **state)
{
	struct pcp_ipname l0 = ip_len(0), l5 = ip_len(5), l8 = ip_len(8), l17 = ip_len(17);
	struct pcp_ipname ok = ip("0.0.0.0");

	(void)state;
	assert_int_equal(pcp_hostmatch_ip(&l0, "0.0.0.0"), PCP_HOST_ERROR);
	assert_int_equal(pcp_hostmatch_ip(&l5, "0.0.0.0"), PCP_HOST_ERROR);
	assert_int_equal(pcp_hostmatch_ip(&l8, "db.example.com"), PCP_HOST_ERROR);
	assert_int_equal(pcp_hostmatch_ip(&l17, "::"), PCP_HOST_ERROR);
	assert_int_equal(pcp_hostmatch_ip(NULL, "::"), PCP_HOST_ERROR);
	assert_int_equal(pcp_hostmatch_ip(&ok, "0.0.0.0"), PCP_HOST_MATCH);
}

static void test_ip_host_missing(void **state)
{
	struct pcp_ipname lo = ip("127.0.0.1");

	(void)state;
	assert_int_equal(pcp_hostmatch_ip(&lo, NULL), PCP_HOST_ERROR);
	assert_int_equal(pcp_hostmatch_ip(&lo, ""), PCP_HOST_ERROR);
	assert_int_equal(pcp_hostmatch_ip(&lo, "127.0.0.1"), PCP_HOST_MATCH);
}

/* ---- pcp_hostmatch_cert: which names count, fallback, messages ---- */

static void test_cert_host_missing(void **state)
{
	struct pcp_san sans[] = {DNS("db.example.com")};
	struct pcp_cert_names n = {SANS(sans)};
	const char *want = "host name must be specified for a verified SSL connection";

	(void)state;
	expect_cert(&n, NULL, PCP_HOST_ERROR, want);
	expect_cert(&n, "", PCP_HOST_ERROR, want);
	expect_cert(&n, "db.example.com", PCP_HOST_MATCH, "");
}

static void test_cert_no_names(void **state)
{
	struct pcp_cert_names empty;
	struct pcp_name cn = NAME("db.example.com");
	struct pcp_cert_names cn_only = {.cn = &cn};
	const char *want = "could not get server's host name from server certificate";

	(void)state;
	memset(&empty, 0, sizeof empty);
	expect_cert(&empty, "db.example.com", PCP_HOST_MISMATCH, want);
	expect_cert(&empty, "127.0.0.1", PCP_HOST_MISMATCH, want);
	expect_cert(NULL, "db.example.com", PCP_HOST_MISMATCH, want);
	expect_cert(&cn_only, "db.example.com", PCP_HOST_MATCH, "");
}

static void test_cert_dns_san_match_any(void **state)
{
	struct pcp_san sans[] = {DNS("a.example.com"), DNS("*.example.com"), DNS("c.example.com")};
	struct pcp_cert_names n = {SANS(sans)};

	(void)state;
	expect_cert(&n, "a.example.com", PCP_HOST_MATCH, "");
	expect_cert(&n, "B.example.COM", PCP_HOST_MATCH, "");
	expect_cert(&n, "x.y.example.com", PCP_HOST_MISMATCH,
	            "server certificate for \"a.example.com\" (and 2 other names) does not match "
	            "host name \"x.y.example.com\"");
}

/* Name host with a dNSName SAN: the CN is never examined nor counted. */
static void test_cert_dns_host_ignores_cn_when_dns_san(void **state)
{
	struct pcp_san sans[] = {DNS("other.example.com")};
	struct pcp_name cn = NAME("db.example.com");
	struct pcp_cert_names n = {SANS(sans), .cn = &cn};

	(void)state;
	expect_cert(&n, "db.example.com", PCP_HOST_MISMATCH,
	            "server certificate for \"other.example.com\" does not match host name "
	            "\"db.example.com\"");
	expect_cert(&n, "other.example.com", PCP_HOST_MATCH, "");
}

/* Name host with only iPAddress SANs: no SAN of its type, so the CN decides; the IP SAN
 * still counts and is the first name. */
static void test_cert_dns_host_cn_fallback_with_ip_sans(void **state)
{
	struct pcp_san sans[] = {ip_san("10.0.0.1")};
	struct pcp_name cn = NAME("db.example.com");
	struct pcp_cert_names n = {SANS(sans), .cn = &cn};

	(void)state;
	expect_cert(&n, "DB.example.com", PCP_HOST_MATCH, "");
	expect_cert(&n, "other.example.com", PCP_HOST_MISMATCH,
	            "server certificate for \"10.0.0.1\" (and 1 other name) does not match host "
	            "name \"other.example.com\"");
}

/* IP host with only dNSName SANs falls back to the CN (libpq 15, unlike RFC 6125). */
static void test_cert_ip_host_cn_fallback_with_dns_sans(void **state)
{
	struct pcp_san sans[] = {DNS("db.example.com")};
	struct pcp_name cn = NAME("127.0.0.1");
	struct pcp_cert_names n = {SANS(sans), .cn = &cn};

	(void)state;
	expect_cert(&n, "127.0.0.1", PCP_HOST_MATCH, "");
	expect_cert(&n, "127.0.0.2", PCP_HOST_MISMATCH,
	            "server certificate for \"db.example.com\" (and 1 other name) does not match "
	            "host name \"127.0.0.2\"");
	/* The CN is text: "127.1" is the same address but not the same string. */
	expect_cert(&n, "127.1", PCP_HOST_MISMATCH,
	            "server certificate for \"db.example.com\" (and 1 other name) does not match "
	            "host name \"127.1\"");
}

/* IP host with an iPAddress SAN: the CN is ignored even when it would match. */
static void test_cert_ip_host_ignores_cn_when_ip_san(void **state)
{
	struct pcp_san sans[] = {ip_san("10.0.0.1")};
	struct pcp_name cn = NAME("127.0.0.1");
	struct pcp_cert_names n = {SANS(sans), .cn = &cn};

	(void)state;
	expect_cert(&n, "127.0.0.1", PCP_HOST_MISMATCH,
	            "server certificate for \"10.0.0.1\" does not match host name \"127.0.0.1\"");
	expect_cert(&n, "10.0.0.1", PCP_HOST_MATCH, "");
	expect_cert(&n, "10.1", PCP_HOST_MATCH, "");
}

static void test_cert_ip_host_127_1(void **state)
{
	struct pcp_san sans[] = {ip_san("127.0.0.1")};
	struct pcp_cert_names n = {SANS(sans)};

	(void)state;
	expect_cert(&n, "127.1", PCP_HOST_MATCH, "");
	expect_cert(&n, "127.2", PCP_HOST_MISMATCH,
	            "server certificate for \"127.0.0.1\" does not match host name \"127.2\"");
}

/* dNSName SANs are examined for IP hosts too, as text. */
static void test_cert_ip_host_matches_dns_san_text(void **state)
{
	struct pcp_san sans[] = {DNS("127.0.0.1"), ip_san("10.0.0.1")};
	struct pcp_cert_names n = {SANS(sans)};

	(void)state;
	expect_cert(&n, "127.0.0.1", PCP_HOST_MATCH, "");
	expect_cert(&n, "127.1", PCP_HOST_MISMATCH,
	            "server certificate for \"127.0.0.1\" (and 1 other name) does not match host "
	            "name \"127.1\"");
}

static void test_cert_ipv6(void **state)
{
	struct pcp_san sans[] = {ip_san("2001:db8::1"), ip_san("::1")};
	struct pcp_cert_names n = {SANS(sans)};
	struct pcp_san v4[] = {ip_san("127.0.0.1")};
	struct pcp_cert_names n4 = {SANS(v4)};

	(void)state;
	expect_cert(&n, "0:0::1", PCP_HOST_MATCH, "");
	expect_cert(&n, "2001:DB8:0::1", PCP_HOST_MATCH, "");
	expect_cert(&n, "::2", PCP_HOST_MISMATCH,
	            "server certificate for \"2001:db8::1\" (and 1 other name) does not match host "
	            "name \"::2\"");
	expect_cert(&n4, "::ffff:127.0.0.1", PCP_HOST_MISMATCH,
	            "server certificate for \"127.0.0.1\" does not match host name "
	            "\"::ffff:127.0.0.1\"");
}

/* The first name of an iPAddress SAN is printed like libpq's pg_inet_net_ntop. */
static void test_cert_ip_first_name_format(void **state)
{
	struct pcp_san mapped[] = {ip_san("::ffff:10.0.0.1")};
	struct pcp_san compat[] = {ip_san("::10.0.0.1")};
	struct pcp_san full[] = {ip_san("2001:db8:0:1:0:0:0:1")};
	struct pcp_cert_names a = {SANS(mapped)};
	struct pcp_cert_names b = {SANS(compat)};
	struct pcp_cert_names c = {SANS(full)};

	(void)state;
	expect_cert(&a, "::1", PCP_HOST_MISMATCH,
	            "server certificate for \"::ffff:10.0.0.1\" does not match host name \"::1\"");
	expect_cert(&b, "::1", PCP_HOST_MISMATCH,
	            "server certificate for \"::10.0.0.1\" does not match host name \"::1\"");
	expect_cert(&c, "::1", PCP_HOST_MISMATCH,
	            "server certificate for \"2001:db8:0:1::1\" does not match host name \"::1\"");
	expect_cert(&c, "2001:db8:0:1::1", PCP_HOST_MATCH, "");
}

/* Only the first CN reaches hostmatch (chain extracts it); a second CN never matches. */
static void test_cert_first_cn_only(void **state)
{
	struct pcp_name cn = NAME("first.example.com");
	struct pcp_cert_names n = {.cn = &cn};

	(void)state;
	expect_cert(&n, "first.example.com", PCP_HOST_MATCH, "");
	expect_cert(&n, "second.example.com", PCP_HOST_MISMATCH,
	            "server certificate for \"first.example.com\" does not match host name "
	            "\"second.example.com\"");
}

static void test_cert_wildcard_san_and_cn(void **state)
{
	struct pcp_san sans[] = {DNS("*.example.com")};
	struct pcp_cert_names san = {SANS(sans)};
	struct pcp_name cn = NAME("*.example.com");
	struct pcp_cert_names cn_only = {.cn = &cn};

	(void)state;
	expect_cert(&san, "db.example.com", PCP_HOST_MATCH, "");
	expect_cert(&san, "a.b.example.com", PCP_HOST_MISMATCH,
	            "server certificate for \"*.example.com\" does not match host name "
	            "\"a.b.example.com\"");
	expect_cert(&cn_only, "db.example.com", PCP_HOST_MATCH, "");
	expect_cert(&cn_only, "example.com", PCP_HOST_MISMATCH,
	            "server certificate for \"*.example.com\" does not match host name "
	            "\"example.com\"");
}

static void test_cert_embedded_nul_in_san(void **state)
{
	struct pcp_san bad_first[] = {DNS("db.example.com\0.evil.test"), DNS("db.example.com")};
	struct pcp_san good_first[] = {DNS("db.example.com"), DNS("db.example.com\0.evil.test")};
	struct pcp_san other_first[] = {DNS("x.example.com"), DNS("db.example.com\0.evil.test")};
	struct pcp_cert_names a = {SANS(bad_first)};
	struct pcp_cert_names b = {SANS(good_first)};
	struct pcp_cert_names c = {SANS(other_first)};
	const char *want = "SSL certificate's name contains embedded null";

	(void)state;
	/* The walk stops at the first match or error, in certificate order. */
	expect_cert(&a, "db.example.com", PCP_HOST_ERROR, want);
	expect_cert(&b, "db.example.com", PCP_HOST_MATCH, "");
	expect_cert(&c, "db.example.com", PCP_HOST_ERROR, want);
	expect_cert(&c, "x.example.com", PCP_HOST_MATCH, "");
	/* Also for IP hosts, which examine dNSNames as well. */
	expect_cert(&a, "127.0.0.1", PCP_HOST_ERROR, want);
}

static void test_cert_embedded_nul_in_cn(void **state)
{
	struct pcp_name cn = NAME("db.example.com\0.evil.test");
	struct pcp_san sans[] = {DNS("x.example.com")};
	struct pcp_cert_names cn_only = {.cn = &cn};
	struct pcp_cert_names with_dns = {SANS(sans), .cn = &cn};
	const char *want = "SSL certificate's name contains embedded null";

	(void)state;
	expect_cert(&cn_only, "db.example.com", PCP_HOST_ERROR, want);
	/* A name host with a dNSName never looks at the CN, so its NUL does not matter. */
	expect_cert(&with_dns, "db.example.com", PCP_HOST_MISMATCH,
	            "server certificate for \"x.example.com\" does not match host name "
	            "\"db.example.com\"");
	/* An IP host with only dNSNames does read the CN. */
	expect_cert(&with_dns, "127.0.0.1", PCP_HOST_ERROR, want);
}

/* Every iPAddress SAN is examined, even for a name host, so a bad length is an error. */
static void test_cert_ip_bad_length(void **state)
{
	struct pcp_san sans[] = {DNS("x.example.com"), ip_san_len(8)};
	struct pcp_cert_names n = {SANS(sans)};

	(void)state;
	expect_cert(&n, "db.example.com", PCP_HOST_ERROR,
	            "certificate contains IP address with invalid length 8");
	expect_cert(&n, "10.0.0.1", PCP_HOST_ERROR,
	            "certificate contains IP address with invalid length 8");
	/* A match found before it ends the walk. */
	expect_cert(&n, "x.example.com", PCP_HOST_MATCH, "");
}

/* names_examined counts every dNSName and iPAddress SAN whatever the host's type, plus the
 * CN when it was read; the first name is the first one examined. */
static void test_cert_message_counts(void **state)
{
	struct pcp_san one[] = {DNS("a.example.com")};
	struct pcp_san two[] = {DNS("a.example.com"), DNS("b.example.com")};
	struct pcp_san three[] = {DNS("a.example.com"), DNS("b.example.com"), ip_san("10.0.0.1")};
	struct pcp_name cn = NAME("c.example.com");
	struct pcp_cert_names n1 = {SANS(one)};
	struct pcp_cert_names n2 = {SANS(two)};
	struct pcp_cert_names n3 = {SANS(three)};
	struct pcp_cert_names n4 = {SANS(three), .cn = &cn};

	(void)state;
	expect_cert(&n1, "z.example.com", PCP_HOST_MISMATCH,
	            "server certificate for \"a.example.com\" does not match host name "
	            "\"z.example.com\"");
	expect_cert(&n2, "z.example.com", PCP_HOST_MISMATCH,
	            "server certificate for \"a.example.com\" (and 1 other name) does not match "
	            "host name \"z.example.com\"");
	expect_cert(&n3, "z.example.com", PCP_HOST_MISMATCH,
	            "server certificate for \"a.example.com\" (and 2 other names) does not match "
	            "host name \"z.example.com\"");
	/* Name host: CN not read, still 3. */
	expect_cert(&n4, "z.example.com", PCP_HOST_MISMATCH,
	            "server certificate for \"a.example.com\" (and 2 other names) does not match "
	            "host name \"z.example.com\"");
	/* IP host with an IP SAN: CN not read either. */
	expect_cert(&n4, "10.0.0.2", PCP_HOST_MISMATCH,
	            "server certificate for \"a.example.com\" (and 2 other names) does not match "
	            "host name \"10.0.0.2\"");
	expect_cert(&n4, "10.0.0.1", PCP_HOST_MATCH, "");
}

/* SANs are walked in certificate order, dNSNames and iPAddresses interleaved: the first
 * name, and whether a match or an error comes first, follow that order (checked with psql,
 * libpq 15.18, against certificates with these SANs). */
static void test_cert_order_ip_before_dns_first_name(void **state)
{
	struct pcp_san sans[] = {ip_san("10.0.0.1"), DNS("a.example.com")};
	struct pcp_name cn = NAME("cn.example.com");
	struct pcp_cert_names n = {SANS(sans), .cn = &cn};

	(void)state;
	expect_cert(&n, "z.example.com", PCP_HOST_MISMATCH,
	            "server certificate for \"10.0.0.1\" (and 1 other name) does not match host "
	            "name \"z.example.com\"");
	expect_cert(&n, "10.0.0.2", PCP_HOST_MISMATCH,
	            "server certificate for \"10.0.0.1\" (and 1 other name) does not match host "
	            "name \"10.0.0.2\"");
	/* The dNSName after the IP still rules out the CN for a name host. */
	expect_cert(&n, "cn.example.com", PCP_HOST_MISMATCH,
	            "server certificate for \"10.0.0.1\" (and 1 other name) does not match host "
	            "name \"cn.example.com\"");
	expect_cert(&n, "a.example.com", PCP_HOST_MATCH, "");
}

static void test_cert_order_match_before_nul(void **state)
{
	struct pcp_san sans[] = {ip_san("127.0.0.1"), DNS("bad\0name")};
	struct pcp_cert_names n = {SANS(sans)};

	(void)state;
	expect_cert(&n, "127.0.0.1", PCP_HOST_MATCH, "");
	expect_cert(&n, "127.0.0.2", PCP_HOST_ERROR,
	            "SSL certificate's name contains embedded null");
}

static void test_cert_order_bad_ip_length_before_match(void **state)
{
	struct pcp_san sans[] = {ip_san_len(8), DNS("db.example.com")};
	struct pcp_cert_names n = {SANS(sans)};
	const char *want = "certificate contains IP address with invalid length 8";

	(void)state;
	expect_cert(&n, "db.example.com", PCP_HOST_ERROR, want);
	expect_cert(&n, "10.0.0.1", PCP_HOST_ERROR, want);
}

static void test_cert_message_empty_and_unterminated_names(void **state)
{
	struct pcp_san empty[] = {DNS("")};
	char buf[] = "db.example.comGARBAGE";
	struct pcp_san cut[] = {{.is_ip = false, .dns = {buf, 14}}};
	struct pcp_cert_names e = {SANS(empty)};
	struct pcp_cert_names c = {SANS(cut)};

	(void)state;
	expect_cert(&e, "db.example.com", PCP_HOST_MISMATCH,
	            "server certificate for \"\" does not match host name \"db.example.com\"");
	expect_cert(&c, "other.example.com", PCP_HOST_MISMATCH,
	            "server certificate for \"db.example.com\" does not match host name "
	            "\"other.example.com\"");
	expect_cert(&c, "db.example.com", PCP_HOST_MATCH, "");
}

/* A short buffer gets a truncated, terminated message; no buffer is fine too. */
static void test_cert_message_buffer_bounds(void **state)
{
	struct pcp_san sans[] = {DNS("a.example.com")};
	struct pcp_cert_names n = {SANS(sans)};
	char small[17];

	(void)state;
	memset(small, 'x', sizeof small);
	assert_int_equal(pcp_hostmatch_cert(&n, "z.example.com", small, 16), PCP_HOST_MISMATCH);
	assert_string_equal(small, "server certific");
	assert_int_equal(small[16], 'x');
	assert_int_equal(pcp_hostmatch_cert(&n, "z.example.com", NULL, 0), PCP_HOST_MISMATCH);
	assert_int_equal(pcp_hostmatch_cert(&n, "a.example.com", NULL, 0), PCP_HOST_MATCH);
	assert_int_equal(pcp_hostmatch_cert(&n, NULL, NULL, 0), PCP_HOST_ERROR);
}

/* ---- pcp_cert_names_cleanup (ASan reports any leak) ---- */

static char *dup_str(const char *s)
{
	size_t len = strlen(s);
	char *p = malloc(len);

	assert_non_null(p);
	memcpy(p, s, len);
	return p;
}

static void test_cleanup_frees_and_zeroes(void **state)
{
	struct pcp_cert_names n;

	(void)state;
	memset(&n, 0, sizeof n);
	n.n_san = 3;
	n.san = calloc(n.n_san, sizeof *n.san);
	assert_non_null(n.san);
	n.san[0].dns.data = dup_str("a.example.com");
	n.san[0].dns.len = 13;
	n.san[1] = ip_san("127.0.0.1");
	n.san[2].dns.data = dup_str("b.example.com");
	n.san[2].dns.len = 13;
	n.cn = calloc(1, sizeof *n.cn);
	assert_non_null(n.cn);
	n.cn->data = dup_str("c.example.com");
	n.cn->len = 13;

	assert_int_equal(pcp_hostmatch_cert(&n, "b.example.com", NULL, 0), PCP_HOST_MATCH);
	pcp_cert_names_cleanup(&n);
	assert_null(n.san);
	assert_null(n.cn);
	assert_int_equal(n.n_san, 0);
	/* Cleaning a cleaned struct is harmless. */
	pcp_cert_names_cleanup(&n);
}

static void test_cleanup_zeroed_and_partial(void **state)
{
	struct pcp_cert_names n;

	(void)state;
	memset(&n, 0, sizeof n);
	pcp_cert_names_cleanup(&n);
	pcp_cert_names_cleanup(NULL);

	/* A CN without data, and a SAN array whose entries were never filled. */
	n.cn = calloc(1, sizeof *n.cn);
	n.san = calloc(3, sizeof *n.san);
	assert_non_null(n.cn);
	assert_non_null(n.san);
	n.n_san = 3;
	pcp_cert_names_cleanup(&n);
	assert_null(n.cn);
	assert_null(n.san);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_literal_ipv4_forms),
	        cmocka_unit_test(test_literal_ipv6_forms),
	        cmocka_unit_test(test_literal_not_ip),
	        cmocka_unit_test(test_literal_glibc_trailing_space),
	        cmocka_unit_test(test_name_exact),
	        cmocka_unit_test(test_name_uses_length_not_nul),
	        cmocka_unit_test(test_name_ascii_case_folding),
	        cmocka_unit_test(test_name_no_unicode_folding_no_idna),
	        cmocka_unit_test(test_name_no_trailing_dot_normalisation),
	        cmocka_unit_test(test_wildcard_one_label),
	        cmocka_unit_test(test_wildcard_libpq_dot_quirk),
	        cmocka_unit_test(test_wildcard_only_leading_star_dot),
	        cmocka_unit_test(test_wildcard_short_patterns),
	        cmocka_unit_test(test_name_ip_text),
	        cmocka_unit_test(test_name_embedded_nul),
	        cmocka_unit_test(test_name_host_missing),
	        cmocka_unit_test(test_ip4_inet_aton_forms),
	        cmocka_unit_test(test_ip4_non_address_host),
	        cmocka_unit_test(test_ip6_forms),
	        cmocka_unit_test(test_ip6_v4_mapped),
	        cmocka_unit_test(test_ip_bad_length),
	        cmocka_unit_test(test_ip_host_missing),
	        cmocka_unit_test(test_cert_host_missing),
	        cmocka_unit_test(test_cert_no_names),
	        cmocka_unit_test(test_cert_dns_san_match_any),
	        cmocka_unit_test(test_cert_dns_host_ignores_cn_when_dns_san),
	        cmocka_unit_test(test_cert_dns_host_cn_fallback_with_ip_sans),
	        cmocka_unit_test(test_cert_ip_host_cn_fallback_with_dns_sans),
	        cmocka_unit_test(test_cert_ip_host_ignores_cn_when_ip_san),
	        cmocka_unit_test(test_cert_ip_host_127_1),
	        cmocka_unit_test(test_cert_ip_host_matches_dns_san_text),
	        cmocka_unit_test(test_cert_ipv6),
	        cmocka_unit_test(test_cert_ip_first_name_format),
	        cmocka_unit_test(test_cert_first_cn_only),
	        cmocka_unit_test(test_cert_wildcard_san_and_cn),
	        cmocka_unit_test(test_cert_embedded_nul_in_san),
	        cmocka_unit_test(test_cert_embedded_nul_in_cn),
	        cmocka_unit_test(test_cert_ip_bad_length),
	        cmocka_unit_test(test_cert_message_counts),
	        cmocka_unit_test(test_cert_order_ip_before_dns_first_name),
	        cmocka_unit_test(test_cert_order_match_before_nul),
	        cmocka_unit_test(test_cert_order_bad_ip_length_before_match),
	        cmocka_unit_test(test_cert_message_empty_and_unterminated_names),
	        cmocka_unit_test(test_cert_message_buffer_bounds),
	        cmocka_unit_test(test_cleanup_frees_and_zeroes),
	        cmocka_unit_test(test_cleanup_zeroed_and_partial),
	};

	return cmocka_run_group_tests_name("hostmatch", tests, NULL, NULL);
}
