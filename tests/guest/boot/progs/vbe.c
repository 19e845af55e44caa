/* vbe: finds the 1024x768 32-bit mode in the VGA BIOS's VBE mode list, sets it with a linear
 * frame buffer (int 10h AX=4F02h), checks the Bochs dispi registers agree, and draws colour bars,
 * a gradient, a checkerboard and a diagonal for the runner's screenshot. */
#include "../bios.h"
#include "../screen.h"
#include "../../lib/test.h"
#include "../../lib/uart.h"

#define W 1024
#define H 768

static void fill(volatile u32 *fb, u32 pitch, u32 x0, u32 y0, u32 w, u32 h, u32 rgb)
{
	for (u32 y = y0; y < y0 + h; y++) {
		volatile u32 *p = fb + y * pitch + x0;
		u32 n = w;
		__asm__ volatile("rep stosl" : "+D"(p), "+c"(n) : "a"(rgb) : "memory");
	}
}

void test_main(void)
{
	static const u32 bars[8] = {0xff0000, 0x00ff00, 0x0000ff, 0xffff00,
				    0x00ffff, 0xff00ff, 0xffffff, 0x808080};
	struct vbe_mode m;

	if (!check(vbe_find_mode(W, H, 32, &m),
		   "vbe: the mode list has %ux%ux32 with a linear "
		   "frame buffer",
		   W, H))
		return;
	printf("vbe: mode 0x%x, %u bytes per line, memory model %u\n", m.number, m.pitch,
	       m.memory_model);
	printf("peer: vbe: linear frame buffer at 0x%x\n", m.lfb);
	u16 st = vbe_set_mode(m.number);
	if (!check(st == 0x004f, "vbe: AX=4F02h sets mode 0x%x (status 0x%04x)", m.number, st))
		return;
	u16 xres = dispi_read(1), yres = dispi_read(2), bpp = dispi_read(3), en = dispi_read(4);
	check(xres == W && yres == H && bpp == 32 && (en & 0x41) == 0x41,
	      "dispi: XRES %u, YRES %u, BPP %u, ENABLE with LFB (0x%x)", xres, yres, bpp,
	      en & 0x41);
	check(m.pitch == W * 4 && m.memory_model == 6, "vbe: direct colour, %u bytes per line",
	      m.pitch);

	volatile u32 *fb = (volatile u32 *)m.lfb;
	u32 pitch = m.pitch / 4;
	/* Eight bars, then a grey ramp, a checkerboard and a white frame and diagonal. */
	for (u32 i = 0; i < 8; i++)
		fill(fb, pitch, i * (W / 8), 0, W / 8, H, bars[i]);
	for (u32 y = 300; y < 364; y++)
		for (u32 x = 0; x < W; x++) {
			u32 g = x * 255 / (W - 1);
			fb[y * pitch + x] = g << 16 | (255 - g) << 8 | (y - 300) * 4;
		}
	for (u32 y = 450; y < 706; y++)
		for (u32 x = 700; x < 956; x++)
			fb[y * pitch + x] = ((x / 8 + y / 8) & 1) ? 0x000000 : 0xffffff;
	fill(fb, pitch, 0, 0, W, 1, 0xffffff);
	fill(fb, pitch, 0, H - 1, W, 1, 0xffffff);
	for (u32 y = 0; y < H; y++) {
		fb[y * pitch] = 0xffffff;
		fb[y * pitch + W - 1] = 0xffffff;
		fb[y * pitch + y] = 0x000000;
	}
	screen_probe(64, 100, 0xff0000, "red bar");
	screen_probe(192, 100, 0x00ff00, "green bar");
	screen_probe(320, 100, 0x0000ff, "blue bar");
	screen_probe(5, 0, 0xffffff, "frame");
	screen_probe(708, 450, 0xffffff, "checkerboard, white square");
	screen_probe(700, 450, 0x000000, "checkerboard, black square");
	screen_probe(500, 500, 0x000000, "diagonal");
	screen_probe(1022, 330, 0xfe0178, "ramp, right end");
	screen_hold();
}
