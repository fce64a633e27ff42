/* The progress line on a terminal: "done/total, rate/s, failures, ~time left" on stderr,
 * rewritten in place at most ten times a second, shown only once a run has lasted a second,
 * and cleared at the end. The runner feeds it counts and the loop's clock; it does no I/O
 * of its own beyond writing to the stream it was given. */
#ifndef PCP_PROGRESS_H
#define PCP_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct pcp_progress;

/* A progress line on out (borrowed; usually stderr). When enabled is false (stderr is not a
 * terminal) every call is a no-op. NULL on allocation failure, which callers may treat as
 * "no progress line": every function accepts NULL. */
struct pcp_progress *pcp_progress_new(FILE *out, bool enabled);

/* Reports done records (failed of them not verified or not probed) at time now (seconds,
 * any monotonic origin, e.g. ev_now()). total is 0 while the input is still being read:
 * the line then shows no total and no time left. The first call starts the clock; nothing
 * is drawn before a second has passed, nor more than ten times a second. */
void pcp_progress_update(struct pcp_progress *p, size_t done, size_t failed, size_t total,
                         double now);

/* Clears the line if one is shown (before the report or a message goes to the terminal).
 * A later update draws it again. */
void pcp_progress_finish(struct pcp_progress *p);

/* Clears the line and frees p; NULL is a no-op. */
void pcp_progress_free(struct pcp_progress *p);

#endif
