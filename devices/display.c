/* The display surface: pixels and geometry under one lock, per-consumer
 * dirty tile bitmaps, eventfd notification, and the producer's update hook. */
#include "devices/display.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#define TILES_X	   ((DISPLAY_MAX_WIDTH + DISPLAY_TILE - 1) / DISPLAY_TILE)
#define TILES_Y	   ((DISPLAY_MAX_HEIGHT + DISPLAY_TILE - 1) / DISPLAY_TILE)
#define TILE_WORDS ((TILES_X * TILES_Y + 63) / 64)

struct display_consumer {
	struct display_surface *s;
	struct display_consumer *next;
	int fd;
	bool signalled; /* fd written since the last take */
	bool whole;	/* everything is dirty (new consumer, resize) */
	uint64_t tiles[TILE_WORDS];
};

struct display_surface {
	pthread_mutex_t lock;
	atomic_int refs;
	unsigned width, height;
	uint64_t generation;
	uint32_t *pixels;
	int fd;		   /* the memfd holding pixels, -1 if in plain memory */
	size_t map_size;   /* bytes mapped from fd */
	struct display_consumer *consumers;
	bool damaged; /* since the lock was taken: notify at unlock */

	pthread_mutex_t update_lock; /* held while the callback runs */
	display_update_fn update;
	void *update_opaque;
	atomic_bool stale;
};

static unsigned tiles_x(const struct display_surface *s)
{
	return (s->width + DISPLAY_TILE - 1) / DISPLAY_TILE;
}

static unsigned tiles_y(const struct display_surface *s)
{
	return (s->height + DISPLAY_TILE - 1) / DISPLAY_TILE;
}

static bool size_ok(unsigned width, unsigned height)
{
	return width >= 1 && height >= 1 && width <= DISPLAY_MAX_WIDTH &&
	       height <= DISPLAY_MAX_HEIGHT;
}

/* Black pixels for a width x height picture, in a sealed memfd (so that
 * osio connect can map them without a copy) or, where memfds are not to be
 * had, in plain memory (*fd = -1). */
static uint32_t *pixels_alloc(unsigned width, unsigned height, int *fd, size_t *map_size)
{
	size_t bytes = (size_t)width * height * sizeof(uint32_t);
	*fd = memfd_create("osio-display", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (*fd >= 0) {
		void *p = MAP_FAILED;
		/* Sealed against resizing: a client holding the fd cannot shrink
		 * it under our mapping. */
		if (ftruncate(*fd, (off_t)bytes) == 0 &&
		    fcntl(*fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0)
			p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
		if (p != MAP_FAILED) {
			*map_size = bytes;
			return p;
		}
		close(*fd);
	}
	*fd = -1;
	*map_size = 0;
	return calloc(bytes, 1);
}

static void pixels_free(uint32_t *p, int fd, size_t map_size)
{
	if (fd < 0) {
		free(p);
		return;
	}
	munmap(p, map_size);
	close(fd);
}

struct display_surface *display_new(unsigned width, unsigned height)
{
	if (!size_ok(width, height))
		return NULL;
	struct display_surface *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->pixels = pixels_alloc(width, height, &s->fd, &s->map_size);
	if (!s->pixels) {
		free(s);
		return NULL;
	}
	s->width = width;
	s->height = height;
	s->generation = 1;
	atomic_init(&s->refs, 1);
	atomic_init(&s->stale, false);
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->update_lock, NULL);
	return s;
}

void display_get(struct display_surface *s)
{
	atomic_fetch_add(&s->refs, 1);
}

void display_put(struct display_surface *s)
{
	if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->update_lock);
	pixels_free(s->pixels, s->fd, s->map_size);
	free(s);
}

static void fill_view(const struct display_surface *s, struct display_view *v)
{
	v->pixels = s->pixels;
	v->width = s->width;
	v->height = s->height;
	v->stride = s->width * (unsigned)sizeof(uint32_t);
	v->generation = s->generation;
	v->fd = s->fd;
}

void display_lock(struct display_surface *s, struct display_view *v)
{
	pthread_mutex_lock(&s->lock);
	if (v)
		fill_view(s, v);
}

/* Caller holds the lock. */
static void signal_consumer(struct display_consumer *c)
{
	if (c->signalled)
		return;
	uint64_t one = 1;
	/* A full counter (never, in practice) still leaves the fd readable. */
	if (write(c->fd, &one, sizeof(one)) < 0) {
	}
	c->signalled = true;
}

void display_unlock(struct display_surface *s)
{
	if (s->damaged) {
		for (struct display_consumer *c = s->consumers; c; c = c->next)
			signal_consumer(c);
		s->damaged = false;
	}
	pthread_mutex_unlock(&s->lock);
}

int display_resize_locked(struct display_surface *s, unsigned width, unsigned height,
			  struct display_view *v)
{
	if (!size_ok(width, height))
		return -EINVAL;
	int fd;
	size_t map_size;
	uint32_t *p = pixels_alloc(width, height, &fd, &map_size);
	if (!p)
		return -ENOMEM;
	pixels_free(s->pixels, s->fd, s->map_size);
	s->pixels = p;
	s->fd = fd;
	s->map_size = map_size;
	s->width = width;
	s->height = height;
	s->generation++;
	for (struct display_consumer *c = s->consumers; c; c = c->next) {
		c->whole = true;
		memset(c->tiles, 0, sizeof(c->tiles));
	}
	s->damaged = true;
	if (v)
		fill_view(s, v);
	return 0;
}

