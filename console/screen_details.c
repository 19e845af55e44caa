/* The main screen's details pane: the selected VM's tabs (Summary with the
 * thumbnail of its screen, Memory, Networking, Checkpoints) from
 * con->details and its list row, scrolled by con->details_top. */
#include "console/screen_priv.h"

#include "console/halfblock.h"
#include "console/theme.h"
#include "console/thumb.h"
#include "console/widgets.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define LABEL_COLS 14

static const char *const tab_names[TAB_COUNT] = {"Summary", "Memory", "Networking", "Checkpoints"};
static const char *const tab_short[TAB_COUNT] = {"Sum", "Mem", "Net", "Ckpt"};

void details_tabs(int width, int xs[TAB_COUNT], int ws[TAB_COUNT])
{
	for (int pass = 0; pass < 2; pass++) {
		const char *const *names = pass ? tab_short : tab_names;
		int x = 0;
		for (int t = 0; t < TAB_COUNT; t++) {
			xs[t] = x;
			ws[t] = (int)strlen(names[t]) + 2; /* " Summary " */
			x += ws[t] + 1;			   /* and a separator */
		}
		if (x - 1 <= width || pass)
			break;
	}
	for (int t = 0; t < TAB_COUNT; t++)
		if (xs[t] + ws[t] > width)
			ws[t] = 0;
}

/* Lines of a tab drawn from con->details_top on: counted first (to keep
 * details_top in range), then drawn. */
struct writer {
	struct console *con;
	int y, x, h, w; /* the text area */
	unsigned top;
	unsigned n; /* lines so far */
	bool draw;
};

/* The row of the next line, or -1 when it is not shown. */
static int next_row(struct writer *wr)
{
	unsigned i = wr->n++;
	if (!wr->draw || i < wr->top || i >= wr->top + (unsigned)wr->h)
		return -1;
	return wr->y + (int)(i - wr->top);
}

