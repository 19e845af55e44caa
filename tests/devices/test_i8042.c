/* i8042 keyboard controller, PS/2 keyboard and mouse, driven the way SeaBIOS
 * (ps2port.c) and Linux (i8042.c, atkbd.c, psmouse) drive them. */
#include "devices/i8042.h"
#include "hypervisor/platform.h"
#include "tests/devices/harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define STS_OBF	     0x01
#define STS_IBF	     0x02
#define STS_SYS	     0x04
#define STS_CMD	     0x08
#define STS_UNLOCKED 0x10
#define STS_AUX	     0x20

#define CTR_KBDINT 0x01
#define CTR_AUXINT 0x02
#define CTR_SYS	   0x04
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define CTR_XLATE  0x40

static struct harness h;
static void *kbc;

static int setup(void **state)
{
	harness_init(&h, 1 * MiB);
	harness_add(&h, "i8042", "kbc", NULL);
	kbc = machine_device(&h.m, "kbc");
	assert_non_null(kbc);
	return 0;
}

static int teardown(void **state)
{
	harness_fini(&h);
	return 0;
}

static uint8_t status(void)
{
	return hinb(&h, PORT_I8042_CMD);
}

/* Like i8042_wait_write(): the input buffer must be empty first. */
static void cmd(uint8_t c)
{
	assert_false(status() & STS_IBF);
	houtb(&h, PORT_I8042_CMD, c);
}

static void dat(uint8_t v)
{
	assert_false(status() & STS_IBF);
	houtb(&h, PORT_I8042_DATA, v);
}

/* Reads the next byte and checks which device it came from. */
static void expect(uint8_t want, bool aux)
{
	uint8_t st = status();
	if (!(st & STS_OBF))
		fail_msg("expected 0x%02x, but the output buffer is empty", want);
	uint8_t got = hinb(&h, PORT_I8042_DATA);
	if (got != want)
		fail_msg("expected 0x%02x, read 0x%02x", want, got);
	if (!!(st & STS_AUX) != aux)
		fail_msg("0x%02x: AUX data bit is %d, expected %d", got, !!(st & STS_AUX), aux);
}

static void expect_seq(const uint8_t *want, size_t n, bool aux)
{
	for (size_t i = 0; i < n; i++)
		expect(want[i], aux);
}

#define EXPECT_KBD(...)                                                                            \
	do {                                                                                       \
		static const uint8_t w_[] = {__VA_ARGS__};                                         \
		expect_seq(w_, sizeof(w_), false);                                                 \
	} while (0)
#define EXPECT_AUX(...)                                                                            \
	do {                                                                                       \
		static const uint8_t w_[] = {__VA_ARGS__};                                         \
		expect_seq(w_, sizeof(w_), true);                                                  \
	} while (0)
#define KEY(...)                                                                                   \
	do {                                                                                       \
		static const uint8_t k_[] = {__VA_ARGS__};                                         \
		i8042_key_event(kbc, k_, sizeof(k_));                                              \
	} while (0)

static void expect_empty(void)
{
	assert_false(status() & STS_OBF);
}

/* i8042_flush(): at most 16 bytes, or Linux gives up on the controller. */
static int flush(void)
{
	int n = 0;
	while (status() & STS_OBF) {
		hinb(&h, PORT_I8042_DATA);
		if (++n > 16)
			fail_msg("more than 16 bytes to flush");
	}
	return n;
}

static void cmd_data(uint8_t c, uint8_t v)
{
	cmd(c);
	dat(v);
}

static uint8_t read_ctr(void)
{
	cmd(0x20);
	assert_true(status() & STS_OBF);
	return hinb(&h, PORT_I8042_DATA);
}

static void write_ctr(uint8_t v)
{
	cmd_data(0x60, v);
}

static void kbd_cmd(uint8_t v)
{
	dat(v);
}

static void aux_cmd(uint8_t v)
{
	cmd_data(0xd4, v);
}

#define TO_KBD(...)                                                                                \
	do {                                                                                       \
		static const uint8_t b_[] = {__VA_ARGS__};                                         \
		for (size_t i_ = 0; i_ < sizeof(b_); i_++)                                         \
			kbd_cmd(b_[i_]);                                                           \
	} while (0)
#define TO_AUX(...)                                                                                \
	do {                                                                                       \
		static const uint8_t b_[] = {__VA_ARGS__};                                         \
		for (size_t i_ = 0; i_ < sizeof(b_); i_++)                                         \
			aux_cmd(b_[i_]);                                                           \
	} while (0)

