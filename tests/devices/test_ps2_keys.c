/* The PS/2 keyboard's key table through the input router and the i8042: every evdev key code,
 * set-2 make and break sequences as Microsoft's "Keyboard Scan Code Specification" lists them
 * (extended keys, Print Screen and Pause with their modifier forms, the keypad, the multimedia
 * and ACPI keys), no bytes for keys a PC keyboard does not have, and set-1 results of a sample
 * through the controller's translation and through the keyboard's own set 1. */
#include "devices/ps2_keys.h"
#include "hypervisor/input.h"
#include "tests/devices/i8042_driver.h"

#include <linux/input-event-codes.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The specification's set-2 table, written down here on its own. A make code "e0 75"
 * breaks as "e0 f0 75", "1c" as "f0 1c" (the specification's rule); keys whose break is
 * not that name it. */
struct spec_key {
	unsigned code;
	const char *make, *brk;
};

static const struct spec_key spec[] = {
    {KEY_ESC, "76", NULL},
    {KEY_F1, "05", NULL},
    {KEY_F2, "06", NULL},
    {KEY_F3, "04", NULL},
    {KEY_F4, "0c", NULL},
    {KEY_F5, "03", NULL},
    {KEY_F6, "0b", NULL},
    {KEY_F7, "83", NULL},
    {KEY_F8, "0a", NULL},
    {KEY_F9, "01", NULL},
    {KEY_F10, "09", NULL},
    {KEY_F11, "78", NULL},
    {KEY_F12, "07", NULL},
    {KEY_SYSRQ, "e0 12 e0 7c", "e0 f0 7c e0 f0 12"}, /* Print Screen */
    {KEY_SCROLLLOCK, "7e", NULL},
    {KEY_PAUSE, "e1 14 77 e1 f0 14 f0 77", ""}, /* no break code */
    {KEY_GRAVE, "0e", NULL},
    {KEY_1, "16", NULL},
    {KEY_2, "1e", NULL},
    {KEY_3, "26", NULL},
    {KEY_4, "25", NULL},
    {KEY_5, "2e", NULL},
    {KEY_6, "36", NULL},
    {KEY_7, "3d", NULL},
    {KEY_8, "3e", NULL},
    {KEY_9, "46", NULL},
    {KEY_0, "45", NULL},
    {KEY_MINUS, "4e", NULL},
    {KEY_EQUAL, "55", NULL},
    {KEY_BACKSPACE, "66", NULL},
    {KEY_TAB, "0d", NULL},
    {KEY_Q, "15", NULL},
    {KEY_W, "1d", NULL},
    {KEY_E, "24", NULL},
    {KEY_R, "2d", NULL},
    {KEY_T, "2c", NULL},
    {KEY_Y, "35", NULL},
    {KEY_U, "3c", NULL},
    {KEY_I, "43", NULL},
    {KEY_O, "44", NULL},
    {KEY_P, "4d", NULL},
    {KEY_LEFTBRACE, "54", NULL},
    {KEY_RIGHTBRACE, "5b", NULL},
    {KEY_BACKSLASH, "5d", NULL},
    {KEY_CAPSLOCK, "58", NULL},
    {KEY_A, "1c", NULL},
    {KEY_S, "1b", NULL},
    {KEY_D, "23", NULL},
    {KEY_F, "2b", NULL},
    {KEY_G, "34", NULL},
    {KEY_H, "33", NULL},
    {KEY_J, "3b", NULL},
    {KEY_K, "42", NULL},
    {KEY_L, "4b", NULL},
    {KEY_SEMICOLON, "4c", NULL},
    {KEY_APOSTROPHE, "52", NULL},
    {KEY_ENTER, "5a", NULL},
    {KEY_LEFTSHIFT, "12", NULL},
    {KEY_102ND, "61", NULL},
    {KEY_Z, "1a", NULL},
    {KEY_X, "22", NULL},
    {KEY_C, "21", NULL},
    {KEY_V, "2a", NULL},
    {KEY_B, "32", NULL},
    {KEY_N, "31", NULL},
    {KEY_M, "3a", NULL},
    {KEY_COMMA, "41", NULL},
    {KEY_DOT, "49", NULL},
    {KEY_SLASH, "4a", NULL},
    {KEY_RIGHTSHIFT, "59", NULL},
    {KEY_LEFTCTRL, "14", NULL},
    {KEY_LEFTMETA, "e0 1f", NULL},
    {KEY_LEFTALT, "11", NULL},
    {KEY_SPACE, "29", NULL},
    {KEY_RIGHTALT, "e0 11", NULL},
    {KEY_RIGHTMETA, "e0 27", NULL},
    {KEY_COMPOSE, "e0 2f", NULL}, /* Apps */
    {KEY_RIGHTCTRL, "e0 14", NULL},
    {KEY_INSERT, "e0 70", NULL},
    {KEY_HOME, "e0 6c", NULL},
    {KEY_PAGEUP, "e0 7d", NULL},
    {KEY_DELETE, "e0 71", NULL},
    {KEY_END, "e0 69", NULL},
    {KEY_PAGEDOWN, "e0 7a", NULL},
    {KEY_UP, "e0 75", NULL},
    {KEY_LEFT, "e0 6b", NULL},
    {KEY_DOWN, "e0 72", NULL},
    {KEY_RIGHT, "e0 74", NULL},
    {KEY_NUMLOCK, "77", NULL},
    {KEY_KPSLASH, "e0 4a", NULL},
    {KEY_KPASTERISK, "7c", NULL},
    {KEY_KPMINUS, "7b", NULL},
    {KEY_KP7, "6c", NULL},
    {KEY_KP8, "75", NULL},
    {KEY_KP9, "7d", NULL},
    {KEY_KPPLUS, "79", NULL},
    {KEY_KP4, "6b", NULL},
    {KEY_KP5, "73", NULL},
    {KEY_KP6, "74", NULL},
    {KEY_KP1, "69", NULL},
    {KEY_KP2, "72", NULL},
    {KEY_KP3, "7a", NULL},
    {KEY_KPENTER, "e0 5a", NULL},
    {KEY_KP0, "70", NULL},
    {KEY_KPDOT, "71", NULL},
    {KEY_KPEQUAL, "0f", NULL},
    {KEY_KPCOMMA, "6d", NULL},
    {KEY_KPJPCOMMA, "27", NULL},
    /* Appendix: USB usages beyond the 104 keys. */
    {KEY_F13, "08", NULL},
    {KEY_F14, "10", NULL},
    {KEY_F15, "18", NULL},
    {KEY_F16, "20", NULL},
    {KEY_F17, "28", NULL},
    {KEY_F18, "30", NULL},
    {KEY_F19, "38", NULL},
    {KEY_F20, "40", NULL},
    {KEY_F21, "48", NULL},
    {KEY_F22, "50", NULL},
    {KEY_F23, "57", NULL},
    {KEY_F24, "5f", NULL},
    {KEY_RO, "51", NULL},		/* International 1 */
    {KEY_KATAKANAHIRAGANA, "13", NULL}, /* International 2 */
    {KEY_YEN, "6a", NULL},		/* International 3 */
    {KEY_HENKAN, "64", NULL},		/* International 4 */
    {KEY_MUHENKAN, "67", NULL},		/* International 5 */
    {KEY_HANGEUL, "f2", ""},		/* LANG1: no break code */
    {KEY_HANJA, "f1", ""},		/* LANG2: no break code */
    {KEY_KATAKANA, "63", NULL},		/* LANG3 */
    {KEY_HIRAGANA, "62", NULL},		/* LANG4 */
    {KEY_ZENKAKUHANKAKU, "5f", NULL},	/* LANG5 */
    /* ACPI scan codes. */
    {KEY_POWER, "e0 37", NULL},
    {KEY_SLEEP, "e0 3f", NULL},
    {KEY_WAKEUP, "e0 5e", NULL},
    /* Windows multimedia scan codes. */
    {KEY_NEXTSONG, "e0 4d", NULL},
    {KEY_PREVIOUSSONG, "e0 15", NULL},
    {KEY_STOPCD, "e0 3b", NULL},
    {KEY_PLAYPAUSE, "e0 34", NULL},
    {KEY_MUTE, "e0 23", NULL},
    {KEY_VOLUMEUP, "e0 32", NULL},
    {KEY_VOLUMEDOWN, "e0 21", NULL},
    {KEY_MEDIA, "e0 50", NULL},
    {KEY_MAIL, "e0 48", NULL},
    {KEY_CALC, "e0 2b", NULL},
    {KEY_COMPUTER, "e0 40", NULL},
    {KEY_SEARCH, "e0 10", NULL},
    {KEY_HOMEPAGE, "e0 3a", NULL},
    {KEY_BACK, "e0 38", NULL},
    {KEY_FORWARD, "e0 30", NULL},
    {KEY_STOP, "e0 28", NULL},
    {KEY_REFRESH, "e0 20", NULL},
    {KEY_BOOKMARKS, "e0 18", NULL},
};

#define NSPEC (sizeof(spec) / sizeof(spec[0]))

static size_t parse_hex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned v;
	int used;
	while (sscanf(s, " %x%n", &v, &used) == 1) {
		assert_true(n < max && v <= 0xff);
		out[n++] = (uint8_t)v;
		s += used;
	}
	return n;
}

