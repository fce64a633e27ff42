/* Minimal JSON output helpers: strings are escaped and always valid UTF-8 (invalid bytes
 * become U+FFFD), since certificate fields are attacker-controlled bytes. */
#ifndef PCP_JSON_H
#define PCP_JSON_H

#include <stdio.h>
#include <time.h>

/* Writes s (len bytes) as a quoted JSON string. */
void pcp_json_string(FILE *out, const char *s, size_t len);
/* Same for a NUL-terminated string; NULL writes null. */
void pcp_json_cstr(FILE *out, const char *s);
/* Writes an RFC 3339 UTC timestamp string, e.g. "2025-05-12T23:59:00Z". */
void pcp_json_time(FILE *out, time_t t);

/* Formats t as RFC 3339 UTC into buf (at least 21 bytes). */
void pcp_format_time(time_t t, char *buf, size_t len);

#endif
