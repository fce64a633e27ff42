/* Unit tests of the report writers: the JSON Lines writer's output parsed back with jansson
 * (every key, its type and value, key order, hostile bytes, client audit, divergence, future
 * chain, several instants, class, anchors, expiry, changes), the text table (columns per
 * store and instant, widths, ✓/✗ cells, reasons in plain words, --explain commands with
 * hostile quoting, colour, sanitisation, streaming after the buffered rows) and the summary
 * shared with --format summary (counts, classes, anchors, sentences, clients, changes). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reason.h"
#include "report.h"
#include "summary.h"
#include "text.h"
#include "testrecords.h"
#include "testutil.h"

static const char *const store_names[] = {"baltimore", "digicert-g2", "combined"};

static void make_cert(struct pcp_cert_facts *f, const char *subject, const char *issuer, char hex,
                      const char *const *san, size_t n_san, const char *key)
{
	memset(f, 0, sizeof *f);
	f->subject = pcp_test_strdup(subject);
	f->issuer = pcp_test_strdup(issuer);
	f->serial = pcp_test_strdup("01AB");
	f->not_before = 1600000000; /* 2020-09-13T12:26:40Z */
	f->not_after = 1700000000;  /* 2023-11-14T22:13:20Z */
	pcp_test_fill_hex(f->sha256, hex);
	if (n_san) {
		f->san = calloc(n_san, sizeof *f->san);
		assert_non_null(f->san);
		for (size_t i = 0; i < n_san; i++)
			f->san[i] = pcp_test_strdup(san[i]);
		f->n_san = n_san;
	}
	f->key = pcp_test_strdup(key);
	f->sig_alg = pcp_test_strdup("sha256WithRSAEncryption");
}

static void make_verdict(struct pcp_verdict *v, bool ok, int code, int depth, const char *error,
                         const char *reason, const char *path_hex, time_t path_not_after)
{
	memset(v, 0, sizeof *v);
	v->ok = ok;
	v->code = code;
	v->depth = depth;
	pcp_test_set_str(v->error, sizeof v->error, error);
	pcp_test_set_str(v->reason, sizeof v->reason, reason);
	v->path_len = strlen(path_hex);
	if (v->path_len) {
		v->path = calloc(v->path_len, sizeof *v->path);
		assert_non_null(v->path);
		for (size_t i = 0; i < v->path_len; i++)
			pcp_test_fill_hex(v->path[i], path_hex[i]);
	}
	v->path_not_after = path_not_after;
}

#define BALTIMORE_DN "CN=Baltimore CyberTrust Root,OU=CyberTrust,O=Baltimore,C=IE"
#define G2_DN        "CN=DigiCert Global Root G2,OU=www.digicert.com,O=DigiCert Inc,C=US"

/* Three verdicts given as reasons ("" when ok) over a served leaf for other.example.com:
 * "root expired …" fails at the Baltimore root from the store, "unknown issuer" at the
 * leaf, anything else is a name mismatch. Verifying paths end at Baltimore under the first
 * store and at G2 under the others. */
static void make_ok(struct pcp_result *r, const char *target, const char *host, const char *addr,
                    uint16_t port, const char *reasons[3])
{
	static const char *const san[] = {"DNS:other.example.com"};

	pcp_test_record(r, target, host, addr, port, PCP_STATUS_OK, "");
	pcp_test_set_str(r->tls_version, sizeof r->tls_version, "TLSv1.3");
	pcp_test_set_str(r->tls_cipher, sizeof r->tls_cipher, "TLS_AES_256_GCM_SHA384");
	r->chain = calloc(1, sizeof *r->chain);
	assert_non_null(r->chain);
	r->chain_len = 1;
	make_cert(&r->chain[0], "CN=other.example.com", "CN=Acme Intermediate,O=Acme", 'a', san, 1,
	          "RSA 2048");
	r->verdicts = calloc(3, sizeof *r->verdicts);
	assert_non_null(r->verdicts);
	r->n_verdicts = 3;
	for (size_t i = 0; i < 3; i++) {
		struct pcp_verdict *v = &r->verdicts[i];
		const char *why = reasons[i];

		if (why[0] == '\0') {
			make_verdict(v, true, 0, -1, "", "", "ab", 1747094340);
			v->anchor = pcp_test_strdup(i == 0 ? BALTIMORE_DN : G2_DN);
		} else if (strncmp(why, "root expired", 12) == 0) {
			make_verdict(v, false, 10, 1,
			             "certificate verify failed: certificate has expired", why,
			             "ab", 1747094340);
			v->anchor = pcp_test_strdup(BALTIMORE_DN);
		} else if (strcmp(why, "unknown issuer") == 0) {
			make_verdict(
			        v, false, 20, 0,
			        "certificate verify failed: unable to get local issuer certificate",
			        why, "a", 1700000000);
			v->anchor = pcp_test_strdup("CN=other.example.com");
		} else {
			make_verdict(v, false, PCP_VERDICT_NAME_MISMATCH, 0,
			             "server certificate does not match host name", why, "ab",
			             1700000000);
			v->anchor = pcp_test_strdup(G2_DN);
		}
	}
}

/* The full ok record of the JSON tests: two certificates, three different verdicts. */
static void make_json_ok(struct pcp_result *r)
{
	static const char *const san[] = {"DNS:db1.example.com", "IP:10.0.0.1"};

	pcp_test_record(r, "db1.example.com", "db1.example.com", "10.0.0.1", 5432, PCP_STATUS_OK,
	                "");
	pcp_test_set_str(r->tls_version, sizeof r->tls_version, "TLSv1.3");
	pcp_test_set_str(r->tls_cipher, sizeof r->tls_cipher, "TLS_AES_256_GCM_SHA384");
	r->chain = calloc(2, sizeof *r->chain);
	assert_non_null(r->chain);
	r->chain_len = 2;
	make_cert(&r->chain[0], "CN=db1.example.com", "CN=Acme Intermediate", 'a', san, 2,
	          "RSA 2048");
	make_cert(&r->chain[1], "CN=Acme Intermediate", "CN=Baltimore CyberTrust Root", 'b', NULL,
	          0, "EC P-256");
	r->verdicts = calloc(3, sizeof *r->verdicts);
	assert_non_null(r->verdicts);
	r->n_verdicts = 3;
	make_verdict(&r->verdicts[0], true, 0, -1, "", "", "abc", 1747094340);
	make_verdict(&r->verdicts[1], false, 20, 1, "unable to get local issuer certificate",
	             "unknown issuer", "ab", 0);
	make_verdict(&r->verdicts[2], true, 0, -1, "", "", "abd", 1700000000);
}

/* An audited client: its fate now, and after the switch when after is non-NULL. */
static struct pcp_client *make_client(enum pcp_libpq_sslmode mode, const char *rootcert,
                                      bool exists, size_t n_roots, bool connects, bool encrypted,
                                      const char *error, const struct pcp_client_verdict *after)
{
	static const char *const subjects[] = {"CN=Baltimore CyberTrust Root,OU=CyberTrust",
	                                       "CN=DigiCert Global Root G2", "CN=Acme Root"};
	static const char *const known[] = {"Baltimore CyberTrust Root", "DigiCert Global Root G2",
	                                    NULL};
	struct pcp_client *c = calloc(1, sizeof *c);

	assert_non_null(c);
	assert_true(n_roots <= 3);
	c->sslmode = mode;
	c->rootcert = rootcert ? pcp_test_strdup(rootcert) : NULL;
	c->rootcert_exists = exists;
	c->verifies = mode >= PCP_LIBPQ_VERIFY_CA || exists;
	if (n_roots) {
		c->roots = calloc(n_roots, sizeof *c->roots);
		assert_non_null(c->roots);
		for (size_t i = 0; i < n_roots; i++) {
			c->roots[i].subject = pcp_test_strdup(subjects[i]);
			pcp_test_fill_hex(c->roots[i].sha256, (char)('1' + i));
			c->roots[i].known = known[i];
		}
		c->n_roots = n_roots;
	}
	c->now.connects = connects;
	c->now.encrypted = encrypted;
	pcp_test_set_str(c->now.error, sizeof c->now.error, error);
	if (after) {
		c->has_after = true;
		c->after = *after;
	}
	return c;
}

static struct pcp_client_verdict client_verdict(bool connects, bool encrypted, const char *error)
{
	struct pcp_client_verdict v = {.connects = connects, .encrypted = encrypted};

	pcp_test_set_str(v.error, sizeof v.error, error);
	return v;
}

/* The future chain's three verdicts, given as reasons ("" when ok). */
static void make_future(struct pcp_result *r, const char *reasons[3])
{
	r->future = calloc(3, sizeof *r->future);
	assert_non_null(r->future);
	r->n_future = 3;
	for (size_t i = 0; i < 3; i++) {
		bool ok = reasons[i][0] == '\0';
		make_verdict(&r->future[i], ok, ok ? 0 : 20, ok ? -1 : 1,
		             ok ? "" : "unable to get local issuer certificate", reasons[i],
		             ok ? "fe" : "f", ok ? 1900000000 : 0);
	}
}

/* ---- shared part ---- */

static void test_format_parse(void **state)
{
	enum pcp_format f = PCP_FORMAT_JSON;

	(void)state;
	assert_int_equal(pcp_format_parse("text", &f), 0);
	assert_int_equal(f, PCP_FORMAT_TEXT);
	assert_int_equal(pcp_format_parse("json", &f), 0);
	assert_int_equal(f, PCP_FORMAT_JSON);
	assert_int_equal(pcp_format_parse("summary", &f), 0);
	assert_int_equal(f, PCP_FORMAT_SUMMARY);
	f = PCP_FORMAT_JSON;
	assert_int_equal(pcp_format_parse("xml", &f), -1);
	assert_int_equal(pcp_format_parse("", &f), -1);
	assert_int_equal(pcp_format_parse("json ", &f), -1);
	assert_int_equal(pcp_format_parse(NULL, &f), -1);
	assert_int_equal(f, PCP_FORMAT_JSON);
}

static void test_status_short(void **state)
{
	(void)state;
	assert_string_equal(pcp_status_short(PCP_STATUS_NO_SSL), "no SSL");
	assert_string_equal(pcp_status_short(PCP_STATUS_REFUSED), "refused");
	assert_string_equal(pcp_status_short(PCP_STATUS_TIMEOUT), "timeout");
	assert_string_equal(pcp_status_short(PCP_STATUS_DNS_FAILED), "DNS failed");
	assert_string_equal(pcp_status_short(PCP_STATUS_TLS_FAILED), "TLS failed");
	assert_string_equal(pcp_status_short(PCP_STATUS_PROTOCOL_ERROR), "protocol error");
	assert_string_equal(pcp_status_short(PCP_STATUS_CANCELLED), "cancelled");
	assert_string_equal(pcp_status_short(PCP_STATUS_INVALID_TARGET), "invalid target");
}

static void test_writer_new_free(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);
	struct pcp_test_capture c;

	(void)state;
	pcp_test_capture_open(&c);
	struct pcp_writer *t = pcp_writer_new(PCP_FORMAT_TEXT, c.f, &info);
	struct pcp_writer *j = pcp_writer_new(PCP_FORMAT_JSON, c.f, &info);
	assert_non_null(t);
	assert_non_null(j);
	assert_ptr_not_equal(t->ops, j->ops);
	assert_ptr_equal(t->out, c.f);
	assert_ptr_equal(j->info, &info);
	pcp_writer_free(t);
	pcp_writer_free(j);
	pcp_writer_free(NULL);
	free(pcp_test_capture_close(&c));
}

/* ---- JSON writer ---- */

static json_t *load_line(const char *line, size_t len)
{
	json_error_t err;
	json_t *v = json_loadb(line, len, 0, &err);

	if (!v)
		fail_msg("not JSON (%s): %.*s", err.text, (int)len, line);
	assert_true(json_is_object(v));
	return v;
}

/* Splits out into lines, each of which must be one JSON object. */
static size_t load_lines(const char *out, json_t **objs, size_t max)
{
	size_t n = 0;
	const char *p = out;

	while (*p) {
		const char *nl = strchr(p, '\n');
		assert_non_null(nl); /* every record ends its line */
		assert_true(n < max);
		objs[n++] = load_line(p, (size_t)(nl - p));
		p = nl + 1;
	}
	return n;
}

static void assert_keys(json_t *obj, const char *const *keys, size_t n)
{
	void *it = json_object_iter(obj);

	for (size_t i = 0; i < n; i++) {
		assert_non_null(it);
		assert_string_equal(json_object_iter_key(it), keys[i]);
		it = json_object_iter_next(obj, it);
	}
	assert_null(it);
}

static void assert_str(json_t *obj, const char *key, const char *want)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		fail_msg("%s is not a string", key);
	assert_string_equal(json_string_value(v), want);
}

static void assert_null_member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	assert_non_null(v); /* present */
	assert_true(json_is_null(v));
}

static void assert_bool(json_t *obj, const char *key, bool want)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_boolean(v))
		fail_msg("%s is not a boolean", key);
	assert_int_equal(json_is_true(v), want);
}

static void assert_path(json_t *v, const char *hex)
{
	json_t *path = json_object_get(v, "path");

	assert_true(json_is_array(path));
	assert_int_equal(json_array_size(path), strlen(hex));
	for (size_t i = 0; i < strlen(hex); i++) {
		char want[PCP_SHA256_HEX];
		pcp_test_fill_hex(want, hex[i]);
		assert_true(json_is_string(json_array_get(path, i)));
		assert_string_equal(json_string_value(json_array_get(path, i)), want);
	}
}

