/* The input router (hypervisor/input.c): keys to the one keyboard with the
 * held-key bookkeeping, combos and release-all; pointers in order of
 * preference, absolute scaling to 0..0xffff, the relative fallback while no
 * absolute device is active; registration limits; many threads at once. */
#include "hypervisor/input.h"
#include "hypervisor/machine.h"

#include <errno.h>
#include <linux/input-event-codes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

/* ---- recorders ---- */

#define LOG_MAX 64

struct key_log {
	unsigned n;
	unsigned code[LOG_MAX];
	bool down[LOG_MAX];
	unsigned total; /* also past LOG_MAX, for the thread test */
};

static void record_key(void *opaque, unsigned keycode, bool down)
{
	struct key_log *l = opaque;
	if (l->n < LOG_MAX) {
		l->code[l->n] = keycode;
		l->down[l->n] = down;
		l->n++;
	}
	l->total++;
}

struct ptr_log {
	unsigned nrel, nabs;
	int dx, dy, dz;
	unsigned x, y;
	unsigned buttons;
	bool active; /* what abs_active answers */
};

static void record_rel(void *opaque, int dx, int dy, int dz, unsigned buttons)
{
	struct ptr_log *l = opaque;
	l->nrel++;
	l->dx = dx;
	l->dy = dy;
	l->dz = dz;
	l->buttons = buttons;
}

static void record_abs(void *opaque, unsigned x, unsigned y, int dz, unsigned buttons)
{
	struct ptr_log *l = opaque;
	l->nabs++;
	l->x = x;
	l->y = y;
	l->dz = dz;
	l->buttons = buttons;
}

static bool record_active(void *opaque)
{
	return ((struct ptr_log *)opaque)->active;
}

static struct machine m;

static int setup(void **state)
{
	memset(&m, 0, sizeof(m));
	m.input = input_router_new();
	assert_non_null(m.input);
	return 0;
}

static int teardown(void **state)
{
	input_router_free(m.input);
	m.input = NULL;
	return 0;
}

static void expect_key(const struct key_log *l, unsigned i, unsigned code, bool down)
{
	assert_true(i < l->n);
	if (l->code[i] != code || l->down[i] != down)
		fail_msg("event %u: key %u %s, expected key %u %s", i, l->code[i],
			 l->down[i] ? "down" : "up", code, down ? "down" : "up");
}

/* ---- keyboard ---- */

static void test_no_router(void **state)
{
	struct machine bare;
	memset(&bare, 0, sizeof(bare));
	struct key_log kl = {0};
	struct input_keyboard k = {record_key, &kl};
	struct input_pointer p = {.rel = record_rel, .opaque = &kl};
	assert_int_equal(input_add_keyboard(&bare, &k), -ENODEV);
	assert_int_equal(input_add_pointer(&bare, &p), -ENODEV);
	/* The front-end side is a no-op without a router. */
	input_key(&bare, KEY_A, true);
	input_key_combo(&bare, (const unsigned[]){KEY_A}, 1);
	input_release_all(&bare);
	input_pointer_abs(&bare, 1, 1, 10, 10, 0, 0);
	input_pointer_rel(&bare, 1, 1, 0, 0);
	input_remove_keyboard(&bare, &k);
	input_remove_pointer(&bare, &p);
	assert_int_equal(kl.n, 0);
}

static void test_keys_reach_the_keyboard(void **state)
{
	struct key_log kl = {0}, other_log = {0};
	struct input_keyboard k = {record_key, &kl}, other = {record_key, &other_log};

	input_key(&m, KEY_A, true); /* nobody registered yet: dropped */
	input_key(&m, KEY_A, false);
	assert_int_equal(input_add_keyboard(&m, &k), 0);
	assert_int_equal(input_add_keyboard(&m, &other), -EEXIST);

	input_key(&m, KEY_A, true);
	input_key(&m, KEY_A, true); /* a viewer's auto-repeat does not */
	input_key(&m, KEY_A, false);
	input_key(&m, KEY_A, false); /* a stray release does not */
	input_key(&m, KEY_B, false); /* never pressed */
	input_key(&m, 0, true);	     /* KEY_RESERVED */
	input_key(&m, INPUT_KEY_MAX + 1, true);
	input_key(&m, INPUT_KEY_MAX, true); /* the highest code is a key */
	input_key(&m, INPUT_KEY_MAX, false);
	assert_int_equal(kl.n, 4);
	expect_key(&kl, 0, KEY_A, true);
	expect_key(&kl, 1, KEY_A, false);
	expect_key(&kl, 2, INPUT_KEY_MAX, true);
	expect_key(&kl, 3, INPUT_KEY_MAX, false);

	/* Removing another keyboard changes nothing; removing ours stops
	 * the events and lets another register. */
	input_remove_keyboard(&m, &other);
	input_key(&m, KEY_C, true);
	assert_int_equal(kl.n, 5);
	input_remove_keyboard(&m, &k);
	input_key(&m, KEY_C, false);
	assert_int_equal(kl.n, 5);
	assert_int_equal(input_add_keyboard(&m, &other), 0);
	input_key(&m, KEY_D, true);
	assert_int_equal(other_log.n, 1);
	expect_key(&other_log, 0, KEY_D, true);
	assert_int_equal(other_log.total, 1);
}

