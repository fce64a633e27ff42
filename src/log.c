/* stderr diagnostics, prefixed with the program name so they stand out in cron mail. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static void vlog(const char *level, const char *fmt, va_list ap)
{
	fprintf(stderr, "pgcertprobe: %s", level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void pcp_log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void pcp_log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}
