/* The writer interface's shared part: format names, dispatch to the per-format
 * constructors, and the run's instants. */
#include "report.h"

#include <string.h>

int pcp_format_parse(const char *s, enum pcp_format *out)
{
	static const struct {
		const char *name;
		enum pcp_format format;
	} formats[] = {
	        {"text", PCP_FORMAT_TEXT},
	        {"json", PCP_FORMAT_JSON},
	        {"prometheus", PCP_FORMAT_PROMETHEUS},
	        {"csv", PCP_FORMAT_CSV},
	        {"summary", PCP_FORMAT_SUMMARY},
	        {"html", PCP_FORMAT_HTML},
	};

	for (size_t i = 0; s && i < sizeof formats / sizeof formats[0]; i++)
		if (strcmp(s, formats[i].name) == 0) {
			*out = formats[i].format;
			return 0;
		}
	return -1;
}

struct pcp_writer *pcp_writer_new(enum pcp_format format, FILE *out,
                                  const struct pcp_run_info *info)
{
	switch (format) {
	case PCP_FORMAT_TEXT:
		return pcp_report_text_new(out, info);
	case PCP_FORMAT_JSON:
		return pcp_report_json_new(out, info);
	case PCP_FORMAT_PROMETHEUS:
		return pcp_report_prometheus_new(out, info);
	case PCP_FORMAT_CSV:
		return pcp_report_csv_new(out, info);
	case PCP_FORMAT_SUMMARY:
		return pcp_report_summary_new(out, info);
	case PCP_FORMAT_HTML:
		return pcp_report_html_new(out, info);
	}
	return NULL;
}

void pcp_writer_free(struct pcp_writer *w)
{
	if (w && w->ops && w->ops->free)
		w->ops->free(w);
}

size_t pcp_run_n_instants(const struct pcp_run_info *info)
{
	return info->ats && info->n_ats > 1 ? info->n_ats : 1;
}

time_t pcp_run_instant(const struct pcp_run_info *info, size_t a)
{
	return info->ats && a < info->n_ats ? info->ats[a] : info->at;
}

bool pcp_run_is_now(const struct pcp_run_info *info, size_t a)
{
	return a < 8 * sizeof info->now_mask && (info->now_mask >> a & 1u);
}
