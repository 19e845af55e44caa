/* The selected VM's screen in the details pane: a control connection of its
 * own attached to the display, the shared picture mapped, its dirty
 * rectangles gathered and folded into the cached cells at most THUMB_FPS
 * times a second, and the cells drawn with half blocks. */
#include "console/thumb.h"

#include "console/console.h"
#include "console/halfblock.h"
#include "console/loop.h"
#include "console/theme.h"
#include "hypervisor/ctlclient.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OPEN_TIMEOUT_MS	  1000 /* connecting and the greeting */
#define ATTACH_TIMEOUT_MS 1500
#define MAX_PENDING	  16 /* rectangles kept apart; more merge */

struct thumb {
	struct console *con;
	struct ctl_client *ctl; /* NULL once the connection is gone */
	int fd;			/* the connection's, watched on con->loop */
	bool disconnected;
	struct sharedfb fb;
	char mode[32];
	char why[160]; /* why there is no picture, when there is none */

	/* Rectangles not yet folded into the cells, and the timer that
	 * folds them in. */
	struct sharedfb_rect pending[MAX_PENDING];
	unsigned npending;
	int timer; /* 0: none */
	uint64_t last_apply_ms;

	/* The cells of the last size drawn. */
	struct hb_cell *cells;
	int cols, rows;
	bool cells_valid;
};

static void set_mode(struct thumb *t)
{
	if (t->fb.pixels)
		snprintf(t->mode, sizeof(t->mode), "%dx%d", t->fb.width, t->fb.height);
	else
		t->mode[0] = 0;
}

/* Folds the pending rectangles into the cells and asks for a redraw. */
static void apply(struct thumb *t)
{
	if (t->cells_valid)
		for (unsigned i = 0; i < t->npending; i++)
			hb_scale_rect(&t->fb, &t->pending[i], t->cols, t->rows, t->cells);
	t->npending = 0;
	t->last_apply_ms = loop_now_ms();
	con_dirty(t->con);
}

static void on_timer(void *opaque)
{
	struct thumb *t = opaque;
	t->timer = 0;
	apply(t);
}

/* At most THUMB_FPS applications a second: the first change after a quiet
 * spell goes at once, later ones wait for the period to end. */
static void schedule(struct thumb *t)
{
	if (t->timer)
		return;
	uint64_t now = loop_now_ms(), due = t->last_apply_ms + 1000 / THUMB_FPS;
	int id = loop_timer(t->con->loop, due > now ? (unsigned)(due - now) : 0, on_timer, t);
	if (id > 0)
		t->timer = id;
	else
		apply(t);
}

static void union_into(struct sharedfb_rect *a, const struct sharedfb_rect *b)
{
	int x0 = a->x < b->x ? a->x : b->x, y0 = a->y < b->y ? a->y : b->y;
	int x1 = a->x + a->w > b->x + b->w ? a->x + a->w : b->x + b->w;
	int y1 = a->y + a->h > b->y + b->h ? a->y + a->h : b->y + b->h;
	*a = (struct sharedfb_rect){x0, y0, x1 - x0, y1 - y0};
}

static void damage(struct thumb *t, const struct sharedfb_rect *r)
{
	if (t->npending < MAX_PENDING)
		t->pending[t->npending++] = *r;
	else
		union_into(&t->pending[MAX_PENDING - 1], r);
	schedule(t);
}

/* display-update: {"rects": [[x, y, w, h], ...]}, each checked and
 * clipped to the picture (the worker's numbers are not trusted). */
static void on_update(struct thumb *t, json_t *data)
{
	json_t *rects = json_object_get(data, "rects"), *r;
	size_t i;
	if (!json_is_array(rects))
		return;
	json_array_foreach(rects, i, r)
	{
		long long v[4];
		bool ok = json_is_array(r) && json_array_size(r) == 4;
		for (size_t k = 0; ok && k < 4; k++) {
			json_t *n = json_array_get(r, k);
			ok = json_is_integer(n);
			v[k] = ok ? json_integer_value(n) : 0;
		}
		struct sharedfb_rect c;
		if (ok && sharedfb_clip(&t->fb, v[0], v[1], v[2], v[3], &c))
			damage(t, &c);
	}
}

/* display-resize: a new buffer (the old one is no longer written). */
static void on_resize(struct thumb *t, json_t *data, int fd)
{
	struct sharedfb_geometry g;
	char err[160];
	int r = sharedfb_parse(data, &g, err, sizeof(err));
	if (r < 0) {
		if (fd >= 0)
			close(fd);
	} else {
		r = sharedfb_map(&t->fb, &g, fd, err, sizeof(err));
	}
	if (r < 0) {
		sharedfb_unmap(&t->fb);
		snprintf(t->why, sizeof(t->why), "%s", err);
	} else {
		t->why[0] = 0;
	}
	set_mode(t);
	t->cells_valid = false;
	t->npending = 0;
	con_dirty(t->con);
}

