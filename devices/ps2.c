/* PS/2 keyboard (scancode sets 1 and 2) and mouse (standard and IntelliMouse
 * wheel) behind the i8042: command protocol, output queues, movement packets. */
#include "devices/ps2.h"

#include "hypervisor/vmstate.h"

#include <errno.h>
#include <string.h>

#define ACK    0xfa
#define RESEND 0xfe
#define ERROR  0xfc
#define BAT_OK 0xaa
#define ECHO   0xee

/* The i8042's set-2 to set-1 translation table for bytes 0x00-0x7f: entry i
 * is the set-1 code of the key whose set-2 code is i (IBM scancode tables;
 * the same key positions as Linux's atkbd "unxlate" table, read backwards).
 * 0x00 is the set-2 overrun code and becomes the set-1 one, 0xff. Bytes from
 * 0x80 up pass unchanged except the two keys whose set-2 code is above 0x7f:
 * F7 (0x83) and Alt+SysRq (0x84). */
static const uint8_t xlate_lo[128] = {
    /* 00 */ 0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58,
    /* 08 */ 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
    /* 10 */ 0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a,
    /* 18 */ 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
    /* 20 */ 0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c,
    /* 28 */ 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
    /* 30 */ 0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e,
    /* 38 */ 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
    /* 40 */ 0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60,
    /* 48 */ 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
    /* 50 */ 0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e,
    /* 58 */ 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
    /* 60 */ 0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b,
    /* 68 */ 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
    /* 70 */ 0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45,
    /* 78 */ 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
};

uint8_t ps2_translate(uint8_t set2)
{
	if (set2 < 0x80)
		return xlate_lo[set2];
	if (set2 == 0x83)
		return 0x41; /* F7 */
	if (set2 == 0x84)
		return 0x54; /* Alt+SysRq */
	return set2;
}

/* ---- queues ---- */

static bool q_push(struct ps2_queue *q, uint8_t v)
{
	if (q->count == PS2_QUEUE_SIZE)
		return false;
	q->buf[(q->head + q->count) % PS2_QUEUE_SIZE] = v;
	q->count++;
	return true;
}

static void q_clear(struct ps2_queue *q)
{
	q->head = q->count = 0;
}

int ps2_pop(struct ps2_queue *q)
{
	if (!q->count)
		return -1;
	uint8_t v = q->buf[q->head];
	q->head = (q->head + 1) % PS2_QUEUE_SIZE;
	q->count--;
	return v;
}

unsigned ps2_queued(const struct ps2_queue *q)
{
	return q->count;
}

/* ---- keyboard ---- */

static void kbd_send(struct ps2_kbd *k, uint8_t v)
{
	/* Only a host that sends commands without reading the answers fills
	 * the queue this far; the answers it ignores are lost. */
	if (q_push(&k->q, v))
		k->last = v;
	else
		k->dropped++;
}

/* 0xF6 defaults: typematic 10.9 characters/s after 500 ms, scancode set 2. */
static void kbd_defaults(struct ps2_kbd *k)
{
	k->typematic = 0x2b;
	k->set = 2;
}

void ps2_kbd_reset(struct ps2_kbd *k)
{
	memset(k, 0, sizeof(*k));
	kbd_defaults(k);
	k->scanning = true;
}

/* The argument byte of 0xED, 0xF3, 0xF0 or 0xFB-0xFD. */
static void kbd_argument(struct ps2_kbd *k, uint8_t v)
{
	switch (k->want_arg) {
	case 0xed: /* LEDs: bit 0 scroll, 1 num, 2 caps lock */
		k->leds = v & 7;
		k->want_arg = 0;
		kbd_send(k, ACK);
		break;
	case 0xf3: /* typematic rate/delay: bit 7 must be clear */
		if (v & 0x80) {
			kbd_send(k, RESEND);
			break;
		}
		k->typematic = v;
		k->want_arg = 0;
		kbd_send(k, ACK);
		break;
	case 0xf0: /* 0: report the set; 1, 2: select it. Set 3 is not offered. */
		if (v == 0) {
			k->want_arg = 0;
			kbd_send(k, ACK);
			kbd_send(k, k->set);
		} else if (v == 1 || v == 2) {
			k->set = v;
			k->want_arg = 0;
			kbd_send(k, ACK);
		} else {
			kbd_send(k, RESEND);
		}
		break;
	default: /* 0xFB-0xFD: a list of set-3 keys, each acknowledged, until
		  * the next command; they only matter in set 3. */
		kbd_send(k, ACK);
		break;
	}
}

