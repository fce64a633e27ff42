/* Connection strings by the rules of one libpq major version (15 to 18): which keywords
 * exist, how keyword=value strings and postgresql:// URIs are parsed, and what
 * connectOptions2 rejects, in that version's words. The installed libpq parses for its own
 * version (PQconninfoParse); every other version goes through the parser here, which
 * follows libpq's conninfo_parse and conninfo_uri_parse. Pure: no files, no network. */
#ifndef PCP_CONNINFO_H
#define PCP_CONNINFO_H

#include <stdbool.h>

#include "error.h"
#include "result.h"

#define PCP_LIBPQ_MIN 15
#define PCP_LIBPQ_MAX 18

/* Every keyword of libpq 15 to 18, in libpq 18's table order. */
enum pcp_kw {
	PCP_KW_SERVICE,
	PCP_KW_USER,
	PCP_KW_PASSWORD,
	PCP_KW_PASSFILE,
	PCP_KW_CHANNEL_BINDING,
	PCP_KW_CONNECT_TIMEOUT,
	PCP_KW_DBNAME,
	PCP_KW_HOST,
	PCP_KW_HOSTADDR,
	PCP_KW_PORT,
	PCP_KW_CLIENT_ENCODING,
	PCP_KW_OPTIONS,
	PCP_KW_APPLICATION_NAME,
	PCP_KW_FALLBACK_APPLICATION_NAME,
	PCP_KW_KEEPALIVES,
	PCP_KW_KEEPALIVES_IDLE,
	PCP_KW_KEEPALIVES_INTERVAL,
	PCP_KW_KEEPALIVES_COUNT,
	PCP_KW_TCP_USER_TIMEOUT,
	PCP_KW_SSLMODE,
	PCP_KW_SSLNEGOTIATION,
	PCP_KW_SSLCOMPRESSION,
	PCP_KW_SSLCERT,
	PCP_KW_SSLKEY,
	PCP_KW_SSLCERTMODE,
	PCP_KW_SSLPASSWORD,
	PCP_KW_SSLROOTCERT,
	PCP_KW_SSLCRL,
	PCP_KW_SSLCRLDIR,
	PCP_KW_SSLSNI,
	PCP_KW_REQUIREPEER,
	PCP_KW_REQUIRE_AUTH,
	PCP_KW_MIN_PROTOCOL_VERSION,
	PCP_KW_MAX_PROTOCOL_VERSION,
	PCP_KW_SSL_MIN_PROTOCOL_VERSION,
	PCP_KW_SSL_MAX_PROTOCOL_VERSION,
	PCP_KW_GSSENCMODE,
	PCP_KW_KRBSRVNAME,
	PCP_KW_GSSLIB,
	PCP_KW_GSSDELEGATION,
	PCP_KW_REPLICATION,
	PCP_KW_TARGET_SESSION_ATTRS,
	PCP_KW_LOAD_BALANCE_HOSTS,
	PCP_KW_SCRAM_CLIENT_KEY,
	PCP_KW_SCRAM_SERVER_KEY,
	PCP_KW_OAUTH_ISSUER,
	PCP_KW_OAUTH_CLIENT_ID,
	PCP_KW_OAUTH_CLIENT_SECRET,
	PCP_KW_OAUTH_SCOPE,
	PCP_KW_SSLKEYLOGFILE,
	PCP_KW_N
};

/* A keyword's name, and the first libpq major that knows it. */
const char *pcp_kw_name(enum pcp_kw kw);
int pcp_kw_since(enum pcp_kw kw);

/* The keyword called name in libpq major, or -1 when that version does not know it. */
int pcp_kw_find(int major, const char *name);

/* The major version of the libpq this program runs with (PQlibVersion). */
int pcp_libpq_installed(void);

/* The default for --libpq-version: the installed major, kept within 15..18. */
int pcp_libpq_default(void);

/* The values one string gives, by keyword (NULL: not given; "" is given). */
struct pcp_conninfo {
	int major;
	char *val[PCP_KW_N]; /* owned */
};

void pcp_conninfo_cleanup(struct pcp_conninfo *ci);

/* Parses text (keyword=value or URI) as libpq major does: with PQconninfoParse when major
 * is the installed libpq's, else with pcp_conninfo_parse_own. On failure returns
 * PCP_ERR_TARGET with libpq's message (first line), or PCP_ERR_SYSTEM. */
enum pcp_errc pcp_conninfo_parse(const char *text, int major, struct pcp_conninfo *ci,
                                 struct pcp_error *err);

/* The parser of this module, whatever the installed libpq (tests compare the two). */
enum pcp_errc pcp_conninfo_parse_own(const char *text, int major, struct pcp_conninfo *ci,
                                     struct pcp_error *err);

/* libpq's sslmode names. */
bool pcp_libpq_sslmode_parse(const char *v, enum pcp_libpq_sslmode *mode);

/* PQconninfoParse's message (freed here) as err, first line only; NULL: out of memory. */
enum pcp_errc pcp_conninfo_parse_error(char *perr, struct pcp_error *err);

/* A postgresql:// or postgres:// prefix (libpq's uri_prefix_length). */
bool pcp_conninfo_is_uri(const char *text);

/* Sets a keyword's value unless the string already gave one (service files). */
enum pcp_errc pcp_conninfo_fill(struct pcp_conninfo *ci, enum pcp_kw kw, const char *val,
                                struct pcp_error *err);

/* What connectOptions2 derives from the options, once they are valid. */
struct pcp_conninfo_facts {
	enum pcp_libpq_sslmode sslmode; /* prefer, or verify-full for sslrootcert=system (16+),
	                                 * when the string names none */
	bool direct;                    /* sslnegotiation=direct (17+) */
	bool system_roots;              /* sslrootcert=system (16+) */
};

/* Runs the option checks of connectOptions2 that follow the host and port lists, in the
 * order and words of ci->major (15: channel_binding, sslmode, TLS versions, gssencmode,
 * target_session_attrs; 16 adds require_auth first, sslrootcert=system, sslcertmode,
 * load_balance_hosts; 17 sslnegotiation and quotes around the TLS version keywords; 18
 * SCRAM keys and protocol versions). PCP_ERR_TARGET with libpq's message on failure. */
enum pcp_errc pcp_conninfo_check(const struct pcp_conninfo *ci, struct pcp_conninfo_facts *facts,
                                 struct pcp_error *err);

#endif
