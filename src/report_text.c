/* The human table: one row per address, one column per trust store and instant (✓, or ✗
 * with a short reason), then one line per failure in plain words (with --explain, the
 * openssl and psql commands that reproduce it; with --driver, where a driver decides
 * otherwise than libpq), then the fleet summary (report_summary.c).
 * The first rows are buffered to size the columns, later ones stream with the same widths.
 * Every field is sanitised before it reaches the terminal: targets, hosts, certificate
 * names and server texts are untrusted bytes. */
#include "report.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostmatch.h"
#include "json.h"
#include "reason.h"
#include "summary.h"
#include "text.h"

enum {
	BUFFER_ROWS = 1000,  /* rows held back to compute column widths */
	CELL_MAX_COLS = 48,  /* widest store column */
	NOTE_MAX_COLS = 200, /* longest failure text after the table */
	MAX_NOTES = 20,      /* lines of each kind after the table; the rest are counted */
	ARG_MAX_COLS = 1024, /* one argument of an --explain command */
};

#define OK_MARK   "\xe2\x9c\x93"  /* ✓ */
#define FAIL_MARK "\xe2\x9c\x97"  /* ✗ */
#define DIV_MARK  " \xe2\x89\xa0" /* " ≠", appended to the address of a divergent row */

#define COLOR_GREEN  "\033[32m"
#define COLOR_RED    "\033[31m"
#define COLOR_YELLOW "\033[33m"
#define COLOR_BOLD   "\033[1m"
#define COLOR_RESET  "\033[0m"

enum cell_kind {
	CELL_PLAIN,
	CELL_OK,
	CELL_EXPIRING,
	CELL_FAIL,
	CELL_NOT_PROBED,
};

struct cell {
	char *text; /* sanitised, owned */
	enum cell_kind kind;
	const char *mark; /* static suffix kept even when the text is cut (DIV_MARK), or NULL */
};

struct row {
	struct cell *cells; /* 1 + n_stores * n_ats: the address, then one per verdict */
};

