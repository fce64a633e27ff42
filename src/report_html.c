/* The HTML writer (--format html): one self-contained page for a change board, with inline
 * CSS and SVG, no script and no external URL (a Content-Security-Policy forbids both). The
 * table streams out as records arrive (up to MAX_ROWS rows); the summary (report_summary.c's
 * counts) and the timeline follow at the end and are shown above the table by CSS order.
 * Every record field is untrusted bytes: pcp_text_html escapes it and replaces invalid UTF-8,
 * controls and bidi formatting characters. */
#include "report.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "reason.h"
#include "summary.h"
#include "text.h"
#include "utf8.h"

enum {
	MAX_ROWS = 2000,     /* table rows on the page; later addresses are counted in a note */
	MAX_POINTS = 60,     /* distinct days per store on the timeline; the rest are counted */
	POINT_NAMES = 5,     /* addresses named in a timeline point's tooltip */
	MAX_CERTS = 6,       /* served certificates listed per address */
	TEXT_MAX = 300,      /* bytes of one untrusted field shown, then "…" */
	LABEL_MAX = 24,      /* bytes of a store name in the timeline's lane labels */
	SOON_DAYS = 90,      /* "soon" on the timeline when --warn-days is not given */
	DAY = 86400,         /* seconds */
	MIN_SPAN = 180 * DAY /* the timeline spans at least this much */
};

#define OK_MARK   "\xe2\x9c\x93" /* ✓ */
#define FAIL_MARK "\xe2\x9c\x97" /* ✗ */
#define ELLIPSIS  "\xe2\x80\xa6" /* … */
#define DIV_MARK  "\xe2\x89\xa0" /* ≠ */

/* Addresses whose verified path under one store stops verifying on one day. */
struct point {
	time_t day;
	size_t n;
	char *names[POINT_NAMES]; /* sanitised addresses, owned */
};

/* One store's row of the timeline. */
struct lane {
	struct point points[MAX_POINTS];
	size_t n_points;
	size_t others; /* addresses on days past MAX_POINTS */
	size_t never;  /* reachable addresses this store verifies at no instant */
};

struct html_writer {
	struct pcp_writer base; /* first: the interface casts between the two */
	size_t n_stores, n_ats, n_cols;
	time_t now;
	struct pcp_summary *summary;
	struct lane *lanes; /* per store */
	size_t rows, dropped, dropped_failing;
	bool failed; /* an allocation failed */
};

/* ---- escaping ---- */

/* A NUL-terminated untrusted string; NULL writes nothing. */
static void put_str(FILE *out, const char *s)
{
	if (s)
		pcp_text_html(out, s, strlen(s), TEXT_MAX);
}

/* A fixed-size field of the record, which may lack its NUL if a producer filled it all. */
static void put_buf(FILE *out, const char *buf, size_t size)
{
	pcp_text_html(out, buf, strnlen(buf, size), TEXT_MAX);
}

static void put_date(FILE *out, time_t t)
{
	char buf[32];

	pcp_format_time(t, buf, sizeof buf);
	buf[10] = '\0';
	fputs(buf, out);
}

/* A certificate name's CN, escaped ("Test Root"); the whole name when it has none. */
static void put_cn(struct html_writer *w, const char *dn)
{
	char *cn = pcp_text_cn(dn ? dn : "", PCP_CN_DISPLAY, 64);

	if (!cn)
		w->failed = true;
	put_str(w->base.out, cn);
	free(cn);
}

/* ---- the page's frame ---- */

