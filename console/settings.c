/* The Settings window of a VM, as Hyper-V shows it: the hardware tree on
 * the left, a summary of the selected item on the right, OK, Cancel and
 * Apply; Enter edits an item (settings_edit.c), 'a' adds hardware and Del
 * removes it (settings_hw.c). */
#include "console/settings.h"

#include "console/console.h"
#include "console/dialogs.h"
#include "console/lineedit.h"
#include "console/theme.h"
#include "console/widgets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BTN_OK, BTN_CANCEL, BTN_APPLY, NBUTTONS };
static const char *const buttons[NBUTTONS] = {"OK", "Cancel", "Apply"};

struct geometry {
	int tree_y, tree_x, tree_w, rows; /* the tree's area */
	int value_x;			  /* where the items' values start */
	int sum_x, sum_w;		  /* the summary's */
	int hint_y, button_y;
};

static void geometry(const struct settings *s, struct geometry *g)
{
	int h = s->box.h, w = s->box.w;

	g->tree_y = s->t.mode == HW_MODE_OFF ? 1 : 2;
	g->tree_x = 2;
	g->tree_w = w * 2 / 5;
	if (g->tree_w < 24)
		g->tree_w = w - 4 < 24 ? w - 4 : 24;
	g->rows = h - g->tree_y - 3;
	if (g->rows < 1)
		g->rows = 1;
	/* Values line up after the longest label (within the tree). */
	g->value_x = 0;
	for (unsigned i = 0; i < s->t.nitems; i++) {
		const struct hw_item *it = &s->t.items[i];
		int end = (int)it->depth * 2 + utf8_width(it->label, strlen(it->label)) + 2;

		if (it->value[0] && end > g->value_x)
			g->value_x = end;
	}
	if (g->value_x > g->tree_w * 3 / 5)
		g->value_x = g->tree_w * 3 / 5;
	g->value_x += g->tree_x;
	g->sum_x = g->tree_x + g->tree_w + 2;
	g->sum_w = w - g->sum_x - 2;
	g->hint_y = h - 3;
	g->button_y = h - 2;
}

static void place(struct settings *s)
{
	int h = LINES - 2 < 32 ? LINES - 2 : 32, w = COLS - 2 < 110 ? COLS - 2 : 110;

	dlgbox_place(&s->box, h, w);
}

static void draw_item(struct settings *s, const struct geometry *g, int row, int i)
{
	const struct hw_item *it = &s->t.items[i];
	bool sel = i == s->sel;
	int a = theme_attr(TH_DIALOG), y = g->tree_y + row, x = g->tree_x + (int)it->depth * 2;
	int room = g->tree_w - (int)it->depth * 2, n;

	if (sel)
		a = theme_attr(s->focus < 0 ? TH_SELECTED : TH_SELECTED_DIM);
	dlg_fill(s->box.win, y, g->tree_x, g->tree_w, a);
	if (it->kind == HW_HEADER)
		a |= A_BOLD;
	n = dlg_put(s->box.win, y, x, it->label, room, a);
	if (!it->value[0])
		return;
	int vx = g->value_x;
	if (vx < x + n + 1)
		vx = x + n + 1;
	int va = sel ? a : theme_attr(hwtree_item_editable(&s->t, it) ? TH_DIALOG : TH_DISABLED);
	if (g->tree_x + g->tree_w - vx > 0)
		dlg_put(s->box.win, y, vx, it->value, g->tree_x + g->tree_w - vx, va);
}

/* What the details pane read of a disk's image: its format and sizes. */
static unsigned disk_sizes(struct settings *s, const struct hw_item *it, char lines[][256],
			   unsigned max)
{
	const struct vm_details *d = &s->con->details;
	char size[32], used[32];

	if (it->kind != HW_DISK || max < 1 || strcmp(d->name, s->t.vm) != 0)
		return 0;
	for (unsigned i = 0; i < d->ndisks && i < VMD_MAX_DISKS; i++) {
		if (strcmp(d->disks[i].section, it->name) != 0 || !d->disks[i].size)
			continue;
		vmd_format_size(d->disks[i].size, size, sizeof(size));
		vmd_format_size(d->disks[i].used, used, sizeof(used));
		snprintf(lines[0], 256, "Virtual disk: %s%s, %s (%s on the host)",
			 d->disks[i].format[0] ? d->disks[i].format : "unknown format",
			 d->disks[i].differencing ? " differencing" : "", size, used);
		return 1;
	}
	return 0;
}

