/* Saved state of the keyboard controller, its PS/2 keyboard and mouse, and
 * the vmmouse beside them: a machine saved in the middle of things (a byte
 * in the output buffer, a controller reply waiting, keys and a mouse packet
 * queued, keys typed ahead, modes set by commands) gives the same bytes,
 * AUX flags and interrupts after a load as the saved one gives; a paused
 * controller raises nothing; damaged states are refused. */
#include "devices/i8042.h"
#include "devices/vmmouse.h"
#include "hypervisor/exitregs.h"
#include "hypervisor/input.h"
#include "hypervisor/platform.h"
#include "tests/devices/chipset_state.h"

#include <linux/input-event-codes.h>

#define STS_OBF 0x01
#define STS_AUX 0x20

/* The vCPU registers the vmmouse's backdoor reads and writes. */
static struct exit_regs regs;

static bool regs_get(void *opaque, struct exit_regs *r)
{
	*r = regs;
	return true;
}

static bool regs_set(void *opaque, const struct exit_regs *r)
{
	regs = *r;
	return true;
}

static const struct exit_regs_provider provider = {regs_get, regs_set, NULL};

static uint32_t backdoor(struct harness *h, uint32_t cmd, uint32_t arg)
{
	regs = (struct exit_regs){.rax = VMPORT_MAGIC, .rbx = arg, .rcx = cmd, .rdx = VMPORT_PORT};
	return hinl(h, VMPORT_PORT);
}

static void build(struct harness *h)
{
	harness_init(h, 1 << 20);
	harness_add(h, "i8042", "kbc", NULL);
	harness_add(h, "vmmouse", "vmmouse", "i8042=kbc");
}

static uint8_t next(struct harness *h, bool aux)
{
	uint8_t st = hinb(h, PORT_I8042_CMD);
	if (!(st & STS_OBF) || !!(st & STS_AUX) != aux)
		fail_msg("status 0x%02x: expected a byte from the %s", st,
			 aux ? "mouse" : "keyboard");
	return hinb(h, PORT_I8042_DATA);
}

/* Commands as SeaBIOS and Linux send them, leaving everything mid-way. */
static void drive(struct harness *h)
{
	houtb(h, PORT_I8042_CMD, 0x60);
	houtb(h, PORT_I8042_DATA, 0x47); /* KBDINT, AUXINT, SYS, XLATE */
	houtb(h, PORT_I8042_CMD, 0xdd);	 /* A20 off */
	houtb(h, PORT_I8042_DATA, 0xed); /* keyboard LEDs */
	assert_int_equal(next(h, false), 0xfa);
	houtb(h, PORT_I8042_DATA, 0x05);
	assert_int_equal(next(h, false), 0xfa);
	houtb(h, PORT_I8042_DATA, 0xf3); /* typematic */
	assert_int_equal(next(h, false), 0xfa);
	houtb(h, PORT_I8042_DATA, 0x25);
	assert_int_equal(next(h, false), 0xfa);
	/* The IntelliMouse knock, 2:1 scaling, reporting on. */
	static const uint8_t mouse_cmds[] = {0xf3, 200, 0xf3, 100, 0xf3, 80, 0xe7, 0xf4};
	for (size_t i = 0; i < sizeof(mouse_cmds); i++) {
		houtb(h, PORT_I8042_CMD, 0xd4);
		houtb(h, PORT_I8042_DATA, mouse_cmds[i]);
		assert_int_equal(next(h, true), 0xfa);
	}
	/* The vmmouse enabled, absolute, its version word still queued. */
	backdoor(h, VMPORT_CMD_ABSPOINTER_COMMAND, VMMOUSE_CMD_ENABLE);
	backdoor(h, VMPORT_CMD_ABSPOINTER_COMMAND, VMMOUSE_CMD_REQUEST_ABSOLUTE);
	/* A's make code, then the F0 of its break: the translation takes
	 * the F0 and holds it while the keyboard sends nothing more. */
	i8042_key_event(machine_device(&h->m, "kbc"), (const uint8_t *)"\x1c\xf0", 2);
	assert_int_equal(next(h, false), 0x1e);
	/* Two controller replies, one in the buffer and one waiting, then
	 * the rest of A's break and B's make code behind them. */
	houtb(h, PORT_I8042_CMD, 0x20);
	houtb(h, PORT_I8042_CMD, 0x20);
	i8042_key_event(machine_device(&h->m, "kbc"), (const uint8_t *)"\x1c\x32", 2);
	/* Mouse motion and a key typed ahead of the keyboard's buffer. */
	i8042_mouse_event(machine_device(&h->m, "kbc"), 40, -7, 1, I8042_BUTTON_LEFT);
	input_key(&h->m, KEY_C, true);
	input_key(&h->m, KEY_C, false);
	assert_true(h->irq_level[IRQ_KBD]);
}

