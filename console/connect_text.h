/* A VM's text screen as display-text gives it (share/doc/control-api.md),
 * checked and decoded for the in-terminal Connect view, and drawn cell for
 * cell with the attribute colours the terminal can show. Parsing and the
 * colour choices need no terminal (unit-tested). */
#ifndef OSIO_CONSOLE_CONNECT_TEXT_H
#define OSIO_CONSOLE_CONNECT_TEXT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>

struct console;

#define CONN_TEXT_MAX_COLS 256 /* wider or taller screens are refused */
#define CONN_TEXT_MAX_ROWS 128

struct conn_text {
	int cols, rows;
	int cur_x, cur_y;
	bool cur_visible;     /* false also when the cursor is off the screen */
	bool blink;	      /* attribute bit 7 blinks instead of brightening the background */
	uint32_t palette[16]; /* 0xRRGGBB for attribute colours 0..15 */
	uint32_t *chars;      /* rows * cols code points, printable (no controls) */
	uint8_t *attrs;	      /* rows * cols attribute bytes */
};

/* Fills t from display-text's answer (t's old content freed on success
 * only). Missing or malformed parts of a row become blanks in grey on
 * black, a bad palette entry the VGA default; -EINVAL with one line in err
 * when the size is missing or out of range, -ENOMEM. */
int conn_text_parse(struct conn_text *t, json_t *ret, char *err, size_t errlen);
void conn_text_free(struct conn_text *t);

/* An attribute byte's foreground and background colour indexes (0..15)
 * and whether it blinks. */
void conn_text_attr_colours(uint8_t attr, bool blink_mode, int *fg, int *bg, bool *blinks);
/* The nearest of a 16-colour terminal's colours (ANSI order, taken as
 * the VGA shows them) to 0xRRGGBB. */
int conn_text_rgb_to_16(uint32_t rgb);
/* What a cell shows in a terminal without UTF-8: the character itself in
 * ASCII, box drawing as '-', '|', '+', blocks and shades as '#', anything
 * else as '?'. */
int conn_text_ascii(uint32_t cp);

/* The terminal's colours (-1 without colour) and the attributes of each
 * attribute byte for a palette: made again only when the palette, blink
 * mode or the terminal changed. */
struct conn_text_colours {
	bool valid;
	uint32_t palette[16];
	bool blink;
	int fg[256], bg[256];
	attr_t attr[256];
};
void conn_text_colours_update(struct conn_text_colours *c, const struct conn_text *t,
			      const struct console *con);
/* The colour pair (alloc_pair) for attribute byte attr; 0 without colour. */
int conn_text_pair(const struct conn_text_colours *c, int attr);

/* Draws t into the h x w box at row top, column 0 of win: centred when it
 * fits, else the part with the cursor. True when the VM's cursor is shown:
 * win's cursor is then on it. */
bool conn_text_draw(const struct conn_text *t, const struct conn_text_colours *c, WINDOW *win,
		    int top, int h, int w, bool unicode);

#endif
