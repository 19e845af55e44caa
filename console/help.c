/* The console's help screen ('?', F1): every action with its key and what
 * it does (from actions.h), the keys that move around, the mouse, the
 * filter and Connect's way back, in a scrollable panel over the screen. */
#include "console/screen_priv.h"

#include "console/theme.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ncursesw/panel.h>

#define HELP_MAX_W	96
#define HELP_KEY_COLS	10
#define HELP_LABEL_COLS 27

struct help_line {
	char text[256];
	bool heading;
};

struct help {
	struct help_line *lines;
	unsigned n, cap;
};

static void add(struct help *h, bool heading, const char *text)
{
	if (h->n == h->cap) {
		unsigned cap = h->cap ? h->cap * 2 : 64;
		struct help_line *l = realloc(h->lines, cap * sizeof(*l));
		if (!l)
			return; /* the help shows what it has */
		h->lines = l;
		h->cap = cap;
	}
	struct help_line *l = &h->lines[h->n++];
	snprintf(l->text, sizeof(l->text), "%s", text);
	l->heading = heading;
}

/* The longest piece of s (bytes) that fits cols columns, cut at a space
 * where there is one. */
static size_t fit(const char *s, int cols)
{
	if (scr_width(s) <= cols)
		return strlen(s);
	size_t cut = 0, space = 0;
	char tmp[256];
	for (size_t i = 0; s[i] && i + 1 < sizeof(tmp); i++) {
		memcpy(tmp, s, i + 1);
		tmp[i + 1] = 0;
		if (scr_width(tmp) > cols)
			break;
		cut = i + 1;
		if (s[i] == ' ')
			space = i;
	}
	if (space > 0)
		cut = space;
	return cut ? cut : 1;
}

/* "key  label  text": the text wrapped at spaces to width, continuation
 * lines under it; on narrow boxes the text starts on the next line. */
static void entry(struct help *h, const char *key, const char *label, const char *text, int width)
{
	char buf[256];
	int lc = label ? HELP_LABEL_COLS : 0;
	int tx = HELP_KEY_COLS + lc;
	if (width - tx < 24 && label) {
		snprintf(buf, sizeof(buf), "%-*s%s", HELP_KEY_COLS, key, label);
		add(h, false, buf);
		key = "";
		label = NULL;
		tx = HELP_KEY_COLS;
	}
	int tw = width - tx > 10 ? width - tx : 10;
	const char *s = text;
	bool first = true;
	while (first || *s) {
		size_t cut = fit(s, tw);
		if (first && label)
			snprintf(buf, sizeof(buf), "%-*s%-*s%.*s", HELP_KEY_COLS, key, lc, label,
				 (int)cut, s);
		else
			snprintf(buf, sizeof(buf), "%-*s%.*s", tx, first ? key : "", (int)cut, s);
		add(h, false, buf);
		s += cut;
		while (*s == ' ')
			s++;
		first = false;
	}
}

static void action_keys(const struct action_desc *d, char *buf, size_t size)
{
	if (d->key && d->fkey)
		snprintf(buf, size, "%c, F%d", d->key, d->fkey);
	else if (d->key)
		snprintf(buf, size, "%c", d->key);
	else if (d->fkey)
		snprintf(buf, size, "F%d", d->fkey);
	else
		snprintf(buf, size, "%s", "");
}

static void actions_section(struct help *h, const char *title, int which, int width)
{
	add(h, true, title);
	for (int a = 0; a < ACT_COUNT; a++) {
		const struct action_desc *d = action_get((enum con_action)a);
		if (!d || !d->label)
			continue;
		int kind = d->vm ? 0 : (a >= ACT_HELP ? 2 : 1);
		if (kind != which)
			continue;
		char key[16];
		action_keys(d, key, sizeof(key));
		entry(h, key, d->label, d->help ? d->help : "", width);
	}
	add(h, false, "");
}

/* The keys that move around, the filter, the mouse and Connect's way back:
 * a heading (no key), then its keys. */
static const struct help_key {
	const char *key, *text;
} other_keys[] = {
    {NULL, "Moving around"},
    {"Up, Down",
     "Select another VM (in the Actions pane: another action; in the details: scroll)."},
    {"PgUp/PgDn", "A page up or down."},
    {"Home, End", "The first or the last."},
    {"Tab", "Next pane: VM list, details, Actions (Shift-Tab goes back)."},
    {"1 2 3 4", "Details tab: Summary, Memory, Networking, Checkpoints."},
    {"Left/Right", "In the details pane: the previous or next tab."},
    {"Enter", "In the list: the selected VM's actions as a menu; in the Actions pane: the "
	      "highlighted action; in the details: the next tab."},
    {"Del", "Delete the selected VM (asks first)."},
    {"F5, Ctrl-L", "Read the VM list again and redraw the screen."},
    {"Esc", "Clear the filter; in a dialog or menu: Cancel."},
    {NULL, "Filter"},
    {"/", "Type part of a name or a state (\"running\") to show only those VMs; Enter keeps the "
	  "filter, Esc clears it."},
    {NULL, "Mouse (where the terminal reports it)"},
    {"Click", "A VM selects it, a tab shows it, an action in the Actions pane or the key bar does "
	      "it, a pane takes the focus."},
    {"Double", "A double click on a running VM connects to it (else: its actions as a menu)."},
    {"Wheel", "Scrolls the list, the details and this help."},
    {NULL, "Connect"},
    {"Ctrl-]", "In the VM's screen or serial console inside the terminal: back to the console (the "
	       "VM keeps running)."},
};

