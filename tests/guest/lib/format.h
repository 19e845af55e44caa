/* printf-style formatting for the guest programs: %s %c %d %i %u %x %X %p
 * %%, the l and ll length modifiers, width, '0' and '-' flags. */
#ifndef GUEST_FORMAT_H
#define GUEST_FORMAT_H

#include "types.h"

typedef void (*format_sink)(char c, void *ctx);

/* Formats into the sink; returns the number of characters produced. */
int vformat(format_sink sink, void *ctx, const char *fmt, va_list ap);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) printf_like(3, 4);

#endif
