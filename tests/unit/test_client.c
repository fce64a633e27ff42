/* Unit tests for client: libpq 15's decision table (sslmode x root file state x probe
 * status x chain verdict) with its exact error texts, which root file libpq would load
 * (HOME, --client-home, relative and "system" sslrootcert), and the listing of a root
 * file's certificates with the two roots of the Azure change marked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "testpki.h"
#include "testutil.h"
#include "truststore.h"

/* ---- the decision table -------------------------------------------------------------- */

#define E_NO_SSL "server does not support SSL, but SSL was required"
#define E_PROTO  "server sent an error response during SSL exchange"
#define E_TLS    "SSL error: tlsv1 alert protocol version"
#define E_VERIFY "SSL error: certificate verify failed"
#define E_NAME                                                                                     \
	"server certificate for \"other.example.test\" does not match host name "                  \
	"\"db.example.test\""
#define E_MISSING                                                                                  \
	"root certificate file \"/no/such/root.pem\" does not exist\n"                             \
	"Either provide the file or change sslmode to disable server certificate verification."
#define E_DEFAULT                                                                                  \
	"could not get home directory to locate root certificate file\n"                           \
	"Either provide the file or change sslmode to disable server certificate verification."
#define E_BROKEN                                                                                   \
	"could not read root certificate file \"/x/empty.pem\": no certificate or crl found"

/* The root file states a client can be in. */
enum root { R_NONE, R_MISSING, R_BROKEN, R_LOADED, N_ROOTS };
/* The probe outcomes that reach the server's answer (unreachable ones are swept apart). */
static const enum pcp_status reach[] = {PCP_STATUS_OK, PCP_STATUS_NO_SSL, PCP_STATUS_PROTOCOL_ERROR,
                                        PCP_STATUS_TLS_FAILED};
/* Chain verdicts under the root file: passes, fails (root expired), name mismatch. */
enum chainv { C_OK, C_BAD, C_NAME, N_CHAINS };

static const char *status_error(enum pcp_status s)
{
	switch (s) {
	case PCP_STATUS_PROTOCOL_ERROR:
		return E_PROTO;
	case PCP_STATUS_TLS_FAILED:
		return E_TLS;
	case PCP_STATUS_REFUSED:
		return "could not connect: Connection refused";
	case PCP_STATUS_TIMEOUT:
		return "no answer within 5 s (while connecting)";
	case PCP_STATUS_DNS_FAILED:
		return "could not resolve: Name or service not known";
	case PCP_STATUS_CANCELLED:
		return "interrupted (while connecting)";
	case PCP_STATUS_INVALID_TARGET:
		return "invalid sslmode value: \"verify-all\"";
	default:
		return NULL;
	}
}

static void make_verdict(enum chainv cv, struct pcp_verdict *v)
{
	memset(v, 0, sizeof *v);
	v->depth = -1;
	switch (cv) {
	case C_OK:
		v->ok = true;
		break;
	case C_BAD:
		v->code = 10;
		v->depth = 2;
		snprintf(v->error, sizeof v->error,
		         "certificate verify failed: certificate has expired");
		break;
	case C_NAME:
		v->code = PCP_VERDICT_NAME_MISMATCH;
		v->depth = 0;
		snprintf(v->error, sizeof v->error, "%s", E_NAME);
		break;
	default:
		break;
	}
}

static struct pcp_client_case make_case(enum pcp_libpq_sslmode mode, enum root root,
                                        enum pcp_status st, const struct pcp_verdict *v)
{
	struct pcp_client_case c = {.mode = mode, .status = st, .status_error = status_error(st)};

	switch (root) {
	case R_MISSING:
		c.rootcert = "/no/such/root.pem";
		break;
	case R_BROKEN:
		c.rootcert = "/x/empty.pem";
		c.rootcert_error = "no certificate or crl found";
		break;
	case R_LOADED:
		c.rootcert = "/x/root.pem";
		c.rootcert_exists = true;
		/* The runner verifies only when the client does. */
		c.chain = pcp_client_verifies(mode, true) ? v : NULL;
		break;
	default:
		break;
	}
	return c;
}

/* Expected outcomes per (mode, root file): four groups of three, one group per status
 * (OK, NO_SSL, PROTOCOL_ERROR, TLS_FAILED), one character per chain verdict (ok, bad,
 * name). '+' connects encrypted, '~' connects unencrypted, a letter fails with that text
 * (see expect_text). */
