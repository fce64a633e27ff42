/* The human table: one row per address, one column per trust store (✓ or ✗ with a short
 * reason), then the failures' texts and a summary: divergent names, the client audit, and
 * the stores' verdicts on --future-chain. The first rows are buffered to size the columns,
 * later ones stream with the same widths; the summary keeps only counts and capped lists.
 * Every field is sanitised before it reaches the terminal: targets, hosts and server texts
 * are untrusted bytes. */
#include "report.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

enum {
	BUFFER_ROWS = 1000,   /* rows held back to compute column widths */
	ADDR_MAX_COLS = 64,   /* widest address column */
	CELL_MAX_COLS = 48,   /* widest store column */
	NOTE_MAX_COLS = 200,  /* longest failure text after the table */
	MAX_NOTES = 20,       /* failure lines after the table; the rest are counted */
	NAME_MAX_COLS = 64,   /* one divergent name in the summary */
	MAX_NAMES = 20,       /* divergent names listed; the rest are counted */
	TARGET_MAX_COLS = 80, /* a failing client's target text */
};

#define OK_MARK    "\xe2\x9c\x93" /* ✓ */
#define FAIL_MARK  "\xe2\x9c\x97" /* ✗ */
#define ELLIPSIS   "\xe2\x80\xa6" /* … */
#define DIV_SYMBOL "\xe2\x89\xa0" /* ≠ */
#define DIV_MARK   " " DIV_SYMBOL /* appended to the address of a divergent row */

#define COLOR_GREEN  "\033[32m"
#define COLOR_RED    "\033[31m"
#define COLOR_YELLOW "\033[33m"
#define COLOR_BOLD   "\033[1m"
#define COLOR_RESET  "\033[0m"

/* Growable string; a failed allocation sticks and is reported once at the end. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
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

static void sb_cstr(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

/* Hands over the string (NULL after a failed allocation) and resets b. */
static char *sb_take(struct sbuf *b)
{
	char *p = NULL;

	if (!b->failed) {
		sb_put(b, "", 0);
		p = b->p;
	} else {
		free(b->p);
	}
	memset(b, 0, sizeof *b);
	return p;
}

/* Code points a terminal must not receive from untrusted text: C0 and C1 controls, DEL,
 * and the bidirectional formatting characters that can reorder what is shown. */