/* A byte to the device that it acknowledges with 0xFA. */
static void kbd_ack(uint8_t v)
{
	kbd_cmd(v);
	expect(0xfa, false);
}

static void aux_ack(uint8_t v)
{
	aux_cmd(v);
	expect(0xfa, true);
}

static void test_power_on_and_selftest(void **state)
{
	uint8_t st = status();
	assert_int_equal(st & (STS_OBF | STS_SYS), 0); /* cold boot: SYS clear */
	assert_true(st & STS_UNLOCKED);
	assert_int_equal(read_ctr(), CTR_KBDINT | CTR_AUXINT);
	assert_true(status() & STS_CMD); /* last write went to 0x64 */

	cmd(0xaa);
	assert_true(status() & STS_OBF);
	EXPECT_KBD(0x55);
	st = status();
	assert_true(st & STS_SYS);
	uint8_t ctr = read_ctr();
	assert_true(ctr & CTR_SYS);
	assert_true(ctr & CTR_KBDDIS); /* self test leaves the keyboard disabled */

	cmd(0xab); /* keyboard interface test */
	EXPECT_KBD(0x00);
	cmd(0xa9); /* mouse interface test */
	EXPECT_KBD(0x00);
	cmd(0xa4); /* no password installed */
	EXPECT_KBD(0xf1);
	cmd(0xc0); /* input port: keyboard not inhibited */
	expect(0xbf, false);
	expect_empty();
	write_ctr(0x47);
	assert_false(status() & STS_CMD); /* last write went to 0x60 */
}

static void test_command_byte_and_ram(void **state)
{
	write_ctr(0x65);
	assert_int_equal(read_ctr(), 0x65);
	assert_true(status() & STS_SYS); /* status bit 2 follows command byte bit 2 */
	write_ctr(0x61);
	assert_int_equal(read_ctr(), 0x61);
	assert_false(status() & STS_SYS);

	/* Internal RAM: 0x21-0x3f read, 0x61-0x7f write; byte 0 is the CTR. */
	cmd_data(0x65, 0x5a);
	cmd_data(0x7f, 0xa5);
	cmd(0x25);
	EXPECT_KBD(0x5a);
	cmd(0x3f);
	EXPECT_KBD(0xa5);
	assert_int_equal(read_ctr(), 0x61);

	/* Interface enable/disable commands flip bits 4 and 5. */
	cmd(0xa7);
	assert_int_equal(read_ctr(), 0x61 | CTR_AUXDIS);
	cmd(0xa8);
	assert_int_equal(read_ctr(), 0x61 & ~CTR_AUXDIS);
	cmd(0xad);
	assert_int_equal(read_ctr(), 0x41 | CTR_KBDDIS);
	cmd(0xae);
	assert_int_equal(read_ctr(), 0x41);

	/* A command replaces one still waiting for its data byte. */
	cmd(0x60);
	cmd(0x20);
	EXPECT_KBD(0x41);

	/* Unknown commands are ignored. */
	cmd(0x00);
	cmd(0xb5);
	expect_empty();
	assert_int_equal(h.requests, 0);
}

static void test_linux_probe(void **state)
{
	/* The BIOS left: translate, both interrupts, system flag. */
	write_ctr(0x47);
	/* i8042_controller_check / i8042_flush */
	assert_int_not_equal(status(), 0xff);
	flush();
	/* i8042_controller_init: read CTR until stable, disable the kbd port */
	uint8_t ctr = read_ctr();
	assert_int_equal(read_ctr(), ctr);
	ctr = (uint8_t)((ctr | CTR_KBDDIS) & ~CTR_KBDINT);
	write_ctr(ctr);

	/* i8042_check_aux: loopback through 0xd3 must come back as AUX data */
	flush();
	cmd_data(0xd3, 0x5a);
	EXPECT_AUX(0x5a);
	/* bit assignment test */
	write_ctr(ctr | CTR_AUXDIS);
	assert_true(read_ctr() & CTR_AUXDIS);
	write_ctr(ctr & ~CTR_AUXDIS);
	assert_false(read_ctr() & CTR_AUXDIS);
	/* AUX IRQ delivery test */
	ctr = (uint8_t)((ctr & ~CTR_AUXDIS) | CTR_AUXINT);
	write_ctr(ctr);
	unsigned raised = h.irq_raised[IRQ_MOUSE];
	cmd_data(0xd3, 0xa5);
	assert_true(h.irq_level[IRQ_MOUSE]);
	assert_int_equal(h.irq_raised[IRQ_MOUSE], raised + 1);
	assert_false(h.irq_level[IRQ_KBD]);
	EXPECT_AUX(0xa5);
	assert_false(h.irq_level[IRQ_MOUSE]);
	/* i8042_check_mux: an ordinary controller echoes 0xa4 */
	static const uint8_t mux[] = {0xf0, 0x56, 0xa4};
	for (size_t i = 0; i < sizeof(mux); i++) {
		cmd_data(0xd3, mux[i]);
		expect(mux[i], true);
	}
	ctr = (uint8_t)((ctr | CTR_AUXDIS) & ~CTR_AUXINT);
	write_ctr(ctr);

	/* i8042_enable_kbd_port, then atkbd: GETID through translation */
	ctr = (uint8_t)((ctr & ~CTR_KBDDIS) | CTR_KBDINT);
	write_ctr(ctr);
	kbd_cmd(0xf2);
	EXPECT_KBD(0xfa, 0xab, 0x41);
	kbd_ack(0xf5);
	kbd_ack(0xf4);
	expect_empty();
}

