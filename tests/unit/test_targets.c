/* Unit tests of target parsing (host, host:port, [v6]:port, bare v6, conninfo, URIs) and of
 * the target-file reader (comments, CRLF, NUL and control bytes, over-long lines, stdin).
 * Where libpq itself accepts or rejects a string, the expected outcome is libpq's (checked
 * against psql on this machine); error texts are compared with libpq's own words. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "targets.h"

/* ---- parsing helpers ---- */

/* What a test allocated lives in statics, not on its stack, so that a failing assertion
 * (which leaves the test through longjmp) still lets the teardown free it. */
static struct pcp_target cur_t;
static struct pcp_target_reader cur_r;
static void *scratch[4];

static void *scratch_alloc(size_t n)
{
	for (size_t i = 0; i < sizeof scratch / sizeof scratch[0]; i++)
		if (!scratch[i]) {
			scratch[i] = malloc(n);
			assert_non_null(scratch[i]);
			return scratch[i];
		}
	fail_msg("scratch slots exhausted");
	return NULL;
}

static int teardown(void **state)
{
	(void)state;
	pcp_target_cleanup(&cur_t);
	if (cur_r.fp || cur_r.buf)
		pcp_target_reader_close(&cur_r);
	for (size_t i = 0; i < sizeof scratch / sizeof scratch[0]; i++) {
		free(scratch[i]);
		scratch[i] = NULL;
	}
	return 0;
}

/* Parses text, asserts success and the parsed fields. host/hostaddr NULL means "absent". */
static void ok_full(const char *text, const char *host, const char *hostaddr, uint16_t port,
                    bool has_sslmode, enum pcp_sslmode mode)
{
	struct pcp_target *const t = &cur_t;
	struct pcp_error err = {0};
	enum pcp_errc rc;

	pcp_target_cleanup(t);
	rc = pcp_target_parse(text, t, &err);

	if (rc != PCP_OK)
		fail_msg("\"%s\" rejected (%d): %s", text, (int)rc, err.msg);
	assert_non_null(t->text);
	assert_string_equal(t->text, text);
	if (host) {
		if (!t->host)
			fail_msg("\"%s\": host missing, want \"%s\"", text, host);
		assert_string_equal(t->host, host);
	} else if (t->host) {
		fail_msg("\"%s\": host \"%s\", want none", text, t->host);
	}
	if (hostaddr) {
		if (!t->hostaddr)
			fail_msg("\"%s\": hostaddr missing, want \"%s\"", text, hostaddr);
		assert_string_equal(t->hostaddr, hostaddr);
	} else if (t->hostaddr) {
		fail_msg("\"%s\": hostaddr \"%s\", want none", text, t->hostaddr);
	}
	if (t->port != port)
		fail_msg("\"%s\": port %u, want %u", text, (unsigned)t->port, (unsigned)port);
	if (t->has_sslmode != has_sslmode)
		fail_msg("\"%s\": has_sslmode %d, want %d", text, t->has_sslmode, has_sslmode);
	if (t->sslmode != mode)
		fail_msg("\"%s\": sslmode %d, want %d", text, (int)t->sslmode, (int)mode);
	pcp_target_cleanup(t);
}

static void ok(const char *text, const char *host, const char *hostaddr, uint16_t port)
{
	ok_full(text, host, hostaddr, port, false, PCP_SSLMODE_VERIFY_FULL);
}

/* Parses text, asserts PCP_ERR_TARGET with a message containing want (and, when exact,
 * equal to it), and that the text is kept for the invalid_target record. */
static void bad_msg(const char *text, const char *want, bool exact)
{
	struct pcp_target *const t = &cur_t;
	struct pcp_error err = {0};
	enum pcp_errc rc;

	pcp_target_cleanup(t);
	rc = pcp_target_parse(text, t, &err);

	if (rc != PCP_ERR_TARGET)
		fail_msg("\"%s\": rc %d, want PCP_ERR_TARGET (msg \"%s\")", text, (int)rc, err.msg);
	assert_int_equal(err.code, PCP_ERR_TARGET);
	assert_non_null(t->text);
	assert_string_equal(t->text, text);
	assert_null(strchr(err.msg, '\n'));
	if (exact ? strcmp(err.msg, want) != 0 : strstr(err.msg, want) == NULL)
		fail_msg("\"%s\": message \"%s\", want %s\"%s\"", text, err.msg,
		         exact ? "" : "one containing ", want);
	pcp_target_cleanup(t);
}

