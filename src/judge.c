/* Judging a probed address (see judge.h). Identical served chains are verified once per
 * store and instant: a direct-mapped cache keyed by the SHA-256 of the served DER holds
 * the facts, the chain-only verdicts and the leaf's names; verify-full's name check, which
 * depends on the target, runs per record on a copy. */
#include "judge.h"

#include <assert.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client.h"
#include "hostmatch.h"
#include "log.h"
#include "verify.h"

/* Slots of the verification cache: bounded memory, O(1) per record. */
#define CACHE_SLOTS 4096

struct cache_entry {
	bool used;
	unsigned long generation; /* the judge's when filled: older entries are stale */
	unsigned char key[32];
	struct pcp_cert_facts *facts;
	size_t n_facts;
	struct pcp_verdict *verdicts; /* [instant * n_stores + store], chain only */
	size_t n_verdicts;
	struct pcp_verdict *dverdicts; /* [driver * n_verdicts + k]: each --driver's, likewise */
	size_t n_dverdicts;
	struct pcp_cert_names names;
};

/* A root file of audited clients, loaded once per path; or the JVM truststore of
 * DefaultJavaSSLFactory clients. */
struct pcp_judge_client {
	struct pcp_judge_client *next;
	char *path;              /* NULL: the string names none and the default file is absent */
	struct pcp_store *store; /* NULL when there is no file or it could not be loaded */
	bool borrowed;           /* store belongs to the run's stores or the judge's cacerts */
	bool is_dir;             /* path is a directory */
	const char *java_source; /* the JVM truststore's origin (client truststore_source) */
	char error[256];
	struct pcp_client_root *roots;
	size_t n_roots;
};

struct pcp_judge {
	struct pcp_judge_config cfg; /* cfg.ats points at ats */
	time_t *ats;
	unsigned long generation; /* bumped when the instants move */
	struct cache_entry *cache;
	struct pcp_judge_client *clients;
	struct pcp_judge_client no_file;
	struct pcp_judge_client *system; /* sslrootcert=system (16+), loaded on first use */
	/* for strings without sslrootcert, per default kind: libpq's root.crt (also pgJDBC's),
	 * Node's bundled roots, Go's system pool */
	const struct pcp_judge_client *default_client[3];
	char *default_rootcert; /* HOME/.postgresql/root.crt, named in libpq's message */
	struct pcp_chain *future;
	struct cache_entry future_entry;
	struct pcp_baseline *baseline;
	long old_index, new_index;     /* the class stores, -1 when absent */
	struct pcp_store *jdk_cacerts; /* the audited JDK's cacerts, owned; NULL when absent */
	bool jdk_tried;
	char jdk_error[384];           /* why jdk_cacerts is NULL */
	struct pcp_judge_client *java; /* DefaultJavaSSLFactory's truststore, on first use */
};

static void entry_cleanup(struct cache_entry *e)
{
	for (size_t i = 0; i < e->n_facts; i++)
		pcp_cert_facts_cleanup(&e->facts[i]);
	free(e->facts);
	for (size_t i = 0; i < e->n_verdicts; i++)
		pcp_verdict_cleanup(&e->verdicts[i]);
	free(e->verdicts);
	for (size_t i = 0; i < e->n_dverdicts; i++)
		pcp_verdict_cleanup(&e->dverdicts[i]);
	free(e->dverdicts);
	pcp_cert_names_cleanup(&e->names);
	memset(e, 0, sizeof *e);
}

