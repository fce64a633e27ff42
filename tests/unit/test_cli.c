/* Unit tests of the command line and configuration file: pcp_cli_parse_time with exact
 * time_t values, and pcp_cli_parse over --store, [defaults]/[stores] files, overriding,
 * value checks, error codes and messages. Hermetic: PGCERTPROBE_CONFIG always points at a
 * file written by the test, so the installed or source-tree configuration is never read. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* ---- pcp_cli_parse_time ---- */

static void time_ok(const char *s, time_t want)
{
	struct pcp_error err = {0};
	time_t got = 12345;
	enum pcp_errc rc = pcp_cli_parse_time(s, &got, &err);

	if (rc != PCP_OK)
		fail_msg("time \"%s\" rejected: %s", s, err.msg);
	if (got != want)
		fail_msg("time \"%s\": got %lld, want %lld", s, (long long)got, (long long)want);
}

static void time_bad(const char *s)
{
	struct pcp_error err = {0};
	time_t got = 0;
	enum pcp_errc rc = pcp_cli_parse_time(s, &got, &err);

	if (rc != PCP_ERR_USAGE)
		fail_msg("time \"%s\": rc %d (value %lld), want PCP_ERR_USAGE", s, (int)rc,
		         (long long)got);
	assert_int_equal(err.code, PCP_ERR_USAGE);
	/* the message names the offending value */
	if (!strstr(err.msg, s))
		fail_msg("time \"%s\": message \"%s\" does not name it", s, err.msg);
}

#define T_2021_02_15 ((time_t)1613347200)

static void test_time_rfc3339(void **state)
{
	(void)state;
	time_ok("2021-02-15T00:00:00Z", T_2021_02_15);
	time_ok("2021-02-15T12:34:56Z", T_2021_02_15 + 12 * 3600 + 34 * 60 + 56);
	time_ok("1970-01-01T00:00:00Z", 0);
	time_ok("2000-01-01T00:00:00Z", 946684800);
	time_ok("2025-05-12T23:59:59Z", 1747094399);
	time_ok("2038-01-19T03:14:08Z", (time_t)2147483648LL);
	time_ok("2024-02-29T23:59:59Z", 1709251199);
	time_ok("9999-12-31T23:59:59Z", (time_t)253402300799LL);
	/* lower-case separators, a space for T */
	time_ok("2021-02-15t00:00:00z", T_2021_02_15);
	time_ok("2021-02-15 00:00:00Z", T_2021_02_15);
	time_ok("2021-02-15t01:00:00+01:00", T_2021_02_15);
}

static void test_time_offsets(void **state)
{
	(void)state;
	time_ok("2021-02-15T01:00:00+01:00", T_2021_02_15);
	time_ok("2021-02-14T19:00:00-05:00", T_2021_02_15);
	time_ok("2021-02-15T05:30:00+05:30", T_2021_02_15);
	time_ok("2021-02-14T20:15:00-03:45", T_2021_02_15);
	time_ok("2021-02-15T00:00:00+00:00", T_2021_02_15);
	time_ok("2021-02-15T00:00:00-00:00", T_2021_02_15);
	/* crossing a day and a year boundary */
	time_ok("2021-01-01T00:30:00+01:00", 1609457400);
	time_ok("2020-12-31T23:30:00-01:00", 1609461000);
	time_ok("2021-02-15T23:59:00+23:59", T_2021_02_15);
}

static void test_time_fractional(void **state)
{
	(void)state;
	time_ok("2021-02-15T00:00:00.5Z", T_2021_02_15);
	time_ok("2021-02-15T00:00:00.999999999Z", T_2021_02_15);
	time_ok("2021-02-15T00:00:00.000+00:00", T_2021_02_15);
	time_ok("2021-02-15T01:00:00.123456+01:00", T_2021_02_15);
}

static void test_time_date_and_unix(void **state)
{
	(void)state;
	time_ok("2021-02-15", T_2021_02_15);
	time_ok("2020-02-29", 1582934400);
	time_ok("1970-01-01", 0);
	time_ok("@1613347200", T_2021_02_15);
	time_ok("@0", 0);
	time_ok("@-1", -1);
	time_ok("@-86400", -86400);
	time_ok("@253402300799", (time_t)253402300799LL);
}

static void test_time_invalid(void **state)
{
	(void)state;
	time_bad("2021-02-30");
	time_bad("2021-02-29");
	time_bad("2021-04-31");
	time_bad("2021-13-01");
	time_bad("2021-00-10");
	time_bad("2021-02-00");
	time_bad("2021-02-30T00:00:00Z");
	time_bad("2021-02-15T25:00:00Z");
	time_bad("2021-02-15T24:00:00Z");
	time_bad("2021-02-15T23:60:00Z");
	time_bad("25:00");
	time_bad("garbage");
	time_bad("");
	time_bad("now");
	time_bad("2021-2-15");
	time_bad("21-02-15");
	time_bad("2021/02/15");
	time_bad("2021-02-15x");
	time_bad("2021-02-15T");
	time_bad("2021-02-15T00:00");
	time_bad("2021-02-15T00:00Z");
	time_bad("2021-02-15T00:00:00"); /* RFC 3339 needs an offset */
	time_bad("2021-02-15T00:00:00Zjunk");
	time_bad("2021-02-15T00:00:00Z ");
	time_bad("2021-02-15T00:00:00.Z");
	time_bad("2021-02-15T00:00:00+0100");
	time_bad("2021-02-15T00:00:00+01");
	time_bad("2021-02-15T00:00:00+01:00x");
	time_bad("2021-02-15X00:00:00Z");
	time_bad(" 2021-02-15");
	time_bad("@");
	time_bad("@12x");
	time_bad("@1.5");
	time_bad("@99999999999999999999");
	time_bad("@-99999999999999999999");
}

/* RFC 3339 time-numoffset: hour 00-23, minute 00-59. */
static void test_time_offset_out_of_range(void **state)
{
	(void)state;
	time_bad("2021-02-15T00:00:00+24:00");
	time_bad("2021-02-15T00:00:00+99:99");
	time_bad("2021-02-15T00:00:00-05:60");
}

/* One second before the epoch is a valid instant, not timegm's error value. */
static void test_time_just_before_epoch(void **state)
{
	(void)state;
	time_ok("1969-12-31T23:59:59Z", -1);
	time_ok("1970-01-01T00:59:59+01:00", -1);
	time_ok("1969-12-31", -86400);
}

/* ---- pcp_cli_parse ---- */

static char tmpdir[256];
static char empty_conf[512];

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Writes text to tmpdir/rel (directories must exist); returns the path (static buffer,
 * one of two so two paths can be held). */
