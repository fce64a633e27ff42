/* spawn: runs one command for bench/run.py and writes that process's own rusage to a file.
 * Why not os.wait4 in Python: a child exec'd from a vfork or fork of the 20+ MB Python
 * process inherits that process's high-water RSS in ru_maxrss; forked from this small
 * program instead, the prober's ru_maxrss is its own. Usage: spawn OUT -- CMD [ARG...] */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static long long usec(struct timeval tv)
{
	return (long long)tv.tv_sec * 1000000LL + tv.tv_usec;
}

int main(int argc, char **argv)
{
	struct rusage ru;
	pid_t pid, parent = getppid();
	int status;
	FILE *f;

	if (argc < 4 || strcmp(argv[2], "--") != 0) {
		fputs("usage: spawn OUT -- CMD [ARG...]\n", stderr);
		return 64;
	}
	/* The bench going away takes us, and with us the command, along. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		return 70;
	pid = fork();
	if (pid < 0) {
		perror("spawn: fork");
		return 71;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execvp(argv[3], argv + 3);
		fprintf(stderr, "spawn: %s: %s\n", argv[3], strerror(errno));
		_exit(127);
	}
	/* The bench signals our process group: the command gets it too, and we wait for its
	 * end to report its usage. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR) {
			perror("spawn: wait4");
			return 71;
		}
	if (!(f = fopen(argv[1], "w")))
		return 73;
	fprintf(f, "utime_us=%lld stime_us=%lld maxrss_kb=%ld status=%d\n", usec(ru.ru_utime),
	        usec(ru.ru_stime), ru.ru_maxrss, status);
	if (fclose(f) != 0)
		return 74;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
