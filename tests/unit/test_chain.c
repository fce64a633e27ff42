/* Unit tests for chain: owned copies of served stacks, facts per certificate (names,
 * serial, dates, SANs, key, signature, fingerprint), the leaf's names for hostmatch with
 * embedded NULs, raw IP bytes and two CNs, and a PEM write/load round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain.h"
#include "testpki.h"

struct fixture {
	EVP_PKEY *ec, *rsa, *ed;
	X509 *root; /* EC, self-signed */
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct pcp_testpki_spec s = {
	        .cn = "Test Root",
	        .org = "pgcertprobe tests",
	        .serial = 7,
	        .not_before = pcp_testpki_time(2020, 1, 1, 0, 0, 0),
	        .not_after = pcp_testpki_time(2040, 1, 1, 0, 0, 0),
	        .bc = PCP_TESTPKI_BC_CA,
	};

	assert_non_null(f);
	assert_non_null(f->ec = pcp_testpki_key(PCP_TESTPKI_EC_P256, 0));
	assert_non_null(f->rsa = pcp_testpki_key(PCP_TESTPKI_RSA, 1024));
	assert_non_null(f->ed = pcp_testpki_key(PCP_TESTPKI_ED25519, 0));
	assert_non_null(f->root = pcp_testpki_cert(&s, f->ec, NULL, NULL));
	snprintf(f->dir, sizeof f->dir, "/tmp/pcp-test-chain-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	const char *files[] = {"chain.pem", "empty.pem", "broken.pem", "mixed.pem"};

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char path[128];

		snprintf(path, sizeof path, "%s/%s", f->dir, files[i]);
		unlink(path);
	}
	rmdir(f->dir);
	X509_free(f->root);
	EVP_PKEY_free(f->ec);
	EVP_PKEY_free(f->rsa);
	EVP_PKEY_free(f->ed);
	free(f);
	return 0;
}

static const char *path_in(const struct fixture *f, const char *name)
{
	static char buf[128];

	snprintf(buf, sizeof buf, "%s/%s", f->dir, name);
	return buf;
}

/* The fingerprint computed independently of chain.c: SHA-256 over i2d_X509. */
static void expected_sha256(X509 *x, char out[PCP_SHA256_HEX])
{
	unsigned char *der = NULL, md[32];
	int len = i2d_X509(x, &der);

	assert_true(len > 0);
	assert_int_equal(EVP_Q_digest(NULL, "SHA256", NULL, der, (size_t)len, md, NULL), 1);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	OPENSSL_free(der);
}

static struct pcp_testpki_spec leaf_spec(void)
{
	struct pcp_testpki_spec s = {
	        .cn = "db.example.com",
	        .org = "pgcertprobe tests",
	        .serial = 0x1234ABCDull,
	        .not_before = pcp_testpki_time(2024, 2, 29, 12, 30, 15),
	        .not_after = pcp_testpki_time(2026, 3, 1, 0, 0, 0),
	        .eku = PCP_TESTPKI_EKU_SERVER,
	};

	return s;
}

