/* The run. Targets are streamed from arguments and files into groups (one group per target
 * after expansion: every address of its name), names are resolved on the loop, and a
 * window of probes runs on one libev loop. Groups leave in input order once all their
 * addresses are done, so the number of targets held is bounded, not the input's size. */
#include "runner.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "baseline.h"
#include "chain.h"
#include "judge.h"
#include "hostmatch.h"
#include "json.h"
#include "log.h"
#include "net.h"
#include "probe.h"
#include "progress.h"
#include "resolve.h"
#include "targets.h"
#include "tls.h"

/* One target after expansion: its addresses and their records. */
struct group {
	struct group *next;          /* input order */
	struct group *next_runnable; /* resolved groups with addresses not yet started */
	struct run *run;
	size_t index; /* position in the input, after expansion */
	struct pcp_target t;
	struct sockaddr_storage *addrs; /* owned */
	size_t n_addrs;
	size_t next_addr; /* next address to probe */
	size_t n_records; /* records expected */
	size_t n_done;
	struct pcp_result **results;           /* n_records, owned */
	const struct pcp_judge_client *client; /* the audited client, NULL when none */
};

/* A probe in flight; the probe comes first so its ev_io stays the slot's first member. */
struct slot {
	struct pcp_probe probe;
	struct group *group;
	size_t index;             /* address index in the group */
	struct slot *prev, *next; /* the in-flight list, or the free list (next only) */
};

struct run {
	const struct pcp_run_config *cfg;
	struct ev_loop *loop;
	struct pcp_probe_env env;
	struct pcp_resolver *resolver;
	struct pcp_target_env tenv;
	/* input */
	size_t next_arg;
	size_t next_file;
	size_t next_chain;
	struct pcp_target_reader reader;
	bool reader_open;
	bool input_done;
	bool drained; /* a signal arrived and everything unfinished was cancelled */
	/* groups in input order, and the runnable queue */
	struct group *head, *tail;
	size_t n_groups, max_groups;
	struct group *runnable, *runnable_tail;
	/* probes */
	unsigned window, in_flight;
	struct slot *active, *active_tail, *finished, *spare;
	ev_timer deadline; /* the oldest in-flight probe's deadline */
	struct pcp_judge *judge;
	struct pcp_progress *progress;
	ev_timer progress_tick; /* redraws the progress line while nothing completes */
	size_t targets_seen, targets_done;
	bool stdout_tty;
	size_t *require; /* store indexes of --require */
	size_t n_require;
	ev_prepare refill;
	ev_signal sigint, sigterm;
	struct pcp_run_outcome *out;
	struct pcp_error *err;
	enum pcp_errc fatal;
};

static void fail_run(struct run *r, enum pcp_errc code, const char *what)
{
	if (r->fatal == PCP_OK)
		r->fatal = code == PCP_ERR_SYSTEM
		                   ? pcp_error_set(r->err, code, "%s: out of memory", what)
		                   : code;
	ev_break(r->loop, EVBREAK_ALL);
}

/* ---- records ------------------------------------------------------------------ */

static struct pcp_result *new_result(struct group *g, const struct sockaddr_storage *addr)
{
	const struct pcp_target *t = &g->t;
	struct pcp_result *res = calloc(1, sizeof *res);
	unsigned port = t->port;

	if (!res)
		return NULL;
	res->target = strdup(t->text ? t->text : "");
	res->host = t->host ? strdup(t->host) : NULL;
	res->port = t->port;
	res->sslmode = t->has_sslmode ? t->sslmode : g->run->cfg->settings->sslmode;
	res->connect_ms = -1;
	if (!res->target || (t->host && !res->host)) {
		pcp_result_cleanup(res);
		free(res);
		return NULL;
	}
	if (addr && pcp_net_addr_text((const struct sockaddr *)addr, res->addr, sizeof res->addr,
	                              &port) == 0)
		res->port = (uint16_t)port;
	return res;
}

