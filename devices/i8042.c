/* i8042: the PC keyboard controller. Status/command port 0x64, data port 0x60,
 * the command byte, the output port (reset line, A20), set-2 to set-1
 * translation, and the output buffer shared by the PS/2 keyboard and mouse. */
#include "devices/i8042_int.h"

#include "devices/device.h"
#include "devices/ps2.h"
#include "devices/ps2_keys.h"
#include "hypervisor/evloop.h"
#include "hypervisor/input.h"
#include "hypervisor/log.h"
#include "hypervisor/platform.h"

#include <errno.h>
#include <linux/input-event-codes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- output buffer and interrupt lines (caller holds the lock) ---- */

static void update_irq(struct i8042 *c)
{
	if (c->paused)
		return; /* the lines follow on resume */
	bool obf = c->status & STS_OBF, aux = c->status & STS_AUXOBF;
	bool l1 = obf && !aux && (CTR(c) & CTR_KBDINT);
	bool l12 = obf && aux && (CTR(c) & CTR_AUXINT);
	if (l1 != c->irq1) {
		c->irq1 = l1;
		irq_line_set(&c->kbd_irq, l1);
	}
	if (l12 != c->irq12) {
		c->irq12 = l12;
		irq_line_set(&c->mouse_irq, l12);
	}
}

static void put_obuf(struct i8042 *c, uint8_t v, bool aux)
{
	c->obuf = v;
	c->status = (uint8_t)((c->status & ~STS_AUXOBF) | STS_OBF | (aux ? STS_AUXOBF : 0));
}

/* Moves the next waiting key into the keyboard once the guest has read the
 * last one's bytes: keys wait here rather than in the keyboard's buffer,
 * which the guest's enable and reset commands (0xF4, 0xFF) empty. A keyboard
 * that stopped scanning (0xF5) loses them, as it would lose keys pressed
 * then. */
static void typeahead_feed(struct i8042 *c)
{
	if (!c->kbd.scanning) {
		c->ahead_head = c->ahead_count = 0;
		return;
	}
	if (!c->ahead_count || ps2_queued(&c->kbd.q))
		return;
	unsigned i = c->ahead_head;
	ps2_kbd_key(&c->kbd, c->ahead[i].seq, c->ahead[i].n);
	c->ahead_head = (i + 1) % TYPEAHEAD_MAX;
	c->ahead_count--;
}

/* Moves the next byte into an empty output buffer: the controller's own
 * answers first, then the keyboard, then the mouse; a device whose clock the
 * command byte holds low keeps its bytes. */
static void fill(struct i8042 *c)
{
	if (c->status & STS_OBF)
		return;
	if (c->nreply) {
		put_obuf(c, c->reply[0].v, c->reply[0].aux);
		memmove(&c->reply[0], &c->reply[1], (c->nreply - 1) * sizeof(c->reply[0]));
		c->nreply--;
		return;
	}
	typeahead_feed(c);
	if (!(CTR(c) & CTR_KBDDIS)) {
		int b;
		while ((b = ps2_pop(&c->kbd.q)) >= 0) {
			if (CTR(c) & CTR_XLATE) {
				if (b == 0xf0) {
					c->xlat_break = true;
					continue;
				}
				b = ps2_translate((uint8_t)b) | (c->xlat_break ? 0x80 : 0);
				c->xlat_break = false;
			}
			put_obuf(c, (uint8_t)b, false);
			return;
		}
	}
	if (!(CTR(c) & CTR_AUXDIS)) {
		int b = ps2_pop(&c->mouse.q);
		if (b >= 0) {
			put_obuf(c, (uint8_t)b, true);
			ps2_mouse_flush(&c->mouse); /* room for held-back motion */
		}
	}
}

void i8042_refresh(struct i8042 *c)
{
	fill(c);
	update_irq(c);
}

static void reply(struct i8042 *c, uint8_t v, bool aux)
{
	if (c->nreply < REPLY_MAX) { /* a guest that never reads loses the rest */
		c->reply[c->nreply].v = v;
		c->reply[c->nreply].aux = aux;
		c->nreply++;
	}
	i8042_refresh(c);
}

