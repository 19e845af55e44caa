/* 16550A register layout (National Semiconductor PC16550D) and COM1's place in a PC, for the
 * test guests' console and the programs that test the UART itself. */
#ifndef GUEST_COMMON_UART16550_H
#define GUEST_COMMON_UART16550_H

#define COM1_BASE 0x3f8
#define COM1_IRQ  4

/* Register offsets; DLL/DLM replace RBR/THR and IER while LCR.DLAB is set. */
#define UART_RBR 0 /* read: receive buffer */
#define UART_THR 0 /* write: transmit holding */
#define UART_DLL 0
#define UART_IER 1
#define UART_DLM 1
#define UART_IIR 2 /* read: interrupt identification */
#define UART_FCR 2 /* write: FIFO control */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_RDA	 0x01 /* received data available (and character timeout) */
#define IER_THRE 0x02 /* transmit holding register empty */
#define IER_RLS	 0x04 /* receiver line status */
#define IER_MS	 0x08 /* modem status */

#define IIR_NONE    0x01 /* bit 0 set: no interrupt pending */
#define IIR_ID_MASK 0x0e
#define IIR_MS	    0x00
#define IIR_THRE    0x02
#define IIR_RDA	    0x04
#define IIR_RLS	    0x06
#define IIR_CTI	    0x0c
#define IIR_FIFO    0xc0

#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define FCR_TRIG_1   0x00
#define FCR_TRIG_4   0x40
#define FCR_TRIG_8   0x80
#define FCR_TRIG_14  0xc0

#define LCR_8N1	 0x03
#define LCR_DLAB 0x80

#define MCR_DTR	 0x01
#define MCR_RTS	 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR	 0x01
#define LSR_OE	 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI	0x40
#define MSR_DCD 0x80

#endif
