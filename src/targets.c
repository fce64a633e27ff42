/* Target parsing, expansion and target-file streaming. Connection strings and URIs are read
 * by the rules of the audited libpq version (conninfo: quoting, percent-decoding, keywords,
 * option checks); what libpq only does when it connects (service files, host/hostaddr/port
 * lists, ports, hostaddr) is redone here the same way and with libpq's words, without
 * touching the network. */
#include "targets.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conninfo.h"
#include "hostmatch.h"

/* libpq 15 as Debian builds it: SYSCONFDIR (pg_config --sysconfdir), DEFAULT_PGSOCKET_DIR,
 * DEF_PGPORT, MAXPGPATH, and parseServiceFile's line buffer (a line of 1023 bytes or more,
 * newline included, is "too long"). */
#define LIBPQ_SYSCONFDIR  "/etc/postgresql-common"
#define LIBPQ_SOCKET_DIR  "/var/run/postgresql"
#define LIBPQ_PORT        5432
#define LIBPQ_PATH_MAX    1024
#define LIBPQ_SERVICE_BUF 1024

/* Our own bounds where libpq has none: a service file is read up to this many bytes (so
 * /dev/zero cannot spin forever), and one string names at most this many hosts. */
#define SERVICE_FILE_MAX (1024 * 1024)
/* A targets line longer than this is no line at all: the file is not a list of targets. */
#define LINE_SKIP_MAX (1024 * 1024)
#define HOSTS_MAX     256

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
	free(t->sslrootcert);
	free(t->client_sslmode_text);
	free(t->client_refusal);
	memset(t, 0, sizeof *t);
}

static bool is_space(char c)
{
	return isspace((unsigned char)c) != 0;
}

/* host:port forms (not libpq's syntax): a number 1..65535, white space after it allowed. */
static enum pcp_errc parse_port(const char *s, uint16_t *port, struct pcp_error *err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	while (is_space(*end))
		end++;
	if (errno || end == s || *end || v < 1 || v > 65535)
		return pcp_error_set(err, PCP_ERR_TARGET, "invalid port number: \"%s\"", s);
	*port = (uint16_t)v;
	return PCP_OK;
}

/* A port as libpq's connection code reads it: empty means the default; otherwise an int with
 * optional white space around it ("invalid integer value"), then the range check. */
static enum pcp_errc libpq_port(const char *s, uint16_t *port, struct pcp_error *err)
{
	char *end;
	long v;

	if (!s || !*s) {
		*port = LIBPQ_PORT;
		return PCP_OK;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	while (end != s && is_space(*end))
		end++;
	if (end == s || errno || *end || v < INT32_MIN || v > INT32_MAX)
		return pcp_error_set(err, PCP_ERR_TARGET,
		                     "invalid integer value \"%s\" for connection option \"port\"",
		                     s);
	if (v < 1 || v > 65535)
		return pcp_error_set(err, PCP_ERR_TARGET, "invalid port number: \"%s\"", s);
	*port = (uint16_t)v;
	return PCP_OK;
}

/* libpq connects to hostaddr with getaddrinfo(AI_NUMERICHOST): 127.1 and fe80::1%lo pass,
 * names fail, and no DNS query is made. */
static enum pcp_errc check_hostaddr(const char *hostaddr, struct pcp_error *err)
{
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int g = getaddrinfo(hostaddr, NULL, &hints, &res);