struct row {
	enum pcp_libpq_sslmode mode;
	enum root root;
	const char *cells;
};

/* clang-format off */
static const struct row table[] = {
	/*                                 OK  N   E   TLS */
	/* disable: no SSLRequest at all; the server was reachable. */
	{PCP_LIBPQ_DISABLE,     R_NONE,    "~~~ ~~~ ~~~ ~~~"},
	{PCP_LIBPQ_DISABLE,     R_MISSING, "~~~ ~~~ ~~~ ~~~"},
	{PCP_LIBPQ_DISABLE,     R_BROKEN,  "~~~ ~~~ ~~~ ~~~"},
	{PCP_LIBPQ_DISABLE,     R_LOADED,  "~~~ ~~~ ~~~ ~~~"},
	/* allow: plaintext first, accepted. */
	{PCP_LIBPQ_ALLOW,       R_NONE,    "~~~ ~~~ ~~~ ~~~"},
	{PCP_LIBPQ_ALLOW,       R_MISSING, "~~~ ~~~ ~~~ ~~~"},
	{PCP_LIBPQ_ALLOW,       R_BROKEN,  "~~~ ~~~ ~~~ ~~~"},
	{PCP_LIBPQ_ALLOW,       R_LOADED,  "~~~ ~~~ ~~~ ~~~"},
	/* prefer: N goes on in plaintext, a TLS failure (root file, handshake, chain)
	 * reconnects in plaintext, E/EOF are fatal; without a root file no verification. */
	{PCP_LIBPQ_PREFER,      R_NONE,    "+++ ~~~ PPP ~~~"},
	{PCP_LIBPQ_PREFER,      R_MISSING, "+++ ~~~ PPP ~~~"},
	{PCP_LIBPQ_PREFER,      R_BROKEN,  "~~~ ~~~ PPP ~~~"},
	{PCP_LIBPQ_PREFER,      R_LOADED,  "+~~ ~~~ PPP ~~~"},
	/* require: verifies only with a root file. */
	{PCP_LIBPQ_REQUIRE,     R_NONE,    "+++ NNN PPP TTT"},
	{PCP_LIBPQ_REQUIRE,     R_MISSING, "+++ NNN PPP TTT"},
	{PCP_LIBPQ_REQUIRE,     R_BROKEN,  "BBB NNN PPP BBB"},
	{PCP_LIBPQ_REQUIRE,     R_LOADED,  "+VH NNN PPP TTT"},
	/* verify-ca / verify-full: the root file is required, checked after S (the
	 * server's N or E come first) and before the handshake. */
	{PCP_LIBPQ_VERIFY_CA,   R_NONE,    "DDD NNN PPP DDD"},
	{PCP_LIBPQ_VERIFY_CA,   R_MISSING, "MMM NNN PPP MMM"},
	{PCP_LIBPQ_VERIFY_CA,   R_BROKEN,  "BBB NNN PPP BBB"},
	{PCP_LIBPQ_VERIFY_CA,   R_LOADED,  "+VH NNN PPP TTT"},
	{PCP_LIBPQ_VERIFY_FULL, R_NONE,    "DDD NNN PPP DDD"},
	{PCP_LIBPQ_VERIFY_FULL, R_MISSING, "MMM NNN PPP MMM"},
	{PCP_LIBPQ_VERIFY_FULL, R_BROKEN,  "BBB NNN PPP BBB"},
	{PCP_LIBPQ_VERIFY_FULL, R_LOADED,  "+VH NNN PPP TTT"},
};
/* clang-format on */

static const char *expect_text(char code)
{
	switch (code) {
	case 'N':
		return E_NO_SSL;
	case 'P':
		return E_PROTO;
	case 'T':
		return E_TLS;
	case 'V':
		return E_VERIFY;
	case 'H':
		return E_NAME;
	case 'M':
		return E_MISSING;
	case 'D':
		return E_DEFAULT;
	case 'B':
		return E_BROKEN;
	default:
		return "?";
	}
}

