/* Report writers behind one small interface {begin, record, end}. Writers see records and
 * run facts only: never sockets, never OpenSSL objects. Records arrive in output order,
 * each exactly once. */
#ifndef PCP_REPORT_H
#define PCP_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "error.h"
#include "result.h"

enum pcp_format {
	PCP_FORMAT_TEXT,
	PCP_FORMAT_JSON,
};

/* Parses "text" / "json"; returns -1 for anything else. */
int pcp_format_parse(const char *s, enum pcp_format *out);

/* What every writer may know about the run. Borrowed for the writer's lifetime. */
struct pcp_run_info {
	const char *const *store_names; /* verdict a * n_stores + i of every record belongs to
					 * store i at instant a */
	size_t n_stores;
	time_t at;                /* the first verification instant (ats[0]) */
	bool at_given;            /* --at was given (else: now) */
	const time_t *ats;        /* every instant, in order; verdicts are per store per instant */
	size_t n_ats;
	double warn_days;         /* --warn-days, < 0 when not given */
	enum pcp_sslmode sslmode; /* default mode */
	bool color;               /* text: ANSI colour (only on a terminal) */
	const char *version;
};

/* Counts a writer may print at the end. Divergent names, the client audit and the
 * --future-chain counts are not here: the text writer takes them from the records (each
 * arrives exactly once), keeping counts and capped lists only. */
struct pcp_run_totals {
	size_t records;
	size_t ok;         /* reached TLS */
	size_t not_probed; /* status other than ok */
	size_t *verified;  /* per store: records whose verdict is ok (n_stores long) */
	bool interrupted;
};

struct pcp_writer;

struct pcp_writer_ops {
	int (*begin)(struct pcp_writer *w);
	int (*record)(struct pcp_writer *w, const struct pcp_result *r);
	int (*end)(struct pcp_writer *w, const struct pcp_run_totals *totals);
	void (*free)(struct pcp_writer *w);
};

struct pcp_writer {
	const struct pcp_writer_ops *ops;
	FILE *out;                       /* borrowed */
	const struct pcp_run_info *info; /* borrowed */
};

/* Creates the writer for a format. NULL on allocation failure. */
struct pcp_writer *pcp_writer_new(enum pcp_format format, FILE *out,
                                  const struct pcp_run_info *info);
void pcp_writer_free(struct pcp_writer *w);

/* Per-format constructors (report_text.c, report_json.c). */
struct pcp_writer *pcp_report_text_new(FILE *out, const struct pcp_run_info *info);
struct pcp_writer *pcp_report_json_new(FILE *out, const struct pcp_run_info *info);

/* Short reason for a table cell when the record did not reach TLS: "no SSL", "timeout". */
const char *pcp_status_short(enum pcp_status status);

#endif
