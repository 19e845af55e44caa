/* VGA text modes driven the way the VGA BIOS drives them: mode 3 from the
 * BIOS's register table, a font loaded into plane 2, characters and
 * attributes at 0xB8000; the surface is checked pixel for pixel (glyphs,
 * 9th column, DAC colours, blink, cursor, fonts A/B, 40 and 80x50 columns),
 * and the text snapshot, the cells with their colours (display-text) and
 * dirty tracking are checked. */
#include "tests/devices/vga_driver.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#define TEXT (WIN + 0x18000) /* 0xB8000 */

/* What the test wrote: character and attribute per cell. */
struct screen {
	unsigned cols, rows, cheight, cwidth;
	bool dclk2;
	uint8_t ch[50][80], at[50][80];
	const uint8_t *actl;
	int cursor_col, cursor_row; /* -1: none */
	unsigned cs, ce;
	unsigned font_seed[2]; /* map B (attribute bit 3 clear), map A */
};

static void put(struct vt *t, struct screen *sc, unsigned row, unsigned col, uint8_t ch, uint8_t at)
{
	hmmio_write(&t->h, TEXT + 2 * (row * sc->cols + col), (uint64_t)at << 8 | ch, 2);
	sc->ch[row][col] = ch;
	sc->at[row][col] = at;
}

static void puts_at(struct vt *t, struct screen *sc, unsigned row, unsigned col, const char *s,
		    uint8_t at)
{
	for (; *s; s++)
		put(t, sc, row, col++, (uint8_t)*s, at);
}

static void clear(struct vt *t, struct screen *sc)
{
	for (unsigned i = 0; i < 0x4000; i++)
		hmmio_write(&t->h, TEXT + 2 * i, 0x0720, 2);
	for (unsigned r = 0; r < 50; r++)
		for (unsigned c = 0; c < 80; c++) {
			sc->ch[r][c] = ' ';
			sc->at[r][c] = 0x07;
		}
}

static uint32_t expected(const struct screen *sc, unsigned x, unsigned y)
{
	unsigned dot = sc->dclk2 ? x / 2 : x;
	unsigned col = dot / sc->cwidth, b = dot % sc->cwidth;
	unsigned row = y / sc->cheight, r = y % sc->cheight;
	uint8_t ch = sc->ch[row][col], at = sc->at[row][col];
	unsigned glyph = vt_glyph(ch + sc->font_seed[(at >> 3) & 1], r);
	bool cursor =
	    (int)row == sc->cursor_row && (int)col == sc->cursor_col && r >= sc->cs && r <= sc->ce;
	if (cursor)
		glyph = 0xff;
	bool on;
	if (b < 8)
		on = (glyph >> (7 - b)) & 1;
	else /* line graphics repeat the 8th dot; the cursor fills the cell */
		on = ((ch >= 0xc0 && ch <= 0xdf) || cursor) && (glyph & 1);
	unsigned fg = at & 0x0f, bg = (at >> 4) & 0x07; /* bit 7 blinks */
	return vt_ega(sc->actl[on ? fg : bg]);
}

static void check_screen(struct vt *t, const struct screen *sc)
{
	struct display_view v;
	display_lock(t->s, &v);
	assert_int_equal(v.width, sc->cols * sc->cwidth * (sc->dclk2 ? 2 : 1));
	assert_int_equal(v.height, sc->rows * sc->cheight);
	for (unsigned y = 0; y < v.height; y++)
		for (unsigned x = 0; x < v.width; x++) {
			uint32_t want = expected(sc, x, y);
			if (v.pixels[y * v.width + x] != want) {
				display_unlock(t->s);
				fail_msg("pixel (%u,%u) is %06x, want %06x", x, y,
					 v.pixels[y * v.width + x], want);
			}
		}
	display_unlock(t->s);
}

static struct vt *mode3(struct screen *sc)
{
	struct vt *t = vt_new(NULL);
	vt_load_ega_palette(t);
	vt_set_mode(t, &vt_mode3);
	memset(sc, 0, sizeof(*sc));
	sc->cols = 80;
	sc->rows = 25;
	sc->cheight = 16;
	sc->cwidth = 9;
	sc->actl = vt_mode3.actl;
	sc->cursor_col = sc->cursor_row = -1;
	clear(t, sc);
	vt_load_font(t, 0, 16, 0);
	/* The BIOS hides the cursor until it places it. */
	vt_crtc(t, 0x0a, 0x20);
	return t;
}

