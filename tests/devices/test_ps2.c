/* PS/2 keyboard and mouse behind the i8042 (devices/ps2.c): keyboard commands, scancode sets
 * and the controller's set-2 to set-1 translation, mouse commands and movement packets, driven
 * the way Linux's atkbd and psmouse drive them. */
#include "tests/devices/i8042_driver.h"

#include <string.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_keyboard_commands, kbc_setup, kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_key_events, kbc_setup, kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_keyboard_buffer_bound, kbc_setup, kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_mouse_commands, kbc_setup, kbc_teardown),
	    cmocka_unit_test_setup_teardown(test_mouse_packets, kbc_setup, kbc_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
