/* The test guests' console: polled output on COM1's 16550A, built into both guests. */
#include "console.h"
#include "ioport.h"
#include "uart16550.h"

void console_init(void)
{
	outb(COM1_BASE + UART_IER, 0);
	outb(COM1_BASE + UART_LCR, LCR_DLAB);
	outb(COM1_BASE + UART_DLL, 1); /* divisor 1: 115200 baud */
	outb(COM1_BASE + UART_DLM, 0);
	outb(COM1_BASE + UART_LCR, LCR_8N1);
	outb(COM1_BASE + UART_FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX);
	outb(COM1_BASE + UART_MCR, MCR_DTR | MCR_RTS); /* OUT2 off: no interrupt */
}

static inline void cpu_pause(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static void raw_putc(char c)
{
	/* No time limit: a VMM may hold THRE clear while its terminal is slow (flow control), and
	 * the runner's timeout catches a hang. A missing UART reads 0xff, so THRE is set. */
	while (!(inb(COM1_BASE + UART_LSR) & LSR_THRE))
		cpu_pause();
	outb(COM1_BASE + UART_THR, (uint8_t)c);
}

void console_putc(char c)
{
	if (c == '\n')
		raw_putc('\r');
	raw_putc(c);
}

void console_puts(const char *s)
{
	while (*s)
		console_putc(*s++);
}

void console_flush(void)
{
	while (!(inb(COM1_BASE + UART_LSR) & LSR_TEMT))
		cpu_pause();
}