/* Split in pieces: C compilers need not take string literals over 4095 bytes. */
static const char *const style[] = {
        ":root{--ok:#176b2c;--okbg:#e3f3e6;--bad:#a61b0f;--badbg:#fce9e7;--warn:#7a4d00;"
        "--warnbg:#fff1cc;--np:#555;--npbg:#eeeeee;--line:#d0d4d9;--muted:#5b6470}\n",
        "*{box-sizing:border-box}\n",
        "body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',"
        "sans-serif;color:#1d232a;background:#fff}\n",
        ".page{display:flex;flex-direction:column;gap:1.2em;max-width:1400px;margin:0 auto;"
        "padding:1.2em}\n",
        ".page>*{min-width:0}\n",
        "#run{order:0}#summary{order:1}#timeline{order:2}#addresses{order:3}\n",
        "h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.2em;margin:0 0 .5em;"
        "border-bottom:2px solid var(--line);padding-bottom:.2em}h3{font-size:1em;"
        "margin:0 0 .4em}\n",
        "section,header{break-inside:auto}\n",
        ".lead{margin:0 0 .6em;color:var(--muted)}\n",
        "dl.run{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em;margin:0}\n",
        "dl.run dt{font-weight:600}dl.run dd{margin:0}\n",
        ".u{unicode-bidi:isolate;overflow-wrap:anywhere}\n",
        ".host{unicode-bidi:isolate;overflow-wrap:break-word}.ap{display:block;color:var(--muted);"
        "font-size:.82em}\n",
        "code,.mono{font-family:'DejaVu Sans Mono',ui-monospace,monospace;font-size:.88em}\n",
        ".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(17em,1fr));gap:.8em;"
        "margin-bottom:.8em}\n",
        ".card{border:1px solid var(--line);border-radius:6px;padding:.6em .8em}\n",
        ".card ul{list-style:none;margin:0;padding:0}.card li{margin:.35em 0}\n",
        ".badge{display:inline-block;min-width:4.6em;text-align:center;border-radius:3px;"
        "padding:0 .4em;font-size:.85em;font-weight:600}\n",
        ".safe .badge{background:var(--okbg);color:var(--ok)}"
        ".unsafe .badge{background:var(--badbg);color:var(--bad)}"
        ".none .badge{background:var(--npbg);color:var(--np)}\n",
        ".bar{display:block;height:.35em;background:var(--badbg);border-radius:2px;"
        "margin-top:.15em}.bar>span{display:block;height:100%;background:var(--ok);"
        "border-radius:2px}\n",
        ".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(16em,1fr));"
        "gap:.8em 1.6em}\n",
        "table.counts{border-collapse:collapse}table.counts td,table.counts th{padding:.1em "
        ".8em .1em 0;text-align:left;font-weight:normal}table.counts td.n{text-align:right;"
        "font-variant-numeric:tabular-nums;font-weight:600}\n",
        ".zero{color:var(--muted)}\n",
        ".note{color:var(--muted);font-size:.9em}\n",
        "ul.plain{margin:.2em 0;padding-left:1.2em}\n",
        ".scroll{overflow-x:auto;border:1px solid var(--line);border-radius:6px}\n",
        "table.verdicts{border-collapse:collapse;width:100%;font-size:.92em}\n",
        "table.verdicts th,table.verdicts td{border-bottom:1px solid var(--line);"
        "padding:.3em .6em;text-align:left;vertical-align:top}\n",
        "table.verdicts thead th{background:#f5f6f8;white-space:nowrap}\n",
        "table.verdicts th.addr{position:sticky;left:0;background:#fff;font-weight:normal;"
        "min-width:13em;max-width:26em;border-right:1px solid var(--line)}\n",
        "table.verdicts .g0{border-left:2px solid #9aa3ad}\n",
        "td summary{list-style:none;white-space:nowrap}td "
        "summary::-webkit-details-marker{display:none}"
        "td summary .reason{text-decoration:underline dotted;text-underline-offset:2px}\n",
        "table.verdicts thead th.addr{background:#f5f6f8}\n",
        "td.ok{color:var(--ok);background:var(--okbg)}td.exp{color:var(--warn);"
        "background:var(--warnbg)}td.fail{color:var(--bad);background:var(--badbg)}"
        "td.np{color:var(--np);background:var(--npbg)}\n",
        "table.verdicts td{min-width:6.5em}td .long{max-width:30em;color:#1d232a;"
        "font-size:.92em}\n",
        "summary{cursor:pointer}\n",
        ".long p,.facts p{margin:.3em 0}\n",
        "dl.facts{margin:.3em 0;display:grid;grid-template-columns:max-content 1fr;"
        "gap:0 .6em;font-size:.9em}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}\n",
        ".div{color:var(--warn);font-weight:700;margin-left:.3em}\n",
        "svg.timeline{display:block;width:100%;min-width:720px;height:auto;"
        "font-family:inherit}\n",
        "svg .axis line{stroke:var(--line)}svg text{fill:#1d232a;font-size:12px}"
        "svg .lane{fill:#f7f8fa}svg .track{stroke:#aab1ba}svg .sub{fill:var(--muted);"
        "font-size:11px}\n",
        "svg .now{stroke:#1d232a;stroke-width:2}svg .at{stroke:#3b5bdb;stroke-width:1.5;"
        "stroke-dasharray:5 4}svg text.atl{fill:#3b5bdb}\n",
        "svg .gone circle{fill:var(--bad)}svg .soon circle{fill:#d08700}"
        "svg .later circle{fill:var(--ok)}svg .pt text{fill:#fff;font-size:10px;"
        "font-weight:700}\n",
        ".legend span{margin-right:1.2em;white-space:nowrap}.dot{display:inline-block;"
        "width:.8em;height:.8em;border-radius:50%;vertical-align:-.05em;margin-right:.3em}\n",
        ".dot.gone{background:var(--bad)}.dot.soon{background:#d08700}"
        ".dot.later{background:var(--ok)}\n",
        "@media (max-width:700px){body{font-size:14px}.page{padding:.6em}"
        "dl.run{grid-template-columns:1fr}dl.run dd{margin-bottom:.3em}"
        "table.verdicts "
        "th.addr{min-width:0;max-width:12em;font-size:.85em}.host{overflow-wrap:anywhere}}\n",
        "@media print{body{font-size:9.5pt}.page{max-width:none;padding:0}"
        ".scroll{overflow:visible;border:0}table.verdicts th.addr{position:static}"
        "tr,.card,svg{break-inside:avoid}thead{display:table-header-group}"
        "summary{list-style:none;cursor:auto}summary::-webkit-details-marker{display:none}"
        "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
        "svg.timeline{min-width:0}}\n",
};

