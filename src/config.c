/* Settings storage, the INI reader and the search for the default configuration. The
 * reader is our own so every error names its exact line and no line length is imposed
 * below CONFIG_LINE_MAX. */
#include "config.h"

#include "conninfo.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void pcp_settings_init(struct pcp_settings *s)
{
	memset(s, 0, sizeof *s);
	s->sslmode = PCP_SSLMODE_VERIFY_FULL;
	s->timeout = PCP_DEFAULT_TIMEOUT;
	s->concurrency = PCP_DEFAULT_CONCURRENCY;
	s->format = PCP_FORMAT_TEXT;
	s->color = PCP_COLOR_AUTO;
	s->warn_days = -1;
	s->negotiation = PCP_NEGOTIATION_POSTGRES;
	s->libpq_version = pcp_libpq_default();
}

void pcp_settings_clear_stores(struct pcp_settings *s)
{
	for (size_t i = 0; i < s->n_stores; i++)
		pcp_store_spec_cleanup(&s->stores[i]);
	free(s->stores);
	s->stores = NULL;
	s->n_stores = 0;
}

void pcp_strings_clear(char ***list, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*list)[i]);
	free(*list);
	*list = NULL;
	*n = 0;
}

void pcp_settings_clear_require(struct pcp_settings *s)
{
	for (size_t i = 0; i < s->n_require; i++) {
		free(s->require[i].text);
		free(s->require[i].store);
	}
	free(s->require);
	s->require = NULL;
	s->n_require = 0;
}

static void password_free(struct pcp_password_spec *p)
{
	free(p->store);
	if (p->value)
		OPENSSL_clear_free(p->value, strlen(p->value));
}

void pcp_settings_clear_file_passwords(struct pcp_settings *s)
{
	size_t k = 0;

	for (size_t i = 0; i < s->n_passwords; i++) {
		if (s->passwords[i].from_file)
			password_free(&s->passwords[i]);
		else
			s->passwords[k++] = s->passwords[i];
	}
	s->n_passwords = k;
}

enum pcp_errc pcp_settings_add_password(struct pcp_settings *s, const char *store,
                                        enum pcp_password_source source, const char *value,
                                        bool from_file, struct pcp_error *err)
{
	struct pcp_password_spec p = {.source = source, .from_file = from_file}, *grown;

	for (size_t i = 0; i < s->n_passwords; i++) {
		struct pcp_password_spec *q = &s->passwords[i];

		if (strcmp(q->store, store) != 0)
			continue;
		if (q->from_file == from_file)
			return pcp_error_set(
			        err, PCP_ERR_USAGE,
			        "store %s has two passwords (password, file or variable)", store);
		/* The file is read first: the command line's replaces it. */
		password_free(q);
		*q = s->passwords[--s->n_passwords];
		break;
	}
	if (!(grown = realloc(s->passwords, (s->n_passwords + 1) * sizeof *grown)))
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	s->passwords = grown;
	if (!(p.store = strdup(store)) || !(p.value = strdup(value))) {
		password_free(&p);
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	}
	s->passwords[s->n_passwords++] = p;
	return PCP_OK;
}

void pcp_settings_cleanup(struct pcp_settings *s)
{
	pcp_settings_clear_stores(s);
	for (size_t i = 0; i < s->n_passwords; i++)
		password_free(&s->passwords[i]);
	free(s->passwords);
	pcp_strings_clear(&s->target_files, &s->n_target_files);
	pcp_settings_clear_require(s);
	free(s->save_chains);
	free(s->output);
	pcp_strings_clear(&s->pins, &s->n_pins);
	free(s->dns_server);
	free(s->client_home);
	free(s->future_chain);
	pcp_strings_clear(&s->forbid, &s->n_forbid);
	free(s->old_store);
	free(s->node_roots);
	free(s->java_cacerts);
	free(s->java_truststore);
	free(s->new_store);
	pcp_strings_clear(&s->chains, &s->n_chains);
	free(s->chain_host);
	free(s->baseline);
	free(s->config_path);
	free(s->listen);
	for (size_t i = 0; i < s->n_modules; i++) {
		free(s->modules[i].name);
		pcp_settings_cleanup(&s->modules[i].settings);
	}
	free(s->modules);
	memset(s, 0, sizeof *s);
}

enum pcp_errc pcp_settings_add_store(struct pcp_settings *s, const char *name, const char *path,
                                     struct pcp_error *err)
{
	struct pcp_store_spec *grown;

	if (!*name)
		return pcp_error_set(err, PCP_ERR_USAGE, "store name is empty");
	if (!*path)
		return pcp_error_set(err, PCP_ERR_USAGE, "store %s: path is empty", name);
	grown = realloc(s->stores, (s->n_stores + 1) * sizeof *grown);
	if (!grown)
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	s->stores = grown;
	grown[s->n_stores] = (struct pcp_store_spec){0};
	grown[s->n_stores].name = strdup(name);
	grown[s->n_stores].path = strdup(path);
	if (!grown[s->n_stores].name || !grown[s->n_stores].path) {
		free(grown[s->n_stores].name);
		free(grown[s->n_stores].path);
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	}
	s->n_stores++;
	return PCP_OK;
}

