/* The 16550A UART as the National Semiconductor PC16550D datasheet describes
 * it: registers, 16-byte FIFOs, interrupt priorities, character timeout,
 * loopback and modem lines; bytes go to and come from a chardev backend. */
#include "devices/uart16550_int.h"

#include "devices/chardev.h"
#include "devices/device.h"
#include "hypervisor/log.h"
#include "hypervisor/platform.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static unsigned rx_trigger(const struct uart16550 *u)
{
	static const unsigned levels[4] = {1, 4, 8, 14};
	return levels[u->fcr >> 6];
}

/* The data bits a character has (5-8); the rest are not sent. */
static uint8_t word_mask(const struct uart16550 *u)
{
	return (uint8_t)(0xff >> (3 - (u->lcr & UART_LCR_WLEN_MASK)));
}

static uint8_t fifo_pop(struct fifo *f)
{
	uint8_t v = f->data[f->head];
	f->head = (f->head + 1) % UART_FIFO_SIZE;
	f->count--;
	return v;
}

static bool rx_has_errors(const struct uart16550 *u)
{
	for (unsigned i = 0; i < u->rx.count; i++)
		if (u->rx.err[(u->rx.head + i) % UART_FIFO_SIZE])
			return true;
	return false;
}

/* Start bit, data bits, parity, stop bits (1, 1.5 or 2), counted in half
 * bits; a bit lasts 16 clocks times the divisor (0 counts as 65536). */
void uart16550_update_char_time(struct uart16550 *u)
{
	unsigned data = 5 + (u->lcr & UART_LCR_WLEN_MASK);
	unsigned half_bits = 2 * (1 + data + ((u->lcr & UART_LCR_PARITY) ? 1 : 0));
	if (!(u->lcr & UART_LCR_STOP))
		half_bits += 2;
	else
		half_bits += data == 5 ? 3 : 4;
	uint64_t div = u->divisor ? u->divisor : 65536;
	u->char_ns = (uint64_t)half_bits * div * 16 * 1000000000ull / (2ull * UART_CLOCK_HZ);
}

/* ---- interrupts ---- */

