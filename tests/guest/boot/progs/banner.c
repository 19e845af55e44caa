/* banner: booted from the DVD, reads what SeaBIOS left on the VGA text screen (its banner and
 * boot messages) before touching anything, checks the banner is there, and holds the screen for
 * the runner's screenshot and text capture. */
#include "../bios.h"
#include "../screen.h"
#include "../../lib/str.h"
#include "../../lib/test.h"
#include "../../lib/uart.h"

#define COLS 80
#define ROWS 25

void test_main(void)
{
	const volatile u16 *text = (const volatile u16 *)VGA_TEXT_BUF;
	u8 mode = peek8(BDA_VIDEO_MODE);
	u16 cursor = peek16(BDA_CURSOR0);
	bool banner = false;

	check(mode == 3, "vga: the BIOS left text mode 3 (mode %u)", mode);
	for (unsigned r = 0; r < ROWS; r++) {
		char line[COLS + 1];
		unsigned len = 0;
		for (unsigned c = 0; c < COLS; c++) {
			u8 ch = (u8)text[r * COLS + c];
			line[c] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : ch == 0 ? ' ' : '?';
			if (line[c] != ' ')
				len = c + 1;
		}
		line[len] = 0;
		if (len)
			printf("text: %u: %s\n", r, line);
		for (unsigned i = 0; i + 17 <= len && !banner; i++)
			banner = memcmp(line + i, "SeaBIOS (version ", 17) == 0;
	}
	check(banner, "the screen shows \"SeaBIOS (version ...\"");
	printf("text: cursor at row %u, column %u\n", cursor >> 8, cursor & 0xff);
	screen_mask((cursor & 0xff) * 9u, (cursor >> 8) * 16u, 9, 16, "the cursor blinks");
	screen_hold();
}
