/* The in-terminal Connect view's text screen (console/connect_text.c):
 * display-text's answer checked and decoded (hostile sizes, bad UTF-8,
 * control characters, short rows, bad palette entries, a cursor off the
 * screen), attribute colours, the ASCII fallback, and the cells drawn into
 * a curses window (centred, or cut around the cursor). */
#include "console/connect_text.h"
#include "console/console.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static json_t *screen(int cols, int rows)
{
	json_t *lines = json_array(), *attrs = json_array(), *pal = json_array();
	char line[512], at[1024];
	for (int y = 0; y < rows; y++) {
		for (int x = 0; x < cols; x++) {
			line[x] = (char)('A' + (x + y) % 26);
			snprintf(at + 2 * x, 3, "%02x", (unsigned)(0x1f + y) & 0xff);
		}
		line[cols] = '\0';
		json_array_append_new(lines, json_string(line));
		json_array_append_new(attrs, json_string(at));
	}
	static const char *const vga[16] = {
	    "#000000", "#0000aa", "#00aa00", "#00aaaa", "#aa0000", "#aa00aa", "#aa5500", "#aaaaaa",
	    "#555555", "#5555ff", "#55ff55", "#55ffff", "#ff5555", "#ff55ff", "#ffff55", "#ffffff"};
	for (int i = 0; i < 16; i++)
		json_array_append_new(pal, json_string(vga[i]));
	return json_pack("{s:i, s:i, s:{s:i, s:i, s:b}, s:o, s:o, s:o, s:b}", "cols", cols, "rows",
			 rows, "cursor", "x", 3, "y", rows - 1, "visible", 1, "lines", lines,
			 "attrs", attrs, "palette", pal, "blink", 1);
}

static void test_parse_good(void **state)
{
	(void)state;
	struct conn_text t = {0};
	char err[160];
	json_t *j = screen(80, 25);
	assert_int_equal(conn_text_parse(&t, j, err, sizeof(err)), 0);
	assert_int_equal(t.cols, 80);
	assert_int_equal(t.rows, 25);
	assert_true(t.cur_visible);
	assert_int_equal(t.cur_x, 3);
	assert_int_equal(t.cur_y, 24);
	assert_true(t.blink);
	assert_int_equal(t.chars[0], 'A');
	assert_int_equal(t.chars[80 + 1], 'C');
	assert_int_equal(t.attrs[0], 0x1f);
	assert_int_equal(t.attrs[80 * 2 + 5], 0x21);
	assert_int_equal(t.palette[6], 0xaa5500);
	assert_int_equal(t.palette[15], 0xffffff);
	json_decref(j);
	conn_text_free(&t);
	assert_null(t.chars);
}

static void test_parse_bad_size(void **state)
{
	(void)state;
	struct conn_text t = {0};
	char err[160];
	json_t *j = screen(4, 2);
	assert_int_equal(conn_text_parse(&t, j, err, sizeof(err)), 0);
	static const char *const bad[] = {
	    "{\"cols\": 0, \"rows\": 25}",	    "{\"cols\": 80, \"rows\": -1}",
	    "{\"cols\": 257, \"rows\": 25}",	    "{\"cols\": 80, \"rows\": 129}",
	    "{\"cols\": \"80\", \"rows\": 25}",	    "{\"rows\": 25}",
	    "{\"cols\": 4294967376, \"rows\": 25}", "[80, 25]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *b = json_loads(bad[i], 0, NULL);
		assert_non_null(b);
		err[0] = '\0';
		assert_int_equal(conn_text_parse(&t, b, err, sizeof(err)), -EINVAL);
		assert_true(err[0] != '\0');
		json_decref(b);
		/* The screen before is kept. */
		assert_int_equal(t.cols, 4);
		assert_int_equal(t.chars[0], 'A');
	}
	json_decref(j);
	conn_text_free(&t);
}

