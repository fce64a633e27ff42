/* Where the writer prints: standard output, or --output FILE written atomically (a
 * temporary file beside FILE, renamed over it only when the run completes), so readers
 * such as node_exporter's textfile collector never see half a file. */
#ifndef PCP_OUTPUT_H
#define PCP_OUTPUT_H

#include <stdio.h>

#include "error.h"

struct pcp_output {
	FILE *f;    /* what the writer prints to: stdout or the temporary file */
	char *path; /* FILE, owned; NULL for standard output */
	char *tmp;  /* "FILE.tmp.XXXXXX", owned; NULL once committed or removed */
};

/* Opens the output: stdout when path is NULL, else a new temporary file in path's
 * directory, readable as umask allows (mkstemp's 0600 would hide it from collectors).
 * PCP_ERR_USAGE naming path when it cannot be created. */
enum pcp_errc pcp_output_open(struct pcp_output *o, const char *path, struct pcp_error *err);

/* Makes the output final: flushes; for a file also checks for write errors, fsyncs,
 * closes and renames the temporary file over path. On failure the temporary file is
 * removed and PCP_ERR_SYSTEM names the file. */
enum pcp_errc pcp_output_commit(struct pcp_output *o, struct pcp_error *err);

/* Drops what was not committed (closes and removes the temporary file; flushes stdout)
 * and frees o's strings. Safe after commit and on a zeroed struct. */
void pcp_output_abort(struct pcp_output *o);

#endif