static uint8_t iir_id(const struct uart16550 *u)
{
	if ((u->ier & UART_IER_RLSI) && (u->lsr_err & LSR_ERRORS))
		return UART_IIR_RLSI;
	if (u->ier & UART_IER_RDI) {
		if (u->timeout_pending)
			return UART_IIR_CTI;
		if (u->rx.count && (!fifo_on(u) || u->rx.count >= rx_trigger(u)))
			return UART_IIR_RDI;
	}
	if ((u->ier & UART_IER_THRI) && u->thr_ipending)
		return UART_IIR_THRI;
	if ((u->ier & UART_IER_MSI) && u->msr_delta)
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

/* On a PC, OUT2 enables the buffer between INTR and the interrupt line. */
void uart16550_update_irq(struct uart16550 *u)
{
	if (u->paused)
		return; /* the line follows on resume */
	bool level = iir_id(u) != UART_IIR_NO_INT && (u->mcr & UART_MCR_OUT2);
	if (level != u->irq_level) {
		u->irq_level = level;
		irq_line_set(&u->line, level);
	}
}

/* ---- receiver ---- */

void uart16550_arm_timer(struct uart16550 *u, uint64_t now)
{
	u->timer_armed = true;
	u->timer_at = u->timeout_at;
	evtimer_arm(u->timer, u->timeout_at > now ? u->timeout_at - now : 1, 0);
}

/* Restarts the 4-character timeout after a character went into or out of
 * the receiver FIFO. The timer checks the deadline when it fires, so the
 * common case (a deadline moved later) costs no system call; a deadline
 * moved earlier (a faster line) re-arms it. */
static void timeout_restart(struct uart16550 *u)
{
	u->timeout_pending = false;
	if (!fifo_on(u) || !u->rx.count) {
		u->timeout_at = 0;
		return;
	}
	uint64_t now = clock_ns();
	u->timeout_at = now + 4 * u->char_ns;
	if (!u->timer_armed || u->timeout_at < u->timer_at)
		uart16550_arm_timer(u, now);
}

static void timeout_fired(void *opaque)
{
	struct uart16550 *u = opaque;
	pthread_mutex_lock(&u->lock);
	u->timer_armed = false;
	if (u->timeout_at && !u->paused) {
		uint64_t now = clock_ns();
		if (now < u->timeout_at) {
			uart16550_arm_timer(u, now);
		} else {
			u->timeout_at = 0;
			u->timeout_pending = fifo_on(u) && u->rx.count;
			uart16550_update_irq(u);
		}
	}
	pthread_mutex_unlock(&u->lock);
}

/* A character arrives from the line (backend or loopback), with its
 * PE/FE/BI bits. */
static void rx_char(struct uart16550 *u, uint8_t v, uint8_t err)
{
	v &= word_mask(u);
	if (u->rx.count < capacity(u)) {
		if (!u->rx.count)
			u->lsr_err |= err; /* at the top of the FIFO: shown now */
		fifo_push(&u->rx, v, err);
		if (err)
			u->fifo_err = true;
	} else {
		/* Overrun. In FIFO mode the character in the shift register
		 * is lost; a 16450 overwrites its holding register. */
		u->lsr_err |= UART_LSR_OE;
		if (!fifo_on(u)) {
			u->rx.data[u->rx.head] = v;
			u->rx.err[u->rx.head] = err;
			u->lsr_err |= err;
		}
	}
	timeout_restart(u);
}

static uint8_t rbr_read(struct uart16550 *u)
{
	if (!u->rx.count)
		return u->rbr;
	u->rbr = fifo_pop(&u->rx);
	if (u->rx.count)
		u->lsr_err |= u->rx.err[u->rx.head];
	timeout_restart(u);
	if (!loopback(u))
		chardev_input_ready(u->chr);
	return u->rbr;
}

/* ---- transmitter ---- */

/* Moves characters from the transmitter FIFO to the line: the backend (as
 * much as it takes; the rest waits for output_ready) or, in loopback, the
 * receiver. */
void uart16550_tx_start(struct uart16550 *u)
{
	bool had = u->tx.count != 0;
	while (u->tx.count) {
		if (loopback(u)) {
			rx_char(u, fifo_pop(&u->tx), 0);
			continue;
		}
		unsigned len = u->tx.count;
		if (len > UART_FIFO_SIZE - u->tx.head)
			len = UART_FIFO_SIZE - u->tx.head;
		size_t n = chardev_write(u->chr, &u->tx.data[u->tx.head], len);
		u->tx.head = (u->tx.head + (unsigned)n) % UART_FIFO_SIZE;
		u->tx.count -= (unsigned)n;
		if (n < len)
			break;
	}
	if (had && !u->tx.count)
		u->thr_ipending = true;
}

static void thr_write(struct uart16550 *u, uint8_t v)
{
	u->thr_ipending = false;
	/* Writing a full FIFO is undefined in the datasheet: dropped. The
	 * byte goes to the host whole, whatever the word length: the host
	 * end is no serial line, and a kernel booted without firmware has
	 * often not programmed LCR yet (QEMU passes the byte whole too).
	 * Loopback still cuts it to the word length (rx_char). */
	if (u->tx.count < capacity(u))
		fifo_push(&u->tx, v, 0);
	uart16550_tx_start(u);
}

/* ---- modem lines ---- */

uint8_t uart16550_modem_lines(const struct uart16550 *u)
{
	if (!loopback(u))
		return UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD; /* a connected device */
	uint8_t v = 0;
	if (u->mcr & UART_MCR_DTR)
		v |= UART_MSR_DSR;
	if (u->mcr & UART_MCR_RTS)
		v |= UART_MSR_CTS;
	if (u->mcr & UART_MCR_OUT1)
		v |= UART_MSR_RI;
	if (u->mcr & UART_MCR_OUT2)
		v |= UART_MSR_DCD;
	return v;
}

static void update_msr(struct uart16550 *u)
{
	uint8_t now = uart16550_modem_lines(u), changed = now ^ u->msr_lines;
	if (changed & UART_MSR_CTS)
		u->msr_delta |= UART_MSR_DCTS;
	if (changed & UART_MSR_DSR)
		u->msr_delta |= UART_MSR_DDSR;
	if (changed & UART_MSR_DCD)
		u->msr_delta |= UART_MSR_DDCD;
	if ((u->msr_lines & UART_MSR_RI) && !(now & UART_MSR_RI))
		u->msr_delta |= UART_MSR_TERI;
	u->msr_lines = now;
}

/* ---- registers ---- */

static void ier_write(struct uart16550 *u, uint8_t v)
{
	uint8_t old = u->ier;
	u->ier = v & 0x0f;
	/* Enabling THRE while the holding register is empty raises it, even
	 * if an IIR read cleared it before (Linux checks this at start-up,
	 * Windows toggles IER to get it). */
	if (!(old & UART_IER_THRI) && (u->ier & UART_IER_THRI) && !u->tx.count)
		u->thr_ipending = true;
}

static void fcr_write(struct uart16550 *u, uint8_t v)
{
	bool was_on = fifo_on(u), on = v & UART_FCR_ENABLE;
	uint8_t clear;
	if (on != was_on)
		clear = UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT; /* both FIFOs reset */
	else
		clear = on ? v & (UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT) : 0;
	/* The other bits are only programmed while FCR0 is set. */
	u->fcr = on ? v & (UART_FCR_ENABLE | UART_FCR_DMA | UART_FCR_TRIGGER_MASK) : 0;
	if (clear & UART_FCR_CLEAR_RCVR) {
		fifo_clear(&u->rx);
		u->fifo_err = false;
		timeout_restart(u);
		if (!loopback(u))
			chardev_input_ready(u->chr);
	}
	if (clear & UART_FCR_CLEAR_XMIT) {
		if (u->tx.count)
			u->thr_ipending = true;
		fifo_clear(&u->tx);
	}
}

static void lcr_write(struct uart16550 *u, uint8_t v)
{
	uint8_t old = u->lcr;
	u->lcr = v;
	uart16550_update_char_time(u);
	/* In loopback the break reaches our own receiver: one zero
	 * character with BI. Outside it, byte streams carry no break. */
	if ((v & UART_LCR_SBC) && !(old & UART_LCR_SBC) && loopback(u))
		rx_char(u, 0, UART_LSR_BI);
}

static void mcr_write(struct uart16550 *u, uint8_t v)
{
	uint8_t old = u->mcr;
	u->mcr = v & 0x1f;
	update_msr(u);
	if ((old ^ u->mcr) & UART_MCR_LOOP) {
		uart16550_tx_start(u); /* waiting characters take the new path */
		if (!loopback(u))
			chardev_input_ready(u->chr);
	}
}

static uint8_t lsr_read(struct uart16550 *u)
{
	uint8_t v = u->lsr_err;
	if (u->rx.count)
		v |= UART_LSR_DR;
	if (!u->tx.count)
		v |= UART_LSR_THRE | UART_LSR_TEMT;
	if (fifo_on(u) && u->fifo_err)
		v |= UART_LSR_FIFOE;
	u->lsr_err = 0;
	u->fifo_err = rx_has_errors(u);
	return v;
}

static uint8_t reg_read(struct uart16550 *u, unsigned off)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	uint8_t v;

	switch (off) {
	case UART_RBR:
		return dlab ? (uint8_t)u->divisor : rbr_read(u);
	case UART_IER:
		return dlab ? (uint8_t)(u->divisor >> 8) : u->ier;
	case UART_IIR:
		v = iir_id(u);
		if (v == UART_IIR_THRI)
			u->thr_ipending = false; /* reading IIR clears THRE */
		return v | (fifo_on(u) ? UART_IIR_FIFO_ENABLED : 0);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return lsr_read(u);
	case UART_MSR:
		v = u->msr_lines | u->msr_delta;
		u->msr_delta = 0;
		return v;
	default:
		return u->scr;
	}
}