static void test_combo_and_release_all(void **state)
{
	struct key_log kl = {0};
	struct input_keyboard k = {record_key, &kl};
	assert_int_equal(input_add_keyboard(&m, &k), 0);

	/* Ctrl+Alt+Del: pressed in order, released in reverse. */
	static const unsigned cad[] = {KEY_LEFTCTRL, KEY_LEFTALT, KEY_DELETE};
	input_key_combo(&m, cad, 3);
	assert_int_equal(kl.n, 6);
	expect_key(&kl, 0, KEY_LEFTCTRL, true);
	expect_key(&kl, 1, KEY_LEFTALT, true);
	expect_key(&kl, 2, KEY_DELETE, true);
	expect_key(&kl, 3, KEY_DELETE, false);
	expect_key(&kl, 4, KEY_LEFTALT, false);
	expect_key(&kl, 5, KEY_LEFTCTRL, false);

	/* A combo with a key the user already holds does not press it
	 * again but releases it with the rest, and bad codes inside are
	 * skipped. */
	kl.n = 0;
	input_key(&m, KEY_LEFTSHIFT, true);
	input_key_combo(&m, (const unsigned[]){KEY_LEFTSHIFT, 0, KEY_F1}, 3);
	assert_int_equal(kl.n, 4);
	expect_key(&kl, 1, KEY_F1, true);
	expect_key(&kl, 2, KEY_F1, false);
	expect_key(&kl, 3, KEY_LEFTSHIFT, false);

	/* A viewer that goes away with keys held: each is released once. */
	kl.n = 0;
	input_key(&m, KEY_Z, true);
	input_key(&m, KEY_RIGHTALT, true);
	input_key(&m, KEY_1, true);
	input_key(&m, KEY_1, false);
	input_key(&m, KEY_MUTE, true);
	input_release_all(&m);
	assert_int_equal(kl.n, 8);
	/* In key code order: Z (44), RIGHTALT (100), MUTE (113). */
	expect_key(&kl, 5, KEY_Z, false);
	expect_key(&kl, 6, KEY_RIGHTALT, false);
	expect_key(&kl, 7, KEY_MUTE, false);
	input_release_all(&m); /* nothing left held */
	input_key(&m, KEY_Z, false);
	assert_int_equal(kl.n, 8);
	input_remove_keyboard(&m, &k);
}

/* Held keys are the front ends', whoever the keyboard is: a key pressed
 * before the keyboard registered is still released to it. */
static void test_held_keys_outlive_the_keyboard(void **state)
{
	struct key_log kl = {0};
	struct input_keyboard k = {record_key, &kl};
	input_key(&m, KEY_Q, true);
	assert_int_equal(input_add_keyboard(&m, &k), 0);
	input_release_all(&m);
	assert_int_equal(kl.n, 1);
	expect_key(&kl, 0, KEY_Q, false);
	input_remove_keyboard(&m, &k);
}

/* ---- pointers ---- */

