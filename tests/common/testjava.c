/* Java truststores built in memory for tests (see testjava.h). */
#include "testjava.h"

#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRUSTED_KEY_USAGE  "2.16.840.1.113894.746875.1.1"
#define ANY_EXTENDED_USAGE "2.5.29.37.0"

struct buf {
	unsigned char *p;
	size_t len, cap;
	bool failed;
};

static void put(struct buf *b, const void *data, size_t n)
{
	if (b->failed || n == 0)
		return; /* n == 0: data may be NULL (an empty string), and memcpy forbids it */
	if (b->len + n > b->cap) {
		size_t cap = (b->len + n) * 2 + 64;
		unsigned char *grown = realloc(b->p, cap);

		if (!grown) {
			b->failed = true;
			return;
		}
		b->p = grown;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void put_u32(struct buf *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 8), (unsigned char)v};

	put(b, x, 4);
}

/* DataOutputStream.writeUTF of UTF-8 text: 4-byte sequences become two 3-byte surrogate
 * encodings (modified UTF-8); other bytes are copied. */
static void put_utf(struct buf *b, const char *s)
{
	struct buf m = {0};
	unsigned char len[2];

	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		if ((*p & 0xf8) == 0xf0 && p[1] && p[2] && p[3]) {
			uint32_t cp = (uint32_t)(p[0] & 0x07) << 18 |
			              (uint32_t)(p[1] & 0x3f) << 12 | (uint32_t)(p[2] & 0x3f) << 6 |
			              (p[3] & 0x3f);
			uint32_t hi = 0xd800 + ((cp - 0x10000) >> 10);
			uint32_t lo = 0xdc00 + ((cp - 0x10000) & 0x3ff);
			unsigned char e[6] = {(unsigned char)(0xe0 | hi >> 12),
			                      (unsigned char)(0x80 | (hi >> 6 & 0x3f)),
			                      (unsigned char)(0x80 | (hi & 0x3f)),
			                      (unsigned char)(0xe0 | lo >> 12),
			                      (unsigned char)(0x80 | (lo >> 6 & 0x3f)),
			                      (unsigned char)(0x80 | (lo & 0x3f))};

			put(&m, e, 6);
			p += 4;
		} else {
			put(&m, p++, 1);
		}
	}
	len[0] = (unsigned char)(m.len >> 8);
	len[1] = (unsigned char)m.len;
	put(b, len, 2);
	put(b, m.p, m.len);
	b->failed |= m.failed;
	free(m.p);
}

static void put_cert(struct buf *b, X509 *x)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);

	put_utf(b, "X.509");
	if (n <= 0) {
		b->failed = true;
		return;
	}
	put_u32(b, (uint32_t)n);
	put(b, der, (size_t)n);
	OPENSSL_free(der);
}

