/* Standard VGA with Bochs VBE: the state shared by the register file, the
 * planar memory model and the renderer (the device's own files only). */
#ifndef OSIO_VGA_INT_H
#define OSIO_VGA_INT_H

#include "devices/display.h"
#include "devices/pci.h"
#include "hypervisor/machine.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define VGA_VRAM_SIZE  (16u << 20)
#define VGA_PAGE_SHIFT 12
#define VGA_PAGES      (VGA_VRAM_SIZE >> VGA_PAGE_SHIFT)
/* The four planes: plane p's byte at offset o is vram[4 * o + p], so the
 * planes take the first 256 KiB of VRAM and a 32-bit load reads all four. */
#define VGA_PLANE_SIZE 0x10000u
#define VGA_PLANE_MASK (VGA_PLANE_SIZE - 1)

/* Surface limits for what the registers describe (the VBE maximum). */
#define VGA_MAX_WIDTH  2560
#define VGA_MAX_HEIGHT 1600

/* Bochs VBE "dispi" registers. */
#define VBE_INDEX_ID	       0x0
#define VBE_INDEX_XRES	       0x1
#define VBE_INDEX_YRES	       0x2
#define VBE_INDEX_BPP	       0x3
#define VBE_INDEX_ENABLE       0x4
#define VBE_INDEX_BANK	       0x5
#define VBE_INDEX_VIRT_WIDTH   0x6
#define VBE_INDEX_VIRT_HEIGHT  0x7
#define VBE_INDEX_X_OFFSET     0x8
#define VBE_INDEX_Y_OFFSET     0x9
#define VBE_INDEX_VIDEO_MEMORY 0xa
#define VBE_REGS	       0xb

#define VBE_ID0		0xb0c0
#define VBE_ID5		0xb0c5
#define VBE_ENABLED	0x01
#define VBE_GETCAPS	0x02
#define VBE_8BIT_DAC	0x20
#define VBE_LFB_ENABLED 0x40
#define VBE_NOCLEARMEM	0x80
#define VBE_MAX_XRES	2560
#define VBE_MAX_YRES	1600
#define VBE_MAX_BPP	32

/* Register bits used in more than one file. */
#define MISC_COLOR	  0x01 /* CRTC at 0x3D4, status at 0x3DA */
#define MISC_RAM_ENABLE	  0x02
#define SR1_8DOT	  0x01
#define SR1_DCLK_DIV2	  0x08
#define SR1_SCREEN_OFF	  0x20
#define SR4_NO_ODD_EVEN	  0x04
#define SR4_CHAIN4	  0x08
#define GR5_READ_MODE1	  0x08
#define GR5_HOST_ODD_EVEN 0x10
#define GR5_SHIFT_CGA	  0x20
#define GR5_SHIFT_256	  0x40
#define GR6_GRAPHICS	  0x01
#define AR_INDEX_PAS	  0x20 /* palette address source: video on */

/* The CRTC's view of the screen, decoded once per render. */
struct vga_crtc {
	unsigned hchars; /* character clocks per line */
	unsigned dots;	 /* dots per character clock on the surface */
	unsigned width, height;
	unsigned msl;	   /* maximum scan line (character height - 1) */
	bool dscan;	   /* every scan line shown twice */
	uint32_t start;	   /* memory address of the first character */
	uint32_t line_inc; /* memory address step from one row to the next */
	unsigned line_compare;
	unsigned preset_row;
	unsigned addr_mode; /* 0 byte, 1 word, 2 doubleword */
	unsigned word_bit;  /* the bit rotated into bit 0 in word mode */
	uint8_t cr17;
	unsigned count_shift; /* count by 2 (1) or by 4 (2) */
	/* graphics */
	unsigned shift_mode; /* 0 planar, 1 CGA interleave, 2 256-colour */
	unsigned pan;	     /* horizontal pixel panning, in dots */
	bool color8;	     /* attribute controller passes 8-bit pixels */
	/* text */
	bool nine;	      /* 9-dot characters */
	bool dclk2;	      /* dot clock halved: every dot twice */
	bool line_graphics;   /* 9th column repeats for C0-DF */
	bool blink;	      /* attribute bit 7 blinks (shown steadily) */
	uint32_t font_off[2]; /* plane 2 offsets of font B (bit 3 clear) and A */
	bool underline_on;    /* monochrome emulation: attribute 01 underlines */
	unsigned underline;
	bool cursor_on;
	uint32_t cursor_addr;
	unsigned cursor_start, cursor_end;
	/* colours */
	uint8_t attr_map[16]; /* 4-bit pixel -> DAC index */
	uint8_t plane_enable;
	uint32_t addr_mask; /* plane offsets wrap here */
};

enum vga_kind {
	VGA_KIND_BLANK, /* video off: black, the size kept */
	VGA_KIND_TEXT,
	VGA_KIND_GFX, /* planar, CGA and 256-colour modes (and VBE at 4 bpp) */
	VGA_KIND_VBE, /* linear framebuffer at 8/15/16/24/32 bpp */
};

