/* Strict UTF-8 decoding (see utf8.h). */
#include "utf8.h"

size_t pcp_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char b0 = s[0], lo = 0x80, hi = 0xBF;
	size_t len;
	uint32_t c;

	if (b0 < 0x80) {
		*cp = b0;
		return 1;
	}
	if (b0 >= 0xC2 && b0 <= 0xDF) {
		len = 2;
		c = b0 & 0x1F;
	} else if (b0 >= 0xE0 && b0 <= 0xEF) {
		len = 3;
		c = b0 & 0x0F;
		lo = b0 == 0xE0 ? 0xA0 : 0x80;
		hi = b0 == 0xED ? 0x9F : 0xBF;
	} else if (b0 >= 0xF0 && b0 <= 0xF4) {
		len = 4;
		c = b0 & 0x07;
		lo = b0 == 0xF0 ? 0x90 : 0x80;
		hi = b0 == 0xF4 ? 0x8F : 0xBF;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	c = (c << 6) | (s[1] & 0x3F);
	for (size_t i = 2; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	*cp = c;
	return len;
}

bool pcp_utf8_unsafe(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x200E || cp == 0x200F ||
	       (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}
