/* A targets file (--targets FILE): lines read by pcp_target_reader (comments, blank lines,
 * CR LF, NUL and control bytes, over-long lines), and every usable line expanded as the
 * runner does. Input: the file's contents. */
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct pcp_target_env env = {.sysconfdir = "/nonexistent",
	                                          .home = "/nonexistent"};
	struct pcp_target_reader r;
	struct fuzz_file f;
	struct pcp_error err = {0};
	const char *line, *bad;
	unsigned long last = 0;
	int got;

	if (fuzz_file_open(&f, data, size) != 0)
		return 0;
	FUZZ_CHECK(pcp_target_reader_open(&r, f.path, &err) == PCP_OK);
	while ((got = pcp_target_reader_next(&r, &line, &bad, &err)) == 1) {
		struct pcp_target *t = NULL;
		size_t n = 0, len = strlen(line);

		FUZZ_CHECK(r.lineno > last && r.lineno <= size + 1);
		last = r.lineno;
		FUZZ_CHECK(len <= PCP_TARGET_LINE_MAX);
		if (bad)
			continue;
		FUZZ_CHECK(len > 0 && line[0] != '#' && line[0] != ' ' && line[len - 1] != ' ');
		for (size_t i = 0; i < len; i++)
			FUZZ_CHECK((unsigned char)line[i] >= 0x20 || line[i] == '\t');
		pcp_target_expand(line, &env, &t, &n, &err);
		for (size_t i = 0; i < n; i++)
			pcp_target_cleanup(&t[i]);
		free(t);
	}
	FUZZ_CHECK(got == 0);
	pcp_target_reader_close(&r);
	fuzz_file_close(&f);
	return 0;
}