/* The spec's break for a key without an explicit one. */
static size_t break_of(const uint8_t *make, size_t n, uint8_t *out)
{
	size_t len = 0;
	for (size_t i = 0; i + 1 < n; i++)
		out[len++] = make[i];
	out[len++] = 0xf0;
	out[len++] = make[n - 1];
	return len;
}

static const struct spec_key *spec_for(unsigned code)
{
	for (size_t i = 0; i < NSPEC; i++)
		if (spec[i].code == code)
			return &spec[i];
	return NULL;
}

/* Reads everything the controller holds (at most 16 bytes). */
static size_t drain(uint8_t *out)
{
	size_t n = 0;
	while (status() & STS_OBF) {
		assert_true(n < 16);
		assert_false(status() & STS_AUX);
		out[n++] = hinb(&h, PORT_I8042_DATA);
	}
	return n;
}

static void expect_bytes(unsigned code, const char *what, const uint8_t *want, size_t nwant)
{
	uint8_t got[16];
	size_t n = drain(got);
	if (n == nwant && !memcmp(got, want, n))
		return;
	char gs[64] = "", ws[64] = "";
	for (size_t i = 0; i < n; i++)
		snprintf(gs + strlen(gs), sizeof(gs) - strlen(gs), " %02x", got[i]);
	for (size_t i = 0; i < nwant; i++)
		snprintf(ws + strlen(ws), sizeof(ws) - strlen(ws), " %02x", want[i]);
	fail_msg("key %u %s: read%s, expected%s", code, what, n ? gs : " nothing",
		 nwant ? ws : " nothing");
}

