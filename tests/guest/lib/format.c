/* printf-style formatting for the guest programs (no libc): a small engine
 * writing through a sink, used by the console and by snprintf. */
#include "format.h"
#include "div64.h"

struct spec {
	bool zero, left;
	int width;
	int size; /* 0 int, 1 long, 2 long long */
};

static int emit(format_sink sink, void *ctx, char c)
{
	sink(c, ctx);
	return 1;
}

static int pad(format_sink sink, void *ctx, char c, int n)
{
	int done = 0;

	while (n-- > 0)
		done += emit(sink, ctx, c);
	return done;
}

static int put_str(format_sink sink, void *ctx, const struct spec *sp, const char *s)
{
	int len = 0, done = 0;

	if (!s)
		s = "(null)";
	while (s[len])
		len++;
	if (!sp->left)
		done += pad(sink, ctx, ' ', sp->width - len);
	for (int i = 0; i < len; i++)
		done += emit(sink, ctx, s[i]);
	if (sp->left)
		done += pad(sink, ctx, ' ', sp->width - len);
	return done;
}

static int put_num(format_sink sink, void *ctx, const struct spec *sp, u64 v, unsigned base,
		   bool neg, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int n = 0, done = 0, len;

	do {
		u64 rem;

		v = udivmod64(v, base, &rem);
		buf[n++] = digits[rem];
	} while (v);
	len = n + (neg ? 1 : 0);
	if (!sp->left && !sp->zero)
		done += pad(sink, ctx, ' ', sp->width - len);
	if (neg)
		done += emit(sink, ctx, '-');
	if (!sp->left && sp->zero)
		done += pad(sink, ctx, '0', sp->width - len);
	while (n)
		done += emit(sink, ctx, buf[--n]);
	if (sp->left)
		done += pad(sink, ctx, ' ', sp->width - len);
	return done;
}

static u64 arg_unsigned(const struct spec *sp, va_list *ap)
{
	if (sp->size == 2)
		return va_arg(*ap, unsigned long long);
	if (sp->size == 1)
		return va_arg(*ap, unsigned long);
	return va_arg(*ap, unsigned int);
}

static s64 arg_signed(const struct spec *sp, va_list *ap)
{
	if (sp->size == 2)
		return va_arg(*ap, long long);
	if (sp->size == 1)
		return va_arg(*ap, long);
	return va_arg(*ap, int);
}

int vformat(format_sink sink, void *ctx, const char *fmt, va_list ap)
{
	va_list args;
	int done = 0;

	va_copy(args, ap);
	for (; *fmt; fmt++) {
		struct spec sp = {0};

		if (*fmt != '%') {
			done += emit(sink, ctx, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '0')
				sp.zero = true;
			else if (*fmt == '-')
				sp.left = true;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			sp.width = sp.width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			sp.size++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			s64 v = arg_signed(&sp, &args);

			done += put_num(sink, ctx, &sp, v < 0 ? -(u64)v : (u64)v, 10, v < 0, false);
			break;
		}
		case 'u':
			done += put_num(sink, ctx, &sp, arg_unsigned(&sp, &args), 10, false, false);
			break;
		case 'x':
		case 'X':
			done += put_num(sink, ctx, &sp, arg_unsigned(&sp, &args), 16, false,
					*fmt == 'X');
			break;
		case 'p':
			sp.zero = true;
			sp.width = 8;
			done += put_str(sink, ctx, &(struct spec){0}, "0x");
			done += put_num(sink, ctx, &sp, (uintptr_t)va_arg(args, void *), 16, false,
					false);
			break;
		case 'c':
			done += emit(sink, ctx, (char)va_arg(args, int));
			break;
		case 's':
			done += put_str(sink, ctx, &sp, va_arg(args, const char *));
			break;
		case '%':
			done += emit(sink, ctx, '%');
			break;
		case '\0':
			fmt--; /* a lone '%' at the end */
			break;
		default:
			done += emit(sink, ctx, '%');
			done += emit(sink, ctx, *fmt);
			break;
		}
	}
	va_end(args);
	return done;
}

struct buf_ctx {
	char *buf;
	size_t size, len;
};

static void buf_sink(char c, void *ctx)
{
	struct buf_ctx *b = ctx;

	if (b->len + 1 < b->size)
		b->buf[b->len] = c;
	b->len++;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct buf_ctx b = {buf, size, 0};
	int n = vformat(buf_sink, &b, fmt, ap);

	if (size)
		buf[b.len < size ? b.len : size - 1] = '\0';
	return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
