/* pgcertprobe: options -> stores -> run -> exit code. Everything else lives in modules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "report.h"
#include "runner.h"
#include "truststore.h"
#include "verify.h"

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
	int code = 0;

	pcp_settings_init(&s);
	if (pcp_cli_parse(argc, argv, &s, &err) != PCP_OK)
		goto fail;
	if (s.help || s.version) {
		if (s.help)
			pcp_cli_usage(stdout);
		else
			print_version();
		goto out;
	}
	if (pcp_store_list_load(&stores, s.stores, s.n_stores, &err) != PCP_OK)
		goto fail;
	if (!(names = calloc(stores.n + 1, sizeof *names)))
		goto oom;
	for (size_t i = 0; i < stores.n; i++)
		names[i] = stores.items[i]->name;

	time_t ats[PCP_MAX_INSTANTS];
	size_t n_ats = pcp_settings_instants(&s, time(NULL), ats);
	struct pcp_run_info info = {.store_names = names,
	                            .n_stores = stores.n,
	                            .at = ats[0],
	                            .at_given = s.at_given,
	                            .ats = ats,
	                            .n_ats = n_ats,
	                            .warn_days = s.warn_days,
	                            .sslmode = s.sslmode,
	                            .color = use_color(s.color),
	                            .version = PCP_VERSION};
	struct pcp_run_config cfg = {.settings = &s,
	                             .stores = &stores,
	                             .ats = ats,
	                             .n_ats = n_ats,
	                             .auth_level = pcp_verify_default_auth_level()};
	if (!(writer = cfg.writer = pcp_writer_new(s.format, stdout, &info)))
		goto oom;
	if (pcp_run(&cfg, &outcome, &err) != PCP_OK)
		goto fail;
	fflush(stdout);
	code = pcp_run_exit_code(&outcome);
	goto out;
oom:
	pcp_error_set(&err, PCP_ERR_SYSTEM, "out of memory");
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
	pcp_settings_cleanup(&s);
	return code;
}
