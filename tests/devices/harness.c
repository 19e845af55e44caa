/* Device test harness: recorders for interrupts and requests, bus helpers. */
#include "tests/devices/harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

static void record_irq(void *opaque, unsigned gsi, bool level)
{
	struct harness *h = opaque;
	assert_true(gsi < HARNESS_IRQS);
	if (level && !h->irq_level[gsi])
		h->irq_raised[gsi]++;
	h->irq_level[gsi] = level;
}

static void record_request(void *opaque, enum machine_request req, int status)
{
	struct harness *h = opaque;
	h->requests++;
	h->last_request = req;
	h->last_status = status;
}

int harness_init(struct harness *h, uint64_t ram)
{
	memset(h, 0, sizeof(*h));
	assert_int_equal(machine_init(&h->m), 0);
	assert_int_equal(machine_alloc_ram(&h->m, ram, false), 0);
	h->m.set_irq = record_irq;
	h->m.irq_opaque = h;
	h->m.request = record_request;
	h->m.req_opaque = h;
	h->m.cpus = 1;
	return 0;
}

void harness_fini(struct harness *h)
{
	machine_destroy_devices(&h->m);
	machine_free_ram(&h->m);
	machine_destroy(&h->m);
}

void harness_add(struct harness *h, const char *model, const char *id, const char *args)
{
	struct devargs a = { 0 };
	if (args)
		assert_int_equal(devargs_parse(&a, args), 0);
	assert_int_equal(machine_add_device(&h->m, model, id, &a), 0);
}

static void stop_loop(void *opaque)
{
	evloop_stop(opaque);
}

void harness_run(struct harness *h, unsigned ms)
{
	struct evtimer *t = evtimer_new(h->m.loop, stop_loop, h->m.loop);
	assert_non_null(t);
	evtimer_arm(t, (uint64_t)ms * 1000000ull, 0);
	evloop_run(h->m.loop);
	evtimer_free(t);
}

bool harness_run_until(struct harness *h, unsigned ms, bool (*cond)(void *ctx), void *ctx)
{
	uint64_t deadline = clock_ns() + (uint64_t)ms * 1000000ull;
	while (!cond(ctx)) {
		if (clock_ns() >= deadline)
			return false;
		harness_run(h, 1);
	}
	return true;
}

uint8_t hinb(struct harness *h, uint16_t port)
{
	return (uint8_t)bus_read_val(h->m.pio, port, 1);
}

uint16_t hinw(struct harness *h, uint16_t port)
{
	return (uint16_t)bus_read_val(h->m.pio, port, 2);
}

uint32_t hinl(struct harness *h, uint16_t port)
{
	return (uint32_t)bus_read_val(h->m.pio, port, 4);
}

void houtb(struct harness *h, uint16_t port, uint8_t v)
{
	bus_write_val(h->m.pio, port, v, 1);
}

void houtw(struct harness *h, uint16_t port, uint16_t v)
{
	bus_write_val(h->m.pio, port, v, 2);
}

void houtl(struct harness *h, uint16_t port, uint32_t v)
{
	bus_write_val(h->m.pio, port, v, 4);
}

uint64_t hmmio_read(struct harness *h, uint64_t addr, unsigned size)
{
	return bus_read_val(h->m.mmio, addr, size);
}

void hmmio_write(struct harness *h, uint64_t addr, uint64_t v, unsigned size)
{
	bus_write_val(h->m.mmio, addr, v, size);
}

void *hram(struct harness *h, uint64_t gpa, uint64_t len)
{
	void *p = gpa_to_hva(&h->m.mem, gpa, len);
	assert_non_null(p);
	return p;
}
