/* The option table (options.c), read by cli.c: each option's names, argument, configuration
 * key, setter and help. */
#ifndef PCP_OPTIONS_H
#define PCP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "error.h"

typedef enum pcp_errc (*pcp_option_setter)(struct pcp_settings *s, const char *v,
                                           struct pcp_error *err);

struct pcp_option {
	const char *name;
	int short_name;         /* 0 when none */
	const char *arg;        /* argument name for --help, NULL for a flag */
	const char *config_key; /* key in [defaults], NULL when the option is command-line only */
	pcp_option_setter set;
	const char *help;
};

extern const struct pcp_option pcp_options[];
extern const size_t pcp_n_options;

/* The setters cli.c treats apart: --config is read before the other options, --help and
 * --version end parsing, --require is kept in order, --store-password values are hidden
 * from argv. */
enum pcp_errc pcp_option_config(struct pcp_settings *s, const char *v, struct pcp_error *err);
enum pcp_errc pcp_option_help(struct pcp_settings *s, const char *v, struct pcp_error *err);
enum pcp_errc pcp_option_version(struct pcp_settings *s, const char *v, struct pcp_error *err);
enum pcp_errc pcp_option_require(struct pcp_settings *s, const char *v, struct pcp_error *err);
enum pcp_errc pcp_option_store_password(struct pcp_settings *s, const char *v,
                                        struct pcp_error *err);

/* A [defaults] or [module NAME] key's option; NULL when a module may not set it. */
const struct pcp_option *pcp_option_for_module_key(const char *key);

/* Whether the option belongs to a command-line run only (output, gates, inputs, the
 * audit), never to the exporter. */
bool pcp_option_run_only(const struct pcp_option *o);

/* Whether s names a store called name. */
bool pcp_settings_store_known(const struct pcp_settings *s, const char *name);

/* Node's bundled roots shipped beside the configuration file (config/), when present:
 * s->node_roots set to them. */
enum pcp_errc pcp_settings_default_node_roots(struct pcp_settings *s, struct pcp_error *err);

#endif
