/* The run. Targets are read, parsed and resolved before the loop starts (the asynchronous
 * resolver replaces that pre-pass later); then a window of probes runs on one libev loop.
 * Completed records wait in a reorder buffer so writers get them in input order. */
#include "runner.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chain.h"
#include "hostmatch.h"
#include "log.h"
#include "net.h"
#include "probe.h"
#include "targets.h"
#include "tls.h"
#include "verify.h"

struct target_entry {
	struct pcp_target t;
	bool invalid;
	char error[256];
};

/* One address to probe, or a target that yields a record without probing. */
struct job {
	size_t target; /* index into the run's targets */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	enum pcp_status preset; /* PCP_STATUS_OK when the job is to be probed */
	char *preset_error;     /* owned, for invalid_target and dns_failed */
};

/* A probe in flight plus its bookkeeping; the probe comes first so its ev_io stays the
 * first member of the slot as well. */
struct slot {
	struct pcp_probe probe;
	size_t job;
	struct slot *prev, *next; /* the in-flight list, or the free list (next only) */
};

struct run {
	const struct pcp_run_config *cfg;
	struct ev_loop *loop;
	struct pcp_probe_env env;
	struct target_entry *targets;
	size_t n_targets;
	struct job *jobs;
	size_t n_jobs;
	size_t next_job;          /* next job to start */
	struct pcp_result **done; /* reorder buffer, indexed by job */
	size_t next_emit;
	unsigned window; /* probes allowed in flight */
	unsigned in_flight;
	struct slot *active;   /* in-flight list */
	struct slot *finished; /* probes to free after their callbacks returned */
	struct slot *spare;    /* free slots for reuse */
	ev_prepare refill;
	ev_signal sigint, sigterm;
	struct pcp_run_outcome *out;
	struct pcp_error *err;
	enum pcp_errc fatal;
};

static enum pcp_errc add_target(struct run *r, const char *text, const char *bad, const char *where,
                                struct pcp_error *err)
{
	struct target_entry *grown = realloc(r->targets, (r->n_targets + 1) * sizeof *grown);
	struct target_entry *e;
	struct pcp_error perr = {0};

	if (!grown)
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	r->targets = grown;
	e = &grown[r->n_targets++];
	memset(e, 0, sizeof *e);
	if (bad) {
		e->t.text = strdup(text);
		e->invalid = true;
		snprintf(e->error, sizeof e->error, "%s: %s", where, bad);
	} else if (pcp_target_parse(text, &e->t, &perr) != PCP_OK) {
		if (perr.code == PCP_ERR_SYSTEM)
			return pcp_error_set(err, PCP_ERR_SYSTEM, "%s", perr.msg);
		e->invalid = true;
		if (where)
			snprintf(e->error, sizeof e->error, "%s: %s", where, perr.msg);
		else
			snprintf(e->error, sizeof e->error, "%s", perr.msg);
	}
	if (!e->t.text)
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	if (e->invalid)
		pcp_log_warn("invalid target \"%s\": %s", e->t.text, e->error);
	return PCP_OK;
}

static enum pcp_errc read_targets(struct run *r, struct pcp_error *err)
{
	const struct pcp_settings *s = r->cfg->settings;
	enum pcp_errc rc;

	for (size_t i = 0; i < s->n_targets; i++)
		if ((rc = add_target(r, s->targets[i], NULL, NULL, err)))
			return rc;
	for (size_t f = 0; f < s->n_target_files; f++) {
		struct pcp_target_reader rd;
		const char *line, *bad;
		int got;

		if ((rc = pcp_target_reader_open(&rd, s->target_files[f], err)))
			return rc;
		while ((got = pcp_target_reader_next(&rd, &line, &bad, err)) == 1) {
			char where[300];

			snprintf(where, sizeof where, "%s line %lu", rd.path, rd.lineno);
			if ((rc = add_target(r, line, bad, where, err)))
				break;
		}
		pcp_target_reader_close(&rd);
		if (got < 0)
			return err->code;
		if (rc)
			return rc;
	}
	return PCP_OK;
}