void ps2_kbd_write(struct ps2_kbd *k, uint8_t v)
{
	/* Argument bytes are all below 0xED; a command byte in their place
	 * abandons the pending command, as the keyboard does. */
	if (k->want_arg && v < 0xed) {
		kbd_argument(k, v);
		return;
	}
	k->want_arg = 0;
	switch (v) {
	case 0xed: /* set LEDs */
	case 0xf0: /* scancode set */
	case 0xf3: /* typematic */
	case 0xfb: /* set-3 key types */
	case 0xfc:
	case 0xfd:
		kbd_send(k, ACK);
		k->want_arg = v;
		break;
	case 0xee: /* echo */
		kbd_send(k, ECHO);
		break;
	case 0xf2: /* identify: an MF2 keyboard */
		kbd_send(k, ACK);
		kbd_send(k, 0xab);
		kbd_send(k, 0x83);
		break;
	case 0xf4: /* enable: clears the buffer and scans */
		q_clear(&k->q);
		k->scanning = true;
		k->overrun = false;
		kbd_send(k, ACK);
		break;
	case 0xf5: /* default and disable */
	case 0xf6: /* set defaults (keeps scanning as it is) */
		q_clear(&k->q);
		kbd_defaults(k);
		k->overrun = false;
		if (v == 0xf5)
			k->scanning = false;
		kbd_send(k, ACK);
		break;
	case 0xf7: /* set-3 "all keys" types: nothing to change in sets 1 and 2 */
	case 0xf8:
	case 0xf9:
	case 0xfa:
		kbd_send(k, ACK);
		break;
	case 0xfe: /* resend */
		kbd_send(k, k->last);
		break;
	case 0xff: { /* reset and basic assurance test */
		uint64_t dropped = k->dropped;
		ps2_kbd_reset(k);
		k->dropped = dropped;
		kbd_send(k, ACK);
		kbd_send(k, BAT_OK);
		break;
	}
	default:
		kbd_send(k, RESEND);
		break;
	}
}

/* The bytes the keyboard sends for one set-2 sequence in its current set. */
static size_t kbd_encode(const struct ps2_kbd *k, const uint8_t *in, size_t n, uint8_t *out)
{
	if (k->set == 2) {
		memcpy(out, in, n);
		return n;
	}
	size_t len = 0;
	bool brk = false;
	for (size_t i = 0; i < n; i++) {
		if (in[i] == 0xf0) {
			brk = true;
			continue;
		}
		out[len++] = (uint8_t)(ps2_translate(in[i]) | (brk ? 0x80 : 0));
		brk = false;
	}
	return len;
}

bool ps2_kbd_key(struct ps2_kbd *k, const uint8_t *set2, size_t n)
{
	if (!k->scanning)
		return false;
	if (n == 0)
		return true;
	uint8_t out[PS2_KBD_INPUT_LIMIT];
	size_t len = n < PS2_KBD_INPUT_LIMIT ? kbd_encode(k, set2, n, out) : PS2_KBD_INPUT_LIMIT;
	if (k->q.count + len < PS2_KBD_INPUT_LIMIT) {
		for (size_t i = 0; i < len; i++)
			kbd_send(k, out[i]);
		k->overrun = false;
		return true;
	}
	/* Full: the keyboard drops the key and puts its overrun code in the
	 * last place instead (0x00 in set 2, 0xff in set 1). */
	k->dropped++;
	if (!k->overrun && k->q.count < PS2_KBD_INPUT_LIMIT) {
		kbd_send(k, k->set == 1 ? 0xff : 0x00);
		k->overrun = true;
	}
	return false;
}

/* ---- mouse ---- */

#define MOTION_MAX (1 << 20) /* pending motion saturates here */

static void mouse_send(struct ps2_mouse *m, const uint8_t *b, unsigned n)
{
	if (m->q.count + n > PS2_QUEUE_SIZE) {
		m->dropped++;
		return;
	}
	for (unsigned i = 0; i < n; i++)
		q_push(&m->q, b[i]);
	memcpy(m->last, b, n);
	m->last_len = n;
}

