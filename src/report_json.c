/* The JSON Lines writer: one object per record per line, flushed per record, keys in a
 * fixed order. begin and end write nothing, so the outputs of several runs concatenate.
 * "verify" is the first instant's verdicts; with several instants "verify_at" holds every
 * instant's. Every string goes through pcp_json_string: record fields are untrusted bytes. */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* A fixed-size field of the record, which may lack its NUL if a producer filled it all. */
static void json_field(FILE *out, const char *buf, size_t size)
{
	pcp_json_string(out, buf, strnlen(buf, size));
}

/* Same, but an empty field is null. */
static void json_field_or_null(FILE *out, const char *buf, size_t size)
{
	if (buf[0] == '\0')
		fputs("null", out);
	else
		json_field(out, buf, size);
}

/* Milliseconds with microsecond resolution; null when not reached (negative) or not a
 * number JSON can hold. */
static void json_ms(FILE *out, double ms)
{
	if (ms < 0 || !isfinite(ms))
		fputs("null", out);
	else
		fprintf(out, "%.3f", ms);
}

static void json_cert(FILE *out, const struct pcp_cert_facts *f)
{
	fputs("{\"subject\":", out);
	pcp_json_cstr(out, f->subject);
	fputs(",\"issuer\":", out);
	pcp_json_cstr(out, f->issuer);
	fputs(",\"serial\":", out);
	pcp_json_cstr(out, f->serial);
	fputs(",\"not_before\":", out);
	pcp_json_time(out, f->not_before);
	fputs(",\"not_after\":", out);
	pcp_json_time(out, f->not_after);
	fputs(",\"sha256\":", out);
	json_field(out, f->sha256, sizeof f->sha256);
	fputs(",\"san\":[", out);
	for (size_t i = 0; f->san && i < f->n_san; i++) {
		if (i)
			putc(',', out);
		pcp_json_cstr(out, f->san[i]);
	}
	fputs("],\"key\":", out);
	pcp_json_cstr(out, f->key);
	fputs(",\"sig_alg\":", out);
	pcp_json_cstr(out, f->sig_alg);
	putc('}', out);
}

/* pgJDBC's factory for store i: a Java truststore is DefaultJavaSSLFactory with it as the
 * JVM's truststore, a PEM file LibPQFactory with it as sslrootcert. */
static const char *pgjdbc_factory(const struct pcp_run_info *info, size_t i)
{
	const char *kind = info->store_kinds ? info->store_kinds[i] : NULL;

	return kind && (strcmp(kind, "pkcs12") == 0 || strcmp(kind, "jks") == 0)
	               ? "DefaultJavaSSLFactory"
	               : "LibPQFactory";
}

/* factory: pgJDBC's for this store, else NULL. */
static void json_verdict(FILE *out, const struct pcp_run_info *info, const struct pcp_verdict *v,
                         const char *factory)
{
	fprintf(out, "{\"ok\":%s,\"error\":", v->ok ? "true" : "false");
	if (v->ok)
		fputs("null", out);
	else
		json_field_or_null(out, v->error, sizeof v->error);
	fprintf(out, ",\"code\":%d,\"depth\":%d,\"reason\":", v->code, v->depth);
	json_field_or_null(out, v->reason, sizeof v->reason);
	fputs(",\"path\":[", out);
	for (size_t i = 0; v->path && i < v->path_len; i++) {
		if (i)
			putc(',', out);
		json_field(out, v->path[i], sizeof v->path[i]);
	}
	fputs("],\"path_not_after\":", out);
	if (v->path_not_after == 0)
		fputs("null", out);
	else
		pcp_json_time(out, v->path_not_after);
	fputs(",\"anchor\":", out);
	pcp_json_cstr(out, v->anchor);
	/* Only with --warn-days: without a horizon "not expiring" would say nothing. */
	if (info->warn_days >= 0)
		fprintf(out, ",\"expiring\":%s", v->expiring ? "true" : "false");
	if (v->pinned)
		fputs(",\"pinned\":true", out);
	if (factory) {
		fputs(",\"factory\":", out);
		pcp_json_cstr(out, factory);
	}
	putc('}', out);
}