static void test_seabios_keyboard_setup(void **state)
{
	flush();
	cmd(0xaa);
	EXPECT_KBD(0x55);
	cmd(0xab);
	EXPECT_KBD(0x00);
	/* ps2_command: disable both, enable kbd only, no translation */
	write_ctr(CTR_KBDDIS | CTR_AUXDIS);
	write_ctr(CTR_AUXDIS);
	kbd_cmd(0xff);
	EXPECT_KBD(0xfa, 0xaa);
	write_ctr(CTR_KBDDIS | CTR_AUXDIS);
	write_ctr(CTR_AUXDIS);
	kbd_ack(0xf5);
	kbd_ack(0xf0);
	kbd_ack(0x02);
	write_ctr(CTR_AUXDIS | CTR_XLATE | CTR_KBDINT);
	kbd_ack(0xf4);
	/* A key now arrives as set 1 with IRQ 1. */
	KEY(0x1c);
	assert_true(h.irq_level[IRQ_KBD]);
	EXPECT_KBD(0x1e);
	assert_false(h.irq_level[IRQ_KBD]);
}

static void test_keyboard_commands(void **state)
{
	write_ctr(CTR_KBDINT); /* no translation */
	kbd_cmd(0xff);
	EXPECT_KBD(0xfa, 0xaa);
	kbd_cmd(0xf2);
	EXPECT_KBD(0xfa, 0xab, 0x83);
	kbd_cmd(0xed); /* LEDs: ack, argument, ack */
	EXPECT_KBD(0xfa);
	kbd_ack(0x05);
	assert_int_equal(i8042_kbd_leds(kbc), 0x05);
	kbd_cmd(0xee);
	EXPECT_KBD(0xee);
	TO_KBD(0xf0, 0x00);
	EXPECT_KBD(0xfa, 0xfa, 0x02);
	TO_KBD(0xf0, 0x01);
	EXPECT_KBD(0xfa, 0xfa);
	TO_KBD(0xf0, 0x00);
	EXPECT_KBD(0xfa, 0xfa, 0x01);
	TO_KBD(0xf0, 0x03); /* set 3 is not offered */
	EXPECT_KBD(0xfa, 0xfe);
	kbd_ack(0x02);
	TO_KBD(0xf3, 0x80); /* bit 7 set: invalid */
	kbd_cmd(0x20);
	EXPECT_KBD(0xfa, 0xfe, 0xfa);
	TO_KBD(0xed, 0xf2); /* a command instead of the argument */
	EXPECT_KBD(0xfa, 0xfa, 0xab, 0x83);
	assert_int_equal(i8042_kbd_leds(kbc), 0x05);
	kbd_cmd(0xfe); /* resend the last byte */
	EXPECT_KBD(0x83);
	kbd_cmd(0x12); /* not a command */
	EXPECT_KBD(0xfe);
	kbd_ack(0xf6);
	kbd_cmd(0xff);
	EXPECT_KBD(0xfa, 0xaa);
	assert_int_equal(i8042_kbd_leds(kbc), 0);
	expect_empty();

	/* Translated: the controller maps the answers too. */
	write_ctr(CTR_KBDINT | CTR_XLATE);
	kbd_cmd(0xf2);
	EXPECT_KBD(0xfa, 0xab, 0x41);
	TO_KBD(0xf0, 0x00);
	EXPECT_KBD(0xfa, 0xfa, 0x41); /* set 2, as translated */
}

