/* Where the writer prints: standard output, or --output FILE written atomically (a
 * temporary file beside FILE, renamed over it only when the run completes), so readers
 * such as node_exporter's textfile collector never see half a file. A FILE that exists
 * and is not a regular file (a FIFO, /dev/stdout, a terminal) is written directly: a
 * rename would replace the device or pipe itself. */
#ifndef PCP_OUTPUT_H
#define PCP_OUTPUT_H

#include <stdio.h>

#include "error.h"

struct pcp_output {
	FILE *f;    /* what the writer prints to: stdout or the temporary file */
	char *path; /* FILE, owned; NULL for standard output */
	char *tmp;  /* "FILE.tmp.XXXXXX", owned; NULL once committed or removed, and when
	             * FILE is written directly */
};

/* Opens the output: stdout when path is NULL, path itself when it is an existing file
 * that is not a regular one, else a new temporary file in path's directory, readable as
 * umask allows (mkstemp's 0600 would hide it from collectors). PCP_ERR_USAGE naming path
 * when it cannot be created or is a directory. */
enum pcp_errc pcp_output_open(struct pcp_output *o, const char *path, struct pcp_error *err);

/* Makes the output final: flushes and checks for write errors (a full disk, a closed
 * pipe); for a temporary file also fsyncs, closes and renames it over path. On failure
 * the temporary file is removed and PCP_ERR_SYSTEM names the output. */
enum pcp_errc pcp_output_commit(struct pcp_output *o, struct pcp_error *err);

/* Drops what was not committed (closes and removes the temporary file; flushes stdout)
 * and frees o's strings. Safe after commit and on a zeroed struct. */
void pcp_output_abort(struct pcp_output *o);

#endif
