/* The VM's text screen for the in-terminal Connect view: display-text's
 * answer checked and decoded, attribute colours chosen for the terminal,
 * and the cells drawn (connect_text.h). */
#include "console/connect_text.h"
#include "console/console.h"
#include "console/halfblock.h"
#include "hypervisor/bytes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint32_t vga_palette[16] = {
    0x000000, 0x0000aa, 0x00aa00, 0x00aaaa, 0xaa0000, 0xaa00aa, 0xaa5500, 0xaaaaaa,
    0x555555, 0x5555ff, 0x55ff55, 0x55ffff, 0xff5555, 0xff55ff, 0xffff55, 0xffffff,
};

/* The 16 colours of a 16-colour terminal, in ANSI order, as the VGA
 * shows the same colours: the VGA's default palette comes out exact. */
static const uint32_t ansi16[16] = {
    0x000000, 0xaa0000, 0x00aa00, 0xaa5500, 0x0000aa, 0xaa00aa, 0x00aaaa, 0xaaaaaa,
    0x555555, 0xff5555, 0x55ff55, 0xffff55, 0x5555ff, 0xff55ff, 0x55ffff, 0xffffff,
};

#define BLANK_ATTR 0x07

/* --- parsing -------------------------------------------------------------- */

/* One code point from s (at most n bytes): its length in *len (>= 1), and
 * U+FFFD for a malformed, overlong or surrogate sequence. */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *len)
{
	unsigned c = s[0];
	unsigned need;
	uint32_t cp, min;
	*len = 1;
	if (c < 0x80)
		return c;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1, cp = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2, cp = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3, cp = c & 0x07, min = 0x10000;
	} else {
		return 0xfffd;
	}
	if (n < need + 1)
		return 0xfffd;
	for (unsigned i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0xfffd;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	*len = need + 1;
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0xfffd;
	return cp;
}

/* Characters a terminal would act on rather than show. */
static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x2028 || cp == 0x2029 ||
	       (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

static void parse_line(uint32_t *chars, int cols, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	int x = 0;
	while (n && x < cols) {
		size_t len;
		uint32_t cp = utf8_next((const unsigned char *)s, n, &len);
		chars[x++] = is_control(cp) ? ' ' : cp;
		s += len;
		n -= len;
	}
	while (x < cols)
		chars[x++] = ' ';
}

static void parse_attrs(uint8_t *attrs, int cols, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	for (int x = 0; x < cols; x++) {
		int hi = (size_t)x * 2 + 1 < n ? hex_digit_value(s[x * 2]) : -1;
		int lo = hi >= 0 ? hex_digit_value(s[x * 2 + 1]) : -1;
		attrs[x] = lo >= 0 ? (uint8_t)(hi << 4 | lo) : BLANK_ATTR;
	}
}

static uint32_t parse_colour(json_t *v, uint32_t dflt)
{
	const char *s = json_string_value(v);
	if (!s || s[0] != '#' || strlen(s) != 7)
		return dflt;
	uint32_t rgb = 0;
	for (int i = 1; i < 7; i++) {
		int h = hex_digit_value(s[i]);
		if (h < 0)
			return dflt;
		rgb = rgb << 4 | (uint32_t)h;
	}
	return rgb;
}

static bool get_int(json_t *obj, const char *key, long long lo, long long hi, int *out)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return false;
	*out = (int)json_integer_value(v);
	return true;
}

