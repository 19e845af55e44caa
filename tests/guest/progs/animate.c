/* animate: a guest that redraws a whole 32-bit Bochs VBE screen (default 1024x768) as fast as
 * it can, for scripts/bench-vnc. Finds the standard VGA on PCI, sets the mode through the DISPI
 * ports, then draws frame after frame: each row one colour that changes every frame (a gradient
 * scrolling through the colours), one REP STOSD a row so the frame costs few instructions
 * (kvm_pvm's emulator still takes ~0.2 us a dword: about 6 frames/s at 1024x768). Prints "frame N"
 * every every= frames (default 30), forever, or until frames= frames; then with hold=1 it keeps the
 * last frame and halts (an idle screen), else it ends with the RESULT line. Arguments: width=
 * height= (multiples of 8, 64..2560 by 64..1600), frames= (0: forever), every=, hold=. */
#include "../lib/cmdline.h"
#include "../lib/io.h"
#include "../lib/multiboot.h"
#include "../lib/pci.h"
#include "../lib/test.h"
#include "../lib/uart.h"

/* Bochs VBE extensions of the standard VGA (QEMU's hw/display/vga.c, Bochs' vbe.h). */
#define DISPI_INDEX    0x1ce
#define DISPI_DATA     0x1cf
#define DISPI_ID       0
#define DISPI_XRES     1
#define DISPI_YRES     2
#define DISPI_BPP      3
#define DISPI_ENABLE   4
#define DISPI_Y_OFFSET 9
#define DISPI_ENABLED  0x01
#define DISPI_LFB      0x40
#define DISPI_ID0      0xb0c0
#define VGA_IS1	       0x3da /* reading it resets the attribute flip-flop */
#define VGA_AR_INDEX   0x3c0
#define VGA_AR_PAS     0x20

/* QEMU's "VGA" PCI function: vendor 0x1234, device 0x1111, class 0x0300 (VGA display). */
#define STDVGA_ID      0x11111234u
#define PCI_CLASS_VGA  0x0300u
#define BAR_MEM_MASK   0xfffffff0u
#define BAR_MEM_TYPE   0x06u /* bits 2:1: 0 = 32-bit, 2 = 64-bit */
#define DEFAULT_EVERY  30
#define DEFAULT_WIDTH  1024
#define DEFAULT_HEIGHT 768

static u16 dispi_read(u16 index)
{
	outw(DISPI_INDEX, index);
	return inw(DISPI_DATA);
}

static void dispi_write(u16 index, u16 v)
{
	outw(DISPI_INDEX, index);
	outw(DISPI_DATA, v);
}

/* Below the IOAPIC, where SeaBIOS puts the largest 32-bit BAR (the top of the PCI hole). */
#define PCI_HOLE_END 0xfec00000u

/* Places an unassigned memory BAR (a VMM that boots the kernel without firmware leaves them at
 * 0, as SeaBIOS would not) where the firmware would: its size aligned, just below the IOAPIC,
 * provided no region of the memory map is there. Returns the address or 0. */