static uint8_t read_outport(const struct i8042 *c)
{
	uint8_t v = (uint8_t)(c->outport & ~(OUT_IRQ1 | OUT_IRQ12));
	if ((c->status & STS_OBF) && !(c->status & STS_AUXOBF))
		v |= OUT_IRQ1;
	if ((c->status & STS_OBF) && (c->status & STS_AUXOBF))
		v |= OUT_IRQ12;
	return v;
}

static void write_outport(struct i8042 *c, uint8_t v)
{
	c->outport = v;
	if (!(v & OUT_RESET))
		c->reset_req = true;
}

static void set_ctr(struct i8042 *c, uint8_t v)
{
	if ((v ^ CTR(c)) & CTR_XLATE)
		c->xlat_break = false;
	CTR(c) = v;
}

/* Power-on state. The keyboard controller's own test has passed, but the
 * system flag reads 0 until the firmware sets it (IBM AT: "set to 0 after a
 * power on reset"), which is how a BIOS tells a cold boot from a reset the
 * 8042 itself caused. */
static void power_on(struct i8042 *c)
{
	uint64_t kd = c->kbd.dropped, md = c->mouse.dropped;
	ps2_kbd_reset(&c->kbd);
	memset(&c->mouse, 0, sizeof(c->mouse));
	ps2_mouse_reset(&c->mouse);
	c->kbd.dropped = kd;
	c->mouse.dropped = md;
	memset(c->ram, 0, sizeof(c->ram));
	CTR(c) = CTR_KBDINT | CTR_AUXINT;
	c->status = 0;
	c->obuf = 0;
	c->outport = OUT_POWERON;
	c->want_data = 0;
	c->xlat_break = false;
	c->reset_req = false;
	c->nreply = 0;
	c->ahead_head = c->ahead_count = 0;
	c->rep_key = 0;
	update_irq(c);
}

/* ---- ports ---- */

static void command(struct i8042 *c, uint8_t v)
{
	c->want_data = 0;	     /* a new command abandons one that waited for data */
	if (v >= 0x20 && v < 0x40) { /* read controller RAM; 0x20: command byte */
		reply(c, c->ram[v & 0x1f], false);
		return;
	}
	if (v >= 0x60 && v < 0x80) { /* write controller RAM; 0x60: command byte */
		c->want_data = v;
		return;
	}
	if (v >= 0xf0) {
		/* Pulse the output port lines whose bit is 0 in the low nibble;
		 * bit 0 is the reset line (0xFE is the usual reboot). */
		if (!(v & OUT_RESET))
			c->reset_req = true;
		return;
	}
	switch (v) {
	case 0xa4: /* password installed? 0xF1: no */
		reply(c, 0xf1, false);
		break;
	case 0xa7: /* disable mouse interface */
		CTR(c) |= CTR_AUXDIS;
		break;
	case 0xa8: /* enable mouse interface */
		CTR(c) &= (uint8_t)~CTR_AUXDIS;
		i8042_refresh(c);
		break;
	case 0xa9: /* mouse interface test: 0 = no error */
	case 0xab: /* keyboard interface test: 0 = no error */
		reply(c, 0x00, false);
		break;
	case 0xaa:
		/* Self test. It leaves the system flag set (IBM AT), the output
		 * port in its power-on state (A20 on) and the keyboard interface
		 * disabled, as controllers that reinitialise themselves do;
		 * drivers write the command byte afterwards. */
		CTR(c) |= CTR_SYS | CTR_KBDDIS;
		c->outport |= OUT_RESET | OUT_A20;
		reply(c, 0x55, false);
		break;
	case 0xad: /* disable keyboard interface */
		CTR(c) |= CTR_KBDDIS;
		break;
	case 0xae: /* enable keyboard interface */
		CTR(c) &= (uint8_t)~CTR_KBDDIS;
		i8042_refresh(c);
		break;
	case 0xc0: /* read input port */
		reply(c, INPUT_PORT, false);
		break;
	case 0xd0: /* read output port */
		reply(c, read_outport(c), false);
		break;
	case 0xd1: /* write output port */
	case 0xd2: /* write keyboard output buffer */
	case 0xd3: /* write mouse output buffer */
	case 0xd4: /* write to the mouse */
		c->want_data = v;
		break;
	case 0xdd: /* A20 off (HP Vectra and compatibles) */
		c->outport &= (uint8_t)~OUT_A20;
		break;
	case 0xdf: /* A20 on */
		c->outport |= OUT_A20;
		break;
	case 0xe0: /* test inputs: T0 keyboard clock, T1 mouse clock */
		reply(c, (uint8_t)((CTR(c) & CTR_KBDDIS ? 0 : 1) | (CTR(c) & CTR_AUXDIS ? 0 : 2)),
		      false);
		break;
	default:
		/* Controllers ignore commands they do not know. */
		if (tracing(TRACE_DEV))
			log_trace("i8042: unknown controller command 0x%02x ignored", v);
		break;
	}
}

