/* The keymap files in share/keymaps: they parse, every keysym of en-us maps,
 * the layouts put letters, digits and symbols where xkeyboard-config does,
 * bad files are refused; and the XT scan code table of extended key events. */
#include "vnc/keymap.h"
#include "vnc/vnc_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/input-event-codes.h>
#include <rfb/keysym.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S KEYMAP_SHIFT
#define G KEYMAP_ALTGR

static const char *const layouts[] = {"en-us", "en-gb", "de", "fr"};

static struct keymap *load(const char *name)
{
	struct keymap *k = NULL;
	assert_int_equal(keymap_load(name, &k), 0);
	assert_non_null(k);
	assert_string_equal(keymap_name(k), name);
	return k;
}

/* keysym, typed with the modifiers held, is key with mods (S/G) on k. */
static void expect(const struct keymap *k, uint32_t keysym, unsigned held, unsigned key,
		   unsigned mods)
{
	const struct keymap_entry *e = keymap_lookup(k, keysym, held);
	if (!e)
		fail_msg("%s: keysym 0x%x does not map", keymap_name(k), keysym);
	if (e->keycode != key || (e->mods & (S | G)) != mods)
		fail_msg("%s: keysym 0x%x (held %u): key %u mods %u, want key %u mods %u",
			 keymap_name(k), keysym, held, e->keycode, e->mods & (S | G), key, mods);
}

static void test_files_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		struct keymap *k = load(layouts[i]);
		assert_true(keymap_count(k) >= 90);
		/* Letters, digits: every layout has them all. */
		for (uint32_t c = 'a'; c <= 'z'; c++) {
			assert_non_null(keymap_lookup(k, c, 0));
			const struct keymap_entry *up = keymap_lookup(k, c - 'a' + 'A', S);
			assert_non_null(up);
			assert_int_equal(up->keycode, keymap_lookup(k, c, 0)->keycode);
			assert_true(up->mods & S);
		}
		for (uint32_t c = '0'; c <= '9'; c++)
			assert_non_null(keymap_lookup(k, c, 0));
		keymap_free(k);
	}
}

/* Every entry of a layout comes back as itself when typed with its own
 * modifiers: no two lines claim the same keysym and level for two keys. */
static void round_trip(const char *name)
{
	struct keymap *k = load(name);
	for (size_t i = 0; i < keymap_count(k); i++) {
		const struct keymap_entry *e = keymap_at(k, i);
		const struct keymap_entry *back = keymap_lookup(k, e->keysym, e->mods & (S | G));
		assert_non_null(back);
		assert_int_equal(back->mods & (S | G), e->mods & (S | G));
		/* Another key at the same level may produce the same keysym
		 * (xkb has duplicates, e.g. bar on two keys): then it is an
		 * earlier line of the file. */
		if (back->keycode != e->keycode)
			assert_true(back < e);
	}
	keymap_free(k);
}

static void test_en_us(void **state)
{
	(void)state;
	struct keymap *k = load("en-us");
	/* Every printable ASCII character, as a US viewer types it. */
	static const char shifted[] = "~!@#$%^&*()_+{}|:\"<>?";
	for (uint32_t c = 0x20; c <= 0x7e; c++) {
		unsigned held = (c >= 'A' && c <= 'Z') || strchr(shifted, (int)c) ? S : 0;
		const struct keymap_entry *e = keymap_lookup(k, c, held);
		if (!e)
			fail_msg("en-us: '%c' does not map", (int)c);
		if (c != ' ')
			assert_int_equal(e->mods & (S | G), held);
	}
	for (size_t i = 0; i < keymap_count(k); i++)
		assert_non_null(keymap_lookup(k, keymap_at(k, i)->keysym, 0));
	expect(k, 'a', 0, KEY_A, 0);
	expect(k, 'A', S, KEY_A, S);
	expect(k, 'z', 0, KEY_Z, 0);
	expect(k, '@', S, KEY_2, S);
	expect(k, '#', S, KEY_3, S);
	expect(k, '"', S, KEY_APOSTROPHE, S);
	expect(k, '\\', 0, KEY_BACKSLASH, 0);
	expect(k, '|', S, KEY_BACKSLASH, S);
	expect(k, '~', S, KEY_GRAVE, S);
	expect(k, ':', S, KEY_SEMICOLON, S);
	/* Unicode keysyms of Latin-1 characters are the same keys. */
	expect(k, 0x01000040, S, KEY_2, S);
	/* Built-in keys. */
	expect(k, XK_Return, 0, KEY_ENTER, 0);
	expect(k, XK_Left, S, KEY_LEFT, 0);
	expect(k, XK_F12, 0, KEY_F12, 0);
	expect(k, XK_KP_Enter, 0, KEY_KPENTER, 0);
	expect(k, XK_Control_L, 0, KEY_LEFTCTRL, 0);
	assert_null(keymap_lookup(k, XK_EuroSign, 0));
	keymap_free(k);
	round_trip("en-us");
}

static void test_de(void **state)
{
	(void)state;
	struct keymap *k = load("de");
	expect(k, 'z', 0, KEY_Y, 0);
	expect(k, 'y', 0, KEY_Z, 0);
	expect(k, 'Z', S, KEY_Y, S);
	expect(k, '@', S, KEY_Q, G); /* a US viewer holds Shift for '@' */
	expect(k, XK_EuroSign, 0, KEY_E, G);
	expect(k, XK_ssharp, 0, KEY_MINUS, 0);
	expect(k, XK_adiaeresis, 0, KEY_APOSTROPHE, 0);
	expect(k, XK_Adiaeresis, S, KEY_APOSTROPHE, S);
	expect(k, '#', S, KEY_BACKSLASH, 0);
	expect(k, '"', S, KEY_2, S);
	expect(k, '\\', 0, KEY_MINUS, G);
	expect(k, '<', S, KEY_102ND, 0);
	expect(k, '|', S, KEY_102ND, G);
	expect(k, ';', 0, KEY_COMMA, S);
	expect(k, '{', S, KEY_7, G);
	expect(k, '1', 0, KEY_1, 0);
	expect(k, '!', S, KEY_1, S);
	keymap_free(k);
	round_trip("de");
}

