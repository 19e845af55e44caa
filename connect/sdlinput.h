/* Keyboard and mouse of osio connect's window to the VM: key events as
 * evdev codes (SDL's repeats dropped: the guest repeats), the pointer as
 * absolute positions on the picture, and the grab (a click or Ctrl+Alt+G
 * takes keyboard and mouse, Ctrl+Alt+G gives them back). */
#ifndef OSIO_CONNECT_SDLINPUT_H
#define OSIO_CONNECT_SDLINPUT_H

#include "hypervisor/ctlclient.h"
#include "connect/sdlwin.h"

#include <SDL.h>
#include <linux/input-event-codes.h>
#include <stdbool.h>

#define SDLINPUT_GRAB_HINT "Ctrl+Alt+G"

struct sdlinput {
	struct ctl_client *c;
	struct sdlwin *w;
	bool grabbed;
	unsigned char held[(KEY_MAX + 1) / 8]; /* keys the guest has down */
	bool grab_key_down;		       /* G of Ctrl+Alt+G: its release is ours */
	unsigned swallowed;		       /* buttons of the click that grabbed */
	unsigned buttons;		       /* buttons the guest has down */
	bool moved;			       /* a motion not sent yet */
	int x, y;			       /* the pointer, window coordinates */
};

void sdlinput_init(struct sdlinput *in, struct ctl_client *c, struct sdlwin *w);
/* A keyboard, mouse or focus event; true when the grab changed (the title
 * says so). */
bool sdlinput_event(struct sdlinput *in, const SDL_Event *ev);
/* Sends the last motion, once per batch of SDL events. */
void sdlinput_flush(struct sdlinput *in);
/* Releases every key and button the guest has down (focus lost, leaving). */
void sdlinput_release_all(struct sdlinput *in);
void sdlinput_set_grab(struct sdlinput *in, bool grab);

#endif
