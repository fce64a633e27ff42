/* Target syntax (host, host:port, [v6]:port, libpq conninfo, postgresql:// URI, pgJDBC's
 * jdbc:postgresql:// URL) and
 * streaming of target files. A parsed target keeps libpq's meaning of host (the name
 * checked and sent as SNI) and hostaddr (where to connect). */
#ifndef PCP_TARGETS_H
#define PCP_TARGETS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "driver.h"
#include "error.h"
#include "jdbcurl.h"
#include "nodeurl.h"
#include "result.h"

struct pcp_target {
	char *text;     /* as given, owned */
	char *host;     /* owned; NULL when only hostaddr was given */
	char *hostaddr; /* owned; NULL when the host name is to be resolved */
	uint16_t port;
	bool has_sslmode; /* the target named verify-ca or verify-full itself */
	enum pcp_sslmode sslmode;
	/* The client the string describes (connection strings and URIs only). */
	bool is_conninfo;
	enum pcp_libpq_sslmode client_sslmode;  /* PCP_LIBPQ_PREFER when the string names none */
	char *sslrootcert;                      /* as written, owned; NULL when absent or empty */
	int libpq_version;                      /* the libpq major whose rules read the string */
	bool direct;                            /* sslnegotiation=direct (libpq 17+) */
	bool system_roots;                      /* sslrootcert=system (libpq 16+) */
	const struct pcp_driver *client_driver; /* whose rules the string follows: pgJDBC for
	                                         * JDBC URLs, else --client-driver; NULL: libpq */
	enum pcp_jdbc_factory client_factory;   /* JDBC URLs: sslfactory= */
	enum pcp_node_tls client_tls;           /* node-postgres: what its TLS checks */
	char *client_sslmode_text;              /* node-postgres: sslmode as written, owned */
	char *client_refusal; /* node-postgres: why it refuses the string at connect, owned */
};

/* Where service= definitions and the default root file are looked up (libpq's
 * PGSERVICEFILE, PGSYSCONFDIR and the home directory). NULL members: not set. */
struct pcp_target_env {
	const char *servicefile;
	const char *sysconfdir;
	const char *home;
	struct pcp_service_cache *services; /* files read once per run; NULL: read each time */
	int libpq_version; /* rules of this libpq major (15-18); 0: pcp_libpq_default() */
	const struct pcp_driver *client_driver; /* --client-driver: whose rules libpq-style
	                                         * strings and URIs follow; NULL: libpq */
};

/* Service files kept in memory after their first read, so a list of service= targets
 * does not reread them (inside the event loop) once per target. */
struct pcp_service_cache;
struct pcp_service_cache *pcp_service_cache_new(void);
void pcp_service_cache_free(struct pcp_service_cache *c);

/* Expands one target text into the targets it names: a host list (host=a,b port=1,2, or a
 * multi-host URI) is one target per host, each keeping the same text; service=NAME is
 * expanded from the service file as libpq does. On PCP_ERR_TARGET, *out holds one target
 * (text set) so the caller can emit one invalid_target record, and err says why in libpq's
 * words. The caller frees each target (pcp_target_cleanup) and the array.
 * The string is taken exactly as written: the probing machine's PGHOST, PGPORT, PGSSLMODE,
 * PGSSLROOTCERT, PGSERVICE, ... are not applied (the clients run elsewhere); env (may be
 * NULL) only says where service files are. Reads service files; never touches the network. */
enum pcp_errc pcp_target_expand(const char *text, const struct pcp_target_env *env,
                                struct pcp_target **out, size_t *n, struct pcp_error *err);

/* The text with every password replaced by "***" (keyword values, quoted or not, URI
 * userinfo and query parameters, JDBC URLs): records, logs and metrics repeat the target
 * text. Returns a malloc'd string, NULL when out of memory. */
char *pcp_target_mask(const char *text);

void pcp_target_cleanup(struct pcp_target *t);

/* Streams a targets file: one target per line, '#' comments and blank lines skipped,
 * "-" is stdin. Lines are bounded (PCP_TARGET_LINE_MAX); a longer line or one holding
 * bytes that cannot appear in a target yields a line with *bad set and a reason. */
#define PCP_TARGET_LINE_MAX 4096

struct pcp_target_reader {
	FILE *fp;
	bool owned;
	const char *path;
	unsigned long lineno;
	char *buf;
	size_t cap;
};

enum pcp_errc pcp_target_reader_open(struct pcp_target_reader *r, const char *path,
                                     struct pcp_error *err);
/* Returns 1 with *line set (borrowed until the next call), 0 at end, -1 on read error
 * (err set, PCP_ERR_INPUT). When the line is unusable, *bad is set to a reason string. */
int pcp_target_reader_next(struct pcp_target_reader *r, const char **line, const char **bad,
                           struct pcp_error *err);
void pcp_target_reader_close(struct pcp_target_reader *r);

#endif
