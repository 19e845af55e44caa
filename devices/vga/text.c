/* VGA text modes: characters and attributes from planes 0 and 1, glyphs
 * from the fonts in plane 2, 8- or 9-dot cells, the cursor and underline;
 * the text of the screen for tests and firmware checks, and its cells with
 * their colours for the control API. */
#include "devices/vga/vga.h"
#include "devices/vga/vga_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void vga_line_span(const struct vga_crtc *c, uint32_t ma, unsigned rs, unsigned chars, uint32_t *lo,
		   uint32_t *hi)
{
	uint32_t a0 = ~0u, a1 = 0;
	for (unsigned i = 0; i < chars; i++) {
		uint32_t a = vga_crtc_addr(c, ma + (i >> c->count_shift), rs);
		a0 = a < a0 ? a : a0;
		a1 = a > a1 ? a : a1;
	}
	*lo = 4 * a0;
	*hi = 4 * a1 + 3;
}

bool vga_text_font_changed(struct vga *v, const struct vga_crtc *c)
{
	bool changed = false;
	for (int f = 0; f < 2; f++) {
		const uint8_t *p = v->vram + 4 * c->font_off[f] + 2;
		for (unsigned i = 0; i < sizeof(v->last_font[f]); i++) {
			if (v->last_font[f][i] != p[4 * i]) {
				v->last_font[f][i] = p[4 * i];
				changed = true;
			}
		}
	}
	return changed;
}

void vga_text_line(const struct vga *v, const struct vga_crtc *c, uint32_t ma, unsigned rs,
		   uint32_t *out)
{
	unsigned cend = c->cursor_end < c->msl ? c->cursor_end : c->msl;
	bool cursor_row =
	    c->cursor_on && c->cursor_start <= cend && rs >= c->cursor_start && rs <= cend;
	unsigned rep = c->dclk2 ? 2 : 1;
	for (unsigned col = 0; col < c->hchars; col++) {
		uint32_t cma = ma + (col >> c->count_shift);
		uint32_t a = vga_crtc_addr(c, cma, rs);
		uint8_t ch = v->vram[4 * a], at = v->vram[4 * a + 1];
		uint32_t glyph_at = (c->font_off[(at >> 3) & 1] + ch * 32u + (rs & 31)) & 0xffff;
		unsigned glyph = v->vram[4 * glyph_at + 2];
		unsigned bg = at >> 4, fg = at & 0x0f;
		if (c->blink)
			bg &= 7; /* bit 7 blinks; the character is shown steadily */
		bool line9 = c->line_graphics && ch >= 0xc0 && ch <= 0xdf;
		/* Underline and cursor cover the whole cell, 9th dot too. */
		if ((c->underline_on && (at & 0x77) == 0x01 && rs == c->underline) ||
		    (cursor_row && (cma & 0xffff) == c->cursor_addr)) {
			glyph = 0xff;
			line9 = true;
		}
		uint32_t fgc = v->palette[c->attr_map[fg & c->plane_enable]];
		uint32_t bgc = v->palette[c->attr_map[bg & c->plane_enable]];
		if (c->nine)
			glyph = glyph << 1 | (line9 ? glyph & 1 : 0);
		unsigned n = c->nine ? 9 : 8;
		for (unsigned b = 0; b < n; b++) {
			uint32_t px = (glyph >> (n - 1 - b)) & 1 ? fgc : bgc;
			for (unsigned r = 0; r < rep; r++)
				*out++ = px;
		}
	}
}

/* Code page 437 as plain ASCII: box drawing as + - |, blocks as #. */
static char ascii(uint8_t ch)
{
	if (ch >= 0x20 && ch < 0x7f)
		return (char)ch;
	if (ch == 0 || ch == 0xff)
		return ' ';
	if (ch == 0xb3 || ch == 0xba)
		return '|';
	if (ch == 0xc4 || ch == 0xcd)
		return '-';
	if ((ch >= 0xb0 && ch <= 0xb2) || (ch >= 0xdb && ch <= 0xdf))
		return '#';
	if (ch >= 0xb4 && ch <= 0xda)
		return '+';
	return '?';
}

/* Takes the device lock (pending guest writes in first) when the screen is
 * in a text mode: its CRT timing into c, its rows (at least one) into rows.
 * -EINVAL, unlocked, in a graphics mode. */
