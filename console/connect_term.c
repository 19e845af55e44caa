/* Connect in the terminal (connectview.h's connect_terminal): the VM's
 * screen at full size on a panel of its own, text modes cell for cell from
 * display-text, graphics modes as half blocks from the shared picture, and
 * every key typed sent to the VM until Ctrl-] comes back. */
#include "connect/sharedfb.h"
#include "console/connect_text.h"
#include "console/connectview.h"
#include "console/console.h"
#include "console/halfblock.h"
#include "console/loop.h"
#include "console/termkeys.h"
#include "console/theme.h"
#include "console/widgets.h"
#include "hypervisor/ctlclient.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ncursesw/panel.h>

#define REFRESH_MS 50	/* at most 20 pictures a second */
#define SETUP_MS   3000 /* for connecting and the first requests */
#define PREFIX_MS  1000 /* how long Ctrl-] waits for its second key */
#define WAKE_MS	   250	/* how often the view looks whether it must end */
#define DETACH_KEY 0x1d /* Ctrl-] */

enum mode { MODE_UNKNOWN, MODE_TEXT, MODE_GRAPHICS };

struct view {
	struct console *con;
	const char *name;
	struct ctl_client *ctl;
	int ctl_fd;
	WINDOW *win;
	PANEL *panel;

	enum mode mode;
	struct sharedfb fb;
	struct conn_text text; /* the last display-text answer */
	struct conn_text_colours tc;

	/* Half blocks of the picture at the size the terminal gives it. */
	struct hb_cell *cells;
	int cell_cols, cell_rows;
	bool rect_dirty; /* rect holds pixels changed since the cells were made */
	bool full_dirty; /* the cells must be made again */
	struct sharedfb_rect rect;

	/* Refreshing: an update came; a timer applies it at most every
	 * REFRESH_MS; a display-text request is in flight. */
	bool update_pending;
	int timer;
	uint64_t last_refresh;
	long long text_id; /* the display-text request in flight, 0 none */
	bool text_again;   /* an update came while it was in flight */
	bool requery;	   /* ask display-text again (the mode may have changed) */
	bool redraw;	   /* the window must be drawn again */

	char state[16]; /* "running", "paused", ... */
	bool gone;	/* the VM went away: leave */
	char why[300];	/* ... saying this */
	char note[160]; /* the last error the VM answered a key with */
	bool prefix;	/* Ctrl-] typed: the next key is for the view */
	uint64_t prefix_until;
};

/* --- picture and refreshing ---------------------------------------------- */

static void arm_refresh(struct view *v);
static void draw_view(struct view *v);

/* Shows text (the VM's words) on the top line until the next key: one
 * line, control characters as '?'. */