/* The header: what was run, when, with which stores. */
static void put_run(struct html_writer *w)
{
	const struct pcp_run_info *info = w->base.info;
	FILE *out = w->base.out;
	char when[32];

	fputs("<header id=\"run\"><h1>pgcertprobe report</h1>\n<p class=\"lead\">Would a libpq "
	      "client with each trust store connect to each server? " OK_MARK
	      " verifies, " FAIL_MARK " does not (hover or open a cell for the reason)."
	      "</p>\n<dl class=\"run\">",
	      out);
	pcp_format_time(w->now, when, sizeof when);
	fprintf(out, "<dt>generated</dt><dd>%s by pgcertprobe ", when);
	put_str(out, info->version);
	fprintf(out, "</dd>\n<dt>sslmode</dt><dd>%s</dd>\n<dt>as of</dt><dd>",
	        pcp_sslmode_name(info->sslmode));
	for (size_t a = 0; a < w->n_ats; a++) {
		pcp_text_instant(info, a, when, sizeof when);
		fprintf(out, "%s<span class=\"instant\">%s</span>", a ? ", " : "", when);
		if (pcp_run_is_now(info, a)) {
			pcp_format_time(pcp_run_instant(info, 0), when, sizeof when);
			fprintf(out, " (%s)", when);
		}
	}
	fputs("</dd>\n<dt>stores</dt><dd>", out);
	for (size_t i = 0; i < w->n_stores; i++) {
		fputs(i ? ", " : "", out);
		fputs("<span class=\"store u\"", out);
		if (info->store_paths && info->store_paths[i]) {
			fputs(" title=\"", out);
			put_str(out, info->store_paths[i]);
			putc('"', out);
		}
		putc('>', out);
		put_str(out, info->store_names[i]);
		fputs("</span>", out);
	}
	fputs("</dd>\n", out);
	if (info->warn_days >= 0)
		fprintf(out, "<dt>warn</dt><dd>paths that stop verifying within %g days</dd>\n",
		        info->warn_days);
	fputs("</dl></header>\n", out);
}

/* The table's head: one column per store, grouped by instant when there are several. */
static void put_table_head(struct html_writer *w)
{
	const struct pcp_run_info *info = w->base.info;
	FILE *out = w->base.out;
	bool many = w->n_ats > 1;
	char when[32];

	fputs("<section id=\"addresses\"><h2>Addresses</h2>\n<div class=\"scroll\">"
	      "<table class=\"verdicts\"><thead>\n<tr><th class=\"addr\" scope=\"col\"",
	      out);
	fputs(many ? " rowspan=\"2\">address</th>" : ">address</th>", out);
	for (size_t a = 0; many && a < w->n_ats; a++) {
		pcp_text_instant(info, a, when, sizeof when);
		fprintf(out, "<th scope=\"colgroup\" colspan=\"%zu\"%s>as of %s</th>", w->n_stores,
		        a ? " class=\"g0\"" : "", when);
	}
	if (many)
		fputs("</tr>\n<tr>", out);
	for (size_t a = 0; a < w->n_ats; a++)
		for (size_t i = 0; i < w->n_stores; i++) {
			fputs(many && i == 0 && a > 0 ? "<th scope=\"col\" class=\"store u g0\">"
			                              : "<th scope=\"col\" class=\"store u\">",
			      out);
			put_str(out, info->store_names[i]);
			fputs("</th>", out);
		}
	fputs("</tr>\n</thead><tbody>\n", out);
}

static int html_begin(struct pcp_writer *base)
{
	struct html_writer *w = (struct html_writer *)base;
	FILE *out = base->out;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\">\n"
	      "<meta name=\"generator\" content=\"pgcertprobe\">\n"
	      "<title>pgcertprobe report</title>\n<style>\n",
	      out);
	for (size_t i = 0; i < sizeof style / sizeof style[0]; i++)
		fputs(style[i], out);
	fputs("</style></head>\n<body><div class=\"page\">\n", out);
	put_run(w);
	put_table_head(w);
	return ferror(out) ? -1 : 0;
}

/* ---- one row ---- */

/* "addr:port" or "[v6]:port". */
static void put_addr_port(FILE *out, const struct pcp_result *r)
{
	size_t len = strnlen(r->addr, sizeof r->addr);
	bool v6 = memchr(r->addr, ':', len) != NULL;

	fputs(v6 ? "[" : "", out);
	pcp_text_html(out, r->addr, len, sizeof r->addr);
	fprintf(out, "%s:%u", v6 ? "]" : "", (unsigned)r->port);
}

static void put_cert(FILE *out, const struct pcp_cert_facts *f)
{
	fputs("<span class=\"u\">", out);
	put_str(out, f->subject);
	fputs("</span><br>issued by <span class=\"u\">", out);
	put_str(out, f->issuer);
	fputs("</span><br>valid ", out);
	put_date(out, f->not_before);
	fputs(" to ", out);
	put_date(out, f->not_after);
	fputs(", <span class=\"mono\">SHA-256 ", out);
	pcp_text_html(out, f->sha256, strnlen(f->sha256, sizeof f->sha256), 16);
	fputs("</span>", out);
}

/* The address cell: the address, and on expanding, the target, status, class, anchor and
 * the served chain. */
