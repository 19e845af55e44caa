/* Display surface: geometry and generations, per-consumer dirty rectangles,
 * eventfd notification, the producer's update hook, references, threads. */
#include "devices/display.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static bool readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void damage(struct display_surface *s, unsigned x, unsigned y, unsigned w, unsigned h)
{
	display_lock(s, NULL);
	display_damage_locked(s, x, y, w, h);
	display_unlock(s);
}

static bool covered(const struct display_rect *r, unsigned n, unsigned x, unsigned y)
{
	for (unsigned i = 0; i < n; i++)
		if (x >= r[i].x && x < r[i].x + r[i].w && y >= r[i].y && y < r[i].y + r[i].h)
			return true;
	return false;
}

static void test_new_and_view(void **state)
{
	assert_null(display_new(0, 10));
	assert_null(display_new(10, 0));
	assert_null(display_new(DISPLAY_MAX_WIDTH + 1, 10));
	assert_null(display_new(10, DISPLAY_MAX_HEIGHT + 1));
	struct display_surface *s = display_new(100, 50);
	assert_non_null(s);
	struct display_view v;
	display_lock(s, &v);
	assert_int_equal(v.width, 100);
	assert_int_equal(v.height, 50);
	assert_int_equal(v.stride, 400);
	assert_int_equal(v.generation, 1);
	for (unsigned i = 0; i < 100 * 50; i++)
		assert_int_equal(v.pixels[i], 0);
	display_unlock(s);
	display_put(s);
}

static void test_first_take_is_whole(void **state)
{
	struct display_surface *s = display_new(100, 50);
	struct display_consumer *c = display_consumer_new(s);
	assert_non_null(c);
	assert_true(readable(display_consumer_fd(c)));
	struct display_rect r[8];
	uint64_t gen = 0;
	assert_int_equal(display_consumer_take(c, r, 8, &gen), 1);
	assert_int_equal(gen, 1);
	assert_int_equal(r[0].x, 0);
	assert_int_equal(r[0].y, 0);
	assert_int_equal(r[0].w, 100);
	assert_int_equal(r[0].h, 50);
	assert_false(readable(display_consumer_fd(c)));
	/* Nothing happened since: nothing to report. */
	assert_int_equal(display_consumer_take(c, r, 8, NULL), 0);
	display_consumer_free(c);
	display_put(s);
}

static void test_damage_to_tiles(void **state)
{
	struct display_surface *s = display_new(200, 100);
	struct display_consumer *c = display_consumer_new(s);
	struct display_rect r[16];
	display_consumer_take(c, r, 16, NULL);

	damage(s, 40, 40, 1, 1);
	assert_true(readable(display_consumer_fd(c)));
	assert_int_equal(display_consumer_take(c, r, 16, NULL), 1);
	assert_int_equal(r[0].x, 32);
	assert_int_equal(r[0].y, 32);
	assert_int_equal(r[0].w, DISPLAY_TILE);
	assert_int_equal(r[0].h, DISPLAY_TILE);

	/* Across tiles, clipped at the surface's right and bottom edges. */
	damage(s, 190, 90, 50, 50);
	assert_int_equal(display_consumer_take(c, r, 16, NULL), 1);
	assert_int_equal(r[0].x, 160);
	assert_int_equal(r[0].y, 64);
	assert_int_equal(r[0].w, 40);
	assert_int_equal(r[0].h, 36);

	/* A column of tiles becomes one rectangle. */
	damage(s, 5, 0, 2, 100);
	assert_int_equal(display_consumer_take(c, r, 16, NULL), 1);
	assert_int_equal(r[0].x, 0);
	assert_int_equal(r[0].w, 32);
	assert_int_equal(r[0].y, 0);
	assert_int_equal(r[0].h, 100);

	/* Two areas apart stay apart. */
	damage(s, 0, 0, 1, 1);
	damage(s, 150, 70, 1, 1);
	assert_int_equal(display_consumer_take(c, r, 16, NULL), 2);
	assert_true(covered(r, 2, 0, 0));
	assert_true(covered(r, 2, 150, 70));
	assert_false(covered(r, 2, 100, 0));

	/* Outside the surface, or empty: nothing. */
	damage(s, 200, 0, 10, 10);
	damage(s, 0, 100, 10, 10);
	damage(s, 10, 10, 0, 5);
	assert_false(readable(display_consumer_fd(c)));
	assert_int_equal(display_consumer_take(c, r, 16, NULL), 0);
	display_consumer_free(c);
	display_put(s);
}

static void test_overflow_bounding_box(void **state)
{
	struct display_surface *s = display_new(640, 480);
	struct display_consumer *c = display_consumer_new(s);
	struct display_rect r[3];
	display_consumer_take(c, r, 3, NULL);
	/* Six separate tiles, three rectangles: the third covers the rest. */
	unsigned pts[6][2] = {{0, 0}, {100, 0}, {200, 100}, {300, 200}, {600, 300}, {10, 470}};
	for (int i = 0; i < 6; i++)
		damage(s, pts[i][0], pts[i][1], 1, 1);
	assert_int_equal(display_consumer_take(c, r, 3, NULL), 3);
	for (int i = 0; i < 6; i++)
		assert_true(covered(r, 3, pts[i][0], pts[i][1]));
	/* max 0 reports nothing and keeps the set. */
	damage(s, 1, 1, 1, 1);
	assert_int_equal(display_consumer_take(c, r, 0, NULL), 0);
	assert_int_equal(display_consumer_take(c, r, 3, NULL), 1);
	display_consumer_free(c);
	display_put(s);
}

