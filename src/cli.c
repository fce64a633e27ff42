/* Option table and parsing. Each option has one setter; the same setter serves the command
 * line and the configuration file's [defaults] keys, so both accept exactly the same
 * values with the same messages. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "conninfo.h"
#include "driver.h"
#include "resolve.h"

typedef enum pcp_errc (*setter_fn)(struct pcp_settings *s, const char *v, struct pcp_error *err);

struct option_def {
	const char *name;
	int short_name;         /* 0 when none */
	const char *arg;        /* argument name for --help, NULL for a flag */
	const char *config_key; /* key in [defaults], NULL when the option is command-line only */
	setter_fn set;
	const char *help;
};

static enum pcp_errc add_string(char ***list, size_t *n, const char *v, struct pcp_error *err)
{
	char **grown = realloc(*list, (*n + 1) * sizeof *grown);

	if (!grown)
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	*list = grown;
	if (!(grown[*n] = strdup(v)))
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	(*n)++;
	return PCP_OK;
}

static enum pcp_errc set_string(char **slot, const char *v, struct pcp_error *err)
{
	free(*slot);
	*slot = strdup(v);
	return *slot ? PCP_OK : pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
}

static bool store_known(const struct pcp_settings *s, const char *name)
{
	for (size_t j = 0; j < s->n_stores; j++)
		if (strcmp(s->stores[j].name, name) == 0)
			return true;
	return false;
}

static enum pcp_errc set_targets(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	return add_string(&s->target_files, &s->n_target_files, v, err);
}

/* Splits "NAME=VALUE" of option opt (shown as OPT and ARG in messages): a store name of
 * letters, digits, '-', '_', '.' into name, and *value after the '='. Never quotes v: it
 * may hold a password. */
static enum pcp_errc split_store_value(const char *opt, const char *arg, const char *v, char *name,
                                       size_t namelen, const char **value, struct pcp_error *err)
{
	const char *eq = strchr(v, '=');

	if (!eq || eq == v)
		return pcp_error_set(err, PCP_ERR_USAGE, "--%s: expected NAME=%s", opt, arg);
	if ((size_t)(eq - v) >= namelen)
		return pcp_error_set(err, PCP_ERR_USAGE, "--%s: store name too long", opt);
	memcpy(name, v, (size_t)(eq - v));
	name[eq - v] = '\0';
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return pcp_error_set(
			        err, PCP_ERR_USAGE,
			        "--%s: name \"%s\" may hold only letters, digits, '-', '_', '.'",
			        opt, name);
	*value = eq + 1;
	return PCP_OK;
}

static enum pcp_errc set_store(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	char name[128];
	const char *path;

	if (!strchr(v, '=') || v[0] == '=')
		return pcp_error_set(err, PCP_ERR_USAGE, "--store \"%s\": expected NAME=PATH", v);
	if (split_store_value("store", "PATH", v, name, sizeof name, &path, err))
		return PCP_ERR_USAGE;
	if (!s->stores_from_cli) {
		/* The file's requirements and passwords name the file's stores: all are
		 * replaced. */
		pcp_settings_clear_stores(s);
		pcp_settings_clear_file_passwords(s);
		if (!s->require_from_cli)
			pcp_settings_clear_require(s);
		s->stores_from_cli = true;
	}
	if (store_known(s, name))
		return pcp_error_set(err, PCP_ERR_USAGE, "--store: duplicate store name \"%s\"",
		                     name);
	return pcp_settings_add_store(s, name, path, err);
}

static enum pcp_errc add_password(struct pcp_settings *s, const char *opt, const char *arg,
                                  enum pcp_password_source source, const char *v,
                                  struct pcp_error *err)
{
	char name[128];
	const char *value;

	if (split_store_value(opt, arg, v, name, sizeof name, &value, err))
		return PCP_ERR_USAGE;
	if (source != PCP_PASSWORD_LITERAL && !*value)
		return pcp_error_set(err, PCP_ERR_USAGE, "--%s %s: empty %s", opt, name, arg);
	return pcp_settings_add_password(s, name, source, value, false, err);
}

static enum pcp_errc set_store_password(struct pcp_settings *s, const char *v,
                                        struct pcp_error *err)
{
	return add_password(s, "store-password", "PASSWORD", PCP_PASSWORD_LITERAL, v, err);
}

static enum pcp_errc set_store_password_file(struct pcp_settings *s, const char *v,
                                             struct pcp_error *err)
{
	return add_password(s, "store-password-file", "FILE", PCP_PASSWORD_FILE, v, err);
}

static enum pcp_errc set_store_password_env(struct pcp_settings *s, const char *v,
                                            struct pcp_error *err)
{
	return add_password(s, "store-password-env", "VAR", PCP_PASSWORD_ENV, v, err);
}

static enum pcp_errc set_sslmode(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	if (strcmp(v, "verify-ca") == 0)
		s->sslmode = PCP_SSLMODE_VERIFY_CA;
	else if (strcmp(v, "verify-full") == 0)
		s->sslmode = PCP_SSLMODE_VERIFY_FULL;
	else
		return pcp_error_set(err, PCP_ERR_USAGE,
		                     "sslmode \"%s\": expected verify-ca or verify-full", v);
	return PCP_OK;
}

static enum pcp_errc set_at(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	bool now = strcmp(v, "now") == 0;
	time_t t = 0;

	if (!now && pcp_cli_parse_time(v, &t, err))
		return PCP_ERR_USAGE;
	if (s->n_ats == PCP_MAX_INSTANTS)
		return pcp_error_set(err, PCP_ERR_USAGE, "--at %s: at most %d instants", v,
		                     PCP_MAX_INSTANTS);
	s->ats_now[s->n_ats] = now;
	s->ats[s->n_ats++] = t;
	s->at = s->ats[0];
	s->at_given = true;
	return PCP_OK;
}