static enum pcp_errc add_job(struct run *r, size_t target, const struct addrinfo *ai,
                             enum pcp_status preset, const char *preset_error,
                             struct pcp_error *err)
{
	struct job *grown = realloc(r->jobs, (r->n_jobs + 1) * sizeof *grown);
	struct job *j;

	if (!grown)
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	r->jobs = grown;
	j = &grown[r->n_jobs++];
	memset(j, 0, sizeof *j);
	j->target = target;
	j->preset = preset;
	if (ai) {
		memcpy(&j->addr, ai->ai_addr, ai->ai_addrlen);
		j->addrlen = ai->ai_addrlen;
	}
	if (preset_error && !(j->preset_error = strdup(preset_error)))
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	return PCP_OK;
}

/* Blocking getaddrinfo, before the loop starts: every A and AAAA record becomes a job. */
static enum pcp_errc resolve_targets(struct run *r, struct pcp_error *err)
{
	for (size_t i = 0; i < r->n_targets; i++) {
		struct target_entry *e = &r->targets[i];
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP};
		struct addrinfo *res = NULL;
		const char *node = e->t.hostaddr ? e->t.hostaddr : e->t.host;
		char port[8], msg[300];
		enum pcp_errc rc = PCP_OK;
		int g;

		if (e->invalid) {
			if ((rc = add_job(r, i, NULL, PCP_STATUS_INVALID_TARGET, e->error, err)))
				return rc;
			continue;
		}
		snprintf(port, sizeof port, "%u", e->t.port);
		if (e->t.hostaddr)
			hints.ai_flags = AI_NUMERICHOST;
		g = getaddrinfo(node, port, &hints, &res);
		if (g != 0) {
			snprintf(msg, sizeof msg,
			         "could not translate host name \"%s\" to address: %s", node,
			         g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
			rc = add_job(r, i, NULL, PCP_STATUS_DNS_FAILED, msg, err);
		}
		for (struct addrinfo *ai = res; ai && !rc; ai = ai->ai_next)
			if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
				rc = add_job(r, i, ai, PCP_STATUS_OK, NULL, err);
		freeaddrinfo(res);
		if (rc)
			return rc;
	}
	return PCP_OK;
}

static enum pcp_sslmode job_sslmode(const struct run *r, const struct job *j)
{
	const struct pcp_target *t = &r->targets[j->target].t;

	return t->has_sslmode ? t->sslmode : r->cfg->settings->sslmode;
}

static struct pcp_result *new_result(struct run *r, size_t jobi)
{
	const struct job *j = &r->jobs[jobi];
	const struct pcp_target *t = &r->targets[j->target].t;
	struct pcp_result *res = calloc(1, sizeof *res);
	unsigned port = t->port;

	if (!res)
		return NULL;
	res->seq = jobi;
	res->target = strdup(t->text);
	res->host = t->host ? strdup(t->host) : NULL;
	res->port = t->port;
	res->sslmode = job_sslmode(r, j);
	res->connect_ms = -1;
	if (!res->target || (t->host && !res->host)) {
		pcp_result_cleanup(res);
		free(res);
		return NULL;
	}
	if (j->addrlen && pcp_net_addr_text((const struct sockaddr *)&j->addr, res->addr,
	                                    sizeof res->addr, &port) == 0)
		res->port = (uint16_t)port;
	return res;
}

