/* The command line: one option table drives getopt_long, the configuration file keys and
 * --help. Produces struct pcp_settings; prints nothing (main prints errors and help). */
#ifndef PCP_CLI_H
#define PCP_CLI_H

#include <stdio.h>
#include <time.h>

#include "config.h"
#include "error.h"

/* Parses argv into s (initialised by the caller with pcp_settings_init). Reads the
 * configuration file (--config, else the default one) before applying command-line values
 * over it. Blanks the --store-password values in argv (its strings must be writable, as a
 * process's are). Returns PCP_OK or the error to report (usage, input, config). */
enum pcp_errc pcp_cli_parse(int argc, char **argv, struct pcp_settings *s, struct pcp_error *err);

/* Writes --help text generated from the option table. */
void pcp_cli_usage(FILE *out);

/* Parses an instant: RFC 3339 ("2021-02-15T00:00:00Z", "...+01:00", fractional seconds
 * dropped), a plain date ("2021-02-15", midnight UTC), or "@UNIXSECONDS". */
enum pcp_errc pcp_cli_parse_time(const char *s, time_t *out, struct pcp_error *err);

/* Parses a --shard value "K/N" (0 <= K < N <= 1000000). PCP_ERR_USAGE naming v otherwise. */
enum pcp_errc pcp_cli_parse_shard(const char *v, unsigned *k, unsigned *n, struct pcp_error *err);

#endif