int conn_text_parse(struct conn_text *t, json_t *ret, char *err, size_t errlen)
{
	struct conn_text n = {0};
	if (!json_is_object(ret) || !get_int(ret, "cols", 1, CONN_TEXT_MAX_COLS, &n.cols) ||
	    !get_int(ret, "rows", 1, CONN_TEXT_MAX_ROWS, &n.rows)) {
		snprintf(err, errlen, "the VM's text screen has no size, or one over %dx%d",
			 CONN_TEXT_MAX_COLS, CONN_TEXT_MAX_ROWS);
		return -EINVAL;
	}
	size_t cells = (size_t)n.cols * (size_t)n.rows;
	n.chars = malloc(cells * sizeof(*n.chars));
	n.attrs = malloc(cells);
	if (!n.chars || !n.attrs) {
		free(n.chars);
		free(n.attrs);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	json_t *lines = json_object_get(ret, "lines"), *attrs = json_object_get(ret, "attrs");
	for (int y = 0; y < n.rows; y++) {
		parse_line(n.chars + (size_t)y * n.cols, n.cols,
			   json_string_value(json_array_get(lines, (size_t)y)));
		parse_attrs(n.attrs + (size_t)y * n.cols, n.cols,
			    json_string_value(json_array_get(attrs, (size_t)y)));
	}
	json_t *pal = json_object_get(ret, "palette");
	for (int i = 0; i < 16; i++)
		n.palette[i] = parse_colour(json_array_get(pal, (size_t)i), vga_palette[i]);
	json_t *blink = json_object_get(ret, "blink");
	n.blink = json_is_boolean(blink) ? json_is_true(blink) : true;
	json_t *cur = json_object_get(ret, "cursor");
	n.cur_visible = json_is_true(json_object_get(cur, "visible")) &&
			get_int(cur, "x", 0, n.cols - 1, &n.cur_x) &&
			get_int(cur, "y", 0, n.rows - 1, &n.cur_y);
	if (!n.cur_visible)
		n.cur_x = n.cur_y = 0;
	conn_text_free(t);
	*t = n;
	return 0;
}

void conn_text_free(struct conn_text *t)
{
	free(t->chars);
	free(t->attrs);
	t->chars = NULL;
	t->attrs = NULL;
	t->cols = t->rows = 0;
}

/* --- colours -------------------------------------------------------------- */

void conn_text_attr_colours(uint8_t attr, bool blink_mode, int *fg, int *bg, bool *blinks)
{
	*fg = attr & 0x0f;
	*bg = blink_mode ? (attr >> 4) & 0x07 : attr >> 4;
	*blinks = blink_mode && (attr & 0x80);
}

static unsigned dist2(uint32_t a, uint32_t b)
{
	int dr = (int)(a >> 16 & 0xff) - (int)(b >> 16 & 0xff);
	int dg = (int)(a >> 8 & 0xff) - (int)(b >> 8 & 0xff);
	int db = (int)(a & 0xff) - (int)(b & 0xff);
	return (unsigned)(dr * dr + dg * dg + db * db);
}

int conn_text_rgb_to_16(uint32_t rgb)
{
	int best = 0;
	for (int i = 1; i < 16; i++) {
		if (dist2(rgb, ansi16[i]) < dist2(rgb, ansi16[best]))
			best = i;
	}
	return best;
}

static unsigned luma(uint32_t rgb)
{
	return (rgb >> 16 & 0xff) * 299 + (rgb >> 8 & 0xff) * 587 + (rgb & 0xff) * 114;
}

/* The terminal's colour number for rgb. */
static int colour_number(const struct console *con, uint32_t rgb, bool *bold)
{
	if (con->truecolour)
		return (int)rgb;
	if (con->colours >= 256)
		return hb_rgb_to_256(rgb);
	if (con->colours >= 16)
		return conn_text_rgb_to_16(rgb);
	int c = hb_rgb_to_8(rgb);
	if (bold)
		*bold = luma(rgb) > luma(ansi16[c]) + 40000;
	return c;
}

void conn_text_colours_update(struct conn_text_colours *c, const struct conn_text *t,
			      const struct console *con)
{
	if (c->valid && c->blink == t->blink && !memcmp(c->palette, t->palette, sizeof(c->palette)))
		return;
	memcpy(c->palette, t->palette, sizeof(c->palette));
	c->blink = t->blink;
	c->valid = true;
	for (int a = 0; a < 256; a++) {
		int fg, bg;
		bool blinks, bold = false;
		conn_text_attr_colours((uint8_t)a, t->blink, &fg, &bg, &blinks);
		attr_t at = blinks ? A_BLINK : A_NORMAL;
		int f = -1, b = -1;
		if (con->colour) {
			f = colour_number(con, t->palette[fg], &bold);
			b = colour_number(con, t->palette[bg], NULL);
			if (bold)
				at |= A_BOLD;
		} else {
			/* Light on dark as the terminal's own, dark on light
			 * reversed, bright foregrounds bold. */
			if (luma(t->palette[bg]) > luma(t->palette[fg]))
				at |= A_REVERSE;
			if (fg >= 8)
				at |= A_BOLD;
		}
		c->fg[a] = f;
		c->bg[a] = b;
		c->attr[a] = at;
	}
}

/* --- drawing -------------------------------------------------------------- */

int conn_text_pair(const struct conn_text_colours *c, int attr)
{
	if (attr < 0 || attr > 255 || c->fg[attr] < 0)
		return 0;
	int pair = alloc_pair(c->fg[attr], c->bg[attr]);
	return pair < 0 ? 0 : pair;
}

int conn_text_ascii(uint32_t cp)
{
	/* Box drawing's horizontal and vertical lines; the rest are corners
	 * and crossings. */
	static const uint16_t horizontal[] = {0x2500, 0x2501, 0x2504, 0x2505, 0x2508,
					      0x2509, 0x254c, 0x254d, 0x2550, 0x2574,
					      0x2576, 0x2578, 0x257a, 0x257c, 0x257e};
	static const uint16_t vertical[] = {0x2502, 0x2503, 0x2506, 0x2507, 0x250a,
					    0x250b, 0x254e, 0x254f, 0x2551, 0x2575,
					    0x2577, 0x2579, 0x257b, 0x257d, 0x257f};
	if (cp >= 0x20 && cp < 0x7f)
		return (int)cp;
	if (cp == 0xa0)
		return ' ';
	if (cp >= 0x2500 && cp <= 0x257f) {
		for (size_t i = 0; i < sizeof(horizontal) / sizeof(horizontal[0]); i++) {
			if (cp == horizontal[i])
				return '-';
			if (cp == vertical[i])
				return '|';
		}
		return '+';
	}
	if (cp >= 0x2580 && cp <= 0x259f)
		return '#';
	return '?';
}

/* First source index and count shown of n cells in room, and where they
 * go: all centred when they fit, else room of them with want inside. */
static void span(int n, int room, int want, int *first, int *count, int *at)
{
	if (n <= room) {
		*first = 0;
		*count = n;
		*at = (room - n) / 2;
		return;
	}
	int f = want >= room ? want - room + 1 : 0;
	if (f > n - room)
		f = n - room;
	*first = f;
	*count = room;
	*at = 0;
}

bool conn_text_draw(const struct conn_text *t, const struct conn_text_colours *c, WINDOW *win,
		    int top, int h, int w, bool unicode)
{
	if (!t->chars || h <= 0 || w <= 0)
		return false;
	int y0, ny, oy, x0, nx, ox;
	span(t->rows, h, t->cur_visible ? t->cur_y : 0, &y0, &ny, &oy);
	span(t->cols, w, t->cur_visible ? t->cur_x : 0, &x0, &nx, &ox);
	/* Pairs looked up for each draw: alloc_pair may give a pair that was
	 * not used for a while (the thumbnail's half blocks use many) to
	 * other colours. */
	int pair[256];
	for (int a = 0; a < 256; a++)
		pair[a] = -1;
	for (int y = 0; y < ny; y++) {
		const uint32_t *ch = t->chars + (size_t)(y0 + y) * t->cols + x0;
		const uint8_t *at = t->attrs + (size_t)(y0 + y) * t->cols + x0;
		for (int x = 0; x < nx; x++) {
			wchar_t wc[2] = {(wchar_t)ch[x], L'\0'};
			if (!unicode || wcwidth(wc[0]) != 1)
				wc[0] =
				    (wchar_t)(unicode && ch[x] >= 0x80 ? '?'
								       : conn_text_ascii(ch[x]));
			cchar_t cc;
			int a = at[x];
			if (pair[a] < 0)
				pair[a] = conn_text_pair(c, a);
			setcchar(&cc, wc, c->attr[a], 0, &pair[a]);
			mvwadd_wch(win, top + oy + y, ox + x, &cc);
		}
	}
	if (!t->cur_visible || t->cur_y < y0 || t->cur_y >= y0 + ny || t->cur_x < x0 ||
	    t->cur_x >= x0 + nx)
		return false;
	wmove(win, top + oy + t->cur_y - y0, ox + t->cur_x - x0);
	return true;
}