/* SHA-256 over the served certificates' DER, in order. */
static int chain_key(const struct pcp_chain *chain, unsigned char key[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int len = 0;
	int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL);

	for (size_t i = 0; ok && i < pcp_chain_len(chain); i++) {
		unsigned char *der = NULL;
		int n = i2d_X509(pcp_chain_get0(chain, i), &der);

		ok = n > 0 && EVP_DigestUpdate(md, der, (size_t)n);
		OPENSSL_free(der);
	}
	ok = ok && EVP_DigestFinal_ex(md, key, &len) && len == 32;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

/* Errors of OpenSSL's security level, whose limits differ between drivers. */
static bool level_error(int code)
{
	return code == X509_V_ERR_CA_MD_TOO_WEAK || code == X509_V_ERR_EE_KEY_TOO_SMALL ||
	       code == X509_V_ERR_CA_KEY_TOO_SMALL;
}

/* Whether driver d may refuse what libpq accepts: a curve it lacks in the chain or the
 * store, or SHA-1 under the JDK's "[jdk]" roots. */
static bool may_be_stricter(const struct pcp_judge *j, const struct pcp_driver *d,
                            bool chain_curves, const struct pcp_store *store)
{
	return (d->chain.sha1_ok && j->jdk_cacerts && j->jdk_cacerts->n_jdk_anchors) ||
	       (d->chain.curves != PCP_CURVES_OPENSSL && (chain_curves || store->uncommon_curves));
}

/* One driver's chain-only verdict. Where a driver's chain rules are libpq's or looser,
 * libpq's pass is theirs, and a driver that differs only in its security level fails as
 * libpq does on anything but a level error: only the rest costs a verification. A pass
 * that needs a non-root anchor (verified again without partial chains) is pinned. A
 * directory is no root file to a driver that reads one file. chain_curves: the served
 * chain has a key on an uncommon curve. */
static int driver_verdict(const struct pcp_judge *j, const struct pcp_driver *d,
                          const struct pcp_chain *chain, bool chain_curves,
                          const struct pcp_store *store, time_t at, const struct pcp_verdict *libpq,
                          struct pcp_verdict *out)
{
	struct pcp_verify_params params = {.at = at,
	                                   .auth_level = j->cfg.auth_level,
	                                   .sslmode = PCP_SSLMODE_VERIFY_CA,
	                                   .driver = d,
	                                   .jdk_cacerts = j->jdk_cacerts};
	struct pcp_driver rooted = *d;
	struct pcp_verdict v;
	struct pcp_error err = {0};

	if (store->kind == PCP_STORE_DIRECTORY && d->root_dir_error) {
		memset(out, 0, sizeof *out);
		out->code = PCP_VERDICT_ROOT_FILE;
		out->depth = -1;
		d->root_dir_error(store->path, out->error, sizeof out->error);
		snprintf(out->reason, sizeof out->reason, "a directory is no root file");
		return 0;
	}
	if ((libpq->ok && !may_be_stricter(j, d, chain_curves, store)) ||
	    (!d->chain.any_anchor && !d->chain.anchor_time_ignored && !d->chain.ca_eku_ignored &&
	     !level_error(libpq->code)))
		return pcp_verdict_copy(out, libpq);
	if (pcp_verify_chain(chain, store, &params, out, &err) < 0)
		return -1;
	if (!out->ok || !d->chain.any_anchor)
		return 0;
	rooted.chain.any_anchor = false;
	params.driver = &rooted;
	if (pcp_verify_chain(chain, store, &params, &v, &err) < 0) {
		pcp_verdict_cleanup(out);
		return -1;
	}
	out->pinned = !v.ok;
	pcp_verdict_cleanup(&v);
	return 0;
}

/* Facts, chain-only verdicts at the first n_ats instants, and the leaf's names. */
static int entry_fill(struct pcp_judge *j, struct cache_entry *e, const struct pcp_chain *chain,
                      size_t n_ats)
{
	const struct pcp_store_list *stores = j->cfg.stores;
	size_t n = pcp_chain_len(chain);
	struct pcp_error err = {0};
	bool curves = false;

	if (!(e->facts = calloc(n ? n : 1, sizeof *e->facts)) ||
	    !(e->verdicts = calloc(stores->n * n_ats + 1, sizeof *e->verdicts)) ||
	    !(e->dverdicts =
	              calloc(j->cfg.n_drivers * stores->n * n_ats + 1, sizeof *e->dverdicts)))
		return -1;
	for (; e->n_facts < n; e->n_facts++)
		if (pcp_chain_facts(chain, e->n_facts, &e->facts[e->n_facts]) < 0)
			return -1;
	for (size_t a = 0; a < n_ats; a++) {
		struct pcp_verify_params params = {.at = j->cfg.ats[a],
		                                   .auth_level = j->cfg.auth_level,
		                                   .sslmode = PCP_SSLMODE_VERIFY_CA};

		for (size_t i = 0; i < stores->n; i++, e->n_verdicts++)
			if (pcp_verify_chain(chain, stores->items[i], &params,
			                     &e->verdicts[a * stores->n + i], &err) < 0)
				return -1;
	}
	/* One verdict per store and instant, so k / stores->n never divides by zero. */
	assert(e->n_verdicts == stores->n * n_ats);
	for (size_t i = 0; i < n; i++)
		curves = curves || pcp_cert_uncommon_curve(pcp_chain_get0(chain, i));
	for (size_t d = 0; d < j->cfg.n_drivers; d++)
		for (size_t k = 0; k < e->n_verdicts; k++, e->n_dverdicts++)
			if (driver_verdict(j, j->cfg.drivers[d], chain, curves,
			                   stores->items[k % stores->n], j->cfg.ats[k / stores->n],
			                   &e->verdicts[k],
			                   &e->dverdicts[d * e->n_verdicts + k]) < 0)
				return -1;
	e->used = true;
	e->generation = j->generation;
	return pcp_chain_leaf_names(chain, &e->names);
}

static struct cache_entry *lookup(struct pcp_judge *j, const struct pcp_chain *chain)
{
	unsigned char key[32];
	struct cache_entry *e;
	size_t slot;

	if (chain_key(chain, key) < 0)
		return NULL;
	memcpy(&slot, key, sizeof slot);
	e = &j->cache[slot % CACHE_SLOTS];
	if (e->used && e->generation == j->generation && memcmp(e->key, key, sizeof key) == 0)
		return e;
	entry_cleanup(e);
	memcpy(e->key, key, sizeof key);
	if (entry_fill(j, e, chain, j->cfg.n_ats) < 0) {
		entry_cleanup(e);
		return NULL;
	}
	return e;
}

/* The record's verdicts from an entry's (libpq's, or driver d's when d is non-NULL): its
 * own copy, then the driver's name check for its host where the driver checks names. */
static int copy_driver_verdicts(const struct pcp_judge *j, const struct cache_entry *e,
                                const struct pcp_verdict *from, const struct pcp_driver *d,
                                const struct pcp_result *res, struct pcp_verdict **out, size_t *n)
{
	double warn = j->cfg.warn_days;
	bool names = res->sslmode == PCP_SSLMODE_VERIFY_FULL || (d && d->verify_ca_checks_name);

	if (!(*out = calloc(e->n_verdicts + 1, sizeof **out)))
		return -1;
	for (; *n < e->n_verdicts; (*n)++) {
		struct pcp_verdict *v = &(*out)[*n];
		time_t at = j->cfg.ats[*n / j->cfg.stores->n];

		if (pcp_verdict_copy(v, &from[*n]) < 0)
			return -1;
		if (names)
			pcp_verify_driver_name(d, &e->names, res->host, v);
		v->pinned = v->pinned && v->ok;
		v->expiring =
		        warn >= 0 && v->ok && (double)(v->path_not_after - at) < warn * 86400.0;
	}
	return 0;
}

static int copy_verdicts(const struct pcp_judge *j, const struct cache_entry *e,
                         const struct pcp_result *res, struct pcp_verdict **out, size_t *n)
{
	return copy_driver_verdicts(j, e, e->verdicts, NULL, res, out, n);
}

/* Every --driver's verdicts from an entry, for the record's host. */
static int copy_drivers(const struct pcp_judge *j, const struct cache_entry *e,
                        const struct pcp_result *res, struct pcp_driver_verdicts **out, size_t *n)
{
	if (j->cfg.n_drivers && !(*out = calloc(j->cfg.n_drivers, sizeof **out)))
		return -1;
	for (; *n < j->cfg.n_drivers; (*n)++) {
		struct pcp_driver_verdicts *dv = &(*out)[*n];
		const struct pcp_driver *d = j->cfg.drivers[*n];

		dv->driver = d->name;
		if (copy_driver_verdicts(j, e, e->dverdicts + *n * e->n_verdicts, d, res,
		                         &dv->verdicts, &dv->n_verdicts) < 0) {
			(*n)++;
			return -1;
		}
	}
	return 0;
}

/* Which of the old and new roots a client needs for this server, at the first instant. */
static void classify(const struct pcp_judge *j, struct pcp_result *res)
{
	long o = j->old_index, n = j->new_index;
	bool old_ok, new_ok;

	/* Without both class stores a class would say "neither" of roots nobody named. */
	if (o < 0 || n < 0) {
		res->class_name = NULL;
		return;
	}
	if (res->status != PCP_STATUS_OK) {
		res->class_name = "unreachable";
		return;
	}
	old_ok = res->verdicts[o].ok;
	new_ok = res->verdicts[n].ok;
	res->class_name = old_ok && new_ok ? "both"
	                  : old_ok         ? "old-only"
	                  : new_ok         ? "new-only"
	                                   : "neither";
}

/* Where the chain ends: the first verifying store's anchor, else the first store's. */
static int find_anchor(struct pcp_result *res, size_t n_stores)
{
	const char *a = NULL;

	for (size_t i = 0; i < n_stores && !a; i++)
		if (res->verdicts[i].ok)
			a = res->verdicts[i].anchor;
	if (!a && n_stores)
		a = res->verdicts[0].anchor;
	return a && !(res->anchor = strdup(a)) ? -1 : 0;
}

/* Chain facts and one verdict per store and instant. */
static int judge_chain(struct pcp_judge *j, struct pcp_result *res, const struct pcp_chain *chain)
{
	const struct cache_entry *e = lookup(j, chain);

	if (!e || !(res->chain = calloc(e->n_facts + 1, sizeof *res->chain)))
		return -1;
	for (; res->chain_len < e->n_facts; res->chain_len++)
		if (pcp_cert_facts_copy(&res->chain[res->chain_len], &e->facts[res->chain_len]) < 0)
			return -1;
	if (copy_verdicts(j, e, res, &res->verdicts, &res->n_verdicts) < 0 ||
	    copy_drivers(j, e, res, &res->drivers, &res->n_drivers) < 0)
		return -1;
	return find_anchor(res, j->cfg.stores->n);
}

/* The audited client's verdict for one chain (served now, or the future one). */
static int client_verdict(const struct pcp_judge *j, const struct pcp_judge_client *cl,
                          const struct pcp_result *res, const struct pcp_target *t,
                          const struct pcp_chain *chain, struct pcp_client_verdict *out)
{
	const struct pcp_client *c = res->client;
	struct pcp_verdict v = {0};
	struct pcp_client_case cc = {
	        .mode = c->sslmode,
	        .rootcert = c->rootcert ? c->rootcert : j->default_rootcert,
	        .rootcert_exists = c->rootcert_exists,
	        .rootcert_error = (cl->path || cl->java_source) && !cl->store && cl->error[0]
	                                  ? cl->error
	                                  : NULL,
	        .rootcert_is_dir = cl->is_dir,
	        .status = res->status,
	        .status_error = res->error,
	        .libpq_version = c->libpq_version,
	        .direct = c->direct,
	        .system_roots = cl == j->system,
	        .probed = res->negotiation,
	        .direct_tls = res->direct_tls,
	        .alpn = res->alpn,
	        .tls_error_libpq = res->tls_error_libpq,
	        .tls_eof = res->tls_eof,
	        .driver = t->client_driver,
	        .factory = t->client_factory,
	        .target = t,
	};
	struct pcp_error verr = {0};
	struct pcp_verdict refusal = {0};

	/* Go parses every served certificate first; Java applies its constraints to them
	 * when it does not verify with PKIX. */
	if (chain &&
	    (t->client_driver == &pcp_driver_pgx ||
	     (t->client_driver == &pcp_driver_pgjdbc && !(c->verifies && cl->store))) &&
	    pcp_verify_driver_refuses(t->client_driver, chain, &refusal))
		cc.tls_refusal = &refusal;
	if (chain && c->verifies && cl->store) {
		struct pcp_verify_params params = {
		        .at = j->cfg.ats[0],
		        .auth_level = j->cfg.auth_level,
		        .sslmode = pcp_client_target_checks_name(t) ? PCP_SSLMODE_VERIFY_FULL
		                                                    : PCP_SSLMODE_VERIFY_CA,
		        .host = res->host,
		        .driver = t->client_driver,
		        .jdk_cacerts = j->jdk_cacerts,
		};

		if (pcp_verify_chain(chain, cl->store, &params, &v, &verr) < 0) {
			pcp_verdict_cleanup(&v);
			return -1;
		}
		cc.chain = &v;
	} else if (chain && t->client_driver == &pcp_driver_pgjdbc &&
	           t->client_factory == PCP_JDBC_NON_VALIDATING &&
	           pcp_client_target_checks_name(t)) {
		/* No chain check, but MakeSSL's name check. */
		struct pcp_cert_names names;

		if (pcp_chain_leaf_names(chain, &names) < 0)
			return -1;
		v.ok = true;
		v.depth = -1;
		pcp_verify_driver_name(t->client_driver, &names, res->host, &v);
		pcp_cert_names_cleanup(&names);
		cc.chain = &v;
	}
	pcp_client_decide(&cc, out);
	pcp_verdict_cleanup(&v);
	return 0;
}

static int audit_client(struct pcp_judge *j, struct pcp_result *res, const struct pcp_target *t,
                        const struct pcp_judge_client *cl, const struct pcp_chain *chain)
{
	struct pcp_client *c = res->client = calloc(1, sizeof *res->client);

	if (!c)
		return -1;
	c->sslmode = t->client_sslmode;
	c->libpq_version = t->libpq_version;
	c->direct = t->direct;
	if (cl->java_source) {
		/* DefaultJavaSSLFactory reads no root file: the JVM's truststore instead. */
		c->truststore_source = cl->java_source;
		c->truststore_kind = cl->store ? pcp_store_kind_name(cl->store->kind) : NULL;
		c->truststore_modified = cl->store ? cl->store->modified : 0;
		c->truststore_anchors = cl->store ? cl->store->n_certs : 0;
		if ((cl->path && !(c->truststore = strdup(cl->path))) ||
		    (j->cfg.java_truststore &&
		     !(c->truststore_store = strdup(j->cfg.java_truststore))))
			return -1;
	} else if (cl->path && !(c->rootcert = strdup(cl->path))) {
		return -1;
	}
	c->rootcert_exists = cl->store != NULL;
	c->verifies = pcp_client_target_verifies(t, c->rootcert_exists);
	c->driver = t->client_driver ? t->client_driver->name : pcp_driver_libpq.name;
	c->factory = t->client_driver == &pcp_driver_pgjdbc
	                     ? pcp_jdbc_factory_name(t->client_factory)
	                     : NULL;
	if (t->client_driver == &pcp_driver_node) {
		c->tls = pcp_node_tls_name(t->client_tls);
		if (t->client_sslmode_text && !(c->sslmode_text = strdup(t->client_sslmode_text)))
			return -1;
	}
	if (c->rootcert_exists) {
		if (!(c->roots = calloc(cl->n_roots + 1, sizeof *c->roots)))
			return -1;
		for (; c->n_roots < cl->n_roots; c->n_roots++) {
			c->roots[c->n_roots] = cl->roots[c->n_roots];
			if (!(c->roots[c->n_roots].subject = strdup(cl->roots[c->n_roots].subject)))
				return -1;
		}
	}
	if (client_verdict(j, cl, res, t, chain, &c->now) < 0)
		return -1;
	/* After the switch the server answers as now, but serves the future chain. */
	c->has_after = j->future != NULL;
	return j->future ? client_verdict(j, cl, res, t, j->future, &c->after) : 0;
}

int pcp_judge_record(struct pcp_judge *j, struct pcp_result *res, const struct pcp_target *t,
                     const struct pcp_judge_client *client, const struct pcp_chain *chain,
                     struct pcp_error *err)
{
	assert(!chain || pcp_chain_len(chain) > 0);
	if (res->status == PCP_STATUS_INVALID_TARGET)
		return 0;
	if ((chain && judge_chain(j, res, chain) < 0) ||
	    (classify(j, res),
	     j->future &&
	             (copy_verdicts(j, &j->future_entry, res, &res->future, &res->n_future) < 0 ||
	              copy_drivers(j, &j->future_entry, res, &res->future_drivers,
	                           &res->n_future_drivers) < 0)) ||
	    (j->baseline &&
	     pcp_baseline_compare(j->baseline, res, j->cfg.stores->names, j->cfg.stores->n) < 0) ||
	    (client && audit_client(j, res, t, client, chain) < 0))
		return pcp_error_set(err, PCP_ERR_SYSTEM, "judging %s: out of memory", res->target),
		       -1;
	return 0;
}

/* The anchor a record's path ends at under verdict i, or NULL. */
static const char *anchor_of(const struct pcp_result *res, size_t i)
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
		const char *x = anchor_of(a, i), *y = anchor_of(b, i);

		if ((x == NULL) != (y == NULL) || (x && strcmp(x, y) != 0))
			return true;
	}
	return false;
}

