/* Unit tests of the report writers: the JSON Lines writer's output parsed back with jansson
 * (every key, its type and value, key order, hostile bytes, client audit, divergence, future
 * chain), and the text table (columns, widths, ✓/✗ reasons, colour, sanitisation, streaming
 * after the buffered rows, summary with divergent names, clients and the future chain). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static const char *const store_names[] = {"baltimore", "digicert-g2", "combined"};

#define AT_2021_02_15 ((time_t)1613347200)

static struct pcp_run_info make_info(bool color)
{
	struct pcp_run_info info = {
	        .store_names = store_names,
	        .n_stores = 3,
	        .at = AT_2021_02_15,
	        .at_given = true,
	        .sslmode = PCP_SSLMODE_VERIFY_FULL,
	        .color = color,
	        .version = "0.1.0",
	};
	return info;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	assert_non_null(p);
	return p;
}

static void fill_hex(char out[PCP_SHA256_HEX], char c)
{
	memset(out, c, PCP_SHA256_HEX - 1);
	out[PCP_SHA256_HEX - 1] = '\0';
}

static void set_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

static void make_cert(struct pcp_cert_facts *f, const char *subject, const char *issuer, char hex,
                      const char *const *san, size_t n_san, const char *key)
{
	memset(f, 0, sizeof *f);
	f->subject = xstrdup(subject);
	f->issuer = xstrdup(issuer);
	f->serial = xstrdup("01AB");
	f->not_before = 1600000000; /* 2020-09-13T12:26:40Z */
	f->not_after = 1700000000;  /* 2023-11-14T22:13:20Z */
	fill_hex(f->sha256, hex);
	if (n_san) {
		f->san = calloc(n_san, sizeof *f->san);
		assert_non_null(f->san);
		for (size_t i = 0; i < n_san; i++)
			f->san[i] = xstrdup(san[i]);
		f->n_san = n_san;
	}
	f->key = xstrdup(key);
	f->sig_alg = xstrdup("sha256WithRSAEncryption");
}

static void make_verdict(struct pcp_verdict *v, bool ok, int code, int depth, const char *error,
                         const char *reason, const char *path_hex, time_t path_not_after)
{
	memset(v, 0, sizeof *v);
	v->ok = ok;
	v->code = code;
	v->depth = depth;
	set_str(v->error, sizeof v->error, error);
	set_str(v->reason, sizeof v->reason, reason);
	v->path_len = strlen(path_hex);
	if (v->path_len) {
		v->path = calloc(v->path_len, sizeof *v->path);
		assert_non_null(v->path);
		for (size_t i = 0; i < v->path_len; i++)
			fill_hex(v->path[i], path_hex[i]);
	}
	v->path_not_after = path_not_after;
}

static void make_base(struct pcp_result *r, const char *target, const char *host, const char *addr,
                      uint16_t port, enum pcp_status status, const char *error)
{
	memset(r, 0, sizeof *r);
	r->target = xstrdup(target);
	r->host = host ? xstrdup(host) : NULL;
	set_str(r->addr, sizeof r->addr, addr);
	r->port = port;
	r->sslmode = PCP_SSLMODE_VERIFY_FULL;
	r->status = status;
	set_str(r->error, sizeof r->error, error);
	r->connect_ms = status == PCP_STATUS_OK || status == PCP_STATUS_NO_SSL ? 1.5 : -1;
	r->total_ms = 12.25;
}

/* Three verdicts given as ok flags and reasons ("" when ok). */
static void make_ok(struct pcp_result *r, const char *target, const char *host, const char *addr,
                    uint16_t port, const char *reasons[3])
{
	make_base(r, target, host, addr, port, PCP_STATUS_OK, "");
	set_str(r->tls_version, sizeof r->tls_version, "TLSv1.3");
	set_str(r->tls_cipher, sizeof r->tls_cipher, "TLS_AES_256_GCM_SHA384");
	r->verdicts = calloc(3, sizeof *r->verdicts);
	assert_non_null(r->verdicts);
	r->n_verdicts = 3;
	for (size_t i = 0; i < 3; i++) {
		bool ok = reasons[i][0] == '\0';
		make_verdict(&r->verdicts[i], ok, ok ? 0 : 20, ok ? -1 : 1,
		             ok ? "" : "certificate verify failed", reasons[i], ok ? "ab" : "a", 0);
	}
}

