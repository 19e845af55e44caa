/* The COM1 console of the guest programs: polled 16550 output and printf. */
#include "uart.h"
#include "format.h"
#include "io.h"

void console_init(void)
{
	outb(COM1_BASE + UART_IER, 0);
	outb(COM1_BASE + UART_LCR, LCR_DLAB);
	outb(COM1_BASE + UART_DLL, 1);
	outb(COM1_BASE + UART_DLM, 0);
	outb(COM1_BASE + UART_LCR, LCR_8N1);
	outb(COM1_BASE + UART_FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX);
	outb(COM1_BASE + UART_MCR, MCR_DTR | MCR_RTS);
}

static void raw_putc(char c)
{
	/* No time limit: a VMM may hold THRE clear while its terminal is
	 * slow (flow control), and the runner's timeout catches a hang. */
	while (!(inb(COM1_BASE + UART_LSR) & LSR_THRE))
		pause();
	outb(COM1_BASE + UART_THR, (u8)c);
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

static void console_sink(char c, void *ctx)
{
	(void)ctx;
	console_putc(c);
}

int vprintf(const char *fmt, va_list ap)
{
	return vformat(console_sink, NULL, fmt, ap);
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

void console_flush(void)
{
	while (!(inb(COM1_BASE + UART_LSR) & LSR_TEMT))
		pause();
}
