/* Connection strings by libpq version. The rules, read in postgres/postgres
 * src/interfaces/libpq/fe-connect.c (conninfo_parse, conninfo_uri_parse_options,
 * conninfo_uri_parse_params, conninfo_uri_decode, conninfo_storeval, conninfo_add_defaults,
 * pqConnectOptions2) and checked against the real libpq 15.18, 16.14, 17.10 and 18.4:
 *
 * - keyword=value: blanks (isspace) separate pairs and may surround '='; a value is bare
 *   (ends at a blank; backslash escapes the next byte) or single-quoted (backslash
 *   escapes; a missing closing quote is an error). "requiressl" becomes sslmode (1:
 *   require, else prefer). An unknown keyword is "invalid connection option".
 * - URI: [user[:password]@]host[:port][,host[:port]...][/dbname][?k=v&...]; IPv6 hosts in
 *   brackets. Every part is percent-decoded (%00 is forbidden); query keywords that do not
 *   exist are "invalid URI query parameter"; ssl=true means sslmode=require. libpq 18
 *   strips spaces around each decoded part and rejects spaces inside one.
 * - Later values replace earlier ones.
 * - sslrootcert=system (16+) makes the default sslmode verify-full. */
#include "conninfo.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	int since;
} keywords[PCP_KW_N] = {
        [PCP_KW_SERVICE] = {"service", 15},
        [PCP_KW_USER] = {"user", 15},
        [PCP_KW_PASSWORD] = {"password", 15},
        [PCP_KW_PASSFILE] = {"passfile", 15},
        [PCP_KW_CHANNEL_BINDING] = {"channel_binding", 15},
        [PCP_KW_CONNECT_TIMEOUT] = {"connect_timeout", 15},
        [PCP_KW_DBNAME] = {"dbname", 15},
        [PCP_KW_HOST] = {"host", 15},
        [PCP_KW_HOSTADDR] = {"hostaddr", 15},
        [PCP_KW_PORT] = {"port", 15},
        [PCP_KW_CLIENT_ENCODING] = {"client_encoding", 15},
        [PCP_KW_OPTIONS] = {"options", 15},
        [PCP_KW_APPLICATION_NAME] = {"application_name", 15},
        [PCP_KW_FALLBACK_APPLICATION_NAME] = {"fallback_application_name", 15},
        [PCP_KW_KEEPALIVES] = {"keepalives", 15},
        [PCP_KW_KEEPALIVES_IDLE] = {"keepalives_idle", 15},
        [PCP_KW_KEEPALIVES_INTERVAL] = {"keepalives_interval", 15},
        [PCP_KW_KEEPALIVES_COUNT] = {"keepalives_count", 15},
        [PCP_KW_TCP_USER_TIMEOUT] = {"tcp_user_timeout", 15},
        [PCP_KW_SSLMODE] = {"sslmode", 15},
        [PCP_KW_SSLNEGOTIATION] = {"sslnegotiation", 17},
        [PCP_KW_SSLCOMPRESSION] = {"sslcompression", 15},
        [PCP_KW_SSLCERT] = {"sslcert", 15},
        [PCP_KW_SSLKEY] = {"sslkey", 15},
        [PCP_KW_SSLCERTMODE] = {"sslcertmode", 16},
        [PCP_KW_SSLPASSWORD] = {"sslpassword", 15},
        [PCP_KW_SSLROOTCERT] = {"sslrootcert", 15},
        [PCP_KW_SSLCRL] = {"sslcrl", 15},
        [PCP_KW_SSLCRLDIR] = {"sslcrldir", 15},
        [PCP_KW_SSLSNI] = {"sslsni", 15},
        [PCP_KW_REQUIREPEER] = {"requirepeer", 15},
        [PCP_KW_REQUIRE_AUTH] = {"require_auth", 16},
        [PCP_KW_MIN_PROTOCOL_VERSION] = {"min_protocol_version", 18},
        [PCP_KW_MAX_PROTOCOL_VERSION] = {"max_protocol_version", 18},
        [PCP_KW_SSL_MIN_PROTOCOL_VERSION] = {"ssl_min_protocol_version", 15},
        [PCP_KW_SSL_MAX_PROTOCOL_VERSION] = {"ssl_max_protocol_version", 15},
        [PCP_KW_GSSENCMODE] = {"gssencmode", 15},
        [PCP_KW_KRBSRVNAME] = {"krbsrvname", 15},
        [PCP_KW_GSSLIB] = {"gsslib", 15},
        [PCP_KW_GSSDELEGATION] = {"gssdelegation", 16},
        [PCP_KW_REPLICATION] = {"replication", 15},
        [PCP_KW_TARGET_SESSION_ATTRS] = {"target_session_attrs", 15},
        [PCP_KW_LOAD_BALANCE_HOSTS] = {"load_balance_hosts", 16},
        [PCP_KW_SCRAM_CLIENT_KEY] = {"scram_client_key", 18},
        [PCP_KW_SCRAM_SERVER_KEY] = {"scram_server_key", 18},
        [PCP_KW_OAUTH_ISSUER] = {"oauth_issuer", 18},
        [PCP_KW_OAUTH_CLIENT_ID] = {"oauth_client_id", 18},
        [PCP_KW_OAUTH_CLIENT_SECRET] = {"oauth_client_secret", 18},
        [PCP_KW_OAUTH_SCOPE] = {"oauth_scope", 18},
        [PCP_KW_SSLKEYLOGFILE] = {"sslkeylogfile", 18},
};

