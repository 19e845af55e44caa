/* The VM's screen as its worker shares it: a read-only mapping of the memfd
 * that comes with display-attach and display-resize, its geometry checked
 * against the descriptor so that no read leaves the mapping. */
#ifndef OSIO_CONNECT_SHAREDFB_H
#define OSIO_CONNECT_SHAREDFB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHAREDFB_MAX_DIM  16384	      /* widest and tallest picture taken */
#define SHAREDFB_MAX_SIZE (1ll << 30) /* largest buffer mapped */

/* What the worker says of a buffer (format xrgb8888: 0x00RRGGBB words). */
struct sharedfb_geometry {
	int width, height, stride;
	size_t size;
};

struct sharedfb {
	const uint8_t *pixels; /* NULL: no picture (0 x 0) */
	size_t size;
	int width, height, stride;
};

struct sharedfb_rect {
	int x, y, w, h;
};

/* Reads width, height, stride, size and format (xrgb8888 when absent) from
 * display-attach's answer or a display-resize event; -EINVAL (-ENOTSUP for
 * another format) with one line in err when they are missing, out of range
 * or do not fit together. 0 x 0 is a screen with no picture. */
int sharedfb_parse(json_t *obj, struct sharedfb_geometry *g, char *err, size_t errlen);
/* Maps fd (closed in every case) as g says, after checking the descriptor
 * holds g->size bytes. fb is left alone on failure. */
int sharedfb_map(struct sharedfb *fb, const struct sharedfb_geometry *g, int fd, char *err,
		 size_t errlen);
void sharedfb_unmap(struct sharedfb *fb);
/* A rectangle the worker named, clipped to the picture; false if nothing
 * of it is on the picture. */
bool sharedfb_clip(const struct sharedfb *fb, long long x, long long y, long long w, long long h,
		   struct sharedfb_rect *r);

#endif
