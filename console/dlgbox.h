/* What the console's dialogs share (widgets.c, form.c, filebrowser.c,
 * progress.c): a framed box on a panel centred on the terminal, UTF-8 text
 * drawn by display columns, a row of buttons, keys and mouse clicks. */
#ifndef OSIO_CONSOLE_DLGBOX_H
#define OSIO_CONSOLE_DLGBOX_H

#include "console/console.h"

#include <ncursesw/panel.h>
#include <stdbool.h>
#include <wchar.h>

struct dlgbox {
	WINDOW *win;
	PANEL *panel;
	int h, w;     /* the size now (the wanted size cut to the terminal) */
	bool unicode; /* line drawing in Unicode (con->unicode) */
};

/* Opens a box h x w (cut to the terminal) centred on it, on top of the
 * other panels. 0 or -ENOMEM. */
int dlgbox_open(struct dlgbox *b, struct console *con, int h, int w);
/* Sizes (cut to the terminal) and centres the box again (after a resize
 * or when its content changed). */
void dlgbox_place(struct dlgbox *b, int h, int w);
void dlgbox_close(struct dlgbox *b);
/* Clears the box in the dialog's colours and draws its frame and title. */
void dlgbox_frame(struct dlgbox *b, const char *title);
/* An arrow on the right frame at row y: more above (down false) or below. */
void dlgbox_more(struct dlgbox *b, int y, bool down);

/* Draws UTF-8 text at y, x in at most maxcols columns (control characters
 * and invalid bytes as '?'); returns the columns drawn. */
int dlg_put(WINDOW *w, int y, int x, const char *s, int maxcols, int attr);
/* Draws n spaces. */
void dlg_fill(WINDOW *w, int y, int x, int n, int attr);

/* A row of buttons "[ Label ]" centred in cols columns from x: the focused
 * one (focus, -1 none) highlighted, the default one in bold and, while no
 * button has focus, shown as the one Enter presses. xs[i] (may be NULL)
 * gets where each starts. Returns the row's width. */
int dlg_buttons_width(const char *const *labels, unsigned n);
void dlg_buttons_draw(WINDOW *w, int y, int x, int cols, const char *const *labels, unsigned n,
		      int focus, int def, int *xs);
/* The button at window column x of a row drawn with xs, or -1. */
int dlg_buttons_hit(const char *const *labels, unsigned n, const int *xs, int x);

/* Whether key (from con_getkey: con_is_char) is a printable character to
 * insert: *wc gets it. KEY_* codes and control characters are not. */
bool dlg_key_char(int key, wchar_t *wc);
/* After KEY_MOUSE: true when con->last_mouse is a button 1 click or press
 * inside the box, with *y, *x its position in the window. */
bool dlg_click(struct console *con, const struct dlgbox *b, int *y, int *x);
/* After KEY_MOUSE: +1 or -1 for a wheel turn down or up inside the box,
 * 0 otherwise. */
int dlg_wheel(struct console *con, const struct dlgbox *b);

#define DLG_KEY_ESC	27
#define DLG_KEY_CTRL(c) ((c)&0x1f)
/* Enter arrives as '\n', '\r' or KEY_ENTER. */
bool dlg_key_enter(int key);
/* Backspace arrives as KEY_BACKSPACE, DEL (127) or Ctrl-H. */
bool dlg_key_backspace(int key);

struct lineedit;
/* A key for a text field being edited: Left/Right, Home/End (Ctrl-A/E),
 * Backspace, Del, Ctrl-U (clear) or a character to insert. 1 when the text
 * changed, 0 when only the cursor moved or nothing could change, -1 when
 * key is none of them. */
int dlg_edit_key(struct lineedit *ed, int key);

/* Picks an item of a list by type-ahead: the next index after cur (wrapping)
 * whose text starts with wc, ignoring case; -1 when none. */
int dlg_typeahead(const char *const *items, unsigned n, int cur, wchar_t wc);

/* Keeps the visible window [*top, *top + rows) of a list of n rows around
 * sel. */
void dlg_list_scroll(int *top, int sel, int rows, int n);

#endif