static void bad(const char *text, const char *want)
{
	bad_msg(text, want, false);
}

static void bad_exact(const char *text, const char *want)
{
	bad_msg(text, want, true);
}

/* ---- host, host:port, [v6]:port, bare v6 ---- */

static void test_host_forms(void **state)
{
	(void)state;
	ok("db1.example.com", "db1.example.com", NULL, 5432);
	ok("localhost", "localhost", NULL, 5432);
	ok("db2.example.com:6432", "db2.example.com", NULL, 6432);
	ok("10.1.2.3", "10.1.2.3", NULL, 5432);
	ok("10.1.2.3:5433", "10.1.2.3", NULL, 5433);
	ok("db:1", "db", NULL, 1);
	ok("db:65535", "db", NULL, 65535);
	ok("[::1]:5433", "::1", NULL, 5433);
	ok("[::1]", "::1", NULL, 5432);
	ok("[2001:db8::10]:6432", "2001:db8::10", NULL, 6432);
	ok("::1", "::1", NULL, 5432);
	ok("2001:db8::10", "2001:db8::10", NULL, 5432);
	ok("::ffff:10.1.2.3", "::ffff:10.1.2.3", NULL, 5432);
}

static void test_host_forms_defaults(void **state)
{
	struct pcp_target *const t = &cur_t;
	struct pcp_error err = {0};

	(void)state;
	assert_int_equal(pcp_target_parse("db.example.com", t, &err), PCP_OK);
	assert_false(t->has_sslmode);
	assert_int_equal(t->sslmode, PCP_SSLMODE_VERIFY_FULL);
	assert_null(t->hostaddr);
	pcp_target_cleanup(t);
	/* cleanup leaves a zeroed record; a second cleanup is harmless */
	assert_null(t->text);
	pcp_target_cleanup(t);
	pcp_target_cleanup(NULL);
}

static void test_port_errors(void **state)
{
	(void)state;
	bad_exact("db:0", "invalid port number: \"0\"");
	bad_exact("db:65536", "invalid port number: \"65536\"");
	bad_exact("db:99999999999999999999", "invalid port number: \"99999999999999999999\"");
	bad_exact("db:-1", "invalid port number: \"-1\"");
	bad_exact("db:abc", "invalid port number: \"abc\"");
	bad_exact("db:5432x", "invalid port number: \"5432x\"");
	bad_exact("db:", "invalid port number: \"\"");
	bad("[::1]:0", "invalid port number: \"0\"");
	bad("[::1]:70000", "invalid port number: \"70000\"");
	bad("[::1]:", "invalid port number");
	bad("[::1]:x", "invalid port number: \"x\"");
}

static void test_host_errors(void **state)
{
	(void)state;
	bad_exact("", "empty target");
	bad(":5432", "no host name");
	bad("[]:5432", "[");
	bad("[::1", "[::1");
	bad("[::1]x", "[::1]x");
	bad("[::1]5432", "[::1]5432");
	bad("[db.example.com]:5432", "db.example.com");
	bad("db example.com", "db example.com");
	bad("user@db.example.com", "user@db.example.com");
	bad("db/x", "db/x");
	bad("db\\x:5432", "db\\x");
}

/* ---- conninfo ---- */

