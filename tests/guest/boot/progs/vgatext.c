/* vgatext: sets 80x25 text mode through the BIOS (int 10h AH=00h, mode 3), loads a glyph of its
 * own into the font (AX=1100h), changes a DAC colour, and fills the screen with every character
 * and attribute combination it can compare across VMMs; then holds the picture for the
 * runner's screenshot. */
#include "../bios.h"
#include "../screen.h"
#include "../../lib/str.h"
#include "../../lib/test.h"
#include "../../lib/uart.h"

#define COLS 80
#define ROWS 25

/* A glyph of our own for character 0x01: a framed X, 16 scan lines. */
static const u8 glyph[16] = {0xff, 0x81, 0xc3, 0xa5, 0x99, 0x99, 0xa5, 0xc3,
			     0x81, 0xff, 0x00, 0x18, 0x18, 0x00, 0x00, 0x00};

static volatile u16 *const text = (volatile u16 *)VGA_TEXT_BUF;

static void put(unsigned row, unsigned col, u8 ch, u8 attr)
{
	if (row < ROWS && col < COLS)
		text[row * COLS + col] = (u16)(attr << 8 | ch);
}

static void puts_at(unsigned row, unsigned col, const char *s, u8 attr)
{
	while (*s)
		put(row, col++, (u8)*s++, attr);
}

static void load_glyph(void)
{
	u32 table = LOW_BUF;
	struct bregs r = {.eax = 0x1100,
			  .ebx = 16u << 8,
			  .ecx = 1,
			  .edx = 0x01,
			  .ebp = rm_off(table),
			  .es = rm_seg(table)};

	memcpy((void *)table, glyph, sizeof(glyph));
	bioscall(0x10, &r);
}

void test_main(void)
{
	bios_set_mode(3);
	load_glyph();
	/* Attribute colour 3 (cyan, DAC 3 in mode 3's palette) becomes pure red. */
	dac_set(3, 0x3f, 0x00, 0x00);

	/* A double-line frame (0xC9 0xCD 0xBB 0xBA 0xC8 0xBC) around the screen. */
	for (unsigned c = 1; c < COLS - 1; c++) {
		put(0, c, 0xcd, 0x1f);
		put(ROWS - 1, c, 0xcd, 0x1f);
	}
	for (unsigned r = 1; r < ROWS - 1; r++) {
		put(r, 0, 0xba, 0x1f);
		put(r, COLS - 1, 0xba, 0x1f);
	}
	put(0, 0, 0xc9, 0x1f);
	put(0, COLS - 1, 0xbb, 0x1f);
	put(ROWS - 1, 0, 0xc8, 0x1f);
	put(ROWS - 1, COLS - 1, 0xbc, 0x1f);
	puts_at(0, 3, " osio VGA text mode test ", 0x1e);

	/* Every character, 32 per row. 0xB0-0xB2 (shades) are left out: whether the 9th column
	 * repeats the 8th for them differs (the VGA does it for 0xC0-0xDF only, QEMU for
	 * 0xB0-0xDF). */
	for (unsigned ch = 0; ch < 256; ch++) {
		u8 c = (ch >= 0xb0 && ch <= 0xb2) ? ' ' : (u8)ch;
		put(2 + ch / 32, 4 + (ch % 32) * 2, c, 0x07);
	}
	/* Every attribute without the blink bit (bit 7 blinks or brightens the background,
	 * depending on the VMM's choice of blink handling): 128 cells of 'A'. */
	for (unsigned a = 0; a < 128; a++)
		put(12 + a / 64, 4 + a % 64, 'A' + (a % 26), (u8)a);
	puts_at(15, 4, "Line graphics: ", 0x0f);
	static const u8 boxes[] = {0xda, 0xc4, 0xc2, 0xc4, 0xbf, 0xc3, 0xc5, 0xb4, 0xc0, 0xc1,
				   0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xc4, 0xc4, 0xcd, 0xcd};
	for (unsigned i = 0; i < sizeof(boxes); i++)
		put(15, 19 + i, boxes[i], 0x0e);
	puts_at(17, 4, "Our glyph (AX=1100h): ", 0x0f);
	put(17, 26, 0x01, 0x0f);
	put(17, 27, 0x01, 0x4e);
	puts_at(18, 4, "Red from the DAC: ", 0x0f);
	puts_at(18, 22, "colour 3", 0x03);
	puts_at(18, 31, "on red", 0x30);
	/* A full block in bright white: line graphics repeat its 8th column in the 9th. */
	put(17, 30, 0xdb, 0x0f);
	puts_at(20, 4, "The quick brown fox jumps over the lazy dog. 0123456789 !@#$%^&*()", 0x0a);
	bios_set_cursor(22, 10);
	puts_at(22, 4, "Cursor:", 0x07);

	u8 mode = peek8(BDA_VIDEO_MODE), cols = peek8(BDA_COLUMNS);
	check(mode == 3 && cols == COLS, "vga: BIOS data area says mode %u, %u columns", mode,
	      cols);
	/* The cursor cell blinks in QEMU (drawn or not, by the phase at the screendump). */
	screen_mask(10 * 9, 22 * 16, 9, 16, "the cursor blinks");
	screen_probe(30 * 9 + 4, 17 * 16 + 8, 0xffffff, "full block, bright white");
	screen_probe(30 * 9 + 8, 17 * 16 + 8, 0xffffff, "its 9th column (line graphics)");
	screen_probe(31 * 9 + 2, 18 * 16 + 1, 0xff0000, "background from DAC entry 3");
	screen_probe(5 * 9, 1 * 16 + 8, 0x000000, "black background");
	screen_hold();
}
