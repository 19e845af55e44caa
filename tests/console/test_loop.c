/* The console's event loop: timers fire once, in order, and can be
 * cancelled; a watched pipe calls back; a callback may unwatch itself,
 * watch others, and run the loop again (as a dialog opened from one does). */
#include "console/loop.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct rec {
	char log[64];
	unsigned n;
};

static void mark(struct rec *r, char c)
{
	if (r->n + 1 < sizeof(r->log))
		r->log[r->n++] = c;
}

static struct rec *timer_rec;
static void timer_a(void *opaque)
{
	mark(timer_rec, *(char *)opaque);
}

static void test_timers(void **state)
{
	struct loop *l = loop_new();
	struct rec r = { 0 };
	timer_rec = &r;
	static char a = 'a', b = 'b', c = 'c';
	loop_timer(l, 60, timer_a, &c);
	loop_timer(l, 20, timer_a, &a);
	int id = loop_timer(l, 40, timer_a, &b);
	assert_true(id > 0);
	loop_cancel(l, id);
	loop_cancel(l, 12345); /* unknown: ignored */
	uint64_t t0 = loop_now_ms();
	while (r.n < 2)
		assert_true(loop_once(l, 1000) >= 0);
	assert_string_equal(r.log, "ac");
	assert_true(loop_now_ms() - t0 >= 55);
	/* Nothing left: a timeout with nothing to do is 0. */
	assert_int_equal(loop_once(l, 10), 0);
	loop_free(l);
}

struct pipe_ctx {
	struct loop *l;
	int fds[2];
	int other[2];
	struct rec r;
	bool nested;
};

static void other_cb(void *opaque, int fd, short revents)
{
	struct pipe_ctx *p = opaque;
	char c;
	assert_int_equal(read(fd, &c, 1), 1);
	mark(&p->r, c);
}

static void pipe_cb(void *opaque, int fd, short revents)
{
	struct pipe_ctx *p = opaque;
	char c;
	assert_true(revents & POLLIN);
	assert_int_equal(read(fd, &c, 1), 1);
	mark(&p->r, c);
	if (c == 'x') {
		/* Unwatch ourselves, watch another pipe and wait on it from
		 * inside this callback. */
		loop_unwatch(p->l, fd);
		assert_int_equal(loop_watch(p->l, p->other[0], POLLIN, other_cb, p), 0);
		assert_int_equal(write(p->other[1], "y", 1), 1);
		p->nested = true;
		assert_int_equal(loop_once(p->l, 1000), 1);
	}
}

static void test_watch_nested(void **state)
{
	struct pipe_ctx p = { 0 };
	p.l = loop_new();
	assert_int_equal(pipe(p.fds), 0);
	assert_int_equal(pipe(p.other), 0);
	assert_int_equal(loop_watch(p.l, p.fds[0], POLLIN, pipe_cb, &p), 0);
	assert_int_equal(loop_once(p.l, 20), 0);
	assert_int_equal(write(p.fds[1], "q", 1), 1);
	assert_int_equal(loop_once(p.l, 1000), 1);
	assert_string_equal(p.r.log, "q");
	assert_int_equal(write(p.fds[1], "xz", 2), 2);
	assert_int_equal(loop_once(p.l, 1000), 1);
	assert_true(p.nested);
	assert_string_equal(p.r.log, "qxy");
	/* Unwatched: the 'z' waiting there is not read. */
	assert_int_equal(loop_once(p.l, 20), 0);
	assert_string_equal(p.r.log, "qxy");
	/* Watching again replaces, never duplicates. */
	assert_int_equal(loop_watch(p.l, p.fds[0], POLLIN, pipe_cb, &p), 0);
	assert_int_equal(loop_watch(p.l, p.fds[0], POLLIN, pipe_cb, &p), 0);
	assert_int_equal(loop_once(p.l, 1000), 1);
	assert_string_equal(p.r.log, "qxyz");
	close(p.fds[0]);
	close(p.fds[1]);
	close(p.other[0]);
	close(p.other[1]);
	loop_free(p.l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_watch_nested),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
