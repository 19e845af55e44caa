/* The PS/2 keyboard's key table: evdev key codes to scan code set 2 make and
 * break sequences, from Microsoft's "Keyboard Scan Code Specification" (the
 * set-2 tables and its USB HID to PS/2 appendix), the same positions Linux's
 * atkbd set-2 table decodes. */
#include "devices/ps2_keys.h"

#include <linux/input-event-codes.h>
#include <string.h>

/* A table entry: the code, with E0 in the high byte for extended keys. */
#define E0(code) (0xe000u | (code))
#define BREAK	 0xf0

static const uint16_t set2[] = {
    /* The typewriter keys. */
    [KEY_ESC] = 0x76,
    [KEY_1] = 0x16,
    [KEY_2] = 0x1e,
    [KEY_3] = 0x26,
    [KEY_4] = 0x25,
    [KEY_5] = 0x2e,
    [KEY_6] = 0x36,
    [KEY_7] = 0x3d,
    [KEY_8] = 0x3e,
    [KEY_9] = 0x46,
    [KEY_0] = 0x45,
    [KEY_MINUS] = 0x4e,
    [KEY_EQUAL] = 0x55,
    [KEY_BACKSPACE] = 0x66,
    [KEY_TAB] = 0x0d,
    [KEY_Q] = 0x15,
    [KEY_W] = 0x1d,
    [KEY_E] = 0x24,
    [KEY_R] = 0x2d,
    [KEY_T] = 0x2c,
    [KEY_Y] = 0x35,
    [KEY_U] = 0x3c,
    [KEY_I] = 0x43,
    [KEY_O] = 0x44,
    [KEY_P] = 0x4d,
    [KEY_LEFTBRACE] = 0x54,
    [KEY_RIGHTBRACE] = 0x5b,
    [KEY_ENTER] = 0x5a,
    [KEY_LEFTCTRL] = 0x14,
    [KEY_A] = 0x1c,
    [KEY_S] = 0x1b,
    [KEY_D] = 0x23,
    [KEY_F] = 0x2b,
    [KEY_G] = 0x34,
    [KEY_H] = 0x33,
    [KEY_J] = 0x3b,
    [KEY_K] = 0x42,
    [KEY_L] = 0x4b,
    [KEY_SEMICOLON] = 0x4c,
    [KEY_APOSTROPHE] = 0x52,
    [KEY_GRAVE] = 0x0e,
    [KEY_LEFTSHIFT] = 0x12,
    [KEY_BACKSLASH] = 0x5d,
    [KEY_Z] = 0x1a,
    [KEY_X] = 0x22,
    [KEY_C] = 0x21,
    [KEY_V] = 0x2a,
    [KEY_B] = 0x32,
    [KEY_N] = 0x31,
    [KEY_M] = 0x3a,
    [KEY_COMMA] = 0x41,
    [KEY_DOT] = 0x49,
    [KEY_SLASH] = 0x4a,
    [KEY_RIGHTSHIFT] = 0x59,
    [KEY_LEFTALT] = 0x11,
    [KEY_SPACE] = 0x29,
    [KEY_CAPSLOCK] = 0x58,
    [KEY_102ND] = 0x61, /* the ISO key between left Shift and Z */
    [KEY_RIGHTCTRL] = E0(0x14),
    [KEY_RIGHTALT] = E0(0x11),
    [KEY_LEFTMETA] = E0(0x1f),
    [KEY_RIGHTMETA] = E0(0x27),
    [KEY_COMPOSE] = E0(0x2f), /* the application (menu) key */

    /* Function keys; F7 is the one set-2 code above 0x7f. F13-F24 as
     * Microsoft's USB table gives them. */
    [KEY_F1] = 0x05,
    [KEY_F2] = 0x06,
    [KEY_F3] = 0x04,
    [KEY_F4] = 0x0c,
    [KEY_F5] = 0x03,
    [KEY_F6] = 0x0b,
    [KEY_F7] = 0x83,
    [KEY_F8] = 0x0a,
    [KEY_F9] = 0x01,
    [KEY_F10] = 0x09,
    [KEY_F11] = 0x78,
    [KEY_F12] = 0x07,
    [KEY_F13] = 0x08,
    [KEY_F14] = 0x10,
    [KEY_F15] = 0x18,
    [KEY_F16] = 0x20,
    [KEY_F17] = 0x28,
    [KEY_F18] = 0x30,
    [KEY_F19] = 0x38,
    [KEY_F20] = 0x40,
    [KEY_F21] = 0x48,
    [KEY_F22] = 0x50,
    [KEY_F23] = 0x57,
    [KEY_F24] = 0x5f,
    [KEY_SCROLLLOCK] = 0x7e,

    /* The editing block and arrows (without the fake shifts some
     * keyboards add around them while Num Lock or Shift is on). */
    [KEY_INSERT] = E0(0x70),
    [KEY_DELETE] = E0(0x71),
    [KEY_HOME] = E0(0x6c),
    [KEY_END] = E0(0x69),
    [KEY_PAGEUP] = E0(0x7d),
    [KEY_PAGEDOWN] = E0(0x7a),
    [KEY_UP] = E0(0x75),
    [KEY_DOWN] = E0(0x72),
    [KEY_LEFT] = E0(0x6b),
    [KEY_RIGHT] = E0(0x74),

    /* The keypad. */
    [KEY_NUMLOCK] = 0x77,
    [KEY_KPSLASH] = E0(0x4a),
    [KEY_KPASTERISK] = 0x7c,
    [KEY_KPMINUS] = 0x7b,
    [KEY_KPPLUS] = 0x79,
    [KEY_KPENTER] = E0(0x5a),
    [KEY_KPDOT] = 0x71,
    [KEY_KP0] = 0x70,
    [KEY_KP1] = 0x69,
    [KEY_KP2] = 0x72,
    [KEY_KP3] = 0x7a,
    [KEY_KP4] = 0x6b,
    [KEY_KP5] = 0x73,
    [KEY_KP6] = 0x74,
    [KEY_KP7] = 0x6c,
    [KEY_KP8] = 0x75,
    [KEY_KP9] = 0x7d,
    [KEY_KPEQUAL] = 0x0f,
    [KEY_KPCOMMA] = 0x6d,   /* Brazilian keypad "." beside "+" */
    [KEY_KPJPCOMMA] = 0x27, /* Japanese keypad "," */

    /* Japanese keyboards (USB International1-5, LANG3-5). */
    [KEY_RO] = 0x51,
    [KEY_KATAKANAHIRAGANA] = 0x13,
    [KEY_YEN] = 0x6a,
    [KEY_HENKAN] = 0x64,
    [KEY_MUHENKAN] = 0x67,
    [KEY_KATAKANA] = 0x63,
    [KEY_HIRAGANA] = 0x62,
    [KEY_ZENKAKUHANKAKU] = 0x5f,

    /* ACPI power keys and the Windows multimedia keys. */
    [KEY_POWER] = E0(0x37),
    [KEY_SLEEP] = E0(0x3f),
    [KEY_WAKEUP] = E0(0x5e),
    [KEY_NEXTSONG] = E0(0x4d),
    [KEY_PREVIOUSSONG] = E0(0x15),
    [KEY_STOPCD] = E0(0x3b),
    [KEY_PLAYPAUSE] = E0(0x34),
    [KEY_MUTE] = E0(0x23),
    [KEY_VOLUMEUP] = E0(0x32),
    [KEY_VOLUMEDOWN] = E0(0x21),
    [KEY_MEDIA] = E0(0x50),
    [KEY_MAIL] = E0(0x48),
    [KEY_CALC] = E0(0x2b),
    [KEY_COMPUTER] = E0(0x40),
    [KEY_SEARCH] = E0(0x10),
    [KEY_HOMEPAGE] = E0(0x3a),
    [KEY_BACK] = E0(0x38),
    [KEY_FORWARD] = E0(0x30),
    [KEY_STOP] = E0(0x28),
    [KEY_REFRESH] = E0(0x20),
    [KEY_BOOKMARKS] = E0(0x18),
};

