/* Unit tests of the HTML writer: every page is read back by a strict little tag reader
 * (known elements and attributes only, properly nested, valid UTF-8, no '<' or '"' from a
 * record outside an entity), then checked for content: escaping of hostile bytes (<script>,
 * quotes, ampersands, invalid UTF-8, bidi controls), a page without records, several
 * instants, the summary's counts, the timeline and the row cap. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "testrecords.h"
#include "testutil.h"

static const char *const store_names[] = {"old", "new", "combined"};

#define OK_MARK   "\xe2\x9c\x93"
#define FAIL_MARK "\xe2\x9c\x97"

/* ---- a strict reader of the page's markup ---- */

static const char *const elements[] = {
        "html",  "head",  "meta", "title", "style", "body",    "div",     "header",  "h1",
        "h2",    "h3",    "p",    "dl",    "dt",    "dd",      "span",    "section", "table",
        "thead", "tbody", "tr",   "th",    "td",    "details", "summary", "code",    "b",
        "br",    "ul",    "li",   "svg",   "g",     "rect",    "text",    "line",    "circle",
};
static const char *const attributes[] = {
        "lang",    "charset", "name",        "content",     "http-equiv",
        "class",   "id",      "title",       "scope",       "colspan",
        "rowspan", "style",   "viewBox",     "role",        "aria-labelledby",
        "xmlns",   "x",       "y",           "x1",          "y1",
        "x2",      "y2",      "cx",          "cy",          "r",
        "width",   "height",  "text-anchor", "font-weight",
};

static bool in(const char *const *list, size_t n, const char *s, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == len && strncmp(list[i], s, len) == 0)
			return true;
	return false;
}

#define IN(list, s, len) in(list, sizeof list / sizeof list[0], s, len)

static size_t name_len(const char *p)
{
	size_t n = 0;

	while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
	       (p[n] >= '0' && p[n] <= '9') || p[n] == '-')
		n++;
	return n;
}

/* Reads the whole page: the doctype, then tags and text. Every tag is a known element
 * with known attributes in double quotes; the elements nest properly (meta and br are
 * void, SVG shapes close themselves); text and values hold no '<' and no raw '"', and every
 * '&' starts one of the entities the writer uses. Returns how many elements it read. */
