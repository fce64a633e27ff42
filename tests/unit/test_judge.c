/* Unit tests for judge: what a probe saw becomes a finished record. Verdicts per store and
 * instant (cached per served chain, the name check per record), classes (and none without
 * both class stores), anchors, --warn-days marks, divergence across a target's addresses,
 * invalid targets, the client lookup for targets that are not connection strings, and the
 * moving "now" of a long-running exporter (pcp_judge_set_now). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "judge.h"
#include "targets.h"
#include "testjava.h"
#include "testpki.h"
#include "truststore.h"

#define NOW T(2026, 1, 1, 0, 0, 0)

static time_t T(int y, int mo, int d, int h, int mi, int s)
{
	return pcp_testpki_time(y, mo, d, h, mi, s);
}

struct fixture {
	EVP_PKEY *k_old, *k_new, *k_int, *k_leaf;
	X509 *old_root, *new_root, *inter, *leaf_a, *leaf_b;
	struct pcp_chain *chain_a, *chain_b;
	char dir[64];
	struct pcp_store_list classed, unclassed;
};

static const struct pcp_testpki_bytes db_name[] = {{"db.example.com", 0}};

static X509 *ca(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, time_t na,
                uint64_t serial)
{
	struct pcp_testpki_spec s = {.cn = cn,
	                             .serial = serial,
	                             .not_before = T(2020, 1, 1, 0, 0, 0),
	                             .not_after = na,
	                             .bc = PCP_TESTPKI_BC_CA,
	                             .key_usage = PCP_TESTPKI_KU_KEY_CERT_SIGN};

	return pcp_testpki_cert(&s, key, issuer, ikey);
}

static X509 *leaf(struct fixture *f, uint64_t serial, time_t na)
{
	struct pcp_testpki_spec s = {.cn = "db.example.com",
	                             .serial = serial,
	                             .not_before = T(2020, 1, 1, 0, 0, 0),
	                             .not_after = na,
	                             .bc = PCP_TESTPKI_BC_LEAF,
	                             .eku = PCP_TESTPKI_EKU_SERVER,
	                             .dns = db_name,
	                             .n_dns = 1};

	return pcp_testpki_cert(&s, f->k_leaf, f->inter, f->k_int);
}

static void add_store(struct fixture *f, struct pcp_store_list *list, const char *name,
                      X509 *const *certs, size_t n)
{
	char path[128];
	struct pcp_error err = {0};
	struct pcp_store *s;

	snprintf(path, sizeof path, "%s/%s.pem", f->dir, name);
	assert_int_equal(pcp_testpki_write_certs(path, certs, n), 0);
	s = pcp_store_load(name, path, &err);
	assert_non_null(s);
	assert_int_equal(pcp_store_list_add(list, s, &err), PCP_OK);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	X509 *both[2];

	assert_non_null(f);
	f->k_old = pcp_testpki_key(PCP_TESTPKI_EC_P256, 0);
	f->k_new = pcp_testpki_key(PCP_TESTPKI_EC_P256, 0);
	f->k_int = pcp_testpki_key(PCP_TESTPKI_EC_P256, 0);
	f->k_leaf = pcp_testpki_key(PCP_TESTPKI_EC_P256, 0);
	f->old_root = ca("Old Root", f->k_old, NULL, NULL, T(2025, 5, 12, 23, 59, 0), 1);
	f->new_root = ca("New Root", f->k_new, NULL, NULL, T(2038, 1, 15, 12, 0, 0), 2);
	f->inter =
	        ca("New Intermediate", f->k_int, f->new_root, f->k_new, T(2030, 1, 1, 0, 0, 0), 3);
	f->leaf_a = leaf(f, 4, T(2026, 1, 20, 0, 0, 0));
	f->leaf_b = leaf(f, 5, T(2027, 1, 1, 0, 0, 0));
	assert_non_null(f->leaf_a);
	assert_non_null(f->leaf_b);
	f->chain_a = pcp_testpki_chain(f->leaf_a, f->inter, NULL);
	f->chain_b = pcp_testpki_chain(f->leaf_b, f->inter, NULL);
	snprintf(f->dir, sizeof f->dir, "/tmp/pcp-test-judge-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	both[0] = f->old_root;
	both[1] = f->new_root;
	add_store(f, &f->classed, "baltimore", &f->old_root, 1);
	add_store(f, &f->classed, "digicert-g2", &f->new_root, 1);
	add_store(f, &f->classed, "combined", both, 2);
	add_store(f, &f->unclassed, "old", &f->old_root, 1);
	add_store(f, &f->unclassed, "new", &f->new_root, 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	pcp_chain_free(f->chain_a);
	pcp_chain_free(f->chain_b);
	X509_free(f->old_root);
	X509_free(f->new_root);
	X509_free(f->inter);
	X509_free(f->leaf_a);
	X509_free(f->leaf_b);
	EVP_PKEY_free(f->k_old);
	EVP_PKEY_free(f->k_new);
	EVP_PKEY_free(f->k_int);
	EVP_PKEY_free(f->k_leaf);
	pcp_store_list_cleanup(&f->classed);
	pcp_store_list_cleanup(&f->unclassed);
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct pcp_judge *judge_new(const struct pcp_store_list *stores, const time_t *ats,
                                   size_t n_ats, double warn_days)
{
	struct pcp_judge_config cfg = {.stores = stores,
	                               .ats = ats,
	                               .n_ats = n_ats,
	                               .auth_level = 2,
	                               .warn_days = warn_days};
	struct pcp_error err = {0};
	struct pcp_judge *j = pcp_judge_new(&cfg, &err);

	if (!j)
		fail_msg("pcp_judge_new: %s", err.msg);
	return j;
}

/* A record as the engine makes it before judging: status, host and mode set. */
static struct pcp_result *record(struct pcp_judge *j, const char *host, enum pcp_sslmode mode,
                                 enum pcp_status status, const struct pcp_chain *chain)
{
	struct pcp_result *r = calloc(1, sizeof *r);
	struct pcp_target t = {.text = (char *)"target", .host = (char *)host, .port = 5432};
	struct pcp_error err = {0};