static void test_key_events(void **state)
{
	write_ctr(CTR_KBDINT);
	KEY(0x1c);
	EXPECT_KBD(0x1c);
	KEY(0xf0, 0x1c);
	EXPECT_KBD(0xf0, 0x1c);
	KEY(0xe0, 0x75);
	KEY(0xe0, 0xf0, 0x75);
	EXPECT_KBD(0xe0, 0x75, 0xe0, 0xf0, 0x75);
	expect_empty();

	write_ctr(CTR_KBDINT | CTR_XLATE);
	KEY(0x1c); /* A */
	KEY(0xf0, 0x1c);
	EXPECT_KBD(0x1e, 0x9e);
	KEY(0xe0, 0x75); /* Up */
	KEY(0xe0, 0xf0, 0x75);
	EXPECT_KBD(0xe0, 0x48, 0xe0, 0xc8);
	KEY(0x76, 0x05, 0x83, 0x84); /* Esc, F1, F7, Alt+SysRq */
	EXPECT_KBD(0x01, 0x3b, 0x41, 0x54);
	KEY(0xf0, 0x83);
	EXPECT_KBD(0xc1);
	KEY(0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77); /* Pause */
	EXPECT_KBD(0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5);
	KEY(0x5a, 0x29, 0x12, 0x59); /* Enter, Space, LShift, RShift */
	EXPECT_KBD(0x1c, 0x39, 0x2a, 0x36);
	expect_empty();

	/* The keyboard itself in set 1, controller not translating. */
	write_ctr(CTR_KBDINT);
	TO_KBD(0xf0, 0x01);
	EXPECT_KBD(0xfa, 0xfa);
	KEY(0x1c);
	KEY(0xe0, 0xf0, 0x75);
	EXPECT_KBD(0x1e, 0xe0, 0xc8);
}

static void test_irq1(void **state)
{
	write_ctr(CTR_KBDINT);
	unsigned raised = h.irq_raised[IRQ_KBD];
	KEY(0xe0, 0x75);
	assert_true(h.irq_level[IRQ_KBD]);
	assert_false(h.irq_level[IRQ_MOUSE]);
	assert_int_equal(h.irq_raised[IRQ_KBD], raised + 1);
	hinb(&h, PORT_I8042_DATA); /* the line drops, then rises for 0x75 */
	assert_true(h.irq_level[IRQ_KBD]);
	assert_int_equal(h.irq_raised[IRQ_KBD], raised + 2);
	EXPECT_KBD(0x75);
	assert_false(h.irq_level[IRQ_KBD]);

	/* Interrupt disabled: data waits in the buffer without IRQ... */
	write_ctr(0);
	KEY(0x1c);
	assert_true(status() & STS_OBF);
	assert_false(h.irq_level[IRQ_KBD]);
	/* ...and enabling it raises the line for the byte already there. */
	write_ctr(CTR_KBDINT);
	assert_true(h.irq_level[IRQ_KBD]);
	EXPECT_KBD(0x1c);
	assert_false(h.irq_level[IRQ_KBD]);
	/* Controller answers come "from the keyboard" side too. */
	cmd(0x20);
	assert_true(h.irq_level[IRQ_KBD]);
	EXPECT_KBD(CTR_KBDINT);
	/* Reading an empty buffer gives its last byte again. */
	assert_int_equal(hinb(&h, PORT_I8042_DATA), CTR_KBDINT);
	assert_false(h.irq_level[IRQ_KBD]);
}

static void test_keyboard_disabled_holds_input(void **state)
{
	write_ctr(CTR_KBDINT | CTR_KBDDIS);
	KEY(0x1c);
	expect_empty();
	assert_false(h.irq_level[IRQ_KBD]);
	cmd(0xae);
	assert_true(h.irq_level[IRQ_KBD]);
	EXPECT_KBD(0x1c);

	/* Writing to the keyboard releases its clock. */
	cmd(0xad);
	kbd_cmd(0xee);
	EXPECT_KBD(0xee);
	assert_false(read_ctr() & CTR_KBDDIS);

	/* 0xF5: the keyboard stops scanning; keys pressed meanwhile are lost. */
	kbd_ack(0xf5);
	KEY(0x1c);
	expect_empty();
	kbd_ack(0xf4);
	KEY(0x1d);
	EXPECT_KBD(0x1d);
}

