/* kbdecho: the PS/2 keyboard from inside a VM. Sets the i8042 and keyboard up as Linux does
 * (scan code set 2, translated to set 1 by the controller, IRQ 1), prints "ready", then one
 * line per scan code unit it receives: the bytes, make or break, the key's name and, for a
 * make, the character a US layout gives with the modifiers held; a "text:" line at each Enter.
 * Ends when Esc is pressed and released (or after timeout= seconds, default 300, as a
 * failure). Driven by the real-client tests in tests/vnc/. */
#include "../lib/cmdline.h"
#include "../lib/format.h"
#include "../lib/idt.h"
#include "../lib/io.h"
#include "../lib/pic.h"
#include "../lib/test.h"
#include "../lib/timer.h"
#include "../lib/uart.h"
#include "kbc.h"

#define KBD_IRQ		1
#define RING_SIZE	256
#define TEXT_MAX	78
#define DEFAULT_TIMEOUT 300

#define ACK    0xfa
#define BAT_OK 0xaa

/* Bytes from the IRQ 1 handler. */
static volatile u8 ring[RING_SIZE];
static volatile u32 ring_head, ring_tail;
static volatile u32 ring_lost;

static void kbd_irq(unsigned irq)
{
	(void)irq;
	/* One byte per interrupt: the controller raises IRQ 1 again for the next. */
	if ((inb(KBC_STATUS) & (KBC_STS_OBF | KBC_STS_AUX)) != KBC_STS_OBF)
		return;
	u8 b = inb(KBC_DATA);
	if (ring_head - ring_tail < RING_SIZE)
		ring[ring_head++ % RING_SIZE] = b;
	else
		ring_lost++;
}

/* ---- set 1 as a US keyboard labels it ---- */

static const char *const names[0x59] = {
    [0x01] = "Esc",	[0x02] = "1",	       [0x03] = "2",	      [0x04] = "3",
    [0x05] = "4",	[0x06] = "5",	       [0x07] = "6",	      [0x08] = "7",
    [0x09] = "8",	[0x0a] = "9",	       [0x0b] = "0",	      [0x0c] = "Minus",
    [0x0d] = "Equal",	[0x0e] = "Backspace",  [0x0f] = "Tab",	      [0x10] = "Q",
    [0x11] = "W",	[0x12] = "E",	       [0x13] = "R",	      [0x14] = "T",
    [0x15] = "Y",	[0x16] = "U",	       [0x17] = "I",	      [0x18] = "O",
    [0x19] = "P",	[0x1a] = "LeftBrace",  [0x1b] = "RightBrace", [0x1c] = "Enter",
    [0x1d] = "LCtrl",	[0x1e] = "A",	       [0x1f] = "S",	      [0x20] = "D",
    [0x21] = "F",	[0x22] = "G",	       [0x23] = "H",	      [0x24] = "J",
    [0x25] = "K",	[0x26] = "L",	       [0x27] = "Semicolon",  [0x28] = "Apostrophe",
    [0x29] = "Grave",	[0x2a] = "LShift",     [0x2b] = "Backslash",  [0x2c] = "Z",
    [0x2d] = "X",	[0x2e] = "C",	       [0x2f] = "V",	      [0x30] = "B",
    [0x31] = "N",	[0x32] = "M",	       [0x33] = "Comma",      [0x34] = "Dot",
    [0x35] = "Slash",	[0x36] = "RShift",     [0x37] = "KP*",	      [0x38] = "LAlt",
    [0x39] = "Space",	[0x3a] = "CapsLock",   [0x3b] = "F1",	      [0x3c] = "F2",
    [0x3d] = "F3",	[0x3e] = "F4",	       [0x3f] = "F5",	      [0x40] = "F6",
    [0x41] = "F7",	[0x42] = "F8",	       [0x43] = "F9",	      [0x44] = "F10",
    [0x45] = "NumLock", [0x46] = "ScrollLock", [0x47] = "KP7",	      [0x48] = "KP8",
    [0x49] = "KP9",	[0x4a] = "KP-",	       [0x4b] = "KP4",	      [0x4c] = "KP5",
    [0x4d] = "KP6",	[0x4e] = "KP+",	       [0x4f] = "KP1",	      [0x50] = "KP2",
    [0x51] = "KP3",	[0x52] = "KP0",	       [0x53] = "KP.",	      [0x54] = "SysRq",
    [0x56] = "102nd",	[0x57] = "F11",	       [0x58] = "F12",
};

