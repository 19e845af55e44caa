/* The live thumbnail of the selected VM's screen in the details pane: its
 * own control connection (display-attach), the shared picture mapped, the
 * cells recomputed from display-update's dirty rectangles and the pane
 * redrawn at most THUMB_FPS times a second. */
#ifndef OSIO_CONSOLE_THUMB_H
#define OSIO_CONSOLE_THUMB_H

#define THUMB_FPS 10

struct console;
struct thumb;

#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>

/* Connects to the running VM name and attaches to its display; calls
 * con_dirty(con) when the picture changed. NULL when the VM has no display
 * or cannot be reached (the pane then says so: thumb_draw with NULL). */
struct thumb *thumb_open(struct console *con, const char *name);
void thumb_close(struct thumb *t);
/* Draws the picture into the rows x cols box at y, x of w, keeping its
 * aspect (centred, the rest blank); t NULL: a grey box saying "No
 * picture" (or why). */
void thumb_draw(struct thumb *t, WINDOW *w, int y, int x, int rows, int cols);
/* The picture's size ("640x480"), "" when none. */
const char *thumb_mode(const struct thumb *t);

#endif