#define TABLE_SIZE (sizeof(set2) / sizeof(set2[0]))

static unsigned modifier_bit(unsigned keycode)
{
	switch (keycode) {
	case KEY_LEFTSHIFT:
		return PS2_KEYS_LSHIFT;
	case KEY_RIGHTSHIFT:
		return PS2_KEYS_RSHIFT;
	case KEY_LEFTCTRL:
		return PS2_KEYS_LCTRL;
	case KEY_RIGHTCTRL:
		return PS2_KEYS_RCTRL;
	case KEY_LEFTALT:
		return PS2_KEYS_LALT;
	case KEY_RIGHTALT:
		return PS2_KEYS_RALT;
	default:
		return 0;
	}
}

static size_t put(uint8_t *out, const uint8_t *seq, size_t n)
{
	memcpy(out, seq, n);
	return n;
}

/* Print Screen: a fake left Shift around E0 7C on its own; with Shift or
 * Ctrl held just E0 7C; with Alt held it is SysRq, 84. */
static size_t print_screen(unsigned held, bool down, uint8_t *out)
{
	static const uint8_t alt_make[] = {0x84}, alt_break[] = {BREAK, 0x84};
	static const uint8_t mod_make[] = {0xe0, 0x7c}, mod_break[] = {0xe0, BREAK, 0x7c};
	static const uint8_t make[] = {0xe0, 0x12, 0xe0, 0x7c};
	static const uint8_t brk[] = {0xe0, BREAK, 0x7c, 0xe0, BREAK, 0x12};

	if (held & (PS2_KEYS_LALT | PS2_KEYS_RALT))
		return down ? put(out, alt_make, sizeof(alt_make))
			    : put(out, alt_break, sizeof(alt_break));
	if (held & (PS2_KEYS_LSHIFT | PS2_KEYS_RSHIFT | PS2_KEYS_LCTRL | PS2_KEYS_RCTRL))
		return down ? put(out, mod_make, sizeof(mod_make))
			    : put(out, mod_break, sizeof(mod_break));
	return down ? put(out, make, sizeof(make)) : put(out, brk, sizeof(brk));
}