static void test_absolute_preferred_and_scaled(void **state)
{
	struct ptr_log rel_log = {0}, abs_log = {.active = true};
	struct input_pointer rel = {.rel = record_rel, .opaque = &rel_log};
	struct input_pointer abs = {
	    .abs = record_abs, .abs_active = record_active, .opaque = &abs_log};
	/* Registered after the relative one, still asked first. */
	assert_int_equal(input_add_pointer(&m, &rel), 0);
	assert_int_equal(input_add_pointer(&m, &abs), 0);

	input_pointer_abs(&m, 0, 0, 640, 480, 0, INPUT_BUTTON_LEFT);
	assert_int_equal(abs_log.nabs, 1);
	assert_int_equal(abs_log.x, 0);
	assert_int_equal(abs_log.y, 0);
	assert_int_equal(abs_log.buttons, INPUT_BUTTON_LEFT);
	input_pointer_abs(&m, 639, 479, 640, 480, 1, 0);
	assert_int_equal(abs_log.x, 0xffff);
	assert_int_equal(abs_log.y, 0xffff);
	assert_int_equal(abs_log.dz, 1);
	input_pointer_abs(&m, 320, 240, 640, 480, 0, INPUT_BUTTON_RIGHT);
	assert_int_equal(abs_log.x, 320u * 0xffff / 639);
	assert_int_equal(abs_log.y, 240u * 0xffff / 479);
	assert_int_equal(abs_log.buttons, INPUT_BUTTON_RIGHT);
	/* Outside the screen: clamped to its edge. */
	input_pointer_abs(&m, 5000, 480, 640, 480, 0, 0);
	assert_int_equal(abs_log.x, 0xffff);
	assert_int_equal(abs_log.y, 0xffff);
	/* A one-pixel screen and a zero-sized one. */
	input_pointer_abs(&m, 3, 3, 1, 1, 0, 0);
	assert_int_equal(abs_log.x, 0);
	assert_int_equal(abs_log.y, 0);
	unsigned before = abs_log.nabs;
	input_pointer_abs(&m, 1, 1, 0, 480, 0, 0);
	input_pointer_abs(&m, 1, 1, 640, 0, 0, 0);
	assert_int_equal(abs_log.nabs, before);
	assert_int_equal(rel_log.nrel, 0);

	/* Explicit relative motion skips the absolute-only device. */
	input_pointer_rel(&m, -3, 4, -1, INPUT_BUTTON_MIDDLE);
	assert_int_equal(rel_log.nrel, 1);
	assert_int_equal(rel_log.dx, -3);
	assert_int_equal(rel_log.dy, 4);
	assert_int_equal(rel_log.dz, -1);
	assert_int_equal(rel_log.buttons, INPUT_BUTTON_MIDDLE);
	input_remove_pointer(&m, &abs);
	input_remove_pointer(&m, &rel);
}

static void test_relative_fallback(void **state)
{
	struct ptr_log rel_log = {0}, abs_log = {.active = false};
	struct input_pointer abs = {
	    .abs = record_abs, .abs_active = record_active, .opaque = &abs_log};
	struct input_pointer rel = {.rel = record_rel, .opaque = &rel_log};
	assert_int_equal(input_add_pointer(&m, &abs), 0);
	assert_int_equal(input_add_pointer(&m, &rel), 0);

	/* The guest has not switched the absolute device on: motion from
	 * the last position, none for the first event. */
	input_pointer_abs(&m, 100, 50, 640, 480, 0, 0);
	assert_int_equal(rel_log.nrel, 1);
	assert_int_equal(rel_log.dx, 0);
	assert_int_equal(rel_log.dy, 0);
	input_pointer_abs(&m, 90, 70, 640, 480, 0, INPUT_BUTTON_LEFT);
	assert_int_equal(rel_log.dx, -10);
	assert_int_equal(rel_log.dy, 20);
	assert_int_equal(rel_log.buttons, INPUT_BUTTON_LEFT);
	assert_int_equal(abs_log.nabs, 0);

	/* Switched on: absolute; and back off, relative from where the
	 * pointer was meanwhile. */
	abs_log.active = true;
	input_pointer_abs(&m, 200, 100, 640, 480, 0, 0);
	assert_int_equal(abs_log.nabs, 1);
	assert_int_equal(rel_log.nrel, 2);
	abs_log.active = false;
	input_pointer_abs(&m, 201, 98, 640, 480, 0, 0);
	assert_int_equal(rel_log.nrel, 3);
	assert_int_equal(rel_log.dx, 1);
	assert_int_equal(rel_log.dy, -2);

	/* No relative device at all: the event is dropped. */
	input_remove_pointer(&m, &rel);
	input_pointer_abs(&m, 1, 1, 640, 480, 0, 0);
	input_pointer_rel(&m, 1, 1, 0, 0);
	assert_int_equal(rel_log.nrel, 3);
	assert_int_equal(abs_log.nabs, 1);
	input_remove_pointer(&m, &abs);
}

