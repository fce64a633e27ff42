/* Helpers shared by the libFuzzer harnesses (see fuzzutil.h). */
#include "fuzzutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
	abort();
}

int fuzz_file_open(struct fuzz_file *f, const void *data, size_t size)
{
	const char *p = data;

	f->fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (f->fd < 0)
		return -1;
	while (size > 0) {
		ssize_t n = write(f->fd, p, size);

		if (n <= 0) {
			close(f->fd);
			return -1;
		}
		p += n;
		size -= (size_t)n;
	}
	snprintf(f->path, sizeof f->path, "/proc/self/fd/%d", f->fd);
	return 0;
}

void fuzz_file_close(struct fuzz_file *f)
{
	close(f->fd);
	f->fd = -1;
}

char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}