	assert_non_null(r);
	r->target = strdup("target");
	r->host = host ? strdup(host) : NULL;
	r->sslmode = mode;
	r->status = status;
	if (pcp_judge_record(j, r, &t, NULL, chain, &err) < 0)
		fail_msg("pcp_judge_record: %s", err.msg);
	return r;
}

static void record_free(struct pcp_result *r)
{
	pcp_result_cleanup(r);
	free(r);
}

static void test_verdicts_and_class(void **state)
{
	struct fixture *f = *state;
	time_t ats[] = {NOW, T(2025, 5, 1, 0, 0, 0)};
	struct pcp_judge *j = judge_new(&f->classed, ats, 2, -1);
	struct pcp_result *r =
	        record(j, "db.example.com", PCP_SSLMODE_VERIFY_FULL, PCP_STATUS_OK, f->chain_a);

	/* [instant * n_stores + store]: baltimore, digicert-g2, combined, twice */
	assert_int_equal(r->n_verdicts, 6);
	assert_false(r->verdicts[0].ok);
	assert_true(r->verdicts[1].ok);
	assert_true(r->verdicts[2].ok);
	assert_int_equal(r->verdicts[1].depth, -1);
	assert_int_equal(r->verdicts[1].path_len, 3);
	assert_string_equal(r->class_name, "new-only");
	assert_string_equal(r->anchor, "CN=New Root");
	assert_int_equal(r->chain_len, 2);
	assert_int_equal(r->verdicts[1].path_not_after, T(2026, 1, 20, 0, 0, 0));
	assert_false(r->verdicts[1].expiring); /* no --warn-days */
	record_free(r);
	pcp_judge_free(j);
}