static void put_address(struct html_writer *w, const struct pcp_result *r)
{
	FILE *out = w->base.out;
	bool has_addr = r->addr[0] != '\0';

	fputs("<th scope=\"row\" class=\"addr\"><details><summary>", out);
	if (!has_addr) {
		fputs("<span class=\"u\">", out);
		put_str(out, r->target ? r->target : r->host ? r->host : "-");
		fputs("</span>", out);
	} else {
		if (r->host && r->host[0] && strncmp(r->host, r->addr, sizeof r->addr) != 0) {
			fputs("<span class=\"host\">", out);
			put_str(out, r->host);
			fputs("</span> ", out);
		}
		fputs("<span class=\"mono ap\">", out);
		put_addr_port(out, r);
		fputs("</span>", out);
	}
	if (r->divergent)
		fputs("<span class=\"div\" title=\"this name's addresses serve different "
		      "chains\">" DIV_MARK "</span>",
		      out);
	fputs("</summary><dl class=\"facts\"><dt>target</dt><dd class=\"u\">", out);
	put_str(out, r->target);
	fprintf(out, "</dd><dt>status</dt><dd>%s", pcp_status_name(r->status));
	if (r->status != PCP_STATUS_OK && r->error[0]) {
		fputs(": <span class=\"u\">", out);
		put_buf(out, r->error, sizeof r->error);
		fputs("</span>", out);
	}
	fputs("</dd>", out);
	if (r->tls_version[0]) {
		fputs("<dt>TLS</dt><dd>", out);
		put_buf(out, r->tls_version, sizeof r->tls_version);
		putc(' ', out);
		put_buf(out, r->tls_cipher, sizeof r->tls_cipher);
		fputs("</dd>", out);
	}
	fprintf(out, "<dt>negotiation</dt><dd>%s", pcp_negotiation_name(r->negotiation));
	if (r->direct_tls != PCP_DIRECT_UNKNOWN)
		fprintf(out, "; direct TLS %s (%s)", pcp_direct_tls_name(r->direct_tls),
		        pcp_direct_basis_name(r->direct_basis));
	fputs("</dd>", out);
	if (r->class_name)
		fprintf(out, "<dt>class</dt><dd>%s</dd>", r->class_name);
	if (r->anchor) {
		fputs("<dt>chain ends at</dt><dd class=\"u\">", out);
		put_str(out, r->anchor);
		fputs("</dd>", out);
	}
	for (size_t i = 0; r->chain && i < r->chain_len && i < MAX_CERTS; i++) {
		fprintf(out, "<dt>%s</dt><dd>", i == 0 ? "served leaf" : "served");
		put_cert(out, &r->chain[i]);
		fputs("</dd>", out);
	}
	if (r->chain && r->chain_len > MAX_CERTS)
		fprintf(out, "<dt>served</dt><dd>" ELLIPSIS " and %zu more</dd>",
		        r->chain_len - MAX_CERTS);
	fputs("</dl></details></th>", out);
}

/* A failing verdict: the short reason, and on hover the error text, on expanding the
 * reason in plain words and the certificate it is about. */
static void put_failure(struct html_writer *w, const struct pcp_result *r,
                        const struct pcp_verdict *v, const char *group)
{
	FILE *out = w->base.out;
	size_t rlen = strnlen(v->reason, sizeof v->reason);
	const struct pcp_cert_facts *f = pcp_reason_path_cert(r, v, v->depth);
	char *words = pcp_reason_text(r, v);

	if (!words)
		w->failed = true;
	fprintf(out, "<td class=\"fail%s\"><details><summary title=\"", group);
	put_buf(out, v->error, sizeof v->error);
	fputs("\">" FAIL_MARK " <span class=\"reason\">", out);
	if (rlen)
		pcp_text_html(out, v->reason, rlen, TEXT_MAX);
	else
		put_buf(out, v->error, sizeof v->error);
	fputs("</span></summary><div class=\"long\"><p class=\"words\">", out);
	put_str(out, words);
	fputs("</p><p class=\"err\"><code>", out);
	put_buf(out, v->error, sizeof v->error);
	fprintf(out, "</code> (code %d", v->code);
	if (v->depth >= 0)
		fprintf(out, ", depth %d", v->depth);
	fputs(")</p>", out);
	if (f) {
		fputs("<p class=\"cert\">", out);
		put_cert(out, f);
		fputs("</p>", out);
	}
	fputs("</div></details></td>", out);
	free(words);
}

/* Cell k (instant * n_stores + store) of r. */
static void put_cell(struct html_writer *w, const struct pcp_result *r, size_t k)
{
	FILE *out = w->base.out;
	/* The first store of every instant but the first: a line between instants. */
	const char *group = w->n_ats > 1 && k && k % w->n_stores == 0 ? " g0" : "";

	if (r->status != PCP_STATUS_OK) {
		fprintf(out, "<td class=\"np%s\" title=\"", group);
		put_buf(out, r->error, sizeof r->error);
		fprintf(out, "\">" FAIL_MARK " %s</td>", pcp_status_short(r->status));
		return;
	}
	if (!r->verdicts || k >= r->n_verdicts) {
		fprintf(out, "<td class=\"np%s\">?</td>", group); /* no verdict: never guess */
		return;
	}
	const struct pcp_verdict *v = &r->verdicts[k];
	if (!v->ok) {
		put_failure(w, r, v, group);
		return;
	}
	fprintf(out, "<td class=\"%s%s\" title=\"verifies", v->expiring ? "exp" : "ok", group);
	if (v->path_not_after) {
		fputs(" until ", out);
		put_date(out, v->path_not_after);
	}
	if (v->anchor) {
		fputs(", through ", out);
		put_cn(w, v->anchor);
	}
	fputs("\">" OK_MARK, out);
	if (v->expiring) {
		fputs(" expires ", out);
		put_date(out, v->path_not_after);
	}
	fputs("</td>", out);
}

static bool any_failure(const struct pcp_result *r)
{
	if (r->status != PCP_STATUS_OK)
		return true;
	for (size_t k = 0; r->verdicts && k < r->n_verdicts; k++)
		if (!r->verdicts[k].ok)
			return true;
	return false;
}

/* ---- the timeline's data ---- */

/* Adds r's address to store i's point for day, or counts it past the cap. */
static void lane_add(struct html_writer *w, struct lane *l, time_t day, const char *name)
{
	struct point *p = NULL;

	for (size_t j = 0; j < l->n_points && !p; j++)
		if (l->points[j].day == day)
			p = &l->points[j];
	if (!p && l->n_points == MAX_POINTS) {
		l->others++;
		return;
	}
	if (!p) {
		p = &l->points[l->n_points++];
		p->day = day;
	}
	if (p->n < POINT_NAMES && name && !(p->names[p->n] = strdup(name)))
		w->failed = true;
	p->n++;
}