static void test_keyboard_buffer_bound(void **state)
{
	write_ctr(CTR_KBDINT);
	for (int i = 0; i < 40; i++)
		KEY(0x1c);
	uint64_t kd = 0, md = 0;
	i8042_input_dropped(kbc, &kd, &md);
	assert_int_equal(kd, 25);
	assert_int_equal(md, 0);
	/* 16 bytes: 15 keys and the overrun code; Linux's flush copes. */
	for (int i = 0; i < 15; i++)
		EXPECT_KBD(0x1c);
	EXPECT_KBD(0x00);
	expect_empty();
	KEY(0x1c);
	EXPECT_KBD(0x1c);

	/* Translated, the overrun code reads 0xff; too long an event is lost. */
	write_ctr(CTR_KBDINT | CTR_XLATE);
	uint8_t big[40];
	memset(big, 0x1c, sizeof(big));
	i8042_key_event(kbc, big, sizeof(big));
	for (int i = 0; i < 40; i++)
		KEY(0x1c);
	assert_int_equal(flush(), 16);
	i8042_input_dropped(kbc, &kd, NULL);
	assert_int_equal(kd, 25 + 1 + 26);
}

static void test_aux_enable_disable(void **state)
{
	write_ctr(CTR_KBDINT | CTR_AUXINT);
	aux_ack(0xf4);
	cmd(0xa7);
	assert_true(read_ctr() & CTR_AUXDIS);
	i8042_mouse_event(kbc, 1, 0, 0, 0);
	expect_empty(); /* held back while the mouse clock is disabled */
	assert_false(h.irq_level[IRQ_MOUSE]);
	/* Loopback is the controller's own, so it still works. */
	cmd_data(0xd3, 0x33);
	EXPECT_AUX(0x33);
	cmd(0xa8);
	assert_true(h.irq_level[IRQ_MOUSE]);
	EXPECT_AUX(0x08, 0x01, 0x00);
	assert_false(h.irq_level[IRQ_MOUSE]);

	/* 0xD2 writes the keyboard side of the buffer. */
	cmd_data(0xd2, 0x44);
	assert_true(h.irq_level[IRQ_KBD]);
	EXPECT_KBD(0x44);

	/* Sending to the mouse releases its clock. */
	cmd(0xa7);
	aux_cmd(0xf2);
	EXPECT_AUX(0xfa, 0x00);
	assert_false(read_ctr() & CTR_AUXDIS);
}

static void test_mouse_commands(void **state)
{
	write_ctr(CTR_AUXINT | CTR_KBDDIS);
	unsigned raised = h.irq_raised[IRQ_MOUSE];
	aux_cmd(0xff);
	assert_true(h.irq_level[IRQ_MOUSE]);
	EXPECT_AUX(0xfa, 0xaa, 0x00);
	assert_true(h.irq_raised[IRQ_MOUSE] >= raised + 3);
	assert_false(h.irq_level[IRQ_MOUSE]);
	assert_false(h.irq_level[IRQ_KBD]);
	aux_cmd(0xf2);
	EXPECT_AUX(0xfa, 0x00);
	aux_cmd(0xe9); /* status: stream, disabled, 1:1; 4 counts/mm; 100/s */
	EXPECT_AUX(0xfa, 0x00, 0x02, 100);

	/* IntelliMouse knock: 200, 100, 80 */
	static const uint8_t knock[] = {200, 100, 80};
	for (size_t i = 0; i < sizeof(knock); i++) {
		aux_cmd(0xf3);
		aux_cmd(knock[i]);
		EXPECT_AUX(0xfa, 0xfa);
	}
	aux_cmd(0xf2);
	EXPECT_AUX(0xfa, 0x03);

	/* Drivers read each answer before the next byte: a new command
	 * discards what the mouse had not sent yet. */
	static const uint8_t setup_cmds[] = {0xe8, 0x03, 0xe7, 0xf0, 0xf4};
	for (size_t i = 0; i < sizeof(setup_cmds); i++)
		aux_ack(setup_cmds[i]);
	i8042_mouse_event(kbc, 0, 0, 0, I8042_BUTTON_LEFT | I8042_BUTTON_RIGHT);
	aux_cmd(0xe9);
	EXPECT_AUX(0xfa, 0x40 | 0x20 | 0x10 | 0x04 | 0x01, 0x03, 80);
	static const uint8_t stream_cmds[] = {0xe6, 0xea, 0xf5};
	for (size_t i = 0; i < sizeof(stream_cmds); i++)
		aux_ack(stream_cmds[i]);
	aux_cmd(0xe9);
	EXPECT_AUX(0xfa, 0x04 | 0x01, 0x03, 80);

	/* Bad sample rate: resend, then error on a second bad byte. */
	TO_AUX(0xf3, 7, 7);
	EXPECT_AUX(0xfa, 0xfe, 0xfc);
	TO_AUX(0xf3, 7, 40);
	EXPECT_AUX(0xfa, 0xfe, 0xfa);
	TO_AUX(0xe8, 9);
	EXPECT_AUX(0xfa, 0xfe);
	aux_cmd(2);
	EXPECT_AUX(0xfa);

	/* Wrap mode echoes until 0xEC. */
	aux_ack(0xee);
	aux_cmd(0x12);
	EXPECT_AUX(0x12);
	aux_cmd(0xf4);
	EXPECT_AUX(0xf4);
	aux_ack(0xec);
	aux_cmd(0x01); /* unknown */
	EXPECT_AUX(0xfe);
	TO_AUX(0xf6, 0xfe); /* resend the last answer */
	EXPECT_AUX(0xfa, 0xfa);
	aux_cmd(0xf2); /* defaults keep the wheel */
	EXPECT_AUX(0xfa, 0x03);
	aux_cmd(0xff); /* reset drops it */
	EXPECT_AUX(0xfa, 0xaa, 0x00);
	aux_cmd(0xf2);
	EXPECT_AUX(0xfa, 0x00);
	/* A command arriving before the answers were read discards them. */
	TO_AUX(0xff, 0xf2);
	EXPECT_AUX(0xfa, 0xfa, 0x00);
	expect_empty();
}

