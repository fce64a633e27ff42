/* Error helpers: formatting into struct pcp_error and mapping codes to exit statuses. */
#include "error.h"

#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The name in parentheses: not the analyzer's macro in error.h. */
enum pcp_errc(pcp_error_set)(struct pcp_error *err, enum pcp_errc code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return code;
}

void pcp_error_append_openssl(struct pcp_error *err)
{
	unsigned long e;
	size_t len = strlen(err->msg);
	const char *sep = len ? ": " : "";

	while ((e = ERR_get_error()) != 0) {
		char buf[160];

		ERR_error_string_n(e, buf, sizeof buf);
		if (len < sizeof err->msg - 1) {
			int n = snprintf(err->msg + len, sizeof err->msg - len, "%s%s", sep, buf);
			if (n > 0)
				len += (size_t)n < sizeof err->msg - len
				               ? (size_t)n
				               : sizeof err->msg - len - 1;
		}
		sep = "; ";
	}
}

int pcp_error_exit_code(enum pcp_errc code)
{
	switch (code) {
	case PCP_OK:
		return 0;
	case PCP_ERR_USAGE:
		return 64;
	case PCP_ERR_INPUT:
		return 66;
	case PCP_ERR_CONFIG:
		return 78;
	case PCP_ERR_TARGET:
		return 2;
	case PCP_ERR_SYSTEM:
	case PCP_ERR_TLS:
		return 71;
	}
	return 71;
}