static const char *const record_keys[] = {
        "target", "host",  "addr",        "port",  "sslmode",    "status",
        "error",  "tls",   "negotiation", "alpn",  "direct_tls", "direct_tls_from",
        "timing", "chain", "verify",      "class", "anchor",     "divergent",
        "at",     "at_now"};
static const char *const cert_keys[] = {"subject", "issuer", "serial", "not_before", "not_after",
                                        "sha256",  "san",    "key",    "sig_alg"};
static const char *const verdict_keys[] = {"ok",     "error", "code",           "depth",
                                           "reason", "path",  "path_not_after", "anchor"};

static void test_json_ok_record(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);
	struct pcp_result r;
	json_t *objs[2];
	char want[PCP_SHA256_HEX];

	(void)state;
	make_json_ok(&r);
	char *out = pcp_test_run_writer(PCP_FORMAT_JSON, &info, &r, 1, NULL);
	assert_int_equal(load_lines(out, objs, 2), 1);
	json_t *o = objs[0];

	assert_keys(o, record_keys, sizeof record_keys / sizeof *record_keys);
	assert_str(o, "target", "db1.example.com");
	assert_str(o, "host", "db1.example.com");
	assert_str(o, "addr", "10.0.0.1");
	assert_true(json_is_integer(json_object_get(o, "port")));
	assert_int_equal(json_integer_value(json_object_get(o, "port")), 5432);
	assert_str(o, "sslmode", "verify-full");
	assert_str(o, "status", "ok");
	assert_null_member(o, "error");
	assert_bool(o, "divergent", false); /* always present */
	assert_str(o, "at", "2021-02-15T00:00:00Z");

	json_t *tls = json_object_get(o, "tls");
	assert_true(json_is_object(tls));
	assert_int_equal(json_object_size(tls), 2);
	assert_str(tls, "version", "TLSv1.3");
	assert_str(tls, "cipher", "TLS_AES_256_GCM_SHA384");

	json_t *timing = json_object_get(o, "timing");
	assert_true(json_is_object(timing));
	assert_int_equal(json_object_size(timing), 2);
	assert_true(json_is_number(json_object_get(timing, "connect_ms")));
	assert_true(json_number_value(json_object_get(timing, "connect_ms")) == 1.5);
	assert_true(json_number_value(json_object_get(timing, "total_ms")) == 12.25);

	json_t *chain = json_object_get(o, "chain");
	assert_true(json_is_array(chain));
	assert_int_equal(json_array_size(chain), 2);
	json_t *leaf = json_array_get(chain, 0), *inter = json_array_get(chain, 1);
	assert_keys(leaf, cert_keys, sizeof cert_keys / sizeof *cert_keys);
	assert_keys(inter, cert_keys, sizeof cert_keys / sizeof *cert_keys);
	assert_str(leaf, "subject", "CN=db1.example.com");
	assert_str(leaf, "issuer", "CN=Acme Intermediate");
	assert_str(leaf, "serial", "01AB");
	assert_str(leaf, "not_before", "2020-09-13T12:26:40Z");
	assert_str(leaf, "not_after", "2023-11-14T22:13:20Z");
	pcp_test_fill_hex(want, 'a');
	assert_str(leaf, "sha256", want);
	json_t *san = json_object_get(leaf, "san");
	assert_true(json_is_array(san));
	assert_int_equal(json_array_size(san), 2);
	assert_string_equal(json_string_value(json_array_get(san, 0)), "DNS:db1.example.com");
	assert_string_equal(json_string_value(json_array_get(san, 1)), "IP:10.0.0.1");
	assert_str(leaf, "key", "RSA 2048");
	assert_str(leaf, "sig_alg", "sha256WithRSAEncryption");
	assert_str(inter, "subject", "CN=Acme Intermediate");
	assert_str(inter, "issuer", "CN=Baltimore CyberTrust Root");
	pcp_test_fill_hex(want, 'b');
	assert_str(inter, "sha256", want);
	assert_true(json_is_array(json_object_get(inter, "san")));
	assert_int_equal(json_array_size(json_object_get(inter, "san")), 0);
	assert_str(inter, "key", "EC P-256");

	json_t *verify = json_object_get(o, "verify");
	assert_true(json_is_object(verify));
	assert_keys(verify, store_names, 3); /* one per store, in the run's order */
	json_t *v0 = json_object_get(verify, "baltimore");
	json_t *v1 = json_object_get(verify, "digicert-g2");
	json_t *v2 = json_object_get(verify, "combined");
	assert_keys(v0, verdict_keys, sizeof verdict_keys / sizeof *verdict_keys);
	assert_keys(v1, verdict_keys, sizeof verdict_keys / sizeof *verdict_keys);
	assert_true(json_is_true(json_object_get(v0, "ok")));
	assert_null_member(v0, "error");
	assert_true(json_is_integer(json_object_get(v0, "code")));
	assert_int_equal(json_integer_value(json_object_get(v0, "code")), 0);
	assert_int_equal(json_integer_value(json_object_get(v0, "depth")), -1);
	assert_null_member(v0, "reason");
	assert_path(v0, "abc");
	assert_str(v0, "path_not_after", "2025-05-12T23:59:00Z");

	assert_true(json_is_false(json_object_get(v1, "ok")));
	assert_str(v1, "error", "unable to get local issuer certificate");
	assert_int_equal(json_integer_value(json_object_get(v1, "code")), 20);
	assert_int_equal(json_integer_value(json_object_get(v1, "depth")), 1);
	assert_str(v1, "reason", "unknown issuer");
	assert_path(v1, "ab");
	assert_null_member(v1, "path_not_after");

	assert_true(json_is_true(json_object_get(v2, "ok")));
	assert_path(v2, "abd");
	assert_str(v2, "path_not_after", "2023-11-14T22:13:20Z");

	json_decref(o);
	free(out);
	pcp_result_cleanup(&r);
}

static void test_json_failed_records(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);
	struct pcp_result r[3];
	json_t *objs[4];

	(void)state;
	pcp_test_record(&r[0], "db2.example.com:6432", "db2.example.com", "10.0.0.2", 6432,
	                PCP_STATUS_NO_SSL, "server does not support SSL, but SSL was required");
	pcp_test_record(&r[1], "nxdomain.invalid", "nxdomain.invalid", "", 5432,
	                PCP_STATUS_DNS_FAILED,
	                "could not translate host name \"nxdomain.invalid\"");
	pcp_test_record(&r[2], "hostaddr=10.0.0.3", NULL, "10.0.0.3", 5432, PCP_STATUS_TIMEOUT, "");
	r[2].sslmode = PCP_SSLMODE_VERIFY_CA;
	r[0].direct_tls = PCP_DIRECT_REFUSED;
	r[0].direct_basis = PCP_DIRECT_BY_NO_SSL;
	r[2].negotiation = PCP_NEGOTIATION_DIRECT;
	pcp_test_set_str(r[2].alpn, sizeof r[2].alpn, "postgresql");
	r[2].direct_tls = PCP_DIRECT_ACCEPTED;
	r[2].direct_basis = PCP_DIRECT_BY_HANDSHAKE;

	char *out = pcp_test_run_writer(PCP_FORMAT_JSON, &info, r, 3, NULL);
	assert_int_equal(load_lines(out, objs, 4), 3);

	json_t *o = objs[0];
	assert_keys(o, record_keys, sizeof record_keys / sizeof *record_keys);
	assert_str(o, "target", "db2.example.com:6432");
	assert_str(o, "status", "no_ssl");
	assert_str(o, "error", "server does not support SSL, but SSL was required");
	assert_int_equal(json_integer_value(json_object_get(o, "port")), 6432);
	assert_null_member(o, "tls");
	assert_true(json_is_array(json_object_get(o, "chain")));
	assert_int_equal(json_array_size(json_object_get(o, "chain")), 0);
	assert_true(json_is_object(json_object_get(o, "verify")));
	assert_int_equal(json_object_size(json_object_get(o, "verify")), 0);
	assert_true(json_number_value(
	                    json_object_get(json_object_get(o, "timing"), "connect_ms")) == 1.5);
	assert_str(o, "at", "2021-02-15T00:00:00Z");

	assert_str(o, "negotiation", "postgres");
	assert_null_member(o, "alpn");
	assert_str(o, "direct_tls", "refused"); /* an N: no TLS at all */
	assert_str(o, "direct_tls_from", "no_ssl");

	o = objs[1];
	assert_keys(o, record_keys, sizeof record_keys / sizeof *record_keys);
	assert_str(o, "status", "dns_failed");
	assert_null_member(o, "addr"); /* no address was reached */
	assert_str(o, "error", "could not translate host name \"nxdomain.invalid\"");
	assert_null_member(json_object_get(o, "timing"), "connect_ms");
	assert_true(json_number_value(json_object_get(json_object_get(o, "timing"), "total_ms")) ==
	            12.25);

	o = objs[2];
	assert_null_member(o, "host");
	assert_str(o, "addr", "10.0.0.3");
	assert_str(o, "negotiation", "direct");
	assert_str(o, "alpn", "postgresql");
	assert_str(o, "direct_tls", "accepted");
	assert_str(o, "direct_tls_from", "direct");
	assert_str(o, "sslmode", "verify-ca");
	assert_str(o, "status", "timeout");
	assert_str(o, "error", "timeout"); /* text even when the probe left none */

	for (size_t i = 0; i < 3; i++) {
		json_decref(objs[i]);
		pcp_result_cleanup(&r[i]);
	}
	free(out);
}

static void test_json_hostile_bytes(void **state)
{
	static const char *const store_weird[] = {"we\"ird\n", "b"};
	static const char *const san[] = {"DNS:a\001b", "DNS:\xed\xa0\x80", "DNS:x\"}],{\"y"};
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);
	struct pcp_result r;
	json_t *objs[2];

	(void)state;
	info.store_names = store_weird;
	info.n_stores = 2;
	pcp_test_record(&r, "evil\r\n{\"x\":1}", "h\xff\\st", "10.0.0.4", 5432, PCP_STATUS_OK, "");
	pcp_test_set_str(r.tls_version, sizeof r.tls_version, "TLSv1.2");
	r.chain = calloc(1, sizeof *r.chain);
	assert_non_null(r.chain);
	r.chain_len = 1;
	make_cert(&r.chain[0],
	          "CN=evil\"\\\n\x1b[2J\xff\xc0\xaf"
	          "end",
	          "O=\xe2\x80\xa8", 'c', san, 3, "RSA 1024");
	r.verdicts = calloc(2, sizeof *r.verdicts);
	assert_non_null(r.verdicts);
	r.n_verdicts = 2;
	make_verdict(&r.verdicts[0], false, 1000, 0,
	             "server certificate for \"\x1b]0;x\x07\" does not match", "name mismatch", "c",
	             0);
	make_verdict(&r.verdicts[1], true, 0, -1, "", "", "c", 1700000000);

	char *out = pcp_test_run_writer(PCP_FORMAT_JSON, &info, &r, 1, NULL);
	/* One line, only printable ASCII and valid UTF-8: raw controls never leave. */
	for (const char *p = out; *p; p++)
		if (*p != '\n')
			assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
	assert_int_equal(load_lines(out, objs, 2), 1);
	json_t *o = objs[0];

	assert_str(o, "target", "evil\r\n{\"x\":1}");
	assert_str(o, "host", "h\xef\xbf\xbd\\st");
	json_t *tls = json_object_get(o, "tls");
	assert_str(tls, "version", "TLSv1.2");
	assert_null_member(tls, "cipher");
	json_t *leaf = json_array_get(json_object_get(o, "chain"), 0);
	assert_str(leaf, "subject",
	           "CN=evil\"\\\n\x1b[2J\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	           "end");
	assert_str(leaf, "issuer", "O=\xe2\x80\xa8");
	json_t *sans = json_object_get(leaf, "san");
	assert_int_equal(json_array_size(sans), 3);
	assert_string_equal(json_string_value(json_array_get(sans, 0)), "DNS:a\x01"
	                                                                "b");
	assert_string_equal(json_string_value(json_array_get(sans, 1)),
	                    "DNS:\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(json_string_value(json_array_get(sans, 2)), "DNS:x\"}],{\"y");
	json_t *verify = json_object_get(o, "verify");
	assert_keys(verify, store_weird, 2);
	json_t *v0 = json_object_get(verify, "we\"ird\n");
	assert_str(v0, "error", "server certificate for \"\x1b]0;x\x07\" does not match");
	assert_int_equal(json_integer_value(json_object_get(v0, "code")), 1000);

	json_decref(o);
	free(out);
	pcp_result_cleanup(&r);
}

static const char *const client_keys[] = {
        "driver",   "libpq_version", "sslnegotiation", "sslmode",   "rootcert", "rootcert_exists",
        "verifies", "roots",         "connects",       "encrypted", "error",    "after"};
static const char *const root_keys[] = {"subject", "sha256", "known", "kind"};
static const char *const after_keys[] = {"connects", "encrypted", "error"};

/* A pgJDBC client with DefaultJavaSSLFactory: no libpq keys, the JVM truststore that
 * answered; and --future-chain verdicts per driver beside "future". */
