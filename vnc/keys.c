/* Viewers' keys to the input router: X keysyms through the VM's keymap, with
 * Shift and AltGr pressed or released around a key when the layout needs
 * them and the viewer's state differs; and QEMU's extended key event, whose
 * raw XT scan codes make any viewer layout work. */
#include "vnc/vnc_int.h"

#include "hypervisor/bytes.h"
#include "hypervisor/input.h"
#include "hypervisor/log.h"

#include <stdlib.h>
#include <string.h>

/* QEMU's extended key event: pseudo-encoding -258, client message 255
 * subtype 0 (RFB community specification). */
#define EXT_KEY_ENCODING    (-258)
#define QEMU_CLIENT_MESSAGE 255
#define QEMU_EXT_KEY_EVENT  0

/* --- XT scan codes ------------------------------------------------------- */

/* Set-1 codes past 0x53 and the 0xE0-prefixed ones (as 0x80 | code), from
 * the key code database QEMU, libvirt and noVNC share (keycodemapdb). */
static const struct {
	uint8_t xt;
	uint16_t key;
} xt_keys[] = {
    {0x54, KEY_SYSRQ},	      {0x55, KEY_F16},	    {0x56, KEY_102ND},
    {0x57, KEY_F11},	      {0x58, KEY_F12},	    {0x59, KEY_KPEQUAL},
    {0x5a, KEY_F20},	      {0x5b, KEY_LINEFEED}, {0x5c, KEY_KPJPCOMMA},
    {0x5d, KEY_F13},	      {0x5e, KEY_F14},	    {0x5f, KEY_F15},
    {0x6d, KEY_F23},	      {0x6f, KEY_F24},	    {0x70, KEY_KATAKANAHIRAGANA},
    {0x73, KEY_RO},	      {0x74, KEY_F21},	    {0x76, KEY_ZENKAKUHANKAKU},
    {0x77, KEY_HIRAGANA},     {0x78, KEY_KATAKANA}, {0x79, KEY_HENKAN},
    {0x7b, KEY_MUHENKAN},     {0x7d, KEY_YEN},	    {0x7e, KEY_KPCOMMA},
    {0x90, KEY_PREVIOUSSONG}, {0x99, KEY_NEXTSONG}, {0x9c, KEY_KPENTER},
    {0x9d, KEY_RIGHTCTRL},    {0xa0, KEY_MUTE},	    {0xa1, KEY_CALC},
    {0xa2, KEY_PLAYPAUSE},    {0xa4, KEY_STOPCD},   {0xae, KEY_VOLUMEDOWN},
    {0xb0, KEY_VOLUMEUP},     {0xb2, KEY_HOMEPAGE}, {0xb5, KEY_KPSLASH},
    {0xb7, KEY_SYSRQ},	      {0xb8, KEY_RIGHTALT}, {0xc6, KEY_PAUSE},
    {0xc7, KEY_HOME},	      {0xc8, KEY_UP},	    {0xc9, KEY_PAGEUP},
    {0xcb, KEY_LEFT},	      {0xcd, KEY_RIGHT},    {0xcf, KEY_END},
    {0xd0, KEY_DOWN},	      {0xd1, KEY_PAGEDOWN}, {0xd2, KEY_INSERT},
    {0xd3, KEY_DELETE},	      {0xdb, KEY_LEFTMETA}, {0xdc, KEY_RIGHTMETA},
    {0xdd, KEY_COMPOSE},      {0xde, KEY_POWER},    {0xdf, KEY_SLEEP},
    {0xe3, KEY_WAKEUP},	      {0xe5, KEY_SEARCH},   {0xe6, KEY_BOOKMARKS},
    {0xe7, KEY_REFRESH},      {0xe8, KEY_STOP},	    {0xe9, KEY_FORWARD},
    {0xea, KEY_BACK},	      {0xeb, KEY_COMPUTER}, {0xec, KEY_MAIL},
    {0xed, KEY_MEDIA},
};

unsigned vnc_xt_to_evdev(uint32_t xt)
{
	/* Some viewers write the prefix out (0xE01D). */
	if ((xt & ~0xffu) == 0xe000)
		xt = 0x80 | (xt & 0x7f);
	if (xt >= 0x01 && xt <= 0x53)
		return xt; /* Esc .. keypad '.': the Linux codes are the set-1 codes */
	for (size_t i = 0; i < sizeof(xt_keys) / sizeof(xt_keys[0]); i++)
		if (xt_keys[i].xt == xt)
			return xt_keys[i].key;
	return 0;
}

/* --- the keys a viewer holds --------------------------------------------- */