/* The full ok record of the JSON tests: two certificates, three different verdicts. */
static void make_json_ok(struct pcp_result *r)
{
	static const char *const san[] = {"DNS:db1.example.com", "IP:10.0.0.1"};

	make_base(r, "db1.example.com", "db1.example.com", "10.0.0.1", 5432, PCP_STATUS_OK, "");
	set_str(r->tls_version, sizeof r->tls_version, "TLSv1.3");
	set_str(r->tls_cipher, sizeof r->tls_cipher, "TLS_AES_256_GCM_SHA384");
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
	c->rootcert = rootcert ? xstrdup(rootcert) : NULL;
	c->rootcert_exists = exists;
	c->verifies = mode >= PCP_LIBPQ_VERIFY_CA || exists;
	if (n_roots) {
		c->roots = calloc(n_roots, sizeof *c->roots);
		assert_non_null(c->roots);
		for (size_t i = 0; i < n_roots; i++) {
			c->roots[i].subject = xstrdup(subjects[i]);
			fill_hex(c->roots[i].sha256, (char)('1' + i));
			c->roots[i].known = known[i];
		}
		c->n_roots = n_roots;
	}
	c->now.connects = connects;
	c->now.encrypted = encrypted;
	set_str(c->now.error, sizeof c->now.error, error);
	if (after) {
		c->has_after = true;
		c->after = *after;
	}
	return c;
}

static struct pcp_client_verdict client_verdict(bool connects, bool encrypted, const char *error)
{
	struct pcp_client_verdict v = {.connects = connects, .encrypted = encrypted};