static void set_cursor(struct vt *t, struct screen *sc, int row, int col, unsigned cs, unsigned ce)
{
	unsigned addr = (unsigned)(row * (int)sc->cols + col);
	vt_crtc(t, 0x0e, (uint8_t)(addr >> 8));
	vt_crtc(t, 0x0f, (uint8_t)addr);
	vt_crtc(t, 0x0a, (uint8_t)cs);
	vt_crtc(t, 0x0b, (uint8_t)ce);
	sc->cursor_row = row;
	sc->cursor_col = col;
	sc->cs = cs;
	sc->ce = ce;
}

static void test_mode3_text(void **state)
{
	struct screen sc;
	struct vt *t = mode3(&sc);
	puts_at(t, &sc, 0, 0, "SeaBIOS (version osio)", 0x07);
	puts_at(t, &sc, 2, 3, "Hello, VGA", 0x1f);
	puts_at(t, &sc, 3, 0, "blink", 0x9e); /* blinking yellow on blue, shown steadily */
	for (unsigned c = 0; c < 20; c++)
		put(t, &sc, 5, c, (uint8_t)(0xc0 + c), 0x4a); /* box drawing: 9th column */
	for (unsigned c = 0; c < 16; c++)
		put(t, &sc, 6, c, (uint8_t)(0xb0 + c), (uint8_t)(c << 4 | (15 - c)));
	put(t, &sc, 24, 79, 'Z', 0x70);
	set_cursor(t, &sc, 2, 13, 0x0d, 0x0e);
	vt_refresh(t);
	check_screen(t, &sc);

	char buf[4096];
	unsigned cols, rows;
	assert_int_equal(vga_text_snapshot(t->vga, buf, sizeof(buf), &cols, &rows), 0);
	assert_int_equal(cols, 80);
	assert_int_equal(rows, 25);
	const char *want = "SeaBIOS (version osio)\n\n   Hello, VGA\nblink\n\n"
			   "++++-++++++++-++++++\n###|++++++|+++++\n";
	assert_memory_equal(buf, want, strlen(want));
	const char *last = buf + strlen(buf) - 82; /* the newline before row 24 */
	assert_memory_equal(last, "\n", 1);
	assert_string_equal(last + 1 + 79, "Z\n");
	vt_free(t);
}

static void test_cursor(void **state)
{
	struct screen sc;
	struct vt *t = mode3(&sc);
	puts_at(t, &sc, 10, 0, "cursor here", 0x07);
	set_cursor(t, &sc, 10, 6, 0x0d, 0x0e);
	vt_refresh(t);
	check_screen(t, &sc);
	/* Moved: the old cell is itself again. */
	set_cursor(t, &sc, 11, 0, 0x00, 0x0f); /* block cursor */
	vt_refresh(t);
	check_screen(t, &sc);
	/* The end past the character height stops at its last line. */
	set_cursor(t, &sc, 11, 1, 0x0e, 0x1f);
	sc.ce = 15;
	vt_refresh(t);
	check_screen(t, &sc);
	/* Disabled (bit 5), or start after end: no cursor. */
	vt_crtc(t, 0x0a, 0x20 | 0x0d);
	sc.cursor_row = -1;
	vt_refresh(t);
	check_screen(t, &sc);
	vt_crtc(t, 0x0a, 0x0e);
	vt_crtc(t, 0x0b, 0x0d);
	vt_refresh(t);
	check_screen(t, &sc);
	vt_free(t);
}

