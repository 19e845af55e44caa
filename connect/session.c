/* osio connect's session: the control socket's reader thread hands display
 * updates, mode changes and state changes to the SDL thread, which owns the
 * window, the mapping and the input. Idle, both threads sleep. */
#include "connect/connect.h"

#include "hypervisor/ctlclient.h"
#include "connect/sdlinput.h"
#include "connect/sdlwin.h"
#include "connect/sharedfb.h"
#include "hypervisor/log.h"

#include <SDL.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_RECTS    64	  /* more in one go: the whole picture */
#define OFF_SHOW_MS  1500 /* how long "Off" stays in the title before the window goes */
#define MAX_REFUSALS 3	  /* refused input reported, then quiet */

/* What the reader thread leaves for the SDL thread, under lock. */
struct shared {
	pthread_mutex_t lock;
	Uint32 wake_type; /* the SDL event that wakes the SDL thread; 0 before SDL */
	bool wake_pending;
	long long rects[MAX_RECTS][4];
	int nrects;
	bool full;
	bool resize;
	struct sharedfb_geometry geo;
	int resize_fd;
	char state[16];
	bool state_changed;
	bool off;
	bool ended;
	char end_msg[512];
	unsigned refusals;
};

struct session {
	struct ctl_client *c;
	struct shared sh;
	char name[64];
	char state[16];
	struct sharedfb fb;
	struct sdlwin w;
	struct sdlinput in;
	bool sdl_up;
};

/* --- the reader's side ---------------------------------------------------- */

static void wake(struct shared *sh)
{
	if (sh->wake_pending || !sh->wake_type)
		return;
	SDL_Event e = {.type = sh->wake_type};
	/* A full queue wakes the SDL thread anyway; its timeout looks again. */
	if (SDL_PushEvent(&e) == 1)
		sh->wake_pending = true;
}

static void set_end(struct shared *sh, const char *msg)
{
	if (!sh->ended)
		snprintf(sh->end_msg, sizeof(sh->end_msg), "%s", msg);
	sh->ended = true;
}

static void copy_word(char *dst, size_t size, const char *src)
{
	size_t i;
	for (i = 0; src[i] && i + 1 < size; i++)
		dst[i] = src[i] >= 'a' && src[i] <= 'z' ? src[i] : '?';
	dst[i] = '\0';
}

static void add_rects(struct shared *sh, json_t *rects)
{
	size_t i;
	json_t *r;
	if (!json_is_array(rects))
		return;
	json_array_foreach(rects, i, r)
	{
		if (sh->full)
			return;
		if (json_array_size(r) != 4)
			continue;
		long long v[4];
		size_t k;
		for (k = 0; k < 4 && json_is_integer(json_array_get(r, k)); k++)
			v[k] = json_integer_value(json_array_get(r, k));
		if (k < 4)
			continue;
		if (sh->nrects == MAX_RECTS) {
			sh->full = true;
			return;
		}
		memcpy(sh->rects[sh->nrects++], v, sizeof(v));
	}
}

static void on_event(void *opaque, const char *name, json_t *data, int fd)
{
	struct session *s = opaque;
	struct shared *sh = &s->sh;
	pthread_mutex_lock(&sh->lock);
	if (strcmp(name, "display-update") == 0) {
		add_rects(sh, json_object_get(data, "rects"));
	} else if (strcmp(name, "display-resize") == 0) {
		char err[256];
		struct sharedfb_geometry g;
		if (sharedfb_parse(data, &g, err, sizeof(err)) < 0) {
			set_end(sh, err);
			ctl_shutdown(s->c);
		} else {
			if (sh->resize && sh->resize_fd >= 0)
				close(sh->resize_fd);
			sh->resize = true;
			sh->geo = g;
			sh->resize_fd = fd;
			fd = -1;
			sh->nrects = 0;
			sh->full = true;
		}
	} else if (strcmp(name, "state") == 0) {
		const char *st = json_string_value(json_object_get(data, "state"));
		if (st) {
			copy_word(sh->state, sizeof(sh->state), st);
			sh->state_changed = true;
			if (strcmp(st, "off") == 0)
				sh->off = true;
		}
	}
	if (fd >= 0)
		close(fd);
	wake(sh);
	pthread_mutex_unlock(&sh->lock);
}

