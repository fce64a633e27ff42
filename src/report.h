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
	PCP_FORMAT_HTML,    /* one self-contained page */
};

/* Parses "text" / "json" / "prometheus" / "csv" / "summary" / "html"; -1 for anything else. */
int pcp_format_parse(const char *s, enum pcp_format *out);

/* What every writer may know about the run. Borrowed for the writer's lifetime. */
struct pcp_run_info {
	const char *const *store_names; /* verdict a * n_stores + i of every record belongs to
	                                 * store i at instant a */
	size_t n_stores;
	time_t at;         /* the first verification instant (ats[0]) */
	time_t now;        /* when the run started */
	unsigned now_mask; /* bit a: instant a is the run's now (the default, or --at now) */
	const time_t *ats; /* every instant, in order; verdicts are per store per instant */
	size_t n_ats;
	double warn_days;         /* --warn-days, < 0 when not given */
	enum pcp_sslmode sslmode; /* default mode */
	bool color;               /* text: ANSI colour (only on a terminal) */
	const char *version;
	bool explain;                    /* text: commands that reproduce each failure by hand */
	const char *const *store_paths;  /* store i's file or directory (n_stores long), or NULL */
	const char *const *store_kinds;  /* store i's kind: "pem", "directory", "pkcs12" or "jks"
	                                  * (n_stores long), or NULL */
	const char *old_store;           /* the old root's store (--old-store), NULL: "baltimore" */
	const char *new_store;           /* the new root's (--new-store), NULL: "digicert-g2" */
	const char *const *driver_names; /* --driver names besides libpq; records' drivers[k]
	                                  * belong to driver_names[k] */
	size_t n_drivers;
	bool per_probe; /* Prometheus: one exporter /probe answer: no run-level families, and
	                 * instants that are "now" labelled at="now", stable across scrapes */
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
 * report_csv.c, report_summary.c, report_html.c). */
struct pcp_writer *pcp_report_text_new(FILE *out, const struct pcp_run_info *info);
struct pcp_writer *pcp_report_json_new(FILE *out, const struct pcp_run_info *info);
struct pcp_writer *pcp_report_prometheus_new(FILE *out, const struct pcp_run_info *info);
struct pcp_writer *pcp_report_csv_new(FILE *out, const struct pcp_run_info *info);
struct pcp_writer *pcp_report_summary_new(FILE *out, const struct pcp_run_info *info);
struct pcp_writer *pcp_report_html_new(FILE *out, const struct pcp_run_info *info);

/* How many instants the run verifies at (at least 1, also when ats is not set), and the
 * a-th of them (info->at when ats is not set). */
size_t pcp_run_n_instants(const struct pcp_run_info *info);
time_t pcp_run_instant(const struct pcp_run_info *info, size_t a);
/* True when instant a is the run's now (the default instant, or --at now). */
bool pcp_run_is_now(const struct pcp_run_info *info, size_t a);

#endif
