/* The main screen's VM list: Hyper-V Manager's columns (Name, State, CPU
 * Usage, Assigned Memory, Uptime, Status) laid out for the width, dropped
 * from the right when they do not fit, one row per VM the filter shows. */
#include "console/screen_priv.h"

#include "console/theme.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define LIST_NAME_MIN 12
#define LIST_NAME_MAX 32
#define STATUS_MIN    8
#define STATUS_WANT   12 /* the name gives way to this much Status */
#define COL_GAP	      2

static const char *const headers[COL_COUNT] = {"Name",	 "State", "CPU Usage", "Assigned Memory",
					       "Uptime", "Status"};
static const char *const short_headers[COL_COUNT] = {"Name",   "State",	 "CPU",
						     "Memory", "Uptime", "Status"};
/* The fixed columns' widths: full headers, then short ones. */
static const int widths[COL_COUNT] = {0, 8, 9, 15, 11, 0};
static const int short_widths[COL_COUNT] = {0, 8, 5, 9, 11, 0};

void list_columns(int width, int name_need, struct list_cols *c)
{
	memset(c, 0, sizeof(*c));
	if (width <= 0)
		return;
	/* The most columns that fit, the full headers before the short. */
	for (int ncols = COL_COUNT; ncols >= 1; ncols--) {
		for (int compact = 0; compact <= 1; compact++) {
			const int *w = compact ? short_widths : widths;
			int fixed = 0;
			for (int i = COL_STATE; i < ncols && i < COL_STATUS; i++)
				fixed += w[i] + COL_GAP;
			bool status = ncols == COL_COUNT;
			/* Full headers only where Status keeps room to be read. */
			int smin = status && !compact ? STATUS_WANT : STATUS_MIN;
			int need = fixed + LIST_NAME_MIN + (status ? COL_GAP + smin : 0);
			if (need > width && ncols > 1)
				continue;
			int rest = width - fixed - (status ? COL_GAP : 0);
			int name = name_need < LIST_NAME_MIN ? LIST_NAME_MIN : name_need;
			if (name > LIST_NAME_MAX)
				name = LIST_NAME_MAX;
			if (status && name > rest - STATUS_WANT)
				name = rest - STATUS_WANT > LIST_NAME_MIN ? rest - STATUS_WANT
									  : LIST_NAME_MIN;
			if (status && name > rest - STATUS_MIN)
				name = rest - STATUS_MIN;
			if (name > rest)
				name = rest;
			c->compact = compact;
			c->x[COL_NAME] = 0;
			c->w[COL_NAME] = name;
			int x = name + COL_GAP;
			for (int i = COL_STATE; i < ncols && i < COL_STATUS; i++) {
				c->x[i] = x;
				c->w[i] = w[i];
				x += w[i] + COL_GAP;
			}
			if (status) {
				c->x[COL_STATUS] = x;
				c->w[COL_STATUS] = width - x;
			}
			return;
		}
	}
}

static bool has_worker(enum vm_state s)
{
	return s == VM_RUNNING || s == VM_PAUSED || s == VM_STARTING || s == VM_SAVING;
}

void list_fmt_cpu(const struct vm_row *r, char *buf, size_t size)
{
	double p = r->info.cpu_percent;
	if (!has_worker(r->info.state)) {
		snprintf(buf, size, "%s", "");
		return;
	}
	if (!(p >= 0)) /* NaN or negative: nothing sensible to show */
		p = 0;
	if (p > 1e6)
		p = 1e6;
	snprintf(buf, size, "%.0f %%", p);
}

void list_fmt_memory(const struct vm_row *r, char *buf, size_t size)
{
	if (!has_worker(r->info.state) || !r->info.memory) {
		snprintf(buf, size, "%s", "");
		return;
	}
	snprintf(buf, size, "%" PRIu64 " MB", r->info.memory >> 20);
}

void list_fmt_uptime(uint64_t ns, char *buf, size_t size)
{
	uint64_t s = ns / 1000000000u;
	uint64_t days = s / 86400;
	unsigned h = (unsigned)(s / 3600 % 24), m = (unsigned)(s / 60 % 60),
		 sec = (unsigned)(s % 60);
	if (days)
		snprintf(buf, size, "%" PRIu64 ".%02u:%02u:%02u", days, h, m, sec);
	else
		snprintf(buf, size, "%02u:%02u:%02u", h, m, sec);
}

int list_state_attr(enum vm_state s)
{
	switch (s) {
	case VM_RUNNING:
		return theme_attr(TH_STATE_RUNNING);
	case VM_OFF:
		return theme_attr(TH_STATE_OFF);
	case VM_CRASHED:
		return theme_attr(TH_STATE_CRASHED);
	default:
		return theme_attr(TH_STATE_PAUSED);
	}
}

