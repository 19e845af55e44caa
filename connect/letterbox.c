/* Letterbox geometry: picture to window and window point to picture pixel,
 * in 64-bit integer arithmetic (no rounding drift, no overflow). */
#include "connect/letterbox.h"

#include <stdint.h>

struct letterbox letterbox_fit(int pic_w, int pic_h, int out_w, int out_h)
{
	struct letterbox b = {0, 0, 0, 0};
	if (pic_w <= 0 || pic_h <= 0 || out_w <= 0 || out_h <= 0)
		return b;
	/* Width-limited when out_w / pic_w <= out_h / pic_h. */
	if ((int64_t)out_w * pic_h <= (int64_t)out_h * pic_w) {
		b.w = out_w;
		b.h = (int)(((int64_t)out_w * pic_h * 2 + pic_w) / (2 * (int64_t)pic_w));
	} else {
		b.h = out_h;
		b.w = (int)(((int64_t)out_h * pic_w * 2 + pic_h) / (2 * (int64_t)pic_h));
	}
	if (b.w < 1)
		b.w = 1;
	if (b.h < 1)
		b.h = 1;
	b.x = (out_w - b.w) / 2;
	b.y = (out_h - b.h) / 2;
	return b;
}

bool letterbox_integer(const struct letterbox *b, int pic_w, int pic_h)
{
	if (pic_w <= 0 || pic_h <= 0 || b->w <= 0 || b->h <= 0)
		return false;
	return b->w % pic_w == 0 && b->h % pic_h == 0 && b->w / pic_w == b->h / pic_h;
}

static int to_pixel(int pos, int start, int len, int pic)
{
	if (len <= 0 || pic <= 0 || pos < start)
		return 0;
	int64_t p = (int64_t)(pos - start) * pic / len;
	return p >= pic ? pic - 1 : (int)p;
}

void letterbox_to_picture(const struct letterbox *b, int pic_w, int pic_h, int x, int y, int *px,
			  int *py)
{
	*px = to_pixel(x, b->x, b->w, pic_w);
	*py = to_pixel(y, b->y, b->h, pic_h);
}

void letterbox_window_size(int pic_w, int pic_h, int max_w, int max_h, int *w, int *h)
{
	*w = pic_w;
	*h = pic_h;
	if (pic_w <= 0 || pic_h <= 0)
		return;
	if (max_w <= 0)
		max_w = pic_w;
	if (max_h <= 0)
		max_h = pic_h;
	if (pic_w <= max_w && pic_h <= max_h)
		return;
	struct letterbox b = letterbox_fit(pic_w, pic_h, max_w, max_h);
	*w = b.w;
	*h = b.h;
}