/* A file name for --save-chains: position, host and address, safe characters only. */
static void save_chain(struct run *r, const struct group *g, size_t addr_index,
                       const struct pcp_result *res, const struct pcp_chain *chain)
{
	char name[512], path[4096];
	FILE *fp;

	/* Input order: the target's position, then the address's within it. */
	snprintf(name, sizeof name, "%06zu-%02zu_%s_%s_%u.pem", g->index, addr_index,
	         res->host ? res->host : "", res->addr, res->port);
	for (size_t k = 0; name[k]; k++)
		if (!((name[k] >= 'a' && name[k] <= 'z') || (name[k] >= 'A' && name[k] <= 'Z') ||
		      (name[k] >= '0' && name[k] <= '9') || name[k] == '.' || name[k] == '-' ||
		      name[k] == '_'))
			name[k] = '_';
	snprintf(path, sizeof path, "%s/%s", r->cfg->settings->save_chains, name);
	fp = fopen(path, "w");
	if (!fp || pcp_chain_write_pem(chain, fp) < 0 || fclose(fp) != 0)
		pcp_log_warn("cannot write chain to %s: %s", path, strerror(errno));
}

static void store_record(struct group *g, size_t i, struct pcp_result *res)
{
	g->results[i] = res;
	g->n_done++;
}

/* Gates read stderr: each offender is named with the reason. */
static void tally(struct run *r, const struct pcp_result *res)
{
	struct pcp_run_totals *t = &r->out->totals;
	const struct pcp_settings *s = r->cfg->settings;
	bool failed = false;

	t->records++;
	for (size_t i = 0; i < s->n_forbid; i++)
		if (res->class_name && strcmp(res->class_name, s->forbid[i]) == 0) {
			failed = true;
			pcp_progress_finish(r->progress);
			pcp_log_error("%s %s port %u is %s, forbidden by --forbid-class",
			              res->host ? res->host : "-", res->addr, res->port,
			              res->class_name);
		}
	if (res->status != PCP_STATUS_OK) {
		t->not_probed++;
		r->out->failed_required += failed;
		return;
	}
	t->ok++;
	for (size_t i = 0; i < r->cfg->stores->n; i++)
		if (res->verdicts[i].ok)
			t->verified[i]++;
	for (size_t i = 0; i < r->n_require; i++) {
		const struct pcp_verdict *v = &res->verdicts[r->require[i]];
		size_t store = r->require[i] % r->cfg->stores->n;
		char when[32] = "";

		if (v->ok)
			continue;
		failed = true;
		if (r->require[i] >= r->cfg->stores->n) {
			when[0] = '@';
			pcp_format_time(r->cfg->ats[r->require[i] / r->cfg->stores->n], when + 1,
			                sizeof when - 1);
		}
		pcp_progress_finish(r->progress);
		pcp_log_error("%s %s port %u fails required store %s%s: %s",
		              res->host ? res->host : "-", res->addr, res->port,
		              r->cfg->stores->items[store]->name, when, v->error);
	}
	if (failed)
		r->out->failed_required++;
}

/* The anchor a record's path ends at under store i, or NULL. */
static const char *anchor(const struct pcp_result *res, size_t i)
{
	const struct pcp_verdict *v = &res->verdicts[i];

	return v->ok && v->path_len ? v->path[v->path_len - 1] : NULL;
}

/* Different leaves, different served tops, or different anchors under any store: what a
 * half-finished rotation looks like from the clients' side. */
static bool diverges(const struct pcp_result *a, const struct pcp_result *b)
{
	if (strcmp(a->chain[0].sha256, b->chain[0].sha256) != 0 ||
	    strcmp(a->chain[a->chain_len - 1].sha256, b->chain[b->chain_len - 1].sha256) != 0)
		return true;
	for (size_t i = 0; i < a->n_verdicts && i < b->n_verdicts; i++) {
		const char *x = anchor(a, i), *y = anchor(b, i);

		if ((x == NULL) != (y == NULL) || (x && strcmp(x, y) != 0))
			return true;
	}
	return false;
}

