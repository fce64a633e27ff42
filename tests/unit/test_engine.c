/* Unit tests for engine: the group deadline (not_after) and cancellation. Probes go to a
 * TCP listener in this process that never accepts nor answers, names to a UDP "DNS server"
 * that never replies, so nothing ends by itself: every record comes from a deadline or a
 * cancel. Asserted: statuses, error words, whether a probe ran (an unprobed record has
 * total_ms and connect_ms -1), that each group completes exactly once and can be freed in
 * its own done callback (every group here is), and lower bounds on when deadlines fire.
 * The loop runs until an event, never for a fixed time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "fixturenet.h"
#include "judge.h"
#include "result.h"
#include "truststore.h"

#define LONG        3600.0 /* a probe or lookup timeout no test waits for */
#define WATCHDOG_S  60.0   /* a wait longer than this is a hang, not a slow machine */
#define CLOCK_SLACK 0.05   /* ev_now against libev's monotonic timers: lower bounds only */
#define MAX_GROUPS  8
#define MAX_RECORDS 2

/* One record, copied in the done callback before the group is freed there. */
struct seen {
	enum pcp_status status;
	char error[512];
	char addr[64];
	double connect_ms, total_ms;
};

struct env;

/* A group as its owner sees it: the engine's group until it completes, then what it came to
 * and when. */
struct owned {
	struct env *e;
	struct pcp_group *g; /* NULL once complete (freed by on_done) */
	int calls;           /* done callback runs */
	ev_tstamp at;        /* loop time of the first */
	size_t n_records;
	struct seen rec[MAX_RECORDS];
};

struct env {
	struct ev_loop *loop;
	int tcp_fd; /* listens on 127.0.0.1:port, never accepts */
	unsigned port;
	int dns_fd; /* UDP on 127.0.0.1, never read */
	char dns_server[32];
	struct pcp_store_list stores; /* none: these records need no verdicts */
	struct pcp_judge *judge;
	struct pcp_engine *engine;
	struct owned owned[MAX_GROUPS];
	size_t n_owned;
	ev_timer watchdog;
	bool hung;
};

static void on_done(struct pcp_group *g, void *arg)
{
	struct owned *o = arg;

	if (o->calls++ == 0)
		o->at = ev_now(o->e->loop);
	o->n_records = g->n_records;
	for (size_t i = 0; i < g->n_records && i < MAX_RECORDS; i++) {
		const struct pcp_result *r = g->results[i];
		struct seen *s = &o->rec[i];

		s->status = r->status;
		snprintf(s->error, sizeof s->error, "%s", r->error);
		snprintf(s->addr, sizeof s->addr, "%s", r->addr);
		s->connect_ms = r->connect_ms;
		s->total_ms = r->total_ms;
	}
	/* As the exporter and the runner may: the engine must not touch g afterwards. */
	pcp_group_free(g);
	o->g = NULL;
}

static void on_watchdog(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct env *e = w->data;

	(void)loop;
	(void)revents;
	e->hung = true;
}

static void watch(struct env *e, bool on)
{
	e->hung = false;
	ev_timer_stop(e->loop, &e->watchdog);
	if (on) {
		ev_timer_set(&e->watchdog, WATCHDOG_S, 0.);
		ev_timer_start(e->loop, &e->watchdog);
	}
}