/* Presses and releases code through the router and checks both sequences. */
static void key_through(unsigned code, const char *make, const char *brk)
{
	uint8_t want[16];
	size_t n = parse_hex(make, want, sizeof(want));
	input_key(&h.m, code, true);
	expect_bytes(code, "make", want, n);
	uint8_t bwant[16];
	size_t bn = brk ? parse_hex(brk, bwant, sizeof(bwant)) : break_of(want, n, bwant);
	input_key(&h.m, code, false);
	expect_bytes(code, "break", bwant, bn);
}

/* Every key code in the specification's table, raw set 2 (no translation). */
static void test_every_key_set2(void **state)
{
	write_ctr(CTR_KBDINT);
	for (size_t i = 0; i < NSPEC; i++) {
		assert_true(ps2_keys_known(spec[i].code));
		key_through(spec[i].code, spec[i].make, spec[i].brk);
	}
	expect_empty();
}

/* Every other key code: the keyboard has no such key and sends nothing. */
static void test_unknown_keys_send_nothing(void **state)
{
	write_ctr(CTR_KBDINT);
	unsigned known = 0;
	for (unsigned code = 1; code <= INPUT_KEY_MAX; code++) {
		if (spec_for(code)) {
			known++;
			continue;
		}
		if (ps2_keys_known(code))
			fail_msg("key %u is in the table but not in the specification's", code);
		input_key(&h.m, code, true);
		input_key(&h.m, code, false);
		if (status() & STS_OBF)
			fail_msg("key %u sent 0x%02x", code, hinb(&h, PORT_I8042_DATA));
	}
	assert_int_equal(known, NSPEC);
	/* The table's edges: out of range and the reserved code. */
	struct ps2_keys k = {0};
	uint8_t out[PS2_KEYS_SEQ_MAX];
	assert_int_equal(ps2_keys_set2(&k, 0, true, out), 0);
	assert_int_equal(ps2_keys_set2(&k, 100000, true, out), 0);
	assert_false(ps2_keys_known(0));
	assert_false(ps2_keys_known(100000));
}