static bool is_down(const struct vnc_keys *k, unsigned code)
{
	return k->down[code / 8] & (1u << (code % 8));
}

/* A key as this viewer presses it: recorded, Caps Lock followed, routed. */
static void key(struct vnc_server *v, struct vnc_keys *k, unsigned code, bool down)
{
	if (code == 0 || code > KEY_MAX)
		return;
	if (down)
		k->down[code / 8] |= (uint8_t)(1u << (code % 8));
	else
		k->down[code / 8] &= (uint8_t) ~(1u << (code % 8));
	if (code == KEY_CAPSLOCK && down) {
		bool was = atomic_load(&v->caps_lock);
		while (!atomic_compare_exchange_weak(&v->caps_lock, &was, !was))
			;
	}
	input_key(v->m, code, down);
}

/* A key pressed or released only around another one: the viewer's record
 * of what it holds does not change. */
static void tap(struct vnc_server *v, unsigned code, bool down)
{
	input_key(v->m, code, down);
}

static unsigned held_mods(const struct vnc_server *v, const struct vnc_keys *k)
{
	unsigned m = 0;
	if (is_down(k, KEY_LEFTSHIFT) || is_down(k, KEY_RIGHTSHIFT))
		m |= KEYMAP_SHIFT;
	if (v->keymap_altgr && is_down(k, KEY_RIGHTALT))
		m |= KEYMAP_ALTGR;
	return m;
}

static void remember(struct vnc_keys *k, uint32_t keysym, unsigned code)
{
	for (unsigned i = 0; i < k->nheld; i++) {
		if (k->held[i].keysym == keysym) {
			k->held[i].keycode = (uint16_t)code;
			return;
		}
	}
	if (k->nheld == VNC_HELD_KEYSYMS) {
		/* A viewer that never releases: forget the oldest. */
		memmove(&k->held[0], &k->held[1], (VNC_HELD_KEYSYMS - 1) * sizeof(k->held[0]));
		k->nheld--;
	}
	k->held[k->nheld].keysym = keysym;
	k->held[k->nheld++].keycode = (uint16_t)code;
}

/* The key keysym pressed, forgotten; 0 if none. */
static unsigned forget(struct vnc_keys *k, uint32_t keysym)
{
	for (unsigned i = 0; i < k->nheld; i++) {
		if (k->held[i].keysym == keysym) {
			unsigned code = k->held[i].keycode;
			memmove(&k->held[i], &k->held[i + 1],
				(k->nheld - i - 1) * sizeof(k->held[0]));
			k->nheld--;
			return code;
		}
	}
	return 0;
}

/* Presses e's key with the modifiers it needs. Layout entries (characters)
 * need their Shift and AltGr state exactly: missing modifiers are pressed
 * around the key and extra ones the viewer holds are released around it.
 * The built-in keys (Return, the arrows, ...) only get what they need, so
 * Shift+Home still selects. */
static void press_with_mods(struct vnc_server *v, struct vnc_keys *k, const struct keymap_entry *e)
{
	bool from_layout = e->mods & KEYMAP_EXACT;
	unsigned need = e->mods & (KEYMAP_SHIFT | KEYMAP_ALTGR), held = held_mods(v, k);
	/* The guest's Caps Lock turns a letter's case around. */
	if (from_layout && keysym_is_letter(e->keysym) && atomic_load(&v->caps_lock))
		need ^= KEYMAP_SHIFT;
	unsigned add = need & ~held, drop = from_layout ? held & ~need : 0;
	unsigned dropped[3], ndropped = 0;

	if (drop & KEYMAP_SHIFT) {
		if (is_down(k, KEY_LEFTSHIFT))
			dropped[ndropped++] = KEY_LEFTSHIFT;
		if (is_down(k, KEY_RIGHTSHIFT))
			dropped[ndropped++] = KEY_RIGHTSHIFT;
	}
	if (drop & KEYMAP_ALTGR)
		dropped[ndropped++] = KEY_RIGHTALT;
	for (unsigned i = 0; i < ndropped; i++)
		tap(v, dropped[i], false);
	if (add & KEYMAP_SHIFT)
		tap(v, KEY_LEFTSHIFT, true);
	if (add & KEYMAP_ALTGR)
		tap(v, KEY_RIGHTALT, true);

	key(v, k, e->keycode, true);

	if (add & KEYMAP_ALTGR)
		tap(v, KEY_RIGHTALT, false);
	if (add & KEYMAP_SHIFT)
		tap(v, KEY_LEFTSHIFT, false);
	for (unsigned i = ndropped; i-- > 0;)
		tap(v, dropped[i], true);
}