static void test_80x50(void **state)
{
	struct screen sc;
	struct vt *t = mode3(&sc);
	/* int 10h AX=1112h: the 8-line font and 8 scan lines per row. */
	vt_load_font(t, 0, 8, 3);
	sc.font_seed[0] = sc.font_seed[1] = 3;
	vt_crtc(t, 0x09, (uint8_t)((vt_crtc_read(t, 0x09) & ~0x1f) | 7));
	sc.cheight = 8;
	sc.rows = 50;
	puts_at(t, &sc, 0, 0, "top", 0x07);
	puts_at(t, &sc, 49, 70, "bottom", 0x2f);
	vt_refresh(t);
	check_screen(t, &sc);
	char buf[8192];
	unsigned cols, rows;
	assert_int_equal(vga_text_snapshot(t->vga, buf, sizeof(buf), &cols, &rows), 0);
	assert_int_equal(rows, 50);
	char want[96];
	snprintf(want, sizeof(want), "\n%70sbottom\n", "");
	assert_non_null(strstr(buf, want));
	vt_free(t);
}

static void test_40_columns(void **state)
{
	struct screen sc;
	struct vt *t = mode3(&sc);
	vt_set_mode(t, &vt_mode1);
	vt_crtc(t, 0x0a, 0x20);
	sc.cols = 40;
	sc.dclk2 = true; /* 9-dot characters at half the dot clock: 18 pixels */
	clear(t, &sc);
	puts_at(t, &sc, 0, 0, "forty columns", 0x0e);
	puts_at(t, &sc, 24, 39, "x", 0x71);
	vt_refresh(t);
	check_screen(t, &sc);
	vt_free(t);
}

static void test_font_maps(void **state)
{
	struct screen sc;
	struct vt *t = mode3(&sc);
	/* Font A in map 1 (plane 2 at 16 KiB): attribute bit 3 selects it. */
	vt_load_font(t, 0x4000, 16, 77);
	vt_seq(t, 0x03, 0x04);
	sc.font_seed[1] = 77;
	puts_at(t, &sc, 0, 0, "font B", 0x07);
	puts_at(t, &sc, 1, 0, "font A", 0x0f);
	vt_refresh(t);
	check_screen(t, &sc);
	/* Both maps the same again. */
	vt_seq(t, 0x03, 0x00);
	sc.font_seed[1] = 0;
	vt_refresh(t);
	check_screen(t, &sc);
	/* A new font in the map in use redraws everything. */
	vt_load_font(t, 0, 16, 5);
	sc.font_seed[0] = sc.font_seed[1] = 5;
	vt_refresh(t);
	check_screen(t, &sc);
	vt_free(t);
}

static void test_palette_changes(void **state)
{
	struct screen sc;
	struct vt *t = mode3(&sc);
	puts_at(t, &sc, 0, 0, "colours", 0x1e);
	vt_refresh(t);
	/* The 9th column of 'c' is background: palette register 1, DAC 1. */
	assert_int_equal(vt_px(t, 8, 0), vt_ega(1));
	vt_dac(t, 1, 0x3f, 0x00, 0x00);
	vt_refresh(t);
	assert_int_equal(vt_px(t, 8, 0), 0xff0000);
	/* The attribute controller's palette register redirects colour 1. */
	vt_attr(t, 0x01, 0x02);
	vt_refresh(t);
	assert_int_equal(vt_px(t, 8, 0), vt_ega(2));
	/* PEL mask: DAC index & mask. */
	houtb(&t->h, 0x3c6, 0x00);
	vt_refresh(t);
	assert_int_equal(vt_px(t, 8, 0), vt_ega(0));
	assert_int_equal(hinb(&t->h, 0x3c6), 0x00);
	houtb(&t->h, 0x3c6, 0xff);
	/* Colour select bits 3-2 give DAC index bits 7-6. */
	vt_attr(t, 0x14, 0x04);
	vt_dac(t, 0x42, 0x10, 0x20, 0x30);
	vt_refresh(t);
	assert_int_equal(vt_px(t, 8, 0), vt_rgb6(0x10, 0x20, 0x30));
	/* With P5-P4 select, colour select bits 1-0 replace palette bits 5-4. */
	vt_attr(t, 0x10, (uint8_t)(vt_attr_read(t, 0x10) | 0x80));
	vt_attr(t, 0x01, 0x32);
	vt_attr(t, 0x14, 0x01);
	vt_refresh(t);
	assert_int_equal(vt_px(t, 8, 0), vt_ega(0x12));
	vt_attr(t, 0x14, 0x00);
	vt_refresh(t);
	assert_int_equal(vt_px(t, 8, 0), vt_ega(0x02));
	/* Blanked (palette address source off): black, same size. */
	vt_attr_index(t, 0x00);
	vt_refresh(t);
	vt_assert_size(t, 720, 400);
	assert_int_equal(vt_px(t, 0, 0), 0);
	assert_int_equal(vt_px(t, 719, 399), 0);
	vt_attr_index(t, 0x20);
	vt_seq(t, 0x01, 0x20 | vt_seq_read(t, 0x01)); /* screen off */
	vt_refresh(t);
	assert_int_equal(vt_px(t, 0, 0), 0);
	vt_free(t);
}

