/* Keymap files: parsing, the search path, and keysym lookup with the keys
 * that are the same on every layout built in. */
#include "vnc/keymap.h"

#include "hypervisor/fileio.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <linux/input-event-codes.h>
#include <rfb/keysym.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEYMAP_FILE_MAX	   (256 * 1024)
#define KEYMAP_LINE_MAX	   512
#define KEYMAP_ENTRIES_MAX 4096

struct keymap {
	char name[KEYMAP_NAME_MAX];
	struct keymap_entry *entries; /* file order */
	size_t n;
	uint32_t *by_sym; /* indexes into entries, sorted by keysym then file order */
};

/* Keys whose keysym does not depend on the layout. */
static const struct keymap_entry builtin[] = {
    {XK_space, KEY_SPACE, 0},
    {XK_BackSpace, KEY_BACKSPACE, 0},
    {XK_Tab, KEY_TAB, 0},
    {XK_ISO_Left_Tab, KEY_TAB, KEYMAP_SHIFT},
    {XK_Return, KEY_ENTER, 0},
    {XK_Pause, KEY_PAUSE, 0},
    {XK_Break, KEY_PAUSE, 0},
    {XK_Scroll_Lock, KEY_SCROLLLOCK, 0},
    {XK_Sys_Req, KEY_SYSRQ, 0},
    {XK_Print, KEY_SYSRQ, 0},
    {XK_Escape, KEY_ESC, 0},
    {XK_Delete, KEY_DELETE, 0},
    {XK_Home, KEY_HOME, 0},
    {XK_Left, KEY_LEFT, 0},
    {XK_Up, KEY_UP, 0},
    {XK_Right, KEY_RIGHT, 0},
    {XK_Down, KEY_DOWN, 0},
    {XK_Page_Up, KEY_PAGEUP, 0},
    {XK_Page_Down, KEY_PAGEDOWN, 0},
    {XK_End, KEY_END, 0},
    {XK_Insert, KEY_INSERT, 0},
    {XK_Menu, KEY_COMPOSE, 0},
    {XK_Help, KEY_HELP, 0},
    {XK_Num_Lock, KEY_NUMLOCK, 0},
    {XK_Caps_Lock, KEY_CAPSLOCK, 0},
    {XK_Shift_L, KEY_LEFTSHIFT, 0},
    {XK_Shift_R, KEY_RIGHTSHIFT, 0},
    {XK_Control_L, KEY_LEFTCTRL, 0},
    {XK_Control_R, KEY_RIGHTCTRL, 0},
    {XK_Alt_L, KEY_LEFTALT, 0},
    {XK_Alt_R, KEY_RIGHTALT, 0},
    {XK_Meta_L, KEY_LEFTMETA, 0},
    {XK_Meta_R, KEY_RIGHTMETA, 0},
    {XK_Super_L, KEY_LEFTMETA, 0},
    {XK_Super_R, KEY_RIGHTMETA, 0},
    {XK_ISO_Level3_Shift, KEY_RIGHTALT, 0},
    {XK_Mode_switch, KEY_RIGHTALT, 0},
    {XK_KP_Enter, KEY_KPENTER, 0},
    {XK_KP_Home, KEY_KP7, 0},
    {XK_KP_Up, KEY_KP8, 0},
    {XK_KP_Page_Up, KEY_KP9, 0},
    {XK_KP_Left, KEY_KP4, 0},
    {XK_KP_Begin, KEY_KP5, 0},
    {XK_KP_Right, KEY_KP6, 0},
    {XK_KP_End, KEY_KP1, 0},
    {XK_KP_Down, KEY_KP2, 0},
    {XK_KP_Page_Down, KEY_KP3, 0},
    {XK_KP_Insert, KEY_KP0, 0},
    {XK_KP_Delete, KEY_KPDOT, 0},
    {XK_KP_Equal, KEY_KPEQUAL, 0},
    {XK_KP_Multiply, KEY_KPASTERISK, 0},
    {XK_KP_Add, KEY_KPPLUS, 0},
    {XK_KP_Separator, KEY_KPCOMMA, 0},
    {XK_KP_Subtract, KEY_KPMINUS, 0},
    {XK_KP_Decimal, KEY_KPDOT, 0},
    {XK_KP_Divide, KEY_KPSLASH, 0},
    {XK_KP_0, KEY_KP0, 0},
    {XK_KP_1, KEY_KP1, 0},
    {XK_KP_2, KEY_KP2, 0},
    {XK_KP_3, KEY_KP3, 0},
    {XK_KP_4, KEY_KP4, 0},
    {XK_KP_5, KEY_KP5, 0},
    {XK_KP_6, KEY_KP6, 0},
    {XK_KP_7, KEY_KP7, 0},
    {XK_KP_8, KEY_KP8, 0},
    {XK_KP_9, KEY_KP9, 0},
    {XK_F1, KEY_F1, 0},
    {XK_F2, KEY_F2, 0},
    {XK_F3, KEY_F3, 0},
    {XK_F4, KEY_F4, 0},
    {XK_F5, KEY_F5, 0},
    {XK_F6, KEY_F6, 0},
    {XK_F7, KEY_F7, 0},
    {XK_F8, KEY_F8, 0},
    {XK_F9, KEY_F9, 0},
    {XK_F10, KEY_F10, 0},
    {XK_F11, KEY_F11, 0},
    {XK_F12, KEY_F12, 0},
    {XK_F13, KEY_F13, 0},
    {XK_F14, KEY_F14, 0},
    {XK_F15, KEY_F15, 0},
    {XK_F16, KEY_F16, 0},
    {XK_F17, KEY_F17, 0},
    {XK_F18, KEY_F18, 0},
    {XK_F19, KEY_F19, 0},
    {XK_F20, KEY_F20, 0},
    {XK_F21, KEY_F21, 0},
    {XK_F22, KEY_F22, 0},
    {XK_F23, KEY_F23, 0},
    {XK_F24, KEY_F24, 0},
    /* XF86keysym.h */
    {0x1008ff11, KEY_VOLUMEDOWN, 0},
    {0x1008ff12, KEY_MUTE, 0},
    {0x1008ff13, KEY_VOLUMEUP, 0},
    {0x1008ff14, KEY_PLAYPAUSE, 0},
    {0x1008ff15, KEY_STOPCD, 0},
    {0x1008ff16, KEY_PREVIOUSSONG, 0},
    {0x1008ff17, KEY_NEXTSONG, 0},
    {0x1008ff18, KEY_HOMEPAGE, 0},
    {0x1008ff19, KEY_MAIL, 0},
    {0x1008ff1b, KEY_SEARCH, 0},
    {0x1008ff1d, KEY_CALC, 0},
    {0x1008ff26, KEY_BACK, 0},
    {0x1008ff27, KEY_FORWARD, 0},
    {0x1008ff29, KEY_REFRESH, 0},
    {0x1008ff2a, KEY_POWER, 0},
    {0x1008ff2b, KEY_WAKEUP, 0},
    {0x1008ff2f, KEY_SLEEP, 0},
};

