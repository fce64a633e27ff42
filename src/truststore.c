/* Named trust stores loaded once, before the loop starts: a PEM bundle (certificates and
 * CRLs, as SSL_CTX_load_verify_locations reads it) or every file of a directory, all in
 * memory. No lazy lookup method is installed, so verification never touches the disk. */
#include "truststore.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Adds every certificate and CRL of one PEM file; returns how many objects the file
 * held, or -1 (err set) when it cannot be read or is not valid PEM. */
static int load_file(X509_STORE *store, const char *name, const char *path, struct pcp_error *err)
{
	STACK_OF(X509_INFO) *infos = NULL;
	BIO *in;
	int count = -1;

	ERR_clear_error();
	errno = 0;
	if (!(in = BIO_new_file(path, "r"))) {
		int saved = errno;

		ERR_clear_error();
		pcp_error_set(err, PCP_ERR_CONFIG, "store %s: %s: %s", name, path,
		              saved ? strerror(saved) : "cannot open");
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
static size_t count_certs(X509_STORE *store)
{
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
	size_t n = 0;

	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++)
		if (X509_OBJECT_get_type(sk_X509_OBJECT_value(objs, i)) == X509_LU_X509)
			n++;
	return n;
}

struct pcp_store *pcp_store_load(const char *name, const char *path, struct pcp_error *err)
{
	struct pcp_store *s = NULL;
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
	/* No flags: libpq adds CRL checking only when an sslcrl loads, which is not
	 * modelled here; CRLs in the bundle are kept but not consulted. */
	if (S_ISDIR(st.st_mode)) {
		if (load_dir(s->store, name, path, err) < 0)
			goto fail;
	} else if (!S_ISREG(st.st_mode)) {
		/* A device or a FIFO would be read forever, or block before the loop. */
		pcp_error_set(err, PCP_ERR_CONFIG,
		              "store %s: %s is not a regular file or a directory", name, path);
		goto fail;
	} else if (load_file(s->store, name, path, err) < 0) {
		goto fail;
	}
	s->n_certs = count_certs(s->store);
	if (s->n_certs == 0) {
		pcp_error_set(err, PCP_ERR_CONFIG, "store %s: %s holds no certificate", name, path);
		goto fail;
	}
	return s;
fail:
	pcp_store_free(s);
	return NULL;
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
	s->n_certs = count_certs(s->store);
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
	free(store->name);
	free(store->path);
	free(store);
}

enum pcp_errc pcp_store_list_add(struct pcp_store_list *list, struct pcp_store *store,
                                 struct pcp_error *err)
{
	struct pcp_store **grown;
	const char **names, **paths;

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
	if (!grown || !names || !paths)
		return pcp_error_set(err, PCP_ERR_SYSTEM, "store %s: out of memory", store->name);
	list->names[list->n] = store->name;
	list->paths[list->n] = store->path;
	list->items[list->n++] = store;
	list->names[list->n] = list->paths[list->n] = NULL;
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
	memset(list, 0, sizeof *list);
}

enum pcp_errc pcp_store_list_load(struct pcp_store_list *list, const struct pcp_store_spec *specs,
                                  size_t n, struct pcp_error *err)
{
	for (size_t i = 0; i < n; i++) {
		struct pcp_store *st = pcp_store_load(specs[i].name, specs[i].path, err);

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