static size_t check_markup(const char *page)
{
	const char *stack[64];
	size_t depth = 0, count = 0;
	const char *p = page;
	const char *doctype = "<!DOCTYPE html>\n";

	assert_true(pcp_test_valid_utf8(page, strlen(page)));
	assert_memory_equal(p, doctype, strlen(doctype));
	p += strlen(doctype);
	while (*p) {
		if (*p == '&') {
			assert_true(strncmp(p, "&amp;", 5) == 0 || strncmp(p, "&lt;", 4) == 0 ||
			            strncmp(p, "&gt;", 4) == 0 || strncmp(p, "&quot;", 6) == 0 ||
			            strncmp(p, "&#39;", 5) == 0);
			p++;
			continue;
		}
		if (*p != '<') {
			p++;
			continue;
		}
		bool closing = p[1] == '/';
		const char *name = p + 1 + closing;
		size_t len = name_len(name);
		if (!IN(elements, name, len))
			fail_msg("unknown element at: %.40s", p);
		p = name + len;
		if (closing) {
			assert_int_equal(*p, '>');
			assert_true(depth > 0);
			depth--;
			if (strncmp(stack[depth], name, len) != 0 || name_len(stack[depth]) != len)
				fail_msg("</%.*s> closes <%.10s>", (int)len, name, stack[depth]);
			p++;
			continue;
		}
		count++;
		for (;;) {
			while (*p == ' ' || *p == '\n')
				p++;
			if (*p == '>' || (p[0] == '/' && p[1] == '>'))
				break;
			size_t alen = name_len(p);
			if (!IN(attributes, p, alen))
				fail_msg("unknown attribute at: %.40s", p);
			p += alen;
			assert_memory_equal(p, "=\"", 2);
			p += 2;
			const char *end = strchr(p, '"');
			assert_non_null(end);
			assert_null(memchr(p, '<', (size_t)(end - p)));
			p = end + 1;
		}
		bool self = *p == '/';
		p += self ? 2 : 1;
		if (self || (len == 4 && strncmp(name, "meta", 4) == 0) ||
		    (len == 2 && strncmp(name, "br", 2) == 0))
			continue;
		if (len == 5 && strncmp(name, "style", 5) == 0) {
			const char *end = strstr(p, "</style>");
			assert_non_null(end);
			assert_null(memchr(p, '<', (size_t)(end - p)));
			p = end;
		}
		assert_true(depth < sizeof stack / sizeof stack[0]);
		stack[depth++] = name;
	}
	assert_int_equal(depth, 0);
	return count;
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* ---- records ---- */

/* An ok record with a two-certificate chain (leaf CN=host, intermediate, root from the
 * store); oks[a * 3 + i]: store i verifies at instant a. Failures are "root expired". */
static void make_ok(struct pcp_result *r, const char *host, const char *addr, const bool *oks,
                    size_t n_ats, time_t until)
{
	pcp_test_record(r, host, host, addr, 5432, PCP_STATUS_OK, "");
	pcp_test_set_str(r->tls_version, sizeof r->tls_version, "TLSv1.3");
	r->chain = calloc(2, sizeof *r->chain);
	assert_non_null(r->chain);
	r->chain_len = 2;
	r->chain[0].subject = pcp_test_strdup("CN=db.example.com,O=Acme");
	r->chain[0].issuer = pcp_test_strdup("CN=Acme Intermediate,O=Acme");
	r->chain[0].not_after = 1900000000;
	pcp_test_fill_hex(r->chain[0].sha256, 'a');
	r->chain[1].subject = pcp_test_strdup("CN=Acme Intermediate,O=Acme");
	r->chain[1].issuer = pcp_test_strdup("CN=Old Root,O=Acme");
	r->chain[1].not_after = 1900000000;
	pcp_test_fill_hex(r->chain[1].sha256, 'b');
	r->verdicts = calloc(3 * n_ats, sizeof *r->verdicts);
	assert_non_null(r->verdicts);
	r->n_verdicts = 3 * n_ats;
	for (size_t k = 0; k < 3 * n_ats; k++) {
		struct pcp_verdict *v = &r->verdicts[k];

		v->ok = oks[k];
		v->code = oks[k] ? 0 : 10;
		v->depth = oks[k] ? -1 : 2;
		if (!oks[k]) {
			pcp_test_set_str(v->reason, sizeof v->reason, "root expired 2025-05-12");
			pcp_test_set_str(v->error, sizeof v->error,
			                 "certificate verify failed: certificate has expired");
		}
		v->path_not_after = until;
		v->anchor = pcp_test_strdup("CN=Old Root,O=Acme");
	}
	r->class_name = oks[0] && oks[1] ? "both"
	                : oks[0]         ? "old-only"
	                : oks[1]         ? "new-only"
	                                 : "neither";
	r->anchor = pcp_test_strdup("CN=Old Root,O=Acme");
}

/* ---- tests ---- */

static void test_format_name(void **state)
{
	enum pcp_format f = PCP_FORMAT_TEXT;

	(void)state;
	assert_int_equal(pcp_format_parse("html", &f), 0);
	assert_int_equal(f, PCP_FORMAT_HTML);
	assert_int_equal(pcp_format_parse("HTML", &f), -1);
}

/* Attacker-chosen bytes everywhere a record carries text: they come out as text. */
static void test_escaping(void **state)
{
	static const char *const hostile_stores[] = {"old<b>", "new\"x", "comb'&"};
	struct pcp_run_info info = pcp_test_run_info(hostile_stores, 1, -1);
	const bool oks[3] = {false, true, true};
	struct pcp_result r[2];

	(void)state;
	make_ok(&r[0], "db.example.com", "10.0.0.1", oks, 1, 1900000000);
	free(r[0].target);
	r[0].target = pcp_test_strdup("host=<script>alert(1)</script> x=\"q\" y='s' a&b");
	free(r[0].chain[0].subject);
	/* Invalid UTF-8 (a lone continuation byte, an overlong '/', a surrogate) and a bidi
	 * override (U+202E) that would reverse what follows it. */
	r[0].chain[0].subject = pcp_test_strdup(
	        "CN=<script>alert(1)</script>,O=\"A&B\" 'C' \x80\xc0\xaf\xed\xa0\x80 "
	        "\xe2\x80\xaetxt.exe\xe2\x81\xa6");
	pcp_test_set_str(r[0].verdicts[0].error, sizeof r[0].verdicts[0].error,
	                 "<img src=x onerror=alert(2)> \"quoted\" & 'single'\n\x01");
	pcp_test_set_str(r[0].verdicts[0].reason, sizeof r[0].verdicts[0].reason,
	                 "<i>reason</i>\xff");
	free(r[0].verdicts[1].anchor);
	r[0].verdicts[1].anchor = pcp_test_strdup("CN=<svg onload=alert(3)>,O=x");
	r[0].divergent = true;
	pcp_test_unreachable(&r[1], "host=<b>bold</b>", "", PCP_STATUS_DNS_FAILED,
	                     "could not resolve \"<b>bold</b>\": \xe2\x80\xae\xfe");
	free(r[1].host);
	r[1].host = pcp_test_strdup("<b>bold</b>");
	char *out = pcp_test_run_writer(PCP_FORMAT_HTML, &info, r, 2, NULL);

	check_markup(out);
	assert_null(strstr(out, "<script"));
	assert_null(strstr(out, "<img"));
	assert_null(strstr(out, "<i>"));
	assert_null(strstr(out, "<b>bold"));
	assert_null(strstr(out, "<svg onload"));
	assert_null(strstr(out, "\xe2\x80\xae")); /* U+202E */
	assert_null(strstr(out, "\xe2\x81\xa6")); /* U+2066 */
	assert_non_null(strstr(out, "host=&lt;script&gt;alert(1)&lt;/script&gt; x=&quot;q&quot; "
	                            "y=&#39;s&#39; a&amp;b"));
	assert_non_null(strstr(out, "CN=&lt;script&gt;alert(1)&lt;/script&gt;,O=&quot;A&amp;B&quot;"
	                            " &#39;C&#39; \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"));
	assert_non_null(strstr(out, "\xef\xbf\xbdtxt.exe\xef\xbf\xbd"));
	/* The error as a title (newline as a space, control replaced) and as text. */
	assert_non_null(strstr(out, "title=\"&lt;img src=x onerror=alert(2)&gt; &quot;quoted&quot; "
	                            "&amp; &#39;single&#39; \xef\xbf\xbd\""));
	assert_non_null(strstr(out, FAIL_MARK " <span class=\"reason\">&lt;i&gt;reason&lt;/i&gt;"
	                                      "\xef\xbf\xbd</span>"));
	assert_non_null(strstr(out, "through &lt;svg onload=alert(3)&gt;\""));
	assert_non_null(strstr(out, "old&lt;b&gt;"));
	assert_non_null(strstr(out, "new&quot;x"));
	assert_non_null(strstr(out, "comb&#39;&amp;"));
	assert_non_null(strstr(out, "&lt;b&gt;bold&lt;/b&gt;"));
	/* The divergent name, as the summary lists it. */
	assert_non_null(strstr(out, "<h3>Divergent names</h3>"));
	free(out);
	pcp_result_cleanup(&r[0]);
	pcp_result_cleanup(&r[1]);
}

/* No records at all: a whole page that says so. */
static void test_empty_page(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 1, -1);
	size_t verified[3] = {0, 0, 0};
	struct pcp_run_totals totals = {.verified = verified};

	(void)state;
	char *out = pcp_test_run_writer(PCP_FORMAT_HTML, &info, NULL, 0, &totals);
	assert_true(check_markup(out) > 20);
	assert_non_null(strstr(out, "<meta http-equiv=\"Content-Security-Policy\" "
	                            "content=\"default-src 'none'; style-src 'unsafe-inline'\">"));
	assert_non_null(strstr(out, "no addresses"));
	assert_non_null(strstr(out, "<b>0</b> addresses"));
	assert_int_equal(count_of(out, "no data"), 3);
	assert_int_equal(count_of(out, "<circle"), 0);
	assert_int_equal(count_of(out, "class=\"at\""), 1); /* --at 2021-02-15 */
	assert_int_equal(count_of(out, "class=\"now\""), 1);
	/* No external URL: the SVG namespace is a name, not a fetch. */
	assert_int_equal(count_of(out, "://"),
	                 count_of(out, "xmlns=\"http://www.w3.org/2000/svg\""));
	assert_null(strstr(out, "url("));
	size_t len = strlen(out);
	assert_true(len > 20);
	assert_string_equal(out + len - strlen("</html>\n"), "</html>\n");
	free(out);

	/* An interrupted run says so. */
	totals.interrupted = true;
	out = pcp_test_run_writer(PCP_FORMAT_HTML, &info, NULL, 0, &totals);
	assert_non_null(strstr(out, "Interrupted:"));
	free(out);
}

