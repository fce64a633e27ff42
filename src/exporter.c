/* The exporter (see exporter.h). A /probe request expands its target (pcp_target_expand) into
 * groups, one per target, in a job that the engine probes; the connection is suspended
 * until the job completes, then answered with the job's exposition, written once by the
 * Prometheus writer into memory. Identical requests (same module, same target text) that
 * arrive while a job runs wait for it instead of probing again. Memory is bounded by the
 * connection limit and by the number of groups held (beyond it: 503), never by requests
 * served. Judges verify as of each probe's time (pcp_judge_set_now). */
#include "exporter.h"

#include <assert.h>
#include <errno.h>
#include <ev.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "engine.h"
#include "httpd.h"
#include "judge.h"
#include "log.h"
#include "net.h"
#include "report.h"
#include "setup.h"
#include "text.h"
#include "truststore.h"

enum {
	IDLE_TIMEOUT = 10,        /* seconds a connection may stay silent */
	MAX_CONNECTIONS = 1024,   /* open at once; one client address gets half */
	MEMORY_LIMIT = 32 * 1024, /* bytes of request line and headers per connection */
	JOB_BUCKETS = 1024,       /* the table of jobs still probing, for sharing */
	NAME_MAX_COLS = 64,       /* of a module name echoed in a 400 answer */
};

#define SCRAPE_MARGIN 0.5 /* seconds of Prometheus's scrape timeout kept for the answer */
#define STOP_GRACE    2.0 /* seconds answers may take to leave after SIGTERM */
#define PROM_TYPE     "text/plain; version=0.0.4; charset=utf-8"
#define N_STATUSES    (PCP_STATUS_INVALID_TARGET + 1)

static const double buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])

enum handler { H_PROBE, H_METRICS, H_INDEX, H_OTHER, N_HANDLERS };
static const char *const handler_names[N_HANDLERS] = {"probe", "metrics", "index", "other"};
static const unsigned codes[] = {200, 400, 404, 405, 413, 500, 503};
#define N_CODES (sizeof codes / sizeof codes[0])

/* A set of settings requests can name: [0] is the default (the command line's). */
struct module {
	const char *name; /* NULL for the default */
	const struct pcp_settings *s;
	struct pcp_store_list stores;
	struct pcp_instants in; /* as of start-up; the judge moves its "now" ones */
	struct pcp_judge *judge;
	struct pcp_run_info info; /* for the writer: per_probe */
};

struct exporter;
struct request;

/* One probe of a target under a module. Owned by the requests waiting for it (refs); the
 * last one to leave frees it, or, should its job still be probing then, the orphan sweep
 * once it completes (the engine holds its groups until then). */
struct job {
	struct exporter *x;
	struct module *m;
	char *target; /* as requested: the sharing key */
	size_t bucket;
	struct pcp_group *groups, *tail;
	size_t n_groups, n_done;
	size_t refs;
	struct request *waiting; /* suspended until the job completes */
	bool live;               /* in the sharing table */
	bool cancelled;          /* stopped by SIGINT/SIGTERM */
	ev_tstamp not_after;     /* the loop time its groups end by */
	struct job *next;        /* in its bucket, or in the orphans */
	char *body;              /* the exposition, once written */
	size_t len;
};

struct request {
	struct job *job;
	struct MHD_Connection *conn;
	ev_tstamp started;
	bool suspended;
	struct request *next_waiting;
};

struct stats {
	unsigned long long requests[N_HANDLERS][N_CODES];
	unsigned long long probes[N_STATUSES];
	unsigned long long shared;
	unsigned long long unprobed; /* timed out at the deadline before a probe started */
	unsigned long long duration_le[N_BUCKETS], duration_count;
	double duration_sum;
};

struct exporter {
	const struct pcp_settings *s;
	struct ev_loop *loop;
	struct pcp_engine *engine;
	struct pcp_httpd *httpd;
	struct module *modules;
	size_t n_modules;
	struct pcp_target_env tenv;
	struct job *live[JOB_BUCKETS];
	struct job *orphans;
	size_t groups_held, max_groups, waiting;
	bool stopping;
	double start_time;
	ev_signal sigint, sigterm;
	ev_timer grace;
	ev_prepare sweep;
	struct stats stats;
	struct pcp_error failure; /* what stopped the exporter, code PCP_OK while none */
};

