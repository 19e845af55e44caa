/* The console's actions without a terminal: every action enabled or not in
 * every VM state (busy, no selection, with and without a checkpoint), the
 * keys, and the key bar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "console/actions.h"
#include "console/model.h"

#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>

#include <stdio.h>
#include <string.h>

#define NSTATES 7
#define O	1 /* enabled in that state */
#define _	0

/* Off Starting Running Paused Saving Saved Crashed, as actions.h lists them. */
static const struct {
	enum con_action a;
	int on[NSTATES];
} table[] = {
    {ACT_START, {O, _, _, _, _, O, O}},	     {ACT_CONNECT, {_, O, O, O, _, _, _}},
    {ACT_TURN_OFF, {_, O, O, O, _, _, _}},   {ACT_SHUT_DOWN, {_, _, O, _, _, _, _}},
    {ACT_RESET, {_, _, O, _, _, _, _}},	     {ACT_PAUSE, {_, _, O, _, _, _, _}},
    {ACT_SAVE, {_, _, O, O, _, _, _}},	     {ACT_RESUME, {_, _, _, O, _, _, _}},
    {ACT_CHECKPOINT, {O, _, O, O, _, O, _}}, {ACT_REVERT, {O, _, O, O, _, O, _}},
    {ACT_SETTINGS, {O, _, O, O, _, O, O}},   {ACT_DELETE, {O, _, _, _, _, O, O}},
    {ACT_RENAME, {O, _, _, _, _, O, O}},
};

static const enum vm_state states[NSTATES] = {VM_OFF,	 VM_STARTING, VM_RUNNING, VM_PAUSED,
					      VM_SAVING, VM_SAVED,    VM_CRASHED};

static struct vm_row row(enum vm_state st, bool busy)
{
	struct vm_row r;

	memset(&r, 0, sizeof(r));
	snprintf(r.info.name, sizeof(r.info.name), "vm");
	r.info.state = st;
	r.busy = busy;
	return r;
}

static void test_every_vm_action_per_state(void **state)
{
	char why[128];

	assert_int_equal(sizeof(table) / sizeof(table[0]), ACT_RENAME - ACT_CONNECT + 1);
	for (size_t t = 0; t < sizeof(table) / sizeof(table[0]); t++) {
		enum con_action a = table[t].a;
		for (int s = 0; s < NSTATES; s++) {
			struct vm_row r = row(states[s], false);
			bool want = table[t].on[s];
			bool got = action_enabled(a, &r, true, why, sizeof(why));

			if (got != want)
				fail_msg("%s in state %s: %s, expected %s", action_get(a)->label,
					 vm_state_name(states[s]), got ? "enabled" : "disabled",
					 want ? "enabled" : "disabled");
			if (got)
				assert_string_equal(why, "");
			else
				assert_true(strlen(why) > 10); /* a sentence */
			/* Busy: nothing on the VM but Turn Off and Connect. */
			r.busy = true;
			if (a == ACT_TURN_OFF || a == ACT_CONNECT) {
				assert_int_equal(action_enabled(a, &r, true, why, sizeof(why)), want);
			} else {
				assert_false(action_enabled(a, &r, true, why, sizeof(why)));
				assert_non_null(strstr(why, "wait"));
			}
			/* No selection. */
			assert_false(action_enabled(a, NULL, true, why, sizeof(why)));
			assert_string_equal(why, "No VM is selected");
			/* why may be NULL. */
			r.busy = false;
			assert_int_equal(action_enabled(a, &r, true, NULL, 0), want);
		}
	}
}

static void test_revert_needs_a_checkpoint(void **state)
{
	char why[128];
	struct vm_row r = row(VM_OFF, false);

	assert_true(action_enabled(ACT_REVERT, &r, true, why, sizeof(why)));
	assert_false(action_enabled(ACT_REVERT, &r, false, why, sizeof(why)));
	assert_non_null(strstr(why, "checkpoint"));
	/* Checkpoint itself does not need one. */
	assert_true(action_enabled(ACT_CHECKPOINT, &r, false, why, sizeof(why)));
}

static void test_refusals_say_what_to_do(void **state)
{
	char why[128];
	struct vm_row r = row(VM_RUNNING, false);

	assert_false(action_enabled(ACT_DELETE, &r, false, why, sizeof(why)));
	assert_string_equal(why, "Turn the VM off first");
	assert_false(action_enabled(ACT_START, &r, false, why, sizeof(why)));
	assert_non_null(strstr(why, "running"));
	r = row(VM_OFF, false);
	assert_false(action_enabled(ACT_CONNECT, &r, false, why, sizeof(why)));
	assert_non_null(strstr(why, "start it first"));
	r = row(VM_PAUSED, false);
	assert_false(action_enabled(ACT_SHUT_DOWN, &r, false, why, sizeof(why)));
	assert_non_null(strstr(why, "resume"));
	/* A short buffer is cut, not overrun. */
	char small[8];
	assert_false(action_enabled(ACT_SHUT_DOWN, &r, false, small, sizeof(small)));
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

static void test_host_actions_always(void **state)
{
	static const enum con_action host[] = {ACT_NEW_VM, ACT_NEW_DISK,       ACT_NEW_SWITCH,
					       ACT_IMPORT, ACT_SWITCH_MANAGER, ACT_EDIT_DISK,
					       ACT_HELP,   ACT_FILTER,	       ACT_QUIT};
	char why[64];

	for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++) {
		assert_false(action_get(host[i])->vm);
		assert_true(action_enabled(host[i], NULL, false, why, sizeof(why)));
		for (int s = 0; s < NSTATES; s++) {
			struct vm_row r = row(states[s], true);
			assert_true(action_enabled(host[i], &r, false, NULL, 0));
		}
	}
	assert_false(action_enabled(ACT_COUNT, NULL, false, why, sizeof(why)));
}

