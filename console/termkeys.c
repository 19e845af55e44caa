/* Curses keys to send-key combinations of the US layout, for the console's
 * in-terminal VM view (termkeys.h). */
#include "console/termkeys.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>

/* The printable ASCII characters from ' ' to '~': the key, and whether
 * Shift is held, on a US keyboard. Letters are done apart. */
static const struct {
	const char *key;
	bool shift;
} printable[] = {
    [' ' - ' '] = {"space", false},	 ['!' - ' '] = {"1", true},
    ['"' - ' '] = {"apostrophe", true},	 ['#' - ' '] = {"3", true},
    ['$' - ' '] = {"4", true},		 ['%' - ' '] = {"5", true},
    ['&' - ' '] = {"7", true},		 ['\'' - ' '] = {"apostrophe", false},
    ['(' - ' '] = {"9", true},		 [')' - ' '] = {"0", true},
    ['*' - ' '] = {"8", true},		 ['+' - ' '] = {"equal", true},
    [',' - ' '] = {"comma", false},	 ['-' - ' '] = {"minus", false},
    ['.' - ' '] = {"dot", false},	 ['/' - ' '] = {"slash", false},
    ['0' - ' '] = {"0", false},		 ['1' - ' '] = {"1", false},
    ['2' - ' '] = {"2", false},		 ['3' - ' '] = {"3", false},
    ['4' - ' '] = {"4", false},		 ['5' - ' '] = {"5", false},
    ['6' - ' '] = {"6", false},		 ['7' - ' '] = {"7", false},
    ['8' - ' '] = {"8", false},		 ['9' - ' '] = {"9", false},
    [':' - ' '] = {"semicolon", true},	 [';' - ' '] = {"semicolon", false},
    ['<' - ' '] = {"comma", true},	 ['=' - ' '] = {"equal", false},
    ['>' - ' '] = {"dot", true},	 ['?' - ' '] = {"slash", true},
    ['@' - ' '] = {"2", true},		 ['[' - ' '] = {"leftbrace", false},
    ['\\' - ' '] = {"backslash", false}, [']' - ' '] = {"rightbrace", false},
    ['^' - ' '] = {"6", true},		 ['_' - ' '] = {"minus", true},
    ['`' - ' '] = {"grave", false},	 ['{' - ' '] = {"leftbrace", true},
    ['|' - ' '] = {"backslash", true},	 ['}' - ' '] = {"rightbrace", true},
    ['~' - ' '] = {"grave", true},
};

/* Control characters that are keys of their own rather than Ctrl with a
 * letter. */
static const char *control_key(int c)
{
	switch (c) {
	case '\t':
		return "tab";
	case '\n': /* Enter, when curses translates CR to NL */
	case '\r':
		return "ret";
	case 0x08: /* Backspace on terminals that send ^H */
	case 0x7f:
		return "bksp";
	case 0x1b:
		return "esc";
	case 0x00: /* Ctrl-Space and Ctrl-@ */
		return "ctrl-space";
	case 0x1c:
		return "ctrl-backslash";
	case 0x1d:
		return "ctrl-rightbrace";
	case 0x1e:
		return "ctrl-shift-6";
	case 0x1f:
		return "ctrl-shift-minus";
	}
	return NULL;
}

/* Curses key codes with a key (and modifiers) of their own. */
static const struct {
	int code;
	const char *combo;
} codes[] = {
    {KEY_UP, "up"},
    {KEY_DOWN, "down"},
    {KEY_LEFT, "left"},
    {KEY_RIGHT, "right"},
    {KEY_HOME, "home"},
    {KEY_END, "end"},
    {KEY_PPAGE, "pgup"},
    {KEY_NPAGE, "pgdn"},
    {KEY_IC, "ins"},
    {KEY_DC, "del"},
    {KEY_BACKSPACE, "bksp"},
    {KEY_ENTER, "ret"},
    {KEY_BTAB, "shift-tab"},
    {KEY_SR, "shift-up"},
    {KEY_SF, "shift-down"},
    {KEY_SLEFT, "shift-left"},
    {KEY_SRIGHT, "shift-right"},
    {KEY_SHOME, "shift-home"},
    {KEY_SEND, "shift-end"},
    {KEY_SPREVIOUS, "shift-pgup"},
    {KEY_SNEXT, "shift-pgdn"},
    {KEY_SIC, "shift-ins"},
    {KEY_SDC, "shift-del"},
    {KEY_A1, "home"}, /* the keypad's corners and centre */
    {KEY_A3, "pgup"},
    {KEY_B2, "kp5"},
    {KEY_C1, "end"},
    {KEY_C3, "pgdn"},
    {KEY_PRINT, "sysrq"},
    {KEY_BREAK, "pause"},
    {KEY_SUSPEND, "pause"},
};