static enum pcp_errc set_forbid_class(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	static const char *const classes[] = {"old-only", "new-only", "both", "neither",
	                                      "unreachable"};

	for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
		if (strcmp(v, classes[i]) == 0)
			return add_string(&s->forbid, &s->n_forbid, v, err);
	return pcp_error_set(err, PCP_ERR_USAGE,
	                     "--forbid-class %s: expected old-only, new-only, both, neither or "
	                     "unreachable",
	                     v);
}

static enum pcp_errc set_warn_days(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || !isfinite(d) || d < 0 || d > 36500)
		return pcp_error_set(err, PCP_ERR_USAGE, "warn-days \"%s\": expected 0 to 36500",
		                     v);
	s->warn_days = d;
	return PCP_OK;
}

static enum pcp_errc set_chain(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	return add_string(&s->chains, &s->n_chains, v, err);
}

static enum pcp_errc set_chain_host(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	return set_string(&s->chain_host, v, err);
}

static enum pcp_errc set_baseline(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	return set_string(&s->baseline, v, err);
}

static enum pcp_errc set_fail_on_change(struct pcp_settings *s, const char *v,
                                        struct pcp_error *err)
{
	(void)v;
	(void)err;
	s->fail_on_change = true;
	return PCP_OK;
}

/* --driver NAME: libpq is always on; others are judged beside it, each once. */
static enum pcp_errc set_driver(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	const struct pcp_driver *d = pcp_driver_find(v);
	char known[128];

	if (!d) {
		pcp_driver_list(known, sizeof known);
		return pcp_error_set(err, PCP_ERR_USAGE,
		                     "--driver \"%s\": unknown driver (known: %s)", v, known);
	}
	if (d == &pcp_driver_libpq)
		return PCP_OK;
	for (size_t i = 0; i < s->n_drivers; i++)
		if (s->drivers[i] == d)
			return PCP_OK;
	if (s->n_drivers == PCP_MAX_DRIVERS)
		return pcp_error_set(err, PCP_ERR_USAGE, "--driver: too many drivers");
	s->driver_names[s->n_drivers] = d->name;
	s->drivers[s->n_drivers++] = d;
	return PCP_OK;
}

/* --client-driver NAME: whose rules the run's libpq-style strings and URIs follow. */
static enum pcp_errc set_client_driver(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	const struct pcp_driver *d = pcp_driver_find(v);

	if (d == &pcp_driver_pgjdbc)
		return pcp_error_set(err, PCP_ERR_USAGE,
		                     "--client-driver pgjdbc: pgJDBC's strings are JDBC URLs "
		                     "(jdbc:postgresql://…): give them as targets");
	if (!d)
		return pcp_error_set(
		        err, PCP_ERR_USAGE,
		        "--client-driver \"%s\": unknown (known: libpq, node-postgres, "
		        "pgx)",
		        v);
	s->client_driver = d == &pcp_driver_libpq ? NULL : d;
	return PCP_OK;
}

static enum pcp_errc set_forbid_pinned(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	(void)v;
	(void)err;
	s->forbid_pinned = true;
	return PCP_OK;
}

static enum pcp_errc set_node_roots(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	return set_string(&s->node_roots, v, err);
}

static enum pcp_errc set_java_cacerts(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	return set_string(&s->java_cacerts, v, err);
}

static enum pcp_errc set_java_truststore(struct pcp_settings *s, const char *v,
                                         struct pcp_error *err)
{
	return set_string(&s->java_truststore, v, err);
}

/* Node's bundled roots shipped beside the configuration file (config/), when present. */
static enum pcp_errc default_node_roots(struct pcp_settings *s, struct pcp_error *err)
{
	const char *slash = strrchr(s->config_path, '/');
	int dir = slash ? (int)(slash - s->config_path) : 1;
	char path[PATH_MAX];
	int n = snprintf(path, sizeof path, "%.*s/%s", dir, slash ? s->config_path : ".",
	                 "node-bundled-roots.pem");

	if (n < 0 || (size_t)n >= sizeof path || access(path, R_OK) != 0)
		return PCP_OK;
	return set_string(&s->node_roots, path, err);
}

static enum pcp_errc set_old_store(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	return set_string(&s->old_store, v, err);
}

static enum pcp_errc set_new_store(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	return set_string(&s->new_store, v, err);
}

static enum pcp_errc set_format(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	if (pcp_format_parse(v, &s->format) < 0)
		return pcp_error_set(
		        err, PCP_ERR_USAGE,
		        "format \"%s\": expected text, json, summary, prometheus, csv or html", v);
	return PCP_OK;
}

/* "-" is standard output, as without --output. */
static enum pcp_errc set_output(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	if (!*v)
		return pcp_error_set(err, PCP_ERR_USAGE, "--output: empty file name");
	free(s->output);
	s->output = NULL;
	if (strcmp(v, "-") == 0)
		return PCP_OK;
	s->output = strdup(v);
	return s->output ? PCP_OK : pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
}

static enum pcp_errc set_timeout(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || !isfinite(d) || d <= 0 || d > 86400)
		return pcp_error_set(
		        err, PCP_ERR_USAGE,
		        "timeout \"%s\": expected seconds greater than 0 (at most 86400)", v);
	s->timeout = d;
	return PCP_OK;
}

static enum pcp_errc set_concurrency(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < 1 || n > (long)PCP_MAX_CONCURRENCY)
		return pcp_error_set(err, PCP_ERR_USAGE, "concurrency \"%s\": expected 1 to %u", v,
		                     PCP_MAX_CONCURRENCY);
	s->concurrency = (unsigned)n;
	return PCP_OK;
}

static enum pcp_errc set_config(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	return set_string(&s->config_path, v, err);
}

static enum pcp_errc set_require(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	return pcp_settings_add_require(s, v, err);
}

static enum pcp_errc set_save_chains(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	return set_string(&s->save_chains, v, err);
}

static enum pcp_errc set_ipv4(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	(void)v;
	(void)err;
	s->family = AF_INET;
	return PCP_OK;
}

static enum pcp_errc set_ipv6(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	(void)v;
	(void)err;
	s->family = AF_INET6;
	return PCP_OK;
}