static void fail(struct exporter *x, const struct pcp_error *err)
{
	if (x->failure.code == PCP_OK)
		x->failure = *err;
	ev_break(x->loop, EVBREAK_ALL);
}

/* ---- answers ------------------------------------------------------------------------ */

static void count(struct exporter *x, enum handler h, unsigned code)
{
	for (size_t i = 0; i < N_CODES; i++)
		if (codes[i] == code)
			x->stats.requests[h][i]++;
}

/* Queues body (mode as MHD takes it) as the answer. MHD_NO closes the connection. */
static enum MHD_Result respond(struct exporter *x, struct MHD_Connection *c, enum handler h,
                               unsigned code, const char *type, char *body, size_t len,
                               enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result rc;

	if (!resp) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (code == 405)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (code == 503)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	if (x->stopping)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	rc = MHD_queue_response(c, code, resp);
	MHD_destroy_response(resp);
	count(x, h, code);
	return rc;
}

/* A one-line plain-text answer (errors). */
static enum MHD_Result respond_line(struct exporter *x, struct MHD_Connection *c, enum handler h,
                                    unsigned code, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

static enum MHD_Result respond_line(struct exporter *x, struct MHD_Connection *c, enum handler h,
                                    unsigned code, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	return respond(x, c, h, code, "text/plain; charset=utf-8", line, (size_t)n,
	               MHD_RESPMEM_MUST_COPY);
}

/* ---- jobs ----------------------------------------------------------------------------- */

static size_t bucket_of(const struct module *m, const char *target)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)(uintptr_t)m;

	for (; *target; target++)
		h = (h ^ (unsigned char)*target) * 0x100000001b3ULL;
	return (size_t)(h % JOB_BUCKETS);
}

/* A job probing target under m that ends by not_after: a request shares it only if that
 * answers it before its own deadline. */
static struct job *find_live(struct exporter *x, const struct module *m, const char *target,
                             ev_tstamp not_after)
{
	for (struct job *j = x->live[bucket_of(m, target)]; j; j = j->next)
		if (j->m == m && j->not_after <= not_after && strcmp(j->target, target) == 0)
			return j;
	return NULL;
}

static void unlink_live(struct exporter *x, struct job *job)
{
	struct job **p = &x->live[job->bucket];

	if (!job->live)
		return;
	while (*p != job)
		p = &(*p)->next;
	*p = job->next;
	job->next = NULL;
	job->live = false;
}

/* The groups' records are no longer needed once the exposition is written. */
static void free_groups(struct job *job)
{
	while (job->groups) {
		struct pcp_group *g = job->groups;

		job->groups = g->next;
		pcp_group_free(g);
		job->x->groups_held--;
	}
	job->tail = NULL;
}

static void job_free(struct job *job)
{
	unlink_live(job->x, job);
	free_groups(job);
	free(job->target);
	free(job->body);
	free(job);
}

static void on_group_done(struct pcp_group *g, void *arg)
{
	struct job *job = arg;
	struct exporter *x = job->x;
	struct request *r;

	for (size_t i = 0; i < g->n_records; i++) {
		const struct pcp_result *res = g->results[i];

		if (res->status < N_STATUSES)
			x->stats.probes[res->status]++;
		x->stats.unprobed += res->status == PCP_STATUS_TIMEOUT && res->total_ms < 0;
	}
	if (++job->n_done < job->n_groups)
		return;
	unlink_live(x, job);
	while ((r = job->waiting)) {
		job->waiting = r->next_waiting;
		r->suspended = false;
		x->waiting--;
		pcp_httpd_resume(x->httpd, r->conn);
	}
}

/* The probe deadline: the module's timeout, or less when Prometheus says its scrape times out
 * sooner (less a margin for the answer to arrive). */
