/* The POST diagnostic port (0x80): firmware writes progress codes to it and
 * Linux writes to it as an I/O delay. Writes are kept (the last code is
 * what a POST card would show) and traced with OSIO_TRACE=dev; reads return
 * the last code, as on most chipsets. */
#include "devices/device.h"

#include "hypervisor/log.h"
#include "hypervisor/vmstate.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

struct port80 {
	struct machine *m;
	uint16_t base;
	atomic_uint last;
};

static uint64_t port80_read(void *opaque, uint64_t off, unsigned size)
{
	struct port80 *p = opaque;
	return atomic_load(&p->last) & 0xff;
}

static void port80_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct port80 *p = opaque;
	atomic_store(&p->last, (unsigned)(val & 0xff));
	if (tracing(TRACE_DEV))
		log_trace("POST code 0x%02x", (unsigned)(val & 0xff));
}

static const struct bus_ops port80_ops = {port80_read, port80_write};

static int port80_create(struct machine *m, const char *id, const struct devargs *args,
			 void **state)
{
	static const char *const keys[] = {"base", NULL};
	uint64_t base;
	if (devargs_check_keys(args, "port80", keys) < 0)
		return -EINVAL;
	if (devargs_u64(args, "base", 0x80, 0xffff, &base) < 0) {
		log_error("port80: base must be a port number");
		return -EINVAL;
	}
	struct port80 *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->m = m;
	p->base = (uint16_t)base;
	int r = bus_register(m->pio, base, 1, &port80_ops, p, "port80");
	if (r < 0) {
		free(p);
		return r;
	}
	*state = p;
	return 0;
}

static void port80_reset(void *state)
{
	struct port80 *p = state;
	atomic_store(&p->last, 0);
}

static void port80_destroy(void *state)
{
	struct port80 *p = state;
	bus_unregister(p->m->pio, p->base, p);
	free(p);
}

/* Saved state: the last code, which reads back. */
static void port80_save(void *state, struct vmstate_out *out)
{
	struct port80 *p = state;
	vmstate_put_u64(out, "last", atomic_load(&p->last) & 0xff);
}

static int port80_load(void *state, struct vmstate_section *in)
{
	struct port80 *p = state;
	uint8_t last;
	int r = vmstate_get_u8(in, "last", UINT8_MAX, &last);
	if (r < 0)
		return r;
	atomic_store(&p->last, last);
	return 0;
}

static const struct device_model port80_model = {
    .name = "port80",
    .description = "POST diagnostic port",
    .create = port80_create,
    .reset = port80_reset,
    .destroy = port80_destroy,
    .state_version = 1,
    .save = port80_save,
    .load = port80_load,
};
DEVICE_MODEL(port80_model);