static void test_mouse_packets(void **state)
{
	write_ctr(CTR_AUXINT | CTR_KBDDIS);
	aux_cmd(0xff);
	EXPECT_AUX(0xfa, 0xaa, 0x00);
	aux_ack(0xf4);

	unsigned raised = h.irq_raised[IRQ_MOUSE];
	i8042_mouse_event(kbc, 10, -5, 0, I8042_BUTTON_LEFT);
	assert_true(h.irq_level[IRQ_MOUSE]);
	assert_int_equal(h.irq_raised[IRQ_MOUSE], raised + 1);
	EXPECT_AUX(0x09, 10, 5); /* up the screen is +y for PS/2 */
	i8042_mouse_event(kbc, -3, 4, 0, I8042_BUTTON_LEFT);
	EXPECT_AUX(0x08 | 0x10 | 0x20 | 0x01, 0xfd, 0xfc);
	i8042_mouse_event(kbc, 0, 0, 0, 0); /* button released */
	EXPECT_AUX(0x08, 0x00, 0x00);
	i8042_mouse_event(kbc, 0, 0, 0, I8042_BUTTON_MIDDLE);
	EXPECT_AUX(0x0c, 0x00, 0x00);
	i8042_mouse_event(kbc, 0, 0, 3, I8042_BUTTON_MIDDLE); /* no wheel yet */
	expect_empty();

	/* Large motion is split over packets. */
	i8042_mouse_event(kbc, 600, 0, 0, 0);
	EXPECT_AUX(0x08, 0xff, 0x00, 0x08, 0xff, 0x00, 0x08, 90, 0x00);
	expect_empty();
	/* Motion beyond four waiting packets is merged, not lost. */
	for (int i = 0; i < 10; i++)
		i8042_mouse_event(kbc, 1, 0, 0, 0);
	EXPECT_AUX(0x08, 1, 0, 0x08, 1, 0, 0x08, 1, 0, 0x08, 1, 0);
	EXPECT_AUX(0x08, 6, 0);
	expect_empty();

	/* Wheel mouse: four-byte packets. */
	static const uint8_t knock[] = {200, 100, 80};
	for (size_t i = 0; i < sizeof(knock); i++) {
		aux_cmd(0xf3);
		aux_cmd(knock[i]);
		EXPECT_AUX(0xfa, 0xfa);
	}
	i8042_mouse_event(kbc, 0, 0, 2, 0);
	EXPECT_AUX(0x08, 0x00, 0x00, 0x02);
	i8042_mouse_event(kbc, 1, 1, -1, I8042_BUTTON_RIGHT);
	EXPECT_AUX(0x08 | 0x20 | 0x02, 0x01, 0xff, 0xff);
	i8042_mouse_event(kbc, 0, 0, 20, I8042_BUTTON_RIGHT);
	EXPECT_AUX(0x0a, 0, 0, 7, 0x0a, 0, 0, 7, 0x0a, 0, 0, 6);

	/* 2:1 scaling applies to stream reports. */
	aux_ack(0xe7);
	i8042_mouse_event(kbc, 3, 0, 0, I8042_BUTTON_RIGHT);
	EXPECT_AUX(0x0a, 3, 0, 0);
	i8042_mouse_event(kbc, 5, 0, 0, I8042_BUTTON_RIGHT);
	EXPECT_AUX(0x0a, 9, 0, 0);
	i8042_mouse_event(kbc, 40, 0, 0, I8042_BUTTON_RIGHT);
	EXPECT_AUX(0x0a, 80, 0, 0);
	aux_ack(0xe6);

	/* Remote mode: nothing streams; 0xEB reads the motion so far. */
	aux_ack(0xf0);
	i8042_mouse_event(kbc, 7, 0, 0, 0);
	i8042_mouse_event(kbc, 3, -2, 0, 0);
	expect_empty();
	aux_cmd(0xeb);
	EXPECT_AUX(0xfa, 0x08, 10, 2, 0);
	aux_cmd(0xeb);
	EXPECT_AUX(0xfa, 0x08, 0, 0, 0);

	/* Reporting off in stream mode: motion is not kept. */
	TO_AUX(0xea, 0xf5);
	EXPECT_AUX(0xfa, 0xfa);
	i8042_mouse_event(kbc, 9, 9, 0, 0);
	expect_empty();
	aux_ack(0xf4);
	expect_empty();

	/* A command stops the report that was waiting. */
	i8042_mouse_event(kbc, 1, 0, 0, 0);
	aux_cmd(0xf2);
	EXPECT_AUX(0x08, 0xfa, 0x03); /* the byte already in the controller stays */
	expect_empty();
}

