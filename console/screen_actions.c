/* The main screen's Actions pane (Hyper-V Manager's: the selected VM's
 * name and the actions it allows now, then the host's) and the key bar
 * under the panes ("s Start  c Connect ... ? Help  q Quit"). */
#include "console/screen_priv.h"

#include "console/theme.h"

#include <stdio.h>
#include <string.h>

/* The VM's actions in the order Hyper-V Manager lists them. */
static const enum con_action vm_order[] = {
    ACT_CONNECT, ACT_SETTINGS, ACT_START,      ACT_TURN_OFF, ACT_SHUT_DOWN, ACT_SAVE,	ACT_PAUSE,
    ACT_RESUME,	 ACT_RESET,    ACT_CHECKPOINT, ACT_REVERT,   ACT_RENAME,    ACT_DELETE,
};
static const enum con_action host_order[] = {
    ACT_NEW_VM,		ACT_NEW_DISK,  ACT_NEW_SWITCH, ACT_IMPORT,
    ACT_SWITCH_MANAGER, ACT_EDIT_DISK, ACT_HELP,
};
#define NVM   (sizeof(vm_order) / sizeof(vm_order[0]))
#define NHOST (sizeof(host_order) / sizeof(host_order[0]))

bool scr_has_checkpoint(const struct console *con)
{
	const struct vm_details *d = &con->details;
	const struct vm_row *r = model_selected((struct vm_model *)&con->model);
	if (!r || strcmp(r->info.name, d->name) != 0)
		return false;
	unsigned n = d->nckpts < VMD_MAX_CKPTS + 1 ? d->nckpts : VMD_MAX_CKPTS + 1;
	for (unsigned i = 0; i < n; i++)
		if (!d->ckpts[i].now)
			return true;
	return false;
}

/* The selection's enabled actions (VM part) into out; returns how many. */
static unsigned vm_actions(struct console *con, enum con_action *out, unsigned max)
{
	const struct vm_row *sel = model_selected(&con->model);
	unsigned n = 0;
	if (!sel)
		return 0;
	bool ck = scr_has_checkpoint(con);
	for (unsigned i = 0; i < NVM && n < max; i++)
		if (action_enabled(vm_order[i], sel, ck, NULL, 0))
			out[n++] = vm_order[i];
	return n;
}

unsigned screen_actions(struct console *con, enum con_action *out, unsigned max)
{
	unsigned n = vm_actions(con, out, max);
	for (unsigned i = 0; i < NHOST && n < max; i++)
		out[n++] = host_order[i];
	return n;
}

unsigned actions_rows(struct console *con, struct actions_row *rows, unsigned max)
{
	enum con_action vm[NVM];
	unsigned nvm = vm_actions(con, vm, NVM);
	const struct vm_row *sel = model_selected(&con->model);
	unsigned n = 0, index = 0;

	if (sel && n < max)
		rows[n++] = (struct actions_row){-1, -1, sel->info.name, false};
	if (sel && sel->status[0] && n < max)
		rows[n++] = (struct actions_row){-1, -1, sel->status, true};
	for (unsigned i = 0; i < nvm && n < max; i++) {
		const struct action_desc *d = action_get(vm[i]);
		rows[n++] =
		    (struct actions_row){(int)vm[i], (int)index++, d ? d->label : "", false};
	}
	if (n < max)
		rows[n++] = (struct actions_row){-1, -1, "Host", false};
	for (unsigned i = 0; i < NHOST && n < max; i++) {
		const struct action_desc *d = action_get(host_order[i]);
		rows[n++] = (struct actions_row){(int)host_order[i], (int)index++,
						 d ? d->label : "", false};
	}
	return n;
}

unsigned actions_first(struct console *con, const struct actions_row *rows, unsigned n, int h)
{
	if (h <= 0 || n <= (unsigned)h)
		return 0;
	unsigned at = 0;
	for (unsigned i = 0; i < n; i++)
		if (rows[i].index == con->action_sel)
			at = i;
	/* The highlighted row in view, its heading too when it can be. */
	unsigned first = 0;
	if (at >= (unsigned)h)
		first = at - (unsigned)h + 1;
	if (first > n - (unsigned)h)
		first = n - (unsigned)h;
	return first;
}

