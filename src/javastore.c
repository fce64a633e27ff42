/* Java truststores read the way Java 17's default TrustManager reads them
 * (sun.security.ssl.TrustStoreManager, TrustStoreUtil): every trustedCertEntry is an
 * anchor, and so is the first certificate of every PrivateKeyEntry's chain (not the rest
 * of that chain). JKS is parsed here (sun.security.provider.JavaKeyStore's layout); PKCS#12
 * is decoded by OpenSSL, and the bags are matched to entries with PKCS12KeyStore's rules.
 * Every read is bounded by the buffer; key derivation by Java's iteration limit. */
#include "javastore.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* Far beyond any real truststore (the JDK's cacerts has about 150 entries); keeps the
 * alias and key-to-certificate matching, quadratic in Java too, cheap on hostile files. */
#define MAX_ENTRIES 10000

#define JKS_MAGIC   0xFEEDFEEDu
#define JCEKS_MAGIC 0xCECECECEu

/* Oracle's trusted-key-usage bag attribute: keytool marks trusted certificates with it,
 * and Java's PKCS12KeyStore takes only such certificate bags as trustedCertEntry. */
#define ORACLE_TRUSTED_KEY_USAGE "2.16.840.1.113894.746875.1.1"

static const unsigned char pkcs7_data_oid[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                               0xf7, 0x0d, 0x01, 0x07, 0x01};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Skips a DER/BER length at buf[*pos]; false when it is malformed or runs past len. */
static bool skip_der_len(const unsigned char *buf, size_t len, size_t *pos)
{
	unsigned n;

	if (*pos >= len)
		return false;
	if (buf[*pos] < 0x80 || buf[*pos] == 0x80) { /* short form, or BER indefinite */
		(*pos)++;
		return true;
	}
	n = buf[*pos] & 0x7f;
	if (n > 4)
		return false;
	*pos += 1 + n;
	return *pos <= len;
}

enum pcp_javastore_format pcp_javastore_detect(const unsigned char *buf, size_t len)
{
	size_t pos = 1;

	if (len > PCP_JAVASTORE_PROBE_LEN)
		len = PCP_JAVASTORE_PROBE_LEN;
	if (len >= 4 && be32(buf) == JKS_MAGIC)
		return PCP_JAVASTORE_JKS;
	if (len >= 4 && be32(buf) == JCEKS_MAGIC)
		return PCP_JAVASTORE_JCEKS;
	/* PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo { contentType data ...
	 * A DER certificate (SEQUENCE of SEQUENCE) never matches. */
	if (len < 1 || buf[0] != 0x30 || !skip_der_len(buf, len, &pos))
		return PCP_JAVASTORE_NONE;
	if (pos + 4 > len || memcmp(buf + pos, "\x02\x01\x03\x30", 4) != 0)
		return PCP_JAVASTORE_NONE;
	pos += 4;
	if (!skip_der_len(buf, len, &pos) || pos + sizeof pkcs7_data_oid > len ||
	    memcmp(buf + pos, pkcs7_data_oid, sizeof pkcs7_data_oid) != 0)
		return PCP_JAVASTORE_NONE;
	return PCP_JAVASTORE_PKCS12;
}

const char *pcp_javastore_format_name(enum pcp_javastore_format format)
{
	switch (format) {
	case PCP_JAVASTORE_JKS:
		return "JKS";
	case PCP_JAVASTORE_JCEKS:
		return "JCEKS";
	case PCP_JAVASTORE_PKCS12:
		return "PKCS#12";
	case PCP_JAVASTORE_NONE:
		break;
	}
	return "not a Java keystore";
}

void pcp_javastore_cleanup(struct pcp_javastore *js)
{
	if (!js)
		return;
	for (size_t i = 0; i < js->n_entries; i++) {
		free(js->entries[i].alias);
		X509_free(js->entries[i].anchor);
	}
	free(js->entries);
	memset(js, 0, sizeof *js);
}

/* ---- text: Java strings to UTF-8 ---- */

/* UTF-16 code units to NUL-terminated UTF-8. Unpaired surrogates and U+0000 (which Java
 * allows in an alias) become U+FFFD, so the alias is safe to print and compare. */
static char *utf16_to_utf8(const uint16_t *u, size_t n)
{
	char *out = malloc(3 * n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		uint32_t cp = u[i];

		if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < n && u[i + 1] >= 0xdc00 &&
		    u[i + 1] <= 0xdfff) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (u[++i] - 0xdc00);
			*o++ = (char)(0xf0 | cp >> 18);
			*o++ = (char)(0x80 | (cp >> 12 & 0x3f));
			*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
			*o++ = (char)(0x80 | (cp & 0x3f));
			continue;
		}
		if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
			cp = 0xfffd;
		if (cp < 0x80) {
			*o++ = (char)cp;
		} else if (cp < 0x800) {
			*o++ = (char)(0xc0 | cp >> 6);
			*o++ = (char)(0x80 | (cp & 0x3f));
		} else {
			*o++ = (char)(0xe0 | cp >> 12);
			*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
			*o++ = (char)(0x80 | (cp & 0x3f));
		}
	}
	*o = '\0';
	return out;
}