/* The chain's verdicts are cached; the name check follows each record's host and mode. */
static void test_name_check_per_record(void **state)
{
	struct fixture *f = *state;
	time_t ats[] = {NOW};
	struct pcp_judge *j = judge_new(&f->classed, ats, 1, -1);
	struct pcp_result *good =
	        record(j, "db.example.com", PCP_SSLMODE_VERIFY_FULL, PCP_STATUS_OK, f->chain_a);
	struct pcp_result *other =
	        record(j, "other.example.com", PCP_SSLMODE_VERIFY_FULL, PCP_STATUS_OK, f->chain_a);
	struct pcp_result *ca_only =
	        record(j, "other.example.com", PCP_SSLMODE_VERIFY_CA, PCP_STATUS_OK, f->chain_a);
	struct pcp_result *no_host =
	        record(j, NULL, PCP_SSLMODE_VERIFY_FULL, PCP_STATUS_OK, f->chain_a);

	assert_true(good->verdicts[1].ok);
	assert_false(other->verdicts[1].ok);
	assert_int_equal(other->verdicts[1].code, PCP_VERDICT_NAME_MISMATCH);
	assert_non_null(strstr(other->verdicts[1].error, "does not match host name"));
	assert_true(ca_only->verdicts[1].ok);
	assert_int_equal(no_host->verdicts[1].code, PCP_VERDICT_NO_HOST);
	/* the first record's verdict was not changed by the later ones' name checks */
	assert_true(good->verdicts[1].ok);
	assert_string_equal(good->verdicts[1].error, "");
	record_free(good);
	record_free(other);
	record_free(ca_only);
	record_free(no_host);
	pcp_judge_free(j);
}

/* Without both class stores a record has no class, rather than a made-up "neither". */
static void test_no_class_without_class_stores(void **state)
{
	struct fixture *f = *state;
	time_t ats[] = {NOW};
	struct pcp_judge *j = judge_new(&f->unclassed, ats, 1, -1);
	struct pcp_result *ok =
	        record(j, "db.example.com", PCP_SSLMODE_VERIFY_FULL, PCP_STATUS_OK, f->chain_a);
	struct pcp_result *down =
	        record(j, "db.example.com", PCP_SSLMODE_VERIFY_FULL, PCP_STATUS_TIMEOUT, NULL);

	assert_null(ok->class_name);
	assert_null(down->class_name);
	assert_true(ok->verdicts[1].ok);
	record_free(ok);
	record_free(down);
	pcp_judge_free(j);
	j = judge_new(&f->classed, ats, 1, -1);
	down = record(j, "db.example.com", PCP_SSLMODE_VERIFY_FULL, PCP_STATUS_TIMEOUT, NULL);
	assert_string_equal(down->class_name, "unreachable");
	assert_int_equal(down->n_verdicts, 0);
	record_free(down);
	pcp_judge_free(j);
}

static void test_warn_days(void **state)
{
	struct fixture *f = *state;
	time_t ats[] = {NOW};
	struct pcp_judge *j = judge_new(&f->classed, ats, 1, 30);
	struct pcp_result *a =
	        record(j, "db.example.com", PCP_SSLMODE_VERIFY_FULL, PCP_STATUS_OK, f->chain_a);
	struct pcp_result *b =
	        record(j, "db.example.com", PCP_SSLMODE_VERIFY_FULL, PCP_STATUS_OK, f->chain_b);

	assert_true(a->verdicts[1].expiring);  /* leaf A ends 19 days after NOW */
	assert_false(b->verdicts[1].expiring); /* leaf B in a year */
	assert_false(a->verdicts[0].expiring); /* failing verdicts are never "expiring" */
	record_free(a);
	record_free(b);
	pcp_judge_free(j);
}

