/* The i8042 keyboard controller for the input guest programs (kbdecho, tablet): polled
 * command and data bytes with PIT timeouts, the way Linux's i8042.c talks to it. */
#ifndef GUEST_PROGS_KBC_H
#define GUEST_PROGS_KBC_H

#include "../lib/io.h"
#include "../lib/timer.h"
#include "../lib/types.h"

#define KBC_DATA   0x60
#define KBC_STATUS 0x64
#define KBC_CMD	   0x64

#define KBC_STS_OBF 0x01
#define KBC_STS_IBF 0x02
#define KBC_STS_AUX 0x20

#define KBC_CTR_KBDINT 0x01
#define KBC_CTR_AUXINT 0x02
#define KBC_CTR_SYS    0x04
#define KBC_CTR_KBDDIS 0x10
#define KBC_CTR_AUXDIS 0x20
#define KBC_CTR_XLATE  0x40

#define KBC_TIMEOUT_MS 500

/* Waits for the input buffer to empty; false after the timeout. */
static inline bool kbc_wait_write(void)
{
	struct timeout t;

	timeout_start(&t, KBC_TIMEOUT_MS);
	while (inb(KBC_STATUS) & KBC_STS_IBF)
		if (timeout_expired(&t))
			return false;
	return true;
}

/* The next byte of the output buffer (from either device), or -1 after the timeout. */
static inline int kbc_read(void)
{
	struct timeout t;

	timeout_start(&t, KBC_TIMEOUT_MS);
	while (!(inb(KBC_STATUS) & KBC_STS_OBF))
		if (timeout_expired(&t))
			return -1;
	return inb(KBC_DATA);
}

static inline bool kbc_command(u8 cmd)
{
	if (!kbc_wait_write())
		return false;
	outb(KBC_CMD, cmd);
	return true;
}

/* A byte to the keyboard (or, after 0xd4, to the mouse, or a command's argument). */
static inline bool kbc_data(u8 v)
{
	if (!kbc_wait_write())
		return false;
	outb(KBC_DATA, v);
	return true;
}

/* Reads and drops what is waiting; returns how many bytes (at most 32). */
static inline unsigned kbc_flush(void)
{
	unsigned n = 0;

	while (n < 32 && (inb(KBC_STATUS) & KBC_STS_OBF)) {
		inb(KBC_DATA);
		n++;
		delay_ms(1);
	}
	return n;
}

static inline int kbc_read_ctr(void)
{
	return kbc_command(0x20) ? kbc_read() : -1;
}

static inline bool kbc_write_ctr(u8 v)
{
	return kbc_command(0x60) && kbc_data(v);
}

/* A byte to the mouse through the controller (0xd4). */
static inline bool kbc_aux(u8 v)
{
	return kbc_command(0xd4) && kbc_data(v);
}

#endif
