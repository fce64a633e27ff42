/* Terminal-safe text for the writers that print for people (see text.h). */
#include "text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

void pcp_sbuf_put(struct pcp_sbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	/* Keeps len + n + 1 and the doubling of cap below from wrapping. */
	if (n >= SIZE_MAX / 2 - b->len) {
		b->failed = true;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void pcp_sbuf_cstr(struct pcp_sbuf *b, const char *s)
{
	pcp_sbuf_put(b, s, strlen(s));
}

/* Hands over the string (NULL after a failed allocation) and resets b. */
char *pcp_sbuf_take(struct pcp_sbuf *b)
{
	char *p = NULL;

	if (!b->failed) {
		pcp_sbuf_put(b, "", 0);
		p = b->p;
	} else {
		free(b->p);
	}
	memset(b, 0, sizeof *b);
	return p;
}

/* Terminal columns of a code point: 0 for common combining marks and zero-width ones, 2
 * for East Asian wide and emoji blocks, else 1. An approximation without the locale. */
static size_t cp_width(uint32_t cp)
{
	static const uint32_t zero[][2] = {
	        {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A},
	        {0x064B, 0x065F}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200D},
	        {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F},
	};
	static const uint32_t wide[][2] = {
	        {0x1100, 0x115F},   {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},
	        {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},
	        {0xFE30, 0xFE4F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x1F300, 0x1F64F},
	        {0x1F900, 0x1F9FF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
	};

	for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
		if (cp >= zero[i][0] && cp <= zero[i][1])
			return 0;
	for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++)
		if (cp >= wide[i][0] && cp <= wide[i][1])
			return 2;
	return 1;
}

/* One printable unit of s at *i: either the original bytes of a safe code point or "?"
 * for an unsafe code point or an invalid byte. Advances *i. */
static size_t next_unit(const char *s, size_t len, size_t *i, const char **out, size_t *out_len)
{
	uint32_t cp = 0;
	size_t n = pcp_utf8_decode((const unsigned char *)s + *i, len - *i, &cp);

	if (n == 0 || pcp_utf8_unsafe(cp)) {
		*out = "?";
		*out_len = 1;
		*i += n ? n : 1;
		return 1;
	}
	*out = s + *i;
	*out_len = n;
	*i += n;
	return cp_width(cp);
}

size_t pcp_text_width(const char *s, size_t len)
{
	size_t w = 0, i = 0, ulen;
	const char *u;

	while (i < len)
		w += next_unit(s, len, &i, &u, &ulen);
	return w;
}

/* Appends s sanitised and cut to at most max_cols columns, ending in "…" when cut. */
void pcp_text_put(struct pcp_sbuf *b, const char *s, size_t len, size_t max_cols)
{
	size_t i = 0, w = 0, ulen;
	const char *u;

	if (max_cols == 0)
		return;
	size_t limit = pcp_text_width(s, len) <= max_cols ? max_cols : max_cols - 1;
	while (i < len) {
		size_t save = i;
		size_t uw = next_unit(s, len, &i, &u, &ulen);
		if (w + uw > limit) {
			i = save;
			break;
		}
		pcp_sbuf_put(b, u, ulen);
		w += uw;
	}
	if (i < len)
		pcp_sbuf_cstr(b, PCP_TEXT_ELLIPSIS);
}

void pcp_text_put_cstr(struct pcp_sbuf *b, const char *s, size_t max_cols)
{
	pcp_text_put(b, s ? s : "", s ? strlen(s) : 0, max_cols);
}

char *pcp_text_clean(const char *s, size_t len, size_t max_cols)
{
	struct pcp_sbuf b = {0};

	pcp_text_put(&b, s, len, max_cols);
	return pcp_sbuf_take(&b);
}

/* Appends "addr:port" or "[v6]:port" (unsanitised: the caller cleans). */
void pcp_text_put_addr_port(struct pcp_sbuf *b, const struct pcp_result *r)
{
	size_t addr_len = strnlen(r->addr, sizeof r->addr);
	bool v6 = memchr(r->addr, ':', addr_len) != NULL;
	char port[8];

	if (v6)
		pcp_sbuf_put(b, "[", 1);
	pcp_sbuf_put(b, r->addr, addr_len);
	if (v6)
		pcp_sbuf_put(b, "]", 1);
	snprintf(port, sizeof port, ":%u", (unsigned)r->port);
	pcp_sbuf_cstr(b, port);
}

/* The address cell: "host addr:port", "[v6]:port", or the target text when there is no
 * address (invalid target, name that did not resolve). */
char *pcp_text_address(const struct pcp_result *r)
{
	struct pcp_sbuf b = {0};
	size_t addr_len = strnlen(r->addr, sizeof r->addr);

	if (addr_len == 0) {
		const char *s = r->target ? r->target : r->host ? r->host : "-";
		return pcp_text_clean(s, strlen(s), PCP_TEXT_ADDR_MAX_COLS);
	}
	if (r->host && r->host[0] &&
	    !(strlen(r->host) == addr_len && memcmp(r->host, r->addr, addr_len) == 0)) {
		pcp_sbuf_cstr(&b, r->host);
		pcp_sbuf_put(&b, " ", 1);
	}
	pcp_text_put_addr_port(&b, r);
	if (b.failed) {
		pcp_sbuf_take(&b);
		return NULL;
	}
	/* The host is untrusted: sanitise the whole cell, cut to the column limit. */
	char *out = pcp_text_clean(b.p, b.len, PCP_TEXT_ADDR_MAX_COLS);
	free(b.p);
	return out;
}

char *pcp_text_cn(const char *dn, enum pcp_cn_pick pick, size_t max_cols)
{
	struct pcp_sbuf v = {0};
	bool start = true;

	/* RFC 2253 text lists the RDNs last first: the certificate's first CN is the last
	 * "CN=" of the text. */
	for (size_t i = 0; dn[i]; i++) {
		if (dn[i] == '\\' && dn[i + 1]) {
			i++;
			start = false;
			continue;
		}
		if (start && strncmp(dn + i, "CN=", 3) == 0) {
			v.len = 0;
			for (i += 3; dn[i] && dn[i] != ',' && dn[i] != '+'; i++) {
				if (dn[i] == '\\' && dn[i + 1])
					i++;
				pcp_sbuf_put(&v, dn + i, 1);
			}
			if (pick == PCP_CN_DISPLAY || !dn[i])
				break;
		}
		start = dn[i] == ',' || dn[i] == '+';
	}
	if (v.failed)
		return pcp_sbuf_take(&v);
	char *out = v.len ? pcp_text_clean(v.p, v.len, max_cols)
	                  : pcp_text_clean(dn, strlen(dn), max_cols);
	free(v.p);
	return out;
}

void pcp_text_instant(const struct pcp_run_info *info, size_t a, char *buf, size_t len)
{
	time_t t = pcp_run_instant(info, a);

	if (pcp_run_is_now(info, a)) {
		snprintf(buf, len, "now");
		return;
	}
	pcp_format_time(t, buf, len);
	/* Midnight UTC is how dates are given (--at 2021-02-15): show the date alone. */
	if (len > 10 && strcmp(buf + 10, "T00:00:00Z") == 0)
		buf[10] = '\0';
}

void pcp_text_html(FILE *out, const char *s, size_t len, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		uint32_t cp = 0;
		size_t n = pcp_utf8_decode(p + i, len - i, &cp);

		if (i >= max) {
			fputs(PCP_TEXT_ELLIPSIS, out);
			return;
		}
		if (n == 0) {
			fputs("\xef\xbf\xbd", out);
			i++;
			continue;
		}
		if (cp == '&')
			fputs("&amp;", out);
		else if (cp == '<')
			fputs("&lt;", out);
		else if (cp == '>')
			fputs("&gt;", out);
		else if (cp == '"')
			fputs("&quot;", out);
		else if (cp == '\'')
			fputs("&#39;", out);
		else if (cp == '\t' || cp == '\n' || cp == '\r')
			putc(' ', out);
		else if (pcp_utf8_unsafe(cp))
			fputs("\xef\xbf\xbd", out);
		else
			fwrite(p + i, 1, n, out);
		i += n;
	}
}