static void test_keys(void **state)
{
	static const struct {
		int key;
		enum con_action a;
	} keys[] = {
	    {'c', ACT_CONNECT},	    {'e', ACT_SETTINGS},   {'s', ACT_START},
	    {'o', ACT_TURN_OFF},    {'h', ACT_SHUT_DOWN},  {'a', ACT_SAVE},
	    {'p', ACT_PAUSE},	    {'u', ACT_RESUME},	   {'t', ACT_RESET},
	    {'k', ACT_CHECKPOINT},  {'b', ACT_REVERT},	   {'x', ACT_DELETE},
	    {'m', ACT_RENAME},	    {'n', ACT_NEW_VM},	   {'d', ACT_NEW_DISK},
	    {'g', ACT_EDIT_DISK},   {'w', ACT_NEW_SWITCH}, {'v', ACT_SWITCH_MANAGER},
	    {'i', ACT_IMPORT},	    {'?', ACT_HELP},	   {KEY_F(1), ACT_HELP},
	    {'/', ACT_FILTER},	    {'q', ACT_QUIT},	   {KEY_F(10), ACT_QUIT},
	    {KEY_F(2), ACT_RENAME},
	};
	bool seen[ACT_COUNT] = {0};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (action_by_key(keys[i].key) != (int)keys[i].a)
			fail_msg("key %d: action %d, expected %d", keys[i].key,
				 action_by_key(keys[i].key), keys[i].a);
		seen[keys[i].a] = true;
	}
	/* Every action has a key, a label, a short label of at most 7 columns
	 * and a help sentence; its id matches its place. */
	for (int a = 0; a < ACT_COUNT; a++) {
		const struct action_desc *d = action_get(a);
		assert_true(seen[a]);
		assert_int_equal(d->id, a);
		assert_true(d->key != 0);
		assert_true(strlen(d->label) > 0);
		assert_true(strlen(d->short_label) > 0 && strlen(d->short_label) <= 7);
		assert_true(strlen(d->help) > 10);
	}
	assert_int_equal(action_by_key('z'), -1);
	assert_int_equal(action_by_key('S'), -1);
	assert_int_equal(action_by_key(KEY_F(5)), -1); /* the console's own refresh */
	assert_int_equal(action_by_key(0), -1);
	assert_null(action_get(ACT_COUNT));
	/* The destructive ones ask first. */
	assert_true(action_get(ACT_TURN_OFF)->destructive);
	assert_true(action_get(ACT_DELETE)->destructive);
	assert_true(action_get(ACT_REVERT)->destructive);
	assert_false(action_get(ACT_START)->destructive);
}

static bool in_bar(const enum con_action *bar, unsigned n, enum con_action a)
{
	for (unsigned i = 0; i < n; i++)
		if (bar[i] == a)
			return true;
	return false;
}

static void test_bar(void **state)
{
	enum con_action bar[ACT_COUNT];
	struct vm_row r = row(VM_RUNNING, false);
	unsigned n;

	n = action_bar(&r, false, bar, ACT_COUNT);
	assert_true(n >= 2);
	assert_int_equal(bar[n - 2], ACT_HELP);
	assert_int_equal(bar[n - 1], ACT_QUIT);
	for (unsigned i = 0; i < n; i++)
		assert_true(action_enabled(bar[i], &r, false, NULL, 0));
	assert_true(in_bar(bar, n, ACT_SHUT_DOWN));
	assert_false(in_bar(bar, n, ACT_START));
	assert_false(in_bar(bar, n, ACT_REVERT));
	/* Off: Start, no Connect. */
	r = row(VM_OFF, false);
	n = action_bar(&r, true, bar, ACT_COUNT);
	assert_true(in_bar(bar, n, ACT_START));
	assert_true(in_bar(bar, n, ACT_REVERT));
	assert_false(in_bar(bar, n, ACT_CONNECT));
	/* Nothing selected: host actions only. */
	n = action_bar(NULL, false, bar, ACT_COUNT);
	for (unsigned i = 0; i < n; i++)
		assert_false(action_get(bar[i])->vm);
	assert_true(in_bar(bar, n, ACT_NEW_VM));
	/* A short bar still ends with Help and Quit. */
	n = action_bar(&r, true, bar, 4);
	assert_int_equal(n, 4);
	assert_int_equal(bar[2], ACT_HELP);
	assert_int_equal(bar[3], ACT_QUIT);
	assert_int_equal(bar[0], ACT_START);
	n = action_bar(&r, true, bar, 1);
	assert_int_equal(n, 1);
	assert_int_equal(bar[0], ACT_HELP);
	assert_int_equal(action_bar(&r, true, bar, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_vm_action_per_state),
	    cmocka_unit_test(test_revert_needs_a_checkpoint),
	    cmocka_unit_test(test_refusals_say_what_to_do),
	    cmocka_unit_test(test_host_actions_always),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_bar),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