static void test_conninfo(void **state)
{
	(void)state;
	ok("host=db3.internal hostaddr=10.1.2.3 port=5433", "db3.internal", "10.1.2.3", 5433);
	ok("host=db3.internal", "db3.internal", NULL, 5432);
	ok("hostaddr=10.1.2.3", NULL, "10.1.2.3", 5432);
	ok("hostaddr=::1 port=6432", NULL, "::1", 6432);
	ok("host=db.example.com hostaddr=2001:db8::1", "db.example.com", "2001:db8::1", 5432);
	ok("host = 'db.example.com'  port = '5433'", "db.example.com", NULL, 5433);
	ok("host=::1 port=5433", "::1", NULL, 5433);
	/* other libpq keywords are valid and ignored */
	ok("host=db user=alice dbname=app connect_timeout=3 application_name=probe "
	   "sslrootcert=/nonexistent/root.crt",
	   "db", NULL, 5432);
	/* an empty value is libpq's "not given" */
	ok("host=db port=''", "db", NULL, 5432);
	ok("host=db hostaddr=''", "db", NULL, 5432);
}

static void test_conninfo_sslmode(void **state)
{
	(void)state;
	ok_full("host=db sslmode=verify-ca", "db", NULL, 5432, true, PCP_SSLMODE_VERIFY_CA);
	ok_full("host=db sslmode=verify-full", "db", NULL, 5432, true, PCP_SSLMODE_VERIFY_FULL);
	ok_full("hostaddr=10.0.0.1 sslmode=verify-ca port=6432", NULL, "10.0.0.1", 6432, true,
	        PCP_SSLMODE_VERIFY_CA);
	/* valid libpq modes that do not verify: accepted, and they do not override --sslmode */
	ok_full("host=db sslmode=disable", "db", NULL, 5432, false, PCP_SSLMODE_VERIFY_FULL);
	ok_full("host=db sslmode=allow", "db", NULL, 5432, false, PCP_SSLMODE_VERIFY_FULL);
	ok_full("host=db sslmode=prefer", "db", NULL, 5432, false, PCP_SSLMODE_VERIFY_FULL);
	ok_full("host=db sslmode=require", "db", NULL, 5432, false, PCP_SSLMODE_VERIFY_FULL);
	/* libpq's own message */
	bad_exact("host=db sslmode=verify-all", "invalid sslmode value: \"verify-all\"");
	bad_exact("host=db sslmode=VERIFY-CA", "invalid sslmode value: \"VERIFY-CA\"");
}

static void test_conninfo_errors(void **state)
{
	(void)state;
	/* libpq's words, first line only */
	bad_exact("host=db foo=bar", "invalid connection option \"foo\"");
	bad_exact("=foo", "invalid connection option \"\"");
	bad_exact("host='unterminated", "unterminated quoted string in connection info string");
	bad("host=db port", "missing \"=\" after \"port\"");
	/* port */
	bad_exact("host=db port=0", "invalid port number: \"0\"");
	bad_exact("host=db port=65536", "invalid port number: \"65536\"");
	bad("host=db port=abc", "\"abc\"");
	bad("host=db port=-5", "\"-5\"");
	/* hostaddr must be numeric */
	/* libpq appends gai_strerror's text */
	bad("host=db hostaddr=db.example.com",
	    "could not parse network address \"db.example.com\": ");
	bad("hostaddr=nothex", "could not parse network address \"nothex\"");
	bad("hostaddr=10.1.2.3.4", "\"10.1.2.3.4\"");
	/* neither host nor hostaddr */
	bad("dbname=app", "no host or hostaddr given");
	bad("host='' port=5432", "no host or hostaddr given");
}

static void test_conninfo_unix_socket(void **state)
{
	(void)state;
	bad("host=/var/run/postgresql", "Unix-domain socket");
	bad("host=/tmp port=5433", "/tmp");
	bad("postgresql://%2Fvar%2Frun%2Fpostgresql/app", "Unix-domain socket");
	bad("postgresql:///app?host=/tmp", "Unix-domain socket");
}

/* libpq (14+) treats a host starting with '@' as an abstract Unix-domain socket:
 * psql "host=@abstract port=1" tries socket "@abstract/.s.PGSQL.1". No TLS there. */
static void test_conninfo_abstract_socket(void **state)
{
	(void)state;
	bad("host=@abstract", "Unix-domain socket");
}