/* The next row: "Label:       value", or the value alone without a label. */
static void vfield(struct writer *wr, const char *label, int attr, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static void vfield(struct writer *wr, const char *label, int attr, const char *fmt, va_list ap)
{
	int y = next_row(wr);
	if (y < 0)
		return;
	char buf[PATH_MAX + 256];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (!label) {
		scr_text(stdscr, y, wr->x, wr->w, buf, attr, wr->con->unicode);
		return;
	}
	int lw = wr->w < LABEL_COLS * 2 ? wr->w / 3 : LABEL_COLS;
	scr_text(stdscr, y, wr->x, lw - 1, label, theme_attr(TH_HEADER), wr->con->unicode);
	scr_text(stdscr, y, wr->x + lw, wr->w - lw, buf, attr, wr->con->unicode);
}

static void line(struct writer *wr, int attr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void line(struct writer *wr, int attr, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfield(wr, NULL, attr, fmt, ap);
	va_end(ap);
}

/* "Label:       value" */
static void field(struct writer *wr, const char *label, int attr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void field(struct writer *wr, const char *label, int attr, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfield(wr, label, attr, fmt, ap);
	va_end(ap);
}

/* A paragraph wrapped to the width. */
static void para(struct writer *wr, int attr, const char *text)
{
	static char lines[16][256];
	unsigned n = wrap_text(text, wr->w, lines, 16);
	if (!n) {
		line(wr, attr, "%s", text);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		line(wr, attr, "%s", lines[i]);
}

static bool has_worker(enum vm_state s)
{
	return s == VM_RUNNING || s == VM_PAUSED || s == VM_STARTING || s == VM_SAVING;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s && s[1] ? s + 1 : path;
}

static void mb(uint64_t bytes, char *buf, size_t size)
{
	snprintf(buf, size, "%" PRIu64 " MB", bytes >> 20);
}

/* The row of the VM the details are of (NULL when it is not the
 * selection any more, or none is selected). */
static const struct vm_row *details_row(struct console *con)
{
	const struct vm_row *r = model_selected(&con->model);
	if (!r || strcmp(r->info.name, con->details.name) != 0)
		return NULL;
	return r;
}

static void tab_summary(struct writer *wr, const struct vm_row *r, const struct vm_details *d)
{
	char a[64], b[64];
	if (r) {
		field(wr, "State:", list_state_attr(r->info.state), "%s%s%s",
		      vm_state_name(r->info.state), r->status[0] ? "  " : "", r->status);
		if (has_worker(r->info.state) && r->info.uptime_ns) {
			list_fmt_uptime(r->info.uptime_ns, a, sizeof(a));
			field(wr, "Uptime:", theme_attr(TH_NORMAL), "%s", a);
		}
		if (has_worker(r->info.state)) {
			list_fmt_cpu(r, a, sizeof(a));
			field(wr, "CPU usage:", theme_attr(TH_NORMAL), "%s", a);
		}
	}
	if (d->error[0])
		return;
	if (r && has_worker(r->info.state) && r->info.memory) {
		mb(r->info.memory, a, sizeof(a));
		mb(d->memory, b, sizeof(b));
		if (r->info.memory >> 20 == d->memory >> 20)
			field(wr, "Memory:", theme_attr(TH_NORMAL), "%s", a);
		else
			field(wr, "Memory:", theme_attr(TH_NORMAL), "%s (startup %s)", a, b);
	} else {
		mb(d->memory, a, sizeof(a));
		field(wr, "Memory:", theme_attr(TH_NORMAL), "%s", a);
	}
	field(wr, "Processors:", theme_attr(TH_NORMAL), "%u", d->cpus);
	if (d->firmware[0])
		field(wr, "Firmware:", theme_attr(TH_NORMAL), "%s", d->firmware);
	if (d->boot[0])
		field(wr, "Boot order:", theme_attr(TH_NORMAL), "%s", d->boot);
	unsigned nd = d->ndisks < VMD_MAX_DISKS ? d->ndisks : VMD_MAX_DISKS;
	for (unsigned i = 0; i < nd; i++) {
		const struct vmd_disk *k = &d->disks[i];
		char size[32] = "";
		if (k->size)
			vmd_format_size(k->size, size, sizeof(size));
		field(wr, i ? "" : "Disks:", theme_attr(TH_NORMAL), "%s  %s  (%s%s%s%s%s)",
		      k->where, base_name(k->file), k->format[0] ? k->format : "unreadable",
		      size[0] ? ", " : "", size, k->differencing ? ", differencing" : "",
		      k->readonly ? ", read-only" : "");
	}
	if (!nd)
		field(wr, "Disks:", theme_attr(TH_DISABLED), "none");
	unsigned nv = d->ndvds < VMD_MAX_DVDS ? d->ndvds : VMD_MAX_DVDS;
	for (unsigned i = 0; i < nv; i++) {
		const struct vmd_dvd *v = &d->dvds[i];
		field(wr, i ? "" : "DVD:", theme_attr(v->file[0] ? TH_NORMAL : TH_DISABLED),
		      "%s  %s", v->where, v->file[0] ? base_name(v->file) : "empty");
	}
	unsigned nn = d->nnics < VMD_MAX_NICS ? d->nnics : VMD_MAX_NICS;
	for (unsigned i = 0; i < nn; i++) {
		const struct vmd_nic *n = &d->nics[i];
		field(wr, i ? "" : "Adapters:", theme_attr(TH_NORMAL), "%s  %s %s%s%s%s", n->name,
		      n->model, n->sw[0] ? "on " : "", n->sw[0] ? n->sw : "not connected",
		      n->mac[0] ? "  " : "", n->mac);
	}
	if (!nn)
		field(wr, "Adapters:", theme_attr(TH_DISABLED), "none");
	if (r && has_worker(r->info.state))
		field(wr, "VNC:", theme_attr(TH_NORMAL), "%s",
		      r->info.vnc[0] ? r->info.vnc : "none");
	else if (d->vnc[0])
		field(wr, "VNC:", theme_attr(TH_NORMAL), "%s", d->vnc);
	if (d->notes[0])
		field(wr, "Notes:", theme_attr(TH_NORMAL), "%s", d->notes);
}

static void tab_memory(struct writer *wr, const struct vm_row *r, const struct vm_details *d)
{
	char a[64];
	bool live = r && has_worker(r->info.state);
	if (!d->error[0]) {
		mb(d->memory, a, sizeof(a));
		field(wr, "Startup:", theme_attr(TH_NORMAL), "%s", a);
	}
	if (live && r->info.memory) {
		mb(r->info.memory, a, sizeof(a));
		field(wr, "Assigned:", theme_attr(TH_NORMAL), "%s", a);
	} else {
		field(wr, "Assigned:", theme_attr(TH_DISABLED), "none (the VM is not running)");
	}
	if (live) {
		field(wr, "Processors:", theme_attr(TH_NORMAL), "%u", r->info.cpus);
		list_fmt_cpu(r, a, sizeof(a));
		field(wr, "CPU usage:", theme_attr(TH_NORMAL), "%s", a);
		if (r->info.pid)
			field(wr, "Worker:", theme_attr(TH_NORMAL), "process %d", r->info.pid);
		if (r->info.uptime_ns) {
			list_fmt_uptime(r->info.uptime_ns, a, sizeof(a));
			field(wr, "Uptime:", theme_attr(TH_NORMAL), "%s", a);
		}
	} else if (!d->error[0]) {
		field(wr, "Processors:", theme_attr(TH_NORMAL), "%u", d->cpus);
	}
}

static void tab_networking(struct writer *wr, const struct vm_row *r, const struct vm_details *d)
{
	unsigned nn = d->nnics < VMD_MAX_NICS ? d->nnics : VMD_MAX_NICS;
	if (d->error[0])
		return;
	if (!nn) {
		line(wr, theme_attr(TH_DISABLED), "This VM has no network adapters.");
		return;
	}
	static const char *const heads[] = {"Adapter", "Model",	      "Switch",
					    "Type",    "MAC address", "Status"};
	static const int widths[] = {10, 8, 14, 9, 19, 0};
	bool live = r && (r->info.state == VM_RUNNING || r->info.state == VM_PAUSED);
	for (int row = -1; row < (int)nn; row++) {
		int y = next_row(wr);
		if (y < 0)
			continue;
		const struct vmd_nic *n = row >= 0 ? &d->nics[row] : NULL;
		const char *cols[6];
		if (n) {
			cols[0] = n->name;
			cols[1] = n->model;
			cols[2] = n->sw[0] ? n->sw : "-";
			cols[3] = n->sw_type[0] ? n->sw_type : "-";
			cols[4] = n->mac[0] ? n->mac : "(on first start)";
			cols[5] = !n->sw[0] ? "No switch" : live ? "Connected" : "-";
		}
		int attr = theme_attr(n ? TH_NORMAL : TH_HEADER);
		int x = 0;
		for (int c = 0; c < 6 && x < wr->w; c++) {
			int w = widths[c] ? widths[c] : wr->w - x;
			if (w > wr->w - x)
				w = wr->w - x;
			const char *s = n ? cols[c] : heads[c];
			int a = attr;
			if (n && c == 5 && !n->sw[0])
				a = theme_attr(TH_DISABLED);
			scr_text(stdscr, y, wr->x + x, w - (widths[c] ? 1 : 0), s, a,
				 wr->con->unicode);
			x += w;
		}
	}
}

static void tab_checkpoints(struct writer *wr, const struct vm_details *d)
{
	if (d->error[0])
		return;
	unsigned n = d->nckpts < VMD_MAX_CKPTS + 1 ? d->nckpts : VMD_MAX_CKPTS + 1;
	if (!n) {
		const struct action_desc *a = action_get(ACT_CHECKPOINT);
		if (a && a->key)
			line(wr, theme_attr(TH_DISABLED), "No checkpoints. Press %c to take one.",
			     a->key);
		else
			line(wr, theme_attr(TH_DISABLED), "No checkpoints.");
		return;
	}
	bool u = wr->con->unicode;
	for (unsigned i = 0; i < n; i++) {
		const struct vmd_ckpt *c = &d->ckpts[i];
		int y = next_row(wr);
		if (y < 0)
			continue;
		unsigned depth = c->depth > 40 ? 40 : c->depth;
		int x = wr->x + (int)depth * 2;
		int room = wr->w - (int)depth * 2;
		if (room <= 0)
			continue;
		if (c->now) {
			scr_text(stdscr, y, x, room, u ? "\u25b6 Now" : "> Now",
				 theme_attr(TH_STATE_RUNNING), u);
			continue;
		}
		char when[32] = "";
		time_t t = (time_t)c->created;
		struct tm tm;
		if (c->created > 0 && localtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
		char text[200];
		snprintf(text, sizeof(text), "%s %s  %s%s", u ? "\u25cf" : "*",
			 c->label[0] ? c->label : c->id, when,
			 c->has_state ? "  (saved state)" : "");
		scr_text(stdscr, y, x, room, text, theme_attr(TH_NORMAL), u);
	}
}

static void write_tab(struct writer *wr, const struct vm_row *r, const struct vm_details *d,
		      enum con_tab tab)
{
	if (d->error[0]) {
		/* What the list knows (Summary: the live figures too), then
		 * why the rest cannot be shown. */
		if (tab == TAB_SUMMARY)
			tab_summary(wr, r, d);
		else if (r)
			field(wr, "State:", list_state_attr(r->info.state), "%s",
			      vm_state_name(r->info.state));
		para(wr, theme_attr(TH_ERROR), d->error);
		if (d->vmconfig[0])
			field(wr, "Settings:", theme_attr(TH_NORMAL), "%s", d->vmconfig);
		line(wr, theme_attr(TH_DISABLED),
		     "Fix the file (or open Settings) to see the rest.");
		return;
	}
	if (!d->cpus) {
		/* vmdetails_load failed (the VM went away, no memory): what the
		 * list knows, and no made-up figures. */
		if (r)
			field(wr, "State:", list_state_attr(r->info.state), "%s",
			      vm_state_name(r->info.state));
		line(wr, theme_attr(TH_DISABLED),
		     "Its settings could not be read; F5 tries again.");
		return;
	}
	switch (tab) {
	case TAB_SUMMARY:
		tab_summary(wr, r, d);
		break;
	case TAB_MEMORY:
		tab_memory(wr, r, d);
		break;
	case TAB_NETWORKING:
		tab_networking(wr, r, d);
		break;
	default:
		tab_checkpoints(wr, d);
		break;
	}
}

static void draw_tabs(struct console *con, const struct screen_layout *lay)
{
	int xs[TAB_COUNT], ws[TAB_COUNT];
	details_tabs(lay->details.w, xs, ws);
	bool compact = ws[0] && ws[0] < (int)strlen(tab_names[0]) + 2;
	int y = lay->details.y;
	for (int t = 0; t < TAB_COUNT; t++) {
		if (!ws[t])
			continue;
		char buf[32];
		snprintf(buf, sizeof(buf), " %s ", compact ? tab_short[t] : tab_names[t]);
		int attr = theme_attr(TH_NORMAL);
		if (t == (int)con->tab)
			attr =
			    theme_attr(con->focus == PANE_DETAILS ? TH_SELECTED : TH_SELECTED_DIM) |
			    A_BOLD;
		scr_text(stdscr, y, lay->details.x + xs[t], ws[t], buf, attr, con->unicode);
		if (t + 1 < TAB_COUNT && ws[t + 1]) {
			scr_vline_char(stdscr, y, lay->details.x + xs[t] + ws[t],
				       theme_attr(TH_BORDER), con->unicode);
		}
	}
}

static void draw_thumb(struct console *con, const struct screen_layout *lay)
{
	const struct screen_rect *t = &lay->thumb;
	int rows = t->h - 1; /* a row for the label */
	thumb_draw(con->thumb, stdscr, t->y, t->x, rows, t->w);
	const char *mode = con->thumb ? thumb_mode(con->thumb) : NULL;
	int pw, ph;
	if (!mode || sscanf(mode, "%dx%d", &pw, &ph) != 2 || pw <= 0 || ph <= 0)
		return;
	/* The label right under the picture (thumb_draw centres it). */
	int cols = t->w, prow = rows;
	hb_fit(pw, ph, t->w, rows, &cols, &prow);
	if (prow < 1 || prow > rows)
		prow = rows;
	if (cols < 1 || cols > t->w)
		cols = t->w;
	int y = t->y + (rows - prow) / 2 + prow;
	int x = t->x + (t->w - cols) / 2;
	char label[64];
	snprintf(label, sizeof(label), "Screen %s", mode);
	scr_text_right(stdscr, y, x, cols, label, theme_attr(TH_DISABLED), con->unicode);
}

void details_draw(struct console *con, const struct screen_layout *lay)
{
	const struct vm_details *d = &con->details;
	bool focused = con->focus == PANE_DETAILS;
	const struct screen_rect *p = &lay->details;
	char title[96];
	snprintf(title, sizeof(title), "%s", d->name[0] ? d->name : "Details");
	scr_frame(stdscr, p, title, focused, con->unicode);
	if (p->h < 2 || p->w < 4)
		return;
	draw_tabs(con, lay);

	if (!d->name[0]) {
		scr_text(stdscr, p->y + 2 < p->y + p->h ? p->y + 2 : p->y + 1, p->x + 1, p->w - 1,
			 "No virtual machine is selected.", theme_attr(TH_DISABLED), con->unicode);
		return;
	}
	const struct vm_row *r = details_row(con);
	/* The thumbnail while the VM has a screen to show; the text takes
	 * the room otherwise. */
	bool thumb = con->tab == TAB_SUMMARY && lay->thumb.w && !d->error[0] && r &&
		     has_worker(r->info.state);
	struct writer wr = {
	    .con = con,
	    .y = p->y + 1,
	    .x = p->x + 1,
	    .h = p->h - 1,
	    .w = (thumb ? lay->thumb.x - 1 - p->x : p->w) - 1,
	};

	/* Count, keep details_top in range, then draw. */
	write_tab(&wr, r, d, con->tab);
	unsigned total = wr.n;
	unsigned max_top = total > (unsigned)wr.h ? total - (unsigned)wr.h : 0;
	if (con->details_top > max_top)
		con->details_top = max_top;
	wr.top = con->details_top;
	wr.n = 0;
	wr.draw = true;
	write_tab(&wr, r, d, con->tab);

	if (thumb)
		draw_thumb(con, lay);

	/* More above or below: said on the frame. */
	int attr = theme_attr(focused ? TH_FOCUS_BORDER : TH_BORDER);
	bool u = con->unicode;
	if (wr.top > 0)
		scr_text(stdscr, p->y - 1, p->x + p->w - 9, 8, u ? " \u2191 more " : " ^ more ",
			 attr, u);
	if (wr.top + (unsigned)wr.h < total)
		scr_text(stdscr, p->y + p->h, p->x + p->w - 9, 8, u ? " \u2193 more " : " v more ",
			 attr, u);
}