static void test_decision_table(void **state)
{
	static const char *const roots[] = {"none", "missing", "broken", "loaded"};
	static const char *const chains[] = {"ok", "bad", "name"};
	size_t cells = 0;

	(void)state;
	assert_int_equal(sizeof table / sizeof table[0], 6 * N_ROOTS);
	for (size_t r = 0; r < sizeof table / sizeof table[0]; r++) {
		const struct row *row = &table[r];

		for (size_t s = 0; s < 4; s++) {
			for (int cv = 0; cv < N_CHAINS; cv++) {
				char want = row->cells[s * 4 + (size_t)cv];
				bool connects = want == '+' || want == '~';
				const char *want_error = connects ? "" : expect_text(want);
				struct pcp_verdict v;
				struct pcp_client_case c;
				struct pcp_client_verdict out;

				make_verdict((enum chainv)cv, &v);
				c = make_case(row->mode, row->root, reach[s], &v);
				pcp_client_decide(&c, &out);
				if (out.connects != connects || out.encrypted != (want == '+') ||
				    strcmp(out.error, want_error) != 0)
					fail_msg("%s root=%s status=%s chain=%s: want %c \"%s\", "
					         "got "
					         "connects=%d encrypted=%d error \"%s\"",
					         pcp_libpq_sslmode_name(row->mode),
					         roots[row->root], pcp_status_name(reach[s]),
					         chains[cv], want, want_error, out.connects,
					         out.encrypted, out.error);
				cells++;
			}
		}
	}
	assert_int_equal(cells, 6 * N_ROOTS * 4 * N_CHAINS);
}

/* c in prefer connects in plaintext, in require (left so) fails. */
static void prefer_falls_back(struct pcp_client_case *c)
{
	struct pcp_client_verdict out;

	c->mode = PCP_LIBPQ_PREFER;
	pcp_client_decide(c, &out);
	assert_true(out.connects);
	assert_false(out.encrypted);
	c->mode = PCP_LIBPQ_REQUIRE;
	pcp_client_decide(c, &out);
	assert_false(out.connects);
}

/* pgJDBC's DefaultJavaSSLFactory, pgJDBC and pgx on what their TLS stack refuses, and root
 * files that are directories: the other drivers' decisions. */
static void test_other_drivers(void **state)
{
	struct pcp_target t = {.sslrootcert = (char *)"/etc/ssl/certs"};
	struct pcp_verdict bad = {.ok = false, .code = 20, .depth = 1};
	struct pcp_verdict refused = {.ok = false, .code = PCP_VERDICT_UNSUPPORTED_KEY};
	struct pcp_client_case c = {.mode = PCP_LIBPQ_PREFER,
	                            .status = PCP_STATUS_OK,
	                            .driver = &pcp_driver_pgjdbc,
	                            .factory = PCP_JDBC_DEFAULT_JAVA,
	                            .rootcert_error = "no cacerts here"};
	struct pcp_client_verdict out;

	(void)state;
	snprintf(bad.reason, sizeof bad.reason, "unknown issuer");
	snprintf(refused.error, sizeof refused.error, "x509: unsupported elliptic curve");
	/* No JVM truststore known: undecided, saying why. */
	pcp_client_decide(&c, &out);
	assert_true(out.undecided);
	assert_string_equal(out.error, "no cacerts here");
	/* With one: a chain it refuses fails even in prefer (no plaintext retry). */
	c.rootcert_exists = true;
	c.rootcert_error = NULL;
	c.chain = &bad;
	pcp_client_decide(&c, &out);
	assert_false(out.undecided);
	assert_false(out.connects);
	/* 'E' in prefer: a new plaintext connection. */
	c.status = PCP_STATUS_PROTOCOL_ERROR;
	c.status_error = "server sent an error response during SSL exchange";
	prefer_falls_back(&c);
	/* LibPQFactory in require verifies nothing, but the JVM's constraints still apply. */
	c = (struct pcp_client_case){.mode = PCP_LIBPQ_REQUIRE,
	                             .status = PCP_STATUS_OK,
	                             .driver = &pcp_driver_pgjdbc,
	                             .tls_refusal = &refused};
	pcp_client_decide(&c, &out);
	assert_false(out.connects);
	assert_non_null(strstr(out.error, "unsupported elliptic curve"));
	/* pgx: a served certificate Go cannot parse sends prefer to plaintext. */
	c.driver = &pcp_driver_pgx;
	c.target = &(struct pcp_target){.client_driver = &pcp_driver_pgx};
	prefer_falls_back(&c);
	pcp_client_decide(&c, &out);
	assert_string_equal(out.error, "x509: unsupported elliptic curve");
	/* A directory as sslrootcert: pgx and node-postgres cannot read it, whatever the mode. */
	c = (struct pcp_client_case){.mode = PCP_LIBPQ_REQUIRE,
	                             .status = PCP_STATUS_OK,
	                             .driver = &pcp_driver_pgx,
	                             .rootcert_error = "no certificate or crl found",
	                             .rootcert_is_dir = true,
	                             .target = &t};
	t.client_driver = &pcp_driver_pgx;
	pcp_client_decide(&c, &out);
	assert_string_equal(out.error,
	                    "unable to read CA file: read /etc/ssl/certs: is a directory");
	c.driver = t.client_driver = &pcp_driver_node;
	t.client_tls = PCP_NODE_NO_VERIFY;
	pcp_client_decide(&c, &out);
	assert_false(out.connects);
	assert_string_equal(out.error, "EISDIR: illegal operation on a directory, read");
}