	set_str(v.error, sizeof v.error, error);
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

/* Output captured in memory. */
struct capture {
	char *buf;
	size_t size;
	FILE *f;
};

static void cap_open(struct capture *c)
{
	c->buf = NULL;
	c->size = 0;
	c->f = open_memstream(&c->buf, &c->size);
	assert_non_null(c->f);
}

static char *cap_close(struct capture *c)
{
	assert_int_equal(fclose(c->f), 0);
	return c->buf;
}

/* Runs a whole writer over n records and returns what it wrote. */
static char *run_writer(enum pcp_format fmt, const struct pcp_run_info *info,
                        const struct pcp_result *recs, size_t n,
                        const struct pcp_run_totals *totals)
{
	struct capture c;

	cap_open(&c);
	struct pcp_writer *w = pcp_writer_new(fmt, c.f, info);
	assert_non_null(w);
	assert_int_equal(w->ops->begin(w), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(w->ops->record(w, &recs[i]), 0);
	assert_int_equal(w->ops->end(w, totals), 0);
	pcp_writer_free(w);
	return cap_close(&c);
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
	assert_int_equal(pcp_format_parse("csv", &f), -1);
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
	struct pcp_run_info info = make_info(false);
	struct capture c;

	(void)state;
	cap_open(&c);
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
	free(cap_close(&c));
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
		fill_hex(want, hex[i]);
		assert_true(json_is_string(json_array_get(path, i)));
		assert_string_equal(json_string_value(json_array_get(path, i)), want);
	}
}

static const char *const record_keys[] = {"target", "host",      "addr", "port",   "sslmode",
                                          "status", "error",     "tls",  "timing", "chain",
                                          "verify", "divergent", "at"};
static const char *const cert_keys[] = {"subject", "issuer", "serial", "not_before", "not_after",
                                        "sha256",  "san",    "key",    "sig_alg"};
static const char *const verdict_keys[] = {"ok",     "error", "code",          "depth",
                                           "reason", "path",  "path_not_after"};

static void test_json_ok_record(void **state)
{
	struct pcp_run_info info = make_info(false);
	struct pcp_result r;
	json_t *objs[2];
	char want[PCP_SHA256_HEX];

	(void)state;
	make_json_ok(&r);
	char *out = run_writer(PCP_FORMAT_JSON, &info, &r, 1, NULL);
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
	fill_hex(want, 'a');
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
	fill_hex(want, 'b');
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
	struct pcp_run_info info = make_info(false);
	struct pcp_result r[3];
	json_t *objs[4];

	(void)state;
	make_base(&r[0], "db2.example.com:6432", "db2.example.com", "10.0.0.2", 6432,
	          PCP_STATUS_NO_SSL, "server does not support SSL, but SSL was required");
	make_base(&r[1], "nxdomain.invalid", "nxdomain.invalid", "", 5432, PCP_STATUS_DNS_FAILED,
	          "could not translate host name \"nxdomain.invalid\"");
	make_base(&r[2], "hostaddr=10.0.0.3", NULL, "10.0.0.3", 5432, PCP_STATUS_TIMEOUT, "");
	r[2].sslmode = PCP_SSLMODE_VERIFY_CA;

	char *out = run_writer(PCP_FORMAT_JSON, &info, r, 3, NULL);
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
	static const char *const san[] = {"DNS:a\x01"
	                                  "b",
	                                  "DNS:\xed\xa0\x80", "DNS:x\"}],{\"y"};
	struct pcp_run_info info = make_info(false);
	struct pcp_result r;
	json_t *objs[2];

	(void)state;
	info.store_names = store_weird;
	info.n_stores = 2;
	make_base(&r, "evil\r\n{\"x\":1}", "h\xff\\st", "10.0.0.4", 5432, PCP_STATUS_OK, "");
	set_str(r.tls_version, sizeof r.tls_version, "TLSv1.2");
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

	char *out = run_writer(PCP_FORMAT_JSON, &info, &r, 1, NULL);
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

static const char *const client_keys[] = {"sslmode",   "rootcert", "rootcert_exists",
                                          "verifies",  "roots",    "connects",
                                          "encrypted", "error",    "after"};
static const char *const root_keys[] = {"subject", "sha256", "known"};
static const char *const after_keys[] = {"connects", "encrypted", "error"};

/* "client", "future" and "divergent": each key, its type and value, and where it sits. */
static void test_json_client_divergent_future(void **state)
{
	static const char *const keys_full[] = {
	        "target", "host",  "addr",   "port",      "sslmode", "status", "error", "tls",
	        "timing", "chain", "verify", "divergent", "client",  "future", "at"};
	static const char *const keys_client[] = {
	        "target", "host",   "addr",  "port",   "sslmode",   "status", "error",
	        "tls",    "timing", "chain", "verify", "divergent", "client", "at"};
	static const char *const keys_future[] = {
	        "target", "host",   "addr",  "port",   "sslmode",   "status", "error",
	        "tls",    "timing", "chain", "verify", "divergent", "future", "at"};
	const char *future_reasons[3] = {"unknown issuer", "", ""};
	struct pcp_run_info info = make_info(false);
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
	make_base(&r[1], "host=db2 port=5433", "db2", "10.0.0.2", 5433, PCP_STATUS_REFUSED,
	          "connection refused");
	r[1].client = make_client(PCP_LIBPQ_PREFER, NULL, false, 0, false, false,
	                          "connection refused", NULL);
	/* 2: a plain host:port target with future verdicts only. */
	make_json_ok(&r[2]);
	make_future(&r[2], future_reasons);
	/* 3: hostile bytes in the client's fields; a require client that connects after. */
	make_base(&r[3], "sslrootcert=x", "db4", "10.0.0.4", 5432, PCP_STATUS_OK, "");
	struct pcp_client_verdict after3 = client_verdict(true, true, "");
	r[3].client = make_client(PCP_LIBPQ_REQUIRE, "/tmp/\x1b[2Jroot\xff.crt", true, 3, false,
	                          false, "bad\x01\"}\xff", &after3);

	char *out = run_writer(PCP_FORMAT_JSON, &info, r, 4, NULL);
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
	assert_keys(root0, root_keys, 3);
	assert_keys(root1, root_keys, 3);
	assert_str(root0, "subject", "CN=Baltimore CyberTrust Root,OU=CyberTrust");
	fill_hex(want, '1');
	assert_str(root0, "sha256", want);
	assert_str(root0, "known", "Baltimore CyberTrust Root");
	assert_str(root1, "subject", "CN=DigiCert Global Root G2");
	fill_hex(want, '2');
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
	struct pcp_run_info info = make_info(false);
	struct pcp_result r;
	struct capture c;

	(void)state;
	make_json_ok(&r);
	cap_open(&c);
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
	char *out = cap_close(&c);
	assert_memory_equal(out, out + one, one);
	free(out);

	out = run_writer(PCP_FORMAT_JSON, &info, NULL, 0, NULL);
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
	make_base(&r[3], "db2.example.com:6432", "db2.example.com", "10.0.0.2", 6432,
	          PCP_STATUS_NO_SSL, "server does not support SSL");
	make_base(&r[4], "nxdomain.invalid:5432", "nxdomain.invalid", "", 5432,
	          PCP_STATUS_DNS_FAILED, "could not resolve nxdomain.invalid");
}

static const size_t table_verified[3] = {2, 2, 3};

static void test_text_table(void **state)
{
	struct pcp_run_info info = make_info(false);
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
	         "\n"
	         "5 addresses: 2 verify under baltimore, 2 under digicert-g2, 3 under combined; "
	         "2 could not be probed\n"
	         "sslmode verify-full, as of 2021-02-15T00:00:00Z\n");

	char *out = run_writer(PCP_FORMAT_TEXT, &info, r, 5, &totals);
	assert_string_equal(out, want);
	assert_null(strchr(out, '\033')); /* no colour when color is false */
	free(out);

	/* Without totals the writer counts itself; same summary. */
	out = run_writer(PCP_FORMAT_TEXT, &info, r, 5, NULL);
	assert_non_null(strstr(out, "5 addresses: 2 verify under baltimore, 2 under "
	                            "digicert-g2, 3 under combined; 2 could not be probed\n"));
	free(out);
	for (size_t i = 0; i < 5; i++)
		pcp_result_cleanup(&r[i]);
}

static void test_text_color(void **state)
{
	struct pcp_run_info info = make_info(true);
	struct pcp_result r[5];

	(void)state;
	make_table_records(r);
	char *out = run_writer(PCP_FORMAT_TEXT, &info, r, 5, NULL);
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
	struct pcp_run_info info = make_info(false);
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
	info.at_given = false;
	info.sslmode = PCP_SSLMODE_VERIFY_CA;
	make_ok(&r, "db1", "db1", "10.0.0.1", 5432, v);
	char *out = run_writer(PCP_FORMAT_TEXT, &info, &r, 1, &totals);
	assert_non_null(strstr(out, "\n1 address: 1 verify under baltimore, 0 under digicert-g2, "
	                            "0 under combined; 0 could not be probed\n"
	                            "sslmode verify-ca\n"
	                            "(interrupted: not all targets were probed)\n"));
	assert_null(strstr(out, "as of"));
	free(out);

	/* No records at all: just the summary. */
	size_t zero[3] = {0, 0, 0};
	struct pcp_run_totals none = {.verified = zero};
	info.at_given = true;
	out = run_writer(PCP_FORMAT_TEXT, &info, NULL, 0, &none);
	assert_string_equal(out, "\n0 addresses: 0 verify under baltimore, 0 under digicert-g2, "
	                         "0 under combined; 0 could not be probed\n"
	                         "sslmode verify-ca, as of 2021-02-15T00:00:00Z\n");
	free(out);
	pcp_result_cleanup(&r);
}

static void test_text_sanitises(void **state)
{
	struct pcp_run_info info = make_info(false);
	struct pcp_result r[3];
	const char *v[3] = {"name\tmis\x1bmatch", "", ""};

	(void)state;
	make_base(&r[0], "\x1b]0;pwned\x07:5432", "\x1b]0;pwned\x07", "", 5432,
	          PCP_STATUS_INVALID_TARGET, "bad\r\nline\x1b[2J\xff");
	make_ok(&r[1], "x",
	        "evil\xe2\x80\xae"
	        "moc.com\x7f",
	        "10.0.0.5", 5432, v);
	make_base(&r[2], "db9", "db9", "10.0.0.9", 5432, PCP_STATUS_PROTOCOL_ERROR,
	          "server sent E: FATAL:\x1b[31m \xc2\x9b"
	          "1m no\n");
	char *out = run_writer(PCP_FORMAT_TEXT, &info, r, 3, NULL);

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
	struct pcp_run_info info = make_info(false);
	struct pcp_result r[2];
	const char *v[3] = {"", "", ""};

	(void)state;
	make_ok(&r[0], "a", "\xc3\xa9t\xc3\xa9.example", "10.0.0.1", 5432, v); /* été: 3 cols */
	make_ok(&r[1], "b", "\xe6\x97\xa5\xe6\x9c\xac", "10.0.0.2", 5432, v);  /* 日本: 4 cols */
	char *out = run_writer(PCP_FORMAT_TEXT, &info, r, 2, NULL);
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
	struct pcp_run_info info = make_info(false);
	struct pcp_result r, longr, hugetarget;
	const char *v[3] = {"", "", ""};
	const char *vlong[3] = {"", "certificate has a very long reason", ""};
	struct capture c;
	char target[301];

	(void)state;
	make_ok(&r, "10.0.0.1", NULL, "10.0.0.1", 5432, v);
	make_ok(&longr, "x", "a-very-long-hostname.example.com", "10.0.0.2", 5432, vlong);
	memset(target, 't', 300);
	target[300] = '\0';
	make_base(&hugetarget, target, NULL, "", 5432, PCP_STATUS_INVALID_TARGET, "bad");

	cap_open(&c);
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
	char *out = cap_close(&c);

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
	out = run_writer(PCP_FORMAT_TEXT, &info, &hugetarget, 1, NULL);
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
	make_base(&r[3], "host=\x1b]0;x\x07 sslmode=verify-ca", "\x1b]0;x\x07", "", 5432,
	          PCP_STATUS_DNS_FAILED, "could not translate host name");
	r[3].client = make_client(PCP_LIBPQ_VERIFY_CA, "/root/.postgresql/root.crt", false, 0,
	                          false, false, nodns.error, &nodns);
	make_base(&r[4], "sslmode=prefer host=db5", "db5", "10.0.0.5", 5432, PCP_STATUS_NO_SSL,
	          "server does not support SSL");
	r[4].client = make_client(PCP_LIBPQ_PREFER, NULL, false, 0, true, false, "", &plain);
}

static void test_text_divergent_clients_future(void **state)
{
	struct pcp_run_info info = make_info(false);
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
	         "address\n");