static const char *write_text(const char *rel, const char *text)
{
	static char paths[2][512];
	static int which;
	char *path = paths[which ^= 1];
	FILE *f;

	snprintf(path, sizeof paths[0], "%s/%s", tmpdir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	return path;
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "%s/pcp-test-cli-XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(empty_conf, sizeof empty_conf, "%s/empty.conf", tmpdir);
	{
		FILE *f = fopen(empty_conf, "w");

		return f && fclose(f) == 0 ? 0 : -1;
	}
}

static int group_teardown(void **state)
{
	(void)state;
	unsetenv("PGCERTPROBE_CONFIG");
	return nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Each test starts with the empty configuration as the default one. */
static int test_setup(void **state)
{
	(void)state;
	return setenv("PGCERTPROBE_CONFIG", empty_conf, 1);
}

struct run {
	struct pcp_settings s;
	struct pcp_error err;
	enum pcp_errc rc;
	char *argv[64]; /* getopt permutes this; s.targets points into it */
	int argc;
	bool live; /* s holds allocations (cleaned by done() or the test's teardown) */
};

/* Static, not on a test's stack: a failing assertion leaves the test through longjmp and
 * the teardown still frees what the parse allocated. */
static struct run the_run;

/* Forgets getopt's state from earlier parses (optind = 0 reinitialises glibc's getopt),
 * so each test sees a fresh parser whatever the previous one left behind. */
static void reset_getopt(void)
{
	char *dummy[] = {(char *)"x", NULL};

	optind = 0;
	opterr = 0;
	(void)getopt(1, dummy, "");
}

static void done(struct run *r);

static void run_argv(struct run *r, const char *const *args)
{
	if (r->live)
		done(r);
	memset(r, 0, sizeof *r);
	r->live = true;
	/* Writable copies, as a process's argv: the parser blanks passwords in it. */
	r->argv[r->argc++] = strdup("pgcertprobe");
	for (; *args; args++) {
		assert_true(r->argc < 63);
		r->argv[r->argc++] = strdup(*args);
	}
	r->argv[r->argc] = NULL;
	pcp_settings_init(&r->s);
	r->rc = pcp_cli_parse(r->argc, r->argv, &r->s, &r->err);
}

#define PARSE(r, ...)                                                                              \
	do {                                                                                       \
		reset_getopt();                                                                    \
		run_argv((r), (const char *const[]){__VA_ARGS__, NULL});                           \
	} while (0)

static void done(struct run *r)
{
	pcp_settings_cleanup(&r->s);
	for (int i = 0; i < r->argc; i++)
		free(r->argv[i]);
	r->argc = 0;
	r->live = false;
}

static int test_teardown(void **state)
{
	(void)state;
	if (the_run.live)
		done(&the_run);
	return 0;
}

static void expect_ok(struct run *r)
{
	if (r->rc != PCP_OK)
		fail_msg("parse failed (%d): %s", (int)r->rc, r->err.msg);
}

/* Expects code and a message holding each of the NULL-terminated words. */
static void expect_err(struct run *r, enum pcp_errc code, ...)
{
	va_list ap;
	const char *w;

	if (r->rc != code)
		fail_msg("rc %d, want %d (message \"%s\")", (int)r->rc, (int)code, r->err.msg);
	assert_int_equal(r->err.code, code);
	va_start(ap, code);
	while ((w = va_arg(ap, const char *)))
		if (!strstr(r->err.msg, w)) {
			va_end(ap);
			fail_msg("message \"%s\" lacks \"%s\"", r->err.msg, w);
		}
	va_end(ap);
}

static void expect_store(const struct run *r, size_t i, const char *name, const char *path)
{
	if (i >= r->s.n_stores)
		fail_msg("store %zu (%s) missing: %zu stores", i, name, r->s.n_stores);
	assert_string_equal(r->s.stores[i].name, name);
	assert_string_equal(r->s.stores[i].path, path);
}

#define S1 "--store", "a=/roots/a.pem"

static void test_parse_minimal(void **state)
{
	struct run *const r = &the_run;

	(void)state;
	PARSE(r, S1, "db1.example.com");
	expect_ok(r);
	assert_int_equal(r->s.n_targets, 1);
	assert_string_equal(r->s.targets[0], "db1.example.com");
	assert_int_equal(r->s.n_stores, 1);
	expect_store(r, 0, "a", "/roots/a.pem");
	assert_true(r->s.stores_from_cli);
	/* defaults */
	assert_int_equal(r->s.sslmode, PCP_SSLMODE_VERIFY_FULL);
	assert_true(r->s.timeout == PCP_DEFAULT_TIMEOUT);
	assert_int_equal(r->s.concurrency, PCP_DEFAULT_CONCURRENCY);
	assert_int_equal(r->s.format, PCP_FORMAT_TEXT);
	assert_int_equal(r->s.color, PCP_COLOR_AUTO);
	assert_false(r->s.at_given);
	assert_null(r->s.save_chains);
	assert_int_equal(r->s.n_require, 0);
	assert_int_equal(r->s.n_target_files, 0);
	assert_false(r->s.help);
	assert_false(r->s.version);
	/* the default configuration named by PGCERTPROBE_CONFIG was the one read */
	assert_non_null(r->s.config_path);
	assert_string_equal(r->s.config_path, empty_conf);
	done(r);
}

static void test_parse_all_options(void **state)
{
	struct run *const r = &the_run;

	(void)state;
	PARSE(r, "db1", "--store", "a=/x/a.pem", "-s", "b=/x/b", "--sslmode", "verify-ca", "--at",
	      "2021-02-15T00:00:00Z", "--format", "json", "-t", "2.5", "-j", "17", "-r", "b",
	      "--require", "a", "--save-chains", "/tmp", "--color", "never", "-f", "-", "db2:6432",
	      "--targets", "/x/list.txt");
	expect_ok(r);
	assert_int_equal(r->s.n_targets, 2);
	assert_string_equal(r->s.targets[0], "db1");
	assert_string_equal(r->s.targets[1], "db2:6432");
	assert_int_equal(r->s.n_stores, 2);
	expect_store(r, 0, "a", "/x/a.pem");
	expect_store(r, 1, "b", "/x/b");
	assert_int_equal(r->s.sslmode, PCP_SSLMODE_VERIFY_CA);
	assert_true(r->s.at_given);
	assert_int_equal(r->s.at, T_2021_02_15);
	assert_int_equal(r->s.format, PCP_FORMAT_JSON);
	assert_true(r->s.timeout == 2.5);
	assert_int_equal(r->s.concurrency, 17);
	assert_int_equal(r->s.n_require, 2);
	assert_string_equal(r->s.require[0].text, "b");
	assert_string_equal(r->s.require[1].text, "a");
	assert_string_equal(r->s.save_chains, "/tmp");
	assert_int_equal(r->s.color, PCP_COLOR_NEVER);
	assert_int_equal(r->s.n_target_files, 2);
	assert_string_equal(r->s.target_files[0], "-");
	assert_string_equal(r->s.target_files[1], "/x/list.txt");
	done(r);
}

static void test_parse_double_dash_and_order(void **state)
{
	struct run *const r = &the_run;

	(void)state;
	/* options after targets are still options; "--" ends them */
	PARSE(r, "db1", S1, "--timeout", "3", "db2", "--", "--weird", "-j");
	expect_ok(r);
	assert_true(r->s.timeout == 3);
	assert_int_equal(r->s.n_targets, 4);
	assert_string_equal(r->s.targets[0], "db1");
	assert_string_equal(r->s.targets[1], "db2");
	assert_string_equal(r->s.targets[2], "--weird");
	assert_string_equal(r->s.targets[3], "-j");
	done(r);
	/* a repeated single-valued option: the last one wins */
	PARSE(r, S1, "-t", "3", "--timeout", "4", "-j", "5", "-j", "6", "db");
	expect_ok(r);
	assert_true(r->s.timeout == 4);
	assert_int_equal(r->s.concurrency, 6);
	done(r);
}

static void test_store_values(void **state)
{
	struct run *const r = &the_run;

	(void)state;
	/* only the first '=' separates: paths may hold '=' */
	PARSE(r, "--store", "a=/tmp/x=y.pem", "db");
	expect_ok(r);
	expect_store(r, 0, "a", "/tmp/x=y.pem");
	done(r);
	PARSE(r, "--store", "Old-Root_2.v1=relative/dir", "db");
	expect_ok(r);
	expect_store(r, 0, "Old-Root_2.v1", "relative/dir");
	done(r);
	PARSE(r, "-s", "a=/a", "-s", "b=/b", "-s", "c=/c", "db");
	expect_ok(r);
	assert_int_equal(r->s.n_stores, 3);
	expect_store(r, 2, "c", "/c");
	done(r);
}

static void test_store_errors(void **state)
{
	struct run *const r = &the_run;
	char longname[200];

	(void)state;
	PARSE(r, "--store", "/etc/ssl/certs/ca.pem", "db");
	expect_err(r, PCP_ERR_USAGE, "/etc/ssl/certs/ca.pem", "NAME=PATH", NULL);
	done(r);
	PARSE(r, "--store", "=/x.pem", "db");
	expect_err(r, PCP_ERR_USAGE, "=/x.pem", NULL);
	done(r);
	PARSE(r, "--store", "a=", "db");
	expect_err(r, PCP_ERR_USAGE, "a", "path", NULL);
	done(r);
	PARSE(r, "--store", "a=/x", "--store", "a=/y", "db");
	expect_err(r, PCP_ERR_USAGE, "duplicate", "\"a\"", NULL);
	done(r);
	PARSE(r, "--store", "my store=/x", "db");
	expect_err(r, PCP_ERR_USAGE, "my store", NULL);
	done(r);
	PARSE(r, "--store", "a/b=/x", "db");
	expect_err(r, PCP_ERR_USAGE, "a/b", NULL);
	done(r);
	PARSE(r, "--store", "a\"b=/x", "db");
	expect_err(r, PCP_ERR_USAGE, "a\"b", NULL);
	done(r);
	PARSE(r, "--store", "r\xc3\xa4t=/x", "db");
	expect_err(r, PCP_ERR_USAGE, "r\xc3\xa4t", NULL);
	done(r);
	memset(longname, 'n', sizeof longname - 3);
	memcpy(longname + sizeof longname - 3, "=/", 3);
	PARSE(r, "--store", longname, "db");
	expect_err(r, PCP_ERR_USAGE, "name too long", NULL);
	done(r);
}

/* The three password options: each attaches its source to the store it names; the
 * password itself is never quoted in a message. */
static void test_store_passwords(void **state)
{
	struct run *const r = &the_run;

	(void)state;
	PARSE(r, "--store-password", "ts=s3cret=x", "--store", "ts=/j/truststore",
	      "--store-password-file", "b=/etc/pw", "--store", "b=/j/b.jks", "--store-password-env",
	      "c=JKS_PW", "--store", "c=/j/c.p12", "--store", "d=/j/d", "db");
	expect_ok(r);
	assert_int_equal(r->s.n_stores, 4);
	assert_int_equal(r->s.stores[0].pw_source, PCP_PASSWORD_LITERAL);
	assert_string_equal(r->s.stores[0].pw, "s3cret=x");
	assert_int_equal(r->s.stores[1].pw_source, PCP_PASSWORD_FILE);
	assert_string_equal(r->s.stores[1].pw, "/etc/pw");
	assert_int_equal(r->s.stores[2].pw_source, PCP_PASSWORD_ENV);
	assert_string_equal(r->s.stores[2].pw, "JKS_PW");
	assert_int_equal(r->s.stores[3].pw_source, PCP_PASSWORD_NONE);
	assert_null(r->s.stores[3].pw);
	done(r);

	/* An empty literal is allowed (Java's "" is no password); empty names are not. */
	PARSE(r, S1, "--store-password", "a=", "db");
	expect_ok(r);
	done(r);
	PARSE(r, S1, "--store-password-file", "a=", "db");
	expect_err(r, PCP_ERR_USAGE, "--store-password-file a: empty FILE", NULL);
	done(r);
	PARSE(r, S1, "--store-password", "s3cret", "db");
	expect_err(r, PCP_ERR_USAGE, "--store-password: expected NAME=PASSWORD", NULL);
	assert_null(strstr(r->err.msg, "s3cret"));
	done(r);
	PARSE(r, S1, "--store-password", "a b=s3cret", "db");
	expect_err(r, PCP_ERR_USAGE, "may hold only", NULL);
	assert_null(strstr(r->err.msg, "s3cret"));
	done(r);
	/* A password for a store that does not exist, and two for one store. */
	PARSE(r, S1, "--store-password", "b=s3cret", "db");
	expect_err(r, PCP_ERR_USAGE, "--store-password b: no store of that name", NULL);
	assert_null(strstr(r->err.msg, "s3cret"));
	done(r);
	PARSE(r, S1, "--store-password-env", "zz=V", "db");
	expect_err(r, PCP_ERR_USAGE, "--store-password-env zz: no store of that name", NULL);
	done(r);
	PARSE(r, S1, "--store-password", "a=s3cret", "--store-password-file", "a=/f", "db");
	expect_err(r, PCP_ERR_USAGE, "store a has two passwords", NULL);
	assert_null(strstr(r->err.msg, "s3cret"));
	done(r);
}

/* The parser blanks what follows NAME= in --store-password values of argv, in both
 * spellings, and nothing else; the settings keep their own copies. */
static void test_hide_passwords(void **state)
{
	struct run *const r = &the_run;

	(void)state;
	PARSE(r, "--store-password=ts=hunter22", "--store", "ts=/j/ts", "-s", "b=/j/b",
	      "--store-password", "b=pw2", "db");
	expect_ok(r);
	assert_string_equal(r->argv[1], "--store-password=ts=");
	assert_memory_equal(r->argv[1] + 20, "\0\0\0\0\0\0\0\0", 8);
	assert_string_equal(r->argv[6], "--store-password");
	assert_string_equal(r->argv[7], "b=");
	assert_string_equal(r->argv[3], "ts=/j/ts");
	assert_string_equal(r->argv[8], "db");
	assert_string_equal(r->s.stores[0].pw, "hunter22");
	assert_string_equal(r->s.stores[1].pw, "pw2");
	done(r);
	/* Also when the parse fails after reading the option. */
	PARSE(r, "--store-password", "zz=hunter22", S1, "db");
	expect_err(r, PCP_ERR_USAGE, "no store of that name", NULL);
	assert_string_equal(r->argv[2], "zz=");
	done(r);
}

/* [store_password_files] (relative to the file) and [store_password_env] in the file;
 * the command line's password for the same store wins; --store drops the file's
 * passwords with its stores; a file password for an unknown store is a config error. */
static void test_config_store_passwords(void **state)
{
	struct run *const r = &the_run;
	char want[600];
	const char *conf = write_text("pw.conf", "[stores]\n"
	                                         "ts = truststore\n"
	                                         "j = j.jks\n"
	                                         "[store_password_files]\n"
	                                         "ts = secrets/ts.pw\n"
	                                         "[store_password_env]\n"
	                                         "j = J_PW\n");

	(void)state;
	PARSE(r, "-c", conf, "db");
	expect_ok(r);
	snprintf(want, sizeof want, "%s/secrets/ts.pw", tmpdir);
	assert_int_equal(r->s.stores[0].pw_source, PCP_PASSWORD_FILE);
	assert_string_equal(r->s.stores[0].pw, want);
	assert_int_equal(r->s.stores[1].pw_source, PCP_PASSWORD_ENV);
	assert_string_equal(r->s.stores[1].pw, "J_PW");
	done(r);

	PARSE(r, "-c", conf, "--store-password", "ts=cli", "db");
	expect_ok(r);
	assert_int_equal(r->s.stores[0].pw_source, PCP_PASSWORD_LITERAL);
	assert_string_equal(r->s.stores[0].pw, "cli");
	assert_int_equal(r->s.stores[1].pw_source, PCP_PASSWORD_ENV);
	done(r);

	PARSE(r, "-c", conf, "--store", "ts=/x/ts", "db");
	expect_ok(r);
	assert_int_equal(r->s.n_stores, 1);
	assert_int_equal(r->s.stores[0].pw_source, PCP_PASSWORD_NONE);
	done(r);

	conf = write_text("pw-unknown.conf", "[store_password_env]\n"
	                                     "nope = V\n"
	                                     "[stores]\n"
	                                     "a = a.pem\n");
	PARSE(r, "-c", conf, "db");
	expect_err(r, PCP_ERR_CONFIG, "pw-unknown.conf", "[store_password_env] names store nope",
	           NULL);
	done(r);
	conf = write_text("pw-twice.conf", "[stores]\n"
	                                   "a = a.pem\n"
	                                   "[store_password_env]\n"
	                                   "a = V\n"
	                                   "[store_password_files]\n"
	                                   "a = f\n");
	PARSE(r, "-c", conf, "db");
	expect_err(r, PCP_ERR_CONFIG, "pw-twice.conf:6:", "store a has two passwords", NULL);
	done(r);
	conf = write_text("pw-empty.conf", "[stores]\na = a.pem\n[store_password_files]\na =\n");
	PARSE(r, "-c", conf, "db");
	expect_err(r, PCP_ERR_CONFIG, "pw-empty.conf:4:", "password file is empty", NULL);
	done(r);
}

static void test_config_defaults_and_stores(void **state)
{
	struct run *const r = &the_run;
	char want[600];
	const char *conf;

	(void)state;
	snprintf(want, sizeof want, "%s/sub", tmpdir);
	assert_int_equal(mkdir(want, 0700), 0);
	conf = write_text("sub/full.conf", "; a full configuration\n"
	                                   "[defaults]\n"
	                                   "sslmode = verify-ca\n"
	                                   "timeout = 3.5\n"
	                                   "concurrency = 7\n"
	                                   "format = json\n"
	                                   "require = rel\n"
	                                   "save_chains = /var/tmp\n"
	                                   "color = always\n"
	                                   "\n"
	                                   "[stores]\n"
	                                   "rel = roots/rel.pem   ; relative to this file\n"
	                                   "up = ../up.pem\n"
	                                   "abs = /etc/ssl/abs.pem\n");
	PARSE(r, "--config", conf, "db");
	expect_ok(r);
	assert_string_equal(r->s.config_path, conf);
	assert_int_equal(r->s.sslmode, PCP_SSLMODE_VERIFY_CA);
	assert_true(r->s.timeout == 3.5);
	assert_int_equal(r->s.concurrency, 7);
	assert_int_equal(r->s.format, PCP_FORMAT_JSON);
	assert_int_equal(r->s.n_require, 1);
	assert_string_equal(r->s.require[0].text, "rel");
	assert_string_equal(r->s.save_chains, "/var/tmp");
	assert_int_equal(r->s.color, PCP_COLOR_ALWAYS);
	assert_false(r->s.stores_from_cli);
	assert_int_equal(r->s.n_stores, 3);
	snprintf(want, sizeof want, "%s/sub/roots/rel.pem", tmpdir);
	expect_store(r, 0, "rel", want);
	snprintf(want, sizeof want, "%s/sub/../up.pem", tmpdir);
	expect_store(r, 1, "up", want);
	expect_store(r, 2, "abs", "/etc/ssl/abs.pem");
	done(r);

	/* the same file found through PGCERTPROBE_CONFIG */
	assert_int_equal(setenv("PGCERTPROBE_CONFIG", conf, 1), 0);
	PARSE(r, "db");
	expect_ok(r);
	assert_string_equal(r->s.config_path, conf);
	assert_int_equal(r->s.n_stores, 3);
	assert_int_equal(r->s.concurrency, 7);
	done(r);
}

static void test_config_overridden_by_command_line(void **state)
{
	struct run *const r = &the_run;
	const char *conf = write_text("over.conf", "[defaults]\n"
	                                           "sslmode = verify-ca\n"
	                                           "timeout = 3\n"
	                                           "concurrency = 7\n"
	                                           "format = json\n"
	                                           "save_chains = /var/tmp\n"
	                                           "color = always\n"
	                                           "[stores]\n"
	                                           "a = a.pem\n"
	                                           "b = b.pem\n");

	(void)state;
	PARSE(r, "-c", conf, "--sslmode", "verify-full", "--timeout", "5", "-j", "9", "--format",
	      "text", "--save-chains", "/srv", "--color", "never", "db");
	expect_ok(r);
	assert_int_equal(r->s.sslmode, PCP_SSLMODE_VERIFY_FULL);
	assert_true(r->s.timeout == 5);
	assert_int_equal(r->s.concurrency, 9);
	assert_int_equal(r->s.format, PCP_FORMAT_TEXT);
	assert_string_equal(r->s.save_chains, "/srv");
	assert_int_equal(r->s.color, PCP_COLOR_NEVER);
	assert_int_equal(r->s.n_stores, 2);
	done(r);

	/* --store replaces all the file's stores */
	PARSE(r, "-c", conf, "--store", "c=/c.pem", "--store", "b=/other-b.pem", "db");
	expect_ok(r);
	assert_true(r->s.stores_from_cli);
	assert_int_equal(r->s.n_stores, 2);
	expect_store(r, 0, "c", "/c.pem");
	expect_store(r, 1, "b", "/other-b.pem");
	done(r);

	/* the option may come after the targets and before --config: same result */
	PARSE(r, "db", "--store", "c=/c.pem", "-c", conf);
	expect_ok(r);
	assert_int_equal(r->s.n_stores, 1);
	expect_store(r, 0, "c", "/c.pem");
	assert_true(r->s.timeout == 3);
	done(r);

	/* an invalid command-line value is still an error, even over a valid file value */
	PARSE(r, "-c", conf, "--timeout", "0", "db");
	expect_err(r, PCP_ERR_USAGE, "\"0\"", NULL);
	done(r);
}

/* A repeatable option given on the command line replaces the file's list, like every
 * other option ("Command-line options override the file"). */
static void test_config_require_overridden(void **state)
{
	struct run *const r = &the_run;
	const char *conf = write_text("req.conf", "[defaults]\n"
	                                          "require = a\n"
	                                          "[stores]\n"
	                                          "a = a.pem\n"
	                                          "b = b.pem\n");

	(void)state;
	PARSE(r, "-c", conf, "db");
	expect_ok(r);
	assert_int_equal(r->s.n_require, 1);
	assert_string_equal(r->s.require[0].text, "a");
	done(r);
	PARSE(r, "-c", conf, "--require", "b", "db");
	expect_ok(r);
	if (r->s.n_require != 1)
		fail_msg("--require b over a file's \"require = a\": %zu required stores, want 1 "
		         "(b)",
		         r->s.n_require);
	assert_string_equal(r->s.require[0].text, "b");
	done(r);
}

static void test_config_errors(void **state)
{
	struct run *const r = &the_run;
	char where[600];
	const char *conf;

	(void)state;
	conf = write_text("unknown-key.conf", "; comment\n"
	                                      "[defaults]\n"
	                                      "timeout = 3\n"
	                                      "bogus = 1\n");
	PARSE(r, "-c", conf, S1, "db");
	snprintf(where, sizeof where, "%s:4:", conf);
	expect_err(r, PCP_ERR_CONFIG, where, "bogus", NULL);
	done(r);

	conf = write_text("unknown-section.conf", "[defaults]\n"
	                                          "timeout = 3\n"
	                                          "[extras]\n"
	                                          "x = 1\n");
	PARSE(r, "-c", conf, S1, "db");
	snprintf(where, sizeof where, "%s:4:", conf);
	expect_err(r, PCP_ERR_CONFIG, where, "extras", NULL);
	done(r);

	/* a key before any section */
	conf = write_text("no-section.conf", "timeout = 3\n");
	PARSE(r, "-c", conf, S1, "db");
	snprintf(where, sizeof where, "%s:1:", conf);
	expect_err(r, PCP_ERR_CONFIG, where, NULL);
	done(r);

	conf = write_text("syntax.conf", "[defaults]\n"
	                                 "timeout = 3\n"
	                                 "this line has no equals sign\n");
	PARSE(r, "-c", conf, S1, "db");
	snprintf(where, sizeof where, "%s:3:", conf);
	expect_err(r, PCP_ERR_CONFIG, where, NULL);
	done(r);

	conf = write_text("bracket.conf", "[defaults\n"
	                                  "timeout = 3\n");
	PARSE(r, "-c", conf, S1, "db");
	snprintf(where, sizeof where, "%s:1:", conf);
	expect_err(r, PCP_ERR_CONFIG, where, NULL);
	done(r);

	/* bad values in the file: the same checks as on the command line, but a config error */
	conf = write_text("bad-value.conf", "[defaults]\n"
	                                    "format = xml\n");
	PARSE(r, "-c", conf, S1, "db");
	snprintf(where, sizeof where, "%s:2:", conf);
	expect_err(r, PCP_ERR_CONFIG, where, "xml", NULL);
	done(r);
	conf = write_text("bad-timeout.conf", "[defaults]\n\ntimeout = soon\n");
	PARSE(r, "-c", conf, S1, "db");
	snprintf(where, sizeof where, "%s:3:", conf);
	expect_err(r, PCP_ERR_CONFIG, where, "soon", NULL);
	done(r);
	conf = write_text("bad-conc.conf", "[defaults]\nconcurrency = 0\n");
	PARSE(r, "-c", conf, S1, "db");
	expect_err(r, PCP_ERR_CONFIG, "bad-conc.conf:2:", "\"0\"", NULL);
	done(r);

	/* command-line-only options are not file keys */
	conf = write_text("cli-only.conf", "[defaults]\nat = 2021-02-15\n");
	PARSE(r, "-c", conf, S1, "db");
	expect_err(r, PCP_ERR_CONFIG, "cli-only.conf:2:", "\"at\"", NULL);
	done(r);

	conf = write_text("dup-store.conf", "[stores]\na = a.pem\nb = b.pem\na = c.pem\n");
	PARSE(r, "-c", conf, "db");
	expect_err(r, PCP_ERR_CONFIG, "dup-store.conf:4:", "\"a\"", NULL);
	done(r);
}

/* "name =" with no path is an error on that line, not the configuration's own directory
 * taken as a hashed certificate directory. */
static void test_config_empty_store_path(void **state)
{
	struct run *const r = &the_run;
	const char *conf = write_text("empty-store.conf", "[stores]\na =\n");

	(void)state;
	PARSE(r, "-c", conf, "db");
	expect_err(r, PCP_ERR_CONFIG, "empty-store.conf:2:", "a", NULL);
	done(r);
}

/* When a file has a syntax error and, later, a bad key, the line number and the text of
 * the message must describe the same problem. */
static void test_config_error_line_matches_message(void **state)
{
	struct run *const r = &the_run;
	const char *conf = write_text("two-errors.conf", "[defaults]\n"
	                                                 "garbage line\n"
	                                                 "bogus = 1\n");
	bool syntax_at_2, key_at_3;

	(void)state;
	PARSE(r, "-c", conf, S1, "db");
	assert_int_equal(r->rc, PCP_ERR_CONFIG);
	syntax_at_2 = strstr(r->err.msg, "two-errors.conf:2:") && !strstr(r->err.msg, "bogus");
	key_at_3 = strstr(r->err.msg, "two-errors.conf:3:") && strstr(r->err.msg, "bogus");
	if (!syntax_at_2 && !key_at_3)
		fail_msg("message \"%s\" pairs a line with another line's problem", r->err.msg);
	done(r);
}

/* inih reads at most INI_MAX_LINE (200) bytes per line as built on Debian: a long comment
 * or a long store path must neither become a syntax error nor be silently cut. */
static void test_config_long_lines(void **state)
{
	struct run *const r = &the_run;
	char text[2048], path[400];
	const char *conf;
	int n;

	(void)state;
	memset(path, 'p', sizeof path - 1);
	path[0] = '/';
	path[sizeof path - 1] = '\0';
	n = snprintf(text, sizeof text, "; %s\n[stores]\nlong = %s\n", path, path);
	assert_true(n > 0 && (size_t)n < sizeof text);
	conf = write_text("long.conf", text);
	PARSE(r, "-c", conf, "db");
	if (r->rc == PCP_OK) {
		expect_store(r, 0, "long", path);
	} else {
		/* refusing the long line is acceptable only with a message that says so, on the
		 * line that is too long (inih would count its pieces as lines) */
		expect_err(r, PCP_ERR_CONFIG, "long.conf:1:", "too long", NULL);
	}
	done(r);
}

static void test_config_file_errors(void **state)
{
	struct run *const r = &the_run;
	char missing[600];

	(void)state;
	snprintf(missing, sizeof missing, "%s/no-such.conf", tmpdir);
	PARSE(r, "--config", missing, S1, "db");
	expect_err(r, PCP_ERR_INPUT, missing, NULL);
	done(r);
	/* a default configuration named by the environment that does not exist */
	assert_int_equal(setenv("PGCERTPROBE_CONFIG", missing, 1), 0);
	PARSE(r, S1, "db");
	expect_err(r, PCP_ERR_INPUT, missing, NULL);
	done(r);
}

/* "key =" with nothing after it: the value is empty, and reading it must stop at its end.
 * Found by fuzz_config (a heap read past the line in cut_comment) as this file. */
static void test_config_key_without_value(void **state)
{
	struct run *const r = &the_run;
	const char *conf = write_text("no-value.conf", "; every ke =  file may set\n"
	                                               "[defaults]\n"
	                                               "\x01;lmode; every key a file may  s=");

	(void)state;
	PARSE(r, "-c", conf, S1, "db");
	expect_err(r, PCP_ERR_CONFIG, "no-value.conf:3:", NULL);
	done(r);
	conf = write_text("empty-timeout.conf", "[defaults]\ntimeout =");
	PARSE(r, "-c", conf, S1, "db");
	expect_err(r, PCP_ERR_CONFIG, "empty-timeout.conf:2:", "timeout", NULL);
	done(r);
}

/* A directory opens with fopen() on Linux but cannot be read: it is not an (empty)
 * configuration file. */
static void test_config_is_directory(void **state)
{
	struct run *const r = &the_run;

	(void)state;
	PARSE(r, "--config", tmpdir, S1, "db");
	expect_err(r, PCP_ERR_INPUT, tmpdir, NULL);
	done(r);
}

static void test_no_stores(void **state)
{
	struct run *const r = &the_run;

	(void)state;
	PARSE(r, "db");
	expect_err(r, PCP_ERR_CONFIG, "store", NULL);
	done(r);
}

static void test_require(void **state)
{
	struct run *const r = &the_run;

	(void)state;
	PARSE(r, S1, "--require", "a", "db");
	expect_ok(r);
	assert_int_equal(r->s.n_require, 1);
	done(r);
	PARSE(r, S1, "--require", "nosuch", "db");
	expect_err(r, PCP_ERR_USAGE, "nosuch", NULL);
	done(r);
	PARSE(r, S1, "-r", "a", "-r", "A", "db");
	expect_err(r, PCP_ERR_USAGE, "A", NULL); /* store names are case-sensitive */
	done(r);
}

static void test_concurrency_values(void **state)
{
	static const char *const bad[] = {"0",   "-1", "-256", "1000001", "99999999999999999999",
	                                  "abc", "5x", "",     "1.5"};
	struct run *const r = &the_run;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		PARSE(r, S1, "--concurrency", bad[i], "db");
		if (r->rc != PCP_ERR_USAGE)
			fail_msg("--concurrency \"%s\": rc %d", bad[i], (int)r->rc);
		expect_err(r, PCP_ERR_USAGE, "concurrency", bad[i], NULL);
		done(r);
	}
	PARSE(r, S1, "-j", "1", "db");
	expect_ok(r);
	assert_int_equal(r->s.concurrency, 1);
	done(r);
	PARSE(r, S1, "-j", "1000000", "db");
	expect_ok(r);
	assert_int_equal(r->s.concurrency, 1000000);
	done(r);
}

static void test_timeout_values(void **state)
{
	static const char *const bad[] = {"0",     "-1", "abc", "nan",  "inf",
	                                  "86401", "",   "3s",  "1e999"};
	struct run *const r = &the_run;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		PARSE(r, S1, "--timeout", bad[i], "db");
		if (r->rc != PCP_ERR_USAGE)
			fail_msg("--timeout \"%s\": rc %d", bad[i], (int)r->rc);
		expect_err(r, PCP_ERR_USAGE, "timeout", bad[i], NULL);
		done(r);
	}
	PARSE(r, S1, "-t", "0.25", "db");
	expect_ok(r);
	assert_true(r->s.timeout == 0.25);
	done(r);
	PARSE(r, S1, "-t", "86400", "db");
	expect_ok(r);
	assert_true(r->s.timeout == 86400);
	done(r);
}