static void test_json_java_client_future_drivers(void **state)
{
	static const char *const java_client_keys[] = {
	        "driver",   "sslfactory", "sslmode",  "rootcert",  "truststore", "rootcert_exists",
	        "verifies", "roots",      "connects", "encrypted", "error"};
	static const char *const truststore_keys[] = {"source", "path",     "store",
	                                              "kind",   "modified", "anchors"};
	static const char *const drivers[] = {"pgjdbc", NULL};
	const char *future_reasons[3] = {"unknown issuer", "", ""};
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);
	struct pcp_result r;
	json_t *objs[2];

	(void)state;
	info.driver_names = drivers;
	info.n_drivers = 1;
	make_json_ok(&r);
	r.client = make_client(PCP_LIBPQ_VERIFY_FULL, NULL, true, 0, true, true, "", NULL);
	r.client->driver = "pgjdbc";
	r.client->factory = "DefaultJavaSSLFactory";
	r.client->libpq_version = 15;
	r.client->truststore_source = "jdk-cacerts";
	r.client->truststore = pcp_test_strdup("/etc/ssl/certs/java/cacerts");
	r.client->truststore_kind = "jks";
	r.client->truststore_modified = 1750723200; /* 2025-06-24 */
	r.client->truststore_anchors = 144;
	make_future(&r, future_reasons);
	r.future_drivers = calloc(1, sizeof *r.future_drivers);
	assert_non_null(r.future_drivers);
	r.n_future_drivers = 1;
	r.future_drivers[0].driver = "pgjdbc";
	r.future_drivers[0].verdicts = calloc(3, sizeof *r.future_drivers[0].verdicts);
	assert_non_null(r.future_drivers[0].verdicts);
	r.future_drivers[0].n_verdicts = 3;
	for (size_t i = 0; i < 3; i++)
		make_verdict(&r.future_drivers[0].verdicts[i], i > 0, i ? 0 : 20, i ? -1 : 1,
		             i ? "" : "unable to get local issuer certificate",
		             i ? "" : "unknown issuer", "fe", i ? 1900000000 : 0);

	char *out = pcp_test_run_writer(PCP_FORMAT_JSON, &info, &r, 1, NULL);
	assert_int_equal(load_lines(out, objs, 2), 1);
	json_t *c = json_object_get(objs[0], "client");
	assert_keys(c, java_client_keys, sizeof java_client_keys / sizeof *java_client_keys);
	assert_str(c, "driver", "pgjdbc");
	assert_null_member(c, "rootcert");
	json_t *ts = json_object_get(c, "truststore");
	assert_keys(ts, truststore_keys, sizeof truststore_keys / sizeof *truststore_keys);
	assert_str(ts, "source", "jdk-cacerts");
	assert_str(ts, "path", "/etc/ssl/certs/java/cacerts");
	assert_null_member(ts, "store");
	assert_str(ts, "kind", "jks");
	assert_str(ts, "modified", "2025-06-24T00:00:00Z");
	assert_int_equal(json_integer_value(json_object_get(ts, "anchors")), 144);
	/* "future" stays libpq's; "future_drivers" follows "drivers". */
	json_t *fd = json_object_get(objs[0], "future_drivers");
	assert_keys(fd, drivers, 1);
	json_t *fj = json_object_get(fd, "pgjdbc");
	assert_keys(fj, store_names, 3);
	assert_bool(json_object_get(fj, "baltimore"), "ok", false);
	assert_bool(json_object_get(fj, "digicert-g2"), "ok", true);
	assert_str(json_object_get(fj, "digicert-g2"), "factory", "LibPQFactory");
	assert_bool(json_object_get(json_object_get(objs[0], "future"), "baltimore"), "ok", false);

	json_decref(objs[0]);
	free(out);
	pcp_result_cleanup(&r);
}

/* "client", "future" and "divergent": each key, its type and value, and where it sits. */
static void test_json_client_divergent_future(void **state)
{
	static const char *const keys_full[] = {
	        "target", "host",   "addr",        "port",  "sslmode",    "status",
	        "error",  "tls",    "negotiation", "alpn",  "direct_tls", "direct_tls_from",
	        "timing", "chain",  "verify",      "class", "anchor",     "divergent",
	        "client", "future", "at",          "at_now"};
	static const char *const keys_client[] = {
	        "target", "host",  "addr",        "port",  "sslmode",    "status",
	        "error",  "tls",   "negotiation", "alpn",  "direct_tls", "direct_tls_from",
	        "timing", "chain", "verify",      "class", "anchor",     "divergent",
	        "client", "at",    "at_now"};
	static const char *const keys_future[] = {
	        "target", "host",  "addr",        "port",  "sslmode",    "status",
	        "error",  "tls",   "negotiation", "alpn",  "direct_tls", "direct_tls_from",
	        "timing", "chain", "verify",      "class", "anchor",     "divergent",
	        "future", "at",    "at_now"};
	const char *future_reasons[3] = {"unknown issuer", "", ""};
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);
	struct pcp_result r[4];
	json_t *objs[5];
	char want[PCP_SHA256_HEX];

	(void)state;
	/* 0: divergent, a verify-full client that breaks after the switch, future verdicts. */
	make_json_ok(&r[0]);
	r[0].divergent = true;
	struct pcp_client_verdict after =
	        client_verdict(false, false,
	                       "certificate verify failed: unable to get local "
	                       "issuer certificate");
	r[0].client = make_client(PCP_LIBPQ_VERIFY_FULL, "/etc/ssl/azure.pem", true, 2, true, true,
	                          "", &after);
	make_future(&r[0], future_reasons);
	/* 1: not probed, a prefer client without a root file, no --future-chain. */
	pcp_test_record(&r[1], "host=db2 port=5433", "db2", "10.0.0.2", 5433, PCP_STATUS_REFUSED,
	                "connection refused");
	r[1].client = make_client(PCP_LIBPQ_PREFER, NULL, false, 0, false, false,
	                          "connection refused", NULL);
	/* 2: a plain host:port target with future verdicts only. */
	make_json_ok(&r[2]);
	make_future(&r[2], future_reasons);
	/* 3: hostile bytes in the client's fields; a require client that connects after. */
	pcp_test_record(&r[3], "sslrootcert=x", "db4", "10.0.0.4", 5432, PCP_STATUS_OK, "");
	struct pcp_client_verdict after3 = client_verdict(true, true, "");
	r[3].client = make_client(PCP_LIBPQ_REQUIRE, "/tmp/\x1b[2Jroot\xff.crt", true, 3, false,
	                          false, "bad\x01\"}\xff", &after3);

	char *out = pcp_test_run_writer(PCP_FORMAT_JSON, &info, r, 4, NULL);
	for (const char *p = out; *p; p++)
		if (*p != '\n')
			assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
	assert_int_equal(load_lines(out, objs, 5), 4);

	json_t *o = objs[0];
	assert_keys(o, keys_full, sizeof keys_full / sizeof *keys_full);
	assert_bool(o, "divergent", true);
	json_t *c = json_object_get(o, "client");
	assert_true(json_is_object(c));
	assert_keys(c, client_keys, sizeof client_keys / sizeof *client_keys);
	assert_str(c, "sslmode", "verify-full");
	assert_str(c, "rootcert", "/etc/ssl/azure.pem");
	assert_bool(c, "rootcert_exists", true);
	assert_bool(c, "verifies", true);
	json_t *roots = json_object_get(c, "roots");
	assert_true(json_is_array(roots));
	assert_int_equal(json_array_size(roots), 2);
	json_t *root0 = json_array_get(roots, 0), *root1 = json_array_get(roots, 1);
	assert_keys(root0, root_keys, 4);
	assert_keys(root1, root_keys, 4);
	assert_str(root0, "subject", "CN=Baltimore CyberTrust Root,OU=CyberTrust");
	pcp_test_fill_hex(want, '1');
	assert_str(root0, "sha256", want);
	assert_str(root0, "known", "Baltimore CyberTrust Root");
	assert_str(root1, "subject", "CN=DigiCert Global Root G2");
	pcp_test_fill_hex(want, '2');
	assert_str(root1, "sha256", want);
	assert_str(root1, "known", "DigiCert Global Root G2");
	assert_bool(c, "connects", true);
	assert_bool(c, "encrypted", true);
	assert_null_member(c, "error"); /* "" is null */
	json_t *a = json_object_get(c, "after");
	assert_true(json_is_object(a));
	assert_keys(a, after_keys, 3);
	assert_bool(a, "connects", false);
	assert_bool(a, "encrypted", false);
	assert_str(a, "error", "certificate verify failed: unable to get local issuer certificate");

	json_t *future = json_object_get(o, "future");
	assert_true(json_is_object(future));
	assert_keys(future, store_names, 3); /* one per store, in the run's order */
	json_t *f0 = json_object_get(future, "baltimore");
	json_t *f1 = json_object_get(future, "digicert-g2");
	assert_keys(f0, verdict_keys, sizeof verdict_keys / sizeof *verdict_keys);
	assert_keys(f1, verdict_keys, sizeof verdict_keys / sizeof *verdict_keys);
	assert_bool(f0, "ok", false);
	assert_str(f0, "error", "unable to get local issuer certificate");
	assert_true(json_is_integer(json_object_get(f0, "code")));
	assert_int_equal(json_integer_value(json_object_get(f0, "code")), 20);
	assert_int_equal(json_integer_value(json_object_get(f0, "depth")), 1);
	assert_str(f0, "reason", "unknown issuer");
	assert_path(f0, "f");
	assert_null_member(f0, "path_not_after");
	assert_bool(f1, "ok", true);
	assert_null_member(f1, "error");
	assert_int_equal(json_integer_value(json_object_get(f1, "code")), 0);
	assert_int_equal(json_integer_value(json_object_get(f1, "depth")), -1);
	assert_null_member(f1, "reason");
	assert_path(f1, "fe");
	assert_str(f1, "path_not_after", "2030-03-17T17:46:40Z");
	/* The served chain's verdicts are untouched by the future ones. */
	assert_bool(json_object_get(json_object_get(o, "verify"), "baltimore"), "ok", true);
	assert_str(o, "at", "2021-02-15T00:00:00Z");

	o = objs[1];
	assert_keys(o, keys_client, sizeof keys_client / sizeof *keys_client);
	assert_bool(o, "divergent", false);
	c = json_object_get(o, "client");
	/* No "after" without --future-chain. */
	assert_keys(c, client_keys, sizeof client_keys / sizeof *client_keys - 1);
	assert_str(c, "sslmode", "prefer");
	assert_null_member(c, "rootcert");
	assert_bool(c, "rootcert_exists", false);
	assert_bool(c, "verifies", false);
	assert_true(json_is_array(json_object_get(c, "roots")));
	assert_int_equal(json_array_size(json_object_get(c, "roots")), 0);
	assert_bool(c, "connects", false);
	assert_bool(c, "encrypted", false);
	assert_str(c, "error", "connection refused");

	o = objs[2];
	assert_keys(o, keys_future, sizeof keys_future / sizeof *keys_future);
	assert_bool(o, "divergent", false);
	assert_keys(json_object_get(o, "future"), store_names, 3);

	o = objs[3];
	assert_keys(o, keys_client, sizeof keys_client / sizeof *keys_client);
	c = json_object_get(o, "client");
	assert_keys(c, client_keys, sizeof client_keys / sizeof *client_keys);
	assert_str(c, "sslmode", "require");
	assert_str(c, "rootcert", "/tmp/\x1b[2Jroot\xef\xbf\xbd.crt");
	assert_bool(c, "verifies", true); /* a root file makes require verify */
	roots = json_object_get(c, "roots");
	assert_int_equal(json_array_size(roots), 3);
	assert_null_member(json_array_get(roots, 2), "known");
	assert_str(c, "error", "bad\x01\"}\xef\xbf\xbd");
	a = json_object_get(c, "after");
	assert_bool(a, "connects", true);
	assert_bool(a, "encrypted", true);
	assert_null_member(a, "error");

	for (size_t i = 0; i < 4; i++) {
		json_decref(objs[i]);
		pcp_result_cleanup(&r[i]);
	}
	free(out);
}

/* begin and end write nothing; each record is on the stream as soon as record returns. */
static void test_json_lines_and_flush(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);
	struct pcp_result r;
	struct pcp_test_capture c;

	(void)state;
	make_json_ok(&r);
	pcp_test_capture_open(&c);
	struct pcp_writer *w = pcp_writer_new(PCP_FORMAT_JSON, c.f, &info);
	assert_non_null(w);
	assert_int_equal(w->ops->begin(w), 0);
	assert_int_equal(c.size, 0);
	assert_int_equal(w->ops->record(w, &r), 0);
	size_t one = c.size; /* open_memstream updates size only on a flush */
	assert_true(one > 0);
	assert_int_equal(c.buf[one - 1], '\n');
	assert_int_equal(w->ops->record(w, &r), 0);
	assert_int_equal(c.size, 2 * one);
	assert_int_equal(w->ops->end(w, NULL), 0);
	assert_int_equal(c.size, 2 * one);
	pcp_writer_free(w);
	char *out = pcp_test_capture_close(&c);
	assert_memory_equal(out, out + one, one);
	free(out);

	out = pcp_test_run_writer(PCP_FORMAT_JSON, &info, NULL, 0, NULL);
	assert_string_equal(out, "");
	free(out);
	pcp_result_cleanup(&r);
}

/* ---- text writer ---- */

