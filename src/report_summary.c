/* The fleet summary: counts per store and instant, per migration class and per anchor, the
 * divergent names, the client audit, the stores' verdicts on --future-chain, changes since
 * the baseline, and plain sentences ("safe for clients with combined"). The text writer
 * prints it under its table; --format summary prints it alone. Only counts and capped lists
 * are kept, so a million records cost no more than ten. */
#include "report.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "summary.h"
#include "text.h"

enum {
	MAX_LINES = 20,   /* listed names, failing clients, changes; the rest are counted */
	MAX_ANCHORS = 20, /* distinct anchors counted by name; the rest as "others" */
	MAX_REASONS = 3,  /* a driver's failure reasons per store and instant */
	PCP_SUMMARY_MAX_DRIVERS = 8, /* drivers named in one sentence */
	NAME_MAX_COLS = 64,          /* a divergent name or an anchor */
	STORE_MAX_COLS = 48,         /* a store name */
	ADDR_MAX_COLS = 64,          /* an address */
	TARGET_MAX_COLS = 80,        /* a failing client's target text */
	NOTE_MAX_COLS = 200,         /* a client's error text */
	VALUE_MAX_COLS = 40,         /* the old and new value of a change */
};

/* Codes after which OpenSSL found no trust anchor (X509_V_ERR_* numbers): the path's end
 * is where building stopped, not an anchor of the store. */
enum {
	V_ERR_UNABLE_TO_GET_ISSUER_CERT = 2,
	V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT = 18,
	V_ERR_SELF_SIGNED_CERT_IN_CHAIN = 19,
	V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20,
};

#define DIV_SYMBOL "\xe2\x89\xa0" /* ≠ */
#define ARROW      "\xe2\x86\x92" /* → */

#define COLOR_GREEN "\033[32m"
#define COLOR_RED   "\033[31m"
#define COLOR_RESET "\033[0m"

struct pcp_summary {
	const struct pcp_run_info *info;
	size_t n_stores, n_ats, n_cols; /* n_cols = n_stores * n_ats verdicts per record */
	size_t records, not_probed;
	size_t *verified;       /* per verdict column: records that verify */
	size_t *expiring;       /* per verdict column: of those, expiring within --warn-days */
	time_t *expiring_first; /* per verdict column: the earliest expiry among them */
	size_t *fail_all;       /* per instant: reachable records no store verifies */
	/* Migration classes, in a fixed order, then any other name seen. */
	struct pcp_summary_count classes[8];
	size_t n_classes, other_classes, classified;
	/* Where the chains end (record anchors), and the old store's anchors records still
	 * depend on; up to MAX_ANCHORS each, the rest counted. */
	struct pcp_summary_count anchors[MAX_ANCHORS];
	size_t n_anchors, other_anchors;
	struct pcp_summary_count old_anchors[MAX_ANCHORS];
	size_t n_old_anchors, other_old_anchors;
	long old_store; /* index of the old root's store, -1 when absent */
	bool no_new;    /* the new root's store is absent: no record has a class */
	/* Divergent names, sanitised; addresses of one target arrive together, so a run of
	 * records with one name is one name. */
	struct pcp_summary_lines div;
	uint64_t div_last;
	bool div_any;
	/* The client audit: counts over records with a client, and the failing ones' lines. */
	size_t clients, now_connect, now_plain, after_clients, after_connect, after_plain;
	size_t now_undecided, after_undecided; /* clients a refused direct probe cannot judge */
	struct pcp_summary_lines client_notes;
	/* Negotiation: records probed with direct TLS, and what is known of each server's. */
	size_t direct_records, direct_accept, direct_refuse, direct_by_alpn;
	/* --future-chain: per store, records with a future verdict and how many verify. */
	size_t *future_n, *future_ok;
	bool any_future;
	/* --baseline: changes, and the records that have any. */
	bool has_baseline;
	size_t changes, changed_records;
	struct pcp_summary_lines change_notes;
	/* --driver: per driver per verdict column ([d * n_cols + k]) the records that verify
	 * only through a pinned non-root, those that fail, and the failures' reasons. */
	size_t n_drivers;
	size_t *dpinned, *dfailed;
	struct pcp_summary_count *dreasons; /* [(d * n_cols + k) * MAX_REASONS + j] */
	size_t *dn_reasons, *dother_reasons;
	bool failed; /* an allocation failed */
};