void vnc_keysym_event(struct vnc_server *v, struct vnc_keys *k, bool down, uint32_t keysym)
{
	if (!down) {
		unsigned code = forget(k, keysym);
		if (!code) {
			const struct keymap_entry *e = keymap_lookup(v->keymap, keysym, 0);
			code = e ? e->keycode : 0;
		}
		if (code && is_down(k, code))
			key(v, k, code, false);
		return;
	}
	const struct keymap_entry *e = keymap_lookup(v->keymap, keysym, held_mods(v, k));
	if (!e) {
		if (tracing(TRACE_DEV))
			log_trace("vnc: keysym 0x%x is not on keymap %s", keysym,
				  keymap_name(v->keymap));
		return;
	}
	press_with_mods(v, k, e);
	remember(k, keysym, e->keycode);
}

void vnc_keycode_event(struct vnc_server *v, struct vnc_keys *k, bool down, uint32_t keysym,
		       uint32_t xt)
{
	/* "If the key has no XT code, the keysym alone says what it is." */
	if (xt == 0) {
		vnc_keysym_event(v, k, down, keysym);
		return;
	}
	unsigned code = vnc_xt_to_evdev(xt);
	if (!code) {
		if (tracing(TRACE_DEV))
			log_trace("vnc: unknown XT scan code 0x%x", xt);
		return;
	}
	if (!down && !is_down(k, code))
		return;
	key(v, k, code, down);
}

void vnc_keys_release(struct vnc_server *v, struct vnc_keys *k)
{
	for (unsigned code = 1; code <= KEY_MAX; code++)
		if (is_down(k, code))
			key(v, k, code, false);
	k->nheld = 0;
}

/* --- libvncserver's hooks for the extended key event ---------------------- */

static int ext_encodings[] = {EXT_KEY_ENCODING, 0};

/* The client asked for the extension: say yes with a FramebufferUpdate
 * holding one rectangle of that pseudo-encoding, as QEMU does. */
static rfbBool ext_enable(rfbClientPtr cl, void **data, int encoding)
{
	struct vnc_client *c = cl->clientData;
	if (encoding != EXT_KEY_ENCODING || !c)
		return FALSE;
	uint8_t ack[16] = {rfbFramebufferUpdate, 0, 0, 1};
	put_be32(ack + 12, (uint32_t)EXT_KEY_ENCODING);
	c->keys.ext = true;
	pthread_mutex_lock(&cl->sendMutex);
	if (rfbWriteExact(cl, (char *)ack, sizeof(ack)) < 0)
		rfbCloseClient(cl);
	pthread_mutex_unlock(&cl->sendMutex);
	return TRUE;
}

static rfbBool ext_message(rfbClientPtr cl, void *data, const rfbClientToServerMsg *msg)
{
	struct vnc_client *c = cl->clientData;
	uint8_t b[11];

	if (msg->type != QEMU_CLIENT_MESSAGE || !c)
		return FALSE;
	if (rfbReadExact(cl, (char *)b, 1) <= 0) {
		rfbCloseClient(cl);
		return TRUE;
	}
	if (b[0] != QEMU_EXT_KEY_EVENT) {
		/* A QEMU message we do not offer (audio): its length is unknown,
		 * so the stream cannot go on. */
		if (tracing(TRACE_DEV))
			log_trace("vnc: %s sent QEMU client message %u", c->host, b[0]);
		rfbCloseClient(cl);
		return TRUE;
	}
	if (rfbReadExact(cl, (char *)b + 1, 10) <= 0) {
		rfbCloseClient(cl);
		return TRUE;
	}
	if (!cl->viewOnly)
		vnc_keycode_event(c->v, &c->keys, (b[1] | b[2]) != 0, get_be32(b + 3),
				  get_be32(b + 7));
	return TRUE;
}

static rfbProtocolExtension ext_key_extension = {
    .pseudoEncodings = ext_encodings,
    .enablePseudoEncoding = ext_enable,
    .handleMessage = ext_message,
};

void vnc_ext_key_forget(rfbClientPtr cl)
{
	/* Not rfbDisableExtension: it forgets the record itself. */
	for (rfbExtensionData **p = &cl->extensions; *p;) {
		rfbExtensionData *e = *p;
		if (e->extension != &ext_key_extension) {
			p = &e->next;
			continue;
		}
		*p = e->next;
		free(e);
	}
}

static void ext_register_once(void)
{
	rfbRegisterProtocolExtension(&ext_key_extension);
}

void vnc_ext_key_register(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, ext_register_once);
}