static void test_random_damage_covered(void **state)
{
	struct display_surface *s = display_new(1000, 700);
	struct display_consumer *c = display_consumer_new(s);
	struct display_rect r[64];
	display_consumer_take(c, r, 64, NULL);
	srand(7);
	for (int round = 0; round < 50; round++) {
		unsigned n = 1 + (unsigned)rand() % 20;
		unsigned boxes[20][4];
		for (unsigned i = 0; i < n; i++) {
			boxes[i][0] = (unsigned)rand() % 1000;
			boxes[i][1] = (unsigned)rand() % 700;
			boxes[i][2] = 1 + (unsigned)rand() % 120;
			boxes[i][3] = 1 + (unsigned)rand() % 120;
			damage(s, boxes[i][0], boxes[i][1], boxes[i][2], boxes[i][3]);
		}
		unsigned max = 1 + (unsigned)rand() % 64;
		unsigned got = display_consumer_take(c, r, max, NULL);
		assert_true(got >= 1 && got <= max);
		for (unsigned i = 0; i < got; i++) {
			assert_true(r[i].x + r[i].w <= 1000);
			assert_true(r[i].y + r[i].h <= 700);
		}
		for (unsigned i = 0; i < n; i++)
			for (unsigned y = boxes[i][1]; y < boxes[i][1] + boxes[i][3] && y < 700;
			     y += 7)
				for (unsigned x = boxes[i][0];
				     x < boxes[i][0] + boxes[i][2] && x < 1000; x += 7)
					assert_true(covered(r, got, x, y));
	}
	display_consumer_free(c);
	display_put(s);
}

static void test_consumers_independent(void **state)
{
	struct display_surface *s = display_new(64, 64);
	struct display_consumer *a = display_consumer_new(s), *b = display_consumer_new(s);
	struct display_rect r[4];
	display_consumer_take(a, r, 4, NULL);
	display_consumer_take(b, r, 4, NULL);
	damage(s, 0, 0, 1, 1);
	assert_true(readable(display_consumer_fd(a)));
	assert_true(readable(display_consumer_fd(b)));
	assert_int_equal(display_consumer_take(a, r, 4, NULL), 1);
	assert_false(readable(display_consumer_fd(a)));
	assert_true(readable(display_consumer_fd(b)));
	damage(s, 40, 40, 1, 1);
	assert_int_equal(display_consumer_take(b, r, 4, NULL), 2);
	assert_int_equal(display_consumer_take(a, r, 4, NULL), 1);
	assert_int_equal(r[0].x, 32);
	display_consumer_free(a);
	/* b keeps working after a is gone. */
	damage(s, 0, 40, 1, 1);
	assert_int_equal(display_consumer_take(b, r, 4, NULL), 1);
	display_consumer_free(b);
	display_put(s);
}

static void test_resize(void **state)
{
	struct display_surface *s = display_new(64, 64);
	struct display_consumer *c = display_consumer_new(s);
	struct display_rect r[4];
	display_consumer_take(c, r, 4, NULL);
	struct display_view v;
	display_lock(s, &v);
	v.pixels[5] = 0x123456;
	assert_int_equal(display_resize_locked(s, 0, 10, &v), -EINVAL);
	assert_int_equal(display_resize_locked(s, 10, DISPLAY_MAX_HEIGHT + 1, &v), -EINVAL);
	assert_int_equal(v.width, 64);
	assert_int_equal(v.pixels[5], 0x123456);
	assert_int_equal(display_resize_locked(s, 300, 200, &v), 0);
	assert_int_equal(v.width, 300);
	assert_int_equal(v.height, 200);
	assert_int_equal(v.stride, 1200);
	assert_int_equal(v.generation, 2);
	assert_int_equal(v.pixels[5], 0);
	display_damage_locked(s, 3, 3, 1, 1);
	display_unlock(s);
	uint64_t gen = 0;
	assert_true(readable(display_consumer_fd(c)));
	assert_int_equal(display_consumer_take(c, r, 4, &gen), 1);
	assert_int_equal(gen, 2);
	assert_int_equal(r[0].w, 300);
	assert_int_equal(r[0].h, 200);
	assert_int_equal(display_consumer_take(c, r, 4, NULL), 0);
	display_consumer_free(c);
	display_put(s);
}

struct producer {
	struct display_surface *s;
	unsigned calls;
	void *seen;
};

static void update(void *opaque)
{
	struct producer *p = opaque;
	p->calls++;
	p->seen = opaque;
	struct display_view v;
	display_lock(p->s, &v);
	v.pixels[0] = 0xff00ff;
	display_damage_locked(p->s, 0, 0, 1, 1);
	display_unlock(p->s);
}