/* For each store, when r's verified path stops verifying: the latest path end among the
 * instants at which the store verifies it. */
static void timeline_add(struct html_writer *w, const struct pcp_result *r)
{
	char *name = NULL;

	if (r->status != PCP_STATUS_OK || !r->verdicts)
		return;
	for (size_t i = 0; i < w->n_stores; i++) {
		time_t until = 0;
		bool ok = false;

		for (size_t a = 0; a < w->n_ats; a++) {
			size_t k = a * w->n_stores + i;
			if (k < r->n_verdicts && r->verdicts[k].ok) {
				ok = true;
				if (r->verdicts[k].path_not_after > until)
					until = r->verdicts[k].path_not_after;
			}
		}
		if (!ok) {
			w->lanes[i].never++;
			continue;
		}
		if (!until)
			continue;
		if (!name && !(name = pcp_text_address(r)))
			w->failed = true;
		lane_add(w, &w->lanes[i], until - until % DAY, name);
	}
	free(name);
}

static int html_record(struct pcp_writer *base, const struct pcp_result *r)
{
	struct html_writer *w = (struct html_writer *)base;
	FILE *out = base->out;

	if (pcp_summary_add(w->summary, r) < 0)
		return -1;
	timeline_add(w, r);
	if (w->rows >= MAX_ROWS) {
		w->dropped++;
		w->dropped_failing += any_failure(r);
		return w->failed ? -1 : 0;
	}
	w->rows++;
	fputs("<tr>", out);
	put_address(w, r);
	for (size_t k = 0; k < w->n_cols; k++)
		put_cell(w, r, k);
	fputs("</tr>\n", out);
	return ferror(out) || w->failed ? -1 : 0;
}

/* ---- the summary ---- */

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* Per instant a card: per store whether every reachable server verifies. */
static void put_verdict_cards(struct html_writer *w, const struct pcp_summary_view *v,
                              size_t reachable)
{
	const struct pcp_run_info *info = w->base.info;
	FILE *out = w->base.out;
	char when[32];

	fputs("<div class=\"cards\">", out);
	for (size_t a = 0; a < w->n_ats; a++) {
		pcp_text_instant(info, a, when, sizeof when);
		fprintf(out, "<div class=\"card\"><h3>as of %s</h3><ul>", when);
		for (size_t i = 0; i < w->n_stores; i++) {
			size_t k = a * w->n_stores + i;
			size_t ok = v->verified[k];
			const char *cls = !reachable ? "none" : ok >= reachable ? "safe" : "unsafe";

			fprintf(out,
			        "<li class=\"%s\"><span class=\"badge\">%s</span> <b class=\"u\">",
			        cls,
			        !reachable        ? "no data"
			        : ok >= reachable ? "safe"
			                          : "not safe");
			put_str(out, info->store_names[i]);
			fprintf(out, "</b>: %zu of %zu reachable verify", ok, reachable);
			if (reachable)
				fprintf(out,
				        "<span class=\"bar\"><span "
				        "style=\"width:%.1f%%\"></span></span>",
				        100.0 * (double)ok / (double)reachable);
			if (v->expiring[k]) {
				fprintf(out,
				        "<span class=\"note\">%zu %s verifying within %g days "
				        "(first ",
				        v->expiring[k], plural(v->expiring[k], "stops", "stop"),
				        info->warn_days);
				put_date(out, v->expiring_first[k]);
				fputs(")</span>", out);
			}
			fputs("</li>", out);
		}
		fputs("</ul>", out);
		if (v->fail_all[a])
			fprintf(out, "<p class=\"note\">%zu %s under every store</p>",
			        v->fail_all[a],
			        plural(v->fail_all[a], "server fails", "servers fail"));
		fputs("</div>", out);
	}
	fputs("</div>\n", out);
}

static void put_counts_row(FILE *out, size_t n, const char *cls)
{
	fprintf(out, "<tr%s%s%s><td class=\"n\">%zu</td><th scope=\"row\" class=\"u\">",
	        cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "", n);
}

/* Classes and anchors as counts, and the old store's anchors still depended on. */
static void put_classes_anchors(struct html_writer *w, const struct pcp_summary_view *v)
{
	FILE *out = w->base.out;

	fputs("<div><h3>Migration classes</h3><table class=\"counts\">", out);
	for (size_t i = 0; i < v->n_classes; i++) {
		put_counts_row(out, v->classes[i].n, v->classes[i].n ? NULL : "zero");
		put_str(out, v->classes[i].key);
		fputs("</th></tr>", out);
	}
	if (v->other_classes) {
		put_counts_row(out, v->other_classes, NULL);
		fputs("other</th></tr>", out);
	}
	fputs("</table></div>\n<div><h3>Chains end at</h3>", out);
	if (!v->n_anchors)
		fputs("<p class=\"note\">no chain was captured</p>", out);
	else
		fputs("<table class=\"counts\">", out);
	for (size_t i = 0; i < v->n_anchors; i++) {
		fprintf(out, "<tr><td class=\"n\">%zu</td><th scope=\"row\" class=\"u\" title=\"",
		        v->anchors[i].n);
		put_str(out, v->anchors[i].key);
		fputs("\">", out);
		put_cn(w, v->anchors[i].key);
		fputs("</th></tr>", out);
	}
	if (v->other_anchors) {
		put_counts_row(out, v->other_anchors, NULL);
		fputs("elsewhere</th></tr>", out);
	}
	if (v->n_anchors)
		fputs("</table>", out);
	for (size_t i = 0; i < v->n_old_anchors; i++) {
		fprintf(out, "<p class=\"old\">%zu %s a chain ending at '<span class=\"u\">",
		        v->old_anchors[i].n,
		        plural(v->old_anchors[i].n, "server still serves", "servers still serve"));
		put_cn(w, v->old_anchors[i].key);
		fputs("</span>' (the old store's root)</p>", out);
	}
	if (v->other_old_anchors)
		fprintf(out, "<p class=\"old\">%zu more at other anchors of the old store</p>",
		        v->other_old_anchors);
	fputs("</div>\n", out);
}