static void on_reply(void *opaque, long long id, json_t *ret, const char *cls, const char *desc)
{
	struct session *s = opaque;
	if (ret)
		return;
	pthread_mutex_lock(&s->sh.lock);
	bool say = s->sh.refusals++ < MAX_REFUSALS;
	pthread_mutex_unlock(&s->sh.lock);
	if (say)
		log_warn("the VM refused input (%s): %s", cls, desc);
}

static void *reader(void *opaque)
{
	struct session *s = opaque;
	while (ctl_read(s->c, -1) >= 0)
		;
	pthread_mutex_lock(&s->sh.lock);
	set_end(&s->sh, ctl_error(s->c));
	wake(&s->sh);
	pthread_mutex_unlock(&s->sh.lock);
	return NULL;
}

/* --- the SDL thread's side ------------------------------------------------ */

static const char *state_word(const char *state)
{
	if (strcmp(state, "running") == 0)
		return "Running";
	if (strcmp(state, "resetting") == 0)
		return "Resetting";
	if (strcmp(state, "off") == 0)
		return "Off";
	if (strcmp(state, "paused") == 0)
		return "Paused";
	return state[0] ? state : "Connecting";
}

static void update_title(struct session *s)
{
	char t[160];
	snprintf(t, sizeof(t), "%s - %s - osio%s", s->name, state_word(s->state),
		 s->in.grabbed ? " (" SDLINPUT_GRAB_HINT " releases)" : "");
	sdlwin_set_title(&s->w, t);
}

/* Applies what the reader left: a new buffer, changed pixels, the state.
 * Returns -1 when the session is over. */
static int apply(struct session *s, bool *redraw, bool *title)
{
	struct shared *sh = &s->sh;
	long long rects[MAX_RECTS][4];
	struct sharedfb_geometry geo;
	char state[16] = "";
	int fd = -1;

	pthread_mutex_lock(&sh->lock);
	int n = sh->nrects;
	memcpy(rects, sh->rects, sizeof(rects[0]) * (size_t)n);
	bool full = sh->full, resize = sh->resize, ended = sh->ended;
	geo = sh->geo;
	if (resize)
		fd = sh->resize_fd;
	if (sh->state_changed)
		memcpy(state, sh->state, sizeof(state));
	sh->nrects = 0;
	sh->full = sh->resize = sh->state_changed = false;
	sh->resize_fd = -1;
	sh->wake_pending = false;
	pthread_mutex_unlock(&sh->lock);

	if (state[0]) {
		memcpy(s->state, state, sizeof(state));
		*title = true;
	}
	if (resize) {
		char err[256];
		if (sharedfb_map(&s->fb, &geo, fd, err, sizeof(err)) < 0 ||
		    sdlwin_set_picture(&s->w, geo.width, geo.height, err, sizeof(err)) < 0) {
			pthread_mutex_lock(&sh->lock);
			set_end(sh, err);
			pthread_mutex_unlock(&sh->lock);
			return -1;
		}
	}
	if (full) {
		sdlwin_update_all(&s->w, &s->fb);
	} else {
		for (int i = 0; i < n; i++) {
			struct sharedfb_rect r;
			if (sharedfb_clip(&s->fb, rects[i][0], rects[i][1], rects[i][2],
					  rects[i][3], &r))
				sdlwin_update(&s->w, &s->fb, &r);
		}
	}
	if (full || n)
		*redraw = true;
	return ended ? -1 : 0;
}

