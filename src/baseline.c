/* Baselines: reads an earlier --format json output (JSON Lines, bounded lines, parsed with
 * jansson), keeps per (target, addr) only what the comparison needs, and turns the
 * differences of this run's records into pcp_change entries. Used by the runner only:
 * loaded before the loop, then lookups in two small open-addressing hash tables. */
#include "baseline.h"

#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* A line longer than this is skipped (and counted): a record of ours is a few KiB, and a
 * baseline file is as untrusted as any input. */
#define MAX_LINE (1u << 20)
/* Distinct (target, addr) pairs kept; beyond this the file is refused, not silently cut. */
#define MAX_ENTRIES ((size_t)1 << 22)
#define NONE        SIZE_MAX

struct store_ok {
	char *name; /* owned */
	bool ok;    /* the verdict at the record's first instant */
};

/* What the comparison needs of one baseline record. */
struct entry {
	size_t tgt;                /* index into targets */
	size_t next;               /* next entry of the same target, or NONE */
	uint64_t hash;             /* of (target, addr) */
	char *addr;                /* owned, "" when the record had none */
	char status[32];           /* "ok", "refused", ... */
	char leaf[PCP_SHA256_HEX]; /* chain[0].sha256, "" when the chain is unusable */
	char *inters;              /* chain[1..].sha256 joined by ',', owned; NULL when none */
	char *anchor;              /* owned, NULL when unknown */
	bool anchor_fp;            /* anchor is a fingerprint (no "anchor" key), not a subject */
	struct store_ok *stores;   /* owned */
	size_t n_stores;
	bool seen;     /* a record of this run matched it */
	bool reported; /* already reported as address_vanished */
};

struct target {
	char *name; /* owned */
	uint64_t hash;
	size_t first, last; /* entries of this target in file order */
	bool compared;      /* this run compared a record of this target */
};

/* Open addressing with linear probing: slots hold index + 1, 0 is empty. */
struct table {
	size_t *slots;
	size_t cap; /* a power of two, or 0 */
	size_t n;
};

struct pcp_baseline {
	struct entry *entries;
	size_t n_entries, cap_entries;
	struct target *targets;
	size_t n_targets, cap_targets;
	struct table by_key;    /* entries by (target, addr) */
	struct table by_target; /* targets by name */
	size_t skipped;
	char at[40]; /* the first record's "at", "" when none had one */
	int at_now;  /* its "at_now": 1, 0, or -1 when the file does not say */
};

static uint64_t fnv1a(uint64_t h, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t hash_target(const char *target)
{
	return fnv1a(0xcbf29ce484222325ULL, target, strlen(target));
}

static uint64_t hash_key(const char *target, const char *addr)
{
	/* The NUL between the two keeps ("ab", "c") apart from ("a", "bc"). */
	uint64_t h = fnv1a(0xcbf29ce484222325ULL, target, strlen(target) + 1);

	return fnv1a(h, addr, strlen(addr));
}

static size_t entry_hash_at(const struct pcp_baseline *b, size_t idx)
{
	return (size_t)b->entries[idx].hash;
}

static size_t target_hash_at(const struct pcp_baseline *b, size_t idx)
{
	return (size_t)b->targets[idx].hash;
}

/* Doubles the table (or creates it) and reinserts every index by its stored hash. */
static int table_grow(struct pcp_baseline *b, struct table *t,
                      size_t (*hash_at)(const struct pcp_baseline *, size_t))
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	size_t *slots = calloc(cap, sizeof *slots);

	if (!slots)
		return -1;
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->slots[i])
			continue;
		size_t j = hash_at(b, t->slots[i] - 1) & (cap - 1);

		while (slots[j])
			j = (j + 1) & (cap - 1);
		slots[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

/* Inserts idx (known absent); keeps the load at most one half. */
static int table_insert(struct pcp_baseline *b, struct table *t, size_t idx, uint64_t hash,
                        size_t (*hash_at)(const struct pcp_baseline *, size_t))
{
	if ((t->n + 1) * 2 > t->cap && table_grow(b, t, hash_at) < 0)
		return -1;
	size_t j = (size_t)hash & (t->cap - 1);

	while (t->slots[j])
		j = (j + 1) & (t->cap - 1);
	t->slots[j] = idx + 1;
	t->n++;
	return 0;
}

static size_t find_target(const struct pcp_baseline *b, const char *name)
{
	const struct table *t = &b->by_target;
	uint64_t h = hash_target(name);

	if (!t->cap)
		return NONE;
	for (size_t j = (size_t)h & (t->cap - 1); t->slots[j]; j = (j + 1) & (t->cap - 1)) {
		const struct target *tg = &b->targets[t->slots[j] - 1];

		if (tg->hash == h && strcmp(tg->name, name) == 0)
			return t->slots[j] - 1;
	}
	return NONE;
}

static size_t find_entry(const struct pcp_baseline *b, const char *target, const char *addr)
{
	const struct table *t = &b->by_key;
	uint64_t h = hash_key(target, addr);

	if (!t->cap)
		return NONE;
	for (size_t j = (size_t)h & (t->cap - 1); t->slots[j]; j = (j + 1) & (t->cap - 1)) {
		const struct entry *e = &b->entries[t->slots[j] - 1];

		if (e->hash == h && strcmp(e->addr, addr) == 0 &&
		    strcmp(b->targets[e->tgt].name, target) == 0)
			return t->slots[j] - 1;
	}
	return NONE;
}

static void entry_payload_cleanup(struct entry *e)
{
	free(e->inters);
	free(e->anchor);
	for (size_t i = 0; i < e->n_stores; i++)
		free(e->stores[i].name);
	free(e->stores);
	e->inters = NULL;
	e->anchor = NULL;
	e->stores = NULL;
	e->n_stores = 0;
}

void pcp_baseline_free(struct pcp_baseline *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n_entries; i++) {
		entry_payload_cleanup(&b->entries[i]);
		free(b->entries[i].addr);
	}
	for (size_t i = 0; i < b->n_targets; i++)
		free(b->targets[i].name);
	free(b->entries);
	free(b->targets);
	free(b->by_key.slots);
	free(b->by_target.slots);
	free(b);
}