static void test_fr(void **state)
{
	(void)state;
	struct keymap *k = load("fr");
	expect(k, 'a', 0, KEY_Q, 0);
	expect(k, 'q', 0, KEY_A, 0);
	expect(k, 'z', 0, KEY_W, 0);
	expect(k, 'w', 0, KEY_Z, 0);
	expect(k, 'm', 0, KEY_SEMICOLON, 0);
	expect(k, 'M', S, KEY_SEMICOLON, S);
	expect(k, '1', 0, KEY_1, S); /* digits are shifted on AZERTY */
	expect(k, XK_eacute, 0, KEY_2, 0);
	expect(k, '"', S, KEY_3, 0);
	expect(k, '@', S, KEY_0, G);
	expect(k, XK_EuroSign, 0, KEY_E, G);
	expect(k, ';', 0, KEY_COMMA, 0);
	expect(k, ':', S, KEY_DOT, 0);
	expect(k, '!', S, KEY_SLASH, 0);
	keymap_free(k);
	round_trip("fr");
}

static void test_en_gb(void **state)
{
	(void)state;
	struct keymap *k = load("en-gb");
	expect(k, 'a', 0, KEY_A, 0);
	expect(k, '"', S, KEY_2, S);
	expect(k, '@', S, KEY_APOSTROPHE, S);
	expect(k, XK_sterling, S, KEY_3, S);
	expect(k, '#', S, KEY_BACKSLASH, 0);
	expect(k, '~', S, KEY_BACKSLASH, S);
	expect(k, '\\', 0, KEY_102ND, 0);
	expect(k, XK_EuroSign, 0, KEY_4, G);
	keymap_free(k);
	round_trip("en-gb");
}

static int parse(const char *text)
{
	struct keymap *k = NULL;
	int r = keymap_parse(text, strlen(text), "test", &k);
	if (r == 0)
		keymap_free(k);
	return r;
}

static void test_parse_errors(void **state)
{
	(void)state;
	struct keymap *k = NULL;
	const char *good = "# a comment\n\nadiaeresis KEY_APOSTROPHE\nAdiaeresis 40 shift\n"
			   "U+2032 KEY_E altgr # trailing comment\n0x40 KEY_Q shift altgr";
	assert_int_equal(keymap_parse(good, strlen(good), "test", &k), 0);
	assert_int_equal(keymap_count(k), 4);
	expect(k, XK_adiaeresis, 0, KEY_APOSTROPHE, 0);
	expect(k, XK_Adiaeresis, S, KEY_APOSTROPHE, S);
	expect(k, 0x01002032, 0, KEY_E, G); /* the keysym of a Unicode character */
	expect(k, '@', 0, KEY_Q, S | G);
	keymap_free(k);

	k = NULL;
	assert_int_equal(parse("nosuchkeysym KEY_A\n"), -EINVAL);
	assert_int_equal(parse("a KEY_NOPE\n"), -EINVAL);
	assert_int_equal(parse("a KEY_A ctrl\n"), -EINVAL);
	assert_int_equal(parse("a\n"), -EINVAL);
	assert_int_equal(parse("a KEY_A shift altgr shift altgr x\n"), -EINVAL);
	assert_int_equal(parse("U+ZZZZ KEY_A\n"), -EINVAL);
	char nul[] = "a KEY_A\nb\0 KEY_B\n";
	assert_int_equal(keymap_parse(nul, sizeof(nul) - 1, "test", &k), -EINVAL);
	char *longline = malloc(2000);
	assert_non_null(longline);
	memset(longline, 'x', 1999);
	longline[1999] = '\0';
	assert_int_equal(parse(longline), -EINVAL);
	free(longline);

	/* Names that are not layouts, and layouts that do not exist. */
	assert_int_equal(keymap_load("../../etc/passwd", &k), -EINVAL);
	assert_int_equal(keymap_load("", &k), -EINVAL);
	assert_int_equal(keymap_load("xx-nosuchlayout", &k), -ENOENT);
}

static void test_xt_codes(void **state)
{
	(void)state;
	assert_int_equal(vnc_xt_to_evdev(0x01), KEY_ESC);
	assert_int_equal(vnc_xt_to_evdev(0x1e), KEY_A);
	assert_int_equal(vnc_xt_to_evdev(0x2a), KEY_LEFTSHIFT);
	assert_int_equal(vnc_xt_to_evdev(0x56), KEY_102ND);
	assert_int_equal(vnc_xt_to_evdev(0x9d), KEY_RIGHTCTRL);
	assert_int_equal(vnc_xt_to_evdev(0xb8), KEY_RIGHTALT);
	assert_int_equal(vnc_xt_to_evdev(0xc8), KEY_UP);
	assert_int_equal(vnc_xt_to_evdev(0xe048), KEY_UP); /* prefix written out */
	assert_int_equal(vnc_xt_to_evdev(0xdb), KEY_LEFTMETA);
	assert_int_equal(vnc_xt_to_evdev(0x00), 0);
	assert_int_equal(vnc_xt_to_evdev(0x7f), 0);
	assert_int_equal(vnc_xt_to_evdev(0xffffffff), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_files_parse), cmocka_unit_test(test_en_us),
	    cmocka_unit_test(test_de),		cmocka_unit_test(test_fr),
	    cmocka_unit_test(test_en_gb),	cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_xt_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
