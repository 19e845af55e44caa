/* VGA graphics modes programmed from the BIOS's register tables: mode 13h
 * (chain-4) and unchained "mode X" checked pixel for pixel, planar mode 12h
 * with every write mode, the latches, rotate, logical functions, bit mask,
 * map mask and both read modes, 16-colour 320x200 (0Dh), CGA 320x200x4
 * (04h), pixel panning and dirty tracking. */
#include "tests/devices/vga_driver.h"

/* A palette unlike the BIOS's, so that colours prove the DAC path. */
static void test_palette(struct vt *t)
{
	houtb(&t->h, 0x3c6, 0xff);
	for (unsigned i = 0; i < 256; i++)
		vt_dac(t, (uint8_t)i, (uint8_t)(i & 0x3f), (uint8_t)((i >> 2) & 0x3f),
		       (uint8_t)((255 - i) & 0x3f));
}

static uint32_t test_colour(unsigned i)
{
	return vt_rgb6((uint8_t)(i & 0x3f), (uint8_t)((i >> 2) & 0x3f),
		       (uint8_t)((255 - i) & 0x3f));
}

static uint8_t pat(unsigned x, unsigned y)
{
	return (uint8_t)(x * 3 + y * 5 + (x * y >> 4));
}

/* Each of the 320x200 pixels is 2x2 on the 640x400 surface. */
static void check_256(struct vt *t, uint8_t (*pixel)(unsigned, unsigned))
{
	struct display_view v;
	display_lock(t->s, &v);
	assert_int_equal(v.width, 640);
	assert_int_equal(v.height, 400);
	for (unsigned y = 0; y < 400; y++)
		for (unsigned x = 0; x < 640; x++) {
			uint32_t want = test_colour(pixel(x / 2, y / 2));
			if (v.pixels[y * 640 + x] != want) {
				display_unlock(t->s);
				fail_msg("pixel (%u,%u) is %06x, want %06x", x, y,
					 v.pixels[y * 640 + x], want);
			}
		}
	display_unlock(t->s);
}

static void test_mode13(void **state)
{
	struct vt *t = vt_new(NULL);
	vt_set_mode(t, &vt_mode13);
	test_palette(t);
	for (unsigned y = 0; y < 200; y++)
		for (unsigned x = 0; x < 320; x += 4) {
			uint32_t four = 0;
			for (unsigned k = 0; k < 4; k++)
				four |= (uint32_t)pat(x + k, y) << (8 * k);
			hmmio_write(&t->h, WIN + y * 320 + x, four, 4);
		}
	vt_refresh(t);
	check_256(t, pat);
	/* Reads through the window give the bytes back. */
	for (unsigned i = 0; i < 64000; i += 997)
		assert_int_equal(hmmio_read(&t->h, WIN + i, 1), pat(i % 320, i / 320));
	/* Chain-4 puts byte a in plane a & 3 at offset a & ~3: plane 2 at
	 * offset 8 is the pixel at address 10. */
	vt_seq(t, 0x04, 0x06);
	vt_gr(t, 0x05, 0x00);
	vt_gr(t, 0x04, 0x02);
	assert_int_equal(hmmio_read(&t->h, WIN + 8, 1), pat(10, 0));
	vt_free(t);
}

static uint8_t patx(unsigned x, unsigned y)
{
	return (uint8_t)(x ^ (y * 7));
}

