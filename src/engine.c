/* The probe engine (see engine.h). Probes in flight are kept in deadline order in one list,
 * so one timer serves them all: with one timeout for every group (the command line) each
 * new probe goes to the tail in O(1); groups with other timeouts (the exporter) are put in
 * place from the tail. A group with a not_after (the exporter's) also has a timer of its
 * own, for addresses still waiting for a slot then. Finished probes are recycled before the
 * loop next blocks, never inside their own callback. */
#include "engine.h"

#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostmatch.h"
#include "log.h"
#include "net.h"
#include "tls.h"

/* A probe in flight; the probe comes first so its ev_io stays the slot's first member. */
struct slot {
	struct pcp_probe probe;
	struct pcp_group *group;
	size_t index;             /* address index in the group */
	struct slot *prev, *next; /* the in-flight list, or the free lists (next only) */
	bool in_flight;
};

struct pcp_engine {
	struct pcp_engine_config cfg;
	SSL_CTX *ssl_ctx;
	struct pcp_resolver *resolver;
	unsigned in_flight;
	size_t held;                       /* groups submitted and not complete */
	struct slot *active, *active_tail; /* in flight, earliest deadline first */
	struct slot *finished, *spare;
	struct pcp_group *runnable, *runnable_tail;
	ev_timer deadline; /* the earliest deadline of the in-flight list */
	ev_prepare refill;
	struct pcp_error failure;
};

static void engine_fail(struct pcp_engine *e, const struct pcp_error *err)
{
	if (e->failure.code == PCP_OK)
		e->failure = *err;
	ev_break(e->cfg.loop, EVBREAK_ALL);
}

static void engine_oom(struct pcp_engine *e, const char *what)
{
	struct pcp_error err;

	pcp_error_set(&err, PCP_ERR_SYSTEM, "%s: out of memory", what);
	engine_fail(e, &err);
}

/* ---- groups and records ---------------------------------------------------------- */

struct pcp_group *pcp_group_new(struct pcp_target *t)
{
	struct pcp_group *g = calloc(1, sizeof *g);

	if (!g) {
		pcp_target_cleanup(t);
		return NULL;
	}
	g->t = *t;
	memset(t, 0, sizeof *t);
	return g;
}

void pcp_group_free(struct pcp_group *g)
{
	if (!g)
		return;
	assert(!g->engine || g->n_done == g->n_records);
	if (g->env.loop) /* stopped on completion; a group that never completed too */
		ev_timer_stop(g->env.loop, &g->expiry);
	for (size_t i = 0; g->results && i < g->n_records; i++) {
		pcp_result_cleanup(g->results[i]);
		free(g->results[i]);
	}
	free(g->results);
	free(g->addrs);
	pcp_target_cleanup(&g->t);
	free(g);
}

/* A file name for --save-chains: position, host and address, safe characters only. */
static void save_chain(const char *dir, const struct pcp_group *g, size_t addr_index,
                       const struct pcp_result *res, const struct pcp_chain *chain)
{
	char name[512], path[4096];
	FILE *fp;
	int n;

	/* Input order: the target's position, then the address's within it. A host name too
	 * long for the file name is cut: the position keeps the name unique. */
	snprintf(name, sizeof name, "%06zu-%02zu_%.200s_%s_%u.pem", g->index, addr_index,
	         res->host ? res->host : "", res->addr, res->port);
	for (size_t k = 0; name[k]; k++)
		if (!((name[k] >= 'a' && name[k] <= 'z') || (name[k] >= 'A' && name[k] <= 'Z') ||
		      (name[k] >= '0' && name[k] <= '9') || name[k] == '.' || name[k] == '-' ||
		      name[k] == '_'))
			name[k] = '_';
	n = snprintf(path, sizeof path, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof path) {
		pcp_log_warn("cannot write chain to %s/%s: path too long", dir, name);
		return;
	}
	fp = fopen(path, "w");
	if (!fp || pcp_chain_write_pem(chain, fp) < 0 || fclose(fp) != 0)
		pcp_log_warn("cannot write chain to %s: %s", path, strerror(errno));
}