int pcp_judge_group(struct pcp_judge *j, struct pcp_result **results, size_t n,
                    struct pcp_error *err)
{
	const struct pcp_result *first = NULL;
	bool divergent = false;

	for (size_t i = 0; i < n; i++) {
		const struct pcp_result *res = results[i];

		if (res->status != PCP_STATUS_OK || !res->chain_len)
			continue;
		if (!first)
			first = res;
		else if (diverges(first, res))
			divergent = true;
	}
	for (size_t i = 0; divergent && i < n; i++)
		results[i]->divergent = true;
	if (j->baseline && n && results[0]->status != PCP_STATUS_INVALID_TARGET &&
	    pcp_baseline_vanished(j->baseline, results[0]->target, results[0]) < 0)
		return pcp_error_set(err, PCP_ERR_SYSTEM, "baseline: out of memory"), -1;
	return 0;
}

/* The system's store as the audited clients' sslrootcert=system: the probing machine's
 * OpenSSL default roots (SSL_CERT_FILE and SSL_CERT_DIR override them, as for libpq),
 * loaded once. Its listing keeps only the roots of the Azure change: a system store holds
 * a hundred others. */
static const struct pcp_judge_client *system_client(struct pcp_judge *j)
{
	struct pcp_judge_client *cl = j->system;
	struct pcp_error err = {0};
	size_t kept = 0;

	if (cl)
		return cl;
	if (!(cl = calloc(1, sizeof *cl)) || !(cl->path = strdup("system"))) {
		free(cl);
		return NULL;
	}
	if (!(cl->store = pcp_store_load_system("system", &err)))
		snprintf(cl->error, sizeof cl->error, "%s", err.msg);
	if (cl->store && pcp_client_roots(cl->store, &cl->roots, &cl->n_roots) < 0)
		cl->n_roots = 0;
	for (size_t i = 0; i < cl->n_roots; i++) {
		if (cl->roots[i].known)
			cl->roots[kept++] = cl->roots[i];
		else
			free(cl->roots[i].subject);
	}
	cl->n_roots = kept;
	cl->next = j->clients;
	j->clients = cl;
	return j->system = cl;
}

