/* int 10h video services, VBE 2.0 mode search, DAC and dispi registers, and the screenshot
 * handshake with the runner. */
#include "screen.h"
#include "bios.h"
#include "../lib/io.h"
#include "../lib/str.h"
#include "../lib/uart.h"

#define VBE_INFO  (LOW_BUF + 0x10000) /* 512 bytes */
#define MODE_INFO (LOW_BUF + 0x10400) /* 256 bytes */
#define VBE_OK	  0x004f

void bios_set_mode(u8 mode)
{
	struct bregs r = {.eax = mode};

	bioscall(0x10, &r);
}

void bios_set_cursor(u8 row, u8 col)
{
	struct bregs r = {.eax = 0x0200, .ebx = 0, .edx = (u32)row << 8 | col};

	bioscall(0x10, &r);
}

void dac_set(u8 index, u8 r, u8 g, u8 b)
{
	outb(0x3c8, index);
	outb(0x3c9, r & 0x3f);
	outb(0x3c9, g & 0x3f);
	outb(0x3c9, b & 0x3f);
}

static u16 rd16(u32 addr)
{
	const u8 *p = (const u8 *)addr;

	return (u16)(p[0] | p[1] << 8);
}

static u32 rd32(u32 addr)
{
	return rd16(addr) | (u32)rd16(addr + 2) << 16;
}

static bool mode_info(u16 number, struct vbe_mode *m)
{
	struct bregs r = {
	    .eax = 0x4f01, .ecx = number, .edi = rm_off(MODE_INFO), .es = rm_seg(MODE_INFO)};

	memset((void *)MODE_INFO, 0, 256);
	bioscall(0x10, &r);
	if ((r.eax & 0xffff) != VBE_OK)
		return false;
	m->number = number;
	m->attributes = rd16(MODE_INFO + 0x00);
	m->pitch = rd16(MODE_INFO + 0x10);
	m->width = rd16(MODE_INFO + 0x12);
	m->height = rd16(MODE_INFO + 0x14);
	m->bpp = *(const u8 *)(MODE_INFO + 0x19);
	m->memory_model = *(const u8 *)(MODE_INFO + 0x1b);
	m->lfb = rd32(MODE_INFO + 0x28);
	return true;
}

bool vbe_find_mode(u16 width, u16 height, u8 bpp, struct vbe_mode *m)
{
	struct bregs r = {.eax = 0x4f00, .edi = rm_off(VBE_INFO), .es = rm_seg(VBE_INFO)};
	u32 list;

	memset((void *)VBE_INFO, 0, 512);
	memcpy((void *)VBE_INFO, "VBE2", 4); /* ask for the VBE 2.0 fields */
	bioscall(0x10, &r);
	if ((r.eax & 0xffff) != VBE_OK || memcmp((const void *)VBE_INFO, "VESA", 4) != 0)
		return false;
	printf("vbe: VBE %u.%u, %u KiB of video memory\n", *(const u8 *)(VBE_INFO + 5),
	       *(const u8 *)(VBE_INFO + 4), rd16(VBE_INFO + 0x12) * 64);
	/* The mode list: a far pointer to 16-bit numbers ending with 0xFFFF (copied first: the
	 * mode info calls may reuse the buffer it points into). */
	static u16 modes[256];
	u32 n = 0;
	list = rm_linear(rd32(VBE_INFO + 0x0e));
	if (list >= 0x100000)
		return false;
	while (n < ARRAY_SIZE(modes) && rd16(list + 2 * n) != 0xffff) {
		modes[n] = rd16(list + 2 * n);
		n++;
	}
	for (u32 i = 0; i < n; i++) {
		if (!mode_info(modes[i], m))
			continue;
		if (m->width == width && m->height == height && m->bpp == bpp &&
		    (m->attributes & 0x80) && m->lfb)
			return true;
	}
	return false;
}

u16 vbe_set_mode(u16 number)
{
	struct bregs r = {.eax = 0x4f02, .ebx = number | 0x4000u};

	bioscall(0x10, &r);
	return (u16)r.eax;
}

u16 dispi_read(u16 index)
{
	outw(0x1ce, index);
	return inw(0x1cf);
}

void screen_mask(u32 x, u32 y, u32 w, u32 h, const char *why)
{
	printf("mask: %u,%u,%u,%u (%s)\n", x, y, w, h, why);
}

void screen_probe(u32 x, u32 y, u32 rgb, const char *what)
{
	printf("probe: %u,%u,%06x (%s)\n", x, y, rgb, what);
}

void screen_hold(void)
{
	/* Whatever came in before is not the runner's answer. */
	while (inb(COM1_BASE + UART_LSR) & LSR_DR)
		inb(COM1_BASE + UART_RBR);
	printf("screen: ready\n");
	console_flush();
	while (!(inb(COM1_BASE + UART_LSR) & LSR_DR))
		pause();
	inb(COM1_BASE + UART_RBR);
	printf("screen: released\n");
}
