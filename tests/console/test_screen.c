/* The console's main screen drawn into an ncurses screen without a
 * terminal (newterm on /dev/null) and read back cell by cell: columns,
 * states, tabs, the Actions pane, the key bar, hit testing, and a layout
 * that stays inside the terminal at every size. */
#include "console/console.h"
#include "console/screen.h"
#include "console/screen_priv.h"
#include "console/theme.h"

#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static SCREEN *scr;
static FILE *out, *in;
static struct console con;

static void resize(int rows, int cols)
{
	resizeterm(rows, cols);
}

/* Row y of the screen as UTF-8. */
static const char *row_text(int y)
{
	static char buf[4096];
	size_t o = 0;
	for (int x = 0; x < COLS && o + 8 < sizeof(buf); x++) {
		cchar_t c;
		wchar_t wc[CCHARW_MAX + 1] = {0};
		attr_t a;
		short pair;
		if (mvwin_wch(stdscr, y, x, &c) == ERR || getcchar(&c, wc, &a, &pair, NULL) == ERR)
			continue;
		if (!wc[0])
			continue; /* the second column of a wide character */
		char mb[16];
		int n = wctomb(mb, wc[0]);
		if (n <= 0)
			mb[0] = '?', n = 1;
		memcpy(buf + o, mb, (size_t)n);
		o += (size_t)n;
	}
	buf[o] = 0;
	return buf;
}

/* The first row holding text, or -1. */
static int find_row(const char *text)
{
	for (int y = 0; y < LINES; y++)
		if (strstr(row_text(y), text))
			return y;
	return -1;
}

/* The column (in cells) where text starts on row y, or -1. */
static int find_col(int y, const char *text)
{
	const char *r = row_text(y);
	const char *p = strstr(r, text);
	if (!p)
		return -1;
	char pre[4096];
	snprintf(pre, sizeof(pre), "%.*s", (int)(p - r), r);
	return scr_width(pre);
}

static void add_vm(const char *name, enum vm_state st, uint64_t up_s, double cpu, uint64_t mem_mb)
{
	struct vm_info i;
	memset(&i, 0, sizeof(i));
	snprintf(i.name, sizeof(i.name), "%s", name);
	i.state = st;
	if (st == VM_RUNNING || st == VM_PAUSED) {
		i.pid = 4242;
		i.uptime_ns = up_s * 1000000000ull;
		i.cpu_percent = cpu;
		i.memory = mem_mb << 20;
		i.cpus = 2;
		snprintf(i.vnc, sizeof(i.vnc), "127.0.0.1:5901");
	}
	assert_int_equal(model_update(&con.model, &i), 0);
}

static void fill_details(const char *name)
{
	struct vm_details *d = &con.details;
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->memory = 2048ull << 20;
	d->cpus = 2;
	snprintf(d->firmware, sizeof(d->firmware), "SeaBIOS (BIOS)");
	snprintf(d->boot, sizeof(d->boot), "dvd, disk");
	snprintf(d->vnc, sizeof(d->vnc), "auto");
	d->ndisks = 1;
	snprintf(d->disks[0].where, sizeof(d->disks[0].where), "IDE 0:0");
	snprintf(d->disks[0].file, sizeof(d->disks[0].file), "/s/vms/%s/%s.vhdx", name, name);
	snprintf(d->disks[0].format, sizeof(d->disks[0].format), "vhdx");
	d->ndvds = 1;
	snprintf(d->dvds[0].where, sizeof(d->dvds[0].where), "IDE 1:0");
	d->nnics = 1;
	snprintf(d->nics[0].name, sizeof(d->nics[0].name), "nic0");
	snprintf(d->nics[0].model, sizeof(d->nics[0].model), "e1000");
	snprintf(d->nics[0].mac, sizeof(d->nics[0].mac), "52:54:00:12:34:56");
	snprintf(d->nics[0].sw, sizeof(d->nics[0].sw), "lab");
	snprintf(d->nics[0].sw_type, sizeof(d->nics[0].sw_type), "nat");
	d->nckpts = 3;
	snprintf(d->ckpts[0].id, sizeof(d->ckpts[0].id), "aaaa0001");
	snprintf(d->ckpts[0].label, sizeof(d->ckpts[0].label), "Before update");
	snprintf(d->ckpts[1].id, sizeof(d->ckpts[1].id), "aaaa0002");
	snprintf(d->ckpts[1].label, sizeof(d->ckpts[1].label), "Installed");
	d->ckpts[1].depth = 1;
	d->ckpts[2].depth = 2;
	d->ckpts[2].now = true;
}

