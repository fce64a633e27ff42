/* Target parsing and target-file streaming. Connection strings and URIs go through libpq's
 * own PQconninfoParse so that what libpq rejects, we reject with libpq's words. */
#include "targets.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libpq-fe.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "hostmatch.h"

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

void pcp_target_cleanup(struct pcp_target *t)
{
	if (!t)
		return;
	free(t->text);
	free(t->host);
	free(t->hostaddr);
	memset(t, 0, sizeof *t);
}

static enum pcp_errc parse_port(const char *s, uint16_t *port, struct pcp_error *err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r' || *end == '\f' ||
	       *end == '\v')
		end++; /* libpq's parse_int_param allows trailing white space */
	if (errno || end == s || *end || v < 1 || v > 65535)
		return pcp_error_set(err, PCP_ERR_TARGET, "invalid port number: \"%s\"", s);
	*port = (uint16_t)v;
	return PCP_OK;
}

/* libpq's sslmode values; only the two verifying modes change what we report. */
static enum pcp_errc apply_sslmode(const char *v, struct pcp_target *t, struct pcp_error *err)
{
	static const char *const valid[] = {"disable", "allow", "prefer", "require"};

	if (strcmp(v, "verify-ca") == 0 || strcmp(v, "verify-full") == 0) {
		t->has_sslmode = true;
		t->sslmode = v[7] == 'c' ? PCP_SSLMODE_VERIFY_CA : PCP_SSLMODE_VERIFY_FULL;
		return PCP_OK;
	}
	for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
		if (strcmp(v, valid[i]) == 0)
			return PCP_OK;
	return pcp_error_set(err, PCP_ERR_TARGET, "invalid sslmode value: \"%s\"", v);
}

static enum pcp_errc parse_conninfo(const char *text, struct pcp_target *t, struct pcp_error *err)
{
	char *perr = NULL;
	PQconninfoOption *opts = PQconninfoParse(text, &perr);
	const char *host = NULL, *hostaddr = NULL, *port = NULL;
	enum pcp_errc rc = PCP_OK;

	if (!opts) {
		char *nl;

		pcp_error_set(err, PCP_ERR_TARGET, "%s", perr ? perr : "out of memory");
		nl = strchr(err->msg, '\n');
		if (nl)
			*nl = '\0';
		PQfreemem(perr);
		return PCP_ERR_TARGET;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (!o->val || !*o->val)
			continue;
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			hostaddr = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "sslmode") == 0 && (rc = apply_sslmode(o->val, t, err)))
			goto out;
	}
	if ((host && strchr(host, ',')) || (hostaddr && strchr(hostaddr, ',')) ||
	    (port && strchr(port, ','))) {
		rc = pcp_error_set(
		        err, PCP_ERR_TARGET,
		        "lists of hosts are not supported yet: give each host as its own target");
		goto out;
	}
	if (!host && !hostaddr) {
		rc = pcp_error_set(err, PCP_ERR_TARGET, "no host or hostaddr given");
		goto out;
	}
	/* libpq's is_unixsock_path; with a hostaddr, libpq connects over TCP regardless. */
	if (!hostaddr && (host[0] == '/' || host[0] == '@')) {
		rc = pcp_error_set(err, PCP_ERR_TARGET,
		                   "host \"%s\" is a Unix-domain socket, which has no TLS", host);
		goto out;
	}
	if (hostaddr) {
		/* The same numeric-only parse libpq does (so 127.1 and fe80::1%lo pass); no DNS. */
		struct addrinfo hints = {.ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_STREAM};
		struct addrinfo *res = NULL;
		int g = getaddrinfo(hostaddr, NULL, &hints, &res);

		freeaddrinfo(res);
		if (g != 0) {
			rc = pcp_error_set(err, PCP_ERR_TARGET,
			                   "could not parse network address \"%s\": %s", hostaddr,
			                   gai_strerror(g));
			goto out;
		}
	}
	if (port && (rc = parse_port(port, &t->port, err)))
		goto out;
	t->host = dup_or_null(host);
	t->hostaddr = dup_or_null(hostaddr);
	if ((host && !t->host) || (hostaddr && !t->hostaddr))
		rc = pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
out:
	PQconninfoFree(opts);
	return rc;
}

