/* The dialogs' shared pieces: a framed box on a panel centred on the
 * terminal, UTF-8 text by display columns, button rows, keys and clicks. */
#include "console/dlgbox.h"
#include "console/lineedit.h"
#include "console/theme.h"

#include <errno.h>
#include <string.h>
#include <wctype.h>

static void box_geometry(int *h, int *w, int *y, int *x)
{
	int rows = LINES, cols = COLS;

	if (*h > rows)
		*h = rows;
	if (*w > cols)
		*w = cols;
	if (*h < 3)
		*h = 3;
	if (*w < 8)
		*w = 8;
	*y = rows > *h ? (rows - *h) / 2 : 0;
	*x = cols > *w ? (cols - *w) / 2 : 0;
}

int dlgbox_open(struct dlgbox *b, struct console *con, int h, int w)
{
	int y, x;

	box_geometry(&h, &w, &y, &x);
	b->win = newwin(h, w, y, x);
	if (!b->win)
		return -ENOMEM;
	b->panel = new_panel(b->win);
	if (!b->panel) {
		delwin(b->win);
		b->win = NULL;
		return -ENOMEM;
	}
	keypad(b->win, TRUE);
	b->unicode = con->unicode;
	b->h = h;
	b->w = w;
	return 0;
}

void dlgbox_place(struct dlgbox *b, int h, int w)
{
	int y, x;

	box_geometry(&h, &w, &y, &x);
	if (h != b->h || w != b->w) {
		/* Move first to where the new size fits, then resize. */
		move_panel(b->panel, 0, 0);
		wresize(b->win, h, w);
		b->h = h;
		b->w = w;
	}
	if (getbegy(b->win) != y || getbegx(b->win) != x)
		move_panel(b->panel, y, x);
}

void dlgbox_close(struct dlgbox *b)
{
	if (b->panel)
		del_panel(b->panel);
	if (b->win)
		delwin(b->win);
	b->panel = NULL;
	b->win = NULL;
	update_panels();
}

void dlgbox_frame(struct dlgbox *b, const char *title)
{
	int a = theme_attr(TH_BORDER);

	wbkgdset(b->win, ' ' | (chtype)theme_attr(TH_DIALOG));
	werase(b->win);
	if (b->unicode) {
		/* Unicode box drawing, not the terminal's alternate set: it
		 * shows the same everywhere (tmux captures included). */
		for (int x = 1; x < b->w - 1; x++) {
			dlg_put(b->win, 0, x, "\u2500", 1, a);
			dlg_put(b->win, b->h - 1, x, "\u2500", 1, a);
		}
		for (int y = 1; y < b->h - 1; y++) {
			dlg_put(b->win, y, 0, "\u2502", 1, a);
			dlg_put(b->win, y, b->w - 1, "\u2502", 1, a);
		}
		dlg_put(b->win, 0, 0, "\u250c", 1, a);
		dlg_put(b->win, 0, b->w - 1, "\u2510", 1, a);
		dlg_put(b->win, b->h - 1, 0, "\u2514", 1, a);
		dlg_put(b->win, b->h - 1, b->w - 1, "\u2518", 1, a);
	} else {
		wborder(b->win, ACS_VLINE | a, ACS_VLINE | a, ACS_HLINE | a, ACS_HLINE | a,
			ACS_ULCORNER | a, ACS_URCORNER | a, ACS_LLCORNER | a, ACS_LRCORNER | a);
	}
	if (title && *title && b->w > 6) {
		int n;

		mvwaddch(b->win, 0, 2, ' ' | (chtype)theme_attr(TH_DIALOG_TITLE));
		n = dlg_put(b->win, 0, 3, title, b->w - 6, theme_attr(TH_DIALOG_TITLE));
		mvwaddch(b->win, 0, 3 + n, ' ' | (chtype)theme_attr(TH_DIALOG_TITLE));
	}
}

void dlgbox_more(struct dlgbox *b, int y, bool down)
{
	if (b->unicode)
		dlg_put(b->win, y, b->w - 1, down ? "\u2193" : "\u2191", 1, theme_attr(TH_BORDER));
	else
		mvwaddch(b->win, y, b->w - 1,
			 (down ? ACS_DARROW : ACS_UARROW) | (chtype)theme_attr(TH_BORDER));
}

int dlg_put(WINDOW *w, int y, int x, const char *s, int maxcols, int attr)
{
	size_t n = strlen(s);
	int cols = 0;
	short pair = (short)PAIR_NUMBER(attr);

	while (n && cols < maxcols) {
		wchar_t wc, str[2];
		cchar_t cc;
		size_t l = utf8_next(s, n, &wc);
		int cw;

		if (wc < 32 || wc == 127 || !iswprint((wint_t)wc))
			wc = L'?';
		cw = wcwidth(wc);
		if (cw < 0)
			cw = 1;
		if (cols + cw > maxcols)
			break;
		str[0] = wc;
		str[1] = 0;
		setcchar(&cc, str, (attr_t)attr & ~A_COLOR, pair, NULL);
		mvwadd_wch(w, y, x + cols, &cc);
		cols += cw;
		s += l;
		n -= l;
	}
	return cols;
}

void dlg_fill(WINDOW *w, int y, int x, int n, int attr)
{
	for (int i = 0; i < n; i++)
		mvwaddch(w, y, x + i, ' ' | (chtype)attr);
}

/* Columns of button i: "[ Label ]", or "[Label]" when compact. */
static int button_cols(const char *label, bool compact)
{
	return utf8_width(label, strlen(label)) + (compact ? 2 : 4);
}

