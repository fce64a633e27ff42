/* pgJDBC connection URLs (jdbc:postgresql://host[:port][,host2[:port2]…]/db?key=value&…),
 * parsed as pgJDBC 42.5.5's Driver.parseURL does, and the TLS settings pgJDBC reads from
 * them (SslMode.of, LibPQFactory). Pure: no I/O. */
#ifndef PCP_JDBCURL_H
#define PCP_JDBCURL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "result.h"

/* The SSLSocketFactory a URL asks for (sslfactory=, fully qualified class name). */
enum pcp_jdbc_factory {
	PCP_JDBC_LIBPQ,        /* org.postgresql.ssl.LibPQFactory: the default */
	PCP_JDBC_DEFAULT_JAVA, /* org.postgresql.ssl.DefaultJavaSSLFactory: the JVM's truststore */
	PCP_JDBC_NON_VALIDATING, /* org.postgresql.ssl.NonValidatingFactory: no chain check */
	PCP_JDBC_OTHER,          /* an application's own class: not judged */
};

const char *pcp_jdbc_factory_name(enum pcp_jdbc_factory f);

struct pcp_jdbc_url {
	char **hosts; /* owned, as written ("[::1]" keeps its brackets) */
	uint16_t *ports;
	size_t n_hosts;
	enum pcp_libpq_sslmode sslmode; /* sslmode=, else verify-full for ssl=true (or ssl with
	                                 * no value), else prefer */
	bool sslmode_given;             /* sslmode= or ssl= decided it */
	enum pcp_jdbc_factory factory;
	char *sslrootcert; /* owned, NULL when absent */
};

/* Parses text, which starts with "jdbc:postgresql:". On failure returns PCP_ERR_TARGET
 * with err saying what pgJDBC refuses (pgJDBC itself only says "No suitable driver"). */
enum pcp_errc pcp_jdbc_url_parse(const char *text, struct pcp_jdbc_url *out, struct pcp_error *err);

void pcp_jdbc_url_cleanup(struct pcp_jdbc_url *u);

/* True when text is meant as a JDBC URL (it starts with "jdbc:"). */
bool pcp_jdbc_url_is(const char *text);

#endif