/* Everything the registers say about the picture; zeroed before filling so
 * that two can be compared with memcmp. */
struct vga_mode {
	enum vga_kind kind;
	unsigned width, height;
	struct vga_crtc crtc;
	unsigned vbe_bpp;
	uint32_t vbe_start, vbe_line;
	bool big_endian;
};

struct vga {
	struct machine *m;
	struct pci_device pci;
	pthread_mutex_t lock; /* everything below */
	uint8_t *vram;
	int vram_slot; /* guest memory slot of BAR0, -1 when unmapped */
	struct display_surface *surface;

	/* VGA registers. */
	uint8_t misc, fcr, st01, vse;
	uint8_t sr_index, sr[8];
	uint8_t gr_index, gr[16];
	uint8_t ar_index, ar[0x15];
	bool ar_flip; /* next 0x3C0 write is data */
	uint8_t cr_index, cr[256];
	uint8_t pel_mask, dac_read, dac_write, dac_sub, dac_state;
	uint8_t dac_cache[3];
	uint8_t dac[768];
	uint32_t latch;

	/* Bochs VBE. */
	uint16_t vbe_index;
	uint16_t vbe[VBE_REGS];
	uint32_t vbe_line;  /* bytes per line, valid while enabled */
	uint32_t vbe_start; /* byte offset of the first visible pixel */
	bool big_endian_fb; /* QEMU extended register: framebuffer byte order */

	/* Dirty tracking, cleared by each render. */
	bool changed;			/* a register or VRAM byte changed */
	bool all_dirty;			/* render everything next time */
	uint64_t dirty[VGA_PAGES / 64]; /* VRAM pages written through the window */

	/* The renderer's memory of what is on the surface. */
	bool have_last;
	struct vga_mode last;
	uint32_t palette[256]; /* DAC index -> XRGB, PEL mask applied */
	uint8_t last_font[2][8192];
	uint32_t line[VGA_MAX_WIDTH + 64];
};

static inline void vga_mark_dirty(struct vga *v, uint32_t vram_offset)
{
	uint32_t page = vram_offset >> VGA_PAGE_SHIFT;
	if (page < VGA_PAGES)
		v->dirty[page / 64] |= 1ull << (page % 64);
}

static inline bool vga_vbe_enabled(const struct vga *v)
{
	return v->vbe[VBE_INDEX_ENABLE] & VBE_ENABLED;
}

/* regs.c: the VGA ports 0x3B0-0x3DF and the dispi ports, with the lock held. */
uint8_t vga_port_read(struct vga *v, uint16_t port);
void vga_port_write(struct vga *v, uint16_t port, uint8_t val);
uint16_t vga_vbe_read(struct vga *v, unsigned index);
void vga_vbe_write(struct vga *v, unsigned index, uint16_t val);
void vga_regs_reset(struct vga *v);
/* Brings the geometry registers of an enabled VBE mode into range and
 * derives vbe_line and vbe_start from them. */
void vga_vbe_fixup(struct vga *v);
/* The writable bits of each sequencer, graphics and attribute register. */
extern const uint8_t vga_sr_mask[8], vga_gr_mask[16], vga_ar_mask[0x15];

/* state.c: the saved state (device.h's save and load). */
struct vmstate_out;
struct vmstate_section;
void vga_save(void *state, struct vmstate_out *out);
int vga_load(void *state, struct vmstate_section *in);

/* mem.c: the legacy window 0xA0000-0xBFFFF (offset from 0xA0000), lock held. */
uint8_t vga_mem_read(struct vga *v, uint32_t addr);
void vga_mem_write(struct vga *v, uint32_t addr, uint8_t val);

/* render.c: brings the surface up to date (the display update callback);
 * decodes the CRTC registers of a text (graphics false) or graphics mode. */
void vga_render(void *opaque);
void vga_decode_crtc(const struct vga *v, struct vga_crtc *c, bool graphics);

/* text.c: one scan line of a text mode into out (c->width pixels), and
 * whether the two fonts in use changed since the last call. */
void vga_text_line(const struct vga *v, const struct vga_crtc *c, uint32_t ma, unsigned rs,
		   uint32_t *out);
bool vga_text_font_changed(struct vga *v, const struct vga_crtc *c);
/* The memory range (VRAM byte offsets, inclusive) a text or planar line
 * reads, for the dirty check. */
void vga_line_span(const struct vga_crtc *c, uint32_t ma, unsigned rs, unsigned chars, uint32_t *lo,
		   uint32_t *hi);

/* The memory address the CRTC sends to the planes for character address ma
 * on row scan rs. */
uint32_t vga_crtc_addr(const struct vga_crtc *c, uint32_t ma, unsigned rs);

#endif