static void test_refresh_and_invalidate(void **state)
{
	struct display_surface *s = display_new(64, 64);
	struct producer p = {.s = s};
	display_refresh(s); /* no producer yet: nothing */
	display_set_update(s, update, &p);
	struct display_consumer *c = display_consumer_new(s);
	struct display_rect r[4];
	display_consumer_take(c, r, 4, NULL);

	display_invalidate(s);
	assert_true(readable(display_consumer_fd(c)));
	uint64_t count = 0;
	/* Invalidated twice before a refresh: one wake-up. */
	display_invalidate(s);
	assert_int_equal(read(display_consumer_fd(c), &count, sizeof(count)), sizeof(count));
	assert_int_equal(count, 1);
	display_consumer_take(c, r, 4, NULL);

	display_refresh(s);
	assert_int_equal(p.calls, 1);
	assert_ptr_equal(p.seen, &p);
	assert_int_equal(display_consumer_take(c, r, 4, NULL), 1);
	/* After a refresh an invalidation wakes the consumer again. */
	display_invalidate(s);
	assert_true(readable(display_consumer_fd(c)));

	display_set_update(s, NULL, NULL);
	display_refresh(s);
	assert_int_equal(p.calls, 1);
	display_consumer_free(c);
	display_put(s);
}

static void test_references(void **state)
{
	struct display_surface *s = display_new(8, 8);
	struct display_consumer *c = display_consumer_new(s);
	display_put(s); /* the producer goes; the consumer still reads */
	struct display_view v;
	display_lock(s, &v);
	assert_int_equal(v.width, 8);
	display_unlock(s);
	display_refresh(s);
	display_consumer_free(c); /* frees the surface (ASan checks) */
}

struct race {
	struct display_surface *s;
	atomic_bool stop;
};

static void *damager(void *arg)
{
	struct race *rc = arg;
	for (unsigned i = 0; !atomic_load(&rc->stop); i++) {
		struct display_view v;
		display_lock(rc->s, &v);
		if (i % 1000 == 999)
			display_resize_locked(rc->s, 100 + i % 300, 100 + i % 200, &v);
		unsigned y = i % v.height;
		v.pixels[y * v.width] = i;
		display_damage_locked(rc->s, 0, y, v.width, 1);
		display_unlock(rc->s);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct race rc = {.s = display_new(320, 200)};
	struct display_consumer *c = display_consumer_new(rc.s);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, damager, &rc), 0);
	struct display_rect r[16];
	unsigned got = 0;
	for (int i = 0; i < 20000; i++) {
		uint64_t gen;
		unsigned n = display_consumer_take(c, r, 16, &gen);
		struct display_view v;
		display_lock(rc.s, &v);
		for (unsigned k = 0; k < n && gen == v.generation; k++) {
			assert_true(r[k].x + r[k].w <= v.width);
			assert_true(r[k].y + r[k].h <= v.height);
		}
		display_unlock(rc.s);
		got += n;
	}
	atomic_store(&rc.stop, true);
	pthread_join(t, NULL);
	assert_true(got > 0);
	display_consumer_free(c);
	display_put(rc.s);
}

/* The pixels live in a memfd that another process can map: what the
 * producer writes is what a mapping of the fd shows, the fd cannot be
 * resized under the worker's mapping, and a resize brings a new fd. */
static void test_shared_pixels(void **state)
{
	struct display_surface *s = display_new(64, 48);
	struct display_view v;
	display_lock(s, &v);
	assert_true(v.fd >= 0);
	int fd = dup(v.fd);
	v.pixels[0] = 0x123456;
	v.pixels[64 * 48 - 1] = 0xabcdef;
	display_unlock(s);

	size_t size = 64 * 48 * 4;
	uint32_t *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(map[0], 0x123456);
	assert_int_equal(map[64 * 48 - 1], 0xabcdef);
	assert_int_equal(ftruncate(fd, 4096), -1);
	assert_int_equal(errno, EPERM);

	display_lock(s, &v);
	assert_int_equal(display_resize_locked(s, 32, 16, &v), 0);
	assert_true(v.fd >= 0);
	v.pixels[5] = 0x777777;
	uint32_t *map2 = mmap(NULL, 32 * 16 * 4, PROT_READ, MAP_SHARED, v.fd, 0);
	assert_true(map2 != MAP_FAILED);
	assert_int_equal(map2[5], 0x777777);
	display_unlock(s);
	/* The old buffer stays valid for whoever still maps it. */
	assert_int_equal(map[0], 0x123456);
	munmap(map, size);
	munmap(map2, 32 * 16 * 4);
	close(fd);
	display_put(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_and_view),
	    cmocka_unit_test(test_first_take_is_whole),
	    cmocka_unit_test(test_damage_to_tiles),
	    cmocka_unit_test(test_overflow_bounding_box),
	    cmocka_unit_test(test_random_damage_covered),
	    cmocka_unit_test(test_consumers_independent),
	    cmocka_unit_test(test_resize),
	    cmocka_unit_test(test_refresh_and_invalidate),
	    cmocka_unit_test(test_references),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_shared_pixels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
