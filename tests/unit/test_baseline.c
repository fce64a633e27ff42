/* Unit tests of baselines: records written by the real JSON writer and read back as a
 * baseline, then every change kind against hand-built records (leaf, intermediates, anchor
 * by subject and by fingerprint, verdicts, reachability, new and vanished addresses, targets
 * never probed), concatenated runs, garbage and over-long lines, unreadable files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "baseline.h"
#include "report.h"
#include "testrecords.h"

static const char *const store_names[] = {"baltimore", "digicert-g2", "combined"};
#define N_STORES 3

#define MAX_LINE (1u << 20) /* as in baseline.c */

/* Owned by the current test, freed by the teardown even when an assertion fails. */
static char tmpdir[] = "/tmp/pcp-test-baseline-XXXXXX";
static char path[4200];
static struct pcp_baseline *cur_b;
static struct pcp_result recs[8];
static char *bigbuf;

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(path, sizeof path, "%s/baseline.jsonl", tmpdir);
	return 0;
}

static int teardown_test(void **state)
{
	(void)state;
	pcp_baseline_free(cur_b);
	cur_b = NULL;
	for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++)
		pcp_result_cleanup(&recs[i]);
	memset(recs, 0, sizeof recs);
	free(bigbuf);
	bigbuf = NULL;
	unlink(path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

/* 64 times c, in a buffer of its own per c: several may be arguments of one call. */
static const char *hex64(char c)
{
	static char buf[256][PCP_SHA256_HEX];
	char *p = buf[(unsigned char)c];

	pcp_test_fill_hex(p, c);
	return p;
}

/* A record as the runner makes it. chain: one hex digit per served certificate, leaf
 * first ("" for none); oks: one per store; root: the digit of the anchor each store's path
 * ends at (also named "CN=Root <root>"). */
static void make_record(struct pcp_result *r, const char *target, const char *addr,
                        enum pcp_status status, const char *chain, const bool oks[N_STORES],
                        char root)
{
	size_t n = strlen(chain);

	memset(r, 0, sizeof *r);
	r->target = pcp_test_strdup(target);
	r->host = pcp_test_strdup(target);
	snprintf(r->addr, sizeof r->addr, "%s", addr);
	r->port = 5432;
	r->status = status;
	r->connect_ms = r->total_ms = 1.0;
	if (status != PCP_STATUS_OK) {
		snprintf(r->error, sizeof r->error, "%s", pcp_status_name(status));
		return;
	}
	snprintf(r->tls_version, sizeof r->tls_version, "TLSv1.3");
	r->chain = calloc(n, sizeof *r->chain);
	assert_non_null(r->chain);
	r->chain_len = n;
	for (size_t i = 0; i < n; i++) {
		r->chain[i].subject = pcp_test_strdup(i ? "CN=Intermediate" : "CN=leaf");
		r->chain[i].issuer = pcp_test_strdup("CN=Intermediate");
		r->chain[i].serial = pcp_test_strdup("01");
		pcp_test_fill_hex(r->chain[i].sha256, chain[i]);
	}
	r->verdicts = calloc(N_STORES, sizeof *r->verdicts);
	assert_non_null(r->verdicts);
	r->n_verdicts = N_STORES;
	for (size_t i = 0; i < N_STORES; i++) {
		struct pcp_verdict *v = &r->verdicts[i];

		v->ok = oks[i];
		v->code = oks[i] ? 0 : 20;
		v->depth = oks[i] ? -1 : 1;
		v->path = calloc(n + 1, sizeof *v->path);
		assert_non_null(v->path);
		for (size_t j = 0; j < n; j++)
			pcp_test_fill_hex(v->path[j], chain[j]);
		pcp_test_fill_hex(v->path[n], root);
		v->path_len = n + 1;
	}
	char anchor[32];

	snprintf(anchor, sizeof anchor, "CN=Root %c", root);
	r->anchor = pcp_test_strdup(anchor);
}

/* Writes records with the real JSON writer, appending to the baseline file. */
static void write_records(const struct pcp_result *rs, size_t n)
{
	struct pcp_run_info info = {.store_names = store_names,
	                            .n_stores = N_STORES,
	                            .at = PCP_TEST_AT_2021_02_15,
	                            .ats = NULL,
	                            .n_ats = 0,
	                            .warn_days = -1,
	                            .sslmode = PCP_SSLMODE_VERIFY_FULL,
	                            .version = "test"};
	FILE *f = fopen(path, "ab");

	assert_non_null(f);
	struct pcp_writer *w = pcp_report_json_new(f, &info);

	assert_non_null(w);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(w->ops->record(w, &rs[i]), 0);
	w->ops->free(w);
	assert_int_equal(fclose(f), 0);
}

static void write_text(const char *text)
{
	FILE *f = fopen(path, "ab");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static void write_json(json_t *rec)
{
	char *s = json_dumps(rec, JSON_COMPACT);

	json_decref(rec);
	assert_non_null(s);
	write_text(s);
	write_text("\n");
	free(s);
}

static struct pcp_baseline *load(void)
{
	struct pcp_error err = {0};

	pcp_baseline_free(cur_b);
	cur_b = pcp_baseline_load(path, &err);
	if (!cur_b)
		fail_msg("load failed: %s", err.msg);
	return cur_b;
}

static int compare(struct pcp_result *r)
{
	return pcp_baseline_compare(cur_b, r, store_names, N_STORES);
}

/* The change of that kind in r, or NULL; fails when there are several. */
static const struct pcp_change *change(const struct pcp_result *r, const char *kind)
{
	const struct pcp_change *found = NULL;

	for (size_t i = 0; i < r->n_changes; i++) {
		if (strcmp(r->changes[i].kind, kind) != 0)
			continue;
		if (found)
			fail_msg("two %s changes", kind);
		found = &r->changes[i];
	}
	return found;
}

static void assert_str_or_null(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else
		assert_string_equal(got ? got : "(null)", want);
}

static void assert_change(const struct pcp_result *r, const char *kind, const char *store,
                          const char *from, const char *to)
{
	const struct pcp_change *c = change(r, kind);

	if (!c)
		fail_msg("no %s change (%zu changes)", kind, r->n_changes);
	assert_str_or_null(c->store, store);
	assert_str_or_null(c->from, from);
	assert_str_or_null(c->to, to);
}

static const bool all_ok[N_STORES] = {true, true, true};
static const bool new_only[N_STORES] = {false, true, true};

/* ---- unchanged, and each chain change ---- */

static void test_unchanged(void **state)
{
	(void)state;
	make_record(&recs[0], "db1", "10.0.0.1", PCP_STATUS_OK, "ab", new_only, 'e');
	write_records(recs, 1);
	load();
	assert_int_equal(pcp_baseline_skipped(cur_b), 0);

	assert_int_equal(compare(&recs[0]), 0);
	assert_true(recs[0].has_baseline);
	assert_int_equal(recs[0].n_changes, 0);
	assert_int_equal(pcp_baseline_vanished(cur_b, "db1", &recs[0]), 0);
	assert_int_equal(recs[0].n_changes, 0);
	assert_int_equal(pcp_baseline_unseen(cur_b, NULL, NULL), 0);
}

static void test_leaf_rotated(void **state)
{
	(void)state;
	make_record(&recs[0], "db1", "10.0.0.1", PCP_STATUS_OK, "ab", new_only, 'e');
	write_records(recs, 1);
	load();
	make_record(&recs[1], "db1", "10.0.0.1", PCP_STATUS_OK, "cb", new_only, 'e');
	assert_int_equal(compare(&recs[1]), 0);
	assert_int_equal(recs[1].n_changes, 1);
	assert_change(&recs[1], "leaf_rotated", NULL, hex64('a'), hex64('c'));
}

static void test_intermediate_changed(void **state)
{
	char both[2 * PCP_SHA256_HEX];

	(void)state;
	make_record(&recs[0], "db1", "10.0.0.1", PCP_STATUS_OK, "ab", new_only, 'e');
	make_record(&recs[1], "db2", "10.0.0.2", PCP_STATUS_OK, "ab", new_only, 'e');
	make_record(&recs[2], "db3", "10.0.0.3", PCP_STATUS_OK, "abe", new_only, 'e');
	write_records(recs, 3);
	load();

	/* Another intermediate, same leaf. */
	make_record(&recs[3], "db1", "10.0.0.1", PCP_STATUS_OK, "ad", new_only, 'e');
	assert_int_equal(compare(&recs[3]), 0);
	assert_int_equal(recs[3].n_changes, 1);
	assert_change(&recs[3], "intermediate_changed", NULL, hex64('b'), hex64('d'));

	/* The server starts sending its root too: what it serves changed. */
	make_record(&recs[4], "db2", "10.0.0.2", PCP_STATUS_OK, "abe", new_only, 'e');
	assert_int_equal(compare(&recs[4]), 0);
	assert_true(snprintf(both, sizeof both, "%s,%s", hex64('b'), hex64('e')) <
	            (int)sizeof both);
	assert_int_equal(recs[4].n_changes, 1);
	assert_change(&recs[4], "intermediate_changed", NULL, hex64('b'), both);

	/* ...and stops sending everything but its leaf. */
	make_record(&recs[5], "db3", "10.0.0.3", PCP_STATUS_OK, "a", new_only, 'e');
	assert_int_equal(compare(&recs[5]), 0);
	assert_int_equal(recs[5].n_changes, 1);
	assert_change(&recs[5], "intermediate_changed", NULL, both, NULL);
}

/* Without an "anchor" key (as the writer wrote before it had one), the anchor is where the
 * first verifying store's path ends, compared by fingerprint. */
static void test_anchor_by_fingerprint(void **state)
{
	(void)state;
	write_json(json_pack("{s:s, s:s, s:s, s:[{s:s}, {s:s}], s:{s:{s:b, s:[s,s,s]}, "
	                     "s:{s:b, s:[s,s,s]}}}",
	                     "target", "db1", "addr", "10.0.0.1", "status", "ok", "chain", "sha256",
	                     hex64('a'), "sha256", hex64('b'), "verify", "baltimore", "ok", 0,
	                     "path", hex64('a'), hex64('b'), hex64('0'), "digicert-g2", "ok", 1,
	                     "path", hex64('a'), hex64('b'), hex64('e')));
	load();

	/* Same fingerprint, though this run names the anchor by subject: no change. */
	make_record(&recs[0], "db1", "10.0.0.1", PCP_STATUS_OK, "ab", new_only, 'e');
	assert_int_equal(compare(&recs[0]), 0);
	assert_int_equal(recs[0].n_changes, 0);

	make_record(&recs[1], "db1", "10.0.0.1", PCP_STATUS_OK, "ab", new_only, 'f');
	assert_int_equal(compare(&recs[1]), 0);
	assert_int_equal(recs[1].n_changes, 1);
	assert_change(&recs[1], "anchor_changed", NULL, hex64('e'), hex64('f'));
}

/* With an "anchor" key: subjects are compared. */
static void test_anchor_by_subject(void **state)
{
	(void)state;
	write_json(json_pack("{s:s, s:s, s:s, s:[{s:s}], s:{s:{s:b, s:[s,s]}}, s:s}", "target",
	                     "db1", "addr", "10.0.0.1", "status", "ok", "chain", "sha256",
	                     hex64('a'), "verify", "combined", "ok", 1, "path", hex64('a'),
	                     hex64('0'), "anchor", "CN=Root 0"));
	/* A record whose "anchor" is null (no chain) has no anchor to compare. */
	write_json(json_pack("{s:s, s:s, s:s, s:[], s:{}, s:n}", "target", "db2", "addr",
	                     "10.0.0.2", "status", "ok", "chain", "verify", "anchor"));
	load();

	make_record(&recs[0], "db1", "10.0.0.1", PCP_STATUS_OK, "a", all_ok, '0');
	assert_int_equal(compare(&recs[0]), 0);
	assert_int_equal(recs[0].n_changes, 0);

	make_record(&recs[1], "db1", "10.0.0.1", PCP_STATUS_OK, "a", all_ok, 'e');
	assert_int_equal(compare(&recs[1]), 0);
	assert_int_equal(recs[1].n_changes, 1);
	assert_change(&recs[1], "anchor_changed", NULL, "CN=Root 0", "CN=Root e");

	make_record(&recs[2], "db2", "10.0.0.2", PCP_STATUS_OK, "a", all_ok, 'e');
	assert_int_equal(compare(&recs[2]), 0);
	assert_int_equal(recs[2].n_changes, 0);
}

/* ---- verdicts and reachability ---- */

static void test_verdict_flipped(void **state)
{
	static const bool old_only[N_STORES] = {true, false, true};

	(void)state;
	make_record(&recs[0], "db1", "10.0.0.1", PCP_STATUS_OK, "ab", old_only, 'e');
	write_records(recs, 1);
	load();
	make_record(&recs[1], "db1", "10.0.0.1", PCP_STATUS_OK, "ab", new_only, 'e');
	assert_int_equal(compare(&recs[1]), 0);
	assert_int_equal(recs[1].n_changes, 2);
	/* In this run's store order; combined did not flip. */
	assert_string_equal(recs[1].changes[0].kind, "verdict_flipped");
	assert_string_equal(recs[1].changes[0].store, "baltimore");
	assert_string_equal(recs[1].changes[0].from, "ok");
	assert_string_equal(recs[1].changes[0].to, "fail");
	assert_string_equal(recs[1].changes[1].kind, "verdict_flipped");
	assert_string_equal(recs[1].changes[1].store, "digicert-g2");
	assert_string_equal(recs[1].changes[1].from, "fail");
	assert_string_equal(recs[1].changes[1].to, "ok");
}

/* Only stores present in both runs are compared. */
static void test_verdict_store_sets_differ(void **state)
{
	static const char *const other[] = {"combined", "new-store"};

	(void)state;
	write_json(json_pack("{s:s, s:s, s:s, s:[{s:s}], s:{s:{s:b}, s:{s:b}}}", "target", "db1",
	                     "addr", "10.0.0.1", "status", "ok", "chain", "sha256", hex64('a'),
	                     "verify", "combined", "ok", 1, "gone-store", "ok", 1));
	load();
	make_record(&recs[0], "db1", "10.0.0.1", PCP_STATUS_OK, "a", (bool[]){false, false, false},
	            'e');
	assert_int_equal(pcp_baseline_compare(cur_b, &recs[0], other, 2), 0);
	assert_int_equal(recs[0].n_changes, 1);
	assert_change(&recs[0], "verdict_flipped", "combined", "ok", "fail");
}

static void test_reachability(void **state)
{
	(void)state;
	make_record(&recs[0], "up", "10.0.0.1", PCP_STATUS_OK, "ab", new_only, 'e');
	make_record(&recs[1], "down", "10.0.0.2", PCP_STATUS_TIMEOUT, "", NULL, 0);
	make_record(&recs[2], "still-down", "10.0.0.3", PCP_STATUS_REFUSED, "", NULL, 0);
	write_records(recs, 3);
	load();

	make_record(&recs[3], "up", "10.0.0.1", PCP_STATUS_REFUSED, "", NULL, 0);
	assert_int_equal(compare(&recs[3]), 0);
	assert_int_equal(recs[3].n_changes, 1);
	assert_change(&recs[3], "newly_unreachable", NULL, "ok", "refused");

	/* Back, with a chain the baseline never saw: nothing to compare the chain with. */
	make_record(&recs[4], "down", "10.0.0.2", PCP_STATUS_OK, "ab", new_only, 'e');
	assert_int_equal(compare(&recs[4]), 0);
	assert_int_equal(recs[4].n_changes, 1);
	assert_change(&recs[4], "reachable_again", NULL, "timeout", "ok");

	/* Unreachable in another way is not a change. */
	make_record(&recs[5], "still-down", "10.0.0.3", PCP_STATUS_TIMEOUT, "", NULL, 0);
	assert_int_equal(compare(&recs[5]), 0);
	assert_int_equal(recs[5].n_changes, 0);
	assert_true(recs[5].has_baseline);
}

/* A name that stops resolving: one addressless record explains every address it had. */
static void test_dns_failed(void **state)
{
	(void)state;
	make_record(&recs[0], "db1", "10.0.0.1", PCP_STATUS_OK, "ab", new_only, 'e');
	make_record(&recs[1], "db1", "10.0.0.2", PCP_STATUS_OK, "ab", new_only, 'e');
	make_record(&recs[2], "gone", "", PCP_STATUS_DNS_FAILED, "", NULL, 0);
	write_records(recs, 3);
	load();

	make_record(&recs[3], "db1", "", PCP_STATUS_DNS_FAILED, "", NULL, 0);
	assert_int_equal(compare(&recs[3]), 0);
	assert_int_equal(pcp_baseline_vanished(cur_b, "db1", &recs[3]), 0);
	assert_int_equal(recs[3].n_changes, 1);
	assert_change(&recs[3], "newly_unreachable", NULL, "ok", "dns_failed");

	/* Resolves again: compared with its addressless record. */
	make_record(&recs[4], "gone", "10.0.0.9", PCP_STATUS_OK, "ab", new_only, 'e');
	assert_int_equal(compare(&recs[4]), 0);
	assert_int_equal(pcp_baseline_vanished(cur_b, "gone", &recs[4]), 0);
	assert_int_equal(recs[4].n_changes, 1);
	assert_change(&recs[4], "reachable_again", NULL, "dns_failed", "ok");
	assert_int_equal(pcp_baseline_unseen(cur_b, NULL, NULL), 0);
}

/* ---- addresses and targets ---- */

static void test_new_address(void **state)
{
	(void)state;
	make_record(&recs[0], "db1", "10.0.0.1", PCP_STATUS_OK, "ab", new_only, 'e');
	write_records(recs, 1);
	load();

	make_record(&recs[1], "db1", "10.0.0.7", PCP_STATUS_OK, "ab", new_only, 'e');
	assert_int_equal(compare(&recs[1]), 0);
	assert_int_equal(recs[1].n_changes, 1);
	assert_change(&recs[1], "new_address", NULL, NULL, "10.0.0.7");

	/* A target the baseline never had. */
	make_record(&recs[2], "db9", "10.0.0.1", PCP_STATUS_OK, "ab", new_only, 'e');
	assert_int_equal(compare(&recs[2]), 0);
	assert_int_equal(recs[2].n_changes, 1);
	assert_change(&recs[2], "new_address", NULL, NULL, "10.0.0.1");
	assert_int_equal(pcp_baseline_vanished(cur_b, "db9", &recs[2]), 0);
	assert_int_equal(recs[2].n_changes, 1);
}

static void test_vanished(void **state)
{
	(void)state;
	make_record(&recs[0], "db1", "10.0.0.1", PCP_STATUS_OK, "ab", new_only, 'e');
	make_record(&recs[1], "db1", "10.0.0.2", PCP_STATUS_OK, "ab", new_only, 'e');
	make_record(&recs[2], "db1", "10.0.0.3", PCP_STATUS_REFUSED, "", NULL, 0);
	write_records(recs, 3);
	load();

	make_record(&recs[3], "db1", "10.0.0.2", PCP_STATUS_OK, "ab", new_only, 'e');
	assert_int_equal(compare(&recs[3]), 0);
	assert_int_equal(pcp_baseline_vanished(cur_b, "db1", &recs[3]), 0);
	assert_int_equal(recs[3].n_changes, 2);
	assert_string_equal(recs[3].changes[0].kind, "address_vanished");
	assert_string_equal(recs[3].changes[0].from, "10.0.0.1");
	assert_null(recs[3].changes[0].to);
	assert_string_equal(recs[3].changes[1].kind, "address_vanished");
	assert_string_equal(recs[3].changes[1].from, "10.0.0.3");

	/* The same target again later in the input: reported once. */
	make_record(&recs[4], "db1", "10.0.0.2", PCP_STATUS_OK, "ab", new_only, 'e');
	assert_int_equal(compare(&recs[4]), 0);
	assert_int_equal(pcp_baseline_vanished(cur_b, "db1", &recs[4]), 0);
	assert_int_equal(recs[4].n_changes, 0);
	assert_int_equal(pcp_baseline_unseen(cur_b, NULL, NULL), 0);
}

struct seen_list {
	char text[256];
	size_t calls;
};

static void collect(void *arg, const char *target, const char *addr)
{
	struct seen_list *l = arg;
	size_t len = strlen(l->text);

	snprintf(l->text + len, sizeof l->text - len, "%s/%s;", target, addr);
	l->calls++;
}

static void test_unseen(void **state)
{
	struct seen_list l = {.text = ""};

	(void)state;
	make_record(&recs[0], "db1", "10.0.0.1", PCP_STATUS_OK, "ab", new_only, 'e');
	make_record(&recs[1], "db2", "10.0.0.2", PCP_STATUS_OK, "ab", new_only, 'e');
	make_record(&recs[2], "db2", "10.0.0.3", PCP_STATUS_OK, "ab", new_only, 'e');
	make_record(&recs[3], "db3", "", PCP_STATUS_DNS_FAILED, "", NULL, 0);
	make_record(&recs[4], "db4", "10.0.0.4", PCP_STATUS_OK, "ab", new_only, 'e');
	write_records(recs, 5);
	load();

	assert_int_equal(compare(&recs[0]), 0);
	/* db4 is probed, with a new address only: its old one vanished, the target did not. */
	make_record(&recs[5], "db4", "10.0.0.5", PCP_STATUS_OK, "ab", new_only, 'e');
	assert_int_equal(compare(&recs[5]), 0);
	assert_int_equal(pcp_baseline_vanished(cur_b, "db4", &recs[5]), 0);
	assert_change(&recs[5], "address_vanished", NULL, "10.0.0.4", NULL);

	assert_int_equal(pcp_baseline_unseen(cur_b, collect, &l), 3);
	assert_int_equal(l.calls, 3);
	assert_string_equal(l.text, "db2/10.0.0.2;db2/10.0.0.3;db3/;");
	assert_int_equal(pcp_baseline_unseen(cur_b, NULL, NULL), 3);
}

/* ---- the file ---- */

/* Several runs (or shards) concatenated: per (target, addr) the last record wins. */
static void test_concatenated_last_wins(void **state)
{
	(void)state;
	make_record(&recs[0], "db1", "10.0.0.1", PCP_STATUS_OK, "ab", new_only, 'e');
	make_record(&recs[1], "db2", "10.0.0.2", PCP_STATUS_OK, "ab", new_only, 'e');
	write_records(recs, 2);
	make_record(&recs[2], "db1", "10.0.0.1", PCP_STATUS_OK, "cb", new_only, 'e');
	write_records(&recs[2], 1);
	load();

	make_record(&recs[3], "db1", "10.0.0.1", PCP_STATUS_OK, "cb", new_only, 'e');
	assert_int_equal(compare(&recs[3]), 0);
	assert_int_equal(recs[3].n_changes, 0);
	make_record(&recs[4], "db1", "10.0.0.1", PCP_STATUS_OK, "ab", new_only, 'e');
	assert_int_equal(compare(&recs[4]), 0);
	assert_change(&recs[4], "leaf_rotated", NULL, hex64('c'), hex64('a'));
	/* The earlier run's other records are still there. */
	make_record(&recs[5], "db2", "10.0.0.2", PCP_STATUS_OK, "ab", new_only, 'e');
	assert_int_equal(compare(&recs[5]), 0);
	assert_int_equal(recs[5].n_changes, 0);
}

static void test_garbage_skipped(void **state)
{
	(void)state;
	write_text("not json at all\n"
	           "\n"
	           "   \r\n"
	           "[1,2,3]\n"
	           "{}\n"
	           "{\"target\":1,\"addr\":\"10.0.0.1\",\"status\":\"ok\"}\n"
	           "{\"target\":\"db1\",\"addr\":5,\"status\":\"ok\"}\n"
	           "{\"target\":\"db1\",\"addr\":\"10.0.0.1\"}\n"
	           "{\"target\":\"db1\",\"addr\":\"10.0.0.1\",\"status\":\"a status far too long "
	           "to be one of ours\"}\n"
	           "{\"target\":\"db1\",\"addr\":\"10.0.0.1\",\"status\":\"ok\"} trailing\n"
	           "{\"target\":\"db1\",\"addr\":\"10.0.0.1\",\"status\":\"ok\"\n"
	           "{\"target\":\"d\\u0000b\",\"addr\":\"10.0.0.1\",\"status\":\"ok\"}\n");
	/* A NUL byte inside a line, then bytes that are not UTF-8. */
	FILE *f = fopen(path, "ab");

	assert_non_null(f);
	static const char nul[] = "{\"target\":\"db1\0\",\"status\":\"ok\"}\n";
	static const char bad_utf8[] = "{\"target\":\"\xff\xfe\",\"status\":\"ok\"}\n";

	assert_int_equal(fwrite(nul, 1, sizeof nul - 1, f), sizeof nul - 1);
	assert_int_equal(fwrite(bad_utf8, 1, sizeof bad_utf8 - 1, f), sizeof bad_utf8 - 1);
	assert_int_equal(fclose(f), 0);
	/* Well-formed records with ill-formed parts: kept, the unusable parts ignored. CRLF and
	 * no newline at the end of the file. */
	write_text("{\"target\":\"db1\",\"addr\":\"10.0.0.1\",\"status\":\"ok\",\"chain\":[{"
	           "\"sha256\":"
	           "\"zz\"},{}],\"verify\":{\"combined\":\"yes\",\"baltimore\":{\"ok\":true,"
	           "\"path\":[7]}}}\r\n"
	           "{\"target\":\"db2\",\"addr\":null,\"status\":\"dns_failed\"}");
	load();
	assert_int_equal(pcp_baseline_skipped(cur_b), 12);

	/* db1's chain was unusable: no leaf comparison; baltimore was ok and is not now. */
	make_record(&recs[0], "db1", "10.0.0.1", PCP_STATUS_OK, "ab", new_only, 'e');
	assert_int_equal(compare(&recs[0]), 0);
	assert_int_equal(recs[0].n_changes, 1);
	assert_change(&recs[0], "verdict_flipped", "baltimore", "ok", "fail");
	make_record(&recs[1], "db2", "", PCP_STATUS_DNS_FAILED, "", NULL, 0);
	assert_int_equal(compare(&recs[1]), 0);
	assert_int_equal(recs[1].n_changes, 0);
	assert_int_equal(pcp_baseline_unseen(cur_b, NULL, NULL), 0);
}

/* A record padded with spaces to exactly len bytes (without its newline). */
static void write_padded(const char *target, size_t len)
{
	char head[128];
	int n = snprintf(head, sizeof head,
	                 "{\"target\":\"%s\",\"addr\":\"10.0.0.1\",\"status\":\"ok\"}", target);

	assert_true(n > 0 && (size_t)n < len);
	free(bigbuf);
	bigbuf = malloc(len + 1);
	assert_non_null(bigbuf);
	memset(bigbuf, ' ', len);
	memcpy(bigbuf, head, (size_t)n);
	bigbuf[len] = '\n';
	FILE *f = fopen(path, "ab");

	assert_non_null(f);
	assert_int_equal(fwrite(bigbuf, 1, len + 1, f), len + 1);
	assert_int_equal(fclose(f), 0);
}

static void test_huge_lines(void **state)
{
	(void)state;
	write_padded("at-limit", MAX_LINE);
	write_padded("over-limit", MAX_LINE + 1);
	write_padded("far-over", 3 * MAX_LINE + 17);
	write_text("{\"target\":\"after\",\"addr\":\"10.0.0.1\",\"status\":\"ok\"}\n");
	write_padded("last-and-long", 2 * MAX_LINE);
	load();
	assert_int_equal(pcp_baseline_skipped(cur_b), 3);

	make_record(&recs[0], "at-limit", "10.0.0.1", PCP_STATUS_OK, "ab", new_only, 'e');
	make_record(&recs[1], "after", "10.0.0.1", PCP_STATUS_REFUSED, "", NULL, 0);
	make_record(&recs[2], "over-limit", "10.0.0.1", PCP_STATUS_OK, "ab", new_only, 'e');
	assert_int_equal(compare(&recs[0]), 0);
	assert_int_equal(recs[0].n_changes, 0);
	assert_int_equal(compare(&recs[1]), 0);
	assert_change(&recs[1], "newly_unreachable", NULL, "ok", "refused");
	assert_int_equal(compare(&recs[2]), 0);
	assert_change(&recs[2], "new_address", NULL, NULL, "10.0.0.1");
}

static void test_many_records(void **state)
{
	char line[160];
	FILE *f = fopen(path, "wb");

	(void)state;
	assert_non_null(f);
	/* Enough to grow both hash tables several times. */
	for (int i = 0; i < 5000; i++) {
		snprintf(line, sizeof line,
		         "{\"target\":\"db%d\",\"addr\":\"10.0.%d.%d\",\"status\":\"%s\"}\n", i / 2,
		         i / 250, i % 250, i % 7 ? "ok" : "refused");
		assert_true(fputs(line, f) >= 0);
	}
	assert_int_equal(fclose(f), 0);
	load();
	assert_int_equal(pcp_baseline_skipped(cur_b), 0);
	for (int i = 0; i < 5000; i += 7) {
		char target[32], addr[32];

		snprintf(target, sizeof target, "db%d", i / 2);
		snprintf(addr, sizeof addr, "10.0.%d.%d", i / 250, i % 250);
		make_record(&recs[0], target, addr, PCP_STATUS_OK, "ab", new_only, 'e');
		assert_int_equal(compare(&recs[0]), 0);
		assert_change(&recs[0], "reachable_again", NULL, "refused", "ok");
		pcp_result_cleanup(&recs[0]);
		memset(&recs[0], 0, sizeof recs[0]);
	}
	/* Targets db0..db2499, two addresses each; 715 of them compared. */
	assert_int_equal(pcp_baseline_unseen(cur_b, NULL, NULL), 5000 - 2 * 715);
}

static void test_unreadable(void **state)
{
	struct pcp_error err = {0};
	char missing[4300];

	(void)state;
	snprintf(missing, sizeof missing, "%s/no-such-file", tmpdir);
	assert_null(pcp_baseline_load(missing, &err));
	assert_int_equal(err.code, PCP_ERR_INPUT);
	assert_non_null(strstr(err.msg, missing));

	memset(&err, 0, sizeof err);
	assert_null(pcp_baseline_load(tmpdir, &err));
	assert_int_equal(err.code, PCP_ERR_INPUT);
	assert_non_null(strstr(err.msg, tmpdir));

	/* An empty file is a baseline with nothing in it. */
	write_text("");
	load();
	make_record(&recs[0], "db1", "10.0.0.1", PCP_STATUS_OK, "ab", new_only, 'e');
	assert_int_equal(compare(&recs[0]), 0);
	assert_change(&recs[0], "new_address", NULL, NULL, "10.0.0.1");
	pcp_baseline_free(NULL);
	assert_int_equal(pcp_baseline_skipped(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_unchanged, teardown_test),
	        cmocka_unit_test_teardown(test_leaf_rotated, teardown_test),
	        cmocka_unit_test_teardown(test_intermediate_changed, teardown_test),
	        cmocka_unit_test_teardown(test_anchor_by_fingerprint, teardown_test),
	        cmocka_unit_test_teardown(test_anchor_by_subject, teardown_test),
	        cmocka_unit_test_teardown(test_verdict_flipped, teardown_test),
	        cmocka_unit_test_teardown(test_verdict_store_sets_differ, teardown_test),
	        cmocka_unit_test_teardown(test_reachability, teardown_test),
	        cmocka_unit_test_teardown(test_dns_failed, teardown_test),
	        cmocka_unit_test_teardown(test_new_address, teardown_test),
	        cmocka_unit_test_teardown(test_vanished, teardown_test),
	        cmocka_unit_test_teardown(test_unseen, teardown_test),
	        cmocka_unit_test_teardown(test_concatenated_last_wins, teardown_test),
	        cmocka_unit_test_teardown(test_garbage_skipped, teardown_test),
	        cmocka_unit_test_teardown(test_huge_lines, teardown_test),
	        cmocka_unit_test_teardown(test_many_records, teardown_test),
	        cmocka_unit_test_teardown(test_unreadable, teardown_test),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