static void test_format_sslmode_color_at(void **state)
{
	struct run *const r = &the_run;

	(void)state;
	PARSE(r, S1, "--format", "xml", "db");
	expect_err(r, PCP_ERR_USAGE, "xml", NULL);
	done(r);
	PARSE(r, S1, "--format", "JSON", "db");
	expect_err(r, PCP_ERR_USAGE, "JSON", NULL);
	done(r);
	PARSE(r, S1, "--sslmode", "require", "db");
	expect_err(r, PCP_ERR_USAGE, "require", NULL);
	done(r);
	PARSE(r, S1, "--color", "sometimes", "db");
	expect_err(r, PCP_ERR_USAGE, "sometimes", NULL);
	done(r);
	PARSE(r, S1, "--at", "2021-02-30", "db");
	expect_err(r, PCP_ERR_USAGE, "2021-02-30", NULL);
	done(r);
	PARSE(r, S1, "--at", "@-5", "db");
	expect_ok(r);
	assert_true(r->s.at_given);
	assert_int_equal(r->s.at, -5);
	done(r);
}

static void test_unknown_and_missing(void **state)
{
	struct run *const r = &the_run;

	(void)state;
	PARSE(r, S1, "--bogus", "db");
	expect_err(r, PCP_ERR_USAGE, "--bogus", NULL);
	done(r);
	PARSE(r, S1, "--bogus=3", "db");
	expect_err(r, PCP_ERR_USAGE, "--bogus", NULL);
	done(r);
	PARSE(r, S1, "-x", "db");
	expect_err(r, PCP_ERR_USAGE, "-x", NULL);
	done(r);
	PARSE(r, S1, "db", "--timeout");
	expect_err(r, PCP_ERR_USAGE, "--timeout", "value", NULL);
	done(r);
	PARSE(r, S1, "db", "-j");
	expect_err(r, PCP_ERR_USAGE, "-j", "value", NULL);
	done(r);
	PARSE(r, "db", "--store");
	expect_err(r, PCP_ERR_USAGE, "--store", "value", NULL);
	done(r);
	PARSE(r, S1, "db", "--config");
	expect_err(r, PCP_ERR_USAGE, "--config", "value", NULL);
	done(r);
}

