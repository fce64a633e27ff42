/* pgx v4.15 (pgconn 1.11, Debian 12's golang-github-jackc-pgx-v4-dev) on Go 1.19.8:
 * pgconn's configTLS hands the store to crypto/tls (verify-full: ServerName = host) or to
 * its own VerifyPeerCertificate (verify-ca: x509 Verify without a name). Go's x509 takes
 * any pool certificate as a root, checks every certificate's dates (the root's too),
 * refuses SHA-1 signatures (Go 1.18+), has no minimum key size, parses no certificate on
 * an EC curve but P-224, P-256, P-384 and P-521, and never reads the CN (Go 1.17+). A root
 * file that is a directory fails ParseConfig (ioutil.ReadFile). Names: crypto/x509
 * verify.go VerifyHostname and matchHostnames. */
#include "driver.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* net.ParseIP; IPv4 and IPv4-mapped IPv6 compare equal (IP.Equal). Returns the 16-byte
 * form in out. */
static bool parse_ip(const char *s, unsigned char out[16])
{
	unsigned char a4[4];

	if (inet_pton(AF_INET, s, a4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, a4, 4);
		return true;
	}
	return inet_pton(AF_INET6, s, out) == 1;
}

static bool ip_san_equal(const struct pcp_ipname *ip, const unsigned char want[16])
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (ip->len == 4)
		return memcmp(want, mapped, 12) == 0 && memcmp(want + 12, ip->addr, 4) == 0;
	return ip->len == 16 && memcmp(want, ip->addr, 16) == 0;
}

/* validHostname: labels of letters, digits, '-' and '_' (and a whole "*" first label in
 * a pattern); an input may end with one '.'. */
static bool valid_hostname(const char *h, bool is_pattern)
{
	size_t len = strlen(h);

	if (len == 0 || strcmp(h, "*") == 0)
		return false;
	if (!is_pattern && h[len - 1] == '.')
		len--;
	for (size_t i = 0, start = 0; i <= len; i++) {
		if (i == len || h[i] == '.') {
			if (i == start)
				return false;
			if (is_pattern && start == 0 && i == 1 && h[0] == '*') {
				start = i + 1;
				continue;
			}
			for (size_t k = start; k < i; k++)
				if (!isalnum((unsigned char)h[k]) && h[k] != '-' && h[k] != '_')
					return false;
			start = i + 1;
		}
	}
	return true;
}

/* matchHostnames: a trailing dot dropped from the host; label for label, case folded, a
 * "*" first label of the pattern standing for any one label. */
static bool match_hostnames(const char *pattern, const char *host)
{
	size_t plen = strlen(pattern), hlen = strlen(host);

	if (hlen && host[hlen - 1] == '.')
		hlen--;
	if (plen == 0 || hlen == 0)
		return false;
	if (pattern[0] == '*' && plen >= 2 && pattern[1] == '.') {
		const char *dot = memchr(host, '.', hlen);

		return dot && hlen - (size_t)(dot - host) == plen - 1 &&
		       strncasecmp(dot, pattern + 1, plen - 1) == 0;
	}
	return plen == hlen && strncasecmp(pattern, host, hlen) == 0;
}

static enum pcp_hostmatch pgx_match(const struct pcp_cert_names *names, const char *host, char *msg,
                                    size_t msglen, char *reason, size_t reasonlen)
{
	unsigned char ip[16];
	char cand[256], buf[256];
	size_t hlen = strlen(host);
	bool any_dns = false, valid;

	snprintf(cand, sizeof cand, "%s", host);
	if (hlen >= 3 && host[0] == '[' && host[hlen - 1] == ']')
		snprintf(cand, sizeof cand, "%.*s", (int)(hlen - 2), host + 1);
	if (parse_ip(cand, ip)) {
		bool any_ip = false;

		for (size_t i = 0; names && i < names->n_san; i++) {
			any_ip = any_ip || names->san[i].is_ip;
			if (names->san[i].is_ip && ip_san_equal(&names->san[i].ip, ip))
				return PCP_HOST_MATCH;
		}
		if (!any_ip)
			pcp_driver_msg(
			        msg, msglen,
			        "x509: cannot validate certificate for %s because it doesn't "
			        "contain any IP SANs",
			        cand);
		else
			pcp_driver_msg(msg, msglen, "x509: certificate is not valid for %s", cand);
		pcp_driver_msg(reason, reasonlen, "%s", any_ip ? "name mismatch" : "no IP SAN");
		return PCP_HOST_MISMATCH;
	}
	valid = valid_hostname(host, false);
	for (size_t i = 0; names && i < names->n_san; i++) {
		const char *text;

		if (names->san[i].is_ip)
			continue;
		any_dns = true;
		if (!(text = pcp_driver_name_text(&names->san[i].dns, buf, sizeof buf)))
			continue;
		/* Wildcards and the trailing dot only between valid names; else exact. */
		if (valid && valid_hostname(text, true) ? match_hostnames(text, host)
		                                        : strcasecmp(text, host) == 0)
			return PCP_HOST_MATCH;
	}
	/* Go's own words when the CN alone would have matched. */
	if (!any_dns && names && names->n_san == 0 &&
	    pcp_driver_name_text(names->cn, buf, sizeof buf) && match_hostnames(buf, host)) {
		pcp_driver_msg(msg, msglen,
		               "x509: certificate relies on legacy Common Name field, use SANs "
		               "instead");
		pcp_driver_msg(reason, reasonlen, "CN-only certificate");
		return PCP_HOST_MISMATCH;
	}
	pcp_driver_msg(msg, msglen, "x509: certificate is not valid for %s", host);
	pcp_driver_msg(reason, reasonlen, "name mismatch");
	return PCP_HOST_MISMATCH;
}

/* configTLS: ioutil.ReadFile(sslrootcert). */
static void pgx_root_dir_error(const char *path, char *msg, size_t msglen)
{
	pcp_driver_msg(msg, msglen, "unable to read CA file: read %s: is a directory", path);
}

const struct pcp_driver pcp_driver_pgx = {
        .name = "pgx",
        .implements = "pgx v4.15.0 (pgconn 1.11.0) on Go 1.19.8",
        .chain = {.any_anchor = true,
                  .key_size_any = true,
                  .curves = PCP_CURVES_GO,
                  .auth_level = 1},
        .root_dir_error = pgx_root_dir_error,
        .match = pgx_match,
};
