/* node-postgres 8.16.3 (pg, pg-connection-string 2.9) on Node 20 (its bundled OpenSSL
 * 3.0 at security level 1: SHA-1 signatures fail, RSA 1024 passes). Chains are verified
 * as OpenSSL verifies them for libpq (no partial chains, the anchor's dates count). A
 * connection string's prefer, require and verify-ca mean full verification unless
 * uselibpqcompat=true; and pg passes no servername for an IP-address host, so Node's
 * checkServerIdentity then checks the name "localhost" (lib/connection.js, lib/tls.js
 * and _tls_wrap.js; measured). */
#include "driver.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

/* net.isIP: a strict dotted-quad IPv4 or an IPv6 literal. */
static bool is_ip(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* tls.js check(): labels compared right to left case-insensitively after dropping one
 * trailing dot; the first label of the pattern may hold one '*' standing for any prefix
 * and suffix of the host's first label; "*.tld" (two labels) never matches; no wildcard
 * in an "xn--" label. */
static bool check(const char *host, const char *pattern)
{
	size_t hlen = strlen(host), plen = strlen(pattern);
	const char *hdot, *pdot, *star;
	size_t h1, p1, prefix, suffix, plabels = 1, hlabels = 1;

	if (hlen && host[hlen - 1] == '.')
		hlen--;
	if (plen && pattern[plen - 1] == '.')
		plen--;
	if (plen == 0)
		return false;
	for (size_t i = 0; i < plen; i++) {
		unsigned char c = (unsigned char)pattern[i];

		if (c < 0x21 || c > 0x7f)
			return false;
		if (c == '.') {
			if (i == 0 || i + 1 == plen || pattern[i + 1] == '.')
				return false;
			plabels++;
		}
	}
	for (size_t i = 0; i < hlen; i++)
		hlabels += host[i] == '.';
	if (hlabels != plabels)
		return false;
	hdot = memchr(host, '.', hlen);
	pdot = memchr(pattern, '.', plen);
	h1 = hdot ? (size_t)(hdot - host) : hlen;
	p1 = pdot ? (size_t)(pdot - pattern) : plen;
	if (hlen - h1 != plen - p1 || strncasecmp(host + h1, pattern + p1, hlen - h1) != 0)
		return false;
	star = memchr(pattern, '*', p1);
	if (!star || memmem(pattern, p1, "xn--", 4))
		return h1 == p1 && strncasecmp(host, pattern, p1) == 0;
	if (memchr(star + 1, '*', p1 - (size_t)(star - pattern) - 1) || plabels <= 2)
		return false;
	prefix = (size_t)(star - pattern);
	suffix = p1 - prefix - 1;
	return prefix + suffix <= h1 && strncasecmp(host, pattern, prefix) == 0 &&
	       strncasecmp(host + h1 - suffix, star + 1, suffix) == 0;
}

static bool ip_equal(const struct pcp_ipname *ip, const char *host)
{
	unsigned char a[16];

	if (ip->len == 4 && inet_pton(AF_INET, host, a) == 1)
		return memcmp(a, ip->addr, 4) == 0;
	if (ip->len == 16 && inet_pton(AF_INET6, host, a) == 1)
		return memcmp(a, ip->addr, 16) == 0;
	return false;
}

static enum pcp_hostmatch node_match(const struct pcp_cert_names *names, const char *host,
                                     char *msg, size_t msglen, char *reason, size_t reasonlen)
{
	/* pg sets servername only for names; Node falls back to "localhost". */
	const char *name = is_ip(host) ? "localhost" : host;
	char buf[256];
	bool any_dns = false;

	pcp_driver_msg(reason, reasonlen, "%s",
	               name == host ? "name mismatch" : "IP host checked as \"localhost\"");
	for (size_t i = 0; names && i < names->n_san; i++) {
		const struct pcp_san *san = &names->san[i];
		const char *text;

		if (san->is_ip)
			continue;
		any_dns = true;
		text = pcp_driver_name_text(&san->dns, buf, sizeof buf);
		if (text && !is_ip(name) && check(name, text))
			return PCP_HOST_MATCH;
	}
	if (is_ip(name)) {
		for (size_t i = 0; names && i < names->n_san; i++)
			if (names->san[i].is_ip && ip_equal(&names->san[i].ip, name))
				return PCP_HOST_MATCH;
		pcp_driver_msg(
		        msg, msglen,
		        "Hostname/IP does not match certificate's altnames: IP: %s is not in "
		        "the cert's list",
		        name);
		return PCP_HOST_MISMATCH;
	}
	if (!any_dns) {
		/* Every CN counts, only when there is no dNSName at all. */
		for (size_t i = 0; names && i <= names->n_more_cn; i++) {
			const struct pcp_name *cn = i == 0 ? names->cn : &names->more_cn[i - 1];
			const char *text = cn ? pcp_driver_name_text(cn, buf, sizeof buf) : NULL;

			if (text && check(name, text))
				return PCP_HOST_MATCH;
		}
		if (!names || !names->cn) {
			pcp_driver_msg(
			        msg, msglen,
			        "Hostname/IP does not match certificate's altnames: Cert does "
			        "not contain a DNS name");
			return PCP_HOST_MISMATCH;
		}
		pcp_driver_msg(
		        msg, msglen,
		        "Hostname/IP does not match certificate's altnames: Host: %s. is not "
		        "cert's CN",
		        name);
		return PCP_HOST_MISMATCH;
	}
	pcp_driver_msg(msg, msglen,
	               "Hostname/IP does not match certificate's altnames: Host: %s. is not in "
	               "the cert's altnames",
	               name);
	return PCP_HOST_MISMATCH;
}

/* pg reads sslrootcert with fs.readFileSync, which refuses a directory. */
static void node_root_dir_error(const char *path, char *msg, size_t msglen)
{
	(void)path;
	pcp_driver_msg(msg, msglen, "EISDIR: illegal operation on a directory, read");
}

const struct pcp_driver pcp_driver_node = {
        .name = "node-postgres",
        .implements = "node-postgres 8.16.3 (pg-connection-string 2.9.1) on Node 20 "
                      "(OpenSSL 3.0)",
        .chain = {.auth_level = 1},
        .verify_ca_checks_name = true,
        .root_dir_error = node_root_dir_error,
        .match = node_match,
};
