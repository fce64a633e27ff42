/* The client audit: the root file libpq 15 would load for a connection string, whether it
 * verifies, and its fate against what the probe saw, in libpq's words. Rules read in
 * postgres/postgres fe-connect.c (PQconnectPoll, pqGetHomeDirectory) and
 * fe-secure-openssl.c (initialize_SSL, open_client_SSL); checked against libpq 15.18. */
#include "client.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain.h"
#include "tls.h"

/* As libpq's ROOT_CERT_FILE, appended to the home directory with "%s/%s". */
#define ROOT_CERT_FILE ".postgresql/root.crt"

/* libpq's texts (fe-connect.c, fe-secure-openssl.c). 16+ added ", use the system's trusted
 * roots with sslrootcert=system," to the missing-file hint; 15 does not have it. */
#define MSG_NO_SSL "server does not support SSL, but SSL was required"
#define HINT_15                                                                                    \
	"Either provide the file or change sslmode to disable server certificate verification."
#define HINT_16                                                                                    \
	"Either provide the file, use the system's trusted roots with sslrootcert=system, or "     \
	"change sslmode to disable server certificate verification."
#define MSG_ROOT_UNREADABLE "could not read root certificate file \"%s\": %s"
#define MSG_VERIFY_FAILED   "SSL error: certificate verify failed"
/* libpq 17+: direct connections (open_client_SSL). */
#define MSG_EOF "SSL SYSCALL error: EOF detected"
#define MSG_NO_ALPN                                                                                \
	"direct SSL connection was established without ALPN protocol negotiation extension"
#define MSG_BAD_ALPN "SSL connection was established with unexpected ALPN protocol"
/* Ours: what a refused direct probe cannot tell. */
#define MSG_UNDECIDED                                                                              \
	"not audited: the server refused the direct TLS probe, and this client sends SSLRequest "  \
	"first (probe with --negotiation postgres to audit it)"

/* The home directory as libpq 15's pqGetHomeDirectory finds it: $HOME when set and not
 * empty, else the passwd entry of the effective user. Returns a malloc'd path or NULL. */
static char *home_directory(void)
{
	const char *home = getenv("HOME");
	struct passwd pw, *found = NULL;
	char *buf = NULL, *out = NULL;
	size_t len = 1024;

	if (home && home[0])
		return strdup(home);
	/* getpwuid_r wants a buffer big enough for the entry: grow on ERANGE, up to a cap. */
	for (; len <= (1u << 20); len *= 2) {
		char *grown = realloc(buf, len);
		int rc;

		if (!grown)
			break;
		buf = grown;
		rc = getpwuid_r(geteuid(), &pw, buf, len, &found);
		if (rc != ERANGE)
			break;
	}
	if (found && found->pw_dir)
		out = strdup(found->pw_dir);
	free(buf);
	return out;
}

char *pcp_client_home(const char *client_home)
{
	return client_home && client_home[0] ? strdup(client_home) : home_directory();
}

char *pcp_client_default_rootcert(const char *client_home)
{
	char *home, *path;
	size_t len;

	home = pcp_client_home(client_home);
	if (!home)
		return NULL;
	len = strlen(home) + sizeof "/" ROOT_CERT_FILE;
	path = malloc(len);
	if (path)
		snprintf(path, len, "%s/%s", home, ROOT_CERT_FILE);
	free(home);
	return path;
}

char *pcp_client_rootcert_path(const struct pcp_target *t, const char *client_home)
{
	char *path;
	struct stat st;

	/* libpq 15 opens sslrootcert as written, relative paths against the process's cwd.
	 * "system" means OpenSSL's default roots only from libpq 16: 15, the reference
	 * client here, opens a file named "system" like any other. An empty value counts
	 * as absent (initialize_SSL: strlen(conn->sslrootcert) > 0). */
	if (t->sslrootcert && t->sslrootcert[0])
		return strdup(t->sslrootcert);
	path = pcp_client_default_rootcert(client_home);
	/* libpq's test is stat(): whatever stat finds is loaded (and may then fail to load);
	 * whatever it does not find is no root file at all. */
	if (path && stat(path, &st) != 0) {
		free(path);
		return NULL;
	}
	return path;
}

bool pcp_client_verifies(enum pcp_libpq_sslmode mode, bool rootcert_exists)
{
	switch (mode) {
	case PCP_LIBPQ_DISABLE:
		return false;
	case PCP_LIBPQ_VERIFY_CA:
	case PCP_LIBPQ_VERIFY_FULL:
		return true;
	default:
		/* initialize_SSL sets SSL_VERIFY_PEER whenever a root file loaded, in any
		 * mode. allow verifies too when it ends up on TLS (plaintext refused). */
		return rootcert_exists;
	}
}

