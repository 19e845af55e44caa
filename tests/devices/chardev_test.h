/* The guest's side of a 16550A on COM1 for the character backend tests: a harness per port,
 * the polled reads and writes a driver makes, and the host end's reads and writes. */
#ifndef OSIO_TEST_CHARDEV_TEST_H
#define OSIO_TEST_CHARDEV_TEST_H

#include "devices/chardev.h"
#include "devices/uart16550.h"
#include "tests/devices/harness.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COM1 0x3f8
#define IRQ  4

/* Where the tests put sockets and files; main() makes it with mkdtemp(). */
static char tmpdir[64];

static inline uint8_t reg(struct harness *h, unsigned r)
{
	return hinb(h, (uint16_t)(COM1 + r));
}

static inline void set(struct harness *h, unsigned r, uint8_t v)
{
	houtb(h, (uint16_t)(COM1 + r), v);
}

static inline struct harness *new_port(const char *backend, const char *path)
{
	struct harness *h = calloc(1, sizeof(*h));
	char args[256];
	assert_non_null(h);
	harness_init(h, 1 << 20);
	snprintf(args, sizeof(args), "base=0x3f8,irq=4,name=COM1,backend=%s%s%s", backend,
		 path ? ",path=" : "", path ? path : "");
	harness_add(h, "uart16550", "com1", args);
	/* What Linux sets up: 115200 8N1, FIFOs with trigger 8, OUT2. */
	set(h, UART_LCR, 0x83);
	set(h, UART_DLL, 1);
	set(h, UART_DLM, 0);
	set(h, UART_LCR, 0x03);
	set(h, UART_FCR,
	    UART_FCR_ENABLE | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT | UART_FCR_TRIGGER_8);
	set(h, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	return h;
}

static inline void free_port(struct harness *h)
{
	harness_fini(h);
	free(h);
}

static inline struct chardev *port_chardev(struct harness *h)
{
	return uart16550_chardev(machine_device(&h->m, "com1"));
}

/* The guest polls LSR before each byte, as SeaBIOS and early printk do. */
static inline void com_write(struct harness *h, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	for (size_t i = 0; i < n; i++) {
		unsigned spins = 0;
		while (!(reg(h, UART_LSR) & UART_LSR_THRE)) {
			assert_true(++spins < 5000);
			harness_run(h, 1);
		}
		set(h, UART_THR, p[i]);
	}
}

/* Reads n characters; their LSR error bits go to lsr (if not NULL). */
static inline void com_read(struct harness *h, uint8_t *buf, uint8_t *lsr, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned spins = 0;
		uint8_t s;
		while (!((s = reg(h, UART_LSR)) & UART_LSR_DR)) {
			assert_true(++spins < 5000);
			harness_run(h, 1);
		}
		assert_int_equal(s & UART_LSR_OE, 0);
		if (lsr)
			lsr[i] = s & (UART_LSR_BI | UART_LSR_FE | UART_LSR_PE);
		buf[i] = reg(h, UART_RBR);
	}
}

static inline void expect_guest_reads(struct harness *h, const char *s)
{
	uint8_t got[256];
	size_t n = strlen(s);
	assert_true(n <= sizeof(got));
	com_read(h, got, NULL, n);
	assert_memory_equal(got, s, n);
}

/* Reads exactly n bytes from a non-blocking fd, running the loop between. */
static inline void host_read(struct harness *h, int fd, void *buf, size_t n)
{
	size_t got = 0;
	unsigned spins = 0;
	while (got < n) {
		ssize_t r = read(fd, (uint8_t *)buf + got, n - got);
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		assert_true(r < 0 && errno == EAGAIN);
		assert_true(++spins < 5000);
		harness_run(h, 1);
	}
}

static inline void expect_host_reads(struct harness *h, int fd, const char *s)
{
	char got[256];
	size_t n = strlen(s);
	host_read(h, fd, got, n);
	assert_memory_equal(got, s, n);
}

static inline void host_write(int fd, const void *buf, size_t n)
{
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
}

static inline void sock_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

static inline uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 131 + (i >> 8));
}

#endif