static void draw_row(struct console *con, const struct screen_layout *lay,
		     const struct list_cols *c, int y, const struct vm_row *r, bool selected)
{
	int x0 = lay->list.x;
	int base = theme_attr(TH_NORMAL);
	if (selected)
		base = theme_attr(con->focus == PANE_LIST ? TH_SELECTED : TH_SELECTED_DIM);
	char buf[64];

	scr_fill(stdscr, y, x0, lay->list.w, base);
	scr_text(stdscr, y, x0 + c->x[COL_NAME], c->w[COL_NAME], r->info.name, base, con->unicode);
	if (c->w[COL_STATE]) {
		int attr = selected ? base : list_state_attr(r->info.state);
		scr_text(stdscr, y, x0 + c->x[COL_STATE], c->w[COL_STATE],
			 vm_state_name(r->info.state), attr, con->unicode);
	}
	if (c->w[COL_CPU]) {
		list_fmt_cpu(r, buf, sizeof(buf));
		scr_text(stdscr, y, x0 + c->x[COL_CPU], c->w[COL_CPU], buf, base, con->unicode);
	}
	if (c->w[COL_MEMORY]) {
		list_fmt_memory(r, buf, sizeof(buf));
		scr_text(stdscr, y, x0 + c->x[COL_MEMORY], c->w[COL_MEMORY], buf, base,
			 con->unicode);
	}
	if (c->w[COL_UPTIME] && has_worker(r->info.state) && r->info.uptime_ns) {
		list_fmt_uptime(r->info.uptime_ns, buf, sizeof(buf));
		scr_text(stdscr, y, x0 + c->x[COL_UPTIME], c->w[COL_UPTIME], buf, base,
			 con->unicode);
	}
	if (c->w[COL_STATUS] && r->status[0]) {
		bool bad = r->info.state == VM_CRASHED || strstr(r->status, "failed") ||
			   strstr(r->status, "Crashed");
		int attr = selected ? base : theme_attr(bad ? TH_ERROR : TH_NORMAL);
		scr_text(stdscr, y, x0 + c->x[COL_STATUS], c->w[COL_STATUS], r->status, attr,
			 con->unicode);
	}
}

static void draw_empty(struct console *con, const struct screen_layout *lay)
{
	struct vm_model *m = &con->model;
	char msg[160];
	if (m->n && m->filter[0]) {
		snprintf(msg, sizeof(msg),
			 "No VM matches \"%s\". Press / and Esc to clear the filter.", m->filter);
	} else {
		const struct action_desc *d = action_get(ACT_NEW_VM);
		if (d && d->key)
			snprintf(msg, sizeof(msg),
				 "No virtual machines yet. Press %c to create one.", d->key);
		else
			snprintf(msg, sizeof(msg), "No virtual machines yet.");
	}
	scr_text(stdscr,
		 lay->list.y + 2 < lay->list.y + lay->list.h ? lay->list.y + 2 : lay->list.y + 1,
		 lay->list.x + 1, lay->list.w - 1, msg, theme_attr(TH_DISABLED), con->unicode);
}

void list_draw(struct console *con, const struct screen_layout *lay)
{
	struct vm_model *m = &con->model;
	bool focused = con->focus == PANE_LIST;
	scr_frame(stdscr, &lay->list, "Virtual Machines", focused, con->unicode);

	int need = 0;
	for (unsigned i = 0; i < m->nview; i++) {
		int w = scr_width(m->rows[m->view[i]].info.name);
		if (w > need)
			need = w;
	}
	struct list_cols c;
	list_columns(lay->list.w, need, &c);

	int hattr = theme_attr(TH_HEADER);
	const char *const *h = c.compact ? short_headers : headers;
	for (int i = 0; i < COL_COUNT; i++)
		if (c.w[i])
			scr_text(stdscr, lay->list.y, lay->list.x + c.x[i], c.w[i], h[i], hattr,
				 con->unicode);

	if (!m->nview) {
		draw_empty(con, lay);
		return;
	}
	unsigned top = m->top < m->nview ? m->top : 0;
	for (int row = 0; row < lay->list_rows; row++) {
		unsigned vi = top + (unsigned)row;
		if (vi >= m->nview)
			break;
		const struct vm_row *r = &m->rows[m->view[vi]];
		draw_row(con, lay, &c, lay->list.y + 1 + row, r, (int)vi == m->sel);
	}

	/* Where the window is in a long list, on the bottom edge. */
	if (m->nview > (unsigned)lay->list_rows) {
		char pos[64];
		unsigned last = top + (unsigned)lay->list_rows;
		if (last > m->nview)
			last = m->nview;
		snprintf(pos, sizeof(pos), " %u-%u of %u ", top + 1, last, m->nview);
		int pw = (int)strlen(pos);
		int y = lay->list.y + lay->list.h;
		int x = lay->list.x + lay->list.w - pw - 1;
		if (x > lay->list.x)
			scr_text(stdscr, y, x, pw, pos,
				 theme_attr(focused ? TH_FOCUS_BORDER : TH_BORDER), con->unicode);
	}
}
