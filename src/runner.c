/* The command-line run. Targets come from the arguments, offline chains and the input
 * reader (files, standard input) into groups, one per target after expansion; the engine
 * resolves and probes them; groups leave in input order once complete, each record going
 * to the writer, the totals and the gates. Only the number of groups held is bounded, not
 * the input's size. SIGINT/SIGTERM stop the input at once and cancel what is in flight:
 * every target already read still gets its records. */
#include "runner.h"

#include <assert.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "engine.h"
#include "gates.h"
#include "input.h"
#include "json.h"
#include "judge.h"
#include "log.h"
#include "net.h"
#include "progress.h"
#include "targets.h"

/* An offline chain (--chain), loaded before the loop starts. */
struct offline {
	struct pcp_chain *chain; /* NULL when the file could not be used */
	char error[256];
};

struct run {
	const struct pcp_run_config *cfg;
	struct ev_loop *loop;
	struct pcp_engine *engine;
	struct pcp_judge *judge;
	struct pcp_gates *gates;
	struct pcp_input *input; /* NULL without target files, or once stopped */
	struct pcp_target_env tenv;
	struct offline *offline;
	size_t next_arg, next_chain;
	bool input_done;
	bool stopped; /* a signal ended the input and cancelled what was in flight */
	struct pcp_group *head, *tail; /* groups in input order */
	size_t n_groups, max_groups;
	size_t targets_seen, targets_done;
	struct pcp_progress *progress;
	ev_timer progress_tick; /* redraws the progress line while nothing completes */
	bool stdout_tty;
	ev_prepare refill;
	ev_signal sigint, sigterm;
	struct pcp_run_outcome *out;
	struct pcp_error *err; /* the error that stopped the run; code PCP_OK while none */
};

/* The first failure ends the run; it is what main reports. */
static void fail_run(struct run *r, const struct pcp_error *err)
{
	if (r->err->code == PCP_OK)
		*r->err = *err;
	ev_break(r->loop, EVBREAK_ALL);
}

/* ---- output ------------------------------------------------------------------------ */

