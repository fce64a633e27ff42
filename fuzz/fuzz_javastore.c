/* A Java truststore (--store NAME=PATH holding PKCS#12 or JKS, found by content): the
 * bytes go to pcp_javastore_parse without a password and with the seeds' one, under a low
 * iteration limit so that key derivation stays cheap. Properties: a failure has a message
 * and a configuration (or memory) code; a success has the detected format, at most one
 * anchor per entry, aliases that are valid UTF-8, integrity checked only with a password,
 * and anchors that encode again. Input: the file's bytes. */
#include <openssl/x509.h>
#include <string.h>

#include "fuzzutil.h"
#include "javastore.h"
#include "utf8.h"

static void check(const struct pcp_javastore *js, const uint8_t *data, size_t size,
                  const char *password)
{
	size_t anchors = 0;

	FUZZ_CHECK(js->format == pcp_javastore_detect(data, size));
	FUZZ_CHECK(password || !js->integrity_checked);
	for (size_t i = 0; i < js->n_entries; i++) {
		const struct pcp_javastore_entry *e = &js->entries[i];
		const unsigned char *a = (const unsigned char *)e->alias;
		size_t len = strlen(e->alias);
		uint32_t cp;

		for (size_t k = 0, step; k < len; k += step)
			FUZZ_CHECK((step = pcp_utf8_decode(a + k, len - k, &cp)) > 0);
		if (e->anchor) {
			anchors++;
			FUZZ_CHECK(i2d_X509(e->anchor, NULL) > 0);
		}
	}
	FUZZ_CHECK(anchors == js->n_anchors);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const passwords[] = {NULL, "password"};

	for (size_t i = 0; i < sizeof passwords / sizeof passwords[0]; i++) {
		const struct pcp_javastore_opts opts = {.password = passwords[i],
		                                        .max_iterations = 2048};
		struct pcp_error err = {0};
		struct pcp_javastore js;
		enum pcp_errc rc = pcp_javastore_parse(data, size, &opts, &js, &err);

		if (rc == PCP_OK)
			check(&js, data, size, passwords[i]);
		else
			FUZZ_CHECK((rc == PCP_ERR_CONFIG || rc == PCP_ERR_SYSTEM) && err.msg[0]);
		pcp_javastore_cleanup(&js);
	}
	return 0;
}