static int setup(void **state)
{
	(void)state;
	memset(&con, 0, sizeof(con));
	con.unicode = true;
	model_init(&con.model);
	add_vm("web", VM_RUNNING, 252, 3.2, 2048);
	add_vm("db", VM_OFF, 0, 0, 0);
	add_vm("build", VM_PAUSED, 2 * 86400 + 3 * 3600 + 4 * 60 + 5, 0, 4096);
	model_select_name(&con.model, "db");
	fill_details("db");
	con.focus = PANE_LIST;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	model_free(&con.model);
	return 0;
}

static void draw(struct screen_layout *lay)
{
	screen_layout(&con, lay);
	model_scroll(&con.model, (unsigned)lay->list_rows);
	screen_draw(&con, lay);
}

static void test_formats(void **state)
{
	(void)state;
	char b[32];
	list_fmt_uptime(252ull * 1000000000ull, b, sizeof(b));
	assert_string_equal(b, "00:04:12");
	list_fmt_uptime((2ull * 86400 + 3 * 3600 + 4 * 60 + 5) * 1000000000ull, b, sizeof(b));
	assert_string_equal(b, "2.03:04:05");
	struct vm_row *r = model_find(&con.model, "web");
	list_fmt_cpu(r, b, sizeof(b));
	assert_string_equal(b, "3 %");
	list_fmt_memory(r, b, sizeof(b));
	assert_string_equal(b, "2048 MB");
	/* Off: no figures, as Hyper-V shows it. */
	r = model_find(&con.model, "db");
	list_fmt_cpu(r, b, sizeof(b));
	assert_string_equal(b, "");
	list_fmt_memory(r, b, sizeof(b));
	assert_string_equal(b, "");
}

static void test_columns(void **state)
{
	(void)state;
	struct list_cols c;
	list_columns(78, 8, &c);
	for (int i = 0; i < COL_COUNT; i++)
		assert_true(c.w[i] > 0);
	assert_false(c.compact);
	assert_int_equal(c.x[COL_STATUS] + c.w[COL_STATUS], 78);
	/* Narrower: short headers, then columns dropped from the right. */
	list_columns(60, 8, &c);
	assert_true(c.compact || c.w[COL_STATUS] == 0);
	list_columns(30, 8, &c);
	assert_true(c.w[COL_NAME] >= 12);
	assert_true(c.w[COL_STATE] > 0);
	assert_int_equal(c.w[COL_STATUS], 0);
	assert_int_equal(c.w[COL_UPTIME], 0);
	for (int w = 1; w < 300; w++) {
		list_columns(w, 64, &c);
		for (int i = 0; i < COL_COUNT; i++) {
			if (!c.w[i])
				continue;
			assert_true(c.x[i] >= 0);
			assert_true(c.x[i] + c.w[i] <= (w > 12 ? w : 12));
			if (i)
				assert_true(c.x[i] >= c.x[i - 1] + c.w[i - 1]);
		}
	}
}