static enum pcp_errc set_resolve(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	if (pcp_resolve_spec_check(v, err))
		return PCP_ERR_USAGE;
	return add_string(&s->pins, &s->n_pins, v, err);
}

static enum pcp_errc set_dns_server(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	if (pcp_resolve_server_check(v, err))
		return PCP_ERR_USAGE;
	return set_string(&s->dns_server, v, err);
}

enum pcp_errc pcp_cli_parse_shard(const char *v, unsigned *k, unsigned *n, struct pcp_error *err)
{
	char *slash, *end;
	long kv, nv;

	errno = 0;
	kv = strtol(v, &slash, 10);
	if (errno || slash == v || *slash != '/')
		goto bad;
	nv = strtol(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || nv < 1 || nv > 1000000 || kv < 0 || kv >= nv)
		goto bad;
	*k = (unsigned)kv;
	*n = (unsigned)nv;
	return PCP_OK;
bad:
	return pcp_error_set(err, PCP_ERR_USAGE, "shard \"%s\": expected K/N with 0 <= K < N", v);
}

static enum pcp_errc set_shard(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	return pcp_cli_parse_shard(v, &s->shard_k, &s->shard_n, err);
}

static enum pcp_errc set_client_home(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	return set_string(&s->client_home, v, err);
}

static enum pcp_errc set_future_chain(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	return set_string(&s->future_chain, v, err);
}

static enum pcp_errc set_color(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	if (strcmp(v, "auto") == 0)
		s->color = PCP_COLOR_AUTO;
	else if (strcmp(v, "always") == 0)
		s->color = PCP_COLOR_ALWAYS;
	else if (strcmp(v, "never") == 0)
		s->color = PCP_COLOR_NEVER;
	else
		return pcp_error_set(err, PCP_ERR_USAGE,
		                     "color \"%s\": expected auto, always or never", v);
	return PCP_OK;
}

static enum pcp_errc set_negotiation(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	if (strcmp(v, "postgres") == 0)
		s->negotiation = PCP_NEGOTIATION_POSTGRES;
	else if (strcmp(v, "direct") == 0)
		s->negotiation = PCP_NEGOTIATION_DIRECT;
	else
		return pcp_error_set(err, PCP_ERR_USAGE,
		                     "negotiation \"%s\": expected postgres or direct", v);
	return PCP_OK;
}

static enum pcp_errc set_libpq_version(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < PCP_LIBPQ_MIN || n > PCP_LIBPQ_MAX)
		return pcp_error_set(err, PCP_ERR_USAGE,
		                     "libpq-version \"%s\": expected 15, 16, 17 or 18", v);
	s->libpq_version = (int)n;
	return PCP_OK;
}

static enum pcp_errc set_explain(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	(void)v;
	(void)err;
	s->explain = true;
	return PCP_OK;
}

static enum pcp_errc set_listen(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	if (!*v)
		return pcp_error_set(err, PCP_ERR_USAGE, "--listen: expected ADDR:PORT");
	return set_string(&s->listen, v, err);
}

static enum pcp_errc set_help(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	(void)v;
	(void)err;
	s->help = true;
	return PCP_OK;
}

static enum pcp_errc set_version(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	(void)v;
	(void)err;
	s->version = true;
	return PCP_OK;
}

