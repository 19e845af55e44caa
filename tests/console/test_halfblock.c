/* The half-block picture (console/halfblock.c): box-filtered scaling of
 * known and random pictures checked against a plain per-pixel average,
 * rectangle updates against a full rescale, the aspect fit, the 256- and
 * 8-colour quantisation, and the cells ncurses gets from hb_draw. */
#include "console/console.h"
#include "console/halfblock.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pic {
	struct sharedfb fb;
	uint32_t *px;
};

/* A picture with a stride wider than its rows, so that padding is never
 * read. */
static struct pic *pic_new(int w, int h, uint32_t fill)
{
	struct pic *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	int stride_px = w + 3;
	p->px = malloc((size_t)stride_px * h * 4);
	assert_non_null(p->px);
	for (int i = 0; i < stride_px * h; i++)
		p->px[i] = 0xdeadbeef; /* padding: never averaged */
	p->fb = (struct sharedfb){.pixels = (const uint8_t *)p->px,
				  .size = (size_t)stride_px * h * 4,
				  .width = w,
				  .height = h,
				  .stride = stride_px * 4};
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			p->px[y * stride_px + x] = fill;
	return p;
}

static uint32_t *at(struct pic *p, int x, int y)
{
	return &p->px[(size_t)y * (p->fb.stride / 4) + x];
}

static void pic_free(struct pic *p)
{
	free(p->px);
	free(p);
}

static uint32_t rnd(void)
{
	return (uint32_t)rand() << 16 ^ (uint32_t)rand();
}

static void pic_random(struct pic *p)
{
	for (int y = 0; y < p->fb.height; y++)
		for (int x = 0; x < p->fb.width; x++)
			*at(p, x, y) = rnd() & 0xffffff;
}

/* The reference: every pixel of the range a half cell covers (i * size / n
 * to (i + 1) * size / n, at least one), averaged channel by channel with
 * rounding. */
static void ref_span(int i, int n, int size, int *lo, int *hi)
{
	*lo = (int)((long long)i * size / n);
	*hi = (int)((long long)(i + 1) * size / n);
	if (*hi == *lo)
		*hi = *lo + 1;
}

static uint32_t ref_half(struct pic *p, int cols, int rows, int cx, int hy)
{
	int x0, x1, y0, y1;
	ref_span(cx, cols, p->fb.width, &x0, &x1);
	ref_span(hy, 2 * rows, p->fb.height, &y0, &y1);
	unsigned long long s[3] = {0, 0, 0}, n = 0;
	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++) {
			uint32_t v = *at(p, x, y);
			s[0] += v >> 16 & 0xff;
			s[1] += v >> 8 & 0xff;
			s[2] += v & 0xff;
			n++;
		}
	uint32_t out = 0;
	for (int k = 0; k < 3; k++)
		out = out << 8 | (uint32_t)((s[k] + n / 2) / n);
	return out;
}

static void check_against_ref(struct pic *p, int cols, int rows, const struct hb_cell *cells)
{
	for (int cy = 0; cy < rows; cy++)
		for (int cx = 0; cx < cols; cx++) {
			const struct hb_cell *c = &cells[cy * cols + cx];
			uint32_t top = ref_half(p, cols, rows, cx, 2 * cy);
			uint32_t bottom = ref_half(p, cols, rows, cx, 2 * cy + 1);
			if (c->top != top || c->bottom != bottom)
				fail_msg("%dx%d onto %dx%d: cell (%d,%d) is %06x/%06x, want "
					 "%06x/%06x",
					 p->fb.width, p->fb.height, cols, rows, cx, cy, c->top,
					 c->bottom, top, bottom);
		}
}

static struct hb_cell *cells_new(int cols, int rows)
{
	struct hb_cell *c = malloc((size_t)cols * rows * sizeof(*c));
	assert_non_null(c);
	memset(c, 0xa5, (size_t)cols * rows * sizeof(*c));
	return c;
}

static void test_solid(void **state)
{
	struct pic *p = pic_new(64, 48, 0x123456);
	const int sizes[][2] = {{40, 15}, {7, 3}, {64, 24}, {1, 1}, {200, 60}};
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int cols = sizes[i][0], rows = sizes[i][1];
		struct hb_cell *c = cells_new(cols, rows);
		hb_scale(&p->fb, cols, rows, c);
		for (int k = 0; k < cols * rows; k++) {
			assert_int_equal(c[k].top, 0x123456);
			assert_int_equal(c[k].bottom, 0x123456);
		}
		free(c);
	}
	pic_free(p);
}

