/* Keyboard and pointer input from the front ends (the VNC server, the SDL
 * window, the control API) to the VM's input devices (the i8042's PS/2
 * keyboard and mouse, the vmmouse absolute pointer).
 *
 * Keys are Linux evdev key codes (linux/input-event-codes.h: KEY_A = 30,
 * KEY_LEFTCTRL = 29, ...): the name of a key on a PC keyboard, whatever the
 * layout. VNC keysyms become key codes through a keymap (share/keymaps/);
 * QEMU's extended key event and SDL scancodes map directly. The keyboard
 * device turns them into scan codes. */
#ifndef OSIO_INPUT_H
#define OSIO_INPUT_H

#include <stdbool.h>
#include <stdint.h>

struct machine;

#define INPUT_BUTTON_LEFT 0x1
#define INPUT_BUTTON_RIGHT 0x2
#define INPUT_BUTTON_MIDDLE 0x4
#define INPUT_KEY_MAX 0x2ff /* KEY_MAX */

/* What a device offers. Callbacks may come from any thread. */
struct input_keyboard {
	void (*key)(void *opaque, unsigned keycode, bool down);
	void *opaque;
};

struct input_pointer {
	/* Relative motion (dy > 0 is down, dz > 0 a wheel step towards the
	 * user) and the buttons held. */
	void (*rel)(void *opaque, int dx, int dy, int dz, unsigned buttons);
	/* Absolute position, x and y scaled to 0..0xffff over the screen;
	 * NULL for relative-only devices. */
	void (*abs)(void *opaque, unsigned x, unsigned y, int dz, unsigned buttons);
	/* Whether the guest has turned absolute reporting on right now (a
	 * driver is using it); NULL means always when abs is set. */
	bool (*abs_active)(void *opaque);
	void *opaque;
};

/* Devices register at creation (one keyboard; pointers in order of
 * preference, absolute ones first) and unregister at destroy. */
int input_add_keyboard(struct machine *m, const struct input_keyboard *k);
void input_remove_keyboard(struct machine *m, const struct input_keyboard *k);
int input_add_pointer(struct machine *m, const struct input_pointer *p);
void input_remove_pointer(struct machine *m, const struct input_pointer *p);

/* Front-end side. Any thread. */
void input_key(struct machine *m, unsigned keycode, bool down);
/* Presses the keys in order, then releases them in reverse: e.g.
 * Ctrl+Alt+Del for the control API's send-key. */
void input_key_combo(struct machine *m, const unsigned *keycodes, unsigned n);
/* Releases every key a front end holds down (a viewer that went away). */
void input_release_all(struct machine *m);
/* The pointer at (x, y) on a width x height screen. Goes to an absolute
 * device the guest uses, else becomes relative motion from the last
 * position for the PS/2 mouse. */
void input_pointer_abs(struct machine *m, unsigned x, unsigned y, unsigned width,
		       unsigned height, int dz, unsigned buttons);
void input_pointer_rel(struct machine *m, int dx, int dy, int dz, unsigned buttons);

/* The router's state, inside struct machine. */
struct input_router;
struct input_router *input_router_new(void);
void input_router_free(struct input_router *r);

#endif