struct text_writer {
	struct pcp_writer base; /* first: the interface casts between the two */
	size_t n_stores, n_ats;
	size_t n_cols;
	char **labels;    /* per verdict column: "STORE" or "STORE@INSTANT", sanitised */
	struct row *rows; /* buffered rows until the widths are known */
	size_t n_rows;
	size_t *width;  /* per column, set when the table starts */
	bool streaming; /* header printed; rows go straight out */
	char **notes;   /* "ADDRESS: error" of records not probed, up to MAX_NOTES */
	size_t n_notes;
	size_t notes_dropped;
	char **reasons; /* one line per failing verdict (plus commands), up to MAX_NOTES */
	size_t n_reasons;
	size_t reasons_dropped;
	struct pcp_summary *summary;
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

/* "YYYY-MM-DD" of t (UTC). */
static void format_date(time_t t, char *buf, size_t len)
{
	pcp_format_time(t, buf, len);
	if (len > 10)
		buf[10] = '\0';
}

/* Cell k (= instant * n_stores + store) of a record. */
static char *store_cell(const struct pcp_result *r, size_t k, enum cell_kind *kind)
{
	struct pcp_sbuf b = {0};

	if (r->status != PCP_STATUS_OK) {
		*kind = CELL_NOT_PROBED;
		pcp_sbuf_cstr(&b, FAIL_MARK " ");
		pcp_sbuf_cstr(&b, pcp_status_short(r->status));
		return pcp_sbuf_take(&b);
	}
	if (!r->verdicts || k >= r->n_verdicts) {
		*kind = CELL_NOT_PROBED; /* no verdict for this store: say so, never guess */
		pcp_sbuf_cstr(&b, "?");
		return pcp_sbuf_take(&b);
	}
	const struct pcp_verdict *v = &r->verdicts[k];
	if (v->ok && v->expiring) {
		char date[32];

		*kind = CELL_EXPIRING;
		format_date(v->path_not_after, date, sizeof date);
		pcp_sbuf_cstr(&b, OK_MARK " expires ");
		pcp_sbuf_cstr(&b, date);
		return pcp_sbuf_take(&b);
	}
	if (v->ok) {
		*kind = CELL_OK;
		pcp_sbuf_cstr(&b, OK_MARK);
		return pcp_sbuf_take(&b);
	}
	*kind = CELL_FAIL;
	pcp_sbuf_cstr(&b, FAIL_MARK " ");
	size_t rlen = strnlen(v->reason, sizeof v->reason);
	if (rlen)
		pcp_text_put(&b, v->reason, rlen, CELL_MAX_COLS - 2);
	else
		pcp_text_put(&b, v->error, strnlen(v->error, sizeof v->error), CELL_MAX_COLS - 2);
	return pcp_sbuf_take(&b);
}

static const char *kind_color(enum cell_kind kind)
{
	switch (kind) {
	case CELL_OK:
		return COLOR_GREEN;
	case CELL_FAIL:
		return COLOR_RED;
	case CELL_EXPIRING:
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
		size_t mw = mark ? pcp_text_width(mark, strlen(mark)) : 0;
		size_t w = pcp_text_width(text, len) + mw;
		const char *col = !color ? NULL : header ? COLOR_BOLD : kind_color(cells[c].kind);
		char *cut = NULL;

		if (c)
			fputs("  ", out);
		/* Cut the text, never the mark: a divergent row must stay recognisable. */
		if (w > tw->width[c]) {
			cut = pcp_text_clean(text, len, tw->width[c] > mw ? tw->width[c] - mw : 0);
			if (cut) {
				text = cut;
				w = pcp_text_width(text, strlen(text)) + mw;
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

static const char *column_title(const struct text_writer *tw, size_t c)
{
	return c == 0 ? "address" : tw->labels[c - 1];
}

static void print_header(struct text_writer *tw)
{
	struct cell *hdr = calloc(tw->n_cols, sizeof *hdr);

	if (!hdr) {
		tw->failed = true;
		return;
	}
	for (size_t c = 0; c < tw->n_cols; c++)
		hdr[c].text = (char *)column_title(tw, c); /* borrowed: not freed below */
	print_cells(tw, hdr, true);
	free(hdr);
}

/* Sizes the columns from the header and the buffered rows, prints them and switches to
 * streaming. */
static void start_table(struct text_writer *tw)
{
	for (size_t c = 0; c < tw->n_cols; c++) {
		const char *name = column_title(tw, c);
		size_t cap = c == 0 ? PCP_TEXT_ADDR_MAX_COLS : CELL_MAX_COLS;
		size_t w = pcp_text_width(name, strlen(name));
		for (size_t i = 0; i < tw->n_rows; i++) {
			const char *t = tw->rows[i].cells[c].text;
			const char *m = tw->rows[i].cells[c].mark;
			size_t cw = (t ? pcp_text_width(t, strlen(t)) : 0) +
			            (m ? pcp_text_width(m, strlen(m)) : 0);
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
	struct pcp_sbuf b = {0};
	size_t elen = strnlen(r->error, sizeof r->error);
	const char *err = elen ? r->error : pcp_status_short(r->status);

	if (tw->n_notes >= MAX_NOTES) {
		tw->notes_dropped++;
		return;
	}
	pcp_sbuf_cstr(&b, "  ");
	pcp_sbuf_cstr(&b, addr ? addr : "?");
	pcp_sbuf_cstr(&b, ": ");
	pcp_text_put(&b, err, elen ? elen : strlen(err), NOTE_MAX_COLS);
	char *note = pcp_sbuf_take(&b);
	if (!note) {
		tw->failed = true;
		return;
	}
	tw->notes[tw->n_notes++] = note;
}

/* ---- --explain: commands that reproduce a verdict by hand ---- */

/* Appends s as one shell word: bare when it holds only characters no shell treats
 * specially, else in single quotes with each ' written as '\''. s is sanitised first, so
 * the command on the terminal is exactly the one a reader can paste. */
static void put_shell_word(struct pcp_sbuf *b, const char *s)
{
	static const char safe[] = "@%+=:,./_-";
	char *clean = pcp_text_clean(s, strlen(s), ARG_MAX_COLS);
	bool bare = clean && clean[0];

	if (!clean) {
		b->failed = true;
		return;
	}
	for (const char *p = clean; *p && bare; p++)
		bare = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		       (*p >= '0' && *p <= '9') || strchr(safe, *p);
	if (bare) {
		pcp_sbuf_cstr(b, clean);
	} else {
		pcp_sbuf_put(b, "'", 1);
		for (const char *p = clean; *p; p++)
			if (*p == '\'')
				pcp_sbuf_cstr(b, "'\\''");
			else
				pcp_sbuf_put(b, p, 1);
		pcp_sbuf_put(b, "'", 1);
	}
	free(clean);
}

/* Appends " key=value" for a libpq connection string: value bare, or in single quotes
 * with \ and ' escaped as libpq reads them (sanitised like every shown text). */
static void put_conninfo(struct pcp_sbuf *b, const char *key, const char *value)
{
	char *clean = pcp_text_clean(value, strlen(value), ARG_MAX_COLS);
	bool bare = clean && clean[0];

	if (!clean) {
		b->failed = true;
		return;
	}
	for (const char *p = clean; *p && bare; p++)
		bare = *p != ' ' && *p != '\'' && *p != '\\';
	if (b->len)
		pcp_sbuf_put(b, " ", 1);
	pcp_sbuf_cstr(b, key);
	pcp_sbuf_put(b, "=", 1);
	if (!bare)
		pcp_sbuf_put(b, "'", 1);
	for (const char *p = clean; *p; p++) {
		if (!bare && (*p == '\'' || *p == '\\'))
			pcp_sbuf_put(b, "\\", 1);
		pcp_sbuf_put(b, p, 1);
	}
	if (!bare)
		pcp_sbuf_put(b, "'", 1);
	free(clean);
}

/* The openssl s_client and psql lines for verdict column k of r, each on its own indented
 * line: s_client shows the chain and OpenSSL's verdict, psql is libpq's own answer. */
static void put_commands(struct pcp_sbuf *b, const struct text_writer *tw,
                         const struct pcp_result *r, size_t k)
{
	const struct pcp_run_info *info = tw->base.info;
	size_t store = k % tw->n_stores, a = k / tw->n_stores;
	const char *name = info->store_names[store] ? info->store_names[store] : "";
	const char *path =
	        info->store_paths && info->store_paths[store] ? info->store_paths[store] : name;
	const char *kind = info->store_kinds ? info->store_kinds[store] : NULL;
	bool dir = kind && strcmp(kind, "directory") == 0;
	bool java = kind && (strcmp(kind, "pkcs12") == 0 || strcmp(kind, "jks") == 0);
	bool ip = pcp_host_is_ip_literal(r->host);
	bool full = r->sslmode == PCP_SSLMODE_VERIFY_FULL;
	const char *mode = pcp_sslmode_name(r->sslmode);
	bool now = pcp_run_is_now(info, a);
	time_t at = pcp_run_instant(info, a);
	struct pcp_sbuf w = {0}, ci = {0};
	char num[32], when[32];

	pcp_sbuf_cstr(b, "\n    openssl s_client -starttls postgres -connect ");
	pcp_text_put_addr_port(&w, r);
	if (w.failed)
		b->failed = true;
	else
		put_shell_word(b, w.p);
	free(w.p);
	if (pcp_host_sends_sni(r->host)) {
		pcp_sbuf_cstr(b, " -servername ");
		put_shell_word(b, r->host);
	}
	pcp_sbuf_cstr(b, dir ? " -CApath " : " -CAfile ");
	put_shell_word(b, path);
	pcp_sbuf_cstr(b, " -verify_return_error");
	if (full && r->host && r->host[0]) {
		pcp_sbuf_cstr(b, ip ? " -verify_ip " : " -verify_hostname ");
		put_shell_word(b, r->host);
	}
	snprintf(num, sizeof num, " -attime %lld", (long long)at);
	pcp_sbuf_cstr(b, num);
	pcp_sbuf_cstr(b, " -showcerts </dev/null");

	if (r->host)
		put_conninfo(&ci, "host", r->host);
	put_conninfo(&ci, "hostaddr", r->addr);
	snprintf(num, sizeof num, "%u", (unsigned)r->port);
	put_conninfo(&ci, "port", num);
	put_conninfo(&ci, "sslmode", mode);
	put_conninfo(&ci, "sslrootcert", path);
	put_conninfo(&ci, "dbname", "postgres");
	pcp_sbuf_cstr(b, "\n    ");
	if (!now) {
		/* "UTC" spelled out: faketime reads the time in the local zone otherwise. */
		pcp_format_time(at, when, sizeof when);
		when[10] = ' ';
		when[19] = '\0';
		pcp_sbuf_cstr(b, "faketime '");
		pcp_sbuf_cstr(b, when);
		pcp_sbuf_cstr(b, " UTC' ");
	}
	pcp_sbuf_cstr(b, "psql ");
	if (ci.failed)
		b->failed = true;
	else
		put_shell_word(b, ci.p);
	free(ci.p);
	if (dir)
		pcp_sbuf_cstr(
		        b,
		        "\n    # libpq reads one file: concatenate the directory's certificates");
	if (java) {
		/* keytool asks for the password: it is never printed. */
		pcp_sbuf_cstr(b, "\n    # a Java truststore (");
		pcp_sbuf_cstr(b, kind);
		pcp_sbuf_cstr(b, "): openssl and libpq read PEM: keytool -list -rfc -keystore ");
		put_shell_word(b, path);
		pcp_sbuf_cstr(b, " > anchors.pem, then use anchors.pem");
	}
}

/* "  ADDRESS under LABEL: reason in plain words" for every failing verdict of r, each
 * followed by its commands with --explain. */
static void add_reasons(struct text_writer *tw, const struct pcp_result *r, const char *addr)
{
	for (size_t k = 0; r->verdicts && k < r->n_verdicts && k < tw->n_cols - 1; k++) {
		const struct pcp_verdict *v = &r->verdicts[k];
		struct pcp_sbuf b = {0};

		if (v->ok)
			continue;
		if (tw->n_reasons >= MAX_NOTES) {
			tw->reasons_dropped++;
			continue;
		}
		pcp_sbuf_cstr(&b, "  ");
		pcp_sbuf_cstr(&b, addr ? addr : "?");
		pcp_sbuf_cstr(&b, " under ");
		pcp_sbuf_cstr(&b, tw->labels[k]);
		pcp_sbuf_cstr(&b, ": ");
		pcp_reason_put(&b, r, v);
		if (tw->base.info->explain)
			put_commands(&b, tw, r, k);
		char *line = pcp_sbuf_take(&b);
		if (!line) {
			tw->failed = true;
			return;
		}
		tw->reasons[tw->n_reasons++] = line;
	}
}

/* "  ADDRESS under LABEL, as DRIVER: …" where a --driver decides otherwise than libpq, or
 * passes only through a pinned non-root. */
static void add_driver_reasons(struct text_writer *tw, const struct pcp_result *r, const char *addr)
{
	const struct pcp_run_info *info = tw->base.info;

	for (size_t d = 0; d < r->n_drivers && d < info->n_drivers; d++)
		for (size_t k = 0;
		     k < r->drivers[d].n_verdicts && k < r->n_verdicts && k < tw->n_cols - 1; k++) {
			const struct pcp_verdict *v = &r->drivers[d].verdicts[k];
			struct pcp_sbuf b = {0};

			if (v->ok == r->verdicts[k].ok && !v->pinned)
				continue;
			if (tw->n_reasons >= MAX_NOTES) {
				tw->reasons_dropped++;
				continue;
			}
			pcp_sbuf_cstr(&b, "  ");
			pcp_sbuf_cstr(&b, addr ? addr : "?");
			pcp_sbuf_cstr(&b, " under ");
			pcp_sbuf_cstr(&b, tw->labels[k]);
			pcp_sbuf_cstr(&b, ", as ");
			pcp_sbuf_cstr(&b, info->driver_names[d]);
			if (v->ok) {
				pcp_sbuf_cstr(&b,
				              v->pinned ? ": verifies only because the store pins '"
				                        : ": verifies, unlike libpq (anchor '");
				char *cn = pcp_text_cn(v->anchor, PCP_CN_DISPLAY, NOTE_MAX_COLS);

				pcp_sbuf_cstr(&b, cn ? cn : "?");
				free(cn);
				pcp_sbuf_cstr(&b, v->pinned
				                          ? "', not a root: breaks when it rotates"
				                          : "')");
			} else {
				pcp_sbuf_cstr(&b, ": fails, unlike libpq: ");
				pcp_text_put(&b, v->reason, strnlen(v->reason, sizeof v->reason),
				             NOTE_MAX_COLS);
				pcp_sbuf_cstr(&b, " (");
				pcp_text_put(&b, v->error, strnlen(v->error, sizeof v->error),
				             NOTE_MAX_COLS);
				pcp_sbuf_cstr(&b, ")");
			}
			char *line = pcp_sbuf_take(&b);
			if (!line) {
				tw->failed = true;
				return;
			}
			tw->reasons[tw->n_reasons++] = line;
		}
}

/* ---- the writer ---- */

static int text_begin(struct pcp_writer *w)
{
	(void)w;
	return 0;
}

static int text_record(struct pcp_writer *w, const struct pcp_result *r)
{
	struct text_writer *tw = (struct text_writer *)w;
	struct row row;

	if (pcp_summary_add(tw->summary, r) < 0)
		return -1;
	row.cells = calloc(tw->n_cols, sizeof *row.cells);
	if (!row.cells)
		return -1;
	row.cells[0].text = pcp_text_address(r);
	row.cells[0].kind = CELL_PLAIN;
	row.cells[0].mark = r->divergent ? DIV_MARK : NULL;
	bool ok = row.cells[0].text != NULL;
	for (size_t c = 1; c < tw->n_cols; c++) {
		row.cells[c].text = store_cell(r, c - 1, &row.cells[c].kind);
		ok = ok && row.cells[c].text != NULL;
	}
	if (ok && r->status != PCP_STATUS_OK)
		add_note(tw, r, row.cells[0].text);
	if (ok && r->status == PCP_STATUS_OK) {
		add_reasons(tw, r, row.cells[0].text);
		add_driver_reasons(tw, r, row.cells[0].text);
	}
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

static int text_end(struct pcp_writer *w, const struct pcp_run_totals *totals)
{
	struct text_writer *tw = (struct text_writer *)w;
	FILE *out = w->out;

	if (!tw->streaming && tw->n_rows > 0)
		start_table(tw);

	if (tw->n_notes > 0 || tw->n_reasons > 0)
		putc('\n', out);
	for (size_t i = 0; i < tw->n_notes; i++)
		fprintf(out, "%s\n", tw->notes[i]);
	if (tw->notes_dropped > 0)
		fprintf(out,
		        "  " PCP_TEXT_ELLIPSIS
		        " and %zu more not probed (details with --format json)\n",
		        tw->notes_dropped);
	for (size_t i = 0; i < tw->n_reasons; i++)
		fprintf(out, "%s\n", tw->reasons[i]);
	if (tw->reasons_dropped > 0)
		fprintf(out,
		        "  " PCP_TEXT_ELLIPSIS
		        " and %zu more failing verdicts (details with --format json)\n",
		        tw->reasons_dropped);

	putc('\n', out);
	if (pcp_summary_print(tw->summary, out, totals) < 0 || tw->failed)
		return -1;
	return 0;
}

static void text_free(struct pcp_writer *w)
{
	struct text_writer *tw = (struct text_writer *)w;

	for (size_t i = 0; i < tw->n_rows; i++)
		row_free(&tw->rows[i], tw->n_cols);
	free(tw->rows);
	for (size_t i = 0; tw->labels && i + 1 < tw->n_cols; i++)
		free(tw->labels[i]);
	free(tw->labels);
	for (size_t i = 0; i < tw->n_notes; i++)
		free(tw->notes[i]);
	free(tw->notes);
	for (size_t i = 0; i < tw->n_reasons; i++)
		free(tw->reasons[i]);
	free(tw->reasons);
	free(tw->width);
	pcp_summary_free(tw->summary);
	free(tw);
}

static const struct pcp_writer_ops text_ops = {
        .begin = text_begin,
        .record = text_record,
        .end = text_end,
        .free = text_free,
};

/* Column k's title: the store's name, with "@INSTANT" when the run has several. */
static char *column_label(const struct pcp_run_info *info, size_t k)
{
	size_t store = k % info->n_stores;
	const char *name = info->store_names[store] ? info->store_names[store] : "";
	struct pcp_sbuf b = {0};
	char when[32];

	pcp_text_put_cstr(&b, name, CELL_MAX_COLS);
	if (pcp_run_n_instants(info) > 1) {
		pcp_text_instant(info, k / info->n_stores, when, sizeof when);
		pcp_sbuf_cstr(&b, "@");
		pcp_sbuf_cstr(&b, when);
	}
	return pcp_sbuf_take(&b);
}

struct pcp_writer *pcp_report_text_new(FILE *out, const struct pcp_run_info *info)
{
	struct text_writer *tw = calloc(1, sizeof *tw);

	if (!tw)
		return NULL;
	tw->base.ops = &text_ops;
	tw->base.out = out;
	tw->base.info = info;
	tw->n_stores = info->n_stores;
	tw->n_ats = pcp_run_n_instants(info);
	tw->n_cols = 1 + tw->n_stores * tw->n_ats;
	tw->labels = calloc(tw->n_cols, sizeof *tw->labels);
	tw->rows = calloc(BUFFER_ROWS, sizeof *tw->rows);
	tw->width = calloc(tw->n_cols, sizeof *tw->width);
	tw->notes = calloc(MAX_NOTES, sizeof *tw->notes);
	tw->reasons = calloc(MAX_NOTES, sizeof *tw->reasons);
	tw->summary = pcp_summary_new(info);
	if (!tw->labels || !tw->rows || !tw->width || !tw->notes || !tw->reasons || !tw->summary) {
		text_free(&tw->base);
		return NULL;
	}
	for (size_t k = 0; k + 1 < tw->n_cols; k++)
		if (!(tw->labels[k] = column_label(info, k))) {
			text_free(&tw->base);
			return NULL;
		}
	return &tw->base;
}