void actions_draw(struct console *con, const struct screen_layout *lay)
{
	const struct screen_rect *p = &lay->actions;
	bool focused = con->focus == PANE_ACTIONS;
	scr_frame(stdscr, p, "Actions", focused, con->unicode);

	struct actions_row rows[ACTIONS_ROWS_MAX];
	unsigned n = actions_rows(con, rows, ACTIONS_ROWS_MAX);
	unsigned nact = 0;
	for (unsigned i = 0; i < n; i++)
		if (rows[i].index >= 0)
			nact++;
	if (con->action_sel >= (int)nact)
		con->action_sel = nact ? (int)nact - 1 : 0;
	if (con->action_sel < 0)
		con->action_sel = 0;

	unsigned first = actions_first(con, rows, n, p->h);
	for (int i = 0; i < p->h && first + (unsigned)i < n; i++) {
		const struct actions_row *r = &rows[first + (unsigned)i];
		int y = p->y + i;
		if (r->note) {
			scr_text(stdscr, y, p->x + 1, p->w - 1, r->text, theme_attr(TH_DISABLED),
				 con->unicode);
			continue;
		}
		if (r->action < 0) {
			scr_text(stdscr, y, p->x, p->w, r->text, theme_attr(TH_HEADER),
				 con->unicode);
			continue;
		}
		bool hl = focused && r->index == con->action_sel;
		int attr = theme_attr(hl ? TH_SELECTED : TH_NORMAL);
		if (hl)
			scr_fill(stdscr, y, p->x, p->w, attr);
		/* The label and its key; where that does not fit, the label
		 * without its "..." and without the key. */
		const struct action_desc *d = action_get((enum con_action)r->action);
		int lw = scr_width(r->text);
		bool key = d && d->key && lw <= p->w - 4;
		size_t len = strlen(r->text);
		if (!key && lw > p->w - 1 && len > 3 && !strcmp(r->text + len - 3, "...")) {
			char t[96];
			snprintf(t, sizeof(t), "%.*s", (int)(len - 3), r->text);
			scr_text(stdscr, y, p->x + 1, p->w - 1, t, attr, con->unicode);
		} else {
			scr_text(stdscr, y, p->x + 1, key ? p->w - 4 : p->w - 1, r->text, attr,
				 con->unicode);
		}
		if (key) {
			char k[2] = {(char)d->key, 0};
			scr_text(stdscr, y, p->x + p->w - 2, 1, k,
				 hl ? attr : theme_attr(TH_HEADER), con->unicode);
		}
	}
}

/* --- the key bar ---------------------------------------------------------------------------- */

/* "s Start": the key (or Fn) and the short label. */
static void entry_text(enum con_action a, char *key, size_t ksize, const char **label)
{
	const struct action_desc *d = action_get(a);
	*label = d && d->short_label ? d->short_label : "";
	if (d && d->key)
		snprintf(key, ksize, "%c", d->key);
	else if (d && d->fkey)
		snprintf(key, ksize, "F%d", d->fkey);
	else
		key[0] = 0;
}

static int entry_width(enum con_action a)
{
	char key[8];
	const char *label;
	entry_text(a, key, sizeof(key), &label);
	return (int)strlen(key) + 1 + scr_width(label);
}

#define KEYBAR_GAP 2

unsigned keybar_entries(struct console *con, int width, struct keybar_entry *out, unsigned max)
{
	enum con_action acts[ACT_COUNT];
	const struct vm_row *sel = model_selected(&con->model);
	unsigned n = action_bar(sel, scr_has_checkpoint(con), acts, ACT_COUNT);
	if (n > ACT_COUNT)
		n = ACT_COUNT;

	/* The bar ends with Help and Quit: room for them first. */
	unsigned tail = n >= 2 ? 2 : n;
	int tail_w = 0;
	for (unsigned i = n - tail; i < n; i++)
		tail_w += entry_width(acts[i]) + KEYBAR_GAP;

	unsigned k = 0;
	int x = 1;
	for (unsigned i = 0; i < n && k < max; i++) {
		int w = entry_width(acts[i]);
		bool is_tail = i >= n - tail;
		if (!is_tail && x + w + KEYBAR_GAP + tail_w > width)
			continue; /* try the next: a shorter one may fit */
		if (is_tail && x + w > width)
			break;
		out[k++] = (struct keybar_entry){(int)acts[i], x, w};
		x += w + KEYBAR_GAP;
	}
	return k;
}

static void draw_filter(struct console *con, const struct screen_layout *lay)
{
	int y = lay->bar.y, x = 1;
	int key = theme_attr(TH_KEY), bar = theme_attr(TH_BAR);
	char text[MODEL_FILTER_MAX + 8];
	snprintf(text, sizeof(text), "%s_", con->model.filter);
	x += scr_text(stdscr, y, x, lay->bar.w - x, "Filter:", key, con->unicode) + 1;
	x += scr_text(stdscr, y, x, lay->bar.w - x, text, bar, con->unicode) + 2;
	x += scr_text(stdscr, y, x, lay->bar.w - x, "Enter", key, con->unicode);
	x += scr_text(stdscr, y, x, lay->bar.w - x, ": done  ", bar, con->unicode);
	x += scr_text(stdscr, y, x, lay->bar.w - x, "Esc", key, con->unicode);
	scr_text(stdscr, y, x, lay->bar.w - x, ": clear", bar, con->unicode);
}

void keybar_draw(struct console *con, const struct screen_layout *lay)
{
	int bar = theme_attr(TH_BAR), keya = theme_attr(TH_KEY);
	scr_fill(stdscr, lay->bar.y, 0, lay->bar.w, bar);
	if (con->editing_filter) {
		draw_filter(con, lay);
		return;
	}
	struct keybar_entry e[KEYBAR_MAX];
	unsigned n = keybar_entries(con, lay->bar.w, e, KEYBAR_MAX);
	for (unsigned i = 0; i < n; i++) {
		char key[8];
		const char *label;
		entry_text((enum con_action)e[i].action, key, sizeof(key), &label);
		int kw = scr_text(stdscr, lay->bar.y, e[i].x, e[i].w, key, keya, con->unicode);
		scr_text(stdscr, lay->bar.y, e[i].x + kw + 1, e[i].w - kw - 1, label, bar,
			 con->unicode);
	}
}
