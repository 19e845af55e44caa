/* 16550A UART tests: the test drives COM1 the way Linux's 8250 driver and
 * SeaBIOS do, and checks registers, FIFOs, interrupts and modem lines against
 * the PC16550D datasheet. */
#include "devices/chardev.h"
#include "devices/uart16550.h"
#include "hypervisor/platform.h"
#include "tests/devices/harness.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COM1 0x3f8
#define IRQ  4

static int setup(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	harness_init(h, 1 << 20);
	harness_add(h, "uart16550", "com1", "base=0x3f8,irq=4,backend=none,name=COM1");
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	harness_fini(*state);
	free(*state);
	return 0;
}

static uint8_t reg(struct harness *h, unsigned r)
{
	return hinb(h, (uint16_t)(COM1 + r));
}

static void set(struct harness *h, unsigned r, uint8_t v)
{
	houtb(h, (uint16_t)(COM1 + r), v);
}

static void set_divisor(struct harness *h, uint16_t div)
{
	uint8_t lcr = reg(h, UART_LCR);
	set(h, UART_LCR, lcr | UART_LCR_DLAB);
	set(h, UART_DLL, (uint8_t)div);
	set(h, UART_DLM, (uint8_t)(div >> 8));
	set(h, UART_LCR, lcr & ~UART_LCR_DLAB);
}

static void check_reset_values(struct harness *h)
{
	assert_int_equal(reg(h, UART_IER), 0x00);
	assert_int_equal(reg(h, UART_IIR), 0x01);
	assert_int_equal(reg(h, UART_LCR), 0x00);
	assert_int_equal(reg(h, UART_MCR), 0x00);
	assert_int_equal(reg(h, UART_LSR), 0x60);
	/* Outside loopback: a connected device (CTS, DSR, DCD), no deltas. */
	assert_int_equal(reg(h, UART_MSR), 0xb0);
	assert_false(h->irq_level[IRQ]);
}

static void test_reset_values(void **state)
{
	struct harness *h = *state;
	check_reset_values(h);

	/* Scratch register: any value. */
	for (unsigned v = 0; v < 256; v += 0x33) {
		set(h, UART_SCR, (uint8_t)v);
		assert_int_equal(reg(h, UART_SCR), v);
	}
	/* Dirty everything, then a platform reset. */
	set_divisor(h, 3);
	set(h, UART_SCR, 0x5a);
	set(h, UART_LCR, 0x1b);
	set(h, UART_FCR, 0xc7);
	set(h, UART_MCR, 0x1f);
	set(h, UART_IER, 0x0f);
	set(h, UART_THR, 'x');
	machine_reset_devices(&h->m);
	check_reset_values(h);
	/* Master reset leaves the scratch register and divisor alone. */
	assert_int_equal(reg(h, UART_SCR), 0x5a);
	set(h, UART_LCR, UART_LCR_DLAB);
	assert_int_equal(reg(h, UART_DLL), 3);
	assert_int_equal(reg(h, UART_DLM), 0);
}

