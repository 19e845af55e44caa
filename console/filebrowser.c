/* dlg_file: the console's file browser, a box with the folder's path (which
 * can be typed into), its folders and matching files, a name line for a
 * new file, and buttons. */
#include "console/dlgbox.h"
#include "console/filelist.h"
#include "console/lineedit.h"
#include "console/theme.h"
#include "console/widgets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PATH_BYTES   4096
#define TYPEAHEAD_MS 1000

enum fb_focus { FB_PATH, FB_LIST, FB_NAME, FB_BUTTONS };

struct fbstate {
	struct console *con;
	struct dlgbox b;
	const char *title, *patterns;
	bool dirs_only, allow_new, hidden;
	char dir[PATH_BYTES];
	char path[PATH_BYTES + 2]; /* the path line */
	char name[1024];	   /* the name line (allow_new) */
	struct lineedit path_ed, name_ed;
	struct file_list list;
	int sel, top, list_y, list_rows, name_y, status_y, btn_y;
	enum fb_focus focus;
	int button;
	const char *buttons[2];
	int xs[2];
	char err[512];
	char ahead[64]; /* type-ahead typed so far */
	struct timespec ahead_at;
	char *out;
	size_t outlen;
};

static void set_path_line(struct fbstate *s)
{
	snprintf(s->path, sizeof(s->path), "%s%s", s->dir, strcmp(s->dir, "/") ? "/" : "");
	lineedit_reset(&s->path_ed);
}

/* Reads folder dir (absolute); selects the entry called select (may be
 * NULL). On failure the old folder stays and the error shows. */
static int open_dir(struct fbstate *s, const char *dir, const char *select)
{
	struct file_list nl;
	int ret = filelist_read(&nl, dir, s->patterns, s->dirs_only, s->hidden);

	if (ret) {
		snprintf(s->err, sizeof(s->err), "Cannot open %.400s: %s", dir, strerror(-ret));
		return ret;
	}
	filelist_free(&s->list);
	s->list = nl;
	if (dir != s->dir)
		snprintf(s->dir, sizeof(s->dir), "%s", dir);
	s->sel = 0;
	s->top = 0;
	/* Past "..", the first entry is the most useful one. */
	if (s->list.n > 1 && !strcmp(s->list.e[0].name, ".."))
		s->sel = 1;
	for (unsigned i = 0; select && i < s->list.n; i++)
		if (!strcmp(s->list.e[i].name, select))
			s->sel = (int)i;
	set_path_line(s);
	s->ahead[0] = 0;
	return 0;
}

static void go_up(struct fbstate *s)
{
	char parent[PATH_BYTES], name[1024];

	if (!strcmp(s->dir, "/"))
		return;
	if (filelist_split(s->dir, parent, sizeof(parent), name, sizeof(name)))
		return;
	s->err[0] = 0;
	open_dir(s, parent, name);
}

static bool pick(struct fbstate *s, const char *path)
{
	if (strlen(path) >= s->outlen) {
		snprintf(s->err, sizeof(s->err), "The path is too long (%zu bytes at most).",
			 s->outlen ? s->outlen - 1 : 0);
		return false;
	}
	strcpy(s->out, path);
	return true;
}

/* What was typed on the path or name line (relative to the folder shown):
 * a folder opens; a file is picked; a new name is picked with allow_new.
 * true to close the browser. */
