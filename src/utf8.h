/* Strict UTF-8 decoding shared by the writers, which must turn attacker-controlled bytes
 * into valid output (JSON strings, terminal cells). Pure. */
#ifndef PCP_UTF8_H
#define PCP_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the well-formed UTF-8 sequence at s (n > 0 bytes available), or 0 when the
 * bytes there are not one (Unicode Table 3-7: no overlongs, no surrogates, nothing above
 * U+10FFFF). The code point goes to *cp. */
size_t pcp_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Code points a terminal must not receive from untrusted text: C0 and C1 controls, DEL,
 * and the bidirectional formatting characters that can reorder what is shown. */
bool pcp_utf8_unsafe(uint32_t cp);

#endif
