/* Key names (hypervisor/keynames.c): Linux's names and the aliases, codes
 * as numbers, combinations, and what is refused. */
#include "hypervisor/keynames.h"

#include <errno.h>
#include <linux/input-event-codes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

static void test_names(void **state)
{
	static const struct {
		const char *name;
		int code;
	} cases[] = {
	    {"a", KEY_A},	    {"A", KEY_A},	    {"1", KEY_1},
	    {"0", KEY_0},	    {"esc", KEY_ESC},	    {"escape", KEY_ESC},
	    {"enter", KEY_ENTER},   {"ret", KEY_ENTER},	    {"f1", KEY_F1},
	    {"F12", KEY_F12},	    {"f24", KEY_F24},	    {"leftctrl", KEY_LEFTCTRL},
	    {"ctrl", KEY_LEFTCTRL}, {"alt", KEY_LEFTALT},   {"altgr", KEY_RIGHTALT},
	    {"delete", KEY_DELETE}, {"del", KEY_DELETE},    {"sysrq", KEY_SYSRQ},
	    {"print", KEY_SYSRQ},   {"kp5", KEY_KP5},	    {"kpenter", KEY_KPENTER},
	    {"win", KEY_LEFTMETA},  {"pause", KEY_PAUSE},   {"minus", KEY_MINUS},
	    {"102nd", KEY_102ND},   {"mute", KEY_MUTE},	    {"0x1e", KEY_A},
	    {"100", KEY_RIGHTALT},  {"pgdn", KEY_PAGEDOWN}, {"space", KEY_SPACE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (keyname_code(cases[i].name) != cases[i].code)
			fail_msg("%s: %d, expected %d", cases[i].name, keyname_code(cases[i].name),
				 cases[i].code);
	static const char *const bad[] = {"", "ctr", "f25", "0x0", "768", "-1", "a b", "key_a"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (keyname_code(bad[i]) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
	assert_string_equal(keyname_name(KEY_LEFTCTRL), "leftctrl");
	assert_string_equal(keyname_name(KEY_F1), "f1");
	assert_null(keyname_name(0));
	/* Every canonical name leads back to its code. */
	for (unsigned k = 1; k < 256; k++) {
		const char *n = keyname_name(k);
		if (n)
			assert_int_equal(keyname_code(n), (int)k);
	}
}

static void test_combos(void **state)
{
	unsigned codes[8];
	char bad[32];
	assert_int_equal(keyname_combo("ctrl-alt-delete", codes, 8, bad, sizeof(bad)), 3);
	assert_int_equal(codes[0], KEY_LEFTCTRL);
	assert_int_equal(codes[1], KEY_LEFTALT);
	assert_int_equal(codes[2], KEY_DELETE);
	assert_int_equal(keyname_combo("ctrl+alt+f2", codes, 8, bad, sizeof(bad)), 3);
	assert_int_equal(codes[2], KEY_F2);
	assert_int_equal(keyname_combo("a", codes, 8, bad, sizeof(bad)), 1);
	assert_int_equal(keyname_combo("ctrl-minus", codes, 8, bad, sizeof(bad)), 2);
	assert_int_equal(codes[1], KEY_MINUS);

	assert_int_equal(keyname_combo("ctrl-alt-dle", codes, 8, bad, sizeof(bad)), -EINVAL);
	assert_string_equal(bad, "dle");
	assert_int_equal(keyname_combo("ctrl--a", codes, 8, bad, sizeof(bad)), -EINVAL);
	assert_int_equal(keyname_combo("ctrl-", codes, 8, bad, sizeof(bad)), -EINVAL);
	assert_int_equal(keyname_combo("", codes, 8, bad, sizeof(bad)), -EINVAL);
	assert_int_equal(keyname_combo("a-b-c", codes, 2, bad, sizeof(bad)), -E2BIG);
	/* A part too long to be a name. */
	assert_int_equal(keyname_combo("ctrl-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				       codes, 8, NULL, 0),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_combos),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