/* Key names for keymap files: the KEY_ codes of a PC keyboard's main block
 * (the built-in ones above need no names). */
#define K(n)                                                                                       \
	{                                                                                          \
#n, n                                                                              \
	}
static const struct {
	const char *name;
	uint16_t code;
} key_names[] = {
    K(KEY_ESC),	       K(KEY_1),	  K(KEY_2),	    K(KEY_3),	       K(KEY_4),
    K(KEY_5),	       K(KEY_6),	  K(KEY_7),	    K(KEY_8),	       K(KEY_9),
    K(KEY_0),	       K(KEY_MINUS),	  K(KEY_EQUAL),	    K(KEY_BACKSPACE),  K(KEY_TAB),
    K(KEY_Q),	       K(KEY_W),	  K(KEY_E),	    K(KEY_R),	       K(KEY_T),
    K(KEY_Y),	       K(KEY_U),	  K(KEY_I),	    K(KEY_O),	       K(KEY_P),
    K(KEY_LEFTBRACE),  K(KEY_RIGHTBRACE), K(KEY_ENTER),	    K(KEY_A),	       K(KEY_S),
    K(KEY_D),	       K(KEY_F),	  K(KEY_G),	    K(KEY_H),	       K(KEY_J),
    K(KEY_K),	       K(KEY_L),	  K(KEY_SEMICOLON), K(KEY_APOSTROPHE), K(KEY_GRAVE),
    K(KEY_BACKSLASH),  K(KEY_Z),	  K(KEY_X),	    K(KEY_C),	       K(KEY_V),
    K(KEY_B),	       K(KEY_N),	  K(KEY_M),	    K(KEY_COMMA),      K(KEY_DOT),
    K(KEY_SLASH),      K(KEY_SPACE),	  K(KEY_102ND),	    K(KEY_RO),	       K(KEY_YEN),
    K(KEY_KPDOT),      K(KEY_KPCOMMA),	  K(KEY_KPJPCOMMA), K(KEY_KPASTERISK), K(KEY_KPSLASH),
    K(KEY_KPMINUS),    K(KEY_KPPLUS),	  K(KEY_KPEQUAL),   K(KEY_KP0),	       K(KEY_KP1),
    K(KEY_KP2),	       K(KEY_KP3),	  K(KEY_KP4),	    K(KEY_KP5),	       K(KEY_KP6),
    K(KEY_KP7),	       K(KEY_KP8),	  K(KEY_KP9),	    K(KEY_KPENTER),    K(KEY_LEFTSHIFT),
    K(KEY_RIGHTSHIFT), K(KEY_LEFTCTRL),	  K(KEY_RIGHTCTRL), K(KEY_LEFTALT),    K(KEY_RIGHTALT),
    K(KEY_LEFTMETA),   K(KEY_RIGHTMETA),  K(KEY_CAPSLOCK),  K(KEY_COMPOSE),
};
#undef K