/* Print Screen and Pause change with the modifiers held (the specification's notes). */
static void test_modifier_forms(void **state)
{
	write_ctr(CTR_KBDINT);
	static const struct {
		unsigned mod;
		const char *mod_make;
	} shifts[] = {
	    {KEY_LEFTSHIFT, "12"},
	    {KEY_RIGHTSHIFT, "59"},
	    {KEY_LEFTCTRL, "14"},
	    {KEY_RIGHTCTRL, "e0 14"},
	};
	uint8_t want[16];
	for (size_t i = 0; i < sizeof(shifts) / sizeof(shifts[0]); i++) {
		input_key(&h.m, shifts[i].mod, true);
		expect_bytes(shifts[i].mod, "make", want, parse_hex(shifts[i].mod_make, want, 16));
		/* With Shift or Ctrl: no fake shift around it. */
		key_through(KEY_SYSRQ, "e0 7c", "e0 f0 7c");
		input_key(&h.m, shifts[i].mod, false);
		drain(want);
	}
	/* With either Alt it is SysRq. */
	static const unsigned alts[] = {KEY_LEFTALT, KEY_RIGHTALT};
	for (size_t i = 0; i < 2; i++) {
		input_key(&h.m, alts[i], true);
		drain(want);
		key_through(KEY_SYSRQ, "84", "f0 84");
		input_key(&h.m, alts[i], false);
		drain(want);
	}
	/* Alt wins over Ctrl (Ctrl+Alt+SysRq). */
	input_key(&h.m, KEY_LEFTCTRL, true);
	input_key(&h.m, KEY_LEFTALT, true);
	drain(want);
	key_through(KEY_SYSRQ, "84", "f0 84");
	/* Ctrl+Pause is Break: make and break at once, nothing on release. */
	key_through(KEY_PAUSE, "e0 7e e0 f0 7e", "");
	input_key(&h.m, KEY_LEFTALT, false);
	input_key(&h.m, KEY_LEFTCTRL, false);
	drain(want);
	input_key(&h.m, KEY_RIGHTCTRL, true);
	drain(want);
	key_through(KEY_PAUSE, "e0 7e e0 f0 7e", "");
	input_key(&h.m, KEY_RIGHTCTRL, false);
	drain(want);
	/* Everything released: the plain forms again. */
	key_through(KEY_SYSRQ, "e0 12 e0 7c", "e0 f0 7c e0 f0 12");
	key_through(KEY_PAUSE, "e1 14 77 e1 f0 14 f0 77", "");
	expect_empty();
}

/* A held key's repeats (typematic, from the client) each send the make code. */
/* The bytes the keyboard sent while the test ran for ms: how many were b. */
static unsigned count_while(unsigned ms, uint8_t b)
{
	unsigned n = 0;
	for (unsigned t = 0; t < ms; t += 20) {
		harness_run(&h, 20);
		while (status() & STS_OBF)
			n += hinb(&h, PORT_I8042_DATA) == b;
	}
	return n;
}

/* Key repeat is the keyboard's, as on a real one: a viewer's repeated downs are
 * dropped by the router, and the keyboard repeats the last key pressed after the
 * typematic delay at the rate the guest set (0xF3), until it is let go or another
 * key is pressed. Timing only ever makes repeats late, so the bounds below hold on
 * a loaded machine too. */
