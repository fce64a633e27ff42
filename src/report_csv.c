/* The CSV writer (--format csv): RFC 4180 for spreadsheets, a header row, then one row per
 * address per store per instant, flushed per record; addresses without a chain get rows with
 * empty verdict columns. With --driver, "driver" and "pinned" columns follow and every
 * address gets those rows once per driver (libpq first): a run without --driver keeps its
 * columns. Fields holding a comma, quote, CR or LF are quoted; bytes are kept as they are
 * except invalid UTF-8, which becomes U+FFFD as in JSON. */
#include "report.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

static const char *const columns[] = {
        "target",      "host",           "addr",           "port",
        "status",      "error",          "store",          "at",
        "ok",          "code",           "depth",          "reason",
        "class",       "anchor",         "path_not_after", "expiring",
        "leaf_sha256", "leaf_not_after", "negotiation",    "direct_tls",
};

struct csv_writer {
	struct pcp_writer base; /* first: the interface casts */
	size_t n_ats;           /* info->n_ats, at least 1 (info->at alone when 0) */
	char (*at_text)[32];    /* the instants as RFC 3339 */
};

/* One row being written: fields are separated by commas, the row ends with CRLF. */
struct row {
	FILE *out;
	bool started;
};

static void field(struct row *row, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	bool quote = false;

	if (row->started)
		putc(',', row->out);
	row->started = true;
	for (size_t i = 0; i < len && !quote; i++)
		quote = p[i] == ',' || p[i] == '"' || p[i] == '\r' || p[i] == '\n';
	if (quote)
		putc('"', row->out);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = pcp_utf8_decode(p + i, len - i, &cp);

		if (n == 0) {
			fputs("\xEF\xBF\xBD", row->out);
			n = 1;
		} else if (cp == '"') {
			fputs("\"\"", row->out);
		} else {
			fwrite(p + i, 1, n, row->out);
		}
		i += n;
	}
	if (quote)
		putc('"', row->out);
}

/* A NUL-terminated string; NULL is an empty field. */
static void field_str(struct row *row, const char *s)
{
	field(row, s ? s : "", s ? strlen(s) : 0);
}

/* A fixed-size field of the record, which may lack its NUL if a producer filled it all. */
static void field_buf(struct row *row, const char *buf, size_t size)
{
	field(row, buf, strnlen(buf, size));
}

static void field_int(struct row *row, long long v)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%lld", v);
	field_str(row, buf);
}

static void field_time(struct row *row, time_t t)
{
	char buf[32];

	pcp_format_time(t, buf, sizeof buf);
	field_str(row, buf);
}

static void end_row(struct row *row)
{
	fputs("\r\n", row->out);
	row->started = false;
}

static int csv_begin(struct pcp_writer *base)
{
	struct row row = {base->out, false};

	for (size_t i = 0; i < sizeof columns / sizeof columns[0]; i++)
		field_str(&row, columns[i]);
	if (base->info->n_drivers) {
		field_str(&row, "driver");
		field_str(&row, "pinned");
	}
	end_row(&row);
	return ferror(base->out) ? -1 : 0;
}

/* The record's columns before the store: target .. error. */
static void address_fields(struct row *row, const struct pcp_result *r)
{
	field_str(row, r->target);
	field_str(row, r->host);
	field_buf(row, r->addr, sizeof r->addr);
	field_int(row, r->port);
	field_str(row, pcp_status_name(r->status));
	if (r->status == PCP_STATUS_OK)
		field_str(row, NULL);
	else if (r->error[0] == '\0')
		field_str(row, pcp_status_short(r->status)); /* as in JSON: text when not ok */
	else
		field_buf(row, r->error, sizeof r->error);
}

/* ok .. reason for one verdict, or empty fields when there is none. */
static void verdict_fields(struct row *row, const struct pcp_verdict *v)
{
	if (!v) {
		for (int i = 0; i < 4; i++)
			field_str(row, NULL);
		return;
	}
	field_str(row, v->ok ? "true" : "false");
	field_int(row, v->code);
	field_int(row, v->depth);
	field_buf(row, v->reason, sizeof v->reason);
}

