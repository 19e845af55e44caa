/* The legacy window 0xA0000-0xBFFFF: the graphics controller's view of the
 * four planes (chain-4, odd/even and planar addressing, the latches, read
 * modes 0-1, write modes 0-3 with rotate, set/reset, logical function and
 * bit mask), and the Bochs VBE bank into linear VRAM. */
#include "devices/vga/vga_int.h"
#include "hypervisor/bytes.h"

/* A byte per plane set where mask has the plane's bit. */
static uint32_t expand4(unsigned mask)
{
	return (mask & 1 ? 0x000000ffu : 0) | (mask & 2 ? 0x0000ff00u : 0) |
	       (mask & 4 ? 0x00ff0000u : 0) | (mask & 8 ? 0xff000000u : 0);
}

static uint8_t ror8(uint8_t v, unsigned n)
{
	n &= 7;
	return (uint8_t)((v >> n) | (v << ((8 - n) & 7)));
}

/* The offset into the selected memory map, or false when the address is
 * outside it (or CPU access to display memory is off). */
static bool window_offset(const struct vga *v, uint32_t addr, uint32_t *off)
{
	switch ((v->gr[6] >> 2) & 3) {
	case 0: /* A0000-BFFFF */
		*off = addr;
		return addr < 0x20000;
	case 1: /* A0000-AFFFF */
		*off = addr;
		return addr < 0x10000;
	case 2: /* B0000-B7FFF */
		*off = addr - 0x10000;
		return addr >= 0x10000 && addr < 0x18000;
	default: /* B8000-BFFFF */
		*off = addr - 0x18000;
		return addr >= 0x18000 && addr < 0x20000;
	}
}

/* Linear VBE modes see a 64 KiB bank of VRAM through the window; 4-bpp VBE
 * modes are planar with the bank selecting 64 KiB of each plane. */
static bool vbe_linear(const struct vga *v)
{
	return vga_vbe_enabled(v) && v->vbe[VBE_INDEX_BPP] != 4;
}

static uint32_t plane_limit(const struct vga *v)
{
	return vga_vbe_enabled(v) ? VGA_VRAM_SIZE / 4 : VGA_PLANE_SIZE;
}

static uint32_t bank_base(const struct vga *v)
{
	return vga_vbe_enabled(v) ? (uint32_t)v->vbe[VBE_INDEX_BANK] << 16 : 0;
}

static uint32_t load_latch(struct vga *v, uint32_t poff)
{
	v->latch = get_le32(v->vram + 4 * poff);
	return v->latch;
}

uint8_t vga_mem_read(struct vga *v, uint32_t addr)
{
	uint32_t off;
	if (!window_offset(v, addr, &off))
		return 0xff;
	if (vbe_linear(v)) {
		uint32_t a = bank_base(v) + (off & 0xffff);
		return a < VGA_VRAM_SIZE ? v->vram[a] : 0xff;
	}
	if (!vga_vbe_enabled(v) && !(v->misc & MISC_RAM_ENABLE))
		return 0xff;
	off += bank_base(v);
	uint32_t limit = plane_limit(v);
	if (v->sr[4] & SR4_CHAIN4) {
		/* The two low address bits pick the plane; the address is
		 * passed on unchanged, so each plane holds every fourth byte. */
		uint32_t poff = (off & ~3u) & (limit - 1);
		return (uint8_t)(load_latch(v, poff) >> (8 * (off & 3)));
	}
	if (v->gr[5] & GR5_HOST_ODD_EVEN) {
		unsigned plane = (v->gr[4] & 2) | (off & 1);
		uint32_t poff = (off & ~1u) & (limit - 1);
		return (uint8_t)(load_latch(v, poff) >> (8 * plane));
	}
	if (off >= limit)
		return 0xff;
	uint32_t lat = load_latch(v, off);
	if (!(v->gr[5] & GR5_READ_MODE1))
		return (uint8_t)(lat >> (8 * (v->gr[4] & 3)));
	/* Colour compare: a 1 for every pixel whose planes that "colour don't
	 * care" selects match the colour compare value. */
	uint32_t diff = (lat ^ expand4(v->gr[2])) & expand4(v->gr[7]);
	diff |= diff >> 16;
	diff |= diff >> 8;
	return (uint8_t)~diff;
}

/* The graphics controller's write path for one plane offset: the data of
 * the write mode, the logical function with the latches, the bit mask, and
 * the planes enabled in plane_mask. */
static void gc_write(struct vga *v, uint32_t poff, uint8_t val, unsigned plane_mask)
{
	uint32_t lat = v->latch, data, bits;
	unsigned rot = v->gr[3] & 7;
	switch (v->gr[5] & 3) {
	case 0: {
		uint32_t sre = expand4(v->gr[1]);
		data = ror8(val, rot) * 0x01010101u;
		data = (data & ~sre) | (expand4(v->gr[0]) & sre);
		bits = v->gr[8];
		break;
	}
	case 1:
		data = lat; /* the latches, untouched by function or mask */
		goto store;
	case 2:
		data = expand4(val & 0x0f);
		bits = v->gr[8];
		break;
	default:
		data = expand4(v->gr[0]);
		bits = v->gr[8] & ror8(val, rot);
		break;
	}
	switch ((v->gr[3] >> 3) & 3) {
	case 1:
		data &= lat;
		break;
	case 2:
		data |= lat;
		break;
	case 3:
		data ^= lat;
		break;
	default:
		break;
	}
	bits *= 0x01010101u;
	data = (data & bits) | (lat & ~bits);
store:;
	uint32_t wm = expand4(plane_mask);
	if (!wm)
		return;
	uint8_t *cell = v->vram + 4 * poff;
	put_le32(cell, (get_le32(cell) & ~wm) | (data & wm));
	vga_mark_dirty(v, 4 * poff);
	v->changed = true;
}

void vga_mem_write(struct vga *v, uint32_t addr, uint8_t val)
{
	uint32_t off;
	if (!window_offset(v, addr, &off))
		return;
	if (vbe_linear(v)) {
		uint32_t a = bank_base(v) + (off & 0xffff);
		if (a < VGA_VRAM_SIZE) {
			v->vram[a] = val;
			vga_mark_dirty(v, a);
			v->changed = true;
		}
		return;
	}
	if (!vga_vbe_enabled(v) && !(v->misc & MISC_RAM_ENABLE))
		return;
	off += bank_base(v);
	uint32_t limit = plane_limit(v);
	unsigned map_mask = v->sr[2] & 0x0f;
	if (v->sr[4] & SR4_CHAIN4) {
		gc_write(v, (off & ~3u) & (limit - 1), val, map_mask & (1u << (off & 3)));
	} else if (!(v->sr[4] & SR4_NO_ODD_EVEN)) {
		/* Odd/even: even addresses reach planes 0 and 2, odd ones 1
		 * and 3, at the even offset. */
		gc_write(v, (off & ~1u) & (limit - 1), val, map_mask & (off & 1 ? 0x0a : 0x05));
	} else if (off < limit) {
		gc_write(v, off, val, map_mask);
	}
}