static void test_underline_mono(void **state)
{
	struct screen sc;
	struct vt *t = mode3(&sc);
	vt_attr(t, 0x10, 0x0e); /* monochrome emulation */
	vt_crtc(t, 0x14, 0x0d); /* underline on scan line 13 */
	puts_at(t, &sc, 0, 0, "u", 0x01);
	puts_at(t, &sc, 0, 1, "n", 0x07);
	vt_refresh(t);
	uint32_t fg = vt_ega(vt_mode3.actl[1]);
	for (unsigned x = 0; x < 9; x++)
		assert_int_equal(vt_px(t, x, 13), fg);
	/* Attribute 07 has no underline. */
	unsigned g = vt_glyph('n', 13);
	for (unsigned x = 0; x < 8; x++)
		assert_int_equal(vt_px(t, 9 + x, 13),
				 vt_ega(vt_mode3.actl[(g >> (7 - x)) & 1 ? 7 : 0]));
	vt_free(t);
}

static void test_start_address_and_split(void **state)
{
	struct screen sc;
	struct vt *t = mode3(&sc);
	/* Rows 0-25 in memory; row 25 is just below the visible page. */
	for (unsigned r = 0; r < 26; r++) {
		char line[16];
		snprintf(line, sizeof(line), "row %02u", r);
		for (unsigned i = 0; line[i]; i++)
			hmmio_write(&t->h, TEXT + 2 * (r * 80 + i), 0x0700 | (uint8_t)line[i], 2);
	}
	/* Scrolled by one row: the start address counts characters. */
	vt_crtc(t, 0x0c, 0);
	vt_crtc(t, 0x0d, 80);
	vt_refresh(t);
	char buf[4096];
	assert_int_equal(vga_text_snapshot(t->vga, buf, sizeof(buf), NULL, NULL), 0);
	assert_int_equal(strncmp(buf, "row 01\n", 7), 0);
	assert_non_null(strstr(buf, "row 24\nrow 25\n"));
	unsigned gr = vt_glyph('r', 0), g0 = vt_glyph('0', 0), g1 = vt_glyph('1', 0);
	for (unsigned x = 0; x < 8; x++) {
		assert_int_equal(vt_px(t, x, 0),
				 vt_ega(vt_mode3.actl[(gr >> (7 - x)) & 1 ? 7 : 0]));
		assert_int_equal(vt_px(t, 5 * 9 + x, 0),
				 vt_ega(vt_mode3.actl[(g1 >> (7 - x)) & 1 ? 7 : 0]));
	}
	/* Line compare at scan line 200 (bit 8 is CR07 bit 4, bit 9 CR09 bit
	 * 6): the lines after it show memory from address 0. */
	vt_crtc(t, 0x18, 200);
	vt_crtc(t, 0x07, (uint8_t)(vt_crtc_read(t, 0x07) & ~0x10));
	vt_crtc(t, 0x09, (uint8_t)(vt_crtc_read(t, 0x09) & ~0x40));
	vt_refresh(t);
	for (unsigned x = 0; x < 8; x++) {
		assert_int_equal(vt_px(t, x, 201),
				 vt_ega(vt_mode3.actl[(gr >> (7 - x)) & 1 ? 7 : 0]));
		assert_int_equal(vt_px(t, 5 * 9 + x, 201),
				 vt_ega(vt_mode3.actl[(g0 >> (7 - x)) & 1 ? 7 : 0]));
	}
	/* Scan line 200 itself is still the scrolled picture: row 13, line 8. */
	unsigned g3 = vt_glyph('3', 8);
	for (unsigned x = 0; x < 8; x++)
		assert_int_equal(vt_px(t, 5 * 9 + x, 200),
				 vt_ega(vt_mode3.actl[(g3 >> (7 - x)) & 1 ? 7 : 0]));
	vt_free(t);
}