/* A flag given a value (--help=x) is not "missing a value". */
static void test_flag_with_value(void **state)
{
	struct run *const r = &the_run;

	(void)state;
	PARSE(r, S1, "--version=1", "db");
	expect_err(r, PCP_ERR_USAGE, "--version", NULL);
	if (strstr(r->err.msg, "needs a value"))
		fail_msg("--version=1: misleading message \"%s\"", r->err.msg);
	done(r);
}

static void test_no_targets(void **state)
{
	struct run *const r = &the_run;
	const char *list = write_text("list.txt", "db\n");

	(void)state;
	PARSE(r, S1);
	expect_err(r, PCP_ERR_USAGE, "no targets", NULL);
	done(r);
	PARSE(r, S1, "--timeout", "3");
	expect_err(r, PCP_ERR_USAGE, "no targets", NULL);
	done(r);
	/* a targets file is enough (it is read later, by the runner) */
	PARSE(r, S1, "--targets", list);
	expect_ok(r);
	assert_int_equal(r->s.n_targets, 0);
	assert_int_equal(r->s.n_target_files, 1);
	done(r);
}

static void test_help_version(void **state)
{
	static const char *const flags[] = {"--help", "-h", "--version", "-V"};
	struct run *const r = &the_run;
	char missing[600];

	(void)state;
	/* they work without targets, stores, or a readable configuration */
	snprintf(missing, sizeof missing, "%s/no-such.conf", tmpdir);
	assert_int_equal(setenv("PGCERTPROBE_CONFIG", missing, 1), 0);
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		PARSE(r, flags[i]);
		expect_ok(r);
		assert_true(i < 2 ? r->s.help : r->s.version);
		done(r);
	}
	/* and win over other values */
	PARSE(r, "--timeout", "0", "--help");
	expect_ok(r);
	assert_true(r->s.help);
	done(r);
	PARSE(r, "--config", missing, "-V", "db");
	expect_ok(r);
	assert_true(r->s.version);
	done(r);
}