/* Display columns of UTF-8 text in which every code point is one column wide. */
static size_t cols(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

/* A table line built independently: cells padded to the given widths, two blanks apart,
 * no padding after the last. */
static void expect_line(char *buf, size_t size, const char *const *cells, const size_t *widths,
                        size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? "  " : "", cells[i]);
		if (i + 1 < n)
			for (size_t k = cols(cells[i], strlen(cells[i])); k < widths[i]; k++)
				len += (size_t)snprintf(buf + len, size - len, " ");
	}
	snprintf(buf + len, size - len, "\n");
}

static void make_table_records(struct pcp_result r[5])
{
	const char *v1[3] = {"", "unknown issuer", ""};
	const char *v2[3] = {"root expired 2025-05-12", "", ""};
	const char *v3[3] = {"", "", ""};

	make_ok(&r[0], "db1.example.com", "db1.example.com", "10.0.0.1", 5432, v1);
	make_ok(&r[1], "host=db3.internal hostaddr=2001:db8::1 port=5433", "db3.internal",
	        "2001:db8::1", 5433, v2);
	make_ok(&r[2], "10.0.0.9", "10.0.0.9", "10.0.0.9", 5432, v3);
	pcp_test_record(&r[3], "db2.example.com:6432", "db2.example.com", "10.0.0.2", 6432,
	                PCP_STATUS_NO_SSL, "server does not support SSL");
	pcp_test_record(&r[4], "nxdomain.invalid:5432", "nxdomain.invalid", "", 5432,
	                PCP_STATUS_DNS_FAILED, "could not resolve nxdomain.invalid");
}

static const size_t table_verified[3] = {2, 2, 3};

static void test_text_table(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);
	struct pcp_result r[5];
	size_t verified[3] = {table_verified[0], table_verified[1], table_verified[2]};
	struct pcp_run_totals totals = {
	        .records = 5,
	        .ok = 3,
	        .not_probed = 2,
	        .verified = verified,
	};
	/* Widest address 31 columns, widest baltimore cell 25, widest digicert-g2 cell 16. */
	static const size_t widths[4] = {31, 25, 16, 8};
	static const char *const lines[6][4] = {
	        {"address", "baltimore", "digicert-g2", "combined"},
	        {"db1.example.com 10.0.0.1:5432", "✓", "✗ unknown issuer", "✓"},
	        {"db3.internal [2001:db8::1]:5433", "✗ root expired 2025-05-12", "✓", "✓"},
	        {"10.0.0.9:5432", "✓", "✓", "✓"},
	        {"db2.example.com 10.0.0.2:6432", "✗ no SSL", "✗ no SSL", "✗ no SSL"},
	        {"nxdomain.invalid:5432", "✗ DNS failed", "✗ DNS failed", "✗ DNS failed"},
	};
	char want[4096], line[512];
	size_t len = 0;

	(void)state;
	make_table_records(r);
	for (size_t i = 0; i < 6; i++) {
		expect_line(line, sizeof line, lines[i], widths, 4);
		len += (size_t)snprintf(want + len, sizeof want - len, "%s", line);
	}
	snprintf(want + len, sizeof want - len,
	         "\n"
	         "  db2.example.com 10.0.0.2:6432: server does not support SSL\n"
	         "  nxdomain.invalid:5432: could not resolve nxdomain.invalid\n"
	         "  db1.example.com 10.0.0.1:5432 under digicert-g2: no certificate in the store "
	         "issued 'CN=Acme Intermediate,O=Acme' (the server did not send it, or the store "
	         "lacks its root)\n"
	         "  db3.internal [2001:db8::1]:5433 under baltimore: the root 'Baltimore "
	         "CyberTrust Root' expired on 2025-05-12\n"
	         "\n"
	         "5 addresses: 2 verify under baltimore, 2 under digicert-g2, 3 under combined; "
	         "2 could not be probed\n"
	         "sslmode verify-full, as of 2021-02-15T00:00:00Z\n"
	         "not safe for clients with baltimore: 1 of 3 reachable servers fail\n"
	         "not safe for clients with digicert-g2: 1 of 3 reachable servers fail\n"
	         "safe for clients with combined: every reachable server verifies (2 could not "
	         "be probed)\n");

	char *out = pcp_test_run_writer(PCP_FORMAT_TEXT, &info, r, 5, &totals);
	assert_string_equal(out, want);
	assert_null(strchr(out, '\033')); /* no colour when color is false */
	free(out);

	/* Without totals the writer counts itself; same summary. */
	out = pcp_test_run_writer(PCP_FORMAT_TEXT, &info, r, 5, NULL);
	assert_non_null(strstr(out, "5 addresses: 2 verify under baltimore, 2 under "
	                            "digicert-g2, 3 under combined; 2 could not be probed\n"));
	free(out);
	for (size_t i = 0; i < 5; i++)
		pcp_result_cleanup(&r[i]);
}

static void test_text_color(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);
	struct pcp_result r[5];

	(void)state;
	info.color = true;
	make_table_records(r);
	char *out = pcp_test_run_writer(PCP_FORMAT_TEXT, &info, r, 5, NULL);
	assert_non_null(strstr(out, "\033[32m✓\033[0m"));
	assert_non_null(strstr(out, "\033[31m✗ unknown issuer\033[0m"));
	assert_non_null(strstr(out, "\033[33m✗ no SSL\033[0m"));
	/* Padding stays outside the colour so columns line up. */
	assert_non_null(strstr(out, "\033[31m✗ root expired 2025-05-12\033[0m  \033[32m✓"));
	free(out);
	for (size_t i = 0; i < 5; i++)
		pcp_result_cleanup(&r[i]);
}

static void test_text_summary_variants(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);
	struct pcp_result r;
	const char *v[3] = {"", "unknown issuer", "unknown issuer"};
	size_t verified[3] = {1, 0, 0};
	struct pcp_run_totals totals = {
	        .records = 1,
	        .ok = 1,
	        .verified = verified,
	        .interrupted = true,
	};

	(void)state;
	info.now = info.at;
	info.now_mask = 1;
	info.sslmode = PCP_SSLMODE_VERIFY_CA;
	make_ok(&r, "db1", "db1", "10.0.0.1", 5432, v);
	char *out = pcp_test_run_writer(PCP_FORMAT_TEXT, &info, &r, 1, &totals);
	assert_non_null(strstr(out, "\n1 address: 1 verify under baltimore, 0 under digicert-g2, "
	                            "0 under combined; 0 could not be probed\n"
	                            "sslmode verify-ca\n"
	                            "safe for clients with baltimore: every reachable server "
	                            "verifies\n"
	                            "not safe for clients with digicert-g2: 1 of 1 reachable "
	                            "server fails\n"
	                            "not safe for clients with combined: 1 of 1 reachable server "
	                            "fails\n"
	                            "1 server still serves a chain ending at 'Baltimore CyberTrust "
	                            "Root'\n"
	                            "(interrupted: not all targets were probed)\n"));
	assert_null(strstr(out, "as of"));
	free(out);

	/* No records at all: just the summary. */
	size_t zero[3] = {0, 0, 0};
	struct pcp_run_totals none = {.verified = zero};
	info.now_mask = 0;
	out = pcp_test_run_writer(PCP_FORMAT_TEXT, &info, NULL, 0, &none);
	assert_string_equal(out, "\n0 addresses: 0 verify under baltimore, 0 under digicert-g2, "
	                         "0 under combined; 0 could not be probed\n"
	                         "sslmode verify-ca, as of 2021-02-15T00:00:00Z\n");
	free(out);
	pcp_result_cleanup(&r);
}

static void test_text_sanitises(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);
	struct pcp_result r[3];
	const char *v[3] = {"name\tmis\x1bmatch", "", ""};

	(void)state;
	pcp_test_record(&r[0], "\x1b]0;pwned\x07:5432", "\x1b]0;pwned\x07", "", 5432,
	                PCP_STATUS_INVALID_TARGET, "bad\r\nline\x1b[2J\xff");
	make_ok(&r[1], "x",
	        "evil\xe2\x80\xae"
	        "moc.com\x7f",
	        "10.0.0.5", 5432, v);
	pcp_test_record(&r[2], "db9", "db9", "10.0.0.9", 5432, PCP_STATUS_PROTOCOL_ERROR,
	                "server sent E: FATAL:\x1b[31m \xc2\x9b"
	                "1m no\n");
	char *out = pcp_test_run_writer(PCP_FORMAT_TEXT, &info, r, 3, NULL);

	for (const char *p = out; *p; p++)
		if (*p != '\n')
			assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
	assert_null(strstr(out, "\xe2\x80\xae")); /* no right-to-left override */
	assert_null(strstr(out, "\xc2\x9b"));     /* no C1 control (CSI) */
	assert_non_null(strstr(out, "\n?]0;pwned?:5432              ✗ invalid target  "));
	assert_non_null(strstr(out, "\nevil?moc.com? 10.0.0.5:5432  ✗ name?mis?match  ✓"));
	assert_non_null(strstr(out, "  ?]0;pwned?:5432: bad??line?[2J?\n"));
	assert_non_null(strstr(out, "  db9 10.0.0.9:5432: server sent E: FATAL:?[31m ?1m no?\n"));
	free(out);
	for (size_t i = 0; i < 3; i++)
		pcp_result_cleanup(&r[i]);
}

/* Widths count columns, not bytes: multibyte and wide characters keep columns aligned. */
static void test_text_display_width(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);
	struct pcp_result r[2];
	const char *v[3] = {"", "", ""};

	(void)state;
	make_ok(&r[0], "a", "\xc3\xa9t\xc3\xa9.example", "10.0.0.1", 5432, v); /* été: 3 cols */
	make_ok(&r[1], "b", "\xe6\x97\xa5\xe6\x9c\xac", "10.0.0.2", 5432, v);  /* 日本: 4 cols */
	char *out = pcp_test_run_writer(PCP_FORMAT_TEXT, &info, r, 2, NULL);
	/* "été.example 10.0.0.1:5432" is 25 columns (29 bytes), the widest. */
	assert_non_null(strstr(out, "address                    baltimore"));
	assert_non_null(strstr(out, "\n\xc3\xa9t\xc3\xa9.example 10.0.0.1:5432  ✓          ✓"));
	/* 日本 10.0.0.2:5432 is 18 columns: 7 blanks of padding, then the separator. */
	assert_non_null(strstr(out, "\n\xe6\x97\xa5\xe6\x9c\xac 10.0.0.2:5432         ✓"));
	free(out);
	for (size_t i = 0; i < 2; i++)
		pcp_result_cleanup(&r[i]);
}

/* The first 1000 rows are held back to size the columns; later rows stream with the same
 * widths, over-long cells cut with "…". A very long cell is capped even when buffered. */
static void test_text_streaming(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);
	struct pcp_result r, longr, hugetarget;
	const char *v[3] = {"", "", ""};
	const char *vlong[3] = {"", "certificate has a very long reason", ""};
	struct pcp_test_capture c;
	char target[301];

	(void)state;
	make_ok(&r, "10.0.0.1", NULL, "10.0.0.1", 5432, v);
	make_ok(&longr, "x", "a-very-long-hostname.example.com", "10.0.0.2", 5432, vlong);
	memset(target, 't', 300);
	target[300] = '\0';
	pcp_test_record(&hugetarget, target, NULL, "", 5432, PCP_STATUS_INVALID_TARGET, "bad");

	pcp_test_capture_open(&c);
	struct pcp_writer *w = pcp_writer_new(PCP_FORMAT_TEXT, c.f, &info);
	assert_non_null(w);
	assert_int_equal(w->ops->begin(w), 0);
	for (int i = 0; i < 999; i++)
		assert_int_equal(w->ops->record(w, &r), 0);
	fflush(c.f);
	assert_int_equal(c.size, 0); /* still buffering */
	assert_int_equal(w->ops->record(w, &r), 0);
	fflush(c.f);
	assert_true(c.size > 0); /* the 1000th row started the table */
	assert_int_equal(w->ops->record(w, &longr), 0);
	assert_int_equal(w->ops->record(w, &hugetarget), 0);
	assert_int_equal(w->ops->end(w, NULL), 0);
	pcp_writer_free(w);
	char *out = pcp_test_capture_close(&c);

	/* Address column 13 wide ("10.0.0.1:5432"), digicert-g2 column 11 (its header). */
	const char *header = "address        baltimore  digicert-g2  combined\n";
	assert_memory_equal(out, header, strlen(header));
	assert_non_null(strstr(out, "\n10.0.0.1:5432  ✓          ✓            ✓\n"));
	assert_non_null(strstr(out, "\na-very-long-…  ✓          ✗ certific…  ✓\n"));
	assert_non_null(strstr(out, "\ntttttttttttt…  ✗ invali…  ✗ invalid …  ✗ inval…\n"));
	assert_non_null(strstr(out, "\n1002 addresses: 1001 verify under baltimore, 1000 under "
	                            "digicert-g2, 1001 under combined; 1 could not be probed\n"));
	free(out);

	/* Buffered, a 300-character target is capped at the address column's limit. */
	out = pcp_test_run_writer(PCP_FORMAT_TEXT, &info, &hugetarget, 1, NULL);
	const char *row = strchr(out, '\n') + 1;
	const char *cut = strstr(row, "…");
	assert_non_null(cut);
	assert_int_equal(cols(row, (size_t)(cut - row)) + 1, 64);
	free(out);

	pcp_result_cleanup(&r);
	pcp_result_cleanup(&longr);
	pcp_result_cleanup(&hugetarget);
}