/* The audited JDK's cacerts, loaded once (PCP_JDK_CACERTS unless --java-cacerts). */
static struct pcp_store *jdk_cacerts(struct pcp_judge *j, struct pcp_error *err)
{
	const char *path = j->cfg.java_cacerts ? j->cfg.java_cacerts : PCP_JDK_CACERTS;
	const struct pcp_store_spec spec = {.name = "java-cacerts", .path = (char *)path};

	if (!j->jdk_tried) {
		j->jdk_tried = true;
		if (!(j->jdk_cacerts = pcp_store_load_spec(&spec, err)))
			snprintf(j->jdk_error, sizeof j->jdk_error,
			         "DefaultJavaSSLFactory: the JDK's cacerts is not known here "
			         "(%.250s): "
			         "give --java-cacerts or --java-truststore",
			         err->msg);
	}
	return j->jdk_cacerts;
}

/* The JVM truststore of DefaultJavaSSLFactory clients: --java-truststore's store, else the
 * JDK's cacerts (its listing then keeps only the roots of the Azure change). */
static const struct pcp_judge_client *java_client(struct pcp_judge *j)
{
	struct pcp_judge_client *cl = j->java;
	struct pcp_error err = {0};
	long i = pcp_store_list_find(j->cfg.stores, j->cfg.java_truststore);
	struct pcp_store *st = i >= 0 ? j->cfg.stores->items[i] : NULL;
	size_t kept = 0;

	if (cl)
		return cl;
	if (!(cl = calloc(1, sizeof *cl)))
		return NULL;
	cl->borrowed = true;
	cl->java_source = st ? "javax.net.ssl.trustStore" : "jdk-cacerts";
	if (!st && !(st = jdk_cacerts(j, &err)))
		snprintf(cl->error, sizeof cl->error, "%.250s", j->jdk_error);
	cl->store = st;
	if (!(cl->path = strdup(st                    ? st->path
	                        : j->cfg.java_cacerts ? j->cfg.java_cacerts
	                                              : PCP_JDK_CACERTS))) {
		free(cl);
		return NULL;
	}
	if (st && pcp_client_roots(st, &cl->roots, &cl->n_roots) < 0)
		cl->n_roots = 0;
	for (size_t k = 0; i < 0 && k < cl->n_roots; k++) {
		if (cl->roots[k].known)
			cl->roots[kept++] = cl->roots[k];
		else
			free(cl->roots[k].subject);
	}
	if (i < 0)
		cl->n_roots = kept;
	cl->next = j->clients;
	j->clients = cl;
	return j->java = cl;
}

