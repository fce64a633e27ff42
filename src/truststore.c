/* Named trust stores loaded once, before the loop starts: a PEM bundle (certificates and
 * CRLs, as SSL_CTX_load_verify_locations reads it), every file of a directory, or the
 * trust anchors of a Java truststore (javastore), all in memory. No lazy lookup method is
 * installed, so verification never touches the disk. */
#include "truststore.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chain.h"
#include "javastore.h"

/* Store files are read whole into memory: far above any real one (the JDK's cacerts is
 * about 200 KB, a system CA bundle about the same). */
#define STORE_MAX_BYTES ((size_t)32 << 20)

/* Longest password line read from a password file. */
#define PASSWORD_MAX 4096

/* The whole file into *buf (malloc'd), at most max bytes. */
static enum pcp_errc read_capped(const char *name, const char *path, size_t max,
                                 unsigned char **buf, size_t *len, struct pcp_error *err)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b = NULL;
	size_t n = 0, cap = 0;
	enum pcp_errc rc = PCP_OK;

	if (!f)
		return pcp_error_set(err, PCP_ERR_CONFIG, "store %s: %s: %s", name, path,
		                     strerror(errno));
	for (;;) {
		size_t got;

		if (n > max) {
			rc = pcp_error_set(err, PCP_ERR_CONFIG, "store %s: %s: larger than %zu MiB",
			                   name, path, max >> 20);
			break;
		}
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 64 * 1024;
			unsigned char *grown = realloc(b, ncap);

			if (!grown) {
				rc = pcp_error_set(err, PCP_ERR_SYSTEM, "store %s: out of memory",
				                   name);
				break;
			}
			b = grown;
			cap = ncap;
		}
		if (!(got = fread(b + n, 1, cap - n, f)))
			break;
		n += got;
	}
	if (!rc && ferror(f))
		rc = pcp_error_set(err, PCP_ERR_CONFIG, "store %s: %s: %s", name, path,
		                   strerror(errno));
	fclose(f);
	if (rc) {
		free(b);
		return rc;
	}
	*buf = b;
	*len = n;
	return PCP_OK;
}

/* Adds every certificate and CRL of the PEM text in buf (read from path); returns how
 * many certificates it held, or -1 (err set) when it is not valid PEM. */
static int load_pem(X509_STORE *store, const char *name, const char *path, const unsigned char *buf,
                    size_t len, struct pcp_error *err)
{
	STACK_OF(X509_INFO) *infos = NULL;
	BIO *in;
	int count = -1;

	ERR_clear_error();
	if (len > INT_MAX || !(in = BIO_new_mem_buf(buf, (int)len))) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "store %s: %s: out of memory", name, path);
		return -1;
	}
	/* The reader libpq's X509_load_cert_crl_file uses: certificates, trusted
	 * certificates and CRLs; other blocks (keys, parameters) are skipped. */
	if (!(infos = PEM_X509_INFO_read_bio(in, NULL, NULL, ""))) {
		pcp_error_set(err, PCP_ERR_CONFIG, "store %s: %s: broken PEM", name, path);
		pcp_error_append_openssl(err);
		goto out;
	}
	count = 0;
	for (int i = 0; i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *xi = sk_X509_INFO_value(infos, i);

		ERR_clear_error();
		if (xi->x509) {
			if (!X509_STORE_add_cert(store, xi->x509))
				goto add_failed;
			count++;
		}
		if (xi->crl) {
			if (!X509_STORE_add_crl(store, xi->crl))
				goto add_failed;
		}
	}
	goto out;
add_failed:
	pcp_error_set(err, PCP_ERR_SYSTEM, "store %s: %s", name, path);
	pcp_error_append_openssl(err);
	count = -1;
out:
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	BIO_free(in);
	return count;
}