/* Two instants: grouped headers, six cells per row, a dashed mark per instant, and the
 * timeline point at the latest path end among the instants that verify. */
static void test_several_instants(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 2, 30);
	const bool oks[6] = {true, false, true, false, false, true};
	struct pcp_result r[3];

	(void)state;
	make_ok(&r[0], "a.example.com", "10.0.0.1", oks, 2, 1747094340);
	make_ok(&r[1], "b.example.com", "10.0.0.2", oks, 2, 1747094340);
	make_ok(&r[2], "c.example.com", "10.0.0.3", oks, 2, 1900000000);
	r[2].verdicts[5].path_not_after = 1950000000; /* later at the second instant */
	char *out = pcp_test_run_writer(PCP_FORMAT_HTML, &info, r, 3, NULL);

	check_markup(out);
	assert_non_null(strstr(out, "<th scope=\"colgroup\" colspan=\"3\">as of 2021-02-15</th>"));
	assert_non_null(strstr(
	        out, "<th scope=\"colgroup\" colspan=\"3\" class=\"g0\">as of 2025-06-01</th>"));
	assert_int_equal(count_of(out, "<tr><th scope=\"row\""), 3);
	assert_int_equal(count_of(out, "<td class=\"ok"), 3 * 3);
	assert_int_equal(count_of(out, "<td class=\"fail"), 3 * 3);
	assert_int_equal(count_of(out, "<td class=\"fail g0\">"), 3); /* old at 2025-06-01 */
	assert_int_equal(count_of(out, "class=\"at\""), 2);
	/* Cards per instant: old verifies 3 of 3 at the first, 0 at the second. */
	assert_non_null(strstr(out, "<h3>as of 2021-02-15</h3>"));
	assert_non_null(strstr(out, "<h3>as of 2025-06-01</h3>"));
	assert_non_null(strstr(out, "<b class=\"u\">old</b>: 3 of 3 reachable verify"));
	assert_non_null(strstr(out, "<b class=\"u\">old</b>: 0 of 3 reachable verify"));
	assert_null(strstr(out, "under every store")); /* combined verifies at the second */
	/* Timeline: old has one dot for a and b (2025-05-12, two addresses) and one for c;
	 * new never verifies; combined's c is on its second instant's later day. */
	assert_non_null(strstr(out, "2 addresses stopped verifying under old on "
	                            "2025-05-12: a.example.com 10.0.0.1:5432, b.example.com "
	                            "10.0.0.2:5432</title>"));
	assert_non_null(strstr(out, "1 address stops verifying under combined on 2031-10-17: "
	                            "c.example.com 10.0.0.3:5432</title>"));
	assert_non_null(strstr(out, ">3 verify, 0 never<"));
	assert_non_null(strstr(out, ">0 verify, 3 never<"));
	assert_int_equal(count_of(out, "<circle"), 4);
	free(out);
	for (size_t i = 0; i < 3; i++)
		pcp_result_cleanup(&r[i]);
}