static void data(struct i8042 *c, uint8_t v)
{
	uint8_t cmd = c->want_data;
	c->want_data = 0;
	if (cmd >= 0x60 && cmd < 0x80) {
		if ((cmd & 0x1f) == 0)
			set_ctr(c, v);
		else
			c->ram[cmd & 0x1f] = v;
		i8042_refresh(c);
		return;
	}
	switch (cmd) {
	case 0xd1:
		write_outport(c, v);
		break;
	case 0xd2:
		reply(c, v, false);
		break;
	case 0xd3:
		reply(c, v, true);
		break;
	case 0xd4:
		/* Sending releases the mouse clock, which stays enabled. */
		CTR(c) &= (uint8_t)~CTR_AUXDIS;
		ps2_mouse_write(&c->mouse, v);
		i8042_refresh(c);
		break;
	default:
		/* A plain data byte goes to the keyboard; sending releases its
		 * clock, which stays enabled. */
		CTR(c) &= (uint8_t)~CTR_KBDDIS;
		ps2_kbd_write(&c->kbd, v);
		i8042_refresh(c);
		break;
	}
}

static uint64_t data_read(void *opaque, uint64_t offset, unsigned size)
{
	struct i8042 *c = opaque;
	pthread_mutex_lock(&c->lock);
	uint8_t v = c->obuf; /* an empty buffer reads its last byte again */
	if (c->status & STS_OBF) {
		c->status &= (uint8_t) ~(STS_OBF | STS_AUXOBF);
		update_irq(c);	  /* the line drops... */
		i8042_refresh(c); /* ...and rises again for the next byte */
	}
	pthread_mutex_unlock(&c->lock);
	return v;
}

static uint64_t status_read(void *opaque, uint64_t offset, unsigned size)
{
	struct i8042 *c = opaque;
	pthread_mutex_lock(&c->lock);
	uint8_t v = (uint8_t)(c->status | STS_UNLOCKED | (CTR(c) & CTR_SYS ? STS_SYS : 0));
	pthread_mutex_unlock(&c->lock);
	return v;
}

static void port_write(struct i8042 *c, uint8_t v, bool is_cmd)
{
	pthread_mutex_lock(&c->lock);
	if (is_cmd) {
		c->status |= STS_CMD;
		command(c, v);
	} else {
		c->status &= (uint8_t)~STS_CMD;
		data(c, v);
	}
	bool reset = c->reset_req;
	c->reset_req = false;
	pthread_mutex_unlock(&c->lock);
	if (reset) {
		if (tracing(TRACE_DEV))
			log_trace("i8042: reset line pulled");
		machine_request(c->m, MACHINE_RESET, 0);
	}
}

static void data_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	port_write(opaque, (uint8_t)value, false);
}

static void cmd_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	port_write(opaque, (uint8_t)value, true);
}

static const struct bus_ops data_ops = {.read = data_read, .write = data_write};
static const struct bus_ops cmd_ops = {.read = status_read, .write = cmd_write};

/* ---- input from the front ends ---- */

void i8042_key_event(void *kbc, const uint8_t *set2_bytes, size_t n)
{
	struct i8042 *c = kbc;
	pthread_mutex_lock(&c->lock);
	ps2_kbd_key(&c->kbd, set2_bytes, n);
	i8042_refresh(c);
	pthread_mutex_unlock(&c->lock);
}

void i8042_mouse_event(void *kbc, int dx, int dy, int dz, unsigned buttons)
{
	struct i8042 *c = kbc;
	pthread_mutex_lock(&c->lock);
	ps2_mouse_move(&c->mouse, dx, dy, dz, buttons);
	i8042_refresh(c);
	pthread_mutex_unlock(&c->lock);
}