static void test_mode_x(void **state)
{
	struct vt *t = vt_new(NULL);
	vt_set_mode(t, &vt_mode13);
	test_palette(t);
	/* Unchained: chain-4 off, byte addressing. */
	vt_seq(t, 0x04, 0x06);
	vt_crtc(t, 0x14, 0x00);
	vt_crtc(t, 0x17, 0xe3);
	for (unsigned plane = 0; plane < 4; plane++) {
		vt_seq(t, 0x02, (uint8_t)(1 << plane));
		for (unsigned y = 0; y < 200; y++)
			for (unsigned x = plane; x < 320; x += 4)
				hmmio_write(&t->h, WIN + y * 80 + x / 4, patx(x, y), 1);
	}
	vt_refresh(t);
	check_256(t, patx);
	/* Page flipping: the second page starts 16000 bytes on. */
	vt_seq(t, 0x02, 0x0f);
	for (unsigned i = 0; i < 16000; i++)
		hmmio_write(&t->h, WIN + 16000 + i, 0x42, 1);
	vt_crtc(t, 0x0c, 16000 >> 8);
	vt_crtc(t, 0x0d, 16000 & 0xff);
	vt_refresh(t);
	assert_int_equal(vt_px(t, 0, 0), test_colour(0x42));
	assert_int_equal(vt_px(t, 639, 399), test_colour(0x42));
	vt_free(t);
}

/* Mode 12h: 80 bytes per line, pixel x in bit 7 - x % 8 of every plane. */
static struct vt *mode12(void)
{
	struct vt *t = vt_new(NULL);
	vt_load_ega_palette(t);
	vt_set_mode(t, &vt_mode12);
	return t;
}

static unsigned plane_pixel(struct vt *t, unsigned x, unsigned y)
{
	unsigned v = 0;
	vt_gr(t, 0x05, 0x00); /* read mode 0 */
	for (unsigned p = 0; p < 4; p++) {
		vt_gr(t, 0x04, (uint8_t)p);
		uint8_t b = (uint8_t)hmmio_read(&t->h, WIN + y * 80 + x / 8, 1);
		v |= ((b >> (7 - x % 8)) & 1u) << p;
	}
	return v;
}

static uint32_t colour12(unsigned c)
{
	return vt_ega(vt_mode12.actl[c & 15]);
}

static void test_mode12_write_mode2(void **state)
{
	struct vt *t = mode12();
	/* What a 16-colour driver's put_pixel does: write mode 2, one bit
	 * in the mask, a dummy read to load the latches. */
	vt_gr(t, 0x05, 0x02);
	for (unsigned y = 0; y < 480; y += 3)
		for (unsigned x = 0; x < 640; x += 5) {
			vt_gr(t, 0x08, (uint8_t)(0x80 >> (x % 8)));
			hmmio_read(&t->h, WIN + y * 80 + x / 8, 1);
			hmmio_write(&t->h, WIN + y * 80 + x / 8, (x + y) & 15, 1);
		}
	vt_gr(t, 0x08, 0xff);
	vt_refresh(t);
	vt_assert_size(t, 640, 480);
	struct display_view v;
	display_lock(t->s, &v);
	for (unsigned y = 0; y < 480; y++)
		for (unsigned x = 0; x < 640; x++) {
			unsigned c = (y % 3 == 0 && x % 5 == 0) ? (x + y) & 15 : 0;
			if (v.pixels[y * 640 + x] != colour12(c)) {
				display_unlock(t->s);
				fail_msg("pixel (%u,%u) is %06x, want colour %u", x, y,
					 v.pixels[y * 640 + x], c);
			}
		}
	display_unlock(t->s);
	assert_int_equal(plane_pixel(t, 10, 3), 13);
	vt_free(t);
}