/* ---- --listen and [module NAME] ---- */

static const struct pcp_module *module_named(const struct run *r, const char *name)
{
	for (size_t i = 0; i < r->s.n_modules; i++)
		if (strcmp(r->s.modules[i].name, name) == 0)
			return &r->s.modules[i];
	fail_msg("no module %s among %zu", name, r->s.n_modules);
	return NULL;
}

static void test_listen_modules(void **state)
{
	struct run *const r = &the_run;
	const struct pcp_module *m;
	char path[600];
	const char *conf = write_text("modules.conf", "[defaults]\n"
	                                              "timeout = 4\n"
	                                              "warn_days = 30\n"
	                                              "concurrency = 7\n"
	                                              "[stores]\n"
	                                              "old = old.pem\n"
	                                              "new = /abs/new.pem\n"
	                                              "both = both.pem\n"
	                                              "[module ca]\n"
	                                              "sslmode = verify-ca\n"
	                                              "stores = new, both\n"
	                                              "[module past]\n"
	                                              "at = 2021-02-14\n"
	                                              "at = now\n"
	                                              "timeout = 2\n"
	                                              "[module  ca]\n"
	                                              "new_store = new\n"
	                                              "negotiation = direct\n"
	                                              "libpq_version = 17\n"
	                                              "driver = pgjdbc\n");

	(void)state;
	PARSE(r, "-c", conf, "--listen", "127.0.0.1:0", "--timeout", "9", "--sslmode", "verify-ca");
	expect_ok(r);
	assert_string_equal(r->s.listen, "127.0.0.1:0");
	/* the command line sets the default module only */
	assert_true(r->s.timeout == 9.0);
	assert_int_equal(r->s.concurrency, 7);
	assert_int_equal(r->s.n_modules, 2);
	assert_string_equal(r->s.modules[0].name, "ca");
	m = module_named(r, "ca");
	assert_int_equal(m->settings.sslmode, PCP_SSLMODE_VERIFY_CA);
	assert_true(m->settings.timeout == 4.0);
	assert_true(m->settings.warn_days == 30.0);
	assert_string_equal(m->settings.new_store, "new");
	assert_int_equal(m->settings.negotiation, PCP_NEGOTIATION_DIRECT);
	assert_int_equal(m->settings.libpq_version, 17);
	assert_int_equal(m->settings.n_drivers, 1);
	assert_string_equal(m->settings.driver_names[0], "pgjdbc");
	assert_int_equal(m->settings.n_stores, 2);
	assert_string_equal(m->settings.stores[0].name, "new");
	assert_string_equal(m->settings.stores[0].path, "/abs/new.pem");
	assert_string_equal(m->settings.stores[1].name, "both");
	m = module_named(r, "past");
	assert_int_equal(m->settings.sslmode, PCP_SSLMODE_VERIFY_FULL);
	assert_int_equal(m->settings.negotiation, PCP_NEGOTIATION_POSTGRES);
	assert_true(m->settings.timeout == 2.0);
	assert_int_equal(m->settings.n_ats, 2);
	assert_int_equal((long long)m->settings.ats[0], 1613260800LL);
	assert_false(m->settings.ats_now[0]);
	assert_true(m->settings.ats_now[1]);
	assert_int_equal(m->settings.n_stores, 3);
	snprintf(path, sizeof path, "%s/old.pem", tmpdir);
	assert_string_equal(m->settings.stores[0].path, path);
	done(r);

	/* a module's Java truststore gets the file's password for it */
	conf = write_text("m-pw.conf", "[stores]\n"
	                               "jks = app.jks\n"
	                               "pem = roots.pem\n"
	                               "[store_password_env]\n"
	                               "jks = APP_PW\n"
	                               "[module a]\n"
	                               "stores = jks\n"
	                               "[module b]\n"
	                               "stores = pem\n");
	PARSE(r, "-c", conf, "--listen", "127.0.0.1:0");
	expect_ok(r);
	m = module_named(r, "a");
	assert_int_equal(m->settings.n_stores, 1);
	assert_int_equal(m->settings.stores[0].pw_source, PCP_PASSWORD_ENV);
	assert_string_equal(m->settings.stores[0].pw, "APP_PW");
	m = module_named(r, "b");
	assert_null(m->settings.stores[0].pw);
	done(r);

	/* a command-line run keeps modules unbuilt (and unchecked beyond their lines) */
	PARSE(r, "-c", conf, "db");
	expect_ok(r);
	assert_int_equal(r->s.n_modules, 0);
	assert_null(r->s.listen);
	done(r);
}