/* One member per store, keyed by the run's store names: "verify", "future" and the
 * drivers' share it (pgjdbc: each verdict names its factory). A record never has more
 * verdicts than the run's stores, but a mismatch must not produce keys without names. */
static void json_verdicts(FILE *out, const struct pcp_run_info *info,
                          const struct pcp_verdict *verdicts, size_t n_verdicts, bool pgjdbc)
{
	size_t n = n_verdicts < info->n_stores ? n_verdicts : info->n_stores;

	putc('{', out);
	for (size_t i = 0; verdicts && i < n; i++) {
		if (i)
			putc(',', out);
		pcp_json_cstr(out, info->store_names[i] ? info->store_names[i] : "");
		putc(':', out);
		json_verdict(out, info, &verdicts[i], pgjdbc ? pgjdbc_factory(info, i) : NULL);
	}
	putc('}', out);
}

/* Every instant's per-store map, keyed by the instant. An instant given twice appears
 * once: JSON object keys must be unique, and its verdicts are the same. */
static void json_at_map(FILE *out, const struct pcp_run_info *info,
                        const struct pcp_verdict *verdicts, size_t n_verdicts, bool pgjdbc)
{
	putc('{', out);
	for (size_t a = 0; a < info->n_ats; a++) {
		bool seen = false;
		size_t first = a * info->n_stores;

		for (size_t b = 0; b < a; b++)
			seen = seen || info->ats[b] == info->ats[a];
		if (seen)
			continue;
		if (a)
			putc(',', out);
		pcp_json_time(out, info->ats[a]);
		putc(':', out);
		/* A record without verdicts (not probed) has an empty map at every instant. */
		if (verdicts && n_verdicts > first)
			json_verdicts(out, info, verdicts + first, n_verdicts - first, pgjdbc);
		else
			fputs("{}", out);
	}
	putc('}', out);
}

/* key ("drivers", "future_drivers"): per --driver the per-store map of the first instant
 * ("drivers_at": every instant's, as "verify_at"); a record without verdicts has empty
 * maps. */
static void json_drivers(FILE *out, const struct pcp_run_info *info, const char *key,
                         const struct pcp_driver_verdicts *dvs, size_t n_dvs, bool every_instant)
{
	fprintf(out, ",\"%s\":{", key);
	for (size_t d = 0; d < info->n_drivers; d++) {
		const struct pcp_driver_verdicts *dv = dvs && d < n_dvs ? &dvs[d] : NULL;

		if (d)
			putc(',', out);
		pcp_json_cstr(out, info->driver_names[d]);
		putc(':', out);
		bool pgjdbc = strcmp(info->driver_names[d], "pgjdbc") == 0;

		if (every_instant)
			json_at_map(out, info, dv ? dv->verdicts : NULL, dv ? dv->n_verdicts : 0,
			            pgjdbc);
		else
			json_verdicts(out, info, dv ? dv->verdicts : NULL, dv ? dv->n_verdicts : 0,
			              pgjdbc);
	}
	putc('}', out);
}

/* "verify_at" and "ats". */
static void json_verify_at(FILE *out, const struct pcp_run_info *info, const struct pcp_result *r)
{
	fputs(",\"verify_at\":", out);
	json_at_map(out, info, r->verdicts, r->n_verdicts, false);
	fputs(",\"ats\":[", out);
	for (size_t a = 0; a < info->n_ats; a++) {
		if (a)
			putc(',', out);
		pcp_json_time(out, info->ats[a]);
	}
	putc(']', out);
}

static void json_changes(FILE *out, const struct pcp_result *r)
{
	fputs(",\"changes\":[", out);
	for (size_t i = 0; r->changes && i < r->n_changes; i++) {
		const struct pcp_change *c = &r->changes[i];

		if (i)
			putc(',', out);
		fputs("{\"kind\":", out);
		pcp_json_cstr(out, c->kind);
		fputs(",\"store\":", out);
		pcp_json_cstr(out, c->store);
		fputs(",\"from\":", out);
		pcp_json_cstr(out, c->from);
		fputs(",\"to\":", out);
		pcp_json_cstr(out, c->to);
		putc('}', out);
	}
	putc(']', out);
}