static void test_no_picture_is_black(void **state)
{
	struct hb_cell *c = cells_new(5, 4);
	hb_scale(NULL, 5, 4, c);
	for (int k = 0; k < 20; k++)
		assert_true(c[k].top == 0 && c[k].bottom == 0);
	memset(c, 0xa5, 20 * sizeof(*c));
	struct sharedfb none = {0};
	hb_scale(&none, 5, 4, c);
	for (int k = 0; k < 20; k++)
		assert_true(c[k].top == 0 && c[k].bottom == 0);
	free(c);
}

static void test_two_colour_split(void **state)
{
	/* Left red, right blue: 40 columns of 2 pixels each. */
	struct pic *p = pic_new(80, 60, 0xff0000);
	for (int y = 0; y < 60; y++)
		for (int x = 40; x < 80; x++)
			*at(p, x, y) = 0x0000ff;
	struct hb_cell *c = cells_new(40, 15);
	hb_scale(&p->fb, 40, 15, c);
	for (int cy = 0; cy < 15; cy++)
		for (int cx = 0; cx < 40; cx++) {
			uint32_t want = cx < 20 ? 0xff0000 : 0x0000ff;
			assert_int_equal(c[cy * 40 + cx].top, want);
			assert_int_equal(c[cy * 40 + cx].bottom, want);
		}
	/* Top half white, bottom black: 30 half rows of 2 pixels; the
	 * boundary falls between the halves of cell row 7. */
	for (int y = 0; y < 60; y++)
		for (int x = 0; x < 80; x++)
			*at(p, x, y) = y < 30 ? 0xffffff : 0x000000;
	hb_scale(&p->fb, 40, 15, c);
	for (int cy = 0; cy < 15; cy++)
		for (int cx = 0; cx < 40; cx++) {
			const struct hb_cell *e = &c[cy * 40 + cx];
			assert_int_equal(e->top, cy <= 7 ? 0xffffff : 0);
			assert_int_equal(e->bottom, cy < 7 ? 0xffffff : 0);
		}
	/* A checkerboard of single pixels averages to mid grey (127.5 up). */
	for (int y = 0; y < 60; y++)
		for (int x = 0; x < 80; x++)
			*at(p, x, y) = (x + y) & 1 ? 0xffffff : 0x000000;
	hb_scale(&p->fb, 40, 15, c);
	for (int k = 0; k < 40 * 15; k++)
		assert_true(c[k].top == 0x808080 && c[k].bottom == 0x808080);
	free(c);
	pic_free(p);
}

static void test_one_pixel_onto_many_cells(void **state)
{
	struct pic *p = pic_new(1, 1, 0xabcdef);
	struct hb_cell *c = cells_new(30, 12);
	hb_scale(&p->fb, 30, 12, c);
	for (int k = 0; k < 30 * 12; k++)
		assert_true(c[k].top == 0xabcdef && c[k].bottom == 0xabcdef);
	free(c);
	pic_free(p);
}

static void test_odd_sizes_match_reference(void **state)
{
	/* Shrinking, growing, one side each way, and rows longer than the
	 * 256 pixels the packed sum takes at once (bright colours, so that a
	 * carry between channels would show). */
	const int cases[][4] = {{7, 5, 3, 2},	    {333, 201, 17, 9}, {5, 3, 11, 7},
				{640, 480, 40, 15}, {1000, 10, 1, 1},  {1000, 7, 3, 2},
				{720, 400, 80, 22}, {31, 97, 40, 15},  {1, 50, 4, 4},
				{50, 1, 4, 4},	    {257, 1, 1, 1},    {3, 3, 3, 3}};
	srand(8);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const int *k = cases[i];
		struct pic *p = pic_new(k[0], k[1], 0);
		pic_random(p);
		struct hb_cell *c = cells_new(k[2], k[3]);
		hb_scale(&p->fb, k[2], k[3], c);
		check_against_ref(p, k[2], k[3], c);
		/* All white: no carry from blue into red, red into green. */
		for (int y = 0; y < k[1]; y++)
			for (int x = 0; x < k[0]; x++)
				*at(p, x, y) = 0xffffff;
		hb_scale(&p->fb, k[2], k[3], c);
		for (int j = 0; j < k[2] * k[3]; j++)
			assert_true(c[j].top == 0xffffff && c[j].bottom == 0xffffff);
		free(c);
		pic_free(p);
	}
}

