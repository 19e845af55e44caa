/* The window, its renderer and the picture's texture. Nearest-pixel scaling
 * at whole-number ratios (crisp text at 1:1 and 2:1), linear otherwise. */
#include "connect/sdlwin.h"

#include <stdio.h>

#define DEFAULT_W 640 /* the window of a screen with no picture yet */
#define DEFAULT_H 480

/* The largest window that fits the usable area of the window's display
 * (the desktop less panels), less the window's borders when known. */
static void max_size(struct sdlwin *w, int *mw, int *mh)
{
	SDL_Rect r;
	int d = w->win ? SDL_GetWindowDisplayIndex(w->win) : 0;
	*mw = *mh = 0;
	if (SDL_GetDisplayUsableBounds(d < 0 ? 0 : d, &r) < 0)
		return;
	int top = 0, left = 0, bottom = 0, right = 0;
	if (w->win)
		SDL_GetWindowBordersSize(w->win, &top, &left, &bottom, &right);
	*mw = r.w - left - right;
	*mh = r.h - top - bottom;
}

static void window_size_for(struct sdlwin *w, int pic_w, int pic_h, int *ww, int *wh)
{
	int mw, mh;
	if (pic_w <= 0 || pic_h <= 0) {
		pic_w = DEFAULT_W;
		pic_h = DEFAULT_H;
	}
	max_size(w, &mw, &mh);
	letterbox_window_size(pic_w, pic_h, mw, mh, ww, wh);
}

static int new_texture(struct sdlwin *w, int pic_w, int pic_h, char *err, size_t errlen)
{
	if (w->tex)
		SDL_DestroyTexture(w->tex);
	w->tex = NULL;
	w->pic_w = w->pic_h = 0;
	if (pic_w <= 0 || pic_h <= 0)
		return 0;
	w->tex = SDL_CreateTexture(w->ren, SDL_PIXELFORMAT_XRGB8888, SDL_TEXTUREACCESS_STREAMING,
				   pic_w, pic_h);
	if (!w->tex) {
		snprintf(err, errlen, "cannot make a %dx%d texture: %s", pic_w, pic_h,
			 SDL_GetError());
		return -1;
	}
	w->pic_w = pic_w;
	w->pic_h = pic_h;
	return 0;
}

int sdlwin_open(struct sdlwin *w, const char *title, int pic_w, int pic_h, char *err, size_t errlen)
{
	*w = (struct sdlwin){0};
	int ww, wh;
	window_size_for(w, pic_w, pic_h, &ww, &wh);
	w->win = SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, ww, wh,
				  SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
	if (!w->win) {
		snprintf(err, errlen, "cannot open a window: %s", SDL_GetError());
		return -1;
	}
	w->set_w = ww;
	w->set_h = wh;
	w->ren = SDL_CreateRenderer(w->win, -1, 0);
	if (!w->ren) {
		snprintf(err, errlen, "cannot draw in the window: %s", SDL_GetError());
		sdlwin_close(w);
		return -1;
	}
	if (new_texture(w, pic_w, pic_h, err, errlen) < 0) {
		sdlwin_close(w);
		return -1;
	}
	return 0;
}

void sdlwin_close(struct sdlwin *w)
{
	if (w->tex)
		SDL_DestroyTexture(w->tex);
	if (w->ren)
		SDL_DestroyRenderer(w->ren);
	if (w->win)
		SDL_DestroyWindow(w->win);
	*w = (struct sdlwin){0};
}

void sdlwin_set_title(struct sdlwin *w, const char *title)
{
	SDL_SetWindowTitle(w->win, title);
}

int sdlwin_set_picture(struct sdlwin *w, int pic_w, int pic_h, char *err, size_t errlen)
{
	int r = new_texture(w, pic_w, pic_h, err, errlen);
	if (r < 0 || w->user_sized)
		return r;
	int ww, wh;
	window_size_for(w, pic_w, pic_h, &ww, &wh);
	w->set_w = ww;
	w->set_h = wh;
	SDL_SetWindowSize(w->win, ww, wh);
	return 0;
}

void sdlwin_update(struct sdlwin *w, const struct sharedfb *fb, const struct sharedfb_rect *r)
{
	/* After a mode change the texture follows before the updates do. */
	if (!w->tex || !fb->pixels || fb->width != w->pic_w || fb->height != w->pic_h)
		return;
	SDL_Rect sr = {r->x, r->y, r->w, r->h};
	SDL_UpdateTexture(w->tex, &sr, fb->pixels + (size_t)r->y * fb->stride + (size_t)r->x * 4,
			  fb->stride);
}

void sdlwin_update_all(struct sdlwin *w, const struct sharedfb *fb)
{
	struct sharedfb_rect r = {0, 0, fb->width, fb->height};
	if (fb->width > 0 && fb->height > 0)
		sdlwin_update(w, fb, &r);
}

void sdlwin_present(struct sdlwin *w)
{
	int ow = 0, oh = 0;
	SDL_GetRendererOutputSize(w->ren, &ow, &oh);
	w->box = letterbox_fit(w->pic_w, w->pic_h, ow, oh);
	SDL_SetRenderDrawColor(w->ren, 0, 0, 0, 255);
	SDL_RenderClear(w->ren);
	if (w->tex && w->box.w > 0) {
		bool crisp = letterbox_integer(&w->box, w->pic_w, w->pic_h);
		SDL_SetTextureScaleMode(w->tex, crisp ? SDL_ScaleModeNearest : SDL_ScaleModeLinear);
		SDL_Rect dst = {w->box.x, w->box.y, w->box.w, w->box.h};
		SDL_RenderCopy(w->ren, w->tex, NULL, &dst);
	}
	SDL_RenderPresent(w->ren);
}

void sdlwin_resized(struct sdlwin *w, int width, int height)
{
	if (width != w->set_w || height != w->set_h)
		w->user_sized = true;
}

void sdlwin_to_picture(struct sdlwin *w, int x, int y, int *px, int *py)
{
	/* Mouse coordinates are the window's; the box is in renderer pixels
	 * (more of them on a high-density display). */
	int ww = 0, wh = 0, ow = 0, oh = 0;
	SDL_GetWindowSize(w->win, &ww, &wh);
	SDL_GetRendererOutputSize(w->ren, &ow, &oh);
	if (ww > 0 && wh > 0 && ow > 0 && oh > 0) {
		x = (int)((long long)x * ow / ww);
		y = (int)((long long)y * oh / wh);
	}
	struct letterbox b = letterbox_fit(w->pic_w, w->pic_h, ow, oh);
	letterbox_to_picture(&b, w->pic_w, w->pic_h, x, y, px, py);
}