bool pcp_client_target_verifies(const struct pcp_target *t, bool rootcert_exists)
{
	if (t->client_driver == &pcp_driver_node)
		return t->client_tls == PCP_NODE_CHAIN || t->client_tls == PCP_NODE_FULL;
	if (t->client_driver == &pcp_driver_pgx)
		/* configTLS: require with a root file is verify-ca; no file is the system pool. */
		return t->client_sslmode == PCP_LIBPQ_VERIFY_CA ||
		       t->client_sslmode == PCP_LIBPQ_VERIFY_FULL ||
		       (t->client_sslmode == PCP_LIBPQ_REQUIRE && t->sslrootcert);
	if (t->client_driver != &pcp_driver_pgjdbc)
		return pcp_client_verifies(t->client_sslmode, rootcert_exists);
	/* LibPQFactory verifies only for verify-ca and verify-full (SslMode.verifyCertificate);
	 * NonValidatingFactory never; DefaultJavaSSLFactory (the JVM's truststore) whenever
	 * it goes to TLS. */
	if (t->client_factory == PCP_JDBC_DEFAULT_JAVA)
		return t->client_sslmode >= PCP_LIBPQ_PREFER;
	return t->client_factory == PCP_JDBC_LIBPQ && (t->client_sslmode == PCP_LIBPQ_VERIFY_CA ||
	                                               t->client_sslmode == PCP_LIBPQ_VERIFY_FULL);
}

bool pcp_client_target_checks_name(const struct pcp_target *t)
{
	if (t->client_driver == &pcp_driver_node)
		return t->client_tls == PCP_NODE_FULL;
	/* libpq, pgx; and pgJDBC's MakeSSL for verify-full whatever the factory. */
	return t->client_sslmode == PCP_LIBPQ_VERIFY_FULL;
}

char *pcp_client_store_path(const struct pcp_target *t, const char *client_home,
                            const char *node_roots)
{
	struct stat st;

	if (t->sslrootcert && t->sslrootcert[0])
		return strdup(t->sslrootcert);
	if (t->client_driver == &pcp_driver_node)
		return node_roots ? strdup(node_roots) : NULL;
	if (t->client_driver == &pcp_driver_pgx)
		return stat(PCP_GO_SYSTEM_ROOTS, &st) == 0 ? strdup(PCP_GO_SYSTEM_ROOTS) : NULL;
	return pcp_client_rootcert_path(t, client_home);
}

void pcp_client_fail(struct pcp_client_verdict *out, const char *text)
{
	snprintf(out->error, sizeof out->error, "%s", text && text[0] ? text : "failed");
}

void pcp_client_tls_outcome(const struct pcp_client_case *c, bool verifies, const char *no_roots,
                            struct pcp_client_verdict *out)
{
	if (verifies && !c->rootcert_exists)
		pcp_client_fail(out, no_roots);
	else if (verifies && (!c->chain || !c->chain->ok))
		pcp_client_fail(out, c->chain ? c->chain->error : "the chain was not verified");
	else
		out->connects = out->encrypted = true;
}

bool pcp_client_unreachable(const struct pcp_client_case *c, struct pcp_client_verdict *out)
{
	switch (c->status) {
	case PCP_STATUS_INVALID_TARGET:
	case PCP_STATUS_CANCELLED:
		/* Not decided: there is nothing the client would have seen. */
	case PCP_STATUS_REFUSED:
	case PCP_STATUS_TIMEOUT:
	case PCP_STATUS_DNS_FAILED:
		/* Unreachable: every client fails in every mode, disable included. */
		pcp_client_fail(out,
		                c->status_error ? c->status_error : pcp_status_name(c->status));
		return true;
	default:
		return false;
	}
}

/* The end of a TLS attempt that failed: prefer opens a new plaintext connection (the
 * PQconnectPoll retry "if sslmode is prefer then do a non-SSL retry"), every other mode
 * fails with libpq's reason. */
static void tls_attempt_failed(const struct pcp_client_case *c, struct pcp_client_verdict *out,
                               const char *why)
{
	if (c->mode == PCP_LIBPQ_PREFER) {
		out->connects = true;
		out->encrypted = false;
		return;
	}
	pcp_client_fail(out, why);
}

/* The root file is missing for a verifying mode; 16 added sslrootcert=system to the hint. */
static void root_missing(const struct pcp_client_case *c, struct pcp_client_verdict *out)
{
	const char *hint = c->libpq_version >= 16 ? HINT_16 : HINT_15;

	if (c->rootcert)
		snprintf(out->error, sizeof out->error,
		         "root certificate file \"%s\" does not exist\n%s", c->rootcert, hint);
	else
		snprintf(out->error, sizeof out->error,
		         "could not get home directory to locate root certificate file\n%s", hint);
}