/* load_pem on one file of a directory. */
static int load_file(X509_STORE *store, const char *name, const char *path, struct pcp_error *err)
{
	unsigned char *buf;
	size_t len;
	int count;

	if (read_capped(name, path, STORE_MAX_BYTES, &buf, &len, err))
		return -1;
	count = load_pem(store, name, path, buf, len, err);
	free(buf);
	return count;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads every regular file of a directory (in name order, for reproducible runs). Files
 * that are not PEM certificates are skipped quietly, as OpenSSL's by_dir would. */
static int load_dir(X509_STORE *store, const char *name, const char *path, struct pcp_error *err)
{
	DIR *dir = opendir(path);
	struct dirent *de;
	char **files = NULL;
	size_t n = 0, cap = 0;
	int rc = -1;

	if (!dir) {
		pcp_error_set(err, PCP_ERR_CONFIG, "store %s: %s: %s", name, path, strerror(errno));
		return -1;
	}
	for (;;) {
		errno = 0;
		if (!(de = readdir(dir)))
			break;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 32;
			char **grown = realloc(files, ncap * sizeof *files);

			if (!grown)
				goto nomem;
			files = grown;
			cap = ncap;
		}
		if (!(files[n] = strdup(de->d_name)))
			goto nomem;
		n++;
	}
	if (errno) {
		pcp_error_set(err, PCP_ERR_CONFIG, "store %s: %s: %s", name, path, strerror(errno));
		goto out;
	}
	if (n)
		qsort(files, n, sizeof *files, cmp_names);
	for (size_t i = 0; i < n; i++) {
		struct pcp_error ignored = {0};
		struct stat st;
		char *full;
		size_t len = strlen(path) + strlen(files[i]) + 2;

		if (!(full = malloc(len)))
			goto nomem;
		snprintf(full, len, "%s/%s", path, files[i]);
		/* stat follows the hash symlinks of a c_rehash directory. */
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
			if (load_file(store, name, full, &ignored) < 0 &&
			    ignored.code == PCP_ERR_SYSTEM) {
				*err = ignored;
				free(full);
				goto out;
			}
		}
		free(full);
	}
	ERR_clear_error();
	rc = 0;
	goto out;
nomem:
	pcp_error_set(err, PCP_ERR_SYSTEM, "store %s: %s: out of memory", name, path);
out:
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
	closedir(dir);
	return rc;
}

/* Distinct certificates in the store: the same root reached through a file and its hash
 * link counts once. */
const char *pcp_store_cert_kind(X509 *cert)
{
	uint32_t flags = X509_get_extension_flags(cert);

	if (X509_check_ca(cert) == 0)
		return "leaf";
	return flags & EXFLAG_SS ? "root" : "intermediate";
}

bool pcp_cert_ec_curve(X509 *cert, char *buf, size_t len, int *bits)
{
	EVP_PKEY *pk = X509_get0_pubkey(cert);
	char group[64];
	size_t glen = 0;
	const char *nist;

	if (!pk || !EVP_PKEY_is_a(pk, "EC"))
		return false;
	*bits = EVP_PKEY_get_bits(pk);
	if (!EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
	                                    &glen))
		snprintf(group, sizeof group, "explicit parameters");
	nist = EC_curve_nid2nist(OBJ_sn2nid(group));
	snprintf(buf, len, "%s", nist ? nist : group);
	return true;
}

bool pcp_curve_common(const char *curve)
{
	return strcmp(curve, "P-256") == 0 || strcmp(curve, "P-384") == 0 ||
	       strcmp(curve, "P-521") == 0;
}

bool pcp_cert_uncommon_curve(X509 *cert)
{
	char curve[64];
	int bits = 0;

	return pcp_cert_ec_curve(cert, curve, sizeof curve, &bits) && !pcp_curve_common(curve);
}

bool pcp_store_is_jdk_anchor(const struct pcp_store *jdk, X509 *cert)
{
	unsigned char md[32];
	unsigned int len = 0;

	if (!jdk || !jdk->n_jdk_anchors || !X509_digest(cert, EVP_sha256(), md, &len) || len != 32)
		return false;
	for (size_t i = 0; i < jdk->n_jdk_anchors; i++)
		if (memcmp(jdk->jdk_anchors[i], md, 32) == 0)
			return true;
	return false;
}

/* Counts the certificates by kind; returns how many there are, or (size_t)-1 when out of
 * memory. */
static size_t count_certs(struct pcp_store *s)
{
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(s->store);
	size_t n = 0;

	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		X509 *cert = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
		const char *kind;

		if (!cert)
			continue;
		n++;
		s->uncommon_curves = s->uncommon_curves || pcp_cert_uncommon_curve(cert);
		kind = pcp_store_cert_kind(cert);
		if (strcmp(kind, "root") == 0) {
			s->n_roots++;
			continue;
		}
		if (strcmp(kind, "leaf") == 0)
			s->n_leaves++;
		else
			s->n_intermediates++;
		if (!s->first_pin &&
		    !(s->first_pin = pcp_x509_name_text(X509_get_subject_name(cert))))
			return (size_t)-1;
	}
	return n;
}

const char *pcp_store_kind_name(enum pcp_store_kind kind)
{
	switch (kind) {
	case PCP_STORE_PEM:
		return "pem";
	case PCP_STORE_DIRECTORY:
		return "directory";
	case PCP_STORE_PKCS12:
		return "pkcs12";
	case PCP_STORE_JKS:
		return "jks";
	}
	return "pem";
}