/* Runs the loop until cond holds; the watchdog ends a hang with a failure. */
#define RUN_UNTIL(e, cond)                                                                         \
	do {                                                                                       \
		watch((e), true);                                                                  \
		while (!(cond) && !(e)->hung)                                                      \
			ev_run((e)->loop, EVRUN_ONCE);                                             \
		watch((e), false);                                                                 \
		if (!(cond))                                                                       \
			fail_msg("still not %s after %g s", #cond, WATCHDOG_S);                    \
	} while (0)

/* The loop time secs from now (the loop's clock may be stale between runs). */
static double deadline_in(struct env *e, double secs)
{
	ev_now_update(e->loop);
	return ev_now(e->loop) + secs;
}

/* An engine with window probes in flight, the silent DNS server and pin (or none). */
static void engine_start(struct env *e, unsigned window, const char *pin)
{
	char *pins[] = {(char *)pin};
	struct pcp_engine_config cfg = {
	        .loop = e->loop,
	        .window = window,
	        .resolve = {.family = AF_UNSPEC, .dns_server = e->dns_server, .timeout = LONG},
	        .pins = pins,
	        .n_pins = pin ? 1 : 0};
	struct pcp_error err = {0};

	e->engine = pcp_engine_new(&cfg, &err);
	if (!e->engine)
		fail_msg("pcp_engine_new: %s", err.msg);
}

/* Submits a group for host on the listener's port; not_after 0 is none. */
static struct owned *submit(struct env *e, const char *host, double timeout, double not_after)
{
	struct owned *o;
	struct pcp_target t = {.text = strdup(host), .host = strdup(host), .port = e->port};
	struct pcp_error err = {0};

	assert_true(e->n_owned < MAX_GROUPS);
	assert_non_null(t.text);
	assert_non_null(t.host);
	o = &e->owned[e->n_owned];
	o->e = e;
	o->g = pcp_group_new(&t);
	assert_non_null(o->g);
	o->g->judge = e->judge;
	o->g->sslmode = PCP_SSLMODE_VERIFY_FULL;
	o->g->timeout = timeout;
	o->g->not_after = not_after;
	o->g->index = e->n_owned++;
	o->g->done = on_done;
	o->g->done_arg = o;
	if (pcp_engine_submit(e->engine, o->g, &err) < 0)
		fail_msg("pcp_engine_submit: %s", err.msg);
	return o;
}

/* Checks one record: its status, words its error holds (NULL: any), and whether a probe
 * ran. */
static void want_record(const struct seen *r, enum pcp_status status, const char *words,
                        bool probed)
{
	if (r->status != status)
		fail_msg("status %s, want %s (%s)", pcp_status_name(r->status),
		         pcp_status_name(status), r->error);
	if (words && !strstr(r->error, words))
		fail_msg("error \"%s\", want one with \"%s\"", r->error, words);
	if (probed) {
		assert_true(r->total_ms >= 0);
	} else {
		assert_true(r->total_ms == -1);
		assert_true(r->connect_ms == -1);
	}
}

/* A group for host with a deadline soon, run to completion, whose first address was
 * probed. The probe starts a couple of loop turns after the submit; a machine that stalls
 * the loop past not_after meanwhile gets the address (rightly) recorded unprobed, so then
 * the same is tried with a deadline four times further. */
static struct owned *submit_probed(struct env *e, const char *host, double *not_after)
{
	for (double span = 0.25;; span *= 4) {
		struct owned *o;

		assert_true(span < WATCHDOG_S / 2);
		*not_after = deadline_in(e, span);
		o = submit(e, host, LONG, *not_after);
		RUN_UNTIL(e, o->calls > 0);
		if (o->rec[0].total_ms >= 0)
			return o;
		want_record(&o->rec[0], PCP_STATUS_TIMEOUT, "deadline", false);
	}
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof *e);
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof sin;
	time_t now = time(NULL);
	struct pcp_judge_config jcfg = {.ats = &now, .n_ats = 1, .auth_level = 2, .warn_days = -1};
	struct pcp_error err = {0};

	assert_non_null(e);
	jcfg.stores = &e->stores;
	e->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(e->loop);
	ev_init(&e->watchdog, on_watchdog);
	e->watchdog.data = e;
	e->tcp_fd = pcp_fixture_listen(AF_INET, INADDR_LOOPBACK, 0, 16, &e->port);
	assert_true(e->tcp_fd >= 0);
	e->dns_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(e->dns_fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(e->dns_fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(e->dns_fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(e->dns_server, sizeof e->dns_server, "127.0.0.1:%u", ntohs(sin.sin_port));
	e->judge = pcp_judge_new(&jcfg, &err);
	if (!e->judge)
		fail_msg("pcp_judge_new: %s", err.msg);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	/* Completes whatever a failed test left, so every group is freed by on_done. */
	pcp_engine_free(e->engine);
	for (size_t i = 0; i < e->n_owned; i++)
		pcp_group_free(e->owned[i].g); /* a submit that failed */
	pcp_judge_free(e->judge);
	close(e->tcp_fd);
	close(e->dns_fd);
	ev_timer_stop(e->loop, &e->watchdog);
	ev_loop_destroy(e->loop);
	free(e);
	return 0;
}

/* Ends the engine in the test (not in teardown), so that no done callback can hide there. */
static void engine_end(struct env *e)
{
	pcp_engine_free(e->engine);
	e->engine = NULL;
}

/* Window 1: A holds the only slot with no deadline of its own; B waits for a slot until
 * its not_after, and is then recorded timeout without a probe while A goes on. */
static void test_waiting_group_times_out_unprobed(void **state)
{
	struct env *e = *state;
	struct owned *a, *b;
	double not_after;

	engine_start(e, 1, NULL);
	a = submit(e, "127.0.0.1", LONG, 0);
	/* B only once A has the slot: which group probes first is not left to chance. */
	RUN_UNTIL(e, pcp_engine_in_flight(e->engine) == 1);
	not_after = deadline_in(e, 0.2);
	b = submit(e, "127.0.0.1", LONG, not_after);
	RUN_UNTIL(e, b->calls > 0);
	assert_int_equal(b->n_records, 1);
	want_record(&b->rec[0], PCP_STATUS_TIMEOUT, "no probe slot came free before the deadline",
	            false);
	assert_string_equal(b->rec[0].addr, "127.0.0.1");
	assert_true(b->at >= not_after - CLOCK_SLACK);
	assert_int_equal(a->calls, 0);
	assert_int_equal(pcp_engine_in_flight(e->engine), 1);
	assert_true(pcp_engine_holds(e->engine));

	pcp_engine_cancel_all(e->engine);
	assert_int_equal(a->calls, 1);
	want_record(&a->rec[0], PCP_STATUS_CANCELLED, "interrupted (while", true);
	assert_int_equal(b->calls, 1);
	assert_false(pcp_engine_holds(e->engine));
	assert_int_equal(pcp_engine_in_flight(e->engine), 0);
	ev_run(e->loop, EVRUN_NOWAIT);
	engine_end(e);
	assert_int_equal(a->calls, 1);
	assert_int_equal(b->calls, 1);
}

/* A probe's deadline is min(start + timeout, not_after), whichever comes first. */
static void test_probe_deadline_is_the_earlier(void **state)
{
	struct env *e = *state;
	struct owned *o;
	double not_after, said;
	const char *at;

	engine_start(e, 4, NULL);
	o = submit_probed(e, "127.0.0.1", &not_after);
	assert_int_equal(o->calls, 1);
	want_record(&o->rec[0], PCP_STATUS_TIMEOUT, "no answer within ", true);
	assert_true(o->at >= not_after - CLOCK_SLACK);
	/* The wait it reports is from its start to not_after: no longer than it ran (ms
	 * rounding aside), and nowhere near the hour-long timeout. */
	at = strstr(o->rec[0].error, "no answer within ");
	assert_non_null(at);
	said = strtod(at + strlen("no answer within "), NULL);
	assert_true(said >= 0 && said <= o->rec[0].total_ms / 1000 + 0.001);
	assert_true(said < WATCHDOG_S);

	/* The other way round: a timeout shorter than what not_after leaves is kept exactly. */
	o = submit(e, "127.0.0.1", 0.25, deadline_in(e, LONG));
	RUN_UNTIL(e, o->calls > 0);
	want_record(&o->rec[0], PCP_STATUS_TIMEOUT, "no answer within 0.25 s", true);
	assert_false(pcp_engine_holds(e->engine));
	engine_end(e);
}

/* A name the DNS server never answers, with the resolver's own timeout an hour: the group
 * ends at not_after, and its lookup is forgotten (the group is freed in its done callback;
 * a lookup still pointing at it would call back into freed memory at pcp_engine_free). */
static void test_name_still_resolving_at_deadline(void **state)
{
	struct env *e = *state;
	struct owned *o;
	double not_after;
	char query[512];

	engine_start(e, 4, NULL);
	not_after = deadline_in(e, 0.2);
	o = submit(e, "silent.pcp.test", LONG, not_after);
	RUN_UNTIL(e, o->calls > 0);
	assert_int_equal(o->n_records, 1);
	want_record(&o->rec[0], PCP_STATUS_TIMEOUT, NULL, false);
	assert_string_equal(o->rec[0].error, "could not translate host name \"silent.pcp.test\" "
	                                     "to address before the deadline");
	assert_string_equal(o->rec[0].addr, "");
	assert_true(o->at >= not_after - CLOCK_SLACK);
	/* The lookup did go out (the deadline, not a local failure, ended it). */
	assert_true(recv(e->dns_fd, query, sizeof query, MSG_DONTWAIT) > 0);
	assert_false(pcp_engine_holds(e->engine));
	ev_run(e->loop, EVRUN_NOWAIT);
	engine_end(e);
	assert_int_equal(o->calls, 1);
}

/* Window 1 with groups waiting for the slot and one still resolving: cancel_all records
 * each of them cancelled, once, and the engine takes new work afterwards. */
static void test_cancel_all_with_groups_queued(void **state)
{
	struct env *e = *state;
	struct owned *o[4], *resolving, *after;

	engine_start(e, 1, NULL);
	for (size_t i = 0; i < 4; i++)
		o[i] = submit(e, "127.0.0.1", LONG, 0);
	resolving = submit(e, "silent.pcp.test", LONG, 0);
	RUN_UNTIL(e, pcp_engine_in_flight(e->engine) == 1 && o[1]->g && !o[1]->g->resolving &&
	                     o[2]->g && !o[2]->g->resolving && o[3]->g && !o[3]->g->resolving);
	for (size_t i = 0; i < e->n_owned; i++)
		assert_int_equal(e->owned[i].calls, 0);

	pcp_engine_cancel_all(e->engine);
	for (size_t i = 0; i < e->n_owned; i++)
		assert_int_equal(e->owned[i].calls, 1);
	want_record(&o[0]->rec[0], PCP_STATUS_CANCELLED, "interrupted (while", true);
	for (size_t i = 1; i < 4; i++)
		want_record(&o[i]->rec[0], PCP_STATUS_CANCELLED,
		            "interrupted before the probe started", false);
	want_record(&resolving->rec[0], PCP_STATUS_CANCELLED,
	            "interrupted while resolving the name", false);
	assert_false(pcp_engine_holds(e->engine));
	assert_int_equal(pcp_engine_in_flight(e->engine), 0);

	/* The slot is free again. */
	after = submit(e, "127.0.0.1", 0.25, 0);
	RUN_UNTIL(e, after->calls > 0);
	want_record(&after->rec[0], PCP_STATUS_TIMEOUT, "no answer within 0.25 s", true);
	engine_end(e);
	for (size_t i = 0; i < e->n_owned; i++)
		assert_int_equal(e->owned[i].calls, 1);
}

/* One name, two addresses (a pin), window 1: the first address probes until not_after, the
 * second never gets the slot and is recorded timeout unprobed; one completion. */
static void test_second_address_times_out_unprobed(void **state)
{
	struct env *e = *state;
	struct owned *o;
	double not_after;
	char pin[64];

	snprintf(pin, sizeof pin, "multi.test:%u:127.0.0.1,127.0.0.2", e->port);
	engine_start(e, 1, pin);
	o = submit_probed(e, "multi.test", &not_after);
	assert_int_equal(o->calls, 1);
	assert_int_equal(o->n_records, 2);
	assert_string_equal(o->rec[0].addr, "127.0.0.1");
	want_record(&o->rec[0], PCP_STATUS_TIMEOUT, "no answer within ", true);
	/* Nothing listens on 127.0.0.2: a probe there would have been refused, not timed out. */
	assert_string_equal(o->rec[1].addr, "127.0.0.2");
	want_record(&o->rec[1], PCP_STATUS_TIMEOUT, "no probe slot came free before the deadline",
	            false);
	assert_true(o->at >= not_after - CLOCK_SLACK);
	assert_false(pcp_engine_holds(e->engine));
	engine_end(e);
	assert_int_equal(o->calls, 1);
}

/* A deadline already past at the submit: timeout at once, with no probe. */
static void test_deadline_already_past(void **state)
{
	struct env *e = *state;
	struct owned *o;

	engine_start(e, 4, NULL);
	o = submit(e, "127.0.0.1", LONG, deadline_in(e, -1));
	assert_int_equal(o->calls, 0); /* never from inside submit */
	RUN_UNTIL(e, o->calls > 0);
	want_record(&o->rec[0], PCP_STATUS_TIMEOUT, "deadline", false);
	assert_false(pcp_engine_holds(e->engine));
	engine_end(e);
	assert_int_equal(o->calls, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_waiting_group_times_out_unprobed, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_probe_deadline_is_the_earlier, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_name_still_resolving_at_deadline, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_cancel_all_with_groups_queued, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_second_address_times_out_unprobed, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_deadline_already_past, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