static void test_list_80x24(void **state)
{
	(void)state;
	struct screen_layout lay;
	resize(24, 80);
	draw(&lay);
	assert_int_equal(lay.actions.w, 0); /* folded away at 80 columns */
	assert_non_null(strstr(row_text(0), "3 virtual machines, 2 running"));
	int h = find_row("Assigned Memory");
	assert_true(h > 0);
	const char *hr = row_text(h);
	assert_non_null(strstr(hr, "Name"));
	assert_non_null(strstr(hr, "CPU Usage"));
	assert_non_null(strstr(hr, "Uptime"));
	assert_non_null(strstr(hr, "Status"));
	int y = find_row("web ");
	assert_true(y > h);
	const char *r = row_text(y);
	assert_non_null(strstr(r, "Running"));
	assert_non_null(strstr(r, "3 %"));
	assert_non_null(strstr(r, "2048 MB"));
	assert_non_null(strstr(r, "00:04:12"));
	assert_int_equal(find_col(y, "Running"), find_col(h, "State"));
	r = row_text(find_row("build "));
	assert_non_null(strstr(r, "Paused"));
	assert_non_null(strstr(r, "2.03:04:05"));
	/* The key bar and the status line. */
	const char *bar = row_text(LINES - 2);
	assert_non_null(strstr(bar, "s Start"));
	assert_non_null(strstr(bar, "? Help"));
	assert_non_null(strstr(bar, "q Quit"));
	assert_null(strstr(bar, "TurnOff")); /* db is Off */
}

static void test_selection_attr(void **state)
{
	(void)state;
	struct screen_layout lay;
	resize(24, 80);
	theme_init(false);
	draw(&lay);
	int y = find_row("db ");
	assert_true(y > 0);
	chtype c = mvwinch(stdscr, y, lay.list.x + 1);
	assert_true(c & A_REVERSE); /* selected, list focused */
	y = find_row("web ");
	c = mvwinch(stdscr, y, lay.list.x + 1);
	assert_false(c & A_REVERSE);
}

static void test_names_and_status(void **state)
{
	(void)state;
	struct screen_layout lay;
	add_vm("a-very-long-virtual-machine-name-for-truncation", VM_OFF, 0, 0, 0);
	model_set_status(&con.model, "web", "Saving...");
	resize(24, 80);
	draw(&lay);
	int y = find_row("a-very-long");
	assert_true(y > 0);
	assert_non_null(strstr(row_text(y), "\u2026"));
	assert_null(strstr(row_text(y), "truncation"));
	assert_non_null(strstr(row_text(find_row("web ")), "Saving..."));
}

static void test_details_tabs(void **state)
{
	(void)state;
	struct screen_layout lay;
	resize(30, 100);
	con.tab = TAB_SUMMARY;
	draw(&lay);
	assert_non_null(strstr(row_text(lay.details.y), "Summary"));
	assert_true(find_row("db.vhdx") > 0);
	assert_true(find_row("nic0  e1000 on lab") > 0);
	assert_true(find_row("Processors:") > 0);
	assert_true(find_row("empty") > 0); /* the DVD */

	con.tab = TAB_NETWORKING;
	draw(&lay);
	int y = find_row("52:54:00:12:34:56");
	assert_true(y > 0);
	assert_non_null(strstr(row_text(y), "nat"));

	con.tab = TAB_CHECKPOINTS;
	draw(&lay);
	int a = find_row("Before update"), b = find_row("Installed"), n = find_row("\u25b6 Now");
	assert_true(a > 0 && b == a + 1 && n == b + 1);
	assert_true(find_col(b, "Installed") > find_col(a, "Before"));

	con.tab = TAB_MEMORY;
	draw(&lay);
	assert_true(find_row("Startup:") > 0);

	/* Details that could not be loaded: no made-up figures. */
	con.details.cpus = 0;
	con.tab = TAB_SUMMARY;
	draw(&lay);
	assert_true(find_row("could not be read") > 0);
	assert_int_equal(find_row("Processors:"), -1);
	con.details.cpus = 2;

	/* A broken vmconfig: its error instead. */
	snprintf(con.details.error, sizeof(con.details.error), "db.vmconfig:3: bad memory");
	con.tab = TAB_SUMMARY;
	draw(&lay);
	assert_true(find_row("bad memory") > 0);
	assert_int_equal(find_row("db.vhdx"), -1);
	con.details.error[0] = 0;
}