	char *out = run_writer(PCP_FORMAT_TEXT, &info, r, 5, NULL);
	assert_string_equal(out, want);
	assert_null(strchr(out, '\033')); /* no colour when color is false */
	free(out);

	/* On a terminal the mark is yellow and failing counts red; columns still line up. */
	info.color = true;
	out = run_writer(PCP_FORMAT_TEXT, &info, r, 5, NULL);
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
	struct pcp_run_info info = make_info(false);
	struct pcp_result r[2];
	const char *v[3] = {"", "", ""};

	(void)state;
	make_ok(&r[0], "host=db1 sslmode=require", "db1", "10.0.0.1", 5432, v);
	r[0].client = make_client(PCP_LIBPQ_REQUIRE, NULL, false, 0, true, true, "", NULL);
	make_ok(&r[1], "db2", "db2", "10.0.0.2", 5432, v);
	char *out = run_writer(PCP_FORMAT_TEXT, &info, r, 2, NULL);
	assert_non_null(strstr(out, "sslmode verify-full, as of 2021-02-15T00:00:00Z\n"
	                            "1 client audited: 1 connect now (0 unencrypted), 0 fail\n"));
	assert_null(strstr(out, "after the switch"));
	assert_null(strstr(out, "divergent"));
	assert_null(strstr(out, "≠"));
	assert_null(strstr(out, "  host=db1"));
	free(out);