/* "store NAME: PATH: " before a message of a module that does not know the store. */
static enum pcp_errc prefix_error(struct pcp_error *err, const char *name, const char *path)
{
	char inner[sizeof err->msg];

	snprintf(inner, sizeof inner, "%s", err->msg);
	return pcp_error_set(err, err->code, "store %s: %s: %s", name, path, inner);
}

/* The password a spec names, in *out (malloc'd; the caller cleanses it), or NULL for
 * none. A file gives its first line, as keytool's -storepass:file does. */
static enum pcp_errc resolve_password(const struct pcp_store_spec *spec, char **out,
                                      struct pcp_error *err)
{
	const char *v = NULL;
	char line[PASSWORD_MAX + 2];
	FILE *f;
	size_t n;

	*out = NULL;
	switch (spec->pw_source) {
	case PCP_PASSWORD_NONE:
		return PCP_OK;
	case PCP_PASSWORD_LITERAL:
		v = spec->pw;
		break;
	case PCP_PASSWORD_ENV:
		if (!(v = getenv(spec->pw)))
			return pcp_error_set(err, PCP_ERR_CONFIG,
			                     "store %s: password variable %s is not set",
			                     spec->name, spec->pw);
		break;
	case PCP_PASSWORD_FILE:
		if (!(f = fopen(spec->pw, "r")))
			return pcp_error_set(err, PCP_ERR_CONFIG, "store %s: password file %s: %s",
			                     spec->name, spec->pw, strerror(errno));
		n = fread(line, 1, sizeof line - 1, f);
		fclose(f);
		{
			const char *nl = memchr(line, '\n', n);
			bool nul;

			n = nl ? (size_t)(nl - line) : n;
			nul = memchr(line, '\0', n) != NULL;
			if (n && line[n - 1] == '\r')
				n--;
			line[n] = '\0';
			if (n > PASSWORD_MAX || nul) {
				OPENSSL_cleanse(line, sizeof line);
				return pcp_error_set(err, PCP_ERR_CONFIG,
				                     "store %s: password file %s: first line %s",
				                     spec->name, spec->pw,
				                     nul ? "holds a NUL byte" : "is too long");
			}
		}
		*out = strdup(line);
		OPENSSL_cleanse(line, sizeof line);
		return *out ? PCP_OK
		            : pcp_error_set(err, PCP_ERR_SYSTEM, "store %s: out of memory",
		                            spec->name);
	}
	if (!(*out = strdup(v)))
		return pcp_error_set(err, PCP_ERR_SYSTEM, "store %s: out of memory", spec->name);
	return PCP_OK;
}

/* Why a Java truststore gives Java nothing to trust, in words. */
static enum pcp_errc no_anchors(const struct pcp_javastore *js, const char *name,
                                struct pcp_error *err)
{
	const char *fmt = pcp_javastore_format_name(js->format);

	if (js->skipped_encrypted)
		return pcp_error_set(
		        err, PCP_ERR_CONFIG,
		        "%s truststore with encrypted certificates: without a password "
		        "Java reads none of them (give --store-password %s=...)",
		        fmt, name);
	if (js->n_certs)
		return pcp_error_set(
		        err, PCP_ERR_CONFIG,
		        "%s holds %zu certificates but no trusted-certificate entry, so "
		        "Java trusts none (openssl pkcs12 does not mark certificates "
		        "trusted for Java: import them with keytool -importcert)",
		        fmt, js->n_certs);
	return pcp_error_set(err, PCP_ERR_CONFIG, "%s truststore holds no certificate", fmt);
}

