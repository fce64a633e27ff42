/* Unit tests for javastore: detection by content; JKS and PKCS#12 stores built at test
 * time (tests/common/testjava.c) read with and without a password; which entries become
 * anchors (trusted certificates and each private key's first certificate, not the rest
 * of its chain); the digest and MAC catching a wrong password; legacy RC2-40 PKCS#12;
 * Java's alias, iteration and no-password rules; every truncation of both formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "javastore.h"
#include "testjava.h"
#include "testpki.h"

/* Entries of a store under test (f is the fixture in scope). */
#define TRUSTED(a, cert)                                                                           \
	{                                                                                          \
		.alias = (a), .certs = &(cert), .n_certs = 1                                       \
	}
#define KEY(a, chain, n)                                                                           \
	{                                                                                          \
		.alias = (a), .key = f->key, .certs = (chain), .n_certs = (n)                      \
	}

struct fixture {
	EVP_PKEY *key;
	X509 *root_a, *root_b, *inter, *leaf; /* inter under root_a, leaf under inter */
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
	s.serial = 2;
	assert_non_null(f->root_b = pcp_testpki_cert(&s, f->key, NULL, NULL));
	s.cn = "Inter";
	s.serial = 3;
	assert_non_null(f->inter = pcp_testpki_cert(&s, f->key, f->root_a, f->key));
	s.cn = "svc.example.com";
	s.serial = 4;
	s.bc = PCP_TESTPKI_BC_LEAF;
	assert_non_null(f->leaf = pcp_testpki_cert(&s, f->key, f->inter, f->key));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	X509_free(f->root_a);
	X509_free(f->root_b);
	X509_free(f->inter);
	X509_free(f->leaf);
	EVP_PKEY_free(f->key);
	free(f);
	return 0;
}

/* Parses buf; on failure, fails the test with the message. */
static void parse_ok(const unsigned char *buf, size_t len, const char *password,
                     struct pcp_javastore *js)
{
	struct pcp_error err = {0};
	struct pcp_javastore_opts o = {.password = password};

	if (pcp_javastore_parse(buf, len, &o, js, &err) != PCP_OK)
		fail_msg("parse: %s", err.msg);
}