static double probe_timeout(struct MHD_Connection *c, const struct module *m)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                            "X-Prometheus-Scrape-Timeout-Seconds");
	double t = m->s->timeout, v;
	char *end;

	if (!h)
		return t;
	errno = 0;
	v = strtod(h, &end);
	if (errno || end == h || *end || !isfinite(v) || v <= 0)
		return t;
	v = v - SCRAPE_MARGIN > v / 2 ? v - SCRAPE_MARGIN : v / 2;
	return v < t ? v : t;
}

/* Starts one group: resolved and probed, or concluded at once when invalid. */
static int start_group(struct exporter *x, struct pcp_group *g, const char *invalid,
                       struct pcp_error *err)
{
	struct pcp_outcome o = {.status = PCP_STATUS_INVALID_TARGET, .error = invalid};
	struct pcp_error serr = {0};

	if (!invalid && pcp_engine_submit(x->engine, g, &serr) == 0)
		return 0;
	if (!invalid) {
		o.status = PCP_STATUS_DNS_FAILED;
		o.error = serr.msg;
	}
	return pcp_engine_conclude(x->engine, g, &o, err);
}

/* A job probing target under m, started. NULL with *code 503 when the groups held would
 * pass the bound, 500 (err set) when out of memory or the target's service file cannot be
 * read. */
static struct job *job_start(struct exporter *x, struct module *m, const char *target,
                             double timeout, unsigned *code, struct pcp_error *err)
{
	struct pcp_target *targets = NULL;
	struct pcp_target_env tenv = x->tenv;
	struct pcp_error terr = {0};
	size_t n = 0, i;
	enum pcp_errc rc;
	struct job *job = NULL;

	/* Connection strings as the module's libpq version reads them. */
	tenv.libpq_version = m->s->libpq_version;
	rc = pcp_target_expand(target, &tenv, &targets, &n, &terr);

	*code = 500;
	if (rc != PCP_OK && (rc != PCP_ERR_TARGET || n == 0)) {
		*err = terr;
		goto out;
	}
	if (x->groups_held + n > x->max_groups) {
		*code = 503;
		goto out;
	}
	if (!(job = calloc(1, sizeof *job)) || !(job->target = strdup(target)) ||
	    pcp_judge_set_now(m->judge, time(NULL), err) < 0) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
		goto out;
	}
	job->x = x;
	job->m = m;
	job->not_after = ev_now(x->loop) + timeout;
	for (i = 0; i < n; i++) {
		struct pcp_group *g = pcp_group_new(&targets[i]);

		if (!g) {
			pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
			goto out;
		}
		pcp_setup_group(g, m->s, m->judge);
		g->timeout = timeout;
		/* From the request, not from each probe's start: a probe that waited for a slot
		 * must not answer after Prometheus gave up. */
		g->not_after = job->not_after;
		g->index = i;
		g->done = on_group_done;
		g->done_arg = job;
		if (job->tail)
			job->tail->next = g;
		else
			job->groups = g;
		job->tail = g;
		job->n_groups++;
		x->groups_held++;
	}
	/* Every group is counted before any starts: one concluded at once must not complete
	 * the job early. A failure here is the engine's (memory): it stops the exporter. */
	for (struct pcp_group *g = job->groups; g; g = g->next)
		if (start_group(x, g, rc == PCP_ERR_TARGET ? terr.msg : NULL, err) < 0) {
			fail(x, err);
			break;
		}
	if (job->n_done < job->n_groups) {
		job->bucket = bucket_of(m, target);
		job->next = x->live[job->bucket];
		x->live[job->bucket] = job;
		job->live = true;
	}
	free(targets);
	return job;
out:
	/* Targets already in groups were zeroed when taken over; none has started. */
	for (i = 0; i < n; i++)
		pcp_target_cleanup(&targets[i]);
	free(targets);
	if (job)
		job_free(job);
	return NULL;
}