static bool is_unsafe(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x200E || cp == 0x200F ||
	       (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
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

	if (n == 0 || is_unsafe(cp)) {
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

static size_t text_width(const char *s, size_t len)
{
	size_t w = 0, i = 0, ulen;
	const char *u;

	while (i < len)
		w += next_unit(s, len, &i, &u, &ulen);
	return w;
}

/* Appends s sanitised and cut to at most max_cols columns, ending in "…" when cut. */
static void put_clean(struct sbuf *b, const char *s, size_t len, size_t max_cols)
{
	size_t i = 0, w = 0, ulen;
	const char *u;

	if (max_cols == 0)
		return;
	size_t limit = text_width(s, len) <= max_cols ? max_cols : max_cols - 1;
	while (i < len) {
		size_t save = i;
		size_t uw = next_unit(s, len, &i, &u, &ulen);
		if (w + uw > limit) {
			i = save;
			break;
		}
		sb_put(b, u, ulen);
		w += uw;
	}
	if (i < len)
		sb_cstr(b, ELLIPSIS);
}

static char *clean_dup(const char *s, size_t len, size_t max_cols)
{
	struct sbuf b = {0};

	put_clean(&b, s, len, max_cols);
	return sb_take(&b);
}

enum cell_kind {
	CELL_PLAIN,
	CELL_OK,
	CELL_FAIL,
	CELL_NOT_PROBED,
};

struct cell {
	char *text; /* sanitised, owned */
	enum cell_kind kind;
	const char *mark; /* static suffix kept even when the text is cut (DIV_MARK), or NULL */
};

struct row {
	struct cell *cells; /* 1 + n_stores: the address, then one per store */
};

struct text_writer {
	struct pcp_writer base; /* first: the interface casts between the two */
	size_t n_cols;
	struct row *rows; /* buffered rows until the widths are known */
	size_t n_rows;
	size_t *width;  /* per column, set when the table starts */
	bool streaming; /* header printed; rows go straight out */
	char **notes;   /* "ADDRESS: error" of records not probed, up to MAX_NOTES */
	size_t n_notes;
	size_t notes_dropped;
	size_t records, not_probed; /* own counts, used when the runner passes no totals */
	size_t *verified;
	/* Divergent names, sanitised, up to MAX_NAMES; the rest counted. Addresses of one
	 * target arrive together, so a run of records with one name is one name. */
	char **div_names;
	size_t n_div_names, div_dropped;
	uint64_t div_last; /* hash of the last divergent record's name */
	bool div_any;
	/* The client audit: counts over records with a client, and the failing ones' lines. */
	size_t clients, now_connect, now_plain, after_clients, after_connect, after_plain;
	char **client_notes;
	size_t n_client_notes, client_notes_dropped;
	/* --future-chain: per store, records with a future verdict and how many verify. */
	size_t *future_n, *future_ok;
	bool any_future;
	bool failed; /* an allocation failed */
};

static void row_free(struct row *row, size_t n_cols)
{
	if (!row->cells)
		return;
	for (size_t c = 0; c < n_cols; c++)
		free(row->cells[c].text);
	free(row->cells);
	row->cells = NULL;
}

/* Appends "addr:port" or "[v6]:port" (unsanitised: the caller cleans). */
static void put_addr_port(struct sbuf *b, const struct pcp_result *r)
{
	size_t addr_len = strnlen(r->addr, sizeof r->addr);
	bool v6 = memchr(r->addr, ':', addr_len) != NULL;
	char port[8];

	if (v6)
		sb_put(b, "[", 1);
	sb_put(b, r->addr, addr_len);
	if (v6)
		sb_put(b, "]", 1);
	snprintf(port, sizeof port, ":%u", (unsigned)r->port);
	sb_cstr(b, port);
}

/* The address cell: "host addr:port", "[v6]:port", or the target text when there is no
 * address (invalid target, name that did not resolve). */
static char *address_text(const struct pcp_result *r)
{
	struct sbuf b = {0};
	size_t addr_len = strnlen(r->addr, sizeof r->addr);

	if (addr_len == 0) {
		const char *s = r->target ? r->target : r->host ? r->host : "-";
		return clean_dup(s, strlen(s), ADDR_MAX_COLS);
	}
	if (r->host && r->host[0] &&
	    !(strlen(r->host) == addr_len && memcmp(r->host, r->addr, addr_len) == 0)) {
		sb_cstr(&b, r->host);
		sb_put(&b, " ", 1);
	}
	put_addr_port(&b, r);
	if (b.failed) {
		sb_take(&b);
		return NULL;
	}
	/* The host is untrusted: sanitise the whole cell, cut to the column limit. */
	char *out = clean_dup(b.p, b.len, ADDR_MAX_COLS);
	free(b.p);
	return out;
}

static char *store_cell(const struct pcp_result *r, size_t i, enum cell_kind *kind)
{
	struct sbuf b = {0};

	if (r->status != PCP_STATUS_OK) {
		*kind = CELL_NOT_PROBED;
		sb_cstr(&b, FAIL_MARK " ");
		sb_cstr(&b, pcp_status_short(r->status));
		return sb_take(&b);
	}
	if (!r->verdicts || i >= r->n_verdicts) {
		*kind = CELL_NOT_PROBED; /* no verdict for this store: say so, never guess */
		sb_cstr(&b, "?");
		return sb_take(&b);
	}
	const struct pcp_verdict *v = &r->verdicts[i];
	if (v->ok) {
		*kind = CELL_OK;
		sb_cstr(&b, OK_MARK);
		return sb_take(&b);
	}
	*kind = CELL_FAIL;
	sb_cstr(&b, FAIL_MARK " ");
	size_t rlen = strnlen(v->reason, sizeof v->reason);
	if (rlen)
		put_clean(&b, v->reason, rlen, CELL_MAX_COLS - 2);
	else
		put_clean(&b, v->error, strnlen(v->error, sizeof v->error), CELL_MAX_COLS - 2);
	return sb_take(&b);
}

static const char *kind_color(enum cell_kind kind)
{
	switch (kind) {
	case CELL_OK:
		return COLOR_GREEN;
	case CELL_FAIL:
		return COLOR_RED;
	case CELL_NOT_PROBED:
		return COLOR_YELLOW;
	case CELL_PLAIN:
		break;
	}
	return NULL;
}

static void pad(FILE *out, size_t n)
{
	while (n--)
		putc(' ', out);
}

/* Prints one line of cells with the table's widths; a cell wider than its column (a
 * streamed row) is cut with "…". No trailing blanks after the last column. */
static void print_cells(struct text_writer *tw, const struct cell *cells, bool header)
{
	FILE *out = tw->base.out;
	bool color = tw->base.info->color;

	for (size_t c = 0; c < tw->n_cols; c++) {
		const char *text = cells[c].text ? cells[c].text : "";
		const char *mark = cells[c].mark;
		size_t len = strlen(text);
		size_t mw = mark ? text_width(mark, strlen(mark)) : 0;
		size_t w = text_width(text, len) + mw;
		const char *col = !color ? NULL : header ? COLOR_BOLD : kind_color(cells[c].kind);
		char *cut = NULL;

		if (c)
			fputs("  ", out);
		/* Cut the text, never the mark: a divergent row must stay recognisable. */
		if (w > tw->width[c]) {
			cut = clean_dup(text, len, tw->width[c] > mw ? tw->width[c] - mw : 0);
			if (cut) {
				text = cut;
				w = text_width(text, strlen(text)) + mw;
			}
		}
		if (col)
			fputs(col, out);
		fputs(text, out);
		if (col)
			fputs(COLOR_RESET, out);
		if (mark) {
			if (color)
				fputs(COLOR_YELLOW, out);
			fputs(mark, out);
			if (color)
				fputs(COLOR_RESET, out);
		}
		if (c + 1 < tw->n_cols && w < tw->width[c])
			pad(out, tw->width[c] - w);
		free(cut);
	}
	putc('\n', out);
}

static void print_header(struct text_writer *tw)
{
	struct cell *hdr = calloc(tw->n_cols, sizeof *hdr);

	if (!hdr) {
		tw->failed = true;
		return;
	}
	hdr[0].text = clean_dup("address", 7, ADDR_MAX_COLS);
	for (size_t c = 1; c < tw->n_cols; c++) {
		const char *name = tw->base.info->store_names[c - 1];
		name = name ? name : "";
		hdr[c].text = clean_dup(name, strlen(name), CELL_MAX_COLS);
	}
	print_cells(tw, hdr, true);
	for (size_t c = 0; c < tw->n_cols; c++)
		free(hdr[c].text);
	free(hdr);
}

/* Sizes the columns from the header and the buffered rows, prints them and switches to
 * streaming. */
static void start_table(struct text_writer *tw)
{
	const struct pcp_run_info *info = tw->base.info;

	for (size_t c = 0; c < tw->n_cols; c++) {
		const char *name = c == 0 ? "address" : info->store_names[c - 1];
		size_t cap = c == 0 ? ADDR_MAX_COLS : CELL_MAX_COLS;
		size_t w = name ? text_width(name, strlen(name)) : 0;
		for (size_t i = 0; i < tw->n_rows; i++) {
			const char *t = tw->rows[i].cells[c].text;
			const char *m = tw->rows[i].cells[c].mark;
			size_t cw = (t ? text_width(t, strlen(t)) : 0) +
			            (m ? text_width(m, strlen(m)) : 0);
			if (cw > w)
				w = cw;
		}
		tw->width[c] = w > cap ? cap : w ? w : 1;
	}
	print_header(tw);
	for (size_t i = 0; i < tw->n_rows; i++) {
		print_cells(tw, tw->rows[i].cells, false);
		row_free(&tw->rows[i], tw->n_cols);
	}
	free(tw->rows);
	tw->rows = NULL;
	tw->n_rows = 0;
	tw->streaming = true;
}

static void add_note(struct text_writer *tw, const struct pcp_result *r, const char *addr)
{
	struct sbuf b = {0};
	size_t elen = strnlen(r->error, sizeof r->error);
	const char *err = elen ? r->error : pcp_status_short(r->status);

	if (tw->n_notes >= MAX_NOTES) {
		tw->notes_dropped++;
		return;
	}
	sb_cstr(&b, "  ");
	sb_cstr(&b, addr ? addr : "?");
	sb_cstr(&b, ": ");
	put_clean(&b, err, elen ? elen : strlen(err), NOTE_MAX_COLS);
	char *note = sb_take(&b);
	if (!note) {
		tw->failed = true;
		return;
	}
	tw->notes[tw->n_notes++] = note;
}

/* FNV-1a: enough to tell one name's run of records from the next. */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 14695981039346656037u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211u;
	}
	return h;
}

/* Lists the name of a divergent record once. Past MAX_NAMES the count may take a name
 * twice when its targets are not adjacent in the input: exact only with a set we do not
 * keep. */
static void note_divergent(struct text_writer *tw, const struct pcp_result *r)
{
	const char *name = r->host && r->host[0] ? r->host : r->target ? r->target : "-";
	uint64_t h = name_hash(name);

	if (tw->div_any && h == tw->div_last)
		return; /* another address of the same name */
	tw->div_any = true;
	tw->div_last = h;
	char *clean = clean_dup(name, strlen(name), NAME_MAX_COLS);
	if (!clean) {
		tw->failed = true;
		return;
	}
	for (size_t i = 0; i < tw->n_div_names; i++) {
		if (strcmp(tw->div_names[i], clean) == 0) {
			free(clean);
			return;
		}
	}
	if (tw->n_div_names < MAX_NAMES) {
		tw->div_names[tw->n_div_names++] = clean;
		return;
	}
	free(clean);
	tw->div_dropped++;
}

/* Counts one audited client and keeps a line for it when it fails now or after the switch:
 * "  TARGET at ADDR: error" or "  TARGET at ADDR: after the switch: error". */
static void note_client(struct text_writer *tw, const struct pcp_result *r)
{
	const struct pcp_client *c = r->client;
	const struct pcp_client_verdict *bad = NULL;
	struct sbuf b = {0};

	tw->clients++;
	if (c->now.connects) {
		tw->now_connect++;
		if (!c->now.encrypted)
			tw->now_plain++;
	} else {
		bad = &c->now;
	}
	if (c->has_after) {
		tw->after_clients++;
		if (c->after.connects) {
			tw->after_connect++;
			if (!c->after.encrypted)
				tw->after_plain++;
		} else if (!bad) {
			bad = &c->after;
		}
	}
	if (!bad)
		return;
	if (tw->n_client_notes >= MAX_NOTES) {
		tw->client_notes_dropped++;
		return;
	}

	const char *target = r->target ? r->target : r->host ? r->host : "-";
	sb_cstr(&b, "  ");
	put_clean(&b, target, strlen(target), TARGET_MAX_COLS);
	if (r->addr[0] != '\0') {
		struct sbuf a = {0};
		put_addr_port(&a, r);
		sb_cstr(&b, " at ");
		if (a.failed)
			b.failed = true;
		else
			put_clean(&b, a.p, a.len, ADDR_MAX_COLS);
		free(a.p);
	}
	sb_cstr(&b, ": ");
	if (bad == &c->after)
		sb_cstr(&b, "after the switch: ");
	size_t elen = strnlen(bad->error, sizeof bad->error);
	if (elen)
		put_clean(&b, bad->error, elen, NOTE_MAX_COLS);
	else
		sb_cstr(&b, "would not connect");
	char *note = sb_take(&b);
	if (!note) {
		tw->failed = true;
		return;
	}
	tw->client_notes[tw->n_client_notes++] = note;
}

static int text_begin(struct pcp_writer *w)
{
	(void)w;
	return 0;
}

static int text_record(struct pcp_writer *w, const struct pcp_result *r)
{
	struct text_writer *tw = (struct text_writer *)w;
	struct row row;

	tw->records++;
	if (r->status != PCP_STATUS_OK)
		tw->not_probed++;
	for (size_t i = 0; r->status == PCP_STATUS_OK && i < tw->n_cols - 1; i++)
		if (r->verdicts && i < r->n_verdicts && r->verdicts[i].ok)
			tw->verified[i]++;
	/* The future chain's verdicts do not depend on what this address served. */
	if (r->future) {
		tw->any_future = true;
		for (size_t i = 0; i < r->n_future && i < tw->n_cols - 1; i++) {
			tw->future_n[i]++;
			if (r->future[i].ok)
				tw->future_ok[i]++;
		}
	}
	if (r->divergent)
		note_divergent(tw, r);
	if (r->client)
		note_client(tw, r);

	row.cells = calloc(tw->n_cols, sizeof *row.cells);
	if (!row.cells)
		return -1;
	row.cells[0].text = address_text(r);
	row.cells[0].kind = CELL_PLAIN;
	row.cells[0].mark = r->divergent ? DIV_MARK : NULL;
	bool ok = row.cells[0].text != NULL;
	for (size_t c = 1; c < tw->n_cols; c++) {
		row.cells[c].text = store_cell(r, c - 1, &row.cells[c].kind);
		ok = ok && row.cells[c].text != NULL;
	}
	if (ok && r->status != PCP_STATUS_OK)
		add_note(tw, r, row.cells[0].text);
	if (!ok) {
		row_free(&row, tw->n_cols);
		return -1;
	}

	if (tw->streaming) {
		print_cells(tw, row.cells, false);
		row_free(&row, tw->n_cols);
	} else {
		tw->rows[tw->n_rows++] = row;
		if (tw->n_rows == BUFFER_ROWS)
			start_table(tw);
	}
	return ferror(w->out) || tw->failed ? -1 : 0;
}

/* "N fail", red when N > 0 on a terminal. */
static void print_fail_count(FILE *out, bool color, size_t n)
{
	if (color && n > 0)
		fprintf(out, COLOR_RED "%zu fail" COLOR_RESET, n);
	else
		fprintf(out, "%zu fail", n);
}

static int text_end(struct pcp_writer *w, const struct pcp_run_totals *totals)
{
	struct text_writer *tw = (struct text_writer *)w;
	const struct pcp_run_info *info = w->info;
	FILE *out = w->out;
	size_t records = totals ? totals->records : tw->records;
	size_t not_probed = totals ? totals->not_probed : tw->not_probed;
	bool color = info->color;
	char when[32];

	if (!tw->streaming && tw->n_rows > 0)
		start_table(tw);

	if (tw->n_notes > 0)
		putc('\n', out);
	for (size_t i = 0; i < tw->n_notes; i++)
		fprintf(out, "%s\n", tw->notes[i]);
	if (tw->notes_dropped > 0)
		fprintf(out,
		        "  " ELLIPSIS " and %zu more not probed (details with --format json)\n",
		        tw->notes_dropped);

	putc('\n', out);
	fprintf(out, "%zu address%s", records, records == 1 ? "" : "es");
	for (size_t i = 0; i < info->n_stores; i++) {
		size_t n = totals && totals->verified ? totals->verified[i] : tw->verified[i];
		const char *name = info->store_names[i] ? info->store_names[i] : "";
		char *clean = clean_dup(name, strlen(name), CELL_MAX_COLS);
		fprintf(out, "%s%zu %s %s", i == 0 ? ": " : ", ", n,
		        i == 0 ? "verify under" : "under", clean ? clean : "?");
		free(clean);
	}
	fprintf(out, "; %zu could not be probed\n", not_probed);
	for (size_t i = 0; tw->any_future && i < info->n_stores; i++) {
		const char *name = info->store_names[i] ? info->store_names[i] : "";
		char *clean = clean_dup(name, strlen(name), CELL_MAX_COLS);
		fprintf(out, "after the switch: %s verifies %zu of %zu chain%s\n",
		        clean ? clean : "?", tw->future_ok[i], tw->future_n[i],
		        tw->future_n[i] == 1 ? "" : "s");
		free(clean);
	}

	fprintf(out, "sslmode %s", pcp_sslmode_name(info->sslmode));
	if (info->at_given) {
		pcp_format_time(info->at, when, sizeof when);
		fprintf(out, ", as of %s", when);
	}
	putc('\n', out);

	if (tw->n_div_names > 0) {
		fputs("divergent names (" DIV_SYMBOL ", their addresses serve different chains): ",
		      out);
		for (size_t i = 0; i < tw->n_div_names; i++)
			fprintf(out, "%s%s", i ? ", " : "", tw->div_names[i]);
		if (tw->div_dropped > 0)
			fprintf(out, " " ELLIPSIS " and %zu more", tw->div_dropped);
		putc('\n', out);
	}
	if (tw->clients > 0) {
		fprintf(out, "%zu client%s audited: %zu connect now (%zu unencrypted), ",
		        tw->clients, tw->clients == 1 ? "" : "s", tw->now_connect, tw->now_plain);
		print_fail_count(out, color, tw->clients - tw->now_connect);
		putc('\n', out);
		if (tw->after_clients > 0) {
			fprintf(out, "after the switch: %zu connect (%zu unencrypted), ",
			        tw->after_connect, tw->after_plain);
			print_fail_count(out, color, tw->after_clients - tw->after_connect);
			putc('\n', out);
		}
		for (size_t i = 0; i < tw->n_client_notes; i++)
			fprintf(out, "%s\n", tw->client_notes[i]);
		if (tw->client_notes_dropped > 0)
			fprintf(out,
			        "  " ELLIPSIS
			        " and %zu more failing clients (details with --format json)\n",
			        tw->client_notes_dropped);
	}
	if (totals && totals->interrupted)
		fputs("(interrupted: not all targets were probed)\n", out);

	if (fflush(out) != 0 || ferror(out) || tw->failed)
		return -1;
	return 0;
}

static void text_free(struct pcp_writer *w)
{
	struct text_writer *tw = (struct text_writer *)w;

	for (size_t i = 0; i < tw->n_rows; i++)
		row_free(&tw->rows[i], tw->n_cols);
	free(tw->rows);
	for (size_t i = 0; i < tw->n_notes; i++)
		free(tw->notes[i]);
	free(tw->notes);
	free(tw->width);
	free(tw->verified);
	for (size_t i = 0; i < tw->n_div_names; i++)
		free(tw->div_names[i]);
	free(tw->div_names);
	for (size_t i = 0; i < tw->n_client_notes; i++)
		free(tw->client_notes[i]);
	free(tw->client_notes);
	free(tw->future_n);
	free(tw->future_ok);
	free(tw);
}

static const struct pcp_writer_ops text_ops = {
        .begin = text_begin,
        .record = text_record,
        .end = text_end,
        .free = text_free,
};

struct pcp_writer *pcp_report_text_new(FILE *out, const struct pcp_run_info *info)
{
	struct text_writer *tw = calloc(1, sizeof *tw);

	if (!tw)
		return NULL;
	tw->base.ops = &text_ops;
	tw->base.out = out;
	tw->base.info = info;
	tw->n_cols = info->n_stores + 1;
	tw->rows = calloc(BUFFER_ROWS, sizeof *tw->rows);
	tw->width = calloc(tw->n_cols, sizeof *tw->width);
	tw->notes = calloc(MAX_NOTES, sizeof *tw->notes);
	tw->verified = calloc(info->n_stores + 1, sizeof *tw->verified);
	tw->div_names = calloc(MAX_NAMES, sizeof *tw->div_names);
	tw->client_notes = calloc(MAX_NOTES, sizeof *tw->client_notes);
	tw->future_n = calloc(info->n_stores + 1, sizeof *tw->future_n);
	tw->future_ok = calloc(info->n_stores + 1, sizeof *tw->future_ok);
	if (!tw->rows || !tw->width || !tw->notes || !tw->verified || !tw->div_names ||
	    !tw->client_notes || !tw->future_n || !tw->future_ok) {
		text_free(&tw->base);
		return NULL;
	}
	return &tw->base;
}