const char *pcp_kw_name(enum pcp_kw kw)
{
	return (unsigned)kw < PCP_KW_N ? keywords[kw].name : "?";
}

int pcp_kw_since(enum pcp_kw kw)
{
	return (unsigned)kw < PCP_KW_N ? keywords[kw].since : 0;
}

int pcp_kw_find(int major, const char *name)
{
	for (int i = 0; i < PCP_KW_N; i++)
		if (keywords[i].since <= major && strcmp(keywords[i].name, name) == 0)
			return i;
	return -1;
}

int pcp_libpq_installed(void)
{
	return PQlibVersion() / 10000;
}

int pcp_libpq_default(void)
{
	int v = pcp_libpq_installed();

	return v < PCP_LIBPQ_MIN ? PCP_LIBPQ_MIN : v > PCP_LIBPQ_MAX ? PCP_LIBPQ_MAX : v;
}

bool pcp_libpq_sslmode_parse(const char *v, enum pcp_libpq_sslmode *mode)
{
	static const char *const names[] = {"disable", "allow",     "prefer",
	                                    "require", "verify-ca", "verify-full"};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(v, names[i]) == 0) {
			*mode = (enum pcp_libpq_sslmode)i;
			return true;
		}
	return false;
}

void pcp_conninfo_cleanup(struct pcp_conninfo *ci)
{
	for (int i = 0; i < PCP_KW_N; i++)
		free(ci->val[i]);
	memset(ci, 0, sizeof *ci);
}

bool pcp_conninfo_is_uri(const char *text)
{
	return strncmp(text, "postgresql://", 13) == 0 || strncmp(text, "postgres://", 11) == 0;
}

static enum pcp_errc nomem(struct pcp_error *err)
{
	return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
}

enum pcp_errc pcp_conninfo_fill(struct pcp_conninfo *ci, enum pcp_kw kw, const char *val,
                                struct pcp_error *err)
{
	if (ci->val[kw])
		return PCP_OK;
	return (ci->val[kw] = strdup(val)) ? PCP_OK : nomem(err);
}

/* ---- parsing -------------------------------------------------------------------- */

/* conninfo_storeval: requiressl is spelled sslmode; an unknown keyword is an invalid
 * connection option, or in a URI's query an invalid URI query parameter. */
