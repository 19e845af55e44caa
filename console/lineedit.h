/* One line of UTF-8 text being edited in a dialog field, without curses:
 * cursor and horizontal scrolling by display columns. Used by form.c and
 * filebrowser.c, tested by tests/console/test_widgets.c. */
#ifndef OSIO_CONSOLE_LINEEDIT_H
#define OSIO_CONSOLE_LINEEDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <wchar.h>

struct lineedit {
	char *buf; /* NUL-terminated UTF-8, at most size - 1 bytes */
	size_t size;
	size_t cur;    /* cursor: byte offset, on a character boundary */
	size_t scroll; /* first byte shown */
};

/* Starts editing buf (size bytes, holding a string) with the cursor at
 * its end. */
void lineedit_init(struct lineedit *e, char *buf, size_t size);
/* After buf changed behind the editor's back: cursor to the end. */
void lineedit_reset(struct lineedit *e);

/* Inserts one character at the cursor: false (nothing done) when it does
 * not fit or is not printable. */
bool lineedit_insert(struct lineedit *e, wchar_t wc);
/* Removes the character before (backspace) or at (delete) the cursor;
 * false when there was none. */
bool lineedit_backspace(struct lineedit *e);
bool lineedit_delete(struct lineedit *e);
/* Empties the line (Ctrl-U); false when it was empty. */
bool lineedit_clear(struct lineedit *e);
void lineedit_left(struct lineedit *e);
void lineedit_right(struct lineedit *e);
void lineedit_home(struct lineedit *e);
void lineedit_end(struct lineedit *e);

/* Scrolls so that the cursor is visible in a field width columns wide
 * (one column kept for the cursor past the end); returns the cursor's
 * column in the field. */
int lineedit_view(struct lineedit *e, int width);

/* Display columns of the UTF-8 string s (at most n bytes); invalid bytes
 * and control characters count one column each (they are drawn as '?'). */
int utf8_width(const char *s, size_t n);
/* Decodes one character of s (at most n bytes, n > 0) into *wc and returns
 * its length in bytes (1 with *wc '?' for an invalid byte). */
size_t utf8_next(const char *s, size_t n, wchar_t *wc);

#endif
