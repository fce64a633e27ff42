/* Baselines: an earlier run's JSON Lines output, indexed by (target, address), and the
 * changes of a new record against it (leaf rotated, intermediate or anchor changed, verdict
 * flipped per store, newly unreachable, new or vanished address). Loaded once before the
 * loop; read-only lookups after, apart from marking entries seen. */
#ifndef PCP_BASELINE_H
#define PCP_BASELINE_H

#include <stddef.h>

#include "error.h"
#include "result.h"

struct pcp_baseline;

/* Reads path (JSON Lines as written by --format json, possibly several runs concatenated:
 * the last record of a (target, addr) wins). Lines that are not such records are skipped
 * and counted. NULL with err set (PCP_ERR_INPUT) when the file cannot be read. */
struct pcp_baseline *pcp_baseline_load(const char *path, struct pcp_error *err);
void pcp_baseline_free(struct pcp_baseline *b);

/* Fills res->changes against the entry for (res->target, res->addr), comparing verdicts by
 * store name at the first instant (store_names[i] for res->verdicts[i]), and marks that
 * entry seen; no entry: one new_address change. Sets res->has_baseline. Returns 0, or -1
 * on allocation failure. */
int pcp_baseline_compare(struct pcp_baseline *b, struct pcp_result *res,
                         const char *const *store_names, size_t n_stores);

/* After all records of one target were compared: adds an address_vanished change to rec
 * (the target's first record) for every baseline address of that target not seen. */
int pcp_baseline_vanished(struct pcp_baseline *b, const char *target, struct pcp_result *rec);

/* The instant the baseline was verified at (its first record's "at", RFC 3339), or NULL
 * when no record says; *at_now is 1 when that run verified as of its own now, 0 when at
 * a given instant, -1 when the file does not say (written before "at_now" existed). */
const char *pcp_baseline_instant(const struct pcp_baseline *b, int *at_now);

/* Records in the file that were skipped as unreadable. */
size_t pcp_baseline_skipped(const struct pcp_baseline *b);

/* After the run: calls fn (may be NULL) for every baseline (target, addr) whose target this
 * run never compared at all (a target that vanished entirely), in file order; addr is ""
 * when the baseline record had none. Returns how many there were. */
size_t pcp_baseline_unseen(const struct pcp_baseline *b,
                           void (*fn)(void *arg, const char *target, const char *addr), void *arg);

#endif
