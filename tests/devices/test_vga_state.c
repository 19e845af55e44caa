/* The VGA's saved state: a text screen and a VBE picture saved, loaded into
 * a new machine and shown there pixel for pixel without the guest doing
 * anything; registers caught half way (a DAC entry, the attribute
 * flip-flop) go on where they were; the framebuffer BAR and its dirty log
 * work again; only non-zero video memory is saved; damaged sections are
 * refused with a sentence naming the field. */
#include "hypervisor/vmstate.h"
#include "tests/devices/vga_driver.h"

#include <errno.h>
#include <stdio.h>

#define TEXT	0xb8000ull
#define SECTION "vga"

/* --- saving and loading ---------------------------------------------------- */

static void save(struct vt *t, struct vmstate_out *out)
{
	const struct device_model *dm = device_model_find("vga");
	assert_non_null(dm);
	assert_int_equal(dm->state_version, 1);
	vmstate_out_init(out);
	vmstate_begin(out, SECTION, dm->state_version);
	dm->save(t->vga, out);
	vmstate_end(out);
	assert_int_equal(vmstate_out_error(out), 0);
}

/* Loads into t; returns load's result, the reader's sentence in err. */
static int load(struct vt *t, const struct vmstate_out *out, char *err, size_t errlen)
{
	struct vmstate_in *in;
	char perr[256];
	assert_int_equal(vmstate_in_parse(out->buf, out->len, &in, perr, sizeof(perr)), 0);
	struct vmstate_section *s = vmstate_section(in, SECTION);
	assert_non_null(s);
	int r = device_model_find("vga")->load(t->vga, s);
	snprintf(err, errlen, "%s", vmstate_error(in));
	vmstate_in_free(in);
	return r;
}

/* A copy of the surface: size and every pixel. */
struct shot {
	unsigned w, h;
	uint32_t *px;
};

static void take(struct vt *t, struct shot *s)
{
	struct display_view v;
	display_lock(t->s, &v);
	s->w = v.width;
	s->h = v.height;
	s->px = malloc((size_t)v.width * v.height * 4);
	assert_non_null(s->px);
	for (unsigned y = 0; y < v.height; y++)
		memcpy(s->px + (size_t)y * v.width, (uint8_t *)v.pixels + (size_t)y * v.stride,
		       (size_t)v.width * 4);
	display_unlock(t->s);
}

static void assert_same(const struct shot *a, const struct shot *b)
{
	assert_int_equal(a->w, b->w);
	assert_int_equal(a->h, b->h);
	for (size_t i = 0; i < (size_t)a->w * a->h; i++)
		if (a->px[i] != b->px[i])
			fail_msg("pixel (%zu,%zu) is %06x after loading, %06x before", i % a->w,
				 i / a->w, b->px[i], a->px[i]);
}

/* Saves t, loads into a new machine, and checks that its surface is t's
 * before anything renders it again. Returns the new machine. */
static struct vt *round_trip(struct vt *t, size_t *saved_bytes)
{
	struct shot before, after;
	vt_refresh(t);
	take(t, &before);
	struct vmstate_out out;
	save(t, &out);
	if (saved_bytes)
		*saved_bytes = out.len;
	struct vt *n = vt_new(NULL);
	char err[256];
	assert_int_equal(load(n, &out, err, sizeof(err)), 0);
	vmstate_out_free(&out);
	take(n, &after);
	assert_same(&before, &after);
	free(before.px);
	free(after.px);
	return n;
}

/* --- a text screen ----------------------------------------------------------- */

static void text_screen(struct vt *t)
{
	vt_load_ega_palette(t);
	vt_set_mode(t, &vt_mode3);
	for (unsigned i = 0; i < 80 * 25; i++)
		hmmio_write(&t->h, TEXT + 2 * i, 0x0720, 2);
	vt_load_font(t, 0, 16, 0);
	const char *msg = "osio saved this screen";
	for (unsigned i = 0; msg[i]; i++)
		hmmio_write(&t->h, TEXT + 2 * (3 * 80 + 5 + i), 0x1f00u | (uint8_t)msg[i], 2);
	for (unsigned c = 0; c < 16; c++)
		hmmio_write(&t->h, TEXT + 2 * (10 * 80 + c),
			    (uint64_t)(c << 4 | (15 - c)) << 8 | 0xdb, 2);
	vt_crtc(t, 0x0e, (3 * 80 + 27) >> 8);
	vt_crtc(t, 0x0f, (3 * 80 + 27) & 0xff);
	vt_crtc(t, 0x0a, 0x0d);
	vt_crtc(t, 0x0b, 0x0e);
}

