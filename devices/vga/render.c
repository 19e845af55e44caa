/* Rendering into the display surface: the CRTC's scan (start address, line
 * offset, byte/word/doubleword addressing, row scan, scan doubling, line
 * compare), the planar, CGA and 256-colour shifters, the attribute
 * controller and DAC palettes, and VBE linear modes. Only lines whose VRAM
 * changed are redrawn (unless a register or palette change needs all), and
 * only pixels that differ from the surface are damaged. */
#include "devices/vga/vga_int.h"
#include "hypervisor/bytes.h"

#include <string.h>

uint32_t vga_crtc_addr(const struct vga_crtc *c, uint32_t ma, unsigned rs)
{
	uint32_t a;
	switch (c->addr_mode) {
	case 2: /* the 16-bit address rotated left */
		a = (ma << 2) | ((ma >> 14) & 3);
		break;
	case 1:
		a = (ma << 1) | ((ma >> c->word_bit) & 1);
		break;
	default:
		a = ma;
		break;
	}
	/* CGA and Hercules compatibility: row scan bits replace address
	 * bits 13 and 14 at the output. */
	if (!(c->cr17 & 0x01))
		a = (a & ~0x2000u) | ((rs & 1u) << 13);
	if (!(c->cr17 & 0x02))
		a = (a & ~0x4000u) | ((rs & 2u) << 13);
	return a & c->addr_mask;
}

static void decode_attr(const struct vga *v, struct vga_crtc *c)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned idx = v->ar[i] & 0x3f;
		if (v->ar[0x10] & 0x80)
			idx = (idx & 0x0f) | ((v->ar[0x14] & 0x03) << 4);
		idx |= (v->ar[0x14] & 0x0c) << 4;
		c->attr_map[i] = (uint8_t)idx;
	}
	c->plane_enable = v->ar[0x12] & 0x0f;
}

/* Font map m (0-7) in plane 2: 16 KiB steps, odd maps 8 KiB higher. */
static uint32_t font_offset(unsigned m)
{
	return (m & 3) * 0x4000u + (m >> 2) * 0x2000u;
}

void vga_decode_crtc(const struct vga *v, struct vga_crtc *c, bool graphics)
{
	const uint8_t *cr = v->cr;
	memset(c, 0, sizeof(*c));
	c->dclk2 = v->sr[1] & SR1_DCLK_DIV2;
	c->nine = !graphics && !(v->sr[1] & SR1_8DOT);
	c->dots = (c->nine ? 9u : 8u) << (c->dclk2 ? 1 : 0);
	c->hchars = cr[0x01] + 1u;
	if (c->hchars * c->dots > VGA_MAX_WIDTH)
		c->hchars = VGA_MAX_WIDTH / c->dots;
	c->width = c->hchars * c->dots;
	c->height = (cr[0x12] | (cr[0x07] & 0x02) << 7 | (cr[0x07] & 0x40) << 3) + 1u;
	c->msl = cr[0x09] & 0x1f;
	c->dscan = cr[0x09] & 0x80;
	c->start = (uint32_t)(cr[0x0c] << 8 | cr[0x0d]) + ((cr[0x08] >> 5) & 3u);
	c->line_inc = cr[0x13] * 2u;
	c->line_compare = cr[0x18] | (cr[0x07] & 0x10) << 4 | (cr[0x09] & 0x40) << 3;
	c->preset_row = cr[0x08] & 0x1f;
	c->addr_mode = (cr[0x14] & 0x40) ? 2 : (cr[0x17] & 0x40) ? 0 : 1;
	c->word_bit = (cr[0x17] & 0x20) ? 15 : 13;
	c->cr17 = cr[0x17];
	c->count_shift = (cr[0x14] & 0x20) ? 2 : (cr[0x17] & 0x08) ? 1 : 0;
	c->addr_mask = VGA_PLANE_MASK;
	decode_attr(v, c);
	if (graphics) {
		c->shift_mode = (v->gr[5] & GR5_SHIFT_256) ? 2 : (v->gr[5] & GR5_SHIFT_CGA) ? 1 : 0;
		c->color8 = v->ar[0x10] & 0x40;
		unsigned pan = v->ar[0x13] & 0x0f;
		c->pan = (c->shift_mode == 2 ? pan & 6 : pan & 7) << (c->dclk2 ? 1 : 0);
		return;
	}
	c->line_graphics = v->ar[0x10] & 0x04;
	c->blink = v->ar[0x10] & 0x08;
	c->underline_on = v->ar[0x10] & 0x02;
	c->underline = cr[0x14] & 0x1f;
	uint8_t sr3 = v->sr[3];
	c->font_off[0] = font_offset((sr3 & 3) | ((sr3 >> 2) & 4));	   /* map B */
	c->font_off[1] = font_offset(((sr3 >> 2) & 3) | ((sr3 >> 3) & 4)); /* map A */
	c->cursor_on = !(cr[0x0a] & 0x20);
	c->cursor_start = cr[0x0a] & 0x1f;
	c->cursor_end = cr[0x0b] & 0x1f;
	c->cursor_addr = ((uint32_t)(cr[0x0e] << 8 | cr[0x0f]) + ((cr[0x0b] >> 5) & 3u)) & 0xffff;
}

