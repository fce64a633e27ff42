/* JSON output helpers for the writers: string escaping that turns arbitrary bytes
 * (certificate fields, server texts) into valid JSON and valid UTF-8, and RFC 3339 UTC
 * timestamps. Pure functions over a FILE; no state. */
#include "json.h"
#include "utf8.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void pcp_json_string(FILE *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0; /* start of the pending run of bytes that need no escaping */
	size_t i = 0;

	putc('"', out);
	while (i < len) {
		uint32_t cp = 0;
		size_t n = pcp_utf8_decode(p + i, len - i, &cp);
		const char *esc = NULL;
		char buf[8];

		if (n == 0) {
			esc = "\\ufffd"; /* one replacement per invalid byte */
			n = 1;
		} else if (cp == '"') {
			esc = "\\\"";
		} else if (cp == '\\') {
			esc = "\\\\";
		} else if (cp == '\b') {
			esc = "\\b";
		} else if (cp == '\f') {
			esc = "\\f";
		} else if (cp == '\n') {
			esc = "\\n";
		} else if (cp == '\r') {
			esc = "\\r";
		} else if (cp == '\t') {
			esc = "\\t";
		} else if (cp < 0x20 || cp == 0x7F) {
			/* DEL is legal JSON, but escaping it keeps terminals showing the output
			 * sane. */
			snprintf(buf, sizeof buf, "\\u%04x", (unsigned)cp);
			esc = buf;
		} else if (cp == 0x2028 || cp == 0x2029) {
			/* Valid JSON, but line terminators in JavaScript string literals. */
			snprintf(buf, sizeof buf, "\\u%04x", (unsigned)cp);
			esc = buf;
		}
		if (esc) {
			if (i > run)
				fwrite(p + run, 1, i - run, out);
			fputs(esc, out);
			i += n;
			run = i;
		} else {
			i += n;
		}
	}
	if (i > run)
		fwrite(p + run, 1, i - run, out);
	putc('"', out);
}

void pcp_json_cstr(FILE *out, const char *s)
{
	if (!s) {
		fputs("null", out);
		return;
	}
	pcp_json_string(out, s, strlen(s));
}

void pcp_format_time(time_t t, char *buf, size_t len)
{
	struct tm tm;
	bool ok = gmtime_r(&t, &tm) != NULL;
	long year = ok ? (long)tm.tm_year + 1900 : 0;

	if (len == 0)
		return;
	/* RFC 3339 has four-digit years only: clamp what cannot be written (or converted). */
	if (!ok || year > 9999) {
		if (!ok && t < 0)
			snprintf(buf, len, "0000-01-01T00:00:00Z");
		else
			snprintf(buf, len, "9999-12-31T23:59:59Z");
		return;
	}
	if (year < 0) {
		snprintf(buf, len, "0000-01-01T00:00:00Z");
		return;
	}
	snprintf(buf, len, "%04ld-%02d-%02dT%02d:%02d:%02dZ", year, tm.tm_mon + 1, tm.tm_mday,
	         tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void pcp_json_time(FILE *out, time_t t)
{
	char buf[32];

	pcp_format_time(t, buf, sizeof buf);
	putc('"', out);
	fputs(buf, out);
	putc('"', out);
}