/* Reads a Java truststore into s->store: its trust anchors only. */
static enum pcp_errc load_java(struct pcp_store *s, const struct pcp_store_spec *spec,
                               const unsigned char *buf, size_t len, struct pcp_error *err)
{
	struct pcp_javastore js = {0};
	char *pw = NULL;
	enum pcp_errc rc;

	if ((rc = resolve_password(spec, &pw, err)))
		goto out;
	rc = pcp_javastore_parse(buf, len, &(struct pcp_javastore_opts){.password = pw}, &js, err);
	if (rc == PCP_OK && js.n_anchors == 0)
		rc = no_anchors(&js, spec->name, err);
	if (rc) {
		prefix_error(err, spec->name, spec->path);
		goto out;
	}
	s->kind = js.format == PCP_JAVASTORE_JKS ? PCP_STORE_JKS : PCP_STORE_PKCS12;
	s->integrity_checked = js.integrity_checked;
	if (!(s->jdk_anchors = calloc(js.n_anchors + 1, sizeof *s->jdk_anchors))) {
		rc = pcp_error_set(err, PCP_ERR_SYSTEM, "store %s: out of memory", spec->name);
		goto out;
	}
	ERR_clear_error();
	for (size_t i = 0; i < js.n_entries; i++) {
		const struct pcp_javastore_entry *e = &js.entries[i];
		unsigned int mdlen = 0;

		if (!e->anchor)
			continue;
		if (!X509_STORE_add_cert(s->store, e->anchor) ||
		    (strstr(e->alias, " [jdk") &&
		     !X509_digest(e->anchor, EVP_sha256(), s->jdk_anchors[s->n_jdk_anchors++],
		                  &mdlen))) {
			rc = pcp_error_set(err, PCP_ERR_SYSTEM, "store %s: %s", spec->name,
			                   spec->path);
			pcp_error_append_openssl(err);
			break;
		}
	}
out:
	pcp_javastore_cleanup(&js);
	if (pw)
		OPENSSL_clear_free(pw, strlen(pw));
	return rc;
}

/* Loads a store; Java truststores are recognised only when java is set. */
static struct pcp_store *load(const struct pcp_store_spec *spec, bool java, struct pcp_error *err)
{
	const char *name = spec->name, *path = spec->path;
	struct pcp_store *s = NULL;
	unsigned char *buf = NULL;
	size_t len = 0;
	struct stat st;

	if (stat(path, &st) < 0) {
		pcp_error_set(err, PCP_ERR_CONFIG, "store %s: %s: %s", name, path, strerror(errno));
		return NULL;
	}
	if (!(s = calloc(1, sizeof *s)) || !(s->name = strdup(name)) || !(s->path = strdup(path))) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "store %s: out of memory", name);
		goto fail;
	}
	ERR_clear_error();
	if (!(s->store = X509_STORE_new())) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "store %s", name);
		pcp_error_append_openssl(err);
		goto fail;
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
		/* A device or a FIFO would be read forever, or block before the loop. */
		pcp_error_set(err, PCP_ERR_CONFIG,
		              "store %s: %s is not a regular file or a directory", name, path);
		goto fail;
	}
	s->kind = S_ISDIR(st.st_mode) ? PCP_STORE_DIRECTORY : PCP_STORE_PEM;
	s->modified = S_ISREG(st.st_mode) ? st.st_mtime : 0;
	if (s->kind == PCP_STORE_PEM &&
	    read_capped(name, path, STORE_MAX_BYTES, &buf, &len, err) != PCP_OK)
		goto fail;
	/* Told apart by content: the seed's recipe names a PKCS#12 file "truststore". */
	if (java && s->kind == PCP_STORE_PEM &&
	    pcp_javastore_detect(buf, len) != PCP_JAVASTORE_NONE) {
		if (load_java(s, spec, buf, len, err))
			goto fail;
	} else if (spec->pw_source != PCP_PASSWORD_NONE) {
		pcp_error_set(
		        err, PCP_ERR_CONFIG, "store %s: %s %s: it takes no password", name, path,
		        s->kind == PCP_STORE_DIRECTORY ? "is a directory, not a Java truststore"
		                                       : "is not a PKCS#12 or JKS truststore");
		goto fail;
	} else if (s->kind == PCP_STORE_DIRECTORY) {
		/* No flags: libpq adds CRL checking only when an sslcrl loads, which is
		 * not modelled here; CRLs in the bundle are kept but not consulted. */
		if (load_dir(s->store, name, path, err) < 0)
			goto fail;
	} else if (load_pem(s->store, name, path, buf, len, err) < 0) {
		goto fail;
	}
	s->n_certs = count_certs(s);
	if (s->n_certs == (size_t)-1) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "store %s: out of memory", name);
		goto fail;
	}
	if (s->n_certs == 0) {
		pcp_error_set(err, PCP_ERR_CONFIG, "store %s: %s holds no certificate", name, path);
		goto fail;
	}
	free(buf);
	return s;
fail:
	free(buf);
	pcp_store_free(s);
	return NULL;
}

struct pcp_store *pcp_store_load_spec(const struct pcp_store_spec *spec, struct pcp_error *err)
{
	return load(spec, true, err);
}

struct pcp_store *pcp_store_load(const char *name, const char *path, struct pcp_error *err)
{
	const struct pcp_store_spec spec = {.name = (char *)name, .path = (char *)path};