static const struct option_def options[] = {
        {"targets", 'f', "FILE", NULL, set_targets,
         "read targets from FILE, one per line ('-' = stdin; '#' comments)"},
        {"store", 's', "NAME=PATH", NULL, set_store,
         "trust store: PEM file, hashed directory, or Java truststore (PKCS#12 or JKS)"
         " (repeatable; replaces the configured stores)"},
        {"store-password", 0, "NAME=PASSWORD", NULL, set_store_password,
         "password of Java truststore NAME (seen by other users until the run starts:"
         " prefer the next two)"},
        {"store-password-file", 0, "NAME=FILE", NULL, set_store_password_file,
         "read the password of truststore NAME from the first line of FILE"},
        {"store-password-env", 0, "NAME=VAR", NULL, set_store_password_env,
         "read the password of truststore NAME from environment variable VAR"},
        {"driver", 0, "NAME", "driver", set_driver,
         "also judge as this client driver: pgjdbc, node-postgres or pgx (repeatable;"
         " libpq is always judged)"},
        {"client-driver", 0, "NAME", "client_driver", set_client_driver,
         "whose rules connection strings and URIs follow in the client audit: libpq"
         " (default), node-postgres or pgx (JDBC URLs are always pgJDBC's)"},
        {"forbid-pinned", 0, NULL, NULL, set_forbid_pinned,
         "with --driver: exit 1 when a driver verifies only through a store certificate that"
         " is not a root (a pinned intermediate or server certificate)"},
        {"node-roots", 0, "FILE", NULL, set_node_roots,
         "Node's bundled roots as PEM, for node-postgres strings without sslrootcert"
         " (default: node-bundled-roots.pem beside the configuration)"},
        {"java-cacerts", 0, "FILE", "java_cacerts", set_java_cacerts,
         "the audited JVMs' lib/security/cacerts: DefaultJavaSSLFactory's default truststore,"
         " and its \"[jdk]\" roots for pgJDBC's SHA-1 rule (default: " PCP_JDK_CACERTS ")"},
        {"java-truststore", 0, "STORE", "java_truststore", set_java_truststore,
         "the --store (PKCS#12 or JKS) that audited DefaultJavaSSLFactory clients name as"
         " javax.net.ssl.trustStore (default: the JDK's cacerts)"},
        {"sslmode", 0, "MODE", "sslmode", set_sslmode,
         "verify-ca or verify-full (default verify-full): the libpq mode judged"},
        {"at", 0, "TIME", NULL, set_at,
         "verify as of TIME: now, 2021-02-15T00:00:00Z, 2021-02-15, or @UNIXSECONDS (default now;"
         " repeatable: every verdict at every instant)"},
        {"format", 0, "FORMAT", "format", set_format,
         "text (default), summary (the text without its table), json (one object per line),"
         " prometheus, csv or html (one self-contained page)"},
        {"output", 0, "FILE", NULL, set_output,
         "write to FILE (atomically: a temporary file renamed when the run completes)"},
        {"timeout", 't', "SECONDS", "timeout", set_timeout,
         "deadline for each probe: connect, reply and handshake (default 10)"},
        {"concurrency", 'j', "N", "concurrency", set_concurrency,
         "probes in flight at once (default 256)"},
        {"config", 'c', "FILE", NULL, set_config,
         "configuration file (default: the installed one)"},
        {"require", 'r', "STORE", "require", set_require,
         "exit 1 unless every address verifies under STORE (repeatable)"},
        {"save-chains", 0, "DIR", "save_chains", set_save_chains,
         "write each served chain to DIR as PEM, leaf first"},
        {"color", 0, "WHEN", "color", set_color, "auto (default), always or never"},
        {"ipv4", '4', NULL, NULL, set_ipv4, "probe IPv4 addresses only"},
        {"ipv6", '6', NULL, NULL, set_ipv6, "probe IPv6 addresses only"},
        {"resolve", 0, "HOST:PORT:ADDR", NULL, set_resolve,
         "use ADDR[,ADDR...] for HOST:PORT instead of DNS (repeatable)"},
        {"dns-server", 0, "ADDR[:PORT]", "dns_server", set_dns_server,
         "resolve names with this DNS server (default: the system's)"},
        {"shard", 0, "K/N", NULL, set_shard,
         "probe only the targets whose stable hash falls in shard K of N (0 <= K < N)"},
        {"client-home", 0, "DIR", "client_home", set_client_home,
         "home of audited clients: DIR/.postgresql/root.crt is their default root file"},
        {"future-chain", 0, "FILE", "future_chain", set_future_chain,
         "PEM chain servers will serve after the switch: verified per store and client"},
        {"forbid-class", 0, "CLASS", "forbid_class", set_forbid_class,
         "exit 1 while any address is of CLASS (old-only, new-only, both, neither, unreachable)"},
        {"warn-days", 0, "N", "warn_days", set_warn_days,
         "mark verdicts whose path stops verifying within N days of the instant"},
        {"old-store", 0, "STORE", "old_store", set_old_store,
         "the store of the old root, for classes (default: baltimore)"},
        {"new-store", 0, "STORE", "new_store", set_new_store,
         "the store of the new root, for classes (default: digicert-g2)"},
        {"chain", 0, "FILE", NULL, set_chain,
         "verify a saved PEM chain (leaf first) offline, like a probed address (repeatable)"},
        {"host", 0, "NAME", NULL, set_chain_host,
         "the host name offline chains are checked against for verify-full"},
        {"baseline", 0, "FILE", "baseline", set_baseline,
         "an earlier --format json output: add the changes since then to every record"},
        {"fail-on-change", 0, NULL, NULL, set_fail_on_change,
         "with --baseline: exit 1 when anything changed"},
        {"negotiation", 0, "MODE", "negotiation", set_negotiation,
         "postgres (default): SSLRequest first, as every libpq; direct: TLS at once with ALPN"
         " postgresql, as libpq 17+ with sslnegotiation=direct (PostgreSQL 17+ servers only)"},
        {"libpq-version", 0, "N", "libpq_version", set_libpq_version,
         "audit connection strings by the rules of libpq N: 15, 16, 17 or 18 (default: this"
         " machine's libpq)"},
        {"explain", 0, NULL, NULL, set_explain,
         "text: after each failure, the openssl and psql commands that reproduce it"},
        {"listen", 0, "ADDR:PORT", NULL, set_listen,
         "run as a Prometheus exporter: serve /probe?target=T[&module=M] and /metrics on"
         " ADDR:PORT (no targets on the command line)"},
        {"help", 'h', NULL, NULL, set_help, "show this help"},
        {"version", 'V', NULL, NULL, set_version, "show the version"},
};
#define N_OPTIONS (sizeof options / sizeof options[0])

/* The keys a [module NAME] section takes besides "stores": options (by config key, or by
 * long name when they have none) whose values reach each probe's group or judge in the
 * exporter. A new per-probe option needs one line here. */
static const char *const module_keys[] = {
        "sslmode",   "timeout", "at",          "warn_days",     "old_store",
        "new_store", "driver",  "negotiation", "libpq_version",
};

/* What does not apply to the exporter: run-level output, gates and inputs. */
static const setter_fn not_with_listen[] = {
        set_format,          set_output,        set_chain_host,   set_baseline,
        set_fail_on_change,  set_require,       set_forbid_class, set_forbid_pinned,
        set_shard,           set_explain,       set_save_chains,  set_future_chain,
        set_client_home,     set_client_driver, set_node_roots,   set_color,
        set_java_truststore,
};

void pcp_cli_usage(FILE *out)
{
	fputs("usage: pgcertprobe [OPTIONS] TARGET...\n"
	      "Probe PostgreSQL servers' TLS certificate chains and tell, per trust store,\n"
	      "whether a libpq client with that store as sslrootcert would connect.\n\n"
	      "TARGET: host, host:port, [v6addr]:port, a libpq connection string\n"
	      "        ('host=NAME hostaddr=ADDR port=P sslmode=verify-ca') or a postgresql:// "
	      "URI\n\n"
	      "options:\n",
	      out);
	for (size_t i = 0; i < N_OPTIONS; i++) {
		char left[64];
		const struct option_def *o = &options[i];

		if (o->short_name)
			snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name,
			         o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof left, "    --%s%s%s", o->name, o->arg ? " " : "",
			         o->arg ? o->arg : "");
		fprintf(out, "  %-26s %s\n", left, o->help);
	}
	fputs("\nexit codes: 0 all verified, 1 a required store failed, 2 some target not probed,\n"
	      "            64 usage, 66 unreadable input, 78 configuration or store error,\n"
	      "            130/143 interrupted\n",
	      out);
}

/* value, or config_dir/value when it is relative. */
static void config_path(char *path, size_t len, const char *config_dir, const char *value)
{
	if (value[0] == '/')
		snprintf(path, len, "%s", value);
	else
		snprintf(path, len, "%s/%s", config_dir, value);
}