const char *pcp_baseline_instant(const struct pcp_baseline *b, int *at_now)
{
	*at_now = b->at_now;
	return b->at[0] ? b->at : NULL;
}

size_t pcp_baseline_skipped(const struct pcp_baseline *b)
{
	return b ? b->skipped : 0;
}

/* --- reading one record ------------------------------------------------------------- */

/* A SHA-256 as we print it: 64 hex digits; copied lowercased. */
static bool copy_sha256(char out[PCP_SHA256_HEX], const json_t *v)
{
	const char *s = json_string_value(v);

	if (!s || json_string_length(v) != PCP_SHA256_HEX - 1)
		return false;
	for (size_t i = 0; i < PCP_SHA256_HEX - 1; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
		out[i] = c;
	}
	out[PCP_SHA256_HEX - 1] = '\0';
	return true;
}

/* "chain": the leaf and the served certificates after it. Any certificate without a
 * usable sha256 makes the whole chain unusable, so that nothing is compared against it. */
static int read_chain(struct entry *e, const json_t *chain)
{
	size_t n = json_is_array(chain) ? json_array_size(chain) : 0;
	char *inters = NULL;

	e->leaf[0] = '\0';
	if (n == 0)
		return 0;
	if (n > 1 && !(inters = malloc((n - 1) * PCP_SHA256_HEX)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		char hex[PCP_SHA256_HEX];

		if (!copy_sha256(hex, json_object_get(json_array_get(chain, i), "sha256"))) {
			free(inters);
			e->leaf[0] = '\0';
			return 0;
		}
		if (i == 0) {
			memcpy(e->leaf, hex, sizeof hex);
			continue;
		}
		/* n - 1 slots of 65 bytes: 64 digits plus ',' or the final NUL. */
		memcpy(inters + (i - 1) * PCP_SHA256_HEX, hex, PCP_SHA256_HEX - 1);
		inters[i * PCP_SHA256_HEX - 1] = i + 1 < n ? ',' : '\0';
	}
	e->inters = inters;
	return 0;
}

/* A store's verdict at the first instant: {"ok":…} itself, or the first of an array of
 * them (one per instant). NULL when neither. */
static const json_t *first_verdict(const json_t *v)
{
	if (json_is_array(v))
		v = json_array_get(v, 0);
	return json_is_boolean(json_object_get(v, "ok")) ? v : NULL;
}

/* The last certificate of a verdict's built path, into out; false when there is none. */
static bool path_end(char out[PCP_SHA256_HEX], const json_t *verdict)
{
	const json_t *path = json_object_get(verdict, "path");
	size_t n = json_is_array(path) ? json_array_size(path) : 0;

	return n > 0 && copy_sha256(out, json_array_get(path, n - 1));
}

static int read_verify(struct entry *e, const json_t *verify)
{
	const char *name;
	json_t *v;
	size_t n = json_is_object(verify) ? json_object_size(verify) : 0;

	if (n == 0)
		return 0;
	if (!(e->stores = calloc(n, sizeof *e->stores)))
		return -1;
	json_object_foreach((json_t *)verify, name, v)
	{
		const json_t *fv = first_verdict(v);

		if (!fv || e->n_stores == n)
			continue;
		if (!(e->stores[e->n_stores].name = strdup(name)))
			return -1;
		e->stores[e->n_stores++].ok = json_is_true(json_object_get(fv, "ok"));
	}
	return 0;
}

/* Without an "anchor" key (older outputs): where the first verifying store's path ends,
 * else where the first store's path ends, as the runner chooses res->anchor. */
static int anchor_from_paths(struct entry *e, const json_t *verify)
{
	const char *name;
	json_t *v;
	char first[PCP_SHA256_HEX] = "", hex[PCP_SHA256_HEX];
	bool have_first = false;

	if (!json_is_object(verify))
		return 0;
	json_object_foreach((json_t *)verify, name, v)
	{
		const json_t *fv = first_verdict(v);

		(void)name;
		if (!fv)
			continue;
		if (json_is_true(json_object_get(fv, "ok")) && path_end(hex, fv)) {
			e->anchor_fp = true;
			return (e->anchor = strdup(hex)) ? 0 : -1;
		}
		if (!have_first) {
			have_first = true;
			if (!path_end(first, fv))
				first[0] = '\0';
		}
	}
	if (first[0] == '\0')
		return 0;
	e->anchor_fp = true;
	return (e->anchor = strdup(first)) ? 0 : -1;
}

/* Fills e's payload from one parsed record. 0, or -1 on allocation failure. */
static int read_payload(struct entry *e, const json_t *rec, const char *status)
{
	const json_t *anchor = json_object_get(rec, "anchor");

	snprintf(e->status, sizeof e->status, "%s", status);
	e->anchor_fp = false;
	if (read_chain(e, json_object_get(rec, "chain")) < 0 ||
	    read_verify(e, json_object_get(rec, "verify")) < 0)
		return -1;
	if (anchor) {
		if (json_is_string(anchor) && !(e->anchor = strdup(json_string_value(anchor))))
			return -1;
		return 0;
	}
	return anchor_from_paths(e, json_object_get(rec, "verify"));
}

static size_t add_target(struct pcp_baseline *b, const char *name)
{
	if (b->n_targets == b->cap_targets) {
		size_t cap = b->cap_targets ? b->cap_targets * 2 : 64;
		struct target *t = realloc(b->targets, cap * sizeof *t);

		if (!t)
			return NONE;
		b->targets = t;
		b->cap_targets = cap;
	}
	struct target *t = &b->targets[b->n_targets];

	memset(t, 0, sizeof *t);
	t->first = t->last = NONE;
	t->hash = hash_target(name);
	if (!(t->name = strdup(name)))
		return NONE;
	if (table_insert(b, &b->by_target, b->n_targets, t->hash, target_hash_at) < 0) {
		free(t->name);
		return NONE;
	}
	return b->n_targets++;
}

static size_t add_entry(struct pcp_baseline *b, size_t tgt, const char *addr)
{
	if (b->n_entries == b->cap_entries) {
		size_t cap = b->cap_entries ? b->cap_entries * 2 : 64;
		struct entry *e = realloc(b->entries, cap * sizeof *e);

		if (!e)
			return NONE;
		b->entries = e;
		b->cap_entries = cap;
	}
	struct entry *e = &b->entries[b->n_entries];

	memset(e, 0, sizeof *e);
	e->tgt = tgt;
	e->next = NONE;
	e->hash = hash_key(b->targets[tgt].name, addr);
	if (!(e->addr = strdup(addr)))
		return NONE;
	if (table_insert(b, &b->by_key, b->n_entries, e->hash, entry_hash_at) < 0) {
		free(e->addr);
		return NONE;
	}
	struct target *t = &b->targets[tgt];

	if (t->last == NONE)
		t->first = b->n_entries;
	else
		b->entries[t->last].next = b->n_entries;
	t->last = b->n_entries;
	return b->n_entries++;
}

/* One line. Returns 0 (kept or skipped), or an error code for the whole load. */
static enum pcp_errc load_line(struct pcp_baseline *b, const char *line, size_t len,
                               const char *path, struct pcp_error *err)
{
	size_t i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
		i++;
	if (i == len)
		return PCP_OK; /* blank lines are not records, nor garbage */

	json_error_t jerr;
	json_t *rec = json_loadb(line, len, 0, &jerr);
	const json_t *addr_v = json_object_get(rec, "addr");
	const char *target = json_string_value(json_object_get(rec, "target"));
	const char *status = json_string_value(json_object_get(rec, "status"));
	const char *addr = json_is_string(addr_v) ? json_string_value(addr_v) : "";
	enum pcp_errc rc = PCP_OK;

	if (!json_is_object(rec) || !target || !status || strlen(status) >= 32 ||
	    (addr_v && !json_is_string(addr_v) && !json_is_null(addr_v))) {
		b->skipped++;
		goto out;
	}
	size_t tgt = find_target(b, target);

	if (tgt == NONE && (tgt = add_target(b, target)) == NONE)
		goto nomem;
	assert(tgt < b->n_targets);
	size_t idx = find_entry(b, target, addr);

	if (idx == NONE) {
		if (b->n_entries >= MAX_ENTRIES) {
			rc = pcp_error_set(err, PCP_ERR_INPUT,
			                   "%s: more than %zu addresses in the baseline", path,
			                   MAX_ENTRIES);
			goto out;
		}
		if ((idx = add_entry(b, tgt, addr)) == NONE)
			goto nomem;
	}
	assert(idx < b->n_entries);
	if (!b->at[0] && json_is_string(json_object_get(rec, "at"))) {
		const json_t *now = json_object_get(rec, "at_now");

		snprintf(b->at, sizeof b->at, "%.39s",
		         json_string_value(json_object_get(rec, "at")));
		b->at_now = json_is_boolean(now) ? json_is_true(now) : -1;
	}
	/* Several runs concatenated: the last record of a (target, addr) wins. */
	entry_payload_cleanup(&b->entries[idx]);
	if (read_payload(&b->entries[idx], rec, status) < 0)
		goto nomem;
	goto out;
nomem:
	rc = pcp_error_set(err, PCP_ERR_SYSTEM, "%s: out of memory reading the baseline", path);
out:
	json_decref(rec);
	return rc;
}

/* --- reading the file --------------------------------------------------------------- */

/* Splits a stream into lines of at most MAX_LINE bytes without ever holding more. */
struct reader {
	FILE *f;
	char *buf; /* MAX_LINE + 1 bytes: the longest line plus its newline */
	size_t pos, len;
	bool eof;
};

enum read_result { LINE, TOO_LONG, END, FAILED };

static enum read_result read_line(struct reader *r, const char **line, size_t *len)
{
	bool skipping = false; /* inside a line too long to keep */

	for (;;) {
		/* Nothing buffered (the first call, or all consumed): no line to find yet. */
		char *nl = r->pos < r->len ? memchr(r->buf + r->pos, '\n', r->len - r->pos) : NULL;

		if (nl) {
			size_t n = (size_t)(nl - (r->buf + r->pos));

			*line = r->buf + r->pos;
			*len = n;
			r->pos += n + 1;
			if (skipping)
				return TOO_LONG;
			return LINE;
		}
		if (r->eof) {
			*line = r->buf + r->pos;
			*len = r->len - r->pos;
			r->pos = r->len;
			if (skipping)
				return TOO_LONG;
			return *len ? LINE : END;
		}
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
		if (r->len == MAX_LINE + 1) {
			skipping = true;
			r->len = 0;
		}
		size_t got = fread(r->buf + r->len, 1, MAX_LINE + 1 - r->len, r->f);

		r->len += got;
		if (got == 0) {
			if (ferror(r->f))
				return FAILED;
			r->eof = true;
		}
	}
}

struct pcp_baseline *pcp_baseline_load(const char *path, struct pcp_error *err)
{
	struct pcp_baseline *b = calloc(1, sizeof *b);
	struct reader r = {0};
	struct stat st;

	if (!b || !(r.buf = malloc(MAX_LINE + 1))) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "%s: out of memory reading the baseline", path);
		goto fail;
	}
	errno = 0;
	if (!(r.f = fopen(path, "rb"))) {
		pcp_error_set(err, PCP_ERR_INPUT, "cannot read baseline %s: %s", path,
		              strerror(errno ? errno : EIO));
		goto fail;
	}
	/* A file or a pipe (--baseline <(zcat ...)); a device such as /dev/zero never ends. */
	if (fstat(fileno(r.f), &st) != 0 || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))) {
		pcp_error_set(err, PCP_ERR_INPUT,
		              "cannot read baseline %s: not a regular file or a pipe", path);
		goto fail;
	}
	for (;;) {
		const char *line;
		size_t len;
		enum read_result res = read_line(&r, &line, &len);

		if (res == END)
			break;
		if (res == FAILED) {
			pcp_error_set(err, PCP_ERR_INPUT, "cannot read baseline %s: %s", path,
			              strerror(errno ? errno : EIO));
			goto fail;
		}
		if (res == TOO_LONG) {
			b->skipped++;
			continue;
		}
		if (load_line(b, line, len, path, err) != PCP_OK)
			goto fail;
	}
	fclose(r.f);
	free(r.buf);
	return b;