static const struct {
	u8 code;
	const char *name;
} e0_names[] = {
    {0x1c, "KPEnter"},	  {0x1d, "RCtrl"},	 {0x2a, "FakeLShift"},	 {0x35, "KP/"},
    {0x36, "FakeRShift"}, {0x37, "PrintScreen"}, {0x38, "RAlt"},	 {0x46, "Break"},
    {0x47, "Home"},	  {0x48, "Up"},		 {0x49, "PageUp"},	 {0x4b, "Left"},
    {0x4d, "Right"},	  {0x4f, "End"},	 {0x50, "Down"},	 {0x51, "PageDown"},
    {0x52, "Insert"},	  {0x53, "Delete"},	 {0x5b, "LMeta"},	 {0x5c, "RMeta"},
    {0x5d, "Menu"},	  {0x5e, "Power"},	 {0x5f, "Sleep"},	 {0x63, "Wake"},
    {0x20, "Mute"},	  {0x2e, "VolumeDown"},	 {0x30, "VolumeUp"},	 {0x22, "PlayPause"},
    {0x24, "StopCD"},	  {0x19, "NextSong"},	 {0x10, "PreviousSong"},
};

/* Characters of codes 0x00-0x39 and 0x56, without and with Shift. */
static const char plain[0x3a] = "\0\0"
				"1234567890-=\0\0"
				"qwertyuiop[]\0\0"
				"asdfghjkl;'`\0\\"
				"zxcvbnm,./\0*\0 ";
static const char shifted[0x3a] = "\0\0"
				  "!@#$%^&*()_+\0\0"
				  "QWERTYUIOP{}\0\0"
				  "ASDFGHJKL:\"~\0|"
				  "ZXCVBNM<>?\0*\0 ";

static bool lshift, rshift, lctrl, rctrl, lalt, ralt;
static char text[TEXT_MAX + 1];
static unsigned text_len;

static const char *e0_name(u8 code)
{
	for (unsigned i = 0; i < ARRAY_SIZE(e0_names); i++)
		if (e0_names[i].code == code)
			return e0_names[i].name;
	return "?";
}

/* The modifiers the program tracks (fake shifts are not keys). */
static void track(bool e0, u8 code, bool make)
{
	if (!e0 && code == 0x2a)
		lshift = make;
	else if (!e0 && code == 0x36)
		rshift = make;
	else if (code == 0x1d)
		*(e0 ? &rctrl : &lctrl) = make;
	else if (code == 0x38)
		*(e0 ? &ralt : &lalt) = make;
}

/* One unit: a plain code, E0 and a code, or E1 and two codes. */
static void show(const u8 *b, unsigned n)
{
	char bytes[16];
	unsigned len = 0;

	for (unsigned i = 0; i < n; i++)
		len += snprintf(bytes + len, sizeof(bytes) - len, i ? " %02x" : "%02x", b[i]);
	if (b[0] == 0xe1) {
		bool pause = (b[1] & 0x7f) == 0x1d && (b[2] & 0x7f) == 0x45;
		printf("key: %s %s %s\n", bytes, b[1] & 0x80 ? "break" : "make",
		       pause ? "Pause" : "?");
		return;
	}
	bool e0 = b[0] == 0xe0;
	u8 code = b[n - 1] & 0x7f;
	bool make = !(b[n - 1] & 0x80);
	const char *name = e0					     ? e0_name(code)
			   : code < ARRAY_SIZE(names) && names[code] ? names[code]
								     : "?";
	track(e0, code, make);

	char ch[16] = "";
	if (make && !e0 && (code < sizeof(plain) || code == 0x56)) {
		bool shift = lshift || rshift, ctrl = lctrl || rctrl, alt = lalt || ralt;
		char c = code == 0x56 ? (shift ? '|' : '\\') : shift ? shifted[code] : plain[code];
		if (c && ctrl && c >= 'a' && c <= 'z')
			snprintf(ch, sizeof(ch), " %s^%c", alt ? "alt " : "", c - 'a' + 'A');
		else if (c && ctrl && c >= 'A' && c <= 'Z')
			snprintf(ch, sizeof(ch), " %s^%c", alt ? "alt " : "", c);
		else if (c)
			snprintf(ch, sizeof(ch), " %s'%c'", alt ? "alt " : "", c);
		if (c && !ctrl && !alt && text_len < TEXT_MAX)
			text[text_len++] = c;
	}
	printf("key: %s %s %s%s\n", bytes, make ? "make" : "break", name, ch);
	if (make && code == 0x1c) { /* either Enter */
		text[text_len] = '\0';
		printf("text: %s\n", text);
		text_len = 0;
	} else if (make && !e0 && code == 0x0e && text_len) {
		text_len--;
	}
}

