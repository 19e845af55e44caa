/* The console's main screen (screen.h): the layout for the terminal's size,
 * the title and status lines, the whole screen drawn on stdscr, mouse hit
 * testing, and the text and frame drawing the panes share (screen_priv.h). */
#include "console/screen_priv.h"

#include "console/theme.h"
#include "hypervisor/kvm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

/* Below this the screen only says "Terminal too small". */
#define MIN_COLS 40
#define MIN_ROWS 12
/* The Actions pane shows from this width on. */
#define ACTIONS_MIN_COLS 100
/* The thumbnail: at least this big, and this much room left for text. */
#define THUMB_MIN_COLS	24
#define THUMB_MIN_ROWS	8
#define THUMB_TEXT_COLS 40

/* --- text ----------------------------------------------------------------------------------- */

/* The next character of s: its wide character (invalid bytes and control
 * characters: '?'), its columns, and the bytes it takes. */
static size_t next_char(const char *s, wchar_t *wc, int *cols)
{
	mbstate_t st;
	memset(&st, 0, sizeof(st));
	size_t n = mbrtowc(wc, s, MB_CUR_MAX, &st);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		*wc = L'?';
		*cols = 1;
		return 1;
	}
	int w = wcwidth(*wc);
	if (w < 0 || (*wc < 0x20) || (*wc >= 0x7f && *wc < 0xa0)) {
		*wc = L'?';
		w = 1;
	}
	*cols = w;
	return n;
}

int scr_width(const char *s)
{
	int cols = 0;
	while (*s) {
		wchar_t wc;
		int w;
		s += next_char(s, &wc, &w);
		cols += w;
	}
	return cols;
}

int scr_text(WINDOW *w, int y, int x, int width, const char *s, int attr, bool unicode)
{
	int maxy = getmaxy(w), maxx = getmaxx(w);
	if (y < 0 || y >= maxy || x < 0 || x >= maxx || width <= 0)
		return 0;
	if (width > maxx - x)
		width = maxx - x;
	bool fits = scr_width(s) <= width;
	/* Room for the ellipsis when the text is cut. */
	int room = fits ? width : width - 1;
	wchar_t buf[512];
	int n = 0, cols = 0;
	while (*s && n < (int)(sizeof(buf) / sizeof(buf[0])) - 2) {
		wchar_t wc;
		int cw;
		size_t len = next_char(s, &wc, &cw);
		if (cols + cw > room)
			break;
		buf[n++] = wc;
		cols += cw;
		s += len;
	}
	if (!fits) {
		buf[n++] = unicode ? L'\u2026' : L'~';
		cols++;
	}
	buf[n] = 0;
	wattrset(w, attr);
	mvwaddnwstr(w, y, x, buf, n);
	wattrset(w, A_NORMAL);
	return cols;
}

int scr_text_right(WINDOW *w, int y, int x, int width, const char *s, int attr, bool unicode)
{
	int cols = scr_width(s);
	if (cols < width)
		x += width - cols;
	return scr_text(w, y, x, cols < width ? cols : width, s, attr, unicode);
}

void scr_fill(WINDOW *w, int y, int x, int width, int attr)
{
	int maxy = getmaxy(w), maxx = getmaxx(w);
	if (y < 0 || y >= maxy || x < 0 || x >= maxx || width <= 0)
		return;
	if (width > maxx - x)
		width = maxx - x;
	wattrset(w, attr);
	mvwhline(w, y, x, ' ', width);
	wattrset(w, A_NORMAL);
}

bool scr_inside(const struct screen_rect *r, int y, int x)
{
	return r->h > 0 && r->w > 0 && y >= r->y && y < r->y + r->h && x >= r->x && x < r->x + r->w;
}

/* A line-drawing character in attr: Unicode (WACS_*) where the locale is
 * UTF-8, the terminal's alternate character set (ACS_*) otherwise. */
static void line_char(const cchar_t *wacs, int attr, cchar_t *out)
{
	wchar_t wc[CCHARW_MAX + 1] = {0};
	attr_t a;
	short pair;
	if (getcchar(wacs, wc, &a, &pair, NULL) == ERR)
		wc[0] = L'+', a = 0;
	setcchar(out, wc, (a | (attr_t)attr) & ~A_COLOR, (short)PAIR_NUMBER(attr), NULL);
}

