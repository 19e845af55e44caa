/* reset: the i8042's reset line, counted across boots in CMOS NVRAM byte
 * 0x50 (which a reset keeps): boot 1 pulses it with command 0xFE, boot 2
 * writes the output port (command 0xD1) with bit 0 clear, boot 3 reports
 * "boots: 3" and clears the byte. */
#include "../lib/cmos.h"
#include "../lib/io.h"
#include "../lib/test.h"
#include "../lib/timer.h"
#include "../lib/uart.h"

#define BOOT_COUNTER 0x50
#define KBC_DATA     0x60
#define KBC_STATUS   0x64
#define KBC_CMD	     0x64
#define KBC_OBF	     0x01
#define KBC_IBF	     0x02

static bool kbc_wait_input_empty(void)
{
	struct timeout t;

	timeout_start(&t, 1000);
	while (inb(KBC_STATUS) & KBC_IBF)
		if (timeout_expired(&t))
			return false;
	return true;
}

static bool kbc_wait_output_full(void)
{
	struct timeout t;

	timeout_start(&t, 1000);
	while (!(inb(KBC_STATUS) & KBC_OBF))
		if (timeout_expired(&t))
			return false;
	return true;
}

static void set_counter(u8 n)
{
	cmos_write(BOOT_COUNTER, n);
	check(cmos_read(BOOT_COUNTER) == n, "CMOS 0x%02x now holds %u", BOOT_COUNTER, n);
}

static noreturn void expect_reset(const char *how)
{
	/* The VM resets now; if it does not within 2 s, that is a failure. */
	delay_ms(2000);
	printf("FAIL: still running 2 s after %s\n", how);
	test_abort();
}

static void reset_by_pulse(void)
{
	printf("reset: pulsing the reset line (command 0xfe to port 0x64)\n");
	check(kbc_wait_input_empty(), "the i8042 input buffer is empty");
	console_flush();
	outb(KBC_CMD, 0xfe);
	expect_reset("command 0xfe");
}

static void reset_by_output_port(void)
{
	u8 port = 0;
	bool ok;

	/* Read the output port (0xD0), write it back (0xD1) with bit 0, the
	 * active-low reset line, clear. */
	ok = kbc_wait_input_empty();
	outb(KBC_CMD, 0xd0);
	ok = ok && kbc_wait_output_full();
	if (ok)
		port = inb(KBC_DATA);
	check(ok, "command 0xd0 returned the output port");
	printf("peer: output port 0x%02x\n", port);
	check(port & 0x01, "the output port's reset line (bit 0) is high (inactive)");
	printf("reset: writing the output port (command 0xd1) with bit 0 clear\n");
	ok = kbc_wait_input_empty();
	outb(KBC_CMD, 0xd1);
	ok = kbc_wait_input_empty() && ok;
	check(ok, "the i8042 took command 0xd1");
	console_flush();
	outb(KBC_DATA, (port | 0x02) & ~0x01);
	expect_reset("the output port write");
}

void test_main(void)
{
	u8 boots = cmos_read(BOOT_COUNTER);

	printf("reset: boot %u (CMOS 0x%02x was %u)\n", boots + 1, BOOT_COUNTER, boots);
	switch (boots) {
	case 0:
		set_counter(1);
		reset_by_pulse();
		break;
	case 1:
		set_counter(2);
		reset_by_output_port();
		break;
	case 2:
		printf("boots: 3\n");
		set_counter(0);
		break;
	default:
		check(false, "CMOS 0x%02x holds %u, which no boot of this program writes",
		      BOOT_COUNTER, boots);
		set_counter(0);
		break;
	}
}