/* A line built with fprintf in memory; NULL when out of memory. */
__attribute__((format(printf, 1, 2))) static char *mem_printf(const char *fmt, ...)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	va_list ap;
	int rc;

	if (!m)
		return NULL;
	va_start(ap, fmt);
	rc = vfprintf(m, fmt, ap);
	va_end(ap);
	if (fclose(m) != 0 || rc < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Sanitised copy of a NUL-terminated untrusted string ("" for NULL). */
static char *clean(const char *s, size_t max_cols)
{
	return pcp_text_clean(s ? s : "", s ? strlen(s) : 0, max_cols);
}

/* Takes line into l (or counts it past the cap); NULL marks an allocation failure. */
static void lines_add(struct pcp_summary *s, struct pcp_summary_lines *l, char *line)
{
	if (!line) {
		s->failed = true;
		return;
	}
	if (l->n >= MAX_LINES) {
		free(line);
		l->dropped++;
		return;
	}
	l->items[l->n++] = line;
}

static void lines_free(struct pcp_summary_lines *l)
{
	for (size_t i = 0; l->items && i < l->n; i++)
		free(l->items[i]);
	free(l->items);
}

/* Adds one to key in a capped table of counts; copy: the key is owned by the table. */
static void count_key(struct pcp_summary *s, struct pcp_summary_count *table, size_t *n, size_t cap,
                      size_t *others, const char *key, bool copy)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(table[i].key, key) == 0) {
			table[i].n++;
			return;
		}
	if (*n == cap) {
		(*others)++;
		return;
	}
	table[*n].key = copy ? strdup(key) : (char *)key;
	if (!table[*n].key) {
		s->failed = true;
		return;
	}
	table[(*n)++].n = 1;
}

/* The CN of an anchor's subject, sanitised: "Baltimore CyberTrust Root". */
static char *anchor_name(const char *dn)
{
	return pcp_text_cn(dn, PCP_CN_DISPLAY, NAME_MAX_COLS);
}

/* The path of a failing verdict still ended at one of the store's anchors (an expired
 * root, a name mismatch), as opposed to where building stopped for lack of an issuer. */
static bool anchored(const struct pcp_verdict *v)
{
	return v->anchor && (v->ok || !(v->code == V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
	                                v->code == V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	                                v->code == V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
	                                v->code == V_ERR_SELF_SIGNED_CERT_IN_CHAIN));
}

/* The old root's anchor r still depends on at the first instant: its path under the old
 * store ends at that store's anchor and no store verifies it through another anchor (a
 * bridge to the new root does not count). NULL when it does not. */
static const char *old_anchor(const struct pcp_summary *s, const struct pcp_result *r)
{
	const struct pcp_verdict *old;

	if (s->old_store < 0 || (size_t)s->old_store >= r->n_verdicts)
		return NULL;
	old = &r->verdicts[s->old_store];
	if (!anchored(old))
		return NULL;
	for (size_t i = 0; i < s->n_stores && i < r->n_verdicts; i++) {
		const struct pcp_verdict *v = &r->verdicts[i];
		if (v->ok && v->anchor && strcmp(v->anchor, old->anchor) != 0)
			return NULL;
	}
	return old->anchor;
}

/* FNV-1a: enough to tell one name's run of records from the next. */
static uint64_t name_hash(const char *str)
{
	uint64_t h = 14695981039346656037u;

	for (; *str; str++) {
		h ^= (unsigned char)*str;
		h *= 1099511628211u;
	}
	return h;
}

/* Lists the name of a divergent record once. Past MAX_LINES the count may take a name
 * twice when its targets are not adjacent in the input: exact only with a set we do not
 * keep. */
static void note_divergent(struct pcp_summary *s, const struct pcp_result *r)
{
	const char *name = r->host && r->host[0] ? r->host : r->target ? r->target : "-";
	uint64_t h = name_hash(name);

	if (s->div_any && h == s->div_last)
		return; /* another address of the same name */
	s->div_any = true;
	s->div_last = h;
	char *c = clean(name, NAME_MAX_COLS);
	for (size_t i = 0; c && i < s->div.n; i++) {
		if (strcmp(s->div.items[i], c) == 0) {
			free(c);
			return;
		}
	}
	lines_add(s, &s->div, c);
}

/* "addr:port" or "[v6]:port", sanitised. */
static char *addr_port(const struct pcp_result *r)
{
	size_t len = strnlen(r->addr, sizeof r->addr);
	bool v6 = memchr(r->addr, ':', len) != NULL;
	char buf[96];

	snprintf(buf, sizeof buf, "%s%.*s%s:%u", v6 ? "[" : "", (int)len, r->addr, v6 ? "]" : "",
	         (unsigned)r->port);
	return clean(buf, ADDR_MAX_COLS);
}