static void test_parse_hostile_rows(void **state)
{
	(void)state;
	struct conn_text t = {0};
	char err[160];
	/* Row 0: bad UTF-8, an overlong '/', a surrogate, controls (ESC,
	 * C1 CSI, bidi override), a box drawing character; row 1 missing
	 * characters and attributes; row 2 longer than cols; row 3 not a
	 * string; attrs with a bad hex digit. */
	json_t *j =
	    json_loads("{\"cols\": 8, \"rows\": 4, \"cursor\": {\"x\": 8, \"y\": 0, "
		       "\"visible\": true},"
		       " \"lines\": [\"a\\u001b\\u009b\\u202eb\\u2550\", \"xy\", "
		       "\"0123456789\", 7],"
		       " \"attrs\": [\"07zz1f\", \"\", \"7070707070707070707070\"],"
		       " \"palette\": [\"#123456\", \"red\", \"#12345\", 5], \"blink\": false}",
		       0, NULL);
	assert_non_null(j);
	json_t *l0 = json_array_get(json_object_get(j, "lines"), 0);
	/* Raw bytes jansson would not take from JSON text. */
	(void)l0;
	assert_int_equal(conn_text_parse(&t, j, err, sizeof(err)), 0);
	assert_int_equal(t.chars[0], 'a');
	assert_int_equal(t.chars[1], ' ');
	assert_int_equal(t.chars[2], ' ');
	assert_int_equal(t.chars[3], ' ');
	assert_int_equal(t.chars[4], 'b');
	assert_int_equal(t.chars[5], 0x2550);
	assert_int_equal(t.chars[6], ' ');
	assert_int_equal(t.chars[8], 'x');
	assert_int_equal(t.chars[10], ' ');
	assert_int_equal(t.chars[16 + 7], '7');
	for (int x = 0; x < 8; x++)
		assert_int_equal(t.chars[24 + x], ' ');
	assert_int_equal(t.attrs[0], 0x07);
	assert_int_equal(t.attrs[1], 0x07); /* "zz" */
	assert_int_equal(t.attrs[2], 0x1f);
	assert_int_equal(t.attrs[3], 0x07); /* past the string */
	assert_int_equal(t.attrs[8], 0x07);
	assert_int_equal(t.attrs[16 + 7], 0x70);
	assert_int_equal(t.attrs[24], 0x07); /* no row 3 */
	assert_int_equal(t.palette[0], 0x123456);
	assert_int_equal(t.palette[1], 0x0000aa);
	assert_int_equal(t.palette[2], 0x00aa00);
	assert_int_equal(t.palette[3], 0x00aaaa);
	assert_int_equal(t.palette[15], 0xffffff);
	assert_false(t.blink);
	assert_false(t.cur_visible); /* x 8 is off an 8-column screen */
	json_decref(j);

	/* Malformed UTF-8 (jansson passes what json_stringn_nocheck made). */
	j = json_pack("{s:i, s:i, s:[o]}", "cols", 6, "rows", 1, "lines",
		      json_string_nocheck("\xc0\xaf\xed\xa0\x80\xff\xe2\x82"));
	assert_int_equal(conn_text_parse(&t, j, err, sizeof(err)), 0);
	assert_int_equal(t.chars[0], 0xfffd); /* overlong */
	assert_int_equal(t.chars[1], 0xfffd); /* \xaf alone */
	assert_int_equal(t.chars[2], 0xfffd); /* surrogate: one per byte or one for all */
	assert_true(t.blink);		      /* absent: VGA's default */
	for (int x = 0; x < 6; x++)
		assert_true(t.chars[x] == 0xfffd || t.chars[x] == ' ');
	json_decref(j);
	conn_text_free(&t);
}

static void test_attr_colours(void **state)
{
	(void)state;
	int fg, bg;
	bool bl;
	conn_text_attr_colours(0x1f, true, &fg, &bg, &bl);
	assert_int_equal(fg, 15);
	assert_int_equal(bg, 1);
	assert_false(bl);
	conn_text_attr_colours(0xce, true, &fg, &bg, &bl);
	assert_int_equal(fg, 14);
	assert_int_equal(bg, 4);
	assert_true(bl);
	conn_text_attr_colours(0xce, false, &fg, &bg, &bl);
	assert_int_equal(bg, 12);
	assert_false(bl);
}

static void test_rgb_to_16(void **state)
{
	(void)state;
	assert_int_equal(conn_text_rgb_to_16(0x000000), 0);
	assert_int_equal(conn_text_rgb_to_16(0xffffff), 15);
	assert_int_equal(conn_text_rgb_to_16(0xaa0000), 1); /* VGA red */
	assert_int_equal(conn_text_rgb_to_16(0x0000aa), 4); /* VGA blue: ANSI blue */
	assert_int_equal(conn_text_rgb_to_16(0x00aaaa), 6); /* cyan */
	assert_int_equal(conn_text_rgb_to_16(0xaaaaaa), 7); /* light grey */
	assert_int_equal(conn_text_rgb_to_16(0x555555), 8); /* dark grey */
	assert_int_equal(conn_text_rgb_to_16(0xaa5500), 3); /* brown: ANSI's dark yellow */
	assert_int_equal(conn_text_rgb_to_16(0xff6060), 9); /* nearest: light red */
	assert_int_equal(conn_text_rgb_to_16(0xff0000), 1);
	assert_int_equal(conn_text_rgb_to_16(0xffff55), 11); /* yellow */
	assert_int_equal(conn_text_rgb_to_16(0x5555ff), 12); /* light blue */
}

static void test_ascii(void **state)
{
	(void)state;
	for (uint32_t c = 0x20; c < 0x7f; c++)
		assert_int_equal(conn_text_ascii(c), (int)c);
	assert_int_equal(conn_text_ascii(0x2550), '-'); /* ═ */
	assert_int_equal(conn_text_ascii(0x2551), '|'); /* ║ */
	assert_int_equal(conn_text_ascii(0x2554), '+'); /* ╔ */
	assert_int_equal(conn_text_ascii(0x2502), '|');
	assert_int_equal(conn_text_ascii(0x2588), '#'); /* █ */
	assert_int_equal(conn_text_ascii(0x00e9), '?'); /* é */
	assert_int_equal(conn_text_ascii(0x1b), '?');
}

