/* vga13: sets mode 13h (320x200, 256 colours) through the BIOS, programs all 256 DAC entries,
 * and draws every colour as a block plus a gradient, for the runner's screenshot. */
#include "../bios.h"
#include "../screen.h"
#include "../../lib/test.h"
#include "../../lib/uart.h"

#define W 320
#define H 200

void test_main(void)
{
	volatile u8 *fb = (volatile u8 *)VGA_GFX_BUF;

	bios_set_mode(0x13);
	u8 mode = peek8(BDA_VIDEO_MODE);
	check(mode == 0x13, "vga: BIOS data area says mode 0x%x", mode);
	/* A palette of our own: entry i mixes its bits into the three components; entry 0 is
	 * black, 15 white, 4 pure red (so the runner can probe them). */
	for (unsigned i = 0; i < 256; i++)
		dac_set((u8)i, (u8)((i * 5) & 0x3f), (u8)((i >> 2) & 0x3f), (u8)(63 - (i & 0x3f)));
	dac_set(0, 0, 0, 0);
	dac_set(15, 63, 63, 63);
	dac_set(4, 63, 0, 0);
	/* 16 x 16 blocks of 20 x 12 pixels, one per colour. */
	for (unsigned y = 0; y < 192; y++)
		for (unsigned x = 0; x < W; x++)
			fb[y * W + x] = (u8)((y / 12) * 16 + x / 20);
	/* A gradient below, and a white frame around everything. */
	for (unsigned y = 192; y < H; y++)
		for (unsigned x = 0; x < W; x++)
			fb[y * W + x] = (u8)x;
	for (unsigned x = 0; x < W; x++) {
		fb[x] = 15;
		fb[(H - 1) * W + x] = 15;
	}
	for (unsigned y = 0; y < H; y++) {
		fb[y * W] = 15;
		fb[y * W + W - 1] = 15;
	}
	/* The display is 640x400: each pixel doubled in both directions. */
	screen_probe(2 * 90, 2 * 6, 0xff0000, "colour 4, pure red");
	screen_probe(2 * 10, 2 * 6, 0x000000, "colour 0, black");
	screen_probe(0, 0, 0xffffff, "frame, colour 15");
	screen_probe(2 * 319 + 1, 2 * 199 + 1, 0xffffff, "frame, bottom right");
	screen_hold();
}
