/* The SDL-free parts of osio connect's window: the SDL scancode to evdev
 * table (checked against SDL's own names for the scancodes, header only),
 * the letterbox geometry, and the checks on the worker's shared buffer. */
#include "connect/letterbox.h"
#include "connect/scancodes.h"
#include "connect/sharedfb.h"

#include <SDL_scancode.h>
#include <errno.h>
#include <linux/input-event-codes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void test_letters_digits(void **state)
{
	static const unsigned letters[26] = {
	    KEY_A, KEY_B, KEY_C, KEY_D, KEY_E, KEY_F, KEY_G, KEY_H, KEY_I,
	    KEY_J, KEY_K, KEY_L, KEY_M, KEY_N, KEY_O, KEY_P, KEY_Q, KEY_R,
	    KEY_S, KEY_T, KEY_U, KEY_V, KEY_W, KEY_X, KEY_Y, KEY_Z,
	};
	for (unsigned i = 0; i < 26; i++)
		assert_int_equal(scancode_to_evdev(SDL_SCANCODE_A + i), letters[i]);
	/* evdev numbers the digit row 1..9 then 0 in a run, as HID does. */
	for (unsigned i = 0; i < 9; i++)
		assert_int_equal(scancode_to_evdev(SDL_SCANCODE_1 + i), KEY_1 + i);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_0), KEY_0);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_RETURN), KEY_ENTER);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_ESCAPE), KEY_ESC);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_BACKSPACE), KEY_BACKSPACE);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_TAB), KEY_TAB);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_SPACE), KEY_SPACE);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_GRAVE), KEY_GRAVE);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_SLASH), KEY_SLASH);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_NONUSBACKSLASH), KEY_102ND);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_APPLICATION), KEY_COMPOSE);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_PRINTSCREEN), KEY_SYSRQ);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_PAUSE), KEY_PAUSE);
}

static void test_modifiers_arrows(void **state)
{
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_LCTRL), KEY_LEFTCTRL);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_LSHIFT), KEY_LEFTSHIFT);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_LALT), KEY_LEFTALT);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_LGUI), KEY_LEFTMETA);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_RCTRL), KEY_RIGHTCTRL);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_RSHIFT), KEY_RIGHTSHIFT);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_RALT), KEY_RIGHTALT);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_RGUI), KEY_RIGHTMETA);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_CAPSLOCK), KEY_CAPSLOCK);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_UP), KEY_UP);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_DOWN), KEY_DOWN);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_LEFT), KEY_LEFT);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_RIGHT), KEY_RIGHT);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_INSERT), KEY_INSERT);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_DELETE), KEY_DELETE);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_HOME), KEY_HOME);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_END), KEY_END);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_PAGEUP), KEY_PAGEUP);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_PAGEDOWN), KEY_PAGEDOWN);
}

static void test_keypad_fkeys(void **state)
{
	static const unsigned kp[10] = {KEY_KP0, KEY_KP1, KEY_KP2, KEY_KP3, KEY_KP4,
					KEY_KP5, KEY_KP6, KEY_KP7, KEY_KP8, KEY_KP9};
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_KP_0), kp[0]);
	for (unsigned i = 1; i <= 9; i++)
		assert_int_equal(scancode_to_evdev(SDL_SCANCODE_KP_1 + i - 1), kp[i]);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_NUMLOCKCLEAR), KEY_NUMLOCK);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_KP_DIVIDE), KEY_KPSLASH);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_KP_MULTIPLY), KEY_KPASTERISK);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_KP_MINUS), KEY_KPMINUS);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_KP_PLUS), KEY_KPPLUS);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_KP_ENTER), KEY_KPENTER);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_KP_PERIOD), KEY_KPDOT);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_KP_EQUALS), KEY_KPEQUAL);
	/* F1..F10 run on in evdev; F11, F12 and F13..F24 are elsewhere. */
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(scancode_to_evdev(SDL_SCANCODE_F1 + i), KEY_F1 + i);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_F11), KEY_F11);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_F12), KEY_F12);
	for (unsigned i = 0; i < 12; i++)
		assert_int_equal(scancode_to_evdev(SDL_SCANCODE_F13 + i), KEY_F13 + i);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_AUDIOMUTE), KEY_MUTE);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_AUDIOFASTFORWARD), KEY_FASTFORWARD);
}

/* Every key of a PC keyboard (HID usages 4..0x67 and the modifiers) has a
 * code; no code is taken by two keys except the known aliases; nothing
 * maps outside the codes; unknown scancodes give 0. */