/* Longest configuration line accepted; longer ones are an error on their own line. */
#define CONFIG_LINE_MAX 4096

static char *strip(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

/* An inline comment starts at ';' or '#' preceded by white space. */
static void cut_comment(char *s)
{
	if (!*s)
		return; /* "key =": nothing to cut, and s + 1 is past the line */
	for (char *p = s + 1; *p; p++)
		if ((*p == ';' || *p == '#') && (p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
}

/* One line: blank, comment, [section] or key = value. */
static enum pcp_errc parse_line(char *line, char *section, size_t seclen, pcp_config_key_fn fn,
                                void *ctx, const char *dir, struct pcp_error *err)
{
	char *s = strip(line), *eq;

	if (!*s || *s == ';' || *s == '#')
		return PCP_OK;
	if (*s == '[') {
		char *close = strchr(s, ']');

		if (!close || *strip(close + 1))
			return pcp_error_set(err, PCP_ERR_CONFIG, "expected [section], got \"%s\"",
			                     s);
		*close = '\0';
		snprintf(section, seclen, "%s", strip(s + 1));
		return PCP_OK;
	}
	eq = strchr(s, '=');
	if (!eq)
		return pcp_error_set(err, PCP_ERR_CONFIG, "expected key = value, got \"%s\"", s);
	*eq = '\0';
	cut_comment(eq + 1);
	if (!*strip(s))
		return pcp_error_set(err, PCP_ERR_CONFIG, "missing key before '='");
	if (!*section)
		return pcp_error_set(err, PCP_ERR_CONFIG, "key \"%s\" outside any [section]",
		                     strip(s));
	return fn(ctx, section, strip(s), strip(eq + 1), dir, err);
}

enum pcp_errc pcp_config_read(const char *path, pcp_config_key_fn fn, void *ctx,
                              struct pcp_error *err)
{
	char dirbuf[PATH_MAX], section[128] = "";
	char *line = NULL, *dir;
	size_t cap = 0;
	ssize_t n;
	unsigned long lineno = 0;
	enum pcp_errc rc = PCP_OK;
	struct stat st;
	FILE *fp = fopen(path, "r");

	if (!fp)
		return pcp_error_set(err, PCP_ERR_INPUT, "cannot read configuration file %s: %s",
		                     path, strerror(errno));
	if (fstat(fileno(fp), &st) == 0 && !S_ISREG(st.st_mode)) {
		fclose(fp);
		return pcp_error_set(err, PCP_ERR_INPUT,
		                     "configuration file %s is not a regular file", path);
	}
	snprintf(dirbuf, sizeof dirbuf, "%s", path);
	dir = dirname(dirbuf);
	while (rc == PCP_OK && (n = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		if ((size_t)n > CONFIG_LINE_MAX)
			rc = pcp_error_set(err, PCP_ERR_CONFIG, "line longer than %d bytes",
			                   CONFIG_LINE_MAX);
		else if (memchr(line, '\0', (size_t)n))
			rc = pcp_error_set(err, PCP_ERR_CONFIG, "line holds a NUL byte");
		else
			rc = parse_line(line, section, sizeof section, fn, ctx, dir, err);
	}
	if (rc == PCP_OK && ferror(fp))
		rc = pcp_error_set(err, PCP_ERR_INPUT, "error reading %s: %s", path,
		                   strerror(errno));
	free(line);
	fclose(fp);
	if (rc != PCP_OK && rc != PCP_ERR_INPUT) {
		char inner[sizeof err->msg];

		snprintf(inner, sizeof inner, "%s", err->msg);
		return pcp_error_set(err, rc == PCP_ERR_SYSTEM ? rc : PCP_ERR_CONFIG, "%s:%lu: %s",
		                     path, lineno, inner);
	}
	return rc;
}

static char *existing(const char *path)
{
	return access(path, R_OK) == 0 ? strdup(path) : NULL;
}

char *pcp_config_default_path(void)
{
	const char *env = getenv("PGCERTPROBE_CONFIG");
	char exe[PATH_MAX], buf[PATH_MAX + 64];
	ssize_t n;
	char *found;

	if (env && *env)
		return strdup(env);
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		/* BIN/pgcertprobe -> BIN/../share/pgcertprobe/pgcertprobe.conf */
		snprintf(buf, sizeof buf, "%s/../%s", dirname(exe), PCP_INSTALL_CONFIG_REL);
		if ((found = existing(buf)))
			return found;
	}
	return existing(PCP_SOURCE_CONFIG);
}
