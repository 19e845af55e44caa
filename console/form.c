/* dlg_form: a dialog of fields (text, file with a browser, choice, check
 * box, radio buttons, labels) and buttons, for wizard pages and settings
 * editors; fields scroll when the terminal is too short for them. */
#include "console/form_int.h"
#include "console/theme.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs a text or file field's check; false (with the error set) when it
 * refused the value. */
static bool check_field(struct fstate *s, int i)
{
	const struct field *fl = &s->f->fields[i];
	char why[256] = "";

	if (i < 0 || !form_is_edit(fl) || !fl->check_fn || !form_shown(fl) || fl->disabled)
		return true;
	if (!fl->check_fn(fl->buf, why, sizeof(why), fl->check_opaque)) {
		if (s->err_field == i)
			s->err[0] = 0;
		return true;
	}
	snprintf(s->err, sizeof(s->err), "%s", why[0] ? why : "This value is not valid.");
	s->err_field = i;
	return false;
}

static void set_focus(struct fstate *s, int field, int part)
{
	if (field != s->ff) {
		if (s->ff >= 0)
			check_field(s, s->ff);
		if (field >= 0 && form_is_edit(&s->f->fields[field]))
			lineedit_reset(&s->ed[field]);
	}
	s->ff = field;
	s->fp = part;
}

/* Puts the focus on a valid stop: the one it is on, or the next one. */
static void fix_focus(struct fstate *s)
{
	if (form_stop_index(s) >= 0)
		return;
	for (unsigned i = 0; i < s->nstops; i++) {
		if (s->stops[i].field < 0 || s->stops[i].field > s->ff) {
			s->ff = s->stops[i].field;
			s->fp = s->stops[i].part;
			return;
		}
	}
}

static void move_focus(struct fstate *s, int dir)
{
	int i = form_stop_index(s), n = (int)s->nstops;

	if (i < 0 || !n)
		return;
	i = (i + dir + n) % n;
	set_focus(s, s->stops[i].field, s->stops[i].part);
}

static void changed(struct fstate *s, int field)
{
	/* A field's error goes when it is edited; the form's on any edit. */
	if (s->err_field < 0 || s->err_field == field)
		s->err[0] = 0;
	if (s->f->changed)
		s->f->changed(s->f, field, s->f->opaque);
}

static void strip_label(const char *label, char *out, size_t len)
{
	size_t n;

	snprintf(out, len, "%s", label ? label : "");
	n = strlen(out);
	while (n && (out[n - 1] == ':' || out[n - 1] == ' '))
		out[--n] = 0;
}

static void choose(struct fstate *s, int i)
{
	struct field *fl = &s->f->fields[i];
	char title[128];
	int r;

	if (!fl->choice || !fl->nitems)
		return;
	strip_label(fl->label, title, sizeof(title));
	curs_set(0);
	r = dlg_choose(s->con, title, NULL, fl->items, fl->nitems, *fl->choice);
	if (r >= 0 && r != *fl->choice) {
		*fl->choice = r;
		changed(s, i);
	}
}

static void step_choice(struct fstate *s, int i, int dir)
{
	struct field *fl = &s->f->fields[i];
	int c;

	if (!fl->choice || !fl->nitems)
		return;
	c = *fl->choice + dir;
	if (c < 0 || (unsigned)c >= fl->nitems)
		return;
	*fl->choice = c;
	if (fl->type == FIELD_RADIO)
		s->fp = c;
	changed(s, i);
}

static void browse(struct fstate *s, int i)
{
	struct field *fl = &s->f->fields[i];
	char title[128], path[4096];

	if (!form_is_edit(fl))
		return;
	strip_label(fl->label, title, sizeof(title));
	curs_set(0);
	if (!dlg_file(s->con, title[0] ? title : "Browse", fl->buf[0] ? fl->buf : NULL,
		      fl->patterns, fl->dirs_only, fl->allow_new, path, sizeof(path)))
		return;
	if (strlen(path) >= fl->size) {
		snprintf(s->err, sizeof(s->err), "The path is too long for this field.");
		s->err_field = -1;
		return;
	}
	strcpy(fl->buf, path);
	lineedit_reset(&s->ed[i]);
	changed(s, i);
}

/* A button other than Cancel: every check and validate must pass. true to
 * close the form. */
