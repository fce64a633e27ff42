/* The parts of a run made from its settings in one place: the writers' run info, the
 * judge's and the engine's configuration, and a group's defaults. The command-line run
 * (main.c, runner.c) and each exporter module (exporter.c) build theirs here, so a new
 * setting reaches both the same way. */
#ifndef PCP_SETUP_H
#define PCP_SETUP_H

#include <time.h>

#include "config.h"
#include "engine.h"
#include "judge.h"
#include "report.h"
#include "truststore.h"

/* The instants of a run: the settings' (pcp_settings_instants) as of now. */
struct pcp_instants {
	time_t now;
	time_t at[PCP_MAX_INSTANTS];
	size_t n;
	unsigned now_mask; /* bit a: instant a is now */
};

void pcp_setup_instants(struct pcp_instants *in, const struct pcp_settings *s, time_t now);

/* What every writer may know (colour, --explain and per_probe are the caller's). */
void pcp_setup_run_info(struct pcp_run_info *info, const struct pcp_settings *s,
                        const struct pcp_store_list *stores, const struct pcp_instants *in);

/* The judge of these stores and instants, with the settings' drivers, classes, expiry
 * warnings, audited clients' home, future chain and baseline. */
void pcp_setup_judge(struct pcp_judge_config *j, const struct pcp_settings *s,
                     const struct pcp_store_list *stores, const struct pcp_instants *in,
                     int auth_level);

/* The engine on loop (the window is the caller's: it depends on the open-file limit). */
void pcp_setup_engine(struct pcp_engine_config *e, struct ev_loop *loop,
                      const struct pcp_settings *s);

/* A group's defaults: judged by j, the settings' sslmode, timeout and negotiation. */
void pcp_setup_group(struct pcp_group *g, const struct pcp_settings *s, struct pcp_judge *j);

#endif