static void test_dlab_divisor_lcr_mcr(void **state)
{
	struct harness *h = *state;
	set(h, UART_IER, 0x05);
	set(h, UART_LCR, 0x83); /* 8N1, DLAB */
	set(h, UART_DLL, 0x34);
	set(h, UART_DLM, 0x12);
	assert_int_equal(reg(h, UART_DLL), 0x34);
	assert_int_equal(reg(h, UART_DLM), 0x12);
	assert_int_equal(reg(h, UART_LCR), 0x83);
	set(h, UART_LCR, 0x03);
	/* With DLAB clear the same offsets are RBR/THR and IER again. */
	assert_int_equal(reg(h, UART_IER), 0x05);
	assert_int_equal(reg(h, UART_LCR), 0x03);
	set(h, UART_LCR, 0x83);
	assert_int_equal(reg(h, UART_DLM), 0x12);
	set(h, UART_LCR, 0x03);

	/* Every LCR value reads back. */
	for (unsigned v = 0; v < 0x80; v++) {
		set(h, UART_LCR, (uint8_t)v);
		assert_int_equal(reg(h, UART_LCR), v);
	}
	/* MCR: five bits. */
	set(h, UART_MCR, 0xff);
	assert_int_equal(reg(h, UART_MCR), 0x1f);
	set(h, UART_MCR, 0x0b);
	assert_int_equal(reg(h, UART_MCR), 0x0b);
	/* IER: four bits (Linux's autoconfig checks the upper ones read 0). */
	set(h, UART_IER, 0xff);
	assert_int_equal(reg(h, UART_IER), 0x0f);
	set(h, UART_IER, 0);

	/* Character time follows divisor and framing. */
	struct uart16550 *u = machine_device(&h->m, "com1");
	set(h, UART_LCR, 0x03); /* 8N1: 10 bits */
	set_divisor(h, 1);
	assert_int_equal(uart16550_char_time_ns(u), 10 * 1000000000ull / 115200);
	set(h, UART_LCR, 0x1e); /* 7E2: 1 + 7 + 1 + 2 bits */
	set_divisor(h, 12);
	assert_int_equal(uart16550_char_time_ns(u), 11 * 12 * 1000000000ull / 115200);
	set(h, UART_LCR, 0x04); /* 5N1.5: 7.5 bits */
	assert_int_equal(uart16550_char_time_ns(u), 15 * 12 * 1000000000ull / (2 * 115200));
}

/* SeaBIOS's detect_serial() and debug port set-up. */
static void test_seabios_detect(void **state)
{
	struct harness *h = *state;
	set(h, UART_IER, 0x02);
	assert_int_equal(reg(h, UART_IER), 0x02);
	assert_int_equal(reg(h, UART_IIR) & 0x3f, 0x02);
	set(h, UART_IER, 0x00);
	assert_int_equal(reg(h, UART_IIR), 0x01);

	set(h, UART_LCR, 0x83);
	set(h, UART_DLL, 0x01);
	set(h, UART_DLM, 0x00);
	set(h, UART_LCR, 0x03);
	for (const char *s = "SeaBIOS"; *s; s++) {
		assert_int_equal(reg(h, UART_LSR) & UART_LSR_THRE, UART_LSR_THRE);
		set(h, UART_THR, (uint8_t)*s);
	}
	assert_int_equal(reg(h, UART_LSR) & 0x60, 0x60);
}