static bool go_typed(struct fbstate *s, const char *typed)
{
	char abs[PATH_BYTES], parent[PATH_BYTES], name[1024];
	struct stat st;
	int ret;

	s->err[0] = 0;
	if (!*typed)
		return false;
	ret = filelist_resolve(s->dir, typed, abs, sizeof(abs));
	if (ret) {
		snprintf(s->err, sizeof(s->err), "%.400s: %s", typed,
			 ret == -ENOENT ? "$HOME is not set" : "the path is too long");
		return false;
	}
	if (!stat(abs, &st)) {
		if (S_ISDIR(st.st_mode)) {
			if (!open_dir(s, abs, NULL) && s->focus == FB_PATH)
				s->focus = FB_LIST;
			return false;
		}
		if (s->dirs_only) {
			snprintf(s->err, sizeof(s->err), "%.400s is not a folder.", abs);
			return false;
		}
		return pick(s, abs);
	}
	if (filelist_split(abs, parent, sizeof(parent), name, sizeof(name)) || stat(parent, &st) ||
	    !S_ISDIR(st.st_mode)) {
		snprintf(s->err, sizeof(s->err), "%.400s does not exist.", abs);
		return false;
	}
	if (!s->allow_new) {
		snprintf(s->err, sizeof(s->err), "%.400s does not exist: pick one that does.", abs);
		return false;
	}
	return pick(s, abs);
}

/* Enter on the list (or the Open button): opens a folder, picks a file. */
static bool activate(struct fbstate *s)
{
	const struct file_entry *e;
	char abs[PATH_BYTES];

	if (s->sel < 0 || (unsigned)s->sel >= s->list.n)
		return false;
	e = &s->list.e[s->sel];
	s->err[0] = 0;
	if (!strcmp(e->name, "..")) {
		go_up(s);
		return false;
	}
	if (snprintf(abs, sizeof(abs), "%s/%s", strcmp(s->dir, "/") ? s->dir : "", e->name) >=
	    (int)sizeof(abs)) {
		snprintf(s->err, sizeof(s->err), "The path is too long.");
		return false;
	}
	if (e->dir) {
		open_dir(s, abs, NULL);
		return false;
	}
	return pick(s, abs);
}

/* The Open / Select Folder button. */
static bool press_ok(struct fbstate *s)
{
	if (s->dirs_only)
		return pick(s, s->dir);
	if (s->allow_new && s->name[0])
		return go_typed(s, s->name);
	return activate(s);
}

static long ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* Type-ahead on the list: the first entry starting with what was typed in
 * the last second, or the next one starting with this letter. */
static void type_ahead(struct fbstate *s, wchar_t wc)
{
	size_t n = strlen(s->ahead);
	char mb[8];
	int len = wctomb(mb, wc);

	if (len <= 0)
		return;
	if (ms_since(&s->ahead_at) > TYPEAHEAD_MS)
		n = 0;
	clock_gettime(CLOCK_MONOTONIC, &s->ahead_at);
	if (n + (size_t)len < sizeof(s->ahead)) {
		memcpy(s->ahead + n, mb, (size_t)len);
		s->ahead[n + (size_t)len] = 0;
	}
	if (n) {
		for (unsigned i = 0; i < s->list.n; i++) {
			if (!strncasecmp(s->list.e[i].name, s->ahead, strlen(s->ahead))) {
				s->sel = (int)i;
				return;
			}
		}
	}
	{
		const char **names = malloc(s->list.n * sizeof(*names) + 1);
		int i;

		if (!names)
			return;
		for (unsigned k = 0; k < s->list.n; k++)
			names[k] = s->list.e[k].name;
		i = dlg_typeahead(names, s->list.n, s->sel, wc);
		free(names);
		if (i >= 0)
			s->sel = i;
		memcpy(s->ahead, mb, (size_t)len);
		s->ahead[len] = 0;
	}
}

static void layout(struct fbstate *s)
{
	int h = LINES > 24 ? 22 : LINES > 12 ? LINES - 2 : LINES, w = COLS < 76 ? COLS : 76;

	dlgbox_place(&s->b, h, w);
	s->list_y = 2;
	s->btn_y = s->b.h - 2;
	s->status_y = s->btn_y - 1;
	s->name_y = s->allow_new && !s->dirs_only ? s->status_y - 1 : -1;
	s->list_rows = (s->name_y >= 0 ? s->name_y : s->status_y) - s->list_y;
	if (s->list_rows < 1)
		s->list_rows = 1;
	dlg_list_scroll(&s->top, s->sel, s->list_rows, (int)s->list.n);
}

