/* The Prometheus writer (--format prometheus), for node_exporter's textfile collector and the
 * exporter's /probe answers (per_probe: the address families only). The format wants each
 * family's samples together under one HELP and TYPE, but records stream in: samples are
 * buffered per family (open_memstream) and printed in end(), so memory grows with the fleet
 * (a few KB per address), fine for a textfile that Prometheus scrapes whole.
 * libpq's verdict series keep their labels (no driver label); each --driver adds the same
 * families' series with a driver label. */
#include "report.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

enum family {
	F_PROBE_SUCCESS,
	F_PROBE_DURATION,
	F_TLS_REACHED,
	F_PROBE_STATUS,
	F_DIRECT_TLS,
	F_CLASS,
	F_ANCHOR,
	F_VERIFIED,
	F_VERIFY_ERROR_CODE,
	F_PATH_NOT_AFTER,
	F_EXPIRING,
	F_PINNED,
	F_CERT_NOT_AFTER,
	F_RUN_ADDRESSES,
	F_RUN_VERIFIED,
	F_RUN_UNREACHABLE,
	F_RUN_TIMESTAMP,
	F_RUN_DURATION,
	F_BUILD_INFO,
	N_FAMILIES,
};

/* Every family is a gauge: each file is one run's snapshot. */
static const struct {
	const char *name;
	const char *help;
} families[N_FAMILIES] = {
        [F_PROBE_SUCCESS] = {"pgcertprobe_probe_success",
                             "1 when the probe reached TLS and captured the chain (status ok)."},
        [F_PROBE_DURATION] = {"pgcertprobe_probe_duration_seconds",
                              "Time the probe of this address took."},
        [F_TLS_REACHED] = {"pgcertprobe_tls_reached",
                           "1 when the server accepted the SSLRequest and a TLS handshake took "
                           "place."},
        [F_PROBE_STATUS] = {"pgcertprobe_probe_status",
                            "Always 1; the status label says how the probe ended (ok, no_ssl, "
                            "refused, timeout, ...), the negotiation label how it asked for TLS "
                            "(postgres: SSLRequest; direct: TLS at once)."},
        [F_DIRECT_TLS] = {"pgcertprobe_direct_tls",
                          "1 when the server accepts direct TLS (PostgreSQL 17+), 0 when it "
                          "does not; the from label says how that is known (direct, alpn, "
                          "no_ssl); absent when unknown."},
        [F_CLASS] = {"pgcertprobe_class",
                     "Always 1; the class label says which roots the server's chain verifies "
                     "under (old-only, new-only, both, neither, unreachable)."},
        [F_ANCHOR] = {"pgcertprobe_anchor",
                      "Always 1; the anchor label is the subject of the certificate the "
                      "chain ends at."},
        [F_VERIFIED] = {"pgcertprobe_verified",
                        "1 when a libpq client (or the driver of the driver label) with this "
                        "store as sslrootcert passes the TLS phase; absent when no chain was "
                        "captured."},
        [F_VERIFY_ERROR_CODE] = {"pgcertprobe_verify_error_code",
                                 "OpenSSL X509_V_ERR code of the verification under this store "
                                 "(0 when verified; 1000 name mismatch, 1001 no host name)."},
        [F_PATH_NOT_AFTER] = {"pgcertprobe_path_not_after_seconds",
                              "Unix time the verified path stops verifying: the earliest "
                              "notAfter along it."},
        [F_EXPIRING] = {"pgcertprobe_expiring",
                        "1 when the path verifies but stops verifying within --warn-days."},
        [F_PINNED] = {"pgcertprobe_pinned",
                      "1 when this driver verifies only because the store pins a certificate "
                      "that is not a root (an intermediate or the server's own)."},
        [F_CERT_NOT_AFTER] = {"pgcertprobe_cert_not_after_seconds",
                              "Unix time each served certificate expires (position 0 is the "
                              "leaf)."},
        [F_RUN_ADDRESSES] = {"pgcertprobe_run_addresses", "Addresses probed by the run."},
        [F_RUN_VERIFIED] = {"pgcertprobe_run_verified_addresses",
                            "Addresses that verify under this store."},
        [F_RUN_UNREACHABLE] = {"pgcertprobe_run_unreachable_addresses",
                               "Addresses whose probe did not reach a chain (status not ok)."},
        [F_RUN_TIMESTAMP] = {"pgcertprobe_run_timestamp_seconds", "Unix time the run finished."},
        [F_RUN_DURATION] = {"pgcertprobe_run_duration_seconds", "Time the run took."},
        [F_BUILD_INFO] = {"pgcertprobe_build_info",
                          "Always 1; the version label is pgcertprobe's."},
};