static void test_multi_host_rejected(void **state)
{
	(void)state;
	bad("host=a,b", "lists of hosts are not supported");
	bad("host=a port=5432,5433", "lists of hosts are not supported");
	bad("hostaddr=10.0.0.1,10.0.0.2", "lists of hosts are not supported");
	bad("host=a,b hostaddr=10.0.0.1,10.0.0.2", "give each host as its own target");
	bad("postgresql://a:5432,b:5433/app", "lists of hosts are not supported");
	bad("postgresql://a,b/app", "lists of hosts are not supported");
	bad("postgresql:///app?host=a,b", "lists of hosts are not supported");
}

/* libpq resolves hostaddr with getaddrinfo(AI_NUMERICHOST), which accepts what inet_aton
 * accepts ("127.1") and IPv6 scope ids; psql "hostaddr=127.1 port=1" and
 * "hostaddr=fe80::1%lo port=1" both try to connect. */
static void test_hostaddr_inet_aton_form(void **state)
{
	(void)state;
	ok("hostaddr=127.1 port=1", NULL, "127.1", 1);
}

static void test_hostaddr_scope_id(void **state)
{
	(void)state;
	ok("host=db hostaddr=fe80::1%lo", "db", "fe80::1%lo", 5432);
}

/* libpq's port parser skips white space around the number: psql "host=127.0.0.1 port='1 '"
 * tries port 1. */
static void test_port_libpq_whitespace(void **state)
{
	(void)state;
	ok("host=db port='5433 '", "db", NULL, 5433);
	ok("host=db port=' 5433'", "db", NULL, 5433);
}

/* ---- URIs ---- */

static void test_uri(void **state)
{
	(void)state;
	ok("postgresql://db.example.com", "db.example.com", NULL, 5432);
	ok("postgresql://db.example.com/", "db.example.com", NULL, 5432);
	ok("postgres://db.example.com:6432/app", "db.example.com", NULL, 6432);
	ok("postgresql://alice:secret@db.example.com:5433/app", "db.example.com", NULL, 5433);
	ok("postgresql://[::1]:5433/app", "::1", NULL, 5433);
	ok("postgresql://[2001:db8::1]/app", "2001:db8::1", NULL, 5432);
	ok("postgresql://10.1.2.3:6543", "10.1.2.3", NULL, 6543);
	/* percent-encoding is decoded */
	ok("postgresql://my%2Dhost.example.com/app", "my-host.example.com", NULL, 5432);
	ok("postgresql://db.example.com:%35%34%33%33/app", "db.example.com", NULL, 5433);
	/* query parameters */
	ok_full("postgresql://db.example.com/app?sslmode=verify-ca&hostaddr=10.1.2.3",
	        "db.example.com", "10.1.2.3", 5432, true, PCP_SSLMODE_VERIFY_CA);
	ok_full("postgresql://[2001:db8::1]:5433/app?sslmode=verify-full&hostaddr=%3A%3A1",
	        "2001:db8::1", "::1", 5433, true, PCP_SSLMODE_VERIFY_FULL);
	ok("postgresql:///app?host=db.example.com&port=6543", "db.example.com", NULL, 6543);
	ok_full("postgresql://db/app?sslmode=require&connect_timeout=5", "db", NULL, 5432, false,
	        PCP_SSLMODE_VERIFY_FULL);
}

static void test_uri_errors(void **state)
{
	(void)state;
	bad_exact("postgresql://db/app?foo=bar", "invalid URI query parameter: \"foo\"");
	bad_exact("postgresql://db/app?sslmode=verify-all",
	          "invalid sslmode value: \"verify-all\"");
	bad_exact("postgresql://db:99999/app", "invalid port number: \"99999\"");
	bad_exact("postgresql://db:0/app", "invalid port number: \"0\"");
	bad("postgresql://db:abc/app", "\"abc\"");
	bad("postgresql://db/app?hostaddr=db.example.com", "could not parse network address");
	bad("postgresql://", "no host or hostaddr given");
	bad("postgresql://[::1/app", "]");
	bad("postgresql://db%zz/app", "percent");
}

