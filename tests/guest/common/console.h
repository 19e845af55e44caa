/* The test guests' console: COM1's 16550A at 115200 8N1, polled, no interrupts. Each guest puts
 * its own printf on top. */
#ifndef GUEST_COMMON_CONSOLE_H
#define GUEST_COMMON_CONSOLE_H

/* 115200 8N1, FIFOs on, DTR and RTS up, no interrupts. */
void console_init(void);
void console_putc(char c); /* '\n' goes out as "\r\n" */
void console_puts(const char *s);
/* Waits until the transmitter is empty (every byte handed on). */
void console_flush(void);

#endif