void scr_vline_char(WINDOW *w, int y, int x, int attr, bool unicode)
{
	if (y < 0 || y >= getmaxy(w) || x < 0 || x >= getmaxx(w))
		return;
	if (unicode) {
		cchar_t c;
		line_char(WACS_VLINE, attr, &c);
		mvwadd_wch(w, y, x, &c);
	} else {
		wattrset(w, attr);
		mvwaddch(w, y, x, ACS_VLINE);
		wattrset(w, A_NORMAL);
	}
}

void scr_box(WINDOW *w, int top, int left, int h, int wd, int attr, bool unicode)
{
	int bottom = top + h - 1, right = left + wd - 1;
	if (h < 2 || wd < 2 || top < 0 || left < 0 || bottom >= getmaxy(w) || right >= getmaxx(w))
		return;
	if (unicode) {
		cchar_t hl, vl, ul, ur, ll, lr;
		line_char(WACS_HLINE, attr, &hl);
		line_char(WACS_VLINE, attr, &vl);
		line_char(WACS_ULCORNER, attr, &ul);
		line_char(WACS_URCORNER, attr, &ur);
		line_char(WACS_LLCORNER, attr, &ll);
		line_char(WACS_LRCORNER, attr, &lr);
		mvwhline_set(w, top, left + 1, &hl, wd - 2);
		mvwhline_set(w, bottom, left + 1, &hl, wd - 2);
		mvwvline_set(w, top + 1, left, &vl, h - 2);
		mvwvline_set(w, top + 1, right, &vl, h - 2);
		mvwadd_wch(w, top, left, &ul);
		mvwadd_wch(w, top, right, &ur);
		mvwadd_wch(w, bottom, left, &ll);
		mvwadd_wch(w, bottom, right, &lr);
	} else {
		wattrset(w, attr);
		mvwhline(w, top, left + 1, ACS_HLINE, wd - 2);
		mvwhline(w, bottom, left + 1, ACS_HLINE, wd - 2);
		mvwvline(w, top + 1, left, ACS_VLINE, h - 2);
		mvwvline(w, top + 1, right, ACS_VLINE, h - 2);
		mvwaddch(w, top, left, ACS_ULCORNER);
		mvwaddch(w, top, right, ACS_URCORNER);
		mvwaddch(w, bottom, left, ACS_LLCORNER);
		mvwaddch(w, bottom, right, ACS_LRCORNER);
		wattrset(w, A_NORMAL);
	}
}

void scr_frame(WINDOW *w, const struct screen_rect *in, const char *title, bool focused,
	       bool unicode)
{
	int top = in->y - 1, left = in->x - 1;
	if (top < 0 || left < 0 || in->y + in->h >= getmaxy(w) || in->x + in->w >= getmaxx(w))
		return;
	scr_box(w, top, left, in->h + 2, in->w + 2,
		theme_attr(focused ? TH_FOCUS_BORDER : TH_BORDER), unicode);
	if (title && title[0] && in->w > 4) {
		char t[160];
		snprintf(t, sizeof(t), " %s ", title);
		int tattr = theme_attr(TH_TITLE);
		if (focused)
			tattr |= A_BOLD;
		scr_text(w, top, left + 2, in->w - 2, t, tattr, unicode);
	}
}

/* --- layout --------------------------------------------------------------------------------- */

static struct screen_rect rect(int y, int x, int h, int w)
{
	return (struct screen_rect){y, x, h, w};
}