static void test_text_mode(void **state)
{
	struct vt *t = vt_new(NULL);
	text_screen(t);
	size_t bytes;
	struct vt *n = round_trip(t, &bytes);
	/* The planes take 256 KiB at most: none of the 16 MiB of zeroes. */
	assert_true(bytes < 300 * 1024);
	assert_true(bytes > 16 * 1024);
	char a[4096], b[4096];
	unsigned cols, rows;
	assert_int_equal(vga_text_snapshot(t->vga, a, sizeof(a), &cols, &rows), 0);
	assert_int_equal(vga_text_snapshot(n->vga, b, sizeof(b), &cols, &rows), 0);
	assert_string_equal(a, b);
	assert_non_null(strstr(b, "osio saved this screen"));
	assert_int_equal(cols, 80);
	assert_int_equal(rows, 25);
	/* The guest writes on: the new machine draws it. */
	hmmio_write(&n->h, TEXT + 2 * (3 * 80 + 5), 0x1f00u | 'O', 2);
	assert_int_equal(vga_text_snapshot(n->vga, b, sizeof(b), &cols, &rows), 0);
	assert_non_null(strstr(b, "Osio saved this screen"));
	vt_free(t);
	vt_free(n);
}

/* Registers caught between two accesses of a sequence. */
static void test_half_written_registers(void **state)
{
	struct vt *t = vt_new(NULL);
	text_screen(t);
	/* DAC entry 9: red and green written, blue not yet. */
	houtb(&t->h, 0x3c8, 9);
	houtb(&t->h, 0x3c9, 0x11);
	houtb(&t->h, 0x3c9, 0x22);
	/* The attribute flip-flop on data: the index went out last. */
	hinb(&t->h, 0x3da);
	houtb(&t->h, 0x3c0, 0x20 | 0x12);
	/* A sequencer and a CRTC index left selected. */
	houtb(&t->h, 0x3c4, 0x02);
	houtb(&t->h, 0x3d4, 0x0e);
	struct vt *n = round_trip(t, NULL);
	houtb(&n->h, 0x3c9, 0x33);
	houtb(&n->h, 0x3c0, 0x0b);		    /* data: colour plane enable */
	assert_int_equal(hinb(&n->h, 0x3c5), 0x03); /* map mask of mode 3 */
	assert_int_equal(hinb(&n->h, 0x3d5), 0x01);
	houtb(&n->h, 0x3c7, 9);
	assert_int_equal(hinb(&n->h, 0x3c9), 0x11);
	assert_int_equal(hinb(&n->h, 0x3c9), 0x22);
	assert_int_equal(hinb(&n->h, 0x3c9), 0x33);
	assert_int_equal(vt_attr_read(n, 0x12), 0x0b);
	vt_free(t);
	vt_free(n);
}

/* --- a VBE picture ------------------------------------------------------------ */

static void mmio_dispi(struct vt *t, unsigned reg, uint16_t v)
{
	hmmio_write(&t->h, VGA_MMIO + 0x500 + 2 * reg, v, 2);
}

/* bochs-drm's mode set, 32 bpp. */
static void drm_mode(struct vt *t, unsigned xres, unsigned yres)
{
	hmmio_write(&t->h, VGA_MMIO + 0x604, 0x1e1e1e1e, 4);
	hmmio_write(&t->h, VGA_MMIO + 0x400, 0x20, 1);
	mmio_dispi(t, 4, 0);
	mmio_dispi(t, 3, 32);
	mmio_dispi(t, 1, (uint16_t)xres);
	mmio_dispi(t, 2, (uint16_t)yres);
	mmio_dispi(t, 5, 0);
	mmio_dispi(t, 6, (uint16_t)xres);
	mmio_dispi(t, 4, 0x41);
}

static uint32_t picture(unsigned x, unsigned y)
{
	return ((x * 7) & 0xff) << 16 | ((y * 3) & 0xff) << 8 | ((x ^ y) & 0xff);
}

struct fake_log {
	struct memory_listener l;
	uint64_t bits[64];
};

static void fake_region_set(void *opaque, unsigned slot, const struct mem_region *r)
{
}

static int fake_dirty_log(void *opaque, unsigned slot, uint64_t *bitmap)
{
	struct fake_log *f = opaque;
	memcpy(bitmap, f->bits, sizeof(f->bits));
	memset(f->bits, 0, sizeof(f->bits));
	return 0;
}

