/* Control API display commands: display-attach hands a client the display's
 * shared-memory pixels and then streams which rectangles changed (the local
 * SDL window of osio connect uses it); display-detach; display-text (a text
 * mode's characters, attributes and colours); screenshot. */
#include "hypervisor/control.h"

#include "devices/device.h"
#include "devices/display.h"
#include "devices/vga/vga.h"
#include "hypervisor/evloop.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Updates at most this often (about 60 a second). Between them the
 * display's producer is asked to render, so framebuffer writes that cause
 * no exit (dirty-logged RAM) are seen too. */
#define PERIOD_NS (16666667ull)
#define MAX_RECTS 64

struct control_display {
	struct control *ctl;
	struct display_surface *s;
	struct evtimer *tick;
	unsigned attached;
};

struct attached {
	struct control_display *d;
	struct display_consumer *cons;
	uint64_t generation; /* of the buffer the client has */
};

static const char attached_key;

/* A read-only descriptor of the current pixels for a client (the surface
 * keeps its own read-write one). Caller holds the surface lock. */
static int reopen_readonly(int fd)
{
	if (fd < 0)
		return -ENODEV;
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int ro = open(path, O_RDONLY | O_CLOEXEC);
	return ro < 0 ? -errno : ro;
}

static json_t *geometry(const struct display_view *v)
{
	return json_pack("{s:i,s:i,s:i,s:I,s:s}", "width", v->width, "height", v->height, "stride",
			 v->stride, "size", (json_int_t)v->stride * v->height, "format",
			 "xrgb8888");
}

static void detach(struct control_client *c, void *data)
{
	struct attached *a = data;
	display_consumer_free(a->cons);
	if (--a->d->attached == 0)
		evtimer_cancel(a->d->tick);
	free(a);
}

/* One client's share of a tick: a new buffer after a mode change, else the
 * rectangles that changed, if the client has read what it was sent. */
static void update_client(struct control_client *c, void *opaque)
{
	struct attached *a = control_client_get(c, &attached_key);
	if (!a || !control_client_idle(c))
		return;
	struct display_view v;
	display_lock(a->d->s, &v);
	if (v.generation != a->generation) {
		int fd = reopen_readonly(v.fd);
		json_t *g = geometry(&v);
		display_unlock(a->d->s);
		if (fd < 0) {
			json_decref(g);
			return;
		}
		a->generation = v.generation;
		control_send_event(c, "display-resize", g, fd);
		return;
	}
	display_unlock(a->d->s);
	struct display_rect r[MAX_RECTS];
	uint64_t gen;
	unsigned n = display_consumer_take(a->cons, r, MAX_RECTS, &gen);
	/* Rectangles of another generation: the resize comes next tick and
	 * covers everything. */
	if (n == 0 || gen != a->generation)
		return;
	json_t *rects = json_array();
	for (unsigned i = 0; i < n; i++)
		json_array_append_new(rects,
				      json_pack("[i,i,i,i]", r[i].x, r[i].y, r[i].w, r[i].h));
	control_send_event(c, "display-update", json_pack("{s:o}", "rects", rects), -1);
}

static void tick(void *opaque)
{
	struct control_display *d = opaque;
	display_refresh(d->s);
	control_for_each_client(d->ctl, update_client, d);
}

static int attach_cmd(struct control_client *c, json_t *args, struct control_reply *reply,
		      void *opaque)
{
	struct control_display *d = opaque;
	if (!d->s)
		return control_fail(c, CONTROL_E_UNAVAILABLE, "this VM has no display adapter");
	if (control_client_get(c, &attached_key))
		return control_fail(c, CONTROL_E_FAILED, "the display is attached already");
	struct attached *a = calloc(1, sizeof(*a));
	if (!a || !(a->cons = display_consumer_new(d->s))) {
		free(a);
		return control_fail(c, CONTROL_E_FAILED, "out of memory");
	}
	a->d = d;
	display_refresh(d->s);
	struct display_view v;
	display_lock(d->s, &v);
	int fd = reopen_readonly(v.fd);
	reply->ret = geometry(&v);
	a->generation = v.generation;
	display_unlock(d->s);
	if (fd < 0) {
		display_consumer_free(a->cons);
		free(a);
		return control_fail(c, CONTROL_E_FAILED, "cannot share the display's memory: %s",
				    strerror(-fd));
	}
	/* The client has everything as of now. */
	struct display_rect r;
	display_consumer_take(a->cons, &r, 1, NULL);
	reply->fd = fd;
	control_client_set(c, &attached_key, a, detach);
	if (d->attached++ == 0)
		evtimer_arm(d->tick, PERIOD_NS, PERIOD_NS);
	return 0;
}