static void test_facts(void **state)
{
	struct fixture *f = *state;
	static const struct pcp_testpki_bytes dns[] = {
	        {"db.example.com", 0},
	        {"*.db.example.com", 0},
	        {"evil.com\0.example.com", 21},
	};
	static const struct pcp_testpki_bytes ip[] = {
	        {"\x7f\x00\x00\x01", 4},
	        {"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16},
	        {"\x01\x02\x03\x04\x05", 5},
	};
	struct pcp_testpki_spec s = leaf_spec();
	struct pcp_cert_facts facts;
	struct pcp_chain *c;
	char sha[PCP_SHA256_HEX];
	X509 *leaf;

	s.dns = dns;
	s.n_dns = 3;
	s.ip = ip;
	s.n_ip = 3;
	s.uri = "https://example.com/db";
	s.email = "dba@example.com";
	assert_non_null(leaf = pcp_testpki_cert(&s, f->ec, f->root, f->ec));
	assert_non_null(c = pcp_testpki_chain(leaf, f->root, NULL));
	assert_int_equal(pcp_chain_len(c), 2);

	assert_int_equal(pcp_chain_facts(c, 0, &facts), 0);
	assert_string_equal(facts.subject, "CN=db.example.com,O=pgcertprobe tests");
	assert_string_equal(facts.issuer, "CN=Test Root,O=pgcertprobe tests");
	assert_string_equal(facts.serial, "1234abcd");
	assert_int_equal(facts.not_before, pcp_testpki_time(2024, 2, 29, 12, 30, 15));
	assert_int_equal(facts.not_after, pcp_testpki_time(2026, 3, 1, 0, 0, 0));
	expected_sha256(leaf, sha);
	assert_string_equal(facts.sha256, sha);
	assert_int_equal(facts.n_san, 8);
	assert_string_equal(facts.san[0], "DNS:db.example.com");
	assert_string_equal(facts.san[1], "DNS:*.db.example.com");
	assert_string_equal(facts.san[2], "DNS:evil.com\\x00.example.com");
	assert_string_equal(facts.san[3], "IP:127.0.0.1");
	assert_string_equal(facts.san[4], "IP:2001:db8::1");
	assert_string_equal(facts.san[5], "IP:invalid length 5");
	assert_string_equal(facts.san[6], "URI:https://example.com/db");
	assert_string_equal(facts.san[7], "email:dba@example.com");
	assert_string_equal(facts.key, "EC P-256");
	assert_string_equal(facts.sig_alg, "ecdsa-with-SHA256");
	assert_false(facts.self_issued);
	pcp_cert_facts_cleanup(&facts);

	assert_int_equal(pcp_chain_facts(c, 1, &facts), 0);
	assert_string_equal(facts.subject, "CN=Test Root,O=pgcertprobe tests");
	assert_string_equal(facts.serial, "07"); /* whole bytes, as openssl x509 -serial */
	assert_int_equal(facts.n_san, 0);
	assert_null(facts.san);
	assert_true(facts.self_issued);
	pcp_cert_facts_cleanup(&facts);

	assert_int_equal(pcp_chain_facts(c, 2, &facts), -1);
	pcp_chain_free(c);
	X509_free(leaf);
}

static void test_facts_keys_and_signatures(void **state)
{
	struct fixture *f = *state;
	struct pcp_testpki_spec s = leaf_spec();
	struct pcp_cert_facts facts;
	struct pcp_chain *c;
	X509 *rsa_sha1, *ed;

	s.digest = PCP_TESTPKI_SHA1;
	assert_non_null(rsa_sha1 = pcp_testpki_cert(&s, f->rsa, NULL, NULL));
	s.digest = PCP_TESTPKI_SHA256;
	assert_non_null(ed = pcp_testpki_cert(&s, f->ed, NULL, NULL));
	assert_non_null(c = pcp_testpki_chain(rsa_sha1, ed, NULL));

	assert_int_equal(pcp_chain_facts(c, 0, &facts), 0);
	assert_string_equal(facts.key, "RSA 1024");
	assert_string_equal(facts.sig_alg, "sha1WithRSAEncryption");
	assert_true(facts.self_issued);
	pcp_cert_facts_cleanup(&facts);
	assert_int_equal(pcp_chain_facts(c, 1, &facts), 0);
	assert_string_equal(facts.key, "Ed25519");
	assert_string_equal(facts.sig_alg, "ED25519");
	pcp_cert_facts_cleanup(&facts);
	pcp_chain_free(c);
	X509_free(rsa_sha1);
	X509_free(ed);
}

/* RFC 2253 escaping of specials, with UTF-8 kept readable rather than \C3\BC. */
static void test_subject_escaping_and_utf8(void **state)
{
	struct fixture *f = *state;
	struct pcp_testpki_spec s = leaf_spec();
	struct pcp_cert_facts facts;
	struct pcp_chain *c;
	X509 *x;

	s.cn = "Z\xc3\xbcrich, DB+1";
	s.org = NULL;
	assert_non_null(x = pcp_testpki_cert(&s, f->ec, f->root, f->ec));
	assert_non_null(c = pcp_testpki_chain(x, NULL));
	assert_int_equal(pcp_chain_facts(c, 0, &facts), 0);
	assert_string_equal(facts.subject, "CN=Z\xc3\xbcrich\\, DB\\+1");
	pcp_cert_facts_cleanup(&facts);
	pcp_chain_free(c);
	X509_free(x);
}

static void test_leaf_names(void **state)
{
	struct fixture *f = *state;
	static const struct pcp_testpki_bytes dns[] = {
	        {"db.example.com\0.evil.com", 24},
	        {"*.example.com", 0},
	};
	static const struct pcp_testpki_bytes ip[] = {
	        {"\x0a\x00\x00\x05", 4},
	        {"\xfe\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16},
	        {"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11", 17},
	};
	struct pcp_testpki_spec s = leaf_spec();
	struct pcp_cert_names names;
	struct pcp_chain *c;
	X509 *leaf;

	s.cn = "first.example.com";
	s.cn2 = "second.example.com";
	s.dns = dns;
	s.n_dns = 2;
	s.ip = ip;
	s.n_ip = 3;
	s.uri = "https://ignored.example.com/";
	assert_non_null(leaf = pcp_testpki_cert(&s, f->ec, f->root, f->ec));
	assert_non_null(c = pcp_testpki_chain(leaf, f->root, NULL));
	assert_int_equal(pcp_chain_leaf_names(c, &names), 0);

	/* testpki writes dNSNames, then iPAddresses, then the URI, which is dropped. */
	assert_int_equal(names.n_san, 5);
	assert_false(names.san[0].is_ip);
	assert_int_equal(names.san[0].dns.len, 24);
	assert_memory_equal(names.san[0].dns.data, "db.example.com\0.evil.com", 24);
	assert_false(names.san[1].is_ip);
	assert_int_equal(names.san[1].dns.len, 13);
	assert_memory_equal(names.san[1].dns.data, "*.example.com", 13);

	assert_true(names.san[2].is_ip);
	assert_int_equal(names.san[2].ip.len, 4);
	assert_memory_equal(names.san[2].ip.addr, "\x0a\x00\x00\x05", 4);
	assert_true(names.san[3].is_ip);
	assert_int_equal(names.san[3].ip.len, 16);
	assert_memory_equal(names.san[3].ip.addr, ip[1].data, 16);
	assert_true(names.san[4].is_ip);
	assert_int_equal(names.san[4].ip.len, 17); /* true length kept: an error in hostmatch */
	assert_memory_equal(names.san[4].ip.addr, ip[2].data, 16);

	/* Only the first CN, as libpq reads it. */
	assert_non_null(names.cn);
	assert_int_equal(names.cn->len, strlen("first.example.com"));
	assert_memory_equal(names.cn->data, "first.example.com", names.cn->len);
	pcp_cert_names_cleanup(&names);
	pcp_chain_free(c);
	X509_free(leaf);
}

static void test_leaf_names_cn_bytes(void **state)
{
	struct fixture *f = *state;
	struct pcp_testpki_spec s = leaf_spec();
	struct pcp_cert_names names;
	struct pcp_chain *c;
	X509 *nul_cn, *bmp_cn, *no_cn;

	/* A CN with an embedded NUL keeps its length. */
	s.cn = "db.example.com\0.evil.com";
	s.cn_len = 24;
	assert_non_null(nul_cn = pcp_testpki_cert(&s, f->ec, f->root, f->ec));
	/* A BMPString CN: libpq compares the raw ASN.1 bytes (UTF-16BE), not UTF-8. */
	s.cn = "\0d\0b";
	s.cn_len = 4;
	s.cn_type = V_ASN1_BMPSTRING;
	assert_non_null(bmp_cn = pcp_testpki_cert(&s, f->ec, f->root, f->ec));
	s.cn = NULL;
	s.cn_len = 0;
	s.cn_type = 0;
	assert_non_null(no_cn = pcp_testpki_cert(&s, f->ec, f->root, f->ec));

	assert_non_null(c = pcp_testpki_chain(nul_cn, NULL));
	assert_int_equal(pcp_chain_leaf_names(c, &names), 0);
	assert_int_equal(names.n_san, 0);
	assert_non_null(names.cn);
	assert_int_equal(names.cn->len, 24);
	assert_memory_equal(names.cn->data, "db.example.com\0.evil.com", 24);
	pcp_cert_names_cleanup(&names);
	pcp_chain_free(c);

	assert_non_null(c = pcp_testpki_chain(bmp_cn, NULL));
	assert_int_equal(pcp_chain_leaf_names(c, &names), 0);
	assert_non_null(names.cn);
	assert_int_equal(names.cn->len, 4);
	assert_memory_equal(names.cn->data, "\0d\0b", 4);
	pcp_cert_names_cleanup(&names);
	pcp_chain_free(c);

	assert_non_null(c = pcp_testpki_chain(no_cn, NULL));
	assert_int_equal(pcp_chain_leaf_names(c, &names), 0);
	assert_null(names.cn);
	assert_int_equal(names.n_san, 0);
	pcp_cert_names_cleanup(&names);
	pcp_chain_free(c);

	X509_free(nul_cn);
	X509_free(bmp_cn);
	X509_free(no_cn);
}

/* SANs reach hostmatch in certificate order, types interleaved, because libpq's walk stops
 * at the first match or error and names the first SAN it examined. testpki writes
 * dNSNames first, so this leaf gets its subjectAltName here and is signed again. */
static void test_leaf_names_certificate_order(void **state)
{
	struct fixture *f = *state;
	struct pcp_testpki_spec s = leaf_spec();
	struct pcp_cert_names names;
	struct pcp_chain *c;
	X509_EXTENSION *ext;
	X509 *leaf;
	char msg[256];

	assert_non_null(leaf = pcp_testpki_cert(&s, f->ec, f->root, f->ec));
	assert_non_null(ext = X509V3_EXT_conf_nid(
	                        NULL, NULL, NID_subject_alt_name,
	                        "IP:10.0.0.1, URI:https://ignored.example.com/, DNS:a.example.com, "
	                        "IP:::1, DNS:b.example.com"));
	assert_int_equal(X509_add_ext(leaf, ext, -1), 1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(leaf, f->ec, EVP_sha256()) > 0);
	assert_non_null(c = pcp_testpki_chain(leaf, f->root, NULL));
	assert_int_equal(pcp_chain_leaf_names(c, &names), 0);

	assert_int_equal(names.n_san, 4);
	assert_true(names.san[0].is_ip);
	assert_int_equal(names.san[0].ip.len, 4);
	assert_memory_equal(names.san[0].ip.addr, "\x0a\x00\x00\x01", 4);
	assert_false(names.san[1].is_ip);
	assert_int_equal(names.san[1].dns.len, 13);
	assert_memory_equal(names.san[1].dns.data, "a.example.com", 13);
	assert_true(names.san[2].is_ip);
	assert_int_equal(names.san[2].ip.len, 16);
	assert_memory_equal(names.san[2].ip.addr, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	assert_false(names.san[3].is_ip);
	assert_int_equal(names.san[3].dns.len, 13);
	assert_memory_equal(names.san[3].dns.data, "b.example.com", 13);

	/* End to end: libpq names the IP, the first SAN in the certificate. */
	assert_int_equal(pcp_hostmatch_cert(&names, "z.example.com", msg, sizeof msg),
	                 PCP_HOST_MISMATCH);
	assert_string_equal(msg, "server certificate for \"10.0.0.1\" (and 3 other names) does not "
	                         "match host name \"z.example.com\"");
	pcp_cert_names_cleanup(&names);
	pcp_chain_free(c);
	X509_free(leaf);
}

/* The chain holds its own references: the served stack may go away first. */
static void test_from_stack_takes_references(void **state)
{
	struct fixture *f = *state;
	struct pcp_testpki_spec s = leaf_spec();
	STACK_OF(X509) *served = sk_X509_new_null();
	struct pcp_cert_facts facts;
	struct pcp_chain *c;
	X509 *leaf;

	assert_non_null(served);
	assert_non_null(leaf = pcp_testpki_cert(&s, f->ec, f->root, f->ec));
	assert_true(sk_X509_push(served, leaf) > 0);
	assert_true(X509_up_ref(f->root));
	assert_true(sk_X509_push(served, f->root) > 0);
	assert_non_null(c = pcp_chain_from_stack(served));
	sk_X509_pop_free(served, X509_free); /* drops leaf entirely, root back to 1 ref */

	assert_int_equal(pcp_chain_len(c), 2);
	assert_int_equal(pcp_chain_facts(c, 0, &facts), 0);
	assert_string_equal(facts.subject, "CN=db.example.com,O=pgcertprobe tests");
	pcp_cert_facts_cleanup(&facts);
	assert_ptr_equal(pcp_chain_get0(c, 1), f->root);
	assert_null(pcp_chain_get0(c, 2));
	pcp_chain_free(c);

	assert_non_null(c = pcp_chain_from_stack(NULL));
	assert_int_equal(pcp_chain_len(c), 0);
	assert_null(pcp_chain_get0(c, 0));
	pcp_chain_free(c);
	assert_int_equal(pcp_chain_len(NULL), 0);
	pcp_chain_free(NULL);
}

static void test_pem_round_trip(void **state)
{
	struct fixture *f = *state;
	struct pcp_testpki_spec s = leaf_spec();
	struct pcp_error err = {0};
	struct pcp_chain *c, *back;
	X509 *leaf;
	FILE *out;

	assert_non_null(leaf = pcp_testpki_cert(&s, f->ec, f->root, f->ec));
	assert_non_null(c = pcp_testpki_chain(leaf, f->root, NULL));
	assert_non_null(out = fopen(path_in(f, "chain.pem"), "w"));
	assert_int_equal(pcp_chain_write_pem(c, out), 0);
	assert_int_equal(fclose(out), 0);

	back = pcp_chain_load_pem(path_in(f, "chain.pem"), &err);
	if (!back)
		fail_msg("%s", err.msg);
	assert_int_equal(pcp_chain_len(back), 2);
	for (size_t i = 0; i < 2; i++) {
		char a[PCP_SHA256_HEX], b[PCP_SHA256_HEX];

		pcp_cert_sha256_hex(pcp_chain_get0(c, i), a);
		pcp_cert_sha256_hex(pcp_chain_get0(back, i), b);
		assert_string_equal(a, b);
	}
	pcp_chain_free(back);

	/* Keys and other blocks between certificates are skipped. */
	assert_non_null(out = fopen(path_in(f, "mixed.pem"), "w"));
	assert_int_equal(PEM_write_PrivateKey(out, f->ec, NULL, NULL, 0, NULL, NULL), 1);
	assert_int_equal(pcp_chain_write_pem(c, out), 0);
	assert_int_equal(fclose(out), 0);
	assert_non_null(back = pcp_chain_load_pem(path_in(f, "mixed.pem"), &err));
	assert_int_equal(pcp_chain_len(back), 2);
	pcp_chain_free(back);

	pcp_chain_free(c);
	X509_free(leaf);
}

static void test_load_errors(void **state)
{
	struct fixture *f = *state;
	static const char broken[] = "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n"
	                             "-----END CERTIFICATE-----\n";
	struct pcp_error err = {0};
	char expect[256];

	assert_null(pcp_chain_load_pem(path_in(f, "missing.pem"), &err));
	assert_int_equal(err.code, PCP_ERR_INPUT);
	snprintf(expect, sizeof expect, "%s: No such file or directory", path_in(f, "missing.pem"));
	assert_string_equal(err.msg, expect);

	assert_int_equal(pcp_testpki_write_file(path_in(f, "empty.pem"), "", 0), 0);
	assert_null(pcp_chain_load_pem(path_in(f, "empty.pem"), &err));
	assert_int_equal(err.code, PCP_ERR_INPUT);
	snprintf(expect, sizeof expect, "%s holds no certificate", path_in(f, "empty.pem"));
	assert_string_equal(err.msg, expect);

	assert_int_equal(
	        pcp_testpki_write_file(path_in(f, "broken.pem"), broken, sizeof broken - 1), 0);
	assert_null(pcp_chain_load_pem(path_in(f, "broken.pem"), &err));
	assert_int_equal(err.code, PCP_ERR_INPUT);
	snprintf(expect, sizeof expect, "%s: broken PEM", path_in(f, "broken.pem"));
	assert_true(strncmp(err.msg, expect, strlen(expect)) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_facts),
	        cmocka_unit_test(test_facts_keys_and_signatures),
	        cmocka_unit_test(test_subject_escaping_and_utf8),
	        cmocka_unit_test(test_leaf_names),
	        cmocka_unit_test(test_leaf_names_cn_bytes),
	        cmocka_unit_test(test_leaf_names_certificate_order),
	        cmocka_unit_test(test_from_stack_takes_references),
	        cmocka_unit_test(test_pem_round_trip),
	        cmocka_unit_test(test_load_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
