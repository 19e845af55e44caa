/* VGA register file (misc output, sequencer, graphics controller, attribute
 * controller, CRTC, DAC, input status, feature control) and the Bochs VBE
 * "dispi" registers. Every index is masked to its register group's size. */
#include "devices/vga/vga_int.h"

#include <string.h>

/* Writable bits of each register (the rest read as 0), as IBM's VGA has
 * them. */
const uint8_t vga_sr_mask[8] = {0x03, 0x3d, 0x0f, 0x3f, 0x0e, 0x00, 0x00, 0x00};
const uint8_t vga_gr_mask[16] = {0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff};
const uint8_t vga_ar_mask[0x15] = {
    0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f,
    0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0xef, 0xff, 0x3f, 0x0f, 0x0f,
};

#define ST01_DISPLAY_OFF 0x01
#define ST01_VRETRACE	 0x08
#define CR11_PROTECT	 0x80
#define CR07_LINE_CMP8	 0x10

/* The monochrome ports (0x3Bx) answer only in monochrome mode, the colour
 * ports (0x3Dx) only in colour mode. */
static bool port_inactive(const struct vga *v, uint16_t port)
{
	if (v->misc & MISC_COLOR)
		return port >= 0x3b0 && port <= 0x3bf;
	return port >= 0x3d0 && port <= 0x3df;
}

uint8_t vga_port_read(struct vga *v, uint16_t port)
{
	if (port_inactive(v, port))
		return 0xff;
	switch (port) {
	case 0x3c0:
		return v->ar_index;
	case 0x3c1: {
		unsigned i = v->ar_index & 0x1f;
		return i < sizeof(v->ar) ? v->ar[i] : 0;
	}
	case 0x3c2:
		return 0x00; /* input status 0 */
	case 0x3c3:
		return v->vse;
	case 0x3c4:
		return v->sr_index;
	case 0x3c5:
		return v->sr[v->sr_index & 7];
	case 0x3c6:
		return v->pel_mask;
	case 0x3c7:
		return v->dac_state;
	case 0x3c8:
		return v->dac_write;
	case 0x3c9: {
		uint8_t val = v->dac[v->dac_read * 3u + v->dac_sub];
		if (++v->dac_sub == 3) {
			v->dac_sub = 0;
			v->dac_read++;
		}
		return val;
	}
	case 0x3ca:
		return v->fcr;
	case 0x3cc:
		return v->misc;
	case 0x3ce:
		return v->gr_index;
	case 0x3cf:
		return v->gr[v->gr_index & 0x0f];
	case 0x3b4:
	case 0x3d4:
		return v->cr_index;
	case 0x3b5:
	case 0x3d5:
		return v->cr[v->cr_index];
	case 0x3ba:
	case 0x3da:
		/* Display-enable and vertical retrace change on every read, so
		 * that code waiting for either edge goes on at once; the read
		 * also points the attribute flip-flop at the index. */
		v->st01 ^= ST01_DISPLAY_OFF | ST01_VRETRACE;
		v->ar_flip = false;
		return v->st01;
	default:
		return 0xff;
	}
}

static void crtc_write(struct vga *v, uint8_t val)
{
	uint8_t i = v->cr_index;
	if ((v->cr[0x11] & CR11_PROTECT) && i <= 0x07) {
		/* CR0-CR7 are write-protected, except line compare bit 8. */
		if (i == 0x07)
			v->cr[7] = (uint8_t)((v->cr[7] & ~CR07_LINE_CMP8) | (val & CR07_LINE_CMP8));
		return;
	}
	v->cr[i] = val;
}

