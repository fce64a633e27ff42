/* libpq 15's verify-full host name decision (fe-secure-common.c, fe-secure-openssl.c),
 * reimplemented as a pure module for verify: the leaf's names and the host string in,
 * the verdict and libpq's own message out. No OpenSSL, no I/O; the only libc help is
 * inet_aton/inet_pton/inet_ntop, because libpq's notion of an IP literal is theirs. */
#include "hostmatch.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_NO_HOST  "host name must be specified for a verified SSL connection"
#define MSG_NUL      "SSL certificate's name contains embedded null"
#define MSG_NO_NAMES "could not get server's host name from server certificate"
#define MSG_NO_ENTRY "SSL certificate's name entry is missing"

/* The first name libpq examined without error: a dNSName/CN or an iPAddress. */
struct first_name {
	const struct pcp_name *name;
	const struct pcp_ipname *ip;
};

static void put_msg(char *msg, size_t msglen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void put_msg(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	if (!msg || msglen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
}

/* pg_strcasecmp folds only A-Z for ASCII; bytes >= 0x80 are left alone here (in the C and
 * UTF-8 locales libpq's isupper() says no to them too). */
static unsigned char fold(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool caseeq(const char *a, const char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (fold((unsigned char)a[i]) != fold((unsigned char)b[i]))
			return false;
	return true;
}

/*
 * libpq's wildcard rule, length for length: the pattern must start with "*." and be at
 * least 3 long; the host must end with the pattern minus its '*', and the part the '*'
 * stands for (one byte or more) may hold no '.' except as its last byte. That last clause
 * is why "*.example.com" also matches "a..example.com" in libpq.
 */
static bool wildcard_match(const char *pat, size_t plen, const char *host, size_t hlen)
{
	size_t star;

	if (plen < 3 || pat[0] != '*' || pat[1] != '.')
		return false;
	if (plen > hlen)
		return false;
	star = hlen - plen; /* index of the last host byte the '*' covers */
	if (!caseeq(pat + 1, host + star + 1, plen - 1))
		return false;
	return memchr(host, '.', star) == NULL;
}

static bool host_missing(const char *host)
{
	return host == NULL || host[0] == '\0';
}

/* Embedded-NUL check and comparison; host must be non-empty. */
static enum pcp_hostmatch match_name(const char *data, size_t len, const char *host)
{
	size_t hlen;

	if (len > 0 && (data == NULL || memchr(data, '\0', len) != NULL))
		return PCP_HOST_ERROR;
	hlen = strlen(host);
	if (len == hlen && caseeq(data, host, len))
		return PCP_HOST_MATCH;
	if (len > 0 && wildcard_match(data, len, host, hlen))
		return PCP_HOST_MATCH;
	return PCP_HOST_MISMATCH;
}

enum pcp_hostmatch pcp_hostmatch_name(const char *pattern, size_t len, const char *host)
{
	if (host_missing(host))
		return PCP_HOST_ERROR;
	return match_name(pattern, len, host);
}

enum pcp_hostmatch pcp_hostmatch_ip(const struct pcp_ipname *ip, const char *host)
{
	if (host_missing(host) || ip == NULL)
		return PCP_HOST_ERROR;
	if (ip->len == 4) {
		struct in_addr a4;

		/* inet_aton, not inet_pton: libpq accepts "127.1", "0x7f.1", "2130706433". A
		 * host that is no address is a mismatch, not an error. */
		if (inet_aton(host, &a4) == 0)
			return PCP_HOST_MISMATCH;
		return memcmp(ip->addr, &a4.s_addr, 4) == 0 ? PCP_HOST_MATCH : PCP_HOST_MISMATCH;
	}
	if (ip->len == 16) {
		struct in6_addr a6;

		if (inet_pton(AF_INET6, host, &a6) != 1)
			return PCP_HOST_MISMATCH;
		return memcmp(ip->addr, a6.s6_addr, 16) == 0 ? PCP_HOST_MATCH : PCP_HOST_MISMATCH;
	}
	/* libpq refuses any other length outright, whatever the host. */
	return PCP_HOST_ERROR;
}

bool pcp_host_is_ip_literal(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (host == NULL)
		return false;
	return inet_aton(host, &a4) != 0 || inet_pton(AF_INET6, host, &a6) == 1;
}

bool pcp_host_sends_sni(const char *host)
{
	return host && host[0] && strspn(host, "0123456789.") != strlen(host) && !strchr(host, ':');
}

static const char *name_error(const struct pcp_name *n)
{
	return (n->data == NULL && n->len > 0) ? MSG_NO_ENTRY : MSG_NUL;
}

/* One SAN as libpq examines it; on error writes libpq's message. */
static enum pcp_hostmatch match_san(const struct pcp_san *san, const char *host, char *msg,
                                    size_t msglen)
{
	enum pcp_hostmatch rc;

	if (san->is_ip) {
		rc = pcp_hostmatch_ip(&san->ip, host);
		if (rc == PCP_HOST_ERROR)
			put_msg(msg, msglen,
			        "certificate contains IP address with invalid length %zu",
			        san->ip.len);
		return rc;
	}
	rc = match_name(san->dns.data, san->dns.len, host);
	if (rc == PCP_HOST_ERROR)
		put_msg(msg, msglen, "%s", name_error(&san->dns));
	return rc;
}

static void mismatch_msg(size_t examined, const struct first_name *first, const char *host,
                         char *msg, size_t msglen)
{
	char ipbuf[INET6_ADDRSTRLEN];
	const char *p = "";
	size_t plen = 0;
	int shown;

	if (examined == 0 || (first->name == NULL && first->ip == NULL)) {
		put_msg(msg, msglen, "%s", MSG_NO_NAMES);
		return;
	}
	if (first->name) {
		p = first->name->data ? first->name->data : "";
		plen = first->name->len;
	} else {
		/* glibc's inet_ntop writes what libpq's pg_inet_net_ntop writes for a full-length
		 * address: "::" compression of the longest run, "::ffff:a.b.c.d", "::a.b.c.d". */
		int af = first->ip->len == 4 ? AF_INET : AF_INET6;

		if (inet_ntop(af, first->ip->addr, ipbuf, sizeof ipbuf) == NULL)
			ipbuf[0] = '\0';
		p = ipbuf;
		plen = strlen(ipbuf);
	}
	shown = plen > INT_MAX ? INT_MAX : (int)plen;
	if (examined == 1)
		put_msg(msg, msglen,
		        "server certificate for \"%.*s\" does not match host name \"%s\"", shown, p,
		        host);
	else if (examined == 2)
		put_msg(msg, msglen,
		        "server certificate for \"%.*s\" (and 1 other name) does not match host "
		        "name \"%s\"",
		        shown, p, host);
	else
		put_msg(msg, msglen,
		        "server certificate for \"%.*s\" (and %zu other names) does not match host "
		        "name \"%s\"",
		        shown, p, examined - 1, host);
}

/*
 * libpq walks the subjectAltName extension once, in certificate order: every dNSName and
 * iPAddress counts as examined whatever the host's type, the walk stops at the first match
 * or error, and a SAN of the host's own type rules out the CN.
 */
enum pcp_hostmatch pcp_hostmatch_cert(const struct pcp_cert_names *names, const char *host,
                                      char *msg, size_t msglen)
{
	static const struct pcp_cert_names none;
	enum pcp_hostmatch rc = PCP_HOST_MISMATCH;
	struct first_name first = {NULL, NULL};
	size_t examined = 0;
	bool host_is_ip;
	bool check_cn = true;

	put_msg(msg, msglen, "%s", "");
	if (host_missing(host)) {
		put_msg(msg, msglen, "%s", MSG_NO_HOST);
		return PCP_HOST_ERROR;
	}
	if (names == NULL)
		names = &none;
	host_is_ip = pcp_host_is_ip_literal(host);

	for (size_t i = 0; i < names->n_san; i++) {
		const struct pcp_san *san = &names->san[i];

		if (san->is_ip == host_is_ip)
			check_cn = false;
		examined++;
		rc = match_san(san, host, msg, msglen);
		if (rc == PCP_HOST_ERROR)
			return rc;
		if (!first.name && !first.ip) {
			if (san->is_ip)
				first.ip = &san->ip;
			else
				first.name = &san->dns;
		}
		if (rc == PCP_HOST_MATCH)
			return rc;
	}

	/* Only the first CN, and only with no SAN of the host's type. */
	if (check_cn && names->cn) {
		examined++;
		rc = match_name(names->cn->data, names->cn->len, host);
		if (rc == PCP_HOST_ERROR) {
			put_msg(msg, msglen, "%s", name_error(names->cn));
			return rc;
		}
		if (!first.name && !first.ip)
			first.name = names->cn;
		if (rc == PCP_HOST_MATCH)
			return rc;
	}

	mismatch_msg(examined, &first, host, msg, msglen);
	return PCP_HOST_MISMATCH;
}

void pcp_cert_names_cleanup(struct pcp_cert_names *names)
{
	if (names == NULL)
		return;
	for (size_t i = 0; i < names->n_san; i++)
		if (!names->san[i].is_ip)
			free(names->san[i].dns.data);
	free(names->san);
	if (names->cn)
		free(names->cn->data);
	free(names->cn);
	for (size_t i = 0; i < names->n_more_cn; i++)
		free(names->more_cn[i].data);
	free(names->more_cn);
	memset(names, 0, sizeof *names);
}
