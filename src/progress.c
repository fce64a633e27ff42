/* The terminal progress line: counts and the caller's clock in, one line out on stderr
 * rewritten with "\r" and cleared with an ANSI erase-line. Pure bookkeeping plus writes to
 * the stream; the caller decides whether that stream is a terminal. */
#include "progress.h"

#include <stdlib.h>

#define MIN_RUN_SECONDS 1.0 /* a run shorter than this never shows a line */
#define MIN_INTERVAL    0.1 /* seconds between two redraws: at most ten a second */

#define ERASE_LINE "\033[K"

struct pcp_progress {
	FILE *out; /* borrowed */
	bool enabled;
	bool started;
	bool shown; /* a line is on the terminal now */
	double start, last_draw;
};

struct pcp_progress *pcp_progress_new(FILE *out, bool enabled)
{
	struct pcp_progress *p = calloc(1, sizeof *p);

	if (!p)
		return NULL;
	p->out = out;
	p->enabled = enabled && out != NULL;
	return p;
}

/* "~12s", "~3m05s", "~2h04m": the time left, rounded up to the unit shown. */
static void print_left(FILE *out, double seconds)
{
	unsigned long s = seconds < 0             ? 0
	                  : seconds > 359999999.0 ? 359999999ul
	                                          : (unsigned long)(seconds + 0.999);

	if (s < 60)
		fprintf(out, ", ~%lus left", s);
	else if (s < 3600)
		fprintf(out, ", ~%lum%02lus left", s / 60, s % 60);
	else
		fprintf(out, ", ~%luh%02lum left", s / 3600, s / 60 % 60);
}

void pcp_progress_update(struct pcp_progress *p, size_t done, size_t failed, size_t total,
                         double now)
{
	if (!p || !p->enabled)
		return;
	if (!p->started) {
		p->started = true;
		p->start = now;
		return;
	}
	double elapsed = now - p->start;
	if (elapsed < MIN_RUN_SECONDS || (p->shown && now - p->last_draw < MIN_INTERVAL))
		return;
	double rate = done / elapsed;

	fputc('\r', p->out);
	if (total)
		fprintf(p->out, "%zu/%zu done", done, total);
	else
		fprintf(p->out, "%zu done", done);
	fprintf(p->out, rate < 10 ? ", %.1f/s" : ", %.0f/s", rate);
	fprintf(p->out, ", %zu failed", failed);
	/* Time left only once the total is known and something is done to estimate from. */
	if (total && done && done < total)
		print_left(p->out, (double)(total - done) / rate);
	fputs(ERASE_LINE, p->out);
	fflush(p->out);
	p->shown = true;
	p->last_draw = now;
}

void pcp_progress_finish(struct pcp_progress *p)
{
	if (!p || !p->shown)
		return;
	fputs("\r" ERASE_LINE, p->out);
	fflush(p->out);
	p->shown = false;
}

void pcp_progress_free(struct pcp_progress *p)
{
	pcp_progress_finish(p);
	free(p);
}
