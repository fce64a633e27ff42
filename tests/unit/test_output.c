/* Unit tests of the output module (--output): the temporary file sits beside the
 * destination and is invisible under the final name until commit, commit replaces the file
 * whole with the umask's mode, abort removes the temporary file and keeps the previous one,
 * and a directory that does not exist is a usage error naming the file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"

struct dir {
	char path[64];
	char file[128];
};

static void make_dir(struct dir *d)
{
	snprintf(d->path, sizeof d->path, "/tmp/pcp-output-XXXXXX");
	assert_non_null(mkdtemp(d->path));
	snprintf(d->file, sizeof d->file, "%s/out.prom", d->path);
}

/* Number of entries in the directory (without . and ..). */
static int entries(const struct dir *d)
{
	DIR *dp = opendir(d->path);
	struct dirent *e;
	int n = 0;

	assert_non_null(dp);
	while ((e = readdir(dp)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(dp);
	return n;
}

static char *slurp(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void remove_dir(struct dir *d)
{
	unlink(d->file);
	assert_int_equal(rmdir(d->path), 0); /* fails when something was left behind */
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void test_commit_replaces(void **state)
{
	struct pcp_output o;
	struct pcp_error err = {0};
	struct dir d;
	struct stat st;
	mode_t mask = umask(022);

	(void)state;
	make_dir(&d);
	write_file(d.file, "previous\n");
	assert_int_equal(pcp_output_open(&o, d.file, &err), PCP_OK);
	assert_non_null(o.f);
	assert_ptr_not_equal(o.f, stdout);
	assert_int_equal(strncmp(o.tmp, d.file, strlen(d.file)), 0);
	assert_int_equal(strncmp(o.tmp + strlen(d.file), ".tmp.", 5), 0);
	fputs("new contents\n", o.f);
	fflush(o.f);
	assert_string_equal(slurp(d.file), "previous\n"); /* not visible before commit */
	assert_int_equal(entries(&d), 2);
	assert_int_equal(pcp_output_commit(&o, &err), PCP_OK);
	assert_string_equal(slurp(d.file), "new contents\n");
	assert_int_equal(entries(&d), 1);
	assert_int_equal(stat(d.file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	pcp_output_abort(&o); /* after commit: only frees */
	assert_string_equal(slurp(d.file), "new contents\n");
	remove_dir(&d);
	umask(mask);
}

static void test_abort_keeps_previous(void **state)
{
	struct pcp_output o;
	struct pcp_error err = {0};
	struct dir d;

	(void)state;
	make_dir(&d);
	write_file(d.file, "previous\n");
	assert_int_equal(pcp_output_open(&o, d.file, &err), PCP_OK);
	fputs("half a run", o.f);
	pcp_output_abort(&o);
	assert_null(o.f);
	assert_null(o.tmp);
	assert_string_equal(slurp(d.file), "previous\n");
	assert_int_equal(entries(&d), 1);
	pcp_output_abort(&o); /* twice is fine */
	remove_dir(&d);
}

static void test_missing_directory(void **state)
{
	struct pcp_output o;
	struct pcp_error err = {0};

	(void)state;
	assert_int_equal(pcp_output_open(&o, "/nonexistent-pcp-dir/out.prom", &err), PCP_ERR_USAGE);
	assert_non_null(strstr(err.msg, "/nonexistent-pcp-dir/out.prom"));
	assert_non_null(strstr(err.msg, "No such file or directory"));
	assert_null(o.f);
	pcp_output_abort(&o);
}

/* A directory is refused at once; one that appears while the run writes makes the rename
 * fail: an error naming it, no temporary file left. */
static void test_commit_failure(void **state)
{
	struct pcp_output o;
	struct pcp_error err = {0};
	char inside[512];
	struct dir d;

	(void)state;
	make_dir(&d);
	assert_int_equal(mkdir(d.file, 0755), 0);
	assert_int_equal(pcp_output_open(&o, d.file, &err), PCP_ERR_USAGE);
	assert_non_null(strstr(err.msg, "directory"));
	assert_int_equal(rmdir(d.file), 0);
	assert_int_equal(pcp_output_open(&o, d.file, &err), PCP_OK);
	assert_int_equal(mkdir(d.file, 0755), 0);
	snprintf(inside, sizeof inside, "%s/keep", d.file);
	assert_int_equal(mkdir(inside, 0755), 0);
	fputs("x", o.f);
	assert_int_equal(pcp_output_commit(&o, &err), PCP_ERR_SYSTEM);
	assert_non_null(strstr(err.msg, d.file));
	assert_int_equal(entries(&d), 1);
	pcp_output_abort(&o);
	assert_int_equal(rmdir(inside), 0);
	assert_int_equal(rmdir(d.file), 0);
	remove_dir(&d);
}

static void test_stdout(void **state)
{
	struct pcp_output o;
	struct pcp_error err = {0};

	(void)state;
	assert_int_equal(pcp_output_open(&o, NULL, &err), PCP_OK);
	assert_ptr_equal(o.f, stdout);
	assert_null(o.tmp);
	assert_int_equal(pcp_output_commit(&o, &err), PCP_OK);
	pcp_output_abort(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_commit_replaces),
	        cmocka_unit_test(test_abort_keeps_previous),
	        cmocka_unit_test(test_missing_directory),
	        cmocka_unit_test(test_commit_failure),
	        cmocka_unit_test(test_stdout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
