/* The fleet summary (report_summary.c), shared by the text and summary writers: counts per
 * store and instant, per class and anchor, divergent names, the client audit, changes since
 * the baseline and plain sentences. add takes every record once (counts and capped lists
 * only); print writes the block. NULL from new on allocation failure; add and print return
 * -1 after a failed allocation or write. */
#ifndef PCP_SUMMARY_H
#define PCP_SUMMARY_H

#include <stdio.h>

#include "report.h"
#include "result.h"

struct pcp_summary;
struct pcp_summary *pcp_summary_new(const struct pcp_run_info *info);
int pcp_summary_add(struct pcp_summary *s, const struct pcp_result *r);
int pcp_summary_print(struct pcp_summary *s, FILE *out, const struct pcp_run_totals *totals);
void pcp_summary_free(struct pcp_summary *s);

#endif
