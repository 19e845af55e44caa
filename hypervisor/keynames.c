/* The key name table: every key of PC keyboards (the codes linux/input-
 * event-codes.h gives, named as there without KEY_), and aliases. */
#include "hypervisor/keynames.h"

#include "hypervisor/input.h"

#include <errno.h>
#include <linux/input-event-codes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct keyname {
	const char *name;
	unsigned code;
};

static const struct keyname names[] = {
    {"esc", KEY_ESC},
    {"1", KEY_1},
    {"2", KEY_2},
    {"3", KEY_3},
    {"4", KEY_4},
    {"5", KEY_5},
    {"6", KEY_6},
    {"7", KEY_7},
    {"8", KEY_8},
    {"9", KEY_9},
    {"0", KEY_0},
    {"minus", KEY_MINUS},
    {"equal", KEY_EQUAL},
    {"backspace", KEY_BACKSPACE},
    {"tab", KEY_TAB},
    {"q", KEY_Q},
    {"w", KEY_W},
    {"e", KEY_E},
    {"r", KEY_R},
    {"t", KEY_T},
    {"y", KEY_Y},
    {"u", KEY_U},
    {"i", KEY_I},
    {"o", KEY_O},
    {"p", KEY_P},
    {"leftbrace", KEY_LEFTBRACE},
    {"rightbrace", KEY_RIGHTBRACE},
    {"enter", KEY_ENTER},
    {"leftctrl", KEY_LEFTCTRL},
    {"a", KEY_A},
    {"s", KEY_S},
    {"d", KEY_D},
    {"f", KEY_F},
    {"g", KEY_G},
    {"h", KEY_H},
    {"j", KEY_J},
    {"k", KEY_K},
    {"l", KEY_L},
    {"semicolon", KEY_SEMICOLON},
    {"apostrophe", KEY_APOSTROPHE},
    {"grave", KEY_GRAVE},
    {"leftshift", KEY_LEFTSHIFT},
    {"backslash", KEY_BACKSLASH},
    {"z", KEY_Z},
    {"x", KEY_X},
    {"c", KEY_C},
    {"v", KEY_V},
    {"b", KEY_B},
    {"n", KEY_N},
    {"m", KEY_M},
    {"comma", KEY_COMMA},
    {"dot", KEY_DOT},
    {"slash", KEY_SLASH},
    {"rightshift", KEY_RIGHTSHIFT},
    {"kpasterisk", KEY_KPASTERISK},
    {"leftalt", KEY_LEFTALT},
    {"space", KEY_SPACE},
    {"capslock", KEY_CAPSLOCK},
    {"f1", KEY_F1},
    {"f2", KEY_F2},
    {"f3", KEY_F3},
    {"f4", KEY_F4},
    {"f5", KEY_F5},
    {"f6", KEY_F6},
    {"f7", KEY_F7},
    {"f8", KEY_F8},
    {"f9", KEY_F9},
    {"f10", KEY_F10},
    {"numlock", KEY_NUMLOCK},
    {"scrolllock", KEY_SCROLLLOCK},
    {"kp7", KEY_KP7},
    {"kp8", KEY_KP8},
    {"kp9", KEY_KP9},
    {"kpminus", KEY_KPMINUS},
    {"kp4", KEY_KP4},
    {"kp5", KEY_KP5},
    {"kp6", KEY_KP6},
    {"kpplus", KEY_KPPLUS},
    {"kp1", KEY_KP1},
    {"kp2", KEY_KP2},
    {"kp3", KEY_KP3},
    {"kp0", KEY_KP0},
    {"kpdot", KEY_KPDOT},
    {"zenkakuhankaku", KEY_ZENKAKUHANKAKU},
    {"102nd", KEY_102ND},
    {"f11", KEY_F11},
    {"f12", KEY_F12},
    {"ro", KEY_RO},
    {"katakana", KEY_KATAKANA},
    {"hiragana", KEY_HIRAGANA},
    {"henkan", KEY_HENKAN},
    {"katakanahiragana", KEY_KATAKANAHIRAGANA},
    {"muhenkan", KEY_MUHENKAN},
    {"kpjpcomma", KEY_KPJPCOMMA},
    {"kpenter", KEY_KPENTER},
    {"rightctrl", KEY_RIGHTCTRL},
    {"kpslash", KEY_KPSLASH},
    {"sysrq", KEY_SYSRQ},
    {"rightalt", KEY_RIGHTALT},
    {"linefeed", KEY_LINEFEED},
    {"home", KEY_HOME},
    {"up", KEY_UP},
    {"pageup", KEY_PAGEUP},
    {"left", KEY_LEFT},
    {"right", KEY_RIGHT},
    {"end", KEY_END},
    {"down", KEY_DOWN},
    {"pagedown", KEY_PAGEDOWN},
    {"insert", KEY_INSERT},
    {"delete", KEY_DELETE},
    {"macro", KEY_MACRO},
    {"mute", KEY_MUTE},
    {"volumedown", KEY_VOLUMEDOWN},
    {"volumeup", KEY_VOLUMEUP},
    {"power", KEY_POWER},
    {"kpequal", KEY_KPEQUAL},
    {"kpplusminus", KEY_KPPLUSMINUS},
    {"pause", KEY_PAUSE},
    {"scale", KEY_SCALE},
    {"kpcomma", KEY_KPCOMMA},
    {"hangeul", KEY_HANGEUL},
    {"hanja", KEY_HANJA},
    {"yen", KEY_YEN},
    {"leftmeta", KEY_LEFTMETA},
    {"rightmeta", KEY_RIGHTMETA},
    {"compose", KEY_COMPOSE},
    {"stop", KEY_STOP},
    {"menu", KEY_MENU},
    {"calc", KEY_CALC},
    {"sleep", KEY_SLEEP},
    {"wakeup", KEY_WAKEUP},
    {"www", KEY_WWW},
    {"mail", KEY_MAIL},
    {"bookmarks", KEY_BOOKMARKS},
    {"computer", KEY_COMPUTER},
    {"back", KEY_BACK},
    {"forward", KEY_FORWARD},
    {"nextsong", KEY_NEXTSONG},
    {"playpause", KEY_PLAYPAUSE},
    {"previoussong", KEY_PREVIOUSSONG},
    {"stopcd", KEY_STOPCD},
    {"homepage", KEY_HOMEPAGE},
    {"refresh", KEY_REFRESH},
    {"f13", KEY_F13},
    {"f14", KEY_F14},
    {"f15", KEY_F15},
    {"f16", KEY_F16},
    {"f17", KEY_F17},
    {"f18", KEY_F18},
    {"f19", KEY_F19},
    {"f20", KEY_F20},
    {"f21", KEY_F21},
    {"f22", KEY_F22},
    {"f23", KEY_F23},
    {"f24", KEY_F24},
    {"search", KEY_SEARCH},
    {"media", KEY_MEDIA},

};