/* The one place a record is made: what the address came to (a probe's outcome, or a
 * status without a probe), judged, stored at index i. Completes the group with its last
 * record. Returns 0, or -1 with err set. */
static int finish_record(struct pcp_group *g, size_t i, const struct sockaddr_storage *addr,
                         const struct pcp_probe *p, const struct pcp_outcome *o,
                         struct pcp_error *err)
{
	const struct pcp_target *t = &g->t;
	const struct pcp_chain *chain = p ? p->chain : o->chain;
	struct pcp_result *res = calloc(1, sizeof *res);
	unsigned port = t->port;

	assert(i < g->n_records && !g->results[i]);
	if (!res)
		goto oom;
	res->target = strdup(t->text ? t->text : "");
	res->host = t->host ? strdup(t->host) : NULL;
	res->port = t->port;
	res->sslmode = t->has_sslmode ? t->sslmode : g->sslmode;
	res->negotiation = g->negotiation;
	res->connect_ms = res->total_ms = -1; /* unknown until a probe ran */
	if (!res->target || (t->host && !res->host))
		goto oom;
	if (addr && pcp_net_addr_text((const struct sockaddr *)addr, res->addr, sizeof res->addr,
	                              &port) == 0)
		res->port = (uint16_t)port;
	res->status = p ? p->status : o->status;
	if (res->status != PCP_STATUS_OK)
		snprintf(res->error, sizeof res->error, "%s",
		         p          ? p->err.msg
		         : o->error ? o->error
		                    : "");
	if (p) {
		res->connect_ms = p->connect_ms;
		res->total_ms = p->total_ms;
		snprintf(res->tls_version, sizeof res->tls_version, "%s", p->tls_version);
		snprintf(res->tls_cipher, sizeof res->tls_cipher, "%s", p->tls_cipher);
		pcp_probe_note(p, res);
	}
	if (p && chain && g->engine->cfg.save_chains)
		save_chain(g->engine->cfg.save_chains, g, i, res, chain);
	if (pcp_judge_record(g->judge, res, t, g->client,
	                     res->status == PCP_STATUS_OK ? chain : NULL, err) < 0) {
		pcp_result_cleanup(res);
		free(res);
		return -1;
	}
	g->results[i] = res;
	if (++g->n_done == g->n_records) {
		struct pcp_engine *e = g->engine;

		if (pcp_judge_group(g->judge, g->results, g->n_records, err) < 0)
			return -1;
		e->held--;
		if (g->not_after > 0)
			ev_timer_stop(e->cfg.loop, &g->expiry);
		if (g->done)
			g->done(g, g->done_arg);
	}
	return 0;
oom:
	if (res) {
		pcp_result_cleanup(res);
		free(res);
	}
	return pcp_error_set(err, PCP_ERR_SYSTEM, "record: out of memory"), -1;
}

/* Makes room for n records; the group's addresses are known. */
static int group_size(struct pcp_group *g, size_t n)
{
	assert(!g->results);
	if (!(g->results = calloc(n, sizeof *g->results)))
		return -1;
	g->n_records = n;
	g->n_done = 0;
	return 0;
}

int pcp_engine_conclude(struct pcp_engine *e, struct pcp_group *g, const struct pcp_outcome *o,
                        struct pcp_error *err)
{
	g->engine = e;
	e->held++;
	if (group_size(g, 1) < 0) {
		e->held--;
		return pcp_error_set(err, PCP_ERR_SYSTEM, "record: out of memory"), -1;
	}
	return finish_record(g, 0, NULL, NULL, o, err);
}

/* An address that will never be probed (status and why), for its group's completeness. */
static int skip_address(struct pcp_group *g, enum pcp_status status, const char *why,
                        struct pcp_error *err)
{
	size_t i = g->next_addr++;
	struct pcp_outcome o = {.status = status, .error = why};

