/* pgJDBC connection URLs, read as pgJDBC 42.5.5 reads them (see jdbcurl.h): Driver.parseURL
 * for the shape (hosts and ports are taken as written, the database and every parameter
 * value are URL-decoded, later parameters override earlier ones), SslMode.of for the mode,
 * PGProperty's defaults for the factory, host and port. */
#include "jdbcurl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PREFIX       "jdbc:postgresql:"
#define DEFAULT_HOST "localhost"
#define DEFAULT_PORT 5432

const char *pcp_jdbc_factory_name(enum pcp_jdbc_factory f)
{
	switch (f) {
	case PCP_JDBC_LIBPQ:
		return "LibPQFactory";
	case PCP_JDBC_DEFAULT_JAVA:
		return "DefaultJavaSSLFactory";
	case PCP_JDBC_NON_VALIDATING:
		return "NonValidatingFactory";
	default:
		return "other";
	}
}

bool pcp_jdbc_url_is(const char *text)
{
	return strncasecmp(text, "jdbc:", 5) == 0;
}

void pcp_jdbc_url_cleanup(struct pcp_jdbc_url *u)
{
	for (size_t i = 0; i < u->n_hosts; i++)
		free(u->hosts[i]);
	free(u->hosts);
	free(u->ports);
	free(u->sslrootcert);
	memset(u, 0, sizeof *u);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* URLDecoder.decode(s, "UTF-8"): '+' is a space, %XX a byte; a broken escape is an error
 * (NULL, *bad set) as in Driver.urlDecode. */
static char *url_decode(const char *s, size_t len, bool *bad)
{
	char *out = malloc(len + 1);
	size_t o = 0;

	*bad = false;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%') {
			int hi = i + 2 < len ? hexval((unsigned char)s[i + 1]) : -1;
			int lo = i + 2 < len ? hexval((unsigned char)s[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				free(out);
				*bad = true;
				return NULL;
			}
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

/* One host[:port] of the host list: the port follows the last ':' after any ']'. */
static enum pcp_errc add_host(struct pcp_jdbc_url *u, const char *a, size_t len,
                              struct pcp_error *err)
{
	const char *colon = NULL, *bracket = NULL;
	size_t hlen = len;
	unsigned long port = DEFAULT_PORT;
	char **hosts;
	uint16_t *ports;

	for (size_t i = 0; i < len; i++) {
		if (a[i] == ':')
			colon = a + i;
		else if (a[i] == ']')
			bracket = a + i;
	}
	if (colon && (!bracket || bracket < colon)) {
		const char *p = colon + 1;
		size_t plen = len - (size_t)(p - a);
		char *end;

		hlen = (size_t)(colon - a);
		if (plen == 0 || plen > 5 || !isdigit((unsigned char)p[0]) ||
		    (port = strtoul(p, &end, 10), end != p + plen) || port == 0 || port > 65535)
			return pcp_error_set(err, PCP_ERR_TARGET, "JDBC URL: invalid port \"%.*s\"",
			                     (int)(plen > 16 ? 16 : plen), p);
	}
	if (!(hosts = realloc(u->hosts, (u->n_hosts + 1) * sizeof *hosts)))
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	u->hosts = hosts;
	if (!(ports = realloc(u->ports, (u->n_hosts + 1) * sizeof *ports)))
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	u->ports = ports;
	/* An empty host before a port is pgJDBC's default host. */
	u->hosts[u->n_hosts] = hlen ? strndup(a, hlen) : strdup(DEFAULT_HOST);
	if (!u->hosts[u->n_hosts])
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	u->ports[u->n_hosts++] = (uint16_t)port;
	return PCP_OK;
}

/* The host list between "//" and the '/' before the database. String.split(",") drops
 * trailing empty entries; an empty entry elsewhere is an empty host name. */
static enum pcp_errc parse_hosts(struct pcp_jdbc_url *u, const char *s, size_t len,
                                 struct pcp_error *err)
{
	size_t end = len;

	while (end > 0 && s[end - 1] == ',')
		end--;
	if (end == 0)
		return add_host(u, "", 0, err);
	for (size_t start = 0; start <= end;) {
		const char *comma = memchr(s + start, ',', end - start);
		size_t stop = comma ? (size_t)(comma - s) : end;
		enum pcp_errc rc;

		if (stop == start)
			return pcp_error_set(err, PCP_ERR_TARGET, "JDBC URL: empty host name");
		if ((rc = add_host(u, s + start, stop - start, err)) != PCP_OK)
			return rc;
		start = stop + 1;
	}
	return PCP_OK;
}

static enum pcp_errc set_sslmode(struct pcp_jdbc_url *u, const char *v, struct pcp_error *err)
{
	static const char *const names[] = {"disable", "allow",     "prefer",
	                                    "require", "verify-ca", "verify-full"};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcasecmp(v, names[i]) == 0) {
			u->sslmode = (enum pcp_libpq_sslmode)i;
			return PCP_OK;
		}
	return pcp_error_set(err, PCP_ERR_TARGET, "JDBC URL: Invalid sslmode value: %.64s", v);
}

static enum pcp_jdbc_factory factory_of(const char *v)
{
	if (strcmp(v, "org.postgresql.ssl.LibPQFactory") == 0 ||
	    strcmp(v, "org.postgresql.ssl.jdbc4.LibPQFactory") == 0)
		return PCP_JDBC_LIBPQ;
	if (strcmp(v, "org.postgresql.ssl.DefaultJavaSSLFactory") == 0)
		return PCP_JDBC_DEFAULT_JAVA;
	if (strcmp(v, "org.postgresql.ssl.NonValidatingFactory") == 0)
		return PCP_JDBC_NON_VALIDATING;
	return PCP_JDBC_OTHER;
}

/* The parameters after '?': the TLS ones are kept (the last of each wins), then SslMode.of
 * decides the mode: sslmode, else ssl=true or a bare ssl means verify-full, else prefer. */
static enum pcp_errc parse_args(struct pcp_jdbc_url *u, const char *s, struct pcp_error *err)
{
	char *sslmode = NULL, *ssl = NULL, *factory = NULL;
	enum pcp_errc rc = PCP_OK;

	while (*s && rc == PCP_OK) {
		size_t tlen = strcspn(s, "&");
		const char *eq = memchr(s, '=', tlen);
		size_t klen = eq ? (size_t)(eq - s) : tlen;
		char *value = NULL, **slot = NULL;
		bool bad = false;

		if (klen == 7 && strncmp(s, "sslmode", 7) == 0)
			slot = &sslmode;
		else if (klen == 3 && strncmp(s, "ssl", 3) == 0)
			slot = &ssl;
		else if (klen == 10 && strncmp(s, "sslfactory", 10) == 0)
			slot = &factory;
		else if (klen == 11 && strncmp(s, "sslrootcert", 11) == 0)
			slot = &u->sslrootcert;
		else if (klen == 7 && strncmp(s, "service", 7) == 0)
			rc = pcp_error_set(err, PCP_ERR_TARGET,
			                   "JDBC URL: service= (pg_service.conf) is not audited");
		if (tlen && rc == PCP_OK) {
			value = eq ? url_decode(eq + 1, tlen - klen - 1, &bad) : strdup("");
			if (bad)
				rc = pcp_error_set(err, PCP_ERR_TARGET,
				                   "JDBC URL: bad %%-escape in the value of %.*s",
				                   (int)(klen > 32 ? 32 : klen), s);
			else if (!value)
				rc = pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
		}
		if (slot && value) {
			free(*slot);
			*slot = value;
		} else {
			free(value);
		}
		s += tlen + (s[tlen] == '&');
	}
	if (rc == PCP_OK && sslmode) {
		rc = set_sslmode(u, sslmode, err);
		u->sslmode_given = true;
	} else if (rc == PCP_OK && ssl && (ssl[0] == '\0' || strcasecmp(ssl, "true") == 0)) {
		u->sslmode = PCP_LIBPQ_VERIFY_FULL;
		u->sslmode_given = true;
	}
	if (rc == PCP_OK && factory)
		u->factory = factory_of(factory);
	free(sslmode);
	free(ssl);
	free(factory);
	return rc;
}

/* The database name must URL-decode, or pgJDBC refuses the URL. */
static enum pcp_errc check_decodes(const char *s, size_t len, struct pcp_error *err)
{
	bool bad;
	char *v = url_decode(s, len, &bad);

	if (v) {
		free(v);
		return PCP_OK;
	}
	return bad ? pcp_error_set(err, PCP_ERR_TARGET,
	                           "JDBC URL: bad %%-escape in the database name")
	           : pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
}

enum pcp_errc pcp_jdbc_url_parse(const char *text, struct pcp_jdbc_url *out, struct pcp_error *err)
{
	const char *q = strchr(text, '?');
	size_t slen = q ? (size_t)(q - text) : strlen(text);
	const char *s = text + strlen(PREFIX);
	enum pcp_errc rc = PCP_OK;

	memset(out, 0, sizeof *out);
	out->sslmode = PCP_LIBPQ_PREFER;
	out->factory = PCP_JDBC_LIBPQ;
	if (slen < strlen(PREFIX) || strncmp(text, PREFIX, strlen(PREFIX)) != 0)
		return pcp_error_set(err, PCP_ERR_TARGET,
		                     "JDBC URL must start with \"jdbc:postgresql:\"");
	slen -= strlen(PREFIX);
	if ((slen == 2 && strncmp(s, "//", 2) == 0) || (slen == 3 && strncmp(s, "///", 3) == 0)) {
		rc = add_host(out, "", 0, err);
	} else if (slen >= 2 && strncmp(s, "//", 2) == 0) {
		const char *slash = memchr(s + 2, '/', slen - 2);
		size_t slashes = 0;

		for (size_t i = 2; i < slen; i++)
			slashes += s[i] == '/';
		if (slashes > 1)
			rc = pcp_error_set(err, PCP_ERR_TARGET,
			                   "JDBC URL contains too many / characters");
		else if (!slash)
			rc = pcp_error_set(
			        err, PCP_ERR_TARGET,
			        "JDBC URL must contain a / at the end of the host or port");
		else
			rc = parse_hosts(out, s + 2, (size_t)(slash - s) - 2, err);
		if (rc == PCP_OK && slash)
			rc = check_decodes(slash + 1, slen - (size_t)(slash + 1 - s), err);
	} else if (slen >= 1 && s[0] == '/') {
		rc = pcp_error_set(err, PCP_ERR_TARGET,
		                   "JDBC URL: a database name cannot start with /");
	} else {
		/* jdbc:postgresql:dbname: the default host and port. */
		rc = add_host(out, "", 0, err);
		if (rc == PCP_OK)
			rc = check_decodes(s, slen, err);
	}
	if (rc == PCP_OK && q)
		rc = parse_args(out, q + 1, err);
	if (rc != PCP_OK)
		pcp_jdbc_url_cleanup(out);
	return rc;
}
