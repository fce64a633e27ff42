/* A trust store file (--store NAME=PATH, [stores] in the configuration, and a client's
 * sslrootcert in the audit): a PEM bundle of certificates, trusted certificates and CRLs
 * read by pcp_store_load. Each certificate the store holds is then verified, alone, under
 * the store. Input: the file's contents. */
#include <openssl/x509.h>

#include "fuzzutil.h"
#include "truststore.h"
#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcp_error err = {0};
	struct fuzz_file f;
	struct pcp_store *s;
	STACK_OF(X509_OBJECT) * objs;
	size_t certs = 0;

	if (fuzz_file_open(&f, data, size) != 0)
		return 0;
	s = pcp_store_load("fuzz", f.path, &err);
	fuzz_file_close(&f);
	if (!s) {
		FUZZ_CHECK(err.msg[0]);
		return 0;
	}
	FUZZ_CHECK(s->n_certs > 0);
	objs = X509_STORE_get0_objects(s->store);
	for (int i = 0; i < sk_X509_OBJECT_num(objs) && certs < 8; i++) {
		X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
		STACK_OF(X509) *one = x ? sk_X509_new_null() : NULL;
		struct pcp_chain *chain = NULL;
		const struct pcp_verify_params params = {.at = 1748736000,
		                                         .auth_level = 2,
		                                         .sslmode = PCP_SSLMODE_VERIFY_FULL,
		                                         .host = "db.example.com"};
		struct pcp_verdict v = {0};

		if (!one)
			continue;
		certs++;
		if (sk_X509_push(one, x) && (chain = pcp_chain_from_stack(one)) &&
		    pcp_verify_chain(chain, s, &params, &v, &err) == 0)
			FUZZ_CHECK(v.ok || v.error[0]);
		pcp_verdict_cleanup(&v);
		pcp_chain_free(chain);
		sk_X509_free(one);
	}
	FUZZ_CHECK(certs > 0);
	pcp_store_free(s);
	return 0;
}
