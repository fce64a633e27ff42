/* The INI configuration file (--config FILE): pcp_config_read's lines, sections, comments
 * and limits, and every [defaults] and [stores] key through the option table's setters, as
 * pcp_cli_parse applies them (then its cross-checks: stores named by require, old_store,
 * new_store). Input: the file's contents. */
#include <string.h>

#include "cli.h"
#include "fuzzutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcp_settings s;
	struct pcp_error err = {0};
	struct fuzz_file f;
	char *argv[5] = {"pgcertprobe", "--config", NULL, "db.example.com", NULL};
	enum pcp_errc rc;

	if (fuzz_file_open(&f, data, size) != 0)
		return 0;
	argv[2] = f.path;
	pcp_settings_init(&s);
	rc = pcp_cli_parse(4, argv, &s, &err);
	FUZZ_CHECK(rc == PCP_OK || err.msg[0]);
	FUZZ_CHECK(rc == PCP_OK || rc == PCP_ERR_USAGE || rc == PCP_ERR_CONFIG ||
	           rc == PCP_ERR_INPUT || rc == PCP_ERR_SYSTEM);
	if (rc == PCP_OK) {
		FUZZ_CHECK(s.n_stores > 0 && s.timeout > 0 && s.concurrency >= 1);
		for (size_t i = 0; i < s.n_stores; i++)
			FUZZ_CHECK(s.stores[i].name[0] && s.stores[i].path[0]);
	}
	pcp_settings_cleanup(&s);
	fuzz_file_close(&f);
	return 0;
}