/* Which default store a target without sslrootcert falls back to (default_client). */
static size_t default_kind(const struct pcp_target *t)
{
	return t->client_driver == &pcp_driver_node  ? 1
	       : t->client_driver == &pcp_driver_pgx ? 2
	                                             : 0;
}

int pcp_judge_client_for(struct pcp_judge *j, const struct pcp_target *t,
                         const struct pcp_judge_client **out, struct pcp_error *err)
{
	struct pcp_judge_client *cl;
	bool by_default = !t->sslrootcert || !t->sslrootcert[0];
	const struct pcp_judge_client **def = &j->default_client[default_kind(t)];
	struct stat st;
	char *path;

	*out = NULL;
	if (!t->is_conninfo)
		return 0;
	if (t->system_roots) {
		if (!(*out = system_client(j)))
			return pcp_error_set(err, PCP_ERR_SYSTEM, "system roots: out of memory"),
			       -1;
		return 0;
	}
	if (t->client_driver == &pcp_driver_pgjdbc && t->client_factory == PCP_JDBC_DEFAULT_JAVA) {
		if (!(*out = java_client(j)))
			return pcp_error_set(err, PCP_ERR_SYSTEM, "JVM truststore: out of memory"),
			       -1;
		return 0;
	}
	/* Every pgJDBC verdict follows the "[jdk]" roots of the JDK's cacerts (jdkCA): read
	 * before the first is judged, whatever its factory, so that no verdict depends on
	 * whether a DefaultJavaSSLFactory target came first. */
	if (t->client_driver == &pcp_driver_pgjdbc) {
		struct pcp_error ignored = {0};

		jdk_cacerts(j, &ignored);
	}
	/* Most strings name no root file: the default one is looked up once per run. */
	if (by_default && *def) {
		*out = *def;
		return 0;
	}
	if (!(path = pcp_client_store_path(t, j->cfg.client_home, j->cfg.node_roots))) {
		if (by_default)
			*def = &j->no_file;
		*out = &j->no_file;
		return 0;
	}
	for (cl = j->clients; cl; cl = cl->next)
		if (strcmp(cl->path, path) == 0) {
			free(path);
			if (by_default)
				*def = cl;
			*out = cl;
			return 0;
		}
	if (!(cl = calloc(1, sizeof *cl))) {
		free(path);
		return pcp_error_set(err, PCP_ERR_SYSTEM, "root file: out of memory"), -1;
	}
	cl->path = path;
	cl->is_dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
	cl->store = pcp_client_load_rootcert(path, cl->error, sizeof cl->error);
	if (cl->store && pcp_client_roots(cl->store, &cl->roots, &cl->n_roots) < 0)
		cl->n_roots = 0;
	cl->next = j->clients;
	j->clients = cl;
	if (by_default)
		*def = cl;
	*out = cl;
	return 0;
}