static void set_note(struct view *v, const char *text)
{
	snprintf(v->note, sizeof(v->note), "%s", text);
	for (char *p = v->note; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	v->redraw = true;
}

static void add_rect(struct view *v, const struct sharedfb_rect *r)
{
	if (!v->rect_dirty) {
		v->rect = *r;
		v->rect_dirty = true;
		return;
	}
	int x0 = r->x < v->rect.x ? r->x : v->rect.x;
	int y0 = r->y < v->rect.y ? r->y : v->rect.y;
	int x1 = r->x + r->w > v->rect.x + v->rect.w ? r->x + r->w : v->rect.x + v->rect.w;
	int y1 = r->y + r->h > v->rect.y + v->rect.h ? r->y + r->h : v->rect.y + v->rect.h;
	v->rect = (struct sharedfb_rect){x0, y0, x1 - x0, y1 - y0};
}

static void on_update(struct view *v, json_t *data)
{
	json_t *rects = json_object_get(data, "rects");
	size_t i;
	json_t *r;
	json_array_foreach(rects, i, r)
	{
		struct sharedfb_rect c;
		json_t *x = json_array_get(r, 0), *y = json_array_get(r, 1);
		json_t *w = json_array_get(r, 2), *h = json_array_get(r, 3);
		if (!json_is_integer(x) || !json_is_integer(y) || !json_is_integer(w) ||
		    !json_is_integer(h))
			continue;
		if (sharedfb_clip(&v->fb, json_integer_value(x), json_integer_value(y),
				  json_integer_value(w), json_integer_value(h), &c))
			add_rect(v, &c);
	}
	v->update_pending = true;
	arm_refresh(v);
}

static void on_resize(struct view *v, json_t *data, int fd)
{
	struct sharedfb_geometry g;
	char err[sizeof(v->note)];
	int r = sharedfb_parse(data, &g, err, sizeof(err));
	if (r < 0 && fd >= 0)
		close(fd);
	else if (r == 0)
		r = sharedfb_map(&v->fb, &g, fd, err, sizeof(err)); /* closes fd */
	if (r < 0) {
		/* The old picture stays; say why it does not change. */
		set_note(v, err);
		return;
	}
	/* A new mode: text or graphics, the cells made again either way. */
	v->full_dirty = true;
	v->requery = true;
	v->update_pending = true;
	arm_refresh(v);
}

static void on_state(struct view *v, json_t *data)
{
	const char *s = json_string_value(json_object_get(data, "state"));
	if (!s)
		return;
	snprintf(v->state, sizeof(v->state), "%s", s);
	v->redraw = true;
	if (strcmp(s, "off") != 0)
		return;
	json_t *st = json_object_get(data, "status");
	long long status = json_is_integer(st) ? json_integer_value(st) : 0;
	v->gone = true;
	if (status == 0)
		snprintf(v->why, sizeof(v->why), "%s turned off.", v->name);
	else if (status == 4)
		snprintf(v->why, sizeof(v->why), "%s was saved.", v->name);
	else if (status == 3)
		snprintf(v->why, sizeof(v->why), "%s stopped: the guest crashed.", v->name);
	else
		snprintf(v->why, sizeof(v->why), "%s stopped (status %lld).", v->name, status);
}

static void on_event(void *opaque, const char *name, json_t *data, int fd)
{
	struct view *v = opaque;
	if (!strcmp(name, "display-resize")) {
		on_resize(v, data, fd);
		return;
	}
	if (fd >= 0)
		close(fd);
	if (!strcmp(name, "display-update"))
		on_update(v, data);
	else if (!strcmp(name, "state"))
		on_state(v, data);
	else if (!strcmp(name, "error")) {
		const char *m = json_string_value(json_object_get(data, "message"));
		if (m)
			set_note(v, m);
	}
}

static void on_reply(void *opaque, long long id, json_t *ret, const char *cls, const char *desc)
{
	struct view *v = opaque;
	(void)cls;
	if (id != v->text_id) {
		/* A key the VM did not take. */
		if (!ret)
			set_note(v, desc ? desc : "a key was refused");
		return;
	}
	v->text_id = 0;
	if (ret) {
		char err[160];
		if (conn_text_parse(&v->text, ret, err, sizeof(err)) == 0) {
			v->mode = MODE_TEXT;
		} else {
			set_note(v, err);
			v->mode = MODE_GRAPHICS;
		}
	} else {
		/* "unavailable": a graphics mode; any other refusal (an older
		 * worker without display-text) shows the picture too. */
		if (v->mode != MODE_GRAPHICS)
			v->full_dirty = true;
		v->mode = MODE_GRAPHICS;
	}
	v->redraw = true;
	if (v->text_again) {
		v->text_again = false;
		v->update_pending = true;
		arm_refresh(v);
	}
}

static void ask_text(struct view *v)
{
	if (v->text_id) {
		v->text_again = true;
		return;
	}
	long long id = 0;
	if (ctl_send(v->ctl, "display-text", NULL, &id) == 0)
		v->text_id = id;
}

static void refresh_now(void *opaque)
{
	struct view *v = opaque;
	v->timer = 0;
	if (!v->update_pending)
		return;
	v->update_pending = false;
	v->last_refresh = loop_now_ms();
	if (v->mode != MODE_GRAPHICS || v->requery) {
		v->requery = false;
		ask_text(v);
	}
	if (v->mode == MODE_GRAPHICS)
		draw_view(v); /* shown by con_getkey's next pass, without waiting for a key */
}

static void arm_refresh(struct view *v)
{
	if (v->timer > 0)
		return;
	uint64_t since = loop_now_ms() - v->last_refresh;
	unsigned wait = since >= REFRESH_MS ? 0 : (unsigned)(REFRESH_MS - since);
	int id = loop_timer(v->con->loop, wait, refresh_now, v);
	if (id > 0)
		v->timer = id;
	else
		refresh_now(v); /* no timer: at once rather than never */
}

static void on_ctl(void *opaque, int fd, short revents)
{
	struct view *v = opaque;
	(void)revents;
	int r = ctl_read(v->ctl, 0);
	if (r >= 0) {
		if (v->redraw)
			draw_view(v);
		return;
	}
	loop_unwatch(v->con->loop, fd);
	v->ctl_fd = -1;
	if (!v->gone) {
		v->gone = true;
		if (r == -ECONNRESET)
			snprintf(v->why, sizeof(v->why),
				 "%s: the VM closed the connection (it stopped).", v->name);
		else
			snprintf(v->why, sizeof(v->why), "%s", ctl_error(v->ctl));
	}
}

/* --- drawing -------------------------------------------------------------- */

static void draw_top(struct view *v)
{
	int w = getmaxx(v->win);
	char left[200], mode[48] = "";
	if (v->mode == MODE_TEXT)
		snprintf(mode, sizeof(mode), "text %dx%d", v->text.cols, v->text.rows);
	else if (v->mode == MODE_GRAPHICS && v->fb.pixels)
		snprintf(mode, sizeof(mode), "%dx%d", v->fb.width, v->fb.height);
	else if (v->mode == MODE_GRAPHICS)
		snprintf(mode, sizeof(mode), "no picture");
	snprintf(left, sizeof(left), " %s  %s%s%s ", v->name, mode,
		 strcmp(v->state, "running") && v->state[0] ? "  " : "",
		 strcmp(v->state, "running") ? v->state : "");
	const char *help;
	if (v->prefix)
		help = "d: send Ctrl-Alt-Del   ]: send Ctrl-]   any other key: back to the "
		       "console";
	else if (v->note[0])
		help = v->note;
	else if (w >= (int)strlen(left) + 73)
		help = "Ctrl-] returns to the console, Ctrl-] then d sends Ctrl-Alt-Del";
	else
		help = "Ctrl-] back, Ctrl-] d: Ctrl-Alt-Del";
	wattrset(v->win, theme_attr(TH_TITLE));
	wmove(v->win, 0, 0);
	whline(v->win, ' ', w);
	mvwaddnstr(v->win, 0, 0, left, w);
	int room = w - (int)strlen(left) - 1;
	if (room > 0) {
		int len = (int)strlen(help);
		int x = w - 1 - (len < room ? len : room);
		if (v->prefix || v->note[0])
			wattron(v->win, A_BOLD);
		mvwaddnstr(v->win, 0, x, help, room);
	}
	wattrset(v->win, A_NORMAL);
}

static void draw_graphics(struct view *v, int top, int h, int w)
{
	if (!v->fb.pixels) {
		const char *s = "The VM's screen shows no picture.";
		mvwaddnstr(v->win, top + h / 2, w > (int)strlen(s) ? (w - (int)strlen(s)) / 2 : 0,
			   s, w);
		return;
	}
	int cols, rows;
	hb_fit(v->fb.width, v->fb.height, w, h, &cols, &rows);
	if (cols < 1 || rows < 1)
		return;
	if (cols != v->cell_cols || rows != v->cell_rows || !v->cells) {
		struct hb_cell *c = calloc((size_t)cols * (size_t)rows, sizeof(*c));
		if (!c)
			return;
		free(v->cells);
		v->cells = c;
		v->cell_cols = cols;
		v->cell_rows = rows;
		v->full_dirty = true;
	}
	if (v->full_dirty)
		hb_scale(&v->fb, cols, rows, v->cells);
	else if (v->rect_dirty)
		hb_scale_rect(&v->fb, &v->rect, cols, rows, v->cells);
	v->full_dirty = false;
	v->rect_dirty = false;
	hb_draw(v->win, top + (h - rows) / 2, (w - cols) / 2, cols, rows, v->cells, v->con);
}

static void draw_view(struct view *v)
{
	int h = getmaxy(v->win) - 1, w = getmaxx(v->win);
	v->redraw = false;
	werase(v->win);
	draw_top(v);
	bool cursor = false;
	if (h > 0 && v->mode == MODE_TEXT) {
		conn_text_colours_update(&v->tc, &v->text, v->con);
		cursor = conn_text_draw(&v->text, &v->tc, v->win, 1, h, w, v->con->unicode);
	} else if (h > 0 && v->mode == MODE_GRAPHICS) {
		draw_graphics(v, 1, h, w);
	}
	curs_set(cursor ? 1 : 0);
	leaveok(v->win, !cursor);
	wnoutrefresh(v->win);
}

/* --- keys ----------------------------------------------------------------- */

static void send_combo(struct view *v, const char *combo)
{
	json_t *args = json_pack("{s:s}", "keys", combo);
	if (!args)
		return;
	if (ctl_send(v->ctl, "send-key", args, NULL) < 0)
		set_note(v, ctl_error(v->ctl));
}

static void send_key(struct view *v, int key, bool alt)
{
	char combo[TERMKEY_MAX];
	int r = -ENOENT;
	if (con_is_char(key))
		r = termkey_combo(con_char(key) < KEY_MIN ? con_char(key) : -1, alt, combo,
				  sizeof(combo));
	else if (key > KEY_MAX)
		r = termkey_combo_name(keyname(key), combo, sizeof(combo));
	else
		r = termkey_combo(key, alt, combo, sizeof(combo));
	if (r == 0) {
		if (v->note[0]) {
			v->note[0] = '\0';
			v->redraw = true;
		}
		send_combo(v, combo);
	}
}

/* Ctrl-] was typed, then key: returns true to leave the view. */
static bool prefix_key(struct view *v, int key)
{
	v->prefix = false;
	v->redraw = true;
	if (key == 'd' || key == 'D') {
		send_combo(v, "ctrl-alt-delete");
		return false;
	}
	if (key == ']' || key == DETACH_KEY) {
		send_combo(v, "ctrl-rightbrace");
		return false;
	}
	return true;
}

static void key_loop(struct view *v)
{
	for (;;) {
		if (v->redraw)
			draw_view(v);
		if (v->gone)
			return;
		int key = con_getkey_timeout(v->con, WAKE_MS);
		if (key == ERR) {
			if (v->prefix && loop_now_ms() >= v->prefix_until)
				return; /* Ctrl-] alone: back to the console */
			continue;
		}
		if (key == KEY_RESIZE) {
			wresize(v->win, LINES, COLS);
			replace_panel(v->panel, v->win);
			v->full_dirty = true;
			v->redraw = true;
			continue;
		}
		if (key == KEY_MOUSE)
			continue;
		if (v->prefix) {
			if (prefix_key(v, key))
				return;
			continue;
		}
		if (key == DETACH_KEY) {
			v->prefix = true;
			v->prefix_until = loop_now_ms() + PREFIX_MS;
			v->redraw = true;
			continue;
		}
		if (key == 0x1b) {
			/* Esc and a key at once: Alt with that key. */
			int next = con_getkey_timeout(v->con, 0);
			if (next != ERR && next != KEY_RESIZE && next != KEY_MOUSE &&
			    next != 0x1b && next != DETACH_KEY) {
				send_key(v, next, true);
				continue;
			}
			send_key(v, 0x1b, false);
			if (next == ERR)
				continue;
			key = next;
			if (key == DETACH_KEY || key == KEY_RESIZE) {
				ungetch(key); /* handled as if typed alone */
				continue;
			}
		}
		send_key(v, key, false);
	}
}

/* --- setting up ----------------------------------------------------------- */

static int attach(struct view *v, char *err, size_t errlen)
{
	static const struct ctl_handlers handlers = {.event = on_event, .reply = on_reply};
	struct ctl_handlers h = handlers;
	h.opaque = v;
	int r = ctl_open_timeout(v->name, &h, &v->ctl, err, errlen, SETUP_MS);
	if (r < 0)
		return r;

	json_t *ret = NULL;
	if (ctl_call(v->ctl, "query-status", NULL, &ret, NULL, SETUP_MS) == 0) {
		const char *s = json_string_value(json_object_get(ret, "state"));
		snprintf(v->state, sizeof(v->state), "%s", s ? s : "");
		json_decref(ret);
		ret = NULL;
	}

	int fd = -1;
	r = ctl_call(v->ctl, "display-attach", NULL, &ret, &fd, SETUP_MS);
	if (r == -EREMOTEIO && !strcmp(ctl_error_class(v->ctl), "unavailable")) {
		snprintf(err, errlen,
			 "%s has no display adapter. Its serial console is under Connect > "
			 "Serial console.",
			 v->name);
		return -ENODEV;
	}
	if (r < 0) {
		snprintf(err, errlen, "%s", ctl_error(v->ctl));
		return r;
	}
	struct sharedfb_geometry g;
	r = sharedfb_parse(ret, &g, err, errlen);
	json_decref(ret);
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		return r;
	}
	r = sharedfb_map(&v->fb, &g, fd, err, errlen);
	if (r < 0)
		return r;

	/* Text or graphics: the first answer at once, later ones on the loop. */
	r = ctl_call(v->ctl, "display-text", NULL, &ret, NULL, SETUP_MS);
	if (r == 0) {
		char why[160];
		if (conn_text_parse(&v->text, ret, why, sizeof(why)) == 0)
			v->mode = MODE_TEXT;
		else
			v->mode = MODE_GRAPHICS;
		json_decref(ret);
	} else if (r == -EREMOTEIO) {
		v->mode = MODE_GRAPHICS;
	} else {
		snprintf(err, errlen, "%s", ctl_error(v->ctl));
		return r;
	}
	v->full_dirty = true;
	v->ctl_fd = ctl_fd(v->ctl);
	r = loop_watch(v->con->loop, v->ctl_fd, POLLIN, on_ctl, v);
	if (r < 0) {
		v->ctl_fd = -1;
		snprintf(err, errlen, "out of memory");
	}
	return r;
}