/* A half-finished rotation behind one name and five audited clients, now and after the
 * switch: the ≠ mark, the divergent names, the client counts and lines, the stores'
 * verdicts on the future chain. */
static void make_fleet_records(struct pcp_result r[5])
{
	const char *all_ok[3] = {"", "", ""};
	const char *v1[3] = {"unknown issuer", "", ""};
	const char *future_reasons[3] = {"unknown issuer", "", ""};
	struct pcp_client_verdict bad =
	        client_verdict(false, false, "certificate verify failed: unknown issuer");
	struct pcp_client_verdict good = client_verdict(true, true, "");
	struct pcp_client_verdict plain = client_verdict(true, false, "");
	struct pcp_client_verdict nodns = client_verdict(
	        false, false, "could not translate host name \"\x1b]0;x\x07\" to address");

	make_ok(&r[0], "orders.example.com", "orders.example.com", "10.0.0.1", 5432, all_ok);
	r[0].divergent = true;
	r[0].client = make_client(PCP_LIBPQ_VERIFY_FULL, "/etc/ssl/azure.pem", true, 1, true, true,
	                          "", &bad);
	make_future(&r[0], future_reasons);
	make_ok(&r[1], "orders.example.com", "orders.example.com", "10.0.0.2", 5432, v1);
	r[1].divergent = true;
	r[1].client = make_client(PCP_LIBPQ_VERIFY_FULL, "/etc/ssl/azure.pem", true, 1, false,
	                          false, bad.error, &bad);
	make_future(&r[1], future_reasons);
	make_ok(&r[2], "postgresql://app@billing.example.com/db?sslmode=prefer",
	        "billing.example.com", "10.0.0.3", 5432, all_ok);
	r[2].client = make_client(PCP_LIBPQ_PREFER, NULL, false, 0, true, true, "", &good);
	make_future(&r[2], future_reasons);
	pcp_test_record(&r[3], "host=\x1b]0;x\x07 sslmode=verify-ca", "\x1b]0;x\x07", "", 5432,
	                PCP_STATUS_DNS_FAILED, "could not translate host name");
	r[3].client = make_client(PCP_LIBPQ_VERIFY_CA, "/root/.postgresql/root.crt", false, 0,
	                          false, false, nodns.error, &nodns);
	pcp_test_record(&r[4], "sslmode=prefer host=db5", "db5", "10.0.0.5", 5432,
	                PCP_STATUS_NO_SSL, "server does not support SSL");
	r[4].client = make_client(PCP_LIBPQ_PREFER, NULL, false, 0, true, false, "", &plain);
}

static void test_text_divergent_clients_future(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);
	struct pcp_result r[5];
	static const size_t widths[4] = {34, 16, 12, 12};
	static const char *const lines[6][4] = {
	        {"address", "baltimore", "digicert-g2", "combined"},
	        {"orders.example.com 10.0.0.1:5432 ≠", "✓", "✓", "✓"},
	        {"orders.example.com 10.0.0.2:5432 ≠", "✗ unknown issuer", "✓", "✓"},
	        {"billing.example.com 10.0.0.3:5432", "✓", "✓", "✓"},
	        {"host=?]0;x? sslmode=verify-ca", "✗ DNS failed", "✗ DNS failed", "✗ DNS failed"},
	        {"db5 10.0.0.5:5432", "✗ no SSL", "✗ no SSL", "✗ no SSL"},
	};
	char want[4096], line[512];
	size_t len = 0;

	(void)state;
	make_fleet_records(r);
	for (size_t i = 0; i < 6; i++) {
		expect_line(line, sizeof line, lines[i], widths, 4);
		len += (size_t)snprintf(want + len, sizeof want - len, "%s", line);
	}
	snprintf(want + len, sizeof want - len,
	         "\n"
	         "  host=?]0;x? sslmode=verify-ca: could not translate host name\n"
	         "  db5 10.0.0.5:5432: server does not support SSL\n"
	         "  orders.example.com 10.0.0.2:5432 under baltimore: no certificate in the store "
	         "issued 'CN=Acme Intermediate,O=Acme' (the server did not send it, or the store "
	         "lacks its root)\n"
	         "\n"
	         "5 addresses: 2 verify under baltimore, 3 under digicert-g2, 3 under combined; "
	         "2 could not be probed\n"
	         "after the switch: baltimore verifies 0 of 3 chains\n"
	         "after the switch: digicert-g2 verifies 3 of 3 chains\n"
	         "after the switch: combined verifies 3 of 3 chains\n"
	         "sslmode verify-full, as of 2021-02-15T00:00:00Z\n"
	         "divergent names (≠, their addresses serve different chains): "
	         "orders.example.com\n"
	         "5 clients audited: 3 connect now (1 unencrypted), 2 fail\n"
	         "after the switch: 2 connect (1 unencrypted), 3 fail\n"
	         "  orders.example.com at 10.0.0.1:5432: after the switch: certificate verify "
	         "failed: unknown issuer\n"
	         "  orders.example.com at 10.0.0.2:5432: certificate verify failed: unknown "
	         "issuer\n"
	         "  host=?]0;x? sslmode=verify-ca: could not translate host name \"?]0;x?\" to "
	         "address\n"
	         "not safe for clients with baltimore: 1 of 3 reachable servers fail\n"
	         "safe for clients with digicert-g2: every reachable server verifies (2 could not "
	         "be probed)\n"
	         "safe for clients with combined: every reachable server verifies (2 could not "
	         "be probed)\n");

	char *out = pcp_test_run_writer(PCP_FORMAT_TEXT, &info, r, 5, NULL);
	assert_string_equal(out, want);
	assert_null(strchr(out, '\033')); /* no colour when color is false */
	free(out);

	/* On a terminal the mark is yellow and failing counts red; columns still line up. */
	info.color = true;
	out = pcp_test_run_writer(PCP_FORMAT_TEXT, &info, r, 5, NULL);
	assert_non_null(strstr(out, "\norders.example.com 10.0.0.1:5432\033[33m ≠\033[0m  "
	                            "\033[32m✓\033[0m"));
	assert_non_null(strstr(out, "\nbilling.example.com 10.0.0.3:5432   \033[32m✓"));
	assert_non_null(strstr(out, "3 connect now (1 unencrypted), \033[31m2 fail\033[0m\n"));
	assert_non_null(strstr(out, "2 connect (1 unencrypted), \033[31m3 fail\033[0m\n"));
	free(out);
	for (size_t i = 0; i < 5; i++)
		pcp_result_cleanup(&r[i]);
}

/* Without clients, divergence or a future chain the summary is as before; with clients
 * that all connect and no --future-chain, no "after" line and no client lines. */
static void test_text_clients_all_connect(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);
	struct pcp_result r[2];
	const char *v[3] = {"", "", ""};

	(void)state;
	make_ok(&r[0], "host=db1 sslmode=require", "db1", "10.0.0.1", 5432, v);
	r[0].client = make_client(PCP_LIBPQ_REQUIRE, NULL, false, 0, true, true, "", NULL);
	make_ok(&r[1], "db2", "db2", "10.0.0.2", 5432, v);
	char *out = pcp_test_run_writer(PCP_FORMAT_TEXT, &info, r, 2, NULL);
	assert_non_null(strstr(out, "sslmode verify-full, as of 2021-02-15T00:00:00Z\n"
	                            "1 client audited: 1 connect now (0 unencrypted), 0 fail\n"));
	assert_null(strstr(out, "after the switch"));
	assert_null(strstr(out, "divergent"));
	assert_null(strstr(out, "≠"));
	assert_null(strstr(out, "  host=db1"));
	free(out);

	out = pcp_test_run_writer(PCP_FORMAT_TEXT, &info, &r[1], 1, NULL);
	assert_null(strstr(out, "audited"));
	free(out);
	for (size_t i = 0; i < 2; i++)
		pcp_result_cleanup(&r[i]);
}

/* The lists stay bounded: 20 divergent names and 20 failing clients, the rest counted. The
 * addresses of one name count once, and a name seen before is not listed twice. */
static void test_text_summary_caps(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);
	enum { NAMES = 25, PER_NAME = 2, N = NAMES * PER_NAME + 1 };
	struct pcp_result *r = calloc(N, sizeof *r);
	const char *v[3] = {"", "", ""};
	char host[32], target[64], addr[32];

	(void)state;
	assert_non_null(r);
	for (size_t i = 0; i < N - 1; i++) {
		size_t name = i / PER_NAME;
		snprintf(host, sizeof host, "db%zu.example.com", name);
		snprintf(target, sizeof target, "host=%s sslmode=verify-full", host);
		snprintf(addr, sizeof addr, "10.0.%zu.%zu", name, i % PER_NAME + 1);
		make_ok(&r[i], target, host, addr, 5432, v);
		r[i].divergent = true;
		r[i].client = make_client(PCP_LIBPQ_VERIFY_FULL, "/etc/root.crt", true, 0, false,
		                          false, "certificate verify failed", NULL);
	}
	/* The first name again, later and alone: listed already. */
	make_ok(&r[N - 1], "db0.example.com", "db0.example.com", "10.0.0.9", 5432, v);
	r[N - 1].divergent = true;

	char *out = pcp_test_run_writer(PCP_FORMAT_TEXT, &info, r, N, NULL);
	const char *div = strstr(out, "\ndivergent names (≠, their addresses serve different "
	                              "chains): db0.example.com, db1.example.com, ");
	assert_non_null(div);
	const char *eol = strchr(div + 1, '\n');
	assert_non_null(eol);
	assert_non_null(strstr(div, ", db19.example.com … and 5 more\n"));
	assert_true(strstr(div, "db20.example.com") == NULL ||
	            strstr(div, "db20.example.com") > eol);
	assert_non_null(strstr(out, "\n50 clients audited: 0 connect now (0 unencrypted), 50 fail\n"
	                            "  host=db0.example.com sslmode=verify-full at "
	                            "10.0.0.1:5432: certificate verify failed\n"));
	assert_non_null(strstr(out,
	                       "  host=db9.example.com sslmode=verify-full at "
	                       "10.0.9.2:5432: certificate verify failed\n"
	                       "  … and 30 more failing clients (details with --format json)\n"));
	assert_null(strstr(out, "db10.example.com sslmode=verify-full at"));
	free(out);
	for (size_t i = 0; i < N; i++)
		pcp_result_cleanup(&r[i]);
	free(r);
}

/* A streamed divergent row wider than its column loses text, never its mark. */
static void test_text_divergent_streamed(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);
	struct pcp_result r, longr;
	const char *v[3] = {"", "", ""};
	struct pcp_test_capture c;

	(void)state;
	make_ok(&r, "10.0.0.1", NULL, "10.0.0.1", 5432, v);
	make_ok(&longr, "x", "a-very-long-hostname.example.com", "10.0.0.2", 5432, v);
	longr.divergent = true;
	pcp_test_capture_open(&c);
	struct pcp_writer *w = pcp_writer_new(PCP_FORMAT_TEXT, c.f, &info);
	assert_non_null(w);
	assert_int_equal(w->ops->begin(w), 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(w->ops->record(w, &r), 0);
	assert_int_equal(w->ops->record(w, &longr), 0);
	assert_int_equal(w->ops->end(w, NULL), 0);
	pcp_writer_free(w);
	char *out = pcp_test_capture_close(&c);
	assert_non_null(strstr(out, "\na-very-lon… ≠  ✓          ✓            ✓\n"));
	assert_non_null(strstr(out, "): a-very-long-hostname.example.com\n"));
	free(out);
	pcp_result_cleanup(&r);
	pcp_result_cleanup(&longr);
}

/* ---- several instants, classes, anchors, expiry, changes, explain, summary ---- */

#define AT_2025_06_01_NOON ((time_t)1748779200) /* 2025-06-01T12:00:00Z */
#define BALTIMORE_EXPIRY   ((time_t)1747094340) /* 2025-05-12T23:59:00Z */
#define LEAF_EXPIRY        ((time_t)1750377600) /* 2025-06-20T00:00:00Z */
#define OLD_INTER_DN       "CN=Baltimore-style Intermediate,O=Acme"
#define NEW_INTER_DN       "CN=Acme G2 Intermediate,O=Acme"

static const time_t two_ats[2] = {PCP_TEST_AT_2021_02_15, AT_2025_06_01_NOON};

static struct pcp_run_info make_info2(void)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);

	info.ats = two_ats;
	info.n_ats = 2;
	info.warn_days = 30;
	return info;
}

static void set_verdict(struct pcp_verdict *v, bool ok, int code, int depth, const char *reason,
                        const char *path_hex, time_t not_after, const char *anchor)
{
	const char *error = ok             ? ""
	                    : code == 10   ? "certificate verify failed: certificate has expired"
	                    : code == 1000 ? "server certificate does not match host name"
	                                   : "certificate verify failed: unable to get local "
	                                     "issuer certificate";

	make_verdict(v, ok, code, depth, error, reason, path_hex, not_after);
	v->anchor = anchor ? pcp_test_strdup(anchor) : NULL;
}

/* A reachable record with a served leaf and intermediate (fingerprints leaf_hex and
 * inter_hex) and 6 verdicts (3 stores x 2 instants) filled by the caller. */