void vga_port_write(struct vga *v, uint16_t port, uint8_t val)
{
	if (port_inactive(v, port))
		return;
	v->changed = true;
	switch (port) {
	case 0x3c0:
		if (!v->ar_flip) {
			v->ar_index = val & 0x3f;
		} else {
			unsigned i = v->ar_index & 0x1f;
			if (i < sizeof(v->ar))
				v->ar[i] = val & vga_ar_mask[i];
		}
		v->ar_flip = !v->ar_flip;
		break;
	case 0x3c2:
		v->misc = val & (uint8_t)~0x10;
		break;
	case 0x3c3:
		v->vse = val & 1;
		break;
	case 0x3c4:
		v->sr_index = val & 7;
		break;
	case 0x3c5:
		v->sr[v->sr_index & 7] = val & vga_sr_mask[v->sr_index & 7];
		break;
	case 0x3c6:
		v->pel_mask = val;
		break;
	case 0x3c7:
		v->dac_read = val;
		v->dac_sub = 0;
		v->dac_state = 3;
		break;
	case 0x3c8:
		v->dac_write = val;
		v->dac_sub = 0;
		v->dac_state = 0;
		break;
	case 0x3c9:
		v->dac_cache[v->dac_sub] = val;
		if (++v->dac_sub == 3) {
			memcpy(&v->dac[v->dac_write * 3u], v->dac_cache, 3);
			v->dac_sub = 0;
			v->dac_write++;
		}
		break;
	case 0x3ce:
		v->gr_index = val & 0x0f;
		break;
	case 0x3cf:
		v->gr[v->gr_index & 0x0f] = val & vga_gr_mask[v->gr_index & 0x0f];
		break;
	case 0x3b4:
	case 0x3d4:
		v->cr_index = val;
		break;
	case 0x3b5:
	case 0x3d5:
		crtc_write(v, val);
		break;
	case 0x3ba:
	case 0x3da:
		v->fcr = val & 0x0b; /* feature control */
		break;
	default:
		break;
	}
}

/* --- Bochs VBE ----------------------------------------------------------- */

static unsigned vbe_bits(const struct vga *v)
{
	return v->vbe[VBE_INDEX_BPP] == 15 ? 16 : v->vbe[VBE_INDEX_BPP];
}

/* Brings the geometry registers of an enabled mode into range (the
 * interface has no way to report an error, so like QEMU the registers take
 * the nearest value that works) and derives the line length and start. */
void vga_vbe_fixup(struct vga *v)
{
	uint16_t *r = v->vbe;
	switch (r[VBE_INDEX_BPP]) {
	case 4:
	case 8:
	case 15:
	case 16:
	case 24:
	case 32:
		break;
	default:
		r[VBE_INDEX_BPP] = 8;
	}
	unsigned bits = vbe_bits(v);
	r[VBE_INDEX_XRES] &= (uint16_t)~7u;
	if (r[VBE_INDEX_XRES] == 0)
		r[VBE_INDEX_XRES] = 8;
	if (r[VBE_INDEX_XRES] > VBE_MAX_XRES)
		r[VBE_INDEX_XRES] = VBE_MAX_XRES;
	r[VBE_INDEX_VIRT_WIDTH] &= (uint16_t)~7u;
	if (r[VBE_INDEX_VIRT_WIDTH] > VBE_MAX_XRES)
		r[VBE_INDEX_VIRT_WIDTH] = VBE_MAX_XRES;
	if (r[VBE_INDEX_VIRT_WIDTH] < r[VBE_INDEX_XRES])
		r[VBE_INDEX_VIRT_WIDTH] = r[VBE_INDEX_XRES];

	/* At 4 bpp the four planes share VRAM: a line is virt_width / 8 bytes
	 * of each plane. */
	uint32_t line =
	    bits == 4 ? r[VBE_INDEX_VIRT_WIDTH] / 8u : r[VBE_INDEX_VIRT_WIDTH] * bits / 8u;
	uint32_t space = bits == 4 ? VGA_VRAM_SIZE / 4 : VGA_VRAM_SIZE;
	uint32_t maxy = space / line;
	if (maxy > 0xffff)
		maxy = 0xffff;
	if (r[VBE_INDEX_YRES] == 0)
		r[VBE_INDEX_YRES] = 1;
	if (r[VBE_INDEX_YRES] > VBE_MAX_YRES)
		r[VBE_INDEX_YRES] = VBE_MAX_YRES;
	if (r[VBE_INDEX_YRES] > maxy)
		r[VBE_INDEX_YRES] = (uint16_t)maxy;

	if (r[VBE_INDEX_X_OFFSET] > VBE_MAX_XRES)
		r[VBE_INDEX_X_OFFSET] = VBE_MAX_XRES;
	if (r[VBE_INDEX_Y_OFFSET] > maxy)
		r[VBE_INDEX_Y_OFFSET] = (uint16_t)maxy;
	uint32_t xbytes =
	    bits == 4 ? r[VBE_INDEX_X_OFFSET] / 8u : r[VBE_INDEX_X_OFFSET] * bits / 8u;
	uint64_t start = xbytes + (uint64_t)r[VBE_INDEX_Y_OFFSET] * line;
	uint64_t need = (uint64_t)r[VBE_INDEX_YRES] * line;
	if (start + need > space) {
		r[VBE_INDEX_Y_OFFSET] = 0;
		start = xbytes;
		if (start + need > space) {
			r[VBE_INDEX_X_OFFSET] = 0;
			start = 0;
		}
	}
	r[VBE_INDEX_VIRT_HEIGHT] = (uint16_t)maxy;
	v->vbe_line = line;
	v->vbe_start = (uint32_t)start;
}

