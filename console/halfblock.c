/* A VM's screen as text cells: the picture box-filtered onto two pixels per
 * cell, colours quantised for what the terminal takes, and the cells drawn
 * as upper half blocks (or as characters by brightness without them). */
#include "console/halfblock.h"

#include "console/console.h"

#include <string.h>

/* Pixels are summed as 0x00RRGGBB words: red and blue in one 32-bit sum
 * (blue in its low 16 bits, red above), green in another. Blue would carry
 * into red (and red out of the word) past SPAN pixels (255 * 256 < 65536),
 * so runs are cut there. */
#define SPAN 256

/* Four pixels at a time (GCC and Clang vector extensions). */
typedef uint32_t v4u __attribute__((vector_size(16)));

/* The source range [*lo, *hi) that grid line i of n covers on a side of
 * size pixels; at least one pixel when the picture is enlarged. */
static inline void span_of(int i, int n, int size, int *lo, int *hi)
{
	*lo = (int)((long long)i * size / n);
	*hi = (int)((long long)(i + 1) * size / n);
	if (*hi <= *lo)
		*hi = *lo + 1;
}

/* Adds the channels of row[x0..x1) to *r, *g and *b. */
static inline void add_run(const uint32_t *row, int x0, int x1, uint64_t *r, uint64_t *g,
			   uint64_t *b)
{
	for (int x = x0; x < x1;) {
		int end = x + SPAN < x1 ? x + SPAN : x1;
		uint32_t rb = 0, gg = 0;
		v4u vrb = {0}, vgg = {0};
		for (; x + 4 <= end; x += 4) {
			v4u p;
			memcpy(&p, row + x, sizeof(p));
			vrb += p & 0xff00ff;
			vgg += p & 0xff00;
		}
		for (; x < end; x++) {
			rb += row[x] & 0xff00ff;
			gg += row[x] & 0xff00;
		}
		rb += vrb[0] + vrb[1] + vrb[2] + vrb[3];
		gg += vgg[0] + vgg[1] + vgg[2] + vgg[3];
		*b += rb & 0xffff;
		*r += rb >> 16;
		*g += gg >> 8;
	}
}

static uint32_t average(uint64_t r, uint64_t g, uint64_t b, uint64_t n)
{
	r = (r + n / 2) / n;
	g = (g + n / 2) / n;
	b = (b + n / 2) / n;
	return (uint32_t)(r << 16 | g << 8 | b);
}

static bool has_picture(const struct sharedfb *fb)
{
	return fb && fb->pixels && fb->width > 0 && fb->height > 0;
}

/* Cells [cx0, cx1) of half rows [hy0, hy1) (two per cell row): the pixels
 * are read row by row, CHUNK cells at a time. */
static void scale_part(const struct sharedfb *fb, int cols, int rows, int cx0, int cx1, int hy0,
		       int hy1, struct hb_cell *out)
{
	enum { CHUNK = 64 };
	int xlo[CHUNK], xhi[CHUNK];
	uint64_t sr[CHUNK], sg[CHUNK], sb[CHUNK];
	for (int c0 = cx0; c0 < cx1; c0 += CHUNK) {
		int nc = cx1 - c0 < CHUNK ? cx1 - c0 : CHUNK;
		for (int i = 0; i < nc; i++)
			span_of(c0 + i, cols, fb->width, &xlo[i], &xhi[i]);
		for (int hy = hy0; hy < hy1; hy++) {
			int y0, y1;
			span_of(hy, 2 * rows, fb->height, &y0, &y1);
			memset(sr, 0, sizeof(sr));
			memset(sg, 0, sizeof(sg));
			memset(sb, 0, sizeof(sb));
			for (int y = y0; y < y1; y++) {
				const uint32_t *row =
				    (const uint32_t *)(fb->pixels + (size_t)y * fb->stride);
				for (int i = 0; i < nc; i++)
					add_run(row, xlo[i], xhi[i], &sr[i], &sg[i], &sb[i]);
			}
			struct hb_cell *line = out + (size_t)(hy / 2) * cols + c0;
			for (int i = 0; i < nc; i++) {
				uint64_t n = (uint64_t)(xhi[i] - xlo[i]) * (uint64_t)(y1 - y0);
				uint32_t c = average(sr[i], sg[i], sb[i], n);
				if (hy & 1)
					line[i].bottom = c;
				else
					line[i].top = c;
			}
		}
	}
}

void hb_scale(const struct sharedfb *fb, int cols, int rows, struct hb_cell *out)
{
	if (cols <= 0 || rows <= 0)
		return;
	if (!has_picture(fb)) {
		memset(out, 0, (size_t)cols * rows * sizeof(*out));
		return;
	}
	scale_part(fb, cols, rows, 0, cols, 0, 2 * rows, out);
}

/* The grid lines (of n over size pixels) whose ranges meet [lo, hi):
 * [*first, *last). Both ends of the ranges grow with the line, so these
 * lines are consecutive; the search starts from an estimate. */
static void lines_meeting(int lo, int hi, int n, int size, int *first, int *last)
{
	int i = (int)((long long)lo * n / size), a, b;
	if (i >= n)
		i = n - 1;
	while (i > 0 && (span_of(i - 1, n, size, &a, &b), b > lo))
		i--;
	while (i < n && (span_of(i, n, size, &a, &b), b <= lo))
		i++;
	*first = i;
	while (i < n && (span_of(i, n, size, &a, &b), a < hi))
		i++;
	*last = i;
}