/* Pause sends make and break at once when pressed and nothing when
 * released; with Ctrl held it is Break, E0 7E. */
static size_t pause_key(unsigned held, bool down, uint8_t *out)
{
	static const uint8_t pause[] = {0xe1, 0x14, 0x77, 0xe1, BREAK, 0x14, BREAK, 0x77};
	static const uint8_t brk[] = {0xe0, 0x7e, 0xe0, BREAK, 0x7e};

	if (!down)
		return 0;
	if (held & (PS2_KEYS_LCTRL | PS2_KEYS_RCTRL))
		return put(out, brk, sizeof(brk));
	return put(out, pause, sizeof(pause));
}

size_t ps2_keys_set2(struct ps2_keys *k, unsigned keycode, bool down, uint8_t out[PS2_KEYS_SEQ_MAX])
{
	unsigned bit = modifier_bit(keycode);
	if (down)
		k->held |= (uint8_t)bit;
	else
		k->held &= (uint8_t)~bit;

	switch (keycode) {
	case KEY_SYSRQ: /* Linux's name for Print Screen */
		return print_screen(k->held, down, out);
	case KEY_PAUSE:
		return pause_key(k->held, down, out);
	case KEY_HANGEUL: /* Korean keys: one byte when pressed, no break code */
		return down ? put(out, (const uint8_t[]){0xf2}, 1) : 0;
	case KEY_HANJA:
		return down ? put(out, (const uint8_t[]){0xf1}, 1) : 0;
	default:
		break;
	}
	if (keycode >= TABLE_SIZE || !set2[keycode])
		return 0;
	size_t n = 0;
	unsigned code = set2[keycode];
	if (code & 0xff00)
		out[n++] = (uint8_t)(code >> 8);
	if (!down)
		out[n++] = BREAK;
	out[n++] = (uint8_t)code;
	return n;
}

bool ps2_keys_known(unsigned keycode)
{
	switch (keycode) {
	case KEY_SYSRQ:
	case KEY_PAUSE:
	case KEY_HANGEUL:
	case KEY_HANJA:
		return true;
	default:
		return keycode < TABLE_SIZE && set2[keycode];
	}
}