/* A [defaults] or [module NAME] key's option; NULL when a module may not set it. */
static const struct option_def *module_option(const char *key)
{
	for (size_t k = 0; k < sizeof module_keys / sizeof module_keys[0]; k++) {
		if (strcmp(module_keys[k], key) != 0)
			continue;
		for (size_t i = 0; i < N_OPTIONS; i++)
			if (strcmp(options[i].config_key ? options[i].config_key : options[i].name,
			           key) == 0)
				return &options[i];
	}
	return NULL;
}

/* What a configuration file said that modules are built from once it is read whole: the
 * [defaults] keys modules take, every [stores] entry and store password source (paths
 * resolved), each module's keys. */
enum key_kind {
	KEY_OPTION,        /* an option's config key, or a module's "stores" */
	KEY_STORE,         /* [stores]: key is the store's name, value its path */
	KEY_PASSWORD_FILE, /* [store_password_files]: key is the store, value the file */
	KEY_PASSWORD_ENV,  /* [store_password_env]: key is the store, value the variable */
};

struct file_key {
	char *module; /* NULL: not in a [module NAME] */
	enum key_kind kind;
	char *key, *value;
};

struct file_read {
	struct pcp_settings *s;
	struct file_key *keys;
	size_t n_keys;
};

static enum pcp_errc remember(struct file_read *fr, const char *module, enum key_kind kind,
                              const char *key, const char *value, struct pcp_error *err)
{
	struct file_key *grown = realloc(fr->keys, (fr->n_keys + 1) * sizeof *grown);
	struct file_key *k;

	if (!grown)
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	fr->keys = grown;
	k = &grown[fr->n_keys];
	*k = (struct file_key){.module = module ? strdup(module) : NULL,
	                       .kind = kind,
	                       .key = strdup(key),
	                       .value = strdup(value)};
	if ((module && !k->module) || !k->key || !k->value) {
		free(k->module);
		free(k->key);
		free(k->value);
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	}
	fr->n_keys++;
	return PCP_OK;
}

static void file_read_cleanup(struct file_read *fr)
{
	for (size_t i = 0; i < fr->n_keys; i++) {
		free(fr->keys[i].module);
		free(fr->keys[i].key);
		free(fr->keys[i].value);
	}
	free(fr->keys);
}

/* The next name of a "stores" list (names separated by commas or blanks): its length, 0 at
 * the end; *p moves past it. */
static size_t next_name(const char **p)
{
	size_t n;

	*p += strspn(*p, ", \t");
	n = strcspn(*p, ", \t");
	*p += n;
	return n;
}

static bool names_hold(const char *list, const char *name)
{
	size_t n;

	for (const char *p = list; (n = next_name(&p)) > 0;)
		if (n == strlen(name) && strncmp(p - n, name, n) == 0)
			return true;
	return false;
}

static bool name_ok(const char *name, size_t len)
{
	if (len == 0 || len > 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("-_.", name[i]))
			return false;
	return true;
}

/* A key of [module NAME]: checked now (so the error names its line), applied once the whole
 * file is read (build_module). */
static enum pcp_errc module_key(struct file_read *fr, const char *name, const char *key,
                                const char *value, struct pcp_error *err)
{
	const struct option_def *o = module_option(key);
	struct pcp_settings scratch;
	enum pcp_errc rc;

	if (!name_ok(name, strlen(name)))
		return pcp_error_set(err, PCP_ERR_CONFIG,
		                     "[module %s]: a module name is 1 to 64 letters, digits, '-', "
		                     "'_' or '.'",
		                     name);
	if (strcmp(key, "stores") == 0) {
		const char *p = value;
		size_t n, count = 0;

		for (; (n = next_name(&p)) > 0; count++)
			if (!name_ok(p - n, n))
				return pcp_error_set(
				        err, PCP_ERR_CONFIG,
				        "[module %s]: stores \"%s\": expected store names", name,
				        value);
		if (!count)
			return pcp_error_set(err, PCP_ERR_CONFIG, "[module %s]: stores is empty",
			                     name);
		return remember(fr, name, KEY_OPTION, key, value, err);
	}
	if (!o)
		return pcp_error_set(err, PCP_ERR_CONFIG, "unknown key \"%s\" in [module %s]", key,
		                     name);
	pcp_settings_init(&scratch);
	rc = o->set(&scratch, value, err);
	pcp_settings_cleanup(&scratch);
	return rc ? PCP_ERR_CONFIG : remember(fr, name, KEY_OPTION, key, value, err);
}

/* Config files: [defaults] takes the table's config keys, [stores] takes NAME = PATH with
 * PATH relative to the file's directory, [store_password_files] NAME = FILE (relative
 * likewise), [store_password_env] NAME = VAR, and [module NAME] the module keys. */
static enum pcp_errc config_key(void *ctx, const char *section, const char *key, const char *value,
                                const char *config_dir, struct pcp_error *err)
{
	struct file_read *fr = ctx;
	struct pcp_settings *s = fr->s;
	char path[4096];

	if (strcmp(section, "stores") == 0) {
		if (!*value)
			return pcp_error_set(err, PCP_ERR_CONFIG, "store %s: path is empty", key);
		if (store_known(s, key))
			return pcp_error_set(err, PCP_ERR_CONFIG, "duplicate store name \"%s\"",
			                     key);
		config_path(path, sizeof path, config_dir, value);
		if (pcp_settings_add_store(s, key, path, err))
			return PCP_ERR_CONFIG;
		return remember(fr, NULL, KEY_STORE, key, path, err);
	}
	if (strcmp(section, "store_password_files") == 0 ||
	    strcmp(section, "store_password_env") == 0) {
		bool file = strcmp(section, "store_password_files") == 0;

		if (!*value)
			return pcp_error_set(err, PCP_ERR_CONFIG, "store %s: %s is empty", key,
			                     file ? "password file" : "variable name");
		if (file)
			config_path(path, sizeof path, config_dir, value);
		if (pcp_settings_add_password(s, key, file ? PCP_PASSWORD_FILE : PCP_PASSWORD_ENV,
		                              file ? path : value, true, err))
			return PCP_ERR_CONFIG;
		return remember(fr, NULL, file ? KEY_PASSWORD_FILE : KEY_PASSWORD_ENV, key,
		                file ? path : value, err);
	}
	if (strcmp(section, "defaults") == 0) {
		for (size_t i = 0; i < N_OPTIONS; i++)
			if (options[i].config_key && strcmp(options[i].config_key, key) == 0) {
				if (options[i].set(s, value, err))
					return PCP_ERR_CONFIG;
				return module_option(key)
				               ? remember(fr, NULL, KEY_OPTION, key, value, err)
				               : PCP_OK;
			}
		return pcp_error_set(err, PCP_ERR_CONFIG, "unknown key \"%s\" in [defaults]", key);
	}
	if (strncmp(section, "module", 6) == 0 && (section[6] == ' ' || section[6] == '\t'))
		return module_key(fr, section + 6 + strspn(section + 6, " \t"), key, value, err);
	return pcp_error_set(err, PCP_ERR_CONFIG, "unknown section [%s]", section);
}