static void test_divergence(void **state)
{
	struct fixture *f = *state;
	time_t ats[] = {NOW};
	struct pcp_judge *j = judge_new(&f->classed, ats, 1, -1);
	struct pcp_error err = {0};
	struct pcp_result *same[] = {
	        record(j, "db.example.com", PCP_SSLMODE_VERIFY_FULL, PCP_STATUS_OK, f->chain_a),
	        record(j, "db.example.com", PCP_SSLMODE_VERIFY_FULL, PCP_STATUS_TIMEOUT, NULL),
	        record(j, "db.example.com", PCP_SSLMODE_VERIFY_FULL, PCP_STATUS_OK, f->chain_a)};
	struct pcp_result *mixed[] = {
	        record(j, "db.example.com", PCP_SSLMODE_VERIFY_FULL, PCP_STATUS_OK, f->chain_a),
	        record(j, "db.example.com", PCP_SSLMODE_VERIFY_FULL, PCP_STATUS_OK, f->chain_b)};

	assert_int_equal(pcp_judge_group(j, same, 3, &err), 0);
	assert_int_equal(pcp_judge_group(j, mixed, 2, &err), 0);
	for (size_t i = 0; i < 3; i++) {
		assert_false(same[i]->divergent);
		record_free(same[i]);
	}
	for (size_t i = 0; i < 2; i++) {
		assert_true(mixed[i]->divergent);
		record_free(mixed[i]);
	}
	pcp_judge_free(j);
}

static void test_invalid_target_and_client(void **state)
{
	struct fixture *f = *state;
	time_t ats[] = {NOW};
	struct pcp_judge *j = judge_new(&f->classed, ats, 1, -1);
	struct pcp_result *r =
	        record(j, NULL, PCP_SSLMODE_VERIFY_FULL, PCP_STATUS_INVALID_TARGET, NULL);
	struct pcp_target plain = {.text = (char *)"db", .host = (char *)"db", .port = 5432};
	const struct pcp_judge_client *client = (const void *)&plain;
	struct pcp_error err = {0};

	assert_null(r->class_name);
	assert_int_equal(r->n_verdicts, 0);
	assert_null(r->client);
	assert_int_equal(pcp_judge_client_for(j, &plain, &client, &err), 0);
	assert_null(client);
	record_free(r);
	pcp_judge_free(j);
}

/* The exporter judges each probe as of its own time: after now moved past leaf_a's expiry
 * (2026-01-20) the cached chain is judged again; a fixed instant stays where it was. */
static void test_now_moves(void **state)
{
	struct fixture *f = *state;
	time_t ats[] = {T(2026, 1, 10, 0, 0, 0), T(2025, 6, 1, 0, 0, 0)};
	struct pcp_judge_config cfg = {.stores = &f->unclassed,
	                               .ats = ats,
	                               .n_ats = 2,
	                               .now_mask = 1, /* the first instant is "now" */
	                               .auth_level = 2,
	                               .warn_days = -1};
	struct pcp_error err = {0};
	struct pcp_judge *j = pcp_judge_new(&cfg, &err);
	struct pcp_result *r;

	assert_non_null(j);
	/* [instant * n_stores + store]: old, new */
	r = record(j, "db.example.com", PCP_SSLMODE_VERIFY_FULL, PCP_STATUS_OK, f->chain_a);
	assert_true(r->verdicts[1].ok);
	record_free(r);
	assert_int_equal(pcp_judge_set_now(j, T(2026, 2, 1, 0, 0, 0), &err), 0);
	r = record(j, "db.example.com", PCP_SSLMODE_VERIFY_FULL, PCP_STATUS_OK, f->chain_a);
	assert_false(r->verdicts[1].ok);
	assert_int_equal(r->verdicts[1].code, X509_V_ERR_CERT_HAS_EXPIRED);
	assert_true(r->verdicts[3].ok);
	record_free(r);
	assert_int_equal(pcp_judge_set_now(j, T(2026, 1, 10, 0, 0, 0), &err), 0);
	r = record(j, "db.example.com", PCP_SSLMODE_VERIFY_FULL, PCP_STATUS_OK, f->chain_a);
	assert_true(r->verdicts[1].ok);
	record_free(r);
	pcp_judge_free(j);

	/* Without now_mask no instant moves. */
	j = judge_new(&f->unclassed, ats, 1, -1);
	assert_int_equal(pcp_judge_set_now(j, T(2026, 2, 1, 0, 0, 0), &err), 0);
	r = record(j, "db.example.com", PCP_SSLMODE_VERIFY_FULL, PCP_STATUS_OK, f->chain_a);
	assert_true(r->verdicts[1].ok);
	record_free(r);
	pcp_judge_free(j);
}

