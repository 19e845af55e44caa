/* The 16550A UART's saved state: registers, both FIFOs in order, the pending interrupts and
 * the character timeout; and pausing it (no input, no output, the timeout held). */
#include "devices/uart16550_int.h"

#include "devices/chardev.h"
#include "hypervisor/evloop.h"
#include "hypervisor/platform.h"

#include <errno.h>
#include <string.h>

static void fifo_save(const struct fifo *f, struct vmstate_out *out, const char *data,
		      const char *err)
{
	uint8_t d[UART_FIFO_SIZE], e[UART_FIFO_SIZE];
	for (unsigned i = 0; i < f->count; i++) {
		d[i] = f->data[(f->head + i) % UART_FIFO_SIZE];
		e[i] = f->err[(f->head + i) % UART_FIFO_SIZE];
	}
	vmstate_put_bytes(out, data, d, f->count);
	if (err)
		vmstate_put_bytes(out, err, e, f->count);
}

/* Every register, both FIFOs in order, the pending interrupts and how
 * long the character timeout has to go. The backend is the settings'. */
void uart16550_save(void *state, struct vmstate_out *out)
{
	struct uart16550 *u = state;
	pthread_mutex_lock(&u->lock);
	uint64_t left = 0;
	if (u->paused) {
		left = u->timeout_at ? u->timeout_left : 0;
	} else if (u->timeout_at) {
		uint64_t now = clock_ns();
		left = u->timeout_at > now ? u->timeout_at - now : 1;
	}
	vmstate_put_u64(out, "ier", u->ier);
	vmstate_put_u64(out, "lcr", u->lcr);
	vmstate_put_u64(out, "mcr", u->mcr);
	vmstate_put_u64(out, "scr", u->scr);
	vmstate_put_u64(out, "fcr", u->fcr);
	vmstate_put_u64(out, "divisor", u->divisor);
	vmstate_put_u64(out, "rbr", u->rbr);
	vmstate_put_u64(out, "lsr_err", u->lsr_err);
	vmstate_put_bool(out, "fifo_err", u->fifo_err);
	vmstate_put_u64(out, "msr_delta", u->msr_delta);
	vmstate_put_bool(out, "thr_ipending", u->thr_ipending);
	vmstate_put_bool(out, "timeout_pending", u->timeout_pending);
	vmstate_put_u64(out, "timeout_ns", left);
	fifo_save(&u->rx, out, "rx", "rx_err");
	fifo_save(&u->tx, out, "tx", NULL);
	pthread_mutex_unlock(&u->lock);
}

/* A FIFO's bytes into f: at most `max` of them. */
static int fifo_load(struct fifo *f, struct vmstate_section *in, const char *field, unsigned max)
{
	size_t n;
	const uint8_t *p = vmstate_get_blob(in, field, UART_FIFO_SIZE, &n);
	if (!p)
		return -EINVAL;
	if (n > max)
		return vmstate_fail(in, "%s: %zu characters where the FIFO holds %u", field, n,
				    max);
	fifo_clear(f);
	for (size_t i = 0; i < n; i++)
		fifo_push(f, p[i], 0);
	return 0;
}

