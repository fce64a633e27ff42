/* The exporter (--listen): Prometheus scrapes GET /probe?target=T[&module=M] the way it
 * scrapes blackbox_exporter, and each answer is the --format prometheus families for T's
 * addresses, probed then. GET /metrics is the exporter's own metrics, GET / a small page.
 * One libev loop serves HTTP (httpd.c) and runs the probes (engine.c). */
#ifndef PCP_EXPORTER_H
#define PCP_EXPORTER_H

#include "config.h"
#include "error.h"

/* Serves s->listen with the default module s and the modules s->modules until SIGINT or
 * SIGTERM; then stops accepting, cancels the probes in flight (their requests are answered
 * 503) and returns PCP_OK within seconds. Returns an error that stopped it: PCP_ERR_USAGE
 * for a bad --listen address, PCP_ERR_SYSTEM for a port in use or no memory,
 * PCP_ERR_CONFIG for a store that does not load. */
enum pcp_errc pcp_exporter_run(const struct pcp_settings *s, int auth_level, struct pcp_error *err);

#endif