fail:
	if (r.f)
		fclose(r.f);
	free(r.buf);
	pcp_baseline_free(b);
	return NULL;
}

/* --- comparing ---------------------------------------------------------------------- */

static int add_change(struct pcp_result *res, const char *kind, const char *store, const char *from,
                      const char *to)
{
	struct pcp_change *c = realloc(res->changes, (res->n_changes + 1) * sizeof *c);

	if (!c)
		return -1;
	res->changes = c;
	c = &res->changes[res->n_changes];
	memset(c, 0, sizeof *c);
	c->kind = kind;
	/* Counted before the copies: on failure the record still frees what was copied. */
	res->n_changes++;
	if ((store && !(c->store = strdup(store))) || (from && !(c->from = strdup(from))) ||
	    (to && !(c->to = strdup(to))))
		return -1;
	return 0;
}

/* This run's served certificates after the leaf, joined like entry.inters; *out NULL when
 * there are none. */
static int join_inters(const struct pcp_result *res, char **out)
{
	*out = NULL;
	if (res->chain_len < 2)
		return 0;
	char *s = malloc((res->chain_len - 1) * PCP_SHA256_HEX);

	if (!s)
		return -1;
	size_t n = 0;

	for (size_t i = 1; i < res->chain_len; i++) {
		size_t l = strnlen(res->chain[i].sha256, PCP_SHA256_HEX - 1);

		memcpy(s + n, res->chain[i].sha256, l);
		n += l;
		s[n++] = i + 1 < res->chain_len ? ',' : '\0';
	}
	*out = s;
	return 0;
}