/* xterm's modifier numbers in CSI sequences (1 + a bit mask: 1 shift,
 * 2 alt, 4 ctrl), as prefixes in the order send-key presses them. */
static const char *const modifiers[] = {
    [2] = "shift-",	 [3] = "alt-",	    [4] = "shift-alt-",	     [5] = "ctrl-",
    [6] = "ctrl-shift-", [7] = "ctrl-alt-", [8] = "ctrl-alt-shift-",
};

static int put(char *out, size_t outlen, const char *a, const char *b, const char *c)
{
	int n = snprintf(out, outlen, "%s%s%s", a, b, c);
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen)
			out[0] = '\0';
		return -ENOSPC;
	}
	return 0;
}

static int function_key(int n, bool alt, char *out, size_t outlen)
{
	/* xterm numbers F13.. as F1..F12 with Shift, then Ctrl, Ctrl-Shift,
	 * Alt, Alt-Shift (terminfo kf13..kf63). */
	static const char *const mods[] = {"",	   "shift-",	"ctrl-", "ctrl-shift-",
					   "alt-", "shift-alt-"};
	int group = (n - 1) / 12;
	if (n < 1 || group >= (int)(sizeof(mods) / sizeof(mods[0])))
		return -ENOENT;
	char f[8];
	snprintf(f, sizeof(f), "f%d", (n - 1) % 12 + 1);
	if (alt && !strstr(mods[group], "alt-")) {
		char m[24];
		snprintf(m, sizeof(m), "alt-%s", mods[group]);
		return put(out, outlen, m, f, "");
	}
	return put(out, outlen, mods[group], f, "");
}

int termkey_combo(int key, bool alt, char *out, size_t outlen)
{
	const char *pre = alt ? "alt-" : "";
	if (outlen)
		out[0] = '\0';
	if (key >= 'a' && key <= 'z') {
		char k[2] = {(char)key, '\0'};
		return put(out, outlen, pre, k, "");
	}
	if (key >= 'A' && key <= 'Z') {
		char k[2] = {(char)(key - 'A' + 'a'), '\0'};
		return put(out, outlen, pre, "shift-", k);
	}
	if (key >= ' ' && key <= '~') {
		int i = key - ' ';
		return put(out, outlen, pre, printable[i].shift ? "shift-" : "", printable[i].key);
	}
	if (key >= 0 && key < ' ') {
		const char *k = control_key(key);
		if (k)
			return put(out, outlen, pre, k, "");
		char l[2] = {(char)(key - 1 + 'a'), '\0'}; /* 0x01 Ctrl-A .. 0x1a Ctrl-Z */
		return put(out, outlen, pre, "ctrl-", l);
	}
	if (key == 0x7f)
		return put(out, outlen, pre, control_key(key), "");
	if (key < KEY_MIN)
		return -ENOENT; /* beyond ASCII: no key of the US layout */
	if (key >= KEY_F(1) && key <= KEY_F(63))
		return function_key(key - KEY_F0, alt, out, outlen);
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		if (codes[i].code == key)
			return put(out, outlen, pre, codes[i].combo, "");
	}
	return -ENOENT;
}

int termkey_combo_name(const char *name, char *out, size_t outlen)
{
	static const struct {
		const char *cap; /* the terminfo name without its digit */
		const char *key;
	} keys[] = {
	    {"kUP", "up"},    {"kDN", "down"}, {"kLFT", "left"}, {"kRIT", "right"},
	    {"kHOM", "home"}, {"kEND", "end"}, {"kPRV", "pgup"}, {"kNXT", "pgdn"},
	    {"kIC", "ins"},   {"kDC", "del"},
	};
	if (outlen)
		out[0] = '\0';
	if (!name)
		return -ENOENT;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		size_t len = strlen(keys[i].cap);
		if (strncmp(name, keys[i].cap, len) != 0)
			continue;
		const char *d = name + len;
		int mod;
		if (d[0] == '\0')
			mod = 2; /* no digit: Shift, as xterm's kUP, kDC */
		else if (d[0] >= '2' && d[0] <= '8' && d[1] == '\0')
			mod = d[0] - '0';
		else
			continue; /* kDN against kDN5x: no such name */
		return put(out, outlen, modifiers[mod], keys[i].key, "");
	}
	return -ENOENT;
}