static void on_event(void *opaque, const char *name, json_t *data, int fd)
{
	struct thumb *t = opaque;
	if (strcmp(name, "display-resize") == 0) {
		on_resize(t, data, fd);
		return;
	}
	if (fd >= 0)
		close(fd);
	if (strcmp(name, "display-update") == 0)
		on_update(t, data);
}

/* The VM went away (or broke the protocol): the last picture stays. */
static void disconnect(struct thumb *t)
{
	loop_unwatch(t->con->loop, t->fd);
	ctl_close(t->ctl);
	t->ctl = NULL;
	t->fd = -1;
	t->disconnected = true;
	if (t->timer)
		loop_cancel(t->con->loop, t->timer);
	t->timer = 0;
	apply(t);
}

static void on_readable(void *opaque, int fd, short revents)
{
	struct thumb *t = opaque;
	if (t->ctl && ctl_read(t->ctl, 0) < 0)
		disconnect(t);
}

struct thumb *thumb_open(struct console *con, const char *name)
{
	struct thumb *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->con = con;
	t->fd = -1;
	struct ctl_handlers h = {.event = on_event, .opaque = t};
	char err[512];
	json_t *ret = NULL;
	int fd = -1;
	struct sharedfb_geometry g;
	if (ctl_open_timeout(name, &h, &t->ctl, err, sizeof(err), OPEN_TIMEOUT_MS) < 0)
		goto fail;
	if (ctl_call(t->ctl, "display-attach", NULL, &ret, &fd, ATTACH_TIMEOUT_MS) < 0)
		goto fail;
	if (sharedfb_parse(ret, &g, err, sizeof(err)) < 0) {
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	if (sharedfb_map(&t->fb, &g, fd, err, sizeof(err)) < 0)
		goto fail;
	t->fd = ctl_fd(t->ctl);
	if (loop_watch(con->loop, t->fd, POLLIN, on_readable, t) < 0)
		goto fail;
	json_decref(ret);
	set_mode(t);
	t->last_apply_ms = loop_now_ms();
	return t;
fail:
	json_decref(ret);
	sharedfb_unmap(&t->fb);
	ctl_close(t->ctl);
	free(t);
	return NULL;
}

void thumb_close(struct thumb *t)
{
	if (!t)
		return;
	if (t->timer)
		loop_cancel(t->con->loop, t->timer);
	if (t->ctl) {
		loop_unwatch(t->con->loop, t->fd);
		ctl_close(t->ctl);
	}
	sharedfb_unmap(&t->fb);
	free(t->cells);
	free(t);
}

const char *thumb_mode(const struct thumb *t)
{
	return t ? t->mode : "";
}

/* text centred on row y of the box, cut to its width. */
static void centre(WINDOW *w, int y, int x, int cols, const char *text, int attr)
{
	int n = (int)strlen(text);
	if (n > cols)
		n = cols;
	wattron(w, attr);
	mvwaddnstr(w, y, x + (cols - n) / 2, text, n);
	wattroff(w, attr);
}

static void fill(WINDOW *w, int y, int x, int rows, int cols, int attr)
{
	wattron(w, attr);
	for (int r = 0; r < rows; r++)
		mvwhline(w, y + r, x, ' ', cols);
	wattroff(w, attr);
}

/* The cells for a cols x rows grid, computed again when the size changed
 * or a new buffer came; false when out of memory. */
static bool ensure_cells(struct thumb *t, int cols, int rows)
{
	if (t->cells_valid && t->cols == cols && t->rows == rows)
		return true;
	if (t->cols * t->rows != cols * rows || !t->cells) {
		struct hb_cell *c = realloc(t->cells, (size_t)cols * rows * sizeof(*c));
		if (!c)
			return false;
		t->cells = c;
	}
	t->cols = cols;
	t->rows = rows;
	hb_scale(&t->fb, cols, rows, t->cells);
	t->cells_valid = true;
	return true;
}

void thumb_draw(struct thumb *t, WINDOW *w, int y, int x, int rows, int cols)
{
	if (rows <= 0 || cols <= 0)
		return;
	int grey = theme_attr(TH_DISABLED) | A_REVERSE;
	if (!t || !t->fb.pixels) {
		fill(w, y, x, rows, cols, grey);
		centre(w, y + (rows - 1) / 2, x, cols, "No picture", grey);
		if (t && t->why[0] && rows > 2)
			centre(w, y + (rows - 1) / 2 + 1, x, cols, t->why, grey);
		return;
	}
	int fc, fr;
	hb_fit(t->fb.width, t->fb.height, cols, rows, &fc, &fr);
	fill(w, y, x, rows, cols, A_NORMAL);
	if (!ensure_cells(t, fc, fr)) {
		centre(w, y + (rows - 1) / 2, x, cols, "(out of memory)", grey);
		return;
	}
	int py = y + (rows - fr) / 2, px = x + (cols - fc) / 2;
	hb_draw(w, py, px, fc, fr, t->cells, t->con);
	if (t->disconnected)
		centre(w, py + fr - 1, px, fc, "(disconnected)", grey);
}