	freeaddrinfo(res);
	if (g != 0)
		return pcp_error_set(err, PCP_ERR_TARGET,
		                     "could not parse network address \"%s\": %s", hostaddr,
		                     gai_strerror(g));
	return PCP_OK;
}

/* libpq's is_unixsock_path: an absolute path, or '@' for an abstract socket (14+). */
static bool is_unix_socket(const char *host)
{
	return host[0] == '/' || host[0] == '@';
}

static enum pcp_errc unix_socket_error(const char *host, struct pcp_error *err)
{
	return pcp_error_set(err, PCP_ERR_TARGET,
	                     "host \"%s\" is a Unix-domain socket, which has no TLS", host);
}

/* The verdict columns follow a target's sslmode only when it is one of the verifying modes. */
static void apply_client_sslmode(struct pcp_target *t, enum pcp_libpq_sslmode mode)
{
	t->client_sslmode = mode;
	if (mode == PCP_LIBPQ_VERIFY_CA || mode == PCP_LIBPQ_VERIFY_FULL) {
		t->has_sslmode = true;
		t->sslmode = mode == PCP_LIBPQ_VERIFY_CA ? PCP_SSLMODE_VERIFY_CA
		                                         : PCP_SSLMODE_VERIFY_FULL;
	}
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

/* libpq's recognized_connection_string: a URI prefix, or any '='. */
static bool is_conninfo_text(const char *s)
{
	return pcp_conninfo_is_uri(s) || strchr(s, '=') != NULL;
}

static enum pcp_errc target_init(struct pcp_target *t, const char *text, struct pcp_error *err)
{
	memset(t, 0, sizeof *t);
	t->port = LIBPQ_PORT;
	t->sslmode = PCP_SSLMODE_VERIFY_FULL;
	t->client_sslmode = PCP_LIBPQ_PREFER;
	t->text = strdup(text);
	if (!t->text)
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	return PCP_OK;
}

/* host[:port] forms. On PCP_ERR_TARGET, out->text is still set for the record. */
static enum pcp_errc parse_plain(const char *text, struct pcp_target *out, struct pcp_error *err)
{
	if (target_init(out, text, err))
		return PCP_ERR_SYSTEM;
	if (!*text)
		return pcp_error_set(err, PCP_ERR_TARGET, "empty target");
	return parse_hostport(text, out, err);
}

/* ---- pcp_target_expand: what libpq 15 to 18 make of one connection string ----
 *
 * The string is taken exactly as written. libpq would also fill options the string leaves
 * out from the environment (PGHOST, PGHOSTADDR, PGPORT, PGSSLMODE, PGREQUIRESSL,
 * PGSSLROOTCERT, PGSERVICE, ...), but that is the environment of each client, which runs
 * elsewhere, not of the machine running the probe: none of those variables is read. Only
 * where service definitions live (PGSERVICEFILE, PGSYSCONFDIR, the home directory) comes
 * in, from the caller, through struct pcp_target_env. */

/* One service file line of the wanted group: like libpq, the key is every byte before the
 * first '=' and the value every byte after it (no trimming, no quoting), any libpq keyword
 * is allowed, and the first value for a keyword wins over later ones, the string over all. */
static enum pcp_errc service_setting(struct pcp_conninfo *ci, char *line, const char *path,
                                     int lineno, struct pcp_error *err)
{
	char *val = strchr(line, '=');
	int kw;

	if (!val)
		return pcp_error_set(err, PCP_ERR_TARGET,
		                     "syntax error in service file \"%s\", line %d", path, lineno);
	*val++ = '\0';
	if (strcmp(line, "service") == 0)
		return pcp_error_set(err, PCP_ERR_TARGET,
		                     "nested service specifications not supported in service file "
		                     "\"%s\", line %d",
		                     path, lineno);
	if ((kw = pcp_kw_find(ci->major, line)) < 0)
		return pcp_error_set(err, PCP_ERR_TARGET,
		                     "syntax error in service file \"%s\", line %d", path, lineno);
	return pcp_conninfo_fill(ci, (enum pcp_kw)kw, val, err);
}

/* What fgets(buf, size) reads: up to size - 1 bytes, through a newline. Returns the bytes
 * read (NUL bytes included), 0 at end of file or on a read error, as fgets's NULL. */
static size_t read_chunk(FILE *f, char *buf, size_t size)
{
	size_t n = 0;
	int c;

	while (n + 1 < size && (c = getc(f)) != EOF) {
		buf[n++] = (char)c;
		if (c == '\n')
			break;
	}
	buf[n] = '\0';
	return n;
}

struct cached_file {
	struct cached_file *next;
	char *path;
	char *data; /* NULL: the file could not be opened */
	size_t len;
};

struct pcp_service_cache {
	struct cached_file *files;
};

struct pcp_service_cache *pcp_service_cache_new(void)
{
	return calloc(1, sizeof(struct pcp_service_cache));
}

void pcp_service_cache_free(struct pcp_service_cache *c)
{
	while (c && c->files) {
		struct cached_file *f = c->files;

		c->files = f->next;
		free(f->path);
		free(f->data);
		free(f);
	}
	free(c);
}

/* Non-blocking: a FIFO or terminal given as service file reads as empty, not forever. */
static FILE *open_service_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;

	if (fd >= 0 && !f)
		close(fd);
	return f;
}

/* The file's bytes, read once: one past SERVICE_FILE_MAX, so the size check still fires. */
static FILE *cached_service_file(struct pcp_service_cache *c, const char *path)
{
	struct cached_file *cf;

	for (cf = c->files; cf; cf = cf->next)
		if (strcmp(cf->path, path) == 0)
			break;
	if (!cf) {
		FILE *f = open_service_file(path);

		if (!(cf = calloc(1, sizeof *cf)) || !(cf->path = strdup(path))) {
			free(cf);
			if (f)
				fclose(f);
			return NULL;
		}
		if (f && (cf->data = malloc(SERVICE_FILE_MAX + 2)))
			cf->len = fread(cf->data, 1, SERVICE_FILE_MAX + 1, f);
		if (f)
			fclose(f);
		cf->next = c->files;
		c->files = cf;
	}
	if (!cf->data)
		return NULL;
	cf->data[cf->len] = '\0'; /* an empty file still needs one readable byte */
	return fmemopen(cf->data, cf->len ? cf->len : 1, "r");
}

/* Reads the group [name] of one service file into ci. *found tells whether the group was
 * there. Errors carry libpq's messages. */
static enum pcp_errc read_service_file(const struct pcp_target_env *env, const char *path,
                                       const char *name, struct pcp_conninfo *ci, bool *found,
                                       struct pcp_error *err)
{
	char buf[LIBPQ_SERVICE_BUF];
	size_t name_len = strlen(name), total = 0, got;
	enum pcp_errc rc = PCP_OK;
	int lineno = 0;
	FILE *f =
	        env->services ? cached_service_file(env->services, path) : open_service_file(path);