/* The failure's long reason: plain words, OpenSSL's text, the certificate it is about. */
static void test_failure_details(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 1, 30);
	const bool oks[3] = {false, true, true};
	struct pcp_result r;

	(void)state;
	make_ok(&r, "db.example.com", "10.0.0.1", oks, 1, 1900000000);
	r.verdicts[0].depth = 1;
	r.verdicts[0].path = calloc(2, sizeof *r.verdicts[0].path);
	assert_non_null(r.verdicts[0].path);
	r.verdicts[0].path_len = 2;
	pcp_test_fill_hex(r.verdicts[0].path[0], 'a');
	pcp_test_fill_hex(r.verdicts[0].path[1], 'b');
	r.verdicts[2].expiring = true;
	char *out = pcp_test_run_writer(PCP_FORMAT_HTML, &info, &r, 1, NULL);

	check_markup(out);
	assert_non_null(strstr(out, "<p class=\"words\">the intermediate &#39;Acme "
	                            "Intermediate&#39; expired on 2025-05-12</p>"));
	assert_non_null(strstr(out, "<code>certificate verify failed: certificate has "
	                            "expired</code> (code 10, depth 1)"));
	assert_non_null(strstr(out, "<p class=\"cert\"><span class=\"u\">CN=Acme Intermediate,"
	                            "O=Acme</span><br>issued by <span class=\"u\">CN=Old Root,"
	                            "O=Acme</span>"));
	assert_non_null(strstr(out, "<td class=\"ok\" title=\"verifies until 2030-03-17, through "
	                            "Old Root\">" OK_MARK "</td>"));
	assert_non_null(strstr(out, "<td class=\"exp\" title=\"verifies until 2030-03-17, through "
	                            "Old Root\">" OK_MARK " expires 2030-03-17</td>"));
	/* The address: the served chain on expanding. */
	assert_non_null(strstr(out, "<dt>served leaf</dt><dd><span class=\"u\">CN=db.example.com,"
	                            "O=Acme</span>"));
	assert_non_null(strstr(out, "SHA-256 aaaaaaaaaaaaaaaa"
	                            "\xe2\x80\xa6"));
	assert_non_null(strstr(out, "<dt>class</dt><dd>new-only</dd>"));
	/* Summary counts. */
	assert_non_null(strstr(out, "<tr><td class=\"n\">1</td><th scope=\"row\" class=\"u\">"
	                            "new-only</th></tr>"));
	assert_non_null(strstr(out, "<tr class=\"zero\"><td class=\"n\">0</td><th scope=\"row\" "
	                            "class=\"u\">old-only</th></tr>"));
	assert_non_null(strstr(out, "title=\"CN=Old Root,O=Acme\">Old Root</th>"));
	assert_non_null(strstr(out, "stops within 30 days"));
	free(out);
	pcp_result_cleanup(&r);
}

