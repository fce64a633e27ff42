/* Record helpers: stable status and sslmode names, and cleanup of owned fields. */
#include "result.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

const char *pcp_status_name(enum pcp_status status)
{
	switch (status) {
	case PCP_STATUS_OK:
		return "ok";
	case PCP_STATUS_NO_SSL:
		return "no_ssl";
	case PCP_STATUS_REFUSED:
		return "refused";
	case PCP_STATUS_TIMEOUT:
		return "timeout";
	case PCP_STATUS_DNS_FAILED:
		return "dns_failed";
	case PCP_STATUS_TLS_FAILED:
		return "tls_failed";
	case PCP_STATUS_PROTOCOL_ERROR:
		return "protocol_error";
	case PCP_STATUS_CANCELLED:
		return "cancelled";
	case PCP_STATUS_INVALID_TARGET:
		return "invalid_target";
	}
	return "unknown";
}

const char *pcp_negotiation_name(enum pcp_negotiation n)
{
	return n == PCP_NEGOTIATION_DIRECT ? "direct" : "postgres";
}

const char *pcp_direct_tls_name(enum pcp_direct_tls d)
{
	return d == PCP_DIRECT_ACCEPTED ? "accepted" : d == PCP_DIRECT_REFUSED ? "refused" : NULL;
}

const char *pcp_direct_basis_name(enum pcp_direct_basis b)
{
	return b == PCP_DIRECT_BY_HANDSHAKE ? "direct"
	       : b == PCP_DIRECT_BY_ALPN    ? "alpn"
	                                    : "no_ssl";
}

const char *pcp_sslmode_name(enum pcp_sslmode mode)
{
	return mode == PCP_SSLMODE_VERIFY_CA ? "verify-ca" : "verify-full";
}

void pcp_cert_facts_cleanup(struct pcp_cert_facts *f)
{
	if (!f)
		return;
	free(f->subject);
	free(f->issuer);
	free(f->serial);
	for (size_t i = 0; i < f->n_san; i++)
		free(f->san[i]);
	free(f->san);
	free(f->key);
	free(f->sig_alg);
	memset(f, 0, sizeof *f);
}

void pcp_verdict_cleanup(struct pcp_verdict *v)
{
	if (!v)
		return;
	free(v->path);
	free(v->anchor);
	memset(v, 0, sizeof *v);
}

const char *pcp_libpq_sslmode_name(enum pcp_libpq_sslmode mode)
{
	static const char *const names[] = {"disable", "allow",     "prefer",
	                                    "require", "verify-ca", "verify-full"};

	return mode <= PCP_LIBPQ_VERIFY_FULL ? names[mode] : "?";
}

void pcp_client_cleanup(struct pcp_client *c)
{
	if (!c)
		return;
	free(c->rootcert);
	free(c->truststore);
	free(c->truststore_store);
	free(c->sslmode_text);
	for (size_t i = 0; i < c->n_roots; i++)
		free(c->roots[i].subject);
	free(c->roots);
	memset(c, 0, sizeof *c);
}

static void driver_verdicts_free(struct pcp_driver_verdicts *dv, size_t n)
{
	for (size_t d = 0; d < n; d++) {
		for (size_t i = 0; i < dv[d].n_verdicts; i++)
			pcp_verdict_cleanup(&dv[d].verdicts[i]);
		free(dv[d].verdicts);
	}
	free(dv);
}

void pcp_result_cleanup(struct pcp_result *r)
{
	if (!r)
		return;
	pcp_client_cleanup(r->client);
	free(r->client);
	for (size_t i = 0; i < r->n_future; i++)
		pcp_verdict_cleanup(&r->future[i]);
	free(r->future);
	free(r->target);
	free(r->anchor);
	for (size_t i = 0; i < r->n_changes; i++) {
		free(r->changes[i].store);
		free(r->changes[i].from);
		free(r->changes[i].to);
	}
	free(r->changes);
	free(r->host);
	for (size_t i = 0; i < r->chain_len; i++)
		pcp_cert_facts_cleanup(&r->chain[i]);
	free(r->chain);
	for (size_t i = 0; i < r->n_verdicts; i++)
		pcp_verdict_cleanup(&r->verdicts[i]);
	free(r->verdicts);
	driver_verdicts_free(r->drivers, r->n_drivers);
	driver_verdicts_free(r->future_drivers, r->n_future_drivers);
	memset(r, 0, sizeof *r);
}

static bool dup_into(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return !src || *dst;
}

int pcp_cert_facts_copy(struct pcp_cert_facts *dst, const struct pcp_cert_facts *src)
{
	*dst = *src;
	dst->subject = dst->issuer = dst->serial = dst->key = dst->sig_alg = NULL;
	dst->san = NULL;
	dst->n_san = 0;
	if (!dup_into(&dst->subject, src->subject) || !dup_into(&dst->issuer, src->issuer) ||
	    !dup_into(&dst->serial, src->serial) || !dup_into(&dst->key, src->key) ||
	    !dup_into(&dst->sig_alg, src->sig_alg) ||
	    (src->n_san && !(dst->san = calloc(src->n_san, sizeof *dst->san))))
		goto fail;
	for (; dst->n_san < src->n_san; dst->n_san++)
		if (!dup_into(&dst->san[dst->n_san], src->san[dst->n_san]))
			goto fail;
	return 0;
fail:
	pcp_cert_facts_cleanup(dst);
	return -1;
}

int pcp_verdict_copy(struct pcp_verdict *dst, const struct pcp_verdict *src)
{
	*dst = *src;
	dst->path = NULL;
	dst->anchor = NULL;
	if (src->path_len && !(dst->path = malloc(src->path_len * sizeof *dst->path)))
		goto fail;
	if (src->path_len)
		memcpy(dst->path, src->path, src->path_len * sizeof *dst->path);
	if (!dup_into(&dst->anchor, src->anchor))
		goto fail;
	return 0;
fail:
	pcp_verdict_cleanup(dst);
	return -1;
}

const char *pcp_status_short(enum pcp_status status)
{
	switch (status) {
	case PCP_STATUS_OK:
		return "ok";
	case PCP_STATUS_NO_SSL:
		return "no SSL";
	case PCP_STATUS_REFUSED:
		return "refused";
	case PCP_STATUS_TIMEOUT:
		return "timeout";
	case PCP_STATUS_DNS_FAILED:
		return "DNS failed";
	case PCP_STATUS_TLS_FAILED:
		return "TLS failed";
	case PCP_STATUS_PROTOCOL_ERROR:
		return "protocol error";
	case PCP_STATUS_CANCELLED:
		return "cancelled";
	case PCP_STATUS_INVALID_TARGET:
		return "invalid target";
	}
	return "unknown";
}