static void detach(struct view *v)
{
	if (v->timer > 0)
		loop_cancel(v->con->loop, v->timer);
	if (v->ctl_fd >= 0)
		loop_unwatch(v->con->loop, v->ctl_fd);
	ctl_close(v->ctl); /* the worker releases keys still held */
	sharedfb_unmap(&v->fb);
	conn_text_free(&v->text);
	free(v->cells);
	if (v->panel)
		del_panel(v->panel);
	if (v->win)
		delwin(v->win);
}

void connect_terminal(struct console *con, const char *name)
{
	struct view v = {.con = con, .name = name, .ctl_fd = -1};
	char err[512] = "";
	int r = attach(&v, err, sizeof(err));
	if (r < 0) {
		detach(&v);
		dlg_message(con, "Connect", "Cannot show the screen of %s:\n\n%s", name, err);
		return;
	}
	v.win = newwin(LINES, COLS, 0, 0);
	v.panel = v.win ? new_panel(v.win) : NULL;
	if (!v.panel) {
		detach(&v);
		dlg_message(con, "Connect", "Cannot show the screen of %s: out of memory", name);
		return;
	}
	top_panel(v.panel);
	v.redraw = true;
	/* Ctrl-C, Ctrl-Z, Ctrl-\, Ctrl-S and Ctrl-Q are keys for the VM here,
	 * not signals or flow control for the console. */
	raw();
	key_loop(&v);
	noraw();
	cbreak();
	bool gone = v.gone;
	char why[sizeof(v.why)];
	snprintf(why, sizeof(why), "%s", v.why);
	detach(&v);
	curs_set(0);
	touchwin(stdscr);
	con_dirty(con);
	if (gone)
		con_say(con, "%s", why);
	else
		con_say(con, "Back from the screen of %s.", name);
}