static void test_rect_updates_equal_full_rescale(void **state)
{
	const int cases[][4] = {{640, 480, 40, 15}, {333, 201, 17, 9},	 {5, 3, 11, 7},
				{720, 400, 80, 22}, {1024, 768, 53, 20}, {2, 2, 9, 9}};
	srand(80);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const int *k = cases[i];
		int w = k[0], h = k[1], cols = k[2], rows = k[3];
		struct pic *p = pic_new(w, h, 0);
		pic_random(p);
		struct hb_cell *a = cells_new(cols, rows), *b = cells_new(cols, rows);
		hb_scale(&p->fb, cols, rows, a);
		for (int n = 0; n < 40; n++) {
			struct sharedfb_rect r = {(int)(rnd() % (unsigned)w),
						  (int)(rnd() % (unsigned)h), 0, 0};
			r.w = 1 + (int)(rnd() % (unsigned)(w - r.x));
			r.h = 1 + (int)(rnd() % (unsigned)(h - r.y));
			if (n % 5 == 0) /* single pixels too */
				r.w = r.h = 1;
			for (int y = r.y; y < r.y + r.h; y++)
				for (int x = r.x; x < r.x + r.w; x++)
					*at(p, x, y) = rnd() & 0xffffff;
			hb_scale_rect(&p->fb, &r, cols, rows, a);
			hb_scale(&p->fb, cols, rows, b);
			if (memcmp(a, b, (size_t)cols * rows * sizeof(*a)) != 0)
				fail_msg("%dx%d onto %dx%d: after rect %d,%d %dx%d the cells "
					 "differ from a full rescale",
					 w, h, cols, rows, r.x, r.y, r.w, r.h);
		}
		/* A rectangle reaching past the picture is clipped; one wholly
		 * outside changes nothing. */
		memcpy(b, a, (size_t)cols * rows * sizeof(*a));
		struct sharedfb_rect out = {w + 5, h + 5, 10, 10};
		hb_scale_rect(&p->fb, &out, cols, rows, a);
		assert_memory_equal(a, b, (size_t)cols * rows * sizeof(*a));
		for (int x = 0; x < w; x++)
			*at(p, x, h - 1) = 0x00ff00;
		struct sharedfb_rect big = {-100, h - 1, w + 200, 50};
		hb_scale_rect(&p->fb, &big, cols, rows, a);
		hb_scale(&p->fb, cols, rows, b);
		assert_memory_equal(a, b, (size_t)cols * rows * sizeof(*a));
		free(a);
		free(b);
		pic_free(p);
	}
}

static void test_fit_keeps_aspect(void **state)
{
	int c, r;
	hb_fit(640, 480, 40, 15, &c, &r); /* 40 columns, 30 half rows: 4:3 */
	assert_int_equal(c, 40);
	assert_int_equal(r, 15);
	hb_fit(640, 480, 80, 15, &c, &r); /* too wide a box: rows limit */
	assert_int_equal(c, 40);
	assert_int_equal(r, 15);
	hb_fit(720, 400, 80, 24, &c, &r); /* 80 x 44.4 half rows */
	assert_int_equal(c, 80);
	assert_int_equal(r, 22);
	hb_fit(1024, 768, 200, 20, &c, &r);
	assert_int_equal(r, 20);
	assert_int_equal(c, 53);
	hb_fit(100, 1000, 80, 24, &c, &r); /* tall: 48 half rows, 4.8 columns */
	assert_int_equal(r, 24);
	assert_int_equal(c, 5);
	hb_fit(10000, 10, 80, 24, &c, &r); /* very wide: at least one row */
	assert_int_equal(c, 80);
	assert_int_equal(r, 1);
	hb_fit(0, 0, 30, 10, &c, &r); /* no picture: the whole box (black) */
	assert_int_equal(c, 30);
	assert_int_equal(r, 10);
	hb_fit(640, 480, 0, 10, &c, &r);
	assert_int_equal(c, 0);
	assert_int_equal(r, 0);
	/* Never larger than the box, for many sizes. */
	for (int w = 1; w < 3000; w += 97)
		for (int h = 1; h < 2000; h += 89) {
			hb_fit(w, h, 37, 11, &c, &r);
			assert_true(c >= 1 && c <= 37 && r >= 1 && r <= 11);
			assert_true(c == 37 || r == 11);
		}
}