static void mark_divergence(struct group *g)
{
	const struct pcp_result *first = NULL;
	bool divergent = false;

	for (size_t i = 0; i < g->n_records; i++) {
		const struct pcp_result *res = g->results[i];

		if (res->status != PCP_STATUS_OK || !res->chain_len)
			continue;
		if (!first)
			first = res;
		else if (diverges(first, res))
			divergent = true;
	}
	for (size_t i = 0; divergent && i < g->n_records; i++)
		g->results[i]->divergent = true;
}

/* ---- groups ------------------------------------------------------------------- */

static void group_free(struct group *g)
{
	if (g->results)
		for (size_t i = 0; i < g->n_records; i++) {
			pcp_result_cleanup(g->results[i]);
			free(g->results[i]);
		}
	free(g->results);
	free(g->addrs);
	pcp_target_cleanup(&g->t);
	free(g);
}

/* Targets, not addresses: only the number of targets is known once the input is read. */
static void show_progress(struct run *r)
{
	pcp_progress_update(r->progress, r->targets_done,
	                    r->out->totals.not_probed + r->out->failed_required,
	                    r->input_done ? r->targets_seen : 0, ev_now(r->loop));
}

static void on_progress_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	show_progress(w->data);
}

/* Writes every group at the head whose records are all done. */
static void emit_ready(struct run *r)
{
	while (r->head && r->head->n_records && r->head->n_done == r->head->n_records) {
		struct group *g = r->head;

		mark_divergence(g);
		if (pcp_judge_baseline(r->judge) &&
		    g->results[0]->status != PCP_STATUS_INVALID_TARGET &&
		    pcp_baseline_vanished(pcp_judge_baseline(r->judge), g->results[0]->target,
		                          g->results[0]) < 0) {
			fail_run(r, PCP_ERR_SYSTEM, "baseline");
			return;
		}
		if (r->stdout_tty)
			pcp_progress_finish(r->progress); /* the line must not mix with records */
		for (size_t i = 0; i < g->n_records; i++) {
			r->out->changed += g->results[i]->n_changes > 0;
			tally(r, g->results[i]);
			/* A full disk or a closed pipe ends the run rather than losing records. */
			if (r->cfg->writer->ops->record(r->cfg->writer, g->results[i]) < 0) {
				if (r->fatal == PCP_OK)
					r->fatal = pcp_error_set(r->err, PCP_ERR_SYSTEM,
					                         "cannot write the report: %s",
					                         strerror(errno ? errno : EIO));
				ev_break(r->loop, EVBREAK_ALL);
				return;
			}
		}
		r->head = g->next;
		if (!r->head)
			r->tail = NULL;
		r->n_groups--;
		r->targets_done++;
		group_free(g);
		show_progress(r);
	}
}

/* Makes the group a single record of a status that needs no probe. */
static int group_conclude(struct run *r, struct group *g, enum pcp_status status, const char *error)
{
	struct pcp_result *res;

	free(g->results);
	g->n_records = 1;
	g->n_done = 0;
	g->results = calloc(1, sizeof *g->results);
	res = g->results ? new_result(g, NULL) : NULL;
	if (!res)
		return -1;
	res->status = status;
	snprintf(res->error, sizeof res->error, "%s", error ? error : "");
	if (pcp_judge_record(r->judge, res, &g->t, g->client, NULL) < 0) {
		pcp_result_cleanup(res);
		free(res);
		return -1;
	}
	store_record(g, 0, res);
	return 0;
}

static void make_runnable(struct run *r, struct group *g)
{
	if (r->runnable_tail)
		r->runnable_tail->next_runnable = g;
	else
		r->runnable = g;
	r->runnable_tail = g;
}