/* A 4-bpp VBE mode: planar, byte addressed, through the attribute palette. */
static void decode_vbe_planar(const struct vga *v, struct vga_crtc *c)
{
	memset(c, 0, sizeof(*c));
	c->dots = 8;
	c->hchars = v->vbe[VBE_INDEX_XRES] / 8u;
	c->width = c->hchars * 8;
	c->height = v->vbe[VBE_INDEX_YRES];
	c->start = v->vbe_start;
	c->line_inc = v->vbe_line;
	c->line_compare = ~0u;
	c->cr17 = 0x03;
	c->addr_mask = VGA_VRAM_SIZE / 4 - 1;
	decode_attr(v, c);
}

static void decode_mode(const struct vga *v, struct vga_mode *md)
{
	memset(md, 0, sizeof(*md));
	if (vga_vbe_enabled(v)) {
		unsigned bpp = v->vbe[VBE_INDEX_BPP];
		md->width = v->vbe[VBE_INDEX_XRES];
		md->height = v->vbe[VBE_INDEX_YRES];
		if (bpp == 4) {
			md->kind = VGA_KIND_GFX;
			decode_vbe_planar(v, &md->crtc);
		} else {
			md->kind = VGA_KIND_VBE;
			md->vbe_bpp = bpp;
			md->vbe_start = v->vbe_start;
			md->vbe_line = v->vbe_line;
			md->big_endian = v->big_endian_fb;
		}
	} else {
		bool graphics = v->gr[6] & GR6_GRAPHICS;
		md->kind = graphics ? VGA_KIND_GFX : VGA_KIND_TEXT;
		vga_decode_crtc(v, &md->crtc, graphics);
		md->width = md->crtc.width;
		md->height = md->crtc.height;
	}
	if (md->width > VGA_MAX_WIDTH)
		md->width = VGA_MAX_WIDTH;
	if (md->height > VGA_MAX_HEIGHT)
		md->height = VGA_MAX_HEIGHT;
	md->crtc.height = md->height;
	if (md->width == 0 || md->height == 0 || !(v->ar_index & AR_INDEX_PAS) ||
	    (v->sr[1] & SR1_SCREEN_OFF))
		md->kind = VGA_KIND_BLANK;
}

static uint32_t rgb(unsigned r, unsigned g, unsigned b)
{
	return (uint32_t)r << 16 | (uint32_t)g << 8 | b;
}

/* The DAC: 6 bits per colour, or 8 with the VBE 8-bit DAC switch; the PEL
 * mask applies to every index. 6 bits widen to 8 with the lowest bit
 * repeated, as QEMU's stdvga does, so that screenshots of the two compare
 * equal (0x3f is 0xff, 0x2a is 0xa8). */
static void compute_palette(const struct vga *v, uint32_t *pal)
{
	bool dac8 = v->vbe[VBE_INDEX_ENABLE] & VBE_8BIT_DAC;
	for (unsigned i = 0; i < 256; i++) {
		const uint8_t *e = &v->dac[3 * (i & v->pel_mask)];
		if (dac8) {
			pal[i] = rgb(e[0], e[1], e[2]);
		} else {
			unsigned c[3];
			for (int k = 0; k < 3; k++) {
				unsigned x = e[k] & 0x3f;
				c[k] = x << 2 | (x & 1) * 3;
			}
			pal[i] = rgb(c[0], c[1], c[2]);
		}
	}
}

static bool pages_dirty(const struct vga *v, uint64_t lo, uint64_t hi)
{
	if (hi >= VGA_VRAM_SIZE)
		hi = VGA_VRAM_SIZE - 1;
	for (uint64_t p = lo >> VGA_PAGE_SHIFT; p <= hi >> VGA_PAGE_SHIFT; p++)
		if (v->dirty[p / 64] & (1ull << (p % 64)))
			return true;
	return false;
}

/* Copies a rendered line where it differs from the surface and damages
 * exactly that span. */
