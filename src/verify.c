/* Verification of one captured chain against one trust store at one instant, set up the
 * way OpenSSL's TLS client does it (ssl/ssl_cert.c ssl_verify_cert_chain) inside libpq,
 * followed by libpq's verify-full name check. Pure computation: no I/O, so it can run
 * inside a loop callback. */
#include "verify.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostmatch.h"

/* libpq's text when verify-full has no host to compare (fe-secure-common.c). */
#define MSG_NO_HOST "host name must be specified for a verified SSL connection"

int pcp_verify_default_auth_level(void)
{
	/* A constant of this machine's OpenSSL build and configuration, computed once. */
	static int level = -1;
	SSL_CTX *ctx;

	if (level >= 0)
		return level;
	ERR_clear_error();
	if (!(ctx = SSL_CTX_new(TLS_client_method()))) {
		ERR_clear_error();
		return OPENSSL_TLS_SECURITY_LEVEL; /* not cached: try again next time */
	}
	level = SSL_CTX_get_security_level(ctx);
	SSL_CTX_free(ctx);
	return level;
}

static void format_date(const ASN1_TIME *t, char *buf, size_t len)
{
	time_t when = pcp_asn1_time(t);
	struct tm tm;

	if (!t || !gmtime_r(&when, &tm) || strftime(buf, len, "%Y-%m-%d", &tm) == 0)
		snprintf(buf, len, "?");
}

/* leaf / intermediate / root for the certificate at depth of a built path. */
static const char *role(const STACK_OF(X509) * path, int depth)
{
	X509 *cert = sk_X509_value(path, depth);

	if (depth == 0)
		return "leaf";
	if (cert && depth == sk_X509_num(path) - 1 && (X509_get_extension_flags(cert) & EXFLAG_SS))
		return "root";
	return "intermediate";
}

/* The weak digest's name for "weak signature (SHA-1)", or NULL. */
static const char *digest_name(X509 *cert)
{
	int mdnid = NID_undef, pknid = NID_undef;

	if (!cert || !OBJ_find_sigid_algs(X509_get_signature_nid(cert), &mdnid, &pknid))
		return NULL;
	switch (mdnid) {
	case NID_sha1:
		return "SHA-1";
	case NID_md5:
		return "MD5";
	case NID_md4:
		return "MD4";
	case NID_md2:
		return "MD2";
	default:
		return NULL;
	}
}

/* A short reason for tables, from the code and the certificate it concerns. */
static void make_reason(struct pcp_verdict *v, const STACK_OF(X509) * path)
{
	X509 *cert = v->depth >= 0 ? sk_X509_value(path, v->depth) : NULL;
	char date[32];

	switch (v->code) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		format_date(cert ? X509_get0_notAfter(cert) : NULL, date, sizeof date);
		snprintf(v->reason, sizeof v->reason, "%s expired %s", role(path, v->depth), date);
		return;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		format_date(cert ? X509_get0_notBefore(cert) : NULL, date, sizeof date);
		snprintf(v->reason, sizeof v->reason, "not yet valid until %s", date);
		return;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
		snprintf(v->reason, sizeof v->reason, "unknown issuer");
		return;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		snprintf(v->reason, sizeof v->reason, "self-signed leaf");
		return;
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		snprintf(v->reason, sizeof v->reason, "untrusted root");
		return;
	case X509_V_ERR_CA_MD_TOO_WEAK: {
		const char *md = digest_name(cert);

		if (md)
			snprintf(v->reason, sizeof v->reason, "weak signature (%s)", md);
		else
			snprintf(v->reason, sizeof v->reason, "weak signature");
		return;
	}
	case X509_V_ERR_EE_KEY_TOO_SMALL:
	case X509_V_ERR_CA_KEY_TOO_SMALL: {
		EVP_PKEY *pk = cert ? X509_get0_pubkey(cert) : NULL;
		const char *type = pk ? EVP_PKEY_get0_type_name(pk) : NULL;

		if (type)
			snprintf(v->reason, sizeof v->reason, "weak key (%s %d)", type,
			         EVP_PKEY_get_bits(pk));
		else
			snprintf(v->reason, sizeof v->reason, "weak key");
		return;
	}
	case X509_V_ERR_INVALID_PURPOSE:
		snprintf(v->reason, sizeof v->reason, "not for TLS servers");
		return;
	default:
		snprintf(v->reason, sizeof v->reason, "%s", X509_verify_cert_error_string(v->code));
		return;
	}
}

