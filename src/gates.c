/* The run's gates (see gates.h). A requirement is an index into a record's verdicts,
 * [instant * n_stores + store], found once; checking a record is then a lookup. */
#include "gates.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct gate {
	size_t verdict;   /* index into a record's verdicts */
	const char *text; /* as given, borrowed from the settings */
};

struct pcp_gates {
	struct gate *require;
	size_t n_require;
	char *const *forbid; /* class names, borrowed from the settings */
	size_t n_forbid;
	bool forbid_pinned; /* --forbid-pinned */
	const struct pcp_store_list *stores;
	const time_t *ats;
};

void pcp_gates_free(struct pcp_gates *g)
{
	if (!g)
		return;
	free(g->require);
	free(g);
}

struct pcp_gates *pcp_gates_new(const struct pcp_settings *s, const struct pcp_store_list *stores,
                                const time_t *ats, size_t n_ats, struct pcp_error *err)
{
	struct pcp_gates *g = calloc(1, sizeof *g);

	if (!g || !(g->require = calloc(s->n_require + 1, sizeof *g->require))) {
		pcp_gates_free(g);
		pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
		return NULL;
	}
	g->stores = stores;
	g->ats = ats;
	g->forbid = s->forbid;
	g->n_forbid = s->n_forbid;
	g->forbid_pinned = s->forbid_pinned;
	for (size_t i = 0; i < s->n_require; i++) {
		const struct pcp_require *req = &s->require[i];
		long j = pcp_store_list_find(stores, req->store);
		size_t a = 0;

		if (j < 0) {
			pcp_error_set(err, PCP_ERR_USAGE, "--require %s: no store of that name",
			              req->text);
			goto fail;
		}
		while (req->has_at && a < n_ats && ats[a] != req->at)
			a++;
		if (a == n_ats) {
			pcp_error_set(err, PCP_ERR_USAGE,
			              "--require %s: too many instants (at most %d)", req->text,
			              PCP_MAX_INSTANTS);
			goto fail;
		}
		g->require[g->n_require++] =
		        (struct gate){.verdict = a * stores->n + (size_t)j, .text = req->text};
	}
	/* A class needs both class stores; without them no address has one. */
	if (s->n_forbid) {
		const char *old = s->old_store ? s->old_store : "baltimore";
		const char *new = s->new_store ? s->new_store : "digicert-g2";
		const char *missing = pcp_store_list_find(stores, old) < 0   ? old
		                      : pcp_store_list_find(stores, new) < 0 ? new
		                                                             : NULL;

		if (missing) {
			pcp_error_set(
			        err, PCP_ERR_USAGE,
			        "--forbid-class needs the class stores: no store \"%s\" (name "
			        "them with --old-store and --new-store)",
			        missing);
			goto fail;
		}
	}
	return g;
fail:
	pcp_gates_free(g);
	return NULL;
}

static void offend(pcp_gates_offender_fn fn, void *arg, const struct pcp_result *res,
                   const char *what)
{
	char msg[1024];

	if (!fn)
		return;
	snprintf(msg, sizeof msg, "%s %s port %u %s", res->host ? res->host : "-", res->addr,
	         res->port, what);
	fn(arg, msg);
}

bool pcp_gates_check(const struct pcp_gates *g, const struct pcp_result *res,
                     pcp_gates_offender_fn fn, void *arg)
{
	bool failed = false;
	char what[768];

	for (size_t i = 0; i < g->n_forbid; i++)
		if (res->class_name && strcmp(res->class_name, g->forbid[i]) == 0) {
			failed = true;
			snprintf(what, sizeof what, "is %s, forbidden by --forbid-class",
			         res->class_name);
			offend(fn, arg, res, what);
		}
	if (res->status != PCP_STATUS_OK)
		return failed;
	/* --forbid-pinned: a driver passes only through a store's non-root. */
	for (size_t d = 0; g->forbid_pinned && d < res->n_drivers; d++)
		for (size_t k = 0; k < res->drivers[d].n_verdicts; k++) {
			const struct pcp_verdict *v = &res->drivers[d].verdicts[k];

			if (!v->pinned)
				continue;
			failed = true;
			snprintf(what, sizeof what,
			         "verifies for %s under store %s only through the pinned '%.300s', "
			         "forbidden by --forbid-pinned",
			         res->drivers[d].driver, g->stores->items[k % g->stores->n]->name,
			         v->anchor ? v->anchor : "?");
			offend(fn, arg, res, what);
		}
	for (size_t i = 0; i < g->n_require; i++) {
		const struct gate *gate = &g->require[i];
		const struct pcp_verdict *v = &res->verdicts[gate->verdict];

		if (v->ok)
			continue;
		failed = true;
		snprintf(what, sizeof what, "fails required store %s: %.512s", gate->text,
		         v->error);
		offend(fn, arg, res, what);
	}
	return failed;
}
