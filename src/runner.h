/* The run: turns targets into addresses, owns the libev loop and the window of probes in
 * flight, verifies each captured chain under every store, and hands exactly one record per
 * address to the writer, in input order. Handles SIGINT/SIGTERM. */
#ifndef PCP_RUNNER_H
#define PCP_RUNNER_H

#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "error.h"
#include "report.h"
#include "setup.h"
#include "truststore.h"

struct pcp_run_config {
	const struct pcp_settings *settings;
	const struct pcp_store_list *stores;
	const struct pcp_instants *instants; /* at least one */
	int auth_level;
	struct pcp_writer *writer;
	const char *output_name; /* where the writer prints, for messages */
};

struct pcp_run_outcome {
	struct pcp_run_totals totals; /* totals.verified: allocated, n_stores long; caller frees */
	size_t failed_required;       /* records that are ok but fail a required store */
	size_t changed;               /* records with changes since --baseline, plus baseline
	                               * addresses not probed again */
	bool fail_on_change;          /* --fail-on-change: changes make the exit code 1 */
	int signal;                   /* SIGINT/SIGTERM that interrupted the run, else 0 */
};

/* Runs everything; returns PCP_OK, or an error that stopped the run before any probe
 * (unreadable targets file, no memory, TLS context). Records already written stay. */
enum pcp_errc pcp_run(const struct pcp_run_config *cfg, struct pcp_run_outcome *out,
                      struct pcp_error *err);

/* The process exit code for an outcome (README: 0, 1, 2, 130, 143). */
int pcp_run_exit_code(const struct pcp_run_outcome *out);

#endif