	return finish_record(g, i, &g->addrs[i], NULL, &o, err);
}

/* ---- resolution --------------------------------------------------------------------- */

static void on_probe_done(struct pcp_probe *p, void *arg);

static void make_runnable(struct pcp_engine *e, struct pcp_group *g)
{
	g->next_runnable = NULL;
	g->prev_runnable = e->runnable_tail;
	if (e->runnable_tail)
		e->runnable_tail->next_runnable = g;
	else
		e->runnable = g;
	e->runnable_tail = g;
}

/* What the group's addresses come from: hostaddr when given (libpq connects there). */
static const char *lookup_name(const struct pcp_group *g)
{
	return g->t.hostaddr ? g->t.hostaddr : g->t.host;
}

static void unlink_runnable(struct pcp_engine *e, struct pcp_group *g)
{
	if (g->prev_runnable)
		g->prev_runnable->next_runnable = g->next_runnable;
	else
		e->runnable = g->next_runnable;
	if (g->next_runnable)
		g->next_runnable->prev_runnable = g->prev_runnable;
	else
		e->runnable_tail = g->prev_runnable;
	g->prev_runnable = g->next_runnable = NULL;
}

/* A runnable group's addresses not started, recorded unprobed (status and why). The group
 * may complete, and be freed by its owner, with the last one. */
static void skip_rest(struct pcp_engine *e, struct pcp_group *g, enum pcp_status status,
                      const char *why)
{
	size_t left = g->n_addrs - g->next_addr;
	struct pcp_error err = {0};

	unlink_runnable(e, g);
	while (left--)
		if (skip_address(g, status, why, &err) < 0) {
			engine_fail(e, &err);
			return;
		}
}

static const char expired[] = "no probe slot came free before the deadline (all --concurrency "
                              "probes were in flight)";

static void on_expiry(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pcp_group *g = w->data;
	struct pcp_engine *e = g->engine;

	(void)loop;
	(void)revents;
	if (g->resolving) {
		/* The resolver's own timeout can be the module's, longer than a scrape's. */
		char why[640];
		struct pcp_outcome o = {.status = PCP_STATUS_TIMEOUT, .error = why};
		struct pcp_error err = {0};

		snprintf(why, sizeof why,
		         "could not translate host name \"%.500s\" to address before the deadline",
		         lookup_name(g) ? lookup_name(g) : "");
		pcp_resolve_forget(e->resolver, g);
		g->resolving = false;
		e->held--; /* concluding counts the group again */
		if (pcp_engine_conclude(e, g, &o, &err) < 0)
			engine_fail(e, &err);
		return;
	}
	/* Runnable, not started: the probes in flight end at not_after by their deadline. */
	if (g->next_addr < g->n_addrs)
		skip_rest(e, g, PCP_STATUS_TIMEOUT, expired);
}

static void on_resolved(void *arg, const struct pcp_resolved *res)
{
	struct pcp_group *g = arg;
	struct pcp_engine *e = g->engine;
	struct pcp_error err = {0};

	g->resolving = false;
	if (res->cancelled || res->n == 0) {
		struct pcp_outcome o = {
		        .status = res->cancelled ? PCP_STATUS_CANCELLED : PCP_STATUS_DNS_FAILED,
		        .error = res->cancelled ? "interrupted while resolving the name"
		                                : res->error};

		e->held--; /* concluding counts the group again */
		if (pcp_engine_conclude(e, g, &o, &err) < 0)
			engine_fail(e, &err);
		return;
	}
	if (!(g->addrs = malloc(res->n * sizeof *g->addrs)) || group_size(g, res->n) < 0) {
		engine_oom(e, "addresses");
		return;
	}
	memcpy(g->addrs, res->addrs, res->n * sizeof *g->addrs);
	g->n_addrs = res->n;
	make_runnable(e, g);
	if (g->not_after > 0 && ev_now(e->cfg.loop) >= g->not_after)
		skip_rest(e, g, PCP_STATUS_TIMEOUT,
		          "the name was resolved only at the deadline: no time was left to probe");
}