/* Java's DataInputStream.readUTF (modified UTF-8) into code units; false when malformed,
 * where Java throws UTFDataFormatException. u holds at least n units. */
static bool mutf8_decode(const unsigned char *s, size_t n, uint16_t *u, size_t *nu)
{
	size_t k = 0;

	for (size_t i = 0; i < n;) {
		unsigned c = s[i];

		if (c < 0x80) {
			u[k++] = (uint16_t)c;
			i++;
		} else if ((c >> 5) == 6) {
			if (i + 2 > n || (s[i + 1] & 0xc0) != 0x80)
				return false;
			u[k++] = (uint16_t)((c & 0x1f) << 6 | (s[i + 1] & 0x3f));
			i += 2;
		} else if ((c >> 4) == 14) {
			if (i + 3 > n || (s[i + 1] & 0xc0) != 0x80 || (s[i + 2] & 0xc0) != 0x80)
				return false;
			u[k++] = (uint16_t)((c & 0x0f) << 12 | (s[i + 1] & 0x3f) << 6 |
			                    (s[i + 2] & 0x3f));
			i += 3;
		} else {
			return false;
		}
	}
	*nu = k;
	return true;
}

/* The password as Java's char[]: strict UTF-8 to UTF-16 code units. *units is malloc'd
 * (cleanse before freeing). -1 when it is not UTF-8, -2 when out of memory. */
static int password_units(const char *pw, uint16_t **units, size_t *n)
{
	size_t len = strlen(pw), k = 0;
	uint16_t *u = malloc((len + 1) * sizeof *u);

	if (!u)
		return -2;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t step = pcp_utf8_decode((const unsigned char *)pw + i, len - i, &cp);

		if (!step) {
			OPENSSL_clear_free(u, (len + 1) * sizeof *u);
			return -1;
		}
		i += step;
		if (cp >= 0x10000) {
			u[k++] = (uint16_t)(0xd800 + ((cp - 0x10000) >> 10));
			u[k++] = (uint16_t)(0xdc00 + ((cp - 0x10000) & 0x3ff));
		} else {
			u[k++] = (uint16_t)cp;
		}
	}
	*units = u;
	*n = k;
	return 0;
}

/* ---- entries ---- */

struct parse {
	struct pcp_javastore *out;
	struct pcp_error *err;
	const char *password; /* NULL: none */
	unsigned long max_iter;
	bool fold_case; /* PKCS#12 keys its entries by lower-cased alias, JKS by the alias */
	size_t cap;
};

static enum pcp_errc nomem(struct parse *ps)
{
	return pcp_error_set(ps->err, PCP_ERR_SYSTEM, "out of memory");
}

/* Appends an entry; takes alias and anchor (also on failure). */
static enum pcp_errc add_entry(struct parse *ps, char *alias, enum pcp_javastore_kind kind,
                               X509 *anchor)
{
	struct pcp_javastore *js = ps->out;

	if (js->n_entries == ps->cap) {
		size_t ncap = ps->cap ? 2 * ps->cap : 16;
		struct pcp_javastore_entry *grown = realloc(js->entries, ncap * sizeof *grown);

		if (!grown) {
			free(alias);
			X509_free(anchor);
			return nomem(ps);
		}
		js->entries = grown;
		ps->cap = ncap;
	}
	js->entries[js->n_entries++] = (struct pcp_javastore_entry){alias, kind, anchor};
	return PCP_OK;
}

static int ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Java lower-cases with Locale.ENGLISH: for ASCII aliases, which keytool writes, this is
 * the same; other letters are compared as they are. */
static int alias_cmp(const char *a, const char *b, bool fold)
{
	if (!fold)
		return strcmp(a, b);
	for (;; a++, b++) {
		int x = ascii_lower((unsigned char)*a), y = ascii_lower((unsigned char)*b);

		if (x != y || !x)
			return x - y;
	}
}

struct dedup_ctx {
	const struct pcp_javastore_entry *entries;
	bool fold;
};

/* qsort has no context argument: sort indices through a small array of pointers. */
struct dedup_item {
	const struct dedup_ctx *ctx;
	size_t index;
};

