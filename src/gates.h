/* The run's gates: --require STORE[@TIME] (every address that reached TLS verifies under
 * STORE as of TIME), --forbid-class (no address is of CLASS) and --forbid-pinned (no
 * --driver passes only through a store's non-root), judged per record. The
 * stores and instants are resolved once, before the loop; each failure is handed to the
 * caller in words, so the caller decides where messages go. */
#ifndef PCP_GATES_H
#define PCP_GATES_H

#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "error.h"
#include "result.h"
#include "truststore.h"

struct pcp_gates;

/* Resolves the settings' requirements against the stores and the run's instants (ats, as
 * pcp_settings_instants gives them). NULL with err set: PCP_ERR_USAGE for a store that does
 * not exist, an instant beyond the run's, or --forbid-class without both class stores. */
struct pcp_gates *pcp_gates_new(const struct pcp_settings *s, const struct pcp_store_list *stores,
                                const time_t *ats, size_t n_ats, struct pcp_error *err);
void pcp_gates_free(struct pcp_gates *g);

typedef void (*pcp_gates_offender_fn)(void *arg, const char *message);

/* True when res fails a gate; fn (may be NULL) gets one message per failure, naming the
 * address, the store or class and libpq's reason. */
bool pcp_gates_check(const struct pcp_gates *g, const struct pcp_result *res,
                     pcp_gates_offender_fn fn, void *arg);

#endif