static void test_mode12_write_mode0(void **state)
{
	struct vt *t = mode12();
	/* Set/reset on all planes: the data byte does not matter. */
	vt_gr(t, 0x05, 0x00);
	vt_gr(t, 0x01, 0x0f);
	vt_gr(t, 0x00, 0x0c);
	vt_gr(t, 0x08, 0xf0);
	hmmio_read(&t->h, WIN, 1);
	hmmio_write(&t->h, WIN, 0x00, 1);
	for (unsigned x = 0; x < 8; x++)
		assert_int_equal(plane_pixel(t, x, 0), x < 4 ? 12 : 0);
	/* Set/reset on planes 0-1 only; planes 2-3 take the CPU data. */
	vt_gr(t, 0x05, 0x00);
	vt_gr(t, 0x01, 0x03);
	vt_gr(t, 0x00, 0x01);
	vt_gr(t, 0x08, 0xff);
	hmmio_write(&t->h, WIN + 1, 0xaa, 1);
	for (unsigned x = 0; x < 8; x++)
		assert_int_equal(plane_pixel(t, 8 + x, 0), 1 | (x % 2 == 0 ? 12 : 0));
	/* Rotate: 0x0f rotated right by 4 is 0xf0; map mask plane 1 only. */
	vt_gr(t, 0x05, 0x00);
	vt_gr(t, 0x01, 0x00);
	vt_gr(t, 0x03, 0x04);
	vt_seq(t, 0x02, 0x02);
	hmmio_write(&t->h, WIN + 2, 0x0f, 1);
	vt_seq(t, 0x02, 0x0f);
	vt_gr(t, 0x03, 0x00);
	for (unsigned x = 0; x < 8; x++)
		assert_int_equal(plane_pixel(t, 16 + x, 0), x < 4 ? 2 : 0);
	vt_refresh(t);
	assert_int_equal(vt_px(t, 0, 0), colour12(12));
	assert_int_equal(vt_px(t, 5, 0), colour12(0));
	assert_int_equal(vt_px(t, 8, 0), colour12(13));
	assert_int_equal(vt_px(t, 9, 0), colour12(1));
	assert_int_equal(vt_px(t, 16, 0), colour12(2));
	vt_free(t);
}

static void test_mode12_logical_ops(void **state)
{
	struct vt *t = mode12();
	vt_gr(t, 0x05, 0x02);
	hmmio_write(&t->h, WIN, 0x05, 1); /* 8 pixels of colour 5 (0101) */
	vt_gr(t, 0x05, 0x00);
	/* XOR with the latches: data 0xff inverts the masked pixels. */
	vt_gr(t, 0x03, 0x18);
	vt_gr(t, 0x08, 0x0f);
	hmmio_read(&t->h, WIN, 1);
	hmmio_write(&t->h, WIN, 0xff, 1);
	for (unsigned x = 0; x < 8; x++)
		assert_int_equal(plane_pixel(t, x, 0), x < 4 ? 5 : 10);
	/* AND with set/reset 0011: colour 5 -> 0001, 10 -> 0010. */
	vt_gr(t, 0x05, 0x00);
	vt_gr(t, 0x03, 0x08);
	vt_gr(t, 0x01, 0x0f);
	vt_gr(t, 0x00, 0x03);
	vt_gr(t, 0x08, 0xff);
	hmmio_read(&t->h, WIN, 1);
	hmmio_write(&t->h, WIN, 0, 1);
	for (unsigned x = 0; x < 8; x++)
		assert_int_equal(plane_pixel(t, x, 0), x < 4 ? 1 : 2);
	/* OR with set/reset 1000. */
	vt_gr(t, 0x05, 0x00);
	vt_gr(t, 0x03, 0x10);
	vt_gr(t, 0x00, 0x08);
	hmmio_read(&t->h, WIN, 1);
	hmmio_write(&t->h, WIN, 0, 1);
	for (unsigned x = 0; x < 8; x++)
		assert_int_equal(plane_pixel(t, x, 0), x < 4 ? 9 : 10);
	vt_free(t);
}

