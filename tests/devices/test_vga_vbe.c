/* Bochs VBE: modes set the way Linux's bochs DRM driver (through the MMIO
 * BAR) and SeaBIOS (through ports 0x1CE/0x1CF) set them, pixels written
 * into the framebuffer behind BAR0 and checked on the surface at every
 * depth; virtual width and offsets, the banked window, the 8-bit DAC,
 * framebuffer byte order, resizes and the KVM dirty log's use. */
#include "tests/devices/vga_driver.h"

#define DISPI_ID	  0x0
#define DISPI_XRES	  0x1
#define DISPI_YRES	  0x2
#define DISPI_BPP	  0x3
#define DISPI_ENABLE	  0x4
#define DISPI_BANK	  0x5
#define DISPI_VIRT_WIDTH  0x6
#define DISPI_VIRT_HEIGHT 0x7
#define DISPI_X_OFFSET	  0x8
#define DISPI_Y_OFFSET	  0x9
#define DISPI_VIDEO_MEM	  0xa
#define ENABLED		  0x01
#define GETCAPS		  0x02
#define DAC8		  0x20
#define LFB		  0x40
#define NOCLEARMEM	  0x80

static void mmio_dispi(struct vt *t, unsigned reg, uint16_t v)
{
	hmmio_write(&t->h, VGA_MMIO + 0x500 + 2 * reg, v, 2);
}

static uint16_t mmio_dispi_read(struct vt *t, unsigned reg)
{
	return (uint16_t)hmmio_read(&t->h, VGA_MMIO + 0x500 + 2 * reg, 2);
}

/* bochs_hw_init + bochs_hw_setmode + bochs_hw_setbase + setformat. */
static void drm_setmode(struct vt *t, unsigned xres, unsigned yres)
{
	uint16_t id = mmio_dispi_read(t, DISPI_ID);
	assert_int_equal(id & 0xfff0, 0xb0c0);
	assert_int_equal(mmio_dispi_read(t, DISPI_VIDEO_MEM) * 64u * 1024, 16u << 20);
	uint32_t qext = (uint32_t)hmmio_read(&t->h, VGA_MMIO + 0x600, 4);
	assert_true(qext >= 8 && qext <= 0x1000);
	hmmio_write(&t->h, VGA_MMIO + 0x604, 0x1e1e1e1e, 4); /* little endian */
	/* Unblank. */
	hmmio_write(&t->h, VGA_MMIO + 0x402, 0x01, 1);
	hmmio_read(&t->h, VGA_MMIO + 0x41a, 1);
	hmmio_write(&t->h, VGA_MMIO + 0x400, 0x20, 1);
	mmio_dispi(t, DISPI_ENABLE, 0);
	mmio_dispi(t, DISPI_BPP, 32);
	mmio_dispi(t, DISPI_XRES, (uint16_t)xres);
	mmio_dispi(t, DISPI_YRES, (uint16_t)yres);
	mmio_dispi(t, DISPI_BANK, 0);
	mmio_dispi(t, DISPI_VIRT_WIDTH, (uint16_t)xres);
	mmio_dispi(t, DISPI_VIRT_HEIGHT, (uint16_t)((16u << 20) / (xres * 4)));
	mmio_dispi(t, DISPI_X_OFFSET, 0);
	mmio_dispi(t, DISPI_Y_OFFSET, 0);
	mmio_dispi(t, DISPI_ENABLE, ENABLED | LFB);
	mmio_dispi(t, DISPI_VIRT_WIDTH, (uint16_t)xres);
	mmio_dispi(t, DISPI_X_OFFSET, 0);
	mmio_dispi(t, DISPI_Y_OFFSET, 0);
}