/* ---- the reader ---- */

static char tmpdir[256];

static int setup_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "%s/pcp-test-targets-XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int remove_tree(const char *dir)
{
	return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int teardown_tmpdir(void **state)
{
	(void)state;
	return remove_tree(tmpdir);
}

/* Writes len bytes to a new file in tmpdir; returns its path (static buffer). */
static const char *write_file(const char *name, const void *data, size_t len)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

#define WRITE_LIT(name, lit) write_file(name, lit, sizeof(lit) - 1)

/* Expects the next line to be good and equal to want. */
static void next_good(struct pcp_target_reader *r, const char *want, unsigned long lineno)
{
	const char *line = NULL, *bad = "unset";
	struct pcp_error err = {0};
	int got = pcp_target_reader_next(r, &line, &bad, &err);

	if (got != 1)
		fail_msg("want line \"%s\", got %d (%s)", want, got, err.msg);
	if (bad)
		fail_msg("want good line \"%s\", got bad \"%s\": %s", want, line, bad);
	assert_string_equal(line, want);
	if (lineno)
		assert_int_equal(r->lineno, lineno);
}

/* Expects the next line to be bad with a reason containing why. */
static void next_bad(struct pcp_target_reader *r, const char *why, unsigned long lineno)
{
	const char *line = NULL, *bad = NULL;
	struct pcp_error err = {0};
	int got = pcp_target_reader_next(r, &line, &bad, &err);

	if (got != 1)
		fail_msg("want a bad line (%s), got %d (%s)", why, got, err.msg);
	assert_non_null(line);
	if (!bad)
		fail_msg("want bad line (%s), got good line of %zu bytes \"%.60s\"", why,
		         strlen(line), line);
	if (!strstr(bad, why))
		fail_msg("bad reason \"%s\", want one containing \"%s\"", bad, why);
	assert_true(strlen(line) <= PCP_TARGET_LINE_MAX);
	if (lineno)
		assert_int_equal(r->lineno, lineno);
}

static void next_end(struct pcp_target_reader *r)
{
	const char *line = NULL, *bad = NULL;
	struct pcp_error err = {0};

	assert_int_equal(pcp_target_reader_next(r, &line, &bad, &err), 0);
	/* and it stays at the end */
	assert_int_equal(pcp_target_reader_next(r, &line, &bad, &err), 0);
}

static void open_ok(struct pcp_target_reader *r, const char *path)
{
	struct pcp_error err = {0};

	if (pcp_target_reader_open(r, path, &err) != PCP_OK)
		fail_msg("open %s: %s", path, err.msg);
}

static void test_reader_comments_blank_crlf_spaces(void **state)
{
	struct pcp_target_reader *const r = &cur_r;
	const char *path = WRITE_LIT("basic.txt", "# fleet\n"
	                                          "\n"
	                                          "db1.example.com\n"
	                                          "   \t  \n"
	                                          "  db2.example.com:6432  \n"
	                                          "\tdb3.example.com\t\n"
	                                          "   # indented comment\n"
	                                          "db4.example.com\r\n"
	                                          "\r\n"
	                                          "host=db5 port=5433 \r\n"
	                                          "[::1]:5433\n"
	                                          "last.example.com");

	(void)state;
	open_ok(r, path);
	next_good(r, "db1.example.com", 3);
	next_good(r, "db2.example.com:6432", 5);
	next_good(r, "db3.example.com", 6);
	next_good(r, "db4.example.com", 8);
	next_good(r, "host=db5 port=5433", 10);
	next_good(r, "[::1]:5433", 11);
	next_good(r, "last.example.com", 12);
	next_end(r);
	pcp_target_reader_close(r);
}

static void test_reader_empty_and_comment_only(void **state)
{
	struct pcp_target_reader *const r = &cur_r;

	(void)state;
	open_ok(r, write_file("empty.txt", "", 0));
	next_end(r);
	pcp_target_reader_close(r);
	open_ok(r, WRITE_LIT("comments.txt", "# a\n\n#b\r\n   \n"));
	next_end(r);
	pcp_target_reader_close(r);
}

static void test_reader_nul_bytes(void **state)
{
	static const char data[] = "db1\n"
	                           "ho\0st.example.com\n"
	                           "\0\0\0\n"
	                           "# comment\0with nul\n"
	                           "db2\n";
	struct pcp_target_reader *const r = &cur_r;

	(void)state;
	open_ok(r, write_file("nul.txt", data, sizeof data - 1));
	next_good(r, "db1", 1);
	next_bad(r, "NUL", 2);
	next_bad(r, "NUL", 3);
	next_bad(r, "NUL", 4);
	next_good(r, "db2", 5);
	next_end(r);
	pcp_target_reader_close(r);
}

static void test_reader_control_characters(void **state)
{
	struct pcp_target_reader *const r = &cur_r;

	(void)state;
	open_ok(r, WRITE_LIT("ctl.txt", "db\x01host\n"
	                                "\x1b[31mred.example.com\n"
	                                "db\x7f\n"
	                                "db\rhost\n"
	                                "db\x0b\n"
	                                "good.example.com\n"));
	next_bad(r, "control", 1);
	next_bad(r, "control", 2);
	next_bad(r, "control", 3);
	next_bad(r, "control", 4);
	next_bad(r, "control", 5);
	next_good(r, "good.example.com", 6);
	next_end(r);
	pcp_target_reader_close(r);
}

/* Bytes >= 0x80 are not control characters (UTF-8 host names); the reader passes them. */
static void test_reader_high_bytes(void **state)
{
	struct pcp_target_reader *const r = &cur_r;

	(void)state;
	open_ok(r, WRITE_LIT("utf8.txt", "b\xc3\xa4r.example.com\n"));
	next_good(r, "b\xc3\xa4r.example.com", 1);
	next_end(r);
	pcp_target_reader_close(r);
}

static char *repeat(char c, size_t n)
{
	char *s = scratch_alloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void test_reader_line_length_boundary(void **state)
{
	struct pcp_target_reader *const r = &cur_r;
	char *max = repeat('a', PCP_TARGET_LINE_MAX);
	char *over = repeat('b', PCP_TARGET_LINE_MAX + 1);
	size_t len = 3 * PCP_TARGET_LINE_MAX + 64;
	char *data = scratch_alloc(len);
	int n;

	(void)state;
	assert_non_null(data);
	/* exactly the maximum (also with trailing blanks that are trimmed), then one more */
	n = snprintf(data, len, "%s\n%s   \r\n%s\nok.example.com\n", max, max, over);
	assert_true(n > 0 && (size_t)n < len);
	open_ok(r, write_file("boundary.txt", data, (size_t)n));
	next_good(r, max, 1);
	next_good(r, max, 2);
	next_bad(r, "too long", 3);
	next_good(r, "ok.example.com", 4);
	next_end(r);
	pcp_target_reader_close(r);
}

/* A line whose first PCP_TARGET_LINE_MAX bytes look like a short target followed by blanks
 * must not be read as that short target: the line as a whole is over-long. */
static void test_reader_long_line_not_truncated_to_target(void **state)
{
	struct pcp_target_reader *const r = &cur_r;
	size_t pad = PCP_TARGET_LINE_MAX + 100;
	char *data = scratch_alloc(pad + 64);
	size_t n = 0;

	(void)state;
	assert_non_null(data);
	memcpy(data, "db.example.com", 14);
	n = 14;
	memset(data + n, ' ', pad);
	n += pad;
	memcpy(data + n, "evil.example.com\nnext.example.com\n", 34);
	n += 34;
	open_ok(r, write_file("padded.txt", data, n));
	next_bad(r, "too long", 1);
	next_good(r, "next.example.com", 2);
	next_end(r);
	pcp_target_reader_close(r);
}

static void test_reader_one_megabyte_line(void **state)
{
	struct pcp_target_reader *const r = &cur_r;
	size_t big = 1024 * 1024;
	char *data = scratch_alloc(big + 64);
	size_t n;

	(void)state;
	assert_non_null(data);
	memset(data, 'x', big);
	memcpy(data + big, "\nnext.example.com:6432\n", 23);
	n = big + 23;
	open_ok(r, write_file("mega.txt", data, n));
	next_bad(r, "too long", 1);
	/* the buffer stays bounded: the rest of the line was skipped, not stored */
	assert_true(r->cap <= 2 * PCP_TARGET_LINE_MAX + 64);
	next_good(r, "next.example.com:6432", 2);
	next_end(r);
	pcp_target_reader_close(r);

	/* the same megabyte without any newline: one bad line, then the end */
	open_ok(r, write_file("mega-nonl.txt", data, big));
	next_bad(r, "too long", 1);
	assert_true(r->cap <= 2 * PCP_TARGET_LINE_MAX + 64);
	next_end(r);
	pcp_target_reader_close(r);
}

static void test_reader_stdin(void **state)
{
	struct pcp_target_reader *const r = &cur_r;
	const char *path =
	        WRITE_LIT("stdin.txt", "# from a pipe\nfrom-stdin.example.com\n[::1]:1\n");
	struct pcp_error err = {0};
	int fd = open(path, O_RDONLY);
	int saved = dup(STDIN_FILENO);

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	clearerr(stdin);
	assert_int_equal(pcp_target_reader_open(r, "-", &err), PCP_OK);
	assert_ptr_equal(r->fp, stdin);
	assert_false(r->owned);
	next_good(r, "from-stdin.example.com", 2);
	next_good(r, "[::1]:1", 3);
	next_end(r);
	pcp_target_reader_close(r);
	/* closing the reader does not close stdin */
	assert_true(fcntl(STDIN_FILENO, F_GETFD) != -1);
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	clearerr(stdin);
}

static void test_reader_missing_file(void **state)
{
	struct pcp_target_reader *const r = &cur_r;
	struct pcp_error err = {0};
	char path[512];

	(void)state;
	snprintf(path, sizeof path, "%s/does-not-exist.txt", tmpdir);
	assert_int_equal(pcp_target_reader_open(r, path, &err), PCP_ERR_INPUT);
	assert_int_equal(err.code, PCP_ERR_INPUT);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "No such file"));
	pcp_target_reader_close(r);
}

