/* Keyboard layouts for VNC viewers that send X keysyms: which key (a Linux
 * evdev code) and which modifiers (Shift, AltGr) produce a keysym. Layouts
 * are text files in share/keymaps/ (format in share/keymaps/README). */
#ifndef OSIO_VNC_KEYMAP_H
#define OSIO_VNC_KEYMAP_H

#include <stddef.h>
#include <stdint.h>

#define KEYMAP_SHIFT 0x1
#define KEYMAP_ALTGR 0x2
/* A character of the layout (a line of its file): the Shift and AltGr state
 * must be exactly as given. The built-in keys only need what they name. */
#define KEYMAP_EXACT 0x4

#define KEYMAP_NAME_MAX 32

struct keymap_entry {
	uint32_t keysym;
	uint16_t keycode; /* KEY_* */
	uint8_t mods;	  /* KEYMAP_* */
};

struct keymap;

/* Parses a layout's text (len bytes, not necessarily NUL-terminated).
 * origin names it in messages ("FILE:LINE: ..."). 0, -EINVAL with the
 * problem logged, or -ENOMEM. */
int keymap_parse(const char *text, size_t len, const char *origin, struct keymap **out);
/* Reads the layout called name from the first of $OSIO_KEYMAP_PATH
 * (colon-separated), the share/keymaps folder next to the osio binary and in
 * its source tree, /usr/local/share/osio/keymaps and /usr/share/osio/keymaps
 * that has it. Logs one line saying what is wrong on failure. */
int keymap_load(const char *name, struct keymap **out);
void keymap_free(struct keymap *k);
const char *keymap_name(const struct keymap *k);

/* The key producing keysym with the modifiers held (KEYMAP_*): among the
 * layout's entries one whose modifiers match what is held, else the first one
 * in the file; then the keys that are the same on every layout (Return, F1,
 * the arrows, the modifiers, the keypad). NULL when nothing produces it. */
const struct keymap_entry *keymap_lookup(const struct keymap *k, uint32_t keysym, unsigned held);

/* The layout's own entries, in file order (tests, tools). */
size_t keymap_count(const struct keymap *k);
const struct keymap_entry *keymap_at(const struct keymap *k, size_t i);

/* A keysym name ("adiaeresis", "Return"), "U+20AC"/"U20AC", or "0x20ac".
 * -ENOENT for an unknown name, -EINVAL for a bad number. */
int keysym_from_name(const char *name, uint32_t *keysym);
/* Whether a keysym is a letter with two cases (Caps Lock changes it). */
int keysym_is_letter(uint32_t keysym);

#endif