static enum pcp_errc store(struct pcp_conninfo *ci, const char *key, const char *val, bool in_uri,
                           struct pcp_error *err)
{
	int kw;
	char *copy;

	if (strcmp(key, "requiressl") == 0) {
		key = "sslmode";
		val = val[0] == '1' ? "require" : "prefer";
	}
	if ((kw = pcp_kw_find(ci->major, key)) < 0 && in_uri)
		return pcp_error_set(err, PCP_ERR_TARGET, "invalid URI query parameter: \"%s\"",
		                     key);
	if (kw < 0)
		return pcp_error_set(err, PCP_ERR_TARGET, "invalid connection option \"%s\"", key);
	if (!(copy = strdup(val)))
		return nomem(err);
	free(ci->val[kw]);
	ci->val[kw] = copy;
	return PCP_OK;
}

static bool is_blank(char c)
{
	return isspace((unsigned char)c) != 0;
}

/* keyword = value pairs; buf is a modifiable copy of the string. */
static enum pcp_errc parse_pairs(struct pcp_conninfo *ci, char *buf, struct pcp_error *err)
{
	char *cp = buf;

	while (*cp) {
		char *name, *val, *out;
		enum pcp_errc rc;

		if (is_blank(*cp)) {
			cp++;
			continue;
		}
		name = cp;
		while (*cp && *cp != '=' && !is_blank(*cp))
			cp++;
		if (is_blank(*cp)) {
			*cp++ = '\0';
			while (is_blank(*cp))
				cp++;
		}
		if (*cp != '=')
			return pcp_error_set(err, PCP_ERR_TARGET,
			                     "missing \"=\" after \"%s\" in connection info string",
			                     name);
		*cp++ = '\0';
		while (is_blank(*cp))
			cp++;
		val = out = cp;
		if (*cp != '\'') {
			while (*cp && !is_blank(*cp)) {
				if (*cp == '\\' && !*++cp)
					break;
				*out++ = *cp++;
			}
			if (*cp)
				cp++; /* the blank that ended the value */
		} else {
			for (cp++;; cp++) {
				if (!*cp)
					return pcp_error_set(
					        err, PCP_ERR_TARGET,
					        "unterminated quoted string in connection "
					        "info string");
				if (*cp == '\\' && cp[1]) {
					*out++ = *++cp;
					continue;
				}
				if (*cp == '\\')
					continue; /* a last backslash: the loop then finds the end
					           */
				if (*cp == '\'') {
					cp++;
					break;
				}
				*out++ = *cp;
			}
		}
		*out = '\0';
		if ((rc = store(ci, name, val, false, err)))
			return rc;
	}
	return PCP_OK;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* conninfo_uri_decode: a malloc'd decoded copy, or NULL with err set. */
static char *uri_decode(int major, const char *s, struct pcp_error *err)
{
	char *out = malloc(strlen(s) + 1), *o = out;
	const char *q = s;

	if (!out) {
		nomem(err);
		return NULL;
	}
	if (major >= 18)
		while (*q == ' ')
			q++;
	while (*q && !(major >= 18 && *q == ' ')) {
		int hi, lo;

		if (*q != '%') {
			*o++ = *q++;
			continue;
		}
		q++;
		if ((hi = hexval(q[0])) < 0 || (lo = hexval(q[1])) < 0) {
			pcp_error_set(err, PCP_ERR_TARGET, "invalid percent-encoded token: \"%s\"",
			              s);
			goto fail;
		}
		if (hi == 0 && lo == 0) {
			pcp_error_set(err, PCP_ERR_TARGET,
			              "forbidden value %%00 in percent-encoded value: \"%s\"", s);
			goto fail;
		}
		*o++ = (char)(hi << 4 | lo);
		q += 2;
	}
	while (*q == ' ')
		q++;
	if (*q) {
		pcp_error_set(
		        err, PCP_ERR_TARGET,
		        "unexpected spaces found in \"%s\", use percent-encoded spaces (%%20) "
		        "instead",
		        s);
		goto fail;
	}
	*o = '\0';
	return out;
fail:
	free(out);
	return NULL;
}

/* conninfo_storeval with uri_decode: the value is decoded first. */
static enum pcp_errc store_decoded(struct pcp_conninfo *ci, const char *key, const char *raw,
                                   struct pcp_error *err)
{
	char *val = uri_decode(ci->major, raw, err);
	enum pcp_errc rc;