/* --- drawing into a curses window (a terminal on /dev/null) --- */

static SCREEN *scr;
static FILE *out, *in;

static int term_up(void **state)
{
	(void)state;
	out = fopen("/dev/null", "w");
	in = fopen("/dev/null", "r");
	scr = newterm("xterm-256color", out, in);
	if (!scr)
		return -1;
	start_color();
	return 0;
}

static int term_down(void **state)
{
	(void)state;
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
	return 0;
}

static uint32_t cell(WINDOW *w, int y, int x, attr_t *attr, int *pair)
{
	cchar_t cc;
	wchar_t wc[CCHARW_MAX + 1];
	short sp;
	mvwin_wch(w, y, x, &cc);
	getcchar(&cc, wc, attr, &sp, pair);
	return (uint32_t)wc[0];
}

static void test_draw(void **state)
{
	(void)state;
	struct console con = {.colour = true, .colours = 256};
	struct conn_text t = {0};
	struct conn_text_colours c = {0};
	char err[160];
	json_t *j = screen(10, 4); /* cursor at 3, 3 */
	assert_int_equal(conn_text_parse(&t, j, err, sizeof(err)), 0);
	json_decref(j);
	conn_text_colours_update(&c, &t, &con);
	assert_true(c.valid);

	/* Fits: centred in 20 x 8 below row 1. */
	WINDOW *w = newwin(9, 20, 0, 0);
	assert_non_null(w);
	assert_true(conn_text_draw(&t, &c, w, 1, 8, 20, true));
	assert_int_equal(getcury(w), 1 + 2 + 3);
	assert_int_equal(getcurx(w), 5 + 3);
	attr_t a;
	int pair;
	assert_int_equal(cell(w, 1 + 2, 5, &a, &pair), 'A');
	assert_int_equal(cell(w, 1 + 2 + 3, 5 + 9, &a, &pair), 'A' + 12);
	assert_int_equal(pair, conn_text_pair(&c, 0x1f + 3));
	assert_true(pair > 0);
	int fg, bg;
	extended_pair_content(pair, &fg, &bg);
	assert_int_equal(fg, 34); /* attribute 0x22: green on green, 0x00aa00 as 256 colours */
	assert_int_equal(bg, 34);

	/* The pairs go to other colours in between (alloc_pair reuses pairs
	 * not used for a while): the next draw still shows the right ones. */
	reset_color_pairs();
	for (int i = 0; i < 8; i++)
		assert_true(alloc_pair(i, 200 + i) > 0);
	werase(w);
	conn_text_draw(&t, &c, w, 1, 8, 20, true);
	cell(w, 1 + 2 + 3, 5 + 9, &a, &pair);
	extended_pair_content(pair, &fg, &bg);
	assert_int_equal(fg, 34);
	assert_int_equal(bg, 34);

	/* Too small: cut so that the cursor (row 3, column 3) shows. */
	werase(w);
	assert_true(conn_text_draw(&t, &c, w, 1, 2, 3, true));
	assert_int_equal(getcury(w), 2);
	assert_int_equal(getcurx(w), 2);
	assert_int_equal(cell(w, 1, 0, &a, &pair), 'A' + (2 + 1) % 26);

	/* No UTF-8: box drawing as ASCII. */
	t.chars[0] = 0x2550;
	t.chars[1] = 0xe9;
	werase(w);
	conn_text_draw(&t, &c, w, 1, 8, 20, false);
	assert_int_equal(cell(w, 3, 5, &a, &pair), '-');
	assert_int_equal(cell(w, 3, 6, &a, &pair), '?');

	/* A hidden cursor is not placed. */
	t.cur_visible = false;
	assert_false(conn_text_draw(&t, &c, w, 1, 8, 20, true));

	/* Monochrome: dark on light is reversed, bright foregrounds bold. */
	struct console mono = {.colour = false};
	struct conn_text_colours m = {0};
	conn_text_colours_update(&m, &t, &mono);
	assert_true(m.attr[0x70] & A_REVERSE);
	assert_false(m.attr[0x07] & A_REVERSE);
	assert_true(m.attr[0x0f] & A_BOLD);
	assert_true(m.attr[0x87] & A_BLINK);
	assert_int_equal(conn_text_pair(&m, 0x1f), 0);
	assert_int_equal(m.fg[0x1f], -1);
	delwin(w);
	conn_text_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_good),	       cmocka_unit_test(test_parse_bad_size),
	    cmocka_unit_test(test_parse_hostile_rows), cmocka_unit_test(test_attr_colours),
	    cmocka_unit_test(test_rgb_to_16),	       cmocka_unit_test(test_ascii),
	};
	const struct CMUnitTest term_tests[] = {cmocka_unit_test(test_draw)};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	return r | cmocka_run_group_tests(term_tests, term_up, term_down);
}