void screen_layout(struct console *con, struct screen_layout *lay)
{
	int rows = LINES, cols = COLS;

	memset(lay, 0, sizeof(*lay));
	con->rows = rows;
	con->cols = cols;
	lay->list_rows = 1;
	if (rows < MIN_ROWS || cols < MIN_COLS)
		return; /* too small: nothing but the message */

	lay->bar = rect(rows - 2, 0, 1, cols);
	lay->status = rect(rows - 1, 0, 1, cols);

	/* Panes between the title line and the key bar. */
	int h = rows - 3;
	int aw = 0;
	if (cols >= ACTIONS_MIN_COLS)
		aw = cols >= 160 ? 32 : 26;
	int lw = cols - aw;

	/* The details pane: what a Summary needs, the list the rest (at
	 * least its frame, header and two rows). */
	int dh = h - h * 2 / 5;
	if (dh < 11)
		dh = 11;
	if (dh > 22)
		dh = 22;
	if (dh > h - 5)
		dh = h - 5;
	int lh = h - dh;

	lay->list = rect(2, 1, lh - 2, lw - 2);
	lay->list_rows = lay->list.h - 1 > 0 ? lay->list.h - 1 : 1;
	lay->details = rect(1 + lh + 1, 1, dh - 2, lw - 2);
	if (aw)
		lay->actions = rect(2, lw + 1, h - 2, aw - 2);

	/* The thumbnail at the right of the details, under the tabs row,
	 * above its label row. */
	int th = lay->details.h - 2;
	if (th >= THUMB_MIN_ROWS - 1 && lay->details.w >= THUMB_MIN_COLS + 1 + THUMB_TEXT_COLS) {
		/* About 4:3 with two pixels a cell. */
		int tw = th * 8 / 3;
		if (tw > lay->details.w / 2)
			tw = lay->details.w / 2;
		if (tw > lay->details.w - 1 - THUMB_TEXT_COLS)
			tw = lay->details.w - 1 - THUMB_TEXT_COLS;
		if (tw < THUMB_MIN_COLS)
			tw = THUMB_MIN_COLS;
		lay->thumb = rect(lay->details.y + 1, lay->details.x + lay->details.w - tw, th, tw);
	}
}

/* --- drawing -------------------------------------------------------------------------------- */

/* --- KVM unavailable (issue 9) ---------------------------------------------------------------
 * When VMs cannot run here, the title line says why and how to fix it in the error colour after
 * the VM counts, in place of the host name (cut with an ellipsis where it does not fit): the line
 * of kvm_check_access, asked again every few seconds so that a fix (modprobe, a group) shows
 * without restarting the console. Start then fails with the same line (osio start's). */
#define KVM_RECHECK_NS (5 * 1000000000ll)

