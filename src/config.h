/* Settings of a run (defaults < configuration file < command line) and the INI reader.
 * The option table in cli.c decides which keys a file may set; this module only reads
 * files and holds values. */
#ifndef PCP_CONFIG_H
#define PCP_CONFIG_H

#include <stdbool.h>
#include <time.h>

#include "driver.h"
#include "error.h"
#include "report.h"
#include "result.h"
#include "truststore.h"

enum pcp_color { PCP_COLOR_AUTO, PCP_COLOR_ALWAYS, PCP_COLOR_NEVER };

/* Where the password of one store comes from, as given. */
struct pcp_password_spec {
	char *store; /* owned */
	enum pcp_password_source source;
	char *value;    /* owned, cleansed when freed: the password, its file or variable */
	bool from_file; /* from the configuration file, else from the command line */
};

#define PCP_MAX_INSTANTS 16 /* --at and --require STORE@TIME instants */
#define PCP_MAX_DRIVERS  4  /* --driver: every known driver once */

struct pcp_module;

/* --require STORE[@TIME], parsed once. */
struct pcp_require {
	char *text;  /* as given, for messages; owned */
	char *store; /* owned */
	time_t at;
	bool has_at;
};

struct pcp_settings {
	/* targets */
	const char **targets; /* borrowed from argv */
	size_t n_targets;
	char **target_files; /* owned */
	size_t n_target_files;
	/* stores: file ones are replaced as a whole when the command line names any */
	struct pcp_store_spec *stores;
	size_t n_stores;
	bool stores_from_cli;
	/* Java truststore passwords until pcp_cli_parse hands them to their stores */
	struct pcp_password_spec *passwords;
	size_t n_passwords;
	/* verification */
	enum pcp_sslmode sslmode;
	time_t at;                      /* the first --at (instants[0]) */
	bool at_given;                  /* --at was given */
	time_t ats[PCP_MAX_INSTANTS];   /* every --at, in order */
	bool ats_now[PCP_MAX_INSTANTS]; /* --at now: the run's now, taken when it starts */
	size_t n_ats;
	char **forbid; /* --forbid-class names, owned */
	size_t n_forbid;
	double warn_days; /* --warn-days, < 0 when not given */
	char *old_store;  /* store whose pass means "old root works" (class), owned or NULL */
	char *new_store;  /* likewise for the new root */
	char **chains;    /* --chain FILE: offline chains, owned */
	size_t n_chains;
	char *chain_host; /* --host NAME for offline chains, owned or NULL */
	char *baseline;   /* --baseline FILE, owned or NULL */
	bool fail_on_change;
	struct pcp_require *require; /* --require, parsed, owned */
	size_t n_require;
	bool require_from_cli; /* the command line replaced the file's requirements */
	const struct pcp_driver *drivers[PCP_MAX_DRIVERS]; /* --driver besides libpq, in the
	                                                    * order given (static) */
	const char *driver_names[PCP_MAX_DRIVERS + 1];     /* their names, NULL-terminated */
	size_t n_drivers;
	const struct pcp_driver *client_driver; /* --client-driver; NULL: libpq */
	bool forbid_pinned; /* --forbid-pinned: exit 1 on a pass that rests on a pinned non-root */
	char *node_roots;   /* --node-roots FILE, owned; NULL: node-bundled-roots.pem beside the
	                     * configuration file, when there is one */
	char *java_cacerts; /* --java-cacerts FILE, owned; NULL: Debian's JDK cacerts */
	char *java_truststore; /* --java-truststore STORE, owned; NULL: the JDK's cacerts */
	/* run */
	double timeout; /* seconds, whole probe */
	unsigned concurrency;
	enum pcp_format format;
	enum pcp_color color;
	char *save_chains; /* owned directory or NULL */
	char *output;      /* --output FILE, owned; NULL: standard output */
	/* fleet inputs */
	int family;  /* AF_UNSPEC, or AF_INET (-4) / AF_INET6 (-6) */
	char **pins; /* --resolve HOST:PORT:ADDR specs, owned */
	size_t n_pins;
	char *dns_server;                 /* owned or NULL */
	unsigned shard_k, shard_n;        /* keep targets whose hash % n == k; n == 0: all */
	char *client_home;                /* owned or NULL: home for ~/.postgresql/root.crt */
	char *future_chain;               /* owned or NULL: PEM chain served after the switch */
	char *config_path;                /* owned: the file actually read, or NULL */
	bool explain;                     /* text: commands that reproduce each failure */
	enum pcp_negotiation negotiation; /* --negotiation: SSLRequest first, or direct TLS */
	int libpq_version;                /* --libpq-version: the audit's rules (15-18) */
	bool help, version;
	/* exporter */
	char *listen;               /* --listen ADDR:PORT, owned or NULL (a command-line run) */
	struct pcp_module *modules; /* the file's [module NAME] sections, owned (--listen only) */
	size_t n_modules;
};