static void on_resolved(void *arg, const struct pcp_resolved *res)
{
	struct group *g = arg;
	struct run *r = g->run;

	if (res->cancelled || res->n == 0) {
		if (group_conclude(r, g,
		                   res->cancelled ? PCP_STATUS_CANCELLED : PCP_STATUS_DNS_FAILED,
		                   res->cancelled ? "interrupted while resolving the name"
		                                  : res->error) < 0)
			fail_run(r, PCP_ERR_SYSTEM, "record");
		return;
	}
	g->addrs = malloc(res->n * sizeof *g->addrs);
	g->results = calloc(res->n, sizeof *g->results);
	if (!g->addrs || !g->results) {
		fail_run(r, PCP_ERR_SYSTEM, "addresses");
		return;
	}
	memcpy(g->addrs, res->addrs, res->n * sizeof *g->addrs);
	g->n_addrs = g->n_records = res->n;
	make_runnable(r, g);
}

static struct group *group_add(struct run *r)
{
	struct group *g = calloc(1, sizeof *g);

	if (!g)
		return NULL;
	g->run = r;
	if (r->tail)
		r->tail->next = g;
	else
		r->head = g;
	r->tail = g;
	r->n_groups++;
	g->index = r->targets_seen++;
	return g;
}

/* Takes ownership of t. Starts resolving it, or concludes it at once when invalid. */
static int group_start(struct run *r, struct pcp_target *t, const char *invalid)
{
	struct group *g = group_add(r);
	struct pcp_error err = {0};

	if (!g) {
		pcp_target_cleanup(t);
		return -1;
	}
	g->t = *t;
	memset(t, 0, sizeof *t);
	if (g->t.is_conninfo && !(g->client = pcp_judge_client_for(r->judge, &g->t)))
		return -1;
	if (invalid) {
		pcp_progress_finish(r->progress);
		pcp_log_warn("invalid target \"%s\": %s", g->t.text ? g->t.text : "", invalid);
		return group_conclude(r, g, PCP_STATUS_INVALID_TARGET, invalid);
	}
	if (r->out->signal)
		return group_conclude(r, g, PCP_STATUS_CANCELLED,
		                      "interrupted before the probe started");
	if (pcp_resolve_start(r->resolver, g->t.hostaddr ? g->t.hostaddr : g->t.host, g->t.port,
	                      on_resolved, g, &err) < 0)
		return -1;
	return 0;
}

