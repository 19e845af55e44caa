/* Event loop: fd callbacks, one-shot and periodic timers, calls and stop
 * from other threads, deleting handlers whose events are already fetched. */
#include "hypervisor/evloop.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000ull

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull),
			      .tv_nsec = (long)(ns % 1000000000ull)};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Every test runs the loop under a guard that stops it after `ns` so that a
 * broken loop fails the test instead of hanging it. */
struct guard {
	struct evloop *l;
	struct evtimer *t;
	bool fired;
};

static void guard_fired(void *opaque)
{
	struct guard *g = opaque;
	g->fired = true;
	evloop_stop(g->l);
}

static void guard_start(struct guard *g, struct evloop *l, uint64_t ns)
{
	*g = (struct guard){.l = l};
	g->t = evtimer_new(l, guard_fired, g);
	assert_non_null(g->t);
	evtimer_arm(g->t, ns, 0);
}

static void stop_loop(void *opaque)
{
	evloop_stop(opaque);
}

static void post_stop(void *opaque)
{
	assert_int_equal(evloop_call(opaque, stop_loop, opaque), 0);
}

static void *run_thread(void *opaque)
{
	return (void *)(intptr_t)evloop_run(opaque);
}

struct reader {
	struct evloop *l;
	int fd;
	unsigned calls;
	uint32_t events;
	char last;
	bool stop;
};

static void reader_fn(void *opaque, uint32_t events)
{
	struct reader *r = opaque;
	r->calls++;
	r->events = events;
	if (events & EPOLLIN)
		assert_int_equal(read(r->fd, &r->last, 1), 1);
	/* A writable pipe stays writable: stop asking, or the loop calls again
	 * before the stop (itself a posted call) takes effect. */
	if (events & EPOLLOUT)
		assert_int_equal(evloop_mod_fd(r->l, r->fd, EPOLLIN), 0);
	if (r->stop)
		evloop_stop(r->l);
}

static void test_fd_callback(void **state)
{
	struct evloop *l = evloop_new();
	assert_non_null(l);
	int p[2];
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	struct reader r = {.l = l, .fd = p[0], .stop = true};
	assert_int_equal(evloop_add_fd(l, p[0], EPOLLIN, reader_fn, &r), 0);
	assert_int_equal(evloop_add_fd(l, p[0], EPOLLIN, reader_fn, &r), -EEXIST);
	assert_int_equal(evloop_add_fd(l, -1, EPOLLIN, reader_fn, &r), -EBADF);
	assert_int_equal(evloop_mod_fd(l, p[1], EPOLLOUT), -ENOENT);
	assert_int_equal(evloop_del_fd(l, p[1]), -ENOENT);

	struct guard g;
	guard_start(&g, l, 5000 * MS);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(evloop_run(l), 0);
	assert_false(g.fired);
	assert_int_equal(r.calls, 1);
	assert_true(r.events & EPOLLIN);
	assert_int_equal(r.last, 'x');

	/* The write end, registered for EPOLLIN (never), then moved to EPOLLOUT. */
	struct reader w = {.l = l, .fd = p[1], .stop = true};
	assert_int_equal(evloop_add_fd(l, p[1], EPOLLIN, reader_fn, &w), 0);
	assert_int_equal(evloop_mod_fd(l, p[1], EPOLLOUT), 0);
	assert_int_equal(evloop_run(l), 0);
	assert_int_equal(w.calls, 1);
	assert_true(w.events & EPOLLOUT);
	assert_int_equal(r.calls, 1);

	/* Deleted: a readable fd no longer calls back. */
	assert_int_equal(evloop_del_fd(l, p[1]), 0);
	assert_int_equal(evloop_del_fd(l, p[1]), -ENOENT);
	assert_int_equal(evloop_del_fd(l, p[0]), 0);
	assert_int_equal(write(p[1], "y", 1), 1);
	evtimer_arm(g.t, 30 * MS, 0);
	assert_int_equal(evloop_run(l), 0);
	assert_true(g.fired);
	assert_int_equal(r.calls, 1);
	assert_int_equal(w.calls, 1);

	evtimer_free(g.t);
	evloop_free(l);
	close(p[0]);
	close(p[1]);
}

