/* The VGA tests' driver: a PCI machine with the "vga" device, its BARs
 * placed the way SeaBIOS places them, and the register programming of the
 * VGA BIOS (SeaBIOS vgasrc/stdvga*.c) for the standard modes. */
#ifndef OSIO_TEST_VGA_DRIVER_H
#define OSIO_TEST_VGA_DRIVER_H

#include "devices/display.h"
#include "devices/pci.h"
#include "devices/vga/vga.h"
#include "tests/devices/harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#define VGA_DEVFN   PCI_DEVFN(2, 0)
#define VGA_LFB	    0xe0000000ull /* BAR0 */
#define VGA_MMIO    0xfebf0000ull /* BAR2 */
#define VGA_ROM_BAR 0xfebc0000ull
#define WIN	    0xa0000ull

struct vt {
	struct harness h;
	void *vga;
	struct display_surface *s;
};

static inline uint32_t vt_cfg_read(struct vt *t, unsigned reg, unsigned size)
{
	houtl(&t->h, 0xcf8, 0x80000000u | VGA_DEVFN << 8 | (reg & 0xfc));
	if (size == 1)
		return hinb(&t->h, (uint16_t)(0xcfc + (reg & 3)));
	if (size == 2)
		return hinw(&t->h, (uint16_t)(0xcfc + (reg & 2)));
	return hinl(&t->h, 0xcfc);
}

static inline void vt_cfg_write(struct vt *t, unsigned reg, uint32_t v, unsigned size)
{
	houtl(&t->h, 0xcf8, 0x80000000u | VGA_DEVFN << 8 | (reg & 0xfc));
	if (size == 1)
		houtb(&t->h, (uint16_t)(0xcfc + (reg & 3)), (uint8_t)v);
	else if (size == 2)
		houtw(&t->h, (uint16_t)(0xcfc + (reg & 2)), (uint16_t)v);
	else
		houtl(&t->h, 0xcfc, v);
}

/* A machine with the chipset and the VGA (args for the device, e.g.
 * "rom=none"); the VGA BIOS's own set-up (colour mode, more than 64 KiB). */
static inline struct vt *vt_new(const char *args)
{
	struct vt *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	harness_init(&t->h, 64 << 20);
	harness_add(&t->h, "i440fx", "i440fx", NULL);
	harness_add(&t->h, "piix3", "piix3", NULL);
	harness_add(&t->h, "vga", "vga", args ? args : "rom=none");
	t->vga = machine_device(&t->h.m, "vga");
	assert_non_null(t->vga);
	t->s = vga_surface(t->vga);
	houtb(&t->h, 0x3c2, 0xc3);
	houtw(&t->h, 0x3c4, 0x0204);
	return t;
}

static inline void vt_free(struct vt *t)
{
	harness_fini(&t->h);
	free(t);
}