/* initialize_SSL's root file errors: a file that is there but holds no usable certificate
 * (fatal in every mode), or none for a verifying mode. True when one was found. */
static bool root_failed(const struct pcp_client_case *c, bool loaded,
                        struct pcp_client_verdict *out)
{
	if (!c->system_roots && c->rootcert && !c->rootcert_exists && c->rootcert_error) {
		char why[sizeof out->error];

		snprintf(why, sizeof why, MSG_ROOT_UNREADABLE, c->rootcert, c->rootcert_error);
		tls_attempt_failed(c, out, why);
		return true;
	}
	if (!loaded && (c->mode == PCP_LIBPQ_VERIFY_CA || c->mode == PCP_LIBPQ_VERIFY_FULL)) {
		root_missing(c, out);
		return true;
	}
	return false;
}

/* A failed handshake in the audited libpq's words: its OpenSSL's reason when the probe
 * recorded one. An EOF is worded as libpq 16-18 built with OpenSSL 1.1 word it (the builds
 * this is tested with; OpenSSL 3 builds say "SSL error: unexpected eof while reading",
 * which is what the probe records, as libpq 15 on this machine words it). */
static const char *handshake_error(const struct pcp_client_case *c)
{
	if (c->libpq_version >= 16 && c->tls_eof)
		return MSG_EOF;
	if (c->tls_error_libpq && c->tls_error_libpq[0])
		return c->tls_error_libpq;
	return c->status_error;
}

/* The root file as this reads the case: rootcert_exists, it loaded; rootcert_error set, the
 * file is there (stat() found it) but did not load, and the text is OpenSSL's reason as
 * libpq prints it; neither, there is no such file (NULL rootcert: no default file). With
 * system_roots the root file is the system's store, always loaded (libpq 16+). */
void pcp_client_decide(const struct pcp_client_case *c, struct pcp_client_verdict *out)
{
	bool loaded = c->rootcert_exists || c->system_roots;
	bool verifies = pcp_client_verifies(c->mode, loaded);
	bool probed_direct = c->probed == PCP_NEGOTIATION_DIRECT;
	bool name_failed;

	if (c->driver == &pcp_driver_pgjdbc) {
		pcp_client_decide_pgjdbc(c, out);
		return;
	}
	if (c->driver == &pcp_driver_node) {
		pcp_client_decide_node(c, out);
		return;
	}
	if (c->driver == &pcp_driver_pgx) {
		pcp_client_decide_pgx(c, out);
		return;
	}
	memset(out, 0, sizeof *out);
	if (pcp_client_unreachable(c, out))
		return;
	/* disable never sends SSLRequest; allow starts in plaintext and, with a server that
	 * accepts plaintext, stays there. What the server answered to SSLRequest does not
	 * matter to them: it was reachable. (Neither can be used with sslnegotiation=direct.) */
	if (c->mode == PCP_LIBPQ_DISABLE || c->mode == PCP_LIBPQ_ALLOW) {
		out->connects = true;
		return;
	}
	/* A direct handshake the server refused says nothing of what it answers SSLRequest. */
	if (probed_direct && !c->direct && c->status != PCP_STATUS_OK) {
		out->undecided = true;
		pcp_client_fail(out, MSG_UNDECIDED);
		return;
	}
	/* A direct client loads its root file before its ClientHello. */
	if (c->direct && root_failed(c, loaded, out))
		return;
	/* A direct client, probed over SSLRequest: a server without TLS, or one that chose no
	 * ALPN (PostgreSQL before 17), closes the connection at libpq's ClientHello. libpq 17+
	 * never falls back to SSLRequest. */
	if (c->direct && !probed_direct &&
	    (c->status == PCP_STATUS_NO_SSL ||
	     (c->status == PCP_STATUS_OK && c->direct_tls == PCP_DIRECT_REFUSED))) {
		pcp_client_fail(out, MSG_EOF);
		return;
	}
	switch (c->status) {
	case PCP_STATUS_PROTOCOL_ERROR:
		/* E, an unknown byte, EOF or plaintext after S: a hard failure, no retry. */
		pcp_client_fail(out, c->status_error);
		return;
	case PCP_STATUS_NO_SSL:
		/* N: prefer goes on in plaintext on the same socket. */
		if (c->mode == PCP_LIBPQ_PREFER)
			out->connects = true;
		else
			pcp_client_fail(out, MSG_NO_SSL);
		return;
	default:
		break;
	}
	/* S: initialize_SSL loads the root file before the handshake starts, so its errors
	 * come before any handshake or chain failure. */
	if (!c->direct && root_failed(c, loaded, out))
		return;
	if (c->status != PCP_STATUS_OK) {
		/* The handshake itself failed (the probe does not verify, so not the chain). */
		tls_attempt_failed(c, out, handshake_error(c));
		return;
	}
	if (verifies && !c->chain) {
		tls_attempt_failed(c, out, "the chain was not verified under the root file");
		return;
	}
	/* The chain fails inside SSL_connect ("SSL error: ..."); then libpq 17+ checks the
	 * ALPN of a direct connection; the name check comes last, with the hostmatch message
	 * the verdict carries. */
	name_failed = verifies && !c->chain->ok &&
	              (c->chain->code == PCP_VERDICT_NAME_MISMATCH ||
	               c->chain->code == PCP_VERDICT_NO_HOST);
	if (verifies && !c->chain->ok && !name_failed) {
		tls_attempt_failed(c, out, MSG_VERIFY_FAILED);
		return;
	}
	if (c->direct && (!c->alpn || !c->alpn[0])) {
		pcp_client_fail(out, MSG_NO_ALPN);
		return;
	}
	if (c->direct && strcmp(c->alpn, PCP_ALPN_NAME) != 0) {
		pcp_client_fail(out, MSG_BAD_ALPN);
		return;
	}
	if (name_failed) {
		tls_attempt_failed(c, out, c->chain->error);
		return;
	}
	out->connects = true;
	out->encrypted = true;
}