static void reg_write(struct uart16550 *u, unsigned off, uint8_t v)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (off) {
	case UART_THR:
		if (dlab) {
			u->divisor = (uint16_t)((u->divisor & 0xff00) | v);
			uart16550_update_char_time(u);
		} else {
			thr_write(u, v);
		}
		break;
	case UART_IER:
		if (dlab) {
			u->divisor = (uint16_t)((u->divisor & 0x00ff) | (v << 8));
			uart16550_update_char_time(u);
		} else {
			ier_write(u, v);
		}
		break;
	case UART_FCR:
		fcr_write(u, v);
		break;
	case UART_LCR:
		lcr_write(u, v);
		break;
	case UART_MCR:
		mcr_write(u, v);
		break;
	case UART_LSR:
	case UART_MSR:
		break; /* factory test only: ignored */
	default:
		u->scr = v;
		break;
	}
}

/* Wider accesses reach consecutive registers a byte at a time, as the
 * chipset splits them on an 8-bit ISA device. */
static uint64_t uart_io_read(void *opaque, uint64_t offset, unsigned size)
{
	struct uart16550 *u = opaque;
	uint64_t v = 0;
	pthread_mutex_lock(&u->lock);
	for (unsigned i = 0; i < size && i < 8; i++) {
		uint64_t b = offset + i < UART_REGS ? reg_read(u, (unsigned)(offset + i)) : 0xff;
		v |= b << (8 * i);
	}
	uart16550_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return v;
}