/* The password as UTF-16BE bytes, as JavaKeyStore's convertToBytes. */
static void put_utf16(struct buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		uint32_t cp;
		unsigned char u[4];

		if (*p < 0x80) {
			cp = *p++;
		} else if ((*p & 0xe0) == 0xc0) {
			cp = (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
			p += 2;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 |
			     (p[2] & 0x3f);
			p += 3;
		} else {
			cp = (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
			     (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
			p += 4;
		}
		if (cp >= 0x10000) {
			uint32_t hi = 0xd800 + ((cp - 0x10000) >> 10),
			         lo = 0xdc00 + ((cp - 0x10000) & 0x3ff);

			u[0] = (unsigned char)(hi >> 8);
			u[1] = (unsigned char)hi;
			u[2] = (unsigned char)(lo >> 8);
			u[3] = (unsigned char)lo;
			put(b, u, 4);
		} else {
			u[0] = (unsigned char)(cp >> 8);
			u[1] = (unsigned char)cp;
			put(b, u, 2);
		}
	}
}

unsigned char *pcp_testjava_jks(const struct pcp_testjava_entry *entries, size_t n,
                                const char *password, size_t *len)
{
	struct buf b = {0}, pw = {0};
	unsigned char md[20] = {0};
	static const unsigned char fake_key[] = "not a real protected key";

	put_u32(&b, 0xfeedfeed);
	put_u32(&b, 2);
	put_u32(&b, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		const struct pcp_testjava_entry *e = &entries[i];

		put_u32(&b, e->key ? 1 : 2);
		put_utf(&b, e->alias ? e->alias : "");
		put(&b, "\0\0\1\x80\0\0\0\0", 8); /* a date */
		if (e->key) {
			put_u32(&b, sizeof fake_key);
			put(&b, fake_key, sizeof fake_key);
			put_u32(&b, (uint32_t)e->n_certs);
			for (size_t k = 0; k < e->n_certs; k++)
				put_cert(&b, e->certs[k]);
		} else {
			put_cert(&b, e->certs[0]);
		}
	}
	if (password && !b.failed) {
		put_utf16(&pw, password);
		put(&pw, "Mighty Aphrodite", 16);
		put(&pw, b.p, b.len);
		if (pw.failed || !EVP_Digest(pw.p, pw.len, md, NULL, EVP_sha1(), NULL))
			b.failed = true;
		free(pw.p);
	}
	put(&b, md, sizeof md);
	if (b.failed) {
		fprintf(stderr, "testjava: building a JKS failed\n");
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

static bool mark_trusted(PKCS12_SAFEBAG *bag)
{
	ASN1_OBJECT *any = OBJ_txt2obj(ANY_EXTENDED_USAGE, 1);
	bool ok = any && PKCS12_add1_attr_by_txt(bag, TRUSTED_KEY_USAGE, V_ASN1_OBJECT,
	                                         (const unsigned char *)any, -1);

	ASN1_OBJECT_free(any);
	return ok;
}

static bool add_cert(STACK_OF(PKCS12_SAFEBAG) * bags, X509 *x, const char *alias,
                     const char *key_id, bool trusted)
{
	PKCS12_SAFEBAG *bag = PKCS12_SAFEBAG_create_cert(x);

	if (!bag || (alias && !PKCS12_add_friendlyname_utf8(bag, alias, -1)) ||
	    (key_id && !PKCS12_add_localkeyid(bag, (unsigned char *)key_id, (int)strlen(key_id))) ||
	    (trusted && !mark_trusted(bag)) || !sk_PKCS12_SAFEBAG_push(bags, bag)) {
		PKCS12_SAFEBAG_free(bag);
		return false;
	}
	return true;
}

static bool add_key(STACK_OF(PKCS12_SAFEBAG) * bags, EVP_PKEY *key, const char *alias,
                    const char *key_id, const char *password)
{
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(key);
	PKCS12_SAFEBAG *bag = p8 ? PKCS12_SAFEBAG_create_pkcs8_encrypt_ex(
	                                   NID_aes_256_cbc, password ? password : "", -1, NULL, 0,
	                                   1000, p8, NULL, NULL)
	                         : NULL;

	PKCS8_PRIV_KEY_INFO_free(p8);
	if (!bag || (alias && !PKCS12_add_friendlyname_utf8(bag, alias, -1)) ||
	    !PKCS12_add_localkeyid(bag, (unsigned char *)key_id, (int)strlen(key_id)) ||
	    !sk_PKCS12_SAFEBAG_push(bags, bag)) {
		PKCS12_SAFEBAG_free(bag);
		return false;
	}
	return true;
}

unsigned char *pcp_testjava_p12(const struct pcp_testjava_entry *entries, size_t n,
                                const char *password, const struct pcp_testjava_p12_opts *opts,
                                size_t *len)
{
	static const struct pcp_testjava_p12_opts defaults = {0};
	STACK_OF(PKCS12_SAFEBAG) *keys = sk_PKCS12_SAFEBAG_new_null();
	STACK_OF(PKCS12_SAFEBAG) *certs = sk_PKCS12_SAFEBAG_new_null();
	STACK_OF(PKCS7) *safes = NULL;
	OSSL_LIB_CTX *ctx = NULL;
	OSSL_PROVIDER *legacy = NULL, *deflt = NULL;
	PKCS12 *p12 = NULL;
	unsigned char *out = NULL, *der = NULL;
	int nid, der_len;
	bool ok = keys && certs;

	if (!opts)
		opts = &defaults;
	for (size_t i = 0; ok && i < n; i++) {
		const struct pcp_testjava_entry *e = &entries[i];
		char key_id[32];

		snprintf(key_id, sizeof key_id, "Time %zu", 1000 + i);
		if (!e->key) {
			ok = add_cert(certs, e->certs[0], e->alias, NULL, !opts->untrusted);
			continue;
		}
		ok = add_key(keys, e->key, e->alias, key_id, password);
		for (size_t k = 0; ok && k < e->n_certs; k++)
			ok = add_cert(certs, e->certs[k],
			              k > 0           ? NULL
			              : e->leaf_alias ? e->leaf_alias
			                              : e->alias,
			              k == 0 ? key_id : NULL, false);
	}
	if (opts->enc == PCP_TESTJAVA_RC2_40) {
		/* RC2 lives in OpenSSL's legacy provider, as for the reader. */
		ok = ok && (ctx = OSSL_LIB_CTX_new()) &&
		     (legacy = OSSL_PROVIDER_load(ctx, "legacy")) &&
		     (deflt = OSSL_PROVIDER_load(ctx, "default"));
		nid = NID_pbe_WithSHA1And40BitRC2_CBC;
	} else {
		nid = opts->enc == PCP_TESTJAVA_PLAIN ? -1 : NID_aes_256_cbc;
	}
	ok = ok && PKCS12_add_safe_ex(&safes, keys, -1, 0, NULL, ctx, NULL) &&
	     PKCS12_add_safe_ex(&safes, certs, nid, opts->iter ? opts->iter : 10000, password, ctx,
	                        NULL) &&
	     (p12 = PKCS12_add_safes_ex(safes, 0, ctx, NULL));
	if (ok && !opts->no_mac)
		ok = PKCS12_set_mac(p12, opts->mac_pw ? opts->mac_pw : password, -1, NULL, 0,
		                    opts->mac_iter ? opts->mac_iter : 10000, EVP_sha256());
	if (ok && (der_len = i2d_PKCS12(p12, &der)) > 0 && (out = malloc((size_t)der_len))) {
		memcpy(out, der, (size_t)der_len);
		*len = (size_t)der_len;
	}
	if (!out) {
		fprintf(stderr, "testjava: building a PKCS#12 failed\n");
		ERR_print_errors_fp(stderr);
	}
	OPENSSL_free(der);
	PKCS12_free(p12);
	sk_PKCS7_pop_free(safes, PKCS7_free);
	sk_PKCS12_SAFEBAG_pop_free(keys, PKCS12_SAFEBAG_free);
	sk_PKCS12_SAFEBAG_pop_free(certs, PKCS12_SAFEBAG_free);
	OSSL_PROVIDER_unload(legacy);
	OSSL_PROVIDER_unload(deflt);
	OSSL_LIB_CTX_free(ctx);
	return out;
}

const char *pcp_testjava_write(const char *dir, const char *name, const unsigned char *buf,
                               size_t len)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (!(f = fopen(path, "wb")))
		return NULL;
	if (fwrite(buf, 1, len, f) != len) {
		fclose(f);
		return NULL;
	}
	return fclose(f) == 0 ? path : NULL;
}