static void make_served(struct pcp_result *r, const char *host, const char *addr,
                        const char *leaf_dn, const char *inter_dn, const char *root_dn,
                        char leaf_hex, char inter_hex, const char *const *san, size_t n_san)
{
	pcp_test_record(r, host, host, addr, 5432, PCP_STATUS_OK, "");
	pcp_test_set_str(r->tls_version, sizeof r->tls_version, "TLSv1.3");
	r->chain = calloc(2, sizeof *r->chain);
	assert_non_null(r->chain);
	r->chain_len = 2;
	make_cert(&r->chain[0], leaf_dn, inter_dn, leaf_hex, san, n_san, "EC P-256");
	make_cert(&r->chain[1], inter_dn, root_dn, inter_hex, NULL, 0, "EC P-256");
	r->verdicts = calloc(6, sizeof *r->verdicts);
	assert_non_null(r->verdicts);
	r->n_verdicts = 6;
}

/* The migration in five records, at 2021-02-15 and 2025-06-01 12:00 (old root expired):
 * 0 old chain (old-only), 1 new chain (new-only), 2 new chain whose leaf expires
 * 2025-06-20 (expiring at the second instant), 3 a name mismatch (neither), 4 refused. */
static void make_migration(struct pcp_result r[5])
{
	static const char *const san_old[] = {"DNS:db-old.example.com"};
	static const char *const san_new[] = {"DNS:db-new.example.com"};
	static const char *const san_mm[] = {"DNS:a.example.com", "DNS:b.example.com",
	                                     "IP:10.0.0.4"};

	make_served(&r[0], "db-old.example.com", "10.0.0.1", "CN=db-old.example.com", OLD_INTER_DN,
	            BALTIMORE_DN, 'l', 'i', san_old, 1);
	for (size_t a = 0; a < 2; a++) {
		struct pcp_verdict *v = &r[0].verdicts[a * 3];
		if (a == 0) {
			set_verdict(&v[0], true, 0, -1, "", "lir", BALTIMORE_EXPIRY, BALTIMORE_DN);
			set_verdict(&v[2], true, 0, -1, "", "lir", BALTIMORE_EXPIRY, BALTIMORE_DN);
		} else {
			set_verdict(&v[0], false, 10, 2, "root expired 2025-05-12", "lir",
			            BALTIMORE_EXPIRY, BALTIMORE_DN);
			set_verdict(&v[2], false, 10, 2, "root expired 2025-05-12", "lir",
			            BALTIMORE_EXPIRY, BALTIMORE_DN);
		}
		set_verdict(&v[1], false, 20, 1, "unknown issuer", "li", 1700000000, OLD_INTER_DN);
	}
	r[0].class_name = "old-only";
	r[0].anchor = pcp_test_strdup(BALTIMORE_DN);

	make_served(&r[1], "db-new.example.com", "10.0.0.2", "CN=db-new.example.com", NEW_INTER_DN,
	            G2_DN, 'm', 'n', san_new, 1);
	make_served(&r[2], "db-exp.example.com", "10.0.0.3", "CN=db-exp.example.com", NEW_INTER_DN,
	            G2_DN, 'e', 'n', san_new, 1);
	r[2].chain[0].not_after = LEAF_EXPIRY;
	for (size_t a = 0; a < 2; a++) {
		for (size_t k = 1; k <= 2; k++) {
			struct pcp_verdict *v = &r[k].verdicts[a * 3];
			bool exp = k == 2 && a == 1;
			time_t na = k == 2 ? LEAF_EXPIRY : 1800000000;
			const char *path = k == 2 ? "eng" : "mng";
			set_verdict(&v[0], false, 20, 1, "unknown issuer", path, na, NEW_INTER_DN);
			set_verdict(&v[1], true, 0, -1, "", path, na, G2_DN);
			set_verdict(&v[2], true, 0, -1, "", path, na, G2_DN);
			v[1].expiring = v[2].expiring = exp;
		}
		r[1].class_name = r[2].class_name = "new-only";
	}
	r[1].anchor = pcp_test_strdup(G2_DN);
	r[2].anchor = pcp_test_strdup(G2_DN);

	make_served(&r[3], "db-mm", "10.0.0.4", "CN=a.example.com", NEW_INTER_DN, G2_DN, 'x', 'n',
	            san_mm, 3);
	for (size_t a = 0; a < 2; a++) {
		struct pcp_verdict *v = &r[3].verdicts[a * 3];
		set_verdict(&v[0], false, 20, 1, "unknown issuer", "xn", 1800000000, NEW_INTER_DN);
		set_verdict(&v[1], false, 1000, 0, "name mismatch", "xng", 1800000000, G2_DN);
		set_verdict(&v[2], false, 1000, 0, "name mismatch", "xng", 1800000000, G2_DN);
	}
	r[3].class_name = "neither";
	r[3].anchor = pcp_test_strdup(NEW_INTER_DN);

	pcp_test_record(&r[4], "db-down.example.com", "db-down.example.com", "10.0.0.5", 5432,
	                PCP_STATUS_REFUSED, "connection refused");
	r[4].class_name = "unreachable";
}

static void add_change(struct pcp_result *r, const char *kind, const char *store, const char *from,
                       const char *to)
{
	struct pcp_change *grown = realloc(r->changes, (r->n_changes + 1) * sizeof *grown);

	assert_non_null(grown);
	r->changes = grown;
	grown[r->n_changes++] = (struct pcp_change){
	        .kind = kind,
	        .store = store ? pcp_test_strdup(store) : NULL,
	        .from = from ? pcp_test_strdup(from) : NULL,
	        .to = to ? pcp_test_strdup(to) : NULL,
	};
}

static void assert_verdict_json(json_t *v, const struct pcp_verdict *want, bool with_expiring)
{
	static const char *const keys[] = {"ok",   "error",          "code",   "depth",   "reason",
	                                   "path", "path_not_after", "anchor", "expiring"};

	assert_keys(v, keys, with_expiring ? 9 : 8);
	assert_bool(v, "ok", want->ok);
	assert_int_equal(json_integer_value(json_object_get(v, "code")), want->code);
	assert_int_equal(json_integer_value(json_object_get(v, "depth")), want->depth);
	if (want->anchor)
		assert_str(v, "anchor", want->anchor);
	else
		assert_null_member(v, "anchor");
	if (with_expiring)
		assert_bool(v, "expiring", want->expiring);
}

/* Two instants: "verify" keeps the first instant's shape, "verify_at" has both, keyed by
 * instant, "ats" lists them; class, anchor, expiring and changes are where promised. */
static void test_json_instants(void **state)
{
	static const char *const keys[] = {
	        "target",    "host",  "addr",        "port",  "sslmode",    "status",
	        "error",     "tls",   "negotiation", "alpn",  "direct_tls", "direct_tls_from",
	        "timing",    "chain", "verify",      "class", "anchor",     "divergent",
	        "verify_at", "ats",   "changes",     "at",    "at_now"};
	static const char *const change_keys[] = {"kind", "store", "from", "to"};
	static const char *const at_keys[] = {"2021-02-15T00:00:00Z", "2025-06-01T12:00:00Z"};
	struct pcp_run_info info = make_info2();
	struct pcp_result r[5];
	json_t *objs[6];

	(void)state;
	make_migration(r);
	for (size_t i = 0; i < 5; i++)
		r[i].has_baseline = true;
	add_change(&r[0], "leaf_rotated", NULL, "aaaa", "bbbb");
	add_change(&r[0], "verdict_flipped", "combined", "ok", "fail");
	add_change(&r[4], "newly_unreachable", NULL, "ok", "refused");
	char *out = pcp_test_run_writer(PCP_FORMAT_JSON, &info, r, 5, NULL);
	assert_int_equal(load_lines(out, objs, 6), 5);

	for (size_t i = 0; i < 5; i++) {
		json_t *o = objs[i];
		assert_keys(o, keys, sizeof keys / sizeof *keys);
		assert_str(o, "class", r[i].class_name);
		if (r[i].anchor)
			assert_str(o, "anchor", r[i].anchor);
		else
			assert_null_member(o, "anchor");
		assert_str(o, "at", "2021-02-15T00:00:00Z"); /* the first instant */
		json_t *ats = json_object_get(o, "ats");
		assert_int_equal(json_array_size(ats), 2);
		assert_string_equal(json_string_value(json_array_get(ats, 0)), at_keys[0]);
		assert_string_equal(json_string_value(json_array_get(ats, 1)), at_keys[1]);
		json_t *va = json_object_get(o, "verify_at");
		assert_keys(va, at_keys, 2);
		/* verify is exactly the first instant's member of verify_at. */
		assert_true(
		        json_equal(json_object_get(o, "verify"), json_object_get(va, at_keys[0])));
		for (size_t a = 0; a < 2; a++) {
			json_t *m = json_object_get(va, at_keys[a]);
			if (r[i].status != PCP_STATUS_OK) {
				assert_int_equal(json_object_size(m), 0);
				continue;
			}
			assert_keys(m, store_names, 3);
			for (size_t s = 0; s < 3; s++)
				assert_verdict_json(json_object_get(m, store_names[s]),
				                    &r[i].verdicts[a * 3 + s], true);
		}
	}
	/* The expiring verdicts: db-exp under digicert-g2 and combined at the second instant. */
	json_t *late = json_object_get(json_object_get(objs[2], "verify_at"), at_keys[1]);
	assert_bool(json_object_get(late, "digicert-g2"), "expiring", true);
	assert_str(json_object_get(late, "digicert-g2"), "path_not_after", "2025-06-20T00:00:00Z");
	assert_bool(json_object_get(json_object_get(objs[2], "verify"), "digicert-g2"), "expiring",
	            false);
	/* The root expired at the second instant only. */
	late = json_object_get(json_object_get(objs[0], "verify_at"), at_keys[1]);
	assert_str(json_object_get(late, "baltimore"), "reason", "root expired 2025-05-12");
	assert_bool(json_object_get(json_object_get(objs[0], "verify"), "baltimore"), "ok", true);

	json_t *ch = json_object_get(objs[0], "changes");
	assert_int_equal(json_array_size(ch), 2);
	assert_keys(json_array_get(ch, 0), change_keys, 4);
	assert_str(json_array_get(ch, 0), "kind", "leaf_rotated");
	assert_null_member(json_array_get(ch, 0), "store");
	assert_str(json_array_get(ch, 0), "from", "aaaa");
	assert_str(json_array_get(ch, 1), "store", "combined");
	assert_str(json_array_get(ch, 1), "to", "fail");
	assert_int_equal(json_array_size(json_object_get(objs[1], "changes")), 0); /* [] */
	assert_str(json_array_get(json_object_get(objs[4], "changes"), 0), "to", "refused");

	for (size_t i = 0; i < 5; i++) {
		json_decref(objs[i]);
		pcp_result_cleanup(&r[i]);
	}
	free(out);
}

/* One instant keeps the old shape (no verify_at, ats or changes without a baseline); with
 * --warn-days "expiring" joins each verdict. An instant given twice is one verify_at key. */
static void test_json_single_instant_and_duplicates(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);
	struct pcp_result r;
	json_t *objs[2];

	(void)state;
	make_json_ok(&r);
	r.class_name = "both";
	info.warn_days = 30;
	char *out = pcp_test_run_writer(PCP_FORMAT_JSON, &info, &r, 1, NULL);
	assert_int_equal(load_lines(out, objs, 2), 1);
	assert_keys(objs[0], record_keys, sizeof record_keys / sizeof *record_keys);
	assert_str(objs[0], "class", "both");
	assert_null_member(objs[0], "anchor");
	json_t *v0 = json_object_get(json_object_get(objs[0], "verify"), "baltimore");
	assert_bool(v0, "expiring", false);
	json_decref(objs[0]);
	free(out);

	static const time_t same[3] = {PCP_TEST_AT_2021_02_15, PCP_TEST_AT_2021_02_15,
	                               AT_2025_06_01_NOON};
	info.ats = same;
	info.n_ats = 3;
	info.warn_days = -1;
	struct pcp_verdict *nine = calloc(9, sizeof *nine);
	assert_non_null(nine);
	for (size_t i = 0; i < 9; i++)
		set_verdict(&nine[i], i >= 6, i >= 6 ? 0 : 20, i >= 6 ? -1 : 0,
		            i >= 6 ? "" : "unknown issuer", "a", 0, NULL);
	for (size_t i = 0; i < r.n_verdicts; i++)
		pcp_verdict_cleanup(&r.verdicts[i]);
	free(r.verdicts);
	r.verdicts = nine;
	r.n_verdicts = 9;
	out = pcp_test_run_writer(PCP_FORMAT_JSON, &info, &r, 1, NULL);
	assert_int_equal(load_lines(out, objs, 2), 1);
	json_t *va = json_object_get(objs[0], "verify_at");
	static const char *const at_keys[] = {"2021-02-15T00:00:00Z", "2025-06-01T12:00:00Z"};
	assert_keys(va, at_keys, 2);
	assert_bool(json_object_get(json_object_get(va, at_keys[1]), "combined"), "ok", true);
	assert_int_equal(json_array_size(json_object_get(objs[0], "ats")), 3);
	assert_null(json_object_get(
	        v0 = json_object_get(json_object_get(objs[0], "verify"), "baltimore"), "expiring"));
	json_decref(objs[0]);
	free(out);
	pcp_result_cleanup(&r);
}