void hb_scale_rect(const struct sharedfb *fb, const struct sharedfb_rect *r, int cols, int rows,
		   struct hb_cell *out)
{
	if (cols <= 0 || rows <= 0 || !r)
		return;
	if (!has_picture(fb)) {
		memset(out, 0, (size_t)cols * rows * sizeof(*out));
		return;
	}
	long long x0 = r->x < 0 ? 0 : r->x, y0 = r->y < 0 ? 0 : r->y;
	long long x1 = (long long)r->x + r->w, y1 = (long long)r->y + r->h;
	if (x1 > fb->width)
		x1 = fb->width;
	if (y1 > fb->height)
		y1 = fb->height;
	if (x0 >= x1 || y0 >= y1)
		return;
	int cx0, cx1, hy0, hy1;
	lines_meeting((int)x0, (int)x1, cols, fb->width, &cx0, &cx1);
	lines_meeting((int)y0, (int)y1, 2 * rows, fb->height, &hy0, &hy1);
	scale_part(fb, cols, rows, cx0, cx1, hy0, hy1, out);
}

void hb_fit(int width, int height, int max_cols, int max_rows, int *cols, int *rows)
{
	if (max_cols <= 0 || max_rows <= 0) {
		*cols = *rows = 0;
		return;
	}
	if (width <= 0 || height <= 0) {
		*cols = max_cols;
		*rows = max_rows;
		return;
	}
	/* A cell is one picture column wide and two rows high. */
	long long c = max_cols;
	long long r = (c * height + width) / (2ll * width);
	if (r > max_rows) {
		r = max_rows;
		c = (r * 2 * width + height / 2) / height;
		if (c > max_cols)
			c = max_cols;
	}
	*cols = c < 1 ? 1 : (int)c;
	*rows = r < 1 ? 1 : (int)r;
}

/* --- colours -------------------------------------------------------------- */

static const int cube_level[6] = {0, 95, 135, 175, 215, 255};

static int cube_index(int v)
{
	return v < 48 ? 0 : v < 115 ? 1 : (v - 35) / 40;
}

static int sq(int v)
{
	return v * v;
}

int hb_rgb_to_256(uint32_t rgb)
{
	int r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
	int ri = cube_index(r), gi = cube_index(g), bi = cube_index(b);
	int cube_d = sq(r - cube_level[ri]) + sq(g - cube_level[gi]) + sq(b - cube_level[bi]);
	/* The grey nearest the colour is the one nearest its mean. */
	int mean = (r + g + b + 1) / 3;
	int k = (mean - 8 + 5) / 10;
	k = mean < 8 ? 0 : k > 23 ? 23 : k;
	int grey = 8 + 10 * k;
	int grey_d = sq(r - grey) + sq(g - grey) + sq(b - grey);
	if (grey_d < cube_d)
		return 232 + k;
	return 16 + 36 * ri + 6 * gi + bi;
}

int hb_rgb_to_8(uint32_t rgb)
{
	/* xterm's normal colours, in COLOR_BLACK..COLOR_WHITE order. */
	static const uint32_t basic[8] = {0x000000, 0xcd0000, 0x00cd00, 0xcdcd00,
					  0x0000ee, 0xcd00cd, 0x00cdcd, 0xe5e5e5};
	int r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
	int best = 0, best_d = 1 << 30;
	for (int i = 0; i < 8; i++) {
		int d = sq(r - (int)(basic[i] >> 16 & 0xff)) + sq(g - (int)(basic[i] >> 8 & 0xff)) +
			sq(b - (int)(basic[i] & 0xff));
		if (d < best_d) {
			best_d = d;
			best = i;
		}
	}
	return best;
}

/* --- drawing -------------------------------------------------------------- */

#define UPPER_HALF_BLOCK 0x2580

static int colour_number(uint32_t rgb, const struct console *con)
{
	if (con->truecolour)
		return (int)(rgb & 0xffffff);
	if (con->colours >= 256)
		return hb_rgb_to_256(rgb);
	return hb_rgb_to_8(rgb);
}

static unsigned luma(uint32_t rgb)
{
	return (299 * ((rgb >> 16) & 0xff) + 587 * ((rgb >> 8) & 0xff) + 114 * (rgb & 0xff)) / 1000;
}

static wchar_t shade(unsigned l)
{
	return l >= 170 ? L'#' : l >= 100 ? L'+' : l >= 40 ? L'.' : L' ';
}

static uint32_t mix(uint32_t a, uint32_t b)
{
	return ((a & 0xfefefe) >> 1) + ((b & 0xfefefe) >> 1) + (a & b & 0x010101);
}

static void make_cell(cchar_t *cc, const struct hb_cell *c, const struct console *con)
{
	bool colour = con && con->colour && con->colours >= 8;
	bool blocks = con && con->unicode;
	wchar_t wc[2] = {UPPER_HALF_BLOCK, 0};
	int pair = 0;
	if (blocks && colour) {
		pair = alloc_pair(colour_number(c->top, con), colour_number(c->bottom, con));
	} else {
		uint32_t avg = mix(c->top, c->bottom);
		wc[0] = shade(luma(avg));
		if (colour)
			pair = alloc_pair(colour_number(avg, con), colour_number(0, con));
	}
	if (pair < 0)
		pair = 0;
	setcchar(cc, wc, A_NORMAL, 0, &pair);
}

void hb_draw(WINDOW *w, int y, int x, int cols, int rows, const struct hb_cell *cells,
	     const struct console *con)
{
	enum { CHUNK = 128 };
	cchar_t line[CHUNK + 1];
	for (int r = 0; r < rows; r++) {
		for (int c0 = 0; c0 < cols; c0 += CHUNK) {
			int n = cols - c0 < CHUNK ? cols - c0 : CHUNK;
			for (int i = 0; i < n; i++)
				make_cell(&line[i], &cells[(size_t)r * cols + c0 + i], con);
			memset(&line[n], 0, sizeof(line[n]));
			mvwadd_wchnstr(w, y + r, x + c0, line, n);
		}
	}
}