/* Unreachable or undecided: every mode, every root file state fails with the probe's own
 * text, never encrypted. */
static void test_unreachable_fails_everywhere(void **state)
{
	static const enum pcp_status statuses[] = {PCP_STATUS_REFUSED, PCP_STATUS_TIMEOUT,
	                                           PCP_STATUS_DNS_FAILED, PCP_STATUS_CANCELLED,
	                                           PCP_STATUS_INVALID_TARGET};

	(void)state;
	for (int m = PCP_LIBPQ_DISABLE; m <= PCP_LIBPQ_VERIFY_FULL; m++)
		for (int root = 0; root < N_ROOTS; root++)
			for (size_t s = 0; s < sizeof statuses / sizeof statuses[0]; s++)
				for (int cv = 0; cv < N_CHAINS; cv++) {
					struct pcp_verdict v;
					struct pcp_client_case c;
					struct pcp_client_verdict out;

					make_verdict((enum chainv)cv, &v);
					c = make_case((enum pcp_libpq_sslmode)m, (enum root)root,
					              statuses[s], &v);
					pcp_client_decide(&c, &out);
					assert_false(out.connects);
					assert_false(out.encrypted);
					assert_string_equal(out.error, status_error(statuses[s]));
				}
}

/* A status without a text still yields a non-empty reason; a verifying client whose chain
 * was never verified is not reported as connecting. */
static void test_defensive_cases(void **state)
{
	struct pcp_client_case c = {.mode = PCP_LIBPQ_REQUIRE, .status = PCP_STATUS_TIMEOUT};
	struct pcp_client_verdict out;

	(void)state;
	pcp_client_decide(&c, &out);
	assert_false(out.connects);
	assert_string_equal(out.error, "timeout");

	c = (struct pcp_client_case){.mode = PCP_LIBPQ_VERIFY_CA,
	                             .rootcert = "/x/root.pem",
	                             .rootcert_exists = true,
	                             .status = PCP_STATUS_OK};
	pcp_client_decide(&c, &out);
	assert_false(out.connects);
	assert_string_equal(out.error, "the chain was not verified under the root file");
	c.mode = PCP_LIBPQ_PREFER; /* ... which prefer survives in plaintext */
	pcp_client_decide(&c, &out);
	assert_true(out.connects);
	assert_false(out.encrypted);
	assert_string_equal(out.error, "");

	/* verify-full with no host: the verdict's own libpq text. */
	struct pcp_verdict v = {.code = PCP_VERDICT_NO_HOST, .depth = 0};

	snprintf(v.error, sizeof v.error,
	         "host name must be specified for a verified SSL connection");
	c = (struct pcp_client_case){.mode = PCP_LIBPQ_VERIFY_FULL,
	                             .rootcert = "/x/root.pem",
	                             .rootcert_exists = true,
	                             .status = PCP_STATUS_OK,
	                             .chain = &v};
	pcp_client_decide(&c, &out);
	assert_false(out.connects);
	assert_string_equal(out.error, "host name must be specified for a verified SSL connection");
}

/* libpq 16-18: system roots, the 16+ hint, direct negotiation (no fallback, EOF from
 * servers before 17, ALPN checked after the chain and before the name), undecided clients. */