/* Runs the text writer and returns its output; also checks that --format summary prints
 * exactly the text's summary block (everything after the table's last blank line). */
static char *run_text_and_summary(const struct pcp_run_info *info, const struct pcp_result *r,
                                  size_t n)
{
	char *text = pcp_test_run_writer(PCP_FORMAT_TEXT, info, r, n, NULL);
	char *summary = pcp_test_run_writer(PCP_FORMAT_SUMMARY, info, r, n, NULL);
	size_t tl = strlen(text), sl = strlen(summary);

	assert_true(sl > 0 && tl > sl + 2);
	assert_string_equal(text + tl - sl, summary);
	assert_memory_equal(text + tl - sl - 2, "\n\n", 2); /* a blank line before it */
	assert_true(strncmp(summary, "address ", 8) != 0);  /* no table */
	assert_null(strstr(summary, " under baltimore@"));  /* no reason lines */
	free(summary);
	return text;
}

/* Two instants: one column per store and instant, "✓ expires" cells, one reason line per
 * ✗ cell, per-instant counts, classes, anchors and the sentences. */
static void test_text_two_instants(void **state)
{
	struct pcp_run_info info = make_info2();
	struct pcp_result r[5];

	(void)state;
	make_migration(r);
	char *out = run_text_and_summary(&info, r, 5);

	static const size_t widths[7] = {33, 20, 22, 19, 30, 32, 29};
	static const char *const rows[3][7] = {
	        {"address", "baltimore@2021-02-15", "digicert-g2@2021-02-15", "combined@2021-02-15",
	         "baltimore@2025-06-01T12:00:00Z", "digicert-g2@2025-06-01T12:00:00Z",
	         "combined@2025-06-01T12:00:00Z"},
	        {"db-old.example.com 10.0.0.1:5432", "✓", "✗ unknown issuer", "✓",
	         "✗ root expired 2025-05-12", "✗ unknown issuer", "✗ root expired 2025-05-12"},
	        {"db-exp.example.com 10.0.0.3:5432", "✗ unknown issuer", "✓", "✓",
	         "✗ unknown issuer", "✓ expires 2025-06-20", "✓ expires 2025-06-20"},
	};
	char line[1024];
	expect_line(line, sizeof line, rows[0], widths, 7);
	assert_memory_equal(out, line, strlen(line));
	for (size_t i = 1; i < 3; i++) {
		expect_line(line, sizeof line, rows[i], widths, 7);
		assert_non_null(strstr(out, line));
	}
	assert_non_null(strstr(out, "\ndb-down.example.com 10.0.0.5:5432  ✗ refused"));

	/* One line per ✗ cell, in plain words, labelled like its column. */
	assert_non_null(strstr(
	        out,
	        "\n  db-down.example.com 10.0.0.5:5432: connection refused\n"
	        "  db-old.example.com 10.0.0.1:5432 under digicert-g2@2021-02-15: no certificate "
	        "in the store issued 'CN=Baltimore CyberTrust Root,OU=CyberTrust,O=Baltimore,"
	        "C=IE' (the server did not send it, or the store lacks its root)\n"
	        "  db-old.example.com 10.0.0.1:5432 under baltimore@2025-06-01T12:00:00Z: the "
	        "root 'Baltimore CyberTrust Root' expired on 2025-05-12\n"));
	assert_non_null(strstr(out,
	                       "  db-new.example.com 10.0.0.2:5432 under baltimore@2021-02-15: "
	                       "no certificate in the store issued 'CN=DigiCert Global Root "
	                       "G2,OU=www.digicert.com,O=DigiCert Inc,C=US' (the server did "
	                       "not send it, or the store lacks its root)\n"));
	assert_non_null(strstr(out, "  db-mm 10.0.0.4:5432 under digicert-g2@2021-02-15: the "
	                            "server's certificate names 'a.example.com', 'b.example.com', "
	                            "not 'db-mm'\n"));
	/* 4 + 2 + 2 + 6 ✗ cells on reachable rows: 14 reason lines, no more. */
	size_t lines = 0;
	for (const char *p = out; (p = strstr(p, ":5432 under ")); p++)
		lines++;
	assert_int_equal(lines, 14);

	assert_non_null(strstr(
	        out,
	        "\n\n5 addresses, 1 could not be probed\n"
	        "as of 2021-02-15: 1 verify under baltimore, 2 under digicert-g2, 3 under "
	        "combined\n"
	        "as of 2025-06-01T12:00:00Z: 0 verify under baltimore, 2 under digicert-g2, 2 "
	        "under combined\n"
	        "sslmode verify-full\n"
	        "classes: 1 old-only, 2 new-only, 1 neither, 1 unreachable\n"
	        "chains end at: 1 'Baltimore CyberTrust Root', 2 'DigiCert Global Root G2', 1 "
	        "'Acme G2 Intermediate'\n"
	        "not safe for clients with baltimore as of 2021-02-15: 3 of 4 reachable servers "
	        "fail\n"
	        "not safe for clients with digicert-g2 as of 2021-02-15: 2 of 4 reachable "
	        "servers fail\n"
	        "not safe for clients with combined as of 2021-02-15: 1 of 4 reachable servers "
	        "fail\n"
	        "not safe for clients with baltimore as of 2025-06-01T12:00:00Z: 4 of 4 "
	        "reachable servers fail\n"
	        "not safe for clients with digicert-g2 as of 2025-06-01T12:00:00Z: 2 of 4 "
	        "reachable servers fail\n"
	        "1 chain under digicert-g2 as of 2025-06-01T12:00:00Z stops verifying within 30 "
	        "days (first on 2025-06-20)\n"
	        "not safe for clients with combined as of 2025-06-01T12:00:00Z: 2 of 4 "
	        "reachable servers fail\n"
	        "1 chain under combined as of 2025-06-01T12:00:00Z stops verifying within 30 "
	        "days (first on 2025-06-20)\n"
	        "1 server still serves a chain ending at 'Baltimore CyberTrust Root'\n"
	        "1 server fails under every store as of 2021-02-15\n"
	        "2 servers fail under every store as of 2025-06-01T12:00:00Z\n"));
	free(out);

	/* Without the mismatch and the old server, the new-root stores are safe; the default
	 * instant is "now" in headers and sentences. */
	info.now = info.at;
	info.now_mask = 1;
	out = run_text_and_summary(&info, &r[1], 2);
	assert_non_null(strstr(out, "address                           baltimore@now     "
	                            "digicert-g2@now  combined@now  "
	                            "baltimore@2025-06-01T12:00:00Z"));
	assert_non_null(strstr(out, "\nas of now (2021-02-15T00:00:00Z): 0 verify under "
	                            "baltimore, 2 under digicert-g2, 2 under combined\n"));
	assert_non_null(strstr(out, "\nsafe for clients with digicert-g2 as of now: every "
	                            "reachable server verifies\n"));
	assert_non_null(strstr(out, "\nsafe for clients with combined as of 2025-06-01T12:00:00Z: "
	                            "every reachable server verifies\n"));
	assert_null(strstr(out, "still serve"));
	assert_null(strstr(out, "under every store"));
	free(out);
	for (size_t i = 0; i < 5; i++)
		pcp_result_cleanup(&r[i]);
}

/* Reason lines are capped like the failure lines; the rest are counted. */
static void test_text_reasons_capped(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);
	struct pcp_result r[8];
	const char *v[3] = {"unknown issuer", "name mismatch", "root expired 2025-05-12"};

	(void)state;
	for (size_t i = 0; i < 8; i++)
		make_ok(&r[i], "db", "db", "10.0.0.1", (uint16_t)(5432 + i), v);
	char *out = pcp_test_run_writer(PCP_FORMAT_TEXT, &info, r, 8, NULL);
	size_t lines = 0;
	for (const char *p = out; (p = strstr(p, "\n  db 10.0.0.1:54")); p++)
		lines++;
	assert_int_equal(lines, 20);
	assert_non_null(strstr(out,
	                       "\n  db 10.0.0.1:5438 under digicert-g2: the server's "
	                       "certificate names 'other.example.com', not 'db'\n"
	                       "  … and 4 more failing verdicts (details with --format json)\n"));
	free(out);
	for (size_t i = 0; i < 8; i++)
		pcp_result_cleanup(&r[i]);
}

/* --explain with a Java truststore and a directory: after the commands, how to give
 * openssl and libpq what they read (PEM), the Java one through keytool, which asks for the
 * password itself. */
static void test_text_explain_store_kinds(void **state)
{
	static const char *const paths[] = {"/etc/java/trust store", "/etc/ssl/certs", "/c.pem"};
	static const char *const kinds[] = {"pkcs12", "directory", "pem"};
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);
	struct pcp_result r;
	const char *v[3] = {"unknown issuer", "unknown issuer", "unknown issuer"};

	(void)state;
	info.explain = true;
	info.store_paths = paths;
	info.store_kinds = kinds;
	info.now = info.at;
	info.now_mask = 1;
	make_ok(&r, "x", "db.example.com", "10.0.0.7", 5432, v);
	char *out = pcp_test_run_writer(PCP_FORMAT_TEXT, &info, &r, 1, NULL);

	assert_non_null(strstr(out, "sslrootcert='\\''/etc/java/trust store'\\'' dbname=postgres'\n"
	                            "    # a Java truststore (pkcs12): openssl and libpq read PEM: "
	                            "keytool -list -rfc -keystore '/etc/java/trust store' > "
	                            "anchors.pem, then use anchors.pem\n"));
	assert_non_null(strstr(out, "-CApath /etc/ssl/certs"));
	assert_non_null(strstr(out, "# libpq reads one file: concatenate the directory's"));
	/* One hint for the Java store's verdict, none for the PEM file's. */
	const char *hint = strstr(out, "a Java truststore");
	assert_non_null(hint);
	assert_null(strstr(hint + 1, "a Java truststore"));
	free(out);
	pcp_result_cleanup(&r);
}

/* --explain: the openssl and psql lines under each reason, shell-quoted so that hostile
 * hosts and paths stay one inert argument; IP hosts get no SNI and -verify_ip; verify-ca
 * no name check; faketime only for instants other than now. */
static void test_text_explain(void **state)
{
	static const char *const paths[] = {"/etc/stores/o'ld.pem", "/etc/stores/new store.pem",
	                                    "/etc/combined.pem"};
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);
	struct pcp_result r[4];
	const char *v[3] = {"unknown issuer", "", ""};
	const char *vall[3] = {"", "", "unknown issuer"};

	(void)state;
	info.explain = true;
	info.store_paths = paths;
	info.now = info.at;
	info.now_mask = 1; /* now: no faketime */
	make_ok(&r[0], "x", "it's $(reboot)\x1b[2J", "10.0.0.7", 5432, v);
	make_ok(&r[1], "10.0.0.8", "10.0.0.8", "10.0.0.8", 5433, v);
	make_ok(&r[2], "x", "2001:db8::5", "2001:db8::5", 5432, vall);
	r[2].sslmode = PCP_SSLMODE_VERIFY_CA;
	make_ok(&r[3], "hostaddr=10.0.0.9", NULL, "10.0.0.9", 5432, v);
	char *out = pcp_test_run_writer(PCP_FORMAT_TEXT, &info, r, 4, NULL);

	assert_non_null(strstr(
	        out,
	        "\n  it's $(reboot)?[2J 10.0.0.7:5432 under baltimore: no certificate in the "
	        "store issued 'CN=Acme Intermediate,O=Acme' (the server did not send it, or the "
	        "store lacks its root)\n"
	        "    openssl s_client -starttls postgres -connect 10.0.0.7:5432 -servername "
	        "'it'\\''s $(reboot)?[2J' -CAfile '/etc/stores/o'\\''ld.pem' "
	        "-verify_return_error -verify_hostname 'it'\\''s $(reboot)?[2J' -attime "
	        "1613347200 -showcerts </dev/null\n"
	        "    psql 'host='\\''it\\'\\''s $(reboot)?[2J'\\'' hostaddr=10.0.0.7 port=5432 "
	        "sslmode=verify-full sslrootcert='\\''/etc/stores/o\\'\\''ld.pem'\\'' "
	        "dbname=postgres'\n"));
	assert_non_null(strstr(
	        out,
	        "\n  10.0.0.8:5433 under baltimore: no certificate in the store issued 'CN=Acme "
	        "Intermediate,O=Acme' (the server did not send it, or the store lacks its "
	        "root)\n"
	        "    openssl s_client -starttls postgres -connect 10.0.0.8:5433 -CAfile "
	        "'/etc/stores/o'\\''ld.pem' -verify_return_error -verify_ip 10.0.0.8 -attime "
	        "1613347200 -showcerts </dev/null\n"
	        "    psql 'host=10.0.0.8 hostaddr=10.0.0.8 port=5433 sslmode=verify-full "
	        "sslrootcert='\\''/etc/stores/o\\'\\''ld.pem'\\'' dbname=postgres'\n"));
	assert_non_null(strstr(
	        out, "\n    openssl s_client -starttls postgres -connect '[2001:db8::5]:5432' "
	             "-CAfile /etc/combined.pem -verify_return_error -attime 1613347200 -showcerts "
	             "</dev/null\n"
	             "    psql 'host=2001:db8::5 hostaddr=2001:db8::5 port=5432 sslmode=verify-ca "
	             "sslrootcert=/etc/combined.pem dbname=postgres'\n"));
	/* No host: no SNI, no name to verify; libpq is asked without host= and refuses. */
	assert_non_null(strstr(
	        out, "\n    openssl s_client -starttls postgres -connect 10.0.0.9:5432 -CAfile "
	             "'/etc/stores/o'\\''ld.pem' -verify_return_error -attime 1613347200 "
	             "-showcerts </dev/null\n"
	             "    psql 'hostaddr=10.0.0.9 port=5432 sslmode=verify-full "
	             "sslrootcert='\\''/etc/stores/o\\'\\''ld.pem'\\'' dbname=postgres'\n"));
	for (const char *p = out; *p; p++)
		if (*p != '\n')
			assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
	assert_null(strstr(out, "faketime"));
	free(out);

	/* An instant that is not now: psql under faketime, in UTC whatever the local zone. */
	info.now_mask = 0;
	info.ats = two_ats;
	info.n_ats = 2;
	struct pcp_result two;
	make_served(&two, "db-old.example.com", "10.0.0.1", "CN=db-old.example.com", OLD_INTER_DN,
	            BALTIMORE_DN, 'l', 'i', NULL, 0);
	for (size_t i = 0; i < 6; i++)
		set_verdict(&two.verdicts[i], i != 3, i == 3 ? 10 : 0, i == 3 ? 2 : -1,
		            i == 3 ? "root expired 2025-05-12" : "", "lir", BALTIMORE_EXPIRY,
		            BALTIMORE_DN);
	out = pcp_test_run_writer(PCP_FORMAT_TEXT, &info, &two, 1, NULL);
	assert_non_null(strstr(
	        out,
	        "\n  db-old.example.com 10.0.0.1:5432 under baltimore@2025-06-01T12:00:00Z: the "
	        "root 'Baltimore CyberTrust Root' expired on 2025-05-12\n"
	        "    openssl s_client -starttls postgres -connect 10.0.0.1:5432 -servername "
	        "db-old.example.com -CAfile '/etc/stores/o'\\''ld.pem' -verify_return_error "
	        "-verify_hostname db-old.example.com -attime 1748779200 -showcerts "
	        "</dev/null\n"
	        "    faketime '2025-06-01 12:00:00 UTC' psql 'host=db-old.example.com "
	        "hostaddr=10.0.0.1 port=5432 sslmode=verify-full "
	        "sslrootcert='\\''/etc/stores/o\\'\\''ld.pem'\\'' dbname=postgres'\n\n"));
	free(out);

	/* Without --explain: the reason lines only. */
	info.explain = false;
	out = pcp_test_run_writer(PCP_FORMAT_TEXT, &info, &two, 1, NULL);
	assert_null(strstr(out, "openssl"));
	assert_null(strstr(out, "psql"));
	assert_non_null(strstr(out, "expired on 2025-05-12\n\n"));
	free(out);
	pcp_result_cleanup(&two);
	for (size_t i = 0; i < 4; i++)
		pcp_result_cleanup(&r[i]);
}

