/* The firmware debug console (port 0x402, as QEMU's isa-debugcon): SeaBIOS
 * writes its diagnostic log there one byte at a time. osio appends it to a
 * file (`osio run --firmware-log FILE`), which is where to look when a
 * guest does not boot. Reads return 0xe9, the value that tells firmware a
 * debug console is present. */
#include "devices/device.h"

#include "hypervisor/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEBUGCON_PORT 0x402
#define DEBUGCON_READBACK 0xe9

struct debugcon {
	struct machine *m;
	uint16_t base;
	int fd;
	pthread_mutex_t lock;
	char buf[256];
	size_t len;
};

static void flush_locked(struct debugcon *d)
{
	size_t done = 0;
	while (done < d->len) {
		ssize_t n = write(d->fd, d->buf + done, d->len - done);
		if (n <= 0)
			break; /* a full disk loses firmware chatter, nothing else */
		done += (size_t)n;
	}
	d->len = 0;
}

static uint64_t debugcon_read(void *opaque, uint64_t off, unsigned size)
{
	return DEBUGCON_READBACK;
}

static void debugcon_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct debugcon *d = opaque;
	pthread_mutex_lock(&d->lock);
	d->buf[d->len++] = (char)val;
	if (d->len == sizeof(d->buf) || (char)val == '\n')
		flush_locked(d);
	pthread_mutex_unlock(&d->lock);
}

static const struct bus_ops debugcon_ops = { debugcon_read, debugcon_write };

static int debugcon_create(struct machine *m, const char *id, const struct devargs *args,
			   void **state)
{
	static const char *const keys[] = { "base", "path", NULL };
	uint64_t base;
	if (devargs_check_keys(args, "debugcon", keys) < 0)
		return -EINVAL;
	if (devargs_u64(args, "base", DEBUGCON_PORT, 0xffff, &base) < 0) {
		log_error("debugcon: base must be a port number");
		return -EINVAL;
	}
	const char *path = devargs_get(args, "path");
	if (!path || !*path) {
		log_error("debugcon: needs path=FILE");
		return -EINVAL;
	}
	struct debugcon *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->m = m;
	d->base = (uint16_t)base;
	pthread_mutex_init(&d->lock, NULL);
	d->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int r = -errno;
	if (d->fd < 0) {
		log_error("firmware log %s: %s", path, strerror(errno));
		goto fail;
	}
	machine_coalesce(m, base, 1, true); /* a log: order matters, timing does not */
	r = bus_register(m->pio, base, 1, &debugcon_ops, d, "debugcon");
	if (r < 0) {
		close(d->fd);
		goto fail;
	}
	*state = d;
	return 0;
fail:
	pthread_mutex_destroy(&d->lock);
	free(d);
	return r;
}

static void debugcon_destroy(void *state)
{
	struct debugcon *d = state;
	bus_unregister(d->m->pio, d->base, d);
	pthread_mutex_lock(&d->lock);
	flush_locked(d);
	pthread_mutex_unlock(&d->lock);
	close(d->fd);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* No saved state: a line the firmware has half written goes to the file
 * when the VM pauses (so the log is whole while it is paused or saved),
 * and a restored VM appends the rest to its own log. */
static void debugcon_pause(void *state, bool paused)
{
	struct debugcon *d = state;
	if (!paused)
		return;
	pthread_mutex_lock(&d->lock);
	flush_locked(d);
	pthread_mutex_unlock(&d->lock);
}

static const struct device_model debugcon_model = {
	.name = "debugcon",
	.description = "firmware debug console (port 0x402) into a log file",
	.create = debugcon_create,
	.destroy = debugcon_destroy,
	.pause = debugcon_pause,
};
DEVICE_MODEL(debugcon_model);