static void test_listen_usage(void **state)
{
	struct run *const r = &the_run;

	(void)state;
	PARSE(r, S1, "--listen", ":9999", "db");
	expect_err(r, PCP_ERR_USAGE, "--listen", "/probe", NULL);
	done(r);
	PARSE(r, S1, "--listen", ":9999", "--targets", "list.txt");
	expect_err(r, PCP_ERR_USAGE, "--listen", NULL);
	done(r);
	PARSE(r, S1, "--listen", ":9999", "--format", "json");
	expect_err(r, PCP_ERR_USAGE, "--format", "exporter", NULL);
	done(r);
	PARSE(r, S1, "--listen", ":9999", "--require", "a");
	expect_err(r, PCP_ERR_USAGE, "--require", NULL);
	done(r);
	PARSE(r, S1, "--listen", ":9999", "--client-driver", "pgx");
	expect_err(r, PCP_ERR_USAGE, "--client-driver", NULL);
	done(r);
	PARSE(r, S1, "--listen", "");
	expect_err(r, PCP_ERR_USAGE, "--listen", NULL);
	done(r);
	PARSE(r, "--listen", ":9999");
	expect_err(r, PCP_ERR_CONFIG, "no trust stores", NULL);
	done(r);
	/* the file's run-level keys are simply not used */
	PARSE(r, "-c", write_text("runlevel.conf", "[defaults]\nformat = json\n"), S1, "--listen",
	      ":9999");
	expect_ok(r);
	done(r);
}