static void test_repeats(void **state)
{
	write_ctr(CTR_KBDINT);
	input_key(&h.m, KEY_A, true);
	input_key(&h.m, KEY_A, true);
	input_key(&h.m, KEY_A, true);
	input_key(&h.m, KEY_A, false);
	EXPECT_KBD(0x1c, 0xf0, 0x1c);
	input_key(&h.m, KEY_UP, true);
	input_key(&h.m, KEY_UP, true);
	input_key(&h.m, KEY_UP, false);
	EXPECT_KBD(0xe0, 0x75, 0xe0, 0xf0, 0x75);
	expect_empty();

	/* Defaults: 500 ms, then 10.9 a second: the make, then at 500, 592, 683, 775
	 * (and 867: the reads take time too); 30 a second would be twice as many. */
	input_key(&h.m, KEY_A, true);
	unsigned n = count_while(450, 0x1c);
	assert_int_equal(n, 1); /* no repeat before the delay */
	n += count_while(400, 0x1c);
	input_key(&h.m, KEY_A, false);
	EXPECT_KBD(0xf0, 0x1c);
	assert_in_range(n, 2, 6);
	assert_int_equal(count_while(300, 0x1c), 0); /* let go: no more */

	/* Another key pressed takes the repeat over. */
	input_key(&h.m, KEY_A, true);
	input_key(&h.m, KEY_B, true);
	unsigned a = count_while(800, 0x1c);
	input_key(&h.m, KEY_A, false);
	input_key(&h.m, KEY_B, false);
	assert_int_equal(a, 1);
	flush();

	/* 0xF3 0x7f: 1000 ms before the first repeat, 2 a second. */
	kbd_cmd(0xf3);
	EXPECT_KBD(0xfa);
	kbd_cmd(0x7f);
	EXPECT_KBD(0xfa);
	input_key(&h.m, KEY_A, true);
	n = count_while(800, 0x1c);
	input_key(&h.m, KEY_A, false);
	assert_int_equal(n, 1);
	flush();

	/* Pause never repeats. */
	input_key(&h.m, KEY_PAUSE, true);
	flush();
	assert_int_equal(count_while(700, 0xe1), 0);
	input_key(&h.m, KEY_PAUSE, false);
	expect_empty();
}

/* Set 1 as a PC reads it: the controller translating the keyboard's set 2 (the usual
 * set-up: SeaBIOS, Linux, Windows), and the keyboard itself switched to set 1. The
 * expected bytes are the specification's set-1 column. */
static const struct spec_key set1_sample[] = {
    {KEY_ESC, "01", "81"},
    {KEY_A, "1e", "9e"},
    {KEY_Z, "2c", "ac"},
    {KEY_1, "02", "82"},
    {KEY_ENTER, "1c", "9c"},
    {KEY_LEFTSHIFT, "2a", "aa"},
    {KEY_RIGHTSHIFT, "36", "b6"},
    {KEY_F1, "3b", "bb"},
    {KEY_F7, "41", "c1"},
    {KEY_F11, "57", "d7"},
    {KEY_F12, "58", "d8"},
    {KEY_CAPSLOCK, "3a", "ba"},
    {KEY_RIGHTCTRL, "e0 1d", "e0 9d"},
    {KEY_RIGHTALT, "e0 38", "e0 b8"},
    {KEY_UP, "e0 48", "e0 c8"},
    {KEY_DOWN, "e0 50", "e0 d0"},
    {KEY_LEFT, "e0 4b", "e0 cb"},
    {KEY_RIGHT, "e0 4d", "e0 cd"},
    {KEY_HOME, "e0 47", "e0 c7"},
    {KEY_END, "e0 4f", "e0 cf"},
    {KEY_INSERT, "e0 52", "e0 d2"},
    {KEY_DELETE, "e0 53", "e0 d3"},
    {KEY_PAGEUP, "e0 49", "e0 c9"},
    {KEY_PAGEDOWN, "e0 51", "e0 d1"},
    {KEY_LEFTMETA, "e0 5b", "e0 db"},
    {KEY_COMPOSE, "e0 5d", "e0 dd"},
    {KEY_KPSLASH, "e0 35", "e0 b5"},
    {KEY_KPENTER, "e0 1c", "e0 9c"},
    {KEY_KPASTERISK, "37", "b7"},
    {KEY_KP7, "47", "c7"},
    {KEY_KP5, "4c", "cc"},
    {KEY_KPDOT, "53", "d3"},
    {KEY_NUMLOCK, "45", "c5"},
    {KEY_SCROLLLOCK, "46", "c6"},
    {KEY_102ND, "56", "d6"},
    {KEY_MUTE, "e0 20", "e0 a0"},
    {KEY_VOLUMEUP, "e0 30", "e0 b0"},
    {KEY_POWER, "e0 5e", "e0 de"},
    {KEY_F13, "64", "e4"},
    {KEY_F24, "76", "f6"},
    {KEY_RO, "73", "f3"},
    {KEY_YEN, "7d", "fd"},
    {KEY_HANGEUL, "f2", ""},
    {KEY_SYSRQ, "e0 2a e0 37", "e0 b7 e0 aa"},
    {KEY_PAUSE, "e1 1d 45 e1 9d c5", ""},
};

