/* Error reporting shared by every module: a small code plus a message that names the
 * offending value. Functions that can fail fill a caller-supplied struct pcp_error;
 * only main.c and the writers print it. */
#ifndef PCP_ERROR_H
#define PCP_ERROR_H

enum pcp_errc {
	PCP_OK = 0,
	PCP_ERR_USAGE,  /* bad option or value on the command line: exit 64 */
	PCP_ERR_INPUT,  /* an input file cannot be read: exit 66 */
	PCP_ERR_CONFIG, /* bad configuration file or trust store: exit 78 */
	PCP_ERR_TARGET, /* one target is invalid: becomes an invalid_target record */
	PCP_ERR_SYSTEM, /* the operating system refused (memory, sockets, limits) */
	PCP_ERR_TLS,    /* OpenSSL failed */
};

struct pcp_error {
	enum pcp_errc code;
	char msg[256];
};

/* Sets code and a printf-formatted message (truncated to fit); returns code. */
enum pcp_errc pcp_error_set(struct pcp_error *err, enum pcp_errc code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
#ifdef __clang_analyzer__
/* For clang's analyzer (make lint), which cannot see into error.c: the result is code, so
 * "return pcp_error_set(...)" is never PCP_OK. */
#define pcp_error_set(err, code, ...) (pcp_error_set(err, code, __VA_ARGS__), (enum pcp_errc)(code))
#endif

/* Appends OpenSSL's queued errors (then clears the queue) to err->msg after ": ". */
void pcp_error_append_openssl(struct pcp_error *err);

/* The process exit code documented in the README for an error code. */
int pcp_error_exit_code(enum pcp_errc code);

#endif