/* A capped list of the summary's lines (sanitised, leading blanks dropped). */
static void put_lines(FILE *out, const struct pcp_summary_lines *l, const char *what)
{
	fputs("<ul class=\"plain\">", out);
	for (size_t i = 0; i < l->n; i++) {
		const char *s = l->items[i];

		while (*s == ' ')
			s++;
		fputs("<li class=\"u\">", out);
		put_str(out, s);
		fputs("</li>", out);
	}
	if (l->dropped)
		fprintf(out, "<li class=\"note\">" ELLIPSIS " and %zu more %s</li>", l->dropped,
		        what);
	fputs("</ul>", out);
}

/* Divergent names, the client audit, --future-chain and changes, where present. */
static void put_extras(struct html_writer *w, const struct pcp_summary_view *v)
{
	const struct pcp_run_info *info = w->base.info;
	FILE *out = w->base.out;

	if (v->divergent->n) {
		fputs("<div><h3>Divergent names</h3><p class=\"note\">Their addresses serve "
		      "different chains (" DIV_MARK " in the table).</p>",
		      out);
		put_lines(out, v->divergent, "names");
		fputs("</div>\n", out);
	}
	if (v->clients) {
		fprintf(out,
		        "<div><h3>Client audit</h3><p>%zu %s audited: %zu connect now (%zu "
		        "unencrypted), %zu fail</p>",
		        v->clients, plural(v->clients, "client", "clients"), v->now_connect,
		        v->now_plain, v->clients - v->now_connect);
		if (v->after_clients)
			fprintf(out,
			        "<p>after the switch: %zu connect (%zu unencrypted), %zu fail</p>",
			        v->after_connect, v->after_plain,
			        v->after_clients - v->after_connect);
		if (v->client_notes->n)
			put_lines(out, v->client_notes, "failing clients");
		fputs("</div>\n", out);
	}
	if (v->any_future) {
		fputs("<div><h3>After the switch (--future-chain)</h3><table class=\"counts\">",
		      out);
		for (size_t i = 0; i < w->n_stores; i++) {
			fprintf(out,
			        "<tr class=\"%s\"><td class=\"n\">%zu/%zu</td><th scope=\"row\">",
			        v->future_ok[i] == v->future_n[i] ? "safe" : "unsafe",
			        v->future_ok[i], v->future_n[i]);
			fputs("<span class=\"u\">", out);
			put_str(out, info->store_names[i]);
			fputs("</span> verifies the future chain</th></tr>", out);
		}
		fputs("</table></div>\n", out);
	}
	if (v->has_baseline) {
		fputs("<div><h3>Changes since the baseline</h3>", out);
		if (!v->changes)
			fputs("<p>none</p>", out);
		else
			fprintf(out, "<p>%zu in %zu %s</p>", v->changes, v->changed_records,
			        plural(v->changed_records, "address", "addresses"));
		if (v->change_notes->n)
			put_lines(out, v->change_notes, "changes");
		fputs("</div>\n", out);
	}
}

static void put_summary(struct html_writer *w, const struct pcp_run_totals *totals)
{
	FILE *out = w->base.out;
	struct pcp_summary_view v;

	pcp_summary_view(w->summary, &v);
	size_t records = totals ? totals->records : v.records;
	size_t not_probed = totals ? totals->not_probed : v.not_probed;
	size_t reachable = records >= not_probed ? records - not_probed : 0;

	fprintf(out,
	        "<section id=\"summary\"><h2>Summary</h2>\n<p class=\"totals\"><b>%zu</b> %s, "
	        "<b>%zu</b> reached TLS, <b>%zu</b> could not be probed.",
	        records, plural(records, "address", "addresses"), reachable, not_probed);
	if (totals && totals->interrupted)
		fputs(" <b>Interrupted:</b> not all targets were probed.", out);
	fputs("</p>\n", out);
	put_verdict_cards(w, &v, reachable);
	fputs("<div class=\"grid\">\n", out);
	put_classes_anchors(w, &v);
	put_extras(w, &v);
	fputs("</div></section>\n", out);
}

/* ---- the timeline ---- */

enum {
	SVG_W = 1000,
	SVG_LEFT = 170,  /* x where the plot starts: lane labels to its left */
	SVG_RIGHT = 975, /* x where the plot ends */
	SVG_TOP = 46,    /* y of the first lane: instant labels and the axis above */
	LANE_H = 48,
};

struct scale {
	time_t t0, t1;
};

static double x_of(const struct scale *sc, time_t t)
{
	double f = (double)(t - sc->t0) / (double)(sc->t1 - sc->t0);

	if (f < 0)
		f = 0;
	if (f > 1)
		f = 1;
	return SVG_LEFT + f * (SVG_RIGHT - SVG_LEFT);
}

/* The span to draw: now, every instant and every point, padded; at least MIN_SPAN. */
static struct scale timeline_scale(const struct html_writer *w)
{
	const struct pcp_run_info *info = w->base.info;
	time_t lo = w->now, hi = w->now;

