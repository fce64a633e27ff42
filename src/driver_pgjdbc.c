/* pgJDBC 42.5.5 (Debian 12's libpostgresql-jdbc-java) on OpenJDK 17, LibPQFactory with the
 * store as sslrootcert: every certificate of the file becomes a trusted entry of a KeyStore
 * for SunJSSE's PKIX trust manager, and verify-full runs PGjdbcHostnameVerifier after the
 * handshake (ssl/LibPQFactory.java, ssl/MakeSSL.java, ssl/PGjdbcHostnameVerifier.java).
 * Java PKIX takes any trusted certificate as an anchor, never checks an anchor's dates nor
 * an intermediate's extended key usage; jdk.certpath.disabledAlgorithms refuses SHA-1 only
 * under the JDK's own "[jdk]" cacerts roots ("SHA1 jdkCA & usage TLSServer": none in
 * Debian's cacerts), keys below RSA 1024 (security level 1) and EC 224, and SunEC verifies
 * only P-256, P-384 and P-521 signatures. A root file that is a directory does not open
 * (FileInputStream). All measured with the real driver. */
#include "driver.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* String.equalsIgnoreCase on ASCII. */
static bool ieq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* verifyHostName: a '*' only as the first character of a pattern holding a '.', covering
 * one label (possibly empty) of a host at least as long as the pattern minus the '*'. */
static bool verify_host_name(const char *host, const char *pattern)
{
	size_t hlen = strlen(host), plen = strlen(pattern);
	const char *star = strrchr(pattern, '*');
	size_t toffset;

	if (!star)
		return ieq(host, pattern);
	if (star != pattern || !strchr(pattern, '.') || hlen < plen - 1)
		return false;
	toffset = hlen - plen + 1;
	if (memchr(host, '.', toffset))
		return false;
	return strcasecmp(host + toffset, pattern + 1) == 0;
}

/* An iPAddress SAN as Java's getSubjectAlternativeNames writes it: dotted IPv4, or eight
 * uncompressed lower-case hex groups for IPv6 (Inet6Address.getHostAddress). */
static bool ip_text(const struct pcp_ipname *ip, char *buf, size_t len)
{
	if (ip->len == 4)
		return inet_ntop(AF_INET, ip->addr, buf, (socklen_t)len) != NULL;
	if (ip->len != 16)
		return false;
	snprintf(buf, len, "%x:%x:%x:%x:%x:%x:%x:%x", ip->addr[0] << 8 | ip->addr[1],
	         ip->addr[2] << 8 | ip->addr[3], ip->addr[4] << 8 | ip->addr[5],
	         ip->addr[6] << 8 | ip->addr[7], ip->addr[8] << 8 | ip->addr[9],
	         ip->addr[10] << 8 | ip->addr[11], ip->addr[12] << 8 | ip->addr[13],
	         ip->addr[14] << 8 | ip->addr[15]);
	return true;
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

/* HOSTNAME_PATTERN_COMPARATOR > 0: a is more specific (more dots, fewer stars, longer). */
static int specificity(const char *a, const char *b)
{
	size_t da = count_char(a, '.'), db = count_char(b, '.');
	size_t sa = count_char(a, '*'), sb = count_char(b, '*');

	if (da != db)
		return da > db ? 1 : -1;
	if (sa != sb)
		return sa < sb ? 1 : -1;
	if (strlen(a) != strlen(b))
		return strlen(a) > strlen(b) ? 1 : -1;
	return 0;
}

static enum pcp_hostmatch pgjdbc_match(const struct pcp_cert_names *names, const char *host,
                                       char *msg, size_t msglen, char *reason, size_t reasonlen)
{
	char h[256], buf[256], best[256] = "";
	bool any_dns = false, have_cn = false;
	size_t hlen = strlen(host);

	/* "[v6]" loses its brackets; other hosts go through IDN.toASCII, a no-op for ASCII. */
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']')
		snprintf(h, sizeof h, "%.*s", (int)(hlen - 2), host + 1);
	else
		snprintf(h, sizeof h, "%s", host);
	/* Every dNSName and iPAddress SAN is compared as text, whatever the host's type. */
	for (size_t i = 0; names && i < names->n_san; i++) {
		const struct pcp_san *san = &names->san[i];
		const char *text = san->is_ip ? (ip_text(&san->ip, buf, sizeof buf) ? buf : NULL)
		                              : pcp_driver_name_text(&san->dns, buf, sizeof buf);

		any_dns = any_dns || !san->is_ip;
		if (text && verify_host_name(h, text))
			return PCP_HOST_MATCH;
	}
	if (any_dns) {
		pcp_driver_msg(msg, msglen,
		               "The hostname %s could not be verified by hostnameverifier "
		               "PgjdbcHostnameVerifier (no dNSName matches; the CN is not read).",
		               host);
		pcp_driver_msg(reason, reasonlen, "name mismatch");
		return PCP_HOST_MISMATCH;
	}
	/* No dNSName: the most specific CN decides. */
	for (size_t i = 0; names && i <= names->n_more_cn; i++) {
		const struct pcp_name *cn = i == 0 ? names->cn : &names->more_cn[i - 1];
		const char *text = cn ? pcp_driver_name_text(cn, buf, sizeof buf) : NULL;

		if (!text)
			continue;
		if (!have_cn || specificity(text, best) >= 0)
			snprintf(best, sizeof best, "%s", text);
		have_cn = true;
	}
	if (have_cn && verify_host_name(h, best))
		return PCP_HOST_MATCH;
	pcp_driver_msg(msg, msglen,
	               "The hostname %s could not be verified by hostnameverifier "
	               "PgjdbcHostnameVerifier.",
	               host);
	pcp_driver_msg(reason, reasonlen, "name mismatch");
	return PCP_HOST_MISMATCH;
}

/* LibPQFactory's FileInputStream on a directory. */
static void pgjdbc_root_dir_error(const char *path, char *msg, size_t msglen)
{
	pcp_driver_msg(msg, msglen, "Could not open SSL root certificate file %s.", path);
}

const struct pcp_driver pcp_driver_pgjdbc = {
        .name = "pgjdbc",
        .implements = "pgJDBC 42.5.5 (LibPQFactory) on OpenJDK 17.0",
        .chain = {.any_anchor = true,
                  .anchor_time_ignored = true,
                  .sha1_ok = true,
                  .ca_eku_ignored = true,
                  .curves = PCP_CURVES_JAVA,
                  .auth_level = 1},
        .root_dir_error = pgjdbc_root_dir_error,
        .match = pgjdbc_match,
};
