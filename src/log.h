/* Diagnostics on stderr for the program as a whole (warnings, fatal messages). Records go
 * to writers, never here. */
#ifndef PCP_LOG_H
#define PCP_LOG_H

/* Start-up and shut-down notes of a long-running exporter. */
void pcp_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pcp_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pcp_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