/* "connects":..,"encrypted":..,"error":..; the first two null when undecided. */
static void json_fate(FILE *out, const struct pcp_client_verdict *v)
{
	if (v->undecided)
		fputs("\"connects\":null,\"encrypted\":null,\"error\":", out);
	else
		fprintf(out, "\"connects\":%s,\"encrypted\":%s,\"error\":",
		        v->connects ? "true" : "false", v->encrypted ? "true" : "false");
	json_field_or_null(out, v->error, sizeof v->error);
}

static void json_client_verdict(FILE *out, const struct pcp_client_verdict *v)
{
	putc('{', out);
	json_fate(out, v);
	putc('}', out);
}

static void json_client(FILE *out, const struct pcp_client *c)
{
	fputs("{\"driver\":", out);
	pcp_json_cstr(out, c->driver ? c->driver : "libpq");
	if (c->factory) {
		fputs(",\"sslfactory\":", out);
		pcp_json_cstr(out, c->factory);
	}
	/* libpq's version and sslnegotiation say nothing of another driver's client. */
	if (!c->driver || strcmp(c->driver, "libpq") == 0) {
		fprintf(out, ",\"libpq_version\":%d,\"sslnegotiation\":", c->libpq_version);
		pcp_json_cstr(out,
		              c->libpq_version >= 17 ? (c->direct ? "direct" : "postgres") : NULL);
	}
	fputs(",\"sslmode\":", out);
	if (c->tls) {
		/* node-postgres: as written (null when absent), and what its TLS then checks */
		pcp_json_cstr(out, c->sslmode_text);
		fputs(",\"tls\":", out);
		pcp_json_cstr(out, c->tls);
	} else {
		pcp_json_cstr(out, pcp_libpq_sslmode_name(c->sslmode));
	}
	fputs(",\"rootcert\":", out);
	pcp_json_cstr(out, c->rootcert);
	if (c->truststore_source) {
		/* DefaultJavaSSLFactory: which JVM truststore answered, and how fresh it is. */
		fputs(",\"truststore\":{\"source\":", out);
		pcp_json_cstr(out, c->truststore_source);
		fputs(",\"path\":", out);
		pcp_json_cstr(out, c->truststore);
		fputs(",\"store\":", out);
		pcp_json_cstr(out, c->truststore_store);
		fputs(",\"kind\":", out);
		pcp_json_cstr(out, c->truststore_kind);
		fputs(",\"modified\":", out);
		if (c->truststore_modified)
			pcp_json_time(out, c->truststore_modified);
		else
			fputs("null", out);
		fprintf(out, ",\"anchors\":%zu}", c->truststore_anchors);
	}
	fprintf(out, ",\"rootcert_exists\":%s,\"verifies\":%s,\"roots\":[",
	        c->rootcert_exists ? "true" : "false", c->verifies ? "true" : "false");
	for (size_t i = 0; c->roots && i < c->n_roots; i++) {
		if (i)
			putc(',', out);
		fputs("{\"subject\":", out);
		pcp_json_cstr(out, c->roots[i].subject);
		fputs(",\"sha256\":", out);
		json_field(out, c->roots[i].sha256, sizeof c->roots[i].sha256);
		fputs(",\"known\":", out);
		pcp_json_cstr(out, c->roots[i].known);
		fputs(",\"kind\":", out);
		pcp_json_cstr(out, c->roots[i].kind);
		putc('}', out);
	}
	/* Today's fate sits flat in the object; "after" only with --future-chain. */
	fputs("],", out);
	json_fate(out, &c->now);
	if (c->has_after) {
		fputs(",\"after\":", out);
		json_client_verdict(out, &c->after);
	}
	putc('}', out);
}

static int json_begin(struct pcp_writer *w)
{
	(void)w;
	return 0;
}