static void test_newer_libpq(void **state)
{
	struct pcp_verdict ok = {.ok = true}, bad = {.code = 10, .depth = 2},
	                   name = {.code = PCP_VERDICT_NAME_MISMATCH, .depth = 0};
	struct pcp_client_case base = {.mode = PCP_LIBPQ_REQUIRE,
	                               .status = PCP_STATUS_OK,
	                               .libpq_version = 17,
	                               .direct = true,
	                               .probed = PCP_NEGOTIATION_DIRECT,
	                               .direct_tls = PCP_DIRECT_ACCEPTED,
	                               .alpn = "postgresql"};
	struct pcp_client_case c = base;
	struct pcp_client_verdict out;

	(void)state;
	snprintf(name.error, sizeof name.error, "server certificate for \"a\" does not match");
	pcp_client_decide(&c, &out);
	assert_true(out.connects && out.encrypted);

	/* Direct, but the server chose no ALPN, or another one. */
	c.alpn = "";
	pcp_client_decide(&c, &out);
	assert_string_equal(out.error, "direct SSL connection was established without ALPN "
	                               "protocol negotiation extension");
	c.alpn = "h2";
	pcp_client_decide(&c, &out);
	assert_string_equal(out.error, "SSL connection was established with unexpected ALPN "
	                               "protocol");
	/* The chain fails first; the name after the ALPN check. */
	c.mode = PCP_LIBPQ_VERIFY_FULL;
	c.rootcert = "/x/root.pem";
	c.rootcert_exists = true;
	c.chain = &bad;
	pcp_client_decide(&c, &out);
	assert_string_equal(out.error, "SSL error: certificate verify failed");
	c.chain = &name;
	pcp_client_decide(&c, &out);
	assert_string_equal(out.error, "SSL connection was established with unexpected ALPN "
	                               "protocol");
	c.alpn = "postgresql";
	pcp_client_decide(&c, &out);
	assert_string_equal(out.error, name.error);

	/* A refused direct probe: EOF in the 1.1 builds' words; no fallback. */
	c = base;
	c.status = PCP_STATUS_TLS_FAILED;
	c.tls_eof = true;
	c.tls_error_libpq = "SSL error: unexpected eof while reading";
	pcp_client_decide(&c, &out);
	assert_false(out.connects);
	assert_string_equal(out.error, "SSL SYSCALL error: EOF detected");
	c.tls_eof = false;
	c.tls_error_libpq = "SSL error: wrong version number";
	pcp_client_decide(&c, &out);
	assert_string_equal(out.error, "SSL error: wrong version number");
	/* ... and for a client that sends SSLRequest: nothing to say. */
	c.direct = false;
	c.mode = PCP_LIBPQ_PREFER;
	pcp_client_decide(&c, &out);
	assert_true(out.undecided);
	assert_false(out.connects);
	c.mode = PCP_LIBPQ_DISABLE; /* ... unless it never asks for TLS */
	pcp_client_decide(&c, &out);
	assert_false(out.undecided);
	assert_true(out.connects);

	/* Direct client, SSLRequest probe: the ALPN (or N) tells. */
	c = base;
	c.probed = PCP_NEGOTIATION_POSTGRES;
	c.direct_tls = PCP_DIRECT_REFUSED;
	c.alpn = "";
	pcp_client_decide(&c, &out);
	assert_string_equal(out.error, "SSL SYSCALL error: EOF detected");
	c.status = PCP_STATUS_NO_SSL;
	pcp_client_decide(&c, &out);
	assert_string_equal(out.error, "SSL SYSCALL error: EOF detected");
	/* ... but a missing root file comes first: libpq loads it before its ClientHello. */
	c.mode = PCP_LIBPQ_VERIFY_CA;
	c.rootcert = "/no/such/root.pem";
	pcp_client_decide(&c, &out);
	assert_string_equal(out.error,
	                    "root certificate file \"/no/such/root.pem\" does not exist\n"
	                    "Either provide the file, use the system's trusted roots "
	                    "with sslrootcert=system, or change sslmode to disable server "
	                    "certificate verification.");

	/* System roots (16+): loaded whatever the files; verify-full. */
	c = (struct pcp_client_case){.mode = PCP_LIBPQ_VERIFY_FULL,
	                             .rootcert = "system",
	                             .system_roots = true,
	                             .status = PCP_STATUS_OK,
	                             .libpq_version = 16,
	                             .chain = &ok};
	pcp_client_decide(&c, &out);
	assert_true(out.connects && out.encrypted);
	c.chain = &bad;
	pcp_client_decide(&c, &out);
	assert_string_equal(out.error, "SSL error: certificate verify failed");
}