static void put_line(struct display_surface *s, const struct display_view *view, unsigned y,
		     const uint32_t *line)
{
	uint32_t *row = (uint32_t *)((uint8_t *)view->pixels + (size_t)y * view->stride);
	unsigned w = view->width, x0 = 0, x1 = w;
	while (x0 < w && row[x0] == line[x0])
		x0++;
	if (x0 == w)
		return;
	while (row[x1 - 1] == line[x1 - 1])
		x1--;
	memcpy(row + x0, line + x0, (x1 - x0) * sizeof(uint32_t));
	display_damage_locked(s, x0, y, x1 - x0, 1);
}

/* One line of a planar, CGA or 256-colour mode: 8 dots per character clock
 * (each twice with the dot clock halved), shifted left by the panning. */
static void gfx_line(const struct vga *v, const struct vga_crtc *c, uint32_t ma, unsigned rs,
		     uint32_t *out)
{
	const uint32_t *pal = v->palette;
	unsigned n = c->hchars + (c->pan ? 1 : 0);
	uint32_t *o = out;
	for (unsigned ch = 0; ch < n; ch++) {
		uint32_t a = vga_crtc_addr(c, ma + (ch >> c->count_shift), rs);
		uint32_t d = get_le32(v->vram + 4 * a);
		unsigned p[4] = {d & 0xff, (d >> 8) & 0xff, (d >> 16) & 0xff, d >> 24};
		uint32_t px[8];
		if (c->shift_mode == 2 && c->color8) {
			for (int k = 0; k < 4; k++)
				px[2 * k] = px[2 * k + 1] = pal[p[k]];
		} else if (c->shift_mode == 2) {
			for (int k = 0; k < 4; k++) {
				px[2 * k] = pal[c->attr_map[(p[k] >> 4) & c->plane_enable]];
				px[2 * k + 1] = pal[c->attr_map[p[k] & c->plane_enable]];
			}
		} else if (c->shift_mode == 1) {
			/* CGA: 2-bit pixels, planes 0/2 then 1/3. */
			for (int k = 0; k < 4; k++) {
				unsigned sh = 6 - 2 * k;
				unsigned lo = ((p[0] >> sh) & 3) | ((p[2] >> sh) & 3) << 2;
				unsigned hi = ((p[1] >> sh) & 3) | ((p[3] >> sh) & 3) << 2;
				px[k] = pal[c->attr_map[lo & c->plane_enable]];
				px[k + 4] = pal[c->attr_map[hi & c->plane_enable]];
			}
		} else {
			for (int b = 0; b < 8; b++) {
				unsigned sh = 7 - b;
				unsigned idx = ((p[0] >> sh) & 1) | ((p[1] >> sh) & 1) << 1 |
					       ((p[2] >> sh) & 1) << 2 | ((p[3] >> sh) & 1) << 3;
				px[b] = pal[c->attr_map[idx & c->plane_enable]];
			}
		}
		for (int b = 0; b < 8; b++) {
			*o++ = px[b];
			if (c->dclk2)
				*o++ = px[b];
		}
	}
	if (c->pan)
		memmove(out, out + c->pan, c->width * sizeof(uint32_t));
}

static void scan_crtc(struct vga *v, const struct vga_mode *md, const struct display_view *view,
		      bool full)
{
	const struct vga_crtc *c = &md->crtc;
	bool text = md->kind == VGA_KIND_TEXT;
	uint32_t ma = c->start;
	unsigned rs = c->preset_row <= c->msl ? c->preset_row : 0;
	bool second = false;
	unsigned chars = c->hchars + (c->pan ? 1 : 0);
	for (unsigned y = 0; y < view->height; y++) {
		bool draw = full;
		if (!draw) {
			uint32_t lo, hi;
			vga_line_span(c, ma, rs, chars, &lo, &hi);
			draw = pages_dirty(v, lo, hi);
		}
		if (draw) {
			if (text)
				vga_text_line(v, c, ma, rs, v->line);
			else
				gfx_line(v, c, ma, rs, v->line);
			put_line(v->surface, view, y, v->line);
		}
		if (y == c->line_compare) {
			/* Split screen: the lines after this one come from
			 * address 0. */
			ma = 0;
			rs = 0;
			second = false;
		} else if (c->dscan && !second) {
			second = true;
		} else {
			second = false;
			if (rs >= c->msl) {
				rs = 0;
				ma += c->line_inc;
			} else {
				rs++;
			}
		}
	}
}

static uint32_t expand5(unsigned x)
{
	return (x & 0x1f) << 3;
}

