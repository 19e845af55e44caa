/* The console's VM list model without a terminal: sorting, the selection
 * kept by name across updates, removals and filters, and scrolling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "console/model.h"

#include <stdio.h>
#include <string.h>

static void add(struct vm_model *m, const char *name, enum vm_state st)
{
	struct vm_info info;

	memset(&info, 0, sizeof(info));
	snprintf(info.name, sizeof(info.name), "%s", name);
	info.state = st;
	assert_int_equal(model_update(m, &info), 0);
}

static const char *sel_name(struct vm_model *m)
{
	struct vm_row *r = model_selected(m);

	return r ? r->info.name : "(none)";
}

static const char *view_name(struct vm_model *m, unsigned i)
{
	assert_true(i < m->nview);
	return m->rows[m->view[i]].info.name;
}

static void test_sorted_and_first_selected(void **state)
{
	struct vm_model m;

	model_init(&m);
	assert_null(model_selected(&m));
	assert_int_equal(m.sel, -1);
	add(&m, "web", VM_OFF);
	assert_string_equal(sel_name(&m), "web");
	add(&m, "db", VM_RUNNING);
	add(&m, "zeta", VM_OFF);
	add(&m, "alpha", VM_SAVED);
	assert_int_equal(m.n, 4);
	assert_int_equal(m.nview, 4);
	assert_string_equal(view_name(&m, 0), "alpha");
	assert_string_equal(view_name(&m, 1), "db");
	assert_string_equal(view_name(&m, 2), "web");
	assert_string_equal(view_name(&m, 3), "zeta");
	/* Until a selection is asked for, the first row is selected, in
	 * whatever order the VMs came. */
	assert_string_equal(sel_name(&m), "alpha");
	assert_int_equal(m.sel, 0);
	/* Once chosen, rows added before it leave the selection on its VM. */
	model_select_name(&m, "web");
	add(&m, "aaa", VM_OFF);
	assert_string_equal(sel_name(&m), "web");
	assert_int_equal(m.sel, 3);
	assert_string_equal(m.sel_name, "web");
	model_free(&m);
}

static void test_update_keeps_status_and_busy(void **state)
{
	struct vm_model m;

	model_init(&m);
	add(&m, "a", VM_OFF);
	add(&m, "b", VM_OFF);
	model_set_status(&m, "b", "Starting...");
	model_set_busy(&m, "b", true);
	model_set_status(&m, "nosuch", "x"); /* no-op */
	model_set_busy(&m, "nosuch", true);
	add(&m, "b", VM_RUNNING);
	struct vm_row *r = model_find(&m, "b");
	assert_non_null(r);
	assert_int_equal(r->info.state, VM_RUNNING);
	assert_string_equal(r->status, "Starting...");
	assert_true(r->busy);
	model_set_busy(&m, "b", false);
	assert_false(model_find(&m, "b")->busy);
	assert_null(model_find(&m, "c"));
	assert_int_equal(m.n, 2);
	model_free(&m);
}

static void test_remove_moves_selection(void **state)
{
	struct vm_model m;

	model_init(&m);
	add(&m, "a", VM_OFF);
	add(&m, "b", VM_OFF);
	add(&m, "c", VM_OFF);
	add(&m, "d", VM_OFF);
	model_select_name(&m, "b");
	assert_string_equal(sel_name(&m), "b");
	/* Another VM goes: the selection stays on b. */
	model_remove(&m, "a");
	assert_string_equal(sel_name(&m), "b");
	assert_int_equal(m.sel, 0);
	/* The selected one goes: the next row. */
	model_remove(&m, "b");
	assert_string_equal(sel_name(&m), "c");
	model_select_name(&m, "d");
	/* The last one goes: the previous row. */
	model_remove(&m, "d");
	assert_string_equal(sel_name(&m), "c");
	model_remove(&m, "nosuch");
	assert_int_equal(m.n, 1);
	model_remove(&m, "c");
	assert_int_equal(m.n, 0);
	assert_int_equal(m.sel, -1);
	assert_null(model_selected(&m));
	assert_string_equal(m.sel_name, "");
	/* An empty list's first VM is selected again. */
	add(&m, "e", VM_OFF);
	assert_string_equal(sel_name(&m), "e");
	model_free(&m);
}

static void test_retain(void **state)
{
	struct vm_model m;
	char *keep[] = {"b", "d", "x"};

	model_init(&m);
	add(&m, "a", VM_OFF);
	add(&m, "b", VM_OFF);
	add(&m, "c", VM_OFF);
	add(&m, "d", VM_OFF);
	model_select_name(&m, "c");
	model_retain(&m, keep, 3);
	assert_int_equal(m.n, 2);
	assert_string_equal(view_name(&m, 0), "b");
	assert_string_equal(view_name(&m, 1), "d");
	/* c went: the row that took its place. */
	assert_string_equal(sel_name(&m), "d");
	model_retain(&m, keep, 0);
	assert_int_equal(m.n, 0);
	assert_null(model_selected(&m));
	model_free(&m);
}