static bool press(struct fstate *s, int button)
{
	struct form *f = s->f;
	char why[256] = "";
	int bad = -1;

	if (button == f->cancel_button)
		return true;
	for (unsigned i = 0; i < f->nfields; i++) {
		if (!check_field(s, (int)i)) {
			set_focus(s, (int)i, PART_MAIN);
			return false;
		}
	}
	if (!f->validate || !f->validate(f, button, why, sizeof(why), &bad, f->opaque))
		return true;
	snprintf(s->err, sizeof(s->err), "%s", why[0] ? why : "Please check the values.");
	s->err_field = -1;
	if (bad >= 0 && (unsigned)bad < f->nfields && form_focusable(&f->fields[bad])) {
		struct field *fl = &f->fields[bad];

		set_focus(s, bad, fl->type == FIELD_RADIO && fl->choice ? *fl->choice : PART_MAIN);
	}
	return false;
}

/* Puts the cursor of field i where column x of the window is. */
static void click_text(struct fstate *s, int i, int x)
{
	struct lineedit *ed = &s->ed[i];
	const char *b = s->f->fields[i].buf;
	size_t len = strlen(b), p = ed->scroll;
	int col = 0, want = x - (2 + s->lw);

	while (p < len) {
		wchar_t wc;
		size_t l = utf8_next(b + p, len - p, &wc);
		int cw = utf8_width(b + p, l);

		if (col + cw > want)
			break;
		col += cw;
		p += l;
	}
	ed->cur = p;
}

/* A click at y, x of the window: -2 nothing to do, or a button to press. */
static int click(struct fstate *s, int y, int x)
{
	const struct row *r;
	struct field *fl;
	int vx = 2 + s->lw;

	if (y == s->btn_y) {
		int hit = dlg_buttons_hit(s->f->buttons, s->nbuttons, s->xs, x);

		if (hit >= 0)
			set_focus(s, -1, hit);
		return hit >= 0 ? hit : -2;
	}
	if (y < 1 || y > s->body_rows || s->top + y - 1 >= (int)s->nrows)
		return -2;
	r = &s->rows[s->top + y - 1];
	if (r->field < 0 || !form_focusable(&s->f->fields[r->field]))
		return -2;
	fl = &s->f->fields[r->field];
	switch (fl->type) {
	case FIELD_TEXT:
	case FIELD_FILE:
		if (fl->type == FIELD_FILE && x > vx + form_field_value_cols(s, fl)) {
			set_focus(s, r->field, PART_BROWSE);
			browse(s, r->field);
		} else if (x >= vx) {
			set_focus(s, r->field, PART_MAIN);
			click_text(s, r->field, x);
		}
		break;
	case FIELD_CHOICE:
		set_focus(s, r->field, PART_MAIN);
		if (x == vx)
			step_choice(s, r->field, -1);
		else if (x == vx + form_choice_cols(s, fl) + 3)
			step_choice(s, r->field, 1);
		else if (x > vx && x < vx + form_choice_cols(s, fl) + 3)
			choose(s, r->field);
		break;
	case FIELD_CHECK:
		set_focus(s, r->field, PART_MAIN);
		if (fl->check) {
			*fl->check = !*fl->check;
			changed(s, r->field);
		}
		break;
	case FIELD_RADIO:
		if (r->part >= 0) {
			set_focus(s, r->field, r->part);
			if (fl->choice && *fl->choice != r->part) {
				*fl->choice = r->part;
				changed(s, r->field);
			}
		}
		break;
	default:
		break;
	}
	return -2;
}

/* One key on the focused field; true when it was used. */
static bool field_key(struct fstate *s, int key)
{
	struct field *fl;
	struct lineedit *ed;
	int ch;

	if (s->ff < 0)
		return false;
	fl = &s->f->fields[s->ff];
	ed = &s->ed[s->ff];
	switch (fl->type) {
	case FIELD_TEXT:
	case FIELD_FILE:
		if (s->fp != PART_MAIN) {
			if (key != ' ' && !dlg_key_enter(key))
				return false;
			browse(s, s->ff);
			return true;
		}
		if (!form_is_edit(fl))
			return false;
		ch = dlg_edit_key(ed, key);
		if (ch < 0)
			return false;
		if (ch)
			changed(s, s->ff);
		return true;
	case FIELD_CHOICE:
		if (key == KEY_LEFT || key == KEY_RIGHT) {
			step_choice(s, s->ff, key == KEY_LEFT ? -1 : 1);
			return true;
		}
		if (key == ' ' || dlg_key_enter(key)) {
			choose(s, s->ff);
			return true;
		}
		return false;
	case FIELD_CHECK:
		if (key != ' ' || !fl->check)
			return false;
		*fl->check = !*fl->check;
		changed(s, s->ff);
		return true;
	case FIELD_RADIO:
		if (key == KEY_LEFT || key == KEY_RIGHT) {
			step_choice(s, s->ff, key == KEY_LEFT ? -1 : 1);
			return true;
		}
		if (key != ' ' || !fl->choice)
			return false;
		if (*fl->choice != s->fp) {
			*fl->choice = s->fp;
			changed(s, s->ff);
		}
		return true;
	default:
		return false;
	}
}