static void test_mode12_write_modes_1_and_3(void **state)
{
	struct vt *t = mode12();
	vt_gr(t, 0x05, 0x02);
	vt_gr(t, 0x08, 0xcc);
	hmmio_read(&t->h, WIN + 80, 1);
	hmmio_write(&t->h, WIN + 80, 0x0e, 1); /* 11001100 in colour 14 */
	/* Write mode 1: a latch copy (screen to screen), all four planes,
	 * regardless of the bit mask and the data. */
	vt_gr(t, 0x05, 0x01);
	vt_gr(t, 0x08, 0x00);
	hmmio_read(&t->h, WIN + 80, 1);
	hmmio_write(&t->h, WIN + 160 + 5, 0x00, 1);
	for (unsigned x = 0; x < 8; x++)
		assert_int_equal(plane_pixel(t, 40 + x, 2), (0xcc >> (7 - x)) & 1 ? 14 : 0);
	/* Write mode 3: the rotated data ANDed with the bit mask selects
	 * which pixels take the set/reset colour. */
	vt_gr(t, 0x05, 0x03);
	vt_gr(t, 0x00, 0x09);
	vt_gr(t, 0x08, 0xf0);
	vt_gr(t, 0x03, 0x00);
	hmmio_read(&t->h, WIN + 240, 1);
	hmmio_write(&t->h, WIN + 240, 0x3c, 1);
	for (unsigned x = 0; x < 8; x++)
		assert_int_equal(plane_pixel(t, x, 3), (0x30 >> (7 - x)) & 1 ? 9 : 0);
	vt_refresh(t);
	assert_int_equal(vt_px(t, 40, 2), colour12(14));
	assert_int_equal(vt_px(t, 42, 2), colour12(0));
	assert_int_equal(vt_px(t, 2, 3), colour12(9));
	vt_free(t);
}

static void test_mode12_read_mode1(void **state)
{
	struct vt *t = mode12();
	vt_gr(t, 0x05, 0x02);
	for (unsigned x = 0; x < 8; x++) {
		vt_gr(t, 0x08, (uint8_t)(0x80 >> x));
		hmmio_read(&t->h, WIN, 1);
		hmmio_write(&t->h, WIN, x == 2 || x == 6 ? 7 : x, 1);
	}
	/* Colour compare: which pixels are colour 7? */
	vt_gr(t, 0x05, 0x08);
	vt_gr(t, 0x02, 0x07);
	vt_gr(t, 0x07, 0x0f);
	assert_int_equal(hmmio_read(&t->h, WIN, 1), 0x22 | 0x01); /* x = 2, 6, 7 */
	/* Plane 3 does not care: colour 7 and 15 both match 0111 then. */
	vt_gr(t, 0x07, 0x07);
	assert_int_equal(hmmio_read(&t->h, WIN, 1), 0x23);
	vt_gr(t, 0x07, 0x00); /* nothing to compare: everything matches */
	assert_int_equal(hmmio_read(&t->h, WIN, 1), 0xff);
	vt_free(t);
}

static void test_mode0d(void **state)
{
	struct vt *t = vt_new(NULL);
	vt_load_ega_palette(t);
	vt_set_mode(t, &vt_mode0d);
	vt_gr(t, 0x05, 0x02);
	for (unsigned y = 0; y < 200; y++)
		for (unsigned xb = 0; xb < 40; xb++) {
			vt_gr(t, 0x08, 0xff);
			hmmio_write(&t->h, WIN + y * 40 + xb, (xb + y) & 15, 1);
		}
	vt_refresh(t);
	vt_assert_size(t, 640, 400); /* dot clock halved, lines doubled */
	struct display_view v;
	display_lock(t->s, &v);
	for (unsigned y = 0; y < 400; y++)
		for (unsigned x = 0; x < 640; x++) {
			unsigned c = (x / 16 + y / 2) & 15;
			assert_int_equal(v.pixels[y * 640 + x], vt_ega(vt_mode0d.actl[c]));
		}
	display_unlock(t->s);
	vt_free(t);
}

static unsigned cga_pixel(unsigned x, unsigned y)
{
	return (x / 3 + y) & 3;
}

