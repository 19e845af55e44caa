/* The VGA's saved state: the PCI function, every register set, the VBE
 * registers, the latches and the video RAM (only its pages that are not all
 * zero); loading checks each value as the register it came through would
 * have, then redraws the whole surface. */
#include "devices/vga/vga_int.h"
#include "hypervisor/vmstate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE	   (1u << VGA_PAGE_SHIFT)
#define MAP_BYTES  (VGA_PAGES / 8)
#define ST01_BITS  0x09 /* display enable and vertical retrace toggle */
#define FCR_BITS   0x0b
#define VBE_BANKS  (VGA_VRAM_SIZE >> 16)
#define VRAM_FIELD "vram.pages"

static bool page_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;
	for (unsigned i = 0; i < PAGE / 8; i++)
		if (w[i])
			return false;
	return true;
}

/* "vram.map": a bit per 4 KiB page, set for the pages that follow in
 * "vram.pages" in order; the pages not named are zero. A text screen
 * takes a few pages, a VBE picture its size, not the 16 MiB. */
static void save_vram(const struct vga *v, struct vmstate_out *out)
{
	uint8_t map[MAP_BYTES] = {0};
	size_t n = 0;
	for (unsigned p = 0; p < VGA_PAGES; p++)
		if (!page_zero(v->vram + (size_t)p * PAGE)) {
			map[p / 8] |= (uint8_t)(1u << (p % 8));
			n++;
		}
	uint8_t *pages = malloc(n ? n * PAGE : 1);
	if (!pages) {
		/* The writer reports it. */
		if (!out->err)
			out->err = -ENOMEM;
		return;
	}
	size_t at = 0;
	for (unsigned p = 0; p < VGA_PAGES; p++)
		if (map[p / 8] & (1u << (p % 8))) {
			memcpy(pages + at, v->vram + (size_t)p * PAGE, PAGE);
			at += PAGE;
		}
	vmstate_put_bytes(out, "vram.map", map, sizeof(map));
	vmstate_put_bytes(out, VRAM_FIELD, pages, at);
	free(pages);
}

void vga_save(void *state, struct vmstate_out *out)
{
	struct vga *v = state;
	pci_save(&v->pci, out);
	pthread_mutex_lock(&v->lock);
	vmstate_put_u64(out, "misc", v->misc);
	vmstate_put_u64(out, "fcr", v->fcr);
	vmstate_put_u64(out, "st01", v->st01);
	vmstate_put_u64(out, "vse", v->vse);
	vmstate_put_u64(out, "sr.index", v->sr_index);
	vmstate_put_bytes(out, "sr", v->sr, sizeof(v->sr));
	vmstate_put_u64(out, "gr.index", v->gr_index);
	vmstate_put_bytes(out, "gr", v->gr, sizeof(v->gr));
	vmstate_put_u64(out, "ar.index", v->ar_index);
	vmstate_put_bool(out, "ar.flip", v->ar_flip);
	vmstate_put_bytes(out, "ar", v->ar, sizeof(v->ar));
	vmstate_put_u64(out, "cr.index", v->cr_index);
	vmstate_put_bytes(out, "cr", v->cr, sizeof(v->cr));
	vmstate_put_u64(out, "dac.mask", v->pel_mask);
	vmstate_put_u64(out, "dac.read", v->dac_read);
	vmstate_put_u64(out, "dac.write", v->dac_write);
	vmstate_put_u64(out, "dac.sub", v->dac_sub);
	vmstate_put_u64(out, "dac.state", v->dac_state);
	vmstate_put_bytes(out, "dac.cache", v->dac_cache, sizeof(v->dac_cache));
	vmstate_put_bytes(out, "dac", v->dac, sizeof(v->dac));
	vmstate_put_u64(out, "latch", v->latch);
	vmstate_put_u64(out, "vbe.index", v->vbe_index);
	for (unsigned i = 0; i < VBE_REGS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "vbe.%u", i);
		vmstate_put_u64(out, name, v->vbe[i]);
	}
	vmstate_put_bool(out, "vbe.big_endian", v->big_endian_fb);
	struct display_view view;
	display_lock(v->surface, &view);
	vmstate_put_u64(out, "surface.width", view.width);
	vmstate_put_u64(out, "surface.height", view.height);
	display_unlock(v->surface);
	save_vram(v, out);
	pthread_mutex_unlock(&v->lock);
}

