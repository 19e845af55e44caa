/* What a PS/2 keyboard sends for a key: Linux evdev key codes (the input
 * router's) to scan code set 2 make and break sequences. */
#ifndef OSIO_PS2_KEYS_H
#define OSIO_PS2_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest sequence: Pause, E1 14 77 E1 F0 14 F0 77. */
#define PS2_KEYS_SEQ_MAX 8

/* The modifiers the keyboard itself tracks: Print Screen and Pause send
 * other codes while Shift, Ctrl or Alt are held. */
struct ps2_keys {
	uint8_t held; /* PS2_KEYS_* bits below, one per physical key */
};

#define PS2_KEYS_LSHIFT 0x01u
#define PS2_KEYS_RSHIFT 0x02u
#define PS2_KEYS_LCTRL	0x04u
#define PS2_KEYS_RCTRL	0x08u
#define PS2_KEYS_LALT	0x10u
#define PS2_KEYS_RALT	0x20u

/* The set-2 bytes for keycode going down (a repeated down is a typematic
 * repeat and sends the make code again) or up, into out; updates the
 * modifiers held. Returns the number of bytes: 0 for a key the keyboard
 * does not have, and for the release of the keys that send nothing then
 * (Pause, the Korean Hangeul and Hanja keys). */
size_t ps2_keys_set2(struct ps2_keys *k, unsigned keycode, bool down,
		     uint8_t out[PS2_KEYS_SEQ_MAX]);

/* Whether the keyboard has this key. */
bool ps2_keys_known(unsigned keycode);

#endif