/* What people write: QEMU's and xdotool's habits, and Windows key names. */
static const struct keyname aliases[] = {
    {"ctrl", KEY_LEFTCTRL},
    {"control", KEY_LEFTCTRL},
    {"ctrl_r", KEY_RIGHTCTRL},
    {"alt", KEY_LEFTALT},
    {"alt_r", KEY_RIGHTALT},
    {"altgr", KEY_RIGHTALT},
    {"shift", KEY_LEFTSHIFT},
    {"shift_r", KEY_RIGHTSHIFT},
    {"meta", KEY_LEFTMETA},
    {"win", KEY_LEFTMETA},
    {"super", KEY_LEFTMETA},
    {"meta_r", KEY_RIGHTMETA},
    {"del", KEY_DELETE},
    {"ret", KEY_ENTER},
    {"return", KEY_ENTER},
    {"escape", KEY_ESC},
    {"pgup", KEY_PAGEUP},
    {"pgdn", KEY_PAGEDOWN},
    {"ins", KEY_INSERT},
    {"prtsc", KEY_SYSRQ},
    {"print", KEY_SYSRQ},
    {"bksp", KEY_BACKSPACE},
    {"spc", KEY_SPACE},
    {"caps_lock", KEY_CAPSLOCK},
    {"num_lock", KEY_NUMLOCK},
    {"scroll_lock", KEY_SCROLLLOCK},
    {"apostrophe", KEY_APOSTROPHE},
    {"backquote", KEY_GRAVE},
    {"period", KEY_DOT},
    {"break", KEY_PAUSE},
    {"kp_enter", KEY_KPENTER},
    {"kp_add", KEY_KPPLUS},
    {"kp_subtract", KEY_KPMINUS},
    {"kp_multiply", KEY_KPASTERISK},
    {"kp_divide", KEY_KPSLASH},
    {"kp_decimal", KEY_KPDOT},
    {"less", KEY_102ND},
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

int keyname_code(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (strcasecmp(name, names[i].name) == 0)
			return (int)names[i].code;
	for (size_t i = 0; i < ARRAY_LEN(aliases); i++)
		if (strcasecmp(name, aliases[i].name) == 0)
			return (int)aliases[i].code;
	/* A number: only when nothing above matched ("1" is the key 1). */
	char *end;
	errno = 0;
	unsigned long v = strtoul(name, &end, 0);
	if (name[0] >= '0' && name[0] <= '9' && !*end && !errno && v >= 1 && v <= INPUT_KEY_MAX)
		return (int)v;
	return -EINVAL;
}

const char *keyname_name(unsigned code)
{
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (names[i].code == code)
			return names[i].name;
	return NULL;
}

int keyname_combo(const char *combo, unsigned *codes, unsigned max, char *bad, size_t badlen)
{
	unsigned n = 0;
	const char *p = combo;
	if (!*p)
		goto fail;
	for (;;) {
		size_t len = strcspn(p, "-+");
		char part[32];
		if (len == 0 || len >= sizeof(part))
			goto fail_part;
		memcpy(part, p, len);
		part[len] = 0;
		int code = keyname_code(part);
		if (code < 0)
			goto fail_part;
		if (n == max)
			return -E2BIG;
		codes[n++] = (unsigned)code;
		p += len;
		if (!*p)
			return (int)n;
		p++;
		continue;
	fail_part:
		if (bad) {
			size_t l = len < badlen - 1 ? len : badlen - 1;
			memcpy(bad, p, l);
			bad[l] = 0;
		}
		return -EINVAL;
	}
fail:
	if (bad)
		snprintf(bad, badlen, "%s", combo);
	return -EINVAL;
}