static void test_module_errors(void **state)
{
	/* listen: parsed with --listen (modules built), else as a command-line run (each line
	 * still checked). The words are those the message must hold. */
	static const struct {
		const char *file, *text;
		bool listen;
		const char *words[3];
	} cases[] = {
	        {"m-key.conf",
	         "[stores]\na = a.pem\n[module x]\nconcurrency = 3\n",
	         true,
	         {"m-key.conf:4:", "concurrency", "[module x]"}},
	        {"m-value.conf",
	         "[stores]\na = a.pem\n[module x]\nsslmode = require\n",
	         false,
	         {"m-value.conf:4:", "require"}},
	        {"m-name.conf",
	         "[stores]\na = a.pem\n[module a/b]\ntimeout = 1\n",
	         false,
	         {"m-name.conf:4:", "a/b"}},
	        {"m-empty.conf",
	         "[stores]\na = a.pem\n[module x]\nstores = , \n",
	         false,
	         {"m-empty.conf:4:", "empty"}},
	        {"m-store.conf",
	         "[stores]\na = a.pem\n[module x]\nstores = a, zz\n",
	         true,
	         {"m-store.conf", "[module x]", "\"zz\""}},
	        {"m-old.conf",
	         "[stores]\na = a.pem\n[module x]\nold_store = b\n",
	         true,
	         {"[module x]", "old_store b"}},
	        /* modules draw on the file's stores only */
	        {"m-nostores.conf", "[module x]\ntimeout = 1\n", true, {"[module x]", "no stores"}},
	};
	struct run *const r = &the_run;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *conf = write_text(cases[i].file, cases[i].text);

		if (cases[i].listen)
			PARSE(r, "-c", conf, S1, "--listen", ":1");
		else
			PARSE(r, "-c", conf, S1, "db");
		expect_err(r, PCP_ERR_CONFIG, cases[i].words[0], cases[i].words[1],
		           cases[i].words[2], NULL);
		done(r);
	}
}

