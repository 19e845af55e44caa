/* debug-exit: an I/O port that ends osio when a test kernel writes to it,
 * like QEMU's isa-debug-exit. */
#include "devices/device.h"
#include "hypervisor/log.h"
#include "hypervisor/platform.h"

#include <errno.h>
#include <stdlib.h>

/* A write of any size anywhere in the range asks the worker to end osio with
 * exit status (value & 0xff): MACHINE_EXIT. QEMU's process exits with
 * (value << 1) | 1 instead (always odd); osio uses the value itself, so
 * writing 0 ends osio with status 0 and 42 with 42. Reads find nothing there
 * and return all-ones. */

struct debug_exit {
	struct machine *m;
	uint16_t base;
};

static void debug_exit_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct debug_exit *d = opaque;
	if (tracing(TRACE_DEV))
		log_trace("debug-exit: 0x%llx written (%u bytes): exit status %u",
			  (unsigned long long)value, size, (unsigned)(value & 0xff));
	machine_request(d->m, MACHINE_EXIT, (int)(value & 0xff));
}

/* No read callback: the bus returns all-ones. */
static const struct bus_ops debug_exit_ops = {.write = debug_exit_write};

static int debug_exit_create(struct machine *m, const char *id, const struct devargs *args,
			     void **state)
{
	static const char *const known[] = {"base", "size", NULL};
	int r = devargs_check_keys(args, "debug-exit", known);
	if (r < 0)
		return r;
	uint64_t size;
	if (devargs_u64(args, "size", 4, 4, &size) < 0 || (size != 1 && size != 2 && size != 4)) {
		log_error("debug-exit: size=%s: expected 1, 2 or 4", devargs_get(args, "size"));
		return -EINVAL;
	}
	uint64_t base;
	if (devargs_u64(args, "base", PORT_DEBUG_EXIT, 0x10000 - size, &base) < 0) {
		log_error("debug-exit: base=%s: expected an I/O port number from 0 to 0x%llx",
			  devargs_get(args, "base"), (unsigned long long)(0x10000 - size));
		return -EINVAL;
	}

	struct debug_exit *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->m = m;
	d->base = (uint16_t)base;
	r = bus_register(m->pio, base, size, &debug_exit_ops, d, "debug-exit");
	if (r < 0) {
		free(d);
		return r;
	}
	*state = d;
	return 0;
}

static void debug_exit_destroy(void *state)
{
	struct debug_exit *d = state;
	bus_unregister(d->m->pio, d->base, d);
	free(d);
}

static const struct device_model debug_exit_model = {
    .name = "debug-exit",
    .description = "test-kernel exit port: a write of V ends osio with status V & 0xff",
    .create = debug_exit_create,
    .destroy = debug_exit_destroy,
};
DEVICE_MODEL(debug_exit_model);
