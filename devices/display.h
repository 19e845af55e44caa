/* The display surface: the picture a display adapter (VGA) produces and its
 * consumers (the VNC server, the SDL window, screenshots) read, with dirty
 * tracking kept separately for every consumer. */
#ifndef OSIO_DISPLAY_H
#define OSIO_DISPLAY_H

#include <stdbool.h>
#include <stdint.h>

/* Pixels are XRGB8888: one uint32_t per pixel, 0x00RRGGBB in host order
 * (DRM_FORMAT_XRGB8888 on little-endian hosts). */
#define DISPLAY_MAX_WIDTH  4096
#define DISPLAY_MAX_HEIGHT 4096
/* Dirty tracking granularity: consumers are told about changed tiles. */
#define DISPLAY_TILE 32

struct display_surface;
struct display_consumer;

struct display_rect {
	unsigned x, y, w, h;
};

/* What a lock holder sees. Valid until display_unlock. */
struct display_view {
	uint32_t *pixels;
	unsigned width, height;
	unsigned stride; /* bytes from one row to the next */
	uint64_t generation;
	/* A memfd holding exactly the pixels (height * stride bytes from
	 * offset 0), or -1. Owned by the surface and replaced by a resize:
	 * dup or reopen it under the lock to keep it. */
	int fd;
};

/* Asks the producer to bring the picture up to date (render what changed
 * since last time). Called without the surface lock held. */
typedef void (*display_update_fn)(void *opaque);

/* A black surface of the given size (1..DISPLAY_MAX_*), holding one
 * reference; NULL when out of memory or the size is out of range. */
struct display_surface *display_new(unsigned width, unsigned height);
/* References: the producer and every consumer hold one; the last put frees. */
void display_get(struct display_surface *s);
void display_put(struct display_surface *s);

/* The pixels and geometry, under the surface's lock. Consumers read pixels
 * only while they hold it; the producer writes them only while it holds it. */
void display_lock(struct display_surface *s, struct display_view *v);
void display_unlock(struct display_surface *s);

/* --- producer side --------------------------------------------------- */

/* With the lock held: a new size (the contents become black), a new
 * generation, and every consumer's next take covers the whole surface. v is
 * refreshed. -EINVAL for a size out of range, -ENOMEM (the old picture
 * stays). */
int display_resize_locked(struct display_surface *s, unsigned width, unsigned height,
			  struct display_view *v);
/* With the lock held: these pixels changed (clipped to the surface). The
 * consumers are notified when the lock is dropped. */
void display_damage_locked(struct display_surface *s, unsigned x, unsigned y, unsigned w,
			   unsigned h);
/* Installs (or with NULL removes) the producer's update callback. Removing
 * waits for a display_refresh that is inside the callback. */
void display_set_update(struct display_surface *s, display_update_fn fn, void *opaque);
/* The producer knows something changed that the next update will render
 * (a register or a write it saw): consumers are woken, once until the next
 * display_refresh. Cheap, callable from any thread and at any rate. */
void display_invalidate(struct display_surface *s);

/* --- consumer side --------------------------------------------------- */

/* Brings the picture up to date through the producer's callback (nothing
 * when there is no producer). Any thread. */
void display_refresh(struct display_surface *s);

/* A new consumer (holding a reference on s); its first take covers the whole
 * surface. NULL when out of memory or file descriptors. */
struct display_consumer *display_consumer_new(struct display_surface *s);
void display_consumer_free(struct display_consumer *c);
/* An eventfd that becomes readable when the picture may have changed for
 * this consumer (damage, a resize, or display_invalidate): the consumer then
 * calls display_refresh and display_consumer_take. Take clears it. */
int display_consumer_fd(const struct display_consumer *c);
/* Moves the consumer's dirty set into rects (at most max; the last one is
 * the bounding box of whatever did not fit) and returns how many; the set
 * is empty afterwards. *generation (if not NULL) is the surface generation
 * the rectangles belong to. */
unsigned display_consumer_take(struct display_consumer *c, struct display_rect *rects, unsigned max,
			       uint64_t *generation);

/* Saves the current picture (after a refresh) as an 8-bit RGB PNG. Errors
 * are logged naming the file; returns 0 or -errno. */
int display_save_png(struct display_surface *s, const char *path);
/* The same into fd (taken over, closed; open for writing), which goes by
 * name in messages. What was written stays on failure: the caller that
 * opened it removes it. */
int display_save_png_fd(struct display_surface *s, int fd, const char *name);

#endif