/* The client audit, --future-chain and --baseline sections, their texts escaped. */
static void test_audit_future_changes(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 1, -1);
	const bool oks[3] = {true, true, true};
	struct pcp_result r;

	(void)state;
	make_ok(&r, "db.example.com", "10.0.0.1", oks, 1, 1900000000);
	r.client = calloc(1, sizeof *r.client);
	assert_non_null(r.client);
	r.client->sslmode = PCP_LIBPQ_VERIFY_FULL;
	pcp_test_set_str(r.client->now.error, sizeof r.client->now.error,
	                 "certificate verify failed: <b>x</b>");
	r.client->has_after = true;
	r.client->after.connects = true;
	r.future = calloc(3, sizeof *r.future);
	assert_non_null(r.future);
	r.n_future = 3;
	r.future[1].ok = r.future[2].ok = true;
	r.has_baseline = true;
	r.changes = calloc(1, sizeof *r.changes);
	assert_non_null(r.changes);
	r.n_changes = 1;
	r.changes[0].kind = "leaf_rotated";
	r.changes[0].from = pcp_test_strdup("aaaa");
	r.changes[0].to = pcp_test_strdup("<bbbb>");
	char *out = pcp_test_run_writer(PCP_FORMAT_HTML, &info, &r, 1, NULL);

	check_markup(out);
	assert_non_null(strstr(out, "<h3>Client audit</h3><p>1 client audited: 0 connect now (0 "
	                            "unencrypted), 1 fail</p><p>after the switch: 1 connect (1 "
	                            "unencrypted), 0 fail</p>"));
	assert_non_null(strstr(out, "<li class=\"u\">db.example.com at 10.0.0.1:5432: certificate "
	                            "verify failed: &lt;b&gt;x&lt;/b&gt;</li>"));
	assert_non_null(strstr(out,
	                       "<tr class=\"unsafe\"><td class=\"n\">0/1</td><th scope=\"row\">"
	                       "<span class=\"u\">old</span> verifies the future chain"));
	assert_int_equal(count_of(out, "<tr class=\"safe\"><td class=\"n\">1/1</td>"), 2);
	assert_non_null(strstr(out, "<h3>Changes since the baseline</h3><p>1 in 1 address</p>"));
	assert_non_null(strstr(out, "db.example.com 10.0.0.1:5432: leaf rotated: aaaa \xe2\x86\x92 "
	                            "&lt;bbbb&gt;</li>"));
	free(out);
	pcp_result_cleanup(&r);
}