int pcp_engine_submit(struct pcp_engine *e, struct pcp_group *g, struct pcp_error *err)
{
	g->engine = e;
	g->env = (struct pcp_probe_env){.loop = e->cfg.loop,
	                                .ssl_ctx = e->ssl_ctx,
	                                .timeout = g->timeout,
	                                .done = on_probe_done,
	                                .done_arg = e,
	                                .trace = e->cfg.trace,
	                                .negotiation = g->negotiation,
	                                .alpn = g->alpn};
	g->resolving = true;
	e->held++;
	if (pcp_resolve_start(e->resolver, lookup_name(g), g->t.port, on_resolved, g, err) < 0) {
		g->resolving = false;
		e->held--;
		return -1;
	}
	/* After the start: the resolver never calls back from inside it. */
	if (g->not_after > 0) {
		double left = g->not_after - ev_now(e->cfg.loop);

		ev_timer_init(&g->expiry, on_expiry, left > 0 ? left : 0., 0.);
		g->expiry.data = g;
		ev_timer_start(e->cfg.loop, &g->expiry);
	}
	return 0;
}

/* ---- probes ----------------------------------------------------------------------- */

static double deadline_of(const struct slot *s)
{
	double d = s->probe.started + s->probe.env->timeout, not_after = s->group->not_after;

	return not_after > 0 && not_after < d ? not_after : d;
}

static void unlink_active(struct pcp_engine *e, struct slot *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		e->active = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		e->active_tail = s->prev;
	s->prev = s->next = NULL;
}

static void on_probe_done(struct pcp_probe *p, void *arg)
{
	struct pcp_engine *e = arg;
	struct slot *s = (struct slot *)p;
	struct pcp_group *g = s->group;
	struct pcp_error err = {0};

	assert(s->in_flight && e->in_flight > 0);
	unlink_active(e, s);
	s->in_flight = false;
	s->next = e->finished;
	e->finished = s;
	e->in_flight--;
	/* The probe could not even keep what it captured: the run cannot go on honestly. */
	if (p->err.code == PCP_ERR_SYSTEM) {
		engine_fail(e, &p->err);
		return;
	}
	if (finish_record(g, s->index, &g->addrs[s->index], p, NULL, &err) < 0)
		engine_fail(e, &err);
}

static struct slot *take_slot(struct pcp_engine *e)
{
	struct slot *s = e->spare;

	if (s) {
		e->spare = s->next;
		memset(s, 0, sizeof *s);
		return s;
	}
	return calloc(1, sizeof *s);
}

static void free_finished(struct pcp_engine *e)
{
	while (e->finished) {
		struct slot *s = e->finished;

		assert(!s->in_flight && s->probe.state == PCP_PROBE_DONE);
		e->finished = s->next;
		pcp_probe_cleanup(&s->probe);
		s->next = e->spare;
		e->spare = s;
	}
}

/* Inserts s in deadline order, from the tail: O(1) when every group has one timeout. */
static void link_active(struct pcp_engine *e, struct slot *s)
{
	struct slot *after = e->active_tail;

	while (after && deadline_of(after) > deadline_of(s))
		after = after->prev;
	s->prev = after;
	s->next = after ? after->next : e->active;
	if (s->next)
		s->next->prev = s;
	else
		e->active_tail = s;
	if (after)
		after->next = s;
	else
		e->active = s;
}

static int start_probe(struct pcp_engine *e, struct pcp_group *g)
{
	size_t i = g->next_addr++;
	const char *host = g->t.host;
	struct slot *s = take_slot(e);

	if (!s)
		return -1;
	s->group = g;
	s->index = i;
	s->in_flight = true;
	e->in_flight++;
	pcp_probe_start(&s->probe, &g->env, (const struct sockaddr *)&g->addrs[i],
	                g->addrs[i].ss_family == AF_INET ? sizeof(struct sockaddr_in)
	                                                 : sizeof(struct sockaddr_in6),
	                pcp_host_sends_sni(host) ? host : NULL);
	link_active(e, s);
	return 0;
}