	out = run_writer(PCP_FORMAT_TEXT, &info, &r[1], 1, NULL);
	assert_null(strstr(out, "client"));
	free(out);
	for (size_t i = 0; i < 2; i++)
		pcp_result_cleanup(&r[i]);
}

/* The lists stay bounded: 20 divergent names and 20 failing clients, the rest counted. The
 * addresses of one name count once, and a name seen before is not listed twice. */
static void test_text_summary_caps(void **state)
{
	struct pcp_run_info info = make_info(false);
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

	char *out = run_writer(PCP_FORMAT_TEXT, &info, r, N, NULL);
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
	struct pcp_run_info info = make_info(false);
	struct pcp_result r, longr;
	const char *v[3] = {"", "", ""};
	struct capture c;

	(void)state;
	make_ok(&r, "10.0.0.1", NULL, "10.0.0.1", 5432, v);
	make_ok(&longr, "x", "a-very-long-hostname.example.com", "10.0.0.2", 5432, v);
	longr.divergent = true;
	cap_open(&c);
	struct pcp_writer *w = pcp_writer_new(PCP_FORMAT_TEXT, c.f, &info);
	assert_non_null(w);
	assert_int_equal(w->ops->begin(w), 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(w->ops->record(w, &r), 0);
	assert_int_equal(w->ops->record(w, &longr), 0);
	assert_int_equal(w->ops->end(w, NULL), 0);
	pcp_writer_free(w);
	char *out = cap_close(&c);
	assert_non_null(strstr(out, "\na-very-lon… ≠  ✓          ✓            ✓\n"));
	assert_non_null(strstr(out, "): a-very-long-hostname.example.com\n"));
	free(out);
	pcp_result_cleanup(&r);
	pcp_result_cleanup(&longr);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