/* The rows of one driver's verdicts (all, n: laid out as the record's) for one record. */
static void driver_rows(struct csv_writer *w, const struct pcp_result *r, const char *driver,
                        const struct pcp_verdict *all, size_t n)
{
	const struct pcp_run_info *info = w->base.info;
	const struct pcp_cert_facts *leaf = r->chain && r->chain_len ? &r->chain[0] : NULL;
	bool judged = r->status == PCP_STATUS_OK && all && n >= w->n_ats * info->n_stores;
	struct row row = {w->base.out, false};

	for (size_t a = 0; a < w->n_ats; a++)
		for (size_t i = 0; i < info->n_stores; i++) {
			const struct pcp_verdict *v = judged ? &all[a * info->n_stores + i] : NULL;

			address_fields(&row, r);
			field_str(&row, info->store_names[i]);
			field_str(&row, w->at_text[a]);
			verdict_fields(&row, v);
			field_str(&row, r->class_name);
			field_str(&row, r->anchor);
			if (v && v->path_not_after != 0)
				field_time(&row, v->path_not_after);
			else
				field_str(&row, NULL);
			field_str(&row, v && info->warn_days >= 0 ? (v->expiring ? "true" : "false")
			                                          : NULL);
			if (leaf) {
				field_buf(&row, leaf->sha256, sizeof leaf->sha256);
				field_time(&row, leaf->not_after);
			} else {
				field_str(&row, NULL);
				field_str(&row, NULL);
			}
			field_str(&row, pcp_negotiation_name(r->negotiation));
			field_str(&row, pcp_direct_tls_name(r->direct_tls));
			if (driver) {
				field_str(&row, driver);
				field_str(&row, v ? (v->pinned ? "true" : "false") : NULL);
			}
			end_row(&row);
		}
}

static int csv_record(struct pcp_writer *base, const struct pcp_result *r)
{
	struct csv_writer *w = (struct csv_writer *)base;
	const struct pcp_run_info *info = base->info;

	driver_rows(w, r, info->n_drivers ? "libpq" : NULL, r->verdicts, r->n_verdicts);
	for (size_t d = 0; d < info->n_drivers; d++)
		driver_rows(w, r, info->driver_names[d],
		            d < r->n_drivers ? r->drivers[d].verdicts : NULL,
		            d < r->n_drivers ? r->drivers[d].n_verdicts : 0);
	/* Pipelines see each record as soon as it is known. */
	if (fflush(base->out) != 0 || ferror(base->out))
		return -1;
	return 0;
}

static int csv_end(struct pcp_writer *base, const struct pcp_run_totals *totals)
{
	(void)totals;
	if (fflush(base->out) != 0 || ferror(base->out))
		return -1;
	return 0;
}

static void csv_free(struct pcp_writer *base)
{
	struct csv_writer *w = (struct csv_writer *)base;

	free(w->at_text);
	free(w);
}

static const struct pcp_writer_ops csv_ops = {
        .begin = csv_begin,
        .record = csv_record,
        .end = csv_end,
        .free = csv_free,
};

struct pcp_writer *pcp_report_csv_new(FILE *out, const struct pcp_run_info *info)
{
	struct csv_writer *w = calloc(1, sizeof *w);

	if (!w)
		return NULL;
	w->base.ops = &csv_ops;
	w->base.out = out;
	w->base.info = info;
	w->n_ats = info->n_ats && info->ats ? info->n_ats : 1;
	if (!(w->at_text = calloc(w->n_ats, sizeof *w->at_text))) {
		free(w);
		return NULL;
	}
	for (size_t a = 0; a < w->n_ats; a++)
		pcp_format_time(info->n_ats && info->ats ? info->ats[a] : info->at, w->at_text[a],
		                sizeof w->at_text[a]);
	return &w->base;
}