/* Addresses that were not probed: the short status in each cell, the error on hover. */
static void test_not_probed(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 1, -1);
	struct pcp_result r;

	(void)state;
	pcp_test_unreachable(&r, "db2", "10.0.0.9", PCP_STATUS_NO_SSL,
	                     "server does not support SSL");
	char *out = pcp_test_run_writer(PCP_FORMAT_HTML, &info, &r, 1, NULL);
	check_markup(out);
	assert_int_equal(
	        count_of(out, "<td class=\"np\" title=\"server does not support SSL\">" FAIL_MARK
	                      " no SSL</td>"),
	        3);
	assert_non_null(strstr(out, "<dt>status</dt><dd>no_ssl: <span class=\"u\">server does not "
	                            "support SSL</span></dd>"));
	assert_non_null(strstr(out, "<b>1</b> address, <b>0</b> reached TLS, <b>1</b> could not"));
	free(out);
	pcp_result_cleanup(&r);
}

/* A run beyond the table's cap: the page keeps the first rows and counts the rest; the
 * summary counts every record. */
static void test_row_cap(void **state)
{
	enum { N = 2000 + 7 };
	struct pcp_run_info info = pcp_test_run_info(store_names, 1, -1);
	const bool good[3] = {true, true, true}, bad[3] = {false, true, true};
	struct pcp_test_capture c;

	(void)state;
	pcp_test_capture_open(&c);
	struct pcp_writer *w = pcp_writer_new(PCP_FORMAT_HTML, c.f, &info);
	assert_non_null(w);
	assert_int_equal(w->ops->begin(w), 0);
	for (size_t i = 0; i < N; i++) {
		struct pcp_result r;
		char addr[32];

		snprintf(addr, sizeof addr, "10.0.%zu.%zu", i / 250, i % 250);
		make_ok(&r, "db.example.com", addr, i % 2 ? bad : good, 1,
		        1900000000 + (time_t)(i % 100) * 86400);
		assert_int_equal(w->ops->record(w, &r), 0);
		pcp_result_cleanup(&r);
	}
	assert_int_equal(w->ops->end(w, NULL), 0);
	pcp_writer_free(w);
	char *out = pcp_test_capture_close(&c);
	check_markup(out);
	assert_int_equal(count_of(out, "<tr><th scope=\"row\""), 2000);
	assert_non_null(strstr(out, "The table shows the first 2000 addresses: 7 more (3 of them "
	                            "with a failure) are left out"));
	assert_non_null(strstr(out, "<b>2007</b> addresses"));
	/* 100 distinct days under new and combined, 60 drawn, the rest counted; old
	 * verifies every other address: 50 days. */
	assert_int_equal(count_of(out, "<circle"), 50 + 60 + 60);
	assert_non_null(strstr(out, "not drawn (at most 60 days per store)"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_format_name),     cmocka_unit_test(test_escaping),
	        cmocka_unit_test(test_empty_page),      cmocka_unit_test(test_several_instants),
	        cmocka_unit_test(test_failure_details), cmocka_unit_test(test_not_probed),
	        cmocka_unit_test(test_row_cap),         cmocka_unit_test(test_audit_future_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
