/* The guest's side of the 8042 for the device tests: a harness with one controller, and the
 * driver steps SeaBIOS (ps2port.c) and Linux (i8042.c) take: wait for IBF clear, command, data. */
#ifndef OSIO_TEST_I8042_DRIVER_H
#define OSIO_TEST_I8042_DRIVER_H

#include "devices/i8042.h"
#include "hypervisor/platform.h"
#include "tests/devices/harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdint.h>

/* Status register (read from port 0x64). */
#define STS_OBF	     0x01
#define STS_IBF	     0x02
#define STS_SYS	     0x04
#define STS_CMD	     0x08
#define STS_UNLOCKED 0x10
#define STS_AUX	     0x20

/* Command byte (controller RAM byte 0, commands 0x20/0x60). */
#define CTR_KBDINT 0x01
#define CTR_AUXINT 0x02
#define CTR_SYS	   0x04
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define CTR_XLATE  0x40

/* Each test program that includes this has one harness and one controller, "kbc". */
static struct harness h;
static void *kbc;

static inline int kbc_setup(void **state)
{
	harness_init(&h, 1 * MiB);
	harness_add(&h, "i8042", "kbc", NULL);
	kbc = machine_device(&h.m, "kbc");
	assert_non_null(kbc);
	return 0;
}

static inline int kbc_teardown(void **state)
{
	harness_fini(&h);
	return 0;
}

static inline uint8_t status(void)
{
	return hinb(&h, PORT_I8042_CMD);
}

/* Like i8042_wait_write(): the input buffer must be empty first. */
static inline void cmd(uint8_t c)
{
	assert_false(status() & STS_IBF);
	houtb(&h, PORT_I8042_CMD, c);
}

static inline void dat(uint8_t v)
{
	assert_false(status() & STS_IBF);
	houtb(&h, PORT_I8042_DATA, v);
}

/* Reads the next byte and checks which device it came from. */
static inline void expect(uint8_t want, bool aux)
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

static inline void expect_seq(const uint8_t *want, size_t n, bool aux)
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

static inline void expect_empty(void)
{
	assert_false(status() & STS_OBF);
}

/* i8042_flush(): at most 16 bytes, or Linux gives up on the controller. */
static inline int flush(void)
{
	int n = 0;
	while (status() & STS_OBF) {
		hinb(&h, PORT_I8042_DATA);
		if (++n > 16)
			fail_msg("more than 16 bytes to flush");
	}
	return n;
}

static inline void cmd_data(uint8_t c, uint8_t v)
{
	cmd(c);
	dat(v);
}

static inline uint8_t read_ctr(void)
{
	cmd(0x20);
	assert_true(status() & STS_OBF);
	return hinb(&h, PORT_I8042_DATA);
}

static inline void write_ctr(uint8_t v)
{
	cmd_data(0x60, v);
}

static inline void kbd_cmd(uint8_t v)
{
	dat(v);
}

static inline void aux_cmd(uint8_t v)
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
static inline void kbd_ack(uint8_t v)
{
	kbd_cmd(v);
	expect(0xfa, false);
}

static inline void aux_ack(uint8_t v)
{
	aux_cmd(v);
	expect(0xfa, true);
}

#endif
