/* i8042 keyboard controller: status, command byte, controller commands, reset line, A20, IRQ
 * gating and the probe sequences of SeaBIOS (ps2port.c) and Linux (i8042.c). The keyboard and
 * mouse behind it are in test_ps2.c. */
#include "tests/devices/i8042_driver.h"

#include <errno.h>
#include <pthread.h>

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
	    cmocka_unit_test_setup_teardown(test_power_on_and_selftest, kbc_setup, kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_command_byte_and_ram, kbc_setup, kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_linux_probe, kbc_setup, kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_seabios_keyboard_setup, kbc_setup, kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_irq1, kbc_setup, kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_keyboard_disabled_holds_input, kbc_setup,
					    kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_aux_enable_disable, kbc_setup, kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_reset_line, kbc_setup, kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_a20, kbc_setup, kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_device_reset, kbc_setup, kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_garbage, kbc_setup, kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_input_from_another_thread, kbc_setup,
					    kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_arguments, kbc_setup, kbc_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
