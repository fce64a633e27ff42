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
#include "driver.h"
#include "error.h"
#include "result.h"
#include "targets.h"
#include "truststore.h"

struct pcp_judge_config {
	const struct pcp_store_list *stores; /* borrowed for the judge's lifetime */
	const time_t *ats;                   /* instants, at least one; copied */
	size_t n_ats;
	unsigned now_mask; /* bit a: instant a is "now", moved by pcp_judge_set_now */
	int auth_level;
	double warn_days;      /* < 0: no expiry marks */
	const char *old_store; /* class stores; NULL: "baltimore", "digicert-g2" */
	const char *new_store;
	const char *client_home;  /* audited clients' home, NULL: the probing user's */
	const char *future_chain; /* --future-chain file or NULL */
	const char *baseline;     /* --baseline file or NULL */
	const char *node_roots; /* Node's bundled roots (PEM) for node-postgres clients, or NULL */
	const struct pcp_driver *const *drivers; /* judged besides libpq; borrowed */
	size_t n_drivers;
	/* The audited JVMs' cacerts (--java-cacerts): their "[jdk]" roots for pgJDBC's SHA-1
	 * rule, and DefaultJavaSSLFactory's truststore. NULL: PCP_JDK_CACERTS, read when
	 * needed and missed quietly; given, it must load (PCP_ERR_CONFIG). */
	const char *java_cacerts;
	/* --java-truststore: the store DefaultJavaSSLFactory clients name as
	 * javax.net.ssl.trustStore (a Java truststore of stores), or NULL for cacerts. */
	const char *java_truststore;
};

struct pcp_judge;

/* Loads the future chain, the baseline and the JDK's cacerts when needed. NULL with err
 * set (PCP_ERR_INPUT for files, PCP_ERR_CONFIG for the cacerts, PCP_ERR_USAGE for a
 * --java-truststore that names no Java truststore of the run). */
struct pcp_judge *pcp_judge_new(const struct pcp_judge_config *cfg, struct pcp_error *err);
void pcp_judge_free(struct pcp_judge *j);

/* The root file of the client a connection-string target describes, loaded once per path:
 * *out is borrowed from the judge, NULL for targets that are not connection strings.
 * Returns 0, or -1 with err set when out of memory. */
struct pcp_judge_client;
int pcp_judge_client_for(struct pcp_judge *j, const struct pcp_target *t,
                         const struct pcp_judge_client **out, struct pcp_error *err);

/* Completes res (status, host, sslmode, error already set): with chain (status ok, at
 * least one certificate) the chain facts, verdicts and anchor; then class (none without
 * both class stores), future verdicts, baseline changes and, for a connection-string
 * target (client non-NULL), the client audit. Invalid targets get nothing. Returns 0, or
 * -1 with err set (out of memory). */
int pcp_judge_record(struct pcp_judge *j, struct pcp_result *res, const struct pcp_target *t,
                     const struct pcp_judge_client *client, const struct pcp_chain *chain,
                     struct pcp_error *err);

/* Completes the records of one target, all done: marks them divergent when its addresses
 * serve different chains, and adds the baseline's vanished addresses to the first.
 * Returns 0, or -1 with err set. */
int pcp_judge_group(struct pcp_judge *j, struct pcp_result **results, size_t n,
                    struct pcp_error *err);

/* Moves the instants of now_mask to now (a long-running exporter judges each probe as of
 * its own time); verdicts cached for the old instants are not used again. Returns 0, or -1
 * with err set (out of memory re-verifying the future chain). */
int pcp_judge_set_now(struct pcp_judge *j, time_t now, struct pcp_error *err);

/* The baseline, for the runner's per-target and end-of-run comparisons; NULL when none. */
struct pcp_baseline *pcp_judge_baseline(struct pcp_judge *j);

#endif