static void test_quantise_256(void **state)
{
	static const int lv[6] = {0, 95, 135, 175, 215, 255};
	for (int r = 0; r < 6; r++)
		for (int g = 0; g < 6; g++)
			for (int b = 0; b < 6; b++) {
				uint32_t rgb = (uint32_t)(lv[r] << 16 | lv[g] << 8 | lv[b]);
				assert_int_equal(hb_rgb_to_256(rgb), 16 + 36 * r + 6 * g + b);
			}
	for (int k = 0; k < 24; k++) {
		unsigned v = 8 + 10u * (unsigned)k;
		assert_int_equal(hb_rgb_to_256(v << 16 | v << 8 | v), 232 + k);
	}
	/* Near colours: a slightly blue cube grey stays in the cube; mid grey
	 * is on the ramp (128 = 8 + 10 * 12); dark red is cube red 1. */
	assert_int_equal(hb_rgb_to_256(0x5f5f60), 16 + 36 + 6 + 1);
	assert_int_equal(hb_rgb_to_256(0x808080), 232 + 12);
	assert_int_equal(hb_rgb_to_256(0x610000), 16 + 36);
	assert_int_equal(hb_rgb_to_256(0x000000), 16);
	assert_int_equal(hb_rgb_to_256(0xffffff), 231);
	/* The VGA's colours: 0xaa is nearer 175 than 135; 0x55 nearer 95. */
	assert_int_equal(hb_rgb_to_256(0x0000aa), 16 + 3);
	assert_int_equal(hb_rgb_to_256(0x5555ff), 16 + 36 + 6 + 5);
}

static void test_quantise_8(void **state)
{
	assert_int_equal(hb_rgb_to_8(0x000000), COLOR_BLACK);
	assert_int_equal(hb_rgb_to_8(0xff0000), COLOR_RED);
	assert_int_equal(hb_rgb_to_8(0x00ff00), COLOR_GREEN);
	assert_int_equal(hb_rgb_to_8(0xffff00), COLOR_YELLOW);
	assert_int_equal(hb_rgb_to_8(0x0000ff), COLOR_BLUE);
	assert_int_equal(hb_rgb_to_8(0xff00ff), COLOR_MAGENTA);
	assert_int_equal(hb_rgb_to_8(0x00ffff), COLOR_CYAN);
	assert_int_equal(hb_rgb_to_8(0xffffff), COLOR_WHITE);
	assert_int_equal(hb_rgb_to_8(0xaa0000), COLOR_RED);
	assert_int_equal(hb_rgb_to_8(0x202020), COLOR_BLACK);
	assert_int_equal(hb_rgb_to_8(0xaaaaaa), COLOR_WHITE);
}

#include "tests/console/fake_term.h"

static void test_draw_256(void **state)
{
	struct fake_term ft;
	if (!fake_terminal(&ft, "xterm-256color", 256))
		skip();
	struct console con = {.colour = true, .colours = COLORS, .unicode = true};
	WINDOW *w = newwin(10, 20, 0, 0);
	struct hb_cell cells[6] = {{0xff0000, 0x0000ff}, {0x000000, 0xffffff},
				   {0x808080, 0x5f87af}, {0x00ff00, 0x00ff00},
				   {0xffff00, 0x000000}, {0x123456, 0x654321}};
	hb_draw(w, 2, 3, 3, 2, cells, &con);
	for (int k = 0; k < 6; k++) {
		wchar_t wc;
		int pair, fg, bg;
		cell_at(w, 2 + k / 3, 3 + k % 3, &wc, &pair);
		assert_int_equal(wc, 0x2580);
		assert_true(pair > 0);
		assert_int_equal(extended_pair_content(pair, &fg, &bg), OK);
		assert_int_equal(fg, hb_rgb_to_256(cells[k].top));
		assert_int_equal(bg, hb_rgb_to_256(cells[k].bottom));
	}
	/* Nothing outside the box. */
	wchar_t wc;
	int pair;
	cell_at(w, 2, 6, &wc, &pair);
	assert_int_equal(wc, L' ');
	cell_at(w, 4, 3, &wc, &pair);
	assert_int_equal(wc, L' ');

	/* Eight colours. */
	con.colours = 8;
	hb_draw(w, 0, 0, 3, 2, cells, &con);
	int fg, bg;
	cell_at(w, 0, 0, &wc, &pair);
	assert_int_equal(extended_pair_content(pair, &fg, &bg), OK);
	assert_int_equal(fg, COLOR_RED);
	assert_int_equal(bg, COLOR_BLUE);

	delwin(w);
	end_terminal(&ft);
}