static void draw_line(struct fbstate *s, int y, const char *label, char *buf, struct lineedit *ed,
		      bool focused, int *cy, int *cx)
{
	int lw = utf8_width(label, strlen(label)) + 1, fw = s->b.w - 4 - lw, col;
	int a = theme_attr(focused ? TH_FIELD_FOCUS : TH_FIELD);

	dlg_put(s->b.win, y, 2, label, lw, theme_attr(TH_DIALOG));
	dlg_fill(s->b.win, y, 2 + lw, fw, a);
	if (!focused)
		lineedit_reset(ed);
	col = lineedit_view(ed, fw);
	dlg_put(s->b.win, y, 2 + lw, buf + ed->scroll, fw, a);
	if (focused) {
		*cy = y;
		*cx = 2 + lw + col;
	}
}

static void draw(struct fbstate *s)
{
	WINDOW *w = s->b.win;
	int cy = -1, cx = -1, iw = s->b.w - 4;
	char hint[256];

	dlgbox_frame(&s->b, s->title);
	if (s->focus != FB_PATH)
		set_path_line(s);
	draw_line(s, 1, "Folder:", s->path, &s->path_ed, s->focus == FB_PATH, &cy, &cx);
	for (int r = 0; r < s->list_rows; r++) {
		int i = s->top + r, a = theme_attr(TH_DIALOG), nw;
		const struct file_entry *e;
		char size[32] = "";

		if (i >= (int)s->list.n)
			break;
		e = &s->list.e[i];
		if (i == s->sel)
			a = theme_attr(s->focus == FB_LIST ? TH_SELECTED : TH_SELECTED_DIM);
		dlg_fill(w, s->list_y + r, 2, iw, a);
		if (!e->dir)
			filelist_size_str(e->size, size, sizeof(size));
		nw = dlg_put(w, s->list_y + r, 3, e->name, iw - 2 - (int)strlen(size) - 2, a);
		if (e->dir)
			dlg_put(w, s->list_y + r, 3 + nw, "/", 1, a);
		dlg_put(w, s->list_y + r, 2 + iw - 1 - (int)strlen(size), size, (int)strlen(size),
			a);
	}
	if (!s->list.n)
		dlg_put(w, s->list_y, 3, "(empty)", iw - 2, theme_attr(TH_DISABLED));
	if (s->top > 0)
		dlgbox_more(&s->b, s->list_y, false);
	if (s->top + s->list_rows < (int)s->list.n)
		dlgbox_more(&s->b, s->list_y + s->list_rows - 1, true);
	if (s->name_y >= 0)
		draw_line(s, s->name_y, "Name:", s->name, &s->name_ed, s->focus == FB_NAME, &cy,
			  &cx);
	if (s->err[0]) {
		dlg_put(w, s->status_y, 2, s->err, iw, theme_attr(TH_ERROR));
	} else {
		snprintf(hint, sizeof(hint), "%s%sBksp up  . %s hidden%s",
			 s->patterns && *s->patterns ? s->patterns : "",
			 s->patterns && *s->patterns ? "  " : "", s->hidden ? "hide" : "show",
			 s->dirs_only ? "" : "  Enter open");
		dlg_put(w, s->status_y, 2, hint, iw, theme_attr(TH_DISABLED));
	}
	dlg_buttons_draw(w, s->btn_y, 2, iw, s->buttons, 2, s->focus == FB_BUTTONS ? s->button : -1,
			 0, s->xs);
	if (cy >= 0) {
		curs_set(1);
		wmove(w, cy, cx);
	} else {
		curs_set(0);
	}
}