/* Counts one audited client and keeps a line for it when it fails now or after the switch:
 * "  TARGET at ADDR: error" or "  TARGET at ADDR: after the switch: error". */
static void note_client(struct pcp_summary *s, const struct pcp_result *r)
{
	const struct pcp_client *c = r->client;
	const struct pcp_client_verdict *bad = NULL;

	s->clients++;
	s->now_undecided += c->now.undecided;
	s->after_undecided += c->has_after && c->after.undecided;
	if (c->now.connects) {
		s->now_connect++;
		if (!c->now.encrypted)
			s->now_plain++;
	} else {
		bad = &c->now;
	}
	if (c->has_after) {
		s->after_clients++;
		if (c->after.connects) {
			s->after_connect++;
			if (!c->after.encrypted)
				s->after_plain++;
		} else if (!bad) {
			bad = &c->after;
		}
	}
	if (!bad)
		return;
	if (s->client_notes.n >= MAX_LINES) {
		s->client_notes.dropped++;
		return;
	}
	char *target = clean(r->target ? r->target : r->host ? r->host : "-", TARGET_MAX_COLS);
	char *addr = r->addr[0] ? addr_port(r) : NULL;
	size_t elen = strnlen(bad->error, sizeof bad->error);
	char *err = elen ? pcp_text_clean(bad->error, elen, NOTE_MAX_COLS) : NULL;
	if (target && (addr || !r->addr[0]) && (err || !elen))
		lines_add(s, &s->client_notes,
		          mem_printf("  %s%s%s: %s%s", target, addr ? " at " : "", addr ? addr : "",
		                     bad == &c->after ? "after the switch: " : "",
		                     err ? err : "would not connect"));
	else
		s->failed = true;
	free(target);
	free(addr);
	free(err);
}

/* "leaf_rotated" -> "leaf rotated". */
static void kind_words(const char *kind, char *buf, size_t len)
{
	snprintf(buf, len, "%s", kind ? kind : "change");
	for (char *p = buf; *p; p++)
		if (*p == '_')
			*p = ' ';
}

/* One line per change: "  ADDRESS: verdict flipped under STORE: ok → fail". */
static void note_changes(struct pcp_summary *s, const struct pcp_result *r)
{
	char *addr = NULL;

	s->changes += r->n_changes;
	s->changed_records += r->n_changes > 0;
	for (size_t i = 0; r->changes && i < r->n_changes; i++) {
		const struct pcp_change *c = &r->changes[i];
		char kind[64];

		if (s->change_notes.n >= MAX_LINES) {
			s->change_notes.dropped++;
			continue;
		}
		if (!addr && !(addr = pcp_text_address(r))) {
			s->failed = true;
			return;
		}
		kind_words(c->kind, kind, sizeof kind);
		char *store = c->store ? clean(c->store, STORE_MAX_COLS) : NULL;
		char *from = c->from ? clean(c->from, VALUE_MAX_COLS) : NULL;
		char *to = c->to ? clean(c->to, VALUE_MAX_COLS) : NULL;
		if ((c->store && !store) || (c->from && !from) || (c->to && !to))
			s->failed = true;
		else if (from || to)
			lines_add(s, &s->change_notes,
			          mem_printf("  %s: %s%s%s: %s " ARROW " %s", addr, kind,
			                     store ? " under " : "", store ? store : "",
			                     from ? from : "-", to ? to : "-"));
		else
			lines_add(s, &s->change_notes,
			          mem_printf("  %s: %s%s%s", addr, kind, store ? " under " : "",
			                     store ? store : ""));
		free(store);
		free(from);
		free(to);
	}
	free(addr);
}

