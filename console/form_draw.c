/* dlg_form's layout and drawing: the body's rows (text, labels, fields,
 * radio items) scrolled to the focus, the error or help line, the buttons. */
#include "console/form_int.h"
#include "console/theme.h"

#include <stdio.h>
#include <string.h>

bool form_shown(const struct field *fl)
{
	return !fl->hidden;
}

bool form_focusable(const struct field *fl)
{
	return !fl->hidden && !fl->disabled && fl->type != FIELD_LABEL &&
	       !(fl->type == FIELD_RADIO && !fl->nitems);
}

bool form_is_edit(const struct field *fl)
{
	return (fl->type == FIELD_TEXT || fl->type == FIELD_FILE) && fl->buf && fl->size;
}

static void add_row(struct fstate *s, int field, int part, const char *text)
{
	if (s->nrows < s->rows_cap)
		s->rows[s->nrows++] = (struct row){field, part, text};
}

/* Wraps text into the line store; returns the first line and count. */
static unsigned wrap_store(struct fstate *s, const char *text, int width, unsigned max,
			   unsigned *first)
{
	unsigned room = s->lines_cap - s->nlines, n;

	*first = s->nlines;
	n = wrap_text(text, width, s->lines + s->nlines, max < room ? max : room);
	s->nlines += n;
	return n;
}

void form_layout(struct fstate *s)
{
	struct form *f = s->f;
	int w = f->width > 0 ? f->width : FORM_DEFAULT_WIDTH, maxl = 0, h;
	unsigned first, n;

	if (w > COLS)
		w = COLS;
	if (w < 20)
		w = 20;
	s->iw = w - 4;
	s->nrows = s->nlines = 0;
	if (f->text && *f->text) {
		n = wrap_store(s, f->text, s->iw, PARA_LINES, &first);
		for (unsigned i = 0; i < n; i++)
			add_row(s, -1, 0, s->lines[first + i]);
		add_row(s, -1, 0, "");
	}
	for (unsigned i = 0; i < f->nfields; i++) {
		const struct field *fl = &f->fields[i];

		/* Hidden ones too: the column stays put when they come and go. */
		if (fl->label && (fl->type == FIELD_TEXT || fl->type == FIELD_FILE ||
				  fl->type == FIELD_CHOICE)) {
			int lw = utf8_width(fl->label, strlen(fl->label));

			if (lw > maxl)
				maxl = lw;
		}
	}
	s->lw = maxl ? maxl + 1 : 0;
	if (s->lw > s->iw / 2)
		s->lw = s->iw / 2;
	for (unsigned i = 0; i < f->nfields; i++) {
		const struct field *fl = &f->fields[i];

		if (!form_shown(fl))
			continue;
		switch (fl->type) {
		case FIELD_LABEL:
			n = wrap_store(s, fl->label ? fl->label : "", s->iw, LABEL_LINES, &first);
			if (!n)
				add_row(s, (int)i, 0, "");
			for (unsigned k = 0; k < n; k++)
				add_row(s, (int)i, 0, s->lines[first + k]);
			break;
		case FIELD_RADIO:
			if (fl->label && *fl->label)
				add_row(s, (int)i, -1, fl->label);
			for (unsigned k = 0; k < fl->nitems; k++)
				add_row(s, (int)i, (int)k, fl->items[k]);
			break;
		default:
			add_row(s, (int)i, 0, fl->label);
			break;
		}
	}
	h = (int)s->nrows + 6;
	dlgbox_place(&s->b, h, w);
	s->body_rows = s->b.h - 6;
	if (s->body_rows < 1)
		s->body_rows = 1;
	s->btn_y = s->b.h - 2;

	/* Where the focus can go. */
	s->nstops = 0;
	for (unsigned i = 0; i < f->nfields; i++) {
		const struct field *fl = &f->fields[i];

		if (!form_focusable(fl))
			continue;
		if (fl->type == FIELD_RADIO) {
			for (unsigned k = 0; k < fl->nitems; k++)
				s->stops[s->nstops++] = (struct stop){(int)i, (int)k};
		} else {
			s->stops[s->nstops++] = (struct stop){(int)i, PART_MAIN};
			if (fl->type == FIELD_FILE)
				s->stops[s->nstops++] = (struct stop){(int)i, PART_BROWSE};
		}
	}
	for (unsigned k = 0; k < s->nbuttons; k++)
		s->stops[s->nstops++] = (struct stop){-1, (int)k};
}

int form_stop_index(const struct fstate *s)
{
	for (unsigned i = 0; i < s->nstops; i++)
		if (s->stops[i].field == s->ff && s->stops[i].part == s->fp)
			return (int)i;
	return -1;
}

int form_field_value_cols(const struct fstate *s, const struct field *fl)
{
	int fw = s->iw - s->lw;

	if (fl->type == FIELD_FILE)
		fw -= BROWSE_COLS;
	return fw < 1 ? 1 : fw;
}

/* Columns of the widest item of a choice, as it is drawn "< item >". */
int form_choice_cols(const struct fstate *s, const struct field *fl)
{
	int fw = form_field_value_cols(s, fl), iwid = 0;

	for (unsigned k = 0; k < fl->nitems; k++) {
		int l = utf8_width(fl->items[k], strlen(fl->items[k]));

		if (l > iwid)
			iwid = l;
	}
	if (iwid + 4 > fw)
		iwid = fw - 4;
	return iwid < 1 ? 1 : iwid;
}

/* Keeps the focused field's rows in view (the text above the fields too,
 * at the first stop). */