/* FNV-1a: stable across runs and machines, so shards of one list never overlap. */
static uint64_t stable_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* One input text: shard filter, expansion into targets, a group each. */
static int take_text(struct run *r, const char *text, const char *bad, const char *where)
{
	const struct pcp_settings *s = r->cfg->settings;
	struct pcp_target *targets = NULL;
	struct pcp_error err = {0};
	size_t n = 0;
	int rc = 0;

	if (s->shard_n && stable_hash(text) % s->shard_n != s->shard_k)
		return 0;
	if (bad) {
		struct pcp_target t = {.text = strdup(text)};
		char msg[512];

		snprintf(msg, sizeof msg, "%s: %s", where, bad);
		return t.text ? group_start(r, &t, msg) : -1;
	}
	if (pcp_target_expand(text, &r->tenv, &targets, &n, &err) != PCP_OK) {
		char msg[512];

		if (err.code == PCP_ERR_SYSTEM || n == 0) {
			for (size_t i = 0; i < n; i++)
				pcp_target_cleanup(&targets[i]);
			free(targets);
			return -1;
		}
		if (where)
			snprintf(msg, sizeof msg, "%s: %s", where, err.msg);
		else
			snprintf(msg, sizeof msg, "%s", err.msg);
		rc = group_start(r, &targets[0], msg);
		for (size_t i = 1; i < n; i++)
			pcp_target_cleanup(&targets[i]);
		free(targets);
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		if (rc == 0)
			rc = group_start(r, &targets[i], NULL);
		else
			pcp_target_cleanup(&targets[i]);
	free(targets);
	return rc;
}

/* --chain FILE: a saved chain judged like a probed address, without any network. */
static int take_chain(struct run *r, const char *path)
{
	struct group *g = group_add(r);
	struct pcp_error err = {0};
	struct pcp_chain *chain;
	struct pcp_result *res;
	int rc = 0;

	if (!g)
		return -1;
	g->t.text = strdup(path);
	g->t.host = r->cfg->settings->chain_host ? strdup(r->cfg->settings->chain_host) : NULL;
	g->t.sslmode = r->cfg->settings->sslmode;
	if (!g->t.text || (r->cfg->settings->chain_host && !g->t.host))
		return -1;
	if (!(chain = pcp_chain_load_pem(path, &err)))
		return group_conclude(r, g, PCP_STATUS_INVALID_TARGET, err.msg);
	g->n_records = 1;
	g->results = calloc(1, sizeof *g->results);
	res = g->results ? new_result(g, NULL) : NULL;
	if (!res) {
		rc = -1;
	} else {
		res->status = PCP_STATUS_OK;
		if (pcp_judge_record(r->judge, res, &g->t, g->client, chain) < 0) {
			pcp_result_cleanup(res);
			free(res);
			rc = -1;
		} else {
			store_record(g, 0, res);
		}
	}
	pcp_chain_free(chain);
	return rc;
}

/* Reads one more input text (argument or file line). 0: taken, 1: input exhausted. */
static int read_one(struct run *r)
{
	const struct pcp_settings *s = r->cfg->settings;

	if (r->next_arg < s->n_targets)
		return take_text(r, s->targets[r->next_arg++], NULL, NULL) < 0 ? -1 : 0;
	if (r->next_chain < s->n_chains)
		return take_chain(r, s->chains[r->next_chain++]) < 0 ? -1 : 0;
	for (;;) {
		const char *line, *bad;
		int got;

		if (!r->reader_open) {
			if (r->next_file == s->n_target_files)
				return 1;
			if (pcp_target_reader_open(&r->reader, s->target_files[r->next_file++],
			                           r->err))
				return -2;
			r->reader_open = true;
		}
		got = pcp_target_reader_next(&r->reader, &line, &bad, r->err);
		if (got == 1) {
			char where[300];

			snprintf(where, sizeof where, "%s line %lu", r->reader.path,
			         r->reader.lineno);
			return take_text(r, line, bad, where) < 0 ? -1 : 0;
		}
		pcp_target_reader_close(&r->reader);
		r->reader_open = false;
		if (got < 0)
			return -2;
	}
}

/* ---- probes ------------------------------------------------------------------- */

static void on_probe_done(struct pcp_probe *p, void *arg)
{
	struct run *r = arg;
	struct slot *s = (struct slot *)p;
	struct group *g = s->group;
	struct pcp_result *res = new_result(g, &g->addrs[s->index]);

	if (s->prev)
		s->prev->next = s->next;
	else
		r->active = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		r->active_tail = s->prev;
	s->prev = NULL;
	s->next = r->finished;
	r->finished = s;
	r->in_flight--;
	if (!res) {
		fail_run(r, PCP_ERR_SYSTEM, "record");
		return;
	}
	res->status = p->status;
	res->connect_ms = p->connect_ms;
	res->total_ms = p->total_ms;
	if (p->status != PCP_STATUS_OK)
		snprintf(res->error, sizeof res->error, "%s", p->err.msg);
	snprintf(res->tls_version, sizeof res->tls_version, "%s", p->tls_version);
	snprintf(res->tls_cipher, sizeof res->tls_cipher, "%s", p->tls_cipher);
	if (p->chain && r->cfg->settings->save_chains)
		save_chain(r, g, s->index, res, p->chain);
	if (pcp_judge_record(r->judge, res, &g->t, g->client, p->chain) < 0) {
		pcp_result_cleanup(res);
		free(res);
		fail_run(r, PCP_ERR_SYSTEM, "verification");
		return;
	}
	store_record(g, s->index, res);
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

static int start_probe(struct run *r, struct group *g)
{
	size_t i = g->next_addr++;
	const char *host = g->t.host;
	struct slot *s = take_slot(r);

	if (!s)
		return -1;
	s->group = g;
	s->index = i;
	/* Appended: the in-flight list stays in start order, which is deadline order. */
	s->prev = r->active_tail;
	if (r->active_tail)
		r->active_tail->next = s;
	else
		r->active = s;
	r->active_tail = s;
	r->in_flight++;
	pcp_probe_start(&s->probe, &r->env, (const struct sockaddr *)&g->addrs[i],
	                g->addrs[i].ss_family == AF_INET ? sizeof(struct sockaddr_in)
	                                                 : sizeof(struct sockaddr_in6),
	                host && !pcp_host_is_ip_literal(host) ? host : NULL);
	return 0;
}

/* After a signal: everything not yet finished ends as cancelled, input included. */
static void drain(struct run *r)
{
	int got;

	pcp_resolver_cancel_all(r->resolver);
	while (r->active)
		pcp_probe_cancel(&r->active->probe);
	for (struct group *g = r->runnable; g; g = g->next_runnable)
		for (; g->next_addr < g->n_addrs; g->next_addr++) {
			struct pcp_result *res = new_result(g, &g->addrs[g->next_addr]);

			if (!res) {
				fail_run(r, PCP_ERR_SYSTEM, "record");
				return;
			}
			res->status = PCP_STATUS_CANCELLED;
			snprintf(res->error, sizeof res->error,
			         "interrupted before the probe started");
			if (pcp_judge_record(r->judge, res, &g->t, g->client, NULL) < 0)
				r->fatal = PCP_ERR_SYSTEM;
			store_record(g, g->next_addr, res);
		}
	r->runnable = r->runnable_tail = NULL;
	emit_ready(r);
	/* The rest of the input is read only to give each target its record. */
	while ((got = read_one(r)) == 0)
		emit_ready(r);
	if (got < -1)
		r->fatal = r->err->code;
	r->input_done = r->drained = true;
}

static void arm_deadline(struct run *r)
{
	if (!r->active || ev_is_active(&r->deadline))
		return;
	ev_timer_set(&r->deadline,
	             r->active->probe.started + r->cfg->settings->timeout - ev_now(r->loop), 0.);
	ev_timer_start(r->loop, &r->deadline);
}

/* Before the loop blocks: recycle probes, read input, start probes, emit, stop when done. */
static void on_refill(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct run *r = w->data;

	(void)revents;
	free_finished(r);
	if (r->out->signal && !r->drained)
		drain(r);
	while (!r->input_done && r->n_groups < r->max_groups) {
		int got = read_one(r);

		if (got == 1) {
			r->input_done = true;
		} else if (got < 0) {
			fail_run(r, got == -2 ? r->err->code : PCP_ERR_SYSTEM, "targets");
			return;
		}
	}
	while (r->runnable && r->in_flight < r->window) {
		struct group *g = r->runnable;

		if (start_probe(r, g) < 0) {
			fail_run(r, PCP_ERR_SYSTEM, "probe");
			return;
		}
		if (g->next_addr == g->n_addrs) {
			r->runnable = g->next_runnable;
			if (!r->runnable)
				r->runnable_tail = NULL;
		}
	}
	emit_ready(r);
	arm_deadline(r);
	if (r->input_done && !r->head && r->in_flight == 0)
		ev_break(loop, EVBREAK_ALL);
}

/* Expires every probe whose deadline passed, oldest first, and waits for the next one. */
static void on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct run *r = w->data;
	double timeout = r->cfg->settings->timeout;

	(void)revents;
	while (r->active && r->active->probe.started + timeout <= ev_now(loop))
		pcp_probe_expire(&r->active->probe);
	arm_deadline(r);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct run *r = w->data;

	(void)loop;
	(void)revents;
	if (!r->out->signal) {
		r->out->signal = w->signum;
		r->out->totals.interrupted = true;
	}
}

/* ---- the run ------------------------------------------------------------------ */

static void run_cleanup(struct run *r)
{
	/* First: freeing the resolver calls back into pending groups. */
	pcp_resolver_free(r->resolver);
	r->resolver = NULL;
	free_finished(r);
	for (struct slot *s = r->spare; s;) {
		struct slot *next = s->next;

		free(s);
		s = next;
	}
	while (r->head) {
		struct group *g = r->head;

		r->head = g->next;
		group_free(g);
	}
	if (r->reader_open)
		pcp_target_reader_close(&r->reader);
	free(r->require);
	pcp_judge_free(r->judge);
	pcp_service_cache_free(r->tenv.services);
	pcp_progress_free(r->progress);
	if (r->env.ssl_ctx)
		SSL_CTX_free(r->env.ssl_ctx);
}

static enum pcp_errc prepare_run(struct run *r, struct pcp_error *err)
{
	const struct pcp_settings *s = r->cfg->settings;
	struct pcp_resolve_opts ropts = {
	        .family = s->family, .dns_server = s->dns_server, .timeout = s->timeout};

	/* Unreadable target files stop the run before any probe (exit 66). */
	for (size_t i = 0; i < s->n_target_files; i++) {
		struct pcp_target_reader rd;

		if (strcmp(s->target_files[i], "-") == 0)
			continue;
		if (pcp_target_reader_open(&rd, s->target_files[i], err))
			return err->code;
		pcp_target_reader_close(&rd);
	}
	r->out->totals.verified = calloc(r->cfg->stores->n ? r->cfg->stores->n : 1, sizeof(size_t));
	r->require = calloc(s->n_require ? s->n_require : 1, sizeof *r->require);
	if (!r->out->totals.verified || !r->require)
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	/* --require STORE[@TIME]: an index into the verdicts, [instant * n_stores + store]. */
	for (size_t i = 0; i < s->n_require; i++) {
		char name[128];
		time_t at;
		bool has_at;
		long j;
		size_t a = 0;

		if (pcp_require_parse(s->require[i], name, sizeof name, &at, &has_at, err))
			return err->code;
		if ((j = pcp_store_list_find(r->cfg->stores, name)) < 0)
			return pcp_error_set(err, PCP_ERR_USAGE,
			                     "--require %s: no store of that name", s->require[i]);
		while (has_at && a < r->cfg->n_ats && r->cfg->ats[a] != at)
			a++;
		if (a == r->cfg->n_ats)
			return pcp_error_set(err, PCP_ERR_USAGE, "--require %s: too many instants",
			                     s->require[i]);
		r->require[r->n_require++] = a * r->cfg->stores->n + (size_t)j;
	}
	struct pcp_judge_config jcfg = {.stores = r->cfg->stores,
	                                .ats = r->cfg->ats,
	                                .n_ats = r->cfg->n_ats,
	                                .auth_level = r->cfg->auth_level,
	                                .warn_days = s->warn_days,
	                                .old_store = s->old_store,
	                                .new_store = s->new_store,
	                                .client_home = s->client_home,
	                                .future_chain = s->future_chain,
	                                .baseline = s->baseline};
	if (!(r->judge = pcp_judge_new(&jcfg, err)))
		return err->code;
	if (!(r->env.ssl_ctx = pcp_tls_ctx_new(err)))
		return err->code;
	if (!(r->resolver = pcp_resolver_new(r->loop, &ropts, err)))
		return err->code;
	for (size_t i = 0; i < s->n_pins; i++)
		if (pcp_resolver_pin(r->resolver, s->pins[i], err))
			return err->code;
	r->window = pcp_net_fit_concurrency(s->concurrency);
	if (r->window < s->concurrency)
		pcp_log_warn("open-file limit allows only %u probes in flight: --concurrency %u "
		             "lowered to %u",
		             r->window, s->concurrency, r->window);
	/* Targets held at once: enough to keep the window full while some names resolve. */
	r->max_groups = 2 * (size_t)r->window + 64;
	if (!(r->tenv.services = pcp_service_cache_new()))
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	r->tenv.servicefile = getenv("PGSERVICEFILE");
	r->tenv.sysconfdir = getenv("PGSYSCONFDIR");
	r->tenv.home = getenv("HOME");
	return PCP_OK;
}

/* Baseline addresses of targets this run did not probe at all (in this run's shard: a
 * whole-fleet baseline must not count the other shards' targets). */
static void report_unseen(void *arg, const char *target, const char *addr)
{
	struct run *r = arg;
	const struct pcp_settings *s = r->cfg->settings;

	if (s->shard_n && stable_hash(target) % s->shard_n != s->shard_k)
		return;
	r->out->changed++;
	pcp_log_error("%s %s: in the baseline, not probed in this run", target,
	              addr && *addr ? addr : "-");
}

enum pcp_errc pcp_run(const struct pcp_run_config *cfg, struct pcp_run_outcome *out,
                      struct pcp_error *err)
{
	struct run r = {.cfg = cfg, .out = out, .err = err};
	enum pcp_errc rc;

	memset(out, 0, sizeof *out);
	signal(SIGPIPE, SIG_IGN);
	r.loop = ev_default_loop(EVFLAG_AUTO);
	if (!r.loop)
		return pcp_error_set(err, PCP_ERR_SYSTEM, "cannot start the event loop");
	if ((rc = prepare_run(&r, err)))
		goto out;
	r.env = (struct pcp_probe_env){.loop = r.loop,
	                               .ssl_ctx = r.env.ssl_ctx,
	                               .timeout = cfg->settings->timeout,
	                               .done = on_probe_done,
	                               .done_arg = &r,
	                               .trace = getenv("PGCERTPROBE_TRACE") != NULL};
	ev_init(&r.deadline, on_deadline);
	r.deadline.data = &r;
	ev_prepare_init(&r.refill, on_refill);
	r.refill.data = &r;
	ev_prepare_start(r.loop, &r.refill);
	ev_signal_init(&r.sigint, on_signal, SIGINT);
	ev_signal_init(&r.sigterm, on_signal, SIGTERM);
	r.sigint.data = r.sigterm.data = &r;
	ev_signal_start(r.loop, &r.sigint);
	ev_signal_start(r.loop, &r.sigterm);
	r.progress = pcp_progress_new(stderr, isatty(STDERR_FILENO) && !r.env.trace);
	r.stdout_tty = isatty(STDOUT_FILENO);
	pcp_progress_update(r.progress, 0, 0, 0, ev_now(r.loop));
	ev_timer_init(&r.progress_tick, on_progress_tick, 0.25, 0.25);
	r.progress_tick.data = &r;
	if (r.progress)
		ev_timer_start(r.loop, &r.progress_tick);
	cfg->writer->ops->begin(cfg->writer);
	ev_run(r.loop, 0);
	ev_timer_stop(r.loop, &r.progress_tick);
	pcp_progress_finish(r.progress);
	ev_prepare_stop(r.loop, &r.refill);
	ev_timer_stop(r.loop, &r.deadline);
	ev_signal_stop(r.loop, &r.sigint);
	ev_signal_stop(r.loop, &r.sigterm);
	rc = r.fatal;
	out->fail_on_change = cfg->settings->fail_on_change;
	if (rc == PCP_OK && pcp_judge_baseline(r.judge) && !out->signal)
		pcp_baseline_unseen(pcp_judge_baseline(r.judge), report_unseen, &r);
	/* Buffering writers (Prometheus) write everything here: a failure is the run's. */
	if (rc == PCP_OK && cfg->writer->ops->end(cfg->writer, &out->totals) < 0)
		rc = pcp_error_set(err, PCP_ERR_SYSTEM, "cannot write the report: %s",
		                   strerror(errno ? errno : EIO));
out:
	run_cleanup(&r);
	return rc;
}

int pcp_run_exit_code(const struct pcp_run_outcome *out)
{
	if (out->signal)
		return 128 + out->signal;
	if (out->failed_required || (out->fail_on_change && out->changed))
		return 1;
	if (out->totals.not_probed)
		return 2;
	return 0;
}