static void vbe_line_convert(const struct vga_mode *md, const uint32_t *pal, const uint8_t *src,
			     uint32_t *out)
{
	bool be = md->big_endian;
	for (unsigned x = 0; x < md->width; x++) {
		switch (md->vbe_bpp) {
		case 8:
			out[x] = pal[src[x]];
			break;
		case 15: {
			const uint8_t *p = src + 2 * x;
			unsigned w = be ? (unsigned)(p[0] << 8 | p[1]) : get_le16(p);
			out[x] = rgb(expand5(w >> 10), expand5(w >> 5), expand5(w));
			break;
		}
		case 16: {
			const uint8_t *p = src + 2 * x;
			unsigned w = be ? (unsigned)(p[0] << 8 | p[1]) : get_le16(p);
			out[x] = rgb(expand5(w >> 11), (w >> 5 & 0x3f) << 2, expand5(w));
			break;
		}
		case 24: {
			const uint8_t *p = src + 3 * x;
			out[x] = be ? rgb(p[0], p[1], p[2]) : rgb(p[2], p[1], p[0]);
			break;
		}
		default: {
			const uint8_t *p = src + 4 * x;
			out[x] = (be ? get_be32(p) : get_le32(p)) & 0xffffff;
			break;
		}
		}
	}
}

static void scan_vbe(struct vga *v, const struct vga_mode *md, const struct display_view *view,
		     bool full)
{
	unsigned bytes = md->vbe_bpp == 15 ? 2 : md->vbe_bpp / 8;
	uint64_t len = (uint64_t)md->width * bytes;
	for (unsigned y = 0; y < view->height; y++) {
		uint64_t base = md->vbe_start + (uint64_t)y * md->vbe_line;
		if (base + len > VGA_VRAM_SIZE) {
			memset(v->line, 0, view->width * sizeof(uint32_t));
		} else {
			if (!full && !pages_dirty(v, base, base + len - 1))
				continue;
			vbe_line_convert(md, v->palette, v->vram + base, v->line);
		}
		put_line(v->surface, view, y, v->line);
	}
}

static void scan_blank(struct vga *v, const struct display_view *view)
{
	memset(v->line, 0, view->width * sizeof(uint32_t));
	for (unsigned y = 0; y < view->height; y++)
		put_line(v->surface, view, y, v->line);
}

static bool anything_dirty(const struct vga *v)
{
	for (unsigned i = 0; i < VGA_PAGES / 64; i++)
		if (v->dirty[i])
			return true;
	return false;
}

void vga_render(void *opaque)
{
	struct vga *v = opaque;
	machine_flush_coalesced(v->m); /* window writes KVM still holds */
	pthread_mutex_lock(&v->lock);
	bool all = v->all_dirty || !v->have_last;
	if (v->vram_slot >= 0) {
		/* Pages the guest wrote through BAR0; without a log (no KVM,
		 * or the slot just moved) everything counts as written. */
		uint64_t log[VGA_PAGES / 64];
		if (guestmem_dirty_log(&v->m->mem, v->vram_slot, log) == 0) {
			for (unsigned i = 0; i < VGA_PAGES / 64; i++)
				v->dirty[i] |= log[i];
		} else {
			all = true;
		}
	}
	if (!all && !v->changed && !anything_dirty(v)) {
		pthread_mutex_unlock(&v->lock);
		return;
	}

	struct vga_mode md;
	uint32_t pal[256];
	decode_mode(v, &md);
	compute_palette(v, pal);
	bool full = all || memcmp(&md, &v->last, sizeof(md)) != 0 ||
		    memcmp(pal, v->palette, sizeof(pal)) != 0;
	memcpy(v->palette, pal, sizeof(pal));
	if (md.kind == VGA_KIND_TEXT && vga_text_font_changed(v, &md.crtc))
		full = true;

	struct display_view view;
	display_lock(v->surface, &view);
	if (md.kind != VGA_KIND_BLANK && (view.width != md.width || view.height != md.height)) {
		if (display_resize_locked(v->surface, md.width, md.height, &view) < 0) {
			display_unlock(v->surface);
			v->all_dirty = true; /* try again next time */
			pthread_mutex_unlock(&v->lock);
			return;
		}
		full = true;
	}
	switch (md.kind) {
	case VGA_KIND_BLANK:
		scan_blank(v, &view);
		break;
	case VGA_KIND_VBE:
		scan_vbe(v, &md, &view, full);
		break;
	default:
		scan_crtc(v, &md, &view, full);
		break;
	}
	display_unlock(v->surface);

	v->last = md;
	v->have_last = true;
	memset(v->dirty, 0, sizeof(v->dirty));
	v->changed = false;
	v->all_dirty = false;
	pthread_mutex_unlock(&v->lock);
}