struct tick {
	struct evloop *l;
	struct evtimer *t;
	unsigned calls;
	unsigned stop_after; /* evloop_stop on this call (0: never) */
	unsigned cancel_after;
	unsigned rearm_until; /* one-shot re-arms itself until this many calls */
	struct evtimer *then; /* armed to then_ns when cancelling */
	uint64_t then_ns;
	uint64_t first_ns, last_ns;
};

static void tick_fn(void *opaque)
{
	struct tick *k = opaque;
	uint64_t now = clock_ns();
	if (k->calls++ == 0)
		k->first_ns = now;
	k->last_ns = now;
	if (k->calls == k->cancel_after) {
		evtimer_cancel(k->t);
		if (k->then)
			evtimer_arm(k->then, k->then_ns, 0);
	}
	if (k->calls < k->rearm_until)
		evtimer_arm(k->t, 2 * MS, 0);
	if (k->calls == k->stop_after)
		evloop_stop(k->l);
}

static struct tick *tick_new(struct evloop *l)
{
	struct tick *k = calloc(1, sizeof(*k));
	assert_non_null(k);
	k->l = l;
	k->t = evtimer_new(l, tick_fn, k);
	assert_non_null(k->t);
	return k;
}

static void tick_free(struct tick *k)
{
	evtimer_free(k->t);
	free(k);
}

static void test_timer_oneshot(void **state)
{
	struct evloop *l = evloop_new();
	struct guard g;
	guard_start(&g, l, 5000 * MS);
	struct tick *k = tick_new(l);
	k->stop_after = 1;
	uint64_t start = clock_ns();
	evtimer_arm(k->t, 20 * MS, 0);
	assert_int_equal(evloop_run(l), 0);
	assert_false(g.fired);
	assert_int_equal(k->calls, 1);
	assert_true(k->first_ns - start >= 20 * MS);

	/* One-shot: no second expiry while the loop runs on. */
	evtimer_arm(g.t, 60 * MS, 0);
	assert_int_equal(evloop_run(l), 0);
	assert_true(g.fired);
	assert_int_equal(k->calls, 1);

	/* A delay of 0 still fires (after at least 1 ns). */
	evtimer_arm(g.t, 5000 * MS, 0);
	g.fired = false;
	k->stop_after = 2;
	evtimer_arm(k->t, 0, 0);
	assert_int_equal(evloop_run(l), 0);
	assert_false(g.fired);
	assert_int_equal(k->calls, 2);

	tick_free(k);
	evtimer_free(g.t);
	evloop_free(l);
}

static void test_timer_periodic_and_cancel(void **state)
{
	struct evloop *l = evloop_new();
	struct guard g;
	guard_start(&g, l, 5000 * MS);
	struct tick *k = tick_new(l);
	/* Cancelled from its own callback on the 4th call, which also arms a
	 * second timer to end the run 50 ms later. */
	struct tick *stopper = tick_new(l);
	stopper->stop_after = 1;
	k->cancel_after = 4;
	k->then = stopper->t;
	k->then_ns = 50 * MS;
	uint64_t start = clock_ns();
	evtimer_arm(k->t, 10 * MS, 5 * MS);
	assert_int_equal(evloop_run(l), 0);
	assert_false(g.fired);
	assert_int_equal(k->calls, 4);
	assert_true(k->first_ns - start >= 10 * MS);
	/* Expiries at 10, 15, 20, 25 ms (late ones may be merged into one
	 * call, so the 4th call comes no earlier than the 4th expiry). */
	assert_true(k->last_ns - start >= 25 * MS);
	assert_true(stopper->first_ns - k->last_ns >= 50 * MS);

	/* Cancelled before its first expiry: never fires. */
	evtimer_arm(k->t, 10 * MS, 10 * MS);
	evtimer_cancel(k->t);
	evtimer_arm(stopper->t, 60 * MS, 0);
	stopper->stop_after = 2;
	assert_int_equal(evloop_run(l), 0);
	assert_int_equal(k->calls, 4);

	/* Re-arming replaces the old expiry: 10 s becomes 10 ms. */
	k->stop_after = 5;
	start = clock_ns();
	evtimer_arm(k->t, 10000 * MS, 0);
	evtimer_arm(k->t, 10 * MS, 0);
	assert_int_equal(evloop_run(l), 0);
	assert_false(g.fired);
	assert_int_equal(k->calls, 5);
	assert_true(k->last_ns - start >= 10 * MS && k->last_ns - start < 4000 * MS);

	/* A one-shot re-armed from its own callback fires again. */
	k->rearm_until = 8;
	k->stop_after = 8;
	evtimer_arm(k->t, 1 * MS, 0);
	assert_int_equal(evloop_run(l), 0);
	assert_false(g.fired);
	assert_int_equal(k->calls, 8);

	tick_free(stopper);
	tick_free(k);
	evtimer_free(g.t);
	evloop_free(l);
}