static void uart_io_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct uart16550 *u = opaque;
	pthread_mutex_lock(&u->lock);
	for (unsigned i = 0; i < size && i < 8 && offset + i < UART_REGS; i++)
		reg_write(u, (unsigned)(offset + i), (uint8_t)(value >> (8 * i)));
	uart16550_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

static const struct bus_ops uart_ops = {
    .read = uart_io_read,
    .write = uart_io_write,
};

/* ---- backend side (event loop thread) ---- */

static size_t uart_receive(void *opaque, const uint8_t *buf, size_t len)
{
	struct uart16550 *u = opaque;
	size_t n = 0;
	pthread_mutex_lock(&u->lock);
	/* In loopback the receiver is cut off from the line: input waits,
	 * as it does while the VM is paused (offered again on resume). */
	while (!loopback(u) && !u->paused && n < len && u->rx.count < capacity(u))
		rx_char(u, buf[n++], 0);
	uart16550_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

static bool uart_receive_break(void *opaque)
{
	struct uart16550 *u = opaque;
	pthread_mutex_lock(&u->lock);
	bool ok = !loopback(u) && !u->paused && u->rx.count < capacity(u);
	if (ok) {
		rx_char(u, 0, UART_LSR_BI);
		uart16550_update_irq(u);
	}
	pthread_mutex_unlock(&u->lock);
	return ok;
}

static void uart_output_ready(void *opaque)
{
	struct uart16550 *u = opaque;
	pthread_mutex_lock(&u->lock);
	if (!u->paused) { /* else the resume sends what waits */
		uart16550_tx_start(u);
		uart16550_update_irq(u);
	}
	pthread_mutex_unlock(&u->lock);
}

static const struct chardev_frontend uart_frontend = {
    .receive = uart_receive,
    .receive_break = uart_receive_break,
    .output_ready = uart_output_ready,
};

/* ---- device model ---- */

/* The datasheet's master reset. The divisor latch and the scratch
 * register keep their contents. */
static void reset_locked(struct uart16550 *u)
{
	u->ier = u->lcr = u->mcr = u->fcr = 0;
	u->lsr_err = 0;
	u->fifo_err = false;
	u->thr_ipending = false;
	u->timeout_pending = false;
	u->timeout_at = 0;
	fifo_clear(&u->rx);
	fifo_clear(&u->tx);
	u->msr_lines = uart16550_modem_lines(u);
	u->msr_delta = 0;
	uart16550_update_char_time(u);
	uart16550_update_irq(u);
	chardev_input_ready(u->chr);
}

static void uart_reset(void *state)
{
	struct uart16550 *u = state;
	pthread_mutex_lock(&u->lock);
	reset_locked(u);
	pthread_mutex_unlock(&u->lock);
}

static const char *const uart_keys[] = {"base", "irq", "backend", "path", "name", NULL};

static int uart_create(struct machine *m, const char *id, const struct devargs *args, void **state)
{
	const char *name = devargs_get(args, "name");
	const char *backend = devargs_get(args, "backend");
	uint64_t base, irq;
	int r;

	r = devargs_check_keys(args, "uart16550", uart_keys);
	if (r < 0)
		return r;
	if (!name || !*name)
		name = id;
	if (!devargs_get(args, "base") ||
	    devargs_u64(args, "base", 0, 0x10000 - UART_REGS, &base) < 0) {
		log_error(
		    "uart16550 %s: base= must be an I/O port from 0 to 0xfff8 (COM1 is 0x3f8)",
		    name);
		return -EINVAL;
	}
	if (!devargs_get(args, "irq") || devargs_u64(args, "irq", 0, IOAPIC_PINS - 1, &irq) < 0) {
		log_error("uart16550 %s: irq= must be an interrupt line from 0 to %d (COM1 uses 4)",
			  name, IOAPIC_PINS - 1);
		return -EINVAL;
	}

	struct uart16550 *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->m = m;
	snprintf(u->name, sizeof(u->name), "%s", name);
	u->base = (uint16_t)base;
	u->irq = (unsigned)irq;
	if ((r = machine_irq_line(m, u->irq, &u->line)) < 0) {
		log_error("%s: cannot connect to IRQ %u", u->name, u->irq);
		free(u);
		return r;
	}
	u->divisor = 12; /* 9600 baud until the guest programs it */
	pthread_mutex_init(&u->lock, NULL);
	u->timer = evtimer_new(m->loop, timeout_fired, u);
	if (!u->timer) {
		r = -ENOMEM;
		goto err_lock;
	}
	r = chardev_open(m, u->name, backend ? backend : "none", devargs_get(args, "path"),
			 &uart_frontend, u, &u->chr);
	if (r < 0)
		goto err_timer;
	reset_locked(u);
	r = bus_register(m->pio, u->base, UART_REGS, &uart_ops, u, u->name);
	if (r < 0) {
		if (r != -EEXIST) /* the bus names the overlap itself */
			log_error("uart16550 %s: cannot claim ports 0x%x-0x%x: %s", u->name,
				  u->base, u->base + UART_REGS - 1, strerror(-r));
		goto err_chr;
	}
	*state = u;
	return 0;

err_chr:
	chardev_close(u->chr);
err_timer:
	evtimer_free(u->timer);
err_lock:
	pthread_mutex_destroy(&u->lock);
	irq_line_release(&u->line);
	free(u);
	return r;
}

static void uart_destroy(void *state)
{
	struct uart16550 *u = state;
	bus_unregister(u->m->pio, u->base, u);
	irq_line_release(&u->line);
	chardev_close(u->chr);
	evtimer_free(u->timer);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

struct chardev *uart16550_chardev(struct uart16550 *u)
{
	return u->chr;
}

const char *uart16550_name(const struct uart16550 *u)
{
	return u->name;
}

uint64_t uart16550_char_time_ns(struct uart16550 *u)
{
	pthread_mutex_lock(&u->lock);
	uint64_t ns = u->char_ns;
	pthread_mutex_unlock(&u->lock);
	return ns;
}

static const struct device_model uart16550_model = {
    .name = "uart16550",
    .description = "16550A UART (a COM port)",
    .create = uart_create,
    .reset = uart_reset,
    .destroy = uart_destroy,
    .state_version = 1,
    .save = uart16550_save,
    .load = uart16550_load,
    .pause = uart16550_pause,
};
DEVICE_MODEL(uart16550_model);