/* A directory opens on Linux but cannot be read: the first read is the error. */
static void test_reader_directory(void **state)
{
	struct pcp_target_reader *const r = &cur_r;
	struct pcp_error err = {0};
	const char *line, *bad;
	enum pcp_errc rc;

	(void)state;
	rc = pcp_target_reader_open(r, tmpdir, &err);
	if (rc == PCP_OK) {
		assert_int_equal(pcp_target_reader_next(r, &line, &bad, &err), -1);
		pcp_target_reader_close(r);
	}
	assert_int_equal(err.code, PCP_ERR_INPUT);
	assert_non_null(strstr(err.msg, tmpdir));
}

static void test_reader_unreadable_file(void **state)
{
	struct pcp_target_reader *const r = &cur_r;
	struct pcp_error err = {0};
	const char *path = WRITE_LIT("secret.txt", "db\n");

	(void)state;
	if (geteuid() == 0)
		skip(); /* root reads mode 000 files */
	assert_int_equal(chmod(path, 0), 0);
	assert_int_equal(pcp_target_reader_open(r, path, &err), PCP_ERR_INPUT);
	assert_non_null(strstr(err.msg, path));
	pcp_target_reader_close(r);
}

/* Every line a reader yields as good parses or is rejected by pcp_target_parse without
 * trouble: run the parser over each line of a mixed file. */