/* Parses buf expecting PCP_ERR_CONFIG with a message holding want (never the password). */
static void parse_fails(const unsigned char *buf, size_t len, const char *password,
                        unsigned long max_iter, const char *want)
{
	struct pcp_error err = {0};
	struct pcp_javastore js;
	struct pcp_javastore_opts o = {.password = password, .max_iterations = max_iter};

	assert_int_equal(pcp_javastore_parse(buf, len, &o, &js, &err), PCP_ERR_CONFIG);
	if (!strstr(err.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
	if (password && *password)
		assert_null(strstr(err.msg, password));
	pcp_javastore_cleanup(&js);
}

/* The entry called alias, or NULL. */
static const struct pcp_javastore_entry *entry(const struct pcp_javastore *js, const char *alias)
{
	for (size_t i = 0; i < js->n_entries; i++)
		if (strcmp(js->entries[i].alias, alias) == 0)
			return &js->entries[i];
	return NULL;
}

static void assert_anchor(const struct pcp_javastore *js, const char *alias,
                          enum pcp_javastore_kind kind, X509 *want)
{
	const struct pcp_javastore_entry *e = entry(js, alias);

	if (!e)
		fail_msg("no entry '%s'", alias);
	assert_int_equal(e->kind, kind);
	if (!want)
		assert_null(e->anchor);
	else
		assert_int_equal(X509_cmp(e->anchor, want), 0);
}

/* ---- detection ---- */

static void test_detect(void **state)
{
	struct fixture *f = *state;
	unsigned char *der = NULL, *p12;
	int n = i2d_X509(f->root_a, &der);
	size_t len;
	const struct pcp_testjava_entry e = TRUSTED("a", f->root_a);

	assert_int_equal(pcp_javastore_detect((const unsigned char *)"\xfe\xed\xfe\xed", 4),
	                 PCP_JAVASTORE_JKS);
	assert_int_equal(pcp_javastore_detect((const unsigned char *)"\xce\xce\xce\xce\0\0", 6),
	                 PCP_JAVASTORE_JCEKS);
	assert_int_equal(pcp_javastore_detect((const unsigned char *)"\xfe\xed\xfe", 3),
	                 PCP_JAVASTORE_NONE);
	assert_int_equal(pcp_javastore_detect((const unsigned char *)"-----BEGIN CERT", 15),
	                 PCP_JAVASTORE_NONE);
	assert_int_equal(pcp_javastore_detect(NULL, 0), PCP_JAVASTORE_NONE);
	/* A DER certificate is a SEQUENCE too, but of a SEQUENCE, not of INTEGER 3. */
	assert_true(n > 0);
	assert_int_equal(pcp_javastore_detect(der, (size_t)n), PCP_JAVASTORE_NONE);
	OPENSSL_free(der);
	assert_non_null(p12 = pcp_testjava_p12(&e, 1, "pw123456", NULL, &len));
	assert_int_equal(pcp_javastore_detect(p12, len), PCP_JAVASTORE_PKCS12);
	/* The prefix alone decides; what follows is the parser's business. */
	assert_int_equal(pcp_javastore_detect(p12, PCP_JAVASTORE_PROBE_LEN), PCP_JAVASTORE_PKCS12);
	assert_int_equal(pcp_javastore_detect(p12, 8), PCP_JAVASTORE_NONE);
	free(p12);
	assert_string_equal(pcp_javastore_format_name(PCP_JAVASTORE_PKCS12), "PKCS#12");
	assert_string_equal(pcp_javastore_format_name(PCP_JAVASTORE_JKS), "JKS");
}

/* ---- JKS ---- */

/* Two trusted roots, an intermediate, and a private key whose chain is leaf, inter,
 * root_a: the anchors are the three trusted certificates and the leaf. */
static unsigned char *sample_jks(const struct fixture *f, const char *password, size_t *len)
{
	X509 *chain[] = {f->leaf, f->inter, f->root_a};
	const struct pcp_testjava_entry e[] = {
	        TRUSTED("roota", f->root_a),
	        TRUSTED("rootb", f->root_b),
	        KEY("svc", chain, 3),
	        TRUSTED("inter", f->inter),
	};

	return pcp_testjava_jks(e, 4, password, len);
}

static void test_jks_with_password(void **state)
{
	struct fixture *f = *state;
	size_t len;
	unsigned char *buf = sample_jks(f, "changeit", &len);
	struct pcp_javastore js;

	assert_non_null(buf);
	parse_ok(buf, len, "changeit", &js);
	assert_int_equal(js.format, PCP_JAVASTORE_JKS);
	assert_true(js.integrity_checked);
	assert_int_equal(js.n_entries, 4);
	assert_int_equal(js.n_anchors, 4);
	assert_int_equal(js.n_certs, 6); /* every certificate Java parsed */
	assert_anchor(&js, "roota", PCP_JAVASTORE_TRUSTED_CERT, f->root_a);
	assert_anchor(&js, "rootb", PCP_JAVASTORE_TRUSTED_CERT, f->root_b);
	assert_anchor(&js, "inter", PCP_JAVASTORE_TRUSTED_CERT, f->inter);
	assert_anchor(&js, "svc", PCP_JAVASTORE_PRIVATE_KEY, f->leaf);
	assert_string_equal(js.entries[0].alias, "roota"); /* file order */
	pcp_javastore_cleanup(&js);
	free(buf);
}

/* Java reads JKS without a password and does not check the digest (nor need it). */
static void test_jks_without_password(void **state)
{
	struct fixture *f = *state;
	size_t len;
	unsigned char *buf = sample_jks(f, NULL, &len); /* digest zeroed: would not verify */
	struct pcp_javastore js;

	assert_non_null(buf);
	parse_ok(buf, len, NULL, &js);
	assert_false(js.integrity_checked);
	assert_int_equal(js.n_anchors, 4);
	pcp_javastore_cleanup(&js);
	/* "" is no password, as javax.net.ssl.trustStorePassword= is to Java. */
	parse_ok(buf, len - 20, "", &js);
	assert_false(js.integrity_checked);
	assert_int_equal(js.n_anchors, 4);
	pcp_javastore_cleanup(&js);
	parse_fails(buf, len, "changeit", 0, "wrong password, or the store was altered");
	free(buf);
}

static void test_jks_wrong_password(void **state)
{
	struct fixture *f = *state;
	size_t len;
	unsigned char *buf = sample_jks(f, "changeit", &len);

	assert_non_null(buf);
	parse_fails(buf, len, "changeiT", 0,
	            "JKS: wrong password, or the store was altered (the integrity digest does "
	            "not match)");
	/* One flipped byte in the middle of a certificate: the same. */
	buf[len / 2] ^= 0x01;
	parse_fails(buf, len, "changeit", 0, "JKS");
	free(buf);
}

/* A password beyond ASCII is hashed as Java's UTF-16 chars, surrogate pairs included. */
static void test_jks_unicode_password(void **state)
{
	struct fixture *f = *state;
	const char *pw = "p\xc3\xa4ss \xe2\x82\xac \xf0\x9f\x94\x91";
	size_t len;
	unsigned char *buf = sample_jks(f, pw, &len);
	struct pcp_javastore js;

	assert_non_null(buf);
	parse_ok(buf, len, pw, &js);
	assert_true(js.integrity_checked);
	pcp_javastore_cleanup(&js);
	parse_fails(buf, len, "p\xc3\xa4ss", 0, "wrong password");
	parse_fails(buf, len, "bad \xff utf8", 0, "JKS: the password is not UTF-8");
	free(buf);
}

/* Every prefix of a JKS file fails cleanly with a password; without one, only the digest
 * may be missing. */
static void test_jks_truncated(void **state)
{
	struct fixture *f = *state;
	size_t len;
	unsigned char *buf = sample_jks(f, "changeit", &len);

	assert_non_null(buf);
	for (size_t n = 4; n < len; n++) {
		struct pcp_error err = {0};
		struct pcp_javastore js;
		struct pcp_javastore_opts with = {.password = "changeit"}, without = {0};
		enum pcp_errc rc;

		/* Exact copies: ASan sees any read past n. */
		unsigned char *cut = malloc(n);

		assert_non_null(cut);
		memcpy(cut, buf, n);
		assert_int_equal(pcp_javastore_parse(cut, n, &with, &js, &err), PCP_ERR_CONFIG);
		assert_non_null(strstr(err.msg, "JKS"));
		pcp_javastore_cleanup(&js);
		rc = pcp_javastore_parse(cut, n, &without, &js, &err);
		assert_int_equal(rc, n >= len - 20 ? PCP_OK : PCP_ERR_CONFIG);
		pcp_javastore_cleanup(&js);
		free(cut);
	}
	free(buf);
}

/* Hand-made JKS headers and entries Java refuses (or reads in its own way). */
static void test_jks_malformed(void **state)
{
	struct fixture *f = *state;
	struct pcp_javastore js;
	const struct pcp_testjava_entry e = TRUSTED("x", f->root_a);
	size_t len;
	unsigned char *ok = pcp_testjava_jks(&e, 1, NULL, &len);
	unsigned char *b = malloc(len);

	assert_non_null(ok);
	assert_non_null(b);
	parse_fails((const unsigned char *)"\xfe\xed\xfe\xed\0\0\0\3\0\0\0\0", 12, NULL, 0,
	            "JKS: unknown version 3");
	parse_fails((const unsigned char *)"\xfe\xed\xfe\xed\0\0\0\2", 8, NULL, 0,
	            "JKS: truncated header");
	/* A negative count is no entry at all to Java. */
	parse_ok((const unsigned char *)"\xfe\xed\xfe\xed\0\0\0\2\xff\xff\xff\xff", 12, NULL, &js);
	assert_int_equal(js.n_entries, 0);
	pcp_javastore_cleanup(&js);
	parse_fails((const unsigned char *)"\xfe\xed\xfe\xed\0\0\0\2\0\1\0\0", 12, NULL, 0,
	            "JKS: 65536 entries, more than 10000");
	/* Entry type 3 (JCEKS's secret key) is unknown to JKS. */
	memcpy(b, ok, len);
	b[15] = 3;
	parse_fails(b, len, NULL, 0, "JKS entry 1: unknown entry type 3");
	/* Alias "x" as the invalid modified UTF-8 byte 0x80. */
	memcpy(b, ok, len);
	b[18] = 0x80;
	parse_fails(b, len, NULL, 0, "JKS entry 1: malformed string");
	/* Certificate type "X.509" -> "X.50x". */
	memcpy(b, ok, len);
	b[18 + 1 + 8 + 2 + 4] = 'x';
	parse_fails(b, len, NULL, 0, "JKS entry 1 ('x'): certificate type is not X.509");
	/* The certificate's first byte. */
	memcpy(b, ok, len);
	b[18 + 1 + 8 + 2 + 5 + 4] = 0x31;
	parse_fails(b, len, NULL, 0, "JKS entry 1 ('x'): certificate does not parse");
	/* A certificate length with the sign bit set. */
	memcpy(b, ok, len);
	b[18 + 1 + 8 + 2 + 5] = 0x80;
	parse_fails(b, len, NULL, 0, "JKS: truncated in entry 1 ('x')");
	free(b);
	free(ok);
}

/* An alias read twice keeps the last entry (Java's Hashtable); case matters in JKS. Aliases
 * beyond ASCII come back as UTF-8; U+0000 (allowed by Java) as U+FFFD. */
static void test_jks_aliases(void **state)
{
	struct fixture *f = *state;
	const struct pcp_testjava_entry e[] = {
	        TRUSTED("dup", f->root_a),
	        TRUSTED("Dup", f->inter),
	        TRUSTED("dup", f->root_b),
	        TRUSTED("caf\xc3\xa9 \xf0\x9f\x94\x91", f->leaf),
	};
	size_t len;
	unsigned char *buf = pcp_testjava_jks(e, 4, "changeit", &len);
	struct pcp_javastore js;

	assert_non_null(buf);
	parse_ok(buf, len, "changeit", &js);
	assert_int_equal(js.n_entries, 3);
	assert_anchor(&js, "dup", PCP_JAVASTORE_TRUSTED_CERT, f->root_b);
	assert_anchor(&js, "Dup", PCP_JAVASTORE_TRUSTED_CERT, f->inter);
	assert_anchor(&js, "caf\xc3\xa9 \xf0\x9f\x94\x91", PCP_JAVASTORE_TRUSTED_CERT, f->leaf);
	pcp_javastore_cleanup(&js);
	free(buf);

	/* Modified UTF-8's NUL (C0 80) in an alias. */
	const struct pcp_testjava_entry z = TRUSTED("a\xc0\x80z", f->root_a);
	assert_non_null(buf = pcp_testjava_jks(&z, 1, NULL, &len));
	parse_ok(buf, len, NULL, &js);
	assert_string_equal(js.entries[0].alias, "a\xef\xbf\xbdz");
	pcp_javastore_cleanup(&js);
	free(buf);
}

/* A private key without a chain contributes no anchor. */
static void test_jks_key_without_chain(void **state)
{
	struct fixture *f = *state;
	const struct pcp_testjava_entry e[] = {KEY("k", NULL, 0), TRUSTED("r", f->root_a)};
	size_t len;
	unsigned char *buf = pcp_testjava_jks(e, 2, NULL, &len);
	struct pcp_javastore js;

	assert_non_null(buf);
	parse_ok(buf, len, NULL, &js);
	assert_int_equal(js.n_entries, 2);
	assert_int_equal(js.n_anchors, 1);
	assert_anchor(&js, "k", PCP_JAVASTORE_PRIVATE_KEY, NULL);
	pcp_javastore_cleanup(&js);
	free(buf);
}

/* ---- PKCS#12 ---- */

static unsigned char *sample_p12(const struct fixture *f, const char *password,
                                 const struct pcp_testjava_p12_opts *o, size_t *len)
{
	X509 *chain[] = {f->leaf, f->inter};
	const struct pcp_testjava_entry e[] = {
	        TRUSTED("roota", f->root_a),
	        KEY("svc", chain, 2),
	        TRUSTED("rootb", f->root_b),
	};

	return pcp_testjava_p12(e, 3, password, o, len);
}

/* keytool's default: trusted certificates are anchors, and the key's leaf; the key's
 * intermediate (a bag without the trusted attribute) is not. */
static void test_p12_with_password(void **state)
{
	struct fixture *f = *state;
	size_t len;
	unsigned char *buf = sample_p12(f, "changeit", NULL, &len);
	struct pcp_javastore js;

	assert_non_null(buf);
	parse_ok(buf, len, "changeit", &js);
	assert_int_equal(js.format, PCP_JAVASTORE_PKCS12);
	assert_true(js.integrity_checked);
	assert_false(js.skipped_encrypted);
	assert_int_equal(js.n_entries, 3);
	assert_int_equal(js.n_anchors, 3);
	assert_int_equal(js.n_certs, 4);
	assert_anchor(&js, "roota", PCP_JAVASTORE_TRUSTED_CERT, f->root_a);
	assert_anchor(&js, "rootb", PCP_JAVASTORE_TRUSTED_CERT, f->root_b);
	assert_anchor(&js, "svc", PCP_JAVASTORE_PRIVATE_KEY, f->leaf);
	for (size_t i = 0; i < js.n_entries; i++)
		assert_int_not_equal(X509_cmp(js.entries[i].anchor, f->inter), 0);
	pcp_javastore_cleanup(&js);
	free(buf);
}

/* Without a password Java skips the encrypted certificates: nothing to trust. */
static void test_p12_without_password(void **state)
{
	struct fixture *f = *state;
	size_t len;
	unsigned char *buf = sample_p12(f, "changeit", NULL, &len);
	struct pcp_javastore js;

	assert_non_null(buf);
	parse_ok(buf, len, NULL, &js);
	assert_true(js.skipped_encrypted);
	assert_false(js.integrity_checked);
	assert_int_equal(js.n_anchors, 0);
	assert_int_equal(js.n_certs, 0);
	assert_int_equal(js.n_entries, 1); /* the key, without its certificate */
	pcp_javastore_cleanup(&js);
	free(buf);
}

static void test_p12_wrong_password(void **state)
{
	struct fixture *f = *state;
	size_t len;
	unsigned char *buf = sample_p12(f, "changeit", NULL, &len);
	struct pcp_testjava_p12_opts damaged = {.mac_pw = "other-password"};
	unsigned char *bad;

	assert_non_null(buf);
	parse_fails(buf, len, "changeiT", 0,
	            "PKCS#12: wrong password, or the store was altered (the MAC does not verify)");
	/* The right password but a MAC that does not match the contents. */
	assert_non_null(bad = sample_p12(f, "changeit", &damaged, &len));
	parse_fails(bad, len, "changeit", 0, "the MAC does not verify");
	free(bad);
	free(buf);
}

/* keytool before Java 8u301 and 11.0.12 encrypted certificates with RC2-40, which OpenSSL
 * keeps in its legacy provider; the MAC was HMAC-SHA1. */
static void test_p12_legacy_rc2(void **state)
{
	struct fixture *f = *state;
	struct pcp_testjava_p12_opts legacy = {.enc = PCP_TESTJAVA_RC2_40};
	size_t len;
	unsigned char *buf = sample_p12(f, "changeit", &legacy, &len);
	struct pcp_javastore js;

	assert_non_null(buf);
	parse_ok(buf, len, "changeit", &js);
	assert_true(js.integrity_checked);
	assert_int_equal(js.n_anchors, 3);
	assert_anchor(&js, "svc", PCP_JAVASTORE_PRIVATE_KEY, f->leaf);
	pcp_javastore_cleanup(&js);
	free(buf);
}

/* Certificates without Oracle's attribute (openssl pkcs12 -export) are no trusted entries:
 * Java lists none, and neither do we. */
static void test_p12_untrusted_bags(void **state)
{
	struct fixture *f = *state;
	const struct pcp_testjava_entry e[] = {TRUSTED("a", f->root_a), TRUSTED("b", f->root_b)};
	struct pcp_testjava_p12_opts o = {.untrusted = true};
	size_t len;
	unsigned char *buf = pcp_testjava_p12(e, 2, "changeit", &o, &len);
	struct pcp_javastore js;

	assert_non_null(buf);
	parse_ok(buf, len, "changeit", &js);
	assert_int_equal(js.n_entries, 0);
	assert_int_equal(js.n_anchors, 0);
	assert_int_equal(js.n_certs, 2);
	pcp_javastore_cleanup(&js);
	free(buf);
}

/* Unencrypted certificates and no MAC (keytool with certProtectionAlgorithm and
 * macAlgorithm NONE): readable with or without a password, integrity never checked. */
static void test_p12_passwordless(void **state)
{
	struct fixture *f = *state;
	const struct pcp_testjava_entry e[] = {TRUSTED("a", f->root_a)};
	struct pcp_testjava_p12_opts o = {.enc = PCP_TESTJAVA_PLAIN, .no_mac = true};
	size_t len;
	unsigned char *buf = pcp_testjava_p12(e, 1, NULL, &o, &len);
	struct pcp_javastore js;

	assert_non_null(buf);
	parse_ok(buf, len, NULL, &js);
	assert_int_equal(js.n_anchors, 1);
	assert_false(js.skipped_encrypted);
	pcp_javastore_cleanup(&js);
	parse_ok(buf, len, "anything", &js);
	assert_int_equal(js.n_anchors, 1);
	assert_false(js.integrity_checked);
	pcp_javastore_cleanup(&js);
	free(buf);
}

/* Iteration counts above the limit are refused before any key is derived. */
static void test_p12_iteration_limit(void **state)
{
	struct fixture *f = *state;
	struct pcp_testjava_p12_opts mac = {.mac_iter = 3000, .iter = 100};
	struct pcp_testjava_p12_opts enc = {.mac_iter = 100, .iter = 3000};
	size_t len;
	unsigned char *buf = sample_p12(f, "changeit", &mac, &len);

	assert_non_null(buf);
	parse_fails(buf, len, "changeit", 2000, "MAC iteration count 3000 above Java's limit 2000");
	free(buf);
	assert_non_null(buf = sample_p12(f, "changeit", &enc, &len));
	parse_fails(buf, len, "changeit", 2000,
	            "encryption iteration count 3000 above Java's limit 2000");
	free(buf);
}

/* PKCS#12 aliases are case-insensitive (the last wins); a bag without friendlyName gets
 * Java's numbered name. */
static void test_p12_aliases(void **state)
{
	struct fixture *f = *state;
	const struct pcp_testjava_entry e[] = {
	        TRUSTED("Root", f->root_a),
	        TRUSTED("ROOT", f->root_b),
	        TRUSTED(NULL, f->inter),
	};
	size_t len;
	unsigned char *buf = pcp_testjava_p12(e, 3, "changeit", NULL, &len);
	struct pcp_javastore js;

	assert_non_null(buf);
	parse_ok(buf, len, "changeit", &js);
	assert_int_equal(js.n_entries, 2);
	assert_anchor(&js, "ROOT", PCP_JAVASTORE_TRUSTED_CERT, f->root_b);
	assert_anchor(&js, "1", PCP_JAVASTORE_TRUSTED_CERT, f->inter);
	pcp_javastore_cleanup(&js);
	free(buf);
}

/* A key's certificate: the one with its localKeyID first, even when another one carries
 * the key's alias (PKCS12KeyStore.findMatchedCertificate). */
static void test_p12_key_matching(void **state)
{
	struct fixture *f = *state;
	const struct pcp_testjava_entry e[] = {
	        {.alias = "k1", .key = f->key, .certs = &f->leaf, .n_certs = 1, .leaf_alias = "k2"},
	        {.alias = "k2",
	         .key = f->key,
	         .certs = &f->inter,
	         .n_certs = 1,
	         .leaf_alias = "k1"},
	};
	size_t len;
	unsigned char *buf = pcp_testjava_p12(e, 2, "changeit", NULL, &len);
	struct pcp_javastore js;

	assert_non_null(buf);
	parse_ok(buf, len, "changeit", &js);
	assert_anchor(&js, "k1", PCP_JAVASTORE_PRIVATE_KEY, f->leaf);
	assert_anchor(&js, "k2", PCP_JAVASTORE_PRIVATE_KEY, f->inter);
	pcp_javastore_cleanup(&js);
	free(buf);
}

static void test_p12_truncated(void **state)
{
	struct fixture *f = *state;
	size_t len;
	unsigned char *buf = sample_p12(f, "changeit", NULL, &len);

	assert_non_null(buf);
	for (size_t n = 24; n < len; n += 7) {
		unsigned char *cut = malloc(n);
		struct pcp_error err = {0};
		struct pcp_javastore js;
		struct pcp_javastore_opts o = {.password = "changeit"};

		assert_non_null(cut);
		memcpy(cut, buf, n);
		assert_int_equal(pcp_javastore_parse(cut, n, &o, &js, &err), PCP_ERR_CONFIG);
		assert_non_null(strstr(err.msg, "PKCS#12"));
		pcp_javastore_cleanup(&js);
		free(cut);
	}
	free(buf);
}

static void test_not_java(void **state)
{
	(void)state;
	parse_fails((const unsigned char *)"\xce\xce\xce\xce\0\0\0\2", 8, NULL, 0,
	            "JCEKS keystore: not supported");
	parse_fails((const unsigned char *)"-----BEGIN", 10, NULL, 0,
	            "not a PKCS#12 or JKS keystore");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_detect),
	        cmocka_unit_test(test_jks_with_password),
	        cmocka_unit_test(test_jks_without_password),
	        cmocka_unit_test(test_jks_wrong_password),
	        cmocka_unit_test(test_jks_unicode_password),
	        cmocka_unit_test(test_jks_truncated),
	        cmocka_unit_test(test_jks_malformed),
	        cmocka_unit_test(test_jks_aliases),
	        cmocka_unit_test(test_jks_key_without_chain),
	        cmocka_unit_test(test_p12_with_password),
	        cmocka_unit_test(test_p12_without_password),
	        cmocka_unit_test(test_p12_wrong_password),
	        cmocka_unit_test(test_p12_legacy_rc2),
	        cmocka_unit_test(test_p12_untrusted_bags),
	        cmocka_unit_test(test_p12_passwordless),
	        cmocka_unit_test(test_p12_iteration_limit),
	        cmocka_unit_test(test_p12_aliases),
	        cmocka_unit_test(test_p12_key_matching),
	        cmocka_unit_test(test_p12_truncated),
	        cmocka_unit_test(test_not_java),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
