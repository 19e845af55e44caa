/* Mapping the worker's shared screen buffer, with every number the worker
 * sends checked before a pixel is read. */
#include "connect/sharedfb.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static bool get_int(json_t *obj, const char *key, long long lo, long long hi, long long *v)
{
	json_t *j = json_object_get(obj, key);
	if (!json_is_integer(j))
		return false;
	*v = json_integer_value(j);
	return *v >= lo && *v <= hi;
}

int sharedfb_parse(json_t *obj, struct sharedfb_geometry *g, char *err, size_t errlen)
{
	long long w, h, stride, size;
	if (!get_int(obj, "width", 0, SHAREDFB_MAX_DIM, &w) ||
	    !get_int(obj, "height", 0, SHAREDFB_MAX_DIM, &h) ||
	    !get_int(obj, "stride", 0, 4ll * SHAREDFB_MAX_DIM * 4, &stride) ||
	    !get_int(obj, "size", 0, SHAREDFB_MAX_SIZE, &size)) {
		snprintf(err, errlen,
			 "the VM's display geometry is missing or out of range (width and height "
			 "0..%d, stride, size up to %lld)",
			 SHAREDFB_MAX_DIM, SHAREDFB_MAX_SIZE);
		return -EINVAL;
	}
	json_t *fmt = json_object_get(obj, "format");
	if (fmt && (!json_is_string(fmt) || strcmp(json_string_value(fmt), "xrgb8888") != 0)) {
		snprintf(err, errlen, "the VM's display format '%.32s' is not xrgb8888",
			 json_is_string(fmt) ? json_string_value(fmt) : "?");
		return -ENOTSUP;
	}
	if (w == 0 || h == 0) {
		w = h = 0;
	} else if (stride < w * 4 || stride % 4 || size < stride * (h - 1) + w * 4) {
		snprintf(err, errlen,
			 "the VM's display geometry does not add up (%lldx%lld, stride %lld, size "
			 "%lld)",
			 w, h, stride, size);
		return -EINVAL;
	}
	g->width = (int)w;
	g->height = (int)h;
	g->stride = (int)stride;
	g->size = (size_t)size;
	return 0;
}

int sharedfb_map(struct sharedfb *fb, const struct sharedfb_geometry *g, int fd, char *err,
		 size_t errlen)
{
	int r = 0;
	void *p = NULL;
	struct stat st;
	if (g->width == 0) {
		/* No picture: nothing to map. */
	} else if (fd < 0) {
		snprintf(err, errlen, "the VM sent no descriptor with its display");
		r = -EPROTO;
	} else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
		   (unsigned long long)st.st_size < g->size) {
		/* Reading past the end of a shorter file would be SIGBUS. */
		snprintf(err, errlen, "the VM's display descriptor is not a buffer of %zu bytes",
			 g->size);
		r = -EPROTO;
	} else {
		p = mmap(NULL, g->size, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			r = -errno;
			snprintf(err, errlen, "mapping the VM's display (%zu bytes): %s", g->size,
				 strerror(errno));
		}
	}
	if (fd >= 0)
		close(fd);
	if (r < 0)
		return r;
	sharedfb_unmap(fb);
	fb->pixels = p;
	fb->size = p ? g->size : 0;
	fb->width = g->width;
	fb->height = g->height;
	fb->stride = g->stride;
	return 0;
}

void sharedfb_unmap(struct sharedfb *fb)
{
	if (fb->pixels)
		munmap((void *)fb->pixels, fb->size);
	*fb = (struct sharedfb){0};
}

bool sharedfb_clip(const struct sharedfb *fb, long long x, long long y, long long w, long long h,
		   struct sharedfb_rect *r)
{
	if (!fb->pixels || w <= 0 || h <= 0)
		return false;
	/* The values are the worker's: keep the sums far from overflow. */
	if (x < -SHAREDFB_MAX_DIM * 4ll || y < -SHAREDFB_MAX_DIM * 4ll || x > SHAREDFB_MAX_DIM ||
	    y > SHAREDFB_MAX_DIM)
		return false;
	if (w > SHAREDFB_MAX_DIM * 8ll)
		w = SHAREDFB_MAX_DIM * 8ll;
	if (h > SHAREDFB_MAX_DIM * 8ll)
		h = SHAREDFB_MAX_DIM * 8ll;
	long long x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
	long long x1 = x + w > fb->width ? fb->width : x + w;
	long long y1 = y + h > fb->height ? fb->height : y + h;
	if (x1 <= x0 || y1 <= y0)
		return false;
	*r = (struct sharedfb_rect){(int)x0, (int)y0, (int)(x1 - x0), (int)(y1 - y0)};
	return true;
}