	*found = false;
	if (!f)
		return pcp_error_set(err, PCP_ERR_TARGET, "service file \"%s\" not found", path);
	while ((got = read_chunk(f, buf, sizeof buf)) > 0) {
		char *line = buf;
		size_t len = strlen(buf); /* like libpq, a NUL byte ends the line */

		assert(len <= got);
		lineno++;
		total += got;
		if (len >= sizeof buf - 1) {
			rc = pcp_error_set(err, PCP_ERR_TARGET,
			                   "line %d too long in service file \"%s\"", lineno, path);
			goto out;
		}
		if (total > SERVICE_FILE_MAX) {
			rc = pcp_error_set(err, PCP_ERR_TARGET,
			                   "service file \"%s\" is larger than %d bytes", path,
			                   SERVICE_FILE_MAX);
			goto out;
		}
		while (len > 0 && is_space(line[len - 1]))
			line[--len] = '\0';
		while (len > 0 && is_space(*line)) {
			line++;
			len--;
		}
		if (!*line || *line == '#')
			continue;
		if (*line == '[') {
			if (*found)
				break; /* the next group starts: ours is complete */
			*found =
			        strncmp(line + 1, name, name_len) == 0 && line[name_len + 1] == ']';
			continue;
		}
		if (!*found)
			continue;
		/* libpq (built with LDAP on Debian) would query an LDAP server here. */
		if (strncmp(line, "ldap", 4) == 0) {
			rc = pcp_error_set(
			        err, PCP_ERR_TARGET,
			        "service file \"%s\", line %d: LDAP service lookups are not "
			        "supported",
			        path, lineno);
			goto out;
		}
		if ((rc = service_setting(ci, line, path, lineno, err)))
			goto out;
	}
out:
	fclose(f);
	return rc;
}

/* libpq's parseServiceInfo: PGSERVICEFILE, else ~/.pg_service.conf if it exists; then, unless
 * the group was found, PGSYSCONFDIR/pg_service.conf if it exists. The home directory is the
 * caller's (libpq 15 uses $HOME, else the passwd entry); without one, that file is skipped. */
static enum pcp_errc apply_service(struct pcp_conninfo *ci, const struct pcp_target_env *env,
                                   struct pcp_error *err)
{
	const char *name = ci->val[PCP_KW_SERVICE];
	char path[LIBPQ_PATH_MAX];
	struct stat st;
	bool found = false;
	enum pcp_errc rc;