/* A file name for --save-chains: position, host and address, safe characters only. */
static void save_chain(struct run *r, const struct pcp_result *res, const struct pcp_chain *chain)
{
	char name[512], path[4096];
	FILE *fp;
	size_t k;

	snprintf(name, sizeof name, "%06zu_%s_%s_%u.pem", res->seq, res->host ? res->host : "",
	         res->addr, res->port);
	for (k = 0; name[k]; k++)
		if (!((name[k] >= 'a' && name[k] <= 'z') || (name[k] >= 'A' && name[k] <= 'Z') ||
		      (name[k] >= '0' && name[k] <= '9') || name[k] == '.' || name[k] == '-' ||
		      name[k] == '_'))
			name[k] = '_';
	snprintf(path, sizeof path, "%s/%s", r->cfg->settings->save_chains, name);
	fp = fopen(path, "w");
	if (!fp || pcp_chain_write_pem(chain, fp) < 0 || fclose(fp) != 0) {
		pcp_log_warn("cannot write chain to %s: %s", path, strerror(errno));
		return;
	}
}

/* Chain facts and one verdict per store; the chain itself is dropped afterwards. */
static int judge(struct run *r, struct pcp_result *res, const struct pcp_chain *chain)
{
	const struct pcp_store_list *stores = r->cfg->stores;
	size_t n = pcp_chain_len(chain);
	struct pcp_verify_params params = {
	        .at = r->cfg->at,
	        .auth_level = r->cfg->auth_level,
	        .sslmode = res->sslmode,
	        .host = res->host,
	};
	struct pcp_error verr = {0};

	res->chain = calloc(n ? n : 1, sizeof *res->chain);
	res->verdicts = calloc(stores->n ? stores->n : 1, sizeof *res->verdicts);
	if (!res->chain || !res->verdicts)
		return -1;
	for (size_t i = 0; i < n; i++, res->chain_len++)
		if (pcp_chain_facts(chain, i, &res->chain[i]) < 0)
			return -1;
	for (size_t i = 0; i < stores->n; i++, res->n_verdicts++)
		if (pcp_verify_chain(chain, stores->items[i], &params, &res->verdicts[i], &verr) <
		    0)
			return -1;
	if (r->cfg->settings->save_chains)
		save_chain(r, res, chain);
	return 0;
}

static void tally(struct run *r, const struct pcp_result *res)
{
	struct pcp_run_totals *t = &r->out->totals;
	bool failed = false;

	t->records++;
	if (res->status != PCP_STATUS_OK) {
		t->not_probed++;
		return;
	}
	t->ok++;
	for (size_t i = 0; i < res->n_verdicts; i++)
		if (res->verdicts[i].ok)
			t->verified[i]++;
	for (size_t i = 0; i < r->cfg->n_require; i++) {
		const struct pcp_verdict *v = &res->verdicts[r->cfg->require[i]];

		if (v->ok)
			continue;
		failed = true;
		/* Gates read stderr: name each offender and why. */
		pcp_log_error("%s %s port %u fails required store %s: %s",
		              res->host ? res->host : "-", res->addr, res->port,
		              r->cfg->stores->items[r->cfg->require[i]]->name, v->error);
	}
	if (failed)
		r->out->failed_required++;
}

/* Writes every record that is next in input order. */
static void emit_ready(struct run *r)
{
	while (r->next_emit < r->n_jobs && r->done[r->next_emit]) {
		struct pcp_result *res = r->done[r->next_emit];

		tally(r, res);
		r->cfg->writer->ops->record(r->cfg->writer, res);
		pcp_result_cleanup(res);
		free(res);
		r->done[r->next_emit++] = NULL;
	}
}

static void complete(struct run *r, size_t jobi, struct pcp_result *res)
{
	r->done[jobi] = res;
	emit_ready(r);
}

/* A record for a job that is not probed (invalid, unresolved, or never started). */
static int complete_unprobed(struct run *r, size_t jobi, enum pcp_status status, const char *error)
{
	struct pcp_result *res = new_result(r, jobi);

	if (!res)
		return -1;
	res->status = status;
	snprintf(res->error, sizeof res->error, "%s", error ? error : "");
	complete(r, jobi, res);
	return 0;
}