static int detach_cmd(struct control_client *c, json_t *args, struct control_reply *reply,
		      void *opaque)
{
	struct attached *a = control_client_get(c, &attached_key);
	if (a) {
		control_client_set(c, &attached_key, NULL, NULL);
		detach(c, a);
	}
	return 0;
}

/* Code page 437, the VGA's character set, as Unicode (0x00 as a space). */
static const uint16_t cp437[256] = {
    0x0020, 0x263a, 0x263b, 0x2665, 0x2666, 0x2663, 0x2660, 0x2022, /* 00 */
    0x25d8, 0x25cb, 0x25d9, 0x2642, 0x2640, 0x266a, 0x266b, 0x263c, /* 08 */
    0x25ba, 0x25c4, 0x2195, 0x203c, 0x00b6, 0x00a7, 0x25ac, 0x21a8, /* 10 */
    0x2191, 0x2193, 0x2192, 0x2190, 0x221f, 0x2194, 0x25b2, 0x25bc, /* 18 */
    0x0020, 0x0021, 0x0022, 0x0023, 0x0024, 0x0025, 0x0026, 0x0027, /* 20 */
    0x0028, 0x0029, 0x002a, 0x002b, 0x002c, 0x002d, 0x002e, 0x002f, /* 28 */
    0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037, /* 30 */
    0x0038, 0x0039, 0x003a, 0x003b, 0x003c, 0x003d, 0x003e, 0x003f, /* 38 */
    0x0040, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047, /* 40 */
    0x0048, 0x0049, 0x004a, 0x004b, 0x004c, 0x004d, 0x004e, 0x004f, /* 48 */
    0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057, /* 50 */
    0x0058, 0x0059, 0x005a, 0x005b, 0x005c, 0x005d, 0x005e, 0x005f, /* 58 */
    0x0060, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067, /* 60 */
    0x0068, 0x0069, 0x006a, 0x006b, 0x006c, 0x006d, 0x006e, 0x006f, /* 68 */
    0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077, /* 70 */
    0x0078, 0x0079, 0x007a, 0x007b, 0x007c, 0x007d, 0x007e, 0x2302, /* 78 */
    0x00c7, 0x00fc, 0x00e9, 0x00e2, 0x00e4, 0x00e0, 0x00e5, 0x00e7, /* 80 */
    0x00ea, 0x00eb, 0x00e8, 0x00ef, 0x00ee, 0x00ec, 0x00c4, 0x00c5, /* 88 */
    0x00c9, 0x00e6, 0x00c6, 0x00f4, 0x00f6, 0x00f2, 0x00fb, 0x00f9, /* 90 */
    0x00ff, 0x00d6, 0x00dc, 0x00a2, 0x00a3, 0x00a5, 0x20a7, 0x0192, /* 98 */
    0x00e1, 0x00ed, 0x00f3, 0x00fa, 0x00f1, 0x00d1, 0x00aa, 0x00ba, /* a0 */
    0x00bf, 0x2310, 0x00ac, 0x00bd, 0x00bc, 0x00a1, 0x00ab, 0x00bb, /* a8 */
    0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556, /* b0 */
    0x2555, 0x2563, 0x2551, 0x2557, 0x255d, 0x255c, 0x255b, 0x2510, /* b8 */
    0x2514, 0x2534, 0x252c, 0x251c, 0x2500, 0x253c, 0x255e, 0x255f, /* c0 */
    0x255a, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256c, 0x2567, /* c8 */
    0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256b, /* d0 */
    0x256a, 0x2518, 0x250c, 0x2588, 0x2584, 0x258c, 0x2590, 0x2580, /* d8 */
    0x03b1, 0x00df, 0x0393, 0x03c0, 0x03a3, 0x03c3, 0x00b5, 0x03c4, /* e0 */
    0x03a6, 0x0398, 0x03a9, 0x03b4, 0x221e, 0x03c6, 0x03b5, 0x2229, /* e8 */
    0x2261, 0x00b1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00f7, 0x2248, /* f0 */
    0x00b0, 0x2219, 0x00b7, 0x221a, 0x207f, 0x00b2, 0x25a0, 0x00a0, /* f8 */
};

/* A character as UTF-8 (every entry is below U+10000): its length. */
static size_t put_utf8(char *p, uint8_t ch)
{
	unsigned u = cp437[ch];
	if (u < 0x80) {
		p[0] = (char)u;
		return 1;
	}
	if (u < 0x800) {
		p[0] = (char)(0xc0 | u >> 6);
		p[1] = (char)(0x80 | (u & 0x3f));
		return 2;
	}
	p[0] = (char)(0xe0 | u >> 12);
	p[1] = (char)(0x80 | ((u >> 6) & 0x3f));
	p[2] = (char)(0x80 | (u & 0x3f));
	return 3;
}