/* Records the built path (as far as it got) leaf to anchor, and its earliest notAfter. */
static int record_path(struct pcp_verdict *v, const STACK_OF(X509) * path)
{
	int n = sk_X509_num(path);

	if (n <= 0)
		return 0;
	if (!(v->path = calloc((size_t)n, sizeof *v->path)))
		return -1;
	for (int i = 0; i < n; i++) {
		X509 *cert = sk_X509_value(path, i);
		time_t na = pcp_asn1_time(X509_get0_notAfter(cert));

		pcp_cert_sha256_hex(cert, v->path[i]);
		if (na && (v->path_not_after == 0 || na < v->path_not_after))
			v->path_not_after = na;
	}
	v->path_len = (size_t)n;
	/* Where the path ends: the anchor when it verified, else as far as OpenSSL got. */
	if (!(v->anchor = pcp_x509_name_text(X509_get_subject_name(sk_X509_value(path, n - 1)))))
		return -1;
	return 0;
}

int pcp_verify_name(const struct pcp_cert_names *names, const char *host, struct pcp_verdict *out)
{
	return pcp_verify_driver_name(NULL, names, host, out);
}

int pcp_verify_driver_name(const struct pcp_driver *driver, const struct pcp_cert_names *names,
                           const char *host, struct pcp_verdict *out)
{
	enum pcp_hostmatch m;

	if (!driver)
		driver = &pcp_driver_libpq;
	if (!out->ok)
		return 0;
	if (!host || !host[0]) {
		out->ok = false;
		out->code = PCP_VERDICT_NO_HOST;
		out->depth = 0;
		snprintf(out->error, sizeof out->error, "%s", MSG_NO_HOST);
		snprintf(out->reason, sizeof out->reason, "no host name");
		return 0;
	}
	m = driver->match(names, host, out->error, sizeof out->error, out->reason,
	                  sizeof out->reason);
	if (m == PCP_HOST_MATCH) {
		out->error[0] = '\0';
		out->reason[0] = '\0';
		return 0;
	}
	out->ok = false;
	out->code = PCP_VERDICT_NAME_MISMATCH;
	out->depth = 0;
	return 0;
}

/* libpq's verify-full step, run only after the chain verified. */
static int check_name(const struct pcp_chain *chain, const struct pcp_verify_params *params,
                      struct pcp_verdict *out, struct pcp_error *err)
{
	struct pcp_cert_names names;

	if (pcp_chain_leaf_names(chain, &names) < 0) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "verify: out of memory");
		return -1;
	}
	pcp_verify_driver_name(params->driver, &names, params->host, out);
	pcp_cert_names_cleanup(&names);
	return 0;
}

/* What the verify callback needs to know. */
struct cb_data {
	const struct pcp_driver_chain *rules;
	const struct pcp_store *jdk_cacerts;
};

/* The driver's chain rules as OpenSSL verify callback decisions: errors its TLS stack does
 * not raise are let through (OpenSSL then goes on checking the rest of the chain). */
static int driver_cb(int ok, X509_STORE_CTX *ctx)
{
	const struct cb_data *data = X509_STORE_CTX_get_app_data(ctx);
	const struct pcp_driver_chain *rules = data ? data->rules : NULL;
	STACK_OF(X509) *path = X509_STORE_CTX_get0_chain(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);

	if (ok || !rules)
		return ok;
	switch (X509_STORE_CTX_get_error(ctx)) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		/* Only the anchor. Dates are checked once the path reached the store (an
		 * untrusted path has failed before), so the last certificate is the anchor. */
		return rules->anchor_time_ignored && depth == sk_X509_num(path) - 1;
	case X509_V_ERR_CA_MD_TOO_WEAK: {
		/* Raised once the path is complete: its last certificate is the anchor. */
		const char *md = digest_name(X509_STORE_CTX_get_current_cert(ctx));

		return rules->sha1_ok && md && strcmp(md, "SHA-1") == 0 &&
		       !pcp_store_is_jdk_anchor(data->jdk_cacerts,
		                                sk_X509_value(path, sk_X509_num(path) - 1));
	}
	case X509_V_ERR_EE_KEY_TOO_SMALL:
	case X509_V_ERR_CA_KEY_TOO_SMALL:
		return rules->key_size_any;
	case X509_V_ERR_INVALID_PURPOSE:
		return rules->ca_eku_ignored && depth > 0;
	default:
		return 0;
	}
}