/* BAR0 (framebuffer) and BAR2 (registers) placed and decoded. */
static inline void vt_map_bars(struct vt *t)
{
	vt_cfg_write(t, PCI_BASE_ADDRESS_0, (uint32_t)VGA_LFB, 4);
	vt_cfg_write(t, PCI_BASE_ADDRESS_0 + 8, (uint32_t)VGA_MMIO, 4);
	vt_cfg_write(t, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
}

static inline uint8_t *vt_lfb(struct vt *t, uint64_t off, uint64_t len)
{
	return hram(&t->h, VGA_LFB + off, len);
}

/* --- registers, as stdvgaio.c drives them --------------------------------- */

static inline void vt_seq(struct vt *t, uint8_t i, uint8_t v)
{
	houtw(&t->h, 0x3c4, (uint16_t)(v << 8 | i));
}

static inline uint8_t vt_seq_read(struct vt *t, uint8_t i)
{
	houtb(&t->h, 0x3c4, i);
	return hinb(&t->h, 0x3c5);
}

static inline void vt_gr(struct vt *t, uint8_t i, uint8_t v)
{
	houtw(&t->h, 0x3ce, (uint16_t)(v << 8 | i));
}

static inline uint8_t vt_gr_read(struct vt *t, uint8_t i)
{
	houtb(&t->h, 0x3ce, i);
	return hinb(&t->h, 0x3cf);
}

static inline void vt_crtc(struct vt *t, uint8_t i, uint8_t v)
{
	houtw(&t->h, 0x3d4, (uint16_t)(v << 8 | i));
}

static inline uint8_t vt_crtc_read(struct vt *t, uint8_t i)
{
	houtb(&t->h, 0x3d4, i);
	return hinb(&t->h, 0x3d5);
}

/* Keeps the index register's palette-address-source bit as it was. */
static inline void vt_attr(struct vt *t, uint8_t i, uint8_t v)
{
	hinb(&t->h, 0x3da);
	uint8_t orig = hinb(&t->h, 0x3c0);
	houtb(&t->h, 0x3c0, i);
	houtb(&t->h, 0x3c0, v);
	houtb(&t->h, 0x3c0, orig);
}

static inline uint8_t vt_attr_read(struct vt *t, uint8_t i)
{
	hinb(&t->h, 0x3da);
	uint8_t orig = hinb(&t->h, 0x3c0);
	houtb(&t->h, 0x3c0, i);
	uint8_t v = hinb(&t->h, 0x3c1);
	hinb(&t->h, 0x3da);
	houtb(&t->h, 0x3c0, orig);
	return v;
}

static inline void vt_attr_index(struct vt *t, uint8_t v)
{
	hinb(&t->h, 0x3da);
	houtb(&t->h, 0x3c0, v);
}

static inline void vt_dac(struct vt *t, uint8_t i, uint8_t r, uint8_t g, uint8_t b)
{
	houtb(&t->h, 0x3c8, i);
	houtb(&t->h, 0x3c9, r);
	houtb(&t->h, 0x3c9, g);
	houtb(&t->h, 0x3c9, b);
}

/* The 64-colour EGA palette (the VGA BIOS's pal_ega): bits 0-2 add 2/3 of
 * blue, green, red; bits 3-5 add 1/3. */
static inline void vt_ega_rgb(unsigned i, uint8_t *r, uint8_t *g, uint8_t *b)
{
	*b = (uint8_t)((i & 1 ? 0x2a : 0) + (i & 8 ? 0x15 : 0));
	*g = (uint8_t)((i & 2 ? 0x2a : 0) + (i & 16 ? 0x15 : 0));
	*r = (uint8_t)((i & 4 ? 0x2a : 0) + (i & 32 ? 0x15 : 0));
}

static inline void vt_load_ega_palette(struct vt *t)
{
	houtb(&t->h, 0x3c6, 0xff);
	for (unsigned i = 0; i < 256; i++) {
		uint8_t r = 0, g = 0, b = 0;
		if (i < 64)
			vt_ega_rgb(i, &r, &g, &b);
		vt_dac(t, (uint8_t)i, r, g, b);
	}
}

/* A 6-bit DAC value on the surface: the lowest bit fills the two new ones. */
static inline uint32_t vt_c6(unsigned v)
{
	v &= 0x3f;
	return v << 2 | (v & 1 ? 3 : 0);
}

static inline uint32_t vt_rgb6(uint8_t r, uint8_t g, uint8_t b)
{
	return vt_c6(r) << 16 | vt_c6(g) << 8 | vt_c6(b);
}

/* XRGB of EGA palette entry i as the DAC shows it. */
static inline uint32_t vt_ega(unsigned i)
{
	uint8_t r, g, b;
	vt_ega_rgb(i, &r, &g, &b);
	return vt_rgb6(r, g, b);
}

/* --- standard modes: SeaBIOS's register tables (IBM's values) ------------ */

struct vt_mode {
	uint8_t sequ[4];
	uint8_t misc;
	uint8_t crtc[25];
	uint8_t actl[20];
	uint8_t grdc[9];
};

static const struct vt_mode vt_mode3 = {
    {0x00, 0x03, 0x00, 0x02},
    0x67,
    {0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00,
     0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff},
    {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39,
     0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x0f, 0xff},
};

static const struct vt_mode vt_mode1 = {
    {0x08, 0x03, 0x00, 0x02},
    0x67,
    {0x2d, 0x27, 0x28, 0x90, 0x2b, 0xa0, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00,
     0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x14, 0x1f, 0x96, 0xb9, 0xa3, 0xff},
    {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39,
     0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x0f, 0xff},
};

static const struct vt_mode vt_mode4 = {
    {0x09, 0x03, 0x00, 0x02},
    0x63,
    {0x2d, 0x27, 0x28, 0x90, 0x2b, 0x80, 0xbf, 0x1f, 0x00, 0xc1, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x14, 0x00, 0x96, 0xb9, 0xa2, 0xff},
    {0x00, 0x13, 0x15, 0x17, 0x02, 0x04, 0x06, 0x07, 0x10, 0x11,
     0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x01, 0x00, 0x03, 0x00},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x0f, 0x0f, 0xff},
};

static const struct vt_mode vt_mode6 = {
    {0x01, 0x01, 0x00, 0x06},
    0x63,
    {0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0xc1, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x00, 0x96, 0xb9, 0xc2, 0xff},
    {0x00, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17,
     0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x01, 0x00, 0x01, 0x00},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0d, 0x0f, 0xff},
};