/* Stores that are neither the old nor the new root's: the summary says why there are no
 * classes instead of leaving them out silently. */
static void test_summary_without_class_stores(void **state)
{
	static const char *const stores[] = {"mine", "theirs", "ours"};
	struct pcp_run_info info = pcp_test_run_info(stores, 0, -1);
	struct pcp_result r;
	char *out;

	(void)state;
	pcp_test_record(&r, "db", "db", "10.0.0.1", 5432, PCP_STATUS_TIMEOUT, "no answer");
	out = pcp_test_run_writer(PCP_FORMAT_SUMMARY, &info, &r, 1, NULL);
	assert_non_null(strstr(out, "no migration classes: no store is called \"baltimore\" "
	                            "(name the old and new root's stores with --old-store and "
	                            "--new-store)"));
	free(out);
	info.old_store = "mine";
	out = pcp_test_run_writer(PCP_FORMAT_SUMMARY, &info, &r, 1, NULL);
	assert_non_null(strstr(out, "no store is called \"digicert-g2\""));
	free(out);
	pcp_result_cleanup(&r);
}

/* A leaf with two CNs and no SAN: libpq compares the certificate's first CN, which RFC
 * 2253 text puts last; the explanation must quote that one, not the one the host matches. */
static void test_reason_two_cns(void **state)
{
	struct pcp_result r;
	struct pcp_verdict v;
	char *words;

	(void)state;
	pcp_test_record(&r, "twocn.pg.example", "twocn.pg.example", "10.0.0.1", 5432, PCP_STATUS_OK,
	                "");
	r.chain = calloc(1, sizeof *r.chain);
	assert_non_null(r.chain);
	r.chain_len = 1;
	make_cert(&r.chain[0], "CN=twocn.pg.example,CN=first.pg.example,O=Acme", "CN=CA", 'l', NULL,
	          0, "EC P-256");
	make_verdict(&v, false, PCP_VERDICT_NAME_MISMATCH, 0,
	             "server certificate for \"first.pg.example\" does not match host name "
	             "\"twocn.pg.example\"",
	             "name mismatch", "l", 0);
	words = pcp_reason_text(&r, &v);
	assert_non_null(words);
	assert_string_equal(
	        words, "the server's certificate names 'first.pg.example', not 'twocn.pg.example'");
	free(words);
	pcp_verdict_cleanup(&v);
	pcp_result_cleanup(&r);
}

/* Each kind of failure in plain words: which certificate, which date, which issuer. */
static void test_text_reason_words(void **state)
{
	static const char *const store1[] = {"s"};
	static const struct {
		int code, depth;
		const char *reason, *path, *anchor, *want;
	} cases[] = {
	        {9, 0, "not yet valid until 2030-01-01", "li", NULL,
	         "the server's certificate 'db1' is not valid before 2030-01-01"},
	        {10, 1, "intermediate expired 2023-11-14", "lir", BALTIMORE_DN,
	         "the intermediate 'Inter, \"Quoted\"' expired on 2023-11-14"},
	        {18, 0, "self-signed leaf", "l", "CN=db1",
	         "the server's certificate 'db1' is "
	         "self-signed and not in the store"},
	        {19, 1, "untrusted root", "li", NULL,
	         "the server sent the intermediate 'Inter, \"Quoted\"', which is not in the store"},
	        {20, 0, "unknown issuer", "x", NULL,
	         "no certificate in the store issued 'CN=Inter\\, \"Quoted\",O=Acme' (the server "
	         "did not send it, or the store lacks its root)"},
	        {20, 1, "unknown issuer", "lxy", NULL,
	         "no certificate in the store issued the intermediate at depth 1 (the store lacks "
	         "its issuer)"},
	        {68, 0, "weak signature (SHA-1)", "li", NULL,
	         "the server's certificate 'db1' is signed with sha256WithRSAEncryption, too weak "
	         "for the client's security level"},
	        {66, 0, "weak key (RSA 1024)", "li", NULL,
	         "the server's certificate 'db1' has a key too small for the client's security "
	         "level (RSA 1024)"},
	        {26, 0, "not for TLS servers", "li", NULL,
	         "the server's certificate 'db1' is not meant for TLS servers (its extended key "
	         "usage)"},
	        {PCP_VERDICT_NO_HOST, 0, "no host name", "li", NULL,
	         "verify-full needs a host name to compare, and the target gives only an address"},
	        {PCP_VERDICT_NAME_MISMATCH, 0, "name mismatch", "li", NULL,
	         "the server's certificate names 'db1', not 'db1.example.com'"},
	        {50, 1, "application verification failure", "li", NULL,
	         "the intermediate 'Inter, \"Quoted\"': application verification failure"},
	};
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);

	(void)state;
	info.store_names = store1;
	info.n_stores = 1;
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		struct pcp_result r;
		char want[512];

		pcp_test_record(&r, "db1.example.com", "db1.example.com", "10.0.0.1", 5432,
		                PCP_STATUS_OK, "");
		r.chain = calloc(2, sizeof *r.chain);
		assert_non_null(r.chain);
		r.chain_len = 2;
		make_cert(&r.chain[0], "CN=db1,O=Acme", "CN=Inter\\, \"Quoted\",O=Acme", 'l', NULL,
		          0, "RSA 1024");
		make_cert(&r.chain[1], "CN=Inter\\, \"Quoted\",O=Acme", BALTIMORE_DN, 'i', NULL, 0,
		          "RSA 2048");
		r.verdicts = calloc(1, sizeof *r.verdicts);
		assert_non_null(r.verdicts);
		r.n_verdicts = 1;
		make_verdict(&r.verdicts[0], false, cases[c].code, cases[c].depth,
		             "certificate verify failed: application verification failure",
		             cases[c].reason, cases[c].path, 0);
		r.verdicts[0].anchor = cases[c].anchor ? pcp_test_strdup(cases[c].anchor) : NULL;
		char *out = pcp_test_run_writer(PCP_FORMAT_TEXT, &info, &r, 1, NULL);
		snprintf(want, sizeof want, "\n  db1.example.com 10.0.0.1:5432 under s: %s\n",
		         cases[c].want);
		if (!strstr(out, want))
			fail_msg("case %zu: want %s in:\n%s", c, want, out);
		free(out);
		pcp_result_cleanup(&r);
	}
}

/* Changes since the baseline: a section with one line per change, capped; "none" when the
 * baseline shows nothing new; no section without a baseline. */
static void test_text_changes(void **state)
{
	struct pcp_run_info info = pcp_test_run_info(store_names, 0, -1);
	struct pcp_result r[3];
	const char *v[3] = {"", "", ""};
	char from[80];

	(void)state;
	make_ok(&r[0], "db1", "db1", "10.0.0.1", 5432, v);
	make_ok(&r[1], "db2", "db2", "10.0.0.2", 5432, v);
	make_ok(&r[2], "db3", "db3", "10.0.0.3", 5432, v);
	for (size_t i = 0; i < 3; i++)
		r[i].has_baseline = true;
	memset(from, 'a', 64);
	from[64] = '\0';
	add_change(&r[0], "leaf_rotated", NULL, from, "bbbb");
	add_change(&r[0], "verdict_flipped", "baltimore", "ok", "fail");
	add_change(&r[0], "address_vanished", NULL, "10.0.0.9", NULL);
	for (int i = 0; i < 20; i++)
		add_change(&r[2], "anchor_changed", NULL, "CN=\x1b[31mold", "CN=new");
	char *out = run_text_and_summary(&info, r, 3);
	assert_non_null(strstr(
	        out,
	        "\nchanges since the baseline: 23 in 2 addresses\n"
	        "  db1 10.0.0.1:5432: leaf rotated: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa… → "
	        "bbbb\n"
	        "  db1 10.0.0.1:5432: verdict flipped under baltimore: ok → fail\n"
	        "  db1 10.0.0.1:5432: address vanished: 10.0.0.9 → -\n"
	        "  db3 10.0.0.3:5432: anchor changed: CN=?[31mold → CN=new\n"));
	assert_non_null(strstr(out, "  … and 3 more changes (details with --format json)\n"));
	free(out);

	for (size_t i = 0; i < 3; i++) {
		for (size_t k = 0; k < r[i].n_changes; k++) {
			free(r[i].changes[k].store);
			free(r[i].changes[k].from);
			free(r[i].changes[k].to);
		}
		free(r[i].changes);
		r[i].changes = NULL;
		r[i].n_changes = 0;
	}
	out = pcp_test_run_writer(PCP_FORMAT_SUMMARY, &info, r, 3, NULL);
	assert_non_null(strstr(out, "\nchanges since the baseline: none\n"));
	free(out);
	r[0].has_baseline = r[1].has_baseline = r[2].has_baseline = false;
	out = pcp_test_run_writer(PCP_FORMAT_SUMMARY, &info, r, 3, NULL);
	assert_null(strstr(out, "baseline"));
	free(out);
	for (size_t i = 0; i < 3; i++)
		pcp_result_cleanup(&r[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_format_parse),
	        cmocka_unit_test(test_status_short),
	        cmocka_unit_test(test_writer_new_free),
	        cmocka_unit_test(test_json_ok_record),
	        cmocka_unit_test(test_json_failed_records),
	        cmocka_unit_test(test_json_hostile_bytes),
	        cmocka_unit_test(test_json_lines_and_flush),
	        cmocka_unit_test(test_json_client_divergent_future),
	        cmocka_unit_test(test_json_java_client_future_drivers),
	        cmocka_unit_test(test_text_table),
	        cmocka_unit_test(test_text_color),
	        cmocka_unit_test(test_text_summary_variants),
	        cmocka_unit_test(test_text_sanitises),
	        cmocka_unit_test(test_text_display_width),
	        cmocka_unit_test(test_text_streaming),
	        cmocka_unit_test(test_text_divergent_clients_future),
	        cmocka_unit_test(test_text_clients_all_connect),
	        cmocka_unit_test(test_text_summary_caps),
	        cmocka_unit_test(test_text_divergent_streamed),
	        cmocka_unit_test(test_json_instants),
	        cmocka_unit_test(test_json_single_instant_and_duplicates),
	        cmocka_unit_test(test_text_two_instants),
	        cmocka_unit_test(test_text_reasons_capped),
	        cmocka_unit_test(test_text_explain),
	        cmocka_unit_test(test_text_explain_store_kinds),
	        cmocka_unit_test(test_text_reason_words),
	        cmocka_unit_test(test_reason_two_cns),
	        cmocka_unit_test(test_summary_without_class_stores),
	        cmocka_unit_test(test_text_changes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
