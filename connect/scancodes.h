/* SDL scancodes (USB HID keyboard usages, plus SDL's own numbers for media
 * keys) to Linux evdev key codes, the control API's key numbers. */
#ifndef OSIO_CONNECT_SCANCODES_H
#define OSIO_CONNECT_SCANCODES_H

/* One past the highest scancode the table knows. */
#define SCANCODES_MAX 287

/* The key code for an SDL scancode; 0 for a scancode with no PC key. */
unsigned scancode_to_evdev(unsigned scancode);

#endif
