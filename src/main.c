/* pgcertprobe: options -> stores -> run -> exit code. Everything else lives in modules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "report.h"
#include "runner.h"
#include "truststore.h"
#include "verify.h"

static enum pcp_errc load_stores(const struct pcp_settings *s, struct pcp_store_list *list,
                                 size_t *require, struct pcp_error *err)
{
	for (size_t i = 0; i < s->n_stores; i++) {
		struct pcp_store *st = pcp_store_load(s->stores[i].name, s->stores[i].path, err);

		if (!st)
			return err->code ? err->code : PCP_ERR_CONFIG;
		if (pcp_store_list_add(list, st, err)) {
			pcp_store_free(st);
			return err->code;
		}
	}
	for (size_t i = 0; i < s->n_require; i++)
		for (size_t j = 0; j < list->n; j++)
			if (strcmp(list->items[j]->name, s->require[i]) == 0)
				require[i] = j;
	return PCP_OK;
}

/* The version, and which configuration a run without --config would read. */
static void print_version(void)
{
	char *conf = pcp_config_default_path();

	printf("pgcertprobe %s\nconfiguration: %s\n", PCP_VERSION, conf ? conf : "(none found)");
	free(conf);
}

static bool use_color(enum pcp_color c)
{
	const char *term = getenv("TERM");

	if (c != PCP_COLOR_AUTO)
		return c == PCP_COLOR_ALWAYS;
	return isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && term && strcmp(term, "dumb") != 0;
}

int main(int argc, char **argv)
{
	struct pcp_settings s;
	struct pcp_store_list stores = {0};
	struct pcp_error err = {0};
	struct pcp_run_outcome outcome = {0};
	struct pcp_writer *writer = NULL;
	const char **names = NULL;
	size_t *require = NULL;
	struct stat st;
	int code;

	pcp_settings_init(&s);
	if (pcp_cli_parse(argc, argv, &s, &err) != PCP_OK)
		goto fail;
	if (s.help || s.version) {
		if (s.help)
			pcp_cli_usage(stdout);
		else
			print_version();
		code = 0;
		goto out;
	}
	if (s.save_chains && (stat(s.save_chains, &st) != 0 || !S_ISDIR(st.st_mode) ||
	                      access(s.save_chains, W_OK) != 0)) {
		pcp_error_set(&err, PCP_ERR_USAGE, "--save-chains %s: not a writable directory",
		              s.save_chains);
		goto fail;
	}
	require = calloc(s.n_require + 1, sizeof *require);
	names = calloc(s.n_stores + 1, sizeof *names);
	if (!require || !names) {
		pcp_error_set(&err, PCP_ERR_SYSTEM, "out of memory");
		goto fail;
	}
	if (load_stores(&s, &stores, require, &err) != PCP_OK)
		goto fail;
	for (size_t i = 0; i < stores.n; i++)
		names[i] = stores.items[i]->name;

	struct pcp_run_info info = {.store_names = names,
	                            .n_stores = stores.n,
	                            .at = s.at_given ? s.at : time(NULL),
	                            .at_given = s.at_given,
	                            .sslmode = s.sslmode,
	                            .color = use_color(s.color),
	                            .version = PCP_VERSION};
	struct pcp_run_config cfg = {.settings = &s,
	                             .stores = &stores,
	                             .at = info.at,
	                             .auth_level = pcp_verify_default_auth_level(),
	                             .require = require,
	                             .n_require = s.n_require};
	if (!(writer = cfg.writer = pcp_writer_new(s.format, stdout, &info))) {
		pcp_error_set(&err, PCP_ERR_SYSTEM, "out of memory");
		goto fail;
	}
	if (pcp_run(&cfg, &outcome, &err) != PCP_OK)
		goto fail;
	fflush(stdout);
	code = pcp_run_exit_code(&outcome);
	goto out;
fail:
	pcp_log_error("%s", err.msg);
	if (err.code == PCP_ERR_USAGE)
		fputs("Try 'pgcertprobe --help' for more information.\n", stderr);
	code = pcp_error_exit_code(err.code);
out:
	pcp_writer_free(writer);
	free(outcome.totals.verified);
	pcp_store_list_cleanup(&stores);
	free(names);
	free(require);
	pcp_settings_cleanup(&s);
	return code;
}
