/* libpq's verify-full host name rules (fe-secure-common.c, fe-secure-openssl.c), as a pure
 * module: no OpenSSL, no I/O. Names carry explicit lengths because certificate strings may
 * hold embedded NUL bytes. */
#ifndef PCP_HOSTMATCH_H
#define PCP_HOSTMATCH_H

#include <stdbool.h>
#include <stddef.h>

struct pcp_name {
	char *data; /* not NUL-terminated for matching purposes; owned */
	size_t len;
};

struct pcp_ipname {
	unsigned char addr[16]; /* the first min(len, 16) bytes */
	size_t len;             /* the SAN's real length; anything but 4 or 16 is an error */
};

/* One subjectAltName entry libpq examines: a dNSName or an iPAddress. */
struct pcp_san {
	bool is_ip;
	struct pcp_name dns;  /* when !is_ip: raw bytes, explicit length */
	struct pcp_ipname ip; /* when is_ip */
};

/* The leaf certificate's names as libpq sees them. Owns every dns.data and the CN. */
struct pcp_cert_names {
	struct pcp_san *san; /* dNSName and iPAddress SANs in certificate order, others dropped:
	                      * libpq's walk stops at the first match or error */
	size_t n_san;
	struct pcp_name *cn;      /* the FIRST commonName of the subject, or NULL */
	struct pcp_name *more_cn; /* the commonNames after the first (other drivers read them) */
	size_t n_more_cn;
};

enum pcp_hostmatch {
	PCP_HOST_MATCH,
	PCP_HOST_MISMATCH,
	PCP_HOST_ERROR, /* e.g. a name with an embedded NUL, or no host given */
};

/* One dNSName or CN pattern against host, libpq's rules: ASCII case-insensitive, a
 * leading "*." wildcard matching exactly one non-empty label, no other wildcards. */
enum pcp_hostmatch pcp_hostmatch_name(const char *pattern, size_t len, const char *host);

/* One iPAddress SAN against host: 4 bytes compare with inet_aton(host), 16 bytes with
 * inet_pton(AF_INET6, host); any other length is PCP_HOST_ERROR whatever the host, as in
 * libpq ("certificate contains IP address with invalid length"). */
enum pcp_hostmatch pcp_hostmatch_ip(const struct pcp_ipname *ip, const char *host);

/* The whole verify-full decision. On mismatch or error, writes libpq's message into msg
 * (e.g. `server certificate for "a" (and 2 other names) does not match host name "b"`). */
enum pcp_hostmatch pcp_hostmatch_cert(const struct pcp_cert_names *names, const char *host,
                                      char *msg, size_t msglen);

/* True when host is an IPv4 or IPv6 literal as libpq's name check decides it (inet_aton or
 * inet_pton(AF_INET6)): then iPAddress SANs are compared, not dNSNames. */
bool pcp_host_is_ip_literal(const char *host);

/* True when libpq sends host as SNI: a non-empty host that is not all digits and dots and
 * holds no ':' (fe-secure-openssl.c; a narrower test than the name check's). */
bool pcp_host_sends_sni(const char *host);

void pcp_cert_names_cleanup(struct pcp_cert_names *names);

#endif
