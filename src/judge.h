/* Judging: turns what a probe saw into a finished record. Chain facts and the verdicts per
 * store and instant (cached per identical served chain; the name check stays per record),
 * the class and anchor, --future-chain verdicts, --baseline changes and the client audit.
 * Set up once before the loop; the runner calls it from its callbacks, where the only file
 * reads are audited clients' root files, each loaded once. */
#ifndef PCP_JUDGE_H
#define PCP_JUDGE_H

#include <stddef.h>
#include <time.h>

#include "baseline.h"
#include "chain.h"
#include "error.h"
#include "result.h"
#include "targets.h"
#include "truststore.h"

struct pcp_judge_config {
	const struct pcp_store_list *stores; /* borrowed for the judge's lifetime */
	const time_t *ats;                   /* instants, at least one; borrowed */
	size_t n_ats;
	int auth_level;
	double warn_days;      /* < 0: no expiry marks */
	const char *old_store; /* class stores; NULL: "baltimore", "digicert-g2" */
	const char *new_store;
	const char *client_home;  /* audited clients' home, NULL: the probing user's */
	const char *future_chain; /* --future-chain file or NULL */
	const char *baseline;     /* --baseline file or NULL */
};

struct pcp_judge;

/* Loads the future chain and the baseline. NULL with err set (PCP_ERR_INPUT for files). */
struct pcp_judge *pcp_judge_new(const struct pcp_judge_config *cfg, struct pcp_error *err);
void pcp_judge_free(struct pcp_judge *j);

/* The root file of the client a connection-string target describes, loaded once per path.
 * Borrowed from the judge; NULL for targets that are not connection strings. */
struct pcp_judge_client;
const struct pcp_judge_client *pcp_judge_client_for(struct pcp_judge *j,
                                                    const struct pcp_target *t);

/* Completes res (status, host, sslmode, error already set): with chain (status ok) the
 * chain facts, verdicts and anchor; then class, future verdicts, baseline changes and, for
 * a connection-string target (client non-NULL), the client audit. Invalid targets get
 * nothing. Returns 0, or -1 on allocation failure. */
int pcp_judge_record(struct pcp_judge *j, struct pcp_result *res, const struct pcp_target *t,
                     const struct pcp_judge_client *client, const struct pcp_chain *chain);

/* The baseline, for the runner's per-target and end-of-run comparisons; NULL when none. */
struct pcp_baseline *pcp_judge_baseline(struct pcp_judge *j);

#endif