static void mouse_send1(struct ps2_mouse *m, uint8_t v)
{
	mouse_send(m, &v, 1);
}

static void mouse_defaults(struct ps2_mouse *m)
{
	m->rate = 100;
	m->resolution = 2; /* 4 counts/mm */
	m->scaling21 = false;
	m->remote = false;
	m->reporting = false;
	m->dx = m->dy = m->dz = 0;
}

void ps2_mouse_reset(struct ps2_mouse *m)
{
	unsigned buttons = m->buttons; /* what the user holds stays held */
	uint64_t dropped = m->dropped;
	memset(m, 0, sizeof(*m));
	mouse_defaults(m);
	m->buttons = buttons;
	m->dropped = dropped;
}

static int32_t clamp32(int32_t v, int32_t lo, int32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* 2:1 scaling of stream-mode reports (PS/2 mouse specification table). */
static int32_t scale21(int32_t v)
{
	static const int32_t small[6] = {0, 1, 1, 3, 6, 9};
	int32_t a = v < 0 ? -v : v;
	int32_t s = a < 6 ? small[a] : 2 * a;
	return v < 0 ? -s : s;
}

static unsigned packet_len(const struct ps2_mouse *m)
{
	return m->id == 3 ? 4 : 3;
}

/* One movement packet from the pending motion; what does not fit in one
 * packet stays pending for the next. */
static void mouse_packet(struct ps2_mouse *m, bool stream)
{
	int32_t dx = clamp32(m->dx, -255, 255);
	int32_t dy = clamp32(m->dy, -255, 255);
	int32_t dz = clamp32(m->dz, -8, 7);
	m->dx -= dx;
	m->dy -= dy;
	m->dz -= dz;
	if (stream && m->scaling21) {
		dx = scale21(dx);
		dy = scale21(dy);
	}
	uint8_t b0 = (uint8_t)(0x08 | (m->buttons & 7));
	if (dx < -256 || dx > 255) {
		b0 |= 0x40; /* X overflow */
		dx = dx < 0 ? -256 : 255;
	}
	if (dy < -256 || dy > 255) {
		b0 |= 0x80; /* Y overflow */
		dy = dy < 0 ? -256 : 255;
	}
	if (dx < 0)
		b0 |= 0x10;
	if (dy < 0)
		b0 |= 0x20;
	uint8_t pkt[4] = {b0, (uint8_t)(dx & 0xff), (uint8_t)(dy & 0xff), (uint8_t)(dz & 0xff)};
	mouse_send(m, pkt, packet_len(m));
	m->buttons_dirty = false;
	m->wake = false;
}

static bool motion_pending(const struct ps2_mouse *m)
{
	return m->buttons_dirty || m->wake || m->dx || m->dy || m->dz;
}

void ps2_mouse_flush(struct ps2_mouse *m)
{
	if (m->remote || !m->reporting || m->wrap)
		return;
	while (motion_pending(m) && m->q.count + packet_len(m) <= PS2_MOUSE_INPUT_LIMIT)
		mouse_packet(m, true);
}

void ps2_mouse_wake(struct ps2_mouse *m)
{
	if (m->remote || !m->reporting || m->wrap)
		return;
	m->wake = true;
	ps2_mouse_flush(m);
}

static int32_t add_motion(struct ps2_mouse *m, int32_t have, int delta)
{
	int64_t sum = (int64_t)have + delta;
	if (sum > MOTION_MAX || sum < -MOTION_MAX) {
		m->dropped++;
		sum = sum > 0 ? MOTION_MAX : -MOTION_MAX;
	}
	return (int32_t)sum;
}

void ps2_mouse_move(struct ps2_mouse *m, int dx, int dy, int dz, unsigned buttons)
{
	buttons &= PS2_MOUSE_LEFT | PS2_MOUSE_RIGHT | PS2_MOUSE_MIDDLE;
	bool counting = m->remote || m->reporting;
	if (counting && buttons != m->buttons)
		m->buttons_dirty = true;
	m->buttons = buttons;
	if (!counting)
		return; /* a disabled stream-mode mouse reports nothing later either */
	m->dx = add_motion(m, m->dx, dx);
	m->dy = add_motion(m, m->dy, dy == INT32_MIN ? INT32_MAX : -dy); /* PS/2: y grows upwards */
	if (m->id == 3)
		m->dz = add_motion(m, m->dz, dz);
	ps2_mouse_flush(m);
}

static bool valid_rate(uint8_t v)
{
	static const uint8_t rates[] = {10, 20, 40, 60, 80, 100, 200};
	for (size_t i = 0; i < sizeof(rates); i++)
		if (rates[i] == v)
			return true;
	return false;
}

/* The argument byte of 0xF3 or 0xE8. A bad one gets a resend request, a
 * second bad one in a row an error, and the command is dropped. */
static void mouse_argument(struct ps2_mouse *m, uint8_t v)
{
	bool ok = m->want_arg == 0xf3 ? valid_rate(v) : v <= 3;
	if (!ok) {
		if (m->last_len == 1 && m->last[0] == RESEND) {
			m->want_arg = 0;
			mouse_send1(m, ERROR);
		} else {
			mouse_send1(m, RESEND);
		}
		return;
	}
	if (m->want_arg == 0xf3) {
		m->rate = v;
		m->knock[0] = m->knock[1];
		m->knock[1] = m->knock[2];
		m->knock[2] = v;
		/* The IntelliMouse knock: rates 200, 100, 80 switch the wheel on. */
		if (m->id == 0 && m->knock[0] == 200 && m->knock[1] == 100 && m->knock[2] == 80)
			m->id = 3;
	} else {
		m->resolution = v;
	}
	m->want_arg = 0;
	mouse_send1(m, ACK);
}

void ps2_mouse_write(struct ps2_mouse *m, uint8_t v)
{
	if (m->wrap && v != 0xec && v != 0xff) {
		mouse_send1(m, v); /* wrap mode echoes everything else */
		return;
	}
	if (m->want_arg) {
		mouse_argument(m, v);
		return;
	}
	if (v != 0xfe) {
		/* A command stops the report in flight and resets the movement
		 * counters (all but resend, and read data, which reports them
		 * first). */
		q_clear(&m->q);
		if (v != 0xeb) {
			m->dx = m->dy = m->dz = 0;
			m->buttons_dirty = false;
			m->wake = false;
		}
	}
	switch (v) {
	case 0xe6: /* scaling 1:1 */
	case 0xe7: /* scaling 2:1 */
		m->scaling21 = v == 0xe7;
		mouse_send1(m, ACK);
		break;
	case 0xe8: /* resolution */
	case 0xf3: /* sample rate */
		m->want_arg = v;
		mouse_send1(m, ACK);
		break;
	case 0xe9: { /* status request */
		uint8_t st[4] = {ACK,
				 (uint8_t)((m->remote ? 0x40 : 0) | (m->reporting ? 0x20 : 0) |
					   (m->scaling21 ? 0x10 : 0) |
					   (m->buttons & PS2_MOUSE_LEFT ? 0x04 : 0) |
					   (m->buttons & PS2_MOUSE_MIDDLE ? 0x02 : 0) |
					   (m->buttons & PS2_MOUSE_RIGHT ? 0x01 : 0)),
				 m->resolution, m->rate};
		mouse_send(m, st, 4);
		break;
	}
	case 0xea: /* stream mode */
	case 0xf0: /* remote mode */
		m->remote = v == 0xf0;
		mouse_send1(m, ACK);
		break;
	case 0xeb: /* read data: one packet, even in stream mode */
		mouse_send1(m, ACK);
		mouse_packet(m, false);
		m->dx = m->dy = m->dz = 0;
		break;
	case 0xec: /* leave wrap mode */
	case 0xee: /* wrap mode */
		m->wrap = v == 0xee;
		mouse_send1(m, ACK);
		break;
	case 0xf2: { /* device ID */
		uint8_t id[2] = {ACK, m->id};
		mouse_send(m, id, 2);
		break;
	}
	case 0xf4: /* enable data reporting */
	case 0xf5: /* disable data reporting */
		m->reporting = v == 0xf4;
		mouse_send1(m, ACK);
		break;
	case 0xf6: /* set defaults */
		mouse_defaults(m);
		mouse_send1(m, ACK);
		break;
	case 0xfe: { /* resend the last packet or answer */
		uint8_t last[4];
		unsigned n = m->last_len;
		memcpy(last, m->last, sizeof(last));
		if (n)
			mouse_send(m, last, n);
		break;
	}
	case 0xff: { /* reset: self test passed, ID 0 */
		static const uint8_t bat[3] = {ACK, BAT_OK, 0x00};
		ps2_mouse_reset(m);
		mouse_send(m, bat, 3);
		break;
	}
	default:
		mouse_send1(m, RESEND);
		break;
	}
}

/* ---- saved state ---- */

static void queue_save(const struct ps2_queue *q, struct vmstate_out *out, const char *field)
{
	uint8_t b[PS2_QUEUE_SIZE];
	for (unsigned i = 0; i < q->count; i++)
		b[i] = q->buf[(q->head + i) % PS2_QUEUE_SIZE];
	vmstate_put_bytes(out, field, b, q->count);
}

static int queue_load(struct ps2_queue *q, struct vmstate_section *in, const char *field)
{
	size_t n;
	const uint8_t *b = vmstate_get_blob(in, field, PS2_QUEUE_SIZE, &n);
	if (!b)
		return -EINVAL;
	memcpy(q->buf, b, n);
	q->head = 0;
	q->count = (unsigned)n;
	return 0;
}

void ps2_kbd_save(const struct ps2_kbd *k, struct vmstate_out *out)
{
	queue_save(&k->q, out, "kbd.queue");
	vmstate_put_u64(out, "kbd.want_arg", k->want_arg);
	vmstate_put_u64(out, "kbd.set", k->set);
	vmstate_put_u64(out, "kbd.leds", k->leds);
	vmstate_put_u64(out, "kbd.typematic", k->typematic);
	vmstate_put_bool(out, "kbd.scanning", k->scanning);
	vmstate_put_bool(out, "kbd.overrun", k->overrun);
	vmstate_put_u64(out, "kbd.last", k->last);
	vmstate_put_u64(out, "kbd.dropped", k->dropped);
}

int ps2_kbd_load(struct ps2_kbd *k, struct vmstate_section *in)
{
	struct ps2_kbd n;
	int r;
	memset(&n, 0, sizeof(n));
	if ((r = queue_load(&n.q, in, "kbd.queue")) < 0 ||
	    (r = vmstate_get_u8(in, "kbd.want_arg", UINT8_MAX, &n.want_arg)) < 0 ||
	    (r = vmstate_get_u8(in, "kbd.set", 2, &n.set)) < 0 ||
	    (r = vmstate_get_u8(in, "kbd.leds", 7, &n.leds)) < 0 ||
	    (r = vmstate_get_u8(in, "kbd.typematic", 0x7f, &n.typematic)) < 0 ||
	    (r = vmstate_get_bool(in, "kbd.scanning", &n.scanning)) < 0 ||
	    (r = vmstate_get_bool(in, "kbd.overrun", &n.overrun)) < 0 ||
	    (r = vmstate_get_u8(in, "kbd.last", UINT8_MAX, &n.last)) < 0 ||
	    (r = vmstate_get_u64(in, "kbd.dropped", UINT64_MAX, &n.dropped)) < 0)
		return r;
	switch (n.want_arg) {
	case 0:
	case 0xed:
	case 0xf0:
	case 0xf3:
	case 0xfb:
	case 0xfc:
	case 0xfd:
		break;
	default:
		return vmstate_fail(in, "kbd.want_arg: 0x%02x is no command that takes an argument",
				    n.want_arg);
	}
	if (n.set < 1)
		return vmstate_fail(in, "kbd.set: scancode set %u does not exist", n.set);
	*k = n;
	return 0;
}

void ps2_mouse_save(const struct ps2_mouse *m, struct vmstate_out *out)
{
	queue_save(&m->q, out, "mouse.queue");
	vmstate_put_u64(out, "mouse.want_arg", m->want_arg);
	vmstate_put_u64(out, "mouse.rate", m->rate);
	vmstate_put_u64(out, "mouse.resolution", m->resolution);
	vmstate_put_bool(out, "mouse.scaling21", m->scaling21);
	vmstate_put_bool(out, "mouse.remote", m->remote);
	vmstate_put_bool(out, "mouse.reporting", m->reporting);
	vmstate_put_bool(out, "mouse.wrap", m->wrap);
	vmstate_put_u64(out, "mouse.id", m->id);
	vmstate_put_bytes(out, "mouse.knock", m->knock, sizeof(m->knock));
	vmstate_put_u64(out, "mouse.buttons", m->buttons);
	vmstate_put_bool(out, "mouse.buttons_dirty", m->buttons_dirty);
	vmstate_put_bool(out, "mouse.wake", m->wake);
	vmstate_put_u64(out, "mouse.dx", (uint64_t)(int64_t)m->dx);
	vmstate_put_u64(out, "mouse.dy", (uint64_t)(int64_t)m->dy);
	vmstate_put_u64(out, "mouse.dz", (uint64_t)(int64_t)m->dz);
	vmstate_put_bytes(out, "mouse.last", m->last, m->last_len);
	vmstate_put_u64(out, "mouse.dropped", m->dropped);
}

static int get_motion(struct vmstate_section *in, const char *field, int32_t *out)
{
	uint64_t v;
	int r = vmstate_get_u64(in, field, UINT64_MAX, &v);
	if (r < 0)
		return r;
	int64_t s = (int64_t)v;
	if (s > MOTION_MAX || s < -MOTION_MAX)
		return vmstate_fail(in, "%s: %lld counts is beyond the %d a mouse holds", field,
				    (long long)s, MOTION_MAX);
	*out = (int32_t)s;
	return 0;
}

int ps2_mouse_load(struct ps2_mouse *m, struct vmstate_section *in)
{
	struct ps2_mouse n;
	uint32_t buttons;
	size_t last_len;
	int r;
	memset(&n, 0, sizeof(n));
	if ((r = queue_load(&n.q, in, "mouse.queue")) < 0 ||
	    (r = vmstate_get_u8(in, "mouse.want_arg", UINT8_MAX, &n.want_arg)) < 0 ||
	    (r = vmstate_get_u8(in, "mouse.rate", UINT8_MAX, &n.rate)) < 0 ||
	    (r = vmstate_get_u8(in, "mouse.resolution", 3, &n.resolution)) < 0 ||
	    (r = vmstate_get_bool(in, "mouse.scaling21", &n.scaling21)) < 0 ||
	    (r = vmstate_get_bool(in, "mouse.remote", &n.remote)) < 0 ||
	    (r = vmstate_get_bool(in, "mouse.reporting", &n.reporting)) < 0 ||
	    (r = vmstate_get_bool(in, "mouse.wrap", &n.wrap)) < 0 ||
	    (r = vmstate_get_u8(in, "mouse.id", 3, &n.id)) < 0 ||
	    (r = vmstate_get_bytes(in, "mouse.knock", n.knock, sizeof(n.knock))) < 0 ||
	    (r = vmstate_get_u32(in, "mouse.buttons", 7, &buttons)) < 0 ||
	    (r = vmstate_get_bool(in, "mouse.buttons_dirty", &n.buttons_dirty)) < 0 ||
	    (r = vmstate_get_bool(in, "mouse.wake", &n.wake)) < 0 ||
	    (r = get_motion(in, "mouse.dx", &n.dx)) < 0 ||
	    (r = get_motion(in, "mouse.dy", &n.dy)) < 0 ||
	    (r = get_motion(in, "mouse.dz", &n.dz)) < 0 ||
	    (r = vmstate_get_u64(in, "mouse.dropped", UINT64_MAX, &n.dropped)) < 0)
		return r;
	const uint8_t *last = vmstate_get_blob(in, "mouse.last", sizeof(n.last), &last_len);
	if (!last)
		return -EINVAL;
	memcpy(n.last, last, last_len);
	n.last_len = (unsigned)last_len;
	n.buttons = buttons;
	if (n.want_arg != 0 && n.want_arg != 0xe8 && n.want_arg != 0xf3)
		return vmstate_fail(
		    in, "mouse.want_arg: 0x%02x is no command that takes an argument", n.want_arg);
	if (!valid_rate(n.rate))
		return vmstate_fail(in, "mouse.rate: %u samples/s is not a rate the mouse takes",
				    n.rate);
	if (n.id != 0 && n.id != 3)
		return vmstate_fail(in, "mouse.id: %u is neither 0 (standard) nor 3 (wheel)", n.id);
	for (unsigned i = 0; i < sizeof(n.knock); i++)
		if (n.knock[i] && !valid_rate(n.knock[i]))
			return vmstate_fail(in,
					    "mouse.knock: %u samples/s is not a rate the mouse "
					    "takes",
					    n.knock[i]);
	*m = n;
	return 0;
}