static int dedup_cmp(const void *pa, const void *pb)
{
	const struct dedup_item *a = pa, *b = pb;
	int c = alias_cmp(a->ctx->entries[a->index].alias, b->ctx->entries[b->index].alias,
	                  a->ctx->fold);

	if (c)
		return c;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* Java keeps entries in a map: an alias read again replaces the earlier entry. Keeps the
 * last entry of every alias, in file order. */
static enum pcp_errc dedup(struct parse *ps)
{
	struct pcp_javastore *js = ps->out;
	struct dedup_ctx ctx = {js->entries, ps->fold_case};
	struct dedup_item *items;
	bool *dropped;
	size_t k = 0;

	if (js->n_entries < 2)
		return PCP_OK;
	items = malloc(js->n_entries * sizeof *items);
	dropped = calloc(js->n_entries, sizeof *dropped);
	if (!items || !dropped) {
		free(items);
		free(dropped);
		return nomem(ps);
	}
	for (size_t i = 0; i < js->n_entries; i++)
		items[i] = (struct dedup_item){&ctx, i};
	qsort(items, js->n_entries, sizeof *items, dedup_cmp);
	for (size_t i = 0; i + 1 < js->n_entries; i++)
		if (alias_cmp(js->entries[items[i].index].alias,
		              js->entries[items[i + 1].index].alias, ps->fold_case) == 0)
			dropped[items[i].index] = true;
	for (size_t i = 0; i < js->n_entries; i++) {
		if (dropped[i]) {
			free(js->entries[i].alias);
			X509_free(js->entries[i].anchor);
		} else {
			js->entries[k++] = js->entries[i];
		}
	}
	js->n_entries = k;
	free(items);
	free(dropped);
	return PCP_OK;
}

/* ---- JKS ---- */

struct cursor {
	const unsigned char *p;
	size_t len, pos;
};

static bool take(struct cursor *c, size_t n, const unsigned char **out)
{
	if (n > c->len - c->pos)
		return false;
	*out = c->p + c->pos;
	c->pos += n;
	return true;
}

static bool take_u32(struct cursor *c, uint32_t *v)
{
	const unsigned char *p;

	if (!take(c, 4, &p))
		return false;
	*v = be32(p);
	return true;
}

/* A length written by DataOutputStream.writeInt: Java refuses negative ones. */
static bool take_len(struct cursor *c, size_t *n)
{
	uint32_t v;

	if (!take_u32(c, &v) || v > INT32_MAX)
		return false;
	*n = v;
	return true;
}

/* A readUTF string, decoded to UTF-8 (malloc'd) in *out. */
static enum pcp_errc take_utf(struct parse *ps, struct cursor *c, size_t entry, char **out)
{
	const unsigned char *p;
	uint16_t *u;
	size_t n, nu;

	if (!take(c, 2, &p))
		goto truncated;
	n = (size_t)p[0] << 8 | p[1];
	if (!take(c, n, &p))
		goto truncated;
	if (!(u = malloc((n + 1) * sizeof *u)))
		return nomem(ps);
	if (!mutf8_decode(p, n, u, &nu)) {
		free(u);
		return pcp_error_set(ps->err, PCP_ERR_CONFIG,
		                     "JKS entry %zu: malformed string (modified UTF-8)", entry + 1);
	}
	*out = utf16_to_utf8(u, nu);
	free(u);
	return *out ? PCP_OK : nomem(ps);
truncated:
	return pcp_error_set(ps->err, PCP_ERR_CONFIG, "JKS: truncated in entry %zu", entry + 1);
}

/* One certificate: its type (version 2) and DER bytes. *cert may be NULL to only check
 * it, as Java parses every certificate of a chain. */
static enum pcp_errc jks_cert(struct parse *ps, struct cursor *c, uint32_t version, size_t entry,
                              const char *alias, X509 **cert)
{
	const unsigned char *der, *p;
	size_t n;
	X509 *x;

	if (version == 2) {
		char *type = NULL;
		enum pcp_errc rc = take_utf(ps, c, entry, &type);
		bool x509;

		if (rc)
			return rc;
		/* "X.509" and its alias "X509" name the only certificate factory Java has. */
		x509 = strcmp(type, "X.509") == 0 || strcmp(type, "X509") == 0;
		free(type);
		if (!x509)
			return pcp_error_set(
			        ps->err, PCP_ERR_CONFIG,
			        "JKS entry %zu ('%.64s'): certificate type is not X.509", entry + 1,
			        alias);
	}
	if (!take_len(c, &n) || !take(c, n, &der))
		return pcp_error_set(ps->err, PCP_ERR_CONFIG,
		                     "JKS: truncated in entry %zu ('%.64s')", entry + 1, alias);
	p = der;
	ERR_clear_error();
	if (n > LONG_MAX || !(x = d2i_X509(NULL, &p, (long)n))) {
		ERR_clear_error();
		return pcp_error_set(ps->err, PCP_ERR_CONFIG,
		                     "JKS entry %zu ('%.64s'): certificate does not parse",
		                     entry + 1, alias);
	}
	ps->out->n_certs++;
	if (cert)
		*cert = x;
	else
		X509_free(x);
	return PCP_OK;
}

/* One entry: tag, alias, date, then a private key and its chain (1) or a certificate (2). */
static enum pcp_errc jks_entry(struct parse *ps, struct cursor *c, uint32_t version, size_t i)
{
	const unsigned char *p;
	uint32_t tag, n_chain;
	char *alias = NULL;
	X509 *anchor = NULL;
	size_t keylen;
	enum pcp_errc rc;

	if (!take_u32(c, &tag))
		return pcp_error_set(ps->err, PCP_ERR_CONFIG, "JKS: truncated in entry %zu", i + 1);
	if (tag != 1 && tag != 2)
		return pcp_error_set(ps->err, PCP_ERR_CONFIG,
		                     "JKS entry %zu: unknown entry type %u", i + 1, (unsigned)tag);
	if ((rc = take_utf(ps, c, i, &alias)))
		return rc;
	if (!take(c, 8, &p)) /* creation date */
		goto truncated;
	if (tag == 2) {
		if ((rc = jks_cert(ps, c, version, i, alias, &anchor))) {
			free(alias);
			return rc;
		}
		return add_entry(ps, alias, PCP_JAVASTORE_TRUSTED_CERT, anchor);
	}
	/* The key is protected with Sun's own algorithm; only its chain matters here. */
	if (!take_len(c, &keylen) || !take(c, keylen, &p) || !take_u32(c, &n_chain))
		goto truncated;
	/* A negative count is an empty chain to Java (numOfCerts > 0 is false). */
	for (uint32_t j = 0; n_chain <= INT32_MAX && j < n_chain; j++) {
		if ((rc = jks_cert(ps, c, version, i, alias, j == 0 ? &anchor : NULL))) {
			X509_free(anchor);
			free(alias);
			return rc;
		}
	}
	return add_entry(ps, alias, PCP_JAVASTORE_PRIVATE_KEY, anchor);
truncated:
	rc = pcp_error_set(ps->err, PCP_ERR_CONFIG, "JKS: truncated in entry %zu ('%.64s')", i + 1,
	                   alias);
	free(alias);
	return rc;
}

/* The keyed digest that ends a JKS file: SHA-1 over the password's UTF-16BE bytes, the
 * bytes of "Mighty Aphrodite", and everything before the digest. */
static enum pcp_errc jks_check_digest(struct parse *ps, struct cursor *c)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	const unsigned char *stored;
	uint16_t *units = NULL;
	unsigned char *bytes = NULL;
	size_t n = 0;
	EVP_MD_CTX *ctx = NULL;
	enum pcp_errc rc = PCP_OK;
	int pr = password_units(ps->password, &units, &n);

	if (pr == -1)
		return pcp_error_set(ps->err, PCP_ERR_CONFIG, "JKS: the password is not UTF-8");
	if (pr < 0)
		return nomem(ps);
	if (!(bytes = malloc(2 * n + 1))) {
		rc = nomem(ps);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		bytes[2 * i] = (unsigned char)(units[i] >> 8);
		bytes[2 * i + 1] = (unsigned char)units[i];
	}
	ERR_clear_error();
	if (!(ctx = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) ||
	    !EVP_DigestUpdate(ctx, bytes, 2 * n) ||
	    !EVP_DigestUpdate(ctx, "Mighty Aphrodite", 16) ||
	    !EVP_DigestUpdate(ctx, c->p, c->pos) || !EVP_DigestFinal_ex(ctx, md, &mdlen)) {
		rc = pcp_error_set(ps->err, PCP_ERR_SYSTEM, "JKS: SHA-1");
		pcp_error_append_openssl(ps->err);
		goto out;
	}
	if (!take(c, mdlen, &stored))
		rc = pcp_error_set(ps->err, PCP_ERR_CONFIG,
		                   "JKS: truncated: the integrity digest is missing");
	else if (CRYPTO_memcmp(md, stored, mdlen) != 0)
		rc = pcp_error_set(ps->err, PCP_ERR_CONFIG,
		                   "JKS: wrong password, or the store was altered (the integrity "
		                   "digest does not match)");
	else
		ps->out->integrity_checked = true;
out:
	EVP_MD_CTX_free(ctx);
	if (bytes)
		OPENSSL_clear_free(bytes, 2 * n + 1);
	if (units)
		OPENSSL_clear_free(units, (strlen(ps->password) + 1) * sizeof *units);
	return rc;
}