void i8042_mouse_wake(void *kbc)
{
	struct i8042 *c = kbc;
	pthread_mutex_lock(&c->lock);
	ps2_mouse_wake(&c->mouse);
	i8042_refresh(c);
	pthread_mutex_unlock(&c->lock);
}

/* ---- typematic ----
 * A PS/2 keyboard repeats the last key pressed itself while it is held,
 * after the delay and at the rate the guest chose with 0xF3 (the input
 * router drops viewers' own repeats): key repeat is the guest's. */

static uint64_t typematic_delay_ns(uint8_t t)
{
	return (uint64_t)(((t >> 5) & 3) + 1) * 250000000ull; /* 250 to 1000 ms */
}

uint64_t i8042_typematic_period_ns(uint8_t t)
{
	/* (8 + A) * 2^B * 4.17 ms: from 33 ms (30/s) to 500 ms (2/s). */
	return (uint64_t)(8 + (t & 7)) * (1u << ((t >> 3) & 3)) * 4170000ull;
}

static void typematic_fire(void *opaque)
{
	struct i8042 *c = opaque;
	pthread_mutex_lock(&c->lock);
	if (c->paused) {
		pthread_mutex_unlock(&c->lock); /* the resume arms it again */
		return;
	}
	if (c->rep_key && c->kbd.scanning) {
		/* Keys still waiting go first; a full buffer loses the repeat,
		 * as a real keyboard's does. */
		if (!c->ahead_count && ps2_queued(&c->kbd.q) + c->rep_n < PS2_KBD_INPUT_LIMIT) {
			ps2_kbd_key(&c->kbd, c->rep_seq, c->rep_n);
			i8042_refresh(c);
		}
		evtimer_arm(c->rep_timer, i8042_typematic_period_ns(c->kbd.typematic), 0);
	} else {
		c->rep_key = 0; /* reset or disabled: the repeat ends */
	}
	pthread_mutex_unlock(&c->lock);
}

/* Caller holds the lock. */
static void typematic_key(struct i8042 *c, unsigned keycode, bool down, const uint8_t *seq,
			  size_t n)
{
	if (!c->rep_timer)
		return;
	if (down && n && keycode != KEY_PAUSE) {
		c->rep_key = keycode;
		memcpy(c->rep_seq, seq, n);
		c->rep_n = (uint8_t)n;
		evtimer_arm(c->rep_timer, typematic_delay_ns(c->kbd.typematic), 0);
	} else if (down || keycode == c->rep_key) {
		c->rep_key = 0; /* Pause, or the repeating key let go */
		evtimer_cancel(c->rep_timer);
	}
}

/* The input router's keyboard: a key code becomes its set-2 sequence. */
static void router_key(void *opaque, unsigned keycode, bool down)
{
	struct i8042 *c = opaque;
	uint8_t seq[PS2_KEYS_SEQ_MAX];
	pthread_mutex_lock(&c->lock);
	size_t n = ps2_keys_set2(&c->keys, keycode, down, seq);
	if (n && c->ahead_count == TYPEAHEAD_MAX) {
		if (!c->ahead_dropped++)
			log_warn("i8042: the guest is not reading its keyboard: keys are lost");
	} else if (n) {
		unsigned i = (c->ahead_head + c->ahead_count) % TYPEAHEAD_MAX;
		memcpy(c->ahead[i].seq, seq, n);
		c->ahead[i].n = (uint8_t)n;
		c->ahead_count++;
		i8042_refresh(c);
	}
	typematic_key(c, keycode, down, seq, n);
	pthread_mutex_unlock(&c->lock);
}

/* The input router's relative pointer; its button bits are the mouse's. */
static void router_rel(void *opaque, int dx, int dy, int dz, unsigned buttons)
{
	i8042_mouse_event(opaque, dx, dy, dz,
			  buttons & (I8042_BUTTON_LEFT | I8042_BUTTON_RIGHT | I8042_BUTTON_MIDDLE));
}

bool i8042_a20(void *kbc)
{
	struct i8042 *c = kbc;
	pthread_mutex_lock(&c->lock);
	bool on = c->outport & OUT_A20;
	pthread_mutex_unlock(&c->lock);
	return on;
}

