/* The option table: every option's setter, argument, configuration key and help. One
 * setter serves the command line and the configuration file's keys, so both accept exactly
 * the same values with the same messages (cli.c reads both). */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "conninfo.h"
#include "driver.h"
#include "resolve.h"

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

bool pcp_settings_store_known(const struct pcp_settings *s, const char *name)
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
	if (pcp_settings_store_known(s, name))
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

enum pcp_errc pcp_option_store_password(struct pcp_settings *s, const char *v,
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
enum pcp_errc pcp_settings_default_node_roots(struct pcp_settings *s, struct pcp_error *err)
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

enum pcp_errc pcp_option_config(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	return set_string(&s->config_path, v, err);
}

enum pcp_errc pcp_option_require(struct pcp_settings *s, const char *v, struct pcp_error *err)
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

enum pcp_errc pcp_option_help(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	(void)v;
	(void)err;
	s->help = true;
	return PCP_OK;
}

enum pcp_errc pcp_option_version(struct pcp_settings *s, const char *v, struct pcp_error *err)
{
	(void)v;
	(void)err;
	s->version = true;
	return PCP_OK;
}

const struct pcp_option pcp_options[] = {
        {"targets", 'f', "FILE", NULL, set_targets,
         "read targets from FILE, one per line ('-' = stdin; '#' comments)"},
        {"store", 's', "NAME=PATH", NULL, set_store,
         "trust store: PEM file, hashed directory, or Java truststore (PKCS#12 or JKS)"
         " (repeatable; replaces the configured stores)"},
        {"store-password", 0, "NAME=PASSWORD", NULL, pcp_option_store_password,
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
        {"config", 'c', "FILE", NULL, pcp_option_config,
         "configuration file (default: the installed one)"},
        {"require", 'r', "STORE", "require", pcp_option_require,
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
        {"help", 'h', NULL, NULL, pcp_option_help, "show this help"},
        {"version", 'V', NULL, NULL, pcp_option_version, "show the version"},
};
const size_t pcp_n_options = sizeof pcp_options / sizeof pcp_options[0];

/* The keys a [module NAME] section takes besides "stores": options (by config key, or by
 * long name when they have none) whose values reach each probe's group or judge in the
 * exporter. A new per-probe option needs one line here. */
static const char *const module_keys[] = {
        "sslmode",   "timeout", "at",          "warn_days",     "old_store",
        "new_store", "driver",  "negotiation", "libpq_version",
};

/* What does not apply to the exporter: run-level output, gates and inputs. */
static const pcp_option_setter run_only[] = {
        set_format,          set_output,         set_chain_host,   set_baseline,
        set_fail_on_change,  pcp_option_require, set_forbid_class, set_forbid_pinned,
        set_shard,           set_explain,        set_save_chains,  set_future_chain,
        set_client_home,     set_client_driver,  set_node_roots,   set_color,
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
	for (size_t i = 0; i < pcp_n_options; i++) {
		char left[64];
		const struct pcp_option *o = &pcp_options[i];

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

/* A [defaults] or [module NAME] key's option; NULL when a module may not set it. */
const struct pcp_option *pcp_option_for_module_key(const char *key)
{
	for (size_t k = 0; k < sizeof module_keys / sizeof module_keys[0]; k++) {
		if (strcmp(module_keys[k], key) != 0)
			continue;
		for (size_t i = 0; i < pcp_n_options; i++)
			if (strcmp(pcp_options[i].config_key ? pcp_options[i].config_key
			                                     : pcp_options[i].name,
			           key) == 0)
				return &pcp_options[i];
	}
	return NULL;
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

bool pcp_option_run_only(const struct pcp_option *o)
{
	for (size_t k = 0; k < sizeof run_only / sizeof run_only[0]; k++)
		if (o->set == run_only[k])
			return true;
	return false;
}