static void test_reset_line(void **state)
{
	cmd(0xff); /* pulses nothing */
	assert_int_equal(h.requests, 0);
	cmd(0xfe);
	assert_int_equal(h.requests, 1);
	assert_int_equal(h.last_request, MACHINE_RESET);
	cmd(0xf0); /* bit 0 clear pulses the reset line too */
	assert_int_equal(h.requests, 2);
	cmd(0xfd); /* bit 0 set: no reset */
	assert_int_equal(h.requests, 2);

	cmd_data(0xd1, 0xdf); /* A20 on, reset high */
	assert_int_equal(h.requests, 2);
	cmd_data(0xd1, 0xde); /* reset line low */
	assert_int_equal(h.requests, 3);
	assert_int_equal(h.last_request, MACHINE_RESET);
	/* SeaBIOS's i8042_reboot: 0xfe after waiting for the input buffer */
	machine_reset_devices(&h.m);
	cmd(0xfe);
	assert_int_equal(h.requests, 4);
}

static void test_a20(void **state)
{
	assert_true(i8042_a20(kbc));
	cmd(0xd0);
	uint8_t out = hinb(&h, PORT_I8042_DATA);
	assert_int_equal(out & 0x03, 0x03); /* A20 on, reset line high */
	cmd_data(0xd1, 0xdd);		    /* the classic "A20 off" */
	assert_false(i8042_a20(kbc));
	cmd(0xd0);
	assert_int_equal(hinb(&h, PORT_I8042_DATA) & 0x03, 0x01);
	cmd_data(0xd1, 0xdf);
	cmd(0xff); /* HIMEM's null command after the write */
	assert_true(i8042_a20(kbc));
	cmd(0xd0);
	assert_int_equal(hinb(&h, PORT_I8042_DATA) & 0x03, 0x03);
	cmd(0xdd);
	assert_false(i8042_a20(kbc));
	cmd(0xdf);
	assert_true(i8042_a20(kbc));
	cmd_data(0xd1, 0xdd);
	cmd(0xaa); /* the self test brings A20 back */
	EXPECT_KBD(0x55);
	assert_true(i8042_a20(kbc));
	/* Output port bit 4: IRQ1 line (output buffer full from the keyboard) */
	write_ctr(CTR_KBDINT);
	KEY(0x1c);
	cmd(0xd0);
	EXPECT_KBD(0x1c);
	assert_true(status() & STS_OBF);
	assert_int_equal(hinb(&h, PORT_I8042_DATA) & 0x30, 0x10);
	assert_int_equal(h.requests, 0);
}

