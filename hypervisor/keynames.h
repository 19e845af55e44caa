/* Key names for people and scripts (the control API's send-key, osio
 * send-key): Linux's key code names in lower case ("leftctrl", "f1", "a")
 * and the usual short forms ("ctrl", "del"), to and from evdev key codes. */
#ifndef OSIO_KEYNAMES_H
#define OSIO_KEYNAMES_H

#include <stddef.h>

/* The key code of a name (case-insensitive), or of a number 1..INPUT_KEY_MAX
 * written in decimal or 0x-hex; -EINVAL if it names no key. */
int keyname_code(const char *name);
/* The canonical name of a key code, or NULL. */
const char *keyname_name(unsigned code);
/* Splits a combination such as "ctrl-alt-delete" or "ctrl+alt+f2" into key
 * codes (the minus and equal keys are "minus" and "equal"). At most max
 * keys; returns how many, -EINVAL with the part that names no key in bad
 * (may be NULL), or -E2BIG. */
int keyname_combo(const char *combo, unsigned *codes, unsigned max, char *bad, size_t badlen);

#endif