unsigned i8042_kbd_leds(void *kbc)
{
	struct i8042 *c = kbc;
	pthread_mutex_lock(&c->lock);
	unsigned leds = c->kbd.leds;
	pthread_mutex_unlock(&c->lock);
	return leds;
}

void i8042_input_dropped(void *kbc, uint64_t *kbd, uint64_t *mouse)
{
	struct i8042 *c = kbc;
	pthread_mutex_lock(&c->lock);
	if (kbd)
		*kbd = c->kbd.dropped;
	if (mouse)
		*mouse = c->mouse.dropped;
	pthread_mutex_unlock(&c->lock);
}

/* ---- device model ---- */

static int i8042_create(struct machine *m, const char *id, const struct devargs *args, void **state)
{
	static const char *const known[] = {NULL};
	int r = devargs_check_keys(args, "i8042", known);
	if (r < 0)
		return r;
	struct i8042 *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->m = m;
	if ((r = machine_irq_line(m, IRQ_KBD, &c->kbd_irq)) < 0 ||
	    (r = machine_irq_line(m, IRQ_MOUSE, &c->mouse_irq)) < 0) {
		log_error("i8042: cannot connect to IRQs %d and %d", IRQ_KBD, IRQ_MOUSE);
		irq_line_release(&c->kbd_irq);
		free(c);
		return r;
	}
	pthread_mutex_init(&c->lock, NULL);
	power_on(c);
	r = bus_register(m->pio, PORT_I8042_DATA, 1, &data_ops, c, "i8042");
	if (r < 0)
		goto err_free;
	r = bus_register(m->pio, PORT_I8042_CMD, 1, &cmd_ops, c, "i8042");
	if (r < 0)
		goto err_data;
	/* Without a timer the keyboard still works, only without repeat. */
	c->rep_timer = evtimer_new(m->loop, typematic_fire, c);
	c->kbd_input = (struct input_keyboard){.key = router_key, .opaque = c};
	c->mouse_input = (struct input_pointer){.rel = router_rel, .opaque = c};
	if ((r = input_add_keyboard(m, &c->kbd_input)) < 0) {
		log_error("i8042: cannot register the keyboard for input: %s",
			  r == -EEXIST ? "the VM has another keyboard" : strerror(-r));
		goto err_ports;
	}
	if ((r = input_add_pointer(m, &c->mouse_input)) < 0) {
		log_error("i8042: cannot register the mouse for input: %s", strerror(-r));
		input_remove_keyboard(m, &c->kbd_input);
		goto err_ports;
	}
	*state = c;
	return 0;

err_ports:
	evtimer_free(c->rep_timer);
	bus_unregister(m->pio, PORT_I8042_CMD, c);
	bus_unregister(m->pio, PORT_I8042_DATA, c);
	goto err_lock;
err_data:
	bus_unregister(m->pio, PORT_I8042_DATA, c);
err_free:
	log_error("i8042: cannot claim ports 0x%x/0x%x: %s", PORT_I8042_DATA, PORT_I8042_CMD,
		  strerror(-r));
err_lock:
	pthread_mutex_destroy(&c->lock);
	irq_line_release(&c->kbd_irq);
	irq_line_release(&c->mouse_irq);
	free(c);
	return r;
}

static void i8042_reset(void *state)
{
	struct i8042 *c = state;
	pthread_mutex_lock(&c->lock);
	power_on(c);
	pthread_mutex_unlock(&c->lock);
}

static void i8042_destroy(void *state)
{
	struct i8042 *c = state;
	input_remove_pointer(c->m, &c->mouse_input);
	input_remove_keyboard(c->m, &c->kbd_input);
	evtimer_free(c->rep_timer);
	bus_unregister(c->m->pio, PORT_I8042_CMD, c);
	bus_unregister(c->m->pio, PORT_I8042_DATA, c);
	irq_line_release(&c->kbd_irq);
	irq_line_release(&c->mouse_irq);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static const struct device_model i8042_model = {
    .name = "i8042",
    .description = "PC keyboard controller with PS/2 keyboard and mouse (ports 0x60/0x64, "
		   "IRQ 1 and 12)",
    .create = i8042_create,
    .reset = i8042_reset,
    .destroy = i8042_destroy,
    .state_version = 1,
    .save = i8042_save,
    .load = i8042_load,
    .pause = i8042_pause,
};
DEVICE_MODEL(i8042_model);