static void draw(struct settings *s)
{
	struct geometry g;
	char title[128], lines[24][256];
	WINDOW *w = s->box.win;
	int xs[NBUTTONS];

	place(s);
	geometry(s, &g);
	snprintf(title, sizeof(title), "Settings for %s", s->t.vm);
	dlgbox_frame(&s->box, title);
	if (s->t.mode == HW_MODE_LIVE)
		dlg_put(w, 1, 2,
			"The VM is running: DVD media and network switches change now; turn it "
			"off to change the rest.",
			s->box.w - 4, theme_attr(TH_ERROR));
	else if (s->t.mode == HW_MODE_LOCKED)
		dlg_put(w, 1, 2, "The VM is saved or busy: turn it off to change its settings.",
			s->box.w - 4, theme_attr(TH_ERROR));
	dlg_list_scroll(&s->top, s->sel, g.rows, (int)s->t.nitems);
	for (int r = 0; r < g.rows && s->top + r < (int)s->t.nitems; r++)
		draw_item(s, &g, r, s->top + r);
	for (int r = 0; r < g.rows; r++)
		dlg_put(w, g.tree_y + r, g.sum_x - 1, s->box.unicode ? "\u2502" : "|", 1,
			theme_attr(TH_BORDER));
	if (s->sel >= 0 && s->sel < (int)s->t.nitems) {
		const struct hw_item *it = &s->t.items[s->sel];
		unsigned n = hwtree_summary(&s->t, it, lines, 24), y = 0;

		n += disk_sizes(s, it, lines + n, 24 - n);

		dlg_put(w, g.tree_y, g.sum_x + 1, it->label, g.sum_w - 1,
			theme_attr(TH_DIALOG) | A_BOLD);
		for (unsigned i = 0; i < n && (int)y + 2 < g.rows; i++) {
			char wrapped[8][256];
			unsigned k = wrap_text(lines[i], g.sum_w - 1, wrapped, 8);

			for (unsigned j = 0; j < k && (int)y + 2 < g.rows; j++, y++)
				dlg_put(w, g.tree_y + 2 + (int)y, g.sum_x + 1, wrapped[j],
					g.sum_w - 1, theme_attr(TH_DIALOG));
		}
	}
	if (s->msg[0])
		dlg_put(w, g.hint_y, 2, s->msg, s->box.w - 4, theme_attr(TH_ERROR));
	else
		dlg_put(w, g.hint_y, 2,
			"Enter: change   a: add hardware   Del: remove   Tab: buttons   Esc: "
			"cancel",
			s->box.w - 4, theme_attr(TH_DISABLED));
	if (s->t.dirty)
		dlg_put(w, g.button_y, 2, "* changed", 10, theme_attr(TH_DIALOG));
	dlg_buttons_draw(w, g.button_y, 1, s->box.w - 2, buttons, NBUTTONS, s->focus, BTN_OK, xs);
}

static bool vm_still_off(struct settings *s)
{
	if (s->t.mode != HW_MODE_OFF || !vmstore_worker_alive(s->t.vm, NULL))
		return true;
	snprintf(s->msg, sizeof(s->msg), "VM '%s' was started meanwhile: %s.", s->t.vm,
		 HW_LOCKED_MSG);
	return false;
}

/* Saves what changed; true when there is nothing left to save. */
static bool save(struct settings *s)
{
	char msg[600];

	if (!s->t.dirty)
		return true;
	if (!vm_still_off(s))
		return false;
	if (hwtree_save(&s->t, msg, sizeof(msg)) < 0) {
		dlg_message(s->con, "Settings", "The settings were not saved: %s", msg);
		return false;
	}
	con_reload_details(s->con);
	snprintf(s->msg, sizeof(s->msg), "Saved.");
	return true;
}

static bool cancel(struct settings *s)
{
	return !s->t.dirty || dlg_confirm(s->con, "Settings", "Discard",
					  "Discard the changes to the settings of '%s'?", s->t.vm);
}

/* Edits it; the selection follows it to where the tree puts it now (a
 * disk moved to another controller). */
static void edit_keep_selection(struct settings *s, const struct hw_item *it)
{
	struct hw_item was = *it;

	settings_edit(s, it);
	for (unsigned i = 0; i < s->t.nitems; i++) {
		const struct hw_item *n = &s->t.items[i];

		if (n->kind == was.kind && strcmp(n->section, was.section) == 0 &&
		    strcmp(n->name, was.name) == 0 && n->port == was.port) {
			s->sel = (int)i;
			return;
		}
	}
}

static void activate(struct settings *s)
{
	const struct hw_item *it = &s->t.items[s->sel];

	s->msg[0] = '\0';
	if (it->kind == HW_ADD)
		settings_add(s);
	else if (it->kind == HW_HEADER || it->kind == HW_IDE || it->kind == HW_VIRTIO)
		return;
	else if (!hwtree_item_editable(&s->t, it))
		snprintf(s->msg, sizeof(s->msg), "%s",
			 it->kind == HW_NAME ? "The Rename action renames the VM."
					     : HW_LOCKED_MSG ".");
	else
		edit_keep_selection(s, it);
	if (s->sel >= (int)s->t.nitems)
		s->sel = (int)s->t.nitems - 1;
}