	if (!val)
		return err->code;
	rc = store(ci, key, val, false, err);
	free(val);
	return rc;
}

/* The query part: keyword=value pairs separated by '&', both sides percent-decoded. */
static enum pcp_errc parse_params(struct pcp_conninfo *ci, char *p, struct pcp_error *err)
{
	while (*p) {
		char *key = p, *val = NULL, *dkey, *dval;
		enum pcp_errc rc;

		for (;; p++) {
			if (*p == '=') {
				if (val)
					return pcp_error_set(
					        err, PCP_ERR_TARGET,
					        "extra key/value separator \"=\" in URI "
					        "query parameter: \"%s\"",
					        key);
				*p = '\0';
				val = p + 1;
			} else if (*p == '&' || !*p) {
				if (*p)
					*p++ = '\0';
				if (!val)
					return pcp_error_set(
					        err, PCP_ERR_TARGET,
					        "missing key/value separator \"=\" in URI "
					        "query parameter: \"%s\"",
					        key);
				break;
			}
		}
		if (!(dkey = uri_decode(ci->major, key, err)))
			return err->code;
		if (!(dval = uri_decode(ci->major, val, err))) {
			free(dkey);
			return err->code;
		}
		if (strcmp(dkey, "ssl") == 0 && strcmp(dval, "true") == 0)
			rc = store(ci, "sslmode", "require", true, err);
		else
			rc = store(ci, dkey, dval, true, err);
		free(dkey);
		free(dval);
		if (rc)
			return rc;
	}
	return PCP_OK;
}

/* Appends s to a growing buffer of at most cap bytes (the URI's length bounds it). */
static void append(char *buf, size_t *len, const char *s)
{
	size_t n = strlen(s);

	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
}

static enum pcp_errc parse_uri(struct pcp_conninfo *ci, const char *uri, char *buf,
                               struct pcp_error *err)
{
	size_t prefix = strncmp(uri, "postgresql://", 13) == 0 ? 13 : 11;
	size_t cap = strlen(uri) + 1, hlen = 0, plen = 0;
	char *start = buf + prefix, *p = start, *hosts = NULL, *ports = NULL;
	char prev = '\0';
	enum pcp_errc rc = PCP_OK;