static void build(struct help *h, int width)
{
	h->n = 0;
	add(h, false, "Press a key to do an action, or pick it in the Actions pane.");
	add(h, false, "");
	actions_section(h, "Actions on the selected VM", 0, width);
	actions_section(h, "Host actions", 1, width);
	actions_section(h, "The console", 2, width);

	for (size_t i = 0; i < sizeof(other_keys) / sizeof(other_keys[0]); i++) {
		const struct help_key *k = &other_keys[i];

		if (k->key) {
			entry(h, k->key, NULL, k->text, width);
			continue;
		}
		if (i > 0)
			add(h, false, "");
		add(h, true, k->text);
	}
	add(h, false, "");
	add(h, false, "The VMs keep running when the console quits.");
}

struct help_view {
	WINDOW *win;
	PANEL *panel;
	int h, w;
};

/* Sizes and centres the box for the terminal and the help's length. */
static int place(struct help_view *v, struct help *h)
{
	int w = COLS - 4 < HELP_MAX_W ? COLS - 4 : HELP_MAX_W;
	if (w < 20)
		w = COLS;
	if (w < 3)
		w = 3;
	build(h, w - 4);
	int hh = (int)h->n + 2;
	if (hh > LINES - 2)
		hh = LINES - 2;
	if (hh < 3)
		hh = LINES < 3 ? LINES : 3;
	if (hh < 1)
		hh = 1;
	int y = (LINES - hh) / 2, x = (COLS - w) / 2;
	if (y < 0)
		y = 0;
	if (x < 0)
		x = 0;
	if (!v->win) {
		v->win = newwin(hh, w, y, x);
		if (!v->win)
			return -1;
		v->panel = new_panel(v->win);
		if (!v->panel) {
			delwin(v->win);
			v->win = NULL;
			return -1;
		}
	} else {
		/* Shrink first so that the move always fits the terminal. */
		wresize(v->win, 1, 1);
		move_panel(v->panel, y, x);
		wresize(v->win, hh, w);
		replace_panel(v->panel, v->win);
	}
	v->h = hh;
	v->w = w;
	return 0;
}

static void draw(struct console *con, struct help_view *v, struct help *h, unsigned top)
{
	WINDOW *w = v->win;
	int attr = theme_attr(TH_DIALOG);
	wbkgdset(w, (chtype)attr | ' ');
	werase(w);
	scr_box(w, 0, 0, v->h, v->w, attr, con->unicode);
	scr_text(w, 0, 2, v->w - 4, " Help: keys and actions ", theme_attr(TH_DIALOG_TITLE),
		 con->unicode);
	int rows = v->h - 2;
	for (int i = 0; i < rows && top + (unsigned)i < h->n; i++) {
		const struct help_line *l = &h->lines[top + (unsigned)i];
		int a = l->heading ? theme_attr(TH_DIALOG_TITLE) : attr;
		scr_text(w, 1 + i, 2, v->w - 4, l->text, a, con->unicode);
	}
	char foot[80];
	unsigned last = top + (unsigned)rows < h->n ? top + (unsigned)rows : h->n;
	snprintf(foot, sizeof(foot), " %u-%u of %u  Up/Down/PgUp/PgDn  Esc: close ", top + 1, last,
		 h->n);
	if (v->h >= 3)
		scr_text_right(w, v->h - 1, 2, v->w - 4, foot, attr, con->unicode);
}

void screen_help(struct console *con)
{
	struct help h = {0};
	struct help_view v = {0};
	if (place(&v, &h) < 0 || !h.n) {
		con_say(con, "Not enough memory to show the help.");
		goto out;
	}
	unsigned top = 0;
	for (;;) {
		int rows = v.h - 2 > 1 ? v.h - 2 : 1;
		unsigned max_top = h.n > (unsigned)rows ? h.n - (unsigned)rows : 0;
		if (top > max_top)
			top = max_top;
		draw(con, &v, &h, top);
		int k = con_getkey(con);
		switch (k) {
		case KEY_UP:
		case 'k':
			top = top ? top - 1 : 0;
			break;
		case KEY_DOWN:
		case 'j':
			top++;
			break;
		case KEY_PPAGE:
			top = top > (unsigned)rows ? top - (unsigned)rows : 0;
			break;
		case KEY_NPAGE:
		case ' ':
			top += (unsigned)rows;
			break;
		case KEY_HOME:
			top = 0;
			break;
		case KEY_END:
			top = max_top;
			break;
		case KEY_RESIZE:
			if (place(&v, &h) < 0)
				goto out;
			break;
		case KEY_MOUSE: {
			MEVENT *m = &con->last_mouse;
			if (m->bstate & BUTTON4_PRESSED)
				top = top > 3 ? top - 3 : 0;
#ifdef BUTTON5_PRESSED
			else if (m->bstate & BUTTON5_PRESSED)
				top += 3;
#endif
			else if (!wenclose(v.win, m->y, m->x))
				goto out; /* a click outside closes */
			break;
		}
		case 27:
		case 'q':
		case '?':
		case '\n':
		case '\r':
		case KEY_ENTER:
		case KEY_F(1):
			goto out;
		default:
			break;
		}
	}
out:
	if (v.panel)
		del_panel(v.panel);
	if (v.win)
		delwin(v.win);
	free(h.lines);
	con_dirty(con);
}