static void test_actions_pane(void **state)
{
	(void)state;
	struct screen_layout lay;
	resize(30, 100);
	con.focus = PANE_ACTIONS;
	con.action_sel = 0;
	draw(&lay);
	assert_true(lay.actions.w > 0);
	int top = lay.actions.y;
	assert_non_null(strstr(row_text(top), "db"));
	/* Off: Start shown, Turn Off hidden (Hyper-V hides what cannot be done). */
	assert_true(find_row("Start ") > 0);
	assert_int_equal(find_row("Turn Off"), -1);
	assert_true(find_row("Host") > 0);

	enum con_action acts[ACT_COUNT];
	unsigned n = screen_actions(&con, acts, ACT_COUNT);
	assert_true(n > 0);
	bool start = false, turnoff = false, newvm = false;
	for (unsigned i = 0; i < n; i++) {
		start |= acts[i] == ACT_START;
		turnoff |= acts[i] == ACT_TURN_OFF;
		newvm |= acts[i] == ACT_NEW_VM;
	}
	assert_true(start && newvm);
	assert_false(turnoff);

	/* A click on Start's row. */
	int y = find_row("Start ");
	struct screen_hit h = screen_hit_test(&con, &lay, y, lay.actions.x + 2);
	assert_int_equal(h.kind, HIT_ACTION);
	assert_int_equal(h.index, ACT_START);

	/* Busy: its status under its name, no VM action until it is done. */
	model_set_status(&con.model, "db", "Exporting...");
	model_set_busy(&con.model, "db", true);
	draw(&lay);
	y = find_row("Exporting...");
	assert_int_equal(y, top + 1);
	assert_true(find_col(y, "Exporting") > lay.actions.x - 1);
	assert_int_equal(find_row("Start "), -1);
	assert_int_equal(find_row("Host"), top + 2);
	con.focus = PANE_LIST;
}

static void test_hits(void **state)
{
	(void)state;
	struct screen_layout lay;
	resize(24, 80);
	draw(&lay);
	int y = find_row("web ");
	struct screen_hit h = screen_hit_test(&con, &lay, y, 3);
	assert_int_equal(h.kind, HIT_VM);
	assert_string_equal(con.model.rows[con.model.view[h.index]].info.name, "web");

	int ty = lay.details.y;
	h = screen_hit_test(&con, &lay, ty, find_col(ty, "Memory") + 1);
	assert_int_equal(h.kind, HIT_TAB);
	assert_int_equal(h.index, TAB_MEMORY);
	h = screen_hit_test(&con, &lay, ty, find_col(ty, "Checkpoints") + 2);
	assert_int_equal(h.kind, HIT_TAB);
	assert_int_equal(h.index, TAB_CHECKPOINTS);

	h = screen_hit_test(&con, &lay, lay.bar.y, find_col(lay.bar.y, "q Quit") + 2);
	assert_int_equal(h.kind, HIT_ACTION);
	assert_int_equal(h.index, ACT_QUIT);
	h = screen_hit_test(&con, &lay, lay.bar.y, find_col(lay.bar.y, "s Start"));
	assert_int_equal(h.kind, HIT_ACTION);
	assert_int_equal(h.index, ACT_START);

	h = screen_hit_test(&con, &lay, lay.details.y + 3, 5);
	assert_int_equal(h.kind, HIT_PANE);
	assert_int_equal(h.index, PANE_DETAILS);
	h = screen_hit_test(&con, &lay, 0, 5);
	assert_int_equal(h.kind, HIT_NONE);
}