/* A certificate for key under issuer: a CA (eku as given) or, with ca false, a leaf. */
static X509 *issue(EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, bool ca_cert, const char *cn,
                   enum pcp_testpki_eku eku, enum pcp_testpki_digest digest, uint64_t serial)
{
	struct pcp_testpki_spec s = {.cn = cn,
	                             .serial = serial,
	                             .not_before = T(2020, 1, 1, 0, 0, 0),
	                             .not_after = T(2030, 1, 1, 0, 0, 0),
	                             .bc = ca_cert ? PCP_TESTPKI_BC_CA : PCP_TESTPKI_BC_LEAF,
	                             .key_usage = ca_cert ? PCP_TESTPKI_KU_KEY_CERT_SIGN
	                                                  : PCP_TESTPKI_KU_DIGITAL_SIGNATURE,
	                             .eku = eku,
	                             .dns = ca_cert ? NULL : db_name,
	                             .n_dns = ca_cert ? 0 : 1,
	                             .digest = digest};
	X509 *x = pcp_testpki_cert(&s, key, issuer, ikey);

	assert_non_null(x);
	return x;
}

/* A JKS cacerts holding the new root under alias, as a JDK's lib/security/cacerts. */
static const char *cacerts(struct fixture *f, const char *name, const char *alias)
{
	const struct pcp_testjava_entry e = {.alias = alias, .certs = &f->new_root, .n_certs = 1};
	size_t len = 0;
	unsigned char *jks = pcp_testjava_jks(&e, 1, "changeit", &len);
	const char *path;

	assert_non_null(jks);
	path = pcp_testjava_write(f->dir, name, jks, len);
	free(jks);
	assert_non_null(path);
	return strdup(path);
}

/* The drivers' own rules, chain by chain, under the new root (store "new") and a hashed
 * directory of it (store "dir"); the --future-chain verdicts per driver. */