static void fail_run(struct run *r, const char *what)
{
	if (r->fatal == PCP_OK)
		r->fatal = pcp_error_set(r->err, PCP_ERR_SYSTEM, "%s: out of memory", what);
	ev_break(r->loop, EVBREAK_ALL);
}

static void on_probe_done(struct pcp_probe *p, void *arg)
{
	struct run *r = arg;
	struct slot *s = (struct slot *)p;
	struct pcp_result *res = new_result(r, s->job);

	if (s->prev)
		s->prev->next = s->next;
	else
		r->active = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = NULL;
	s->next = r->finished;
	r->finished = s;
	r->in_flight--;
	if (!res) {
		fail_run(r, "record");
		return;
	}
	res->status = p->status;
	res->connect_ms = p->connect_ms;
	res->total_ms = p->total_ms;
	if (p->status != PCP_STATUS_OK)
		snprintf(res->error, sizeof res->error, "%s", p->err.msg);
	snprintf(res->tls_version, sizeof res->tls_version, "%s", p->tls_version);
	snprintf(res->tls_cipher, sizeof res->tls_cipher, "%s", p->tls_cipher);
	if (p->chain && judge(r, res, p->chain) < 0) {
		pcp_result_cleanup(res);
		free(res);
		fail_run(r, "verification");
		return;
	}
	complete(r, s->job, res);
}

static struct slot *take_slot(struct run *r)
{
	struct slot *s = r->spare;

	if (s) {
		r->spare = s->next;
		memset(s, 0, sizeof *s);
		return s;
	}
	return calloc(1, sizeof *s);
}

static void free_finished(struct run *r)
{
	while (r->finished) {
		struct slot *s = r->finished;

		r->finished = s->next;
		pcp_probe_cleanup(&s->probe);
		s->next = r->spare;
		r->spare = s;
	}
}

/* Before the loop blocks: recycle finished probes, start new ones, stop when all is done. */
static void on_refill(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct run *r = w->data;

	(void)revents;
	free_finished(r);
	while (!r->out->signal && r->in_flight < r->window && r->next_job < r->n_jobs) {
		size_t jobi = r->next_job++;
		struct job *j = &r->jobs[jobi];
		const struct pcp_target *t = &r->targets[j->target].t;
		struct slot *s;

		if (j->preset != PCP_STATUS_OK) {
			if (complete_unprobed(r, jobi, j->preset, j->preset_error) < 0) {
				fail_run(r, "record");
				return;
			}
			continue;
		}
		if (!(s = take_slot(r))) {
			fail_run(r, "probe");
			return;
		}
		s->job = jobi;
		s->next = r->active;
		if (r->active)
			r->active->prev = s;
		r->active = s;
		r->in_flight++;
		pcp_probe_start(&s->probe, &r->env, (const struct sockaddr *)&j->addr, j->addrlen,
		                t->host && !pcp_host_is_ip_literal(t->host) ? t->host : NULL);
	}
	if (r->in_flight == 0 && (r->next_job == r->n_jobs || r->out->signal))
		ev_break(loop, EVBREAK_ALL);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct run *r = w->data;

	(void)loop;
	(void)revents;
	if (r->out->signal)
		return;
	r->out->signal = w->signum;
	r->out->totals.interrupted = true;
	while (r->active)
		pcp_probe_cancel(&r->active->probe);
}

static void free_slots(struct slot *s)
{
	while (s) {
		struct slot *next = s->next;

		pcp_probe_cleanup(&s->probe);
		free(s);
		s = next;
	}
}

static void run_cleanup(struct run *r)
{
	free_finished(r);
	free_slots(r->spare);
	if (r->done) {
		for (size_t i = 0; i < r->n_jobs; i++) {
			pcp_result_cleanup(r->done[i]);
			free(r->done[i]);
		}
		free(r->done);
	}
	for (size_t i = 0; i < r->n_jobs; i++)
		free(r->jobs[i].preset_error);
	free(r->jobs);
	for (size_t i = 0; i < r->n_targets; i++)
		pcp_target_cleanup(&r->targets[i].t);
	free(r->targets);
	if (r->env.ssl_ctx)
		SSL_CTX_free(r->env.ssl_ctx);
}