/* Keys of the addresses already written, so a target given twice cannot produce duplicate
 * series (which would make the collector reject the whole file). */
struct keyset {
	char **slots;
	size_t cap, n;
};

struct prom_writer {
	struct pcp_writer base; /* first: the interface casts */
	FILE *buf[N_FAMILIES];  /* samples per family */
	char *data[N_FAMILIES]; /* open_memstream's buffers */
	size_t len[N_FAMILIES];
	size_t count[N_FAMILIES];
	size_t n_ats;        /* info->n_ats, at least 1 (info->at alone when 0) */
	char (*at_text)[32]; /* the instants as RFC 3339, n_ats long */
	size_t records, unreachable, duplicates;
	size_t *verified; /* per driver (libpq first) per instant per store */
	struct keyset seen;
	struct timespec started;
	int failed; /* allocation failed on the way: end reports it */
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

/* 1 when key was added (copied), 0 when it was there, -1 when out of memory. */
static int keyset_add(struct keyset *k, const char *key)
{
	size_t i;

	if (2 * (k->n + 1) > k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 64;
		char **slots = calloc(cap, sizeof *slots);

		if (!slots)
			return -1;
		for (size_t j = 0; j < k->cap; j++) {
			if (!k->slots[j])
				continue;
			for (i = fnv1a(k->slots[j]) & (cap - 1); slots[i]; i = (i + 1) & (cap - 1))
				;
			slots[i] = k->slots[j];
		}
		free(k->slots);
		k->slots = slots;
		k->cap = cap;
	}
	for (i = fnv1a(key) & (k->cap - 1); k->slots[i]; i = (i + 1) & (k->cap - 1))
		if (strcmp(k->slots[i], key) == 0)
			return 0;
	if (!(k->slots[i] = strdup(key)))
		return -1;
	k->n++;
	return 1;
}

static void keyset_cleanup(struct keyset *k)
{
	for (size_t i = 0; i < k->cap; i++)
		free(k->slots[i]);
	free(k->slots);
}

/* A label value: backslash, double quote and newline escaped as the format says, and
 * invalid UTF-8 (which the format forbids) replaced by U+FFFD. */
static void label_value(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t len = strlen((const char *)p);

	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = pcp_utf8_decode(p + i, len - i, &cp);

		if (n == 0) {
			fputs("\xEF\xBF\xBD", out);
			n = 1;
		} else if (cp == '\\') {
			fputs("\\\\", out);
		} else if (cp == '"') {
			fputs("\\\"", out);
		} else if (cp == '\n') {
			fputs("\\n", out);
		} else {
			fwrite(p + i, 1, n, out);
		}
		i += n;
	}
}

/* One sample line being written: NAME{LABEL="v",...} VALUE. */
struct line {
	FILE *out;
	bool labels;
};

static struct line sample(struct prom_writer *w, enum family f)
{
	w->count[f]++;
	fputs(families[f].name, w->buf[f]);
	return (struct line){w->buf[f], false};
}

static void pair(FILE *out, const char *name, const char *value)
{
	fprintf(out, "%s=\"", name);
	label_value(out, value);
	putc('"', out);
}

static void label(struct line *l, const char *name, const char *value)
{
	putc(l->labels ? ',' : '{', l->out);
	pair(l->out, name, value);
	l->labels = true;
}

/* Labels already escaped and joined (the address labels of a record). */
static void labels_raw(struct line *l, const char *text)
{
	putc(l->labels ? ',' : '{', l->out);
	fputs(text, l->out);
	l->labels = true;
}

static void value_int(struct line *l, long long v)
{
	fprintf(l->out, "%s %lld\n", l->labels ? "}" : "", v);
}

static void value_double(struct line *l, double v)
{
	fprintf(l->out, "%s %.6f\n", l->labels ? "}" : "", v);
}

/* Labels of one store's verdict: the store, with several instants the instant, and for
 * driver d > 0 (d - 1 of --driver) the driver. */
static void store_labels(struct prom_writer *w, struct line *l, const char *addr, size_t a,
                         size_t i, size_t d)
{
	const struct pcp_run_info *info = w->base.info;

	if (addr)
		labels_raw(l, addr);
	label(l, "store", info->store_names[i] ? info->store_names[i] : "");
	if (w->n_ats > 1)
		label(l, "at", w->at_text[a]);
	if (d)
		label(l, "driver", info->driver_names[d - 1]);
}