static void move_focus(struct fbstate *s, int dir)
{
	/* Path, list, name (when there is one), OK, Cancel. */
	int order[5], n = 0, cur = 0;

	order[n++] = FB_PATH;
	order[n++] = FB_LIST;
	if (s->name_y >= 0)
		order[n++] = FB_NAME;
	order[n++] = FB_BUTTONS * 10;
	order[n++] = FB_BUTTONS * 10 + 1;
	for (int i = 0; i < n; i++) {
		int v = s->focus == FB_BUTTONS ? FB_BUTTONS * 10 + s->button : (int)s->focus;

		if (order[i] == v)
			cur = i;
	}
	cur = (cur + dir + n) % n;
	if (order[cur] >= FB_BUTTONS * 10) {
		s->focus = FB_BUTTONS;
		s->button = order[cur] - FB_BUTTONS * 10;
	} else {
		s->focus = (enum fb_focus)order[cur];
	}
}

/* One key: 1 picked, -1 cancelled, 0 go on. */
static int list_key(struct fbstate *s, int key)
{
	wchar_t wc;

	switch (key) {
	case KEY_UP:
		s->sel--;
		break;
	case KEY_DOWN:
		s->sel++;
		break;
	case KEY_PPAGE:
		s->sel -= s->list_rows;
		break;
	case KEY_NPAGE:
		s->sel += s->list_rows;
		break;
	case KEY_HOME:
		s->sel = 0;
		break;
	case KEY_END:
		s->sel = (int)s->list.n - 1;
		break;
	case KEY_LEFT:
	case KEY_BACKSPACE:
	case 127:
	case 8:
		go_up(s);
		break;
	case KEY_RIGHT:
		if (s->sel >= 0 && (unsigned)s->sel < s->list.n && s->list.e[s->sel].dir)
			return activate(s) ? 1 : 0;
		break;
	case '.': {
		const char *keep = s->sel >= 0 && (unsigned)s->sel < s->list.n
				       ? strdup(s->list.e[s->sel].name)
				       : NULL;

		s->hidden = !s->hidden;
		open_dir(s, s->dir, keep);
		free((void *)keep);
		break;
	}
	case '/':
	case '~':
		s->focus = FB_PATH;
		s->path[0] = (char)key;
		s->path[1] = 0;
		lineedit_reset(&s->path_ed);
		break;
	default:
		if (dlg_key_enter(key))
			return activate(s) ? 1 : 0;
		if (dlg_key_char(key, &wc))
			type_ahead(s, wc);
		break;
	}
	if (s->sel >= (int)s->list.n)
		s->sel = (int)s->list.n - 1;
	if (s->sel < 0)
		s->sel = 0;
	return 0;
}

static int mouse(struct fbstate *s)
{
	int y, x, wheel = dlg_wheel(s->con, &s->b);

	if (wheel) {
		s->sel += 3 * wheel;
		if (s->sel >= (int)s->list.n)
			s->sel = (int)s->list.n - 1;
		if (s->sel < 0)
			s->sel = 0;
		return 0;
	}
	if (!dlg_click(s->con, &s->b, &y, &x))
		return 0;
	if (y == 1) {
		s->focus = FB_PATH;
	} else if (y == s->name_y) {
		s->focus = FB_NAME;
	} else if (y >= s->list_y && y < s->list_y + s->list_rows) {
		int i = s->top + y - s->list_y;

		if (i >= (int)s->list.n)
			return 0;
		/* A click selects; a second one (or a double click) opens. */
		if ((i == s->sel && s->focus == FB_LIST) ||
		    (s->con->last_mouse.bstate & BUTTON1_DOUBLE_CLICKED)) {
			s->sel = i;
			return activate(s) ? 1 : 0;
		}
		s->sel = i;
		s->focus = FB_LIST;
	} else if (y == s->btn_y) {
		int hit = dlg_buttons_hit(s->buttons, 2, s->xs, x);

		if (hit == 1)
			return -1;
		if (hit == 0) {
			s->focus = FB_BUTTONS;
			s->button = 0;
			return press_ok(s) ? 1 : 0;
		}
	}
	return 0;
}