/* bochsvga_set_mode for a packed-pixel mode, through the ports. */
static void bios_setmode(struct vt *t, unsigned xres, unsigned yres, unsigned bpp, uint16_t flags)
{
	vt_dispi(t, DISPI_ENABLE, 0);
	vt_dispi(t, DISPI_BPP, (uint16_t)bpp);
	vt_dispi(t, DISPI_XRES, (uint16_t)xres);
	vt_dispi(t, DISPI_YRES, (uint16_t)yres);
	vt_dispi(t, DISPI_BANK, 0);
	vt_dispi(t, DISPI_ENABLE, (uint16_t)(ENABLED | flags));
	/* VGA compatibility set-up, as bochsvga.c does it. */
	vt_crtc(t, 0x11, 0x00);
	vt_crtc(t, 0x01, (uint8_t)(xres / 8 - 1));
	vt_gr(t, 0x06, 0x05);
	vt_seq(t, 0x02, 0x0f);
	vt_seq(t, 0x04, (uint8_t)(vt_seq_read(t, 0x04) | 0x08));
	vt_gr(t, 0x05, (uint8_t)((vt_gr_read(t, 0x05) & ~0x20) | 0x40));
	vt_attr_index(t, 0x20);
}

static uint32_t pat32(unsigned x, unsigned y)
{
	return (x * 0x010203u + y * 0x030201u) & 0xffffff;
}

static void test_drm_1024x768x32(void **state)
{
	struct vt *t = vt_new(NULL);
	vt_map_bars(t);
	struct display_consumer *c = display_consumer_new(t->s);
	struct display_rect r[4];
	vt_refresh(t);
	uint64_t gen0;
	display_consumer_take(c, r, 4, &gen0);

	drm_setmode(t, 1024, 768);
	uint8_t *fb = vt_lfb(t, 0, 1024 * 768 * 4);
	for (unsigned y = 0; y < 768; y++)
		for (unsigned x = 0; x < 1024; x++) {
			uint32_t p = pat32(x, y);
			memcpy(fb + 4 * (y * 1024 + x), &p, 4); /* XRGB8888 little endian */
		}
	vt_refresh(t);
	uint64_t gen;
	assert_int_equal(display_consumer_take(c, r, 4, &gen), 1);
	assert_true(gen > gen0);
	assert_int_equal(r[0].w, 1024);
	assert_int_equal(r[0].h, 768);
	struct display_view v;
	display_lock(t->s, &v);
	assert_int_equal(v.width, 1024);
	assert_int_equal(v.height, 768);
	for (unsigned y = 0; y < 768; y++)
		for (unsigned x = 0; x < 1024; x++)
			if (v.pixels[y * 1024 + x] != pat32(x, y)) {
				display_unlock(t->s);
				fail_msg("pixel (%u,%u) is %06x", x, y, v.pixels[y * 1024 + x]);
			}
	display_unlock(t->s);
	/* Page flip: bochs_hw_setbase to the second page. */
	for (unsigned x = 0; x < 1024; x++)
		memcpy(fb + 4 * (768 * 1024 + x), &(uint32_t){0x00abcdef}, 4);
	mmio_dispi(t, DISPI_Y_OFFSET, 768);
	vt_refresh(t);
	assert_int_equal(vt_px(t, 5, 0), 0xabcdef);
	/* 1920x1080 fits as well. */
	drm_setmode(t, 1920, 1080);
	fb = vt_lfb(t, 0, 1920 * 1080 * 4);
	memcpy(fb + 4 * (1079 * 1920 + 1919), &(uint32_t){0x123456}, 4);
	vt_refresh(t);
	vt_assert_size(t, 1920, 1080);
	assert_int_equal(vt_px(t, 1919, 1079), 0x123456);
	assert_int_equal(vt_px(t, 0, 0), 0);
	display_consumer_free(c);
	vt_free(t);
}

static uint16_t pat16(unsigned x, unsigned y)
{
	return (uint16_t)(x * 37 + y * 1021);
}

static void test_bios_800x600x16(void **state)
{
	struct vt *t = vt_new(NULL);
	vt_map_bars(t);
	bios_setmode(t, 800, 600, 16, LFB);
	assert_int_equal(vt_dispi_read(t, DISPI_VIRT_WIDTH), 800);
	assert_int_equal(vt_dispi_read(t, DISPI_VIRT_HEIGHT), (16u << 20) / 1600);
	uint8_t *fb = vt_lfb(t, 0, 800 * 600 * 2);
	for (unsigned y = 0; y < 600; y++)
		for (unsigned x = 0; x < 800; x++) {
			uint16_t p = pat16(x, y);
			fb[2 * (y * 800 + x)] = (uint8_t)p;
			fb[2 * (y * 800 + x) + 1] = (uint8_t)(p >> 8);
		}
	vt_refresh(t);
	vt_assert_size(t, 800, 600);
	struct display_view v;
	display_lock(t->s, &v);
	for (unsigned y = 0; y < 600; y++)
		for (unsigned x = 0; x < 800; x++) {
			unsigned p = pat16(x, y);
			uint32_t want =
			    ((p >> 11) & 0x1f) << 19 | ((p >> 5) & 0x3f) << 10 | (p & 0x1f) << 3;
			assert_int_equal(v.pixels[y * 800 + x], want);
		}
	display_unlock(t->s);
	vt_free(t);
}