/* Order of the listing: by subject, then fingerprint, so runs are reproducible. */
static int cmp_roots(const void *a, const void *b)
{
	const struct pcp_client_root *x = a, *y = b;
	int d = strcmp(x->subject, y->subject);

	return d ? d : strcmp(x->sha256, y->sha256);
}

/* The roots of the Azure change, by the SHA-256 of their DER encoding. */
static const struct {
	const char *sha256;
	const char *name;
} known_roots[] = {
        {"16af57a9f676b0ab126095aa5ebadef22ab31119d644ac95cd4b93dbf3f26aeb",
         "Baltimore CyberTrust Root"},
        {"cb3ccbb76031e5e0138f8dd39a23f9de47ffc35e43c1144cea27d46a5ab1cb5f",
         "DigiCert Global Root G2"},
};

int pcp_client_roots(const struct pcp_store *store, struct pcp_client_root **out, size_t *n)
{
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store->store);
	int total = sk_X509_OBJECT_num(objs);
	struct pcp_client_root *roots;
	size_t count = 0;

	*out = NULL;
	*n = 0;
	if (!(roots = calloc(total > 0 ? (size_t)total : 1, sizeof *roots)))
		return -1;
	for (int i = 0; i < total; i++) {
		X509 *cert = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
		struct pcp_client_root *r = &roots[count];

		if (!cert) /* a CRL */
			continue;
		if (!(r->subject = pcp_x509_name_text(X509_get_subject_name(cert))))
			goto nomem;
		pcp_cert_sha256_hex(cert, r->sha256);
		r->kind = pcp_store_cert_kind(cert);
		for (size_t k = 0; k < sizeof known_roots / sizeof known_roots[0]; k++)
			if (strcmp(r->sha256, known_roots[k].sha256) == 0)
				r->known = known_roots[k].name;
		count++;
	}
	if (count > 1)
		qsort(roots, count, sizeof *roots, cmp_roots);
	*out = roots;
	*n = count;
	return 0;
nomem:
	for (size_t i = 0; i < count; i++)
		free(roots[i].subject);
	free(roots);
	return -1;
}

struct pcp_store *pcp_client_load_rootcert(const char *path, char *error, size_t errlen)
{
	struct pcp_error err = {0};
	struct pcp_store *store;
	struct stat st;
	X509_STORE *probe;
	unsigned long e;

	error[0] = '\0';
	if (stat(path, &st) != 0)
		return NULL;
	if (S_ISREG(st.st_mode) && (store = pcp_store_load(path, path, &err)))
		return store;
	/* libpq's reason comes from the loader it calls, X509_STORE_load_file. */
	probe = X509_STORE_new();
	ERR_clear_error();
	if (probe && !X509_STORE_load_file(probe, path) && (e = ERR_get_error()) != 0)
		snprintf(error, errlen, "%s", ERR_reason_error_string(e));
	else
		snprintf(error, errlen, "%s", "no certificate or crl found");
	ERR_clear_error();
	X509_STORE_free(probe);
	return NULL;
}
