/* virtio-console (VIRTIO 1.2, 5.3): one console port on a character
 * backend (devices/chardev.h: stdio, pty, socket, file, none), with flow
 * control both ways, the console size in configuration space and the
 * emergency write register. */
#include "devices/chardev.h"
#include "devices/device.h"
#include "devices/virtio/virtio.h"
#include "hypervisor/bytes.h"
#include "hypervisor/log.h"
#include "hypervisor/vmstate.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define CONSOLE_QUEUE_SIZE 128
#define CONSOLE_RX	   0 /* receiveq(port0): host to guest */
#define CONSOLE_TX	   1 /* transmitq(port0): guest to host */

#define VIRTIO_CONSOLE_F_SIZE	     0
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2

/* struct virtio_console_config (5.3.4). */
#define CFG_COLS      0
#define CFG_ROWS      2
#define CFG_MAX_PORTS 4
#define CFG_EMERG_WR  8
#define CFG_SIZE      12

struct vcons {
	struct virtio_device *vdev;
	struct chardev *chr;
	/* Loop thread only: a transmit chain the backend did not take all
	 * of, and how far into it we are. */
	struct virtq_elem *tx;
	size_t tx_off;
	unsigned tx_resets; /* `resets` when tx was popped */
	atomic_uint resets; /* device resets (from a vCPU thread) */
	atomic_bool paused; /* neither input nor output moves */
};

/* Sends guest output until the ring is empty or the backend is full. */
static void tx_drain(struct vcons *c)
{
	struct virtq *vq = virtio_queue(c->vdev, CONSOLE_TX);
	if (c->tx && c->tx_resets != atomic_load(&c->resets)) {
		/* Popped before a reset: the driver no longer owns it. */
		virtq_discard(vq, c->tx);
		c->tx = NULL;
	}
	for (;;) {
		if (!c->tx) {
			c->tx_resets = atomic_load(&c->resets);
			if (virtq_pop(vq, &c->tx) <= 0)
				return;
			c->tx_off = 0;
		}
		while (c->tx_off < c->tx->out_len) {
			uint8_t buf[4096];
			size_t n =
			    iov_to_buf(c->tx->out, c->tx->out_num, c->tx_off, buf, sizeof(buf));
			size_t took = chardev_write(c->chr, buf, n);
			c->tx_off += took;
			if (took < n)
				return; /* output_ready() resumes */
		}
		virtq_push(vq, c->tx, 0);
		c->tx = NULL;
	}
}

/* Guest input from the backend: into the receive buffers the driver gave. */
static size_t console_receive(void *opaque, const uint8_t *buf, size_t len)
{
	struct vcons *c = opaque;
	struct virtq *vq = virtio_queue(c->vdev, CONSOLE_RX);
	size_t done = 0;
	if (!virtq_ready(vq) || atomic_load(&c->paused))
		return 0; /* kept by the backend until the driver is up (or the VM goes on) */
	while (done < len) {
		struct virtq_elem *e;
		if (virtq_pop(vq, &e) <= 0)
			break;
		size_t n = iov_from_buf(e->in, e->in_num, 0, buf + done, len - done);
		virtq_push_batch(vq, e, (uint32_t)n);
		done += n;
	}
	virtq_flush(vq);
	return done;
}

static bool console_break(void *opaque)
{
	(void)opaque;
	return true; /* a console port has no break condition: dropped */
}

static void console_output_ready(void *opaque)
{
	struct vcons *c = opaque;
	if (virtq_ready(virtio_queue(c->vdev, CONSOLE_TX)) && !atomic_load(&c->paused))
		tx_drain(c);
}

static const struct chardev_frontend console_fe = {
    .receive = console_receive,
    .receive_break = console_break,
    .output_ready = console_output_ready,
};

static void console_notify(struct virtio_device *vdev, unsigned qi)
{
	struct vcons *c = virtio_opaque(vdev);
	if (qi == CONSOLE_TX)
		tx_drain(c);
	else
		chardev_input_ready(c->chr); /* new receive buffers */
}

/* The pending chain is the loop thread's: it drops it when it next looks
 * (tx_drain), or at destroy. */
static void console_reset(struct virtio_device *vdev)
{
	struct vcons *c = virtio_opaque(vdev);
	atomic_fetch_add(&c->resets, 1);
}

/* The emergency write register: one byte of output, no queue needed. */
static void console_config_write(struct virtio_device *vdev, unsigned off, unsigned size)
{
	struct vcons *c = virtio_opaque(vdev);
	if (off > CFG_EMERG_WR || off + size <= CFG_EMERG_WR ||
	    !virtio_has_feature(vdev, VIRTIO_CONSOLE_F_EMERG_WRITE))
		return;
	uint8_t ch;
	virtio_config_read(vdev, CFG_EMERG_WR, &ch, 1);
	chardev_write(c->chr, &ch, 1);
}

static const struct virtio_device_ops console_ops = {
    .queue_notify = console_notify,
    .reset = console_reset,
    .config_write = console_config_write,
};