/* A [module NAME] section: the settings /probe?module=NAME probes with. They start from the
 * built-in defaults and the file's [defaults], then take the section's keys; the stores are
 * the file's [stores], all of them or those the section's `stores` key names. The command
 * line sets only the default module (the exporter's own settings). */
struct pcp_module {
	char *name; /* owned */
	struct pcp_settings settings;
};

#define PCP_DEFAULT_TIMEOUT     10.0
#define PCP_DEFAULT_CONCURRENCY 256u
#define PCP_MAX_CONCURRENCY     1000000u

void pcp_settings_init(struct pcp_settings *s);
void pcp_settings_cleanup(struct pcp_settings *s);

/* Frees a list of owned strings and empties it. */
void pcp_strings_clear(char ***list, size_t *n);

/* Adds a store spec (name and path copied); rejects an empty name or path. */
enum pcp_errc pcp_settings_add_store(struct pcp_settings *s, const char *name, const char *path,
                                     struct pcp_error *err);
/* The instants a run verifies at: every --at (or now), then each --require STORE@TIME
 * instant not among them. Returns how many were written to out (at most PCP_MAX_INSTANTS);
 * bit a of *now_mask is set when instant a is the run's now (the default, or --at now). */
size_t pcp_settings_instants(const struct pcp_settings *s, time_t now, time_t *out,
                             unsigned *now_mask);

/* Adds a --require value "STORE" or "STORE@TIME". PCP_ERR_USAGE for an empty store name or
 * a bad time. */
enum pcp_errc pcp_settings_add_require(struct pcp_settings *s, const char *v,
                                       struct pcp_error *err);
void pcp_settings_clear_require(struct pcp_settings *s);

/* Drops all store specs (when the command line replaces the file's). */
void pcp_settings_clear_stores(struct pcp_settings *s);

/* Records a store's password source (value copied). A second one for the same store from
 * the same place is an error (PCP_ERR_USAGE); the command line's replaces the file's. */
enum pcp_errc pcp_settings_add_password(struct pcp_settings *s, const char *store,
                                        enum pcp_password_source source, const char *value,
                                        bool from_file, struct pcp_error *err);

/* Drops the passwords that came from the configuration file. */
void pcp_settings_clear_file_passwords(struct pcp_settings *s);

/* Called for every key of a configuration file. Returns PCP_OK or an error code with err
 * filled (the reader adds file and line). */
typedef enum pcp_errc (*pcp_config_key_fn)(void *ctx, const char *section, const char *key,
                                           const char *value, const char *config_dir,
                                           struct pcp_error *err);

/* Reads an INI file. A file that cannot be opened is PCP_ERR_INPUT; a syntax error or an
 * error from fn is PCP_ERR_CONFIG with "FILE:LINE: ..." in err. */
enum pcp_errc pcp_config_read(const char *path, pcp_config_key_fn fn, void *ctx,
                              struct pcp_error *err);

/* The default configuration file: $PGCERTPROBE_CONFIG, else the one installed beside the
 * binary (BIN/../share/pgcertprobe/pgcertprobe.conf), else the source tree's config/.
 * Returns NULL when none exists (built-in defaults apply). Caller frees. */
char *pcp_config_default_path(void);

#endif