static void test_snapshot_errors(void **state)
{
	struct screen sc;
	struct vt *t = mode3(&sc);
	puts_at(t, &sc, 0, 0, "abc", 0x07);
	char small[3];
	assert_int_equal(vga_text_snapshot(t->vga, small, sizeof(small), NULL, NULL), -ENOSPC);
	assert_int_equal(strlen(small), 0);
	char buf[4096];
	assert_int_equal(vga_text_snapshot(t->vga, buf, 0, NULL, NULL), -EINVAL);
	vt_set_mode(t, &vt_mode13);
	assert_int_equal(vga_text_snapshot(t->vga, buf, sizeof(buf), NULL, NULL), -EINVAL);
	vt_free(t);
}

/* vga_text_cells equals what the test wrote, cell for cell. */
static struct vga_text *check_cells(struct vt *t, const struct screen *sc)
{
	struct vga_text *vt;
	assert_int_equal(vga_text_cells(t->vga, &vt), 0);
	assert_non_null(vt);
	assert_int_equal(vt->cols, sc->cols);
	assert_int_equal(vt->rows, sc->rows);
	for (unsigned r = 0; r < sc->rows; r++)
		for (unsigned c = 0; c < sc->cols; c++) {
			const uint8_t *cell = &vt->cells[2 * (r * sc->cols + c)];
			if (cell[0] != sc->ch[r][c] || cell[1] != sc->at[r][c])
				fail_msg("cell (%u,%u) is %02x/%02x, want %02x/%02x", c, r, cell[0],
					 cell[1], sc->ch[r][c], sc->at[r][c]);
		}
	return vt;
}

static void test_text_cells(void **state)
{
	struct screen sc;
	struct vt *t = mode3(&sc);
	puts_at(t, &sc, 0, 0, "SeaBIOS (version osio)", 0x07);
	puts_at(t, &sc, 2, 3, "Hello, VGA", 0x1f);
	puts_at(t, &sc, 3, 0, "blink", 0x9e);
	for (unsigned c = 0; c < 64; c++)
		put(t, &sc, 5, c, (uint8_t)(0xc0 + c), (uint8_t)c);
	put(t, &sc, 6, 0, 0x00, 0x07);
	put(t, &sc, 24, 79, 'Z', 0x70);
	set_cursor(t, &sc, 2, 13, 0x0d, 0x0e);
	struct vga_text *vt = check_cells(t, &sc);
	assert_int_equal(vt->cursor_x, 13);
	assert_int_equal(vt->cursor_y, 2);
	assert_true(vt->cursor_visible);
	assert_true(vt->blink); /* mode 3: attribute mode control bit 3 */
	/* Attribute colours through the palette registers and the DAC:
	 * colour 6 is EGA 0x14 (brown), 8-15 the bright ones. */
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(vt->palette[i], vt_ega(vt_mode3.actl[i]));
	assert_int_equal(vt->palette[1], 0x0000a8);
	assert_int_equal(vt->palette[6], 0xa85700);
	assert_int_equal(vt->palette[15], 0xffffff);
	free(vt);

	/* The cursor hidden (bit 5), or starting below the cell: not
	 * visible, still placed. Moved to the last cell. */
	vt_crtc(t, 0x0a, 0x20 | 0x0d);
	vt = check_cells(t, &sc);
	assert_false(vt->cursor_visible);
	assert_int_equal(vt->cursor_x, 13);
	free(vt);
	set_cursor(t, &sc, 24, 79, 0x10, 0x11);
	vt = check_cells(t, &sc);
	assert_false(vt->cursor_visible);
	free(vt);
	set_cursor(t, &sc, 24, 79, 0x00, 0x0f);
	vt = check_cells(t, &sc);
	assert_true(vt->cursor_visible);
	assert_int_equal(vt->cursor_x, 79);
	assert_int_equal(vt->cursor_y, 24);
	free(vt);
	/* Past the end of the screen: nowhere on it. */
	vt_crtc(t, 0x0e, 0x20);
	vt_crtc(t, 0x0f, 0x00);
	vt = check_cells(t, &sc);
	assert_false(vt->cursor_visible);
	free(vt);

	/* Bright backgrounds instead of blinking. */
	vt_attr(t, 0x10, (uint8_t)(vt_attr_read(t, 0x10) & ~0x08));
	vt = check_cells(t, &sc);
	assert_false(vt->blink);
	free(vt);
	vt_free(t);
}