static void test_filter(void **state)
{
	struct vm_model m;

	model_init(&m);
	add(&m, "web-1", VM_RUNNING);
	add(&m, "web-2", VM_OFF);
	add(&m, "DB", VM_PAUSED);
	add(&m, "mail", VM_RUNNING);
	model_select_name(&m, "web-2");
	/* Case-insensitive, on the name: web-2 still shown, still selected. */
	model_set_filter(&m, "WEB");
	assert_int_equal(m.nview, 2);
	assert_string_equal(view_name(&m, 0), "web-1");
	assert_string_equal(sel_name(&m), "web-2");
	/* On the state's name: web-2 is off, so the first shown is selected. */
	model_set_filter(&m, "running");
	assert_int_equal(m.nview, 2);
	assert_string_equal(view_name(&m, 0), "mail");
	assert_string_equal(view_name(&m, 1), "web-1");
	assert_string_equal(sel_name(&m), "mail");
	/* A VM that stops leaves the view; one that starts joins it. */
	model_select_name(&m, "web-1");
	add(&m, "web-1", VM_OFF);
	assert_int_equal(m.nview, 1);
	assert_string_equal(sel_name(&m), "mail");
	add(&m, "DB", VM_RUNNING);
	assert_int_equal(m.nview, 2);
	assert_string_equal(view_name(&m, 0), "DB");
	assert_string_equal(sel_name(&m), "mail");
	/* Nothing matches. */
	model_set_filter(&m, "zzz");
	assert_int_equal(m.nview, 0);
	assert_int_equal(m.sel, -1);
	assert_null(model_selected(&m));
	model_move(&m, 1);
	assert_int_equal(m.sel, -1);
	/* A new VM that matches is selected. */
	add(&m, "zzz-new", VM_OFF);
	assert_string_equal(sel_name(&m), "zzz-new");
	model_set_filter(&m, "");
	assert_int_equal(m.nview, 5);
	assert_string_equal(sel_name(&m), "zzz-new");
	assert_string_equal(m.filter, "");
	/* An over-long filter is cut, not overrun. */
	char lng[200];
	memset(lng, 'x', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	model_set_filter(&m, lng);
	assert_int_equal(strlen(m.filter), MODEL_FILTER_MAX - 1);
	model_free(&m);
}

static void test_moves(void **state)
{
	struct vm_model m;
	char name[16];

	model_init(&m);
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "vm%02d", i);
		add(&m, name, VM_OFF);
	}
	assert_string_equal(sel_name(&m), "vm00");
	model_move(&m, 3);
	assert_string_equal(sel_name(&m), "vm03");
	model_move(&m, -1);
	assert_string_equal(sel_name(&m), "vm02");
	model_move(&m, 100);
	assert_string_equal(sel_name(&m), "vm09");
	model_move(&m, -100);
	assert_string_equal(sel_name(&m), "vm00");
	model_select_index(&m, 5);
	assert_string_equal(sel_name(&m), "vm05");
	model_select_index(&m, 99);
	assert_string_equal(sel_name(&m), "vm09");
	model_select_index(&m, -4);
	assert_string_equal(sel_name(&m), "vm00");
	model_select_name(&m, "vm07");
	assert_string_equal(sel_name(&m), "vm07");
	model_select_name(&m, "nosuch");
	assert_string_equal(sel_name(&m), "vm07");
	model_free(&m);
}

static void test_scroll(void **state)
{
	struct vm_model m;
	char name[16];

	model_init(&m);
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "vm%03d", i);
		add(&m, name, i % 10 == 0 ? VM_RUNNING : VM_OFF);
	}
	model_scroll(&m, 20);
	assert_int_equal(m.top, 0);
	/* Down a page at a time, as PgDn does. */
	model_move(&m, 19);
	model_scroll(&m, 20);
	assert_int_equal(m.top, 0);
	model_move(&m, 1);
	model_scroll(&m, 20);
	assert_int_equal(m.top, 1);
	/* End: the last VM on the window's last row. */
	model_move(&m, 1000);
	model_scroll(&m, 20);
	assert_string_equal(sel_name(&m), "vm199");
	assert_int_equal(m.top, 180);
	/* Up inside the window does not scroll; above it does. */
	model_move(&m, -10);
	model_scroll(&m, 20);
	assert_int_equal(m.top, 180);
	model_move(&m, -15);
	model_scroll(&m, 20);
	assert_int_equal(m.top, 174);
	assert_string_equal(sel_name(&m), "vm174");
	/* A taller window does not leave empty rows at the end. */
	model_select_index(&m, 199);
	model_scroll(&m, 20);
	model_scroll(&m, 50);
	assert_int_equal(m.top, 150);
	/* A filter shrinks the list: the window starts at its top. */
	model_set_filter(&m, "running");
	assert_int_equal(m.nview, 20);
	model_scroll(&m, 20);
	assert_int_equal(m.top, 0);
	model_scroll(&m, 5);
	assert_true(m.top <= (unsigned)m.sel && (unsigned)m.sel < m.top + 5);
	/* visible 0 is taken as 1. */
	model_scroll(&m, 0);
	assert_int_equal(m.top, (unsigned)m.sel);
	assert_int_equal(model_count_running(&m), 20);
	model_free(&m);
}

static void test_count_running(void **state)
{
	struct vm_model m;
	static const enum vm_state states[] = {VM_OFF,	  VM_STARTING, VM_RUNNING, VM_PAUSED,
					       VM_SAVING, VM_SAVED,    VM_CRASHED};
	char name[16];

	model_init(&m);
	assert_int_equal(model_count_running(&m), 0);
	for (unsigned i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		snprintf(name, sizeof(name), "s%u", i);
		add(&m, name, states[i]);
	}
	/* Starting, Running, Paused, Saving: a worker exists. */
	assert_int_equal(model_count_running(&m), 4);
	assert_int_equal(m.n, 7);
	model_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sorted_and_first_selected),
	    cmocka_unit_test(test_update_keeps_status_and_busy),
	    cmocka_unit_test(test_remove_moves_selection),
	    cmocka_unit_test(test_retain),
	    cmocka_unit_test(test_filter),
	    cmocka_unit_test(test_moves),
	    cmocka_unit_test(test_scroll),
	    cmocka_unit_test(test_count_running),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