static u32 assign_bar(struct pci_addr a, u8 off)
{
	u16 cmd = pci_read16(a, PCI_COMMAND);
	u32 size, base;

	/* Sizing with decoding off (PCI 3.0, 6.2.5.1). */
	pci_write16(a, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	pci_write32(a, off, 0xffffffffu);
	size = ~(pci_read32(a, off) & BAR_MEM_MASK) + 1;
	/* Only failures print here: QEMU's firmware assigned the BAR, osio's direct boot did
	 * not, and the two outputs must stay the same. */
	if (size < 4096 || (size & (size - 1)) || size > 256 * MiB) {
		check(false, "the VGA's BAR0 sizes as a power of two, 4 KiB..256 MiB (0x%x)", size);
		return 0;
	}
	base = (PCI_HOLE_END - size) & ~(size - 1);
	for (u32 i = 0; i < mb.nr_regions; i++) {
		const struct mb_region *r = &mb.regions[i];

		if (r->base < (u64)base + size && r->base + r->len > base) {
			check(false, "0x%08x..0x%08x is free in the memory map for the framebuffer",
			      base, base + size - 1);
			return 0;
		}
	}
	pci_write32(a, off, base);
	printf("peer: BAR0 was unassigned: placed at 0x%08x (%u MiB)\n", base, size / MiB);
	return base;
}

/* The standard VGA's linear framebuffer: its BAR0 (a 32-bit memory BAR), placed if no firmware
 * did, with memory decoding on. 0 if there is none. */
static u32 find_framebuffer(void)
{
	for (u8 dev = 0; dev < 32; dev++) {
		struct pci_addr a = {0, dev, 0};
		u32 id = pci_read32(a, PCI_VENDOR_ID), bar, base;

		if (id != STDVGA_ID || (pci_read32(a, PCI_CLASS_REVISION) >> 16) != PCI_CLASS_VGA)
			continue;
		bar = pci_read32(a, PCI_BAR0);
		printf("peer: standard VGA at 00:%02x.0, BAR0 0x%08x\n", dev, bar);
		if (!check(!(bar & 1) && (bar & BAR_MEM_TYPE) == 0,
			   "the VGA's BAR0 is a 32-bit memory BAR"))
			return 0;
		base = bar & BAR_MEM_MASK;
		if (!base && !(base = assign_bar(a, PCI_BAR0)))
			return 0;
		pci_write16(a, PCI_COMMAND, pci_read16(a, PCI_COMMAND) | PCI_COMMAND_MEMORY);
		return base;
	}
	check(false, "a standard VGA (1234:1111) on PCI bus 0");
	return 0;
}

static bool set_mode(u32 w, u32 h)
{
	u16 id = dispi_read(DISPI_ID);

	if (!check((id & 0xfff0) == DISPI_ID0, "Bochs VBE registers present"))
		return false;
	dispi_write(DISPI_ENABLE, 0);
	dispi_write(DISPI_XRES, (u16)w);
	dispi_write(DISPI_YRES, (u16)h);
	dispi_write(DISPI_BPP, 32);
	dispi_write(DISPI_ENABLE, DISPI_ENABLED | DISPI_LFB);
	/* Video on (the attribute controller's palette address source bit), as Linux's bochs
	 * driver does: without a VGA BIOS it is still clear from reset. */
	inb(VGA_IS1);
	outb(VGA_AR_INDEX, VGA_AR_PAS);
	return check(dispi_read(DISPI_XRES) == w && dispi_read(DISPI_YRES) == h &&
			 (dispi_read(DISPI_ENABLE) & DISPI_ENABLED),
		     "VBE mode %ux%ux32 set", w, h);
}

/* n copies of v from dst on: one instruction however long the row. */
static inline void fill32(u32 dst, u32 v, u32 n)
{
	__asm__ volatile("cld; rep stosl" : "+D"(dst), "+c"(n) : "a"(v) : "memory");
}

/* Frame f: row y is (f * 0x050301 + y * 0x010101) in 24 bits, a gradient that moves down
 * and through the colours; every row changes from one frame to the next (the step
 * 0x050301 is not 0 modulo 2^24), so every pixel does. */
static void draw(u32 fb, u32 w, u32 h, u32 f)
{
	u32 c = f * 0x050301u, pitch = w * 4;

	for (u32 y = 0; y < h; y++, fb += pitch, c += 0x010101u)
		fill32(fb, c & 0xffffffu, w);
}

static u32 fb, width = DEFAULT_WIDTH, height = DEFAULT_HEIGHT, frames, every = DEFAULT_EVERY;
static u32 drawn;
static bool flip;

/* The frames: draw(), and a line every every= frames. */
static void animate(void)
{
	u32 f;

	for (f = 1; !frames || f <= frames; f++) {
		draw(fb, width, height, f);
		/* "Show it": the display start register, as a page-flipping program writes it
		 * each frame (here always the one page). */
		if (flip)
			dispi_write(DISPI_Y_OFFSET, 0);
		if (f % every == 0)
			printf("frame %u\n", f);
	}
	drawn = f - 1;
}

void test_main(void)
{
	u64 w = DEFAULT_WIDTH, h = DEFAULT_HEIGHT, n = 0, e = DEFAULT_EVERY, hold = 0, fl = 0;

	arg_u64("width", &w);
	arg_u64("height", &h);
	arg_u64("frames", &n);
	arg_u64("every", &e);
	arg_u64("hold", &hold);
	arg_u64("flip", &fl);
	flip = fl != 0;
	printf("animate: %ux%ux32, %s frames, a line every %u\n", (u32)w, (u32)h,
	       n ? "a fixed number of" : "endless", (u32)e);
	if (!check(w >= 64 && w <= 2560 && h >= 64 && h <= 1600 && w % 8 == 0 && h % 8 == 0,
		   "width and height are multiples of 8 within 64..2560 x 64..1600") ||
	    !check(e >= 1 && e <= 1000000 && n <= 0xffffffffu,
		   "every= is 1..1000000, frames= fits 32 bits"))
		return;
	width = (u32)w;
	height = (u32)h;
	frames = (u32)n;
	every = (u32)e;
	fb = find_framebuffer();
	/* Paging is off: the frame must end below 4 GiB (the VGA checks that its VRAM holds it). */
	if (!fb || !check(fb <= 0xffffffffu - width * height * 4, "the mode fits below 4 GiB") ||
	    !set_mode(width, height))
		return;
	printf("drawing\n");
	animate();
	printf("done: %u frames\n", drawn);
	if (hold) {
		printf("hold: the last frame stays on the screen, the CPU halts\n");
		console_flush();
		halt_forever();
	}
}
