/* Curses keys to send-key combinations (console/termkeys.c): every
 * printable ASCII character against the US layout, control characters,
 * curses KEY_* codes and xterm's modified keys; every combination written
 * must be one the worker's key names (hypervisor/keynames.c) take. */
#include "console/termkeys.h"
#include "hypervisor/keynames.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>

/* The combination for key, failing the test when there is none. */
static const char *combo(int key, bool alt)
{
	static char buf[TERMKEY_MAX];
	int r = termkey_combo(key, alt, buf, sizeof(buf));
	if (r != 0)
		fail_msg("key %d (%s): %d", key, keyname(key) ? keyname(key) : "?", r);
	return buf;
}

/* The worker takes it, and it is exactly the keys named in want (compared
 * as key codes, so "ret" and "enter" are the same). */
static void assert_keys(const char *got, const char *want)
{
	unsigned a[8], b[8];
	char bad[64];
	int na = keyname_combo(got, a, 8, bad, sizeof(bad));
	if (na < 0)
		fail_msg("'%s': the worker does not know '%s'", got, bad);
	int nb = keyname_combo(want, b, 8, bad, sizeof(bad));
	assert_true(nb > 0);
	if (na != nb || memcmp(a, b, (size_t)na * sizeof(a[0])) != 0)
		fail_msg("'%s' is not '%s'", got, want);
}

/* The US keyboard's rows: each character without Shift, and with it. */
static const char unshifted[] = "`1234567890-=[]\\;',./";
static const char shifted[] = "~!@#$%^&*()_+{}|:\"<>?";
static const char *const unshifted_keys[] = {
    "grave",	  "1",	       "2",	    "3",	  "4",	   "5",	    "6",
    "7",	  "8",	       "9",	    "0",	  "minus", "equal", "leftbrace",
    "rightbrace", "backslash", "semicolon", "apostrophe", "comma", "dot",   "slash",
};

static void test_letters(void **state)
{
	(void)state;
	for (int c = 'a'; c <= 'z'; c++) {
		char want[16];
		snprintf(want, sizeof(want), "%c", c);
		assert_string_equal(combo(c, false), want);
		assert_keys(combo(c, false), want);
		snprintf(want, sizeof(want), "shift-%c", c);
		assert_string_equal(combo(c - 'a' + 'A', false), want);
		assert_keys(combo(c - 'a' + 'A', false), want);
		snprintf(want, sizeof(want), "alt-%c", c);
		assert_keys(combo(c, true), want);
	}
}

static void test_symbols_us_layout(void **state)
{
	(void)state;
	assert_int_equal(strlen(unshifted), strlen(shifted));
	assert_int_equal(strlen(unshifted), sizeof(unshifted_keys) / sizeof(unshifted_keys[0]));
	for (size_t i = 0; unshifted[i]; i++) {
		char want[32];
		assert_keys(combo(unshifted[i], false), unshifted_keys[i]);
		snprintf(want, sizeof(want), "shift-%s", unshifted_keys[i]);
		assert_keys(combo(shifted[i], false), want);
	}
	assert_string_equal(combo('!', false), "shift-1");
	assert_string_equal(combo('-', false), "minus");
	assert_string_equal(combo('+', false), "shift-equal");
	assert_keys(combo(' ', false), "space");
}

static void test_every_printable(void **state)
{
	(void)state;
	/* Each printable character is a key, with or without Shift and
	 * nothing else, and no two characters give the same combination. */
	char seen[95][TERMKEY_MAX];
	for (int c = ' '; c <= '~'; c++) {
		const char *k = combo(c, false);
		unsigned codes[8];
		int n = keyname_combo(k, codes, 8, NULL, 0);
		if (n < 1)
			fail_msg("'%c' gives '%s', which the worker does not take", c, k);
		assert_true(n == 1 || (n == 2 && codes[0] == (unsigned)keyname_code("shift")));
		for (int d = ' '; d < c; d++) {
			if (strcmp(seen[d - ' '], k) == 0)
				fail_msg("'%c' and '%c' both give '%s'", c, d, k);
		}
		snprintf(seen[c - ' '], sizeof(seen[0]), "%s", k);
	}
}

static void test_control_chars(void **state)
{
	(void)state;
	for (int c = 1; c <= 26; c++) {
		char want[16];
		if (c == '\t' || c == '\n' || c == '\r' || c == 0x08)
			continue;
		snprintf(want, sizeof(want), "ctrl-%c", 'a' + c - 1);
		assert_string_equal(combo(c, false), want);
		assert_keys(combo(c, false), want);
	}
	assert_keys(combo('\t', false), "tab");
	assert_keys(combo('\r', false), "enter");
	assert_keys(combo('\n', false), "enter");
	assert_keys(combo(0x7f, false), "backspace");
	assert_keys(combo(0x08, false), "backspace");
	assert_keys(combo(0x1b, false), "esc");
	assert_keys(combo(0x00, false), "leftctrl-space");
	assert_keys(combo(0x1c, false), "ctrl-backslash");
	assert_keys(combo(0x1d, false), "ctrl-rightbrace");
	assert_keys(combo(0x1e, false), "ctrl-shift-6");
	assert_keys(combo(0x1f, false), "ctrl-shift-minus");
	assert_keys(combo(0x03, true), "alt-ctrl-c");
	/* Every character below 0x80 has a key. */
	for (int c = 0; c < 0x80; c++)
		assert_keys(combo(c, false), combo(c, false));
}

