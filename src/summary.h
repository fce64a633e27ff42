/* The fleet summary (report_summary.c), shared by the text and summary writers: counts per
 * store and instant, per class and anchor, divergent names, the client audit, changes since
 * the baseline and plain sentences. add takes every record once (counts and capped lists
 * only); print writes the block. NULL from new on allocation failure; add and print return
 * -1 after a failed allocation or write. */
#ifndef PCP_SUMMARY_H
#define PCP_SUMMARY_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "report.h"
#include "result.h"

struct pcp_summary;
struct pcp_summary *pcp_summary_new(const struct pcp_run_info *info);
int pcp_summary_add(struct pcp_summary *s, const struct pcp_result *r);
int pcp_summary_print(struct pcp_summary *s, FILE *out, const struct pcp_run_totals *totals);
void pcp_summary_free(struct pcp_summary *s);

/* A counted key: a class name (static) or an anchor subject (owned, raw: escape it). */
struct pcp_summary_count {
	char *key;
	size_t n;
};

/* A capped list of sanitised lines (as the text shows them), the rest counted. */
struct pcp_summary_lines {
	char **items;
	size_t n, dropped;
};

/* The summary's counts and capped lists, for a writer that lays them out itself (HTML).
 * Every pointer is borrowed from the summary and valid until its next add or free. */
struct pcp_summary_view {
	size_t records, not_probed;
	const size_t *verified;       /* per verdict column (instant * n_stores + store) */
	const size_t *expiring;       /* per verdict column: of those, expiring (--warn-days) */
	const time_t *expiring_first; /* per verdict column: the earliest such expiry */
	const size_t *fail_all;       /* per instant: reachable records no store verifies */
	const struct pcp_summary_count *classes; /* in migration order, zero counts included */
	size_t n_classes, other_classes;
	const struct pcp_summary_count *anchors; /* where the chains end */
	size_t n_anchors, other_anchors;
	const struct pcp_summary_count *old_anchors; /* old-store anchors still depended on */
	size_t n_old_anchors, other_old_anchors;
	const struct pcp_summary_lines *divergent; /* names whose addresses differ */
	size_t clients, now_connect, now_plain, after_clients, after_connect, after_plain;
	const struct pcp_summary_lines *client_notes; /* "  TARGET at ADDR: error" */
	bool any_future;
	const size_t *future_n, *future_ok; /* per store: --future-chain verdicts, verified */
	bool has_baseline;
	size_t changes, changed_records;
	const struct pcp_summary_lines *change_notes; /* "  ADDRESS: kind ..." */
};
void pcp_summary_view(const struct pcp_summary *s, struct pcp_summary_view *v);

#endif
