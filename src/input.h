/* Target lines from files and standard input, read by a thread of their own so that a slow
 * producer (a pipe, a FIFO, a file on a slow disk) never blocks the event loop: lines wait
 * in a small bounded queue, the loop is woken when one arrives, and the loop takes them
 * when it has room for more targets. Stopping abandons what was not read yet: nothing
 * drains the rest of a pipe after Ctrl-C. */
#ifndef PCP_INPUT_H
#define PCP_INPUT_H

#include <ev.h>
#include <stddef.h>

#include "error.h"

/* Lines waiting between the reader thread and the loop, at most. */
#define PCP_INPUT_QUEUE 256

struct pcp_input;

/* One line, in file order. */
struct pcp_input_line {
	char *text;      /* owned by the caller after pcp_input_next */
	const char *bad; /* static reason when the line is unusable, else NULL */
	char where[320]; /* "FILE line N", for messages */
};

/* Starts reading paths in order ("-" is standard input) on a thread of its own. Each file
 * is opened when its turn comes. NULL with err set when the thread cannot start. */
struct pcp_input *pcp_input_new(struct ev_loop *loop, char *const *paths, size_t n,
                                struct pcp_error *err);

/* Takes the next line: 1 with *line filled, 0 when none is ready yet (the loop wakes up
 * when one is), -1 at the end of all input, -2 when a file could not be read (err set). */
int pcp_input_next(struct pcp_input *in, struct pcp_input_line *line, struct pcp_error *err);

/* Where reading stopped, for the message after an interruption: the last line taken
 * ("FILE line N"), or "" when none was. */
const char *pcp_input_position(const struct pcp_input *in);

/* Stops reading: the lines already queued can still be taken, no more are queued. Taking
 * them all while the reader went on could read a whole file after a signal. */
void pcp_input_stop(struct pcp_input *in);

/* Stops reading and releases the input. A thread blocked in read() on a silent producer
 * is left to end with the process; it touches nothing the caller owns. NULL is a no-op. */
void pcp_input_free(struct pcp_input *in);

#endif