static int handle(struct fbstate *s, int key)
{
	if (key == DLG_KEY_ESC)
		return -1;
	if (key == KEY_RESIZE)
		return 0;
	if (key == KEY_MOUSE)
		return mouse(s);
	if (key == '\t' || key == KEY_BTAB) {
		move_focus(s, key == '\t' ? 1 : -1);
		return 0;
	}
	switch (s->focus) {
	case FB_LIST:
		return list_key(s, key);
	case FB_PATH:
	case FB_NAME:
		if (dlg_key_enter(key))
			return go_typed(s, s->focus == FB_PATH ? s->path : s->name) ? 1 : 0;
		if (key == KEY_UP || key == KEY_DOWN) {
			move_focus(s, key == KEY_UP ? -1 : 1);
			return 0;
		}
		dlg_edit_key(s->focus == FB_PATH ? &s->path_ed : &s->name_ed, key);
		return 0;
	case FB_BUTTONS:
		if (key == KEY_LEFT || key == KEY_RIGHT)
			s->button = !s->button;
		else if (key == KEY_UP)
			move_focus(s, -1 - s->button);
		else if (dlg_key_enter(key) || key == ' ')
			return s->button ? -1 : (press_ok(s) ? 1 : 0);
		return 0;
	}
	return 0;
}

static void start_at(struct fbstate *s, const char *start)
{
	char abs[PATH_BYTES], dir[PATH_BYTES], name[1024] = "", cwd[PATH_BYTES];
	struct stat st;

	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "/");
	if (!start || !*start || filelist_resolve(cwd, start, abs, sizeof(abs)))
		snprintf(abs, sizeof(abs), "%s", cwd);
	if (!stat(abs, &st) && S_ISDIR(st.st_mode)) {
		snprintf(dir, sizeof(dir), "%s", abs);
	} else if (filelist_split(abs, dir, sizeof(dir), name, sizeof(name))) {
		snprintf(dir, sizeof(dir), "%s", cwd);
		name[0] = 0;
	}
	if (s->allow_new && !s->dirs_only)
		snprintf(s->name, sizeof(s->name), "%s", name);
	/* A folder that is gone or unreadable: its nearest readable parent. */
	while (open_dir(s, dir, name[0] ? name : NULL) && strcmp(dir, "/")) {
		char parent[PATH_BYTES], last[1024];

		if (filelist_split(dir, parent, sizeof(parent), last, sizeof(last)))
			break;
		snprintf(dir, sizeof(dir), "%s", parent);
	}
	s->err[0] = 0;
}

bool dlg_file(struct console *con, const char *title, const char *start, const char *patterns,
	      bool dirs_only, bool allow_new, char *out, size_t outlen)
{
	struct fbstate *s = calloc(1, sizeof(*s));
	int r = -1, old_cursor;

	if (!s)
		return false;
	s->con = con;
	s->title = title;
	s->patterns = patterns;
	s->dirs_only = dirs_only;
	s->allow_new = allow_new;
	s->out = out;
	s->outlen = outlen;
	s->focus = FB_LIST;
	s->buttons[0] = dirs_only ? "Select Folder" : allow_new ? "OK" : "Open";
	s->buttons[1] = "Cancel";
	lineedit_init(&s->path_ed, s->path, sizeof(s->path));
	lineedit_init(&s->name_ed, s->name, sizeof(s->name));
	start_at(s, start);
	lineedit_reset(&s->name_ed);
	if (s->name[0])
		s->focus = FB_NAME;
	if (dlgbox_open(&s->b, con, 20, 76))
		goto out;
	old_cursor = curs_set(0);
	do {
		layout(s);
		draw(s);
		r = handle(s, con_getkey(con));
	} while (!r);
	curs_set(old_cursor < 0 ? 0 : old_cursor);
	dlgbox_close(&s->b);
out:
	filelist_free(&s->list);
	free(s);
	return r == 1;
}
