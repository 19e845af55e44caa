/* The guest's console: a polled 16550 on COM1 (no interrupts) and a small printf with the
 * conversions the checks use (%s %c %d %u %x with l/ll/z, width and zero padding). */
#include "guest.h"

#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20
#define LCR_DLAB 0x80

void serial_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + 0, 1); /* divisor 1: 115200 baud */
	outb(COM1 + 1, 0);
	outb(COM1 + UART_LCR, 0x03); /* 8 bits, no parity, 1 stop bit */
	outb(COM1 + UART_FCR, 0x07); /* FIFOs on and cleared */
	outb(COM1 + UART_MCR, 0x03); /* DTR, RTS; OUT2 off: no interrupt */
}

static void putc_raw(char ch)
{
	/* A missing UART reads 0xff, so this cannot spin forever. */
	while (!(inb(COM1 + UART_LSR) & LSR_THRE))
		;
	outb(COM1 + UART_THR, (uint8_t)ch);
}

static void kputc(char ch)
{
	if (ch == '\n')
		putc_raw('\r');
	putc_raw(ch);
}

void kputs(const char *s)
{
	while (*s)
		kputc(*s++);
}

static void put_number(unsigned long long v, unsigned base, bool neg, int width, char pad)
{
	char buf[24];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		buf[n++] = '-';
	for (int i = n; i < width; i++)
		kputc(pad);
	while (n)
		kputc(buf[--n]);
}

void kvprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			kputc(*fmt);
			continue;
		}
		fmt++;
		char pad = ' ';
		int width = 0, lng = 0;

		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'c':
			kputc((char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			int len = (int)strlen(s);

			for (int i = len; i < width; i++)
				kputc(' ');
			kputs(s);
			break;
		}
		case 'd': {
			long long v = lng ? va_arg(ap, long long) : va_arg(ap, int);

			put_number(v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v, 10,
				   v < 0, width, pad);
			break;
		}
		case 'u':
		case 'x': {
			unsigned long long v =
			    lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);

			put_number(v, *fmt == 'x' ? 16 : 10, false, width, pad);
			break;
		}
		case '%':
			kputc('%');
			break;
		case '\0':
			return;
		default:
			kputc('%');
			kputc(*fmt);
			break;
		}
	}
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}