/* The settings of module name: built-in defaults, the file's [defaults], the module's keys;
 * the file's stores, all or those named. Errors are PCP_ERR_CONFIG naming the module. */
static enum pcp_errc build_module(const struct file_read *fr, const char *name,
                                  struct pcp_module *m, struct pcp_error *err)
{
	struct pcp_settings *ms = &m->settings;
	const char *wanted = NULL, *p;
	size_t n;

	for (size_t i = 0; i < fr->n_keys; i++) {
		const struct file_key *k = &fr->keys[i];

		if (k->kind != KEY_OPTION || (k->module && strcmp(k->module, name) != 0))
			continue;
		if (strcmp(k->key, "stores") == 0)
			wanted = k->value;
		else if (module_option(k->key)->set(ms, k->value, err))
			return PCP_ERR_CONFIG;
	}
	for (size_t i = 0; i < fr->n_keys; i++)
		if (fr->keys[i].kind == KEY_STORE &&
		    (!wanted || names_hold(wanted, fr->keys[i].key)) &&
		    pcp_settings_add_store(ms, fr->keys[i].key, fr->keys[i].value, err))
			return PCP_ERR_CONFIG;
	/* The passwords of its Java truststores, handed over by check_listen. */
	for (size_t i = 0; i < fr->n_keys; i++) {
		const struct file_key *k = &fr->keys[i];

		if ((k->kind == KEY_PASSWORD_FILE || k->kind == KEY_PASSWORD_ENV) &&
		    store_known(ms, k->key) &&
		    pcp_settings_add_password(ms, k->key,
		                              k->kind == KEY_PASSWORD_FILE ? PCP_PASSWORD_FILE
		                                                           : PCP_PASSWORD_ENV,
		                              k->value, true, err))
			return PCP_ERR_CONFIG;
	}
	for (p = wanted; p && (n = next_name(&p)) > 0;) {
		char store[65];

		snprintf(store, sizeof store, "%.*s", (int)n, p - n);
		if (!store_known(ms, store))
			return pcp_error_set(err, PCP_ERR_CONFIG,
			                     "[module %s]: no store \"%s\" in [stores]", name,
			                     store);
	}
	if (ms->n_stores == 0)
		return pcp_error_set(err, PCP_ERR_CONFIG,
		                     "[module %s]: no stores: the file has no [stores]", name);
	if (ms->old_store && !store_known(ms, ms->old_store))
		return pcp_error_set(err, PCP_ERR_CONFIG,
		                     "[module %s]: old_store %s: no store of that name", name,
		                     ms->old_store);
	if (ms->new_store && !store_known(ms, ms->new_store))
		return pcp_error_set(err, PCP_ERR_CONFIG,
		                     "[module %s]: new_store %s: no store of that name", name,
		                     ms->new_store);
	return PCP_OK;
}

/* Every [module NAME] of the file, in the order they first appear. */
static enum pcp_errc build_modules(const struct file_read *fr, struct pcp_settings *s,
                                   struct pcp_error *err)
{
	for (size_t i = 0; i < fr->n_keys; i++) {
		const char *name = fr->keys[i].module;
		struct pcp_module *grown, *m;
		bool seen = false;
		enum pcp_errc rc;

		for (size_t j = 0; name && j < s->n_modules; j++)
			seen = seen || strcmp(s->modules[j].name, name) == 0;
		if (!name || seen)
			continue;
		if (!(grown = realloc(s->modules, (s->n_modules + 1) * sizeof *grown)))
			return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
		s->modules = grown;
		m = &grown[s->n_modules++];
		pcp_settings_init(&m->settings);
		if (!(m->name = strdup(name)))
			return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
		if ((rc = build_module(fr, name, m, err))) {
			char inner[sizeof err->msg];

			snprintf(inner, sizeof inner, "%s", err->msg);
			return pcp_error_set(err, rc, "%s: %s", s->config_path, inner);
		}
	}
	return PCP_OK;
}

struct parsed_opt {
	const struct option_def *def;
	const char *value;
};

/* Blanks what follows NAME= in the --store-password values of argv (already copied), so
 * that other users no longer see the passwords in the process's command line. */
static void hide_passwords(const struct parsed_opt *seen, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* argv's strings are the process's own and writable. */
		char *eq =
		        seen[i].def->set == set_store_password ? strchr(seen[i].value, '=') : NULL;

		if (eq)
			memset(eq + 1, '\0', strlen(eq + 1));
	}
}

/* Hands every password to its store spec; a password for a store that does not exist is
 * a usage error on the command line and a configuration error in the file. */
static enum pcp_errc attach_passwords(struct pcp_settings *s, struct pcp_error *err)
{
	static const char *const opts[] = {
	        [PCP_PASSWORD_LITERAL] = "--store-password",
	        [PCP_PASSWORD_FILE] = "--store-password-file",
	        [PCP_PASSWORD_ENV] = "--store-password-env",
	};