	if (env->servicefile)
		snprintf(path, sizeof path, "%s", env->servicefile);
	else if (env->home && *env->home)
		snprintf(path, sizeof path, "%s/.pg_service.conf", env->home);
	/* PGSERVICEFILE is opened without a look first: if it is missing, that is an error. */
	if (env->servicefile || (env->home && *env->home && stat(path, &st) == 0)) {
		rc = read_service_file(env, path, name, ci, &found, err);
		if (rc || found)
			return rc;
	}
	snprintf(path, sizeof path, "%s/pg_service.conf",
	         env->sysconfdir ? env->sysconfdir : LIBPQ_SYSCONFDIR);
	if (stat(path, &st) == 0 && (rc = read_service_file(env, path, name, ci, &found, err)))
		return rc;
	if (!found)
		return pcp_error_set(err, PCP_ERR_TARGET, "definition of service \"%s\" not found",
		                     name);
	return PCP_OK;
}

static size_t count_elems(const char *s)
{
	size_t n = 1;

	for (; *s; s++)
		n += *s == ',';
	return n;
}

/* Splits a copy of s at commas into want elements (the caller checked the count); an empty
 * or absent s gives want NULL elements. */
static enum pcp_errc split_list(const char *s, size_t want, char **buf, char ***elems,
                                struct pcp_error *err)
{
	char *p;

	*buf = NULL;
	*elems = calloc(want, sizeof **elems);
	if (!*elems)
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	if (!s || !*s)
		return PCP_OK;
	if (!(*buf = strdup(s)))
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	p = *buf;
	for (size_t i = 0; i < want; i++) {
		char *comma = strchr(p, ',');

		(*elems)[i] = p;
		if (!comma)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	return PCP_OK;
}

/* One host of the list: where libpq would connect, checked as libpq checks it when it gets
 * to that host (port first, then the address). */
static enum pcp_errc fill_host(struct pcp_target *t, const char *host, const char *hostaddr,
                               const char *port, struct pcp_error *err)
{
	enum pcp_errc rc;

	if (!(host && *host) && !(hostaddr && *hostaddr))
		return pcp_error_set(
		        err, PCP_ERR_TARGET,
		        "empty host in list: libpq would use the Unix-domain socket in "
		        "%s, which has no TLS",
		        LIBPQ_SOCKET_DIR);
	if ((rc = libpq_port(port, &t->port, err)))
		return rc;
	if (hostaddr && *hostaddr) {
		if ((rc = check_hostaddr(hostaddr, err)))
			return rc;
	} else if (is_unix_socket(host)) {
		return unix_socket_error(host, err);
	}
	t->host = dup_or_null(host);
	t->hostaddr = dup_or_null(hostaddr);
	if ((host && *host && !t->host) || (hostaddr && *hostaddr && !t->hostaddr))
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	return PCP_OK;
}

/* libpq's connectOptions2: one slot per hostaddr element if hostaddr is given, else per host
 * element; host must then have as many elements; one port serves every host, otherwise
 * there must be one per host; then the enumerated options. What libpq checks only when it
 * gets to a host (its port, its hostaddr) fails the whole string here: a target list has
 * no way to say "this host of the string is unusable, the others are fine". */
static enum pcp_errc expand_conninfo(const char *text, const struct pcp_target_env *env,
                                     struct pcp_target **out, size_t *n, struct pcp_error *err)
{
	static const struct pcp_target_env no_env;
	struct pcp_conninfo ci;
	struct pcp_conninfo_facts facts;
	const char *host, *hostaddr, *port;
	char *hbuf = NULL, *abuf = NULL, *pbuf = NULL;
	char **hosts = NULL, **addrs = NULL, **ports = NULL;
	struct pcp_target *ts = NULL;
	size_t nhost = 1, nport, i;
	int major;
	enum pcp_errc rc;