/* The exposition of a completed job, written once for all its requests. */
static int render(struct job *job)
{
	struct pcp_run_totals totals = {0};
	struct pcp_writer *w = NULL;
	FILE *out = open_memstream(&job->body, &job->len);
	int rc = -1;

	if (out && (w = pcp_report_prometheus_new(out, &job->m->info)) && w->ops->begin(w) == 0) {
		rc = 0;
		for (struct pcp_group *g = job->groups; g && rc == 0; g = g->next)
			for (size_t i = 0; i < g->n_records && rc == 0; i++)
				rc = w->ops->record(w, g->results[i]);
		if (rc == 0)
			rc = w->ops->end(w, &totals);
	}
	pcp_writer_free(w);
	if (out && fclose(out) != 0)
		rc = -1;
	if (rc < 0) {
		free(job->body);
		job->body = NULL;
		return -1;
	}
	free_groups(job);
	return 0;
}

/* ---- requests ------------------------------------------------------------------------- */

static void observe(struct exporter *x, double seconds)
{
	for (size_t i = 0; i < N_BUCKETS; i++)
		x->stats.duration_le[i] += seconds <= buckets[i];
	x->stats.duration_count++;
	x->stats.duration_sum += seconds;
}

static enum MHD_Result answer_probe(struct exporter *x, struct request *r)
{
	struct job *job = r->job;

	observe(x, ev_now(x->loop) - r->started);
	if (job->cancelled)
		return respond_line(x, r->conn, H_PROBE, 503,
		                    "shutting down: the probe was cancelled");
	if (!job->body && render(job) < 0)
		return respond_line(x, r->conn, H_PROBE, 500, "out of memory");
	return respond(x, r->conn, H_PROBE, 200, PROM_TYPE, job->body, job->len,
	               MHD_RESPMEM_MUST_COPY);
}

static struct module *find_module(struct exporter *x, const char *name)
{
	if (!name || !*name)
		return &x->modules[0];
	for (size_t i = 1; i < x->n_modules; i++)
		if (strcmp(x->modules[i].name, name) == 0)
			return &x->modules[i];
	return NULL;
}

static enum MHD_Result start_probe(struct exporter *x, struct MHD_Connection *c, void **req_cls)
{
	const char *target = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "target");
	const char *name = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "module");
	struct module *m = find_module(x, name);
	struct pcp_error err = {0};
	struct request *r;
	struct job *job;
	unsigned code;
	double timeout;

	if (!target || !*target)
		return respond_line(x, c, H_PROBE, 400,
		                    "missing parameter target: /probe?target=HOST[:PORT]");
	if (!m) {
		char *clean = pcp_text_clean(name, strlen(name), NAME_MAX_COLS);
		enum MHD_Result rc = respond_line(x, c, H_PROBE, 400, "unknown module \"%s\"",
		                                  clean ? clean : "?");

		free(clean);
		return rc;
	}
	if (x->stopping)
		return respond_line(x, c, H_PROBE, 503, "shutting down");
	if (!(r = calloc(1, sizeof *r)))
		return respond_line(x, c, H_PROBE, 500, "out of memory");
	r->conn = c;
	r->started = ev_now(x->loop);
	timeout = probe_timeout(c, m);
	if ((job = find_live(x, m, target, r->started + timeout))) {
		x->stats.shared++;
	} else if (!(job = job_start(x, m, target, timeout, &code, &err))) {
		free(r);
		if (code == 503)
			return respond_line(x, c, H_PROBE, 503,
			                    "too many probes waiting: try again later");
		if (err.code != PCP_ERR_SYSTEM)
			return respond_line(x, c, H_PROBE, 500, "%s", err.msg);
		pcp_log_error("/probe: %s", err.msg);
		return respond_line(x, c, H_PROBE, 500, "out of memory");
	}
	r->job = job;
	job->refs++;
	*req_cls = r;
	if (job->n_done == job->n_groups)
		return answer_probe(x, r);
	r->suspended = true;
	r->next_waiting = job->waiting;
	job->waiting = r;
	x->waiting++;
	MHD_suspend_connection(c);
	return MHD_YES;
}

/* The connection's request ended (answered, or the client went away). */
static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct exporter *x = cls;
	struct request *r = *req_cls;
	struct job *job;

	(void)c;
	(void)toe;
	if (!r || r == (void *)x)
		return;
	*req_cls = NULL;
	job = r->job;
	if (r->suspended) {
		struct request **p = &job->waiting;

		while (*p != r)
			p = &(*p)->next_waiting;
		*p = r->next_waiting;
		x->waiting--;
	}
	free(r);
	if (--job->refs > 0)
		return;
	if (job->n_done == job->n_groups) {
		job_free(job);
		return;
	}
	unlink_live(x, job);
	job->next = x->orphans;
	x->orphans = job;
}