static void first_focus(struct fstate *s)
{
	s->ff = -1;
	s->fp = s->f->default_button;
	for (unsigned i = 0; i < s->nstops; i++) {
		const struct stop *st = &s->stops[i];
		const struct field *fl;

		if (st->field < 0)
			break;
		fl = &s->f->fields[st->field];
		if (fl->type == FIELD_RADIO && fl->choice && *fl->choice != st->part)
			continue;
		s->ff = st->field;
		s->fp = st->part;
		break;
	}
	if (s->ff < 0 && s->nstops && form_stop_index(s) < 0)
		s->fp = s->stops[0].part;
}

static int run(struct fstate *s)
{
	struct form *f = s->f;

	bool follow = true; /* keep the focus in view (not after scrolling) */

	form_layout(s);
	first_focus(s);
	for (;;) {
		int key, y, x, hit;

		form_layout(s);
		fix_focus(s);
		if (follow)
			form_scroll_to_focus(s);
		form_clamp_top(s);
		follow = true;
		form_draw(s);
		key = con_getkey(s->con);
		if (key == DLG_KEY_ESC) {
			if (f->cancel_button < 0)
				return -1;
			return f->cancel_button;
		}
		if (key == KEY_RESIZE)
			continue;
		if (key == KEY_MOUSE) {
			int wheel = dlg_wheel(s->con, &s->b);

			if (wheel) {
				/* Scroll without moving the focus. */
				s->top += 3 * wheel;
				follow = false;
				continue;
			}
			if (!dlg_click(s->con, &s->b, &y, &x))
				continue;
			hit = click(s, y, x);
			if (hit >= 0 && press(s, hit))
				return hit;
			continue;
		}
		if (s->ff < 0) {
			/* On a button. */
			if (dlg_key_enter(key) || key == ' ') {
				if (press(s, s->fp))
					return s->fp;
				continue;
			}
			if (key == KEY_LEFT || key == KEY_RIGHT) {
				int n = (int)s->nbuttons;

				s->fp = (s->fp + (key == KEY_LEFT ? n - 1 : 1)) % n;
				continue;
			}
		} else if (field_key(s, key)) {
			continue;
		}
		switch (key) {
		case '\t':
		case KEY_DOWN:
			move_focus(s, 1);
			break;
		case KEY_BTAB:
		case KEY_UP:
			move_focus(s, -1);
			break;
		case KEY_PPAGE:
		case KEY_NPAGE:
			s->top += key == KEY_NPAGE ? s->body_rows : -s->body_rows;
			follow = false;
			break;
		default:
			if (dlg_key_enter(key) && f->default_button >= 0 &&
			    (unsigned)f->default_button < s->nbuttons) {
				int b = f->default_button;

				if (s->ff >= 0 && !check_field(s, s->ff))
					break;
				if (press(s, b))
					return b;
			}
			break;
		}
	}
}

int dlg_form(struct console *con, struct form *f)
{
	struct fstate s = {.con = con, .f = f, .err_field = -1};
	unsigned radio_rows = 0;
	int ret = -1, old_cursor;

	s.nbuttons = f->nbuttons < FORM_MAX_BUTTONS ? f->nbuttons : FORM_MAX_BUTTONS;
	for (unsigned i = 0; i < f->nfields; i++)
		if (f->fields[i].type == FIELD_RADIO)
			radio_rows += f->fields[i].nitems + 1;
	s.lines_cap = PARA_LINES + LABEL_LINES * f->nfields;
	s.rows_cap = s.lines_cap + radio_rows + f->nfields + 2;
	s.lines = calloc(s.lines_cap, sizeof(*s.lines));
	s.rows = calloc(s.rows_cap, sizeof(*s.rows));
	s.stops = calloc(2 * f->nfields + radio_rows + s.nbuttons + 1, sizeof(*s.stops));
	s.ed = calloc(f->nfields + 1, sizeof(*s.ed));
	if (!s.lines || !s.rows || !s.stops || !s.ed)
		goto out;
	for (unsigned i = 0; i < f->nfields; i++)
		if (form_is_edit(&f->fields[i]))
			lineedit_init(&s.ed[i], f->fields[i].buf, f->fields[i].size);
	if (dlgbox_open(&s.b, con, 10, 40))
		goto out;
	old_cursor = curs_set(0);
	ret = run(&s);
	curs_set(old_cursor < 0 ? 0 : old_cursor);
	dlgbox_close(&s.b);
out:
	free(s.lines);
	free(s.rows);
	free(s.stops);
	free(s.ed);
	return ret;
}