static int key_from_name(const char *s, uint16_t *code)
{
	for (size_t i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++) {
		if (strcmp(s, key_names[i].name) == 0) {
			*code = key_names[i].code;
			return 0;
		}
	}
	char *end;
	unsigned long v = strtoul(s, &end, 0);
	if (s[0] >= '0' && s[0] <= '9' && !*end && v >= 1 && v <= KEY_MAX) {
		*code = (uint16_t)v;
		return 0;
	}
	return -ENOENT;
}

int keysym_is_letter(uint32_t ks)
{
	if ((ks >= 'a' && ks <= 'z') || (ks >= 'A' && ks <= 'Z'))
		return 1;
	/* Latin-1 letters: À-Þ and à-þ but × and ÷; ß has no capital there. */
	return ks >= 0xc0 && ks <= 0xfe && ks != 0xd7 && ks != 0xf7 && ks != 0xdf;
}

/* One line: "<keysym> <key> [shift] [altgr]". 1 for an entry, 0 for a blank
 * or comment line, -EINVAL (logged) otherwise. */
static int parse_line(char *line, const char *origin, unsigned lineno, struct keymap_entry *e)
{
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	char *save, *tok[6];
	unsigned n = 0;
	for (char *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
		if (n == 6) {
			log_error("%s:%u: too many words: a line is <keysym> <key> [shift] [altgr]",
				  origin, lineno);
			return -EINVAL;
		}
		tok[n++] = t;
	}
	if (n == 0)
		return 0;
	if (n == 1) {
		log_error("%s:%u: '%s' has no key: a line is <keysym> <key> [shift] [altgr]",
			  origin, lineno, tok[0]);
		return -EINVAL;
	}
	if (keysym_from_name(tok[0], &e->keysym) < 0) {
		log_error("%s:%u: unknown keysym '%s': write an X keysym name (adiaeresis), "
			  "U+20AC or 0x20ac",
			  origin, lineno, tok[0]);
		return -EINVAL;
	}
	if (key_from_name(tok[1], &e->keycode) < 0) {
		log_error("%s:%u: unknown key '%s': write a Linux key name (KEY_A) or its number",
			  origin, lineno, tok[1]);
		return -EINVAL;
	}
	e->mods = KEYMAP_EXACT;
	for (unsigned i = 2; i < n; i++) {
		if (strcmp(tok[i], "shift") == 0) {
			e->mods |= KEYMAP_SHIFT;
		} else if (strcmp(tok[i], "altgr") == 0) {
			e->mods |= KEYMAP_ALTGR;
		} else {
			log_error("%s:%u: unknown modifier '%s': only shift and altgr", origin,
				  lineno, tok[i]);
			return -EINVAL;
		}
	}
	return 1;
}