static void test_vbe_picture(void **state)
{
	struct vt *t = vt_new(NULL);
	vt_map_bars(t);
	drm_mode(t, 800, 600);
	uint32_t *fb = (uint32_t *)vt_lfb(t, 0, 800 * 600 * 4);
	for (unsigned y = 0; y < 600; y++)
		for (unsigned x = 0; x < 800; x++)
			fb[y * 800 + x] = picture(x, y);
	vt_refresh(t);
	assert_int_equal(vt_px(t, 123, 456), picture(123, 456));

	/* The new machine logs BAR0's dirty pages the way KVM does. */
	struct shot before, after;
	take(t, &before);
	struct vmstate_out out;
	save(t, &out);
	struct vt *n = vt_new(NULL);
	struct fake_log f = {.l = {.region_set = fake_region_set, .dirty_log = fake_dirty_log}};
	f.l.opaque = &f;
	guestmem_set_listener(&n->h.m.mem, &f.l);
	char err[256];
	assert_int_equal(load(n, &out, err, sizeof(err)), 0);
	vmstate_out_free(&out);
	take(n, &after);
	assert_same(&before, &after);
	free(before.px);
	free(after.px);
	assert_int_equal(vt_cfg_read(n, PCI_BASE_ADDRESS_0, 4) & ~0xfu, (uint32_t)VGA_LFB);

	/* BAR0 is mapped again with its log: a write the log shows is drawn,
	 * one it does not show yet is not. */
	uint32_t *nfb = (uint32_t *)vt_lfb(n, 0, 800 * 600 * 4);
	assert_int_equal(nfb[456 * 800 + 123], picture(123, 456));
	nfb[100 * 800 + 10] = 0xff0000;
	nfb[500 * 800 + 10] = 0x00ff00;
	uint64_t page = (500 * 800 + 10) * 4 / 4096;
	f.bits[page / 64] |= 1ull << (page % 64);
	vt_refresh(n);
	assert_int_equal(vt_px(n, 10, 500), 0x00ff00);
	assert_int_equal(vt_px(n, 10, 100), picture(10, 100));
	pci_config_write(n->h.m.pci, VGA_DEVFN, PCI_COMMAND, 0, 2);
	guestmem_set_listener(&n->h.m.mem, NULL);
	vt_free(t);
	vt_free(n);
}

/* A blanked screen keeps the size it had. */
static void test_blank_keeps_size(void **state)
{
	struct vt *t = vt_new(NULL);
	text_screen(t);
	vt_refresh(t);
	vt_seq(t, 0x01, 0x20); /* screen off */
	struct vt *n = round_trip(t, NULL);
	vt_assert_size(n, 720, 400);
	assert_int_equal(vt_px(n, 100, 50), 0);
	vt_free(t);
	vt_free(n);
}

/* --- damaged sections ----------------------------------------------------------- */

/* The data of field name in a saved section, and its length. */
static uint8_t *field(struct vmstate_out *o, const char *name, uint32_t *len)
{
	size_t n = strlen(name);
	*len = 0;
	for (size_t i = 0; i + 2 + n + 4 <= o->len; i++) {
		uint8_t *p = o->buf + i;
		if (p[0] == (uint8_t)n && p[1] == 0 && memcmp(p + 2, name, n) == 0) {
			uint8_t *l = p + 2 + n;
			*len = (uint32_t)(l[0] | l[1] << 8 | l[2] << 16 | (uint32_t)l[3] << 24);
			return l + 4;
		}
	}
	fail_msg("no field %s", name);
	return NULL;
}

/* Saves a text screen, lets damage() spoil the bytes, and checks that
 * loading refuses with a sentence holding `want`. */
static void refused(void (*damage)(struct vmstate_out *o), const char *want)
{
	struct vt *t = vt_new(NULL);
	text_screen(t);
	struct vmstate_out out;
	save(t, &out);
	damage(&out);
	struct vt *n = vt_new(NULL);
	char err[256];
	assert_int_equal(load(n, &out, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want))
		fail_msg("the error is \"%s\"; it should say \"%s\"", err, want);
	assert_non_null(strstr(err, "section 'vga'"));
	vmstate_out_free(&out);
	vt_free(t);
	vt_free(n);
}

static void no_latch(struct vmstate_out *o)
{
	uint32_t len;
	field(o, "latch", &len)[-5] = 'X'; /* the name's last letter */
}

static void dac_sub_3(struct vmstate_out *o)
{
	uint32_t len;
	field(o, "dac.sub", &len)[0] = 3;
}

static void sequencer_bits(struct vmstate_out *o)
{
	uint32_t len;
	field(o, "sr", &len)[4] = 0xff; /* memory mode: only 0x0e exist */
}

static void vram_map_short(struct vmstate_out *o)
{
	uint32_t len;
	uint8_t *map = field(o, "vram.map", &len);
	for (uint32_t i = 0; i < len; i++)
		if (map[i]) {
			map[i] &= (uint8_t)(map[i] - 1); /* one page fewer */
			return;
		}
	fail_msg("no page saved");
}

static void vbe_bank(struct vmstate_out *o)
{
	uint32_t len;
	field(o, "vbe.5", &len)[0] = 0xff;
	field(o, "vbe.5", &len)[1] = 0x01;
}

static void pci_readonly(struct vmstate_out *o)
{
	uint32_t len;
	field(o, "pci.config", &len)[0] = 0x86; /* the vendor id */
}

static void test_damaged(void **state)
{
	refused(no_latch, "field 'latch' is missing");
	refused(dac_sub_3, "'dac.sub' is 3");
	refused(sequencer_bits, "sequencer register 4");
	refused(vram_map_short, "vram.pages");
	refused(vbe_bank, "vbe.5");
	refused(pci_readonly, "pci.config");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text_mode),	cmocka_unit_test(test_half_written_registers),
	    cmocka_unit_test(test_vbe_picture), cmocka_unit_test(test_blank_keeps_size),
	    cmocka_unit_test(test_damaged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