	for (size_t i = 0; i < s->n_passwords; i++) {
		struct pcp_password_spec *p = &s->passwords[i];
		struct pcp_store_spec *spec = NULL;

		for (size_t j = 0; j < s->n_stores && !spec; j++)
			if (strcmp(s->stores[j].name, p->store) == 0)
				spec = &s->stores[j];
		if (!spec && p->from_file)
			return pcp_error_set(
			        err, PCP_ERR_CONFIG,
			        "%s: [store_password_%s] names store %s, which [stores] "
			        "does not define",
			        s->config_path ? s->config_path : "configuration",
			        p->source == PCP_PASSWORD_FILE ? "files" : "env", p->store);
		if (!spec)
			return pcp_error_set(err, PCP_ERR_USAGE, "%s %s: no store of that name",
			                     opts[p->source], p->store);
		spec->pw_source = p->source;
		spec->pw = p->value;
		p->value = NULL;
	}
	return PCP_OK;
}

/* --listen: no targets, nothing that only a command-line run uses; modules built. */
static enum pcp_errc check_listen(const struct file_read *fr, struct pcp_settings *s,
                                  const struct parsed_opt *seen, size_t n_seen,
                                  struct pcp_error *err)
{
	if (s->n_targets || s->n_target_files || s->n_chains)
		return pcp_error_set(
		        err, PCP_ERR_USAGE,
		        "--listen: the exporter takes its targets from /probe requests, "
		        "not from the command line");
	for (size_t i = 0; i < n_seen; i++)
		for (size_t k = 0; k < sizeof not_with_listen / sizeof not_with_listen[0]; k++)
			if (seen[i].def->set == not_with_listen[k])
				return pcp_error_set(
				        err, PCP_ERR_USAGE,
				        "--%s does not apply to the exporter (--listen)",
				        seen[i].def->name);
	if (build_modules(fr, s, err))
		return err->code;
	for (size_t i = 0; i < s->n_modules; i++)
		if (attach_passwords(&s->modules[i].settings, err))
			return err->code;
	return PCP_OK;
}

enum pcp_errc pcp_settings_add_require(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	const char *sep = strchr(v, '@');
	size_t len = sep ? (size_t)(sep - v) : strlen(v);
	struct pcp_require req = {0}, *grown;

	if (len == 0)
		return pcp_error_set(err, PCP_ERR_USAGE, "--require \"%s\": no store name", v);
	if (sep) {
		struct pcp_error terr = {0};

		if (pcp_cli_parse_time(sep + 1, &req.at, &terr))
			return pcp_error_set(err, PCP_ERR_USAGE, "--require %s: %s", v, terr.msg);
		req.has_at = true;
	}
	if (!(grown = realloc(s->require, (s->n_require + 1) * sizeof *grown)))
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	s->require = grown;
	req.text = strdup(v);
	req.store = strndup(v, len);
	if (!req.text || !req.store) {
		free(req.text);
		free(req.store);
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	}
	s->require[s->n_require++] = req;
	return PCP_OK;
}

size_t pcp_settings_instants(const struct pcp_settings *s, time_t now, time_t *out,
                             unsigned *now_mask)
{
	size_t n = 0;

	*now_mask = 0;
	if (s->n_ats)
		for (; n < s->n_ats; n++) {
			out[n] = s->ats_now[n] ? now : s->ats[n];
			*now_mask |= s->ats_now[n] ? 1u << n : 0;
		}
	else
		*now_mask = 1, out[n++] = now;
	for (size_t i = 0; i < s->n_require && n < PCP_MAX_INSTANTS; i++) {
		bool seen = false;

		if (!s->require[i].has_at)
			continue;
		for (size_t k = 0; k < n; k++)
			seen = seen || out[k] == s->require[i].at;
		if (!seen)
			out[n++] = s->require[i].at;
	}
	return n;
}

enum pcp_errc pcp_cli_parse(int argc, char **argv, struct pcp_settings *s, struct pcp_error *err)
{
	struct option longopts[N_OPTIONS + 1];
	char shortopts[3 * N_OPTIONS + 2];
	size_t ns = 0;
	struct parsed_opt *seen;
	size_t n_seen = 0, max_seen = 1;
	const char *config = NULL;
	struct file_read fr = {.s = s};
	enum pcp_errc rc = PCP_OK;
	int c, idx;

	/* A bundle like -4444 is one option per letter: each option found consumes at least
	 * one byte of the arguments, so their total length bounds the count. */
	for (int i = 1; i < argc; i++)
		max_seen += strlen(argv[i]);
	if (!(seen = calloc(max_seen, sizeof *seen)))
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	shortopts[ns++] = ':'; /* report a missing argument distinctly */
	for (size_t i = 0; i < N_OPTIONS; i++) {
		longopts[i] = (struct option){options[i].name,
		                              options[i].arg ? required_argument : no_argument,
		                              NULL, (int)(256 + i)};
		if (options[i].short_name) {
			shortopts[ns++] = (char)options[i].short_name;
			if (options[i].arg)
				shortopts[ns++] = ':';
		}
	}
	longopts[N_OPTIONS] = (struct option){0};
	shortopts[ns] = '\0';

	/* Collect first: the configuration file must be applied before command-line values. */
	opterr = 0;
	optind = 0; /* 0, not 1: glibc then also resets its scan inside a bundle like -qV */
	while ((c = getopt_long(argc, argv, shortopts, longopts, &idx)) != -1) {
		const struct option_def *def = NULL;

		if (c >= 256) {
			def = &options[c - 256];
		} else if (c == '?' || c == ':') {
			const char *what = argv[optind - 1];

			if (optopt && optopt < 256)
				rc = pcp_error_set(err, PCP_ERR_USAGE,
				                   c == ':' ? "option -%c needs a value"
				                            : "unknown option -%c",
				                   optopt);
			else if (optopt >= 256 && c == ':')
				rc = pcp_error_set(err, PCP_ERR_USAGE, "option %s needs a value",
				                   what);
			else if (optopt >= 256)
				rc = pcp_error_set(err, PCP_ERR_USAGE, "option --%s takes no value",
				                   options[optopt - 256].name);
			else
				rc = pcp_error_set(err, PCP_ERR_USAGE, "unknown option %s", what);
			goto out;
		} else {
			for (size_t i = 0; i < N_OPTIONS; i++)
				if (options[i].short_name == c)
					def = &options[i];
		}
		if (def->set == set_config)
			config = optarg;
		seen[n_seen++] = (struct parsed_opt){def, optarg};
	}
	s->targets = (const char **)(argv + optind);
	s->n_targets = (size_t)(argc - optind);