/* evtimer_free of a timer from inside its own callback. */
static void free_self(void *opaque)
{
	struct tick *k = opaque;
	k->calls++;
	evtimer_free(k->t);
	k->t = NULL;
}

/* Two timers expire in the same batch; whichever runs first frees the
 * other, whose already-fetched event must then be skipped. */
struct pair {
	struct evtimer *t[2];
	unsigned calls[2];
};

static void pair_fn(struct pair *p, unsigned me)
{
	p->calls[me]++;
	if (p->t[!me]) {
		evtimer_free(p->t[!me]);
		p->t[!me] = NULL;
	}
}

static void pair0(void *opaque)
{
	pair_fn(opaque, 0);
}

static void pair1(void *opaque)
{
	pair_fn(opaque, 1);
}

static void test_timer_free_in_callback(void **state)
{
	struct evloop *l = evloop_new();
	struct guard g;
	guard_start(&g, l, 60 * MS);
	struct tick self = {.l = l};
	self.t = evtimer_new(l, free_self, &self);
	assert_non_null(self.t);
	evtimer_arm(self.t, 1 * MS, 1 * MS);

	struct pair p = {0};
	p.t[0] = evtimer_new(l, pair0, &p);
	p.t[1] = evtimer_new(l, pair1, &p);
	evtimer_arm(p.t[0], 1, 0);
	evtimer_arm(p.t[1], 1, 0);
	sleep_ns(5 * MS); /* both (and self) are expired before the first wait */
	assert_int_equal(evloop_run(l), 0);
	assert_true(g.fired);
	assert_int_equal(self.calls, 1);
	assert_null(self.t);
	assert_int_equal(p.calls[0] + p.calls[1], 1);
	assert_true(p.t[0] == NULL || p.t[1] == NULL);
	evtimer_free(p.t[0] ? p.t[0] : p.t[1]);
	evtimer_free(g.t);
	evloop_free(l);
}

/* Two readable pipes in one batch: the first callback deletes the other's
 * fd, closes it, frees its context (ASan would see a late call) and puts a
 * fresh, idle pipe in its place, likely under the same fd number. */
struct victim {
	struct evloop *l;
	int rfd, wfd;
	unsigned *calls;
	struct victim **other;
	struct victim *replacement;
};

static void victim_fn(void *opaque, uint32_t events)
{
	struct victim *v = opaque;
	(*v->calls)++;
	char c;
	while (read(v->rfd, &c, 1) == 1)
		;
	struct victim *o = *v->other;
	if (!o)
		return;
	assert_int_equal(evloop_del_fd(v->l, o->rfd), 0);
	close(o->rfd);
	close(o->wfd);
	free(o);
	*v->other = NULL;
	/* The replacement counts separately: its own handler must not get the
	 * stale event fetched for the victim. */
	struct victim *n = v->replacement;
	int p[2];
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	n->rfd = p[0];
	n->wfd = p[1];
	assert_int_equal(evloop_add_fd(v->l, n->rfd, EPOLLIN, victim_fn, n), 0);
}

