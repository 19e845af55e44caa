/* A VM's screen drawn with text cells: each cell is two pixels tall, the
 * upper half block U+2580 in the top pixel's colour over the bottom one's
 * (the picture scaled with box filtering to the cells given). Colours go
 * out as 24-bit values where the terminal takes them, else as the nearest
 * of the 256-colour palette (6x6x6 cube and grey ramp), else the 8 basic
 * colours. */
#ifndef OSIO_CONSOLE_HALFBLOCK_H
#define OSIO_CONSOLE_HALFBLOCK_H

#include "connect/sharedfb.h"

#include <stdbool.h>
#include <stdint.h>

#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>

struct console;

struct hb_cell {
	uint32_t top, bottom; /* 0xRRGGBB */
};

/* Scales fb (NULL or no picture: black) onto cols x rows cells (cols*rows
 * entries in out). The whole picture maps onto the whole grid (callers keep
 * the aspect with hb_fit). */
void hb_scale(const struct sharedfb *fb, int cols, int rows, struct hb_cell *out);
/* Recomputes only the cells that pixels in r (picture coordinates) reach. */
void hb_scale_rect(const struct sharedfb *fb, const struct sharedfb_rect *r, int cols, int rows,
		   struct hb_cell *out);
/* The largest cols x rows grid within max_cols x max_rows that keeps the
 * picture's aspect ratio (a cell is about twice as tall as wide, two
 * pixels high). */
void hb_fit(int width, int height, int max_cols, int max_rows, int *cols, int *rows);

/* 0xRRGGBB to the nearest xterm 256-colour index (16..255), and to the
 * nearest of the 8 basic colours (COLOR_BLACK..COLOR_WHITE). */
int hb_rgb_to_256(uint32_t rgb);
int hb_rgb_to_8(uint32_t rgb);

/* Draws cells at y, x of w with colour pairs from alloc_pair (ncurses keeps
 * the cache): direct colour when truecolour, else the 256 or 8 colours that
 * COLORS allows; without colour, '#', '+', '.' and ' ' by brightness. */
void hb_draw(WINDOW *w, int y, int x, int cols, int rows, const struct hb_cell *cells,
	     const struct console *con);

#endif
