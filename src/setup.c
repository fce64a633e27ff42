/* The parts of a run made from its settings (see setup.h). */
#include "setup.h"

#include <stdlib.h>

void pcp_setup_instants(struct pcp_instants *in, const struct pcp_settings *s, time_t now)
{
	in->now = now;
	in->n = pcp_settings_instants(s, now, in->at, &in->now_mask);
}

void pcp_setup_run_info(struct pcp_run_info *info, const struct pcp_settings *s,
                        const struct pcp_store_list *stores, const struct pcp_instants *in)
{
	*info = (struct pcp_run_info){.store_names = stores->names,
	                              .n_stores = stores->n,
	                              .at = in->at[0],
	                              .now = in->now,
	                              .now_mask = in->now_mask,
	                              .ats = in->at,
	                              .n_ats = in->n,
	                              .warn_days = s->warn_days,
	                              .sslmode = s->sslmode,
	                              .version = PCP_VERSION,
	                              .store_paths = stores->paths,
	                              .store_kinds = stores->kinds,
	                              .old_store = s->old_store,
	                              .new_store = s->new_store,
	                              .driver_names = s->driver_names,
	                              .n_drivers = s->n_drivers};
}

void pcp_setup_judge(struct pcp_judge_config *j, const struct pcp_settings *s,
                     const struct pcp_store_list *stores, const struct pcp_instants *in,
                     int auth_level)
{
	*j = (struct pcp_judge_config){.stores = stores,
	                               .ats = in->at,
	                               .n_ats = in->n,
	                               .now_mask = in->now_mask,
	                               .auth_level = auth_level,
	                               .warn_days = s->warn_days,
	                               .old_store = s->old_store,
	                               .new_store = s->new_store,
	                               .client_home = s->client_home,
	                               .future_chain = s->future_chain,
	                               .baseline = s->baseline,
	                               .node_roots = s->node_roots,
	                               .drivers = s->drivers,
	                               .n_drivers = s->n_drivers,
	                               .java_cacerts = s->java_cacerts,
	                               .java_truststore = s->java_truststore};
}

void pcp_setup_engine(struct pcp_engine_config *e, struct ev_loop *loop,
                      const struct pcp_settings *s)
{
	*e = (struct pcp_engine_config){.loop = loop,
	                                .resolve = {.family = s->family,
	                                            .dns_server = s->dns_server,
	                                            .timeout = s->timeout},
	                                .pins = s->pins,
	                                .n_pins = s->n_pins,
	                                .save_chains = s->save_chains,
	                                .trace = getenv("PGCERTPROBE_TRACE") != NULL};
}

void pcp_setup_group(struct pcp_group *g, const struct pcp_settings *s, struct pcp_judge *j)
{
	g->judge = j;
	g->sslmode = s->sslmode;
	g->timeout = s->timeout;
	g->negotiation = s->negotiation;
	g->alpn = s->libpq_version >= 17; /* libpq 17+ offers ALPN on both paths */
}