static void test_curses_codes(void **state)
{
	(void)state;
	static const struct {
		int code;
		const char *want;
	} t[] = {
	    {KEY_UP, "up"},
	    {KEY_DOWN, "down"},
	    {KEY_LEFT, "left"},
	    {KEY_RIGHT, "right"},
	    {KEY_HOME, "home"},
	    {KEY_END, "end"},
	    {KEY_PPAGE, "pageup"},
	    {KEY_NPAGE, "pagedown"},
	    {KEY_IC, "insert"},
	    {KEY_DC, "delete"},
	    {KEY_BACKSPACE, "backspace"},
	    {KEY_ENTER, "enter"},
	    {KEY_BTAB, "leftshift-tab"},
	    {KEY_SR, "shift-up"},
	    {KEY_SF, "shift-down"},
	    {KEY_SLEFT, "shift-left"},
	    {KEY_SRIGHT, "shift-right"},
	    {KEY_SHOME, "shift-home"},
	    {KEY_SEND, "shift-end"},
	    {KEY_SDC, "shift-delete"},
	    {KEY_SIC, "shift-insert"},
	    {KEY_SNEXT, "shift-pagedown"},
	    {KEY_SPREVIOUS, "shift-pageup"},
	    {KEY_B2, "kp5"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_keys(combo(t[i].code, false), t[i].want);
	for (int n = 1; n <= 12; n++) {
		char want[32];
		snprintf(want, sizeof(want), "f%d", n);
		assert_string_equal(combo(KEY_F(n), false), want);
		snprintf(want, sizeof(want), "shift-f%d", n);
		assert_keys(combo(KEY_F(n + 12), false), want);
		snprintf(want, sizeof(want), "ctrl-f%d", n);
		assert_keys(combo(KEY_F(n + 24), false), want);
		snprintf(want, sizeof(want), "ctrl-shift-f%d", n);
		assert_keys(combo(KEY_F(n + 36), false), want);
		snprintf(want, sizeof(want), "alt-f%d", n);
		assert_keys(combo(KEY_F(n + 48), false), want);
		assert_keys(combo(KEY_F(n), true), want);
	}
	assert_keys(combo(KEY_UP, true), "alt-up");
}

static void test_no_key(void **state)
{
	(void)state;
	char buf[TERMKEY_MAX] = "x";
	assert_int_equal(termkey_combo(KEY_MOUSE, false, buf, sizeof(buf)), -ENOENT);
	assert_string_equal(buf, "");
	assert_int_equal(termkey_combo(KEY_RESIZE, false, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(termkey_combo(0xe9, false, buf, sizeof(buf)), -ENOENT); /* é */
	assert_int_equal(termkey_combo(0x80, false, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(termkey_combo(-1, false, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(termkey_combo(KEY_F(64), false, buf, sizeof(buf)), -ENOENT);
	/* Too small a buffer: nothing half written. */
	char small[4] = "zzz";
	assert_int_equal(termkey_combo('A', false, small, sizeof(small)), -ENOSPC);
	assert_string_equal(small, "");
	assert_int_equal(termkey_combo('a', false, small, 0), -ENOSPC);
	/* The longest combination fits TERMKEY_MAX. */
	for (int k = 0; k < KEY_MAX; k++) {
		int r = termkey_combo(k, true, buf, sizeof(buf));
		assert_true(r == 0 || r == -ENOENT);
	}
}

static void test_extended_names(void **state)
{
	(void)state;
	static const struct {
		const char *name, *want;
	} t[] = {
	    {"kUP5", "ctrl-up"},
	    {"kDN5", "ctrl-down"},
	    {"kLFT5", "ctrl-left"},
	    {"kRIT5", "ctrl-right"},
	    {"kUP3", "alt-up"},
	    {"kLFT6", "ctrl-shift-left"},
	    {"kHOM5", "ctrl-home"},
	    {"kEND5", "ctrl-end"},
	    {"kPRV5", "ctrl-pageup"},
	    {"kNXT5", "ctrl-pagedown"},
	    {"kDC5", "ctrl-delete"},
	    {"kIC2", "shift-insert"},
	    {"kDC", "shift-delete"},
	    {"kUP", "shift-up"},
	    {"kRIT7", "ctrl-alt-right"},
	    {"kUP4", "shift-alt-up"},
	    {"kDN8", "ctrl-alt-shift-down"},
	};
	char buf[TERMKEY_MAX];
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (termkey_combo_name(t[i].name, buf, sizeof(buf)) != 0)
			fail_msg("%s: no combination", t[i].name);
		assert_keys(buf, t[i].want);
	}
	static const char *const none[] = {"kUP9", "kUP1", "kUP55", "kFOO5", "kDN5x", "", "KEY_UP"};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		assert_int_equal(termkey_combo_name(none[i], buf, sizeof(buf)), -ENOENT);
	assert_int_equal(termkey_combo_name(NULL, buf, sizeof(buf)), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_letters),	    cmocka_unit_test(test_symbols_us_layout),
	    cmocka_unit_test(test_every_printable), cmocka_unit_test(test_control_chars),
	    cmocka_unit_test(test_curses_codes),    cmocka_unit_test(test_no_key),
	    cmocka_unit_test(test_extended_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
