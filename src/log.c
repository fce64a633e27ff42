/* stderr diagnostics, prefixed with the program name so they stand out in cron mail.
 * Messages often quote untrusted text (target lines, server replies): control characters
 * bidirectional overrides and invalid UTF-8 are replaced so they cannot drive or reorder
 * the terminal. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

#include "utf8.h"

static void put_sanitised(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = pcp_utf8_decode((const unsigned char *)s + i, len - i, &cp);

		if (n == 0 || pcp_utf8_unsafe(cp)) {
			fputc('?', stderr);
			i += n ? n : 1;
			continue;
		}
		fwrite(s + i, 1, n, stderr);
		i += n;
	}
}

static void vlog(const char *level, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));

static void vlog(const char *level, const char *fmt, va_list ap)
{
	char buf[2048];
	int n = vsnprintf(buf, sizeof buf, fmt, ap);

	if (n < 0)
		return;
	fprintf(stderr, "pgcertprobe: %s", level);
	put_sanitised(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
	fputc('\n', stderr);
}

void pcp_log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
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