	for (size_t a = 0; a < w->n_ats; a++) {
		time_t t = pcp_run_instant(info, a);
		lo = t < lo ? t : lo;
		hi = t > hi ? t : hi;
	}
	for (size_t i = 0; i < w->n_stores; i++)
		for (size_t j = 0; j < w->lanes[i].n_points; j++) {
			time_t t = w->lanes[i].points[j].day;
			lo = t < lo ? t : lo;
			hi = t > hi ? t : hi;
		}
	if (hi - lo < MIN_SPAN) {
		time_t mid = lo + (hi - lo) / 2;
		lo = mid - MIN_SPAN / 2;
		hi = mid + MIN_SPAN / 2;
	}
	time_t pad = (hi - lo) / 25;
	return (struct scale){lo - pad, hi + pad};
}

/* Calendar ticks along the axis: every 1, 3 or 6 months or 1, 2, 5, 10… years, at most
 * about ten of them. */
static void put_axis(FILE *out, const struct scale *sc, int bottom)
{
	static const int steps[] = {1, 3, 6, 12, 24, 60, 120, 240, 600, 1200};
	struct tm tm0, tm1;
	time_t t0 = sc->t0, t1 = sc->t1;
	int step = steps[sizeof steps / sizeof steps[0] - 1];

	if (!gmtime_r(&t0, &tm0) || !gmtime_r(&t1, &tm1))
		return; /* beyond the calendar: no ticks */
	long m0 = (long)(tm0.tm_year + 1900) * 12 + tm0.tm_mon;
	long m1 = (long)(tm1.tm_year + 1900) * 12 + tm1.tm_mon;
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if ((m1 - m0) / steps[i] <= 10) {
			step = steps[i];
			break;
		}
	fputs("<g class=\"axis\">", out);
	for (long m = (m0 / step + 1) * step; m <= m1; m += step) {
		struct tm tm = {
		        .tm_year = (int)(m / 12 - 1900), .tm_mon = (int)(m % 12), .tm_mday = 1};
		double x = x_of(sc, timegm(&tm));

		fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", x, SVG_TOP - 6,
		        x, bottom);
		if (step >= 12)
			fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%ld</text>",
			        x, bottom + 14, m / 12);
		else
			fprintf(out,
			        "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%ld-%02ld</text>",
			        x, bottom + 14, m / 12, m % 12 + 1);
	}
	fputs("</g>\n", out);
}

/* Vertical marks for now and every instant, labels staggered over two rows. */
static void put_marks(struct html_writer *w, const struct scale *sc, int bottom)
{
	const struct pcp_run_info *info = w->base.info;
	FILE *out = w->base.out;
	double xn = x_of(sc, w->now);
	char when[32];

	fprintf(out,
	        "<g class=\"marks\"><line class=\"now\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
	        "y2=\"%d\"/><text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-weight=\"700\">"
	        "now</text>",
	        xn, SVG_TOP - 14, xn, bottom, xn, 12);
	for (size_t a = 0; a < w->n_ats; a++) {
		time_t t = pcp_run_instant(info, a);
		double x = x_of(sc, t);

		if (pcp_run_is_now(info, a))
			continue; /* drawn as now */
		pcp_text_instant(info, a, when, sizeof when);
		fprintf(out,
		        "<line class=\"at\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/><text "
		        "class=\"atl\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
		        x, SVG_TOP - 14, x, bottom, x, a % 2 ? 26 : 38, when);
	}
	fputs("</g>\n", out);
}

static int point_cmp(const void *a, const void *b)
{
	time_t x = ((const struct point *)a)->day, y = ((const struct point *)b)->day;

	return x < y ? -1 : x > y;
}

/* One store's lane: its name, counts, and a dot per day (a number inside when several
 * addresses share it), coloured by whether that day is past, soon or later. */
static void put_lane(struct html_writer *w, const struct scale *sc, size_t i)
{
	const struct pcp_run_info *info = w->base.info;
	FILE *out = w->base.out;
	struct lane *l = &w->lanes[i];
	int y = SVG_TOP + (int)i * LANE_H;
	int mid = y + LANE_H / 2;
	double soon = info->warn_days >= 0 ? info->warn_days : SOON_DAYS;
	double last_x = -100;
	int stagger = 0;
	size_t drawn = 0;

	for (size_t j = 0; j < l->n_points; j++)
		drawn += l->points[j].n;
	fprintf(out,
	        "<g class=\"store-lane\"><rect class=\"lane\" x=\"0\" y=\"%d\" width=\"%d\" "
	        "height=\"%d\"/>",
	        y + 2, SVG_W, LANE_H - 4);
	fprintf(out, "<text x=\"8\" y=\"%d\" font-weight=\"700\">", mid - 3);
	if (info->store_names[i])
		pcp_text_html(out, info->store_names[i], strlen(info->store_names[i]), LABEL_MAX);
	fprintf(out, "</text><text class=\"sub\" x=\"8\" y=\"%d\">%zu verify, %zu never", mid + 12,
	        drawn + l->others, l->never);
	fprintf(out, "</text><line class=\"track\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
	        SVG_LEFT, mid, SVG_RIGHT, mid);
	qsort(l->points, l->n_points, sizeof l->points[0], point_cmp);
	for (size_t j = 0; j < l->n_points; j++) {
		const struct point *p = &l->points[j];
		double x = x_of(sc, p->day);
		double days = (double)(p->day - w->now) / DAY;
		const char *cls = days < 0 ? "gone" : days <= soon ? "soon" : "later";
		int r = p->n > 1 ? 8 : 6;

		/* Dots closer than their size alternate above and below the track. */
		stagger = x - last_x < 14 ? (stagger <= 0 ? 10 : -10) : 0;
		last_x = x;
		fprintf(out, "<g class=\"pt %s\"><title>", cls);
		fprintf(out, "%zu %s verifying under ", p->n,
		        days < 0 ? plural(p->n, "address stopped", "addresses stopped")
		                 : plural(p->n, "address stops", "addresses stop"));
		put_str(out, info->store_names[i]);
		fputs(" on ", out);
		put_date(out, p->day);
		for (size_t k = 0; k < p->n && k < POINT_NAMES; k++) {
			fputs(k ? ", " : ": ", out);
			put_str(out, p->names[k]);
		}
		if (p->n > POINT_NAMES)
			fprintf(out, " and %zu more", p->n - POINT_NAMES);
		fprintf(out, "</title><circle cx=\"%.1f\" cy=\"%d\" r=\"%d\"/>", x, mid + stagger,
		        r);
		if (p->n > 1)
			fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%zu</text>",
			        x, mid + stagger + 4, p->n > 99 ? (size_t)99 : p->n);
		fputs("</g>", out);
	}
	fputs("</g>\n", out);
}