struct seen {
	uint8_t byte[64], status[64];
	bool irq1[64], irq12[64];
	unsigned n;
	uint8_t mouse_id, leds, packet[4];
	bool a20;
	uint32_t vm_status, vm_word;
};

/* Everything the guest reads from here on, with the lines as it reads. */
static void drain(struct harness *h, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	for (s->n = 0; s->n < 64; s->n++) {
		s->irq1[s->n] = h->irq_level[IRQ_KBD];
		s->irq12[s->n] = h->irq_level[IRQ_MOUSE];
		uint8_t st = hinb(h, PORT_I8042_CMD);
		s->status[s->n] = st;
		if (!(st & STS_OBF))
			break;
		s->byte[s->n] = hinb(h, PORT_I8042_DATA);
	}
	void *kbc = machine_device(&h->m, "kbc");
	s->leds = (uint8_t)i8042_kbd_leds(kbc);
	s->a20 = i8042_a20(kbc);
	houtb(h, PORT_I8042_CMD, 0xd4);
	houtb(h, PORT_I8042_DATA, 0xf2);
	assert_int_equal(next(h, true), 0xfa);
	s->mouse_id = next(h, true);
	/* Status request: mode, scaling, the button held, resolution, rate. */
	houtb(h, PORT_I8042_CMD, 0xd4);
	houtb(h, PORT_I8042_DATA, 0xe9);
	for (int i = 0; i < 4; i++)
		s->packet[i] = next(h, true);
	s->vm_status = backdoor(h, VMPORT_CMD_ABSPOINTER_STATUS, 0);
	backdoor(h, VMPORT_CMD_ABSPOINTER_DATA, 1);
	s->vm_word = (uint32_t)regs.rax;
}

static void test_round_trip(void **state)
{
	struct harness *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct seen before, after;
	exit_regs_provide(&provider);
	build(a);
	drive(a);
	struct saved s;
	state_save(a, &s);
	drain(a, &before);
	harness_fini(a);

	state_build_load(b, build, &s);
	assert_true(b->irq_level[IRQ_KBD]);
	drain(b, &after);
	/* Something worth comparing: keys, the reply, a 4-byte packet. */
	assert_true(before.n >= 10);
	assert_int_equal(before.byte[0], 0x47); /* the command byte, twice */
	assert_int_equal(before.byte[1], 0x47);
	assert_int_equal(before.byte[2], 0x9e); /* A's break in set 1 */
	assert_int_equal(before.byte[3], 0x30); /* B */
	assert_int_equal(after.n, before.n);
	assert_memory_equal(after.byte, before.byte, sizeof(before.byte));
	assert_memory_equal(after.status, before.status, sizeof(before.status));
	assert_memory_equal(after.irq1, before.irq1, sizeof(before.irq1));
	assert_memory_equal(after.irq12, before.irq12, sizeof(before.irq12));
	assert_int_equal(after.mouse_id, 3);
	assert_memory_equal(after.packet, before.packet, 4);
	assert_int_equal(after.packet[1], 0x20 | 0x10 | 0x04); /* reporting, 2:1, left */
	assert_int_equal(after.leds, 5);
	assert_false(after.a20);
	assert_int_equal(after.vm_status, 1);
	assert_int_equal(after.vm_word, VMMOUSE_VERSION_ID);
	assert_true(vmmouse_absolute(machine_device(&b->m, "vmmouse")));
	harness_fini(b);
	exit_regs_provide(NULL);
	state_free(&s);
	free(a);
	free(b);
}

