/* node-postgres connection strings (see nodeurl.h): the URL's parts as WHATWG URL parsing
 * gives them for a non-special scheme, then pg-connection-string's parse() and pg's
 * ConnectionParameters turned into what Node's TLS will check. Query values are
 * form-decoded (URLSearchParams); the last of a repeated key wins. */
#include "nodeurl.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_PORT 5432

const char *pcp_node_tls_name(enum pcp_node_tls t)
{
	switch (t) {
	case PCP_NODE_PLAIN:
		return "plaintext";
	case PCP_NODE_NO_VERIFY:
		return "tls-no-verify";
	case PCP_NODE_CHAIN:
		return "verify-chain";
	default:
		return "verify-full";
	}
}

void pcp_node_url_cleanup(struct pcp_node_url *u)
{
	free(u->host);
	free(u->sslmode);
	free(u->sslrootcert);
	memset(u, 0, sizeof *u);
}

static int hexval(int c)
{
	if (isdigit(c))
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decoding; plus: '+' is a space (form decoding). A broken escape stays as it is,
 * as URLSearchParams leaves it. */
static char *decode(const char *s, size_t len, bool plus)
{
	char *out = malloc(len + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		int hi = s[i] == '%' && i + 2 < len ? hexval((unsigned char)s[i + 1]) : -1;
		int lo = hi >= 0 ? hexval((unsigned char)s[i + 2]) : -1;

		if (lo >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[o++] = plus && s[i] == '+' ? ' ' : s[i];
		}
	}
	out[o] = '\0';
	return out;
}

/* The query parameters this needs; every value owned, NULL when absent. */
struct params {
	char *host, *port, *ssl, *sslmode, *sslrootcert, *sslcert, *sslkey, *compat;
};

static void params_free(struct params *p)
{
	free(p->host);
	free(p->port);
	free(p->ssl);
	free(p->sslmode);
	free(p->sslrootcert);
	free(p->sslcert);
	free(p->sslkey);
	free(p->compat);
}

static int parse_query(const char *q, size_t len, struct params *p)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
	        {"host", offsetof(struct params, host)},
	        {"port", offsetof(struct params, port)},
	        {"ssl", offsetof(struct params, ssl)},
	        {"sslmode", offsetof(struct params, sslmode)},
	        {"sslrootcert", offsetof(struct params, sslrootcert)},
	        {"sslcert", offsetof(struct params, sslcert)},
	        {"sslkey", offsetof(struct params, sslkey)},
	        {"uselibpqcompat", offsetof(struct params, compat)},
	};

	for (size_t i = 0; i < len;) {
		size_t tlen = strcspn(q + i, "&");
		const char *eq;
		char *key, *value;

		if (tlen > len - i)
			tlen = len - i;
		eq = memchr(q + i, '=', tlen);
		key = decode(q + i, eq ? (size_t)(eq - q - i) : tlen, true);
		value = eq ? decode(eq + 1, tlen - (size_t)(eq + 1 - q - i), true) : strdup("");
		if (!key || !value) {
			free(key);
			free(value);
			return -1;
		}
		for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
			if (strcmp(key, keys[k].key) == 0) {
				char **slot = (char **)((char *)p + keys[k].off);

				free(*slot);
				*slot = value;
				value = NULL;
				break;
			}
		free(key);
		free(value);
		i += tlen + 1;
	}
	return 0;
}

/* pg-connection-string's ssl decisions (parse), then pg's (ConnectionParameters). */
static void decide_tls(struct pcp_node_url *u, const struct params *p)
{
	enum { SSL_UNSET, SSL_OFF, SSL_ON, SSL_NO_VERIFY } ssl = SSL_UNSET;
	bool object = false, no_verify = false, no_name = false;
	const char *mode = p->sslmode;

	if (p->ssl)
		ssl = strcmp(p->ssl, "0") == 0           ? SSL_OFF
		      : strcmp(p->ssl, "no-verify") == 0 ? SSL_NO_VERIFY
		                                         : SSL_ON; /* any other string is truthy */
	/* Any TLS file or an sslmode makes ssl an object, whatever ssl= said. */
	if ((p->sslcert && *p->sslcert) || (p->sslkey && *p->sslkey) ||
	    (p->sslrootcert && *p->sslrootcert) || (mode && *mode)) {
		object = true;
		ssl = SSL_ON;
	}
	u->compat = p->compat && strcmp(p->compat, "true") == 0;
	if (object && mode && u->compat) {
		if (strcmp(mode, "disable") == 0) {
			ssl = SSL_OFF;
		} else if (strcmp(mode, "prefer") == 0) {
			no_verify = true;
		} else if (strcmp(mode, "require") == 0) {
			if (p->sslrootcert && *p->sslrootcert)
				no_name = true;
			else
				no_verify = true;
		} else if (strcmp(mode, "verify-ca") == 0) {
			if (!(p->sslrootcert && *p->sslrootcert))
				snprintf(u->refusal, sizeof u->refusal,
				         "SECURITY WARNING: Using sslmode=verify-ca requires "
				         "specifying "
				         "a CA with sslrootcert.");
			no_name = true;
		}
	} else if (object && mode) {
		if (strcmp(mode, "disable") == 0)
			ssl = SSL_OFF;
		else if (strcmp(mode, "no-verify") == 0)
			no_verify = true;
	}
	if (ssl == SSL_UNSET || ssl == SSL_OFF)
		u->tls = PCP_NODE_PLAIN;
	else if (ssl == SSL_NO_VERIFY || no_verify)
		u->tls = PCP_NODE_NO_VERIFY;
	else
		u->tls = no_name ? PCP_NODE_CHAIN : PCP_NODE_FULL;
}