/* ---- /metrics and / ------------------------------------------------------------------- */

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_metrics(struct exporter *x, FILE *out)
{
	const struct stats *st = &x->stats;

	family(out, "pgcertprobe_exporter_build_info", "gauge",
	       "Always 1; the version label is pgcertprobe's.");
	fprintf(out, "pgcertprobe_exporter_build_info{version=\"%s\"} 1\n", PCP_VERSION);
	family(out, "pgcertprobe_exporter_start_time_seconds", "gauge",
	       "Unix time the exporter started.");
	fprintf(out, "pgcertprobe_exporter_start_time_seconds %.3f\n", x->start_time);
	family(out, "pgcertprobe_exporter_http_requests_total", "counter",
	       "HTTP requests answered, by handler and status code.");
	/* The 200s of the handlers from the start; the other pairs once they occur. */
	for (size_t h = 0; h < N_HANDLERS; h++)
		for (size_t i = 0; i < N_CODES; i++)
			if (st->requests[h][i] || (codes[i] == 200 && h != H_OTHER))
				fprintf(out,
				        "pgcertprobe_exporter_http_requests_total{handler=\"%s\","
				        "code=\"%"
				        "u\"} "
				        "%llu\n",
				        handler_names[h], codes[i], st->requests[h][i]);
	family(out, "pgcertprobe_exporter_probes_total", "counter",
	       "Addresses recorded for /probe requests, by status (timeout includes those whose "
	       "deadline passed before a probe slot came free or the name resolved).");
	for (size_t i = 0; i < N_STATUSES; i++)
		fprintf(out, "pgcertprobe_exporter_probes_total{status=\"%s\"} %llu\n",
		        pcp_status_name((enum pcp_status)i), st->probes[i]);
	family(out, "pgcertprobe_exporter_shared_requests_total", "counter",
	       "/probe requests answered from an identical request's probe that was running.");
	fprintf(out, "pgcertprobe_exporter_shared_requests_total %llu\n", st->shared);
	family(out, "pgcertprobe_exporter_unprobed_timeouts_total", "counter",
	       "Addresses whose request's deadline passed before their probe started (no probe "
	       "slot came free, or the name was still resolving): --concurrency too low for the "
	       "scrape load, or slow DNS.");
	fprintf(out, "pgcertprobe_exporter_unprobed_timeouts_total %llu\n", st->unprobed);
	family(out, "pgcertprobe_exporter_probes_in_flight", "gauge",
	       "Probes (addresses) in flight now.");
	fprintf(out, "pgcertprobe_exporter_probes_in_flight %u\n", pcp_engine_in_flight(x->engine));
	family(out, "pgcertprobe_exporter_requests_waiting", "gauge",
	       "/probe requests waiting for their probes now.");
	fprintf(out, "pgcertprobe_exporter_requests_waiting %zu\n", x->waiting);
	family(out, "pgcertprobe_exporter_connections", "gauge", "HTTP connections open now.");
	fprintf(out, "pgcertprobe_exporter_connections %u\n", pcp_httpd_connections(x->httpd));
	family(out, "pgcertprobe_exporter_probe_request_duration_seconds", "histogram",
	       "Time from a /probe request to its answer.");
	for (size_t i = 0; i < N_BUCKETS; i++)
		fprintf(out,
		        "pgcertprobe_exporter_probe_request_duration_seconds_bucket{le=\"%g\"} "
		        "%llu\n",
		        buckets[i], st->duration_le[i]);
	fprintf(out,
	        "pgcertprobe_exporter_probe_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	        "pgcertprobe_exporter_probe_request_duration_seconds_sum %.6f\n"
	        "pgcertprobe_exporter_probe_request_duration_seconds_count %llu\n",
	        st->duration_count, st->duration_sum, st->duration_count);
}

static void put_html(FILE *out, const char *s)
{
	pcp_text_html(out, s, strlen(s), 200);
}