static void test_driver_rules(void **state)
{
	struct fixture *f = *state;
	static const struct pcp_driver *const drivers[] = {&pcp_driver_pgjdbc, &pcp_driver_node,
	                                                   &pcp_driver_pgx};
	EVP_PKEY *k192 = EVP_EC_gen("P-192"), *k224 = EVP_EC_gen("P-224");
	X509 *i192 = issue(k192, f->new_root, f->k_new, true, "P-192 CA", PCP_TESTPKI_EKU_NONE,
	                   PCP_TESTPKI_SHA256, 10);
	X509 *i224 = issue(k224, f->new_root, f->k_new, true, "P-224 CA", PCP_TESTPKI_EKU_NONE,
	                   PCP_TESTPKI_SHA256, 11);
	X509 *icli = issue(f->k_int, f->new_root, f->k_new, true, "ClientAuth CA",
	                   PCP_TESTPKI_EKU_CLIENT, PCP_TESTPKI_SHA256, 12);
	X509 *l192 = issue(f->k_leaf, i192, k192, false, "db.example.com", PCP_TESTPKI_EKU_SERVER,
	                   PCP_TESTPKI_SHA256, 13);
	X509 *l224 = issue(f->k_leaf, i224, k224, false, "db.example.com", PCP_TESTPKI_EKU_SERVER,
	                   PCP_TESTPKI_SHA256, 14);
	X509 *lcli = issue(f->k_leaf, icli, f->k_int, false, "db.example.com",
	                   PCP_TESTPKI_EKU_SERVER, PCP_TESTPKI_SHA256, 15);
	X509 *lsha1 = issue(f->k_leaf, f->inter, f->k_int, false, "db.example.com",
	                    PCP_TESTPKI_EKU_SERVER, PCP_TESTPKI_SHA1, 16);
	struct pcp_chain *c192 = pcp_testpki_chain(l192, i192, NULL);
	struct pcp_chain *c224 = pcp_testpki_chain(l224, i224, NULL);
	struct pcp_chain *ccli = pcp_testpki_chain(lcli, icli, NULL);
	struct pcp_chain *csha1 = pcp_testpki_chain(lsha1, f->inter, NULL);
	struct pcp_store_list stores = {0};
	struct pcp_error err = {0};
	char dir[128], future[128];
	char *debian = (char *)cacerts(f, "cacerts-debian", "debian:new_root.pem");
	char *jdk = (char *)cacerts(f, "cacerts-jdk", "newroot [jdk]");
	time_t ats[] = {NOW};
	struct pcp_judge_config cfg = {.stores = &stores,
	                               .ats = ats,
	                               .n_ats = 1,
	                               .auth_level = 2,
	                               .warn_days = -1,
	                               .drivers = drivers,
	                               .n_drivers = 3,
	                               .java_cacerts = debian,
	                               .future_chain = future};
	struct pcp_judge *j;
	struct pcp_result *r;
	/* ok per [chain][driver: libpq, pgjdbc, node-postgres, pgx] under "new" */
	static const bool want[4][4] = {{false, false, true, false},
	                                {true, false, true, true},
	                                {false, true, false, false},
	                                {false, true, false, false}};
	const struct pcp_chain *chains[] = {c192, c224, ccli, csha1};

	assert_non_null(c192);
	assert_non_null(csha1);
	add_store(f, &stores, "new", &f->new_root, 1);
	snprintf(dir, sizeof dir, "%s/hashed", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(future, sizeof future, "%s/hashed/root.pem", f->dir);
	assert_int_equal(pcp_testpki_write_certs(future, &f->new_root, 1), 0);
	assert_int_equal(pcp_store_list_add(&stores, pcp_store_load("dir", dir, &err), &err),
	                 PCP_OK);
	snprintf(future, sizeof future, "%s/future.pem", f->dir);
	assert_int_equal(pcp_testpki_write_certs(future, (X509 *[]){l192, i192}, 2), 0);

	j = pcp_judge_new(&cfg, &err);
	assert_non_null(j);
	for (size_t c = 0; c < 4; c++) {
		r = record(j, "db.example.com", PCP_SSLMODE_VERIFY_FULL, PCP_STATUS_OK, chains[c]);
		assert_int_equal(r->n_drivers, 3);
		assert_int_equal(r->verdicts[0].ok, want[c][0]);
		for (size_t d = 0; d < 3; d++) {
			assert_int_equal(r->drivers[d].verdicts[0].ok, want[c][d + 1]);
			/* no driver but libpq reads a directory as its root file */
			assert_false(r->drivers[d].verdicts[1].ok);
			assert_int_equal(r->drivers[d].verdicts[1].code, PCP_VERDICT_ROOT_FILE);
		}
		if (c == 0) {
			assert_string_equal(r->drivers[0].verdicts[0].reason, "weak key (EC 192)");
			assert_string_equal(r->drivers[2].verdicts[0].reason,
			                    "unsupported curve (P-192)");
			assert_string_equal(r->drivers[1].verdicts[1].error,
			                    "EISDIR: illegal operation on a directory, read");
			/* the future chain (P-192 again), per driver */
			assert_int_equal(r->n_future_drivers, 3);
			for (size_t d = 0; d < 3; d++)
				assert_int_equal(r->future_drivers[d].verdicts[0].ok,
				                 want[0][d + 1]);
		}
		if (c == 1)
			assert_string_equal(r->drivers[0].verdicts[0].reason,
			                    "unsupported curve (P-224)");
		record_free(r);
	}
	pcp_judge_free(j);

	/* SHA-1 fails for pgJDBC under a root its JDK's cacerts labels "[jdk]". */
	cfg.java_cacerts = jdk;
	cfg.future_chain = NULL;
	j = pcp_judge_new(&cfg, &err);
	assert_non_null(j);
	r = record(j, "db.example.com", PCP_SSLMODE_VERIFY_FULL, PCP_STATUS_OK, csha1);
	assert_false(r->drivers[0].verdicts[0].ok);
	assert_string_equal(r->drivers[0].verdicts[0].reason, "weak signature (SHA-1)");
	record_free(r);
	pcp_judge_free(j);

	/* The audit of a JDBC URL (LibPQFactory, its own root file) follows the same rule,
	 * without --driver pgjdbc. */
	{
		char root[160], url[320];
		struct pcp_target *t = NULL;
		size_t n = 0;
		const struct pcp_judge_client *client = NULL;
		struct pcp_result *rc = calloc(1, sizeof *rc);

		snprintf(root, sizeof root, "%s/root.pem", f->dir);
		assert_int_equal(pcp_testpki_write_certs(root, &f->new_root, 1), 0);
		snprintf(url, sizeof url,
		         "jdbc:postgresql://db.example.com/app?sslmode=verify-full&sslrootcert=%s",
		         root);
		assert_int_equal(pcp_target_expand(url, NULL, &t, &n, &err), PCP_OK);
		cfg.n_drivers = 0;
		j = pcp_judge_new(&cfg, &err);
		assert_non_null(j);
		assert_int_equal(pcp_judge_client_for(j, &t[0], &client, &err), 0);
		assert_non_null(client);
		assert_non_null(rc);
		rc->target = strdup(t[0].text);
		rc->host = strdup("db.example.com");
		rc->sslmode = PCP_SSLMODE_VERIFY_FULL;
		rc->status = PCP_STATUS_OK;
		assert_int_equal(pcp_judge_record(j, rc, &t[0], client, csha1, &err), 0);
		assert_non_null(rc->client);
		assert_string_equal(rc->client->driver, "pgjdbc");
		assert_false(rc->client->now.connects);
		record_free(rc);
		pcp_judge_free(j);
		pcp_target_cleanup(&t[0]);
		free(t);
		cfg.n_drivers = 3;
	}

	/* A --java-cacerts that does not load is a configuration error. */
	cfg.java_cacerts = "/nonexistent/cacerts";
	assert_null(pcp_judge_new(&cfg, &err));
	assert_int_equal(err.code, PCP_ERR_CONFIG);

	pcp_store_list_cleanup(&stores);
	free(debian);
	free(jdk);
	for (size_t c = 0; c < 4; c++)
		pcp_chain_free((struct pcp_chain *)chains[c]);
	X509_free(i192);
	X509_free(i224);
	X509_free(icli);
	X509_free(l192);
	X509_free(l224);
	X509_free(lcli);
	X509_free(lsha1);
	EVP_PKEY_free(k192);
	EVP_PKEY_free(k224);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_verdicts_and_class),
	        cmocka_unit_test(test_name_check_per_record),
	        cmocka_unit_test(test_no_class_without_class_stores),
	        cmocka_unit_test(test_warn_days),
	        cmocka_unit_test(test_divergence),
	        cmocka_unit_test(test_invalid_target_and_client),
	        cmocka_unit_test(test_now_moves),
	        cmocka_unit_test(test_driver_rules),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
