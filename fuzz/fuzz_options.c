/* Option values: --at (pcp_cli_parse_time), --resolve (pcp_resolve_spec_check),
 * --dns-server (pcp_resolve_server_check), --shard (pcp_cli_parse_shard), --require
 * STORE@TIME (pcp_settings_add_require), and whole command lines through pcp_cli_parse.
 * Input: one byte choosing the parser, then the value; for a command line, the
 * arguments separated by NUL bytes (the configuration file is an empty one). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fuzzutil.h"
#include "resolve.h"

#define MAX_ARGS 32

static void command_line(const uint8_t *data, size_t size)
{
	char *buf = fuzz_strndup(data, size), *argv[MAX_ARGS + 4];
	struct pcp_settings s;
	struct pcp_error err = {0};
	struct fuzz_file empty;
	int argc = 0;
	enum pcp_errc rc;

	if (!buf)
		return;
	if (fuzz_file_open(&empty, "", 0) != 0) {
		free(buf);
		return;
	}
	argv[argc++] = "pgcertprobe";
	argv[argc++] = "--config";
	argv[argc++] = empty.path;
	for (char *p = buf; p < buf + size && argc < MAX_ARGS + 3; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	pcp_settings_init(&s);
	rc = pcp_cli_parse(argc, argv, &s, &err);
	FUZZ_CHECK(rc == PCP_OK || err.msg[0]);
	if (rc == PCP_OK && !s.help && !s.version) {
		FUZZ_CHECK(s.n_stores > 0 && s.n_ats <= PCP_MAX_INSTANTS);
		FUZZ_CHECK(s.shard_n == 0 || s.shard_k < s.shard_n);
	}
	pcp_settings_cleanup(&s);
	fuzz_file_close(&empty);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcp_error err = {0};
	struct pcp_settings s;
	char *v;
	time_t t;
	unsigned k, n;

	if (size == 0)
		return 0;
	if (data[0] % 6 == 5) {
		command_line(data + 1, size - 1);
		return 0;
	}
	if (!(v = fuzz_strndup(data + 1, size - 1)))
		return 0;
	switch (data[0] % 6) {
	case 0:
		FUZZ_CHECK(pcp_cli_parse_time(v, &t, &err) == PCP_OK || err.msg[0]);
		break;
	case 1:
		FUZZ_CHECK(pcp_resolve_spec_check(v, &err) == PCP_OK || err.msg[0]);
		break;
	case 2:
		FUZZ_CHECK(pcp_resolve_server_check(v, &err) == PCP_OK || err.msg[0]);
		break;
	case 3:
		if (pcp_cli_parse_shard(v, &k, &n, &err) == PCP_OK)
			FUZZ_CHECK(k < n && n <= 1000000);
		else
			FUZZ_CHECK(err.msg[0]);
		break;
	case 4:
		pcp_settings_init(&s);
		if (pcp_settings_add_require(&s, v, &err) == PCP_OK)
			FUZZ_CHECK(s.n_require == 1 && s.require[0].store[0] &&
			           strlen(s.require[0].store) <= strlen(v));
		else
			FUZZ_CHECK(err.msg[0]);
		pcp_settings_cleanup(&s);
		break;
	}
	free(v);
	return 0;
}
