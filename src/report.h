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
	PCP_FORMAT_PROMETHEUS,
	PCP_FORMAT_CSV,
	PCP_FORMAT_SUMMARY, /* the text writer's summary block alone */
};

/* Parses "text" / "json" / "prometheus" / "csv" / "summary"; returns -1 for anything else. */
int pcp_format_parse(const char *s, enum pcp_format *out);

/* What every writer may know about the run. Borrowed for the writer's lifetime. */
struct pcp_run_info {
	const char *const *store_names; /* verdict a * n_stores + i of every record belongs to
	                                 * store i at instant a */
	size_t n_stores;
	time_t at;         /* the first verification instant (ats[0]) */
	bool at_given;     /* --at was given (else: now) */
	const time_t *ats; /* every instant, in order; verdicts are per store per instant */
	size_t n_ats;
	double warn_days;         /* --warn-days, < 0 when not given */
	enum pcp_sslmode sslmode; /* default mode */
	bool color;               /* text: ANSI colour (only on a terminal) */
	const char *version;
	bool explain;                   /* text: commands that reproduce each failure by hand */
	const char *const *store_paths; /* store i's file or directory (n_stores long), or NULL */
	const char *old_store;          /* the old root's store (--old-store), NULL: "baltimore" */
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

/* Per-format constructors (report_text.c, report_json.c, report_prometheus.c,
 * report_csv.c). */
struct pcp_writer *pcp_report_text_new(FILE *out, const struct pcp_run_info *info);
struct pcp_writer *pcp_report_json_new(FILE *out, const struct pcp_run_info *info);
struct pcp_writer *pcp_report_prometheus_new(FILE *out, const struct pcp_run_info *info);
struct pcp_writer *pcp_report_csv_new(FILE *out, const struct pcp_run_info *info);
struct pcp_writer *pcp_report_summary_new(FILE *out, const struct pcp_run_info *info);

/* The fleet summary (report_summary.c), shared by the text and summary writers: counts per
 * store and instant, per class and anchor, divergent names, the client audit, changes since
 * the baseline and plain sentences. add takes every record once (counts and capped lists
 * only); print writes the block. NULL from new on allocation failure; add and print return
 * -1 after a failed allocation or write. */
struct pcp_summary;
struct pcp_summary *pcp_summary_new(const struct pcp_run_info *info);
int pcp_summary_add(struct pcp_summary *s, const struct pcp_result *r);
int pcp_summary_print(struct pcp_summary *s, FILE *out, const struct pcp_run_totals *totals);
void pcp_summary_free(struct pcp_summary *s);

/* Terminal-safe text for the text writers (report_text.c), caller frees, NULL when out of
 * memory: s sanitised (controls, bidi overrides and invalid bytes become "?") and cut to
 * max_cols display columns with "…"; and a record's address as the table shows it. */
char *pcp_text_clean(const char *s, size_t len, size_t max_cols);
char *pcp_text_address(const struct pcp_result *r);
/* The CN of an RFC 2253 name ("CN=x,O=y": "x", escapes removed), or the whole name when it
 * has none; sanitised and cut like pcp_text_clean. */
char *pcp_text_cn(const char *dn, size_t max_cols);
/* Instant a as the text shows it: "now" for the default instant, "2021-02-15" at midnight
 * UTC, else RFC 3339. buf holds at least 32 bytes. */
void pcp_text_instant(const struct pcp_run_info *info, size_t a, char *buf, size_t len);

/* How many instants the run verifies at (at least 1, also when ats is not set), and the
 * a-th of them (info->at when ats is not set). */
size_t pcp_run_n_instants(const struct pcp_run_info *info);
time_t pcp_run_instant(const struct pcp_run_info *info, size_t a);

/* Short reason for a table cell when the record did not reach TLS: "no SSL", "timeout". */
const char *pcp_status_short(enum pcp_status status);

#endif