/* --- loading ------------------------------------------------------------- */

/* Register bytes that a guest could not have written (bits outside the
 * register's writable ones) mean a damaged file. */
static int check_masked(struct vmstate_section *in, const char *field, const uint8_t *val,
			const uint8_t *mask, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (val[i] & ~mask[i])
			return vmstate_fail(in, "%s register %u is 0x%02x; only bits 0x%02x exist",
					    field, i, val[i], mask[i]);
	return 0;
}

static int load_vram(struct vga *v, struct vmstate_section *in)
{
	uint8_t map[MAP_BYTES];
	int r = vmstate_get_bytes(in, "vram.map", map, sizeof(map));
	if (r < 0)
		return r;
	size_t n = 0;
	for (unsigned i = 0; i < MAP_BYTES; i++)
		n += (size_t)__builtin_popcount(map[i]);
	size_t len;
	const uint8_t *pages = vmstate_get_blob(in, VRAM_FIELD, VGA_VRAM_SIZE, &len);
	if (!pages)
		return -EINVAL;
	if (len != n * PAGE)
		return vmstate_fail(in, VRAM_FIELD " has %zu bytes; vram.map names %zu pages of %u",
				    len, n, PAGE);
	for (unsigned p = 0; p < VGA_PAGES; p++) {
		uint8_t *dst = v->vram + (size_t)p * PAGE;
		if (map[p / 8] & (1u << (p % 8))) {
			memcpy(dst, pages, PAGE);
			pages += PAGE;
		} else if (!page_zero(dst)) {
			/* Untouched pages stay unallocated. */
			memset(dst, 0, PAGE);
		}
	}
	return 0;
}

/* The registers into a copy first: nothing of a bad section reaches the
 * device. */
static int load_regs(struct vga *t, struct vmstate_section *in)
{
	/* Each getter is 0 or -EINVAL with the reader's error set. */
	if (vmstate_get_u8(in, "misc", 0xff, &t->misc) ||
	    vmstate_get_u8(in, "fcr", FCR_BITS, &t->fcr) ||
	    vmstate_get_u8(in, "st01", ST01_BITS, &t->st01) ||
	    vmstate_get_u8(in, "vse", 1, &t->vse) ||
	    vmstate_get_u8(in, "sr.index", 7, &t->sr_index) ||
	    vmstate_get_bytes(in, "sr", t->sr, sizeof(t->sr)) ||
	    vmstate_get_u8(in, "gr.index", 0x0f, &t->gr_index) ||
	    vmstate_get_bytes(in, "gr", t->gr, sizeof(t->gr)) ||
	    vmstate_get_u8(in, "ar.index", 0x3f, &t->ar_index) ||
	    vmstate_get_bool(in, "ar.flip", &t->ar_flip) ||
	    vmstate_get_bytes(in, "ar", t->ar, sizeof(t->ar)) ||
	    vmstate_get_u8(in, "cr.index", 0xff, &t->cr_index) ||
	    vmstate_get_bytes(in, "cr", t->cr, sizeof(t->cr)) ||
	    vmstate_get_u8(in, "dac.mask", 0xff, &t->pel_mask) ||
	    vmstate_get_u8(in, "dac.read", 0xff, &t->dac_read) ||
	    vmstate_get_u8(in, "dac.write", 0xff, &t->dac_write) ||
	    vmstate_get_u8(in, "dac.sub", 2, &t->dac_sub) ||
	    vmstate_get_u8(in, "dac.state", 3, &t->dac_state) ||
	    vmstate_get_bytes(in, "dac.cache", t->dac_cache, sizeof(t->dac_cache)) ||
	    vmstate_get_bytes(in, "dac", t->dac, sizeof(t->dac)) ||
	    vmstate_get_u32(in, "latch", UINT32_MAX, &t->latch) ||
	    vmstate_get_u16(in, "vbe.index", UINT16_MAX, &t->vbe_index) ||
	    vmstate_get_bool(in, "vbe.big_endian", &t->big_endian_fb))
		return -EINVAL;
	for (unsigned i = 0; i < VBE_REGS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "vbe.%u", i);
		if (vmstate_get_u16(in, name, UINT16_MAX, &t->vbe[i]))
			return -EINVAL;
	}
	if (check_masked(in, "sequencer", t->sr, vga_sr_mask, sizeof(t->sr)) ||
	    check_masked(in, "graphics", t->gr, vga_gr_mask, sizeof(t->gr)) ||
	    check_masked(in, "attribute", t->ar, vga_ar_mask, sizeof(t->ar)))
		return -EINVAL;
	if (t->misc & 0x10)
		return vmstate_fail(in, "misc is 0x%02x; bit 4 does not exist", t->misc);
	if (t->dac_state != 0 && t->dac_state != 3)
		return vmstate_fail(in, "dac.state is %u, not 0 (writing) or 3 (reading)",
				    t->dac_state);
	if (t->vbe[VBE_INDEX_ID] < VBE_ID0 || t->vbe[VBE_INDEX_ID] > VBE_ID5)
		return vmstate_fail(in, "vbe.0 (the interface id) is 0x%04x, not B0C0-B0C5",
				    t->vbe[VBE_INDEX_ID]);
	if (t->vbe[VBE_INDEX_BANK] >= VBE_BANKS)
		return vmstate_fail(in, "vbe.5 (the bank) is %u; the video memory has %u banks",
				    t->vbe[VBE_INDEX_BANK], VBE_BANKS);
	return 0;
}