static void test_reader_lines_parse(void **state)
{
	static const char *const want_ok[] = {"db1.example.com", "db2:6432", "[::1]:5433",
	                                      "host=db hostaddr=10.0.0.1 sslmode=verify-ca"};
	static const char *const want_bad[] = {"db:0", "host=db foo=bar"};
	struct pcp_target_reader *const r = &cur_r;
	struct pcp_error err = {0};
	const char *line, *bad;
	size_t n_ok = 0, n_bad = 0;
	int got;

	(void)state;
	open_ok(r, WRITE_LIT("mixed.txt",
	                     "db1.example.com\n# c\ndb2:6432\ndb:0\n[::1]:5433\n"
	                     "host=db foo=bar\nhost=db hostaddr=10.0.0.1 sslmode=verify-ca\n"));
	while ((got = pcp_target_reader_next(r, &line, &bad, &err)) == 1) {
		struct pcp_target *const t = &cur_t;
		struct pcp_error perr = {0};

		assert_null(bad);
		pcp_target_cleanup(t);
		if (pcp_target_parse(line, t, &perr) == PCP_OK) {
			assert_true(n_ok < 4);
			assert_string_equal(line, want_ok[n_ok++]);
		} else {
			assert_int_equal(perr.code, PCP_ERR_TARGET);
			assert_true(n_bad < 2);
			assert_string_equal(line, want_bad[n_bad++]);
		}
		pcp_target_cleanup(t);
	}
	assert_int_equal(got, 0);
	assert_int_equal(n_ok, 4);
	assert_int_equal(n_bad, 2);
	pcp_target_reader_close(r);
}

