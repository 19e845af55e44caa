/* SDL keyboard and mouse events to input-key and input-pointer requests.
 * Their replies go to the session's reply handler. */
#include "connect/sdlinput.h"

#include "connect/scancodes.h"

#include <string.h>

void sdlinput_init(struct sdlinput *in, struct ctl_client *c, struct sdlwin *w)
{
	*in = (struct sdlinput){.c = c, .w = w};
}

static bool is_held(const struct sdlinput *in, unsigned code)
{
	return in->held[code / 8] & (1u << (code % 8));
}

static void send_key(struct sdlinput *in, unsigned code, bool down)
{
	if (down)
		in->held[code / 8] |= (unsigned char)(1u << (code % 8));
	else
		in->held[code / 8] &= (unsigned char)~(1u << (code % 8));
	/* A send that fails means the connection is going: the reader sees it. */
	ctl_send(in->c, "input-key", json_pack("{s:i,s:b}", "key", (int)code, "down", down), NULL);
}

static void send_pointer(struct sdlinput *in, int dz)
{
	int px, py;
	if (in->w->pic_w <= 0 || in->w->pic_h <= 0)
		return;
	sdlwin_to_picture(in->w, in->x, in->y, &px, &py);
	ctl_send(in->c, "input-pointer",
		 json_pack("{s:i,s:i,s:i,s:i,s:i,s:i}", "x", px, "y", py, "width", in->w->pic_w,
			   "height", in->w->pic_h, "buttons", (int)in->buttons, "dz", dz),
		 NULL);
	in->moved = false;
}

/* The control API's button bits: 0 left, 1 right, 2 middle. */
static unsigned button_bit(Uint8 button)
{
	switch (button) {
	case SDL_BUTTON_LEFT:
		return 1;
	case SDL_BUTTON_RIGHT:
		return 2;
	case SDL_BUTTON_MIDDLE:
		return 4;
	default:
		return 0;
	}
}

void sdlinput_set_grab(struct sdlinput *in, bool grab)
{
	in->grabbed = grab;
	SDL_SetWindowGrab(in->w->win, grab ? SDL_TRUE : SDL_FALSE);
	SDL_SetWindowKeyboardGrab(in->w->win, grab ? SDL_TRUE : SDL_FALSE);
	/* The guest draws its own pointer over the picture. */
	SDL_ShowCursor(grab ? SDL_DISABLE : SDL_ENABLE);
}

void sdlinput_release_all(struct sdlinput *in)
{
	for (unsigned code = 0; code <= KEY_MAX; code++)
		if (is_held(in, code))
			send_key(in, code, false);
	if (in->buttons) {
		in->buttons = 0;
		send_pointer(in, 0);
	}
}

static bool key_event(struct sdlinput *in, const SDL_KeyboardEvent *k)
{
	bool down = k->type == SDL_KEYDOWN;
	/* Typematic repeat is the guest's business, as with a real keyboard. */
	if (down && k->repeat)
		return false;
	if (k->keysym.scancode == SDL_SCANCODE_G) {
		if (down && (k->keysym.mod & KMOD_CTRL) && (k->keysym.mod & KMOD_ALT)) {
			in->grab_key_down = true;
			sdlinput_set_grab(in, !in->grabbed);
			return true;
		}
		if (!down && in->grab_key_down) {
			in->grab_key_down = false;
			return false;
		}
	}
	unsigned code = scancode_to_evdev((unsigned)k->keysym.scancode);
	if (!code || code > KEY_MAX)
		return false;
	/* A key pressed before the window had the focus: the guest never saw it go down. */
	if (!down && !is_held(in, code))
		return false;
	send_key(in, code, down);
	return false;
}

bool sdlinput_event(struct sdlinput *in, const SDL_Event *ev)
{
	unsigned bit;
	switch (ev->type) {
	case SDL_KEYDOWN:
	case SDL_KEYUP:
		return key_event(in, &ev->key);
	case SDL_MOUSEMOTION:
		if (!in->grabbed)
			return false;
		in->x = ev->motion.x;
		in->y = ev->motion.y;
		in->moved = true;
		return false;
	case SDL_MOUSEBUTTONDOWN:
		bit = button_bit(ev->button.button);
		in->x = ev->button.x;
		in->y = ev->button.y;
		if (!in->grabbed) {
			/* The click that takes the mouse is not the guest's. */
			in->swallowed |= bit;
			sdlinput_set_grab(in, true);
			return true;
		}
		if (bit) {
			in->buttons |= bit;
			send_pointer(in, 0);
		}
		return false;
	case SDL_MOUSEBUTTONUP:
		bit = button_bit(ev->button.button);
		in->x = ev->button.x;
		in->y = ev->button.y;
		if (in->swallowed & bit) {
			in->swallowed &= ~bit;
			return false;
		}
		if (in->grabbed && (in->buttons & bit)) {
			in->buttons &= ~bit;
			send_pointer(in, 0);
		}
		return false;
	case SDL_MOUSEWHEEL: {
		if (!in->grabbed || ev->wheel.y == 0)
			return false;
		/* SDL: y > 0 is away from the user; the API: dz > 0 is towards. */
		int dz = ev->wheel.direction == SDL_MOUSEWHEEL_FLIPPED ? ev->wheel.y : -ev->wheel.y;
		send_pointer(in, dz);
		return false;
	}
	case SDL_WINDOWEVENT:
		if (ev->window.event != SDL_WINDOWEVENT_FOCUS_LOST)
			return false;
		/* Keys released elsewhere would stay down in the guest. */
		sdlinput_release_all(in);
		in->grab_key_down = false;
		in->swallowed = 0;
		if (!in->grabbed)
			return false;
		sdlinput_set_grab(in, false);
		return true;
	default:
		return false;
	}
}

void sdlinput_flush(struct sdlinput *in)
{
	if (in->moved && in->grabbed)
		send_pointer(in, 0);
	in->moved = false;
}