static void test_paused(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	build(h);
	machine_pause_devices(&h->m, true);
	i8042_key_event(machine_device(&h->m, "kbc"), (const uint8_t *)"\x1c", 1);
	assert_false(h->irq_level[IRQ_KBD]);
	machine_pause_devices(&h->m, false);
	assert_true(h->irq_level[IRQ_KBD]);
	assert_int_equal(hinb(h, PORT_I8042_DATA), 0x1c); /* no translation at power-on */
	harness_fini(h);
	free(h);
}

static void test_refused(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	exit_regs_provide(&provider);
	build(h);
	drive(h);
	struct saved s, bad;
	state_save(h, &s);
	harness_fini(h);
	exit_regs_provide(NULL);
	static const struct state_refusal cases[] = {
	    {"kbc", "status", STS_AUX, "not a state the controller reaches"},
	    {"kbc", "want_data", 0x55, "no command that takes a data byte"},
	    {"kbc", "kbd.set", 3, "above its largest value"},
	    {"kbc", "kbd.want_arg", 0xf4, "no command that takes an argument"},
	    {"kbc", "kbd.leds", 8, "above its largest value"},
	    {"kbc", "mouse.rate", 55, "not a rate the mouse takes"},
	    {"kbc", "mouse.id", 2, "neither 0"},
	    {"kbc", "mouse.dx", 1ull << 30, "beyond"},
	    {"kbc", "mouse.dy", (uint64_t) - (1ll << 22), "beyond"},
	    {"kbc", "mouse.want_arg", 0xf2, "no command that takes an argument"},
	    {"kbc", "mouse.resolution", 4, "above its largest value"},
	    {"vmmouse", "dropped", 0, NULL},
	};
	state_expect_refusals(h, build, &s, cases, sizeof(cases) / sizeof(cases[0]));
	static const struct {
		const char *section, *field;
		const char *data;
		size_t len;
		const char *why;
	} blobs[] = {
	    {"kbc", "reply", "\x20\x00\x21", 3, "not a list of byte and channel"},
	    {"kbc", "reply", "\x20\x02", 2, "neither keyboard nor mouse"},
	    {"kbc", "reply", "\x20\x00\x20\x00\x20\x00\x20\x00\x20\x00", 10, "largest"},
	    {"kbc", "typeahead", "\x02\x21", 2, "bad length"},
	    {"kbc", "typeahead", "\x00", 1, "bad length"},
	    {"kbc", "typeahead", "\x09\x01\x02\x03\x04\x05\x06\x07\x08\x09", 10, "bad length"},
	    {"kbc", "kbd.queue", NULL, 65, "largest"},
	    {"kbc", "mouse.last", "\xfa\xfa\xfa\xfa\xfa", 5, "largest"},
	    {"vmmouse", "queue", "\x01\x02\x03", 3, "not a number of words"},
	};
	static const uint8_t zeros[65];
	for (size_t i = 0; i < sizeof(blobs) / sizeof(blobs[0]); i++) {
		build(h);
		state_edit(&s, blobs[i].section, blobs[i].field,
			   blobs[i].data ? (const void *)blobs[i].data : zeros, blobs[i].len, &bad);
		state_load_fails(h, &bad, blobs[i].why);
		state_free(&bad);
		harness_fini(h);
	}
	state_free(&s);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_paused),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