static int cmp_index(const void *a, const void *b, void *arg)
{
	const struct keymap_entry *base = arg;
	uint32_t ia = *(const uint32_t *)a, ib = *(const uint32_t *)b;
	uint32_t ka = base[ia].keysym, kb = base[ib].keysym;
	if (ka != kb)
		return ka < kb ? -1 : 1;
	return ia < ib ? -1 : ia > ib;
}

int keymap_parse(const char *text, size_t len, const char *origin, struct keymap **out)
{
	struct keymap *k = calloc(1, sizeof(*k));
	char line[KEYMAP_LINE_MAX + 1];
	size_t cap = 0;
	unsigned lineno = 0;
	int r = -ENOMEM;

	if (!k)
		return -ENOMEM;
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos;
		lineno++;
		if (l > KEYMAP_LINE_MAX) {
			log_error("%s:%u: line longer than %d characters", origin, lineno,
				  KEYMAP_LINE_MAX);
			r = -EINVAL;
			goto fail;
		}
		memcpy(line, text + pos, l);
		line[l] = '\0';
		pos += l + 1;
		if (strlen(line) != l) {
			log_error("%s:%u: a NUL byte: not a keymap file", origin, lineno);
			r = -EINVAL;
			goto fail;
		}
		struct keymap_entry e;
		int got = parse_line(line, origin, lineno, &e);
		if (got < 0) {
			r = got;
			goto fail;
		}
		if (!got)
			continue;
		if (k->n == KEYMAP_ENTRIES_MAX) {
			log_error("%s:%u: more than %d entries", origin, lineno,
				  KEYMAP_ENTRIES_MAX);
			r = -EINVAL;
			goto fail;
		}
		if (k->n == cap) {
			size_t ncap = cap ? cap * 2 : 128;
			struct keymap_entry *ne = realloc(k->entries, ncap * sizeof(*ne));
			if (!ne)
				goto fail;
			k->entries = ne;
			cap = ncap;
		}
		k->entries[k->n++] = e;
	}
	k->by_sym = malloc((k->n ? k->n : 1) * sizeof(*k->by_sym));
	if (!k->by_sym)
		goto fail;
	for (size_t i = 0; i < k->n; i++)
		k->by_sym[i] = (uint32_t)i;
	qsort_r(k->by_sym, k->n, sizeof(*k->by_sym), cmp_index, k->entries);
	*out = k;
	return 0;
fail:
	keymap_free(k);
	return r;
}

void keymap_free(struct keymap *k)
{
	if (!k)
		return;
	free(k->entries);
	free(k->by_sym);
	free(k);
}

const char *keymap_name(const struct keymap *k)
{
	return k->name;
}

size_t keymap_count(const struct keymap *k)
{
	return k->n;
}

const struct keymap_entry *keymap_at(const struct keymap *k, size_t i)
{
	return i < k->n ? &k->entries[i] : NULL;
}

const struct keymap_entry *keymap_lookup(const struct keymap *k, uint32_t keysym, unsigned held)
{
	/* Clients may send the Unicode form of a Latin-1 character. */
	if (keysym >= 0x01000020 && keysym <= 0x010000ff)
		keysym -= 0x01000000;
	size_t lo = 0, hi = k->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (k->entries[k->by_sym[mid]].keysym < keysym)
			lo = mid + 1;
		else
			hi = mid;
	}
	const struct keymap_entry *first = NULL;
	held &= KEYMAP_SHIFT | KEYMAP_ALTGR;
	for (size_t i = lo; i < k->n && k->entries[k->by_sym[i]].keysym == keysym; i++) {
		const struct keymap_entry *e = &k->entries[k->by_sym[i]];
		if ((e->mods & (KEYMAP_SHIFT | KEYMAP_ALTGR)) == held)
			return e;
		if (!first)
			first = e;
	}
	if (first)
		return first;
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		if (builtin[i].keysym == keysym)
			return &builtin[i];
	return NULL;
}