static void test_verifies(void **state)
{
	(void)state;
	assert_false(pcp_client_verifies(PCP_LIBPQ_DISABLE, false));
	assert_false(pcp_client_verifies(PCP_LIBPQ_DISABLE, true));
	assert_false(pcp_client_verifies(PCP_LIBPQ_ALLOW, false));
	assert_true(pcp_client_verifies(PCP_LIBPQ_ALLOW, true));
	assert_false(pcp_client_verifies(PCP_LIBPQ_PREFER, false));
	assert_true(pcp_client_verifies(PCP_LIBPQ_PREFER, true));
	assert_false(pcp_client_verifies(PCP_LIBPQ_REQUIRE, false));
	assert_true(pcp_client_verifies(PCP_LIBPQ_REQUIRE, true));
	assert_true(pcp_client_verifies(PCP_LIBPQ_VERIFY_CA, false));
	assert_true(pcp_client_verifies(PCP_LIBPQ_VERIFY_CA, true));
	assert_true(pcp_client_verifies(PCP_LIBPQ_VERIFY_FULL, false));
	assert_true(pcp_client_verifies(PCP_LIBPQ_VERIFY_FULL, true));
}

/* ---- which root file ------------------------------------------------------------------- */

struct homes {
	char base[64];
	char home[128];  /* $HOME: gets a root.crt in some tests */
	char other[128]; /* --client-home */
	char saved_home[4096];
	bool had_home;
};

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void make_root_crt(const char *home)
{
	char path[256];

	snprintf(path, sizeof path, "%s/.postgresql", home);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/.postgresql/root.crt", home);
	assert_int_equal(pcp_testpki_write_file(path, "x", 1), 0);
}

static int homes_setup(void **state)
{
	struct homes *h = calloc(1, sizeof *h);
	const char *home = getenv("HOME");

	if (!h)
		return -1;
	snprintf(h->base, sizeof h->base, "/tmp/pcp-client-XXXXXX");
	if (!mkdtemp(h->base))
		return -1;
	snprintf(h->home, sizeof h->home, "%s/home", h->base);
	snprintf(h->other, sizeof h->other, "%s/other", h->base);
	if (mkdir(h->home, 0700) < 0 || mkdir(h->other, 0700) < 0)
		return -1;
	if ((h->had_home = home != NULL))
		snprintf(h->saved_home, sizeof h->saved_home, "%s", home);
	setenv("HOME", h->home, 1);
	*state = h;
	return 0;
}