int pcp_summary_add(struct pcp_summary *s, const struct pcp_result *r)
{
	s->records++;
	if (r->status != PCP_STATUS_OK)
		s->not_probed++;
	for (size_t a = 0; r->status == PCP_STATUS_OK && a < s->n_ats; a++) {
		bool any = false;

		for (size_t i = 0; i < s->n_stores; i++) {
			size_t k = a * s->n_stores + i;
			const struct pcp_verdict *v =
			        r->verdicts && k < r->n_verdicts ? &r->verdicts[k] : NULL;
			if (!v || !v->ok)
				continue;
			any = true;
			s->verified[k]++;
			if (v->expiring) {
				if (!s->expiring[k]++ || v->path_not_after < s->expiring_first[k])
					s->expiring_first[k] = v->path_not_after;
			}
		}
		if (!any)
			s->fail_all[a]++;
	}
	for (size_t d = 0; r->status == PCP_STATUS_OK && d < s->n_drivers && d < r->n_drivers; d++)
		for (size_t k = 0; k < s->n_cols && k < r->drivers[d].n_verdicts; k++) {
			const struct pcp_verdict *v = &r->drivers[d].verdicts[k];
			size_t c = d * s->n_cols + k;

			if (v->ok) {
				s->dpinned[c] += v->pinned;
				continue;
			}
			s->dfailed[c]++;
			count_key(s, &s->dreasons[c * MAX_REASONS], &s->dn_reasons[c], MAX_REASONS,
			          &s->dother_reasons[c], v->reason[0] ? v->reason : "failed", true);
		}
	s->classified += r->class_name != NULL;
	if (r->class_name)
		count_key(s, s->classes, &s->n_classes, sizeof s->classes / sizeof s->classes[0],
		          &s->other_classes, r->class_name, false);
	if (r->anchor)
		count_key(s, s->anchors, &s->n_anchors, MAX_ANCHORS, &s->other_anchors, r->anchor,
		          true);
	const char *old = r->status == PCP_STATUS_OK && r->verdicts ? old_anchor(s, r) : NULL;
	if (old)
		count_key(s, s->old_anchors, &s->n_old_anchors, MAX_ANCHORS, &s->other_old_anchors,
		          old, true);
	/* The future chain's verdicts do not depend on what this address served. */
	if (r->future) {
		s->any_future = true;
		for (size_t i = 0; i < r->n_future && i < s->n_stores; i++) {
			s->future_n[i]++;
			if (r->future[i].ok)
				s->future_ok[i]++;
		}
	}
	if (r->divergent)
		note_divergent(s, r);
	if (r->client)
		note_client(s, r);
	s->direct_records += r->negotiation == PCP_NEGOTIATION_DIRECT;
	s->direct_accept += r->direct_tls == PCP_DIRECT_ACCEPTED;
	s->direct_refuse += r->direct_tls == PCP_DIRECT_REFUSED;
	s->direct_by_alpn +=
	        r->direct_tls != PCP_DIRECT_UNKNOWN && r->direct_basis == PCP_DIRECT_BY_ALPN;
	if (r->has_baseline) {
		s->has_baseline = true;
		note_changes(s, r);
	}
	return s->failed ? -1 : 0;
}

/* "N fail", red when N > 0 on a terminal. */
static void print_fail_count(FILE *out, bool color, size_t n)
{
	if (color && n > 0)
		fprintf(out, COLOR_RED "%zu fail" COLOR_RESET, n);
	else
		fprintf(out, "%zu fail", n);
}