void display_damage_locked(struct display_surface *s, unsigned x, unsigned y, unsigned w,
			   unsigned h)
{
	if (x >= s->width || y >= s->height || w == 0 || h == 0)
		return;
	if (w > s->width - x)
		w = s->width - x;
	if (h > s->height - y)
		h = s->height - y;
	unsigned tx0 = x / DISPLAY_TILE, tx1 = (x + w - 1) / DISPLAY_TILE;
	unsigned ty0 = y / DISPLAY_TILE, ty1 = (y + h - 1) / DISPLAY_TILE;
	unsigned tw = tiles_x(s);
	for (struct display_consumer *c = s->consumers; c; c = c->next) {
		if (c->whole)
			continue;
		for (unsigned ty = ty0; ty <= ty1; ty++)
			for (unsigned tx = tx0; tx <= tx1; tx++) {
				unsigned t = ty * tw + tx;
				c->tiles[t / 64] |= 1ull << (t % 64);
			}
	}
	s->damaged = true;
}

void display_set_update(struct display_surface *s, display_update_fn fn, void *opaque)
{
	pthread_mutex_lock(&s->update_lock);
	s->update = fn;
	s->update_opaque = opaque;
	pthread_mutex_unlock(&s->update_lock);
}

void display_invalidate(struct display_surface *s)
{
	if (atomic_load_explicit(&s->stale, memory_order_relaxed) ||
	    atomic_exchange(&s->stale, true))
		return;
	pthread_mutex_lock(&s->lock);
	for (struct display_consumer *c = s->consumers; c; c = c->next)
		signal_consumer(c);
	pthread_mutex_unlock(&s->lock);
}

void display_refresh(struct display_surface *s)
{
	atomic_store(&s->stale, false);
	pthread_mutex_lock(&s->update_lock);
	if (s->update)
		s->update(s->update_opaque);
	pthread_mutex_unlock(&s->update_lock);
}

struct display_consumer *display_consumer_new(struct display_surface *s)
{
	struct display_consumer *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->fd < 0) {
		free(c);
		return NULL;
	}
	display_get(s);
	c->s = s;
	c->whole = true;
	pthread_mutex_lock(&s->lock);
	c->next = s->consumers;
	s->consumers = c;
	signal_consumer(c);
	pthread_mutex_unlock(&s->lock);
	return c;
}

void display_consumer_free(struct display_consumer *c)
{
	if (!c)
		return;
	struct display_surface *s = c->s;
	pthread_mutex_lock(&s->lock);
	for (struct display_consumer **p = &s->consumers; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	close(c->fd);
	free(c);
	display_put(s);
}

int display_consumer_fd(const struct display_consumer *c)
{
	return c->fd;
}

static bool tile_set(const struct display_consumer *c, unsigned t)
{
	return c->tiles[t / 64] & (1ull << (t % 64));
}

/* Caller holds the lock. Rectangles from runs of dirty tiles in each tile
 * row; a run with the same columns as a rectangle ending just above it
 * extends that rectangle downwards. */
static unsigned collect(struct display_surface *s, struct display_consumer *c,
			struct display_rect *rects, unsigned max)
{
	unsigned tw = tiles_x(s), th = tiles_y(s), n = 0;
	bool overflow = false;
	unsigned bx0 = ~0u, by0 = ~0u, bx1 = 0, by1 = 0; /* what did not fit */
	for (unsigned ty = 0; ty < th; ty++) {
		for (unsigned tx = 0; tx < tw;) {
			if (!tile_set(c, ty * tw + tx)) {
				tx++;
				continue;
			}
			unsigned run = tx;
			while (run < tw && tile_set(c, ty * tw + run))
				run++;
			unsigned x = tx * DISPLAY_TILE, y = ty * DISPLAY_TILE;
			unsigned w = (run - tx) * DISPLAY_TILE;
			if (x + w > s->width)
				w = s->width - x;
			unsigned h = DISPLAY_TILE;
			if (y + h > s->height)
				h = s->height - y;
			tx = run;
			bool merged = false;
			for (unsigned i = 0; i < n && !merged; i++) {
				if (rects[i].x == x && rects[i].w == w &&
				    rects[i].y + rects[i].h == y) {
					rects[i].h += h;
					merged = true;
				}
			}
			if (merged)
				continue;
			if (!overflow && n + 1 < max) {
				rects[n++] = (struct display_rect){x, y, w, h};
				continue;
			}
			overflow = true;
			bx0 = x < bx0 ? x : bx0;
			by0 = y < by0 ? y : by0;
			bx1 = x + w > bx1 ? x + w : bx1;
			by1 = y + h > by1 ? y + h : by1;
		}
	}
	/* The last slot (kept free above) holds the bounding box of what did
	 * not fit. */
	if (overflow)
		rects[n++] = (struct display_rect){bx0, by0, bx1 - bx0, by1 - by0};
	return n;
}

unsigned display_consumer_take(struct display_consumer *c, struct display_rect *rects, unsigned max,
			       uint64_t *generation)
{
	struct display_surface *s = c->s;
	uint64_t drain;
	pthread_mutex_lock(&s->lock);
	if (read(c->fd, &drain, sizeof(drain)) < 0) {
		/* EAGAIN: nothing was signalled. */
	}
	c->signalled = false;
	/* An invalidate that came while the last refresh rendered left the
	 * surface stale and found this consumer still signalled: signal again,
	 * or no later invalidate would (they stop at a stale surface). */
	if (atomic_load(&s->stale))
		signal_consumer(c);
	unsigned n = 0;
	if (max == 0) {
		/* Nothing can be reported: keep the set. */
	} else if (c->whole) {
		rects[0] = (struct display_rect){0, 0, s->width, s->height};
		n = 1;
		c->whole = false;
	} else {
		n = collect(s, c, rects, max);
		memset(c->tiles, 0, sizeof(c->tiles));
	}
	if (generation)
		*generation = s->generation;
	pthread_mutex_unlock(&s->lock);
	return n;
}