/* --- finding and reading the files ------------------------------------ */

static bool name_ok(const char *name)
{
	size_t n = strlen(name);
	return n > 0 && n < KEYMAP_NAME_MAX && name[0] != '.' &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
		   n;
}

/* The keymap file's text: -EFBIG for one that is not a regular file or is
 * larger than KEYMAP_FILE_MAX. */
static int read_file(const char *path, char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	int r;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EFBIG;
	else
		r = file_read_whole_fd(fd, KEYMAP_FILE_MAX, text, len);
	close(fd);
	return r;
}

/* Writes the folders to search into dirs[] (at most max), each in its own
 * PATH_MAX buffer of store. */
static unsigned search_dirs(char (*store)[PATH_MAX], unsigned max)
{
	unsigned n = 0;
	const char *env = getenv("OSIO_KEYMAP_PATH");
	if (env) {
		for (const char *p = env; *p && n < max;) {
			size_t l = strcspn(p, ":");
			if (l > 0 && l < PATH_MAX) {
				memcpy(store[n], p, l);
				store[n++][l] = '\0';
			}
			p += l + (p[l] == ':');
		}
	}
	char exe[PATH_MAX];
	ssize_t l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (l > 0) {
		exe[l] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			/* Installed (PREFIX/bin/osio) first, then a build folder
			 * inside the source tree (build/osio). */
			if (n < max && snprintf(store[n], PATH_MAX, "%s/../share/osio/keymaps",
						exe) < PATH_MAX)
				n++;
			if (n < max &&
			    snprintf(store[n], PATH_MAX, "%s/../share/keymaps", exe) < PATH_MAX)
				n++;
		}
	}
	/* The source tree this file was built from: vnc/keymap.c -> share/keymaps. */
	const char *src = __FILE__;
	const char *tail = strstr(src, "vnc/keymap.c");
	if (src[0] == '/' && tail && n < max &&
	    snprintf(store[n], PATH_MAX, "%.*sshare/keymaps", (int)(tail - src), src) < PATH_MAX)
		n++;
	static const char *const fixed[] = {"/usr/local/share/osio/keymaps",
					    "/usr/share/osio/keymaps"};
	for (unsigned i = 0; i < 2 && n < max; i++)
		snprintf(store[n++], PATH_MAX, "%s", fixed[i]);
	return n;
}

int keymap_load(const char *name, struct keymap **out)
{
	if (!name_ok(name)) {
		log_error("keymap '%s': not a layout name (letters, digits, '-', '_', '.'; "
			  "e.g. en-us, de, fr, en-gb)",
			  name);
		return -EINVAL;
	}
	char(*dirs)[PATH_MAX] = malloc(8 * PATH_MAX);
	if (!dirs)
		return -ENOMEM;
	unsigned nd = search_dirs(dirs, 8);
	int r = -ENOENT;
	for (unsigned i = 0; i < nd; i++) {
		char path[PATH_MAX + KEYMAP_NAME_MAX + 2];
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		char *text = NULL;
		size_t len = 0;
		r = read_file(path, &text, &len);
		if (r == -ENOENT || r == -ENOTDIR)
			continue;
		if (r == -EFBIG) {
			log_error("keymap %s: not a keymap file (not a regular file, or larger "
				  "than %d KiB)",
				  path, KEYMAP_FILE_MAX / 1024);
			r = -EINVAL;
		} else if (r < 0) {
			log_error("keymap %s: %s", path, strerror(-r));
		} else {
			r = keymap_parse(text, len, path, out);
			free(text);
			if (r == 0)
				snprintf((*out)->name, sizeof((*out)->name), "%s", name);
		}
		goto done;
	}
	log_error("keymap '%s' not found in $OSIO_KEYMAP_PATH, share/keymaps next to osio or in "
		  "its source tree, /usr/local/share/osio/keymaps or /usr/share/osio/keymaps; "
		  "osio has en-us, en-gb, de and fr",
		  name);
done:
	free(dirs);
	return r;
}
