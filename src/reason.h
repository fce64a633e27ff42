/* A failing verdict in plain words, for the writers people read (text, HTML): which
 * certificate, which date, which missing issuer, which names ("the root 'Baltimore
 * CyberTrust Root' expired on 2025-05-12"). Every quoted field is sanitised. */
#ifndef PCP_REASON_H
#define PCP_REASON_H

#include "result.h"
#include "text.h"

/* Appends the reason for v, a failing verdict of r. */
void pcp_reason_put(struct pcp_sbuf *b, const struct pcp_result *r, const struct pcp_verdict *v);

/* The same as a new string; caller frees, NULL when out of memory. */
char *pcp_reason_text(const struct pcp_result *r, const struct pcp_verdict *v);

/* The served certificate at depth of v's built path (found by fingerprint), borrowed from
 * r; NULL when the path took it from the store. */
const struct pcp_cert_facts *pcp_reason_path_cert(const struct pcp_result *r,
                                                  const struct pcp_verdict *v, int depth);

#endif