static enum pcp_errc parse_jks(struct parse *ps, const unsigned char *buf, size_t len)
{
	struct cursor c = {buf, len, 0};
	uint32_t magic, version, count;
	enum pcp_errc rc;

	if (!take_u32(&c, &magic) || !take_u32(&c, &version) || !take_u32(&c, &count))
		return pcp_error_set(ps->err, PCP_ERR_CONFIG, "JKS: truncated header");
	if (version != 1 && version != 2)
		return pcp_error_set(ps->err, PCP_ERR_CONFIG, "JKS: unknown version %u",
		                     (unsigned)version);
	/* Java reads the count as a signed int: a negative one means no entries. */
	if (count > INT32_MAX)
		count = 0;
	if (count > MAX_ENTRIES)
		return pcp_error_set(ps->err, PCP_ERR_CONFIG, "JKS: %u entries, more than %d",
		                     (unsigned)count, MAX_ENTRIES);
	for (uint32_t i = 0; i < count; i++)
		if ((rc = jks_entry(ps, &c, version, i)))
			return rc;
	/* Without a password Java does not even read the digest. */
	if (ps->password && (rc = jks_check_digest(ps, &c)))
		return rc;
	return PCP_OK;
}

/* ---- PKCS#12 ---- */

/* A certificate bag that is not a trusted entry: a candidate for a private key's chain. */
struct p12_cert {
	X509 *cert;                /* owned */
	ASN1_OCTET_STRING *key_id; /* owned or NULL */
	char *alias;               /* owned or NULL */
};

