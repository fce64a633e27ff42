/* A failing verdict in plain words (see reason.h). */
#include "reason.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostmatch.h"
#include "json.h"

enum {
	NOTE_MAX_COLS = 200, /* the longest text quoted from a verdict */
	NAME_MAX_COLS = 64,  /* a certificate name or host inside a reason */
	MAX_LISTED_NAMES = 3 /* names of a mismatching certificate shown */
};

/* OpenSSL's X509_V_ERR_* numbers the reasons speak about: stable, and part of the JSON
 * contract ("code"), so the writer needs no OpenSSL header. */
enum {
	V_ERR_UNABLE_TO_GET_ISSUER_CERT = 2,
	V_ERR_CERT_NOT_YET_VALID = 9,
	V_ERR_CERT_HAS_EXPIRED = 10,
	V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT = 18,
	V_ERR_SELF_SIGNED_CERT_IN_CHAIN = 19,
	V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20,
	V_ERR_INVALID_PURPOSE = 26,
	V_ERR_EE_KEY_TOO_SMALL = 66,
	V_ERR_CA_KEY_TOO_SMALL = 67,
	V_ERR_CA_MD_TOO_WEAK = 68,
};

/* "YYYY-MM-DD" of t (UTC). */
static void format_date(time_t t, char *buf, size_t len)
{
	pcp_format_time(t, buf, len);
	if (len > 10)
		buf[10] = '\0';
}

/* The leaf is always the served one. */
const struct pcp_cert_facts *pcp_reason_path_cert(const struct pcp_result *r,
                                                  const struct pcp_verdict *v, int depth)
{
	if (depth < 0 || !r->chain)
		return NULL;
	if (v->path && (size_t)depth < v->path_len)
		for (size_t k = 0; k < r->chain_len; k++)
			if (strncmp(r->chain[k].sha256, v->path[depth], PCP_SHA256_HEX) == 0)
				return &r->chain[k];
	return depth == 0 && r->chain_len ? &r->chain[0] : NULL;
}

static void put_cn(struct pcp_sbuf *b, const char *dn, enum pcp_cn_pick pick)
{
	char *cn = pcp_text_cn(dn, pick, NAME_MAX_COLS);

	if (cn)
		pcp_sbuf_cstr(b, cn);
	else
		b->failed = true;
	free(cn);
}

/* "the server's certificate 'db1'", "the intermediate 'X'", "the root 'Y'": the certificate
 * at depth of v's path. Certificates taken from the store are named from the path's end. */
static void put_cert(struct pcp_sbuf *b, const struct pcp_verdict *v, int depth,
                     const struct pcp_cert_facts *f)
{
	bool top = v->path_len && (size_t)depth == v->path_len - 1;
	const char *name = f ? f->subject : top ? v->anchor : NULL;
	char at[48];

	if (depth == 0)
		pcp_sbuf_cstr(b, "the server's certificate");
	else if (top && (!f || f->self_issued))
		pcp_sbuf_cstr(b, "the root");
	else
		pcp_sbuf_cstr(b, "the intermediate");
	if (name) {
		pcp_sbuf_cstr(b, " '");
		put_cn(b, name, PCP_CN_DISPLAY);
		pcp_sbuf_cstr(b, "'");
	} else if (depth > 0) {
		snprintf(at, sizeof at, " at depth %d", depth);
		pcp_sbuf_cstr(b, at);
	}
}

/* The date verify.c put at the end of the short reason ("root expired 2025-05-12"), else
 * the certificate's own date. */
static void failure_date(const struct pcp_verdict *v, time_t fallback, char *buf, size_t len)
{
	size_t n = strnlen(v->reason, sizeof v->reason);
	const char *d = n >= 10 ? v->reason + n - 10 : NULL;

	if (d && d[4] == '-' && d[7] == '-' && len > 10) {
		memcpy(buf, d, 10);
		buf[10] = '\0';
		return;
	}
	if (fallback)
		format_date(fallback, buf, len);
	else
		snprintf(buf, len, "?");
}

/* "names 'a.example.com', 'b.example.com'" from the leaf: the SANs of the host's type
 * (iPAddress for an IP literal, else dNSName), or its CN when there are none of that type,
 * as libpq compares them. */
static void put_leaf_names(struct pcp_sbuf *b, const struct pcp_result *r)
{
	const struct pcp_cert_facts *leaf = r->chain && r->chain_len ? &r->chain[0] : NULL;
	const char *prefix = pcp_host_is_ip_literal(r->host) ? "IP:" : "DNS:";
	size_t listed = 0, more = 0;

	for (size_t i = 0; leaf && leaf->san && i < leaf->n_san; i++) {
		if (strncmp(leaf->san[i], prefix, strlen(prefix)) != 0)
			continue;
		if (listed == MAX_LISTED_NAMES) {
			more++;
			continue;
		}
		pcp_sbuf_cstr(b, listed++ ? ", '" : " names '");
		pcp_text_put_cstr(b, leaf->san[i] + strlen(prefix), NAME_MAX_COLS);
		pcp_sbuf_cstr(b, "'");
	}
	if (more) {
		char n[48];

		snprintf(n, sizeof n, " and %zu more", more);
		pcp_sbuf_cstr(b, n);
	}
	if (!listed && leaf) {
		pcp_sbuf_cstr(b, " names '");
		put_cn(b, leaf->subject ? leaf->subject : "", PCP_CN_LIBPQ);
		pcp_sbuf_cstr(b, "'");
	}
}