	if (!(hosts = malloc(cap)) || !(ports = malloc(cap))) {
		rc = nomem(err);
		goto out;
	}
	hosts[0] = ports[0] = '\0';
	while (*p && *p != '@' && *p != '/')
		p++;
	if (*p == '@') {
		char *user = start;

		for (p = user; *p != ':' && *p != '@'; p++)
			;
		prev = *p;
		*p = '\0';
		if (*user && (rc = store_decoded(ci, "user", user, err)))
			goto out;
		if (prev == ':') {
			char *password = p + 1;

			while (*p != '@')
				p++;
			*p = '\0';
			if (*password && (rc = store_decoded(ci, "password", password, err)))
				goto out;
		}
		p++;
	} else {
		p = start;
	}
	for (;;) {
		char *host;

		if (*p == '[') {
			host = ++p;
			while (*p && *p != ']')
				p++;
			if (!*p) {
				rc = pcp_error_set(
				        err, PCP_ERR_TARGET,
				        "end of string reached when looking for matching "
				        "\"]\" in IPv6 host address in URI: \"%s\"",
				        uri);
				goto out;
			}
			if (p == host) {
				rc = pcp_error_set(
				        err, PCP_ERR_TARGET,
				        "IPv6 host address may not be empty in URI: \"%s\"", uri);
				goto out;
			}
			*p++ = '\0';
			if (*p && *p != ':' && *p != '/' && *p != '?' && *p != ',') {
				rc = pcp_error_set(
				        err, PCP_ERR_TARGET,
				        "unexpected character \"%c\" at position %d in URI "
				        "(expected \":\" or \"/\"): \"%s\"",
				        *p, (int)(p - buf + 1), uri);
				goto out;
			}
		} else {
			host = p;
			while (*p && *p != ':' && *p != '/' && *p != '?' && *p != ',')
				p++;
		}
		prev = *p;
		*p = '\0';
		append(hosts, &hlen, host);
		if (prev == ':') {
			char *port = ++p;

			while (*p && *p != '/' && *p != '?' && *p != ',')
				p++;
			prev = *p;
			*p = '\0';
			append(ports, &plen, port);
		}
		if (prev != ',')
			break;
		p++;
		append(hosts, &hlen, ",");
		append(ports, &plen, ",");
	}
	if ((hosts[0] && (rc = store_decoded(ci, "host", hosts, err))) ||
	    (ports[0] && (rc = store_decoded(ci, "port", ports, err))))
		goto out;
	if (prev && prev != '?') {
		char *dbname = ++p;

		while (*p && *p != '?')
			p++;
		prev = *p;
		*p = '\0';
		if (*dbname && (rc = store_decoded(ci, "dbname", dbname, err)))
			goto out;
	}
	if (prev)
		rc = parse_params(ci, p + 1, err);
out:
	free(hosts);
	free(ports);
	return rc;
}

enum pcp_errc pcp_conninfo_parse_own(const char *text, int major, struct pcp_conninfo *ci,
                                     struct pcp_error *err)
{
	char *buf = strdup(text);
	enum pcp_errc rc;

	memset(ci, 0, sizeof *ci);
	ci->major = major;
	if (!buf)
		return nomem(err);
	rc = pcp_conninfo_is_uri(text) ? parse_uri(ci, text, buf, err) : parse_pairs(ci, buf, err);
	free(buf);
	if (rc)
		pcp_conninfo_cleanup(ci);
	ci->major = major;
	return rc;
}

enum pcp_errc pcp_conninfo_parse_error(char *perr, struct pcp_error *err)
{
	char *nl;

	if (!perr)
		return nomem(err);
	pcp_error_set(err, PCP_ERR_TARGET, "%s", perr);
	PQfreemem(perr);
	if ((nl = strchr(err->msg, '\n')))
		*nl = '\0';
	return PCP_ERR_TARGET;
}

enum pcp_errc pcp_conninfo_parse(const char *text, int major, struct pcp_conninfo *ci,
                                 struct pcp_error *err)
{
	PQconninfoOption *opts;
	char *perr = NULL;

	if (major != pcp_libpq_installed())
		return pcp_conninfo_parse_own(text, major, ci, err);
	memset(ci, 0, sizeof *ci);
	ci->major = major;
	if (!(opts = PQconninfoParse(text, &perr)))
		return pcp_conninfo_parse_error(perr, err);
	for (const PQconninfoOption *o = opts; o->keyword; o++) {
		int kw = o->val ? pcp_kw_find(major, o->keyword) : -1;

		if (kw >= 0 && !(ci->val[kw] = strdup(o->val))) {
			PQconninfoFree(opts);
			pcp_conninfo_cleanup(ci);
			return nomem(err);
		}
	}
	PQconninfoFree(opts);
	return PCP_OK;
}

/* ---- connectOptions2 ------------------------------------------------------------- */

static enum pcp_errc invalid_value(const struct pcp_conninfo *ci, enum pcp_kw kw,
                                   struct pcp_error *err)
{
	return pcp_error_set(err, PCP_ERR_TARGET, "invalid %s value: \"%s\"", pcp_kw_name(kw),
	                     ci->val[kw]);
}

static bool one_of(const char *v, const char *const *names)
{
	for (; *names; names++)
		if (strcmp(v, *names) == 0)
			return true;
	return false;
}

/* sslVerifyProtocolVersion: empty means "not set"; names compare without case. */
static bool tls_version_ok(const char *v)
{
	static const char *const names[] = {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};

	if (!v || !*v)
		return true;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcasecmp(v, names[i]) == 0)
			return true;
	return false;
}

