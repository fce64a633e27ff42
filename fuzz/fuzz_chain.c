/* Certificate chains, as a server serves them (DER certificates one after the other, the
 * shape of TLS's Certificate message) and as --chain and --future-chain files hold them
 * (PEM, pcp_chain_load_pem). Each chain found is judged as a probed address is: facts,
 * verdicts under two stores (Baltimore, and one holding the chain's own last certificate)
 * at two instants, the verify-full name check, the class, the future-chain verdicts and
 * the audit of a client whose root file is that last certificate; then the record goes
 * through every writer, and the JSON one must still parse. Input: the chain's bytes. */
#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "fuzzutil.h"
#include "judge.h"
#include "report.h"

#define MAX_CERTS 10

static const time_t ats[] = {1613347200, 1748736000}; /* 2021-02-15, 2025-06-01 */

/* The certificates DER-encoded one after the other, as far as they parse. */
static struct pcp_chain *der_chain(const uint8_t *data, size_t size)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	const unsigned char *p = data, *end = data + size;
	struct pcp_chain *chain = NULL;
	X509 *x;

	if (!sk)
		return NULL;
	while (p < end && sk_X509_num(sk) < MAX_CERTS && (x = d2i_X509(NULL, &p, end - p)))
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			break;
		}
	if (sk_X509_num(sk) > 0)
		chain = pcp_chain_from_stack(sk);
	sk_X509_pop_free(sk, X509_free);
	return chain;
}

/* The chain's last certificate as a PEM file in memory. */
static int last_cert_file(const struct pcp_chain *chain, struct fuzz_file *f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	X509 *last = pcp_chain_get0(chain, pcp_chain_len(chain) - 1);
	int rc = -1;

	if (!mem)
		return -1;
	if (PEM_write_X509(mem, last) && fclose(mem) == 0)
		rc = fuzz_file_open(f, buf, len);
	else
		fclose(mem);
	free(buf);
	return rc;
}

static void write_all(const struct pcp_run_info *info, const struct pcp_result *res)
{
	static const enum pcp_format formats[] = {PCP_FORMAT_TEXT, PCP_FORMAT_SUMMARY,
	                                          PCP_FORMAT_JSON, PCP_FORMAT_PROMETHEUS,
	                                          PCP_FORMAT_CSV};
	size_t verified[2] = {0};
	const struct pcp_run_totals totals = {.records = 1, .ok = 1, .verified = verified};

	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&buf, &len);
		struct pcp_writer *w = out ? pcp_writer_new(formats[i], out, info) : NULL;

		if (w && w->ops->begin(w) == 0 && w->ops->record(w, res) == 0 &&
		    w->ops->end(w, &totals) == 0 && fflush(out) == 0 &&
		    formats[i] == PCP_FORMAT_JSON) {
			json_error_t jerr;
			json_t *rec = json_loadb(buf, len, JSON_DISABLE_EOF_CHECK, &jerr);

			FUZZ_CHECK(rec && json_is_object(rec));
			json_decref(rec);
		}
		pcp_writer_free(w);
		if (out)
			fclose(out);
		free(buf);
	}
}

static void judge(const struct pcp_chain *chain, const char *chain_path, bool ip_host)
{
	struct pcp_store_list stores = {0};
	struct pcp_error err = {0};
	struct pcp_store *s;
	struct fuzz_file own;
	struct pcp_judge *j = NULL;
	struct pcp_result res = {0};
	char host[] = "db.example.com", addr[] = "192.0.2.10";
	struct pcp_target t = {.text = host,
	                       .host = ip_host ? addr : host,
	                       .port = 5432,
	                       .is_conninfo = true,
	                       .client_sslmode = PCP_LIBPQ_VERIFY_FULL};

	if (last_cert_file(chain, &own) != 0)
		return;
	t.sslrootcert = own.path;
	if ((s = pcp_store_load("baltimore", PCP_SOURCE_DIR "/config/baltimore-cybertrust-root.pem",
	                        &err)) &&
	    pcp_store_list_add(&stores, s, &err) != PCP_OK)
		pcp_store_free(s);
	if ((s = pcp_store_load("digicert-g2", own.path, &err)) &&
	    pcp_store_list_add(&stores, s, &err) != PCP_OK)
		pcp_store_free(s);
	if (stores.n == 2) {
		const struct pcp_judge_config cfg = {.stores = &stores,
		                                     .ats = ats,
		                                     .n_ats = 2,
		                                     .auth_level = 2,
		                                     .warn_days = 30,
		                                     .client_home = "/nonexistent",
		                                     .future_chain = chain_path};
		const struct pcp_run_info info = {.store_names = stores.names,
		                                  .n_stores = stores.n,
		                                  .at = ats[0],
		                                  .ats = ats,
		                                  .n_ats = 2,
		                                  .warn_days = 30,
		                                  .sslmode = PCP_SSLMODE_VERIFY_FULL,
		                                  .version = "fuzz",
		                                  .explain = true,
		                                  .store_paths = stores.paths};

		j = pcp_judge_new(&cfg, &err);
		if (j && (res.target = strdup(host)) && (res.host = strdup(t.host))) {
			const struct pcp_judge_client *client = NULL;
			struct pcp_result *group = &res;

			snprintf(res.addr, sizeof res.addr, "%s", addr);
			res.port = 5432;
			res.status = PCP_STATUS_OK;
			res.sslmode = PCP_SSLMODE_VERIFY_FULL;
			if (pcp_judge_client_for(j, &t, &client, &err) == 0 &&
			    pcp_judge_record(j, &res, &t, client, chain, &err) == 0 &&
			    pcp_judge_group(j, &group, 1, &err) == 0)
				write_all(&info, &res);
		}
	}
	pcp_result_cleanup(&res);
	pcp_judge_free(j);
	pcp_store_list_cleanup(&stores);
	fuzz_file_close(&own);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcp_error err = {0};
	struct fuzz_file f;
	struct pcp_chain *pem, *der;

	if (fuzz_file_open(&f, data, size) != 0)
		return 0;
	pem = pcp_chain_load_pem(f.path, &err);
	FUZZ_CHECK(pem || err.msg[0]);
	if (pem)
		judge(pem, f.path, size % 2);
	der = der_chain(data, size);
	if (der)
		judge(der, NULL, size % 2);
	pcp_chain_free(pem);
	pcp_chain_free(der);
	fuzz_file_close(&f);
	return 0;
}