static void test_del_fd_in_same_batch(void **state)
{
	struct evloop *l = evloop_new();
	struct guard g;
	guard_start(&g, l, 60 * MS);
	unsigned calls = 0, new_calls = 0;
	struct victim *vs[2], *none = NULL;
	struct victim fresh = {.l = l, .calls = &new_calls, .other = &none};
	for (int i = 0; i < 2; i++) {
		int p[2];
		assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
		vs[i] = calloc(1, sizeof(*vs[i]));
		*vs[i] = (struct victim){
		    .l = l, .rfd = p[0], .wfd = p[1], .calls = &calls, .replacement = &fresh};
		assert_int_equal(write(p[1], "z", 1), 1);
	}
	/* Each one's "other" slot is the array entry of the other one. */
	vs[0]->other = &vs[1];
	vs[1]->other = &vs[0];
	for (int i = 0; i < 2; i++)
		assert_int_equal(evloop_add_fd(l, vs[i]->rfd, EPOLLIN, victim_fn, vs[i]), 0);
	assert_int_equal(evloop_run(l), 0);
	assert_true(g.fired);
	assert_int_equal(calls, 1);
	assert_int_equal(new_calls, 0);
	assert_true(vs[0] == NULL || vs[1] == NULL);

	/* The replacement is live. */
	assert_int_equal(write(fresh.wfd, "n", 1), 1);
	evtimer_arm(g.t, 30 * MS, 0);
	assert_int_equal(evloop_run(l), 0);
	assert_int_equal(new_calls, 1);
	assert_int_equal(calls, 1);

	struct victim *left = vs[0] ? vs[0] : vs[1];
	assert_int_equal(evloop_del_fd(l, left->rfd), 0);
	assert_int_equal(evloop_del_fd(l, fresh.rfd), 0);
	close(left->rfd);
	close(left->wfd);
	free(left);
	close(fresh.rfd);
	close(fresh.wfd);
	evtimer_free(g.t);
	evloop_free(l);
}

/* evloop_call from other threads: runs in the loop's thread, in order. */
#define POSTERS 4
#define POSTS	500

struct post_log {
	pthread_t loop_thread;
	bool wrong_thread;
	unsigned total;
	unsigned next[POSTERS];
	bool out_of_order;
};

struct post {
	struct post_log *log;
	unsigned thread, seq;
};

static void post_fn(void *opaque)
{
	struct post *p = opaque;
	struct post_log *log = p->log;
	if (!pthread_equal(pthread_self(), log->loop_thread))
		log->wrong_thread = true;
	if (p->seq != log->next[p->thread])
		log->out_of_order = true;
	log->next[p->thread] = p->seq + 1;
	log->total++;
	free(p);
}

struct poster {
	struct evloop *l;
	struct post_log *log;
	unsigned thread;
	bool stop_when_done;
};

static void *poster_thread(void *opaque)
{
	struct poster *ps = opaque;
	for (unsigned i = 0; i < POSTS; i++) {
		struct post *p = malloc(sizeof(*p));
		*p = (struct post){.log = ps->log, .thread = ps->thread, .seq = i};
		if (evloop_call(ps->l, post_fn, p) < 0)
			abort();
		if (i % 64 == 0)
			sleep_ns(100000);
	}
	return NULL;
}

struct waiter {
	struct evloop *l;
	struct post_log *log;
	struct evtimer *t;
};

static void check_done(void *opaque)
{
	struct waiter *w = opaque;
	if (w->log->total == POSTERS * POSTS)
		evloop_stop(w->l);
}

static void test_call_from_threads(void **state)
{
	struct evloop *l = evloop_new();
	struct guard g;
	guard_start(&g, l, 10000 * MS);
	struct post_log log = {.loop_thread = pthread_self()};
	struct waiter w = {.l = l, .log = &log};
	w.t = evtimer_new(l, check_done, &w);
	evtimer_arm(w.t, 1 * MS, 1 * MS);
	struct poster ps[POSTERS];
	pthread_t th[POSTERS];
	for (unsigned i = 0; i < POSTERS; i++) {
		ps[i] = (struct poster){.l = l, .log = &log, .thread = i};
		assert_int_equal(pthread_create(&th[i], NULL, poster_thread, &ps[i]), 0);
	}
	assert_int_equal(evloop_run(l), 0);
	for (unsigned i = 0; i < POSTERS; i++)
		pthread_join(th[i], NULL);
	assert_false(g.fired);
	assert_int_equal(log.total, POSTERS * POSTS);
	assert_false(log.wrong_thread);
	assert_false(log.out_of_order);
	evtimer_free(w.t);
	evtimer_free(g.t);
	evloop_free(l);
}