static int json_record(struct pcp_writer *w, const struct pcp_result *r)
{
	FILE *out = w->out;
	const struct pcp_run_info *info = w->info;

	fputs("{\"target\":", out);
	pcp_json_cstr(out, r->target);
	fputs(",\"host\":", out);
	pcp_json_cstr(out, r->host);
	fputs(",\"addr\":", out);
	json_field_or_null(out, r->addr, sizeof r->addr);
	fprintf(out, ",\"port\":%u,\"sslmode\":", (unsigned)r->port);
	pcp_json_cstr(out, pcp_sslmode_name(r->sslmode));
	fputs(",\"status\":", out);
	pcp_json_cstr(out, pcp_status_name(r->status));

	fputs(",\"error\":", out);
	if (r->status == PCP_STATUS_OK)
		fputs("null", out);
	else if (r->error[0] == '\0')
		pcp_json_cstr(out, pcp_status_short(r->status)); /* "error" is text when not ok */
	else
		json_field(out, r->error, sizeof r->error);

	/* A failed handshake may still have negotiated a version: show what is known. */
	fputs(",\"tls\":", out);
	if (r->status == PCP_STATUS_OK || r->tls_version[0] != '\0') {
		fputs("{\"version\":", out);
		json_field_or_null(out, r->tls_version, sizeof r->tls_version);
		fputs(",\"cipher\":", out);
		json_field_or_null(out, r->tls_cipher, sizeof r->tls_cipher);
		putc('}', out);
	} else {
		fputs("null", out);
	}

	fputs(",\"negotiation\":", out);
	pcp_json_cstr(out, pcp_negotiation_name(r->negotiation));
	fputs(",\"alpn\":", out);
	json_field_or_null(out, r->alpn, sizeof r->alpn);
	fputs(",\"direct_tls\":", out);
	pcp_json_cstr(out, pcp_direct_tls_name(r->direct_tls));
	fputs(",\"direct_tls_from\":", out);
	pcp_json_cstr(out, r->direct_tls == PCP_DIRECT_UNKNOWN
	                           ? NULL
	                           : pcp_direct_basis_name(r->direct_basis));

	fputs(",\"timing\":{\"connect_ms\":", out);
	json_ms(out, r->connect_ms);
	fputs(",\"total_ms\":", out);
	json_ms(out, r->total_ms);
	putc('}', out);

	fputs(",\"chain\":[", out);
	for (size_t i = 0; r->chain && i < r->chain_len; i++) {
		if (i)
			putc(',', out);
		json_cert(out, &r->chain[i]);
	}
	putc(']', out);

	/* Verdict i belongs to store i (at the first instant). */
	fputs(",\"verify\":", out);
	json_verdicts(out, info, r->verdicts, r->n_verdicts, false);
	if (info->n_drivers)
		json_drivers(out, info, "drivers", r->drivers, r->n_drivers, false);
	fputs(",\"class\":", out);
	pcp_json_cstr(out, r->class_name);
	fputs(",\"anchor\":", out);
	pcp_json_cstr(out, r->anchor);

	fprintf(out, ",\"divergent\":%s", r->divergent ? "true" : "false");
	if (r->client) {
		fputs(",\"client\":", out);
		json_client(out, r->client);
	}
	if (r->future) {
		fputs(",\"future\":", out);
		json_verdicts(out, info, r->future, r->n_future, false);
		if (info->n_drivers)
			json_drivers(out, info, "future_drivers", r->future_drivers,
			             r->n_future_drivers, false);
	}
	if (info->n_ats > 1 && info->ats) {
		json_verify_at(out, info, r);
		if (info->n_drivers)
			json_drivers(out, info, "drivers_at", r->drivers, r->n_drivers, true);
	}
	if (r->has_baseline)
		json_changes(out, r);

	fputs(",\"at\":", out);
	pcp_json_time(out, info->at);
	fputs(pcp_run_is_now(info, 0) ? ",\"at_now\":true}\n" : ",\"at_now\":false}\n", out);

	/* Pipelines see each record as soon as it is known. */
	if (fflush(out) != 0 || ferror(out))
		return -1;
	return 0;
}

static int json_end(struct pcp_writer *w, const struct pcp_run_totals *totals)
{
	(void)totals;
	if (fflush(w->out) != 0 || ferror(w->out))
		return -1;
	return 0;
}

static void json_free(struct pcp_writer *w)
{
	free(w);
}

static const struct pcp_writer_ops json_ops = {
        .begin = json_begin,
        .record = json_record,
        .end = json_end,
        .free = json_free,
};

struct pcp_writer *pcp_report_json_new(FILE *out, const struct pcp_run_info *info)
{
	struct pcp_writer *w = calloc(1, sizeof *w);

	if (!w)
		return NULL;
	w->ops = &json_ops;
	w->out = out;
	w->info = info;
	return w;
}