static enum pcp_errc prepare_run(struct run *r, struct pcp_error *err)
{
	const struct pcp_settings *s = r->cfg->settings;
	enum pcp_errc rc;

	if ((rc = read_targets(r, err)) || (rc = resolve_targets(r, err)))
		return rc;
	r->done = calloc(r->n_jobs ? r->n_jobs : 1, sizeof *r->done);
	r->out->totals.verified = calloc(r->cfg->stores->n ? r->cfg->stores->n : 1, sizeof(size_t));
	if (!r->done || !r->out->totals.verified)
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	if (!(r->env.ssl_ctx = pcp_tls_ctx_new(err)))
		return err->code;
	r->window = pcp_net_fit_concurrency(s->concurrency);
	if (r->window < s->concurrency)
		pcp_log_warn("open-file limit allows only %u probes in flight: --concurrency %u "
		             "lowered to %u",
		             r->window, s->concurrency, r->window);
	return PCP_OK;
}

enum pcp_errc pcp_run(const struct pcp_run_config *cfg, struct pcp_run_outcome *out,
                      struct pcp_error *err)
{
	struct run r = {.cfg = cfg, .out = out, .err = err};
	enum pcp_errc rc;

	memset(out, 0, sizeof *out);
	signal(SIGPIPE, SIG_IGN);
	if ((rc = prepare_run(&r, err)))
		goto out;
	r.loop = ev_default_loop(EVFLAG_AUTO);
	if (!r.loop) {
		rc = pcp_error_set(err, PCP_ERR_SYSTEM, "cannot start the event loop");
		goto out;
	}
	r.env = (struct pcp_probe_env){.loop = r.loop,
	                               .ssl_ctx = r.env.ssl_ctx,
	                               .timeout = cfg->settings->timeout,
	                               .done = on_probe_done,
	                               .done_arg = &r,
	                               .trace = getenv("PGCERTPROBE_TRACE") != NULL};
	ev_prepare_init(&r.refill, on_refill);
	r.refill.data = &r;
	ev_prepare_start(r.loop, &r.refill);
	ev_signal_init(&r.sigint, on_signal, SIGINT);
	ev_signal_init(&r.sigterm, on_signal, SIGTERM);
	r.sigint.data = r.sigterm.data = &r;
	ev_signal_start(r.loop, &r.sigint);
	ev_signal_start(r.loop, &r.sigterm);
	cfg->writer->ops->begin(cfg->writer);
	ev_run(r.loop, 0);
	ev_prepare_stop(r.loop, &r.refill);
	ev_signal_stop(r.loop, &r.sigint);
	ev_signal_stop(r.loop, &r.sigterm);
	/* Jobs never started still get their record. */
	while (r.fatal == PCP_OK && r.next_job < r.n_jobs) {
		size_t jobi = r.next_job++;
		const struct job *j = &r.jobs[jobi];

		if (j->preset != PCP_STATUS_OK)
			complete_unprobed(&r, jobi, j->preset, j->preset_error);
		else
			complete_unprobed(&r, jobi, PCP_STATUS_CANCELLED,
			                  "interrupted before the probe started");
	}
	rc = r.fatal;
	if (rc == PCP_OK)
		cfg->writer->ops->end(cfg->writer, &out->totals);
out:
	run_cleanup(&r);
	return rc;
}

int pcp_run_exit_code(const struct pcp_run_outcome *out)
{
	if (out->signal)
		return 128 + out->signal;
	if (out->failed_required)
		return 1;
	if (out->totals.not_probed)
		return 2;
	return 0;
}