/* ---- set-up ---- */

static int kbd_command(u8 v)
{
	if (!kbc_data(v))
		return -1;
	return kbc_read();
}

static void setup(void)
{
	int ctr, r, bat;

	/* Both interfaces off while the controller is set up (Linux i8042_controller_init). */
	check(kbc_command(0xad) && kbc_command(0xa7), "i8042 accepts commands (0xad, 0xa7)");
	kbc_flush();
	ctr = kbc_read_ctr();
	check(ctr >= 0, "command byte read");
	ctr = (ctr & ~(KBC_CTR_KBDDIS | KBC_CTR_AUXINT)) | KBC_CTR_AUXDIS | KBC_CTR_KBDINT |
	      KBC_CTR_XLATE | KBC_CTR_SYS;
	check(kbc_write_ctr((u8)ctr), "command byte written: translation on, IRQ 1 on");
	r = kbc_read_ctr();
	check(r == ctr, "command byte reads back 0x%02x (read 0x%02x)", ctr, r & 0xff);

	/* atkbd: reset with self test, set 2 (translated to set 1 here), LEDs off, enable. */
	r = kbd_command(0xff);
	bat = kbc_read();
	check(r == ACK && bat == BAT_OK, "keyboard reset: ACK and self test passed (0x%02x 0x%02x)",
	      r & 0xff, bat & 0xff);
	r = kbd_command(0xf0);
	check(r == ACK && kbd_command(0x02) == ACK, "scan code set 2 selected");
	r = kbd_command(0xed);
	check(r == ACK && kbd_command(0x00) == ACK, "LEDs off");
	check(kbd_command(0xf4) == ACK, "scanning enabled");
	check(kbc_flush() == 0, "nothing else waiting");
}

void test_main(void)
{
	u64 timeout_s = DEFAULT_TIMEOUT;
	u8 unit[3];
	unsigned n = 0;
	bool esc_down = false, done = false;

	arg_u64("timeout", &timeout_s);
	printf("kbdecho: PS/2 keyboard through the i8042, set 2 translated to set 1, IRQ %u\n",
	       KBD_IRQ);
	setup();
	if (test_failures)
		return;

	irq_set_handler(KBD_IRQ, kbd_irq);
	pic_unmask(KBD_IRQ);
	pit_ticks_start(100);
	printf("ready: type; Esc ends\n");
	sti();
	while (!done) {
		cli();
		while (ring_tail == ring_head && pit_ticks < timeout_s * 100) {
			sti_hlt();
			cli();
		}
		sti();
		if (ring_tail == ring_head)
			break;
		u8 b = ring[ring_tail % RING_SIZE];
		ring_tail++;
		unit[n++] = b;
		/* A prefix waits for the rest of its unit. */
		if ((unit[0] == 0xe0 && n < 2) || (unit[0] == 0xe1 && n < 3))
			continue;
		show(unit, n);
		if (n == 1 && unit[0] == 0x01)
			esc_down = true;
		else if (n == 1 && unit[0] == 0x81 && esc_down)
			done = true;
		n = 0;
	}
	cli();
	pic_mask(KBD_IRQ);
	pit_ticks_stop();
	sti();
	check(done, "Esc pressed and released within %u s", (unsigned)timeout_s);
	check(ring_lost == 0, "no bytes lost (%u)", ring_lost);
}
