/* The output file (see output.h): mkstemp beside the destination, then fflush + fsync +
 * rename, the usual atomic replace; the directory is synced too so the rename survives a
 * crash. Only main.c uses it; writers just get the FILE. */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum pcp_errc pcp_output_open(struct pcp_output *o, const char *path, struct pcp_error *err)
{
	static const char suffix[] = ".tmp.XXXXXX";
	size_t len;
	mode_t mask;
	int fd;

	struct stat st;

	memset(o, 0, sizeof *o);
	if (!path) {
		o->f = stdout;
		return PCP_OK;
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return pcp_error_set(err, PCP_ERR_USAGE, "--output %s: is a directory", path);
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (!(o->path = strdup(path)))
			return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
		if (!(o->f = fopen(path, "w"))) {
			int e = errno;

			pcp_output_abort(o);
			return pcp_error_set(err, PCP_ERR_USAGE, "--output %s: %s", path,
			                     strerror(e));
		}
		return PCP_OK;
	}
	len = strlen(path);
	if (!(o->path = strdup(path)) || !(o->tmp = malloc(len + sizeof suffix))) {
		pcp_output_abort(o);
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	}
	memcpy(o->tmp, path, len);
	memcpy(o->tmp + len, suffix, sizeof suffix);
	if ((fd = mkstemp(o->tmp)) < 0) {
		int e = errno;

		free(o->tmp);
		o->tmp = NULL;
		pcp_output_abort(o);
		return pcp_error_set(err, PCP_ERR_USAGE, "--output %s: cannot create %s%s: %s",
		                     path, path, suffix, strerror(e));
	}
	/* umask() only reads by writing: set it back at once (single-threaded here). */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) != 0 || !(o->f = fdopen(fd, "w"))) {
		int e = errno;

		if (!o->f)
			close(fd);
		pcp_output_abort(o);
		return pcp_error_set(err, PCP_ERR_USAGE, "--output %s: %s", path, strerror(e));
	}
	return PCP_OK;
}

/* Best effort: a directory that cannot be synced still got the rename. */
static void sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd;

	if (!copy)
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

enum pcp_errc pcp_output_commit(struct pcp_output *o, struct pcp_error *err)
{
	int e = 0;

	if (!o->f)
		return pcp_error_set(err, PCP_ERR_SYSTEM, "%s: nothing to commit", o->path);
	errno = 0;
	if (!o->tmp) {
		/* Standard output or a file written directly: only flush and check. */
		if (fflush(o->f) != 0 || ferror(o->f))
			e = errno ? errno : EIO;
		if (o->f != stdout && fclose(o->f) != 0 && !e)
			e = errno;
		if (o->f != stdout)
			o->f = NULL;
		if (e)
			return pcp_error_set(err, PCP_ERR_SYSTEM, "cannot write %s: %s",
			                     o->path ? o->path : "standard output", strerror(e));
		return PCP_OK;
	}
	if (fflush(o->f) != 0 || ferror(o->f) || fsync(fileno(o->f)) != 0)
		e = errno ? errno : EIO;
	if (fclose(o->f) != 0 && !e)
		e = errno;
	o->f = NULL;
	if (!e && rename(o->tmp, o->path) != 0)
		e = errno;
	if (e) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "cannot write %s: %s", o->path, strerror(e));
		pcp_output_abort(o);
		return PCP_ERR_SYSTEM;
	}
	free(o->tmp);
	o->tmp = NULL;
	sync_dir(o->path);
	return PCP_OK;
}

void pcp_output_abort(struct pcp_output *o)
{
	if (o->f == stdout)
		fflush(stdout);
	else if (o->f)
		fclose(o->f);
	if (o->tmp)
		unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof *o);
}