static void test_text_cells_palette(void **state)
{
	struct screen sc;
	struct vt *t = mode3(&sc);
	struct vga_text *vt;
	/* The DAC entry behind colour 1, then the palette register that
	 * points colour 1 elsewhere. */
	vt_dac(t, 1, 0x3f, 0x00, 0x00);
	vt = check_cells(t, &sc);
	assert_int_equal(vt->palette[1], 0xff0000);
	free(vt);
	vt_attr(t, 0x01, 0x02);
	vt = check_cells(t, &sc);
	assert_int_equal(vt->palette[1], vt_ega(2));
	free(vt);
	/* Colour select bits 3-2 give DAC index bits 7-6. */
	vt_attr(t, 0x14, 0x04);
	vt_dac(t, 0x42, 0x10, 0x20, 0x30);
	vt = check_cells(t, &sc);
	assert_int_equal(vt->palette[1], vt_rgb6(0x10, 0x20, 0x30));
	free(vt);
	vt_attr(t, 0x14, 0x00);
	/* The PEL mask: every colour from DAC entry 0. */
	houtb(&t->h, 0x3c6, 0x00);
	vt = check_cells(t, &sc);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(vt->palette[i], vt_ega(0));
	free(vt);
	houtb(&t->h, 0x3c6, 0xff);
	/* Colour plane enable: colours without plane 3 lose their bright bit. */
	vt_attr(t, 0x12, 0x07);
	vt = check_cells(t, &sc);
	assert_int_equal(vt->palette[15], vt->palette[7]);
	assert_int_equal(vt->palette[7], vt_ega(vt_mode3.actl[7]));
	free(vt);
	/* The surface shows the same colours. */
	puts_at(t, &sc, 0, 0, "c", 0x1e);
	vt_refresh(t);
	vt = check_cells(t, &sc);
	assert_int_equal(vt_px(t, 8, 0), vt->palette[1]);
	free(vt);
	vt_free(t);
}

static void test_text_cells_geometry(void **state)
{
	struct screen sc;
	struct vt *t = mode3(&sc);
	struct vga_text *vt;
	/* 80x50 with the 8-line font. */
	vt_crtc(t, 0x09, (uint8_t)((vt_crtc_read(t, 0x09) & ~0x1f) | 7));
	sc.rows = 50;
	puts_at(t, &sc, 49, 70, "bottom", 0x2f);
	vt = check_cells(t, &sc);
	free(vt);
	vt_crtc(t, 0x09, (uint8_t)((vt_crtc_read(t, 0x09) & ~0x1f) | 15));
	sc.rows = 25;
	/* Scrolled by a row: the start address counts characters. */
	put(t, &sc, 1, 0, 'X', 0x4e);
	vt_crtc(t, 0x0c, 0);
	vt_crtc(t, 0x0d, 80);
	assert_int_equal(vga_text_cells(t->vga, &vt), 0);
	assert_int_equal(vt->cells[0], 'X');
	assert_int_equal(vt->cells[1], 0x4e);
	free(vt);
	vt_crtc(t, 0x0d, 0);
	/* 40 columns. */
	vt_set_mode(t, &vt_mode1);
	sc.cols = 40;
	clear(t, &sc);
	puts_at(t, &sc, 24, 35, "forty", 0x0e);
	vt = check_cells(t, &sc);
	free(vt);
	/* A guest's extreme timing: one scan line per row, the largest
	 * vertical display: at most VGA_TEXT_MAX_ROWS rows, all in range. */
	vt_crtc(t, 0x11, 0x00); /* unprotect CR0-7 */
	vt_crtc(t, 0x01, 0xff);
	vt_crtc(t, 0x09, 0x00);
	vt_crtc(t, 0x12, 0xff);
	vt_crtc(t, 0x07, 0x42);
	vt_crtc(t, 0x13, 0xff);
	assert_int_equal(vga_text_cells(t->vga, &vt), 0);
	assert_int_equal(vt->rows, VGA_TEXT_MAX_ROWS);
	assert_true(vt->cols >= 1 && vt->cols <= 256);
	free(vt);
	/* Graphics modes have no cells. */
	vt_set_mode(t, &vt_mode13);
	assert_int_equal(vga_text_cells(t->vga, &vt), -EINVAL);
	assert_null(vt);
	vt_set_mode(t, &vt_mode3);
	assert_int_equal(vga_text_cells(t->vga, &vt), 0);
	free(vt);
	vt_dispi(t, 3, 32);
	vt_dispi(t, 1, 640);
	vt_dispi(t, 2, 480);
	vt_dispi(t, 4, 0x41);
	assert_int_equal(vga_text_cells(t->vga, &vt), -EINVAL);
	vt_free(t);
}