/* Fails out with code at depth, in words and a short reason. */
static void curve_failure(struct pcp_verdict *out, int code, int depth, const char *error,
                          const char *reason)
{
	out->ok = false;
	out->code = code;
	out->depth = depth;
	snprintf(out->error, sizeof out->error, "%s", error);
	snprintf(out->reason, sizeof out->reason, "%s", reason);
}

/* Go: a served certificate on a curve crypto/x509 does not have fails to parse, before
 * anything is verified. True when one does (out says so). */
static bool go_curves_fail(const struct pcp_chain *chain, struct pcp_verdict *out)
{
	for (size_t i = 0; i < pcp_chain_len(chain); i++) {
		char curve[64], reason[96];
		int bits = 0;

		if (!pcp_cert_ec_curve(pcp_chain_get0(chain, i), curve, sizeof curve, &bits) ||
		    pcp_curve_common(curve) || strcmp(curve, "P-224") == 0)
			continue;
		snprintf(reason, sizeof reason, "unsupported curve (%.64s)", curve);
		curve_failure(out, PCP_VERDICT_UNSUPPORTED_KEY, (int)i,
		              "tls: failed to parse certificate from server: x509: unsupported "
		              "elliptic curve",
		              reason);
		return true;
	}
	return false;
}

/* Java's algorithm constraints without a trust anchor (AbstractTrustManagerWrapper):
 * every served key and signature, none verified. */
static bool java_constraints_fail(const struct pcp_chain *chain, struct pcp_verdict *out)
{
	for (size_t i = 0; i < pcp_chain_len(chain); i++) {
		X509 *cert = pcp_chain_get0(chain, i);
		EVP_PKEY *pk = X509_get0_pubkey(cert);
		const char *md = digest_name(cert);
		int bits = pk ? EVP_PKEY_get_bits(pk) : 0;
		const char *type = pk ? EVP_PKEY_get0_type_name(pk) : NULL;
		bool weak_key =
		        pk &&
		        ((EVP_PKEY_is_a(pk, "EC") && bits < 224) ||
		         ((EVP_PKEY_is_a(pk, "RSA") || EVP_PKEY_is_a(pk, "DSA")) && bits < 1024));
		char reason[96];

		if (md && strcmp(md, "SHA-1") != 0)
			snprintf(reason, sizeof reason, "weak signature (%s)", md);
		else if (weak_key)
			snprintf(reason, sizeof reason, "weak key (%s %d)", type ? type : "?",
			         bits);
		else
			continue;
		curve_failure(
		        out,
		        weak_key ? (i ? X509_V_ERR_CA_KEY_TOO_SMALL : X509_V_ERR_EE_KEY_TOO_SMALL)
		                 : X509_V_ERR_CA_MD_TOO_WEAK,
		        (int)i, "Certificates do not conform to algorithm constraints", reason);
		return true;
	}
	return false;
}

bool pcp_verify_driver_refuses(const struct pcp_driver *driver, const struct pcp_chain *chain,
                               struct pcp_verdict *out)
{
	struct pcp_verdict v = {0};

	if (!driver || !chain || !pcp_chain_len(chain))
		return false;
	if (!(driver->chain.curves == PCP_CURVES_GO && go_curves_fail(chain, &v)) &&
	    !(driver->chain.curves == PCP_CURVES_JAVA && java_constraints_fail(chain, &v)))
		return false;
	*out = v;
	return true;
}

/* Java: every EC key of the path must be of 224 bits or more (the algorithm constraints),
 * and on a curve SunEC verifies signatures with. True when one is not (out says so). */