static void test_depths(void **state)
{
	struct vt *t = vt_new(NULL);
	vt_map_bars(t);
	uint8_t *fb = vt_lfb(t, 0, 64);
	/* 15 bpp: x555. */
	bios_setmode(t, 640, 480, 15, LFB);
	fb[0] = 0x1f;
	fb[1] = 0x7c; /* 0x7c1f: red 31, green 0, blue 31 */
	vt_refresh(t);
	assert_int_equal(vt_px(t, 0, 0), 0xf800f8);
	/* 24 bpp: B, G, R bytes. */
	bios_setmode(t, 640, 480, 24, LFB);
	fb[3] = 0x11;
	fb[4] = 0x22;
	fb[5] = 0x33;
	vt_refresh(t);
	assert_int_equal(vt_px(t, 1, 0), 0x332211);
	/* 8 bpp through the DAC, 6 bits per colour... */
	bios_setmode(t, 640, 480, 8, LFB);
	vt_dac(t, 0x80, 0x3f, 0x20, 0x01);
	fb[2] = 0x80;
	vt_refresh(t);
	assert_int_equal(vt_px(t, 2, 0), vt_rgb6(0x3f, 0x20, 0x01));
	/* ...or 8 with the VBE 8-bit DAC switch (VBE function 4F08h). */
	vt_dispi(t, DISPI_ENABLE, ENABLED | LFB | NOCLEARMEM | DAC8);
	vt_dac(t, 0x80, 0xfe, 0x80, 0x02);
	vt_refresh(t);
	assert_int_equal(vt_px(t, 2, 0), 0xfe8002);
	assert_int_equal(fb[2], 0x80); /* NOCLEARMEM kept the framebuffer */
	/* Enabling without NOCLEARMEM clears the visible framebuffer. */
	vt_dispi(t, DISPI_ENABLE, 0);
	vt_dispi(t, DISPI_ENABLE, ENABLED | LFB);
	assert_int_equal(fb[2], 0);
	vt_free(t);
}

static void test_virtual_width_and_offsets(void **state)
{
	struct vt *t = vt_new(NULL);
	vt_map_bars(t);
	bios_setmode(t, 640, 480, 32, LFB);
	/* VBE 4F06h: a 1024-pixel logical line; 4F07h: display start. */
	vt_dispi(t, DISPI_VIRT_WIDTH, 1024);
	vt_dispi(t, DISPI_X_OFFSET, 16);
	vt_dispi(t, DISPI_Y_OFFSET, 20);
	uint8_t *fb = vt_lfb(t, 0, 1024 * 600 * 4);
	for (unsigned y = 0; y < 600; y++)
		for (unsigned x = 0; x < 1024; x++)
			memcpy(fb + 4 * (y * 1024 + x), &(uint32_t){pat32(x, y)}, 4);
	vt_refresh(t);
	vt_assert_size(t, 640, 480);
	for (unsigned y = 0; y < 480; y += 31)
		for (unsigned x = 0; x < 640; x += 17)
			assert_int_equal(vt_px(t, x, y), pat32(x + 16, y + 20));
	assert_int_equal(vt_dispi_read(t, DISPI_VIRT_HEIGHT), (16u << 20) / 4096);
	vt_free(t);
}