int uart16550_load(void *state, struct vmstate_section *in)
{
	struct uart16550 *u = state;
	struct uart16550 n; /* the registers, checked before u changes */
	uint64_t left;
	size_t nerr;
	int r;
	memset(&n, 0, sizeof(n));
	if ((r = vmstate_get_u8(in, "ier", 0x0f, &n.ier)) < 0 ||
	    (r = vmstate_get_u8(in, "lcr", UINT8_MAX, &n.lcr)) < 0 ||
	    (r = vmstate_get_u8(in, "mcr", 0x1f, &n.mcr)) < 0 ||
	    (r = vmstate_get_u8(in, "scr", UINT8_MAX, &n.scr)) < 0 ||
	    (r = vmstate_get_u8(in, "fcr", UINT8_MAX, &n.fcr)) < 0 ||
	    (r = vmstate_get_u16(in, "divisor", UINT16_MAX, &n.divisor)) < 0 ||
	    (r = vmstate_get_u8(in, "rbr", UINT8_MAX, &n.rbr)) < 0 ||
	    (r = vmstate_get_u8(in, "lsr_err", LSR_ERRORS, &n.lsr_err)) < 0 ||
	    (r = vmstate_get_bool(in, "fifo_err", &n.fifo_err)) < 0 ||
	    (r = vmstate_get_u8(in, "msr_delta", 0x0f, &n.msr_delta)) < 0 ||
	    (r = vmstate_get_bool(in, "thr_ipending", &n.thr_ipending)) < 0 ||
	    (r = vmstate_get_bool(in, "timeout_pending", &n.timeout_pending)) < 0 ||
	    (r = vmstate_get_u64(in, "timeout_ns", UINT64_MAX, &left)) < 0)
		return r;
	if (n.fcr & (uint8_t) ~(UART_FCR_ENABLE | UART_FCR_DMA | UART_FCR_TRIGGER_MASK) ||
	    (n.fcr && !(n.fcr & UART_FCR_ENABLE)))
		return vmstate_fail(in, "fcr: 0x%02x is not a FIFO mode the UART keeps", n.fcr);
	if (n.lsr_err & ~LSR_ERRORS)
		return vmstate_fail(in, "lsr_err: 0x%02x has bits that are no errors", n.lsr_err);
	if ((r = fifo_load(&n.rx, in, "rx", capacity(&n))) < 0 ||
	    (r = fifo_load(&n.tx, in, "tx", capacity(&n))) < 0)
		return r;
	const uint8_t *err = vmstate_get_blob(in, "rx_err", UART_FIFO_SIZE, &nerr);
	if (!err)
		return -EINVAL;
	if (nerr != n.rx.count)
		return vmstate_fail(in, "rx_err: %zu entries for %u characters", nerr, n.rx.count);
	for (unsigned i = 0; i < nerr; i++) {
		if (err[i] & ~(UART_LSR_PE | UART_LSR_FE | UART_LSR_BI))
			return vmstate_fail(in, "rx_err: 0x%02x is no character error", err[i]);
		n.rx.err[i] = err[i];
	}
	uart16550_update_char_time(&n);
	bool timing = fifo_on(&n) && n.rx.count;
	if ((n.timeout_pending || left) && !timing)
		return vmstate_fail(in, "timeout_ns: a character timeout with no FIFO data");
	if (left > 4 * n.char_ns)
		return vmstate_fail(in, "timeout_ns: %llu ns is longer than four characters (%llu)",
				    (unsigned long long)left, (unsigned long long)(4 * n.char_ns));

	pthread_mutex_lock(&u->lock);
	u->ier = n.ier;
	u->lcr = n.lcr;
	u->mcr = n.mcr;
	u->scr = n.scr;
	u->fcr = n.fcr;
	u->divisor = n.divisor;
	u->rbr = n.rbr;
	u->lsr_err = n.lsr_err;
	u->fifo_err = n.fifo_err;
	u->msr_delta = n.msr_delta;
	u->thr_ipending = n.thr_ipending;
	u->timeout_pending = n.timeout_pending;
	u->rx = n.rx;
	u->tx = n.tx;
	u->char_ns = n.char_ns;
	u->msr_lines = uart16550_modem_lines(u);
	u->timeout_at = 0;
	u->timeout_left = left;
	if (left && !u->paused) {
		uint64_t now = clock_ns();
		u->timeout_at = now + left;
		uart16550_arm_timer(u, now);
	} else if (left) {
		u->timeout_at = 1; /* running; the resume sets the deadline */
	}
	if (!u->paused) {
		uart16550_tx_start(u);
		uart16550_update_irq(u);
	}
	pthread_mutex_unlock(&u->lock);
	if (!u->paused && !loopback(u))
		chardev_input_ready(u->chr);
	return 0;
}

void uart16550_pause(void *state, bool paused)
{
	struct uart16550 *u = state;
	pthread_mutex_lock(&u->lock);
	if (paused == u->paused) {
		pthread_mutex_unlock(&u->lock);
		return;
	}
	uint64_t now = clock_ns();
	if (paused) {
		if (u->timeout_at)
			u->timeout_left = u->timeout_at > now ? u->timeout_at - now : 1;
		if (u->timer_armed)
			evtimer_cancel(u->timer);
		u->timer_armed = false;
		u->paused = true;
		pthread_mutex_unlock(&u->lock);
		return;
	}
	u->paused = false;
	if (u->timeout_at) {
		u->timeout_at = now + u->timeout_left;
		uart16550_arm_timer(u, now);
	}
	uart16550_tx_start(u);
	uart16550_update_irq(u);
	bool input = !loopback(u);
	pthread_mutex_unlock(&u->lock);
	if (input)
		chardev_input_ready(u->chr); /* input held back while paused */
}