/* A PrivateKeyEntry awaiting its certificate: entries[entry] is it. */
struct p12_key {
	size_t entry;
	ASN1_OCTET_STRING *key_id; /* owned */
};

struct p12 {
	struct p12_cert *certs;
	size_t n_certs, cap_certs;
	struct p12_key *keys;
	size_t n_keys, cap_keys;
	size_t private_keys;   /* shrouded key bags seen so far */
	unsigned long counter; /* Java's getUnfriendlyName: "1", "2", ... */
	size_t bags;
	OSSL_LIB_CTX *legacy; /* created only when an encryption needs the legacy provider */
	OSSL_PROVIDER *legacy_prov, *default_prov;
};

static void p12_cleanup(struct p12 *st)
{
	for (size_t i = 0; i < st->n_certs; i++) {
		X509_free(st->certs[i].cert);
		ASN1_OCTET_STRING_free(st->certs[i].key_id);
		free(st->certs[i].alias);
	}
	free(st->certs);
	for (size_t i = 0; i < st->n_keys; i++)
		ASN1_OCTET_STRING_free(st->keys[i].key_id);
	free(st->keys);
	OSSL_PROVIDER_unload(st->legacy_prov);
	OSSL_PROVIDER_unload(st->default_prov);
	OSSL_LIB_CTX_free(st->legacy);
}

static bool grow(void **items, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *grown;

	if (n < *cap)
		return true;
	ncap = *cap ? 2 * *cap : 16;
	if (!(grown = realloc(*items, ncap * size)))
		return false;
	*items = grown;
	*cap = ncap;
	return true;
}

/* The bag attributes Java reads: friendlyName (a BMPString), localKeyID (an OCTET STRING)
 * and Oracle's trusted key usage (its presence). */
struct bag_attrs {
	char *alias;                     /* owned or NULL */
	const ASN1_OCTET_STRING *key_id; /* borrowed from the bag, or NULL */
	bool trusted;
};

static enum pcp_errc bag_attrs(struct parse *ps, const PKCS12_SAFEBAG *bag, size_t bagno,
                               struct bag_attrs *a)
{
	const STACK_OF(X509_ATTRIBUTE) *attrs = PKCS12_SAFEBAG_get0_attrs(bag);
	ASN1_OBJECT *trusted = OBJ_txt2obj(ORACLE_TRUSTED_KEY_USAGE, 1);
	enum pcp_errc rc = PCP_OK;

	if (!trusted)
		return nomem(ps);
	for (int i = 0; i < sk_X509_ATTRIBUTE_num(attrs); i++) {
		X509_ATTRIBUTE *attr = sk_X509_ATTRIBUTE_value(attrs, i);
		const ASN1_OBJECT *obj = X509_ATTRIBUTE_get0_object(attr);
		int nid = OBJ_obj2nid(obj);
		ASN1_TYPE *v = X509_ATTRIBUTE_get0_type(attr, 0);

		if (OBJ_cmp(obj, trusted) == 0) {
			for (int k = 0; k < X509_ATTRIBUTE_count(attr); k++)
				if (ASN1_TYPE_get(X509_ATTRIBUTE_get0_type(attr, k)) !=
				    V_ASN1_OBJECT)
					goto bad;
			a->trusted = true;
		} else if (nid == NID_friendlyName) {
			const ASN1_STRING *s;
			const unsigned char *d;
			uint16_t *u;
			size_t n;

			if (!v || ASN1_TYPE_get(v) != V_ASN1_BMPSTRING)
				goto bad;
			free(a->alias); /* the last one counts, as in Java */
			a->alias = NULL;
			s = v->value.bmpstring;
			d = ASN1_STRING_get0_data(s);
			n = (size_t)ASN1_STRING_length(s) / 2;
			if (!(u = malloc((n + 1) * sizeof *u))) {
				rc = nomem(ps);
				break;
			}
			for (size_t k = 0; k < n; k++)
				u[k] = (uint16_t)(d[2 * k] << 8 | d[2 * k + 1]);
			a->alias = utf16_to_utf8(u, n);
			free(u);
			if (!a->alias) {
				rc = nomem(ps);
				break;
			}
		} else if (nid == NID_localKeyID) {
			if (!v || ASN1_TYPE_get(v) != V_ASN1_OCTET_STRING)
				goto bad;
			a->key_id = v->value.octet_string;
		}
	}
	ASN1_OBJECT_free(trusted);
	return rc;
bad:
	ASN1_OBJECT_free(trusted);
	return pcp_error_set(ps->err, PCP_ERR_CONFIG,
	                     "PKCS#12 bag %zu: malformed attribute (friendlyName, localKeyID or "
	                     "trusted key usage)",
	                     bagno);
}

static char *unfriendly_name(struct p12 *st)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%lu", ++st->counter);
	return strdup(buf);
}

static ASN1_OCTET_STRING *key_id_of(const char *literal, const ASN1_OCTET_STRING *given)
{
	ASN1_OCTET_STRING *id;

	if (given)
		return ASN1_OCTET_STRING_dup(given);
	if ((id = ASN1_OCTET_STRING_new()) &&
	    !ASN1_OCTET_STRING_set(id, (const unsigned char *)literal, (int)strlen(literal))) {
		ASN1_OCTET_STRING_free(id);
		id = NULL;
	}
	return id;
}

