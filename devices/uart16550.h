/* The 16550A UART (PC COM1-COM4): register layout and bits (National
 * Semiconductor PC16550D), and what the worker and tests may ask of a port.
 * Device model "uart16550": base=0x3f8,irq=4,backend=stdio|pty|socket|file|none,
 * path=...(socket, file),name=COM1. */
#ifndef OSIO_UART16550_H
#define OSIO_UART16550_H

#include <stdint.h>

/* Register offsets from the base port. */
#define UART_RBR  0 /* read, DLAB=0: receiver buffer */
#define UART_THR  0 /* write, DLAB=0: transmitter holding register */
#define UART_DLL  0 /* DLAB=1: divisor latch, low byte */
#define UART_IER  1 /* DLAB=0: interrupt enable */
#define UART_DLM  1 /* DLAB=1: divisor latch, high byte */
#define UART_IIR  2 /* read: interrupt identification */
#define UART_FCR  2 /* write: FIFO control */
#define UART_LCR  3 /* line control */
#define UART_MCR  4 /* modem control */
#define UART_LSR  5 /* line status */
#define UART_MSR  6 /* modem status */
#define UART_SCR  7 /* scratch */
#define UART_REGS 8

#define UART_IER_RDI  0x01 /* received data available (and character timeout) */
#define UART_IER_THRI 0x02 /* transmitter holding register empty */
#define UART_IER_RLSI 0x04 /* receiver line status */
#define UART_IER_MSI  0x08 /* modem status */

#define UART_IIR_NO_INT	      0x01
#define UART_IIR_ID	      0x0e
#define UART_IIR_MSI	      0x00
#define UART_IIR_THRI	      0x02
#define UART_IIR_RDI	      0x04
#define UART_IIR_RLSI	      0x06
#define UART_IIR_CTI	      0x0c /* character timeout (FIFO mode) */
#define UART_IIR_FIFO_ENABLED 0xc0 /* both bits set in FIFO mode */

#define UART_FCR_ENABLE	      0x01
#define UART_FCR_CLEAR_RCVR   0x02
#define UART_FCR_CLEAR_XMIT   0x04
#define UART_FCR_DMA	      0x08
#define UART_FCR_TRIGGER_MASK 0xc0
#define UART_FCR_TRIGGER_1    0x00
#define UART_FCR_TRIGGER_4    0x40
#define UART_FCR_TRIGGER_8    0x80
#define UART_FCR_TRIGGER_14   0xc0

#define UART_LCR_WLEN_MASK 0x03 /* 5 + n data bits */
#define UART_LCR_STOP	   0x04 /* 2 stop bits (1.5 with 5 data bits) */
#define UART_LCR_PARITY	   0x08
#define UART_LCR_EPAR	   0x10
#define UART_LCR_SPAR	   0x20
#define UART_LCR_SBC	   0x40 /* set break */
#define UART_LCR_DLAB	   0x80

#define UART_MCR_DTR  0x01
#define UART_MCR_RTS  0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08 /* on a PC: gates the IRQ line */
#define UART_MCR_LOOP 0x10

#define UART_LSR_DR    0x01
#define UART_LSR_OE    0x02
#define UART_LSR_PE    0x04
#define UART_LSR_FE    0x08
#define UART_LSR_BI    0x10
#define UART_LSR_THRE  0x20
#define UART_LSR_TEMT  0x40
#define UART_LSR_FIFOE 0x80 /* an error somewhere in the receiver FIFO */

#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_CTS  0x10
#define UART_MSR_DSR  0x20
#define UART_MSR_RI   0x40
#define UART_MSR_DCD  0x80

#define UART_FIFO_SIZE 16
#define UART_CLOCK_HZ  1843200 /* the PC's 1.8432 MHz crystal: 115200 baud at divisor 1 */

struct uart16550;
struct chardev;

/* The character backend behind the port (for its path, e.g. the pty). */
struct chardev *uart16550_chardev(struct uart16550 *u);
/* "COM1", or whatever name= said (the device id by default). */
const char *uart16550_name(const struct uart16550 *u);
/* Nanoseconds one character takes on the line at the current divisor and
 * LCR framing (start + data + parity + stop bits). */
uint64_t uart16550_char_time_ns(struct uart16550 *u);

#endif
