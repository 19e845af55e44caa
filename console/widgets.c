/* The console's simple dialogs: message boxes, yes/no questions, a list to
 * choose from, one-line input (a form of one field); and wrap_text. */
#include "console/widgets.h"
#include "console/dlgbox.h"
#include "console/lineedit.h"
#include "console/theme.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#define LINE_BYTES 255

unsigned wrap_text(const char *text, int width, char lines[][256], unsigned max)
{
	const char *p = text;
	unsigned n = 0;
	bool cont = false; /* the line continues a wrapped one */

	if (width < 1)
		width = 1;
	while (*p && n < max) {
		char *out = lines[n];
		size_t o = 0, space_o = 0;
		const char *space_src = NULL, *s;
		int cols = 0;

		if (cont)
			while (*p == ' ' || *p == '\t')
				p++;
		if (!*p)
			break;
		s = p;
		cont = false;
		for (;;) {
			wchar_t wc;
			size_t l, ob;
			char rep = 0;
			int cw;

			if (!*s || *s == '\n') {
				p = *s ? s + 1 : s;
				break;
			}
			l = utf8_next(s, strlen(s), &wc);
			if (wc == L'\r') {
				s += l;
				continue;
			}
			if (wc == L'\t')
				rep = ' ';
			else if ((wc == L'?' && *s != '?') || wc < 32 || wc == 127 ||
				 !iswprint((wint_t)wc))
				rep = '?';
			cw = rep ? 1 : wcwidth(wc);
			if (cw < 0)
				cw = 1;
			ob = rep ? 1 : l;
			if ((cols + cw > width || o + ob > LINE_BYTES) && o) {
				if (space_src && space_o) {
					o = space_o;
					p = space_src;
				} else {
					p = s;
				}
				cont = true;
				break;
			}
			if ((wc == L' ' || rep == ' ') && o && out[o - 1] != ' ') {
				space_o = o;
				space_src = s + l;
			}
			if (rep)
				out[o] = rep;
			else
				memcpy(out + o, s, l);
			o += ob;
			cols += cw;
			s += l;
		}
		while (o && out[o - 1] == ' ')
			o--;
		out[o] = 0;
		n++;
	}
	return n;
}

/* Text (scrolling when longer than the terminal allows) and buttons:
 * returns the button pressed, or cancel on Esc. */
static int text_dialog(struct console *con, const char *title, const char *text,
		       const char *const *buttons, unsigned nb, int def, int cancel)
{
	enum { MAXL = 2000 };
	char(*lines)[256] = malloc(sizeof(*lines) * MAXL);
	struct dlgbox b = {0};
	int focus = def, top = 0, xs[8], ret = cancel, old_cursor;

	if (!lines || dlgbox_open(&b, con, 5, 20)) {
		free(lines);
		return cancel;
	}
	old_cursor = curs_set(0);
	for (;;) {
		int inner = (COLS < 76 ? COLS : 76) - 6, w = 0, h, rows, key, y, x;
		unsigned n = wrap_text(text, inner, lines, MAXL);

		for (unsigned i = 0; i < n; i++) {
			int lw = utf8_width(lines[i], strlen(lines[i]));

			if (lw > w)
				w = lw;
		}
		if (w < dlg_buttons_width(buttons, nb))
			w = dlg_buttons_width(buttons, nb);
		if (title && w < utf8_width(title, strlen(title)) + 4)
			w = utf8_width(title, strlen(title)) + 4;
		h = (int)n + 4;
		dlgbox_place(&b, h, w + 6);
		rows = b.h - 4;
		if (rows < 1)
			rows = 1;
		dlg_list_scroll(&top, top, rows, (int)n);
		dlgbox_frame(&b, title);
		for (int r = 0; r < rows && top + r < (int)n; r++)
			dlg_put(b.win, 1 + r, 3, lines[top + r], b.w - 6, theme_attr(TH_DIALOG));
		if (top > 0)
			dlgbox_more(&b, 1, false);
		if (top + rows < (int)n)
			dlgbox_more(&b, rows, true);
		dlg_buttons_draw(b.win, b.h - 2, 2, b.w - 4, buttons, nb, focus, def, xs);
		key = con_getkey(con);
		if (dlg_key_enter(key) || (key == ' ' && nb == 1)) {
			ret = focus;
			break;
		}
		switch (key) {
		case DLG_KEY_ESC:
			goto out;
		case '\t':
		case KEY_RIGHT:
			focus = (focus + 1) % (int)nb;
			break;
		case KEY_BTAB:
		case KEY_LEFT:
			focus = (focus + (int)nb - 1) % (int)nb;
			break;
		case KEY_UP:
			top--;
			break;
		case KEY_DOWN:
			top++;
			break;
		case KEY_PPAGE:
			top -= rows;
			break;
		case KEY_NPAGE:
			top += rows;
			break;
		case KEY_HOME:
			top = 0;
			break;
		case KEY_END:
			top = (int)n;
			break;
		case KEY_MOUSE:
			top += 3 * dlg_wheel(con, &b);
			if (dlg_click(con, &b, &y, &x) && y == b.h - 2) {
				int hit = dlg_buttons_hit(buttons, nb, xs, x);

				if (hit >= 0) {
					ret = hit;
					goto out;
				}
			}
			break;
		default:
			break;
		}
		if (top > (int)n - rows)
			top = (int)n - rows;
		if (top < 0)
			top = 0;
	}
out:
	curs_set(old_cursor < 0 ? 0 : old_cursor);
	dlgbox_close(&b);
	free(lines);
	return ret;
}