/* One SafeContents, bag by bag, as PKCS12KeyStore.loadSafeContents. */
static enum pcp_errc p12_bags(struct parse *ps, struct p12 *st,
                              const STACK_OF(PKCS12_SAFEBAG) * bags)
{
	for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); i++) {
		const PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, i);
		int nid = PKCS12_SAFEBAG_get_nid(bag);
		struct bag_attrs a = {0};
		enum pcp_errc rc;
		X509 *cert = NULL;
		bool key = nid == NID_pkcs8ShroudedKeyBag, secret = nid == NID_secretBag;

		if (++st->bags > MAX_ENTRIES)
			return pcp_error_set(ps->err, PCP_ERR_CONFIG, "PKCS#12: more than %d bags",
			                     MAX_ENTRIES);
		if (key)
			st->private_keys++;
		if (nid == NID_certBag) {
			if (PKCS12_SAFEBAG_get_bag_nid(bag) != NID_x509Certificate)
				return pcp_error_set(ps->err, PCP_ERR_CONFIG,
				                     "PKCS#12 bag %zu: not an X.509 certificate",
				                     st->bags);
			ERR_clear_error();
			if (!(cert = PKCS12_SAFEBAG_get1_cert(bag))) {
				ERR_clear_error();
				return pcp_error_set(ps->err, PCP_ERR_CONFIG,
				                     "PKCS#12 bag %zu: certificate does not parse",
				                     st->bags);
			}
			ps->out->n_certs++;
		}
		if ((rc = bag_attrs(ps, bag, st->bags, &a))) {
			X509_free(cert);
			free(a.alias);
			return rc;
		}
		if (key || secret) {
			ASN1_OCTET_STRING *id = NULL;

			/* Java's workaround: the only private key may lack its localKeyID;
			 * any other key without one is dropped. */
			if (!a.key_id && key && st->private_keys != 1) {
				free(a.alias);
				continue;
			}
			if (!a.alias && !(a.alias = unfriendly_name(st)))
				return nomem(ps);
			if (key) {
				if (!grow((void **)&st->keys, &st->cap_keys, st->n_keys,
				          sizeof *st->keys) ||
				    !(id = key_id_of("01", a.key_id))) {
					free(a.alias);
					return nomem(ps);
				}
				st->keys[st->n_keys++] = (struct p12_key){ps->out->n_entries, id};
			}
			if ((rc = add_entry(ps, a.alias,
			                    key ? PCP_JAVASTORE_PRIVATE_KEY
			                        : PCP_JAVASTORE_SECRET_KEY,
			                    NULL)))
				return rc;
			continue;
		}
		if (!cert) { /* keyBag, crlBag, nested safeContents: Java skips them */
			free(a.alias);
			continue;
		}
		if (a.trusted) {
			if (!a.alias && !(a.alias = unfriendly_name(st))) {
				X509_free(cert);
				return nomem(ps);
			}
			if ((rc = add_entry(ps, a.alias, PCP_JAVASTORE_TRUSTED_CERT, cert)))
				return rc;
			continue;
		}
		if (!grow((void **)&st->certs, &st->cap_certs, st->n_certs, sizeof *st->certs)) {
			X509_free(cert);
			free(a.alias);
			return nomem(ps);
		}
		st->certs[st->n_certs] = (struct p12_cert){cert, NULL, a.alias};
		/* The same workaround on the certificate side: the first bag of its
		 * SafeContents pairs with the only private key. */
		if (a.key_id || (st->private_keys == 1 && i == 0)) {
			if (!(st->certs[st->n_certs].key_id = key_id_of("01", a.key_id))) {
				st->n_certs++;
				return nomem(ps);
			}
		}
		st->n_certs++;
	}
	return PCP_OK;
}

/* The iteration count of a password-based encryption (PBES1/PKCS#12 PBE or PBES2 with
 * PBKDF2), checked against the limit before any key is derived. */
static enum pcp_errc p12_check_pbe(struct parse *ps, const X509_ALGOR *alg)
{
	const ASN1_OBJECT *oid;
	const void *param;
	int ptype;
	const ASN1_INTEGER *iter = NULL;
	PBEPARAM *pbe = NULL;
	PBE2PARAM *pbe2 = NULL;
	PBKDF2PARAM *kdf = NULL;
	int64_t n = -1;
	enum pcp_errc rc = PCP_OK;