struct pcp_baseline *pcp_judge_baseline(struct pcp_judge *j)
{
	return j->baseline;
}

/* --java-truststore names a Java truststore of the run; --java-cacerts loads, and the
 * default cacerts is read now when pgJDBC's verdicts need its "[jdk]" roots. */
static int check_java(struct pcp_judge *j, struct pcp_error *err)
{
	long i = pcp_store_list_find(j->cfg.stores, j->cfg.java_truststore);
	bool pgjdbc = false;
	struct pcp_error lerr = {0};

	if (j->cfg.java_truststore && i < 0)
		return pcp_error_set(err, PCP_ERR_USAGE, "--java-truststore %s: no such store",
		                     j->cfg.java_truststore),
		       -1;
	if (i >= 0 && j->cfg.stores->items[i]->kind != PCP_STORE_PKCS12 &&
	    j->cfg.stores->items[i]->kind != PCP_STORE_JKS)
		return pcp_error_set(err, PCP_ERR_USAGE,
		                     "--java-truststore %s: %s is not a PKCS#12 or JKS truststore "
		                     "(javax.net.ssl.trustStore is a keystore)",
		                     j->cfg.java_truststore, j->cfg.stores->items[i]->path),
		       -1;
	for (size_t d = 0; d < j->cfg.n_drivers; d++)
		pgjdbc = pgjdbc || j->cfg.drivers[d] == &pcp_driver_pgjdbc;
	if ((pgjdbc || j->cfg.java_cacerts) && !jdk_cacerts(j, &lerr) && j->cfg.java_cacerts) {
		char inner[sizeof lerr.msg];

		snprintf(inner, sizeof inner, "%s", lerr.msg);
		return pcp_error_set(err, PCP_ERR_CONFIG, "--java-cacerts: %s", inner), -1;
	}
	return 0;
}