/* The checks Linux's 8250 autoconfig() and serial8250_do_startup() make. */
static void test_linux_probe(void **state)
{
	struct harness *h = *state;

	/* IER scratch test. */
	set(h, UART_IER, 0);
	assert_int_equal(reg(h, UART_IER) & 0x0f, 0);
	set(h, UART_IER, 0x0f);
	assert_int_equal(reg(h, UART_IER) & 0x0f, 0x0f);
	set(h, UART_IER, 0);

	/* Loopback test: RTS and OUT2 come back as CTS and DCD. */
	set(h, UART_MCR, UART_MCR_LOOP | 0x0a);
	assert_int_equal(reg(h, UART_MSR) & 0xf0, 0x90);
	set(h, UART_MCR, 0);

	/* FIFO type: 16550A (IIR bits 7:6 both set), no 64-byte FIFO, no EFR. */
	set(h, UART_FCR, UART_FCR_ENABLE);
	assert_int_equal(reg(h, UART_IIR) >> 6, 3);
	set(h, UART_LCR, 0xbf);
	assert_int_not_equal(reg(h, UART_IIR), 0); /* "EFR" reads non-zero */
	set(h, UART_LCR, 0);
	set(h, UART_FCR, UART_FCR_ENABLE | 0x20);
	assert_int_equal(reg(h, UART_IIR) & 0xe0, 0xc0);
	set(h, UART_LCR, UART_LCR_DLAB);
	set(h, UART_FCR, UART_FCR_ENABLE | 0x20);
	assert_int_equal(reg(h, UART_IIR) & 0xe0, 0xc0);
	set(h, UART_LCR, 0);

	/* serial8250_clear_fifos, then the THRE re-assertion test. */
	set(h, UART_FCR, UART_FCR_ENABLE);
	set(h, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
	set(h, UART_FCR, 0);
	set(h, UART_FCR, UART_FCR_ENABLE | UART_FCR_TRIGGER_8);
	set(h, UART_LCR, 0x03);
	set(h, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	assert_true(reg(h, UART_LSR) & UART_LSR_TEMT);
	set(h, UART_IER, UART_IER_THRI);
	uint8_t iir1 = reg(h, UART_IIR);
	set(h, UART_IER, 0);
	set(h, UART_IER, UART_IER_THRI);
	uint8_t iir = reg(h, UART_IIR);
	set(h, UART_IER, 0);
	assert_int_equal(iir1, 0xc2);
	assert_int_equal(iir, 0xc2); /* re-asserted: no UART_BUG_THRE */
	assert_int_equal(reg(h, UART_IIR), 0xc1);
}

static void test_thre_interrupt_and_out2(void **state)
{
	struct harness *h = *state;

	/* THRE pending but OUT2 clear: the PC's line stays low. */
	set(h, UART_IER, UART_IER_THRI);
	assert_false(h->irq_level[IRQ]);
	set(h, UART_MCR, UART_MCR_OUT2);
	assert_true(h->irq_level[IRQ]);
	unsigned raised = h->irq_raised[IRQ];

	/* Reading IIR while THRE is the source clears it. */
	assert_int_equal(reg(h, UART_IIR), 0x02);
	assert_false(h->irq_level[IRQ]);
	assert_int_equal(reg(h, UART_IIR), 0x01);

	/* Writing THR clears it; the character leaves and THRE comes back. */
	set(h, UART_THR, 'A');
	assert_true(h->irq_level[IRQ]);
	assert_int_equal(h->irq_raised[IRQ], raised + 1);
	assert_int_equal(reg(h, UART_LSR) & 0x60, 0x60);

	/* OUT2 gates the line, not the interrupt. */
	set(h, UART_MCR, 0);
	assert_false(h->irq_level[IRQ]);
	set(h, UART_MCR, UART_MCR_OUT2);
	assert_true(h->irq_level[IRQ]);

	/* Disabling the interrupt in IER lowers the line; re-enabling while
	 * THR is empty raises it again. */
	set(h, UART_IER, 0);
	assert_false(h->irq_level[IRQ]);
	set(h, UART_IER, UART_IER_THRI);
	assert_true(h->irq_level[IRQ]);
	assert_int_equal(reg(h, UART_IIR), 0x02);
	assert_false(h->irq_level[IRQ]);
}

static void loopback_fifo(struct harness *h, uint8_t trigger)
{
	set(h, UART_LCR, 0x03);
	set(h, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT | trigger);
	set(h, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	(void)reg(h, UART_MSR); /* the deltas entering loopback made */
	(void)reg(h, UART_LSR);
}

static void test_rx_trigger_levels(void **state)
{
	struct harness *h = *state;
	static const struct {
		uint8_t fcr;
		unsigned level;
	} levels[] = {{UART_FCR_TRIGGER_1, 1},
		      {UART_FCR_TRIGGER_4, 4},
		      {UART_FCR_TRIGGER_8, 8},
		      {UART_FCR_TRIGGER_14, 14}};
	/* A slow line, so that no character timeout interferes. */
	set_divisor(h, 0x900);
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		loopback_fifo(h, levels[i].fcr);
		set(h, UART_IER, UART_IER_RDI);
		unsigned n = 0;
		for (; n + 1 < levels[i].level; n++) {
			set(h, UART_THR, (uint8_t)('a' + n));
			assert_int_equal(reg(h, UART_IIR), 0xc1);
			assert_false(h->irq_level[IRQ]);
			assert_int_equal(reg(h, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
		}
		set(h, UART_THR, (uint8_t)('a' + n++));
		assert_int_equal(reg(h, UART_IIR), 0xc4);
		assert_true(h->irq_level[IRQ]);
		/* Reading IIR does not clear it; reading the data does. */
		assert_int_equal(reg(h, UART_IIR), 0xc4);
		for (unsigned k = 0; k < n; k++) {
			assert_int_equal(reg(h, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
			assert_int_equal(reg(h, UART_RBR), 'a' + k);
			/* Below the trigger again: no data interrupt. */
			assert_int_equal(reg(h, UART_IIR),
					 levels[i].level == 1 && k + 1 < n ? 0xc4 : 0xc1);
		}
		assert_int_equal(reg(h, UART_LSR) & UART_LSR_DR, 0);
		assert_false(h->irq_level[IRQ]);
		set(h, UART_IER, 0);
	}
}

static bool cti_pending(void *ctx)
{
	return (reg(ctx, UART_IIR) & 0x0f) == UART_IIR_CTI;
}

static void test_character_timeout(void **state)
{
	struct harness *h = *state;
	/* 115200 baud: four characters take 347 us. */
	set_divisor(h, 1);
	loopback_fifo(h, UART_FCR_TRIGGER_8);
	set(h, UART_IER, UART_IER_RDI);
	set(h, UART_THR, '1');
	set(h, UART_THR, '2');
	set(h, UART_THR, '3');
	assert_int_equal(reg(h, UART_IIR), 0xc1);
	assert_true(harness_run_until(h, 2000, cti_pending, h));
	assert_int_equal(reg(h, UART_IIR), 0xcc);
	assert_true(h->irq_level[IRQ]);

	/* Reading a character clears the timeout and restarts the timer. */
	assert_int_equal(reg(h, UART_RBR), '1');
	assert_int_equal(reg(h, UART_IIR), 0xc1);
	assert_false(h->irq_level[IRQ]);
	assert_true(harness_run_until(h, 2000, cti_pending, h));
	assert_int_equal(reg(h, UART_RBR), '2');
	assert_int_equal(reg(h, UART_RBR), '3');
	assert_int_equal(reg(h, UART_LSR) & UART_LSR_DR, 0);
	/* An empty FIFO times nothing out. */
	harness_run(h, 5);
	assert_int_equal(reg(h, UART_IIR), 0xc1);

	/* At 1200 baud four characters take 33 ms: not after 5 ms. */
	set_divisor(h, 96);
	set(h, UART_THR, '4');
	harness_run(h, 5);
	assert_int_equal(reg(h, UART_IIR), 0xc1);
	assert_true(harness_run_until(h, 2000, cti_pending, h));
	assert_int_equal(reg(h, UART_RBR), '4');

	/* No timeout interrupt in 16450 mode: the data interrupt is at once. */
	set(h, UART_FCR, 0);
	set(h, UART_THR, '5');
	assert_int_equal(reg(h, UART_IIR), 0x04);
	harness_run(h, 40);
	assert_int_equal(reg(h, UART_IIR), 0x04);
	assert_int_equal(reg(h, UART_RBR), '5');
	assert_int_equal(reg(h, UART_IIR), 0x01);
}

/* A timeout timer started on a very slow line must not hold back the
 * timeout once the guest switches to a fast one. */
static void test_timeout_after_divisor_change(void **state)
{
	struct harness *h = *state;
	loopback_fifo(h, UART_FCR_TRIGGER_4);
	set(h, UART_IER, UART_IER_RDI);
	set_divisor(h, 0x8000); /* 3.5 baud: 11 s for four characters */
	set(h, UART_THR, 'a');
	assert_int_equal(reg(h, UART_RBR), 'a');
	set_divisor(h, 12); /* 9600 baud: 4 ms */
	set(h, UART_THR, 'b');
	set(h, UART_THR, 'c');
	uint64_t t0 = clock_ns();
	assert_true(harness_run_until(h, 2000, cti_pending, h));
	assert_true(clock_ns() - t0 < 1000000000ull);
	assert_int_equal(reg(h, UART_RBR), 'b');
	assert_int_equal(reg(h, UART_RBR), 'c');
	assert_int_equal(reg(h, UART_IIR), 0xc1);
}

static void test_overrun(void **state)
{
	struct harness *h = *state;
	set_divisor(h, 0x900);
	loopback_fifo(h, UART_FCR_TRIGGER_14);
	set(h, UART_IER, UART_IER_RLSI);
	for (unsigned i = 0; i < UART_FIFO_SIZE; i++)
		set(h, UART_THR, (uint8_t)i);
	assert_int_equal(reg(h, UART_IIR), 0xc1);
	set(h, UART_THR, 0x99); /* no room: lost */
	assert_int_equal(reg(h, UART_IIR), 0xc6);
	assert_true(h->irq_level[IRQ]);
	assert_int_equal(reg(h, UART_LSR), UART_LSR_DR | UART_LSR_OE | 0x60);
	/* Reading LSR cleared OE and the line status interrupt. */
	assert_int_equal(reg(h, UART_LSR), UART_LSR_DR | 0x60);
	assert_int_equal(reg(h, UART_IIR), 0xc1);
	for (unsigned i = 0; i < UART_FIFO_SIZE; i++)
		assert_int_equal(reg(h, UART_RBR), i);
	assert_int_equal(reg(h, UART_LSR), 0x60);

	/* 16450 mode: the new character overwrites the holding register. */
	set(h, UART_FCR, 0);
	set(h, UART_THR, 'a');
	assert_int_equal(reg(h, UART_LSR), UART_LSR_DR | 0x60);
	set(h, UART_THR, 'b');
	assert_int_equal(reg(h, UART_IIR), 0x06);
	assert_int_equal(reg(h, UART_LSR), UART_LSR_DR | UART_LSR_OE | 0x60);
	assert_int_equal(reg(h, UART_RBR), 'b');
	assert_int_equal(reg(h, UART_LSR), 0x60);
}

static void test_fifo_reset_and_16450(void **state)
{
	struct harness *h = *state;
	set_divisor(h, 0x900);
	loopback_fifo(h, UART_FCR_TRIGGER_1);
	for (unsigned i = 0; i < 5; i++)
		set(h, UART_THR, (uint8_t)('A' + i));
	assert_int_equal(reg(h, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
	/* Clear the receiver FIFO only. */
	set(h, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RCVR);
	assert_int_equal(reg(h, UART_LSR), 0x60);
	assert_int_equal(reg(h, UART_IIR) & 0xc0, 0xc0);
	/* Reset bits without FCR0 are not programmed: FIFO mode ends and both
	 * FIFOs are cleared by the mode change itself. */
	set(h, UART_THR, 'Z');
	set(h, UART_FCR, UART_FCR_CLEAR_RCVR);
	assert_int_equal(reg(h, UART_IIR), 0x01);
	assert_int_equal(reg(h, UART_LSR), 0x60);
	/* 16450 behaviour: a one-byte holding register, IIR bits 7:6 clear. */
	set(h, UART_IER, UART_IER_RDI);
	set(h, UART_THR, 'x');
	assert_int_equal(reg(h, UART_IIR), 0x04);
	assert_int_equal(reg(h, UART_RBR), 'x');
	assert_int_equal(reg(h, UART_IIR), 0x01);
	/* Enabling the FIFO again clears whatever was there. */
	set(h, UART_THR, 'y');
	set(h, UART_FCR, UART_FCR_ENABLE);
	assert_int_equal(reg(h, UART_LSR) & UART_LSR_DR, 0);
	assert_int_equal(reg(h, UART_IIR), 0xc1);
}

static void test_msr_loopback(void **state)
{
	struct harness *h = *state;
	set(h, UART_MCR, UART_MCR_OUT2);
	assert_int_equal(reg(h, UART_MSR), 0xb0);
	set(h, UART_IER, UART_IER_MSI);
	assert_false(h->irq_level[IRQ]);

	/* Entering loopback drops CTS, DSR and DCD (OUT2 is DCD, set). */
	set(h, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	assert_true(h->irq_level[IRQ]);
	assert_int_equal(reg(h, UART_IIR), 0x00); /* modem status */
	assert_int_equal(reg(h, UART_MSR), UART_MSR_DCD | UART_MSR_DCTS | UART_MSR_DDSR);
	assert_false(h->irq_level[IRQ]);
	assert_int_equal(reg(h, UART_IIR), 0x01);
	assert_int_equal(reg(h, UART_MSR), UART_MSR_DCD);

	set(h, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_DTR);
	assert_true(h->irq_level[IRQ]);
	assert_int_equal(reg(h, UART_MSR), UART_MSR_DCD | UART_MSR_DSR | UART_MSR_DDSR);
	set(h, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_DTR | UART_MCR_RTS);
	assert_int_equal(reg(h, UART_MSR), 0xb0 | UART_MSR_DCTS);
	/* RI: only the trailing edge sets TERI. */
	set(h, UART_MCR,
	    UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT1);
	assert_int_equal(reg(h, UART_MSR), 0xf0);
	set(h, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_DTR | UART_MCR_RTS);
	assert_int_equal(reg(h, UART_MSR), 0xb0 | UART_MSR_TERI);
	/* DCD follows OUT2 (and OUT2 still gates the line). */
	set(h, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_RTS);
	assert_false(h->irq_level[IRQ]);
	assert_int_equal(reg(h, UART_IIR), 0x00);
	assert_int_equal(reg(h, UART_MSR), UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DDCD);
	/* Leaving loopback: the connected device's lines again. */
	set(h, UART_MCR, UART_MCR_OUT2);
	assert_int_equal(reg(h, UART_MSR), 0xb0 | UART_MSR_DDCD);
	assert_int_equal(reg(h, UART_MSR), 0xb0);
	assert_false(h->irq_level[IRQ]);
}

static void test_break(void **state)
{
	struct harness *h = *state;
	set_divisor(h, 0x900);
	loopback_fifo(h, UART_FCR_TRIGGER_1);
	set(h, UART_IER, UART_IER_RLSI | UART_IER_RDI);
	set(h, UART_THR, 'k');
	set(h, UART_LCR, 0x03 | UART_LCR_SBC);
	/* 'k' is at the top: no error shown yet, but the FIFO holds one. */
	assert_int_equal(reg(h, UART_IIR), 0xc4);
	assert_int_equal(reg(h, UART_LSR), UART_LSR_FIFOE | UART_LSR_DR | 0x60);
	assert_int_equal(reg(h, UART_RBR), 'k');
	/* Now the break character is at the top. */
	assert_int_equal(reg(h, UART_IIR), 0xc6);
	assert_int_equal(reg(h, UART_LSR), UART_LSR_FIFOE | UART_LSR_BI | UART_LSR_DR |
					       UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(reg(h, UART_IIR), 0xc4);
	assert_int_equal(reg(h, UART_RBR), 0);
	/* LSR7 is cleared by the first LSR read with no error in the FIFO. */
	assert_int_equal(reg(h, UART_LSR), UART_LSR_FIFOE | 0x60);
	assert_int_equal(reg(h, UART_LSR), 0x60);
	set(h, UART_LCR, 0x03);
	assert_int_equal(reg(h, UART_LSR), 0x60);

	/* 16450 mode: BI with the zero character, no FIFO error bit. */
	set(h, UART_FCR, 0);
	set(h, UART_LCR, 0x03 | UART_LCR_SBC);
	assert_int_equal(reg(h, UART_IIR), 0x06);
	assert_int_equal(reg(h, UART_LSR), UART_LSR_BI | UART_LSR_DR | 0x60);
	assert_int_equal(reg(h, UART_RBR), 0);
}

static void test_word_length_mask(void **state)
{
	struct harness *h = *state;
	set_divisor(h, 0x900);
	loopback_fifo(h, UART_FCR_TRIGGER_1);
	set(h, UART_LCR, 0x00); /* 5 data bits */
	set(h, UART_THR, 0xff);
	assert_int_equal(reg(h, UART_RBR), 0x1f);
	set(h, UART_LCR, 0x02); /* 7 data bits */
	set(h, UART_THR, 0xff);
	assert_int_equal(reg(h, UART_RBR), 0x7f);
}

/* Multi-byte accesses reach consecutive registers a byte at a time. */
static void test_wide_access(void **state)
{
	struct harness *h = *state;
	houtw(h, COM1 + UART_LCR, 0x0b83); /* LCR = 0x83, MCR = 0x0b */
	assert_int_equal(reg(h, UART_LCR), 0x83);
	assert_int_equal(reg(h, UART_MCR), 0x0b);
	houtw(h, COM1 + UART_DLL, 0x0201);
	assert_int_equal(hinw(h, COM1 + UART_DLL), 0x0201);
	assert_int_equal(hinl(h, COM1 + UART_DLL) >> 24, 0x83);
	houtb(h, COM1 + UART_LCR, 0x03);
	houtl(h, COM1 + 4, 0x11223344); /* MCR, LSR, MSR (ignored), SCR */
	assert_int_equal(reg(h, UART_MCR), 0x04);
	assert_int_equal(reg(h, UART_SCR), 0x11);
	/* An access running past the last register. */
	houtl(h, COM1 + 6, 0xaabbccdd);
	assert_int_equal(reg(h, UART_SCR), 0xcc);
	assert_int_equal(hinl(h, COM1 + 6) >> 8 & 0xff, 0xcc);
}

static uint32_t rng_state = 12345;

static uint32_t rnd(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

/* Guest misuse: random accesses of every size at every offset. The device
 * must neither crash nor reach a state the hardware cannot be in. */
static void test_garbage(void **state)
{
	struct harness *h = *state;
	static const unsigned sizes[] = {1, 2, 4};
	for (unsigned i = 0; i < 200000; i++) {
		unsigned off = rnd() % 9, size = sizes[rnd() % 3];
		uint16_t port = (uint16_t)(COM1 + off);
		if (rnd() & 1) {
			uint32_t v = rnd() ^ (rnd() << 16);
			if (size == 1)
				houtb(h, port, (uint8_t)v);
			else if (size == 2)
				houtw(h, port, (uint16_t)v);
			else
				houtl(h, port, v);
		} else {
			if (size == 1)
				(void)hinb(h, port);
			else if (size == 2)
				(void)hinw(h, port);
			else
				(void)hinl(h, port);
		}
		if (i % 1000 == 0) {
			uint8_t lcr = reg(h, UART_LCR);
			set(h, UART_LCR, lcr & 0x7f);
			uint8_t mcr = reg(h, UART_MCR);
			bool level = h->irq_level[IRQ];
			uint8_t iir = reg(h, UART_IIR);
			assert_int_equal(mcr & 0xe0, 0);
			assert_int_equal(iir & 0x30, 0);
			assert_int_equal(reg(h, UART_IER) & 0xf0, 0);
			assert_int_equal(level, !(iir & 1) && (mcr & UART_MCR_OUT2));
			set(h, UART_LCR, lcr);
		}
		if (i % 20000 == 0)
			harness_run(h, 1);
	}
	machine_reset_devices(&h->m);
	check_reset_values(h);
	/* And it still works. */
	set(h, UART_LCR, 0x03);
	set(h, UART_MCR, UART_MCR_LOOP);
	set(h, UART_THR, 'q');
	assert_int_equal(reg(h, UART_RBR), 'q');
}

static int try_add(const char *args)
{
	struct harness h;
	struct devargs a = {0};
	harness_init(&h, 1 << 20);
	int r = devargs_parse(&a, args);
	if (r == 0)
		r = machine_add_device(&h.m, "uart16550", "com1", &a);
	harness_fini(&h);
	return r;
}

static void test_bad_args(void **state)
{
	assert_int_equal(try_add("base=0x3f8,irq=4"), 0);
	assert_int_equal(try_add("base=0x2f8,irq=3,backend=none,name=COM2"), 0);
	assert_true(try_add("irq=4") < 0);
	assert_true(try_add("base=0x3f8") < 0);
	assert_true(try_add("base=0xfffa,irq=4") < 0);
	assert_true(try_add("base=zz,irq=4") < 0);
	assert_true(try_add("base=0x3f8,irq=24") < 0);
	assert_true(try_add("base=0x3f8,irq=4,backend=telnet") < 0);
	assert_true(try_add("base=0x3f8,irq=4,backend=file") < 0);
	assert_true(try_add("base=0x3f8,irq=4,backend=socket") < 0);
	assert_true(try_add("base=0x3f8,irq=4,backend=none,path=/tmp/x") < 0);
	assert_true(try_add("base=0x3f8,irq=4,speed=9600") < 0);
	assert_true(try_add("base=0x3f8,irq=4,backend=file,path=/nonexistent/dir/out") < 0);
	assert_true(try_add("base=0x3f8,irq=4,backend=socket,path=/nonexistent/dir/s") < 0);

	/* Two ports on the same addresses. */
	struct harness h;
	struct devargs a = {0};
	harness_init(&h, 1 << 20);
	harness_add(&h, "uart16550", "com1", "base=0x3f8,irq=4");
	assert_int_equal(devargs_parse(&a, "base=0x3f8,irq=4"), 0);
	assert_true(machine_add_device(&h.m, "uart16550", "com1b", &a) < 0);
	harness_fini(&h);
}

/* Interrupt-driven transmission the way Linux does it (up to 16 bytes per
 * THRE interrupt), into a file backend. */
static void test_tx_file_interrupt_driven(void **state)
{
	char dir[] = "/tmp/osio-uart-XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("before\n", f);
	fclose(f);

	struct harness h;
	char args[128];
	harness_init(&h, 1 << 20);
	snprintf(args, sizeof(args), "base=0x3f8,irq=4,backend=file,path=%s,name=COM1", path);
	harness_add(&h, "uart16550", "com1", args);
	/* Straight after reset (LCR 0: 5-bit words), as a kernel booted
	 * without firmware writes: the host gets whole bytes. */
	set(&h, UART_THR, 'h');
	set(&h, UART_THR, 'i');
	set(&h, UART_LCR, 0x03);
	set(&h, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
	set(&h, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);

	char msg[3000];
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (char)('!' + (i * 7) % 90);
	size_t sent = 0;
	set(&h, UART_IER, UART_IER_THRI);
	while (sent < sizeof(msg)) {
		assert_true(h.irq_level[IRQ]);
		uint8_t iir = reg(&h, UART_IIR);
		assert_int_equal(iir, 0xc2);
		for (unsigned k = 0; k < UART_FIFO_SIZE && sent < sizeof(msg); k++)
			set(&h, UART_THR, (uint8_t)msg[sent++]);
		if (sent % 512 < 16)
			harness_run(&h, 1);
	}
	set(&h, UART_IER, 0);
	harness_run(&h, 5);

	char got[4096];
	f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(got, 1, sizeof(got), f);
	fclose(f);
	assert_int_equal(n, 9 + sizeof(msg));
	assert_memory_equal(got, "before\nhi", 9);
	assert_memory_equal(got + 9, msg, sizeof(msg));
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	harness_fini(&h);
	unlink(path);

	/* A new file is created 0644 (less the umask). */
	mode_t mask = umask(022);
	harness_init(&h, 1 << 20);
	snprintf(args, sizeof(args), "base=0x3f8,irq=4,backend=file,path=%s", path);
	harness_add(&h, "uart16550", "com1", args);
	set(&h, UART_THR, 'z');
	harness_fini(&h); /* what is pending is written on the way out */
	umask(mask);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(st.st_size, 1);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dlab_divisor_lcr_mcr, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_seabios_detect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_linux_probe, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_thre_interrupt_and_out2, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_trigger_levels, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_character_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout_after_divisor_change, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overrun, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fifo_reset_and_16450, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_msr_loopback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_break, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_word_length_mask, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wide_access, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
	    cmocka_unit_test(test_bad_args),
	    cmocka_unit_test(test_tx_file_interrupt_driven),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
