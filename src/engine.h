/* The probe engine: groups in (one target after expansion: every address its name resolves
 * to), one finished record per address out. It resolves names on the loop, keeps a bounded
 * window of probes in flight with their deadlines, judges what each probe saw into a record
 * and tells the group's owner once all of the group's records are done. The command-line
 * run (runner.c) and the exporter both feed it; it reads no input and writes no output. */
#ifndef PCP_ENGINE_H
#define PCP_ENGINE_H

#include <ev.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "chain.h"
#include "error.h"
#include "judge.h"
#include "probe.h"
#include "resolve.h"
#include "result.h"
#include "targets.h"

struct pcp_engine_config {
	struct ev_loop *loop;
	unsigned window; /* probes in flight at most */
	struct pcp_resolve_opts resolve;
	char *const *pins; /* --resolve HOST:PORT:ADDR specs */
	size_t n_pins;
	const char *save_chains; /* directory for served chains, or NULL */
	bool trace;              /* probes log their state changes */
};

struct pcp_group;
typedef void (*pcp_group_done_fn)(struct pcp_group *g, void *arg);

/* One target. The owner fills the first block and hands the group to pcp_engine_submit or
 * pcp_engine_conclude; the group is complete when n_done == n_records, and done runs then
 * (possibly before submit returns, for a group concluded at once). The owner frees it with
 * pcp_group_free, never while the engine still holds it (see pcp_engine_holds). */
struct pcp_group {
	struct pcp_target t;                   /* owned */
	struct pcp_judge *judge;               /* borrowed */
	const struct pcp_judge_client *client; /* the audited client, NULL when none */
	enum pcp_sslmode sslmode;              /* records' mode unless the target names one */
	double timeout;                        /* seconds per probe */
	double not_after; /* loop time by which the group ends (0: none): a probe started
	                   * late gets what is left; an address not started by then, or a name
	                   * still resolving, times out unprobed (the exporter's deadline) */
	enum pcp_negotiation negotiation; /* SSLRequest first, or TLS at once */
	bool alpn;    /* offer ALPN "postgresql" over SSLRequest too (audits by libpq 17+) */
	size_t index; /* position in the input (--save-chains names) */
	pcp_group_done_fn done; /* may be NULL */
	void *done_arg;
	struct pcp_group *next; /* free for the owner's lists */
	/* Set by the engine. */
	struct pcp_result **results; /* n_records, owned; allocated once the addresses are known */
	size_t n_records, n_done;
	struct pcp_engine *engine;
	struct pcp_probe_env env; /* what this group's probes share */
	struct pcp_group *prev_runnable, *next_runnable;
	ev_timer expiry;                /* at not_after, when set: what has not started times out */
	struct sockaddr_storage *addrs; /* owned */
	size_t n_addrs, next_addr;
	bool resolving;
};

/* A new group for target t (taken over: *t is zeroed). NULL when out of memory (t is then
 * cleaned up). */
struct pcp_group *pcp_group_new(struct pcp_target *t);
void pcp_group_free(struct pcp_group *g);

/* What one address came to, for pcp_engine_conclude: a status without a probe (invalid,
 * cancelled before it started), or an offline chain judged like a served one. */
struct pcp_outcome {
	enum pcp_status status;
	const char *error;             /* when status is not ok */
	const struct pcp_chain *chain; /* with status ok: the chain, borrowed */
};

/* A new engine on cfg->loop. NULL with err set (PCP_ERR_USAGE for a bad --resolve or DNS
 * server, PCP_ERR_TLS or PCP_ERR_SYSTEM otherwise). */
struct pcp_engine *pcp_engine_new(const struct pcp_engine_config *cfg, struct pcp_error *err);

/* Cancels everything the engine holds (each group gets its records, cancelled) and frees
 * it. NULL is a no-op. */
void pcp_engine_free(struct pcp_engine *e);

/* Starts resolving g's host, then probes every address in the window. Returns 0, or -1
 * with err set when the lookup cannot even be queued. */
int pcp_engine_submit(struct pcp_engine *e, struct pcp_group *g, struct pcp_error *err);

/* Makes g a single record that needs no probe, and completes it now. Returns 0, or -1 with
 * err set (out of memory). */
int pcp_engine_conclude(struct pcp_engine *e, struct pcp_group *g, const struct pcp_outcome *o,
                        struct pcp_error *err);

/* Ends every lookup and probe in flight and every address not yet started: each gets a
 * cancelled record and its group completes. Submitting afterwards works as before. */
void pcp_engine_cancel_all(struct pcp_engine *e);

/* True while a group submitted to the engine is not complete. */
bool pcp_engine_holds(const struct pcp_engine *e);

/* Probes in flight now. */
unsigned pcp_engine_in_flight(const struct pcp_engine *e);

/* The error that stopped the engine (out of memory while judging), or NULL. The engine
 * breaks the loop when it sets one; its owner reports it. */
const struct pcp_error *pcp_engine_failure(const struct pcp_engine *e);

#endif