static void arm_deadline(struct pcp_engine *e)
{
	ev_timer_stop(e->cfg.loop, &e->deadline);
	if (!e->active)
		return;
	ev_timer_set(&e->deadline, deadline_of(e->active) - ev_now(e->cfg.loop), 0.);
	ev_timer_start(e->cfg.loop, &e->deadline);
}

/* Before the loop blocks: recycle finished probes, fill the window, arm the deadline. */
static void on_refill(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct pcp_engine *e = w->data;

	(void)revents;
	free_finished(e);
	while (e->runnable && e->in_flight < e->cfg.window) {
		struct pcp_group *g = e->runnable;

		/* Its expiry timer is due but has not run yet: no connection for nothing. */
		if (g->not_after > 0 && ev_now(loop) >= g->not_after) {
			skip_rest(e, g, PCP_STATUS_TIMEOUT, expired);
			if (pcp_engine_failure(e))
				return;
			continue;
		}
		if (start_probe(e, g) < 0) {
			engine_oom(e, "probe");
			return;
		}
		if (g->next_addr == g->n_addrs)
			unlink_runnable(e, g);
	}
	arm_deadline(e);
}

/* Expires every probe whose deadline passed, earliest first. */
static void on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pcp_engine *e = w->data;

	(void)revents;
	while (e->active && deadline_of(e->active) <= ev_now(loop))
		pcp_probe_expire(&e->active->probe,
		                 deadline_of(e->active) - e->active->probe.started);
	arm_deadline(e);
}

void pcp_engine_cancel_all(struct pcp_engine *e)
{
	pcp_resolver_cancel_all(e->resolver);
	while (e->active)
		pcp_probe_cancel(&e->active->probe);
	while (e->runnable)
		skip_rest(e, e->runnable, PCP_STATUS_CANCELLED,
		          "interrupted before the probe started");
	ev_timer_stop(e->cfg.loop, &e->deadline);
}

bool pcp_engine_holds(const struct pcp_engine *e)
{
	return e->held > 0;
}

unsigned pcp_engine_in_flight(const struct pcp_engine *e)
{
	return e->in_flight;
}

const struct pcp_error *pcp_engine_failure(const struct pcp_engine *e)
{
	return e->failure.code == PCP_OK ? NULL : &e->failure;
}

struct pcp_engine *pcp_engine_new(const struct pcp_engine_config *cfg, struct pcp_error *err)
{
	struct pcp_engine *e = calloc(1, sizeof *e);

	if (!e) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
		return NULL;
	}
	e->cfg = *cfg;
	if (!(e->ssl_ctx = pcp_tls_ctx_new(err)) ||
	    !(e->resolver = pcp_resolver_new(cfg->loop, &cfg->resolve, err)))
		goto fail;
	for (size_t i = 0; i < cfg->n_pins; i++)
		if (pcp_resolver_pin(e->resolver, cfg->pins[i], err))
			goto fail;
	ev_init(&e->deadline, on_deadline);
	e->deadline.data = e;
	ev_prepare_init(&e->refill, on_refill);
	e->refill.data = e;
	ev_prepare_start(cfg->loop, &e->refill);
	return e;
fail:
	pcp_engine_free(e);
	return NULL;
}

void pcp_engine_free(struct pcp_engine *e)
{
	if (!e)
		return;
	if (e->resolver) {
		pcp_engine_cancel_all(e);
		pcp_resolver_free(e->resolver);
	}
	free_finished(e);
	while (e->spare) {
		struct slot *s = e->spare;

		e->spare = s->next;
		free(s);
	}
	ev_prepare_stop(e->cfg.loop, &e->refill);
	ev_timer_stop(e->cfg.loop, &e->deadline);
	if (e->ssl_ctx)
		SSL_CTX_free(e->ssl_ctx);
	free(e);
}