void dlg_message(struct console *con, const char *title, const char *fmt, ...)
{
	static const char *const ok[] = {"OK"};
	char *text = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	text_dialog(con, title, text ? text : fmt, ok, 1, 0, 0);
	free(text);
}

bool dlg_confirm(struct console *con, const char *title, const char *yes_label, const char *fmt,
		 ...)
{
	const char *buttons[] = {yes_label ? yes_label : "Yes", "Cancel"};
	char *text = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	r = text_dialog(con, title, text ? text : fmt, buttons, 2, 1, 1);
	free(text);
	return r == 0;
}

int dlg_choose(struct console *con, const char *title, const char *text, const char *const *items,
	       unsigned n, int initial)
{
	static const char *const buttons[] = {"OK", "Cancel"};
	enum { MAXT = 8 };
	char tl[MAXT][256];
	struct dlgbox b = {0};
	int sel = initial >= 0 && (unsigned)initial < n ? initial : 0, top = 0, ret = -1;
	int focus = -1; /* -1: the list; 0, 1: the buttons */
	int xs[2], old_cursor;

	if (dlgbox_open(&b, con, 5, 20))
		return -1;
	old_cursor = curs_set(0);
	for (;;) {
		int inner = (COLS < 76 ? COLS : 76) - 6, w = dlg_buttons_width(buttons, 2), h, rows;
		unsigned nt = text && *text ? wrap_text(text, inner, tl, MAXT) : 0;
		int list_y = 1 + (int)nt + (nt ? 1 : 0), key, y, x, pick = -2;

		for (unsigned i = 0; i < nt; i++)
			if (utf8_width(tl[i], strlen(tl[i])) > w)
				w = utf8_width(tl[i], strlen(tl[i]));
		for (unsigned i = 0; i < n; i++)
			if (utf8_width(items[i], strlen(items[i])) + 2 > w)
				w = utf8_width(items[i], strlen(items[i])) + 2;
		if (title && utf8_width(title, strlen(title)) + 4 > w)
			w = utf8_width(title, strlen(title)) + 4;
		if (w > inner)
			w = inner;
		h = list_y + (n ? (int)n : 1) + 3;
		dlgbox_place(&b, h, w + 6);
		/* A short terminal: the list keeps a row, the text gives way. */
		while (nt && b.h - list_y - 3 < 1) {
			nt--;
			list_y = 1 + (int)nt + (nt ? 1 : 0);
		}
		rows = b.h - list_y - 3;
		if (rows < 1)
			rows = 1;
		dlg_list_scroll(&top, sel, rows, (int)n);
		dlgbox_frame(&b, title);
		for (unsigned i = 0; i < nt; i++)
			dlg_put(b.win, 1 + (int)i, 3, tl[i], b.w - 6, theme_attr(TH_DIALOG));
		if (!n)
			dlg_put(b.win, list_y, 3, "(nothing to choose from)", b.w - 6,
				theme_attr(TH_DISABLED));
		for (int r = 0; r < rows && top + r < (int)n; r++) {
			int i = top + r, a = theme_attr(TH_DIALOG);

			if (i == sel)
				a = theme_attr(focus < 0 ? TH_SELECTED : TH_SELECTED_DIM);
			dlg_fill(b.win, list_y + r, 2, b.w - 4, a);
			dlg_put(b.win, list_y + r, 3, items[i], b.w - 6, a);
		}
		if (top > 0)
			dlgbox_more(&b, list_y, false);
		if (top + rows < (int)n)
			dlgbox_more(&b, list_y + rows - 1, true);
		dlg_buttons_draw(b.win, b.h - 2, 2, b.w - 4, buttons, 2, focus, 0, xs);
		key = con_getkey(con);
		if (dlg_key_enter(key)) {
			pick = focus == 1 || !n ? -1 : sel;
		} else {
			wchar_t wc;

			switch (key) {
			case DLG_KEY_ESC:
				pick = -1;
				break;
			case '\t':
				focus = focus == 1 ? -1 : focus + 1;
				break;
			case KEY_BTAB:
				focus = focus == -1 ? 1 : focus - 1;
				break;
			case KEY_UP:
				sel--;
				break;
			case KEY_DOWN:
				sel++;
				break;
			case KEY_PPAGE:
				sel -= rows;
				break;
			case KEY_NPAGE:
				sel += rows;
				break;
			case KEY_HOME:
				sel = 0;
				break;
			case KEY_END:
				sel = (int)n - 1;
				break;
			case KEY_MOUSE:
				top += 3 * dlg_wheel(con, &b);
				sel += 3 * dlg_wheel(con, &b);
				if (!dlg_click(con, &b, &y, &x))
					break;
				if (y == b.h - 2) {
					int hit = dlg_buttons_hit(buttons, 2, xs, x);

					if (hit >= 0)
						pick = hit == 0 && n ? sel : -1;
				} else if (y >= list_y && y < list_y + rows &&
					   top + y - list_y < (int)n) {
					sel = top + y - list_y;
					pick = sel;
				}
				break;
			default:
				if (dlg_key_char(key, &wc) && n) {
					int i = dlg_typeahead(items, n, sel, wc);

					if (i >= 0)
						sel = i;
					focus = -1;
				}
				break;
			}
		}
		if (pick != -2) {
			ret = pick;
			break;
		}
		if (sel >= (int)n)
			sel = (int)n - 1;
		if (sel < 0)
			sel = 0;
	}
	curs_set(old_cursor < 0 ? 0 : old_cursor);
	dlgbox_close(&b);
	return ret;
}