/* Direct colour (terminfo RGB): the colour numbers are 0xRRGGBB. */
static void test_draw_direct(void **state)
{
	struct fake_term ft;
	if (!fake_terminal(&ft, "xterm-direct", 0x1000000))
		skip();
	struct console con = {
	    .colour = true, .colours = COLORS, .truecolour = true, .unicode = true};
	WINDOW *w = newwin(4, 10, 0, 0);
	struct hb_cell cells[2] = {{0x123456, 0x654321}, {0xfefdfc, 0x010203}};
	hb_draw(w, 1, 1, 2, 1, cells, &con);
	for (int k = 0; k < 2; k++) {
		wchar_t wc;
		int pair, fg, bg;
		cell_at(w, 1, 1 + k, &wc, &pair);
		assert_int_equal(wc, 0x2580);
		assert_int_equal(extended_pair_content(pair, &fg, &bg), OK);
		assert_int_equal(fg, cells[k].top);
		assert_int_equal(bg, cells[k].bottom);
	}
	delwin(w);
	end_terminal(&ft);
}

static void test_draw_monochrome(void **state)
{
	struct fake_term ft;
	if (!fake_terminal(&ft, "vt100", 0))
		skip();
	struct console con = {.colour = false, .unicode = false};
	WINDOW *w = newwin(4, 10, 0, 0);
	struct hb_cell cells[4] = {
	    {0xffffff, 0xffffff}, {0x909090, 0x909090}, {0x404040, 0x404040}, {0, 0}};
	hb_draw(w, 1, 1, 4, 1, cells, &con);
	const wchar_t want[4] = {L'#', L'+', L'.', L' '};
	for (int k = 0; k < 4; k++) {
		wchar_t wc;
		int pair;
		cell_at(w, 1, 1 + k, &wc, &pair);
		assert_int_equal(wc, want[k]);
		assert_int_equal(pair, 0);
	}
	/* Top and bottom mixed: white over black is mid grey. */
	struct hb_cell half = {0xffffff, 0x000000};
	hb_draw(w, 2, 0, 1, 1, &half, &con);
	wchar_t wc;
	int pair;
	cell_at(w, 2, 0, &wc, &pair);
	assert_int_equal(wc, L'+');
	delwin(w);
	end_terminal(&ft);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The thumbnail of a 1024x768 screen into 40x15 cells, every pixel read:
 * well under a millisecond in an optimised build (the sanitizers' build
 * gets a looser bound). */
static void test_speed(void **state)
{
	struct pic *p = pic_new(1024, 768, 0);
	pic_random(p);
	struct hb_cell c[40 * 15];
	double t[21];
	for (int i = 0; i < 21; i++) {
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		hb_scale(&p->fb, 40, 15, c);
		t[i] = ms_since(&t0);
	}
	qsort(t, 21, sizeof(t[0]), cmp_double);
	printf("hb_scale 1024x768 -> 40x15: median %.3f ms\n", t[10]);
	check_against_ref(p, 40, 15, c);
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__)
	assert_true(t[10] < 1.0);
#else
	assert_true(t[10] < 50.0);
#endif
	pic_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_solid),
	    cmocka_unit_test(test_no_picture_is_black),
	    cmocka_unit_test(test_two_colour_split),
	    cmocka_unit_test(test_one_pixel_onto_many_cells),
	    cmocka_unit_test(test_odd_sizes_match_reference),
	    cmocka_unit_test(test_rect_updates_equal_full_rescale),
	    cmocka_unit_test(test_fit_keeps_aspect),
	    cmocka_unit_test(test_quantise_256),
	    cmocka_unit_test(test_quantise_8),
	    cmocka_unit_test(test_draw_256),
	    cmocka_unit_test(test_draw_direct),
	    cmocka_unit_test(test_draw_monochrome),
	    cmocka_unit_test(test_speed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
