/* A baseline file (--baseline FILE): JSON Lines as --format json writes them, read by
 * pcp_baseline_load (bounded lines, records of any shape), then compared with records of
 * this run for every (target, address) it holds, as the runner does: changes, vanished
 * addresses, targets never compared. Input: the file's contents. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "fuzzutil.h"

#define MAX_PAIRS 16

struct pairs {
	char *target[MAX_PAIRS];
	char addr[MAX_PAIRS][64];
	size_t n, seen;
};

static void collect(void *arg, const char *target, const char *addr)
{
	struct pairs *p = arg;

	p->seen++;
	if (p->n == MAX_PAIRS || !(p->target[p->n] = strdup(target)))
		return;
	snprintf(p->addr[p->n], sizeof p->addr[p->n], "%s", addr);
	p->n++;
}

static const char *const stores[] = {"baltimore", "digicert-g2"};

/* A record of this run: ok with a two-certificate chain and a verdict per store, or one
 * that failed without a chain, depending on k. Returns -1 on allocation failure. */
static int make_record(struct pcp_result *r, const char *target, const char *addr, size_t k)
{
	memset(r, 0, sizeof *r);
	if (!(r->target = strdup(target)))
		return -1;
	snprintf(r->addr, sizeof r->addr, "%s", addr);
	r->status = k % 3 == 2 ? PCP_STATUS_REFUSED : PCP_STATUS_OK;
	if (r->status != PCP_STATUS_OK)
		return 0;
	if (!(r->chain = calloc(2, sizeof *r->chain)))
		return -1;
	r->chain_len = 2;
	memset(r->chain[0].sha256, k % 2 ? 'a' : 'b', PCP_SHA256_HEX - 1);
	memset(r->chain[1].sha256, 'c', PCP_SHA256_HEX - 1);
	if (!(r->verdicts = calloc(2, sizeof *r->verdicts)))
		return -1;
	r->n_verdicts = 2;
	for (size_t i = 0; i < 2; i++) {
		struct pcp_verdict *v = &r->verdicts[i];

		v->ok = (k + i) % 2 == 0;
		if (!(v->path = calloc(1, sizeof *v->path)))
			return -1;
		v->path_len = 1;
		memset(v->path[0], 'd', PCP_SHA256_HEX - 1);
	}
	return (r->anchor = strdup("CN=DigiCert Global Root G2")) ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcp_error err = {0};
	struct fuzz_file f;
	struct pairs p = {0};
	struct pcp_baseline *b;

	if (fuzz_file_open(&f, data, size) != 0)
		return 0;
	b = pcp_baseline_load(f.path, &err);
	fuzz_file_close(&f);
	if (!b) {
		FUZZ_CHECK(err.msg[0]);
		return 0;
	}
	FUZZ_CHECK(pcp_baseline_skipped(b) <= size + 1);
	FUZZ_CHECK(pcp_baseline_unseen(b, collect, &p) == p.seen);
	for (size_t i = 0; i < p.n; i++) {
		struct pcp_result r;

		if (make_record(&r, p.target[i], p.addr[i], i) == 0 &&
		    pcp_baseline_compare(b, &r, stores, 2) == 0) {
			FUZZ_CHECK(r.has_baseline);
			for (size_t c = 0; c < r.n_changes; c++)
				FUZZ_CHECK(r.changes[c].kind);
		}
		pcp_result_cleanup(&r);
		if (pcp_baseline_vanished(b, p.target[i], &r) == 0)
			FUZZ_CHECK(r.has_baseline);
		pcp_result_cleanup(&r);
	}
	/* Every target compared above is no longer unseen. */
	FUZZ_CHECK(p.n < p.seen || pcp_baseline_unseen(b, NULL, NULL) == 0);
	for (size_t i = 0; i < p.n; i++)
		free(p.target[i]);
	pcp_baseline_free(b);
	return 0;
}