static void print_lines(FILE *out, const struct pcp_summary_lines *l, const char *what)
{
	for (size_t i = 0; i < l->n; i++)
		fprintf(out, "%s\n", l->items[i]);
	if (l->dropped > 0)
		fprintf(out,
		        "  " PCP_TEXT_ELLIPSIS " and %zu more %s (details with --format json)\n",
		        l->dropped, what);
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* ": N verify under A, M under B, …" for instant a. */
static void print_store_counts(struct pcp_summary *s, FILE *out, size_t a,
                               const struct pcp_run_totals *totals)
{
	const struct pcp_run_info *info = s->info;

	for (size_t i = 0; i < s->n_stores; i++) {
		size_t k = a * s->n_stores + i;
		/* The runner's counts are for the first instant; they agree with ours. */
		size_t n =
		        a == 0 && totals && totals->verified ? totals->verified[i] : s->verified[k];
		char *name = clean(info->store_names[i], STORE_MAX_COLS);

		fprintf(out, "%s%zu %s %s", i == 0 ? ": " : ", ", n,
		        i == 0 ? "verify under" : "under", name ? name : "?");
		free(name);
	}
}

/* " as of 2021-02-15" when the run has several instants, else "". */
static void instant_suffix(const struct pcp_summary *s, size_t a, char *buf, size_t len)
{
	char when[32];

	if (s->n_ats < 2) {
		buf[0] = '\0';
		return;
	}
	pcp_text_instant(s->info, a, when, sizeof when);
	snprintf(buf, len, " as of %s", when);
}

/* With --driver, per store: "safe for libpq and pgjdbc with combined; pgx fails on 3
 * servers: CN-only certificate (3)", and the passes that rest on a pinned non-root. */
static void print_driver_sentence(struct pcp_summary *s, FILE *out, size_t a, size_t i,
                                  const char *name, const char *when, bool libpq_safe)
{
	const struct pcp_run_info *info = s->info;
	const char *safe[PCP_SUMMARY_MAX_DRIVERS + 1];
	size_t n_safe = 0;

	if (libpq_safe)
		safe[n_safe++] = "libpq";
	for (size_t d = 0; d < s->n_drivers && n_safe < PCP_SUMMARY_MAX_DRIVERS + 1; d++)
		if (!s->dfailed[d * s->n_cols + a * s->n_stores + i])
			safe[n_safe++] = info->driver_names[d];
	if (n_safe) {
		fputs("safe for ", out);
		for (size_t k = 0; k < n_safe; k++)
			fprintf(out, "%s%s",
			        k == 0            ? ""
			        : k + 1 == n_safe ? " and "
			                          : ", ",
			        safe[k]);
		fprintf(out, " with %s%s", name, when);
	} else {
		fprintf(out, "no driver is safe with %s%s", name, when);
	}
	for (size_t d = 0; d < s->n_drivers; d++) {
		size_t c = d * s->n_cols + a * s->n_stores + i;

		if (!s->dfailed[c])
			continue;
		fprintf(out, "; %s fails on %zu %s:", info->driver_names[d], s->dfailed[c],
		        plural(s->dfailed[c], "server", "servers"));
		for (size_t j = 0; j < s->dn_reasons[c]; j++) {
			char *reason = clean(s->dreasons[c * MAX_REASONS + j].key, NOTE_MAX_COLS);

			fprintf(out, "%s %s (%zu)", j ? "," : "", reason ? reason : "?",
			        s->dreasons[c * MAX_REASONS + j].n);
			free(reason);
		}
		if (s->dother_reasons[c])
			fprintf(out, ", other reasons (%zu)", s->dother_reasons[c]);
	}
	putc('\n', out);
	for (size_t d = 0; d < s->n_drivers; d++) {
		size_t c = d * s->n_cols + a * s->n_stores + i;

		if (s->dpinned[c])
			fprintf(out,
			        "%s verifies %zu %s with %s%s only because the store pins a "
			        "certificate "
			        "that is not a root: %s when the served intermediate rotates\n",
			        info->driver_names[d], s->dpinned[c],
			        plural(s->dpinned[c], "server", "servers"), name, when,
			        plural(s->dpinned[c], "it breaks", "they break"));
	}
}

/* The plain sentences: per instant and store whether every reachable server verifies,
 * chains that stop verifying soon, servers still on the old root, servers no store
 * verifies. */
static void print_sentences(struct pcp_summary *s, FILE *out, size_t records, size_t not_probed,
                            const struct pcp_run_totals *totals)
{
	const struct pcp_run_info *info = s->info;
	size_t reachable = records >= not_probed ? records - not_probed : 0;
	bool color = info->color;
	char when[48], date[32];

	for (size_t a = 0; reachable && a < s->n_ats; a++) {
		instant_suffix(s, a, when, sizeof when);
		for (size_t i = 0; i < s->n_stores; i++) {
			size_t k = a * s->n_stores + i;
			size_t ok = a == 0 && totals && totals->verified ? totals->verified[i]
			                                                 : s->verified[k];
			size_t fail = reachable > ok ? reachable - ok : 0;
			char *name = clean(info->store_names[i], STORE_MAX_COLS);

			if (fail == 0)
				fprintf(out,
				        "%ssafe%s for clients with %s%s: every reachable server "
				        "verifies",
				        color ? COLOR_GREEN : "", color ? COLOR_RESET : "",
				        name ? name : "?", when);
			else
				fprintf(out,
				        "%snot safe%s for clients with %s%s: %zu of %zu reachable "
				        "%s",
				        color ? COLOR_RED : "", color ? COLOR_RESET : "",
				        name ? name : "?", when, fail, reachable,
				        plural(reachable, "server fails", "servers fail"));
			if (fail == 0 && not_probed)
				fprintf(out, " (%zu could not be probed)", not_probed);
			putc('\n', out);
			if (s->n_drivers)
				print_driver_sentence(s, out, a, i, name ? name : "?", when,
				                      fail == 0);
			if (s->expiring[k]) {
				pcp_format_time(s->expiring_first[k], date, sizeof date);
				date[10] = '\0';
				fprintf(out,
				        "%zu %s under %s%s %s verifying within %g days (first on "
				        "%s)\n",
				        s->expiring[k], plural(s->expiring[k], "chain", "chains"),
				        name ? name : "?", when,
				        plural(s->expiring[k], "stops", "stop"), info->warn_days,
				        date);
			}
			free(name);
		}
	}
	for (size_t i = 0; i < s->n_old_anchors; i++) {
		char *name = anchor_name(s->old_anchors[i].key);
		size_t n = s->old_anchors[i].n;

		fprintf(out, "%zu %s a chain ending at '%s'\n", n,
		        plural(n, "server still serves", "servers still serve"), name ? name : "?");
		free(name);
	}
	if (s->other_old_anchors)
		fprintf(out, "%zu more %s chains ending at other anchors of the old store\n",
		        s->other_old_anchors, plural(s->other_old_anchors, "serves", "serve"));
	for (size_t a = 0; reachable && a < s->n_ats; a++) {
		if (!s->fail_all[a])
			continue;
		instant_suffix(s, a, when, sizeof when);
		fprintf(out, "%zu %s under every store%s\n", s->fail_all[a],
		        plural(s->fail_all[a], "server fails", "servers fail"), when);
	}
}

int pcp_summary_print(struct pcp_summary *s, FILE *out, const struct pcp_run_totals *totals)
{
	const struct pcp_run_info *info = s->info;
	size_t records = totals ? totals->records : s->records;
	size_t not_probed = totals ? totals->not_probed : s->not_probed;
	bool color = info->color;
	char when[32];

	fprintf(out, "%zu address%s", records, records == 1 ? "" : "es");
	if (s->n_ats == 1) {
		print_store_counts(s, out, 0, totals);
		fprintf(out, "; %zu could not be probed\n", not_probed);
	} else {
		/* One line per instant: the first line stays short. */
		fprintf(out, ", %zu could not be probed\n", not_probed);
		for (size_t a = 0; a < s->n_ats; a++) {
			pcp_text_instant(info, a, when, sizeof when);
			fprintf(out, "as of %s", when);
			if (pcp_run_is_now(info, a)) {
				pcp_format_time(pcp_run_instant(info, 0), when, sizeof when);
				fprintf(out, " (%s)", when);
			}
			print_store_counts(s, out, a, totals);
			putc('\n', out);
		}
	}
	for (size_t i = 0; s->any_future && i < s->n_stores; i++) {
		char *name = clean(info->store_names[i], STORE_MAX_COLS);
		fprintf(out, "after the switch: %s verifies %zu of %zu chain%s\n",
		        name ? name : "?", s->future_ok[i], s->future_n[i],
		        s->future_n[i] == 1 ? "" : "s");
		free(name);
	}

	fprintf(out, "sslmode %s", pcp_sslmode_name(info->sslmode));
	if (!pcp_run_is_now(info, 0) && s->n_ats == 1) {
		pcp_format_time(info->at, when, sizeof when);
		fprintf(out, ", as of %s", when);
	}
	if (s->direct_records)
		fputs(", negotiation direct (TLS at once, ALPN postgresql)", out);
	putc('\n', out);
	/* Said when the run asked: by probing directly, or by offering ALPN (libpq 17+). */
	if ((s->direct_records || s->direct_by_alpn) && s->direct_accept + s->direct_refuse > 0)
		fprintf(out, "direct TLS (PostgreSQL 17+): %zu accept, %zu refuse\n",
		        s->direct_accept, s->direct_refuse);

	if (s->classified > 0) {
		const char *sep = "classes:";

		for (size_t i = 0; i < s->n_classes; i++) {
			if (!s->classes[i].n)
				continue;
			fprintf(out, "%s %zu %s", sep, s->classes[i].n, s->classes[i].key);
			sep = ",";
		}
		if (s->other_classes)
			fprintf(out, "%s %zu other", sep, s->other_classes);
		putc('\n', out);
	} else if (s->records && (s->old_store < 0 || s->no_new)) {
		const struct pcp_run_info *ri = s->info;
		char *missing =
		        clean(s->old_store < 0 ? (ri->old_store ? ri->old_store : "baltimore")
		                               : (ri->new_store ? ri->new_store : "digicert-g2"),
		              STORE_MAX_COLS);

		fprintf(out,
		        "no migration classes: no store is called \"%s\" (name the old and new "
		        "root's stores with --old-store and --new-store)\n",
		        missing ? missing : "?");
		free(missing);
	}
	if (s->n_anchors > 0) {
		fputs("chains end at:", out);
		for (size_t i = 0; i < s->n_anchors; i++) {
			char *name = anchor_name(s->anchors[i].key);
			fprintf(out, "%s %zu '%s'", i ? "," : "", s->anchors[i].n,
			        name ? name : "?");
			free(name);
		}
		if (s->other_anchors)
			fprintf(out, ", %zu elsewhere", s->other_anchors);
		putc('\n', out);
	}
	if (s->div.n > 0) {
		fputs("divergent names (" DIV_SYMBOL ", their addresses serve different chains): ",
		      out);
		for (size_t i = 0; i < s->div.n; i++)
			fprintf(out, "%s%s", i ? ", " : "", s->div.items[i]);
		if (s->div.dropped > 0)
			fprintf(out, " " PCP_TEXT_ELLIPSIS " and %zu more", s->div.dropped);
		putc('\n', out);
	}
	if (s->clients > 0) {
		fprintf(out, "%zu client%s audited: %zu connect now (%zu unencrypted), ",
		        s->clients, s->clients == 1 ? "" : "s", s->now_connect, s->now_plain);
		print_fail_count(out, color, s->clients - s->now_connect - s->now_undecided);
		if (s->now_undecided)
			fprintf(out, ", %zu not audited", s->now_undecided);
		putc('\n', out);
		if (s->after_clients > 0) {
			fprintf(out, "after the switch: %zu connect (%zu unencrypted), ",
			        s->after_connect, s->after_plain);
			print_fail_count(out, color,
			                 s->after_clients - s->after_connect - s->after_undecided);
			if (s->after_undecided)
				fprintf(out, ", %zu not audited", s->after_undecided);
			putc('\n', out);
		}
		print_lines(out, &s->client_notes, "failing clients");
	}
	if (s->has_baseline) {
		if (s->changes == 0)
			fputs("changes since the baseline: none\n", out);
		else
			fprintf(out, "changes since the baseline: %zu in %zu address%s\n",
			        s->changes, s->changed_records,
			        s->changed_records == 1 ? "" : "es");
		print_lines(out, &s->change_notes, "changes");
	}
	print_sentences(s, out, records, not_probed, totals);
	if (totals && totals->interrupted)
		fputs("(interrupted: not all targets were probed)\n", out);

	if (fflush(out) != 0 || ferror(out) || s->failed)
		return -1;
	return 0;
}

struct pcp_summary *pcp_summary_new(const struct pcp_run_info *info)
{
	struct pcp_summary *s = calloc(1, sizeof *s);
	const char *old = info->old_store ? info->old_store : "baltimore";
	const char *new = info->new_store ? info->new_store : "digicert-g2";
	static const char *const class_order[] = {"old-only", "new-only", "both", "neither",
	                                          "unreachable"};

	if (!s)
		return NULL;
	s->info = info;
	s->n_stores = info->n_stores;
	s->n_ats = pcp_run_n_instants(info);
	s->n_cols = s->n_stores * s->n_ats;
	s->old_store = -1;
	s->no_new = true;
	for (size_t i = 0; i < s->n_stores; i++) {
		if (info->store_names[i] && strcmp(info->store_names[i], old) == 0)
			s->old_store = (long)i;
		if (info->store_names[i] && strcmp(info->store_names[i], new) == 0)
			s->no_new = false;
	}
	s->verified = calloc(s->n_cols + 1, sizeof *s->verified);
	s->expiring = calloc(s->n_cols + 1, sizeof *s->expiring);
	s->expiring_first = calloc(s->n_cols + 1, sizeof *s->expiring_first);
	s->fail_all = calloc(s->n_ats, sizeof *s->fail_all);
	s->future_n = calloc(s->n_stores + 1, sizeof *s->future_n);
	s->future_ok = calloc(s->n_stores + 1, sizeof *s->future_ok);
	s->div.items = calloc(MAX_LINES, sizeof *s->div.items);
	s->client_notes.items = calloc(MAX_LINES, sizeof *s->client_notes.items);
	s->change_notes.items = calloc(MAX_LINES, sizeof *s->change_notes.items);
	s->n_drivers = info->n_drivers;
	s->dpinned = calloc(s->n_drivers * s->n_cols + 1, sizeof *s->dpinned);
	s->dfailed = calloc(s->n_drivers * s->n_cols + 1, sizeof *s->dfailed);
	s->dn_reasons = calloc(s->n_drivers * s->n_cols + 1, sizeof *s->dn_reasons);
	s->dother_reasons = calloc(s->n_drivers * s->n_cols + 1, sizeof *s->dother_reasons);
	s->dreasons = calloc(s->n_drivers * s->n_cols * MAX_REASONS + 1, sizeof *s->dreasons);
	if (!s->verified || !s->expiring || !s->expiring_first || !s->fail_all || !s->future_n ||
	    !s->future_ok || !s->div.items || !s->client_notes.items || !s->change_notes.items ||
	    !s->dpinned || !s->dfailed || !s->dn_reasons || !s->dother_reasons || !s->dreasons) {
		pcp_summary_free(s);
		return NULL;
	}
	/* Classes print in the order of the migration, whatever order records arrive in. */
	for (size_t i = 0; i < sizeof class_order / sizeof class_order[0]; i++)
		s->classes[s->n_classes++] = (struct pcp_summary_count){(char *)class_order[i], 0};
	return s;
}

void pcp_summary_free(struct pcp_summary *s)
{
	if (!s)
		return;
	free(s->verified);
	free(s->expiring);
	free(s->expiring_first);
	free(s->fail_all);
	free(s->future_n);
	free(s->future_ok);
	for (size_t i = 0; i < s->n_anchors; i++)
		free(s->anchors[i].key);
	for (size_t i = 0; i < s->n_old_anchors; i++)
		free(s->old_anchors[i].key);
	lines_free(&s->div);
	lines_free(&s->client_notes);
	lines_free(&s->change_notes);
	for (size_t c = 0; s->dreasons && s->dn_reasons && c < s->n_drivers * s->n_cols; c++)
		for (size_t j = 0; j < s->dn_reasons[c]; j++)
			free(s->dreasons[c * MAX_REASONS + j].key);
	free(s->dreasons);
	free(s->dn_reasons);
	free(s->dother_reasons);
	free(s->dpinned);
	free(s->dfailed);
	free(s);
}

void pcp_summary_view(const struct pcp_summary *s, struct pcp_summary_view *v)
{
	*v = (struct pcp_summary_view){
	        .records = s->records,
	        .not_probed = s->not_probed,
	        .verified = s->verified,
	        .expiring = s->expiring,
	        .expiring_first = s->expiring_first,
	        .fail_all = s->fail_all,
	        .classes = s->classes,
	        .n_classes = s->n_classes,
	        .other_classes = s->other_classes,
	        .anchors = s->anchors,
	        .n_anchors = s->n_anchors,
	        .other_anchors = s->other_anchors,
	        .old_anchors = s->old_anchors,
	        .n_old_anchors = s->n_old_anchors,
	        .other_old_anchors = s->other_old_anchors,
	        .divergent = &s->div,
	        .clients = s->clients,
	        .now_connect = s->now_connect,
	        .now_plain = s->now_plain,
	        .after_clients = s->after_clients,
	        .after_connect = s->after_connect,
	        .after_plain = s->after_plain,
	        .client_notes = &s->client_notes,
	        .any_future = s->any_future,
	        .future_n = s->future_n,
	        .future_ok = s->future_ok,
	        .has_baseline = s->has_baseline,
	        .changes = s->changes,
	        .changed_records = s->changed_records,
	        .change_notes = &s->change_notes,
	};
}

/* ---- --format summary: the block alone ---- */

struct summary_writer {
	struct pcp_writer base; /* first: the interface casts between the two */
	struct pcp_summary *summary;
};

static int summary_begin(struct pcp_writer *w)
{
	(void)w;
	return 0;
}

static int summary_record(struct pcp_writer *w, const struct pcp_result *r)
{
	return pcp_summary_add(((struct summary_writer *)w)->summary, r);
}

static int summary_end(struct pcp_writer *w, const struct pcp_run_totals *totals)
{
	return pcp_summary_print(((struct summary_writer *)w)->summary, w->out, totals);
}

static void summary_free(struct pcp_writer *w)
{
	pcp_summary_free(((struct summary_writer *)w)->summary);
	free(w);
}

static const struct pcp_writer_ops summary_ops = {
        .begin = summary_begin,
        .record = summary_record,
        .end = summary_end,
        .free = summary_free,
};

struct pcp_writer *pcp_report_summary_new(FILE *out, const struct pcp_run_info *info)
{
	struct summary_writer *sw = calloc(1, sizeof *sw);

	if (!sw)
		return NULL;
	sw->base.ops = &summary_ops;
	sw->base.out = out;
	sw->base.info = info;
	if (!(sw->summary = pcp_summary_new(info))) {
		free(sw);
		return NULL;
	}
	return &sw->base;
}