static const struct vt_mode vt_mode0d = {
    {0x09, 0x0f, 0x00, 0x06},
    0x63,
    {0x2d, 0x27, 0x28, 0x90, 0x2b, 0x80, 0xbf, 0x1f, 0x00, 0xc0, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x14, 0x00, 0x96, 0xb9, 0xe3, 0xff},
    {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x10, 0x11,
     0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x01, 0x00, 0x0f, 0x00},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0f, 0xff},
};

static const struct vt_mode vt_mode12 = {
    {0x01, 0x0f, 0x00, 0x06},
    0xe3,
    {0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0x0b, 0x3e, 0x00, 0x40, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0xea, 0x8c, 0xdf, 0x28, 0x00, 0xe7, 0x04, 0xe3, 0xff},
    {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39,
     0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x01, 0x00, 0x0f, 0x00},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0f, 0xff},
};

static const struct vt_mode vt_mode13 = {
    {0x01, 0x0f, 0x00, 0x0e},
    0x63,
    {0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3, 0xff},
    {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
     0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x41, 0x00, 0x0f, 0x00},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff},
};

/* stdvga_set_mode without the palette and the screen clearing. */
static inline void vt_set_mode(struct vt *t, const struct vt_mode *m)
{
	for (uint8_t i = 0; i <= 0x13; i++)
		vt_attr(t, i, m->actl[i]);
	vt_attr(t, 0x14, 0x00);
	vt_seq(t, 0x00, 0x03);
	for (uint8_t i = 1; i <= 4; i++)
		vt_seq(t, i, m->sequ[i - 1]);
	for (uint8_t i = 0; i <= 8; i++)
		vt_gr(t, i, m->grdc[i]);
	vt_crtc(t, 0x11, 0x00);
	for (uint8_t i = 0; i <= 0x18; i++)
		vt_crtc(t, i, m->crtc[i]);
	houtb(&t->h, 0x3c2, m->misc);
	vt_attr_index(t, 0x20);
}

/* A made-up font whose every glyph row differs: char c, row r. */
static inline uint8_t vt_glyph(unsigned c, unsigned r)
{
	return (uint8_t)(c * 0x9d + r * 0x3b + (c >> 3) * r);
}

/* stdvga_load_font: plane 2 opened to the CPU, 32 bytes per character. */
static inline void vt_load_font(struct vt *t, unsigned map_offset, unsigned height, unsigned seed)
{
	vt_seq(t, 0x00, 0x01);
	vt_seq(t, 0x02, 0x04);
	vt_seq(t, 0x04, 0x07);
	vt_seq(t, 0x00, 0x03);
	vt_gr(t, 0x04, 0x02);
	vt_gr(t, 0x05, 0x00);
	vt_gr(t, 0x06, 0x04);
	for (unsigned c = 0; c < 256; c++)
		for (unsigned r = 0; r < height; r++)
			hmmio_write(&t->h, WIN + map_offset + c * 32 + r, vt_glyph(c + seed, r), 1);
	vt_seq(t, 0x00, 0x01);
	vt_seq(t, 0x02, 0x03);
	vt_seq(t, 0x04, 0x03);
	vt_seq(t, 0x00, 0x03);
	vt_gr(t, 0x06, 0x0e);
	vt_gr(t, 0x04, 0x00);
	vt_gr(t, 0x05, 0x10);
}

/* --- the surface --------------------------------------------------------- */

static inline void vt_refresh(struct vt *t)
{
	display_refresh(t->s);
}

static inline uint32_t vt_px(struct vt *t, unsigned x, unsigned y)
{
	struct display_view v;
	display_lock(t->s, &v);
	assert_true(x < v.width && y < v.height);
	uint32_t p = v.pixels[(size_t)y * (v.stride / 4) + x];
	display_unlock(t->s);
	return p;
}

static inline void vt_size(struct vt *t, unsigned *w, unsigned *h, uint64_t *gen)
{
	struct display_view v;
	display_lock(t->s, &v);
	*w = v.width;
	*h = v.height;
	if (gen)
		*gen = v.generation;
	display_unlock(t->s);
}

static inline void vt_assert_size(struct vt *t, unsigned w, unsigned h)
{
	unsigned sw, sh;
	vt_size(t, &sw, &sh, NULL);
	assert_int_equal(sw, w);
	assert_int_equal(sh, h);
}

/* Dispi registers through the I/O ports, as SeaBIOS and bochs-drm do. */
static inline void vt_dispi(struct vt *t, uint16_t index, uint16_t v)
{
	houtw(&t->h, 0x1ce, index);
	houtw(&t->h, 0x1cf, v);
}

static inline uint16_t vt_dispi_read(struct vt *t, uint16_t index)
{
	houtw(&t->h, 0x1ce, index);
	return hinw(&t->h, 0x1cf);
}

#endif