	for (size_t i = 0; i < n_seen; i++)
		if (seen[i].def->set == set_help || seen[i].def->set == set_version)
			seen[i].def->set(s, NULL, err);
	if (s->help || s->version)
		goto out;

	if (config) {
		if ((rc = set_config(s, config, err)))
			goto out;
	} else {
		s->config_path = pcp_config_default_path();
	}
	if (s->config_path && (rc = pcp_config_read(s->config_path, config_key, &fr, err)))
		goto out;

	/* Command-line requirements replace the file's. */
	for (size_t i = 0; i < n_seen && !s->require_from_cli; i++)
		if (seen[i].def->set == set_require) {
			pcp_settings_clear_require(s);
			s->require_from_cli = true;
		}
	for (size_t i = 0; i < n_seen; i++) {
		if (seen[i].def->set == set_config)
			continue;
		if ((rc = seen[i].def->set(s, seen[i].value, err)))
			goto out;
	}
	if (!s->node_roots && s->config_path && (rc = default_node_roots(s, err)))
		goto out;
	if (s->listen)
		rc = check_listen(&fr, s, seen, n_seen, err);
	else if (s->n_targets == 0 && s->n_target_files == 0 && s->n_chains == 0)
		rc = pcp_error_set(
		        err, PCP_ERR_USAGE,
		        "no targets: give TARGET arguments, --targets FILE or --chain FILE");
	if (!rc && s->n_stores == 0)
		rc = pcp_error_set(err, PCP_ERR_CONFIG,
		                   "no trust stores: give --store NAME=PATH or a configuration "
		                   "file with [stores]");
	if (!rc && s->save_chains) {
		struct stat st;

		if (stat(s->save_chains, &st) != 0 || !S_ISDIR(st.st_mode) ||
		    access(s->save_chains, W_OK) != 0)
			rc = pcp_error_set(err, PCP_ERR_USAGE,
			                   "--save-chains %s: not a writable directory",
			                   s->save_chains);
	}
	for (size_t i = 0; !rc && i < s->n_require; i++)
		if (!store_known(s, s->require[i].store))
			rc = pcp_error_set(err, PCP_ERR_USAGE,
			                   "--require %s: no store of that name",
			                   s->require[i].text);
	if (!rc && s->old_store && !store_known(s, s->old_store))
		rc = pcp_error_set(err, PCP_ERR_USAGE, "--old-store %s: no store of that name",
		                   s->old_store);
	if (!rc && s->new_store && !store_known(s, s->new_store))
		rc = pcp_error_set(err, PCP_ERR_USAGE, "--new-store %s: no store of that name",
		                   s->new_store);
	if (!rc)
		rc = attach_passwords(s, err);
out:
	hide_passwords(seen, n_seen);
	file_read_cleanup(&fr);
	free(seen);
	return rc;
}

static bool digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int num(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

enum pcp_errc pcp_cli_parse_time(const char *s, time_t *out, struct pcp_error *err)
{
	struct tm tm = {0};
	const char *p = s;
	long offset = 0;
	time_t t;

	if (s[0] == '@') {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(s + 1, &end, 10);
		if (errno || end == s + 1 || *end)
			goto bad;
		/* Years 0000 to 9999: what RFC 3339 can write back in the records. */
		if (v < -62167219200LL || v > 253402300799LL)
			return pcp_error_set(err, PCP_ERR_USAGE,
			                     "time \"%s\": out of range (years 0000 to 9999)", s);
		*out = (time_t)v;
		return PCP_OK;
	}
	if (!digits(p, 4) || p[4] != '-' || !digits(p + 5, 2) || p[7] != '-' || !digits(p + 8, 2))
		goto bad;
	tm.tm_year = num(p, 4) - 1900;
	tm.tm_mon = num(p + 5, 2) - 1;
	tm.tm_mday = num(p + 8, 2);
	p += 10;
	if (*p) {
		if ((*p != 'T' && *p != 't' && *p != ' ') || !digits(p + 1, 2) || p[3] != ':' ||
		    !digits(p + 4, 2) || p[6] != ':' || !digits(p + 7, 2))
			goto bad;
		tm.tm_hour = num(p + 1, 2);
		tm.tm_min = num(p + 4, 2);
		tm.tm_sec = num(p + 7, 2);
		p += 9;
		if (*p == '.') {
			p++;
			if (!isdigit((unsigned char)*p))
				goto bad;
			while (isdigit((unsigned char)*p))
				p++;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if ((*p == '+' || *p == '-') && digits(p + 1, 2) && p[3] == ':' &&
		           digits(p + 4, 2) && num(p + 1, 2) <= 23 && num(p + 4, 2) <= 59) {
			offset = (num(p + 1, 2) * 60L + num(p + 4, 2)) * 60L * (*p == '-' ? -1 : 1);
			p += 6;
		} else {
			goto bad;
		}
		if (*p)
			goto bad;
	}
	if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		goto bad;
	{
		/* Reject dates timegm would normalise (2021-02-30). */
		struct tm check = tm;

		t = timegm(&check);
		if (check.tm_mday != tm.tm_mday || check.tm_mon != tm.tm_mon)
			goto bad;
	}
	*out = t - offset;
	return PCP_OK;
bad:
	return pcp_error_set(err, PCP_ERR_USAGE,
	                     "time \"%s\": expected RFC 3339 (2021-02-15T00:00:00Z), a date "
	                     "(2021-02-15) or @UNIXSECONDS",
	                     s);
}