/* The session is over: "Off" in the title for a moment, then the window goes. */
static int finish(struct session *s)
{
	pthread_mutex_lock(&s->sh.lock);
	bool off = s->sh.off;
	char msg[sizeof(s->sh.end_msg)];
	memcpy(msg, s->sh.end_msg, sizeof(msg));
	pthread_mutex_unlock(&s->sh.lock);

	if (s->in.grabbed)
		sdlinput_set_grab(&s->in, false);
	snprintf(s->state, sizeof(s->state), "off");
	update_title(s);
	sdlwin_present(&s->w);
	if (off)
		log_info("the VM '%s' is off", s->name);
	else
		log_error("the connection to the VM '%s' broke: %s", s->name, msg);
	Uint32 end = SDL_GetTicks() + OFF_SHOW_MS;
	SDL_Event ev;
	while (!SDL_TICKS_PASSED(SDL_GetTicks(), end)) {
		if (!SDL_WaitEventTimeout(&ev, (int)(end - SDL_GetTicks())))
			continue;
		if (ev.type == SDL_QUIT)
			break;
		if (ev.type == SDL_WINDOWEVENT)
			sdlwin_present(&s->w);
	}
	return off ? 0 : 1;
}

static int event_loop(struct session *s)
{
	for (;;) {
		bool redraw = false, title = false;
		SDL_Event ev;
		int got = SDL_WaitEventTimeout(&ev, 1000);
		for (; got; got = SDL_PollEvent(&ev)) {
			if (ev.type == SDL_QUIT) {
				sdlinput_release_all(&s->in);
				return 0;
			}
			if (ev.type == SDL_WINDOWEVENT) {
				if (ev.window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
					sdlwin_resized(&s->w, ev.window.data1, ev.window.data2);
				redraw = true;
			} else if (ev.type == SDL_RENDER_TARGETS_RESET ||
				   ev.type == SDL_RENDER_DEVICE_RESET) {
				/* The texture's contents (or the texture) are gone. */
				char err[256];
				if (ev.type == SDL_RENDER_DEVICE_RESET &&
				    sdlwin_set_picture(&s->w, s->fb.width, s->fb.height, err,
						       sizeof(err)) < 0) {
					log_error("%s", err);
					return 1;
				}
				sdlwin_update_all(&s->w, &s->fb);
				redraw = true;
			}
			if (sdlinput_event(&s->in, &ev))
				title = true;
		}
		sdlinput_flush(&s->in);
		int r = apply(s, &redraw, &title);
		if (title)
			update_title(s);
		if (redraw)
			sdlwin_present(&s->w);
		if (r < 0)
			return finish(s);
	}
}

/* --- setting up ------------------------------------------------------------ */

static int query_status(struct session *s, const char *target, char *vnc, size_t vnclen,
			bool *has_display)
{
	json_t *st;
	int r = ctl_call(s->c, "query-status", NULL, &st, NULL, CTL_TIMEOUT_MS);
	if (r < 0) {
		log_error("%s", ctl_error(s->c));
		return r;
	}
	const char *name = json_string_value(json_object_get(st, "name"));
	if (!name || !*name)
		name = ctl_vm_name(s->c)[0] ? ctl_vm_name(s->c) : target;
	size_t i;
	for (i = 0; name[i] && i + 1 < sizeof(s->name); i++)
		s->name[i] = (unsigned char)name[i] < 0x20 ? '?' : name[i];
	s->name[i] = '\0';
	const char *state = json_string_value(json_object_get(st, "state"));
	if (state)
		copy_word(s->state, sizeof(s->state), state);
	const char *v = json_string_value(json_object_get(st, "vnc"));
	snprintf(vnc, vnclen, "%s", v ? v : "");
	*has_display = !json_is_false(json_object_get(st, "display"));
	json_decref(st);
	return 0;
}

static int start_sdl(struct session *s, char *why, size_t len)
{
	const char *x = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY");
	const char *drv = getenv("SDL_VIDEODRIVER");
	if ((!x || !*x) && (!wl || !*wl) && (!drv || !*drv)) {
		snprintf(why, len, "neither DISPLAY nor WAYLAND_DISPLAY is set");
		return -1;
	}
	SDL_SetHint(SDL_HINT_VIDEO_X11_NET_WM_BYPASS_COMPOSITOR, "0");
	if (SDL_Init(SDL_INIT_VIDEO) < 0) {
		snprintf(why, len, "%s", SDL_GetError());
		return -1;
	}
	s->sdl_up = true;
	Uint32 type = SDL_RegisterEvents(1);
	if (type == (Uint32)-1) {
		snprintf(why, len, "SDL has no user events left");
		return -1;
	}
	pthread_mutex_lock(&s->sh.lock);
	s->sh.wake_type = type;
	pthread_mutex_unlock(&s->sh.lock);
	return 0;
}

static int attach_display(struct session *s)
{
	json_t *ret;
	int fd;
	char err[256];
	int r = ctl_call(s->c, "display-attach", NULL, &ret, &fd, CTL_TIMEOUT_MS);
	if (r == -EREMOTEIO && strcmp(ctl_error_class(s->c), "unavailable") == 0) {
		log_error("the VM '%s' has no display adapter to show (%s)", s->name,
			  ctl_error(s->c));
		return r;
	}
	if (r < 0) {
		log_error("%s", ctl_error(s->c));
		return r;
	}
	struct sharedfb_geometry g;
	r = sharedfb_parse(ret, &g, err, sizeof(err));
	json_decref(ret);
	if (r == 0)
		r = sharedfb_map(&s->fb, &g, fd, err, sizeof(err));
	else if (fd >= 0)
		close(fd);
	if (r < 0)
		log_error("%s", err);
	return r;
}

int connect_run(const char *target)
{
	struct session *s = calloc(1, sizeof(*s));
	if (!s) {
		log_error("out of memory");
		return 1;
	}
	pthread_mutex_init(&s->sh.lock, NULL);
	s->sh.resize_fd = -1;
	struct ctl_handlers h = {.event = on_event, .reply = on_reply, .opaque = s};
	char err[600], vnc[256];
	bool has_display, reading = false;
	pthread_t thread;
	int rc = 1;

	if (ctl_open(target, &h, &s->c, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out;
	}
	if (query_status(s, target, vnc, sizeof(vnc), &has_display) < 0)
		goto out;
	if (!has_display) {
		log_error("the VM '%s' has no display adapter to show (its vmconfig says [display] "
			  "adapter = none)",
			  s->name);
		goto out;
	}
	if (start_sdl(s, err, sizeof(err)) < 0) {
		if (vnc[0])
			log_error("no display to open a window on (%s); watch %s with a VNC viewer "
				  "at %s",
				  err, s->name, vnc);
		else
			log_error("no display to open a window on (%s); this VM has no VNC server: "
				  "set vnc = auto in its vmconfig",
				  err);
		goto out;
	}
	if (attach_display(s) < 0)
		goto out;
	if (sdlwin_open(&s->w, "osio", s->fb.width, s->fb.height, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out;
	}
	sdlinput_init(&s->in, s->c, &s->w);
	update_title(s);
	sdlwin_update_all(&s->w, &s->fb);
	sdlwin_present(&s->w);
	int r = pthread_create(&thread, NULL, reader, s);
	if (r) {
		log_error("cannot start a thread: %s", strerror(r));
		goto out;
	}
	reading = true;
	rc = event_loop(s);
out:
	if (s->c)
		ctl_shutdown(s->c);
	if (reading)
		pthread_join(thread, NULL);
	if (s->sh.resize_fd >= 0)
		close(s->sh.resize_fd);
	sharedfb_unmap(&s->fb);
	if (s->w.win)
		sdlwin_close(&s->w);
	if (s->sdl_up)
		SDL_Quit();
	ctl_close(s->c);
	pthread_mutex_destroy(&s->sh.lock);
	free(s);
	return rc;
}