static void test_cga_mode4(void **state)
{
	struct vt *t = vt_new(NULL);
	/* pal_cga: 16 colours, then the bright ones. */
	houtb(&t->h, 0x3c6, 0xff);
	for (unsigned i = 0; i < 64; i++)
		vt_dac(t, (uint8_t)i, (uint8_t)(i & 0x3f), (uint8_t)(0x3f - i),
		       (uint8_t)(i * 5 & 0x3f));
	vt_set_mode(t, &vt_mode4);
	/* CGA layout: even lines at 0xB8000, odd lines at 0xBA000, 80 bytes
	 * per line, four 2-bit pixels per byte. */
	for (unsigned y = 0; y < 200; y++)
		for (unsigned xb = 0; xb < 80; xb++) {
			uint8_t b = 0;
			for (unsigned k = 0; k < 4; k++)
				b |= (uint8_t)(cga_pixel(xb * 4 + k, y) << (6 - 2 * k));
			hmmio_write(&t->h, WIN + 0x18000 + (y & 1) * 0x2000 + (y / 2) * 80 + xb, b,
				    1);
		}
	vt_refresh(t);
	vt_assert_size(t, 640, 400);
	struct display_view v;
	display_lock(t->s, &v);
	for (unsigned y = 0; y < 400; y++)
		for (unsigned x = 0; x < 640; x++) {
			unsigned idx = vt_mode4.actl[cga_pixel(x / 2, y / 2)];
			uint32_t want = vt_rgb6((uint8_t)(idx & 0x3f), (uint8_t)(0x3f - idx),
						(uint8_t)(idx * 5 & 0x3f));
			if (v.pixels[y * 640 + x] != want) {
				display_unlock(t->s);
				fail_msg("pixel (%u,%u) is %06x, want %06x", x, y,
					 v.pixels[y * 640 + x], want);
			}
		}
	display_unlock(t->s);
	vt_free(t);
}

static unsigned cga2_bit(unsigned x, unsigned y)
{
	return ((x * x + y * 3) >> 3) & 1;
}

static void test_cga_mode6(void **state)
{
	struct vt *t = vt_new(NULL);
	vt_load_ega_palette(t);
	vt_set_mode(t, &vt_mode6);
	/* 640x200, one bit per pixel in plane 0, CGA line interleave. */
	for (unsigned y = 0; y < 200; y++)
		for (unsigned xb = 0; xb < 80; xb++) {
			uint8_t b = 0;
			for (unsigned k = 0; k < 8; k++)
				b |= (uint8_t)(cga2_bit(xb * 8 + k, y) << (7 - k));
			hmmio_write(&t->h, WIN + 0x18000 + (y & 1) * 0x2000 + (y / 2) * 80 + xb, b,
				    1);
		}
	vt_refresh(t);
	vt_assert_size(t, 640, 400);
	struct display_view v;
	display_lock(t->s, &v);
	for (unsigned y = 0; y < 400; y++)
		for (unsigned x = 0; x < 640; x++) {
			uint32_t want = vt_ega(cga2_bit(x, y / 2) ? 0x17 : 0);
			if (v.pixels[y * 640 + x] != want) {
				display_unlock(t->s);
				fail_msg("pixel (%u,%u) is %06x, want %06x", x, y,
					 v.pixels[y * 640 + x], want);
			}
		}
	display_unlock(t->s);
	vt_free(t);
}

/* SeaBIOS's 4-bpp VBE modes: planar, through the attribute palette, with
 * 64 KiB banks of each plane. */
