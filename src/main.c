/* pgcertprobe: options -> stores -> run (or exporter) -> exit code. The rest lives in modules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "exporter.h"
#include "log.h"
#include "output.h"
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

/* auto: only when the output is a terminal (never an --output file). */
static bool use_color(enum pcp_color c, FILE *out)
{
	const char *term = getenv("TERM");

	if (c != PCP_COLOR_AUTO)
		return c == PCP_COLOR_ALWAYS;
	return isatty(fileno(out)) && !getenv("NO_COLOR") && term && strcmp(term, "dumb") != 0;
}

int main(int argc, char **argv)
{
	struct pcp_settings s;
	struct pcp_store_list stores = {0};
	struct pcp_error err = {0};
	struct pcp_run_outcome outcome = {0};
	struct pcp_writer *writer = NULL;
	struct pcp_output output = {0};
	int code = 0;

	pcp_settings_init(&s);
	if (pcp_cli_parse(argc, argv, &s, &err) != PCP_OK)
		goto fail;
	if (s.help || s.version) {
		s.help ? pcp_cli_usage(stdout) : print_version();
		goto out;
	}
	if (s.listen) {
		if (pcp_exporter_run(&s, pcp_verify_default_auth_level(), &err) != PCP_OK)
			goto fail;
		goto out;
	}
	if (pcp_store_list_load(&stores, s.stores, s.n_stores, &err) != PCP_OK ||
	    pcp_output_open(&output, s.output, &err) != PCP_OK)
		goto fail;
	struct pcp_instants instants;
	struct pcp_run_info info;

	pcp_setup_instants(&instants, &s, time(NULL));
	pcp_setup_run_info(&info, &s, &stores, &instants);
	info.color = use_color(s.color, output.f);
	info.explain = s.explain;
	struct pcp_run_config cfg = {.settings = &s,
	                             .stores = &stores,
	                             .instants = &instants,
	                             .auth_level = pcp_verify_default_auth_level(),
	                             .output_name = s.output ? s.output : "standard output"};
	if (!(writer = cfg.writer = pcp_writer_new(s.format, output.f, &info)))
		goto oom;
	if (pcp_run(&cfg, &outcome, &err) != PCP_OK ||
	    (!outcome.signal && pcp_output_commit(&output, &err) != PCP_OK))
		goto fail;
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
	pcp_output_abort(&output);
	free(outcome.totals.verified);
	pcp_store_list_cleanup(&stores);
	pcp_settings_cleanup(&s);
	return code;
}