void pcp_reason_put(struct pcp_sbuf *b, const struct pcp_result *r, const struct pcp_verdict *v)
{
	const struct pcp_cert_facts *f = pcp_reason_path_cert(r, v, v->depth);
	size_t elen = strnlen(v->error, sizeof v->error);
	const char *prefix = "certificate verify failed: ";
	char date[32];

	switch (v->code) {
	case V_ERR_CERT_HAS_EXPIRED:
		put_cert(b, v, v->depth, f);
		failure_date(v, f ? f->not_after : 0, date, sizeof date);
		pcp_sbuf_cstr(b, " expired on ");
		pcp_sbuf_cstr(b, date);
		return;
	case V_ERR_CERT_NOT_YET_VALID:
		put_cert(b, v, v->depth, f);
		failure_date(v, f ? f->not_before : 0, date, sizeof date);
		pcp_sbuf_cstr(b, " is not valid before ");
		pcp_sbuf_cstr(b, date);
		return;
	case V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
		if (f) {
			pcp_sbuf_cstr(b, "no certificate in the store issued '");
			pcp_text_put_cstr(b, f->issuer, NOTE_MAX_COLS / 2);
			pcp_sbuf_cstr(
			        b, "' (the server did not send it, or the store lacks its root)");
		} else {
			pcp_sbuf_cstr(b, "no certificate in the store issued ");
			put_cert(b, v, v->depth, f);
			pcp_sbuf_cstr(b, " (the store lacks its issuer)");
		}
		return;
	case V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		put_cert(b, v, 0, f);
		pcp_sbuf_cstr(b, " is self-signed and not in the store");
		return;
	case V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		pcp_sbuf_cstr(b, "the server sent ");
		put_cert(b, v, v->depth, f);
		pcp_sbuf_cstr(b, ", which is not in the store");
		return;
	case V_ERR_CA_MD_TOO_WEAK:
		put_cert(b, v, v->depth, f);
		pcp_sbuf_cstr(b, " is signed with ");
		pcp_text_put_cstr(b, f && f->sig_alg ? f->sig_alg : "a weak digest", NAME_MAX_COLS);
		pcp_sbuf_cstr(b, ", too weak for the client's security level");
		return;
	case V_ERR_EE_KEY_TOO_SMALL:
	case V_ERR_CA_KEY_TOO_SMALL:
		put_cert(b, v, v->depth, f);
		pcp_sbuf_cstr(b, " has a key too small for the client's security level");
		if (f && f->key) {
			pcp_sbuf_cstr(b, " (");
			pcp_text_put_cstr(b, f->key, NAME_MAX_COLS);
			pcp_sbuf_cstr(b, ")");
		}
		return;
	case V_ERR_INVALID_PURPOSE:
		put_cert(b, v, v->depth, f);
		pcp_sbuf_cstr(b, " is not meant for TLS servers (its extended key usage)");
		return;
	case PCP_VERDICT_NAME_MISMATCH:
		pcp_sbuf_cstr(b, "the server's certificate");
		put_leaf_names(b, r);
		pcp_sbuf_cstr(b, ", not '");
		pcp_text_put_cstr(b, r->host, NAME_MAX_COLS);
		pcp_sbuf_cstr(b, "'");
		return;
	case PCP_VERDICT_NO_HOST:
		pcp_sbuf_cstr(
		        b, "verify-full needs a host name to compare, and the target gives only an "
		           "address");
		return;
	default:
		break;
	}
	if (v->depth >= 0) {
		put_cert(b, v, v->depth, f);
		pcp_sbuf_cstr(b, ": ");
	}
	/* OpenSSL's words without libpq's prefix. */
	if (elen > strlen(prefix) && strncmp(v->error, prefix, strlen(prefix)) == 0)
		pcp_text_put(b, v->error + strlen(prefix), elen - strlen(prefix),
		             NOTE_MAX_COLS / 2);
	else if (elen)
		pcp_text_put(b, v->error, elen, NOTE_MAX_COLS / 2);
	else
		pcp_text_put(b, v->reason, strnlen(v->reason, sizeof v->reason), NOTE_MAX_COLS / 2);
}

char *pcp_reason_text(const struct pcp_result *r, const struct pcp_verdict *v)
{
	struct pcp_sbuf b = {0};

	pcp_reason_put(&b, r, v);
	return pcp_sbuf_take(&b);
}
