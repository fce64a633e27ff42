/* Record helpers: stable status and sslmode names, and cleanup of owned fields. */
#include "result.h"

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
	for (size_t i = 0; i < c->n_roots; i++)
		free(c->roots[i].subject);
	free(c->roots);
	memset(c, 0, sizeof *c);
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
	memset(r, 0, sizeof *r);
}