static int lock_text_mode(struct vga *v, struct vga_crtc *c, unsigned *rows)
{
	machine_flush_coalesced(v->m);
	pthread_mutex_lock(&v->lock);
	if (vga_vbe_enabled(v) || (v->gr[6] & GR6_GRAPHICS)) {
		pthread_mutex_unlock(&v->lock);
		return -EINVAL;
	}
	vga_decode_crtc(v, c, false);
	unsigned cell = (c->msl + 1) << (c->dscan ? 1 : 0);
	*rows = c->height / cell;
	if (*rows == 0)
		*rows = 1;
	return 0;
}

int vga_text_snapshot(void *vga, char *buf, size_t size, unsigned *cols, unsigned *rows)
{
	struct vga *v = vga;
	if (!buf || size == 0)
		return -EINVAL;
	buf[0] = 0;
	struct vga_crtc c;
	unsigned nrows;
	if (lock_text_mode(v, &c, &nrows) < 0)
		return -EINVAL;
	size_t pos = 0;
	int r = 0;
	for (unsigned row = 0; row < nrows; row++) {
		char line[257];
		unsigned len = 0;
		for (unsigned col = 0; col < c.hchars && col < sizeof(line) - 1; col++) {
			uint32_t a = vga_crtc_addr(
			    &c, c.start + row * c.line_inc + (col >> c.count_shift), 0);
			line[col] = ascii(v->vram[4 * a]);
			if (line[col] != ' ')
				len = col + 1;
		}
		if (pos + len + 1 >= size) {
			r = -ENOSPC;
			break;
		}
		memcpy(buf + pos, line, len);
		pos += len;
		buf[pos++] = '\n';
	}
	buf[pos] = 0;
	if (cols)
		*cols = c.hchars;
	if (rows)
		*rows = nrows;
	pthread_mutex_unlock(&v->lock);
	return r;
}

/* The colour DAC entry idx gives, as the renderer computes it: the PEL mask
 * applied, 6-bit values widened with their lowest bit repeated (8-bit with
 * the VBE DAC switch). */
static uint32_t dac_colour(const struct vga *v, unsigned idx)
{
	const uint8_t *e = &v->dac[3 * (idx & v->pel_mask & 0xff)];
	uint32_t rgb = 0;
	for (int k = 0; k < 3; k++) {
		unsigned x = e[k];
		if (!(v->vbe[VBE_INDEX_ENABLE] & VBE_8BIT_DAC)) {
			x &= 0x3f;
			x = x << 2 | (x & 1) * 3;
		}
		rgb = rgb << 8 | x;
	}
	return rgb;
}

int vga_text_cells(void *vga, struct vga_text **out)
{
	struct vga *v = vga;
	*out = NULL;
	struct vga_crtc c;
	unsigned rows;
	if (lock_text_mode(v, &c, &rows) < 0)
		return -EINVAL;
	unsigned cols = c.hchars;
	if (rows > VGA_TEXT_MAX_ROWS)
		rows = VGA_TEXT_MAX_ROWS;
	struct vga_text *t = malloc(sizeof(*t) + 2 * (size_t)rows * cols);
	if (!t) {
		pthread_mutex_unlock(&v->lock);
		return -ENOMEM;
	}
	*t = (struct vga_text){.cols = cols, .rows = rows, .blink = c.blink};
	bool found = false;
	for (unsigned row = 0; row < rows; row++) {
		for (unsigned col = 0; col < cols; col++) {
			uint32_t cma = c.start + row * c.line_inc + (col >> c.count_shift);
			uint32_t a = vga_crtc_addr(&c, cma, 0);
			uint8_t *p = &t->cells[2 * ((size_t)row * cols + col)];
			p[0] = v->vram[4 * a];
			p[1] = v->vram[4 * a + 1];
			if (!found && (cma & 0xffff) == c.cursor_addr) {
				found = true;
				t->cursor_x = col;
				t->cursor_y = row;
			}
		}
	}
	unsigned cend = c.cursor_end < c.msl ? c.cursor_end : c.msl;
	t->cursor_visible = found && c.cursor_on && c.cursor_start <= cend;
	for (unsigned i = 0; i < 16; i++)
		t->palette[i] = dac_colour(v, c.attr_map[i & c.plane_enable]);
	pthread_mutex_unlock(&v->lock);
	*out = t;
	return 0;
}