static void move_sel(struct settings *s, int delta)
{
	s->sel += delta;
	if (s->sel >= (int)s->t.nitems)
		s->sel = (int)s->t.nitems - 1;
	if (s->sel < 0)
		s->sel = 0;
}

/* A mouse event: a click in the tree selects (a double click edits), one on
 * a button presses it. Returns the button pressed or -1. */
static int click(struct settings *s)
{
	struct geometry g;
	int y, x, xs[NBUTTONS], b;

	if (!dlg_click(s->con, &s->box, &y, &x)) {
		move_sel(s, dlg_wheel(s->con, &s->box));
		return -1;
	}
	geometry(s, &g);
	if (y == g.button_y) {
		dlg_buttons_draw(s->box.win, g.button_y, 1, s->box.w - 2, buttons, NBUTTONS,
				 s->focus, BTN_OK, xs);
		b = dlg_buttons_hit(buttons, NBUTTONS, xs, x);
		return b;
	}
	if (y >= g.tree_y && y < g.tree_y + g.rows && x >= g.tree_x && x < g.tree_x + g.tree_w &&
	    s->top + y - g.tree_y < (int)s->t.nitems) {
		s->focus = -1;
		s->sel = s->top + y - g.tree_y;
		if (s->con->last_mouse.bstate & BUTTON1_DOUBLE_CLICKED)
			activate(s);
	}
	return -1;
}

static void run(struct settings *s)
{
	struct geometry g;

	for (;;) {
		int key, pressed = -1;

		draw(s);
		key = con_getkey(s->con);
		geometry(s, &g);
		if (key == KEY_MOUSE) {
			pressed = click(s);
		} else if (key == DLG_KEY_ESC) {
			pressed = BTN_CANCEL;
		} else if (key == '\t' || key == KEY_RIGHT) {
			s->focus = s->focus + 1 >= NBUTTONS ? -1 : s->focus + 1;
		} else if (key == KEY_BTAB || key == KEY_LEFT) {
			s->focus = s->focus < 0 ? NBUTTONS - 1 : s->focus - 1;
		} else if (dlg_key_enter(key) || (key == ' ' && s->focus >= 0)) {
			if (s->focus >= 0)
				pressed = s->focus;
			else
				activate(s);
		} else if (s->focus < 0 || key == KEY_UP || key == KEY_DOWN) {
			s->focus = -1;
			switch (key) {
			case KEY_UP:
				move_sel(s, -1);
				break;
			case KEY_DOWN:
				move_sel(s, 1);
				break;
			case KEY_PPAGE:
				move_sel(s, -g.rows);
				break;
			case KEY_NPAGE:
				move_sel(s, g.rows);
				break;
			case KEY_HOME:
				s->sel = 0;
				break;
			case KEY_END:
				s->sel = (int)s->t.nitems - 1;
				break;
			case 'a':
			case 'A':
			case KEY_IC:
				s->msg[0] = '\0';
				settings_add(s);
				break;
			case KEY_DC:
			case 'd':
				s->msg[0] = '\0';
				settings_remove(s, &s->t.items[s->sel]);
				if (s->sel >= (int)s->t.nitems)
					s->sel = (int)s->t.nitems - 1;
				break;
			default:
				break;
			}
		}
		if (pressed == BTN_CANCEL && cancel(s))
			return;
		if (pressed == BTN_OK && save(s))
			return;
		if (pressed == BTN_APPLY)
			save(s);
	}
}

enum hw_mode settings_mode(struct console *con, const char *name)
{
	struct vm_row *row = model_find(&con->model, name);
	enum hw_mode mode = row ? hwtree_mode(row->info.state) : HW_MODE_OFF;

	/* The list may be a moment behind: a worker that runs wins. */
	if (mode == HW_MODE_OFF && vmstore_worker_alive(name, NULL))
		mode = HW_MODE_LIVE;
	return mode;
}

void settings_open(struct console *con, const char *name)
{
	struct settings *s;
	char msg[600];

	if (!name || !name[0]) {
		dlg_message(con, "Settings", "Select a VM first.");
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		dlg_message(con, "Settings", "Out of memory.");
		return;
	}
	s->con = con;
	s->focus = -1;
	if (hwtree_open(&s->t, name, settings_mode(con, name), msg, sizeof(msg)) < 0) {
		dlg_message(con, "Settings", "The settings of '%s' cannot be shown: %s", name, msg);
		free(s);
		return;
	}
	s->sel = 2; /* Firmware, below the header and Add Hardware */
	if (dlgbox_open(&s->box, con, 20, 60) == 0) {
		run(s);
		dlgbox_close(&s->box);
	}
	hwtree_close(&s->t);
	free(s);
	con_dirty(con);
}