static void test_device_reset(void **state)
{
	cmd(0xaa);
	flush();
	write_ctr(0x47);
	TO_KBD(0xed, 0x07);
	cmd_data(0xd1, 0xdd);
	aux_cmd(0xf4);
	i8042_mouse_event(kbc, 5, 5, 0, 0);
	assert_true(h.irq_level[IRQ_KBD]);
	machine_reset_devices(&h.m);
	assert_false(h.irq_level[IRQ_KBD]);
	assert_false(h.irq_level[IRQ_MOUSE]);
	uint8_t st = status();
	assert_int_equal(st & (STS_OBF | STS_SYS | STS_AUX), 0);
	assert_int_equal(read_ctr(), CTR_KBDINT | CTR_AUXINT);
	assert_true(i8042_a20(kbc));
	assert_int_equal(i8042_kbd_leds(kbc), 0);
	/* the mouse is back to reporting off, the keyboard to set 2 */
	i8042_mouse_event(kbc, 5, 5, 0, 0);
	expect_empty();
	KEY(0x1c);
	EXPECT_KBD(0x1c);
}

/* A small xorshift generator, so that a failure can be replayed. */
static uint32_t rng = 0x12345678;
static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void test_garbage(void **state)
{
	for (int i = 0; i < 200000; i++) {
		uint32_t r = next_rand();
		uint8_t v = (uint8_t)(r >> 8);
		switch (r % 8) {
		case 0:
		case 1:
			houtb(&h, PORT_I8042_CMD, (v & 0xf0) == 0xf0 ? 0xff : v);
			break;
		case 2:
		case 3:
			houtb(&h, PORT_I8042_DATA, v);
			break;
		case 4:
			hinb(&h, PORT_I8042_DATA);
			break;
		case 5:
			hinl(&h, PORT_I8042_DATA);
			houtw(&h, PORT_I8042_CMD - 1, (uint16_t)r);
			break;
		case 6: {
			uint8_t k[9];
			for (int j = 0; j < 9; j++)
				k[j] = (uint8_t)next_rand();
			i8042_key_event(kbc, k, (r >> 28) % 10);
			break;
		}
		default:
			i8042_mouse_event(kbc, (int)next_rand(), (int)next_rand(), (int)next_rand(),
					  next_rand());
			break;
		}
	}
	/* Still a working controller. */
	machine_reset_devices(&h.m);
	flush();
	cmd(0xaa);
	EXPECT_KBD(0x55);
	write_ctr(CTR_KBDINT);
	kbd_cmd(0xf2);
	EXPECT_KBD(0xfa, 0xab, 0x83);
}

#define THREAD_KEYS 4000

static void *typist(void *arg)
{
	static const uint8_t a = 0x1c;
	for (int i = 0; i < THREAD_KEYS; i++)
		i8042_key_event(arg, &a, 1);
	return NULL;
}

static void test_input_from_another_thread(void **state)
{
	write_ctr(CTR_KBDINT);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, typist, kbc), 0);
	unsigned got = 0;
	for (int i = 0; i < 2000000 && got < THREAD_KEYS; i++) {
		if (status() & STS_OBF) {
			uint8_t v = hinb(&h, PORT_I8042_DATA);
			if (v == 0x1c)
				got++;
			else
				assert_int_equal(v, 0x00); /* overrun code */
		}
	}
	pthread_join(t, NULL);
	while (status() & STS_OBF)
		if (hinb(&h, PORT_I8042_DATA) == 0x1c)
			got++;
	uint64_t dropped;
	i8042_input_dropped(kbc, &dropped, NULL);
	assert_int_equal(got + dropped, THREAD_KEYS);
}

static void test_bad_arguments(void **state)
{
	struct devargs a = {0};
	assert_int_equal(devargs_parse(&a, "irq=5"), 0);
	assert_int_equal(machine_add_device(&h.m, "i8042", "kbc2", &a), -EINVAL);
	/* A second controller cannot take the same ports. */
	assert_true(machine_add_device(&h.m, "i8042", "kbc3", NULL) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_power_on_and_selftest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_command_byte_and_ram, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_linux_probe, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_seabios_keyboard_setup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keyboard_commands, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_irq1, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keyboard_disabled_holds_input, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keyboard_buffer_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_aux_enable_disable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mouse_commands, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mouse_packets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_a20, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_device_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_input_from_another_thread, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