/* An absolute device without abs_active is always in use; one that offers
 * both goes first for relative motion too (vmmouse in front of PS/2). */
static void test_always_active_and_combined(void **state)
{
	struct ptr_log ps2_log = {0}, both_log = {0}, tablet_log = {0};
	struct input_pointer ps2 = {.rel = record_rel, .opaque = &ps2_log};
	struct input_pointer both = {
	    .rel = record_rel, .abs = record_abs, .abs_active = record_active, .opaque = &both_log};
	struct input_pointer tablet = {.abs = record_abs, .opaque = &tablet_log};
	assert_int_equal(input_add_pointer(&m, &ps2), 0);
	assert_int_equal(input_add_pointer(&m, &both), 0);
	input_pointer_rel(&m, 5, 5, 0, 0);
	assert_int_equal(both_log.nrel, 1);
	assert_int_equal(ps2_log.nrel, 0);
	input_pointer_abs(&m, 10, 10, 100, 100, 0, 0); /* inactive: its rel side */
	assert_int_equal(both_log.nrel, 2);
	assert_int_equal(both_log.nabs, 0);

	assert_int_equal(input_add_pointer(&m, &tablet), 0);
	input_pointer_abs(&m, 99, 0, 100, 100, 0, 0);
	assert_int_equal(tablet_log.nabs, 1);
	assert_int_equal(tablet_log.x, 0xffff);
	assert_int_equal(tablet_log.y, 0);
	both_log.active = true; /* the earlier absolute device wins now */
	input_pointer_abs(&m, 0, 99, 100, 100, 0, 0);
	assert_int_equal(both_log.nabs, 1);
	assert_int_equal(tablet_log.nabs, 1);
	input_remove_pointer(&m, &tablet);
	input_remove_pointer(&m, &both);
	input_remove_pointer(&m, &ps2);
}

static void test_pointer_limit(void **state)
{
	struct ptr_log log = {0};
	struct input_pointer p[5];
	for (unsigned i = 0; i < 5; i++)
		p[i] = (struct input_pointer){.rel = record_rel, .opaque = &log};
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(input_add_pointer(&m, &p[i]), 0);
	assert_int_equal(input_add_pointer(&m, &p[4]), -ENOSPC);
	input_remove_pointer(&m, &p[4]); /* not registered: nothing happens */
	input_remove_pointer(&m, &p[1]);
	assert_int_equal(input_add_pointer(&m, &p[4]), 0);
	for (unsigned i = 0; i < 5; i++)
		input_remove_pointer(&m, &p[i]);
	input_pointer_rel(&m, 1, 0, 0, 0);
	assert_int_equal(log.nrel, 0);
}

/* ---- threads ---- */

#define THREAD_ROUNDS 5000

static void *typist(void *arg)
{
	unsigned key = (unsigned)(uintptr_t)arg;
	for (unsigned i = 0; i < THREAD_ROUNDS; i++) {
		input_key(&m, key, true);
		input_key(&m, key, false);
		input_pointer_abs(&m, i % 640, i % 480, 640, 480, 0, 0);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct key_log kl = {0};
	struct ptr_log pl = {0};
	struct input_keyboard k = {record_key, &kl};
	struct input_pointer p = {.rel = record_rel, .opaque = &pl};
	assert_int_equal(input_add_keyboard(&m, &k), 0);
	assert_int_equal(input_add_pointer(&m, &p), 0);
	pthread_t t[4];
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(
		    pthread_create(&t[i], NULL, typist, (void *)(uintptr_t)(KEY_A + i)), 0);
	for (unsigned i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	/* Every press and release arrived once: the callbacks are serialised. */
	assert_int_equal(kl.total, 4 * 2 * THREAD_ROUNDS);
	assert_int_equal(pl.nrel, 4 * THREAD_ROUNDS);
	input_remove_pointer(&m, &p);
	input_remove_keyboard(&m, &k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_router),
	    cmocka_unit_test_setup_teardown(test_keys_reach_the_keyboard, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_combo_and_release_all, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_held_keys_outlive_the_keyboard, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_absolute_preferred_and_scaled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_relative_fallback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_always_active_and_combined, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pointer_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