static bool java_curves_fail(const STACK_OF(X509) * path, struct pcp_verdict *out)
{
	for (int i = 0; i < sk_X509_num(path); i++) {
		char curve[64], error[256], reason[96];
		int bits = 0;

		if (!pcp_cert_ec_curve(sk_X509_value(path, i), curve, sizeof curve, &bits) ||
		    pcp_curve_common(curve))
			continue;
		if (bits < 224) {
			snprintf(error, sizeof error,
			         "Algorithm constraints check failed on keysize limits: EC %d bit "
			         "key used with certificate",
			         bits);
			snprintf(reason, sizeof reason, "weak key (EC %d)", bits);
			curve_failure(out,
			              i ? X509_V_ERR_CA_KEY_TOO_SMALL : X509_V_ERR_EE_KEY_TOO_SMALL,
			              i, error, reason);
		} else {
			snprintf(error, sizeof error,
			         "signature check failed: Curve not supported: %.64s", curve);
			snprintf(reason, sizeof reason, "unsupported curve (%.64s)", curve);
			curve_failure(out, PCP_VERDICT_UNSUPPORTED_KEY, i, error, reason);
		}
		return true;
	}
	return false;
}

int pcp_verify_chain(const struct pcp_chain *chain, const struct pcp_store *store,
                     const struct pcp_verify_params *params, struct pcp_verdict *out,
                     struct pcp_error *err)
{
	X509 *leaf = pcp_chain_get0(chain, 0);
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *param;
	const struct pcp_driver_chain *rules;
	struct cb_data data = {.jdk_cacerts = params->jdk_cacerts};
	int rc = -1;

	memset(out, 0, sizeof *out);
	out->depth = -1;
	if (!leaf) {
		pcp_error_set(err, PCP_ERR_TLS, "verify: empty chain");
		return -1;
	}
	ERR_clear_error();
	if (!(ctx = X509_STORE_CTX_new())) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "verify");
		pcp_error_append_openssl(err);
		return -1;
	}
	/* As ssl_verify_cert_chain: the untrusted set is the whole served chain, leaf
	 * included. */
	if (!X509_STORE_CTX_init(ctx, store->store, leaf, chain->certs)) {
		pcp_error_set(err, PCP_ERR_TLS, "verify: store %s", store->name);
		pcp_error_append_openssl(err);
		goto out;
	}
	param = X509_STORE_CTX_get0_param(ctx);
	rules = data.rules = params->driver ? &params->driver->chain : NULL;
	X509_VERIFY_PARAM_set_auth_level(
	        param, rules && rules->auth_level >= 0 ? rules->auth_level : params->auth_level);
	/* Purpose and trust ssl_server: serverAuth EKU on the leaf, CA constraints above. */
	if (!X509_STORE_CTX_set_default(ctx, "ssl_server")) {
		pcp_error_set(err, PCP_ERR_TLS, "verify: ssl_server defaults");
		pcp_error_append_openssl(err);
		goto out;
	}
	X509_VERIFY_PARAM_set_time(param, params->at);
	if (rules && rules != &pcp_driver_libpq.chain) {
		if (rules->any_anchor)
			X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
		X509_STORE_CTX_set_app_data(ctx, &data);
		X509_STORE_CTX_set_verify_cb(ctx, driver_cb);
	}
	if (rules && rules->curves == PCP_CURVES_GO && go_curves_fail(chain, out)) {
		rc = 0;
		goto out;
	}

	out->ok = X509_verify_cert(ctx) == 1;
	out->code = X509_STORE_CTX_get_error(ctx);
	/* A verify call that ended for lack of memory says nothing about the chain. */
	if (out->code == X509_V_ERR_OUT_OF_MEM) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "verify: out of memory");
		goto out;
	}
	if (record_path(out, X509_STORE_CTX_get0_chain(ctx)) < 0) {
		pcp_error_set(err, PCP_ERR_SYSTEM, "verify: out of memory");
		goto out;
	}
	if (!out->ok) {
		if (out->code == X509_V_OK)
			out->code = X509_V_ERR_UNSPECIFIED;
		out->depth = X509_STORE_CTX_get_error_depth(ctx);
		snprintf(out->error, sizeof out->error, "certificate verify failed: %s",
		         X509_verify_cert_error_string(out->code));
		make_reason(out, X509_STORE_CTX_get0_chain(ctx));
	} else if (rules && rules->curves == PCP_CURVES_JAVA &&
	           java_curves_fail(X509_STORE_CTX_get0_chain(ctx), out)) {
		/* the path verified for OpenSSL, not for Java */
	} else {
		out->code = X509_V_OK;
		if (params->sslmode == PCP_SSLMODE_VERIFY_FULL &&
		    check_name(chain, params, out, err) < 0)
			goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	if (rc < 0)
		pcp_verdict_cleanup(out);
	return rc;
}
