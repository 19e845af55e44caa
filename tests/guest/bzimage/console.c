/* The guest's printf on the COM1 console (../common/console.c), with the conversions the checks
 * use (%s %c %d %u %x with l/ll/z, width and zero padding). */
#include "guest.h"

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
		console_putc(pad);
	while (n)
		console_putc(buf[--n]);
}

void kvprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			console_putc(*fmt);
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
			console_putc((char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			int len = (int)strlen(s);

			for (int i = len; i < width; i++)
				console_putc(' ');
			console_puts(s);
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
			console_putc('%');
			break;
		case '\0':
			return;
		default:
			console_putc('%');
			console_putc(*fmt);
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
