/* The 16550A UART's state shared by its register model (uart16550.c) and its saved
 * state (uart16550_state.c); nothing outside the two includes it. */
#ifndef OSIO_UART16550_INT_H
#define OSIO_UART16550_INT_H

#include "devices/uart16550.h"

#include "devices/device.h"
#include "hypervisor/machine.h"
#include "hypervisor/vmstate.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define LSR_ERRORS (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)

struct fifo {
	uint8_t data[UART_FIFO_SIZE];
	uint8_t err[UART_FIFO_SIZE]; /* PE/FE/BI of each character */
	unsigned head, count;
};

struct uart16550 {
	struct machine *m;
	/* Port accesses come from vCPU threads; backend input, output room
	 * and the timeout timer from the event loop. */
	pthread_mutex_t lock;
	char name[32];
	uint16_t base;
	unsigned irq;
	struct irq_line line;
	struct chardev *chr;
	struct evtimer *timer;

	uint8_t ier, lcr, mcr, scr;
	uint8_t fcr; /* enable, DMA mode and trigger bits as last programmed */
	uint16_t divisor;
	uint8_t rbr;	   /* the character last read */
	uint8_t lsr_err;   /* OE, PE, FE, BI until LSR is read */
	bool fifo_err;	   /* LSR bit 7 */
	uint8_t msr_lines; /* MSR bits 4-7 */
	uint8_t msr_delta; /* MSR bits 0-3, until MSR is read */
	bool thr_ipending; /* the THRE interrupt, latched */
	bool timeout_pending;
	struct fifo rx, tx;

	uint64_t char_ns;    /* one character on the line */
	uint64_t timeout_at; /* character timeout deadline; 0: none running */
	bool timer_armed;
	uint64_t timer_at; /* when the armed timer fires */
	bool irq_level;
	/* Paused: no input taken, no output moved, the timeout stands with
	 * timeout_left to go and the IRQ line stays as it is. */
	bool paused;
	uint64_t timeout_left;
};

static inline bool fifo_on(const struct uart16550 *u)
{
	return u->fcr & UART_FCR_ENABLE;
}

static inline bool loopback(const struct uart16550 *u)
{
	return u->mcr & UART_MCR_LOOP;
}

/* 16 in FIFO mode; the 16450's single holding register otherwise. */
static inline unsigned capacity(const struct uart16550 *u)
{
	return fifo_on(u) ? UART_FIFO_SIZE : 1;
}

static inline void fifo_clear(struct fifo *f)
{
	f->head = f->count = 0;
}

static inline void fifo_push(struct fifo *f, uint8_t v, uint8_t err)
{
	unsigned i = (f->head + f->count) % UART_FIFO_SIZE;
	f->data[i] = v;
	f->err[i] = err;
	f->count++;
}

/* Recomputes char_ns from the line settings and divisor. */
void uart16550_update_char_time(struct uart16550 *u);
/* MSR bits 4-7 as the modem lines (or, in loopback, MCR) set them. */
uint8_t uart16550_modem_lines(const struct uart16550 *u);
/* Arms the timer for the character timeout due at timeout_at. */
void uart16550_arm_timer(struct uart16550 *u, uint64_t now);
/* Moves what the transmitter holds to the line (the backend, or the receiver in loopback). */
void uart16550_tx_start(struct uart16550 *u);
/* Sets the IRQ line from the pending interrupts. */
void uart16550_update_irq(struct uart16550 *u);

/* The device model's saved state (uart16550_state.c). */
void uart16550_save(void *state, struct vmstate_out *out);
int uart16550_load(void *state, struct vmstate_section *in);
void uart16550_pause(void *state, bool paused);

#endif