int dlg_buttons_width(const char *const *labels, unsigned n)
{
	int w = 0;

	for (unsigned i = 0; i < n; i++)
		w += button_cols(labels[i], false) + (i ? 2 : 0);
	return w;
}

/* Whether the row must be drawn compact to fit cols (one space between). */
static bool buttons_compact(const char *const *labels, unsigned n, int cols)
{
	return dlg_buttons_width(labels, n) - (n > 1 ? (int)(n - 1) : 0) > cols;
}

void dlg_buttons_draw(WINDOW *w, int y, int x, int cols, const char *const *labels, unsigned n,
		      int focus, int def, int *xs)
{
	bool compact = buttons_compact(labels, n, cols);
	int total = 0, gap = 2, at;

	for (unsigned i = 0; i < n; i++)
		total += button_cols(labels[i], compact);
	if (total + 2 * (int)(n ? n - 1 : 0) > cols)
		gap = 1;
	total += gap * (int)(n ? n - 1 : 0);
	at = x + (total < cols ? (cols - total) / 2 : 0);
	for (unsigned i = 0; i < n; i++) {
		int a = theme_attr(TH_BUTTON), lw = utf8_width(labels[i], strlen(labels[i]));
		int room = x + cols - at, pad = compact ? 1 : 2;

		if (xs)
			xs[i] = room > 0 ? at : -1;
		if (room <= 0)
			continue;
		if ((int)i == focus)
			a = theme_attr(TH_FIELD_FOCUS);
		else if (focus < 0 && (int)i == def)
			a = theme_attr(TH_SELECTED_DIM);
		if ((int)i == def)
			a |= A_BOLD;
		room -= dlg_put(w, y, at, compact ? "[" : "[ ", room < pad ? room : pad, a);
		if (room > 0)
			room -= dlg_put(w, y, at + pad, labels[i], room, a);
		if (room > 0)
			dlg_put(w, y, at + pad + lw, compact ? "]" : " ]", room, a);
		at += lw + 2 * pad + gap;
	}
}

int dlg_buttons_hit(const char *const *labels, unsigned n, const int *xs, int x)
{
	for (unsigned i = 0; i < n; i++) {
		int end = xs[i] + utf8_width(labels[i], strlen(labels[i])) + 4;

		/* Compact buttons are narrower: up to the next one. */
		if (i + 1 < n && xs[i + 1] >= 0 && xs[i + 1] < end)
			end = xs[i + 1];
		if (xs[i] >= 0 && x >= xs[i] && x < end)
			return (int)i;
	}
	return -1;
}

bool dlg_key_char(int key, wchar_t *wc)
{
	int c;

	if (!con_is_char(key))
		return false;
	c = con_char(key);
	if (c < 32 || c == 127 || !iswprint((wint_t)c))
		return false;
	*wc = (wchar_t)c;
	return true;
}

bool dlg_click(struct console *con, const struct dlgbox *b, int *y, int *x)
{
	const MEVENT *m = &con->last_mouse;
	int my = m->y, mx = m->x;

	if (!(m->bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_DOUBLE_CLICKED)))
		return false;
	if (!wenclose(b->win, my, mx))
		return false;
	*y = my - getbegy(b->win);
	*x = mx - getbegx(b->win);
	return true;
}

int dlg_wheel(struct console *con, const struct dlgbox *b)
{
	const MEVENT *m = &con->last_mouse;

	if (!wenclose(b->win, m->y, m->x))
		return 0;
	if (m->bstate & BUTTON4_PRESSED)
		return -1;
#ifdef BUTTON5_PRESSED
	if (m->bstate & BUTTON5_PRESSED)
		return 1;
#endif
	return 0;
}

bool dlg_key_enter(int key)
{
	return key == '\n' || key == '\r' || key == KEY_ENTER;
}

bool dlg_key_backspace(int key)
{
	return key == KEY_BACKSPACE || key == 127 || key == 8;
}

int dlg_edit_key(struct lineedit *ed, int key)
{
	wchar_t wc;

	if (key == KEY_LEFT)
		lineedit_left(ed);
	else if (key == KEY_RIGHT)
		lineedit_right(ed);
	else if (key == KEY_HOME || key == DLG_KEY_CTRL('a'))
		lineedit_home(ed);
	else if (key == KEY_END || key == DLG_KEY_CTRL('e'))
		lineedit_end(ed);
	else if (dlg_key_backspace(key))
		return lineedit_backspace(ed);
	else if (key == KEY_DC)
		return lineedit_delete(ed);
	else if (key == DLG_KEY_CTRL('u'))
		return lineedit_clear(ed);
	else if (dlg_key_char(key, &wc))
		return lineedit_insert(ed, wc);
	else
		return -1;
	return 0;
}

int dlg_typeahead(const char *const *items, unsigned n, int cur, wchar_t wc)
{
	wint_t want = towlower((wint_t)wc);

	for (unsigned k = 1; k <= n; k++) {
		unsigned i = (unsigned)((cur < 0 ? -1 : cur) + (int)k) % n;
		wchar_t first;
		size_t len = strlen(items[i]);

		if (!len)
			continue;
		utf8_next(items[i], len, &first);
		if (towlower((wint_t)first) == want)
			return (int)i;
	}
	return -1;
}

void dlg_list_scroll(int *top, int sel, int rows, int n)
{
	if (rows < 1)
		rows = 1;
	if (sel < *top)
		*top = sel;
	if (sel >= *top + rows)
		*top = sel - rows + 1;
	if (*top > n - rows)
		*top = n - rows;
	if (*top < 0)
		*top = 0;
}
