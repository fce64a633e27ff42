/* Target text as a user or a targets file gives it (pcp_target_expand): host[:port],
 * [v6]:port, libpq connection strings and URIs, service= lookups, host lists, and the
 * password masking of the text every record repeats.
 * Input: the target text, then optionally a NUL byte and a service file's contents (used
 * as PGSERVICEFILE). Each text is expanded twice, without and with the per-run service
 * cache, and both must agree; a password libpq would read must not survive masking. */
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "targets.h"

static void check(enum pcp_errc rc, const struct pcp_target *t, size_t n,
                  const struct pcp_error *err)
{
	FUZZ_CHECK(rc == PCP_OK || rc == PCP_ERR_TARGET || rc == PCP_ERR_SYSTEM);
	if (rc == PCP_ERR_SYSTEM)
		return;
	FUZZ_CHECK(t && n >= 1 && t[0].text);
	if (rc == PCP_ERR_TARGET) {
		FUZZ_CHECK(n == 1 && err->msg[0]);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(t[i].text && strcmp(t[i].text, t[0].text) == 0);
		FUZZ_CHECK((t[i].host || t[i].hostaddr) && t[i].port >= 1);
	}
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static void check_same(const struct pcp_target *a, size_t na, const struct pcp_target *b, size_t nb)
{
	FUZZ_CHECK(na == nb);
	for (size_t i = 0; i < na; i++) {
		FUZZ_CHECK(same_str(a[i].text, b[i].text) && same_str(a[i].host, b[i].host));
		FUZZ_CHECK(same_str(a[i].hostaddr, b[i].hostaddr));
		FUZZ_CHECK(same_str(a[i].sslrootcert, b[i].sslrootcert));
		FUZZ_CHECK(a[i].port == b[i].port && a[i].client_sslmode == b[i].client_sslmode);
	}
}

/* libpq's reading of the "password" keyword: NULL when absent or unparsable. */
static char *password_of(const char *text)
{
	PQconninfoOption *opts = PQconninfoParse(text, NULL);
	char *pw = NULL;

	for (PQconninfoOption *o = opts; o && o->keyword; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val && *o->val)
			pw = strdup(o->val);
	PQconninfoFree(opts);
	return pw;
}

/* A connection string libpq reads a password from must, once masked, read as "***" and
 * nothing else: no part of the password, and no other value taken for one. */
static void check_masked(const char *text, const char *masked)
{
	char *pw = password_of(text), *after;

	if (!pw)
		return;
	after = password_of(masked);
	FUZZ_CHECK(after && strcmp(after, "***") == 0);
	free(after);
	free(pw);
}

static void free_targets(struct pcp_target *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pcp_target_cleanup(&t[i]);
	free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t tlen = nul ? (size_t)(nul - data) : size;
	struct pcp_target_env env = {.sysconfdir = "/nonexistent", .home = "/nonexistent"};
	struct fuzz_file svc = {.fd = -1};
	struct pcp_target *t1 = NULL, *t2 = NULL;
	size_t n1 = 0, n2 = 0;
	struct pcp_error e1 = {0}, e2 = {0};
	enum pcp_errc rc1, rc2;
	char *text = fuzz_strndup(data, tlen);

	if (!text)
		return 0;
	if (nul && fuzz_file_open(&svc, nul + 1, size - tlen - 1) == 0)
		env.servicefile = svc.path;
	rc1 = pcp_target_expand(text, &env, &t1, &n1, &e1);
	check(rc1, t1, n1, &e1);
	if (rc1 == PCP_OK || rc1 == PCP_ERR_TARGET)
		check_masked(text, t1[0].text);
	if ((env.services = pcp_service_cache_new())) {
		rc2 = pcp_target_expand(text, &env, &t2, &n2, &e2);
		if (rc1 != PCP_ERR_SYSTEM && rc2 != PCP_ERR_SYSTEM) {
			FUZZ_CHECK(rc1 == rc2 && strcmp(e1.msg, e2.msg) == 0);
			check_same(t1, n1, t2, n2);
		}
		free_targets(t2, n2);
		pcp_service_cache_free(env.services);
	}
	free_targets(t1, n1);
	if (svc.fd >= 0)
		fuzz_file_close(&svc);
	free(text);
	return 0;
}
