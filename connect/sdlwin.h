/* The SDL window of osio connect: a resizable window, a streaming texture
 * with the VM's picture, letterboxed to the window's size. */
#ifndef OSIO_CONNECT_SDLWIN_H
#define OSIO_CONNECT_SDLWIN_H

#include "connect/letterbox.h"
#include "connect/sharedfb.h"

#include <SDL.h>
#include <stdbool.h>

struct sdlwin {
	SDL_Window *win;
	SDL_Renderer *ren;
	SDL_Texture *tex;
	int pic_w, pic_h;     /* the texture's size; 0 without a picture */
	int set_w, set_h;     /* the window size osio asked for last */
	bool user_sized;      /* the user (or the window manager) chose another */
	struct letterbox box; /* the picture's place, in renderer pixels */
};

/* Opens the window with the picture's size (scaled down to the desktop's
 * usable area if larger); -1 with SDL's reason in err. */
int sdlwin_open(struct sdlwin *w, const char *title, int pic_w, int pic_h, char *err,
		size_t errlen);
void sdlwin_close(struct sdlwin *w);
void sdlwin_set_title(struct sdlwin *w, const char *title);
/* A new picture size: a new texture, and the window follows unless the
 * user sized it. */
int sdlwin_set_picture(struct sdlwin *w, int pic_w, int pic_h, char *err, size_t errlen);
/* Copies r of the shared picture (of the texture's size) into the texture. */
void sdlwin_update(struct sdlwin *w, const struct sharedfb *fb, const struct sharedfb_rect *r);
void sdlwin_update_all(struct sdlwin *w, const struct sharedfb *fb);
/* Draws the picture in its letterbox. */
void sdlwin_present(struct sdlwin *w);
/* SDL_WINDOWEVENT_SIZE_CHANGED. */
void sdlwin_resized(struct sdlwin *w, int width, int height);
/* The picture pixel under window point (x, y) (SDL's mouse coordinates),
 * clamped to the picture. */
void sdlwin_to_picture(struct sdlwin *w, int x, int y, int *px, int *py);

#endif