static void test_usage_text(void **state)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	static const char *const names[] = {
	        "--targets", "--store",       "--sslmode", "--at",      "--format",
	        "--timeout", "--concurrency", "--config",  "--require", "--save-chains",
	        "--help",    "--version",     "64",        "66",        "78"};

	(void)state;
	assert_non_null(f);
	pcp_cli_usage(f);
	assert_int_equal(fclose(f), 0);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strstr(buf, names[i]))
			fail_msg("--help does not mention %s", names[i]);
	free(buf);
}

/* pcp_cli_parse must not depend on what an earlier call left in getopt's state: after
 * "-qV" stops at the unknown -q, a new parse must not see the rest ("V") of the old
 * argument. (glibc reinitialises only when optind is set to 0.) */
static void test_shard_values(void **state)
{
	static const char *const bad[] = {"",     "1",    "1/",        "/2",
	                                  "2/2",  "-1/2", "1/0",       "1/-3",
	                                  "1/2x", "x1/2", "0/1000001", "99999999999999999999/2"};
	struct pcp_error err = {0};
	unsigned k = 9, n = 9;

	(void)state;
	assert_int_equal(pcp_cli_parse_shard("0/1", &k, &n, &err), PCP_OK);
	assert_true(k == 0 && n == 1);
	assert_int_equal(pcp_cli_parse_shard("999999/1000000", &k, &n, &err), PCP_OK);
	assert_true(k == 999999 && n == 1000000);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char quoted[64];

		memset(&err, 0, sizeof err);
		if (pcp_cli_parse_shard(bad[i], &k, &n, &err) != PCP_ERR_USAGE)
			fail_msg("--shard \"%s\" accepted", bad[i]);
		snprintf(quoted, sizeof quoted, "\"%s\"", bad[i]);
		if (!strstr(err.msg, quoted))
			fail_msg("message for \"%s\" does not name it: %s", bad[i], err.msg);
	}
}

/* A bad --dns-server is a usage error when the options are read, as a bad --resolve is,
 * from the command line and from the configuration file alike. */
static void test_dns_server_checked(void **state)
{
	struct run *const r = &the_run;
	const char *conf = write_text("bad-dns.conf", "[defaults]\ndns_server = dns.example\n");

	(void)state;
	PARSE(r, S1, "--dns-server", "[::1]:5353", "db");
	expect_ok(r);
	assert_string_equal(r->s.dns_server, "[::1]:5353");
	done(r);
	PARSE(r, S1, "--dns-server", "1.2.3.4:99999", "db");
	expect_err(r, PCP_ERR_USAGE, "--dns-server", "\"1.2.3.4:99999\"", NULL);
	done(r);
	PARSE(r, "-c", conf, S1, "db");
	expect_err(r, PCP_ERR_CONFIG, "bad-dns.conf:2:", "dns.example", NULL);
	done(r);
}

/* A bundle of short flags is one option per letter, more options than arguments: found by
 * fuzz_options as "-c FILE -4444...4 --new-store -h" (a heap overflow in pcp_cli_parse). */
static void test_short_flag_bundle(void **state)
{
	struct run *const r = &the_run;
	char bundle[202];

	(void)state;
	bundle[0] = '-';
	memset(bundle + 1, '4', sizeof bundle - 2);
	bundle[sizeof bundle - 1] = '\0';
	PARSE(r, S1, bundle, "-64", "db");
	expect_ok(r);
	assert_int_equal(r->s.family, AF_INET);
	assert_int_equal(r->s.n_targets, 1);
	done(r);
}

static void test_parse_is_repeatable(void **state)
{
	struct run *const r = &the_run;

	(void)state;
	PARSE(r, "-qV");
	expect_err(r, PCP_ERR_USAGE, "-q", NULL);
	done(r);
	/* no reset_getopt() here: pcp_cli_parse must do it itself */
	run_argv(r, (const char *const[]){S1, "db", NULL});
	expect_ok(r);
	assert_false(r->s.version);
	assert_int_equal(r->s.n_targets, 1);
	done(r);
}

int main(void)
{
	const struct CMUnitTest times[] = {
	        cmocka_unit_test(test_time_rfc3339),
	        cmocka_unit_test(test_time_offsets),
	        cmocka_unit_test(test_time_fractional),
	        cmocka_unit_test(test_time_date_and_unix),
	        cmocka_unit_test(test_time_invalid),
	        cmocka_unit_test(test_time_offset_out_of_range),
	        cmocka_unit_test(test_time_just_before_epoch),
	};
	const struct CMUnitTest parse[] = {
	        cmocka_unit_test_setup_teardown(test_parse_minimal, test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(test_parse_all_options, test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(test_parse_double_dash_and_order, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_store_values, test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(test_store_errors, test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(test_store_passwords, test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(test_hide_passwords, test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(test_config_store_passwords, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_config_defaults_and_stores, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_config_overridden_by_command_line, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_config_require_overridden, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_config_errors, test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(test_config_empty_store_path, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_config_error_line_matches_message, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_config_long_lines, test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(test_config_file_errors, test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(test_config_key_without_value, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_config_is_directory, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_no_stores, test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(test_require, test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(test_concurrency_values, test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(test_timeout_values, test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(test_format_sslmode_color_at, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_unknown_and_missing, test_setup,
	                                        test_teardown),
	        cmocka_unit_test_setup_teardown(test_flag_with_value, test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(test_no_targets, test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(test_help_version, test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(test_listen_modules, test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(test_listen_usage, test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(test_module_errors, test_setup, test_teardown),
	        cmocka_unit_test(test_usage_text),
	        cmocka_unit_test(test_shard_values),
	        cmocka_unit_test_setup_teardown(test_dns_server_checked, test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(test_short_flag_bundle, test_setup, test_teardown),
	        cmocka_unit_test_setup_teardown(test_parse_is_repeatable, test_setup,
	                                        test_teardown),
	};
	int failed = cmocka_run_group_tests_name("cli_time", times, NULL, NULL);

	failed += cmocka_run_group_tests_name("cli_parse", parse, group_setup, group_teardown);
	return failed ? 1 : 0;
}