/* The index page: every value from the configuration escaped. */
static void put_index(struct exporter *x, FILE *out)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	      "<title>pgcertprobe exporter</title><style>"
	      "body{font-family:system-ui,sans-serif;max-width:50em;margin:2em auto;padding:0 1em}"
	      "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;"
	      "text-align:left}input,select,button{font:inherit}</style></head><body>\n"
	      "<h1>pgcertprobe exporter</h1>\n<p>version ",
	      out);
	put_html(out, PCP_VERSION);
	fputs("</p>\n<form action=\"probe\" method=\"get\"><p><label>target "
	      "<input name=\"target\" required size=\"40\" placeholder=\"db.example.com:5432\">"
	      "</label> <label>module <select name=\"module\">",
	      out);
	for (size_t i = 0; i < x->n_modules; i++) {
		fputs("<option value=\"", out);
		put_html(out, x->modules[i].name ? x->modules[i].name : "");
		fputs("\">", out);
		put_html(out, x->modules[i].name ? x->modules[i].name : "(default)");
		fputs("</option>", out);
	}
	fputs("</select></label> <button>probe</button></p></form>\n<h2>Modules</h2>\n<table>"
	      "<tr><th>module</th><th>stores</th><th>verified as of</th><th>sslmode</th>"
	      "<th>timeout</th></tr>\n",
	      out);
	for (size_t i = 0; i < x->n_modules; i++) {
		const struct module *m = &x->modules[i];

		fputs("<tr><td>", out);
		put_html(out, m->name ? m->name : "(default)");
		fputs("</td><td>", out);
		for (size_t k = 0; k < m->stores.n; k++) {
			if (k)
				fputs(", ", out);
			put_html(out, m->stores.names[k]);
		}
		fputs("</td><td>", out);
		for (size_t a = 0; a < m->in.n; a++) {
			char when[40];

			pcp_text_instant(&m->info, a, when, sizeof when);
			fprintf(out, "%s%s", a ? ", " : "", when);
		}
		fprintf(out, "</td><td>%s</td><td>%g s</td></tr>\n",
		        pcp_sslmode_name(m->s->sslmode), m->s->timeout);
	}
	fputs("</table>\n<p><a href=\"metrics\">the exporter's own metrics</a> &middot; "
	      "<code>/probe?target=HOST[:PORT]&amp;module=NAME</code></p>\n</body></html>\n",
	      out);
}

static enum MHD_Result answer_page(struct exporter *x, struct MHD_Connection *c, enum handler h)
{
	char *body = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&body, &len);

	if (!out)
		return respond_line(x, c, h, 500, "out of memory");
	if (h == H_METRICS)
		put_metrics(x, out);
	else
		put_index(x, out);
	if (fclose(out) != 0) {
		free(body);
		return respond_line(x, c, h, 500, "out of memory");
	}
	if (h == H_METRICS)
		return respond(x, c, h, 200, PROM_TYPE, body, len, MHD_RESPMEM_MUST_FREE);
	return respond(x, c, h, 200, "text/html; charset=utf-8", body, len, MHD_RESPMEM_MUST_FREE);
}