/* A call posted while the loop sleeps in epoll_wait with nothing else to
 * do wakes it (no timer other than the far-off guard is armed). */
struct wake {
	struct evloop *l;
	pthread_t loop_thread;
	bool ran, right_thread, stop_directly;
	uint64_t posted_ns, ran_ns;
};

static void wake_fn(void *opaque)
{
	struct wake *w = opaque;
	w->ran = true;
	w->ran_ns = clock_ns();
	w->right_thread = pthread_equal(pthread_self(), w->loop_thread);
	evloop_stop(w->l);
}

static void *wake_thread(void *opaque)
{
	struct wake *w = opaque;
	sleep_ns(30 * MS);
	w->posted_ns = clock_ns();
	if (w->stop_directly)
		evloop_stop(w->l);
	else if (evloop_call(w->l, wake_fn, w) < 0)
		abort();
	return NULL;
}

static void test_call_wakes_loop(void **state)
{
	struct evloop *l = evloop_new();
	struct guard g;
	guard_start(&g, l, 10000 * MS);
	struct wake w = {.l = l, .loop_thread = pthread_self()};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, wake_thread, &w), 0);
	assert_int_equal(evloop_run(l), 0);
	pthread_join(th, NULL);
	assert_false(g.fired);
	assert_true(w.ran);
	assert_true(w.right_thread);
	assert_true(w.ran_ns - w.posted_ns < 2000 * MS);

	/* evloop_stop alone, from another thread, ends a sleeping loop. */
	w = (struct wake){.l = l, .stop_directly = true};
	uint64_t start = clock_ns();
	assert_int_equal(pthread_create(&th, NULL, wake_thread, &w), 0);
	assert_int_equal(evloop_run(l), 0);
	pthread_join(th, NULL);
	assert_false(g.fired);
	assert_false(w.ran);
	assert_true(clock_ns() - start >= 30 * MS);
	assert_true(clock_ns() - start < 5000 * MS);

	/* Stop asked before the loop runs: the run ends at once. */
	evloop_stop(l);
	start = clock_ns();
	assert_int_equal(evloop_run(l), 0);
	assert_false(g.fired);
	assert_true(clock_ns() - start < 2000 * MS);

	/* A loop running in another thread, stopped from this one. */
	evtimer_arm(g.t, 10000 * MS, 0);
	pthread_t runner;
	assert_int_equal(pthread_create(&runner, NULL, run_thread, l), 0);
	sleep_ns(20 * MS);
	evloop_stop(l);
	void *rc;
	pthread_join(runner, &rc);
	assert_int_equal((intptr_t)rc, 0);
	assert_false(g.fired);

	/* evloop_call from a function posted by evloop_call runs too. */
	assert_int_equal(evloop_call(l, post_stop, l), 0);
	assert_int_equal(evloop_run(l), 0);
	assert_false(g.fired);

	evtimer_free(g.t);
	evloop_free(l);
}

static void test_clock_ns(void **state)
{
	uint64_t prev = clock_ns();
	assert_true(prev > 0);
	for (int i = 0; i < 100000; i++) {
		uint64_t now = clock_ns();
		assert_true(now >= prev);
		prev = now;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t mono = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	uint64_t a = clock_ns();
	assert_true(a >= mono && a - mono < 1000 * MS);
	sleep_ns(5 * MS);
	uint64_t b = clock_ns();
	assert_true(b - a >= 5 * MS);
	assert_true(b - a < 5000 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fd_callback),
	    cmocka_unit_test(test_timer_oneshot),
	    cmocka_unit_test(test_timer_periodic_and_cancel),
	    cmocka_unit_test(test_timer_free_in_callback),
	    cmocka_unit_test(test_del_fd_in_same_batch),
	    cmocka_unit_test(test_call_from_threads),
	    cmocka_unit_test(test_call_wakes_loop),
	    cmocka_unit_test(test_clock_ns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