static void show_progress(struct run *r)
{
	/* Targets, not addresses: only the number of targets is known once the input ends. */
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

/* Gate failures go to stderr, one line each, never mixed with the progress line. */
static void on_offender(void *arg, const char *message)
{
	struct run *r = arg;

	pcp_progress_finish(r->progress);
	pcp_log_error("%s", message);
}

static void tally(struct run *r, const struct pcp_result *res)
{
	struct pcp_run_totals *t = &r->out->totals;

	t->records++;
	r->out->changed += res->n_changes > 0;
	if (res->status != PCP_STATUS_OK) {
		t->not_probed++;
	} else {
		t->ok++;
		for (size_t i = 0; i < r->cfg->stores->n; i++)
			t->verified[i] += res->verdicts[i].ok;
	}
	r->out->failed_required += pcp_gates_check(r->gates, res, on_offender, r);
}

/* Writes every group at the head whose records are all done. */
static void emit_ready(struct run *r)
{
	while (r->head && r->head->n_records && r->head->n_done == r->head->n_records) {
		struct pcp_group *g = r->head;

		if (r->stdout_tty)
			pcp_progress_finish(r->progress); /* the line must not mix with records */
		for (size_t i = 0; i < g->n_records; i++) {
			tally(r, g->results[i]);
			/* A full disk or a closed pipe ends the run rather than losing records. */
			if (r->cfg->writer->ops->record(r->cfg->writer, g->results[i]) < 0) {
				struct pcp_error err;

				pcp_error_set(&err, PCP_ERR_SYSTEM,
				              "cannot write the report to %s: %s",
				              r->cfg->output_name, strerror(errno ? errno : EIO));
				fail_run(r, &err);
				return;
			}
		}
		r->head = g->next;
		if (!r->head)
			r->tail = NULL;
		r->n_groups--;
		r->targets_done++;
		pcp_group_free(g);
		show_progress(r);
	}
}

/* ---- input ------------------------------------------------------------------------- */

/* A group for t (taken over) at the end of the input order. NULL when out of memory. */
static struct pcp_group *group_add(struct run *r, struct pcp_target *t)
{
	struct pcp_group *g = pcp_group_new(t);

	if (!g)
		return NULL;
	pcp_setup_group(g, r->cfg->settings, r->judge);
	g->index = r->targets_seen++;
	if (r->tail)
		r->tail->next = g;
	else
		r->head = g;
	r->tail = g;
	r->n_groups++;
	return g;
}

/* Concludes g as one record of status without a probe. */
static int conclude(struct run *r, struct pcp_group *g, enum pcp_status status, const char *error,
                    struct pcp_error *err)
{
	struct pcp_outcome o = {.status = status, .error = error};

	return pcp_engine_conclude(r->engine, g, &o, err);
}

/* Takes over t: resolves and probes it, or concludes it at once when invalid (or when the
 * run was interrupted before it started). */
static int group_start(struct run *r, struct pcp_target *t, const char *invalid,
                       struct pcp_error *err)
{
	struct pcp_group *g = group_add(r, t);

	if (!g)
		return pcp_error_set(err, PCP_ERR_SYSTEM, "targets: out of memory"), -1;
	if (pcp_judge_client_for(r->judge, &g->t, &g->client, err) < 0)
		return -1;
	if (invalid) {
		pcp_progress_finish(r->progress);
		pcp_log_warn("invalid target \"%s\": %s", g->t.text ? g->t.text : "", invalid);
		return conclude(r, g, PCP_STATUS_INVALID_TARGET, invalid, err);
	}
	if (r->stopped)
		return conclude(r, g, PCP_STATUS_CANCELLED, "interrupted before the probe started",
		                err);
	return pcp_engine_submit(r->engine, g, err);
}

/* FNV-1a: stable across runs and machines, so shards of one list never overlap. */
static uint64_t stable_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* The shard a target text belongs to, by its masked text: what records and baselines keep,
 * so a baseline's targets fall in the same shards. -1 when out of memory. */
static int in_shard(const struct pcp_settings *s, const char *text)
{
	char *masked;
	int in;

	if (!s->shard_n)
		return 1;
	if (!(masked = pcp_target_mask(text)))
		return -1;
	in = stable_hash(masked) % s->shard_n == s->shard_k;
	free(masked);
	return in;
}

/* One input text: shard filter, expansion into targets, a group each. bad: the reader found
 * the line unusable; where: "FILE line N" or NULL for arguments. */
static int take_text(struct run *r, const char *text, const char *bad, const char *where,
                     struct pcp_error *err)
{
	struct pcp_target *targets = NULL;
	struct pcp_error terr = {0};
	char msg[512];
	size_t n = 0;
	int rc = 0, shard = in_shard(r->cfg->settings, text);

	if (shard <= 0)
		return shard < 0 ? pcp_error_set(err, PCP_ERR_SYSTEM, "targets: out of memory"),
		       -1        : 0;
	if (bad) {
		struct pcp_target t = {.text = pcp_target_mask(text)};

		if (!t.text)
			return pcp_error_set(err, PCP_ERR_SYSTEM, "targets: out of memory"), -1;
		snprintf(msg, sizeof msg, "%s: %s", where, bad);
		return group_start(r, &t, msg, err);
	}
	if (pcp_target_expand(text, &r->tenv, &targets, &n, &terr) != PCP_OK) {
		if (terr.code != PCP_ERR_TARGET || n == 0) {
			for (size_t i = 0; i < n; i++)
				pcp_target_cleanup(&targets[i]);
			free(targets);
			*err = terr;
			return -1;
		}
		snprintf(msg, sizeof msg, "%s%s%s", where ? where : "", where ? ": " : "",
		         terr.msg);
		rc = group_start(r, &targets[0], msg, err);
		for (size_t i = 1; i < n; i++)
			pcp_target_cleanup(&targets[i]);
		free(targets);
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		if (rc == 0)
			rc = group_start(r, &targets[i], NULL, err);
		else
			pcp_target_cleanup(&targets[i]);
	free(targets);
	return rc;
}

/* --chain FILE: a saved chain judged like a probed address, without any network. */
static int take_chain(struct run *r, size_t i, struct pcp_error *err)
{
	const struct pcp_settings *s = r->cfg->settings;
	const struct offline *o = &r->offline[i];
	struct pcp_target t = {.text = strdup(s->chains[i]),
	                       .host = s->chain_host ? strdup(s->chain_host) : NULL,
	                       .port = 0};
	struct pcp_outcome outcome = {.status = PCP_STATUS_OK, .chain = o->chain};
	struct pcp_group *g;

	if (!t.text || (s->chain_host && !t.host)) {
		pcp_target_cleanup(&t);
		return pcp_error_set(err, PCP_ERR_SYSTEM, "targets: out of memory"), -1;
	}
	if (!(g = group_add(r, &t)))
		return pcp_error_set(err, PCP_ERR_SYSTEM, "targets: out of memory"), -1;
	if (r->stopped)
		return conclude(r, g, PCP_STATUS_CANCELLED,
		                "interrupted before the chain was judged", err);
	if (!o->chain) {
		pcp_progress_finish(r->progress);
		pcp_log_warn("invalid target \"%s\": %s", g->t.text, o->error);
		return conclude(r, g, PCP_STATUS_INVALID_TARGET, o->error, err);
	}
	return pcp_engine_conclude(r->engine, g, &outcome, err);
}

/* Takes one more input text. 1: taken, 0: none ready now (the input reader wakes the loop
 * when one is), -1: the input ended, -2: failure (err set). */
static int read_one(struct run *r, struct pcp_error *err)
{
	const struct pcp_settings *s = r->cfg->settings;
	struct pcp_input_line line;
	int got;

	if (r->next_arg < s->n_targets)
		return take_text(r, s->targets[r->next_arg++], NULL, NULL, err) < 0 ? -2 : 1;
	if (r->next_chain < s->n_chains)
		return take_chain(r, r->next_chain++, err) < 0 ? -2 : 1;
	if (!r->input)
		return -1;
	got = pcp_input_next(r->input, &line, err);
	if (got == 1) {
		int rc = take_text(r, line.text, line.bad, line.where, err);

		free(line.text);
		return rc < 0 ? -2 : 1;
	}
	return got;
}

/* After a signal: the arguments and the lines the reader already handed over get their
 * records (cancelled); nothing more is read from files or pipes. */
static void stop(struct run *r)
{
	struct pcp_error err = {0};
	int got;

	r->stopped = true;
	pcp_engine_cancel_all(r->engine);
	if (r->input) {
		const char *pos;

		pcp_input_stop(r->input);
		while ((got = read_one(r, &err)) == 1)
			;
		pos = pcp_input_position(r->input);
		if (got == 0 || got == -2)
			pcp_log_warn("interrupted: targets after %s were not read",
			             *pos ? pos : "the start of the input");
		pcp_input_free(r->input);
		r->input = NULL;
	}
	while ((got = read_one(r, &err)) == 1)
		;
	if (got == -2 && err.code != PCP_ERR_INPUT)
		fail_run(r, &err);
	r->input_done = true;
}

/* Before the loop blocks: take input while there is room, emit, stop when all is done. */
static void on_refill(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct run *r = w->data;
	struct pcp_error err = {0};

	(void)revents;
	if (r->out->signal && !r->stopped)
		stop(r);
	while (!r->input_done && r->n_groups < r->max_groups) {
		int got = read_one(r, &err);

		if (got == 0)
			break;
		if (got == -1)
			r->input_done = true;
		if (got == -2) {
			fail_run(r, &err);
			return;
		}
	}
	emit_ready(r);
	if (pcp_engine_failure(r->engine))
		fail_run(r, pcp_engine_failure(r->engine));
	else if (r->input_done && !r->head)
		ev_break(loop, EVBREAK_ALL);
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

/* ---- the run ----------------------------------------------------------------------- */

static void run_cleanup(struct run *r)
{
	/* First: the engine completes the groups it holds (cancelled) before they are freed. */
	pcp_engine_free(r->engine);
	pcp_input_free(r->input);
	while (r->head) {
		struct pcp_group *g = r->head;

		r->head = g->next;
		pcp_group_free(g);
	}
	for (size_t i = 0; r->offline && i < r->cfg->settings->n_chains; i++)
		pcp_chain_free(r->offline[i].chain);
	free(r->offline);
	pcp_gates_free(r->gates);
	pcp_judge_free(r->judge);
	pcp_service_cache_free(r->tenv.services);
	free((char *)r->tenv.home);
	pcp_progress_free(r->progress);
}

/* Verdicts flip when the instant moves, not only when servers change: say so when the
 * baseline was verified at another kind of instant (a given one against now, or another
 * given one). Two runs "as of now" compare without a warning. */
static void warn_baseline_instant(const struct run *r)
{
	const struct pcp_settings *s = r->cfg->settings;
	struct pcp_baseline *b = pcp_judge_baseline(r->judge);
	bool run_now = s->n_ats == 0 || s->ats_now[0];
	const char *then;
	char at[40];
	int then_now;

	if (!b || !(then = pcp_baseline_instant(b, &then_now)))
		return;
	pcp_format_time(r->cfg->instants->at[0], at, sizeof at);
	if ((then_now >= 0 && (then_now == 1) != run_now) || (!run_now && strcmp(then, at) != 0))
		pcp_log_warn("--baseline %s was verified as of %s%s; this run verifies as of %s%s: "
		             "verdicts may change with the instant, not the servers",
		             s->baseline, then, then_now == 1 ? " (its now)" : "", at,
		             run_now ? " (now)" : "");
}

/* Unreadable target files stop the run before any probe (exit 66). A FIFO is only
 * checked for permission: opening it here would wait for its writer, or (without
 * blocking) let the writer's first write fail once we closed it again. */
static enum pcp_errc check_target_files(const struct pcp_settings *s, struct pcp_error *err)
{
	for (size_t i = 0; i < s->n_target_files; i++) {
		const char *path = s->target_files[i];
		struct stat st;
		int fd = -1;

		if (strcmp(path, "-") == 0)
			continue;
		if (stat(path, &st) != 0 ||
		    (S_ISFIFO(st.st_mode)
		             ? access(path, R_OK)
		             : (fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC))) < 0)
			return pcp_error_set(err, PCP_ERR_INPUT, "cannot read targets file %s: %s",
			                     path, strerror(errno));
		if (fd >= 0)
			close(fd);
		if (S_ISDIR(st.st_mode))
			return pcp_error_set(err, PCP_ERR_INPUT,
			                     "cannot read targets file %s: Is a directory", path);
	}
	return PCP_OK;
}

static enum pcp_errc prepare_run(struct run *r, struct pcp_error *err)
{
	const struct pcp_settings *s = r->cfg->settings;
	struct pcp_engine_config ecfg;
	struct pcp_judge_config jcfg;

	pcp_setup_engine(&ecfg, r->loop, s);
	pcp_setup_judge(&jcfg, s, r->cfg->stores, r->cfg->instants, r->cfg->auth_level);
	if (check_target_files(s, err))
		return err->code;
	if (!(r->out->totals.verified = calloc(r->cfg->stores->n + 1, sizeof(size_t))) ||
	    !(r->offline = calloc(s->n_chains + 1, sizeof *r->offline)) ||
	    !(r->tenv.services = pcp_service_cache_new()))
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	for (size_t i = 0; i < s->n_chains; i++) {
		struct pcp_error cerr = {0};

		if (!(r->offline[i].chain = pcp_chain_load_pem(s->chains[i], &cerr))) {
			if (cerr.code == PCP_ERR_SYSTEM)
				return pcp_error_set(err, PCP_ERR_SYSTEM, "%s", cerr.msg);
			snprintf(r->offline[i].error, sizeof r->offline[i].error, "%s", cerr.msg);
		}
	}
	if (!(r->gates = pcp_gates_new(s, r->cfg->stores, r->cfg->instants->at, r->cfg->instants->n,
	                               err)) ||
	    !(r->judge = pcp_judge_new(&jcfg, err)))
		return err->code;
	warn_baseline_instant(r);
	ecfg.window = pcp_net_fit_concurrency(s->concurrency);
	if (ecfg.window < s->concurrency)
		pcp_log_warn("open-file limit allows only %u probes in flight: --concurrency %u "
		             "lowered to %u",
		             ecfg.window, s->concurrency, ecfg.window);
	if (!(r->engine = pcp_engine_new(&ecfg, err)))
		return err->code;
	/* Targets held at once: enough to keep the window full while some names resolve. */
	r->max_groups = 2 * (size_t)ecfg.window + 64;
	r->tenv.servicefile = getenv("PGSERVICEFILE");
	r->tenv.sysconfdir = getenv("PGSYSCONFDIR");
	r->tenv.home = pcp_client_home(s->client_home);
	r->tenv.libpq_version = s->libpq_version;
	if (s->n_target_files &&
	    !(r->input = pcp_input_new(r->loop, s->target_files, s->n_target_files, err)))
		return err->code;
	r->tenv.client_driver = s->client_driver;
	return PCP_OK;
}

/* Baseline addresses of targets this run did not probe at all (in this run's shard: a
 * whole-fleet baseline must not count the other shards' targets). */
static void report_unseen(void *arg, const char *target, const char *addr)
{
	struct run *r = arg;

	if (in_shard(r->cfg->settings, target) == 0)
		return;
	r->out->changed++;
	pcp_log_error("%s %s: in the baseline, not probed in this run", target,
	              addr && *addr ? addr : "-");
}

static void start_watchers(struct run *r)
{
	ev_prepare_init(&r->refill, on_refill);
	r->refill.data = r;
	ev_prepare_start(r->loop, &r->refill);
	ev_signal_init(&r->sigint, on_signal, SIGINT);
	ev_signal_init(&r->sigterm, on_signal, SIGTERM);
	r->sigint.data = r->sigterm.data = r;
	ev_signal_start(r->loop, &r->sigint);
	ev_signal_start(r->loop, &r->sigterm);
	ev_timer_init(&r->progress_tick, on_progress_tick, 0.25, 0.25);
	r->progress_tick.data = r;
	if (r->progress)
		ev_timer_start(r->loop, &r->progress_tick);
}

static void stop_watchers(struct run *r)
{
	ev_timer_stop(r->loop, &r->progress_tick);
	ev_prepare_stop(r->loop, &r->refill);
	ev_signal_stop(r->loop, &r->sigint);
	ev_signal_stop(r->loop, &r->sigterm);
}

enum pcp_errc pcp_run(const struct pcp_run_config *cfg, struct pcp_run_outcome *out,
                      struct pcp_error *err)
{
	struct run r = {.cfg = cfg, .out = out, .err = err};

	memset(out, 0, sizeof *out);
	err->code = PCP_OK;
	signal(SIGPIPE, SIG_IGN);
	if (!(r.loop = ev_default_loop(EVFLAG_AUTO)))
		return pcp_error_set(err, PCP_ERR_SYSTEM, "cannot start the event loop");
	if (prepare_run(&r, err) != PCP_OK)
		goto out;
	r.progress =
	        pcp_progress_new(stderr, isatty(STDERR_FILENO) && !getenv("PGCERTPROBE_TRACE"));
	r.stdout_tty = isatty(STDOUT_FILENO);
	pcp_progress_update(r.progress, 0, 0, 0, ev_now(r.loop));
	start_watchers(&r);
	if (cfg->writer->ops->begin(cfg->writer) < 0) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "cannot write the report to %s: %s",
		              cfg->output_name, strerror(errno ? errno : EIO));
	} else {
		ev_run(r.loop, 0);
	}
	stop_watchers(&r);
	pcp_progress_finish(r.progress);
	out->fail_on_change = cfg->settings->fail_on_change;
	if (err->code == PCP_OK && pcp_judge_baseline(r.judge) && !out->signal)
		pcp_baseline_unseen(pcp_judge_baseline(r.judge), report_unseen, &r);
	/* Buffering writers (Prometheus) write everything here: a failure is the run's. */
	if (err->code == PCP_OK && cfg->writer->ops->end(cfg->writer, &out->totals) < 0)
		pcp_error_set(err, PCP_ERR_SYSTEM, "cannot write the report to %s: %s",
		              cfg->output_name, strerror(errno ? errno : EIO));
out:
	run_cleanup(&r);
	return err->code;
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
