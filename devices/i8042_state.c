/* The i8042 keyboard controller's saved state: its RAM, buffers and replies, the keys typed
 * ahead, and the PS/2 keyboard's and mouse's; and pausing it (no typematic repeat). */
#include "devices/i8042_int.h"

#include "hypervisor/evloop.h"

#include <errno.h>
#include <string.h>

void i8042_save(void *state, struct vmstate_out *out)
{
	struct i8042 *c = state;
	uint8_t rep[2 * REPLY_MAX], ahead[TYPEAHEAD_MAX * (1 + PS2_KEYS_SEQ_MAX)];
	size_t alen = 0;
	pthread_mutex_lock(&c->lock);
	vmstate_put_bytes(out, "ram", c->ram, sizeof(c->ram));
	vmstate_put_u64(out, "status", c->status);
	vmstate_put_u64(out, "obuf", c->obuf);
	vmstate_put_u64(out, "outport", c->outport);
	vmstate_put_u64(out, "want_data", c->want_data);
	vmstate_put_bool(out, "xlat_break", c->xlat_break);
	for (unsigned i = 0; i < c->nreply; i++) {
		rep[2 * i] = c->reply[i].v;
		rep[2 * i + 1] = c->reply[i].aux;
	}
	vmstate_put_bytes(out, "reply", rep, 2 * (size_t)c->nreply);
	/* Keys typed that the keyboard has not taken yet: length, bytes. */
	for (unsigned i = 0; i < c->ahead_count; i++) {
		unsigned k = (c->ahead_head + i) % TYPEAHEAD_MAX;
		ahead[alen++] = c->ahead[k].n;
		memcpy(ahead + alen, c->ahead[k].seq, c->ahead[k].n);
		alen += c->ahead[k].n;
	}
	vmstate_put_bytes(out, "typeahead", ahead, alen);
	ps2_kbd_save(&c->kbd, out);
	ps2_mouse_save(&c->mouse, out);
	pthread_mutex_unlock(&c->lock);
}

static bool want_data_ok(uint8_t v)
{
	return v == 0 || (v >= 0x60 && v < 0x80) || (v >= 0xd1 && v <= 0xd4);
}

/* The typeahead blob into c (the caller holds the lock). */
static int load_typeahead(struct i8042 *c, struct vmstate_section *in)
{
	size_t len;
	const uint8_t *b =
	    vmstate_get_blob(in, "typeahead", TYPEAHEAD_MAX * (1 + PS2_KEYS_SEQ_MAX), &len);
	if (!b)
		return -EINVAL;
	unsigned count = 0;
	for (size_t off = 0; off < len; count++) {
		uint8_t n = b[off];
		if (n == 0 || n > PS2_KEYS_SEQ_MAX || n > len - off - 1)
			return vmstate_fail(in, "typeahead: key %u has a bad length (%u)", count,
					    n);
		if (count == TYPEAHEAD_MAX)
			return vmstate_fail(in, "typeahead: more than %d keys", TYPEAHEAD_MAX);
		c->ahead[count].n = n;
		memcpy(c->ahead[count].seq, b + off + 1, n);
		off += 1 + n;
	}
	c->ahead_head = 0;
	c->ahead_count = count;
	return 0;
}

int i8042_load(void *state, struct vmstate_section *in)
{
	struct i8042 *c = state;
	uint8_t ram[sizeof(c->ram)], status, obuf, outport, want_data;
	bool xlat_break;
	size_t rlen;
	int r;
	if ((r = vmstate_get_bytes(in, "ram", ram, sizeof(ram))) < 0 ||
	    (r = vmstate_get_u8(in, "status", UINT8_MAX, &status)) < 0 ||
	    (r = vmstate_get_u8(in, "obuf", UINT8_MAX, &obuf)) < 0 ||
	    (r = vmstate_get_u8(in, "outport", UINT8_MAX, &outport)) < 0 ||
	    (r = vmstate_get_u8(in, "want_data", UINT8_MAX, &want_data)) < 0 ||
	    (r = vmstate_get_bool(in, "xlat_break", &xlat_break)) < 0)
		return r;
	const uint8_t *rep = vmstate_get_blob(in, "reply", 2 * REPLY_MAX, &rlen);
	if (!rep)
		return -EINVAL;
	if (status & (uint8_t) ~(STS_OBF | STS_AUXOBF | STS_CMD) ||
	    ((status & STS_AUXOBF) && !(status & STS_OBF)))
		return vmstate_fail(in, "status: 0x%02x is not a state the controller reaches",
				    status);
	if (!want_data_ok(want_data))
		return vmstate_fail(in, "want_data: 0x%02x is no command that takes a data byte",
				    want_data);
	if (rlen % 2)
		return vmstate_fail(in, "reply: %zu bytes is not a list of byte and channel", rlen);
	for (size_t i = 1; i < rlen; i += 2)
		if (rep[i] > 1)
			return vmstate_fail(in, "reply: channel %u is neither keyboard nor mouse",
					    rep[i]);

	pthread_mutex_lock(&c->lock);
	/* The devices first: they check their own fields and change nothing
	 * when one is bad; then nothing below can fail but the typeahead. */
	struct ps2_kbd kbd = c->kbd;
	struct ps2_mouse mouse = c->mouse;
	if ((r = ps2_kbd_load(&c->kbd, in)) < 0 || (r = ps2_mouse_load(&c->mouse, in)) < 0 ||
	    (r = load_typeahead(c, in)) < 0) {
		c->kbd = kbd;
		c->mouse = mouse;
		c->ahead_head = c->ahead_count = 0;
		pthread_mutex_unlock(&c->lock);
		return r;
	}
	memcpy(c->ram, ram, sizeof(ram));
	c->status = status;
	c->obuf = obuf;
	c->outport = outport;
	c->want_data = want_data;
	c->xlat_break = xlat_break;
	c->nreply = (unsigned)rlen / 2;
	for (unsigned i = 0; i < c->nreply; i++) {
		c->reply[i].v = rep[2 * i];
		c->reply[i].aux = rep[2 * i + 1];
	}
	/* The host's keys are not held any more: no repeat, no modifiers. */
	memset(&c->keys, 0, sizeof(c->keys));
	c->rep_key = 0;
	if (c->rep_timer)
		evtimer_cancel(c->rep_timer);
	i8042_refresh(c);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

void i8042_pause(void *state, bool paused)
{
	struct i8042 *c = state;
	pthread_mutex_lock(&c->lock);
	c->paused = paused;
	if (paused) {
		if (c->rep_timer)
			evtimer_cancel(c->rep_timer);
	} else {
		if (c->rep_key && c->rep_timer)
			evtimer_arm(c->rep_timer, i8042_typematic_period_ns(c->kbd.typematic), 0);
		i8042_refresh(c); /* input that came while paused raises its IRQ now */
	}
	pthread_mutex_unlock(&c->lock);
}