struct pcp_judge *pcp_judge_new(const struct pcp_judge_config *cfg, struct pcp_error *err)
{
	struct pcp_judge *j = calloc(1, sizeof *j);

	if (!j || !(j->cache = calloc(CACHE_SLOTS, sizeof *j->cache)) ||
	    !(j->ats = calloc(cfg->n_ats, sizeof *j->ats))) {
		if (j)
			free(j->cache);
		free(j);
		pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
		return NULL;
	}
	j->cfg = *cfg;
	memcpy(j->ats, cfg->ats, cfg->n_ats * sizeof *j->ats);
	j->cfg.ats = j->ats;
	j->old_index =
	        pcp_store_list_find(cfg->stores, cfg->old_store ? cfg->old_store : "baltimore");
	j->new_index =
	        pcp_store_list_find(cfg->stores, cfg->new_store ? cfg->new_store : "digicert-g2");
	j->default_rootcert = pcp_client_default_rootcert(cfg->client_home);
	if (check_java(j, err) < 0)
		goto fail;
	if (cfg->future_chain) {
		if (!(j->future = pcp_chain_load_pem(cfg->future_chain, err))) {
			char inner[sizeof err->msg];

			snprintf(inner, sizeof inner, "%s", err->msg);
			pcp_error_set(err, PCP_ERR_INPUT, "--future-chain: %s", inner);
			goto fail;
		}
		/* Verified as of the first instant, once: the name check stays per record. */
		if (entry_fill(j, &j->future_entry, j->future, 1) < 0) {
			pcp_error_set(err, PCP_ERR_SYSTEM, "--future-chain: out of memory");
			goto fail;
		}
	}
	if (cfg->baseline && !(j->baseline = pcp_baseline_load(cfg->baseline, err)))
		goto fail;
	for (size_t i = 0; cfg->n_drivers && i < cfg->stores->n; i++) {
		const struct pcp_store *st = cfg->stores->items[i];

		if (st->first_pin)
			pcp_log_warn(
			        "store %s holds %zu root(s), %zu intermediate(s) and %zu server "
			        "certificate(s), first '%s': drivers that take any store "
			        "certificate as anchor (pgjdbc, pgx) pin them, and break when "
			        "the server's certificates rotate",
			        st->name, st->n_roots, st->n_intermediates, st->n_leaves,
			        st->first_pin);
	}
	if (j->baseline && pcp_baseline_skipped(j->baseline))
		pcp_log_warn("--baseline %s: %zu unreadable lines skipped", cfg->baseline,
		             pcp_baseline_skipped(j->baseline));
	return j;
fail:
	pcp_judge_free(j);
	return NULL;
}