/* target, addr and port, escaped, as one string (caller frees); NULL when out of memory. */
static char *address_labels(const struct pcp_result *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	char port[8];

	if (!m)
		return NULL;
	snprintf(port, sizeof port, "%u", (unsigned)r->port);
	pair(m, "target", r->target);
	putc(',', m);
	pair(m, "addr", r->addr);
	putc(',', m);
	pair(m, "port", port);
	if (fclose(m) != 0 || !text) {
		free(text);
		return NULL;
	}
	return text;
}

/* Driver d's verdicts (0: libpq's) of a record, laid out as the record's. */
static void record_verdicts(struct prom_writer *w, const struct pcp_verdict *verdicts, size_t d,
                            const char *addr)
{
	const struct pcp_run_info *info = w->base.info;
	size_t per_driver = w->n_ats * info->n_stores;

	for (size_t a = 0; a < w->n_ats; a++)
		for (size_t i = 0; i < info->n_stores; i++) {
			const struct pcp_verdict *v = &verdicts[a * info->n_stores + i];
			struct line l;

			w->verified[d * per_driver + a * info->n_stores + i] += v->ok;
			l = sample(w, F_VERIFIED);
			store_labels(w, &l, addr, a, i, d);
			value_int(&l, v->ok);
			l = sample(w, F_VERIFY_ERROR_CODE);
			store_labels(w, &l, addr, a, i, d);
			value_int(&l, v->code);
			if (v->ok && v->path_not_after != 0) {
				l = sample(w, F_PATH_NOT_AFTER);
				store_labels(w, &l, addr, a, i, d);
				value_int(&l, (long long)v->path_not_after);
			}
			if (info->warn_days >= 0) {
				l = sample(w, F_EXPIRING);
				store_labels(w, &l, addr, a, i, d);
				value_int(&l, v->expiring);
			}
			if (d && v->pinned) {
				l = sample(w, F_PINNED);
				store_labels(w, &l, addr, a, i, d);
				value_int(&l, 1);
			}
		}
}

static int prom_begin(struct pcp_writer *base)
{
	struct prom_writer *w = (struct prom_writer *)base;

	clock_gettime(CLOCK_MONOTONIC, &w->started);
	return 0;
}

static int prom_record(struct pcp_writer *base, const struct pcp_result *r)
{
	struct prom_writer *w = (struct prom_writer *)base;
	const struct pcp_run_info *info = base->info;
	bool ok = r->status == PCP_STATUS_OK;
	char *addr;
	struct line l;
	int added;

	w->records++;
	w->unreachable += !ok;
	if (!(addr = address_labels(r)) || (added = keyset_add(&w->seen, addr)) < 0) {
		free(addr);
		w->failed = 1;
		return -1;
	}
	if (!added) {
		w->duplicates++;
		free(addr);
		return 0;
	}

	l = sample(w, F_PROBE_SUCCESS);
	labels_raw(&l, addr);
	value_int(&l, ok);
	if (r->total_ms >= 0 && isfinite(r->total_ms)) {
		l = sample(w, F_PROBE_DURATION);
		labels_raw(&l, addr);
		value_double(&l, r->total_ms / 1000.0);
	}
	/* TLS_FAILED also follows an 'S': the server speaks TLS, the handshake went wrong. */
	l = sample(w, F_TLS_REACHED);
	labels_raw(&l, addr);
	value_int(&l, ok || r->status == PCP_STATUS_TLS_FAILED);
	l = sample(w, F_PROBE_STATUS);
	labels_raw(&l, addr);
	label(&l, "status", pcp_status_name(r->status));
	label(&l, "negotiation", pcp_negotiation_name(r->negotiation));
	value_int(&l, 1);
	if (r->direct_tls != PCP_DIRECT_UNKNOWN) {
		l = sample(w, F_DIRECT_TLS);
		labels_raw(&l, addr);
		label(&l, "from", pcp_direct_basis_name(r->direct_basis));
		value_int(&l, r->direct_tls == PCP_DIRECT_ACCEPTED);
	}
	if (r->class_name) {
		l = sample(w, F_CLASS);
		labels_raw(&l, addr);
		label(&l, "class", r->class_name);
		value_int(&l, 1);
	}
	if (r->anchor) {
		l = sample(w, F_ANCHOR);
		labels_raw(&l, addr);
		label(&l, "anchor", r->anchor);
		value_int(&l, 1);
	}
	/* Verdicts only where a chain was judged: tls_reached tells the rest apart. */
	if (ok && r->verdicts && r->n_verdicts >= w->n_ats * info->n_stores)
		record_verdicts(w, r->verdicts, 0, addr);
	for (size_t d = 0; ok && d < r->n_drivers && d < info->n_drivers; d++)
		if (r->drivers[d].verdicts && r->drivers[d].n_verdicts >= w->n_ats * info->n_stores)
			record_verdicts(w, r->drivers[d].verdicts, d + 1, addr);
	for (size_t i = 0; r->chain && i < r->chain_len; i++) {
		char pos[24];

		snprintf(pos, sizeof pos, "%zu", i);
		l = sample(w, F_CERT_NOT_AFTER);
		labels_raw(&l, addr);
		label(&l, "position", pos);
		value_int(&l, (long long)r->chain[i].not_after);
	}
	free(addr);
	return 0;
}