	X509_ALGOR_get0(&oid, &ptype, &param, alg);
	if (ptype != V_ASN1_SEQUENCE)
		goto bad;
	if (OBJ_obj2nid(oid) == NID_pbes2) {
		const ASN1_OBJECT *kdf_oid;
		int kdf_type;
		const void *kdf_param;

		if (!(pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM),
		                                       (const ASN1_TYPE *)alg->parameter)))
			goto bad;
		X509_ALGOR_get0(&kdf_oid, &kdf_type, &kdf_param, pbe2->keyfunc);
		/* Java's PBES2 knows PBKDF2 only. */
		if (OBJ_obj2nid(kdf_oid) != NID_id_pbkdf2 || kdf_type != V_ASN1_SEQUENCE ||
		    !(kdf = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM),
		                                      pbe2->keyfunc->parameter)))
			goto bad;
		iter = kdf->iter;
	} else {
		if (!(pbe = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM),
		                                      (const ASN1_TYPE *)alg->parameter)))
			goto bad;
		iter = pbe->iter;
	}
	if (!iter || !ASN1_INTEGER_get_int64(&n, iter) || n < 1)
		goto bad;
	if ((uint64_t)n > ps->max_iter)
		rc = pcp_error_set(
		        ps->err, PCP_ERR_CONFIG,
		        "PKCS#12: encryption iteration count %lld above Java's limit %lu",
		        (long long)n, ps->max_iter);
	goto out;
bad:
	rc = pcp_error_set(ps->err, PCP_ERR_CONFIG,
	                   "PKCS#12: unsupported or malformed encryption parameters");
out:
	PBEPARAM_free(pbe);
	PBE2PARAM_free(pbe2);
	PBKDF2PARAM_free(kdf);
	ERR_clear_error();
	return rc;
}

/* OpenSSL's legacy provider, for the RC2-40 that keytool used for certificates before
 * Java 8u301 and 11.0.12: in a library context of our own, so the process's default
 * context never gains the legacy algorithms. */
static bool load_legacy(struct p12 *st)
{
	if (st->legacy)
		return true;
	if (!(st->legacy = OSSL_LIB_CTX_new()))
		return false;
	st->legacy_prov = OSSL_PROVIDER_load(st->legacy, "legacy");
	st->default_prov = OSSL_PROVIDER_load(st->legacy, "default");
	return st->legacy_prov && st->default_prov;
}

static enum pcp_errc p12_encrypted(struct parse *ps, struct p12 *st, PKCS7 *p7)
{
	STACK_OF(PKCS12_SAFEBAG) * bags;
	PKCS7_ENC_CONTENT *enc;
	enum pcp_errc rc;
	char reason[128] = "";

	/* Java requires the encrypted content to be present. */
	if (!p7->d.encrypted || !(enc = p7->d.encrypted->enc_data) || !enc->algorithm ||
	    !enc->enc_data)
		return pcp_error_set(ps->err, PCP_ERR_CONFIG, "PKCS#12: encrypted data is empty");
	if ((rc = p12_check_pbe(ps, enc->algorithm)))
		return rc;
	ERR_clear_error();
	bags = PKCS12_unpack_p7encdata(p7, ps->password, -1);
	if (!bags) {
		unsigned long e = ERR_peek_last_error();

		if (e)
			snprintf(reason, sizeof reason, ": %s", ERR_reason_error_string(e));
		ERR_clear_error();
		if (load_legacy(st))
			bags = PKCS12_item_decrypt_d2i_ex(
			        enc->algorithm, ASN1_ITEM_rptr(PKCS12_SAFEBAGS), ps->password, -1,
			        enc->enc_data, 1, st->legacy, NULL);
		ERR_clear_error();
	}
	if (!bags)
		return pcp_error_set(
		        ps->err, PCP_ERR_CONFIG,
		        "PKCS#12: cannot decrypt the certificates (wrong password, or a "
		        "damaged store)%s",
		        reason);
	rc = p12_bags(ps, st, bags);
	sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	return rc;
}

/* The MAC over the authenticated safe: a wrong password shows here first. */
static enum pcp_errc p12_check_mac(struct parse *ps, PKCS12 *p12)
{
	const ASN1_INTEGER *iter = NULL;
	int64_t n = 1;

	PKCS12_get0_mac(NULL, NULL, NULL, &iter, p12);
	if (iter && (!ASN1_INTEGER_get_int64(&n, iter) || n < 1))
		return pcp_error_set(ps->err, PCP_ERR_CONFIG,
		                     "PKCS#12: malformed MAC iteration count");
	if ((uint64_t)n > ps->max_iter)
		return pcp_error_set(ps->err, PCP_ERR_CONFIG,
		                     "PKCS#12: MAC iteration count %lld above Java's limit %lu",
		                     (long long)n, ps->max_iter);
	ERR_clear_error();
	if (PKCS12_verify_mac(p12, ps->password, -1)) {
		ps->out->integrity_checked = true;
		return PCP_OK;
	}
	/* A mismatch leaves no error queued; a MAC that cannot be computed does. */
	if (ERR_peek_error()) {
		pcp_error_set(ps->err, PCP_ERR_CONFIG, "PKCS#12: cannot verify the MAC");
		pcp_error_append_openssl(ps->err);
		return PCP_ERR_CONFIG;
	}
	return pcp_error_set(ps->err, PCP_ERR_CONFIG,
	                     "PKCS#12: wrong password, or the store was altered (the MAC does "
	                     "not verify)");
}