static void test_vbe_planar(void **state)
{
	struct vt *t = vt_new(NULL);
	vt_load_ega_palette(t);
	vt_set_mode(t, &vt_mode12);
	houtw(&t->h, 0x1ce, 3);
	houtw(&t->h, 0x1cf, 4);
	houtw(&t->h, 0x1ce, 1);
	houtw(&t->h, 0x1cf, 800);
	houtw(&t->h, 0x1ce, 2);
	houtw(&t->h, 0x1cf, 600);
	houtw(&t->h, 0x1ce, 4);
	houtw(&t->h, 0x1cf, 0x01);
	houtw(&t->h, 0x1ce, 6); /* 1600 pixels a line: 200 bytes of each plane */
	houtw(&t->h, 0x1cf, 1600);
	vt_gr(t, 0x05, 0x02);
	vt_gr(t, 0x08, 0xff);
	/* Line 400 starts at plane offset 80000: bank 1, offset 14464. */
	houtw(&t->h, 0x1ce, 5);
	houtw(&t->h, 0x1cf, 1);
	hmmio_write(&t->h, WIN + 14464 + 2, 0x0b, 1);
	houtw(&t->h, 0x1ce, 5);
	houtw(&t->h, 0x1cf, 0);
	hmmio_write(&t->h, WIN + 200 * 10 + 99, 0x0e, 1);
	vt_refresh(t);
	vt_assert_size(t, 800, 600);
	for (unsigned x = 16; x < 24; x++)
		assert_int_equal(vt_px(t, x, 400), colour12(0x0b));
	assert_int_equal(vt_px(t, 15, 400), colour12(0));
	for (unsigned x = 792; x < 800; x++)
		assert_int_equal(vt_px(t, x, 10), colour12(0x0e));
	vt_free(t);
}

static void test_panning(void **state)
{
	struct vt *t = mode12();
	vt_gr(t, 0x05, 0x02);
	vt_gr(t, 0x08, 0x80 >> 3);
	hmmio_read(&t->h, WIN, 1);
	hmmio_write(&t->h, WIN, 9, 1); /* pixel 3 */
	vt_refresh(t);
	assert_int_equal(vt_px(t, 3, 0), colour12(9));
	vt_attr(t, 0x13, 2);
	vt_refresh(t);
	assert_int_equal(vt_px(t, 1, 0), colour12(9));
	assert_int_equal(vt_px(t, 3, 0), colour12(0));
	vt_free(t);
}

static void test_gfx_dirty(void **state)
{
	struct vt *t = vt_new(NULL);
	vt_set_mode(t, &vt_mode13);
	test_palette(t);
	struct display_consumer *c = display_consumer_new(t->s);
	struct display_rect r[8];
	vt_refresh(t);
	assert_int_equal(display_consumer_take(c, r, 8, NULL), 1);
	vt_refresh(t);
	assert_int_equal(display_consumer_take(c, r, 8, NULL), 0);
	hmmio_write(&t->h, WIN + 100 * 320 + 200, 0x77, 1);
	vt_refresh(t);
	assert_int_equal(display_consumer_take(c, r, 8, NULL), 1);
	/* Pixel (200,100) is (400..401, 200..201) on the surface. */
	assert_int_equal(r[0].x, 384);
	assert_int_equal(r[0].y, 192);
	assert_int_equal(r[0].w, DISPLAY_TILE);
	assert_int_equal(r[0].h, DISPLAY_TILE);
	assert_int_equal(vt_px(t, 401, 201), test_colour(0x77));
	/* A palette change redraws what uses the entry, nothing else. */
	vt_dac(t, 0x77, 0, 0, 0);
	vt_refresh(t);
	assert_int_equal(display_consumer_take(c, r, 8, NULL), 1);
	assert_int_equal(r[0].x, 384);
	assert_int_equal(vt_px(t, 401, 201), 0);
	display_consumer_free(c);
	vt_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mode13),
	    cmocka_unit_test(test_mode_x),
	    cmocka_unit_test(test_mode12_write_mode2),
	    cmocka_unit_test(test_mode12_write_mode0),
	    cmocka_unit_test(test_mode12_logical_ops),
	    cmocka_unit_test(test_mode12_write_modes_1_and_3),
	    cmocka_unit_test(test_mode12_read_mode1),
	    cmocka_unit_test(test_mode0d),
	    cmocka_unit_test(test_cga_mode4),
	    cmocka_unit_test(test_cga_mode6),
	    cmocka_unit_test(test_vbe_planar),
	    cmocka_unit_test(test_panning),
	    cmocka_unit_test(test_gfx_dirty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