static void copy_regs(struct vga *v, const struct vga *t)
{
	v->misc = t->misc;
	v->fcr = t->fcr;
	v->st01 = t->st01;
	v->vse = t->vse;
	v->sr_index = t->sr_index;
	memcpy(v->sr, t->sr, sizeof(v->sr));
	v->gr_index = t->gr_index;
	memcpy(v->gr, t->gr, sizeof(v->gr));
	v->ar_index = t->ar_index;
	v->ar_flip = t->ar_flip;
	memcpy(v->ar, t->ar, sizeof(v->ar));
	v->cr_index = t->cr_index;
	memcpy(v->cr, t->cr, sizeof(v->cr));
	v->pel_mask = t->pel_mask;
	v->dac_read = t->dac_read;
	v->dac_write = t->dac_write;
	v->dac_sub = t->dac_sub;
	v->dac_state = t->dac_state;
	memcpy(v->dac_cache, t->dac_cache, sizeof(v->dac_cache));
	memcpy(v->dac, t->dac, sizeof(v->dac));
	v->latch = t->latch;
	v->vbe_index = t->vbe_index;
	memcpy(v->vbe, t->vbe, sizeof(v->vbe));
	v->big_endian_fb = t->big_endian_fb;
}

int vga_load(void *state, struct vmstate_section *in)
{
	struct vga *v = state;
	/* The registers are checked before anything changes. */
	struct vga *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	uint32_t sw, sh;
	int r = load_regs(t, in);
	if (r == 0 && (vmstate_get_u32(in, "surface.width", VGA_MAX_WIDTH, &sw) ||
		       vmstate_get_u32(in, "surface.height", VGA_MAX_HEIGHT, &sh)))
		r = -EINVAL;
	if (r == 0 && (sw == 0 || sh == 0))
		r = vmstate_fail(in, "the surface is %ux%u", sw, sh);
	/* BAR0 back where it was (bar_mapped takes the device lock and
	 * points the dirty log at the new slot). */
	if (r == 0)
		r = pci_load(&v->pci, in);
	if (r < 0)
		goto out;
	pthread_mutex_lock(&v->lock);
	r = load_vram(v, in);
	if (r == 0) {
		copy_regs(v, t);
		v->vbe_line = v->vbe_start = 0;
		if (vga_vbe_enabled(v))
			vga_vbe_fixup(v);
		/* The renderer forgets what it drew: all of it again. */
		v->have_last = false;
		v->all_dirty = true;
		v->changed = true;
		memset(v->dirty, 0, sizeof(v->dirty));
		/* The size the surface had (what a blanked screen keeps). */
		struct display_view view;
		display_lock(v->surface, &view);
		if (view.width != sw || view.height != sh)
			display_resize_locked(v->surface, sw, sh, &view);
		display_unlock(v->surface);
	}
	pthread_mutex_unlock(&v->lock);
	if (r == 0) {
		vga_render(v);
		display_invalidate(v->surface);
	}
out:
	free(t);
	return r;
}
