/* Target input on a reader thread (see input.h). The thread and the loop share one small
 * structure under a mutex: the queue of lines, the end or error, and the stop flag. It is
 * freed by whichever of the two lets go last, so a thread still blocked in read() when
 * the run ends never touches freed memory. The loop is woken with ev_async, sent only
 * under the mutex and never after stop, so the watcher is never used once stopped. */
#include "input.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "targets.h"

enum state { READING, ENDED, FAILED };

struct pcp_input {
	pthread_mutex_t mu;
	pthread_cond_t room; /* the reader waits here while the queue is full */
	int refs;            /* the thread and the loop */
	bool stop;
	enum state state;
	struct pcp_error err; /* with FAILED */
	struct pcp_input_line queue[PCP_INPUT_QUEUE];
	size_t head, count;
	struct ev_loop *loop;
	ev_async wake;
	char **paths; /* owned copies: the thread may outlive the caller's settings */
	size_t n_paths;
	char position[sizeof((struct pcp_input_line *)0)->where]; /* the loop's last line */
};

static void input_release(struct pcp_input *in)
{
	bool last;

	pthread_mutex_lock(&in->mu);
	last = --in->refs == 0;
	pthread_mutex_unlock(&in->mu);
	if (!last)
		return;
	for (size_t i = 0; i < in->count; i++)
		free(in->queue[(in->head + i) % PCP_INPUT_QUEUE].text);
	for (size_t i = 0; i < in->n_paths; i++)
		free(in->paths[i]);
	free(in->paths);
	pthread_cond_destroy(&in->room);
	pthread_mutex_destroy(&in->mu);
	free(in);
}

/* Queues a line, waiting for room. False when the loop stopped reading (line not taken). */
static bool push(struct pcp_input *in, const struct pcp_input_line *line)
{
	bool taken = false;

	pthread_mutex_lock(&in->mu);
	while (!in->stop && in->count == PCP_INPUT_QUEUE)
		pthread_cond_wait(&in->room, &in->mu);
	if (!in->stop) {
		in->queue[(in->head + in->count++) % PCP_INPUT_QUEUE] = *line;
		ev_async_send(in->loop, &in->wake);
		taken = true;
	}
	pthread_mutex_unlock(&in->mu);
	return taken;
}

static void finish(struct pcp_input *in, enum state state, const struct pcp_error *err)
{
	pthread_mutex_lock(&in->mu);
	in->state = state;
	if (err)
		in->err = *err;
	if (!in->stop)
		ev_async_send(in->loop, &in->wake);
	pthread_mutex_unlock(&in->mu);
}

/* Reads one file to its end. False when reading must stop (error, or the loop stopped). */
static bool read_file(struct pcp_input *in, const char *path)
{
	struct pcp_target_reader r;
	struct pcp_error err = {0};
	bool ok = true;

	if (pcp_target_reader_open(&r, path, &err)) {
		finish(in, FAILED, &err);
		return false;
	}
	for (;;) {
		struct pcp_input_line line = {0};
		const char *text, *bad;
		int got = pcp_target_reader_next(&r, &text, &bad, &err);

		if (got == 0)
			break;
		if (got < 0 || !(line.text = strdup(text))) {
			if (got > 0)
				pcp_error_set(&err, PCP_ERR_SYSTEM, "%s: out of memory", r.path);
			finish(in, FAILED, &err);
			ok = false;
			break;
		}
		line.bad = bad;
		snprintf(line.where, sizeof line.where, "%.280s line %lu", r.path, r.lineno);
		if (!push(in, &line)) {
			free(line.text);
			ok = false;
			break;
		}
	}
	pcp_target_reader_close(&r);
	return ok;
}

static void *reader_main(void *arg)
{
	struct pcp_input *in = arg;
	bool ok = true;

	for (size_t i = 0; ok && i < in->n_paths; i++)
		ok = read_file(in, in->paths[i]);
	if (ok)
		finish(in, ENDED, NULL);
	input_release(in);
	return NULL;
}

/* The wake-up alone is the point: the loop's prepare watchers then take the lines. */
static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

struct pcp_input *pcp_input_new(struct ev_loop *loop, char *const *paths, size_t n,
                                struct pcp_error *err)
{
	struct pcp_input *in = calloc(1, sizeof *in);
	pthread_attr_t attr;
	pthread_t thread;
	int rc;

	if (!in || !(in->paths = calloc(n + 1, sizeof *in->paths)))
		goto oom;
	for (; in->n_paths < n; in->n_paths++)
		if (!(in->paths[in->n_paths] = strdup(paths[in->n_paths])))
			goto oom;
	pthread_mutex_init(&in->mu, NULL);
	pthread_cond_init(&in->room, NULL);
	in->loop = loop;
	in->refs = 2;
	ev_async_init(&in->wake, on_wake);
	ev_async_start(loop, &in->wake);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&thread, &attr, reader_main, in);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		ev_async_stop(loop, &in->wake);
		in->refs = 1;
		input_release(in);
		pcp_error_set(err, PCP_ERR_SYSTEM, "cannot start the input reader: %s",
		              strerror(rc));
		return NULL;
	}
	return in;
oom:
	if (in) {
		for (size_t i = 0; i < in->n_paths; i++)
			free(in->paths[i]);
		free(in->paths);
	}
	free(in);
	pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	return NULL;
}

int pcp_input_next(struct pcp_input *in, struct pcp_input_line *line, struct pcp_error *err)
{
	int rc;

	pthread_mutex_lock(&in->mu);
	if (in->count) {
		*line = in->queue[in->head];
		in->head = (in->head + 1) % PCP_INPUT_QUEUE;
		if (in->count-- == PCP_INPUT_QUEUE)
			pthread_cond_signal(&in->room);
		memcpy(in->position, line->where, sizeof in->position);
		rc = 1;
	} else if (in->state == READING) {
		rc = 0;
	} else if (in->state == ENDED) {
		rc = -1;
	} else {
		*err = in->err;
		rc = -2;
	}
	pthread_mutex_unlock(&in->mu);
	return rc;
}

const char *pcp_input_position(const struct pcp_input *in)
{
	return in->position;
}

void pcp_input_stop(struct pcp_input *in)
{
	pthread_mutex_lock(&in->mu);
	in->stop = true;
	pthread_cond_broadcast(&in->room);
	pthread_mutex_unlock(&in->mu);
}

void pcp_input_free(struct pcp_input *in)
{
	if (!in)
		return;
	pcp_input_stop(in);
	ev_async_stop(in->loop, &in->wake);
	input_release(in);
}