	if (!env)
		env = &no_env;
	major = env->libpq_version ? env->libpq_version : pcp_libpq_default();
	if ((rc = pcp_conninfo_parse(text, major, &ci, err)))
		return rc;
	if (ci.val[PCP_KW_SERVICE] && (rc = apply_service(&ci, env, err)))
		goto out;
	host = ci.val[PCP_KW_HOST];
	hostaddr = ci.val[PCP_KW_HOSTADDR];
	port = ci.val[PCP_KW_PORT];
	if (hostaddr && *hostaddr)
		nhost = count_elems(hostaddr);
	else if (host && *host)
		nhost = count_elems(host);
	else {
		rc = pcp_error_set(err, PCP_ERR_TARGET, "no host or hostaddr given");
		goto out;
	}
	if (hostaddr && *hostaddr && host && *host && count_elems(host) != nhost) {
		rc = pcp_error_set(err, PCP_ERR_TARGET,
		                   "could not match %zu host names to %zu hostaddr values",
		                   count_elems(host), nhost);
		goto out;
	}
	nport = port && *port ? count_elems(port) : 0;
	if (nport > 1 && nport != nhost) {
		rc = pcp_error_set(err, PCP_ERR_TARGET,
		                   "could not match %zu port numbers to %zu hosts", nport, nhost);
		goto out;
	}
	if ((rc = pcp_conninfo_check(&ci, &facts, err)))
		goto out;
	if (nhost > HOSTS_MAX) {
		rc = pcp_error_set(err, PCP_ERR_TARGET,
		                   "%zu hosts in one connection string: at most %d are probed",
		                   nhost, HOSTS_MAX);
		goto out;
	}
	if ((rc = split_list(host, nhost, &hbuf, &hosts, err)) ||
	    (rc = split_list(hostaddr, nhost, &abuf, &addrs, err)) ||
	    (rc = split_list(port, nport > 1 ? nhost : 1, &pbuf, &ports, err)))
		goto out;
	if (!(ts = calloc(nhost, sizeof *ts))) {
		rc = pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nhost; i++) {
		struct pcp_target *t = &ts[i];

		if ((rc = target_init(t, text, err)))
			goto out;
		t->is_conninfo = true;
		t->libpq_version = major;
		t->direct = facts.direct;
		t->system_roots = facts.system_roots;
		apply_client_sslmode(t, facts.sslmode);
		if (ci.val[PCP_KW_SSLROOTCERT] && *ci.val[PCP_KW_SSLROOTCERT] &&
		    !(t->sslrootcert = strdup(ci.val[PCP_KW_SSLROOTCERT]))) {
			rc = pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
			goto out;
		}
		if ((rc = fill_host(t, hosts[i], addrs[i], ports[nport > 1 ? i : 0], err)))
			goto out;
	}
	*out = ts;
	*n = nhost;
	ts = NULL;
out:
	if (ts) {
		for (i = 0; i < nhost; i++) /* zeroed ones are harmless */
			pcp_target_cleanup(&ts[i]);
		free(ts);
	}
	free(hosts);
	free(addrs);
	free(ports);
	free(hbuf);
	free(abuf);
	free(pbuf);
	pcp_conninfo_cleanup(&ci);
	return rc;
}

/* Where a URL's authority starts, after its scheme: libpq's and node-postgres's
 * postgres[ql]:// (node-postgres reads the scheme in any case), pgJDBC's
 * jdbc:postgresql://. NULL when the text is no such URL or (jdbc:postgresql:db) has none. */
static const char *url_authority(const char *s)
{
	static const char *const schemes[] = {"postgresql://", "postgres://", "jdbc:postgresql://"};

	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
		if (strncasecmp(s, schemes[i], strlen(schemes[i])) == 0)
			return s + strlen(schemes[i]);
	return NULL;
}

/* URLs whose query and userinfo may carry a password. */
static bool is_masked_uri(const char *s)
{
	return url_authority(s) || strncasecmp(s, "jdbc:postgresql:", 16) == 0;
}

/* Every masked value follows an '=' and grows by "***" at most, a URI's userinfo
 * password may be empty, and a URI may gain one '/': this bounds the masked text. */
static size_t mask_bound(const char *text, size_t len)
{
	size_t n = 1;

	for (const char *p = text; (p = strchr(p, '=')) != NULL; p++)
		n++;
	return len + 3 * n + 2;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	                              : -1;
}

/* Whether a URI query parameter starting at p is "password" once percent-decoded, as libpq
 * decodes keywords ("pass%77ord=" too); *eq is then its '='. */
static bool uri_key_is_password(const char *p, const char **eq)
{
	static const char want[] = "password";
	size_t n = 0;

	for (; *p && *p != '=' && *p != '&'; n++) {
		int c = (unsigned char)*p++;

		if (c == '%') {
			int hi = hex_digit(p[0]), lo = hi < 0 ? -1 : hex_digit(p[1]);

			if (lo < 0)
				return false;
			c = hi * 16 + lo;
			p += 2;
		}
		if (n >= sizeof want - 1 || c != want[n])
			return false;
	}
	*eq = p;
	return n == sizeof want - 1 && *p == '=';
}

/* Where a keyword's value ends, as libpq's conninfo_parse reads it: a quoted value through
 * its closing quote (NULL when unterminated), else up to white space; a backslash escapes
 * the next byte in both. */
static const char *keyword_value_end(const char *v)
{
	if (*v == '\'') {
		for (v++; *v && *v != '\''; v++)
			if (*v == '\\' && v[1])
				v++;
		return *v ? v + 1 : NULL;
	}
	for (; *v && !is_space(*v); v++)
		if (*v == '\\' && v[1])
			v++;
	return v;
}

/* Copies the keyword=value pairs of a connection string to out, as libpq tokenises them
 * (so a "password=" inside another value is not taken for a key), with the value of each
 * password key replaced by "***". Returns where libpq would report an error (or the end),
 * and *o the bytes written. */
static const char *mask_keywords(const char *text, char *out, size_t *o)
{
	const char *p = text;

	for (;;) {
		const char *key, *eq, *v, *end;

		while (is_space(*p))
			out[(*o)++] = *p++;
		if (!*p)
			return p;
		key = p;
		while (*p && *p != '=' && !is_space(*p))
			p++;
		eq = p;
		while (is_space(*eq))
			eq++;
		if (*eq != '=')
			return key;
		for (v = eq + 1; is_space(*v);)
			v++;
		if (!(end = keyword_value_end(v)))
			return key;
		if (p - key == 8 && strncmp(key, "password", 8) == 0) {
			memcpy(out + *o, key, (size_t)(eq + 1 - key));
			*o += (size_t)(eq + 1 - key);
			memcpy(out + *o, "***", 3);
			*o += 3;
			/* libpq needs no blank after a closing quote; *** needs one. */
			if (*v == '\'' && *end && !is_space(*end))
				out[(*o)++] = ' ';
		} else {
			memcpy(out + *o, key, (size_t)(end - key));
			*o += (size_t)(end - key);
		}
		p = end;
	}
}

char *pcp_target_mask(const char *text)
{
	size_t len = strlen(text), o = 0, cap = mask_bound(text, len);
	char *out = malloc(cap);
	const char *p = text, *end = text + len;
	const char *q;
	bool uri = is_masked_uri(text);

	if (!out)
		return NULL;
	if (uri) {
		const char *auth = url_authority(text), *slash = NULL, *at = NULL, *colon;

		/* The userinfo's end as its readers find it: libpq the first '@' before any
		 * '/' (a '?' does not end it), node-postgres (WHATWG) the last '@' before any
		 * of "/?#". The later of the two is masked, so that neither reads a password
		 * from the masked text: "postgres://app:P@ss@db" is "app:***@db". */
		if (auth) {
			const char *stop = auth + strcspn(auth, "/?#");

			slash = auth + strcspn(auth, "/");
			for (const char *c = auth; c < stop; c++)
				if (*c == '@')
					at = c;
			if (!at)
				at = memchr(auth, '@', (size_t)(slash - auth));
		}
		colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon) {
			memcpy(out, text, (size_t)(colon + 1 - text));
			o = (size_t)(colon + 1 - text);
			memcpy(out + o, "***", 3);
			o += 3;
			p = at;
		} else if (at) {
			memcpy(out, text, (size_t)(at - text));
			o = (size_t)(at - text);
			p = at;
		}
		/* Only the query holds parameters, from the first '?' after the userinfo:
		 * "&password=" in the userinfo, host part or path is not one. */
		q = p + strcspn(p, "?");
		memcpy(out + o, p, (size_t)(q - p));
		o += (size_t)(q - p);
		/* A '/' inside a masked query value may be what hid a later '@' from that
		 * look-ahead ("db?password=a/b&x=y@z"); an empty path keeps it hidden and
		 * means to libpq what no path means. */
		if (!at && slash && *q && slash > q && strchr(slash, '@') &&
		    pcp_conninfo_is_uri(text))
			out[o++] = '/';
		p = q;
	} else {
		p = mask_keywords(text, out, &o);
	}
	/* The rest: a URI's query parameters named password, or, after an error in a
	 * connection string, any word starting "password=". */
	while (p < end) {
		bool boundary = uri ? p[-1] == '?' || p[-1] == '&' : p == text || is_space(p[-1]);

		q = p + 8;
		if (boundary &&
		    (uri ? uri_key_is_password(p, &q) : strncmp(p, "password", 8) == 0)) {
			while (!uri && is_space(*q))
				q++;
			if (*q == '=') {
				memcpy(out + o, p, (size_t)(q + 1 - p));
				o += (size_t)(q + 1 - p);
				q++;
				while (!uri && is_space(*q))
					q++;
				if (uri)
					q += strcspn(q, "&");
				else if (!(q = keyword_value_end(q)))
					q = end;
				memcpy(out + o, "***", 3);
				o += 3;
				p = q;
				continue;
			}
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
	return out;
}

static enum pcp_errc mask_texts(struct pcp_target *t, size_t n, struct pcp_error *err)
{
	for (size_t i = 0; i < n; i++) {
		char *masked = pcp_target_mask(t[i].text);

		if (!masked)
			return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
		free(t[i].text);
		t[i].text = masked;
	}
	return PCP_OK;
}

/* A JDBC URL: one target per host, each a client with pgJDBC's rules (jdbcurl.c). */
static enum pcp_errc expand_jdbc(const char *text, struct pcp_target **out, size_t *n,
                                 struct pcp_error *err)
{
	struct pcp_jdbc_url u;
	struct pcp_target *ts;
	enum pcp_errc rc = pcp_jdbc_url_parse(text, &u, err);

	if (rc != PCP_OK)
		return rc;
	if (!(ts = calloc(u.n_hosts, sizeof *ts))) {
		pcp_jdbc_url_cleanup(&u);
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	}
	for (size_t i = 0; i < u.n_hosts && rc == PCP_OK; i++) {
		struct pcp_target *t = &ts[i];
		char *h = u.hosts[i];
		size_t hlen = strlen(h);

		if ((rc = target_init(t, text, err)))
			break;
		t->is_conninfo = true;
		t->client_driver = &pcp_driver_pgjdbc;
		t->client_factory = u.factory;
		apply_client_sslmode(t, u.sslmode);
		t->port = u.ports[i];
		/* "[v6]" is connected to and checked without its brackets. */
		t->host = hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']' ? strndup(h + 1, hlen - 2)
		                                                         : strdup(h);
		if (!t->host || (u.sslrootcert && !(t->sslrootcert = strdup(u.sslrootcert))))
			rc = pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	}
	if (rc == PCP_OK) {
		*out = ts;
		*n = u.n_hosts;
	} else {
		for (size_t i = 0; i < u.n_hosts; i++)
			pcp_target_cleanup(&ts[i]);
		free(ts);
	}
	pcp_jdbc_url_cleanup(&u);
	return rc;
}

/* A node-postgres connection URL (--client-driver node-postgres): one target. */
static enum pcp_errc expand_node(const char *text, struct pcp_target **out, size_t *n,
                                 struct pcp_error *err)
{
	struct pcp_node_url u;
	struct pcp_target *t;
	enum pcp_errc rc = pcp_node_url_parse(text, &u, err);

	if (rc != PCP_OK)
		return rc;
	if (!(t = calloc(1, sizeof *t)) || target_init(t, text, err)) {
		free(t);
		pcp_node_url_cleanup(&u);
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	}
	t->is_conninfo = true;
	t->client_driver = &pcp_driver_node;
	t->client_tls = u.tls;
	/* The verdict columns follow what the string checks: the chain only, or the name too. */
	t->has_sslmode = u.tls == PCP_NODE_CHAIN || u.tls == PCP_NODE_FULL;
	t->sslmode = u.tls == PCP_NODE_CHAIN ? PCP_SSLMODE_VERIFY_CA : PCP_SSLMODE_VERIFY_FULL;
	t->port = u.port;
	t->host = u.host;
	t->sslrootcert = u.sslrootcert;
	t->client_sslmode_text = u.sslmode;
	u.host = u.sslrootcert = u.sslmode = NULL;
	if (u.refusal[0] && !(t->client_refusal = strdup(u.refusal)))
		rc = pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	pcp_node_url_cleanup(&u);
	if (rc != PCP_OK) {
		pcp_target_cleanup(t);
		free(t);
		return rc;
	}
	*out = t;
	*n = 1;
	return PCP_OK;
}

enum pcp_errc pcp_target_expand(const char *text, const struct pcp_target_env *env,
                                struct pcp_target **out, size_t *n, struct pcp_error *err)
{
	struct pcp_target *t;
	enum pcp_errc rc;

	*out = NULL;
	*n = 0;
	if (pcp_jdbc_url_is(text)) {
		rc = expand_jdbc(text, out, n, err);
		goto strings;
	}
	if (env && env->client_driver == &pcp_driver_node && is_conninfo_text(text)) {
		rc = expand_node(text, out, n, err);
		goto strings;
	}
	if (!*text || !is_conninfo_text(text)) {
		/* host[:port] forms: one target; pcp_target_parse keeps the text on failure */
		if (!(t = calloc(1, sizeof *t)))
			return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
		rc = parse_plain(text, t, err);
		if (rc == PCP_OK || rc == PCP_ERR_TARGET) {
			*out = t;
			*n = 1;
			return rc;
		}
		pcp_target_cleanup(t);
		free(t);
		return rc;
	}
	rc = expand_conninfo(text, env, out, n, err);
	/* pgx reads libpq's keywords; its own rules decide (client_pgx.c). */
	for (size_t i = 0; rc == PCP_OK && env && env->client_driver == &pcp_driver_pgx && i < *n;
	     i++)
		(*out)[i].client_driver = &pcp_driver_pgx;
strings:
	if (rc == PCP_OK)
		return mask_texts(*out, *n, err);
	if (rc != PCP_ERR_TARGET)
		return rc;
	/* One target that names the string, for the invalid_target record. */
	if (!(t = calloc(1, sizeof *t)) || target_init(t, text, NULL)) {
		free(t);
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	}
	t->is_conninfo = true;
	*out = t;
	*n = 1;
	return mask_texts(t, 1, NULL) == PCP_OK
	               ? PCP_ERR_TARGET
	               : pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
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
 * is skipped) so a file without newlines cannot grow memory. Returns the bytes kept, -1
 * at end of file before any byte, -2 when out of memory, -3 when no line end came within
 * LINE_SKIP_MAX bytes. */
static long read_bounded_line(struct pcp_target_reader *r, bool *has_nul, bool *too_long)
{
	size_t len = 0, skipped = 0;
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
		else if (++skipped > LINE_SKIP_MAX)
			return -3; /* /dev/zero and the like: no line ever ends */
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
		if (n == -3)
			return pcp_error_set(err, PCP_ERR_INPUT,
			                     "%s line %lu: no end of line within %d bytes: not a "
			                     "targets file",
			                     r->path, r->lineno + 1, LINE_SKIP_MAX),
			       -1;
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
