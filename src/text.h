/* Terminal-safe text for the writers that print for people (text, summary, HTML): a
 * growable string, untrusted bytes sanitised (controls, bidi overrides and invalid UTF-8
 * become "?") and cut to display columns, and the short forms the reports share (address
 * cell, a certificate's CN, an instant). Writers share these instead of calling
 * each other. */
#ifndef PCP_TEXT_H
#define PCP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "report.h"
#include "result.h"

#define PCP_TEXT_ELLIPSIS      "\xe2\x80\xa6" /* … */
#define PCP_TEXT_ADDR_MAX_COLS 64             /* the widest address cell */

/* Growable string; a failed allocation sticks, and take then returns NULL. */
struct pcp_sbuf {
	char *p;
	size_t len, cap;
	bool failed;
};

void pcp_sbuf_put(struct pcp_sbuf *b, const char *s, size_t n);
void pcp_sbuf_cstr(struct pcp_sbuf *b, const char *s);
/* Hands over the string (NULL after a failed allocation) and resets b. */
char *pcp_sbuf_take(struct pcp_sbuf *b);

/* Display columns of s once sanitised. */
size_t pcp_text_width(const char *s, size_t len);

/* Appends s sanitised and cut to at most max_cols columns, ending in "…" when cut. */
void pcp_text_put(struct pcp_sbuf *b, const char *s, size_t len, size_t max_cols);
void pcp_text_put_cstr(struct pcp_sbuf *b, const char *s, size_t max_cols);
/* The same as a new string (caller frees; NULL when out of memory). */
char *pcp_text_clean(const char *s, size_t len, size_t max_cols);

/* Appends "addr:port" or "[v6]:port" of a record, unsanitised (the caller cleans). */
void pcp_text_put_addr_port(struct pcp_sbuf *b, const struct pcp_result *r);
/* A record's address as the table shows it: "host addr:port", or the target text when
 * there is no address; sanitised. Caller frees; NULL when out of memory. */
char *pcp_text_address(const struct pcp_result *r);

/* Which CN of an RFC 2253 name: the most specific (its first "CN=", for showing a
 * certificate), or the one libpq compares in verify-full (the certificate's first CN,
 * which RFC 2253's reversed order puts last). */
enum pcp_cn_pick { PCP_CN_DISPLAY, PCP_CN_LIBPQ };

/* That CN ("CN=x,O=y": "x", escapes removed), or the whole name when it has none;
 * sanitised and cut like pcp_text_clean. */
char *pcp_text_cn(const char *dn, enum pcp_cn_pick pick, size_t max_cols);

/* Instant a as people read it: "now" for the run's now, "2021-02-15" at midnight UTC,
 * else RFC 3339. buf holds at least 32 bytes. */
void pcp_text_instant(const struct pcp_run_info *info, size_t a, char *buf, size_t len);

/* Writes len untrusted bytes to out as HTML text or a quoted attribute value: & < > " ' as
 * entities, tab and line breaks as a space, invalid UTF-8, other controls and bidi
 * formatting characters as U+FFFD; after max bytes, "…". */
void pcp_text_html(FILE *out, const char *s, size_t len, size_t max);

#endif