static int homes_teardown(void **state)
{
	struct homes *h = *state;

	if (h->had_home)
		setenv("HOME", h->saved_home, 1);
	else
		unsetenv("HOME");
	nftw(h->base, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	free(h);
	return 0;
}

static char *path_for(const char *sslrootcert, const char *client_home)
{
	struct pcp_target t = {.is_conninfo = true, .sslrootcert = (char *)sslrootcert};

	return pcp_client_rootcert_path(&t, client_home);
}

static void assert_path(char *got, const char *dir)
{
	char want[256];

	snprintf(want, sizeof want, "%s/.postgresql/root.crt", dir);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_default_file_absent(void **state)
{
	struct homes *h = *state;
	char *def = pcp_client_default_rootcert(NULL);

	/* Named all the same, for libpq's "does not exist" message. */
	assert_path(def, h->home);
	assert_path(pcp_client_default_rootcert(h->other), h->other);
	assert_null(path_for(NULL, NULL));
	assert_null(path_for("", NULL)); /* an empty sslrootcert counts as absent */
}

static void test_default_file_in_home(void **state)
{
	struct homes *h = *state;

	make_root_crt(h->home);
	assert_path(path_for(NULL, NULL), h->home);
	assert_path(path_for("", NULL), h->home);
	/* --client-home replaces HOME: its directory has no root.crt. */
	assert_null(path_for(NULL, h->other));
	make_root_crt(h->other);
	assert_path(path_for(NULL, h->other), h->other);
}

static void test_client_home_overrides(void **state)
{
	struct homes *h = *state;

	make_root_crt(h->other);
	assert_null(path_for(NULL, NULL)); /* HOME has none */
	assert_path(path_for(NULL, h->other), h->other);
	assert_null(path_for(NULL, "")); /* empty: as not given */
}

/* A directory named root.crt passes libpq's stat() test: it is "the file" (which then
 * fails to load), not "no file". */
static void test_default_directory_counts(void **state)
{
	struct homes *h = *state;
	char path[256];

	snprintf(path, sizeof path, "%s/.postgresql", h->home);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/.postgresql/root.crt", h->home);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_path(path_for(NULL, NULL), h->home);
}

/* Without HOME, libpq 15 reads the passwd entry of the effective user. */
static void test_home_from_passwd(void **state)
{
	struct homes *h = *state;
	struct passwd *pw = getpwuid(geteuid());
	char want[4096];
	struct stat st;
	char *got;

	(void)h;
	if (!pw || !pw->pw_dir)
		skip();
	snprintf(want, sizeof want, "%s/.postgresql/root.crt", pw->pw_dir);
	for (int unset = 0; unset < 2; unset++) {
		if (unset)
			unsetenv("HOME");
		else
			setenv("HOME", "", 1); /* empty is as unset */
		got = path_for(NULL, NULL);
		if (stat(want, &st) == 0) {
			assert_non_null(got);
			assert_string_equal(got, want);
		} else {
			assert_null(got);
		}
		free(got);
	}
}

/* sslrootcert is taken as written: relative to the cwd (as libpq opens it), existing or
 * not, and "system" is just a file name in libpq 15. */
static void test_sslrootcert_as_written(void **state)
{
	struct homes *h = *state;
	char *got;

	make_root_crt(h->home);
	got = path_for("certs/azure.pem", NULL);
	assert_string_equal(got, "certs/azure.pem");
	free(got);
	got = path_for("system", h->other);
	assert_string_equal(got, "system");
	free(got);
	got = path_for("/no/such/file.pem", NULL);
	assert_string_equal(got, "/no/such/file.pem");
	free(got);
	got = path_for("~/.postgresql/root.crt", NULL); /* no tilde expansion in libpq */
	assert_string_equal(got, "~/.postgresql/root.crt");
	free(got);
}

/* ---- the roots in a root file ---------------------------------------------------------- */

#define BALTIMORE_SUBJECT "CN=Baltimore CyberTrust Root,OU=CyberTrust,O=Baltimore,C=IE"
#define BALTIMORE_SHA256  "16af57a9f676b0ab126095aa5ebadef22ab31119d644ac95cd4b93dbf3f26aeb"
#define G2_SUBJECT        "CN=DigiCert Global Root G2,OU=www.digicert.com,O=DigiCert Inc,C=US"
#define G2_SHA256         "cb3ccbb76031e5e0138f8dd39a23f9de47ffc35e43c1144cea27d46a5ab1cb5f"

static void free_roots(struct pcp_client_root *roots, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(roots[i].subject);
	free(roots);
}

static struct pcp_store *load(const char *rel)
{
	struct pcp_error err = {0};
	struct pcp_store *s = pcp_store_load(rel, pcp_test_source_path(rel), &err);

	if (!s)
		fail_msg("%s: %s", rel, err.msg);
	return s;
}

static void test_roots_combined(void **state)
{
	struct pcp_store *s = load("config/combined.pem");
	struct pcp_client_root *roots;
	size_t n;

	(void)state;
	assert_int_equal(pcp_client_roots(s, &roots, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(roots[0].subject, BALTIMORE_SUBJECT);
	assert_string_equal(roots[0].sha256, BALTIMORE_SHA256);
	assert_string_equal(roots[0].known, "Baltimore CyberTrust Root");
	assert_string_equal(roots[1].subject, G2_SUBJECT);
	assert_string_equal(roots[1].sha256, G2_SHA256);
	assert_string_equal(roots[1].known, "DigiCert Global Root G2");
	free_roots(roots, n);
	pcp_store_free(s);
}

static void test_roots_single_files(void **state)
{
	struct pcp_store *s;
	struct pcp_client_root *roots;
	size_t n;

	(void)state;
	s = load("config/baltimore-cybertrust-root.pem");
	assert_int_equal(pcp_client_roots(s, &roots, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(roots[0].known, "Baltimore CyberTrust Root");
	free_roots(roots, n);
	pcp_store_free(s);

	s = load("config/digicert-global-root-g2.pem");
	assert_int_equal(pcp_client_roots(s, &roots, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(roots[0].subject, G2_SUBJECT);
	assert_string_equal(roots[0].known, "DigiCert Global Root G2");
	free_roots(roots, n);
	pcp_store_free(s);
}

/* A file with an unknown root (same subject as Baltimore, but another key: marked by
 * fingerprint, not name), the real G2 and a CRL: the CRL is not listed, the look-alike is
 * not "known". */
static void test_roots_unknown_and_crl(void **state)
{
	struct homes *h = *state;
	struct pcp_testpki_spec spec = {
	        .cn = "Baltimore CyberTrust Root",
	        .not_before = pcp_testpki_time(2020, 1, 1, 0, 0, 0),
	        .not_after = pcp_testpki_time(2040, 1, 1, 0, 0, 0),
	        .bc = PCP_TESTPKI_BC_CA,
	};
	EVP_PKEY *key = pcp_testpki_key(PCP_TESTPKI_EC_P256, 0);
	X509 *fake;
	X509_CRL *crl;
	struct pcp_store *g2 = load("config/digicert-global-root-g2.pem"), *s;
	struct pcp_client_root *roots;
	struct pcp_error err = {0};
	char path[256], fp[PCP_SHA256_HEX];
	size_t n;
	X509 *certs[2];

	assert_non_null(key);
	assert_non_null(fake = pcp_testpki_cert(&spec, key, NULL, NULL));
	assert_non_null(crl = pcp_testpki_crl(fake, key, pcp_testpki_time(2024, 1, 1, 0, 0, 0),
	                                      pcp_testpki_time(2039, 1, 1, 0, 0, 0), NULL, 0));
	certs[0] = fake;
	certs[1] =
	        X509_OBJECT_get0_X509(sk_X509_OBJECT_value(X509_STORE_get0_objects(g2->store), 0));
	snprintf(path, sizeof path, "%s/mixed.pem", h->other);
	assert_int_equal(pcp_testpki_write_certs(path, certs, 2), 0);
	assert_int_equal(pcp_testpki_append_crl(path, crl), 0);
	assert_non_null(s = pcp_store_load("mixed", path, &err));

	assert_int_equal(pcp_client_roots(s, &roots, &n), 0);
	assert_int_equal(n, 2);
	pcp_cert_sha256_hex(fake, fp);
	assert_string_equal(roots[0].subject, "CN=Baltimore CyberTrust Root");
	assert_string_equal(roots[0].sha256, fp);
	assert_null(roots[0].known);
	assert_string_equal(roots[1].known, "DigiCert Global Root G2");

	free_roots(roots, n);
	pcp_store_free(s);
	pcp_store_free(g2);
	X509_CRL_free(crl);
	X509_free(fake);
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_decision_table),
	        cmocka_unit_test(test_other_drivers),
	        cmocka_unit_test(test_unreachable_fails_everywhere),
	        cmocka_unit_test(test_defensive_cases),
	        cmocka_unit_test(test_newer_libpq),
	        cmocka_unit_test(test_verifies),
	        cmocka_unit_test_setup_teardown(test_default_file_absent, homes_setup,
	                                        homes_teardown),
	        cmocka_unit_test_setup_teardown(test_default_file_in_home, homes_setup,
	                                        homes_teardown),
	        cmocka_unit_test_setup_teardown(test_client_home_overrides, homes_setup,
	                                        homes_teardown),
	        cmocka_unit_test_setup_teardown(test_default_directory_counts, homes_setup,
	                                        homes_teardown),
	        cmocka_unit_test_setup_teardown(test_home_from_passwd, homes_setup, homes_teardown),
	        cmocka_unit_test_setup_teardown(test_sslrootcert_as_written, homes_setup,
	                                        homes_teardown),
	        cmocka_unit_test(test_roots_combined),
	        cmocka_unit_test(test_roots_single_files),
	        cmocka_unit_test_setup_teardown(test_roots_unknown_and_crl, homes_setup,
	                                        homes_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
