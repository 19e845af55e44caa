/* Where the VM's picture goes in a window of another size: scaled to fit
 * with its aspect ratio kept and centred between black bars, and the way
 * back from a point in the window to a pixel of the picture. */
#ifndef OSIO_CONNECT_LETTERBOX_H
#define OSIO_CONNECT_LETTERBOX_H

#include <stdbool.h>

struct letterbox {
	int x, y, w, h;
};

/* The picture's place in an out_w x out_h area: as large as fits, centred.
 * An empty box when either has no size. */
struct letterbox letterbox_fit(int pic_w, int pic_h, int out_w, int out_h);
/* Whether b shows the picture at a whole-number scale (1:1, 2:1, ...),
 * where nearest-pixel scaling is exact and crisp. */
bool letterbox_integer(const struct letterbox *b, int pic_w, int pic_h);
/* The picture pixel under point (x, y) of the area; a point on a bar or
 * outside gives the nearest pixel on the picture's edge. */
void letterbox_to_picture(const struct letterbox *b, int pic_w, int pic_h, int x, int y, int *px,
			  int *py);
/* A window size for the picture: its own size, or scaled down with its
 * aspect ratio kept to fit max_w x max_h (no limit where max is <= 0). */
void letterbox_window_size(int pic_w, int pic_h, int max_w, int max_h, int *w, int *h);

#endif