/* host, host:port, [v6], [v6]:port, or a bare IPv6 literal. */
static enum pcp_errc parse_hostport(const char *text, struct pcp_target *t, struct pcp_error *err)
{
	const char *colon;
	size_t hostlen;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close == text + 1)
			return pcp_error_set(err, PCP_ERR_TARGET,
			                     "unterminated or empty [address] in \"%s\"", text);
		if (close[1] && close[1] != ':')
			return pcp_error_set(err, PCP_ERR_TARGET,
			                     "unexpected text after ] in \"%s\"", text);
		if (close[1] == ':' && parse_port(close + 2, &t->port, err))
			return PCP_ERR_TARGET;
		t->host = strndup(text + 1, (size_t)(close - text - 1));
		if (t->host && !pcp_host_is_ip_literal(t->host))
			return pcp_error_set(err, PCP_ERR_TARGET,
			                     "\"%s\" in brackets is not an IP address", t->host);
	} else {
		colon = strchr(text, ':');
		if (colon && strchr(colon + 1, ':')) {
			/* Two colons without brackets: an IPv6 literal without a port. */
			colon = NULL;
		}
		hostlen = colon ? (size_t)(colon - text) : strlen(text);
		if (hostlen == 0)
			return pcp_error_set(err, PCP_ERR_TARGET, "no host name in \"%s\"", text);
		if (colon && parse_port(colon + 1, &t->port, err))
			return PCP_ERR_TARGET;
		t->host = strndup(text, hostlen);
	}
	if (!t->host)
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	for (const char *p = t->host; *p; p++)
		if (*p == ' ' || *p == '/' || *p == '\\' || *p == '@')
			return pcp_error_set(err, PCP_ERR_TARGET,
			                     "invalid character '%c' in host \"%s\"", *p, t->host);
	return PCP_OK;
}

static bool is_uri(const char *s)
{
	return strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0;
}

enum pcp_errc pcp_target_parse(const char *text, struct pcp_target *out, struct pcp_error *err)
{
	memset(out, 0, sizeof *out);
	out->port = 5432;
	out->sslmode = PCP_SSLMODE_VERIFY_FULL;
	out->text = strdup(text);
	if (!out->text)
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	if (!*text)
		return pcp_error_set(err, PCP_ERR_TARGET, "empty target");
	if (is_uri(text) || strchr(text, '='))
		return parse_conninfo(text, out, err);
	return parse_hostport(text, out, err);
}

enum pcp_errc pcp_target_reader_open(struct pcp_target_reader *r, const char *path,
                                     struct pcp_error *err)
{
	memset(r, 0, sizeof *r);
	r->path = path;
	if (strcmp(path, "-") == 0) {
		r->fp = stdin;
		r->path = "standard input";
		return PCP_OK;
	}
	r->fp = fopen(path, "r");
	if (!r->fp)
		return pcp_error_set(err, PCP_ERR_INPUT, "cannot read targets file %s: %s", path,
		                     strerror(errno));
	r->owned = true;
	return PCP_OK;
}

static char *trim(char *s, size_t *len)
{
	while (*len && (s[*len - 1] == '\n' || s[*len - 1] == '\r' || s[*len - 1] == ' ' ||
	                s[*len - 1] == '\t'))
		s[--*len] = '\0';
	while (*s == ' ' || *s == '\t') {
		s++;
		(*len)--;
	}
	return s;
}

/* Reads one line into r->buf, keeping at most PCP_TARGET_LINE_MAX + 1 bytes of it (the rest
 * is skipped) so a file without newlines cannot grow memory. Returns the bytes kept, and
 * -1 at end of file before any byte. */
static long read_bounded_line(struct pcp_target_reader *r, bool *has_nul, bool *too_long)
{
	size_t len = 0;
	int c;

	*has_nul = false;
	*too_long = false;
	if (!r->buf) {
		r->cap = 2 * PCP_TARGET_LINE_MAX + 2; /* room for trailing blanks, trimmed later */
		r->buf = malloc(r->cap);
		if (!r->buf)
			return -2;
	}
	while ((c = getc(r->fp)) != EOF && c != '\n') {
		if (c == '\0')
			*has_nul = true;
		if (len < r->cap - 1)
			r->buf[len++] = (char)c;
		else
			*too_long = true;
	}
	if (c == EOF && len == 0)
		return -1;
	r->buf[len] = '\0';
	return (long)len;
}

int pcp_target_reader_next(struct pcp_target_reader *r, const char **line, const char **bad,
                           struct pcp_error *err)
{
	for (;;) {
		bool has_nul, too_long;
		long n = read_bounded_line(r, &has_nul, &too_long);
		size_t len;
		char *s;

		if (n == -2)
			return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory"), -1;
		if (n == -1) {
			if (ferror(r->fp))
				return pcp_error_set(err, PCP_ERR_INPUT, "error reading %s: %s",
				                     r->path, strerror(errno ? errno : EIO)),
				       -1;
			return 0;
		}
		r->lineno++;
		len = (size_t)n;
		*bad = NULL;
		if (has_nul) {
			*line = "";
			*bad = "line holds a NUL byte (binary file?)";
			return 1;
		}
		s = trim(r->buf, &len);
		if (len == 0 || s[0] == '#')
			continue;
		*line = s;
		if (too_long || len > PCP_TARGET_LINE_MAX) {
			s[PCP_TARGET_LINE_MAX] = '\0';
			*bad = "line too long";
			return 1;
		}
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)s[i];

			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				*bad = "line holds control characters (binary file?)";
				break;
			}
		}
		return 1;
	}
}

void pcp_target_reader_close(struct pcp_target_reader *r)
{
	if (r->owned && r->fp)
		fclose(r->fp);
	free(r->buf);
	memset(r, 0, sizeof *r);
}
