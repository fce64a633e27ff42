/* floor: the cost floor bench/run.py compares pgcertprobe with. For each target, back to back
 * with blocking sockets and no event loop or reports: connect, SSLRequest, 'S', TLS
 * handshake (no verification), then the chain verified under three stores as libpq's
 * OpenSSL would (purpose ssl_server, default auth level) plus the IP name check. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NSTORES     3
#define MAX_TARGETS 1000000

static const unsigned char sslrequest[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};

struct target {
	struct sockaddr_in sin;
	char host[INET_ADDRSTRLEN];
};

static int parse_target(const char *line, struct target *t)
{
	const char *colon = strrchr(line, ':');
	char *end;
	unsigned long port;
	size_t hlen;

	if (!colon)
		return -1;
	hlen = (size_t)(colon - line);
	if (hlen == 0 || hlen >= sizeof t->host)
		return -1;
	memcpy(t->host, line, hlen);
	t->host[hlen] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || (*end && *end != '\n') || port == 0 || port > 65535)
		return -1;
	memset(&t->sin, 0, sizeof t->sin);
	t->sin.sin_family = AF_INET;
	t->sin.sin_port = htons((unsigned short)port);
	return inet_pton(AF_INET, t->host, &t->sin.sin_addr) == 1 ? 0 : -1;
}

/* Reads up to max "A.B.C.D:PORT" lines. Returns the count or -1. */
static long read_targets(const char *path, struct target *out, long max)
{
	FILE *f = fopen(path, "r");
	char line[256];
	long n = 0;

	if (!f)
		return -1;
	while (n < max && fgets(line, sizeof line, f)) {
		if (line[0] == '\n' || line[0] == '#')
			continue;
		if (parse_target(line, &out[n]) != 0) {
			fprintf(stderr, "floor: bad target line %ld\n", n + 1);
			fclose(f);
			return -1;
		}
		n++;
	}
	fclose(f);
	return n;
}

static long long cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL +
	       ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One chain under one store, set up as ssl_verify_cert_chain does. 1 = libpq connects. */
static int verify(X509_STORE *store, STACK_OF(X509) * chain, int level, const char *host)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509 *leaf = sk_X509_value(chain, 0);
	int ok = 0;

	if (ctx && X509_STORE_CTX_init(ctx, store, leaf, chain) &&
	    X509_STORE_CTX_set_default(ctx, "ssl_server")) {
		X509_VERIFY_PARAM_set_auth_level(X509_STORE_CTX_get0_param(ctx), level);
		ok = X509_verify_cert(ctx) == 1 && X509_check_ip_asc(leaf, host, 0) == 1;
	}
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/* 1 when the handshake completed, then *verified counts the stores that pass. */
static int probe(SSL_CTX *ctx, X509_STORE **stores, int level, const struct target *t,
                 int *verified)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1, done = 0;
	unsigned char reply;
	SSL *ssl = NULL;

	*verified = 0;
	if (fd < 0)
		return 0;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (const struct sockaddr *)&t->sin, sizeof t->sin) != 0 ||
	    send(fd, sslrequest, sizeof sslrequest, MSG_NOSIGNAL) != (ssize_t)sizeof sslrequest ||
	    recv(fd, &reply, 1, 0) != 1 || reply != 'S')
		goto out;
	if (!(ssl = SSL_new(ctx)) || !SSL_set_fd(ssl, fd) || SSL_connect(ssl) != 1)
		goto out;
	done = 1;
	for (int i = 0; i < NSTORES; i++)
		*verified += verify(stores[i], SSL_get_peer_cert_chain(ssl), level, t->host);
	SSL_shutdown(ssl);
out:
	ERR_clear_error();
	SSL_free(ssl);
	close(fd);
	return done;
}

int main(int argc, char **argv)
{
	X509_STORE *stores[NSTORES] = {0};
	SSL_CTX *ctx = NULL;
	struct target *targets = NULL;
	unsigned long max;
	char *end;
	long n;
	int level, ok = 0, verified = 0, rc = 1;
	long long cpu0;
	double wall0;

	if (argc != 4) {
		fputs("usage: floor STORE.pem TARGETS_FILE MAX_TARGETS\n", stderr);
		return 64;
	}
	errno = 0;
	max = strtoul(argv[3], &end, 10);
	if (errno || *end || max == 0 || max > MAX_TARGETS) {
		fprintf(stderr, "floor: bad MAX_TARGETS \"%s\"\n", argv[3]);
		return 64;
	}
	if (!(targets = calloc(max, sizeof *targets)) ||
	    (n = read_targets(argv[2], targets, (long)max)) <= 0) {
		fprintf(stderr, "floor: cannot read targets from %s\n", argv[2]);
		goto out;
	}
	/* As pgcertprobe's capture context: TLS >= 1.2, no verification in the handshake. */
	if (!(ctx = SSL_CTX_new(TLS_client_method())) ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
		goto out;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	level = SSL_CTX_get_security_level(ctx);
	for (int i = 0; i < NSTORES; i++)
		if (!(stores[i] = X509_STORE_new()) || !X509_STORE_load_file(stores[i], argv[1])) {
			fprintf(stderr, "floor: cannot load %s\n", argv[1]);
			goto out;
		}
	cpu0 = cpu_us();
	wall0 = now_s();
	for (long i = 0; i < n; i++) {
		int v;

		ok += probe(ctx, stores, level, &targets[i], &v);
		verified += v;
	}
	printf("FLOOR targets=%ld handshakes=%d verified=%d cpu_us=%lld wall_s=%.3f\n", n, ok,
	       verified, cpu_us() - cpu0, now_s() - wall0);
	rc = ok == n ? 0 : 2;
out:
	ERR_print_errors_fp(stderr);
	for (int i = 0; i < NSTORES; i++)
		X509_STORE_free(stores[i]);
	SSL_CTX_free(ctx);
	free(targets);
	return rc;
}