/* A request with a body: none of the handlers takes one. */
static bool has_body(struct MHD_Connection *c)
{
	const char *len =
	        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (len && strspn(len, "0") != strlen(len)) ||
	       MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* MHD calls this when the headers are in (*req_cls NULL: marked, or refused at once when a
 * body follows, which also closes the connection), again when the request is complete
 * (answered then, so the connection can be kept alive), and for /probe once more after the
 * suspended connection is resumed. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
	struct exporter *x = cls;
	struct request *r = *req_cls;
	enum handler h = strcmp(url, "/probe") == 0     ? H_PROBE
	                 : strcmp(url, "/metrics") == 0 ? H_METRICS
	                 : strcmp(url, "/") == 0        ? H_INDEX
	                                                : H_OTHER;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	if (!r) {
		if (has_body(c))
			return respond_line(x, c, h, 413, "requests with a body are not accepted");
		*req_cls = x;
		return MHD_YES;
	}
	if (r != (void *)x) {
		assert(r->job->n_done == r->job->n_groups); /* resumed only then */
		return answer_probe(x, r);
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return respond_line(x, c, h, 405, "only GET and HEAD");
	switch (h) {
	case H_PROBE:
		return start_probe(x, c, req_cls);
	case H_METRICS:
	case H_INDEX:
		return answer_page(x, c, h);
	default:
		return respond_line(x, c, h, 404,
		                    "not found: try /probe?target=HOST[:PORT], "
		                    "/metrics or /");
	}
}

/* ---- the loop ------------------------------------------------------------------------- */

/* SIGINT/SIGTERM: stop accepting, cancel every probe (their requests are answered 503 with
 * Connection: close), then end once the connections are gone or the grace is over. */
static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct exporter *x = w->data;

	(void)revents;
	if (x->stopping)
		return;
	x->stopping = true;
	pcp_log_info("exporter: signal %d: stopping", w->signum);
	pcp_httpd_quiesce(x->httpd);
	for (size_t i = 0; i < JOB_BUCKETS; i++)
		for (struct job *j = x->live[i]; j; j = j->next)
			j->cancelled = true;
	pcp_engine_cancel_all(x->engine);
	ev_timer_start(loop, &x->grace);
}