static void test_banked_window(void **state)
{
	struct vt *t = vt_new(NULL);
	vt_map_bars(t);
	bios_setmode(t, 640, 480, 8, 0);
	/* VBE 4F05h: bank 2 at 0xA0000. */
	vt_dispi(t, DISPI_BANK, 2);
	assert_int_equal(vt_dispi_read(t, DISPI_BANK), 2);
	hmmio_write(&t->h, WIN + 0x10, 0x5a, 1);
	uint8_t *fb = vt_lfb(t, 0, 4 << 20);
	assert_int_equal(fb[2 * 65536 + 0x10], 0x5a);
	fb[2 * 65536 + 0x11] = 0xa5;
	assert_int_equal(hmmio_read(&t->h, WIN + 0x11, 1), 0xa5);
	/* Pixel 0x20010 is x = 0x20010 % 640, y = 0x20010 / 640. */
	vt_dac(t, 0x5a, 0x3f, 0x3f, 0x3f);
	vt_refresh(t);
	assert_int_equal(vt_px(t, 0x20010 % 640, 0x20010 / 640), 0xffffff);
	/* Banks wrap at the end of VRAM. */
	vt_dispi(t, DISPI_BANK, 0xffff);
	assert_int_equal(vt_dispi_read(t, DISPI_BANK), 255);
	vt_free(t);
}

static void test_getcaps_and_ids(void **state)
{
	struct vt *t = vt_new(NULL);
	assert_int_equal(vt_dispi_read(t, DISPI_ID), 0xb0c5);
	vt_dispi(t, DISPI_ID, 0xb0c0);
	assert_int_equal(vt_dispi_read(t, DISPI_ID), 0xb0c0);
	vt_dispi(t, DISPI_ID, 0x1234); /* not an interface version: ignored */
	assert_int_equal(vt_dispi_read(t, DISPI_ID), 0xb0c0);
	vt_dispi(t, DISPI_ENABLE, GETCAPS);
	assert_int_equal(vt_dispi_read(t, DISPI_XRES), 2560);
	assert_int_equal(vt_dispi_read(t, DISPI_YRES), 1600);
	assert_int_equal(vt_dispi_read(t, DISPI_BPP), 32);
	vt_dispi(t, DISPI_ENABLE, 0);
	assert_int_equal(vt_dispi_read(t, DISPI_XRES), 0);
	assert_int_equal(vt_dispi_read(t, DISPI_VIDEO_MEM), 256);
	/* The second data port and a 32-bit index+data write. */
	houtw(&t->h, 0x1ce, DISPI_XRES);
	houtw(&t->h, 0x1d0, 640);
	assert_int_equal(vt_dispi_read(t, DISPI_XRES), 640);
	houtl(&t->h, 0x1ce, (uint32_t)480 << 16 | DISPI_YRES);
	assert_int_equal(vt_dispi_read(t, DISPI_YRES), 480);
	vt_free(t);
}

static void test_big_endian_framebuffer(void **state)
{
	struct vt *t = vt_new(NULL);
	vt_map_bars(t);
	drm_setmode(t, 640, 480);
	/* DRM_FORMAT_BGRX8888: QEMU's byte-order register. */
	hmmio_write(&t->h, VGA_MMIO + 0x604, 0xbebebebe, 4);
	assert_int_equal(hmmio_read(&t->h, VGA_MMIO + 0x604, 4), 0xbebebebe);
	uint8_t *fb = vt_lfb(t, 0, 8);
	fb[0] = 0x00;
	fb[1] = 0x11;
	fb[2] = 0x22;
	fb[3] = 0x33;
	vt_refresh(t);
	assert_int_equal(vt_px(t, 0, 0), 0x112233);
	hmmio_write(&t->h, VGA_MMIO + 0x604, 0x12345678, 4); /* not a byte order */
	assert_int_equal(hmmio_read(&t->h, VGA_MMIO + 0x604, 4), 0xbebebebe);
	vt_free(t);
}

