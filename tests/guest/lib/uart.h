/* The COM1 console of the guest programs: the 16550A register layout
 * (../common/uart16550.h), polled output (../common/console.h) and printf. */
#ifndef GUEST_UART_H
#define GUEST_UART_H

#include "../common/console.h"
#include "../common/uart16550.h"
#include "types.h"

int printf(const char *fmt, ...) printf_like(1, 2);
int vprintf(const char *fmt, va_list ap);

#endif