static const char *kvm_problem(void)
{
	static char why[512];
	static long long checked_ns = -KVM_RECHECK_NS;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	long long now = (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
	if (now - checked_ns >= KVM_RECHECK_NS) {
		checked_ns = now;
		if (kvm_check_access(why, sizeof(why)) == 0)
			why[0] = 0;
	}
	return why;
}

static void draw_title(struct console *con)
{
	struct vm_model *m = &con->model;
	char left[256], right[128];
	unsigned running = model_count_running(m);

	snprintf(left, sizeof(left), " osio - %u virtual machine%s, %u running", m->n,
		 m->n == 1 ? "" : "s", running);
	if (m->filter[0]) {
		size_t l = strlen(left);
		snprintf(left + l, sizeof(left) - l, "   Filter: %s (%u shown)", m->filter,
			 m->nview);
	}
	char host[64] = "";
	if (gethostname(host, sizeof(host)) < 0)
		host[0] = 0;
	host[sizeof(host) - 1] = 0;
	snprintf(right, sizeof(right), "%s ", host);

	int attr = theme_attr(TH_TITLE);
	scr_fill(stdscr, 0, 0, COLS, attr);
	int used = scr_text(stdscr, 0, 0, COLS, left, attr | A_BOLD, con->unicode);
	const char *kvm = kvm_problem();
	if (kvm[0] && used + 3 < COLS) {
		scr_text(stdscr, 0, used + 2, COLS - used - 3, kvm, theme_attr(TH_ERROR),
			 con->unicode);
		return;
	}
	int rw = scr_width(right);
	if (host[0] && used + 2 + rw <= COLS)
		scr_text(stdscr, 0, COLS - rw, rw, right, attr, con->unicode);
}

static void draw_status(struct console *con, const struct screen_layout *lay)
{
	const char *msg = con->message;
	if (!msg[0] && con->focus == PANE_ACTIONS && lay->actions.w) {
		enum con_action acts[ACT_COUNT];
		unsigned n = screen_actions(con, acts, ACT_COUNT);
		if (con->action_sel >= 0 && (unsigned)con->action_sel < n) {
			const struct action_desc *d = action_get(acts[con->action_sel]);
			if (d && d->help)
				msg = d->help;
		}
	}
	int attr = theme_attr(TH_STATUS);
	scr_fill(stdscr, lay->status.y, 0, lay->status.w, attr);
	scr_text(stdscr, lay->status.y, 1, lay->status.w - 1, msg, attr, con->unicode);
}

static void draw_too_small(struct console *con)
{
	const char *msg = "Terminal too small";
	int w = (int)strlen(msg);
	int y = LINES / 2, x = COLS > w ? (COLS - w) / 2 : 0;
	scr_text(stdscr, y, x, COLS - x, msg, theme_attr(TH_ERROR), con->unicode);
	if (LINES > 2 && COLS >= 20) {
		char need[64];
		snprintf(need, sizeof(need), "(needs %dx%d)", MIN_COLS, MIN_ROWS);
		int nw = (int)strlen(need);
		scr_text(stdscr, y + 1, COLS > nw ? (COLS - nw) / 2 : 0, COLS, need,
			 theme_attr(TH_NORMAL), con->unicode);
	}
}

void screen_draw(struct console *con, const struct screen_layout *lay)
{
	werase(stdscr);
	if (!lay->bar.w) {
		draw_too_small(con);
		wnoutrefresh(stdscr);
		return;
	}
	draw_title(con);
	list_draw(con, lay);
	details_draw(con, lay);
	if (lay->actions.w)
		actions_draw(con, lay);
	keybar_draw(con, lay);
	draw_status(con, lay);
	wnoutrefresh(stdscr);
}

/* --- mouse ---------------------------------------------------------------------------------- */

/* r with its frame. */
static struct screen_rect framed(const struct screen_rect *r)
{
	if (!r->w || !r->h)
		return *r;
	return rect(r->y - 1, r->x - 1, r->h + 2, r->w + 2);
}

static struct screen_hit hit(enum screen_hit_kind kind, int index)
{
	return (struct screen_hit){kind, index};
}

struct screen_hit screen_hit_test(struct console *con, const struct screen_layout *lay, int y,
				  int x)
{
	if (!lay->bar.w)
		return hit(HIT_NONE, 0);

	if (y == lay->bar.y) {
		if (con->editing_filter)
			return hit(HIT_NONE, 0);
		struct keybar_entry e[KEYBAR_MAX];
		unsigned n = keybar_entries(con, lay->bar.w, e, KEYBAR_MAX);
		for (unsigned i = 0; i < n; i++)
			if (x >= e[i].x && x < e[i].x + e[i].w)
				return hit(HIT_ACTION, e[i].action);
		return hit(HIT_NONE, 0);
	}

	struct screen_rect lf = framed(&lay->list);
	if (scr_inside(&lf, y, x)) {
		if (scr_inside(&lay->list, y, x) && y > lay->list.y) {
			unsigned vi = con->model.top + (unsigned)(y - lay->list.y - 1);
			if (vi < con->model.nview)
				return hit(HIT_VM, (int)vi);
		}
		return hit(HIT_PANE, PANE_LIST);
	}

	struct screen_rect df = framed(&lay->details);
	if (scr_inside(&df, y, x)) {
		if (y == lay->details.y && scr_inside(&lay->details, y, x)) {
			int xs[TAB_COUNT], ws[TAB_COUNT];
			details_tabs(lay->details.w, xs, ws);
			int rx = x - lay->details.x;
			for (int t = 0; t < TAB_COUNT; t++)
				if (ws[t] && rx >= xs[t] && rx < xs[t] + ws[t])
					return hit(HIT_TAB, t);
		}
		return hit(HIT_PANE, PANE_DETAILS);
	}

	struct screen_rect af = framed(&lay->actions);
	if (scr_inside(&af, y, x)) {
		if (scr_inside(&lay->actions, y, x)) {
			struct actions_row rows[ACTIONS_ROWS_MAX];
			unsigned n = actions_rows(con, rows, ACTIONS_ROWS_MAX);
			unsigned first = actions_first(con, rows, n, lay->actions.h);
			unsigned i = first + (unsigned)(y - lay->actions.y);
			if (i < n && rows[i].action >= 0)
				return hit(HIT_ACTION, rows[i].action);
		}
		return hit(HIT_PANE, PANE_ACTIONS);
	}
	return hit(HIT_NONE, 0);
}