static unsigned take(struct display_consumer *c, struct display_rect *r, unsigned max)
{
	return display_consumer_take(c, r, max, NULL);
}

static void test_dirty_tracking(void **state)
{
	struct screen sc;
	struct vt *t = mode3(&sc);
	vt_map_bars(t); /* BAR0 mapped too: without a dirty log it all counts */
	puts_at(t, &sc, 0, 0, "steady", 0x07);
	struct display_consumer *c = display_consumer_new(t->s);
	struct display_rect r[16];
	vt_refresh(t);
	assert_int_equal(take(c, r, 16), 1);
	/* Nothing changed: nothing to report, however often asked. */
	for (int i = 0; i < 3; i++) {
		vt_refresh(t);
		assert_int_equal(take(c, r, 16), 0);
	}
	/* One character: its tile. */
	put(t, &sc, 10, 40, 'X', 0x07);
	vt_refresh(t);
	assert_int_equal(take(c, r, 16), 1);
	assert_true(r[0].x <= 360 && r[0].x + r[0].w >= 369);
	assert_true(r[0].y <= 160 && r[0].y + r[0].h >= 176);
	assert_true(r[0].w <= 2 * DISPLAY_TILE && r[0].h <= DISPLAY_TILE);
	/* The same character again: no change on the screen. */
	put(t, &sc, 10, 40, 'X', 0x07);
	vt_refresh(t);
	assert_int_equal(take(c, r, 16), 0);
	/* A register write that changes nothing visible. */
	vt_gr(t, 0x08, 0x55);
	vt_refresh(t);
	assert_int_equal(take(c, r, 16), 0);
	check_screen(t, &sc);
	display_consumer_free(c);
	vt_free(t);
}

static void test_notification(void **state)
{
	struct screen sc;
	struct vt *t = mode3(&sc);
	struct display_consumer *c = display_consumer_new(t->s);
	struct display_rect r[4];
	vt_refresh(t);
	take(c, r, 4);
	uint64_t n;
	assert_true(read(display_consumer_fd(c), &n, sizeof(n)) < 0);
	/* A write through the window wakes the consumer before any refresh. */
	put(t, &sc, 0, 0, 'A', 0x07);
	assert_int_equal(read(display_consumer_fd(c), &n, sizeof(n)), sizeof(n));
	vt_refresh(t);
	assert_int_equal(take(c, r, 4), 1);
	display_consumer_free(c);
	vt_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mode3_text),
	    cmocka_unit_test(test_cursor),
	    cmocka_unit_test(test_80x50),
	    cmocka_unit_test(test_40_columns),
	    cmocka_unit_test(test_font_maps),
	    cmocka_unit_test(test_palette_changes),
	    cmocka_unit_test(test_underline_mono),
	    cmocka_unit_test(test_start_address_and_split),
	    cmocka_unit_test(test_snapshot_errors),
	    cmocka_unit_test(test_dirty_tracking),
	    cmocka_unit_test(test_notification),
	    cmocka_unit_test(test_text_cells),
	    cmocka_unit_test(test_text_cells_palette),
	    cmocka_unit_test(test_text_cells_geometry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