static void put_timeline(struct html_writer *w)
{
	const struct pcp_run_info *info = w->base.info;
	FILE *out = w->base.out;
	struct scale sc = timeline_scale(w);
	int bottom = SVG_TOP + (int)w->n_stores * LANE_H;
	size_t others = 0;

	fprintf(out,
	        "<section id=\"timeline\"><h2>Timeline</h2>\n<p class=\"note\">For each store, "
	        "when each server's verified path stops verifying (the earliest expiry along the "
	        "path the store's client builds), with now and every instant of the run marked. "
	        "Hover a dot for its addresses.</p>\n<div class=\"scroll\"><svg class=\"timeline\" "
	        "viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"tl-title\" "
	        "xmlns=\"http://www.w3.org/2000/svg\"><title id=\"tl-title\">When each server's "
	        "verified path stops verifying, per store</title>\n",
	        SVG_W, bottom + 24);
	put_axis(out, &sc, bottom);
	for (size_t i = 0; i < w->n_stores; i++) {
		put_lane(w, &sc, i);
		others += w->lanes[i].others;
	}
	put_marks(w, &sc, bottom);
	fputs("</svg></div>\n<p class=\"legend note\"><span><span class=\"dot gone\"></span>"
	      "stopped verifying before now</span> ",
	      out);
	fprintf(out, "<span><span class=\"dot soon\"></span>stops within %g days</span> ",
	        info->warn_days >= 0 ? info->warn_days : (double)SOON_DAYS);
	fputs("<span><span class=\"dot later\"></span>later</span> <span>a number: addresses "
	      "sharing the day</span> <span>dashed: instants of the run</span></p>",
	      out);
	if (others)
		fprintf(out,
		        "<p class=\"note\">%zu more %s on other days not drawn (at most %d days "
		        "per store).</p>",
		        others, plural(others, "address", "addresses"), MAX_POINTS);
	fputs("</section>\n", out);
}

static int html_end(struct pcp_writer *base, const struct pcp_run_totals *totals)
{
	struct html_writer *w = (struct html_writer *)base;
	FILE *out = base->out;

	if (!w->rows)
		fprintf(out, "<tr><td colspan=\"%zu\" class=\"note\">no addresses</td></tr>\n",
		        w->n_cols + 1);
	fputs("</tbody></table></div>\n", out);
	if (w->dropped)
		fprintf(out,
		        "<p class=\"note\" id=\"rows-left-out\">The table shows the first %d "
		        "addresses: "
		        "%zu more (%zu of them with a failure) are left out; the summary and the "
		        "timeline count every address. Every record: --format json or csv.</p>\n",
		        MAX_ROWS, w->dropped, w->dropped_failing);
	fputs("</section>\n", out);
	put_summary(w, totals);
	put_timeline(w);
	fputs("</div></body></html>\n", out);
	if (fflush(out) != 0 || ferror(out) || w->failed)
		return -1;
	return 0;
}

static void html_free(struct pcp_writer *base)
{
	struct html_writer *w = (struct html_writer *)base;

	for (size_t i = 0; w->lanes && i < w->n_stores; i++)
		for (size_t j = 0; j < w->lanes[i].n_points; j++)
			for (size_t k = 0; k < POINT_NAMES; k++)
				free(w->lanes[i].points[j].names[k]);
	free(w->lanes);
	pcp_summary_free(w->summary);
	free(w);
}

static const struct pcp_writer_ops html_ops = {
        .begin = html_begin,
        .record = html_record,
        .end = html_end,
        .free = html_free,
};

struct pcp_writer *pcp_report_html_new(FILE *out, const struct pcp_run_info *info)
{
	struct html_writer *w = calloc(1, sizeof *w);

	if (!w)
		return NULL;
	w->base.ops = &html_ops;
	w->base.out = out;
	w->base.info = info;
	w->n_stores = info->n_stores;
	w->n_ats = pcp_run_n_instants(info);
	w->n_cols = w->n_stores * w->n_ats;
	/* The run's now; a page made from records without one (tests) uses the clock. */
	w->now = info->now ? info->now : time(NULL);
	w->lanes = calloc(w->n_stores + 1, sizeof *w->lanes);
	w->summary = pcp_summary_new(info);
	if (!w->lanes || !w->summary) {
		html_free(&w->base);
		return NULL;
	}
	return &w->base;
}
