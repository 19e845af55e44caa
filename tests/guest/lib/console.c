/* printf and vprintf of the guest programs, on the COM1 console (../common/console.c). */
#include "uart.h"
#include "format.h"

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
