/* Keys typed in the console's in-terminal view of a VM, as the VM gets
 * them: a curses key (a character or a KEY_* code) to a send-key
 * combination of the US keyboard layout ("a", "shift-1" for '!', "ctrl-c",
 * "ret", "f5", "shift-up"). No terminal here: pure functions. */
#ifndef OSIO_CONSOLE_TERMKEYS_H
#define OSIO_CONSOLE_TERMKEYS_H

#include <stdbool.h>
#include <stddef.h>

#define TERMKEY_MAX 40 /* the longest combination written, with its NUL */

/* The combination for key: a character (0..255; ASCII only, anything above
 * 0x7f has no key of its own on the US layout) or a curses KEY_* code
 * (>= KEY_MIN). alt adds "alt-" (the terminal sent Esc before it). Writes
 * it to out (outlen bytes, TERMKEY_MAX is enough) and returns 0, or
 * -ENOENT when the key has no counterpart (KEY_MOUSE, KEY_RESIZE, a
 * character outside ASCII), -ENOSPC when out is too small. */
int termkey_combo(int key, bool alt, char *out, size_t outlen);

/* The combination for a key curses knows only by its terminfo extended
 * name (what keyname() gives for codes above KEY_MAX): xterm's modified
 * cursor and editing keys "kUP5" (ctrl-up), "kLFT3" (alt-left), "kDC2",
 * "kHOM6", ... (2 shift, 3 alt, 4 shift-alt, 5 ctrl, 6 ctrl-shift, 7
 * ctrl-alt, 8 ctrl-alt-shift). 0, -ENOENT or -ENOSPC as termkey_combo. */
int termkey_combo_name(const char *name, char *out, size_t outlen);

#endif