struct input_check {
	dlg_check_fn check;
	void *opaque;
};

static int input_validate(struct form *f, int button, char *why, size_t whylen, int *bad,
			  void *opaque)
{
	struct input_check *ic = opaque;

	(void)button;
	*bad = 0;
	return ic->check ? ic->check(f->fields[0].buf, why, whylen, ic->opaque) : 0;
}

bool dlg_input(struct console *con, const char *title, const char *prompt, char *buf, size_t size,
	       dlg_check_fn check, void *opaque)
{
	static const char *const buttons[] = {"OK", "Cancel"};
	struct input_check ic = {check, opaque};
	struct field fld = {.type = FIELD_TEXT, .label = ""};
	struct form f = {
	    .title = title,
	    .text = prompt,
	    .fields = &fld,
	    .nfields = 1,
	    .buttons = buttons,
	    .nbuttons = 2,
	    .default_button = 0,
	    .cancel_button = 1,
	    .validate = input_validate,
	    .opaque = &ic,
	    .width = 60,
	};
	char *copy;
	int r;

	if (!size)
		return false;
	copy = malloc(size);
	if (!copy)
		return false;
	memcpy(copy, buf, size);
	copy[size - 1] = 0;
	fld.buf = copy;
	fld.size = size;
	r = dlg_form(con, &f);
	if (r == 0)
		memcpy(buf, copy, size);
	free(copy);
	return r == 0;
}