static void on_grace(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Before the loop blocks: free completed orphans, notice an engine failure, end a stop. */
static void on_sweep(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct exporter *x = w->data;
	struct job **p = &x->orphans;

	(void)revents;
	while (*p) {
		struct job *j = *p;

		if (j->n_done < j->n_groups) {
			p = &j->next;
			continue;
		}
		*p = j->next;
		job_free(j);
	}
	if (pcp_engine_failure(x->engine))
		fail(x, pcp_engine_failure(x->engine));
	if (x->stopping && pcp_httpd_connections(x->httpd) == 0)
		ev_break(loop, EVBREAK_ALL);
}

/* ---- set-up --------------------------------------------------------------------------- */

static enum pcp_errc module_init(struct module *m, const char *name, const struct pcp_settings *s,
                                 int auth_level, time_t now, struct pcp_error *err)
{
	struct pcp_judge_config jcfg;

	m->name = name;
	m->s = s;
	if (pcp_store_list_load(&m->stores, s->stores, s->n_stores, err) != PCP_OK) {
		if (name) {
			char inner[sizeof err->msg];

			snprintf(inner, sizeof inner, "%s", err->msg);
			pcp_error_set(err, err->code, "[module %s]: %s", name, inner);
		}
		return err->code;
	}
	/* The --at instants only: requirements are the command line's business. */
	pcp_setup_instants(&m->in, s, now);
	m->in.n = s->n_ats ? s->n_ats : 1;
	pcp_setup_judge(&jcfg, s, &m->stores, &m->in, auth_level);
	/* One-shot matters: no client audit, future chain or baseline in answers to scrapes. */
	jcfg.client_home = jcfg.future_chain = jcfg.baseline = jcfg.node_roots = NULL;
	if (!(m->judge = pcp_judge_new(&jcfg, err)))
		return err->code;
	pcp_setup_run_info(&m->info, s, &m->stores, &m->in);
	m->info.per_probe = true;
	return PCP_OK;
}

static enum pcp_errc start(struct exporter *x, int auth_level, struct pcp_error *err)
{
	const struct pcp_settings *s = x->s;
	struct pcp_engine_config ecfg;
	unsigned want = s->concurrency + MAX_CONNECTIONS, fit = pcp_net_fit_concurrency(want);
	unsigned conns = MAX_CONNECTIONS;
	struct pcp_httpd_config hcfg;
	time_t now = time(NULL);

	if (!(x->modules = calloc(s->n_modules + 1, sizeof *x->modules)))
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	x->n_modules = s->n_modules + 1;
	if (module_init(&x->modules[0], NULL, s, auth_level, now, err))
		return err->code;
	for (size_t i = 0; i < s->n_modules; i++)
		if (module_init(&x->modules[i + 1], s->modules[i].name, &s->modules[i].settings,
		                auth_level, now, err))
			return err->code;
	/* Descriptors for probes and connections: a quarter for connections when short. */
	if (fit < want) {
		conns = fit / 4 > 16 ? fit / 4 : 16;
		pcp_log_warn("open-file limit allows %u descriptors: %u connections, %u probes in "
		             "flight",
		             fit, conns, fit > conns ? fit - conns : 1);
	}
	pcp_setup_engine(&ecfg, x->loop, s);
	ecfg.save_chains = NULL; /* a one-shot matter */
	ecfg.window = fit > conns ? fit - conns : 1;
	if (ecfg.window > s->concurrency)
		ecfg.window = s->concurrency;
	x->max_groups = 2 * (size_t)ecfg.window + 64;
	if (!(x->engine = pcp_engine_new(&ecfg, err)))
		return err->code;
	x->tenv.servicefile = getenv("PGSERVICEFILE");
	x->tenv.sysconfdir = getenv("PGSYSCONFDIR");
	x->tenv.home = pcp_client_home(NULL);
	if (!(x->tenv.services = pcp_service_cache_new()))
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	hcfg = (struct pcp_httpd_config){.loop = x->loop,
	                                 .listen = s->listen,
	                                 .max_connections = conns,
	                                 .max_per_ip = conns / 2 ? conns / 2 : 1,
	                                 .idle_timeout = IDLE_TIMEOUT,
	                                 .memory_limit = MEMORY_LIMIT,
	                                 .handler = on_request,
	                                 .completed = on_completed,
	                                 .arg = x,
	                                 .trace = ecfg.trace};
	if (!(x->httpd = pcp_httpd_new(&hcfg, err)))
		return err->code;
	return PCP_OK;
}

static void start_watchers(struct exporter *x)
{
	ev_signal_init(&x->sigint, on_signal, SIGINT);
	ev_signal_init(&x->sigterm, on_signal, SIGTERM);
	x->sigint.data = x->sigterm.data = x;
	ev_signal_start(x->loop, &x->sigint);
	ev_signal_start(x->loop, &x->sigterm);
	ev_timer_init(&x->grace, on_grace, STOP_GRACE, 0.);
	ev_prepare_init(&x->sweep, on_sweep);
	x->sweep.data = x;
	ev_prepare_start(x->loop, &x->sweep);
}

static void stop(struct exporter *x)
{
	ev_signal_stop(x->loop, &x->sigint);
	ev_signal_stop(x->loop, &x->sigterm);
	ev_timer_stop(x->loop, &x->grace);
	ev_prepare_stop(x->loop, &x->sweep);
	/* Every job completes (resuming its requests) before MHD may stop. */
	if (x->engine)
		pcp_engine_cancel_all(x->engine);
	pcp_httpd_free(x->httpd);
	while (x->orphans) {
		struct job *j = x->orphans;

		x->orphans = j->next;
		job_free(j);
	}
	pcp_engine_free(x->engine);
	for (size_t i = 0; i < x->n_modules; i++) {
		pcp_judge_free(x->modules[i].judge);
		pcp_store_list_cleanup(&x->modules[i].stores);
	}
	free(x->modules);
	pcp_service_cache_free(x->tenv.services);
	free((char *)x->tenv.home);
}

enum pcp_errc pcp_exporter_run(const struct pcp_settings *s, int auth_level, struct pcp_error *err)
{
	struct exporter x = {.s = s};
	struct timespec ts;

	err->code = PCP_OK;
	signal(SIGPIPE, SIG_IGN);
	clock_gettime(CLOCK_REALTIME, &ts);
	x.start_time = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	if (!(x.loop = ev_default_loop(EVFLAG_AUTO))) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "cannot start the event loop");
		return err->code;
	}
	start_watchers(&x);
	if (start(&x, auth_level, err) == PCP_OK) {
		pcp_log_info("exporter: listening on http://%s/ (%zu module%s)",
		             pcp_httpd_address(x.httpd), x.n_modules, x.n_modules == 1 ? "" : "s");
		ev_run(x.loop, 0);
		if (x.failure.code != PCP_OK)
			*err = x.failure;
		else if (x.stopping)
			pcp_log_info("exporter: stopped");
	}
	stop(&x);
	return err->code;
}