static void test_filter_bar(void **state)
{
	(void)state;
	struct screen_layout lay;
	resize(24, 80);
	model_set_filter(&con.model, "run");
	con.editing_filter = true;
	draw(&lay);
	assert_non_null(strstr(row_text(LINES - 2), "Filter: run_"));
	assert_non_null(strstr(row_text(LINES - 2), "Esc"));
	assert_non_null(strstr(row_text(0), "Filter: run"));
	con.editing_filter = false;
	model_set_filter(&con.model, "");
}

static void test_too_small(void **state)
{
	(void)state;
	struct screen_layout lay;
	resize(5, 20);
	draw(&lay);
	assert_true(find_row("Terminal too small") >= 0);
	struct screen_hit h = screen_hit_test(&con, &lay, 1, 1);
	assert_int_equal(h.kind, HIT_NONE);
}

static void inside(const struct screen_rect *r, int rows, int cols, bool framed)
{
	if (!r->w || !r->h)
		return;
	int f = framed ? 1 : 0;
	assert_true(r->y - f >= 0 && r->x - f >= 0);
	assert_true(r->y + r->h + f <= rows && r->x + r->w + f <= cols);
}

static void test_every_size(void **state)
{
	(void)state;
	struct screen_layout lay;
	for (int rows = 1; rows <= 80; rows++) {
		for (int cols = 1; cols <= 250; cols++) {
			/* Every column near a threshold, a sample elsewhere. */
			bool edge = cols < 45 || (cols >= 78 && cols <= 102) ||
				    (cols >= 158 && cols <= 162) || cols == 250;
			if (!edge && cols % 7)
				continue;
			resize(rows, cols);
			screen_layout(&con, &lay);
			inside(&lay.list, rows, cols, true);
			inside(&lay.details, rows, cols, true);
			inside(&lay.actions, rows, cols, true);
			inside(&lay.bar, rows, cols, false);
			inside(&lay.status, rows, cols, false);
			if (lay.thumb.w) {
				assert_true(scr_inside(&lay.details, lay.thumb.y, lay.thumb.x));
				assert_true(lay.thumb.x + lay.thumb.w <=
					    lay.details.x + lay.details.w);
				assert_true(lay.thumb.y + lay.thumb.h <=
					    lay.details.y + lay.details.h);
				assert_true(lay.thumb.w >= 24 && lay.thumb.h >= 7);
			}
			if (lay.bar.w) {
				/* The list ends above the details, both above the bar. */
				assert_true(lay.list.y + lay.list.h + 1 < lay.details.y);
				assert_true(lay.details.y + lay.details.h < lay.bar.y);
				assert_true(lay.list_rows >= 1);
				if (lay.actions.w)
					assert_true(lay.list.x + lay.list.w + 1 < lay.actions.x);
			}
			assert_true(cols < 100 || rows < 12 || lay.actions.w > 0);
			/* Drawn at a sample of sizes (ASan watches every write). */
			if ((rows % 7 == 0 && cols % 13 == 0) || (rows == 24 && cols == 80) ||
			    (rows == 80 && cols == 250))
				screen_draw(&con, &lay);
		}
	}
}

int main(void)
{
	if (!setlocale(LC_ALL, "C.UTF-8"))
		setlocale(LC_ALL, "");
	out = fopen("/dev/null", "w");
	in = fopen("/dev/null", "r");
	setenv("LINES", "24", 1);
	setenv("COLUMNS", "80", 1);
	if (!out || !in || !(scr = newterm("xterm-256color", out, in))) {
		fprintf(stderr, "SKIP: no terminfo entry for xterm-256color\n");
		return 77;
	}
	start_color();
	use_default_colors();
	theme_init(true);

	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_formats, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_columns, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_80x24, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_names_and_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_details_tabs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_actions_pane, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_filter_bar, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_small, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_size, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_selection_attr, setup, teardown),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
	return r;
}