void form_scroll_to_focus(struct fstate *s)
{
	int first = -1, last = -1;

	if (s->ff < 0)
		return;
	if (form_stop_index(s) == 0) {
		s->top = 0;
	}
	for (unsigned r = 0; r < s->nrows; r++) {
		if (s->rows[r].field != s->ff)
			continue;
		if (s->f->fields[s->ff].type == FIELD_RADIO && s->rows[r].part != s->fp)
			continue;
		if (first < 0)
			first = (int)r;
		last = (int)r;
	}
	if (first < 0)
		return;
	if (last >= s->top + s->body_rows)
		s->top = last - s->body_rows + 1;
	if (first < s->top)
		s->top = first;
}

void form_clamp_top(struct fstate *s)
{
	if (s->top > (int)s->nrows - s->body_rows)
		s->top = (int)s->nrows - s->body_rows;
	if (s->top < 0)
		s->top = 0;
}

static int field_attr(const struct fstate *s, const struct field *fl, int i, int part)
{
	if (fl->disabled)
		return theme_attr(TH_DISABLED);
	if (s->ff == i && s->fp == part)
		return theme_attr(TH_FIELD_FOCUS);
	return theme_attr(TH_FIELD);
}

/* Draws one body row at window row y; sets *cy, *cx where the cursor goes
 * when it is the focused text. */
static void draw_row(struct fstate *s, const struct row *r, int y, int *cy, int *cx)
{
	WINDOW *w = s->b.win;
	int x = 2, vx = 2 + s->lw, text = theme_attr(TH_DIALOG);
	const struct field *fl;
	char val[300];

	if (r->field < 0) {
		dlg_put(w, y, x, r->text, s->iw, text);
		return;
	}
	fl = &s->f->fields[r->field];
	if (fl->disabled)
		text = theme_attr(TH_DISABLED);
	switch (fl->type) {
	case FIELD_LABEL:
		dlg_put(w, y, x, r->text, s->iw, text);
		break;
	case FIELD_TEXT:
	case FIELD_FILE: {
		int fw = form_field_value_cols(s, fl), col = 0, a = field_attr(s, fl, r->field, 0);
		struct lineedit *ed = &s->ed[r->field];

		if (fl->label)
			dlg_put(w, y, x, fl->label, s->lw - 1, text);
		dlg_fill(w, y, vx, fw, a);
		if (form_is_edit(fl)) {
			if (s->ff != r->field)
				lineedit_reset(ed);
			col = lineedit_view(ed, fw);
			dlg_put(w, y, vx, fl->buf + ed->scroll, fw, a);
			if (s->ff == r->field && s->fp == PART_MAIN) {
				*cy = y;
				*cx = vx + col;
			}
		}
		if (fl->type == FIELD_FILE) {
			static const char *const br[] = {"Browse"};
			int foc = s->ff == r->field && s->fp == PART_BROWSE ? 0 : -1;

			dlg_buttons_draw(w, y, vx + fw + 1, BROWSE_COLS - 1, br, 1, foc, -1, NULL);
		}
		break;
	}
	case FIELD_CHOICE: {
		int iwid = form_choice_cols(s, fl), a = field_attr(s, fl, r->field, 0);
		int c = fl->choice ? *fl->choice : 0;

		if (fl->label)
			dlg_put(w, y, x, fl->label, s->lw - 1, text);
		dlg_fill(w, y, vx, iwid + 4, a);
		dlg_put(w, y, vx, "<", 1, a);
		if (c >= 0 && (unsigned)c < fl->nitems)
			dlg_put(w, y, vx + 2, fl->items[c], iwid, a);
		dlg_put(w, y, vx + iwid + 3, ">", 1, a);
		break;
	}
	case FIELD_CHECK: {
		int a = field_attr(s, fl, r->field, 0);

		dlg_put(w, y, x, fl->check && *fl->check ? "[x]" : "[ ]", 3, a);
		if (fl->label)
			dlg_put(w, y, x + 4, fl->label, s->iw - 4, text);
		break;
	}
	case FIELD_RADIO:
		if (r->part < 0) {
			dlg_put(w, y, x, r->text, s->iw, text);
		} else {
			int a = field_attr(s, fl, r->field, r->part);
			bool on = fl->choice && *fl->choice == r->part;

			snprintf(val, sizeof(val), "(%s)", on ? "*" : " ");
			dlg_put(w, y, x + 2, val, 3, a);
			dlg_put(w, y, x + 6, r->text, s->iw - 6, text);
		}
		break;
	}
}

void form_draw(struct fstate *s)
{
	struct form *f = s->f;
	WINDOW *w = s->b.win;
	int cy = -1, cx = -1, bf = s->ff < 0 ? s->fp : -1;
	char el[2][256];

	dlgbox_frame(&s->b, f->title);
	for (int r = 0; r < s->body_rows && s->top + r < (int)s->nrows; r++)
		draw_row(s, &s->rows[s->top + r], 1 + r, &cy, &cx);
	if (s->top > 0)
		dlgbox_more(&s->b, 1, false);
	if (s->top + s->body_rows < (int)s->nrows)
		dlgbox_more(&s->b, s->body_rows, true);
	if (s->err[0]) {
		unsigned n = wrap_text(s->err, s->iw, el, 2);

		for (unsigned i = 0; i < n; i++)
			dlg_put(w, s->b.h - 4 + (int)i, 2, el[i], s->iw, theme_attr(TH_ERROR));
	} else if (s->ff >= 0 && f->fields[s->ff].help) {
		dlg_put(w, s->b.h - 4, 2, f->fields[s->ff].help, s->iw, theme_attr(TH_DIALOG));
	}
	dlg_buttons_draw(w, s->btn_y, 2, s->iw, f->buttons, s->nbuttons, bf, f->default_button,
			 s->xs);
	if (cy >= 0) {
		curs_set(1);
		wmove(w, cy, cx);
	} else {
		curs_set(0);
	}
}
