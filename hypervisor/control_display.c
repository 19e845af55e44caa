/* Control API display commands: display-attach hands a client the display's
 * shared-memory pixels and then streams which rectangles changed (the local
 * SDL window of osio connect uses it); display-detach; screenshot. */
#include "hypervisor/control.h"

#include "devices/display.h"
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

static int screenshot_cmd(struct control_client *c, json_t *args, struct control_reply *reply,
			  void *opaque)
{
	struct control_display *d = opaque;
	const char *file = json_string_value(json_object_get(args, "file"));
	if (!file || file[0] != '/')
		return control_fail(c, CONTROL_E_INVALID, "file: an absolute path is needed");
	if (!d->s)
		return control_fail(c, CONTROL_E_UNAVAILABLE, "this VM has no display adapter");
	display_refresh(d->s);
	int r = display_save_png(d->s, file);
	if (r < 0)
		return control_fail(c, CONTROL_E_FAILED, "%s: %s", file, strerror(-r));
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
	control_register(ctl, "screenshot", screenshot_cmd, d);
	return 0;
}