uint16_t vga_vbe_read(struct vga *v, unsigned index)
{
	if (index == VBE_INDEX_VIDEO_MEMORY)
		return VGA_VRAM_SIZE >> 16;
	if (index >= VBE_REGS)
		return 0;
	if (v->vbe[VBE_INDEX_ENABLE] & VBE_GETCAPS) {
		/* What the adapter can do, for the BIOS's mode list. */
		if (index == VBE_INDEX_XRES)
			return VBE_MAX_XRES;
		if (index == VBE_INDEX_YRES)
			return VBE_MAX_YRES;
		if (index == VBE_INDEX_BPP)
			return VBE_MAX_BPP;
	}
	return v->vbe[index];
}

static void vbe_enable(struct vga *v, uint16_t val)
{
	bool was = v->vbe[VBE_INDEX_ENABLE] & VBE_ENABLED;
	if ((val & VBE_ENABLED) && !was) {
		v->vbe[VBE_INDEX_VIRT_WIDTH] = 0;
		v->vbe[VBE_INDEX_X_OFFSET] = 0;
		v->vbe[VBE_INDEX_Y_OFFSET] = 0;
		v->vbe[VBE_INDEX_ENABLE] |= VBE_ENABLED;
		vga_vbe_fixup(v);
		if (!(val & VBE_NOCLEARMEM)) {
			uint64_t n = (uint64_t)v->vbe[VBE_INDEX_YRES] * v->vbe_line;
			if (vbe_bits(v) == 4)
				n *= 4;
			memset(v->vram, 0, n < VGA_VRAM_SIZE ? n : VGA_VRAM_SIZE);
		}
		/* The legacy window becomes the 64 KiB bank at 0xA0000, as
		 * the Bochs BIOS and QEMU set it. */
		v->gr[6] = (uint8_t)((v->gr[6] & ~0x0c) | 0x04 | GR6_GRAPHICS);
		v->all_dirty = true;
	} else if (!(val & VBE_ENABLED) && was) {
		v->all_dirty = true;
	}
	v->vbe[VBE_INDEX_ENABLE] = val;
	if (val & VBE_ENABLED)
		vga_vbe_fixup(v);
}

void vga_vbe_write(struct vga *v, unsigned index, uint16_t val)
{
	v->changed = true;
	switch (index) {
	case VBE_INDEX_ID:
		if (val >= VBE_ID0 && val <= VBE_ID5)
			v->vbe[index] = val;
		break;
	case VBE_INDEX_XRES:
	case VBE_INDEX_YRES:
	case VBE_INDEX_BPP:
	case VBE_INDEX_VIRT_WIDTH:
	case VBE_INDEX_X_OFFSET:
	case VBE_INDEX_Y_OFFSET:
		v->vbe[index] = val;
		if (vga_vbe_enabled(v))
			vga_vbe_fixup(v);
		break;
	case VBE_INDEX_BANK: {
		/* 64 KiB banks; at 4 bpp a bank is 64 KiB of each plane. */
		unsigned banks = VGA_VRAM_SIZE >> 16;
		if (v->vbe[VBE_INDEX_BPP] == 4)
			banks /= 4;
		v->vbe[index] = val & (uint16_t)(banks - 1);
		break;
	}
	case VBE_INDEX_ENABLE:
		vbe_enable(v, val);
		break;
	default:
		break; /* VIRT_HEIGHT and VIDEO_MEMORY are computed */
	}
}

void vga_regs_reset(struct vga *v)
{
	v->misc = v->fcr = v->st01 = 0;
	v->vse = 1;
	v->sr_index = v->gr_index = v->ar_index = v->cr_index = 0;
	memset(v->sr, 0, sizeof(v->sr));
	memset(v->gr, 0, sizeof(v->gr));
	memset(v->ar, 0, sizeof(v->ar));
	memset(v->cr, 0, sizeof(v->cr));
	v->ar_flip = false;
	v->pel_mask = 0xff;
	v->dac_read = v->dac_write = v->dac_sub = v->dac_state = 0;
	memset(v->dac, 0, sizeof(v->dac));
	v->latch = 0;
	v->vbe_index = 0;
	memset(v->vbe, 0, sizeof(v->vbe));
	v->vbe[VBE_INDEX_ID] = VBE_ID5;
	v->vbe_line = v->vbe_start = 0;
	v->big_endian_fb = false;
	v->changed = true;
	v->all_dirty = true;
}