static void run_totals(struct prom_writer *w)
{
	const struct pcp_run_info *info = w->base.info;
	struct timespec now, mono;
	struct line l;

	clock_gettime(CLOCK_REALTIME, &now);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	l = sample(w, F_RUN_ADDRESSES);
	value_int(&l, (long long)w->records);
	for (size_t d = 0; d <= info->n_drivers; d++)
		for (size_t a = 0; a < w->n_ats; a++)
			for (size_t i = 0; i < info->n_stores; i++) {
				l = sample(w, F_RUN_VERIFIED);
				store_labels(w, &l, NULL, a, i, d);
				value_int(
				        &l,
				        (long long)w->verified[(d * w->n_ats + a) * info->n_stores +
				                               i]);
			}
	l = sample(w, F_RUN_UNREACHABLE);
	value_int(&l, (long long)w->unreachable);
	l = sample(w, F_RUN_TIMESTAMP);
	value_double(&l, (double)now.tv_sec + now.tv_nsec / 1e9);
	l = sample(w, F_RUN_DURATION);
	value_double(&l, (double)(mono.tv_sec - w->started.tv_sec) +
	                         (mono.tv_nsec - w->started.tv_nsec) / 1e9);
	l = sample(w, F_BUILD_INFO);
	label(&l, "version", info->version ? info->version : "");
	value_int(&l, 1);
}

static int prom_end(struct pcp_writer *base, const struct pcp_run_totals *totals)
{
	struct prom_writer *w = (struct prom_writer *)base;
	FILE *out = base->out;

	(void)totals; /* counted from the records: verified per instant too */
	if (!base->info->per_probe)
		run_totals(w);
	if (w->duplicates)
		fprintf(out,
		        "# %zu record(s) repeated an earlier target, address and port: "
		        "only the first is shown\n",
		        w->duplicates);
	for (size_t f = 0; f < N_FAMILIES; f++) {
		if (fflush(w->buf[f]) != 0 || ferror(w->buf[f]))
			w->failed = 1;
		if (!w->count[f])
			continue;
		fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", families[f].name, families[f].help,
		        families[f].name);
		fwrite(w->data[f], 1, w->len[f], out);
	}
	if (fflush(out) != 0 || ferror(out) || w->failed)
		return -1;
	return 0;
}

static void prom_free(struct pcp_writer *base)
{
	struct prom_writer *w = (struct prom_writer *)base;

	for (size_t f = 0; f < N_FAMILIES; f++) {
		if (w->buf[f])
			fclose(w->buf[f]);
		free(w->data[f]);
	}
	keyset_cleanup(&w->seen);
	free(w->verified);
	free(w->at_text);
	free(w);
}

static const struct pcp_writer_ops prom_ops = {
        .begin = prom_begin,
        .record = prom_record,
        .end = prom_end,
        .free = prom_free,
};

struct pcp_writer *pcp_report_prometheus_new(FILE *out, const struct pcp_run_info *info)
{
	struct prom_writer *w = calloc(1, sizeof *w);

	if (!w)
		return NULL;
	w->base.ops = &prom_ops;
	w->base.out = out;
	w->base.info = info;
	w->n_ats = info->n_ats && info->ats ? info->n_ats : 1;
	w->verified =
	        calloc((info->n_drivers + 1) * w->n_ats * info->n_stores + 1, sizeof *w->verified);
	w->at_text = calloc(w->n_ats, sizeof *w->at_text);
	if (!w->verified || !w->at_text)
		goto fail;
	for (size_t a = 0; a < w->n_ats; a++)
		if (info->per_probe && pcp_run_is_now(info, a))
			snprintf(w->at_text[a], sizeof w->at_text[a], "now");
		else
			pcp_format_time(info->n_ats && info->ats ? info->ats[a] : info->at,
			                w->at_text[a], sizeof w->at_text[a]);
	for (size_t f = 0; f < N_FAMILIES; f++)
		if (!(w->buf[f] = open_memstream(&w->data[f], &w->len[f])))
			goto fail;
	return &w->base;
fail:
	prom_free(&w->base);
	return NULL;
}
