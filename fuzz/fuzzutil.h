/* Helpers shared by the libFuzzer harnesses: the entry point's prototype, and fuzz input
 * handed to parsers that only read from a path (an in-memory file, no disk). */
#ifndef PCP_FUZZUTIL_H
#define PCP_FUZZUTIL_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property every input must keep: on failure, says which and aborts (a finding). Unlike
 * assert, never compiled out. */
#define FUZZ_CHECK(cond) ((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond))
_Noreturn void fuzz_fail(const char *file, int line, const char *what);

/* An anonymous in-memory file holding data, and its path (/proc/self/fd/N). */
struct fuzz_file {
	int fd;
	char path[32];
};

/* Returns 0, or -1 when the file cannot be made (the harness then skips the input). */
int fuzz_file_open(struct fuzz_file *f, const void *data, size_t size);
void fuzz_file_close(struct fuzz_file *f);

/* A NUL-terminated copy of data (malloc'd; NULL on allocation failure). */
char *fuzz_strndup(const uint8_t *data, size_t size);

#endif