static void test_table_whole(void **state)
{
	for (unsigned sc = SDL_SCANCODE_A; sc <= SDL_SCANCODE_KP_EQUALS; sc++)
		assert_true(scancode_to_evdev(sc) != 0);
	for (unsigned sc = SDL_SCANCODE_LCTRL; sc <= SDL_SCANCODE_RGUI; sc++)
		assert_true(scancode_to_evdev(sc) != 0);
	for (unsigned sc = 0; sc < SDL_SCANCODE_A; sc++)
		assert_int_equal(scancode_to_evdev(sc), 0);
	assert_int_equal(scancode_to_evdev(SDL_SCANCODE_MODE), 0);
	assert_int_equal(scancode_to_evdev(SCANCODES_MAX), 0);
	assert_int_equal(scancode_to_evdev(SDL_NUM_SCANCODES), 0);
	assert_int_equal(scancode_to_evdev(~0u), 0);
	assert_true(SDL_SCANCODE_AUDIOFASTFORWARD < SCANCODES_MAX);
	static unsigned short seen[KEY_MAX + 1];
	for (unsigned sc = 0; sc < SCANCODES_MAX; sc++) {
		unsigned code = scancode_to_evdev(sc);
		assert_true(code <= KEY_MAX);
		if (!code)
			continue;
		if (seen[code]) {
			/* The ISO key by Enter is \ too; Mute and Stop have HID and SDL numbers. */
			bool alias = (code == KEY_BACKSLASH && sc == SDL_SCANCODE_NONUSHASH) ||
				     (code == KEY_MUTE && sc == SDL_SCANCODE_AUDIOMUTE) ||
				     (code == KEY_STOP && sc == SDL_SCANCODE_AC_STOP);
			if (!alias)
				fail_msg("scancode %u maps to %u, as scancode %u does", sc, code,
					 seen[code]);
		}
		seen[code] = (unsigned short)sc;
	}
}

static void test_letterbox(void **state)
{
	struct letterbox b = letterbox_fit(640, 480, 640, 480);
	assert_true(b.x == 0 && b.y == 0 && b.w == 640 && b.h == 480);
	assert_true(letterbox_integer(&b, 640, 480));
	/* Wider window: bars left and right. */
	b = letterbox_fit(640, 480, 1000, 480);
	assert_true(b.x == 180 && b.y == 0 && b.w == 640 && b.h == 480);
	/* Taller: bars above and below; 2:1 is whole-number. */
	b = letterbox_fit(720, 400, 1440, 1000);
	assert_true(b.x == 0 && b.y == 100 && b.w == 1440 && b.h == 800);
	assert_true(letterbox_integer(&b, 720, 400));
	b = letterbox_fit(720, 400, 1000, 1000);
	assert_false(letterbox_integer(&b, 720, 400));
	assert_int_equal(b.w, 1000);
	assert_int_equal(b.h, 556);
	/* Nothing to fit. */
	b = letterbox_fit(0, 0, 100, 100);
	assert_int_equal(b.w, 0);
	b = letterbox_fit(100, 100, 0, 10);
	assert_int_equal(b.w, 0);
	assert_false(letterbox_integer(&b, 100, 100));

	/* Window points to picture pixels, clamped on the bars. */
	int px, py;
	b = letterbox_fit(720, 400, 1440, 1000); /* 2:1 at y 100 */
	letterbox_to_picture(&b, 720, 400, 0, 100, &px, &py);
	assert_true(px == 0 && py == 0);
	letterbox_to_picture(&b, 720, 400, 1439, 899, &px, &py);
	assert_true(px == 719 && py == 399);
	letterbox_to_picture(&b, 720, 400, 721, 301, &px, &py);
	assert_true(px == 360 && py == 100);
	letterbox_to_picture(&b, 720, 400, -50, 10, &px, &py);
	assert_true(px == 0 && py == 0);
	letterbox_to_picture(&b, 720, 400, 5000, 950, &px, &py);
	assert_true(px == 719 && py == 399);

	int w, h;
	letterbox_window_size(1024, 768, 1920, 1080, &w, &h);
	assert_true(w == 1024 && h == 768);
	letterbox_window_size(2560, 1600, 1280, 1000, &w, &h);
	assert_true(w == 1280 && h == 800);
	letterbox_window_size(800, 600, 0, 0, &w, &h);
	assert_true(w == 800 && h == 600);
}