/* 17 put the keyword of this message in quotes. */
static enum pcp_errc invalid_tls_version(int major, const char *kw, const char *v,
                                         struct pcp_error *err)
{
	if (major >= 17)
		return pcp_error_set(err, PCP_ERR_TARGET, "invalid \"%s\" value: \"%s\"", kw, v);
	return pcp_error_set(err, PCP_ERR_TARGET, "invalid %s value: \"%s\"", kw, v);
}

/* sslVerifyProtocolRange (both bounds already valid). */
static bool tls_range_ok(const char *min, const char *max)
{
	if (!min || !max || !*min || !*max || strcasecmp(min, "TLSv1") == 0)
		return true;
	return strcasecmp(max, "TLSv1") != 0 && strcasecmp(min, max) <= 0;
}

/* require_auth (16+): a comma list, all negated ("!x") or none; each method once. The
 * methods are sets of authentication requests, as in libpq: gss and sspi share one (the
 * GSS continuation), scram-sha-256 and oauth (18) are SASL mechanisms of their own. */
static enum pcp_errc check_require_auth(int major, const char *list, struct pcp_error *err)
{
	enum { PW = 1, MD5 = 2, GSS = 4, GSS_CONT = 8, SSPI = 16, SCRAM = 32, OAUTH = 64 };
	static const struct {
		const char *name;
		unsigned bits;
		int since;
	} methods[] = {{"password", PW, 16},         {"md5", MD5, 16},
	               {"gss", GSS | GSS_CONT, 16},  {"sspi", SSPI | GSS_CONT, 16},
	               {"scram-sha-256", SCRAM, 16}, {"oauth", OAUTH, 18}};
	unsigned allowed = 0;
	bool negated = false, auth_required = true;
	const char *s = list;

	if (!*list)
		return PCP_OK;
	for (bool first = true;; first = false) {
		size_t len = strcspn(s, ",");
		char part[256];
		const char *method = part;
		unsigned bits = 0;
		bool found = false, dup;

		snprintf(part, sizeof part, "%.*s",
		         (int)(len < sizeof part ? len : sizeof part - 1), s);
		if (*method == '!') {
			if (first) {
				auth_required = false;
				allowed = ~0u;
			} else if (!negated) {
				return pcp_error_set(
				        err, PCP_ERR_TARGET,
				        "negative require_auth method \"%s\" cannot be "
				        "mixed with non-negative methods",
				        method);
			}
			negated = true;
			method++;
		} else if (negated) {
			return pcp_error_set(
			        err, PCP_ERR_TARGET,
			        "require_auth method \"%s\" cannot be mixed with negative "
			        "methods",
			        method);
		}
		if (strcmp(method, "none") == 0) {
			dup = negated ? auth_required : !auth_required;
			auth_required = negated;
		} else {
			for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
				if (methods[i].since <= major &&
				    strcmp(method, methods[i].name) == 0) {
					bits = methods[i].bits;
					found = true;
				}
			if (!found)
				return pcp_error_set(err, PCP_ERR_TARGET,
				                     "invalid require_auth value: \"%s\"", method);
			dup = negated ? (allowed & bits) == 0 : (allowed & bits) == bits;
			allowed = negated ? allowed & ~bits : allowed | bits;
		}
		if (dup)
			return pcp_error_set(
			        err, PCP_ERR_TARGET,
			        "require_auth method \"%s\" is specified more than once", part);
		if (!s[len])
			return PCP_OK;
		s += len + 1;
	}
}

