/* The registry of client drivers (driver.h): a fixed table, looked up by name. */
#include "driver.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct pcp_driver *const all[] = {
        &pcp_driver_libpq,
        &pcp_driver_pgjdbc,
        &pcp_driver_node,
        &pcp_driver_pgx,
};

const struct pcp_driver *pcp_driver_at(size_t i)
{
	return i < sizeof all / sizeof all[0] ? all[i] : NULL;
}

const struct pcp_driver *pcp_driver_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof all / sizeof all[0]; i++)
		if (strcmp(all[i]->name, name) == 0)
			return all[i];
	return NULL;
}

void pcp_driver_list(char *buf, size_t len)
{
	size_t used = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", all[i]->name);

		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
}

void pcp_driver_msg(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!msg || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
}

const char *pcp_driver_name_text(const struct pcp_name *n, char *buf, size_t len)
{
	if (!n || len == 0 || (n->len > 0 && (!n->data || memchr(n->data, '\0', n->len))) ||
	    n->len >= len)
		return NULL;
	if (n->len)
		memcpy(buf, n->data, n->len);
	buf[n->len] = '\0';
	return buf;
}
