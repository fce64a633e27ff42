/* Settings storage, the INI reader (inih) and the search for the default configuration. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void pcp_settings_init(struct pcp_settings *s)
{
	memset(s, 0, sizeof *s);
	s->sslmode = PCP_SSLMODE_VERIFY_FULL;
	s->timeout = PCP_DEFAULT_TIMEOUT;
	s->concurrency = PCP_DEFAULT_CONCURRENCY;
	s->format = PCP_FORMAT_TEXT;
	s->color = PCP_COLOR_AUTO;
}

void pcp_settings_clear_stores(struct pcp_settings *s)
{
	for (size_t i = 0; i < s->n_stores; i++) {
		free(s->stores[i].name);
		free(s->stores[i].path);
	}
	free(s->stores);
	s->stores = NULL;
	s->n_stores = 0;
}

void pcp_settings_cleanup(struct pcp_settings *s)
{
	pcp_settings_clear_stores(s);
	for (size_t i = 0; i < s->n_target_files; i++)
		free(s->target_files[i]);
	free(s->target_files);
	for (size_t i = 0; i < s->n_require; i++)
		free(s->require[i]);
	free(s->require);
	free(s->save_chains);
	free(s->config_path);
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

struct reader_ctx {
	pcp_config_key_fn fn;
	void *ctx;
	const char *dir;
	struct pcp_error *err;
	enum pcp_errc rc;
	int line;
};

static int on_key(void *user, const char *section, const char *key, const char *value)
{
	struct reader_ctx *rc = user;

	if (rc->rc != PCP_OK)
		return 0;
	rc->rc = rc->fn(rc->ctx, section, key, value, rc->dir, rc->err);
	return rc->rc == PCP_OK;
}

enum pcp_errc pcp_config_read(const char *path, pcp_config_key_fn fn, void *ctx,
			      struct pcp_error *err)
{
	char dirbuf[PATH_MAX];
	struct reader_ctx rc = {.fn = fn, .ctx = ctx, .err = err, .rc = PCP_OK};
	FILE *fp = fopen(path, "r");
	int line;

	if (!fp)
		return pcp_error_set(err, PCP_ERR_INPUT, "cannot read configuration file %s: %s", path,
				     strerror(errno));
	snprintf(dirbuf, sizeof dirbuf, "%s", path);
	rc.dir = dirname(dirbuf);
	line = ini_parse_file(fp, on_key, &rc);
	fclose(fp);
	if (rc.rc != PCP_OK) {
		char inner[sizeof err->msg];

		snprintf(inner, sizeof inner, "%s", err->msg);
		return pcp_error_set(err, PCP_ERR_CONFIG, "%s:%d: %s", path, line, inner);
	}
	if (line != 0)
		return pcp_error_set(err, PCP_ERR_CONFIG, "%s:%d: syntax error", path, line);
	return PCP_OK;
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