/* The length pg_b64_decode gives for s (PostgreSQL's base64: no blanks, '=' only as
 * padding in the last places of a group, whole groups of four), or -1. */
static long base64_len(const char *s)
{
	static const char alphabet[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	long out = 0;
	int pos = 0, end = 0;

	for (; *s; s++) {
		if (*s == '=') {
			if (!end) {
				if (pos == 2)
					end = 1;
				else if (pos == 3)
					end = 2;
				else
					return -1;
			}
		} else if (!strchr(alphabet, *s)) {
			return -1;
		}
		if (++pos == 4) {
			out += end == 0 ? 3 : end == 1 ? 1 : 2;
			pos = 0;
		}
	}
	return pos ? -1 : out;
}

/* scram_client_key / scram_server_key (18): base64 of a 32-byte key. */
static enum pcp_errc check_scram_key(const char *v, const char *which, struct pcp_error *err)
{
	long len = base64_len(v);

	if (len < 0)
		return pcp_error_set(err, PCP_ERR_TARGET, "invalid SCRAM %s key", which);
	if (len != 32)
		return pcp_error_set(err, PCP_ERR_TARGET, "invalid SCRAM %s key length: %ld", which,
		                     len);
	return PCP_OK;
}

/* min_protocol_version / max_protocol_version (18): 3.0, 3.2 or latest (3.2). */
static int protocol_version(const char *v)
{
	return strcmp(v, "3.0") == 0                               ? 30000
	       : strcmp(v, "3.2") == 0 || strcmp(v, "latest") == 0 ? 30002
	                                                           : -1;
}

enum pcp_errc pcp_conninfo_check(const struct pcp_conninfo *ci, struct pcp_conninfo_facts *facts,
                                 struct pcp_error *err)
{
	static const char *const dpr[] = {"disable", "prefer", "require", NULL};
	static const char *const dar[] = {"disable", "allow", "require", NULL};
	static const char *const negotiation[] = {"postgres", "direct", NULL};
	static const char *const attrs[] = {"any",     "read-write",     "read-only", "primary",
	                                    "standby", "prefer-standby", NULL};
	static const char *const balance[] = {"disable", "random", NULL};
	char *const *v = ci->val;
	int major = ci->major;
	const char *min =
	        v[PCP_KW_SSL_MIN_PROTOCOL_VERSION] ? v[PCP_KW_SSL_MIN_PROTOCOL_VERSION] : "TLSv1.2";

	memset(facts, 0, sizeof *facts);
	facts->sslmode = PCP_LIBPQ_PREFER;
	facts->system_roots = major >= 16 && v[PCP_KW_SSLROOTCERT] &&
	                      strcmp(v[PCP_KW_SSLROOTCERT], "system") == 0;
	if (major >= 16 && v[PCP_KW_REQUIRE_AUTH] &&
	    check_require_auth(major, v[PCP_KW_REQUIRE_AUTH], err))
		return PCP_ERR_TARGET;
	if (v[PCP_KW_CHANNEL_BINDING] && !one_of(v[PCP_KW_CHANNEL_BINDING], dpr))
		return invalid_value(ci, PCP_KW_CHANNEL_BINDING, err);
	if (v[PCP_KW_SSLMODE]) {
		if (!pcp_libpq_sslmode_parse(v[PCP_KW_SSLMODE], &facts->sslmode))
			return invalid_value(ci, PCP_KW_SSLMODE, err);
	} else if (facts->system_roots) {
		/* conninfo_add_defaults: no sslmode anywhere and the system's roots. */
		facts->sslmode = PCP_LIBPQ_VERIFY_FULL;
	}
	if (major >= 17 && v[PCP_KW_SSLNEGOTIATION]) {
		if (!one_of(v[PCP_KW_SSLNEGOTIATION], negotiation))
			return invalid_value(ci, PCP_KW_SSLNEGOTIATION, err);
		facts->direct = strcmp(v[PCP_KW_SSLNEGOTIATION], "direct") == 0;
		if (facts->direct && facts->sslmode < PCP_LIBPQ_REQUIRE)
			return pcp_error_set(
			        err, PCP_ERR_TARGET,
			        "weak sslmode \"%s\" may not be used with "
			        "sslnegotiation=direct (use \"require\", \"verify-ca\", "
			        "or \"verify-full\")",
			        pcp_libpq_sslmode_name(facts->sslmode));
	}
	if (facts->system_roots && facts->sslmode != PCP_LIBPQ_VERIFY_FULL)
		return pcp_error_set(err, PCP_ERR_TARGET,
		                     "weak sslmode \"%s\" may not be used with sslrootcert=system "
		                     "(use \"verify-full\")",
		                     pcp_libpq_sslmode_name(facts->sslmode));
	if (!tls_version_ok(min))
		return invalid_tls_version(major, "ssl_min_protocol_version", min, err);
	if (!tls_version_ok(v[PCP_KW_SSL_MAX_PROTOCOL_VERSION]))
		return invalid_tls_version(major, "ssl_max_protocol_version",
		                           v[PCP_KW_SSL_MAX_PROTOCOL_VERSION], err);
	if (!tls_range_ok(min, v[PCP_KW_SSL_MAX_PROTOCOL_VERSION]))
		return pcp_error_set(err, PCP_ERR_TARGET, "invalid SSL protocol version range");
	if (major >= 16 && v[PCP_KW_SSLCERTMODE] && !one_of(v[PCP_KW_SSLCERTMODE], dar))
		return invalid_value(ci, PCP_KW_SSLCERTMODE, err);
	if (v[PCP_KW_GSSENCMODE] && !one_of(v[PCP_KW_GSSENCMODE], dpr))
		return invalid_value(ci, PCP_KW_GSSENCMODE, err);
	if (v[PCP_KW_TARGET_SESSION_ATTRS] && !one_of(v[PCP_KW_TARGET_SESSION_ATTRS], attrs))
		return invalid_value(ci, PCP_KW_TARGET_SESSION_ATTRS, err);
	if (major >= 18 && ((v[PCP_KW_SCRAM_CLIENT_KEY] &&
	                     check_scram_key(v[PCP_KW_SCRAM_CLIENT_KEY], "client", err)) ||
	                    (v[PCP_KW_SCRAM_SERVER_KEY] &&
	                     check_scram_key(v[PCP_KW_SCRAM_SERVER_KEY], "server", err))))
		return PCP_ERR_TARGET;
	if (major >= 16 && v[PCP_KW_LOAD_BALANCE_HOSTS] &&
	    !one_of(v[PCP_KW_LOAD_BALANCE_HOSTS], balance))
		return invalid_value(ci, PCP_KW_LOAD_BALANCE_HOSTS, err);
	if (major >= 18) {
		const char *pmin = v[PCP_KW_MIN_PROTOCOL_VERSION],
		           *pmax = v[PCP_KW_MAX_PROTOCOL_VERSION];

		if (pmin && protocol_version(pmin) < 0)
			return invalid_value(ci, PCP_KW_MIN_PROTOCOL_VERSION, err);
		if (pmax && protocol_version(pmax) < 0)
			return invalid_value(ci, PCP_KW_MAX_PROTOCOL_VERSION, err);
		if (pmin && pmax && protocol_version(pmin) > protocol_version(pmax))
			return pcp_error_set(err, PCP_ERR_TARGET,
			                     "\"min_protocol_version\" is greater than "
			                     "\"max_protocol_version\"");
	}
	return PCP_OK;
}