int main(void)
{
	const struct CMUnitTest parse[] = {
	        cmocka_unit_test_teardown(test_host_forms, teardown),
	        cmocka_unit_test_teardown(test_host_forms_defaults, teardown),
	        cmocka_unit_test_teardown(test_port_errors, teardown),
	        cmocka_unit_test_teardown(test_host_errors, teardown),
	        cmocka_unit_test_teardown(test_conninfo, teardown),
	        cmocka_unit_test_teardown(test_conninfo_sslmode, teardown),
	        cmocka_unit_test_teardown(test_conninfo_errors, teardown),
	        cmocka_unit_test_teardown(test_conninfo_unix_socket, teardown),
	        cmocka_unit_test_teardown(test_conninfo_abstract_socket, teardown),
	        cmocka_unit_test_teardown(test_multi_host_rejected, teardown),
	        cmocka_unit_test_teardown(test_hostaddr_inet_aton_form, teardown),
	        cmocka_unit_test_teardown(test_hostaddr_scope_id, teardown),
	        cmocka_unit_test_teardown(test_port_libpq_whitespace, teardown),
	        cmocka_unit_test_teardown(test_uri, teardown),
	        cmocka_unit_test_teardown(test_uri_errors, teardown),
	};
	const struct CMUnitTest reader[] = {
	        cmocka_unit_test_teardown(test_reader_comments_blank_crlf_spaces, teardown),
	        cmocka_unit_test_teardown(test_reader_empty_and_comment_only, teardown),
	        cmocka_unit_test_teardown(test_reader_nul_bytes, teardown),
	        cmocka_unit_test_teardown(test_reader_control_characters, teardown),
	        cmocka_unit_test_teardown(test_reader_high_bytes, teardown),
	        cmocka_unit_test_teardown(test_reader_line_length_boundary, teardown),
	        cmocka_unit_test_teardown(test_reader_long_line_not_truncated_to_target, teardown),
	        cmocka_unit_test_teardown(test_reader_one_megabyte_line, teardown),
	        cmocka_unit_test_teardown(test_reader_stdin, teardown),
	        cmocka_unit_test_teardown(test_reader_missing_file, teardown),
	        cmocka_unit_test_teardown(test_reader_directory, teardown),
	        cmocka_unit_test_teardown(test_reader_unreadable_file, teardown),
	        cmocka_unit_test_teardown(test_reader_lines_parse, teardown),
	};
	int failed = cmocka_run_group_tests_name("targets_parse", parse, NULL, NULL);

	failed += cmocka_run_group_tests_name("targets_reader", reader, setup_tmpdir,
	                                      teardown_tmpdir);
	return failed ? 1 : 0;
}