/* The certificate PKCS12KeyStore.findMatchedCertificate pairs with a key: one with the
 * same localKeyID and alias, else the last with the same localKeyID, else the last with
 * the same alias (case-insensitive). */
static const struct p12_cert *p12_match(const struct p12 *st, const struct p12_key *k,
                                        const char *alias)
{
	const struct p12_cert *by_id = NULL, *by_alias = NULL;

	for (size_t i = 0; i < st->n_certs; i++) {
		const struct p12_cert *c = &st->certs[i];
		bool same_alias = c->alias && alias_cmp(alias, c->alias, true) == 0;

		if (c->key_id && ASN1_OCTET_STRING_cmp(c->key_id, k->key_id) == 0) {
			if (same_alias)
				return c;
			by_id = c;
		} else if (same_alias) {
			by_alias = c;
		}
	}
	return by_id ? by_id : by_alias;
}

static enum pcp_errc parse_p12(struct parse *ps, const unsigned char *buf, size_t len)
{
	const unsigned char *p = buf;
	PKCS12 *p12 = NULL;
	STACK_OF(PKCS7) *safes = NULL;
	struct p12 st = {0};
	enum pcp_errc rc = PCP_OK;

	ERR_clear_error();
	if (len > LONG_MAX || !(p12 = d2i_PKCS12(NULL, &p, (long)len))) {
		rc = pcp_error_set(ps->err, PCP_ERR_CONFIG, "PKCS#12: damaged (does not decode)");
		goto out;
	}
	/* Java checks the MAC only when given a password: without one it cannot fail. */
	if (ps->password && PKCS12_mac_present(p12) && (rc = p12_check_mac(ps, p12)))
		goto out;
	if (!(safes = PKCS12_unpack_authsafes(p12))) {
		rc = pcp_error_set(ps->err, PCP_ERR_CONFIG, "PKCS#12: damaged authenticated safe");
		goto out;
	}
	for (int i = 0; i < sk_PKCS7_num(safes) && !rc; i++) {
		PKCS7 *p7 = sk_PKCS7_value(safes, i);
		STACK_OF(PKCS12_SAFEBAG) * bags;

		switch (OBJ_obj2nid(p7->type)) {
		case NID_pkcs7_data:
			if (!p7->d.data || !(bags = PKCS12_unpack_p7data(p7))) {
				rc = pcp_error_set(ps->err, PCP_ERR_CONFIG,
				                   "PKCS#12: damaged safe contents");
				break;
			}
			rc = p12_bags(ps, &st, bags);
			sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
			break;
		case NID_pkcs7_encrypted:
			/* Java skips what it cannot decrypt: the certificates are lost. */
			if (!ps->password)
				ps->out->skipped_encrypted = true;
			else
				rc = p12_encrypted(ps, &st, p7);
			break;
		default:
			rc = pcp_error_set(
			        ps->err, PCP_ERR_CONFIG,
			        "PKCS#12: public-key protected contents are not supported "
			        "(nor by Java)");
		}
	}
	/* Each private key's anchor: the first certificate of its chain. */
	for (size_t i = 0; !rc && i < st.n_keys; i++) {
		struct pcp_javastore_entry *e = &ps->out->entries[st.keys[i].entry];
		const struct p12_cert *c = p12_match(&st, &st.keys[i], e->alias);

		if (c) {
			if (!X509_up_ref(c->cert))
				rc = nomem(ps);
			else
				e->anchor = c->cert;
		}
	}
out:
	ERR_clear_error();
	sk_PKCS7_pop_free(safes, PKCS7_free);
	PKCS12_free(p12);
	p12_cleanup(&st);
	return rc;
}

enum pcp_errc pcp_javastore_parse(const unsigned char *buf, size_t len,
                                  const struct pcp_javastore_opts *opts, struct pcp_javastore *out,
                                  struct pcp_error *err)
{
	struct parse ps = {.out = out, .err = err};
	enum pcp_errc rc;

	memset(out, 0, sizeof *out);
	ps.password = opts && opts->password && *opts->password ? opts->password : NULL;
	ps.max_iter =
	        opts && opts->max_iterations ? opts->max_iterations : PCP_JAVASTORE_MAX_ITERATIONS;
	out->format = pcp_javastore_detect(buf, len);
	switch (out->format) {
	case PCP_JAVASTORE_JKS:
		rc = parse_jks(&ps, buf, len);
		break;
	case PCP_JAVASTORE_PKCS12:
		ps.fold_case = true;
		rc = parse_p12(&ps, buf, len);
		break;
	case PCP_JAVASTORE_JCEKS:
		return pcp_error_set(
		        err, PCP_ERR_CONFIG,
		        "JCEKS keystore: not supported (Java's default truststore type "
		        "cannot read it either); convert it with keytool "
		        "-importkeystore -deststoretype pkcs12");
	default:
		return pcp_error_set(err, PCP_ERR_CONFIG, "not a PKCS#12 or JKS keystore");
	}
	if (rc == PCP_OK)
		rc = dedup(&ps);
	for (size_t i = 0; rc == PCP_OK && i < out->n_entries; i++)
		out->n_anchors += out->entries[i].anchor != NULL;
	return rc;
}