static void test_back_to_text(void **state)
{
	struct vt *t = vt_new(NULL);
	vt_map_bars(t);
	vt_load_ega_palette(t);
	vt_set_mode(t, &vt_mode3);
	vt_refresh(t);
	vt_assert_size(t, 720, 400);
	uint64_t g1, g2, g3;
	unsigned w, h;
	vt_size(t, &w, &h, &g1);
	drm_setmode(t, 800, 600);
	vt_refresh(t);
	vt_size(t, &w, &h, &g2);
	assert_int_equal(w, 800);
	assert_true(g2 > g1);
	/* Blanked by bochs_hw_blank: black, same size. */
	hmmio_read(&t->h, VGA_MMIO + 0x41a, 1);
	hmmio_write(&t->h, VGA_MMIO + 0x400, 0x00, 1);
	memset(vt_lfb(t, 0, 4), 0xff, 4);
	vt_refresh(t);
	assert_int_equal(vt_px(t, 0, 0), 0);
	vt_assert_size(t, 800, 600);
	/* VBE off: the VGA text mode is back, at a new generation. */
	vt_dispi(t, DISPI_ENABLE, 0);
	vt_set_mode(t, &vt_mode3);
	vt_refresh(t);
	vt_size(t, &w, &h, &g3);
	assert_int_equal(w, 720);
	assert_int_equal(h, 400);
	assert_true(g3 > g2);
	vt_free(t);
}

/* A memory listener that logs dirty pages the way KVM does, from a bitmap
 * the test fills in. */
struct fake_log {
	struct memory_listener l;
	uint64_t bits[64];
	unsigned calls;
};

static void fake_region_set(void *opaque, unsigned slot, const struct mem_region *r)
{
}

static int fake_dirty_log(void *opaque, unsigned slot, uint64_t *bitmap)
{
	struct fake_log *f = opaque;
	f->calls++;
	memcpy(bitmap, f->bits, sizeof(f->bits));
	memset(f->bits, 0, sizeof(f->bits));
	return 0;
}

static void set_page(struct fake_log *f, uint64_t off)
{
	uint64_t p = off >> 12;
	f->bits[p / 64] |= 1ull << (p % 64);
}

static void test_dirty_log(void **state)
{
	struct vt *t = vt_new(NULL);
	struct fake_log f = {.l = {.region_set = fake_region_set, .dirty_log = fake_dirty_log}};
	f.l.opaque = &f;
	guestmem_set_listener(&t->h.m.mem, &f.l);
	vt_map_bars(t);
	drm_setmode(t, 1024, 768);
	struct display_consumer *c = display_consumer_new(t->s);
	struct display_rect r[8];
	vt_refresh(t);
	display_consumer_take(c, r, 8, NULL);
	assert_true(f.calls > 0);

	uint8_t *fb = vt_lfb(t, 0, 1024 * 768 * 4);
	/* The guest writes lines 100 and 300, but the log shows only the
	 * page of line 300: only that is redrawn. */
	memcpy(fb + 4 * (100 * 1024 + 10), &(uint32_t){0xff0000}, 4);
	memcpy(fb + 4 * (300 * 1024 + 10), &(uint32_t){0x00ff00}, 4);
	set_page(&f, 4 * (300 * 1024 + 10));
	vt_refresh(t);
	assert_int_equal(vt_px(t, 10, 300), 0x00ff00);
	assert_int_equal(vt_px(t, 10, 100), 0);
	assert_int_equal(display_consumer_take(c, r, 8, NULL), 1);
	assert_int_equal(r[0].y, 288);
	assert_int_equal(r[0].h, DISPLAY_TILE);
	/* An empty log: no work, nothing reported. */
	vt_refresh(t);
	assert_int_equal(display_consumer_take(c, r, 8, NULL), 0);
	assert_int_equal(vt_px(t, 10, 100), 0);
	/* Now the log has line 100. */
	set_page(&f, 4 * (100 * 1024));
	vt_refresh(t);
	assert_int_equal(vt_px(t, 10, 100), 0xff0000);
	assert_int_equal(display_consumer_take(c, r, 8, NULL), 1);
	display_consumer_free(c);
	pci_config_write(t->h.m.pci, VGA_DEVFN, PCI_COMMAND, 0, 2);
	guestmem_set_listener(&t->h.m.mem, NULL);
	vt_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_drm_1024x768x32),
	    cmocka_unit_test(test_bios_800x600x16),
	    cmocka_unit_test(test_depths),
	    cmocka_unit_test(test_virtual_width_and_offsets),
	    cmocka_unit_test(test_banked_window),
	    cmocka_unit_test(test_getcaps_and_ids),
	    cmocka_unit_test(test_big_endian_framebuffer),
	    cmocka_unit_test(test_back_to_text),
	    cmocka_unit_test(test_dirty_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