enum pcp_errc pcp_node_url_parse(const char *text, struct pcp_node_url *out, struct pcp_error *err)
{
	const char *s = text, *auth, *end, *hostp, *at, *q, *hash;
	size_t alen, hlen;
	struct params p = {0};
	enum pcp_errc rc = PCP_OK;
	unsigned long port = DEFAULT_PORT;

	memset(out, 0, sizeof *out);
	if (strncasecmp(s, "postgres://", 11) == 0)
		auth = s + 11;
	else if (strncasecmp(s, "postgresql://", 13) == 0)
		auth = s + 13;
	else
		return pcp_error_set(err, PCP_ERR_TARGET,
		                     "node-postgres reads postgres:// URLs, not this string");
	hash = strchr(auth, '#');
	end = auth + strcspn(auth, "/?#");
	alen = (size_t)(end - auth);
	/* userinfo ends at the last '@' of the authority. */
	at = NULL;
	for (const char *c = auth; c < end; c++)
		if (*c == '@')
			at = c;
	hostp = at ? at + 1 : auth;
	hlen = alen - (size_t)(hostp - auth);
	if (hlen && hostp[0] == '[') {
		const char *close = memchr(hostp, ']', hlen);

		/* WHATWG refuses an unclosed and an empty IPv6 literal alike. */
		if (!close || close == hostp + 1)
			return pcp_error_set(err, PCP_ERR_TARGET, "node-postgres: Invalid URL");
		out->host = strndup(hostp + 1, (size_t)(close - hostp) - 1);
		hostp = close + 1;
		hlen = (size_t)(end - hostp);
	} else {
		const char *colon = memchr(hostp, ':', hlen);
		size_t n = colon ? (size_t)(colon - hostp) : hlen;

		out->host = decode(hostp, n, false);
		hostp += n;
		hlen -= n;
	}
	if (!out->host) {
		rc = pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
		goto out;
	}
	/* An empty host: WHATWG URL parsing refuses it with a port or after userinfo, and
	 * pg-connection-string retries only "@/" with a dummy host; what it cannot parse it
	 * reads as undefined, and throws. */
	if (!out->host[0] && ((hlen && hostp[0] == ':') || (at && *end != '/'))) {
		rc = pcp_error_set(err, PCP_ERR_TARGET,
		                   "node-postgres: Invalid URL (pg-connection-string then throws "
		                   "\"Cannot read properties of undefined (reading "
		                   "'searchParams')\")");
		goto out;
	}
	if (hlen && hostp[0] == ':' && hlen > 1) {
		char *stop;

		port = strtoul(hostp + 1, &stop, 10);
		if (stop != end || !isdigit((unsigned char)hostp[1]) || port > 65535) {
			rc = pcp_error_set(err, PCP_ERR_TARGET,
			                   "node-postgres: Invalid URL (port)");
			goto out;
		}
	} else if (hlen > 1 || (hlen == 1 && hostp[0] != ':')) {
		rc = pcp_error_set(err, PCP_ERR_TARGET, "node-postgres: Invalid URL");
		goto out;
	}
	q = strchr(end, '?');
	if (q && (!hash || q < hash) &&
	    parse_query(q + 1, hash ? (size_t)(hash - q - 1) : strlen(q + 1), &p) < 0) {
		rc = pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
		goto out;
	}
	/* A host= or port= parameter wins over the URL's. */
	if (p.host && *p.host) {
		free(out->host);
		if (!(out->host = strdup(p.host))) {
			rc = pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
			goto out;
		}
	}
	if (p.port && *p.port) {
		char *stop;

		port = strtoul(p.port, &stop, 10);
		if (*stop || port == 0 || port > 65535) {
			rc = pcp_error_set(err, PCP_ERR_TARGET,
			                   "node-postgres: invalid port \"%.16s\"", p.port);
			goto out;
		}
	}
	/* pg's ConnectionParameters: an empty host is its default, localhost. */
	if (!out->host[0]) {
		free(out->host);
		if (!(out->host = strdup("localhost"))) {
			rc = pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
			goto out;
		}
	}
	if (out->host[0] == '/') {
		rc = pcp_error_set(err, PCP_ERR_TARGET,
		                   "node-postgres: a Unix-domain socket has no TLS");
		goto out;
	}
	out->port = port ? (uint16_t)port : DEFAULT_PORT;
	decide_tls(out, &p);
	if ((p.sslmode && !(out->sslmode = strdup(p.sslmode))) ||
	    (p.sslrootcert && *p.sslrootcert && !(out->sslrootcert = strdup(p.sslrootcert))))
		rc = pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
out:
	params_free(&p);
	if (rc != PCP_OK)
		pcp_node_url_cleanup(out);
	return rc;
}