static void test_sharedfb_parse(void **state)
{
	struct sharedfb_geometry g;
	char err[256];
	json_t *j = json_pack("{s:i,s:i,s:i,s:i,s:s}", "width", 640, "height", 480, "stride", 2560,
			      "size", 2560 * 480, "format", "xrgb8888");
	assert_int_equal(sharedfb_parse(j, &g, err, sizeof(err)), 0);
	assert_true(g.width == 640 && g.height == 480 && g.stride == 2560 && g.size == 2560 * 480);
	json_decref(j);
	/* Hostile or broken geometry. */
	static const char *const bad[] = {
	    "{\"width\": 640, \"height\": 480, \"stride\": 2000, \"size\": 1228800}",
	    "{\"width\": 640, \"height\": 480, \"stride\": 2560, \"size\": 1228799}",
	    "{\"width\": 640, \"height\": 480, \"stride\": 2561, \"size\": 2000000}",
	    "{\"width\": -1, \"height\": 480, \"stride\": 2560, \"size\": 1228800}",
	    "{\"width\": 99999, \"height\": 1, \"stride\": 399996, \"size\": 399996}",
	    "{\"width\": 640, \"height\": 480, \"stride\": 2560}",
	    "{\"width\": \"640\", \"height\": 480, \"stride\": 2560, \"size\": 1228800}",
	    "{\"width\": 4, \"height\": 4, \"stride\": 16, \"size\": 9223372036854775807}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = json_loads(bad[i], 0, NULL);
		assert_non_null(j);
		assert_int_equal(sharedfb_parse(j, &g, err, sizeof(err)), -EINVAL);
		json_decref(j);
	}
	j = json_loads("{\"width\": 4, \"height\": 4, \"stride\": 16, \"size\": 64, \"format\": "
		       "\"rgb565\"}",
		       0, NULL);
	assert_int_equal(sharedfb_parse(j, &g, err, sizeof(err)), -ENOTSUP);
	json_decref(j);
	/* No picture yet. */
	j = json_loads("{\"width\": 0, \"height\": 0, \"stride\": 0, \"size\": 0}", 0, NULL);
	assert_int_equal(sharedfb_parse(j, &g, err, sizeof(err)), 0);
	assert_true(g.width == 0 && g.height == 0);
	json_decref(j);
}

static void test_sharedfb_map_clip(void **state)
{
	struct sharedfb fb = {0};
	struct sharedfb_geometry g = {.width = 4, .height = 2, .stride = 16, .size = 32};
	char err[256];
	/* A descriptor shorter than the worker says: refused (no SIGBUS later). */
	int fd = memfd_create("fb", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 16), 0);
	assert_int_equal(sharedfb_map(&fb, &g, fd, err, sizeof(err)), -EPROTO);
	assert_null(fb.pixels);
	/* Not a file at all. */
	int p[2];
	assert_int_equal(pipe(p), 0);
	close(p[1]);
	assert_int_equal(sharedfb_map(&fb, &g, p[0], err, sizeof(err)), -EPROTO);
	assert_int_equal(sharedfb_map(&fb, &g, -1, err, sizeof(err)), -EPROTO);

	fd = memfd_create("fb", MFD_CLOEXEC);
	assert_int_equal(ftruncate(fd, 32), 0);
	uint32_t px = 0x00123456;
	assert_int_equal(pwrite(fd, &px, 4, 20), 4);
	assert_int_equal(sharedfb_map(&fb, &g, fd, err, sizeof(err)), 0);
	assert_non_null(fb.pixels);
	uint32_t got;
	memcpy(&got, fb.pixels + 1 * 16 + 1 * 4, 4);
	assert_int_equal(got, 0x00123456);

	struct sharedfb_rect r;
	assert_true(sharedfb_clip(&fb, 0, 0, 4, 2, &r));
	assert_true(r.x == 0 && r.y == 0 && r.w == 4 && r.h == 2);
	assert_true(sharedfb_clip(&fb, -5, 1, 7, 100, &r));
	assert_true(r.x == 0 && r.y == 1 && r.w == 2 && r.h == 1);
	assert_false(sharedfb_clip(&fb, 4, 0, 1, 1, &r));
	assert_false(sharedfb_clip(&fb, 0, 0, 0, 1, &r));
	assert_false(sharedfb_clip(&fb, 0, 0, -3, 1, &r));
	assert_false(sharedfb_clip(&fb, -INT64_MAX, 0, INT64_MAX, 1, &r));
	assert_true(sharedfb_clip(&fb, 3, 1, INT64_MAX, INT64_MAX, &r));
	assert_true(r.x == 3 && r.y == 1 && r.w == 1 && r.h == 1);
	assert_false(sharedfb_clip(&fb, INT64_MAX, 0, 1, 1, &r));

	sharedfb_unmap(&fb);
	assert_null(fb.pixels);
	assert_false(sharedfb_clip(&fb, 0, 0, 1, 1, &r));
	/* 0 x 0: nothing mapped, no descriptor needed. */
	g = (struct sharedfb_geometry){0};
	assert_int_equal(sharedfb_map(&fb, &g, -1, err, sizeof(err)), 0);
	assert_null(fb.pixels);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_letters_digits),    cmocka_unit_test(test_modifiers_arrows),
	    cmocka_unit_test(test_keypad_fkeys),      cmocka_unit_test(test_table_whole),
	    cmocka_unit_test(test_letterbox),	      cmocka_unit_test(test_sharedfb_parse),
	    cmocka_unit_test(test_sharedfb_map_clip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