static json_t *text_json(const struct vga_text *t)
{
	static const char hex[] = "0123456789abcdef";
	json_t *lines = json_array(), *attrs = json_array(), *pal = json_array();
	char *text = malloc(3 * (size_t)t->cols + 1), *at = malloc(2 * (size_t)t->cols + 1);
	json_t *ret = NULL;
	if (!lines || !attrs || !pal || !text || !at)
		goto out;
	for (unsigned row = 0; row < t->rows; row++) {
		const uint8_t *cell = &t->cells[2 * (size_t)row * t->cols];
		size_t n = 0;
		for (unsigned col = 0; col < t->cols; col++) {
			n += put_utf8(text + n, cell[2 * col]);
			at[2 * col] = hex[cell[2 * col + 1] >> 4];
			at[2 * col + 1] = hex[cell[2 * col + 1] & 15];
		}
		if (json_array_append_new(lines, json_stringn(text, n)) < 0 ||
		    json_array_append_new(attrs, json_stringn(at, 2 * (size_t)t->cols)) < 0)
			goto out;
	}
	for (int i = 0; i < 16; i++) {
		char c[8];
		snprintf(c, sizeof(c), "#%06x", (unsigned)t->palette[i] & 0xffffff);
		if (json_array_append_new(pal, json_string(c)) < 0)
			goto out;
	}
	ret = json_pack("{s:i,s:i,s:{s:i,s:i,s:b},s:O,s:O,s:O,s:b}", "cols", (int)t->cols, "rows",
			(int)t->rows, "cursor", "x", (int)t->cursor_x, "y", (int)t->cursor_y,
			"visible", (int)t->cursor_visible, "lines", lines, "attrs", attrs,
			"palette", pal, "blink", (int)t->blink);
out:
	json_decref(lines);
	json_decref(attrs);
	json_decref(pal);
	free(text);
	free(at);
	return ret;
}

static int text_cmd(struct control_client *c, json_t *args, struct control_reply *reply,
		    void *opaque)
{
	struct machine *m = control_machine(c);
	void *vga = m ? machine_device(m, "vga") : NULL;
	if (!vga)
		return control_fail(c, CONTROL_E_UNAVAILABLE, "this VM has no display adapter");
	struct vga_text *t;
	int r = vga_text_cells(vga, &t);
	if (r == -EINVAL)
		return control_fail(c, CONTROL_E_UNAVAILABLE, "the display is in a graphics mode");
	if (r < 0)
		return control_fail(c, CONTROL_E_FAILED, "cannot read the screen: %s",
				    strerror(-r));
	reply->ret = text_json(t);
	free(t);
	if (!reply->ret)
		return control_fail(c, CONTROL_E_FAILED, "out of memory");
	return 0;
}

static int screenshot_cmd(struct control_client *c, json_t *args, struct control_reply *reply,
			  void *opaque)
{
	struct control_display *d = opaque;
	const char *file = json_string_value(json_object_get(args, "file"));
	int fd = control_take_fd(c);
	if (fd < 0 && (!file || file[0] != '/'))
		return control_fail(c, CONTROL_E_INVALID,
				    "file: an absolute path is needed (or \"fd\": true)");
	if (!d->s) {
		if (fd >= 0)
			close(fd);
		return control_fail(c, CONTROL_E_UNAVAILABLE, "this VM has no display adapter");
	}
	display_refresh(d->s);
	const char *name = file ? file : "(the client's file)";
	int r = fd >= 0 ? display_save_png_fd(d->s, fd, name) : display_save_png(d->s, file);
	if (r < 0)
		return control_fail(c, CONTROL_E_FAILED, "%s: %s", name, strerror(-r));
	struct display_view v;
	display_lock(d->s, &v);
	reply->ret = json_pack("{s:i,s:i}", "width", v.width, "height", v.height);
	display_unlock(d->s);
	return 0;
}

static void display_free(void *opaque)
{
	struct control_display *d = opaque;
	evtimer_free(d->tick);
	if (d->s)
		display_put(d->s);
	free(d);
}

int control_display_register(struct control *ctl, struct display_surface *s)
{
	struct control_display *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->ctl = ctl;
	d->tick = evtimer_new(control_loop(ctl), tick, d);
	if (!d->tick) {
		free(d);
		return -ENOMEM;
	}
	if (s) {
		display_get(s);
		d->s = s;
	}
	control_on_free(ctl, display_free, d);
	control_register(ctl, "display-attach", attach_cmd, d);
	control_register(ctl, "display-detach", detach_cmd, d);
	control_register(ctl, "display-text", text_cmd, d);
	control_register(ctl, "screenshot", screenshot_cmd, d);
	return 0;
}