/* The verdicts of this run's first instant: the same choice as anchor_from_paths. */
static const char *new_anchor_fp(const struct pcp_result *res, size_t n_stores)
{
	size_t n = res->verdicts ? (res->n_verdicts < n_stores ? res->n_verdicts : n_stores) : 0;

	for (size_t i = 0; i < n; i++) {
		const struct pcp_verdict *v = &res->verdicts[i];

		if (v->ok && v->path && v->path_len)
			return v->path[v->path_len - 1];
	}
	if (n && res->verdicts[0].path && res->verdicts[0].path_len)
		return res->verdicts[0].path[res->verdicts[0].path_len - 1];
	return NULL;
}

static bool same_opt(const char *a, const char *b)
{
	return (a ? a : "")[0] == '\0' ? (b ? b : "")[0] == '\0'
	                               : b != NULL && strcasecmp(a, b) == 0;
}

/* What the served chain and the verdicts changed: only where both runs captured one. */
static int compare_chain(const struct entry *e, struct pcp_result *res,
                         const char *const *store_names, size_t n_stores)
{
	bool was_ok = strcmp(e->status, "ok") == 0;
	bool is_ok = res->status == PCP_STATUS_OK;

	if (e->leaf[0] && res->chain && res->chain_len && res->chain[0].sha256[0]) {
		char *inters;

		if (strcasecmp(e->leaf, res->chain[0].sha256) != 0 &&
		    add_change(res, "leaf_rotated", NULL, e->leaf, res->chain[0].sha256) < 0)
			return -1;
		if (join_inters(res, &inters) < 0)
			return -1;
		if (!same_opt(e->inters, inters) &&
		    add_change(res, "intermediate_changed", NULL, e->inters, inters) < 0) {
			free(inters);
			return -1;
		}
		free(inters);
	}

	/* A subject is compared with a subject, a fingerprint with a fingerprint. */
	const char *anchor = e->anchor_fp ? new_anchor_fp(res, n_stores) : res->anchor;

	if (e->anchor && e->anchor[0] && anchor && anchor[0] && res->chain_len &&
	    (e->anchor_fp ? strcasecmp(e->anchor, anchor) : strcmp(e->anchor, anchor)) != 0 &&
	    add_change(res, "anchor_changed", NULL, e->anchor, anchor) < 0)
		return -1;

	if (!was_ok || !is_ok || !res->verdicts || res->n_verdicts < n_stores)
		return 0;
	for (size_t i = 0; i < n_stores; i++) {
		if (!store_names[i])
			continue;
		for (size_t j = 0; j < e->n_stores; j++) {
			bool now = res->verdicts[i].ok;

			if (strcmp(e->stores[j].name, store_names[i]) != 0 ||
			    e->stores[j].ok == now)
				continue;
			if (add_change(res, "verdict_flipped", store_names[i],
			               e->stores[j].ok ? "ok" : "fail", now ? "ok" : "fail") < 0)
				return -1;
			break;
		}
	}
	return 0;
}