void pcp_judge_free(struct pcp_judge *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		entry_cleanup(&j->cache[i]);
	free(j->cache);
	entry_cleanup(&j->future_entry);
	while (j->clients) {
		struct pcp_judge_client *cl = j->clients;

		j->clients = cl->next;
		if (!cl->borrowed)
			pcp_store_free(cl->store);
		for (size_t i = 0; i < cl->n_roots; i++)
			free(cl->roots[i].subject);
		free(cl->roots);
		free(cl->path);
		free(cl);
	}
	free(j->default_rootcert);
	pcp_store_free(j->jdk_cacerts);
	pcp_chain_free(j->future);
	pcp_baseline_free(j->baseline);
	free(j->ats);
	free(j);
}

int pcp_judge_set_now(struct pcp_judge *j, time_t now, struct pcp_error *err)
{
	bool moved = false;

	for (size_t a = 0; a < j->cfg.n_ats && a < 8 * sizeof j->cfg.now_mask; a++)
		if ((j->cfg.now_mask >> a & 1u) && j->ats[a] != now) {
			j->ats[a] = now;
			moved = true;
		}
	if (!moved)
		return 0;
	j->generation++;
	if (j->future) {
		entry_cleanup(&j->future_entry);
		if (entry_fill(j, &j->future_entry, j->future, 1) < 0)
			return pcp_error_set(err, PCP_ERR_SYSTEM, "--future-chain: out of memory"),
			       -1;
	}
	return 0;
}