static void run_set1_sample(void)
{
	for (size_t i = 0; i < sizeof(set1_sample) / sizeof(set1_sample[0]); i++)
		key_through(set1_sample[i].code, set1_sample[i].make, set1_sample[i].brk);
	/* Modifier forms in set 1. */
	input_key(&h.m, KEY_LEFTCTRL, true);
	EXPECT_KBD(0x1d);
	key_through(KEY_PAUSE, "e0 46 e0 c6", "");
	key_through(KEY_SYSRQ, "e0 37", "e0 b7");
	input_key(&h.m, KEY_LEFTCTRL, false);
	EXPECT_KBD(0x9d);
	input_key(&h.m, KEY_LEFTALT, true);
	EXPECT_KBD(0x38);
	key_through(KEY_SYSRQ, "54", "d4");
	input_key(&h.m, KEY_LEFTALT, false);
	EXPECT_KBD(0xb8);
	expect_empty();
}

static void test_set1_translated(void **state)
{
	write_ctr(CTR_KBDINT | CTR_XLATE);
	run_set1_sample();
}

static void test_set1_keyboard(void **state)
{
	write_ctr(CTR_KBDINT);
	TO_KBD(0xf0, 0x01);
	EXPECT_KBD(0xfa, 0xfa);
	run_set1_sample();
}

/* What the keyboard does with keys while the guest holds it back: nothing while not
 * scanning (0xF5); bytes wait while its interface is disabled; the modifiers it tracks
 * stay right meanwhile. */
static void test_scanning_and_interface(void **state)
{
	write_ctr(CTR_KBDINT);
	kbd_ack(0xf5);
	input_key(&h.m, KEY_A, true);
	input_key(&h.m, KEY_LEFTSHIFT, true);
	input_key(&h.m, KEY_A, false);
	expect_empty();
	kbd_ack(0xf4);
	key_through(KEY_SYSRQ, "e0 7c", "e0 f0 7c"); /* Shift is still held */
	input_key(&h.m, KEY_LEFTSHIFT, false);
	EXPECT_KBD(0xf0, 0x12);

	cmd(0xad); /* keyboard interface off: the bytes wait in the keyboard */
	input_key(&h.m, KEY_B, true);
	expect_empty();
	cmd(0xae);
	EXPECT_KBD(0x32);
	input_release_all(&h.m);
	EXPECT_KBD(0xf0, 0x32);
	expect_empty();
	unsigned raised = h.irq_raised[IRQ_KBD];
	input_key(&h.m, KEY_C, true);
	assert_int_equal(h.irq_raised[IRQ_KBD], raised + 1);
	EXPECT_KBD(0x21);
}

/* The controller's keyboard is the VM's one keyboard; it goes away with the device, and a
 * controller that cannot register its keyboard is not created (and leaves its ports free). */
static void test_registration(void **state)
{
	struct input_keyboard other = {NULL, NULL};
	assert_int_equal(input_add_keyboard(&h.m, &other), -EEXIST);
	machine_destroy_devices(&h.m);
	input_key(&h.m, KEY_A, true); /* nobody listening: nothing happens */
	input_key(&h.m, KEY_A, false);
	assert_int_equal(input_add_keyboard(&h.m, &other), 0);
	struct devargs none = {0};
	assert_true(machine_add_device(&h.m, "i8042", "kbc", &none) < 0);
	assert_null(machine_device(&h.m, "kbc"));
	input_remove_keyboard(&h.m, &other);
	harness_add(&h, "i8042", "kbc", NULL);
	kbc = machine_device(&h.m, "kbc");
	write_ctr(CTR_KBDINT);
	key_through(KEY_X, "22", "f0 22");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_every_key_set2, kbc_setup, kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_keys_send_nothing, kbc_setup,
					    kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_modifier_forms, kbc_setup, kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_repeats, kbc_setup, kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_set1_translated, kbc_setup, kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_set1_keyboard, kbc_setup, kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_scanning_and_interface, kbc_setup, kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_registration, kbc_setup, kbc_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