static int compare_status(const char *was, struct pcp_result *res)
{
	bool was_ok = strcmp(was, "ok") == 0;
	bool is_ok = res->status == PCP_STATUS_OK;

	if (was_ok && !is_ok)
		return add_change(res, "newly_unreachable", NULL, "ok",
		                  pcp_status_name(res->status));
	if (!was_ok && is_ok)
		return add_change(res, "reachable_again", NULL, was, "ok");
	return 0;
}

int pcp_baseline_compare(struct pcp_baseline *b, struct pcp_result *res,
                         const char *const *store_names, size_t n_stores)
{
	const char *target = res->target ? res->target : "";
	char addr[sizeof res->addr];
	size_t tgt = find_target(b, target);

	res->has_baseline = true;
	snprintf(addr, sizeof addr, "%.*s", (int)strnlen(res->addr, sizeof res->addr), res->addr);
	if (tgt != NONE)
		b->targets[tgt].compared = true;
	size_t idx = tgt != NONE ? find_entry(b, target, addr) : NONE;

	if (idx != NONE) {
		struct entry *e = &b->entries[idx];

		e->seen = true;
		if (compare_status(e->status, res) < 0)
			return -1;
		return compare_chain(e, res, store_names, n_stores);
	}
	if (tgt == NONE)
		return add_change(res, "new_address", NULL, NULL, addr[0] ? addr : NULL);

	/* No address now (e.g. dns_failed): that explains every address the target had;
	 * it became unreachable if any of them was reachable. */
	if (addr[0] == '\0') {
		bool any_ok = false;

		for (size_t i = b->targets[tgt].first; i != NONE; i = b->entries[i].next) {
			any_ok |= strcmp(b->entries[i].status, "ok") == 0;
			b->entries[i].seen = true;
		}
		return any_ok ? compare_status("ok", res) : 0;
	}
	/* An address now where the baseline had none: compare with that addressless record. */
	size_t none = find_entry(b, target, "");

	if (none != NONE) {
		b->entries[none].seen = true;
		return compare_status(b->entries[none].status, res);
	}
	return add_change(res, "new_address", NULL, NULL, addr);
}

int pcp_baseline_vanished(struct pcp_baseline *b, const char *target, struct pcp_result *rec)
{
	size_t tgt = find_target(b, target ? target : "");

	rec->has_baseline = true;
	if (tgt == NONE)
		return 0;
	b->targets[tgt].compared = true;
	for (size_t i = b->targets[tgt].first; i != NONE; i = b->entries[i].next) {
		struct entry *e = &b->entries[i];

		if (e->seen || e->reported || e->addr[0] == '\0')
			continue;
		e->reported = true;
		if (add_change(rec, "address_vanished", NULL, e->addr, NULL) < 0)
			return -1;
	}
	return 0;
}

size_t pcp_baseline_unseen(const struct pcp_baseline *b,
                           void (*fn)(void *arg, const char *target, const char *addr), void *arg)
{
	size_t n = 0;

	if (!b)
		return 0;
	for (size_t i = 0; i < b->n_entries; i++) {
		const struct entry *e = &b->entries[i];

		if (b->targets[e->tgt].compared)
			continue;
		if (fn)
			fn(arg, b->targets[e->tgt].name, e->addr);
		n++;
	}
	return n;
}