	return load(&spec, false, err);
}

struct pcp_store *pcp_store_load_system(const char *name, struct pcp_error *err)
{
	const char *file = getenv(X509_get_default_cert_file_env());
	const char *dirs = getenv(X509_get_default_cert_dir_env());
	struct pcp_store *s = calloc(1, sizeof *s);
	char *list = NULL;
	struct stat st;

	if (!file)
		file = X509_get_default_cert_file();
	if (!dirs)
		dirs = X509_get_default_cert_dir();
	if (!s || !(s->name = strdup(name)) || !(s->path = strdup("system")) ||
	    !(s->store = X509_STORE_new()) || !(list = strdup(dirs))) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "store %s: out of memory", name);
		goto fail;
	}
	/* Unreadable parts are skipped, as OpenSSL's lookups skip them. */
	if (stat(file, &st) == 0 && S_ISREG(st.st_mode) &&
	    load_file(s->store, name, file, err) < 0 && err->code == PCP_ERR_SYSTEM)
		goto fail;
	for (char *save = NULL, *d = strtok_r(list, ":", &save); d; d = strtok_r(NULL, ":", &save))
		if (stat(d, &st) == 0 && S_ISDIR(st.st_mode) &&
		    load_dir(s->store, name, d, err) < 0 && err->code == PCP_ERR_SYSTEM)
			goto fail;
	ERR_clear_error();
	free(list);
	if ((s->n_certs = count_certs(s)) == (size_t)-1) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "store %s: out of memory", name);
		list = NULL;
		goto fail;
	}
	return s;
fail:
	free(list);
	pcp_store_free(s);
	return NULL;
}

void pcp_store_free(struct pcp_store *store)
{
	if (!store)
		return;
	X509_STORE_free(store->store);
	free(store->jdk_anchors);
	free(store->first_pin);
	free(store->name);
	free(store->path);
	free(store);
}

enum pcp_errc pcp_store_list_add(struct pcp_store_list *list, struct pcp_store *store,
                                 struct pcp_error *err)
{
	struct pcp_store **grown;
	const char **names, **paths, **kinds;

	for (size_t i = 0; i < list->n; i++)
		if (strcmp(list->items[i]->name, store->name) == 0)
			return pcp_error_set(err, PCP_ERR_USAGE, "duplicate store name %s",
			                     store->name);
	if ((grown = realloc(list->items, (list->n + 1) * sizeof *grown)))
		list->items = grown;
	if ((names = realloc(list->names, (list->n + 2) * sizeof *names)))
		list->names = names;
	if ((paths = realloc(list->paths, (list->n + 2) * sizeof *paths)))
		list->paths = paths;
	if ((kinds = realloc(list->kinds, (list->n + 2) * sizeof *kinds)))
		list->kinds = kinds;
	if (!grown || !names || !paths || !kinds)
		return pcp_error_set(err, PCP_ERR_SYSTEM, "store %s: out of memory", store->name);
	list->names[list->n] = store->name;
	list->paths[list->n] = store->path;
	list->kinds[list->n] = pcp_store_kind_name(store->kind);
	list->items[list->n++] = store;
	list->names[list->n] = list->paths[list->n] = list->kinds[list->n] = NULL;
	return PCP_OK;
}

void pcp_store_list_cleanup(struct pcp_store_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->n; i++)
		pcp_store_free(list->items[i]);
	free(list->items);
	free(list->names);
	free(list->paths);
	free(list->kinds);
	memset(list, 0, sizeof *list);
}

enum pcp_errc pcp_store_list_load(struct pcp_store_list *list, const struct pcp_store_spec *specs,
                                  size_t n, struct pcp_error *err)
{
	for (size_t i = 0; i < n; i++) {
		struct pcp_store *st = pcp_store_load_spec(&specs[i], err);

		if (!st)
			return err->code ? err->code : PCP_ERR_CONFIG;
		if (pcp_store_list_add(list, st, err)) {
			pcp_store_free(st);
			return err->code;
		}
	}
	return PCP_OK;
}

long pcp_store_list_find(const struct pcp_store_list *list, const char *name)
{
	for (size_t i = 0; name && i < list->n; i++)
		if (strcmp(list->items[i]->name, name) == 0)
			return (long)i;
	return -1;
}

void pcp_store_spec_cleanup(struct pcp_store_spec *spec)
{
	free(spec->name);
	free(spec->path);
	if (spec->pw)
		OPENSSL_clear_free(spec->pw, strlen(spec->pw));
	memset(spec, 0, sizeof *spec);
}