static const char *const console_keys[] = {"chardev", "path",	       "name", "cols",
					   "rows",    VIRTIO_PCI_KEYS, NULL};

static int console_create(struct machine *m, const char *id, const struct devargs *args,
			  void **state)
{
	int e = devargs_check_keys(args, "virtio-console", console_keys);
	if (e < 0)
		return e;
	uint64_t cols, rows;
	if (devargs_u64(args, "cols", 0, 0xffff, &cols) < 0 ||
	    devargs_u64(args, "rows", 0, 0xffff, &rows) < 0) {
		log_error("%s: cols and rows must be 0-65535", id);
		return -EINVAL;
	}
	struct vcons *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	const char *backend = devargs_get(args, "chardev");
	const char *name = devargs_get(args, "name");
	e = chardev_open(m, name ? name : id, backend ? backend : "none", devargs_get(args, "path"),
			 &console_fe, c, &c->chr);
	if (e < 0) {
		free(c);
		return e;
	}
	uint8_t cfg[CFG_SIZE] = {0};
	put_le16(cfg + CFG_COLS, (uint16_t)cols);
	put_le16(cfg + CFG_ROWS, (uint16_t)rows);
	put_le32(cfg + CFG_MAX_PORTS, 1);
	struct virtio_device_info info = {
	    .name = "virtio-console",
	    .device_id = VIRTIO_ID_CONSOLE,
	    .class_code = 0x078000, /* simple communication controller, as QEMU */
	    .features = 1ull << VIRTIO_CONSOLE_F_EMERG_WRITE |
			(cols && rows ? 1ull << VIRTIO_CONSOLE_F_SIZE : 0),
	    .num_queues = 2,
	    .queue_size = CONSOLE_QUEUE_SIZE,
	    .config_size = CFG_SIZE,
	    .config = cfg,
	};
	if ((e = virtio_pci_create(m, id, args, &info, &console_ops, c, &c->vdev)) < 0) {
		chardev_close(c->chr);
		free(c);
		return e;
	}
	*state = c;
	return 0;
}

static void console_dev_reset(void *state)
{
	struct vcons *c = state;
	virtio_pci_reset(c->vdev);
}

static void console_destroy(void *state)
{
	struct vcons *c = state;
	if (c->tx)
		virtq_discard(virtio_queue(c->vdev, CONSOLE_TX), c->tx);
	virtio_pci_destroy(c->vdev);
	chardev_close(c->chr);
	free(c);
}

/* --- saved state ------------------------------------------------------------------- */

/* The transport's fields, then the transmit chain the backend had not taken all of:
 * "console.tx" (whether there is one), "console.tx_head", and "console.tx_off" (the bytes
 * already written out, which are not written again). */
static void console_save(void *state, struct vmstate_out *out)
{
	struct vcons *c = state;
	bool tx = c->tx && c->tx_resets == atomic_load(&c->resets);
	virtio_save(c->vdev, out);
	vmstate_put_bool(out, "console.tx", tx);
	vmstate_put_u64(out, "console.tx_head", tx ? c->tx->head : 0);
	vmstate_put_u64(out, "console.tx_off", tx ? c->tx_off : 0);
}

static int console_load(void *state, struct vmstate_section *in)
{
	struct vcons *c = state;
	struct virtq *vq = virtio_queue(c->vdev, CONSOLE_TX);
	uint16_t head;
	uint64_t off;
	bool tx;
	int e = virtio_load(c->vdev, in);
	if (e < 0)
		return e;
	if (vmstate_get_bool(in, "console.tx", &tx) < 0 ||
	    vmstate_get_u16(in, "console.tx_head", 0xffff, &head) < 0 ||
	    vmstate_get_u64(in, "console.tx_off", UINT64_MAX, &off) < 0)
		return -EINVAL;
	if (tx) {
		if ((e = virtq_restore(vq, head, in, &c->tx)) < 0)
			return e;
		c->tx_resets = atomic_load(&c->resets);
		c->tx_off = (size_t)off;
		if (off > c->tx->out_len)
			return vmstate_fail(
			    in, "console.tx_off: %llu bytes out of a %llu-byte buffer",
			    (unsigned long long)off, (unsigned long long)c->tx->out_len);
	}
	return virtio_load_done(c->vdev, in);
}

/* Paused: input stays with the backend, output is not taken from the ring. Going on kicks both
 * queues (output drains, the backend offers its input again). */
static void console_pause(void *state, bool paused)
{
	struct vcons *c = state;
	atomic_store(&c->paused, paused);
	virtio_pause(c->vdev, paused);
}

static const struct device_model console_model = {
    .name = "virtio-console",
    .description = "virtio console, one port (PCI; chardev=stdio|pty|socket|file|none, path=, "
		   "cols=, rows=, slot=, legacy=, vectors=)",
    .create = console_create,
    .reset = console_dev_reset,
    .destroy = console_destroy,
    .state_version = 1,
    .save = console_save,
    .load = console_load,
    .pause = console_pause,
};
DEVICE_MODEL(console_model);
